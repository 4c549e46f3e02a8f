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

static int
cli_store_view(struct store_txn *txn, void *arg)
{
	return store_iter(txn, STORE_DB_SOURCES, NULL, 0, NULL, 0, 0,
	    cli_store_source, arg);
}

/*
 * Add the valid sources of the state store in dir to set (read-only, not
 * exclusive: works while a mount runs).  Returns 0 or prints why not and
 * returns the error.
 */
static int
cli_load_store(const char *dir, struct conf_srcset *set)
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
	if ((rc = store_view(st, cli_store_view, set)) != 0)
		fprintf(stderr, "difs: cannot read sources from %s: %s\n", dir, eng_strerror(rc));
	store_close(st);
	return rc;
}

int
cli_check(int argc, char **argv)
{
	struct conf_srcset *set = NULL;
	struct buf *bufs = NULL;
	enum conf_kind *kinds = NULL;
	const char *state = NULL;
	int i, rc, status = 0, nfiles, nsources = 0;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: difs check [--state DIR] FILE...\n"
		    "Validate job and source files.  The jobs' \"datasource\" names are\n"
		    "resolved against the source files named on the command line (by\n"
		    "file stem: sources/ots-prod.json is \"ots-prod\") and, with --state,\n"
		    "the sources stored in that state directory; with neither, datasource\n"
		    "names are not checked.\n"
		    "Exit status: 0 all valid (warnings allowed), 1 invalid, 2 usage.\n");
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
	if (bufs == NULL || kinds == NULL || conf_srcset_new(&set) != 0)
		goto oom;
	if (state != NULL) {
		if ((rc = cli_load_store(state, set)) == -ENOMEM)
			goto oom;
		if (rc != 0) {
			status = 2;
			goto out;
		}
		nsources++;
	}
	/* read everything, then sources first so jobs can refer to them */
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
	}
	for (i = 0; i < nfiles; i++) {
		if (kinds[i] != CONF_KIND_SOURCE)
			continue;
		rc = cli_load_source(argv[i + 1], bufs[i].p, bufs[i].len, set);
		if (rc < 0)
			goto oom;
		if (rc != 0)
			status = 1;
	}
	for (i = 0; i < nfiles; i++) {
		struct conf_diags *d = NULL;
		struct conf_job *job = NULL;
		struct buf name;

		if (kinds[i] != CONF_KIND_JOB)
			continue;
		buf_init(&name, BUF_MAX_SMALL);
		if (conf_diags_new(&d) != 0 || conf_name_from_path(argv[i + 1], &name) != 0) {
			conf_diags_free(d);
			buf_free(&name);
			goto oom;
		}
		rc = conf_job_parse(name.p, bufs[i].p, bufs[i].len,
		    nsources > 0 ? conf_srcset_lookup : NULL, set, d, &job);
		cli_print_diags(d, argv[i + 1]);
		conf_job_free(job);
		conf_diags_free(d);
		buf_free(&name);
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
	free(bufs);
	free(kinds);
	conf_srcset_free(set);
	return status;
}

static void
params_usage(FILE *fp)
{
	fprintf(fp, "usage: difs params JOB --cycle YYYYMMDDHHMMSS [--state DIR] [SOURCE...] [--source FILE]...\n"
	    "Print the job's schedule parameters for that cycle (name=value, in\n"
	    "definition order), a blank line, then the resolved job with secrets\n"
	    "masked.  The cycle is local time in the job's schedule timezone.\n"
	    "Datasources come from the SOURCE files and the state store DIR.\n");
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
	struct param_set ps = { NULL, 0 };
	struct eng_errbuf eb;
	struct tz *tz = NULL;
	struct buf b, name;
	int64_t cyctime;
	int i, nsrc = 0, nsrc_all = 0, rc, status = 1;
	size_t k;

	buf_init(&b, BUF_MAX_DOC);
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
	if (state != NULL && (rc = cli_load_store(state, set)) != 0) {
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
	buf_reset(&b);
	if ((rc = cli_read(jobpath, &b)) != 0) {
		fprintf(stderr, "%s: error: cannot read: %s\n", jobpath, eng_strerror(rc));
		goto out;
	}
	if (conf_name_from_path(jobpath, &name) != 0)
		goto oom;
	nsrc_all += nsrc;
	rc = conf_job_parse(name.p, b.p, b.len, nsrc_all > 0 ? conf_srcset_lookup : NULL, set, d, &job);
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
	for (k = 0; k < ps.n; k++)
		(void)buf_printf(&b, "%s=%s\n", ps.v[k].name, ps.v[k].value);
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
	buf_free(&b);
	return status;
}
