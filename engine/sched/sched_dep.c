/* SPDX-License-Identifier: MIT */
/*
 * sched_dep.c - dependencies between jobs (schedule.dependsOn).
 *
 * An instance of job D at cycle time t that depends on job U waits for ONE
 * instance of U, its target:
 *   "same"    U's instance at the same time t when t is a cycle time of U;
 *   otherwise (and for "latest") DataWorks' rule for jobs of different
 *             periods: U's newest cycle time at or before t.
 * The target must be SUCCESS (or SKIPPED: a skipped cycle raised its own
 * alert, and blocking every later one on it would make an outage stall a
 * whole chain; the same rule as self-dependency).  A target before U was
 * first defined never existed and does not hold D back.
 *
 * "rerun descendants" walks the same relation the other way: the
 * instances of every job depending on U whose target is the rerun one,
 * then theirs, breadth first.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched_i.h"

#define SCHED_DESC_MAX	10000	/* instances one "rerun descendants" may rerun */

int
sched_cycle_floor(const struct conf_schedule *sch, const struct tz *tz, int64_t t, int64_t *out)
{
	/* look back one cycle, then a day, then three (daily jobs, windows) */
	const int64_t back[] = { sch->cycle_s + 1, 86400 + sch->cycle_s, 3 * 86400 };
	int64_t c, nx, best;
	size_t i;

	for (i = 0; i < sizeof(back) / sizeof(back[0]); i++) {
		best = -1;
		for (c = t - back[i]; cycle_next(&sch->spec, tz, c, &nx) == 0 && nx <= t; c = nx)
			best = nx;
		if (best >= 0) {
			*out = best;
			return 0;
		}
	}
	return -ENOENT;
}

/* the cycle time of U's instance that D's instance at t waits for */
static int
sched_dep_target(const struct conf_dep *dep, const struct sched_job *u, int64_t t,
    int64_t *target)
{
	const struct conf_schedule *su = conf_job_schedule(u->def->job);

	if (su == NULL)
		return -ENOENT;	/* runs only when asked: nothing to wait for */
	if (dep->cycle == CONF_DEP_SAME && cycle_is_cycle(&su->spec, u->def->tz, t)) {
		*target = t;
		return 0;
	}
	return sched_cycle_floor(su, u->def->tz, t, target);
}

struct sched_depq {
	const char	*job;
	const char	*cycle;
	struct inst	*in;
};

static int
sched_depq_fn(struct store_txn *txn, void *arg)
{
	struct sched_depq *q = arg;

	return sched_inst_load(txn, q->job, q->cycle, q->in);
}

int
sched_dep_wait(struct sched *s, const struct sched_job *j, int64_t t, char *why, size_t whysz)
{
	const struct conf_schedule *sch = conf_job_schedule(j->def->job);
	size_t i;

	for (i = 0; sch != NULL && i < sch->ndeps; i++) {
		const struct conf_dep *dep = &sch->deps[i];
		struct sched_job *u = sched_find(s, dep->job);
		struct sched_depq q;
		struct inst in;
		char cyc[16];
		int64_t target;
		int rc;

		if (u == NULL || u->def == NULL) {
			(void)snprintf(why, whysz, "waiting for upstream job %s: it is not defined "
			    "(schedule.dependsOn)", dep->job);
			return 1;
		}
		if (sched_dep_target(dep, u, t, &target) != 0)
			continue;
		if ((rc = cycle_id_format(target, u->def->tz, cyc)) != 0)
			return rc;
		inst_init(&in);
		q.job = u->name;
		q.cycle = cyc;
		q.in = &in;
		rc = store_view(s->cfg.store, sched_depq_fn, &q);
		if (rc == -ENOENT && target < u->defined_ms / 1000) {
			inst_free(&in);
			continue;	/* before the upstream existed: never made */
		}
		if (rc == -ENOENT) {
			inst_free(&in);
			(void)snprintf(why, whysz, "waiting for upstream job %s: its instance %s is not "
			    "created yet", u->name, cyc);
			return 1;
		}
		if (rc != 0) {
			inst_free(&in);
			return rc;
		}
		if (in.state != INST_SUCCESS && in.state != INST_SKIPPED) {
			(void)snprintf(why, whysz, "waiting for upstream job %s: its instance %s is %s",
			    u->name, cyc, inst_state_name(in.state));
			inst_free(&in);
			return 1;
		}
		inst_free(&in);
	}
	return 0;
}

/* ---- rerun descendants ---------------------------------------------------------- */

struct sched_desc {
	char		 job[256];
	int64_t		 t;
};

/* already rerun (a diamond reaches an instance twice) */
static bool
sched_desc_seen(const struct sched_desc *q, size_t n, const char *job, int64_t t)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (q[i].t == t && strcmp(q[i].job, job) == 0)
			return true;
	return false;
}

/* lock held */
int
sched_rerun_descendants(struct sched *s, const char *job, const char *cycle, int *reran,
    int *running, struct eng_errbuf *eb)
{
	struct sched_desc *q = NULL;
	size_t nq = 0, head = 0, cap = 0;
	struct sched_job *u, *d;
	char why[400], cyc[16];
	int64_t t, nx, target;
	int rc = 0;

	*reran = *running = 0;
	if ((u = sched_find(s, job)) == NULL || u->def == NULL)
		return eng_errbuf_set(eb, -ENOENT, "job %s is not defined", job);
	if ((rc = cycle_id_parse(cycle, strlen(cycle), u->def->tz, &t, eb)) != 0)
		return rc;
	if ((q = malloc(64 * sizeof(*q))) == NULL)
		return -ENOMEM;
	cap = 64;
	(void)snprintf(q[0].job, sizeof(q[0].job), "%s", job);
	q[0].t = t;
	nq = 1;
	while (head < nq && rc == 0) {
		struct sched_desc cur = q[head++];

		if ((u = sched_find(s, cur.job)) == NULL || u->def == NULL ||
		    conf_job_schedule(u->def->job) == NULL)
			continue;
		/* the next upstream cycle bounds the downstream cycles that wait for cur */
		if (cycle_next(&conf_job_schedule(u->def->job)->spec, u->def->tz, cur.t, &nx) != 0)
			continue;
		for (d = s->jobs; d != NULL && rc == 0; d = d->next) {
			const struct conf_schedule *sd;
			size_t i;

			if (d->def == NULL || d->removed_ms != 0 ||
			    (sd = conf_job_schedule(d->def->job)) == NULL)
				continue;
			for (i = 0; i < sd->ndeps && rc == 0; i++) {
				int64_t c;
				int k = 0;

				if (strcmp(sd->deps[i].job, cur.job) != 0)
					continue;
				for (c = cur.t - 1; rc == 0 && k < 1000 &&
				    cycle_next(&sd->spec, d->def->tz, c, &c) == 0 && c < nx; k++) {
					if (sched_dep_target(&sd->deps[i], u, c, &target) != 0 ||
					    target != cur.t || cycle_id_format(c, d->def->tz, cyc) != 0 ||
					    sched_desc_seen(q, nq, d->name, c))
						continue;
					(void)snprintf(why, sizeof(why), "rerun as a descendant of %s/%s "
					    "(rerun descendants through ctl)", job, cycle);
					rc = sched_transition(s, d->name, cyc, d->def->tz,
					    sched_mut_rerun, why, false, NULL);
					if (rc == -ENOENT) {
						rc = 0;	/* never created: nothing to rerun */
						continue;
					}
					if (rc == ENG_ESTATE) {
						(*running)++;
						rc = 0;
						continue;
					}
					if (rc != 0)
						break;
					(*reran)++;
					if (nq == SCHED_DESC_MAX)
						continue;
					if (nq == cap) {
						struct sched_desc *nv = realloc(q, cap * 2 * sizeof(*q));

						if (nv == NULL) {
							rc = -ENOMEM;
							break;
						}
						q = nv;
						cap *= 2;
					}
					(void)snprintf(q[nq].job, sizeof(q[nq].job), "%s", d->name);
					q[nq].t = c;
					nq++;
				}
			}
		}
	}
	free(q);
	return rc;
}
