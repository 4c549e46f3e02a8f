/* SPDX-License-Identifier: MIT */
/*
 * sign.c - credentials, digests and the request signatures of Table Store
 * (V2) and OSS (V1, V4).  The only file that includes OpenSSL and the only
 * holder of secret bytes: a secret is copied into a struct sign_cred, used
 * as an HMAC key here, and wiped with OPENSSL_cleanse when the credential
 * is freed.  Derived keys (OSS V4 signing keys) are wiped after each use.
 * OpenSSL failures are drained from its error queue into the log and
 * reported as ENG_ESIG; no OpenSSL type or code leaves this file.
 *
 * Canonicalisation lives in sign_canon.c (Table Store) and sign_oss.c
 * (OSS); they reach the secret only through the keyed functions of
 * sign_i.h implemented at the end of this file.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "sys.h"
#include "sign.h"
#include "sign_i.h"

struct sign_cred {
	char	*id;
	char	*secret;	/**< wiped on free */
	size_t	 secret_len;
	char	*token;		/**< NULL when not using STS */
};

struct sign_hash {
	EVP_MD_CTX	*ctx;
	const EVP_MD	*md;
};
/* ---- errors ------------------------------------------------------------ */

static int
sign_ssl_fail(const char *what)
{
	unsigned long e;
	char msg[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, msg, sizeof(msg));
		log_warnx("sign: %s: %s", what, msg);
	}
	return ENG_ESIG;
}
/* ---- credentials -------------------------------------------------------- */

int
sign_cred_new(const char *id, const char *secret, const char *token,
    struct sign_cred **out)
{
	struct sign_cred *c = NULL;
	int rc = -ENOMEM;

	*out = NULL;
	if (id == NULL || *id == '\0' || secret == NULL || *secret == '\0')
		return ENG_EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out;
	c->secret_len = strlen(secret);
	/* the secret and the token in their own mappings: no core dump has them */
	if ((c->id = strdup(id)) == NULL || (c->secret = sys_secret_strdup(secret)) == NULL)
		goto out;
	if (token != NULL && *token != '\0' && (c->token = sys_secret_strdup(token)) == NULL)
		goto out;
	*out = c;
	c = NULL;
	rc = 0;
out:
	sign_cred_free(c);
	return rc;
}

void
sign_cred_free(struct sign_cred *c)
{
	if (c == NULL)
		return;
	sys_secret_free(c->secret);	/* wiped, then unmapped */
	sys_secret_free(c->token);
	free(c->id);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

const char *
sign_cred_id(const struct sign_cred *c)
{
	return c->id;
}

const char *
sign_cred_token(const struct sign_cred *c)
{
	return c->token;
}
/* ---- primitives ----------------------------------------------------------- */

int
sign_md5(const void *p, size_t n, uint8_t out[SIGN_MD5_LEN])
{
	if (EVP_Digest(p, n, out, NULL, EVP_md5(), NULL) != 1)
		return sign_ssl_fail("md5");
	return 0;
}

int
sign_sha256(const void *p, size_t n, uint8_t out[SIGN_SHA256_LEN])
{
	if (EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) != 1)
		return sign_ssl_fail("sha256");
	return 0;
}

static int
sign_hmac(const EVP_MD *md, const void *key, size_t klen, const void *msg,
    size_t mlen, uint8_t *out, unsigned want)
{
	static const unsigned char nokey[1];
	unsigned outlen = 0;

	if (klen > INT32_MAX)
		return ENG_EINVAL;
	if (HMAC(md, klen > 0 ? key : nokey, (int)klen,
	    mlen > 0 ? msg : (const void *)nokey, mlen, out, &outlen) == NULL ||
	    outlen != want)
		return sign_ssl_fail("hmac");
	return 0;
}

int
sign_hmac_sha1(const void *key, size_t klen, const void *msg, size_t mlen,
    uint8_t out[SIGN_SHA1_LEN])
{
	return sign_hmac(EVP_sha1(), key, klen, msg, mlen, out, SIGN_SHA1_LEN);
}

int
sign_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
    uint8_t out[SIGN_SHA256_LEN])
{
	return sign_hmac(EVP_sha256(), key, klen, msg, mlen, out, SIGN_SHA256_LEN);
}

int
sign_hash_new(enum sign_hash_alg alg, struct sign_hash **out)
{
	struct sign_hash *h = NULL;
	int rc = -ENOMEM;

	*out = NULL;
	if (alg != SIGN_HASH_MD5 && alg != SIGN_HASH_SHA256)
		return ENG_EINVAL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		goto out;
	h->md = alg == SIGN_HASH_MD5 ? EVP_md5() : EVP_sha256();
	if ((h->ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1) {
		rc = sign_ssl_fail("digest init");
		goto out;
	}
	*out = h;
	h = NULL;
	rc = 0;
out:
	sign_hash_free(h);
	return rc;
}

int
sign_hash_update(struct sign_hash *h, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (EVP_DigestUpdate(h->ctx, p, n) != 1)
		return sign_ssl_fail("digest update");
	return 0;
}

int
sign_hash_final(struct sign_hash *h, uint8_t *out, size_t outsz)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (outsz < (size_t)EVP_MD_get_size(h->md))
		return -ENOSPC;
	if (EVP_DigestFinal_ex(h->ctx, md, &len) != 1)
		return sign_ssl_fail("digest final");
	memcpy(out, md, len);
	if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1)
		return sign_ssl_fail("digest init");
	return 0;
}

void
sign_hash_free(struct sign_hash *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

static const char sign_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
sign_base64_encode(const void *p, size_t n, char *out, size_t outsz)
{
	const unsigned char *s = p;
	size_t i, o = 0;

	if (n / 3 >= (SIZE_MAX - 1) / 4 || outsz < (n + 2) / 3 * 4 + 1)
		return -ENOSPC;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];

		out[o++] = sign_b64[v >> 18];
		out[o++] = sign_b64[(v >> 12) & 63];
		out[o++] = sign_b64[(v >> 6) & 63];
		out[o++] = sign_b64[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)s[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		out[o++] = sign_b64[v >> 18];
		out[o++] = sign_b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? sign_b64[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return 0;
}

static int
sign_b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
sign_base64_decode(const char *s, size_t slen, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	size_t i, o = 0, need;

	if (slen % 4 != 0)
		return ENG_EINVAL;
	need = slen / 4 * 3;
	if (slen > 0 && s[slen - 1] == '=')
		need--;
	if (slen > 1 && s[slen - 2] == '=')
		need--;
	if (need > outsz)
		return -ENOSPC;
	for (i = 0; i < slen; i += 4) {
		int v[4], k, pad = 0;
		bool last = i + 4 == slen;

		for (k = 0; k < 4; k++) {
			if (s[i + k] == '=' && last && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0 || (v[k] = sign_b64_val(s[i + k])) < 0)
				return ENG_EINVAL;
		}
		/* non-canonical encodings (stray low bits) are rejected too */
		if ((pad == 2 && (v[1] & 15) != 0) || (pad == 1 && (v[2] & 3) != 0))
			return ENG_EINVAL;
		out[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (uint8_t)((v[1] & 15) << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (uint8_t)((v[2] & 3) << 6 | v[3]);
	}
	*outlen = o;
	return 0;
}

void
sign_hex(const void *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[s[i] >> 4];
		out[2 * i + 1] = hex[s[i] & 15];
	}
	out[2 * n] = '\0';
}

int
sign_content_md5(const void *p, size_t n, char out[SIGN_MD5_B64_SIZE])
{
	uint8_t md[SIGN_MD5_LEN];
	int rc;

	if ((rc = sign_md5(p, n, md)) != 0)
		return rc;
	return sign_base64_encode(md, sizeof(md), out, SIGN_MD5_B64_SIZE);
}

bool
sign_streq_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return false;
	return CRYPTO_memcmp(a, b, la) == 0;
}
/* ---- dates ---------------------------------------------------------------- */

static const char *const sign_wday[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const sign_mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static int
sign_gmtime(time_t t, struct tm *tm)
{
	if (gmtime_r(&t, tm) == NULL || tm->tm_year + 1900 > 9999 || tm->tm_year + 1900 < 0)
		return ENG_EINVAL;
	return 0;
}

int
sign_date_ots(time_t t, unsigned ms, char out[25])
{
	struct tm tm;
	int n;

	if (ms > 999 || sign_gmtime(t, &tm) != 0)
		return ENG_EINVAL;
	n = snprintf(out, 25, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ms);
	return n == 24 ? 0 : ENG_EINVAL;
}

int
sign_date_rfc1123(time_t t, char out[30])
{
	struct tm tm;
	int n;

	if (sign_gmtime(t, &tm) != 0)
		return ENG_EINVAL;
	n = snprintf(out, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    sign_wday[tm.tm_wday], tm.tm_mday, sign_mon[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return n == 29 ? 0 : ENG_EINVAL;
}

int
sign_date_iso8601_basic(time_t t, char out[17])
{
	struct tm tm;
	int n;

	if (sign_gmtime(t, &tm) != 0)
		return ENG_EINVAL;
	n = snprintf(out, 17, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return n == 16 ? 0 : ENG_EINVAL;
}

/* exactly n digits at s; -1 when not */
static int
sign_digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
sign_tm_done(struct tm *tm, int y, int mo, int d, int h, int mi, int s, time_t *out)
{
	time_t t;

	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || s < 0 || s > 60)
		return ENG_EINVAL;
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = y - 1900;
	tm->tm_mon = mo - 1;
	tm->tm_mday = d;
	tm->tm_hour = h;
	tm->tm_min = mi;
	tm->tm_sec = s;
	if ((t = timegm(tm)) == (time_t)-1)
		return ENG_EINVAL;
	*out = t;
	return 0;
}

int
sign_date_parse(const char *s, time_t *out)
{
	struct tm tm;
	size_t len = strlen(s);
	int mo;

	if (len == 16 && s[8] == 'T' && s[15] == 'Z')	/* 20231216T162057Z */
		return sign_tm_done(&tm, sign_digits(s, 4), sign_digits(s + 4, 2),
		    sign_digits(s + 6, 2), sign_digits(s + 9, 2),
		    sign_digits(s + 11, 2), sign_digits(s + 13, 2), out);
	if (len == 29 && s[3] == ',' && s[4] == ' ' && s[7] == ' ' && s[11] == ' ' &&
	    s[16] == ' ' && s[19] == ':' && s[22] == ':' && strcmp(s + 25, " GMT") == 0) {
		for (mo = 0; mo < 12; mo++)
			if (strncmp(s + 8, sign_mon[mo], 3) == 0)
				break;
		if (mo == 12)
			return ENG_EINVAL;
		return sign_tm_done(&tm, sign_digits(s + 12, 4), mo + 1,
		    sign_digits(s + 5, 2), sign_digits(s + 17, 2),
		    sign_digits(s + 20, 2), sign_digits(s + 23, 2), out);
	}
	/* 2024-01-01T00:00:00[.fffffffff]Z */
	if (len >= 20 && len <= 30 && s[4] == '-' && s[7] == '-' && s[10] == 'T' &&
	    s[13] == ':' && s[16] == ':' && s[len - 1] == 'Z') {
		if (len > 20) {
			if (s[19] != '.' || len == 21 || len - 21 > 9 ||
			    sign_digits(s + 20, (int)len - 21) < 0)
				return ENG_EINVAL;
		}
		return sign_tm_done(&tm, sign_digits(s, 4), sign_digits(s + 5, 2),
		    sign_digits(s + 8, 2), sign_digits(s + 11, 2),
		    sign_digits(s + 14, 2), sign_digits(s + 17, 2), out);
	}
	return ENG_EINVAL;
}
/* ---- keyed operations (sign_i.h) ---------------------------------------- */

bool
sign_memeq_ct(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

int
sign_cred_hmac_sha1_b64(const struct sign_cred *c, const void *msg, size_t len,
    char sig[SIGN_SHA1_B64_SIZE])
{
	uint8_t mac[SIGN_SHA1_LEN];
	int rc;

	if ((rc = sign_hmac_sha1(c->secret, c->secret_len, msg, len, mac)) != 0)
		return rc;
	return sign_base64_encode(mac, sizeof(mac), sig, SIGN_SHA1_B64_SIZE);
}

int
sign_cred_v4_hmac(const struct sign_cred *c, const char *date8,
    const char *region, const char *product, const void *msg, size_t len,
    uint8_t out[SIGN_SHA256_LEN])
{
	static const char prefix[] = "aliyun_v4";
	static const char term[] = "aliyun_v4_request";
	uint8_t k1[SIGN_SHA256_LEN], k2[SIGN_SHA256_LEN];
	size_t klen = sizeof(prefix) - 1 + c->secret_len;
	unsigned char *key;
	int rc;

	if ((key = malloc(klen)) == NULL)
		return -ENOMEM;
	memcpy(key, prefix, sizeof(prefix) - 1);
	memcpy(key + sizeof(prefix) - 1, c->secret, c->secret_len);
	if ((rc = sign_hmac_sha256(key, klen, date8, 8, k1)) != 0 ||
	    (rc = sign_hmac_sha256(k1, sizeof(k1), region, strlen(region), k2)) != 0 ||
	    (rc = sign_hmac_sha256(k2, sizeof(k2), product, strlen(product), k1)) != 0 ||
	    (rc = sign_hmac_sha256(k1, sizeof(k1), term, sizeof(term) - 1, k2)) != 0 ||
	    (rc = sign_hmac_sha256(k2, sizeof(k2), msg, len, out)) != 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	OPENSSL_cleanse(key, klen);
	free(key);
	return rc;
}
