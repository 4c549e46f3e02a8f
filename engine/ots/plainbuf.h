/* SPDX-License-Identifier: MIT */
/*
 * plainbuf.h - Table Store PlainBuffer rows: encoder and decoder.
 *
 * PlainBuffer is the byte format of rows inside the Table Store protobuf
 * messages (PutRow.row, UpdateRow.row_change, GetRange.rows, stream records,
 * ...).  Grammar, tags, CRC-8 and worked examples: contrib/doc/tablestore.md
 * section 3.  This module owns the byte format and nothing else: no I/O, no
 * protobuf, no allocation beyond its own results.  Thread-safe (no state).
 *
 *   plainbuf := u32le(0x75) row*
 *   row      := 0x01 cell* [0x02 cell+] [0x08] [0x0B u32le(n) ext] 0x09 crc8
 *   cell     := 0x03 0x04 u32le(n) name [0x05 u32le(n) value] [0x06 op]
 *               [0x07 i64le(ts_ms)] 0x0A crc8
 *
 * The decoder takes (buf, len), is total over arbitrary input (fuzzed:
 * tests/fuzz/fuzz_plainbuf.c), verifies every cell and row checksum, and
 * tolerates trailing NUL padding after the last row (the Node SDK pads).
 */
#ifndef DIFS_PLAINBUF_H
#define DIFS_PLAINBUF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/** Value types (the first byte of a cell value). */
enum plainbuf_vtype {
	PLAINBUF_VT_INTEGER	   = 0x0,	/**< int64 */
	PLAINBUF_VT_DOUBLE	   = 0x1,	/**< IEEE-754 double */
	PLAINBUF_VT_BOOLEAN	   = 0x2,
	PLAINBUF_VT_STRING	   = 0x3,	/**< UTF-8 bytes */
	PLAINBUF_VT_NULL	   = 0x6,
	PLAINBUF_VT_BLOB	   = 0x7,	/**< BINARY */
	PLAINBUF_VT_INF_MIN	   = 0x9,	/**< PK range bound only */
	PLAINBUF_VT_INF_MAX	   = 0xA,	/**< PK range bound only */
	PLAINBUF_VT_AUTO_INCREMENT = 0xB,	/**< PK placeholder in PutRow only */
};

/** Cell operation (TAG_CELL_TYPE); PUT means "no op byte on the wire". */
enum plainbuf_op {
	PLAINBUF_OP_PUT		   = 0x0,
	PLAINBUF_OP_DELETE_ALL	   = 0x1,	/**< delete all versions: no value, no ts */
	PLAINBUF_OP_DELETE_ONE	   = 0x3,	/**< delete one version: ts, no value */
	PLAINBUF_OP_INCREMENT	   = 0x4,	/**< atomic increment: value */
};

struct plainbuf_value {
	int		 type;		/**< enum plainbuf_vtype */
	int64_t		 i;		/**< INTEGER */
	double		 d;		/**< DOUBLE */
	int		 b;		/**< BOOLEAN: 0 or 1 */
	const uint8_t	*p;		/**< STRING/BLOB bytes; decoded ones are NUL-terminated */
	size_t		 len;		/**< STRING/BLOB length in bytes */
};

struct plainbuf_cell {
	const char	*name;		/**< column name; decoded ones are NUL-terminated */
	size_t		 name_len;	/**< bytes in name */
	int		 has_value;
	struct plainbuf_value value;
	int		 op;		/**< enum plainbuf_op */
	int		 has_ts;
	int64_t		 ts;		/**< cell timestamp, ms since the epoch */
};

/** Stream-record sequence info (extension 0x0B/0x0C). */
struct plainbuf_seq {
	uint32_t	 epoch;
	int64_t		 ts_us;		/**< commit time, µs since the epoch */
	uint32_t	 row_index;
};

struct plainbuf_row {
	const struct plainbuf_cell *pk;	/**< primary-key cells, in schema order */
	size_t			 npk;
	const struct plainbuf_cell *attrs; /**< attribute cells */
	size_t			 nattrs;
	int			 deleted;	/**< delete-row marker (0x08) present */
	int			 has_seq;	/**< sequence-info extension present */
	struct plainbuf_seq	 seq;
};

/** Decoded rows.  All pointers point into this object (self-contained). */
struct plainbuf_rows {
	struct plainbuf_row	*rows;
	size_t			 nrows;
	/* private */
	struct plainbuf_cell	*cells_;
	uint8_t			*arena_;
};

/* ---- value / cell constructors (names must stay valid while used) ------ */

static inline struct plainbuf_value
plainbuf_int(int64_t v)
{
	struct plainbuf_value x = { .type = PLAINBUF_VT_INTEGER, .i = v };
	return x;
}

static inline struct plainbuf_value
plainbuf_double(double v)
{
	struct plainbuf_value x = { .type = PLAINBUF_VT_DOUBLE, .d = v };
	return x;
}

static inline struct plainbuf_value
plainbuf_bool(int v)
{
	struct plainbuf_value x = { .type = PLAINBUF_VT_BOOLEAN, .b = v != 0 };
	return x;
}

/** STRING from a NUL-terminated C string (borrowed). */
static inline struct plainbuf_value
plainbuf_str(const char *s)
{
	size_t n = 0;
	struct plainbuf_value x = { .type = PLAINBUF_VT_STRING };

	while (s[n] != '\0')
		n++;
	x.p = (const uint8_t *)s;
	x.len = n;
	return x;
}

/** STRING or BLOB from bytes (borrowed). */
static inline struct plainbuf_value
plainbuf_bytes(int type, const void *p, size_t len)
{
	struct plainbuf_value x = { .type = type, .p = (const uint8_t *)p, .len = len };
	return x;
}

/** INF_MIN, INF_MAX, AUTO_INCREMENT or NULL. */
static inline struct plainbuf_value
plainbuf_special(int type)
{
	struct plainbuf_value x = { .type = type };
	return x;
}

/**
 * plainbuf_cell_set - fill *c: name (NUL-terminated, borrowed), optional
 * value (NULL = none), op and timestamp (ts < 0 = none).  Returns c.
 */
struct plainbuf_cell *plainbuf_cell_set(struct plainbuf_cell *c, const char *name,
    const struct plainbuf_value *value, int op, int64_t ts);

/* ---- encoder ------------------------------------------------------------ */

/**
 * plainbuf_encode - append u32le(0x75) and the given rows (may be 0 rows:
 * then only the header) to out, with cell and row checksums.  A row with
 * has_seq gets the sequence-info extension (stream records).
 * Validates what the format cannot carry (unknown value type or op).
 * Returns 0, ENG_EINVAL (detail in eb) or the buf error (-ENOMEM/-E2BIG).
 */
int plainbuf_encode(const struct plainbuf_row *rows, size_t nrows, struct buf *out,
    struct eng_errbuf *eb) __attribute__((warn_unused_result));

/** plainbuf_encode_row - plainbuf_encode of one row. */
int plainbuf_encode_row(const struct plainbuf_row *row, struct buf *out,
    struct eng_errbuf *eb) __attribute__((warn_unused_result));

/* ---- decoder ------------------------------------------------------------ */

/**
 * plainbuf_decode - parse a whole PlainBuffer (header + rows) from (p, len).
 * len == 0 decodes as zero rows (GetRow's "row absent").  Every cell and
 * row checksum is verified.  Trailing NUL bytes after the last row are
 * ignored.  Unknown extension items are skipped.
 * @param[out] out  on success a new struct plainbuf_rows (plainbuf_rows_free);
 *                  it does not reference p.
 * Returns 0; ENG_ECHECKSUM (eb names the row index and its primary key);
 * ENG_EPROTO for malformed input (eb says what and at which offset);
 * -ENOMEM.
 */
int plainbuf_decode(const uint8_t *p, size_t len, struct plainbuf_rows **out,
    struct eng_errbuf *eb) __attribute__((warn_unused_result));

/** plainbuf_rows_free - NULL-safe. */
void plainbuf_rows_free(struct plainbuf_rows *r);

/* ---- helpers ------------------------------------------------------------ */

/** CRC-8 (poly 0x07, init 0) of n bytes continuing from crc. */
uint8_t plainbuf_crc8(uint8_t crc, const void *p, size_t n);

/**
 * plainbuf_value_cmp - Table Store primary-key order: INF_MIN < any value <
 * INF_MAX; INTEGER numerically; STRING/BLOB bytewise (unsigned), shorter
 * prefix first; values of different types order by type byte.
 * Returns <0, 0, >0.
 */
int plainbuf_value_cmp(const struct plainbuf_value *a, const struct plainbuf_value *b);

/** plainbuf_value_eq - same type and same value (DOUBLE compared bitwise). */
int plainbuf_value_eq(const struct plainbuf_value *a, const struct plainbuf_value *b);

/**
 * plainbuf_pk_cmp - compare two primary keys cell by cell with
 * plainbuf_value_cmp (cells without value compare as INF_MIN); a shorter
 * key that is a prefix of the other sorts first.
 */
int plainbuf_pk_cmp(const struct plainbuf_cell *a, size_t na,
    const struct plainbuf_cell *b, size_t nb);

/**
 * plainbuf_value_format - human-readable value into (s, size) for messages
 * ("123", "\"abc\"", "0x0102", "INF_MIN"...), truncated to fit.
 * Returns s.
 */
char *plainbuf_value_format(const struct plainbuf_value *v, char *s, size_t size);

#endif /* DIFS_PLAINBUF_H */
