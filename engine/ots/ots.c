/* SPDX-License-Identifier: MIT */
/*
 * ots.c - Table Store client core: configuration, one signed exchange,
 * response validation, error mapping and the retry policy (see ots.h).
 *
 * Request (contrib/doc/tablestore.md 1.1-1.3): POST ENDPOINT/ApiName with
 * x-ots-date, x-ots-apiversion, x-ots-accesskeyid, x-ots-instancename,
 * x-ots-contentmd5, optional x-ots-ststoken and the V2 x-ots-signature.
 * Response (1.4): on 2xx the client requires x-ots-contentmd5,
 * x-ots-contenttype, x-ots-requestid, x-ots-date and authorization, checks
 * the body MD5 and the authorization signature (Java + Python SDK checks);
 * otherwise the body is an Error message (1.5).
 * Never logs or stores secrets: signing happens in sign.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ots_i.h"
#include "wire.h"

#define OTS_API_VERSION		"2015-12-31"
#define OTS_DEF_RETRIES		3
#define OTS_DEF_BASE_MS		10
#define OTS_DEF_MAX_MS		1000
#define OTS_DEF_TIMEOUT_MS	60000
#define OTS_RESP_MAX		((size_t)64 << 20)

struct ots {
	char			*endpoint;	/**< scheme://host[:port][/path]/ (one trailing '/') */
	char			*instance;
	char			*ca_file;
	const struct sign_cred	*cred;		/**< borrowed */
	struct http_transport	*tp;
	int			 own_tp;
	struct http_transport	*cfg_tp;	/**< cfg->transport (borrowed), for clones */
	uint32_t		 connect_timeout_ms;
	uint32_t		 timeout_ms;
	int			 max_retries;
	uint32_t		 retry_base_ms;
	uint32_t		 retry_max_ms;
};

/* ---------------------------------------------------------------- errors */

enum { RETRY_NO = 0, RETRY_ALWAYS, RETRY_IDEMPOTENT, RETRY_QUOTA };

static const struct ots_code {
	const char	*code;
	int		 rc;
	int		 retry;
} ots_codes[] = {
	/* Java DefaultRetryStrategy: always retried */
	{ "OTSRowOperationConflict",	ENG_ERETRYABLE,	RETRY_ALWAYS },
	{ "OTSNotEnoughCapacityUnit",	ENG_ETHROTTLE,	RETRY_ALWAYS },
	{ "OTSTableNotReady",		ENG_ERETRYABLE,	RETRY_ALWAYS },
	{ "OTSPartitionUnavailable",	ENG_ERETRYABLE,	RETRY_ALWAYS },
	{ "OTSServerBusy",		ENG_ETHROTTLE,	RETRY_ALWAYS },
	{ "OTSStorageServerBusy",	ENG_ETHROTTLE,	RETRY_ALWAYS },	/* Go SDK */
	{ "OTSOperationThrottled",	ENG_ETHROTTLE,	RETRY_ALWAYS },	/* Python/Node SDKs */
	{ "OTSQuotaExhausted",		ENG_ETHROTTLE,	RETRY_QUOTA },
	/* retried for idempotent operations only */
	{ "OTSTimeout",			ENG_ERETRYABLE,	RETRY_IDEMPOTENT },
	{ "OTSInternalServerError",	ENG_ERETRYABLE,	RETRY_IDEMPOTENT },
	{ "OTSServerUnavailable",	ENG_ERETRYABLE,	RETRY_IDEMPOTENT },
	{ "OTSTunnelServerUnavailable",	ENG_ERETRYABLE,	RETRY_IDEMPOTENT },
	/* never retried */
	{ "OTSFlowControl",		ENG_ETHROTTLE,	RETRY_NO },
	{ "OTSCapacityUnitExhausted",	ENG_ETHROTTLE,	RETRY_NO },
	{ "OTSTooFrequentReservedThroughputAdjustment", ENG_ETHROTTLE, RETRY_NO },
	{ "OTSTrimmedDataAccess",	ENG_ETRIMMED,	RETRY_NO },
	{ "OTSObjectNotExist",		ENG_ENOTFOUND,	RETRY_NO },
	{ "OTSObjectAlreadyExist",	ENG_ECONFLICT,	RETRY_NO },
	{ "OTSConditionCheckFail",	ENG_ECONFLICT,	RETRY_NO },
	{ "OTSAuthFailed",		ENG_ESIG,	RETRY_NO },
	{ "OTSNoPermissionAccess",	ENG_ESIG,	RETRY_NO },
	/* the request itself is refused: the same request is refused again */
	{ "OTSParameterInvalid",	ENG_EREJECTED,	RETRY_NO },
	{ "OTSInvalidPK",		ENG_EREJECTED,	RETRY_NO },
	{ "OTSOutOfRowSizeLimit",	ENG_EREJECTED,	RETRY_NO },
	{ "OTSOutOfColumnCountLimit",	ENG_EREJECTED,	RETRY_NO },
	{ "OTSRequestBodyTooLarge",	ENG_EREJECTED,	RETRY_NO },
	{ "OTSMethodNotAllowed",	ENG_EREJECTED,	RETRY_NO },
	/* not retried by the SDKs, but it passes: a later run may succeed */
	{ "OTSRequestTimeout",		ENG_ERETRYABLE,	RETRY_NO },
};

static void
set_str(char *dst, size_t size, const char *src)
{
	size_t n = src != NULL ? strlen(src) : 0;

	if (n >= size)
		n = size - 1;
	if (n != 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

int
ots_fail(struct ots_error *err, int rc, const struct eng_errbuf *eb)
{
	if (err == NULL)
		return rc;
	err->code[0] = '\0';
	err->request_id[0] = '\0';
	err->http_status = 0;
	set_str(err->message, sizeof(err->message),
	    eb != NULL && eb->msg[0] != '\0' ? eb->msg : eng_strerror(rc));
	return rc;
}

/* rc and retry decision for a service error */
static int
classify(const char *code, const char *msg, int status, int idempotent, int *retry)
{
	size_t i;

	*retry = 0;
	for (i = 0; i < sizeof(ots_codes) / sizeof(ots_codes[0]); i++) {
		const struct ots_code *c = &ots_codes[i];

		if (strcmp(code, c->code) != 0)
			continue;
		switch (c->retry) {
		case RETRY_ALWAYS:
			*retry = 1;
			break;
		case RETRY_IDEMPOTENT:
			*retry = idempotent;
			break;
		case RETRY_QUOTA:
			*retry = strcmp(msg, "Too frequent table operations.") == 0;
			break;
		default:
			break;
		}
		return c->rc;
	}
	/* unknown code: any 5xx is retried for idempotent operations */
	if (status >= 500) {
		*retry = idempotent;
		return ENG_ERETRYABLE;
	}
	/* any other 4xx but a timeout or a throttle: the request is refused */
	if (status >= 400 && status != 408 && status != 429)
		return ENG_EREJECTED;
	return status == 429 ? ENG_ETHROTTLE : ENG_EREMOTE;
}

/* ---------------------------------------------------------------- config */

static int
endpoint_parse(const char *ep, char **endpoint, char **inst, struct eng_errbuf *eb)
{
	const char *host, *hend, *p;
	size_t n;
	struct buf b;
	int rc;

	*endpoint = NULL;
	*inst = NULL;
	if (ep == NULL || *ep == '\0')
		return eng_errbuf_set(eb, ENG_EINVAL, "Table Store endpoint is empty");
	if (strncasecmp(ep, "https://", 8) == 0)
		host = ep + 8;
	else if (strncasecmp(ep, "http://", 7) == 0)
		host = ep + 7;
	else
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "Table Store endpoint '%s' must start with https:// or http://", ep);
	if (strpbrk(ep, "?# \t\r\n") != NULL)
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "Table Store endpoint '%s' must not contain a query, fragment or blanks", ep);
	hend = strchr(host, '/');
	if (hend == NULL)
		hend = host + strlen(host);
	if (hend == host || *host == ':' || host[0] == '@' || memchr(host, '@', (size_t)(hend - host)) != NULL)
		return eng_errbuf_set(eb, ENG_EINVAL, "Table Store endpoint '%s' has no host", ep);
	/* instance from INSTANCE.REGION.ots[-internal].aliyuncs.com */
	for (p = host; p < hend && *p != '.' && *p != ':'; p++)
		;
	if (p < hend && *p == '.') {
		const char *suffix1 = ".ots.aliyuncs.com", *suffix2 = ".ots-internal.aliyuncs.com";
		const char *port = memchr(host, ':', (size_t)(hend - host));
		size_t hl = (size_t)((port != NULL ? port : hend) - host);

		if ((hl > strlen(suffix1) && strncasecmp(host + hl - strlen(suffix1), suffix1,
		    strlen(suffix1)) == 0) || (hl > strlen(suffix2) &&
		    strncasecmp(host + hl - strlen(suffix2), suffix2, strlen(suffix2)) == 0)) {
			if ((*inst = strndup(host, (size_t)(p - host))) == NULL)
				return -ENOMEM;
		}
	}
	/* keep the path like the Java SDK, normalised to one trailing '/' */
	n = strlen(ep);
	while (n > 0 && ep[n - 1] == '/')
		n--;
	buf_init(&b, BUF_MAX_SMALL);
	(void)buf_add(&b, ep, n);
	(void)buf_addc(&b, '/');
	if ((rc = b.err) != 0 || (*endpoint = buf_take(&b, NULL)) == NULL) {
		buf_free(&b);
		free(*inst);
		*inst = NULL;
		return rc != 0 ? rc : -ENOMEM;
	}
	return 0;
}

static int
ots_new_common(const struct ots_config *cfg, struct http_transport *tp_clone,
    struct ots **out, struct eng_errbuf *eb)
{
	struct ots *o = NULL;
	char *derived = NULL;
	int rc = -ENOMEM;

	*out = NULL;
	if (cfg == NULL || cfg->cred == NULL) {
		rc = eng_errbuf_set(eb, ENG_EINVAL, "Table Store client needs credentials");
		goto out;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL)
		goto out;
	if ((rc = endpoint_parse(cfg->endpoint, &o->endpoint, &derived, eb)) != 0)
		goto out;
	if (cfg->instance != NULL && cfg->instance[0] != '\0') {
		if ((o->instance = strdup(cfg->instance)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	} else if (derived != NULL) {
		o->instance = derived;
		derived = NULL;
	} else {
		rc = eng_errbuf_set(eb, ENG_EINVAL,
		    "Table Store instance name missing (endpoint '%s' does not name one)",
		    cfg->endpoint);
		goto out;
	}
	if (strpbrk(o->instance, "\r\n") != NULL) {
		rc = eng_errbuf_set(eb, ENG_EINVAL, "Table Store instance name has a line break");
		goto out;
	}
	if (cfg->ca_file != NULL && (o->ca_file = strdup(cfg->ca_file)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	o->cred = cfg->cred;
	o->connect_timeout_ms = cfg->connect_timeout_ms;
	o->timeout_ms = cfg->timeout_ms != 0 ? cfg->timeout_ms : OTS_DEF_TIMEOUT_MS;
	o->max_retries = cfg->max_retries >= 0 ? cfg->max_retries : OTS_DEF_RETRIES;
	o->retry_base_ms = cfg->retry_base_ms != 0 ? cfg->retry_base_ms : OTS_DEF_BASE_MS;
	o->retry_max_ms = cfg->retry_max_ms != 0 ? cfg->retry_max_ms : OTS_DEF_MAX_MS;
	o->cfg_tp = cfg->transport;
	if (tp_clone != NULL) {
		o->tp = tp_clone;
		o->own_tp = 1;
	} else if (cfg->transport != NULL) {
		o->tp = cfg->transport;
	} else {
		struct http_curl_config cc;

		memset(&cc, 0, sizeof(cc));
		cc.ca_file = o->ca_file;
		cc.connect_timeout_ms = o->connect_timeout_ms;
		cc.timeout_ms = o->timeout_ms;
		if ((rc = http_curl_new(&cc, &o->tp)) != 0) {
			(void)eng_errbuf_set(eb, rc, "Table Store client: cannot create the HTTP transport: %s",
			    eng_strerror(rc));
			goto out;
		}
		o->own_tp = 1;
	}
	*out = o;
	o = NULL;
	rc = 0;
out:
	if (o != NULL && tp_clone != NULL)
		o->tp = NULL;	/* the caller frees its clone on failure */
	ots_free(o);
	free(derived);
	return rc;
}

int
ots_new(const struct ots_config *cfg, struct ots **out, struct eng_errbuf *eb)
{
	return ots_new_common(cfg, NULL, out, eb);
}

int
ots_clone(struct ots *o, struct ots **out)
{
	struct ots_config cfg;
	struct http_transport *tp = NULL;
	int rc;

	*out = NULL;
	memset(&cfg, 0, sizeof(cfg));
	cfg.endpoint = o->endpoint;
	cfg.instance = o->instance;
	cfg.cred = o->cred;
	cfg.ca_file = o->ca_file;
	cfg.connect_timeout_ms = o->connect_timeout_ms;
	cfg.timeout_ms = o->timeout_ms;
	cfg.max_retries = o->max_retries;
	cfg.retry_base_ms = o->retry_base_ms;
	cfg.retry_max_ms = o->retry_max_ms;
	cfg.transport = o->cfg_tp;
	/* a borrowed transport is cloned so that each client has its own connection */
	if (o->cfg_tp != NULL && (rc = http_clone(o->cfg_tp, &tp)) != 0)
		return rc;
	if ((rc = ots_new_common(&cfg, tp, out, NULL)) != 0)
		http_transport_free(tp);
	return rc;
}

void
ots_free(struct ots *o)
{
	if (o == NULL)
		return;
	if (o->own_tp)
		http_transport_free(o->tp);
	free(o->endpoint);
	free(o->instance);
	free(o->ca_file);
	free(o);
}

const char *
ots_instance(const struct ots *o)
{
	return o->instance;
}

/* -------------------------------------------------------------- exchange */

/* check a 2xx response as the Java and Python SDKs do */
static int
check_response(struct ots *o, const char *api, const struct http_response *resp,
    struct eng_errbuf *eb)
{
	static const char *const required[] = {
		"x-ots-contentmd5", "x-ots-contenttype", "x-ots-requestid", "x-ots-date",
		"authorization",
	};
	char md5[SIGN_MD5_B64_SIZE];
	const char *v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (http_response_header(resp, required[i]) == NULL)
			return eng_errbuf_set(eb, ENG_EPROTO,
			    "Table Store %s: response without the %s header", api, required[i]);
	if ((rc = sign_content_md5(resp->body.p, resp->body.len, md5)) != 0)
		return rc;
	v = http_response_header(resp, "x-ots-contentmd5");
	if (strcmp(v, md5) != 0)
		return eng_errbuf_set(eb, ENG_EPROTO,
		    "Table Store %s: response body MD5 mismatch (header %s, body %s)", api, v, md5);
	if (sign_ots_verify_response(o->cred, api, resp->hdrs, resp->nhdrs) != 0)
		return eng_errbuf_set(eb, ENG_ESIG,
		    "Table Store %s: response signature does not verify", api);
	return 0;
}

/*
 * One exchange.  Returns 0 (resp holds a verified 2xx) or an error with
 * err filled and *retry telling whether the policy allows another try.
 */
static int
ots_once(struct ots *o, const char *api, int idempotent, const struct buf *body,
    struct http_response *resp, struct ots_error *err, int *retry)
{
	struct http_hdr h[7];
	struct http_request req;
	struct eng_errbuf eb = { "" };
	struct timespec now;
	struct buf url;
	char date[25], md5[SIGN_MD5_B64_SIZE], sig[SIGN_SHA1_B64_SIZE];
	char code[64] = "", msg[512] = "";
	const char *token = sign_cred_token(o->cred), *rid;
	size_t nh = 0;
	int rc;

	*retry = 0;
	buf_init(&url, BUF_MAX_SMALL);
	(void)buf_addstr(&url, o->endpoint);
	if ((rc = buf_addstr(&url, api)) != 0)
		goto out;
	(void)clock_gettime(CLOCK_REALTIME, &now);
	if ((rc = sign_date_ots(now.tv_sec, (unsigned)(now.tv_nsec / 1000000), date)) != 0 ||
	    (rc = sign_content_md5(body->p, body->len, md5)) != 0)
		goto out;
	h[nh++] = (struct http_hdr){ "x-ots-date", date };
	h[nh++] = (struct http_hdr){ "x-ots-apiversion", OTS_API_VERSION };
	h[nh++] = (struct http_hdr){ "x-ots-accesskeyid", sign_cred_id(o->cred) };
	h[nh++] = (struct http_hdr){ "x-ots-instancename", o->instance };
	h[nh++] = (struct http_hdr){ "x-ots-contentmd5", md5 };
	if (token != NULL && token[0] != '\0')
		h[nh++] = (struct http_hdr){ "x-ots-ststoken", token };
	if ((rc = sign_ots_request(o->cred, api, "POST", h, nh, sig)) != 0)
		goto out;
	h[nh++] = (struct http_hdr){ "x-ots-signature", sig };

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url.p;
	req.hdrs = h;
	req.nhdrs = nh;
	req.body = body->p;
	req.body_len = body->len;
	req.max_body = OTS_RESP_MAX;
	req.timeout_ms = o->timeout_ms;
	rc = http_perform(o->tp, &req, resp, &eb);
	if (rc != 0) {
		/* transport failure: a ClientException for the SDKs */
		*retry = idempotent && (rc == ENG_ECONN || rc == -ETIMEDOUT || rc == ENG_EPROTO);
		(void)ots_fail(err, rc, &eb);
		goto out;
	}
	rid = http_response_header(resp, "x-ots-requestid");
	if (resp->status >= 200 && resp->status < 300) {
		if ((rc = check_response(o, api, resp, &eb)) != 0) {
			*retry = idempotent;
			(void)ots_fail(err, rc, &eb);
			if (err != NULL) {
				err->http_status = resp->status;
				set_str(err->request_id, sizeof(err->request_id), rid);
			}
		}
		goto out;
	}
	if (wire_dec_error((const uint8_t *)resp->body.p, resp->body.len, code, sizeof(code),
	    msg, sizeof(msg)) != 0 || code[0] == '\0') {
		code[0] = '\0';
		(void)snprintf(msg, sizeof(msg), "HTTP %d without a Table Store error body",
		    resp->status);
	}
	rc = classify(code, msg, resp->status, idempotent, retry);
	if (err != NULL) {
		set_str(err->code, sizeof(err->code), code);
		set_str(err->message, sizeof(err->message), msg);
		set_str(err->request_id, sizeof(err->request_id), rid);
		err->http_status = resp->status;
	}
out:
	buf_free(&url);
	return rc;
}

static void
sleep_ms(uint64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
ots_call(struct ots *o, const char *api, int idempotent, const struct buf *body,
    struct buf *out, struct ots_error *err)
{
	struct http_response resp;
	int attempt, rc, retry;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	http_response_init(&resp);
	for (attempt = 0;; attempt++) {
		rc = ots_once(o, api, idempotent, body, &resp, err, &retry);
		if (rc == 0 || !retry || attempt >= o->max_retries)
			break;
		sleep_ms(http_backoff_ms((unsigned)attempt, o->retry_base_ms, o->retry_max_ms,
		    NULL, NULL));
	}
	if (err != NULL)
		err->attempts = attempt + 1;
	if (rc == 0) {
		/* hand the body over without copying; resp frees the old one */
		struct buf t = *out;

		*out = resp.body;
		resp.body = t;
	}
	http_response_free(&resp);
	return rc;
}
