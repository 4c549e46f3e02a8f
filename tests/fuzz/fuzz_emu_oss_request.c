/* SPDX-License-Identifier: MIT */
/*
 * fuzz_emu_oss_request.c - difs-emu's OSS request parsing and signature
 * checks: query strings, bucket/key addressing, Range, dates, V1/V4 header
 * and presigned authentication, the sidecar metadata record and the two
 * XML request bodies (CompleteMultipartUpload, Delete).  All of it is pure
 * (no disk, no network), so the target runs fast and deterministic.
 *
 * Input: "METHOD\nPATH\nQUERY\nHOST\n" then "Name: value\n" header lines,
 * an empty line, and the body (the rest).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emu_oss_i.h"

#define MAX_HDRS	32

static char *
take_line(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl != NULL ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, *p, n);
	s[n] = '\0';
	*p = nl != NULL ? nl + 1 : end;
	return s;
}

static void
check_target(const struct emu_req *req, const struct emu_oss_query *q)
{
	struct emu_oss_target t;
	struct emu_oss_authfail f;
	struct emu_oss_authreq a;
	const char *range;
	uint64_t off, len;
	time_t tt;

	if (emu_oss_target_parse(req->host, req->path, &t) != 0)
		return;
	if (t.bucket != NULL)
		(void)emu_oss_bucket_valid(t.bucket);
	memset(&a, 0, sizeof(a));
	a.req = req;
	a.q = q;
	a.bucket = t.bucket;
	a.key = t.key;
	a.access_id = "AKIDEXAMPLE";
	a.access_secret = "SECRETEXAMPLE";
	/* "now" follows the request's own date, so signatures get checked */
	a.now = 1764073834;	/* 2025-11-25T12:30:34Z */
	if (emu_req_header(req, "x-oss-date") != NULL &&
	    emu_oss_parse_gmt(emu_req_header(req, "x-oss-date"), &tt) != 0 &&
	    emu_oss_parse_iso(emu_req_header(req, "x-oss-date"), &tt) != 0)
		tt = a.now;
	else if (emu_req_header(req, "x-oss-date") != NULL)
		a.now = tt;
	else if (emu_req_header(req, "Date") != NULL &&
	    emu_oss_parse_gmt(emu_req_header(req, "Date"), &tt) == 0)
		a.now = tt;
	a.skew = 900;
	emu_oss_authfail_init(&f);
	(void)emu_oss_auth_check(&a, &f);
	emu_oss_authfail_free(&f);
	if ((range = emu_req_header(req, "Range")) != NULL) {
		if (emu_oss_range_parse(range, 0, &off, &len) == 1 ||
		    emu_oss_range_parse(range, 1000, &off, &len) == 1)
			if (off + len > 1000)
				abort();
	}
	if (emu_req_header(req, "x-oss-date") != NULL) {
		(void)emu_oss_parse_gmt(emu_req_header(req, "x-oss-date"), &tt);
		(void)emu_oss_parse_iso(emu_req_header(req, "x-oss-date"), &tt);
	}
	emu_oss_target_free(&t);
}

static void
check_body(const uint8_t *p, size_t n)
{
	struct emu_oss_cpart *parts = NULL;
	struct emu_oss_meta m;
	struct buf b;
	char **keys = NULL;
	size_t np = 0, nk = 0;
	int quiet;

	if (emu_oss_xml_complete(p, n, &parts, &np) == 0)
		emu_oss_xml_complete_free(parts, np);
	if (emu_oss_xml_delete(p, n, &quiet, &keys, &nk) == 0)
		emu_oss_xml_strv_free(keys, nk);
	if (emu_oss_meta_decode((const char *)p, n, &m) == 0) {
		struct emu_oss_meta m2;

		/* a decoded record must encode and decode to the same thing */
		buf_init(&b, BUF_MAX_DOC);
		if (emu_oss_meta_encode(&b, &m) == 0 &&
		    emu_oss_meta_decode(b.p, b.len, &m2) == 0) {
			if (strcmp(m.key, m2.key) != 0 || m.size != m2.size ||
			    m.crc64 != m2.crc64 || strcmp(m.etag, m2.etag) != 0)
				abort();
			emu_oss_meta_clear(&m2);
		}
		buf_free(&b);
		emu_oss_meta_clear(&m);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct emu_hdr hdrs[MAX_HDRS];
	char *method = NULL, *path = NULL, *query = NULL, *host = NULL;
	struct emu_oss_query q = { 0 };
	struct emu_req req;
	size_t nh = 0, i;

	if (memchr(data, '\0', size) != NULL)
		return 0;	/* HTTP heads never carry NUL bytes */
	if ((method = take_line(&p, end)) == NULL ||
	    (path = take_line(&p, end)) == NULL ||
	    (query = take_line(&p, end)) == NULL ||
	    (host = take_line(&p, end)) == NULL)
		goto out;
	while (p < end && nh < MAX_HDRS) {
		char *line = take_line(&p, end), *colon;

		if (line == NULL)
			goto out;
		if (*line == '\0') {
			free(line);
			break;
		}
		if ((colon = strchr(line, ':')) == NULL) {
			free(line);
			continue;
		}
		*colon = '\0';
		hdrs[nh].name = line;
		hdrs[nh].value = colon + 1 + (colon[1] == ' ');
		nh++;
	}
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.query = query;
	req.host = host;
	req.hdrs = hdrs;
	req.nhdrs = nh;
	req.body = (const uint8_t *)p;
	req.body_len = (size_t)(end - p);
	req.peer = "127.0.0.1:1";
	if (emu_oss_query_parse(query, &q) == 0)
		check_target(&req, &q);
	emu_oss_query_free(&q);
	check_body(req.body, req.body_len);
out:
	for (i = 0; i < nh; i++)
		free(hdrs[i].name);
	free(method);
	free(path);
	free(query);
	free(host);
	return 0;
}
