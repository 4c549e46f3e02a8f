/* SPDX-License-Identifier: MIT */
/*
 * hook_server.h - a webhook receiver on 127.0.0.1 for alert tests
 * (tests/lib/hook_server.c).  Test code only.
 */
#ifndef DIFS_HOOK_SERVER_H
#define DIFS_HOOK_SERVER_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>

#include "buf.h"

struct hook_srv {
	struct MHD_Daemon	*d;
	uint16_t		 port;
	pthread_mutex_t		 lock;
	int			 statuses[8];	/* answer to request i; the last repeats */
	int			 nstatuses;
	int			 requests;
	char			 method[16];
	char			 ctype[64];
	char			 auth[128];
	char			 url[128];
	struct buf		 body;		/* of the last request */
};

/** Listen on 127.0.0.1 (a free port, in s->port).  0 or -1. */
int	hook_srv_start(struct hook_srv *s);
/** Answer the next requests with st[0..n) (the last one repeats). */
void	hook_srv_script(struct hook_srv *s, int n, const int *st);
/** Requests answered since the last script. */
int	hook_srv_requests(struct hook_srv *s);
void	hook_srv_stop(struct hook_srv *s);

#endif /* DIFS_HOOK_SERVER_H */
