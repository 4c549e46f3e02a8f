/* SPDX-License-Identifier: MIT */
/*
 * test_otsstream.c - the otsstream reader (engine/plugins/reader_otsstream*.c)
 * through pipe_run with the txtfile writer, against difs-emu started here:
 *
 *   test_otsstream PATH/TO/difs-emu
 *
 * A table with a stream gets puts, updates (put, delete-one-version,
 * delete-all-versions) and deletes in batches separated by whole-second
 * window boundaries; every window's output is compared with what was
 * written (multiset of lines and the order of each row key's lines):
 *   W1 multi-version on 2 channels, then a rerun (byte-identical files);
 *   the same window in row mode with 14-digit yyyyMMddHHmmss bounds in a
 *   +08 zone, and with isExportSequenceInfo (format of the sequence column);
 *   W2 after a shard split, W3 after a merge (resume from the status table);
 *   W4/W5 with a split after the window end (parent stops at the end, the
 *   children are skipped with TRIM_HORIZON, then read in W5);
 *   status-table rows in DataX's formats and the ckpt_put mirror;
 *   errors: safety margin, start outside retention, trimmed checkpoint,
 *   a status table with the wrong primary key.
 * Exits 77 (skip) only when the difs-emu binary does not exist.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "emu_harness.h"
#include "http.h"
#include "json.h"
#include "ots.h"
#include "conf.h"
#include "param.h"
#include "pipe.h"
#include "run.h"
#include "sign.h"
#include "tz.h"
#include "../unit/tap.h"

#define AK_ID		"testid"
#define AK_SECRET	"testsecret"
#define INSTANCE	"inst1"
#define TABLE		"t_src"

/* ------------------------------------------------------------- emulator */

static struct th_emu emu = TH_EMU_INIT;

/* admin command (POST /_emu/cmd); the answer's body into out */
static int
emu_cmd(const char *cmd, char *out, size_t outsz)
{
	struct buf b;
	int status;

	buf_init(&b, BUF_MAX_SMALL);
	status = th_emu_admin(emu.ots_url, "cmd", cmd, &b);
	if (status >= 0 && out != NULL)
		snprintf(out, outsz, "%s", b.p);
	buf_free(&b);
	if (status != 200)
		printf("# admin '%s' -> %d\n", cmd, status);
	return status;
}

/* ------------------------------------------------------------- the data model */

static struct sign_cred *cred;
static struct ots *cli;

enum { V_INT = 1, V_DBL, V_BOOL, V_STR, V_BIN };

struct cspec {
	const char	*name;
	char		 kind;	/* 'U' put, 'O' delete one version, 'A' delete all */
	int		 vt;
	int64_t		 i;
	const char	*txt;	/* value text as the writer prints it (and STR/BIN bytes) */
	double		 d;
	int64_t		 ts;
};

struct op {
	char		uid[16];
	int64_t		grp;
	int		action;
	struct cspec	c[6];
	char		txt[6][32];	/* owned copies of c[].txt */
	int		nc;
	int		win;
};

static struct op ops[512];
static size_t nops;
static int64_t next_ts = 1700000000000;

static int
do_op(int win, int action, const char *uid, int64_t grp, const struct cspec *c, int nc)
{
	struct op *o = &ops[nops];
	struct plainbuf_cell pk[2], a[6];
	struct plainbuf_value pv[2], av[6];
	struct plainbuf_row row;
	struct ots_error err;
	int i, rc;

	memset(o, 0, sizeof(*o));
	snprintf(o->uid, sizeof(o->uid), "%s", uid);
	o->grp = grp;
	o->action = action;
	o->win = win;
	o->nc = nc;
	pv[0] = plainbuf_str(o->uid);
	pv[1] = plainbuf_int(grp);
	plainbuf_cell_set(&pk[0], "uid", &pv[0], PLAINBUF_OP_PUT, -1);
	plainbuf_cell_set(&pk[1], "grp", &pv[1], PLAINBUF_OP_PUT, -1);
	for (i = 0; i < nc; i++) {
		o->c[i] = c[i];
		if (c[i].txt != NULL) {
			snprintf(o->txt[i], sizeof(o->txt[i]), "%s", c[i].txt);
			o->c[i].txt = o->txt[i];
		}
		if (c[i].kind != 'A' && o->c[i].ts == 0)
			o->c[i].ts = next_ts++;
		switch (c[i].kind != 'U' ? 0 : c[i].vt) {
		case 0: av[i] = plainbuf_special(PLAINBUF_VT_NULL); break;
		case V_INT: av[i] = plainbuf_int(c[i].i); break;
		case V_DBL: av[i] = plainbuf_double(c[i].d); break;
		case V_BOOL: av[i] = plainbuf_bool((int)c[i].i); break;
		case V_STR: av[i] = plainbuf_str(c[i].txt); break;
		default: av[i] = plainbuf_bytes(PLAINBUF_VT_BLOB, c[i].txt, strlen(c[i].txt)); break;
		}
		plainbuf_cell_set(&a[i], c[i].name, c[i].kind == 'U' ? &av[i] : NULL,
		    c[i].kind == 'U' ? PLAINBUF_OP_PUT : c[i].kind == 'O' ?
		    PLAINBUF_OP_DELETE_ONE : PLAINBUF_OP_DELETE_ALL,
		    c[i].kind == 'A' ? -1 : o->c[i].ts);
	}
	memset(&row, 0, sizeof(row));
	row.pk = pk;
	row.npk = 2;
	row.attrs = a;
	row.nattrs = (size_t)nc;
	if (action == OTS_PUT_ROW)
		rc = ots_put_row(cli, TABLE, &row, OTS_IGNORE, &err);
	else if (action == OTS_UPDATE_ROW)
		rc = ots_update_row(cli, TABLE, &row, OTS_IGNORE, &err);
	else
		rc = ots_delete_row(cli, TABLE, pk, 2, OTS_IGNORE, &err);
	if (rc != 0) {
		printf("# write %s: %s %s\n", uid, err.code, err.message);
		return rc;
	}
	nops++;
	return 0;
}

/* a batch of puts, updates and deletes over keys that hash to every shard */
static int
batch(int win, int nkeys)
{
	char uid[16], nm[32], bn[32], nm2[32];
	int k, rc = 0;

	for (k = 0; k < nkeys && rc == 0; k++) {
		struct cspec put[5] = {
			{ "name", 'U', V_STR, 0, nm, 0, 0 },
			{ "age", 'U', V_INT, 20 + k, NULL, 0, 0 },
			{ "score", 'U', V_DBL, 0, k % 2 ? "1.5" : "2.25", k % 2 ? 1.5 : 2.25, 0 },
			{ "flag", 'U', V_BOOL, k % 2, k % 2 ? "true" : "false", 0, 0 },
			{ "bin", 'U', V_BIN, 0, bn, 0, 0 },
		};
		snprintf(uid, sizeof(uid), "w%dk%02d", win, k);
		snprintf(nm, sizeof(nm), "name-%d-%d", win, k);
		snprintf(bn, sizeof(bn), "b%d%d", win, k);
		put[1].txt = NULL;
		rc = do_op(win, OTS_PUT_ROW, uid, k, put, 5);
		if (rc == 0 && k % 3 == 1) {
			struct cspec up[3] = {
				{ "name", 'U', V_STR, 0, nm2, 0, 0 },
				{ "age", 'O', 0, 0, NULL, 0, ops[nops - 1].c[1].ts },
				{ "bin", 'A', 0, 0, NULL, 0, 0 },
			};

			snprintf(nm2, sizeof(nm2), "renamed-%d-%d", win, k);
			rc = do_op(win, OTS_UPDATE_ROW, uid, k, up, 3);
		}
		if (rc == 0 && k % 3 == 2) {
			struct cspec up[1] = { { "flag", 'A', 0, 0, NULL, 0, 0 } };

			rc = do_op(win, OTS_UPDATE_ROW, uid, k, up, 1);
		}
		if (rc == 0 && k % 4 == 3) {
			rc = do_op(win, OTS_DELETE_ROW, uid, k, NULL, 0);
			if (rc == 0 && k % 8 == 7)	/* put again after the delete */
				rc = do_op(win, OTS_PUT_ROW, uid, k, put, 2);
		}
	}
	return rc;
}

static void
cell_text(const struct cspec *c, char *out, size_t n)
{
	if (c->vt == V_INT)
		snprintf(out, n, "%" PRId64, c->i);
	else
		snprintf(out, n, "%s", c->txt);
}

/* expected multi-version lines of the windows in mask, in write order */
static void
expect_mv(unsigned mask, struct buf *out)
{
	size_t i;
	int k;

	for (i = 0; i < nops; i++) {
		const struct op *o = &ops[i];
		char v[64];

		if (!(mask & (1u << o->win)))
			continue;
		if (o->action != OTS_UPDATE_ROW)
			buf_printf(out, "%s|%" PRId64 "|\\N|\\N|\\N|DR\n", o->uid, o->grp);
		for (k = 0; k < o->nc && o->action != OTS_DELETE_ROW; k++) {
			const struct cspec *c = &o->c[k];

			if (c->kind == 'U') {
				cell_text(c, v, sizeof(v));
				buf_printf(out, "%s|%" PRId64 "|%s|%" PRId64 "|%s|U\n", o->uid,
				    o->grp, c->name, c->ts, v);
			} else if (c->kind == 'O') {
				buf_printf(out, "%s|%" PRId64 "|%s|%" PRId64 "|\\N|DO\n", o->uid,
				    o->grp, c->name, c->ts);
			} else {
				buf_printf(out, "%s|%" PRId64 "|%s|\\N|\\N|DA\n", o->uid, o->grp,
				    c->name);
			}
		}
	}
}

/* expected row-mode lines over columns cols */
static void
expect_row(unsigned mask, const char *const *cols, size_t ncols, struct buf *out)
{
	size_t i, k;
	int m;

	for (i = 0; i < nops; i++) {
		const struct op *o = &ops[i];
		struct buf line;
		int any = 0;

		if (!(mask & (1u << o->win)) || o->action == OTS_DELETE_ROW)
			continue;
		buf_init(&line, BUF_MAX_SMALL);
		for (k = 0; k < ncols; k++) {
			char v[64] = "\\N";

			if (strcmp(cols[k], "uid") == 0) {
				snprintf(v, sizeof(v), "%.15s", o->uid);
				any = 1;
			} else if (strcmp(cols[k], "grp") == 0) {
				snprintf(v, sizeof(v), "%" PRId64, o->grp);
				any = 1;
			}
			for (m = 0; m < o->nc; m++)
				if (o->c[m].kind == 'U' && strcmp(o->c[m].name, cols[k]) == 0) {
					cell_text(&o->c[m], v, sizeof(v));
					any = 1;
				}
			buf_printf(&line, "%s%s", k > 0 ? "|" : "", v);
		}
		if (any)
			buf_printf(out, "%s\n", line.p);
		buf_free(&line);
	}
}

/* ------------------------------------------------------------- running windows */

struct logcap {
	pthread_mutex_t	lock;
	struct buf	text;
	int64_t		win_start, win_end;
	char		mirror[16][256];	/* "shard=value" */
	int		nmirror;
	int		retention_h;	/* PLUGIN_CKPT_RETENTION, as put */
	int		verbose;
};

static struct logcap cap = { PTHREAD_MUTEX_INITIALIZER, { 0 }, 0, 0, { "" }, 0, 0, 0 };

static void
cap_log(void *arg, enum log_level lvl, const char *line)
{
	struct logcap *c = arg;

	(void)lvl;
	pthread_mutex_lock(&c->lock);
	buf_printf(&c->text, "%s\n", line);
	if (c->verbose)
		printf("#   %s\n", line);
	pthread_mutex_unlock(&c->lock);
}

static void
cap_window(void *arg, int64_t s, int64_t e)
{
	struct logcap *c = arg;

	c->win_start = s;
	c->win_end = e;
}

static int
cap_ckpt_put(void *arg, const char *sub, const void *val, size_t len)
{
	struct logcap *c = arg;

	pthread_mutex_lock(&c->lock);
	if (strcmp(sub, PLUGIN_CKPT_RETENTION) == 0)
		c->retention_h = atoi(val != NULL && len < 8 ? (const char *)val : "0");
	else if (c->nmirror < 16)
		snprintf(c->mirror[c->nmirror++], sizeof(c->mirror[0]), "%s=%.*s", sub,
		    (int)len, (const char *)val);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static int64_t fake_now_off;

static int64_t
env_now(void *arg)
{
	(void)arg;
	return th_now_ms() + fake_now_off;
}

static struct tz *tz8;
static char outroot[192];

/*
 * Run one window: extra = more reader members (",\"k\":v" form), time =
 * the time members.  Output into outroot/name.  Returns pipe_run's rc.
 */
static int
run_window(const char *name, const char *time, const char *extra, int concurrent,
    struct eng_errbuf *eb)
{
	struct plugin_env env;
	struct pipe_config pc;
	struct pipe_stats st;
	struct json_doc *rd = NULL, *wd = NULL;
	struct conf_source *conn = NULL;
	struct buf r, w, src;
	char dir[512];
	int rc;

	snprintf(dir, sizeof(dir), "%s/%s", outroot, name);
	mkdir(dir, 0755);
	buf_init(&r, BUF_MAX_SMALL);
	buf_init(&w, BUF_MAX_SMALL);
	buf_init(&src, BUF_MAX_SMALL);
	buf_printf(&r, "{\"dataTable\":\"" TABLE "\",\"maxRetries\":3,%s%s}", time, extra);
	/* the inline connection, as run_job hands it to the reader */
	buf_printf(&src, "{\"type\":\"ots\",\"endpoint\":\"%s\",\"accessId\":\"" AK_ID "\","
	    "\"accessKey\":\"" AK_SECRET "\",\"instanceName\":\"" INSTANCE "\"}", emu.ots_url);
	if (conf_source_parse(NULL, src.p, src.len, NULL, NULL, &conn) != 0) {
		printf("# bad source: %s\n", src.p);
		rc = -EINVAL;
		goto out;
	}
	buf_printf(&w, "{\"path\":\"%s\",\"fileName\":\"out\",\"writeMode\":\"truncate\","
	    "\"fileFormat\":\"text\",\"fieldDelimiter\":\"|\",\"nullFormat\":\"\\\\N\"}", dir);
	if (json_parse(r.p, r.len, &rd, NULL) != 0 || json_parse(w.p, w.len, &wd, NULL) != 0) {
		printf("# bad JSON: %s\n", r.p);
		rc = -EINVAL;
		goto out;
	}
	pthread_mutex_lock(&cap.lock);
	buf_reset(&cap.text);
	cap.nmirror = 0;
	cap.win_start = cap.win_end = 0;
	pthread_mutex_unlock(&cap.lock);
	memset(&env, 0, sizeof(env));
	env.job = "j";
	env.instance = "20261125000000";
	env.attempt = 1;
	env.tz = tz8;
	env.log = cap_log;
	env.log_arg = &cap;
	env.now_ms = env_now;
	env.window = cap_window;
	env.window_arg = &cap;
	env.ckpt_put = cap_ckpt_put;
	env.ckpt_arg = &cap;
	memset(&pc, 0, sizeof(pc));
	pc.env = &env;
	pc.reader = CONF_PLUGIN_OTSSTREAM;
	pc.reader_param = json_doc_root(rd);
	pc.reader_source = conn;
	pc.writer = CONF_PLUGIN_TXTFILE;
	pc.writer_param = json_doc_root(wd);
	pc.concurrent = concurrent;
	pc.error_records = 0;
	pc.error_percent = -1;
	pipe_stats_init(&st);
	eb->msg[0] = '\0';
	rc = pipe_run(&pc, &st, eb);
	if (rc != 0)
		printf("# run %s: %s\n", name, eb->msg);
out:
	json_doc_free(rd);
	json_doc_free(wd);
	conf_source_free(conn);
	buf_free(&r);
	buf_free(&w);
	buf_free(&src);
	return rc;
}

/*
 * The seed's job (datasource, ${start_time}/${end_time} as yyyyMMddHHmmss,
 * row mode over uid and name) through conf_job_parse + run_job, with the
 * txtfile writer in place of OSS.  Output into outroot/name.
 */
static int
run_seed_job(const char *name, const char *start14, const char *end14, struct eng_errbuf *eb)
{
	struct conf_srcset *set = NULL;
	struct conf_source *src = NULL;
	struct conf_job *job = NULL;
	struct conf_diags *d = NULL;
	struct run_config rc_;
	struct pipe_stats st;
	struct param_res pr[2];
	struct param_set ps = { pr, 2 };
	char n0[] = "start_time", n1[] = "end_time", v0[16], v1[16];
	struct buf sb, jb, diag;
	char dir[512];
	int rc = -EINVAL;

	snprintf(dir, sizeof(dir), "%s/%s", outroot, name);
	mkdir(dir, 0755);
	snprintf(v0, sizeof(v0), "%.14s", start14);
	snprintf(v1, sizeof(v1), "%.14s", end14);
	pr[0].name = n0;
	pr[0].value = v0;
	pr[1].name = n1;
	pr[1].value = v1;
	buf_init(&sb, BUF_MAX_SMALL);
	buf_init(&jb, BUF_MAX_SMALL);
	buf_init(&diag, BUF_MAX_SMALL);
	buf_printf(&sb, "{\"type\": \"ots\", \"endpoint\": \"%s\", \"instanceName\": \"" INSTANCE
	    "\", \"accessId\": \"" AK_ID "\", \"accessKey\": \"" AK_SECRET "\"}", emu.ots_url);
	buf_printf(&jb, "{\"type\": \"job\", \"version\": \"2.0\", \"configuration\": {"
	    "\"setting\": {\"errorLimit\": {\"record\": \"0\"}, \"speed\": {\"mbps\": \"1\", \"concurrent\": \"1\"}},"
	    "\"reader\": {\"plugin\": \"otsstream\", \"parameter\": {"
	    "\"datasource\": \"ots-src\", \"dataTable\": \"" TABLE "\","
	    "\"statusTable\": \"st_seed\", \"startTimestampMillis\": \"${start_time}\","
	    "\"endTimestampMillis\": \"${end_time}\", \"mode\": \"single_version_and_update_only\","
	    "\"column\": [{\"name\": \"uid\"}, {\"name\": \"name\"}], \"isExportSequenceInfo\": false,"
	    "\"maxRetries\": 30, \"safetyMarginSeconds\": 0}},"
	    "\"writer\": {\"plugin\": \"txtfile\", \"parameter\": {\"path\": \"%s\", \"fileName\": \"out\","
	    "\"writeMode\": \"truncate\", \"fileFormat\": \"text\", \"fieldDelimiter\": \"|\","
	    "\"nullFormat\": \"\\\\N\"}}}}", dir);
	if (conf_diags_new(&d) != 0 || conf_srcset_new(&set) != 0)
		goto out;
	if (conf_source_parse("ots-src", sb.p, sb.len, NULL, d, &src) != 0 ||
	    conf_srcset_add(set, src) != 0 ||
	    conf_job_parse("seed", jb.p, jb.len, conf_srcset_lookup, set, d, &job) != 0) {
		conf_diags_format(d, "seed", &diag);
		printf("# seed job: %s\n", diag.p);
		goto out;
	}
	memset(&rc_, 0, sizeof(rc_));
	rc_.job = job;
	rc_.params = &ps;
	rc_.sources = conf_srcset_lookup;
	rc_.sources_arg = set;
	rc_.tz = tz8;
	rc_.instance = "20261125000500";
	rc_.attempt = 1;
	rc_.log = cap_log;
	rc_.log_arg = &cap;
	rc_.window = cap_window;
	rc_.window_arg = &cap;
	buf_reset(&cap.text);
	pipe_stats_init(&st);
	rc = run_job(&rc_, &st, eb);
	if (rc != 0)
		printf("# seed job run: %s\n", eb->msg);
out:
	conf_job_free(job);
	conf_srcset_free(set);
	conf_diags_free(d);
	buf_free(&sb);
	buf_free(&jb);
	buf_free(&diag);
	return rc;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* every visible file of outroot/name in name order, concatenated; file count */
static int
read_out(const char *name, struct buf *out)
{
	char dir[512], path[1024], *names[64];
	struct dirent *de;
	DIR *d;
	int n = 0, i;

	snprintf(dir, sizeof(dir), "%s/%s", outroot, name);
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL && n < 64)
		if (de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), name_cmp);
	for (i = 0; i < n; i++) {
		FILE *f;
		char chunk[4096];
		size_t got;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		buf_printf(out, "==%s\n", names[i]);
		if ((f = fopen(path, "rb")) != NULL) {
			while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
				buf_add(out, chunk, got);
			fclose(f);
		}
		free(names[i]);
	}
	return n;
}

/* split text into lines (without the "==file" markers) */
static size_t
lines_of(const char *text, char ***out)
{
	char **v = NULL;
	size_t n = 0, cap_ = 0;
	const char *p = text, *e;

	while (*p != '\0') {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if (!(e - p >= 2 && p[0] == '=' && p[1] == '=')) {
			if (n == cap_) {
				char **nv;

				cap_ = cap_ ? cap_ * 2 : 64;
				if ((nv = reallocarray(v, cap_, sizeof(*v))) == NULL)
					break;
				v = nv;
			}
			v[n++] = strndup(p, (size_t)(e - p));
		}
		p = *e != '\0' ? e + 1 : e;
	}
	*out = v;
	return n;
}

static void
lines_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* key = text up to the first '|' */
static int
same_key(const char *a, const char *b)
{
	size_t n = strcspn(a, "|");

	return n == strcspn(b, "|") && strncmp(a, b, n) == 0;
}

/*
 * got must hold exactly the lines of want (as multisets), and the lines of
 * each row key in want's order.
 */
static void
compare(const char *what, const struct buf *got, const struct buf *want)
{
	char **g, **w, **gs, **ws;
	size_t ng = lines_of(got->p, &g), nw = lines_of(want->p, &w), i, k, gi;
	int same = ng == nw, ordered = 1;

	gs = calloc(ng + 1, sizeof(*gs));
	ws = calloc(nw + 1, sizeof(*ws));
	memcpy(gs, g, ng * sizeof(*g));
	memcpy(ws, w, nw * sizeof(*w));
	qsort(gs, ng, sizeof(*gs), str_cmp);
	qsort(ws, nw, sizeof(*ws), str_cmp);
	for (i = 0; same && i < ng; i++)
		if (strcmp(gs[i], ws[i]) != 0) {
			printf("# %s: first difference: got '%s', want '%s'\n", what, gs[i], ws[i]);
			same = 0;
		}
	if (ng != nw)
		printf("# %s: %zu lines, want %zu\n", what, ng, nw);
	/* per key order: walk want; each line must appear in got after the
	 * previous line of the same key */
	for (i = 0; same && i < nw && ordered; i++) {
		size_t prev = 0;
		int have_prev = 0;

		for (k = 0; k < i; k++)
			if (same_key(w[k], w[i])) {
				/* position of the previous same-key line in got */
				for (gi = 0; gi < ng; gi++)
					if (g[gi] != NULL && strcmp(g[gi], w[k]) == 0)
						break;
				prev = gi;
				have_prev = 1;
			}
		for (gi = have_prev ? prev + 1 : 0; gi < ng; gi++)
			if (strcmp(g[gi], w[i]) == 0)
				break;
		if (gi == ng) {
			printf("# %s: line '%s' out of order for its key\n", what, w[i]);
			ordered = 0;
		}
	}
	ok(same && nw > 0, "%s: the %zu expected lines, no line lost or repeated", what, nw);
	ok(same && ordered, "%s: each row key's lines in write order", what);
	free(gs);
	free(ws);
	lines_free(g, ng);
	lines_free(w, nw);
}

/* ------------------------------------------------------------- the status table */

struct strow {
	char	type[64];
	char	value[256];
	char	version[128];
	char	ckpt[256];
	int	has_skip;
	int64_t	skip, sent;
	int	nshard_chunks;
	int	zlib;
	char	table[64], stream[128];
	int64_t	start, end;
};

static struct strow strows[256];
static size_t nstrows;

static int
strow_fn(void *arg, const struct plainbuf_row *r)
{
	struct strow *s = &strows[nstrows];
	size_t i;

	(void)arg;
	if (nstrows >= 256 || r->npk != 3)
		return 0;
	memset(s, 0, sizeof(*s));
	s->sent = -1;
	snprintf(s->type, sizeof(s->type), "%.*s", (int)r->pk[1].value.len, (const char *)r->pk[1].value.p);
	snprintf(s->value, sizeof(s->value), "%.*s", (int)r->pk[2].value.len, (const char *)r->pk[2].value.p);
	for (i = 0; i < r->nattrs; i++) {
		const struct plainbuf_cell *c = &r->attrs[i];
		const struct plainbuf_value *v = &c->value;

		if (strcmp(c->name, "Version") == 0)
			snprintf(s->version, sizeof(s->version), "%.*s", (int)v->len, (const char *)v->p);
		else if (strcmp(c->name, "Checkpoint") == 0)
			snprintf(s->ckpt, sizeof(s->ckpt), "%.*s", (int)v->len, (const char *)v->p);
		else if (strcmp(c->name, "SkipCount") == 0 && v->type == PLAINBUF_VT_INTEGER) {
			s->has_skip = 1;
			s->skip = v->i;
		} else if (strcmp(c->name, "SendRecordCount") == 0 && v->type == PLAINBUF_VT_INTEGER)
			s->sent = v->i;
		else if (strncmp(c->name, "ShardIds_", 9) == 0 && v->type == PLAINBUF_VT_BLOB) {
			s->nshard_chunks++;
			s->zlib = v->len > 2 && v->p[0] == 0x78;
		} else if (strcmp(c->name, "TableName") == 0)
			snprintf(s->table, sizeof(s->table), "%.*s", (int)v->len, (const char *)v->p);
		else if (strcmp(c->name, "JobStreamId") == 0)
			snprintf(s->stream, sizeof(s->stream), "%.*s", (int)v->len, (const char *)v->p);
		else if (strcmp(c->name, "StartTime") == 0)
			s->start = v->i;
		else if (strcmp(c->name, "EndTime") == 0)
			s->end = v->i;
	}
	nstrows++;
	return 0;
}

static int
read_status(const char *table)
{
	static const char *const names[] = { "StreamId", "StatusType", "StatusValue" };
	struct plainbuf_cell lo[3], hi[3];
	struct plainbuf_value vmin = plainbuf_special(PLAINBUF_VT_INF_MIN);
	struct plainbuf_value vmax = plainbuf_special(PLAINBUF_VT_INF_MAX);
	struct ots_range_req q;
	struct ots_error err;
	int i;

	for (i = 0; i < 3; i++) {
		plainbuf_cell_set(&lo[i], names[i], &vmin, PLAINBUF_OP_PUT, -1);
		plainbuf_cell_set(&hi[i], names[i], &vmax, PLAINBUF_OP_PUT, -1);
	}
	memset(&q, 0, sizeof(q));
	q.table = table;
	q.start = lo;
	q.nstart = 3;
	q.end = hi;
	q.nend = 3;
	q.limit = 50;
	nstrows = 0;
	return ots_get_range_each(cli, &q, strow_fn, NULL, &err);
}

static const struct strow *
strow_find(const char *type, const char *value)
{
	size_t i;

	for (i = 0; i < nstrows; i++)
		if (strcmp(strows[i].type, type) == 0 && strcmp(strows[i].value, value) == 0)
			return &strows[i];
	return NULL;
}

/* ------------------------------------------------------------- scenario */

static char shard_ids[8][96];
static int nshard_ids;
static char stream_id[128];

static void
list_shards(void)
{
	struct ots_stream_desc *d = NULL;
	struct ots_error err;
	size_t i;

	nshard_ids = 0;
	if (ots_describe_stream_all(cli, stream_id, &d, &err) != 0)
		return;
	for (i = 0; i < d->nshards && i < 8; i++)
		snprintf(shard_ids[nshard_ids++], sizeof(shard_ids[0]), "%s", d->shards[i].shard_id);
	ots_stream_desc_free(d);
}

static const char *
tm_ms(int64_t a, int64_t b)
{
	static char s[128];

	snprintf(s, sizeof(s), "\"startTimestampMillis\":%" PRId64 ",\"endTimestampMillis\":%"
	    PRId64 ",\"safetyMarginSeconds\":0", a, b);
	return s;
}

static void
stamp14(int64_t ms, char *out, size_t n)
{
	struct tz_tm tm;

	tz_to_local(tz8, ms / 1000, &tm);
	snprintf(out, n, "%04" PRId64 "%02d%02d%02d%02d%02d", tm.year, tm.mon, tm.mday, tm.hour,
	    tm.min, tm.sec);
}

static int
has_log(const char *needle)
{
	return strstr(cap.text.p, needle) != NULL;
}

static void
scenario(void)
{
	static const char *const rcols[] = { "uid", "grp", "name", "age", "score", "flag", "bin", "nothere" };
	struct ots_pk_schema pk[2] = { { "uid", OTS_PK_STRING, 0 }, { "grp", OTS_PK_INTEGER, 0 } };
	struct ots_create_table ct;
	struct ots_table_desc *td = NULL;
	struct ots_error err;
	struct eng_errbuf eb;
	struct buf got, want, again;
	char a[32], b[32], tm[256], out[512], cmd[256], val[64];
	int64_t t0, t1, t2, t3, t4, t5, t6;
	int i, rc, nfiles;
	size_t k;

	memset(&ct, 0, sizeof(ct));
	ct.table = TABLE;
	ct.pk = pk;
	ct.npk = 2;
	ct.options.ttl = -1;
	ct.options.max_versions = 5;
	ct.options.allow_update = -1;
	ct.stream.set = 1;
	ct.stream.enable = 1;
	ct.stream.expiration_hours = 24;
	is_rc(ots_create_table(cli, &ct, &err), 0, "create %s with a stream (%s)", TABLE, err.message);
	if (ots_describe_table(cli, TABLE, &td, &err) == 0 && td->stream_id != NULL)
		snprintf(stream_id, sizeof(stream_id), "%s", td->stream_id);
	ots_table_desc_free(td);
	list_shards();
	is_int(nshard_ids, 2, "the stream has 2 shards");

	buf_init(&got, BUF_MAX_DOC);
	buf_init(&want, BUF_MAX_DOC);
	buf_init(&again, BUF_MAX_DOC);

	/* ---- W1: multi-version, 2 channels; rerun ---- */
	t0 = th_boundary();
	is_rc(batch(1, 16), 0, "batch 1 written");
	t1 = th_boundary();
	rc = run_window("w1", tm_ms(t0, t1), ",\"statusTable\":\"st\"", 2, &eb);
	is_rc(rc, 0, "W1 multi-version [t0, t1) on 2 channels");
	ok(has_log("over 2 tasks"), "W1: 2 shards read by 2 tasks in parallel");
	ok(has_log("no checkpoints at the start"), "W1: no checkpoints at the start: shards from their oldest record");
	snprintf(val, sizeof(val), "window [%" PRId64 ", %" PRId64 ") ms", t0, t1);
	ok(has_log(val), "W1: the log states the millisecond bounds");
	ok(cap.win_start == t0 && cap.win_end == t1, "W1: env->window got the window");
	nfiles = read_out("w1", &got);
	is_int(nfiles, 2, "W1: one file per task");
	expect_mv(1u << 1, &want);
	compare("W1 multi-version", &got, &want);

	/* status table rows in DataX's formats */
	is_rc(read_status("st"), 0, "read the status table");
	snprintf(val, sizeof(val), "%16" PRId64, t1);
	{
		const struct strow *jd = strow_find("DataxJobDesc", val);
		int good = 0, stimes = 0;

		ok(jd != NULL && jd->nshard_chunks == 1 && jd->zlib && jd->version[0] != '\0' &&
		    strcmp(jd->table, TABLE) == 0 && strcmp(jd->stream, stream_id) == 0 &&
		    jd->start == t0 && jd->end == t1,
		    "DataxJobDesc at \"%%16d\"(t1): ShardIds_0 (zlib), Version, TableName, JobStreamId, StartTime, EndTime");
		for (i = 0; i < nshard_ids && jd != NULL; i++) {
			char key[160];
			const struct strow *c;

			snprintf(key, sizeof(key), "%16" PRId64 "\t%.95s", t1, shard_ids[i]);
			c = strow_find("CheckpointForDataxReader", key);
			good += c != NULL && strcmp(c->version, jd->version) == 0 &&
			    c->ckpt[0] != '\0' && strcmp(c->ckpt, "SHARD_END") != 0 &&
			    c->has_skip && c->skip == 0 && c->sent > 0;
		}
		is_int(good, 2, "CheckpointForDataxReader \"%%16d\\tshard\" rows: Version = job, Checkpoint iterator, SkipCount 0, SendRecordCount");
		for (k = 0; k < nstrows; k++)
			if (strcmp(strows[k].type, "ShardTimeCheckpointForDataxReader") == 0) {
				const char *tab = strchr(strows[k].value, '\t');

				stimes += tab != NULL && strlen(tab + 1) == 16 && strows[k].ckpt[0] != '\0';
			}
		ok(stimes >= 4, "ShardTimeCheckpointForDataxReader \"shard\\t%%16d\" rows (first record and end of each shard): %d", stimes);
		ok(cap.nmirror == 2 && strncmp(strchr(cap.mirror[0], '=') + 1, val + 3, 13) == 0,
		    "each checkpoint mirrored through ckpt_put (%d)", cap.nmirror);
		is_int(cap.retention_h, 24, "the stream's retention is recorded for the scheduler");
	}

	rc = run_window("w1", tm_ms(t0, t1), ",\"statusTable\":\"st\"", 2, &eb);
	is_rc(rc, 0, "W1 again (rerun of the same window)");
	read_out("w1", &again);
	ok(got.len > 0 && got.len == again.len && memcmp(got.p, again.p, got.len) == 0,
	    "W1 rerun: byte-identical files");

	/* ---- the same window in row mode with yyyyMMddHHmmss bounds in +08 ---- */
	stamp14(t0, a, sizeof(a));
	stamp14(t1, b, sizeof(b));
	snprintf(tm, sizeof(tm), "\"startTimestampMillis\":\"%s\",\"endTimestampMillis\":\"%s\","
	    "\"safetyMarginSeconds\":0", a, b);
	rc = run_window("w1row", tm, ",\"statusTable\":\"st_row\",\"mode\":\"single_version_and_update_only\","
	    "\"column\":[{\"name\":\"uid\"},{\"name\":\"grp\"},{\"name\":\"name\"},{\"name\":\"age\"},"
	    "{\"name\":\"score\"},{\"name\":\"flag\"},{\"name\":\"bin\"},{\"name\":\"nothere\"}]", 1, &eb);
	is_rc(rc, 0, "row mode, 14-digit local bounds %s..%s (+08), new status table", a, b);
	ok(cap.win_start == t0 && cap.win_end == t1, "14-digit bounds read as local time in the job's zone");
	buf_reset(&got);
	buf_reset(&want);
	read_out("w1row", &got);
	expect_row(1u << 1, rcols, 8, &want);
	compare("W1 single_version_and_update_only", &got, &want);

	/* startTimeString / endTimeString: the same window, multi-version */
	snprintf(tm, sizeof(tm), "\"startTimeString\":\"%s\",\"endTimeString\":\"%s\","
	    "\"safetyMarginSeconds\":0", a, b);
	rc = run_window("w1ts", tm, ",\"statusTable\":\"st_ts\"", 2, &eb);
	is_rc(rc, 0, "startTimeString/endTimeString %s..%s", a, b);
	ok(cap.win_start == t0 && cap.win_end == t1, "yyyyMMddHHmmss strings read as local time");
	buf_reset(&got);
	buf_reset(&want);
	read_out("w1ts", &got);
	expect_mv(1u << 1, &want);
	compare("W1 by startTimeString", &got, &want);

	/* date = today (+08): that local day; the end (midnight) is in the future */
	{
		struct tz_tm lt;
		int64_t day0;

		tz_to_local(tz8, th_now_ms() / 1000, &lt);
		lt.hour = lt.min = lt.sec = 0;
		tz_to_utc(tz8, &lt, &day0, NULL);
		snprintf(tm, sizeof(tm), "\"date\":\"%04" PRId64 "%02d%02d\"", lt.year, lt.mon, lt.mday);
		rc = run_window("wdate", tm, ",\"statusTable\":\"st_e\"", 1, &eb);
		ok(cap.win_start == day0 * 1000 && cap.win_end == day0 * 1000 + 86400000,
		    "date: [local midnight, +86400000 ms)");
		ok(rc == ENG_ERETRYABLE && strstr(eb.msg, "too recent") != NULL,
		    "date = today: its end is later than now - safetyMarginSeconds");
	}

	/* the seed's job through the validator, parameters and a datasource */
	{
		static const char *const c2[] = { "uid", "name" };

		rc = run_seed_job("wseed", a, b, &eb);
		is_rc(rc, 0, "the seed's job (datasource, ${start_time}/${end_time}) via run_job");
		ok(cap.win_start == t0 && cap.win_end == t1, "seed job: window from the 14-digit parameters");
		buf_reset(&got);
		buf_reset(&want);
		read_out("wseed", &got);
		expect_row(1u << 1, c2, 2, &want);
		compare("seed job rows [uid, name]", &got, &want);
	}

	/* enableSeekIterator and the accepted DataX knobs: same records */
	rc = run_window("w1seek", tm_ms(t0, t1), ",\"statusTable\":\"st_seek\",\"enableSeekIterator\":true,"
	    "\"enableTableGroupSupport\":true,\"threadNum\":4,\"confSimplifyEnable\":true", 2, &eb);
	is_rc(rc, 0, "enableSeekIterator, enableTableGroupSupport, threadNum, confSimplifyEnable");
	buf_reset(&got);
	buf_reset(&want);
	read_out("w1seek", &got);
	expect_mv(1u << 1, &want);
	compare("W1 with enableSeekIterator", &got, &want);

	/* row mode over a column that updates may lack: such lines are dropped */
	{
		static const char *const c2[] = { "name" };

		rc = run_window("w1name", tm_ms(t0, t1), ",\"statusTable\":\"st_name\",\"mode\":"
		    "\"SINGLE_VERSION_AND_UPDATE_ONLY\",\"column\":[{\"name\":\"name\"}]", 1, &eb);
		is_rc(rc, 0, "row mode over [name] only");
		buf_reset(&got);
		buf_reset(&want);
		read_out("w1name", &got);
		expect_row(1u << 1, c2, 1, &want);
		compare("row mode [name]: lines without any column dropped", &got, &want);
	}

	/* sequence info */
	rc = run_window("w1seq", tm_ms(t0, t1), ",\"statusTable\":\"st_seq\",\"isExportSequenceInfo\":true", 2, &eb);
	is_rc(rc, 0, "multi-version with isExportSequenceInfo");
	buf_reset(&got);
	read_out("w1seq", &got);
	{
		char **l;
		size_t n = lines_of(got.p, &l), bad = 0, zero = 0;

		for (k = 0; k < n; k++) {
			const char *s = strrchr(l[k], '|');
			const char *colon = s != NULL ? strrchr(s, ':') : NULL;

			if (s == NULL || colon == NULL || strlen(colon + 1) != 10 || s[11] != '_' ||
			    s[32] != '_' || s[43] != '_')
				bad++;
			else if (strcmp(colon + 1, "0000000000") == 0)
				zero++;
		}
		ok(n > 0 && bad == 0, "sequence column %%010d_%%020d_%%010d_shard:%%010d on all %zu lines", n);
		ok(zero > 0 && zero < n, "column index restarts at 0 per record (%zu of %zu)", zero, n);
		lines_free(l, n);
	}

	/* ---- W2 after a split ---- */
	list_shards();
	snprintf(cmd, sizeof(cmd), "split " TABLE " %s", shard_ids[0]);
	is_int(emu_cmd(cmd, out, sizeof(out)), 200, "split shard %s", shard_ids[0]);
	is_rc(batch(2, 16), 0, "batch 2 written");
	t2 = th_boundary();
	rc = run_window("w2", tm_ms(t1, t2), ",\"statusTable\":\"st\"", 3, &eb);
	is_rc(rc, 0, "W2 [t1, t2) after the split");
	ok(has_log("resuming from the 2 checkpoints"), "W2 resumes from W1's checkpoints");
	buf_reset(&got);
	buf_reset(&want);
	read_out("w2", &got);
	expect_mv(1u << 2, &want);
	compare("W2 (split between windows)", &got, &want);

	/* no checkpoints at t1 + 100: shard time checkpoints + skipping */
	rc = run_window("w2b", tm_ms(t1 + 100, t2), ",\"statusTable\":\"st\"", 3, &eb);
	is_rc(rc, 0, "W2' [t1 + 100 ms, t2): no checkpoints at its start");
	ok(has_log("starting at its newest shard time checkpoint"),
	    "W2': a shard starts at its shard time checkpoint (written by W1)");
	buf_reset(&got);
	buf_reset(&want);
	read_out("w2b", &got);
	expect_mv(1u << 2, &want);
	compare("W2' (shard time checkpoints, records before the start skipped)", &got, &want);

	/* a fresh status table: every shard from its oldest record, W1's skipped */
	rc = run_window("w2c", tm_ms(t1, t2), ",\"statusTable\":\"st_skip\"", 2, &eb);
	is_rc(rc, 0, "[t1, t2) with a new status table");
	buf_reset(&got);
	buf_reset(&want);
	read_out("w2c", &got);
	expect_mv(1u << 2, &want);
	compare("[t1, t2) from the oldest records: batch 1 skipped", &got, &want);

	/* ---- W3 after a merge of the two children ---- */
	list_shards();
	is_int(nshard_ids, 4, "4 shards after the split");
	{
		char c1[96] = "", c2[96] = "", *sp;

		/* the split's answer: "CHILD1 CHILD2" */
		snprintf(c1, sizeof(c1), "%.90s", out);
		if ((sp = strchr(c1, ' ')) != NULL) {
			*sp = '\0';
			snprintf(c2, sizeof(c2), "%s", sp + 1);
			c2[strcspn(c2, "\n")] = '\0';
		}
		snprintf(cmd, sizeof(cmd), "merge " TABLE " %s %s", c1, c2);
		is_int(emu_cmd(cmd, out, sizeof(out)), 200, "merge %s %s", c1, c2);
	}
	is_rc(batch(3, 16), 0, "batch 3 written");
	t3 = th_boundary();
	rc = run_window("w3", tm_ms(t2, t3), ",\"statusTable\":\"st\"", 2, &eb);
	is_rc(rc, 0, "W3 [t2, t3) after the merge");
	buf_reset(&got);
	buf_reset(&want);
	read_out("w3", &got);
	expect_mv(1u << 3, &want);
	compare("W3 (merge between windows)", &got, &want);

	/* ---- W4/W5: a split after the window end ---- */
	{
		char merged[96];

		snprintf(merged, sizeof(merged), "%.90s", out);
		merged[strcspn(merged, "\n")] = '\0';
		is_rc(batch(4, 12), 0, "batch 4 written");
		t4 = th_boundary();
		is_rc(batch(5, 12), 0, "batch 5 written (after W4's end)");
		snprintf(cmd, sizeof(cmd), "split " TABLE " %s", merged);
		is_int(emu_cmd(cmd, out, sizeof(out)), 200, "split the merged shard %s", merged);
		is_rc(batch(6, 12), 0, "batch 6 written (into its children)");
		t5 = th_boundary();
		rc = run_window("w4", tm_ms(t3, t4), ",\"statusTable\":\"st\"", 2, &eb);
		is_rc(rc, 0, "W4 [t3, t4)");
		buf_reset(&got);
		buf_reset(&want);
		read_out("w4", &got);
		expect_mv(1u << 4, &want);
		compare("W4 (parent stops at the window end)", &got, &want);
		is_rc(read_status("st"), 0, "read the status table");
		{
			char key[160], c1[96], *sp;
			const struct strow *m, *k1;

			snprintf(key, sizeof(key), "%16" PRId64 "\t%.95s", t4, merged);
			m = strow_find("CheckpointForDataxReader", key);
			snprintf(c1, sizeof(c1), "%.90s", out);
			if ((sp = strchr(c1, ' ')) != NULL)
				*sp = '\0';
			snprintf(key, sizeof(key), "%16" PRId64 "\t%.95s", t4, c1);
			k1 = strow_find("CheckpointForDataxReader", key);
			ok(m != NULL && strcmp(m->ckpt, "SHARD_END") != 0 && strcmp(m->ckpt, "TRIM_HORIZON") != 0,
			    "W4: the parent's checkpoint is an iterator at its first record >= t4");
			ok(k1 != NULL && strcmp(k1->ckpt, "TRIM_HORIZON") == 0 && k1->sent == -1,
			    "W4: a child whose parent did not end is skipped: TRIM_HORIZON, no SendRecordCount");
		}
		rc = run_window("w5", tm_ms(t4, t5), ",\"statusTable\":\"st\"", 2, &eb);
		is_rc(rc, 0, "W5 [t4, t5)");
		buf_reset(&got);
		buf_reset(&want);
		read_out("w5", &got);
		expect_mv(1u << 5 | 1u << 6, &want);
		compare("W5 (parent to its end, then its children)", &got, &want);
	}

	/* ---- errors ---- */
	snprintf(tm, sizeof(tm), "\"startTimestampMillis\":%" PRId64 ",\"endTimestampMillis\":%" PRId64,
	    t5 - 5000, th_now_ms() - 1000);
	rc = run_window("e1", tm, ",\"statusTable\":\"st_e\"", 1, &eb);
	ok(rc == ENG_ERETRYABLE && strstr(eb.msg, "safetyMarginSeconds (300 s)") != NULL,
	    "end later than now - 300 s (the default margin): %s", eb.msg);
	fake_now_off = 48LL * 3600000;
	rc = run_window("e2", tm_ms(t0, t1), ",\"statusTable\":\"st_e\"", 1, &eb);
	fake_now_off = 0;
	ok(rc == ENG_ETRIMMED && strstr(eb.msg, "retention") != NULL && strstr(eb.msg, "24 h") != NULL,
	    "start outside the stream's retention: %s", eb.msg);
	{
		struct ots_pk_schema bpk[1] = { { "a", OTS_PK_STRING, 0 } };

		memset(&ct, 0, sizeof(ct));
		ct.table = "st_bad";
		ct.pk = bpk;
		ct.npk = 1;
		ct.options.ttl = -1;
		ct.options.max_versions = 1;
		ct.options.allow_update = -1;
		is_rc(ots_create_table(cli, &ct, &err), 0, "create st_bad");
		rc = run_window("e3", tm_ms(t0, t1), ",\"statusTable\":\"st_bad\"", 1, &eb);
		ok(rc == ENG_EINVAL && strstr(eb.msg, "Unexpected table meta in status table") != NULL,
		    "status table with another primary key: %s", eb.msg);
	}
	is_rc(batch(7, 4), 0, "batch 7 written");
	t6 = th_boundary();
	is_int(emu_cmd("trim " TABLE " 0", out, sizeof(out)), 200, "trim all stream records");
	rc = run_window("e4", tm_ms(t5, t6), ",\"statusTable\":\"st\"", 2, &eb);
	ok(rc == ENG_ETRIMMED && strstr(eb.msg, "already trimmed") != NULL,
	    "checkpoint at the start points at trimmed data: %s", eb.msg);

	buf_free(&got);
	buf_free(&want);
	buf_free(&again);
}

int
main(int argc, char **argv)
{
	struct ots_config cfg;
	struct eng_errbuf eb = { "" };
	const struct th_emu_opts emu_opts = {
		.name = "difs-otsstream",
		.access_key = AK_ID ":" AK_SECRET,
		.ots_instance = INSTANCE,
		.sync_off = true,
		.log_level = "warn",
	};

	if (argc < 2 || access(argv[1], X_OK) != 0) {
		printf("# difs-emu not found (%s): skipped\n", argc > 1 ? argv[1] : "no argument");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	buf_init(&cap.text, BUF_MAX_DOC);
	cap.verbose = getenv("OTSSTREAM_VERBOSE") != NULL;
	if (th_emu_start(&emu, argv[1], &emu_opts) != 0) {
		ok(0, "difs-emu started");
		th_emu_stop(&emu);
		return done_testing();
	}
	snprintf(outroot, sizeof(outroot), "%s/out", emu.dir);
	mkdir(outroot, 0755);
	if (tz_parse_posix("+08", "<+08>-8", 7, &tz8, &eb) != 0 ||
	    sign_cred_new(AK_ID, AK_SECRET, NULL, &cred) != 0) {
		ok(0, "setup: %s", eb.msg);
		th_emu_stop(&emu);
		return done_testing();
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.endpoint = emu.ots_url;
	cfg.instance = INSTANCE;
	cfg.cred = cred;
	cfg.max_retries = 3;
	if (ots_new(&cfg, &cli, &eb) != 0) {
		ok(0, "client: %s", eb.msg);
	} else {
		scenario();
		ots_free(cli);
	}
	sign_cred_free(cred);
	tz_free(tz8);
	buf_free(&cap.text);
	th_emu_stop(&emu);
	return done_testing();
}
