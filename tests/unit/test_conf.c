/* SPDX-License-Identifier: MIT */
/*
 * test_conf.c - engine/conf*.c: the job/source model, positions of
 * diagnostics, comments, templates and resolution, typed getters, secrets
 * (masking, merging, never in messages).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
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
	is_rc(conf_mask_text("{\"accessKey\": \"" SECRET, 15 + strlen(SECRET), &m), 0,
	    "unparsable text is masked by line");
	is_str(m.p, "{\"accessKey\": \"******\"", "the value part of the line is masked");
	buf_free(&m);
	buf_free(&back);
}

/* Every read masks, valid or not: the one list of names at any depth, and
 * lines of text that is no JSON (issue 14) */
static void
test_mask_any(void)
{
	static const char broken[] =
	    "{\"type\": \"ots\",\n"
	    "  \"accessKey\": \"" SECRET "\",\n"
	    "  \"db_password\" = " SECRET "\n"
	    "  \"securityToken\"\n"
	    "\n"
	    "     : \"" SECRET "\"\n"
	    "  \"endpoint\": \"https://x\"\n";
	static const char nested[] =
	    "{\"a\": {\"Password\": \"" SECRET "\", \"n\": 1}, \"apiToken\": 42,\n"
	    " \"client_secret\": [\"" SECRET "\", {\"k\": \"" SECRET "\"}], \"accessKeySecret\": \"" SECRET "\"}";
	static const char url[] = "see https://u:" SECRET "@h:1/p?q and http://h/x";
	struct buf m, back;
	struct eng_errbuf eb;

	buf_init(&m, BUF_MAX_DOC);
	buf_init(&back, BUF_MAX_DOC);
	ok(conf_is_secret_key("accessKey") && conf_is_secret_key("ACCESSKEY") &&
	    conf_is_secret_key("securityToken") && conf_is_secret_key("MY_PASSWORD") &&
	    conf_is_secret_key("secret") && conf_is_secret_key("accessKeySecret"),
	    "the list: accessKey and names containing secret/password/token");
	ok(!conf_is_secret_key("accessId") && !conf_is_secret_key("endpoint") &&
	    !conf_is_secret_key(NULL), "other names are not secrets");
	is_rc(conf_mask_text(broken, strlen(broken), &m), 0, "broken JSON");
	ok(strstr(m.p, SECRET) == NULL, "broken JSON: no secret left");
	DUMP_ON_FAIL(m.p);
	ok(strstr(m.p, "\"accessKey\": \"******\",\n") != NULL, "':' line masked, ',' kept");
	ok(strstr(m.p, "\"db_password\" = \"******\"\n") != NULL, "'=' line masked");
	ok(strstr(m.p, "\"endpoint\": \"https://x\"") != NULL, "other lines kept");
	buf_reset(&m);
	is_rc(conf_mask_text(nested, strlen(nested), &m), 0, "nested secrets");
	ok(strstr(m.p, SECRET) == NULL && strstr(m.p, "42") == NULL, "no secret at any depth");
	ok(strstr(m.p, "\"n\": 1") != NULL, "other members kept");
	DUMP_ON_FAIL(m.p);
	is_rc(conf_merge_secrets_text(m.p, m.len, nested, strlen(nested), &back, &eb), 0,
	    "merge back nested secrets");
	is_str(back.p, nested, "mask then merge gives the original bytes");
	buf_reset(&m);
	is_rc(conf_mask_url(url, strlen(url), &m), 0, "mask url");
	is_str(m.p, "see https://******@h:1/p?q and http://h/x", "URL userinfo masked");
	buf_reset(&m);
	is_rc(conf_mask_param("dbPassword", "x", &m), 0, "mask param");
	is_str(m.p, CONF_MASK, "a secret name's value masked");
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

/* check_job of a stream reader into the writer (JSON text) */
static char *
check_writer(const char *writer, int want_rc)
{
	char text[1024];

	snprintf(text, sizeof(text), "{\"type\":\"job\",\"configuration\":{\"reader\":{\"plugin\":"
	    "\"stream\",\"parameter\":{\n\"column\":[{\"type\":\"string\",\"value\":\"v\"}],"
	    "\"sliceRecordCount\":1}},\n\"writer\":%s}}", writer);
	return check_job(text, want_rc);
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
	    "\"writer\":{\"plugin\":\"oss\",\"parameter\":{\"datasource\":\"o\",\"object\":\"a//{date}\",\"writeMode\":\"append\"}}}}",
	    0);
	ok(strstr(t, "warning: \"object\" contains \"//\"") != NULL, "double slash warning");
	DUMP_ON_FAIL(t);
	ok(strstr(t, "did you mean \"${date}\"?") != NULL, "brace warning");
	ok(strstr(t, "\"nullFormat\" is not set") != NULL, "nullFormat warning");
	free(t);

	/* object keys that are not names (issue 14): refused by difs check */
	t = check_writer("{\"plugin\":\"oss\",\"parameter\":{\"datasource\":\"o\","
	    "\"object\":\"/abs/key\",\"writeMode\":\"append\"}}", ENG_EINVAL);
	ok(strstr(t, "error: \"object\" \"/abs/key\" starts with '/': OSS object names must not; "
	    "write \"abs/key\"") != NULL, "leading slash is an error");
	DUMP_ON_FAIL(t);
	free(t);
	t = check_writer("{\"plugin\":\"oss\",\"parameter\":{\"datasource\":\"o\","
	    "\"object\":\"a/../b\",\"writeMode\":\"append\"}}", ENG_EINVAL);
	ok(strstr(t, "error: \"object\" \"a/../b\" has a \"..\" segment") != NULL, "a .. segment is an error");
	DUMP_ON_FAIL(t);
	free(t);
	t = check_writer("{\"plugin\":\"txtfile\",\"parameter\":{\"path\":\"/p\",\"fileName\":\"..\","
	    "\"suffix\":\"/x\",\"writeMode\":\"append\"}}", ENG_EINVAL);
	ok(strstr(t, "error: \"fileName\" must be a file name, not \"..\"") != NULL, "fileName .. is an error");
	ok(strstr(t, "error: \"suffix\" \"/x\" contains '/'") != NULL, "a suffix with '/' is an error");
	DUMP_ON_FAIL(t);
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

/* ---- schedule keys of issue 13 ------------------------------------------- */

/* a stream -> txtfile job named "j" whose schedule holds "cycle" on line 3
 * and then sched, from column 1 of line 4 */
static char *
parse_sched(const char *sched, int want_rc, struct conf_job **out)
{
	struct conf_diags *d = NULL;
	struct conf_job *job = NULL;
	struct buf b;
	char *t;

	buf_init(&b, BUF_MAX_DOC);
	(void)buf_printf(&b,
	    "{\"type\": \"job\", \"configuration\": {\"reader\": {\"plugin\": \"stream\", \"parameter\": {\"column\": [{\"type\": \"long\", \"value\": \"1\"}], \"sliceRecordCount\": 1}},\n"
	    "\"writer\": {\"plugin\": \"txtfile\", \"parameter\": {\"path\": \"/tmp/o\", \"fileName\": \"f\", \"writeMode\": \"append\"}}},\n"
	    "\"schedule\": {\"cycle\": \"5m\"%s\n"
	    "%s}}\n", sched[0] != '\0' ? "," : "", sched);
	conf_diags_new(&d);
	is_rc(conf_job_parse("j", b.p, b.len, NULL, NULL, d, &job), want_rc, "rc for %.70s", sched);
	t = diag_text(d, "j.json");
	DUMP_ON_FAIL(t);
	if (out != NULL)
		*out = job;
	else
		conf_job_free(job);
	conf_diags_free(d);
	buf_free(&b);
	return t;
}

/* sched is invalid with exactly this diagnostic line among its output */
static void
sched_err(const char *sched, const char *want)
{
	char *t = parse_sched(sched, ENG_EINVAL, NULL);

	ok(strstr(t, want) != NULL, "%s", want);
	DUMP_ON_FAIL(t);
	free(t);
}

/* backfillLimit, priority, maxConcurrent, timeoutSeconds, keepInstances, keepDays */
static void
sched_ints(const struct conf_schedule *sc, const int64_t want[6], const char *what)
{
	is_int(sc->backfill_limit, want[0], "%s: backfillLimit", what);
	is_int(sc->priority, want[1], "%s: priority", what);
	is_int(sc->max_concurrent, want[2], "%s: maxConcurrent", what);
	is_int(sc->timeout_s, want[3], "%s: timeoutSeconds", what);
	is_int(sc->keep_instances, want[4], "%s: keepInstances", what);
	is_int(sc->keep_days, want[5], "%s: keepDays", what);
}

static void
test_schedule_keys(void)
{
	const struct conf_schedule *sc;
	struct conf_job *job = NULL;
	char *t;

	/* defaults for every job with a schedule */
	t = parse_sched("", 0, &job);
	ok(t[0] == '\0', "no diagnostics for the minimal schedule");
	free(t);
	sc = job != NULL ? conf_job_schedule(job) : NULL;
	ok(sc != NULL, "schedule");
	if (sc != NULL) {
		sched_ints(sc, (const int64_t[]){ 1440, 1, 1, 0, 0, 30 }, "defaults");
		ok(!sc->catchup_all, "default catchup is not all");
		is_int(sc->catchup_s, 86400, "default catchup 24h");
		is_int(sc->ndeps, 0, "no dependencies");
		ok(sc->deps == NULL, "deps NULL");
		is_int(sc->alert.events, 0, "no alert");
		ok(sc->alert.exec == NULL && sc->alert.nexec == 0 && sc->alert.webhook == NULL, "no alert channels");
		is_int(sc->alert.unfinished_by_min, -1, "no unfinished_by");
	}
	conf_job_free(job);
	job = NULL;

	/* every key with a valid value */
	t = parse_sched("\"catchup\": \"all\", \"backfillLimit\": 1000000, \"priority\": \"8\", \"maxConcurrent\": 64,\n"
	    "\"timeoutSeconds\": 604800, \"keepInstances\": \"500\", \"keepDays\": 0,\n"
	    "\"dependsOn\": [{\"job\": \"orders\"}, {\"job\": \"users\", \"cycle\": \"latest\"}, {\"job\": \"x-1\", \"cycle\": \"same\"}],\n"
	    "\"alert\": {\"on\": [\"failed\", \"exhausted\", \"timeout\", \"skipped\", \"unfinished_by\"],\n"
	    "  \"exec\": [\"/usr/local/bin/page\", \"--team\", \"data\"], \"webhook\": \"https://hooks.example.com/x?access_token=T0K\",\n"
	    "  \"unfinished_by\": \"06:30\"}", 0, &job);
	ok(t[0] == '\0', "all keys valid, no diagnostics");
	free(t);
	sc = job != NULL ? conf_job_schedule(job) : NULL;
	ok(sc != NULL, "schedule with every key");
	if (sc != NULL) {
		ok(sc->catchup_all, "catchup all");
		ok(sc->catchup_s == INT64_MAX, "catchup all is INT64_MAX seconds");
		/* priority and keepInstances were strings */
		sched_ints(sc, (const int64_t[]){ 1000000, 8, 64, 604800, 500, 0 }, "upper bounds");
		is_int(sc->ndeps, 3, "three dependencies");
		if (sc->ndeps == 3) {
			is_str(sc->deps[0].job, "orders", "dep 0");
			is_int(sc->deps[0].cycle, CONF_DEP_SAME, "dep 0 default cycle same");
			is_str(sc->deps[1].job, "users", "dep 1");
			is_int(sc->deps[1].cycle, CONF_DEP_LATEST, "dep 1 latest");
			is_int(sc->deps[2].cycle, CONF_DEP_SAME, "dep 2 same");
		}
		is_int(sc->alert.events, CONF_ALERT_FAILED | CONF_ALERT_EXHAUSTED | CONF_ALERT_TIMEOUT |
		    CONF_ALERT_SKIPPED | CONF_ALERT_UNFINISHED, "all events");
		is_int(sc->alert.nexec, 3, "argv of 3");
		if (sc->alert.exec != NULL && sc->alert.nexec == 3) {
			is_str(sc->alert.exec[0], "/usr/local/bin/page", "argv[0]");
			is_str(sc->alert.exec[2], "data", "argv[2]");
			ok(sc->alert.exec[3] == NULL, "argv NULL-terminated");
		}
		is_str(sc->alert.webhook, "https://hooks.example.com/x?access_token=T0K", "webhook");
		is_int(sc->alert.unfinished_by_min, 6 * 60 + 30, "unfinished_by 06:30");
	}
	conf_job_free(job);
	job = NULL;

	/* lower bounds, a duration catchup, webhook alone, http:// */
	t = parse_sched("\"catchup\": \"2d\", \"backfillLimit\": 1, \"priority\": 1, \"maxConcurrent\": 1, \"timeoutSeconds\": 1,\n"
	    "\"keepInstances\": 0, \"keepDays\": 3650, \"alert\": {\"on\": [\"skipped\"], \"webhook\": \"http://127.0.0.1:9/h\"}",
	    0, &job);
	ok(t[0] == '\0', "lower bounds valid");
	free(t);
	sc = job != NULL ? conf_job_schedule(job) : NULL;
	if (sc != NULL) {
		ok(!sc->catchup_all && sc->catchup_s == 2 * 86400, "catchup 2d");
		sched_ints(sc, (const int64_t[]){ 1, 1, 1, 1, 0, 3650 }, "lower bounds");
		is_int(sc->alert.events, CONF_ALERT_SKIPPED, "skipped only");
		ok(sc->alert.exec == NULL, "no exec");
		is_int(sc->alert.unfinished_by_min, -1, "no unfinished_by");
	}
	conf_job_free(job);
	job = NULL;

	/* "timeout" without timeoutSeconds: a warning only */
	t = parse_sched("\"alert\": {\"on\": [\"timeout\"], \"exec\": [\"/bin/true\"]}", 0, NULL);
	ok(strstr(t, "j.json:4:18: warning: the \"timeout\" event never fires: \"timeoutSeconds\" is not set") != NULL,
	    "timeout event without timeoutSeconds warns");
	DUMP_ON_FAIL(t);
	free(t);

	/* each error, at its place, with the fix */
	sched_err("\"catchup\": \"forever\"",
	    "j.json:4:12: error: \"catchup\" must be a duration like \"24h\" or \"2d\", or \"all\"");
	sched_err("\"backfillLimit\": 0",
	    "j.json:4:18: error: \"backfillLimit\" is 0; it must be between 1 and 1000000 (the most instances one \"backfill\" may create; default 1440)");
	sched_err("\"backfillLimit\": 1000001", "j.json:4:18: error: \"backfillLimit\" is 1000001; it must be between 1 and 1000000");
	sched_err("\"priority\": 9",
	    "j.json:4:13: error: \"priority\" is 9; it must be between 1 and 8 (1 lowest to 8 highest, as in DataWorks; default 1)");
	sched_err("\"priority\": 0", "j.json:4:13: error: \"priority\" is 0; it must be between 1 and 8");
	sched_err("\"priority\": \"high\"", "j.json:4:13: error: \"priority\" must be an integer (a JSON number or a numeric string) from 1 to 8");
	sched_err("\"priority\": 1.5", "j.json:4:13: error: \"priority\" must be an integer");
	sched_err("\"priority\": \"${p}\"", "j.json:4:13: error: \"priority\" must be an integer");
	sched_err("\"maxConcurrent\": 65", "j.json:4:18: error: \"maxConcurrent\" is 65; it must be between 1 and 64");
	sched_err("\"maxConcurrent\": 0", "j.json:4:18: error: \"maxConcurrent\" is 0; it must be between 1 and 64");
	sched_err("\"timeoutSeconds\": 0",
	    "j.json:4:19: error: \"timeoutSeconds\" is 0; it must be between 1 and 604800 (seconds one attempt may run, at most 7 days; leave it out for no timeout)");
	sched_err("\"timeoutSeconds\": 604801", "j.json:4:19: error: \"timeoutSeconds\" is 604801; it must be between 1 and 604800");
	sched_err("\"keepInstances\": -1",
	    "j.json:4:18: error: \"keepInstances\" is -1; it must be at least 0 (final instances kept per job; 0 = no count limit)");
	sched_err("\"keepDays\": 3651", "j.json:4:13: error: \"keepDays\" is 3651; it must be between 0 and 3650");
	sched_err("\"keepDays\": true", "j.json:4:13: error: \"keepDays\" must be an integer");
	sched_err("\"priorty\": 2", "j.json:4:1: error: unknown key \"priorty\" in schedule; did you mean \"priority\"?");

	/* dependsOn */
	sched_err("\"dependsOn\": {\"job\": \"a\"}", "j.json:4:14: error: \"dependsOn\" must be an array, not an object");
	sched_err("\"dependsOn\": [\"a\"]",
	    "j.json:4:15: error: each \"dependsOn\" entry must be an object like {\"job\": \"orders\", \"cycle\": \"same\"}");
	sched_err("\"dependsOn\": [{\"cycle\": \"same\"}]",
	    "j.json:4:15: error: a \"dependsOn\" entry: missing required key \"job\"; the upstream job's name");
	sched_err("\"dependsOn\": [{\"job\": \"\"}]", "j.json:4:23: error: \"job\" must not be empty");
	sched_err("\"dependsOn\": [{\"job\": 3}]", "j.json:4:23: error: \"job\" must be a string, not a number");
	sched_err("\"dependsOn\": [{\"job\": \"j\"}]",
	    "j.json:4:23: error: a job cannot depend on itself; to wait for its previous cycle use \"selfDependent\": true");
	sched_err("\"dependsOn\": [{\"job\": \"a.json\"}]",
	    "j.json:4:23: error: \"job\" is not a valid job name: write the job's name without \".json\"");
	sched_err("\"dependsOn\": [{\"job\": \"x/a\"}]", "j.json:4:23: error: \"job\" is not a valid job name: a job's name is a file name in jobs/");
	sched_err("\"dependsOn\": [{\"job\": \".a\"}]", "j.json:4:23: error: \"job\" is not a valid job name: job names do not start with '.'");
	sched_err("\"dependsOn\": [{\"job\": \"a\", \"cycle\": \"previous\"}]",
	    "j.json:4:37: error: \"cycle\" must be \"same\" (the upstream instance of the same cycle time, the default) or \"latest\"");
	sched_err("\"dependsOn\": [{\"job\": \"a\", \"cycel\": \"same\"}]",
	    "j.json:4:28: error: unknown key \"cycel\" in a \"dependsOn\" entry; did you mean \"cycle\"?");
	sched_err("\"dependsOn\": [{\"job\": \"a\"}, {\"job\": \"b\"}, {\"job\": \"a\", \"cycle\": \"latest\"}]",
	    "j.json:4:51: error: duplicate dependency on \"a\"; list each upstream job once");
	{
		struct buf b;
		int i;

		buf_init(&b, BUF_MAX_DOC);
		(void)buf_printf(&b, "\"dependsOn\": [");
		for (i = 0; i < 33; i++)
			(void)buf_printf(&b, "%s{\"job\": \"u%d\"}", i ? ", " : "", i);
		(void)buf_printf(&b, "]");
		sched_err(b.p, "j.json:4:14: error: \"dependsOn\" lists 33 jobs; at most 32 are allowed");
		b.p[b.len - 1] = '\0';	/* 32 entries: fine */
		b.len = (size_t)(strrchr(b.p, ',') - b.p);
		b.p[b.len] = '\0';
		(void)buf_printf(&b, "]");
		t = parse_sched(b.p, 0, &job);
		ok(job != NULL && conf_job_schedule(job)->ndeps == 32, "32 dependencies are allowed");
		free(t);
		conf_job_free(job);
		job = NULL;
		buf_free(&b);
	}

	/* alert */
	sched_err("\"alert\": [\"failed\"]", "j.json:4:10: error: \"alert\" must be an object, not an array");
	sched_err("\"alert\": {\"exec\": [\"/bin/true\"]}", "j.json:4:10: error: \"alert\": missing required key \"on\"");
	sched_err("\"alert\": {\"on\": [], \"exec\": [\"/bin/true\"]}",
	    "j.json:4:17: error: \"on\" must list at least one event: \"failed\", \"exhausted\", \"timeout\", \"skipped\", \"unfinished_by\"");
	sched_err("\"alert\": {\"on\": \"failed\", \"exec\": [\"/bin/true\"]}", "j.json:4:17: error: \"on\" must be an array, not a string");
	sched_err("\"alert\": {\"on\": [\"failled\"], \"exec\": [\"/bin/true\"]}",
	    "j.json:4:18: error: unknown alert event \"failled\"; did you mean \"failed\"?");
	sched_err("\"alert\": {\"on\": [\"late\"], \"exec\": [\"/bin/true\"]}",
	    "j.json:4:18: error: unknown alert event \"late\"; the events are \"failed\", \"exhausted\"");
	sched_err("\"alert\": {\"on\": [1], \"exec\": [\"/bin/true\"]}",
	    "j.json:4:18: error: each \"on\" element must be a string, one of \"failed\", \"exhausted\"");
	sched_err("\"alert\": {\"on\": [\"failed\", \"skipped\", \"failed\"], \"exec\": [\"/bin/true\"]}",
	    "j.json:4:39: error: duplicate event \"failed\" in \"on\"");
	sched_err("\"alert\": {\"on\": [\"failed\"]}",
	    "j.json:4:10: error: \"alert\" needs \"exec\" (a command as an argv array");
	sched_err("\"alert\": {\"on\": [\"failed\"], \"exec\": []}",
	    "j.json:4:37: error: \"exec\" must not be empty: the command and its arguments");
	sched_err("\"alert\": {\"on\": [\"failed\"], \"exec\": \"/bin/page me\"}",
	    "j.json:4:37: error: \"exec\" must be an array, not a string");
	sched_err("\"alert\": {\"on\": [\"failed\"], \"exec\": [\"/bin/page\", 3]}",
	    "j.json:4:51: error: each \"exec\" element must be a string (the command, then one string per argument; no shell)");
	sched_err("\"alert\": {\"on\": [\"failed\"], \"exec\": [\"/bin/page\", \"\"]}",
	    "j.json:4:51: error: \"exec\" elements must not be empty strings");
	sched_err("\"alert\": {\"on\": [\"failed\"], \"webhook\": \"ftp://h/x\"}",
	    "j.json:4:40: error: \"webhook\" is not a valid URL: it must start with http:// or https://");
	sched_err("\"alert\": {\"on\": [\"failed\"], \"webhook\": \"https://h/a b?token=T0K\"}",
	    "j.json:4:40: error: \"webhook\" is not a valid URL: it contains a space, a control or a non-ASCII character");
	sched_err("\"alert\": {\"on\": [\"failed\"], \"webhook\": \"https://h/\\tx\"}",
	    "j.json:4:40: error: \"webhook\" is not a valid URL: it contains a space");
	sched_err("\"alert\": {\"on\": [\"failed\"], \"webhook\": \"https://\"}",
	    "j.json:4:40: error: \"webhook\" is not a valid URL: the host is missing");
	sched_err("\"alert\": {\"on\": [\"failed\"], \"webhook\": \"https://user:pw@h/\"}",
	    "j.json:4:40: error: \"webhook\" is not a valid URL: the host contains an invalid character");
	sched_err("\"alert\": {\"on\": [\"failed\"], \"webhook\": \"http://h:99999/\"}",
	    "j.json:4:40: error: \"webhook\" is not a valid URL: the port must be a number from 1 to 65535");
	t = parse_sched("\"alert\": {\"on\": [\"failed\"], \"webhook\": \"ftp://h/x?token=T0K\"}", ENG_EINVAL, NULL);
	ok(strstr(t, "T0K") == NULL, "a webhook URL is never quoted (its token)");
	free(t);
	sched_err("\"alert\": {\"on\": [\"failed\", \"unfinished_by\"], \"exec\": [\"/bin/true\"]}",
	    "j.json:4:28: error: the \"unfinished_by\" event needs \"unfinished_by\": \"HH:MM\" in \"alert\"");
	sched_err("\"alert\": {\"on\": [\"failed\"], \"exec\": [\"/bin/true\"], \"unfinished_by\": \"06:00\"}",
	    "j.json:4:52: error: \"unfinished_by\" is set but \"on\" has no \"unfinished_by\" event; add \"unfinished_by\" to \"on\" or remove this key");
	sched_err("\"alert\": {\"on\": [\"unfinished_by\"], \"exec\": [\"/bin/true\"], \"unfinished_by\": \"24:00\"}",
	    "j.json:4:76: error: \"unfinished_by\" must be a time of day \"HH:MM\" (00:00..23:59) in the job's timezone, e.g. \"06:30\"");
	sched_err("\"alert\": {\"on\": [\"failed\"], \"exec\": [\"/bin/true\"], \"mail\": \"a@b\"}",
	    "j.json:4:52: error: unknown key \"mail\" in \"alert\"");
}

/* ---- dependency cycles ----------------------------------------------------- */

/* a fake set of defined jobs: "name:up1,up2" per entry */
struct fake_graph {
	const char *const *jobs;
	size_t	 n;
	int	 lookups;	/* calls */
	int	 fail;		/* return this from every call when != 0 */
};

static int
fake_lookup(void *arg, const char *name, char ***out, size_t *n)
{
	struct fake_graph *g = arg;
	const char *e, *p, *q;
	size_t i, len = strlen(name), k = 0;

	g->lookups++;
	*out = NULL;
	*n = 0;
	if (g->fail != 0)
		return g->fail;
	for (i = 0; i < g->n; i++) {
		e = g->jobs[i];
		if (strncmp(e, name, len) != 0 || e[len] != ':')
			continue;
		p = e + len + 1;
		if (*p == '\0')
			return 0;
		*out = calloc(32, sizeof(**out));
		for (; p != NULL && k < 32; p = q != NULL ? q + 1 : NULL, k++) {
			q = strchr(p, ',');
			(*out)[k] = strndup(p, q != NULL ? (size_t)(q - p) : strlen(p));
		}
		*n = k;
		return 0;
	}
	return -ENOENT;
}

/* conf_dep_cycle for new job name with upstreams ups ("b,c") */
static int
cycle_of(const char *name, const char *ups, struct fake_graph *g, struct buf *path)
{
	struct conf_dep deps[8];
	char tmp[128], *p, *save = NULL;
	size_t n = 0;

	buf_reset(path);
	snprintf(tmp, sizeof(tmp), "%s", ups);
	for (p = strtok_r(tmp, ",", &save); p != NULL && n < 8; p = strtok_r(NULL, ",", &save))
		deps[n++] = (struct conf_dep){ strdup(p), CONF_DEP_SAME };
	{
		int rc = conf_dep_cycle(name, deps, n, fake_lookup, g, path);

		while (n > 0)
			free((char *)(uintptr_t)deps[--n].job);
		return rc;
	}
}

static void
test_dep_cycles(void)
{
	static const char *const two[] = { "b:a" };
	static const char *const three[] = { "b:c", "c:a", "x:" };
	static const char *const diamond[] = { "b:d", "c:d", "d:e", "e:" };
	static const char *const others[] = { "b:c", "c:b" };
	static const char *const chain[] = { "c1:c2", "c2:c3", "c3:c4", "c4:c5", "c5:c6", "c6:c7",
	    "c7:c8", "c8:c9", "c9:c10", "c10:c11", "c11:c12", "c12:x,a" };
	struct fake_graph g;
	struct buf path;
	struct conf_diags *d = NULL;
	struct conf_job *job = NULL;
	const char *jt;
	char *t;

	buf_init(&path, BUF_MAX_SMALL);
	g = (struct fake_graph){ two, 1, 0, 0 };
	is_rc(cycle_of("a", "b", &g, &path), 1, "2-cycle found");
	is_str(path.p, "a -> b -> a", "2-cycle path");
	g = (struct fake_graph){ three, 3, 0, 0 };
	is_rc(cycle_of("a", "x,b", &g, &path), 1, "3-cycle found");
	is_str(path.p, "a -> b -> c -> a", "3-cycle path");
	g = (struct fake_graph){ diamond, 4, 0, 0 };
	is_rc(cycle_of("a", "b,c", &g, &path), 0, "diamond: no cycle");
	is_int(g.lookups, 4, "diamond: each upstream looked up once");
	is_rc(cycle_of("d", "b", &g, &path), 1, "a new d above the diamond closes a cycle");
	is_str(path.p, "d -> b -> d", "through b");
	g = (struct fake_graph){ two, 1, 0, 0 };
	is_rc(cycle_of("a", "a", &g, &path), 1, "self");
	is_str(path.p, "a -> a", "self path");
	is_int(g.lookups, 0, "the new job itself is never looked up");
	is_rc(cycle_of("a", "undefined", &g, &path), 0, "an undefined upstream is no cycle");
	g = (struct fake_graph){ others, 2, 0, 0 };
	is_rc(cycle_of("a", "b", &g, &path), 0, "a cycle among others, not through a, is not ours");
	g = (struct fake_graph){ chain, 12, 0, 0 };
	is_rc(cycle_of("a", "c1", &g, &path), 1, "a long chain back to a");
	is_str(path.p, "a -> c1 -> c2 -> c3 -> c4 -> c5 -> c6 -> c7 -> c8 -> c9 -> c10 -> c11 -> c12 -> a",
	    "long path");
	g = (struct fake_graph){ two, 1, 0, -ENOMEM };
	is_rc(cycle_of("a", "b", &g, &path), -ENOMEM, "lookup errors come back");
	is_rc(cycle_of("a", "", &g, &path), 0, "no upstreams: nothing to do");

	/* conf_job_check_deps: an error at "dependsOn", a warning for an unknown upstream */
	jt = "{\"type\": \"job\", \"configuration\": {\"reader\": {\"plugin\": \"stream\", \"parameter\": {\"column\": [{\"type\": \"long\", \"value\": \"1\"}], \"sliceRecordCount\": 1}},\n"
	    "\"writer\": {\"plugin\": \"txtfile\", \"parameter\": {\"path\": \"/tmp/o\", \"fileName\": \"f\", \"writeMode\": \"append\"}}},\n"
	    "\"schedule\": {\"cycle\": \"5m\",\n"
	    "  \"dependsOn\": [{\"job\": \"zz\"}, {\"job\": \"b\", \"cycle\": \"latest\"}]}}\n";
	conf_diags_new(&d);
	is_rc(conf_job_parse("a", jt, strlen(jt), NULL, NULL, d, &job), 0, "job a parses");
	g = (struct fake_graph){ diamond, 4, 0, 0 };
	if (job != NULL) {
		is_rc(conf_job_check_deps(job, fake_lookup, &g, false, d), 0, "b -> d -> e: no cycle");
		is_int(conf_diags_count(d), 0, "no diagnostics without warn_missing");
		g = (struct fake_graph){ two, 1, 0, 0 };
		is_rc(conf_job_check_deps(job, fake_lookup, &g, true, d), ENG_EINVAL, "b -> a: a cycle");
		t = diag_text(d, "jobs/a.json");
		ok(strstr(t, "jobs/a.json:4:3: error: \"dependsOn\": dependency cycle: a -> b -> a; remove one of these dependencies\n") != NULL,
		    "cycle error at \"dependsOn\"");
		ok(strstr(t, "jobs/a.json:4:25: warning: upstream job \"zz\" is not defined; it may be defined later") != NULL,
		    "warning for the undefined upstream");
		DUMP_ON_FAIL(t);
		free(t);
		g = (struct fake_graph){ two, 1, 0, -ENOMEM };
		is_rc(conf_job_check_deps(job, fake_lookup, &g, false, NULL), -ENOMEM, "lookup error");
	}
	conf_job_free(job);
	conf_diags_free(d);
	buf_free(&path);
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
	test_mask_any();
	test_view_prev();
	test_seed_job();
	test_resolve_revalidates();
	test_diagnostics();
	test_secret_templates();
	test_schedule_keys();
	test_dep_cycles();
	test_misc();
	return done_testing();
}
