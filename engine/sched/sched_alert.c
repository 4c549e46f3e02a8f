/* SPDX-License-Identifier: MIT */
/*
 * sched_alert.c - when schedule.alert fires, and handing it to alert.c.
 *
 * An event is raised once per instance: the transition that causes it
 * sets its bit in the record's alerts_fired (so a restart never raises it
 * again), and the delivery then runs on a detached thread of its own, so
 * a slow webhook or a 30 s command never holds the scheduler.  What the
 * delivery did goes into the instance's log (the job's log for a batch of
 * SKIPPED cycles) and into the metrics.  sched_free waits for deliveries
 * under way.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "sched_i.h"

static const struct {
	unsigned	 bit;
	const char	*name;
} sched_alert_names[] = {
	{ CONF_ALERT_FAILED,     "failed" },
	{ CONF_ALERT_EXHAUSTED,  "exhausted" },
	{ CONF_ALERT_TIMEOUT,    "timeout" },
	{ CONF_ALERT_SKIPPED,    "skipped" },
	{ CONF_ALERT_UNFINISHED, "unfinished_by" },
};

unsigned
sched_alert_events(const struct sched_def *d)
{
	const struct conf_schedule *sch = d != NULL ? conf_job_schedule(d->job) : NULL;

	return sch != NULL ? sch->alert.events : 0;
}

struct sched_alert_job {
	struct sched	*s;
	struct sched_def *def;		/* a reference */
	char		 job[256];
	char		 cycle[16];	/* "" for a job-level event */
	char		 state[16];
	char		 reason[512];
	char		 error[512];
	char		 wstart[48], wend[48], when[48];
	const char	*event;
	int		 attempt, allowed;
};

static void *
sched_alert_main(void *p)
{
	struct sched_alert_job *a = p;
	struct sched *s = a->s;
	const struct conf_schedule *sch = conf_job_schedule(a->def->job);
	struct alert_event ev = {
		.event = a->event, .job = a->job, .cycle = a->cycle, .state = a->state,
		.reason = a->reason, .error = a->error, .attempt = a->attempt,
		.attempts_allowed = a->allowed, .window_start = a->wstart,
		.window_end = a->wend, .time = a->when,
	};
	struct alert_opts o;
	struct buf rep;
	char *line, *nl = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	o.exec_timeout_ms = s->cfg.alert_exec_timeout_ms;
	o.webhook_backoff_ms = s->cfg.alert_backoff_ms;
	buf_init(&rep, 65536);
	rc = alert_deliver(&sch->alert, &ev, &o, &rep);
	/* one log entry per line of the report (each with its timestamp, so
	 * a reader of the log sees no line without one) */
	if (rep.len == 0)
		sched_log(s, a->job, a->cycle[0] != '\0' ? a->cycle : NULL, a->def->tz,
		    rc == 0 ? LOG_LVL_INFO : LOG_LVL_WARN, "%s",
		    rc == 0 ? "alert delivered" : "alert not delivered");
	for (line = rep.p; line != NULL && *line != '\0'; line = nl != NULL ? nl + 1 : NULL) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if (*line == '\0')
			continue;
		/* the result in the instance's log, the result and the
		 * command's output in the job's (as DataWorks shows them) */
		if (a->cycle[0] != '\0')
			sched_log(s, a->job, a->cycle, a->def->tz,
			    rc == 0 ? LOG_LVL_INFO : LOG_LVL_WARN, "%s", line);
		sched_log(s, a->job, NULL, a->def->tz, rc == 0 ? LOG_LVL_INFO : LOG_LVL_WARN,
		    "%s%s%s", a->cycle, a->cycle[0] != '\0' ? ": " : "", line);
	}
	buf_free(&rep);
	pthread_mutex_lock(&s->lock);
	sched_cnt_alert(s, a->job, rc == 0);
	s->nalerts--;
	pthread_cond_broadcast(&s->idle_cv);
	pthread_mutex_unlock(&s->lock);
	sched_def_put(s, a->def);
	free(a);
	return NULL;
}

/* one delivery of event `name` for in (lock held) */
static void
sched_alert_start(struct sched *s, struct sched_def *d, const struct inst *in, const char *name,
    const char *reason)
{
	struct sched_alert_job *a;
	pthread_attr_t attr;
	pthread_t th;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		log_warnx("%s/%s: alert %s not delivered: out of memory", in->job, in->cycle, name);
		return;
	}
	a->s = s;
	a->def = d;
	a->event = name;
	(void)snprintf(a->job, sizeof(a->job), "%s", in->job);
	(void)snprintf(a->cycle, sizeof(a->cycle), "%s", in->cycle);
	(void)snprintf(a->state, sizeof(a->state), "%s", inst_state_name(in->state));
	(void)snprintf(a->reason, sizeof(a->reason), "%s", reason != NULL ? reason : in->reason);
	(void)snprintf(a->error, sizeof(a->error), "%s", in->error);
	a->attempt = in->attempt;
	a->allowed = inst_attempts_allowed(in);
	if (in->window_start_ms < 0 || inst_iso(in->window_start_ms, d->tz, a->wstart,
	    sizeof(a->wstart)) != 0)
		a->wstart[0] = '\0';
	if (in->window_end_ms < 0 || inst_iso(in->window_end_ms, d->tz, a->wend,
	    sizeof(a->wend)) != 0)
		a->wend[0] = '\0';
	if (inst_iso(sched_now(s), d->tz, a->when, sizeof(a->when)) != 0)
		a->when[0] = '\0';
	d->refs++;
	s->nalerts++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, sched_alert_main, a) != 0) {
		s->nalerts--;
		d->refs--;
		free(a);
		log_warnx("%s/%s: alert %s not delivered: cannot start a thread", in->job,
		    in->cycle, name);
	}
	pthread_attr_destroy(&attr);
}

void
sched_alert_raise(struct sched *s, struct sched_def *d, const struct inst *in, unsigned events,
    const char *reason)
{
	size_t i;

	if (d == NULL || events == 0)
		return;
	for (i = 0; i < sizeof(sched_alert_names) / sizeof(sched_alert_names[0]); i++)
		if ((events & sched_alert_names[i].bit) != 0)
			sched_alert_start(s, d, in, sched_alert_names[i].name, reason);
}

/* ---- unfinished_by: a daily baseline ------------------------------------------ */

struct sched_unfin {
	struct sched	*s;
	const char	*to;		/* the last cycle id of the day */
	char		 cycles[64][16];	/* instances past the baseline, not done */
	size_t		 n;
};

static int
sched_unfin_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct sched_unfin *u = arg;
	struct inst in;

	if (klen < STORE_CYCLE_LEN ||
	    memcmp((const char *)key + klen - STORE_CYCLE_LEN, u->to, STORE_CYCLE_LEN) > 0)
		return 1;	/* past the day */
	inst_init(&in);
	if (inst_decode(val, vlen, &in) == 0 && in.state != INST_SUCCESS &&
	    in.state != INST_SKIPPED && (in.alerts_fired & CONF_ALERT_UNFINISHED) == 0 &&
	    u->n < sizeof(u->cycles) / sizeof(u->cycles[0]))
		(void)snprintf(u->cycles[u->n++], sizeof(u->cycles[0]), "%s", in.cycle);
	inst_free(&in);
	return u->n < sizeof(u->cycles) / sizeof(u->cycles[0]) ? 0 : 1;
}

struct sched_unfinq {
	const char	*job;
	const char	*from;		/* the first cycle id of the day */
	struct sched_unfin *u;
};

static int
sched_unfin_fn(struct store_txn *txn, void *arg)
{
	struct sched_unfinq *q = arg;
	char pfx[STORE_KEY_MAX + 1], start[STORE_KEY_MAX + 1];
	size_t plen = strlen(q->job) + 1, slen;
	int rc;

	if (plen > sizeof(pfx))
		return -ENAMETOOLONG;
	memcpy(pfx, q->job, plen);
	if ((rc = store_key_instance(start, sizeof(start), q->job, q->from, &slen)) != 0)
		return rc;
	return store_iter(txn, STORE_DB_INSTANCES, pfx, plen, start, slen, 0, sched_unfin_cb,
	    q->u);
}

static int
sched_mut_unfin(struct inst *in, void *arg, struct buf *msg)
{
	const char *why = arg;

	if ((in->alerts_fired & CONF_ALERT_UNFINISHED) != 0 || in->state == INST_SUCCESS)
		return ENG_ESTATE;
	in->alerts_fired |= CONF_ALERT_UNFINISHED;
	return buf_printf(msg, "%s: %s", inst_state_name(in->state), why);
}

/*
 * The baseline: every cycle in the day before a deadline (the job's
 * "HH:MM" in its zone) is to be SUCCESS by it.  Checked once per deadline
 * (lock held; the store is read under it, a day of cycles at most).
 */
void
sched_alert_unfinished(struct sched *s, struct sched_job *j, int64_t now)
{
	const struct conf_schedule *sch = conf_job_schedule(j->def->job);
	struct sched_unfin *u;
	struct sched_unfinq q;
	struct tz_tm tm;
	char from[16], to[16], why[200], hm[24];
	int64_t nows = now / 1000, dl;
	size_t i;

	if (sch == NULL || (sch->alert.events & CONF_ALERT_UNFINISHED) == 0 ||
	    sch->alert.unfinished_by_min < 0 || tz_to_local(j->def->tz, nows, &tm) != 0)
		return;
	/* today's deadline in the job's zone, or yesterday's when not yet */
	dl = nows - (int64_t)tm.hour * 3600 - tm.min * 60 - tm.sec +
	    (int64_t)sch->alert.unfinished_by_min * 60;
	if (dl > nows)
		dl -= 86400;
	if (dl <= j->unfin_checked || dl * 1000 < j->defined_ms)
		return;
	j->unfin_checked = dl;
	if (cycle_id_format(dl - 86400 + 1, j->def->tz, from) != 0 ||
	    cycle_id_format(dl, j->def->tz, to) != 0 || (u = calloc(1, sizeof(*u))) == NULL)
		return;
	u->s = s;
	u->to = to;
	q.job = j->name;
	q.from = from;
	q.u = u;
	if (store_view(s->cfg.store, sched_unfin_fn, &q) != 0)
		u->n = 0;
	(void)snprintf(hm, sizeof(hm), "%02d:%02d", sch->alert.unfinished_by_min / 60,
	    sch->alert.unfinished_by_min % 60);
	(void)snprintf(why, sizeof(why), "not SUCCESS by the baseline %s (schedule.alert."
	    "unfinished_by)", hm);
	for (i = 0; i < u->n; i++) {
		struct inst in;

		inst_init(&in);
		if (sched_transition(s, j->name, u->cycles[i], j->def->tz, sched_mut_unfin, why,
		    false, &in) == 0)
			sched_alert_raise(s, j->def, &in, CONF_ALERT_UNFINISHED, why);
		inst_free(&in);
	}
	free(u);
}
