/* SPDX-License-Identifier: MIT */
/*
 * sched_ctl.c - ctl commands: an instance's (rerun, kill, set-success, ...) and a
 * job's (pause, resume, run, backfill, ...).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "num.h"
#include "sched_i.h"

/* ---- ctl: instances ---------------------------------------------------------- */

int
sched_mut_rerun(struct inst *in, void *arg, struct buf *msg)
{
	const char *why = arg;

	if (in->state == INST_RUNNING)
		return ENG_ESTATE;
	in->state = INST_WAITING;
	in->attempt_base = in->attempt;
	in->next_try_ms = 0;
	in->set_success = false;
	in->next_trigger = strstr(why, "backfill") != NULL ? INST_AT_BACKFILL : INST_AT_CTL;
	in->alerts_fired = 0;	/* a new series raises its alerts again */
	(void)snprintf(in->reason, sizeof(in->reason), "%s", why);
	return buf_printf(msg, "WAITING: %s (attempt %d next, %d allowed)", why,
	    in->attempt + 1, inst_attempts_allowed(in));
}

static int
sched_mut_set_success(struct inst *in, void *arg, struct buf *msg)
{
	(void)arg;
	if (in->state != INST_FAILED && in->state != INST_KILLED && in->state != INST_WAITING)
		return ENG_ESTATE;
	in->state = INST_SUCCESS;
	in->set_success = true;
	(void)snprintf(in->reason, sizeof(in->reason), "set to success through ctl");
	return buf_printf(msg, "SUCCESS: set to success through ctl (nothing was run)");
}

/* kill of an instance that is not running: it never starts (again) */
static int
sched_mut_kill_waiting(struct inst *in, void *arg, struct buf *msg)
{
	(void)arg;
	if (in->state != INST_WAITING && in->state != INST_RETRY_WAIT &&
	    in->state != INST_FROZEN)
		return ENG_ESTATE;
	(void)snprintf(in->reason, sizeof(in->reason), "killed through ctl while %s%s",
	    inst_state_name(in->state), in->state == INST_RETRY_WAIT ?
	    " (its automatic reruns are cancelled)" : "");
	in->state = INST_KILLED;
	in->next_try_ms = 0;
	return buf_printf(msg, "KILLED: %s", in->reason);
}

static int
sched_mut_freeze(struct inst *in, void *arg, struct buf *msg)
{
	(void)arg;
	if (in->state != INST_WAITING && in->state != INST_RETRY_WAIT)
		return ENG_ESTATE;
	in->state = INST_FROZEN;
	(void)snprintf(in->reason, sizeof(in->reason), "frozen through ctl");
	return buf_printf(msg, "FROZEN: frozen through ctl; it will not start until unfrozen");
}

static int
sched_mut_unfreeze(struct inst *in, void *arg, struct buf *msg)
{
	(void)arg;
	if (in->state != INST_FROZEN)
		return ENG_ESTATE;
	in->state = INST_WAITING;
	in->next_try_ms = 0;
	(void)snprintf(in->reason, sizeof(in->reason), "unfrozen through ctl");
	return buf_printf(msg, "WAITING: unfrozen through ctl");
}

/* split a ctl line into words (at most 4) in place; returns the count */
static int
sched_words(char *line, char **w, int max)
{
	int n = 0;
	char *p = line;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (n == max)
			return max + 1;
		w[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
	}
	return n;
}

struct sched_icmd {
	const char	*name;
	sched_mut_fn	*mut;
	const char	*refused;	/**< why ENG_ESTATE */
	const char	*done;		/**< what it did (ctl's result) */
};

static const struct sched_icmd sched_icmds[] = {
	{ "rerun",       sched_mut_rerun,       "a running instance cannot be rerun; kill it first",
	  "a new attempt series is WAITING" },
	{ "kill",        sched_mut_kill_waiting, "only a RUNNING, WAITING, RETRY_WAIT or FROZEN "
	  "instance can be killed", "KILLED: it does not start again until rerun" },
	{ "set-success", sched_mut_set_success, "only a FAILED, KILLED or WAITING instance can be "
	  "set to success (a running one: kill it first)", "SUCCESS without running" },
	{ "freeze",      sched_mut_freeze,      "only a WAITING or RETRY_WAIT instance can be frozen",
	  "FROZEN: it does not start until unfreeze" },
	{ "unfreeze",    sched_mut_unfreeze,    "only a FROZEN instance can be unfrozen",
	  "WAITING again" },
};

int
sched_ctl_instance(struct sched *s, const char *job, const char *cycle, const char *line,
    struct eng_errbuf *eb)
{
	const struct sched_icmd *c = NULL;
	struct eng_errbuf e = { "" };
	struct sched_job *j;
	struct sched_def *d;
	struct sched_run *r = NULL;
	int reran = 0, busy = 0;
	bool desc;
	const struct tz *tz;
	char copy[256], *w[4];
	size_t i;
	int n, rc;

	(void)snprintf(copy, sizeof(copy), "%s", line);
	n = sched_words(copy, w, 3);
	pthread_mutex_lock(&s->lock);
	j = sched_find(s, job);
	if ((d = j != NULL ? j->def : NULL) != NULL)
		d->refs++;	/* keeps tz alive after unlocking */
	tz = d != NULL ? d->tz : s->local;
	for (i = 0; n >= 1 && i < sizeof(sched_icmds) / sizeof(sched_icmds[0]); i++)
		if (strcmp(w[0], sched_icmds[i].name) == 0)
			c = &sched_icmds[i];
	desc = n == 2 && c != NULL && c->mut == sched_mut_rerun && strcmp(w[1], "descendants") == 0;
	if (n == 0 || c == NULL || (n != 1 && !desc)) {
		rc = eng_errbuf_set(eb, ENG_EINVAL, n == 0 ? "empty control message" :
		    c == NULL ? "unknown control message '%s' (instance ctl takes: rerun, rerun "
		    "descendants, kill, set-success, freeze, unfreeze)" :
		    "bad # args: '%s' takes no argument (but: rerun descendants)",
		    n > 0 ? w[0] : "");
		pthread_mutex_unlock(&s->lock);
		sched_log(s, job, cycle, tz, LOG_LVL_WARN, "ctl: %s", eb != NULL ? eb->msg :
		    "invalid control message");
		sched_def_put(s, d);
		return ENG_EINVAL;
	}
	if (c->mut == sched_mut_kill_waiting) {
		for (r = s->running; r != NULL; r = r->next)
			if (strcmp(r->job, job) == 0 && strcmp(r->cycle, cycle) == 0)
				break;
	}
	if (c->mut == sched_mut_kill_waiting && r != NULL) {	/* kill a running one */
		r->why = SCHED_WHY_KILL;
		atomic_store(&r->cancel, 1);
		pthread_mutex_unlock(&s->lock);
		sched_log(s, job, cycle, tz, LOG_LVL_INFO, "ctl: kill requested");
		sched_def_put(s, d);
		return eng_errbuf_set(eb, 0, "%s: the running attempt is being stopped", c->name);
	}
	rc = sched_transition(s, job, cycle, tz, c->mut,
	    (void *)(uintptr_t)"rerun requested through ctl", false, NULL);
	if (rc == 0 && desc)
		rc = sched_rerun_descendants(s, job, cycle, &reran, &busy, &e);
	if (d != NULL)
		sched_def_unref(d);
	pthread_mutex_unlock(&s->lock);
	if (rc == ENG_ESTATE)
		return eng_errbuf_set(eb, rc, "%s", c->refused);
	if (rc == -ENOENT)
		return eng_errbuf_set(eb, rc, "no instance %s/%s", job, cycle);
	if (rc != 0)
		return eng_errbuf_set(eb, rc, "%s: %s", w[0], e.msg[0] != '\0' ? e.msg :
		    eng_strerror(rc));
	sched_wake(s);
	if (desc) {
		sched_log(s, job, cycle, tz, LOG_LVL_INFO, "ctl: rerun descendants: %d "
		    "descendant instance%s rerun after this one%s", reran, reran == 1 ? "" : "s",
		    busy > 0 ? " (running ones left alone)" : "");
		return eng_errbuf_set(eb, 0, "rerun descendants: this instance and %d descendant "
		    "instance%s are WAITING; they run in dependency order%s", reran,
		    reran == 1 ? "" : "s", busy > 0 ? "; running ones were left alone" : "");
	}
	return eng_errbuf_set(eb, 0, "%s: %s", w[0], c->done);
}

/* ---- ctl: jobs ----------------------------------------------------------------- */

/* create (or rerun) the instance of cycle t for a manual run/backfill; lock held */
static int
sched_manual(struct sched *s, struct sched_job *j, int64_t t, enum inst_trigger trig,
    int64_t now, int *skipped_running)
{
	char cycle[16];
	int rc;

	if ((rc = cycle_id_format(t, j->def->tz, cycle)) != 0)
		return rc;
	rc = sched_create(s, j, t, INST_WAITING, trig,
	    trig == INST_BACKFILL ? "created by backfill" : "created by run", now);
	if (rc != -EEXIST)
		return rc;
	rc = sched_transition(s, j->name, cycle, j->def->tz, sched_mut_rerun,
	    (void *)(uintptr_t)(trig == INST_BACKFILL ? "rerun by backfill" : "rerun by run"),
	    false, NULL);
	if (rc == ENG_ESTATE) {
		(*skipped_running)++;
		sched_log(s, j->name, cycle, j->def->tz, LOG_LVL_INFO,
		    "%s: this instance is running; left alone",
		    trig == INST_BACKFILL ? "backfill" : "run");
		return 0;
	}
	return rc;
}

/* Table Store keeps a stream at most 7 days: a window older is certainly gone */
#define SCHED_MAX_RETENTION_H	168

/*
 * The retention of j's stream source in hours (0: j reads no stream): as
 * its reader last saw it, else the longest Table Store allows.  *seen
 * says which.
 */
static int64_t
sched_retention_h(struct sched *s, const struct sched_job *j, bool *seen)
{
	struct buf v;
	int64_t h = SCHED_MAX_RETENTION_H;

	*seen = false;
	if (conf_job_plugin_id(j->def->job, CONF_READER) != CONF_PLUGIN_OTSSTREAM)
		return 0;
	buf_init(&v, 64);
	if (ckpt_get(s->cfg.store, j->name, PLUGIN_CKPT_RETENTION, &v) == 0 &&
	    num_i64(v.p, v.len, 1, 100000, &h) == 0)
		*seen = true;
	else
		h = SCHED_MAX_RETENTION_H;
	buf_free(&v);
	return h;
}

/*
 * Whether cycle t may be run or backfilled now: not in the future, not
 * certainly outside the stream's retention (the window of a cycle ends at
 * or before its cycle time, as the seed's $[...-N/24/60] windows do, so a
 * cycle older than the retention has a window that is gone).  0 or
 * ENG_EINVAL with the reason.
 */
static int
sched_cycle_allowed(struct sched *s, const struct sched_job *j, int64_t t, int64_t now,
    const char *what, struct eng_errbuf *eb)
{
	char cid[16], iso[48];
	int64_t h;
	bool seen;

	if (cycle_id_format(t, j->def->tz, cid) != 0)
		(void)snprintf(cid, sizeof(cid), "?");
	if (t * 1000 > now) {
		if (inst_iso(now, j->def->tz, iso, sizeof(iso)) != 0)
			iso[0] = '\0';
		return eng_errbuf_set(eb, ENG_EINVAL, "cycle %s is in the future (now is %s): "
		    "%s covers cycles that are due; give a time at or before now", cid, iso, what);
	}
	if ((h = sched_retention_h(s, j, &seen)) > 0 && t * 1000 < now - h * 3600000) {
		return eng_errbuf_set(eb, ENG_EINVAL, "cycle %s is outside the stream's retention "
		    "(%lld h, %s): its window's records are gone; give cycles of the last %lld h",
		    cid, (long long)h, seen ? "as the reader last saw it" :
		    "the most Table Store keeps", (long long)h);
	}
	return 0;
}

static int
sched_parse_cycle(struct sched_job *j, const char *arg, int64_t *t, struct eng_errbuf *eb)
{
	const struct conf_schedule *sch = conf_job_schedule(j->def->job);
	int rc;

	if ((rc = cycle_id_parse(arg, strlen(arg), j->def->tz, t, eb)) != 0)
		return ENG_EINVAL;
	if (sch != NULL && !cycle_is_cycle(&sch->spec, j->def->tz, *t))
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "%s is not a cycle time of this job (cycle %s)", arg, sch->cycle);
	return 0;
}

int
sched_ctl_job(struct sched *s, const char *job, const char *line, struct eng_errbuf *eb)
{
	struct eng_errbuf e = { "" };
	const struct conf_schedule *sch;
	struct sched_job *j;
	int64_t now = sched_now(s), t, from, to;
	char copy[256], *w[5];
	int n, rc = 0, made = 0, busy = 0;

	(void)snprintf(copy, sizeof(copy), "%s", line);
	n = sched_words(copy, w, 4);
	pthread_mutex_lock(&s->lock);
	if ((j = sched_find(s, job)) == NULL || j->def == NULL) {
		pthread_mutex_unlock(&s->lock);
		return eng_errbuf_set(eb, -ENOENT, "job %s is not defined", job);
	}
	sch = conf_job_schedule(j->def->job);
	if (n >= 1 && strcmp(w[0], "run") == 0 && n <= 2) {
		if (n == 2) {
			if ((rc = sched_parse_cycle(j, w[1], &t, &e)) != 0 ||
			    (sch != NULL && (rc = sched_cycle_allowed(s, j, t, now, "run", &e)) != 0))
				goto bad;
		} else if (sch != NULL) {
			/* the current cycle: the latest cycle time <= now */
			int64_t lo = now / 1000 - 2 * 86400, c = lo, nx;

			t = -1;
			while (cycle_next(&sch->spec, j->def->tz, c, &nx) == 0 && nx <= now / 1000) {
				t = nx;
				c = nx;
			}
			if (t < 0) {
				rc = eng_errbuf_set(&e, ENG_EINVAL, "no cycle of this job is due yet");
				goto bad;
			}
		} else {
			t = now / 1000;
		}
		rc = sched_manual(s, j, t, INST_MANUAL, now, &busy);
		if (rc == 0) {
			char cid[16];

			if (cycle_id_format(t, j->def->tz, cid) != 0)
				(void)snprintf(cid, sizeof(cid), "?");
			(void)eng_errbuf_set(&e, 0, "%s: instance %s %s", line, cid, busy > 0 ?
			    "is running: left alone" : "queued");
			sched_log(s, job, NULL, j->def->tz, LOG_LVL_INFO, "ctl: %s", e.msg);
		}
	} else if (n >= 1 && strcmp(w[0], "backfill") == 0 &&
	    (n == 3 || (n == 4 && strcmp(w[3], "force") == 0))) {
		int64_t count = 0, limit;

		if ((rc = cycle_id_parse(w[1], strlen(w[1]), j->def->tz, &from, &e)) != 0 ||
		    (rc = cycle_id_parse(w[2], strlen(w[2]), j->def->tz, &to, &e)) != 0) {
			rc = ENG_EINVAL;
			goto bad;
		}
		if (sch == NULL) {
			rc = eng_errbuf_set(&e, ENG_EINVAL,
			    "backfill needs a job with a schedule; use 'run YYYYMMDDHHMMSS'");
			goto bad;
		}
		if (to <= from) {
			rc = eng_errbuf_set(&e, ENG_EINVAL,
			    "backfill FROM TO covers [FROM, TO): TO must be later than FROM");
			goto bad;
		}
		/* the guard rails first: nothing is queued when one refuses */
		if (cycle_next(&sch->spec, j->def->tz, now / 1000, &t) == 0 && t < to && t >= from &&
		    (rc = sched_cycle_allowed(s, j, t, now, "backfill", &e)) != 0)
			goto bad;
		limit = n == 4 ? SCHED_MAX_CREATE : sch->backfill_limit > 0 ? sch->backfill_limit :
		    1440;
		for (rc = cycle_next(&sch->spec, j->def->tz, from - 1, &t);
		    rc == 0 && t < to && count <= limit;
		    rc = cycle_next(&sch->spec, j->def->tz, t, &t)) {
			/* the oldest may be past the retention, the newest in the future */
			if ((count == 0 || t * 1000 > now) &&
			    (rc = sched_cycle_allowed(s, j, t, now, "backfill", &e)) != 0)
				goto bad;
			count++;
		}
		rc = 0;
		if (count > limit) {
			rc = eng_errbuf_set(&e, ENG_EINVAL, n == 4 ?
			    "backfill %s %s covers more than %lld instances, the most one backfill "
			    "may queue; split the range" :
			    "backfill %s %s covers more than %lld instances (schedule.backfillLimit); "
			    "write 'backfill %s %s force' to queue them anyway, or raise "
			    "schedule.backfillLimit", w[1], w[2], (long long)limit, w[1], w[2]);
			goto bad;
		}
		for (rc = cycle_next(&sch->spec, j->def->tz, from - 1, &t);
		    rc == 0 && t < to && made < SCHED_MAX_CREATE;
		    rc = cycle_next(&sch->spec, j->def->tz, t, &t)) {
			if ((rc = sched_manual(s, j, t, INST_BACKFILL, now, &busy)) != 0)
				break;
			made++;
		}
		if (rc == 0 && made == 0) {
			rc = eng_errbuf_set(&e, ENG_EINVAL,
			    "backfill %s %s covers no cycle (the range is [FROM, TO))", w[1], w[2]);
			goto bad;
		}
		if (rc == 0) {
			(void)eng_errbuf_set(&e, 0, "%s: %d instance%s queued in cycle order%s",
			    line, made, made == 1 ? "" : "s",
			    busy > 0 ? " (running ones left alone)" : "");
			sched_log(s, job, NULL, j->def->tz, LOG_LVL_INFO, "ctl: %s", e.msg);
		}
	} else if (n == 1 && (strcmp(w[0], "pause") == 0 || strcmp(w[0], "resume") == 0)) {
		j->paused = strcmp(w[0], "pause") == 0;
		rc = sched_jobstate_save(s, j);
		if (rc == 0) {
			(void)eng_errbuf_set(&e, 0, "%s: %s", w[0], j->paused ?
			    "no instance is created or started until resume" :
			    "missed cycles are created now (catch-up)");
			sched_log(s, job, NULL, j->def->tz, LOG_LVL_INFO, "ctl: %s", e.msg);
		}
	} else {
		if (n >= 1 && (strcmp(w[0], "run") == 0 || strcmp(w[0], "backfill") == 0 ||
		    strcmp(w[0], "pause") == 0 || strcmp(w[0], "resume") == 0))
			rc = eng_errbuf_set(&e, ENG_EINVAL, "bad # args: usage: run [YYYYMMDDHHMMSS] | "
			    "backfill FROM TO [force] | pause | resume");
		else
			rc = eng_errbuf_set(&e, ENG_EINVAL, "unknown control message '%s' (job ctl "
			    "takes: run [YYYYMMDDHHMMSS], backfill FROM TO [force], pause, resume)",
			    n > 0 ? w[0] : "");
		goto bad;
	}
	pthread_mutex_unlock(&s->lock);
	if (rc != 0)
		return eng_errbuf_set(eb, rc, "%s: %s", line, eng_strerror(rc));
	(void)eng_errbuf_set(eb, 0, "%s", e.msg);	/* what was done, for ctl's reader */
	sched_wake(s);
	return 0;
bad:
	{
		struct sched_def *d = j->def;	/* j is defined on every path to bad */

		d->refs++;
		pthread_mutex_unlock(&s->lock);
		sched_log(s, job, NULL, d->tz, LOG_LVL_WARN, "ctl: refused '%s': %s", line, e.msg);
		sched_def_put(s, d);
	}
	eng_errbuf_set(eb, rc, "%s", e.msg);
	return rc;
}

