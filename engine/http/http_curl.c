/* SPDX-License-Identifier: MIT */
/*
 * http_curl.c - the production HTTP transport, over libcurl.  The only file
 * that includes <curl/curl.h>; CURLcode never leaves it (see http.h for the
 * error translation).
 *
 * One CURL easy handle per transport instance, reused across perform()
 * calls: curl_easy_reset() keeps the handle's connection cache, so
 * consecutive requests to the same host reuse one keep-alive connection.
 * Hence an instance serves one thread at a time; workers clone().
 *
 * Always: CURLOPT_NOSIGNAL (no SIGALRM for DNS timeouts in a threaded
 * daemon), TLS peer and host verification on (there is deliberately no
 * option to switch it off), no redirects followed, http/https only.
 * The CA bundle is the configured one (a source's caFile), else
 * $CURL_CA_BUNDLE or $SSL_CERT_FILE, else libcurl's default.
 * curl_global_init runs once per process through pthread_once.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "err.h"
#include "http.h"

#ifndef DIFS_VERSION
#define DIFS_VERSION "dev"
#endif

struct http_curl {
	struct http_transport	 base;		/* must be first */
	CURL			*easy;
	struct http_curl_config	 cfg;		/* strings below are owned copies */
	char			*ca_file;
	char			*ca_path;
	char			*user_agent;
	char			*proxy;
	char			 errbuf[CURL_ERROR_SIZE];
};

/* state of one perform() */
struct http_curl_xfer {
	const struct http_request	*req;
	struct http_response		*resp;
	uint64_t			 sent;		/* body bytes handed to curl */
	int				 cb_rc;		/* first callback error */
	int				 status;	/* from the last status line */
};

/* process-wide libcurl initialisation (the one allowed global: init once) */
static pthread_once_t http_curl_once = PTHREAD_ONCE_INIT;
static CURLcode http_curl_init_rc = CURLE_FAILED_INIT;

static void
http_curl_global_init(void)
{
	http_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- callbacks ------------------------------------------------------------ */

static size_t
http_curl_read(char *dst, size_t size, size_t nitems, void *arg)
{
	struct http_curl_xfer *x = arg;
	const struct http_request *req = x->req;
	size_t n = size * nitems;
	uint64_t left = req->body_len - x->sent;
	ssize_t got;

	if (n > left)
		n = (size_t)left;
	if (n == 0)
		return 0;
	if (req->read_fn == NULL) {
		memcpy(dst, (const char *)req->body + x->sent, n);
		x->sent += n;
		return n;
	}
	got = req->read_fn(req->read_arg, dst, n);
	if (got < 0 || (size_t)got > n || got == 0) {
		/* an error, a lying callback, or a body shorter than announced */
		x->cb_rc = got < 0 ? (int)got : -EIO;
		return CURL_READFUNC_ABORT;
	}
	x->sent += (uint64_t)got;
	return (size_t)got;
}

static int
http_curl_seek(void *arg, curl_off_t off, int origin)
{
	struct http_curl_xfer *x = arg;
	const struct http_request *req = x->req;
	int rc;

	if (origin != SEEK_SET || off != 0)
		return CURL_SEEKFUNC_CANTSEEK;
	if (req->read_fn != NULL) {
		if (req->rewind_fn == NULL)
			return CURL_SEEKFUNC_CANTSEEK;
		if ((rc = req->rewind_fn(req->read_arg)) != 0) {
			x->cb_rc = rc;
			return CURL_SEEKFUNC_FAIL;
		}
	}
	x->sent = 0;
	return CURL_SEEKFUNC_OK;
}

static bool
http_curl_2xx(int status)
{
	return status >= 200 && status <= 299;
}

static size_t
http_curl_header(char *line, size_t size, size_t nitems, void *arg)
{
	struct http_curl_xfer *x = arg;
	size_t n = size * nitems, len = n;
	const char *colon;
	int rc;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		/* a new header block (after 100-continue etc.): start over */
		const char *sp = memchr(line, ' ', len);
		int st = 0, i;

		http_response_reset(x->resp);
		for (i = 1; sp != NULL && i <= 3 && (size_t)(sp - line) + (size_t)i < len; i++) {
			char c = sp[i];

			if (c < '0' || c > '9')
				break;
			st = st * 10 + (c - '0');
		}
		x->status = st;
		return n;
	}
	if (len == 0 || line[0] == ' ' || line[0] == '\t')
		return n;	/* end of block, or obsolete folding: ignored */
	if ((colon = memchr(line, ':', len)) == NULL)
		return n;
	rc = http_response_add_header(x->resp, line, (size_t)(colon - line),
	    colon + 1, len - (size_t)(colon - line) - 1);
	if (rc != 0) {
		x->cb_rc = rc;
		return 0;	/* aborts the transfer */
	}
	return n;
}

static size_t
http_curl_write(char *p, size_t size, size_t nitems, void *arg)
{
	struct http_curl_xfer *x = arg;
	const struct http_request *req = x->req;
	size_t n = size * nitems;
	int rc;

	if (req->write_fn != NULL && http_curl_2xx(x->status))
		rc = req->write_fn(req->write_arg, p, n);
	else
		rc = buf_add(&x->resp->body, p, n);
	if (rc != 0) {
		x->cb_rc = rc;
		return 0;	/* CURLE_WRITE_ERROR */
	}
	return n;
}

/* ---- errors ----------------------------------------------------------------- */

static int
http_curl_code(CURLcode code)
{
	switch (code) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_NOT_BUILT_IN:
		return ENG_EINVAL;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		return ENG_ETLS;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return ENG_EPROTO;
	case CURLE_FILESIZE_EXCEEDED:
		return -E2BIG;
	default:
		/* resolve/connect/send/recv/got-nothing/partial-file ... */
		return ENG_ECONN;
	}
}

/*
 * "METHOD scheme://host/path": the query and fragment dropped (presigned
 * URLs carry signatures) and so is any userinfo ("user:password@"), so
 * that no message repeats a credential written into an endpoint.
 */
static int
http_curl_fail(struct eng_errbuf *eb, int rc, const struct http_request *req,
    const char *detail)
{
	const char *url = req->url != NULL ? req->url : "";
	const char *auth = strstr(url, "://"), *at;
	size_t ulen = strcspn(url, "?#"), slen = 0, alen;

	if (auth != NULL && (size_t)(auth - url) < ulen) {
		auth += 3;
		alen = strcspn(auth, "/?#");
		/* the last '@' of the authority ends the userinfo */
		for (at = auth + alen; at > auth && at[-1] != '@'; at--)
			;
		if (at > auth) {
			slen = (size_t)(auth - url);	/* "scheme://" */
			ulen -= (size_t)(at - url);
			url = at;
		}
	}
	if (ulen > 200)
		ulen = 200;
	return eng_errbuf_set(eb, rc, "%s %.*s%.*s: %s", req->method != NULL ? req->method : "?",
	    (int)slen, req->url != NULL ? req->url : "", (int)ulen, url, detail);
}

/* ---- perform ------------------------------------------------------------------ */

static bool
http_curl_hdr_ok(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") == NULL;
}

/* "Name: value", or "Name;" which is curl's way to send an empty value */
static int
http_curl_headers(const struct http_request *req, struct curl_slist **out)
{
	struct curl_slist *list = NULL, *n;
	struct buf line;
	size_t i;
	int rc = 0;

	buf_init(&line, BUF_MAX_SMALL);
	for (i = 0; i < req->nhdrs; i++) {
		const struct http_hdr *h = &req->hdrs[i];

		if (!http_curl_hdr_ok(h->name) || !http_curl_hdr_ok(h->value) ||
		    *h->name == '\0' || strchr(h->name, ':') != NULL) {
			rc = ENG_EINVAL;
			goto out;
		}
		buf_reset(&line);
		if (*h->value == '\0')
			buf_printf(&line, "%s;", h->name);
		else
			buf_printf(&line, "%s: %s", h->name, h->value);
		if ((rc = line.err) != 0)
			goto out;
		if ((n = curl_slist_append(list, line.p)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		list = n;
	}
	*out = list;
	list = NULL;
out:
	curl_slist_free_all(list);
	buf_free(&line);
	return rc;
}

static int
http_curl_setup(struct http_curl *hc, struct http_curl_xfer *x,
    struct curl_slist *hdrs)
{
	const struct http_request *req = x->req;
	CURL *e = hc->easy;
	long timeout = req->timeout_ms != 0 ? (long)req->timeout_ms : (long)hc->cfg.timeout_ms;
	bool upload = strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0 ||
	    req->body_len > 0;
	CURLcode c = CURLE_OK;

#define SET(opt, val) do { if (c == CURLE_OK) c = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (hc->ca_file != NULL)
		SET(CURLOPT_CAINFO, hc->ca_file);
	if (hc->ca_path != NULL)
		SET(CURLOPT_CAPATH, hc->ca_path);
	if (hc->proxy != NULL)
		SET(CURLOPT_PROXY, hc->proxy);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)hc->cfg.connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, timeout);
	SET(CURLOPT_LOW_SPEED_LIMIT, (long)hc->cfg.low_speed_bytes);
	SET(CURLOPT_LOW_SPEED_TIME, (long)hc->cfg.low_speed_secs);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_USERAGENT, hc->user_agent);
	SET(CURLOPT_ERRORBUFFER, hc->errbuf);
	SET(CURLOPT_HEADERFUNCTION, http_curl_header);
	SET(CURLOPT_HEADERDATA, x);
	SET(CURLOPT_WRITEFUNCTION, http_curl_write);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HTTPHEADER, hdrs);
	if (strcmp(req->method, "HEAD") == 0) {
		SET(CURLOPT_NOBODY, 1L);
	} else if (upload) {
		SET(CURLOPT_UPLOAD, 1L);
		SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
		SET(CURLOPT_READFUNCTION, http_curl_read);
		SET(CURLOPT_READDATA, x);
		SET(CURLOPT_SEEKFUNCTION, http_curl_seek);
		SET(CURLOPT_SEEKDATA, x);
		if (strcmp(req->method, "PUT") != 0)
			SET(CURLOPT_CUSTOMREQUEST, req->method);
	} else if (strcmp(req->method, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
	} else {
		SET(CURLOPT_CUSTOMREQUEST, req->method);
	}
#undef SET
	return c == CURLE_OK ? 0 : http_curl_code(c);
}

static bool
http_curl_method_ok(const char *m)
{
	size_t i;

	if (m == NULL || *m == '\0' || strlen(m) > 16)
		return false;
	for (i = 0; m[i] != '\0'; i++)
		if (m[i] < 'A' || m[i] > 'Z')
			return false;
	return true;
}

static int
http_curl_perform(struct http_transport *t, const struct http_request *req,
    struct http_response *resp, struct eng_errbuf *eb)
{
	struct http_curl *hc = (struct http_curl *)t;
	struct http_curl_xfer x = { req, resp, 0, 0, 0 };
	struct curl_slist *hdrs = NULL;
	size_t max;
	CURLcode code;
	long status = 0;
	int rc;

	http_response_reset(resp);
	if (!http_curl_method_ok(req->method) || req->url == NULL ||
	    (req->read_fn == NULL && req->body == NULL && req->body_len > 0)) {
		rc = http_curl_fail(eb, ENG_EINVAL, req, "invalid request");
		goto out;
	}
	max = req->write_fn != NULL ? BUF_MAX_SMALL :
	    req->max_body != 0 ? req->max_body : BUF_MAX_DOC;
	buf_free(&resp->body);
	buf_init(&resp->body, max);
	if (req->read_fn != NULL && req->rewind_fn != NULL &&
	    (rc = req->rewind_fn(req->read_arg)) != 0) {
		rc = http_curl_fail(eb, rc, req, "cannot rewind request body");
		goto out;
	}
	if ((rc = http_curl_headers(req, &hdrs)) != 0) {
		rc = http_curl_fail(eb, rc, req, rc == ENG_EINVAL ?
		    "invalid request header" : eng_strerror(rc));
		goto out;
	}
	curl_easy_reset(hc->easy);	/* keeps the connection cache */
	hc->errbuf[0] = '\0';
	if ((rc = http_curl_setup(hc, &x, hdrs)) != 0) {
		rc = http_curl_fail(eb, rc, req, "cannot set up transfer");
		goto out;
	}
	code = curl_easy_perform(hc->easy);
	if (code != CURLE_OK) {
		const char *detail = hc->errbuf[0] != '\0' ? hc->errbuf : curl_easy_strerror(code);

		char tls[CURL_ERROR_SIZE + PATH_MAX + 64];

		rc = x.cb_rc != 0 ? x.cb_rc : http_curl_code(code);
		if (x.cb_rc != 0)
			detail = x.cb_rc == -E2BIG ? "response body too large" : eng_strerror(x.cb_rc);
		else if (rc == ENG_ETLS) {
			/* which CA bundle was trusted: the usual fix is caFile */
			snprintf(tls, sizeof(tls), "%s (CA bundle: %s)", detail,
			    hc->ca_file != NULL ? hc->ca_file : "the system's; set caFile "
			    "in the source for a private CA");
			detail = tls;
		}
		rc = http_curl_fail(eb, rc, req, detail);
		goto out;
	}
	if (curl_easy_getinfo(hc->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
	    status < 100 || status > 999) {
		rc = http_curl_fail(eb, ENG_EPROTO, req, "no HTTP status");
		goto out;
	}
	resp->status = (int)status;
	rc = 0;
out:
	/* the slist must outlive the transfer; unhook it before freeing */
	if (hdrs != NULL)
		curl_easy_setopt(hc->easy, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
	curl_slist_free_all(hdrs);
	return rc;
}

/* ---- lifecycle --------------------------------------------------------------- */

static void
http_curl_free(struct http_transport *t)
{
	struct http_curl *hc = (struct http_curl *)t;

	if (hc == NULL)
		return;
	if (hc->easy != NULL)
		curl_easy_cleanup(hc->easy);
	free(hc->ca_file);
	free(hc->ca_path);
	free(hc->user_agent);
	free(hc->proxy);
	free(hc);
}

static int http_curl_clone(struct http_transport *t, struct http_transport **out);

static const struct http_transport_ops http_curl_ops = {
	.name		= "curl",
	.perform	= http_curl_perform,
	.clone		= http_curl_clone,
	.free		= http_curl_free,
};

static int
http_curl_strdup(const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return 0;
	if ((*out = strdup(s)) == NULL)
		return -ENOMEM;
	return 0;
}

/*
 * The CA bundle: the source's caFile, else $CURL_CA_BUNDLE, else
 * $SSL_CERT_FILE (the curl tool's order).  libcurl itself reads neither
 * variable: its OpenSSL backend sets the bundle compiled in, which hides
 * OpenSSL's own SSL_CERT_FILE; so they are applied here.  NULL: libcurl's
 * default.  Verification is on whichever bundle it is.
 */
static const char *
http_curl_ca_file(const struct http_curl_config *cfg)
{
	static const char *const env[] = { "CURL_CA_BUNDLE", "SSL_CERT_FILE" };
	const char *v;
	size_t i;

	if (cfg->ca_file != NULL && cfg->ca_file[0] != '\0')
		return cfg->ca_file;
	for (i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		if ((v = getenv(env[i])) != NULL && v[0] != '\0')
			return v;
	return NULL;
}

int
http_curl_new(const struct http_curl_config *cfg, struct http_transport **out)
{
	static const struct http_curl_config defaults;
	struct http_curl *hc = NULL;
	int rc = -ENOMEM;

	*out = NULL;
	if (cfg == NULL)
		cfg = &defaults;
	pthread_once(&http_curl_once, http_curl_global_init);
	if (http_curl_init_rc != CURLE_OK)
		return ENG_EINVAL;
	if ((hc = calloc(1, sizeof(*hc))) == NULL)
		goto out;
	hc->base.ops = &http_curl_ops;
	hc->cfg = *cfg;
	if (hc->cfg.connect_timeout_ms == 0)
		hc->cfg.connect_timeout_ms = 10000;
	if (hc->cfg.timeout_ms == 0)
		hc->cfg.timeout_ms = 300000;
	if (hc->cfg.low_speed_bytes == 0 || hc->cfg.low_speed_secs == 0) {
		hc->cfg.low_speed_bytes = 1;
		hc->cfg.low_speed_secs = 60;
	}
	if (http_curl_strdup(http_curl_ca_file(cfg), &hc->ca_file) != 0 ||
	    http_curl_strdup(cfg->ca_path, &hc->ca_path) != 0 ||
	    http_curl_strdup(cfg->user_agent != NULL ? cfg->user_agent :
	    "difs/" DIFS_VERSION, &hc->user_agent) != 0 ||
	    http_curl_strdup(cfg->proxy, &hc->proxy) != 0)
		goto out;
	/* the copies own the strings now; cfg's pointers are not kept */
	hc->cfg.ca_file = hc->cfg.ca_path = hc->cfg.user_agent = hc->cfg.proxy = NULL;
	if ((hc->easy = curl_easy_init()) == NULL)
		goto out;
	*out = &hc->base;
	hc = NULL;
	rc = 0;
out:
	http_curl_free(hc ? &hc->base : NULL);
	return rc;
}

static int
http_curl_clone(struct http_transport *t, struct http_transport **out)
{
	const struct http_curl *hc = (const struct http_curl *)t;
	struct http_curl_config cfg = hc->cfg;

	cfg.ca_file = hc->ca_file;
	cfg.ca_path = hc->ca_path;
	cfg.user_agent = hc->user_agent;
	cfg.proxy = hc->proxy;
	return http_curl_new(&cfg, out);
}
