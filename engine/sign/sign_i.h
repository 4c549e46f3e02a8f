/* SPDX-License-Identifier: MIT */
/*
 * sign_i.h - private interface between the files of the sign module:
 *   sign.c        OpenSSL, credentials, digests, dates, keyed operations
 *                 (the secret never leaves this file)
 *   sign_canon.c  canonical header blocks (shared), Table Store V2
 *   sign_oss.c    OSS V1 and V4
 * Not for use outside engine/sign*.c.
 */
#ifndef DIFS_SIGN_I_H
#define DIFS_SIGN_I_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "http.h"
#include "sign.h"

/* ---- sign.c: keyed operations (the only users of the secret) ---- */

/** base64(HMAC-SHA1(secret, msg)) into sig. */
int	 sign_cred_hmac_sha1_b64(const struct sign_cred *c, const void *msg,
	    size_t len, char sig[SIGN_SHA1_B64_SIZE]);
/**
 * OSS V4: kSigning from "aliyun_v4" + secret, date (8 chars), region,
 * product, "aliyun_v4_request"; out = HMAC-SHA256(kSigning, msg).  All
 * intermediate keys are wiped.
 */
int	 sign_cred_v4_hmac(const struct sign_cred *c, const char *date8,
	    const char *region, const char *product, const void *msg, size_t len,
	    uint8_t out[SIGN_SHA256_LEN]);
/** Constant-time equality of n bytes. */
bool	 sign_memeq_ct(const void *a, const void *b, size_t n);

/* ---- sign_canon.c: sorted (name, value) sets ---- */

struct sign_item {
	char		*name;	/**< lowercase copy (or encoded key) */
	char		*value;	/**< copy (trimmed header / encoded value), never NULL */
	size_t		 idx;	/**< input order, for a stable sort */
};

struct sign_set {
	struct sign_item	*v;
	size_t			 n;
};

typedef bool sign_pick_fn(const char *lname, const void *arg);

bool	 sign_is_blank(char c);
/** View of v without surrounding blanks. */
void	 sign_trim(const char *v, const char **start, size_t *len);
void	 sign_set_free(struct sign_set *s);
/** qsort comparator: name bytewise, then idx. */
int	 sign_item_cmp(const void *a, const void *b);
void	 sign_set_sort(struct sign_set *s);
/** Append (name, value), adopting both (freed on error too); cap = array size. */
int	 sign_set_add_nodup(struct sign_set *s, char *name, char *value, size_t cap);
/** Headers whose lowercase name pick() accepts, values trimmed, sorted. */
int	 sign_hdrs_select(const struct http_hdr *h, size_t nh, sign_pick_fn *pick,
	    const void *arg, struct sign_set *out);
/** "name:value\n" per name; repeated names joined with ",". */
int	 sign_hdrs_render(const struct sign_set *s, struct buf *out);
/** First header named name (case-insensitive), untrimmed; NULL if absent. */
const char *sign_hdr_get(const struct http_hdr *h, size_t nh, const char *name);
/** Append v trimmed (nothing when v is NULL). */
int	 sign_add_trimmed(struct buf *out, const char *v);

#endif /* DIFS_SIGN_I_H */
