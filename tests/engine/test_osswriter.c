/* SPDX-License-Identifier: MIT */
/*
 * test_osswriter.c - the oss writer end to end: stream reader -> pipe_run
 * -> oss writer -> difs-emu's OSS side.  Checks objects byte for byte (CSV
 * rules, a header in every object, suffix, rollover at maxFileSize,
 * multipart parts, writeSingleObject's deterministic layout), the three
 * writeModes, reruns giving identical objects, an injected 503 during a
 * part, a cancelled run and a SIGKILLed process leaving no multipart
 * upload behind (the rerun aborts the leftovers), datasource lookup,
 * generateEmptyFile, refused parameters and a clean spool; and, through
 * run_job, the source snapshot rule: a source edited while an attempt runs
 * does not change that attempt's credentials, the next attempt uses them.
 *
 *   test_osswriter PATH/TO/difs-emu
 *
 * The runner starts difs-emu on a free loopback port with a fresh data
 * directory.  Exit 77 (skip) only when the difs-emu binary is absent.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "emu_harness.h"
#include "oss.h"
#include "pipe.h"
#include "run.h"
#include "tap.h"

#define AK	"AKIDEXAMPLE"
#define SK	"SECRETEXAMPLE"
#define BUCKET	"difs-test"
#define INST	"20261125120000"
#define MIB	(1u << 20)

static struct th_emu g_emu = TH_EMU_INIT;
static char g_spool[600];
static struct sign_cred *g_cred;
static struct oss *g_oss;
static struct conf_source *g_src;

/* ---- OSS helpers ---------------------------------------------------------- */

static void
diag_oss(const char *what, int rc, const struct oss_error *e)
{
	char line[600];

	if (rc == 0)
		return;
	oss_error_format(e, line, sizeof(line));
	printf("# %s: %s\n", what, line);
}

static int
put_str(const char *key, const char *s)
{
	struct oss_src src = oss_src_mem(s, strlen(s));
	struct oss_put_result pr;
	struct oss_error e;
	int rc = oss_put(g_oss, key, &src, NULL, &pr, &e);

	diag_oss(key, rc, &e);
	return rc;
}

/* whole object into b (reset first); 0 or the error */
static int
get_obj(const char *key, struct buf *b)
{
	struct oss_error e;
	int rc;

	buf_reset(b);
	memset(&e, 0, sizeof(e));
	rc = oss_get(g_oss, key, NULL, b, NULL, &e);
	if (rc != ENG_ENOTFOUND)
		diag_oss(key, rc, &e);
	return rc;
}

static bool
exists(const char *key)
{
	struct oss_head h;
	struct oss_error e;

	return oss_head(g_oss, key, &h, &e) == 0;
}

/* keys under prefix, sorted by the service, "\n"-joined into out */
static size_t
list_keys(const char *prefix, struct buf *out)
{
	struct oss_list_opts lo;
	struct oss_list_page pg;
	struct oss_error e;
	size_t i, n = 0;

	buf_reset(out);
	memset(&lo, 0, sizeof(lo));
	lo.prefix = prefix;
	if (oss_list(g_oss, &lo, &pg, &e) != 0) {
		diag_oss("list", -1, &e);
		return (size_t)-1;
	}
	for (i = 0; i < pg.nobjs; i++, n++)
		(void)buf_printf(out, "%s\n", pg.objs[i].key);
	oss_list_page_free(&pg);
	return n;
}

static long
count_uploads(const char *prefix)
{
	struct oss_error e;
	size_t n = 0;
	int rc = oss_mpu_list_uploads(g_oss, prefix, &n, NULL, &e);

	diag_oss("ListMultipartUploads", rc, &e);
	return rc == 0 ? (long)n : -1;
}

/* ---- running a job ------------------------------------------------------------ */

static void
test_log(void *arg, enum log_level lvl, const char *line)
{
	(void)arg;
	(void)lvl;
	if (getenv("OSSWRITER_VERBOSE") != NULL || lvl <= LOG_LVL_WARN)
		printf("#   log: %s\n", line);
}

/*
 * The writer's connection, as run_job hands it over (conf_job_source): the
 * datasource "oss-test" (g_src), or a source made of the inline keys of
 * the writer parameter p.  *own is set when the caller frees it.
 */
static const struct conf_source *
writer_source(const struct json *p, struct conf_source **own)
{
	static const char *const keys[] = { "endpoint", "bucket", "accessId", "accessKey",
	    "securityToken", "region", "signatureVersion" };
	const char *ds = json_str(json_get(p, "datasource"));
	struct buf b;
	size_t i;

	*own = NULL;
	if (ds != NULL)
		return strcmp(ds, "oss-test") == 0 ? g_src : NULL;
	buf_init(&b, BUF_MAX_SMALL);
	(void)buf_addstr(&b, "{\"type\": \"oss\"");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_str(json_get(p, keys[i])) != NULL)
			(void)buf_printf(&b, ", \"%s\": \"%s\"", keys[i],
			    json_str(json_get(p, keys[i])));
	(void)buf_addstr(&b, "}");
	if (b.err != 0 || conf_source_parse(NULL, b.p, b.len, NULL, NULL, own) != 0)
		printf("# the writer's inline connection is not a valid source: %s\n", b.p);
	buf_free(&b);
	return *own;
}

/* the reader: per task `n` records of five columns (long incr, "a,b",
 * say "hi", null, a long padded string of `pad` x) */
static char *
reader_json(long n, int pad)
{
	char *s = NULL, *x = malloc((size_t)pad + 1);

	memset(x, 'x', (size_t)pad);
	x[pad] = '\0';
	if (asprintf(&s, "{\"sliceRecordCount\": %ld, \"column\": ["
	    "{\"type\": \"long\", \"incr\": \"1\"},"
	    "{\"type\": \"string\", \"value\": \"a,b\"},"
	    "{\"type\": \"string\", \"value\": \"say \\\"hi\\\"\"},"
	    "{\"type\": \"string\"},"
	    "{\"type\": \"string\", \"value\": \"  %s  \"}]}", n, x) < 0)
		s = NULL;
	free(x);
	return s;
}

/* what one task's records look like in csv with nullFormat "" */
static void
expect_lines(struct buf *out, long n, int pad)
{
	long i;
	int k;

	for (i = 1; i <= n; i++) {
		(void)buf_printf(out, "%ld,\"a,b\",\"say \"\"hi\"\"\",,", i);
		for (k = 0; k < pad; k++)
			(void)buf_addc(out, 'x');
		(void)buf_addc(out, '\n');
	}
}

struct run_opts {
	const char	*writer;	/**< writer parameter JSON */
	long		 records;	/**< per task */
	int		 pad;
	int		 channels;
	const char	*instance;
	atomic_int	*cancel;
	struct buf	*outputs;
	char		*errmsg;	/**< eb message out (sizeof eng_errbuf) */
	const char	*plugin;	/**< the writer: NULL = "oss" */
};

static int
run(const struct run_opts *ro)
{
	struct json_doc *rd = NULL, *wd = NULL;
	struct conf_source *own = NULL;
	struct plugin_env env;
	struct pipe_config pc;
	struct pipe_stats st;
	struct eng_errbuf eb;
	const char *wname;
	char *rj = reader_json(ro->records, ro->pad);
	int rc;

	memset(&env, 0, sizeof(env));
	env.job = "osswriter-test";
	env.instance = ro->instance != NULL ? ro->instance : INST;
	env.attempt = 1;
	env.spool_dir = g_spool;
	env.cancel = ro->cancel;
	env.log = test_log;
	if (json_parse(rj, strlen(rj), &rd, NULL) != 0 ||
	    json_parse(ro->writer, strlen(ro->writer), &wd, NULL) != 0) {
		printf("# bad test JSON: %s\n", ro->writer);
		free(rj);
		json_doc_free(rd);
		return -EINVAL;
	}
	memset(&pc, 0, sizeof(pc));
	pc.env = &env;
	pc.reader = CONF_PLUGIN_STREAM;
	pc.reader_param = json_doc_root(rd);
	wname = ro->plugin != NULL ? ro->plugin : "oss";
	pc.writer = conf_plugin_find(CONF_WRITER, wname);
	pc.writer_param = json_doc_root(wd);
	if (strcmp(wname, "oss") == 0)
		pc.writer_source = writer_source(pc.writer_param, &own);
	pc.concurrent = ro->channels > 0 ? ro->channels : 1;
	pc.error_records = 0;
	pc.error_percent = -1;
	pc.progress_ms = 60000;
	pc.outputs = ro->outputs;
	pipe_stats_init(&st);
	memset(&eb, 0, sizeof(eb));
	rc = pipe_run(&pc, &st, &eb);
	if (rc != 0)
		printf("# pipe_run: %s: %s\n", eng_strerror(rc), eb.msg);
	if (ro->errmsg != NULL)
		memcpy(ro->errmsg, eb.msg, sizeof(eb.msg));
	json_doc_free(rd);
	json_doc_free(wd);
	conf_source_free(own);
	free(rj);
	return rc;
}

/* writer JSON with the inline connection plus `extra` members */
static char *
writer_json(const char *extra)
{
	char *s = NULL;

	if (asprintf(&s, "{\"endpoint\": \"%s\", \"bucket\": \"%s\", \"accessId\": \"%s\", "
	    "\"accessKey\": \"%s\", \"fileFormat\": \"csv\", \"nullFormat\": \"\", %s}",
	    g_emu.oss_url, BUCKET, AK, SK, extra) < 0)
		s = NULL;
	return s;
}

static int
spool_leftovers_q(const char *what)
{
	char cmd[800];
	FILE *p;
	char line[64];
	int n = -1;

	snprintf(cmd, sizeof(cmd), "find '%s' -mindepth 1 %s | wc -l", g_spool, what);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), p) != NULL)
		n = (int)strtol(line, NULL, 10);
	pclose(p);
	return n;
}

static int
spool_leftovers(void)
{
	char cmd[800];
	FILE *p;
	char line[64];
	int n = -1;

	snprintf(cmd, sizeof(cmd), "find '%s' -name '*.spool' | wc -l", g_spool);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), p) != NULL)
		n = (int)strtol(line, NULL, 10);
	pclose(p);
	return n;
}

/* ---- scenarios -------------------------------------------------------------------- */

static void
t_basic(void)
{
	struct buf got, want, outs;
	char *w = writer_json("\"object\": \"basic/out\", \"writeMode\": \"truncate\", "
	    "\"header\": [\"id\", \"ab\", \"q\", \"n\", \"p\"], \"suffix\": \" csv \"");
	struct run_opts ro = { w, 100, 3, 2, NULL, NULL, NULL, NULL, NULL };
	int t;

	printf("# ---- csv, header, suffix, two channels ----\n");
	buf_init(&got, BUF_MAX_BODY);
	buf_init(&want, BUF_MAX_BODY);
	buf_init(&outs, BUF_MAX_SMALL);
	ro.outputs = &outs;
	is_rc(run(&ro), 0, "run");
	is_int((long long)list_keys("basic/", &got), 2, "two objects: %s", got.p);
	for (t = 0; t < 2; t++) {
		char key[128];

		snprintf(key, sizeof(key), "basic/out__" INST "_%d.csv", t);
		buf_reset(&want);
		buf_addstr(&want, "id,ab,q,n,p\n");
		expect_lines(&want, 100, 3);
		is_rc(get_obj(key, &got), 0, "%s exists", key);
		ok(got.len == want.len && memcmp(got.p, want.p, want.len) == 0,
		    "%s byte-exact (%zu bytes, want %zu; first line after header: %.40s)", key,
		    got.len, want.len, got.len > 12 ? got.p + 12 : "");
		ok(strstr(outs.p != NULL ? outs.p : "", key) != NULL, "%s reported as output", key);
	}
	is_int(spool_leftovers(), 0, "spool files removed");
	buf_free(&got);
	buf_free(&want);
	buf_free(&outs);
	free(w);
}

/* rollover with maxFileSize 1 MB and 1 MiB parts; returns the concatenation */
static void
t_rollover(void)
{
	struct buf got, want, all, keys;
	char *w = writer_json("\"object\": \"roll/data\", \"writeMode\": \"append\", "
	    "\"header\": [\"h\"], \"maxFileSize\": 1, \"blockSizeInMB\": 1");
	struct run_opts ro = { w, 20000, 200, 1, NULL, NULL, NULL, NULL, NULL };
	char key[128], *first = NULL;
	size_t firstlen = 0, nobj;
	int n, again;

	printf("# ---- rollover at maxFileSize, multipart parts, rerun ----\n");
	buf_init(&got, BUF_MAX_BODY);
	buf_init(&want, BUF_MAX_BODY);
	buf_init(&all, BUF_MAX_BODY);
	buf_init(&keys, BUF_MAX_SMALL);
	expect_lines(&want, 20000, 200);
	for (again = 0; again < 2; again++) {
		is_rc(run(&ro), 0, again ? "rerun of the same window" : "run");
		buf_reset(&all);
		for (n = 0;; n++) {
			if (n == 0)
				snprintf(key, sizeof(key), "roll/data__" INST "_0");
			else
				snprintf(key, sizeof(key), "roll/data__" INST "_0_%d", n);
			if (get_obj(key, &got) != 0)
				break;
			if (!ok(got.len >= 2 && memcmp(got.p, "h\n", 2) == 0,
			    "%s starts with the header", key))
				break;
			if (!exists(key))
				break;
			buf_add(&all, got.p + 2, got.len - 2);
			if (again == 0 && n == 0) {
				first = malloc(got.len);
				memcpy(first, got.p, got.len);
				firstlen = got.len;
			}
			if (again == 1 && n == 0)
				ok(got.len == firstlen && memcmp(got.p, first, firstlen) == 0,
				    "rerun: first object byte-identical");
		}
		nobj = list_keys("roll/", &keys);
		ok(n >= 4, "%d objects (rolled over at 1 MiB)", n);
		is_int((long long)nobj, n, "no other objects (a rerun adds no duplicates)");
		ok(all.len == want.len && memcmp(all.p, want.p, want.len) == 0,
		    "objects concatenated = every record once, in order (%zu / %zu bytes)",
		    all.len, want.len);
	}
	/* the objects are below 1 MiB + one record */
	snprintf(key, sizeof(key), "roll/data__" INST "_0_1");
	if (get_obj(key, &got) == 0)
		ok(got.len >= MIB && got.len < MIB + 400, "rolled object size %zu", got.len);
	is_int(count_uploads("roll/"), 0, "no multipart upload left");
	free(first);
	buf_free(&got);
	buf_free(&want);
	buf_free(&all);
	buf_free(&keys);
	free(w);
}

static void
t_big_object_and_fault(void)
{
	struct buf got, want;
	char *w = writer_json("\"object\": \"big/data\", \"writeMode\": \"truncate\", "
	    "\"blockSizeInMB\": 1");
	struct run_opts ro = { w, 25000, 200, 1, NULL, NULL, NULL, NULL, NULL };
	long nf;

	printf("# ---- one object of several parts; 503, dropped and reset UploadParts ----\n");
	buf_init(&got, BUF_MAX_BODY);
	buf_init(&want, BUF_MAX_BODY);
	expect_lines(&want, 25000, 200);
	nf = th_emu_stat(g_emu.oss_url, "oss.faults");
	is_rc(th_emu_post(g_emu.oss_url, "fault",
	    "op=UploadPart,error=ServiceUnavailable,status=503,count=2"), 0,
	    "inject two 503 on UploadPart");
	is_rc(th_emu_post(g_emu.oss_url, "fault", "op=UploadPart,drop,count=1"), 0,
	    "drop one UploadPart connection mid-body");
	is_rc(th_emu_post(g_emu.oss_url, "fault", "op=UploadPart,reset,count=1"), 0,
	    "reset one UploadPart answer");
	is_rc(run(&ro), 0, "run through the faults");
	is_int(th_emu_stat(g_emu.oss_url, "oss.faults") - nf, 4, "all four faults were injected");
	(void)th_emu_post(g_emu.oss_url, "fault/clear", "");
	is_rc(get_obj("big/data__" INST "_0", &got), 0, "object exists");
	ok(got.len == want.len && memcmp(got.p, want.p, want.len) == 0,
	    "byte-exact after retried parts (%zu bytes, %zu parts)", got.len,
	    (size_t)(want.len + MIB - 1) / MIB);
	is_int(count_uploads("big/"), 0, "no multipart upload left");
	is_int(spool_leftovers(), 0, "spool files removed");
	buf_free(&got);
	buf_free(&want);
	free(w);
}

static void
t_modes(void)
{
	struct buf keys;
	char msg[512];
	char *w;
	struct run_opts ro = { NULL, 5, 1, 1, NULL, NULL, NULL, msg, NULL };

	printf("# ---- writeMode ----\n");
	buf_init(&keys, BUF_MAX_SMALL);
	/* truncate: prefix match, as DataX (abc also deletes abc123) */
	put_str("modes/t/abc123", "old");
	put_str("modes/t/abc/x", "old");
	put_str("modes/t/other", "keep");
	w = writer_json("\"object\": \"modes/t/abc\", \"writeMode\": \"truncate\"");
	ro.writer = w;
	is_rc(run(&ro), 0, "truncate run");
	ok(!exists("modes/t/abc123") && !exists("modes/t/abc/x"),
	    "truncate deleted every object with the prefix");
	ok(exists("modes/t/other"), "other objects kept");
	ok(exists("modes/t/abc__" INST "_0"), "own object written");
	free(w);

	/* append keeps everything */
	put_str("modes/a/data-foreign", "keep");
	w = writer_json("\"object\": \"modes/a/data\", \"writeMode\": \"append\"");
	ro.writer = w;
	is_rc(run(&ro), 0, "append run");
	is_rc(run(&ro), 0, "append rerun");
	ok(exists("modes/a/data-foreign"), "append keeps other objects");
	is_int((long long)list_keys("modes/a/", &keys), 2, "one own object, no duplicate: %s",
	    keys.p);
	free(w);

	/* nonConflict */
	put_str("modes/n/data-foreign", "x");
	w = writer_json("\"object\": \"modes/n/data\", \"writeMode\": \"nonConflict\"");
	ro.writer = w;
	is_rc(run(&ro), -EEXIST, "nonConflict fails on a foreign object");
	ok(strstr(msg, "modes/n/data-foreign") != NULL, "the message names it: %s", msg);
	ok(!exists("modes/n/data__" INST "_0"), "nothing written");
	oss_delete(g_oss, "modes/n/data-foreign", NULL);
	is_rc(run(&ro), 0, "nonConflict without conflict");
	is_rc(run(&ro), 0, "nonConflict rerun: the instance's own objects do not conflict");
	ro.instance = "20261125120500";
	is_rc(run(&ro), -EEXIST, "the next instance conflicts with the previous one's objects");
	ro.instance = NULL;
	free(w);

	/* refused parameters */
	w = writer_json("\"object\": \"modes/c\", \"writeMode\": \"append\", \"compress\": \"gzip\"");
	ro.writer = w;
	is_rc(run(&ro), ENG_EINVAL, "compress refused");
	ok(strstr(msg, "compression") != NULL, "clearly: %s", msg);
	free(w);
	w = writer_json("\"object\": \"modes/s\", \"writeMode\": \"append\", "
	    "\"writeSingleObject\": true");
	ro.writer = w;
	is_rc(run(&ro), ENG_EINVAL, "append + writeSingleObject refused: %s", msg);
	free(w);
	w = writer_json("\"object\": \"/modes/s\", \"writeMode\": \"append\"");
	ro.writer = w;
	is_rc(run(&ro), ENG_EINVAL, "leading '/' refused: %s", msg);
	free(w);
	buf_free(&keys);
}

static void
t_single(void)
{
	struct buf got, want, s[3];
	char *w = writer_json("\"object\": \"single/all.csv\", \"writeMode\": \"truncate\", "
	    "\"writeSingleObject\": true, \"blockSizeInMB\": 1, \"header\": [\"h\"]");
	struct run_opts ro = { w, 6000, 200, 3, NULL, NULL, NULL, NULL, NULL };
	size_t full[3];
	char *first = NULL;
	size_t firstlen = 0;
	int t, again;

	printf("# ---- writeSingleObject, three channels ----\n");
	buf_init(&got, BUF_MAX_BODY);
	buf_init(&want, BUF_MAX_BODY);
	/* expected: each task's full parts in task order, then the tails */
	for (t = 0; t < 3; t++) {
		buf_init(&s[t], BUF_MAX_BODY);
		if (t == 0)
			buf_addstr(&s[t], "h\n");
		expect_lines(&s[t], 6000, 200);
		full[t] = s[t].len > 0 ? (s[t].len - 1) / MIB * MIB : 0;
		buf_add(&want, s[t].p, full[t]);
	}
	for (t = 0; t < 3; t++)
		buf_add(&want, s[t].p + full[t], s[t].len - full[t]);
	for (again = 0; again < 2; again++) {
		is_rc(run(&ro), 0, again ? "rerun" : "run");
		is_rc(get_obj("single/all.csv", &got), 0, "the one object exists");
		ok(got.len == want.len && memcmp(got.p, want.p, want.len) == 0,
		    "layout: full parts of task 0, 1, 2 then their tails (%zu / %zu bytes)",
		    got.len, want.len);
		if (again == 0) {
			first = malloc(got.len + 1);
			memcpy(first, got.p, got.len);
			firstlen = got.len;
		} else
			ok(got.len == firstlen && memcmp(got.p, first, firstlen) == 0,
			    "rerun: byte-identical");
	}
	is_int(count_uploads("single/"), 0, "no multipart upload left");
	free(first);
	free(w);
	/* nonConflict on the existing object */
	w = writer_json("\"object\": \"single/all.csv\", \"writeMode\": \"nonConflict\", "
	    "\"writeSingleObject\": true");
	ro.writer = w;
	ro.records = 3;
	is_rc(run(&ro), -EEXIST, "nonConflict: the object exists");
	is_int(count_uploads("single/"), 0, "and no upload is left behind");
	free(w);
	/* generateEmptyFile with writeSingleObject */
	w = writer_json("\"object\": \"single/empty\", \"writeMode\": \"truncate\", "
	    "\"writeSingleObject\": true");
	ro.writer = w;
	ro.records = 0;
	is_rc(run(&ro), 0, "no records, generateEmptyFile default true");
	ok(get_obj("single/empty", &got) == 0 && got.len == 0, "an empty object");
	free(w);
	w = writer_json("\"object\": \"single/none\", \"writeMode\": \"truncate\", "
	    "\"writeSingleObject\": true, \"header\": [\"h\"], \"generateEmptyFile\": false");
	ro.writer = w;
	is_rc(run(&ro), 0, "no records, a header, generateEmptyFile false");
	ok(!exists("single/none"), "no object");
	is_int(count_uploads("single/"), 0, "no upload left");
	free(w);
	for (t = 0; t < 3; t++)
		buf_free(&s[t]);
	buf_free(&got);
	buf_free(&want);
}

static void
t_empty(void)
{
	struct buf got;
	char *w;
	struct run_opts ro = { NULL, 0, 1, 1, NULL, NULL, NULL, NULL, NULL };

	printf("# ---- generateEmptyFile, datasource, encrypt, text ----\n");
	buf_init(&got, BUF_MAX_SMALL);
	w = writer_json("\"object\": \"empty/a\", \"writeMode\": \"truncate\", \"header\": [\"x\", \"y\"]");
	ro.writer = w;
	is_rc(run(&ro), 0, "no records");
	ok(get_obj("empty/a__" INST "_0", &got) == 0 && got.len == 4 &&
	    memcmp(got.p, "x,y\n", 4) == 0, "header-only object");
	free(w);
	w = writer_json("\"object\": \"empty/b\", \"writeMode\": \"truncate\", "
	    "\"header\": [\"x\"], \"generateEmptyFile\": false");
	ro.writer = w;
	is_rc(run(&ro), 0, "no records, generateEmptyFile false");
	ok(!exists("empty/b__" INST "_0"), "no object");
	free(w);

	/* datasource instead of the inline connection; text format; encrypt */
	ro.writer = "{\"datasource\": \"oss-test\", \"object\": \"ds/t\", \"writeMode\": \"truncate\", "
	    "\"fieldDelimiter\": \"|\", \"encrypt\": true}";
	ro.records = 2;
	is_rc(run(&ro), 0, "through the datasource");
	ok(get_obj("ds/t__" INST "_0", &got) == 0 &&
	    got.len == strlen("1|a,b|say \"hi\"|null|  x  \n2|a,b|say \"hi\"|null|  x  \n") &&
	    memcmp(got.p, "1|a,b|say \"hi\"|null|  x  \n", 26) == 0,
	    "text format: no quoting, no trimming, nullFormat default \"null\" (%.*s)",
	    (int)got.len, got.p);
	buf_free(&got);
}

/* the shared option block gives the same bytes through both writers */
static void
t_same_as_txtfile(void)
{
	static const char block[] = "\"fileFormat\": \"csv\", \"nullFormat\": \"\", "
	    "\"writeMode\": \" truncate \", \"suffix\": \" csv \", \"fieldDelimiter\": \";\", "
	    "\"lineDelimiter\": \"\\r\\n\", \"header\": [\"id\", \"ab\", \"q\", \"n\", \"p\"]";
	struct buf got, file;
	char *w = NULL, *t = NULL, dir[700], path[800], key[128];
	struct run_opts ro = { NULL, 200, 3, 2, NULL, NULL, NULL, NULL, NULL };
	FILE *f;
	int i;

	printf("# ---- the shared option block: oss and txtfile write the same bytes ----\n");
	buf_init(&got, BUF_MAX_BODY);
	buf_init(&file, BUF_MAX_BODY);
	snprintf(dir, sizeof(dir), "%s/txt", g_emu.dir);
	if (asprintf(&w, "{\"endpoint\": \"%s\", \"bucket\": \"%s\", \"accessId\": \"%s\", "
	    "\"accessKey\": \"%s\", \"object\": \"same/out\", %s}", g_emu.oss_url, BUCKET, AK, SK,
	    block) < 0 || asprintf(&t, "{\"path\": \"%s\", \"fileName\": \"out\", %s}", dir,
	    block) < 0)
		return;
	ro.writer = w;
	is_rc(run(&ro), 0, "oss run");
	ro.writer = t;
	ro.plugin = "txtfile";
	is_rc(run(&ro), 0, "txtfile run");
	for (i = 0; i < 2; i++) {
		char chunk[4096];
		size_t n;

		snprintf(key, sizeof(key), "same/out__" INST "_%d.csv", i);
		snprintf(path, sizeof(path), "%s/out__" INST "_%d.csv", dir, i);
		buf_reset(&file);
		if ((f = fopen(path, "rb")) != NULL) {
			while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
				buf_add(&file, chunk, n);
			fclose(f);
		}
		is_rc(get_obj(key, &got), 0, "%s", key);
		ok(file.len > 0 && got.len == file.len && memcmp(got.p, file.p, file.len) == 0,
		    "task %d: object and file are byte-identical (%zu / %zu bytes)", i, got.len,
		    file.len);
		ok(got.len > 13 && memcmp(got.p, "id;ab;q;n;p\r\n", 13) == 0,
		    "header, delimiters as asked");
	}
	buf_free(&got);
	buf_free(&file);
	free(w);
	free(t);
}

struct canceller {
	atomic_int	*flag;
	const char	*prefix;
};

static void *
cancel_when_uploading(void *arg)
{
	struct canceller *c = arg;
	int i;

	for (i = 0; i < 400 && count_uploads(c->prefix) < 1; i++) {
		struct timespec ts = { 0, 25 * 1000000L };

		nanosleep(&ts, NULL);
	}
	atomic_store(c->flag, 1);
	return NULL;
}

static void
t_cancel_and_kill(const char *self)
{
	struct buf got, want;
	char *w = writer_json("\"object\": \"kill/data\", \"writeMode\": \"append\", "
	    "\"blockSizeInMB\": 1");
	atomic_int cancel = 0;
	struct canceller c = { &cancel, "kill/" };
	struct run_opts ro = { w, 60000, 200, 2, NULL, &cancel, NULL, NULL, NULL };
	pthread_t th;
	pid_t pid;
	int status, i;
	long left = 0;

	(void)self;
	printf("# ---- cancel, SIGKILL, rerun ----\n");
	buf_init(&got, BUF_MAX_BODY);
	buf_init(&want, BUF_MAX_BODY);
	pthread_create(&th, NULL, cancel_when_uploading, &c);
	is_rc(run(&ro), ENG_EKILLED, "cancelled run stops");
	pthread_join(th, NULL);
	is_int(count_uploads("kill/"), 0, "cancel: multipart uploads aborted");
	ok(!exists("kill/data__" INST "_0"), "no object");
	is_int(spool_leftovers(), 0, "no spool file left");

	/* a child process runs the job and is SIGKILLed mid-upload */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct run_opts cro = ro;

		cro.cancel = NULL;
		(void)run(&cro);
		_exit(0);
	}
	for (i = 0; i < 800 && (left = count_uploads("kill/")) < 1; i++) {
		struct timespec ts = { 0, 10 * 1000000L };

		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status), "child killed");
	left = count_uploads("kill/");
	ok(left >= 1, "the killed run left %ld multipart upload(s) behind", left);
	ro.cancel = NULL;
	is_rc(run(&ro), 0, "rerun of the window");
	is_int(count_uploads("kill/"), 0, "rerun aborted the leftovers: no multipart upload");
	expect_lines(&want, 60000, 200);
	for (i = 0; i < 2; i++) {
		char key[128];

		snprintf(key, sizeof(key), "kill/data__" INST "_%d", i);
		is_rc(get_obj(key, &got), 0, "%s", key);
		ok(got.len == want.len && memcmp(got.p, want.p, want.len) == 0,
		    "%s complete and byte-exact", key);
	}
	buf_free(&got);
	buf_free(&want);
	free(w);
}

/* ---- the source snapshot rule, through run_job -------------------------------- */

/*
 * The sources a run_job looks up, as the mount's table: a lookup answers
 * the current version of "oss-snap"; an edit adds a version, and every
 * version stays allocated until the end (a lookup's answer lives as the
 * table).  `next`, when set, is installed at the run's first clock read:
 * run_job resolves the job (its one lookup, the attempt's snapshot) and
 * then starts the pipeline, whose first act is to read the clock, before
 * any plugin opens; so the source changes while the attempt runs.
 */
struct snap_table {
	pthread_mutex_t		 lock;
	struct conf_source	*v[8];		/* every version; v[n - 1] is current */
	int			 n;
	struct conf_source	*next;		/* edit made during the next run */
	int			 lookups;	/* lookups answered */
	int			 lookups_before_edit;
};

static struct snap_table g_snap = { .lock = PTHREAD_MUTEX_INITIALIZER };

static const struct conf_source *
snap_lookup(void *arg, const char *name)
{
	struct snap_table *t = arg;
	const struct conf_source *s = NULL;

	pthread_mutex_lock(&t->lock);
	if (t->n > 0 && strcmp(name, "oss-snap") == 0)
		s = t->v[t->n - 1];
	t->lookups++;
	pthread_mutex_unlock(&t->lock);
	return s;
}

static void
snap_add(struct snap_table *t, struct conf_source *src)
{
	pthread_mutex_lock(&t->lock);
	if (t->n < 8)
		t->v[t->n++] = src;
	else
		conf_source_free(src);
	pthread_mutex_unlock(&t->lock);
}

static int64_t
snap_now(void *arg)
{
	struct snap_table *t = arg;
	struct timespec ts;

	pthread_mutex_lock(&t->lock);
	if (t->next != NULL && t->n < 8) {
		t->lookups_before_edit = t->lookups;
		t->v[t->n++] = t->next;
		t->next = NULL;
	}
	pthread_mutex_unlock(&t->lock);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct conf_source *
snap_source(const char *secret)
{
	struct conf_source *src = NULL;
	char js[512];

	snprintf(js, sizeof(js), "{\"type\": \"oss\", \"endpoint\": \"%s\", "
	    "\"bucket\": \"%s\", \"accessId\": \"%s\", \"accessKey\": \"%s\"}",
	    g_emu.oss_url, BUCKET, AK, secret);
	if (conf_source_parse("oss-snap", js, strlen(js), NULL, NULL, &src) != 0)
		printf("# the snapshot test's source does not parse\n");
	return src;
}

#define SNAP_INST	"20261125130000"
#define SNAP_RECORDS	3000

/* one attempt of the job through run_job; 0 or its error (message in msg) */
static int
snap_run(const struct conf_job *job, char *msg, size_t msgsz)
{
	struct run_config rc_;
	struct param_set ps = { NULL, 0 };
	struct pipe_stats st;
	struct eng_errbuf eb;
	int rc;

	memset(&rc_, 0, sizeof(rc_));
	rc_.job = job;
	rc_.params = &ps;
	rc_.sources = snap_lookup;
	rc_.sources_arg = &g_snap;
	rc_.instance = SNAP_INST;
	rc_.attempt = 1;
	rc_.spool_dir = g_spool;
	rc_.log = test_log;
	rc_.now_ms = snap_now;
	rc_.now_arg = &g_snap;
	rc_.progress_ms = 60000;
	pipe_stats_init(&st);
	memset(&eb, 0, sizeof(eb));
	rc = run_job(&rc_, &st, &eb);
	snprintf(msg, msgsz, "%s", eb.msg);
	if (rc == 0 && atomic_load(&st.records_written) != 2 * SNAP_RECORDS) {
		printf("# %lld records written\n", (long long)atomic_load(&st.records_written));
		rc = -EIO;
	}
	return rc;
}

static bool
snap_objects_ok(void)
{
	struct buf got, want;
	bool good = true;
	long i;
	int t;

	buf_init(&got, BUF_MAX_BODY);
	buf_init(&want, BUF_MAX_BODY);
	for (i = 1; i <= SNAP_RECORDS; i++)
		(void)buf_printf(&want, "%ld,\"a,b\"\n", i);
	for (t = 0; t < 2; t++) {
		char key[128];

		snprintf(key, sizeof(key), "snap/out__" SNAP_INST "_%d", t);
		if (get_obj(key, &got) != 0 || got.len != want.len ||
		    memcmp(got.p, want.p, want.len) != 0) {
			printf("# %s: %zu bytes, want %zu\n", key, got.len, want.len);
			good = false;
		}
	}
	buf_free(&got);
	buf_free(&want);
	return good;
}

static void
t_snapshot(void)
{
	static const char job_json[] =
	    "{\"type\": \"job\", \"version\": \"2.0\", \"configuration\": {"
	    "\"setting\": {\"errorLimit\": {\"record\": 0}, \"speed\": {\"concurrent\": 2}},"
	    "\"reader\": {\"plugin\": \"stream\", \"parameter\": {\"sliceRecordCount\": 3000,"
	    "  \"column\": [{\"type\": \"long\", \"incr\": \"1\"}, {\"type\": \"string\", \"value\": \"a,b\"}]}},"
	    "\"writer\": {\"plugin\": \"oss\", \"parameter\": {\"datasource\": \"oss-snap\","
	    "  \"object\": \"snap/out\", \"writeMode\": \"truncate\", \"fileFormat\": \"csv\","
	    "  \"nullFormat\": \"\"}}}}";
	struct conf_job *job = NULL;
	struct conf_diags *d = NULL;
	char msg[512];
	int rc, i;

	printf("# ---- source snapshot: an edit during an attempt, and the next attempt ----\n");
	snap_add(&g_snap, snap_source(SK));
	if (conf_diags_new(&d) != 0 ||
	    !ok(conf_job_parse("snap", job_json, strlen(job_json), snap_lookup, &g_snap, d,
	    &job) == 0, "the job parses")) {
		struct buf b;

		buf_init(&b, BUF_MAX_SMALL);
		(void)conf_diags_format(d, "snap", &b);
		printf("# %s\n", b.p != NULL ? b.p : "");
		buf_free(&b);
		conf_diags_free(d);
		return;
	}

	/* 1: the key is broken while the attempt runs; the attempt keeps its snapshot */
	g_snap.next = snap_source("WRONGSECRET");
	rc = snap_run(job, msg, sizeof(msg));
	ok(g_snap.next == NULL && g_snap.lookups_before_edit > 0,
	    "the source was edited during the attempt, after its snapshot (%d lookups before)",
	    g_snap.lookups_before_edit);
	is_rc(rc, 0, "the running attempt succeeds with the credentials of its start: %s", msg);
	ok(snap_objects_ok(), "and wrote every row, byte-exact");

	/* 2: the next attempt uses the edited (wrong) key */
	rc = snap_run(job, msg, sizeof(msg));
	ok(rc != 0 && strstr(msg, "SignatureDoesNotMatch") != NULL,
	    "the next attempt uses the edited source and fails on its key: %s", msg);

	/* 3: the user fixes the key while an attempt runs: that attempt still
	 * has the wrong key, the following one picks the fix up */
	g_snap.next = snap_source(SK);
	rc = snap_run(job, msg, sizeof(msg));
	ok(g_snap.next == NULL && rc != 0 && strstr(msg, "SignatureDoesNotMatch") != NULL,
	    "an attempt that started with the wrong key keeps it when the key is fixed: %s", msg);
	for (i = 0; i < 2; i++) {
		char key[128];

		snprintf(key, sizeof(key), "snap/out__" SNAP_INST "_%d", i);
		(void)oss_delete(g_oss, key, NULL);
	}
	rc = snap_run(job, msg, sizeof(msg));
	is_rc(rc, 0, "the rerun after the fix uses the fixed key: %s", msg);
	ok(snap_objects_ok(), "and writes every row");

	conf_job_free(job);
	conf_diags_free(d);
	pthread_mutex_lock(&g_snap.lock);
	for (i = 0; i < g_snap.n; i++)
		conf_source_free(g_snap.v[i]);
	g_snap.n = 0;
	pthread_mutex_unlock(&g_snap.lock);
}

int
main(int argc, char **argv)
{
	struct oss_config cfg;
	struct eng_errbuf eb;
	char srcjson[512];
	const struct th_emu_opts emu_opts = {
		.name = "difs-osswriter",
		.access_key = AK ":" SK,
		.oss_bucket = BUCKET,
		.sync_off = true,
	};

	if (argc < 2 || access(argv[1], X_OK) != 0) {
		printf("1..0 # SKIP difs-emu binary not found (%s)\n",
		    argc < 2 ? "no path given" : argv[1]);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	if (th_emu_start(&g_emu, argv[1], &emu_opts) != 0) {
		ok(0, "difs-emu starts and prints its OSS port");
		th_emu_stop(&g_emu);
		return done_testing();
	}
	snprintf(g_spool, sizeof(g_spool), "%s/state/cache", g_emu.dir);
	printf("# difs-emu OSS at %s, data in %s\n", g_emu.oss_url, g_emu.dir);
	if (sign_cred_new(AK, SK, NULL, &g_cred) != 0)
		return 1;
	oss_config_defaults(&cfg);
	cfg.endpoint = g_emu.oss_url;
	cfg.bucket = BUCKET;
	cfg.cred = g_cred;
	cfg.timeout_ms = 30000;
	if (oss_new(&cfg, &g_oss, &eb) != 0) {
		printf("# oss_new: %s\n", eb.msg);
		return 1;
	}
	snprintf(srcjson, sizeof(srcjson), "{\"type\": \"oss\", \"endpoint\": \"%s\", "
	    "\"bucket\": \"%s\", \"accessId\": \"%s\", \"accessKey\": \"%s\"}",
	    g_emu.oss_url, BUCKET, AK, SK);
	if (conf_source_parse("oss-test", srcjson, strlen(srcjson), NULL, NULL, &g_src) != 0)
		printf("# the test source does not parse\n");

	t_basic();
	t_rollover();
	t_big_object_and_fault();
	t_modes();
	t_single();
	t_empty();
	t_same_as_txtfile();
	t_cancel_and_kill(argv[0]);
	t_snapshot();
	is_int(spool_leftovers(), 0, "no spool file left at the end");
	is_int(spool_leftovers_q(""), 0, "and no per-run spool directory either");

	conf_source_free(g_src);
	oss_free(g_oss);
	sign_cred_free(g_cred);
	th_emu_stop(&g_emu);
	return done_testing();
}
