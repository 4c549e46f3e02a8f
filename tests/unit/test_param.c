/* SPDX-License-Identifier: MIT */
/*
 * test_param.c - DataWorks scheduling parameters, table-driven.
 * argv[1] is the directory of real TZif files (tests/fuzz/corpus/tz).
 * Expected values: contrib/doc/scheduling.md 1.7 (doc and reference-evaluator
 * rows), plus month/year ends, leap days and DST cases worked out by hand.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "param.h"
#include "tap.h"

static const char *corpus = "tests/fuzz/corpus/tz";

#define SH "Asia/Shanghai"
#define NY "America/New_York"

struct pcase {
	const char *expr;
	const char *zone;
	const char *cyc;	/* local time in zone, YYYYMMDDHHMMSS */
	const char *want;
};

static const struct pcase cases[] = {
	/* contrib/doc/scheduling.md 1.7 */
	{ "${yyyymmdd}", SH, "20251101000000", "20251031" },
	{ "$bizdate", SH, "20251101000000", "20251031" },
	{ "$[yyyymmddhh24miss]", SH, "20251101000000", "20251101000000" },
	{ "$cyctime", SH, "20251101000000", "20251101000000" },
	{ "$[yyyymmdd]", SH, "20251101000000", "20251101" },
	{ "$[yyyymmdd-1]", SH, "20251101000000", "20251031" },
	{ "${yyyymmdd-1}", SH, "20251101000000", "20251030" },
	{ "${yyyy-mm-dd}", SH, "20251101000000", "2025-10-31" },
	{ "$[yyyy-mm-dd]", SH, "20251101000000", "2025-11-01" },
	{ "$[yyyy-mm-dd-1]", SH, "20251101000000", "2025-10-31" },
	{ "$[hh24-1/24]", SH, "20251101000000", "23" },
	{ "$[yyyymmddhh24-1/24]", SH, "20251101000000", "2025103123" },
	{ "$[add_months(yyyymmdd,-1)]", SH, "20251101000000", "20251001" },
	{ "${yyyymm-1}", SH, "20251101000000", "202509" },
	{ "$[yyyymm-1]", SH, "20251101000000", "202510" },
	{ "${yyyy-1}", SH, "20251101000000", "2024" },
	{ "$[yyyymmdd-7*1]", SH, "20251101000000", "20251025" },
	{ "${yyyymmdd}", SH, "20221122010000", "20221121" },
	{ "$[yyyymmddhh24miss]", SH, "20221122010000", "20221122010000" },
	{ "${yyyymmdd}", SH, "20240315020000", "20240314" },
	{ "$[add_months(yyyymmdd,-1)]", SH, "20240331100000", "20240229" },
	{ "$[add_months(yyyymmdd,-12)]", SH, "20240331100000", "20230331" },
	{ "$[yyyy-mm]", SH, "20250727000500", "2025-07" },
	{ "$[mm]", SH, "20250727000500", "07" },
	{ "$[yyyy-15/24/60]", SH, "20250727000500", "2025" },
	{ "$[yyyymm-15/24/60]", SH, "20250727000500", "202507" },
	{ "$[yyyymmdd-15/24/60]", SH, "20250727000500", "20250726" },
	{ "$[hh24mi-15/24/60]", SH, "20250727000500", "2350" },
	{ "$[yyyymmdd+7*1]", SH, "20210909204550", "20210916" },
	{ "$[yyyymmddhh24miss-1/24]", SH, "20210909204550", "20210909194550" },
	{ "$[yyyymmddhh24miss-5/24/60/60]", SH, "20210909204550", "20210909204545" },
	{ "$[yyyymmdd-1]", SH, "20260929020000", "20260928" },
	{ "${yyyymmdd}", SH, "20260929020000", "20260928" },
	{ "${yyyymmdd-1}", SH, "20260929020000", "20260927" },
	/* the seed's three parameters at several cycle times */
	{ "$[yyyymmddhh24miss-10/24/60]", SH, "20261125120500", "20261125115500" },
	{ "$[yyyymmddhh24miss-5/24/60]", SH, "20261125120500", "20261125120000" },
	{ "${bdp.system.bizdate}", SH, "20261125120500", "20261124" },
	{ "$[yyyymmddhh24miss-10/24/60]", SH, "20251101103500", "20251101102500" },
	{ "$[yyyymmddhh24miss-5/24/60]", SH, "20251101103500", "20251101103000" },
	{ "${bdp.system.bizdate}", SH, "20251101103500", "20251031" },
	{ "$[yyyymmddhh24miss-10/24/60]", SH, "20251101000500", "20251031235500" },
	{ "$[yyyymmddhh24miss-5/24/60]", SH, "20251101000500", "20251101000000" },
	{ "${bdp.system.bizdate}", SH, "20251101000500", "20251031" },
	{ "$[yyyymmddhh24miss-10/24/60]", SH, "20251101000000", "20251031235000" },
	{ "$[yyyymmddhh24miss-5/24/60]", SH, "20251101000000", "20251031235500" },
	{ "${bdp.system.bizdate}", SH, "20251101000000", "20251031" },
	{ "$[yyyymmddhh24miss-10/24/60]", SH, "20240301001000", "20240301000000" },
	{ "$[yyyymmddhh24miss-5/24/60]", SH, "20240301001000", "20240301000500" },
	{ "${bdp.system.bizdate}", SH, "20240301001000", "20240229" },
	{ "$[yyyymmddhh24miss-10/24/60]", SH, "20251231235500", "20251231234500" },
	{ "$[yyyymmddhh24miss-5/24/60]", SH, "20251231235500", "20251231235000" },
	{ "${bdp.system.bizdate}", SH, "20251231235500", "20251230" },
	{ "$[yyyymmddhh24miss-10/24/60]", "UTC", "20261125040500", "20261125035500" },
	{ "${bdp.system.bizdate}", "UTC", "20261125040500", "20261124" },
	/* year ends */
	{ "$[yyyymmddhh24miss-5/24/60]", SH, "20260101000000", "20251231235500" },
	{ "${yyyymmdd}", SH, "20260101000000", "20251231" },
	{ "$[yyyy-1]", SH, "20260101000000", "2025" },
	{ "${yyyy}", SH, "20260101000000", "2025" },
	{ "$[yyyymmddhh24miss+1/24/60/60]", SH, "20251231235959", "20260101000000" },
	/* leap days; 2100 is not a leap year */
	{ "${yyyy-mm-dd}", SH, "20240301000000", "2024-02-29" },
	{ "${yyyymmdd}", SH, "21000301000000", "21000228" },
	{ "$[yyyymmdd+1]", SH, "20240229120000", "20240301" },
	{ "$[yyyymmdd+1]", SH, "21000228120000", "21000301" },
	{ "$[add_months(yyyymmdd,12)]", SH, "20240229120000", "20250228" },
	{ "$[add_months(yyyymmdd,+48)]", SH, "20240229120000", "20280229" },
	{ "$[add_months(yyyy-mm-dd,1)]", SH, "20240131000000", "2024-02-29" },
	{ "$[add_months(yyyymmdd,1)]", SH, "21000131000000", "21000228" },
	{ "$[add_months(yyyymmdd,-1)]", SH, "20250331000000", "20250228" },
	{ "$[add_months(yyyymmdd,-1)]", SH, "20240115000000", "20231215" },
	{ "$[add_months(yyyymmddhh24miss,-12*2)]", SH, "20240115083000", "20220115083000" },
	{ "$[yyyymmdd+36500]", SH, "20000101000000", "20991207" },
	/* month ends with ${} units */
	{ "${yyyymm-1}", SH, "20250301000000", "202501" },
	{ "${yyyymmdd+1}", SH, "20250331000000", "20250331" },
	{ "${yyyymm+1}", SH, "20250101000000", "202501" },
	{ "${yyyy+1}", SH, "20250101000000", "2025" },
	{ "${yyyymmdd-7*2}", SH, "20250101000000", "20241217" },
	{ "$[yyyymmdd-30]", SH, "20250501000000", "20250401" },
	/* tokens, separators, case, 12-hour clock */
	{ "$[hh12:mi]", SH, "20251101153000", "03:30" },
	{ "$[hh]", SH, "20251101000000", "12" },
	{ "$[hh24:mi:ss]", SH, "20251101153045", "15:30:45" },
	{ "$[yy/mm/dd]", SH, "20251101153045", "25/11/01" },
	{ "$[YYYYMMDD]", SH, "20251101153045", "20251101" },
	{ "$[yyyy.mm.dd_hh24]", SH, "20251101153045", "2025.11.01_15" },
	{ "$[hh24miss-1/7]", SH, "20251101153045", "120503" },
	/* mixed text and several expressions */
	{ "prefix/$[yyyymmdd]/x", SH, "20251101153045", "prefix/20251101/x" },
	{ "a=${yyyymmdd} b=$[hh24mi] ${user}", SH, "20251101153045", "a=20251031 b=1530 ${user}" },
	{ "${start_time}", SH, "20251101153045", "${start_time}" },
	{ "plain", SH, "20251101153045", "plain" },
	{ "", SH, "20251101153045", "" },
	{ "$5 and $ and $$", SH, "20251101153045", "$5 and $ and $$" },
	{ "$bizdatex $bizdate.", SH, "20251101153045", "$bizdatex 20251031." },
	/* built-in names */
	{ "${bdp.system.cyctime}", SH, "20251101153045", "20251101153045" },
	{ "${cyctime}", SH, "20251101153045", "20251101153045" },
	{ "${bizdate}", SH, "20251101153045", "20251031" },
	{ "$gmtdate", SH, "20251101153045", "20251101" },
	{ "$bizmonth", SH, "20251101153045", "202510" },
	{ "$bizmonth", SH, "20251115000000", "202510" },
	{ "${bizmonth}", SH, "20250101000000", "202412" },
	/* DST (America/New_York): sub-day offsets are elapsed time,
	 * whole days move the calendar date and keep the wall-clock time */
	{ "$[yyyymmddhh24miss-1/24]", NY, "20250309033000", "20250309013000" },
	{ "$[hh24mi-5/24/60]", NY, "20250309030000", "0155" },
	{ "$[yyyymmddhh24miss-1]", NY, "20250310023000", "20250309033000" },
	{ "$[hh24mi+1/24]", NY, "20251102013000", "0130" },
	{ "$[yyyymmddhh24miss-1]", NY, "20251103120000", "20251102120000" },
	{ "${yyyymmdd}", NY, "20251102000500", "20251101" },
	{ "$[yyyymmddhh24miss-10/24/60]", NY, "20251102030000", "20251102025000" },
	{ "$[yyyymmddhh24miss-10/24/60]", NY, "20250309030500", "20250309015500" },
};

struct ecase {
	const char *expr;
	const char *msg;	/* substring of the error message */
};

static const struct ecase errs[] = {
	{ "$[yyyymmdd", "column 1: unterminated '$['" },
	{ "ab$[]", "column 3: empty expression" },
	{ "$[yyyymmddhh24mis]", "column 17: not a date/time format token" },
	{ "$[zz]", "'$[zz]' at column 3" },
	{ "$[yyyymmdd-1x]", "column 13: unexpected character" },
	{ "$[yyyymmdd-1/0]", "division by zero" },
	{ "${hh24miss}", "no time of day" },
	{ "${yyyymmdd-1/24}", "whole days" },
	{ "$[add_months(yyyymmdd,x)]", "expected a number" },
	{ "$[add_months(yyyymmdd)]", "add_months(FORMAT,N)" },
	{ "$[add_months(yyyymmdd,1/2)]", "whole number of months" },
	{ "$[add_months(zz,1)]", "not a date/time format token" },
	{ "${}", "empty ${}" },
	{ "x${yyyymmdd", "column 2: unterminated '${'" },
	{ "$[yyyymmdd-99999999999999]", "too large" },
	{ "$[-1]", "missing format" },
	{ "$[yyyymmdd+1-1]", "unexpected character" },
	{ "$[yyyymmdd-3000000]", "outside years" },
	{ "$[yyyymmdd-1/24/]", "expected a number" },
};

static struct tz *
load(const char *zone)
{
	char path[512], file[128];
	struct eng_errbuf eb;
	struct tz *tz = NULL;
	FILE *fp;
	long n;
	char *p;
	size_t i;

	if (strcmp(zone, "UTC") == 0) {
		(void)tz_utc(&tz);
		return tz;
	}
	snprintf(file, sizeof(file), "%s", zone);
	for (i = 0; file[i] != '\0'; i++)
		if (file[i] == '/')
			file[i] = '_';
	snprintf(path, sizeof(path), "%s/%s", corpus, file);
	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	p = malloc((size_t)n);
	if (p != NULL && fread(p, 1, (size_t)n, fp) == (size_t)n)
		(void)tz_parse(zone, p, (size_t)n, &tz, &eb);
	free(p);
	fclose(fp);
	return tz;
}

/* local YYYYMMDDHHMMSS -> instant (overlap: earlier) */
static int
cyc_of(const struct tz *tz, const char *s, int64_t *t)
{
	struct tz_tm lt;
	enum tz_local_kind kind;
	char d[8];

	memset(&lt, 0, sizeof(lt));
	memcpy(d, s, 4); d[4] = '\0'; lt.year = strtol(d, NULL, 10);
	memcpy(d, s + 4, 2); d[2] = '\0'; lt.mon = (int)strtol(d, NULL, 10);
	memcpy(d, s + 6, 2); lt.mday = (int)strtol(d, NULL, 10);
	memcpy(d, s + 8, 2); lt.hour = (int)strtol(d, NULL, 10);
	memcpy(d, s + 10, 2); lt.min = (int)strtol(d, NULL, 10);
	memcpy(d, s + 12, 2); lt.sec = (int)strtol(d, NULL, 10);
	if (tz_to_utc(tz, &lt, t, &kind) != 0 || kind == TZ_LOCAL_GAP)
		return -1;
	return 0;
}

static void
test_table(struct tz *sh, struct tz *ny, struct tz *u)
{
	struct eng_errbuf eb;
	struct buf out;
	size_t i;

	buf_init(&out, BUF_MAX_SMALL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		struct tz *tz = strcmp(c->zone, SH) == 0 ? sh :
		    strcmp(c->zone, NY) == 0 ? ny : u;
		int64_t t;
		int rc;

		if (tz == NULL || cyc_of(tz, c->cyc, &t) != 0) {
			ok(0, "case %zu: cannot set up cycle %s in %s", i, c->cyc, c->zone);
			continue;
		}
		buf_reset(&out);
		eb.msg[0] = '\0';
		rc = param_eval(c->expr, strlen(c->expr), tz, t, &out, &eb);
		if (rc != 0)
			printf("# %s\n", eb.msg);
		is_str(rc == 0 ? out.p : "(error)", c->want, "%-36s %s %s", c->expr,
		    c->zone, c->cyc);
	}
	buf_free(&out);
}

static void
test_errors(struct tz *sh)
{
	struct eng_errbuf eb;
	struct buf out;
	int64_t t;
	size_t i;

	if (cyc_of(sh, "20251101000000", &t) != 0)
		return;
	buf_init(&out, BUF_MAX_SMALL);
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		buf_reset(&out);
		eb.msg[0] = '\0';
		is_rc(param_eval(errs[i].expr, strlen(errs[i].expr), sh, t, &out, &eb),
		    ENG_EINVAL, "error: %s", errs[i].expr);
		ok(strstr(eb.msg, errs[i].msg) != NULL, "message for %s has '%s': %s",
		    errs[i].expr, errs[i].msg, eb.msg);
	}
	/* the message names the whole offending expression */
	buf_reset(&out);
	(void)param_eval("ok $[yyyymmdd-1/0] x", 20, sh, t, &out, &eb);
	ok(strstr(eb.msg, "'$[yyyymmdd-1/0]'") != NULL, "expression quoted: %s", eb.msg);
	/* bounded output */
	{
		struct buf small;

		buf_init(&small, 4);
		is_rc(param_eval("$[yyyymmdd]", 11, sh, t, &small, &eb), -E2BIG,
		    "output bound respected");
		buf_free(&small);
	}
	buf_free(&out);
}

static void
test_builtin_ref(void)
{
	static const struct { const char *b; int want; } refs[] = {
		{ "yyyymmdd", 1 }, { "yyyymmdd-1", 1 }, { "yyyy-mm-dd", 1 },
		{ "bdp.system.bizdate", 1 }, { "bdp.system.cyctime", 1 },
		{ "bizdate", 1 }, { "cyctime", 1 }, { "hh24miss", 1 },
		{ "date", 0 }, { "start_time", 0 }, { "end_time", 0 },
		{ "foo.bar", 0 }, { "bdp.system.other", 0 }, { "x", 0 }, { "", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
		is_int(param_is_builtin_ref(refs[i].b, strlen(refs[i].b)), refs[i].want,
		    "builtin_ref(%s)", refs[i].b);
}

static void
test_resolve_all(struct tz *sh)
{
	static const struct param_kv seed[] = {
		{ "start_time", "$[yyyymmddhh24miss-10/24/60]" },
		{ "end_time", "$[yyyymmddhh24miss-5/24/60]" },
		{ "date", "${bdp.system.bizdate}" },
		{ "constant", "hello world" },
	};
	struct param_kv bad[2];
	struct param_set s = { NULL, 0 };
	struct eng_errbuf eb;
	int64_t t;

	if (cyc_of(sh, "20261125120500", &t) != 0)
		return;
	is_rc(param_resolve_all(seed, 4, sh, t, &s, &eb), 0, "seed parameters resolve");
	is_int(s.n, 4, "four results");
	is_str(param_set_get(&s, "start_time"), "20261125115500", "start_time");
	is_str(param_set_get(&s, "end_time"), "20261125120000", "end_time");
	is_str(param_set_get(&s, "date"), "20261124", "date");
	is_str(param_set_get(&s, "constant"), "hello world", "constant kept");
	ok(param_set_get(&s, "nope") == NULL, "unknown name -> NULL");
	if (s.n == 4)
		is_str(s.v[0].name, "start_time", "input order kept");

	/* substitution into a job string with the resolved set */
	{
		const char *tpl = "gmt_modified >= '${start_time}' and < '${end_time}' /${date}/";
		struct buf out;

		buf_init(&out, BUF_MAX_SMALL);
		is_rc(param_substitute(tpl, strlen(tpl), param_set_lookup, &s, &out, &eb),
		    0, "substitute");
		is_str(out.p, "gmt_modified >= '20261125115500' and < '20261125120000' "
		    "/20261124/", "substituted job string");
		buf_reset(&out);
		is_rc(param_substitute("${missing}", 10, param_set_lookup, &s, &out, &eb),
		    ENG_EINVAL, "unknown reference");
		is_str(eb.msg, "unknown parameter ${missing} at column 1 (define it in "
		    "schedule.params)", "unknown reference message");
		buf_free(&out);
	}
	param_set_free(&s);
	is_int(s.n, 0, "set emptied");
	param_set_free(&s);

	bad[0] = (struct param_kv){ "a", "1" };
	bad[1] = (struct param_kv){ "a", "2" };
	is_rc(param_resolve_all(bad, 2, sh, t, &s, &eb), ENG_EINVAL, "duplicate name");
	ok(strstr(eb.msg, "defined twice") != NULL, "dup message: %s", eb.msg);
	ok(s.v == NULL && s.n == 0, "out empty on error");
	bad[0] = (struct param_kv){ "1abc", "1" };
	is_rc(param_resolve_all(bad, 1, sh, t, &s, &eb), ENG_EINVAL, "bad name");
	bad[0] = (struct param_kv){ "a-b", "1" };
	is_rc(param_resolve_all(bad, 1, sh, t, &s, &eb), ENG_EINVAL, "dash in name");
	bad[0] = (struct param_kv){ "x", "${start_time}" };
	is_rc(param_resolve_all(bad, 1, sh, t, &s, &eb), ENG_EINVAL, "reference to a parameter");
	ok(strstr(eb.msg, "parameter 'x'") != NULL && strstr(eb.msg, "${start_time}") != NULL,
	    "reference message: %s", eb.msg);
	bad[0] = (struct param_kv){ "y", "$[yyyymmdd-1/0]" };
	is_rc(param_resolve_all(bad, 1, sh, t, &s, &eb), ENG_EINVAL, "bad expression");
	ok(strncmp(eb.msg, "parameter 'y': bad scheduling expression", 40) == 0,
	    "prefixed message: %s", eb.msg);
	is_rc(param_resolve_all(NULL, 0, sh, t, &s, &eb), 0, "empty list");
	is_int(s.n, 0, "no results");
}

static int
fail_lookup(void *arg, const char *name, size_t len, const char **val, size_t *vlen)
{
	(void)arg;
	if (len == 2 && memcmp(name, "ok", 2) == 0) {
		*val = "${ok}";	/* not re-scanned */
		*vlen = 5;
		return 0;
	}
	if (len == 3 && memcmp(name, "a.b", 3) == 0) {
		*val = "dotted";
		*vlen = 6;
		return 0;
	}
	return len == 4 && memcmp(name, "boom", 4) == 0 ? -EIO : -ENOENT;
}

static void
test_substitute(void)
{
	static const struct { const char *in, *want; int rc; } sc[] = {
		{ "no refs at all", "no refs at all", 0 },
		{ "${ok}${ok}", "${ok}${ok}", 0 },
		{ "$ok $5 $", "$ok $5 $", 0 },
		{ "$${ok}", "${ok}", 0 },
		{ "x${a.b}y", "xdottedy", 0 },
		{ "", "", 0 },
		{ "${nope}", NULL, ENG_EINVAL },
		{ "abc${ok", NULL, ENG_EINVAL },
		{ "${}", NULL, ENG_EINVAL },
		{ "${a b}", NULL, ENG_EINVAL },
		{ "${boom}", NULL, -EIO },
	};
	struct eng_errbuf eb;
	struct buf out;
	size_t i;

	buf_init(&out, BUF_MAX_SMALL);
	for (i = 0; i < sizeof(sc) / sizeof(sc[0]); i++) {
		int rc;

		buf_reset(&out);
		rc = param_substitute(sc[i].in, strlen(sc[i].in), fail_lookup, NULL,
		    &out, &eb);
		is_rc(rc, sc[i].rc, "substitute '%s' rc", sc[i].in);
		if (sc[i].want != NULL && rc == 0)
			is_str(out.p, sc[i].want, "substitute '%s'", sc[i].in);
	}
	buf_reset(&out);
	(void)param_substitute("abc${ok", 7, fail_lookup, NULL, &out, &eb);
	ok(strstr(eb.msg, "column 4") != NULL, "unterminated column: %s", eb.msg);
	buf_free(&out);
}

int
main(int argc, char **argv)
{
	struct tz *sh, *ny, *u = NULL;

	if (argc > 1)
		corpus = argv[1];
	sh = load(SH);
	ny = load(NY);
	(void)tz_utc(&u);
	ok(sh != NULL && ny != NULL && u != NULL, "zones load from %s", corpus);
	ok(sizeof(cases) / sizeof(cases[0]) >= 60, "at least 60 table cases (%zu)",
	    sizeof(cases) / sizeof(cases[0]));
	if (sh != NULL && ny != NULL && u != NULL) {
		test_table(sh, ny, u);
		test_errors(sh);
		test_resolve_all(sh);
	}
	test_builtin_ref();
	test_substitute();
	tz_free(sh);
	tz_free(ny);
	tz_free(u);
	return done_testing();
}
