/* SPDX-License-Identifier: MIT */
/*
 * sched_harness.c - see sched_harness.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cycle.h"
#include "sched_harness.h"
#include "tz.h"

atomic_llong sh_now;

int64_t
sh_clock(void *arg)
{
	(void)arg;
	return atomic_fetch_add(&sh_now, 1);	/* 1 ms per read orders starts */
}

struct conf_job *
sh_job(const char *name, const char *fmt, ...)
{
	struct conf_diags *d = NULL;
	struct conf_job *job = NULL;
	struct buf m;
	char *json = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&json, fmt, ap);
	va_end(ap);
	if (n < 0 || conf_diags_new(&d) != 0) {
		free(json);
		return NULL;
	}
	if (conf_job_parse(name, json, strlen(json), NULL, NULL, d, &job) != 0) {
		buf_init(&m, 65536);
		(void)conf_diags_format(d, name, &m);
		printf("# job %s does not parse:\n%s# %s\n", name, m.p, json);
		buf_free(&m);
	}
	conf_diags_free(d);
	free(json);
	return job;
}

struct conf_source *
sh_source(const char *name, const char *json)
{
	struct conf_source *src = NULL;

	if (conf_source_parse(name, json, strlen(json), NULL, NULL, &src) != 0)
		return NULL;
	return src;
}

int
sh_get(struct sched *s, const char *job, const char *cycle, struct inst *in)
{
	inst_free(in);
	inst_init(in);
	return sched_instance_get(s, job, cycle, in);
}

struct sh_countq {
	const char	*job;
	int		 state;
	int		 n;
};

static int
sh_count_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct sh_countq *q = arg;
	struct inst in;

	(void)key;
	(void)klen;
	inst_init(&in);
	if (inst_decode(val, vlen, &in) == 0 && (q->state < 0 || (int)in.state == q->state))
		q->n++;
	inst_free(&in);
	return 0;
}

static int
sh_count_fn(struct store_txn *txn, void *arg)
{
	struct sh_countq *q = arg;

	return store_iter(txn, STORE_DB_INSTANCES, q->job, strlen(q->job) + 1, NULL, 0, 0,
	    sh_count_cb, q);
}

int
sh_count(struct store *st, const char *job, int state)
{
	struct sh_countq q = { job, state, 0 };

	return store_view(st, sh_count_fn, &q) == 0 ? q.n : -1;
}

struct sh_logq {
	const char	*job;
	const char	*cycle;
	struct buf	*out;
};

static int
sh_log_fn(struct store_txn *txn, void *arg)
{
	struct sh_logq *q = arg;
	char key[STORE_KEY_MAX + 1];
	static char tmp[1 << 20];
	size_t klen, got;
	int rc;

	if (q->cycle != NULL)
		rc = store_key_instance(key, sizeof(key), q->job, q->cycle, &klen);
	else
		rc = sched_joblog_key(q->job, key, sizeof(key), &klen);
	if (rc != 0)
		return rc;
	if ((rc = store_log_read(txn, key, klen, 0, tmp, sizeof(tmp) - 1, &got)) != 0)
		return rc;
	return buf_add(q->out, tmp, got);
}

int
sh_log(struct store *st, const char *job, const char *cycle, struct buf *out)
{
	struct sh_logq q = { job, cycle, out };

	buf_reset(out);
	return store_view(st, sh_log_fn, &q);
}

bool
sh_log_has(struct store *st, const char *job, const char *cycle, const char *needle)
{
	struct buf b;
	bool found;

	buf_init(&b, 1 << 22);
	found = sh_log(st, job, cycle, &b) == 0 && b.p != NULL && strstr(b.p, needle) != NULL;
	if (!found)
		printf("# log of %s/%s lacks '%s':\n# %s\n", job, cycle != NULL ? cycle : "-",
		    needle, b.p != NULL ? b.p : "");
	buf_free(&b);
	return found;
}

const char *
sh_cycle(int64_t t, const char *zone, char out[16])
{
	struct tz *tz = NULL;

	out[0] = '\0';
	if (tz_load(zone, &tz, NULL) == 0 && cycle_id_format(t, tz, out) != 0)
		out[0] = '\0';
	tz_free(tz);
	return out;
}

void
sh_step_idle(struct sched *s)
{
	(void)sched_step(s);
	(void)sched_wait_idle(s, 30000);
}
