/* SPDX-License-Identifier: MIT */
/*
 * sched_pick.c - which waiting instances start, and what the others wait
 * for.
 *
 * The pending list is sorted by job, so each job's waiting instances form
 * one run of it.  A step walks it once and finds, per job, the instances
 * that could start now (their time has come, their automatic rerun is
 * due, the previous cycle of a self-dependent job and the upstream
 * instances of schedule.dependsOn are SUCCESS, the job is not paused) up
 * to its schedule.maxConcurrent less what it runs already: scheduled and
 * manual instances before backfill ones, each in cycle order (a
 * self-dependent job only ever has its oldest).  Then workers are handed
 * out one per job per round: scheduled work before backfill, then higher
 * schedule.priority, then the job that got a worker longest ago.  So a
 * 5,000-instance backfill of one job delays another job's scheduled
 * instance by one run at most.
 *
 * Every instance that does not start gets the real reason.  For a job's
 * first waiting instance it is a transition (stored, one log line when it
 * changes); for the backlog behind it only the in-memory pending entry
 * changes (sched_instance_get shows it, with its time as the status
 * mtime), so a 100,000-instance backfill costs no store writes per step.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched_i.h"

#define SCHED_DEP_CHECKS	64	/* store lookups per job per step for dependencies */
#define SCHED_MAX_CAND		64	/* maxConcurrent's upper bound (conf) */

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

/*
 * A new waiting reason for p: stored and logged (persist), or only in
 * memory.  Nothing happens when it is the same.
 */
static void
sched_set_reason(struct sched *s, struct sched_pend *p, const struct tz *tz, const char *text,
    bool persist, int64_t now)
{
	struct sched_reason a = { text };

	if (strcmp(p->reason, text) == 0)
		return;
	if (persist) {
		(void)sched_transition(s, p->job, p->cycle, tz, sched_mut_reason, &a, false, NULL);
		return;
	}
	(void)snprintf(p->reason, sizeof(p->reason), "%s", text);
	p->reason_ms = now;
	if (s->cfg.notify != NULL)
		s->cfg.notify(s->cfg.notify_arg, p->job, p->cycle);
}

/* ---- self-dependency: the previous cycle in the store ------------------------- */

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

/* ---- one job's candidates ------------------------------------------------------- */

struct sched_cand {
	struct sched_job *j;
	struct sched_pend *v[SCHED_MAX_CAND];	/* in the order they should start */
	int		 n, next;
	bool		 backfill;		/* v[next] is a backfill instance */
};

static bool
sched_is_backfill(const struct sched_pend *p)
{
	return p->trigger == INST_BACKFILL;
}

/*
 * Whether p may start now; when not, why (0: may; 1: waits).  Store reads
 * for dependencies are counted in *checks.
 */
static int
sched_may_start(struct sched *s, struct sched_job *j, struct sched_pend *p, int64_t now,
    int *checks, char *why, size_t whysz)
{
	const struct conf_schedule *sch = conf_job_schedule(j->def->job);
	char iso[48];

	if (p->state == INST_FROZEN) {
		(void)snprintf(why, whysz, "frozen through ctl");
		return 1;
	}
	if (p->state == INST_RETRY_WAIT && now < p->next_try_ms)
		return 2;	/* its reason says when */
	if (p->trigger == INST_SCHEDULED && p->cyctime * 1000 > now) {
		if (inst_iso(p->cyctime * 1000, j->def->tz, iso, sizeof(iso)) != 0)
			iso[0] = '\0';
		(void)snprintf(why, whysz, "waiting for its cycle time %s", iso);
		return 1;
	}
	if (sch != NULL && sch->ndeps > 0) {
		int rc;

		if (*checks >= SCHED_DEP_CHECKS)
			return 2;	/* looked at in a later step */
		(*checks)++;
		if ((rc = sched_dep_wait(s, j, p->cyctime, why, whysz)) != 0)
			return rc < 0 ? 2 : 1;
	}
	return 0;
}

/*
 * Walk job j's run of the pending list from *pp; leaves *pp at the next
 * job's first entry.  Fills c with what may start; gives the rest their
 * reasons.
 */
static void
sched_job_cands(struct sched *s, struct sched_job *j, struct sched_pend **pp, int64_t now,
    struct sched_cand *c)
{
	const struct conf_schedule *sch = conf_job_schedule(j->def->job);
	struct sched_pend *first = *pp, *p, *end;
	const char *name = first->job;
	int cap = sch != NULL ? sch->max_concurrent : 1, checks = 0, pass, rc;
	bool selfdep = sch != NULL && sch->self_dependent, head = true;
	char why[256];

	memset(c, 0, sizeof(*c));
	c->j = j;
	for (end = first; end != NULL && strcmp(end->job, name) == 0; end = end->next)
		;
	*pp = end;
	if (cap < 1)
		cap = 1;
	if (j->paused) {
		for (p = first; p != end; p = p->next, head = false)
			if (p->state != INST_RUNNING && p->state != INST_FROZEN)
				sched_set_reason(s, p, j->def->tz, "waiting: the job is paused "
				    "(ctl resume)", head, now);
		return;
	}
	if (selfdep) {
		struct sched_prev pv = { "", INST_WAITING, false };
		struct sched_prevq q = { name, NULL, &pv };

		for (p = first; p != end && p->state == INST_RUNNING; p = p->next)
			;
		if (p == end)
			return;
		q.cycle = p->cycle;
		/* the oldest waiting one is the only one that may start */
		if (store_view(s->cfg.store, sched_prev_fn, &q) != 0)
			return;
		if (j->nrun > 0) {
			(void)snprintf(why, sizeof(why), "waiting: an earlier instance of this "
			    "self-dependent job is running");
			rc = 1;
		} else if (pv.found && pv.state != INST_SUCCESS && pv.state != INST_SKIPPED) {
			(void)snprintf(why, sizeof(why), "waiting for the previous cycle %s (%s): the "
			    "job is self-dependent", pv.cycle, inst_state_name(pv.state));
			rc = 1;
		} else {
			rc = sched_may_start(s, j, p, now, &checks, why, sizeof(why));
		}
		if (rc == 0)
			c->v[c->n++] = p;
		else if (rc == 1)
			sched_set_reason(s, p, j->def->tz, why, true, now);
		(void)snprintf(why, sizeof(why), "waiting for the previous cycle %s: the job is "
		    "self-dependent", p->cycle);
		for (p = p->next; p != end; p = p->next)
			if (p->state == INST_WAITING)
				sched_set_reason(s, p, j->def->tz, why, false, now);
		return;
	}
	/* scheduled and manual instances first, then backfill ones */
	for (pass = 0; pass < 2; pass++) {
		for (p = first; p != end; p = p->next) {
			if (p->state == INST_RUNNING || sched_is_backfill(p) != (pass == 1))
				continue;
			rc = sched_may_start(s, j, p, now, &checks, why, sizeof(why));
			if (rc == 0 && c->n < cap - j->nrun) {
				c->v[c->n++] = p;
				continue;
			}
			if (rc == 0)	/* its turn comes after those that start first */
				(void)snprintf(why, sizeof(why), "waiting behind earlier instances of "
				    "this job: schedule.maxConcurrent (%d) of them run at a time", cap);
			if (rc != 2)
				sched_set_reason(s, p, j->def->tz, why, p == first, now);
		}
	}
	c->backfill = c->n > 0 && sched_is_backfill(c->v[0]);
}

/* the better of two jobs to get the next worker */
static bool
sched_cand_before(const struct sched_cand *a, const struct sched_cand *b)
{
	int pa = conf_job_schedule(a->j->def->job) != NULL ?
	    conf_job_schedule(a->j->def->job)->priority : 1;
	int pb = conf_job_schedule(b->j->def->job) != NULL ?
	    conf_job_schedule(b->j->def->job)->priority : 1;

	if (a->backfill != b->backfill)
		return !a->backfill;
	if (pa != pb)
		return pa > pb;
	return a->j->rr_seq < b->j->rr_seq;
}

/* ---- timeouts ------------------------------------------------------------------ */

static void
sched_check_timeouts(struct sched *s, int64_t now)
{
	struct sched_run *r;

	for (r = s->running; r != NULL; r = r->next) {
		if (r->timeout_ms <= 0 || r->why != SCHED_WHY_NONE ||
		    now - r->started_ms < r->timeout_ms)
			continue;
		r->why = SCHED_WHY_TIMEOUT;
		atomic_store(&r->cancel, 1);
		sched_log(s, r->job, r->cycle, r->def->tz, LOG_LVL_WARN, "timeout after %lld s "
		    "(schedule.timeoutSeconds): stopping attempt %d", (long long)(r->timeout_ms / 1000),
		    r->attempt);
	}
}

/* ---- the step's part ------------------------------------------------------------- */

void
sched_start_runnable(struct sched *s, int64_t now)
{
	struct sched_cand *cv = NULL, *nv;
	struct sched_pend *p;
	struct sched_job *j;
	struct sched_run *r;
	size_t n = 0, cap = 0, i, best;
	char why[256];

	sched_check_timeouts(s, now);
	for (j = s->jobs; j != NULL; j = j->next)
		j->nrun = 0;
	for (r = s->running; r != NULL; r = r->next)
		if ((j = sched_find(s, r->job)) != NULL)
			j->nrun++;
	for (p = s->pending; p != NULL && !s->stopping;) {
		j = sched_find(s, p->job);
		if (j == NULL || j->def == NULL) {
			const char *name = p->job;

			/* the history of a job that is not defined */
			while (p != NULL && strcmp(p->job, name) == 0)
				p = p->next;
			continue;
		}
		if (n == cap) {
			if ((nv = realloc(cv, (cap * 2 + 16) * sizeof(*cv))) == NULL)
				break;
			cv = nv;
			cap = cap * 2 + 16;
		}
		sched_job_cands(s, j, &p, now, &cv[n]);
		if (cv[n].n > 0)
			n++;
	}
	/* workers, one per job per round */
	while (n > 0 && !s->stopping && s->nrunning < s->cfg.workers) {
		for (best = 0, i = 1; i < n; i++)
			if (sched_cand_before(&cv[i], &cv[best]))
				best = i;
		p = cv[best].v[cv[best].next++];
		if (sched_start_run(s, cv[best].j, p, now) != 0)
			log_warnx("cannot start %s/%s", p->job, p->cycle);
		cv[best].j->rr_seq = ++s->rr_next;
		if (cv[best].next == cv[best].n)
			cv[best] = cv[--n];
		else
			cv[best].backfill = sched_is_backfill(cv[best].v[cv[best].next]);
	}
	/* what could start but found no worker */
	(void)snprintf(why, sizeof(why), "waiting for a free worker (all %d busy; --workers)",
	    s->cfg.workers);
	for (i = 0; i < n; i++)
		for (; cv[i].next < cv[i].n; cv[i].next++)
			sched_set_reason(s, cv[i].v[cv[i].next], cv[i].j->def->tz, why,
			    cv[i].next == 0, now);
	free(cv);
}
