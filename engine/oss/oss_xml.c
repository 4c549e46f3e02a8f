/* SPDX-License-Identifier: MIT */
/*
 * oss_xml.c - OSS response documents (contrib/doc/oss.md 1.4, 1.5) into our
 * structs, and the two request bodies (CompleteMultipartUpload,
 * DeleteMultipleObjects) out of them.  All XML goes through xml.h.  Parsers
 * take (buf, len) and have a libFuzzer target (tests/fuzz/fuzz_oss_xml.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "oss_i.h"
#include "xml.h"

/* dst := src, cut to dstsz - 1 bytes (src NULL: "") */
void
oss_copy(char *dst, size_t dstsz, const char *src)
{
	size_t n;

	if (dstsz == 0)
		return;
	n = src == NULL ? 0 : strlen(src);
	if (n >= dstsz)
		n = dstsz - 1;
	if (n != 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* text of child name decoded when enc (encoding-type=url); malloc'ed */
static int
oss_xml_str(const struct xml_node *n, const char *name, bool enc, bool required,
    char **out)
{
	const struct xml_node *ch = xml_child(n, name);
	struct buf b;
	int rc;

	*out = NULL;
	if (ch == NULL)
		return required ? ENG_EPROTO : 0;
	buf_init(&b, BUF_MAX_SMALL);
	if (enc)
		rc = http_pct_decode(&b, ch->text, ch->text_len, true);
	else
		rc = buf_add(&b, ch->text, ch->text_len);
	if (rc == 0 && memchr(b.p, '\0', b.len) != NULL)
		rc = ENG_EPROTO;
	if (rc != 0) {
		buf_free(&b);
		return rc == -ENOMEM ? -ENOMEM : ENG_EPROTO;
	}
	if ((*out = buf_take(&b, NULL)) == NULL)
		return -ENOMEM;
	return 0;
}

static bool
oss_xml_url_encoded(const struct xml_node *root)
{
	const char *e = xml_text(root, "EncodingType");

	return e != NULL && strcmp(e, "url") == 0;
}

static int
oss_xml_bool(const struct xml_node *n, const char *name, bool *out)
{
	const char *t = xml_text(n, name);

	*out = false;
	if (t == NULL)
		return 0;
	if (strcmp(t, "true") == 0)
		*out = true;
	else if (strcmp(t, "false") != 0)
		return ENG_EPROTO;
	return 0;
}

static int
oss_xml_u64(const struct xml_node *n, const char *name, bool required,
    uint64_t *out)
{
	const char *t = xml_text(n, name);

	*out = 0;
	if (t == NULL)
		return required ? ENG_EPROTO : 0;
	return num_u64(t, (size_t)-1, UINT64_MAX, out) == 0 ? 0 : ENG_EPROTO;
}

static int
oss_xml_open(const char *p, size_t n, const char *root, struct xml_doc **d)
{
	int rc;

	if ((rc = xml_parse(p, n, d)) != 0)
		return rc == -ENOMEM ? -ENOMEM : ENG_EPROTO;
	if (strcmp(xml_root(*d)->name, root) != 0) {
		xml_free(*d);
		*d = NULL;
		return ENG_EPROTO;
	}
	return 0;
}

int
oss_xml_error(const char *p, size_t n, struct oss_error *e)
{
	struct xml_doc *d = NULL;
	const struct xml_node *r;
	const char *t;
	int rc;

	if ((rc = oss_xml_open(p, n, "Error", &d)) != 0)
		return rc;
	r = xml_root(d);
	if ((t = xml_text(r, "Code")) == NULL || *t == '\0') {
		rc = ENG_EPROTO;
		goto out;
	}
	oss_copy(e->code, sizeof(e->code), t);
	if ((t = xml_text(r, "Message")) != NULL)
		oss_copy(e->message, sizeof(e->message), t);
	if ((t = xml_text(r, "RequestId")) != NULL && *t != '\0')
		oss_copy(e->request_id, sizeof(e->request_id), t);
	if ((t = xml_text(r, "EC")) != NULL && *t != '\0')
		oss_copy(e->ec, sizeof(e->ec), t);
	rc = 0;
out:
	xml_free(d);
	return rc;
}

int
oss_xml_initiate(const char *p, size_t n, char **upload_id)
{
	struct xml_doc *d = NULL;
	char *id = NULL;
	int rc;

	*upload_id = NULL;
	if ((rc = oss_xml_open(p, n, "InitiateMultipartUploadResult", &d)) != 0)
		return rc;
	if ((rc = oss_xml_str(xml_root(d), "UploadId", false, true, &id)) != 0)
		goto out;
	if (*id == '\0') {
		rc = ENG_EPROTO;
		goto out;
	}
	*upload_id = id;
	id = NULL;
out:
	free(id);
	xml_free(d);
	return rc;
}

int
oss_xml_complete(const char *p, size_t n, char *etag, size_t etagsz)
{
	struct xml_doc *d = NULL;
	const char *t;
	int rc;

	if ((rc = oss_xml_open(p, n, "CompleteMultipartUploadResult", &d)) != 0)
		return rc;
	if ((t = xml_text(xml_root(d), "ETag")) == NULL) {
		rc = ENG_EPROTO;
		goto out;
	}
	oss_copy(etag, etagsz, t);
out:
	xml_free(d);
	return rc;
}

void
oss_list_page_free(struct oss_list_page *page)
{
	size_t i;

	if (page == NULL)
		return;
	for (i = 0; i < page->nobjs; i++)
		free(page->objs[i].key);
	for (i = 0; i < page->nprefixes; i++)
		free(page->prefixes[i]);
	free(page->objs);
	free(page->prefixes);
	free(page->next_token);
	memset(page, 0, sizeof(*page));
}

static size_t
oss_xml_count(const struct xml_node *parent, const char *name)
{
	const struct xml_node *c;
	size_t k = 0;

	for (c = xml_child(parent, name); c != NULL; c = xml_next(c))
		k++;
	return k;
}

int
oss_xml_list(const char *p, size_t n, struct oss_list_page *page)
{
	struct oss_list_page pg;
	struct xml_doc *d = NULL;
	const struct xml_node *r, *c;
	bool enc;
	size_t k;
	int rc;

	memset(&pg, 0, sizeof(pg));
	if ((rc = oss_xml_open(p, n, "ListBucketResult", &d)) != 0)
		return rc;
	r = xml_root(d);
	enc = oss_xml_url_encoded(r);
	if ((rc = oss_xml_bool(r, "IsTruncated", &pg.truncated)) != 0)
		goto out;
	if ((rc = oss_xml_str(r, "NextContinuationToken", enc, false,
	    &pg.next_token)) != 0)
		goto out;
	if (pg.next_token != NULL && *pg.next_token == '\0') {
		free(pg.next_token);
		pg.next_token = NULL;
	}
	if (pg.truncated && pg.next_token == NULL) {
		rc = ENG_EPROTO;	/* a truncated page must say where to go on */
		goto out;
	}
	rc = -ENOMEM;
	k = oss_xml_count(r, "Contents");
	if (k != 0 && (pg.objs = calloc(k, sizeof(*pg.objs))) == NULL)
		goto out;
	for (c = xml_child(r, "Contents"); c != NULL; c = xml_next(c)) {
		struct oss_object *o = &pg.objs[pg.nobjs];
		const char *t;

		if ((rc = oss_xml_str(c, "Key", enc, true, &o->key)) != 0)
			goto out;
		pg.nobjs++;
		if ((rc = oss_xml_u64(c, "Size", true, &o->size)) != 0)
			goto out;
		if ((t = xml_text(c, "ETag")) != NULL)
			oss_copy(o->etag, sizeof(o->etag), t);
		if ((t = xml_text(c, "Type")) != NULL)
			oss_copy(o->type, sizeof(o->type), t);
		if ((t = xml_text(c, "LastModified")) != NULL)
			oss_copy(o->last_modified, sizeof(o->last_modified), t);
	}
	rc = -ENOMEM;
	k = oss_xml_count(r, "CommonPrefixes");
	if (k != 0 && (pg.prefixes = calloc(k, sizeof(*pg.prefixes))) == NULL)
		goto out;
	for (c = xml_child(r, "CommonPrefixes"); c != NULL; c = xml_next(c)) {
		if ((rc = oss_xml_str(c, "Prefix", enc, true,
		    &pg.prefixes[pg.nprefixes])) != 0)
			goto out;
		pg.nprefixes++;
	}
	*page = pg;
	memset(&pg, 0, sizeof(pg));
	rc = 0;
out:
	oss_list_page_free(&pg);
	xml_free(d);
	return rc;
}

void
oss_parts_page_free(struct oss_parts_page *page)
{
	if (page == NULL)
		return;
	free(page->parts);
	memset(page, 0, sizeof(*page));
}

int
oss_xml_list_parts(const char *p, size_t n, struct oss_parts_page *page)
{
	struct oss_parts_page pg;
	struct xml_doc *d = NULL;
	const struct xml_node *r, *c;
	uint64_t v;
	size_t k;
	int rc;

	memset(&pg, 0, sizeof(pg));
	if ((rc = oss_xml_open(p, n, "ListPartsResult", &d)) != 0)
		return rc;
	r = xml_root(d);
	if ((rc = oss_xml_bool(r, "IsTruncated", &pg.truncated)) != 0)
		goto out;
	if ((rc = oss_xml_u64(r, "NextPartNumberMarker", false, &v)) != 0)
		goto out;
	if (v > OSS_MAX_PARTS) {
		rc = ENG_EPROTO;
		goto out;
	}
	pg.next_marker = (unsigned)v;
	rc = -ENOMEM;
	k = oss_xml_count(r, "Part");
	if (k != 0 && (pg.parts = calloc(k, sizeof(*pg.parts))) == NULL)
		goto out;
	for (c = xml_child(r, "Part"); c != NULL; c = xml_next(c)) {
		struct oss_part *pt = &pg.parts[pg.nparts];
		const char *t;

		if ((rc = oss_xml_u64(c, "PartNumber", true, &v)) != 0)
			goto out;
		if (v < 1 || v > OSS_MAX_PARTS) {
			rc = ENG_EPROTO;
			goto out;
		}
		pt->number = (unsigned)v;
		if ((rc = oss_xml_u64(c, "Size", true, &pt->size)) != 0)
			goto out;
		if ((t = xml_text(c, "ETag")) == NULL) {
			rc = ENG_EPROTO;
			goto out;
		}
		oss_copy(pt->etag, sizeof(pt->etag), t);
		pg.nparts++;
	}
	*page = pg;
	memset(&pg, 0, sizeof(pg));
	rc = 0;
out:
	oss_parts_page_free(&pg);
	xml_free(d);
	return rc;
}

void
oss_delete_fails_free(struct oss_delete_fail *fails, size_t n)
{
	size_t i;

	if (fails == NULL)
		return;
	for (i = 0; i < n; i++)
		free(fails[i].key);
	free(fails);
}

int
oss_xml_delete_result(const char *p, size_t n, struct oss_delete_fail **fails,
    size_t *nfails)
{
	struct oss_delete_fail *f = NULL;
	struct xml_doc *d = NULL;
	const struct xml_node *r, *c;
	size_t k, nf = 0;
	bool enc;
	int rc;

	*fails = NULL;
	*nfails = 0;
	/* quiet mode with nothing to report may answer with an empty body */
	if (n == 0)
		return 0;
	if ((rc = oss_xml_open(p, n, "DeleteResult", &d)) != 0)
		return rc;
	r = xml_root(d);
	enc = oss_xml_url_encoded(r);
	rc = -ENOMEM;
	k = oss_xml_count(r, "Error");
	if (k != 0 && (f = calloc(k, sizeof(*f))) == NULL)
		goto out;
	for (c = xml_child(r, "Error"); c != NULL; c = xml_next(c)) {
		const char *t;

		if ((rc = oss_xml_str(c, "Key", enc, true, &f[nf].key)) != 0)
			goto out;
		if ((t = xml_text(c, "Code")) != NULL)
			oss_copy(f[nf].code, sizeof(f[nf].code), t);
		if ((t = xml_text(c, "Message")) != NULL)
			oss_copy(f[nf].message, sizeof(f[nf].message), t);
		nf++;
	}
	*fails = f;
	*nfails = nf;
	f = NULL;
	rc = 0;
out:
	oss_delete_fails_free(f, nf);
	xml_free(d);
	return rc;
}

static void
oss_strv_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
oss_xml_list_uploads(const char *p, size_t n, size_t *count, char ***keys,
    char ***ids)
{
	struct xml_doc *d = NULL;
	const struct xml_node *r, *c;
	char **ks = NULL, **is = NULL;
	size_t k, nk = 0;
	bool enc;
	int rc;

	*count = 0;
	if (keys != NULL)
		*keys = NULL;
	if (ids != NULL)
		*ids = NULL;
	if ((rc = oss_xml_open(p, n, "ListMultipartUploadsResult", &d)) != 0)
		return rc;
	r = xml_root(d);
	enc = oss_xml_url_encoded(r);
	k = oss_xml_count(r, "Upload");
	rc = -ENOMEM;
	if (keys != NULL && k != 0 && (ks = calloc(k, sizeof(*ks))) == NULL)
		goto out;
	if (ids != NULL && k != 0 && (is = calloc(k, sizeof(*is))) == NULL)
		goto out;
	for (c = xml_child(r, "Upload"); c != NULL; c = xml_next(c)) {
		char *key = NULL, *id = NULL;

		if ((rc = oss_xml_str(c, "Key", enc, true, &key)) != 0)
			goto out;
		if ((rc = oss_xml_str(c, "UploadId", false, true, &id)) != 0) {
			free(key);
			goto out;
		}
		if (ks != NULL)
			ks[nk] = key;
		else
			free(key);
		if (is != NULL)
			is[nk] = id;
		else
			free(id);
		nk++;
	}
	*count = nk;
	if (keys != NULL) {
		*keys = ks;
		ks = NULL;
	}
	if (ids != NULL) {
		*ids = is;
		is = NULL;
	}
	rc = 0;
out:
	oss_strv_free(ks, nk);
	oss_strv_free(is, nk);
	xml_free(d);
	return rc;
}

static const char oss_xml_decl[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

int
oss_xml_complete_body(const struct oss_part *parts, size_t n, struct buf *b)
{
	size_t i;
	int rc;

	(void)buf_addstr(b, oss_xml_decl);
	(void)buf_addstr(b, "<CompleteMultipartUpload>\n");
	for (i = 0; i < n; i++) {
		(void)buf_printf(b, "<Part>\n<PartNumber>%u</PartNumber>\n",
		    parts[i].number);
		if ((rc = xml_elem(b, "ETag", parts[i].etag)) != 0)
			return rc == -EINVAL ? ENG_EPROTO : rc;
		(void)buf_addstr(b, "\n</Part>\n");
	}
	return buf_addstr(b, "</CompleteMultipartUpload>");
}

int
oss_xml_delete_body(const char *const *keys, size_t n, bool quiet, struct buf *b)
{
	size_t i;
	int rc;

	(void)buf_addstr(b, oss_xml_decl);
	(void)buf_addstr(b, "<Delete>");
	if ((rc = xml_elem(b, "Quiet", quiet ? "true" : "false")) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		(void)xml_open(b, "Object");
		if ((rc = xml_elem(b, "Key", keys[i])) != 0)
			return rc == -EINVAL ? ENG_EINVAL : rc;
		(void)xml_close(b, "Object");
	}
	return buf_addstr(b, "</Delete>");
}
