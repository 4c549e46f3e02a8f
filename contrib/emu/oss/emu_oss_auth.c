/* SPDX-License-Identifier: MIT */
/*
 * emu_oss_auth.c - signature checks of difs-emu's OSS side.
 *
 * The arithmetic (StringToSign, canonical request, HMACs) is
 * engine/sign/sign.c's, the same code the client signs with; this file decides
 * WHICH check applies (V1 header, V4 header, V1 presigned, V4 presigned),
 * checks the access key id and the clock skew, and turns failures into the
 * error OSS returns, including the StringToSign OSS echoes for
 * SignatureDoesNotMatch.  Pure: no I/O, no shared state (fuzzed through
 * tests/fuzz/fuzz_emu_oss_request.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "num.h"
#include "sign.h"
#include "emu_oss_i.h"

#define V4_ALG	"OSS4-HMAC-SHA256"

void
emu_oss_md5(const void *p, size_t len, uint8_t out[16])
{
	if (sign_md5(p, len, out) != 0)
		memset(out, 0, 16);
}

int
emu_oss_b64(struct buf *b, const uint8_t *p, size_t n)
{
	size_t need = 4 * ((n + 2) / 3) + 1;
	char *tmp;
	int rc;

	if ((tmp = malloc(need)) == NULL)
		return -ENOMEM;
	if ((rc = sign_base64_encode(p, n, tmp, need)) == 0)
		rc = buf_addstr(b, tmp);
	free(tmp);
	return rc;
}

int
emu_oss_b64_decode(const char *s, uint8_t *out, size_t outsz, size_t *outlen)
{
	return sign_base64_decode(s, strlen(s), out, outsz, outlen);
}

void
emu_oss_hex(const uint8_t *p, size_t n, char *out, int upper)
{
	size_t i;

	sign_hex(p, n, out);
	if (upper)
		for (i = 0; i < 2 * n; i++)
			if (out[i] >= 'a' && out[i] <= 'f')
				out[i] = (char)(out[i] - 'a' + 'A');
}

void
emu_oss_authfail_init(struct emu_oss_authfail *f)
{
	memset(f, 0, sizeof(*f));
	buf_init(&f->string_to_sign, BUF_MAX_SMALL);
}

void
emu_oss_authfail_free(struct emu_oss_authfail *f)
{
	if (f != NULL)
		buf_free(&f->string_to_sign);
}

static int
fail(struct emu_oss_authfail *f, int status, const char *code, const char *ec,
    const char *msg)
{
	f->status = status;
	f->code = code;
	f->ec = ec;
	snprintf(f->message, sizeof(f->message), "%s", msg);
	return 0;
}

static const char *
hdr(const struct emu_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nhdrs; i++)
		if (strcasecmp(req->hdrs[i].name, name) == 0)
			return req->hdrs[i].value;
	return NULL;
}

/* x-oss-date / Date within the allowed skew? */
static int
skew_ok(const struct emu_oss_authreq *a, time_t t)
{
	time_t d = t > a->now ? t - a->now : a->now - t;

	return d <= (time_t)a->skew;
}

/*
 * The V4 StringToSign OSS echoes, recomputed from the canonical request.
 * scope: "YYYYMMDD/region/product/aliyun_v4_request"; names: the
 * AdditionalHeaders list ("a;b") or NULL; skip: a query key to leave out.
 */
static int
v4_string_to_sign(const struct sign_oss_req *r, const char *scope,
    const char *names_in, const char *date, const char *skip,
    struct emu_oss_authfail *f)
{
	char *names = NULL;
	const char **add = NULL;
	size_t nadd = 0, i;
	struct buf canon;
	uint8_t h[SIGN_SHA256_LEN];
	char hex[SIGN_SHA256_HEX_SIZE];
	int rc = -ENOMEM;

	buf_init(&canon, BUF_MAX_DOC);
	if (names_in != NULL && *names_in != '\0') {
		char *p;

		if ((names = strdup(names_in)) == NULL)
			goto out;
		for (p = names, nadd = 1; *p != '\0'; p++)
			nadd += *p == ';';
		if ((add = calloc(nadd, sizeof(*add))) == NULL)
			goto out;
		add[0] = names;
		for (p = names, i = 1; *p != '\0'; p++)
			if (*p == ';') {
				*p = '\0';
				add[i++] = p + 1;
			}
	}
	if ((rc = sign_oss_v4_canonical(r, add, nadd, skip, &canon)) != 0)
		goto out;
	if ((rc = sign_sha256(canon.p, canon.len, h)) != 0)
		goto out;
	sign_hex(h, sizeof(h), hex);
	rc = buf_printf(&f->string_to_sign, "%s\n%s\n%s\n%s", V4_ALG,
	    date != NULL ? date : "", scope, hex);
out:
	buf_free(&canon);
	free(add);
	free(names);
	return rc;
}

/* scope and AdditionalHeaders of an Authorization value */
static int
v4_header_string_to_sign(const struct sign_oss_req *r, const char *authz,
    const char *date, struct emu_oss_authfail *f)
{
	const char *cred, *slash, *ah;
	char *scope = NULL, *names = NULL;
	int rc = -ENOMEM;

	if ((cred = strstr(authz, "Credential=")) == NULL ||
	    (slash = strchr(cred, '/')) == NULL)
		return 0;
	if ((scope = strndup(slash + 1, strcspn(slash + 1, ", "))) == NULL)
		goto out;
	if ((ah = strstr(authz, "AdditionalHeaders=")) != NULL) {
		ah += strlen("AdditionalHeaders=");
		if ((names = strndup(ah, strcspn(ah, ", "))) == NULL)
			goto out;
	}
	rc = v4_string_to_sign(r, scope, names, date, NULL, f);
out:
	free(scope);
	free(names);
	return rc;
}

static int
check_id(const struct emu_oss_authreq *a, const char *authz,
    struct emu_oss_authfail *f)
{
	if (sign_authz_id(authz, f->access_id, sizeof(f->access_id)) != 0)
		return fail(f, 400, "InvalidArgument", NULL,
		    "Authorization header is invalid."), -1;
	if (strcmp(f->access_id, a->access_id) != 0)
		return fail(f, 403, "InvalidAccessKeyId", NULL,
		    "The OSS Access Key Id you provided does not exist in our records."), -1;
	return 0;
}

static void
copy_provided(struct emu_oss_authfail *f, const char *authz, int v4)
{
	const char *s;

	if (v4)
		s = strstr(authz, "Signature=") != NULL ?
		    strstr(authz, "Signature=") + strlen("Signature=") : "";
	else
		s = strrchr(authz, ':') != NULL ? strrchr(authz, ':') + 1 : "";
	snprintf(f->provided, sizeof(f->provided), "%s", s);
}

static const char sig_msg[] =
    "The request signature we calculated does not match the signature you "
    "provided. Check your key and signing method.";
static const char skew_msg[] =
    "The difference between the request time and the current time is too large.";

static int
check_header_v1(const struct emu_oss_authreq *a, const struct sign_cred *cred,
    const struct sign_oss_req *r, const char *authz, struct emu_oss_authfail *f)
{
	const char *d = hdr(a->req, "x-oss-date");
	time_t t;
	int rc;

	if (check_id(a, authz, f) != 0)
		return 0;
	if (d == NULL)
		d = hdr(a->req, "Date");
	if (d == NULL)
		return fail(f, 403, "AccessDenied", "0002-00000503",
		    "You have no right to access this object because the request has no date.");
	if (emu_oss_parse_gmt(d, &t) != 0 && sign_date_parse(d, &t) != 0)
		return fail(f, 403, "AccessDenied", "0002-00000502",
		    "Invalid date format of the request.");
	if (!skew_ok(a, t))
		return fail(f, 403, "RequestTimeTooSkewed", NULL,
		    skew_msg);
	rc = sign_oss_v1_verify(cred, r, authz);
	if (rc == 0)
		return 1;
	if (rc != ENG_ESIG && rc != ENG_EINVAL)
		return rc;
	copy_provided(f, authz, 0);
	if ((rc = sign_oss_v1_string(r, NULL, &f->string_to_sign)) != 0 &&
	    rc != ENG_EINVAL)
		return rc;
	return fail(f, 403, "SignatureDoesNotMatch", "0002-00000040", sig_msg);
}

static int
check_header_v4(const struct emu_oss_authreq *a, const struct sign_cred *cred,
    const struct sign_oss_req *r, const char *authz, struct emu_oss_authfail *f)
{
	const char *d = hdr(a->req, "x-oss-date");
	time_t t;
	int rc;

	if (check_id(a, authz, f) != 0)
		return 0;
	if (d == NULL)
		return fail(f, 403, "AccessDenied", "0002-00000503",
		    "The request has no x-oss-date header.");
	if (emu_oss_parse_iso(d, &t) != 0)
		return fail(f, 403, "AccessDenied", "0002-00000502",
		    "x-oss-date must be in ISO8601 format (YYYYMMDDTHHMMSSZ).");
	if (!skew_ok(a, t))
		return fail(f, 403, "RequestTimeTooSkewed", NULL,
		    skew_msg);
	rc = sign_oss_v4_verify(cred, r, authz);
	if (rc == 0)
		return 1;
	if (rc != ENG_ESIG && rc != ENG_EINVAL)
		return rc;
	copy_provided(f, authz, 1);
	if ((rc = v4_header_string_to_sign(r, authz, d, f)) != 0 &&
	    rc != ENG_EINVAL)
		return rc;
	return fail(f, 403, "SignatureDoesNotMatch", "0002-00000040", sig_msg);
}

static int
check_presign_v1(const struct emu_oss_authreq *a, const struct sign_cred *cred,
    const struct sign_oss_req *r, struct emu_oss_authfail *f)
{
	const char *id = emu_oss_query_get(a->q, "OSSAccessKeyId");
	const char *exp = emu_oss_query_get(a->q, "Expires");
	const char *sig = emu_oss_query_get(a->q, "Signature");
	uint64_t e;
	int rc;

	snprintf(f->access_id, sizeof(f->access_id), "%s", id != NULL ? id : "");
	if (id == NULL || exp == NULL || sig == NULL ||
	    num_u64(exp, (size_t)-1, UINT64_MAX, &e) != 0)
		return fail(f, 403, "AccessDenied", NULL,
		    "Invalid presigned URL: OSSAccessKeyId, Expires and Signature are required.");
	if (strcmp(id, a->access_id) != 0)
		return fail(f, 403, "InvalidAccessKeyId", NULL,
		    "The OSS Access Key Id you provided does not exist in our records.");
	rc = sign_oss_v1_verify_presign(cred, r, (int64_t)a->now);
	if (rc == 0)
		return 1;
	if (rc == -ETIME)
		return fail(f, 403, "AccessDenied", NULL,
		    "Request has expired.");
	if (rc != ENG_ESIG && rc != ENG_EINVAL)
		return rc;
	snprintf(f->provided, sizeof(f->provided), "%s", sig);
	if ((rc = sign_oss_v1_string(r, exp, &f->string_to_sign)) != 0 &&
	    rc != ENG_EINVAL)
		return rc;
	return fail(f, 403, "SignatureDoesNotMatch", "0002-00000040", sig_msg);
}

static int
check_presign_v4(const struct emu_oss_authreq *a, const struct sign_cred *cred,
    const struct sign_oss_req *r, struct emu_oss_authfail *f)
{
	const char *credv = emu_oss_query_get(a->q, "x-oss-credential");
	const char *sig = emu_oss_query_get(a->q, "x-oss-signature");
	const char *slash;
	int rc;

	if (credv == NULL || sig == NULL)
		return fail(f, 403, "AccessDenied", NULL,
		    "Invalid presigned URL: x-oss-credential and x-oss-signature are required.");
	slash = strchr(credv, '/');
	snprintf(f->access_id, sizeof(f->access_id), "%.*s",
	    (int)(slash != NULL ? (size_t)(slash - credv) : strlen(credv)), credv);
	if (strcmp(f->access_id, a->access_id) != 0)
		return fail(f, 403, "InvalidAccessKeyId", NULL,
		    "The OSS Access Key Id you provided does not exist in our records.");
	rc = sign_oss_v4_verify_presign(cred, r, (int64_t)a->now);
	if (rc == 0)
		return 1;
	if (rc == -ETIME)
		return fail(f, 403, "AccessDenied", NULL,
		    "Request has expired.");
	if (rc != ENG_ESIG && rc != ENG_EINVAL)
		return rc;
	snprintf(f->provided, sizeof(f->provided), "%s", sig);
	if (slash != NULL &&
	    (rc = v4_string_to_sign(r, slash + 1,
	    emu_oss_query_get(a->q, "x-oss-additional-headers"),
	    emu_oss_query_get(a->q, "x-oss-date"), "x-oss-signature", f)) != 0 &&
	    rc != ENG_EINVAL)
		return rc;
	return fail(f, 403, "SignatureDoesNotMatch", "0002-00000040", sig_msg);
}

int
emu_oss_auth_check(const struct emu_oss_authreq *a, struct emu_oss_authfail *f)
{
	const struct emu_req *req = a->req;
	struct sign_cred *cred = NULL;
	struct http_hdr *hs = NULL;
	struct http_param *ps = NULL;
	struct sign_oss_req r;
	const char *authz, *ver;
	size_t i;
	int rc = -ENOMEM;

	if (req->nhdrs > 0 && (hs = calloc(req->nhdrs, sizeof(*hs))) == NULL)
		goto out;
	for (i = 0; i < req->nhdrs; i++) {
		hs[i].name = req->hdrs[i].name;
		hs[i].value = req->hdrs[i].value;
	}
	if (a->q->n > 0 && (ps = calloc(a->q->n, sizeof(*ps))) == NULL)
		goto out;
	for (i = 0; i < a->q->n; i++) {
		ps[i].key = a->q->p[i].key;
		ps[i].value = a->q->p[i].has_val ? a->q->p[i].val : NULL;
	}
	memset(&r, 0, sizeof(r));
	r.method = req->method;
	r.bucket = a->bucket;
	r.key = a->key;
	r.hdrs = hs;
	r.nhdrs = req->nhdrs;
	r.query = ps;
	r.nquery = a->q->n;
	if ((rc = sign_cred_new(a->access_id, a->access_secret, NULL, &cred)) != 0)
		goto out;

	authz = hdr(req, "Authorization");
	ver = emu_oss_query_get(a->q, "x-oss-signature-version");
	if (authz != NULL && strncmp(authz, V4_ALG " ", strlen(V4_ALG) + 1) == 0)
		rc = check_header_v4(a, cred, &r, authz, f);
	else if (authz != NULL && strncmp(authz, "OSS ", 4) == 0)
		rc = check_header_v1(a, cred, &r, authz, f);
	else if (authz != NULL)
		rc = fail(f, 400, "InvalidArgument", NULL,
		    "Authorization header is invalid.");
	else if (ver != NULL && strcmp(ver, V4_ALG) == 0)
		rc = check_presign_v4(a, cred, &r, f);
	else if (ver != NULL)
		rc = fail(f, 400, "InvalidArgument", NULL,
		    "Unsupported x-oss-signature-version.");
	else if (emu_oss_query_has(a->q, "OSSAccessKeyId") ||
	    emu_oss_query_has(a->q, "Signature"))
		rc = check_presign_v1(a, cred, &r, f);
	else
		rc = fail(f, 403, "AccessDenied", NULL,
		    "You have no right to access this object because of bucket acl.");
out:
	sign_cred_free(cred);
	free(hs);
	free(ps);
	return rc;
}
