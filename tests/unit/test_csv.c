/* SPDX-License-Identifier: MIT */
/*
 * test_csv.c - the DataX CSV/text rules (contrib/doc/oss.md 4.5, verified
 * against DataX's Java DataXCsvWriter) and Java number/date formatting.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "tap.h"

/* a column spec: 'N' null, 'S' string, 'L' long */
static void
encode2(struct csv *c, char t0, const char *v0, const char *v1, const char *want,
    const char *name)
{
	struct record r;
	struct buf out;
	int rc;

	record_init(&r);
	buf_init(&out, 1 << 20);
	if (t0 == 'N')
		rc = record_add_null(&r);
	else
		rc = record_add_string(&r, v0, strlen(v0));
	rc |= record_add_string(&r, v1, strlen(v1));
	rc |= csv_encode(c, &r, &out);
	is_int(rc, 0, "%s: encodes", name);
	is_str(out.p, want, "%s", name);
	buf_free(&out);
	record_free(&r);
}

static void
dbl(double d, const char *want)
{
	struct buf b;

	buf_init(&b, 256);
	is_int(csv_java_double(d, &b), 0, "double %.17g formats", d);
	is_str(b.p, want, "double %.17g", d);
	buf_free(&b);
}

static void
date(const char *pat, int64_t ms, const char *want)
{
	struct buf b;

	buf_init(&b, 256);
	is_int(csv_date_format(pat, ms, NULL, NULL, &b), 0, "date '%s' formats", pat);
	is_str(b.p, want, "date '%s' at %lld", pat, (long long)ms);
	buf_free(&b);
}

static int
utc8(void *arg, int64_t utc, struct tm *out, long *gmtoff)
{
	time_t t = (time_t)(utc + 8 * 3600);

	(void)arg;
	gmtime_r(&t, out);
	*gmtoff = 8 * 3600;
	return 0;
}

int
main(void)
{
	struct csv_config cfg = { .format = CSV_FMT_CSV };
	struct eng_errbuf eb;
	struct csv *c;
	struct record r;
	struct buf out;
	const char *hdr[] = { "uid", "na,me", "#x" };

	is_int(csv_new(&cfg, &c, &eb), 0, "csv encoder with defaults");
	/* the DataX table, row by row */
	encode2(c, 'S', "1", "plain", "1,plain\n", "plain");
	encode2(c, 'S', "2", "a,b", "2,\"a,b\"\n", "delimiter quoted");
	encode2(c, 'S', "3", "say \"hi\"", "3,\"say \"\"hi\"\"\"\n", "quote doubled");
	encode2(c, 'S', "4", "two\nlines", "4,\"two\nlines\"\n", "newline quoted");
	encode2(c, 'S', "5", "cr\ronly", "5,cr\ronly\n", "lone CR not quoted");
	encode2(c, 'S', "", "x", "\"\",x\n", "empty first column quoted");
	encode2(c, 'S', "#c", "y", "\"#c\",y\n", "first column starting with # quoted");
	encode2(c, 'S', "6", "  padded  ", "6,padded\n", "trimmed");
	encode2(c, 'S', "7", "", "7,\n", "empty later column not quoted");
	encode2(c, 'N', NULL, "z", "null,z\n", "null as literal null");
	encode2(c, 'S', "\tt\001", "q", "t,q\n", "control characters trimmed");
	encode2(c, 'S', "   ", "w", "\"\",w\n", "blank first column trims to empty, quoted");
	encode2(c, 'S', "x", "#notfirst", "x,#notfirst\n", "# only matters in the first column");

	record_init(&r);
	buf_init(&out, 1 << 20);
	is_int(csv_encode(c, &r, &out), 0, "empty record");
	is_int(out.len, 0, "empty record writes nothing");
	record_add_long(&r, -42);
	record_add_double(&r, 1.5);
	record_add_bool(&r, 1);
	record_add_bytes(&r, "b\"y", 3);
	record_add_date(&r, 0);
	is_int(csv_encode(c, &r, &out), 0, "typed record");
	is_str(out.p, "-42,1.5,true,\"b\"\"y\",1970-01-01 00:00:00\n", "typed values as DataX asString");
	buf_reset(&out);
	is_int(csv_encode_strings(c, hdr, 3, &out), 0, "header");
	is_str(out.p, "uid,\"na,me\",#x\n", "header uses the same rules");
	csv_free(c);

	/* \r\n: difs writes the whole delimiter (DataX writes only \r) */
	cfg.line_delim = "\r\n";
	is_int(csv_new(&cfg, &c, &eb), 0, "crlf encoder");
	encode2(c, 'S', "a", "b", "a,b\r\n", "crlf ends lines with CRLF");
	encode2(c, 'S', "a", "b\rc", "a,\"b\rc\"\r\n", "CR quoted when it is part of the line delimiter");
	csv_free(c);

	/* text format: no trimming, no quoting */
	cfg.format = CSV_FMT_TEXT;
	cfg.line_delim = NULL;
	cfg.field_delim = "||";
	cfg.null_format = "\\N";
	is_int(csv_new(&cfg, &c, &eb), 0, "text encoder with a two-character delimiter");
	encode2(c, 'S', " a,\"b ", "c", " a,\"b ||c\n", "text: joined as is");
	encode2(c, 'N', NULL, "", "\\N||\n", "text: nullFormat");
	csv_free(c);

	/* bad configurations */
	cfg.format = CSV_FMT_CSV;
	cfg.field_delim = "ab";
	memset(&eb, 0, sizeof(eb));
	is_int(csv_new(&cfg, &c, &eb), ENG_EINVAL, "csv delimiter of two characters refused");
	ok(strstr(eb.msg, "fieldDelimiter") != NULL, "message names fieldDelimiter: %s", eb.msg);
	cfg.field_delim = "\xe4\xb8\xa8";	/* one CJK character, three bytes */
	is_int(csv_new(&cfg, &c, &eb), 0, "a one-character multibyte delimiter is fine");
	csv_free(c);
	cfg.field_delim = NULL;
	cfg.encoding = "NO-SUCH-CHARSET";
	is_int(csv_new(&cfg, &c, &eb), ENG_EINVAL, "unknown charset refused");
	ok(strstr(eb.msg, "NO-SUCH-CHARSET") != NULL, "message names the charset");
	cfg.encoding = NULL;
	cfg.date_format = "yyyy-MM-dd Q";
	is_int(csv_new(&cfg, &c, &eb), ENG_EINVAL, "unsupported date letter refused");
	cfg.date_format = NULL;

	/* GBK output and a dirty value */
	cfg.encoding = "GBK";
	is_int(csv_new(&cfg, &c, &eb), 0, "GBK encoder");
	encode2(c, 'S', "\xe4\xb8\xad", "x", "\xd6\xd0,x\n", "UTF-8 to GBK");
	record_clear(&r);
	buf_reset(&out);
	record_add_string(&r, "\xf0\x9f\x98\x80", 4);	/* emoji: not in GBK */
	is_int(csv_encode(c, &r, &out), -EILSEQ, "unrepresentable value is a dirty record");
	is_int(out.len, 0, "nothing appended for a dirty record");
	csv_free(c);
	cfg.encoding = NULL;

	/* dates in a zone, and patterns */
	cfg.date_format = "yyyyMMdd'T'HHmmss.SSSXXX";
	cfg.localtime = utc8;
	is_int(csv_new(&cfg, &c, &eb), 0, "zoned date encoder");
	record_clear(&r);
	buf_reset(&out);
	record_add_date(&r, 1764043500123LL);
	is_int(csv_encode(c, &r, &out), 0, "zoned date");
	is_str(out.p, "20251125T120500.123+08:00\n", "date in UTC+8 with millis and offset");
	csv_free(c);
	date("yyyy-MM-dd HH:mm:ss", 951782400000LL, "2000-02-29 00:00:00");
	date("yy/M/d h:mm a", 1700000000000LL, "23/11/14 10:13 PM");
	date("EEE, dd MMM yyyy", 0, "Thu, 01 Jan 1970");
	date("EEEE MMMM D", 86400000LL * 40, "Tuesday February 41");
	date("''yyyy''", 0, "'1970'");
	date("HH:mm:ss.S", -1, "23:59:59.999");

	/* Java Double.toString + BigDecimal.toPlainString */
	dbl(1.0, "1.0");
	dbl(0.1, "0.1");
	dbl(-2.5, "-2.5");
	dbl(100.0, "100.0");
	dbl(1234567.0, "1234567.0");
	dbl(1e7, "10000000");
	dbl(1e10, "10000000000");
	dbl(1.234e-5, "0.00001234");
	dbl(1e-7, "0.00000010");
	dbl(0.001, "0.001");
	dbl(0.0001, "0.00010");
	dbl(123456789.123, "123456789.123");
	dbl(-0.0, "0.0");
	dbl(3.141592653589793, "3.141592653589793");
	dbl(NAN, "NaN");
	dbl(INFINITY, "Infinity");
	dbl(-INFINITY, "-Infinity");

	record_free(&r);
	buf_free(&out);
	return done_testing();
}
