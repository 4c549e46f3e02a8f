/* SPDX-License-Identifier: MIT */
/*
 * emu_ots_row.c - Table Store rows in difs-emu: the stored row model
 * (attribute columns, each with timestamped versions, newest first) and the
 * row operations PutRow, UpdateRow, DeleteRow, GetRow, GetRange,
 * BatchGetRow and BatchWriteRow with row-existence conditions, server
 * timestamps, max versions, TTL, time ranges and column selection.  Every
 * committed change is handed to the stream (emu_ots_stream_append).
 *
 * Stored row value (rows db): u8 1, u32le ncols, per column (sorted by
 * name bytes): u32le name_len, name, u32le nvers, per version (newest
 * first): i64le ts_ms, u8 type, payload (INTEGER/DOUBLE 8 bytes LE,
 * BOOLEAN 1 byte, STRING/BLOB u32le len + bytes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ots.pb-c.h"

#include "emu_ots_i.h"

#define EMU_OTS_RANGE_ROWS	5000		/* GetRange rows per response */
#define EMU_OTS_RANGE_BYTES	((size_t)4 << 20)
#define EMU_OTS_BATCH_WRITE_MAX	200
#define EMU_OTS_BATCH_GET_MAX	100

struct emu_ots_ver {
	int64_t			 ts;
	struct plainbuf_value	 v;	/**< p owned (STRING/BLOB) */
};

struct emu_ots_col {
	char			*name;	/**< owned, NUL-terminated */
	size_t			 nlen;
	struct emu_ots_ver	*vers;	/**< newest first */
	size_t			 nvers, cap;
};

struct emu_ots_rowv {
	struct emu_ots_col	*cols;	/**< sorted by name */
	size_t			 ncols, cap;
};

static void
emu_ots_col_free(struct emu_ots_col *c)
{
	size_t i;

	for (i = 0; i < c->nvers; i++)
		free((void *)(uintptr_t)c->vers[i].v.p);
	free(c->vers);
	free(c->name);
}

static void
emu_ots_rowv_free(struct emu_ots_rowv *r)
{
	size_t i;

	for (i = 0; i < r->ncols; i++)
		emu_ots_col_free(&r->cols[i]);
	free(r->cols);
	memset(r, 0, sizeof(*r));
}

static int
emu_ots_namecmp(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c != 0)
		return c;
	return al < bl ? -1 : al > bl ? 1 : 0;
}

/** Index of column name, or -(insertion point) - 1. */
static long
emu_ots_col_find(const struct emu_ots_rowv *r, const char *name, size_t nlen)
{
	size_t lo = 0, hi = r->ncols;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = emu_ots_namecmp(r->cols[mid].name, r->cols[mid].nlen, name, nlen);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

static struct emu_ots_col *
emu_ots_col_get(struct emu_ots_rowv *r, const char *name, size_t nlen)
{
	long i = emu_ots_col_find(r, name, nlen);
	size_t at;

	if (i >= 0)
		return &r->cols[i];
	at = (size_t)(-i - 1);
	if (r->ncols == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 8;
		struct emu_ots_col *n = realloc(r->cols, ncap * sizeof(*n));

		if (n == NULL)
			return NULL;
		r->cols = n;
		r->cap = ncap;
	}
	memmove(&r->cols[at + 1], &r->cols[at], (r->ncols - at) * sizeof(r->cols[0]));
	memset(&r->cols[at], 0, sizeof(r->cols[0]));
	if ((r->cols[at].name = strndup(name, nlen)) == NULL) {
		memmove(&r->cols[at], &r->cols[at + 1], (r->ncols - at) * sizeof(r->cols[0]));
		return NULL;
	}
	r->cols[at].nlen = nlen;
	r->ncols++;
	return &r->cols[at];
}

static void
emu_ots_col_remove(struct emu_ots_rowv *r, size_t i)
{
	emu_ots_col_free(&r->cols[i]);
	memmove(&r->cols[i], &r->cols[i + 1], (r->ncols - i - 1) * sizeof(r->cols[0]));
	r->ncols--;
}

/** Add or replace version ts of c with a copy of v. */
static int
emu_ots_col_put(struct emu_ots_col *c, int64_t ts, const struct plainbuf_value *v)
{
	struct plainbuf_value nv = *v;
	size_t i;

	nv.p = NULL;
	if (v->type == PLAINBUF_VT_STRING || v->type == PLAINBUF_VT_BLOB) {
		uint8_t *p = malloc(v->len + 1);

		if (p == NULL)
			return -ENOMEM;
		if (v->len != 0)
			memcpy(p, v->p, v->len);
		p[v->len] = '\0';
		nv.p = p;
	}
	for (i = 0; i < c->nvers && c->vers[i].ts > ts; i++)
		;
	if (i < c->nvers && c->vers[i].ts == ts) {
		free((void *)(uintptr_t)c->vers[i].v.p);
		c->vers[i].v = nv;
		return 0;
	}
	if (c->nvers == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 4;
		struct emu_ots_ver *n = realloc(c->vers, ncap * sizeof(*n));

		if (n == NULL) {
			free((void *)(uintptr_t)nv.p);
			return -ENOMEM;
		}
		c->vers = n;
		c->cap = ncap;
	}
	memmove(&c->vers[i + 1], &c->vers[i], (c->nvers - i) * sizeof(c->vers[0]));
	c->vers[i].ts = ts;
	c->vers[i].v = nv;
	c->nvers++;
	return 0;
}

/* ---- value codec -------------------------------------------------------------- */

static void
put_le(struct buf *b, uint64_t v, int n)
{
	uint8_t x[8];
	int i;

	for (i = 0; i < n; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	(void)buf_add(b, x, (size_t)n);
}

static int
emu_ots_rowv_encode(const struct emu_ots_rowv *r, struct buf *b)
{
	size_t i, j;

	(void)buf_addc(b, 1);
	put_le(b, r->ncols, 4);
	for (i = 0; i < r->ncols; i++) {
		const struct emu_ots_col *c = &r->cols[i];

		put_le(b, c->nlen, 4);
		(void)buf_add(b, c->name, c->nlen);
		put_le(b, c->nvers, 4);
		for (j = 0; j < c->nvers; j++) {
			const struct plainbuf_value *v = &c->vers[j].v;
			uint64_t bits;

			put_le(b, (uint64_t)c->vers[j].ts, 8);
			(void)buf_addc(b, (char)v->type);
			switch (v->type) {
			case PLAINBUF_VT_INTEGER:
				put_le(b, (uint64_t)v->i, 8);
				break;
			case PLAINBUF_VT_DOUBLE:
				memcpy(&bits, &v->d, 8);
				put_le(b, bits, 8);
				break;
			case PLAINBUF_VT_BOOLEAN:
				(void)buf_addc(b, (char)(v->b != 0));
				break;
			default:
				put_le(b, v->len, 4);
				(void)buf_add(b, v->p, v->len);
				break;
			}
		}
	}
	return b->err;
}

struct emu_ots_rd {
	const uint8_t	*p;
	size_t		 len, off;
	int		 bad;
};

static uint64_t
get_le(struct emu_ots_rd *r, int n)
{
	uint64_t v = 0;
	int i;

	if (r->bad || r->len - r->off < (size_t)n) {
		r->bad = 1;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
	r->off += (size_t)n;
	return v;
}

static int
emu_ots_rowv_decode(const uint8_t *p, size_t len, struct emu_ots_rowv *out)
{
	struct emu_ots_rd r = { p, len, 1, 0 };
	uint32_t ncols, i, j;
	int rc = -EIO;

	memset(out, 0, sizeof(*out));
	if (len < 5 || p[0] != 1)
		return -EIO;
	ncols = (uint32_t)get_le(&r, 4);
	for (i = 0; i < ncols && !r.bad; i++) {
		size_t nlen = (size_t)get_le(&r, 4);
		struct emu_ots_col *c;
		uint32_t nvers;

		if (r.bad || r.len - r.off < nlen)
			goto out;
		if ((c = emu_ots_col_get(out, (const char *)p + r.off, nlen)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		r.off += nlen;
		nvers = (uint32_t)get_le(&r, 4);
		for (j = 0; j < nvers && !r.bad; j++) {
			struct plainbuf_value v = { 0 };
			int64_t ts = (int64_t)get_le(&r, 8);
			uint64_t bits;

			v.type = (int)get_le(&r, 1);
			switch (v.type) {
			case PLAINBUF_VT_INTEGER:
				v.i = (int64_t)get_le(&r, 8);
				break;
			case PLAINBUF_VT_DOUBLE:
				bits = get_le(&r, 8);
				memcpy(&v.d, &bits, 8);
				break;
			case PLAINBUF_VT_BOOLEAN:
				v.b = (int)get_le(&r, 1);
				break;
			case PLAINBUF_VT_STRING:
			case PLAINBUF_VT_BLOB:
				v.len = (size_t)get_le(&r, 4);
				if (r.bad || r.len - r.off < v.len)
					goto out;
				v.p = p + r.off;
				r.off += v.len;
				break;
			default:
				goto out;
			}
			if (!r.bad && (rc = emu_ots_col_put(c, ts, &v)) != 0)
				goto out;
			rc = -EIO;
		}
	}
	if (!r.bad && r.off == len)
		return 0;
out:
	emu_ots_rowv_free(out);
	return rc;
}

/* ---- shared request pieces ------------------------------------------------------ */

static int
emu_ots_no_table(struct emu_ots_err *e)
{
	return emu_ots_fail(e, 404, "OTSObjectNotExist", "Requested table does not exist.");
}

/** Decode a PlainBuffer that must hold exactly one row. */
static int
emu_ots_decode_one(const uint8_t *p, size_t len, struct plainbuf_rows **out,
    struct emu_ots_err *e)
{
	struct eng_errbuf eb;
	int rc;

	eb.msg[0] = '\0';
	rc = plainbuf_decode(p, len, out, &eb);
	if (rc == -ENOMEM)
		return rc;
	if (rc == ENG_ECHECKSUM)
		return EMU_OTS_BADPARAM(e, "Cell data broken, checksum is mismatch. %s", eb.msg);
	if (rc != 0)
		return EMU_OTS_BADPARAM(e, "Invalid PlainBuffer: %s", eb.msg);
	if ((*out)->nrows != 1) {
		plainbuf_rows_free(*out);
		*out = NULL;
		return EMU_OTS_BADPARAM(e, "Expect exactly one row in the PlainBuffer.");
	}
	return 0;
}

static void
emu_ots_consumed(Ots__ConsumedCapacity *cc, Ots__CapacityUnit *cu, int read, int write)
{
	ots__consumed_capacity__init(cc);
	ots__capacity_unit__init(cu);
	cu->has_read = 1;
	cu->read = read;
	cu->has_write = 1;
	cu->write = write;
	cc->capacity_unit = cu;
}

/** Encode a PK-only row (header included) into out. */
static int
emu_ots_encode_pk(const struct plainbuf_cell *pk, size_t npk, struct buf *out)
{
	struct plainbuf_row row;

	memset(&row, 0, sizeof(row));
	row.pk = pk;
	row.npk = npk;
	return plainbuf_encode_row(&row, out, NULL);
}

/* ---- reading ---------------------------------------------------------------------- */

struct emu_ots_readopt {
	char		**cols;		/**< columns_to_get (borrowed) */
	size_t		  ncols;
	int		  has_range;
	int64_t		  start, end;	/**< [start, end) ms */
	int		  has_specific;
	int64_t		  specific;
	int32_t		  max_versions;	/**< 0 = not given */
	const char	 *start_column, *end_column;
	int64_t		  min_ts;	/**< TTL: versions older are invisible */
};

static int
emu_ots_readopt_init(const struct emu_ots_table *t, char **cols, size_t ncols,
    const Ots__TimeRange *tr, int has_mv, int32_t mv, const char *sc, const char *ec,
    int has_filter, struct emu_ots_readopt *o, struct emu_ots_err *e)
{
	memset(o, 0, sizeof(*o));
	o->cols = cols;
	o->ncols = ncols;
	if (has_filter)
		return EMU_OTS_BADPARAM(e, "Filters are not supported by difs-emu.");
	if (!has_mv && tr == NULL)
		return EMU_OTS_BADPARAM(e, "Neither column max versions nor time range is set.");
	if (has_mv) {
		if (mv <= 0)
			return EMU_OTS_BADPARAM(e, "Invalid max versions: %d.", mv);
		o->max_versions = mv;
	}
	if (tr != NULL) {
		if (tr->has_specific_time) {
			o->has_specific = 1;
			o->specific = tr->specific_time;
		} else if (tr->has_start_time && tr->has_end_time) {
			if (tr->start_time < 0 || tr->start_time >= tr->end_time)
				return EMU_OTS_BADPARAM(e, "Invalid time range: [%lld, %lld).",
				    (long long)tr->start_time, (long long)tr->end_time);
			o->has_range = 1;
			o->start = tr->start_time;
			o->end = tr->end_time;
		} else {
			return EMU_OTS_BADPARAM(e, "Invalid time range.");
		}
	}
	o->start_column = sc != NULL && *sc != '\0' ? sc : NULL;
	o->end_column = ec != NULL && *ec != '\0' ? ec : NULL;
	o->min_ts = t->ttl > 0 ? emu_ots_now_us() / 1000 - (int64_t)t->ttl * 1000 : INT64_MIN;
	return 0;
}

static int
emu_ots_wanted(const struct emu_ots_readopt *o, const char *name, size_t nlen)
{
	size_t i;

	if (o->start_column != NULL &&
	    emu_ots_namecmp(name, nlen, o->start_column, strlen(o->start_column)) < 0)
		return 0;
	if (o->end_column != NULL &&
	    emu_ots_namecmp(name, nlen, o->end_column, strlen(o->end_column)) >= 0)
		return 0;
	if (o->ncols == 0)
		return 1;
	for (i = 0; i < o->ncols; i++)
		if (strlen(o->cols[i]) == nlen && memcmp(o->cols[i], name, nlen) == 0)
			return 1;
	return 0;
}

/**
 * Append the visible part of a stored row as one PlainBuffer row (without
 * the header) to out.  Returns 1 when a row was written, 0 when nothing of
 * it is selected, <0 on error.
 */
static int
emu_ots_emit_row(const struct emu_ots_table *t, const struct plainbuf_cell *pk,
    const struct emu_ots_rowv *rv, const struct emu_ots_readopt *o, struct buf *out)
{
	struct plainbuf_row row;
	struct plainbuf_cell *cells = NULL;
	size_t n = 0, cap = 0, i, j, hdr = out->len;
	int pk_selected = 0, rc;

	for (i = 0; i < o->ncols; i++)
		for (j = 0; j < (size_t)t->npk; j++)
			if (strcmp(o->cols[i], t->pk[j].name) == 0)
				pk_selected = 1;
	for (i = 0; i < rv->ncols; i++)
		cap += rv->cols[i].nvers;
	if (cap > 0 && (cells = calloc(cap, sizeof(*cells))) == NULL)
		return -ENOMEM;
	for (i = 0; i < rv->ncols; i++) {
		const struct emu_ots_col *c = &rv->cols[i];
		int32_t taken = 0;

		if (!emu_ots_wanted(o, c->name, c->nlen))
			continue;
		for (j = 0; j < c->nvers; j++) {
			const struct emu_ots_ver *v = &c->vers[j];

			if (v->ts < o->min_ts)
				continue;
			if (o->has_specific && v->ts != o->specific)
				continue;
			if (o->has_range && (v->ts < o->start || v->ts >= o->end))
				continue;
			if ((o->max_versions > 0 && taken >= o->max_versions) ||
			    taken >= t->max_versions)
				break;
			memset(&cells[n], 0, sizeof(cells[n]));
			cells[n].name = c->name;
			cells[n].name_len = c->nlen;
			cells[n].has_value = 1;
			cells[n].value = v->v;
			cells[n].has_ts = 1;
			cells[n].ts = v->ts;
			n++;
			taken++;
		}
	}
	if (n == 0 && o->ncols > 0 && !pk_selected) {
		free(cells);
		return 0;
	}
	/* rows whose every version is outside the TTL / time range vanish */
	if (n == 0 && o->ncols == 0 && rv->ncols > 0 && (o->has_range || o->has_specific ||
	    o->min_ts != INT64_MIN)) {
		free(cells);
		return 0;
	}
	memset(&row, 0, sizeof(row));
	row.pk = pk;
	row.npk = (size_t)t->npk;
	row.attrs = cells;
	row.nattrs = n;
	rc = plainbuf_encode_row(&row, out, NULL);
	free(cells);
	if (rc != 0)
		return rc;
	/* drop the 4-byte header plainbuf_encode_row wrote: callers add one */
	memmove(out->p + hdr, out->p + hdr + 4, out->len - hdr - 4);
	out->len -= 4;
	out->p[out->len] = '\0';
	return 1;
}

static int
emu_ots_load(struct emu_ots_txn *txn, const uint8_t *key, size_t kl, struct emu_ots_rowv *rv)
{
	const void *v;
	size_t vl;
	int rc = emu_ots_get(txn, EMU_OTS_DB_ROWS, key, kl, &v, &vl);

	if (rc != 0)
		return rc;
	return emu_ots_rowv_decode(v, vl, rv);
}

/** Read one row by PK into out (a whole PlainBuffer or empty). */
static int
emu_ots_read_one(struct emu_ots_txn *txn, const struct emu_ots_table *t,
    const uint8_t *pkbuf, size_t pklen, const struct emu_ots_readopt *o,
    struct buf *out, struct emu_ots_err *e)
{
	struct plainbuf_rows *pr = NULL;
	struct emu_ots_rowv rv = { 0 };
	uint8_t key[EMU_OTS_KEY_MAX + 16];
	size_t kl, mark;
	int rc;

	if ((rc = emu_ots_decode_one(pkbuf, pklen, &pr, e)) != 0)
		return rc;
	if ((rc = emu_ots_pk_check(t, &pr->rows[0], 0, 0, e)) != 0)
		goto out;
	if (emu_ots_key_encode(t, pr->rows[0].pk, pr->rows[0].npk, key, &kl) != 0) {
		rc = EMU_OTS_BADPARAM(e, "The primary key is too long for difs-emu.");
		goto out;
	}
	rc = emu_ots_load(txn, key, kl, &rv);
	if (rc == -ENOENT) {
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	mark = out->len;
	put_le(out, 0x75, 4);
	rc = emu_ots_emit_row(t, pr->rows[0].pk, &rv, o, out);
	if (rc == 0)
		buf_truncate(out, mark);
	rc = rc < 0 ? rc : 0;
out:
	emu_ots_rowv_free(&rv);
	plainbuf_rows_free(pr);
	return rc;
}

int
emu_ots_get_row(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e)
{
	Ots__GetRowRequest *rq;
	Ots__GetRowResponse rs = OTS__GET_ROW_RESPONSE__INIT;
	Ots__ConsumedCapacity cc;
	Ots__CapacityUnit cu;
	struct emu_ots_readopt o;
	struct emu_ots_txn *txn = NULL;
	const struct emu_ots_table *t;
	struct buf row;
	int rc = -1;

	if ((rq = ots__get_row_request__unpack(NULL, len, body)) == NULL)
		return EMU_OTS_BADPARAM(e, "Failed to parse the ProtoBuf message.");
	buf_init(&row, BUF_MAX_BODY);
	pthread_rwlock_rdlock(&ots->meta_lock);
	if ((t = emu_ots_table_find(ots, rq->table_name)) == NULL) {
		emu_ots_no_table(e);
		goto out;
	}
	if (emu_ots_readopt_init(t, rq->columns_to_get, rq->n_columns_to_get, rq->time_range,
	    rq->has_max_versions, rq->max_versions, rq->start_column, rq->end_column,
	    rq->has_filter, &o, e) != 0)
		goto out;
	if ((rc = emu_ots_txn_begin(ots->store, 1, &txn)) != 0)
		goto out;
	if ((rc = emu_ots_read_one(txn, t, rq->primary_key.data, rq->primary_key.len,
	    &o, &row, e)) != 0)
		goto out;
	emu_ots_consumed(&cc, &cu, 1 + (int)(row.len / 4096), 0);
	rs.consumed = &cc;
	rs.row.data = (uint8_t *)row.p;
	rs.row.len = row.len;
	rc = emu_ots_pack(&rs, out);
out:
	emu_ots_txn_abort(txn);
	pthread_rwlock_unlock(&ots->meta_lock);
	buf_free(&row);
	ots__get_row_request__free_unpacked(rq, NULL);
	return rc;
}

int
emu_ots_batch_get_row(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e)
{
	Ots__BatchGetRowRequest *rq;
	Ots__BatchGetRowResponse rs = OTS__BATCH_GET_ROW_RESPONSE__INIT;
	Ots__TableInBatchGetRowResponse *tabs = NULL, **tabp = NULL;
	Ots__RowInBatchGetRowResponse *rows = NULL, **rowp = NULL;
	Ots__ConsumedCapacity *ccs = NULL;
	Ots__CapacityUnit *cus = NULL;
	Ots__Error *errs = NULL;
	struct emu_ots_err *rerr = NULL;
	struct buf *bufs = NULL;
	struct emu_ots_txn *txn = NULL;
	size_t i, j, total = 0, k = 0;
	int rc = -ENOMEM;

	if ((rq = ots__batch_get_row_request__unpack(NULL, len, body)) == NULL)
		return EMU_OTS_BADPARAM(e, "Failed to parse the ProtoBuf message.");
	for (i = 0; i < rq->n_tables; i++)
		total += rq->tables[i]->n_primary_key;
	if (total > EMU_OTS_BATCH_GET_MAX) {
		rc = EMU_OTS_BADPARAM(e, "Rows count exceeds the upper limit: %d.",
		    EMU_OTS_BATCH_GET_MAX);
		ots__batch_get_row_request__free_unpacked(rq, NULL);
		return rc;
	}
	pthread_rwlock_rdlock(&ots->meta_lock);
	if ((tabs = calloc(rq->n_tables + 1, sizeof(*tabs))) == NULL ||
	    (tabp = calloc(rq->n_tables + 1, sizeof(*tabp))) == NULL ||
	    (rows = calloc(total + 1, sizeof(*rows))) == NULL ||
	    (rowp = calloc(total + 1, sizeof(*rowp))) == NULL ||
	    (ccs = calloc(total + 1, sizeof(*ccs))) == NULL ||
	    (cus = calloc(total + 1, sizeof(*cus))) == NULL ||
	    (errs = calloc(total + 1, sizeof(*errs))) == NULL ||
	    (rerr = calloc(total + 1, sizeof(*rerr))) == NULL ||
	    (bufs = calloc(total + 1, sizeof(*bufs))) == NULL)
		goto out;
	for (i = 0; i < total; i++)
		buf_init(&bufs[i], BUF_MAX_BODY);
	if ((rc = emu_ots_txn_begin(ots->store, 1, &txn)) != 0)
		goto out;
	for (i = 0; i < rq->n_tables; i++) {
		const Ots__TableInBatchGetRowRequest *tr = rq->tables[i];
		const struct emu_ots_table *t = emu_ots_table_find(ots, tr->table_name);
		struct emu_ots_readopt o;
		struct emu_ots_err terr;
		int tbad = 0;

		memset(&terr, 0, sizeof(terr));
		if (t == NULL)
			tbad = emu_ots_no_table(&terr);
		else
			tbad = emu_ots_readopt_init(t, tr->columns_to_get, tr->n_columns_to_get,
			    tr->time_range, tr->has_max_versions, tr->max_versions,
			    tr->start_column, tr->end_column, tr->has_filter, &o, &terr);
		ots__table_in_batch_get_row_response__init(&tabs[i]);
		tabs[i].table_name = tr->table_name;
		tabs[i].rows = &rowp[k];
		tabs[i].n_rows = tr->n_primary_key;
		tabp[i] = &tabs[i];
		for (j = 0; j < tr->n_primary_key; j++, k++) {
			Ots__RowInBatchGetRowResponse *r = &rows[k];

			ots__row_in_batch_get_row_response__init(r);
			rowp[k] = r;
			if (tbad == 0) {
				rc = emu_ots_read_one(txn, t, tr->primary_key[j].data,
				    tr->primary_key[j].len, &o, &bufs[k], &rerr[k]);
				if (rc < -1)
					goto out;
			} else {
				rerr[k] = terr;
			}
			if (rerr[k].status != 0) {
				ots__error__init(&errs[k]);
				errs[k].code = rerr[k].code;
				errs[k].message = rerr[k].msg;
				r->is_ok = 0;
				r->error = &errs[k];
				continue;
			}
			r->is_ok = 1;
			emu_ots_consumed(&ccs[k], &cus[k], 1 + (int)(bufs[k].len / 4096), 0);
			r->consumed = &ccs[k];
			r->has_row = 1;
			r->row.data = (uint8_t *)bufs[k].p;
			r->row.len = bufs[k].len;
		}
	}
	rs.n_tables = rq->n_tables;
	rs.tables = tabp;
	rc = emu_ots_pack(&rs, out);
out:
	emu_ots_txn_abort(txn);
	pthread_rwlock_unlock(&ots->meta_lock);
	if (bufs != NULL)
		for (i = 0; i < total; i++)
			buf_free(&bufs[i]);
	free(bufs);
	free(rerr);
	free(errs);
	free(cus);
	free(ccs);
	free(rowp);
	free(rows);
	free(tabp);
	free(tabs);
	ots__batch_get_row_request__free_unpacked(rq, NULL);
	return rc;
}

int
emu_ots_get_range(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e)
{
	Ots__GetRangeRequest *rq;
	Ots__GetRangeResponse rs = OTS__GET_RANGE_RESPONSE__INIT;
	Ots__ConsumedCapacity cc;
	Ots__CapacityUnit cu;
	struct plainbuf_rows *sr = NULL, *er = NULL;
	struct emu_ots_readopt o;
	struct emu_ots_txn *txn = NULL;
	struct emu_ots_cur *cur = NULL;
	const struct emu_ots_table *t;
	uint8_t sk[EMU_OTS_KEY_MAX + 16], ek[EMU_OTS_KEY_MAX + 16];
	uint8_t *arena = NULL;
	size_t skl, ekl, count = 0, limit;
	struct buf rows, next;
	const void *k, *v;
	size_t kl, vl;
	int rc = -1, back, c;

	if ((rq = ots__get_range_request__unpack(NULL, len, body)) == NULL)
		return EMU_OTS_BADPARAM(e, "Failed to parse the ProtoBuf message.");
	buf_init(&rows, BUF_MAX_BODY);
	buf_init(&next, BUF_MAX_SMALL);
	back = rq->direction == OTS__DIRECTION__BACKWARD;
	pthread_rwlock_rdlock(&ots->meta_lock);
	if ((t = emu_ots_table_find(ots, rq->table_name)) == NULL) {
		emu_ots_no_table(e);
		goto out;
	}
	if (emu_ots_readopt_init(t, rq->columns_to_get, rq->n_columns_to_get, rq->time_range,
	    rq->has_max_versions, rq->max_versions, rq->start_column, rq->end_column,
	    rq->has_filter, &o, e) != 0)
		goto out;
	if (rq->has_limit && rq->limit <= 0) {
		EMU_OTS_BADPARAM(e, "The limit must be greater than 0.");
		goto out;
	}
	limit = rq->has_limit && (size_t)rq->limit < EMU_OTS_RANGE_ROWS ?
	    (size_t)rq->limit : EMU_OTS_RANGE_ROWS;
	if ((rc = emu_ots_decode_one(rq->inclusive_start_primary_key.data,
	    rq->inclusive_start_primary_key.len, &sr, e)) != 0 ||
	    (rc = emu_ots_decode_one(rq->exclusive_end_primary_key.data,
	    rq->exclusive_end_primary_key.len, &er, e)) != 0 ||
	    (rc = emu_ots_pk_check(t, &sr->rows[0], 1, 0, e)) != 0 ||
	    (rc = emu_ots_pk_check(t, &er->rows[0], 1, 0, e)) != 0)
		goto out;
	if (emu_ots_key_encode(t, sr->rows[0].pk, sr->rows[0].npk, sk, &skl) != 0 ||
	    emu_ots_key_encode(t, er->rows[0].pk, er->rows[0].npk, ek, &ekl) != 0) {
		rc = EMU_OTS_BADPARAM(e, "The primary key is too long for difs-emu.");
		goto out;
	}
	c = memcmp(sk, ek, skl < ekl ? skl : ekl);
	if (c == 0)
		c = skl < ekl ? -1 : skl > ekl ? 1 : 0;
	if (!back && c >= 0) {
		rc = EMU_OTS_BADPARAM(e, "Begin key must less than end key in FORWARD.");
		goto out;
	}
	if (back && c <= 0) {
		rc = EMU_OTS_BADPARAM(e, "Begin key must more than end key in BACKWARD.");
		goto out;
	}
	if ((arena = malloc(EMU_OTS_KEY_MAX + 16)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = emu_ots_txn_begin(ots->store, 1, &txn)) != 0 ||
	    (rc = emu_ots_cur_open(txn, EMU_OTS_DB_ROWS, &cur)) != 0)
		goto out;
	put_le(&rows, 0x75, 4);
	for (rc = emu_ots_cur_seek(cur, sk, skl, back, &k, &kl, &v, &vl); rc == 0;
	    rc = emu_ots_cur_step(cur, back, &k, &kl, &v, &vl)) {
		struct plainbuf_cell pk[EMU_OTS_PK_MAX];
		struct emu_ots_rowv rv;
		size_t n = kl < ekl ? kl : ekl;
		int ce = memcmp(k, ek, n), w;

		if (ce == 0)
			ce = kl < ekl ? -1 : kl > ekl ? 1 : 0;
		if ((!back && ce >= 0) || (back && ce <= 0))
			break;
		if (kl < 4 || memcmp(k, sk, 4) != 0)
			break;
		if (emu_ots_key_decode(t, k, kl, pk, arena) != 0) {
			rc = -EIO;
			goto out;
		}
		if (count >= limit || rows.len >= EMU_OTS_RANGE_BYTES) {
			if ((rc = emu_ots_encode_pk(pk, (size_t)t->npk, &next)) != 0)
				goto out;
			rs.has_next_start_primary_key = 1;
			break;
		}
		if ((rc = emu_ots_rowv_decode(v, vl, &rv)) != 0)
			goto out;
		w = emu_ots_emit_row(t, pk, &rv, &o, &rows);
		emu_ots_rowv_free(&rv);
		if (w < 0) {
			rc = w;
			goto out;
		}
		count += (size_t)w;
	}
	if (rc != 0 && rc != -ENOENT)
		goto out;
	if (count == 0)
		rows.len = 0;
	emu_ots_consumed(&cc, &cu, 1 + (int)(rows.len / 4096), 0);
	rs.consumed = &cc;
	rs.rows.data = (uint8_t *)rows.p;
	rs.rows.len = rows.len;
	if (rs.has_next_start_primary_key) {
		rs.next_start_primary_key.data = (uint8_t *)next.p;
		rs.next_start_primary_key.len = next.len;
	}
	rc = emu_ots_pack(&rs, out);
out:
	emu_ots_cur_close(cur);
	emu_ots_txn_abort(txn);
	pthread_rwlock_unlock(&ots->meta_lock);
	free(arena);
	plainbuf_rows_free(sr);
	plainbuf_rows_free(er);
	buf_free(&rows);
	buf_free(&next);
	ots__get_range_request__free_unpacked(rq, NULL);
	return rc;
}

/* ---- writing ------------------------------------------------------------------------ */

enum { EMU_OTS_W_PUT = 1, EMU_OTS_W_UPDATE = 2, EMU_OTS_W_DELETE = 3 };

struct emu_ots_write {
	int			 kind;		/**< EMU_OTS_W_* */
	const uint8_t		*pb;		/**< PlainBuffer row change */
	size_t			 pblen;
	const Ots__Condition	*cond;
	int			 return_pk;	/**< ReturnContent RT_PK */
	struct buf		 ret;		/**< returned row (RT_PK) */
};

static int
emu_ots_validate_cells(const struct emu_ots_table *t, int kind, const struct plainbuf_row *r,
    int64_t now_ms, struct emu_ots_err *e)
{
	size_t i;

	if (kind == EMU_OTS_W_DELETE) {
		if (!r->deleted)
			return EMU_OTS_BADPARAM(e, "Invalid request of delete row: missing "
			    "RowDeleteMarker in request.");
		if (r->nattrs != 0)
			return EMU_OTS_BADPARAM(e, "Attribute columns cannot be given in DeleteRow.");
		return 0;
	}
	if (r->deleted)
		return EMU_OTS_BADPARAM(e, "RowDeleteMarker can only be given in DeleteRow.");
	if (kind == EMU_OTS_W_UPDATE && r->nattrs == 0)
		return EMU_OTS_BADPARAM(e, "Attribute column is missing.");
	for (i = 0; i < r->nattrs; i++) {
		const struct plainbuf_cell *c = &r->attrs[i];
		int vt = c->value.type;
		size_t j;

		if (c->name_len == 0 || c->name_len > EMU_OTS_NAME_MAX)
			return EMU_OTS_BADPARAM(e, "Invalid column name: '%.*s'.",
			    (int)c->name_len, c->name);
		for (j = 0; j < (size_t)t->npk; j++)
			if (strlen(t->pk[j].name) == c->name_len &&
			    memcmp(t->pk[j].name, c->name, c->name_len) == 0)
				return EMU_OTS_BADPARAM(e, "Attribute column '%s' conflicts "
				    "with a primary key column.", t->pk[j].name);
		if (c->has_value && vt != PLAINBUF_VT_INTEGER && vt != PLAINBUF_VT_DOUBLE &&
		    vt != PLAINBUF_VT_BOOLEAN && vt != PLAINBUF_VT_STRING && vt != PLAINBUF_VT_BLOB)
			return EMU_OTS_BADPARAM(e, "Invalid value type of column '%.*s'.",
			    (int)c->name_len, c->name);
		if (c->has_ts && c->ts < 0)
			return EMU_OTS_BADPARAM(e, "The timestamp is negative.");
		if (c->has_ts && t->has_deviation && c->op != PLAINBUF_OP_DELETE_ONE &&
		    (c->ts < now_ms - t->deviation * 1000 || c->ts > now_ms + t->deviation * 1000))
			return EMU_OTS_BADPARAM(e, "The timestamp %lld of column '%.*s' is out "
			    "of the max time deviation.", (long long)c->ts, (int)c->name_len, c->name);
		if (kind == EMU_OTS_W_PUT) {
			if (c->op != PLAINBUF_OP_PUT)
				return EMU_OTS_BADPARAM(e, "OpType cannot be given for column "
				    "name:%.*s in PutRow.", (int)c->name_len, c->name);
			if (!c->has_value)
				return EMU_OTS_BADPARAM(e, "Column '%.*s' has no value.",
				    (int)c->name_len, c->name);
			continue;
		}
		switch (c->op) {
		case PLAINBUF_OP_PUT:
			if (!c->has_value)
				return EMU_OTS_BADPARAM(e, "Column '%.*s' has no value.",
				    (int)c->name_len, c->name);
			break;
		case PLAINBUF_OP_DELETE_ONE:
			if (!c->has_ts)
				return EMU_OTS_BADPARAM(e, "Timestamp must be given when type "
				    "is DELETE_ONE_VERSION.");
			if (c->has_value)
				return EMU_OTS_BADPARAM(e, "Value cannot be given when type "
				    "is DELETE_ONE_VERSION.");
			break;
		case PLAINBUF_OP_DELETE_ALL:
			if (c->has_ts)
				return EMU_OTS_BADPARAM(e, "Timestamp cannot be given when type "
				    "is DELETE_ALL_VERSION.");
			if (c->has_value)
				return EMU_OTS_BADPARAM(e, "Value cannot be given when type "
				    "is DELETE_ALL_VERSION.");
			break;
		case PLAINBUF_OP_INCREMENT:
			if (!c->has_value || vt != PLAINBUF_VT_INTEGER || c->has_ts)
				return EMU_OTS_BADPARAM(e, "Increment needs an INTEGER value "
				    "and no timestamp.");
			break;
		default:
			return EMU_OTS_BADPARAM(e, "Unknown cell type.");
		}
	}
	return 0;
}

static void
emu_ots_trim_versions(struct emu_ots_rowv *rv, int32_t max)
{
	size_t i, j;

	for (i = 0; i < rv->ncols; i++) {
		struct emu_ots_col *c = &rv->cols[i];

		for (j = (size_t)max; j < c->nvers; j++)
			free((void *)(uintptr_t)c->vers[j].v.p);
		if (c->nvers > (size_t)max)
			c->nvers = (size_t)max;
	}
}

/**
 * Apply one row change inside txn (write_lock held).  Service errors (bad
 * row, condition) set e and return -1 without touching the store.
 */
static int
emu_ots_write_row(struct emu_ots_txn *txn, struct emu_ots_table *t, struct emu_ots_write *w,
    int64_t commit_us, uint32_t row_index, struct emu_ots_err *e)
{
	struct plainbuf_rows *pr = NULL;
	struct plainbuf_row *r, rec;
	struct plainbuf_cell *rcells = NULL, pkc[EMU_OTS_PK_MAX];
	struct emu_ots_rowv rv = { 0 };
	uint8_t key[EMU_OTS_KEY_MAX + 16];
	int64_t now_ms = commit_us / 1000;
	size_t kl, i, nrc = 0;
	int rc, exists, cond;
	struct buf val;

	buf_init(&val, BUF_MAX_BODY);
	if ((rc = emu_ots_decode_one(w->pb, w->pblen, &pr, e)) != 0)
		goto out;
	r = &pr->rows[0];
	if ((rc = emu_ots_pk_check(t, r, 0, w->kind == EMU_OTS_W_PUT, e)) != 0 ||
	    (rc = emu_ots_validate_cells(t, w->kind, r, now_ms, e)) != 0)
		goto out;
	if (w->cond != NULL && w->cond->has_column_condition) {
		rc = EMU_OTS_BADPARAM(e, "Column conditions are not supported by difs-emu.");
		goto out;
	}
	cond = w->cond != NULL ? (int)w->cond->row_existence : 0;
	memcpy(pkc, r->pk, r->npk * sizeof(pkc[0]));
	for (i = 0; i < r->npk; i++)
		if (pkc[i].value.type == PLAINBUF_VT_AUTO_INCREMENT) {
			int64_t now = emu_ots_now_us();

			t->last_autoinc = now > t->last_autoinc ? now : t->last_autoinc + 1;
			pkc[i].value = plainbuf_int(t->last_autoinc);
		}
	if (emu_ots_key_encode(t, pkc, r->npk, key, &kl) != 0) {
		rc = EMU_OTS_BADPARAM(e, "The primary key is too long for difs-emu.");
		goto out;
	}
	rc = emu_ots_load(txn, key, kl, &rv);
	if (rc != 0 && rc != -ENOENT)
		goto out;
	exists = rc == 0;
	if ((cond == OTS__ROW_EXISTENCE_EXPECTATION__EXPECT_EXIST && !exists) ||
	    (cond == OTS__ROW_EXISTENCE_EXPECTATION__EXPECT_NOT_EXIST && exists)) {
		rc = emu_ots_fail(e, 403, "OTSConditionCheckFail", "Condition check failed.");
		goto out;
	}
	if (w->kind == EMU_OTS_W_PUT)
		emu_ots_rowv_free(&rv);
	/* cells of the stream record: PK + the applied cells */
	if (r->nattrs > 0 && (rcells = calloc(r->nattrs, sizeof(*rcells))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < r->nattrs && w->kind != EMU_OTS_W_DELETE; i++) {
		const struct plainbuf_cell *c = &r->attrs[i];
		struct emu_ots_col *col;
		long ci = emu_ots_col_find(&rv, c->name, c->name_len);
		int64_t ts = c->has_ts ? c->ts : now_ms;

		rcells[nrc] = *c;
		switch (c->op) {
		case PLAINBUF_OP_PUT:
			if ((col = emu_ots_col_get(&rv, c->name, c->name_len)) == NULL ||
			    emu_ots_col_put(col, ts, &c->value) != 0) {
				rc = -ENOMEM;
				goto out;
			}
			rcells[nrc].has_ts = 1;
			rcells[nrc].ts = ts;
			break;
		case PLAINBUF_OP_DELETE_ONE:
			if (ci >= 0) {
				struct emu_ots_col *dc = &rv.cols[ci];
				size_t j;

				for (j = 0; j < dc->nvers; j++)
					if (dc->vers[j].ts == c->ts) {
						free((void *)(uintptr_t)dc->vers[j].v.p);
						memmove(&dc->vers[j], &dc->vers[j + 1],
						    (dc->nvers - j - 1) * sizeof(dc->vers[0]));
						dc->nvers--;
						break;
					}
				if (dc->nvers == 0)
					emu_ots_col_remove(&rv, (size_t)ci);
			}
			break;
		case PLAINBUF_OP_DELETE_ALL:
			if (ci >= 0)
				emu_ots_col_remove(&rv, (size_t)ci);
			break;
		case PLAINBUF_OP_INCREMENT: {
			int64_t base = 0;

			if (ci >= 0 && rv.cols[ci].nvers > 0) {
				if (rv.cols[ci].vers[0].v.type != PLAINBUF_VT_INTEGER) {
					rc = EMU_OTS_BADPARAM(e, "Increment on a column that is "
					    "not INTEGER.");
					goto out;
				}
				base = rv.cols[ci].vers[0].v.i;
			}
			rcells[nrc].value = plainbuf_int(base + c->value.i);
			rcells[nrc].op = PLAINBUF_OP_PUT;
			rcells[nrc].has_ts = 1;
			rcells[nrc].ts = now_ms;
			if ((col = emu_ots_col_get(&rv, c->name, c->name_len)) == NULL ||
			    emu_ots_col_put(col, now_ms, &rcells[nrc].value) != 0) {
				rc = -ENOMEM;
				goto out;
			}
			break;
		}
		default:
			break;
		}
		nrc++;
	}
	emu_ots_trim_versions(&rv, t->max_versions);
	if (w->kind == EMU_OTS_W_DELETE || (w->kind == EMU_OTS_W_UPDATE && rv.ncols == 0)) {
		rc = emu_ots_del(txn, EMU_OTS_DB_ROWS, key, kl);
		if (rc == -ENOENT)
			rc = 0;
	} else {
		if ((rc = emu_ots_rowv_encode(&rv, &val)) == 0)
			rc = emu_ots_put(txn, EMU_OTS_DB_ROWS, key, kl, val.p, val.len);
	}
	if (rc != 0)
		goto out;
	if (t->stream) {
		memset(&rec, 0, sizeof(rec));
		rec.pk = pkc;
		rec.npk = r->npk;
		rec.attrs = rcells;
		rec.nattrs = nrc;
		rec.deleted = w->kind == EMU_OTS_W_DELETE;
		rc = emu_ots_stream_append(txn, t, w->kind, &rec, commit_us, row_index);
		if (rc != 0)
			goto out;
	}
	if (w->return_pk)
		rc = emu_ots_encode_pk(pkc, r->npk, &w->ret);
out:
	free(rcells);
	emu_ots_rowv_free(&rv);
	plainbuf_rows_free(pr);
	buf_free(&val);
	return rc;
}

/** Run nw writes against their tables in one txn; per-row errors in errs. */
static int
emu_ots_write_batch(struct emu_ots *ots, struct emu_ots_table **tabs,
    struct emu_ots_write *w, size_t nw, struct emu_ots_err *errs)
{
	struct emu_ots_txn *txn = NULL;
	int64_t commit_us = 0;
	size_t i;
	int rc;

	if ((rc = emu_ots_txn_begin(ots->store, 0, &txn)) != 0)
		return rc;
	for (i = 0; i < nw; i++) {
		if (tabs[i] == NULL) {
			emu_ots_no_table(&errs[i]);
			continue;
		}
		/* one commit time per table and batch: rows of a batch share it */
		if (i == 0 || tabs[i] != tabs[i - 1])
			commit_us = emu_ots_commit_us(tabs[i]);
		rc = emu_ots_write_row(txn, tabs[i], &w[i], commit_us, (uint32_t)i, &errs[i]);
		if (rc < -1)
			goto fail;
	}
	for (i = 0; i < nw; i++)
		if (tabs[i] != NULL && (i == 0 || tabs[i] != tabs[i - 1]) &&
		    (rc = emu_ots_store_put_table(txn, tabs[i])) != 0)
			goto fail;
	return emu_ots_txn_commit(txn);
fail:
	emu_ots_txn_abort(txn);
	return rc;
}

/** PutRow, UpdateRow, DeleteRow: one write, response {consumed, [row]}. */
static int
emu_ots_single_write(struct emu_ots *ots, const char *table, struct emu_ots_write *w,
    const Ots__ReturnContent *ret, struct buf *out, struct emu_ots_err *e)
{
	Ots__PutRowResponse rs = OTS__PUT_ROW_RESPONSE__INIT;	/* same layout for all three */
	Ots__ConsumedCapacity cc;
	Ots__CapacityUnit cu;
	struct emu_ots_table *t;
	int rc;

	w->return_pk = ret != NULL && ret->has_return_type &&
	    ret->return_type == OTS__RETURN_TYPE__RT_PK;
	buf_init(&w->ret, BUF_MAX_SMALL);
	pthread_mutex_lock(&ots->write_lock);
	pthread_rwlock_rdlock(&ots->meta_lock);
	t = emu_ots_table_find(ots, table);
	if (t == NULL)
		rc = emu_ots_no_table(e);
	else
		rc = emu_ots_write_batch(ots, &t, w, 1, e);
	pthread_rwlock_unlock(&ots->meta_lock);
	pthread_mutex_unlock(&ots->write_lock);
	if (rc == 0 && e->status == 0) {
		emu_ots_consumed(&cc, &cu, 0, 1 + (int)(w->pblen / 4096));
		rs.consumed = &cc;
		if (w->return_pk) {
			rs.has_row = 1;
			rs.row.data = (uint8_t *)w->ret.p;
			rs.row.len = w->ret.len;
		}
		rc = emu_ots_pack(&rs, out);
	} else if (rc == 0) {
		rc = -1;
	}
	buf_free(&w->ret);
	return rc;
}

int
emu_ots_put_row(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e)
{
	Ots__PutRowRequest *rq = ots__put_row_request__unpack(NULL, len, body);
	struct emu_ots_write w;
	int rc;

	if (rq == NULL)
		return EMU_OTS_BADPARAM(e, "Failed to parse the ProtoBuf message.");
	memset(&w, 0, sizeof(w));
	w.kind = EMU_OTS_W_PUT;
	w.pb = rq->row.data;
	w.pblen = rq->row.len;
	w.cond = rq->condition;
	rc = emu_ots_single_write(ots, rq->table_name, &w, rq->return_content, out, e);
	ots__put_row_request__free_unpacked(rq, NULL);
	return rc;
}

int
emu_ots_update_row(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e)
{
	Ots__UpdateRowRequest *rq = ots__update_row_request__unpack(NULL, len, body);
	struct emu_ots_write w;
	int rc;

	if (rq == NULL)
		return EMU_OTS_BADPARAM(e, "Failed to parse the ProtoBuf message.");
	memset(&w, 0, sizeof(w));
	w.kind = EMU_OTS_W_UPDATE;
	w.pb = rq->row_change.data;
	w.pblen = rq->row_change.len;
	w.cond = rq->condition;
	rc = emu_ots_single_write(ots, rq->table_name, &w, rq->return_content, out, e);
	ots__update_row_request__free_unpacked(rq, NULL);
	return rc;
}

int
emu_ots_delete_row(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e)
{
	Ots__DeleteRowRequest *rq = ots__delete_row_request__unpack(NULL, len, body);
	struct emu_ots_write w;
	int rc;

	if (rq == NULL)
		return EMU_OTS_BADPARAM(e, "Failed to parse the ProtoBuf message.");
	memset(&w, 0, sizeof(w));
	w.kind = EMU_OTS_W_DELETE;
	w.pb = rq->primary_key.data;
	w.pblen = rq->primary_key.len;
	w.cond = rq->condition;
	rc = emu_ots_single_write(ots, rq->table_name, &w, rq->return_content, out, e);
	ots__delete_row_request__free_unpacked(rq, NULL);
	return rc;
}

int
emu_ots_batch_write_row(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e)
{
	Ots__BatchWriteRowRequest *rq;
	Ots__BatchWriteRowResponse rs = OTS__BATCH_WRITE_ROW_RESPONSE__INIT;
	Ots__TableInBatchWriteRowResponse *tabs = NULL, **tabp = NULL;
	Ots__RowInBatchWriteRowResponse *rows = NULL, **rowp = NULL;
	Ots__ConsumedCapacity *ccs = NULL;
	Ots__CapacityUnit *cus = NULL;
	Ots__Error *errs = NULL;
	struct emu_ots_err *rerr = NULL;
	struct emu_ots_write *w = NULL;
	struct emu_ots_table **wt = NULL;
	size_t i, j, total = 0, k;
	int rc = -ENOMEM;

	if ((rq = ots__batch_write_row_request__unpack(NULL, len, body)) == NULL)
		return EMU_OTS_BADPARAM(e, "Failed to parse the ProtoBuf message.");
	for (i = 0; i < rq->n_tables; i++)
		total += rq->tables[i]->n_rows;
	if (total == 0 || total > EMU_OTS_BATCH_WRITE_MAX) {
		rc = EMU_OTS_BADPARAM(e, "Rows count exceeds the upper limit: %d.",
		    EMU_OTS_BATCH_WRITE_MAX);
		if (total == 0)
			rc = EMU_OTS_BADPARAM(e, "No row in BatchWriteRow.");
		ots__batch_write_row_request__free_unpacked(rq, NULL);
		return rc;
	}
	if ((tabs = calloc(rq->n_tables, sizeof(*tabs))) == NULL ||
	    (tabp = calloc(rq->n_tables, sizeof(*tabp))) == NULL ||
	    (rows = calloc(total, sizeof(*rows))) == NULL ||
	    (rowp = calloc(total, sizeof(*rowp))) == NULL ||
	    (ccs = calloc(total, sizeof(*ccs))) == NULL ||
	    (cus = calloc(total, sizeof(*cus))) == NULL ||
	    (errs = calloc(total, sizeof(*errs))) == NULL ||
	    (rerr = calloc(total, sizeof(*rerr))) == NULL ||
	    (w = calloc(total, sizeof(*w))) == NULL ||
	    (wt = calloc(total, sizeof(*wt))) == NULL)
		goto out;
	pthread_mutex_lock(&ots->write_lock);
	pthread_rwlock_rdlock(&ots->meta_lock);
	for (i = 0, k = 0; i < rq->n_tables; i++) {
		struct emu_ots_table *t = emu_ots_table_find(ots, rq->tables[i]->table_name);

		for (j = 0; j < rq->tables[i]->n_rows; j++, k++) {
			const Ots__RowInBatchWriteRowRequest *rr = rq->tables[i]->rows[j];
			const Ots__ReturnContent *ret = rr->return_content;

			wt[k] = t;
			w[k].kind = rr->type == OTS__OPERATION_TYPE__PUT ? EMU_OTS_W_PUT :
			    rr->type == OTS__OPERATION_TYPE__UPDATE ? EMU_OTS_W_UPDATE :
			    EMU_OTS_W_DELETE;
			w[k].pb = rr->row_change.data;
			w[k].pblen = rr->row_change.len;
			w[k].cond = rr->condition;
			w[k].return_pk = ret != NULL && ret->has_return_type &&
			    ret->return_type == OTS__RETURN_TYPE__RT_PK;
			buf_init(&w[k].ret, BUF_MAX_SMALL);
		}
	}
	rc = emu_ots_write_batch(ots, wt, w, total, rerr);
	pthread_rwlock_unlock(&ots->meta_lock);
	pthread_mutex_unlock(&ots->write_lock);
	if (rc != 0)
		goto out;
	for (i = 0, k = 0; i < rq->n_tables; i++) {
		ots__table_in_batch_write_row_response__init(&tabs[i]);
		tabs[i].table_name = rq->tables[i]->table_name;
		tabs[i].n_rows = rq->tables[i]->n_rows;
		tabs[i].rows = &rowp[k];
		tabp[i] = &tabs[i];
		for (j = 0; j < rq->tables[i]->n_rows; j++, k++) {
			Ots__RowInBatchWriteRowResponse *r = &rows[k];

			ots__row_in_batch_write_row_response__init(r);
			rowp[k] = r;
			if (rerr[k].status != 0) {
				ots__error__init(&errs[k]);
				errs[k].code = rerr[k].code;
				errs[k].message = rerr[k].msg;
				r->error = &errs[k];
				continue;
			}
			r->is_ok = 1;
			emu_ots_consumed(&ccs[k], &cus[k], 0, 1 + (int)(w[k].pblen / 4096));
			r->consumed = &ccs[k];
			if (w[k].return_pk) {
				r->has_row = 1;
				r->row.data = (uint8_t *)w[k].ret.p;
				r->row.len = w[k].ret.len;
			}
		}
	}
	rs.n_tables = rq->n_tables;
	rs.tables = tabp;
	rc = emu_ots_pack(&rs, out);
out:
	if (w != NULL)
		for (i = 0; i < total; i++)
			buf_free(&w[i].ret);
	free(wt);
	free(w);
	free(rerr);
	free(errs);
	free(cus);
	free(ccs);
	free(rowp);
	free(rows);
	free(tabp);
	free(tabs);
	ots__batch_write_row_request__free_unpacked(rq, NULL);
	return rc;
}

int
emu_ots_rows_purge(struct emu_ots *ots, uint32_t uid)
{
	uint8_t lo[4] = { (uint8_t)(uid >> 24), (uint8_t)(uid >> 16),
	    (uint8_t)(uid >> 8), (uint8_t)uid };
	uint8_t hi[4];
	uint32_t n = uid + 1;

	hi[0] = (uint8_t)(n >> 24);
	hi[1] = (uint8_t)(n >> 16);
	hi[2] = (uint8_t)(n >> 8);
	hi[3] = (uint8_t)n;
	return emu_ots_purge(ots->store, EMU_OTS_DB_ROWS, lo, 4, n == 0 ? NULL : hi, 4);
}
