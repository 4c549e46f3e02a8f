/* SPDX-License-Identifier: MIT */
/*
 * view_metrics.c - MOUNT/metrics and what `difs mount --metrics` serves:
 * the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), read by
 * Prometheus itself and by node_exporter's textfile collector.
 *
 * Two users, two clocks:
 *   eng_metrics (HTTP): the figures now, rendered for every scrape.
 *   MOUNT/metrics: a file like every other of the mount, whose bytes and
 *     mtime change only when what it shows changes (tar, rsync, find
 *     -newer; tests/integration/tools.sh).  It keeps the text it last
 *     built with the process figures and the time ("as of", its mtime) it
 *     was built at; a read renders the scheduler's current figures at that
 *     same time with those process figures, and only when that differs from
 *     the kept text (a job's figures changed) is it built anew, now.  So
 *     time spans in the file (freshness lag) are measured at its as_of, as
 *     in instances/JOB/summary, and RSS is the one sampled then.
 *
 * Locks: e->metlock (the kept text) is a leaf; sched_metrics_get takes the
 * scheduler lock for one copy, never with e->metlock held.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "view_i.h"
#include "view_metrics.h"
#include "num.h"
#include "sys.h"

/* ---- the text format ---------------------------------------------------------- */

/* bytes of the valid UTF-8 sequence at s, 0 when it is not one (the
 * format is UTF-8, and a job's name is any bytes its file name was) */
static size_t
view_utf8_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {	/* stops at the NUL: not a continuation */
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;	/* overlong, a surrogate, beyond Unicode */
	return n;
}

int
view_prom_label(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (*p != '\0') {
		if (*p == '\\' || *p == '"' || *p == '\n') {
			(void)buf_addstr(out, *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n");
			p++;
		} else if ((n = view_utf8_len(p)) == 0) {
			(void)buf_addstr(out, "\xef\xbf\xbd");	/* U+FFFD for a stray byte */
			p++;
		} else {
			(void)buf_add(out, p, n);
			p += n;
		}
	}
	return out->err;
}

int
view_prom_double(struct buf *out, double v)
{
	char tmp[40];
	int prec;

	if (isnan(v))
		return buf_addstr(out, "NaN");
	if (isinf(v))
		return buf_addstr(out, v > 0 ? "+Inf" : "-Inf");
	if (v == trunc(v) && fabs(v) < 1e15)	/* a whole number: "10", not "1e+01" */
		return buf_printf(out, "%.0f", v);
	/* the shortest %g that reads back as v: "0.1", not "0.10000000000000001" */
	for (prec = 1; prec < 17; prec++) {
		(void)snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	(void)snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
	return buf_addstr(out, tmp);
}

static void
view_prom_head(struct buf *out, const char *name, const char *type, const char *help)
{
	(void)buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * NAME{job_name="JOB"[,LABEL="VALUE"] -- then view_prom_int or view_prom_val.
 * job_name, not job: Prometheus gives every scraped series a "job" label of
 * its own (the scrape job), and a scraped "job" would be renamed to
 * exported_job (kube-state-metrics' jobs use job_name for the same reason).
 */
static void
view_prom_job(struct buf *out, const char *name, const char *job, const char *label,
    const char *value)
{
	(void)buf_printf(out, "%s{job_name=\"", name);
	(void)view_prom_label(out, job);
	(void)buf_addc(out, '"');
	if (label != NULL) {
		(void)buf_printf(out, ",%s=\"", label);
		(void)view_prom_label(out, value);
		(void)buf_addc(out, '"');
	}
}

static void
view_prom_int(struct buf *out, int64_t v)
{
	(void)buf_printf(out, "} %" PRId64 "\n", v);
}

static void
view_prom_val(struct buf *out, double v)
{
	(void)buf_addstr(out, "} ");
	(void)view_prom_double(out, v);
	(void)buf_addc(out, '\n');
}

/* ---- the families -------------------------------------------------------------- */

/* a per-job family with one sample per job: which figure */
enum view_mf {
	VIEW_MF_RUNNING, VIEW_MF_PAUSED, VIEW_MF_PRIORITY, VIEW_MF_ATTEMPTS,
	VIEW_MF_FAILED, VIEW_MF_TIMEOUTS, VIEW_MF_RECORDS, VIEW_MF_BYTES, VIEW_MF_SKIPPED,
};

static const struct view_mfam {
	const char	*name, *type, *help;
	enum view_mf	 f;
} view_job_fams[] = {
	{ "difs_job_running", "gauge",
	  "Attempts of the job running now.", VIEW_MF_RUNNING },
	{ "difs_job_paused", "gauge",
	  "1 while the job is paused (ctl pause), else 0.", VIEW_MF_PAUSED },
	{ "difs_job_priority", "gauge",
	  "The job's schedule.priority (higher starts first).", VIEW_MF_PRIORITY },
	{ "difs_job_attempts_total", "counter",
	  "Attempts of the job that finished, since the daemon started.", VIEW_MF_ATTEMPTS },
	{ "difs_job_attempts_failed_total", "counter",
	  "Finished attempts that failed (timeouts and kills included).", VIEW_MF_FAILED },
	{ "difs_job_timeouts_total", "counter",
	  "Attempts stopped by schedule.timeoutSeconds.", VIEW_MF_TIMEOUTS },
	{ "difs_job_records_written_total", "counter",
	  "Records written by finished attempts.", VIEW_MF_RECORDS },
	{ "difs_job_written_bytes_total", "counter",
	  "Bytes written by finished attempts.", VIEW_MF_BYTES },
	{ "difs_job_skipped_cycles_total", "counter",
	  "Cycles recorded SKIPPED (beyond schedule.catchup).", VIEW_MF_SKIPPED },
};

static int64_t
view_mf_get(const struct sched_job_metrics *j, enum view_mf f)
{
	switch (f) {
	case VIEW_MF_RUNNING:	return j->running;
	case VIEW_MF_PAUSED:	return j->paused ? 1 : 0;
	case VIEW_MF_PRIORITY:	return j->priority;
	case VIEW_MF_ATTEMPTS:	return j->attempts_total;
	case VIEW_MF_FAILED:	return j->attempts_failed_total;
	case VIEW_MF_TIMEOUTS:	return j->timeouts_total;
	case VIEW_MF_RECORDS:	return j->records_total;
	case VIEW_MF_BYTES:	return j->bytes_total;
	case VIEW_MF_SKIPPED:	return j->skipped_total;
	}
	return 0;
}

static void
view_fam_instances(const struct sched_metrics *m, struct buf *out)
{
	size_t i;
	int s;

	view_prom_head(out, "difs_job_instances", "gauge",
	    "Instance records of the job in each state now (every state, 0 included).");
	for (i = 0; i < m->njobs; i++)
		for (s = 0; s < INST_NSTATES; s++) {
			view_prom_job(out, "difs_job_instances", m->jobs[i].name, "state",
			    inst_state_name((enum inst_state)s));
			view_prom_int(out, m->jobs[i].by_state[s]);
		}
}

static void
view_fam_duration(const struct sched_metrics *m, struct buf *out)
{
	const struct sched_job_metrics *j;
	struct buf le;
	size_t i;
	int b;

	view_prom_head(out, "difs_job_attempt_duration_seconds", "histogram",
	    "Wall time of the job's finished attempts, in seconds.");
	buf_init(&le, 64);
	for (i = 0; i < m->njobs; i++) {
		j = &m->jobs[i];
		for (b = 0; b <= SCHED_DUR_NBUCKETS; b++) {
			buf_reset(&le);
			(void)view_prom_double(&le, b < SCHED_DUR_NBUCKETS ? sched_dur_bounds[b] :
			    INFINITY);
			view_prom_job(out, "difs_job_attempt_duration_seconds_bucket", j->name, "le",
			    le.p);
			view_prom_int(out, b < SCHED_DUR_NBUCKETS ? j->dur_bucket[b] : j->dur_count);
		}
		view_prom_job(out, "difs_job_attempt_duration_seconds_sum", j->name, NULL, NULL);
		view_prom_val(out, j->dur_sum_s);
		view_prom_job(out, "difs_job_attempt_duration_seconds_count", j->name, NULL, NULL);
		view_prom_int(out, j->dur_count);
	}
	buf_free(&le);
}

/*
 * A job that never succeeded has no sample in these two: absent, not NaN
 * or 0, so that a comparison in an alert rule never holds by accident.
 * lag: difs_job_freshness_lag_seconds, else the newest success's time.
 */
static void
view_fam_success(const struct sched_metrics *m, struct buf *out, bool lag)
{
	const char *name = lag ? "difs_job_freshness_lag_seconds" :
	    "difs_job_last_success_timestamp_seconds";
	int64_t end, v;
	size_t i;

	view_prom_head(out, name, "gauge", lag ?
	    "Seconds from the end of the newest SUCCESS's data window to when these figures "
	    "were taken; absent before one." :
	    "End of the data window of the job's newest SUCCESS (Unix time); absent before one.");
	for (i = 0; i < m->njobs; i++) {
		if ((end = m->jobs[i].last_success_end_ms) <= 0)
			continue;
		v = !lag ? end : m->now_ms > end ? m->now_ms - end : 0;
		view_prom_job(out, name, m->jobs[i].name, NULL, NULL);
		view_prom_val(out, (double)v / 1000);
	}
}

static void
view_fam_alerts(const struct sched_metrics *m, struct buf *out)
{
	size_t i;

	view_prom_head(out, "difs_job_alerts_total", "counter",
	    "Alert deliveries of the job (schedule.alert) by result: sent or failed.");
	for (i = 0; i < m->njobs; i++) {
		view_prom_job(out, "difs_job_alerts_total", m->jobs[i].name, "result", "sent");
		view_prom_int(out, m->jobs[i].alerts_total);
		view_prom_job(out, "difs_job_alerts_total", m->jobs[i].name, "result", "failed");
		view_prom_int(out, m->jobs[i].alerts_failed_total);
	}
}

/* a daemon-wide family with one unlabelled sample (left out when v < 0
 * and unknown is allowed) */
static void
view_fam_one(struct buf *out, const char *name, const char *help, int64_t v)
{
	view_prom_head(out, name, "gauge", help);
	if (v >= 0)
		(void)buf_printf(out, "%s %" PRId64 "\n", name, v);
}

int
view_metrics_render(const struct sched_metrics *m, const struct view_proc *p, struct buf *out)
{
	size_t f, i;

	view_fam_instances(m, out);
	for (f = 0; f < sizeof(view_job_fams) / sizeof(view_job_fams[0]); f++) {
		view_prom_head(out, view_job_fams[f].name, view_job_fams[f].type,
		    view_job_fams[f].help);
		for (i = 0; i < m->njobs; i++) {
			view_prom_job(out, view_job_fams[f].name, m->jobs[i].name, NULL, NULL);
			view_prom_int(out, view_mf_get(&m->jobs[i], view_job_fams[f].f));
		}
	}
	view_fam_duration(m, out);
	view_fam_success(m, out, false);
	view_fam_success(m, out, true);
	view_fam_alerts(m, out);
	view_fam_one(out, "difs_queue_depth",
	    "Instances not in a final state (waiting, running, retrying, frozen).", m->pending);
	view_fam_one(out, "difs_workers_busy", "Attempts running now.", m->running);
	view_fam_one(out, "difs_workers", "Attempts allowed to run at once (--workers).",
	    m->workers);
	view_fam_one(out, "difs_process_resident_memory_bytes",
	    "Resident memory of the daemon, in bytes.", p->rss_bytes);
	view_fam_one(out, "difs_process_open_fds", "Open file descriptors of the daemon.",
	    p->open_fds);
	view_fam_one(out, "difs_process_max_fds",
	    "The daemon's limit of open file descriptors (RLIMIT_NOFILE).", p->max_fds);
	view_prom_head(out, "difs_process_start_time_seconds", "gauge",
	    "When the daemon started (Unix time).");
	(void)buf_addstr(out, "difs_process_start_time_seconds ");
	(void)view_prom_double(out, (double)p->start_ms / 1000);
	(void)buf_addc(out, '\n');
	view_prom_head(out, "difs_build_info", "gauge", "Always 1; the label is the difs version.");
	(void)buf_addstr(out, "difs_build_info{version=\"");
	(void)view_prom_label(out, p->version != NULL ? p->version : "");
	(void)buf_addstr(out, "\"} 1\n");
	return out->err;
}

/* ---- the process ------------------------------------------------------------------ */

void
view_proc_get(struct view_proc *p, int64_t start_ms)
{
	struct rlimit rl;
	struct dirent *de;
	struct buf b;
	const char *sp;
	uint64_t pages;
	long psz = sysconf(_SC_PAGESIZE);
	DIR *d;

	memset(p, 0, sizeof(*p));
	p->rss_bytes = p->open_fds = p->max_fds = -1;
	p->start_ms = start_ms;
	p->version = DIFS_VERSION;
	/* statm: "size resident shared text lib data dt", in pages */
	buf_init(&b, 256);
	if (sys_read_file("/proc/self/statm", 200, &b) == 0 &&
	    (sp = strchr(b.p, ' ')) != NULL && psz > 0 &&
	    num_u64(sp + 1, strcspn(sp + 1, " \n"), UINT64_MAX / (uint64_t)psz, &pages) == 0)
		p->rss_bytes = (int64_t)(pages * (uint64_t)psz);
	buf_free(&b);
	if ((d = opendir("/proc/self/fd")) != NULL) {
		p->open_fds = -1;	/* not the directory's own descriptor */
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				p->open_fds++;
		closedir(d);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		p->max_fds = (int64_t)rl.rlim_cur;
}

/* ---- the mount's file and the HTTP body ------------------------------------------- */

int
eng_metrics(struct eng *e, struct buf *out)
{
	struct sched_metrics m;
	struct view_proc p;
	int rc;

	if ((rc = sched_metrics_get(e->sched, &m)) != 0)
		return rc;
	view_proc_get(&p, e->start_ns / 1000000);
	rc = view_metrics_render(&m, &p, out);
	sched_metrics_free(&m);
	return rc;
}

int
view_metrics_file(struct eng *e, struct buf *out, int64_t *mtime_ms)
{
	struct sched_metrics m;
	struct view_proc p;
	struct buf b;
	int rc;

	if ((rc = sched_metrics_get(e->sched, &m)) != 0)
		return rc;
	buf_init(&b, BUF_MAX_DOC);
	pthread_mutex_lock(&e->metlock);
	if (e->met_ms > 0) {
		int64_t now = m.now_ms;

		/* the current figures as the kept text's moment would show them */
		m.now_ms = e->met_ms;
		if ((rc = view_metrics_render(&m, &e->met_proc, &b)) != 0)
			goto out;
		if (b.len == e->met_text.len && memcmp(b.p, e->met_text.p, b.len) == 0) {
			rc = buf_add(out, e->met_text.p, e->met_text.len);
			*mtime_ms = e->met_ms;
			goto out;
		}
		buf_reset(&b);
		/* changed: a new mtime, even within the same millisecond */
		m.now_ms = now > e->met_ms ? now : e->met_ms + 1;
	}
	view_proc_get(&p, e->start_ns / 1000000);
	if ((rc = view_metrics_render(&m, &p, &b)) != 0)
		goto out;
	if ((rc = buf_add(out, b.p, b.len)) != 0)
		goto out;
	buf_free(&e->met_text);
	e->met_text = b;
	buf_init(&b, BUF_MAX_DOC);
	e->met_proc = p;
	e->met_ms = m.now_ms;
	*mtime_ms = m.now_ms;
out:
	pthread_mutex_unlock(&e->metlock);
	buf_free(&b);
	sched_metrics_free(&m);
	return rc;
}
