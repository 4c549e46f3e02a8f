/* SPDX-License-Identifier: MIT */
/*
 * view_jobs.c - the jobs instances/ lists: every name with history
 * (instance records or a log) and every defined job, sorted and unique.
 * instances/ lists them, MOUNT/status sums them up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "view_i.h"

/* a skip-scan over the store's keys "NAME\0..." */
struct view_jobscan {
	char		**names;
	size_t		 n, cap;
	char		 cur[STORE_KEY_MAX + 2];
	size_t		 curlen;
	bool		 got;
	size_t		 nhist;	/* names[0..nhist) have history; the rest are
				   definitions still to check */
};

/* skip-scan: the first key at or after r->cur gives the next job name */
static int
view_js_first_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct view_jobscan *r = arg;
	const char *nul = memchr(key, '\0', klen);

	(void)val;
	(void)vlen;
	if (nul == NULL)
		return 0;
	r->curlen = (size_t)(nul - (const char *)key);
	memcpy(r->cur, key, r->curlen);
	r->got = true;
	return 1;
}

static int
view_js_addname(struct view_jobscan *r, const char *name, size_t len)
{
	char **nv;

	if (r->n == r->cap) {
		if ((nv = realloc(r->names, (r->cap * 2 + 16) * sizeof(*nv))) == NULL)
			return -ENOMEM;
		r->names = nv;
		r->cap = r->cap * 2 + 16;
	}
	if ((r->names[r->n] = strndup(name, len)) == NULL)
		return -ENOMEM;
	r->n++;
	return 0;
}

static int
view_js_def_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct view_jobscan *r = arg;
	char name[ENG_NAME_MAX + 1];

	(void)val;
	(void)vlen;
	if (klen < 3 || klen - 2 > ENG_NAME_MAX)
		return 0;
	memcpy(name, (const char *)key + 2, klen - 2);
	name[klen - 2] = '\0';
	/* filtered by sched_job_defined after the txn: the scheduler's lock
	 * must not be taken inside a store transaction */
	return view_js_addname(r, name, klen - 2);
}

/* every distinct "NAME" of the "NAME\0..." keys of db (one seek per name) */
static int
view_js_skipscan(struct store_txn *txn, enum store_db db, struct view_jobscan *r)
{
	int rc;

	r->curlen = 0;
	for (;;) {
		r->got = false;
		if ((rc = store_iter(txn, db, NULL, 0, r->curlen > 0 ? r->cur : NULL,
		    r->curlen > 0 ? r->curlen + 1 : 0, 0, view_js_first_cb, r)) != 0)
			return rc;
		if (!r->got)
			return 0;
		if ((rc = view_js_addname(r, r->cur, r->curlen)) != 0)
			return rc;
		r->cur[r->curlen] = '\x01';	/* past every "NAME\0..." */
	}
}

/* names with instances or logs (history), then those with a definition */
static int
view_js_jobs_fn(struct store_txn *txn, void *arg)
{
	struct view_jobscan *r = arg;
	char pfx[2] = { STORE_DEF_JOB, '\0' };
	int rc;

	if ((rc = view_js_skipscan(txn, STORE_DB_INSTANCES, r)) != 0 ||
	    (rc = view_js_skipscan(txn, STORE_DB_LOGS, r)) != 0)
		return rc;
	r->nhist = r->n;
	return store_iter(txn, STORE_DB_DEFS, pfx, 2, NULL, 0, 0, view_js_def_cb, r);
}

static int
view_strpcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* r->names := every job instances/ lists, sorted and unique */
static int
view_js_jobnames(struct eng *e, struct view_jobscan *r)
{
	size_t i, k;
	int rc;

	if ((rc = store_view(e->store, view_js_jobs_fn, r)) != 0)
		return rc;
	for (i = r->nhist; i < r->n; i++)
		if (!sched_job_defined(e->sched, r->names[i])) {
			free(r->names[i]);
			r->names[i] = NULL;
		}
	for (i = k = 0; i < r->n; i++)
		if (r->names[i] != NULL && view_job_name_ok(r->names[i]))
			r->names[k++] = r->names[i];
		else
			free(r->names[i]);
	r->n = k;
	if (r->n > 1)
		qsort(r->names, r->n, sizeof(*r->names), view_strpcmp);
	for (i = k = 0; i < r->n; i++)
		if (k > 0 && strcmp(r->names[i], r->names[k - 1]) == 0)
			free(r->names[i]);
		else
			r->names[k++] = r->names[i];
	r->n = k;
	return 0;
}

int
view_jobnames(struct eng *e, char ***names, size_t *n)
{
	struct view_jobscan r;
	size_t i;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = view_js_jobnames(e, &r)) != 0) {
		for (i = 0; i < r.n; i++)
			free(r.names[i]);
		free(r.names);
		return rc;
	}
	*names = r.names;
	*n = r.n;
	return 0;
}
