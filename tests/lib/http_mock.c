/* SPDX-License-Identifier: MIT */
/*
 * http_mock.c - a transport that answers from a scripted table in memory and
 * records every request (see http_mock.h).  The table's use counters and the
 * record live in a refcounted block shared by the mock and its clones, under
 * a mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "http_mock.h"

struct http_mock_shared {
	pthread_mutex_t			 lock;
	unsigned			 refs;		/* protected by lock */
	const struct http_mock_reply	*table;
	size_t				 n;
	uint32_t			*used;		/* answers given per entry, protected by lock */
	struct http_mock_call		*calls;		/* protected by lock */
	size_t				 ncalls;
	size_t				 cap;
};

struct http_mock {
	struct http_transport		 base;		/* must be first */
	struct http_mock_shared		*sh;
};

/* the URL's path: after "scheme://host[:port]", before '?'; into out */
static int
http_mock_path(const char *url, struct buf *out)
{
	const char *p = url != NULL ? strstr(url, "://") : NULL;
	size_t n;

	p = p != NULL ? strchr(p + 3, '/') : NULL;
	if (p == NULL)
		return buf_addc(out, '/');
	n = strcspn(p, "?#");
	return buf_add(out, p, n);
}

/* the request's body, a streamed one read from its start to its end */
static int
http_mock_read_body(const struct http_request *req, struct buf *out)
{
	char chunk[16384];
	ssize_t k;
	int rc;

	if (req->read_fn == NULL)
		return req->body_len > 0 ? buf_add(out, req->body, (size_t)req->body_len) : 0;
	if (req->rewind_fn != NULL && (rc = req->rewind_fn(req->read_arg)) != 0)
		return rc;
	while ((k = req->read_fn(req->read_arg, chunk, sizeof(chunk))) > 0)
		if ((rc = buf_add(out, chunk, (size_t)k)) != 0)
			return rc;
	if (k < 0)
		return (int)k;
	return out->len == req->body_len ? 0 : ENG_EINVAL;
}

static void
http_mock_call_free(struct http_mock_call *c)
{
	free(c->method);
	free(c->url);
	http_response_free(&c->hdrs);
	buf_free(&c->body);
}

/* the request as a record entry (not yet in the table) */
static int
http_mock_record(const struct http_request *req, struct http_mock_call *c)
{
	size_t i;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	http_response_init(&c->hdrs);
	buf_init(&c->body, BUF_MAX_BODY);
	if ((c->method = strdup(req->method != NULL ? req->method : "")) == NULL ||
	    (c->url = strdup(req->url != NULL ? req->url : "")) == NULL)
		return -ENOMEM;
	for (i = 0; i < req->nhdrs && rc == 0; i++)
		rc = http_response_add_header(&c->hdrs, req->hdrs[i].name,
		    strlen(req->hdrs[i].name), req->hdrs[i].value, strlen(req->hdrs[i].value));
	return rc != 0 ? rc : http_mock_read_body(req, &c->body);
}

/* pick the answering entry for method/path and count it; under sh->lock */
static const struct http_mock_reply *
http_mock_pick(struct http_mock_shared *sh, const char *method, const char *path)
{
	size_t i;

	for (i = 0; i < sh->n; i++) {
		const struct http_mock_reply *r = &sh->table[i];

		if ((r->method != NULL && strcmp(r->method, method) != 0) ||
		    (r->path != NULL && strcmp(r->path, path) != 0) ||
		    (r->count != 0 && sh->used[i] >= r->count))
			continue;
		sh->used[i]++;
		return r;
	}
	return NULL;
}

/* append c to the record; under sh->lock.  On failure c is freed. */
static int
http_mock_keep(struct http_mock_shared *sh, struct http_mock_call *c)
{
	if (sh->ncalls == sh->cap) {
		size_t ncap = sh->cap == 0 ? 16 : sh->cap * 2;
		struct http_mock_call *nc = realloc(sh->calls, ncap * sizeof(*nc));

		if (nc == NULL) {
			http_mock_call_free(c);
			return -ENOMEM;
		}
		sh->calls = nc;
		sh->cap = ncap;
	}
	sh->calls[sh->ncalls++] = *c;
	return 0;
}

/* status, headers and body of r into resp (a 2xx body to write_fn when set) */
static int
http_mock_answer(const struct http_mock_reply *r, const struct http_request *req,
    struct http_response *resp)
{
	size_t i, blen = r->body != NULL ? strlen(r->body) : 0;
	size_t max = req->max_body != 0 ? req->max_body : BUF_MAX_DOC;
	bool ok = r->status >= 200 && r->status <= 299;
	int rc = 0;

	for (i = 0; i < r->nhdrs && rc == 0; i++)
		rc = http_response_add_header(resp, r->hdrs[i].name, strlen(r->hdrs[i].name),
		    r->hdrs[i].value, strlen(r->hdrs[i].value));
	if (rc != 0)
		return rc;
	if (ok && req->write_fn != NULL)
		rc = blen > 0 ? req->write_fn(req->write_arg, r->body, blen) : 0;
	else if (ok && blen > max)
		rc = -E2BIG;
	else
		rc = buf_add(&resp->body, r->body != NULL ? r->body : "", blen);
	if (rc == 0)
		resp->status = r->status;
	return rc;
}

static int
http_mock_perform(struct http_transport *t, const struct http_request *req,
    struct http_response *resp, struct eng_errbuf *eb)
{
	struct http_mock *m = (struct http_mock *)t;
	const struct http_mock_reply *r;
	struct http_mock_call c;
	struct buf path;
	int rc;

	http_response_reset(resp);
	buf_init(&path, BUF_MAX_SMALL);
	if ((rc = http_mock_record(req, &c)) != 0 ||
	    (rc = http_mock_path(req->url, &path)) != 0) {
		http_mock_call_free(&c);
		buf_free(&path);
		return rc;
	}
	pthread_mutex_lock(&m->sh->lock);
	r = http_mock_pick(m->sh, c.method, path.p);
	pthread_mutex_unlock(&m->sh->lock);
	if (r == NULL)
		rc = eng_errbuf_set(eb, ENG_EINVAL, "mock: no answer for %s %s", c.method, path.p);
	else if (r->rc != 0)
		rc = eng_errbuf_set(eb, r->rc, "mock: %s %s fails (%s)", c.method, path.p,
		    eng_strerror(r->rc));
	else
		rc = http_mock_answer(r, req, resp);
	c.status = rc == 0 ? resp->status : 0;
	buf_free(&path);
	pthread_mutex_lock(&m->sh->lock);
	if (http_mock_keep(m->sh, &c) != 0 && rc == 0)
		rc = -ENOMEM;
	pthread_mutex_unlock(&m->sh->lock);
	return rc;
}

static void
http_mock_free(struct http_transport *t)
{
	struct http_mock *m = (struct http_mock *)t;
	struct http_mock_shared *sh;
	unsigned left;
	size_t i;

	if (m == NULL)
		return;
	sh = m->sh;
	free(m);
	pthread_mutex_lock(&sh->lock);
	left = --sh->refs;
	pthread_mutex_unlock(&sh->lock);
	if (left > 0)
		return;
	for (i = 0; i < sh->ncalls; i++)
		http_mock_call_free(&sh->calls[i]);
	free(sh->calls);
	free(sh->used);
	pthread_mutex_destroy(&sh->lock);
	free(sh);
}

static int http_mock_clone(struct http_transport *t, struct http_transport **out);

static const struct http_transport_ops http_mock_ops = {
	.name		= "mock",
	.perform	= http_mock_perform,
	.clone		= http_mock_clone,
	.free		= http_mock_free,
};

/* a mock instance over sh (a reference is taken) */
static int
http_mock_over(struct http_mock_shared *sh, struct http_transport **out)
{
	struct http_mock *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -ENOMEM;
	m->base.ops = &http_mock_ops;
	pthread_mutex_lock(&sh->lock);
	sh->refs++;
	pthread_mutex_unlock(&sh->lock);
	m->sh = sh;
	*out = &m->base;
	return 0;
}

int
http_mock_new(const struct http_mock_reply *table, size_t n, struct http_transport **out)
{
	struct http_mock_shared *sh;
	size_t i;
	int rc;

	*out = NULL;
	if (n > 0 && table == NULL)
		return ENG_EINVAL;
	for (i = 0; i < n; i++)
		if (table[i].rc == 0 && (table[i].status < 100 || table[i].status > 999))
			return ENG_EINVAL;
	if ((sh = calloc(1, sizeof(*sh))) == NULL)
		return -ENOMEM;
	if ((sh->used = calloc(n > 0 ? n : 1, sizeof(*sh->used))) == NULL ||
	    pthread_mutex_init(&sh->lock, NULL) != 0) {
		free(sh->used);
		free(sh);
		return -ENOMEM;
	}
	sh->table = table;
	sh->n = n;
	if ((rc = http_mock_over(sh, out)) != 0) {
		pthread_mutex_destroy(&sh->lock);
		free(sh->used);
		free(sh);
	}
	return rc;
}

static int
http_mock_clone(struct http_transport *t, struct http_transport **out)
{
	*out = NULL;
	return http_mock_over(((struct http_mock *)t)->sh, out);
}

static struct http_mock *
http_mock_of(struct http_transport *t)
{
	if (t == NULL || t->ops != &http_mock_ops)
		return NULL;
	return (struct http_mock *)t;
}

size_t
http_mock_ncalls(struct http_transport *t)
{
	struct http_mock *m = http_mock_of(t);
	size_t n;

	if (m == NULL)
		return 0;
	pthread_mutex_lock(&m->sh->lock);
	n = m->sh->ncalls;
	pthread_mutex_unlock(&m->sh->lock);
	return n;
}

const struct http_mock_call *
http_mock_call(struct http_transport *t, size_t i)
{
	struct http_mock *m = http_mock_of(t);
	const struct http_mock_call *c = NULL;

	if (m == NULL)
		return NULL;
	pthread_mutex_lock(&m->sh->lock);
	if (i < m->sh->ncalls)
		c = &m->sh->calls[i];
	pthread_mutex_unlock(&m->sh->lock);
	return c;
}
