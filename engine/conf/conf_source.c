/* SPDX-License-Identifier: MIT */
/*
 * conf_source.c - source files ({"type":"ots"|"oss", ...}): validation, the
 * immutable struct conf_source, masked rendering, "******" merging, the
 * named source set, and file classification.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_i.h"
#include "sys.h"

struct conf_source {
	char			*name;
	enum conf_src_type	 type;
	char			*endpoint;
	char			*instance;	/* ots */
	char			*bucket;	/* oss */
	char			*access_id;
	char			*access_key;	/* secret */
	char			*token;		/* secret, may be NULL */
	char			*region;	/* oss, may be NULL */
	char			*ca_file;	/* CA bundle (PEM), may be NULL */
	int			 sigver;	/* oss: 1 or 4; ots: 0 */
};

static const struct conf_key ots_keys[] = {
	{ "type",          VT_NESTR,  KF_REQ, 0, 0, NULL },
	{ "endpoint",      VT_URL,    KF_REQ, 0, 0, "e.g. \"https://myinstance.cn-hangzhou.ots.aliyuncs.com\"" },
	{ "instanceName",  VT_NESTR,  KF_REQ, 0, 0, NULL },
	{ "accessId",      VT_NESTR,  KF_REQ, 0, 0, NULL },
	{ "accessKey",     VT_SECRET, KF_REQ, 0, 0, NULL },
	{ "securityToken", VT_SECRET, 0,      0, 0, NULL },
	{ "caFile",        VT_NESTR,  0,      0, 0, NULL },
};

static const struct conf_key oss_keys[] = {
	{ "type",             VT_NESTR,  KF_REQ, 0, 0, NULL },
	{ "endpoint",         VT_URL,    KF_REQ, 0, 0, "e.g. \"https://oss-cn-hangzhou.aliyuncs.com\"" },
	{ "bucket",           VT_NESTR,  KF_REQ, 0, 0, NULL },
	{ "accessId",         VT_NESTR,  KF_REQ, 0, 0, NULL },
	{ "accessKey",        VT_SECRET, KF_REQ, 0, 0, NULL },
	{ "securityToken",    VT_SECRET, 0,      0, 0, NULL },
	{ "signatureVersion", VT_NESTR,  0,      0, 0, NULL },
	{ "region",           VT_NESTR,  0,      0, 0, NULL },
	{ "caFile",           VT_NESTR,  0,      0, 0, NULL },
};

#define NKEYS(a)	(sizeof(a) / sizeof((a)[0]))

/* OSS bucket naming rules: 3..63 of [a-z0-9-], not starting/ending with '-' */
static bool
valid_bucket(const char *b)
{
	size_t n = strlen(b), i;

	if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)b[i]) && !isdigit((unsigned char)b[i]) && b[i] != '-')
			return false;
	return true;
}

/* Does the endpoint's host start with "<bucket>."? */
static bool
endpoint_has_bucket(const char *ep, const char *bucket)
{
	const char *h = strstr(ep, "://");
	size_t bl = strlen(bucket);

	h = h != NULL ? h + 3 : ep;
	return bl > 0 && strncmp(h, bucket, bl) == 0 && h[bl] == '.';
}

/* OSS endpoint checks shared by source files and inline writer parameters. */
static void
check_oss_endpoint(struct conf_ctx *c, const struct json *root)
{
	const struct json *ep = json_get(root, "endpoint");
	const struct json *bk = json_get(root, "bucket");
	const char *es = json_str(ep), *bs = json_str(bk);

	if (es != NULL && bs != NULL && !conf_is_tmpl(c, es) && endpoint_has_bucket(es, bs))
		conf_err(c, ep, AT_VAL, "\"endpoint\" must not contain the bucket name: use the region endpoint (e.g. \"https://oss-cn-hangzhou.aliyuncs.com\") and put \"%.64s\" in \"bucket\"",
		    bs);
	if (bs != NULL && !conf_is_tmpl(c, bs) && *bs != '\0' && !valid_bucket(bs))
		conf_err(c, bk, AT_VAL, "\"bucket\": \"%.64s\" is not a valid bucket name (3-63 characters: lowercase letters, digits, '-', not starting or ending with '-')",
		    bs);
}

/*
 * caFile: the CA bundle (PEM) that signs the endpoint's certificate, for a
 * private CA.  Absolute (the daemon's working directory is not the
 * writer's) and readable now; verification itself always stays on.
 */
static void
check_ca_file(struct conf_ctx *c, const struct json *root)
{
	const struct json *v = json_get(root, "caFile");
	const char *f = json_str(v);
	struct stat st;
	int fd;

	if (f == NULL || *f == '\0')
		return;	/* absent, or a type error reported already */
	if (f[0] != '/') {
		conf_err(c, v, AT_VAL, "\"caFile\": \"%.200s\" must be an absolute path (e.g. \"/etc/ssl/private-ca.pem\")",
		    f);
		return;
	}
	fd = open(f, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		conf_err(c, v, AT_VAL, "\"caFile\": %.200s: %s (a readable PEM file of CA certificates)",
		    f, strerror(errno));
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		conf_err(c, v, AT_VAL, "\"caFile\": %.200s is not a regular file (a PEM file of CA certificates)",
		    f);
	close(fd);
}

void
conf_source_check(struct conf_ctx *c, const struct json *root)
{
	static const char *const types[] = { "ots", "oss" };
	const struct json *t = json_get(root, "type");
	const char *ts = json_str(t), *sug;

	if (json_type(root) != JSON_OBJECT) {
		conf_err(c, root, AT_VAL, "a source file must be a JSON object like {\"type\": \"ots\", ...}");
		return;
	}
	if (ts == NULL || (strcmp(ts, "ots") != 0 && strcmp(ts, "oss") != 0)) {
		if (t == NULL)
			conf_err(c, root, AT_VAL, "missing \"type\": a source is {\"type\": \"ots\", ...} or {\"type\": \"oss\", ...}");
		else if (ts != NULL && (sug = conf_suggest(ts, types, 2)) != NULL)
			conf_err(c, t, AT_VAL, "unknown source type \"%.40s\"; did you mean \"%s\"?", ts, sug);
		else
			conf_err(c, t, AT_VAL, "\"type\" of a source must be \"ots\" or \"oss\"");
		return;
	}
	if (strcmp(ts, "ots") == 0) {
		conf_check_keys(c, root, ots_keys, NKEYS(ots_keys), "ots source");
		check_ca_file(c, root);
		return;
	}
	conf_check_keys(c, root, oss_keys, NKEYS(oss_keys), "oss source");
	check_ca_file(c, root);
	check_oss_endpoint(c, root);
	conf_check_sigver(c, json_get(root, "signatureVersion"));
}

/* the one parser of signatureVersion (source files and inline oss writers) */
int
conf_sigver(const char *s)
{
	if (s == NULL)
		return 4;
	if (strcmp(s, "v1") == 0)
		return 1;
	if (strcmp(s, "v4") == 0)
		return 4;
	return 0;
}

void
conf_check_sigver(struct conf_ctx *c, const struct json *v)
{
	if (json_str(v) != NULL && conf_sigver(json_str(v)) == 0)
		conf_err(c, v, AT_VAL, "\"signatureVersion\" must be \"v1\" or \"v4\" (default \"v4\")");
}

void
conf_source_check_oss_inline(struct conf_ctx *c, const struct json *param)
{
	check_oss_endpoint(c, param);
}

/* ---- the object --------------------------------------------------------- */

/* secrets (accessKey, securityToken) live in sys_secret_dup's mappings:
 * left out of core dumps, wiped on free */
static void
wipe_free(char *s)
{
	sys_secret_free(s);
}

static int
secret_dup(const char *s, char **dst)
{
	*dst = NULL;
	if (s == NULL)
		return 0;
	return (*dst = sys_secret_strdup(s)) != NULL ? 0 : -ENOMEM;
}

void
conf_source_free(struct conf_source *src)
{
	if (src == NULL)
		return;
	free(src->name);
	free(src->endpoint);
	free(src->instance);
	free(src->bucket);
	free(src->access_id);
	wipe_free(src->access_key);
	wipe_free(src->token);
	free(src->region);
	free(src->ca_file);
	free(src);
}

/* strdup of a string member, or NULL (0 returned) when absent */
static int
take_str(const struct json *obj, const char *key, char **dst)
{
	const char *s = json_str(json_get(obj, key));

	*dst = NULL;
	if (s == NULL)
		return 0;
	return (*dst = strdup(s)) != NULL ? 0 : -ENOMEM;
}

static int
dupstr(const char *s, char **dst)
{
	*dst = NULL;
	if (s == NULL)
		return 0;
	return (*dst = strdup(s)) != NULL ? 0 : -ENOMEM;
}

int
conf_source_from_inline(enum conf_src_type t, const struct json *p,
    struct conf_source **out)
{
	struct conf_source *s;
	int rc = -ENOMEM;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->type = t;
	if (take_str(p, "endpoint", &s->endpoint) || take_str(p, "accessId", &s->access_id) ||
	    secret_dup(json_str(json_get(p, "accessKey")), &s->access_key) ||
	    secret_dup(json_str(json_get(p, "securityToken")), &s->token) ||
	    take_str(p, "caFile", &s->ca_file))
		goto out;
	if (t == CONF_SRC_OTS) {
		if (take_str(p, "instanceName", &s->instance))
			goto out;
	} else {
		if (take_str(p, "bucket", &s->bucket) || take_str(p, "region", &s->region))
			goto out;
		/* validated before: never 0 on a valid definition */
		s->sigver = conf_sigver(json_str(json_get(p, "signatureVersion")));
		if (s->sigver == 0)
			s->sigver = 4;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	conf_source_free(s);
	return rc;
}

int
conf_source_dup(const struct conf_source *src, struct conf_source **out)
{
	struct conf_source *s;
	int rc = -ENOMEM;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->type = src->type;
	s->sigver = src->sigver;
	if (dupstr(src->name, &s->name) || dupstr(src->endpoint, &s->endpoint) ||
	    dupstr(src->instance, &s->instance) || dupstr(src->bucket, &s->bucket) ||
	    dupstr(src->access_id, &s->access_id) ||
	    secret_dup(src->access_key, &s->access_key) || secret_dup(src->token, &s->token) ||
	    dupstr(src->region, &s->region) || dupstr(src->ca_file, &s->ca_file))
		goto out;
	*out = s;
	s = NULL;
	rc = 0;
out:
	conf_source_free(s);
	return rc;
}

/* "******" for a secret: take prev's value, or report that there is none */
static int
unmask(struct conf_ctx *c, const struct json *root, const char *key,
    const char *prevval, char **dst)
{
	const struct json *v = json_get(root, key);

	if (*dst == NULL || strcmp(*dst, CONF_MASK) != 0)
		return 0;
	wipe_free(*dst);
	*dst = NULL;
	if (prevval == NULL) {
		conf_err(c, v, AT_VAL, "\"%s\" is \"%s\" (the masked value shown on read) but no stored secret exists; write the real value",
		    key, CONF_MASK);
		return 0;
	}
	return secret_dup(prevval, dst);
}

int
conf_source_parse(const char *name, const char *buf, size_t len,
    const struct conf_source *prev, struct conf_diags *d,
    struct conf_source **out)
{
	struct conf_ctx c = { .d = d };
	struct json_doc *doc = NULL;
	struct conf_source *s = NULL;
	const struct json *root;
	int rc;

	*out = NULL;
	if ((rc = conf_load(&c, buf, len, &doc)) != 0)
		goto out;
	root = json_doc_root(doc);
	conf_source_check(&c, root);
	if (c.nerr != 0) {
		rc = ENG_EINVAL;
		goto out;
	}
	rc = conf_source_from_inline(strcmp(json_str(json_get(root, "type")), "ots") == 0 ?
	    CONF_SRC_OTS : CONF_SRC_OSS, root, &s);
	if (rc != 0)
		goto out;
	if (prev != NULL && prev->type != 0 && prev->type != s->type)
		prev = NULL;	/* type 0: conf_source_view_prev's stand-in */
	rc = -ENOMEM;
	if (unmask(&c, root, "accessKey", prev ? prev->access_key : NULL, &s->access_key) ||
	    unmask(&c, root, "securityToken", prev ? prev->token : NULL, &s->token) ||
	    dupstr(name, &s->name))
		goto out;
	if (c.nerr != 0) {
		rc = ENG_EINVAL;
		goto out;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	if (c.oom && rc == 0)
		rc = -ENOMEM;
	conf_source_free(s);
	json_doc_free(doc);
	return rc;
}

const char *conf_source_name(const struct conf_source *s) { return s->name; }
enum conf_src_type conf_source_type(const struct conf_source *s) { return s->type; }
const char *conf_source_endpoint(const struct conf_source *s) { return s->endpoint; }
const char *conf_source_instance(const struct conf_source *s) { return s->instance; }
const char *conf_source_bucket(const struct conf_source *s) { return s->bucket; }
const char *conf_source_access_id(const struct conf_source *s) { return s->access_id; }
const char *conf_source_access_key(const struct conf_source *s) { return s->access_key; }
const char *conf_source_security_token(const struct conf_source *s) { return s->token; }
int conf_source_signature_version(const struct conf_source *s) { return s->sigver; }
const char *conf_source_region(const struct conf_source *s) { return s->region; }
const char *conf_source_ca_file(const struct conf_source *s) { return s->ca_file; }

int
conf_source_render(const struct conf_source *s, bool masked, struct buf *out)
{
	struct json *o;
	int rc = -ENOMEM;

	if ((o = json_new_object()) == NULL)
		return -ENOMEM;
	if (json_obj_add_str(o, "type", s->type == CONF_SRC_OTS ? "ots" : "oss") ||
	    (s->endpoint && json_obj_add_str(o, "endpoint", s->endpoint)) ||
	    (s->instance && json_obj_add_str(o, "instanceName", s->instance)) ||
	    (s->bucket && json_obj_add_str(o, "bucket", s->bucket)) ||
	    (s->access_id && json_obj_add_str(o, "accessId", s->access_id)) ||
	    (s->access_key && json_obj_add_str(o, "accessKey", masked ? CONF_MASK : s->access_key)) ||
	    (s->token && json_obj_add_str(o, "securityToken", masked ? CONF_MASK : s->token)) ||
	    (s->type == CONF_SRC_OSS && json_obj_add_str(o, "signatureVersion", s->sigver == 1 ? "v1" : "v4")) ||
	    (s->region && json_obj_add_str(o, "region", s->region)) ||
	    (s->ca_file && json_obj_add_str(o, "caFile", s->ca_file)))
		goto out;
	if ((rc = json_print(o, JSON_PRETTY, out)) == 0)
		rc = buf_addc(out, '\n');
out:
	json_free(o);
	return rc;
}

/* ---- byte-preserving masking and merging -------------------------------- */

struct repl {
	size_t		 off, end;	/* replaced bytes [off, end) */
	const char	*with;
	size_t		 wlen;
};

struct repls {
	struct repl	*v;
	size_t		 n, cap;
};

static int
repls_add(struct repls *r, size_t off, size_t end, const char *with, size_t wlen)
{
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 8;
		struct repl *nv = realloc(r->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		r->v = nv;
		r->cap = ncap;
	}
	r->v[r->n++] = (struct repl){ off, end, with, wlen };
	return 0;
}

/* End of the scalar token starting at off in (stripped) text t. */
static size_t
token_end(const char *t, size_t len, size_t off)
{
	size_t i = off;

	if (i < len && t[i] == '"') {
		for (i++; i < len && t[i] != '"'; i++)
			if (t[i] == '\\')
				i++;
		return i < len ? i + 1 : len;
	}
	while (i < len && (unsigned char)t[i] > 32 && t[i] != ',' && t[i] != '}' && t[i] != ']')
		i++;
	return i;
}

static int
emit_repls(const char *buf, size_t len, struct repls *r, struct buf *out)
{
	size_t pos = 0, i;
	int rc = 0;

	for (i = 0; i < r->n && rc == 0; i++) {
		rc = buf_add(out, buf + pos, r->v[i].off - pos);
		if (rc == 0)
			rc = buf_add(out, r->v[i].with, r->v[i].wlen);
		pos = r->v[i].end;
	}
	if (rc == 0)
		rc = buf_add(out, buf + pos, len - pos);
	return rc;
}

/* Mask the members of n named like secrets; with all (inside a secret
 * object or array), every scalar below n. */
static int
mask_walk(const struct json_doc *doc, const struct json *n, bool all,
    struct repls *r)
{
	const struct json *m;
	const char *t;
	size_t tl, off;
	bool sec;
	int rc;

	for (m = json_first(n); m != NULL; m = json_next(m)) {
		sec = all || (json_type(n) == JSON_OBJECT && conf_is_secret_key(json_key(m)));
		if (sec && json_type(m) != JSON_OBJECT && json_type(m) != JSON_ARRAY) {
			t = json_doc_text(doc, &tl);
			if ((off = json_doc_val_off(doc, m)) == JSON_NOOFF)
				return ENG_EINVAL;
			if ((rc = repls_add(r, off, token_end(t, tl, off), "\"" CONF_MASK "\"",
			    sizeof(CONF_MASK) + 1)) != 0)
				return rc;
			continue;
		}
		if ((rc = mask_walk(doc, m, sec, r)) != 0)
			return rc;
	}
	return 0;
}

/*
 * Text that is no JSON: mask by line (conf_mask_text).  A secret name with
 * no ':' or '=' after it on its line, or with nothing after that, has its
 * value further on: the next non-blank line goes whole.
 */
static int
mask_lines(const char *buf, size_t len, struct buf *out)
{
	static const char masked[] = "\"" CONF_MASK "\"";
	const char *l = buf, *end = buf + len, *nl, *nm, *v, *tail;
	bool pending = false;
	size_t nlen;
	int rc = 0;

	for (; rc == 0 && l < end; l = nl) {
		nl = memchr(l, '\n', (size_t)(end - l));
		nl = nl != NULL ? nl + 1 : end;
		tail = nl;
		while (tail > l && (tail[-1] == '\n' || tail[-1] == '\r'))
			tail--;
		v = NULL;
		if (pending) {
			for (v = l; v < tail && (*v == ' ' || *v == '\t'); v++)
				;
			if (v == tail) {	/* blank: keep waiting */
				rc = buf_add(out, l, (size_t)(nl - l));
				continue;
			}
			pending = false;
		} else if ((nm = conf_find_secret_name(l, (size_t)(tail - l), &nlen)) != NULL) {
			for (v = nm + nlen; v < tail && *v != ':' && *v != '='; v++)
				;
			if (v >= tail) {
				pending = true;
				v = NULL;
			} else {
				const char *r;

				for (r = ++v; r < tail && (*r == ' ' || *r == '\t'); r++)
					;
				if (r == tail) {	/* "name":  and the value below */
					pending = true;
					v = NULL;
				}
			}
		}
		if (v == NULL) {
			rc = buf_add(out, l, (size_t)(nl - l));
			continue;
		}
		rc = buf_add(out, l, (size_t)(v - l));
		if (rc == 0 && v < tail && v[0] == ' ')
			rc = buf_addc(out, ' ');
		if (rc == 0)
			rc = buf_add(out, masked, sizeof(masked) - 1);
		if (rc == 0 && tail > v && tail[-1] == ',')
			rc = buf_addc(out, ',');
		if (rc == 0)
			rc = buf_add(out, tail, (size_t)(nl - tail));
	}
	return rc;
}

static int
load_quiet(const char *buf, size_t len, struct json_doc **doc)
{
	char *t = NULL;
	const char *why;
	size_t off;
	int rc;

	*doc = NULL;
	if ((rc = conf_strip_comments(buf, len, &t, &off, &why)) != 0)
		return rc;
	rc = json_parse(t, len, doc, &off);
	free(t);
	return rc;
}

/* a top-level secret member that a read of the mount shows masked */
static int
view_secret(const struct json *root, const char *key, char **dst)
{
	const char *v = json_str(json_get(root, key));

	if (v == NULL || strcmp(v, CONF_MASK) != 0)
		return 0;
	return secret_dup(CONF_MASK, dst);
}

int
conf_source_view_prev(const char *buf, size_t len, struct conf_source **out)
{
	struct json_doc *doc = NULL;
	struct conf_source *s = NULL;
	const struct json *root;
	int rc;

	*out = NULL;
	if ((rc = load_quiet(buf, len, &doc)) != 0)
		return rc == -ENOMEM ? rc : 0;
	root = json_doc_root(doc);
	rc = -ENOMEM;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    view_secret(root, "accessKey", &s->access_key) != 0 ||
	    view_secret(root, "securityToken", &s->token) != 0)
		goto out;
	if (s->access_key != NULL || s->token != NULL) {
		*out = s;	/* type 0: matches any type */
		s = NULL;
	}
	rc = 0;
out:
	conf_source_free(s);
	json_doc_free(doc);
	return rc;
}

int
conf_mask_text(const char *buf, size_t len, struct buf *out)
{
	struct json_doc *doc = NULL;
	struct repls r = { 0 };
	size_t start = out->len;
	int rc;

	rc = load_quiet(buf, len, &doc);
	if (rc == -ENOMEM)
		return rc;
	if (rc == 0 && (rc = mask_walk(doc, json_doc_root(doc), false, &r)) == 0)
		rc = emit_repls(buf, len, &r, out);
	free(r.v);
	json_doc_free(doc);
	if (rc == -ENOMEM || rc == -E2BIG)
		return rc;
	if (rc != 0) {	/* not JSON (or a member not located): by line */
		buf_truncate(out, start);
		rc = mask_lines(buf, len, out);
	}
	return rc;
}

static int
merge_walk(const struct json_doc *nd, const struct json *n,
    const struct json_doc *od, const struct json *o, bool all, struct repls *r,
    struct eng_errbuf *eb)
{
	const struct json *m, *om;
	const char *nt, *ot;
	size_t ntl, otl, i = 0, noff, ooff;
	int rc;

	nt = json_doc_text(nd, &ntl);
	ot = json_doc_text(od, &otl);
	for (m = json_first(n); m != NULL; m = json_next(m), i++) {
		bool sec;

		if (json_type(n) == JSON_OBJECT)
			om = json_get(o, json_key(m));
		else {
			size_t k;

			for (om = json_first(o), k = 0; om != NULL && k < i; k++)
				om = json_next(om);
		}
		sec = all || (json_type(n) == JSON_OBJECT && conf_is_secret_key(json_key(m)));
		if (sec && json_str(m) != NULL && strcmp(json_str(m), CONF_MASK) == 0) {
			/* the stored value: any scalar (a number shows as "******" too) */
			if (om == NULL || json_type(om) == JSON_OBJECT || json_type(om) == JSON_ARRAY ||
			    (json_str(om) != NULL && strcmp(json_str(om), CONF_MASK) == 0))
				return eng_errbuf_set(eb, ENG_EINVAL,
				    "\"%s\" is \"%s\" but no stored value exists for it; write the real value",
				    json_key(m), CONF_MASK);
			noff = json_doc_val_off(nd, m);
			ooff = json_doc_val_off(od, om);
			if (noff == JSON_NOOFF || ooff == JSON_NOOFF)
				return eng_errbuf_set(eb, ENG_EINVAL, "cannot locate \"%s\"", json_key(m));
			if ((rc = repls_add(r, noff, token_end(nt, ntl, noff), ot + ooff,
			    token_end(ot, otl, ooff) - ooff)) != 0)
				return rc;
			continue;
		}
		if ((rc = merge_walk(nd, m, od, om, sec, r, eb)) != 0)
			return rc;
	}
	return 0;
}

int
conf_merge_secrets_text(const char *buf, size_t len, const char *old,
    size_t oldlen, struct buf *out, struct eng_errbuf *eb)
{
	struct json_doc *nd = NULL, *od = NULL;
	struct repls r = { 0 };
	int rc;

	if ((rc = load_quiet(buf, len, &nd)) != 0) {
		if (rc != -ENOMEM)
			eng_errbuf_set(eb, rc, "the new file does not parse");
		goto out;
	}
	if (old != NULL && (rc = load_quiet(old, oldlen, &od)) == -ENOMEM)
		goto out;
	if ((rc = merge_walk(nd, json_doc_root(nd), od, json_doc_root(od), false, &r, eb)) == 0)
		rc = emit_repls(buf, len, &r, out);
out:
	free(r.v);
	json_doc_free(nd);
	json_doc_free(od);
	return rc;
}

/* ---- source sets -------------------------------------------------------- */

struct conf_srcset {
	struct conf_source	**v;
	size_t			  n, cap;
};

int
conf_srcset_new(struct conf_srcset **out)
{
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? 0 : -ENOMEM;
}

void
conf_srcset_free(struct conf_srcset *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		conf_source_free(set->v[i]);
	free(set->v);
	free(set);
}

int
conf_srcset_add(struct conf_srcset *set, struct conf_source *src)
{
	size_t i;

	if (src == NULL)
		return -EINVAL;
	for (i = 0; i < set->n; i++)
		if (src->name != NULL && set->v[i]->name != NULL &&
		    strcmp(set->v[i]->name, src->name) == 0) {
			conf_source_free(set->v[i]);
			set->v[i] = src;
			return 0;
		}
	if (set->n == set->cap) {
		size_t ncap = set->cap ? set->cap * 2 : 4;
		struct conf_source **nv = realloc(set->v, ncap * sizeof(*nv));

		if (nv == NULL) {
			conf_source_free(src);
			return -ENOMEM;
		}
		set->v = nv;
		set->cap = ncap;
	}
	set->v[set->n++] = src;
	return 0;
}

const struct conf_source *
conf_srcset_lookup(void *arg, const char *name)
{
	const struct conf_srcset *set = arg;
	size_t i;

	for (i = 0; set != NULL && name != NULL && i < set->n; i++)
		if (set->v[i]->name != NULL && strcmp(set->v[i]->name, name) == 0)
			return set->v[i];
	return NULL;
}

/* ---- classification ----------------------------------------------------- */

enum conf_kind
conf_kind_of(const char *buf, size_t len)
{
	struct json_doc *doc = NULL;
	const struct json *root;
	const char *t;
	enum conf_kind k = CONF_KIND_UNKNOWN;

	if (load_quiet(buf, len, &doc) != 0)
		return k;
	root = json_doc_root(doc);
	t = json_str(json_get(root, "type"));
	if (t != NULL && strcmp(t, "job") == 0)
		k = CONF_KIND_JOB;
	else if (t != NULL && (strcmp(t, "ots") == 0 || strcmp(t, "oss") == 0))
		k = CONF_KIND_SOURCE;
	else if (json_get(root, "configuration") != NULL)
		k = CONF_KIND_JOB;
	else if (json_get(root, "type") != NULL || json_get(root, "endpoint") != NULL)
		k = CONF_KIND_SOURCE;
	json_doc_free(doc);
	return k;
}

int
conf_name_from_path(const char *path, struct buf *out)
{
	const char *b = strrchr(path, '/');
	size_t n;

	b = b != NULL ? b + 1 : path;
	n = strlen(b);
	if (n > 5 && strcmp(b + n - 5, ".json") == 0)
		n -= 5;
	return buf_add(out, b, n);
}
