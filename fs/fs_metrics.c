/* SPDX-License-Identifier: MIT */
/*
 * fs_metrics.c - `difs mount --metrics [ADDR:]PORT`: a libmicrohttpd
 * server answering GET (and HEAD) /metrics with eng_metrics(), the
 * Prometheus text format 0.0.4; any other path is 404, any other method
 * 405.
 *
 * One MHD thread (MHD_USE_INTERNAL_POLLING_THREAD, no pool) does all of
 * it.  A request only copies the scheduler's figures (its lock for one
 * copy) and renders them; it takes no engine lock, so FUSE requests never
 * wait for it.  The response is copied into MHD, and a client that reads
 * slowly is cut after 10 s.
 *
 * The socket is bound here rather than by MHD so that a port in use is
 * one clear message, before the mount is made (fs_mount.c).  Loopback
 * unless an address is given: the figures name every job.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "fs_metrics.h"
#include "log.h"
#include "num.h"

#define FS_METRICS_CTYPE	"text/plain; version=0.0.4; charset=utf-8"

struct fs_metrics {
	struct MHD_Daemon	*mhd;
	struct eng		*eng;
};

int
fs_metrics_parse(const char *arg, struct fs_metrics_addr *a, char *err, size_t errsz)
{
	struct addrinfo hints, *res = NULL;
	const char *port = arg, *hstart = NULL, *c;
	char host[64] = "127.0.0.1";
	size_t hlen = 0;
	int64_t pn;
	int rc;

	memset(a, 0, sizeof(*a));
	if (arg[0] == '[') {
		if ((c = strchr(arg, ']')) == NULL || c[1] != ':') {
			(void)snprintf(err, errsz, "'%s': expected [IPV6]:PORT, e.g. [::1]:9108", arg);
			return -EINVAL;
		}
		hstart = arg + 1;
		hlen = (size_t)(c - hstart);
		port = c + 2;
	} else if ((c = strrchr(arg, ':')) != NULL) {
		if (strchr(arg, ':') != c) {
			(void)snprintf(err, errsz, "'%s': an IPv6 address goes in brackets, "
			    "e.g. [::1]:9108", arg);
			return -EINVAL;
		}
		hstart = arg;
		hlen = (size_t)(c - arg);
		port = c + 1;
	}
	if (hstart != NULL) {
		if (hlen == 0 || hlen >= sizeof(host)) {
			(void)snprintf(err, errsz, "'%s': expected [ADDR:]PORT", arg);
			return -EINVAL;
		}
		memcpy(host, hstart, hlen);
		host[hlen] = '\0';
	}
	if (num_i64(port, strlen(port), 1, 65535, &pn) != 0) {
		(void)snprintf(err, errsz, "'%s': the port must be 1..65535", arg);
		return -EINVAL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0 || res == NULL ||
	    res->ai_addrlen > sizeof(a->ss)) {
		(void)snprintf(err, errsz, "'%s': '%s' is not a numeric IPv4 or IPv6 address "
		    "(e.g. 127.0.0.1:9108, 0.0.0.0:9108, [::1]:9108)", arg, host);
		if (res != NULL)
			freeaddrinfo(res);
		return -EINVAL;
	}
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	(void)snprintf(a->text, sizeof(a->text), res->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
	    host, port);
	freeaddrinfo(res);
	return 0;
}

static void
fs_metrics_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warnx("metrics server: %s", msg);
}

static enum MHD_Result
fs_metrics_reply(struct MHD_Connection *con, unsigned status, const char *ctype,
    const char *allow, const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (allow != NULL)
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(con, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
fs_metrics_access(void *cls, struct MHD_Connection *con, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	static int seen;
	struct fs_metrics *m = cls;
	static const char nf[] = "not found: difs serves /metrics only\n";
	static const char na[] = "method not allowed: GET or HEAD /metrics\n";
	static const char ie[] = "internal error: see the daemon log\n";
	enum MHD_Result ret;
	struct buf b;
	int rc;

	(void)version;
	(void)upload_data;
	if (*req_cls == NULL) {	/* headers only: answer once the body is in */
		*req_cls = &seen;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {	/* a body is never wanted: drop it */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0)
		return fs_metrics_reply(con, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", NULL,
		    nf, sizeof(nf) - 1);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return fs_metrics_reply(con, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "text/plain; charset=utf-8", "GET, HEAD", na, sizeof(na) - 1);
	buf_init(&b, BUF_MAX_DOC);
	if ((rc = eng_metrics(m->eng, &b)) != 0) {
		log_warnx("metrics server: cannot render the figures: %s", eng_strerror(rc));
		ret = fs_metrics_reply(con, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "text/plain; charset=utf-8", NULL, ie, sizeof(ie) - 1);
	} else {
		ret = fs_metrics_reply(con, MHD_HTTP_OK, FS_METRICS_CTYPE, NULL, b.p, b.len);
	}
	buf_free(&b);
	return ret;
}

int
fs_metrics_start(struct eng *e, const struct fs_metrics_addr *a, struct fs_metrics **out,
    char *err, size_t errsz)
{
	struct fs_metrics *m;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int fd, one = 1, rc;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -ENOMEM;
	m->eng = e;
	if ((fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		rc = -errno;
		(void)snprintf(err, errsz, "--metrics %s: socket: %s", a->text, strerror(-rc));
		free(m);
		return rc;
	}
	/* SO_REUSEADDR: a restart need not wait for TIME_WAIT; on Linux it
	 * still refuses a port that another socket listens on */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->ss.ss_family == AF_INET6) {
		flags |= MHD_USE_IPv6;	/* [::] means IPv6 only: say 0.0.0.0 for IPv4 */
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0 || listen(fd, 32) != 0) {
		rc = -errno;
		if (rc == -EADDRINUSE)
			(void)snprintf(err, errsz, "--metrics %s: the port is in use (another "
			    "daemon or exporter listens there); choose a free port", a->text);
		else if (rc == -EADDRNOTAVAIL)
			(void)snprintf(err, errsz, "--metrics %s: not an address of this machine "
			    "(127.0.0.1 is the default; 0.0.0.0 listens on every IPv4 address)",
			    a->text);
		else
			(void)snprintf(err, errsz, "--metrics %s: %s", a->text, strerror(-rc));
		close(fd);
		free(m);
		return rc;
	}
	m->mhd = MHD_start_daemon(flags, 0, NULL, NULL, fs_metrics_access, m,
	    MHD_OPTION_EXTERNAL_LOGGER, fs_metrics_log, (void *)NULL,	/* first: MHD wants it so */
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_TIMEOUT, 10u,
	    MHD_OPTION_CONNECTION_LIMIT, 16u,
	    MHD_OPTION_END);
	if (m->mhd == NULL) {
		(void)snprintf(err, errsz, "--metrics %s: cannot start the HTTP server", a->text);
		close(fd);
		free(m);
		return -EIO;
	}
	*out = m;
	return 0;
}

void
fs_metrics_stop(struct fs_metrics *m)
{
	if (m == NULL)
		return;
	MHD_stop_daemon(m->mhd);	/* joins its thread, closes the socket */
	free(m);
}
