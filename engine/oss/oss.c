/* SPDX-License-Identifier: MIT */
/*
 * oss.c - the OSS client core: configuration and endpoint parsing
 * (addressing, region), the transport pool, request building and signing
 * (V1/V4 via sign.h), the retry loop and the mapping of OSS errors onto the
 * engine's error space.  Operations live in oss_ops.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "crc64.h"
#include "num.h"
#include "oss_i.h"
#include "xml.h"


void
oss_err_set(struct oss_error *err, const char *op, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
	err->rc = rc;
	oss_copy(err->op, sizeof(err->op), op);
	va_start(ap, fmt);
	(void)vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

void
oss_error_format(const struct oss_error *e, char *out, size_t outsz)
{
	struct buf b;

	if (outsz == 0)
		return;
	buf_init(&b, BUF_MAX_SMALL);
	(void)buf_printf(&b, "%s: ", e->op[0] != '\0' ? e->op : "oss");
	if (e->status != 0)
		(void)buf_printf(&b, "HTTP %d ", e->status);
	if (e->code[0] != '\0')
		(void)buf_printf(&b, "%s: ", e->code);
	else if (e->status == 0 || e->status / 100 == 2)
		(void)buf_printf(&b, "%s: ", eng_strerror(e->rc));
	(void)buf_addstr(&b, e->message[0] != '\0' ? e->message : eng_strerror(e->rc));
	(void)buf_addstr(&b, " (");
	if (e->request_id[0] != '\0')
		(void)buf_printf(&b, "RequestId %s, ", e->request_id);
	if (e->ec[0] != '\0')
		(void)buf_printf(&b, "EC %s, ", e->ec);
	(void)buf_printf(&b, "%u attempt%s)", e->attempts, e->attempts == 1 ? "" : "s");
	oss_copy(out, outsz, b.err == 0 ? b.p : "oss: error message too long");
	buf_free(&b);
}


int
oss_key_check(const char *key)
{
	size_t n;
	struct buf b;
	int rc;

	if (key == NULL || (n = strlen(key)) == 0 || n > 1023 ||
	    key[0] == '/' || key[0] == '\\')
		return ENG_EINVAL;
	/* UTF-8 and XML-representable (DeleteMultipleObjects carries keys) */
	buf_init(&b, 8192);
	rc = xml_escape(&b, key, n);
	buf_free(&b);
	return rc == 0 ? 0 : ENG_EINVAL;
}

void
oss_config_defaults(struct oss_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sigver = OSS_SIG_V4;
	cfg->addressing = OSS_ADDR_AUTO;
	cfg->max_retries = 3;
	cfg->retry_base_ms = 200;
	cfg->retry_max_ms = 20000;
	cfg->part_size = OSS_PART_DEFAULT;
	cfg->parallel = 4;
}

static bool
oss_bucket_ok(const char *b)
{
	size_t n = b == NULL ? 0 : strlen(b), i;

	if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') ||
		    b[i] == '-'))
			return false;
	return true;
}

/* split the endpoint; host gets the bare host (no port, no brackets) */
static int
oss_parse_endpoint(struct oss *oss, const char *ep, char *host, size_t hostsz,
    bool *is_ip, struct eng_errbuf *eb)
{
	const char *rest, *end, *colon;
	size_t n, hn;
	unsigned char a6[16];

	*is_ip = false;
	if (ep == NULL || *ep == '\0')
		return eng_errbuf_set(eb, ENG_EINVAL, "endpoint is empty");
	if (strncasecmp(ep, "https://", 8) == 0) {
		oss->scheme = strdup("https");
		rest = ep + 8;
	} else if (strncasecmp(ep, "http://", 7) == 0) {
		oss->scheme = strdup("http");
		rest = ep + 7;
	} else if (strstr(ep, "://") != NULL) {
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "endpoint must start with http:// or https://");
	} else {
		oss->scheme = strdup("https");
		rest = ep;
	}
	if (oss->scheme == NULL)
		return -ENOMEM;
	n = strlen(rest);
	if (n > 0 && rest[n - 1] == '/')
		n--;
	if (n == 0 || n > 255 || memchr(rest, '/', n) != NULL ||
	    strpbrk(rest, "@?# \t") != NULL)
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "endpoint must be scheme://host[:port] without a path");
	if ((oss->hostport = strndup(rest, n)) == NULL)
		return -ENOMEM;
	if (rest[0] == '[') {
		end = memchr(rest, ']', n);
		if (end == NULL)
			return eng_errbuf_set(eb, ENG_EINVAL, "endpoint: bad IPv6 literal");
		hn = (size_t)(end - rest - 1);
		if (hn >= hostsz)
			return ENG_EINVAL;
		memcpy(host, rest + 1, hn);
		host[hn] = '\0';
		if (inet_pton(AF_INET6, host, a6) != 1)
			return eng_errbuf_set(eb, ENG_EINVAL, "endpoint: bad IPv6 literal");
		colon = end + 1 < rest + n ? end + 1 : NULL;
		*is_ip = true;
	} else {
		colon = memchr(rest, ':', n);
		hn = colon == NULL ? n : (size_t)(colon - rest);
		if (hn == 0 || hn >= hostsz)
			return eng_errbuf_set(eb, ENG_EINVAL, "endpoint: bad host");
		memcpy(host, rest, hn);
		host[hn] = '\0';
		*is_ip = inet_pton(AF_INET, host, a6) == 1 ||
		    strcasecmp(host, "localhost") == 0;
	}
	if (colon != NULL) {
		const char *p = colon;
		uint64_t port;
		char pb[8];
		size_t pn = (size_t)(rest + n - p) - 1;

		if (*p != ':' || pn == 0 || pn >= sizeof(pb))
			return eng_errbuf_set(eb, ENG_EINVAL, "endpoint: bad port");
		memcpy(pb, p + 1, pn);
		pb[pn] = '\0';
		if (num_u64(pb, (size_t)-1, UINT64_MAX, &port) != 0 || port == 0 || port > 65535)
			return eng_errbuf_set(eb, ENG_EINVAL, "endpoint: bad port");
	}
	return 0;
}

/* "oss-cn-hangzhou[-internal].aliyuncs.com" -> "cn-hangzhou" */
static int
oss_derive_region(const char *host, bool is_ip, char *out, size_t outsz)
{
	const char *dot;
	size_t n;

	if (is_ip) {
		oss_copy(out, outsz, "cn-hangzhou");
		return 0;
	}
	if (strncasecmp(host, "oss-", 4) != 0 || (dot = strchr(host, '.')) == NULL)
		return ENG_EINVAL;
	n = (size_t)(dot - host) - 4;
	if (n > 9 && strncasecmp(dot - 9, "-internal", 9) == 0)
		n -= 9;
	if (n == 0 || n >= outsz)
		return ENG_EINVAL;
	memcpy(out, host + 4, n);
	out[n] = '\0';
	return 0;
}

void
oss_free(struct oss *oss)
{
	size_t i;

	if (oss == NULL)
		return;
	for (i = 0; i < oss->npool; i++)
		http_transport_free(oss->pool[i]);
	free(oss->pool);
	if (oss->own_proto)
		http_transport_free(oss->proto);
	pthread_mutex_destroy(&oss->lock);
	free(oss->scheme);
	free(oss->hostport);
	free(oss->bucket);
	free(oss->region);
	free(oss);
}

int
oss_new(const struct oss_config *cfg, struct oss **out, struct eng_errbuf *eb)
{
	struct oss *oss = NULL;
	char host[256], region[64];
	bool is_ip;
	int rc = -ENOMEM;

	*out = NULL;
	if (cfg == NULL || cfg->cred == NULL)
		return eng_errbuf_set(eb, ENG_EINVAL, "oss: credentials missing");
	if (!oss_bucket_ok(cfg->bucket))
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "oss: bucket name must be 3-63 characters of a-z, 0-9 and '-'");
	if (cfg->sigver != OSS_SIG_V4 && cfg->sigver != OSS_SIG_V1)
		return eng_errbuf_set(eb, ENG_EINVAL, "oss: signature version must be 1 or 4");
	if (cfg->part_size < OSS_PART_MIN || cfg->part_size > OSS_PART_MAX)
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "oss: part size must be between 100 KiB and 5 GiB");
	if (cfg->parallel < 1 || cfg->parallel > 64)
		return eng_errbuf_set(eb, ENG_EINVAL, "oss: parallel parts must be 1..64");
	if (cfg->max_retries > 100)
		return eng_errbuf_set(eb, ENG_EINVAL, "oss: max retries must be 0..100");
	if ((oss = calloc(1, sizeof(*oss))) == NULL)
		return -ENOMEM;
	if (pthread_mutex_init(&oss->lock, NULL) != 0) {
		free(oss);
		return -ENOMEM;
	}
	if ((rc = oss_parse_endpoint(oss, cfg->endpoint, host, sizeof(host), &is_ip,
	    eb)) != 0)
		goto out;
	if (cfg->region != NULL && cfg->region[0] != '\0') {
		oss_copy(region, sizeof(region), cfg->region);
		if (strncmp(region, "oss-", 4) == 0)	/* tolerate "oss-cn-hangzhou" */
			memmove(region, region + 4, strlen(region + 4) + 1);
	} else if (oss_derive_region(host, is_ip, region, sizeof(region)) != 0) {
		if (cfg->sigver == OSS_SIG_V4) {
			rc = eng_errbuf_set(eb, ENG_EINVAL, "oss: cannot derive the "
			    "region from endpoint host %s; set region", host);
			goto out;
		}
		region[0] = '\0';
	}
	rc = -ENOMEM;
	if ((oss->region = strdup(region)) == NULL ||
	    (oss->bucket = strdup(cfg->bucket)) == NULL)
		goto out;
	switch (cfg->addressing) {
	case OSS_ADDR_VHOST:	oss->path_style = false; break;
	case OSS_ADDR_PATH:	oss->path_style = true; break;
	default:		oss->path_style = is_ip; break;
	}
	oss->sigver = cfg->sigver;
	oss->cred = cfg->cred;
	oss->max_retries = cfg->max_retries;
	oss->retry_base_ms = cfg->retry_base_ms != 0 ? cfg->retry_base_ms : 200;
	oss->retry_max_ms = cfg->retry_max_ms != 0 ? cfg->retry_max_ms : 20000;
	oss->part_size = cfg->part_size;
	oss->parallel = cfg->parallel;
	oss->timeout_ms = cfg->timeout_ms;
	oss->now = cfg->now;
	oss->sleep = cfg->sleep;
	oss->rand = cfg->rand;
	oss->hook_arg = cfg->hook_arg;
	if (cfg->transport != NULL) {
		oss->proto = cfg->transport;
	} else {
		struct http_curl_config hc;

		memset(&hc, 0, sizeof(hc));
		hc.ca_file = cfg->ca_file;
		hc.connect_timeout_ms = cfg->connect_timeout_ms;
		hc.timeout_ms = cfg->timeout_ms;
		if ((rc = http_curl_new(&hc, &oss->proto)) != 0) {
			(void)eng_errbuf_set(eb, rc, "oss: cannot create the HTTP transport");
			goto out;
		}
		oss->own_proto = true;
	}
	*out = oss;
	oss = NULL;
	rc = 0;
out:
	oss_free(oss);
	return rc;
}

const char *
oss_region(const struct oss *oss)
{
	return oss->region;
}

bool
oss_path_style(const struct oss *oss)
{
	return oss->path_style;
}

uint64_t
oss_part_size(const struct oss *oss)
{
	return oss->part_size;
}

int
oss_object_url(const struct oss *oss, const char *key, struct buf *out)
{
	(void)buf_printf(out, "%s://", oss->scheme);
	if (!oss->path_style)
		(void)buf_printf(out, "%s.", oss->bucket);
	(void)buf_printf(out, "%s/", oss->hostport);
	if (oss->path_style)
		(void)buf_printf(out, "%s/", oss->bucket);
	if (key != NULL)
		return http_pct_encode(out, key, strlen(key), HTTP_PCT_KEEP_SLASH);
	return out->err;
}

/* ---- transport pool -------------------------------------------------------- */

static int
oss_conn_get(struct oss *oss, struct http_transport **out)
{
	struct http_transport *t = NULL;

	pthread_mutex_lock(&oss->lock);
	if (oss->npool > 0)
		t = oss->pool[--oss->npool];
	pthread_mutex_unlock(&oss->lock);
	if (t != NULL) {
		*out = t;
		return 0;
	}
	return http_clone(oss->proto, out);
}

static void
oss_conn_put(struct oss *oss, struct http_transport *t)
{
	if (t == NULL)
		return;
	pthread_mutex_lock(&oss->lock);
	if (oss->npool == oss->cappool) {
		size_t ncap = oss->cappool == 0 ? 4 : oss->cappool * 2;
		struct http_transport **np = realloc(oss->pool, ncap * sizeof(*np));

		if (np == NULL) {
			pthread_mutex_unlock(&oss->lock);
			http_transport_free(t);
			return;
		}
		oss->pool = np;
		oss->cappool = ncap;
	}
	oss->pool[oss->npool++] = t;
	pthread_mutex_unlock(&oss->lock);
}

/* ---- calls ---------------------------------------------------------------- */

void
oss_call_init(struct oss_call *c, const char *op, const char *method,
    const char *key)
{
	memset(c, 0, sizeof(*c));
	c->op = op;
	c->method = method;
	c->key = key;
}

void
oss_call_query(struct oss_call *c, const char *k, const char *v)
{
	if (c->nquery < OSS_CALL_MAXQ) {
		c->query[c->nquery].key = k;
		c->query[c->nquery].value = v;
		c->nquery++;
	}
}

void
oss_call_header(struct oss_call *c, const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < c->nhdrs; i++)
		if (strcasecmp(c->hdrs[i].name, name) == 0) {
			c->hdrs[i].value = value;
			return;
		}
	if (c->nhdrs < OSS_CALL_MAXH) {
		c->hdrs[c->nhdrs].name = name;
		c->hdrs[c->nhdrs].value = value;
		c->nhdrs++;
	}
}

void
oss_wire_init(struct oss_wire *w)
{
	memset(w, 0, sizeof(*w));
	buf_init(&w->url, BUF_MAX_SMALL);
	buf_init(&w->authz, 1024);
}

void
oss_wire_free(struct oss_wire *w)
{
	buf_free(&w->url);
	buf_free(&w->authz);
}

static void
oss_wire_add(struct oss_wire *w, const char *name, const char *value)
{
	w->hdrs[w->nhdrs].name = name;
	w->hdrs[w->nhdrs].value = value;
	w->nhdrs++;
}

static bool
oss_has_header(const struct oss_call *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nhdrs; i++)
		if (strcasecmp(c->hdrs[i].name, name) == 0)
			return true;
	return false;
}

int
oss_build(const struct oss *oss, const struct oss_call *c, const char *md5,
    time_t now, struct oss_wire *w)
{
	struct sign_oss_req sr;
	const char *token = sign_cred_token(oss->cred);
	size_t i;
	int rc;

	buf_reset(&w->url);
	buf_reset(&w->authz);
	w->nhdrs = 0;
	if ((rc = oss_object_url(oss, c->key, &w->url)) != 0)
		return rc;
	for (i = 0; i < c->nquery; i++) {
		const struct http_param *q = &c->query[i];

		(void)buf_addc(&w->url, i == 0 ? '?' : '&');
		(void)http_pct_encode(&w->url, q->key, strlen(q->key), 0);
		if (q->value != NULL) {
			(void)buf_addc(&w->url, '=');
			(void)http_pct_encode(&w->url, q->value, strlen(q->value), 0);
		}
	}
	if (w->url.err != 0)
		return w->url.err;
	for (i = 0; i < c->nhdrs; i++)
		oss_wire_add(w, c->hdrs[i].name, c->hdrs[i].value);
	if ((strcmp(c->method, "PUT") == 0 || strcmp(c->method, "POST") == 0) &&
	    !oss_has_header(c, "Content-Type"))
		oss_wire_add(w, "Content-Type", "application/octet-stream");
	if (md5 != NULL)
		oss_wire_add(w, "Content-MD5", md5);
	if (oss->sigver == OSS_SIG_V4)
		rc = sign_date_iso8601_basic(now, w->date);
	else
		rc = sign_date_rfc1123(now, w->date);
	if (rc != 0)
		return rc;
	oss_wire_add(w, "x-oss-date", w->date);
	if (oss->sigver == OSS_SIG_V4)
		oss_wire_add(w, "x-oss-content-sha256", "UNSIGNED-PAYLOAD");
	if (token != NULL && *token != '\0')
		oss_wire_add(w, "x-oss-security-token", token);
	memset(&sr, 0, sizeof(sr));
	sr.method = c->method;
	sr.bucket = oss->bucket;
	sr.key = c->key;
	sr.hdrs = w->hdrs;
	sr.nhdrs = w->nhdrs;
	sr.query = c->query;
	sr.nquery = c->nquery;
	if (oss->sigver == OSS_SIG_V4) {
		struct sign_v4 v;

		memset(&v, 0, sizeof(v));
		v.region = oss->region;
		rc = sign_oss_v4_header(oss->cred, &sr, &v, &w->authz);
	} else {
		rc = sign_oss_v1_header(oss->cred, &sr, &w->authz);
	}
	if (rc != 0)
		return rc;
	oss_wire_add(w, "Authorization", w->authz.p);
	return 0;
}

/* ---- bodies ----------------------------------------------------------------- */

#define OSS_IO_CHUNK	((size_t)256 << 10)

static int
oss_pread_full(int fd, void *dst, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (char *)dst + got, n - got, (off_t)(off + got));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;	/* the staged region shrank */
		got += (size_t)r;
	}
	return 0;
}

int
oss_src_digest(const struct oss_src *s, char md5[SIGN_MD5_B64_SIZE], uint64_t *crc)
{
	struct sign_hash *h = NULL;
	uint8_t dig[SIGN_MD5_LEN];
	char *chunk = NULL;
	uint64_t pos = 0, c = 0;
	int rc;

	if (s->fd < 0) {
		if (s->mem == NULL && s->len != 0)
			return -EINVAL;
		if ((rc = sign_content_md5(s->len != 0 ? s->mem : "", (size_t)s->len,
		    md5)) != 0)
			return rc;
		*crc = s->len != 0 ? crc64_compute(s->mem, (size_t)s->len) : 0;
		return 0;
	}
	if ((rc = sign_hash_new(SIGN_HASH_MD5, &h)) != 0)
		return rc;
	rc = -ENOMEM;
	if ((chunk = malloc(OSS_IO_CHUNK)) == NULL)
		goto out;
	while (pos < s->len) {
		size_t k = s->len - pos < OSS_IO_CHUNK ? (size_t)(s->len - pos) :
		    OSS_IO_CHUNK;

		if ((rc = oss_pread_full(s->fd, chunk, k, s->off + pos)) != 0)
			goto out;
		if ((rc = sign_hash_update(h, chunk, k)) != 0)
			goto out;
		c = crc64_update(c, chunk, k);
		pos += k;
	}
	if ((rc = sign_hash_final(h, dig, sizeof(dig))) != 0)
		goto out;
	if ((rc = sign_base64_encode(dig, sizeof(dig), md5, SIGN_MD5_B64_SIZE)) != 0)
		goto out;
	*crc = c;
	rc = 0;
out:
	free(chunk);
	sign_hash_free(h);
	return rc;
}

struct oss_reader {
	const struct oss_src	*src;
	uint64_t		 pos;
};

static ssize_t
oss_reader_read(void *arg, void *dst, size_t n)
{
	struct oss_reader *r = arg;
	uint64_t left = r->src->len - r->pos;
	int rc;

	if (left == 0)
		return 0;
	if (n > left)
		n = (size_t)left;
	if (n > OSS_IO_CHUNK)
		n = OSS_IO_CHUNK;
	if ((rc = oss_pread_full(r->src->fd, dst, n, r->src->off + r->pos)) != 0)
		return rc;
	r->pos += n;
	return (ssize_t)n;
}

static int
oss_reader_rewind(void *arg)
{
	struct oss_reader *r = arg;

	r->pos = 0;
	return 0;
}

/* ---- errors ----------------------------------------------------------------- */

struct oss_code_map {
	const char	*code;
	int		 rc;
	bool		 retry;
};

static const struct oss_code_map oss_codes[] = {
	{ "NoSuchKey",			ENG_ENOTFOUND,	false },
	{ "NoSuchBucket",		ENG_ENOTFOUND,	false },
	{ "NoSuchUpload",		ENG_ENOTFOUND,	false },
	{ "FileAlreadyExists",		ENG_ECONFLICT,	false },
	{ "PositionNotEqualToLength",	ENG_ECONFLICT,	false },
	{ "ObjectNotAppendable",	ENG_ECONFLICT,	false },
	{ "SignatureDoesNotMatch",	ENG_ESIG,	false },
	{ "InvalidAccessKeyId",		ENG_ESIG,	false },
	{ "RequestTimeTooSkewed",	ENG_ESIG,	false },
	{ "AccessDenied",		-EACCES,	false },
	{ "SlowDown",			ENG_ETHROTTLE,	true },
	{ "Throttling",			ENG_ETHROTTLE,	true },
	{ "TooManyRequests",		ENG_ETHROTTLE,	true },
	{ "RequestLimitExceeded",	ENG_ETHROTTLE,	true },
	{ "QpsLimitExceeded",		ENG_ETHROTTLE,	true },
	{ "ServiceUnavailable",		ENG_ETHROTTLE,	true },
	{ "RequestTimeout",		ENG_EREMOTE,	true },
	{ "InternalError",		ENG_EREMOTE,	true },
	{ "InvalidDigest",		ENG_ECHECKSUM,	true },
	/* the request itself is refused (contrib/doc/oss.md 1.5) */
	{ "InvalidArgument",		ENG_EREJECTED,	false },
	{ "InvalidObjectName",		ENG_EREJECTED,	false },
	{ "InvalidBucketName",		ENG_EREJECTED,	false },
	{ "MalformedXML",		ENG_EREJECTED,	false },
	{ "InvalidRequest",		ENG_EREJECTED,	false },
	{ "EntityTooSmall",		ENG_EREJECTED,	false },
	{ "EntityTooLarge",		ENG_EREJECTED,	false },
	{ "MissingContentLength",	ENG_EREJECTED,	false },
};

int
oss_map_error(int status, const char *code, bool *retryable)
{
	size_t i;

	*retryable = false;
	if (code != NULL && *code != '\0')
		for (i = 0; i < sizeof(oss_codes) / sizeof(oss_codes[0]); i++)
			if (strcmp(code, oss_codes[i].code) == 0) {
				*retryable = oss_codes[i].retry || status >= 500;
				return oss_codes[i].rc;
			}
	if (status == 429 || status == 503) {
		*retryable = true;
		return ENG_ETHROTTLE;
	}
	if (status >= 500) {
		*retryable = true;
		return ENG_EREMOTE;
	}
	switch (status) {
	case 404:	return ENG_ENOTFOUND;
	case 409:	return ENG_ECONFLICT;
	case 403:	return -EACCES;
	case 408:	return ENG_EREMOTE;	/* a timeout passes */
	default:
		/* any other 4xx: this request is refused, and would be again */
		return status >= 400 && status < 500 ? ENG_EREJECTED : ENG_EREMOTE;
	}
}

/* fill e from a non-2xx response */
static int
oss_error_from_response(const struct http_response *r, struct oss_error *e,
    bool *retryable)
{
	const char *h;
	bool parsed = false;

	e->status = r->status;
	if (r->body.len != 0 && oss_xml_error(r->body.p, r->body.len, e) == 0)
		parsed = true;
	if (!parsed && (h = http_response_header(r, "x-oss-err")) != NULL) {
		/* HEAD errors carry the XML base64-encoded in a header */
		uint8_t dec[4096];
		size_t dn;

		if (sign_base64_decode(h, strlen(h), dec, sizeof(dec), &dn) == 0)
			parsed = oss_xml_error((const char *)dec, dn, e) == 0;
	}
	if (e->request_id[0] == '\0' &&
	    (h = http_response_header(r, "x-oss-request-id")) != NULL)
		oss_copy(e->request_id, sizeof(e->request_id), h);
	if (e->ec[0] == '\0' && (h = http_response_header(r, "x-oss-ec")) != NULL)
		oss_copy(e->ec, sizeof(e->ec), h);
	if ((h = http_response_header(r, "x-oss-next-append-position")) != NULL &&
	    num_u64(h, (size_t)-1, UINT64_MAX, &e->next_append) == 0)
		e->has_next_append = true;
	if (!parsed && e->message[0] == '\0')
		oss_copy(e->message, sizeof(e->message),
		    r->status == 404 ? "not found (no error body)" :
		    "no error document in the response");
	return oss_map_error(r->status, e->code, retryable);
}

static bool
oss_transport_retryable(int rc)
{
	return rc == ENG_ECONN || rc == -ETIMEDOUT || rc == ENG_EPROTO ||
	    rc == -ECONNRESET || rc == -EPIPE;
}

static void
oss_default_sleep(uint64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void
oss_backoff(const struct oss *oss, unsigned attempt)
{
	uint64_t ms = http_backoff_ms(attempt, oss->retry_base_ms,
	    oss->retry_max_ms, oss->rand, oss->hook_arg);

	if (oss->sleep != NULL)
		oss->sleep(oss->hook_arg, ms);
	else
		oss_default_sleep(ms);
}

static time_t
oss_now(const struct oss *oss)
{
	return oss->now != NULL ? oss->now(oss->hook_arg) : time(NULL);
}

int
oss_exec(struct oss *oss, struct oss_call *c, struct http_response *resp,
    struct oss_error *err)
{
	struct http_transport *t = NULL;
	struct oss_wire w;
	struct oss_error e;
	struct oss_reader rd;
	struct http_request req;
	unsigned attempt;
	bool retry;
	int rc;

	oss_wire_init(&w);
	memset(&e, 0, sizeof(e));
	c->attempts = 0;
	c->retryable = false;
	if (c->body != NULL && !c->digested) {
		if ((rc = oss_src_digest(c->body, c->md5, &c->body_crc)) != 0) {
			oss_err_set(&e, c->op, rc, "cannot read the request body: %s",
			    eng_strerror(rc));
			goto out;
		}
		c->digested = true;
	}
	if ((rc = oss_conn_get(oss, &t)) != 0) {
		oss_err_set(&e, c->op, rc, "cannot create a connection");
		goto out;
	}
	for (attempt = 0;; attempt++) {
		struct eng_errbuf eb;

		if (attempt > 0)
			oss_backoff(oss, attempt - 1);
		c->attempts = attempt + 1;
		memset(&e, 0, sizeof(e));
		oss_copy(e.op, sizeof(e.op), c->op);
		retry = false;
		if (c->before != NULL && (rc = c->before(c->hook_arg, c, attempt)) != 0) {
			e.rc = rc;
			oss_copy(e.message, sizeof(e.message), eng_strerror(rc));
			break;
		}
		if ((rc = oss_build(oss, c, c->body != NULL ? c->md5 : NULL,
		    oss_now(oss), &w)) != 0) {
			e.rc = rc;
			oss_copy(e.message, sizeof(e.message), "cannot sign the request");
			break;
		}
		memset(&req, 0, sizeof(req));
		req.method = c->method;
		req.url = w.url.p;
		req.hdrs = w.hdrs;
		req.nhdrs = w.nhdrs;
		if (c->body != NULL) {
			req.body_len = c->body->len;
			if (c->body->fd < 0) {
				req.body = c->body->mem;
			} else {
				rd.src = c->body;
				rd.pos = 0;
				req.read_fn = oss_reader_read;
				req.rewind_fn = oss_reader_rewind;
				req.read_arg = &rd;
			}
		}
		req.write_fn = c->write_fn;
		req.write_arg = c->write_arg;
		req.max_body = c->max_body;
		req.timeout_ms = oss->timeout_ms;
		eb.msg[0] = '\0';
		rc = http_perform(t, &req, resp, &eb);
		if (rc != 0) {
			e.rc = rc;
			oss_copy(e.message, sizeof(e.message),
			    eb.msg[0] != '\0' ? eb.msg : eng_strerror(rc));
			retry = oss_transport_retryable(rc);
		} else if (resp->status >= 200 && resp->status < 300) {
			const char *rid = http_response_header(resp, "x-oss-request-id");

			e.status = resp->status;
			if (rid != NULL)
				oss_copy(e.request_id, sizeof(e.request_id), rid);
			rc = c->check != NULL ? c->check(c->hook_arg, resp) : 0;
			if (rc == 0)
				break;
			e.rc = rc;
			oss_copy(e.message, sizeof(e.message), rc == ENG_ECHECKSUM ?
			    "CRC-64 of the stored data does not match what was sent" :
			    "unexpected response");
			retry = rc == ENG_ECHECKSUM;
		} else {
			rc = oss_error_from_response(resp, &e, &retry);
			e.rc = rc;
		}
		c->retryable = retry;
		if (!retry || c->no_retry || attempt >= oss->max_retries)
			break;
	}
out:
	e.attempts = c->attempts;
	e.rc = rc;
	if (err != NULL)
		*err = e;
	oss_conn_put(oss, t);
	oss_wire_free(&w);
	return rc;
}
