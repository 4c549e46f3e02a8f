/* SPDX-License-Identifier: MIT */
/*
 * sched_create.c - instance creation.
 *
 * sched_create makes one instance (a manual run, a backfill cycle) in one
 * transition, with the scheduler's lock held.  The cycles a job's
 * schedule makes due are created in batches instead (sched_create_due):
 * up to SCHED_CREATE_BATCH records are prepared under the lock, written in ONE
 * store transaction with the lock released, and then entered in the
 * pending list under the lock again.  So a catch-up of 100,000 cycles is
 * about 50 disk-synced commits rather than 100,000, and nothing that
 * takes the lock (the mount's lookups and status reads, ctl writes, runs
 * ending) waits for a commit of the batch.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched_i.h"

/* ---- one instance ------------------------------------------------------------- */

/* fill in as the record of cycle t of j (not yet stored) */
static int
sched_prepare(const struct sched_job *j, int64_t t, enum inst_state st,
    enum inst_trigger trig, const char *reason, int64_t now, struct inst *in)
{
	const struct conf_schedule *sch = conf_job_schedule(j->def->job);
	struct eng_errbuf eb = { "" };
	int rc;

	(void)snprintf(in->job, sizeof(in->job), "%s", j->name);
	if ((rc = cycle_id_format(t, j->def->tz, in->cycle)) != 0)
		return rc;
	in->state = st;
	in->cyctime = t;
	in->created_ms = now;
	in->trigger = trig;
	in->rerun_times = sch != NULL ? (int)sch->rerun_times : 0;
	in->rerun_interval_s = sch != NULL ? sch->rerun_interval_s : 0;
	(void)snprintf(in->reason, sizeof(in->reason), "%s", reason);
	if (st != INST_SKIPPED && sch != NULL && sch->nparams > 0 &&
	    param_resolve_all(sch->params, sch->nparams, j->def->tz, t, &in->params, &eb) != 0) {
		in->state = INST_FAILED;
		(void)snprintf(in->error, sizeof(in->error), "%s", eb.msg);
		(void)snprintf(in->reason, sizeof(in->reason),
		    "parameters cannot be resolved: %.200s", eb.msg);
	}
	return 0;
}

int
sched_create(struct sched *s, struct sched_job *j, int64_t t, enum inst_state st,
    enum inst_trigger trig, const char *reason, int64_t now)
{
	struct inst in;
	int rc;

	inst_init(&in);
	if ((rc = sched_prepare(j, t, st, trig, reason, now, &in)) == 0)
		rc = sched_transition(s, j->name, in.cycle, j->def->tz, NULL, &in, true, NULL);
	inst_free(&in);
	return rc;
}

/* ---- the cycles a schedule makes due, in batches ------------------------------ */

struct sched_batch {
	struct sched	*s;
	struct sched_job *j;		/* outlives the batch: only sched_step,
					   serialized by s->steplock, frees a job */
	const struct tz	*tz;		/* of def, referenced below */
	struct sched_def *def;		/* a reference (sched_def_unref) */
	struct inst	*v;		/* prepared records, in cycle order */
	bool		*made;		/* v[i] was written (not there already) */
	size_t		 n;
	int64_t		 last;		/* the cycle time of v[n - 1] */
	int64_t		 now_ms;
	struct sched_job js;		/* the job state as the batch leaves it */
};

static void
sched_batch_free(struct sched_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		inst_free(&b->v[i]);
	free(b->v);
	free(b->made);
	memset(b, 0, sizeof(*b));
}

/*
 * The batch's transaction: every record that is not in the store yet
 * (a ctl run or backfill may have made one meanwhile), its first log
 * line, the directory's mtime, and the job's last created cycle (read,
 * changed and written here, so a pause written meanwhile is kept).
 */
static int
sched_batch_fn(struct store_txn *txn, void *arg)
{
	struct sched_batch *b = arg;
	struct sched_jsload l = { &b->js, false };
	struct buf line;
	struct inst tmp;
	size_t i, made = 0;
	int rc = 0;

	buf_init(&line, BUF_MAX_SMALL);	/* a reason as \xHH at worst */
	for (i = 0; i < b->n && rc == 0; i++) {
		struct inst *in = &b->v[i];

		b->made[i] = false;
		inst_init(&tmp);
		rc = sched_inst_load(txn, in->job, in->cycle, &tmp);
		inst_free(&tmp);
		if (rc == 0)
			continue;		/* made meanwhile: left as it is */
		if (rc != -ENOENT)
			break;
		in->updated_ms = in->state_ms = in->created_ms;
		buf_truncate(&line, 0);
		if ((rc = sched_fmt_line(b->s, b->tz, LOG_LVL_INFO, in->reason, &line)) == 0 &&
		    (rc = sched_inst_save(txn, in, line.p)) == 0) {
			b->made[i] = true;
			made++;
		}
	}
	if (rc == 0 && made > 0)
		rc = sched_jdir_touch(txn, b->j->name, b->now_ms);
	if (rc == 0)
		rc = sched_jobstate_get_fn(txn, &l);
	if (rc == 0) {
		if (!b->js.has_last || b->js.last_cycle < b->last) {
			b->js.has_last = true;
			b->js.last_cycle = b->last;
		}
		rc = sched_jobstate_put_fn(txn, &(struct sched_jsarg){ &b->js });
	}
	buf_free(&line);
	return rc;
}

/*
 * Prepare the next batch of due cycles of j (lock held).  0 with b->n == 0
 * when none is due; *more: the batch is full and more may be due.
 */
static int
sched_batch_prepare(struct sched *s, struct sched_job *j, int64_t now, size_t limit,
    struct sched_batch *b, bool *more)
{
	const struct conf_schedule *sch = conf_job_schedule(j->def->job);
	int64_t t, nows = now / 1000;
	char why[160];
	int rc;

	*more = false;
	memset(b, 0, sizeof(*b));
	if (sch == NULL || limit == 0)
		return 0;
	if (j->has_last)
		rc = cycle_next(&sch->spec, j->def->tz, j->last_cycle, &t);
	else
		rc = cycle_next(&sch->spec, j->def->tz, j->defined_ms / 1000 - 1, &t);
	if (rc != 0 || t > nows)
		return rc;
	if (limit > SCHED_CREATE_BATCH)
		limit = SCHED_CREATE_BATCH;
	b->s = s;
	b->j = j;
	b->now_ms = now;
	if ((b->v = calloc(limit, sizeof(*b->v))) == NULL ||
	    (b->made = calloc(limit, sizeof(*b->made))) == NULL) {
		sched_batch_free(b);
		return -ENOMEM;
	}
	(void)snprintf(why, sizeof(why),
	    "skipped: the cycle is older than schedule.catchup (%llds) "
	    "when the scheduler reached it", (long long)sch->catchup_s);
	while (t <= nows && b->n < limit) {
		struct inst *in = &b->v[b->n];
		bool old = !sch->catchup_all && nows - t > sch->catchup_s;

		inst_init(in);
		b->n++;
		rc = sched_prepare(j, t, old ? INST_SKIPPED : INST_WAITING, INST_SCHEDULED,
		    old ? why : "created for its cycle time", now, in);
		if (rc != 0)
			break;
		if (old)	/* raised once for the batch, after its commit */
			in->alerts_fired |= sch->alert.events & CONF_ALERT_SKIPPED;
		b->last = t;
		if ((rc = cycle_next(&sch->spec, j->def->tz, t, &t)) != 0)
			break;
	}
	if (rc != 0) {
		sched_batch_free(b);
		return rc;
	}
	*more = t <= nows;
	b->def = j->def;
	b->def->refs++;
	b->tz = b->def->tz;
	b->js.name = j->name;
	b->js.has_last = j->has_last;
	b->js.last_cycle = j->last_cycle;
	b->js.paused = j->paused;
	b->js.defined_ms = j->defined_ms;
	return 0;
}

/* read back the records the batch made */
static int
sched_batch_reload_fn(struct store_txn *txn, void *arg)
{
	struct sched_batch *b = arg;
	struct inst tmp;
	size_t i;
	int rc;

	for (i = 0; i < b->n; i++) {
		if (!b->made[i])
			continue;
		inst_init(&tmp);
		rc = sched_inst_load(txn, b->v[i].job, b->v[i].cycle, &tmp);
		if (rc == 0) {
			inst_free(&b->v[i]);
			b->v[i] = tmp;
			continue;
		}
		inst_free(&tmp);
		if (rc != -ENOENT)
			return rc;
		b->made[i] = false;	/* removed meanwhile (rmdir of the history) */
	}
	return 0;
}

/*
 * After the batch's commit (lock held again): the job's last cycle, and
 * the pending list.  A transition made while the lock was released may
 * have moved a record on from what the batch wrote: then the records are
 * read back, so the pending list shows the store.
 */
static int
sched_batch_enter(struct sched *s, struct sched_batch *b, uint64_t trgen)
{
	struct sched_job *j = b->j;
	size_t i;
	int rc = 0, r;

	if (!j->has_last || j->last_cycle < b->last) {
		j->has_last = true;
		j->last_cycle = b->last;
	}
	if (s->trgen != trgen && (r = store_view(s->cfg.store, sched_batch_reload_fn, b)) != 0)
		return r;
	for (i = 0; i < b->n; i++) {
		if (!b->made[i])
			continue;
		sched_cnt_state(s, j->name, -1, (int)b->v[i].state);
		if ((r = sched_pend_sync(s, &b->v[i])) != 0 && rc == 0)
			rc = r;
	}
	return rc;
}

/*
 * SKIPPED cycles are loud: one WARN line in the job's log and one alert
 * (schedule.alert "skipped") for each batch that skipped any, naming the
 * range, so an outage of 10,000 cycles is one message, not 10,000.
 */
static void
sched_batch_skipped(struct sched *s, struct sched_batch *b)
{
	const struct conf_schedule *sch = conf_job_schedule(b->def->job);
	const struct inst *first = NULL, *last = NULL;
	char why[256];
	size_t i, n = 0;

	for (i = 0; i < b->n; i++)
		if (b->made[i] && b->v[i].state == INST_SKIPPED) {
			if (first == NULL)
				first = &b->v[i];
			last = &b->v[i];
			n++;
		}
	if (n == 0)
		return;
	(void)snprintf(why, sizeof(why), "%zu cycle%s from %s to %s SKIPPED: older than "
	    "schedule.catchup (%llds) when the scheduler reached them; 'backfill' runs them, "
	    "\"catchup\": \"all\" never skips", n, n == 1 ? "" : "s", first->cycle,
	    last->cycle, (long long)sch->catchup_s);
	sched_log(s, b->j->name, NULL, b->tz, LOG_LVL_WARN, "catch-up: %s", why);
	if ((first->alerts_fired & CONF_ALERT_SKIPPED) != 0)
		sched_alert_raise(s, b->def, first, CONF_ALERT_SKIPPED, why);
}

/*
 * sched_create_due - create every cycle that is due for j, catch-up
 * bounded by schedule.catchup and SCHED_MAX_CREATE.  Called by sched_step
 * with s->lock and s->steplock held; returns with s->lock held, but
 * releases it while each batch is written (j stays, see struct
 * sched_batch).  After a crash between a
 * batch's commit and the next, the cycles written are found to exist and
 * left alone, so nothing is lost or made twice.
 */
int
sched_create_due(struct sched *s, struct sched_job *j, int64_t now)
{
	struct sched_batch b;
	size_t total = 0, i;
	uint64_t trgen;
	bool more = true;
	int rc = 0, r;

	while (more && total < SCHED_MAX_CREATE && !s->stopping &&
	    j->removed_ms == 0 && !j->paused) {
		if ((rc = sched_batch_prepare(s, j, now, SCHED_MAX_CREATE - total, &b, &more)) != 0 ||
		    b.n == 0)
			break;
		total += b.n;
		trgen = s->trgen;
		pthread_mutex_unlock(&s->lock);
		rc = store_update(s->cfg.store, sched_batch_fn, &b);
		if (rc == 0 && s->cfg.notify != NULL)
			for (i = 0; i < b.n; i++)
				if (b.made[i])
					s->cfg.notify(s->cfg.notify_arg, j->name, b.v[i].cycle);
		pthread_mutex_lock(&s->lock);
		if (rc == 0 && (r = sched_batch_enter(s, &b, trgen)) != 0)
			rc = r;
		if (rc == 0)
			sched_batch_skipped(s, &b);
		sched_def_unref(b.def);
		sched_batch_free(&b);
		if (rc != 0)
			break;
	}
	return rc;
}
