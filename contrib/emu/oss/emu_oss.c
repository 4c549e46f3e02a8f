/* SPDX-License-Identifier: MIT */
/*
 * emu_oss.c - the OSS service of difs-emu (emu_oss_service, see emu.h).
 *
 * Owns: addressing (path style and virtual host, incl. ali-oss's
 * "Host: bucket.oss-cn-hangzhou.aliyuncs.com" sent to 127.0.0.1),
 * authentication (emu_oss_auth.c), dispatch to the operations, OSS error
 * bodies and headers, and the object/bucket operations: PutObject,
 * GetObject (ranges), HeadObject, GetObjectMeta, DeleteObject,
 * DeleteMultipleObjects, AppendObject, PutBucket, DeleteBucket,
 * GetBucketInfo, GetBucketLocation, GetBucketAcl, ListBuckets.  Multipart
 * operations and listings live in emu_oss_mp.c, the error documents and the
 * helpers both share in emu_oss_resp.c, the disk in emu_oss_store.c.
 *
 * Buckets: those named by --bucket are created at start; without --bucket
 * any valid bucket name is created on first use.  With --bucket the set is
 * fixed (plus PutBucket), so NoSuchBucket can be tested.
 *
 * Thread-safety: handle() runs concurrently; the only shared state is the
 * store (own lock) and the request counter (atomic).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "crc64.h"
#include "num.h"
#include "sys.h"
#include "emu_oss_i.h"

struct emu_oss {
	struct emu_oss_store	*store;
	char			*access_id;
	char			*access_secret;
	int			 skew;
	int			 strict;	/**< --bucket given: no auto-create */
	_Atomic uint64_t	 seq;		/**< request ids */
	uint32_t		 boot;		/**< start time, request id prefix */
};

#define REGION		"oss-cn-hangzhou"
#define REGION_ID	"cn-hangzhou"	/* REGION without "oss-" */

/* ---- responses ------------------------------------------------------------- */

static int
hdr_u64(struct emu_resp *r, const char *name, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
	return emu_resp_header(r, name, s);
}

static int
hdr_etag(struct emu_resp *r, const char *etag)
{
	char s[64];

	snprintf(s, sizeof(s), "\"%s\"", etag);
	return emu_resp_header(r, "ETag", s);
}

/* a preformatted "  <Tag>escaped</Tag>\n" for error extras */
static int
extra_elem(struct buf *b, const char *tag, const char *v)
{
	buf_printf(b, "  <%s>", tag);
	emu_oss_xml_esc(b, v);
	buf_printf(b, "</%s>\n", tag);
	return b->err;
}

static int
err_with(struct emu_oss_ctx *c, int status, const char *code, const char *msg,
    const char *tag, const char *val, const char *ec)
{
	struct buf x;
	int rc;

	buf_init(&x, BUF_MAX_SMALL);
	if ((rc = extra_elem(&x, tag, val)) == 0)
		rc = emu_oss_error_ec(c, status, code, msg, x.p, ec);
	buf_free(&x);
	return rc;
}

static int
no_such_key(struct emu_oss_ctx *c)
{
	return err_with(c, 404, "NoSuchKey", "The specified key does not exist.",
	    "Key", c->t.key, NULL);
}

/* x-oss-meta-* response headers from the "name:value\n" lines */
static int
send_umeta(struct emu_resp *r, const char *um)
{
	char name[256], val[8192];
	const char *nl, *col;
	int rc;

	for (; um != NULL && *um != '\0'; um = nl + 1) {
		if ((nl = strchr(um, '\n')) == NULL)
			break;
		if ((col = memchr(um, ':', (size_t)(nl - um))) == NULL)
			continue;
		if ((size_t)(col - um) >= sizeof(name) ||
		    (size_t)(nl - col - 1) >= sizeof(val))
			continue;
		memcpy(name, um, (size_t)(col - um));
		name[col - um] = '\0';
		memcpy(val, col + 1, (size_t)(nl - col - 1));
		val[nl - col - 1] = '\0';
		if ((rc = emu_resp_header(r, name, val)) != 0)
			return rc;
	}
	return 0;
}

/* ---- object operations -------------------------------------------------------- */

static int
forbid_overwrite(struct emu_oss_ctx *c, int *out)
{
	const char *v = emu_req_header(c->req, "x-oss-forbid-overwrite");
	int rc;

	*out = 0;
	if (v == NULL || strcasecmp(v, "false") == 0)
		return 0;
	if (strcasecmp(v, "true") == 0) {
		*out = 1;
		return 0;
	}
	rc = err_with(c, 400, "InvalidArgument",
	    "Invalid value of x-oss-forbid-overwrite.", "ArgumentName",
	    "x-oss-forbid-overwrite", "0017-00000279");
	return rc != 0 ? rc : 1;
}

static const char *
req_ctype(const struct emu_req *req)
{
	const char *ct = emu_req_header(req, "Content-Type");

	return ct != NULL && *ct != '\0' ? ct : "application/octet-stream";
}

static int
already_exists(struct emu_oss_ctx *c)
{
	return emu_oss_error_ec(c, 409, "FileAlreadyExists",
	    "The object you specified already exists and can not be overwritten.",
	    NULL, "0026-00000002");
}

static int
op_put(struct emu_oss_ctx *c)
{
	struct emu_oss_meta m;
	struct emu_oss_tmp tmp = { .fd = -1 };
	uint8_t md5[16];
	int nover, rc;

	memset(&m, 0, sizeof(m));
	if ((rc = forbid_overwrite(c, &nover)) != 0)
		return rc > 0 ? 0 : rc;
	if ((rc = emu_oss_check_md5(c, c->req->body, c->req->body_len, 0, md5)) != 0)
		return rc > 0 ? 0 : rc;
	if (emu_req_header(c->req, "x-oss-copy-source") != NULL)
		return emu_oss_error(c, 501, "NotImplemented",
		    "CopyObject is not implemented by difs-emu.", NULL);
	m.key = c->t.key;
	m.size = c->req->body_len;
	emu_oss_hex(md5, 16, m.etag, 1);
	m.crc64 = crc64_compute(c->req->body, c->req->body_len);
	m.type = EMU_OSS_NORMAL;
	m.ctype = (char *)(uintptr_t)req_ctype(c->req);
	if ((rc = emu_oss_collect_umeta(c->req, &m.umeta)) != 0)
		goto out;
	if ((rc = emu_oss_store_tmp_open(c->store, &tmp)) != 0 ||
	    (rc = sys_write_all(tmp.fd, c->req->body, c->req->body_len)) != 0) {
		emu_oss_tmp_discard(&tmp);
		rc = emu_oss_error_errno(c, rc);
		goto out;
	}
	rc = emu_oss_store_commit(c->store, c->t.bucket, &tmp, &m, nover);
	if (rc == -EEXIST) {
		rc = already_exists(c);
		goto out;
	}
	if (rc != 0) {
		rc = emu_oss_error_errno(c, rc);
		goto out;
	}
	{
		struct buf b64;

		buf_init(&b64, BUF_MAX_SMALL);
		if ((rc = hdr_etag(c->resp, m.etag)) == 0 &&
		    (rc = hdr_u64(c->resp, "x-oss-hash-crc64ecma", m.crc64)) == 0 &&
		    (rc = emu_oss_b64(&b64, md5, 16)) == 0)
			rc = emu_resp_header(c->resp, "Content-MD5", b64.p);
		buf_free(&b64);
	}
out:
	free(m.umeta);
	return rc;
}

static int
object_headers(struct emu_oss_ctx *c, const struct emu_oss_meta *m)
{
	struct emu_resp *r = c->resp;
	char date[40];
	int rc;

	emu_oss_fmt_gmt(m->mtime, date);
	if ((rc = emu_resp_header(r, "Content-Type",
	    m->ctype != NULL ? m->ctype : "application/octet-stream")) != 0 ||
	    (rc = hdr_etag(r, m->etag)) != 0 ||
	    (rc = emu_resp_header(r, "Last-Modified", date)) != 0 ||
	    (rc = emu_resp_header(r, "Accept-Ranges", "bytes")) != 0 ||
	    (rc = emu_resp_header(r, "x-oss-object-type",
	    emu_oss_otype_name(m->type))) != 0 ||
	    (rc = emu_resp_header(r, "x-oss-storage-class", "Standard")) != 0 ||
	    (rc = hdr_u64(r, "x-oss-hash-crc64ecma", m->crc64)) != 0 ||
	    (rc = send_umeta(r, m->umeta)) != 0)
		return rc;
	if (m->type == EMU_OSS_APPENDABLE &&
	    (rc = hdr_u64(r, "x-oss-next-append-position", m->size)) != 0)
		return rc;
	if (m->type == EMU_OSS_NORMAL && strlen(m->etag) == 32) {
		uint8_t md5[16];
		struct buf b64;
		size_t i;

		for (i = 0; i < 16; i++) {
			static const char hx[] = "0123456789ABCDEF";
			const char *hi = strchr(hx, m->etag[2 * i]);
			const char *lo = strchr(hx, m->etag[2 * i + 1]);

			if (hi == NULL || lo == NULL || *hi == '\0' || *lo == '\0')
				return 0;
			md5[i] = (uint8_t)(((hi - hx) << 4) | (lo - hx));
		}
		buf_init(&b64, BUF_MAX_SMALL);
		if ((rc = emu_oss_b64(&b64, md5, 16)) == 0)
			rc = emu_resp_header(r, "Content-MD5", b64.p);
		buf_free(&b64);
	}
	return rc;
}

/* an If-Match / If-None-Match value against an unquoted ETag ("*" matches) */
static int
etag_matches(const char *v, const char *etag)
{
	size_t n;

	while (*v == ' ')
		v++;
	if (strcmp(v, "*") == 0)
		return 1;
	if (*v == '"')
		v++;
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '"'))
		n--;
	return n == strlen(etag) && strncasecmp(v, etag, n) == 0;
}

/*
 * Conditional GET/HEAD (RFC 7232 order): returns 0 to go on, 304, or 412
 * with *cond naming the failed header.
 */
static int
preconditions(const struct emu_req *req, const struct emu_oss_meta *m,
    const char **cond)
{
	const char *im = emu_req_header(req, "If-Match");
	const char *ius = emu_req_header(req, "If-Unmodified-Since");
	const char *inm = emu_req_header(req, "If-None-Match");
	const char *ims = emu_req_header(req, "If-Modified-Since");
	time_t t;

	if (im != NULL && !etag_matches(im, m->etag)) {
		*cond = "If-Match";
		return 412;
	}
	if (im == NULL && ius != NULL && emu_oss_parse_gmt(ius, &t) == 0 &&
	    m->mtime > t) {
		*cond = "If-Unmodified-Since";
		return 412;
	}
	if (inm != NULL && etag_matches(inm, m->etag))
		return 304;
	if (inm == NULL && ims != NULL && emu_oss_parse_gmt(ims, &t) == 0 &&
	    m->mtime <= t)
		return 304;
	return 0;
}

static int
op_get(struct emu_oss_ctx *c, int head)
{
	struct emu_oss_meta m;
	const char *range = emu_req_header(c->req, "Range");
	const char *cond = "";
	uint64_t off = 0, len;
	char cr[96];
	int fd = -1, rc, rr;

	memset(&m, 0, sizeof(m));
	rc = emu_oss_store_get(c->store, c->t.bucket, c->t.key, &m,
	    head ? NULL : &fd);
	if (rc == -ENOENT)
		return no_such_key(c);
	if (rc != 0)
		return emu_oss_error_errno(c, rc);
	switch (preconditions(c->req, &m, &cond)) {
	case 412:
		rc = err_with(c, 412, "PreconditionFailed",
		    "At least one of the pre-conditions you specified did not hold.",
		    "Condition", cond, NULL);
		goto out;
	case 304:
		emu_oss_fmt_gmt(m.mtime, cr);
		c->resp->status = 304;
		if ((rc = hdr_etag(c->resp, m.etag)) == 0)
			rc = emu_resp_header(c->resp, "Last-Modified", cr);
		goto out;
	default:
		break;
	}
	len = m.size;
	rr = head ? 0 : emu_oss_range_parse(range, m.size, &off, &len);
	if (rr == -ERANGE) {
		snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)m.size);
		if ((rc = emu_resp_header(c->resp, "Content-Range", cr)) == 0)
			rc = emu_oss_error(c, 416, "InvalidRange",
			    "The requested range cannot be satisfied", NULL);
		goto out;
	}
	if ((rc = object_headers(c, &m)) != 0)
		goto out;
	c->resp->status = 200;
	if (rr == 1) {
		c->resp->status = 206;
		snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
		    (unsigned long long)off, (unsigned long long)(off + len - 1),
		    (unsigned long long)m.size);
		if ((rc = emu_resp_header(c->resp, "Content-Range", cr)) != 0)
			goto out;
	}
	if (head) {
		rc = hdr_u64(c->resp, "Content-Length", m.size);
		goto out;
	}
	if (len > 0) {
		c->resp->file_fd = fd;
		c->resp->file_off = off;
		c->resp->file_len = len;
		fd = -1;
	}
out:
	if (fd >= 0)
		close(fd);
	emu_oss_meta_clear(&m);
	return rc;
}

static int
op_delete(struct emu_oss_ctx *c)
{
	int rc = emu_oss_store_delete(c->store, c->t.bucket, c->t.key);

	if (rc != 0)
		return emu_oss_error_errno(c, rc);
	c->resp->status = 204;
	return 0;
}

static int
op_append(struct emu_oss_ctx *c)
{
	const char *pos = emu_oss_query_get(&c->q, "position");
	struct emu_oss_meta init, out;
	uint64_t p, next = 0;
	uint8_t md5[16];
	int rc;

	memset(&init, 0, sizeof(init));
	memset(&out, 0, sizeof(out));
	if (pos == NULL || *pos == '\0')
		return err_with(c, 400, "InvalidArgument",
		    "Missing position parameter for AppendObject.", "ArgumentName",
		    "position", "0016-00000501");
	if (num_u64(pos, (size_t)-1, UINT64_MAX, &p) != 0)
		return err_with(c, 400, "InvalidArgument",
		    "Position is not a valid number.", "ArgumentName", "position",
		    NULL);
	if ((rc = emu_oss_check_md5(c, c->req->body, c->req->body_len, 0, md5)) != 0)
		return rc > 0 ? 0 : rc;
	init.ctype = (char *)(uintptr_t)req_ctype(c->req);
	if ((rc = emu_oss_collect_umeta(c->req, &init.umeta)) != 0)
		return rc;
	rc = emu_oss_store_append(c->store, c->t.bucket, c->t.key, p,
	    c->req->body, c->req->body_len, &init, &out, &next);
	free(init.umeta);
	switch (rc) {
	case 0:
		break;
	case -ESPIPE:
		if ((rc = hdr_u64(c->resp, "x-oss-next-append-position", next)) != 0)
			return rc;
		return emu_oss_error_ec(c, 409, "PositionNotEqualToLength",
		    "Position is not equal to file length", NULL, "0026-00000016");
	case -EPERM:
		return emu_oss_error(c, 409, "ObjectNotAppendable",
		    "The object is not appendable", NULL);
	case -EFBIG:
		return emu_oss_error(c, 400, "EntityTooLarge",
		    "Your proposed upload exceeds the maximum allowed size.", NULL);
	default:
		return emu_oss_error_errno(c, rc);
	}
	if ((rc = hdr_u64(c->resp, "x-oss-next-append-position", next)) == 0 &&
	    (rc = hdr_u64(c->resp, "x-oss-hash-crc64ecma", out.crc64)) == 0)
		rc = hdr_etag(c->resp, out.etag);
	emu_oss_meta_clear(&out);
	return rc;
}

static int
op_delete_multi(struct emu_oss_ctx *c)
{
	int enc = emu_oss_query_get(&c->q, "encoding-type") != NULL &&
	    strcmp(emu_oss_query_get(&c->q, "encoding-type"), "url") == 0;
	char **keys = NULL;
	size_t nkeys = 0, i;
	uint8_t md5[16];
	struct buf doc;
	int quiet = 0, rc;

	buf_init(&doc, BUF_MAX_DOC);
	if ((rc = emu_oss_check_md5(c, c->req->body, c->req->body_len, 1, md5)) != 0) {
		rc = rc > 0 ? 0 : rc;
		goto out;
	}
	rc = emu_oss_xml_delete(c->req->body, c->req->body_len, &quiet, &keys,
	    &nkeys);
	if (rc == -EBADMSG || rc == -E2BIG) {
		rc = emu_oss_error(c, 400, "MalformedXML", rc == -E2BIG ?
		    "You have attempted to delete more objects than allowed (1000)." :
		    "The XML you provided was not well-formed or did not validate "
		    "against our published schema.", NULL);
		goto out;
	}
	if (rc != 0)
		goto out;
	buf_addstr(&doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DeleteResult>\n");
	if (enc)
		buf_addstr(&doc, "<EncodingType>url</EncodingType>\n");
	for (i = 0; i < nkeys; i++) {
		if (keys[i][0] == '\0' || strlen(keys[i]) > EMU_OSS_MAX_KEY)
			continue;
		if ((rc = emu_oss_store_delete(c->store, c->t.bucket, keys[i])) != 0) {
			rc = emu_oss_error_errno(c, rc);
			goto out;
		}
		if (!quiet) {
			buf_addstr(&doc, "<Deleted>");
			emu_oss_xml_key(&doc, "Key", keys[i], enc);
			buf_addstr(&doc, "</Deleted>\n");
		}
	}
	buf_addstr(&doc, "</DeleteResult>\n");
	rc = emu_oss_xml_reply(c, &doc);
out:
	emu_oss_xml_strv_free(keys, nkeys);
	buf_free(&doc);
	return rc;
}

/* ---- bucket and service operations ------------------------------------------- */

static int
owner_xml(struct emu_oss_ctx *c, struct buf *b)
{
	buf_addstr(b, "<Owner><ID>");
	emu_oss_xml_esc(b, c->svc->access_id);
	buf_addstr(b, "</ID><DisplayName>");
	emu_oss_xml_esc(b, c->svc->access_id);
	buf_addstr(b, "</DisplayName></Owner>");
	return b->err;
}

static int
op_bucket_info(struct emu_oss_ctx *c, int what)
{
	char date[40];
	struct buf d;
	int rc;

	buf_init(&d, BUF_MAX_DOC);
	buf_addstr(&d, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	if (what == 0) {
		emu_oss_fmt_iso_ms(emu_oss_store_bucket_ctime(c->store,
		    c->t.bucket), date);
		buf_printf(&d, "<BucketInfo><Bucket><CreationDate>%s</CreationDate>"
		    "<ExtranetEndpoint>%s.aliyuncs.com</ExtranetEndpoint>"
		    "<IntranetEndpoint>%s-internal.aliyuncs.com</IntranetEndpoint>"
		    "<Location>%s</Location><StorageClass>Standard</StorageClass>"
		    "<Name>", date, REGION, REGION, REGION);
		emu_oss_xml_esc(&d, c->t.bucket);
		buf_addstr(&d, "</Name>");
		owner_xml(c, &d);
		buf_addstr(&d, "<AccessControlList><Grant>private</Grant>"
		    "</AccessControlList></Bucket></BucketInfo>\n");
	} else if (what == 1) {
		buf_printf(&d, "<LocationConstraint>%s</LocationConstraint>\n", REGION);
	} else {
		buf_addstr(&d, "<AccessControlPolicy>");
		owner_xml(c, &d);
		buf_addstr(&d, "<AccessControlList><Grant>private</Grant>"
		    "</AccessControlList></AccessControlPolicy>\n");
	}
	rc = emu_oss_xml_reply(c, &d);
	buf_free(&d);
	return rc;
}

static int
op_list_buckets(struct emu_oss_ctx *c)
{
	char **names = NULL, date[40];
	size_t n = 0, i;
	struct buf d;
	int rc;

	buf_init(&d, BUF_MAX_DOC);
	if ((rc = emu_oss_store_buckets(c->store, &names, &n)) != 0)
		goto out;
	buf_addstr(&d, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<ListAllMyBucketsResult>");
	owner_xml(c, &d);
	buf_addstr(&d, "<Buckets>");
	for (i = 0; i < n; i++) {
		emu_oss_fmt_iso_ms(emu_oss_store_bucket_ctime(c->store, names[i]),
		    date);
		buf_printf(&d, "<Bucket><CreationDate>%s</CreationDate>"
		    "<ExtranetEndpoint>%s.aliyuncs.com</ExtranetEndpoint>"
		    "<IntranetEndpoint>%s-internal.aliyuncs.com</IntranetEndpoint>"
		    "<Location>%s</Location><Name>%s</Name><Region>%s</Region>"
		    "<StorageClass>Standard</StorageClass></Bucket>", date, REGION,
		    REGION, REGION, names[i], REGION_ID);
	}
	buf_addstr(&d, "</Buckets></ListAllMyBucketsResult>\n");
	rc = emu_oss_xml_reply(c, &d);
out:
	emu_oss_xml_strv_free(names, n);
	buf_free(&d);
	return rc;
}

static int
op_delete_bucket(struct emu_oss_ctx *c)
{
	int rc = emu_oss_store_bucket_delete(c->store, c->t.bucket);

	if (rc == -ENOTEMPTY)
		return err_with(c, 409, "BucketNotEmpty",
		    "The bucket you tried to delete is not empty.", "BucketName",
		    c->t.bucket, NULL);
	if (rc == -ENOENT)
		return err_with(c, 404, "NoSuchBucket",
		    "The specified bucket does not exist.", "BucketName",
		    c->t.bucket, NULL);
	if (rc != 0)
		return emu_oss_error_errno(c, rc);
	c->resp->status = 204;
	return 0;
}

/* ---- dispatch ----------------------------------------------------------------------- */

enum oss_op {
	OP_UNKNOWN = 0,
	OP_LIST_BUCKETS, OP_PUT_BUCKET, OP_DELETE_BUCKET, OP_BUCKET_INFO,
	OP_BUCKET_LOCATION, OP_BUCKET_ACL, OP_LIST_OBJECTS, OP_LIST_OBJECTS_V2,
	OP_LIST_UPLOADS, OP_DELETE_MULTI, OP_PUT_OBJECT, OP_GET_OBJECT,
	OP_HEAD_OBJECT, OP_OBJECT_META, OP_DELETE_OBJECT, OP_APPEND,
	OP_INITIATE, OP_UPLOAD_PART, OP_UPLOAD_PART_COPY, OP_COMPLETE, OP_ABORT,
	OP_LIST_PARTS,
};

static const char *const op_names[] = {
	[OP_UNKNOWN] = NULL,
	[OP_LIST_BUCKETS] = "ListBuckets",
	[OP_PUT_BUCKET] = "PutBucket",
	[OP_DELETE_BUCKET] = "DeleteBucket",
	[OP_BUCKET_INFO] = "GetBucketInfo",
	[OP_BUCKET_LOCATION] = "GetBucketLocation",
	[OP_BUCKET_ACL] = "GetBucketAcl",
	[OP_LIST_OBJECTS] = "ListObjects",
	[OP_LIST_OBJECTS_V2] = "ListObjectsV2",
	[OP_LIST_UPLOADS] = "ListMultipartUploads",
	[OP_DELETE_MULTI] = "DeleteMultipleObjects",
	[OP_PUT_OBJECT] = "PutObject",
	[OP_GET_OBJECT] = "GetObject",
	[OP_HEAD_OBJECT] = "HeadObject",
	[OP_OBJECT_META] = "GetObjectMeta",
	[OP_DELETE_OBJECT] = "DeleteObject",
	[OP_APPEND] = "AppendObject",
	[OP_INITIATE] = "InitiateMultipartUpload",
	[OP_UPLOAD_PART] = "UploadPart",
	[OP_UPLOAD_PART_COPY] = "UploadPartCopy",
	[OP_COMPLETE] = "CompleteMultipartUpload",
	[OP_ABORT] = "AbortMultipartUpload",
	[OP_LIST_PARTS] = "ListParts",
};

static enum oss_op
classify(const char *m, const struct emu_oss_target *t,
    const struct emu_oss_query *q, const struct emu_req *req)
{
	int get = strcmp(m, "GET") == 0, put = strcmp(m, "PUT") == 0;
	int post = strcmp(m, "POST") == 0, del = strcmp(m, "DELETE") == 0;
	int head = strcmp(m, "HEAD") == 0;

	if (t->bucket == NULL)
		return get ? OP_LIST_BUCKETS : OP_UNKNOWN;
	if (t->key == NULL) {
		if (put)
			return emu_oss_query_has(q, "acl") ? OP_UNKNOWN : OP_PUT_BUCKET;
		if (del)
			return OP_DELETE_BUCKET;
		if (post)
			return emu_oss_query_has(q, "delete") ? OP_DELETE_MULTI :
			    OP_UNKNOWN;
		if (!get && !head)
			return OP_UNKNOWN;
		if (emu_oss_query_has(q, "bucketInfo"))
			return OP_BUCKET_INFO;
		if (emu_oss_query_has(q, "location"))
			return OP_BUCKET_LOCATION;
		if (emu_oss_query_has(q, "acl"))
			return OP_BUCKET_ACL;
		if (emu_oss_query_has(q, "uploads"))
			return OP_LIST_UPLOADS;
		if (emu_oss_query_get(q, "list-type") != NULL &&
		    strcmp(emu_oss_query_get(q, "list-type"), "2") == 0)
			return OP_LIST_OBJECTS_V2;
		return OP_LIST_OBJECTS;
	}
	if (put) {
		if (emu_oss_query_has(q, "partNumber") ||
		    emu_oss_query_has(q, "uploadId"))
			return emu_req_header(req, "x-oss-copy-source") != NULL ?
			    OP_UPLOAD_PART_COPY : OP_UPLOAD_PART;
		return OP_PUT_OBJECT;
	}
	if (get)
		return emu_oss_query_has(q, "uploadId") ? OP_LIST_PARTS :
		    emu_oss_query_has(q, "objectMeta") ? OP_OBJECT_META :
		    OP_GET_OBJECT;
	if (head)
		return OP_HEAD_OBJECT;
	if (post) {
		if (emu_oss_query_has(q, "append"))
			return OP_APPEND;
		if (emu_oss_query_has(q, "uploads"))
			return OP_INITIATE;
		if (emu_oss_query_has(q, "uploadId"))
			return OP_COMPLETE;
		return OP_UNKNOWN;
	}
	if (del)
		return emu_oss_query_has(q, "uploadId") ? OP_ABORT : OP_DELETE_OBJECT;
	return OP_UNKNOWN;
}

static int
run_op(struct emu_oss_ctx *c, enum oss_op op)
{
	switch (op) {
	case OP_LIST_BUCKETS:
		return op_list_buckets(c);
	case OP_PUT_BUCKET:
		c->resp->status = 200;
		return 0;	/* created (or already ours) by the caller */
	case OP_DELETE_BUCKET:
		return op_delete_bucket(c);
	case OP_BUCKET_INFO:
		return op_bucket_info(c, 0);
	case OP_BUCKET_LOCATION:
		return op_bucket_info(c, 1);
	case OP_BUCKET_ACL:
		return op_bucket_info(c, 2);
	case OP_LIST_OBJECTS:
		return emu_oss_list_objects(c, 0);
	case OP_LIST_OBJECTS_V2:
		return emu_oss_list_objects(c, 1);
	case OP_LIST_UPLOADS:
		return emu_oss_mp_list_uploads(c);
	case OP_DELETE_MULTI:
		return op_delete_multi(c);
	case OP_PUT_OBJECT:
		return op_put(c);
	case OP_GET_OBJECT:
		return op_get(c, 0);
	case OP_HEAD_OBJECT:
	case OP_OBJECT_META:
		return op_get(c, 1);
	case OP_DELETE_OBJECT:
		return op_delete(c);
	case OP_APPEND:
		return op_append(c);
	case OP_INITIATE:
		return emu_oss_mp_initiate(c);
	case OP_UPLOAD_PART:
		return emu_oss_mp_upload_part(c);
	case OP_COMPLETE:
		return emu_oss_mp_complete(c);
	case OP_ABORT:
		return emu_oss_mp_abort(c);
	case OP_LIST_PARTS:
		return emu_oss_mp_list_parts(c);
	case OP_UPLOAD_PART_COPY:
		return emu_oss_error(c, 501, "NotImplemented",
		    "UploadPartCopy is not implemented by difs-emu.", NULL);
	case OP_UNKNOWN:
		break;
	}
	return emu_oss_error(c, 501, "NotImplemented",
	    "This operation is not implemented by difs-emu.", NULL);
}

static void
ctx_free(struct emu_oss_ctx *c)
{
	emu_oss_query_free(&c->q);
	emu_oss_target_free(&c->t);
}

static int
ctx_init(struct emu_oss *o, const struct emu_req *req, struct emu_resp *resp,
    struct emu_oss_ctx *c)
{
	uint64_t n = atomic_fetch_add(&o->seq, 1);

	memset(c, 0, sizeof(*c));
	c->svc = o;
	c->store = o->store;
	c->owner = o->access_id;
	c->req = req;
	c->resp = resp;
	c->head = strcmp(req->method, "HEAD") == 0;
	snprintf(c->reqid, sizeof(c->reqid), "%08X%016llX", (unsigned)o->boot,
	    (unsigned long long)n);
	if (emu_resp_header(resp, "Server", "AliyunOSS") != 0 ||
	    emu_resp_header(resp, "x-oss-request-id", c->reqid) != 0 ||
	    emu_resp_header(resp, "x-oss-server-time", "0") != 0)
		return -ENOMEM;
	return 0;
}

/* parse query and target; 1 = error reply sent */
static int
ctx_parse(struct emu_oss_ctx *c)
{
	int rc;

	rc = emu_oss_query_parse(c->req->query, &c->q);
	if (rc == -EINVAL)
		goto bad;
	if (rc != 0)
		return rc;
	rc = emu_oss_target_parse(c->req->host, c->req->path, &c->t);
	if (rc == -EINVAL)
		goto bad;
	return rc;
bad:
	rc = emu_oss_error(c, 400, "InvalidArgument",
	    "The request URI contains an invalid percent-encoding.", NULL);
	return rc != 0 ? rc : 1;
}

/*
 * ali-oss with an IP endpoint and sldEnable sends the bucket twice: in the
 * Host ("b.oss-cn-hangzhou.aliyuncs.com") and as the first path segment,
 * and signs "/b/key".  When a virtual-host request whose key starts with
 * "b/" fails only its signature, the path-style reading is tried; it is
 * taken when that signature holds (the client meant it).  1 = authentic
 * (c->t switched), 0 = refused as before, -errno.
 */
static int
try_bucket_in_both(struct emu_oss_ctx *c, struct emu_oss_authreq *a,
    struct emu_oss_authfail *f)
{
	struct emu_oss_authfail f2;
	size_t bl;
	char *key2;
	int rc;

	if (!c->t.vhost || c->t.key == NULL || f->code == NULL ||
	    strcmp(f->code, "SignatureDoesNotMatch") != 0)
		return 0;
	bl = strlen(c->t.bucket);
	if (strncmp(c->t.key, c->t.bucket, bl) != 0 || c->t.key[bl] != '/' ||
	    c->t.key[bl + 1] == '\0')
		return 0;
	if ((key2 = strdup(c->t.key + bl + 1)) == NULL)
		return -ENOMEM;
	emu_oss_authfail_init(&f2);
	a->key = key2;
	rc = emu_oss_auth_check(a, &f2);
	emu_oss_authfail_free(&f2);
	if (rc == 1) {
		free(c->t.key);
		c->t.key = key2;
		return 1;
	}
	a->key = c->t.key;
	free(key2);
	return rc < 0 ? rc : 0;
}

static int
emu_oss_handle(void *svc, const struct emu_req *req, struct emu_resp *resp)
{
	struct emu_oss *o = svc;
	struct emu_oss_authfail f;
	struct emu_oss_authreq a;
	struct emu_oss_ctx c;
	enum oss_op op;
	int rc;

	emu_oss_authfail_init(&f);
	if ((rc = ctx_init(o, req, resp, &c)) != 0)
		goto out;
	if ((rc = ctx_parse(&c)) != 0) {
		rc = rc > 0 ? 0 : rc;
		goto out;
	}
	if (c.t.bucket != NULL && !emu_oss_bucket_valid(c.t.bucket)) {
		rc = err_with(&c, 400, "InvalidBucketName",
		    "The specified bucket is not valid.", "BucketName",
		    c.t.bucket, NULL);
		goto out;
	}
	memset(&a, 0, sizeof(a));
	a.req = req;
	a.q = &c.q;
	a.bucket = c.t.bucket;
	a.key = c.t.key;
	a.access_id = o->access_id;
	a.access_secret = o->access_secret;
	a.now = time(NULL);
	a.skew = o->skew;
	if ((rc = emu_oss_auth_check(&a, &f)) < 0)
		goto out;
	if (rc == 0 && (rc = try_bucket_in_both(&c, &a, &f)) < 0)
		goto out;
	if (rc == 0) {
		struct buf x;

		buf_init(&x, BUF_MAX_DOC);
		if (f.access_id[0] != '\0')
			extra_elem(&x, "OSSAccessKeyId", f.access_id);
		if (f.provided[0] != '\0')
			extra_elem(&x, "SignatureProvided", f.provided);
		if (f.string_to_sign.len > 0) {
			size_t i;

			extra_elem(&x, "StringToSign", f.string_to_sign.p);
			buf_addstr(&x, "  <StringToSignBytes>");
			for (i = 0; i < f.string_to_sign.len; i++)
				buf_printf(&x, "%s%02X", i > 0 ? " " : "",
				    (unsigned char)f.string_to_sign.p[i]);
			buf_addstr(&x, "</StringToSignBytes>\n");
		}
		rc = x.err != 0 ? x.err :
		    emu_oss_error_ec(&c, f.status, f.code, f.message, x.p, f.ec);
		buf_free(&x);
		goto out;
	}
	if (c.t.key != NULL && (strlen(c.t.key) > EMU_OSS_MAX_KEY ||
	    c.t.key[0] == '/' || c.t.key[0] == '\\')) {
		rc = emu_oss_error(&c, 400, "InvalidObjectName",
		    strlen(c.t.key) > EMU_OSS_MAX_KEY ?
		    "The Length of Object name must be less than 1024" :
		    "The specified object is not valid.", NULL);
		goto out;
	}
	op = classify(req->method, &c.t, &c.q, req);
	if (c.t.bucket != NULL &&
	    !emu_oss_store_bucket_exists(o->store, c.t.bucket)) {
		if (o->strict && op != OP_PUT_BUCKET) {
			rc = err_with(&c, 404, "NoSuchBucket",
			    "The specified bucket does not exist.", "BucketName",
			    c.t.bucket, NULL);
			goto out;
		}
		if ((rc = emu_oss_store_bucket_create(o->store, c.t.bucket)) != 0) {
			rc = emu_oss_error_errno(&c, rc);
			goto out;
		}
	}
	rc = run_op(&c, op);
out:
	emu_oss_authfail_free(&f);
	ctx_free(&c);
	return rc;
}

static const char *
emu_oss_op_name(void *svc, const struct emu_req *req, char *buf, size_t len)
{
	struct emu_oss_query q;
	struct emu_oss_target t;
	const char *name = NULL;

	(void)svc;
	memset(&t, 0, sizeof(t));
	if (emu_oss_query_parse(req->query, &q) == 0 &&
	    emu_oss_target_parse(req->host, req->path, &t) == 0)
		name = op_names[classify(req->method, &t, &q, req)];
	emu_oss_query_free(&q);
	emu_oss_target_free(&t);
	if (name == NULL || (size_t)snprintf(buf, len, "%s", name) >= len)
		return NULL;
	return buf;
}

static int
emu_oss_fault(void *svc, const struct emu_req *req, const char *code,
    int status, struct emu_resp *resp)
{
	struct emu_oss_ctx c;
	const char *msg;
	int rc;

	if ((rc = ctx_init(svc, req, resp, &c)) != 0)
		return rc;
	if (code == NULL || *code == '\0')
		code = status == 503 ? "ServiceUnavailable" : "InternalError";
	if (strcmp(code, "SlowDown") == 0)
		msg = "Please reduce your request rate.";
	else if (strcmp(code, "ServiceUnavailable") == 0)
		msg = "Service is temporarily unavailable, please try again later.";
	else if (strcmp(code, "InternalError") == 0)
		msg = "We encountered an internal error. Please try again.";
	else
		msg = "Injected fault (difs-emu).";
	rc = emu_oss_error(&c, status, code, msg, NULL);
	ctx_free(&c);
	return rc;
}

static int
emu_oss_admin(void *svc, const char *cmd, struct emu_resp *resp)
{
	struct emu_oss *o = svc;
	int rc;

	if (strncmp(cmd, "bucket ", 7) == 0) {
		if (!emu_oss_bucket_valid(cmd + 7)) {
			resp->status = 400;
			(void)buf_printf(&resp->body, "invalid bucket name\n");
			return -EINVAL;
		}
		if ((rc = emu_oss_store_bucket_create(o->store, cmd + 7)) != 0)
			return rc;
		return buf_addstr(&resp->body, "ok\n");
	}
	resp->status = 400;
	(void)buf_printf(&resp->body, "oss admin commands: bucket NAME\n");
	return -EINVAL;
}

static void
emu_oss_destroy(void *svc)
{
	struct emu_oss *o = svc;

	if (o == NULL)
		return;
	emu_oss_store_close(o->store);
	if (o->access_secret != NULL)
		explicit_bzero(o->access_secret, strlen(o->access_secret));
	free(o->access_secret);
	free(o->access_id);
	free(o);
}

static int
emu_oss_create(const struct emu_config *cfg, void **out)
{
	struct emu_oss *o;
	size_t i;
	int rc = -ENOMEM;

	*out = NULL;
	if (cfg->data_dir == NULL || cfg->access_id == NULL ||
	    cfg->access_secret == NULL)
		return -EINVAL;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return -ENOMEM;
	if ((o->access_id = strdup(cfg->access_id)) == NULL ||
	    (o->access_secret = strdup(cfg->access_secret)) == NULL)
		goto out;
	o->skew = cfg->skew_seconds > 0 ? cfg->skew_seconds : 900;
	o->boot = (uint32_t)time(NULL);
	if ((rc = emu_oss_store_open(cfg->data_dir, !cfg->nosync, &o->store)) != 0)
		goto out;
	for (i = 0; i < cfg->nbuckets; i++) {
		if (!emu_oss_bucket_valid(cfg->buckets[i])) {
			rc = -EINVAL;
			goto out;
		}
		if ((rc = emu_oss_store_bucket_create(o->store,
		    cfg->buckets[i])) != 0)
			goto out;
	}
	o->strict = cfg->nbuckets > 0;
	*out = o;
	o = NULL;
	rc = 0;
out:
	emu_oss_destroy(o);
	return rc;
}

const struct emu_service_ops emu_oss_service = {
	.name		= "oss",
	.create		= emu_oss_create,
	.handle		= emu_oss_handle,
	.admin		= emu_oss_admin,
	.destroy	= emu_oss_destroy,
	.op_name	= emu_oss_op_name,
	.fault		= emu_oss_fault,
};
