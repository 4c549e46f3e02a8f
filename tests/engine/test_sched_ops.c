/* SPDX-License-Identifier: MIT */
/*
 * test_sched_ops.c - the Operation Center rules of the scheduler, on a
 * fake clock with a real LMDB store and real runs (stream or otsstream
 * reader -> txtfile writer): backfill guard rails, error classes,
 * round-robin fairness, priority, maxConcurrent, timeouts, attempt
 * history, ctl rules, SKIPPED alerts and catchup "all", dependencies
 * (same, latest, different periods, rerun descendants), alerts through a
 * command and a webhook (to a server here, also a failing one), the
 * unfinished_by baseline, and the figures behind metrics.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ckpt.h"
#include "hook_server.h"
#include "loopback.h"
#include "plugin.h"
#include "sched_harness.h"
#include "tap.h"
#include "tz.h"

/* 2026-11-25 00:00:00 +08:00 */
#define T0_MS	(1795536000000LL)
#define MIN_MS	60000LL
#define ZONE	"Asia/Shanghai"

static char tmpdir[256], outdir[300], blocker[300], alerts[300];
static struct conf_srcset *srcs;
static struct store *st;
static struct sched *s;
static int nstore;

#define BAIL_OUT(...) do { \
	printf("Bail out! "); \
	printf(__VA_ARGS__); \
	printf("\n"); \
	exit(1); \
} while (0)

#define RD_STREAM(n) \
	"\"reader\":{\"plugin\":\"stream\",\"parameter\":{\"sliceRecordCount\":\"" #n "\"," \
	"\"column\":[{\"type\":\"string\",\"value\":\"x\"},{\"type\":\"long\",\"incr\":\"1,1\"}]}}"
#define RD_DOWN \
	"\"reader\":{\"plugin\":\"otsstream\",\"parameter\":{\"datasource\":\"down\"," \
	"\"dataTable\":\"t\",\"statusTable\":\"st\",\"maxRetries\":0," \
	"\"startTimestampMillis\":\"1795535400000\",\"endTimestampMillis\":\"1795535700000\"}}"
#define SLOW	",\"mbps\":\"0.05\""
#define CY5	"\"cycle\":\"5m\",\"timezone\":\"" ZONE "\""

/* a job: schedule members, speed extras, a reader, the txtfile writer's path */
static struct conf_job *
job(const char *name, const char *sched, const char *speed, const char *reader, const char *path)
{
	return sh_job(name, "{\"type\":\"job\",\"version\":\"2.0\",\"schedule\":{%s},"
	    "\"configuration\":{\"setting\":{\"errorLimit\":{\"record\":\"0\"},"
	    "\"speed\":{\"concurrent\":\"1\"%s}},%s,"
	    "\"writer\":{\"plugin\":\"txtfile\",\"parameter\":{\"path\":\"%s\",\"fileName\":\"%s\","
	    "\"writeMode\":\"truncate\",\"fileFormat\":\"csv\"}}}}",
	    sched, speed, reader, path, name);
}

static int
define(const char *name, struct conf_job *j)
{
	struct eng_errbuf eb = { "" };
	int rc;

	if (j == NULL)
		return -1;
	if ((rc = sched_job_set(s, name, j, &eb)) != 0)
		printf("# sched_job_set %s: %s\n", name, eb.msg);
	return rc;
}

static int
ctl_job(const char *name, const char *line, char *msg, size_t msz)
{
	struct eng_errbuf eb = { "" };
	int rc = sched_ctl_job(s, name, line, &eb);

	if (msg != NULL)
		(void)snprintf(msg, msz, "%s", eb.msg);
	return rc;
}

static int
ctl_inst(const char *name, const char *cycle, const char *line, char *msg, size_t msz)
{
	struct eng_errbuf eb = { "" };
	int rc = sched_ctl_instance(s, name, cycle, line, &eb);

	if (msg != NULL)
		(void)snprintf(msg, msz, "%s", eb.msg);
	return rc;
}

/* a scheduler with `workers` on a store of its own */
static void
start(int workers)
{
	struct store_config scfg = { .nosync = true };
	struct sched_config cfg;
	struct eng_errbuf eb = { "" };
	char dir[400];

	(void)snprintf(dir, sizeof(dir), "%s/state%d", tmpdir, nstore++);
	(void)mkdir(dir, 0700);
	if (store_open(dir, &scfg, &st, &eb) != 0)
		BAIL_OUT("store_open: %s", eb.msg);
	memset(&cfg, 0, sizeof(cfg));
	cfg.store = st;
	cfg.workers = workers;
	cfg.now_ms = sh_clock;
	cfg.sources = conf_srcset_lookup;
	cfg.sources_arg = srcs;
	cfg.progress_ms = 250;
	cfg.alert_backoff_ms = 10;
	cfg.alert_exec_timeout_ms = 5000;
	if (sched_new(&cfg, &s, &eb) != 0)
		BAIL_OUT("sched_new: %s", eb.msg);
}

static void
finish(void)
{
	sched_free(s);
	store_close(st);
	s = NULL;
	st = NULL;
}

static const char *
cyc(int64_t ms, char out[16])
{
	return sh_cycle(ms / 1000, ZONE, out);
}

/* the text of a file ("" when absent); static */
static const char *
slurp(const char *path)
{
	static char b[65536];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	b[0] = '\0';
	if (f != NULL) {
		n = fread(b, 1, sizeof(b) - 1, f);
		b[n] = '\0';
		fclose(f);
	}
	return b;
}

/* wait (real time) until path holds needle n times */
static int
wait_file(const char *path, const char *needle, int n, int ms)
{
	int k, got = 0;

	for (k = 0; k < ms / 20; k++) {
		const char *p = slurp(path);

		for (got = 0; (p = strstr(p, needle)) != NULL; p++)
			got++;
		if (got >= n)
			return got;
		usleep(20000);
	}
	return got;
}

static struct sched_job_metrics
metrics_of(const char *name)
{
	struct sched_metrics m;
	struct sched_job_metrics r;
	size_t i;

	memset(&r, 0, sizeof(r));
	if (sched_metrics_get(s, &m) != 0)
		return r;
	for (i = 0; i < m.njobs; i++)
		if (strcmp(m.jobs[i].name, name) == 0)
			r = m.jobs[i];
	sched_metrics_free(&m);
	return r;
}

/* ---- 1. backfill guard rails ------------------------------------------------ */

static void
test_guard_rails(void)
{
	char msg[600];
	int rc;

	start(4);
	atomic_store(&sh_now, T0_MS);
	is_int(define("g", job("g", CY5 ",\"backfillLimit\":10", "", RD_STREAM(1), outdir)), 0,
	    "define g (backfillLimit 10)");
	is_int(ctl_job("g", "pause", NULL, 0), 0, "pause g");
	rc = ctl_job("g", "backfill 20261125000500 20261125001500", msg, sizeof(msg));
	ok(rc == ENG_EINVAL && strstr(msg, "in the future") != NULL,
	    "a backfill of future cycles is refused: %s", msg);
	rc = ctl_job("g", "backfill 20261124230000 20261125001500", msg, sizeof(msg));
	ok(rc == ENG_EINVAL && strstr(msg, "20261125000500 is in the future") != NULL,
	    "so is one that ends in the future: %s", msg);
	rc = ctl_job("g", "run 20261125001000", msg, sizeof(msg));
	ok(rc == ENG_EINVAL && strstr(msg, "in the future") != NULL, "run of a future cycle is "
	    "refused: %s", msg);
	rc = ctl_job("g", "backfill 20261124220000 20261124230000", msg, sizeof(msg));
	ok(rc == ENG_EINVAL && strstr(msg, "more than 10 instances") != NULL &&
	    strstr(msg, "backfill 20261124220000 20261124230000 force") != NULL,
	    "12 cycles over backfillLimit 10: refused with how to force it: %s", msg);
	is_int(sh_count(st, "g", -1), 0, "nothing was queued by the refusals");
	rc = ctl_job("g", "backfill 20261124220000 20261124230000 force", msg, sizeof(msg));
	ok(rc == 0 && strstr(msg, "12 instances queued") != NULL, "with force: %s", msg);
	is_int(sh_count(st, "g", INST_WAITING), 12, "12 backfill instances wait");
	ok(sh_log_has(st, "g", NULL, "refused 'backfill 20261124220000 20261124230000'"),
	    "the job log records the refusal");

	/* a stream job: retention */
	is_int(define("gs", job("gs", CY5, "", RD_DOWN, outdir)), 0, "define gs (otsstream)");
	is_int(ctl_job("gs", "pause", NULL, 0), 0, "pause gs");
	rc = ctl_job("gs", "backfill 20261116000000 20261116010000", msg, sizeof(msg));
	ok(rc == ENG_EINVAL && strstr(msg, "outside the stream's retention (168 h") != NULL,
	    "9 days back is outside any Table Store retention: %s", msg);
	is_int(ckpt_put(st, "gs", PLUGIN_CKPT_RETENTION, "24", 2), 0,
	    "the reader saw a 24 h retention");
	rc = ctl_job("gs", "backfill 20261123000000 20261123001000", msg, sizeof(msg));
	ok(rc == ENG_EINVAL && strstr(msg, "(24 h, as the reader last saw it)") != NULL,
	    "2 days back is outside the 24 h it saw: %s", msg);
	rc = ctl_job("gs", "backfill 20261124230000 20261124231000", msg, sizeof(msg));
	ok(rc == 0, "an hour back is inside: %s", msg);
	finish();
}

/* ---- 2. error classes, attempt history, ctl rules ---------------------------- */

static void
test_classes_and_ctl(void)
{
	struct inst in;
	char msg[600], c0[16];
	int rc;

	start(4);
	inst_init(&in);
	atomic_store(&sh_now, T0_MS);
	cyc(T0_MS, c0);
	is_int(define("nr", job("nr", CY5 ",\"rerun\":{\"times\":3,\"interval\":\"1m\"}", "",
	    RD_STREAM(1), blocker)), 0, "define nr (its path is a file: not retryable)");
	is_int(define("re", job("re", CY5 ",\"rerun\":{\"times\":1,\"interval\":\"1m\"}", "",
	    RD_DOWN, outdir)), 0, "define re (Table Store refuses connections: retryable)");
	is_int(define("ok", job("ok", CY5, "", RD_STREAM(3), outdir)), 0, "define ok");
	sh_step_idle(s);
	sh_get(s, "nr", c0, &in);
	ok(in.state == INST_FAILED && in.attempt == 1, "a non-retryable failure is FAILED after "
	    "1 of 4 attempts (%s, %d)", inst_state_name(in.state), in.attempt);
	ok(strstr(in.reason, "a rerun cannot fix") != NULL, "the reason says why: %s", in.reason);
	ok(sh_log_has(st, "nr", c0, "not retried"), "its log says it is not retried");
	sh_get(s, "re", c0, &in);
	ok(in.state == INST_RETRY_WAIT && in.attempt == 1, "a retryable failure waits for its "
	    "rerun (%s)", inst_state_name(in.state));
	ok(in.nattempts == 1 && in.attempts[0].outcome == INST_OUT_FAILED &&
	    in.attempts[0].trigger == INST_AT_SCHEDULED && in.attempts[0].error[0] != '\0' &&
	    in.attempts[0].finished_ms >= in.attempts[0].started_ms,
	    "attempt history: 1 entry, scheduled, failed, with its error and times");
	/* kill in RETRY_WAIT cancels the reruns */
	rc = ctl_inst("re", c0, "kill", msg, sizeof(msg));
	sh_get(s, "re", c0, &in);
	ok(rc == 0 && in.state == INST_KILLED && strstr(in.reason, "reruns are cancelled") != NULL,
	    "kill in RETRY_WAIT: %s (%s)", inst_state_name(in.state), in.reason);
	atomic_store(&sh_now, T0_MS + 2 * MIN_MS);
	sh_step_idle(s);
	sh_get(s, "re", c0, &in);
	ok(in.state == INST_KILLED && in.attempt == 1, "and it is not rerun");
	/* a rerun through ctl: a new series with trigger ctl */
	is_int(ctl_inst("re", c0, "rerun", NULL, 0), 0, "ctl rerun");
	sh_step_idle(s);
	atomic_store(&sh_now, T0_MS + 4 * MIN_MS);
	sh_step_idle(s);
	sh_get(s, "re", c0, &in);
	ok(in.state == INST_FAILED && in.attempt == 3 && in.nattempts == 3 &&
	    in.attempts[1].trigger == INST_AT_CTL && in.attempts[2].trigger == INST_AT_RERUN,
	    "history: scheduled, ctl, rerun (%s, %d attempts, %zu entries)",
	    inst_state_name(in.state), in.attempt, in.nattempts);
	{
		struct tz *utc = NULL;
		struct buf b;

		buf_init(&b, 1 << 20);
		ok(tz_utc(&utc) == 0 && inst_status(&in, utc, &b) == 0 &&
		    strstr(b.p, "\"attempts\": [") != NULL && strstr(b.p, "\"trigger\": \"ctl\"") != NULL &&
		    strstr(b.p, "\"outcome\": \"failed\"") != NULL && strstr(b.p, "\"duration_s\"") != NULL,
		    "status shows the attempts: %.400s", b.p);
		tz_free(utc);
		buf_free(&b);
	}
	ok(sh_log_has(st, "re", c0, "======== attempt 2 of 3 (ctl) started ========"),
	    "the log separates the attempts");
	/* set-success: only from FAILED, KILLED, WAITING */
	sh_get(s, "ok", c0, &in);
	is_str(inst_state_name(in.state), "SUCCESS", "ok succeeded");
	rc = ctl_inst("ok", c0, "set-success", msg, sizeof(msg));
	ok(rc == ENG_ESTATE && strstr(msg, "only a FAILED, KILLED or WAITING") != NULL,
	    "set-success of a SUCCESS is refused: %s", msg);
	is_int(ctl_inst("nr", c0, "set-success", NULL, 0), 0, "set-success of a FAILED one");
	/* kill of a WAITING one */
	is_int(ctl_job("ok", "pause", NULL, 0), 0, "pause ok");
	is_int(ctl_job("ok", "run 20261124235500", msg, sizeof(msg)), 0, "run an earlier cycle: %s",
	    msg);
	rc = ctl_inst("ok", "20261124235500", "kill", msg, sizeof(msg));
	sh_get(s, "ok", "20261124235500", &in);
	ok(rc == 0 && in.state == INST_KILLED && in.attempt == 0, "kill of a WAITING one: it never "
	    "starts (%s)", inst_state_name(in.state));
	inst_free(&in);
	finish();
}

/* ---- 3. fairness and priority ------------------------------------------------ */

static void
test_fairness(void)
{
	struct inst in;
	char msg[600], line[128], from[16], to[16], c0[16], c1[16];
	int na, nc;
	int k;

	start(1);
	inst_init(&in);
	atomic_store(&sh_now, T0_MS);
	is_int(define("a", job("a", CY5, "", RD_STREAM(1), outdir)), 0, "define a");
	is_int(define("c", job("c", CY5, "", RD_STREAM(1), outdir)), 0, "define c");
	is_int(ctl_job("a", "pause", NULL, 0), 0, "pause a");
	is_int(ctl_job("c", "pause", NULL, 0), 0, "pause c");
	/* the ranges end just after now: their current cycles are backfill
	 * instances too, so only b has a scheduled one */
	cyc(T0_MS - 5000LL * 300000, from);
	cyc(T0_MS + 1000, to);
	(void)snprintf(line, sizeof(line), "backfill %s %s force", from, to);
	is_int(ctl_job("a", line, msg, sizeof(msg)), 0, "a backfill of 5,001 instances: %s", msg);
	is_int(sh_count(st, "a", INST_WAITING), 5001, "5,001 wait");
	cyc(T0_MS - 100LL * 300000, from);
	(void)snprintf(line, sizeof(line), "backfill %s %s", from, to);
	is_int(ctl_job("c", line, msg, sizeof(msg)), 0, "c: a backfill of 100: %s", msg);
	is_int(ctl_job("a", "resume", NULL, 0), 0, "resume a");
	is_int(ctl_job("c", "resume", NULL, 0), 0, "resume c");
	atomic_store(&sh_now, T0_MS);	/* the 5,101 creations moved the fake clock */
	is_int(define("b", job("b", CY5, "", RD_STREAM(1), outdir)), 0,
	    "define b: its first cycle is due now");
	cyc(T0_MS, c0);
	sh_step_idle(s);
	sh_get(s, "b", c0, &in);
	ok(in.state == INST_SUCCESS, "with 1 worker, b's scheduled instance ran first (%s)",
	    inst_state_name(in.state));
	is_int(sh_count(st, "a", INST_SUCCESS) + sh_count(st, "c", INST_SUCCESS), 0,
	    "before any backfill instance");
	/* round-robin between the two backfills */
	for (k = 0; k < 10; k++)
		sh_step_idle(s);
	na = sh_count(st, "a", INST_SUCCESS);
	nc = sh_count(st, "c", INST_SUCCESS);
	ok(na == 5 && nc == 5, "10 runs: a and c take turns (%d, %d)", na, nc);
	cyc(T0_MS - 5000LL * 300000 + 5 * 300000, from);
	sh_get(s, "a", from, &in);
	ok(in.state == INST_WAITING && strstr(in.reason, "waiting for a free worker") != NULL,
	    "the next one of the backlog says what it waits for: %s", in.reason);
	cyc(T0_MS - 4000LL * 300000, from);
	sh_get(s, "a", from, &in);
	ok(in.state == INST_WAITING && strstr(in.reason, "waiting behind earlier instances of "
	    "this job") != NULL, "so does one deep in the backlog (not \"created by backfill\"): %s",
	    in.reason);
	/* priority: both scheduled at the next cycle, 8 before 1 */
	atomic_store(&sh_now, T0_MS + 300000);
	is_int(define("p1", job("p1", CY5 ",\"priority\":1", "", RD_STREAM(1), outdir)), 0,
	    "define p1 (priority 1)");
	is_int(define("p8", job("p8", CY5 ",\"priority\":8", "", RD_STREAM(1), outdir)), 0,
	    "define p8 (priority 8)");
	cyc(T0_MS + 300000, c1);
	sh_step_idle(s);
	sh_get(s, "p8", c1, &in);
	ok(in.state == INST_SUCCESS, "p8 ran first (%s)", inst_state_name(in.state));
	sh_get(s, "p1", c1, &in);
	ok(in.state == INST_WAITING, "p1 waits (%s: %s)", inst_state_name(in.state), in.reason);
	sh_step_idle(s);
	sh_step_idle(s);
	sh_get(s, "p1", c1, &in);
	ok(in.state == INST_SUCCESS, "then p1 and b, scheduled work before backfill (%s)",
	    inst_state_name(in.state));
	sh_get(s, "b", c1, &in);
	is_str(inst_state_name(in.state), "SUCCESS", "b's second cycle too");
	is_int(sh_count(st, "a", INST_SUCCESS) + sh_count(st, "c", INST_SUCCESS), 10,
	    "no backfill instance ran meanwhile");
	(void)ctl_job("a", "pause", NULL, 0);
	(void)ctl_job("c", "pause", NULL, 0);
	inst_free(&in);
	finish();
}

/* ---- 4. maxConcurrent --------------------------------------------------------- */

static void
test_max_concurrent(void)
{
	struct inst in;
	char msg[600], c[5][16];
	int k, running = 0, capped = 0;

	start(4);
	inst_init(&in);
	atomic_store(&sh_now, T0_MS);
	is_int(define("m", job("m", CY5 ",\"maxConcurrent\":2", SLOW, RD_STREAM(100000000),
	    outdir)), 0, "define m (maxConcurrent 2, slow runs)");
	is_int(ctl_job("m", "pause", NULL, 0), 0, "pause m");
	is_int(ctl_job("m", "backfill 20261124234000 20261125000000", msg, sizeof(msg)), 0,
	    "backfill 4: %s", msg);
	is_int(ctl_job("m", "resume", NULL, 0), 0, "resume m");
	(void)sched_step(s);
	for (k = 0; k < 5; k++) {	/* the 4 backfilled and the current cycle */
		cyc(T0_MS - (20 - 5 * k) * MIN_MS, c[k]);
		sh_get(s, "m", c[k], &in);
		running += in.state == INST_RUNNING;
		capped += in.state == INST_WAITING && strstr(in.reason, "maxConcurrent (2)") != NULL;
	}
	is_int(running, 2, "2 of its 5 instances run with 4 workers");
	is_int(capped, 3, "the other 3 say they wait for the maxConcurrent cap");
	for (k = 0; k < 5; k++)
		(void)ctl_inst("m", c[k], "kill", NULL, 0);
	(void)sched_wait_idle(s, 30000);
	is_int(sh_count(st, "m", INST_KILLED), 5, "all 5 killed (running and waiting)");
	inst_free(&in);
	finish();
}

/* ---- 5. timeouts and alerts ------------------------------------------------------ */

static void
test_timeout_alerts(void)
{
	struct hook_srv hs;
	struct sched_job_metrics jm;
	struct inst in;
	char sched[1024], c0[16];
	const int ok200[] = { 200 };
	int64_t t;

	if (hook_srv_start(&hs) != 0)
		BAIL_OUT("cannot start the webhook server");
	hook_srv_script(&hs, 1, ok200);
	start(4);
	inst_init(&in);
	atomic_store(&sh_now, T0_MS);
	cyc(T0_MS, c0);
	(void)snprintf(sched, sizeof(sched), CY5 ",\"timeoutSeconds\":5,"
	    "\"rerun\":{\"times\":1,\"interval\":\"1m\"},\"alert\":{\"on\":[\"failed\","
	    "\"exhausted\",\"timeout\"],\"exec\":[\"/bin/sh\",\"-c\",\"echo $DIFS_EVENT "
	    "$DIFS_JOB $DIFS_CYCLE $DIFS_ATTEMPT >> %s\"],\"webhook\":\"http://127.0.0.1:%u/hook\"}",
	    alerts, hs.port);
	is_int(define("t", job("t", sched, SLOW, RD_STREAM(100000000), outdir)), 0,
	    "define t (timeoutSeconds 5, slow, alerts)");
	(void)sched_step(s);
	usleep(300000);
	sh_get(s, "t", c0, &in);
	is_str(inst_state_name(in.state), "RUNNING", "it runs");
	atomic_store(&sh_now, T0_MS + 6000);
	sh_step_idle(s);
	sh_get(s, "t", c0, &in);
	ok(in.state == INST_RETRY_WAIT && strstr(in.error, "timeout after 5 s") != NULL,
	    "after 5 s it is stopped and counts as a failed attempt (%s: %s)",
	    inst_state_name(in.state), in.error);
	ok(in.nattempts == 1 && in.attempts[0].outcome == INST_OUT_TIMEOUT,
	    "its history entry's outcome is timeout");
	ok(sh_log_has(st, "t", c0, "timeout after 5 s (schedule.timeoutSeconds): stopping"),
	    "the log says so");
	is_int(wait_file(alerts, "timeout t ", 1, 5000), 1, "the timeout alert ran its command once");
	is_int(wait_file(alerts, "failed t ", 1, 5000), 1, "and the failed alert");
	t = in.next_try_ms;
	atomic_store(&sh_now, t);
	(void)sched_step(s);
	usleep(300000);
	atomic_store(&sh_now, t + 6000);
	sh_step_idle(s);
	sh_get(s, "t", c0, &in);
	ok(in.state == INST_FAILED && in.nattempts == 2 && in.attempts[1].trigger == INST_AT_RERUN &&
	    in.attempts[1].outcome == INST_OUT_TIMEOUT, "the rerun timed out too: FAILED (%s)",
	    inst_state_name(in.state));
	is_int(wait_file(alerts, "exhausted t ", 1, 5000), 1, "exhausted fires");
	usleep(200000);
	is_int(wait_file(alerts, "timeout t ", 1, 100), 1, "timeout fired once per instance");
	ok(hook_srv_requests(&hs) >= 3, "the webhook got each alert (%d)", hook_srv_requests(&hs));
	ok(sh_log_has(st, "t", c0, "webhook http://127.0.0.1:"), "delivery results are in the log");
	jm = metrics_of("t");
	ok(jm.timeouts_total == 2 && jm.attempts_total == 2 && jm.attempts_failed_total == 2,
	    "metrics: 2 attempts, 2 failed, 2 timeouts (%lld %lld %lld)",
	    (long long)jm.attempts_total, (long long)jm.attempts_failed_total,
	    (long long)jm.timeouts_total);
	ok(jm.alerts_total == 3 && jm.by_state[INST_FAILED] == 1,
	    "metrics: 3 alerts sent (each through both channels), 1 FAILED (%lld)",
	    (long long)jm.alerts_total);

	/* a webhook nobody answers: the failure is in the log and the metrics */
	(void)snprintf(sched, sizeof(sched), CY5 ",\"alert\":{\"on\":[\"exhausted\"],"
	    "\"webhook\":\"http://127.0.0.1:%u/hook\"}", loopback_free_port());
	is_int(define("w", job("w", sched, "", RD_STREAM(1), blocker)), 0,
	    "define w (fails; its webhook refuses connections)");
	atomic_store(&sh_now, T0_MS + 5 * MIN_MS);	/* its first cycle */
	cyc(T0_MS + 5 * MIN_MS, c0);
	sh_step_idle(s);
	for (t = 0; t < 100 && metrics_of("w").alerts_failed_total == 0; t++)
		usleep(50000);
	jm = metrics_of("w");
	is_int(jm.alerts_failed_total, 1, "the failed delivery is counted");
	ok(sh_log_has(st, "w", c0, "not delivered"), "and logged in the instance log");
	inst_free(&in);
	finish();
	hook_srv_stop(&hs);
}

/* ---- 6. SKIPPED is loud; catchup "all" ----------------------------------------------- */

static void
test_skipped(void)
{
	struct sched_job_metrics jm;
	char sched[1024];
	int k, n;

	start(4);
	atomic_store(&sh_now, T0_MS);
	(void)snprintf(sched, sizeof(sched), CY5 ",\"catchup\":\"1h\",\"alert\":{\"on\":"
	    "[\"skipped\"],\"exec\":[\"/bin/sh\",\"-c\",\"echo skipped $DIFS_JOB: $DIFS_REASON "
	    ">> %s\"]}", alerts);
	is_int(define("sk", job("sk", sched, "", RD_STREAM(1), outdir)), 0, "define sk (catchup 1h)");
	is_int(define("all", job("all", CY5 ",\"catchup\":\"all\"", "", RD_STREAM(1), outdir)), 0,
	    "define all (catchup all)");
	sh_step_idle(s);
	atomic_store(&sh_now, T0_MS + 6 * 3600 * 1000LL);	/* the daemon was down 6 h */
	sh_step_idle(s);
	for (k = 0; k < 200 && (sh_count(st, "all", INST_WAITING) > 0 ||
	    sh_count(st, "sk", INST_WAITING) > 0); k++)
		sh_step_idle(s);
	n = sh_count(st, "sk", INST_SKIPPED);
	is_int(n, 59, "sk: the 59 cycles more than 1 h old at 06:00 are SKIPPED (%d)", n);
	is_int(sh_count(st, "sk", INST_SUCCESS), 1 + 13, "sk: 00:00 and the last hour ran");
	is_int(sh_count(st, "all", INST_SKIPPED), 0, "all: none is skipped");
	is_int(sh_count(st, "all", INST_SUCCESS), 6 * 12 + 1, "all: every cycle ran");
	ok(sh_log_has(st, "sk", NULL, "59 cycles from 20261125000500 to 20261125045500 SKIPPED"),
	    "the job log says which cycles were skipped");
	is_int(wait_file(alerts, "skipped sk: 59 cycles", 1, 5000), 1,
	    "one skipped alert for the batch, naming the range");
	jm = metrics_of("sk");
	is_int(jm.skipped_total, 59, "metrics: 59 skipped cycles");
	is_int(jm.by_state[INST_SKIPPED], 59, "metrics: 59 instances SKIPPED");
	finish();
}

/* ---- 7. dependencies ------------------------------------------------------------------ */

static void
test_deps(void)
{
	struct inst in, up;
	char msg[600], y[16], y5[16];
	int64_t Y = T0_MS + 3600 * 1000LL;	/* 01:00 */
	int k;

	start(4);
	inst_init(&in);
	inst_init(&up);
	atomic_store(&sh_now, Y);
	cyc(Y, y);
	cyc(Y + 300000, y5);
	is_int(define("u", job("u", CY5, "", RD_STREAM(1), blocker)), 0, "define u (fails)");
	is_int(define("d", job("d", CY5 ",\"dependsOn\":[{\"job\":\"u\"}]", "", RD_STREAM(1),
	    outdir)), 0, "define d: depends on u (same cycle)");
	is_int(define("hr", job("hr", "\"cycle\":\"1h\",\"timezone\":\"" ZONE "\","
	    "\"dependsOn\":[{\"job\":\"u\",\"cycle\":\"same\"}]", "", RD_STREAM(1), outdir)), 0,
	    "define hr: hourly, depends on u");
	is_int(define("lt", job("lt", CY5 ",\"dependsOn\":[{\"job\":\"hr\",\"cycle\":\"latest\"}]",
	    "", RD_STREAM(1), outdir)), 0, "define lt: 5-minute, depends on hourly hr (latest)");
	is_int(define("nd", job("nd", CY5 ",\"dependsOn\":[{\"job\":\"ghost\"}]", "", RD_STREAM(1),
	    outdir)), 0, "define nd: depends on a job that is not defined");
	for (k = 0; k < 3; k++)
		sh_step_idle(s);
	sh_get(s, "u", y, &up);
	is_str(inst_state_name(up.state), "FAILED", "u fails");
	sh_get(s, "d", y, &in);
	ok(in.state == INST_WAITING && strstr(in.reason, "waiting for upstream job u: its instance "
	    "20261125010000 is FAILED") != NULL, "d waits for u: %s", in.reason);
	sh_get(s, "hr", y, &in);
	ok(in.state == INST_WAITING && strstr(in.reason, "upstream job u") != NULL,
	    "hr waits for u: %s", in.reason);
	sh_get(s, "lt", y, &in);
	ok(in.state == INST_WAITING && strstr(in.reason, "upstream job hr: its instance "
	    "20261125010000 is WAITING") != NULL, "lt waits for hr: %s", in.reason);
	sh_get(s, "nd", y, &in);
	ok(in.state == INST_WAITING && strstr(in.reason, "ghost: it is not defined") != NULL,
	    "nd: %s", in.reason);
	/* the next 5 minutes: lt's 01:05 waits for hr's 01:00 (DataWorks' rule) */
	atomic_store(&sh_now, Y + 300000);
	sh_step_idle(s);
	sh_step_idle(s);
	sh_get(s, "lt", y5, &in);
	ok(in.state == INST_WAITING && strstr(in.reason, "upstream job hr: its instance "
	    "20261125010000") != NULL, "lt's 01:05 waits for hr's 01:00: %s", in.reason);
	sh_get(s, "d", y5, &in);
	ok(in.state == INST_WAITING && strstr(in.reason, "20261125010500 is FAILED") != NULL,
	    "d's 01:05 waits for u's 01:05: %s", in.reason);
	/* fixed; rerun descendants of u's 01:00 */
	is_int(define("u", job("u", CY5, "", RD_STREAM(1), outdir)), 0, "u is fixed");
	is_int(ctl_inst("u", y, "rerun descendants", msg, sizeof(msg)), 0, "rerun descendants: %s",
	    msg);
	ok(strstr(msg, "4 descendant instances") != NULL, "d's and hr's 01:00, and lt's 01:00 and "
	    "01:05, which wait for hr's 01:00: %s", msg);
	for (k = 0; k < 6; k++)
		sh_step_idle(s);
	sh_get(s, "u", y, &up);
	is_str(inst_state_name(up.state), "SUCCESS", "u's 01:00 succeeds");
	sh_get(s, "d", y, &in);
	ok(in.state == INST_SUCCESS && in.started_ms >= up.finished_ms,
	    "d's 01:00 ran after it (%s)", inst_state_name(in.state));
	ok(in.nattempts == 1 && in.attempts[0].trigger == INST_AT_CTL,
	    "its one attempt was started by ctl");
	sh_get(s, "hr", y, &up);
	is_str(inst_state_name(up.state), "SUCCESS", "hr's 01:00 too");
	sh_get(s, "lt", y5, &in);
	ok(in.state == INST_SUCCESS && in.started_ms >= up.finished_ms,
	    "lt's 01:05 ran after hr's 01:00 (%s)", inst_state_name(in.state));
	sh_get(s, "d", y5, &in);
	ok(in.state == INST_WAITING, "d's 01:05 still waits: u's 01:05 failed and was not rerun (%s)",
	    inst_state_name(in.state));
	inst_free(&in);
	inst_free(&up);
	finish();
}

/* ---- 8. the unfinished_by baseline -------------------------------------------------- */

static void
test_unfinished(void)
{
	char sched[1024];
	int n;

	start(4);
	atomic_store(&sh_now, T0_MS);
	(void)snprintf(sched, sizeof(sched), CY5 ",\"alert\":{\"on\":[\"unfinished_by\"],"
	    "\"unfinished_by\":\"00:30\",\"exec\":[\"/bin/sh\",\"-c\",\"echo unfinished "
	    "$DIFS_CYCLE $DIFS_STATE >> %s\"]}", alerts);
	is_int(define("ub", job("ub", sched, "", RD_STREAM(1), blocker)), 0,
	    "define ub (fails; baseline 00:30)");
	sh_step_idle(s);
	atomic_store(&sh_now, T0_MS + 29 * MIN_MS);
	sh_step_idle(s);
	usleep(200000);
	is_int(wait_file(alerts, "unfinished ", 1, 100), 0, "nothing before 00:30");
	atomic_store(&sh_now, T0_MS + 31 * MIN_MS);
	sh_step_idle(s);
	n = wait_file(alerts, "unfinished ", 7, 5000);
	is_int(n, 7, "at 00:31 each of the 7 cycles to 00:30 that is not SUCCESS alerts");
	ok(strstr(slurp(alerts), "unfinished 20261125000000 FAILED") != NULL &&
	    strstr(slurp(alerts), "unfinished 20261125003000 ") != NULL,
	    "with its cycle and state (00:30 was just created)");
	sh_step_idle(s);
	usleep(200000);
	is_int(wait_file(alerts, "unfinished ", 8, 100), 7, "once per instance");
	finish();
}

int
main(void)
{
	struct conf_source *down;
	int fd;

	(void)snprintf(tmpdir, sizeof(tmpdir), "%s/difs-test-ops-XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	(void)snprintf(outdir, sizeof(outdir), "%s/out", tmpdir);
	(void)snprintf(blocker, sizeof(blocker), "%s/blocked", tmpdir);
	(void)mkdir(outdir, 0755);
	if ((fd = open(blocker, O_CREAT | O_WRONLY, 0644)) >= 0)	/* a file where a dir must be */
		close(fd);
	if (conf_srcset_new(&srcs) != 0 || (down = sh_source("down",
	    "{\"type\":\"ots\",\"endpoint\":\"http://127.0.0.1:9\",\"instanceName\":\"i\","
	    "\"accessId\":\"id\",\"accessKey\":\"key\"}")) == NULL || conf_srcset_add(srcs, down) != 0)
		BAIL_OUT("sources");

	(void)snprintf(alerts, sizeof(alerts), "%s/alerts1", tmpdir);
	test_guard_rails();
	test_classes_and_ctl();
	test_fairness();
	test_max_concurrent();
	test_timeout_alerts();
	(void)snprintf(alerts, sizeof(alerts), "%s/alerts2", tmpdir);
	test_skipped();
	(void)snprintf(alerts, sizeof(alerts), "%s/alerts3", tmpdir);
	test_deps();
	test_unfinished();

	conf_srcset_free(srcs);
	{
		char cmd[400];

		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", tmpdir);
	}
	return done_testing();
}
