/* SPDX-License-Identifier: MIT */
/*
 * sign_canon.c - canonicalisation shared by the signatures (sorted header
 * blocks, trimming) and the Table Store V2 request and response signatures
 * (contrib/doc/tablestore.md 1.3-1.4).  No OpenSSL and no secret here: keyed
 * steps go through sign_i.h into sign.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "sign.h"
#include "sign_i.h"

#define SIGN_V4_ALG	"OSS4-HMAC-SHA256"

/* ---- canonical header blocks -------------------------------------------- */

bool
sign_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

void
sign_trim(const char *v, const char **start, size_t *len)
{
	size_t n = strlen(v);

	while (n > 0 && sign_is_blank(*v)) {
		v++;
		n--;
	}
	while (n > 0 && sign_is_blank(v[n - 1]))
		n--;
	*start = v;
	*len = n;
}


void
sign_set_free(struct sign_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].value);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

int
sign_item_cmp(const void *a, const void *b)
{
	const struct sign_item *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* sort by name (bytewise), then input order */
void
sign_set_sort(struct sign_set *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), sign_item_cmp);
}

/* append an item; the set owns name and value afterwards (even on error) */
int
sign_set_add_nodup(struct sign_set *s, char *name, char *value, size_t cap)
{
	if (name == NULL || value == NULL) {
		free(name);
		free(value);
		return -ENOMEM;
	}
	if (s->n == cap) {	/* callers size the array up front */
		free(name);
		free(value);
		return -E2BIG;
	}
	s->v[s->n].name = name;
	s->v[s->n].value = value;
	s->v[s->n].idx = s->n;
	s->n++;
	return 0;
}


/* select headers by lowercase name, trim values, sort */
int
sign_hdrs_select(const struct http_hdr *h, size_t nh, sign_pick_fn *pick,
    const void *arg, struct sign_set *out)
{
	struct sign_set s = { NULL, 0 };
	size_t i, k;
	int rc = -ENOMEM;

	if (nh > 0 && (s.v = calloc(nh, sizeof(*s.v))) == NULL)
		goto out;
	for (i = 0; i < nh; i++) {
		char *lname;
		const char *v;
		size_t vlen;

		if (h[i].name == NULL || h[i].value == NULL)
			continue;
		if ((lname = strdup(h[i].name)) == NULL)
			goto out;
		for (k = 0; lname[k] != '\0'; k++)
			if (lname[k] >= 'A' && lname[k] <= 'Z')
				lname[k] = (char)(lname[k] - 'A' + 'a');
		if (!pick(lname, arg)) {
			free(lname);
			continue;
		}
		sign_trim(h[i].value, &v, &vlen);
		if ((rc = sign_set_add_nodup(&s, lname, strndup(v, vlen), nh)) != 0)
			goto out;
	}
	sign_set_sort(&s);
	*out = s;
	s.v = NULL;
	s.n = 0;
	rc = 0;
out:
	sign_set_free(&s);
	return rc;
}

/* "name:value\n" per name; repeated names are joined with "," */
int
sign_hdrs_render(const struct sign_set *s, struct buf *out)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (i > 0 && strcmp(s->v[i].name, s->v[i - 1].name) == 0) {
			buf_truncate(out, out->len - 1);	/* drop the "\n" */
			buf_printf(out, ",%s\n", s->v[i].value);
		} else {
			buf_printf(out, "%s:%s\n", s->v[i].name, s->v[i].value);
		}
	}
	return out->err;
}

/* the value of header name (case-insensitive), trimmed into a copy-free view */
const char *
sign_hdr_get(const struct http_hdr *h, size_t nh, const char *name)
{
	size_t i;

	for (i = 0; i < nh; i++)
		if (h[i].name != NULL && h[i].value != NULL &&
		    strcasecmp(h[i].name, name) == 0)
			return h[i].value;
	return NULL;
}

int
sign_add_trimmed(struct buf *out, const char *v)
{
	const char *s;
	size_t n;

	if (v == NULL)
		return out->err;
	sign_trim(v, &s, &n);
	return buf_add(out, s, n);
}

/* ---- Table Store ------------------------------------------------------------ */

static bool
sign_pick_ots(const char *lname, const void *arg)
{
	bool request = arg != NULL;

	if (strncmp(lname, "x-ots-", 6) != 0)
		return false;
	return !(request && strcmp(lname, "x-ots-signature") == 0);
}

static int
sign_ots_string(const char *api, const char *method, const struct http_hdr *hdrs,
    size_t nhdrs, bool request, struct buf *out)
{
	struct sign_set s = { NULL, 0 };
	int rc;

	if (api == NULL || (request && method == NULL))
		return ENG_EINVAL;
	if ((rc = sign_hdrs_select(hdrs, nhdrs, sign_pick_ots,
	    request ? "" : NULL, &s)) != 0)
		return rc;
	if (request)
		buf_printf(out, "/%s\n%s\n\n", api, method);
	sign_hdrs_render(&s, out);
	if (!request)
		buf_printf(out, "/%s", api);
	sign_set_free(&s);
	return out->err;
}

int
sign_ots_request_string(const char *api, const char *method,
    const struct http_hdr *hdrs, size_t nhdrs, struct buf *out)
{
	return sign_ots_string(api, method, hdrs, nhdrs, true, out);
}

int
sign_ots_request(const struct sign_cred *c, const char *api, const char *method,
    const struct http_hdr *hdrs, size_t nhdrs, char sig[SIGN_SHA1_B64_SIZE])
{
	struct buf s;
	int rc;

	buf_init(&s, BUF_MAX_SMALL);
	if ((rc = sign_ots_request_string(api, method, hdrs, nhdrs, &s)) == 0)
		rc = sign_cred_hmac_sha1_b64(c, s.p, s.len, sig);
	buf_free(&s);
	return rc;
}

int
sign_ots_verify_request(const struct sign_cred *c, const char *api,
    const char *method, const struct http_hdr *hdrs, size_t nhdrs)
{
	char want[SIGN_SHA1_B64_SIZE];
	const char *got = sign_hdr_get(hdrs, nhdrs, "x-ots-signature");
	const char *g;
	size_t glen;
	int rc;

	if (got == NULL)
		return ENG_ESIG;
	if ((rc = sign_ots_request(c, api, method, hdrs, nhdrs, want)) != 0)
		return rc == ENG_EINVAL ? ENG_ESIG : rc;
	sign_trim(got, &g, &glen);
	if (glen != strlen(want) || !sign_memeq_ct(g, want, glen))
		return ENG_ESIG;
	return 0;
}

int
sign_ots_response_string(const char *api, const struct http_hdr *hdrs,
    size_t nhdrs, struct buf *out)
{
	return sign_ots_string(api, NULL, hdrs, nhdrs, false, out);
}

int
sign_ots_response(const struct sign_cred *c, const char *api,
    const struct http_hdr *hdrs, size_t nhdrs, struct buf *out)
{
	char sig[SIGN_SHA1_B64_SIZE];
	struct buf s;
	int rc;

	buf_init(&s, BUF_MAX_SMALL);
	if ((rc = sign_ots_response_string(api, hdrs, nhdrs, &s)) != 0)
		goto out;
	if ((rc = sign_cred_hmac_sha1_b64(c, s.p, s.len, sig)) != 0)
		goto out;
	rc = buf_printf(out, "OTS %s:%s", sign_cred_id(c), sig);
out:
	buf_free(&s);
	return rc;
}

int
sign_ots_verify_response(const struct sign_cred *c, const char *api,
    const struct http_hdr *hdrs, size_t nhdrs)
{
	const char *got = sign_hdr_get(hdrs, nhdrs, "authorization");
	struct buf want;
	const char *g;
	size_t glen;
	int rc;

	if (got == NULL)
		return ENG_ESIG;
	buf_init(&want, BUF_MAX_SMALL);
	if ((rc = sign_ots_response(c, api, hdrs, nhdrs, &want)) != 0)
		goto out;
	sign_trim(got, &g, &glen);
	rc = ENG_ESIG;
	if (glen == want.len && sign_memeq_ct(g, want.p, glen))
		rc = 0;
out:
	buf_free(&want);
	return rc;
}
/* ---- Authorization access key id ------------------------------------------ */

int
sign_authz_id(const char *authz, char *out, size_t outsz)
{
	const char *a, *id, *end;
	size_t alen, n;

	if (authz == NULL)
		return ENG_ESIG;
	sign_trim(authz, &a, &alen);
	if (alen > 4 && (strncmp(a, "OTS ", 4) == 0 || strncmp(a, "OSS ", 4) == 0)) {
		id = a + 4;
		end = memchr(id, ':', alen - 4);
	} else if (alen > sizeof(SIGN_V4_ALG) &&
	    strncmp(a, SIGN_V4_ALG " ", sizeof(SIGN_V4_ALG)) == 0) {
		const char *cred = NULL;
		size_t i;

		for (i = sizeof(SIGN_V4_ALG); i + 11 <= alen; i++) {
			if (strncmp(a + i, "Credential=", 11) == 0 &&
			    (a[i - 1] == ' ' || a[i - 1] == ',')) {
				cred = a + i + 11;
				break;
			}
		}
		if (cred == NULL)
			return ENG_ESIG;
		id = cred;
		end = memchr(id, '/', alen - (size_t)(id - a));
	} else {
		return ENG_ESIG;
	}
	if (end == NULL || end == id)
		return ENG_ESIG;
	n = (size_t)(end - id);
	if (n >= outsz)
		return -ENOSPC;
	memcpy(out, id, n);
	out[n] = '\0';
	return 0;
}
