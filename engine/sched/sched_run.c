/* SPDX-License-Identifier: MIT */
/*
 * sched_run.c - starting and finishing runs, waiting reasons.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched_i.h"

/* ---- starting and finishing runs ---------------------------------------------- */

static int
sched_mut_start(struct inst *in, void *arg, struct buf *msg)
{
	int64_t now = *(const int64_t *)arg;

	in->state = INST_RUNNING;
	in->attempt++;
	in->started_ms = now;
	in->finished_ms = 0;
	in->next_try_ms = 0;
	in->records_read = in->records_written = in->dirty = in->bytes = 0;
	in->error[0] = '\0';
	buf_reset(&in->outputs);
	(void)snprintf(in->reason, sizeof(in->reason), "attempt %d of %d running",
	    in->attempt, inst_attempts_allowed(in));
	return buf_printf(msg, "RUNNING: attempt %d of %d started", in->attempt,
	    inst_attempts_allowed(in));
}

struct sched_fin {
	int		 rc;
	int		 why;
	const char	*err;
	int64_t		 now;
	const struct pipe_stats *st;
	const struct buf *outputs;
	const struct buf *resolved;	/**< may be NULL */
	const struct tz	*tz;
};

static int
sched_mut_finish(struct inst *in, void *arg, struct buf *msg)
{
	const struct sched_fin *f = arg;
	char iso[48];

	in->finished_ms = f->now;
	in->records_read = atomic_load(&f->st->records_read);
	in->records_written = atomic_load(&f->st->records_written);
	in->dirty = atomic_load(&f->st->dirty);
	in->bytes = atomic_load(&f->st->bytes_written);
	buf_reset(&in->outputs);
	if (f->outputs->len > 0 && buf_add(&in->outputs, f->outputs->p, f->outputs->len) != 0)
		return -ENOMEM;
	if (f->resolved != NULL && f->resolved->len > 0 &&
	    (in->job_json.len != f->resolved->len ||
	    memcmp(in->job_json.p, f->resolved->p, f->resolved->len) != 0)) {
		buf_reset(&in->job_json);
		if (buf_add(&in->job_json, f->resolved->p, f->resolved->len) != 0)
			return -ENOMEM;
		in->jobjson_ms = f->now;
	}
	if (f->rc == 0) {
		in->state = INST_SUCCESS;
		in->error[0] = '\0';
		(void)snprintf(in->reason, sizeof(in->reason), "attempt %d succeeded", in->attempt);
		return buf_printf(msg, "SUCCESS: attempt %d succeeded", in->attempt);
	}
	(void)snprintf(in->error, sizeof(in->error), "%s", f->err);
	if (f->why == 1) {
		in->state = INST_KILLED;
		(void)snprintf(in->reason, sizeof(in->reason), "attempt %d killed through ctl",
		    in->attempt);
		return buf_printf(msg, "KILLED: attempt %d killed through ctl", in->attempt);
	}
	if (f->why == 2) {
		in->state = INST_WAITING;
		in->attempt_base = in->attempt;
		(void)snprintf(in->reason, sizeof(in->reason),
		    "the daemon stopped during attempt %d; it reruns as attempt %d",
		    in->attempt, in->attempt + 1);
		return buf_printf(msg, "WAITING: %s", in->reason);
	}
	if (in->attempt < inst_attempts_allowed(in)) {
		in->state = INST_RETRY_WAIT;
		in->next_try_ms = f->now + in->rerun_interval_s * 1000;
		if (inst_iso(in->next_try_ms, f->tz, iso, sizeof(iso)) != 0)
			iso[0] = '\0';
		(void)snprintf(in->reason, sizeof(in->reason),
		    "attempt %d failed; automatic rerun %d of %d at %s", in->attempt,
		    in->attempt - in->attempt_base, in->rerun_times, iso);
		return buf_printf(msg, "RETRY_WAIT: attempt %d failed: %s; automatic rerun "
		    "%d of %d at %s", in->attempt, f->err, in->attempt - in->attempt_base,
		    in->rerun_times, iso);
	}
	in->state = INST_FAILED;
	(void)snprintf(in->reason, sizeof(in->reason),
	    "attempt %d failed; no automatic rerun left (rerun.times = %d)",
	    in->attempt, in->rerun_times);
	return buf_printf(msg, "FAILED: attempt %d failed: %s; no automatic rerun left "
	    "(rerun.times = %d)", in->attempt, f->err, in->rerun_times);
}

struct sched_runlog {
	struct sched	*s;
	const char	*job;
	const char	*cycle;
	const struct tz	*tz;
	struct sched_run *r;
};

static void
sched_run_log(void *arg, enum log_level lvl, const char *line)
{
	const struct sched_runlog *l = arg;
	struct sched_run *r = l->r;

	pthread_mutex_lock(&l->s->lock);
	r->snap_read = atomic_load(&r->stats.records_read);
	r->snap_written = atomic_load(&r->stats.records_written);
	r->snap_dirty = atomic_load(&r->stats.dirty);
	r->snap_bytes = atomic_load(&r->stats.bytes_written);
	r->snap_ms = sched_now(l->s);
	pthread_mutex_unlock(&l->s->lock);

	sched_log(l->s, l->job, l->cycle, l->tz, lvl, "%s", line);
}

static int64_t
sched_clock_cb(void *arg)
{
	return sched_now(arg);
}

struct sched_win {
	int64_t		 start, end;
	const struct tz	*tz;
};

static int
sched_mut_window(struct inst *in, void *arg, struct buf *msg)
{
	const struct sched_win *w = arg;
	char a[48], b[48];

	in->window_start_ms = w->start;
	in->window_end_ms = w->end;
	if (inst_iso(w->start, w->tz, a, sizeof(a)) != 0 ||
	    inst_iso(w->end, w->tz, b, sizeof(b)) != 0)
		return buf_printf(msg, "window [%lld, %lld) ms", (long long)w->start,
		    (long long)w->end);
	return buf_printf(msg, "window [%s, %s) = [%lld, %lld) ms", a, b,
	    (long long)w->start, (long long)w->end);
}

static void
sched_run_window(void *arg, int64_t start_ms, int64_t end_ms)
{
	struct sched_run *r = arg;
	struct sched_win w = { start_ms, end_ms, r->def->tz };

	pthread_mutex_lock(&r->s->lock);
	(void)sched_transition(r->s, r->job, r->cycle, r->def->tz, sched_mut_window, &w,
	    false, NULL);
	pthread_mutex_unlock(&r->s->lock);
}

static int
sched_run_ckpt_put(void *arg, const char *sub, const void *val, size_t len)
{
	struct sched_run *r = arg;

	return ckpt_put(r->s->cfg.store, r->job, sub, val, len);
}

static int
sched_run_ckpt_get(void *arg, const char *sub, struct buf *out)
{
	struct sched_run *r = arg;

	return ckpt_get(r->s->cfg.store, r->job, sub, out);
}

static void *
sched_run_main(void *p)
{
	struct sched_run *r = p;
	struct sched *s = r->s;
	struct sched_runlog rl = { s, r->job, r->cycle, r->def->tz, r };
	struct run_config rc_;
	struct eng_errbuf eb = { "" };
	struct buf outputs, resolved;
	struct sched_fin f;
	struct inst fin;
	struct sched_run **rp;
	int rc;

	buf_init(&outputs, BUF_MAX_DOC);
	buf_init(&resolved, BUF_MAX_DOC);
	memset(&rc_, 0, sizeof(rc_));
	rc_.job = r->def->job;
	rc_.params = &r->params;
	rc_.sources = s->cfg.sources;
	rc_.sources_arg = s->cfg.sources_arg;
	rc_.tz = r->def->tz;
	rc_.instance = r->cycle;
	rc_.attempt = r->attempt;
	rc_.cyctime = r->cyctime;
	rc_.spool_dir = s->cfg.spool_dir;
	rc_.cancel = &r->cancel;
	rc_.log = sched_run_log;
	rc_.log_arg = &rl;
	rc_.now_ms = sched_clock_cb;
	rc_.now_arg = s;
	rc_.progress_ms = s->cfg.progress_ms;
	rc_.outputs = &outputs;
	rc_.resolved = &resolved;
	rc_.window = sched_run_window;
	rc_.window_arg = r;
	rc_.ckpt_put = sched_run_ckpt_put;
	rc_.ckpt_get = sched_run_ckpt_get;
	rc_.ckpt_arg = r;
	rc = run_job(&rc_, &r->stats, &eb);

	pthread_mutex_lock(&s->lock);
	f.rc = rc;
	f.why = rc != 0 ? r->why : 0;
	f.err = eb.msg[0] != '\0' ? eb.msg : eng_strerror(rc);
	f.now = sched_now(s);
	f.st = &r->stats;
	f.outputs = &outputs;
	f.resolved = &resolved;
	f.tz = r->def->tz;
	inst_init(&fin);
	rc = sched_transition(s, r->job, r->cycle, r->def->tz, sched_mut_finish, &f, false, &fin);
	if (rc != 0)
		log_errorx("cannot record the end of %s/%s: %s", r->job, r->cycle, eng_strerror(rc));
	else if (f.why != 2)
		sched_cnt_attempt(s, &fin, f.rc != 0, false);
	inst_free(&fin);
	for (rp = &s->running; *rp != NULL; rp = &(*rp)->next)
		if (*rp == r) {
			*rp = r->next;
			break;
		}
	s->nrunning--;
	sched_def_unref(r->def);
	pthread_cond_broadcast(&s->idle_cv);
	pthread_cond_broadcast(&s->wake_cv);
	pthread_mutex_unlock(&s->lock);
	param_set_free(&r->params);
	buf_free(&outputs);
	buf_free(&resolved);
	free(r);
	return NULL;
}

/* called with s->lock held */
static int
sched_start_run(struct sched *s, struct sched_job *j, struct sched_pend *p, int64_t now)
{
	struct sched_run *r;
	struct inst in;
	pthread_attr_t attr;
	pthread_t th;
	int rc;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	inst_init(&in);
	rc = sched_transition(s, p->job, p->cycle, j->def->tz, sched_mut_start, &now, false, &in);
	if (rc != 0) {
		inst_free(&in);
		free(r);
		return rc;
	}
	r->s = s;
	(void)snprintf(r->job, sizeof(r->job), "%s", in.job);
	(void)snprintf(r->cycle, sizeof(r->cycle), "%s", in.cycle);
	atomic_init(&r->cancel, 0);
	pipe_stats_init(&r->stats);
	r->def = j->def;
	r->def->refs++;
	r->attempt = in.attempt;
	r->cyctime = in.cyctime;
	/* adopt the parameters */
	r->params = in.params;
	in.params.v = NULL;
	in.params.n = 0;
	inst_free(&in);
	r->next = s->running;
	s->running = r;
	s->nrunning++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&th, &attr, sched_run_main, r);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		struct sched_fin f = { .rc = -rc, .why = 0, .err = "cannot start a thread",
		    .now = now, .st = &r->stats, .tz = j->def->tz };
		struct buf empty;

		buf_init(&empty, 1);
		f.outputs = &empty;
		(void)sched_transition(s, r->job, r->cycle, j->def->tz, sched_mut_finish, &f,
		    false, NULL);
		s->running = r->next;
		s->nrunning--;
		sched_def_unref(r->def);
		param_set_free(&r->params);
		free(r);
		return -rc;
	}
	return 0;
}

/* ---- waiting reasons ----------------------------------------------------------- */

struct sched_prev {
	char		cycle[16];
	enum inst_state	state;
	bool		found;
};

static int
sched_prev_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct sched_prev *pv = arg;
	const char *k = key;
	struct inst in;

	if (klen < STORE_CYCLE_LEN)
		return 1;
	inst_init(&in);
	if (inst_decode(val, vlen, &in) == 0) {
		memcpy(pv->cycle, k + klen - STORE_CYCLE_LEN, STORE_CYCLE_LEN);
		pv->cycle[STORE_CYCLE_LEN] = '\0';
		pv->state = in.state;
		pv->found = true;
	}
	inst_free(&in);
	return 1;	/* only the first (nearest) one */
}

struct sched_prevq {
	const char	*job;
	const char	*cycle;
	struct sched_prev *out;
};

static int
sched_prev_fn(struct store_txn *txn, void *arg)
{
	struct sched_prevq *q = arg;
	char prefix[STORE_KEY_MAX + 1], start[STORE_KEY_MAX + 1];
	size_t plen = strlen(q->job) + 1, slen;
	int rc;

	if (plen > sizeof(prefix))
		return -ENAMETOOLONG;
	memcpy(prefix, q->job, plen);
	if ((rc = store_key_instance(start, sizeof(start), q->job, q->cycle, &slen)) != 0)
		return rc;
	return store_iter(txn, STORE_DB_INSTANCES, prefix, plen, start, slen,
	    STORE_ITER_REVERSE | STORE_ITER_EXCLUSIVE, sched_prev_cb, q->out);
}

struct sched_reason {
	const char *text;
};

static int
sched_mut_reason(struct inst *in, void *arg, struct buf *msg)
{
	const char *text = ((struct sched_reason *)arg)->text;

	(void)snprintf(in->reason, sizeof(in->reason), "%s", text);
	return buf_printf(msg, "%s: %s", inst_state_name(in->state), text);
}

/* record a new waiting reason (logged once per change) */
static void
sched_set_reason(struct sched *s, struct sched_pend *p, const struct tz *tz, const char *text)
{
	struct sched_reason a = { text };

	if (strcmp(p->reason, text) == 0)
		return;
	(void)sched_transition(s, p->job, p->cycle, tz, sched_mut_reason, &a, false, NULL);
}

/*
 * Called with s->lock held.  Work per step stays proportional to what can
 * start, not to the pending backlog (a backfill may queue 100,000
 * instances): once an instance of a self-dependent job is blocked, the
 * job's later instances are blocked too and are passed over without a
 * store access; once every worker is busy, nothing more can start.
 */
void
sched_start_runnable(struct sched *s, int64_t now)
{
	struct sched_pend *p, *next;
	const char *blocked_job = NULL;
	char why[256];

	for (p = s->pending; p != NULL; p = next) {
		struct sched_job *j;
		const struct conf_schedule *sch;
		struct sched_run *r;
		bool busy = false;

		next = p->next;
		if (s->stopping)
			return;
		if (blocked_job != NULL && strcmp(p->job, blocked_job) == 0)
			continue;
		blocked_job = NULL;
		if (p->state == INST_RUNNING || p->state == INST_FROZEN)
			continue;
		if (p->state == INST_RETRY_WAIT && now < p->next_try_ms)
			continue;
		if (p->trigger == INST_SCHEDULED && p->cyctime * 1000 > now)
			continue;
		j = sched_find(s, p->job);
		if (j == NULL || j->def == NULL)
			continue;	/* history of a job that is not defined */
		if (j->paused) {
			sched_set_reason(s, p, j->def->tz, "waiting: the job is paused");
			blocked_job = p->job;
			continue;
		}
		sch = conf_job_schedule(j->def->job);
		if (sch != NULL && sch->self_dependent) {
			struct sched_prev pv = { "", INST_WAITING, false };
			struct sched_prevq q = { p->job, p->cycle, &pv };

			for (r = s->running; r != NULL; r = r->next)
				if (strcmp(r->job, p->job) == 0)
					busy = true;
			if (store_view(s->cfg.store, sched_prev_fn, &q) != 0)
				continue;
			if (pv.found && pv.state != INST_SUCCESS && pv.state != INST_SKIPPED) {
				(void)snprintf(why, sizeof(why),
				    "waiting for the previous cycle %s (%s): the job is self-dependent",
				    pv.cycle, inst_state_name(pv.state));
				sched_set_reason(s, p, j->def->tz, why);
				blocked_job = p->job;
				continue;
			}
			if (busy) {
				sched_set_reason(s, p, j->def->tz,
				    "waiting: another instance of this self-dependent job is running");
				blocked_job = p->job;
				continue;
			}
		}
		if (s->nrunning >= s->cfg.workers) {
			(void)snprintf(why, sizeof(why), "waiting for a free worker (%d of %d busy)",
			    s->nrunning, s->cfg.workers);
			sched_set_reason(s, p, j->def->tz, why);
			return;
		}
		if (sched_start_run(s, j, p, now) != 0)
			log_warnx("cannot start %s/%s", p->job, p->cycle);
	}
}


