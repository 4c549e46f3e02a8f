/* SPDX-License-Identifier: MIT */
/*
 * test_prune.c - retention (schedule.keepInstances, schedule.keepDays)
 * against a fake clock and a real LMDB store, runs through the real
 * pipeline (stream reader -> txtfile writer): what is removed (records,
 * logs, ctl results) and what stays (the newest keepInstances, the newest
 * SUCCESS, checkpoints, non-final records), and that data.mdb stops
 * growing under steady 1-minute cycles because LMDB reuses freed pages.
 *
 * The retention keys are set in struct conf_schedule after conf_job_parse
 * (see mkjob): the conf parser learns keepInstances/keepDays separately.
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

#include "ckpt.h"
#include "conf.h"
#include "cycle.h"
#include "scheduler.h"
#include "store.h"
#include "tap.h"
#include "tz.h"

static atomic_llong fake_now;	/* ms */
static atomic_int notified;	/* notify calls naming an instance */

/* 2026-11-25 00:00:00 +08:00 */
#define T0_MS	(1795536000000LL)
#define MIN_MS	60000LL
#define HOUR_MS	3600000LL

static char tmpdir[256];

static int64_t
fake_clock(void *arg)
{
	(void)arg;
	return atomic_fetch_add(&fake_now, 1);
}

static void
count_notify(void *arg, const char *job, const char *cycle)
{
	(void)arg;
	(void)job;
	if (cycle != NULL)
		atomic_fetch_add(&notified, 1);
}

/*
 * A job of one record per run written to DIR/NAME.csv (DIR a regular file:
 * every run FAILS), with keepInstances/keepDays set in its schedule.
 */
static struct conf_job *
mkjob(const char *name, const char *cycle, const char *dir, int64_t keep, int64_t days)
{
	char json[4096];
	struct conf_job *job = NULL;
	struct conf_schedule *sch;
	int n;

	n = snprintf(json, sizeof(json),
	    "{\"type\":\"job\",\"version\":\"2.0\","
	    "\"schedule\":{\"cycle\":\"%s\",\"timezone\":\"Asia/Shanghai\"},"
	    "\"configuration\":{\"setting\":{\"errorLimit\":{\"record\":\"0\"},"
	    "\"speed\":{\"concurrent\":\"1\"}},"
	    "\"reader\":{\"plugin\":\"stream\",\"parameter\":{\"sliceRecordCount\":\"1\","
	    "\"column\":[{\"type\":\"string\",\"value\":\"x\"}]}},"
	    "\"writer\":{\"plugin\":\"txtfile\",\"parameter\":{\"path\":\"%s\",\"fileName\":\"%s\","
	    "\"writeMode\":\"truncate\",\"fileFormat\":\"csv\"}}}}",
	    cycle, dir, name);
	if (n < 0 || (size_t)n >= sizeof(json))
		return NULL;
	if (conf_job_parse(name, json, strlen(json), NULL, NULL, NULL, &job) != 0) {
		printf("# job %s does not parse\n", name);
		return NULL;
	}
	/*
	 * keepInstances/keepDays are set here rather than in the JSON: the
	 * parser of those keys is written at the same time as retention.  The
	 * schedule is the job's own (conf_job_parse made it), so casting away
	 * const changes nothing anyone else shares.
	 */
	sch = (struct conf_schedule *)(uintptr_t)conf_job_schedule(job);
	if (sch == NULL) {
		conf_job_free(job);
		return NULL;
	}
	sch->keep_instances = keep;
	sch->keep_days = days;
	return job;
}

/* run cycles: for each k in [from, to), the clock at base + k * period */
static void
cycles(struct sched *s, int from, int to, int64_t base, int64_t period)
{
	int k;

	for (k = from; k < to; k++) {
		atomic_store(&fake_now, base + (int64_t)k * period + 1000);
		(void)sched_step(s);
		(void)sched_wait_idle(s, 30000);
	}
}

/*
 * Let the last runs' records be judged: pause the job (no new cycle), move
 * the clock past the once-a-minute limit of retention and step once.
 * The cycle of index `next` is then made when the job resumes.
 */
static void
settle(struct sched *s, const char *job, int next, int64_t base, int64_t period)
{
	struct eng_errbuf eb = { "" };

	if (sched_ctl_job(s, job, "pause", &eb) != 0)
		printf("# pause %s: %s\n", job, eb.msg);
	atomic_store(&fake_now, base + (int64_t)next * period + 1500);
	(void)sched_step(s);
	(void)sched_wait_idle(s, 30000);
}

static void
resume(struct sched *s, const char *job)
{
	struct eng_errbuf eb = { "" };

	if (sched_ctl_job(s, job, "resume", &eb) != 0)
		printf("# resume %s: %s\n", job, eb.msg);
}

struct tally {
	const char	*job;
	int		 n, final, by_state[INST_NSTATES];
	char		 oldest[16], newest_success[16];
	int64_t		 oldest_age_ms;	/* smallest finished_ms */
	int		 logs_missing;	/* kept records without a log */
};

static int
tally_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct tally *t = arg;
	size_t plen = strlen(t->job) + 1;
	struct inst in;

	(void)key;
	inst_init(&in);
	if (klen == plen + 14 && inst_decode(val, vlen, &in) == 0) {
		t->n++;
		t->by_state[in.state]++;
		if (inst_state_terminal(in.state)) {
			t->final++;
			if (t->oldest_age_ms == 0 || in.finished_ms < t->oldest_age_ms)
				t->oldest_age_ms = in.finished_ms;
		}
		if (t->oldest[0] == '\0')
			(void)snprintf(t->oldest, sizeof(t->oldest), "%s", in.cycle);
		if (in.state == INST_SUCCESS)
			(void)snprintf(t->newest_success, sizeof(t->newest_success), "%s", in.cycle);
	}
	inst_free(&in);
	return 0;
}

static int
tally_fn(struct store_txn *txn, void *arg)
{
	struct tally *t = arg;

	return store_iter(txn, STORE_DB_INSTANCES, t->job, strlen(t->job) + 1, NULL, 0, 0,
	    tally_cb, t);
}

static struct tally
tally(struct store *st, const char *job)
{
	struct tally t;

	memset(&t, 0, sizeof(t));
	t.job = job;
	if (store_view(st, tally_fn, &t) != 0)
		t.n = -1;
	return t;
}

/* what the store holds of one instance */
struct what {
	const char	*job, *cycle;
	bool		 record, ctl;
	uint64_t	 log_bytes, log_records;
};

static int
what_fn(struct store_txn *txn, void *arg)
{
	struct what *w = arg;
	char key[STORE_KEY_MAX + 1];
	const void *v;
	size_t klen, vlen;
	int rc;

	if ((rc = store_key_instance(key, sizeof(key), w->job, w->cycle, &klen)) != 0)
		return rc;
	w->record = store_get(txn, STORE_DB_INSTANCES, key, klen, &v, &vlen) == 0;
	if ((rc = store_log_stat(txn, key, klen, &w->log_bytes, &w->log_records)) != 0)
		return rc;
	if ((rc = sched_ctl_key(w->job, w->cycle, key, sizeof(key), &klen)) != 0)
		return rc;
	w->ctl = store_get(txn, STORE_DB_META, key, klen, &v, &vlen) == 0;
	return 0;
}

static struct what
what(struct store *st, const char *job, const char *cycle)
{
	struct what w = { .job = job, .cycle = cycle };

	if (store_view(st, what_fn, &w) != 0)
		w.log_records = UINT64_MAX;
	return w;
}

/* a ctl result as the mount writes one ("MS\nTEXT") */
static int
ctl_put_fn(struct store_txn *txn, void *arg)
{
	const char **jc = arg;
	char key[STORE_KEY_MAX + 1];
	size_t klen;
	int rc;

	if ((rc = sched_ctl_key(jc[0], jc[1], key, sizeof(key), &klen)) != 0)
		return rc;
	return store_put(txn, STORE_DB_META, key, klen, "1\nok: rerun\n", 12, 0);
}

struct joblogq {
	const char	*job;
	struct buf	*out;
};

static int
joblog_fn(struct store_txn *txn, void *arg)
{
	struct joblogq *q = arg;
	char key[STORE_KEY_MAX + 1];
	size_t klen, got;
	uint64_t bytes, recs;
	int rc;

	if ((rc = sched_joblog_key(q->job, key, sizeof(key), &klen)) != 0 ||
	    (rc = store_log_stat(txn, key, klen, &bytes, &recs)) != 0 ||
	    (rc = buf_reserve(q->out, (size_t)bytes + 1)) != 0 ||
	    (rc = store_log_read(txn, key, klen, 0, q->out->p, (size_t)bytes, &got)) != 0)
		return rc;
	q->out->len = got;
	q->out->p[got] = '\0';
	return 0;
}

static int
joblog_count(struct store *st, const char *job, const char *needle)
{
	struct buf b;
	struct joblogq q = { job, &b };
	const char *p;
	int n = 0;

	buf_init(&b, BUF_MAX_DOC);
	if (store_view(st, joblog_fn, &q) == 0)
		for (p = b.p; (p = strstr(p, needle)) != NULL; p++)
			n++;
	buf_free(&b);
	return n;
}

static char *
cycle_id(int64_t ms, char out[16])
{
	struct tz *tz = NULL;

	out[0] = '\0';
	if (tz_load("Asia/Shanghai", &tz, NULL) == 0)
		(void)cycle_id_format(ms / 1000, tz, out);
	tz_free(tz);
	return out;
}

static uint64_t
mdb_used(struct store *st)
{
	struct store_info si;

	return store_get_info(st, &si) == 0 ? si.used : 0;
}

static long long
mdb_file(void)
{
	char path[512];
	struct stat sb;

	(void)snprintf(path, sizeof(path), "%s/state/data.mdb", tmpdir);
	return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

int
main(void)
{
	struct store_config scfg = { .nosync = true };
	struct sched_config cfg;
	struct eng_errbuf eb = { "" };
	struct store *st = NULL;
	struct sched *s = NULL;
	struct tally t;
	struct what w;
	struct buf ck;
	char out[512], bad[512], state[512], cyc[16], first[16], cmd[600];
	const char *jc[2];
	uint64_t used1, used2;
	long long file1, file2;
	int fd, k;

	(void)snprintf(tmpdir, sizeof(tmpdir), "%s/difs-test-prune-XXXXXX",
	    getenv("TMPDIR") != NULL && *getenv("TMPDIR") != '\0' ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	(void)snprintf(out, sizeof(out), "%s/out", tmpdir);
	(void)snprintf(bad, sizeof(bad), "%s/blocked", tmpdir);
	(void)snprintf(state, sizeof(state), "%s/state", tmpdir);
	(void)mkdir(out, 0755);
	fd = open(bad, O_CREAT | O_WRONLY, 0644);	/* a file where a directory must be */
	if (fd >= 0)
		close(fd);
	is_int(store_open(state, &scfg, &st, &eb), 0, "store opens: %s", eb.msg);
	atomic_init(&fake_now, T0_MS);
	memset(&cfg, 0, sizeof(cfg));
	cfg.store = st;
	cfg.workers = 4;
	cfg.now_ms = fake_clock;
	cfg.notify = count_notify;
	is_int(sched_new(&cfg, &s, &eb), 0, "scheduler starts");

	/* 1. keepInstances=20 over 300 1-minute cycles */
	is_int(sched_job_set(s, "k20", mkjob("k20", "1m", out, 20, 0), &eb), 0, "k20 defined");
	is_int(ckpt_put(st, "k20", "shard0", "seq=42", 6), 0, "a checkpoint of k20");
	cycles(s, 0, 3, T0_MS, MIN_MS);
	(void)cycle_id(T0_MS, first);
	jc[0] = "k20";
	jc[1] = first;
	is_int(store_update(st, ctl_put_fn, (void *)jc), 0, "a ctl result for the first instance");
	w = what(st, "k20", first);
	ok(w.record && w.ctl && w.log_records > 0, "the first instance has a record, a log, a ctl result");
	atomic_store(&notified, 0);
	cycles(s, 3, 300, T0_MS, MIN_MS);
	settle(s, "k20", 300, T0_MS, MIN_MS);
	t = tally(st, "k20");
	is_int(t.final, 20, "k20: 20 final records remain of 300");
	is_int(t.by_state[INST_SUCCESS], 20, "k20: all of them SUCCESS");
	is_int(t.n, 20, "k20: and nothing else");
	w = what(st, "k20", first);
	ok(!w.record && w.log_records == 0 && w.log_bytes == 0 && !w.ctl,
	    "k20: the first instance's record, log and ctl result are gone");
	w = what(st, "k20", cycle_id(T0_MS + 150 * MIN_MS, cyc));
	ok(!w.record && w.log_records == 0, "k20: %s (cycle 150) is gone with its log", cyc);
	w = what(st, "k20", t.newest_success);
	ok(w.record && w.log_records > 0, "k20: the newest kept one has its log");
	ok(strcmp(t.oldest, cycle_id(T0_MS + 270 * MIN_MS, cyc)) >= 0,
	    "k20: the oldest kept (%s) is one of the newest cycles", t.oldest);
	ok(atomic_load(&notified) >= 277, "k20: notify called for each removal (%d)",
	    atomic_load(&notified));
	buf_init(&ck, 1024);
	is_int(ckpt_get(st, "k20", "shard0", &ck), 0, "k20: the checkpoint stays");
	is_str(ck.p, "seq=42", "k20: unchanged");
	buf_free(&ck);
	k = joblog_count(st, "k20", "retention: removed ");
	ok(k >= 4 && k <= 6, "k20: the job log says so (%d lines: one an hour at most)", k);
	ok(joblog_count(st, "k20", "beyond keepInstances=20") == k, "k20: naming the limit");

	/* 2. the newest SUCCESS survives when all later ones FAILED */
	is_int(sched_job_set(s, "ns", mkjob("ns", "1m", out, 5, 0), &eb), 0, "ns defined");
	cycles(s, 301, 311, T0_MS, MIN_MS);
	settle(s, "ns", 311, T0_MS, MIN_MS);
	t = tally(st, "ns");
	is_int(t.by_state[INST_SUCCESS], 5, "ns: 10 successes, 5 kept");
	is_int(t.n, 5, "ns: nothing else");
	(void)snprintf(first, sizeof(first), "%s", t.newest_success);
	is_int(sched_job_set(s, "ns", mkjob("ns", "1m", bad, 5, 0), &eb), 0, "ns redefined to fail");
	resume(s, "ns");
	cycles(s, 312, 342, T0_MS, MIN_MS);
	settle(s, "ns", 342, T0_MS, MIN_MS);
	t = tally(st, "ns");
	is_int(t.by_state[INST_SUCCESS], 1, "ns: one SUCCESS remains");
	is_str(t.newest_success, first, "ns: the newest one");
	is_int(t.by_state[INST_FAILED], 5, "ns: and the 5 newest FAILED");
	w = what(st, "ns", first);
	ok(w.record && w.log_records > 0, "ns: the kept SUCCESS keeps its log");

	/* 3. keepDays=1: hourly cycles over 3 days, nothing kept by count */
	atomic_store(&fake_now, T0_MS + 2 * 86400000LL);
	is_int(sched_job_set(s, "d1", mkjob("d1", "1h", out, 0, 1), &eb), 0, "d1 defined");
	cycles(s, 48, 120, T0_MS, HOUR_MS);
	t = tally(st, "d1");
	ok(t.final >= 23 && t.final <= 26, "d1: about a day of hourly instances remains (%d)", t.final);
	ok(t.oldest_age_ms >= T0_MS + 119 * HOUR_MS - 86400000LL - HOUR_MS,
	    "d1: none finished more than a day (+ the pass period) ago");
	w = what(st, "d1", cycle_id(T0_MS + 50 * HOUR_MS, cyc));
	ok(!w.record && w.log_records == 0, "d1: an old one (%s) is gone with its log", cyc);
	ok(joblog_count(st, "d1", "older than keepDays=1 (finished before ") >= 1,
	    "d1: the job log names keepDays");

	/* 4. freelist reuse: keepInstances=50, 2,000 1-minute cycles */
	sched_free(s);
	s = NULL;
	atomic_store(&fake_now, T0_MS + 10 * 86400000LL);
	is_int(sched_new(&cfg, &s, &eb), 0, "scheduler restarts");
	is_int(sched_job_set(s, "f50", mkjob("f50", "1m", out, 50, 0), &eb), 0, "f50 defined");
	cycles(s, 0, 1000, T0_MS + 10 * 86400000LL, MIN_MS);
	used1 = mdb_used(st);
	file1 = mdb_file();
	cycles(s, 1000, 2000, T0_MS + 10 * 86400000LL, MIN_MS);
	used2 = mdb_used(st);
	file2 = mdb_file();
	settle(s, "f50", 2000, T0_MS + 10 * 86400000LL, MIN_MS);
	t = tally(st, "f50");
	is_int(t.final, 50, "f50: 50 final records remain of 2,000");
	printf("# data.mdb pages in use: %llu bytes after 1,000 cycles, %llu after 2,000 "
	    "(file %lld, %lld)\n", (unsigned long long)used1, (unsigned long long)used2,
	    file1, file2);
	ok(used1 > 0 && used2 * 10 <= used1 * 11,
	    "f50: the store grew at most 10%% from cycle 1,000 to 2,000 (%llu -> %llu)",
	    (unsigned long long)used1, (unsigned long long)used2);

	sched_free(s);
	store_close(st);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return done_testing();
}
