/* SPDX-License-Identifier: MIT */
/*
 * emu_oss_req.c - pure request parsing for the OSS side of difs-emu: query
 * strings, percent coding, bucket/key addressing, Range headers and HTTP
 * dates.  No I/O and no shared state, so everything here is fuzzed
 * (tests/fuzz/fuzz_emu_oss_request.c).  Also the store's metadata record
 * format (emu_oss_meta_encode/decode), a parser of its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "num.h"
#include "emu_oss_i.h"

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int
emu_oss_pct_decode(const char *s, size_t len, int plus_space, char **out)
{
	char *d;
	size_t i, j = 0;

	*out = NULL;
	if ((d = malloc(len + 1)) == NULL)
		return -ENOMEM;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '%') {
			int hi, lo;

			if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0) {
				free(d);
				return -EINVAL;
			}
			ch = (unsigned char)(hi * 16 + lo);
			i += 2;
		} else if (ch == '+' && plus_space) {
			ch = ' ';
		}
		if (ch == '\0') {
			free(d);
			return -EINVAL;
		}
		d[j++] = (char)ch;
	}
	d[j] = '\0';
	*out = d;
	return 0;
}

int
emu_oss_pct_encode(struct buf *b, const char *s, size_t len, int keep_slash)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~' || (ch == '/' && keep_slash)) {
			buf_addc(b, (char)ch);
		} else {
			buf_addc(b, '%');
			buf_addc(b, hx[ch >> 4]);
			buf_addc(b, hx[ch & 15]);
		}
	}
	return b->err;
}

void
emu_oss_query_free(struct emu_oss_query *q)
{
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < q->n; i++) {
		free(q->p[i].raw_key);
		free(q->p[i].raw_val);
		free(q->p[i].key);
		free(q->p[i].val);
	}
	free(q->p);
	q->p = NULL;
	q->n = 0;
}

static char *
dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

int
emu_oss_query_parse(const char *raw, struct emu_oss_query *q)
{
	const char *p = raw, *end, *amp, *eq;
	size_t cnt = 1, i;
	int rc;

	q->p = NULL;
	q->n = 0;
	if (raw == NULL || *raw == '\0')
		return 0;
	for (i = 0; raw[i] != '\0'; i++)
		if (raw[i] == '&')
			cnt++;
	if ((q->p = calloc(cnt, sizeof(*q->p))) == NULL)
		return -ENOMEM;
	end = raw + strlen(raw);
	while (p < end) {
		struct emu_oss_qp *e;

		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if (amp == p) {		/* "a&&b" */
			p = amp + 1;
			continue;
		}
		e = &q->p[q->n++];
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL) {
			e->raw_key = dupn(p, (size_t)(amp - p));
			e->raw_val = dupn("", 0);
		} else {
			e->raw_key = dupn(p, (size_t)(eq - p));
			e->raw_val = dupn(eq + 1, (size_t)(amp - eq - 1));
			e->has_val = 1;
		}
		if (e->raw_key == NULL || e->raw_val == NULL)
			return -ENOMEM;
		if ((rc = emu_oss_pct_decode(e->raw_key, strlen(e->raw_key), 1,
		    &e->key)) != 0)
			return rc;
		if ((rc = emu_oss_pct_decode(e->raw_val, strlen(e->raw_val), 1,
		    &e->val)) != 0)
			return rc;
		p = amp + 1;
	}
	return 0;
}

const char *
emu_oss_query_get(const struct emu_oss_query *q, const char *key)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		if (strcmp(q->p[i].key, key) == 0)
			return q->p[i].val;
	return NULL;
}

int
emu_oss_query_has(const struct emu_oss_query *q, const char *key)
{
	return emu_oss_query_get(q, key) != NULL;
}

int
emu_oss_bucket_valid(const char *b)
{
	size_t i, n = strlen(b);

	if (n < 3 || n > 63)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = b[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-'))
			return 0;
	}
	return b[0] != '-' && b[n - 1] != '-';
}

/* Host without port; IPv6 literals keep their brackets. */
static size_t
host_len(const char *h)
{
	const char *c;

	if (h[0] == '[') {
		c = strchr(h, ']');
		return c != NULL ? (size_t)(c - h + 1) : strlen(h);
	}
	c = strchr(h, ':');
	return c != NULL ? (size_t)(c - h) : strlen(h);
}

static int
host_is_path_style(const char *h, size_t n)
{
	size_t i;
	int dots = 0, digits_only = 1;

	/* "[::1]", and ali-oss's ".oss-cn-hangzhou..." for service requests */
	if (n == 0 || h[0] == '[' || h[0] == '.')
		return 1;
	if (n == 9 && strncmp(h, "localhost", 9) == 0)
		return 1;
	for (i = 0; i < n; i++) {
		if (h[i] == '.')
			dots++;
		else if (h[i] < '0' || h[i] > '9')
			digits_only = 0;
	}
	if (digits_only)	/* IPv4 literal */
		return 1;
	if (dots == 0)		/* a bare host name: no bucket label */
		return 1;
	/* the service endpoint itself: oss-cn-hangzhou.aliyuncs.com etc. */
	if (n >= 4 && strncmp(h, "oss-", 4) == 0)
		return 1;
	if (n >= 4 && strncmp(h, "oss.", 4) == 0)
		return 1;
	return 0;
}

void
emu_oss_target_free(struct emu_oss_target *t)
{
	if (t == NULL)
		return;
	free(t->bucket);
	free(t->key);
	t->bucket = NULL;
	t->key = NULL;
}

int
emu_oss_target_parse(const char *host, const char *raw_path,
    struct emu_oss_target *t)
{
	const char *path = raw_path != NULL ? raw_path : "/";
	size_t hl;
	int rc = -ENOMEM;

	memset(t, 0, sizeof(*t));
	if (host == NULL)
		host = "";
	if (*path == '/')
		path++;
	hl = host_len(host);
	if (!host_is_path_style(host, hl)) {
		const char *dot = memchr(host, '.', hl);

		if ((t->bucket = dupn(host, (size_t)(dot - host))) == NULL)
			goto out;
		t->vhost = 1;
		if (*path != '\0' &&
		    (rc = emu_oss_pct_decode(path, strlen(path), 0, &t->key)) != 0)
			goto out;
		rc = 0;
		goto out;
	}
	if (*path != '\0') {
		const char *sl = strchr(path, '/');
		size_t bl = sl != NULL ? (size_t)(sl - path) : strlen(path);

		if ((rc = emu_oss_pct_decode(path, bl, 0, &t->bucket)) != 0)
			goto out;
		if (sl != NULL && sl[1] != '\0' &&
		    (rc = emu_oss_pct_decode(sl + 1, strlen(sl + 1), 0,
		    &t->key)) != 0)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		emu_oss_target_free(t);
	return rc;
}

/* parse decimal digits [s, s+n) into *v; more than 19 of them are refused
 * (a Range with a 20-digit number is ignored, not answered 416) */
static int
digits(const char *s, size_t n, uint64_t *v)
{
	if (n > 19)
		return -EINVAL;
	return num_u64(s, n, UINT64_MAX, v);
}

int
emu_oss_range_parse(const char *v, uint64_t size, uint64_t *off, uint64_t *len)
{
	const char *dash;
	uint64_t a = 0, b = 0;
	int has_a, has_b;

	if (v == NULL || strncmp(v, "bytes=", 6) != 0)
		return 0;
	v += 6;
	if (strchr(v, ',') != NULL)
		return 0;
	if ((dash = strchr(v, '-')) == NULL)
		return 0;
	has_a = dash != v;
	has_b = dash[1] != '\0';
	if (has_a && digits(v, (size_t)(dash - v), &a) != 0)
		return 0;
	if (has_b && digits(dash + 1, strlen(dash + 1), &b) != 0)
		return 0;
	if (!has_a && !has_b)
		return 0;
	if (!has_a) {			/* suffix: last b bytes */
		if (b == 0)
			return -ERANGE;
		if (size == 0)
			return -ERANGE;
		*len = b > size ? size : b;
		*off = size - *len;
		return 1;
	}
	if (has_b && b < a)
		return 0;		/* invalid: ignored, whole object */
	if (a >= size)
		return -ERANGE;
	if (!has_b || b >= size)
		b = size - 1;
	*off = a;
	*len = b - a + 1;
	return 1;
}

static const char *const mon_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const char *const day_names[7] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};

static int
tm_to_time(struct tm *tm, time_t *out)
{
	time_t t;

	if (tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_mday < 1 ||
	    tm->tm_mday > 31 || tm->tm_hour > 23 || tm->tm_min > 59 ||
	    tm->tm_sec > 60 || tm->tm_year < 70 || tm->tm_year > 1100)
		return -EINVAL;
	t = timegm(tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*out = t;
	return 0;
}

/* "Wed, 28 Dec 2022 10:27:41 GMT" */
int
emu_oss_parse_gmt(const char *s, time_t *out)
{
	struct tm tm;
	uint64_t v;
	int i;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strlen(s) != 29 || s[3] != ',' || s[4] != ' ' ||
	    s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' ||
	    s[22] != ':' || s[25] != ' ' || strcmp(s + 26, "GMT") != 0)
		return -EINVAL;
	for (i = 0; i < 7; i++)
		if (strncmp(s, day_names[i], 3) == 0)
			break;
	if (i == 7)
		return -EINVAL;
	if (digits(s + 5, 2, &v) != 0)
		return -EINVAL;
	tm.tm_mday = (int)v;
	for (i = 0; i < 12; i++)
		if (strncmp(s + 8, mon_names[i], 3) == 0)
			break;
	if (i == 12)
		return -EINVAL;
	tm.tm_mon = i;
	if (digits(s + 12, 4, &v) != 0)
		return -EINVAL;
	tm.tm_year = (int)v - 1900;
	if (digits(s + 17, 2, &v) != 0)
		return -EINVAL;
	tm.tm_hour = (int)v;
	if (digits(s + 20, 2, &v) != 0)
		return -EINVAL;
	tm.tm_min = (int)v;
	if (digits(s + 23, 2, &v) != 0)
		return -EINVAL;
	tm.tm_sec = (int)v;
	return tm_to_time(&tm, out);
}

/* "20231216T162057Z" */
int
emu_oss_parse_iso(const char *s, time_t *out)
{
	struct tm tm;
	uint64_t v;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return -EINVAL;
	if (digits(s, 4, &v) != 0)
		return -EINVAL;
	tm.tm_year = (int)v - 1900;
	if (digits(s + 4, 2, &v) != 0)
		return -EINVAL;
	tm.tm_mon = (int)v - 1;
	if (digits(s + 6, 2, &v) != 0)
		return -EINVAL;
	tm.tm_mday = (int)v;
	if (digits(s + 9, 2, &v) != 0)
		return -EINVAL;
	tm.tm_hour = (int)v;
	if (digits(s + 11, 2, &v) != 0)
		return -EINVAL;
	tm.tm_min = (int)v;
	if (digits(s + 13, 2, &v) != 0)
		return -EINVAL;
	tm.tm_sec = (int)v;
	return tm_to_time(&tm, out);
}

void
emu_oss_fmt_gmt(time_t t, char out[40])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		out[0] = '\0';
}

void
emu_oss_fmt_iso_ms(time_t t, char out[40])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(out, 40, "%Y-%m-%dT%H:%M:%S.000Z", &tm) == 0)
		out[0] = '\0';
}

/* ---- metadata records (the store's sidecar format) ---------------------------------------------------- */

const char *
emu_oss_otype_name(enum emu_oss_otype t)
{
	switch (t) {
	case EMU_OSS_APPENDABLE:
		return "Appendable";
	case EMU_OSS_MULTIPART:
		return "Multipart";
	case EMU_OSS_NORMAL:
		break;
	}
	return "Normal";
}

void
emu_oss_meta_clear(struct emu_oss_meta *m)
{
	if (m == NULL)
		return;
	free(m->key);
	free(m->ctype);
	free(m->umeta);
	memset(m, 0, sizeof(*m));
}

static int
sdup(const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return 0;
	return (*out = strdup(s)) != NULL ? 0 : -ENOMEM;
}

int
emu_oss_meta_copy(struct emu_oss_meta *d, const struct emu_oss_meta *s)
{
	*d = *s;
	d->key = d->ctype = d->umeta = NULL;
	if (sdup(s->key, &d->key) != 0 || sdup(s->ctype, &d->ctype) != 0 ||
	    sdup(s->umeta, &d->umeta) != 0) {
		emu_oss_meta_clear(d);
		return -ENOMEM;
	}
	return 0;
}

int
emu_oss_meta_encode(struct buf *b, const struct emu_oss_meta *m)
{
	const char *k = m->key != NULL ? m->key : "";

	buf_addstr(b, "difs-emu-oss 1\nkey=");
	emu_oss_pct_encode(b, k, strlen(k), 1);
	buf_printf(b, "\nsize=%llu\netag=%s\ncrc64=%llu\nmtime=%lld\ntype=%d\n"
	    "side=%d\n", (unsigned long long)m->size, m->etag,
	    (unsigned long long)m->crc64, (long long)m->mtime, (int)m->type,
	    m->side);
	if (m->ctype != NULL) {
		buf_addstr(b, "ctype=");
		emu_oss_pct_encode(b, m->ctype, strlen(m->ctype), 1);
		buf_addc(b, '\n');
	}
	if (m->umeta != NULL) {
		buf_addstr(b, "umeta=");
		emu_oss_pct_encode(b, m->umeta, strlen(m->umeta), 1);
		buf_addc(b, '\n');
	}
	return b->err;
}

int
emu_oss_meta_decode(const char *p, size_t len, struct emu_oss_meta *m)
{
	const char *end = p + len, *nl, *eq;
	static const char magic[] = "difs-emu-oss 1\n";
	uint64_t v;
	int rc = -EINVAL;

	memset(m, 0, sizeof(*m));
	if (len < sizeof(magic) - 1 || memcmp(p, magic, sizeof(magic) - 1) != 0)
		return -EINVAL;
	p += sizeof(magic) - 1;
	for (; p < end; p = nl + 1) {
		char name[16], *val = NULL;
		size_t nlen;

		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			goto out;
		if ((eq = memchr(p, '=', (size_t)(nl - p))) == NULL)
			goto out;
		nlen = (size_t)(eq - p);
		if (nlen >= sizeof(name))
			goto out;
		memcpy(name, p, nlen);
		name[nlen] = '\0';
		if ((rc = emu_oss_pct_decode(eq + 1, (size_t)(nl - eq - 1), 0,
		    &val)) != 0)
			goto out;
		rc = -EINVAL;
		if (strcmp(name, "key") == 0 && m->key == NULL) {
			m->key = val;
			val = NULL;
		} else if (strcmp(name, "ctype") == 0 && m->ctype == NULL) {
			m->ctype = val;
			val = NULL;
		} else if (strcmp(name, "umeta") == 0 && m->umeta == NULL) {
			m->umeta = val;
			val = NULL;
		} else if (strcmp(name, "etag") == 0) {
			if (strlen(val) >= sizeof(m->etag)) {
				free(val);
				goto out;
			}
			memcpy(m->etag, val, strlen(val) + 1);
		} else if (num_u64(val, (size_t)-1, UINT64_MAX, &v) != 0) {
			free(val);
			goto out;
		} else if (strcmp(name, "size") == 0) {
			m->size = v;
		} else if (strcmp(name, "crc64") == 0) {
			m->crc64 = v;
		} else if (strcmp(name, "mtime") == 0 && v < ((uint64_t)1 << 40)) {
			m->mtime = (time_t)v;
		} else if (strcmp(name, "type") == 0 && v <= EMU_OSS_MULTIPART) {
			m->type = (enum emu_oss_otype)v;
		} else if (strcmp(name, "side") == 0 && v <= 1) {
			m->side = (int)v;
		} else {
			free(val);
			goto out;
		}
		free(val);
	}
	rc = m->key != NULL ? 0 : -EINVAL;
out:
	if (rc != 0)
		emu_oss_meta_clear(m);
	return rc;
}
