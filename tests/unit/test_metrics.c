/* SPDX-License-Identifier: MIT */
/*
 * test_metrics.c - the Prometheus text of MOUNT/metrics and --metrics
 * (engine/view/view_metrics.c): the exact bytes for one hand-filled job,
 * label escaping (a job name may hold " and \), UTF-8 repair, number
 * formatting, what is left out (no success yet, unknown process figures).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "view_metrics.h"
#include "tap.h"

/* every line of the document for job "orders" below, in order */
static const char want_one[] =
    "# HELP difs_job_instances Instance records of the job in each state now (every state, 0 included).\n"
    "# TYPE difs_job_instances gauge\n"
    "difs_job_instances{job_name=\"orders\",state=\"WAITING\"} 1\n"
    "difs_job_instances{job_name=\"orders\",state=\"RUNNING\"} 0\n"
    "difs_job_instances{job_name=\"orders\",state=\"RETRY_WAIT\"} 0\n"
    "difs_job_instances{job_name=\"orders\",state=\"SUCCESS\"} 5\n"
    "difs_job_instances{job_name=\"orders\",state=\"FAILED\"} 2\n"
    "difs_job_instances{job_name=\"orders\",state=\"KILLED\"} 1\n"
    "difs_job_instances{job_name=\"orders\",state=\"FROZEN\"} 0\n"
    "difs_job_instances{job_name=\"orders\",state=\"SKIPPED\"} 3\n"
    "# HELP difs_job_running Attempts of the job running now.\n"
    "# TYPE difs_job_running gauge\n"
    "difs_job_running{job_name=\"orders\"} 0\n"
    "# HELP difs_job_paused 1 while the job is paused (ctl pause), else 0.\n"
    "# TYPE difs_job_paused gauge\n"
    "difs_job_paused{job_name=\"orders\"} 1\n"
    "# HELP difs_job_priority The job's schedule.priority (higher starts first).\n"
    "# TYPE difs_job_priority gauge\n"
    "difs_job_priority{job_name=\"orders\"} 5\n"
    "# HELP difs_job_attempts_total Attempts of the job that finished, since the daemon started.\n"
    "# TYPE difs_job_attempts_total counter\n"
    "difs_job_attempts_total{job_name=\"orders\"} 8\n"
    "# HELP difs_job_attempts_failed_total Finished attempts that failed (timeouts and kills included).\n"
    "# TYPE difs_job_attempts_failed_total counter\n"
    "difs_job_attempts_failed_total{job_name=\"orders\"} 3\n"
    "# HELP difs_job_timeouts_total Attempts stopped by schedule.timeoutSeconds.\n"
    "# TYPE difs_job_timeouts_total counter\n"
    "difs_job_timeouts_total{job_name=\"orders\"} 1\n"
    "# HELP difs_job_records_written_total Records written by finished attempts.\n"
    "# TYPE difs_job_records_written_total counter\n"
    "difs_job_records_written_total{job_name=\"orders\"} 12345\n"
    "# HELP difs_job_written_bytes_total Bytes written by finished attempts.\n"
    "# TYPE difs_job_written_bytes_total counter\n"
    "difs_job_written_bytes_total{job_name=\"orders\"} 987654321\n"
    "# HELP difs_job_skipped_cycles_total Cycles recorded SKIPPED (beyond schedule.catchup).\n"
    "# TYPE difs_job_skipped_cycles_total counter\n"
    "difs_job_skipped_cycles_total{job_name=\"orders\"} 3\n"
    "# HELP difs_job_attempt_duration_seconds Wall time of the job's finished attempts, in seconds.\n"
    "# TYPE difs_job_attempt_duration_seconds histogram\n"
    "difs_job_attempt_duration_seconds_bucket{job_name=\"orders\",le=\"1\"} 2\n"
    "difs_job_attempt_duration_seconds_bucket{job_name=\"orders\",le=\"5\"} 4\n"
    "difs_job_attempt_duration_seconds_bucket{job_name=\"orders\",le=\"10\"} 6\n"
    "difs_job_attempt_duration_seconds_bucket{job_name=\"orders\",le=\"30\"} 7\n"
    "difs_job_attempt_duration_seconds_bucket{job_name=\"orders\",le=\"60\"} 7\n"
    "difs_job_attempt_duration_seconds_bucket{job_name=\"orders\",le=\"120\"} 8\n"
    "difs_job_attempt_duration_seconds_bucket{job_name=\"orders\",le=\"300\"} 8\n"
    "difs_job_attempt_duration_seconds_bucket{job_name=\"orders\",le=\"600\"} 8\n"
    "difs_job_attempt_duration_seconds_bucket{job_name=\"orders\",le=\"1800\"} 8\n"
    "difs_job_attempt_duration_seconds_bucket{job_name=\"orders\",le=\"3600\"} 8\n"
    "difs_job_attempt_duration_seconds_bucket{job_name=\"orders\",le=\"+Inf\"} 8\n"
    "difs_job_attempt_duration_seconds_sum{job_name=\"orders\"} 123.5\n"
    "difs_job_attempt_duration_seconds_count{job_name=\"orders\"} 8\n"
    "# HELP difs_job_last_success_timestamp_seconds End of the data window of the job's newest SUCCESS (Unix time); absent before one.\n"
    "# TYPE difs_job_last_success_timestamp_seconds gauge\n"
    "difs_job_last_success_timestamp_seconds{job_name=\"orders\"} 1764028800\n"
    "# HELP difs_job_freshness_lag_seconds Seconds from the end of the newest SUCCESS's data window to when these figures were taken; absent before one.\n"
    "# TYPE difs_job_freshness_lag_seconds gauge\n"
    "difs_job_freshness_lag_seconds{job_name=\"orders\"} 3600.5\n"
    "# HELP difs_job_alerts_total Alert deliveries of the job (schedule.alert) by result: sent or failed.\n"
    "# TYPE difs_job_alerts_total counter\n"
    "difs_job_alerts_total{job_name=\"orders\",result=\"sent\"} 2\n"
    "difs_job_alerts_total{job_name=\"orders\",result=\"failed\"} 1\n"
    "# HELP difs_queue_depth Instances not in a final state (waiting, running, retrying, frozen).\n"
    "# TYPE difs_queue_depth gauge\n"
    "difs_queue_depth 1\n"
    "# HELP difs_workers_busy Attempts running now.\n"
    "# TYPE difs_workers_busy gauge\n"
    "difs_workers_busy 0\n"
    "# HELP difs_workers Attempts allowed to run at once (--workers).\n"
    "# TYPE difs_workers gauge\n"
    "difs_workers 4\n"
    "# HELP difs_process_resident_memory_bytes Resident memory of the daemon, in bytes.\n"
    "# TYPE difs_process_resident_memory_bytes gauge\n"
    "difs_process_resident_memory_bytes 4096000\n"
    "# HELP difs_process_open_fds Open file descriptors of the daemon.\n"
    "# TYPE difs_process_open_fds gauge\n"
    "difs_process_open_fds 12\n"
    "# HELP difs_process_max_fds The daemon's limit of open file descriptors (RLIMIT_NOFILE).\n"
    "# TYPE difs_process_max_fds gauge\n"
    "difs_process_max_fds 1024\n"
    "# HELP difs_process_start_time_seconds When the daemon started (Unix time).\n"
    "# TYPE difs_process_start_time_seconds gauge\n"
    "difs_process_start_time_seconds 1764000000.25\n"
    "# HELP difs_build_info Always 1; the label is the difs version.\n"
    "# TYPE difs_build_info gauge\n"
    "difs_build_info{version=\"0.1.0\"} 1\n";

static void
fill_orders(struct sched_job_metrics *j)
{
	static const int64_t dur[SCHED_DUR_NBUCKETS] = { 2, 4, 6, 7, 7, 8, 8, 8, 8, 8 };

	memset(j, 0, sizeof(*j));
	(void)snprintf(j->name, sizeof(j->name), "orders");
	j->by_state[INST_WAITING] = 1;
	j->by_state[INST_SUCCESS] = 5;
	j->by_state[INST_FAILED] = 2;
	j->by_state[INST_KILLED] = 1;
	j->by_state[INST_SKIPPED] = 3;
	j->attempts_total = 8;
	j->attempts_failed_total = 3;
	j->timeouts_total = 1;
	j->records_total = 12345;
	j->bytes_total = 987654321;
	memcpy(j->dur_bucket, dur, sizeof(dur));
	j->dur_count = 8;
	j->dur_sum_s = 123.5;
	j->alerts_total = 2;
	j->alerts_failed_total = 1;
	j->skipped_total = 3;
	j->last_success_end_ms = 1764028800000;	/* 2025-11-25T00:00:00Z */
	j->running = 0;
	j->priority = 5;
	j->paused = true;
}

/* the first differing line of got against want, for the diagnostics */
static void
show_diff(const char *got, const char *want)
{
	size_t line = 1;

	while (*got != '\0' && *got == *want) {
		if (*got == '\n')
			line++;
		got++;
		want++;
	}
	printf("# first difference at line %zu:\n#  got:  %.*s\n#  want: %.*s\n", line,
	    (int)strcspn(got, "\n"), got, (int)strcspn(want, "\n"), want);
}

static char *
label(const char *s, struct buf *b)
{
	buf_reset(b);
	(void)view_prom_label(b, s);
	return b->p;
}

static char *
num(double v, struct buf *b)
{
	buf_reset(b);
	(void)view_prom_double(b, v);
	return b->p;
}

int
main(void)
{
	struct sched_job_metrics jobs[2];
	struct sched_metrics m;
	struct view_proc p;
	struct buf b, c, t;

	buf_init(&b, BUF_MAX_DOC);
	buf_init(&t, 4096);

	/* one job: every line */
	fill_orders(&jobs[0]);
	memset(&m, 0, sizeof(m));
	m.jobs = jobs;
	m.njobs = 1;
	m.now_ms = 1764032400500;	/* an hour and half a second after the window end */
	m.pending = 1;
	m.running = 0;
	m.workers = 4;
	memset(&p, 0, sizeof(p));
	p.rss_bytes = 4096000;
	p.open_fds = 12;
	p.max_fds = 1024;
	p.start_ms = 1764000000250;
	p.version = "0.1.0";
	is_int(view_metrics_render(&m, &p, &b), 0, "render one job");
	ok(strcmp(b.p, want_one) == 0, "one job: the exact document");
	if (strcmp(b.p, want_one) != 0)
		show_diff(b.p, want_one);

	/* the same figures render the same bytes (the mount compares them) */
	buf_init(&c, BUF_MAX_DOC);
	(void)view_metrics_render(&m, &p, &c);
	ok(c.len == b.len && memcmp(c.p, b.p, b.len) == 0, "rendering is deterministic");
	buf_free(&c);

	/* the escaper: \ " newline; UTF-8 kept, stray bytes replaced */
	is_str(label("plain", &t), "plain", "label: plain text unchanged");
	is_str(label("a\"b\\c\nd", &t), "a\\\"b\\\\c\\nd", "label: \\ \" and newline escaped");
	is_str(label("\\\\", &t), "\\\\\\\\", "label: two backslashes -> four");
	is_str(label("caf\xc3\xa9 \xe6\x97\xa5", &t), "caf\xc3\xa9 \xe6\x97\xa5", "label: UTF-8 kept");
	is_str(label("a\xe9z", &t), "a\xef\xbf\xbdz", "label: a Latin-1 byte becomes U+FFFD");
	is_str(label("\xc0\xaf", &t), "\xef\xbf\xbd\xef\xbf\xbd", "label: an overlong '/' is two bad bytes");
	is_str(label("\xed\xa0\x80", &t), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	    "label: a surrogate is not UTF-8");
	is_str(label("x\xe6\x97", &t), "x\xef\xbf\xbd\xef\xbf\xbd", "label: a cut sequence at the end");

	/* numbers */
	is_str(num(1, &t), "1", "number: 1");
	is_str(num(0.1, &t), "0.1", "number: 0.1 (shortest exact)");
	is_str(num(0.1 + 0.2, &t), "0.30000000000000004", "number: 0.1+0.2 (17 digits)");
	is_str(num(1764000000.25, &t), "1764000000.25", "number: a Unix time with ms");
	is_str(num(10, &t), "10", "number: 10, not 1e+01");
	is_str(num(-3600, &t), "-3600", "number: a negative whole number");
	is_str(num(1e21, &t), "1e+21", "number: exponent form");
	is_str(num(1.5e-7, &t), "1.5e-07", "number: small");
	is_str(num(-2.5, &t), "-2.5", "number: negative");
	is_str(num(NAN, &t), "NaN", "number: NaN");
	is_str(num(INFINITY, &t), "+Inf", "number: +Inf");
	is_str(num(-INFINITY, &t), "-Inf", "number: -Inf");

	/* two jobs: the second's name needs escaping and it never succeeded */
	fill_orders(&jobs[1]);
	(void)snprintf(jobs[1].name, sizeof(jobs[1].name), "we\"ird\\job");
	jobs[1].last_success_end_ms = 0;
	m.njobs = 2;
	p.rss_bytes = -1;	/* /proc unreadable */
	p.open_fds = -1;
	p.max_fds = -1;
	buf_reset(&b);
	is_int(view_metrics_render(&m, &p, &b), 0, "render two jobs");
	ok(strstr(b.p, "difs_job_instances{job_name=\"we\\\"ird\\\\job\",state=\"SUCCESS\"} 5\n") != NULL,
	    "the odd job name is escaped in its samples");
	ok(strstr(b.p, "difs_job_attempt_duration_seconds_bucket{job_name=\"we\\\"ird\\\\job\",le=\"+Inf\"} 8\n")
	    != NULL, "and in its histogram");
	ok(strstr(b.p, "difs_job_freshness_lag_seconds{job_name=\"we") == NULL &&
	    strstr(b.p, "difs_job_last_success_timestamp_seconds{job_name=\"we") == NULL,
	    "no success yet: no lag and no last success sample");
	ok(strstr(b.p, "difs_job_freshness_lag_seconds{job_name=\"orders\"} 3600.5\n") != NULL,
	    "the other job keeps its lag");
	ok(strstr(b.p, "difs_job_running{job_name=\"orders\"} 0\ndifs_job_running{job_name=\"we\\\"ird\\\\job\"} 0\n")
	    != NULL, "jobs in the given order within a family");
	ok(strstr(b.p, "# TYPE difs_process_resident_memory_bytes gauge\n# HELP difs_process_open_fds")
	    != NULL && strstr(b.p, "\ndifs_process_resident_memory_bytes ") == NULL &&
	    strstr(b.p, "\ndifs_process_max_fds ") == NULL,
	    "unknown process figures: HELP and TYPE kept, no sample");

	/* a lag is never negative (a window end after now) */
	jobs[0].last_success_end_ms = m.now_ms + 5000;
	buf_reset(&b);
	(void)view_metrics_render(&m, &p, &b);
	ok(strstr(b.p, "difs_job_freshness_lag_seconds{job_name=\"orders\"} 0\n") != NULL,
	    "a window end in the future: lag 0");

	/* no job at all: every family still has HELP and TYPE */
	m.njobs = 0;
	buf_reset(&b);
	(void)view_metrics_render(&m, &p, &b);
	ok(strstr(b.p, "# TYPE difs_job_instances gauge\n# HELP difs_job_running ") != NULL &&
	    strstr(b.p, "# TYPE difs_job_attempt_duration_seconds histogram\n") != NULL &&
	    strstr(b.p, "{job_name=") == NULL, "no jobs: the families, no job sample");

	/* the process figures of this very process */
	view_proc_get(&p, 42);
	ok(p.rss_bytes > 0 && p.open_fds >= 3 && p.start_ms == 42 && p.version != NULL,
	    "view_proc_get: RSS %lld, %lld fds", (long long)p.rss_bytes, (long long)p.open_fds);

	buf_free(&b);
	buf_free(&t);
	return done_testing();
}
