/* SPDX-License-Identifier: MIT */
/*
 * oss_ops.c - the OSS operations (contrib/doc/oss.md 1.4) on top of oss_exec():
 * object put/head/get/delete, DeleteMultipleObjects, ListObjectsV2,
 * multipart (initiate, part, complete, abort, list parts/uploads) and
 * AppendObject with its HEAD-based reconciliation.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc64.h"
#include "num.h"
#include "oss_i.h"

static void
oss_put_headers(struct oss_call *c, const struct oss_put_opts *opts)
{
	if (opts == NULL)
		return;
	if (opts->content_type != NULL)
		oss_call_header(c, "Content-Type", opts->content_type);
	if (opts->forbid_overwrite)
		oss_call_header(c, "x-oss-forbid-overwrite", "true");
	if (opts->sse_aes256)
		oss_call_header(c, "x-oss-server-side-encryption", "AES256");
}

static int
oss_resp_u64(const struct http_response *r, const char *name, uint64_t *out)
{
	const char *v = http_response_header(r, name);

	if (v == NULL)
		return -ENOENT;
	return num_u64(v, (size_t)-1, UINT64_MAX, out) == 0 ? 0 : ENG_EPROTO;
}

/* check hook: x-oss-hash-crc64ecma must equal the CRC of the body sent */
static int
oss_check_body_crc(void *arg, const struct http_response *r)
{
	const struct oss_call *c = arg;
	uint64_t v;

	if (oss_resp_u64(r, "x-oss-hash-crc64ecma", &v) != 0)
		return ENG_EPROTO;
	return v == c->body_crc ? 0 : ENG_ECHECKSUM;
}

static int
oss_bad_args(struct oss_error *err, const char *op, const char *key)
{
	if (oss_key_check(key) != 0) {
		oss_err_set(err, op, ENG_EINVAL, "invalid object key");
		return ENG_EINVAL;
	}
	return 0;
}

/* ---- HeadObject ------------------------------------------------------------ */

int
oss_head(struct oss *oss, const char *key, struct oss_head *out,
    struct oss_error *err)
{
	struct oss_call c;
	struct http_response r;
	struct oss_head h;
	const char *v;
	int rc;

	if ((rc = oss_bad_args(err, "HeadObject", key)) != 0)
		return rc;
	http_response_init(&r);
	memset(&h, 0, sizeof(h));
	oss_call_init(&c, "HeadObject", "HEAD", key);
	if ((rc = oss_exec(oss, &c, &r, err)) != 0)
		goto out;
	rc = ENG_EPROTO;
	if (oss_resp_u64(&r, "Content-Length", &h.size) != 0)
		goto out;
	if ((v = http_response_header(&r, "ETag")) != NULL)
		oss_copy(h.etag, sizeof(h.etag), v);
	if ((v = http_response_header(&r, "x-oss-object-type")) != NULL)
		oss_copy(h.type, sizeof(h.type), v);
	if ((v = http_response_header(&r, "Last-Modified")) != NULL)
		oss_copy(h.last_modified, sizeof(h.last_modified), v);
	if ((v = http_response_header(&r, "Content-Type")) != NULL)
		oss_copy(h.content_type, sizeof(h.content_type), v);
	if ((v = http_response_header(&r, "x-oss-hash-crc64ecma")) != NULL) {
		if (num_u64(v, (size_t)-1, UINT64_MAX, &h.crc64) != 0)
			goto out;
		h.has_crc64 = true;
	}
	if ((v = http_response_header(&r, "x-oss-next-append-position")) != NULL) {
		if (num_u64(v, (size_t)-1, UINT64_MAX, &h.next_append) != 0)
			goto out;
		h.has_next_append = true;
	}
	*out = h;
	rc = 0;
out:
	if (rc == ENG_EPROTO)
		oss_err_set(err, "HeadObject", rc, "malformed HeadObject response");
	http_response_free(&r);
	return rc;
}

/* after a lost answer: is key exactly (size, crc)?  0 yes, ENG_ECONFLICT no */
static int
oss_reconcile(struct oss *oss, const char *key, uint64_t size, uint64_t crc,
    struct oss_head *h)
{
	struct oss_error e;

	if (oss_head(oss, key, h, &e) != 0)
		return ENG_ECONFLICT;
	if (h->size == size && h->has_crc64 && h->crc64 == crc)
		return 0;
	return ENG_ECONFLICT;
}

/* ---- PutObject --------------------------------------------------------------- */

int
oss_put(struct oss *oss, const char *key, const struct oss_src *body,
    const struct oss_put_opts *opts, struct oss_put_result *res,
    struct oss_error *err)
{
	struct oss_call c;
	struct http_response r;
	struct oss_put_result pr;
	struct oss_error e;
	const char *v;
	int rc;

	if ((rc = oss_bad_args(err, "PutObject", key)) != 0)
		return rc;
	if (body == NULL || body->len > OSS_PART_MAX) {
		oss_err_set(err, "PutObject", ENG_EINVAL, "missing or too large body");
		return ENG_EINVAL;
	}
	http_response_init(&r);
	memset(&pr, 0, sizeof(pr));
	oss_call_init(&c, "PutObject", "PUT", key);
	c.body = body;
	oss_put_headers(&c, opts);
	c.check = oss_check_body_crc;
	c.hook_arg = &c;
	rc = oss_exec(oss, &c, &r, &e);
	if (rc == ENG_ECONFLICT && c.attempts > 1 && opts != NULL &&
	    opts->forbid_overwrite && strcmp(e.code, "FileAlreadyExists") == 0) {
		struct oss_head h;

		/* our own first try may have written it before its answer was lost */
		if (oss_reconcile(oss, key, body->len, c.body_crc, &h) == 0) {
			oss_copy(pr.etag, sizeof(pr.etag), h.etag);
			rc = 0;
			goto done;
		}
	}
	if (rc != 0)
		goto out;
	if ((v = http_response_header(&r, "ETag")) != NULL)
		oss_copy(pr.etag, sizeof(pr.etag), v);
done:
	pr.crc64 = c.body_crc;
	pr.size = body->len;
	if (res != NULL)
		*res = pr;
out:
	if (err != NULL)
		*err = e;
	http_response_free(&r);
	return rc;
}

/* ---- GetObject --------------------------------------------------------------- */

struct oss_get_ctx {
	const struct oss_get_opts	*o;
	struct oss_call			*c;
	struct buf			*out;
	size_t				 out_start;	/* out->len at entry */
	size_t				 max_mem;
	uint64_t			 delivered;
	uint64_t			 crc;
	struct http_response		*resp;		/* of the previous attempt */
	char				 etag[80];
	char				 range[64];
	bool				 resumed;	/* this attempt resumes */
};

static int
oss_get_sink(void *arg, const void *p, size_t n)
{
	struct oss_get_ctx *g = arg;
	int rc;

	if (g->o != NULL && g->o->write_fn != NULL) {
		if ((rc = g->o->write_fn(g->o->write_arg, p, n)) != 0)
			return rc;
	} else {
		if (g->out->len - g->out_start + n > g->max_mem)
			return -E2BIG;
		if ((rc = buf_add(g->out, p, n)) != 0)
			return rc;
	}
	g->delivered += n;
	g->crc = crc64_update(g->crc, p, n);
	return 0;
}

static int
oss_get_before(void *arg, struct oss_call *c, unsigned attempt)
{
	struct oss_get_ctx *g = arg;
	bool ranged = g->o != NULL && g->o->range;
	uint64_t first = ranged ? g->o->first : 0;
	uint64_t last = ranged ? g->o->last : UINT64_MAX;
	int n;

	(void)attempt;
	c->nhdrs = 0;		/* GetObject has no other headers */
	g->resumed = g->delivered > 0;
	if (g->resumed && g->etag[0] == '\0') {
		/* the version whose bytes the sink has: from the lost answer */
		const char *v = http_response_header(g->resp, "ETag");

		if (v == NULL)
			return ENG_EPROTO;
		oss_copy(g->etag, sizeof(g->etag), v);
	}
	if (!ranged && !g->resumed)
		return 0;
	first += g->delivered;
	if (last != UINT64_MAX && first > last)
		return ENG_EPROTO;
	if (last == UINT64_MAX)
		n = snprintf(g->range, sizeof(g->range), "bytes=%" PRIu64 "-", first);
	else
		n = snprintf(g->range, sizeof(g->range), "bytes=%" PRIu64 "-%" PRIu64,
		    first, last);
	if (n < 0 || (size_t)n >= sizeof(g->range))
		return -EINVAL;
	oss_call_header(c, "Range", g->range);
	/* a bad range must fail (416), not return the whole object */
	oss_call_header(c, "x-oss-range-behavior", "standard");
	if (g->resumed)
		oss_call_header(c, "If-Match", g->etag);	/* never mix versions */
	return 0;
}

static int
oss_get_check(void *arg, const struct http_response *r)
{
	struct oss_get_ctx *g = arg;
	const char *v;
	uint64_t want;

	if ((g->resumed || (g->o != NULL && g->o->range)) && r->status != 206) {
		g->c->no_retry = true;	/* the sink already has the wrong bytes */
		return ENG_EPROTO;
	}
	if (g->o != NULL && g->o->range)
		return 0;
	/* whole object: its CRC must match what was delivered */
	if ((v = http_response_header(r, "x-oss-hash-crc64ecma")) == NULL)
		return 0;
	if (num_u64(v, (size_t)-1, UINT64_MAX, &want) != 0)
		return ENG_EPROTO;
	if (want == g->crc)
		return 0;
	if (g->o != NULL && g->o->write_fn != NULL) {
		g->c->no_retry = true;	/* cannot take back what the sink got */
	} else {
		buf_truncate(g->out, g->out_start);
		g->delivered = 0;
		g->crc = 0;
	}
	return ENG_ECHECKSUM;
}

int
oss_get(struct oss *oss, const char *key, const struct oss_get_opts *opts,
    struct buf *out, uint64_t *size_out, struct oss_error *err)
{
	struct oss_call c;
	struct http_response r;
	struct oss_get_ctx g;
	int rc;

	if ((rc = oss_bad_args(err, "GetObject", key)) != 0)
		return rc;
	if ((opts == NULL || opts->write_fn == NULL) && out == NULL) {
		oss_err_set(err, "GetObject", -EINVAL, "no destination");
		return -EINVAL;
	}
	if (opts != NULL && opts->range && opts->first > opts->last) {
		oss_err_set(err, "GetObject", -EINVAL, "empty range");
		return -EINVAL;
	}
	memset(&g, 0, sizeof(g));
	g.o = opts;
	g.out = out;
	g.out_start = out != NULL ? out->len : 0;
	g.max_mem = opts != NULL && opts->max_mem != 0 ? opts->max_mem :
	    ((size_t)64 << 20);
	g.c = &c;
	http_response_init(&r);
	oss_call_init(&c, "GetObject", "GET", key);
	g.resp = &r;
	c.write_fn = oss_get_sink;
	c.write_arg = &g;
	c.before = oss_get_before;
	c.check = oss_get_check;
	c.hook_arg = &g;
	rc = oss_exec(oss, &c, &r, err);
	if (rc == 0 && size_out != NULL)
		*size_out = g.delivered;
	http_response_free(&r);
	return rc;
}

/* ---- DeleteObject / DeleteMultipleObjects ---------------------------------- */

int
oss_delete(struct oss *oss, const char *key, struct oss_error *err)
{
	struct oss_call c;
	struct http_response r;
	int rc;

	if ((rc = oss_bad_args(err, "DeleteObject", key)) != 0)
		return rc;
	http_response_init(&r);
	oss_call_init(&c, "DeleteObject", "DELETE", key);
	rc = oss_exec(oss, &c, &r, err);
	http_response_free(&r);
	return rc;
}

int
oss_delete_many(struct oss *oss, const char *const *keys, size_t nkeys,
    struct oss_delete_fail **fails, size_t *nfails, struct oss_error *err)
{
	struct oss_delete_fail *all = NULL, *f = NULL, *np;
	struct http_response r;
	struct oss_call c;
	struct oss_src src;
	struct buf body;
	size_t nall = 0, nf = 0, i, k, done;
	int rc = 0;

	if (fails != NULL)
		*fails = NULL;
	if (nfails != NULL)
		*nfails = 0;
	for (i = 0; i < nkeys; i++)
		if ((rc = oss_bad_args(err, "DeleteMultipleObjects", keys[i])) != 0)
			return rc;
	http_response_init(&r);
	buf_init(&body, BUF_MAX_DOC);
	for (done = 0; done < nkeys; done += k) {
		k = nkeys - done < OSS_DELETE_BATCH ? nkeys - done : OSS_DELETE_BATCH;
		buf_reset(&body);
		if ((rc = oss_xml_delete_body(keys + done, k, true, &body)) != 0) {
			oss_err_set(err, "DeleteMultipleObjects", rc,
			    "cannot build the request body");
			goto out;
		}
		src = oss_src_mem(body.p, body.len);
		oss_call_init(&c, "DeleteMultipleObjects", "POST", NULL);
		oss_call_query(&c, "delete", NULL);
		oss_call_query(&c, "encoding-type", "url");
		oss_call_header(&c, "Content-Type", "application/xml");
		c.body = &src;
		http_response_reset(&r);
		if ((rc = oss_exec(oss, &c, &r, err)) != 0)
			goto out;
		if ((rc = oss_xml_delete_result(r.body.p, r.body.len, &f, &nf)) != 0) {
			oss_err_set(err, "DeleteMultipleObjects", rc,
			    "malformed DeleteResult");
			goto out;
		}
		if (nf != 0) {
			rc = -ENOMEM;
			if ((np = realloc(all, (nall + nf) * sizeof(*np))) == NULL)
				goto out;
			all = np;
			memcpy(all + nall, f, nf * sizeof(*f));
			nall += nf;
			free(f);	/* keys moved into all */
			f = NULL;
			nf = 0;
		}
	}
	if (fails != NULL && nfails != NULL) {
		*fails = all;
		*nfails = nall;
		all = NULL;
		nall = 0;
	}
	rc = 0;
out:
	oss_delete_fails_free(f, nf);
	oss_delete_fails_free(all, nall);
	buf_free(&body);
	http_response_free(&r);
	return rc;
}

/* ---- ListObjectsV2 ------------------------------------------------------------ */

int
oss_list(struct oss *oss, const struct oss_list_opts *opts,
    struct oss_list_page *page, struct oss_error *err)
{
	struct oss_call c;
	struct http_response r;
	char mk[16];
	unsigned max = opts != NULL && opts->max_keys != 0 ? opts->max_keys : 1000;
	int rc;

	if (max > 1000) {
		oss_err_set(err, "ListObjectsV2", -EINVAL, "max_keys above 1000");
		return -EINVAL;
	}
	(void)snprintf(mk, sizeof(mk), "%u", max);
	http_response_init(&r);
	oss_call_init(&c, "ListObjectsV2", "GET", NULL);
	oss_call_query(&c, "list-type", "2");
	oss_call_query(&c, "encoding-type", "url");
	oss_call_query(&c, "max-keys", mk);
	if (opts != NULL && opts->prefix != NULL)
		oss_call_query(&c, "prefix", opts->prefix);
	if (opts != NULL && opts->delimiter != NULL)
		oss_call_query(&c, "delimiter", opts->delimiter);
	if (opts != NULL && opts->start_after != NULL)
		oss_call_query(&c, "start-after", opts->start_after);
	if (opts != NULL && opts->continuation_token != NULL)
		oss_call_query(&c, "continuation-token", opts->continuation_token);
	if ((rc = oss_exec(oss, &c, &r, err)) != 0)
		goto out;
	if ((rc = oss_xml_list(r.body.p, r.body.len, page)) != 0)
		oss_err_set(err, "ListObjectsV2", rc, "malformed ListBucketResult");
out:
	http_response_free(&r);
	return rc;
}

/* ---- multipart ---------------------------------------------------------------- */

int
oss_mpu_init(struct oss *oss, const char *key, const struct oss_put_opts *opts,
    char **upload_id, struct oss_error *err)
{
	struct oss_call c;
	struct http_response r;
	int rc;

	*upload_id = NULL;
	if ((rc = oss_bad_args(err, "InitiateMultipartUpload", key)) != 0)
		return rc;
	http_response_init(&r);
	oss_call_init(&c, "InitiateMultipartUpload", "POST", key);
	oss_call_query(&c, "uploads", NULL);
	oss_put_headers(&c, opts);
	if ((rc = oss_exec(oss, &c, &r, err)) != 0)
		goto out;
	if ((rc = oss_xml_initiate(r.body.p, r.body.len, upload_id)) != 0)
		oss_err_set(err, "InitiateMultipartUpload", rc,
		    "malformed InitiateMultipartUploadResult");
out:
	http_response_free(&r);
	return rc;
}

int
oss_mpu_part(struct oss *oss, const char *key, const char *upload_id,
    unsigned number, const struct oss_src *body, struct oss_part *part,
    struct oss_error *err)
{
	struct oss_call c;
	struct http_response r;
	char num[16];
	const char *v;
	int rc;

	if ((rc = oss_bad_args(err, "UploadPart", key)) != 0)
		return rc;
	if (number < 1 || number > OSS_MAX_PARTS || body == NULL ||
	    body->len > OSS_PART_MAX || upload_id == NULL) {
		oss_err_set(err, "UploadPart", -EINVAL, "bad part number or body");
		return -EINVAL;
	}
	(void)snprintf(num, sizeof(num), "%u", number);
	http_response_init(&r);
	oss_call_init(&c, "UploadPart", "PUT", key);
	oss_call_query(&c, "partNumber", num);
	oss_call_query(&c, "uploadId", upload_id);
	c.body = body;
	c.check = oss_check_body_crc;
	c.hook_arg = &c;
	if ((rc = oss_exec(oss, &c, &r, err)) != 0)
		goto out;
	if ((v = http_response_header(&r, "ETag")) == NULL || *v == '\0') {
		rc = ENG_EPROTO;
		oss_err_set(err, "UploadPart", rc, "no ETag in the UploadPart response");
		goto out;
	}
	memset(part, 0, sizeof(*part));
	part->number = number;
	oss_copy(part->etag, sizeof(part->etag), v);
	part->size = body->len;
	part->crc64 = c.body_crc;
out:
	http_response_free(&r);
	return rc;
}

struct oss_complete_ctx {
	uint64_t	crc;
};

static int
oss_check_complete(void *arg, const struct http_response *r)
{
	const struct oss_complete_ctx *cc = arg;
	uint64_t v;

	if (oss_resp_u64(r, "x-oss-hash-crc64ecma", &v) != 0)
		return ENG_EPROTO;
	/* parts were checked one by one; a whole-object mismatch is final */
	return v == cc->crc ? 0 : ENG_ECORRUPT;
}

int
oss_mpu_complete(struct oss *oss, const char *key, const char *upload_id,
    const struct oss_part *parts, size_t nparts,
    const struct oss_put_opts *opts, struct oss_put_result *res,
    struct oss_error *err)
{
	struct oss_complete_ctx cc;
	struct oss_put_result pr;
	struct http_response r;
	struct oss_call c;
	struct oss_error e;
	struct oss_src src;
	struct buf body;
	uint64_t size = 0;
	size_t i;
	int rc;

	if ((rc = oss_bad_args(err, "CompleteMultipartUpload", key)) != 0)
		return rc;
	if (nparts == 0 || nparts > OSS_MAX_PARTS || upload_id == NULL) {
		oss_err_set(err, "CompleteMultipartUpload", -EINVAL, "no parts");
		return -EINVAL;
	}
	memset(&cc, 0, sizeof(cc));
	for (i = 0; i < nparts; i++) {
		if (i > 0 && parts[i].number <= parts[i - 1].number) {
			oss_err_set(err, "CompleteMultipartUpload", -EINVAL,
			    "parts not in ascending order");
			return -EINVAL;
		}
		cc.crc = crc64_combine(cc.crc, parts[i].crc64, parts[i].size);
		size += parts[i].size;
	}
	memset(&pr, 0, sizeof(pr));
	http_response_init(&r);
	buf_init(&body, BUF_MAX_DOC);
	if ((rc = oss_xml_complete_body(parts, nparts, &body)) != 0) {
		oss_err_set(&e, "CompleteMultipartUpload", rc, "bad part ETag");
		goto out;
	}
	src = oss_src_mem(body.p, body.len);
	oss_call_init(&c, "CompleteMultipartUpload", "POST", key);
	oss_call_query(&c, "uploadId", upload_id);
	oss_call_header(&c, "Content-Type", "application/xml");
	if (opts != NULL && opts->forbid_overwrite)
		oss_call_header(&c, "x-oss-forbid-overwrite", "true");
	c.body = &src;
	c.check = oss_check_complete;
	c.hook_arg = &cc;
	rc = oss_exec(oss, &c, &r, &e);
	if (rc == ENG_ECORRUPT) {
		rc = ENG_ECHECKSUM;
		e.rc = rc;
		oss_copy(e.message, sizeof(e.message), "the completed object's "
		    "CRC-64 differs from its parts' combined CRC-64");
		goto out;
	}
	if (rc == ENG_ENOTFOUND && c.attempts > 1 &&
	    strcmp(e.code, "NoSuchUpload") == 0) {
		struct oss_head h;

		/* the first try completed; its answer was lost */
		if (oss_reconcile(oss, key, size, cc.crc, &h) == 0) {
			oss_copy(pr.etag, sizeof(pr.etag), h.etag);
			rc = 0;
			goto done;
		}
	}
	if (rc != 0)
		goto out;
	if (oss_xml_complete(r.body.p, r.body.len, pr.etag, sizeof(pr.etag)) != 0) {
		const char *v = http_response_header(&r, "ETag");

		oss_copy(pr.etag, sizeof(pr.etag), v);
	}
done:
	pr.crc64 = cc.crc;
	pr.size = size;
	if (res != NULL)
		*res = pr;
out:
	if (err != NULL)
		*err = e;
	buf_free(&body);
	http_response_free(&r);
	return rc;
}

int
oss_mpu_abort(struct oss *oss, const char *key, const char *upload_id,
    struct oss_error *err)
{
	struct oss_call c;
	struct http_response r;
	struct oss_error e;
	int rc;

	if ((rc = oss_bad_args(err, "AbortMultipartUpload", key)) != 0)
		return rc;
	http_response_init(&r);
	oss_call_init(&c, "AbortMultipartUpload", "DELETE", key);
	oss_call_query(&c, "uploadId", upload_id);
	rc = oss_exec(oss, &c, &r, &e);
	if (rc == ENG_ENOTFOUND && strcmp(e.code, "NoSuchUpload") == 0)
		rc = 0;		/* already gone: that is what we wanted */
	if (rc != 0 && err != NULL)
		*err = e;
	http_response_free(&r);
	return rc;
}

int
oss_mpu_list_parts(struct oss *oss, const char *key, const char *upload_id,
    unsigned marker, struct oss_parts_page *page, struct oss_error *err)
{
	struct oss_call c;
	struct http_response r;
	char mk[16];
	int rc;

	if ((rc = oss_bad_args(err, "ListParts", key)) != 0)
		return rc;
	(void)snprintf(mk, sizeof(mk), "%u", marker);
	http_response_init(&r);
	oss_call_init(&c, "ListParts", "GET", key);
	oss_call_query(&c, "uploadId", upload_id);
	oss_call_query(&c, "max-parts", "1000");
	if (marker != 0)
		oss_call_query(&c, "part-number-marker", mk);
	if ((rc = oss_exec(oss, &c, &r, err)) != 0)
		goto out;
	if ((rc = oss_xml_list_parts(r.body.p, r.body.len, page)) != 0)
		oss_err_set(err, "ListParts", rc, "malformed ListPartsResult");
out:
	http_response_free(&r);
	return rc;
}

/* one page of ListMultipartUploads under prefix */
static int
oss_list_uploads(struct oss *oss, const char *prefix, size_t *count,
    char ***keys, char ***ids, struct oss_error *err)
{
	struct oss_call c;
	struct http_response r;
	int rc;

	http_response_init(&r);
	oss_call_init(&c, "ListMultipartUploads", "GET", NULL);
	oss_call_query(&c, "uploads", NULL);
	oss_call_query(&c, "encoding-type", "url");
	oss_call_query(&c, "max-uploads", "1000");
	if (prefix != NULL)
		oss_call_query(&c, "prefix", prefix);
	if ((rc = oss_exec(oss, &c, &r, err)) != 0)
		goto out;
	if ((rc = oss_xml_list_uploads(r.body.p, r.body.len, count, keys, ids)) != 0)
		oss_err_set(err, "ListMultipartUploads", rc,
		    "malformed ListMultipartUploadsResult");
out:
	http_response_free(&r);
	return rc;
}

int
oss_mpu_list_uploads(struct oss *oss, const char *prefix, size_t *count,
    char ***keys, struct oss_error *err)
{
	return oss_list_uploads(oss, prefix, count, keys, NULL, err);
}

int
oss_mpu_abort_all(struct oss *oss, const char *prefix, size_t *aborted,
    struct oss_error *err)
{
	char **keys = NULL, **ids = NULL;
	size_t n = 0, i, done = 0, rounds;
	int rc = 0;

	if (aborted != NULL)
		*aborted = 0;
	/* a page holds up to 1000; aborting them shortens the next listing */
	for (rounds = 0; rounds < 1000; rounds++) {
		if ((rc = oss_list_uploads(oss, prefix, &n, &keys, &ids, err)) != 0)
			break;
		for (i = 0; i < n && rc == 0; i++)
			if ((rc = oss_mpu_abort(oss, keys[i], ids[i], err)) == 0)
				done++;
		for (i = 0; i < n; i++) {
			free(keys[i]);
			free(ids[i]);
		}
		free(keys);
		free(ids);
		keys = ids = NULL;
		if (rc != 0 || n < 1000)
			break;
	}
	if (aborted != NULL)
		*aborted = done;
	return rc;
}

/* ---- AppendObject ------------------------------------------------------------- */

struct oss_append_ctx {
	uint64_t	crc;		/* expected whole-object CRC */
	uint64_t	next;		/* expected next position */
};

static int
oss_check_append(void *arg, const struct http_response *r)
{
	const struct oss_append_ctx *a = arg;
	uint64_t v;

	if (oss_resp_u64(r, "x-oss-next-append-position", &v) != 0 || v != a->next)
		return ENG_EPROTO;
	if (oss_resp_u64(r, "x-oss-hash-crc64ecma", &v) != 0)
		return ENG_EPROTO;
	return v == a->crc ? 0 : ENG_ECHECKSUM;
}

int
oss_append(struct oss *oss, const char *key, uint64_t position,
    const struct oss_src *body, const uint64_t *init_crc,
    const struct oss_put_opts *opts, struct oss_append_result *res,
    struct oss_error *err)
{
	struct oss_append_ctx ac;
	struct http_response r;
	struct oss_call c;
	struct oss_error e;
	struct oss_head h;
	uint64_t prev = 0;
	char pos[24];
	unsigned tries;
	int rc;

	memset(&e, 0, sizeof(e));
	if ((rc = oss_bad_args(err, "AppendObject", key)) != 0)
		return rc;
	if (body == NULL || position > OSS_PART_MAX ||
	    body->len > OSS_PART_MAX - position) {
		oss_err_set(err, "AppendObject", -EINVAL, "bad body or position");
		return -EINVAL;
	}
	http_response_init(&r);
	if (position > 0 && init_crc != NULL) {
		prev = *init_crc;
	} else if (position > 0) {
		if ((rc = oss_head(oss, key, &h, &e)) != 0)
			goto out;
		if (h.size != position || !h.has_crc64) {
			rc = ENG_ECONFLICT;
			oss_err_set(&e, "AppendObject", rc, "object length is %" PRIu64
			    ", not the append position %" PRIu64, h.size, position);
			e.has_next_append = true;
			e.next_append = h.size;
			goto out;
		}
		prev = h.crc64;
	}
	(void)snprintf(pos, sizeof(pos), "%" PRIu64, position);
	oss_call_init(&c, "AppendObject", "POST", key);
	oss_call_query(&c, "append", NULL);
	oss_call_query(&c, "position", pos);
	oss_put_headers(&c, opts);
	c.body = body;
	c.no_retry = true;	/* never blindly: see the reconciliation below */
	if ((rc = oss_src_digest(body, c.md5, &c.body_crc)) != 0) {
		oss_err_set(&e, "AppendObject", rc, "cannot read the body");
		goto out;
	}
	c.digested = true;
	ac.crc = crc64_combine(prev, c.body_crc, body->len);
	ac.next = position + body->len;
	c.check = oss_check_append;
	c.hook_arg = &ac;
	for (tries = 0;; tries++) {
		int hr;

		http_response_reset(&r);
		rc = oss_exec(oss, &c, &r, &e);
		if (rc == 0 || !c.retryable || rc == ENG_ECHECKSUM)
			break;
		/* the answer is unknown: look at the object before deciding */
		hr = oss_head(oss, key, &h, NULL);
		if (hr == 0) {
			if (h.size == ac.next && h.has_crc64 && h.crc64 == ac.crc) {
				rc = 0;		/* it happened */
				break;
			}
			if (h.size != position) {
				rc = ENG_ECONFLICT;
				oss_copy(e.message, sizeof(e.message), "object changed "
				    "by another writer while appending");
				e.has_next_append = true;
				e.next_append = h.size;
				break;
			}
		} else if (hr != ENG_ENOTFOUND || position != 0) {
			break;		/* cannot tell: report the failure */
		}
		/* it did not happen: try again */
		if (tries >= oss->max_retries)
			break;
		oss_backoff(oss, tries);
	}
	if (rc != 0)
		goto out;
	if (res != NULL) {
		res->next_position = ac.next;
		res->crc64 = ac.crc;
	}
out:
	if (err != NULL) {
		e.rc = rc;
		*err = e;
	}
	http_response_free(&r);
	return rc;
}
