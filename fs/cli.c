/* SPDX-License-Identifier: MIT */
/*
 * cli.c - `difs check` and `difs params` (see cli.h): definitions checked
 * and previewed without a mount or a state store.
 *
 * Diagnostics go to stderr as FILE:LINE:COL: error|warning: MESSAGE;
 * `difs params` prints its result on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "cli_i.h"
#include "conf.h"
#include "cycle.h"
#include "err.h"
#include "param.h"
#include "store.h"
#include "sys.h"
#include "tz.h"

int
cli_read(const char *path, struct buf *b)
{
	return sys_read_file(path, 0, b);
}

int
cli_read_fd(int fd, struct buf *b)
{
	return sys_read_fd(fd, 0, b);
}

void
cli_print_diags(const struct conf_diags *d, const char *file)
{
	struct buf out;

	buf_init(&out, BUF_MAX_DOC);
	if (conf_diags_format(d, file, &out) == 0)
		fputs(out.p, stderr);
	else
		fprintf(stderr, "%s: error: out of memory formatting diagnostics\n", file);
	buf_free(&out);
}

static enum conf_kind
cli_kind(const char *path, const char *buf, size_t len)
{
	enum conf_kind k = conf_kind_of(buf, len);

	if (k != CONF_KIND_UNKNOWN)
		return k;
	/* unparsable: guess from the directory, so the right checks run */
	if (strncmp(path, "sources/", 8) == 0 || strstr(path, "/sources/") != NULL)
		return CONF_KIND_SOURCE;
	return CONF_KIND_JOB;
}

/*
 * Load one source file into set (if valid).  Returns 0 valid, 1 invalid,
 * -ENOMEM.  Diagnostics are printed.
 */
static int
cli_load_source(const char *path, const char *buf, size_t len,
    struct conf_srcset *set)
{
	struct conf_diags *d = NULL;
	struct conf_source *src = NULL;
	struct buf name;
	int rc;

	buf_init(&name, BUF_MAX_SMALL);
	if ((rc = conf_diags_new(&d)) != 0 || (rc = conf_name_from_path(path, &name)) != 0)
		goto out;
	rc = conf_source_parse(name.p, buf, len, NULL, d, &src);
	cli_print_diags(d, path);
	if (rc == -ENOMEM)
		goto out;
	if (rc != 0) {
		rc = 1;
		goto out;
	}
	rc = set != NULL ? conf_srcset_add(set, src) : 0;
	if (set == NULL)
		conf_source_free(src);
	src = NULL;
out:
	buf_free(&name);
	conf_diags_free(d);
	return rc;
}

/* ---- the jobs difs check knows of, for dependsOn ------------------------- */

struct cli_dep_ent {
	char	*name;
	char	**ups;	/* NULL: none (or not known: an invalid file) */
	size_t	 n;
};

struct cli_deps {
	struct cli_dep_ent *v;
	size_t	 n, cap;
};

static void
cli_dep_ent_clear(struct cli_dep_ent *e)
{
	while (e->n > 0)
		free(e->ups[--e->n]);
	free(e->ups);
	e->ups = NULL;
}

static void
cli_deps_free(struct cli_deps *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		cli_dep_ent_clear(&s->v[i]);
		free(s->v[i].name);
	}
	free(s->v);
}

/* job name is known with job's upstreams (job NULL: none known); a later
 * one replaces an earlier one (a file given replaces the stored job) */
static int
cli_deps_add(struct cli_deps *s, const char *name, const struct conf_job *job)
{
	const struct conf_schedule *sc = job != NULL ? conf_job_schedule(job) : NULL;
	struct cli_dep_ent *e = NULL, *nv;
	size_t i;

	for (i = 0; i < s->n && e == NULL; i++)
		if (strcmp(s->v[i].name, name) == 0)
			e = &s->v[i];
	if (e == NULL) {
		if (s->n == s->cap) {
			if ((nv = realloc(s->v, (s->cap ? s->cap * 2 : 16) * sizeof(*nv))) == NULL)
				return -ENOMEM;
			s->v = nv;
			s->cap = s->cap ? s->cap * 2 : 16;
		}
		e = &s->v[s->n];
		memset(e, 0, sizeof(*e));
		if ((e->name = strdup(name)) == NULL)
			return -ENOMEM;
		s->n++;
	}
	cli_dep_ent_clear(e);
	if (sc == NULL || sc->ndeps == 0)
		return 0;
	if ((e->ups = calloc(sc->ndeps, sizeof(*e->ups))) == NULL)
		return -ENOMEM;
	for (i = 0; i < sc->ndeps; i++, e->n++)
		if ((e->ups[i] = strdup(sc->deps[i].job)) == NULL)
			return -ENOMEM;
	return 0;
}

/* conf_dep_lookup_fn over a struct cli_deps */
static int
cli_dep_lookup(void *arg, const char *name, char ***out, size_t *n)
{
	const struct cli_deps *s = arg;
	const struct cli_dep_ent *e = NULL;
	size_t i;

	*out = NULL;
	*n = 0;
	for (i = 0; i < s->n && e == NULL; i++)
		if (strcmp(s->v[i].name, name) == 0)
			e = &s->v[i];
	if (e == NULL)
		return -ENOENT;
	if (e->n == 0)
		return 0;
	if ((*out = calloc(e->n, sizeof(**out))) == NULL)
		return -ENOMEM;
	for (i = 0; i < e->n; i++, (*n)++)
		if (((*out)[i] = strdup(e->ups[i])) == NULL)
			return -ENOMEM;	/* the caller frees what is there */
	return 0;
}

/* ---- the state store ------------------------------------------------------ */

/* What is read from a state store (one read transaction). */
struct cli_store_q {
	struct store_txn	*txn;
	struct conf_srcset	*set;	/* every valid stored source joins it */
	struct cli_deps		*deps;	/* NULL, or: every defined job joins it */
	const char		*job;	/* NULL, or: its running definition */
	struct buf		*jbuf;	/*   goes here */
	bool			 has_file;	/*   jobs/JOB.json is stored */
	bool			 has_def;	/*   and a valid definition */
};

/* store_iter callback: every valid stored source joins the set */
static int
cli_store_source(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct conf_source *src = NULL;
	char name[STORE_KEY_MAX + 1];
	int rc;

	if (klen > STORE_KEY_MAX)
		return 0;
	memcpy(name, key, klen);
	name[klen] = '\0';
	rc = conf_source_parse(name, val, vlen, NULL, NULL, &src);
	if (rc == -ENOMEM)
		return rc;
	return rc == 0 ? conf_srcset_add(arg, src) : 0;
}

/* store_iter callback over STORE_DB_DEFS "j\0NAME": a job whose file is
 * still there is defined with its running definition's upstreams */
static int
cli_store_job(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct cli_store_q *q = arg;
	struct conf_job *job = NULL;
	const void *v;
	size_t vl;
	char name[STORE_KEY_MAX + 1];
	int rc;

	if (klen < 3 || klen - 2 > STORE_KEY_MAX)
		return 0;
	memcpy(name, (const char *)key + 2, klen - 2);
	name[klen - 2] = '\0';
	if (store_get(q->txn, STORE_DB_JOBS, name, klen - 2, &v, &vl) != 0)
		return 0;	/* deleted: history only */
	if ((rc = conf_job_parse(name, val, vlen, NULL, NULL, NULL, &job)) == -ENOMEM)
		return rc;
	rc = cli_deps_add(q->deps, name, job);
	conf_job_free(job);
	return rc;
}

static int
cli_store_view(struct store_txn *txn, void *arg)
{
	struct cli_store_q *q = arg;
	char key[STORE_KEY_MAX];
	const void *v;
	size_t klen, vl;
	int rc;

	q->txn = txn;
	if ((rc = store_iter(txn, STORE_DB_SOURCES, NULL, 0, NULL, 0, 0,
	    cli_store_source, q->set)) != 0)
		return rc;
	if (q->deps != NULL && (rc = store_iter(txn, STORE_DB_DEFS, "j", 2, NULL, 0, 0,
	    cli_store_job, q)) != 0)
		return rc;
	if (q->job == NULL)
		return 0;
	q->has_file = q->has_def = false;
	if (strlen(q->job) == 0 || strlen(q->job) > STORE_KEY_MAX - 2)
		return 0;
	q->has_file = store_get(txn, STORE_DB_JOBS, q->job, strlen(q->job), &v, &vl) == 0;
	if ((rc = store_key_def(key, sizeof(key), STORE_DEF_JOB, q->job, &klen)) != 0)
		return rc;
	rc = store_get_buf(txn, STORE_DB_DEFS, key, klen, q->jbuf);
	q->has_def = rc == 0;
	return rc == -ENOENT ? 0 : rc;
}

/*
 * Read q's things from the state store in dir (read-only, not exclusive:
 * works while a mount runs).  Returns 0 or prints why not and returns the
 * error.
 */
static int
cli_load_store(const char *dir, struct cli_store_q *q)
{
	struct store *st = NULL;
	struct eng_errbuf eb;
	struct stat sb;
	int rc;

	/* never create a state directory just to check files */
	if (stat(dir, &sb) != 0)
		rc = -errno;
	else
		rc = S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
	if (rc != 0) {
		fprintf(stderr, "difs: cannot open the state store %s: %s\n", dir,
		    eng_strerror(rc));
		return rc;
	}
	eb.msg[0] = '\0';
	if ((rc = store_open(dir, NULL, &st, &eb)) != 0) {
		fprintf(stderr, "difs: cannot open the state store %s: %s\n", dir,
		    eb.msg[0] ? eb.msg : eng_strerror(rc));
		return rc;
	}
	if ((rc = store_view(st, cli_store_view, q)) != 0)
		fprintf(stderr, "difs: cannot read definitions from %s: %s\n", dir, eng_strerror(rc));
	store_close(st);
	return rc;
}

static void
check_usage(FILE *fp)
{
	fprintf(fp, "usage: difs check [--state DIR] FILE...\n"
	    "Validate job and source files.  The jobs' \"datasource\" names are\n"
	    "resolved against the source files named on the command line (by\n"
	    "file stem: sources/ots-prod.json is \"ots-prod\") and, with --state,\n"
	    "the sources stored in that state directory; with neither, datasource\n"
	    "names are not checked.  \"dependsOn\" cycles are errors among the job\n"
	    "files given together and, with --state, the jobs defined in DIR (a\n"
	    "file replaces the stored job of its name); an upstream job that is\n"
	    "none of these is a warning when several job files or --state are given.\n"
	    "Exit status: 0 all valid (warnings allowed), 1 invalid, 2 usage.\n");
}

int
cli_check(int argc, char **argv)
{
	struct conf_srcset *set = NULL;
	struct cli_deps deps = { NULL, 0, 0 };
	struct cli_store_q q = { 0 };
	struct conf_diags **diags = NULL;
	struct conf_job **jobs = NULL;
	struct buf *bufs = NULL, name;
	enum conf_kind *kinds = NULL;
	const char *state = NULL;
	int i, rc, status = 0, nfiles, nsources = 0, njobs = 0, pass;

	buf_init(&name, BUF_MAX_SMALL);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		check_usage(stdout);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "--state") == 0) {
		state = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: difs check [--state DIR] FILE...\n");
		return 2;
	}
	nfiles = argc - 1;
	for (i = 1; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "difs check: unknown option '%s'\nusage: difs check [--state DIR] FILE...\n",
			    argv[i]);
			return 2;
		}
	bufs = calloc((size_t)nfiles, sizeof(*bufs));
	kinds = calloc((size_t)nfiles, sizeof(*kinds));
	jobs = calloc((size_t)nfiles, sizeof(*jobs));
	diags = calloc((size_t)nfiles, sizeof(*diags));
	if (bufs == NULL || kinds == NULL || jobs == NULL || diags == NULL ||
	    conf_srcset_new(&set) != 0)
		goto oom;
	if (state != NULL) {
		q.set = set;
		q.deps = &deps;
		if ((rc = cli_load_store(state, &q)) == -ENOMEM)
			goto oom;
		if (rc != 0) {
			status = 2;
			goto out;
		}
		nsources++;
	}
	for (i = 0; i < nfiles; i++) {
		buf_init(&bufs[i], BUF_MAX_DOC);
		if ((rc = cli_read(argv[i + 1], &bufs[i])) != 0) {
			fprintf(stderr, "%s: error: cannot read: %s\n", argv[i + 1],
			    rc == -E2BIG ? "file too large" : eng_strerror(rc));
			status = 1;
			kinds[i] = CONF_KIND_UNKNOWN;
			continue;
		}
		kinds[i] = cli_kind(argv[i + 1], bufs[i].p, bufs[i].len);
		if (kinds[i] == CONF_KIND_SOURCE)
			nsources++;
		if (kinds[i] == CONF_KIND_JOB)
			njobs++;
	}
	/* sources first so jobs can refer to them; every job next (an invalid
	 * one is known, with no upstreams), then the cycles among them all */
	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < nfiles; i++) {
			const char *f = argv[i + 1];

			if (kinds[i] != (pass == 0 ? CONF_KIND_SOURCE : CONF_KIND_JOB))
				continue;
			if (pass == 0) {
				rc = cli_load_source(f, bufs[i].p, bufs[i].len, set);
			} else if (pass == 1) {
				buf_reset(&name);
				if (conf_diags_new(&diags[i]) != 0 || conf_name_from_path(f, &name) != 0)
					goto oom;
				rc = conf_job_parse(name.p, bufs[i].p, bufs[i].len,
				    nsources > 0 ? conf_srcset_lookup : NULL, set, diags[i], &jobs[i]);
				if (rc != -ENOMEM && cli_deps_add(&deps, name.p, jobs[i]) != 0)
					rc = -ENOMEM;
			} else {
				rc = jobs[i] == NULL ? 0 : conf_job_check_deps(jobs[i], cli_dep_lookup,
				    &deps, state != NULL || njobs > 1, diags[i]);
				cli_print_diags(diags[i], f);
			}
			if (rc == -ENOMEM)
				goto oom;
			if (rc != 0)
				status = 1;
		}
	goto out;
oom:
	fprintf(stderr, "difs check: out of memory\n");
	status = 1;
out:
	for (i = 0; bufs != NULL && i < nfiles; i++)
		buf_free(&bufs[i]);
	for (i = 0; jobs != NULL && diags != NULL && i < nfiles; i++) {
		conf_job_free(jobs[i]);
		conf_diags_free(diags[i]);
	}
	free(bufs);
	free(kinds);
	free(jobs);
	free(diags);
	cli_deps_free(&deps);
	conf_srcset_free(set);
	buf_free(&name);
	return status;
}

static void
params_usage(FILE *fp)
{
	fprintf(fp, "usage: difs params JOB --cycle YYYYMMDDHHMMSS [--state DIR] [SOURCE...] [--source FILE]...\n"
	    "Print the job's schedule parameters for that cycle (name=value, in\n"
	    "definition order), a blank line, then the resolved job with secrets\n"
	    "masked.  The cycle is local time in the job's schedule timezone.\n"
	    "JOB is a job file's path, or a job's name (no '/', no \".json\", no such\n"
	    "file here): the running definition of jobs/JOB.json in the state\n"
	    "directory DIR (default: the mount's, $XDG_STATE_HOME/difs or\n"
	    "~/.local/state/difs), read while the mount runs.\n"
	    "Datasources come from the SOURCE files and the state store DIR.\n");
}

/* difs params NAME: a job's name rather than a file's path */
static bool
params_is_name(const char *arg)
{
	size_t n = strlen(arg);

	return strchr(arg, '/') == NULL && !(n >= 5 && strcmp(arg + n - 5, ".json") == 0) &&
	    access(arg, F_OK) != 0;
}

/* the running definition of job name in state into q->jbuf: 0, or 1 with
 * the reason printed */
static int
params_stored(const char *state, const char *name, struct cli_store_q *q)
{
	char mdb[PATH_MAX];
	int rc;

	if (snprintf(mdb, sizeof(mdb), "%s/data.mdb", state) >= (int)sizeof(mdb) ||
	    access(mdb, F_OK) != 0) {
		fprintf(stderr, "difs params: no job \"%s\": %s holds no state store (give the mount's --state DIR, or a job file's path)\n",
		    name, state);
		return 1;
	}
	q->job = name;
	if ((rc = cli_load_store(state, q)) != 0)
		return rc == -ENOMEM ? rc : 1;
	if (!q->has_file && !q->has_def) {
		fprintf(stderr, "difs params: no job \"%s\" in the state directory %s (jobs/%s.json is not there; give the mount's --state DIR, or a job file's path)\n",
		    name, state, name);
		return 1;
	}
	if (!q->has_def) {
		fprintf(stderr, "difs params: job \"%s\" has no valid definition in %s (see MOUNT/jobs/%s.json.error)\n",
		    name, state, name);
		return 1;
	}
	return 0;
}

int
cli_params(int argc, char **argv)
{
	const char *jobpath = NULL, *cycle = NULL, *state = NULL;
	const char **srcs = NULL;
	struct conf_srcset *set = NULL;
	struct conf_diags *d = NULL;
	struct conf_job *job = NULL, *res = NULL;
	const struct conf_schedule *sc;
	struct cli_store_q q = { 0 };
	struct param_set ps = { NULL, 0 };
	struct eng_errbuf eb;
	struct tz *tz = NULL;
	struct buf b, jb, name;
	char dflt[PATH_MAX], label[PATH_MAX];
	int64_t cyctime;
	int i, nsrc = 0, nsrc_all = 0, rc, status = 1;
	bool by_name;
	size_t k;

	buf_init(&b, BUF_MAX_DOC);
	buf_init(&jb, BUF_MAX_DOC);
	buf_init(&name, BUF_MAX_SMALL);
	if ((srcs = calloc((size_t)argc, sizeof(*srcs))) == NULL)
		goto oom;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			params_usage(stdout);
			status = 0;
			goto out;
		} else if (strcmp(argv[i], "--cycle") == 0 && i + 1 < argc)
			cycle = argv[++i];
		else if (strncmp(argv[i], "--cycle=", 8) == 0)
			cycle = argv[i] + 8;
		else if (strcmp(argv[i], "--source") == 0 && i + 1 < argc)
			srcs[nsrc++] = argv[++i];
		else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			state = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "difs params: unknown or incomplete option '%s'\n", argv[i]);
			params_usage(stderr);
			status = 2;
			goto out;
		} else if (jobpath == NULL)
			jobpath = argv[i];
		else
			srcs[nsrc++] = argv[i];
	}
	if (jobpath == NULL || cycle == NULL) {
		params_usage(stderr);
		status = 2;
		goto out;
	}
	if (conf_srcset_new(&set) != 0 || conf_diags_new(&d) != 0)
		goto oom;
	by_name = params_is_name(jobpath);
	if (by_name && state == NULL) {
		if ((rc = store_default_dir(dflt, sizeof(dflt))) != 0) {
			fprintf(stderr, "difs params: cannot find the default state directory: %s (use --state DIR)\n",
			    eng_strerror(rc));
			status = 2;
			goto out;
		}
		state = dflt;
	}
	q.set = set;
	q.jbuf = &jb;
	if (by_name && (rc = params_stored(state, jobpath, &q)) != 0) {
		if (rc == -ENOMEM)
			goto oom;
		goto out;
	}
	if (!by_name && state != NULL && (rc = cli_load_store(state, &q)) != 0) {
		if (rc == -ENOMEM)
			goto oom;
		status = 2;
		goto out;
	}
	if (state != NULL)
		nsrc_all = 1;
	for (i = 0; i < nsrc; i++) {
		buf_reset(&b);
		if ((rc = cli_read(srcs[i], &b)) != 0) {
			fprintf(stderr, "%s: error: cannot read: %s\n", srcs[i], eng_strerror(rc));
			goto out;
		}
		if ((rc = cli_load_source(srcs[i], b.p, b.len, set)) < 0)
			goto oom;
		if (rc != 0)
			goto out;
	}
	if (!by_name && (rc = cli_read(jobpath, &jb)) != 0) {
		fprintf(stderr, "%s: error: cannot read: %s\n", jobpath, eng_strerror(rc));
		goto out;
	}
	/* diagnostics name the file as the mount shows it */
	(void)snprintf(label, sizeof(label), by_name ? "jobs/%s.json" : "%s", jobpath);
	jobpath = label;
	if (conf_name_from_path(jobpath, &name) != 0)
		goto oom;
	nsrc_all += nsrc;
	rc = conf_job_parse(name.p, jb.p, jb.len, nsrc_all > 0 ? conf_srcset_lookup : NULL, set, d, &job);
	cli_print_diags(d, jobpath);
	conf_diags_clear(d);
	if (rc == -ENOMEM)
		goto oom;
	if (rc != 0)
		goto out;
	sc = conf_job_schedule(job);
	eb.msg[0] = '\0';
	if ((rc = tz_load(sc != NULL ? sc->timezone : NULL, &tz, &eb)) != 0) {
		fprintf(stderr, "%s: error: %s\n", jobpath, eb.msg[0] ? eb.msg : eng_strerror(rc));
		goto out;
	}
	eb.msg[0] = '\0';
	if (cycle_id_parse(cycle, strlen(cycle), tz, &cyctime, &eb) != 0) {
		fprintf(stderr, "difs params: --cycle %s: %s\n", cycle, eb.msg[0] ? eb.msg : "expected YYYYMMDDHHMMSS");
		status = 2;
		goto out;
	}
	if (sc != NULL && !cycle_is_cycle(&sc->spec, tz, cyctime))
		fprintf(stderr, "%s: warning: %s is not a cycle time of this schedule (cycle \"%s\")\n",
		    jobpath, cycle, sc->cycle);
	eb.msg[0] = '\0';
	if (sc != NULL && (rc = param_resolve_all(sc->params, sc->nparams, tz, cyctime, &ps, &eb)) != 0) {
		fprintf(stderr, "%s: error: %s\n", jobpath, eb.msg[0] ? eb.msg : eng_strerror(rc));
		goto out;
	}
	rc = conf_job_resolve(job, param_set_lookup, &ps, nsrc_all > 0 ? conf_srcset_lookup : NULL,
	    set, d, &res);
	cli_print_diags(d, jobpath);
	if (rc == -ENOMEM)
		goto oom;
	if (rc != 0)
		goto out;
	buf_reset(&b);
	for (k = 0; k < ps.n; k++) {	/* as the mount's params file shows them */
		(void)buf_printf(&b, "%s=", ps.v[k].name);
		(void)conf_mask_param(ps.v[k].name, ps.v[k].value, &b);
		(void)buf_addc(&b, '\n');
	}
	(void)buf_addc(&b, '\n');
	if ((rc = conf_job_render(res, true, &b)) != 0 || b.err != 0)
		goto oom;
	fputs(b.p, stdout);
	status = fflush(stdout) == 0 ? 0 : 1;
	goto out;
oom:
	fprintf(stderr, "difs params: out of memory\n");
	status = 1;
out:
	param_set_free(&ps);
	tz_free(tz);
	conf_job_free(res);
	conf_job_free(job);
	conf_diags_free(d);
	conf_srcset_free(set);
	free(srcs);
	buf_free(&name);
	buf_free(&jb);
	buf_free(&b);
	return status;
}
