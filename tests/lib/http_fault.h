/* SPDX-License-Identifier: MIT */
/*
 * http_fault.h - a test transport that wraps another one and injects
 * failures (tests/lib/http_fault.c).  Test code only: the product never
 * links it.
 */
#ifndef DIFS_HTTP_FAULT_H
#define DIFS_HTTP_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

enum http_fault_kind {
	HTTP_FAULT_STATUS = 1,	/**< answer status + body (+ headers) without calling inner */
	HTTP_FAULT_CONN,	/**< fail with rc (default ENG_ECONN) without calling inner */
	HTTP_FAULT_LOST,	/**< call inner, then discard its response and fail with rc
				     (default ENG_ECONN): "the request happened, the answer was lost" */
	HTTP_FAULT_LATENCY,	/**< sleep latency_ms, then call inner normally */
};

/**
 * A rule.  A call "matches" when method (exact, NULL = any) and url_substr
 * (substring of the URL, NULL = any) match.  Of the matching calls, the
 * first `skip` pass through untouched; the next `count` (0 = unlimited) get
 * the fault.  Rules are checked in the order added; the first rule that
 * fires wins (a LATENCY rule also lets later rules fire).  Everything is
 * counted, nothing is random: runs are reproducible.
 * "Fail call N" is { .skip = N - 1, .count = 1 } with no filters.
 */
struct http_fault_rule {
	enum http_fault_kind	 kind;
	const char		*method;
	const char		*url_substr;
	uint32_t		 skip;
	uint32_t		 count;
	int			 status;	/**< STATUS: HTTP status */
	const char		*body;		/**< STATUS: body (NUL-terminated), may be NULL */
	const struct http_hdr	*hdrs;		/**< STATUS: response headers */
	size_t			 nhdrs;
	int			 rc;		/**< CONN/LOST: error to return; 0 = ENG_ECONN */
	uint32_t		 latency_ms;	/**< LATENCY (also added before STATUS/CONN when set) */
};

/**
 * http_fault_new - wrap inner.  When adopt is true the wrapper frees inner;
 * otherwise inner is borrowed and must outlive the wrapper.
 * Rule state (counters) is shared by all clones of a wrapper and protected by
 * a mutex, so counts are global across workers; each clone wraps its own
 * clone of inner.  Returns 0 or -ENOMEM.
 */
int	 http_fault_new(struct http_transport *inner, bool adopt,
	    struct http_transport **out);
/** Add a rule (strings copied).  t must come from http_fault_new. 0/-ENOMEM/ENG_EINVAL. */
int	 http_fault_add(struct http_transport *t, const struct http_fault_rule *rule);
/** Remove all rules (counters of calls are kept). */
void	 http_fault_clear(struct http_transport *t);
/** Number of perform() calls seen by the wrapper (and its clones). */
uint64_t http_fault_calls(struct http_transport *t);
/** Number of faults injected so far. */
uint64_t http_fault_fired(struct http_transport *t);

#endif /* DIFS_HTTP_FAULT_H */
