/* SPDX-License-Identifier: MIT */
/*
 * ots_ops.c - the Table Store operations: encode the request (PlainBuffer
 * rows via plainbuf, protobuf via wire), run the exchange (ots_call in
 * ots.c) and decode the answer into the result structs of ots.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ots_i.h"
#include "wire.h"

#define OTS_MAX_TOKEN_PAGES	10000	/* GetShardIterator next_token loop bound */
#define OTS_MAX_SHARD_PAGES	10000	/* DescribeStream paging bound */

struct req {
	struct buf	body;
	struct buf	resp;
	struct eng_errbuf eb;
};

static void
req_init(struct req *r)
{
	buf_init(&r->body, BUF_MAX_BODY);
	buf_init(&r->resp, BUF_MAX_BODY);
	r->eb.msg[0] = '\0';
}

static void
req_free(struct req *r)
{
	buf_free(&r->body);
	buf_free(&r->resp);
}

/* send r->body (already encoded with encode rc erc) */
static int
req_call(struct ots *o, struct req *r, int erc, const char *api, int idem,
    struct ots_error *err)
{
	if (erc == 0)
		erc = r->body.err;
	if (erc != 0) {
		if (r->eb.msg[0] == '\0')
			(void)eng_errbuf_set(&r->eb, erc, "Table Store %s: cannot encode the request: %s",
			    api, eng_strerror(erc));
		return ots_fail(err, erc, &r->eb);
	}
	return ots_call(o, api, idem, &r->body, &r->resp, err);
}

static int
dec_done(int rc, struct req *r, struct ots_error *err)
{
	return rc != 0 ? ots_fail(err, rc, &r->eb) : 0;
}

static const uint8_t *
rp(const struct req *r)
{
	return (const uint8_t *)r->resp.p;
}

static int
bad_arg(struct ots_error *err, const char *what)
{
	struct eng_errbuf eb;

	(void)eng_errbuf_set(&eb, ENG_EINVAL, "Table Store: %s", what);
	return ots_fail(err, ENG_EINVAL, &eb);
}

/* ----------------------------------------------------------------- tables */

int
ots_create_table(struct ots *o, const struct ots_create_table *cr, struct ots_error *err)
{
	struct req r;
	int rc;

	req_init(&r);
	rc = req_call(o, &r, wire_enc_create_table(cr, &r.body, &r.eb), "CreateTable", 0, err);
	if (rc == 0)
		rc = dec_done(wire_dec_create_table(rp(&r), r.resp.len, &r.eb), &r, err);
	req_free(&r);
	return rc;
}

int
ots_describe_table(struct ots *o, const char *table, struct ots_table_desc **out,
    struct ots_error *err)
{
	struct req r;
	int rc;

	*out = NULL;
	if (table == NULL)
		return bad_arg(err, "DescribeTable without a table name");
	req_init(&r);
	rc = req_call(o, &r, wire_enc_describe_table(table, &r.body), "DescribeTable",
	    OTS_IDEMPOTENT, err);
	if (rc == 0)
		rc = dec_done(wire_dec_describe_table(rp(&r), r.resp.len, out, &r.eb), &r, err);
	req_free(&r);
	return rc;
}

int
ots_update_table(struct ots *o, const char *table, const struct ots_table_options *options,
    const struct ots_stream_spec *stream, struct ots_error *err)
{
	struct req r;
	int rc;

	if (table == NULL)
		return bad_arg(err, "UpdateTable without a table name");
	req_init(&r);
	rc = req_call(o, &r, wire_enc_update_table(table, options, stream, &r.body),
	    "UpdateTable", 0, err);
	if (rc == 0)
		rc = dec_done(wire_dec_update_table(rp(&r), r.resp.len, &r.eb), &r, err);
	req_free(&r);
	return rc;
}

int
ots_delete_table(struct ots *o, const char *table, struct ots_error *err)
{
	struct req r;
	int rc;

	if (table == NULL)
		return bad_arg(err, "DeleteTable without a table name");
	req_init(&r);
	rc = req_call(o, &r, wire_enc_delete_table(table, &r.body), "DeleteTable", 0, err);
	if (rc == 0)
		rc = dec_done(wire_dec_delete_table(rp(&r), r.resp.len, &r.eb), &r, err);
	req_free(&r);
	return rc;
}

int
ots_list_table(struct ots *o, struct ots_names **out, struct ots_error *err)
{
	struct req r;
	int rc;

	*out = NULL;
	req_init(&r);
	rc = req_call(o, &r, wire_enc_list_table(&r.body), "ListTable", OTS_IDEMPOTENT, err);
	if (rc == 0)
		rc = dec_done(wire_dec_list_table(rp(&r), r.resp.len, out, &r.eb), &r, err);
	req_free(&r);
	return rc;
}

/* ------------------------------------------------------------------- rows */

/* PlainBuffer of one row into pb; ENG_EINVAL with a message on bad rows */
static int
encode_row(const struct plainbuf_row *row, struct buf *pb, struct eng_errbuf *eb)
{
	if (row == NULL || row->npk == 0 || row->pk == NULL)
		return eng_errbuf_set(eb, ENG_EINVAL, "Table Store: row without primary key");
	return plainbuf_encode_row(row, pb, eb);
}

static int
write_row(struct ots *o, const char *api, const char *table, const struct plainbuf_row *row,
    int existence, struct ots_error *err)
{
	struct buf pb;
	struct req r;
	int rc, erc;

	if (table == NULL)
		return bad_arg(err, "row operation without a table name");
	req_init(&r);
	buf_init(&pb, BUF_MAX_BODY);
	erc = encode_row(row, &pb, &r.eb);
	if (erc == 0) {
		if (strcmp(api, "PutRow") == 0)
			erc = wire_enc_put_row(table, (const uint8_t *)pb.p, pb.len, existence, &r.body);
		else if (strcmp(api, "UpdateRow") == 0)
			erc = wire_enc_update_row(table, (const uint8_t *)pb.p, pb.len, existence,
			    &r.body);
		else
			erc = wire_enc_delete_row(table, (const uint8_t *)pb.p, pb.len, existence,
			    &r.body);
	}
	rc = req_call(o, &r, erc, api, 0, err);
	if (rc == 0)
		rc = dec_done(wire_dec_write_row(rp(&r), r.resp.len, &r.eb), &r, err);
	buf_free(&pb);
	req_free(&r);
	return rc;
}

int
ots_put_row(struct ots *o, const char *table, const struct plainbuf_row *row, int existence,
    struct ots_error *err)
{
	return write_row(o, "PutRow", table, row, existence, err);
}

int
ots_update_row(struct ots *o, const char *table, const struct plainbuf_row *row,
    int existence, struct ots_error *err)
{
	return write_row(o, "UpdateRow", table, row, existence, err);
}

int
ots_delete_row(struct ots *o, const char *table, const struct plainbuf_cell *pk, size_t npk,
    int existence, struct ots_error *err)
{
	struct plainbuf_row row;

	memset(&row, 0, sizeof(row));
	row.pk = pk;
	row.npk = npk;
	row.deleted = 1;
	return write_row(o, "DeleteRow", table, &row, existence, err);
}

static int
encode_pk(const struct plainbuf_cell *pk, size_t npk, struct buf *pb, struct eng_errbuf *eb)
{
	struct plainbuf_row row;

	memset(&row, 0, sizeof(row));
	row.pk = pk;
	row.npk = npk;
	return encode_row(&row, pb, eb);
}

int
ots_get_row(struct ots *o, const char *table, const struct plainbuf_cell *pk, size_t npk,
    const struct ots_read_opts *opts, struct plainbuf_rows **out, struct ots_error *err)
{
	struct buf pb;
	struct req r;
	int rc, erc;

	*out = NULL;
	if (table == NULL)
		return bad_arg(err, "GetRow without a table name");
	req_init(&r);
	buf_init(&pb, BUF_MAX_BODY);
	erc = encode_pk(pk, npk, &pb, &r.eb);
	if (erc == 0)
		erc = wire_enc_get_row(table, (const uint8_t *)pb.p, pb.len, opts, &r.body);
	rc = req_call(o, &r, erc, "GetRow", OTS_IDEMPOTENT, err);
	if (rc == 0)
		rc = dec_done(wire_dec_get_row(rp(&r), r.resp.len, out, &r.eb), &r, err);
	buf_free(&pb);
	req_free(&r);
	return rc;
}

int
ots_get_range(struct ots *o, const struct ots_range_req *q, struct ots_range_page **out,
    struct ots_error *err)
{
	struct buf start, end;
	struct req r;
	int rc, erc;

	*out = NULL;
	if (q == NULL || q->table == NULL)
		return bad_arg(err, "GetRange without a table name");
	req_init(&r);
	buf_init(&start, BUF_MAX_BODY);
	buf_init(&end, BUF_MAX_BODY);
	erc = encode_pk(q->start, q->nstart, &start, &r.eb);
	if (erc == 0)
		erc = encode_pk(q->end, q->nend, &end, &r.eb);
	if (erc == 0)
		erc = wire_enc_get_range(q->table, q->direction, (const uint8_t *)start.p, start.len,
		    (const uint8_t *)end.p, end.len, q->limit, &q->opts, &r.body);
	rc = req_call(o, &r, erc, "GetRange", OTS_IDEMPOTENT, err);
	if (rc == 0)
		rc = dec_done(wire_dec_get_range(rp(&r), r.resp.len, out, &r.eb), &r, err);
	buf_free(&start);
	buf_free(&end);
	req_free(&r);
	return rc;
}

int
ots_get_range_each(struct ots *o, const struct ots_range_req *q, ots_row_fn *fn, void *arg,
    struct ots_error *err)
{
	struct ots_range_req cur;
	struct ots_range_page *prev = NULL, *pg = NULL;
	size_t i;
	int rc;

	if (q == NULL)
		return bad_arg(err, "GetRange without a request");
	cur = *q;
	for (;;) {
		if ((rc = ots_get_range(o, &cur, &pg, err)) != 0)
			break;
		/* the previous page held the start key of this request */
		ots_range_page_free(prev);
		prev = NULL;
		for (i = 0; i < pg->rows->nrows; i++)
			if ((rc = fn(arg, &pg->rows->rows[i])) != 0)
				goto out;
		if (pg->next_start == NULL)
			break;
		cur.start = pg->next_start->rows[0].pk;
		cur.nstart = pg->next_start->rows[0].npk;
		prev = pg;
		pg = NULL;
	}
out:
	ots_range_page_free(prev);
	ots_range_page_free(pg);
	return rc;
}

/* encode every row of a batch into its own PlainBuffer */
static int
encode_batch(struct wire_batch_row *w, struct buf *pbs, size_t n,
    const struct plainbuf_row *(*row_of)(const void *, size_t, struct plainbuf_row *),
    const void *rows, struct eng_errbuf *eb)
{
	struct plainbuf_row tmp;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if ((rc = encode_row(row_of(rows, i, &tmp), &pbs[i], eb)) != 0)
			return rc;
		w[i].row = (const uint8_t *)pbs[i].p;
		w[i].len = pbs[i].len;
	}
	return 0;
}

static const struct plainbuf_row *
write_row_of(const void *rows, size_t i, struct plainbuf_row *tmp)
{
	const struct ots_batch_write *b = rows;

	if (b[i].op != OTS_BATCH_DELETE || b[i].row == NULL)
		return b[i].row;
	memset(tmp, 0, sizeof(*tmp));
	tmp->pk = b[i].row->pk;
	tmp->npk = b[i].row->npk;
	tmp->deleted = 1;
	return tmp;
}

static const struct plainbuf_row *
get_row_of(const void *rows, size_t i, struct plainbuf_row *tmp)
{
	const struct ots_batch_get *b = rows;

	memset(tmp, 0, sizeof(*tmp));
	tmp->pk = b[i].pk;
	tmp->npk = b[i].npk;
	return tmp;
}

int
ots_batch_write_row(struct ots *o, struct ots_batch_write *rows, size_t n,
    struct ots_error *err)
{
	struct wire_batch_row *w = NULL;
	struct buf *pbs = NULL;
	struct req r;
	size_t i;
	int rc = -ENOMEM, erc;

	if (n == 0 || rows == NULL)
		return bad_arg(err, "BatchWriteRow without rows");
	req_init(&r);
	if ((w = calloc(n, sizeof(*w))) == NULL || (pbs = calloc(n, sizeof(*pbs))) == NULL) {
		(void)ots_fail(err, rc, NULL);
		goto out;
	}
	for (i = 0; i < n; i++) {
		buf_init(&pbs[i], BUF_MAX_BODY);
		w[i].table = rows[i].table;
		w[i].op = rows[i].op;
		w[i].existence = rows[i].existence;
		if (rows[i].table == NULL) {
			rc = bad_arg(err, "BatchWriteRow row without a table name");
			goto out;
		}
	}
	erc = encode_batch(w, pbs, n, write_row_of, rows, &r.eb);
	if (erc == 0)
		erc = wire_enc_batch_write_row(w, n, &r.body);
	rc = req_call(o, &r, erc, "BatchWriteRow", 0, err);
	if (rc == 0)
		rc = dec_done(wire_dec_batch_write_row(rp(&r), r.resp.len, rows, n, &r.eb), &r, err);
out:
	for (i = 0; pbs != NULL && i < n; i++)
		buf_free(&pbs[i]);
	free(pbs);
	free(w);
	req_free(&r);
	return rc;
}

int
ots_batch_get_row(struct ots *o, struct ots_batch_get *rows, size_t n,
    const struct ots_read_opts *opts, struct ots_error *err)
{
	struct wire_batch_row *w = NULL;
	struct buf *pbs = NULL;
	struct req r;
	size_t i;
	int rc = -ENOMEM, erc;

	if (n == 0 || rows == NULL)
		return bad_arg(err, "BatchGetRow without rows");
	req_init(&r);
	if ((w = calloc(n, sizeof(*w))) == NULL || (pbs = calloc(n, sizeof(*pbs))) == NULL) {
		(void)ots_fail(err, rc, NULL);
		goto out;
	}
	for (i = 0; i < n; i++) {
		buf_init(&pbs[i], BUF_MAX_BODY);
		w[i].table = rows[i].table;
		rows[i].row = NULL;
		if (rows[i].table == NULL) {
			rc = bad_arg(err, "BatchGetRow row without a table name");
			goto out;
		}
	}
	erc = encode_batch(w, pbs, n, get_row_of, rows, &r.eb);
	if (erc == 0)
		erc = wire_enc_batch_get_row(w, n, opts, &r.body);
	rc = req_call(o, &r, erc, "BatchGetRow", OTS_IDEMPOTENT, err);
	if (rc == 0)
		rc = dec_done(wire_dec_batch_get_row(rp(&r), r.resp.len, rows, n, &r.eb), &r, err);
out:
	for (i = 0; pbs != NULL && i < n; i++)
		buf_free(&pbs[i]);
	free(pbs);
	free(w);
	req_free(&r);
	return rc;
}

/* ---------------------------------------------------------------- streams */

int
ots_list_stream(struct ots *o, const char *table, struct ots_stream_list **out,
    struct ots_error *err)
{
	struct req r;
	int rc;

	*out = NULL;
	req_init(&r);
	rc = req_call(o, &r, wire_enc_list_stream(table, &r.body), "ListStream",
	    OTS_IDEMPOTENT, err);
	if (rc == 0)
		rc = dec_done(wire_dec_list_stream(rp(&r), r.resp.len, out, &r.eb), &r, err);
	req_free(&r);
	return rc;
}

int
ots_describe_stream(struct ots *o, const char *stream_id, const char *start_shard_id,
    int32_t shard_limit, struct ots_stream_desc **out, struct ots_error *err)
{
	struct req r;
	int rc;

	*out = NULL;
	if (stream_id == NULL)
		return bad_arg(err, "DescribeStream without a stream id");
	req_init(&r);
	rc = req_call(o, &r, wire_enc_describe_stream(stream_id, start_shard_id, shard_limit,
	    &r.body), "DescribeStream", OTS_IDEMPOTENT, err);
	if (rc == 0)
		rc = dec_done(wire_dec_describe_stream(rp(&r), r.resp.len, out, &r.eb), &r, err);
	req_free(&r);
	return rc;
}

int
ots_describe_stream_all(struct ots *o, const char *stream_id, struct ots_stream_desc **out,
    struct ots_error *err)
{
	struct ots_stream_desc *all = NULL, *pg = NULL;
	struct ots_shard *ns;
	int rc, pages = 0;

	*out = NULL;
	if ((rc = ots_describe_stream(o, stream_id, NULL, 0, &all, err)) != 0)
		return rc;
	while (all->next_shard_id != NULL) {
		if (++pages > OTS_MAX_SHARD_PAGES) {
			struct eng_errbuf eb;

			(void)eng_errbuf_set(&eb, ENG_EPROTO,
			    "DescribeStream %s: more than %d pages of shards", stream_id,
			    OTS_MAX_SHARD_PAGES);
			rc = ots_fail(err, ENG_EPROTO, &eb);
			goto out;
		}
		if ((rc = ots_describe_stream(o, stream_id, all->next_shard_id, 0, &pg, err)) != 0)
			goto out;
		if (pg->nshards > 0) {
			ns = realloc(all->shards, (all->nshards + pg->nshards) * sizeof(*ns));
			if (ns == NULL) {
				rc = ots_fail(err, -ENOMEM, NULL);
				goto out;
			}
			all->shards = ns;
			memcpy(&all->shards[all->nshards], pg->shards, pg->nshards * sizeof(*ns));
			all->nshards += pg->nshards;
			pg->nshards = 0;	/* the strings moved to all */
		} else if (pg->next_shard_id != NULL && strcmp(pg->next_shard_id, all->next_shard_id) == 0) {
			struct eng_errbuf eb;

			(void)eng_errbuf_set(&eb, ENG_EPROTO,
			    "DescribeStream %s: paging does not advance", stream_id);
			rc = ots_fail(err, ENG_EPROTO, &eb);
			goto out;
		}
		free(all->next_shard_id);
		all->next_shard_id = pg->next_shard_id;
		pg->next_shard_id = NULL;
		ots_stream_desc_free(pg);
		pg = NULL;
	}
	*out = all;
	all = NULL;
out:
	ots_stream_desc_free(pg);
	ots_stream_desc_free(all);
	return rc;
}

int
ots_get_shard_iterator(struct ots *o, const char *stream_id, const char *shard_id,
    int64_t ts_us, char **out, struct ots_error *err)
{
	char *it = NULL, *tok = NULL, *ntok = NULL;
	struct req r;
	int rc, pages = 0;

	*out = NULL;
	if (stream_id == NULL || shard_id == NULL)
		return bad_arg(err, "GetShardIterator without stream or shard id");
	req_init(&r);
	for (;;) {
		buf_reset(&r.body);
		rc = req_call(o, &r, wire_enc_get_shard_iterator(stream_id, shard_id, ts_us, tok,
		    &r.body), "GetShardIterator", OTS_IDEMPOTENT, err);
		if (rc != 0)
			goto out;
		free(it);
		it = NULL;
		rc = wire_dec_get_shard_iterator(rp(&r), r.resp.len, &it, &ntok, &r.eb);
		if (rc != 0) {
			rc = ots_fail(err, rc, &r.eb);
			goto out;
		}
		free(tok);
		tok = ntok;
		ntok = NULL;
		if (tok == NULL)
			break;
		if (++pages > OTS_MAX_TOKEN_PAGES) {
			(void)eng_errbuf_set(&r.eb, ENG_EPROTO,
			    "GetShardIterator %s/%s: more than %d token pages", stream_id, shard_id,
			    OTS_MAX_TOKEN_PAGES);
			rc = ots_fail(err, ENG_EPROTO, &r.eb);
			goto out;
		}
	}
	*out = it;
	it = NULL;
	rc = 0;
out:
	free(it);
	free(tok);
	req_free(&r);
	return rc;
}

int
ots_get_stream_record(struct ots *o, const char *iterator, int32_t limit,
    struct ots_record_batch **out, struct ots_error *err)
{
	struct req r;
	int rc;

	*out = NULL;
	if (iterator == NULL || iterator[0] == '\0')
		return bad_arg(err, "GetStreamRecord without an iterator");
	req_init(&r);
	rc = req_call(o, &r, wire_enc_get_stream_record(iterator, limit, &r.body),
	    "GetStreamRecord", OTS_IDEMPOTENT, err);
	if (rc == 0)
		rc = dec_done(wire_dec_get_stream_record(rp(&r), r.resp.len, out, &r.eb), &r, err);
	req_free(&r);
	return rc;
}

const char *
ots_action_name(int action)
{
	switch (action) {
	case OTS_PUT_ROW:
		return "PUT_ROW";
	case OTS_UPDATE_ROW:
		return "UPDATE_ROW";
	case OTS_DELETE_ROW:
		return "DELETE_ROW";
	default:
		return "UNKNOWN";
	}
}
