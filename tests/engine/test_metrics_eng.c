/* SPDX-License-Identifier: MIT */
/*
 * test_metrics_eng.c - MOUNT/metrics through the engine API on a fake
 * clock: the file keeps its bytes and mtime while nothing changes (the
 * clock moving is no change), a finished run changes both, the file's
 * freshness lag is measured at its mtime while eng_metrics (the HTTP body)
 * measures it now, and the file reads back exactly its size.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "view.h"
#include "scheduler.h"
#include "tap.h"

/* 2026-11-25 01:00:00 UTC */
#define T1_MS	(1795568400000LL)

static atomic_llong fake_now;
static char tmpdir[256];

static int64_t
fake_clock(void *arg)
{
	(void)arg;
	return atomic_load(&fake_now);
}

/* the bytes of MOUNT/metrics as one open + read + release; NULL on error */
static char *
read_metrics(struct eng *e, uint64_t ino)
{
	struct eng_open oi;
	struct buf b;
	char *s;
	size_t n;

	if (eng_open(e, ino, O_RDONLY, 0, &oi) != 0)
		return NULL;
	buf_init(&b, BUF_MAX_DOC);
	if (eng_read(e, oi.fh, 0, BUF_MAX_DOC, &b) != 0) {
		buf_free(&b);
		(void)eng_release(e, oi.fh);
		return NULL;
	}
	(void)eng_release(e, oi.fh);
	s = buf_take(&b, &n);
	buf_free(&b);
	return s;
}

/* the value of the sample line starting with `line` ("NAME{...} "), or -1 */
static double
sample(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if (p == text || p[-1] == '\n')
			return strtod(p + n, NULL);
		p += n;
	}
	return -1;
}

/*
 * write data and close, as `echo data > FILE`: FILE is dir/name, created
 * (name != NULL), or the existing inode ino (a ctl file).  The rc of the
 * write, else of the close.
 */
static int
write_file(struct eng *e, uint64_t dir, const char *name, uint64_t ino, const char *data)
{
	struct eng_entry ent;
	struct eng_open oi;
	size_t w;
	int rc, rc2;

	rc = name != NULL ?
	    eng_create(e, dir, name, 0644, O_WRONLY | O_CREAT | O_TRUNC, 0, &ent, &oi) :
	    eng_open(e, ino, O_WRONLY, 0, &oi);
	if (rc != 0)
		return rc;
	rc = eng_write(e, oi.fh, 0, data, strlen(data), &w);
	rc2 = eng_release(e, oi.fh);
	if (name != NULL)
		eng_forget(e, ent.attr.ino, 1);
	return rc != 0 ? rc : rc2;
}

/* nftw callback of the clean-up: children first (FTW_DEPTH) */
static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

int
main(void)
{
	/* nosync: a test; the fake clock drives the scheduler and every mtime */
	const struct eng_config c = {
		.state_dir = tmpdir, .exclusive = true, .nosync = true, .workers = 1,
		.now_ms = fake_clock, .uid = getuid(), .gid = getgid(),
	};
	struct eng_errbuf eb = { "" };
	struct eng_entry a, b, ent;
	struct eng *e = NULL;
	struct buf h;
	const char *base = getenv("TMPDIR");
	char job[2048], *s1 = NULL, *s2 = NULL, *s3 = NULL;
	uint64_t ino, jd, ctl;
	double lag_file, lag_http, last;
	int i, rc;

	(void)snprintf(tmpdir, sizeof(tmpdir), "%s/test_metrics_eng.XXXXXX",
	    base != NULL ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	atomic_init(&fake_now, T1_MS);
	if ((rc = eng_new(&c, &e, &eb)) != 0)
		printf("# eng_new: %s: %s\n", eng_strerror(rc), eb.msg);
	ok(e != NULL, "eng_new");
	if (e == NULL)
		return done_testing();

	is_rc(eng_lookup(e, ENG_INO_ROOT, "metrics", &a), 0, "lookup MOUNT/metrics");
	ino = a.attr.ino;
	is_int(ino, ENG_INO_METRICS, "its inode is ENG_INO_METRICS");
	ok(a.attr.mode == (S_IFREG | 0444) && a.attr_timeout == 0, "a live 0444 file");
	s1 = read_metrics(e, ino);
	ok(s1 != NULL && strlen(s1) == a.attr.size && a.attr.size > 0, "size = the bytes read (%llu)",
	    (unsigned long long)a.attr.size);
	is_int(a.attr.mtime_ns, T1_MS * 1000000, "mtime: when it was built");

	/* the clock moving changes nothing */
	atomic_store(&fake_now, T1_MS + 100000);
	is_rc(eng_getattr(e, ino, &b), 0, "getattr 100 s later");
	ok(b.attr.size == a.attr.size && b.attr.mtime_ns == a.attr.mtime_ns,
	    "nothing changed: same size and mtime");
	s2 = read_metrics(e, ino);
	ok(s1 != NULL && s2 != NULL && strcmp(s1, s2) == 0, "and the same bytes");
	free(s2);
	s2 = NULL;

	/* a job that runs once */
	(void)snprintf(job, sizeof(job),
	    "{\"type\":\"job\",\"version\":\"2.0\",\n"
	    " \"configuration\":{\"setting\":{\"errorLimit\":{\"record\":\"0\"},"
	    "\"speed\":{\"concurrent\":\"1\"}},\n"
	    " \"reader\":{\"plugin\":\"stream\",\"parameter\":{\"sliceRecordCount\":\"7\","
	    "\"column\":[{\"type\":\"string\",\"value\":\"x\"}]}},\n"
	    " \"writer\":{\"plugin\":\"txtfile\",\"parameter\":{\"path\":\"%s/out\",\"fileName\":\"o\","
	    "\"writeMode\":\"truncate\",\"fileFormat\":\"csv\"}}}}\n", tmpdir);
	is_rc(write_file(e, ENG_INO_JOBS, "j1.json", 0, job), 0, "define j1");
	s2 = read_metrics(e, ino);
	ok(s2 != NULL && sample(s2, "difs_job_instances{job_name=\"j1\",state=\"SUCCESS\"} ") == 0 &&
	    strstr(s2, "difs_job_freshness_lag_seconds{job_name=\"j1\"}") == NULL,
	    "a defined job has its series; no lag before a success");
	is_rc(eng_lookup(e, ENG_INO_INSTANCES, "j1", &ent), 0, "instances/j1");
	jd = ent.attr.ino;
	is_rc(eng_lookup(e, jd, "ctl", &ent), 0, "instances/j1/ctl");
	ctl = ent.attr.ino;
	is_rc(write_file(e, 0, NULL, ctl, "run 20261125000000\n"), 0, "ctl: run 20261125000000");
	for (i = 0; i < 100; i++) {
		struct sched_metrics m;
		int64_t done = 0;

		(void)sched_step(eng_scheduler(e));
		(void)sched_wait_idle(eng_scheduler(e), 10000);
		if (sched_metrics_get(eng_scheduler(e), &m) == 0) {
			done = m.njobs == 1 ? m.jobs[0].by_state[INST_SUCCESS] : 0;
			sched_metrics_free(&m);
		}
		if (done == 1)
			break;
		usleep(20000);
	}
	ok(i < 100, "the run succeeded");

	atomic_store(&fake_now, T1_MS + 200000);
	is_rc(eng_getattr(e, ino, &b), 0, "getattr after the run");
	s3 = read_metrics(e, ino);
	ok(s3 != NULL && strlen(s3) == b.attr.size, "size = the bytes read");
	is_int(b.attr.mtime_ns, (T1_MS + 200000) * 1000000, "the run moved the mtime to now");
	ok(s3 != NULL && sample(s3, "difs_job_attempts_total{job_name=\"j1\"} ") == 1 &&
	    sample(s3, "difs_job_records_written_total{job_name=\"j1\"} ") == 7 &&
	    sample(s3, "difs_job_instances{job_name=\"j1\",state=\"SUCCESS\"} ") == 1,
	    "one attempt, 7 records, one SUCCESS");
	last = s3 != NULL ? sample(s3, "difs_job_last_success_timestamp_seconds{job_name=\"j1\"} ") : -1;
	lag_file = s3 != NULL ? sample(s3, "difs_job_freshness_lag_seconds{job_name=\"j1\"} ") : -1;
	ok(last > 0 && lag_file == (double)(T1_MS + 200000) / 1000 - last,
	    "the file's lag is measured at its mtime (last %.3f, lag %.3f)", last, lag_file);

	/* 250 s on: the file stays, the HTTP body's lag grows */
	atomic_store(&fake_now, T1_MS + 450000);
	is_rc(eng_getattr(e, ino, &a), 0, "getattr 250 s later");
	ok(a.attr.size == b.attr.size && a.attr.mtime_ns == b.attr.mtime_ns,
	    "the file: same size and mtime");
	free(s2);
	s2 = read_metrics(e, ino);
	ok(s2 != NULL && s3 != NULL && strcmp(s2, s3) == 0, "the file: same bytes, same lag");
	buf_init(&h, BUF_MAX_DOC);
	is_rc(eng_metrics(e, &h), 0, "eng_metrics");
	lag_http = sample(h.p, "difs_job_freshness_lag_seconds{job_name=\"j1\"} ");
	ok(lag_http == lag_file + 250, "eng_metrics: the lag now (%.3f = %.3f + 250)", lag_http,
	    lag_file);
	ok(strstr(h.p, "# TYPE difs_job_attempt_duration_seconds histogram\n") != NULL &&
	    sample(h.p, "difs_job_attempt_duration_seconds_count{job_name=\"j1\"} ") == 1,
	    "eng_metrics: the same families");
	buf_free(&h);

	/* a change moves the mtime to now; a second change in the same
	 * millisecond still moves it (by 1 ms), so rsync and find -newer see it */
	for (i = 0; i < 2; i++) {
		is_rc(write_file(e, 0, NULL, ctl, i == 0 ? "pause\n" : "resume\n"), 0, "ctl: %s",
		    i == 0 ? "pause" : "resume, the clock not moved");
		is_rc(eng_getattr(e, ino, &b), 0, "getattr");
		free(s3);
		s3 = read_metrics(e, ino);
		ok(s3 != NULL && sample(s3, "difs_job_paused{job_name=\"j1\"} ") == (i == 0) &&
		    strlen(s3) == b.attr.size, "paused %d shows, size true", i == 0);
		is_int(b.attr.mtime_ns, (T1_MS + 450000 + i) * 1000000,
		    i == 0 ? "pause: mtime now" : "resume in the same ms: mtime + 1 ms");
	}

	free(s1);
	free(s2);
	free(s3);
	eng_free(e);
	(void)nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
