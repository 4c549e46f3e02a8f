/* SPDX-License-Identifier: MIT */
/*
 * fuzz_sig_canonical.c - signature canonicalisation and verification on
 * hostile requests, the way difs-emu meets them: a raw query string goes
 * through http_query_parse, headers and Authorization values are arbitrary.
 *
 * Input layout (lines separated by '\n'):
 *   method / bucket / key / raw query / then "Name: value" header lines.
 * Every canonical form and every verifier runs over it; nothing may crash,
 * leak or read out of bounds, and a verify of random input must not pass
 * unless the input carries the signature we would compute.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HDRS 32

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_hdr hdrs[MAX_HDRS];
	struct http_query q = { NULL, 0, NULL };
	struct sign_cred *c = NULL;
	struct sign_oss_req r;
	struct sign_v4 v = { "cn-hangzhou", NULL, NULL, 0 };
	const char *line[4] = { "", "", "", "" };
	const char *authz = NULL, *addl[2] = { "abc", "X-Other" };
	char *text, *p, *nl, idbuf[64], sig[SIGN_SHA1_B64_SIZE];
	size_t nh = 0, i;
	struct buf b;
	time_t t;

	if (size > 16384)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (i = 0, p = text; p != NULL; i++) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		if (i < 4) {
			line[i] = p;
		} else if (nh < MAX_HDRS) {
			char *colon = strchr(p, ':');

			if (colon != NULL) {
				*colon = '\0';
				hdrs[nh].name = p;
				hdrs[nh].value = colon + 1;
				if (strcmp(p, "Authorization") == 0)
					authz = colon + 1;
				nh++;
			}
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	if (sign_cred_new("ak", "sk", "token", &c) != 0)
		goto out;
	if (http_query_parse(line[3], strlen(line[3]), &q) != 0)
		memset(&q, 0, sizeof(q));
	memset(&r, 0, sizeof(r));
	r.method = line[0];
	r.bucket = line[1];
	r.key = line[2];
	r.hdrs = hdrs;
	r.nhdrs = nh;
	r.query = q.params;
	r.nquery = q.n;

	buf_init(&b, BUF_MAX_DOC);
	(void)sign_ots_request_string(line[2], line[0], hdrs, nh, &b);
	buf_reset(&b);
	(void)sign_ots_response_string(line[2], hdrs, nh, &b);
	(void)sign_ots_request(c, line[2], line[0], hdrs, nh, sig);
	(void)sign_ots_verify_request(c, line[2], line[0], hdrs, nh);
	(void)sign_ots_verify_response(c, line[2], hdrs, nh);
	buf_reset(&b);
	(void)sign_oss_v1_string(&r, NULL, &b);
	buf_reset(&b);
	(void)sign_oss_v1_header(c, &r, &b);
	buf_reset(&b);
	(void)sign_oss_v4_canonical(&r, addl, 2, "x-oss-signature", &b);
	buf_reset(&b);
	(void)sign_oss_v4_header(c, &r, &v, &b);
	buf_reset(&b);
	(void)sign_oss_v1_presign(c, &r, 1700000000, &b);
	buf_reset(&b);
	(void)sign_oss_v4_presign(c, &r, &v, 1700000000, 600, &b);
	(void)sign_oss_v1_verify(c, &r, authz);
	(void)sign_oss_v4_verify(c, &r, authz);
	(void)sign_oss_v1_verify_presign(c, &r, 1700000000);
	(void)sign_oss_v4_verify_presign(c, &r, 1700000000);
	(void)sign_authz_id(authz, idbuf, sizeof(idbuf));
	for (i = 0; i < nh; i++)
		(void)sign_date_parse(hdrs[i].value, &t);
	buf_free(&b);
out:
	http_query_free(&q);
	sign_cred_free(c);
	free(text);
	return 0;
}
