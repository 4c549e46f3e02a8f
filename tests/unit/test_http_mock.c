/* SPDX-License-Identifier: MIT */
/*
 * test_http_mock.c - the in-memory transport (tests/lib/http_mock.h) on its
 * own, then the OSS client (engine/oss/oss.h) driven through it with no
 * socket: a scripted 503 then 200 is retried, a 500 with a malformed XML
 * body is retried and its error stays readable, a 403 with a malformed XML
 * body gives the client's "no error document" error without a retry, and
 * the recorded requests carry the signed headers (Authorization,
 * x-oss-date from the injected clock) for V1 and V4.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crc64.h"
#include "http.h"
#include "http_mock.h"
#include "oss.h"
#include "sign.h"
#include "tap.h"

#define AK	"AKIDMOCK"
#define SK	"SECRETMOCK"
#define BUCKET	"mock-bucket"
#define NOW	((time_t)1700000000)	/* Tue, 14 Nov 2023 22:13:20 GMT */

static const char g_data[] = "hello from the mock\n";
static char g_crc[32];
static unsigned g_sleeps;

static time_t
fixed_now(void *arg)
{
	(void)arg;
	return NOW;
}

static void
no_sleep(void *arg, uint64_t ms)
{
	(void)arg;
	(void)ms;
	g_sleeps++;
}

/* ---- the mock on its own ------------------------------------------------- */

static void
t_mock(void)
{
	static const struct http_hdr hdrs[] = { { "X-Answer", "42" } };
	static const struct http_mock_reply table[] = {
		{ .method = "GET", .path = "/a", .count = 1, .status = 503, .body = "busy" },
		{ .method = "GET", .path = "/a", .status = 200, .hdrs = hdrs, .nhdrs = 1,
		  .body = "alpha" },
		{ .method = "DELETE", .rc = ENG_ECONN },
	};
	static const struct http_hdr sent[] = { { "X-Sent", "yes" } };
	struct http_transport *t = NULL, *c = NULL;
	struct http_request req;
	struct http_response resp;
	struct eng_errbuf eb = { "" };
	const struct http_mock_call *call;

	is_rc(http_mock_new(table, 3, &t), 0, "mock: new");
	if (t == NULL)
		return;
	is_str(t->ops->name, "mock", "mock: ops name");
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = "http://example.invalid:9/a?x=1";
	req.hdrs = sent;
	req.nhdrs = 1;
	http_response_init(&resp);
	is_rc(http_perform(t, &req, &resp, NULL), 0, "mock: first GET /a answered");
	is_int(resp.status, 503, "mock: first answer is the scripted 503");
	is_str(resp.body.p, "busy", "mock: with its body");
	is_rc(http_clone(t, &c), 0, "mock: clone");
	is_rc(c != NULL ? http_perform(c, &req, &resp, NULL) : -1, 0, "mock: clone answers");
	is_int(resp.status, 200, "mock: the 503 entry is used up, a clone sees 200");
	is_str(resp.body.p, "alpha", "mock: 200 body");
	is_str(http_response_header(&resp, "x-answer"), "42", "mock: scripted header");
	req.method = "DELETE";
	is_rc(http_perform(t, &req, &resp, &eb), ENG_ECONN, "mock: scripted transport error");
	req.method = "PUT";
	req.url = "http://example.invalid:9/b";
	req.body = "payload";
	req.body_len = 7;
	is_rc(http_perform(t, &req, &resp, &eb), ENG_EINVAL, "mock: unscripted request fails");
	ok(strstr(eb.msg, "PUT /b") != NULL, "mock: and says which (%s)", eb.msg);
	is_int(http_mock_ncalls(t), 4, "mock: four requests recorded (clones included)");
	call = http_mock_call(t, 0);
	ok(call != NULL && strcmp(call->method, "GET") == 0 &&
	    strcmp(call->url, "http://example.invalid:9/a?x=1") == 0,
	    "mock: first record is the GET with its URL");
	is_str(call != NULL ? http_response_header(&call->hdrs, "X-Sent") : NULL, "yes",
	    "mock: request headers recorded");
	call = http_mock_call(t, 3);
	ok(call != NULL && call->status == 0 && call->body.len == 7 &&
	    memcmp(call->body.p, "payload", 7) == 0,
	    "mock: failed call recorded with its body and no status");
	ok(http_mock_call(t, 4) == NULL, "mock: no fifth record");
	http_response_free(&resp);
	http_transport_free(c);
	http_transport_free(t);
}

/* ---- the OSS client through the mock -------------------------------------- */

static struct oss *
mk(struct http_transport *t, enum oss_sigver v, const struct sign_cred *cred)
{
	struct oss_config cfg;
	struct eng_errbuf eb = { "" };
	struct oss *oss = NULL;

	oss_config_defaults(&cfg);
	cfg.endpoint = "http://127.0.0.1:9";
	cfg.bucket = BUCKET;
	cfg.cred = cred;
	cfg.sigver = v;
	cfg.addressing = OSS_ADDR_PATH;
	cfg.transport = t;
	cfg.max_retries = 3;
	cfg.now = fixed_now;
	cfg.sleep = no_sleep;
	if (oss_new(&cfg, &oss, &eb) != 0)
		printf("# oss_new: %s\n", eb.msg);
	return oss;
}

static void
t_oss_retry(enum oss_sigver v, const struct sign_cred *cred)
{
	const char *name = v == OSS_SIG_V4 ? "V4" : "V1";
	const struct http_hdr put_ok[] = {
		{ "ETag", "\"0123456789ABCDEF0123456789ABCDEF\"" },
		{ "x-oss-hash-crc64ecma", g_crc },
		{ "x-oss-request-id", "MOCKREQ1" },
	};
	const struct http_mock_reply table[] = {
		{ .method = "PUT", .path = "/" BUCKET "/dir/obj.txt", .count = 1, .status = 503,
		  .body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
		  "ServiceUnavailable</Code><Message>Please reduce your request rate."
		  "</Message><RequestId>MOCK503</RequestId></Error>" },
		{ .method = "PUT", .path = "/" BUCKET "/dir/obj.txt", .status = 200,
		  .hdrs = put_ok, .nhdrs = 3 },
	};
	struct http_transport *t = NULL;
	const struct http_mock_call *c0, *c1;
	struct oss_put_result pr;
	struct oss_error e;
	struct oss *oss;
	struct oss_src src = oss_src_mem(g_data, sizeof(g_data) - 1);
	const char *authz, *date;
	char want[64];
	int rc;

	if (http_mock_new(table, 2, &t) != 0 || (oss = mk(t, v, cred)) == NULL) {
		ok(0, "%s: client over the mock", name);
		http_transport_free(t);
		return;
	}
	g_sleeps = 0;
	memset(&e, 0, sizeof(e));
	rc = oss_put(oss, "dir/obj.txt", &src, NULL, &pr, &e);
	is_rc(rc, 0, "%s: PutObject succeeds after a scripted 503", name);
	is_int(e.attempts, 2, "%s: two attempts", name);
	is_int(g_sleeps, 1, "%s: one backoff between them", name);
	is_int(http_mock_ncalls(t), 2, "%s: the mock got two requests", name);
	is_str(pr.etag, "\"0123456789ABCDEF0123456789ABCDEF\"", "%s: ETag of the 200", name);
	c0 = http_mock_call(t, 0);
	c1 = http_mock_call(t, 1);
	ok(c0 != NULL && c1 != NULL && c0->status == 503 && c1->status == 200,
	    "%s: 503 answered first, then 200", name);
	if (c1 == NULL)
		goto out;
	ok(strcmp(c1->method, "PUT") == 0 &&
	    strcmp(c1->url, "http://127.0.0.1:9/" BUCKET "/dir/obj.txt") == 0,
	    "%s: PUT to the path-style URL (%s)", name, c1->url);
	ok(c1->body.len == sizeof(g_data) - 1 && memcmp(c1->body.p, g_data, c1->body.len) == 0,
	    "%s: the retry sent the whole body again", name);
	authz = http_response_header(&c1->hdrs, "Authorization");
	date = http_response_header(&c1->hdrs, "x-oss-date");
	if (v == OSS_SIG_V4) {
		static const char v4[] = "OSS4-HMAC-SHA256 Credential=" AK
		    "/20231114/cn-hangzhou/oss/aliyun_v4_request,Signature=";

		ok(authz != NULL && strncmp(authz, v4, sizeof(v4) - 1) == 0 &&
		    strlen(authz) == sizeof(v4) - 1 + 64,
		    "%s: Authorization is a V4 signature for the key id (%s)", name,
		    authz != NULL ? authz : "none");
		is_str(date, "20231114T221320Z", "%s: x-oss-date from the injected clock", name);
		is_str(http_response_header(&c1->hdrs, "x-oss-content-sha256"), "UNSIGNED-PAYLOAD",
		    "%s: x-oss-content-sha256 sent", name);
	} else {
		snprintf(want, sizeof(want), "OSS %s:", AK);
		ok(authz != NULL && strncmp(authz, want, strlen(want)) == 0 &&
		    strlen(authz) == strlen(want) + 28,
		    "%s: Authorization is OSS AK:base64(HMAC-SHA1) (%s)", name,
		    authz != NULL ? authz : "none");
		is_str(date, "Tue, 14 Nov 2023 22:13:20 GMT", "%s: x-oss-date from the injected clock",
		    name);
		ok(http_response_header(&c1->hdrs, "x-oss-content-sha256") == NULL,
		    "%s: no V4 payload header", name);
	}
	ok(c0 != NULL && strcmp(http_response_header(&c0->hdrs, "Authorization") != NULL ?
	    http_response_header(&c0->hdrs, "Authorization") : "", authz != NULL ? authz : "x") == 0,
	    "%s: both attempts signed alike (same clock)", name);
out:
	oss_free(oss);
	http_transport_free(t);
}

static void
t_oss_bad_xml(const struct sign_cred *cred)
{
	static const struct http_mock_reply table[] = {
		{ .method = "GET", .path = "/" BUCKET "/denied", .status = 403,
		  .body = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Mess" },
		{ .method = "GET", .path = "/" BUCKET "/flaky", .count = 1, .status = 500,
		  .body = "<Error><Code>InternalError</Code" },
		{ .method = "GET", .path = "/" BUCKET "/flaky", .status = 500,
		  .body = "not xml at all" },
	};
	struct http_transport *t = NULL;
	struct oss_error e;
	struct oss *oss;
	struct buf out;
	char line[512];
	int rc;

	if (http_mock_new(table, 3, &t) != 0 || (oss = mk(t, OSS_SIG_V4, cred)) == NULL) {
		ok(0, "bad XML: client over the mock");
		http_transport_free(t);
		return;
	}
	buf_init(&out, BUF_MAX_DOC);
	memset(&e, 0, sizeof(e));
	rc = oss_get(oss, "denied", NULL, &out, NULL, &e);
	is_rc(rc, -EACCES, "403 with a cut XML body: -EACCES");
	is_int(e.status, 403, "status kept");
	is_int(e.attempts, 1, "403 is not retried");
	is_str(e.code, "", "no code invented from a broken document");
	is_str(e.message, "no error document in the response", "the client says what it got");
	is_str(e.op, "GetObject", "operation named");
	oss_error_format(&e, line, sizeof(line));
	ok(strstr(line, "GetObject") != NULL && strstr(line, "403") != NULL &&
	    strstr(line, "no error document") != NULL, "one clear line: %s", line);
	is_int(out.len, 0, "no body delivered");
	is_int(http_mock_ncalls(t), 1, "one request for the 403");

	memset(&e, 0, sizeof(e));
	g_sleeps = 0;
	rc = oss_get(oss, "flaky", NULL, &out, NULL, &e);
	is_rc(rc, ENG_EREMOTE, "500s with unreadable bodies: ENG_EREMOTE");
	is_int(e.attempts, 4, "500 retried: 1 + max_retries attempts");
	is_int(g_sleeps, 3, "with a backoff before each retry");
	is_int(e.status, 500, "last status kept");
	is_str(e.message, "no error document in the response", "message after the retries");
	is_int(http_mock_ncalls(t), 5, "four more requests");
	buf_free(&out);
	oss_free(oss);
	http_transport_free(t);
}

int
main(void)
{
	struct sign_cred *cred = NULL;

	snprintf(g_crc, sizeof(g_crc), "%" PRIu64, crc64_compute(g_data, sizeof(g_data) - 1));
	t_mock();
	if (sign_cred_new(AK, SK, NULL, &cred) != 0) {
		ok(0, "credentials");
		return done_testing();
	}
	t_oss_retry(OSS_SIG_V1, cred);
	t_oss_retry(OSS_SIG_V4, cred);
	t_oss_bad_xml(cred);
	sign_cred_free(cred);
	return done_testing();
}
