/* SPDX-License-Identifier: MIT */
/*
 * sign.h - credentials, hashing primitives and the request signatures of
 * Table Store (V2 + response signature) and OSS (V1 and V4, header and
 * presigned forms).  Used by the service clients (to sign) and by difs-emu
 * (to verify: it recomputes from the received request with the same
 * functions and compares in constant time).
 *
 * sign.c is the only file that includes OpenSSL and the only place that
 * holds secret bytes: a struct sign_cred keeps the secret, wipes it
 * (OPENSSL_cleanse) on free and never hands it out.
 *
 * Conventions for every signing function below:
 *   - headers are struct http_hdr {name, value}; names in any case, values
 *     as sent (the functions trim blanks themselves where the algorithm says
 *     so).  Pass ALL request headers; the functions pick what they sign.
 *   - query parameters are struct http_param, DECODED (http_query_parse
 *     turns a wire query into this form).  value NULL or "" both mean "key
 *     without value" (OSS treats `?uploads` and `?uploads=` alike).
 *   - object keys and bucket names are raw UTF-8 (NOT percent-encoded).
 *   - output strings go into a caller-initialised struct buf (appended);
 *     fixed-size outputs into arrays of the SIGN_*_SIZE sizes below.
 * Return codes: 0, -ENOMEM/-E2BIG (buffers), ENG_EINVAL (missing/malformed
 * input, e.g. no date header), ENG_ESIG (verification failed; also for a
 * malformed Authorization header), -ETIME (presigned URL expired).
 * All functions are thread-safe; a sign_cred may be shared between threads.
 */
#ifndef DIFS_SIGN_H
#define DIFS_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "http.h"

#define SIGN_MD5_LEN		16
#define SIGN_SHA1_LEN		20
#define SIGN_SHA256_LEN		32
#define SIGN_MD5_B64_SIZE	25	/**< base64(16 bytes) + NUL */
#define SIGN_SHA1_B64_SIZE	29	/**< base64(20 bytes) + NUL */
#define SIGN_SHA256_HEX_SIZE	65	/**< hex(32 bytes) + NUL */

/* ---- credentials ------------------------------------------------------ */

struct sign_cred;

/**
 * sign_cred_new - copy an access key pair and an optional STS token.
 * id and secret must be non-empty; token may be NULL or "".
 * Returns 0, ENG_EINVAL, -ENOMEM.
 */
int	 sign_cred_new(const char *id, const char *secret, const char *token,
	    struct sign_cred **out);
/** Wipe and free (NULL-safe). */
void	 sign_cred_free(struct sign_cred *c);
/** Access key id; valid while c lives. */
const char *sign_cred_id(const struct sign_cred *c);
/** STS token (sent as a header/query, so readable) or NULL; valid while c lives. */
const char *sign_cred_token(const struct sign_cred *c);

/* ---- primitives --------------------------------------------------------- */

int	 sign_md5(const void *p, size_t n, uint8_t out[SIGN_MD5_LEN]);
int	 sign_sha256(const void *p, size_t n, uint8_t out[SIGN_SHA256_LEN]);
/** HMAC with a caller key (the emulator, tests). */
int	 sign_hmac_sha1(const void *key, size_t klen, const void *msg, size_t mlen,
	    uint8_t out[SIGN_SHA1_LEN]);
int	 sign_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
	    uint8_t out[SIGN_SHA256_LEN]);

/** Incremental MD5 / SHA-256 (streamed part uploads). */
enum sign_hash_alg { SIGN_HASH_MD5 = 1, SIGN_HASH_SHA256 };
struct sign_hash;
int	 sign_hash_new(enum sign_hash_alg alg, struct sign_hash **out);
int	 sign_hash_update(struct sign_hash *h, const void *p, size_t n);
/** Write the digest (16 or 32 bytes; outsz must be large enough) and reset h for reuse. */
int	 sign_hash_final(struct sign_hash *h, uint8_t *out, size_t outsz);
void	 sign_hash_free(struct sign_hash *h);

/** Standard base64 with padding.  outsz >= 4*ceil(n/3)+1 else -ENOSPC. */
int	 sign_base64_encode(const void *p, size_t n, char *out, size_t outsz);
/**
 * Strict standard base64 decode (padding required, no whitespace).
 * Returns 0 with *outlen set, ENG_EINVAL on bad input, -ENOSPC if outsz is short.
 */
int	 sign_base64_decode(const char *s, size_t slen, uint8_t *out, size_t outsz,
	    size_t *outlen);
/** Lowercase hex of p[0..n) into out (2n+1 bytes, NUL-terminated). */
void	 sign_hex(const void *p, size_t n, char *out);
/** base64(MD5(body)): Content-MD5 / x-ots-contentmd5. */
int	 sign_content_md5(const void *p, size_t n, char out[SIGN_MD5_B64_SIZE]);
/** Constant-time equality of two NUL-terminated strings (time depends only on lengths). */
bool	 sign_streq_ct(const char *a, const char *b);

/* ---- dates ------------------------------------------------------------- */

/** "2024-01-01T00:00:00.000Z" (Table Store x-ots-date); ms 0..999. */
int	 sign_date_ots(time_t t, unsigned ms, char out[25]);
/** "Wed, 28 Dec 2022 10:27:41 GMT" (HTTP Date, OSS V1 x-oss-date). */
int	 sign_date_rfc1123(time_t t, char out[30]);
/** "20231216T162057Z" (OSS V4 x-oss-date). */
int	 sign_date_iso8601_basic(time_t t, char out[17]);
/**
 * Parse any of the three formats above (OTS form accepts 0..9 fraction
 * digits) into a Unix time.  0 or ENG_EINVAL.  For date-skew checks.
 */
int	 sign_date_parse(const char *s, time_t *out);

/**
 * sign_authz_id - the access key id named by an Authorization value:
 * "OTS id:sig", "OSS id:sig" or "OSS4-HMAC-SHA256 Credential=id/...".
 * 0, ENG_ESIG (unrecognised), -ENOSPC (outsz too small).
 */
int	 sign_authz_id(const char *authz, char *out, size_t outsz);

/* ---- Table Store V2 (contrib/doc/tablestore.md 1.3, 1.4) ----------------- */

/**
 * sign_ots_request_string - StringToSign of a request:
 *   "/" api "\n" method "\n" "\n" + for each header whose lowercase name
 *   starts with "x-ots-" except x-ots-signature, sorted bytewise by
 *   lowercase name: name ":" trim(value) "\n".
 * api is the ApiName ("ListStream"), method normally "POST".
 */
int	 sign_ots_request_string(const char *api, const char *method,
	    const struct http_hdr *hdrs, size_t nhdrs, struct buf *out);
/** x-ots-signature value = base64(HMAC-SHA1(secret, StringToSign)). */
int	 sign_ots_request(const struct sign_cred *c, const char *api,
	    const char *method, const struct http_hdr *hdrs, size_t nhdrs,
	    char sig[SIGN_SHA1_B64_SIZE]);
/**
 * Server side: recompute over all received x-ots-* headers and compare with
 * the received x-ots-signature header (constant time).  Does not check the
 * access key id, date skew or MD5 (the caller does).  0 or ENG_ESIG.
 */
int	 sign_ots_verify_request(const struct sign_cred *c, const char *api,
	    const char *method, const struct http_hdr *hdrs, size_t nhdrs);

/**
 * sign_ots_response_string - response StringToSign: for each header whose
 * lowercase name starts with "x-ots-", sorted: name ":" trim(value) "\n",
 * then "/" api.  (Values trimmed like the Python SDK; servers send no
 * surrounding blanks, so this matches Java too.)
 */
int	 sign_ots_response_string(const char *api, const struct http_hdr *hdrs,
	    size_t nhdrs, struct buf *out);
/** Server side: the "authorization" response header value "OTS id:sig" (appended to out). */
int	 sign_ots_response(const struct sign_cred *c, const char *api,
	    const struct http_hdr *hdrs, size_t nhdrs, struct buf *out);
/**
 * Client side: check the response "authorization" header among hdrs: must be
 * "OTS " + our id + ":" + expected signature.  0 or ENG_ESIG (also when the
 * header is missing).
 */
int	 sign_ots_verify_response(const struct sign_cred *c, const char *api,
	    const struct http_hdr *hdrs, size_t nhdrs);

/* ---- OSS (contrib/doc/oss.md 2.1, 2.2) ----------------------------------- */

/** The parts of an OSS request that signatures cover. */
struct sign_oss_req {
	const char		*method;	/**< "PUT", ... */
	const char		*bucket;	/**< NULL/"" = service level */
	const char		*key;		/**< raw object key; NULL/"" = bucket level */
	const struct http_hdr	*hdrs;		/**< all request headers */
	size_t			 nhdrs;
	const struct http_param	*query;		/**< all query params, decoded */
	size_t			 nquery;
};

/**
 * V1 StringToSign: VERB \n Content-MD5 \n Content-Type \n Date \n
 * CanonicalizedOSSHeaders CanonicalizedResource.  The Date slot is
 * date_slot when non-NULL (presigned: Expires), else x-oss-date if present,
 * else Date; ENG_EINVAL when none.  The resource is "/bucket/key" (raw),
 * "/bucket/" or "/", plus "?" sorted sub-resources ("k" or "k=v", raw values)
 * taken from the whitelist of the official SDKs and any "x-oss-*" key.
 */
int	 sign_oss_v1_string(const struct sign_oss_req *r, const char *date_slot,
	    struct buf *out);
/** Authorization header value "OSS id:sig" (appended to out). */
int	 sign_oss_v1_header(const struct sign_cred *c, const struct sign_oss_req *r,
	    struct buf *out);
/** Server side: check an Authorization value against r.  0 or ENG_ESIG. */
int	 sign_oss_v1_verify(const struct sign_cred *c, const struct sign_oss_req *r,
	    const char *authz);
/**
 * V1 presigned URL query (appended to out, without '?'): r->query plus
 * OSSAccessKeyId, Expires, Signature and (when c has a token)
 * security-token, all percent-encoded, sorted by decoded key.
 * expires is a Unix time.
 */
int	 sign_oss_v1_presign(const struct sign_cred *c, const struct sign_oss_req *r,
	    int64_t expires, struct buf *out);
/**
 * Server side: r->query carries OSSAccessKeyId, Expires, Signature.
 * 0, ENG_ESIG (mismatch, wrong id, missing params), -ETIME (now > Expires).
 */
int	 sign_oss_v1_verify_presign(const struct sign_cred *c,
	    const struct sign_oss_req *r, int64_t now);

/** V4 parameters. */
struct sign_v4 {
	const char		*region;	/**< "cn-hangzhou" (no "oss-" prefix) */
	const char		*product;	/**< NULL = "oss" */
	const char *const	*additional;	/**< AdditionalHeaders names (any case) */
	size_t			 nadditional;
};

/**
 * V4 canonical request (contrib/doc/oss.md 2.2).  The additional names are
 * lowercased, deduplicated, sorted; names absent from r->hdrs and names that
 * are always signed (content-type, content-md5, x-oss-*) are dropped.
 * The payload hash is x-oss-content-sha256's value or "UNSIGNED-PAYLOAD".
 * When skip_query_key is non-NULL that query param is left out (the
 * x-oss-signature of a presigned URL).
 */
int	 sign_oss_v4_canonical(const struct sign_oss_req *r,
	    const char *const *additional, size_t nadditional,
	    const char *skip_query_key, struct buf *out);
/**
 * V4 header form: Authorization value (appended to out)
 * "OSS4-HMAC-SHA256 Credential=id/YYYYMMDD/region/product/aliyun_v4_request
 * [,AdditionalHeaders=a;b],Signature=hex".  The time is r's x-oss-date
 * header (YYYYMMDDTHHMMSSZ; ENG_EINVAL when missing or malformed).  The
 * caller adds x-oss-date, x-oss-content-sha256 and (STS) x-oss-security-token
 * headers to r before calling.
 */
int	 sign_oss_v4_header(const struct sign_cred *c, const struct sign_oss_req *r,
	    const struct sign_v4 *v, struct buf *out);
/**
 * Server side: parse the Authorization value (Credential, optional
 * AdditionalHeaders, Signature; ", " or "," separators), require id ==
 * c's id and the credential date == x-oss-date's day, recompute with the
 * credential's region/product, compare.  0 or ENG_ESIG.
 */
int	 sign_oss_v4_verify(const struct sign_cred *c, const struct sign_oss_req *r,
	    const char *authz);
/**
 * V4 presigned query (appended, without '?'): r->query plus
 * x-oss-signature-version, x-oss-date (from now), x-oss-expires,
 * x-oss-credential, [x-oss-additional-headers], [x-oss-security-token],
 * x-oss-signature; encoded, sorted by decoded key.
 */
int	 sign_oss_v4_presign(const struct sign_cred *c, const struct sign_oss_req *r,
	    const struct sign_v4 *v, time_t now, uint32_t expires_secs,
	    struct buf *out);
/**
 * Server side of the above: r->query holds the x-oss-* params.
 * 0, ENG_ESIG, -ETIME (now > x-oss-date + x-oss-expires).
 */
int	 sign_oss_v4_verify_presign(const struct sign_cred *c,
	    const struct sign_oss_req *r, int64_t now);

#endif /* DIFS_SIGN_H */
