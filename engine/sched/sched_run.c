/* SPDX-License-Identifier: MIT */
/*
 * sched_run.c - starting and finishing runs: each attempt's entry in the
 * record's history, the rerun decision by error class, timeouts, and
 * the alerts an end raises.
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
	struct inst_attempt *at;

	if ((at = inst_attempt_add(in)) == NULL)
		return -ENOMEM;
	in->state = INST_RUNNING;
	in->attempt++;
	in->started_ms = now;
	in->finished_ms = 0;
	in->next_try_ms = 0;
	in->records_read = in->records_written = in->dirty = in->bytes = 0;
	in->error[0] = '\0';
	buf_reset(&in->outputs);
	at->n = in->attempt;
	at->trigger = in->next_trigger;
	at->outcome = INST_OUT_RUNNING;
	at->started_ms = now;
	(void)snprintf(in->reason, sizeof(in->reason), "attempt %d of %d running",
	    in->attempt, inst_attempts_allowed(in));
	/* a line that separates the attempts in the log */
	return buf_printf(msg, "RUNNING: ======== attempt %d of %d (%s) started ========",
	    in->attempt, inst_attempts_allowed(in), inst_atrig_name(at->trigger));
}

struct sched_fin {
	int		 rc;
	int		 why;		/**< SCHED_WHY_* */
	const char	*err;
	int64_t		 now;
	int64_t		 timeout_s;
	const struct pipe_stats *st;
	const struct buf *outputs;
	const struct buf *resolved;	/**< may be NULL */
	const struct tz	*tz;
	unsigned	 alert_on;	/**< the job's schedule.alert events */
	unsigned	 fire;		/**< out: events to raise now */
};

/* mark ev raised (once per instance and event) */
static void
sched_fin_raise(struct inst *in, struct sched_fin *f, unsigned ev)
{
	if ((f->alert_on & ev) != 0 && (in->alerts_fired & ev) == 0) {
		in->alerts_fired |= ev;
		f->fire |= ev;
	}
}

static int
sched_mut_finish(struct inst *in, void *arg, struct buf *msg)
{
	struct sched_fin *f = arg;
	struct inst_attempt *at = inst_attempt_last(in);
	char iso[48], err[400];
	bool retryable;

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
	if (f->why == SCHED_WHY_TIMEOUT)
		(void)snprintf(err, sizeof(err), "timeout after %lld s (schedule.timeoutSeconds)",
		    (long long)f->timeout_s);
	else
		(void)snprintf(err, sizeof(err), "%s", f->rc != 0 ? f->err : "");
	if (at != NULL && at->n == in->attempt) {
		at->finished_ms = f->now;
		at->records_read = in->records_read;
		at->records_written = in->records_written;
		at->bytes = in->bytes;
		(void)snprintf(at->error, sizeof(at->error), "%.255s", err);
		at->outcome = f->rc == 0 ? INST_OUT_SUCCESS : f->why == SCHED_WHY_KILL ?
		    INST_OUT_KILLED : f->why == SCHED_WHY_STOP ? INST_OUT_INTERRUPTED :
		    f->why == SCHED_WHY_TIMEOUT ? INST_OUT_TIMEOUT : INST_OUT_FAILED;
	}
	if (f->rc == 0) {
		in->state = INST_SUCCESS;
		in->error[0] = '\0';
		(void)snprintf(in->reason, sizeof(in->reason), "attempt %d succeeded", in->attempt);
		return buf_printf(msg, "SUCCESS: attempt %d succeeded", in->attempt);
	}
	(void)snprintf(in->error, sizeof(in->error), "%s", err);
	if (f->why == SCHED_WHY_KILL) {
		in->state = INST_KILLED;
		(void)snprintf(in->reason, sizeof(in->reason), "attempt %d killed through ctl",
		    in->attempt);
		return buf_printf(msg, "KILLED: attempt %d killed through ctl", in->attempt);
	}
	if (f->why == SCHED_WHY_STOP) {
		in->state = INST_WAITING;
		in->attempt_base = in->attempt;
		in->next_trigger = INST_AT_RERUN;
		(void)snprintf(in->reason, sizeof(in->reason),
		    "the daemon stopped during attempt %d; it reruns as attempt %d",
		    in->attempt, in->attempt + 1);
		return buf_printf(msg, "WAITING: %s", in->reason);
	}
	sched_fin_raise(in, f, CONF_ALERT_FAILED);
	if (f->why == SCHED_WHY_TIMEOUT)
		sched_fin_raise(in, f, CONF_ALERT_TIMEOUT);
	/* a timeout may pass on a rerun; the error classes say which others may */
	retryable = f->why == SCHED_WHY_TIMEOUT || eng_err_retryable(f->rc);
	if (retryable && in->attempt < inst_attempts_allowed(in)) {
		in->state = INST_RETRY_WAIT;
		in->next_trigger = INST_AT_RERUN;
		in->next_try_ms = f->now + in->rerun_interval_s * 1000;
		if (inst_iso(in->next_try_ms, f->tz, iso, sizeof(iso)) != 0)
			iso[0] = '\0';
		(void)snprintf(in->reason, sizeof(in->reason),
		    "attempt %d failed; automatic rerun %d of %d at %s", in->attempt,
		    in->attempt - in->attempt_base, in->rerun_times, iso);
		return buf_printf(msg, "RETRY_WAIT: attempt %d failed: %s; automatic rerun "
		    "%d of %d at %s", in->attempt, err, in->attempt - in->attempt_base,
		    in->rerun_times, iso);
	}
	in->state = INST_FAILED;
	sched_fin_raise(in, f, CONF_ALERT_EXHAUSTED);
	if (!retryable) {
		(void)snprintf(in->reason, sizeof(in->reason),
		    "attempt %d failed with an error a rerun cannot fix (%s); no automatic rerun",
		    in->attempt, eng_strerror(f->rc));
		return buf_printf(msg, "FAILED: attempt %d failed: %s; not retried: %s is not a "
		    "retryable error (README: Error classes)", in->attempt, err,
		    eng_strerror(f->rc));
	}
	(void)snprintf(in->reason, sizeof(in->reason),
	    "attempt %d failed; no automatic rerun left (rerun.times = %d)",
	    in->attempt, in->rerun_times);
	return buf_printf(msg, "FAILED: attempt %d failed: %s; no automatic rerun left "
	    "(rerun.times = %d)", in->attempt, err, in->rerun_times);
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
	memset(&f, 0, sizeof(f));
	f.rc = rc;
	f.why = rc != 0 ? r->why : 0;
	f.err = eb.msg[0] != '\0' ? eb.msg : eng_strerror(rc);
	f.now = sched_now(s);
	f.timeout_s = r->timeout_ms / 1000;
	f.st = &r->stats;
	f.outputs = &outputs;
	f.resolved = &resolved;
	f.tz = r->def->tz;
	f.alert_on = sched_alert_events(r->def);
	inst_init(&fin);
	rc = sched_transition(s, r->job, r->cycle, r->def->tz, sched_mut_finish, &f, false, &fin);
	if (rc != 0) {
		log_errorx("cannot record the end of %s/%s: %s", r->job, r->cycle, eng_strerror(rc));
	} else {
		if (f.why != SCHED_WHY_STOP)
			sched_cnt_attempt(s, &fin, f.rc != 0, f.why == SCHED_WHY_TIMEOUT);
		sched_alert_raise(s, r->def, &fin, f.fire, NULL);
	}
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
int
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
	r->started_ms = now;
	{
		const struct conf_schedule *sch = conf_job_schedule(j->def->job);

		r->timeout_ms = sch != NULL ? sch->timeout_s * 1000 : 0;
	}
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

