/* SPDX-License-Identifier: MIT */
/*
 * http.c - transport-independent HTTP helpers: the response container
 * (headers with case-insensitive lookup), percent-encoding, query-string
 * parsing and the retry backoff.  No library dependency, so difs-emu, the
 * mock transport and the fuzz targets use the same code as the clients.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "err.h"
#include "http.h"

#define HTTP_MAX_HDRS		1000
#define HTTP_MAX_HDR_BYTES	((size_t)64 << 10)	/* one header line */
#define HTTP_MAX_QUERY		((size_t)64 << 10)
#define HTTP_MAX_PARAMS		1000

void
http_response_init(struct http_response *r)
{
	r->status = 0;
	r->hdrs = NULL;
	r->nhdrs = 0;
	r->hdr_mem_ = NULL;
	r->hdr_cap_ = 0;
	buf_init(&r->body, BUF_MAX_DOC);
}

static void
http_response_drop_headers(struct http_response *r)
{
	size_t i;

	for (i = 0; i < r->nhdrs; i++)
		free(r->hdr_mem_[i]);
	r->nhdrs = 0;
}

void
http_response_reset(struct http_response *r)
{
	http_response_drop_headers(r);
	r->status = 0;
	buf_reset(&r->body);
}

void
http_response_free(struct http_response *r)
{
	if (r == NULL)
		return;
	http_response_drop_headers(r);
	free(r->hdrs);
	free(r->hdr_mem_);
	r->hdrs = NULL;
	r->hdr_mem_ = NULL;
	r->hdr_cap_ = 0;
	r->status = 0;
	buf_free(&r->body);
}

const char *
http_response_header(const struct http_response *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hdrs[i].name, name) == 0)
			return r->hdrs[i].value;
	return NULL;
}

static bool
http_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
http_response_add_header(struct http_response *r, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	char *mem;

	/* trim the value; names are taken as given */
	while (vlen > 0 && http_is_blank(*value)) {
		value++;
		vlen--;
	}
	while (vlen > 0 && http_is_blank(value[vlen - 1]))
		vlen--;
	if (nlen + vlen + 2 > HTTP_MAX_HDR_BYTES || r->nhdrs >= HTTP_MAX_HDRS)
		return -E2BIG;
	if (r->nhdrs == r->hdr_cap_) {
		size_t ncap = r->hdr_cap_ == 0 ? 16 : r->hdr_cap_ * 2;
		struct http_hdr *nh;
		char **nm;

		if ((nh = realloc(r->hdrs, ncap * sizeof(*nh))) == NULL)
			return -ENOMEM;
		r->hdrs = nh;
		if ((nm = realloc(r->hdr_mem_, ncap * sizeof(*nm))) == NULL)
			return -ENOMEM;
		r->hdr_mem_ = nm;
		r->hdr_cap_ = ncap;
	}
	if ((mem = malloc(nlen + vlen + 2)) == NULL)
		return -ENOMEM;
	memcpy(mem, name, nlen);
	mem[nlen] = '\0';
	memcpy(mem + nlen + 1, value, vlen);
	mem[nlen + 1 + vlen] = '\0';
	r->hdr_mem_[r->nhdrs] = mem;
	r->hdrs[r->nhdrs].name = mem;
	r->hdrs[r->nhdrs].value = mem + nlen + 1;
	r->nhdrs++;
	return 0;
}

static uint64_t
http_default_rand(void *arg)
{
	(void)arg;
	return (uint64_t)arc4random() << 32 | arc4random();
}

uint64_t
http_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t max_ms,
    http_rand_fn *rand, void *rand_arg)
{
	uint64_t cap = base_ms;
	uint64_t r;
	unsigned i;

	for (i = 0; i < attempt && cap < max_ms; i++) {
		if (cap > UINT64_MAX / 2) {
			cap = UINT64_MAX;
			break;
		}
		cap *= 2;
	}
	if (cap > max_ms)
		cap = max_ms;
	r = (rand != NULL ? rand : http_default_rand)(rand_arg);
	if (cap == UINT64_MAX)
		return r;
	return r % (cap + 1);
}

static bool
http_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

int
http_pct_encode(struct buf *b, const char *s, size_t n, unsigned flags)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, start = 0;
	int rc;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3];

		if (http_unreserved(c) || (c == '/' && (flags & HTTP_PCT_KEEP_SLASH)))
			continue;
		if (i > start && (rc = buf_add(b, s + start, i - start)) != 0)
			return rc;
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		if ((rc = buf_add(b, esc, 3)) != 0)
			return rc;
		start = i + 1;
	}
	if (n > start)
		return buf_add(b, s + start, n - start);
	return b->err;
}

static int
http_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
http_pct_decode(struct buf *b, const char *s, size_t n, bool plus_is_space)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (n - i < 3)
				return ENG_EINVAL;
			hi = http_hexval(s[i + 1]);
			lo = http_hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return ENG_EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if ((rc = buf_addc(b, c)) != 0)
			return rc;
	}
	return b->err;
}

/* decode s[0..n) into the arena; *off gets where it starts */
static int
http_query_piece(struct buf *arena, const char *s, size_t n, size_t *off)
{
	size_t start = arena->len;
	int rc;

	if ((rc = http_pct_decode(arena, s, n, true)) != 0)
		return rc;
	if (memchr(arena->p + start, '\0', arena->len - start) != NULL)
		return ENG_EINVAL;
	*off = start;
	/* separate pieces with a NUL so each is a C string */
	return buf_addc(arena, '\0');
}

int
http_query_parse(const char *raw, size_t len, struct http_query *q)
{
	struct buf arena;
	size_t (*offs)[2] = NULL;	/* key offset, value offset or SIZE_MAX */
	struct http_param *params = NULL;
	char *mem = NULL;
	size_t n = 0, i, pos = 0;
	int rc;

	buf_init(&arena, 2 * HTTP_MAX_QUERY);
	if (raw == NULL && len != 0)
		return ENG_EINVAL;
	if (len > HTTP_MAX_QUERY)
		return -E2BIG;
	rc = -ENOMEM;
	if ((offs = calloc(HTTP_MAX_PARAMS, sizeof(*offs))) == NULL)
		goto out;
	while (pos < len) {
		const char *piece = raw + pos;
		const char *amp = memchr(piece, '&', len - pos);
		size_t plen = amp != NULL ? (size_t)(amp - piece) : len - pos;
		const char *eq = memchr(piece, '=', plen);
		size_t klen = eq != NULL ? (size_t)(eq - piece) : plen;

		pos += plen + 1;
		if (plen == 0)
			continue;
		if (n == HTTP_MAX_PARAMS) {
			rc = -E2BIG;
			goto out;
		}
		if ((rc = http_query_piece(&arena, piece, klen, &offs[n][0])) != 0)
			goto out;
		offs[n][1] = SIZE_MAX;
		if (eq != NULL &&
		    (rc = http_query_piece(&arena, eq + 1, plen - klen - 1, &offs[n][1])) != 0)
			goto out;
		n++;
	}
	rc = -ENOMEM;
	if (n > 0 && (params = calloc(n, sizeof(*params))) == NULL)
		goto out;
	/* buffer contents are final now: turn offsets into pointers */
	if ((mem = buf_take(&arena, NULL)) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		params[i].key = mem + offs[i][0];
		params[i].value = offs[i][1] == SIZE_MAX ? NULL : mem + offs[i][1];
	}
	q->params = params;
	q->arena_ = mem;
	q->n = n;
	params = NULL;
	mem = NULL;
	rc = 0;
out:
	free(mem);
	free(params);
	free(offs);
	buf_free(&arena);
	return rc;
}

void
http_query_free(struct http_query *q)
{
	if (q == NULL)
		return;
	free(q->params);
	free(q->arena_);
	q->params = NULL;
	q->arena_ = NULL;
	q->n = 0;
}

const char *
http_query_get(const struct http_query *q, const char *key, bool *found)
{
	size_t i;

	for (i = 0; i < q->n; i++) {
		if (strcmp(q->params[i].key, key) == 0) {
			if (found != NULL)
				*found = true;
			return q->params[i].value;
		}
	}
	if (found != NULL)
		*found = false;
	return NULL;
}
