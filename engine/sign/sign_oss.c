/* SPDX-License-Identifier: MIT */
/*
 * sign_oss.c - OSS request signatures: V1 (HMAC-SHA1, header and presigned
 * URL) and V4 (OSS4-HMAC-SHA256, header and presigned URL), for the client
 * (sign) and difs-emu (verify).  Rules: contrib/doc/oss.md 2.1-2.2; inputs as
 * documented in sign.h.  No OpenSSL and no secret here.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "sign.h"
#include "sign_i.h"

#define SIGN_V4_ALG	"OSS4-HMAC-SHA256"
#define SIGN_V4_TERM	"aliyun_v4_request"
#define SIGN_UNSIGNED	"UNSIGNED-PAYLOAD"

static bool
sign_empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/* ---- OSS V1 --------------------------------------------------------------- */

/*
 * Sub-resources signed by V1: the union of the official SDKs' lists (Go v1
 * signKeyList, Go v2 requiredSignedParametersMap, C SDK), see
 * contrib/doc/oss.md 2.1.  Sorted for bsearch.  Any key starting with "x-oss-"
 * is signed as well.
 */
static const char *const sign_v1_subres[] = {
	"acl", "append", "asyncFetch", "bucketInfo", "callback", "callback-var",
	"cloudboxes", "cname", "comp", "continuation-token", "cors", "delete",
	"encryption", "endTime", "img", "inventory", "inventoryId", "lifecycle",
	"live", "location", "logging", "metaQuery", "objectMeta", "partNumber",
	"policy", "position", "qos", "qosInfo", "referer", "regionList",
	"replication", "replicationLocation", "replicationProgress",
	"requestPayment", "resourceGroup", "response-cache-control",
	"response-content-disposition", "response-content-encoding",
	"response-content-language", "response-content-type", "response-expires",
	"responseHeader", "restore", "rtc", "security-token", "sequential", "stat",
	"startTime", "status", "style", "styleName", "symlink", "tagging",
	"transferAcceleration", "udf", "udfApplication", "udfApplicationLog",
	"udfId", "udfImage", "udfImageDesc", "udfName", "uploadId", "uploads",
	"versionId", "versioning", "versions", "vod", "website", "withHashContext",
	"worm", "wormExtend", "wormId",
};

static int
sign_strptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool
sign_v1_is_subres(const char *key)
{
	if (strncmp(key, "x-oss-", 6) == 0)
		return true;
	return bsearch(&key, sign_v1_subres,
	    sizeof(sign_v1_subres) / sizeof(sign_v1_subres[0]),
	    sizeof(sign_v1_subres[0]), sign_strptr_cmp) != NULL;
}

static bool
sign_pick_xoss(const char *lname, const void *arg)
{
	(void)arg;
	return strncmp(lname, "x-oss-", 6) == 0;
}

/* "/bucket/key", "/bucket/", "/" + "?" sorted sub-resources */
static int
sign_v1_resource(const struct sign_oss_req *r, struct buf *out)
{
	struct sign_set s = { NULL, 0 };
	size_t i;
	int rc = -ENOMEM;

	buf_addc(out, '/');
	if (!sign_empty(r->bucket)) {
		buf_printf(out, "%s/", r->bucket);
		if (!sign_empty(r->key))
			buf_addstr(out, r->key);
	}
	if (r->nquery > 0 && (s.v = calloc(r->nquery, sizeof(*s.v))) == NULL)
		goto out;
	for (i = 0; i < r->nquery; i++) {
		const struct http_param *p = &r->query[i];

		if (p->key == NULL || !sign_v1_is_subres(p->key))
			continue;
		if ((rc = sign_set_add_nodup(&s, strdup(p->key),
		    strdup(p->value != NULL ? p->value : ""), r->nquery)) != 0)
			goto out;
	}
	sign_set_sort(&s);
	for (i = 0; i < s.n; i++) {
		buf_addc(out, i == 0 ? '?' : '&');
		buf_addstr(out, s.v[i].name);
		if (*s.v[i].value != '\0')
			buf_printf(out, "=%s", s.v[i].value);
	}
	rc = out->err;
out:
	sign_set_free(&s);
	return rc;
}

int
sign_oss_v1_string(const struct sign_oss_req *r, const char *date_slot,
    struct buf *out)
{
	struct sign_set s = { NULL, 0 };
	const char *date = date_slot;
	int rc;

	if (r->method == NULL)
		return ENG_EINVAL;
	if (date == NULL)
		date = sign_hdr_get(r->hdrs, r->nhdrs, "x-oss-date");
	if (date == NULL)
		date = sign_hdr_get(r->hdrs, r->nhdrs, "date");
	if (date == NULL)
		return ENG_EINVAL;
	if ((rc = sign_hdrs_select(r->hdrs, r->nhdrs, sign_pick_xoss, NULL, &s)) != 0)
		return rc;
	buf_printf(out, "%s\n", r->method);
	sign_add_trimmed(out, sign_hdr_get(r->hdrs, r->nhdrs, "content-md5"));
	buf_addc(out, '\n');
	sign_add_trimmed(out, sign_hdr_get(r->hdrs, r->nhdrs, "content-type"));
	buf_addc(out, '\n');
	sign_add_trimmed(out, date);
	buf_addc(out, '\n');
	sign_hdrs_render(&s, out);
	sign_set_free(&s);
	return sign_v1_resource(r, out);
}

static int
sign_v1_sig(const struct sign_cred *c, const struct sign_oss_req *r,
    const char *date_slot, char sig[SIGN_SHA1_B64_SIZE])
{
	struct buf s;
	int rc;

	buf_init(&s, BUF_MAX_SMALL);
	if ((rc = sign_oss_v1_string(r, date_slot, &s)) == 0)
		rc = sign_cred_hmac_sha1_b64(c, s.p, s.len, sig);
	buf_free(&s);
	return rc;
}

int
sign_oss_v1_header(const struct sign_cred *c, const struct sign_oss_req *r,
    struct buf *out)
{
	char sig[SIGN_SHA1_B64_SIZE];
	int rc;

	if ((rc = sign_v1_sig(c, r, NULL, sig)) != 0)
		return rc;
	return buf_printf(out, "OSS %s:%s", sign_cred_id(c), sig);
}

/* constant-time compare of a received signature (not NUL-terminated) */
static bool
sign_mem_eq(const char *got, size_t glen, const char *want)
{
	return glen == strlen(want) && sign_memeq_ct(got, want, glen);
}

int
sign_oss_v1_verify(const struct sign_cred *c, const struct sign_oss_req *r,
    const char *authz)
{
	char sig[SIGN_SHA1_B64_SIZE];
	const char *a, *colon;
	size_t alen, idlen;
	int rc;

	if (authz == NULL)
		return ENG_ESIG;
	sign_trim(authz, &a, &alen);
	if (alen < 4 || strncmp(a, "OSS ", 4) != 0)
		return ENG_ESIG;
	a += 4;
	alen -= 4;
	if ((colon = memchr(a, ':', alen)) == NULL)
		return ENG_ESIG;
	idlen = (size_t)(colon - a);
	if (!sign_mem_eq(a, idlen, sign_cred_id(c)))
		return ENG_ESIG;
	if ((rc = sign_v1_sig(c, r, NULL, sig)) != 0)
		return rc == ENG_EINVAL ? ENG_ESIG : rc;
	if (!sign_mem_eq(colon + 1, alen - idlen - 1, sig))
		return ENG_ESIG;
	return 0;
}

/* a param list: r->query plus extra params, all owned copies */
static int
sign_params_dup(const struct sign_oss_req *r, size_t extra, struct sign_set *s)
{
	size_t i;
	int rc;

	s->n = 0;
	if ((s->v = calloc(r->nquery + extra, sizeof(*s->v))) == NULL)
		return -ENOMEM;
	for (i = 0; i < r->nquery; i++) {
		if (r->query[i].key == NULL)
			continue;
		if ((rc = sign_set_add_nodup(s, strdup(r->query[i].key),
		    strdup(r->query[i].value != NULL ? r->query[i].value : ""),
		    r->nquery + extra)) != 0)
			return rc;
	}
	return 0;
}

/* encode a sorted (by raw key) param set as a URL query */
static int
sign_params_encode(struct sign_set *s, struct buf *out)
{
	size_t i;

	sign_set_sort(s);
	for (i = 0; i < s->n; i++) {
		if (i > 0)
			buf_addc(out, '&');
		http_pct_encode(out, s->v[i].name, strlen(s->v[i].name), 0);
		if (*s->v[i].value != '\0') {
			buf_addc(out, '=');
			http_pct_encode(out, s->v[i].value, strlen(s->v[i].value), 0);
		}
	}
	return out->err;
}

/* a view of r with another query list */
static void
sign_req_with_query(const struct sign_oss_req *r, struct http_param *q, size_t n,
    struct sign_oss_req *out)
{
	*out = *r;
	out->query = q;
	out->nquery = n;
}

static int
sign_set_to_params(const struct sign_set *s, struct http_param **out)
{
	size_t i;

	*out = NULL;
	if (s->n == 0)
		return 0;
	if ((*out = calloc(s->n, sizeof(**out))) == NULL)
		return -ENOMEM;
	for (i = 0; i < s->n; i++) {
		(*out)[i].key = s->v[i].name;
		(*out)[i].value = s->v[i].value;
	}
	return 0;
}

int
sign_oss_v1_presign(const struct sign_cred *c, const struct sign_oss_req *r,
    int64_t expires, struct buf *out)
{
	struct sign_set s = { NULL, 0 };
	struct http_param *params = NULL;
	struct sign_oss_req rq;
	char sig[SIGN_SHA1_B64_SIZE], exp[24];
	size_t cap = r->nquery + 4;
	int rc;

	if ((rc = sign_params_dup(r, 4, &s)) != 0)
		goto out;
	if (sign_cred_token(c) != NULL &&
	    (rc = sign_set_add_nodup(&s, strdup("security-token"), strdup(sign_cred_token(c)), cap)) != 0)
		goto out;
	/* the signature covers the user's params and the token, not the auth params */
	if ((rc = sign_set_to_params(&s, &params)) != 0)
		goto out;
	sign_req_with_query(r, params, s.n, &rq);
	snprintf(exp, sizeof(exp), "%lld", (long long)expires);
	if ((rc = sign_v1_sig(c, &rq, exp, sig)) != 0)
		goto out;
	if ((rc = sign_set_add_nodup(&s, strdup("OSSAccessKeyId"), strdup(sign_cred_id(c)), cap)) != 0 ||
	    (rc = sign_set_add_nodup(&s, strdup("Expires"), strdup(exp), cap)) != 0 ||
	    (rc = sign_set_add_nodup(&s, strdup("Signature"), strdup(sig), cap)) != 0)
		goto out;
	rc = sign_params_encode(&s, out);
out:
	free(params);
	sign_set_free(&s);
	return rc;
}

static const char *
sign_param_get(const struct sign_oss_req *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->nquery; i++)
		if (r->query[i].key != NULL && strcmp(r->query[i].key, key) == 0)
			return r->query[i].value != NULL ? r->query[i].value : "";
	return NULL;
}

/* strict non-negative decimal */
static int
sign_parse_i64(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (s == NULL || *s == '\0')
		return ENG_EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
			return ENG_EINVAL;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

int
sign_oss_v1_verify_presign(const struct sign_cred *c,
    const struct sign_oss_req *r, int64_t now)
{
	const char *id = sign_param_get(r, "OSSAccessKeyId");
	const char *exp = sign_param_get(r, "Expires");
	const char *got = sign_param_get(r, "Signature");
	char sig[SIGN_SHA1_B64_SIZE];
	int64_t e;
	int rc;

	if (id == NULL || got == NULL || sign_parse_i64(exp, &e) != 0)
		return ENG_ESIG;
	if (!sign_streq_ct(id, sign_cred_id(c)))
		return ENG_ESIG;
	/* OSSAccessKeyId, Expires, Signature are not sub-resources: ignored */
	if ((rc = sign_v1_sig(c, r, exp, sig)) != 0)
		return rc == ENG_EINVAL ? ENG_ESIG : rc;
	if (!sign_streq_ct(got, sig))
		return ENG_ESIG;
	if (now > e)
		return -ETIME;
	return 0;
}
/* ---- OSS V4 ------------------------------------------------------------------ */

static bool
sign_v4_always(const char *lname)
{
	return strcmp(lname, "content-type") == 0 ||
	    strcmp(lname, "content-md5") == 0 || strncmp(lname, "x-oss-", 6) == 0;
}

/* lowercase, drop always-signed and absent names, sort, dedupe */
static int
sign_v4_additional(const struct sign_oss_req *r, const char *const *names,
    size_t n, struct sign_set *out)
{
	struct sign_set s = { NULL, 0 };
	size_t i, k, w;
	int rc = -ENOMEM;

	if (n > 0 && (s.v = calloc(n, sizeof(*s.v))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		char *l;

		if (names[i] == NULL || *names[i] == '\0')
			continue;
		if ((l = strdup(names[i])) == NULL)
			goto out;
		for (k = 0; l[k] != '\0'; k++)
			if (l[k] >= 'A' && l[k] <= 'Z')
				l[k] = (char)(l[k] - 'A' + 'a');
		if (sign_v4_always(l) || sign_hdr_get(r->hdrs, r->nhdrs, l) == NULL) {
			free(l);
			continue;
		}
		if ((rc = sign_set_add_nodup(&s, l, strdup(""), n)) != 0)
			goto out;
	}
	sign_set_sort(&s);
	for (i = 0, w = 0; i < s.n; i++) {
		if (w > 0 && strcmp(s.v[w - 1].name, s.v[i].name) == 0) {
			free(s.v[i].name);
			free(s.v[i].value);
			continue;
		}
		s.v[w++] = s.v[i];
	}
	s.n = w;
	*out = s;
	s.v = NULL;
	s.n = 0;
	rc = 0;
out:
	sign_set_free(&s);
	return rc;
}

static bool
sign_pick_v4(const char *lname, const void *arg)
{
	const struct sign_set *add = arg;
	size_t i;

	if (sign_v4_always(lname))
		return true;
	for (i = 0; i < add->n; i++)
		if (strcmp(add->v[i].name, lname) == 0)
			return true;
	return false;
}

static int
sign_v4_add_list(const struct sign_set *add, struct buf *out)
{
	size_t i;

	for (i = 0; i < add->n; i++) {
		if (i > 0)
			buf_addc(out, ';');
		buf_addstr(out, add->v[i].name);
	}
	return out->err;
}

/* canonical query: encode keys and values, sort by encoded key (then value) */
static int
sign_v4_query(const struct sign_oss_req *r, const char *skip, struct buf *out)
{
	struct sign_set s = { NULL, 0 };
	struct buf k, v;
	size_t i;
	int rc = -ENOMEM;

	buf_init(&k, BUF_MAX_SMALL);
	buf_init(&v, BUF_MAX_SMALL);
	if (r->nquery > 0 && (s.v = calloc(r->nquery, sizeof(*s.v))) == NULL)
		goto out;
	for (i = 0; i < r->nquery; i++) {
		const struct http_param *p = &r->query[i];

		if (p->key == NULL || (skip != NULL && strcmp(p->key, skip) == 0))
			continue;
		buf_reset(&k);
		buf_reset(&v);
		http_pct_encode(&k, p->key, strlen(p->key), 0);
		if (p->value != NULL)
			http_pct_encode(&v, p->value, strlen(p->value), 0);
		if ((rc = k.err != 0 ? k.err : v.err) != 0)
			goto out;
		if ((rc = sign_set_add_nodup(&s, strndup(k.p, k.len),
		    strndup(v.p, v.len), r->nquery)) != 0)
			goto out;
	}
	/* sort by encoded key; equal keys by value (stable across SDKs) */
	for (i = 0; i < s.n; i++)
		s.v[i].idx = 0;
	if (s.n > 1)
		qsort(s.v, s.n, sizeof(*s.v), sign_item_cmp);
	for (i = 1; i < s.n; i++) {
		size_t j = i;

		while (j > 0 && strcmp(s.v[j - 1].name, s.v[j].name) == 0 &&
		    strcmp(s.v[j - 1].value, s.v[j].value) > 0) {
			struct sign_item t = s.v[j - 1];

			s.v[j - 1] = s.v[j];
			s.v[j] = t;
			j--;
		}
	}
	for (i = 0; i < s.n; i++) {
		if (i > 0)
			buf_addc(out, '&');
		buf_addstr(out, s.v[i].name);
		if (*s.v[i].value != '\0')
			buf_printf(out, "=%s", s.v[i].value);
	}
	rc = out->err;
out:
	buf_free(&k);
	buf_free(&v);
	sign_set_free(&s);
	return rc;
}

/* canonical request with an already-normalised additional set */
static int
sign_v4_canon(const struct sign_oss_req *r, const struct sign_set *add,
    const char *skip, struct buf *out)
{
	struct sign_set h = { NULL, 0 };
	struct buf path;
	const char *payload;
	int rc;

	if (r->method == NULL)
		return ENG_EINVAL;
	buf_init(&path, BUF_MAX_SMALL);
	buf_addc(&path, '/');
	if (!sign_empty(r->bucket)) {
		buf_printf(&path, "%s/", r->bucket);
		if (!sign_empty(r->key))
			buf_addstr(&path, r->key);
	}
	if ((rc = path.err) != 0)
		goto out;
	buf_printf(out, "%s\n", r->method);
	http_pct_encode(out, path.p, path.len, HTTP_PCT_KEEP_SLASH);
	buf_addc(out, '\n');
	if ((rc = sign_v4_query(r, skip, out)) != 0)
		goto out;
	buf_addc(out, '\n');
	if ((rc = sign_hdrs_select(r->hdrs, r->nhdrs, sign_pick_v4, add, &h)) != 0)
		goto out;
	sign_hdrs_render(&h, out);
	buf_addc(out, '\n');
	sign_v4_add_list(add, out);
	buf_addc(out, '\n');
	payload = sign_hdr_get(r->hdrs, r->nhdrs, "x-oss-content-sha256");
	if (payload != NULL)
		sign_add_trimmed(out, payload);
	else
		buf_addstr(out, SIGN_UNSIGNED);
	rc = out->err;
out:
	sign_set_free(&h);
	buf_free(&path);
	return rc;
}

int
sign_oss_v4_canonical(const struct sign_oss_req *r,
    const char *const *additional, size_t nadditional,
    const char *skip_query_key, struct buf *out)
{
	struct sign_set add = { NULL, 0 };
	int rc;

	if ((rc = sign_v4_additional(r, additional, nadditional, &add)) != 0)
		return rc;
	rc = sign_v4_canon(r, &add, skip_query_key, out);
	sign_set_free(&add);
	return rc;
}

/* checks "YYYYMMDDTHHMMSSZ" */
static bool
sign_v4_datetime_ok(const char *s)
{
	time_t t;

	return s != NULL && strlen(s) == 16 && s[8] == 'T' &&
	    sign_date_parse(s, &t) == 0;
}

/* hex signature over the canonical request in canon (contrib/doc/oss.md 2.2) */
static int
sign_v4_sign(const struct sign_cred *c, const struct buf *canon,
    const char *datetime, const char *region, const char *product,
    char hex[SIGN_SHA256_HEX_SIZE])
{
	uint8_t h[SIGN_SHA256_LEN];
	char date[9], chex[SIGN_SHA256_HEX_SIZE];
	struct buf sts;
	int rc;

	buf_init(&sts, BUF_MAX_SMALL);
	memcpy(date, datetime, 8);
	date[8] = '\0';
	if ((rc = sign_sha256(canon->p, canon->len, h)) != 0)
		goto out;
	sign_hex(h, sizeof(h), chex);
	buf_printf(&sts, SIGN_V4_ALG "\n%s\n%s/%s/%s/" SIGN_V4_TERM "\n%s",
	    datetime, date, region, product, chex);
	if ((rc = sts.err) != 0)
		goto out;
	if ((rc = sign_cred_v4_hmac(c, date, region, product, sts.p, sts.len, h)) != 0)
		goto out;
	sign_hex(h, sizeof(h), hex);
out:
	buf_free(&sts);
	return rc;
}

static const char *
sign_v4_product(const struct sign_v4 *v)
{
	return sign_empty(v->product) ? "oss" : v->product;
}

int
sign_oss_v4_header(const struct sign_cred *c, const struct sign_oss_req *r,
    const struct sign_v4 *v, struct buf *out)
{
	struct sign_set add = { NULL, 0 };
	char hex[SIGN_SHA256_HEX_SIZE];
	const char *dt = sign_hdr_get(r->hdrs, r->nhdrs, "x-oss-date");
	const char *product = sign_v4_product(v);
	struct buf canon;
	int rc;

	buf_init(&canon, BUF_MAX_DOC);
	if (!sign_v4_datetime_ok(dt) || sign_empty(v->region))
		return ENG_EINVAL;
	if ((rc = sign_v4_additional(r, v->additional, v->nadditional, &add)) != 0)
		goto out;
	if ((rc = sign_v4_canon(r, &add, NULL, &canon)) != 0)
		goto out;
	if ((rc = sign_v4_sign(c, &canon, dt, v->region, product, hex)) != 0)
		goto out;
	buf_printf(out, SIGN_V4_ALG " Credential=%s/%.8s/%s/%s/" SIGN_V4_TERM,
	    sign_cred_id(c), dt, v->region, product);
	if (add.n > 0) {
		buf_addstr(out, ",AdditionalHeaders=");
		sign_v4_add_list(&add, out);
	}
	buf_printf(out, ",Signature=%s", hex);
	rc = out->err;
out:
	buf_free(&canon);
	sign_set_free(&add);
	return rc;
}

/* parsed "id/YYYYMMDD/region/product/aliyun_v4_request" */
struct sign_v4_cred {
	char	id[128];
	char	date[9];
	char	region[64];
	char	product[64];
};

static int
sign_v4_copy(char *dst, size_t dsz, const char *s, size_t n)
{
	if (n == 0 || n >= dsz || memchr(s, '\0', n) != NULL)
		return ENG_ESIG;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int
sign_v4_parse_cred(const char *s, size_t n, struct sign_v4_cred *out)
{
	const char *part[5];
	size_t plen[5], i, k = 0, start = 0;

	for (i = 0; i <= n && k < 5; i++) {
		if (i == n || s[i] == '/') {
			part[k] = s + start;
			plen[k] = i - start;
			k++;
			start = i + 1;
		}
	}
	if (k != 5 || start != n + 1)
		return ENG_ESIG;
	if (plen[1] != 8 || plen[4] != sizeof(SIGN_V4_TERM) - 1 ||
	    memcmp(part[4], SIGN_V4_TERM, plen[4]) != 0)
		return ENG_ESIG;
	if (sign_v4_copy(out->id, sizeof(out->id), part[0], plen[0]) != 0 ||
	    sign_v4_copy(out->date, sizeof(out->date), part[1], plen[1]) != 0 ||
	    sign_v4_copy(out->region, sizeof(out->region), part[2], plen[2]) != 0 ||
	    sign_v4_copy(out->product, sizeof(out->product), part[3], plen[3]) != 0)
		return ENG_ESIG;
	return 0;
}

/* split "a;b;c" into a NUL-separated copy + pointers (max 64 names) */
struct sign_names {
	char		*mem;
	const char	*v[64];
	size_t		 n;
};

static int
sign_names_split(const char *s, size_t n, struct sign_names *out)
{
	size_t i, start = 0;

	out->n = 0;
	if ((out->mem = strndup(s, n)) == NULL)
		return -ENOMEM;
	for (i = 0; i <= n; i++) {
		if (i == n || out->mem[i] == ';') {
			if (out->n == 64)
				return ENG_ESIG;
			out->mem[i] = '\0';
			if (i > start)
				out->v[out->n++] = out->mem + start;
			start = i + 1;
		}
	}
	return 0;
}

static int
sign_v4_verify_common(const struct sign_cred *c, const struct sign_oss_req *r,
    const struct sign_v4_cred *cr, const char *dt, const struct sign_names *names,
    const char *skip, const char *got, size_t glen)
{
	struct sign_set add = { NULL, 0 };
	char hex[SIGN_SHA256_HEX_SIZE];
	struct buf canon;
	int rc = ENG_ESIG;

	buf_init(&canon, BUF_MAX_DOC);
	if (!sign_v4_datetime_ok(dt) || strncmp(dt, cr->date, 8) != 0)
		goto out;
	if (!sign_streq_ct(cr->id, sign_cred_id(c)))
		goto out;
	if ((rc = sign_v4_additional(r, names->v, names->n, &add)) != 0)
		goto out;
	if ((rc = sign_v4_canon(r, &add, skip, &canon)) != 0)
		goto out;
	if ((rc = sign_v4_sign(c, &canon, dt, cr->region, cr->product, hex)) != 0)
		goto out;
	rc = sign_mem_eq(got, glen, hex) ? 0 : ENG_ESIG;
out:
	buf_free(&canon);
	sign_set_free(&add);
	return rc == ENG_EINVAL ? ENG_ESIG : rc;
}

int
sign_oss_v4_verify(const struct sign_cred *c, const struct sign_oss_req *r,
    const char *authz)
{
	struct sign_v4_cred cr;
	struct sign_names names = { NULL, { NULL }, 0 };
	const char *a, *sig = NULL;
	size_t alen, pos, siglen = 0;
	bool have_cred = false;
	int rc = ENG_ESIG;

	if (authz == NULL)
		return ENG_ESIG;
	sign_trim(authz, &a, &alen);
	if (alen <= sizeof(SIGN_V4_ALG) || strncmp(a, SIGN_V4_ALG " ", sizeof(SIGN_V4_ALG)) != 0)
		return ENG_ESIG;
	pos = sizeof(SIGN_V4_ALG);
	while (pos < alen) {
		const char *item = a + pos, *comma;
		size_t ilen;

		comma = memchr(item, ',', alen - pos);
		ilen = comma != NULL ? (size_t)(comma - item) : alen - pos;
		pos += ilen + 1;
		while (ilen > 0 && sign_is_blank(*item)) {
			item++;
			ilen--;
		}
		while (ilen > 0 && sign_is_blank(item[ilen - 1]))
			ilen--;
		if (ilen > 11 && strncmp(item, "Credential=", 11) == 0) {
			if (have_cred || sign_v4_parse_cred(item + 11, ilen - 11, &cr) != 0)
				goto out;
			have_cred = true;
		} else if (ilen >= 18 && strncmp(item, "AdditionalHeaders=", 18) == 0) {
			if (names.mem != NULL)
				goto out;
			if ((rc = sign_names_split(item + 18, ilen - 18, &names)) != 0)
				goto out;
			rc = ENG_ESIG;
		} else if (ilen > 10 && strncmp(item, "Signature=", 10) == 0) {
			sig = item + 10;
			siglen = ilen - 10;
		} else {
			goto out;
		}
	}
	if (!have_cred || sig == NULL)
		goto out;
	rc = sign_v4_verify_common(c, r, &cr,
	    sign_hdr_get(r->hdrs, r->nhdrs, "x-oss-date"), &names, NULL, sig, siglen);
out:
	free(names.mem);
	return rc;
}

int
sign_oss_v4_presign(const struct sign_cred *c, const struct sign_oss_req *r,
    const struct sign_v4 *v, time_t now, uint32_t expires_secs, struct buf *out)
{
	struct sign_set s = { NULL, 0 }, add = { NULL, 0 };
	struct http_param *params = NULL;
	struct sign_oss_req rq;
	const char *product = sign_v4_product(v);
	char dt[17], exp[16], hex[SIGN_SHA256_HEX_SIZE];
	size_t cap = r->nquery + 7;
	struct buf tmp, canon;
	int rc;

	buf_init(&tmp, BUF_MAX_SMALL);
	buf_init(&canon, BUF_MAX_DOC);
	if (sign_empty(v->region) || (rc = sign_date_iso8601_basic(now, dt)) != 0) {
		rc = ENG_EINVAL;
		goto out;
	}
	snprintf(exp, sizeof(exp), "%u", (unsigned)expires_secs);
	if ((rc = sign_v4_additional(r, v->additional, v->nadditional, &add)) != 0)
		goto out;
	if ((rc = sign_params_dup(r, 7, &s)) != 0)
		goto out;
	buf_printf(&tmp, "%s/%.8s/%s/%s/" SIGN_V4_TERM, sign_cred_id(c), dt, v->region, product);
	if ((rc = tmp.err) != 0)
		goto out;
	if ((rc = sign_set_add_nodup(&s, strdup("x-oss-signature-version"),
	    strdup(SIGN_V4_ALG), cap)) != 0 ||
	    (rc = sign_set_add_nodup(&s, strdup("x-oss-date"), strdup(dt), cap)) != 0 ||
	    (rc = sign_set_add_nodup(&s, strdup("x-oss-expires"), strdup(exp), cap)) != 0 ||
	    (rc = sign_set_add_nodup(&s, strdup("x-oss-credential"),
	    strndup(tmp.p, tmp.len), cap)) != 0)
		goto out;
	if (add.n > 0) {
		buf_reset(&tmp);
		if ((rc = sign_v4_add_list(&add, &tmp)) != 0 ||
		    (rc = sign_set_add_nodup(&s, strdup("x-oss-additional-headers"),
		    strndup(tmp.p, tmp.len), cap)) != 0)
			goto out;
	}
	if (sign_cred_token(c) != NULL && (rc = sign_set_add_nodup(&s,
	    strdup("x-oss-security-token"), strdup(sign_cred_token(c)), cap)) != 0)
		goto out;
	if ((rc = sign_set_to_params(&s, &params)) != 0)
		goto out;
	sign_req_with_query(r, params, s.n, &rq);
	if ((rc = sign_v4_canon(&rq, &add, NULL, &canon)) != 0)
		goto out;
	if ((rc = sign_v4_sign(c, &canon, dt, v->region, product, hex)) != 0)
		goto out;
	if ((rc = sign_set_add_nodup(&s, strdup("x-oss-signature"), strdup(hex), cap)) != 0)
		goto out;
	rc = sign_params_encode(&s, out);
out:
	free(params);
	sign_set_free(&s);
	sign_set_free(&add);
	buf_free(&canon);
	buf_free(&tmp);
	return rc;
}

int
sign_oss_v4_verify_presign(const struct sign_cred *c,
    const struct sign_oss_req *r, int64_t now)
{
	const char *ver = sign_param_get(r, "x-oss-signature-version");
	const char *credp = sign_param_get(r, "x-oss-credential");
	const char *dt = sign_param_get(r, "x-oss-date");
	const char *exps = sign_param_get(r, "x-oss-expires");
	const char *addp = sign_param_get(r, "x-oss-additional-headers");
	const char *got = sign_param_get(r, "x-oss-signature");
	struct sign_names names = { NULL, { NULL }, 0 };
	struct sign_v4_cred cr;
	time_t t;
	int64_t exp;
	int rc = ENG_ESIG;

	if (ver == NULL || strcmp(ver, SIGN_V4_ALG) != 0 || credp == NULL ||
	    got == NULL || !sign_v4_datetime_ok(dt) || sign_parse_i64(exps, &exp) != 0)
		goto out;
	if (sign_v4_parse_cred(credp, strlen(credp), &cr) != 0)
		goto out;
	if (addp != NULL && (rc = sign_names_split(addp, strlen(addp), &names)) != 0)
		goto out;
	if ((rc = sign_v4_verify_common(c, r, &cr, dt, &names, "x-oss-signature",
	    got, strlen(got))) != 0)
		goto out;
	if (sign_date_parse(dt, &t) != 0) {
		rc = ENG_ESIG;
		goto out;
	}
	rc = now > (int64_t)t + exp ? -ETIME : 0;
out:
	free(names.mem);
	return rc;
}
