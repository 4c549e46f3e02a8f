/* SPDX-License-Identifier: MIT */
/*
 * cli_run.c - `difs run JOB.json [-p name=value]... [--cycle ID]
 * [--source FILE]... [--state DIR]`: one instance now, without a mount
 * (the `datax.py job.json -p "-Dname=value"` of difs).
 *
 * Parameters: the job's schedule.params evaluated at the cycle time (the
 * given --cycle, else now), then each -p and each line of a --param-file
 * (name=value, '#' comments), in command-line order, which add or override.
 * A value whose name is a secret (conf_is_secret_key) is "******" in the
 * log; --param-file keeps secrets out of argv (ps, /proc/PID/cmdline).  Data
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
	    "usage: difs run JOB.json [-p name=value]... [--param-file FILE]...\n"
	    "                [--cycle YYYYMMDDHHMMSS] [--source FILE]... [--state DIR]\n");
}

/* the name=value arguments, in command-line order (later ones override) */
struct cli_run_params {
	char	**v;
	size_t	  n, cap;
};

static int
cli_run_param_add(struct cli_run_params *p, char *nv)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap != 0 ? p->cap * 2 : 16;
		char **nv2 = realloc(p->v, ncap * sizeof(*nv2));

		if (nv2 == NULL)
			return -ENOMEM;
		p->v = nv2;
		p->cap = ncap;
	}
	p->v[p->n++] = nv;
	return 0;
}

/*
 * --param-file FILE: one name=value a line, '#' comment lines and blank lines
 * skipped, a trailing CR dropped; the value is the rest of the line as it is.
 * The bytes stay in keep (wiped at exit) and p points into them.  A file
 * that group or others may read gets a warning: it holds secrets.  No
 * message quotes a line (it may be a secret).  0, or 2 printed.
 */
static int
cli_run_param_file(const char *path, struct buf *keep, struct cli_run_params *p)
{
	struct stat st;
	char *l, *nl, *e;
	size_t start = keep->len;
	unsigned lineno = 0;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "difs run: --param-file %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		return 2;
	}
	if ((st.st_mode & 077) != 0)
		fprintf(stderr, "difs run: warning: --param-file %s can be read by %s (mode %04o); "
		    "it holds secrets: chmod 600 %s\n", path,
		    (st.st_mode & 007) != 0 ? "every user" : "its group",
		    (unsigned)(st.st_mode & 07777), path);
	rc = cli_read_fd(fd, keep);
	(void)close(fd);
	if (rc == 0)
		rc = buf_addc(keep, '\0');
	if (rc != 0) {
		fprintf(stderr, "difs run: --param-file %s: %s\n", path, eng_strerror(rc));
		return 2;
	}
	for (l = keep->p + start; *l != '\0'; l = nl) {
		lineno++;
		if ((nl = strchr(l, '\n')) != NULL)
			*nl++ = '\0';
		else
			nl = l + strlen(l);
		if ((e = l + strlen(l)) > l && e[-1] == '\r')
			e[-1] = '\0';
		while (*l == ' ' || *l == '\t')
			l++;
		if (*l == '\0' || *l == '#')
			continue;
		if ((e = strchr(l, '=')) == NULL || e == l) {
			fprintf(stderr, "difs run: %s:%u: a line is name=value (or a '#' comment)\n",
			    path, lineno);
			return 2;
		}
		if (cli_run_param_add(p, l) != 0) {
			fprintf(stderr, "difs run: out of memory\n");
			return 2;
		}
	}
	return 0;
}

/* a message of param_resolve_all that may quote a secret's value: replaced */
static void
cli_run_param_err(const struct param_kv *kv, size_t n, const char *msg)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (conf_is_secret_key(kv[i].name) && kv[i].value != NULL &&
		    kv[i].value[0] != '\0' && strstr(msg, kv[i].value) != NULL) {
			fprintf(stderr, "difs run: parameter '%s': invalid value (a secret: not shown)\n",
			    kv[i].name);
			return;
		}
	fprintf(stderr, "difs run: %s\n", msg);
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
	struct cli_run_params pv = { NULL, 0, 0 };
	struct buf pfile;
	char idbuf[15], *name = NULL, spool[4096];
	int64_t cyctime;
	int i, rc, ret = 2, watching = 0;
	atomic_int cancel;
	size_t k;

	buf_init(&text, (size_t)16 << 20);
	buf_init(&outputs, BUF_MAX_DOC);
	buf_init(&pfile, (size_t)16 << 20);
	atomic_init(&cancel, 0);
	if (conf_srcset_new(&set) != 0 || conf_diags_new(&d) != 0) {
		fprintf(stderr, "difs run: out of memory\n");
		goto out;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
			if (cli_run_param_add(&pv, argv[++i]) != 0)
				goto out;
		} else if (strcmp(argv[i], "--param-file") == 0 && i + 1 < argc) {
			if (cli_run_param_file(argv[++i], &pfile, &pv) != 0)
				goto out;
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

		if ((kv = calloc(ps.n + pv.n + 1, sizeof(*kv))) == NULL)
			goto out;
		for (k = 0; k < ps.n; k++) {
			kv[n].name = ps.v[k].name;
			kv[n++].value = ps.v[k].value;
		}
		for (k = 0; k < pv.n; k++) {
			char *eq = strchr(pv.v[k], '=');

			if (eq == NULL || eq == pv.v[k]) {
				/* not quoted: it may be a secret typed without its name */
				fprintf(stderr, "difs run: a -p argument has no name= part (-p name=value)\n");
				free(kv);
				goto out;
			}
			*eq = '\0';
			for (j = 0; j < n; j++)
				if (strcmp(kv[j].name, pv.v[k]) == 0)
					break;
			kv[j].name = pv.v[k];
			kv[j].value = eq + 1;
			if (j == n)
				n++;
		}
		/* -p values are constants: escape nothing, evaluate like DataWorks constants */
		rc = param_resolve_all(kv, n, tz, cyctime, &pall, &eb);
		if (rc != 0)
			cli_run_param_err(kv, n, eb.msg);
		free(kv);
		if (rc != 0)
			goto out;
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
	free(pv.v);
	explicit_bzero(pfile.p, pfile.len);	/* --param-file's secrets */
	buf_free(&pfile);
	return ret;
}
