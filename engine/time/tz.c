/* SPDX-License-Identifier: MIT */
/*
 * tz.c - TZif (RFC 8536) and POSIX TZ string parsing, UTC <-> local time
 * conversion without the process-global TZ.  See tz.h for the rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tz.h"

#define TZ_DIR		"/usr/share/zoneinfo"
#define TZ_FILE_MAX	((size_t)1 << 20)	/* largest TZif file we read */
#define TZ_MAX_TIMES	((uint32_t)1 << 20)
#define TZ_MAX_TYPES	256u
#define TZ_MAX_CHARS	((uint32_t)1 << 16)
#define TZ_MAX_LEAPS	((uint32_t)1 << 16)
#define TZ_OFF_MIN	(-89999)		/* RFC 8536 3.2 */
#define TZ_OFF_MAX	93599
/* instants of 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z */
#define TZ_T_MIN	(-62135596800LL)
#define TZ_T_MAX	(253402300800LL)

struct tz_type {
	int32_t	utoff;
	int	isdst;
	char	abbr[16];
};

/* one transition date of a POSIX rule: Jn, n or Mm.w.d, plus time of day */
struct tz_rdate {
	char	kind;		/* 'J', 'N' or 'M' */
	int	a, b, c;	/* J: a=n; N: a=n; M: a=m, b=w, c=d */
	int32_t	secs;		/* local time of day of the change */
};

struct tz_rule {
	int	has_dst;
	struct tz_type std, dst;
	struct tz_rdate start, end;
};

struct tz {
	char	*name;
	size_t	 ntrans;
	int64_t	*trans;		/* ascending */
	uint8_t	*idx;		/* type index per transition */
	size_t	 ntypes;
	struct tz_type *types;
	int	 has_rule;
	struct tz_rule rule;
	int	 refs;		/* tz_lock; the loads not yet freed */
	bool	 interned;	/* in tz_interned (a zone loaded by name) */
	struct tz *next;	/* tz_interned */
};

/*
 * Zones loaded by name are interned: every tz_load of "Asia/Shanghai" in
 * the process shares one immutable struct tz, counted, and freed with its
 * last tz_free (the next load reads the file again).  The machine's zone
 * (name NULL or "") is not: it follows $TZ at each call.
 */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tz *tz_interned;

/* ---- calendar ----------------------------------------------------------- */

static int64_t
tz_floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

int
tz_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
tz_days_in_month(int64_t y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m < 1 || m > 12)
		return 0;
	return dim[m - 1] + (m == 2 && tz_is_leap(y));
}

/* Howard Hinnant's days_from_civil / civil_from_days (public algorithms). */
int64_t
tz_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = tz_floordiv(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t z = days + 719468, era, doe, yoe, doy, mp;

	era = tz_floordiv(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* ---- POSIX TZ strings ----------------------------------------------------- */

struct tz_cur {
	const char *p, *end;
};

static int
tz_cur_peek(const struct tz_cur *c)
{
	return c->p < c->end ? (unsigned char)*c->p : -1;
}

static int
tz_isdigit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static int
tz_isalpha(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* unsigned decimal with at most maxd digits, value <= max */
static int
tz_num(struct tz_cur *c, int maxd, long max, long *v)
{
	long n = 0;
	int digits = 0;

	while (tz_isdigit(tz_cur_peek(c)) && digits < maxd) {
		n = n * 10 + (*c->p - '0');
		c->p++;
		digits++;
	}
	if (digits == 0 || n > max)
		return -1;
	*v = n;
	return 0;
}

/* zone abbreviation: <...> or 3+ letters */
static int
tz_abbr(struct tz_cur *c, char out[16])
{
	size_t n = 0;

	if (tz_cur_peek(c) == '<') {
		c->p++;
		while (c->p < c->end && *c->p != '>') {
			int ch = (unsigned char)*c->p;

			if (!tz_isalpha(ch) && !tz_isdigit(ch) && ch != '+' && ch != '-')
				return -1;
			if (n >= 15)
				return -1;
			out[n++] = (char)ch;
			c->p++;
		}
		if (c->p >= c->end)
			return -1;
		c->p++;
	} else {
		while (tz_isalpha(tz_cur_peek(c))) {
			if (n >= 15)
				return -1;
			out[n++] = *c->p++;
		}
	}
	out[n] = '\0';
	return n >= 3 ? 0 : -1;
}

/* [+-]hh[:mm[:ss]] with hh <= maxh, in seconds */
static int
tz_hms(struct tz_cur *c, long maxh, int32_t *out)
{
	long h, m = 0, s = 0;
	int neg = 0;

	if (tz_cur_peek(c) == '+' || tz_cur_peek(c) == '-') {
		neg = *c->p == '-';
		c->p++;
	}
	if (tz_num(c, 3, maxh, &h) != 0)
		return -1;
	if (tz_cur_peek(c) == ':') {
		c->p++;
		if (tz_num(c, 2, 59, &m) != 0)
			return -1;
		if (tz_cur_peek(c) == ':') {
			c->p++;
			if (tz_num(c, 2, 59, &s) != 0)
				return -1;
		}
	}
	*out = (int32_t)((h * 3600 + m * 60 + s) * (neg ? -1 : 1));
	return 0;
}

static int
tz_rdate_parse(struct tz_cur *c, struct tz_rdate *r)
{
	long a, b, d;

	memset(r, 0, sizeof(*r));
	if (tz_cur_peek(c) == 'J') {
		c->p++;
		if (tz_num(c, 3, 365, &a) != 0 || a < 1)
			return -1;
		r->kind = 'J';
		r->a = (int)a;
	} else if (tz_cur_peek(c) == 'M') {
		c->p++;
		if (tz_num(c, 2, 12, &a) != 0 || a < 1 || tz_cur_peek(c) != '.')
			return -1;
		c->p++;
		if (tz_num(c, 1, 5, &b) != 0 || b < 1 || tz_cur_peek(c) != '.')
			return -1;
		c->p++;
		if (tz_num(c, 1, 6, &d) != 0)
			return -1;
		r->kind = 'M';
		r->a = (int)a;
		r->b = (int)b;
		r->c = (int)d;
	} else {
		if (tz_num(c, 3, 365, &a) != 0)
			return -1;
		r->kind = 'N';
		r->a = (int)a;
	}
	r->secs = 7200;
	if (tz_cur_peek(c) == '/') {
		c->p++;
		if (tz_hms(c, 167, &r->secs) != 0)
			return -1;
	}
	return 0;
}

static int
tz_rule_parse(const char *s, size_t len, struct tz_rule *r)
{
	struct tz_cur c = { s, s + len };
	int32_t off;

	memset(r, 0, sizeof(*r));
	if (tz_abbr(&c, r->std.abbr) != 0 || tz_hms(&c, 24, &off) != 0)
		return -1;
	r->std.utoff = -off;
	if (c.p == c.end)
		return 0;
	if (tz_abbr(&c, r->dst.abbr) != 0)
		return -1;
	r->has_dst = 1;
	r->dst.isdst = 1;
	r->dst.utoff = r->std.utoff + 3600;
	if (c.p < c.end && *c.p != ',') {
		if (tz_hms(&c, 24, &off) != 0)
			return -1;
		r->dst.utoff = -off;
	}
	if (c.p == c.end) {
		/* no rule: the US rules, as tzcode assumes */
		r->start = (struct tz_rdate){ 'M', 3, 2, 0, 7200 };
		r->end = (struct tz_rdate){ 'M', 11, 1, 0, 7200 };
		return 0;
	}
	if (*c.p != ',')
		return -1;
	c.p++;
	if (tz_rdate_parse(&c, &r->start) != 0 || tz_cur_peek(&c) != ',')
		return -1;
	c.p++;
	if (tz_rdate_parse(&c, &r->end) != 0 || c.p != c.end)
		return -1;
	return 0;
}

/* days since epoch of a rule date in year y */
static int64_t
tz_rdate_day(const struct tz_rdate *r, int64_t y)
{
	int64_t jan1 = tz_days_from_civil(y, 1, 1), first;
	int wday1, day;

	switch (r->kind) {
	case 'J':
		return jan1 + r->a - 1 + (tz_is_leap(y) && r->a >= 60);
	case 'N':
		return jan1 + r->a;
	default:
		first = tz_days_from_civil(y, r->a, 1);
		wday1 = (int)(((first + 4) % 7 + 7) % 7);
		day = 1 + (r->c - wday1 + 7) % 7 + (r->b - 1) * 7;
		while (day > tz_days_in_month(y, r->a))
			day -= 7;
		return first + day - 1;
	}
}

static const struct tz_type *
tz_rule_type(const struct tz_rule *r, int64_t t)
{
	int64_t y, ev_t[6];
	int ev_dst[6], n = 0, i, m, d, best = -1;

	if (!r->has_dst)
		return &r->std;
	tz_civil_from_days(tz_floordiv(t + r->std.utoff, 86400), &y, &m, &d);
	for (int64_t yy = y - 1; yy <= y + 1; yy++) {
		/* end first so that a start at the same instant wins (all-year DST) */
		ev_t[n] = tz_rdate_day(&r->end, yy) * 86400 + r->end.secs - r->dst.utoff;
		ev_dst[n++] = 0;
		ev_t[n] = tz_rdate_day(&r->start, yy) * 86400 + r->start.secs - r->std.utoff;
		ev_dst[n++] = 1;
	}
	for (i = 0; i < n; i++) {
		if (ev_t[i] > t)
			continue;
		if (best < 0 || ev_t[i] > ev_t[best] ||
		    (ev_t[i] == ev_t[best] && ev_dst[i]))
			best = i;
	}
	if (best < 0)
		return &r->std;
	return ev_dst[best] ? &r->dst : &r->std;
}

/* ---- objects -------------------------------------------------------------- */

void
tz_free(struct tz *tz)
{
	struct tz **pp;

	if (tz == NULL)
		return;
	pthread_mutex_lock(&tz_lock);
	if (--tz->refs > 0) {
		pthread_mutex_unlock(&tz_lock);
		return;
	}
	if (tz->interned)
		for (pp = &tz_interned; *pp != NULL; pp = &(*pp)->next)
			if (*pp == tz) {
				*pp = tz->next;
				break;
			}
	pthread_mutex_unlock(&tz_lock);
	free(tz->name);
	free(tz->trans);
	free(tz->idx);
	free(tz->types);
	free(tz);
}

const char *
tz_name(const struct tz *tz)
{
	return tz->name;
}

static struct tz *
tz_alloc(const char *name)
{
	struct tz *tz;

	if ((tz = calloc(1, sizeof(*tz))) == NULL)
		return NULL;
	if ((tz->name = strdup(name != NULL ? name : "")) == NULL) {
		free(tz);
		return NULL;
	}
	tz->refs = 1;
	return tz;
}

int
tz_parse_posix(const char *name, const char *s, size_t len, struct tz **out,
    struct eng_errbuf *eb)
{
	struct tz *tz = NULL;
	int rc = -ENOMEM;

	*out = NULL;
	if ((tz = tz_alloc(name)) == NULL)
		goto out;
	if (tz_rule_parse(s, len, &tz->rule) != 0) {
		rc = eng_errbuf_set(eb, ENG_EINVAL,
		    "time zone '%s': invalid POSIX TZ string '%.*s'",
		    name != NULL ? name : "", (int)(len > 64 ? 64 : len), s);
		goto out;
	}
	tz->has_rule = 1;
	*out = tz;
	tz = NULL;
	rc = 0;
out:
	tz_free(tz);
	return rc;
}

int
tz_utc(struct tz **out)
{
	return tz_parse_posix("UTC", "UTC0", 4, out, NULL);
}

static uint32_t
tz_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
tz_be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)tz_be32(p) << 32 | tz_be32(p + 4));
}

struct tz_hdr {
	int	version;	/* 1, 2, 3, 4 */
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
	size_t	datalen;	/* bytes of the data block after the header */
};

static int
tz_hdr_parse(const uint8_t *p, size_t len, size_t tsize, struct tz_hdr *h)
{
	size_t n;

	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	if (p[4] == 0)
		h->version = 1;
	else if (p[4] >= '2' && p[4] <= '9')
		h->version = p[4] - '0';
	else
		return -1;
	h->isutcnt = tz_be32(p + 20);
	h->isstdcnt = tz_be32(p + 24);
	h->leapcnt = tz_be32(p + 28);
	h->timecnt = tz_be32(p + 32);
	h->typecnt = tz_be32(p + 36);
	h->charcnt = tz_be32(p + 40);
	if (h->typecnt == 0 || h->typecnt > TZ_MAX_TYPES || h->charcnt == 0 ||
	    h->charcnt > TZ_MAX_CHARS || h->timecnt > TZ_MAX_TIMES ||
	    h->leapcnt > TZ_MAX_LEAPS ||
	    (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
		return -1;
	/* all counts are bounded above, so this cannot overflow size_t */
	n = (size_t)h->timecnt * (tsize + 1) + (size_t)h->typecnt * 6 +
	    h->charcnt + (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
	if (n > len - 44)
		return -1;
	h->datalen = n;
	return 0;
}

/* fill tz from one data block (p points after its header) */
static int
tz_data_parse(struct tz *tz, const struct tz_hdr *h, const uint8_t *p,
    size_t tsize, const char **why)
{
	const uint8_t *tt, *ix, *ti, *ch;
	size_t i;

	tt = p;
	ix = tt + (size_t)h->timecnt * tsize;
	ti = ix + h->timecnt;
	ch = ti + (size_t)h->typecnt * 6;
	if ((tz->types = calloc(h->typecnt, sizeof(*tz->types))) == NULL)
		return -ENOMEM;
	tz->ntypes = h->typecnt;
	if (h->timecnt != 0) {
		if ((tz->trans = calloc(h->timecnt, sizeof(*tz->trans))) == NULL ||
		    (tz->idx = calloc(h->timecnt, 1)) == NULL)
			return -ENOMEM;
	}
	tz->ntrans = h->timecnt;
	for (i = 0; i < h->typecnt; i++) {
		const uint8_t *e = ti + i * 6;
		int32_t off = (int32_t)tz_be32(e);
		size_t d = e[5], n = 0;

		if (off < TZ_OFF_MIN || off > TZ_OFF_MAX) {
			*why = "UT offset out of range";
			return ENG_EINVAL;
		}
		if (e[4] > 1 || d >= h->charcnt) {
			*why = "bad local time type record";
			return ENG_EINVAL;
		}
		tz->types[i].utoff = off;
		tz->types[i].isdst = e[4];
		while (d + n < h->charcnt && ch[d + n] != 0)
			n++;
		if (d + n >= h->charcnt) {
			*why = "unterminated time zone designation";
			return ENG_EINVAL;
		}
		if (n > sizeof(tz->types[i].abbr) - 1)
			n = sizeof(tz->types[i].abbr) - 1;
		memcpy(tz->types[i].abbr, ch + d, n);
		tz->types[i].abbr[n] = '\0';
	}
	for (i = 0; i < h->timecnt; i++) {
		tz->trans[i] = tsize == 8 ? tz_be64(tt + i * 8) :
		    (int64_t)(int32_t)tz_be32(tt + i * 4);
		if (i > 0 && tz->trans[i] <= tz->trans[i - 1]) {
			*why = "transition times not ascending";
			return ENG_EINVAL;
		}
		if (ix[i] >= h->typecnt) {
			*why = "transition type index out of range";
			return ENG_EINVAL;
		}
		tz->idx[i] = ix[i];
	}
	return 0;
}

int
tz_parse(const char *name, const void *buf, size_t len, struct tz **out,
    struct eng_errbuf *eb)
{
	const uint8_t *p = buf;
	struct tz_hdr h;
	struct tz *tz = NULL;
	const char *why = "not a TZif file";
	size_t tsize = 4, off = 0;
	int rc = -ENOMEM;

	*out = NULL;
	if (p == NULL && len != 0)
		return eng_errbuf_set(eb, ENG_EINVAL, "time zone: no data");
	if ((tz = tz_alloc(name)) == NULL)
		goto out;
	rc = ENG_EINVAL;
	if (tz_hdr_parse(p, len, 4, &h) != 0)
		goto bad;
	if (h.version >= 2) {
		off = 44 + h.datalen;
		tsize = 8;
		if (tz_hdr_parse(p + off, len - off, 8, &h) != 0) {
			why = "bad version 2+ header";
			goto bad;
		}
	}
	if ((rc = tz_data_parse(tz, &h, p + off + 44, tsize, &why)) != 0) {
		if (rc == -ENOMEM)
			goto out;
		goto bad;
	}
	if (h.version >= 2) {
		const char *f = (const char *)p + off + 44 + h.datalen;
		const char *fend = (const char *)p + len, *nl;

		if (f >= fend || *f != '\n') {
			why = "missing footer";
			goto bad;
		}
		f++;
		if ((nl = memchr(f, '\n', (size_t)(fend - f))) == NULL) {
			why = "unterminated footer";
			goto bad;
		}
		if (nl > f) {
			if (tz_rule_parse(f, (size_t)(nl - f), &tz->rule) != 0) {
				why = "invalid POSIX TZ footer";
				goto bad;
			}
			tz->has_rule = 1;
		}
	}
	*out = tz;
	tz = NULL;
	rc = 0;
	goto out;
bad:
	rc = eng_errbuf_set(eb, ENG_EINVAL, "time zone '%s': %s",
	    name != NULL ? name : "", why);
out:
	tz_free(tz);
	return rc;
}

/* ---- conversion ----------------------------------------------------------- */

static const struct tz_type *
tz_type_at(const struct tz *tz, int64_t t)
{
	size_t lo, hi;

	if (tz->ntrans == 0)
		return tz->has_rule ? tz_rule_type(&tz->rule, t) : &tz->types[0];
	if (t < tz->trans[0])
		return &tz->types[0];
	if (t >= tz->trans[tz->ntrans - 1]) {
		if (tz->has_rule)
			return tz_rule_type(&tz->rule, t);
		return &tz->types[tz->idx[tz->ntrans - 1]];
	}
	/* largest i with trans[i] <= t */
	lo = 0;
	hi = tz->ntrans - 1;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return &tz->types[tz->idx[lo]];
}

int32_t
tz_offset_at(const struct tz *tz, int64_t t)
{
	if (t < TZ_T_MIN - 200000)
		t = TZ_T_MIN - 200000;
	if (t > TZ_T_MAX + 200000)
		t = TZ_T_MAX + 200000;
	return tz_type_at(tz, t)->utoff;
}

int
tz_to_local(const struct tz *tz, int64_t t, struct tz_tm *out)
{
	const struct tz_type *ty;
	int64_t local, days, rem, y;
	int m, d;

	if (t < TZ_T_MIN - 100000 || t > TZ_T_MAX + 100000)
		return ENG_EINVAL;
	ty = tz_type_at(tz, t);
	local = t + ty->utoff;
	if (local < TZ_T_MIN || local >= TZ_T_MAX)
		return ENG_EINVAL;
	days = tz_floordiv(local, 86400);
	rem = local - days * 86400;
	tz_civil_from_days(days, &y, &m, &d);
	memset(out, 0, sizeof(*out));
	out->year = y;
	out->mon = m;
	out->mday = d;
	out->hour = (int)(rem / 3600);
	out->min = (int)(rem / 60 % 60);
	out->sec = (int)(rem % 60);
	out->wday = (int)(((days + 4) % 7 + 7) % 7);
	out->yday = (int)(days - tz_days_from_civil(y, 1, 1));
	out->utoff = ty->utoff;
	out->isdst = ty->isdst;
	memcpy(out->abbr, ty->abbr, sizeof(out->abbr));
	return 0;
}

/* index of the first transition > t (ntrans if none) */
static size_t
tz_first_after(const struct tz *tz, int64_t t)
{
	size_t lo = 0, hi = tz->ntrans;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tz->trans[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
tz_add_off(int32_t *offs, int *n, int max, int32_t o)
{
	int i;

	for (i = 0; i < *n; i++)
		if (offs[i] == o)
			return;
	if (*n < max)
		offs[(*n)++] = o;
}

int
tz_to_utc(const struct tz *tz, const struct tz_tm *lt, int64_t *out,
    enum tz_local_kind *kind)
{
	int32_t offs[TZ_MAX_TYPES + 4], omax;
	int noffs = 0, nvalid = 0, i;
	int64_t local, best = 0, lo, hi;
	size_t k;

	if (lt->year < 1 || lt->year > 9999 || lt->mon < 1 || lt->mon > 12 ||
	    lt->mday < 1 || lt->mday > tz_days_in_month(lt->year, lt->mon) ||
	    lt->hour < 0 || lt->hour > 23 || lt->min < 0 || lt->min > 59 ||
	    lt->sec < 0 || lt->sec > 59)
		return ENG_EINVAL;
	local = tz_days_from_civil(lt->year, lt->mon, lt->mday) * 86400 +
	    lt->hour * 3600 + lt->min * 60 + lt->sec;
	/*
	 * Every instant that could read as `local` lies in [lo, hi].  Collect
	 * the offsets in effect anywhere in that window: the one at lo, the
	 * one after each transition inside it, and both offsets of the POSIX
	 * rule if the window reaches past the table.
	 */
	lo = local - TZ_OFF_MAX;
	hi = local - TZ_OFF_MIN;
	tz_add_off(offs, &noffs, (int)(sizeof(offs) / sizeof(offs[0])),
	    tz_offset_at(tz, lo));
	for (k = tz_first_after(tz, lo); k < tz->ntrans && tz->trans[k] <= hi; k++)
		tz_add_off(offs, &noffs, (int)(sizeof(offs) / sizeof(offs[0])),
		    tz_offset_at(tz, tz->trans[k]));
	if (tz->has_rule && (tz->ntrans == 0 || hi >= tz->trans[tz->ntrans - 1])) {
		tz_add_off(offs, &noffs, (int)(sizeof(offs) / sizeof(offs[0])),
		    tz->rule.std.utoff);
		if (tz->rule.has_dst)
			tz_add_off(offs, &noffs, (int)(sizeof(offs) / sizeof(offs[0])),
			    tz->rule.dst.utoff);
	}
	for (i = 0; i < noffs; i++) {
		int64_t t = local - offs[i];

		if (tz_offset_at(tz, t) != offs[i])
			continue;
		if (nvalid == 0 || t < best)
			best = t;
		nvalid++;
	}
	if (nvalid > 0) {
		*out = best;
		if (kind != NULL)
			*kind = nvalid > 1 ? TZ_LOCAL_OVERLAP : TZ_LOCAL_UNIQUE;
		return 0;
	}
	if (kind != NULL)
		*kind = TZ_LOCAL_GAP;
	/*
	 * A gap: read the time with the offset in effect before the forward
	 * jump it falls into (mktime with tm_isdst = -1).  Look for that jump
	 * in the table first (latest one wins).
	 */
	for (k = tz_first_after(tz, hi); k > 0; k--) {
		int64_t tr = tz->trans[k - 1];
		int32_t ob, oa;

		if (tr <= lo)
			break;
		ob = tz_offset_at(tz, tr - 1);
		oa = tz_offset_at(tz, tr);
		if (tr + ob <= local && local < tr + oa) {
			*out = local - ob;
			return 0;
		}
	}
	/* in the rule's years: the offset before the jump is the smaller one */
	omax = offs[0];
	for (i = 1; i < noffs; i++)
		if (offs[i] > omax)
			omax = offs[i];
	*out = local - tz_offset_at(tz, local - omax);
	return 0;
}

/* ---- loading -------------------------------------------------------------- */

static int
tz_name_ok(const char *name, size_t len)
{
	size_t i, comp = 0;

	if (len == 0 || len > TZ_NAME_MAX || name[0] == '/')
		return 0;
	for (i = 0; i <= len; i++) {
		int ch = i < len ? (unsigned char)name[i] : '/';

		if (ch == '/') {
			size_t clen = i - comp;

			if (clen == 0 || (clen == 1 && name[comp] == '.') ||
			    (clen == 2 && name[comp] == '.' && name[comp + 1] == '.'))
				return 0;
			comp = i + 1;
			continue;
		}
		if (!tz_isalpha(ch) && !tz_isdigit(ch) && ch != '_' && ch != '-' &&
		    ch != '+' && ch != '.')
			return 0;
	}
	return 1;
}

static int
tz_is_utc_name(const char *n)
{
	static const char *const utc[] = { "UTC", "Etc/UTC", "GMT", "Etc/GMT",
	    "Zulu", "Etc/Zulu", "UCT", "Etc/UCT", "Universal", "Etc/Universal",
	    "GMT0", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "Greenwich",
	    "Etc/Greenwich" };
	size_t i;

	for (i = 0; i < sizeof(utc) / sizeof(utc[0]); i++)
		if (strcmp(n, utc[i]) == 0)
			return 1;
	return 0;
}

/* read a whole regular file (at most TZ_FILE_MAX bytes) */
static int
tz_read_file(const char *path, uint8_t **data, size_t *lenp)
{
	struct stat st;
	uint8_t *p = NULL;
	size_t n = 0;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		goto out;
	}
	rc = -EISDIR;
	if (S_ISDIR(st.st_mode))
		goto out;
	rc = -EFBIG;
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > TZ_FILE_MAX)
		goto out;
	rc = -ENOMEM;
	if ((p = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, p + n, (size_t)st.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*data = p;
	*lenp = n;
	p = NULL;
	rc = 0;
out:
	free(p);
	close(fd);
	return rc;
}

static int
tz_load_path(const char *name, const char *path, struct tz **out,
    struct eng_errbuf *eb)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	rc = tz_read_file(path, &data, &len);
	if (rc == -ENOENT || rc == -ENOTDIR) {
		rc = eng_errbuf_set(eb, ENG_EINVAL,
		    "unknown time zone '%s' (no %s; install tzdata or fix the name)",
		    name, path);
		goto out;
	}
	if (rc == -EISDIR) {
		rc = eng_errbuf_set(eb, ENG_EINVAL,
		    "time zone '%s' is a region, not a zone (%s is a directory; "
		    "use a name such as 'Asia/Shanghai')", name, path);
		goto out;
	}
	if (rc == -EFBIG) {
		rc = eng_errbuf_set(eb, ENG_EINVAL,
		    "time zone '%s': %s is not a time zone file", name, path);
		goto out;
	}
	if (rc != 0) {
		eng_errbuf_set(eb, rc, "time zone '%s': cannot read %s: %s",
		    name, path, eng_strerror(rc));
		goto out;
	}
	rc = tz_parse(name, data, len, out, eb);
	if (rc == ENG_EINVAL)
		eng_errbuf_set(eb, rc, "time zone '%s': %s is not a valid TZif "
		    "file (reinstall tzdata)", name, path);
out:
	free(data);
	return rc;
}

static int
tz_load_named(const char *name, struct tz **out, struct eng_errbuf *eb)
{
	char path[sizeof(TZ_DIR) + TZ_NAME_MAX + 2];
	size_t len = strlen(name);

	if (tz_is_utc_name(name))
		return tz_parse_posix(name, "UTC0", 4, out, eb);
	if (!tz_name_ok(name, len))
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "invalid time zone name '%.*s' (use an IANA name such as "
		    "'Asia/Shanghai' or 'UTC'; no absolute paths or '..')",
		    (int)(len > 80 ? 80 : len), name);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", TZ_DIR, name) >= sizeof(path))
		return eng_errbuf_set(eb, ENG_EINVAL, "time zone name too long");
	return tz_load_path(name, path, out, eb);
}

/* the machine's zone from /etc/localtime */
static int
tz_load_localtime(struct tz **out, struct eng_errbuf *eb)
{
	char link[PATH_MAX], name[TZ_NAME_MAX + 1];
	const char *n = "localtime", *z;
	ssize_t r;

	if (access("/etc/localtime", F_OK) != 0)
		return tz_utc(out);
	r = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (r > 0) {
		link[r] = '\0';
		if ((z = strstr(link, "zoneinfo/")) != NULL &&
		    strlen(z + 9) <= TZ_NAME_MAX && tz_name_ok(z + 9, strlen(z + 9))) {
			memcpy(name, z + 9, strlen(z + 9) + 1);
			n = name;
			if (tz_is_utc_name(n))
				return tz_parse_posix(n, "UTC0", 4, out, eb);
		}
	}
	return tz_load_path(n, "/etc/localtime", out, eb);
}

/* the interned zone called name, with a reference taken, or NULL */
static struct tz *
tz_intern_get(const char *name)
{
	struct tz *t;

	pthread_mutex_lock(&tz_lock);
	for (t = tz_interned; t != NULL; t = t->next)
		if (strcmp(t->name, name) == 0) {
			t->refs++;
			break;
		}
	pthread_mutex_unlock(&tz_lock);
	return t;
}

/* a zone loaded by name: the interned one, or load and intern it */
static int
tz_load_interned(const char *name, struct tz **out, struct eng_errbuf *eb)
{
	struct tz *t, *had;
	int rc;

	if ((*out = tz_intern_get(name)) != NULL)
		return 0;
	if ((rc = tz_load_named(name, &t, eb)) != 0)
		return rc;
	/* another thread may have loaded it meanwhile: keep the first */
	pthread_mutex_lock(&tz_lock);
	for (had = tz_interned; had != NULL; had = had->next)
		if (strcmp(had->name, name) == 0)
			break;
	if (had != NULL) {
		had->refs++;
	} else {
		t->interned = true;
		t->next = tz_interned;
		tz_interned = t;
	}
	pthread_mutex_unlock(&tz_lock);
	if (had != NULL) {
		tz_free(t);
		t = had;
	}
	*out = t;
	return 0;
}

int
tz_load(const char *name, struct tz **out, struct eng_errbuf *eb)
{
	const char *env;
	int rc;

	*out = NULL;
	if (name != NULL && name[0] != '\0')
		return tz_load_interned(name, out, eb);
	if ((env = getenv("TZ")) == NULL)
		return tz_load_localtime(out, eb);
	if (env[0] == ':')
		env++;
	if (env[0] == '\0')
		return tz_utc(out);
	if (env[0] == '/')
		return tz_load_path(env, env, out, eb);
	rc = tz_load_named(env, out, eb);
	if (rc == ENG_EINVAL &&
	    tz_parse_posix(env, env, strlen(env), out, NULL) == 0)
		rc = 0;
	if (rc == ENG_EINVAL)
		eng_errbuf_set(eb, rc, "unknown time zone '%s' in $TZ (no %s/%s; "
		    "install tzdata or fix $TZ)", env, TZ_DIR, env);
	return rc;
}
