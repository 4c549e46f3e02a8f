/* SPDX-License-Identifier: MIT */
/*
 * test_conf.c - engine/conf*.c: the job/source model, positions of
 * diagnostics, comments, templates and resolution, typed getters, secrets
 * (masking, merging, never in messages).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "param.h"
#include "tap.h"
#include "tz.h"

#define SECRET	"S3cr3t-K3y-Value"

static const char *ots_src =
    "{\n"
    "  \"type\": \"ots\",  # a comment\n"
    "  \"endpoint\": \"http://127.0.0.1:8800\",\n"
    "  \"instanceName\": \"demo\",\n"
    "  \"accessId\": \"id1\",\n"
    "  \"accessKey\": \"" SECRET "\"\n"
    "}\n";

static const char *oss_src =
    "{\"type\": \"oss\", \"endpoint\": \"http://127.0.0.1:8801\", \"bucket\": \"backup\",\n"
    " \"accessId\": \"id2\", \"accessKey\": \"" SECRET "-oss\", \"securityToken\": \"tok-" SECRET "\"}";

static const char *seed_job =
    "// the seed job\n"
    "{\n"
    "  \"type\": \"job\", \"version\": \"2.0\",\n"
    "  \"configuration\": {\n"
    "    \"setting\": {\"errorLimit\": {\"record\": \"0\"}, \"speed\": {\"mbps\": \"1\", \"concurrent\": \"1\"}},\n"
    "    \"reader\": {\"plugin\": \"otsstream\", \"parameter\": {\n"
    "      \"datasource\": \"ots-prod\", \"dataTable\": \"orders\",\n"
    "      \"statusTable\": \"TableStoreStreamReaderStatusTable\",\n"
    "      \"startTimestampMillis\": \"${start_time}\", \"endTimestampMillis\": \"${end_time}\",\n"
    "      \"mode\": \"single_version_and_update_only\", \"column\": [{\"name\": \"uid\"}, {\"name\": \"name\"}],\n"
    "      \"isExportSequenceInfo\": false, \"maxRetries\": 30}},\n"
    "    \"writer\": {\"plugin\": \"oss\", \"parameter\": {\n"
    "      \"datasource\": \"oss-backup\", \"object\": \"instance/orders/${date}/${start_time}\",\n"
    "      \"writeMode\": \"truncate\", \"fileFormat\": \"csv\", \"encoding\": \"UTF-8\",\n"
    "      \"nullFormat\": \"null\", \"fieldDelimiter\": \",\"}}\n"
    "  },\n"
    "  \"schedule\": {\"cycle\": \"5m\", \"start\": \"00:00\", \"end\": \"23:59\", \"timezone\": \"Asia/Shanghai\",\n"
    "    \"params\": {\"start_time\": \"$[yyyymmddhh24miss-10/24/60]\", \"end_time\": \"$[yyyymmddhh24miss-5/24/60]\",\n"
    "                \"date\": \"${bdp.system.bizdate}\"},\n"
    "    \"rerun\": {\"times\": 3, \"interval\": \"2m\"}, \"selfDependent\": true}\n"
    "}\n";

/* a stream -> txtfile job with inline values only */
static const char *stream_job =
    "{\"type\": \"job\", \"configuration\": {\n"
    " \"reader\": {\"plugin\": \"stream\", \"parameter\": {\"column\": [{\"type\": \"long\", \"value\": \"1\"}],\n"
    "   \"sliceRecordCount\": \"${n}\"}},\n"
    " \"writer\": {\"plugin\": \"txtfile\", \"parameter\": {\"path\": \"/tmp/out\", \"fileName\": \"f\",\n"
    "   \"writeMode\": \"append\", \"header\": [\"id\"]}}}}\n";

static struct conf_srcset *
make_sources(void)
{
	struct conf_srcset *set = NULL;
	struct conf_source *s = NULL;

	if (conf_srcset_new(&set) != 0)
		return NULL;
	if (conf_source_parse("ots-prod", ots_src, strlen(ots_src), NULL, NULL, &s) == 0)
		(void)conf_srcset_add(set, s);
	if (conf_source_parse("oss-backup", oss_src, strlen(oss_src), NULL, NULL, &s) == 0)
		(void)conf_srcset_add(set, s);
	return set;
}

/* print a text as TAP comments (used after failures) */
static void
dump(const char *t)
{
	const char *p = t, *e;

	while (p != NULL && *p != '\0') {
		e = strchr(p, '\n');
		printf("# | %.*s\n", e != NULL ? (int)(e - p) : (int)strlen(p), p);
		p = e != NULL ? e + 1 : NULL;
	}
}

/* after an assertion about text t: show t when that assertion failed */
static int last_fail;
#define DUMP_ON_FAIL(t) do { \
	if (tap_fail != last_fail) { \
		dump(t); \
		last_fail = tap_fail; \
	} \
} while (0)

/* format the diagnostics of d as difs check prints them */
static char *
diag_text(const struct conf_diags *d, const char *file)
{
	struct buf b;

	buf_init(&b, BUF_MAX_DOC);
	(void)conf_diags_format(d, file, &b);
	return buf_take(&b, NULL);
}

static void
test_sources(void)
{
	struct conf_diags *d = NULL;
	struct conf_source *s = NULL, *s2 = NULL;
	struct buf b;
	char *txt;

	buf_init(&b, BUF_MAX_DOC);
	conf_diags_new(&d);
	is_rc(conf_source_parse("ots-prod", ots_src, strlen(ots_src), NULL, d, &s), 0, "ots source parses");
	is_int(conf_diags_count(d), 0, "no diagnostics");
	is_int(conf_source_type(s), CONF_SRC_OTS, "type ots");
	is_str(conf_source_name(s), "ots-prod", "name");
	is_str(conf_source_endpoint(s), "http://127.0.0.1:8800", "endpoint");
	is_str(conf_source_instance(s), "demo", "instanceName");
	is_str(conf_source_access_id(s), "id1", "accessId");
	is_str(conf_source_access_key(s), SECRET, "accessKey kept inside");
	ok(conf_source_security_token(s) == NULL, "no token");
	is_rc(conf_source_render(s, true, &b), 0, "render masked");
	ok(strstr(b.p, SECRET) == NULL, "masked render hides the key");
	ok(strstr(b.p, "\"accessKey\": \"******\"") != NULL, "masked render shows ******");
	buf_reset(&b);
	is_rc(conf_source_render(s, false, &b), 0, "render unmasked");
	ok(strstr(b.p, SECRET) != NULL, "unmasked render has the key");

	/* "******" written back keeps the stored secret */
	{
		const char *w = "{\"type\":\"ots\",\"endpoint\":\"http://h:1\",\"instanceName\":\"i\","
		    "\"accessId\":\"a\",\"accessKey\":\"******\"}";

		is_rc(conf_source_parse("ots-prod", w, strlen(w), s, d, &s2), 0, "masked key + prev");
		is_str(conf_source_access_key(s2), SECRET, "secret taken from prev");
		is_str(conf_source_endpoint(s2), "http://h:1", "other fields from the new file");
		conf_source_free(s2);
		s2 = NULL;
		is_rc(conf_source_parse("ots-prod", w, strlen(w), NULL, d, &s2), ENG_EINVAL, "masked key without prev");
		txt = diag_text(d, "x.json");
		ok(strstr(txt, "no stored secret") != NULL, "says why");
	DUMP_ON_FAIL(txt);
		free(txt);
		conf_diags_clear(d);
	}

	/* secrets never appear in messages, whatever is wrong */
	{
		const char *bad = "{\"type\":\"oss\",\"endpoint\":\"ftp://x\",\"bucket\":\"B\","
		    "\"accessId\":\"\",\"accessKey\":\"" SECRET "\",\"securityToken\":\"" SECRET "\","
		    "\"acessKey\":\"" SECRET "\"}";

		is_rc(conf_source_parse("o", bad, strlen(bad), NULL, d, &s2), ENG_EINVAL, "bad oss source");
		ok(conf_diags_errors(d) >= 4, "several independent errors (%zu)", conf_diags_errors(d));
		txt = diag_text(d, "o.json");
		ok(strstr(txt, SECRET) == NULL, "no secret in messages");
		ok(strstr(txt, "did you mean \"accessKey\"") != NULL, "did-you-mean for a typo");
		free(txt);
		conf_diags_clear(d);
	}
	conf_source_free(s);
	conf_diags_free(d);
	buf_free(&b);
}

static void
test_mask_merge(void)
{
	struct buf m, back;
	struct eng_errbuf eb;
	const char *old = oss_src;

	buf_init(&m, BUF_MAX_DOC);
	buf_init(&back, BUF_MAX_DOC);
	is_rc(conf_mask_text(old, strlen(old), &m), 0, "mask text");
	ok(strstr(m.p, SECRET) == NULL, "masked text has no secret");
	ok(strstr(m.p, "\"accessKey\": \"******\"") != NULL, "accessKey masked in place");
	ok(strstr(m.p, "\"securityToken\": \"******\"") != NULL, "token masked in place");
	is_rc(conf_merge_secrets_text(m.p, m.len, old, strlen(old), &back, &eb), 0, "merge back");
	is_str(back.p, old, "mask then merge gives the original bytes");
	buf_reset(&m);
	is_rc(conf_mask_text(ots_src, strlen(ots_src), &m), 0, "mask with comments");
	ok(strstr(m.p, "# a comment") != NULL, "comments kept");
	ok(strstr(m.p, SECRET) == NULL, "secret gone");
	buf_reset(&back);
	is_rc(conf_merge_secrets_text(m.p, m.len, NULL, 0, &back, &eb), ENG_EINVAL, "nothing to merge from");
	ok(strstr(eb.msg, "accessKey") != NULL, "message names the member");
	DUMP_ON_FAIL(eb.msg);
	buf_reset(&m);
	is_rc(conf_mask_text("{\"accessKey\": ", 14, &m), ENG_EINVAL, "unparsable text with a secret name is refused");
	buf_free(&m);
	buf_free(&back);
}

/* conf_source_view_prev: "******" is accepted where the mount's view showed
 * it (a stored secret), and only there (difs edit) */
static void
test_view_prev(void)
{
	struct conf_source *prev = NULL, *s = NULL;
	struct conf_diags *d = NULL;
	struct buf view;
	const char *as_oss = "{\"type\": \"oss\", \"endpoint\": \"http://127.0.0.1:1\", "
	    "\"bucket\": \"b-1\", \"accessId\": \"i\", \"accessKey\": \"******\"}";

	buf_init(&view, BUF_MAX_DOC);
	is_rc(conf_diags_new(&d), 0, "diags");
	is_rc(conf_mask_text(ots_src, strlen(ots_src), &view), 0, "the mount's view");
	is_rc(conf_source_view_prev(view.p, view.len, &prev), 0, "stand-in from the view");
	ok(prev != NULL && conf_source_security_token(prev) == NULL, "a stand-in with accessKey only");
	is_rc(conf_source_parse("ots-prod", view.p, view.len, prev, d, &s), 0,
	    "the view written back is valid with the stand-in");
	is_str(s != NULL ? conf_source_access_key(s) : NULL, CONF_MASK, "the parsed key is only the mask");
	conf_source_free(s);
	s = NULL;
	is_rc(conf_source_parse("ots-prod", as_oss, strlen(as_oss), prev, d, &s), 0,
	    "another type keeps the masked secret too (the mount merges by member)");
	conf_source_free(s);
	s = NULL;
	conf_source_free(prev);
	prev = NULL;
	buf_reset(&view);
	is_rc(conf_mask_text(oss_src, strlen(oss_src), &view), 0, "view with a token");
	is_rc(conf_source_view_prev(ots_src, strlen(ots_src), &prev), 0, "unmasked text");
	ok(prev == NULL, "no masked secret: no stand-in");
	is_rc(conf_source_parse("oss-backup", view.p, view.len, NULL, d, &s), ENG_EINVAL,
	    "without a stand-in \"******\" is an error");
	conf_diags_clear(d);
	is_rc(conf_source_view_prev("{\"accessKey\": ", 14, &prev), 0, "unparsable view");
	ok(prev == NULL, "unparsable view: no stand-in");
	is_rc(conf_source_view_prev(view.p, view.len, &prev), 0, "stand-in with a token");
	ok(prev != NULL && conf_source_security_token(prev) != NULL, "the token is stored too");
	is_rc(conf_source_parse("oss-backup", view.p, view.len, prev, d, &s), 0, "view with a token is valid");
	conf_source_free(s);
	conf_source_free(prev);
	conf_diags_free(d);
	buf_free(&view);
}

static void
test_seed_job(void)
{
	struct conf_srcset *set = make_sources();
	struct conf_diags *d = NULL;
	struct conf_job *job = NULL, *res = NULL;
	const struct conf_schedule *sc;
	const struct conf_settings *st;
	struct param_set ps = { NULL, 0 };
	struct eng_errbuf eb;
	struct tz *tz = NULL;
	struct buf b;
	int64_t iv = 0, cyc = 0;
	bool bv = true;

	buf_init(&b, BUF_MAX_DOC);
	conf_diags_new(&d);
	is_rc(conf_job_parse("seed", seed_job, strlen(seed_job), conf_srcset_lookup, set, d, &job), 0,
	    "seed job parses");
	is_int(conf_diags_count(d), 0, "no diagnostics");
	if (job == NULL) {
		char *t = diag_text(d, "seed.json");

		dump(t);
		free(t);
		goto out;
	}
	is_str(conf_job_name(job), "seed", "name");
	is_str(conf_job_version(job), "2.0", "version");
	is_str(conf_job_plugin(job, CONF_READER), "otsstream", "reader plugin");
	is_str(conf_job_plugin(job, CONF_WRITER), "oss", "writer plugin");
	is_rc(conf_job_int(job, CONF_READER, "maxRetries", 0, &iv), 0, "maxRetries");
	is_int(iv, 30, "maxRetries value");
	is_rc(conf_job_int(job, CONF_READER, "threadNum", 32, &iv), 0, "threadNum default");
	is_int(iv, 32, "threadNum default value");
	is_rc(conf_job_bool(job, CONF_READER, "isExportSequenceInfo", true, &bv), 0, "bool getter");
	ok(!bv, "isExportSequenceInfo false");
	is_rc(conf_job_int(job, CONF_READER, "startTimestampMillis", 0, &iv), ENG_EINVAL,
	    "a template is not an integer yet");
	ok(conf_job_has_templates(job), "job has templates");
	is_str(conf_job_datasource(job, CONF_WRITER), "oss-backup", "datasource name");
	ok(conf_job_source(job, CONF_WRITER) != NULL, "writer source resolved");
	is_str(conf_source_bucket(conf_job_source(job, CONF_WRITER)), "backup", "bucket from the source");
	st = conf_job_settings(job);
	is_int(st->error_record, 0, "errorLimit.record from \"0\"");
	ok(st->mbps == 1.0, "mbps from \"1\"");
	is_int(st->concurrent, 1, "concurrent");
	sc = conf_job_schedule(job);
	ok(sc != NULL, "has schedule");
	if (sc == NULL)
		goto out;
	is_str(sc->cycle, "5m", "cycle");
	is_int(sc->cycle_s, 300, "cycle seconds");
	is_int(sc->spec.start_min, 0, "start 00:00");
	is_int(sc->spec.end_min, 23 * 60 + 59, "end 23:59");
	is_str(sc->timezone, "Asia/Shanghai", "timezone");
	is_int(sc->rerun_times, 3, "rerun times");
	is_int(sc->rerun_interval_s, 120, "rerun interval");
	ok(sc->self_dependent, "self-dependent");
	is_int(sc->catchup_s, 86400, "default catchup");
	is_int(sc->nparams, 3, "three params");
	is_str(sc->params[0].name, "start_time", "param order 0");
	is_str(sc->params[1].name, "end_time", "param order 1");
	is_str(sc->params[2].name, "date", "param order 2");

	/* resolve for cycle 2026-11-25 12:05 Asia/Shanghai */
	if (tz_load("Asia/Shanghai", &tz, &eb) != 0)
		goto out;
	is_rc(cycle_id_parse("20261125120500", 14, tz, &cyc, &eb), 0, "cycle id");
	is_rc(param_resolve_all(sc->params, sc->nparams, tz, cyc, &ps, &eb), 0, "params resolve");
	is_str(param_set_get(&ps, "start_time"), "20261125115500", "start_time");
	is_str(param_set_get(&ps, "end_time"), "20261125120000", "end_time");
	is_str(param_set_get(&ps, "date"), "20261124", "date");
	is_rc(conf_job_resolve(job, param_set_lookup, &ps, NULL, NULL, d, &res), 0, "job resolves");
	if (res != NULL) {
		is_str(conf_job_str(res, CONF_READER, "startTimestampMillis"), "20261125115500", "substituted");
		is_str(conf_job_str(res, CONF_WRITER, "object"), "instance/orders/20261124/20261125115500",
		    "object substituted");
		ok(!conf_job_has_templates(res), "no templates left");
		ok(conf_job_source(res, CONF_READER) != NULL, "sources carried over");
		is_rc(conf_job_render(res, true, &b), 0, "render");
		ok(strstr(b.p, "\"endTimestampMillis\": \"20261125120000\"") != NULL, "rendered value");
		ok(strstr(b.p, "$[yyyymmddhh24miss-10/24/60]") != NULL, "schedule params kept as expressions");
	}
out:
	param_set_free(&ps);
	tz_free(tz);
	conf_job_free(res);
	conf_job_free(job);
	conf_diags_free(d);
	conf_srcset_free(set);
	buf_free(&b);
}

static int
lookup_n(void *arg, const char *name, size_t len, const char **val, size_t *vlen)
{
	const char *v = arg;

	if (len == 1 && name[0] == 'n') {
		*val = v;
		*vlen = strlen(v);
		return 0;
	}
	return -ENOENT;
}

static void
test_resolve_revalidates(void)
{
	struct conf_diags *d = NULL;
	struct conf_job *job = NULL, *res = NULL;
	char *t;
	int64_t iv = 0;

	conf_diags_new(&d);
	is_rc(conf_job_parse("s", stream_job, strlen(stream_job), NULL, NULL, d, &job), 0,
	    "stream job with a template parses");
	is_rc(conf_job_resolve(job, lookup_n, (void *)"1000", NULL, NULL, d, &res), 0, "resolves with n=1000");
	is_rc(conf_job_int(res, CONF_READER, "sliceRecordCount", 0, &iv), 0, "now an integer");
	is_int(iv, 1000, "value 1000");
	conf_job_free(res);
	res = NULL;
	is_rc(conf_job_resolve(job, lookup_n, (void *)"abc", NULL, NULL, d, &res), ENG_EINVAL,
	    "\"abc\" fails after substitution");
	t = diag_text(d, "s.json");
	ok(strstr(t, "s.json: error: \"sliceRecordCount\" must be an integer") != NULL, "message");
	DUMP_ON_FAIL(t);
	free(t);
	conf_diags_clear(d);
	is_rc(conf_job_resolve(job, param_set_lookup, &(struct param_set){ NULL, 0 }, NULL, NULL, d, &res),
	    ENG_EINVAL, "unknown parameter");
	t = diag_text(d, "s.json");
	ok(strstr(t, "s.json:3:24: error: ") != NULL && strstr(t, "${n}") != NULL,
	    "names the parameter at its place");
	DUMP_ON_FAIL(t);
	free(t);
	conf_job_free(job);
	conf_diags_free(d);
}

/* run a job text through the parser; return the formatted diagnostics */
static char *
check_job(const char *text, int want_rc)
{
	struct conf_diags *d = NULL;
	struct conf_job *job = NULL;
	char *t;
	int rc;

	conf_diags_new(&d);
	rc = conf_job_parse("j", text, strlen(text), NULL, NULL, d, &job);
	is_rc(rc, want_rc, "parse rc");
	t = diag_text(d, "j.json");
	conf_job_free(job);
	conf_diags_free(d);
	return t;
}

static void
test_diagnostics(void)
{
	char *t;

	/* literal "abc" in startTimestampMillis fails, "${start_time}" passes */
	t = check_job("{\"type\":\"job\",\"configuration\":{\"reader\":{\"plugin\":\"otsstream\",\"parameter\":{\n"
	    "\"endpoint\":\"http://h\",\"accessId\":\"a\",\"accessKey\":\"" SECRET "\",\"instanceName\":\"i\",\n"
	    "\"dataTable\":\"t\",\"statusTable\":\"s\",\"startTimestampMillis\":\"abc\",\"endTimestampMillis\":\"${e}\"}},\n"
	    "\"writer\":{\"plugin\":\"txtfile\",\"parameter\":{\"path\":\"/p\",\"fileName\":\"f\",\"writeMode\":\"append\"}}}}",
	    ENG_EINVAL);
	ok(strstr(t, "j.json:3:58: error: \"startTimestampMillis\" must be epoch milliseconds") != NULL, "abc");
	DUMP_ON_FAIL(t);
	ok(strstr(t, "endTimestampMillis\" must") == NULL, "template passes");
	ok(strstr(t, SECRET) == NULL, "no secret");
	free(t);

	/* several independent errors, each at its line:col, comments keep offsets */
	t = check_job("# heading\n{\"type\":\"job\", /* x */ \"configuraton\": {},\n \"schedule\": {\"cycle\": \"7x\"}}",
	    ENG_EINVAL);
	ok(strstr(t, "j.json:2:24: error: unknown key \"configuraton\" in job; did you mean \"configuration\"?") != NULL,
	    "did you mean");
	DUMP_ON_FAIL(t);
	ok(strstr(t, "j.json:2:1: error: job: missing required key \"configuration\"") != NULL, "missing");
	DUMP_ON_FAIL(t);
	ok(strstr(t, "j.json:3:24: error: ") != NULL, "bad cycle at its value");
	DUMP_ON_FAIL(t);
	free(t);

	/* start >= end with concrete millis */
	t = check_job("{\"type\":\"job\",\"configuration\":{\"reader\":{\"plugin\":\"otsstream\",\"parameter\":{\n"
	    "\"datasource\":\"x\",\"dataTable\":\"t\",\"statusTable\":\"s\",\"startTimestampMillis\":5,\"endTimestampMillis\":\"5\"}},\n"
	    "\"writer\":{\"plugin\":\"txtfile\",\"parameter\":{\"path\":\"/p\",\"fileName\":\"f\",\"writeMode\":\"append\"}}}}",
	    ENG_EINVAL);
	ok(strstr(t, "must be larger than \"startTimestampMillis\"") != NULL, "start >= end");
	DUMP_ON_FAIL(t);
	free(t);

	/* warnings alone keep the job valid */
	t = check_job("{\"type\":\"job\",\"configuration\":{\"reader\":{\"plugin\":\"stream\",\"parameter\":{\n"
	    "\"column\":[{\"type\":\"string\",\"value\":\"v\"}],\"sliceRecordCount\":1}},\n"
	    "\"writer\":{\"plugin\":\"oss\",\"parameter\":{\"datasource\":\"o\",\"object\":\"/a/{date}\",\"writeMode\":\"append\"}}}}",
	    0);
	ok(strstr(t, "warning: \"object\" starts with '/'") != NULL, "leading slash warning");
	DUMP_ON_FAIL(t);
	ok(strstr(t, "did you mean \"${date}\"?") != NULL, "brace warning");
	ok(strstr(t, "\"nullFormat\" is not set") != NULL, "nullFormat warning");
	free(t);
}

static void
test_secret_templates(void)
{
	const char *j =
	    "{\"type\":\"job\",\"configuration\":{\"reader\":{\"plugin\":\"stream\",\"parameter\":{\n"
	    "\"column\":[{\"type\":\"string\",\"value\":\"v\"}],\"sliceRecordCount\":1}},\n"
	    "\"writer\":{\"plugin\":\"oss\",\"parameter\":{\"endpoint\":\"http://h\",\"bucket\":\"bkt\",\n"
	    "\"accessId\":\"a\",\"accessKey\":\"x{hidden}y${hidden2}\",\"object\":\"o/${p}\",\n"
	    "\"writeMode\":\"append\",\"nullFormat\":\"\"}}}}";
	struct conf_diags *d = NULL;
	struct conf_job *job = NULL, *res = NULL;
	struct buf b;
	char *t;

	buf_init(&b, BUF_MAX_DOC);
	conf_diags_new(&d);
	is_rc(conf_job_parse("j", j, strlen(j), NULL, NULL, d, &job), 0, "inline secret with braces parses");
	t = diag_text(d, "j.json");
	ok(strstr(t, "hidden") == NULL, "no part of the secret in warnings");
	DUMP_ON_FAIL(t);
	free(t);
	conf_diags_clear(d);
	is_rc(conf_job_render(job, true, &b), 0, "render masked");
	ok(strstr(b.p, "hidden") == NULL && strstr(b.p, "\"accessKey\": \"******\"") != NULL,
	    "inline secret masked in job render");
	is_rc(conf_job_resolve(job, param_set_lookup, &(struct param_set){ NULL, 0 }, NULL, NULL, d, &res),
	    ENG_EINVAL, "unknown parameters");
	t = diag_text(d, "j.json");
	ok(strstr(t, "hidden") == NULL, "resolve errors do not quote the secret");
	ok(strstr(t, "\"accessKey\" refers to an unknown parameter") != NULL, "but name the member");
	ok(strstr(t, "${p}") != NULL, "other unknown parameters are named");
	DUMP_ON_FAIL(t);
	free(t);
	conf_job_free(job);
	conf_diags_free(d);
	buf_free(&b);
}

static void
test_misc(void)
{
	struct buf b;

	buf_init(&b, BUF_MAX_SMALL);
	is_int(conf_kind_of(seed_job, strlen(seed_job)), CONF_KIND_JOB, "kind job");
	is_int(conf_kind_of(ots_src, strlen(ots_src)), CONF_KIND_SOURCE, "kind source");
	is_int(conf_kind_of("{", 1), CONF_KIND_UNKNOWN, "kind unknown");
	is_rc(conf_name_from_path("sources/ots-prod.json", &b), 0, "name from path");
	is_str(b.p, "ots-prod", "stem");
	buf_reset(&b);
	is_rc(conf_name_from_path("job", &b), 0, "name without extension");
	is_str(b.p, "job", "plain name");
	buf_free(&b);
}

int
main(void)
{
	test_sources();
	test_mask_merge();
	test_view_prev();
	test_seed_job();
	test_resolve_revalidates();
	test_diagnostics();
	test_secret_templates();
	test_misc();
	return done_testing();
}
