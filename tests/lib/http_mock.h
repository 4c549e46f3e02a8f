/* SPDX-License-Identifier: MIT */
/*
 * http_mock.h - an in-memory transport for unit tests (tests/lib/http_mock.c):
 * it answers each request from a scripted table and records what it got.
 * No socket, no server.  Test code only: the product never links it.
 */
#ifndef DIFS_HTTP_MOCK_H
#define DIFS_HTTP_MOCK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "http.h"

/**
 * One scripted answer.  A request matches when method (exact, NULL = any)
 * and path (the URL's path without host and query, exact, NULL = any)
 * match.  The first matching entry that is not used up answers: with rc
 * (non-zero: perform() fails with it, no response) or with status,
 * headers and body.  count is how many calls the entry answers (0 =
 * unlimited), so "503 then 200" is { .count = 1, .status = 503 } followed
 * by { .status = 200 }.  A request no entry answers fails with ENG_EINVAL
 * ("mock: no answer for METHOD PATH") and is recorded all the same.
 * The table and its strings are borrowed: they must outlive the transport.
 */
struct http_mock_reply {
	const char		*method;
	const char		*path;
	uint32_t		 count;
	int			 rc;
	int			 status;
	const struct http_hdr	*hdrs;
	size_t			 nhdrs;
	const char		*body;	/**< NUL-terminated, NULL = empty */
};

/** A request the mock received. */
struct http_mock_call {
	char			*method;
	char			*url;
	struct http_response	 hdrs;	/**< the request's headers (look up with http_response_header) */
	struct buf		 body;	/**< the request's body, streamed ones read to their end */
	int			 status;	/**< what was answered; 0 when the call failed */
};

/**
 * http_mock_new - a mock answering from table[0..n).  Clones share the table,
 * its counters and the record (under a mutex), so a client that clones its
 * transport per connection is seen as one.  0, ENG_EINVAL or -ENOMEM.
 */
int	 http_mock_new(const struct http_mock_reply *table, size_t n,
	    struct http_transport **out);
/** Number of requests received so far (all clones). */
size_t	 http_mock_ncalls(struct http_transport *t);
/**
 * The i-th request received, NULL when i is out of range or t is no mock.
 * Valid until the next request or http_transport_free: read it after the
 * calls are done.
 */
const struct http_mock_call *http_mock_call(struct http_transport *t, size_t i);

#endif /* DIFS_HTTP_MOCK_H */
