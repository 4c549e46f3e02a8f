/* SPDX-License-Identifier: MIT */
/*
 * sched_metrics.c - the figures behind MOUNT/metrics: per job (by name, so
 * they outlive a redefinition and cover a job's history) the instances in
 * each state, kept exact by counting every record at load and every
 * transition after, and counters of what attempts and alerts did since
 * the daemon started.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched_i.h"

const double sched_dur_bounds[SCHED_DUR_NBUCKETS] = {
	1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600
};

static uint32_t
sched_cnt_hash(const char *name)
{
	uint32_t h = 2166136261u;

	while (*name != '\0')
		h = (h ^ (unsigned char)*name++) * 16777619u;
	return h % SCHED_CNT_BUCKETS;
}

/* the counters of job `name`, made when absent (NULL: out of memory); lock held */
struct sched_cnt *
sched_cnt_get(struct sched *s, const char *name)
{
	uint32_t h = sched_cnt_hash(name);
	struct sched_cnt *c;

	for (c = s->cnt_hash[h]; c != NULL; c = c->hnext)
		if (strcmp(c->m.name, name) == 0)
			return c;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	(void)snprintf(c->m.name, sizeof(c->m.name), "%s", name);
	c->hnext = s->cnt_hash[h];
	s->cnt_hash[h] = c;
	return c;
}

void
sched_cnt_state(struct sched *s, const char *job, int was, int now)
{
	struct sched_cnt *c;

	if (was == now || (c = sched_cnt_get(s, job)) == NULL)
		return;
	if (was >= 0 && was < INST_NSTATES && c->m.by_state[was] > 0)
		c->m.by_state[was]--;
	if (now >= 0 && now < INST_NSTATES) {
		c->m.by_state[now]++;
		if (now == INST_SKIPPED && was != -2)
			c->m.skipped_total++;
	}
}

void
sched_cnt_attempt(struct sched *s, const struct inst *in, bool failed, bool timeout)
{
	struct sched_cnt *c;
	double d;
	int i;

	if ((c = sched_cnt_get(s, in->job)) == NULL)
		return;
	c->m.attempts_total++;
	c->m.attempts_failed_total += failed;
	c->m.timeouts_total += timeout;
	c->m.records_total += in->records_written;
	c->m.bytes_total += in->bytes;
	d = in->finished_ms > in->started_ms ? (double)(in->finished_ms - in->started_ms) / 1000 : 0;
	for (i = 0; i < SCHED_DUR_NBUCKETS; i++)
		if (d <= sched_dur_bounds[i])
			c->m.dur_bucket[i]++;
	c->m.dur_count++;
	c->m.dur_sum_s += d;
	if (!failed)
		sched_cnt_success(s, in);
}

void
sched_cnt_success(struct sched *s, const struct inst *in)
{
	struct sched_cnt *c;
	int64_t end = in->window_end_ms;

	if (in->state != INST_SUCCESS || (c = sched_cnt_get(s, in->job)) == NULL)
		return;
	if (end <= 0)
		end = in->cyctime * 1000;
	if (end > c->m.last_success_end_ms)
		c->m.last_success_end_ms = end;
}

void
sched_cnt_alert(struct sched *s, const char *job, bool ok)
{
	struct sched_cnt *c;

	if ((c = sched_cnt_get(s, job)) == NULL)
		return;
	if (ok)
		c->m.alerts_total++;
	else
		c->m.alerts_failed_total++;
}

void
sched_cnt_free(struct sched *s)
{
	struct sched_cnt *c, *n;
	size_t i;

	if (s->cnt_hash == NULL)
		return;
	for (i = 0; i < SCHED_CNT_BUCKETS; i++)
		for (c = s->cnt_hash[i]; c != NULL; c = n) {
			n = c->hnext;
			free(c);
		}
	free(s->cnt_hash);
	s->cnt_hash = NULL;
}

static int
sched_metrics_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sched_job_metrics *)a)->name,
	    ((const struct sched_job_metrics *)b)->name);
}

int
sched_metrics_get(struct sched *s, struct sched_metrics *out)
{
	struct sched_job *j;
	struct sched_run *r;
	struct sched_cnt *c;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	for (j = s->jobs; j != NULL; j = j->next)
		if (j->def != NULL)
			n++;
	if (n > 0 && (out->jobs = calloc(n, sizeof(*out->jobs))) == NULL) {
		pthread_mutex_unlock(&s->lock);
		return -ENOMEM;
	}
	for (j = s->jobs; j != NULL; j = j->next) {
		struct sched_job_metrics *m;
		const struct conf_schedule *sch;

		if (j->def == NULL)
			continue;
		m = &out->jobs[out->njobs++];
		if ((c = sched_cnt_get(s, j->name)) != NULL)
			*m = c->m;
		else
			(void)snprintf(m->name, sizeof(m->name), "%s", j->name);
		sch = conf_job_schedule(j->def->job);
		m->priority = sch != NULL ? sch->priority : 1;
		m->paused = j->paused;
		m->running = 0;
		for (r = s->running; r != NULL; r = r->next)
			if (strcmp(r->job, j->name) == 0)
				m->running++;
	}
	out->pending = s->npending;
	out->running = s->nrunning;
	out->workers = s->cfg.workers;
	out->now_ms = sched_now(s);
	pthread_mutex_unlock(&s->lock);
	if (out->njobs > 1)
		qsort(out->jobs, out->njobs, sizeof(*out->jobs), sched_metrics_cmp);
	return 0;
}

void
sched_metrics_free(struct sched_metrics *m)
{
	free(m->jobs);
	memset(m, 0, sizeof(*m));
}

/* ---- a history removed outside the scheduler -------------------------------------- */

struct sched_recount {
	int64_t	 by_state[INST_NSTATES];
};

static int
sched_recount_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct sched_recount *rc = arg;
	struct inst in;

	(void)key;
	(void)klen;
	inst_init(&in);
	if (inst_decode(val, vlen, &in) == 0 && (unsigned)in.state < INST_NSTATES)
		rc->by_state[in.state]++;
	inst_free(&in);
	return 0;
}

struct sched_recountq {
	const char	*job;
	struct sched_recount *out;
};

static int
sched_recount_fn(struct store_txn *txn, void *arg)
{
	struct sched_recountq *q = arg;

	return store_iter(txn, STORE_DB_INSTANCES, q->job, strlen(q->job) + 1, NULL, 0, 0,
	    sched_recount_cb, q->out);
}

void
sched_history_changed(struct sched *s, const char *job)
{
	struct sched_recount r;
	struct sched_recountq q = { job, &r };
	struct sched_cnt *c;

	memset(&r, 0, sizeof(r));
	pthread_mutex_lock(&s->lock);
	if (store_view(s->cfg.store, sched_recount_fn, &q) == 0 &&
	    (c = sched_cnt_get(s, job)) != NULL)
		memcpy(c->m.by_state, r.by_state, sizeof(r.by_state));
	pthread_mutex_unlock(&s->lock);
}
