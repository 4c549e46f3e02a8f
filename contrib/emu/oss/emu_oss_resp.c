/* SPDX-License-Identifier: MIT */
/*
 * emu_oss_resp.c - what every OSS operation of difs-emu answers with: the
 * error document (XML body, or the x-oss-err header for HEAD) and its
 * x-oss-ec code, the mapping of store errors, XML replies and key
 * elements, and the request pieces the object and multipart operations
 * both read: x-oss-meta-* headers, Content-MD5, the listing owner.
 *
 * Sits below the operations (emu_oss.c, emu_oss_mp.c) and above the pure
 * parsers (emu_oss_req.c, emu_oss_auth.c, emu_oss_xml.c); it never calls
 * up into them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emu_oss_i.h"

int
emu_oss_xml_reply(struct emu_oss_ctx *c, struct buf *doc)
{
	int rc;

	if (doc->err != 0)
		return doc->err;
	c->resp->status = 200;
	if ((rc = emu_resp_header(c->resp, "Content-Type", "application/xml")) != 0)
		return rc;
	return buf_add(&c->resp->body, doc->p, doc->len);
}

int
emu_oss_error(struct emu_oss_ctx *c, int status, const char *code,
    const char *msg, const char *extra)
{
	return emu_oss_error_ec(c, status, code, msg, extra, NULL);
}

int
emu_oss_error_ec(struct emu_oss_ctx *c, int status, const char *code,
    const char *msg, const char *extra, const char *ec)
{
	struct emu_resp *r = c->resp;
	const char *host = c->req->host != NULL && *c->req->host != '\0' ?
	    c->req->host : "localhost";
	struct buf doc, b64;
	int rc;

	buf_init(&doc, BUF_MAX_DOC);
	buf_init(&b64, BUF_MAX_DOC);
	buf_reset(&r->body);
	r->status = status;
	buf_addstr(&doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>");
	emu_oss_xml_esc(&doc, code);
	buf_addstr(&doc, "</Code>\n  <Message>");
	emu_oss_xml_esc(&doc, msg);
	buf_printf(&doc, "</Message>\n  <RequestId>%s</RequestId>\n  <HostId>",
	    c->reqid);
	emu_oss_xml_esc(&doc, host);
	buf_addstr(&doc, "</HostId>\n");
	if (extra != NULL)
		buf_addstr(&doc, extra);
	if (ec != NULL)
		buf_printf(&doc, "  <EC>%s</EC>\n", ec);
	buf_addstr(&doc, "</Error>\n");
	if ((rc = doc.err) != 0)
		goto out;
	if (ec != NULL && (rc = emu_resp_header(r, "x-oss-ec", ec)) != 0)
		goto out;
	if (c->head) {
		/* HEAD: no body; OSS puts the error document in x-oss-err */
		if ((rc = emu_oss_b64(&b64, (const uint8_t *)doc.p, doc.len)) != 0 ||
		    (rc = emu_resp_header(r, "x-oss-err", b64.p)) != 0 ||
		    (rc = emu_resp_header(r, "Content-Length", "0")) != 0)
			goto out;
	} else {
		if ((rc = emu_resp_header(r, "Content-Type", "application/xml")) != 0 ||
		    (rc = buf_add(&r->body, doc.p, doc.len)) != 0)
			goto out;
	}
out:
	buf_free(&doc);
	buf_free(&b64);
	return rc;
}

int
emu_oss_error_errno(struct emu_oss_ctx *c, int rc)
{
	char msg[160];

	if (rc == -ENOSPC || rc == -EDQUOT)
		return emu_oss_error(c, 507, "InsufficientStorage",
		    "The emulator's data directory is full.", NULL);
	snprintf(msg, sizeof(msg),
	    "We encountered an internal error. Please try again. (%s)",
	    strerror(rc < 0 ? -rc : rc));
	return emu_oss_error(c, 500, "InternalError", msg, NULL);
}

int
emu_oss_xml_key(struct buf *b, const char *tag, const char *s, int enc)
{
	buf_printf(b, "<%s>", tag);
	if (enc)	/* OSS encodes '/' too: "fun%2Fmovie%2F001.avi" */
		emu_oss_pct_encode(b, s, strlen(s), 0);
	else
		emu_oss_xml_esc(b, s);
	buf_printf(b, "</%s>", tag);
	return b->err;
}

int
emu_oss_collect_umeta(const struct emu_req *req, char **out)
{
	struct buf b;
	size_t i, j;
	int rc;

	*out = NULL;
	buf_init(&b, BUF_MAX_SMALL);
	for (i = 0; i < req->nhdrs; i++) {
		const char *n = req->hdrs[i].name;

		if (strncasecmp(n, "x-oss-meta-", 11) != 0)
			continue;
		for (j = 0; n[j] != '\0'; j++)
			buf_addc(&b, (char)(n[j] >= 'A' && n[j] <= 'Z' ?
			    n[j] - 'A' + 'a' : n[j]));
		buf_addc(&b, ':');
		for (j = 0; req->hdrs[i].value[j] != '\0'; j++)
			if (req->hdrs[i].value[j] != '\n' && req->hdrs[i].value[j] != '\r')
				buf_addc(&b, req->hdrs[i].value[j]);
		buf_addc(&b, '\n');
	}
	if ((rc = b.err) == 0 && b.len > 0 && (*out = strdup(b.p)) == NULL)
		rc = -ENOMEM;
	buf_free(&b);
	return rc;
}

int
emu_oss_check_md5(struct emu_oss_ctx *c, const void *p, size_t n, int required,
    uint8_t md5[16])
{
	const char *v = emu_req_header(c->req, "Content-MD5");
	uint8_t got[16];
	size_t glen = 0;
	int rc;

	emu_oss_md5(p, n, md5);
	if (v == NULL) {
		if (!required)
			return 0;
		rc = emu_oss_error_ec(c, 400, "InvalidRequest",
		    "Missing required header for this request: Content-MD5.",
		    NULL, "0016-00000606");
		return rc != 0 ? rc : 1;
	}
	if (emu_oss_b64_decode(v, got, sizeof(got), &glen) != 0 || glen != 16 ||
	    memcmp(got, md5, 16) != 0) {
		rc = emu_oss_error(c, 400, "InvalidDigest",
		    "The Content-MD5 you specified was invalid.", NULL);
		return rc != 0 ? rc : 1;
	}
	return 0;
}

const char *
emu_oss_owner(const struct emu_oss_ctx *c)
{
	return c->owner;
}
