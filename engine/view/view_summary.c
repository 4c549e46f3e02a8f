/* SPDX-License-Identifier: MIT */
/*
 * view_summary.c - the two files monitoring and backup scripts read with
 * jq: instances/JOB/summary (one job: counts by state, last success,
 * oldest pending instance and why it waits, freshness, the definition's
 * validity) and MOUNT/status (the daemon: version, pid, start, jobs by
 * health, instances running, waiting and failed in the last 24 h).
 * Formats are stable and documented in README.md ("Reference").
 *
 * Both files are pure functions of the store and of the definitions: no
 * value is computed from the wall clock.  Each carries "as_of", the time
 * of the latest change it reflects, which is also its mtime; time spans
 * (freshness lag, uptime, "last 24 h") are measured at as_of.  A scheduled
 * job creates an instance every cycle, so its as_of moves at least once a
 * cycle; a file changes (bytes and mtime) only when something it shows
 * changed, which is what tar, rsync and find -newer need.
 *
 * A job's summary is built by one pass over its instance records and is
 * cached until view_summary_changed() says the job changed (the scheduler's
 * notify hook, definition changes).  Cache: e->sumlock, a leaf lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "view_i.h"
#include "json.h"

#define VIEW_DAY_MS	(24LL * 3600 * 1000)

/** One job's cached summary (fields protected by e->sumlock). */
static const char *const view_health_names[] = {
	[VIEW_H_OK] = "ok", [VIEW_H_FAILING] = "failing", [VIEW_H_INVALID] = "invalid",
	[VIEW_H_PAUSED] = "paused", [VIEW_H_REMOVED] = "removed",
};

#define VIEW_NSTATES	(INST_SKIPPED + 1)

/* What one pass over a job's instances finds. */
struct view_scan {
	int64_t		 count[VIEW_NSTATES];
	int64_t		 total;
	int64_t		 as_of;		/* max updated_ms */
	char		 last_ok[STORE_CYCLE_LEN + 1];	/* newest SUCCESS */
	int64_t		 last_ok_fin;
	int64_t		 last_win_end;	/* newest exported window end, -1: none */
	char		 oldest[STORE_CYCLE_LEN + 1];	/* oldest not final */
	enum inst_state	 oldest_state;
	char		 oldest_reason[256];
	char		 last_final[STORE_CYCLE_LEN + 1];	/* newest final */
	enum inst_state	 last_final_state;
	int64_t		*fails;
	size_t		 nfails, capfails;
	int		 rc;
};

static bool
view_pending_state(enum inst_state s)
{
	return s == INST_WAITING || s == INST_RUNNING || s == INST_RETRY_WAIT || s == INST_FROZEN;
}

static int
view_scan_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct view_scan *sc = arg;
	struct inst in;
	int64_t *nf;
	int rc;

	(void)key;
	(void)klen;
	inst_init(&in);
	if ((rc = inst_decode(val, vlen, &in)) != 0) {
		inst_free(&in);
		return rc == -ENOMEM ? rc : 0;	/* a corrupt record is not counted */
	}
	sc->total++;
	if ((unsigned)in.state < VIEW_NSTATES)
		sc->count[in.state]++;
	if (in.updated_ms > sc->as_of)
		sc->as_of = in.updated_ms;
	/* keys come in cycle order: later records are later cycles */
	if (in.state == INST_SUCCESS) {
		memcpy(sc->last_ok, in.cycle, sizeof(sc->last_ok));
		sc->last_ok_fin = in.finished_ms;
		if (!in.set_success && in.window_end_ms >= 0 && in.window_end_ms > sc->last_win_end)
			sc->last_win_end = in.window_end_ms;
	}
	if (view_pending_state(in.state) && sc->oldest[0] == '\0') {
		memcpy(sc->oldest, in.cycle, sizeof(sc->oldest));
		sc->oldest_state = in.state;
		(void)snprintf(sc->oldest_reason, sizeof(sc->oldest_reason), "%s", in.reason);
	}
	if (in.state == INST_SUCCESS || in.state == INST_FAILED || in.state == INST_KILLED) {
		memcpy(sc->last_final, in.cycle, sizeof(sc->last_final));
		sc->last_final_state = in.state;
	}
	if (in.state == INST_FAILED && in.finished_ms > 0) {
		if (sc->nfails == sc->capfails) {
			if ((nf = realloc(sc->fails, (sc->capfails * 2 + 16) * sizeof(*nf))) == NULL) {
				inst_free(&in);
				return -ENOMEM;
			}
			sc->fails = nf;
			sc->capfails = sc->capfails * 2 + 16;
		}
		sc->fails[sc->nfails++] = in.finished_ms;
	}
	inst_free(&in);
	return 0;
}

struct view_scanq {
	const char	*job;
	struct view_scan	*sc;
	struct store_log_hdr log;
};

static int
view_scan_fn(struct store_txn *txn, void *arg)
{
	struct view_scanq *q = arg;
	char key[STORE_KEY_MAX + 1];
	size_t plen = strlen(q->job) + 1, klen;
	int rc;

	if (plen > STORE_KEY_MAX - STORE_CYCLE_LEN)
		return -ENAMETOOLONG;
	memcpy(key, q->job, plen);
	if ((rc = store_iter(txn, STORE_DB_INSTANCES, key, plen, NULL, 0, 0, view_scan_cb,
	    q->sc)) != 0)
		return rc;
	if ((rc = sched_joblog_key(q->job, key, sizeof(key), &klen)) != 0)
		return rc;
	return store_log_info(txn, key, klen, &q->log);
}

/* "definition": {"file", "present", "valid", "since", "running_since", "errors"} */
static int
view_sum_definition(struct json *o, const struct view_definfo *di, int64_t def_ms,
    bool defined, const struct tz *tz)
{
	struct json *d, *errs;
	const char *p, *nl;
	char line[1024];
	int rc;

	if ((d = json_new_object()) == NULL || (errs = json_new_array()) == NULL) {
		json_free(d);
		return -ENOMEM;
	}
	rc = json_obj_add_str(d, "file", di->path);
	rc |= json_obj_add_bool(d, "present", di->present);
	rc |= json_obj_add_bool(d, "valid", di->present && di->errtext == NULL);
	/* since when the file has been what it is now: invalid since its first
	 * invalid save, valid since its definition became the running one */
	rc |= inst_json_time(d, "since", !di->present ? 0 : di->errtext != NULL ? di->err_ms :
	    def_ms, tz);
	rc |= inst_json_time(d, "running_since", defined ? def_ms : 0, tz);
	for (p = di->errtext; p != NULL && *p != '\0'; p = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		(void)snprintf(line, sizeof(line), "%.*s", (int)(nl != NULL ? nl - p : (long)strlen(p)),
		    p);
		if (line[0] != '\0')
			rc |= json_arr_add(errs, json_new_str(line));
	}
	rc |= json_obj_add(d, "errors", errs);
	rc |= json_obj_add(o, "definition", d);
	return rc != 0 ? -ENOMEM : 0;
}

/* Build job's summary into s (e->sumlock NOT held). */
static int
view_sum_build(struct eng *e, const char *job, struct view_jsum *s)
{
	struct view_scan sc;
	struct view_scanq q;
	struct view_definfo di;
	struct sched_jobinfo ji;
	struct json *o = NULL, *c = NULL, *x;
	const struct tz *tz = view_job_tz(e, job);
	char name[ENG_NAME_MAX + 8];
	int64_t def_ms = 0, lag;
	bool defined;
	size_t i;
	int rc;

	memset(&sc, 0, sizeof(sc));
	memset(&di, 0, sizeof(di));
	sc.last_win_end = -1;
	q.job = job;
	q.sc = &sc;
	memset(&q.log, 0, sizeof(q.log));
	if ((rc = store_view(e->store, view_scan_fn, &q)) != 0)
		goto out;
	defined = sched_job_info(e->sched, job, &ji) == 0;
	if ((rc = view_defs_jobinfo(e, job, &di)) != 0)
		goto out;
	(void)snprintf(name, sizeof(name), "%s.json", job);
	if (view_def_since(e, ENG_INO_JOBS, name, &def_ms) != 0)
		def_ms = 0;
	s->as_of = sc.as_of;
	if (q.log.mtime_ms > s->as_of)
		s->as_of = q.log.mtime_ms;
	if (def_ms > s->as_of)
		s->as_of = def_ms;
	if (di.errchg_ms > s->as_of)
		s->as_of = di.errchg_ms;
	if (!defined)	/* never valid yet, or its file is gone */
		s->health = di.present ? VIEW_H_INVALID : VIEW_H_REMOVED;
	else if (sc.last_final[0] != '\0' && sc.last_final_state != INST_SUCCESS)
		s->health = VIEW_H_FAILING;
	else if (di.present && di.errtext != NULL)
		s->health = VIEW_H_INVALID;
	else if (ji.paused)
		s->health = VIEW_H_PAUSED;
	else
		s->health = VIEW_H_OK;
	s->running = sc.count[INST_RUNNING];
	s->waiting = sc.count[INST_WAITING] + sc.count[INST_RETRY_WAIT];

	rc = -ENOMEM;
	if ((o = json_new_object()) == NULL || (c = json_new_object()) == NULL)
		goto out;
	rc = json_obj_add_str(o, "job", job);
	rc |= inst_json_time(o, "as_of", s->as_of, tz);
	rc |= json_obj_add_str(o, "health", view_health_names[s->health]);
	rc |= json_obj_add_bool(o, "defined", defined);
	rc |= json_obj_add_bool(o, "scheduled", defined && ji.scheduled);
	rc |= json_obj_add_bool(o, "paused", defined && ji.paused);
	rc |= json_obj_add_int(c, "total", sc.total);
	for (i = 0; i < VIEW_NSTATES; i++)
		rc |= json_obj_add_int(c, inst_state_name((enum inst_state)i), sc.count[i]);
	rc |= json_obj_add(o, "instances", c);
	c = NULL;
	if (sc.last_ok[0] != '\0' && (x = json_new_object()) != NULL) {
		rc |= json_obj_add_str(x, "cycle", sc.last_ok);
		rc |= inst_json_time(x, "finished", sc.last_ok_fin, tz);
		rc |= json_obj_add(o, "last_success", x);
	} else {
		rc |= json_obj_add_null(o, "last_success");
	}
	if (sc.oldest[0] != '\0' && (x = json_new_object()) != NULL) {
		rc |= json_obj_add_str(x, "cycle", sc.oldest);
		rc |= json_obj_add_str(x, "state", inst_state_name(sc.oldest_state));
		rc |= json_obj_add_str(x, "reason", sc.oldest_reason);
		rc |= json_obj_add(o, "oldest_pending", x);
	} else {
		rc |= json_obj_add_null(o, "oldest_pending");
	}
	if ((x = json_new_object()) != NULL) {
		rc |= inst_json_time(x, "last_window_end", sc.last_win_end, tz);
		if (sc.last_win_end >= 0) {
			lag = s->as_of > sc.last_win_end ? s->as_of - sc.last_win_end : 0;
			rc |= json_obj_add_int(x, "lag_seconds", lag / 1000);
		} else {
			rc |= json_obj_add_null(x, "lag_seconds");
		}
		rc |= json_obj_add(o, "freshness", x);
	} else {
		rc = -ENOMEM;
	}
	rc |= view_sum_definition(o, &di, def_ms, defined, tz);
	if (rc != 0) {
		rc = -ENOMEM;
		goto out;
	}
	buf_reset(&s->text);
	if ((rc = json_print(o, JSON_PRETTY, &s->text)) == 0)
		rc = buf_addc(&s->text, '\n');
	free(s->fails);
	s->fails = sc.fails;
	s->nfails = sc.nfails;
	sc.fails = NULL;
out:
	json_free(c);
	json_free(o);
	free(sc.fails);
	free(di.errtext);
	return rc;
}

/* The entry of job (created if missing; e->sumlock held).  NULL: -ENOMEM. */
static struct view_jsum *
view_sum_get(struct eng *e, const char *job)
{
	struct view_jsum *s;

	for (s = e->sums; s != NULL; s = s->next)
		if (strcmp(s->job, job) == 0)
			return s;
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->job = strdup(job)) == NULL) {
		free(s);
		return NULL;
	}
	buf_init(&s->text, BUF_MAX_DOC);
	s->next = e->sums;
	e->sums = s;
	return s;
}

/*
 * Bring job's cache up to date and run fn on it under e->sumlock.  The
 * build runs without the lock (it reads the store and takes e->flock); a
 * change that arrives meanwhile leaves the cache stale for the next call.
 */
static int
view_sum_with(struct eng *e, const char *job, void (*fn)(struct view_jsum *, void *), void *arg)
{
	struct view_jsum *s, tmp;
	uint64_t gen;
	int rc;

	pthread_mutex_lock(&e->sumlock);
	if ((s = view_sum_get(e, job)) == NULL) {
		pthread_mutex_unlock(&e->sumlock);
		return -ENOMEM;
	}
	if (s->built == s->gen + 1) {
		fn(s, arg);
		pthread_mutex_unlock(&e->sumlock);
		return 0;
	}
	gen = s->gen;
	pthread_mutex_unlock(&e->sumlock);

	memset(&tmp, 0, sizeof(tmp));
	buf_init(&tmp.text, BUF_MAX_DOC);
	if ((rc = view_sum_build(e, job, &tmp)) != 0) {
		buf_free(&tmp.text);
		free(tmp.fails);
		return rc;
	}
	pthread_mutex_lock(&e->sumlock);
	/* s stays in the list until view_summary_free: the pointer is good */
	buf_free(&s->text);
	s->text = tmp.text;
	free(s->fails);
	s->fails = tmp.fails;
	s->nfails = tmp.nfails;
	s->as_of = tmp.as_of;
	s->health = tmp.health;
	s->running = tmp.running;
	s->waiting = tmp.waiting;
	s->built = gen + 1;
	fn(s, arg);
	pthread_mutex_unlock(&e->sumlock);
	return 0;
}

struct view_sumcopy {
	struct buf	*out;
	int64_t		 mtime;
	int		 rc;
};

static void
view_sum_copy(struct view_jsum *s, void *arg)
{
	struct view_sumcopy *c = arg;

	c->rc = buf_add(c->out, s->text.p, s->text.len);
	c->mtime = s->as_of;
}

int
view_summary_render(struct eng *e, const char *job, struct buf *out, int64_t *mtime_ms)
{
	struct view_sumcopy c = { out, 0, 0 };
	int rc;

	if ((rc = view_sum_with(e, job, view_sum_copy, &c)) != 0)
		return rc;
	*mtime_ms = c.mtime;
	return c.rc;
}

void
view_summary_free(struct eng *e)
{
	struct view_jsum *s;

	while ((s = e->sums) != NULL) {
		e->sums = s->next;
		buf_free(&s->text);
		free(s->fails);
		free(s->job);
		free(s);
	}
	buf_free(&e->status_text);
}

/* ---- MOUNT/status ------------------------------------------------------------- */

struct view_stat_acc {
	int64_t		 health[VIEW_H__COUNT];
	int64_t		 running, waiting;
	int64_t		 as_of;
};

static void
view_stat_add(struct view_jsum *s, void *arg)
{
	struct view_stat_acc *a = arg;

	a->health[s->health]++;
	a->running += s->running;
	a->waiting += s->waiting;
	if (s->as_of > a->as_of)
		a->as_of = s->as_of;
}

struct view_failq {
	int64_t		 since;
	int64_t		 n;
};

static void
view_stat_fails(struct view_jsum *s, void *arg)
{
	struct view_failq *f = arg;
	size_t i;

	for (i = 0; i < s->nfails; i++)
		if (s->fails[i] > f->since)
			f->n++;
}

int
view_status_render(struct eng *e, struct buf *out, int64_t *mtime_ms)
{
	struct view_stat_acc a;
	struct view_failq f;
	struct json *o = NULL, *j = NULL, *x = NULL;
	const struct tz *tz = view_job_tz(e, "");
	char **names = NULL;
	size_t n = 0, i;
	uint64_t gen;
	int64_t start_ms = e->start_ns / 1000000, dirm = view_dirm_get(e, VIEW_DIRM_INSTANCES);
	int rc;

	/* the whole listing is cheap to reuse while nothing changed */
	pthread_mutex_lock(&e->sumlock);
	gen = e->sumgen;
	if (e->status_built == gen + 1 && e->status_dirm == dirm) {
		rc = buf_add(out, e->status_text.p, e->status_text.len);
		*mtime_ms = e->status_mtime;
		pthread_mutex_unlock(&e->sumlock);
		return rc;
	}
	pthread_mutex_unlock(&e->sumlock);

	memset(&a, 0, sizeof(a));
	a.as_of = start_ms > dirm ? start_ms : dirm;
	if ((rc = view_jobnames(e, &names, &n)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((rc = view_sum_with(e, names[i], view_stat_add, &a)) != 0)
			goto out;
	f.since = a.as_of - VIEW_DAY_MS;
	f.n = 0;
	for (i = 0; i < n; i++)
		if ((rc = view_sum_with(e, names[i], view_stat_fails, &f)) != 0)
			goto out;
	rc = -ENOMEM;
	if ((o = json_new_object()) == NULL || (j = json_new_object()) == NULL ||
	    (x = json_new_object()) == NULL)
		goto out;
	rc = json_obj_add_str(o, "version", DIFS_VERSION);
	rc |= json_obj_add_int(o, "pid", (int64_t)getpid());
	rc |= inst_json_time(o, "started", start_ms, tz);
	rc |= inst_json_time(o, "as_of", a.as_of, tz);
	rc |= json_obj_add_int(o, "uptime_seconds", (a.as_of - start_ms) / 1000);
	rc |= json_obj_add_int(j, "total", (int64_t)n);
	for (i = 0; i < VIEW_H__COUNT; i++)
		rc |= json_obj_add_int(j, view_health_names[i], a.health[i]);
	rc |= json_obj_add(o, "jobs", j);
	j = NULL;
	rc |= json_obj_add_int(x, "running", a.running);
	rc |= json_obj_add_int(x, "waiting", a.waiting);
	rc |= json_obj_add_int(x, "failed_last_24h", f.n);
	rc |= json_obj_add(o, "instances", x);
	x = NULL;
	if (rc != 0) {
		rc = -ENOMEM;
		goto out;
	}
	pthread_mutex_lock(&e->sumlock);
	buf_reset(&e->status_text);
	if ((rc = json_print(o, JSON_PRETTY, &e->status_text)) == 0 &&
	    (rc = buf_addc(&e->status_text, '\n')) == 0) {
		e->status_built = gen + 1;
		e->status_mtime = a.as_of;
		e->status_dirm = dirm;
		rc = buf_add(out, e->status_text.p, e->status_text.len);
		*mtime_ms = a.as_of;
	} else {
		e->status_built = 0;
	}
	pthread_mutex_unlock(&e->sumlock);
out:
	json_free(x);
	json_free(j);
	json_free(o);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}
