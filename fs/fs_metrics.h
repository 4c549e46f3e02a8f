/* SPDX-License-Identifier: MIT */
/*
 * fs_metrics.h - `difs mount --metrics [ADDR:]PORT`: GET /metrics over
 * HTTP (fs/fs_metrics.c, the home of libmicrohttpd in the daemon).
 */
#ifndef DIFS_FS_METRICS_H
#define DIFS_FS_METRICS_H

#include <stddef.h>
#include <sys/socket.h>

#include "view.h"

struct fs_metrics;

/** Where to listen: a numeric address and a port. */
struct fs_metrics_addr {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 text[64];	/**< "127.0.0.1:9108", "[::1]:9108" */
};

/**
 * fs_metrics_parse - "PORT" (127.0.0.1), "IPV4:PORT" or "[IPV6]:PORT"
 * (numeric addresses only, port 1..65535) into *a.  0, or -EINVAL with
 * the reason and the fix in err.
 */
int	fs_metrics_parse(const char *arg, struct fs_metrics_addr *a, char *err,
	    size_t errsz);

/**
 * fs_metrics_start - bind a and serve GET /metrics (eng_metrics) from one
 * thread of its own: the FUSE threads never wait for it, and a slow
 * client only holds that thread (10 s timeout).  0, or -errno with the
 * reason in err (a port in use says so).
 */
int	fs_metrics_start(struct eng *e, const struct fs_metrics_addr *a,
	    struct fs_metrics **out, char *err, size_t errsz);

/** fs_metrics_stop - stop serving and close the socket (NULL: nothing). */
void	fs_metrics_stop(struct fs_metrics *m);

#endif /* DIFS_FS_METRICS_H */
