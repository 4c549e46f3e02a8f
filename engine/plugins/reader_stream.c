/* SPDX-License-Identifier: MIT */
/*
 * reader_stream.c - the `stream` reader (DataX streamreader): every task
 * emits sliceRecordCount records built from `column` constants.
 *
 * Parameters: column = [{type, value | random | incr, dateFormat}],
 * sliceRecordCount (records per task; tasks = channels, so a run emits
 * channels x sliceRecordCount records, as DataX does).
 * Types: long, double, string, bool (boolean), date, bytes; a column
 * without value (or value null) is a null.
 * Differences from DataX, deliberate and documented: `random` draws from a
 * PRNG seeded with the task number, so a rerun emits the same records;
 * `incr` is "start[,step]" for long and "dateString[,step[,unit]]" for date
 * (unit d, h, m or s; default d).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

enum stream_kind { SK_VALUE, SK_RANDOM, SK_INCR, SK_NULL };

struct stream_col {
	enum rec_type	 type;
	enum stream_kind kind;
	int64_t		 l;		/**< long value / incr start / random min */
	int64_t		 l2;		/**< random max / incr step */
	double		 d, d2;
	char		*s;		/**< string/bytes value */
	size_t		 n;
};

struct stream_job {
	const struct plugin_env	*env;
	struct stream_col	*cols;
	size_t			 ncols;
	int64_t			 slice;		/**< records per task */
	int			 ntasks;
};

/* parse "yyyy-MM-dd HH:mm:ss"-style text with a pattern of y M d H m s S */
static int
stream_parse_date(const struct plugin_env *env, const char *pat, const char *s,
    int64_t *ms)
{
	struct tz_tm tm;
	int64_t utc;
	long msec = 0;
	int rc;

	memset(&tm, 0, sizeof(tm));
	tm.mon = 1;
	tm.mday = 1;
	while (*pat != '\0') {
		char ch = *pat;
		int n = 1;
		long v = 0;
		int digits = 0;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))) {
			if (*s != ch)
				return ENG_EINVAL;
			pat++;
			s++;
			continue;
		}
		while (pat[n] == ch)
			n++;
		pat += n;
		/* adjacent numeric fields ("yyyyMMdd") take exactly n digits */
		int fixed = (pat[0] >= 'a' && pat[0] <= 'z') || (pat[0] >= 'A' && pat[0] <= 'Z');

		while (*s >= '0' && *s <= '9' && (!fixed || digits < n)) {
			v = v * 10 + (*s - '0');
			s++;
			if (++digits > 9)
				return ENG_EINVAL;
		}
		if (digits == 0)
			return ENG_EINVAL;
		switch (ch) {
		case 'y': tm.year = v; break;
		case 'M': tm.mon = (int)v; break;
		case 'd': tm.mday = (int)v; break;
		case 'H': tm.hour = (int)v; break;
		case 'm': tm.min = (int)v; break;
		case 's': tm.sec = (int)v; break;
		case 'S': msec = v; break;
		default: return ENG_EINVAL;
		}
	}
	if (*s != '\0' || tm.mon < 1 || tm.mon > 12 || tm.mday < 1 ||
	    tm.mday > tz_days_in_month(tm.year, tm.mon) || tm.hour > 23 ||
	    tm.min > 59 || tm.sec > 60 || msec > 999)
		return ENG_EINVAL;
	if ((rc = tz_to_utc(env->tz, &tm, &utc, NULL)) != 0)
		return rc;
	*ms = utc * 1000 + msec;
	return 0;
}

static int
stream_type(const char *t, enum rec_type *out)
{
	static const struct { const char *name; enum rec_type type; } map[] = {
		{ "long", REC_LONG }, { "int", REC_LONG }, { "double", REC_DOUBLE },
		{ "string", REC_STRING }, { "bool", REC_BOOL }, { "boolean", REC_BOOL },
		{ "date", REC_DATE }, { "bytes", REC_BYTES },
	};
	size_t i;

	for (i = 0; t != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasecmp(t, map[i].name) == 0) {
			*out = map[i].type;
			return 0;
		}
	return ENG_EINVAL;
}

static int
stream_num_pair(const char *s, double *a, double *b)
{
	char *end;

	errno = 0;
	*a = strtod(s, &end);
	if (end == s || errno != 0)
		return ENG_EINVAL;
	*b = 1;
	if (*end == '\0')
		return 0;
	if (*end != ',')
		return ENG_EINVAL;
	s = end + 1;
	*b = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0)
		return ENG_EINVAL;
	return 0;
}

static int
stream_col_parse(const struct plugin_env *env, const struct json *c, size_t idx,
    struct stream_col *col, struct eng_errbuf *eb)
{
	const char *type = json_str(json_get(c, "type"));
	const struct json *vn = json_get(c, "value");
	const char *rnd = json_str(json_get(c, "random"));
	const char *inc = json_str(json_get(c, "incr"));
	const char *fmt = plugin_param_str(c, "dateFormat", "yyyy-MM-dd HH:mm:ss");
	char vbuf[64];
	const char *v = json_str(vn);
	double a, b;

	if (stream_type(type, &col->type) != 0)
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "column[%zu].type '%s' is not one of long, double, string, bool, date, bytes",
		    idx, type != NULL ? type : "");
	if (v == NULL && json_num(vn, &a) == 0) {
		(void)snprintf(vbuf, sizeof(vbuf), "%.17g", a);
		v = vbuf;
	} else if (v == NULL && json_type(vn) == JSON_BOOL) {
		bool bv = false;

		(void)json_bool(vn, &bv);
		v = bv ? "true" : "false";
	}
	if (rnd != NULL) {
		col->kind = SK_RANDOM;
		if (col->type == REC_DATE || col->type == REC_BOOL)
			return eng_errbuf_set(eb, ENG_EINVAL,
			    "column[%zu]: random is supported for long, double, string and bytes", idx);
		if (stream_num_pair(rnd, &a, &b) != 0 || b < a)
			return eng_errbuf_set(eb, ENG_EINVAL,
			    "column[%zu].random must be \"min,max\" with min <= max", idx);
		col->d = a;
		col->d2 = b;
		col->l = (int64_t)a;
		col->l2 = (int64_t)b;
		return 0;
	}
	if (inc != NULL) {
		col->kind = SK_INCR;
		if (col->type == REC_LONG) {
			if (stream_num_pair(inc, &a, &b) != 0)
				return eng_errbuf_set(eb, ENG_EINVAL,
				    "column[%zu].incr must be \"start[,step]\"", idx);
			col->l = (int64_t)a;
			col->l2 = (int64_t)b;
			return 0;
		}
		if (col->type == REC_DATE) {
			char tmp[128];
			char *c1, *c2;
			int64_t unit = 86400000;

			(void)snprintf(tmp, sizeof(tmp), "%s", inc);
			c1 = strchr(tmp, ',');
			col->l2 = 1;
			if (c1 != NULL) {
				*c1++ = '\0';
				c2 = strchr(c1, ',');
				if (c2 != NULL) {
					*c2++ = '\0';
					if (strcmp(c2, "h") == 0)
						unit = 3600000;
					else if (strcmp(c2, "m") == 0)
						unit = 60000;
					else if (strcmp(c2, "s") == 0)
						unit = 1000;
					else if (strcmp(c2, "d") != 0)
						return eng_errbuf_set(eb, ENG_EINVAL,
						    "column[%zu].incr unit must be d, h, m or s", idx);
				}
				col->l2 = strtoll(c1, NULL, 10);
			}
			col->l2 *= unit;
			if (stream_parse_date(env, fmt, tmp, &col->l) != 0)
				return eng_errbuf_set(eb, ENG_EINVAL,
				    "column[%zu].incr date '%s' does not match dateFormat '%s'",
				    idx, tmp, fmt);
			return 0;
		}
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "column[%zu]: incr is supported for long and date", idx);
	}
	if (v == NULL) {
		col->kind = SK_NULL;
		return 0;
	}
	col->kind = SK_VALUE;
	switch (col->type) {
	case REC_LONG: {
		char *end;

		errno = 0;
		col->l = strtoll(v, &end, 10);
		if (end == v || *end != '\0' || errno != 0)
			return eng_errbuf_set(eb, ENG_EINVAL,
			    "column[%zu].value '%s' is not a long", idx, v);
		return 0;
	}
	case REC_DOUBLE: {
		char *end;

		col->d = strtod(v, &end);
		if (end == v || *end != '\0')
			return eng_errbuf_set(eb, ENG_EINVAL,
			    "column[%zu].value '%s' is not a double", idx, v);
		return 0;
	}
	case REC_BOOL:
		if (strcasecmp(v, "true") != 0 && strcasecmp(v, "false") != 0)
			return eng_errbuf_set(eb, ENG_EINVAL,
			    "column[%zu].value '%s' is not true or false", idx, v);
		col->l = strcasecmp(v, "true") == 0;
		return 0;
	case REC_DATE:
		if (stream_parse_date(env, fmt, v, &col->l) != 0)
			return eng_errbuf_set(eb, ENG_EINVAL,
			    "column[%zu].value '%s' does not match dateFormat '%s'", idx, v, fmt);
		return 0;
	default:
		col->n = strlen(v);
		if ((col->s = strdup(v)) == NULL)
			return -ENOMEM;
		return 0;
	}
}

static void
stream_job_close(void *p)
{
	struct stream_job *j = p;
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->ncols; i++)
		free(j->cols[i].s);
	free(j->cols);
	free(j);
}

static int
stream_job_open(const struct plugin_env *env, const struct json *param, void **out,
    struct eng_errbuf *eb)
{
	struct stream_job *j;
	const struct json *cols = json_get(param, "column"), *c;
	size_t i = 0;
	int rc;

	*out = NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -ENOMEM;
	j->env = env;
	if ((rc = plugin_param_int(param, "sliceRecordCount", -1, &j->slice, eb)) != 0)
		goto out;
	rc = ENG_EINVAL;
	if (j->slice < 0) {
		eng_errbuf_set(eb, rc, "stream reader: sliceRecordCount is required (records per channel)");
		goto out;
	}
	if (json_type(cols) != JSON_ARRAY || json_size(cols) == 0) {
		eng_errbuf_set(eb, rc, "stream reader: column must be a non-empty array");
		goto out;
	}
	rc = -ENOMEM;
	if ((j->cols = calloc(json_size(cols), sizeof(*j->cols))) == NULL)
		goto out;
	for (c = json_first(cols); c != NULL; c = json_next(c), i++) {
		j->ncols++;
		if ((rc = stream_col_parse(env, c, i, &j->cols[i], eb)) != 0)
			goto out;
	}
	*out = j;
	j = NULL;
	rc = 0;
out:
	stream_job_close(j);
	return rc;
}

static int
stream_job_split(void *p, int advice, int *ntasks, struct eng_errbuf *eb)
{
	struct stream_job *j = p;

	(void)eb;
	j->ntasks = advice > 0 ? advice : 1;
	*ntasks = j->ntasks;
	return 0;
}

/* splitmix64: small, fast, good enough for test data */
static uint64_t
stream_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static int
stream_task_run(void *p, int task, struct plugin_sender *out, struct eng_errbuf *eb)
{
	struct stream_job *j = p;
	struct record r;
	uint64_t seed = (uint64_t)task * 0x100000001B3ULL + 1;
	char rs[256];
	int64_t i;
	size_t k;
	int rc = 0;

	(void)eb;
	record_init(&r);
	for (i = 0; i < j->slice && rc == 0; i++) {
		for (k = 0; k < j->ncols && rc == 0; k++) {
			const struct stream_col *c = &j->cols[k];

			switch (c->kind) {
			case SK_NULL:
				rc = record_add_null(&r);
				break;
			case SK_INCR:
				if (c->type == REC_LONG)
					rc = record_add_long(&r, c->l + i * c->l2);
				else
					rc = record_add_date(&r, c->l + i * c->l2);
				break;
			case SK_RANDOM: {
				uint64_t x = stream_rand(&seed);

				if (c->type == REC_LONG) {
					uint64_t span = (uint64_t)(c->l2 - c->l) + 1;

					rc = record_add_long(&r, c->l + (int64_t)(span != 0 ? x % span : x));
				} else if (c->type == REC_DOUBLE) {
					rc = record_add_double(&r, c->d +
					    (c->d2 - c->d) * ((double)(x >> 11) / 9007199254740992.0));
				} else {
					size_t len = (size_t)(c->l + (int64_t)(x % (uint64_t)(c->l2 - c->l + 1)));
					size_t m;

					if (len > sizeof(rs))
						len = sizeof(rs);
					for (m = 0; m < len; m++)
						rs[m] = (char)('a' + stream_rand(&seed) % 26);
					rc = c->type == REC_BYTES ? record_add_bytes(&r, rs, len) :
					    record_add_string(&r, rs, len);
				}
				break;
			}
			case SK_VALUE:
				switch (c->type) {
				case REC_LONG: rc = record_add_long(&r, c->l); break;
				case REC_DOUBLE: rc = record_add_double(&r, c->d); break;
				case REC_BOOL: rc = record_add_bool(&r, (int)c->l); break;
				case REC_DATE: rc = record_add_date(&r, c->l); break;
				case REC_BYTES: rc = record_add_bytes(&r, c->s, c->n); break;
				default: rc = record_add_string(&r, c->s, c->n); break;
				}
				break;
			}
		}
		if (rc == 0)
			rc = plugin_send(out, &r);
		if (rc == 0 && plugin_cancelled(j->env))
			rc = ENG_EKILLED;
	}
	record_free(&r);
	return rc;
}

const struct reader_ops reader_stream_ops = {
	.job_open	= stream_job_open,
	.job_split	= stream_job_split,
	.task_run	= stream_task_run,
	.job_commit	= NULL,
	.job_close	= stream_job_close,
};
