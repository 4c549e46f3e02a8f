/* SPDX-License-Identifier: MIT */
/*
 * ots_i.h - private interface between the Table Store client's exchange
 * core (ots.c: signing, sending, response checks, error mapping, retries)
 * and its operations (ots_ops.c: encode request, call, decode response).
 */
#ifndef DIFS_OTS_I_H
#define DIFS_OTS_I_H

#include "buf.h"
#include "ots.h"

/** Operation is safe to repeat (List/Describe/Get/stream reads). */
#define OTS_IDEMPOTENT	1

/**
 * ots_call - POST body to ENDPOINT/api, signed, with retries.  On 0, resp
 * (initialised by the caller) holds the verified 2xx body.  Fills err
 * (may be NULL) on failure.  Return codes: see ots.h.
 */
int	ots_call(struct ots *o, const char *api, int idempotent, const struct buf *body,
	    struct buf *resp, struct ots_error *err);

/** Fill err for a local failure (code "", no request id); returns rc. */
int	ots_fail(struct ots_error *err, int rc, const struct eng_errbuf *eb);

#endif /* DIFS_OTS_I_H */
