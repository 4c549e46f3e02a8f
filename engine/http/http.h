/* SPDX-License-Identifier: MIT */
/*
 * http.h - the HTTP transport seen by the service clients (Table Store, OSS)
 * and the small HTTP helpers they share with difs-emu.
 *
 * A transport is a const ops vtable plus an instance whose first member is
 * the ops pointer (contrib/doc/style.md 2.5).  Implementations:
 *   http_curl.c   production, libcurl (the only file including curl)
 * Test doubles (a fault-injecting wrapper, an in-memory mock) live in
 * tests/lib/, outside the product.
 *
 * What a transport does: one HTTP exchange per perform() call.  It does NOT
 * retry, follow redirects or interpret the status: the HTTP status is handed
 * back to the service client, which decides (http_backoff_ms() helps).
 * Errors below HTTP are translated at this boundary:
 *   ENG_ECONN     connect refused / reset / DNS failure / nothing received
 *   -ETIMEDOUT    connect timeout, total timeout or low-speed limit hit
 *   ENG_ETLS      certificate / TLS handshake failure (verification is always
 *                 on; there is no option to turn it off)
 *   ENG_EPROTO    malformed HTTP response
 *   ENG_EINVAL    bad URL / unsupported scheme / bad request struct
 *   -E2BIG        response body larger than http_request.max_body
 *   -ENOMEM       out of memory
 *   any rc returned by a read/write/rewind callback is passed through.
 * Messages go to an optional struct eng_errbuf; they never contain header
 * values, the URL's query string (presigned URLs carry signatures) nor its
 * userinfo (user:password@).
 *
 * Threading: a transport instance is used by ONE thread at a time (the curl
 * implementation keeps one easy handle, hence one keep-alive connection
 * cache, per instance).  Give each worker its own instance: ops->clone()
 * makes an independent instance with the same configuration.
 */
#ifndef DIFS_HTTP_H
#define DIFS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

/** A header or any name/value pair. Strings are borrowed (see users). */
struct http_hdr {
	const char	*name;	/**< header name; compared case-insensitively */
	const char	*value;	/**< value as sent/received (not trimmed on send) */
};

/** A query parameter, DECODED (not percent-encoded). */
struct http_param {
	const char	*key;
	const char	*value;	/**< NULL: "key" without '=' (OSS treats "" alike) */
};

/**
 * Read callback for streamed request bodies: copy up to n bytes to dst.
 * Returns bytes copied (> 0), 0 at end of body, or a negative error which
 * aborts the request and is returned by perform().  Must deliver exactly
 * http_request.body_len bytes in total.
 */
typedef ssize_t http_read_fn(void *arg, void *dst, size_t n);
/** Rewind a streamed body to its first byte. 0 or a negative error. */
typedef int http_rewind_fn(void *arg);
/** Response body sink: consume n bytes. 0, or a negative error (aborts). */
typedef int http_write_fn(void *arg, const void *p, size_t n);

struct http_request {
	const char		*method;	/**< "GET" "HEAD" "PUT" "POST" "DELETE" ... */
	const char		*url;		/**< absolute, already percent-encoded */
	const struct http_hdr	*hdrs;		/**< extra request headers (may be NULL) */
	size_t			 nhdrs;
	/*
	 * Body: either memory (body/body_len, read_fn NULL) or streamed
	 * (read_fn + rewind_fn, body_len = exact length; 0 allowed).
	 * PUT and POST always send a Content-Length (0 when no body); other
	 * methods send a body only when body_len > 0.  perform() calls
	 * rewind_fn (when set) before sending, so a retry of the same request
	 * re-sends the body from its start; curl may also rewind mid-request.
	 */
	const void		*body;
	uint64_t		 body_len;
	http_read_fn		*read_fn;
	http_rewind_fn		*rewind_fn;
	void			*read_arg;
	/*
	 * Response body: into http_response.body (write_fn NULL; at most
	 * max_body bytes, 0 = BUF_MAX_DOC, larger bodies fail with -E2BIG), or
	 * streamed into write_fn (max_body ignored).  Only 2xx bodies are
	 * streamed; other statuses always land in http_response.body (bounded
	 * by BUF_MAX_SMALL) so the caller can parse the service's error.
	 */
	http_write_fn		*write_fn;
	void			*write_arg;
	size_t			 max_body;
	uint32_t		 timeout_ms;	/**< total; 0 = the transport's default */
};

/**
 * A response.  Header names/values point into an arena owned by the response
 * (valid until http_response_free/reset).  Values are trimmed of surrounding
 * blanks and CR/LF.  Only the final header block is kept (100-continue and
 * other interim responses are dropped).
 */
struct http_response {
	int		 status;	/**< HTTP status, 0 before a response arrived */
	struct http_hdr	*hdrs;		/**< received headers, in order */
	size_t		 nhdrs;
	struct buf	 body;		/**< body (see http_request.write_fn) */
	/* private: one allocation "name\0value\0" per header */
	char		**hdr_mem_;
	size_t		 hdr_cap_;
};

/** Initialise an empty response (must be called before perform). */
void	 http_response_init(struct http_response *r);
/** Drop headers/body/status, keep r initialised (for a retry). */
void	 http_response_reset(struct http_response *r);
void	 http_response_free(struct http_response *r);
/** Case-insensitive lookup: first header named name, or NULL. */
const char *http_response_header(const struct http_response *r, const char *name);
/** Add a received header (used by transports, mocks and tests). 0/-ENOMEM/-E2BIG. */
int	 http_response_add_header(struct http_response *r, const char *name,
	    size_t nlen, const char *value, size_t vlen);

struct http_transport;

struct http_transport_ops {
	const char *name;	/**< "curl", "fault", "mock" */
	/**
	 * One exchange.  resp must be initialised; it is reset first.  On 0,
	 * resp->status holds the HTTP status (any value: 2xx..5xx are all
	 * "success" at this layer).  On error resp may hold partial data.
	 */
	int	(*perform)(struct http_transport *t, const struct http_request *req,
		    struct http_response *resp, struct eng_errbuf *eb);
	/** New independent instance with the same configuration (per worker). */
	int	(*clone)(struct http_transport *t, struct http_transport **out);
	void	(*free)(struct http_transport *t);
};

/** Base of every transport instance (first member of the implementation). */
struct http_transport {
	const struct http_transport_ops *ops;
};

static inline int
http_perform(struct http_transport *t, const struct http_request *req,
    struct http_response *resp, struct eng_errbuf *eb)
{
	return t->ops->perform(t, req, resp, eb);
}

static inline int
http_clone(struct http_transport *t, struct http_transport **out)
{
	return t->ops->clone(t, out);
}

/** NULL-safe. */
static inline void
http_transport_free(struct http_transport *t)
{
	if (t != NULL)
		t->ops->free(t);
}

/* ---- curl transport (http_curl.c) ------------------------------------ */

struct http_curl_config {
	const char	*ca_file;	/**< CA bundle (PEM); NULL: $CURL_CA_BUNDLE, else $SSL_CERT_FILE, else libcurl's default */
	const char	*ca_path;	/**< CA directory; NULL = system default */
	uint32_t	 connect_timeout_ms;	/**< 0 = 10000 */
	uint32_t	 timeout_ms;		/**< total per request; 0 = 300000 */
	uint32_t	 low_speed_bytes;	/**< abort when below this many bytes/s ... */
	uint32_t	 low_speed_secs;	/**< ... for this long; 0/0 = 1 B/s for 60 s */
	const char	*user_agent;	/**< NULL = "difs/<version>" */
	const char	*proxy;		/**< NULL = environment (http_proxy...); "" = none */
};

/**
 * http_curl_new - a libcurl transport (one easy handle, reused across calls
 * for keep-alive).  cfg may be NULL (defaults); strings are copied.
 * Returns 0, -ENOMEM, ENG_EINVAL.  curl_global_init runs once per process.
 */
int	 http_curl_new(const struct http_curl_config *cfg, struct http_transport **out);

/* ---- shared helpers (http.c) ----------------------------------------- */

/** Random source for backoff: returns a uniformly random 64-bit value. */
typedef uint64_t http_rand_fn(void *arg);

/**
 * http_backoff_ms - "full jitter" exponential backoff: a uniform value in
 * [0, min(max_ms, base_ms * 2^attempt)].  attempt counts from 0.
 * rand may be NULL (then arc4random is used); tests inject their own.
 */
uint64_t http_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t max_ms,
	    http_rand_fn *rand, void *rand_arg);

/** Percent-encoding flags. */
#define HTTP_PCT_KEEP_SLASH	0x1	/**< leave '/' as is (object keys in paths) */

/**
 * http_pct_encode - append s[0..n) percent-encoded per RFC 3986: everything
 * except A-Z a-z 0-9 - . _ ~ becomes %XX (uppercase hex), space is %20.
 * Returns 0 or the buf error.
 */
int	 http_pct_encode(struct buf *b, const char *s, size_t n, unsigned flags);

/**
 * http_pct_decode - append the decoding of s[0..n): %XX -> byte; with
 * plus_is_space, '+' -> ' ' (form encoding, used for query strings).
 * A malformed escape is ENG_EINVAL.  Result may contain NUL bytes only if
 * the input encodes them (%00); callers checking keys should reject those.
 */
int	 http_pct_decode(struct buf *b, const char *s, size_t n, bool plus_is_space);

/** A parsed query string: decoded params, in wire order. */
struct http_query {
	struct http_param	*params;
	size_t			 n;
	char			*arena_;	/* private */
};

/**
 * http_query_parse - split a raw query string (no leading '?') on '&',
 * each piece on the first '=' ("k" -> value NULL, "k=" -> value ""),
 * percent-decode keys and values ('+' -> space).  Empty pieces are skipped.
 * Returns 0, ENG_EINVAL (bad escape or NUL byte), -E2BIG (> 64 KiB or
 * > 1000 params), -ENOMEM.  *q is set only on success; free with
 * http_query_free.
 */
int	 http_query_parse(const char *raw, size_t len, struct http_query *q);
void	 http_query_free(struct http_query *q);
/** First value of key (NULL when absent OR present without '='); *found tells which. */
const char *http_query_get(const struct http_query *q, const char *key, bool *found);

#endif /* DIFS_HTTP_H */
