/* SPDX-License-Identifier: MIT */
/*
 * test_sign.c - primitives and every official signature vector of
 * contrib/doc/tablestore.md 1.3-1.4 and contrib/doc/oss.md 2.1-2.2, signed and
 * then verified the way difs-emu verifies (plus tampering must fail).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "sign.h"
#include "tap.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))

static struct sign_cred *
cred(const char *id, const char *secret, const char *token)
{
	struct sign_cred *c = NULL;

	if (sign_cred_new(id, secret, token, &c) != 0) {
		printf("Bail out! sign_cred_new\n");
		exit(1);
	}
	return c;
}

static void
test_primitives(void)
{
	uint8_t md[SIGN_SHA256_LEN], dec[64];
	char hex[SIGN_SHA256_HEX_SIZE], b64[64];
	struct sign_hash *h = NULL;
	struct sign_cred *c = NULL;
	size_t n;

	is_int(sign_md5("", 0, md), 0, "md5 of empty");
	sign_hex(md, SIGN_MD5_LEN, hex);
	is_str(hex, "d41d8cd98f00b204e9800998ecf8427e", "md5('')");
	sign_sha256("abc", 3, md);
	sign_hex(md, SIGN_SHA256_LEN, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "sha256('abc')");
	/* RFC 4231 test case 2 */
	sign_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, md);
	sign_hex(md, SIGN_SHA256_LEN, hex);
	is_str(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	    "hmac-sha256 RFC 4231 #2");
	/* RFC 2202 test case 2 */
	sign_hmac_sha1("Jefe", 4, "what do ya want for nothing?", 28, md);
	sign_hex(md, SIGN_SHA1_LEN, hex);
	is_str(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", "hmac-sha1 RFC 2202 #2");

	is_int(sign_hash_new(SIGN_HASH_SHA256, &h), 0, "hash new");
	sign_hash_update(h, "a", 1);
	sign_hash_update(h, "bc", 2);
	is_int(sign_hash_final(h, md, sizeof(md)), 0, "hash final");
	sign_hex(md, SIGN_SHA256_LEN, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "incremental sha256 == one-shot");
	sign_hash_update(h, "abc", 3);	/* reusable after final */
	sign_hash_final(h, md, sizeof(md));
	sign_hex(md, SIGN_SHA256_LEN, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "hash reset after final");
	is_int(sign_hash_final(h, md, 8), -ENOSPC, "short output refused");
	sign_hash_free(h);

	/* RFC 4648 vectors */
	sign_base64_encode("", 0, b64, sizeof(b64));
	is_str(b64, "", "b64 ''");
	sign_base64_encode("f", 1, b64, sizeof(b64));
	is_str(b64, "Zg==", "b64 f");
	sign_base64_encode("fo", 2, b64, sizeof(b64));
	is_str(b64, "Zm8=", "b64 fo");
	sign_base64_encode("foobar", 6, b64, sizeof(b64));
	is_str(b64, "Zm9vYmFy", "b64 foobar");
	is_int(sign_base64_encode("foobar", 6, b64, 8), -ENOSPC, "b64 needs room for NUL");
	is_int(sign_base64_decode("Zm9vYg==", 8, dec, sizeof(dec), &n), 0, "decode foob");
	ok(n == 4 && memcmp(dec, "foob", 4) == 0, "decoded foob");
	is_int(sign_base64_decode("Zm9vYmE=", 8, dec, sizeof(dec), &n), 0, "decode fooba");
	ok(n == 5 && memcmp(dec, "fooba", 5) == 0, "decoded fooba");
	is_int(sign_base64_decode("Zm9", 3, dec, sizeof(dec), &n), ENG_EINVAL, "bad length");
	is_int(sign_base64_decode("Zm=v", 4, dec, sizeof(dec), &n), ENG_EINVAL, "pad in middle");
	is_int(sign_base64_decode("Zh==", 4, dec, sizeof(dec), &n), ENG_EINVAL, "non-canonical bits");
	is_int(sign_base64_decode("Zm9v", 4, dec, 2, &n), -ENOSPC, "short decode buffer");

	/* x-ots-contentmd5 of the contrib/doc/tablestore.md 1.3 body */
	sign_content_md5("\x0a\x02\x74\x31", 4, b64);
	is_str(b64, "sNnO8EJ2mwgU0Z/k1zqY2g==", "content-md5 of ListStreamRequest{t1}");

	ok(sign_streq_ct("abc", "abc"), "streq equal");
	ok(!sign_streq_ct("abc", "abd"), "streq differs");
	ok(!sign_streq_ct("abc", "abcd"), "streq length");

	is_int(sign_cred_new("", "s", NULL, &c), ENG_EINVAL, "empty id refused");
	is_int(sign_cred_new("i", "", NULL, &c), ENG_EINVAL, "empty secret refused");
	ok(c == NULL, "out untouched on failure");
	c = cred("id", "secret", "");
	ok(sign_cred_token(c) == NULL, "empty token = none");
	is_str(sign_cred_id(c), "id", "id readable");
	sign_cred_free(c);
	sign_cred_free(NULL);
}

static void
test_dates(void)
{
	char d[32];
	time_t t;

	sign_date_ots(1704067200, 0, d);
	is_str(d, "2024-01-01T00:00:00.000Z", "ots date");
	sign_date_ots(1704067200, 7, d);
	is_str(d, "2024-01-01T00:00:00.007Z", "ots date ms");
	sign_date_rfc1123(1672223261, d);
	is_str(d, "Wed, 28 Dec 2022 10:27:41 GMT", "rfc1123");
	sign_date_iso8601_basic(1702743657, d);
	is_str(d, "20231216T162057Z", "iso8601 basic");
	is_int(sign_date_parse("20231216T162057Z", &t), 0, "parse iso");
	is_int(t, 1702743657, "iso value");
	is_int(sign_date_parse("Wed, 28 Dec 2022 10:27:41 GMT", &t), 0, "parse rfc1123");
	is_int(t, 1672223261, "rfc1123 value");
	is_int(sign_date_parse("2024-01-01T00:00:00.000Z", &t), 0, "parse ots");
	is_int(t, 1704067200, "ots value");
	is_int(sign_date_parse("2020-09-09T08:37:11.680616Z", &t), 0, "6 fraction digits");
	is_int(sign_date_parse("2024-01-01T00:00:00Z", &t), 0, "no fraction");
	is_int(sign_date_parse("2024-13-01T00:00:00Z", &t), ENG_EINVAL, "month 13");
	is_int(sign_date_parse("Wed, 28 Foo 2022 10:27:41 GMT", &t), ENG_EINVAL, "bad month");
	is_int(sign_date_parse("", &t), ENG_EINVAL, "empty");
	is_int(sign_date_parse("2024-01-01T00:00:00.Z", &t), ENG_EINVAL, "empty fraction");
}

static void
test_ots(void)
{
	static const char *want_sts =
	    "/ListStream\nPOST\n\nx-ots-accesskeyid:testid\nx-ots-apiversion:2015-12-31\n"
	    "x-ots-contentmd5:sNnO8EJ2mwgU0Z/k1zqY2g==\nx-ots-date:2024-01-01T00:00:00.000Z\n"
	    "x-ots-instancename:inst1\n";
	struct http_hdr h[] = {
		{ "x-ots-date", "2024-01-01T00:00:00.000Z" },
		{ "X-Ots-ApiVersion", "2015-12-31" },
		{ "x-ots-accesskeyid", "testid" },
		{ "x-ots-instancename", " inst1 " },
		{ "Content-Length", "4" },
		{ "x-ots-contentmd5", "sNnO8EJ2mwgU0Z/k1zqY2g==" },
		{ "x-ots-signature", "DBV8BtCJlICEXisWSI+sbjcT4K4=" },
	};
	struct http_hdr rh[] = {
		{ "x-ots-requestid", "req-1" },
		{ "x-ots-contentmd5", "1B2M2Y8AsgTpgAmY7PhCfg==" },
		{ "x-ots-date", "2024-01-01T00:00:00.000Z" },
		{ "x-ots-contenttype", "protocol buffer" },
		{ "authorization", "OTS testid:1uiWROntLzk4Uot8vYUpVePfjT4=" },
	};
	struct sign_cred *c = cred("testid", "testsecret", NULL);
	struct sign_cred *bad = cred("testid", "testsecreT", NULL);
	struct sign_cred *other = cred("otherid", "testsecret", NULL);
	char sig[SIGN_SHA1_B64_SIZE];
	struct buf b;

	buf_init(&b, BUF_MAX_SMALL);
	is_int(sign_ots_request_string("ListStream", "POST", h, N(h), &b), 0, "ots sts");
	is_str(b.p, want_sts, "ots StringToSign (contrib/doc/tablestore.md 1.3 vector)");
	is_int(sign_ots_request(c, "ListStream", "POST", h, N(h), sig), 0, "ots sign");
	is_str(sig, "DBV8BtCJlICEXisWSI+sbjcT4K4=", "ots x-ots-signature vector");
	is_int(sign_ots_verify_request(c, "ListStream", "POST", h, N(h)), 0, "server verifies");
	is_int(sign_ots_verify_request(bad, "ListStream", "POST", h, N(h)), ENG_ESIG,
	    "wrong secret refused");
	is_int(sign_ots_verify_request(c, "ListTable", "POST", h, N(h)), ENG_ESIG,
	    "other api refused");
	h[0].value = "2024-01-01T00:00:01.000Z";
	is_int(sign_ots_verify_request(c, "ListStream", "POST", h, N(h)), ENG_ESIG,
	    "tampered header refused");
	is_int(sign_ots_verify_request(c, "ListStream", "POST", h, N(h) - 1), ENG_ESIG,
	    "missing signature refused");

	buf_reset(&b);
	is_int(sign_ots_response_string("ListStream", rh, N(rh), &b), 0, "resp sts");
	is_str(b.p, "x-ots-contentmd5:1B2M2Y8AsgTpgAmY7PhCfg==\nx-ots-contenttype:protocol buffer\n"
	    "x-ots-date:2024-01-01T00:00:00.000Z\nx-ots-requestid:req-1\n/ListStream",
	    "response StringToSign");
	buf_reset(&b);
	is_int(sign_ots_response(c, "ListStream", rh, N(rh), &b), 0, "resp sign");
	is_str(b.p, "OTS testid:1uiWROntLzk4Uot8vYUpVePfjT4=", "response authorization vector");
	is_int(sign_ots_verify_response(c, "ListStream", rh, N(rh)), 0, "client verifies response");
	is_int(sign_ots_verify_response(other, "ListStream", rh, N(rh)), ENG_ESIG,
	    "response for another id refused");
	is_int(sign_ots_verify_response(c, "ListStream", rh, N(rh) - 1), ENG_ESIG,
	    "missing authorization refused");
	rh[0].value = "req-2";
	is_int(sign_ots_verify_response(c, "ListStream", rh, N(rh)), ENG_ESIG,
	    "tampered response refused");
	buf_free(&b);
	sign_cred_free(c);
	sign_cred_free(bad);
	sign_cred_free(other);
}

static void
test_oss_v1(void)
{
	struct http_hdr h[] = {
		{ "Content-MD5", "eB5eJF1ptWaXm4bijSPyxw==" },
		{ "Content-Type", "text/html" },
		{ "x-oss-meta-author", "alice" },
		{ "x-oss-meta-magic", "abracadabra" },
		{ "x-oss-date", "Wed, 28 Dec 2022 10:27:41 GMT" },
		{ "Date", "Wed, 28 Dec 2022 10:27:41 GMT" },
	};
	struct http_param acl[] = { { "acl", NULL } };
	struct http_param rg[] = { { "resourceGroup", NULL }, { "non-resousce", "null" } };
	struct http_param rg2[] = { { "resourceGroup", NULL }, { "acl", "" } };
	struct http_param ver[] = { { "versionId", "versionId" } };
	struct http_hdr hd[] = { { "x-oss-date", "Wed, 28 Dec 2022 10:27:41 GMT" } };
	struct sign_oss_req r = { "PUT", "examplebucket", "nelson", h, N(h), NULL, 0 };
	struct sign_cred *c = cred("ak", "sk", NULL);
	struct sign_cred *ct = cred("ak", "sk", "token");
	struct sign_cred *bad = cred("ak", "sK", NULL);
	struct http_query q;
	struct buf b;

	buf_init(&b, BUF_MAX_SMALL);
	sign_oss_v1_string(&r, NULL, &b);
	is_str(b.p, "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\n"
	    "x-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\n"
	    "x-oss-meta-magic:abracadabra\n/examplebucket/nelson", "V1 vector 1 StringToSign");
	buf_reset(&b);
	is_int(sign_oss_v1_header(c, &r, &b), 0, "v1 sign");
	is_str(b.p, "OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M=", "V1 vector 1");
	is_int(sign_oss_v1_verify(c, &r, b.p), 0, "v1 verify 1");
	is_int(sign_oss_v1_verify(bad, &r, b.p), ENG_ESIG, "v1 wrong secret");
	is_int(sign_oss_v1_verify(c, &r, "OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7N="), ENG_ESIG,
	    "v1 wrong signature");
	is_int(sign_oss_v1_verify(c, &r, "OSS bk:kSHKmLxlyEAKtZPkJhG9bZb5k7M="), ENG_ESIG,
	    "v1 wrong id");
	is_int(sign_oss_v1_verify(c, &r, "OSS4 nonsense"), ENG_ESIG, "v1 malformed");

	r.query = acl;
	r.nquery = N(acl);
	buf_reset(&b);
	sign_oss_v1_header(c, &r, &b);
	is_str(b.p, "OSS ak:/afkugFbmWDQ967j1vr6zygBLQk=", "V1 vector 2 (?acl)");

	r.method = "GET";
	r.key = NULL;
	r.hdrs = hd;
	r.nhdrs = N(hd);
	r.query = rg;
	r.nquery = N(rg);
	buf_reset(&b);
	sign_oss_v1_string(&r, NULL, &b);
	is_str(b.p, "GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n"
	    "/examplebucket/?resourceGroup", "V1 vector 3 StringToSign");
	buf_reset(&b);
	sign_oss_v1_header(c, &r, &b);
	is_str(b.p, "OSS ak:vkQmfuUDyi1uDi3bKt67oemssIs=", "V1 vector 3 (non-subresource skipped)");

	r.query = rg2;
	r.nquery = N(rg2);
	buf_reset(&b);
	sign_oss_v1_header(c, &r, &b);
	is_str(b.p, "OSS ak:x3E5TgOvl/i7PN618s5mEvpJDYk=", "V1 vector 4 (?acl&resourceGroup)");
	is_int(sign_oss_v1_verify(c, &r, b.p), 0, "v1 verify 4");

	/* no date at all */
	r.nhdrs = 0;
	buf_reset(&b);
	is_int(sign_oss_v1_string(&r, NULL, &b), ENG_EINVAL, "v1 without a date");

	/* presigned */
	r.method = "GET";
	r.bucket = "bucket";
	r.key = "key";
	r.query = ver;
	r.nquery = N(ver);
	buf_reset(&b);
	is_int(sign_oss_v1_presign(c, &r, 1699807420, &b), 0, "v1 presign");
	is_str(b.p, "Expires=1699807420&OSSAccessKeyId=ak&Signature=dcLTea%2BYh9ApirQ8o8dOPqtvJXQ%3D"
	    "&versionId=versionId", "V1 presign vector 5");
	/* the emulator parses the wire query and verifies */
	is_int(http_query_parse(b.p, b.len, &q), 0, "parse presigned query");
	r.query = q.params;
	r.nquery = q.n;
	is_int(sign_oss_v1_verify_presign(c, &r, 1699807000), 0, "v1 presign verifies");
	is_int(sign_oss_v1_verify_presign(c, &r, 1699807421), -ETIME, "v1 presign expired");
	is_int(sign_oss_v1_verify_presign(bad, &r, 1699807000), ENG_ESIG, "v1 presign wrong secret");
	r.key = "key2";
	is_int(sign_oss_v1_verify_presign(c, &r, 1699807000), ENG_ESIG, "v1 presign other key");
	http_query_free(&q);

	r.key = "key+123";
	r.query = ver;
	r.nquery = N(ver);
	buf_reset(&b);
	is_int(sign_oss_v1_presign(ct, &r, 1699808204, &b), 0, "v1 presign token");
	is_str(b.p, "Expires=1699808204&OSSAccessKeyId=ak&Signature=jzKYRrM5y6Br0dRFPaTGOsbrDhY%3D"
	    "&security-token=token&versionId=versionId", "V1 presign vector 6 (STS token)");
	is_int(http_query_parse(b.p, b.len, &q), 0, "parse presigned query 6");
	r.query = q.params;
	r.nquery = q.n;
	is_int(sign_oss_v1_verify_presign(ct, &r, 1699808204), 0, "v1 presign 6 verifies");
	http_query_free(&q);

	{
		/* ali-oss live capture (contrib/doc/oss.md 2.1): raw key with
		 * space and '+' */
		struct http_hdr lh[] = {
			{ "x-oss-date", "Wed, 25 Nov 2026 12:30:34 GMT" },
			{ "content-type", "text/csv" },
			{ "content-md5", "9nHkcPqo8wNH7TVanKqzuA==" },
			{ "x-oss-meta-src", "datax" },
		};
		struct sign_oss_req lr = { "PUT", "mybucket", "dir/a b+c.csv", lh, N(lh), NULL, 0 };
		struct sign_cred *lc = cred("AKIDEXAMPLE", "SECRETEXAMPLE", NULL);

		buf_reset(&b);
		sign_oss_v1_header(lc, &lr, &b);
		is_str(b.p, "OSS AKIDEXAMPLE:nUUoifsGTyjEL+To04NKNBaVlbo=", "V1 ali-oss capture");
		sign_cred_free(lc);
	}
	buf_free(&b);
	sign_cred_free(c);
	sign_cred_free(ct);
	sign_cred_free(bad);
}

/* the common V4 request of contrib/doc/oss.md 2.2 */
static struct http_param v4q[] = {
	{ "param1", "value1" }, { "+param1", "value3" }, { "|param1", "value4" },
	{ "+param2", "" }, { "|param2", NULL }, { "param2", "" },
};

static void
test_oss_v4(void)
{
	struct http_hdr h[] = {
		{ "x-oss-head1", "value" }, { "abc", "value" }, { "ZAbc", "value" },
		{ "XYZ", "value" }, { "content-type", "text/plain" },
		{ "x-oss-content-sha256", "UNSIGNED-PAYLOAD" },
		{ "x-oss-date", "20231216T162057Z" },
		{ "x-oss-security-token", "token" },
	};
	const char *addl[] = { "ZAbc", "abc" };
	const char *addl2[] = { "ZAbc", "abc", "x-oss-head1", "x-oss-no-exist", "abc" };
	struct sign_oss_req r = { "PUT", "bucket", "1234+-/123/1.txt", h, N(h) - 1, v4q, N(v4q) };
	struct sign_v4 v = { "cn-hangzhou", NULL, NULL, 0 };
	struct sign_cred *c = cred("ak", "sk", NULL);
	struct sign_cred *ct = cred("ak", "sk", "token");
	struct sign_cred *bad = cred("ak", "sk2", NULL);
	struct buf b;

	buf_init(&b, BUF_MAX_SMALL);
	is_int(sign_oss_v4_canonical(&r, NULL, 0, NULL, &b), 0, "v4 canonical");
	is_str(b.p, "PUT\n/bucket/1234%2B-/123/1.txt\n"
	    "%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2\n"
	    "content-type:text/plain\nx-oss-content-sha256:UNSIGNED-PAYLOAD\n"
	    "x-oss-date:20231216T162057Z\nx-oss-head1:value\n\n\nUNSIGNED-PAYLOAD",
	    "V4 worked canonical request (contrib/doc/oss.md 2.2)");

	buf_reset(&b);
	is_int(sign_oss_v4_header(c, &r, &v, &b), 0, "v4 sign A");
	is_str(b.p, "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"
	    "Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe", "V4 vector A");
	is_int(sign_oss_v4_verify(c, &r, b.p), 0, "v4 verify A");
	is_int(sign_oss_v4_verify(bad, &r, b.p), ENG_ESIG, "v4 A wrong secret");
	{
		/* the doc's ", " separator form verifies too */
		struct buf s2;

		buf_init(&s2, BUF_MAX_SMALL);
		buf_addstr(&s2, "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/"
		    "aliyun_v4_request, Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a3"
		    "1e8203a7d5f4624fa0284afe");
		is_int(sign_oss_v4_verify(c, &r, s2.p), 0, "v4 verify with ', '");
		buf_free(&s2);
	}
	is_int(sign_oss_v4_verify(c, &r, "OSS4-HMAC-SHA256 Credential=ak/20231217/cn-hangzhou/oss/"
	    "aliyun_v4_request,Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe"),
	    ENG_ESIG, "v4 credential date != x-oss-date");
	is_int(sign_oss_v4_verify(c, &r, "OSS4-HMAC-SHA256 Signature=e2"), ENG_ESIG,
	    "v4 without credential");
	r.query = NULL;
	r.nquery = 0;
	is_int(sign_oss_v4_verify(c, &r, b.p), ENG_ESIG, "v4 query dropped -> mismatch");
	r.query = v4q;
	r.nquery = N(v4q);

	/* B: STS token header, other time */
	h[6].value = "20231217T034736Z";
	r.nhdrs = N(h);
	buf_reset(&b);
	sign_oss_v4_header(ct, &r, &v, &b);
	is_str(b.p, "OSS4-HMAC-SHA256 Credential=ak/20231217/cn-hangzhou/oss/aliyun_v4_request,"
	    "Signature=b94a3f999cf85bcdc00d332fbd3734ba03e48382c36fa4d5af5df817395bd9ea", "V4 vector B");
	is_int(sign_oss_v4_verify(ct, &r, b.p), 0, "v4 verify B");

	/* C: additional headers */
	r.nhdrs = N(h) - 1;
	h[6].value = "20231216T172512Z";
	v.additional = addl;
	v.nadditional = N(addl);
	buf_reset(&b);
	sign_oss_v4_header(c, &r, &v, &b);
	is_str(b.p, "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"
	    "AdditionalHeaders=abc;zabc,"
	    "Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f", "V4 vector C");
	is_int(sign_oss_v4_verify(c, &r, b.p), 0, "v4 verify C");
	v.additional = addl2;
	v.nadditional = N(addl2);
	buf_reset(&b);
	sign_oss_v4_header(c, &r, &v, &b);
	is_str(b.p, "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"
	    "AdditionalHeaders=abc;zabc,"
	    "Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f",
	    "V4 vector C with x-oss-head1 + absent + duplicate names");
	h[1].value = "value2";
	is_int(sign_oss_v4_verify(c, &r, b.p), ENG_ESIG, "v4 C: tampered additional header");
	h[1].value = "value";

	/* D: cloudbox */
	h[6].value = "20231216T162057Z";
	v.additional = NULL;
	v.nadditional = 0;
	v.region = "cb-123";
	v.product = "oss-cloudbox";
	buf_reset(&b);
	sign_oss_v4_header(c, &r, &v, &b);
	is_str(b.p, "OSS4-HMAC-SHA256 Credential=ak/20231216/cb-123/oss-cloudbox/aliyun_v4_request,"
	    "Signature=94ce1f12c17d148ea681030275a94449d3357f5b5b21133996eec80af3e08a43", "V4 vector D");
	is_int(sign_oss_v4_verify(c, &r, b.p), 0, "v4 verify D");

	/* missing/malformed x-oss-date */
	h[6].value = "Sat, 16 Dec 2023 16:20:57 GMT";
	buf_reset(&b);
	is_int(sign_oss_v4_header(c, &r, &v, &b), ENG_EINVAL, "v4 needs ISO x-oss-date");

	buf_free(&b);
	sign_cred_free(c);
	sign_cred_free(ct);
	sign_cred_free(bad);
}

static void
test_oss_v4_presign(void)
{
	struct http_hdr h[] = {
		{ "x-oss-head1", "value" }, { "abc", "value" }, { "ZAbc", "value" },
		{ "XYZ", "value" }, { "content-type", "application/octet-stream" },
	};
	const char *addl[] = { "ZAbc", "abc" };
	struct sign_oss_req r = { "PUT", "bucket", "1234+-/123/1.txt", h, N(h), v4q, N(v4q) };
	struct sign_v4 v = { "cn-hangzhou", "oss", NULL, 0 };
	struct sign_cred *c = cred("ak", "sk", NULL);
	struct sign_cred *ct = cred("ak", "sk", "token");
	struct http_query q;
	const char *sig;
	struct buf b;

	buf_init(&b, BUF_MAX_SMALL);
	is_int(sign_oss_v4_presign(c, &r, &v, 1702781677, 599, &b), 0, "v4 presign E");
	is_str(b.p, "%2Bparam1=value3&%2Bparam2&param1=value1&param2&"
	    "x-oss-credential=ak%2F20231217%2Fcn-hangzhou%2Foss%2Faliyun_v4_request&"
	    "x-oss-date=20231217T025437Z&x-oss-expires=599&"
	    "x-oss-signature=a39966c61718be0d5b14e668088b3fa07601033f6518ac7b523100014269c0fe&"
	    "x-oss-signature-version=OSS4-HMAC-SHA256&%7Cparam1=value4&%7Cparam2",
	    "V4 presign vector E (full query as go v1)");
	is_int(http_query_parse(b.p, b.len, &q), 0, "parse E");
	r.query = q.params;
	r.nquery = q.n;
	is_int(sign_oss_v4_verify_presign(c, &r, 1702782000), 0, "v4 presign E verifies");
	is_int(sign_oss_v4_verify_presign(c, &r, 1702782277), -ETIME, "v4 presign E expired");
	h[0].value = "other";
	is_int(sign_oss_v4_verify_presign(c, &r, 1702782000), ENG_ESIG, "v4 presign tampered header");
	h[0].value = "value";
	http_query_free(&q);

	r.query = v4q;
	r.nquery = N(v4q);
	buf_reset(&b);
	is_int(sign_oss_v4_presign(ct, &r, &v, 1702785388, 599, &b), 0, "v4 presign F");
	sig = strstr(b.p, "x-oss-signature=");
	ok(sig != NULL && strncmp(sig + 16,
	    "3817ac9d206cd6dfc90f1c09c00be45005602e55898f26f5ddb06d7892e1f8b5", 64) == 0,
	    "V4 presign vector F (token)");
	ok(strstr(b.p, "x-oss-security-token=token") != NULL, "token in query");
	is_int(http_query_parse(b.p, b.len, &q), 0, "parse F");
	r.query = q.params;
	r.nquery = q.n;
	is_int(sign_oss_v4_verify_presign(ct, &r, 1702785400), 0, "v4 presign F verifies");
	http_query_free(&q);

	r.query = v4q;
	r.nquery = N(v4q);
	v.additional = addl;
	v.nadditional = N(addl);
	buf_reset(&b);
	is_int(sign_oss_v4_presign(c, &r, &v, 1702783809, 599, &b), 0, "v4 presign G");
	sig = strstr(b.p, "x-oss-signature=");
	ok(sig != NULL && strncmp(sig + 16,
	    "6bd984bfe531afb6db1f7550983a741b103a8c58e5e14f83ea474c2322dfa2b7", 64) == 0,
	    "V4 presign vector G (additional headers)");
	ok(strstr(b.p, "x-oss-additional-headers=abc%3Bzabc") != NULL, "additional in query");
	is_int(http_query_parse(b.p, b.len, &q), 0, "parse G");
	r.query = q.params;
	r.nquery = q.n;
	is_int(sign_oss_v4_verify_presign(c, &r, 1702783900), 0, "v4 presign G verifies");
	http_query_free(&q);

	buf_free(&b);
	sign_cred_free(c);
	sign_cred_free(ct);
}

static void
test_oss_v4_csdk(void)
{
	struct http_hdr h[] = {
		{ "x-oss-head1", "value" }, { "abc", "value" }, { "ZAbc", "value" },
		{ "XYZ", "value" }, { "Content-Type", "application/octet-stream" },
		{ "x-oss-content-sha256", "UNSIGNED-PAYLOAD" },
		{ "x-oss-date", "20221016T040719Z" },
	};
	struct http_hdr h2[] = {
		{ "x-oss-head1", "value" },
		{ "Content-Type", "application/octet-stream" },
		{ "x-oss-content-sha256", "UNSIGNED-PAYLOAD" },
		{ "x-oss-date", "20221016T091431Z" },
	};
	struct sign_oss_req r = { "PUT", "oss-bucket-test",
		"test-sign-V4/-!@#$%^&*()/abcdefjhijklmnoqprstuvwxyz/123456789",
		h, N(h), v4q, N(v4q) };
	struct sign_v4 v = { "cn-hangzhou", NULL, NULL, 0 };
	struct sign_cred *c = cred("ak", "sk", NULL);
	struct buf b;

	buf_init(&b, BUF_MAX_SMALL);
	sign_oss_v4_header(c, &r, &v, &b);
	is_str(b.p, "OSS4-HMAC-SHA256 Credential=ak/20221016/cn-hangzhou/oss/aliyun_v4_request,"
	    "Signature=16e58322c5aafb55edd82813b02d6521caab8194882c786bf0e77b7987a63979",
	    "C SDK vector: full");
	r.hdrs = h2;
	r.nhdrs = N(h2);
	r.query = NULL;
	r.nquery = 0;
	buf_reset(&b);
	sign_oss_v4_header(c, &r, &v, &b);
	is_str(b.p, "OSS4-HMAC-SHA256 Credential=ak/20221016/cn-hangzhou/oss/aliyun_v4_request,"
	    "Signature=5028172a0a3806285979896982bee6e36e915cbf428ee7100a809e1f0ff43b64",
	    "C SDK vector: without query");
	/* cloudbox: the full headers and query again */
	h[6].value = "20221016T091831Z";
	r.hdrs = h;
	r.nhdrs = N(h);
	r.query = v4q;
	r.nquery = N(v4q);
	v.region = "cloudbox-id";
	v.product = "oss-cloudbox";
	buf_reset(&b);
	sign_oss_v4_header(c, &r, &v, &b);
	is_str(b.p, "OSS4-HMAC-SHA256 Credential=ak/20221016/cloudbox-id/oss-cloudbox/aliyun_v4_request,"
	    "Signature=939eae7d5012d444c8d1dd8c68811275928f780a859e41ddbe52cf10a100adb4",
	    "C SDK vector: cloudbox");
	buf_free(&b);
	sign_cred_free(c);
}

static void
test_authz_id(void)
{
	char id[64];

	is_int(sign_authz_id("OTS testid:abc=", id, sizeof(id)), 0, "ots id");
	is_str(id, "testid", "ots id value");
	is_int(sign_authz_id("OSS ak:sig", id, sizeof(id)), 0, "oss v1 id");
	is_str(id, "ak", "v1 id value");
	is_int(sign_authz_id("OSS4-HMAC-SHA256 Credential=LTAI5/20231216/cn/oss/aliyun_v4_request,"
	    "Signature=00", id, sizeof(id)), 0, "v4 id");
	is_str(id, "LTAI5", "v4 id value");
	is_int(sign_authz_id("Bearer x", id, sizeof(id)), ENG_ESIG, "unknown scheme");
	is_int(sign_authz_id("OSS :sig", id, sizeof(id)), ENG_ESIG, "empty id");
	is_int(sign_authz_id("OSS abcdef:sig", id, 4), -ENOSPC, "short buffer");
}

int
main(void)
{
	test_primitives();
	test_dates();
	test_ots();
	test_oss_v1();
	test_oss_v4();
	test_oss_v4_presign();
	test_oss_v4_csdk();
	test_authz_id();
	return done_testing();
}
