/* SPDX-License-Identifier: MIT */
/*
 * test_wire.c - wire.c against protobuf-c used directly: every request
 * wire encodes is unpacked here and checked field by field (and compared
 * with the byte-exact examples of contrib/doc/tablestore.md 1.3/2.3), and every
 * response wire decodes is built and packed here first.  Malformed inputs
 * must fail with ENG_EPROTO / ENG_ECHECKSUM.
 *
 * (This test includes ots.pb-c.h on purpose: it is the independent side.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ots.pb-c.h"
#include "plainbuf.h"
#include "tap.h"
#include "wire.h"

static size_t
unhex(const char *h, uint8_t **out)
{
	size_t n = strlen(h) / 2, i;
	uint8_t *p = malloc(n + 1);
	unsigned hi, lo;

	for (i = 0; p != NULL && i < n; i++) {
		hi = (unsigned)(h[2 * i] <= '9' ? h[2 * i] - '0' : h[2 * i] - 'a' + 10);
		lo = (unsigned)(h[2 * i + 1] <= '9' ? h[2 * i + 1] - '0' : h[2 * i + 1] - 'a' + 10);
		p[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = p;
	return n;
}

static int
buf_is_hex(const struct buf *b, const char *hex)
{
	uint8_t *want;
	size_t n = unhex(hex, &want), i;
	int same = b->len == n && memcmp(b->p, want, n) == 0;

	if (!same) {
		printf("#   got:  ");
		for (i = 0; i < b->len; i++)
			printf("%02x", (uint8_t)b->p[i]);
		printf("\n#   want: %s\n", hex);
	}
	free(want);
	return same;
}

/* pack a protobuf-c message into a fresh buffer */
static void
pb_pack(const ProtobufCMessage *m, struct buf *b)
{
	size_t n = protobuf_c_message_get_packed_size(m);

	buf_init(b, BUF_MAX_BODY);
	if (buf_reserve(b, n) != 0)
		return;
	protobuf_c_message_pack(m, (uint8_t *)b->p);
	b->len = n;
}

static ProtobufCBinaryData
bin_of(const struct buf *b)
{
	ProtobufCBinaryData d;

	d.data = (uint8_t *)b->p;
	d.len = b->len;
	return d;
}

/* ---------------------------------------------------------- byte-exact */

static void
test_exact(void)
{
	struct ots_pk_schema pk[3] = {
		{ "StreamId", OTS_PK_STRING, 0 },
		{ "StatusType", OTS_PK_STRING, 0 },
		{ "StatusValue", OTS_PK_STRING, 0 },
	};
	struct ots_create_table ct;
	struct plainbuf_cell pkc[3], at[3];
	struct plainbuf_value v;
	struct plainbuf_row row;
	struct buf b, rb;
	int rc;

	buf_init(&b, BUF_MAX_BODY);
	rc = wire_enc_list_stream("t1", &b);
	ok(rc == 0 && buf_is_hex(&b, "0a027431"), "ListStreamRequest{t1} = 0a 02 74 31");
	buf_free(&b);

	memset(&ct, 0, sizeof(ct));
	ct.table = "status";
	ct.pk = pk;
	ct.npk = 3;
	ct.options.ttl = 2592000;
	ct.options.max_versions = 1;
	ct.options.allow_update = -1;
	buf_init(&b, BUF_MAX_BODY);
	rc = wire_enc_create_table(&ct, &b, NULL);
	ok(rc == 0 && buf_is_hex(&b,
	    "0a370a06737461747573120c0a0853747265616d49641002120e0a0a537461747573547970651002120f0a0b53746174757356616c7565100212060a04080010001a0708809a9e011001"),
	    "CreateTable of the DataX status table matches the Node SDK bytes");
	buf_free(&b);

	/* PutRow of a DataX checkpoint row: plainbuf + wire together */
	memset(&row, 0, sizeof(row));
	v = plainbuf_str("sid-t1");
	plainbuf_cell_set(&pkc[0], "StreamId", &v, PLAINBUF_OP_PUT, -1);
	v = plainbuf_str("CheckpointForDataxReader");
	plainbuf_cell_set(&pkc[1], "StatusType", &v, PLAINBUF_OP_PUT, -1);
	v = plainbuf_str("   1700000000000\ts0");
	plainbuf_cell_set(&pkc[2], "StatusValue", &v, PLAINBUF_OP_PUT, -1);
	v = plainbuf_str("v1");
	plainbuf_cell_set(&at[0], "Version", &v, PLAINBUF_OP_PUT, -1);
	v = plainbuf_str("it-9");
	plainbuf_cell_set(&at[1], "Checkpoint", &v, PLAINBUF_OP_PUT, -1);
	v = plainbuf_int(0);
	plainbuf_cell_set(&at[2], "SkipCount", &v, PLAINBUF_OP_PUT, -1);
	row.pk = pkc;
	row.npk = 3;
	row.attrs = at;
	row.nattrs = 3;
	buf_init(&rb, BUF_MAX_BODY);
	buf_init(&b, BUF_MAX_BODY);
	rc = plainbuf_encode_row(&row, &rb, NULL);
	if (rc == 0)
		rc = wire_enc_put_row("status", (const uint8_t *)rb.p, rb.len, OTS_IGNORE, &b);
	ok(rc == 0 && buf_is_hex(&b,
	    "0a0673746174757312e601750000000103040800000053747265616d4964050b00000003060000007369642d74310a8f03040a00000053746174757354797065051d0000000318000000436865636b706f696e74466f7244617461785265616465720a6b03040b00000053746174757356616c756505180000000313000000202020313730303030303030303030300973300a280203040700000056657273696f6e0507000000030200000076310ae003040a000000436865636b706f696e740509000000030400000069742d390aac030409000000536b6970436f756e7405090000000000000000000000000aa409ed1a020800"),
	    "PutRow of a DataX checkpoint row matches the Node SDK bytes");
	buf_free(&b);
	buf_free(&rb);
}

/* ------------------------------------------------------------ requests */

static void
test_requests(void)
{
	struct ots_pk_schema pk[2] = { { "a", OTS_PK_STRING, 0 }, { "b", OTS_PK_INTEGER, 1 } };
	static const char *const cols[] = { "c1", "c2" };
	struct ots_read_opts ro = { cols, 2, 3 };
	struct ots_create_table ct;
	struct ots_stream_spec ss = { 1, 1, 48 };
	struct ots_table_options to = { -1, 2, 86400, 0 };
	struct wire_batch_row br[3] = {
		{ "t1", OTS_BATCH_PUT, (const uint8_t *)"r0", 2, OTS_IGNORE },
		{ "t1", OTS_BATCH_DELETE, (const uint8_t *)"r1", 2, OTS_EXPECT_EXIST },
		{ "t2", OTS_BATCH_UPDATE, (const uint8_t *)"r2", 2, OTS_EXPECT_NOT_EXIST },
	};
	struct buf b;
	int rc;

	/* CreateTable with stream and options */
	memset(&ct, 0, sizeof(ct));
	ct.table = "tab";
	ct.pk = pk;
	ct.npk = 2;
	ct.read_cu = 1;
	ct.write_cu = 2;
	ct.options = to;
	ct.stream = ss;
	buf_init(&b, BUF_MAX_BODY);
	rc = wire_enc_create_table(&ct, &b, NULL);
	{
		Ots__CreateTableRequest *m = ots__create_table_request__unpack(NULL, b.len,
		    (const uint8_t *)b.p);

		ok(rc == 0 && m != NULL, "CreateTableRequest unpacks");
		if (m != NULL) {
			ok(strcmp(m->table_meta->table_name, "tab") == 0 &&
			    m->table_meta->n_primary_key == 2 &&
			    strcmp(m->table_meta->primary_key[1]->name, "b") == 0 &&
			    m->table_meta->primary_key[1]->type == OTS__PRIMARY_KEY_TYPE__INTEGER &&
			    m->table_meta->primary_key[1]->has_option &&
			    !m->table_meta->primary_key[0]->has_option, "CreateTable: pk schema");
			ok(m->reserved_throughput->capacity_unit->read == 1 &&
			    m->reserved_throughput->capacity_unit->write == 2, "CreateTable: CU");
			ok(m->table_options->has_time_to_live && m->table_options->time_to_live == -1 &&
			    m->table_options->max_versions == 2 &&
			    m->table_options->deviation_cell_version_in_sec == 86400 &&
			    m->table_options->has_allow_update && !m->table_options->allow_update,
			    "CreateTable: options");
			ok(m->stream_spec != NULL && m->stream_spec->enable_stream &&
			    m->stream_spec->has_expiration_time && m->stream_spec->expiration_time == 48,
			    "CreateTable: stream spec");
			ots__create_table_request__free_unpacked(m, NULL);
		}
	}
	buf_free(&b);

	/* UpdateTable: stream only */
	buf_init(&b, BUF_MAX_BODY);
	ss.enable = 0;
	ss.expiration_hours = 0;
	rc = wire_enc_update_table("tab", NULL, &ss, &b);
	{
		Ots__UpdateTableRequest *m = ots__update_table_request__unpack(NULL, b.len,
		    (const uint8_t *)b.p);

		ok(rc == 0 && m != NULL && strcmp(m->table_name, "tab") == 0 &&
		    m->table_options == NULL && m->stream_spec != NULL &&
		    !m->stream_spec->enable_stream && !m->stream_spec->has_expiration_time,
		    "UpdateTableRequest: disable stream, no options");
		if (m != NULL)
			ots__update_table_request__free_unpacked(m, NULL);
	}
	buf_free(&b);

	/* Describe/Delete/ListTable */
	buf_init(&b, BUF_MAX_BODY);
	rc = wire_enc_describe_table("tab", &b);
	ok(rc == 0 && buf_is_hex(&b, "0a03746162"), "DescribeTableRequest");
	buf_reset(&b);
	rc = wire_enc_delete_table("tab", &b);
	ok(rc == 0 && buf_is_hex(&b, "0a03746162"), "DeleteTableRequest");
	buf_reset(&b);
	rc = wire_enc_list_table(&b);
	ok(rc == 0 && b.len == 0, "ListTableRequest is empty");
	buf_reset(&b);

	/* UpdateRow / DeleteRow conditions */
	rc = wire_enc_update_row("tab", (const uint8_t *)"xyz", 3, OTS_EXPECT_EXIST, &b);
	{
		Ots__UpdateRowRequest *m = ots__update_row_request__unpack(NULL, b.len,
		    (const uint8_t *)b.p);

		ok(rc == 0 && m != NULL && m->row_change.len == 3 &&
		    memcmp(m->row_change.data, "xyz", 3) == 0 &&
		    m->condition->row_existence == OTS__ROW_EXISTENCE_EXPECTATION__EXPECT_EXIST,
		    "UpdateRowRequest: row_change + EXPECT_EXIST");
		if (m != NULL)
			ots__update_row_request__free_unpacked(m, NULL);
	}
	buf_reset(&b);
	rc = wire_enc_delete_row("tab", (const uint8_t *)"k", 1, OTS_EXPECT_NOT_EXIST, &b);
	{
		Ots__DeleteRowRequest *m = ots__delete_row_request__unpack(NULL, b.len,
		    (const uint8_t *)b.p);

		ok(rc == 0 && m != NULL && m->primary_key.len == 1 &&
		    m->condition->row_existence == OTS__ROW_EXISTENCE_EXPECTATION__EXPECT_NOT_EXIST,
		    "DeleteRowRequest: EXPECT_NOT_EXIST");
		if (m != NULL)
			ots__delete_row_request__free_unpacked(m, NULL);
	}
	buf_reset(&b);
	is_rc(wire_enc_put_row("tab", (const uint8_t *)"k", 1, 7, &b), ENG_EINVAL,
	    "bad row existence refused");
	buf_reset(&b);

	/* GetRow / GetRange */
	rc = wire_enc_get_row("tab", (const uint8_t *)"pk", 2, &ro, &b);
	{
		Ots__GetRowRequest *m = ots__get_row_request__unpack(NULL, b.len, (const uint8_t *)b.p);

		ok(rc == 0 && m != NULL && m->n_columns_to_get == 2 &&
		    strcmp(m->columns_to_get[1], "c2") == 0 && m->has_max_versions &&
		    m->max_versions == 3 && m->primary_key.len == 2, "GetRowRequest");
		if (m != NULL)
			ots__get_row_request__free_unpacked(m, NULL);
	}
	buf_reset(&b);
	rc = wire_enc_get_row("tab", (const uint8_t *)"pk", 2, NULL, &b);
	{
		Ots__GetRowRequest *m = ots__get_row_request__unpack(NULL, b.len, (const uint8_t *)b.p);

		ok(rc == 0 && m != NULL && m->n_columns_to_get == 0 && m->max_versions == 1,
		    "GetRowRequest default max_versions 1");
		if (m != NULL)
			ots__get_row_request__free_unpacked(m, NULL);
	}
	buf_reset(&b);
	rc = wire_enc_get_range("tab", OTS_BACKWARD, (const uint8_t *)"s", 1,
	    (const uint8_t *)"ee", 2, 100, NULL, &b);
	{
		Ots__GetRangeRequest *m = ots__get_range_request__unpack(NULL, b.len,
		    (const uint8_t *)b.p);

		ok(rc == 0 && m != NULL && m->direction == OTS__DIRECTION__BACKWARD &&
		    m->has_limit && m->limit == 100 && m->inclusive_start_primary_key.len == 1 &&
		    m->exclusive_end_primary_key.len == 2 && m->max_versions == 1,
		    "GetRangeRequest");
		if (m != NULL)
			ots__get_range_request__free_unpacked(m, NULL);
	}
	buf_reset(&b);

	/* BatchWriteRow groups consecutive rows of a table */
	rc = wire_enc_batch_write_row(br, 3, &b);
	{
		Ots__BatchWriteRowRequest *m = ots__batch_write_row_request__unpack(NULL, b.len,
		    (const uint8_t *)b.p);

		ok(rc == 0 && m != NULL && m->n_tables == 2 && m->tables[0]->n_rows == 2 &&
		    m->tables[1]->n_rows == 1 && strcmp(m->tables[1]->table_name, "t2") == 0 &&
		    m->tables[0]->rows[1]->type == OTS__OPERATION_TYPE__DELETE &&
		    m->tables[0]->rows[1]->condition->row_existence ==
		    OTS__ROW_EXISTENCE_EXPECTATION__EXPECT_EXIST &&
		    m->tables[1]->rows[0]->type == OTS__OPERATION_TYPE__UPDATE &&
		    memcmp(m->tables[1]->rows[0]->row_change.data, "r2", 2) == 0,
		    "BatchWriteRowRequest: 2 tables, types, conditions, rows");
		if (m != NULL)
			ots__batch_write_row_request__free_unpacked(m, NULL);
	}
	buf_reset(&b);
	rc = wire_enc_batch_get_row(br, 3, &ro, &b);
	{
		Ots__BatchGetRowRequest *m = ots__batch_get_row_request__unpack(NULL, b.len,
		    (const uint8_t *)b.p);

		ok(rc == 0 && m != NULL && m->n_tables == 2 && m->tables[0]->n_primary_key == 2 &&
		    m->tables[1]->n_primary_key == 1 && m->tables[0]->n_columns_to_get == 2 &&
		    m->tables[1]->max_versions == 3 &&
		    memcmp(m->tables[0]->primary_key[1].data, "r1", 2) == 0,
		    "BatchGetRowRequest: grouped keys, columns, max_versions");
		if (m != NULL)
			ots__batch_get_row_request__free_unpacked(m, NULL);
	}
	buf_reset(&b);

	/* streams */
	rc = wire_enc_list_stream(NULL, &b);
	ok(rc == 0 && b.len == 0, "ListStreamRequest without table is empty");
	buf_reset(&b);
	rc = wire_enc_describe_stream("sid", "s2", 10, &b);
	{
		Ots__DescribeStreamRequest *m = ots__describe_stream_request__unpack(NULL, b.len,
		    (const uint8_t *)b.p);

		ok(rc == 0 && m != NULL && strcmp(m->stream_id, "sid") == 0 &&
		    strcmp(m->inclusive_start_shard_id, "s2") == 0 && m->has_shard_limit &&
		    m->shard_limit == 10, "DescribeStreamRequest with paging");
		if (m != NULL)
			ots__describe_stream_request__free_unpacked(m, NULL);
	}
	buf_reset(&b);
	rc = wire_enc_get_shard_iterator("sid", "s1", 1700000000000000LL, "tok", &b);
	{
		Ots__GetShardIteratorRequest *m = ots__get_shard_iterator_request__unpack(NULL,
		    b.len, (const uint8_t *)b.p);

		ok(rc == 0 && m != NULL && m->has_timestamp &&
		    m->timestamp == 1700000000000000LL && strcmp(m->token, "tok") == 0 &&
		    strcmp(m->shard_id, "s1") == 0, "GetShardIteratorRequest by timestamp + token");
		if (m != NULL)
			ots__get_shard_iterator_request__free_unpacked(m, NULL);
	}
	buf_reset(&b);
	rc = wire_enc_get_shard_iterator("sid", "s1", -1, NULL, &b);
	{
		Ots__GetShardIteratorRequest *m = ots__get_shard_iterator_request__unpack(NULL,
		    b.len, (const uint8_t *)b.p);

		ok(rc == 0 && m != NULL && !m->has_timestamp && m->token == NULL,
		    "GetShardIteratorRequest plain");
		if (m != NULL)
			ots__get_shard_iterator_request__free_unpacked(m, NULL);
	}
	buf_reset(&b);
	rc = wire_enc_get_stream_record("it", 50, &b);
	{
		Ots__GetStreamRecordRequest *m = ots__get_stream_record_request__unpack(NULL,
		    b.len, (const uint8_t *)b.p);

		ok(rc == 0 && m != NULL && strcmp(m->shard_iterator, "it") == 0 && m->has_limit &&
		    m->limit == 50, "GetStreamRecordRequest");
		if (m != NULL)
			ots__get_stream_record_request__free_unpacked(m, NULL);
	}
	buf_free(&b);
}

/* ----------------------------------------------------------- responses */

static void
test_table_responses(void)
{
	Ots__DescribeTableResponse r = OTS__DESCRIBE_TABLE_RESPONSE__INIT;
	Ots__TableMeta meta = OTS__TABLE_META__INIT;
	Ots__PrimaryKeySchema s0 = OTS__PRIMARY_KEY_SCHEMA__INIT, s1 = OTS__PRIMARY_KEY_SCHEMA__INIT;
	Ots__PrimaryKeySchema *sv[2] = { &s0, &s1 };
	Ots__ReservedThroughputDetails rtd = OTS__RESERVED_THROUGHPUT_DETAILS__INIT;
	Ots__CapacityUnit cu = OTS__CAPACITY_UNIT__INIT;
	Ots__TableOptions to = OTS__TABLE_OPTIONS__INIT;
	Ots__StreamDetails sd = OTS__STREAM_DETAILS__INIT;
	Ots__ListTableResponse lt = OTS__LIST_TABLE_RESPONSE__INIT;
	char *names[2] = { (char *)"a", (char *)"bb" };
	struct ots_table_desc *d = NULL;
	struct ots_names *nm = NULL;
	struct buf b;
	int rc;

	s0.name = (char *)"id";
	s0.type = OTS__PRIMARY_KEY_TYPE__BINARY;
	s1.name = (char *)"seq";
	s1.type = OTS__PRIMARY_KEY_TYPE__INTEGER;
	s1.has_option = 1;
	s1.option = OTS__PRIMARY_KEY_OPTION__AUTO_INCREMENT;
	meta.table_name = (char *)"tab";
	meta.n_primary_key = 2;
	meta.primary_key = sv;
	cu.has_read = 1;
	cu.read = 5;
	cu.has_write = 1;
	cu.write = 6;
	rtd.capacity_unit = &cu;
	rtd.last_increase_time = 1;
	to.has_time_to_live = 1;
	to.time_to_live = -1;
	to.has_max_versions = 1;
	to.max_versions = 3;
	sd.enable_stream = 1;
	sd.stream_id = (char *)"stream-1";
	sd.has_expiration_time = 1;
	sd.expiration_time = 24;
	sd.has_last_enable_time = 1;
	sd.last_enable_time = 99;
	r.table_meta = &meta;
	r.reserved_throughput_details = &rtd;
	r.table_options = &to;
	r.table_status = OTS__TABLE_STATUS__ACTIVE;
	r.stream_details = &sd;
	pb_pack(&r.base, &b);
	rc = wire_dec_describe_table((const uint8_t *)b.p, b.len, &d, NULL);
	is_rc(rc, 0, "DescribeTableResponse decodes");
	if (rc == 0) {
		ok(strcmp(d->table, "tab") == 0 && d->npk == 2 && d->pk[0].type == OTS_PK_BINARY &&
		    strcmp(d->pk[1].name, "seq") == 0 && d->pk[1].auto_increment &&
		    !d->pk[0].auto_increment, "DescribeTable: schema");
		ok(d->options.ttl == -1 && d->options.max_versions == 3 &&
		    d->options.allow_update == -1 && d->read_cu == 5 && d->write_cu == 6 &&
		    d->status == OTS_TABLE_ACTIVE, "DescribeTable: options, CU, status");
		ok(d->stream_enabled && strcmp(d->stream_id, "stream-1") == 0 &&
		    d->stream_expiration_hours == 24 && d->stream_last_enable_time == 99,
		    "DescribeTable: stream details");
	}
	ots_table_desc_free(d);
	buf_free(&b);

	/* missing required table_status (an old Java-proto server) is malformed */
	r.table_status = (Ots__TableStatus)9;
	pb_pack(&r.base, &b);
	rc = wire_dec_describe_table((const uint8_t *)b.p, b.len, &d, NULL);
	is_rc(rc, ENG_EPROTO, "DescribeTable: unknown table_status refused");
	buf_free(&b);

	lt.n_table_names = 2;
	lt.table_names = names;
	pb_pack(&lt.base, &b);
	rc = wire_dec_list_table((const uint8_t *)b.p, b.len, &nm, NULL);
	ok(rc == 0 && nm->n == 2 && strcmp(nm->names[1], "bb") == 0, "ListTableResponse");
	ots_names_free(nm);
	buf_free(&b);

	is_rc(wire_dec_create_table((const uint8_t *)"", 0, NULL), 0, "empty CreateTableResponse");
	is_rc(wire_dec_delete_table((const uint8_t *)"\xff\xff", 2, NULL), ENG_EPROTO,
	    "garbage DeleteTableResponse refused");
}

static void
make_row(struct buf *b, int64_t id, const char *val)
{
	struct plainbuf_cell pk, at;
	struct plainbuf_value v;
	struct plainbuf_row row;

	memset(&row, 0, sizeof(row));
	v = plainbuf_int(id);
	plainbuf_cell_set(&pk, "id", &v, PLAINBUF_OP_PUT, -1);
	v = plainbuf_str(val);
	plainbuf_cell_set(&at, "v", &v, PLAINBUF_OP_PUT, 1000);
	row.pk = &pk;
	row.npk = 1;
	row.attrs = val != NULL ? &at : NULL;
	row.nattrs = val != NULL ? 1 : 0;
	buf_init(b, BUF_MAX_BODY);
	if (plainbuf_encode_row(&row, b, NULL) != 0)
		printf("# make_row: encode failed\n");
}

static void
test_row_responses(void)
{
	Ots__ConsumedCapacity cc = OTS__CONSUMED_CAPACITY__INIT;
	Ots__CapacityUnit cu = OTS__CAPACITY_UNIT__INIT;
	Ots__GetRowResponse gr = OTS__GET_ROW_RESPONSE__INIT;
	Ots__GetRangeResponse rr = OTS__GET_RANGE_RESPONSE__INIT;
	Ots__PutRowResponse pr = OTS__PUT_ROW_RESPONSE__INIT;
	struct plainbuf_rows *rows = NULL;
	struct ots_range_page *pg = NULL;
	struct buf b, row, two, next;
	struct eng_errbuf eb = { "" };
	int rc;

	cc.capacity_unit = &cu;
	gr.consumed = &cc;
	make_row(&row, 7, "hello");
	gr.row = bin_of(&row);
	pb_pack(&gr.base, &b);
	rc = wire_dec_get_row((const uint8_t *)b.p, b.len, &rows, NULL);
	ok(rc == 0 && rows->nrows == 1 && rows->rows[0].pk[0].value.i == 7 &&
	    strcmp((const char *)rows->rows[0].attrs[0].value.p, "hello") == 0 &&
	    rows->rows[0].attrs[0].ts == 1000, "GetRowResponse with a row");
	plainbuf_rows_free(rows);
	rows = NULL;
	buf_free(&b);

	gr.row.len = 0;
	pb_pack(&gr.base, &b);
	rc = wire_dec_get_row((const uint8_t *)b.p, b.len, &rows, NULL);
	ok(rc == 0 && rows->nrows == 0, "GetRowResponse with empty row = absent");
	plainbuf_rows_free(rows);
	rows = NULL;
	buf_free(&b);

	/* corrupted row checksum surfaces as ENG_ECHECKSUM */
	row.p[row.len - 1] ^= 0x55;
	gr.row = bin_of(&row);
	pb_pack(&gr.base, &b);
	rc = wire_dec_get_row((const uint8_t *)b.p, b.len, &rows, &eb);
	is_rc(rc, ENG_ECHECKSUM, "GetRowResponse with a bad checksum: %s", eb.msg);
	buf_free(&b);
	buf_free(&row);

	/* GetRange: two rows under one header + next start key */
	{
		struct plainbuf_cell pk[2], npk;
		struct plainbuf_value v1 = plainbuf_int(1), v2 = plainbuf_int(2), v3 = plainbuf_int(3);
		struct plainbuf_row r2[2];

		memset(r2, 0, sizeof(r2));
		plainbuf_cell_set(&pk[0], "id", &v1, PLAINBUF_OP_PUT, -1);
		plainbuf_cell_set(&pk[1], "id", &v2, PLAINBUF_OP_PUT, -1);
		r2[0].pk = &pk[0];
		r2[0].npk = 1;
		r2[1].pk = &pk[1];
		r2[1].npk = 1;
		buf_init(&two, BUF_MAX_BODY);
		ok(plainbuf_encode(r2, 2, &two, NULL) == 0, "encode 2 rows");
		plainbuf_cell_set(&npk, "id", &v3, PLAINBUF_OP_PUT, -1);
		memset(r2, 0, sizeof(r2));
		r2[0].pk = &npk;
		r2[0].npk = 1;
		buf_init(&next, BUF_MAX_BODY);
		ok(plainbuf_encode_row(&r2[0], &next, NULL) == 0, "encode next key");
	}
	rr.consumed = &cc;
	rr.rows = bin_of(&two);
	rr.has_next_start_primary_key = 1;
	rr.next_start_primary_key = bin_of(&next);
	pb_pack(&rr.base, &b);
	rc = wire_dec_get_range((const uint8_t *)b.p, b.len, &pg, NULL);
	ok(rc == 0 && pg->rows->nrows == 2 && pg->rows->rows[1].pk[0].value.i == 2 &&
	    pg->next_start != NULL && pg->next_start->rows[0].pk[0].value.i == 3,
	    "GetRangeResponse: rows + next_start_primary_key");
	ots_range_page_free(pg);
	pg = NULL;
	buf_free(&b);
	rr.has_next_start_primary_key = 0;
	rr.rows.len = 0;
	pb_pack(&rr.base, &b);
	rc = wire_dec_get_range((const uint8_t *)b.p, b.len, &pg, NULL);
	ok(rc == 0 && pg->rows->nrows == 0 && pg->next_start == NULL,
	    "GetRangeResponse: empty, finished");
	ots_range_page_free(pg);
	buf_free(&b);
	buf_free(&two);
	buf_free(&next);

	pr.consumed = &cc;
	pb_pack(&pr.base, &b);
	is_rc(wire_dec_write_row((const uint8_t *)b.p, b.len, NULL), 0, "PutRowResponse");
	buf_free(&b);
	is_rc(wire_dec_write_row((const uint8_t *)"", 0, NULL), ENG_EPROTO,
	    "PutRowResponse without required consumed refused");
}

static void
test_batch_responses(void)
{
	Ots__BatchWriteRowResponse wr = OTS__BATCH_WRITE_ROW_RESPONSE__INIT;
	Ots__TableInBatchWriteRowResponse t1 = OTS__TABLE_IN_BATCH_WRITE_ROW_RESPONSE__INIT,
	    t2 = OTS__TABLE_IN_BATCH_WRITE_ROW_RESPONSE__INIT, *tv[2] = { &t1, &t2 };
	Ots__RowInBatchWriteRowResponse r0 = OTS__ROW_IN_BATCH_WRITE_ROW_RESPONSE__INIT,
	    r1 = OTS__ROW_IN_BATCH_WRITE_ROW_RESPONSE__INIT,
	    r2 = OTS__ROW_IN_BATCH_WRITE_ROW_RESPONSE__INIT;
	Ots__RowInBatchWriteRowResponse *rv1[2] = { &r0, &r1 }, *rv2[1] = { &r2 };
	Ots__Error e = OTS__ERROR__INIT;
	Ots__BatchGetRowResponse gr = OTS__BATCH_GET_ROW_RESPONSE__INIT;
	Ots__TableInBatchGetRowResponse gt = OTS__TABLE_IN_BATCH_GET_ROW_RESPONSE__INIT, *gtv[1] = { &gt };
	Ots__RowInBatchGetRowResponse g0 = OTS__ROW_IN_BATCH_GET_ROW_RESPONSE__INIT,
	    g1 = OTS__ROW_IN_BATCH_GET_ROW_RESPONSE__INIT, *gv[2] = { &g0, &g1 };
	struct ots_batch_write w[3];
	struct ots_batch_get g[2];
	struct buf b, row;
	int rc;

	e.code = (char *)"OTSConditionCheckFail";
	e.message = (char *)"Condition check failed.";
	r0.is_ok = 1;
	r1.is_ok = 0;
	r1.error = &e;
	r2.is_ok = 1;
	t1.table_name = (char *)"t1";
	t1.n_rows = 2;
	t1.rows = rv1;
	t2.table_name = (char *)"t2";
	t2.n_rows = 1;
	t2.rows = rv2;
	wr.n_tables = 2;
	wr.tables = tv;
	memset(w, 0, sizeof(w));
	w[0].table = "t1";
	w[1].table = "t1";
	w[2].table = "t2";
	pb_pack(&wr.base, &b);
	rc = wire_dec_batch_write_row((const uint8_t *)b.p, b.len, w, 3, NULL);
	ok(rc == 0 && w[0].ok && !w[1].ok && w[2].ok &&
	    strcmp(w[1].error.code, "OTSConditionCheckFail") == 0 &&
	    strcmp(w[1].error.message, "Condition check failed.") == 0,
	    "BatchWriteRowResponse: partial failure per row");
	w[2].table = "t3";
	rc = wire_dec_batch_write_row((const uint8_t *)b.p, b.len, w, 3, NULL);
	is_rc(rc, ENG_EPROTO, "BatchWriteRowResponse not matching the request refused");
	rc = wire_dec_batch_write_row((const uint8_t *)b.p, b.len, w, 2, NULL);
	is_rc(rc, ENG_EPROTO, "BatchWriteRowResponse with extra rows refused");
	buf_free(&b);

	make_row(&row, 9, "x");
	g0.is_ok = 1;
	g0.has_row = 1;
	g0.row = bin_of(&row);
	g1.is_ok = 1;	/* absent row: no bytes */
	gt.table_name = (char *)"t1";
	gt.n_rows = 2;
	gt.rows = gv;
	gr.n_tables = 1;
	gr.tables = gtv;
	memset(g, 0, sizeof(g));
	g[0].table = "t1";
	g[1].table = "t1";
	pb_pack(&gr.base, &b);
	rc = wire_dec_batch_get_row((const uint8_t *)b.p, b.len, g, 2, NULL);
	ok(rc == 0 && g[0].ok && g[0].row != NULL && g[0].row->nrows == 1 &&
	    g[0].row->rows[0].pk[0].value.i == 9 && g[1].ok && g[1].row != NULL &&
	    g[1].row->nrows == 0, "BatchGetRowResponse: one row, one absent");
	plainbuf_rows_free(g[0].row);
	plainbuf_rows_free(g[1].row);
	buf_free(&b);
	buf_free(&row);
}

static void
test_stream_responses(void)
{
	static const char *rec_update =
	    "7500000001030402000000706b050700000003020000006b310a4c02030401000000630506000000030100000076070068e5cf8b0100000a3b03040100000064060307ff67e5cf8b0100000aff0304010000006506010ab30b180000000c130000000d000000000e7b401e18240a06000f020000000926";
	static const char *rec_delete =
	    "7500000001030402000000706b050700000003020000006b310a4c080b180000000c130000000d000000000ec8411e18240a06000f0000000009a0";
	Ots__ListStreamResponse ls = OTS__LIST_STREAM_RESPONSE__INIT;
	Ots__Stream st = OTS__STREAM__INIT, *stv[1] = { &st };
	Ots__DescribeStreamResponse ds = OTS__DESCRIBE_STREAM_RESPONSE__INIT;
	Ots__StreamShard sh0 = OTS__STREAM_SHARD__INIT, sh1 = OTS__STREAM_SHARD__INIT,
	    sh2 = OTS__STREAM_SHARD__INIT, *shv[3] = { &sh0, &sh1, &sh2 };
	Ots__GetShardIteratorResponse gi = OTS__GET_SHARD_ITERATOR_RESPONSE__INIT;
	Ots__GetStreamRecordResponse gs = OTS__GET_STREAM_RECORD_RESPONSE__INIT;
	Ots__GetStreamRecordResponse__StreamRecord sr0 = OTS__GET_STREAM_RECORD_RESPONSE__STREAM_RECORD__INIT,
	    sr1 = OTS__GET_STREAM_RECORD_RESPONSE__STREAM_RECORD__INIT, *srv[2] = { &sr0, &sr1 };
	struct ots_stream_list *l = NULL;
	struct ots_stream_desc *d = NULL;
	struct ots_record_batch *rb = NULL;
	struct eng_errbuf eb = { "" };
	char *it = NULL, *tok = NULL;
	uint8_t *u = NULL, *dl = NULL;
	size_t ulen, dlen;
	struct buf b, nos;
	int rc;

	st.stream_id = (char *)"sid";
	st.table_name = (char *)"tab";
	st.creation_time = 1700000000000000LL;
	ls.n_streams = 1;
	ls.streams = stv;
	pb_pack(&ls.base, &b);
	rc = wire_dec_list_stream((const uint8_t *)b.p, b.len, &l, NULL);
	ok(rc == 0 && l->n == 1 && strcmp(l->streams[0].stream_id, "sid") == 0 &&
	    strcmp(l->streams[0].table, "tab") == 0 &&
	    l->streams[0].creation_time == 1700000000000000LL, "ListStreamResponse");
	ots_stream_list_free(l);
	buf_free(&b);

	sh0.shard_id = (char *)"s0";
	sh1.shard_id = (char *)"s1";
	sh1.parent_id = (char *)"s0";
	sh2.shard_id = (char *)"s2";
	sh2.parent_id = (char *)"s0";
	sh2.parent_sibling_id = (char *)"s1";
	ds.stream_id = (char *)"sid";
	ds.expiration_time = 24;
	ds.table_name = (char *)"tab";
	ds.creation_time = 5;
	ds.stream_status = OTS__STREAM_STATUS__STREAM_ACTIVE;
	ds.n_shards = 3;
	ds.shards = shv;
	ds.next_shard_id = (char *)"s3";
	pb_pack(&ds.base, &b);
	rc = wire_dec_describe_stream((const uint8_t *)b.p, b.len, &d, NULL);
	ok(rc == 0 && d->nshards == 3 && d->shards[0].parent_id == NULL &&
	    strcmp(d->shards[1].parent_id, "s0") == 0 &&
	    strcmp(d->shards[2].parent_sibling_id, "s1") == 0 && d->expiration_hours == 24 &&
	    d->status == OTS_STREAM_ACTIVE && strcmp(d->next_shard_id, "s3") == 0,
	    "DescribeStreamResponse: shards with parents, paging");
	ots_stream_desc_free(d);
	d = NULL;
	buf_free(&b);
	ds.stream_status = (Ots__StreamStatus)7;
	pb_pack(&ds.base, &b);
	is_rc(wire_dec_describe_stream((const uint8_t *)b.p, b.len, &d, NULL), ENG_EPROTO,
	    "DescribeStreamResponse: bad status refused");
	buf_free(&b);

	gi.shard_iterator = (char *)"iter-1";
	gi.next_token = (char *)"tok-2";
	pb_pack(&gi.base, &b);
	rc = wire_dec_get_shard_iterator((const uint8_t *)b.p, b.len, &it, &tok, NULL);
	ok(rc == 0 && strcmp(it, "iter-1") == 0 && tok != NULL && strcmp(tok, "tok-2") == 0,
	    "GetShardIteratorResponse with next_token");
	free(it);
	free(tok);
	buf_free(&b);

	ulen = unhex(rec_update, &u);
	dlen = unhex(rec_delete, &dl);
	sr0.action_type = OTS__ACTION_TYPE__UPDATE_ROW;
	sr0.record.data = u;
	sr0.record.len = ulen;
	sr1.action_type = OTS__ACTION_TYPE__DELETE_ROW;
	sr1.record.data = dl;
	sr1.record.len = dlen;
	gs.n_stream_records = 2;
	gs.stream_records = srv;
	gs.next_shard_iterator = (char *)"iter-2";
	pb_pack(&gs.base, &b);
	rc = wire_dec_get_stream_record((const uint8_t *)b.p, b.len, &rb, &eb);
	is_rc(rc, 0, "GetStreamRecordResponse decodes (%s)", eb.msg);
	if (rc == 0) {
		ok(rb->n == 2 && rb->records[0].action == OTS_UPDATE_ROW &&
		    rb->records[0].row->nattrs == 3 &&
		    rb->records[0].row->attrs[1].op == PLAINBUF_OP_DELETE_ONE &&
		    rb->records[0].row->seq.ts_us == 1700000000000123LL &&
		    rb->records[0].row->seq.row_index == 2, "stream record 0: UPDATE_ROW with seq");
		ok(rb->records[1].action == OTS_DELETE_ROW && rb->records[1].row->deleted &&
		    rb->records[1].row->seq.ts_us == 1700000000000456LL,
		    "stream record 1: DELETE_ROW with seq");
		ok(strcmp(rb->next_iterator, "iter-2") == 0, "next iterator");
	}
	ots_record_batch_free(rb);
	rb = NULL;
	buf_free(&b);

	/* shard end: no next iterator, no records */
	gs.n_stream_records = 0;
	gs.next_shard_iterator = NULL;
	pb_pack(&gs.base, &b);
	rc = wire_dec_get_stream_record((const uint8_t *)b.p, b.len, &rb, NULL);
	ok(rc == 0 && rb->n == 0 && rb->next_iterator == NULL, "closed shard: no next iterator");
	ots_record_batch_free(rb);
	rb = NULL;
	buf_free(&b);

	/* a record without sequence info is malformed */
	make_row(&nos, 1, "v");
	sr0.record = bin_of(&nos);
	gs.n_stream_records = 1;
	pb_pack(&gs.base, &b);
	is_rc(wire_dec_get_stream_record((const uint8_t *)b.p, b.len, &rb, NULL), ENG_EPROTO,
	    "stream record without sequence info refused");
	buf_free(&b);
	buf_free(&nos);
	sr0.action_type = (Ots__ActionType)9;
	sr0.record.data = u;
	sr0.record.len = ulen;
	pb_pack(&gs.base, &b);
	is_rc(wire_dec_get_stream_record((const uint8_t *)b.p, b.len, &rb, NULL), ENG_EPROTO,
	    "unknown action type refused");
	buf_free(&b);
	free(u);
	free(dl);
}

static void
test_error(void)
{
	char code[64], msg[128];
	struct buf b;

	buf_init(&b, BUF_MAX_BODY);
	is_rc(wire_enc_error("OTSTrimmedDataAccess", "Requested stream data is already trimmed or does not exist.", &b), 0, "encode Error");
	is_rc(wire_dec_error((const uint8_t *)b.p, b.len, code, sizeof(code), msg, sizeof(msg)), 0,
	    "decode Error");
	is_str(code, "OTSTrimmedDataAccess", "Error code");
	is_str(msg, "Requested stream data is already trimmed or does not exist.", "Error message");
	is_rc(wire_dec_error((const uint8_t *)b.p, b.len, code, 4, msg, 8), 0, "decode truncates");
	is_str(code, "OTS", "code truncated to fit");
	buf_free(&b);
	is_rc(wire_dec_error((const uint8_t *)"\x12\x01x", 3, code, sizeof(code), msg, sizeof(msg)),
	    ENG_EPROTO, "Error without required code refused");
}

int
main(void)
{
	test_exact();
	test_requests();
	test_table_responses();
	test_row_responses();
	test_batch_responses();
	test_stream_responses();
	test_error();
	return done_testing();
}
