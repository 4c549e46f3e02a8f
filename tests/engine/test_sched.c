/* SPDX-License-Identifier: MIT */
/*
 * test_sched.c - the scheduler against a fake clock and a real LMDB store:
 * 288 five-minute cycles a day with the seed's parameters, automatic
 * reruns, self-dependency, catch-up after an outage, backfill, kill,
 * recovery of a RUNNING instance after a daemon crash, ctl commands.
 * Runs use the real pipeline (stream reader -> txtfile writer).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "cycle.h"
#include "scheduler.h"
#include "store.h"
#include "sched_harness.h"
#include "tap.h"

static atomic_llong fake_now;	/* ms; advances 1 ms per read (orders starts) */

static int64_t
fake_clock(void *arg)
{
	(void)arg;
	return atomic_fetch_add(&fake_now, 1);
}

static char tmpdir[256];

/* 2026-11-25 00:00:00 +08:00 */
#define T0_MS	(1795536000000LL)

static struct conf_job *
mkjob(const char *name, const char *sched, const char *fname_expr, const char *path,
    long long count, const char *extra_setting)
{
	char json[4096];
	struct conf_diags *d = NULL;
	struct conf_job *job = NULL;
	struct buf m;
	int n;

	n = snprintf(json, sizeof(json),
	    "{\"type\":\"job\",\"version\":\"2.0\",%s"
	    "\"configuration\":{\"setting\":{\"errorLimit\":{\"record\":\"0\"},"
	    "\"speed\":{\"concurrent\":\"1\"%s}},"
	    "\"reader\":{\"plugin\":\"stream\",\"parameter\":{\"sliceRecordCount\":\"%lld\","
	    "\"column\":[{\"type\":\"string\",\"value\":\"%s\"},{\"type\":\"long\",\"incr\":\"1,1\"}]}},"
	    "\"writer\":{\"plugin\":\"txtfile\",\"parameter\":{\"path\":\"%s\",\"fileName\":\"%s\","
	    "\"writeMode\":\"truncate\",\"fileFormat\":\"csv\"}}}}",
	    sched, extra_setting, count, fname_expr, path, fname_expr);
	if (n < 0 || (size_t)n >= sizeof(json))
		return NULL;
	if (conf_diags_new(&d) != 0)
		return NULL;
	if (conf_job_parse(name, json, strlen(json), NULL, NULL, d, &job) != 0) {
		buf_init(&m, 65536);
		(void)conf_diags_format(d, name, &m);
		printf("# job %s does not parse:\n%s", name, m.p);
		buf_free(&m);
	}
	conf_diags_free(d);
	return job;
}

#define SEED_SCHED(selfdep, times) \
	"\"schedule\":{\"cycle\":\"5m\",\"start\":\"00:00\",\"end\":\"23:59\"," \
	"\"timezone\":\"Asia/Shanghai\",\"params\":{\"start_time\":\"$[yyyymmddhh24miss-10/24/60]\"," \
	"\"end_time\":\"$[yyyymmddhh24miss-5/24/60]\",\"date\":\"${bdp.system.bizdate}\"}," \
	"\"rerun\":{\"times\":" #times ",\"interval\":\"2m\"},\"selfDependent\":" #selfdep "},"

/* an otsstream job whose Table Store refuses connections (and which does
 * not retry them itself): every attempt fails with a retryable error */
static struct conf_job *
mkdownjob(const char *name, const char *sched, const char *source, const char *path)
{
	char json[4096];
	struct conf_diags *d = NULL;
	struct conf_job *job = NULL;
	struct buf m;
	int n;

	n = snprintf(json, sizeof(json),
	    "{\"type\":\"job\",\"version\":\"2.0\",%s"
	    "\"configuration\":{\"setting\":{\"errorLimit\":{\"record\":\"0\"}},"
	    "\"reader\":{\"plugin\":\"otsstream\",\"parameter\":{\"datasource\":\"%s\","
	    "\"dataTable\":\"t\",\"statusTable\":\"st\",\"maxRetries\":0,"
	    "\"startTimestampMillis\":\"1795535400000\",\"endTimestampMillis\":\"1795535700000\"}},"
	    "\"writer\":{\"plugin\":\"txtfile\",\"parameter\":{\"path\":\"%s\",\"fileName\":\"d\","
	    "\"writeMode\":\"truncate\",\"fileFormat\":\"csv\"}}}}",
	    sched, source, path);
	if (n < 0 || (size_t)n >= sizeof(json) || conf_diags_new(&d) != 0)
		return NULL;
	if (conf_job_parse(name, json, strlen(json), NULL, NULL, d, &job) != 0) {
		buf_init(&m, 65536);
		(void)conf_diags_format(d, name, &m);
		printf("# job %s does not parse:\n%s", name, m.p);
		buf_free(&m);
	}
	conf_diags_free(d);
	return job;
}

static struct conf_source *
mksource(const char *name, const char *json)
{
	struct conf_source *src = NULL;

	if (conf_source_parse(name, json, strlen(json), NULL, NULL, &src) != 0)
		return NULL;
	return src;
}

static int
get(struct sched *s, const char *job, const char *cycle, struct inst *in)
{
	inst_free(in);
	inst_init(in);
	return sched_instance_get(s, job, cycle, in);
}

struct counter {
	int		n;
	int		by_state[8];
	int64_t		last_started;
	int		ordered;	/**< started_ms increasing with cycle */
};

static int
count_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct counter *c = arg;
	struct inst in;

	(void)key;
	(void)klen;
	inst_init(&in);
	if (inst_decode(val, vlen, &in) == 0) {
		c->n++;
		c->by_state[in.state]++;
		if (in.started_ms != 0) {
			if (in.started_ms <= c->last_started)
				c->ordered = 0;
			c->last_started = in.started_ms;
		}
	}
	inst_free(&in);
	return 0;
}

struct countq {
	const char	*job;
	struct counter	*c;
};

static int
count_fn(struct store_txn *txn, void *arg)
{
	struct countq *q = arg;

	return store_iter(txn, STORE_DB_INSTANCES, q->job, strlen(q->job) + 1, NULL, 0, 0,
	    count_cb, q->c);
}

static struct counter
count(struct store *st, const char *job)
{
	struct counter c;
	struct countq q = { job, &c };

	memset(&c, 0, sizeof(c));
	c.ordered = 1;
	if (store_view(st, count_fn, &q) != 0)
		c.n = -1;
	return c;
}

struct forceq {
	const char	*job;
	const char	*cycle;
};

static int
force_fn(struct store_txn *txn, void *arg)
{
	struct forceq *q = arg;
	char key[512];
	const void *v;
	size_t klen, vlen;
	struct inst in;
	struct buf b;
	int rc;

	if ((rc = store_key_instance(key, sizeof(key), q->job, q->cycle, &klen)) != 0 ||
	    (rc = store_get(txn, STORE_DB_INSTANCES, key, klen, &v, &vlen)) != 0)
		return rc;
	inst_init(&in);
	buf_init(&b, 1 << 20);
	if ((rc = inst_decode(v, vlen, &in)) == 0) {
		in.state = INST_RUNNING;
		in.attempt = 2;
		if ((rc = inst_encode(&in, &b)) == 0)
			rc = store_put(txn, STORE_DB_INSTANCES, key, klen, b.p, b.len, 0);
	}
	inst_free(&in);
	buf_free(&b);
	return rc;
}

static int
force_running(struct store *st, const char *job, const char *cycle)
{
	struct forceq q = { job, cycle };

	return store_update(st, force_fn, &q);
}

static void
drain(struct sched *s)
{
	int i;

	for (i = 0; i < 2000; i++) {
		(void)sched_step(s);
		if (sched_wait_idle(s, 30000) != 0)
			break;
		(void)sched_step(s);
		(void)sched_wait_idle(s, 30000);
		/* stop when a step starts nothing */
		{
			int64_t before = atomic_load(&fake_now);

			(void)sched_step(s);
			(void)sched_wait_idle(s, 30000);
			if (atomic_load(&fake_now) - before < 3)
				break;
		}
	}
}

int
main(void)
{
	struct store_config scfg = { .nosync = true };
	struct sched_config cfg;
	struct eng_errbuf eb = { "" };
	struct store *st = NULL;
	struct sched *s = NULL;
	struct inst in;
	struct counter c;
	struct conf_srcset *srcs = NULL;
	struct conf_source *down;
	char path[512], blocker[512], cmd[600];
	int k, rc, fd;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/difs-test-sched-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/out", tmpdir);
	snprintf(blocker, sizeof(blocker), "%s/blocked", tmpdir);
	is_int(store_open(tmpdir, &scfg, &st, &eb), 0, "store opens: %s", eb.msg);

	atomic_init(&fake_now, T0_MS);
	if (conf_srcset_new(&srcs) != 0 || (down = mksource("down",
	    "{\"type\":\"ots\",\"endpoint\":\"http://127.0.0.1:9\",\"instanceName\":\"i\","
	    "\"accessId\":\"id\",\"accessKey\":\"key\"}")) == NULL ||
	    conf_srcset_add(srcs, down) != 0)
		return 1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.sources = conf_srcset_lookup;
	cfg.sources_arg = srcs;
	cfg.store = st;
	cfg.workers = 4;
	cfg.now_ms = fake_clock;
	cfg.progress_ms = 250;	/* live counters in status move with progress lines */
	is_int(sched_new(&cfg, &s, &eb), 0, "scheduler starts on an empty store");
	inst_init(&in);

	/* 1. the seed's schedule: 288 cycles over a day, with its windows */
	is_int(sched_job_set(s, "seed", mkjob("seed", SEED_SCHED(true, 3), "${start_time}",
	    path, 2, ""), &eb), 0, "define the seed job");
	for (k = 0; k < 288; k++) {
		atomic_store(&fake_now, T0_MS + (int64_t)k * 300000);
		(void)sched_step(s);
		(void)sched_wait_idle(s, 30000);
	}
	c = count(st, "seed");
	is_int(c.n, 288, "a 5-minute job over 24 h has 288 instances");
	is_int(c.by_state[INST_SUCCESS], 288, "all 288 succeeded");
	is_int(get(s, "seed", "20261125120500", &in), 0, "instance 20261125120500 exists");
	is_str(param_set_get(&in.params, "start_time"), "20261125115500", "its start_time");
	is_str(param_set_get(&in.params, "end_time"), "20261125120000", "its end_time");
	is_str(param_set_get(&in.params, "date"), "20261124", "its date (bizdate)");
	is_int(in.attempt, 1, "one attempt");
	is_int(inst_attempts_allowed(&in), 4, "rerun.times 3 allows 4 attempts");
	ok(in.outputs.len > 0 && strstr(in.outputs.p, "20261125115500__20261125120500_0") != NULL,
	    "the output file is recorded: %s", in.outputs.p);
	ok(strstr(in.job_json.p, "20261125115500") != NULL &&
	    strstr(in.job_json.p, "${start_time}") == NULL,
	    "the resolved job of the attempt is kept (job.json): %.300s", in.job_json.p);
	is_int(get(s, "seed", "20261125235500", &in), 0, "the last cycle of the day is 23:55");
	ok(get(s, "seed", "20261126000000", &in) == -ENOENT, "no instance beyond the day yet");
	ok(sh_log_has(st, "seed", "20261125000000", "SUCCESS: attempt 1 succeeded"),
	    "the log records the transition");
	ok(sh_log_has(st, "seed", "20261125000000", "summary: succeeded"), "the log has the run summary");

	/* 2. automatic reruns: 3 reruns 2 minutes apart, then FAILED; the
	 * failure is one that may pass (OSS does not answer: retryable) */
	fd = open(blocker, O_CREAT | O_WRONLY, 0644);	/* a file where a directory must be */
	close(fd);
	atomic_store(&fake_now, T0_MS);
	is_int(sched_job_set(s, "flaky", mkdownjob("flaky",
	    "\"schedule\":{\"cycle\":\"daily\",\"timezone\":\"Asia/Shanghai\","
	    "\"rerun\":{\"times\":3,\"interval\":\"2m\"}},", "down", path), &eb), 0,
	    "define a job that fails (its Table Store refuses connections)");
	(void)sched_step(s);
	(void)sched_wait_idle(s, 30000);
	get(s, "flaky", "20261125000000", &in);
	is_str(inst_state_name(in.state), "RETRY_WAIT", "first failure waits for a rerun");
	is_int(in.next_try_ms / 1000, T0_MS / 1000 + 120, "rerun due 2 minutes later");
	atomic_store(&fake_now, T0_MS + 60000);
	(void)sched_step(s);
	(void)sched_wait_idle(s, 30000);
	get(s, "flaky", "20261125000000", &in);
	ok(in.state == INST_RETRY_WAIT && in.attempt == 1, "not rerun before the interval");
	for (k = 1; k <= 3; k++) {
		atomic_store(&fake_now, in.next_try_ms);
		(void)sched_step(s);
		(void)sched_wait_idle(s, 30000);
		get(s, "flaky", "20261125000000", &in);
	}
	is_str(inst_state_name(in.state), "FAILED", "after 3 reruns the instance is FAILED");
	is_int(in.attempt, 4, "4 attempts were made");
	is_int(inst_attempts_allowed(&in), 4, "attempts_allowed is 4");
	ok(strstr(in.error, "blocked") != NULL || in.error[0] != '\0', "last error kept: %s", in.error);
	ok(sh_log_has(st, "flaky", "20261125000000", "automatic rerun 3 of 3"), "log counts the reruns");
	ok(sh_log_has(st, "flaky", "20261125000000", "no automatic rerun left"), "log says none is left");
	/* manual rerun starts a new series (the job fixed: it writes files now) */
	unlink(blocker);
	mkdir(blocker, 0755);
	is_int(sched_job_set(s, "flaky", mkjob("flaky",
	    "\"schedule\":{\"cycle\":\"daily\",\"timezone\":\"Asia/Shanghai\","
	    "\"rerun\":{\"times\":3,\"interval\":\"2m\"}},", "x", blocker, 1, ""), &eb), 0,
	    "the job is fixed");
	is_int(sched_ctl_instance(s, "flaky", "20261125000000", "rerun", &eb), 0, "ctl rerun");
	(void)sched_step(s);
	(void)sched_wait_idle(s, 30000);
	get(s, "flaky", "20261125000000", &in);
	ok(in.state == INST_SUCCESS && in.attempt == 5, "manual rerun succeeded as attempt 5 (%s %d)",
	    inst_state_name(in.state), in.attempt);
	is_int(inst_attempts_allowed(&in), 8, "a manual rerun starts a new series of 1+3");

	/* 3. self-dependency: a failure blocks the chain until set-success */
	snprintf(cmd, sizeof(cmd), "%s/chain", tmpdir);
	fd = open(cmd, O_CREAT | O_WRONLY, 0644);
	close(fd);
	atomic_store(&fake_now, T0_MS);
	is_int(sched_job_set(s, "chain", mkjob("chain", SEED_SCHED(true, 0), "c", cmd, 1, ""), &eb),
	    0, "define a self-dependent job");
	(void)sched_step(s);
	(void)sched_wait_idle(s, 30000);
	get(s, "chain", "20261125000000", &in);
	is_str(inst_state_name(in.state), "FAILED", "first cycle fails (no reruns)");
	unlink(cmd);
	atomic_store(&fake_now, T0_MS + 300000);
	(void)sched_step(s);
	(void)sched_wait_idle(s, 30000);
	get(s, "chain", "20261125000500", &in);
	is_str(inst_state_name(in.state), "WAITING", "second cycle waits");
	ok(strstr(in.reason, "20261125000000 (FAILED)") != NULL, "reason names the blocker: %s",
	    in.reason);
	is_int(sched_ctl_instance(s, "chain", "20261125000000", "set-success", &eb), 0,
	    "ctl set-success on the failed cycle");
	(void)sched_step(s);
	(void)sched_wait_idle(s, 30000);
	get(s, "chain", "20261125000500", &in);
	is_str(inst_state_name(in.state), "SUCCESS", "the chain resumes after set-success");
	get(s, "chain", "20261125000000", &in);
	ok(in.set_success && in.state == INST_SUCCESS, "set-success is recorded");

	/* 4. catch-up after a 3-hour outage: 36 cycles, in order */
	atomic_store(&fake_now, T0_MS);
	is_int(sched_job_set(s, "catch", mkjob("catch", SEED_SCHED(true, 0), "k", path, 1, ""), &eb),
	    0, "define a job for catch-up");
	for (k = 0; k <= 12; k++) {
		atomic_store(&fake_now, T0_MS + (int64_t)k * 300000);
		(void)sched_step(s);
		(void)sched_wait_idle(s, 30000);
	}
	is_int(count(st, "catch").n, 13, "one hour of cycles before the outage");
	atomic_store(&fake_now, T0_MS + 240LL * 60000);
	drain(s);
	c = count(st, "catch");
	is_int(c.n, 13 + 36, "the outage's 36 cycles were created");
	is_int(c.by_state[INST_SUCCESS], 49, "and all ran");
	ok(c.ordered, "in cycle order");

	/* 4b. an outage longer than schedule.catchup: older cycles are SKIPPED */
	atomic_store(&fake_now, T0_MS);
	is_int(sched_job_set(s, "gap", mkjob("gap",
	    "\"schedule\":{\"cycle\":\"1h\",\"timezone\":\"Asia/Shanghai\",\"catchup\":\"3h\"},",
	    "g", path, 1, ""), &eb), 0, "define an hourly job with a 3 h catch-up bound");
	(void)sched_step(s);
	(void)sched_wait_idle(s, 30000);
	atomic_store(&fake_now, T0_MS + 10LL * 3600000);	/* down for 10 hours */
	drain(s);
	c = count(st, "gap");
	is_int(c.n, 11, "every missed cycle has an instance (00:00 .. 10:00)");
	is_int(c.by_state[INST_SKIPPED], 6, "cycles more than 3 h old (01:00 .. 06:00) are SKIPPED");
	is_int(c.by_state[INST_SUCCESS], 5, "00:00 and 07:00 .. 10:00 ran");
	get(s, "gap", "20261125030000", &in);
	ok(in.state == INST_SKIPPED && strstr(in.reason, "schedule.catchup") != NULL,
	    "a skipped instance says why: %s", in.reason);
	get(s, "gap", "20261125070000", &in);
	is_str(inst_state_name(in.state), "SUCCESS", "cycles within the bound run");

	/* 5. backfill of a day, in order */
	atomic_store(&fake_now, T0_MS + 86400000LL);
	is_int(sched_job_set(s, "bf", mkjob("bf", SEED_SCHED(true, 0), "b", path, 1, ""), &eb),
	    0, "define a job for backfill");
	is_int(sched_ctl_job(s, "bf", "backfill 20261124000000 20261125000000", &eb), 0,
	    "ctl backfill of a day: %s", eb.msg);
	drain(s);
	c = count(st, "bf");
	ok(c.n >= 288, "backfill created the day's 288 instances (%d)", c.n);
	get(s, "bf", "20261124235500", &in);
	ok(in.state == INST_SUCCESS && in.trigger == INST_BACKFILL, "backfilled instances ran");
	ok(c.ordered, "in cycle order");
	ok(sh_log_has(st, "bf", NULL, "288 instances queued"), "the job log records the backfill");
	is_int(sched_ctl_job(s, "bf", "backfill 20261124000000", &eb), ENG_EINVAL, "bad # args refused");
	ok(sh_log_has(st, "bf", NULL, "bad # args"), "and logged in the job log");
	is_int(sched_ctl_job(s, "bf", "explode", &eb), ENG_EINVAL, "unknown command refused");
	ok(strstr(eb.msg, "unknown control message") != NULL, "message: %s", eb.msg);

	/* 6. pause / resume, freeze / unfreeze */
	is_int(sched_ctl_job(s, "seed", "pause", &eb), 0, "pause");
	atomic_store(&fake_now, T0_MS + 86400000LL + 600000);
	(void)sched_step(s);
	(void)sched_wait_idle(s, 30000);
	ok(get(s, "seed", "20261126000500", &in) == -ENOENT, "a paused job creates no instance");
	is_int(sched_ctl_job(s, "seed", "resume", &eb), 0, "resume");
	(void)sched_step(s);
	(void)sched_wait_idle(s, 30000);
	(void)sched_step(s);
	(void)sched_wait_idle(s, 30000);
	get(s, "seed", "20261126000500", &in);
	is_str(inst_state_name(in.state), "SUCCESS", "resume catches up the paused cycles");
	is_int(sched_ctl_job(s, "seed", "run 20261126001000", &eb), 0, "ctl run of a future cycle");
	is_int(sched_ctl_instance(s, "seed", "20261126001000", "freeze", &eb), 0, "freeze it");
	(void)sched_step(s);
	(void)sched_wait_idle(s, 30000);
	get(s, "seed", "20261126001000", &in);
	is_str(inst_state_name(in.state), "FROZEN", "a frozen instance does not start");
	is_int(sched_ctl_instance(s, "seed", "20261126001000", "unfreeze", &eb), 0, "unfreeze");
	(void)sched_step(s);
	(void)sched_wait_idle(s, 30000);
	get(s, "seed", "20261126001000", &in);
	is_str(inst_state_name(in.state), "SUCCESS", "after unfreeze it runs");
	is_int(sched_ctl_instance(s, "seed", "20261126001000", "unfreeze", &eb), ENG_ESTATE,
	    "unfreeze of a finished instance is refused");
	is_int(sched_ctl_instance(s, "seed", "20261126001000", "kill", &eb), ENG_ESTATE,
	    "kill of a finished instance is refused");

	/* 7. kill a running instance: stops within 2 s */
	atomic_store(&fake_now, T0_MS);
	is_int(sched_job_set(s, "slow", mkjob("slow", "", "s", path, 100000000LL,
	    ",\"mbps\":\"0.05\""), &eb), 0, "define a slow unscheduled job");
	is_int(sched_ctl_job(s, "slow", "run 20261125000000", &eb), 0, "ctl run: %s", eb.msg);
	(void)sched_step(s);
	usleep(700000);		/* two progress lines (progress_ms 250) */
	get(s, "slow", "20261125000000", &in);
	is_str(inst_state_name(in.state), "RUNNING", "it runs");
	ok(in.records_read > 0, "live counters while running (%lld read)", (long long)in.records_read);
	{
		struct inst in2;

		inst_init(&in2);
		get(s, "slow", "20261125000000", &in2);
		ok(in2.records_read == in.records_read || in2.updated_ms > in.updated_ms,
		    "the counters change only with a new log line (updated_ms %lld -> %lld)",
		    (long long)in.updated_ms, (long long)in2.updated_ms);
		inst_free(&in2);
	}
	{
		struct timespec a, b;

		clock_gettime(CLOCK_MONOTONIC, &a);
		is_int(sched_ctl_instance(s, "slow", "20261125000000", "kill", &eb), 0, "ctl kill");
		rc = sched_wait_idle(s, 2000);
		clock_gettime(CLOCK_MONOTONIC, &b);
		is_int(rc, 0, "stopped within 2 s (%.3f s)",
		    (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	}
	get(s, "slow", "20261125000000", &in);
	is_str(inst_state_name(in.state), "KILLED", "state is KILLED");
	ok(sh_log_has(st, "slow", "20261125000000", "KILLED"), "the log says so");

	/* 8. daemon shutdown during a run, then a crash during a run */
	is_int(sched_ctl_instance(s, "slow", "20261125000000", "rerun", &eb), 0, "rerun the killed one");
	(void)sched_step(s);
	usleep(200000);
	get(s, "slow", "20261125000000", &in);
	is_str(inst_state_name(in.state), "RUNNING", "running again (attempt 2)");
	sched_free(s);
	s = NULL;
	ok(sh_log_has(st, "slow", "20261125000000", "daemon stopped during attempt 2"),
	    "a run stopped by shutdown says so in its log");
	is_int(force_running(st, "slow", "20261125000000"), 0,
	    "leave the record RUNNING, as a SIGKILLed daemon does");
	is_int(sched_new(&cfg, &s, &eb), 0, "scheduler restarts");
	get(s, "slow", "20261125000000", &in);
	is_str(inst_state_name(in.state), "WAITING", "the RUNNING instance waits for a new attempt");
	ok(sh_log_has(st, "slow", "20261125000000", "restarted during attempt 2; rerunning as attempt 3"),
	    "its log says the daemon restarted");
	is_int(sched_job_set(s, "slow", mkjob("slow", "", "s", path, 5, ""), &eb), 0,
	    "the job is defined again (the engine reloads definitions)");
	(void)sched_step(s);
	(void)sched_wait_idle(s, 30000);
	get(s, "slow", "20261125000000", &in);
	ok(in.state == INST_SUCCESS && in.attempt == 3, "rerun as attempt 3 succeeds (%s, %d)",
	    inst_state_name(in.state), in.attempt);

	inst_free(&in);
	sched_free(s);
	store_close(st);
	conf_srcset_free(srcs);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return done_testing();
}
