/* SPDX-License-Identifier: MIT */
/*
 * wire.c - Table Store protobuf <-> C structs (see wire.h).
 *
 * The only engine file that includes the protoc-c generated header.  Every
 * decoder validates what protobuf-c does not (enum ranges, PlainBuffer
 * contents, response shape) and returns results that own their memory.
 * protobuf-c wants non-const pointers in messages it only reads while
 * packing; unconst() hands it our const data without a qualifier cast.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ots.pb-c.h"
#include "wire.h"

static const uint8_t wire_empty[1];

static char *
unconst(const char *s)
{
	char *r;

	memcpy(&r, &s, sizeof(r));
	return r;
}

static ProtobufCBinaryData
bin(const uint8_t *p, size_t len)
{
	ProtobufCBinaryData b;
	uint8_t *q;

	if (p == NULL)
		p = wire_empty;
	memcpy(&q, &p, sizeof(q));
	b.data = q;
	b.len = len;
	return b;
}

static int
pack(const ProtobufCMessage *m, struct buf *out)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	int rc;

	if ((rc = buf_reserve(out, n)) != 0)
		return rc;
	protobuf_c_message_pack(m, (uint8_t *)out->p + out->len);
	out->len += n;
	out->p[out->len] = '\0';
	return 0;
}

static void *
unpack(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len)
{
	return protobuf_c_message_unpack(d, NULL, len, p != NULL ? p : wire_empty);
}

static void
unpacked_free(void *m)
{
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
}

static int
bad(struct eng_errbuf *eb, const char *msg)
{
	return eng_errbuf_set(eb, ENG_EPROTO, "malformed %s", msg);
}

/* strdup of an optional string; *ok cleared on allocation failure */
static char *
dupopt(const char *s, int *ok)
{
	char *r;

	if (s == NULL)
		return NULL;
	if ((r = strdup(s)) == NULL)
		*ok = 0;
	return r;
}

/* columns_to_get as protobuf-c wants it (char **), borrowing the strings */
static char **
columns(const struct ots_read_opts *opts, size_t *n, int *ok)
{
	char **v;

	*n = 0;
	if (opts == NULL || opts->ncolumns == 0 || opts->columns == NULL)
		return NULL;
	if ((v = calloc(opts->ncolumns, sizeof(*v))) == NULL) {
		*ok = 0;
		return NULL;
	}
	memcpy(v, opts->columns, opts->ncolumns * sizeof(*v));
	*n = opts->ncolumns;
	return v;
}

static int32_t
max_versions(const struct ots_read_opts *opts)
{
	return opts != NULL && opts->max_versions > 0 ? opts->max_versions : 1;
}

/* ------------------------------------------------------------------ Error */

static void
copy_trunc(char *dst, size_t size, const char *src)
{
	size_t n;

	if (size == 0)
		return;
	n = src != NULL ? strlen(src) : 0;
	if (n >= size)
		n = size - 1;
	if (n != 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

int
wire_dec_error(const uint8_t *p, size_t len, char *code, size_t codesz, char *msg,
    size_t msgsz)
{
	Ots__Error *e = unpack(&ots__error__descriptor, p, len);

	if (e == NULL)
		return ENG_EPROTO;
	copy_trunc(code, codesz, e->code);
	copy_trunc(msg, msgsz, e->message);
	unpacked_free(e);
	return 0;
}

int
wire_enc_error(const char *code, const char *msg, struct buf *out)
{
	Ots__Error e = OTS__ERROR__INIT;

	e.code = unconst(code);
	e.message = unconst(msg);
	return pack(&e.base, out);
}

/* ----------------------------------------------------------------- tables */

static void
options_to_pb(const struct ots_table_options *o, Ots__TableOptions *pb)
{
	if (o->ttl != 0) {
		pb->has_time_to_live = 1;
		pb->time_to_live = o->ttl;
	}
	if (o->max_versions != 0) {
		pb->has_max_versions = 1;
		pb->max_versions = o->max_versions;
	}
	if (o->deviation_sec != 0) {
		pb->has_deviation_cell_version_in_sec = 1;
		pb->deviation_cell_version_in_sec = o->deviation_sec;
	}
	if (o->allow_update >= 0) {
		pb->has_allow_update = 1;
		pb->allow_update = o->allow_update != 0;
	}
}

static void
options_from_pb(const Ots__TableOptions *pb, struct ots_table_options *o)
{
	memset(o, 0, sizeof(*o));
	o->allow_update = -1;
	if (pb == NULL)
		return;
	if (pb->has_time_to_live)
		o->ttl = pb->time_to_live;
	if (pb->has_max_versions)
		o->max_versions = pb->max_versions;
	if (pb->has_deviation_cell_version_in_sec)
		o->deviation_sec = pb->deviation_cell_version_in_sec;
	if (pb->has_allow_update)
		o->allow_update = pb->allow_update != 0;
}

int
wire_enc_create_table(const struct ots_create_table *r, struct buf *out,
    struct eng_errbuf *eb)
{
	Ots__CreateTableRequest req = OTS__CREATE_TABLE_REQUEST__INIT;
	Ots__TableMeta meta = OTS__TABLE_META__INIT;
	Ots__ReservedThroughput rt = OTS__RESERVED_THROUGHPUT__INIT;
	Ots__CapacityUnit cu = OTS__CAPACITY_UNIT__INIT;
	Ots__TableOptions opts = OTS__TABLE_OPTIONS__INIT;
	Ots__StreamSpecification ss = OTS__STREAM_SPECIFICATION__INIT;
	Ots__PrimaryKeySchema *pks = NULL, **pkv = NULL;
	size_t i;
	int rc = -ENOMEM;

	if (r->table == NULL || r->npk == 0 || r->pk == NULL)
		return eng_errbuf_set(eb, ENG_EINVAL, "CreateTable: table name and primary key needed");
	if ((pks = calloc(r->npk, sizeof(*pks))) == NULL ||
	    (pkv = calloc(r->npk, sizeof(*pkv))) == NULL)
		goto out;
	for (i = 0; i < r->npk; i++) {
		ots__primary_key_schema__init(&pks[i]);
		if (r->pk[i].name == NULL || r->pk[i].type < OTS_PK_INTEGER ||
		    r->pk[i].type > OTS_PK_BINARY) {
			rc = eng_errbuf_set(eb, ENG_EINVAL, "CreateTable: bad primary-key column %zu", i);
			goto out;
		}
		pks[i].name = unconst(r->pk[i].name);
		pks[i].type = (Ots__PrimaryKeyType)r->pk[i].type;
		if (r->pk[i].auto_increment) {
			pks[i].has_option = 1;
			pks[i].option = OTS__PRIMARY_KEY_OPTION__AUTO_INCREMENT;
		}
		pkv[i] = &pks[i];
	}
	meta.table_name = unconst(r->table);
	meta.n_primary_key = r->npk;
	meta.primary_key = pkv;
	cu.has_read = 1;
	cu.read = r->read_cu;
	cu.has_write = 1;
	cu.write = r->write_cu;
	rt.capacity_unit = &cu;
	options_to_pb(&r->options, &opts);
	req.table_meta = &meta;
	req.reserved_throughput = &rt;
	req.table_options = &opts;
	if (r->stream.set) {
		ss.enable_stream = r->stream.enable != 0;
		if (r->stream.expiration_hours > 0) {
			ss.has_expiration_time = 1;
			ss.expiration_time = r->stream.expiration_hours;
		}
		req.stream_spec = &ss;
	}
	rc = pack(&req.base, out);
out:
	free(pks);
	free(pkv);
	return rc;
}

/* an empty response message: any bytes that protobuf-c accepts */
static int
dec_empty(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len,
    struct eng_errbuf *eb)
{
	void *m = unpack(d, p, len);

	if (m == NULL)
		return bad(eb, d->name);
	unpacked_free(m);
	return 0;
}

int
wire_dec_create_table(const uint8_t *p, size_t len, struct eng_errbuf *eb)
{
	return dec_empty(&ots__create_table_response__descriptor, p, len, eb);
}

int
wire_enc_describe_table(const char *table, struct buf *out)
{
	Ots__DescribeTableRequest req = OTS__DESCRIBE_TABLE_REQUEST__INIT;

	req.table_name = unconst(table);
	return pack(&req.base, out);
}

int
wire_dec_describe_table(const uint8_t *p, size_t len, struct ots_table_desc **out,
    struct eng_errbuf *eb)
{
	Ots__DescribeTableResponse *r;
	struct ots_table_desc *d = NULL;
	const Ots__TableMeta *m;
	size_t i;
	int rc = -ENOMEM, ok = 1;

	*out = NULL;
	if ((r = unpack(&ots__describe_table_response__descriptor, p, len)) == NULL)
		return bad(eb, "DescribeTableResponse");
	m = r->table_meta;
	if (r->table_status < OTS__TABLE_STATUS__ACTIVE || r->table_status > OTS__TABLE_STATUS__UPDATING) {
		rc = bad(eb, "DescribeTableResponse: table_status");
		goto out;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		goto out;
	if (m->n_primary_key > 0 && (d->pk = calloc(m->n_primary_key, sizeof(*d->pk))) == NULL)
		goto out;
	for (i = 0; i < m->n_primary_key; i++) {
		const Ots__PrimaryKeySchema *s = m->primary_key[i];

		if (s->type < OTS__PRIMARY_KEY_TYPE__INTEGER || s->type > OTS__PRIMARY_KEY_TYPE__BINARY) {
			rc = bad(eb, "DescribeTableResponse: primary key type");
			goto out;
		}
		d->pk[i].name = dupopt(s->name, &ok);
		d->pk[i].type = (int)s->type;
		d->pk[i].auto_increment = s->has_option &&
		    s->option == OTS__PRIMARY_KEY_OPTION__AUTO_INCREMENT;
		d->npk++;
	}
	d->table = dupopt(m->table_name, &ok);
	options_from_pb(r->table_options, &d->options);
	d->status = (int)r->table_status;
	if (r->reserved_throughput_details->capacity_unit != NULL) {
		d->read_cu = r->reserved_throughput_details->capacity_unit->read;
		d->write_cu = r->reserved_throughput_details->capacity_unit->write;
	}
	if (r->stream_details != NULL) {
		d->stream_enabled = r->stream_details->enable_stream != 0;
		d->stream_id = dupopt(r->stream_details->stream_id, &ok);
		d->stream_expiration_hours = r->stream_details->expiration_time;
		d->stream_last_enable_time = r->stream_details->last_enable_time;
	}
	if (r->has_creation_time)
		d->creation_time = r->creation_time;
	if (!ok)
		goto out;
	*out = d;
	d = NULL;
	rc = 0;
out:
	ots_table_desc_free(d);
	unpacked_free(r);
	return rc;
}

int
wire_enc_update_table(const char *table, const struct ots_table_options *options,
    const struct ots_stream_spec *stream, struct buf *out)
{
	Ots__UpdateTableRequest req = OTS__UPDATE_TABLE_REQUEST__INIT;
	Ots__TableOptions opts = OTS__TABLE_OPTIONS__INIT;
	Ots__StreamSpecification ss = OTS__STREAM_SPECIFICATION__INIT;

	req.table_name = unconst(table);
	if (options != NULL) {
		options_to_pb(options, &opts);
		req.table_options = &opts;
	}
	if (stream != NULL && stream->set) {
		ss.enable_stream = stream->enable != 0;
		if (stream->expiration_hours > 0) {
			ss.has_expiration_time = 1;
			ss.expiration_time = stream->expiration_hours;
		}
		req.stream_spec = &ss;
	}
	return pack(&req.base, out);
}

int
wire_dec_update_table(const uint8_t *p, size_t len, struct eng_errbuf *eb)
{
	return dec_empty(&ots__update_table_response__descriptor, p, len, eb);
}

int
wire_enc_delete_table(const char *table, struct buf *out)
{
	Ots__DeleteTableRequest req = OTS__DELETE_TABLE_REQUEST__INIT;

	req.table_name = unconst(table);
	return pack(&req.base, out);
}

int
wire_dec_delete_table(const uint8_t *p, size_t len, struct eng_errbuf *eb)
{
	return dec_empty(&ots__delete_table_response__descriptor, p, len, eb);
}

int
wire_enc_list_table(struct buf *out)
{
	Ots__ListTableRequest req = OTS__LIST_TABLE_REQUEST__INIT;

	return pack(&req.base, out);
}

int
wire_dec_list_table(const uint8_t *p, size_t len, struct ots_names **out,
    struct eng_errbuf *eb)
{
	Ots__ListTableResponse *r;
	struct ots_names *n = NULL;
	size_t i;
	int rc = -ENOMEM, ok = 1;

	*out = NULL;
	if ((r = unpack(&ots__list_table_response__descriptor, p, len)) == NULL)
		return bad(eb, "ListTableResponse");
	if ((n = calloc(1, sizeof(*n))) == NULL)
		goto out;
	if (r->n_table_names > 0 &&
	    (n->names = calloc(r->n_table_names, sizeof(*n->names))) == NULL)
		goto out;
	for (i = 0; i < r->n_table_names && ok; i++)
		n->names[n->n++] = dupopt(r->table_names[i], &ok);
	if (!ok)
		goto out;
	*out = n;
	n = NULL;
	rc = 0;
out:
	ots_names_free(n);
	unpacked_free(r);
	return rc;
}

/* ------------------------------------------------------------------- rows */

static int
enc_write_row(const ProtobufCMessageDescriptor *d, const char *table, const uint8_t *row,
    size_t len, int existence, struct buf *out)
{
	/* Put/Update/DeleteRowRequest share fields 1 (table), 2 (bytes), 3 (Condition) */
	Ots__PutRowRequest put = OTS__PUT_ROW_REQUEST__INIT;
	Ots__UpdateRowRequest upd = OTS__UPDATE_ROW_REQUEST__INIT;
	Ots__DeleteRowRequest del = OTS__DELETE_ROW_REQUEST__INIT;
	Ots__Condition cond = OTS__CONDITION__INIT;

	if (existence < OTS_IGNORE || existence > OTS_EXPECT_NOT_EXIST || table == NULL)
		return ENG_EINVAL;
	cond.row_existence = (Ots__RowExistenceExpectation)existence;
	if (d == &ots__put_row_request__descriptor) {
		put.table_name = unconst(table);
		put.row = bin(row, len);
		put.condition = &cond;
		return pack(&put.base, out);
	}
	if (d == &ots__update_row_request__descriptor) {
		upd.table_name = unconst(table);
		upd.row_change = bin(row, len);
		upd.condition = &cond;
		return pack(&upd.base, out);
	}
	del.table_name = unconst(table);
	del.primary_key = bin(row, len);
	del.condition = &cond;
	return pack(&del.base, out);
}

int
wire_enc_put_row(const char *table, const uint8_t *row, size_t len, int existence,
    struct buf *out)
{
	return enc_write_row(&ots__put_row_request__descriptor, table, row, len, existence, out);
}

int
wire_enc_update_row(const char *table, const uint8_t *row, size_t len, int existence,
    struct buf *out)
{
	return enc_write_row(&ots__update_row_request__descriptor, table, row, len, existence,
	    out);
}

int
wire_enc_delete_row(const char *table, const uint8_t *pk, size_t len, int existence,
    struct buf *out)
{
	return enc_write_row(&ots__delete_row_request__descriptor, table, pk, len, existence,
	    out);
}

int
wire_dec_write_row(const uint8_t *p, size_t len, struct eng_errbuf *eb)
{
	/* the three responses have the same shape: consumed = 1, row = 2 */
	return dec_empty(&ots__put_row_response__descriptor, p, len, eb);
}

int
wire_enc_get_row(const char *table, const uint8_t *pk, size_t len,
    const struct ots_read_opts *opts, struct buf *out)
{
	Ots__GetRowRequest req = OTS__GET_ROW_REQUEST__INIT;
	int rc, ok = 1;

	req.table_name = unconst(table);
	req.primary_key = bin(pk, len);
	req.columns_to_get = columns(opts, &req.n_columns_to_get, &ok);
	if (!ok)
		return -ENOMEM;
	req.has_max_versions = 1;
	req.max_versions = max_versions(opts);
	rc = pack(&req.base, out);
	free(req.columns_to_get);
	return rc;
}

/* a PlainBuffer expected to hold at most one row */
static int
dec_one_row(const ProtobufCBinaryData *b, struct plainbuf_rows **out, struct eng_errbuf *eb)
{
	struct plainbuf_rows *rows = NULL;
	int rc;

	*out = NULL;
	if ((rc = plainbuf_decode(b->data, b->len, &rows, eb)) != 0)
		return rc;
	if (rows->nrows > 1) {
		plainbuf_rows_free(rows);
		return bad(eb, "row: more than one row");
	}
	*out = rows;
	return 0;
}

int
wire_dec_get_row(const uint8_t *p, size_t len, struct plainbuf_rows **out,
    struct eng_errbuf *eb)
{
	Ots__GetRowResponse *r;
	int rc;

	*out = NULL;
	if ((r = unpack(&ots__get_row_response__descriptor, p, len)) == NULL)
		return bad(eb, "GetRowResponse");
	rc = dec_one_row(&r->row, out, eb);
	unpacked_free(r);
	return rc;
}

int
wire_enc_get_range(const char *table, int direction, const uint8_t *start,
    size_t start_len, const uint8_t *end, size_t end_len, int32_t limit,
    const struct ots_read_opts *opts, struct buf *out)
{
	Ots__GetRangeRequest req = OTS__GET_RANGE_REQUEST__INIT;
	int rc, ok = 1;

	if (direction != OTS_FORWARD && direction != OTS_BACKWARD)
		return ENG_EINVAL;
	req.table_name = unconst(table);
	req.direction = (Ots__Direction)direction;
	req.columns_to_get = columns(opts, &req.n_columns_to_get, &ok);
	if (!ok)
		return -ENOMEM;
	req.has_max_versions = 1;
	req.max_versions = max_versions(opts);
	if (limit > 0) {
		req.has_limit = 1;
		req.limit = limit;
	}
	req.inclusive_start_primary_key = bin(start, start_len);
	req.exclusive_end_primary_key = bin(end, end_len);
	rc = pack(&req.base, out);
	free(req.columns_to_get);
	return rc;
}

int
wire_dec_get_range(const uint8_t *p, size_t len, struct ots_range_page **out,
    struct eng_errbuf *eb)
{
	Ots__GetRangeResponse *r;
	struct ots_range_page *pg = NULL;
	int rc = -ENOMEM;

	*out = NULL;
	if ((r = unpack(&ots__get_range_response__descriptor, p, len)) == NULL)
		return bad(eb, "GetRangeResponse");
	if ((pg = calloc(1, sizeof(*pg))) == NULL)
		goto out;
	if ((rc = plainbuf_decode(r->rows.data, r->rows.len, &pg->rows, eb)) != 0)
		goto out;
	if (r->has_next_start_primary_key) {
		if ((rc = dec_one_row(&r->next_start_primary_key, &pg->next_start, eb)) != 0)
			goto out;
		if (pg->next_start->nrows != 1 || pg->next_start->rows[0].nattrs != 0) {
			rc = bad(eb, "GetRangeResponse: next_start_primary_key");
			goto out;
		}
	}
	*out = pg;
	pg = NULL;
	rc = 0;
out:
	ots_range_page_free(pg);
	unpacked_free(r);
	return rc;
}

/* number of table groups: runs of consecutive rows with the same table */
static size_t
count_groups(const struct wire_batch_row *rows, size_t n)
{
	size_t i, g = 0;

	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(rows[i].table, rows[i - 1].table) != 0)
			g++;
	return g;
}

int
wire_enc_batch_write_row(const struct wire_batch_row *rows, size_t n, struct buf *out)
{
	Ots__BatchWriteRowRequest req = OTS__BATCH_WRITE_ROW_REQUEST__INIT;
	Ots__TableInBatchWriteRowRequest *tabs = NULL, **tabv = NULL;
	Ots__RowInBatchWriteRowRequest *rr = NULL, **rrv = NULL;
	Ots__Condition *conds = NULL;
	size_t i, g = 0, ng;
	int rc = -ENOMEM;

	for (i = 0; i < n; i++)
		if (rows[i].table == NULL || rows[i].op < OTS_BATCH_PUT ||
		    rows[i].op > OTS_BATCH_DELETE || rows[i].existence < OTS_IGNORE ||
		    rows[i].existence > OTS_EXPECT_NOT_EXIST)
			return ENG_EINVAL;
	ng = count_groups(rows, n);
	if (n == 0)
		return pack(&req.base, out);
	if ((tabs = calloc(ng, sizeof(*tabs))) == NULL || (tabv = calloc(ng, sizeof(*tabv))) == NULL ||
	    (rr = calloc(n, sizeof(*rr))) == NULL || (rrv = calloc(n, sizeof(*rrv))) == NULL ||
	    (conds = calloc(n, sizeof(*conds))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(rows[i].table, rows[i - 1].table) != 0) {
			ots__table_in_batch_write_row_request__init(&tabs[g]);
			tabs[g].table_name = unconst(rows[i].table);
			tabs[g].rows = &rrv[i];
			tabv[g] = &tabs[g];
			g++;
		}
		ots__row_in_batch_write_row_request__init(&rr[i]);
		ots__condition__init(&conds[i]);
		conds[i].row_existence = (Ots__RowExistenceExpectation)rows[i].existence;
		rr[i].type = (Ots__OperationType)rows[i].op;
		rr[i].row_change = bin(rows[i].row, rows[i].len);
		rr[i].condition = &conds[i];
		rrv[i] = &rr[i];
		tabs[g - 1].n_rows++;
	}
	req.n_tables = ng;
	req.tables = tabv;
	rc = pack(&req.base, out);
out:
	free(tabs);
	free(tabv);
	free(rr);
	free(rrv);
	free(conds);
	return rc;
}

static void
row_error(const Ots__Error *e, struct ots_error *oe)
{
	memset(oe, 0, sizeof(*oe));
	if (e == NULL) {
		copy_trunc(oe->message, sizeof(oe->message), "row failed without error detail");
		return;
	}
	copy_trunc(oe->code, sizeof(oe->code), e->code);
	copy_trunc(oe->message, sizeof(oe->message), e->message);
}

/* check that the response's tables/rows mirror the request's groups */
static int
shape_ok(size_t ntables, const char *const *names, const size_t *nrows,
    const char *const *req_tables, size_t n)
{
	size_t i, t = 0, k = 0;

	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(req_tables[i], req_tables[i - 1]) != 0) {
			if (i != 0) {
				if (k != nrows[t])
					return 0;
				t++;
			}
			if (t >= ntables || names[t] == NULL || strcmp(names[t], req_tables[i]) != 0)
				return 0;
			k = 0;
		}
		k++;
	}
	if (n == 0)
		return ntables == 0;
	return t + 1 == ntables && k == nrows[t];
}

int
wire_dec_batch_write_row(const uint8_t *p, size_t len, struct ots_batch_write *rows,
    size_t n, struct eng_errbuf *eb)
{
	Ots__BatchWriteRowResponse *r;
	const char **names = NULL, **req_tables = NULL;
	size_t *nrows = NULL, i, t, k;
	int rc = -ENOMEM;

	if ((r = unpack(&ots__batch_write_row_response__descriptor, p, len)) == NULL)
		return bad(eb, "BatchWriteRowResponse");
	if ((names = calloc(r->n_tables + 1, sizeof(*names))) == NULL ||
	    (nrows = calloc(r->n_tables + 1, sizeof(*nrows))) == NULL ||
	    (req_tables = calloc(n + 1, sizeof(*req_tables))) == NULL)
		goto out;
	for (t = 0; t < r->n_tables; t++) {
		names[t] = r->tables[t]->table_name;
		nrows[t] = r->tables[t]->n_rows;
	}
	for (i = 0; i < n; i++)
		req_tables[i] = rows[i].table;
	if (!shape_ok(r->n_tables, names, nrows, req_tables, n)) {
		rc = bad(eb, "BatchWriteRowResponse: tables/rows do not match the request");
		goto out;
	}
	for (i = 0, t = 0, k = 0; i < n; i++, k++) {
		const Ots__RowInBatchWriteRowResponse *x;

		if (k == r->tables[t]->n_rows) {
			t++;
			k = 0;
		}
		x = r->tables[t]->rows[k];
		rows[i].ok = x->is_ok != 0;
		if (rows[i].ok)
			memset(&rows[i].error, 0, sizeof(rows[i].error));
		else
			row_error(x->error, &rows[i].error);
	}
	rc = 0;
out:
	free(names);
	free(nrows);
	free(req_tables);
	unpacked_free(r);
	return rc;
}

int
wire_enc_batch_get_row(const struct wire_batch_row *rows, size_t n,
    const struct ots_read_opts *opts, struct buf *out)
{
	Ots__BatchGetRowRequest req = OTS__BATCH_GET_ROW_REQUEST__INIT;
	Ots__TableInBatchGetRowRequest *tabs = NULL, **tabv = NULL;
	ProtobufCBinaryData *pks = NULL;
	char **cols = NULL;
	size_t i, g = 0, ng, ncols = 0;
	int rc = -ENOMEM, ok = 1;

	for (i = 0; i < n; i++)
		if (rows[i].table == NULL)
			return ENG_EINVAL;
	if (n == 0)
		return pack(&req.base, out);
	ng = count_groups(rows, n);
	cols = columns(opts, &ncols, &ok);
	if (!ok)
		goto out;
	if ((tabs = calloc(ng, sizeof(*tabs))) == NULL || (tabv = calloc(ng, sizeof(*tabv))) == NULL ||
	    (pks = calloc(n, sizeof(*pks))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(rows[i].table, rows[i - 1].table) != 0) {
			ots__table_in_batch_get_row_request__init(&tabs[g]);
			tabs[g].table_name = unconst(rows[i].table);
			tabs[g].primary_key = &pks[i];
			tabs[g].n_columns_to_get = ncols;
			tabs[g].columns_to_get = cols;
			tabs[g].has_max_versions = 1;
			tabs[g].max_versions = max_versions(opts);
			tabv[g] = &tabs[g];
			g++;
		}
		pks[i] = bin(rows[i].row, rows[i].len);
		tabs[g - 1].n_primary_key++;
	}
	req.n_tables = ng;
	req.tables = tabv;
	rc = pack(&req.base, out);
out:
	free(tabs);
	free(tabv);
	free(pks);
	free(cols);
	return rc;
}

int
wire_dec_batch_get_row(const uint8_t *p, size_t len, struct ots_batch_get *rows,
    size_t n, struct eng_errbuf *eb)
{
	Ots__BatchGetRowResponse *r;
	const char **names = NULL, **req_tables = NULL;
	size_t *nrows = NULL, i, t, k;
	int rc = -ENOMEM;

	if ((r = unpack(&ots__batch_get_row_response__descriptor, p, len)) == NULL)
		return bad(eb, "BatchGetRowResponse");
	if ((names = calloc(r->n_tables + 1, sizeof(*names))) == NULL ||
	    (nrows = calloc(r->n_tables + 1, sizeof(*nrows))) == NULL ||
	    (req_tables = calloc(n + 1, sizeof(*req_tables))) == NULL)
		goto out;
	for (t = 0; t < r->n_tables; t++) {
		names[t] = r->tables[t]->table_name;
		nrows[t] = r->tables[t]->n_rows;
	}
	for (i = 0; i < n; i++)
		req_tables[i] = rows[i].table;
	if (!shape_ok(r->n_tables, names, nrows, req_tables, n)) {
		rc = bad(eb, "BatchGetRowResponse: tables/rows do not match the request");
		goto out;
	}
	for (i = 0; i < n; i++)
		rows[i].row = NULL;
	for (i = 0, t = 0, k = 0; i < n; i++, k++) {
		const Ots__RowInBatchGetRowResponse *x;

		if (k == r->tables[t]->n_rows) {
			t++;
			k = 0;
		}
		x = r->tables[t]->rows[k];
		rows[i].ok = x->is_ok != 0;
		memset(&rows[i].error, 0, sizeof(rows[i].error));
		if (!rows[i].ok) {
			row_error(x->error, &rows[i].error);
			continue;
		}
		if (x->has_row)
			rc = dec_one_row(&x->row, &rows[i].row, eb);
		else
			rc = plainbuf_decode(NULL, 0, &rows[i].row, eb);
		if (rc != 0)
			goto fail;
	}
	rc = 0;
	goto out;
fail:
	for (i = 0; i < n; i++) {
		plainbuf_rows_free(rows[i].row);
		rows[i].row = NULL;
	}
out:
	free(names);
	free(nrows);
	free(req_tables);
	unpacked_free(r);
	return rc;
}

/* ---------------------------------------------------------------- streams */

int
wire_enc_list_stream(const char *table, struct buf *out)
{
	Ots__ListStreamRequest req = OTS__LIST_STREAM_REQUEST__INIT;

	req.table_name = unconst(table);
	return pack(&req.base, out);
}

int
wire_dec_list_stream(const uint8_t *p, size_t len, struct ots_stream_list **out,
    struct eng_errbuf *eb)
{
	Ots__ListStreamResponse *r;
	struct ots_stream_list *l = NULL;
	size_t i;
	int rc = -ENOMEM, ok = 1;

	*out = NULL;
	if ((r = unpack(&ots__list_stream_response__descriptor, p, len)) == NULL)
		return bad(eb, "ListStreamResponse");
	if ((l = calloc(1, sizeof(*l))) == NULL)
		goto out;
	if (r->n_streams > 0 && (l->streams = calloc(r->n_streams, sizeof(*l->streams))) == NULL)
		goto out;
	for (i = 0; i < r->n_streams && ok; i++) {
		struct ots_stream *s = &l->streams[l->n++];

		s->stream_id = dupopt(r->streams[i]->stream_id, &ok);
		s->table = dupopt(r->streams[i]->table_name, &ok);
		s->creation_time = r->streams[i]->creation_time;
	}
	if (!ok)
		goto out;
	*out = l;
	l = NULL;
	rc = 0;
out:
	ots_stream_list_free(l);
	unpacked_free(r);
	return rc;
}

int
wire_enc_describe_stream(const char *stream_id, const char *start_shard_id,
    int32_t shard_limit, struct buf *out)
{
	Ots__DescribeStreamRequest req = OTS__DESCRIBE_STREAM_REQUEST__INIT;

	req.stream_id = unconst(stream_id);
	req.inclusive_start_shard_id = unconst(start_shard_id);
	if (shard_limit > 0) {
		req.has_shard_limit = 1;
		req.shard_limit = shard_limit;
	}
	return pack(&req.base, out);
}

int
wire_dec_describe_stream(const uint8_t *p, size_t len, struct ots_stream_desc **out,
    struct eng_errbuf *eb)
{
	Ots__DescribeStreamResponse *r;
	struct ots_stream_desc *d = NULL;
	size_t i;
	int rc = -ENOMEM, ok = 1;

	*out = NULL;
	if ((r = unpack(&ots__describe_stream_response__descriptor, p, len)) == NULL)
		return bad(eb, "DescribeStreamResponse");
	if (r->stream_status != OTS__STREAM_STATUS__STREAM_ENABLING &&
	    r->stream_status != OTS__STREAM_STATUS__STREAM_ACTIVE) {
		rc = bad(eb, "DescribeStreamResponse: stream_status");
		goto out;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		goto out;
	if (r->n_shards > 0 && (d->shards = calloc(r->n_shards, sizeof(*d->shards))) == NULL)
		goto out;
	for (i = 0; i < r->n_shards && ok; i++) {
		struct ots_shard *s = &d->shards[d->nshards++];

		s->shard_id = dupopt(r->shards[i]->shard_id, &ok);
		s->parent_id = dupopt(r->shards[i]->parent_id, &ok);
		s->parent_sibling_id = dupopt(r->shards[i]->parent_sibling_id, &ok);
	}
	d->stream_id = dupopt(r->stream_id, &ok);
	d->table = dupopt(r->table_name, &ok);
	d->expiration_hours = r->expiration_time;
	d->creation_time = r->creation_time;
	d->status = (int)r->stream_status;
	d->next_shard_id = dupopt(r->next_shard_id, &ok);
	if (!ok)
		goto out;
	*out = d;
	d = NULL;
	rc = 0;
out:
	ots_stream_desc_free(d);
	unpacked_free(r);
	return rc;
}

int
wire_enc_get_shard_iterator(const char *stream_id, const char *shard_id, int64_t ts_us,
    const char *token, struct buf *out)
{
	Ots__GetShardIteratorRequest req = OTS__GET_SHARD_ITERATOR_REQUEST__INIT;

	req.stream_id = unconst(stream_id);
	req.shard_id = unconst(shard_id);
	if (ts_us >= 0) {
		req.has_timestamp = 1;
		req.timestamp = ts_us;
	}
	req.token = unconst(token);
	return pack(&req.base, out);
}

int
wire_dec_get_shard_iterator(const uint8_t *p, size_t len, char **iterator,
    char **next_token, struct eng_errbuf *eb)
{
	Ots__GetShardIteratorResponse *r;
	char *it = NULL, *tok = NULL;
	int rc = -ENOMEM, ok = 1;

	*iterator = NULL;
	*next_token = NULL;
	if ((r = unpack(&ots__get_shard_iterator_response__descriptor, p, len)) == NULL)
		return bad(eb, "GetShardIteratorResponse");
	if (r->shard_iterator[0] == '\0') {
		rc = bad(eb, "GetShardIteratorResponse: empty iterator");
		goto out;
	}
	it = dupopt(r->shard_iterator, &ok);
	if (r->next_token != NULL && r->next_token[0] != '\0')
		tok = dupopt(r->next_token, &ok);
	if (!ok)
		goto out;
	*iterator = it;
	*next_token = tok;
	it = tok = NULL;
	rc = 0;
out:
	free(it);
	free(tok);
	unpacked_free(r);
	return rc;
}

int
wire_enc_get_stream_record(const char *iterator, int32_t limit, struct buf *out)
{
	Ots__GetStreamRecordRequest req = OTS__GET_STREAM_RECORD_REQUEST__INIT;

	req.shard_iterator = unconst(iterator);
	if (limit > 0) {
		req.has_limit = 1;
		req.limit = limit;
	}
	return pack(&req.base, out);
}

int
wire_dec_get_stream_record(const uint8_t *p, size_t len, struct ots_record_batch **out,
    struct eng_errbuf *eb)
{
	Ots__GetStreamRecordResponse *r;
	struct ots_record_batch *b = NULL;
	size_t i;
	int rc = -ENOMEM, ok = 1;

	*out = NULL;
	if ((r = unpack(&ots__get_stream_record_response__descriptor, p, len)) == NULL)
		return bad(eb, "GetStreamRecordResponse");
	if ((b = calloc(1, sizeof(*b))) == NULL)
		goto out;
	if (r->n_stream_records > 0 &&
	    (b->records = calloc(r->n_stream_records, sizeof(*b->records))) == NULL)
		goto out;
	for (i = 0; i < r->n_stream_records; i++) {
		const Ots__GetStreamRecordResponse__StreamRecord *x = r->stream_records[i];
		struct ots_stream_record *s = &b->records[b->n];

		if (x->action_type < OTS__ACTION_TYPE__PUT_ROW ||
		    x->action_type > OTS__ACTION_TYPE__DELETE_ROW) {
			rc = eng_errbuf_set(eb, ENG_EPROTO,
			    "malformed GetStreamRecordResponse: record %zu: action_type %d", i,
			    (int)x->action_type);
			goto out;
		}
		if ((rc = plainbuf_decode(x->record.data, x->record.len, &s->rows_, eb)) != 0)
			goto out;
		b->n++;
		if (s->rows_->nrows != 1 || !s->rows_->rows[0].has_seq) {
			rc = eng_errbuf_set(eb, ENG_EPROTO,
			    "malformed GetStreamRecordResponse: record %zu: expected one row "
			    "with sequence info, got %zu row(s)%s", i, s->rows_->nrows,
			    s->rows_->nrows == 1 ? " without it" : "");
			goto out;
		}
		s->action = (int)x->action_type;
		s->row = &s->rows_->rows[0];
	}
	b->next_iterator = dupopt(r->next_shard_iterator, &ok);
	b->may_more = r->has_may_more_record && r->may_more_record;
	if (!ok)
		goto out;
	*out = b;
	b = NULL;
	rc = 0;
out:
	ots_record_batch_free(b);
	unpacked_free(r);
	return rc;
}
