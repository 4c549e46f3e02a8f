/* SPDX-License-Identifier: MIT */
/*
 * http_fault.c - a transport that wraps another one and injects failures:
 * canned HTTP statuses, connection errors, lost responses and latency, by
 * call number or by method/URL match (see http_fault.h for the rule semantics).
 * Counting only, never randomness, so engine tests are reproducible
 * (mountpoint-s3's failure_client / countdown_failure_client).
 *
 * The rule table and counters live in a refcounted block shared by a
 * wrapper and all its clones, under a mutex; the wrapped transport is
 * called without the lock held.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "http_fault.h"

struct http_fault_rule_i {
	struct http_fault_rule	 r;		/* strings point to owned copies below */
	char			*method;
	char			*url_substr;
	char			*body;
	struct http_hdr		*hdrs;
	char			**hdr_mem;	/* "name\0value\0" per header */
	uint64_t		 seen;		/* matching calls so far */
	uint64_t		 done;		/* faults injected by this rule */
};

struct http_fault_shared {
	pthread_mutex_t			 lock;
	unsigned			 refs;		/* protected by lock */
	struct http_fault_rule_i	*rules;		/* protected by lock */
	size_t				 nrules;
	size_t				 cap;
	uint64_t			 calls;		/* protected by lock */
	uint64_t			 fired;		/* protected by lock */
};

struct http_fault {
	struct http_transport		 base;		/* must be first */
	struct http_transport		*inner;
	bool				 adopt;
	struct http_fault_shared	*sh;
};

/* what perform() decided under the lock, copied out */
struct http_fault_action {
	enum http_fault_kind	 kind;		/* 0 = pass through */
	uint32_t		 latency_ms;
	int			 status;
	int			 rc;
	struct buf		 body;
	struct http_response	 hdrs;		/* only its header list is used */
};

static void
http_fault_rule_free(struct http_fault_rule_i *ri)
{
	size_t i;

	free(ri->method);
	free(ri->url_substr);
	free(ri->body);
	for (i = 0; ri->hdr_mem != NULL && i < ri->r.nhdrs; i++)
		free(ri->hdr_mem[i]);
	free(ri->hdr_mem);
	free(ri->hdrs);
}

static void
http_fault_sleep(uint32_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static bool
http_fault_matches(const struct http_fault_rule_i *ri, const struct http_request *req)
{
	if (ri->method != NULL && (req->method == NULL || strcmp(ri->method, req->method) != 0))
		return false;
	if (ri->url_substr != NULL &&
	    (req->url == NULL || strstr(req->url, ri->url_substr) == NULL))
		return false;
	return true;
}

/* pick the fault for this call; under sh->lock */
static int
http_fault_decide(struct http_fault_shared *sh, const struct http_request *req,
    struct http_fault_action *a)
{
	size_t i, k;
	int rc = 0;

	sh->calls++;
	for (i = 0; i < sh->nrules; i++) {
		struct http_fault_rule_i *ri = &sh->rules[i];

		if (!http_fault_matches(ri, req))
			continue;
		ri->seen++;
		if (ri->seen <= ri->r.skip || (ri->r.count != 0 && ri->done >= ri->r.count))
			continue;
		ri->done++;
		sh->fired++;
		a->latency_ms += ri->r.latency_ms;
		if (ri->r.kind == HTTP_FAULT_LATENCY)
			continue;	/* later rules may still fire */
		a->kind = ri->r.kind;
		a->status = ri->r.status;
		a->rc = ri->r.rc != 0 ? ri->r.rc : ENG_ECONN;
		if (ri->body != NULL && (rc = buf_addstr(&a->body, ri->body)) != 0)
			return rc;
		for (k = 0; k < ri->r.nhdrs; k++) {
			const struct http_hdr *h = &ri->hdrs[k];

			if ((rc = http_response_add_header(&a->hdrs, h->name, strlen(h->name),
			    h->value, strlen(h->value))) != 0)
				return rc;
		}
		break;
	}
	return 0;
}

static int
http_fault_perform(struct http_transport *t, const struct http_request *req,
    struct http_response *resp, struct eng_errbuf *eb)
{
	struct http_fault *f = (struct http_fault *)t;
	struct http_fault_action a;
	size_t k;
	int rc;

	memset(&a, 0, sizeof(a));
	buf_init(&a.body, BUF_MAX_DOC);
	http_response_init(&a.hdrs);
	pthread_mutex_lock(&f->sh->lock);
	rc = http_fault_decide(f->sh, req, &a);
	pthread_mutex_unlock(&f->sh->lock);
	if (rc != 0)
		goto out;
	if (a.latency_ms > 0)
		http_fault_sleep(a.latency_ms);
	switch (a.kind) {
	case HTTP_FAULT_STATUS:
		http_response_reset(resp);
		for (k = 0; k < a.hdrs.nhdrs && rc == 0; k++)
			rc = http_response_add_header(resp, a.hdrs.hdrs[k].name,
			    strlen(a.hdrs.hdrs[k].name), a.hdrs.hdrs[k].value,
			    strlen(a.hdrs.hdrs[k].value));
		if (rc != 0)
			goto out;
		if (req->write_fn != NULL && a.status >= 200 && a.status <= 299)
			rc = a.body.len > 0 ? req->write_fn(req->write_arg, a.body.p, a.body.len) : 0;
		else
			rc = buf_add(&resp->body, a.body.p, a.body.len);
		if (rc != 0)
			goto out;
		resp->status = a.status;
		break;
	case HTTP_FAULT_CONN:
		http_response_reset(resp);
		rc = eng_errbuf_set(eb, a.rc, "%s: injected fault (%s)",
		    req->method != NULL ? req->method : "?", eng_strerror(a.rc));
		break;
	case HTTP_FAULT_LOST:
		/* the request reaches the server; its answer never reaches us */
		(void)f->inner->ops->perform(f->inner, req, resp, NULL);
		http_response_reset(resp);
		rc = eng_errbuf_set(eb, a.rc, "%s: injected fault after sending (%s)",
		    req->method != NULL ? req->method : "?", eng_strerror(a.rc));
		break;
	default:
		rc = f->inner->ops->perform(f->inner, req, resp, eb);
		break;
	}
out:
	buf_free(&a.body);
	http_response_free(&a.hdrs);
	return rc;
}

static void
http_fault_shared_unref(struct http_fault_shared *sh)
{
	unsigned left;
	size_t i;

	if (sh == NULL)
		return;
	pthread_mutex_lock(&sh->lock);
	left = --sh->refs;
	pthread_mutex_unlock(&sh->lock);
	if (left > 0)
		return;
	for (i = 0; i < sh->nrules; i++)
		http_fault_rule_free(&sh->rules[i]);
	free(sh->rules);
	pthread_mutex_destroy(&sh->lock);
	free(sh);
}

static void
http_fault_free(struct http_transport *t)
{
	struct http_fault *f = (struct http_fault *)t;

	if (f == NULL)
		return;
	if (f->adopt)
		http_transport_free(f->inner);
	http_fault_shared_unref(f->sh);
	free(f);
}

static int http_fault_clone(struct http_transport *t, struct http_transport **out);

static const struct http_transport_ops http_fault_ops = {
	.name		= "fault",
	.perform	= http_fault_perform,
	.clone		= http_fault_clone,
	.free		= http_fault_free,
};

/* a wrapper around inner using shared state sh (a reference is taken) */
static int
http_fault_wrap(struct http_transport *inner, bool adopt,
    struct http_fault_shared *sh, struct http_transport **out)
{
	struct http_fault *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -ENOMEM;
	f->base.ops = &http_fault_ops;
	f->inner = inner;
	f->adopt = adopt;
	pthread_mutex_lock(&sh->lock);
	sh->refs++;
	pthread_mutex_unlock(&sh->lock);
	f->sh = sh;
	*out = &f->base;
	return 0;
}

int
http_fault_new(struct http_transport *inner, bool adopt, struct http_transport **out)
{
	struct http_fault_shared *sh;
	int rc;

	*out = NULL;
	if (inner == NULL)
		return ENG_EINVAL;
	if ((sh = calloc(1, sizeof(*sh))) == NULL)
		return -ENOMEM;
	if (pthread_mutex_init(&sh->lock, NULL) != 0) {
		free(sh);
		return -ENOMEM;
	}
	if ((rc = http_fault_wrap(inner, adopt, sh, out)) != 0) {
		pthread_mutex_destroy(&sh->lock);
		free(sh);
	}
	return rc;
}

static int
http_fault_clone(struct http_transport *t, struct http_transport **out)
{
	struct http_fault *f = (struct http_fault *)t;
	struct http_transport *inner = NULL;
	int rc;

	*out = NULL;
	if ((rc = f->inner->ops->clone(f->inner, &inner)) != 0)
		return rc;
	if ((rc = http_fault_wrap(inner, true, f->sh, out)) != 0)
		http_transport_free(inner);
	return rc;
}

static struct http_fault *
http_fault_of(struct http_transport *t)
{
	if (t == NULL || t->ops != &http_fault_ops)
		return NULL;
	return (struct http_fault *)t;
}

static int
http_fault_dupstr(const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return 0;
	return (*out = strdup(s)) == NULL ? -ENOMEM : 0;
}

int
http_fault_add(struct http_transport *t, const struct http_fault_rule *rule)
{
	struct http_fault *f = http_fault_of(t);
	struct http_fault_rule_i ri;
	struct http_fault_shared *sh;
	size_t k;
	int rc = -ENOMEM;

	if (f == NULL || rule == NULL || rule->kind < HTTP_FAULT_STATUS ||
	    rule->kind > HTTP_FAULT_LATENCY ||
	    (rule->kind == HTTP_FAULT_STATUS && (rule->status < 100 || rule->status > 999)) ||
	    (rule->nhdrs > 0 && rule->hdrs == NULL) || rule->rc > 0)
		return ENG_EINVAL;
	sh = f->sh;
	memset(&ri, 0, sizeof(ri));
	ri.r = *rule;
	ri.r.nhdrs = 0;
	if (http_fault_dupstr(rule->method, &ri.method) != 0 ||
	    http_fault_dupstr(rule->url_substr, &ri.url_substr) != 0 ||
	    http_fault_dupstr(rule->body, &ri.body) != 0)
		goto out;
	if (rule->nhdrs > 0) {
		if ((ri.hdrs = calloc(rule->nhdrs, sizeof(*ri.hdrs))) == NULL ||
		    (ri.hdr_mem = calloc(rule->nhdrs, sizeof(*ri.hdr_mem))) == NULL)
			goto out;
		for (k = 0; k < rule->nhdrs; k++) {
			const struct http_hdr *h = &rule->hdrs[k];
			size_t nl, vl;

			if (h->name == NULL || h->value == NULL) {
				rc = ENG_EINVAL;
				goto out;
			}
			nl = strlen(h->name);
			vl = strlen(h->value);
			if ((ri.hdr_mem[k] = malloc(nl + vl + 2)) == NULL)
				goto out;
			ri.r.nhdrs = k + 1;	/* for http_fault_rule_free */
			memcpy(ri.hdr_mem[k], h->name, nl + 1);
			memcpy(ri.hdr_mem[k] + nl + 1, h->value, vl + 1);
			ri.hdrs[k].name = ri.hdr_mem[k];
			ri.hdrs[k].value = ri.hdr_mem[k] + nl + 1;
		}
	}
	ri.r.method = ri.method;
	ri.r.url_substr = ri.url_substr;
	ri.r.body = ri.body;
	ri.r.hdrs = ri.hdrs;
	pthread_mutex_lock(&sh->lock);
	if (sh->nrules == sh->cap) {
		size_t ncap = sh->cap == 0 ? 8 : sh->cap * 2;
		struct http_fault_rule_i *nr = realloc(sh->rules, ncap * sizeof(*nr));

		if (nr == NULL) {
			pthread_mutex_unlock(&sh->lock);
			goto out;
		}
		sh->rules = nr;
		sh->cap = ncap;
	}
	sh->rules[sh->nrules++] = ri;
	pthread_mutex_unlock(&sh->lock);
	memset(&ri, 0, sizeof(ri));	/* now owned by the table */
	rc = 0;
out:
	http_fault_rule_free(&ri);
	return rc;
}

void
http_fault_clear(struct http_transport *t)
{
	struct http_fault *f = http_fault_of(t);
	size_t i;

	if (f == NULL)
		return;
	pthread_mutex_lock(&f->sh->lock);
	for (i = 0; i < f->sh->nrules; i++)
		http_fault_rule_free(&f->sh->rules[i]);
	f->sh->nrules = 0;
	pthread_mutex_unlock(&f->sh->lock);
}

uint64_t
http_fault_calls(struct http_transport *t)
{
	struct http_fault *f = http_fault_of(t);
	uint64_t n;

	if (f == NULL)
		return 0;
	pthread_mutex_lock(&f->sh->lock);
	n = f->sh->calls;
	pthread_mutex_unlock(&f->sh->lock);
	return n;
}

uint64_t
http_fault_fired(struct http_transport *t)
{
	struct http_fault *f = http_fault_of(t);
	uint64_t n;

	if (f == NULL)
		return 0;
	pthread_mutex_lock(&f->sh->lock);
	n = f->sh->fired;
	pthread_mutex_unlock(&f->sh->lock);
	return n;
}
