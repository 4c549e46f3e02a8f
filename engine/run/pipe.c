/* SPDX-License-Identifier: MIT */
/*
 * pipe.c - reader -> queue -> writer runner (see pipe.h).
 *
 * Threads: the caller's thread monitors (progress lines, cancel); each
 * channel has a writer thread that takes tasks from a shared counter and,
 * per task, a reader thread feeding the channel's bounded queue.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipe.h"
#include "registry.h"

#define PIPE_DIRTY_LOGGED	10	/**< dirty records logged in full */

struct pipe_run;

struct plugin_sender {
	struct pipe_run	*run;
	pthread_mutex_t	 lock;
	pthread_cond_t	 not_full;	/* protected by lock */
	pthread_cond_t	 not_empty;
	struct record	*ring;		/**< cap records, protected by lock */
	size_t		 cap, head, count;
	int		 eof;		/**< reader finished (rc in reader_rc) */
	int		 stop;		/**< writer gave up: reader must stop */
};

struct pipe_run {
	const struct pipe_config *cfg;
	const struct reader_ops	*rops;
	const struct writer_ops	*wops;
	struct plugin_env	 renv;		/**< the reader's env: source = reader_source */
	struct plugin_env	 wenv;		/**< the writer's */
	void			*rjob;
	void			*wjob;
	struct pipe_stats	*st;
	int			 ntasks;
	atomic_int		 next_task;
	atomic_int		 failed;	/**< set on the first failure */
	pthread_mutex_t		 lock;		/**< protects rc, eb, dirty_logged, bucket */
	pthread_cond_t		 done_cv;
	int			 channels_live;	/* protected by lock */
	int			 rc;		/* first failure */
	struct eng_errbuf	 eb;
	int			 dirty_logged;
	double			 bucket_next;	/**< token bucket: next free instant, s */
};

static double
pipe_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t
pipe_now_ms(const struct pipe_config *cfg)
{
	struct timespec ts;

	if (cfg->env->now_ms != NULL)
		return cfg->env->now_ms(cfg->env->now_arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
pipe_fail(struct pipe_run *run, int rc, const struct eng_errbuf *eb)
{
	pthread_mutex_lock(&run->lock);
	if (run->rc == 0) {
		run->rc = rc;
		if (eb != NULL && eb->msg[0] != '\0')
			memcpy(&run->eb, eb, sizeof(run->eb));
		else
			(void)snprintf(run->eb.msg, sizeof(run->eb.msg), "%s", eng_strerror(rc));
	}
	atomic_store(&run->failed, 1);
	pthread_cond_broadcast(&run->done_cv);
	pthread_mutex_unlock(&run->lock);
}

static bool
pipe_stopping(struct pipe_run *run)
{
	return atomic_load(&run->failed) != 0 || plugin_cancelled(run->cfg->env);
}

/* ---- the queue -------------------------------------------------------------- */

int
plugin_send(struct plugin_sender *s, struct record *r)
{
	struct pipe_run *run = s->run;
	size_t slot;

	pthread_mutex_lock(&s->lock);
	while (s->count == s->cap && !s->stop && !pipe_stopping(run)) {
		struct timespec ts;

		/* wake up now and then to notice cancellation */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&s->not_full, &s->lock, &ts);
	}
	if (s->stop || pipe_stopping(run)) {
		pthread_mutex_unlock(&s->lock);
		return ENG_EKILLED;
	}
	slot = (s->head + s->count) % s->cap;
	record_swap(&s->ring[slot], r);
	record_clear(r);
	s->count++;
	pthread_cond_signal(&s->not_empty);
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_add(&run->st->records_read, 1);
	return 0;
}

/* take the next record into *r; 1 = got one, 0 = end of stream */
static int
pipe_take(struct plugin_sender *s, struct record *r)
{
	int got = 0;

	pthread_mutex_lock(&s->lock);
	while (s->count == 0 && !s->eof && !pipe_stopping(s->run)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&s->not_empty, &s->lock, &ts);
	}
	if (s->count > 0) {
		record_swap(&s->ring[s->head], r);
		s->head = (s->head + 1) % s->cap;
		s->count--;
		got = 1;
		pthread_cond_signal(&s->not_full);
	}
	pthread_mutex_unlock(&s->lock);
	return got;
}

/* ---- throttling and dirty records ------------------------------------------ */

static void
pipe_throttle(struct pipe_run *run, size_t bytes)
{
	double rate = run->cfg->mbps * 1048576.0, now, wait;

	if (rate <= 0 || bytes == 0)
		return;
	pthread_mutex_lock(&run->lock);
	now = pipe_mono();
	/* allow a burst of at most one second's worth */
	if (run->bucket_next < now - 1.0)
		run->bucket_next = now - 1.0;
	run->bucket_next += (double)bytes / rate;
	wait = run->bucket_next - now;
	pthread_mutex_unlock(&run->lock);
	while (wait > 0 && !pipe_stopping(run)) {
		double step = wait > 0.2 ? 0.2 : wait;
		struct timespec ts = { (time_t)step, (long)((step - (double)(time_t)step) * 1e9) };

		nanosleep(&ts, NULL);
		wait -= step;
	}
}

static void
pipe_dirty(struct pipe_run *run, const struct record *r, const struct eng_errbuf *eb)
{
	const struct pipe_config *cfg = run->cfg;
	long long n = atomic_fetch_add(&run->st->dirty, 1) + 1;
	int log_it;

	pthread_mutex_lock(&run->lock);
	log_it = run->dirty_logged < PIPE_DIRTY_LOGGED;
	if (log_it)
		run->dirty_logged++;
	pthread_mutex_unlock(&run->lock);
	if (log_it) {
		struct buf b;
		struct rec_value v;
		size_t i;

		buf_init(&b, 1536);
		for (i = 0; i < r->ncols; i++) {
			record_get(r, i, &v);
			(void)buf_addstr(&b, i == 0 ? "[" : ", ");
			switch (v.type) {
			case REC_NULL: (void)buf_addstr(&b, "null"); break;
			case REC_STRING: (void)buf_printf(&b, "\"%.*s\"", (int)(v.n > 200 ? 200 : v.n), v.p); break;
			case REC_LONG: (void)buf_printf(&b, "%lld", (long long)v.l); break;
			case REC_DOUBLE: (void)buf_printf(&b, "%.17g", v.d); break;
			case REC_BOOL: (void)buf_addstr(&b, v.l ? "true" : "false"); break;
			case REC_BYTES: (void)buf_printf(&b, "<%zu bytes>", v.n); break;
			case REC_DATE: (void)buf_printf(&b, "date(%lld ms)", (long long)v.l); break;
			}
		}
		(void)buf_addstr(&b, "]");
		plugin_log(cfg->env, LOG_LVL_WARN, "dirty record %lld: %s: %s", n,
		    eb->msg[0] != '\0' ? eb->msg : "cannot be written",
		    b.err == 0 ? b.p : "(record too long to show)");
		buf_free(&b);
	} else if (n == PIPE_DIRTY_LOGGED + 1) {
		plugin_log(cfg->env, LOG_LVL_WARN,
		    "more dirty records: only the first %d are logged in full", PIPE_DIRTY_LOGGED);
	}
	if (cfg->error_records >= 0 && n > cfg->error_records) {
		struct eng_errbuf e;

		(void)snprintf(e.msg, sizeof(e.msg),
		    "%lld dirty record%s exceed setting.errorLimit.record = %lld "
		    "(raise the limit or fix the data)", n, n == 1 ? "" : "s",
		    (long long)cfg->error_records);
		pipe_fail(run, ENG_EDIRTY, &e);
	}
}

/* ---- channels ---------------------------------------------------------------- */

struct pipe_reader_arg {
	struct pipe_run		*run;
	struct plugin_sender	*snd;
	int			 task;
	int			 rc;
	struct eng_errbuf	 eb;
};

static void *
pipe_reader_main(void *p)
{
	struct pipe_reader_arg *a = p;
	struct plugin_sender *s = a->snd;

	a->rc = a->run->rops->task_run(a->run->rjob, a->task, s, &a->eb);
	pthread_mutex_lock(&s->lock);
	s->eof = 1;
	pthread_cond_broadcast(&s->not_empty);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static int
pipe_sender_init(struct plugin_sender *s, struct pipe_run *run, size_t cap)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->run = run;
	s->cap = cap;
	if ((s->ring = calloc(cap, sizeof(*s->ring))) == NULL)
		return -ENOMEM;
	for (i = 0; i < cap; i++)
		record_init(&s->ring[i]);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->not_full, NULL);
	pthread_cond_init(&s->not_empty, NULL);
	return 0;
}

static void
pipe_sender_reset(struct plugin_sender *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		record_clear(&s->ring[i]);
	s->head = s->count = 0;
	s->eof = s->stop = 0;
}

static void
pipe_sender_free(struct plugin_sender *s)
{
	size_t i;

	if (s->ring == NULL)
		return;
	for (i = 0; i < s->cap; i++)
		record_free(&s->ring[i]);
	free(s->ring);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->not_full);
	pthread_cond_destroy(&s->not_empty);
}

/* run one task: reader thread -> this (writer) thread */
static int
pipe_task(struct pipe_run *run, struct plugin_sender *s, int task)
{
	struct pipe_reader_arg ra = { .run = run, .snd = s, .task = task };
	struct eng_errbuf eb = { "" };
	struct record r;
	pthread_t th;
	void *wtask = NULL;
	size_t bytes;
	int rc;

	pipe_sender_reset(s);
	if ((rc = run->wops->task_open(run->wjob, task, &wtask, &eb)) != 0) {
		pipe_fail(run, rc, &eb);
		return rc;
	}
	if ((rc = pthread_create(&th, NULL, pipe_reader_main, &ra)) != 0) {
		run->wops->task_abort(wtask);
		pipe_fail(run, -rc, NULL);
		return -rc;
	}
	record_init(&r);
	while (pipe_take(s, &r)) {
		bytes = 0;
		eb.msg[0] = '\0';
		rc = run->wops->task_write(wtask, &r, &bytes, &eb);
		if (rc == -EILSEQ || rc == ENG_EDIRTY) {
			pipe_dirty(run, &r, &eb);
			rc = 0;
		} else if (rc != 0) {
			break;
		} else {
			atomic_fetch_add(&run->st->records_written, 1);
			atomic_fetch_add(&run->st->bytes_written, (long long)bytes);
			pipe_throttle(run, bytes);
		}
		record_clear(&r);
		if (pipe_stopping(run))
			break;
	}
	record_free(&r);
	/* tell the reader to stop if we stopped early, then wait for it */
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_cond_broadcast(&s->not_full);
	pthread_mutex_unlock(&s->lock);
	pthread_join(th, NULL);
	if (rc != 0) {
		run->wops->task_abort(wtask);
		pipe_fail(run, rc, &eb);
		return rc;
	}
	if (ra.rc != 0 && !(ra.rc == ENG_EKILLED && pipe_stopping(run))) {
		run->wops->task_abort(wtask);
		pipe_fail(run, ra.rc, &ra.eb);
		return ra.rc;
	}
	if (pipe_stopping(run)) {
		run->wops->task_abort(wtask);
		if (plugin_cancelled(run->cfg->env))
			pipe_fail(run, ENG_EKILLED, NULL);
		return ENG_EKILLED;
	}
	eb.msg[0] = '\0';
	if ((rc = run->wops->task_finish(wtask, &eb)) != 0) {
		pipe_fail(run, rc, &eb);
		return rc;
	}
	return 0;
}

struct pipe_chan_arg {
	struct pipe_run		*run;
	struct plugin_sender	 snd;
};

static void *
pipe_channel_main(void *p)
{
	struct pipe_chan_arg *a = p;
	struct pipe_run *run = a->run;
	int task;

	while (!pipe_stopping(run)) {
		task = atomic_fetch_add(&run->next_task, 1);
		if (task >= run->ntasks)
			break;
		if (pipe_task(run, &a->snd, task) != 0)
			break;
	}
	pthread_mutex_lock(&run->lock);
	run->channels_live--;
	pthread_cond_broadcast(&run->done_cv);
	pthread_mutex_unlock(&run->lock);
	return NULL;
}

/* ---- progress and summary -------------------------------------------------- */

static void
pipe_fmt_bytes(char *out, size_t n, double b)
{
	if (b >= 1048576.0)
		(void)snprintf(out, n, "%.2f MiB", b / 1048576.0);
	else if (b >= 1024.0)
		(void)snprintf(out, n, "%.2f KiB", b / 1024.0);
	else
		(void)snprintf(out, n, "%.0f B", b);
}

static void
pipe_progress(struct pipe_run *run, const char *what)
{
	const struct pipe_config *cfg = run->cfg;
	struct pipe_stats *st = run->st;
	int64_t now = pipe_now_ms(cfg);
	double secs = (double)(now - atomic_load(&st->start_ms)) / 1000.0;
	long long w = atomic_load(&st->records_written);
	double b = (double)atomic_load(&st->bytes_written);
	char bs[32], rs[32];

	if (secs <= 0)
		secs = 0.001;
	pipe_fmt_bytes(bs, sizeof(bs), b);
	pipe_fmt_bytes(rs, sizeof(rs), b / secs);
	plugin_log(cfg->env, LOG_LVL_INFO,
	    "%s: %lld records read, %lld written, %lld dirty, %s, %.0f records/s, %s/s",
	    what, (long long)atomic_load(&st->records_read), w,
	    (long long)atomic_load(&st->dirty), bs, (double)w / secs, rs);
}

static void
pipe_summary(struct pipe_run *run, int rc)
{
	const struct pipe_config *cfg = run->cfg;
	struct pipe_stats *st = run->st;
	int64_t start = atomic_load(&st->start_ms), end = atomic_load(&st->end_ms);
	double secs = (double)(end - start) / 1000.0;
	double b = (double)atomic_load(&st->bytes_written);
	long long w = atomic_load(&st->records_written);
	char bs[32], rs[32], lim[48];

	if (secs <= 0)
		secs = 0.001;
	pipe_fmt_bytes(bs, sizeof(bs), b);
	pipe_fmt_bytes(rs, sizeof(rs), b / secs);
	if (cfg->mbps > 0)
		(void)snprintf(lim, sizeof(lim), "%g MiB/s", cfg->mbps);
	else
		(void)snprintf(lim, sizeof(lim), "none");
	plugin_log(cfg->env, LOG_LVL_INFO,
	    "summary: %s in %.3f s; records read %lld, written %lld, dirty %lld; "
	    "bytes %s; speed %s/s, %.0f records/s; channels %d (concurrent %d), mbps limit %s",
	    rc == 0 ? "succeeded" : "failed", secs,
	    (long long)atomic_load(&st->records_read), w,
	    (long long)atomic_load(&st->dirty), bs, rs, (double)w / secs,
	    atomic_load(&st->channels), cfg->concurrent, lim);
}

/* ---- the run ---------------------------------------------------------------- */

void
pipe_stats_init(struct pipe_stats *st)
{
	atomic_init(&st->records_read, 0);
	atomic_init(&st->records_written, 0);
	atomic_init(&st->dirty, 0);
	atomic_init(&st->bytes_written, 0);
	atomic_init(&st->start_ms, 0);
	atomic_init(&st->end_ms, 0);
	atomic_init(&st->channels, 0);
}

static void
pipe_wait(struct pipe_run *run)
{
	const struct pipe_config *cfg = run->cfg;
	int period = cfg->progress_ms > 0 ? cfg->progress_ms : 10000;
	double next = pipe_mono() + period / 1000.0;

	pthread_mutex_lock(&run->lock);
	while (run->channels_live > 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&run->done_cv, &run->lock, &ts);
		if (run->channels_live > 0 && pipe_mono() >= next) {
			pthread_mutex_unlock(&run->lock);
			pipe_progress(run, "progress");
			pthread_mutex_lock(&run->lock);
			next += period / 1000.0;
		}
	}
	pthread_mutex_unlock(&run->lock);
}

int
pipe_run(const struct pipe_config *cfg, struct pipe_stats *st, struct eng_errbuf *eb)
{
	struct pipe_run run;
	struct pipe_chan_arg *chans = NULL;
	pthread_t *th = NULL;
	struct eng_errbuf e = { "" };
	int rc, i, nch = 0, started = 0;
	size_t qlen = cfg->queue_len != 0 ? cfg->queue_len : 1024;
	const char *name;

	memset(&run, 0, sizeof(run));
	run.cfg = cfg;
	run.st = st;
	pthread_mutex_init(&run.lock, NULL);
	pthread_cond_init(&run.done_cv, NULL);
	atomic_init(&run.next_task, 0);
	atomic_init(&run.failed, 0);
	atomic_store(&st->start_ms, pipe_now_ms(cfg));

	if ((run.rops = registry_reader(cfg->reader)) == NULL) {
		rc = eng_errbuf_set(&e, ENG_EINVAL, "no reader plugin %d", (int)cfg->reader);
		goto out;
	}
	if ((run.wops = registry_writer(cfg->writer)) == NULL) {
		rc = eng_errbuf_set(&e, ENG_EINVAL, "no writer plugin %d", (int)cfg->writer);
		goto out;
	}
	run.renv = *cfg->env;
	run.renv.source = cfg->reader_source;
	run.wenv = *cfg->env;
	run.wenv.source = cfg->writer_source;
	if ((rc = run.rops->job_open(&run.renv, cfg->reader_param, &run.rjob, &e)) != 0)
		goto out;
	if ((rc = run.wops->job_open(&run.wenv, cfg->writer_param, &run.wjob, &e)) != 0)
		goto out;
	if ((rc = run.rops->job_split(run.rjob, cfg->concurrent > 0 ? cfg->concurrent : 1,
	    &run.ntasks, &e)) != 0)
		goto out;
	if (run.ntasks < 1)
		run.ntasks = 1;
	if (run.wops->job_prepare != NULL &&
	    (rc = run.wops->job_prepare(run.wjob, run.ntasks, &e)) != 0)
		goto out;
	nch = cfg->concurrent > 0 ? cfg->concurrent : 1;
	if (nch > run.ntasks)
		nch = run.ntasks;
	atomic_store(&st->channels, nch);
	plugin_log(cfg->env, LOG_LVL_INFO,
	    "run: reader %s, writer %s, %d task%s on %d channel%s (concurrent %d), mbps %g",
	    conf_plugin_name(cfg->reader), conf_plugin_name(cfg->writer), run.ntasks,
	    run.ntasks == 1 ? "" : "s",
	    nch, nch == 1 ? "" : "s", cfg->concurrent, cfg->mbps);
	rc = -ENOMEM;
	if ((chans = calloc((size_t)nch, sizeof(*chans))) == NULL ||
	    (th = calloc((size_t)nch, sizeof(*th))) == NULL)
		goto out;
	for (i = 0; i < nch; i++) {
		chans[i].run = &run;
		if ((rc = pipe_sender_init(&chans[i].snd, &run, qlen)) != 0)
			goto out;
	}
	run.channels_live = nch;
	for (i = 0; i < nch; i++) {
		if ((rc = pthread_create(&th[i], NULL, pipe_channel_main, &chans[i])) != 0) {
			pthread_mutex_lock(&run.lock);
			run.channels_live -= nch - i;
			pthread_mutex_unlock(&run.lock);
			pipe_fail(&run, -rc, NULL);
			break;
		}
		started++;
	}
	pipe_wait(&run);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (run.rc == 0 && plugin_cancelled(cfg->env))
		pipe_fail(&run, ENG_EKILLED, NULL);
	if ((rc = run.rc) != 0) {
		memcpy(&e, &run.eb, sizeof(e));
		goto out;
	}
	if (run.wops->job_commit != NULL &&
	    (rc = run.wops->job_commit(run.wjob, &e)) != 0)
		goto out;
	if (cfg->error_percent >= 0 && atomic_load(&st->records_read) > 0) {
		double pct = (double)atomic_load(&st->dirty) / (double)atomic_load(&st->records_read);

		if (pct > cfg->error_percent) {
			rc = eng_errbuf_set(&e, ENG_EDIRTY,
			    "dirty records are %.4f of all records, above "
			    "setting.errorLimit.percentage = %g", pct, cfg->error_percent);
			goto out;
		}
	}
	if (run.rops->job_commit != NULL &&
	    (rc = run.rops->job_commit(run.rjob, &e)) != 0)
		goto out;
	rc = 0;
out:
	if (cfg->outputs != NULL && run.wjob != NULL && run.wops->job_output != NULL) {
		size_t k;

		for (k = 0; run.wops->job_output(run.wjob, k, &name) == 0; k++)
			(void)buf_printf(cfg->outputs, "%s\n", name);
	}
	atomic_store(&st->end_ms, pipe_now_ms(cfg));
	if (rc != 0)
		plugin_log(cfg->env, LOG_LVL_ERROR, "run failed: %s",
		    e.msg[0] != '\0' ? e.msg : eng_strerror(rc));
	pipe_summary(&run, rc);
	if (rc != 0)
		eng_errbuf_set(eb, rc, "%s", e.msg[0] != '\0' ? e.msg : eng_strerror(rc));
	if (run.wjob != NULL)
		run.wops->job_close(run.wjob);
	if (run.rjob != NULL)
		run.rops->job_close(run.rjob);
	for (i = 0; chans != NULL && i < nch; i++)
		pipe_sender_free(&chans[i].snd);
	free(chans);
	free(th);
	pthread_mutex_destroy(&run.lock);
	pthread_cond_destroy(&run.done_cv);
	return rc;
}
