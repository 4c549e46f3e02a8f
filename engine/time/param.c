/* SPDX-License-Identifier: MIT */
/*
 * param.c - DataWorks scheduling parameters ($[...], ${...}, $bizdate, ...)
 * and strict ${name} substitution.  Semantics are documented in param.h;
 * facts come from contrib/doc/scheduling.md 1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "param.h"

#define PARAM_BUF_MAX	BUF_MAX_SMALL
/* offsets beyond ~10000 years are certainly mistakes; keeps math in int64 */
#define PARAM_MAX_SECS	((int64_t)400000000000LL)

enum param_tok {
	TOK_NONE = 0,
	TOK_YYYY, TOK_YY, TOK_MM, TOK_DD, TOK_HH24, TOK_HH12, TOK_MI, TOK_SS,
	TOK_SEP,
};

/* the ${...} classes */
enum param_class {
	CLASS_USER = 0,		/* a user parameter reference */
	CLASS_NAME,		/* bdp.system.bizdate, bizdate, ... */
	CLASS_FMT,		/* a date format, maybe with an offset */
};

static int
param_lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static int
param_isdigit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static int
param_isword(int ch)
{
	return param_isdigit(ch) || ch == '_' || (ch >= 'a' && ch <= 'z') ||
	    (ch >= 'A' && ch <= 'Z');
}

static int
param_prefix(const char *s, size_t n, const char *lit)
{
	size_t i, l = strlen(lit);

	if (n < l)
		return 0;
	for (i = 0; i < l; i++)
		if (param_lower((unsigned char)s[i]) != lit[i])
			return 0;
	return 1;
}

/* token at s (n bytes left); *tlen gets its length */
static enum param_tok
param_tok_at(const char *s, size_t n, size_t *tlen)
{
	int ch = (unsigned char)s[0];

	if (ch == '-' || ch == '/' || ch == ':' || ch == '.' || ch == '_' || ch == ' ') {
		*tlen = 1;
		return TOK_SEP;
	}
	if (param_prefix(s, n, "yyyy")) {
		*tlen = 4;
		return TOK_YYYY;
	}
	if (param_prefix(s, n, "yy")) {
		*tlen = 2;
		return TOK_YY;
	}
	if (param_prefix(s, n, "mm")) {
		*tlen = 2;
		return TOK_MM;
	}
	if (param_prefix(s, n, "mi")) {
		*tlen = 2;
		return TOK_MI;
	}
	if (param_prefix(s, n, "dd")) {
		*tlen = 2;
		return TOK_DD;
	}
	if (param_prefix(s, n, "hh24")) {
		*tlen = 4;
		return TOK_HH24;
	}
	if (param_prefix(s, n, "hh12")) {
		*tlen = 4;
		return TOK_HH12;
	}
	if (param_prefix(s, n, "hh")) {
		*tlen = 2;
		return TOK_HH12;
	}
	if (param_prefix(s, n, "ss")) {
		*tlen = 2;
		return TOK_SS;
	}
	*tlen = 1;
	return TOK_NONE;
}

/* what a format holds */
struct param_fmtinfo {
	int	ntok;		/* date/time tokens */
	int	has_time;	/* hh/mi/ss present */
	int	has_dd, has_mm;
	size_t	bad;		/* offset of the first invalid byte, if any */
};

/* 0 if (f, n) is a valid format with at least one token */
static int
param_fmt_scan(const char *f, size_t n, struct param_fmtinfo *fi)
{
	size_t i = 0, tl;

	memset(fi, 0, sizeof(*fi));
	while (i < n) {
		enum param_tok t = param_tok_at(f + i, n - i, &tl);

		switch (t) {
		case TOK_NONE:
			fi->bad = i;
			return -1;
		case TOK_SEP:
			break;
		case TOK_HH24: case TOK_HH12: case TOK_MI: case TOK_SS:
			fi->has_time = 1;
			fi->ntok++;
			break;
		case TOK_DD:
			fi->has_dd = 1;
			fi->ntok++;
			break;
		case TOK_MM:
			fi->has_mm = 1;
			fi->ntok++;
			break;
		default:
			fi->ntok++;
			break;
		}
		i += tl;
	}
	if (fi->ntok == 0) {
		fi->bad = 0;
		return -1;
	}
	return 0;
}

static int
param_fmt_render(const char *f, size_t n, const struct tz_tm *tm, struct buf *out)
{
	size_t i = 0, tl;
	int h12 = tm->hour % 12 == 0 ? 12 : tm->hour % 12;

	while (i < n) {
		switch (param_tok_at(f + i, n - i, &tl)) {
		case TOK_YYYY: buf_printf(out, "%04lld", (long long)tm->year); break;
		case TOK_YY:   buf_printf(out, "%02d", (int)(tm->year % 100)); break;
		case TOK_MM:   buf_printf(out, "%02d", tm->mon); break;
		case TOK_DD:   buf_printf(out, "%02d", tm->mday); break;
		case TOK_HH24: buf_printf(out, "%02d", tm->hour); break;
		case TOK_HH12: buf_printf(out, "%02d", h12); break;
		case TOK_MI:   buf_printf(out, "%02d", tm->min); break;
		case TOK_SS:   buf_printf(out, "%02d", tm->sec); break;
		default:       buf_add(out, f + i, tl); break;
		}
		i += tl;
	}
	return out->err;
}

/*
 * Exact fraction of an offset expression: digits { ('*'|'/') digits }.
 * Returns 0, or -1 with *why and *bad (offset of the bad byte).
 */
static int
param_frac(const char *s, size_t n, int64_t *num, int64_t *den,
    const char **why, size_t *bad)
{
	int64_t nu = 0, de = 1, v;
	size_t i = 0;
	int op = 0;	/* 0 first, '*', '/' */

	for (;;) {
		size_t start = i;

		v = 0;
		while (i < n && param_isdigit((unsigned char)s[i])) {
			if (v > (INT64_C(1) << 40)) {
				*why = "offset too large";
				*bad = start;
				return -1;
			}
			v = v * 10 + (s[i] - '0');
			i++;
		}
		if (i == start) {
			*why = "expected a number in the offset";
			*bad = i;
			return -1;
		}
		if (op == 0) {
			nu = v;
		} else if (op == '*') {
			if (v != 0 && nu > (INT64_C(1) << 40) / v) {
				*why = "offset too large";
				*bad = start;
				return -1;
			}
			nu *= v;
		} else {
			if (v == 0) {
				*why = "division by zero in the offset";
				*bad = start;
				return -1;
			}
			if (de > (INT64_C(1) << 40) / v) {
				*why = "offset divisor too large";
				*bad = start;
				return -1;
			}
			de *= v;
		}
		if (i == n)
			break;
		if (s[i] != '*' && s[i] != '/') {
			*why = "unexpected character in the offset (use N, N/24, N/24/60, 7*N)";
			*bad = i;
			return -1;
		}
		op = s[i++];
	}
	*num = nu;
	*den = de;
	return 0;
}

/* position of the offset sign in body, or n if none (see param.h) */
static size_t
param_split(const char *b, size_t n)
{
	size_t i, at = n;

	for (i = 0; i + 1 < n; i++)
		if (b[i] == '+' && param_isdigit((unsigned char)b[i + 1]))
			at = i;
	if (at != n)
		return at;
	for (i = 0; i + 1 < n; i++)
		if (b[i] == '-' && param_isdigit((unsigned char)b[i + 1]))
			at = i;
	return at;
}

static int
param_eq(const char *b, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(b, lit, n) == 0;
}

static int
param_is_name(const char *b, size_t n)
{
	static const char *const names[] = { "bdp.system.bizdate",
	    "bdp.system.cyctime", "bizdate", "cyctime", "gmtdate", "bizmonth" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (param_eq(b, n, names[i]))
			return 1;
	return 0;
}

static enum param_class
param_classify(const char *b, size_t n)
{
	struct param_fmtinfo fi;
	size_t at;

	if (param_is_name(b, n))
		return CLASS_NAME;
	at = param_split(b, n);
	if (at > 0 && param_fmt_scan(b, at, &fi) == 0)
		return CLASS_FMT;
	return CLASS_USER;
}

int
param_is_builtin_ref(const char *body, size_t len)
{
	return param_classify(body, len) != CLASS_USER;
}

/* ---- evaluation ------------------------------------------------------------ */

struct param_ctx {
	const struct tz *tz;
	int64_t	 cyctime;
	struct tz_tm cyc;		/* local time of cyctime */
	int64_t	 biz_y;			/* bizdate */
	int	 biz_m, biz_d;
	const char *expr;		/* whole input, for columns */
	struct buf *out;
	struct eng_errbuf *eb;
};

static int
param_err(struct param_ctx *c, const char *e, size_t elen, const char *at,
    const char *why)
{
	return eng_errbuf_set(c->eb, ENG_EINVAL,
	    "bad scheduling expression '%.*s' at column %zu: %s",
	    (int)(elen > 200 ? 200 : elen), e, (size_t)(at - c->expr) + 1, why);
}

static int
param_range_err(struct param_ctx *c, const char *e, size_t elen)
{
	return param_err(c, e, elen, e, "result is outside years 0001..9999");
}

/* local date y-m-d moved by n months, day clamped */
static void
param_add_months(int64_t *y, int *m, int *d, int64_t n)
{
	int64_t total = *y * 12 + (*m - 1) + n;
	int dim;

	*y = total >= 0 ? total / 12 : -((-total + 11) / 12);
	*m = (int)(total - *y * 12) + 1;
	dim = tz_days_in_month(*y, *m);
	if (*d > dim)
		*d = dim;
}

/* render local time lt (re-read in the zone) with format f */
static int
param_render_local(struct param_ctx *c, struct tz_tm *lt, int64_t extra,
    const char *f, size_t fn, const char *e, size_t elen)
{
	struct tz_tm tm;
	int64_t t;

	if (tz_to_utc(c->tz, lt, &t, NULL) != 0 ||
	    tz_to_local(c->tz, t + extra, &tm) != 0)
		return param_range_err(c, e, elen);
	return param_fmt_render(f, fn, &tm, c->out);
}

/* $[add_months(FMT,N)]: body is "add_months(...)" */
static int
param_eval_add_months(struct param_ctx *c, const char *e, size_t elen,
    const char *b, size_t n)
{
	struct param_fmtinfo fi;
	struct tz_tm lt = c->cyc;
	const char *in = b + 11, *comma, *why = NULL;
	size_t inlen, fn, bad = 0;
	int64_t num, den;
	int neg = 0;

	if (n < 12 || b[n - 1] != ')')
		return param_err(c, e, elen, b + n - 1,
		    "add_months needs the form add_months(FORMAT,N)");
	inlen = n - 12;
	if ((comma = memchr(in, ',', inlen)) == NULL)
		return param_err(c, e, elen, b + n - 1,
		    "add_months needs the form add_months(FORMAT,N)");
	fn = (size_t)(comma - in);
	if (param_fmt_scan(in, fn, &fi) != 0)
		return param_err(c, e, elen, in + fi.bad,
		    fn == 0 ? "empty format" : "not a date/time format token");
	{
		const char *ns = comma + 1, *nend = in + inlen;

		if (ns < nend && (*ns == '-' || *ns == '+')) {
			neg = *ns == '-';
			ns++;
		}
		if (param_frac(ns, (size_t)(nend - ns), &num, &den, &why, &bad) != 0)
			return param_err(c, e, elen, ns + bad, why);
		if (num % den != 0)
			return param_err(c, e, elen, ns,
			    "add_months needs a whole number of months");
		num /= den;
		if (num > 120000)
			return param_range_err(c, e, elen);
	}
	param_add_months(&lt.year, &lt.mon, &lt.mday, neg ? -num : num);
	if (lt.year < 1 || lt.year > 9999)
		return param_range_err(c, e, elen);
	return param_render_local(c, &lt, 0, in, fn, e, elen);
}

/* $[BODY] */
static int
param_eval_cyc(struct param_ctx *c, const char *e, size_t elen,
    const char *b, size_t n)
{
	struct param_fmtinfo fi;
	struct tz_tm lt = c->cyc;
	size_t at, bad = 0;
	const char *why = NULL;
	int64_t num = 0, den = 1, secs, days, rem, sign = 1;

	if (n == 0)
		return param_err(c, e, elen, e, "empty expression");
	if (param_prefix(b, n, "add_months("))
		return param_eval_add_months(c, e, elen, b, n);
	at = param_split(b, n);
	if (param_fmt_scan(b, at, &fi) != 0)
		return param_err(c, e, elen, b + fi.bad, at == 0 ? "missing format" :
		    "not a date/time format token (use yyyy yy mm dd hh24 mi ss, "
		    "separators - / : . _)");
	if (at == n)
		return param_fmt_render(b, n, &c->cyc, c->out);
	sign = b[at] == '-' ? -1 : 1;
	if (param_frac(b + at + 1, n - at - 1, &num, &den, &why, &bad) != 0)
		return param_err(c, e, elen, b + at + 1 + bad, why);
	/* seconds, truncated toward zero; num, den < 2^41 so this fits */
	if (num / den > PARAM_MAX_SECS / 86400)
		return param_range_err(c, e, elen);
	secs = (int64_t)(((__int128)num * 86400) / den);
	days = secs / 86400;
	rem = secs % 86400;
	if (days != 0) {
		int64_t dn = tz_days_from_civil(lt.year, lt.mon, lt.mday) + sign * days;

		tz_civil_from_days(dn, &lt.year, &lt.mon, &lt.mday);
		if (lt.year < 1 || lt.year > 9999)
			return param_range_err(c, e, elen);
	}
	return param_render_local(c, &lt, sign * rem, b, at, e, elen);
}

/* ${FMT[+-N]} on bizdate */
static int
param_eval_biz(struct param_ctx *c, const char *e, size_t elen,
    const char *b, size_t n)
{
	struct param_fmtinfo fi;
	struct tz_tm tm;
	size_t at = param_split(b, n), bad = 0;
	const char *why = NULL;
	int64_t num = 0, den = 1, y = c->biz_y;
	int m = c->biz_m, d = c->biz_d;

	if (param_fmt_scan(b, at, &fi) != 0)
		return param_err(c, e, elen, b + fi.bad, "not a date format token");
	if (fi.has_time)
		return param_err(c, e, elen, b,
		    "${...} is the business date and has no time of day; use "
		    "$[...] for hours, minutes and seconds");
	if (at < n) {
		int64_t v;

		if (param_frac(b + at + 1, n - at - 1, &num, &den, &why, &bad) != 0)
			return param_err(c, e, elen, b + at + 1 + bad, why);
		if (num % den != 0)
			return param_err(c, e, elen, b + at + 1,
			    "${...} offsets are whole days, months or years");
		v = num / den;
		if (v > 4000000)
			return param_range_err(c, e, elen);
		if (b[at] == '-')
			v = -v;
		if (fi.has_dd) {
			tz_civil_from_days(tz_days_from_civil(y, m, d) + v, &y, &m, &d);
		} else if (fi.has_mm) {
			param_add_months(&y, &m, &d, v);
		} else {
			param_add_months(&y, &m, &d, v * 12);
		}
		if (y < 1 || y > 9999)
			return param_range_err(c, e, elen);
	}
	memset(&tm, 0, sizeof(tm));
	tm.year = y;
	tm.mon = m;
	tm.mday = d;
	return param_fmt_render(b, at, &tm, c->out);
}

/* built-in names, with or without braces */
static int
param_eval_name(struct param_ctx *c, const char *b, size_t n)
{
	struct tz_tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.year = c->biz_y;
	tm.mon = c->biz_m;
	tm.mday = c->biz_d;
	if (param_eq(b, n, "bdp.system.bizdate") || param_eq(b, n, "bizdate"))
		return param_fmt_render("yyyymmdd", 8, &tm, c->out);
	if (param_eq(b, n, "bdp.system.cyctime") || param_eq(b, n, "cyctime"))
		return param_fmt_render("yyyymmddhh24miss", 16, &c->cyc, c->out);
	if (param_eq(b, n, "gmtdate"))
		return param_fmt_render("yyyymmdd", 8, &c->cyc, c->out);
	/* bizmonth */
	if (tm.year * 12 + tm.mon == c->cyc.year * 12 + c->cyc.mon)
		param_add_months(&tm.year, &tm.mon, &tm.mday, -1);
	return param_fmt_render("yyyymm", 6, &tm, c->out);
}

int
param_eval(const char *expr, size_t len, const struct tz *tz, int64_t cyctime,
    struct buf *out, struct eng_errbuf *eb)
{
	struct param_ctx c;
	size_t i = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	c.tz = tz;
	c.cyctime = cyctime;
	c.expr = expr;
	c.out = out;
	c.eb = eb;
	if (tz_to_local(tz, cyctime, &c.cyc) != 0)
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "cycle time %lld is outside years 0001..9999", (long long)cyctime);
	tz_civil_from_days(tz_days_from_civil(c.cyc.year, c.cyc.mon, c.cyc.mday) - 1,
	    &c.biz_y, &c.biz_m, &c.biz_d);
	if (c.biz_y < 1)
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "cycle time %lld is outside years 0001..9999", (long long)cyctime);
	while (i < len) {
		const char *p = expr + i, *close;
		size_t left = len - i;

		if (*p != '$') {
			const char *d = memchr(p, '$', left);
			size_t run = d != NULL ? (size_t)(d - p) : left;

			if ((rc = buf_add(out, p, run)) != 0)
				return rc;
			i += run;
			continue;
		}
		if (left >= 2 && (p[1] == '[' || p[1] == '{')) {
			char cl = p[1] == '[' ? ']' : '}';
			const char *b = p + 2;
			size_t n, elen;

			if ((close = memchr(b, cl, left - 2)) == NULL)
				return eng_errbuf_set(eb, ENG_EINVAL,
				    "bad scheduling expression '%.*s' at column %zu: "
				    "unterminated '%c%c' (missing '%c')",
				    (int)(left > 40 ? 40 : left), p, i + 1, p[0], p[1], cl);
			n = (size_t)(close - b);
			elen = n + 3;
			if (p[1] == '[') {
				rc = param_eval_cyc(&c, p, elen, b, n);
			} else if (n == 0) {
				rc = param_err(&c, p, elen, p, "empty ${}");
			} else {
				switch (param_classify(b, n)) {
				case CLASS_NAME:
					rc = param_eval_name(&c, b, n);
					break;
				case CLASS_FMT:
					rc = param_eval_biz(&c, p, elen, b, n);
					break;
				default:
					/* a user parameter: not ours, keep it */
					rc = buf_add(out, p, elen);
					break;
				}
			}
			if (rc != 0)
				return rc;
			i += elen;
			continue;
		}
		/* $bizdate, $cyctime, $gmtdate, $bizmonth */
		{
			size_t n = 0;

			while (n + 1 < left && param_isword((unsigned char)p[n + 1]))
				n++;
			if (n > 0 && param_is_name(p + 1, n) &&
			    memchr(p + 1, '.', n) == NULL) {
				if ((rc = param_eval_name(&c, p + 1, n)) != 0)
					return rc;
				i += n + 1;
				continue;
			}
		}
		if ((rc = buf_addc(out, '$')) != 0)
			return rc;
		i++;
	}
	return out->err;
}

/* ---- parameter sets ------------------------------------------------------------ */

void
param_set_free(struct param_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].value);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

const char *
param_set_get(const struct param_set *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return s->v[i].value;
	return NULL;
}

int
param_set_lookup(void *arg, const char *name, size_t len, const char **val,
    size_t *vlen)
{
	const struct param_set *s = arg;
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (strlen(s->v[i].name) == len && memcmp(s->v[i].name, name, len) == 0) {
			*val = s->v[i].value;
			*vlen = strlen(s->v[i].value);
			return 0;
		}
	}
	return -ENOENT;
}

static int
param_name_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || param_isdigit((unsigned char)s[0]))
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!param_isword((unsigned char)s[i]))
			return 0;
	return i <= 128;
}

int
param_resolve_all(const struct param_kv *in, size_t n, const struct tz *tz,
    int64_t cyctime, struct param_set *out, struct eng_errbuf *eb)
{
	struct param_set s = { NULL, 0 };
	struct eng_errbuf inner;
	struct buf b;
	size_t i, j;
	int rc = -ENOMEM;

	out->v = NULL;
	out->n = 0;
	buf_init(&b, PARAM_BUF_MAX);
	if (n != 0 && (s.v = calloc(n, sizeof(*s.v))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		const char *name = in[i].name, *v = in[i].value, *ref;

		if (!param_name_ok(name)) {
			rc = eng_errbuf_set(eb, ENG_EINVAL, "parameter '%.64s': invalid "
			    "name (use letters, digits and '_', not starting with a "
			    "digit)", name != NULL ? name : "");
			goto out;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(in[j].name, name) == 0) {
				rc = eng_errbuf_set(eb, ENG_EINVAL,
				    "parameter '%s': defined twice", name);
				goto out;
			}
		}
		if (v == NULL)
			v = "";
		buf_reset(&b);
		inner.msg[0] = '\0';
		rc = param_eval(v, strlen(v), tz, cyctime, &b, &inner);
		if (rc != 0) {
			if (rc == ENG_EINVAL)
				eng_errbuf_set(eb, rc, "parameter '%s': %s", name, inner.msg);
			else
				eng_errbuf_set(eb, rc, "parameter '%s': %s", name,
				    eng_strerror(rc));
			goto out;
		}
		if ((ref = strstr(b.p, "${")) != NULL) {
			const char *end = strchr(ref, '}');
			int rl = end != NULL ? (int)(end - ref + 1) : 2;

			rc = eng_errbuf_set(eb, ENG_EINVAL, "parameter '%s': '%.*s' is "
			    "not a scheduling expression, and parameters cannot "
			    "reference each other (write the expression itself)",
			    name, rl > 80 ? 80 : rl, ref);
			goto out;
		}
		rc = -ENOMEM;
		if ((s.v[i].name = strdup(name)) == NULL)
			goto out;
		s.n = i + 1;
		if ((s.v[i].value = buf_take(&b, NULL)) == NULL) {
			rc = b.err != 0 ? b.err : -ENOMEM;
			goto out;
		}
	}
	*out = s;
	s.v = NULL;
	s.n = 0;
	rc = 0;
out:
	param_set_free(&s);
	buf_free(&b);
	return rc;
}

/* ---- ${name} substitution --------------------------------------------------------- */

static int
param_refname_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!param_isword((unsigned char)s[i]) && s[i] != '.')
			return 0;
	return 1;
}

int
param_substitute(const char *s, size_t len, param_lookup_fn lookup, void *arg,
    struct buf *out, struct eng_errbuf *eb)
{
	size_t i = 0;
	int rc;

	while (i < len) {
		const char *p = s + i, *close;
		size_t left = len - i, n;
		const char *val = NULL;
		size_t vlen = 0;

		if (*p != '$') {
			const char *d = memchr(p, '$', left);
			size_t run = d != NULL ? (size_t)(d - p) : left;

			if ((rc = buf_add(out, p, run)) != 0)
				return rc;
			i += run;
			continue;
		}
		if (left >= 3 && p[1] == '$' && p[2] == '{') {
			if ((rc = buf_add(out, "${", 2)) != 0)
				return rc;
			i += 3;
			continue;
		}
		if (left < 2 || p[1] != '{') {
			if ((rc = buf_addc(out, '$')) != 0)
				return rc;
			i++;
			continue;
		}
		if ((close = memchr(p + 2, '}', left - 2)) == NULL)
			return eng_errbuf_set(eb, ENG_EINVAL,
			    "unterminated '${' at column %zu (write '$${' for a "
			    "literal '${')", i + 1);
		n = (size_t)(close - (p + 2));
		if (!param_refname_ok(p + 2, n))
			return eng_errbuf_set(eb, ENG_EINVAL,
			    "invalid parameter reference '%.*s' at column %zu (names "
			    "are letters, digits, '_' and '.')",
			    (int)(n + 3 > 80 ? 80 : n + 3), p, i + 1);
		rc = lookup(arg, p + 2, n, &val, &vlen);
		if (rc == -ENOENT)
			return eng_errbuf_set(eb, ENG_EINVAL,
			    "unknown parameter ${%.*s} at column %zu (define it in "
			    "schedule.params)", (int)(n > 80 ? 80 : n), p + 2, i + 1);
		if (rc != 0)
			return eng_errbuf_set(eb, rc, "parameter ${%.*s}: %s",
			    (int)(n > 80 ? 80 : n), p + 2, eng_strerror(rc));
		if ((rc = buf_add(out, val, vlen)) != 0)
			return rc;
		i += n + 3;
	}
	return out->err;
}
