/* SPDX-License-Identifier: MIT */
/*
 * test_errclass.c - the error class a real attempt ends with: jobs parsed
 * from JSON and run through run_job against difs-emu (Table Store and OSS
 * in one process), each failure checked for its code, the class the
 * scheduler reads from it (eng_err_retryable) and a message that names the
 * service's own error code:
 *   otsstream -> txtfile: a missing data table (OTSObjectNotExist), a table
 *   without a stream, a wrong secret (OTSAuthFailed), trimmed stream data
 *   (OTSTrimmedDataAccess after difs-emu's "trim"), a start outside the
 *   stream's retention, an end too recent for the safety margin, injected
 *   OTSServerBusy 503, OTSInternalServerError 500 and OTSParameterInvalid 400;
 *   stream -> oss: a missing bucket (NoSuchBucket), a wrong secret
 *   (SignatureDoesNotMatch), an injected AccessDenied, and 503s the client
 *   absorbs (the attempt succeeds);
 *   an invalid job at the attempt's start (unknown ${name}).
 *
 *   test_errclass PATH/TO/difs-emu
 *
 * Exit 77 (skip) only when the difs-emu binary is absent.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "emu_harness.h"
#include "ots.h"
#include "plainbuf.h"
#include "run.h"
#include "sign.h"
#include "tz.h"
#include "../unit/tap.h"

#define AK	"errcid"
#define SK	"errcsecret"
#define INST	"errcinst"
#define BUCKET	"errc-bucket"
#define TABLE	"t_errc"

static struct th_emu g_emu = TH_EMU_INIT;
static struct sign_cred *g_cred;
static struct ots *g_ots;
static struct tz *g_utc;
static char g_out[256];
static char g_spool[256];
static int64_t g_now_off;	/* added to the attempt's clock */

static int64_t
run_now(void *arg)
{
	(void)arg;
	return th_now_ms() + g_now_off;
}

static void
quiet_log(void *arg, enum log_level lvl, const char *line)
{
	(void)arg;
	if (lvl == LOG_LVL_ERROR || getenv("ERRCLASS_VERBOSE") != NULL)
		printf("#   log: %s\n", line);
}

/*
 * One attempt of the job JSON through conf_job_parse + run_job.  Returns
 * run_job's code (or -EINVAL when the test's JSON does not parse); the
 * message into msg.
 */
static int
attempt(const char *json, char *msg, size_t msgsz)
{
	struct conf_diags *d = NULL;
	struct conf_job *job = NULL;
	struct param_set ps = { NULL, 0 };
	struct run_config rc_;
	struct pipe_stats st;
	struct eng_errbuf eb = { "" };
	int rc = -EINVAL;

	msg[0] = '\0';
	if (conf_diags_new(&d) != 0)
		return -ENOMEM;
	if (conf_job_parse("errc", json, strlen(json), NULL, NULL, d, &job) != 0) {
		struct buf b;

		buf_init(&b, BUF_MAX_SMALL);
		(void)conf_diags_format(d, "errc", &b);
		printf("# the test job does not parse: %s\n", b.p != NULL ? b.p : "");
		buf_free(&b);
		goto out;
	}
	memset(&rc_, 0, sizeof(rc_));
	rc_.job = job;
	rc_.params = &ps;
	rc_.tz = g_utc;
	rc_.instance = "20261125000000";
	rc_.attempt = 1;
	rc_.spool_dir = g_spool;
	rc_.log = quiet_log;
	rc_.now_ms = run_now;
	rc_.progress_ms = 60000;
	pipe_stats_init(&st);
	rc = run_job(&rc_, &st, &eb);
	snprintf(msg, msgsz, "%s", eb.msg);
	printf("# rc %d (%s): %s\n", rc, eng_strerror(rc), eb.msg);
out:
	conf_job_free(job);
	conf_diags_free(d);
	return rc;
}

/* ---- otsstream -> txtfile ------------------------------------------------- */

/* the job: reader members `reader` (",\"k\":v" form) after the connection */
static char *
ots_job(const char *secret, const char *table, int64_t start, int64_t end, const char *extra)
{
	char *s = NULL;

	if (asprintf(&s, "{\"type\": \"job\", \"version\": \"2.0\", \"configuration\": {"
	    "\"setting\": {\"errorLimit\": {\"record\": 0}, \"speed\": {\"concurrent\": 1}},"
	    "\"reader\": {\"plugin\": \"otsstream\", \"parameter\": {"
	    "\"endpoint\": \"%s\", \"accessId\": \"" AK "\", \"accessKey\": \"%s\","
	    "\"instanceName\": \"" INST "\", \"dataTable\": \"%s\", \"statusTable\": \"st_errc\","
	    "\"startTimestampMillis\": %" PRId64 ", \"endTimestampMillis\": %" PRId64 ","
	    "\"maxRetries\": 1, \"safetyMarginSeconds\": 0%s}},"
	    "\"writer\": {\"plugin\": \"txtfile\", \"parameter\": {\"path\": \"%s\","
	    "\"fileName\": \"out\", \"writeMode\": \"truncate\", \"fileFormat\": \"text\","
	    "\"fieldDelimiter\": \"|\"}}}}", g_emu.ots_url, secret, table, start, end,
	    extra != NULL ? extra : "", g_out) < 0)
		return NULL;
	return s;
}

static int
ots_attempt(const char *secret, const char *table, int64_t start, int64_t end,
    const char *extra, char *msg, size_t msgsz)
{
	char *js = ots_job(secret, table, start, end, extra);
	int rc = js != NULL ? attempt(js, msg, msgsz) : -ENOMEM;

	free(js);
	return rc;
}

static int
put_rows(int from, int n)
{
	struct plainbuf_cell pk, a;
	struct plainbuf_value pv, av;
	struct plainbuf_row row;
	struct ots_error err;
	char id[32];
	int i, rc = 0;

	for (i = from; i < from + n && rc == 0; i++) {
		snprintf(id, sizeof(id), "k%04d", i);
		pv = plainbuf_str(id);
		av = plainbuf_int(i);
		plainbuf_cell_set(&pk, "id", &pv, PLAINBUF_OP_PUT, -1);
		plainbuf_cell_set(&a, "v", &av, PLAINBUF_OP_PUT, -1);
		memset(&row, 0, sizeof(row));
		row.pk = &pk;
		row.npk = 1;
		row.attrs = &a;
		row.nattrs = 1;
		if ((rc = ots_put_row(g_ots, TABLE, &row, OTS_IGNORE, &err)) != 0)
			printf("# PutRow %s: %s %s\n", id, err.code, err.message);
	}
	return rc;
}

/* the class check every case makes */
static void
expect(int rc, int want, bool retryable, const char *msg, const char *needle, const char *what)
{
	is_rc(rc, want, "%s: %s", what, eng_strerror(want));
	is_int(eng_err_retryable(rc), retryable, "%s: %s", what,
	    retryable ? "retryable (RETRY_WAIT)" : "not retryable (FAILED at once)");
	if (needle != NULL)
		ok(strstr(msg, needle) != NULL, "%s: the message names %s", what, needle);
}

/* an attempt while every DescribeTable answers error=FAULT ("CODE,status=N") */
static void
ots_fault(const char *fault, int64_t t0, int64_t t1, int want, bool retryable)
{
	char rule[160], code[64], msg[512];
	int rc;

	snprintf(rule, sizeof(rule), "svc=ots,op=DescribeTable,error=%s", fault);
	snprintf(code, sizeof(code), "%.*s", (int)strcspn(fault, ","), fault);
	is_int(th_emu_admin(g_emu.ots_url, "fault", rule, NULL), 200, "inject %s", rule);
	rc = ots_attempt(SK, TABLE, t0, t1, NULL, msg, sizeof(msg));
	(void)th_emu_post(g_emu.ots_url, "fault/clear", "");
	expect(rc, want, retryable, msg, code, fault);
}

static void
t_ots(void)
{
	struct ots_pk_schema pk[1] = { { "id", OTS_PK_STRING, 0 } };
	struct ots_create_table ct;
	struct ots_error err;
	char msg[512];
	struct buf b;
	int64_t t0, t1, t2, now;
	int rc;

	printf("# ---- otsstream -> txtfile ----\n");
	memset(&ct, 0, sizeof(ct));
	ct.table = TABLE;
	ct.pk = pk;
	ct.npk = 1;
	ct.options.ttl = -1;
	ct.options.max_versions = 1;
	ct.options.allow_update = -1;
	ct.stream.set = 1;
	ct.stream.enable = 1;
	ct.stream.expiration_hours = 24;
	is_rc(ots_create_table(g_ots, &ct, &err), 0, "create %s with a stream (%s)", TABLE,
	    err.message);
	t0 = th_boundary();
	is_rc(put_rows(0, 5), 0, "five rows");
	t1 = th_boundary();

	/* the healthy attempt first: the setup is right, failures below are the cases' */
	rc = ots_attempt(SK, TABLE, t0, t1, NULL, msg, sizeof(msg));
	is_rc(rc, 0, "a window with the right key succeeds: %s", msg);

	rc = ots_attempt(SK, "no_such_table", t0, t1, NULL, msg, sizeof(msg));
	expect(rc, ENG_ENOTFOUND, false, msg, "OTSObjectNotExist", "missing data table");

	ct.table = "t_nostream";
	ct.stream.enable = 0;
	is_rc(ots_create_table(g_ots, &ct, &err), 0, "create t_nostream without a stream");
	rc = ots_attempt(SK, "t_nostream", t0, t1, NULL, msg, sizeof(msg));
	expect(rc, ENG_ENOTFOUND, false, msg, "not enabled", "a table without a stream");

	rc = ots_attempt("WRONGSECRET", TABLE, t0, t1, NULL, msg, sizeof(msg));
	expect(rc, ENG_ESIG, false, msg, "OTSAuthFailed", "wrong Table Store secret");

	g_now_off = 48LL * 3600000;
	rc = ots_attempt(SK, TABLE, t0, t1, NULL, msg, sizeof(msg));
	g_now_off = 0;
	expect(rc, ENG_ETRIMMED, false, msg, "retention", "start outside the stream's retention");

	now = th_now_ms();
	rc = ots_attempt(SK, TABLE, t1, now + 60000, NULL, msg, sizeof(msg));
	expect(rc, ENG_ERETRYABLE, true, msg, "safetyMarginSeconds",
	    "end later than now - safetyMarginSeconds");

	/* faults on the first call of the attempt (DescribeTable), beyond maxRetries */
	ots_fault("OTSServerBusy,status=503", t0, t1, ENG_ETHROTTLE, true);
	ots_fault("OTSInternalServerError,status=500", t0, t1, ENG_ERETRYABLE, true);
	ots_fault("OTSParameterInvalid,status=400", t0, t1, ENG_EREJECTED, false);

	/* trimmed: the window after t1 resumes from the checkpoint the first
	 * attempt stored, whose records difs-emu trims away */
	is_rc(put_rows(5, 5), 0, "five more rows");
	t2 = th_boundary();
	buf_init(&b, BUF_MAX_SMALL);
	is_int(th_emu_admin(g_emu.ots_url, "cmd", "trim " TABLE " 0", &b), 200,
	    "difs-emu trims every stream record");
	printf("# records trimmed: %s", b.p != NULL ? b.p : "?\n");
	buf_free(&b);
	rc = ots_attempt(SK, TABLE, t1, t2, NULL, msg, sizeof(msg));
	expect(rc, ENG_ETRIMMED, false, msg, "OTSTrimmedDataAccess", "checkpoint on trimmed data");
}

/* ---- stream -> oss ---------------------------------------------------------- */

static int
oss_attempt(const char *bucket, const char *secret, const char *object, char *msg,
    size_t msgsz)
{
	char *js = NULL;
	int rc;

	if (asprintf(&js, "{\"type\": \"job\", \"version\": \"2.0\", \"configuration\": {"
	    "\"setting\": {\"errorLimit\": {\"record\": 0}, \"speed\": {\"concurrent\": 1}},"
	    "\"reader\": {\"plugin\": \"stream\", \"parameter\": {\"sliceRecordCount\": 10,"
	    "  \"column\": [{\"type\": \"long\", \"incr\": \"1\"}, {\"type\": \"string\", \"value\": \"x\"}]}},"
	    "\"writer\": {\"plugin\": \"oss\", \"parameter\": {\"endpoint\": \"%s\", \"bucket\": \"%s\","
	    "  \"accessId\": \"" AK "\", \"accessKey\": \"%s\", \"object\": \"%s\","
	    "  \"writeMode\": \"truncate\", \"fileFormat\": \"csv\"}}}}",
	    g_emu.oss_url, bucket, secret, object) < 0)
		return -ENOMEM;
	rc = attempt(js, msg, msgsz);
	free(js);
	return rc;
}

static void
t_oss(void)
{
	char msg[512];
	long nf;
	int rc;

	printf("# ---- stream -> oss ----\n");
	rc = oss_attempt(BUCKET, SK, "errc/out", msg, sizeof(msg));
	is_rc(rc, 0, "the right bucket and key succeed: %s", msg);

	rc = oss_attempt("no-such-bucket", SK, "errc/out", msg, sizeof(msg));
	expect(rc, ENG_ENOTFOUND, false, msg, "NoSuchBucket", "missing bucket");

	rc = oss_attempt(BUCKET, "WRONGSECRET", "errc/out", msg, sizeof(msg));
	expect(rc, ENG_ESIG, false, msg, "SignatureDoesNotMatch", "wrong OSS secret");

	is_int(th_emu_admin(g_emu.oss_url, "fault", "svc=oss,error=AccessDenied,status=403,count=1",
	    NULL), 200, "inject AccessDenied 403 on the next OSS request");
	rc = oss_attempt(BUCKET, SK, "errc/out", msg, sizeof(msg));
	(void)th_emu_post(g_emu.oss_url, "fault/clear", "");
	expect(rc, -EACCES, false, msg, "AccessDenied", "403 AccessDenied");

	/* a 503 the client's own retries absorb never reaches the class */
	nf = th_emu_stat(g_emu.oss_url, "oss.faults");
	is_int(th_emu_admin(g_emu.oss_url, "fault",
	    "svc=oss,error=ServiceUnavailable,status=503,count=2", NULL), 200,
	    "inject two 503 ServiceUnavailable");
	rc = oss_attempt(BUCKET, SK, "errc/out", msg, sizeof(msg));
	(void)th_emu_post(g_emu.oss_url, "fault/clear", "");
	is_rc(rc, 0, "two 503s are retried inside the attempt, which succeeds: %s", msg);
	is_int(th_emu_stat(g_emu.oss_url, "oss.faults") - nf, 2, "both 503s were injected");
}

static void
t_invalid(void)
{
	char msg[512];
	int rc;

	printf("# ---- an invalid job at the attempt's start ----\n");
	rc = oss_attempt(BUCKET, SK, "errc/${no_such_param}", msg, sizeof(msg));
	expect(rc, ENG_EINVAL, false, msg, "no_such_param", "unknown ${name} after substitution");
}

int
main(int argc, char **argv)
{
	struct ots_config cfg;
	struct eng_errbuf eb = { "" };
	const struct th_emu_opts emu_opts = {
		.name = "difs-errclass",
		.access_key = AK ":" SK,
		.ots_instance = INST,
		.oss_bucket = BUCKET,
		.sync_off = true,
		.log_level = "warn",
	};

	int rc = th_emu_main_start(&g_emu, argc, argv, &emu_opts);

	if (rc == 77)
		return rc;
	if (!ok(rc == 0, "difs-emu starts with Table Store and OSS")) {
		th_emu_stop(&g_emu);
		return done_testing();
	}
	snprintf(g_out, sizeof(g_out), "%s/out", g_emu.dir);
	snprintf(g_spool, sizeof(g_spool), "%s/spool", g_emu.dir);
	(void)mkdir(g_out, 0755);
	if (tz_utc(&g_utc) != 0 || sign_cred_new(AK, SK, NULL, &g_cred) != 0) {
		ok(0, "setup");
		th_emu_stop(&g_emu);
		return done_testing();
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.endpoint = g_emu.ots_url;
	cfg.instance = INST;
	cfg.cred = g_cred;
	cfg.max_retries = 3;
	if (ots_new(&cfg, &g_ots, &eb) != 0) {
		ok(0, "Table Store client: %s", eb.msg);
	} else {
		t_ots();
		t_oss();
		t_invalid();
		ots_free(g_ots);
	}
	sign_cred_free(g_cred);
	tz_free(g_utc);
	th_emu_stop(&g_emu);
	return done_testing();
}
