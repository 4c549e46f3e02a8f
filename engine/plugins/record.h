/* SPDX-License-Identifier: MIT */
/*
 * record.h - the typed record that flows from a reader plugin through the
 * channel queue to a writer plugin (DataX's Record/Column).
 *
 * A record owns its bytes: string and binary values live in the record's own
 * arena, so a record can be moved between threads as one unit and reused
 * (record_clear keeps the allocations).  Values are read back through
 * record_get(); pointers into the arena stay valid until the next
 * record_add_* or record_clear/record_free on that record.
 * Not thread-safe: a record belongs to one thread at a time.
 */
#ifndef DIFS_RECORD_H
#define DIFS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum rec_type {
	REC_NULL = 0,	/**< no value: written as the writer's nullFormat */
	REC_STRING,	/**< UTF-8 text */
	REC_LONG,	/**< 64-bit signed integer */
	REC_DOUBLE,	/**< IEEE double */
	REC_BOOL,	/**< true/false */
	REC_BYTES,	/**< raw bytes */
	REC_DATE,	/**< instant, milliseconds since the epoch (UTC) */
};

/** A value as seen by writers; p/n valid as described in the file header. */
struct rec_value {
	enum rec_type	 type;
	int64_t		 l;	/**< REC_LONG, REC_DATE (ms), REC_BOOL (0/1) */
	double		 d;	/**< REC_DOUBLE */
	const char	*p;	/**< REC_STRING, REC_BYTES (not NUL-terminated for BYTES) */
	size_t		 n;	/**< length of p in bytes */
};

struct rec_slot {
	enum rec_type	type;
	int64_t		l;
	double		d;
	size_t		off;	/**< into data, for STRING/BYTES */
	size_t		n;
};

struct record {
	struct rec_slot	*cols;	/**< ncols used, cap allocated */
	size_t		 ncols;
	size_t		 cap;
	struct buf	 data;	/**< arena for STRING/BYTES values */
	size_t		 bytes;	/**< DataX-style byte size of the record (for speed/stats) */
};

#define RECORD_MAX_BYTES	((size_t)64 << 20)	/**< one record's arena limit */

void	record_init(struct record *r);
void	record_clear(struct record *r);	/**< keeps allocations */
void	record_free(struct record *r);	/**< frees allocations; r may be reused after init */

/* Each returns 0, -ENOMEM or -E2BIG (record larger than RECORD_MAX_BYTES). */
int	record_add_null(struct record *r);
int	record_add_string(struct record *r, const char *p, size_t n);
int	record_add_long(struct record *r, int64_t v);
int	record_add_double(struct record *r, double v);
int	record_add_bool(struct record *r, int v);
int	record_add_bytes(struct record *r, const void *p, size_t n);
int	record_add_date(struct record *r, int64_t ms);

/** record_get - column i (i < ncols) into *v; borrowed pointers (see above). */
void	record_get(const struct record *r, size_t i, struct rec_value *v);

/** record_swap - exchange two records' contents (O(1), for queues). */
void	record_swap(struct record *a, struct record *b);

#endif /* DIFS_RECORD_H */
