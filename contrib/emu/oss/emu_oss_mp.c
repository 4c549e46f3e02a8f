/* SPDX-License-Identifier: MIT */
/*
 * emu_oss_mp.c - multipart uploads and listings of difs-emu's OSS side:
 * InitiateMultipartUpload, UploadPart, CompleteMultipartUpload (with the
 * rules OSS applies at Complete: ascending part numbers, matching ETags,
 * 100 KiB minimum for all but the last part), AbortMultipartUpload,
 * ListParts, ListMultipartUploads, ListObjects (v1) and ListObjectsV2.
 *
 * The object being replaced stays readable until Complete publishes the new
 * one (the parts are concatenated into a temp file first).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "crc64.h"
#include "num.h"
#include "sys.h"
#include "emu_oss_i.h"

static const char xml_head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

static int
want_url(const struct emu_oss_ctx *c)
{
	const char *e = emu_oss_query_get(&c->q, "encoding-type");

	return e != NULL && strcmp(e, "url") == 0;
}

static int
no_such_upload(struct emu_oss_ctx *c, const char *id)
{
	struct buf x;
	int rc;

	buf_init(&x, BUF_MAX_SMALL);
	buf_addstr(&x, "  <UploadId>");
	emu_oss_xml_esc(&x, id != NULL ? id : "");
	buf_addstr(&x, "</UploadId>\n");
	rc = x.err != 0 ? x.err : emu_oss_error(c, 404, "NoSuchUpload",
	    "The specified upload does not exist. The upload ID may be invalid, "
	    "or the upload may have been aborted or completed.", x.p);
	buf_free(&x);
	return rc;
}

static int
add_u64_hdr(struct emu_resp *r, const char *name, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
	return emu_resp_header(r, name, s);
}

static int
add_etag_hdr(struct emu_resp *r, const char *etag)
{
	char s[64];

	snprintf(s, sizeof(s), "\"%s\"", etag);
	return emu_resp_header(r, "ETag", s);
}

static int
forbid_set(const struct emu_oss_ctx *c)
{
	const char *v = emu_req_header(c->req, "x-oss-forbid-overwrite");

	return v != NULL && strcasecmp(v, "true") == 0;
}

static int
key_exists(struct emu_oss_ctx *c)
{
	struct emu_oss_meta m;

	memset(&m, 0, sizeof(m));
	if (emu_oss_store_get(c->store, c->t.bucket, c->t.key, &m, NULL) != 0)
		return 0;
	emu_oss_meta_clear(&m);
	return 1;
}

static int
file_exists_error(struct emu_oss_ctx *c)
{
	return emu_oss_error_ec(c, 409, "FileAlreadyExists",
	    "The object you specified already exists and can not be overwritten.",
	    NULL, "0026-00000002");
}

int
emu_oss_mp_initiate(struct emu_oss_ctx *c)
{
	const char *ct = emu_req_header(c->req, "Content-Type");
	char *id = NULL, *umeta = NULL;
	int enc = want_url(c), rc;
	struct buf d;

	buf_init(&d, BUF_MAX_DOC);
	if (forbid_set(c) && key_exists(c)) {
		rc = file_exists_error(c);
		goto out;
	}
	if ((rc = emu_oss_collect_umeta(c->req, &umeta)) != 0)
		goto out;
	rc = emu_oss_store_mp_init(c->store, c->t.bucket, c->t.key,
	    ct != NULL && *ct != '\0' ? ct : "application/octet-stream", umeta,
	    &id);
	if (rc != 0) {
		rc = emu_oss_error_errno(c, rc);
		goto out;
	}
	buf_addstr(&d, xml_head);
	buf_addstr(&d, "<InitiateMultipartUploadResult>\n");
	if (enc)
		buf_addstr(&d, "  <EncodingType>url</EncodingType>\n");
	emu_oss_xml_key(&d, "Bucket", c->t.bucket, 0);
	emu_oss_xml_key(&d, "Key", c->t.key, enc);
	buf_printf(&d, "<UploadId>%s</UploadId>\n</InitiateMultipartUploadResult>\n",
	    id);
	rc = emu_oss_xml_reply(c, &d);
out:
	free(id);
	free(umeta);
	buf_free(&d);
	return rc;
}

static int
part_number(struct emu_oss_ctx *c, uint32_t *out)
{
	const char *v = emu_oss_query_get(&c->q, "partNumber");
	uint64_t n = 0;
	struct buf x;
	int rc;

	if (v != NULL && num_u64(v, (size_t)-1, UINT64_MAX, &n) == 0 && n >= 1 &&
	    n <= EMU_OSS_MAX_PARTNO) {
		*out = (uint32_t)n;
		return 0;
	}
	buf_init(&x, BUF_MAX_SMALL);
	buf_addstr(&x, "  <ArgumentName>partNumber</ArgumentName>\n  <ArgumentValue>");
	emu_oss_xml_esc(&x, v != NULL ? v : "");
	buf_addstr(&x, "</ArgumentValue>\n");
	rc = x.err != 0 ? x.err : emu_oss_error(c, 400, "InvalidArgument",
	    "Part number must be an integer between 1 and 10000, inclusive.", x.p);
	buf_free(&x);
	return rc != 0 ? rc : 1;
}

int
emu_oss_mp_upload_part(struct emu_oss_ctx *c)
{
	const char *id = emu_oss_query_get(&c->q, "uploadId");
	struct emu_oss_tmp tmp = { .fd = -1 };
	struct emu_oss_upload u;
	struct emu_oss_part p;
	struct buf b64;
	int rc;

	memset(&u, 0, sizeof(u));
	memset(&p, 0, sizeof(p));
	buf_init(&b64, BUF_MAX_SMALL);
	if ((rc = part_number(c, &p.number)) != 0) {
		rc = rc > 0 ? 0 : rc;
		goto out;
	}
	if (id == NULL || emu_oss_store_mp_get(c->store, c->t.bucket, c->t.key,
	    id, &u) != 0) {
		rc = no_such_upload(c, id);
		goto out;
	}
	if ((rc = emu_oss_check_md5(c, c->req->body, c->req->body_len, 0,
	    p.md5)) != 0) {
		rc = rc > 0 ? 0 : rc;
		goto out;
	}
	p.size = c->req->body_len;
	emu_oss_hex(p.md5, 16, p.etag, 1);
	p.crc64 = crc64_compute(c->req->body, c->req->body_len);
	p.mtime = time(NULL);
	if ((rc = emu_oss_store_tmp_open(c->store, &tmp)) != 0 ||
	    (rc = sys_write_all(tmp.fd, c->req->body, c->req->body_len)) != 0) {
		emu_oss_tmp_discard(&tmp);
		rc = emu_oss_error_errno(c, rc);
		goto out;
	}
	rc = emu_oss_store_mp_part(c->store, c->t.bucket, c->t.key, id, &tmp, &p);
	if (rc == -ENOENT) {		/* aborted meanwhile */
		rc = no_such_upload(c, id);
		goto out;
	}
	if (rc != 0) {
		rc = emu_oss_error_errno(c, rc);
		goto out;
	}
	if ((rc = add_etag_hdr(c->resp, p.etag)) == 0 &&
	    (rc = add_u64_hdr(c->resp, "x-oss-hash-crc64ecma", p.crc64)) == 0 &&
	    (rc = emu_oss_b64(&b64, p.md5, 16)) == 0)
		rc = emu_resp_header(c->resp, "Content-MD5", b64.p);
out:
	emu_oss_upload_clear(&u);
	buf_free(&b64);
	return rc;
}

/* parts are kept sorted by number: binary search */
static const struct emu_oss_part *
find_part(const struct emu_oss_upload *u, uint32_t n)
{
	size_t lo = 0, hi = u->nparts;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u->parts[mid].number == n)
			return &u->parts[mid];
		if (u->parts[mid].number < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* append part n's data to fd */
static int
copy_part(struct emu_oss_ctx *c, const char *id, uint32_t n, int out)
{
	char tmp[1 << 16];
	int in, rc = 0;

	if ((rc = emu_oss_store_mp_open_part(c->store, c->t.bucket, id, n, &in)) != 0)
		return rc;
	/* in-kernel copy (reflinks where the file system has them) */
	for (;;) {
		ssize_t r = copy_file_range(in, NULL, out, NULL, (size_t)1 << 30, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EXDEV || errno == ENOSYS ||
		    errno == EINVAL || errno == EOPNOTSUPP))
			break;		/* fall back to read/write below */
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		if (r == 0)
			goto out;
	}
	for (;;) {
		ssize_t r = read(in, tmp, sizeof(tmp));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		if ((rc = sys_write_all(out, tmp, (size_t)r)) != 0)
			break;
	}
out:
	close(in);
	return rc;
}

static int
invalid_part(struct emu_oss_ctx *c, const struct emu_oss_cpart *p)
{
	struct buf x;
	int rc;

	buf_init(&x, BUF_MAX_SMALL);
	buf_printf(&x, "  <PartNumber>%u</PartNumber>\n  <ETag>", p->number);
	emu_oss_xml_esc(&x, p->etag);
	buf_addstr(&x, "</ETag>\n");
	rc = x.err != 0 ? x.err : emu_oss_error(c, 400, "InvalidPart",
	    "One or more of the specified parts could not be found or the "
	    "specified entity tag might not have matched the part's entity tag.",
	    x.p);
	buf_free(&x);
	return rc;
}

/*
 * Check the list against the stored parts.  On success *sel gets the parts
 * to concatenate, in order.  1 = error reply sent.
 */
static int
check_parts(struct emu_oss_ctx *c, const struct emu_oss_upload *u,
    const struct emu_oss_cpart *cp, size_t n, const struct emu_oss_part ***sel)
{
	const struct emu_oss_part **v = NULL;
	size_t i;
	int rc;

	*sel = NULL;
	if (n > 0 && (v = calloc(n, sizeof(*v))) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (i > 0 && cp[i].number <= cp[i - 1].number) {
			rc = emu_oss_error(c, 400, "InvalidPartOrder",
			    "The list of parts was not in ascending order. Parts "
			    "list must specified in order by part number.", NULL);
			goto fail;
		}
		if ((v[i] = find_part(u, cp[i].number)) == NULL ||
		    strcasecmp(v[i]->etag, cp[i].etag) != 0) {
			rc = invalid_part(c, &cp[i]);
			goto fail;
		}
	}
	for (i = 0; i + 1 < n; i++) {
		if (v[i]->size < EMU_OSS_MIN_PART) {
			struct buf x;

			buf_init(&x, BUF_MAX_SMALL);
			buf_printf(&x, "  <MinSizeAllowed>%llu</MinSizeAllowed>\n"
			    "  <ProposedSize>%llu</ProposedSize>\n"
			    "  <PartNumber>%u</PartNumber>\n",
			    (unsigned long long)EMU_OSS_MIN_PART,
			    (unsigned long long)v[i]->size, v[i]->number);
			rc = x.err != 0 ? x.err : emu_oss_error_ec(c, 400,
			    "EntityTooSmall", "Your proposed upload is smaller than "
			    "the minimum allowed size.", x.p, "0042-00000213");
			buf_free(&x);
			goto fail;
		}
	}
	*sel = v;
	return 0;
fail:
	free(v);
	return rc != 0 ? rc : 1;
}

int
emu_oss_mp_complete(struct emu_oss_ctx *c)
{
	const char *id = emu_oss_query_get(&c->q, "uploadId");
	const char *all = emu_req_header(c->req, "x-oss-complete-all");
	const struct emu_oss_part **sel = NULL;
	struct emu_oss_tmp tmp = { .fd = -1 };
	struct emu_oss_cpart *cp = NULL;
	struct emu_oss_upload u;
	struct emu_oss_meta m;
	struct buf d, md5s;
	size_t ncp = 0, i;
	uint8_t md5[16];
	int enc = want_url(c), rc;

	memset(&u, 0, sizeof(u));
	memset(&m, 0, sizeof(m));
	buf_init(&d, BUF_MAX_DOC);
	buf_init(&md5s, BUF_MAX_DOC);
	if (id == NULL || emu_oss_store_mp_get(c->store, c->t.bucket, c->t.key,
	    id, &u) != 0) {
		rc = no_such_upload(c, id);
		goto out;
	}
	if ((rc = emu_oss_check_md5(c, c->req->body, c->req->body_len, 0, md5)) != 0) {
		rc = rc > 0 ? 0 : rc;
		goto out;
	}
	if (all != NULL && strcasecmp(all, "yes") == 0) {
		rc = -ENOMEM;
		if (u.nparts > 0 && (cp = calloc(u.nparts, sizeof(*cp))) == NULL)
			goto out;
		for (i = 0; i < u.nparts; i++) {
			cp[i].number = u.parts[i].number;
			if ((cp[i].etag = strdup(u.parts[i].etag)) == NULL) {
				ncp = i;
				goto out;
			}
		}
		ncp = u.nparts;
	} else {
		rc = emu_oss_xml_complete(c->req->body, c->req->body_len, &cp, &ncp);
		if (rc == -EBADMSG) {
			rc = emu_oss_error(c, 400, "MalformedXML",
			    "The XML you provided was not well-formed or did not "
			    "validate against our published schema.", NULL);
			goto out;
		}
		if (rc != 0)
			goto out;
	}
	if ((rc = check_parts(c, &u, cp, ncp, &sel)) != 0) {
		rc = rc > 0 ? 0 : rc;
		goto out;
	}
	if (forbid_set(c) && key_exists(c)) {
		rc = file_exists_error(c);
		goto out;
	}
	/* concatenate into a temp file; the old object stays until the commit */
	if ((rc = emu_oss_store_tmp_open(c->store, &tmp)) != 0) {
		rc = emu_oss_error_errno(c, rc);
		goto out;
	}
	for (i = 0; i < ncp; i++) {
		if ((rc = copy_part(c, id, sel[i]->number, tmp.fd)) != 0) {
			emu_oss_tmp_discard(&tmp);
			rc = rc == -ENOENT ? no_such_upload(c, id) :
			    emu_oss_error_errno(c, rc);
			goto out;
		}
		m.crc64 = i == 0 ? sel[i]->crc64 :
		    crc64_combine(m.crc64, sel[i]->crc64, sel[i]->size);
		m.size += sel[i]->size;
		buf_add(&md5s, sel[i]->md5, 16);
	}
	if ((rc = md5s.err) != 0) {
		emu_oss_tmp_discard(&tmp);
		goto out;
	}
	/* multipart ETag: MD5 of the concatenated binary part MD5s, "-N" */
	emu_oss_md5(md5s.p, md5s.len, md5);
	emu_oss_hex(md5, 16, m.etag, 1);
	snprintf(m.etag + 32, sizeof(m.etag) - 32, "-%zu", ncp);
	m.key = c->t.key;
	m.type = EMU_OSS_MULTIPART;
	m.ctype = u.ctype;
	m.umeta = u.umeta;
	rc = emu_oss_store_commit(c->store, c->t.bucket, &tmp, &m, forbid_set(c));
	m.key = m.ctype = m.umeta = NULL;
	if (rc == -EEXIST) {
		rc = file_exists_error(c);
		goto out;
	}
	if (rc != 0) {
		rc = emu_oss_error_errno(c, rc);
		goto out;
	}
	(void)emu_oss_store_mp_remove(c->store, c->t.bucket, c->t.key, id);
	buf_addstr(&d, xml_head);
	buf_addstr(&d, "<CompleteMultipartUploadResult>\n");
	if (enc)
		buf_addstr(&d, "  <EncodingType>url</EncodingType>\n");
	buf_printf(&d, "  <Location>http://%s.%s.aliyuncs.com/", c->t.bucket,
	    "oss-cn-hangzhou");
	emu_oss_pct_encode(&d, c->t.key, strlen(c->t.key), 1);
	buf_addstr(&d, "</Location>\n  ");
	emu_oss_xml_key(&d, "Bucket", c->t.bucket, 0);
	buf_addstr(&d, "\n  ");
	emu_oss_xml_key(&d, "Key", c->t.key, enc);
	buf_printf(&d, "\n  <ETag>&quot;%s&quot;</ETag>\n"
	    "</CompleteMultipartUploadResult>\n", m.etag);
	if ((rc = add_u64_hdr(c->resp, "x-oss-hash-crc64ecma", m.crc64)) == 0 &&
	    (rc = add_etag_hdr(c->resp, m.etag)) == 0)
		rc = emu_oss_xml_reply(c, &d);
out:
	free(sel);
	emu_oss_xml_complete_free(cp, ncp);
	emu_oss_upload_clear(&u);
	buf_free(&d);
	buf_free(&md5s);
	return rc;
}

int
emu_oss_mp_abort(struct emu_oss_ctx *c)
{
	const char *id = emu_oss_query_get(&c->q, "uploadId");
	int rc;

	if (id == NULL)
		return no_such_upload(c, id);
	rc = emu_oss_store_mp_remove(c->store, c->t.bucket, c->t.key, id);
	if (rc == -ENOENT)
		return no_such_upload(c, id);
	if (rc != 0)
		return emu_oss_error_errno(c, rc);
	c->resp->status = 204;
	return 0;
}

static int
bounded_param(struct emu_oss_ctx *c, const char *name, uint64_t def,
    uint64_t *out)
{
	const char *v = emu_oss_query_get(&c->q, name);
	struct buf x;
	int rc;

	*out = def;
	if (v == NULL || *v == '\0')
		return 0;
	if (num_u64(v, (size_t)-1, UINT64_MAX, out) == 0 &&
	    *out <= EMU_OSS_MAX_LIST)
		return 0;
	buf_init(&x, BUF_MAX_SMALL);
	buf_printf(&x, "  <ArgumentName>%s</ArgumentName>\n  <ArgumentValue>", name);
	emu_oss_xml_esc(&x, v);
	buf_addstr(&x, "</ArgumentValue>\n");
	rc = x.err != 0 ? x.err : emu_oss_error(c, 400, "InvalidArgument",
	    "Argument must be an integer between 0 and 1000.", x.p);
	buf_free(&x);
	return rc != 0 ? rc : 1;
}

int
emu_oss_mp_list_parts(struct emu_oss_ctx *c)
{
	const char *id = emu_oss_query_get(&c->q, "uploadId");
	const char *mk = emu_oss_query_get(&c->q, "part-number-marker");
	struct emu_oss_upload u;
	uint64_t max, marker = 0;
	uint32_t last = 0;
	size_t i, n = 0;
	char date[40];
	int enc = want_url(c), trunc = 0, rc;
	struct buf d, parts;

	memset(&u, 0, sizeof(u));
	buf_init(&d, BUF_MAX_DOC);
	buf_init(&parts, BUF_MAX_DOC);
	if ((rc = bounded_param(c, "max-parts", EMU_OSS_MAX_LIST, &max)) != 0) {
		rc = rc > 0 ? 0 : rc;
		goto out;
	}
	if (mk != NULL && *mk != '\0' &&
	    num_u64(mk, (size_t)-1, UINT64_MAX, &marker) != 0)
		marker = 0;
	if (id == NULL || emu_oss_store_mp_get(c->store, c->t.bucket, c->t.key,
	    id, &u) != 0) {
		rc = no_such_upload(c, id);
		goto out;
	}
	for (i = 0; i < u.nparts; i++) {
		const struct emu_oss_part *p = &u.parts[i];

		if (p->number <= marker)
			continue;
		if (n == max) {
			trunc = 1;
			break;
		}
		emu_oss_fmt_iso_ms(p->mtime, date);
		buf_printf(&parts, "  <Part>\n    <PartNumber>%u</PartNumber>\n"
		    "    <LastModified>%s</LastModified>\n"
		    "    <ETag>&quot;%s&quot;</ETag>\n"
		    "    <HashCrc64ecma>%llu</HashCrc64ecma>\n"
		    "    <Size>%llu</Size>\n  </Part>\n", p->number, date, p->etag,
		    (unsigned long long)p->crc64, (unsigned long long)p->size);
		last = p->number;
		n++;
	}
	buf_addstr(&d, xml_head);
	buf_addstr(&d, "<ListPartsResult>\n");
	if (enc)
		buf_addstr(&d, "  <EncodingType>url</EncodingType>\n");
	emu_oss_xml_key(&d, "Bucket", c->t.bucket, 0);
	emu_oss_xml_key(&d, "Key", c->t.key, enc);
	buf_printf(&d, "<UploadId>%s</UploadId>\n"
	    "  <PartNumberMarker>%llu</PartNumberMarker>\n"
	    "  <NextPartNumberMarker>%u</NextPartNumberMarker>\n"
	    "  <MaxParts>%llu</MaxParts>\n  <IsTruncated>%s</IsTruncated>\n",
	    u.id, (unsigned long long)marker, last, (unsigned long long)max,
	    trunc ? "true" : "false");
	buf_add(&d, parts.p, parts.len);
	buf_addstr(&d, "</ListPartsResult>\n");
	rc = emu_oss_xml_reply(c, &d);
out:
	emu_oss_upload_clear(&u);
	buf_free(&d);
	buf_free(&parts);
	return rc;
}

/* ---- ListMultipartUploads ------------------------------------------------------ */

struct uplist {
	const char	*prefix;
	const char	*key_marker;
	const char	*id_marker;
	uint64_t	 max, n;
	int		 enc, trunc;
	char		*next_key, *next_id;
	struct buf	*out;
	int		 err;
};

static int
uplist_cb(void *arg, const struct emu_oss_upload *u)
{
	struct uplist *l = arg;
	char date[40];

	if (l->prefix != NULL && strncmp(u->key, l->prefix, strlen(l->prefix)) != 0)
		return 0;
	if (l->key_marker != NULL && *l->key_marker != '\0') {
		int k = strcmp(u->key, l->key_marker);

		if (k < 0)
			return 0;
		if (k == 0 && (l->id_marker == NULL || *l->id_marker == '\0' ||
		    strcmp(u->id, l->id_marker) <= 0))
			return 0;
	}
	if (l->n == l->max) {
		l->trunc = 1;
		return 1;
	}
	emu_oss_fmt_iso_ms(u->initiated, date);
	buf_addstr(l->out, "  <Upload>\n    ");
	emu_oss_xml_key(l->out, "Key", u->key, l->enc);
	buf_printf(l->out, "\n    <UploadId>%s</UploadId>\n"
	    "    <StorageClass>Standard</StorageClass>\n"
	    "    <Initiated>%s</Initiated>\n  </Upload>\n", u->id, date);
	free(l->next_key);
	free(l->next_id);
	l->next_key = strdup(u->key);
	l->next_id = strdup(u->id);
	if (l->next_key == NULL || l->next_id == NULL) {
		l->err = -ENOMEM;
		return 1;
	}
	l->n++;
	return 0;
}

int
emu_oss_mp_list_uploads(struct emu_oss_ctx *c)
{
	struct uplist l;
	struct buf d, ups;
	int rc;

	memset(&l, 0, sizeof(l));
	buf_init(&d, BUF_MAX_DOC);
	buf_init(&ups, BUF_MAX_DOC);
	if ((rc = bounded_param(c, "max-uploads", EMU_OSS_MAX_LIST, &l.max)) != 0) {
		rc = rc > 0 ? 0 : rc;
		goto out;
	}
	l.prefix = emu_oss_query_get(&c->q, "prefix");
	l.key_marker = emu_oss_query_get(&c->q, "key-marker");
	l.id_marker = emu_oss_query_get(&c->q, "upload-id-marker");
	l.enc = want_url(c);
	l.out = &ups;
	if ((rc = emu_oss_store_mp_list(c->store, c->t.bucket, uplist_cb, &l)) != 0 ||
	    (rc = l.err) != 0)
		goto out;
	buf_addstr(&d, xml_head);
	buf_addstr(&d, "<ListMultipartUploadsResult>\n");
	if (l.enc)
		buf_addstr(&d, "  <EncodingType>url</EncodingType>\n");
	emu_oss_xml_key(&d, "Bucket", c->t.bucket, 0);
	emu_oss_xml_key(&d, "KeyMarker", l.key_marker != NULL ? l.key_marker : "",
	    l.enc);
	emu_oss_xml_key(&d, "UploadIdMarker", l.id_marker != NULL ? l.id_marker : "",
	    0);
	emu_oss_xml_key(&d, "NextKeyMarker", l.trunc && l.next_key != NULL ?
	    l.next_key : "", l.enc);
	emu_oss_xml_key(&d, "NextUploadIdMarker", l.trunc && l.next_id != NULL ?
	    l.next_id : "", 0);
	emu_oss_xml_key(&d, "Delimiter", "", 0);
	emu_oss_xml_key(&d, "Prefix", l.prefix != NULL ? l.prefix : "", l.enc);
	buf_printf(&d, "\n  <MaxUploads>%llu</MaxUploads>\n"
	    "  <IsTruncated>%s</IsTruncated>\n", (unsigned long long)l.max,
	    l.trunc ? "true" : "false");
	buf_add(&d, ups.p, ups.len);
	buf_addstr(&d, "</ListMultipartUploadsResult>\n");
	rc = emu_oss_xml_reply(c, &d);
out:
	free(l.next_key);
	free(l.next_id);
	buf_free(&d);
	buf_free(&ups);
	return rc;
}

/* ---- ListObjects / ListObjectsV2 ------------------------------------------------ */

struct olist {
	struct emu_oss_ctx *c;
	const char	*prefix;
	size_t		 plen;
	const char	*delim;
	size_t		 dlen;
	const char	*skip;		/* a common prefix already reported */
	uint64_t	 max, n;
	int		 enc, owner, trunc, err;
	char		*last_cp;	/* last common prefix emitted */
	char		*next;		/* last key or prefix emitted */
	struct buf	*contents, *cps;
};

static int
set_str(char **dst, const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (d == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

static int
olist_cb(void *arg, const struct emu_oss_meta *m)
{
	struct olist *l = arg;
	char date[40];

	if (l->skip != NULL && strncmp(m->key, l->skip, strlen(l->skip)) == 0)
		return 0;
	if (l->dlen > 0) {
		const char *d = strstr(m->key + l->plen, l->delim);

		if (d != NULL) {
			size_t cplen = (size_t)(d - m->key) + l->dlen;

			if (l->last_cp != NULL && strlen(l->last_cp) == cplen &&
			    strncmp(l->last_cp, m->key, cplen) == 0)
				return 0;
			if (l->n == l->max) {
				l->trunc = 1;
				return 1;
			}
			if ((l->err = set_str(&l->last_cp, m->key, cplen)) != 0 ||
			    (l->err = set_str(&l->next, m->key, cplen)) != 0)
				return 1;
			buf_addstr(l->cps, "  <CommonPrefixes>\n    ");
			emu_oss_xml_key(l->cps, "Prefix", l->last_cp, l->enc);
			buf_addstr(l->cps, "\n  </CommonPrefixes>\n");
			l->n++;
			return 0;
		}
	}
	if (l->n == l->max) {
		l->trunc = 1;
		return 1;
	}
	if ((l->err = set_str(&l->next, m->key, strlen(m->key))) != 0)
		return 1;
	emu_oss_fmt_iso_ms(m->mtime, date);
	buf_addstr(l->contents, "  <Contents>\n    ");
	emu_oss_xml_key(l->contents, "Key", m->key, l->enc);
	buf_printf(l->contents, "\n    <LastModified>%s</LastModified>\n"
	    "    <ETag>&quot;%s&quot;</ETag>\n    <Type>%s</Type>\n"
	    "    <Size>%llu</Size>\n    <StorageClass>Standard</StorageClass>\n",
	    date, m->etag, emu_oss_otype_name(m->type),
	    (unsigned long long)m->size);
	if (l->owner) {
		buf_addstr(l->contents, "    <Owner>\n      <ID>");
		emu_oss_xml_esc(l->contents, emu_oss_owner(l->c));
		buf_addstr(l->contents, "</ID>\n      <DisplayName>");
		emu_oss_xml_esc(l->contents, emu_oss_owner(l->c));
		buf_addstr(l->contents, "</DisplayName>\n    </Owner>\n");
	}
	buf_addstr(l->contents, "  </Contents>\n");
	l->n++;
	return 0;
}

static int
hex_decode_token(const char *t, char **out)
{
	size_t n = strlen(t), i;
	char *d;

	*out = NULL;
	if (n % 2 != 0)
		return -EINVAL;
	if ((d = malloc(n / 2 + 1)) == NULL)
		return -ENOMEM;
	for (i = 0; i < n / 2; i++) {
		int hi = t[2 * i], lo = t[2 * i + 1];

		hi = hi >= '0' && hi <= '9' ? hi - '0' : hi >= 'a' && hi <= 'f' ?
		    hi - 'a' + 10 : -1;
		lo = lo >= '0' && lo <= '9' ? lo - '0' : lo >= 'a' && lo <= 'f' ?
		    lo - 'a' + 10 : -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(d);
			return -EINVAL;
		}
		d[i] = (char)(hi * 16 + lo);
	}
	d[n / 2] = '\0';
	*out = d;
	return 0;
}

int
emu_oss_list_objects(struct emu_oss_ctx *c, int v2)
{
	const char *prefix = emu_oss_query_get(&c->q, "prefix");
	const char *delim = emu_oss_query_get(&c->q, "delimiter");
	const char *marker = emu_oss_query_get(&c->q, v2 ? "start-after" : "marker");
	const char *token = v2 ? emu_oss_query_get(&c->q, "continuation-token") : NULL;
	const char *fo = emu_oss_query_get(&c->q, "fetch-owner");
	char *after = NULL;
	struct buf d, contents, cps;
	struct olist l;
	int rc;

	memset(&l, 0, sizeof(l));
	buf_init(&d, BUF_MAX_DOC);
	buf_init(&contents, BUF_MAX_DOC);
	buf_init(&cps, BUF_MAX_DOC);
	if ((rc = bounded_param(c, "max-keys", EMU_OSS_DEF_LIST, &l.max)) != 0) {
		rc = rc > 0 ? 0 : rc;
		goto out;
	}
	if (token != NULL && *token != '\0') {
		if ((rc = hex_decode_token(token, &after)) == -EINVAL) {
			rc = emu_oss_error(c, 400, "InvalidArgument",
			    "The continuation token provided is incorrect.", NULL);
			goto out;
		}
		if (rc != 0)
			goto out;
	} else if (marker != NULL && (after = strdup(marker)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	l.c = c;
	l.prefix = prefix != NULL ? prefix : "";
	l.plen = strlen(l.prefix);
	l.delim = delim != NULL ? delim : "";
	l.dlen = strlen(l.delim);
	l.enc = want_url(c);
	l.owner = !v2 || (fo != NULL && strcmp(fo, "true") == 0);
	l.contents = &contents;
	l.cps = &cps;
	/* resuming after a common prefix: skip everything below it */
	if (after != NULL && l.dlen > 0 && strncmp(after, l.prefix, l.plen) == 0) {
		const char *dd = strstr(after + l.plen, l.delim);

		if (dd != NULL && dd[l.dlen] == '\0')
			l.skip = after;
	}
	if ((rc = emu_oss_store_list(c->store, c->t.bucket, l.prefix, after,
	    olist_cb, &l)) != 0 || (rc = l.err) != 0) {
		rc = rc == -ENOENT ? emu_oss_error(c, 404, "NoSuchBucket",
		    "The specified bucket does not exist.", NULL) : rc;
		goto out;
	}
	buf_addstr(&d, xml_head);
	buf_addstr(&d, "<ListBucketResult>\n  ");
	emu_oss_xml_key(&d, "Name", c->t.bucket, 0);
	buf_addstr(&d, "\n  ");
	emu_oss_xml_key(&d, "Prefix", l.prefix, l.enc);
	buf_addstr(&d, "\n  ");
	if (!v2) {
		emu_oss_xml_key(&d, "Marker", marker != NULL ? marker : "", l.enc);
		buf_addstr(&d, "\n  ");
	} else {
		if (token != NULL) {
			emu_oss_xml_key(&d, "ContinuationToken", token, 0);
			buf_addstr(&d, "\n  ");
		}
		if (marker != NULL) {
			emu_oss_xml_key(&d, "StartAfter", marker, l.enc);
			buf_addstr(&d, "\n  ");
		}
	}
	buf_printf(&d, "<MaxKeys>%llu</MaxKeys>\n  ", (unsigned long long)l.max);
	emu_oss_xml_key(&d, "Delimiter", l.delim, l.enc);
	buf_printf(&d, "\n  <IsTruncated>%s</IsTruncated>\n",
	    l.trunc ? "true" : "false");
	if (l.trunc && l.next != NULL) {
		if (!v2) {
			buf_addstr(&d, "  ");
			emu_oss_xml_key(&d, "NextMarker", l.next, l.enc);
			buf_addstr(&d, "\n");
		} else {
			size_t i;

			buf_addstr(&d, "  <NextContinuationToken>");
			for (i = 0; l.next[i] != '\0'; i++)
				buf_printf(&d, "%02x", (unsigned char)l.next[i]);
			buf_addstr(&d, "</NextContinuationToken>\n");
		}
	}
	if (v2)
		buf_printf(&d, "  <KeyCount>%llu</KeyCount>\n",
		    (unsigned long long)l.n);
	if (l.enc)
		buf_addstr(&d, "  <EncodingType>url</EncodingType>\n");
	buf_add(&d, contents.p, contents.len);
	buf_add(&d, cps.p, cps.len);
	buf_addstr(&d, "</ListBucketResult>\n");
	rc = emu_oss_xml_reply(c, &d);
out:
	free(after);
	free(l.last_cp);
	free(l.next);
	buf_free(&d);
	buf_free(&contents);
	buf_free(&cps);
	return rc;
}
