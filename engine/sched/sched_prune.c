/* SPDX-License-Identifier: MIT */
/*
 * sched_prune.c - retention: schedule.keepInstances and schedule.keepDays.
 *
 * Per defined job, the final instances (SUCCESS, FAILED, KILLED, SKIPPED)
 * beyond the newest keepInstances final ones, or finished more than
 * keepDays ago, are removed with their logs and ctl results; the job's
 * newest SUCCESS is always kept (it is what "when did this last work"
 * needs), and checkpoints (STORE_DB_CHECKPOINTS) are never touched.
 * LMDB puts the freed pages on its freelist, so under steady cycles the
 * file stops growing once the kept window is full.
 *
 * Cost: a pass looks at records newest first only until the
 * keepInstances-th final one (or, for keepDays alone, until the newest
 * SUCCESS or the first record that may be old enough), then at the
 * candidates oldest first.  Keys are "JOB\0CYCLE" with the cycle in the
 * job's zone, so the age rule needs only the records whose cycle id is
 * below the cut-off's (plus SCHED_PRUNE_MARGIN_S for a changed zone): an
 * instance cannot finish before its cycle time.  A job of 43,200 1-minute
 * cycles (keepDays 30) therefore decodes a handful of records a minute,
 * not 43,200.
 *
 * Locking: sched_prune runs inside sched_step (s->steplock held, so no
 * job is freed) with s->lock held, and releases s->lock while it reads
 * and while each transaction of at most SCHED_PRUNE_TXN deletions runs.
 * A record that changed meanwhile (a rerun) is left alone; if the newest
 * SUCCESS changed, the pass stops and the next one decides again.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched_i.h"

#define SCHED_PRUNE_TXN		200	/* deletions per transaction */
#define SCHED_PRUNE_CALL	2000	/* deletions per sched_prune call */
#define SCHED_PRUNE_PERIOD_MS	60000	/* a pass per job at most this often */
#define SCHED_PRUNE_MARGIN_S	(2 * 86400)
#define SCHED_PRUNE_LOG_MS	3600000	/* a retention line per job at most this often */

/* ---- removing one instance (shared with the mount's rmdir) --------------------- */

int
sched_ctl_key(const char *job, const char *cycle, char *key, size_t ksz, size_t *klen)
{
	int n = snprintf(key, ksz, "ctl%c%s%c%s", '\0', job, '\0', cycle != NULL ? cycle : "");

	if (n < 0 || (size_t)n >= ksz || (size_t)n > STORE_KEY_MAX)
		return -ENAMETOOLONG;
	*klen = (size_t)n;
	return 0;
}

int
sched_inst_delete(struct store_txn *txn, const char *job, const char *cycle)
{
	char key[STORE_KEY_MAX + 1];
	size_t klen;
	int rc;

	if ((rc = store_key_instance(key, sizeof(key), job, cycle, &klen)) != 0 ||
	    (rc = store_del(txn, STORE_DB_INSTANCES, key, klen)) != 0 ||
	    (rc = store_log_delete(txn, key, klen)) != 0)
		return rc;
	if ((rc = sched_ctl_key(job, cycle, key, sizeof(key), &klen)) != 0)
		return rc;
	rc = store_del(txn, STORE_DB_META, key, klen);
	return rc == -ENOENT ? 0 : rc;
}

/* ---- choosing ------------------------------------------------------------------ */

struct prune_cand {
	char		 cycle[16];
	enum inst_state	 state;
	int64_t		 state_ms;	/* unchanged since chosen, or left alone */
	bool		 by_count;	/* beyond keepInstances (else: too old) */
	bool		 done;		/* deleted by the committed transaction */
};

struct prune_pass {
	const char	*job;
	size_t		 plen;		/* "JOB\0" */
	int64_t		 keep;		/* keepInstances, 0: no count limit */
	bool		 has_age;
	int64_t		 cutoff_ms;	/* finished before: too old */
	char		 agekey[16];	/* cycles >= this one cannot be too old */
	/* newest first */
	int64_t		 nfinal;
	bool		 has_bound;
	char		 bound[16];	/* the keep-th newest final: older ones go */
	bool		 has_succ;	/* the newest SUCCESS (kept) */
	struct prune_cand succ;
	char		 end[16];	/* candidates are below this cycle ("": none) */
	/* oldest first */
	struct prune_cand *v;
	size_t		 n, max;
	bool		 full;
	bool		 seen_succ;	/* a SUCCESS among the oldest-first records */
	size_t		 last_succ;	/* ... in v at this index (SIZE_MAX: not in v) */
	int64_t		 now_ms;
	size_t		 deleted, by_count, by_age;
};

static int64_t
prune_age_ms(const struct inst *in)
{
	if (in->finished_ms > 0)
		return in->finished_ms;
	return in->state_ms > 0 ? in->state_ms : in->created_ms;
}

/* the cycle of an instance key, or NULL */
static const char *
prune_cycle(const struct prune_pass *p, const void *key, size_t klen, char out[16])
{
	if (klen != p->plen + STORE_CYCLE_LEN)
		return NULL;
	memcpy(out, (const char *)key + p->plen, STORE_CYCLE_LEN);
	out[STORE_CYCLE_LEN] = '\0';
	return out;
}

/* newest first: the count bound and the newest SUCCESS */
static int
prune_newest_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct prune_pass *p = arg;
	char cyc[16];
	struct inst in;
	bool final;
	int rc;

	if (prune_cycle(p, key, klen, cyc) == NULL)
		return 0;
	inst_init(&in);
	rc = inst_decode(val, vlen, &in);
	final = rc == 0 && inst_state_terminal(in.state);
	if (final) {
		p->nfinal++;
		if (!p->has_succ && in.state == INST_SUCCESS) {
			p->has_succ = true;
			(void)snprintf(p->succ.cycle, sizeof(p->succ.cycle), "%s", cyc);
			p->succ.state = in.state;
			p->succ.state_ms = in.state_ms;
		}
		if (p->keep > 0 && p->nfinal == p->keep) {
			p->has_bound = true;
			(void)snprintf(p->bound, sizeof(p->bound), "%s", cyc);
		}
	}
	inst_free(&in);
	if (rc == ENG_ECORRUPT)
		return 0;	/* not ours to judge: left alone */
	if (rc != 0)
		return rc;
	/* everything older is a candidate region: the oldest-first walk decides */
	if (p->keep > 0)
		return p->has_bound ? 1 : 0;
	return p->has_succ || strcmp(cyc, p->agekey) < 0 ? 1 : 0;
}

/* oldest first, below p->end: the candidates */
static int
prune_oldest_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct prune_pass *p = arg;
	struct prune_cand *c;
	char cyc[16];
	struct inst in;
	bool count, age;
	int rc;

	if (prune_cycle(p, key, klen, cyc) == NULL)
		return 0;
	if (strcmp(cyc, p->end) >= 0)
		return 1;
	inst_init(&in);
	if ((rc = inst_decode(val, vlen, &in)) != 0) {
		inst_free(&in);
		return rc == ENG_ECORRUPT ? 0 : rc;
	}
	if (!inst_state_terminal(in.state) ||
	    (p->has_succ && strcmp(cyc, p->succ.cycle) == 0)) {
		inst_free(&in);
		return 0;
	}
	if (in.state == INST_SUCCESS && !p->has_succ) {
		p->seen_succ = true;
		p->last_succ = SIZE_MAX;
	}
	count = p->has_bound && strcmp(cyc, p->bound) < 0;
	age = p->has_age && prune_age_ms(&in) < p->cutoff_ms;
	if (count || age) {
		if (p->n == p->max) {
			inst_free(&in);
			p->full = true;
			return 1;
		}
		c = &p->v[p->n];
		memset(c, 0, sizeof(*c));
		(void)snprintf(c->cycle, sizeof(c->cycle), "%s", cyc);
		c->state = in.state;
		c->state_ms = in.state_ms;
		c->by_count = count;
		if (in.state == INST_SUCCESS && !p->has_succ)
			p->last_succ = p->n;
		p->n++;
	}
	inst_free(&in);
	return 0;
}

static int
prune_choose_fn(struct store_txn *txn, void *arg)
{
	struct prune_pass *p = arg;
	char pfx[STORE_KEY_MAX + 1];
	int rc;

	memcpy(pfx, p->job, p->plen);
	if ((rc = store_iter(txn, STORE_DB_INSTANCES, pfx, p->plen, NULL, 0, STORE_ITER_REVERSE,
	    prune_newest_cb, p)) != 0)
		return rc;
	/* candidates lie below the larger of the two bounds */
	p->end[0] = '\0';
	if (p->has_bound)
		(void)snprintf(p->end, sizeof(p->end), "%s", p->bound);
	if (p->has_age && strcmp(p->agekey, p->end) > 0)
		(void)snprintf(p->end, sizeof(p->end), "%s", p->agekey);
	if (p->end[0] == '\0')
		return 0;
	if ((rc = store_iter(txn, STORE_DB_INSTANCES, pfx, p->plen, NULL, 0, 0,
	    prune_oldest_cb, p)) != 0)
		return rc;
	/*
	 * No SUCCESS was newer than the candidates: the newest one is the
	 * last SUCCESS the walk saw, when it saw them all.  When it stopped
	 * at the limit, a later SUCCESS may or may not exist: keep the last
	 * one seen this time (the next pass decides again).
	 */
	if (p->seen_succ && p->last_succ != SIZE_MAX)
		p->v[p->last_succ].cycle[0] = '\0';
	return 0;
}

/* ---- deleting -------------------------------------------------------------------- */

struct prune_txn {
	struct prune_pass *p;
	size_t		 from, to;	/* p->v[from..to) */
	size_t		 deleted;
};

static int
prune_del_fn(struct store_txn *txn, void *arg)
{
	struct prune_txn *t = arg;
	struct prune_pass *p = t->p;
	struct inst in;
	size_t i;
	int rc = 0;

	t->deleted = 0;
	for (i = t->from; i < t->to; i++)
		p->v[i].done = false;
	/* the SUCCESS kept must still be the one chosen against */
	if (p->has_succ) {
		inst_init(&in);
		rc = sched_inst_load(txn, p->job, p->succ.cycle, &in);
		if (rc == 0 && (in.state != INST_SUCCESS || in.state_ms != p->succ.state_ms))
			rc = ENG_ESTATE;
		inst_free(&in);
		if (rc != 0)
			return rc == -ENOENT ? ENG_ESTATE : rc;
	}
	for (i = t->from; i < t->to && rc == 0; i++) {
		struct prune_cand *c = &p->v[i];

		if (c->cycle[0] == '\0')
			continue;
		inst_init(&in);
		rc = sched_inst_load(txn, p->job, c->cycle, &in);
		if (rc == 0 && in.state == c->state && in.state_ms == c->state_ms &&
		    (rc = sched_inst_delete(txn, p->job, c->cycle)) == 0) {
			c->done = true;
			t->deleted++;
		}
		inst_free(&in);
		if (rc == -ENOENT || rc == ENG_ECORRUPT)
			rc = 0;		/* gone meanwhile, or not ours to judge */
	}
	if (rc == 0 && t->deleted > 0)
		rc = sched_jdir_touch(txn, p->job, p->now_ms);	/* entries went */
	return rc;
}

/*
 * The job log line of retention.  The job log is append-only and never
 * pruned itself, so a line per pass (one a minute under 1-minute cycles)
 * would make it the part of the store that grows without bound: the
 * passes of up to an hour share one line.
 */
static void
prune_log(struct sched *s, struct sched_job *j, const struct conf_schedule *sch,
    const struct tz *tz, const char *iso, int64_t now)
{
	int64_t nc = j->prune_unlogged[0], na = j->prune_unlogged[1];
	char why[400];
	int n = 0;

	if (nc + na == 0 || (j->prune_log_ms != 0 && now - j->prune_log_ms < SCHED_PRUNE_LOG_MS))
		return;
	why[0] = '\0';
	if (nc > 0)
		n = snprintf(why, sizeof(why), "%" PRId64 " beyond keepInstances=%" PRId64,
		    nc, sch->keep_instances);
	if (na > 0 && n >= 0 && (size_t)n < sizeof(why))
		(void)snprintf(why + n, sizeof(why) - (size_t)n,
		    "%s%" PRId64 " older than keepDays=%" PRId64 " (finished before %s)",
		    n > 0 ? ", " : "", na, sch->keep_days, iso);
	sched_log(s, j->name, NULL, tz, LOG_LVL_INFO,
	    "retention: removed %" PRId64 " instance%s with their logs: %s", nc + na,
	    nc + na == 1 ? "" : "s", why);
	j->prune_log_ms = now;
	j->prune_unlogged[0] = j->prune_unlogged[1] = 0;
}

/* one pass over job j (s->lock held; released meanwhile) */
static int
prune_job(struct sched *s, struct sched_job *j, const struct conf_schedule *sch,
    int64_t now, size_t budget, size_t *deleted)
{
	struct sched_def *def = j->def;
	struct prune_pass p;
	struct prune_txn t;
	char iso[64] = "";
	size_t i;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	p.job = j->name;
	p.plen = strlen(j->name) + 1;
	p.keep = sch->keep_instances > 0 ? sch->keep_instances : 0;
	p.now_ms = now;
	p.max = budget;
	p.last_succ = SIZE_MAX;
	if (sch->keep_days > 0 && sch->keep_days < INT64_MAX / 86400000 / 2) {
		int64_t cut_s;

		p.has_age = true;
		p.cutoff_ms = now - sch->keep_days * 86400000;
		cut_s = p.cutoff_ms / 1000 + SCHED_PRUNE_MARGIN_S;
		if (cycle_id_format(cut_s, def->tz, p.agekey) != 0)
			p.has_age = false;
		(void)inst_iso(p.cutoff_ms, def->tz, iso, sizeof(iso));
	}
	*deleted = 0;
	if ((p.keep == 0 && !p.has_age) || p.plen > STORE_KEY_MAX)
		return 0;
	if ((p.v = calloc(budget, sizeof(*p.v))) == NULL)
		return -ENOMEM;
	def->refs++;		/* its zone is used while the lock is released */
	pthread_mutex_unlock(&s->lock);
	rc = store_view(s->cfg.store, prune_choose_fn, &p);
	for (i = 0; rc == 0 && i < p.n; i += SCHED_PRUNE_TXN) {
		size_t k;

		t.p = &p;
		t.from = i;
		t.to = i + SCHED_PRUNE_TXN < p.n ? i + SCHED_PRUNE_TXN : p.n;
		if ((rc = store_update(s->cfg.store, prune_del_fn, &t)) != 0)
			break;
		for (k = t.from; k < t.to; k++) {
			if (!p.v[k].done)
				continue;
			p.deleted++;
			if (p.v[k].by_count)
				p.by_count++;
			else
				p.by_age++;
			if (s->cfg.notify != NULL)
				s->cfg.notify(s->cfg.notify_arg, j->name, p.v[k].cycle);
		}
	}
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < p.n; i++)
		if (p.v[i].done)
			sched_cnt_state(s, j->name, (int)p.v[i].state, -1);
	if (rc == ENG_ESTATE)
		rc = 0;		/* the newest SUCCESS moved: decided again next time */
	j->prune_unlogged[0] += (int64_t)p.by_count;
	j->prune_unlogged[1] += (int64_t)p.by_age;
	prune_log(s, j, sch, def->tz, iso, now);
	if (rc != 0)
		sched_log(s, j->name, NULL, def->tz, LOG_LVL_WARN,
		    "retention: cannot remove old instances: %s", eng_strerror(rc));
	sched_def_unref(def);
	free(p.v);
	*deleted = p.deleted;
	/* a pass cut short by the limit goes on at the next step */
	if (p.full && rc == 0)
		j->prune_next_ms = now;
	return rc;
}

int
sched_prune(struct sched *s, int64_t now)
{
	struct sched_job *j;
	size_t total = 0, n;
	int rc = 0, r;

	for (j = s->jobs; j != NULL && total < SCHED_PRUNE_CALL && !s->stopping; j = j->next) {
		const struct conf_schedule *sch;

		if (j->removed_ms != 0 || j->def == NULL || now < j->prune_next_ms)
			continue;
		if ((sch = conf_job_schedule(j->def->job)) == NULL)
			continue;
		j->prune_next_ms = now + SCHED_PRUNE_PERIOD_MS;
		r = prune_job(s, j, sch, now, SCHED_PRUNE_CALL - total, &n);
		total += n;
		if (r != 0) {
			log_warnx("job %s: retention: %s", j->name, eng_strerror(r));
			if (rc == 0)
				rc = r;
		}
	}
	return rc;
}
