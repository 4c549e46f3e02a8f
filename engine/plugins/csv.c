/* SPDX-License-Identifier: MIT */
/*
 * csv.c - DataX-exact CSV/text line encoder (see csv.h for the rules).
 * Owns: value -> text conversion (Java formatting of doubles and dates),
 * trimming/quoting, charset conversion through iconv.
 */
#include <errno.h>
#include <iconv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "tz.h"

struct csv {
	enum csv_format	 format;
	char		*field_delim;
	char		*line_delim;
	char		*null_format;
	char		*date_format;
	int		 bytes_base64;
	csv_localtime_fn *localtime;
	void		*localtime_arg;
	iconv_t		 cd;		/**< (iconv_t)-1 when the target is UTF-8 */
	unsigned char	 special[256];	/**< bytes that force quoting: '"', the line
					     delimiter's, a one-byte field delimiter */
	int		 delim_multibyte; /**< field delimiter longer than one byte */
	struct buf	 line;		/**< UTF-8 line being built */
	struct buf	 field;		/**< one field's text */
};

static const char *const csv_mon_short[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const csv_mon_long[12] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December" };
static const char *const csv_wday_short[7] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const csv_wday_long[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };

int
csv_tz_localtime(void *arg, int64_t utc, struct tm *out, long *gmtoff)
{
	const struct tz *tz = arg;
	struct tz_tm t;
	int rc;

	if ((rc = tz_to_local(tz, utc, &t)) != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	out->tm_year = (int)(t.year - 1900);
	out->tm_mon = t.mon - 1;
	out->tm_mday = t.mday;
	out->tm_hour = t.hour;
	out->tm_min = t.min;
	out->tm_sec = t.sec;
	out->tm_wday = t.wday;
	out->tm_yday = t.yday;
	*gmtoff = t.utoff;
	return 0;
}

/* ---- value -> text ------------------------------------------------------ */

static int
csv_digits_plain(const char *sign, const char *u, size_t ulen, long scale, struct buf *out)
{
	/* BigDecimal(unscaled u, scale).toPlainString() */
	int rc = buf_addstr(out, sign);
	long i;

	if (scale <= 0) {
		rc |= buf_add(out, u, ulen);
		for (i = 0; i < -scale; i++)
			rc |= buf_addc(out, '0');
	} else if ((long)ulen > scale) {
		rc |= buf_add(out, u, ulen - (size_t)scale);
		rc |= buf_addc(out, '.');
		rc |= buf_add(out, u + ulen - (size_t)scale, (size_t)scale);
	} else {
		rc |= buf_addstr(out, "0.");
		for (i = 0; i < scale - (long)ulen; i++)
			rc |= buf_addc(out, '0');
		rc |= buf_add(out, u, ulen);
	}
	return rc != 0 ? (out->err != 0 ? out->err : -ENOMEM) : 0;
}

int
csv_java_double(double d, struct buf *out)
{
	char tmp[64], dig[32];
	size_t nd = 0, i;
	int prec, exp10 = 0;
	const char *sign = "";
	char *e;

	if (isnan(d))
		return buf_addstr(out, "NaN");
	if (isinf(d))
		return buf_addstr(out, d > 0 ? "Infinity" : "-Infinity");
	if (d == 0)
		return buf_addstr(out, "0.0");	/* BigDecimal has no -0 */
	if (d < 0) {
		sign = "-";
		d = -d;
	}
	/* shortest decimal that reads back as d (Double.toString's digits) */
	for (prec = 1; prec <= 17; prec++) {
		(void)snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	for (i = 0; tmp[i] != '\0' && tmp[i] != 'e'; i++)
		if (tmp[i] >= '0' && tmp[i] <= '9' && nd < sizeof(dig) - 1)
			dig[nd++] = tmp[i];
	if ((e = strchr(tmp, 'e')) != NULL)
		exp10 = (int)strtol(e + 1, NULL, 10);
	while (nd > 1 && dig[nd - 1] == '0')
		nd--;
	dig[nd] = '\0';
	if (d >= 1e-3 && d < 1e7) {
		/* Java plain form: at least one fraction digit */
		long intlen = exp10 + 1;	/* digits before the point */
		int rc = buf_addstr(out, sign);

		if (intlen <= 0) {
			rc |= buf_addstr(out, "0.");
			for (i = 0; i < (size_t)(-intlen); i++)
				rc |= buf_addc(out, '0');
			rc |= buf_add(out, dig, nd);
		} else if ((size_t)intlen >= nd) {
			rc |= buf_add(out, dig, nd);
			for (i = nd; i < (size_t)intlen; i++)
				rc |= buf_addc(out, '0');
			rc |= buf_addstr(out, ".0");
		} else {
			rc |= buf_add(out, dig, (size_t)intlen);
			rc |= buf_addc(out, '.');
			rc |= buf_add(out, dig + intlen, nd - (size_t)intlen);
		}
		return rc != 0 ? (out->err != 0 ? out->err : -ENOMEM) : 0;
	}
	/* Java "d.dddE±n" (at least one fraction digit), then toPlainString */
	if (nd == 1) {
		dig[1] = '0';
		dig[2] = '\0';
		nd = 2;
	}
	return csv_digits_plain(sign, dig, nd, (long)(nd - 1) - exp10, out);
}

static int
csv_pad(struct buf *out, long v, int width)
{
	return buf_printf(out, "%0*ld", width, v);
}

int
csv_date_format(const char *pat, int64_t ms, csv_localtime_fn *lt, void *lt_arg,
    struct buf *out)
{
	struct tm tm;
	long gmtoff = 0, msec;
	int64_t sec;
	const char *p = pat;
	int rc = 0;

	sec = ms / 1000;
	msec = (long)(ms % 1000);
	if (msec < 0) {
		msec += 1000;
		sec--;
	}
	if (lt != NULL) {
		if ((rc = lt(lt_arg, sec, &tm, &gmtoff)) != 0)
			return rc;
	} else {
		time_t t = (time_t)sec;

		if (gmtime_r(&t, &tm) == NULL)
			return -EOVERFLOW;
	}
	while (*p != '\0' && rc == 0) {
		char ch = *p;
		int n = 1;

		if (ch == '\'') {
			if (p[1] == '\'') {
				rc = buf_addc(out, '\'');
				p += 2;
				continue;
			}
			p++;
			while (*p != '\0') {
				if (*p == '\'' && p[1] == '\'') {
					rc |= buf_addc(out, '\'');
					p += 2;
				} else if (*p == '\'') {
					p++;
					break;
				} else {
					rc |= buf_addc(out, *p++);
				}
			}
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))) {
			rc = buf_addc(out, ch);
			p++;
			continue;
		}
		while (p[n] == ch)
			n++;
		p += n;
		switch (ch) {
		case 'y': {
			long y = tm.tm_year + 1900L;

			rc = n == 2 ? csv_pad(out, y % 100, 2) : csv_pad(out, y, n);
			break;
		}
		case 'M':
			if (n >= 4)
				rc = buf_addstr(out, csv_mon_long[tm.tm_mon]);
			else if (n == 3)
				rc = buf_addstr(out, csv_mon_short[tm.tm_mon]);
			else
				rc = csv_pad(out, tm.tm_mon + 1, n);
			break;
		case 'd': rc = csv_pad(out, tm.tm_mday, n); break;
		case 'D': rc = csv_pad(out, tm.tm_yday + 1, n); break;
		case 'H': rc = csv_pad(out, tm.tm_hour, n); break;
		case 'k': rc = csv_pad(out, tm.tm_hour == 0 ? 24 : tm.tm_hour, n); break;
		case 'K': rc = csv_pad(out, tm.tm_hour % 12, n); break;
		case 'h': rc = csv_pad(out, tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12, n); break;
		case 'm': rc = csv_pad(out, tm.tm_min, n); break;
		case 's': rc = csv_pad(out, tm.tm_sec, n); break;
		case 'S': rc = csv_pad(out, msec, n); break;
		case 'a': rc = buf_addstr(out, tm.tm_hour < 12 ? "AM" : "PM"); break;
		case 'E':
			rc = buf_addstr(out, n >= 4 ? csv_wday_long[tm.tm_wday] :
			    csv_wday_short[tm.tm_wday]);
			break;
		case 'Z': {
			long a = gmtoff < 0 ? -gmtoff : gmtoff;

			rc = buf_printf(out, "%c%02ld%02ld", gmtoff < 0 ? '-' : '+',
			    a / 3600, (a / 60) % 60);
			break;
		}
		case 'X': {
			long a = gmtoff < 0 ? -gmtoff : gmtoff;
			char sg = gmtoff < 0 ? '-' : '+';

			if (gmtoff == 0)
				rc = buf_addc(out, 'Z');
			else if (n == 1)
				rc = buf_printf(out, "%c%02ld", sg, a / 3600);
			else if (n == 2)
				rc = buf_printf(out, "%c%02ld%02ld", sg, a / 3600, (a / 60) % 60);
			else
				rc = buf_printf(out, "%c%02ld:%02ld", sg, a / 3600, (a / 60) % 60);
			break;
		}
		default:
			return ENG_EINVAL;
		}
	}
	return rc;
}

static int
csv_base64(const unsigned char *p, size_t n, struct buf *out)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	int rc = 0;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		char q[4] = { tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], tbl[v & 63] };

		rc |= buf_add(out, q, 4);
	}
	if (n - i == 1) {
		unsigned v = (unsigned)p[i] << 16;
		char q[4] = { tbl[v >> 18], tbl[(v >> 12) & 63], '=', '=' };

		rc |= buf_add(out, q, 4);
	} else if (n - i == 2) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
		char q[4] = { tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], '=' };

		rc |= buf_add(out, q, 4);
	}
	return rc != 0 ? out->err : 0;
}

int
csv_value_text(const struct csv *c, const struct rec_value *v, struct buf *out)
{
	switch (v->type) {
	case REC_NULL:
		return buf_addstr(out, c->null_format);
	case REC_STRING:
		return buf_add(out, v->p, v->n);
	case REC_LONG:
		return buf_printf(out, "%lld", (long long)v->l);
	case REC_DOUBLE:
		return csv_java_double(v->d, out);
	case REC_BOOL:
		return buf_addstr(out, v->l ? "true" : "false");
	case REC_BYTES:
		if (c->bytes_base64)
			return csv_base64((const unsigned char *)v->p, v->n, out);
		return buf_add(out, v->p, v->n);
	case REC_DATE:
		return csv_date_format(c->date_format, v->l, c->localtime,
		    c->localtime_arg, out);
	}
	return ENG_EINVAL;
}

/* ---- fields and lines ------------------------------------------------------ */

static int
csv_contains(const char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	if (k == 0 || k > n)
		return 0;
	return memmem(p, n, needle, k) != NULL;
}

/* does the trimmed field need quotes (DataX rule 3)? */
static int
csv_needs_quotes(const struct csv *c, const char *p, size_t n, int first)
{
	size_t i;

	if (first && (n == 0 || p[0] == '#'))
		return 1;
	for (i = 0; i < n; i++)
		if (c->special[(unsigned char)p[i]])
			return 1;
	return c->delim_multibyte && csv_contains(p, n, c->field_delim);
}

static int
csv_add_field(struct csv *c, const char *p, size_t n, int first)
{
	size_t i;
	int rc = 0;

	if (c->format == CSV_FMT_TEXT)
		return buf_add(&c->line, p, n);
	while (n > 0 && (unsigned char)p[0] <= 0x20) {
		p++;
		n--;
	}
	while (n > 0 && (unsigned char)p[n - 1] <= 0x20)
		n--;
	if (!csv_needs_quotes(c, p, n, first))
		return buf_add(&c->line, p, n);
	rc |= buf_addc(&c->line, '"');
	for (i = 0; i < n; i++) {
		if (p[i] == '"')
			rc |= buf_addc(&c->line, '"');
		rc |= buf_addc(&c->line, p[i]);
	}
	rc |= buf_addc(&c->line, '"');
	return rc != 0 ? c->line.err : 0;
}

static int
csv_finish_line(struct csv *c, struct buf *out)
{
	char *in, *o;
	size_t inleft, outleft, done = 0, start = out->len;
	int rc;

	if ((rc = buf_addstr(&c->line, c->line_delim)) != 0)
		return rc;
	if (c->cd == (iconv_t)-1)
		return buf_add(out, c->line.p, c->line.len);
	(void)iconv(c->cd, NULL, NULL, NULL, NULL);
	in = c->line.p;
	inleft = c->line.len;
	for (;;) {
		size_t room = inleft * 4 + 16;

		if ((rc = buf_reserve(out, room)) != 0)
			return rc;
		o = out->p + out->len;
		outleft = room;
		if (iconv(c->cd, &in, &inleft, &o, &outleft) == (size_t)-1) {
			int saverr = errno;

			if (saverr == E2BIG) {
				out->len += room - outleft;
				done += room - outleft;
				continue;
			}
			buf_truncate(out, start);
			return -EILSEQ;
		}
		out->len += room - outleft;
		break;
	}
	/* flush shift state (stateful encodings) */
	if ((rc = buf_reserve(out, 16)) != 0)
		return rc;
	o = out->p + out->len;
	outleft = 16;
	if (iconv(c->cd, NULL, NULL, &o, &outleft) != (size_t)-1)
		out->len += 16 - outleft;
	out->p[out->len] = '\0';
	(void)done;
	return 0;
}

int
csv_encode(struct csv *c, const struct record *r, struct buf *out)
{
	struct rec_value v;
	size_t i;
	int rc;

	if (r->ncols == 0)
		return 0;
	buf_reset(&c->line);
	for (i = 0; i < r->ncols; i++) {
		record_get(r, i, &v);
		buf_reset(&c->field);
		if ((rc = csv_value_text(c, &v, &c->field)) != 0)
			return rc;
		if (i > 0 && (rc = buf_addstr(&c->line, c->field_delim)) != 0)
			return rc;
		if ((rc = csv_add_field(c, c->field.p, c->field.len, i == 0)) != 0)
			return rc;
	}
	return csv_finish_line(c, out);
}

int
csv_encode_strings(struct csv *c, const char *const *v, size_t n, struct buf *out)
{
	size_t i;
	int rc;

	if (n == 0)
		return 0;
	buf_reset(&c->line);
	for (i = 0; i < n; i++) {
		if (i > 0 && (rc = buf_addstr(&c->line, c->field_delim)) != 0)
			return rc;
		if ((rc = csv_add_field(c, v[i], strlen(v[i]), i == 0)) != 0)
			return rc;
	}
	return csv_finish_line(c, out);
}

/* ---- construction ----------------------------------------------------------- */

static size_t
csv_utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static int
csv_is_utf8_name(const char *enc)
{
	return strcasecmp(enc, "UTF-8") == 0 || strcasecmp(enc, "UTF8") == 0;
}

void
csv_free(struct csv *c)
{
	if (c == NULL)
		return;
	if (c->cd != (iconv_t)-1)
		(void)iconv_close(c->cd);
	free(c->field_delim);
	free(c->line_delim);
	free(c->null_format);
	free(c->date_format);
	buf_free(&c->line);
	buf_free(&c->field);
	free(c);
}

int
csv_new(const struct csv_config *cfg, struct csv **out, struct eng_errbuf *eb)
{
	struct csv *c = NULL;
	const char *enc;
	struct buf probe;
	int rc = -ENOMEM;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->cd = (iconv_t)-1;
	buf_init(&c->line, RECORD_MAX_BYTES * 2);
	buf_init(&c->field, RECORD_MAX_BYTES * 2);
	c->format = cfg->format;
	c->bytes_base64 = cfg->bytes_base64;
	c->localtime = cfg->localtime;
	c->localtime_arg = cfg->localtime_arg;
	if ((c->field_delim = strdup(cfg->field_delim != NULL ? cfg->field_delim : ",")) == NULL ||
	    (c->line_delim = strdup(cfg->line_delim != NULL ? cfg->line_delim : "\n")) == NULL ||
	    (c->null_format = strdup(cfg->null_format != NULL ? cfg->null_format : "null")) == NULL ||
	    (c->date_format = strdup(cfg->date_format != NULL ? cfg->date_format :
	    "yyyy-MM-dd HH:mm:ss")) == NULL)
		goto out;
	if (c->format == CSV_FMT_CSV && csv_utf8_chars(c->field_delim) != 1) {
		rc = eng_errbuf_set(eb, ENG_EINVAL,
		    "fieldDelimiter must be exactly one character for csv (got %zu)",
		    csv_utf8_chars(c->field_delim));
		goto out;
	}
	if (c->line_delim[0] == '\0') {
		rc = eng_errbuf_set(eb, ENG_EINVAL, "lineDelimiter must not be empty");
		goto out;
	}
	c->special['"'] = 1;
	for (enc = c->line_delim; *enc != '\0'; enc++)
		c->special[(unsigned char)*enc] = 1;
	if (c->field_delim[0] != '\0' && c->field_delim[1] == '\0')
		c->special[(unsigned char)c->field_delim[0]] = 1;
	else
		c->delim_multibyte = c->field_delim[0] != '\0';
	buf_init(&probe, 256);
	rc = csv_date_format(c->date_format, 0, NULL, NULL, &probe);
	buf_free(&probe);
	if (rc != 0) {
		rc = eng_errbuf_set(eb, ENG_EINVAL,
		    "dateFormat '%s' uses a pattern letter difs does not support "
		    "(supported: y M d D H k K h m s S a E Z X and 'quoted text')",
		    c->date_format);
		goto out;
	}
	enc = cfg->encoding != NULL ? cfg->encoding : "UTF-8";
	if (!csv_is_utf8_name(enc)) {
		c->cd = iconv_open(enc, "UTF-8");
		if (c->cd == (iconv_t)-1) {
			rc = eng_errbuf_set(eb, ENG_EINVAL,
			    "encoding '%s' is not a charset iconv knows (try UTF-8, GBK, GB18030)", enc);
			goto out;
		}
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	csv_free(c);
	return rc;
}
