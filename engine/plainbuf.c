/* SPDX-License-Identifier: MIT */
/*
 * plainbuf.c - Table Store PlainBuffer encoder/decoder (see plainbuf.h).
 *
 * Owns the byte format only: tags, little-endian integers, the CRC-8 cell
 * and row checksums (polynomial 0x07, init 0; cell checksum order name,
 * value, timestamp, op; row checksum over the cell checksums then the
 * delete marker), and the stream-record sequence-info extension, which no
 * checksum covers.  Facts: research TABLESTORE.md section 3.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plainbuf.h"

#define PB_HEADER		0x75u
#define PB_TAG_ROW_PK		0x01
#define PB_TAG_ROW_DATA		0x02
#define PB_TAG_CELL		0x03
#define PB_TAG_CELL_NAME	0x04
#define PB_TAG_CELL_VALUE	0x05
#define PB_TAG_CELL_TYPE	0x06
#define PB_TAG_CELL_TIMESTAMP	0x07
#define PB_TAG_DELETE_MARKER	0x08
#define PB_TAG_ROW_CHECKSUM	0x09
#define PB_TAG_CELL_CHECKSUM	0x0A
#define PB_TAG_EXTENSION	0x0B
#define PB_TAG_SEQ_INFO		0x0C
#define PB_TAG_SEQ_EPOCH	0x0D
#define PB_TAG_SEQ_TS		0x0E
#define PB_TAG_SEQ_ROW_INDEX	0x0F

#define PB_SEQ_LEN		19u	/* 0D u32 0E i64 0F u32 */

/*
 * CRC-8, polynomial 0x07, MSB first, init 0 (research §3.3).  Table
 * entry i is the CRC of the single byte i; a bit-at-a-time loop cost about
 * half of an export's CPU (tests/bench/e2e_export.sh profile).
 */
static const uint8_t crc8_table[256] = {
	0x00, 0x07, 0x0e, 0x09, 0x1c, 0x1b, 0x12, 0x15, 0x38, 0x3f, 0x36, 0x31,
	0x24, 0x23, 0x2a, 0x2d, 0x70, 0x77, 0x7e, 0x79, 0x6c, 0x6b, 0x62, 0x65,
	0x48, 0x4f, 0x46, 0x41, 0x54, 0x53, 0x5a, 0x5d, 0xe0, 0xe7, 0xee, 0xe9,
	0xfc, 0xfb, 0xf2, 0xf5, 0xd8, 0xdf, 0xd6, 0xd1, 0xc4, 0xc3, 0xca, 0xcd,
	0x90, 0x97, 0x9e, 0x99, 0x8c, 0x8b, 0x82, 0x85, 0xa8, 0xaf, 0xa6, 0xa1,
	0xb4, 0xb3, 0xba, 0xbd, 0xc7, 0xc0, 0xc9, 0xce, 0xdb, 0xdc, 0xd5, 0xd2,
	0xff, 0xf8, 0xf1, 0xf6, 0xe3, 0xe4, 0xed, 0xea, 0xb7, 0xb0, 0xb9, 0xbe,
	0xab, 0xac, 0xa5, 0xa2, 0x8f, 0x88, 0x81, 0x86, 0x93, 0x94, 0x9d, 0x9a,
	0x27, 0x20, 0x29, 0x2e, 0x3b, 0x3c, 0x35, 0x32, 0x1f, 0x18, 0x11, 0x16,
	0x03, 0x04, 0x0d, 0x0a, 0x57, 0x50, 0x59, 0x5e, 0x4b, 0x4c, 0x45, 0x42,
	0x6f, 0x68, 0x61, 0x66, 0x73, 0x74, 0x7d, 0x7a, 0x89, 0x8e, 0x87, 0x80,
	0x95, 0x92, 0x9b, 0x9c, 0xb1, 0xb6, 0xbf, 0xb8, 0xad, 0xaa, 0xa3, 0xa4,
	0xf9, 0xfe, 0xf7, 0xf0, 0xe5, 0xe2, 0xeb, 0xec, 0xc1, 0xc6, 0xcf, 0xc8,
	0xdd, 0xda, 0xd3, 0xd4, 0x69, 0x6e, 0x67, 0x60, 0x75, 0x72, 0x7b, 0x7c,
	0x51, 0x56, 0x5f, 0x58, 0x4d, 0x4a, 0x43, 0x44, 0x19, 0x1e, 0x17, 0x10,
	0x05, 0x02, 0x0b, 0x0c, 0x21, 0x26, 0x2f, 0x28, 0x3d, 0x3a, 0x33, 0x34,
	0x4e, 0x49, 0x40, 0x47, 0x52, 0x55, 0x5c, 0x5b, 0x76, 0x71, 0x78, 0x7f,
	0x6a, 0x6d, 0x64, 0x63, 0x3e, 0x39, 0x30, 0x37, 0x22, 0x25, 0x2c, 0x2b,
	0x06, 0x01, 0x08, 0x0f, 0x1a, 0x1d, 0x14, 0x13, 0xae, 0xa9, 0xa0, 0xa7,
	0xb2, 0xb5, 0xbc, 0xbb, 0x96, 0x91, 0x98, 0x9f, 0x8a, 0x8d, 0x84, 0x83,
	0xde, 0xd9, 0xd0, 0xd7, 0xc2, 0xc5, 0xcc, 0xcb, 0xe6, 0xe1, 0xe8, 0xef,
	0xfa, 0xfd, 0xf4, 0xf3,
};

static inline uint8_t
crc8_byte(uint8_t crc, uint8_t b)
{
	return crc8_table[crc ^ b];
}

uint8_t
plainbuf_crc8(uint8_t crc, const void *p, size_t n)
{
	const uint8_t *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		crc = crc8_byte(crc, s[i]);
	return crc;
}

static uint8_t
crc8_u32(uint8_t crc, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		crc = crc8_byte(crc, (uint8_t)(v >> (8 * i)));
	return crc;
}

static uint8_t
crc8_u64(uint8_t crc, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		crc = crc8_byte(crc, (uint8_t)(v >> (8 * i)));
	return crc;
}

static uint64_t
double_bits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static int
vtype_known(int t)
{
	switch (t) {
	case PLAINBUF_VT_INTEGER:
	case PLAINBUF_VT_DOUBLE:
	case PLAINBUF_VT_BOOLEAN:
	case PLAINBUF_VT_STRING:
	case PLAINBUF_VT_NULL:
	case PLAINBUF_VT_BLOB:
	case PLAINBUF_VT_INF_MIN:
	case PLAINBUF_VT_INF_MAX:
	case PLAINBUF_VT_AUTO_INCREMENT:
		return 1;
	default:
		return 0;
	}
}

static int
op_known(int op)
{
	return op == PLAINBUF_OP_PUT || op == PLAINBUF_OP_DELETE_ALL ||
	    op == PLAINBUF_OP_DELETE_ONE || op == PLAINBUF_OP_INCREMENT;
}

static uint8_t
cell_crc(const struct plainbuf_cell *c)
{
	uint8_t crc = plainbuf_crc8(0, c->name, c->name_len);
	const struct plainbuf_value *v = &c->value;

	if (c->has_value) {
		crc = crc8_byte(crc, (uint8_t)v->type);
		switch (v->type) {
		case PLAINBUF_VT_INTEGER:
			crc = crc8_u64(crc, (uint64_t)v->i);
			break;
		case PLAINBUF_VT_DOUBLE:
			crc = crc8_u64(crc, double_bits(v->d));
			break;
		case PLAINBUF_VT_BOOLEAN:
			crc = crc8_byte(crc, v->b ? 1 : 0);
			break;
		case PLAINBUF_VT_STRING:
		case PLAINBUF_VT_BLOB:
			crc = crc8_u32(crc, (uint32_t)v->len);
			crc = plainbuf_crc8(crc, v->p, v->len);
			break;
		default:	/* INF_MIN, INF_MAX, AUTO_INCREMENT, NULL: type only */
			break;
		}
	}
	if (c->has_ts)
		crc = crc8_u64(crc, (uint64_t)c->ts);
	if (c->op != PLAINBUF_OP_PUT)
		crc = crc8_byte(crc, (uint8_t)c->op);
	return crc;
}

struct plainbuf_cell *
plainbuf_cell_set(struct plainbuf_cell *c, const char *name,
    const struct plainbuf_value *value, int op, int64_t ts)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->name_len = strlen(name);
	if (value != NULL) {
		c->has_value = 1;
		c->value = *value;
	}
	c->op = op;
	if (ts >= 0) {
		c->has_ts = 1;
		c->ts = ts;
	}
	return c;
}

/* ------------------------------------------------------------------ encoder */

static void
put_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4];
	int i;

	for (i = 0; i < 4; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	(void)buf_add(b, x, sizeof(x));	/* sticky error, checked at the end */
}

static void
put_u64(struct buf *b, uint64_t v)
{
	uint8_t x[8];
	int i;

	for (i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	(void)buf_add(b, x, sizeof(x));
}

static void
put_u8(struct buf *b, uint8_t v)
{
	(void)buf_addc(b, (char)v);
}

static int
encode_cell(const struct plainbuf_cell *c, struct buf *out, uint8_t *crcp,
    struct eng_errbuf *eb)
{
	const struct plainbuf_value *v = &c->value;

	if (c->name == NULL && c->name_len != 0)
		return eng_errbuf_set(eb, ENG_EINVAL, "plainbuf: cell without name");
	if (c->name_len > UINT32_MAX)
		return eng_errbuf_set(eb, ENG_EINVAL, "plainbuf: cell name too long");
	if (!op_known(c->op))
		return eng_errbuf_set(eb, ENG_EINVAL, "plainbuf: cell '%.*s': unknown op %d",
		    (int)c->name_len, c->name, c->op);
	if (c->has_value && !vtype_known(v->type))
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "plainbuf: cell '%.*s': unknown value type %d",
		    (int)c->name_len, c->name, v->type);
	if (c->has_value && (v->type == PLAINBUF_VT_STRING || v->type == PLAINBUF_VT_BLOB) &&
	    ((v->p == NULL && v->len != 0) || v->len > UINT32_MAX - 5))
		return eng_errbuf_set(eb, ENG_EINVAL, "plainbuf: cell '%.*s': bad bytes value",
		    (int)c->name_len, c->name);

	put_u8(out, PB_TAG_CELL);
	put_u8(out, PB_TAG_CELL_NAME);
	put_u32(out, (uint32_t)c->name_len);
	(void)buf_add(out, c->name, c->name_len);
	if (c->has_value) {
		put_u8(out, PB_TAG_CELL_VALUE);
		switch (v->type) {
		case PLAINBUF_VT_INTEGER:
			put_u32(out, 9);
			put_u8(out, (uint8_t)v->type);
			put_u64(out, (uint64_t)v->i);
			break;
		case PLAINBUF_VT_DOUBLE:
			put_u32(out, 9);
			put_u8(out, (uint8_t)v->type);
			put_u64(out, double_bits(v->d));
			break;
		case PLAINBUF_VT_BOOLEAN:
			put_u32(out, 2);
			put_u8(out, (uint8_t)v->type);
			put_u8(out, v->b ? 1 : 0);
			break;
		case PLAINBUF_VT_STRING:
		case PLAINBUF_VT_BLOB:
			put_u32(out, (uint32_t)(5 + v->len));
			put_u8(out, (uint8_t)v->type);
			put_u32(out, (uint32_t)v->len);
			(void)buf_add(out, v->p, v->len);
			break;
		default:
			put_u32(out, 1);
			put_u8(out, (uint8_t)v->type);
			break;
		}
	}
	if (c->op != PLAINBUF_OP_PUT) {
		put_u8(out, PB_TAG_CELL_TYPE);
		put_u8(out, (uint8_t)c->op);
	}
	if (c->has_ts) {
		put_u8(out, PB_TAG_CELL_TIMESTAMP);
		put_u64(out, (uint64_t)c->ts);
	}
	*crcp = cell_crc(c);
	put_u8(out, PB_TAG_CELL_CHECKSUM);
	put_u8(out, *crcp);
	return out->err;
}

static int
encode_row(const struct plainbuf_row *r, struct buf *out, struct eng_errbuf *eb)
{
	uint8_t rcrc = 0, ccrc;
	size_t i;
	int rc;

	if ((r->npk != 0 && r->pk == NULL) || (r->nattrs != 0 && r->attrs == NULL))
		return eng_errbuf_set(eb, ENG_EINVAL, "plainbuf: row without cells array");
	put_u8(out, PB_TAG_ROW_PK);
	for (i = 0; i < r->npk; i++) {
		if ((rc = encode_cell(&r->pk[i], out, &ccrc, eb)) != 0)
			return rc;
		rcrc = crc8_byte(rcrc, ccrc);
	}
	if (r->nattrs > 0) {
		put_u8(out, PB_TAG_ROW_DATA);
		for (i = 0; i < r->nattrs; i++) {
			if ((rc = encode_cell(&r->attrs[i], out, &ccrc, eb)) != 0)
				return rc;
			rcrc = crc8_byte(rcrc, ccrc);
		}
	}
	if (r->deleted)
		put_u8(out, PB_TAG_DELETE_MARKER);
	rcrc = crc8_byte(rcrc, r->deleted ? 1 : 0);
	if (r->has_seq) {
		put_u8(out, PB_TAG_EXTENSION);
		put_u32(out, 5 + PB_SEQ_LEN);
		put_u8(out, PB_TAG_SEQ_INFO);
		put_u32(out, PB_SEQ_LEN);
		put_u8(out, PB_TAG_SEQ_EPOCH);
		put_u32(out, r->seq.epoch);
		put_u8(out, PB_TAG_SEQ_TS);
		put_u64(out, (uint64_t)r->seq.ts_us);
		put_u8(out, PB_TAG_SEQ_ROW_INDEX);
		put_u32(out, r->seq.row_index);
	}
	put_u8(out, PB_TAG_ROW_CHECKSUM);
	put_u8(out, rcrc);
	return out->err;
}

int
plainbuf_encode(const struct plainbuf_row *rows, size_t nrows, struct buf *out,
    struct eng_errbuf *eb)
{
	size_t start = out->len, i;
	int rc;

	if (rows == NULL && nrows != 0)
		return eng_errbuf_set(eb, ENG_EINVAL, "plainbuf: no rows");
	put_u32(out, PB_HEADER);
	for (i = 0; i < nrows; i++) {
		if ((rc = encode_row(&rows[i], out, eb)) != 0)
			goto fail;
	}
	if ((rc = out->err) == 0)
		return 0;
fail:
	if (out->err == 0)
		buf_truncate(out, start);
	return rc;
}

int
plainbuf_encode_row(const struct plainbuf_row *row, struct buf *out,
    struct eng_errbuf *eb)
{
	return plainbuf_encode(row, 1, out, eb);
}

/* ------------------------------------------------------------------ decoder */

struct rd {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
};

struct dec {
	struct rd	 in;
	uint8_t		*arena;		/* len + 1 bytes: every copied string + NUL fits */
	size_t		 arena_off;
	struct plainbuf_cell *cells;
	size_t		 ncells, capcells;
	struct plainbuf_row *rows;
	size_t		*row_pk;	/* first cell index of each row (pk, then attrs) */
	size_t		 nrows, caprows, caprowpk;
	struct eng_errbuf *eb;
};

static int
rd_peek(const struct rd *r)
{
	return r->off < r->len ? r->p[r->off] : -1;
}

static int
rd_u8(struct rd *r, uint8_t *v)
{
	if (r->len - r->off < 1)
		return -1;
	*v = r->p[r->off++];
	return 0;
}

static int
rd_u32(struct rd *r, uint32_t *v)
{
	uint32_t x = 0;
	int i;

	if (r->len - r->off < 4)
		return -1;
	for (i = 0; i < 4; i++)
		x |= (uint32_t)r->p[r->off + (size_t)i] << (8 * i);
	r->off += 4;
	*v = x;
	return 0;
}

static int
rd_u64(struct rd *r, uint64_t *v)
{
	uint64_t x = 0;
	int i;

	if (r->len - r->off < 8)
		return -1;
	for (i = 0; i < 8; i++)
		x |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
	r->off += 8;
	*v = x;
	return 0;
}

/* copy n input bytes into the arena, NUL-terminated */
static const uint8_t *
dec_copy(struct dec *d, size_t n)
{
	uint8_t *s = d->arena + d->arena_off;

	memcpy(s, d->in.p + d->in.off, n);
	s[n] = '\0';
	d->in.off += n;
	d->arena_off += n + 1;
	return s;
}

static int
dec_bad(struct dec *d, const char *what)
{
	return eng_errbuf_set(d->eb, ENG_EPROTO, "plainbuf: row %zu: %s at offset %zu",
	    d->nrows, what, d->in.off);
}

/* grow the array whose pointer is at arrp (any object pointer type) */
static int
grow(void *arrp, size_t *cap, size_t elem, size_t need)
{
	size_t ncap;
	void *arr, *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SIZE_MAX / elem)
		return -ENOMEM;
	memcpy(&arr, arrp, sizeof(arr));
	if ((np = realloc(arr, ncap * elem)) == NULL)
		return -ENOMEM;
	memcpy(arrp, &np, sizeof(np));
	*cap = ncap;
	return 0;
}

static int
dec_value(struct dec *d, struct plainbuf_value *v)
{
	struct rd *r = &d->in;
	uint32_t vlen = 0, n = 0;
	uint64_t u = 0;
	uint8_t t = 0, b = 0;
	size_t end;

	if (rd_u32(r, &vlen) != 0 || vlen < 1 || vlen > r->len - r->off)
		return dec_bad(d, "truncated cell value");
	end = r->off + vlen;
	(void)rd_u8(r, &t);
	memset(v, 0, sizeof(*v));
	v->type = t;
	switch (t) {
	case PLAINBUF_VT_INTEGER:
	case PLAINBUF_VT_DOUBLE:
		if (vlen != 9)
			return dec_bad(d, "bad numeric value length");
		(void)rd_u64(r, &u);
		if (t == PLAINBUF_VT_INTEGER)
			v->i = (int64_t)u;
		else
			memcpy(&v->d, &u, sizeof(v->d));
		break;
	case PLAINBUF_VT_BOOLEAN:
		if (vlen != 2)
			return dec_bad(d, "bad boolean value length");
		(void)rd_u8(r, &b);
		if (b > 1)
			return dec_bad(d, "boolean value not 0/1");
		v->b = b;
		break;
	case PLAINBUF_VT_STRING:
	case PLAINBUF_VT_BLOB:
		if (vlen < 5 || rd_u32(r, &n) != 0 || (size_t)n != (size_t)vlen - 5)
			return dec_bad(d, "bad string/binary value length");
		v->len = n;
		v->p = dec_copy(d, n);
		break;
	case PLAINBUF_VT_NULL:
	case PLAINBUF_VT_INF_MIN:
	case PLAINBUF_VT_INF_MAX:
	case PLAINBUF_VT_AUTO_INCREMENT:
		if (vlen != 1)
			return dec_bad(d, "bad value length");
		break;
	default:
		return dec_bad(d, "unknown value type");
	}
	if (r->off != end)
		return dec_bad(d, "value length mismatch");
	return 0;
}

static void
describe_pk(const struct dec *d, size_t first, size_t npk, char *s, size_t size)
{
	size_t i, n = 0;
	char v[96];
	int w;

	s[0] = '\0';
	for (i = first; i < first + npk && i < d->ncells && n < size; i++) {
		const struct plainbuf_cell *c = &d->cells[i];

		if (!c->has_value)
			(void)snprintf(v, sizeof(v), "?");
		else
			(void)plainbuf_value_format(&c->value, v, sizeof(v));
		w = snprintf(s + n, size - n, "%s%s=%s", i == first ? "" : ", ", c->name, v);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

static int
dec_cell(struct dec *d, size_t row_first_pk, size_t row_npk, int in_pk)
{
	struct rd *r = &d->in;
	struct plainbuf_cell *c;
	uint32_t n = 0;
	uint64_t u = 0;
	uint8_t tag = 0, op = 0, crc = 0, want;
	char pk[256];
	int rc;

	if ((rc = grow(&d->cells, &d->capcells, sizeof(*d->cells), d->ncells + 1)) != 0)
		return rc;
	c = &d->cells[d->ncells];
	memset(c, 0, sizeof(*c));
	(void)rd_u8(r, &tag);	/* PB_TAG_CELL, peeked by the caller */
	if (rd_u8(r, &tag) != 0 || tag != PB_TAG_CELL_NAME)
		return dec_bad(d, "cell without name");
	if (rd_u32(r, &n) != 0 || n > r->len - r->off)
		return dec_bad(d, "truncated cell name");
	c->name_len = n;
	c->name = (const char *)dec_copy(d, n);
	if (rd_peek(r) == PB_TAG_CELL_VALUE) {
		r->off++;
		if ((rc = dec_value(d, &c->value)) != 0)
			return rc;
		c->has_value = 1;
	}
	if (rd_peek(r) == PB_TAG_CELL_TYPE) {
		r->off++;
		if (rd_u8(r, &op) != 0)
			return dec_bad(d, "truncated cell type");
		if (op == PLAINBUF_OP_PUT || !op_known(op))
			return dec_bad(d, "unknown cell type");
		c->op = op;
	}
	if (rd_peek(r) == PB_TAG_CELL_TIMESTAMP) {
		r->off++;
		if (rd_u64(r, &u) != 0)
			return dec_bad(d, "truncated cell timestamp");
		c->has_ts = 1;
		c->ts = (int64_t)u;
	}
	if (rd_u8(r, &tag) != 0 || tag != PB_TAG_CELL_CHECKSUM || rd_u8(r, &crc) != 0)
		return dec_bad(d, "cell without checksum");
	want = cell_crc(c);
	if (crc != want) {
		describe_pk(d, row_first_pk, in_pk ? d->ncells - row_first_pk : row_npk,
		    pk, sizeof(pk));
		return eng_errbuf_set(d->eb, ENG_ECHECKSUM,
		    "plainbuf: row %zu (pk %s): %s cell '%s' checksum mismatch "
		    "(stored 0x%02x, computed 0x%02x)", d->nrows, pk,
		    in_pk ? "primary-key" : "attribute", c->name, crc, want);
	}
	d->ncells++;
	return 0;
}

static int
dec_seq(struct dec *d, struct plainbuf_row *row, size_t end)
{
	struct rd *r = &d->in;
	uint8_t tag = 0;
	uint32_t u32 = 0;
	uint64_t u64 = 0;

	while (r->off < end) {
		(void)rd_u8(r, &tag);
		switch (tag) {
		case PB_TAG_SEQ_EPOCH:
			if (end - r->off < 4)
				return dec_bad(d, "truncated sequence epoch");
			(void)rd_u32(r, &row->seq.epoch);
			break;
		case PB_TAG_SEQ_TS:
			if (end - r->off < 8)
				return dec_bad(d, "truncated sequence timestamp");
			(void)rd_u64(r, &u64);
			row->seq.ts_us = (int64_t)u64;
			break;
		case PB_TAG_SEQ_ROW_INDEX:
			if (end - r->off < 4)
				return dec_bad(d, "truncated sequence row index");
			(void)rd_u32(r, &u32);
			row->seq.row_index = u32;
			break;
		default:
			return dec_bad(d, "unknown sequence-info tag");
		}
	}
	row->has_seq = 1;
	return 0;
}

static int
dec_extension(struct dec *d, struct plainbuf_row *row)
{
	struct rd *r = &d->in;
	uint32_t ext_len = 0, item_len = 0;
	uint8_t tag = 0;
	size_t end, item_end;
	int rc;

	if (rd_u32(r, &ext_len) != 0 || ext_len > r->len - r->off)
		return dec_bad(d, "truncated extension");
	end = r->off + ext_len;
	while (r->off < end) {
		(void)rd_u8(r, &tag);
		if (end - r->off < 4)
			return dec_bad(d, "truncated extension item");
		(void)rd_u32(r, &item_len);
		if (item_len > end - r->off)
			return dec_bad(d, "extension item overruns extension");
		item_end = r->off + item_len;
		if (tag == PB_TAG_SEQ_INFO) {
			if ((rc = dec_seq(d, row, item_end)) != 0)
				return rc;
		}
		r->off = item_end;	/* unknown items are skipped */
	}
	return 0;
}

static int
dec_row(struct dec *d)
{
	struct rd *r = &d->in;
	struct plainbuf_row *row;
	size_t first_pk, first_attr, i;
	uint8_t tag = 0, crc = 0, want = 0;
	char pk[256];
	int rc;

	if ((rc = grow(&d->rows, &d->caprows, sizeof(*d->rows), d->nrows + 1)) != 0 ||
	    (rc = grow(&d->row_pk, &d->caprowpk, sizeof(*d->row_pk), d->nrows + 1)) != 0)
		return rc;
	row = &d->rows[d->nrows];
	memset(row, 0, sizeof(*row));
	if (rd_u8(r, &tag) != 0 || tag != PB_TAG_ROW_PK)
		return dec_bad(d, "row does not start with the primary-key tag");
	first_pk = d->ncells;
	while (rd_peek(r) == PB_TAG_CELL) {
		if ((rc = dec_cell(d, first_pk, 0, 1)) != 0)
			return rc;
	}
	row->npk = d->ncells - first_pk;
	first_attr = d->ncells;
	if (rd_peek(r) == PB_TAG_ROW_DATA) {
		r->off++;
		while (rd_peek(r) == PB_TAG_CELL) {
			if ((rc = dec_cell(d, first_pk, row->npk, 0)) != 0)
				return rc;
		}
	}
	row->nattrs = d->ncells - first_attr;
	if (rd_peek(r) == PB_TAG_DELETE_MARKER) {
		r->off++;
		row->deleted = 1;
	}
	if (rd_peek(r) == PB_TAG_EXTENSION) {
		r->off++;
		if ((rc = dec_extension(d, row)) != 0)
			return rc;
	}
	if (rd_u8(r, &tag) != 0 || tag != PB_TAG_ROW_CHECKSUM || rd_u8(r, &crc) != 0)
		return dec_bad(d, "row without checksum");
	for (i = first_pk; i < d->ncells; i++)
		want = crc8_byte(want, cell_crc(&d->cells[i]));
	want = crc8_byte(want, row->deleted ? 1 : 0);
	if (crc != want) {
		describe_pk(d, first_pk, row->npk, pk, sizeof(pk));
		return eng_errbuf_set(d->eb, ENG_ECHECKSUM,
		    "plainbuf: row %zu (pk %s): row checksum mismatch (stored 0x%02x, computed 0x%02x)",
		    d->nrows, pk, crc, want);
	}
	/* remember where this row's cells start; pointers are fixed at the end */
	row->pk = NULL;
	row->attrs = NULL;
	d->row_pk[d->nrows] = first_pk;
	d->nrows++;
	return 0;
}

void
plainbuf_rows_free(struct plainbuf_rows *r)
{
	if (r == NULL)
		return;
	free(r->rows);
	free(r->cells_);
	free(r->arena_);
	free(r);
}

int
plainbuf_decode(const uint8_t *p, size_t len, struct plainbuf_rows **out,
    struct eng_errbuf *eb)
{
	struct plainbuf_rows *res = NULL;
	struct dec d;
	uint32_t hdr;
	size_t i, j;
	int rc = -ENOMEM;

	*out = NULL;
	memset(&d, 0, sizeof(d));
	d.in.p = p;
	d.in.len = len;
	d.eb = eb;
	if (p == NULL && len != 0)
		return eng_errbuf_set(eb, ENG_EINVAL, "plainbuf: NULL buffer");
	if ((res = calloc(1, sizeof(*res))) == NULL)
		goto out;
	if (len == 0) {
		*out = res;
		return 0;
	}
	if ((d.arena = malloc(len + 1)) == NULL)
		goto out;
	if (rd_u32(&d.in, &hdr) != 0 || hdr != PB_HEADER) {
		rc = eng_errbuf_set(eb, ENG_EPROTO, "plainbuf: bad header");
		goto out;
	}
	while (d.in.off < len) {
		if (p[d.in.off] == 0) {
			/* trailing NUL padding ends the buffer; anything else is garbage */
			for (j = d.in.off; j < len; j++) {
				if (p[j] != 0) {
					rc = eng_errbuf_set(eb, ENG_EPROTO,
					    "plainbuf: garbage after padding at offset %zu", j);
					goto out;
				}
			}
			break;
		}
		if ((rc = dec_row(&d)) != 0)
			goto out;
	}
	for (i = 0; i < d.nrows; i++) {
		struct plainbuf_row *row = &d.rows[i];

		row->pk = row->npk ? &d.cells[d.row_pk[i]] : NULL;
		row->attrs = row->nattrs ? &d.cells[d.row_pk[i] + row->npk] : NULL;
	}
	res->rows = d.rows;
	res->nrows = d.nrows;
	res->cells_ = d.cells;
	res->arena_ = d.arena;
	d.rows = NULL;
	d.cells = NULL;
	d.arena = NULL;
	*out = res;
	res = NULL;
	rc = 0;
out:
	free(d.rows);
	free(d.row_pk);
	free(d.cells);
	free(d.arena);
	plainbuf_rows_free(res);
	return rc;
}

/* ------------------------------------------------------------------ helpers */

static int
type_rank(int t)
{
	if (t == PLAINBUF_VT_INF_MIN)
		return -1;
	if (t == PLAINBUF_VT_INF_MAX)
		return 1;
	return 0;
}

int
plainbuf_value_cmp(const struct plainbuf_value *a, const struct plainbuf_value *b)
{
	int ra = type_rank(a->type), rb = type_rank(b->type), c;
	size_t n;

	if (ra != 0 || rb != 0) {
		if (ra != rb)
			return ra < rb ? -1 : 1;
		return 0;
	}
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	switch (a->type) {
	case PLAINBUF_VT_INTEGER:
		return a->i < b->i ? -1 : a->i > b->i;
	case PLAINBUF_VT_DOUBLE:
		return a->d < b->d ? -1 : a->d > b->d;
	case PLAINBUF_VT_BOOLEAN:
		return a->b - b->b;
	case PLAINBUF_VT_STRING:
	case PLAINBUF_VT_BLOB:
		n = a->len < b->len ? a->len : b->len;
		c = n ? memcmp(a->p, b->p, n) : 0;
		if (c != 0)
			return c < 0 ? -1 : 1;
		return a->len < b->len ? -1 : a->len > b->len;
	default:
		return 0;
	}
}

int
plainbuf_value_eq(const struct plainbuf_value *a, const struct plainbuf_value *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case PLAINBUF_VT_INTEGER:
		return a->i == b->i;
	case PLAINBUF_VT_DOUBLE:
		return double_bits(a->d) == double_bits(b->d);
	case PLAINBUF_VT_BOOLEAN:
		return (a->b != 0) == (b->b != 0);
	case PLAINBUF_VT_STRING:
	case PLAINBUF_VT_BLOB:
		return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
	default:
		return 1;
	}
}

int
plainbuf_pk_cmp(const struct plainbuf_cell *a, size_t na,
    const struct plainbuf_cell *b, size_t nb)
{
	static const struct plainbuf_value inf_min = { .type = PLAINBUF_VT_INF_MIN };
	size_t i;
	int c;

	for (i = 0; i < na && i < nb; i++) {
		c = plainbuf_value_cmp(a[i].has_value ? &a[i].value : &inf_min,
		    b[i].has_value ? &b[i].value : &inf_min);
		if (c != 0)
			return c;
	}
	return na < nb ? -1 : na > nb;
}

char *
plainbuf_value_format(const struct plainbuf_value *v, char *s, size_t size)
{
	size_t i, n;
	int w;

	if (size == 0)
		return s;
	s[0] = '\0';
	switch (v->type) {
	case PLAINBUF_VT_INTEGER:
		(void)snprintf(s, size, "%" PRId64, v->i);
		break;
	case PLAINBUF_VT_DOUBLE:
		(void)snprintf(s, size, "%.17g", v->d);
		break;
	case PLAINBUF_VT_BOOLEAN:
		(void)snprintf(s, size, "%s", v->b ? "true" : "false");
		break;
	case PLAINBUF_VT_STRING:
		w = snprintf(s, size, "\"%.*s\"", v->len > 64 ? 64 : (int)v->len,
		    (const char *)v->p);
		if (w >= 0 && (size_t)w >= size && size > 4)
			memcpy(s + size - 4, "...", 4);
		break;
	case PLAINBUF_VT_BLOB:
		(void)snprintf(s, size, "0x");
		n = strlen(s);
		for (i = 0; i < v->len && n + 3 < size; i++) {
			(void)snprintf(s + n, size - n, "%02x", v->p[i]);
			n += 2;
		}
		break;
	case PLAINBUF_VT_NULL:
		(void)snprintf(s, size, "NULL");
		break;
	case PLAINBUF_VT_INF_MIN:
		(void)snprintf(s, size, "INF_MIN");
		break;
	case PLAINBUF_VT_INF_MAX:
		(void)snprintf(s, size, "INF_MAX");
		break;
	case PLAINBUF_VT_AUTO_INCREMENT:
		(void)snprintf(s, size, "AUTO_INCREMENT");
		break;
	default:
		(void)snprintf(s, size, "type%d", v->type);
		break;
	}
	return s;
}
