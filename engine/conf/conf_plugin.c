/* SPDX-License-Identifier: MIT */
/*
 * conf_plugin.c - the plugin table (the one list of plugins: name, side,
 * source type, keys, validator; enum conf_plugin) and the reader/writer
 * "parameter" validators, one key table per plugin, mirroring DataX
 * (contrib/doc/tablestore.md 4.2, contrib/doc/oss.md 4.1):
 *   readers: otsstream (DataX otsstreamreader), stream (DataX streamreader)
 *   writers: oss (DataX osswriter), txtfile (DataX txtfilewriter)
 * plus the traps `difs check` warns about.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_i.h"
#include "name.h"

#define NKEYS(a)	(sizeof(a) / sizeof((a)[0]))
#define I64MAX		INT64_MAX

/* ---- shared pieces ------------------------------------------------------ */

static const char *
sval(const struct json *p, const char *key)
{
	return json_str(json_get(p, key));
}

/*
 * The connection: "datasource" or the inline keys, never both.  This is
 * the one place a job's source is taken: the datasource is looked up once
 * (without a lookup, prev is the one found when the job was parsed) and
 * *snap becomes a copy of it, or a source made of the inline keys: the
 * side's snapshot, owned by the job.  *snap stays NULL when the
 * datasource is not known.
 */
static void
check_connection(struct conf_ctx *c, const struct json *p, int stype,
    const char *plugin, conf_source_fn lookup, void *larg,
    const struct conf_source *prev, struct conf_source **snap)
{
	static const char *const ots_inline[] = { "endpoint", "accessId", "accessKey", "instanceName" };
	static const char *const oss_inline[] = { "endpoint", "accessId", "accessKey", "bucket" };
	const char *const *inl = stype == CONF_SRC_OTS ? ots_inline : oss_inline;
	const struct json *ds = json_get(p, "datasource");
	const char *dsn = json_str(ds);
	const struct conf_source *src;
	size_t i;

	if (ds != NULL) {
		for (i = 0; i < 4; i++)
			if (json_get(p, inl[i]) != NULL)
				conf_err(c, json_get(p, inl[i]), AT_KEY,
				    "\"%s\" is set together with \"datasource\"; use either the datasource or the inline connection (%s, %s, %s, %s)",
				    inl[i], inl[0], inl[1], inl[2], inl[3]);
		if (json_get(p, "securityToken") != NULL)
			conf_err(c, json_get(p, "securityToken"), AT_KEY,
			    "\"securityToken\" is set together with \"datasource\"; put it in the source file");
		if (dsn == NULL || *dsn == '\0' || conf_is_tmpl(c, dsn))
			return;
		if (lookup == NULL)
			src = prev;
		else if ((src = lookup(larg, dsn)) == NULL) {
			conf_err(c, ds, AT_VAL, "datasource \"%.100s\" is not among the valid sources: create or fix sources/%.100s.json (for difs check, give the source file on the command line)",
			    dsn, dsn);
			return;
		}
		if (src == NULL)
			return;
		if ((int)conf_source_type(src) != stype) {
			conf_err(c, ds, AT_VAL, "datasource \"%.100s\" is an %s source; the %s plugin needs an %s source",
			    dsn, conf_source_type(src) == CONF_SRC_OTS ? "ots" : "oss", plugin,
			    stype == CONF_SRC_OTS ? "ots" : "oss");
			return;
		}
		if (conf_source_dup(src, snap) != 0)
			c->oom = 1;
		return;
	}
	for (i = 0; i < 4; i++)
		if (json_get(p, inl[i]) == NULL)
			conf_err(c, p, AT_VAL, "%s parameter: missing \"%s\"; set \"datasource\" to a source name, or give %s, %s, %s and %s inline",
			    plugin, inl[i], inl[0], inl[1], inl[2], inl[3]);
	if (conf_source_from_inline((enum conf_src_type)stype, p, snap) != 0)
		c->oom = 1;
}

/* "{name}" without '$' in any string below n: DataX substitutes only ${name} */
static void
check_braces(struct conf_ctx *c, const struct json *n, const char *key)
{
	const struct json *m;
	const char *s = json_str(n), *p;

	if (s != NULL) {
		for (p = strchr(s, '{'); p != NULL; p = strchr(p + 1, '{')) {
			size_t k = 1;

			if (p > s && p[-1] == '$')
				continue;
			if (!isalpha((unsigned char)p[1]) && p[1] != '_')
				continue;
			while (isalnum((unsigned char)p[k]) || p[k] == '_' || p[k] == '.')
				k++;
			if (p[k] == '}')
				conf_warn(c, n, AT_VAL, "\"%.*s\" in \"%s\" is not substituted (only ${name} is); did you mean \"$%.*s\"?",
				    (int)(k + 1), p, key, (int)(k + 1), p);
		}
		return;
	}
	for (m = json_first(n); m != NULL; m = json_next(m))
		if (!conf_is_secret_key(json_key(m)))	/* never quote a secret */
			check_braces(c, m, json_key(m) != NULL ? json_key(m) : key);
}

/* encoding: a charset this system's iconv converts to */
static void
check_encoding(struct conf_ctx *c, const struct json *v)
{
	const char *s = json_str(v);
	iconv_t cd;

	if (s == NULL || *s == '\0' || conf_is_tmpl(c, s))
		return;
	cd = iconv_open(s, "UTF-8");
	if (cd == (iconv_t)-1) {
		conf_err(c, v, AT_VAL, "\"encoding\": \"%.60s\" is not a charset iconv knows (e.g. \"UTF-8\", \"GBK\", \"ISO-8859-1\")",
		    s);
		return;
	}
	iconv_close(cd);
}

/* number of UTF-8 characters in s */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* How often a parameter expression changes, in seconds (finest token). */
static int64_t
expr_granularity(const char *e)
{
	char low[256];
	size_t i;

	for (i = 0; e[i] != '\0' && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)e[i]);
	low[i] = '\0';
	if (strstr(low, "ss") != NULL || strstr(low, "cyctime") != NULL)
		return 1;
	if (strstr(low, "mi") != NULL)
		return 60;
	if (strstr(low, "hh") != NULL)
		return 3600;
	return 86400;
}

/* Finest granularity of the ${name} references in s (INT64_MAX: none). */
static int64_t
refs_granularity(const struct conf_ctx *c, const char *s)
{
	int64_t best = I64MAX, g;
	const char *p, *e;
	char name[128];

	for (p = strstr(s, "${"); p != NULL; p = strstr(p + 2, "${")) {
		const char *expr;

		if ((e = strchr(p + 2, '}')) == NULL)
			break;
		if ((size_t)(e - p - 2) >= sizeof(name))
			continue;
		memcpy(name, p + 2, (size_t)(e - p - 2));
		name[e - p - 2] = '\0';
		expr = json_str(json_get(c->params, name));
		g = expr_granularity(expr != NULL ? expr : name);
		if (g < best)
			best = g;
	}
	return best;
}

static void
check_truncate_prefix(struct conf_ctx *c, const struct json *p,
    const char *key, const char *what)
{
	const struct json *v = json_get(p, key);
	const char *wm = sval(p, "writeMode"), *s = json_str(v);
	int64_t g;

	if (!c->scheduled || c->cycle_s <= 0 || s == NULL || wm == NULL ||
	    strcmp(wm, "truncate") != 0)
		return;
	g = refs_granularity(c, s);
	if (g <= c->cycle_s)
		return;
	if (g == I64MAX)
		conf_warn(c, v, AT_VAL, "writeMode \"truncate\" deletes every %s starting with \"%s\" before each run, and this %s does not change from cycle to cycle: each cycle deletes the previous cycle's output; put a per-cycle parameter such as ${start_time} in \"%s\", or use \"nonConflict\"",
		    what, key, key, key);
	else
		conf_warn(c, v, AT_VAL, "writeMode \"truncate\" deletes every %s starting with \"%s\" before each run, and the parameters in this %s change less often than the schedule's cycle: later cycles delete earlier cycles' output; put a per-cycle parameter such as ${start_time} in \"%s\", or use \"nonConflict\"",
		    what, key, key, key);
}

/* writeMode, fileFormat, fieldDelimiter, encoding, compress, header ... */
static void
check_file_output(struct conf_ctx *c, const struct json *p, const char *plugin)
{
	static const char *const modes[] = { "truncate", "append", "nonConflict" };
	static const char *const formats[] = { "csv", "text" };
	const struct json *wm = json_get(p, "writeMode"), *ff = json_get(p, "fileFormat");
	const struct json *fd = json_get(p, "fieldDelimiter"), *cp = json_get(p, "compress");
	const struct json *hd = json_get(p, "header"), *m, *sf = json_get(p, "suffix");
	const char *s, *sug, *fmt = "text";
	char trimmed[64];
	struct eng_errbuf eb;

	eb.msg[0] = '\0';
	if ((s = json_str(sf)) != NULL && name_field_check(NULL, "suffix", NAME_F_SUFFIX, s, &eb) != 0)
		conf_err(c, sf, AT_VAL, "%s", eb.msg);
	if ((s = json_str(wm)) != NULL && !conf_is_tmpl(c, s)) {
		size_t b = strspn(s, " \t"), n = strlen(s + b);

		while (n > 0 && (s[b + n - 1] == ' ' || s[b + n - 1] == '\t'))
			n--;
		snprintf(trimmed, sizeof(trimmed), "%.*s", (int)(n < 63 ? n : 63), s + b);
		if (strcmp(trimmed, "truncate") != 0 && strcmp(trimmed, "append") != 0 &&
		    strcmp(trimmed, "nonConflict") != 0) {
			if ((sug = conf_suggest(trimmed, modes, 3)) != NULL)
				conf_err(c, wm, AT_VAL, "\"writeMode\": \"%.60s\" is not supported; did you mean \"%s\"? (truncate, append or nonConflict)",
				    s, sug);
			else
				conf_err(c, wm, AT_VAL, "\"writeMode\": \"%.60s\" is not supported; use truncate, append or nonConflict",
				    s);
		}
	}
	if ((s = json_str(ff)) != NULL && !conf_is_tmpl(c, s)) {
		if (strcmp(s, "csv") == 0 || strcmp(s, "text") == 0)
			fmt = s;
		else if (strcmp(s, "sql") == 0 || strcmp(s, "parquet") == 0 || strcmp(s, "orc") == 0)
			conf_err(c, ff, AT_VAL, "\"fileFormat\": \"%s\" is not supported by difs; use \"csv\" or \"text\"", s);
		else if ((sug = conf_suggest(s, formats, 2)) != NULL)
			conf_err(c, ff, AT_VAL, "\"fileFormat\": \"%.60s\" is not supported; did you mean \"%s\"?", s, sug);
		else
			conf_err(c, ff, AT_VAL, "\"fileFormat\": \"%.60s\" is not supported; use \"csv\" or \"text\"", s);
	}
	if ((s = json_str(fd)) != NULL && !conf_is_tmpl(c, s)) {
		if (strcmp(fmt, "csv") == 0 && utf8_chars(s) != 1)
			conf_err(c, fd, AT_VAL, "\"fieldDelimiter\" must be exactly one character for fileFormat \"csv\" (got %zu)",
			    utf8_chars(s));
		else if (*s == '\0')
			conf_err(c, fd, AT_VAL, "\"fieldDelimiter\" must not be empty");
	}
	check_encoding(c, json_get(p, "encoding"));
	if (cp != NULL && !(json_str(cp) != NULL && json_str(cp)[strspn(json_str(cp), " \t")] == '\0')) {
		if (strcmp(plugin, "oss") == 0)
			conf_err(c, cp, AT_KEY, "\"compress\" is not supported: OSS writes do not support compression (DataX's osswriter rejects it too); remove \"compress\"");
		else
			conf_err(c, cp, AT_KEY, "\"compress\" is not supported by the txtfile writer; remove \"compress\"");
	}
	for (m = json_first(hd); m != NULL; m = json_next(m))
		if (json_type(m) != JSON_STRING)
			conf_err(c, m, AT_VAL, "\"header\" entries must be strings (the column titles)");
}

/* ---- otsstream ---------------------------------------------------------- */

static const struct conf_key otsstream_keys[] = {
	{ "datasource",              VT_NESTR,  0, 0, 0, NULL },
	{ "endpoint",                VT_URL,    0, 0, 0, NULL },
	{ "accessId",                VT_NESTR,  0, 0, 0, NULL },
	{ "accessKey",               VT_SECRET, 0, 0, 0, NULL },
	{ "instanceName",            VT_NESTR,  0, 0, 0, NULL },
	{ "securityToken",           VT_SECRET, 0, 0, 0, NULL },
	{ "dataTable",               VT_NESTR,  KF_REQ, 0, 0, "the Table Store table to export" },
	{ "statusTable",             VT_NESTR,  KF_REQ, 0, 0, "the default \"TableStoreStreamReaderStatusTable\" is recommended" },
	{ "startTimestampMillis",    VT_ANY,    0, 0, 0, NULL },
	{ "endTimestampMillis",      VT_ANY,    0, 0, 0, NULL },
	{ "startTimeString",         VT_ANY,    0, 0, 0, NULL },
	{ "endTimeString",           VT_ANY,    0, 0, 0, NULL },
	{ "date",                    VT_ANY,    0, 0, 0, NULL },
	{ "isExportSequenceInfo",    VT_BOOL,   0, 0, 0, NULL },
	{ "enableSeekIterator",      VT_BOOL,   0, 0, 0, NULL },
	{ "confSimplifyEnable",      VT_BOOL,   0, 0, 0, NULL },
	{ "enableTableGroupSupport", VT_BOOL,   0, 0, 0, NULL },
	{ "threadNum",               VT_INT,    0, 1, 1024, NULL },
	{ "maxRetries",              VT_INT,    0, 0, 10000, NULL },
	{ "mode",                    VT_ANY,    0, 0, 0, NULL },
	{ "column",                  VT_ARR,    0, 0, 0, NULL },
	{ "isTimeseriesTable",       VT_BOOL,   0, 0, 0, NULL },
	{ "safetyMarginSeconds",     VT_INT,    0, 0, I64MAX, NULL },
};

static const struct conf_key otscol_keys[] = {
	{ "name",              VT_NESTR, KF_REQ, 0, 0, NULL },
	{ "is_timeseries_tag", VT_BOOL,  0,      0, 0, NULL },
};

/* A time bound: kind 1 = epoch millis, 2 = yyyyMMddHHmmss, 3 = yyyyMMdd. */
struct tbound {
	const struct json	*v;
	int			 kind;
	int64_t			 ms;
	char			 stamp[15];
};

static void
check_bound(struct conf_ctx *c, const struct json *v, const char *key,
    int want, struct tbound *b)
{
	const char *s = json_str(v);
	char tmp[32];
	int64_t iv;
	size_t n;

	b->v = v;
	b->kind = 0;
	if (v == NULL)
		return;
	if (s != NULL && conf_is_tmpl(c, s))
		return;
	if (s != NULL)
		snprintf(tmp, sizeof(tmp), "%s", s);
	else if (conf_val_int(v, &iv) == 0)
		snprintf(tmp, sizeof(tmp), "%lld", (long long)iv);
	else
		tmp[0] = '\0';
	n = strlen(tmp);
	if (want == 1) {
		if (n == 14 && conf_valid_stamp(tmp, 14)) {
			b->kind = 2;
			memcpy(b->stamp, tmp, 15);
		} else if (conf_parse_i64(tmp, &iv) == 0 && iv >= 0) {
			b->kind = 1;
			b->ms = iv;
		} else
			conf_err(c, v, AT_VAL, "\"%s\" must be epoch milliseconds (e.g. 1764043200000), a yyyyMMddHHmmss time, or a parameter such as ${%s}",
			    key, strncmp(key, "start", 5) == 0 ? "start_time" : "end_time");
	} else if (want == 2) {
		if (n == 14 && conf_valid_stamp(tmp, 14)) {
			b->kind = 2;
			memcpy(b->stamp, tmp, 15);
		} else
			conf_err(c, v, AT_VAL, "\"%s\" must be a yyyyMMddHHmmss time (e.g. 20261125115500) or a parameter such as ${%s}",
			    key, strncmp(key, "start", 5) == 0 ? "start_time" : "end_time");
	} else {
		if (n == 8 && conf_valid_stamp(tmp, 8))
			b->kind = 3;
		else
			conf_err(c, v, AT_VAL, "\"date\" must be a day as yyyyMMdd (e.g. 20261124) or a parameter such as ${date}");
	}
}

static void
check_time_range(struct conf_ctx *c, const struct json *p)
{
	const struct json *d = json_get(p, "date");
	const struct json *ms = json_get(p, "startTimestampMillis"), *me = json_get(p, "endTimestampMillis");
	const struct json *ss = json_get(p, "startTimeString"), *se = json_get(p, "endTimeString");
	struct tbound bs, be, bd;
	const char *first = NULL;
	int groups = 0;

	if (d != NULL) {
		groups++;
		first = "date";
	}
	if (ms != NULL || me != NULL) {
		if (groups++ > 0)
			conf_err(c, ms ? ms : me, AT_KEY, "\"%s\" cannot be combined with \"%s\": give the time range one way only (date, start/endTimestampMillis or start/endTimeString)",
			    ms ? "startTimestampMillis" : "endTimestampMillis", first);
		else
			first = ms ? "startTimestampMillis" : "endTimestampMillis";
	}
	if (ss != NULL || se != NULL) {
		if (groups++ > 0)
			conf_err(c, ss ? ss : se, AT_KEY, "\"%s\" cannot be combined with \"%s\": give the time range one way only (date, start/endTimestampMillis or start/endTimeString)",
			    ss ? "startTimeString" : "endTimeString", first);
	}
	if (groups == 0)
		conf_err(c, p, AT_VAL, "otsstream parameter: missing time range: set \"startTimestampMillis\" and \"endTimestampMillis\" (e.g. ${start_time} and ${end_time}), or \"startTimeString\" and \"endTimeString\", or \"date\"");
	if ((ms == NULL) != (me == NULL))
		conf_err(c, ms ? ms : me, AT_KEY, "\"%s\" needs \"%s\" too",
		    ms ? "startTimestampMillis" : "endTimestampMillis",
		    ms ? "endTimestampMillis" : "startTimestampMillis");
	if ((ss == NULL) != (se == NULL))
		conf_err(c, ss ? ss : se, AT_KEY, "\"%s\" needs \"%s\" too",
		    ss ? "startTimeString" : "endTimeString",
		    ss ? "endTimeString" : "startTimeString");
	check_bound(c, d, "date", 3, &bd);
	check_bound(c, ms, "startTimestampMillis", 1, &bs);
	check_bound(c, me, "endTimestampMillis", 1, &be);
	if (bs.kind != 0 && bs.kind == be.kind &&
	    (bs.kind == 1 ? bs.ms >= be.ms : strcmp(bs.stamp, be.stamp) >= 0))
		conf_err(c, me, AT_VAL, "\"endTimestampMillis\" must be larger than \"startTimestampMillis\" (the window is [start, end))");
	check_bound(c, ss, "startTimeString", 2, &bs);
	check_bound(c, se, "endTimeString", 2, &be);
	if (bs.kind != 0 && be.kind != 0 && strcmp(bs.stamp, be.stamp) >= 0)
		conf_err(c, se, AT_VAL, "\"endTimeString\" must be later than \"startTimeString\" (the window is [start, end))");
}

static void
check_otsstream(struct conf_ctx *c, const struct json *p)
{
	const struct json *mode = json_get(p, "mode"), *col = json_get(p, "column");
	const struct json *seq = json_get(p, "isExportSequenceInfo");
	const struct json *ts = json_get(p, "isTimeseriesTable"), *m;
	const char *ms = json_str(mode);
	bool row = false, bv;

	check_time_range(c, p);
	if (mode != NULL) {
		if (ms != NULL && conf_is_tmpl(c, ms))
			return;
		if (ms != NULL && strcasecmp(ms, "single_version_and_update_only") == 0)
			row = true;
		else
			conf_err(c, mode, AT_VAL, "unsupported \"mode\": use \"single_version_and_update_only\" (one line per row, with \"column\") or remove \"mode\" (multi-version mode: one line per cell version)");
	}
	if (row && seq != NULL && conf_val_bool(seq, &bv) == 0 && bv)
		conf_err(c, seq, AT_VAL, "\"isExportSequenceInfo\" must be false in single_version_and_update_only mode");
	if (mode == NULL && col != NULL)
		conf_err(c, col, AT_KEY, "\"column\" is only used in single_version_and_update_only mode (DataX ignores it in multi-version mode); add \"mode\": \"single_version_and_update_only\" or remove \"column\"");
	if (mode == NULL && ts != NULL)
		conf_err(c, ts, AT_KEY, "\"isTimeseriesTable\" is only used in single_version_and_update_only mode");
	if (row && col == NULL)
		conf_err(c, mode, AT_VAL, "single_version_and_update_only mode needs \"column\": the columns to export, e.g. [{\"name\": \"uid\"}, {\"name\": \"name\"}]");
	if (row && json_type(col) == JSON_ARRAY && json_size(col) == 0)
		conf_err(c, col, AT_VAL, "\"column\" must list at least one column, e.g. [{\"name\": \"uid\"}]");
	if (json_type(col) != JSON_ARRAY)
		return;
	for (m = json_first(col); m != NULL; m = json_next(m)) {
		if (json_type(m) != JSON_OBJECT) {
			conf_err(c, m, AT_VAL, "\"column\" entries are objects like {\"name\": \"uid\"}");
			continue;
		}
		conf_check_keys(c, m, otscol_keys, NKEYS(otscol_keys), "column entry");
	}
}

/* ---- stream ------------------------------------------------------------- */

static const struct conf_key stream_keys[] = {
	{ "column",           VT_ARR, KF_REQ, 0, 0, "a list of constants like {\"type\": \"long\", \"value\": \"1\"}" },
	{ "sliceRecordCount", VT_INT, KF_REQ, 0, I64MAX, "how many records each channel produces" },
};

static const struct conf_key streamcol_keys[] = {
	{ "type",       VT_NESTR, KF_REQ, 0, 0, "long, double, string, date, bool or bytes" },
	{ "value",      VT_ANY,   0, 0, 0, NULL },
	{ "random",     VT_NESTR, 0, 0, 0, NULL },
	{ "incr",       VT_ANY,   0, 0, 0, NULL },
	{ "dateFormat", VT_NESTR, 0, 0, 0, NULL },
};

static void
check_stream(struct conf_ctx *c, const struct json *p)
{
	static const char *const types[] = { "long", "double", "string", "date", "bool", "bytes" };
	const struct json *m, *t, *v;
	const char *ts, *sug;
	size_t i;

	if (json_type(json_get(p, "column")) == JSON_ARRAY && json_size(json_get(p, "column")) == 0)
		conf_err(c, json_get(p, "column"), AT_VAL, "\"column\" must list at least one column, e.g. [{\"type\": \"string\", \"value\": \"hello\"}]");
	for (m = json_first(json_get(p, "column")); m != NULL; m = json_next(m)) {
		int ti = -1;
		double dv;
		int64_t iv;
		bool bv;

		if (json_type(json_get(p, "column")) != JSON_ARRAY)
			break;
		if (json_type(m) != JSON_OBJECT) {
			conf_err(c, m, AT_VAL, "\"column\" entries are objects like {\"type\": \"string\", \"value\": \"hello\"}");
			continue;
		}
		conf_check_keys(c, m, streamcol_keys, NKEYS(streamcol_keys), "column entry");
		t = json_get(m, "type");
		v = json_get(m, "value");
		if ((ts = json_str(t)) == NULL || conf_is_tmpl(c, ts))
			continue;
		for (i = 0; i < NKEYS(types); i++)
			if (strcasecmp(ts, types[i]) == 0)
				ti = (int)i;
		if (ti < 0) {
			if ((sug = conf_suggest(ts, types, NKEYS(types))) != NULL)
				conf_err(c, t, AT_VAL, "unknown column type \"%.40s\"; did you mean \"%s\"?", ts, sug);
			else
				conf_err(c, t, AT_VAL, "unknown column type \"%.40s\"; use long, double, string, date, bool or bytes", ts);
			continue;
		}
		if (v == NULL && json_get(m, "random") == NULL && json_get(m, "incr") == NULL) {
			conf_err(c, m, AT_VAL, "column entry needs \"value\" (or \"random\"/\"incr\")");
			continue;
		}
		if (v == NULL || json_type(v) == JSON_NULL ||
		    (json_str(v) != NULL && conf_is_tmpl(c, json_str(v))))
			continue;
		if ((ti == 0 && conf_val_int(v, &iv) != 0) || (ti == 1 && conf_val_num(v, &dv) != 0) ||
		    (ti == 4 && conf_val_bool(v, &bv) != 0))
			conf_err(c, v, AT_VAL, "\"value\" is not a valid %s", types[ti]);
	}
}

/* ---- oss ---------------------------------------------------------------- */

static const struct conf_key oss_keys[] = {
	{ "datasource",        VT_NESTR,  0, 0, 0, NULL },
	{ "endpoint",          VT_URL,    0, 0, 0, NULL },
	{ "accessId",          VT_NESTR,  0, 0, 0, NULL },
	{ "accessKey",         VT_SECRET, 0, 0, 0, NULL },
	{ "securityToken",     VT_SECRET, 0, 0, 0, NULL },
	{ "bucket",            VT_NESTR,  0, 0, 0, NULL },
	{ "region",            VT_NESTR,  0, 0, 0, NULL },
	{ "signatureVersion",  VT_NESTR,  0, 0, 0, NULL },
	{ "object",            VT_NESTR,  KF_REQ, 0, 0, "the object name prefix, e.g. \"instance/table/${date}/${start_time}\"" },
	{ "writeMode",         VT_NESTR,  KF_REQ, 0, 0, "truncate, append or nonConflict" },
	{ "fileFormat",        VT_NESTR,  0, 0, 0, NULL },
	{ "fieldDelimiter",    VT_STR,    0, 0, 0, NULL },
	{ "lineDelimiter",     VT_NESTR,  0, 0, 0, NULL },
	{ "encoding",          VT_NESTR,  0, 0, 0, NULL },
	{ "nullFormat",        VT_STR,    0, 0, 0, NULL },
	{ "dateFormat",        VT_NESTR,  0, 0, 0, NULL },
	{ "header",            VT_ARR,    0, 0, 0, NULL },
	{ "maxFileSize",       VT_INT,    0, 1, I64MAX, "in MB" },
	{ "blockSizeInMB",     VT_INT,    0, 1, 5120, "the part size in MB" },
	{ "suffix",            VT_STR,    0, 0, 0, NULL },
	{ "compress",          VT_ANY,    0, 0, 0, NULL },
	{ "writeSingleObject", VT_BOOL,   0, 0, 0, NULL },
	{ "generateEmptyFile", VT_BOOL,   0, 0, 0, NULL },
	{ "encrypt",           VT_BOOL,   0, 0, 0, NULL },
	{ "partition",         VT_ARR,    0, 0, 0, NULL },
	{ "byteEncoding",      VT_NESTR,  0, 0, 0, NULL },
	{ "csvWriterConfig",   VT_OBJ,    0, 0, 0, NULL },
};

static void
check_oss(struct conf_ctx *c, const struct json *p)
{
	const struct json *obj = json_get(p, "object"), *be = json_get(p, "byteEncoding");
	const struct json *sv = json_get(p, "signatureVersion");
	const char *os = json_str(obj), *wm = sval(p, "writeMode");
	struct eng_errbuf eb;
	bool single = false;

	check_file_output(c, p, "oss");
	conf_source_check_oss_inline(c, p);
	conf_check_sigver(c, sv);
	if (json_str(be) != NULL && strcmp(json_str(be), "base64") != 0)
		conf_err(c, be, AT_VAL, "\"byteEncoding\" can only be \"base64\" (default: bytes written as a raw string)");
	/* the writer's own rule for keys (name.h), so check and run agree */
	eb.msg[0] = '\0';
	if (os != NULL && name_field_check(NULL, "object", NAME_F_KEY, os, &eb) != 0)
		conf_err(c, obj, AT_VAL, "%s", eb.msg);
	else if (os != NULL && strstr(os, "//") != NULL)
		conf_warn(c, obj, AT_VAL, "\"object\" contains \"//\": OSS has no empty directories, so it is written with one '/'");
	if (json_get(p, "nullFormat") == NULL)
		conf_warn(c, p, AT_VAL, "oss parameter: \"nullFormat\" is not set, so null values are written as the literal string null (DataX's behaviour); set \"nullFormat\": \"\" for empty fields");
	if (conf_val_bool(json_get(p, "writeSingleObject"), &single) == 0 && single &&
	    wm != NULL && strcmp(wm, "append") == 0)
		conf_err(c, json_get(p, "writeMode"), AT_VAL, "writeMode \"append\" cannot be used with \"writeSingleObject\": true (DataX: Illegal value); use truncate or nonConflict");
	check_truncate_prefix(c, p, "object", "object");
}

/* ---- txtfile ------------------------------------------------------------ */

static const struct conf_key txtfile_keys[] = {
	{ "path",           VT_NESTR, KF_REQ, 0, 0, "the output directory" },
	{ "fileName",       VT_NESTR, KF_REQ, 0, 0, "the file name prefix" },
	{ "writeMode",      VT_NESTR, KF_REQ, 0, 0, "truncate, append or nonConflict" },
	{ "fileFormat",     VT_NESTR, 0, 0, 0, NULL },
	{ "fieldDelimiter", VT_STR,   0, 0, 0, NULL },
	{ "lineDelimiter",  VT_NESTR, 0, 0, 0, NULL },
	{ "encoding",       VT_NESTR, 0, 0, 0, NULL },
	{ "nullFormat",     VT_STR,   0, 0, 0, NULL },
	{ "dateFormat",     VT_NESTR, 0, 0, 0, NULL },
	{ "header",         VT_ARR,   0, 0, 0, NULL },
	{ "suffix",         VT_STR,   0, 0, 0, NULL },
	{ "compress",       VT_ANY,   0, 0, 0, NULL },
};

static void
check_txtfile(struct conf_ctx *c, const struct json *p)
{
	const struct json *fn = json_get(p, "fileName"), *pa = json_get(p, "path");
	const char *s = json_str(fn);
	struct eng_errbuf eb;

	check_file_output(c, p, "txtfile");
	eb.msg[0] = '\0';
	if (s != NULL && strchr(s, '/') != NULL)
		conf_err(c, fn, AT_VAL, "\"fileName\" must not contain '/'; put directories in \"path\"");
	else if (s != NULL && name_field_check(NULL, "fileName", NAME_F_COMPONENT, s, &eb) != 0)
		conf_err(c, fn, AT_VAL, "%s", eb.msg);
	if (json_str(pa) != NULL && name_field_check(NULL, "path", NAME_F_PATH, json_str(pa), &eb) != 0)
		conf_err(c, pa, AT_VAL, "%s", eb.msg);
	check_truncate_prefix(c, p, "fileName", "file");
}

/* ---- the plugin table ---------------------------------------------------- */

/*
 * The one list of plugins: name, side, the source type of its connection,
 * its parameter keys and its validator.  The runner's registry
 * (engine/run/registry.c) maps each id to its ops; tests/unit/test_registry
 * checks that both lists agree.
 */
struct plugin_def {
	const char		*name;
	enum conf_side		 side;
	int			 src;		/* enum conf_src_type, 0: none */
	const struct conf_key	*keys;
	size_t			 nkeys;
	void			(*check)(struct conf_ctx *, const struct json *);
};

static const struct plugin_def plugin_defs[CONF_PLUGIN_END] = {
	[CONF_PLUGIN_OTSSTREAM] = { "otsstream", CONF_READER, CONF_SRC_OTS,
	    otsstream_keys, NKEYS(otsstream_keys), check_otsstream },
	[CONF_PLUGIN_STREAM] = { "stream", CONF_READER, 0,
	    stream_keys, NKEYS(stream_keys), check_stream },
	[CONF_PLUGIN_OSS] = { "oss", CONF_WRITER, CONF_SRC_OSS,
	    oss_keys, NKEYS(oss_keys), check_oss },
	[CONF_PLUGIN_TXTFILE] = { "txtfile", CONF_WRITER, 0,
	    txtfile_keys, NKEYS(txtfile_keys), check_txtfile },
};

static const struct plugin_def *
plugin_def(enum conf_plugin id)
{
	if ((int)id <= (int)CONF_PLUGIN_NONE || (int)id >= (int)CONF_PLUGIN_END)
		return NULL;
	return &plugin_defs[id];
}

enum conf_plugin
conf_plugin_find(enum conf_side side, const char *name)
{
	int i;

	for (i = CONF_PLUGIN_NONE + 1; name != NULL && i < CONF_PLUGIN_END; i++)
		if (plugin_defs[i].side == side && strcmp(plugin_defs[i].name, name) == 0)
			return (enum conf_plugin)i;
	return CONF_PLUGIN_NONE;
}

const char *
conf_plugin_name(enum conf_plugin id)
{
	const struct plugin_def *d = plugin_def(id);

	return d != NULL ? d->name : NULL;
}

enum conf_side
conf_plugin_side(enum conf_plugin id)
{
	const struct plugin_def *d = plugin_def(id);

	return d != NULL ? d->side : CONF_READER;
}

int
conf_plugin_source_type(enum conf_plugin id)
{
	const struct plugin_def *d = plugin_def(id);

	return d != NULL ? d->src : 0;
}

size_t
conf_plugin_list(enum conf_side side, const char **names, size_t max)
{
	size_t n = 0;
	int i;

	for (i = CONF_PLUGIN_NONE + 1; i < CONF_PLUGIN_END; i++)
		if (plugin_defs[i].side == side && n < max)
			names[n++] = plugin_defs[i].name;
	return n;
}

void
conf_plugin_names(enum conf_side side, char *out, size_t outsz)
{
	const char *names[CONF_PLUGIN_END];
	size_t n = conf_plugin_list(side, names, CONF_PLUGIN_END), i, len = 0;
	int k;

	if (outsz == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < n && len < outsz; i++) {
		k = snprintf(out + len, outsz - len, "%s\"%s\"", i > 0 ? ", " : "", names[i]);
		if (k < 0)
			break;
		len += (size_t)k;
	}
}

void
conf_plugin_check(struct conf_ctx *c, enum conf_plugin id,
    const struct json *param, conf_source_fn lookup, void *larg,
    const struct conf_source *prev, struct conf_source **snap)
{
	const struct plugin_def *d = plugin_def(id);
	char what[64];

	if (d == NULL || json_type(param) != JSON_OBJECT)
		return;
	(void)snprintf(what, sizeof(what), "%s parameter", d->name);
	conf_check_keys(c, param, d->keys, d->nkeys, what);
	d->check(c, param);
	if (d->src != 0)
		check_connection(c, param, d->src, d->name, lookup, larg, prev, snap);
	check_braces(c, param, "parameter");
}
