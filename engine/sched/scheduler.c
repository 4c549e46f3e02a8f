/* SPDX-License-Identifier: MIT */
/*
 * scheduler.c - the scheduler's public face (see scheduler.h): jobs
 * defined and removed, reading a record, the background thread and its
 * step.  The rest, by concern: sched_create.c (instances made, catch-up
 * in batches), sched_run.c (runs started and finished, waiting reasons),
 * sched_ctl.c (ctl commands), all over sched_core.c (records, job state,
 * the pending list, transitions); sched_i.h is their shared state.
 *
 * In memory (protected by sched->lock): the job table, the pending list
 * (every instance not in a terminal state, sorted by job then cycle, so
 * that a step never scans history) and the running list.  In the store:
 * instance records (inst.h), instance logs, and per-job scheduling state
 * in STORE_DB_META under "job\0NAME" ({"last_cycle","paused","defined_ms"}).
 * Every transition is one store transaction that writes the record and its
 * log line together; the cycles a schedule makes due are written
 * SCHED_CREATE_BATCH records to a transaction (sched_create.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched_i.h"

/* ---- jobs -------------------------------------------------------------------- */

int
sched_job_set(struct sched *s, const char *name, struct conf_job *job, struct eng_errbuf *eb)
{
	const struct conf_schedule *sch = conf_job_schedule(job);
	struct sched_def *d = NULL;
	struct sched_job *j;
	struct sched_jsload l;
	int rc = -ENOMEM;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		conf_job_free(job);
		return -ENOMEM;
	}
	d->job = job;
	d->refs = 1;
	if ((rc = tz_load(sch != NULL ? sch->timezone : NULL, &d->tz, eb)) != 0) {
		sched_def_unref(d);
		return rc;
	}
	pthread_mutex_lock(&s->lock);
	if ((j = sched_find(s, name)) == NULL) {
		if ((j = calloc(1, sizeof(*j))) == NULL || (j->name = strdup(name)) == NULL) {
			free(j);
			pthread_mutex_unlock(&s->lock);
			sched_def_unref(d);
			return -ENOMEM;
		}
		l.j = j;
		l.found = false;
		if ((rc = store_view(s->cfg.store, sched_jobstate_get_fn, &l)) != 0) {
			free(j->name);
			free(j);
			pthread_mutex_unlock(&s->lock);
			sched_def_unref(d);
			return eng_errbuf_set(eb, rc, "job %s: reading its state: %s", name,
			    eng_strerror(rc));
		}
		if (!l.found)
			j->defined_ms = sched_now(s);
		j->next = s->jobs;
		s->jobs = j;
		if ((rc = sched_jobstate_save(s, j)) != 0)
			log_warnx("job %s: cannot save its state: %s", name, eng_strerror(rc));
	}
	sched_def_unref(j->def);
	j->def = d;
	j->removed_ms = 0;
	pthread_mutex_unlock(&s->lock);
	sched_wake(s);
	return 0;
}

int
sched_job_remove(struct sched *s, const char *name)
{
	struct sched_job *j;
	int rc = -ENOENT;

	pthread_mutex_lock(&s->lock);
	if ((j = sched_find(s, name)) != NULL) {
		if (j->removed_ms == 0)
			j->removed_ms = sched_now(s);
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

bool
sched_job_defined(struct sched *s, const char *name)
{
	bool b;

	pthread_mutex_lock(&s->lock);
	b = sched_find(s, name) != NULL;
	pthread_mutex_unlock(&s->lock);
	return b;
}

int
sched_job_info(struct sched *s, const char *name, struct sched_jobinfo *out)
{
	struct sched_job *j;
	int rc = -ENOENT;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	if ((j = sched_find(s, name)) != NULL) {
		out->paused = j->paused;
		out->removing = j->removed_ms != 0;
		out->scheduled = conf_job_schedule(j->def->job) != NULL;
		out->defined_ms = j->defined_ms;
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
sched_job_deps(struct sched *s, const char *name, char ***out, size_t *n)
{
	const struct conf_schedule *sch;
	struct sched_job *j;
	char **v = NULL;
	size_t i;
	int rc = 0;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&s->lock);
	if ((j = sched_find(s, name)) == NULL || j->def == NULL) {
		pthread_mutex_unlock(&s->lock);
		return -ENOENT;
	}
	sch = conf_job_schedule(j->def->job);
	if (sch != NULL && sch->ndeps > 0) {
		if ((v = calloc(sch->ndeps, sizeof(*v))) == NULL)
			rc = -ENOMEM;
		for (i = 0; rc == 0 && i < sch->ndeps; i++)
			if ((v[i] = strdup(sch->deps[i].job)) == NULL)
				rc = -ENOMEM;
		if (rc != 0 && v != NULL) {
			for (i = 0; i < sch->ndeps; i++)
				free(v[i]);
			free(v);
			v = NULL;
		} else if (rc == 0) {
			*n = sch->ndeps;
		}
	}
	pthread_mutex_unlock(&s->lock);
	*out = v;
	return rc;
}

size_t
sched_jobs_using(struct sched *s, const char *source, void (*fn)(void *, const char *),
    void *arg)
{
	struct sched_job *j;
	char **names = NULL, **nv;
	size_t n = 0, cap = 0, i;
	const char *r, *w;

	/* collect under the lock, call without it (fn may log into the jobs) */
	pthread_mutex_lock(&s->lock);
	for (j = s->jobs; j != NULL; j = j->next) {
		if (j->def == NULL || j->removed_ms != 0)
			continue;
		r = conf_job_datasource(j->def->job, CONF_READER);
		w = conf_job_datasource(j->def->job, CONF_WRITER);
		if ((r == NULL || strcmp(r, source) != 0) && (w == NULL || strcmp(w, source) != 0))
			continue;
		if (n == cap) {
			if ((nv = realloc(names, (cap * 2 + 8) * sizeof(*nv))) == NULL)
				break;
			names = nv;
			cap = cap * 2 + 8;
		}
		if ((names[n] = strdup(j->name)) != NULL)
			n++;
	}
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < n; i++) {
		fn(arg, names[i]);
		free(names[i]);
	}
	free(names);
	return n;
}

/* ---- lifecycle ----------------------------------------------------------------- */

struct sched_load {
	struct sched	*s;
	struct inst	**recover;	/**< RUNNING records to recover */
	size_t		 nrecover;
	int		 rc;
};

static int
sched_load_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct sched_load *l = arg;
	struct inst in, **nr;

	(void)key;
	(void)klen;
	inst_init(&in);
	if (inst_decode(val, vlen, &in) != 0) {
		inst_free(&in);
		log_warnx("state store: skipping an unreadable instance record");
		return 0;
	}
	sched_cnt_state(l->s, in.job, -2, (int)in.state);
	sched_cnt_success(l->s, &in);
	if (in.state == INST_RUNNING) {
		if ((nr = realloc(l->recover, (l->nrecover + 1) * sizeof(*nr))) == NULL ||
		    (nr[l->nrecover] = malloc(sizeof(struct inst))) == NULL) {
			if (nr != NULL)
				l->recover = nr;
			inst_free(&in);
			return -ENOMEM;
		}
		l->recover = nr;
		*nr[l->nrecover++] = in;
		return 0;
	}
	if (!inst_state_terminal(in.state) && sched_pend_sync(l->s, &in) != 0) {
		inst_free(&in);
		return -ENOMEM;
	}
	inst_free(&in);
	return 0;
}

static int
sched_load_fn(struct store_txn *txn, void *arg)
{
	return store_iter(txn, STORE_DB_INSTANCES, NULL, 0, NULL, 0, 0, sched_load_cb, arg);
}

static int
sched_mut_recover(struct inst *in, void *arg, struct buf *msg)
{
	(void)arg;
	if (in->state != INST_RUNNING)
		return 0;
	in->state = INST_WAITING;
	in->attempt_base = in->attempt;
	(void)snprintf(in->reason, sizeof(in->reason),
	    "the daemon restarted during attempt %d; rerunning as attempt %d",
	    in->attempt, in->attempt + 1);
	return buf_printf(msg, "WAITING: %s", in->reason);
}

void
sched_wake(struct sched *s)
{
	pthread_mutex_lock(&s->lock);
	pthread_cond_broadcast(&s->wake_cv);
	pthread_mutex_unlock(&s->lock);
}

int
sched_new(const struct sched_config *cfg, struct sched **out, struct eng_errbuf *eb)
{
	struct sched *s;
	struct sched_load l;
	size_t i;
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->cfg = *cfg;
	if (s->cfg.workers <= 0)
		s->cfg.workers = 4;
	if (s->cfg.grace_ms <= 0)
		s->cfg.grace_ms = 60000;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->steplock, NULL);
	pthread_cond_init(&s->idle_cv, NULL);
	pthread_cond_init(&s->wake_cv, NULL);
	if ((s->pending_hash = calloc(SCHED_PEND_BUCKETS, sizeof(*s->pending_hash))) == NULL ||
	    (s->cnt_hash = calloc(SCHED_CNT_BUCKETS, sizeof(*s->cnt_hash))) == NULL) {
		sched_free(s);
		return -ENOMEM;
	}
	if ((rc = tz_load(NULL, &s->local, eb)) != 0 && (rc = tz_utc(&s->local)) != 0) {
		sched_free(s);
		return rc;
	}
	memset(&l, 0, sizeof(l));
	l.s = s;
	rc = store_view(s->cfg.store, sched_load_fn, &l);
	for (i = 0; i < l.nrecover; i++) {
		struct inst *in = l.recover[i];

		if (rc == 0) {
			rc = sched_transition(s, in->job, in->cycle, s->local, sched_mut_recover,
			    NULL, false, NULL);
			if (rc == 0)
				log_info("%s/%s: was RUNNING when the daemon stopped; rerunning as "
				    "attempt %d", in->job, in->cycle, in->attempt + 1);
		}
		inst_free(in);
		free(in);
	}
	free(l.recover);
	if (rc != 0) {
		eng_errbuf_set(eb, rc, "loading instances: %s", eng_strerror(rc));
		sched_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int
sched_wait_idle(struct sched *s, int timeout_ms)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	while (s->nrunning > 0 && rc == 0)
		rc = pthread_cond_timedwait(&s->idle_cv, &s->lock, &ts);
	pthread_mutex_unlock(&s->lock);
	return rc == 0 ? 0 : -ETIMEDOUT;
}

static void *
sched_thread_main(void *p)
{
	struct sched *s = p;

	for (;;) {
		struct timespec ts;

		pthread_mutex_lock(&s->lock);
		if (s->stopping) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		pthread_mutex_unlock(&s->lock);
		(void)sched_step(s);
		pthread_mutex_lock(&s->lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		if (!s->stopping)
			(void)pthread_cond_timedwait(&s->wake_cv, &s->lock, &ts);
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

int
sched_start(struct sched *s)
{
	int rc;

	if (s->thread_on)
		return 0;
	if ((rc = pthread_create(&s->thread, NULL, sched_thread_main, s)) != 0)
		return -rc;
	s->thread_on = true;
	return 0;
}

void
sched_stop(struct sched *s)
{
	struct sched_run *r;

	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	for (r = s->running; r != NULL; r = r->next) {
		if (r->why == SCHED_WHY_NONE)
			r->why = SCHED_WHY_STOP;
		atomic_store(&r->cancel, 1);
	}
	pthread_cond_broadcast(&s->wake_cv);
	pthread_mutex_unlock(&s->lock);
	if (s->thread_on) {
		pthread_join(s->thread, NULL);
		s->thread_on = false;
	}
	/* runs notice the cancel flag within a fraction of a second */
	while (sched_wait_idle(s, 1000) != 0)
		log_info("waiting for running instances to stop");
}

void
sched_free(struct sched *s)
{
	struct sched_job *j;
	struct sched_pend *p;

	if (s == NULL)
		return;
	sched_stop(s);
	/* alert deliveries under way use s until they end (30 s at most for a
	 * command, the webhook's tries for a URL) */
	pthread_mutex_lock(&s->lock);
	if (s->nalerts > 0)
		log_info("waiting for %d alert deliver%s to end", s->nalerts,
		    s->nalerts == 1 ? "y" : "ies");
	while (s->nalerts > 0)
		pthread_cond_wait(&s->idle_cv, &s->lock);
	pthread_mutex_unlock(&s->lock);
	while ((j = s->jobs) != NULL) {
		s->jobs = j->next;
		sched_def_unref(j->def);
		free(j->name);
		free(j);
	}
	while ((p = s->pending) != NULL) {
		s->pending = p->next;
		free(p);
	}
	free(s->pending_hash);
	sched_cnt_free(s);
	tz_free(s->local);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->steplock);
	pthread_cond_destroy(&s->idle_cv);
	pthread_cond_destroy(&s->wake_cv);
	free(s);
}

int
sched_step(struct sched *s)
{
	struct sched_job *j, **jp;
	int64_t now = sched_now(s);
	int rc = 0;

	/*
	 * sched_create_due releases s->lock while it writes a batch: the job
	 * list may then gain jobs (at any place; a job made now waits for the
	 * next step) but loses none, as only a step unlinks one.
	 */
	pthread_mutex_lock(&s->steplock);
	pthread_mutex_lock(&s->lock);
	for (jp = &s->jobs; (j = *jp) != NULL;) {
		if (j->removed_ms != 0 && now - j->removed_ms >= s->cfg.grace_ms) {
			*jp = j->next;
			log_warnx("job %s: removed: its file did not come back within the removal "
			    "grace period (its instance history stays)", j->name);
			sched_log(s, j->name, NULL, j->def->tz, LOG_LVL_WARN,
			    "job removed: its file did not come back within the removal grace period; "
			    "no new instances are scheduled; history stays");
			sched_def_unref(j->def);
			free(j->name);
			free(j);
			continue;
		}
		if (j->removed_ms == 0 && !j->paused) {
			int r = sched_create_due(s, j, now);

			if (r != 0) {
				log_warnx("job %s: cannot create instances: %s", j->name, eng_strerror(r));
				rc = r;
			}
		}
		if (j->removed_ms == 0)
			sched_alert_unfinished(s, j, now);
		jp = &j->next;
	}
	(void)sched_prune(s, now);	/* retention; it logs its own errors */
	sched_start_runnable(s, now);
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&s->steplock);
	return rc;
}
