/* SPDX-License-Identifier: MIT */
/*
 * reader_otsstream_ckpt.c - the DataX otsstreamreader status table:
 * creation/schema check, checkpoint rows, job description rows and
 * shard-time rows (formats in reader_otsstream_i.h, contrib/doc/tablestore.md
 * 4.3-4.5).  zlib's home: the job description's ShardIds_N columns are
 * java.util.zip.Deflater output (zlib format), so DataX and difs can read
 * each other's rows.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "buf.h"
#include "json.h"
#include "reader_otsstream_i.h"

#define ST_CKPT		"CheckpointForDataxReader"
#define ST_JOB		"DataxJobDesc"
#define ST_SHARDTIME	"ShardTimeCheckpointForDataxReader"
#define ST_TTL		2592000		/* 30 days */
#define ST_CHUNK	65536		/* ShardIds_N chunk size */
#define ST_READY_MS	120000		/* wait for a new table */

int
otsr_ots_fail(struct eng_errbuf *eb, int rc, const struct ots_error *err, const char *what)
{
	if (err == NULL)
		return eng_errbuf_set(eb, rc, "%s: %s", what, eng_strerror(rc));
	return eng_errbuf_set(eb, rc, "%s: %s%s%s", what, err->code,
	    err->code[0] != '\0' ? " " : "",
	    err->message[0] != '\0' ? err->message : eng_strerror(rc));
}

/* ---- keys --------------------------------------------------------------------- */

struct st_key {
	struct plainbuf_cell	c[3];
	struct plainbuf_value	v[3];
	char			val[512];
};

/* "%16d" as Java: right-aligned, space-padded to 16 */
static void
st_time(char *out, size_t n, int64_t t)
{
	(void)snprintf(out, n, "%16" PRId64, t);
}

static const struct plainbuf_cell *
st_key(struct st_key *k, const char *stream, const char *type, const char *val)
{
	memset(k, 0, sizeof(*k));
	(void)snprintf(k->val, sizeof(k->val), "%s", val);
	k->v[0] = plainbuf_str(stream);
	k->v[1] = plainbuf_str(type);
	k->v[2] = plainbuf_str(k->val);
	plainbuf_cell_set(&k->c[0], "StreamId", &k->v[0], PLAINBUF_OP_PUT, -1);
	plainbuf_cell_set(&k->c[1], "StatusType", &k->v[1], PLAINBUF_OP_PUT, -1);
	plainbuf_cell_set(&k->c[2], "StatusValue", &k->v[2], PLAINBUF_OP_PUT, -1);
	return k->c;
}

static const struct plainbuf_cell *
st_attr(const struct plainbuf_row *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nattrs; i++)
		if (strcmp(r->attrs[i].name, name) == 0 && r->attrs[i].has_value)
			return &r->attrs[i];
	return NULL;
}

static char *
st_attr_str(const struct plainbuf_row *r, const char *name)
{
	const struct plainbuf_cell *c = st_attr(r, name);

	if (c == NULL || c->value.type != PLAINBUF_VT_STRING)
		return strdup("");
	return strndup((const char *)c->value.p, c->value.len);
}

static int64_t
st_attr_int(const struct plainbuf_row *r, const char *name, int64_t def)
{
	const struct plainbuf_cell *c = st_attr(r, name);

	return c != NULL && c->value.type == PLAINBUF_VT_INTEGER ? c->value.i : def;
}

/* ---- the table ------------------------------------------------------------------ */

static int
st_schema_ok(const struct ots_table_desc *d)
{
	static const char *const names[] = { "StreamId", "StatusType", "StatusValue" };
	size_t i;

	if (d->npk != 3)
		return 0;
	for (i = 0; i < 3; i++)
		if (strcmp(d->pk[i].name, names[i]) != 0 || d->pk[i].type != OTS_PK_STRING)
			return 0;
	return 1;
}

static int
st_wait_ready(struct ots *o, const char *table, struct eng_errbuf *eb)
{
	struct plainbuf_cell lo[3], hi[3];
	struct plainbuf_value vmin = plainbuf_special(PLAINBUF_VT_INF_MIN);
	struct plainbuf_value vmax = plainbuf_special(PLAINBUF_VT_INF_MAX);
	static const char *const names[] = { "StreamId", "StatusType", "StatusValue" };
	struct ots_range_req q;
	struct ots_range_page *pg = NULL;
	struct ots_error err;
	int i, rc = 0, waited = 0;

	for (i = 0; i < 3; i++) {
		plainbuf_cell_set(&lo[i], names[i], &vmin, PLAINBUF_OP_PUT, -1);
		plainbuf_cell_set(&hi[i], names[i], &vmax, PLAINBUF_OP_PUT, -1);
	}
	memset(&q, 0, sizeof(q));
	q.table = table;
	q.start = lo;
	q.nstart = 3;
	q.end = hi;
	q.nend = 3;
	q.limit = 1;
	q.opts.max_versions = 1;
	for (;;) {
		rc = ots_get_range(o, &q, &pg, &err);
		ots_range_page_free(pg);
		pg = NULL;
		if (rc == 0)
			return 0;
		if (rc != ENG_ERETRYABLE || waited >= ST_READY_MS)
			return otsr_ots_fail(eb, rc, &err, "status table is not ready");
		struct timespec ts = { 0, 100 * 1000000L };

		nanosleep(&ts, NULL);
		waited += 100;
	}
}

int
otsr_status_ensure(struct ots *o, const char *table, struct eng_errbuf *eb)
{
	struct ots_pk_schema pk[3] = {
		{ "StreamId", OTS_PK_STRING, 0 }, { "StatusType", OTS_PK_STRING, 0 },
		{ "StatusValue", OTS_PK_STRING, 0 },
	};
	struct ots_create_table ct;
	struct ots_table_desc *d = NULL;
	struct ots_error err;
	char what[320];
	int rc;

	rc = ots_describe_table(o, table, &d, &err);
	if (rc == 0) {
		if (!st_schema_ok(d)) {
			(void)snprintf(what, sizeof(what), "otsstream: Unexpected table meta in status table '%s'", table);
			rc = eng_errbuf_set(eb, ENG_EINVAL,
			    "%s: its primary key must be (StreamId STRING, StatusType STRING, "
			    "StatusValue STRING); name another \"statusTable\"", what);
		}
		ots_table_desc_free(d);
		return rc;
	}
	if (rc != ENG_ENOTFOUND) {
		(void)snprintf(what, sizeof(what), "DescribeTable of status table '%s'", table);
		return otsr_ots_fail(eb, rc, &err, what);
	}
	memset(&ct, 0, sizeof(ct));
	ct.table = table;
	ct.pk = pk;
	ct.npk = 3;
	ct.options.ttl = ST_TTL;
	ct.options.max_versions = 1;
	ct.options.allow_update = -1;
	rc = ots_create_table(o, &ct, &err);
	if (rc != 0 && rc != ENG_ECONFLICT) {
		(void)snprintf(what, sizeof(what), "CreateTable of status table '%s'", table);
		return otsr_ots_fail(eb, rc, &err, what);
	}
	return st_wait_ready(o, table, eb);
}

/* ---- checkpoints ------------------------------------------------------------------ */

void
otsr_ckpts_free(struct otsr_ckpts *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].shard);
		free(c->v[i].value);
		free(c->v[i].version);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

struct st_scan {
	struct otsr_ckpts	*out;
	size_t			 prefix;	/* strlen("%16d\t") */
	int			 rc;
};

static int
st_ckpt_row(void *arg, const struct plainbuf_row *r)
{
	struct st_scan *s = arg;
	struct otsr_ckpts *c = s->out;
	struct otsr_ckpt *k, *nv;
	const struct plainbuf_value *v;

	if (r->npk != 3 || r->pk[2].value.type != PLAINBUF_VT_STRING ||
	    r->pk[2].value.len <= s->prefix)
		return 0;
	v = &r->pk[2].value;
	if ((nv = reallocarray(c->v, c->n + 1, sizeof(*c->v))) == NULL)
		return -ENOMEM;
	c->v = nv;
	k = &c->v[c->n];
	memset(k, 0, sizeof(*k));
	k->shard = strndup((const char *)v->p + s->prefix, v->len - s->prefix);
	k->value = st_attr_str(r, "Checkpoint");
	k->version = st_attr_str(r, "Version");
	k->sent = st_attr_int(r, "SendRecordCount", 0);
	c->n++;
	if (k->shard == NULL || k->value == NULL || k->version == NULL)
		return -ENOMEM;
	return 0;
}

int
otsr_ckpts_get(struct ots *o, const char *table, const char *stream, int64_t t,
    struct otsr_ckpts *out, struct eng_errbuf *eb)
{
	struct st_key ks, ke, kl;
	struct st_scan s;
	struct ots_range_req q;
	struct plainbuf_rows *rows = NULL;
	struct ots_error err;
	char ts[32], v[64];
	int rc;

	memset(out, 0, sizeof(*out));
	out->legacy_count = -1;
	memset(&s, 0, sizeof(s));
	s.out = out;
	st_time(ts, sizeof(ts), t);
	(void)snprintf(v, sizeof(v), "%s\t", ts);
	s.prefix = strlen(v);
	memset(&q, 0, sizeof(q));
	q.table = table;
	q.start = st_key(&ks, stream, ST_CKPT, v);
	q.nstart = 3;
	(void)snprintf(v, sizeof(v), "%s\t\x7f", ts);
	q.end = st_key(&ke, stream, ST_CKPT, v);
	q.nend = 3;
	q.opts.max_versions = 1;
	rc = ots_get_range_each(o, &q, st_ckpt_row, &s, &err);
	if (rc == -ENOMEM)
		goto out;
	if (rc != 0) {
		otsr_ots_fail(eb, rc, &err, "reading checkpoints from the status table");
		goto out;
	}
	/* the legacy ShardCount row */
	rc = ots_get_row(o, table, st_key(&kl, stream, ST_CKPT, ts), 3, NULL, &rows, &err);
	if (rc != 0) {
		otsr_ots_fail(eb, rc, &err, "reading the legacy checkpoint row");
		goto out;
	}
	if (rows->nrows == 1)
		out->legacy_count = st_attr_int(&rows->rows[0], "ShardCount", -1);
	plainbuf_rows_free(rows);
out:
	if (rc != 0)
		otsr_ckpts_free(out);
	return rc;
}

int
otsr_ckpt_put(struct ots *o, const char *table, const char *stream, int64_t t,
    const char *shard, const char *value, const char *version, int64_t sent,
    struct eng_errbuf *eb)
{
	struct st_key k;
	struct plainbuf_cell a[4];
	struct plainbuf_value va[4];
	struct plainbuf_row row;
	struct ots_error err;
	char ts[32], v[512];
	int rc;

	st_time(ts, sizeof(ts), t);
	(void)snprintf(v, sizeof(v), "%s\t%s", ts, shard);
	memset(&row, 0, sizeof(row));
	row.pk = st_key(&k, stream, ST_CKPT, v);
	row.npk = 3;
	va[0] = plainbuf_str(version);
	va[1] = plainbuf_str(value);
	va[2] = plainbuf_int(0);
	va[3] = plainbuf_int(sent);
	plainbuf_cell_set(&a[0], "Version", &va[0], PLAINBUF_OP_PUT, -1);
	plainbuf_cell_set(&a[1], "Checkpoint", &va[1], PLAINBUF_OP_PUT, -1);
	plainbuf_cell_set(&a[2], "SkipCount", &va[2], PLAINBUF_OP_PUT, -1);
	plainbuf_cell_set(&a[3], "SendRecordCount", &va[3], PLAINBUF_OP_PUT, -1);
	row.attrs = a;
	row.nattrs = sent > 0 ? 4 : 3;
	if ((rc = ots_put_row(o, table, &row, OTS_IGNORE, &err)) != 0)
		return otsr_ots_fail(eb, rc, &err, "writing a checkpoint to the status table");
	return 0;
}

int
otsr_ckpt_delete(struct ots *o, const char *table, const char *stream, int64_t t,
    const char *shard, struct eng_errbuf *eb)
{
	struct st_key k;
	struct ots_error err;
	char ts[32], v[512];
	int rc;

	st_time(ts, sizeof(ts), t);
	(void)snprintf(v, sizeof(v), "%s\t%s", ts, shard);
	rc = ots_delete_row(o, table, st_key(&k, stream, ST_CKPT, v), 3, OTS_IGNORE, &err);
	if (rc != 0)
		return otsr_ots_fail(eb, rc, &err, "deleting an old checkpoint in the status table");
	return 0;
}

/* ---- shard-time checkpoints --------------------------------------------------------- */

int
otsr_shardtime_put(struct ots *o, const char *table, const char *stream,
    const char *shard, int64_t t, const char *iter, struct eng_errbuf *eb)
{
	struct st_key k;
	struct plainbuf_cell a;
	struct plainbuf_value va = plainbuf_str(iter);
	struct plainbuf_row row;
	struct ots_error err;
	char ts[32], v[512];
	int rc;

	st_time(ts, sizeof(ts), t);
	(void)snprintf(v, sizeof(v), "%s\t%s", shard, ts);
	memset(&row, 0, sizeof(row));
	row.pk = st_key(&k, stream, ST_SHARDTIME, v);
	row.npk = 3;
	plainbuf_cell_set(&a, "Checkpoint", &va, PLAINBUF_OP_PUT, -1);
	row.attrs = &a;
	row.nattrs = 1;
	if ((rc = ots_put_row(o, table, &row, OTS_IGNORE, &err)) != 0)
		return otsr_ots_fail(eb, rc, &err, "writing a shard time checkpoint");
	return 0;
}

int
otsr_shardtime_find(struct ots *o, const char *table, const char *stream,
    const char *shard, int64_t lo, int64_t hi, char **iter, struct eng_errbuf *eb)
{
	struct st_key ks, ke;
	struct ots_range_req q;
	struct ots_range_page *pg = NULL;
	struct ots_error err;
	char ts[32], v[512];
	int rc;

	*iter = NULL;
	if (hi <= lo)
		return 0;
	memset(&q, 0, sizeof(q));
	q.table = table;
	q.direction = OTS_BACKWARD;
	st_time(ts, sizeof(ts), hi);
	(void)snprintf(v, sizeof(v), "%s\t%s", shard, ts);
	q.start = st_key(&ks, stream, ST_SHARDTIME, v);
	q.nstart = 3;
	st_time(ts, sizeof(ts), lo);
	(void)snprintf(v, sizeof(v), "%s\t%s", shard, ts);
	q.end = st_key(&ke, stream, ST_SHARDTIME, v);
	q.nend = 3;
	q.limit = 1;
	q.opts.max_versions = 1;
	if ((rc = ots_get_range(o, &q, &pg, &err)) != 0)
		return otsr_ots_fail(eb, rc, &err, "looking up shard time checkpoints");
	if (pg->rows != NULL && pg->rows->nrows > 0) {
		const struct plainbuf_cell *c = st_attr(&pg->rows->rows[0], "Checkpoint");

		if (c != NULL && c->value.type == PLAINBUF_VT_STRING &&
		    (*iter = strndup((const char *)c->value.p, c->value.len)) == NULL)
			rc = -ENOMEM;
	}
	ots_range_page_free(pg);
	return rc;
}

/* ---- job description ------------------------------------------------------------------ */

void
otsr_jobdesc_free(struct otsr_jobdesc *d)
{
	size_t i;

	if (d == NULL)
		return;
	free(d->version);
	free(d->table);
	free(d->stream_id);
	for (i = 0; i < d->nshards; i++)
		free(d->shards[i]);
	free(d->shards);
	free(d);
}

static int
st_inflate(const uint8_t *p, size_t n, struct buf *out)
{
	z_stream z;
	uint8_t chunk[16384];
	int zr, rc = 0;

	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			rc = ENG_EPROTO;
			break;
		}
		if ((rc = buf_add(out, chunk, sizeof(chunk) - z.avail_out)) != 0)
			break;
		if (zr == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
			rc = ENG_EPROTO;	/* truncated */
			break;
		}
	} while (zr != Z_STREAM_END);
	inflateEnd(&z);
	return rc;
}

static int
st_shards_parse(const char *s, size_t n, struct otsr_jobdesc *d)
{
	struct json_doc *doc = NULL;
	const struct json *a, *e;
	int rc;

	if ((rc = json_parse(s, n, &doc, NULL)) != 0)
		return rc == -ENOMEM ? rc : ENG_EPROTO;
	a = json_doc_root(doc);
	rc = ENG_EPROTO;
	if (json_type(a) != JSON_ARRAY)
		goto out;
	rc = -ENOMEM;
	if ((d->shards = calloc(json_size(a) + 1, sizeof(*d->shards))) == NULL)
		goto out;
	for (e = json_first(a); e != NULL; e = json_next(e)) {
		rc = ENG_EPROTO;
		if (json_str(e) == NULL)
			goto out;
		rc = -ENOMEM;
		if ((d->shards[d->nshards] = strdup(json_str(e))) == NULL)
			goto out;
		d->nshards++;
	}
	rc = 0;
out:
	json_doc_free(doc);
	return rc;
}

int
otsr_jobdesc_get(struct ots *o, const char *table, const char *stream, int64_t t,
    struct otsr_jobdesc **out, struct eng_errbuf *eb)
{
	struct st_key k;
	struct plainbuf_rows *rows = NULL;
	struct otsr_jobdesc *d = NULL;
	struct ots_error err;
	struct buf z, js;
	char ts[32], name[32];
	int rc, i;

	*out = NULL;
	buf_init(&z, BUF_MAX_DOC);
	buf_init(&js, BUF_MAX_DOC);
	st_time(ts, sizeof(ts), t);
	rc = ots_get_row(o, table, st_key(&k, stream, ST_JOB, ts), 3, NULL, &rows, &err);
	if (rc != 0) {
		otsr_ots_fail(eb, rc, &err, "reading the job description from the status table");
		goto out;
	}
	if (rows->nrows == 0)
		goto out;
	rc = -ENOMEM;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		goto out;
	const struct plainbuf_row *r = &rows->rows[0];

	d->version = st_attr_str(r, "Version");
	d->table = st_attr_str(r, "TableName");
	d->stream_id = st_attr_str(r, "JobStreamId");
	d->start = st_attr_int(r, "StartTime", -1);
	d->end = st_attr_int(r, "EndTime", -1);
	if (d->version == NULL || d->table == NULL || d->stream_id == NULL) {
		/* a stored row we cannot read is read back the same by a rerun */
		rc = eng_errbuf_set(eb, ENG_ECORRUPT, "the job description at %s in the status "
		    "table lacks Version, TableName or JobStreamId", ts);
		goto out;
	}
	for (i = 0;; i++) {
		const struct plainbuf_cell *c;

		(void)snprintf(name, sizeof(name), "ShardIds_%d", i);
		if ((c = st_attr(r, name)) == NULL || c->value.type != PLAINBUF_VT_BLOB)
			break;
		if ((rc = buf_add(&z, c->value.p, c->value.len)) != 0)
			goto out;
	}
	if ((rc = st_inflate((const uint8_t *)z.p, z.len, &js)) != 0 ||
	    (rc = st_shards_parse(js.p, js.len, d)) != 0) {
		if (rc != -ENOMEM)
			rc = eng_errbuf_set(eb, ENG_ECORRUPT, "the job description at %s in the "
			    "status table has unreadable ShardIds columns", ts);
		goto out;
	}
	*out = d;
	d = NULL;
	rc = 0;
out:
	otsr_jobdesc_free(d);
	plainbuf_rows_free(rows);
	buf_free(&z);
	buf_free(&js);
	return rc;
}

int
otsr_jobdesc_put(struct ots *o, const char *table, const struct otsr_jobdesc *d,
    struct eng_errbuf *eb)
{
	struct json *arr = NULL;
	struct st_key k;
	struct plainbuf_cell *a = NULL;
	struct plainbuf_value *va = NULL;
	struct plainbuf_row row;
	struct ots_error err;
	struct buf js;
	char ts[32], (*names)[32] = NULL;
	uint8_t *z = NULL;
	uLongf zlen;
	size_t i, nchunks, na = 0;
	int rc = -ENOMEM;

	buf_init(&js, BUF_MAX_DOC);
	if ((arr = json_new_array()) == NULL)
		goto out;
	for (i = 0; i < d->nshards; i++)
		if ((rc = json_arr_add(arr, json_new_str(d->shards[i]))) != 0)
			goto out;
	if ((rc = json_print(arr, 0, &js)) != 0)
		goto out;
	rc = -ENOMEM;
	zlen = compressBound((uLong)js.len);
	if ((z = malloc(zlen)) == NULL)
		goto out;
	if (compress2(z, &zlen, (const Bytef *)js.p, (uLong)js.len, Z_DEFAULT_COMPRESSION) != Z_OK)
		goto out;
	nchunks = (zlen + ST_CHUNK - 1) / ST_CHUNK;
	if ((a = calloc(nchunks + 5, sizeof(*a))) == NULL ||
	    (va = calloc(nchunks + 5, sizeof(*va))) == NULL ||
	    (names = calloc(nchunks + 1, sizeof(*names))) == NULL)
		goto out;
	for (i = 0; i < nchunks; i++) {
		size_t off = i * ST_CHUNK, n = zlen - off < ST_CHUNK ? zlen - off : ST_CHUNK;

		(void)snprintf(names[i], sizeof(names[i]), "ShardIds_%zu", i);
		va[na] = plainbuf_bytes(PLAINBUF_VT_BLOB, z + off, n);
		plainbuf_cell_set(&a[na], names[i], &va[na], PLAINBUF_OP_PUT, -1);
		na++;
	}
	va[na] = plainbuf_str(d->version);
	plainbuf_cell_set(&a[na], "Version", &va[na], PLAINBUF_OP_PUT, -1);
	na++;
	va[na] = plainbuf_str(d->table);
	plainbuf_cell_set(&a[na], "TableName", &va[na], PLAINBUF_OP_PUT, -1);
	na++;
	va[na] = plainbuf_str(d->stream_id);
	plainbuf_cell_set(&a[na], "JobStreamId", &va[na], PLAINBUF_OP_PUT, -1);
	na++;
	va[na] = plainbuf_int(d->start);
	plainbuf_cell_set(&a[na], "StartTime", &va[na], PLAINBUF_OP_PUT, -1);
	na++;
	va[na] = plainbuf_int(d->end);
	plainbuf_cell_set(&a[na], "EndTime", &va[na], PLAINBUF_OP_PUT, -1);
	na++;
	st_time(ts, sizeof(ts), d->end);
	memset(&row, 0, sizeof(row));
	row.pk = st_key(&k, d->stream_id, ST_JOB, ts);
	row.npk = 3;
	row.attrs = a;
	row.nattrs = na;
	if ((rc = ots_put_row(o, table, &row, OTS_IGNORE, &err)) != 0)
		otsr_ots_fail(eb, rc, &err, "writing the job description to the status table");
out:
	json_free(arr);
	buf_free(&js);
	free(z);
	free(a);
	free(va);
	free(names);
	return rc;
}
