/* SPDX-License-Identifier: MIT */
/*
 * test_ots_client.c - the Table Store client (engine/ots*.c over the real
 * curl transport) against difs-emu, started here on a free port with a
 * fresh data directory:
 *
 *   test_ots_client PATH/TO/difs-emu
 *
 * Scenario (the same as the SDK conformance test, plus stream topology and
 * failure cases): create a table with a stream; puts, updates (put,
 * delete-one-version, delete-all-versions), deletes, conditions; GetRow,
 * GetRange (paging, both directions, INF_MIN/INF_MAX), BatchWriteRow
 * (partial failure), BatchGetRow; ListStream/DescribeStream; read every
 * stream record (parents before children) and compare with what was
 * written; GetShardIterator by timestamp; shard split and merge during
 * reading; trimmed iterator -> ENG_ETRIMMED; retry on injected
 * OTSServerBusy; no retry on OTSParameterInvalid; wrong key refused.
 *
 * Exits 77 (skip) only when the difs-emu binary does not exist.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu_harness.h"
#include "http.h"
#include "http_fault.h"
#include "ots.h"
#include "sign.h"
#include "../unit/tap.h"

#define AK_ID		"testid"
#define AK_SECRET	"testsecret"
#define INSTANCE	"inst1"

static struct th_emu emu = TH_EMU_INIT;

/* ------------------------------------------------------------- emulator */

/* an admin command (POST /_emu/cmd); the HTTP status, the answer on failure */
static int
emu_cmd(const char *cmd)
{
	struct buf out;
	int st;

	buf_init(&out, BUF_MAX_SMALL);
	st = th_emu_admin(emu.ots_url, "cmd", cmd, &out);
	if (st != 200)
		printf("# admin '%s' -> %d %s\n", cmd, st, out.p);
	buf_free(&out);
	return st;
}

/* ------------------------------------------------------------- helpers */

static struct sign_cred *cred;

static struct ots *
client(const char *secret, int max_retries, struct sign_cred **own)
{
	struct ots_config cfg;
	struct sign_cred *c = cred;
	struct eng_errbuf eb = { "" };
	struct ots *o = NULL;

	memset(&cfg, 0, sizeof(cfg));
	if (secret != NULL && sign_cred_new(AK_ID, secret, NULL, &c) != 0)
		return NULL;
	if (own != NULL)
		*own = secret != NULL ? c : NULL;
	cfg.endpoint = emu.ots_url;
	cfg.instance = INSTANCE;
	cfg.cred = c;
	cfg.max_retries = max_retries;
	cfg.retry_base_ms = 5;
	cfg.retry_max_ms = 50;
	if (ots_new(&cfg, &o, &eb) != 0)
		printf("# ots_new: %s\n", eb.msg);
	return o;
}

/* primary key (pk STRING, n INTEGER, b BINARY) */
struct key {
	struct plainbuf_cell c[3];
	struct plainbuf_value v[3];
	uint8_t bin[2];
};

static const struct plainbuf_cell *
key(struct key *k, const char *pk)
{
	k->bin[0] = 0;
	k->bin[1] = (uint8_t)pk[strlen(pk) - 1];
	k->v[0] = plainbuf_str(pk);
	k->v[1] = plainbuf_int(7);
	k->v[2] = plainbuf_bytes(PLAINBUF_VT_BLOB, k->bin, 2);
	plainbuf_cell_set(&k->c[0], "pk", &k->v[0], PLAINBUF_OP_PUT, -1);
	plainbuf_cell_set(&k->c[1], "n", &k->v[1], PLAINBUF_OP_PUT, -1);
	plainbuf_cell_set(&k->c[2], "b", &k->v[2], PLAINBUF_OP_PUT, -1);
	return k->c;
}

/* what a stream record must contain */
#define MAXC 6
struct expect {
	const char	*pk;
	int		 action;
	size_t		 nattrs;
	struct plainbuf_cell attrs[MAXC];
	struct plainbuf_value vals[MAXC];
	int		 server_ts;	/**< attrs[i] timestamps are assigned by the server */
	int		 seen;
};

static struct expect expects[32];
static size_t nexpects;

static struct expect *
expect_add(const char *pk, int action)
{
	struct expect *e = &expects[nexpects++];

	memset(e, 0, sizeof(*e));
	e->pk = pk;
	e->action = action;
	return e;
}

static void
expect_cell(struct expect *e, const char *name, const struct plainbuf_value *v, int op,
    int64_t ts)
{
	size_t i = e->nattrs++;

	if (v != NULL)
		e->vals[i] = *v;
	plainbuf_cell_set(&e->attrs[i], name, v != NULL ? &e->vals[i] : NULL, op, ts);
}

static int
cell_eq(const struct plainbuf_cell *a, const struct plainbuf_cell *b, int server_ts)
{
	if (a->name_len != b->name_len || memcmp(a->name, b->name, a->name_len) != 0 ||
	    a->has_value != b->has_value || a->op != b->op)
		return 0;
	if (a->has_value && !plainbuf_value_eq(&a->value, &b->value))
		return 0;
	if (server_ts)
		return a->has_ts && a->ts > 0;
	return a->has_ts == b->has_ts && (!a->has_ts || a->ts == b->ts);
}

static int
row_pk_is(const struct plainbuf_row *r, const char *pk)
{
	return r->npk == 3 && r->pk[0].value.type == PLAINBUF_VT_STRING &&
	    r->pk[0].value.len == strlen(pk) && memcmp(r->pk[0].value.p, pk, strlen(pk)) == 0 &&
	    r->pk[1].value.i == 7 && r->pk[2].value.len == 2;
}

static const struct plainbuf_cell *
attr(const struct plainbuf_row *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nattrs; i++)
		if (strcmp(r->attrs[i].name, name) == 0)
			return &r->attrs[i];
	return NULL;
}

/* ------------------------------------------------------ stream reading */

struct rec {
	char	 pk[32];
	char	 shard[96];
	int	 action;
	int64_t	 ts_us;
	const struct plainbuf_row *row;
};

struct shardpos {
	char	 id[96];
	char	*iter;		/**< where reading goes on; NULL = shard start */
	int	 done;		/**< read to SHARD_END */
};

struct reader {
	struct ots_record_batch *batches[512];
	size_t		 nbatches;
	struct rec	 recs[512];
	size_t		 nrecs;
	struct shardpos	 pos[64];
	size_t		 npos;
};

static void
reader_free(struct reader *rd)
{
	size_t i;

	for (i = 0; i < rd->nbatches; i++)
		ots_record_batch_free(rd->batches[i]);
	for (i = 0; i < rd->npos; i++)
		free(rd->pos[i].iter);
	memset(rd, 0, sizeof(*rd));
}

static struct shardpos *
pos_of(struct reader *rd, const char *id)
{
	size_t i;

	for (i = 0; i < rd->npos; i++)
		if (strcmp(rd->pos[i].id, id) == 0)
			return &rd->pos[i];
	if (rd->npos == 64)
		return NULL;
	snprintf(rd->pos[rd->npos].id, sizeof(rd->pos[0].id), "%s", id);
	return &rd->pos[rd->npos++];
}

static int
shard_done(struct reader *rd, const char *id)
{
	struct shardpos *p = pos_of(rd, id);

	return p != NULL && p->done;
}

static int
shard_known(const struct ots_stream_desc *d, const char *id)
{
	size_t i;

	for (i = 0; i < d->nshards; i++)
		if (strcmp(d->shards[i].shard_id, id) == 0)
			return 1;
	return 0;
}

/*
 * Read one shard from where this reader left it (its start the first time)
 * until caught up (empty batch with a next iterator), closed (no next
 * iterator), or max_batches non-empty batches were read (0 = no limit).
 * Returns 0 (caught up / batch limit), 1 (shard end) or <0.
 */
static int
read_shard(struct ots *o, struct reader *rd, const char *stream, const char *shard,
    int32_t limit, int max_batches)
{
	struct shardpos *pos = pos_of(rd, shard);
	struct ots_error err;
	int rc, nb = 0;
	size_t i;

	if (pos == NULL)
		return -E2BIG;
	if (pos->done)
		return 1;
	if (pos->iter == NULL &&
	    (rc = ots_get_shard_iterator(o, stream, shard, -1, &pos->iter, &err)) != 0) {
		printf("# GetShardIterator %s: %s\n", shard, err.message);
		return rc;
	}
	for (;;) {
		struct ots_record_batch *b = NULL;

		if ((rc = ots_get_stream_record(o, pos->iter, limit, &b, &err)) != 0) {
			printf("# GetStreamRecord %s: %s %s\n", shard, err.code, err.message);
			return rc;
		}
		if (rd->nbatches >= 512 || rd->nrecs + b->n > 512) {
			ots_record_batch_free(b);
			return -E2BIG;
		}
		rd->batches[rd->nbatches++] = b;
		for (i = 0; i < b->n; i++) {
			struct rec *r = &rd->recs[rd->nrecs++];
			const struct plainbuf_row *row = b->records[i].row;

			snprintf(r->pk, sizeof(r->pk), "%.*s", row->npk > 0 ? (int)row->pk[0].value.len : 0,
			    row->npk > 0 ? (const char *)row->pk[0].value.p : "");
			snprintf(r->shard, sizeof(r->shard), "%s", shard);
			r->action = b->records[i].action;
			r->ts_us = row->seq.ts_us;
			r->row = row;
		}
		free(pos->iter);
		pos->iter = NULL;
		if (b->next_iterator == NULL) {
			pos->done = 1;
			return 1;
		}
		if ((pos->iter = strdup(b->next_iterator)) == NULL)
			return -ENOMEM;
		if (b->n == 0)
			return 0;
		if (max_batches > 0 && ++nb >= max_batches)
			return 0;
	}
}

/*
 * Read every shard, a child only once all its known parents reached their
 * end, until each shard is caught up or ended.
 */
static int
read_all(struct ots *o, struct reader *rd, const char *stream, struct ots_stream_desc **descp)
{
	struct ots_stream_desc *d = NULL;
	struct ots_error err;
	char visited[64][96];
	size_t nvisited = 0, i, j;
	int progress = 1, rc;

	if ((rc = ots_describe_stream_all(o, stream, &d, &err)) != 0) {
		printf("# DescribeStream: %s\n", err.message);
		return rc;
	}
	while (progress) {
		progress = 0;
		for (i = 0; i < d->nshards; i++) {
			const struct ots_shard *s = &d->shards[i];
			int skip = shard_done(rd, s->shard_id);

			for (j = 0; j < nvisited && !skip; j++)
				skip = strcmp(visited[j], s->shard_id) == 0;
			if (!skip && s->parent_id != NULL && shard_known(d, s->parent_id) &&
			    !shard_done(rd, s->parent_id))
				skip = 1;
			if (!skip && s->parent_sibling_id != NULL &&
			    shard_known(d, s->parent_sibling_id) && !shard_done(rd, s->parent_sibling_id))
				skip = 1;
			if (skip)
				continue;
			rc = read_shard(o, rd, stream, s->shard_id, 3, 0);
			if (rc < 0) {
				ots_stream_desc_free(d);
				return rc;
			}
			if (rc == 0 && nvisited < 64)
				snprintf(visited[nvisited++], sizeof(visited[0]), "%s", s->shard_id);
			progress = 1;
		}
	}
	if (descp != NULL)
		*descp = d;
	else
		ots_stream_desc_free(d);
	return 0;
}

/* ----------------------------------------------------------- scenarios */

static const char *tab = "t_all";
static char stream_id[128];

static void
test_tables(struct ots *o)
{
	struct ots_pk_schema pk[3] = {
		{ "pk", OTS_PK_STRING, 0 }, { "n", OTS_PK_INTEGER, 0 }, { "b", OTS_PK_BINARY, 0 },
	};
	struct ots_create_table ct;
	struct ots_table_desc *d = NULL;
	struct ots_names *names = NULL;
	struct ots_stream_list *sl = NULL;
	struct ots_error err;
	size_t i;
	int rc, found = 0;

	memset(&ct, 0, sizeof(ct));
	ct.table = tab;
	ct.pk = pk;
	ct.npk = 3;
	ct.options.ttl = -1;
	ct.options.max_versions = 3;
	ct.options.allow_update = -1;
	ct.stream.set = 1;
	ct.stream.enable = 1;
	ct.stream.expiration_hours = 24;
	rc = ots_create_table(o, &ct, &err);
	is_rc(rc, 0, "CreateTable with stream (%s)", err.message);
	rc = ots_create_table(o, &ct, &err);
	ok(rc == ENG_ECONFLICT && strcmp(err.code, "OTSObjectAlreadyExist") == 0 &&
	    err.http_status == 409 && err.request_id[0] != '\0',
	    "CreateTable again: OTSObjectAlreadyExist (%s, %d)", err.code, err.http_status);

	rc = ots_describe_table(o, tab, &d, &err);
	is_rc(rc, 0, "DescribeTable (%s)", err.message);
	if (rc == 0) {
		ok(strcmp(d->table, tab) == 0 && d->npk == 3 && d->pk[1].type == OTS_PK_INTEGER &&
		    d->pk[2].type == OTS_PK_BINARY && strcmp(d->pk[0].name, "pk") == 0,
		    "DescribeTable: primary key");
		ok(d->stream_enabled && d->stream_id != NULL && d->stream_expiration_hours == 24,
		    "DescribeTable: stream enabled, 24 h");
		ok(d->options.max_versions == 3 && d->status == OTS_TABLE_ACTIVE,
		    "DescribeTable: options and status");
		if (d->stream_id != NULL)
			snprintf(stream_id, sizeof(stream_id), "%s", d->stream_id);
	}
	ots_table_desc_free(d);

	rc = ots_describe_table(o, "nope", &d, &err);
	ok(rc == ENG_ENOTFOUND && strcmp(err.code, "OTSObjectNotExist") == 0 && err.attempts == 1,
	    "DescribeTable of a missing table: OTSObjectNotExist, not retried");

	rc = ots_list_table(o, &names, &err);
	for (i = 0; rc == 0 && i < names->n; i++)
		found |= strcmp(names->names[i], tab) == 0;
	ok(rc == 0 && found, "ListTable lists %s", tab);
	ots_names_free(names);

	rc = ots_list_stream(o, tab, &sl, &err);
	ok(rc == 0 && sl->n == 1 && strcmp(sl->streams[0].stream_id, stream_id) == 0 &&
	    strcmp(sl->streams[0].table, tab) == 0 && sl->streams[0].creation_time > 0,
	    "ListStream(table) finds the stream");
	ots_stream_list_free(sl);
}

static void
test_writes(struct ots *o)
{
	struct plainbuf_cell at[6];
	struct plainbuf_value v[6];
	struct plainbuf_row row;
	struct ots_error err;
	struct expect *e;
	struct key k;
	static const uint8_t bin[4] = { 0, 1, 2, 255 };
	int rc, i;

	/* r1: every value type, explicit timestamps */
	v[0] = plainbuf_int(-42);
	v[1] = plainbuf_str("hello");
	v[2] = plainbuf_bytes(PLAINBUF_VT_BLOB, bin, 4);
	v[3] = plainbuf_bool(1);
	v[4] = plainbuf_double(3.25);
	e = expect_add("r1", OTS_PUT_ROW);
	for (i = 0; i < 5; i++) {
		static const char *const names[] = { "i", "s", "bin", "bo", "d" };

		plainbuf_cell_set(&at[i], names[i], &v[i], PLAINBUF_OP_PUT, 1000);
		expect_cell(e, names[i], &v[i], PLAINBUF_OP_PUT, 1000);
	}
	memset(&row, 0, sizeof(row));
	row.pk = key(&k, "r1");
	row.npk = 3;
	row.attrs = at;
	row.nattrs = 5;
	rc = ots_put_row(o, tab, &row, OTS_EXPECT_NOT_EXIST, &err);
	is_rc(rc, 0, "PutRow r1 with every type (%s)", err.message);
	rc = ots_put_row(o, tab, &row, OTS_EXPECT_NOT_EXIST, &err);
	ok(rc == ENG_ECONFLICT && strcmp(err.code, "OTSConditionCheckFail") == 0 && err.attempts == 1,
	    "PutRow r1 EXPECT_NOT_EXIST again: OTSConditionCheckFail");

	/* r2: put, then update put x2, delete one version, delete all versions */
	v[0] = plainbuf_int(1);
	plainbuf_cell_set(&at[0], "i", &v[0], PLAINBUF_OP_PUT, 1000);
	row.pk = key(&k, "r2");
	row.nattrs = 1;
	rc = ots_put_row(o, tab, &row, OTS_IGNORE, &err);
	is_rc(rc, 0, "PutRow r2");
	e = expect_add("r2", OTS_PUT_ROW);
	expect_cell(e, "i", &v[0], PLAINBUF_OP_PUT, 1000);

	v[0] = plainbuf_int(2);
	v[1] = plainbuf_str("x");
	plainbuf_cell_set(&at[0], "i", &v[0], PLAINBUF_OP_PUT, 2000);
	plainbuf_cell_set(&at[1], "s", &v[1], PLAINBUF_OP_PUT, 2000);
	row.nattrs = 2;
	rc = ots_update_row(o, tab, &row, OTS_EXPECT_EXIST, &err);
	is_rc(rc, 0, "UpdateRow r2: put i@2000, s@2000 (%s)", err.message);
	e = expect_add("r2", OTS_UPDATE_ROW);
	expect_cell(e, "i", &v[0], PLAINBUF_OP_PUT, 2000);
	expect_cell(e, "s", &v[1], PLAINBUF_OP_PUT, 2000);

	plainbuf_cell_set(&at[0], "i", NULL, PLAINBUF_OP_DELETE_ONE, 1000);
	row.nattrs = 1;
	rc = ots_update_row(o, tab, &row, OTS_IGNORE, &err);
	is_rc(rc, 0, "UpdateRow r2: delete one version i@1000 (%s)", err.message);
	e = expect_add("r2", OTS_UPDATE_ROW);
	expect_cell(e, "i", NULL, PLAINBUF_OP_DELETE_ONE, 1000);

	plainbuf_cell_set(&at[0], "s", NULL, PLAINBUF_OP_DELETE_ALL, -1);
	rc = ots_update_row(o, tab, &row, OTS_IGNORE, &err);
	is_rc(rc, 0, "UpdateRow r2: delete all versions of s (%s)", err.message);
	e = expect_add("r2", OTS_UPDATE_ROW);
	expect_cell(e, "s", NULL, PLAINBUF_OP_DELETE_ALL, -1);

	/* r5 does not exist: EXPECT_EXIST fails */
	v[0] = plainbuf_int(5);
	plainbuf_cell_set(&at[0], "i", &v[0], PLAINBUF_OP_PUT, -1);
	row.pk = key(&k, "r5");
	rc = ots_update_row(o, tab, &row, OTS_EXPECT_EXIST, &err);
	ok(rc == ENG_ECONFLICT && strcmp(err.code, "OTSConditionCheckFail") == 0,
	    "UpdateRow r5 EXPECT_EXIST: OTSConditionCheckFail");

	/* r3: put then delete */
	v[0] = plainbuf_int(7);
	plainbuf_cell_set(&at[0], "i", &v[0], PLAINBUF_OP_PUT, 1000);
	row.pk = key(&k, "r3");
	rc = ots_put_row(o, tab, &row, OTS_IGNORE, &err);
	is_rc(rc, 0, "PutRow r3");
	e = expect_add("r3", OTS_PUT_ROW);
	expect_cell(e, "i", &v[0], PLAINBUF_OP_PUT, 1000);
	rc = ots_delete_row(o, tab, key(&k, "r3"), 3, OTS_EXPECT_EXIST, &err);
	is_rc(rc, 0, "DeleteRow r3 EXPECT_EXIST (%s)", err.message);
	expect_add("r3", OTS_DELETE_ROW);

	/* r4: server-assigned timestamp */
	v[0] = plainbuf_int(5);
	plainbuf_cell_set(&at[0], "i", &v[0], PLAINBUF_OP_PUT, -1);
	row.pk = key(&k, "r4");
	rc = ots_put_row(o, tab, &row, OTS_IGNORE, &err);
	is_rc(rc, 0, "PutRow r4 without timestamp");
	e = expect_add("r4", OTS_PUT_ROW);
	expect_cell(e, "i", &v[0], PLAINBUF_OP_PUT, -1);
	e->server_ts = 1;
}

static void
test_batch_write(struct ots *o)
{
	struct plainbuf_cell at[2];
	struct plainbuf_value v[2];
	struct plainbuf_row rows[4];
	struct ots_batch_write w[4];
	struct ots_error err;
	struct expect *e;
	struct key k[4];
	int rc, i;

	v[0] = plainbuf_int(6);
	v[1] = plainbuf_str("six");
	plainbuf_cell_set(&at[0], "i", &v[0], PLAINBUF_OP_PUT, 3000);
	plainbuf_cell_set(&at[1], "s", &v[1], PLAINBUF_OP_PUT, 3000);
	memset(rows, 0, sizeof(rows));
	memset(w, 0, sizeof(w));
	for (i = 0; i < 4; i++) {
		static const char *const pks[] = { "r6", "r7", "r1", "r4" };

		rows[i].pk = key(&k[i], pks[i]);
		rows[i].npk = 3;
		rows[i].attrs = at;
		rows[i].nattrs = 2;
		w[i].table = tab;
		w[i].row = &rows[i];
	}
	w[0].op = OTS_BATCH_PUT;
	w[1].op = OTS_BATCH_PUT;
	w[2].op = OTS_BATCH_UPDATE;
	w[2].existence = OTS_EXPECT_NOT_EXIST;	/* r1 exists: this row fails */
	w[3].op = OTS_BATCH_DELETE;
	rc = ots_batch_write_row(o, w, 4, &err);
	is_rc(rc, 0, "BatchWriteRow (%s)", err.message);
	ok(w[0].ok && w[1].ok && !w[2].ok && w[3].ok &&
	    strcmp(w[2].error.code, "OTSConditionCheckFail") == 0,
	    "BatchWriteRow: partial failure on the conditioned row only (%s)", w[2].error.code);
	e = expect_add("r6", OTS_PUT_ROW);
	expect_cell(e, "i", &v[0], PLAINBUF_OP_PUT, 3000);
	expect_cell(e, "s", &v[1], PLAINBUF_OP_PUT, 3000);
	e = expect_add("r7", OTS_PUT_ROW);
	expect_cell(e, "i", &v[0], PLAINBUF_OP_PUT, 3000);
	expect_cell(e, "s", &v[1], PLAINBUF_OP_PUT, 3000);
	expect_add("r4", OTS_DELETE_ROW);
}

static int
collect_pk(void *arg, const struct plainbuf_row *row)
{
	struct buf *b = arg;

	(void)buf_add(b, row->pk[0].value.p, row->pk[0].value.len);
	return buf_addc(b, ',');
}

static void
test_reads(struct ots *o)
{
	struct plainbuf_rows *r = NULL;
	struct ots_read_opts ro = { NULL, 0, 3 };
	struct ots_range_req q;
	struct ots_range_page *pg = NULL;
	struct plainbuf_cell lo[3], hi[3];
	struct plainbuf_value vmin = plainbuf_special(PLAINBUF_VT_INF_MIN),
	    vmax = plainbuf_special(PLAINBUF_VT_INF_MAX);
	struct ots_batch_get g[3];
	const struct plainbuf_cell *c;
	struct ots_error err;
	struct key k, kk[3];
	struct buf seen;
	static const uint8_t bin[4] = { 0, 1, 2, 255 };
	int rc, i;

	rc = ots_get_row(o, tab, key(&k, "r1"), 3, NULL, &r, &err);
	ok(rc == 0 && r->nrows == 1 && row_pk_is(&r->rows[0], "r1") && r->rows[0].nattrs == 5,
	    "GetRow r1: 5 columns (%s)", err.message);
	if (rc == 0 && r->nrows == 1) {
		c = attr(&r->rows[0], "i");
		ok(c != NULL && c->value.type == PLAINBUF_VT_INTEGER && c->value.i == -42 && c->ts == 1000,
		    "r1.i INTEGER -42 @1000");
		c = attr(&r->rows[0], "s");
		ok(c != NULL && c->value.type == PLAINBUF_VT_STRING && strcmp((const char *)c->value.p, "hello") == 0,
		    "r1.s STRING hello");
		c = attr(&r->rows[0], "bin");
		ok(c != NULL && c->value.type == PLAINBUF_VT_BLOB && c->value.len == 4 &&
		    memcmp(c->value.p, bin, 4) == 0, "r1.bin BINARY 00 01 02 ff");
		c = attr(&r->rows[0], "bo");
		ok(c != NULL && c->value.type == PLAINBUF_VT_BOOLEAN && c->value.b == 1, "r1.bo BOOLEAN true");
		c = attr(&r->rows[0], "d");
		ok(c != NULL && c->value.type == PLAINBUF_VT_DOUBLE && c->value.d == 3.25, "r1.d DOUBLE 3.25");
	}
	plainbuf_rows_free(r);
	r = NULL;

	rc = ots_get_row(o, tab, key(&k, "r2"), 3, &ro, &r, &err);
	ok(rc == 0 && r->nrows == 1 && r->rows[0].nattrs == 1 &&
	    strcmp(r->rows[0].attrs[0].name, "i") == 0 && r->rows[0].attrs[0].value.i == 2 &&
	    r->rows[0].attrs[0].ts == 2000,
	    "GetRow r2 (3 versions): only i=2@2000 left after delete-one and delete-all");
	plainbuf_rows_free(r);
	r = NULL;

	rc = ots_get_row(o, tab, key(&k, "r3"), 3, NULL, &r, &err);
	ok(rc == 0 && r->nrows == 0, "GetRow r3 (deleted): absent");
	plainbuf_rows_free(r);
	r = NULL;

	/* GetRange INF_MIN..INF_MAX, 2 rows a page */
	for (i = 0; i < 3; i++) {
		plainbuf_cell_set(&lo[i], i == 0 ? "pk" : i == 1 ? "n" : "b", &vmin, PLAINBUF_OP_PUT, -1);
		plainbuf_cell_set(&hi[i], i == 0 ? "pk" : i == 1 ? "n" : "b", &vmax, PLAINBUF_OP_PUT, -1);
	}
	memset(&q, 0, sizeof(q));
	q.table = tab;
	q.direction = OTS_FORWARD;
	q.start = lo;
	q.nstart = 3;
	q.end = hi;
	q.nend = 3;
	q.limit = 2;
	rc = ots_get_range(o, &q, &pg, &err);
	ok(rc == 0 && pg->rows->nrows == 2 && pg->next_start != NULL &&
	    row_pk_is(&pg->rows->rows[0], "r1") && row_pk_is(&pg->rows->rows[1], "r2") &&
	    row_pk_is(&pg->next_start->rows[0], "r6"),
	    "GetRange page 1: r1, r2, next start r6 (%s)", err.message);
	ots_range_page_free(pg);
	pg = NULL;
	buf_init(&seen, BUF_MAX_SMALL);
	rc = ots_get_range_each(o, &q, collect_pk, &seen, &err);
	ok(rc == 0 && strcmp(seen.p, "r1,r2,r6,r7,") == 0, "GetRange forward, paged: %s", seen.p);
	buf_reset(&seen);
	q.direction = OTS_BACKWARD;
	q.start = hi;
	q.end = lo;
	q.limit = 3;
	rc = ots_get_range_each(o, &q, collect_pk, &seen, &err);
	ok(rc == 0 && strcmp(seen.p, "r7,r6,r2,r1,") == 0, "GetRange backward, paged: %s", seen.p);
	buf_free(&seen);

	/* begin after end in FORWARD: the service refuses, not retried */
	q.direction = OTS_FORWARD;
	rc = ots_get_range(o, &q, &pg, &err);
	ok(rc == ENG_EREJECTED && strcmp(err.code, "OTSParameterInvalid") == 0 && err.attempts == 1 &&
	    err.http_status == 400, "GetRange with begin > end: OTSParameterInvalid, no retry (%s)",
	    err.message);

	/* BatchGetRow */
	memset(g, 0, sizeof(g));
	g[0].table = tab;
	g[0].pk = key(&kk[0], "r1");
	g[0].npk = 3;
	g[1].table = tab;
	g[1].pk = key(&kk[1], "r3");
	g[1].npk = 3;
	g[2].table = tab;
	g[2].pk = key(&kk[2], "r6");
	g[2].npk = 3;
	rc = ots_batch_get_row(o, g, 3, NULL, &err);
	ok(rc == 0 && g[0].ok && g[0].row->nrows == 1 && row_pk_is(&g[0].row->rows[0], "r1") &&
	    g[1].ok && g[1].row->nrows == 0 && g[2].ok && g[2].row->nrows == 1 &&
	    attr(&g[2].row->rows[0], "s") != NULL,
	    "BatchGetRow: r1 present, r3 absent, r6 present (%s)", err.message);
	for (i = 0; i < 3; i++)
		plainbuf_rows_free(g[i].row);
}

static void
test_stream_contents(struct ots *o)
{
	struct reader *rd = calloc(1, sizeof(*rd));
	struct ots_stream_desc *d = NULL;
	size_t i, j, matched = 0, extra = 0;
	int rc, order_ok = 1;

	rc = read_all(o, rd, stream_id, &d);
	is_rc(rc, 0, "read every shard of the stream");
	ok(d != NULL && d->nshards >= 1 && strcmp(d->table, tab) == 0 &&
	    d->status == OTS_STREAM_ACTIVE && d->expiration_hours == 24,
	    "DescribeStream: %zu shard(s), table, status, expiration", d != NULL ? d->nshards : 0);
	/* match records to expectations, per pk in write order */
	for (i = 0; i < rd->nrecs; i++) {
		const struct rec *r = &rd->recs[i];
		struct expect *e = NULL;

		for (j = 0; j < nexpects; j++)
			if (!expects[j].seen && strcmp(expects[j].pk, r->pk) == 0) {
				e = &expects[j];
				break;
			}
		if (e == NULL) {
			printf("# unexpected record %s %s\n", ots_action_name(r->action), r->pk);
			extra++;
			continue;
		}
		e->seen = 1;
		if (e->action != r->action || r->row->nattrs != e->nattrs ||
		    !row_pk_is(r->row, r->pk) || r->ts_us <= 0) {
			printf("# record %s: got %s with %zu cells, want %s with %zu\n", r->pk,
			    ots_action_name(r->action), r->row->nattrs, ots_action_name(e->action),
			    e->nattrs);
			order_ok = 0;
			continue;
		}
		for (j = 0; j < e->nattrs; j++)
			if (!cell_eq(&r->row->attrs[j], &e->attrs[j], e->server_ts)) {
				printf("# record %s %s: cell %zu (%s) differs\n", r->pk,
				    ots_action_name(r->action), j, e->attrs[j].name);
				order_ok = 0;
			}
		matched++;
	}
	is_int(matched, nexpects, "every committed change has a stream record");
	is_int(extra, 0, "no record for refused writes");
	ok(order_ok, "records carry the written action, cells, ops and timestamps, in write order");

	/* GetShardIterator by timestamp seeks to the first record at/after it */
	{
		const struct rec *base = NULL;
		struct reader *r2 = calloc(1, sizeof(*r2));
		struct ots_error err;
		struct shardpos *p;

		for (i = 0; i < rd->nrecs && base == NULL; i++) {
			size_t n = 0;

			for (j = 0; j < rd->nrecs && base == NULL; j++)
				if (strcmp(rd->recs[j].shard, rd->recs[i].shard) == 0 && ++n == 3)
					base = &rd->recs[j];
		}
		if (base != NULL && (p = pos_of(r2, base->shard)) != NULL) {
			rc = ots_get_shard_iterator(o, stream_id, base->shard, base->ts_us, &p->iter, &err);
			if (rc == 0)
				rc = read_shard(o, r2, stream_id, base->shard, 100, 0);
			ok(rc >= 0 && r2->nrecs >= 1 && r2->recs[0].ts_us == base->ts_us &&
			    strcmp(r2->recs[0].pk, base->pk) == 0,
			    "GetShardIterator(timestamp) starts at the record of that time");
		} else {
			ok(0, "no shard with 3 records for the timestamp seek");
		}
		reader_free(r2);
		free(r2);
	}
	ots_stream_desc_free(d);
	reader_free(rd);
	free(rd);
}

/* split + merge while reading; parents before children */
static void
test_split_merge(struct ots *o)
{
	static const char *stab = "t_split";
	struct ots_pk_schema pk[3] = {
		{ "pk", OTS_PK_STRING, 0 }, { "n", OTS_PK_INTEGER, 0 }, { "b", OTS_PK_BINARY, 0 },
	};
	struct ots_create_table ct;
	struct ots_table_desc *td = NULL;
	struct ots_stream_desc *d = NULL;
	struct reader *rd = calloc(1, sizeof(*rd));
	struct ots_error err;
	struct plainbuf_cell at;
	struct plainbuf_value v;
	struct plainbuf_row row;
	char sid[128] = "", s0[96] = "", cmd[512], *old_it = NULL;
	char kids[2][96] = { "", "" };
	struct key k;
	char name[16];
	size_t i, j, nk = 0, nkeys[60] = { 0 };
	int rc, round, parent_first = 1, all_once = 1, kid_seen = 0;
	int64_t parent_max = 0, child_min = INT64_MAX;

	memset(&ct, 0, sizeof(ct));
	ct.table = stab;
	ct.pk = pk;
	ct.npk = 3;
	ct.options.ttl = -1;
	ct.options.max_versions = 1;
	ct.options.allow_update = -1;
	ct.stream.set = 1;
	ct.stream.enable = 1;
	ct.stream.expiration_hours = 1;
	rc = ots_create_table(o, &ct, &err);
	is_rc(rc, 0, "CreateTable %s (%s)", stab, err.message);
	if (ots_describe_table(o, stab, &td, &err) == 0 && td->stream_id != NULL)
		snprintf(sid, sizeof(sid), "%s", td->stream_id);
	ots_table_desc_free(td);

	memset(&row, 0, sizeof(row));
	row.npk = 3;
	row.attrs = &at;
	row.nattrs = 1;
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 20; i++) {
			snprintf(name, sizeof(name), "k%02zu", (size_t)round * 20 + i);
			v = plainbuf_int((int64_t)(round * 20 + (int)i));
			plainbuf_cell_set(&at, "v", &v, PLAINBUF_OP_PUT, -1);
			row.pk = key(&k, name);
			if (ots_put_row(o, stab, &row, OTS_IGNORE, &err) != 0)
				printf("# PutRow %s: %s\n", name, err.message);
		}
		if (round == 0) {
			/* start reading shard 0, then split it under the reader */
			rc = ots_describe_stream_all(o, sid, &d, &err);
			ok(rc == 0 && d->nshards >= 2, "new stream has %zu shards", d != NULL ? d->nshards : 0);
			if (rc != 0)
				break;
			snprintf(s0, sizeof(s0), "%s", d->shards[0].shard_id);
			ots_stream_desc_free(d);
			d = NULL;
			rc = read_shard(o, rd, sid, s0, 2, 1);
			ok(rc == 0 && rd->nrecs > 0, "read a first batch of %s", s0);
			snprintf(cmd, sizeof(cmd), "split %s %s", stab, s0);
			is_int(emu_cmd(cmd), 200, "admin: %s", cmd);
		} else if (round == 1) {
			/* finish the parent from the saved iterator: it must end */
			rc = read_shard(o, rd, sid, s0, 2, 0);
			is_int(rc, 1, "split parent %s read to its end (no next iterator)", s0);
			rc = ots_describe_stream_all(o, sid, &d, &err);
			for (i = 0, j = 0; rc == 0 && i < d->nshards; i++)
				if (d->shards[i].parent_id != NULL &&
				    strcmp(d->shards[i].parent_id, s0) == 0 && j < 2)
					snprintf(kids[j++], sizeof(kids[0]), "%s", d->shards[i].shard_id);
			ok(rc == 0 && j == 2, "DescribeStream: two children with parent_id %s", s0);
			ots_stream_desc_free(d);
			d = NULL;
			rc = read_all(o, rd, sid, NULL);
			is_rc(rc, 0, "read the children after their parent");
			snprintf(cmd, sizeof(cmd), "merge %s %s %s", stab, kids[0], kids[1]);
			is_int(emu_cmd(cmd), 200, "admin: %s", cmd);
		}
	}
	/* read everything: merged parents first, then the merge child */
	rc = read_all(o, rd, sid, &d);
	is_rc(rc, 0, "read all shards after the merge");
	if (rc == 0) {
		int merged = 0;

		for (i = 0; i < d->nshards; i++)
			if (d->shards[i].parent_id != NULL && d->shards[i].parent_sibling_id != NULL &&
			    ((strcmp(d->shards[i].parent_id, kids[0]) == 0 &&
			    strcmp(d->shards[i].parent_sibling_id, kids[1]) == 0) ||
			    (strcmp(d->shards[i].parent_id, kids[1]) == 0 &&
			    strcmp(d->shards[i].parent_sibling_id, kids[0]) == 0)))
				merged = 1;
		ok(merged, "DescribeStream: merge child with parent_id + parent_sibling_id");
		{
			/* shard paging: pages of 2 give the same shards in the same order */
			struct ots_stream_desc *pg = NULL;
			char *start = NULL;
			size_t got = 0, pages = 0;
			int same = 1;

			do {
				if (ots_describe_stream(o, sid, start, 2, &pg, &err) != 0) {
					same = 0;
					break;
				}
				pages++;
				for (i = 0; i < pg->nshards; i++, got++)
					if (got >= d->nshards ||
					    strcmp(pg->shards[i].shard_id, d->shards[got].shard_id) != 0)
						same = 0;
				if (pg->nshards > 2)
					same = 0;
				free(start);
				start = pg->next_shard_id != NULL ? strdup(pg->next_shard_id) : NULL;
				ots_stream_desc_free(pg);
				pg = NULL;
			} while (start != NULL && pages < 20);
			free(start);
			ok(same && got == d->nshards && pages >= 3,
			    "DescribeStream paging by 2: %zu shards in %zu pages", got, pages);
		}
		ok(shard_done(rd, kids[0]) && shard_done(rd, kids[1]) && shard_done(rd, s0),
		    "parent shards read to their end");
	}
	/* each key exactly once; children's records after the parent's */
	for (i = 0; i < rd->nrecs; i++) {
		const struct rec *r = &rd->recs[i];
		unsigned idx = 999;

		/* keys are "kNN" */
		if (r->pk[0] == 'k' && r->pk[1] >= '0' && r->pk[1] <= '9' && r->pk[2] >= '0' &&
		    r->pk[2] <= '9' && r->pk[3] == '\0')
			idx = (unsigned)(r->pk[1] - '0') * 10 + (unsigned)(r->pk[2] - '0');

		if (idx < 60)
			nkeys[idx]++;
		if (strcmp(r->shard, s0) == 0 && r->ts_us > parent_max)
			parent_max = r->ts_us;
		if ((strcmp(r->shard, kids[0]) == 0 || strcmp(r->shard, kids[1]) == 0) &&
		    r->ts_us < child_min)
			child_min = r->ts_us;
		if (strcmp(r->shard, kids[0]) == 0 || strcmp(r->shard, kids[1]) == 0)
			kid_seen = 1;
		else if (strcmp(r->shard, s0) == 0 && kid_seen)
			parent_first = 0;
	}
	for (i = 0; i < 60; i++) {
		nk += nkeys[i] > 0;
		all_once &= nkeys[i] == 1;
	}
	ok(all_once && nk == 60 && rd->nrecs == 60, "60 puts -> 60 records, each key once (%zu)",
	    rd->nrecs);
	ok(parent_first && parent_max <= child_min, "children's records come after the parent's");

	/* trim: an old iterator is refused with OTSTrimmedDataAccess */
	if (d != NULL && d->nshards > 0 &&
	    ots_get_shard_iterator(o, sid, d->shards[0].shard_id, -1, &old_it, &err) == 0) {
		struct ots_record_batch *b = NULL;

		snprintf(cmd, sizeof(cmd), "trim %s 0", stab);
		is_int(emu_cmd(cmd), 200, "admin: %s", cmd);
		rc = ots_get_stream_record(o, old_it, 10, &b, &err);
		ok(rc == ENG_ETRIMMED && strcmp(err.code, "OTSTrimmedDataAccess") == 0 &&
		    err.attempts == 1, "iterator before the trim: ENG_ETRIMMED (%s %s)", err.code,
		    err.message);
		ots_record_batch_free(b);
	} else {
		ok(0, "iterator for the trim test");
	}
	free(old_it);
	ots_stream_desc_free(d);
	reader_free(rd);
	free(rd);
}

static void
test_faults(struct ots *o)
{
	struct ots_names *names = NULL;
	struct ots *bad = NULL, *noretry = NULL;
	struct sign_cred *badcred = NULL;
	struct ots_error err;
	int rc;

	/* OTSServerBusy twice: retried, third attempt succeeds */
	is_int(th_emu_admin(emu.ots_url, "fault",
	    "svc=ots,op=ListTable,error=OTSServerBusy,status=503,count=2", NULL), 200,
	    "inject OTSServerBusy x2 on ListTable");
	rc = ots_list_table(o, &names, &err);
	ok(rc == 0 && err.attempts == 3, "ListTable retried through 2 x OTSServerBusy (%d attempts)",
	    err.attempts);
	ots_names_free(names);
	names = NULL;

	/* more busy answers than retries: ENG_ETHROTTLE with the server's message */
	is_int(th_emu_admin(emu.ots_url, "fault",
	    "svc=ots,op=ListTable,error=OTSServerBusy,status=503,count=10", NULL), 200,
	    "inject OTSServerBusy x10");
	rc = ots_list_table(o, &names, &err);
	ok(rc == ENG_ETHROTTLE && strcmp(err.code, "OTSServerBusy") == 0 && err.attempts == 4 &&
	    err.http_status == 503, "ListTable gives up after 3 retries: %s (%d attempts)",
	    err.code, err.attempts);
	ots_names_free(names);
	names = NULL;
	is_int(th_emu_admin(emu.ots_url, "fault/clear", "", NULL), 200, "clear faults");

	/* busy on a write is retried as well (always-retryable code) */
	is_int(th_emu_admin(emu.ots_url, "fault",
	    "svc=ots,op=DeleteRow,error=OTSServerBusy,status=503,count=1", NULL), 200,
	    "inject OTSServerBusy x1 on DeleteRow");
	{
		struct key k;

		rc = ots_delete_row(o, "t_split", key(&k, "k00"), 3, OTS_IGNORE, &err);
		ok(rc == 0 && err.attempts == 2, "DeleteRow retried once through OTSServerBusy");
	}

	/* OTSParameterInvalid is never retried */
	is_int(th_emu_admin(emu.ots_url, "fault",
	    "svc=ots,op=ListTable,error=OTSParameterInvalid,status=400,count=3", NULL), 200,
	    "inject OTSParameterInvalid on ListTable");
	rc = ots_list_table(o, &names, &err);
	ok(rc == ENG_EREJECTED && strcmp(err.code, "OTSParameterInvalid") == 0 && err.attempts == 1,
	    "OTSParameterInvalid: no retry (%d attempt)", err.attempts);
	ots_names_free(names);
	names = NULL;
	is_int(th_emu_admin(emu.ots_url, "fault/clear", "", NULL), 200, "clear faults");

	/* max_retries 0: a busy answer fails at once */
	noretry = client(NULL, 0, NULL);
	is_int(th_emu_admin(emu.ots_url, "fault",
	    "svc=ots,op=ListTable,error=OTSServerBusy,status=503,count=1", NULL), 200,
	    "inject OTSServerBusy x1");
	rc = noretry != NULL ? ots_list_table(noretry, &names, &err) : -1;
	ok(rc == ENG_ETHROTTLE && err.attempts == 1, "maxRetries 0: no retry");
	ots_names_free(names);
	names = NULL;
	ots_free(noretry);
	is_int(th_emu_admin(emu.ots_url, "fault/clear", "", NULL), 200, "clear faults");

	/* wrong secret: refused by the service */
	bad = client("wrongsecret", 3, &badcred);
	rc = bad != NULL ? ots_list_table(bad, &names, &err) : -1;
	ok(rc == ENG_ESIG && strcmp(err.code, "OTSAuthFailed") == 0 && err.attempts == 1 &&
	    err.http_status == 403, "wrong key: OTSAuthFailed (%s)", err.message);
	ots_names_free(names);
	ots_free(bad);
	sign_cred_free(badcred);
}

/* UpdateTable (options, stream) and DeleteTable */
static void
test_ddl(struct ots *o)
{
	struct ots_table_options to = { 0, 5, 0, -1 };
	struct ots_stream_spec ss = { 1, 0, 0 };
	struct ots_table_desc *d = NULL;
	struct ots_names *names = NULL;
	struct ots_error err;
	size_t i;
	int rc, found = 0;

	rc = ots_update_table(o, tab, &to, NULL, &err);
	is_rc(rc, 0, "UpdateTable max_versions 5 (%s)", err.message);
	rc = ots_describe_table(o, tab, &d, &err);
	ok(rc == 0 && d->options.max_versions == 5 && d->stream_enabled,
	    "DescribeTable after UpdateTable: max_versions 5, stream still on");
	ots_table_desc_free(d);
	d = NULL;
	rc = ots_update_table(o, "t_split", NULL, &ss, &err);
	is_rc(rc, 0, "UpdateTable t_split: disable the stream (%s)", err.message);
	rc = ots_describe_table(o, "t_split", &d, &err);
	ok(rc == 0 && !d->stream_enabled, "DescribeTable t_split: stream disabled");
	ots_table_desc_free(d);
	d = NULL;
	rc = ots_delete_table(o, "t_split", &err);
	is_rc(rc, 0, "DeleteTable t_split (%s)", err.message);
	rc = ots_describe_table(o, "t_split", &d, &err);
	ok(rc == ENG_ENOTFOUND, "DescribeTable t_split after DeleteTable: not found");
	ots_table_desc_free(d);
	rc = ots_delete_table(o, "t_split", &err);
	ok(rc == ENG_ENOTFOUND && strcmp(err.code, "OTSObjectNotExist") == 0,
	    "DeleteTable twice: OTSObjectNotExist");
	rc = ots_list_table(o, &names, &err);
	for (i = 0; rc == 0 && i < names->n; i++)
		found |= strcmp(names->names[i], "t_split") == 0;
	ok(rc == 0 && !found, "ListTable no longer lists t_split");
	ots_names_free(names);
}

/* response checks and transport failures, through the fault-injecting transport */
static void
test_transport(void)
{
	struct http_transport *curl = NULL, *ft = NULL;
	struct ots_config cfg;
	struct ots *o = NULL;
	struct ots_names *names = NULL;
	struct ots_error err;
	struct plainbuf_cell at;
	struct plainbuf_value v = plainbuf_int(1);
	struct plainbuf_row row;
	struct http_fault_rule fr;
	struct key k;
	static const struct http_hdr bad_sig[] = {
		{ "x-ots-contentmd5", "1B2M2Y8AsgTpgAmY7PhCfg==" },
		{ "x-ots-contenttype", "protocol buffer" },
		{ "x-ots-requestid", "req-1" },
		{ "x-ots-date", "2024-01-01T00:00:00.000Z" },
		{ "authorization", "OTS testid:AAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
	};
	static const struct http_hdr bad_md5[] = {
		{ "x-ots-contentmd5", "AAAAAAAAAAAAAAAAAAAAAA==" },
		{ "x-ots-contenttype", "protocol buffer" },
		{ "x-ots-requestid", "req-2" },
		{ "x-ots-date", "2024-01-01T00:00:00.000Z" },
		{ "authorization", "OTS testid:AAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
	};
	int rc;

	if (http_curl_new(NULL, &curl) != 0 || http_fault_new(curl, true, &ft) != 0) {
		ok(0, "fault transport");
		http_transport_free(curl);
		return;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.endpoint = emu.ots_url;
	cfg.instance = INSTANCE;
	cfg.cred = cred;
	cfg.max_retries = 2;
	cfg.retry_base_ms = 1;
	cfg.retry_max_ms = 5;
	cfg.transport = ft;
	if (ots_new(&cfg, &o, NULL) != 0) {
		ok(0, "client over the fault transport");
		http_transport_free(ft);
		return;
	}

	/* 200 without the required headers: malformed, retried (idempotent) */
	memset(&fr, 0, sizeof(fr));
	fr.kind = HTTP_FAULT_STATUS;
	fr.status = 200;
	fr.count = 1;
	(void)http_fault_add(ft, &fr);
	rc = ots_list_table(o, &names, &err);
	ok(rc == 0 && err.attempts == 2, "200 without x-ots-* headers is retried, then OK");
	ots_names_free(names);
	names = NULL;
	fr.count = 3;
	(void)http_fault_add(ft, &fr);
	rc = ots_list_table(o, &names, &err);
	ok(rc == ENG_EPROTO && err.attempts == 3 && strstr(err.message, "header") != NULL,
	    "200 without headers, 3 times: ENG_EPROTO (%s)", err.message);
	http_fault_clear(ft);

	/* a response whose signature does not verify */
	fr.count = 3;
	fr.hdrs = bad_sig;
	fr.nhdrs = 5;
	(void)http_fault_add(ft, &fr);
	rc = ots_list_table(o, &names, &err);
	ok(rc == ENG_ESIG && strstr(err.message, "signature") != NULL,
	    "forged response signature: ENG_ESIG (%s)", err.message);
	http_fault_clear(ft);

	/* a body that does not match x-ots-contentmd5 */
	fr.count = 3;
	fr.hdrs = bad_md5;
	(void)http_fault_add(ft, &fr);
	rc = ots_list_table(o, &names, &err);
	ok(rc == ENG_EPROTO && strstr(err.message, "MD5") != NULL,
	    "response MD5 mismatch: ENG_EPROTO (%s)", err.message);
	http_fault_clear(ft);

	/* connection failure: retried for reads, not for writes */
	memset(&fr, 0, sizeof(fr));
	fr.kind = HTTP_FAULT_CONN;
	fr.count = 1;
	(void)http_fault_add(ft, &fr);
	rc = ots_list_table(o, &names, &err);
	ok(rc == 0 && err.attempts == 2, "connection failure on ListTable: retried");
	ots_names_free(names);
	names = NULL;
	fr.kind = HTTP_FAULT_LOST;
	(void)http_fault_add(ft, &fr);
	memset(&row, 0, sizeof(row));
	plainbuf_cell_set(&at, "i", &v, PLAINBUF_OP_PUT, -1);
	row.pk = key(&k, "lost");
	row.npk = 3;
	row.attrs = &at;
	row.nattrs = 1;
	rc = ots_put_row(o, tab, &row, OTS_IGNORE, &err);
	ok(rc == ENG_ECONN && err.attempts == 1,
	    "answer of a PutRow lost: ENG_ECONN, not retried (%d attempt)", err.attempts);
	http_fault_clear(ft);

	/* 5xx with an unknown code: retried for reads only */
	memset(&fr, 0, sizeof(fr));
	fr.kind = HTTP_FAULT_STATUS;
	fr.status = 502;
	fr.body = "bad gateway";
	fr.count = 1;
	(void)http_fault_add(ft, &fr);
	rc = ots_list_table(o, &names, &err);
	ok(rc == 0 && err.attempts == 2, "502 without a Table Store error on ListTable: retried");
	ots_names_free(names);
	names = NULL;
	(void)http_fault_add(ft, &fr);
	rc = ots_put_row(o, tab, &row, OTS_IGNORE, &err);
	ok(rc == ENG_ERETRYABLE && err.attempts == 1 && err.http_status == 502,
	    "502 on PutRow: not retried (%s)", err.message);
	http_fault_clear(ft);
	ots_free(o);
	http_transport_free(ft);
}

/* an STS token is sent as x-ots-ststoken and covered by the signature */
static void
test_sts(void)
{
	struct sign_cred *c = NULL;
	struct ots_config cfg;
	struct ots *o = NULL;
	struct ots_names *names = NULL;
	struct ots_error err;
	int rc = -1;

	memset(&cfg, 0, sizeof(cfg));
	cfg.endpoint = emu.ots_url;
	cfg.instance = INSTANCE;
	if (sign_cred_new(AK_ID, AK_SECRET, "sts-token-1", &c) == 0) {
		cfg.cred = c;
		if (ots_new(&cfg, &o, NULL) == 0)
			rc = ots_list_table(o, &names, &err);
	}
	ok(rc == 0, "request with an STS token header is accepted (signed over x-ots-ststoken)");
	ots_names_free(names);
	ots_free(o);
	sign_cred_free(c);
}

static void
test_config(void)
{
	struct ots_config cfg;
	struct eng_errbuf eb = { "" };
	struct ots *o = NULL;
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.cred = cred;
	cfg.endpoint = "https://myinst.cn-hangzhou.ots.aliyuncs.com/";
	rc = ots_new(&cfg, &o, &eb);
	ok(rc == 0 && strcmp(ots_instance(o), "myinst") == 0,
	    "instance taken from https://myinst.cn-hangzhou.ots.aliyuncs.com/");
	ots_free(o);
	o = NULL;
	cfg.endpoint = "http://127.0.0.1:1";
	rc = ots_new(&cfg, &o, &eb);
	ok(rc == ENG_EINVAL && strstr(eb.msg, "instance") != NULL,
	    "loopback endpoint without instance refused: %s", eb.msg);
	cfg.endpoint = "ftp://x";
	cfg.instance = "i";
	rc = ots_new(&cfg, &o, &eb);
	ok(rc == ENG_EINVAL, "ftp:// endpoint refused: %s", eb.msg);
}

int
main(int argc, char **argv)
{
	struct ots *o = NULL, *o2 = NULL;
	const struct th_emu_opts emu_opts = {
		.name = "difs-otsclient",
		.access_key = AK_ID ":" AK_SECRET,
		.ots_instance = INSTANCE,
	};

	if (argc < 2 || access(argv[1], X_OK) != 0) {
		printf("1..0 # SKIP difs-emu not built (%s)\n", argc < 2 ? "no path" : argv[1]);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	if (sign_cred_new(AK_ID, AK_SECRET, NULL, &cred) != 0)
		return 1;
	if (th_emu_start(&emu, argv[1], &emu_opts) != 0) {
		printf("not ok 1 - difs-emu did not start\n1..1\n");
		th_emu_stop(&emu);
		return 1;
	}
	printf("# difs-emu at %s\n", emu.ots_url);
	test_config();
	o = client(NULL, 3, NULL);
	ok(o != NULL, "client for %s", emu.ots_url);
	if (o != NULL) {
		test_tables(o);
		test_writes(o);
		test_batch_write(o);
		test_reads(o);
		/* a clone has its own connection and reads the same data */
		if (ots_clone(o, &o2) == 0) {
			test_stream_contents(o2);
			ots_free(o2);
		} else {
			ok(0, "ots_clone");
		}
		test_split_merge(o);
		test_faults(o);
		test_ddl(o);
		test_transport();
		test_sts();
	}
	ots_free(o);
	sign_cred_free(cred);
	th_emu_stop(&emu);
	return done_testing();
}
