/* SPDX-License-Identifier: MIT */
/*
 * test_plainbuf.c - PlainBuffer codec against the 8 hex vectors and the 2
 * stream-record examples of contrib/doc/tablestore.md 3.4/3.6: each is
 * encoded from a row description and compared byte for byte, then decoded
 * and compared field by field.  Plus: CRC-8 check values, checksum errors
 * naming the row, NUL padding, truncation at every length.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "plainbuf.h"
#include "tap.h"

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
cells_eq(const struct plainbuf_cell *a, const struct plainbuf_cell *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (a[i].name_len != b[i].name_len ||
		    memcmp(a[i].name, b[i].name, a[i].name_len) != 0 ||
		    a[i].has_value != b[i].has_value || a[i].op != b[i].op ||
		    a[i].has_ts != b[i].has_ts || (a[i].has_ts && a[i].ts != b[i].ts))
			return 0;
		if (a[i].has_value && !plainbuf_value_eq(&a[i].value, &b[i].value))
			return 0;
	}
	return 1;
}

static int
row_eq(const struct plainbuf_row *a, const struct plainbuf_row *b)
{
	return a->npk == b->npk && a->nattrs == b->nattrs &&
	    !a->deleted == !b->deleted && !a->has_seq == !b->has_seq &&
	    (!a->has_seq || (a->seq.epoch == b->seq.epoch && a->seq.ts_us == b->seq.ts_us &&
	    a->seq.row_index == b->seq.row_index)) &&
	    cells_eq(a->pk, b->pk, a->npk) && cells_eq(a->attrs, b->attrs, a->nattrs);
}

/* encode r, compare with hex; decode hex, compare with r */
static void
check_vector(const char *name, const struct plainbuf_row *r, const char *hex)
{
	struct plainbuf_rows *dec = NULL;
	struct eng_errbuf eb = { "" };
	struct buf b;
	uint8_t *want;
	size_t n = unhex(hex, &want);
	int rc;

	buf_init(&b, BUF_MAX_SMALL);
	rc = plainbuf_encode_row(r, &b, &eb);
	is_rc(rc, 0, "%s: encode (%s)", name, eb.msg);
	ok(b.len == n && memcmp(b.p, want, n) == 0, "%s: encoding matches the vector", name);
	if (b.len != n || memcmp(b.p, want, n) != 0) {
		size_t i;

		printf("#   got:  ");
		for (i = 0; i < b.len; i++)
			printf("%02x", (uint8_t)b.p[i]);
		printf("\n#   want: %s\n", hex);
	}
	rc = plainbuf_decode(want, n, &dec, &eb);
	is_rc(rc, 0, "%s: decode (%s)", name, eb.msg);
	if (rc == 0) {
		is_int(dec->nrows, 1, "%s: one row", name);
		ok(dec->nrows == 1 && row_eq(&dec->rows[0], r), "%s: decoded row equals the source", name);
	}
	plainbuf_rows_free(dec);
	free(want);
	buf_free(&b);
}

static void
test_crc(void)
{
	static const uint8_t in[] = { 1, 3, 7, 255, 128, 0 };
	static const uint8_t want[] = { 7, 28, 65, 51, 16, 112 };
	uint8_t crc = 0;
	size_t i;
	int good = 1;

	for (i = 0; i < sizeof(in); i++) {
		crc = plainbuf_crc8(crc, &in[i], 1);
		good &= crc == want[i];
	}
	ok(good, "crc8 check values 7,28,65,51,16,112");
}

static void
test_vectors(void)
{
	struct plainbuf_cell pk[2], at[4];
	struct plainbuf_value v;
	struct plainbuf_row r;

	/* 1: PK id=1 */
	memset(&r, 0, sizeof(r));
	v = plainbuf_int(1);
	plainbuf_cell_set(&pk[0], "id", &v, PLAINBUF_OP_PUT, -1);
	r.pk = pk;
	r.npk = 1;
	check_vector("vector 1", &r,
	    "7500000001030402000000696405090000000001000000000000000a0a0982");

	/* 2: + name="name" */
	v = plainbuf_str("name");
	plainbuf_cell_set(&at[0], "name", &v, PLAINBUF_OP_PUT, -1);
	r.attrs = at;
	r.nattrs = 1;
	check_vector("vector 2", &r,
	    "7500000001030402000000696405090000000001000000000000000a0a020304040000006e616d65050900000003040000006e616d650af409c7");

	/* 3: PK org_id="o1", checkin_id="c1" */
	memset(&r, 0, sizeof(r));
	v = plainbuf_str("o1");
	plainbuf_cell_set(&pk[0], "org_id", &v, PLAINBUF_OP_PUT, -1);
	v = plainbuf_str("c1");
	plainbuf_cell_set(&pk[1], "checkin_id", &v, PLAINBUF_OP_PUT, -1);
	r.pk = pk;
	r.npk = 2;
	check_vector("vector 3", &r,
	    "75000000010304060000006f72675f6964050700000003020000006f310abe03040a000000636865636b696e5f69640507000000030200000063310aa009de");

	/* 4: PK name="name", id=AUTO_INCREMENT; score=65.8, pass=true */
	v = plainbuf_str("name");
	plainbuf_cell_set(&pk[0], "name", &v, PLAINBUF_OP_PUT, -1);
	v = plainbuf_special(PLAINBUF_VT_AUTO_INCREMENT);
	plainbuf_cell_set(&pk[1], "id", &v, PLAINBUF_OP_PUT, -1);
	v = plainbuf_double(65.8);
	plainbuf_cell_set(&at[0], "score", &v, PLAINBUF_OP_PUT, -1);
	v = plainbuf_bool(1);
	plainbuf_cell_set(&at[1], "pass", &v, PLAINBUF_OP_PUT, -1);
	r.attrs = at;
	r.nattrs = 2;
	check_vector("vector 4", &r,
	    "75000000010304040000006e616d65050900000003040000006e616d650af4030402000000696405010000000b0a6f0203040500000073636f726505090000000133333333337350400ac303040400000070617373050200000002010ae20958");

	/* 5: update delete-one-version: area="a1", id=2; score op=3 ts=1234 */
	v = plainbuf_str("a1");
	plainbuf_cell_set(&pk[0], "area", &v, PLAINBUF_OP_PUT, -1);
	v = plainbuf_int(2);
	plainbuf_cell_set(&pk[1], "id", &v, PLAINBUF_OP_PUT, -1);
	plainbuf_cell_set(&at[0], "score", NULL, PLAINBUF_OP_DELETE_ONE, 1234);
	r.nattrs = 1;
	check_vector("vector 5 (delete one version)", &r,
	    "7500000001030404000000617265610507000000030200000061310a6b030402000000696405090000000002000000000000000a3f0203040500000073636f7265060307d2040000000000000a7209f1");

	/* 6: update delete-all-versions: id=20000; pass op=1 */
	v = plainbuf_int(20000);
	plainbuf_cell_set(&pk[1], "id", &v, PLAINBUF_OP_PUT, -1);
	plainbuf_cell_set(&at[0], "pass", NULL, PLAINBUF_OP_DELETE_ALL, -1);
	check_vector("vector 6 (delete all versions)", &r,
	    "7500000001030404000000617265610507000000030200000061310a6b0304020000006964050900000000204e0000000000000a14020304040000007061737306010a9d09de");

	/* 7: delete row: area="a1", id=2 + marker */
	v = plainbuf_int(2);
	plainbuf_cell_set(&pk[1], "id", &v, PLAINBUF_OP_PUT, -1);
	r.nattrs = 0;
	r.attrs = NULL;
	r.deleted = 1;
	check_vector("vector 7 (delete row)", &r,
	    "7500000001030404000000617265610507000000030200000061310a6b030402000000696405090000000002000000000000000a3f080914");

	/* 8: the documentation row */
	memset(&r, 0, sizeof(r));
	v = plainbuf_str("iampk");
	plainbuf_cell_set(&pk[0], "pk1", &v, PLAINBUF_OP_PUT, -1);
	v = plainbuf_int(100);
	plainbuf_cell_set(&pk[1], "pk2", &v, PLAINBUF_OP_PUT, -1);
	v = plainbuf_str("bad");
	plainbuf_cell_set(&at[0], "column1", &v, PLAINBUF_OP_PUT, 1001);
	v = plainbuf_int(128);
	plainbuf_cell_set(&at[1], "column2", &v, PLAINBUF_OP_PUT, 1002);
	v = plainbuf_double(34.2);
	plainbuf_cell_set(&at[2], "column3", &v, PLAINBUF_OP_PUT, 1003);
	plainbuf_cell_set(&at[3], "column4", NULL, PLAINBUF_OP_DELETE_ALL, -1);
	r.pk = pk;
	r.npk = 2;
	r.attrs = at;
	r.nattrs = 4;
	check_vector("vector 8 (doc row)", &r,
	    "7500000001030403000000706b31050a000000030500000069616d706b0a98030403000000706b3205090000000064000000000000000a0502030407000000636f6c756d6e310508000000030300000062616407e9030000000000000a30030407000000636f6c756d6e32050900000000800000000000000007ea030000000000000a69030407000000636f6c756d6e330509000000019a9999999919414007eb030000000000000acf030407000000636f6c756d6e3406010aa70922");
}

static void
test_stream_records(void)
{
	struct plainbuf_cell pk[1], at[3];
	struct plainbuf_value v;
	struct plainbuf_row r;

	memset(&r, 0, sizeof(r));
	v = plainbuf_str("k1");
	plainbuf_cell_set(&pk[0], "pk", &v, PLAINBUF_OP_PUT, -1);
	v = plainbuf_str("v");
	plainbuf_cell_set(&at[0], "c", &v, PLAINBUF_OP_PUT, 1700000000000LL);
	plainbuf_cell_set(&at[1], "d", NULL, PLAINBUF_OP_DELETE_ONE, 1699999999999LL);
	plainbuf_cell_set(&at[2], "e", NULL, PLAINBUF_OP_DELETE_ALL, -1);
	r.pk = pk;
	r.npk = 1;
	r.attrs = at;
	r.nattrs = 3;
	r.has_seq = 1;
	r.seq.epoch = 0;
	r.seq.ts_us = 1700000000000123LL;
	r.seq.row_index = 2;
	check_vector("stream UPDATE_ROW", &r,
	    "7500000001030402000000706b050700000003020000006b310a4c02030401000000630506000000030100000076070068e5cf8b0100000a3b03040100000064060307ff67e5cf8b0100000aff0304010000006506010ab30b180000000c130000000d000000000e7b401e18240a06000f020000000926");

	r.attrs = NULL;
	r.nattrs = 0;
	r.deleted = 1;
	r.seq.ts_us = 1700000000000456LL;
	r.seq.row_index = 0;
	check_vector("stream DELETE_ROW", &r,
	    "7500000001030402000000706b050700000003020000006b310a4c080b180000000c130000000d000000000ec8411e18240a06000f0000000009a0");
}

static void
test_errors(void)
{
	/* vector 3 (two PK strings) */
	static const char *v3 =
	    "75000000010304060000006f72675f6964050700000003020000006f310abe03040a000000636865636b696e5f69640507000000030200000063310aa009de";
	struct plainbuf_rows *dec = NULL;
	struct eng_errbuf eb = { "" };
	uint8_t *p, *q;
	size_t n = unhex(v3, &p), i;
	int rc, all_fail = 1;

	/* row checksum corrupted */
	p[n - 1] ^= 0x01;
	rc = plainbuf_decode(p, n, &dec, &eb);
	is_rc(rc, ENG_ECHECKSUM, "row checksum mismatch detected");
	ok(strstr(eb.msg, "row 0") != NULL && strstr(eb.msg, "org_id=\"o1\"") != NULL,
	    "message names the row: %s", eb.msg);
	p[n - 1] ^= 0x01;

	/* cell data corrupted: "c1" -> "c2" (cell crc no longer matches) */
	p[n - 5] = '2';
	eb.msg[0] = '\0';
	rc = plainbuf_decode(p, n, &dec, &eb);
	is_rc(rc, ENG_ECHECKSUM, "cell checksum mismatch detected");
	ok(strstr(eb.msg, "checkin_id") != NULL && strstr(eb.msg, "row 0") != NULL,
	    "message names row and cell: %s", eb.msg);
	p[n - 5] = '1';

	/* trailing NUL padding tolerated; garbage after it is not */
	q = calloc(1, n + 5);
	memcpy(q, p, n);
	rc = plainbuf_decode(q, n + 5, &dec, &eb);
	is_rc(rc, 0, "trailing NUL padding tolerated");
	ok(rc == 0 && dec->nrows == 1 && dec->rows[0].npk == 2, "padded buffer has the row");
	plainbuf_rows_free(dec);
	dec = NULL;
	q[n + 3] = 7;
	rc = plainbuf_decode(q, n + 5, &dec, &eb);
	is_rc(rc, ENG_EPROTO, "garbage after padding rejected");
	free(q);

	/* every truncation fails cleanly (except the bare header = 0 rows) */
	for (i = 1; i < n; i++) {
		rc = plainbuf_decode(p, i, &dec, &eb);
		if (i == 4) {
			if (rc != 0 || dec->nrows != 0)
				all_fail = 0;
			plainbuf_rows_free(dec);
			dec = NULL;
		} else if (rc == 0) {
			all_fail = 0;
			plainbuf_rows_free(dec);
			dec = NULL;
		}
	}
	ok(all_fail, "every strict prefix is rejected (header alone = 0 rows)");

	rc = plainbuf_decode(p, 0, &dec, &eb);
	ok(rc == 0 && dec != NULL && dec->nrows == 0, "empty buffer = no rows");
	plainbuf_rows_free(dec);
	dec = NULL;

	p[0] = 0x76;
	rc = plainbuf_decode(p, n, &dec, &eb);
	is_rc(rc, ENG_EPROTO, "bad header rejected");
	free(p);
}

static void
test_multi_and_order(void)
{
	struct plainbuf_cell c[3];
	struct plainbuf_value v;
	struct plainbuf_row rows[3];
	struct plainbuf_rows *dec = NULL;
	struct eng_errbuf eb = { "" };
	struct buf b;
	uint8_t blob[3] = { 0, 0xff, 7 };
	int rc, i;

	memset(rows, 0, sizeof(rows));
	v = plainbuf_bytes(PLAINBUF_VT_BLOB, blob, sizeof(blob));
	plainbuf_cell_set(&c[0], "b", &v, PLAINBUF_OP_PUT, -1);
	v = plainbuf_special(PLAINBUF_VT_INF_MIN);
	plainbuf_cell_set(&c[1], "b", &v, PLAINBUF_OP_PUT, -1);
	v = plainbuf_special(PLAINBUF_VT_INF_MAX);
	plainbuf_cell_set(&c[2], "b", &v, PLAINBUF_OP_PUT, -1);
	for (i = 0; i < 3; i++) {
		rows[i].pk = &c[i];
		rows[i].npk = 1;
	}
	buf_init(&b, BUF_MAX_SMALL);
	rc = plainbuf_encode(rows, 3, &b, &eb);
	is_rc(rc, 0, "encode 3 rows under one header");
	rc = plainbuf_decode((const uint8_t *)b.p, b.len, &dec, &eb);
	is_rc(rc, 0, "decode 3 rows (%s)", eb.msg);
	if (rc == 0) {
		is_int(dec->nrows, 3, "3 rows");
		ok(dec->nrows == 3 && row_eq(&dec->rows[0], &rows[0]) &&
		    row_eq(&dec->rows[1], &rows[1]) && row_eq(&dec->rows[2], &rows[2]),
		    "rows round-trip (BLOB with NUL, INF_MIN, INF_MAX)");
		ok(dec->nrows == 3 && plainbuf_pk_cmp(dec->rows[1].pk, 1, dec->rows[0].pk, 1) < 0 &&
		    plainbuf_pk_cmp(dec->rows[0].pk, 1, dec->rows[2].pk, 1) < 0,
		    "INF_MIN < blob < INF_MAX");
	}
	plainbuf_rows_free(dec);
	buf_free(&b);

	{
		struct plainbuf_value a = plainbuf_str("ab"), bb = plainbuf_str("abc"),
		    x = plainbuf_int(-5), y = plainbuf_int(3);

		ok(plainbuf_value_cmp(&a, &bb) < 0 && plainbuf_value_cmp(&bb, &a) > 0 &&
		    plainbuf_value_cmp(&a, &a) == 0, "string order: prefix first");
		ok(plainbuf_value_cmp(&x, &y) < 0, "integer order is signed");
	}

	/* encoder refuses an unknown op */
	{
		struct plainbuf_cell bad;
		struct plainbuf_row r = { .pk = &bad, .npk = 1 };

		v = plainbuf_int(1);
		plainbuf_cell_set(&bad, "x", &v, 9, -1);
		buf_init(&b, BUF_MAX_SMALL);
		rc = plainbuf_encode_row(&r, &b, &eb);
		is_rc(rc, ENG_EINVAL, "unknown op refused by the encoder");
		is_int(b.len, 0, "nothing left in the buffer after a refused encode");
		buf_free(&b);
	}
}

/* the sliced CRC-8 equals the bit-at-a-time definition at every length and offset */
static void
test_crc_sliced(void)
{
	uint8_t data[131];
	size_t len, off, i;
	int bad = 0;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 151u + 7u);
	for (off = 0; off < 8; off++)
		for (len = 0; off + len <= sizeof(data); len++) {
			uint8_t want = 0x5a, got;
			size_t k;
			int bit;

			for (k = 0; k < len; k++) {
				want ^= data[off + k];
				for (bit = 0; bit < 8; bit++)
					want = (uint8_t)((want << 1) ^ ((want & 0x80) ? 0x07 : 0));
			}
			got = plainbuf_crc8(0x5a, data + off, len);
			if (got != want)
				bad++;
		}
	is_int(bad, 0, "sliced CRC-8 matches the bitwise definition at all lengths/offsets");
}

int
main(void)
{
	test_crc();
	test_crc_sliced();
	test_vectors();
	test_stream_records();
	test_errors();
	test_multi_and_order();
	return done_testing();
}
