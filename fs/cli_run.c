/* SPDX-License-Identifier: MIT */
/*
 * cli_run.c - `difs run JOB.json [-p name=value]... [--cycle ID]
 * [--source FILE]... [--state DIR]`: one instance now, without a mount
 * (the `datax.py job.json -p "-Dname=value"` of difs).
 *
 * Parameters: the job's schedule.params evaluated at the cycle time (the
 * given --cycle, else now), then each -p, which adds or overrides.  Data
 * sources come from --source files and, with --state, from the state store
 * (writers then stage under STATE/spool; without it the oss writer uses a
 * per-user directory under $TMPDIR).
 * The instance log goes to stderr.  Exit: 0 success, 1 run failed, 2 invalid
 * input (bad arguments, invalid job, unknown ${name}).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ckpt.h"
#include "cli.h"
#include "cli_i.h"
#include "conf.h"
#include "cycle.h"
#include "run.h"
#include "store.h"

static volatile sig_atomic_t cli_run_interrupted;

static void
cli_run_on_signal(int sig)
{
	(void)sig;
	cli_run_interrupted = 1;
}

struct cli_run_watch {
	atomic_int	*cancel;
	atomic_int	 done;
};

static void *
cli_run_watcher(void *p)
{
	struct cli_run_watch *w = p;
	struct timespec ts = { 0, 100 * 1000000L };

	while (!atomic_load(&w->done)) {
		if (cli_run_interrupted)
			atomic_store(w->cancel, 1);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void
cli_run_log(void *arg, enum log_level lvl, const char *line)
{
	static const char *const names[] = { "ERROR", "WARN", "INFO", "DEBUG" };
	struct timespec ts;
	struct tm tm;
	char when[40];
	time_t t;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	t = ts.tv_sec;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s %s\n", when, ts.tv_nsec / 1000000L, names[lvl], line);
}

struct cli_store_load {
	struct conf_srcset	*set;
	int			 bad;
};

static int
cli_load_source(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct cli_store_load *l = arg;
	struct conf_source *src = NULL;
	char name[256];

	if (klen >= sizeof(name))
		return 0;
	memcpy(name, key, klen);
	name[klen] = '\0';
	if (conf_source_parse(name, val, vlen, NULL, NULL, &src) != 0) {
		l->bad++;	/* an invalid stored source is simply not usable */
		return 0;
	}
	(void)conf_srcset_add(l->set, src);	/* adopts src, also on failure */
	return 0;
}

static int
cli_store_sources_fn(struct store_txn *txn, void *arg)
{
	return store_iter(txn, STORE_DB_SOURCES, NULL, 0, NULL, 0, 0, cli_load_source, arg);
}

static void
cli_run_window(void *arg, int64_t start_ms, int64_t end_ms)
{
	(void)arg;
	fprintf(stderr, "window [%lld, %lld) ms\n", (long long)start_ms, (long long)end_ms);
}

/* --state: the reader's checkpoint mirror lives in that store, under the job name */
struct cli_ckpt_ctx {
	struct store	*st;
	const char	*job;
};

static int
cli_ckpt_put(void *arg, const char *sub, const void *val, size_t len)
{
	const struct cli_ckpt_ctx *x = arg;

	return ckpt_put(x->st, x->job, sub, val, len);
}

static int
cli_ckpt_get(void *arg, const char *sub, struct buf *out)
{
	const struct cli_ckpt_ctx *x = arg;

	return ckpt_get(x->st, x->job, sub, out);
}

static void
cli_run_usage(void)
{
	fprintf(stderr,
	    "usage: difs run JOB.json [-p name=value]... [--cycle YYYYMMDDHHMMSS]\n"
	    "                [--source FILE]... [--state DIR]\n");
}

int
cli_run(int argc, char **argv)
{
	struct buf text, outputs;
	struct conf_srcset *set = NULL;
	struct conf_diags *d = NULL;
	struct conf_job *job = NULL;
	const struct conf_schedule *sch;
	struct param_set ps = { NULL, 0 }, pall = { NULL, 0 };
	struct tz *tz = NULL;
	struct store *st = NULL;
	struct pipe_stats stats;
	struct run_config rc_;
	struct eng_errbuf eb = { "" };
	struct cli_run_watch w;
	struct cli_ckpt_ctx ckx;
	struct sigaction sa;
	pthread_t wth;
	const char *jobpath = NULL, *cycle = NULL, *state = NULL;
	const char **pv = NULL;
	char idbuf[15], *name = NULL, spool[4096];
	int64_t cyctime;
	int i, npv = 0, rc, ret = 2, watching = 0;
	atomic_int cancel;
	size_t k;

	buf_init(&text, (size_t)16 << 20);
	buf_init(&outputs, BUF_MAX_DOC);
	atomic_init(&cancel, 0);
	if ((pv = calloc((size_t)argc, sizeof(*pv))) == NULL ||
	    conf_srcset_new(&set) != 0 || conf_diags_new(&d) != 0) {
		fprintf(stderr, "difs run: out of memory\n");
		goto out;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
			pv[npv++] = argv[++i];
		} else if (strcmp(argv[i], "--cycle") == 0 && i + 1 < argc) {
			cycle = argv[++i];
		} else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) {
			state = argv[++i];
		} else if (strcmp(argv[i], "--source") == 0 && i + 1 < argc) {
			struct buf sb;
			struct conf_source *src = NULL;
			struct buf nb;

			buf_init(&sb, (size_t)1 << 20);
			buf_init(&nb, 4096);
			if ((rc = cli_read(argv[++i], &sb)) != 0) {
				fprintf(stderr, "difs run: %s: %s\n", argv[i], eng_strerror(rc));
				buf_free(&sb);
				buf_free(&nb);
				goto out;
			}
			(void)conf_name_from_path(argv[i], &nb);
			conf_diags_clear(d);
			rc = conf_source_parse(nb.p, sb.p, sb.len, NULL, d, &src);
			buf_free(&sb);
			buf_free(&nb);
			if (rc != 0) {
				struct buf m;

				buf_init(&m, BUF_MAX_DOC);
				(void)conf_diags_format(d, argv[i], &m);
				fprintf(stderr, "%s", m.p);
				buf_free(&m);
				goto out;
			}
			if (conf_srcset_add(set, src) != 0)	/* adopts src */
				goto out;
		} else if (argv[i][0] == '-' || jobpath != NULL) {
			cli_run_usage();
			goto out;
		} else {
			jobpath = argv[i];
		}
	}
	if (jobpath == NULL) {
		cli_run_usage();
		goto out;
	}
	if (state != NULL) {
		struct cli_store_load l = { set, 0 };

		if ((rc = store_open(state, NULL, &st, &eb)) != 0) {
			fprintf(stderr, "difs run: state %s: %s\n", state,
			    eb.msg[0] != '\0' ? eb.msg : eng_strerror(rc));
			goto out;
		}
		if ((rc = store_view(st, cli_store_sources_fn, &l)) != 0) {
			fprintf(stderr, "difs run: reading sources from %s: %s\n", state,
			    eng_strerror(rc));
			goto out;
		}
	}
	if ((rc = cli_read(jobpath, &text)) != 0) {
		fprintf(stderr, "difs run: %s: %s\n", jobpath, eng_strerror(rc));
		goto out;
	}
	{
		struct buf nb;

		buf_init(&nb, 4096);
		(void)conf_name_from_path(jobpath, &nb);
		name = buf_take(&nb, NULL);
		buf_free(&nb);
	}
	rc = conf_job_parse(name != NULL ? name : "job", text.p, text.len,
	    conf_srcset_lookup, set, d, &job);
	if (conf_diags_count(d) > 0) {
		struct buf m;

		buf_init(&m, BUF_MAX_DOC);
		(void)conf_diags_format(d, jobpath, &m);
		fprintf(stderr, "%s", m.p);
		buf_free(&m);
	}
	if (rc != 0)
		goto out;
	sch = conf_job_schedule(job);
	if ((rc = tz_load(sch != NULL ? sch->timezone : NULL, &tz, &eb)) != 0) {
		fprintf(stderr, "difs run: %s\n", eb.msg);
		goto out;
	}
	if (cycle != NULL) {
		if ((rc = cycle_id_parse(cycle, strlen(cycle), tz, &cyctime, &eb)) != 0) {
			fprintf(stderr, "difs run: --cycle '%s': %s\n", cycle, eb.msg);
			goto out;
		}
	} else {
		cyctime = (int64_t)time(NULL);
	}
	if (cycle_id_format(cyctime, tz, idbuf) != 0)
		goto out;
	if (sch != NULL && sch->nparams > 0 &&
	    (rc = param_resolve_all(sch->params, sch->nparams, tz, cyctime, &ps, &eb)) != 0) {
		fprintf(stderr, "difs run: %s: %s\n", jobpath, eb.msg);
		goto out;
	}
	/* schedule params, then -p (adds or overrides) */
	{
		struct param_kv *kv;
		size_t n = 0, j;

		if ((kv = calloc(ps.n + (size_t)npv + 1, sizeof(*kv))) == NULL)
			goto out;
		for (k = 0; k < ps.n; k++) {
			kv[n].name = ps.v[k].name;
			kv[n++].value = ps.v[k].value;
		}
		for (i = 0; i < npv; i++) {
			char *eq = strchr(pv[i], '=');

			if (eq == NULL || eq == pv[i]) {
				fprintf(stderr, "difs run: -p '%s' must be name=value\n", pv[i]);
				free(kv);
				goto out;
			}
			*eq = '\0';
			for (j = 0; j < n; j++)
				if (strcmp(kv[j].name, pv[i]) == 0)
					break;
			kv[j].name = pv[i];
			kv[j].value = eq + 1;
			if (j == n)
				n++;
		}
		/* -p values are constants: escape nothing, evaluate like DataWorks constants */
		rc = param_resolve_all(kv, n, tz, cyctime, &pall, &eb);
		free(kv);
		if (rc != 0) {
			fprintf(stderr, "difs run: %s\n", eb.msg);
			goto out;
		}
	}
	memset(&rc_, 0, sizeof(rc_));
	rc_.job = job;
	rc_.params = &pall;
	rc_.sources = conf_srcset_lookup;
	rc_.sources_arg = set;
	rc_.tz = tz;
	rc_.instance = idbuf;
	rc_.attempt = 1;
	rc_.cyctime = cyctime;
	rc_.cancel = &cancel;
	rc_.log = cli_run_log;
	rc_.outputs = &outputs;
	rc_.window = cli_run_window;
	if (state != NULL) {
		/* writers stage under STATE/spool, as under the mount */
		int n = snprintf(spool, sizeof(spool), "%s/spool", state);

		if (n > 0 && (size_t)n < sizeof(spool) &&
		    (mkdir(spool, 0700) == 0 || errno == EEXIST))
			rc_.spool_dir = spool;
	}
	ckx.st = st;
	ckx.job = conf_job_name(job);
	if (st != NULL) {
		rc_.ckpt_put = cli_ckpt_put;
		rc_.ckpt_get = cli_ckpt_get;
		rc_.ckpt_arg = &ckx;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cli_run_on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	w.cancel = &cancel;
	atomic_init(&w.done, 0);
	if (pthread_create(&wth, NULL, cli_run_watcher, &w) == 0)
		watching = 1;
	pipe_stats_init(&stats);
	rc = run_job(&rc_, &stats, &eb);
	if (watching) {
		atomic_store(&w.done, 1);
		pthread_join(wth, NULL);
	}
	if (rc == 0 && outputs.len > 0)
		cli_run_log(NULL, LOG_LVL_INFO, "outputs:");
	for (k = 0; rc == 0 && k < outputs.len;) {
		char *nl = memchr(outputs.p + k, '\n', outputs.len - k);
		size_t e = nl != NULL ? (size_t)(nl - outputs.p) : outputs.len;

		fprintf(stderr, "  %.*s\n", (int)(e - k), outputs.p + k);
		k = e + 1;
	}
	ret = rc == 0 ? 0 : rc == ENG_EINVAL ? 2 : 1;
out:
	param_set_free(&ps);
	param_set_free(&pall);
	conf_job_free(job);
	conf_diags_free(d);
	conf_srcset_free(set);
	tz_free(tz);
	store_close(st);
	buf_free(&text);
	buf_free(&outputs);
	free(name);
	free(pv);
	return ret;
}
