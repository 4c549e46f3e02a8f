/* SPDX-License-Identifier: MIT */
/*
 * hook_server.c - a webhook receiver on 127.0.0.1 (libmicrohttpd) for
 * tests of alert delivery: it answers scripted statuses and keeps what
 * the last request carried.  Test code only.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hook_server.h"


static enum MHD_Result
hook_srv_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct hook_srv *s = cls;
	struct buf *rq = *con_cls;
	struct MHD_Response *r;
	const char *h;
	enum MHD_Result ret;
	int st;

	(void)version;
	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		buf_init(rq, BUF_MAX_SMALL);
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		buf_add(rq, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&s->lock);
	st = s->statuses[s->requests < s->nstatuses ? s->requests : s->nstatuses - 1];
	s->requests++;
	snprintf(s->method, sizeof(s->method), "%s", method);
	snprintf(s->url, sizeof(s->url), "%s", url);
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	snprintf(s->ctype, sizeof(s->ctype), "%s", h != NULL ? h : "");
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	snprintf(s->auth, sizeof(s->auth), "%s", h != NULL ? h : "");
	buf_reset(&s->body);
	buf_add(&s->body, rq->p, rq->len);
	pthread_mutex_unlock(&s->lock);
	r = MHD_create_response_from_buffer(2, (void *)(uintptr_t)"ok", MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	ret = MHD_queue_response(c, (unsigned)st, r);
	MHD_destroy_response(r);
	return ret;
}

static void
hook_srv_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct buf *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq != NULL) {
		buf_free(rq);
		free(rq);
	}
	*con_cls = NULL;
}

int
hook_srv_start(struct hook_srv *s)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	buf_init(&s->body, BUF_MAX_SMALL);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
	    0, NULL, NULL, hook_srv_handler, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, hook_srv_completed, s,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_END);
	if (s->d == NULL)
		return -1;
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0)
		return -1;
	s->port = info->port;
	return 0;
}

/* the server answers the next requests with these statuses */
void
hook_srv_script(struct hook_srv *s, int n, const int *st)
{
	pthread_mutex_lock(&s->lock);
	memcpy(s->statuses, st, (size_t)n * sizeof(*st));
	s->nstatuses = n;
	s->requests = 0;
	buf_reset(&s->body);
	pthread_mutex_unlock(&s->lock);
}

void
hook_srv_stop(struct hook_srv *s)
{
	if (s->d != NULL)
		MHD_stop_daemon(s->d);
	s->d = NULL;
	buf_free(&s->body);
	pthread_mutex_destroy(&s->lock);
}

int
hook_srv_requests(struct hook_srv *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->requests;
	pthread_mutex_unlock(&s->lock);
	return n;
}
