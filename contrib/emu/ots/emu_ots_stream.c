/* SPDX-License-Identifier: MIT */
/*
 * emu_ots_stream.c - Table Store streams in difs-emu: shards (routing by a
 * hash of the first primary-key column, split and merge), stream records
 * (one per committed row change, keyed by shard, commit µs and row index),
 * iterators, trimming past the expiration time, and the operations
 * ListStream, DescribeStream, GetShardIterator and GetStreamRecord.
 *
 * Iterators are opaque strings: hex of (version, shard uid, position µs,
 * position index, stream stamp, check byte).  A position names the next
 * record to read: the first record whose (µs, index) is >= it.  Records
 * before a shard's trim position are gone; an iterator below it gets
 * OTSTrimmedDataAccess.  A closed shard read to its end returns no next
 * iterator.  Reads seek directly to the position (LMDB cursor), so a read
 * costs O(log n + limit) however long the stream is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ots.pb-c.h"

#include "emu_ots_i.h"
#include "log.h"
#include "num.h"

#define EMU_OTS_RECORDS_MAX	1000		/* GetStreamRecord records per call */
#define EMU_OTS_RECORDS_BYTES	((size_t)4 << 20)
#define EMU_OTS_SHARDS_PAGE	100		/* DescribeStream default page */
#define EMU_OTS_TRIM_EVERY_US	(10 * 1000000LL)
#define EMU_OTS_RECKEY		16		/* u32 uid, u64 µs, u32 index */
#define EMU_OTS_ITER_BYTES	22

/* ---- keys and iterators ---------------------------------------------------- */

static void
be_put(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t
be_get(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void
emu_ots_reckey(uint8_t k[EMU_OTS_RECKEY], uint32_t uid, int64_t ts, uint32_t idx)
{
	be_put(k, uid, 4);
	be_put(k + 4, (uint64_t)ts, 8);
	be_put(k + 12, idx, 4);
}

struct emu_ots_iter {
	uint32_t uid;
	int64_t	 ts;
	uint32_t idx;
	uint32_t stamp;
};

static void
emu_ots_iter_format(const struct emu_ots_iter *it, char out[2 * EMU_OTS_ITER_BYTES + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[EMU_OTS_ITER_BYTES];
	uint8_t sum = 0x5a;
	size_t i;

	b[0] = 1;
	be_put(b + 1, it->uid, 4);
	be_put(b + 5, (uint64_t)it->ts, 8);
	be_put(b + 13, it->idx, 4);
	be_put(b + 17, it->stamp, 4);
	for (i = 0; i < EMU_OTS_ITER_BYTES - 1; i++)
		sum = (uint8_t)(sum * 31 + b[i]);
	b[EMU_OTS_ITER_BYTES - 1] = sum;
	for (i = 0; i < EMU_OTS_ITER_BYTES; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * EMU_OTS_ITER_BYTES] = '\0';
}

static int
emu_ots_iter_parse(const char *s, struct emu_ots_iter *it)
{
	uint8_t b[EMU_OTS_ITER_BYTES], sum = 0x5a;
	size_t i;

	if (strlen(s) != 2 * EMU_OTS_ITER_BYTES)
		return -EINVAL;
	for (i = 0; i < 2 * EMU_OTS_ITER_BYTES; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return -EINVAL;
		if (i % 2 == 0)
			b[i / 2] = (uint8_t)(v << 4);
		else
			b[i / 2] |= (uint8_t)v;
	}
	for (i = 0; i < EMU_OTS_ITER_BYTES - 1; i++)
		sum = (uint8_t)(sum * 31 + b[i]);
	if (b[0] != 1 || b[EMU_OTS_ITER_BYTES - 1] != sum)
		return -EINVAL;
	it->uid = (uint32_t)be_get(b + 1, 4);
	it->ts = (int64_t)be_get(b + 5, 8);
	it->idx = (uint32_t)be_get(b + 13, 4);
	it->stamp = (uint32_t)be_get(b + 17, 4);
	return 0;
}

static uint32_t
emu_ots_hash(const struct plainbuf_value *v)
{
	uint32_t h = 2166136261u;
	uint8_t tmp[8];
	const uint8_t *p = tmp;
	size_t n = 8, i;

	if (v->type == PLAINBUF_VT_INTEGER) {
		for (i = 0; i < 8; i++)
			tmp[i] = (uint8_t)((uint64_t)v->i >> (8 * i));
	} else {
		p = v->p;
		n = v->len;
	}
	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

/* ---- shards ------------------------------------------------------------------------ */

static int
emu_ots_shard_add(struct emu_ots *ots, struct emu_ots_table *t, uint32_t lo, uint32_t hi,
    const char *parent, const char *sibling, struct emu_ots_shard **out)
{
	struct emu_ots_shard *n = realloc(t->shards, (t->nshards + 1) * sizeof(*n)), *s;

	if (n == NULL)
		return -ENOMEM;
	t->shards = n;
	s = &n[t->nshards++];
	memset(s, 0, sizeof(*s));
	s->uid = ots->next_uid++;
	s->lo = lo;
	s->hi = hi;
	s->created_us = emu_ots_now_us();
	snprintf(s->id, sizeof(s->id), "%08x%08x-%04x", t->uid, s->uid,
	    (unsigned)(s->created_us & 0xffff));
	snprintf(s->parent, sizeof(s->parent), "%s", parent != NULL ? parent : "");
	snprintf(s->sibling, sizeof(s->sibling), "%s", sibling != NULL ? sibling : "");
	if (out != NULL)
		*out = s;
	return 0;
}

int
emu_ots_stream_enable(struct emu_ots *ots, struct emu_ots_table *t, int32_t hours)
{
	uint64_t span, lo = 0;
	int i, n = t->nshards_init > 0 ? t->nshards_init : ots->default_shards;

	if (n < 1)
		n = 1;
	t->shards = NULL;
	t->nshards = 0;
	span = ((uint64_t)1 << 32) / (uint64_t)n;
	for (i = 0; i < n; i++) {
		uint64_t hi = i == n - 1 ? 0xffffffffULL : lo + span - 1;

		if (emu_ots_shard_add(ots, t, (uint32_t)lo, (uint32_t)hi, NULL, NULL, NULL) != 0) {
			free(t->shards);
			t->shards = NULL;
			t->nshards = 0;
			return -ENOMEM;
		}
		lo = hi + 1;
	}
	t->stream = 1;
	t->expiration_h = hours;
	t->stream_created_us = emu_ots_now_us();
	snprintf(t->stream_id, sizeof(t->stream_id), "%s_%lld", t->name,
	    (long long)t->stream_created_us);
	return 0;
}

/* records of one trim per shard and txn; the rest goes at the next trim
 * (the trim position already hides them) */
#define EMU_OTS_TRIM_CHUNK	200000

static long
emu_ots_shard_del_records(struct emu_ots_txn *txn, uint32_t uid, int64_t before_ts)
{
	uint8_t lo[EMU_OTS_RECKEY], hi[EMU_OTS_RECKEY];

	emu_ots_reckey(lo, uid, 0, 0);
	emu_ots_reckey(hi, uid, before_ts, 0);
	return emu_ots_del_range(txn, EMU_OTS_DB_RECS, lo, sizeof(lo), hi, sizeof(hi),
	    EMU_OTS_TRIM_CHUNK);
}

void
emu_ots_stream_drop(struct emu_ots_table *t)
{
	t->stream = 0;
	t->stream_id[0] = '\0';
	t->shards = NULL;	/* the caller frees the old array once committed */
	t->nshards = 0;
}

int
emu_ots_stream_purge(struct emu_ots *ots, const struct emu_ots_shard *shards, size_t n)
{
	uint8_t lo[EMU_OTS_RECKEY], hi[EMU_OTS_RECKEY];
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		emu_ots_reckey(lo, shards[i].uid, 0, 0);
		emu_ots_reckey(hi, shards[i].uid + 1, 0, 0);
		rc = emu_ots_purge(ots->store, EMU_OTS_DB_RECS, lo, sizeof(lo),
		    shards[i].uid == UINT32_MAX ? NULL : hi, sizeof(hi));
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
emu_ots_stream_append(struct emu_ots_txn *txn, struct emu_ots_table *t, int action,
    struct plainbuf_row *row, int64_t commit_us, uint32_t row_index)
{
	struct emu_ots_shard *s = NULL;
	uint8_t key[EMU_OTS_RECKEY];
	uint32_t h = emu_ots_hash(&row->pk[0].value);
	struct buf v;
	size_t i;
	int rc;

	for (i = 0; i < t->nshards; i++)
		if (!t->shards[i].closed && t->shards[i].lo <= h && h <= t->shards[i].hi)
			s = &t->shards[i];
	if (s == NULL) {
		log_warnx("emu ots: table %s has no open shard for hash %08x", t->name, h);
		return -EIO;
	}
	row->has_seq = 1;
	row->seq.epoch = 0;
	row->seq.ts_us = commit_us;
	row->seq.row_index = row_index;
	buf_init(&v, BUF_MAX_BODY);
	(void)buf_addc(&v, (char)action);
	if ((rc = plainbuf_encode_row(row, &v, NULL)) == 0) {
		emu_ots_reckey(key, s->uid, commit_us, row_index);
		rc = emu_ots_put(txn, EMU_OTS_DB_RECS, key, sizeof(key), v.p, v.len);
	}
	buf_free(&v);
	return rc;
}

/** Trim records older than cutoff_us in every shard of t (write txn, locks). */
static long
emu_ots_trim_table(struct emu_ots_txn *txn, struct emu_ots_table *t, int64_t cutoff_us)
{
	struct emu_ots_cur *cur = NULL;
	long total = 0;
	size_t i;
	int rc;

	if ((rc = emu_ots_cur_open(txn, EMU_OTS_DB_RECS, &cur)) != 0)
		return rc;
	for (i = 0; i < t->nshards; i++) {
		struct emu_ots_shard *s = &t->shards[i];
		uint8_t k[EMU_OTS_RECKEY];
		const void *kp, *vp;
		size_t kl, vl;
		long n;

		/* the newest record before the cutoff becomes the trim point */
		emu_ots_reckey(k, s->uid, cutoff_us, 0);
		rc = emu_ots_cur_seek(cur, k, sizeof(k), 1, &kp, &kl, &vp, &vl);
		if (rc == -ENOENT)
			continue;
		if (rc != 0)
			goto out;
		if (kl != EMU_OTS_RECKEY || be_get(kp, 4) != s->uid ||
		    memcmp(kp, k, sizeof(k)) >= 0)
			continue;
		s->trim_ts = (int64_t)be_get((const uint8_t *)kp + 4, 8);
		s->trim_idx = (uint32_t)be_get((const uint8_t *)kp + 12, 4) + 1;
		if ((n = emu_ots_shard_del_records(txn, s->uid, cutoff_us)) < 0) {
			rc = (int)n;
			goto out;
		}
		total += n;
	}
	rc = 0;
out:
	emu_ots_cur_close(cur);
	return rc != 0 ? rc : total;
}

/** Trim t at cutoff and persist (write_lock + meta_lock write held). */
static long
emu_ots_trim_commit(struct emu_ots *ots, struct emu_ots_table *t, int64_t cutoff_us)
{
	struct emu_ots_txn *txn;
	struct emu_ots_shard *saved;
	long n;
	int rc;

	if ((saved = malloc((t->nshards + 1) * sizeof(*saved))) == NULL)
		return -ENOMEM;
	memcpy(saved, t->shards, t->nshards * sizeof(*saved));
	if ((rc = emu_ots_txn_begin(ots->store, 0, &txn)) != 0) {
		free(saved);
		return rc;
	}
	n = emu_ots_trim_table(txn, t, cutoff_us);
	if (n < 0 || (n > 0 && (rc = emu_ots_store_put_table(txn, t)) != 0)) {
		emu_ots_txn_abort(txn);
		memcpy(t->shards, saved, t->nshards * sizeof(*saved));
		free(saved);
		return n < 0 ? n : rc;
	}
	if ((rc = emu_ots_txn_commit(txn)) != 0) {
		memcpy(t->shards, saved, t->nshards * sizeof(*saved));
		n = rc;
	}
	free(saved);
	return n;
}

void
emu_ots_stream_trim_maybe(struct emu_ots *ots)
{
	int64_t now = emu_ots_now_us(), last = atomic_load(&ots->last_trim_check_us);
	size_t i;

	if (now - last < EMU_OTS_TRIM_EVERY_US ||
	    !atomic_compare_exchange_strong(&ots->last_trim_check_us, &last, now))
		return;
	pthread_mutex_lock(&ots->write_lock);
	pthread_rwlock_wrlock(&ots->meta_lock);
	for (i = 0; i < ots->ntables; i++) {
		struct emu_ots_table *t = ots->tables[i];
		long n;

		if (!t->stream)
			continue;
		n = emu_ots_trim_commit(ots, t, now - (int64_t)t->expiration_h * 3600 * 1000000);
		if (n > 0)
			log_info("emu ots: trimmed %ld expired stream records of %s", n, t->name);
	}
	pthread_rwlock_unlock(&ots->meta_lock);
	pthread_mutex_unlock(&ots->write_lock);
}

/* ---- operations ------------------------------------------------------------------- */

static struct emu_ots_table *
emu_ots_stream_find(struct emu_ots *ots, const char *stream_id)
{
	size_t i;

	for (i = 0; i < ots->ntables; i++)
		if (ots->tables[i]->stream && strcmp(ots->tables[i]->stream_id, stream_id) == 0)
			return ots->tables[i];
	return NULL;
}

static int
emu_ots_no_stream(struct emu_ots_err *e)
{
	return emu_ots_fail(e, 404, "OTSObjectNotExist", "Requested stream data does not exist.");
}

int
emu_ots_list_stream(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e)
{
	Ots__ListStreamRequest *rq;
	Ots__ListStreamResponse rs = OTS__LIST_STREAM_RESPONSE__INIT;
	Ots__Stream *st = NULL, **stp = NULL;
	size_t i, n = 0;
	int rc = -ENOMEM;

	if ((rq = ots__list_stream_request__unpack(NULL, len, body)) == NULL)
		return EMU_OTS_BADPARAM(e, "Failed to parse the ProtoBuf message.");
	pthread_rwlock_rdlock(&ots->meta_lock);
	if (rq->table_name != NULL && emu_ots_table_find(ots, rq->table_name) == NULL) {
		rc = emu_ots_fail(e, 404, "OTSObjectNotExist", "Requested table does not exist.");
		goto out;
	}
	if ((st = calloc(ots->ntables + 1, sizeof(*st))) == NULL ||
	    (stp = calloc(ots->ntables + 1, sizeof(*stp))) == NULL)
		goto out;
	for (i = 0; i < ots->ntables; i++) {
		const struct emu_ots_table *t = ots->tables[i];

		if (!t->stream || (rq->table_name != NULL && strcmp(t->name, rq->table_name) != 0))
			continue;
		ots__stream__init(&st[n]);
		st[n].stream_id = (char *)(uintptr_t)t->stream_id;
		st[n].table_name = (char *)(uintptr_t)t->name;
		st[n].creation_time = t->stream_created_us;
		stp[n] = &st[n];
		n++;
	}
	rs.n_streams = n;
	rs.streams = stp;
	rc = emu_ots_pack(&rs, out);
out:
	pthread_rwlock_unlock(&ots->meta_lock);
	free(stp);
	free(st);
	ots__list_stream_request__free_unpacked(rq, NULL);
	return rc;
}

int
emu_ots_describe_stream(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e)
{
	Ots__DescribeStreamRequest *rq;
	Ots__DescribeStreamResponse rs = OTS__DESCRIBE_STREAM_RESPONSE__INIT;
	Ots__StreamShard *sh = NULL, **shp = NULL;
	const struct emu_ots_table *t;
	size_t i, start = 0, limit = EMU_OTS_SHARDS_PAGE, n = 0;
	int rc = -ENOMEM;

	if ((rq = ots__describe_stream_request__unpack(NULL, len, body)) == NULL)
		return EMU_OTS_BADPARAM(e, "Failed to parse the ProtoBuf message.");
	emu_ots_stream_trim_maybe(ots);
	pthread_rwlock_rdlock(&ots->meta_lock);
	if ((t = emu_ots_stream_find(ots, rq->stream_id)) == NULL) {
		rc = emu_ots_no_stream(e);
		goto out;
	}
	if (rq->has_shard_limit) {
		if (rq->shard_limit <= 0) {
			rc = EMU_OTS_BADPARAM(e, "The shard limit must be greater than 0.");
			goto out;
		}
		limit = (size_t)rq->shard_limit;
	}
	if (rq->inclusive_start_shard_id != NULL) {
		for (start = 0; start < t->nshards; start++)
			if (strcmp(t->shards[start].id, rq->inclusive_start_shard_id) == 0)
				break;
		if (start == t->nshards) {
			rc = EMU_OTS_BADPARAM(e, "The start shard id '%s' does not exist.",
			    rq->inclusive_start_shard_id);
			goto out;
		}
	}
	if ((sh = calloc(limit < t->nshards ? limit + 1 : t->nshards + 1, sizeof(*sh))) == NULL ||
	    (shp = calloc(limit < t->nshards ? limit + 1 : t->nshards + 1, sizeof(*shp))) == NULL)
		goto out;
	for (i = start; i < t->nshards && n < limit; i++, n++) {
		const struct emu_ots_shard *s = &t->shards[i];

		ots__stream_shard__init(&sh[n]);
		sh[n].shard_id = (char *)(uintptr_t)s->id;
		if (s->parent[0] != '\0')
			sh[n].parent_id = (char *)(uintptr_t)s->parent;
		if (s->sibling[0] != '\0')
			sh[n].parent_sibling_id = (char *)(uintptr_t)s->sibling;
		shp[n] = &sh[n];
	}
	if (i < t->nshards)
		rs.next_shard_id = (char *)(uintptr_t)t->shards[i].id;
	rs.stream_id = (char *)(uintptr_t)t->stream_id;
	rs.expiration_time = t->expiration_h;
	rs.table_name = (char *)(uintptr_t)t->name;
	rs.creation_time = t->stream_created_us;
	rs.stream_status = OTS__STREAM_STATUS__STREAM_ACTIVE;
	rs.n_shards = n;
	rs.shards = shp;
	rc = emu_ots_pack(&rs, out);
out:
	pthread_rwlock_unlock(&ots->meta_lock);
	free(shp);
	free(sh);
	ots__describe_stream_request__free_unpacked(rq, NULL);
	return rc;
}

int
emu_ots_get_shard_iterator(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e)
{
	Ots__GetShardIteratorRequest *rq;
	Ots__GetShardIteratorResponse rs = OTS__GET_SHARD_ITERATOR_RESPONSE__INIT;
	const struct emu_ots_table *t;
	const struct emu_ots_shard *s = NULL;
	struct emu_ots_iter it;
	char iter[2 * EMU_OTS_ITER_BYTES + 1];
	size_t i;
	int rc = -1;

	if ((rq = ots__get_shard_iterator_request__unpack(NULL, len, body)) == NULL)
		return EMU_OTS_BADPARAM(e, "Failed to parse the ProtoBuf message.");
	emu_ots_stream_trim_maybe(ots);
	pthread_rwlock_rdlock(&ots->meta_lock);
	if ((t = emu_ots_stream_find(ots, rq->stream_id)) == NULL) {
		emu_ots_no_stream(e);
		goto out;
	}
	for (i = 0; i < t->nshards; i++)
		if (strcmp(t->shards[i].id, rq->shard_id) == 0)
			s = &t->shards[i];
	if (s == NULL) {
		emu_ots_fail(e, 404, "OTSObjectNotExist", "Requested shard does not exist.");
		goto out;
	}
	if (rq->has_timestamp && rq->timestamp < 0) {
		EMU_OTS_BADPARAM(e, "The timestamp must not be negative.");
		goto out;
	}
	it.uid = s->uid;
	it.stamp = (uint32_t)t->stream_created_us;
	it.ts = s->trim_ts;
	it.idx = s->trim_idx;
	if (rq->has_timestamp && rq->timestamp > s->trim_ts) {
		it.ts = rq->timestamp;
		it.idx = 0;
	}
	emu_ots_iter_format(&it, iter);
	rs.shard_iterator = iter;
	rc = emu_ots_pack(&rs, out);
out:
	pthread_rwlock_unlock(&ots->meta_lock);
	ots__get_shard_iterator_request__free_unpacked(rq, NULL);
	return rc;
}

int
emu_ots_get_stream_record(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e)
{
	Ots__GetStreamRecordRequest *rq;
	Ots__GetStreamRecordResponse rs = OTS__GET_STREAM_RECORD_RESPONSE__INIT;
	Ots__GetStreamRecordResponse__StreamRecord *recs = NULL, **recp = NULL;
	Ots__ConsumedCapacity cc = OTS__CONSUMED_CAPACITY__INIT;
	Ots__CapacityUnit cu = OTS__CAPACITY_UNIT__INIT;
	const struct emu_ots_shard *s = NULL;
	struct emu_ots_txn *txn = NULL;
	struct emu_ots_cur *cur = NULL;
	struct emu_ots_iter it;
	char iter[2 * EMU_OTS_ITER_BYTES + 1];
	uint8_t k[EMU_OTS_RECKEY];
	const void *kp, *vp;
	size_t kl, vl, i, j, n = 0, limit = EMU_OTS_RECORDS_MAX, bytes = 0;
	int rc = -1, more = 0;

	if ((rq = ots__get_stream_record_request__unpack(NULL, len, body)) == NULL)
		return EMU_OTS_BADPARAM(e, "Failed to parse the ProtoBuf message.");
	emu_ots_stream_trim_maybe(ots);
	pthread_rwlock_rdlock(&ots->meta_lock);
	if (rq->has_limit) {
		if (rq->limit <= 0) {
			EMU_OTS_BADPARAM(e, "The limit must be greater than 0.");
			goto out;
		}
		if ((size_t)rq->limit < limit)
			limit = (size_t)rq->limit;
	}
	if (emu_ots_iter_parse(rq->shard_iterator, &it) != 0) {
		EMU_OTS_BADPARAM(e, "Invalid shard iterator.");
		goto out;
	}
	for (i = 0; i < ots->ntables && s == NULL; i++) {
		const struct emu_ots_table *ti = ots->tables[i];

		if (!ti->stream || (uint32_t)ti->stream_created_us != it.stamp)
			continue;
		for (j = 0; j < ti->nshards; j++)
			if (ti->shards[j].uid == it.uid)
				s = &ti->shards[j];
	}
	if (s == NULL || it.ts < s->trim_ts || (it.ts == s->trim_ts && it.idx < s->trim_idx)) {
		emu_ots_fail(e, 400, "OTSTrimmedDataAccess",
		    "Requested stream data is already trimmed or does not exist.");
		goto out;
	}
	if ((recs = calloc(limit, sizeof(*recs))) == NULL ||
	    (recp = calloc(limit, sizeof(*recp))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = emu_ots_txn_begin(ots->store, 1, &txn)) != 0 ||
	    (rc = emu_ots_cur_open(txn, EMU_OTS_DB_RECS, &cur)) != 0)
		goto out;
	emu_ots_reckey(k, it.uid, it.ts, it.idx);
	for (rc = emu_ots_cur_seek(cur, k, sizeof(k), 0, &kp, &kl, &vp, &vl); rc == 0;
	    rc = emu_ots_cur_step(cur, 0, &kp, &kl, &vp, &vl)) {
		const uint8_t *kb = kp, *vb = vp;

		if (kl != EMU_OTS_RECKEY || be_get(kb, 4) != it.uid)
			break;
		if (n == limit || bytes >= EMU_OTS_RECORDS_BYTES) {
			more = 1;
			break;
		}
		if (vl < 2) {
			rc = -EIO;
			goto out;
		}
		ots__get_stream_record_response__stream_record__init(&recs[n]);
		recs[n].action_type = (Ots__ActionType)vb[0];
		/* points into the read txn's snapshot, which lives until packed */
		recs[n].record.data = (uint8_t *)(uintptr_t)(vb + 1);
		recs[n].record.len = vl - 1;
		recp[n] = &recs[n];
		bytes += vl;
		it.ts = (int64_t)be_get(kb + 4, 8);
		it.idx = (uint32_t)be_get(kb + 12, 4) + 1;
		n++;
	}
	if (rc != 0 && rc != -ENOENT)
		goto out;
	rs.n_stream_records = n;
	rs.stream_records = recp;
	/* a closed shard read to its end has no next iterator (SHARD_END) */
	if (more || !s->closed) {
		emu_ots_iter_format(&it, iter);
		rs.next_shard_iterator = iter;
	}
	cu.has_read = 1;
	cu.read = 1 + (int)(bytes / 4096);
	cu.has_write = 1;
	cc.capacity_unit = &cu;
	rs.consumed = &cc;
	rs.has_may_more_record = 1;
	rs.may_more_record = more;
	rc = emu_ots_pack(&rs, out);
out:
	emu_ots_cur_close(cur);
	emu_ots_txn_abort(txn);
	pthread_rwlock_unlock(&ots->meta_lock);
	free(recp);
	free(recs);
	ots__get_stream_record_request__free_unpacked(rq, NULL);
	return rc;
}

/* ---- admin ------------------------------------------------------------------------ */

static int
emu_ots_admin_err(struct buf *out, const char *msg, const char *arg)
{
	(void)buf_printf(out, "%s%s%s\n", msg, arg != NULL ? ": " : "", arg != NULL ? arg : "");
	return -EINVAL;
}

static struct emu_ots_shard *
emu_ots_shard_find(struct emu_ots_table *t, const char *id)
{
	size_t i;

	for (i = 0; i < t->nshards; i++)
		if (strcmp(t->shards[i].id, id) == 0)
			return &t->shards[i];
	return NULL;
}

/* split/merge on t; write_lock + meta_lock write held */
static int
emu_ots_reshard(struct emu_ots *ots, struct emu_ots_table *t, char **argv, int argc,
    struct buf *out)
{
	struct emu_ots_shard *saved = NULL, *a, *b, *c1 = NULL, *c2 = NULL;
	struct emu_ots_txn *txn = NULL;
	size_t nsaved = t->nshards;
	uint32_t saved_uid = ots->next_uid;
	int64_t now = emu_ots_now_us();
	char ida[EMU_OTS_ID_MAX], idb[EMU_OTS_ID_MAX];
	int rc, split = strcmp(argv[0], "split") == 0;

	if (!t->stream)
		return emu_ots_admin_err(out, "stream not enabled on table", t->name);
	if ((split && argc != 3) || (!split && argc != 4))
		return emu_ots_admin_err(out, split ? "usage: split TABLE SHARD" :
		    "usage: merge TABLE SHARD1 SHARD2", NULL);
	a = emu_ots_shard_find(t, argv[2]);
	b = split ? NULL : emu_ots_shard_find(t, argv[3]);
	if (a == NULL || (!split && b == NULL))
		return emu_ots_admin_err(out, "no such shard", a == NULL ? argv[2] : argv[3]);
	if (a->closed || (b != NULL && b->closed))
		return emu_ots_admin_err(out, "shard is closed", NULL);
	if (split && a->lo == a->hi)
		return emu_ots_admin_err(out, "shard too small to split", a->id);
	if (!split && a->hi != UINT32_MAX && a->hi + 1 != b->lo &&
	    (b->hi == UINT32_MAX || b->hi + 1 != a->lo))
		return emu_ots_admin_err(out, "shards are not adjacent", NULL);
	if ((saved = malloc((t->nshards + 1) * sizeof(*saved))) == NULL)
		return -ENOMEM;
	memcpy(saved, t->shards, t->nshards * sizeof(*saved));
	snprintf(ida, sizeof(ida), "%s", a->id);
	snprintf(idb, sizeof(idb), "%s", b != NULL ? b->id : "");
	if (split) {
		uint32_t lo = a->lo, hi = a->hi, mid = lo + (hi - lo) / 2;

		a->closed = 1;
		a->closed_us = now;
		if ((rc = emu_ots_shard_add(ots, t, lo, mid, ida, NULL, &c1)) != 0 ||
		    (rc = emu_ots_shard_add(ots, t, mid + 1, hi, ida, NULL, &c2)) != 0)
			goto fail;
	} else {
		uint32_t lo = a->lo < b->lo ? a->lo : b->lo, hi = a->hi > b->hi ? a->hi : b->hi;

		a->closed = b->closed = 1;
		a->closed_us = b->closed_us = now;
		if ((rc = emu_ots_shard_add(ots, t, lo, hi, ida, idb, &c1)) != 0)
			goto fail;
	}
	if ((rc = emu_ots_txn_begin(ots->store, 0, &txn)) != 0)
		goto fail;
	if ((rc = emu_ots_store_put_table(txn, t)) != 0 ||
	    (rc = emu_ots_store_put_uid(txn, ots->next_uid)) != 0) {
		emu_ots_txn_abort(txn);
		goto fail;
	}
	if ((rc = emu_ots_txn_commit(txn)) != 0)
		goto fail;
	/* c1/c2 may have moved with the second realloc: name them by index */
	if (c2 != NULL)
		(void)buf_printf(out, "%s %s\n", t->shards[t->nshards - 2].id,
		    t->shards[t->nshards - 1].id);
	else
		(void)buf_printf(out, "%s\n", t->shards[t->nshards - 1].id);
	free(saved);
	return 0;
fail:
	/* t->shards may have moved; restore the old list into it */
	memcpy(t->shards, saved, nsaved * sizeof(*saved));
	t->nshards = nsaved;
	ots->next_uid = saved_uid;
	free(saved);
	return rc;
}

int
emu_ots_stream_admin(struct emu_ots *ots, char **argv, int argc, struct buf *out)
{
	struct emu_ots_table *t = NULL;
	int64_t v;
	int rc = 0;

	if (strcmp(argv[0], "help") == 0) {
		(void)buf_addstr(out, "split TABLE SHARD | merge TABLE SHARD1 SHARD2 | "
		    "trim TABLE [AGE_SECONDS] | shards N | shards TABLE N (next enable/create) | shards-of TABLE\n");
		return 0;
	}
	if (strcmp(argv[0], "shards") == 0 && argc == 2) {
		if (num_i64(argv[1], (size_t)-1, 1, 64, &v) != 0)
			return emu_ots_admin_err(out, "shard count must be 1..64", argv[1]);
		pthread_mutex_lock(&ots->write_lock);
		pthread_rwlock_wrlock(&ots->meta_lock);
		ots->default_shards = (int)v;
		pthread_rwlock_unlock(&ots->meta_lock);
		pthread_mutex_unlock(&ots->write_lock);
		return 0;
	}
	if (argc < 2)
		return emu_ots_admin_err(out, "unknown or incomplete command", argv[0]);
	pthread_mutex_lock(&ots->write_lock);
	pthread_rwlock_wrlock(&ots->meta_lock);
	t = emu_ots_table_find(ots, argv[1]);
	if (t == NULL && strcmp(argv[0], "shards") == 0 && argc == 3) {
		/* a table created later gets this many shards */
		if (num_i64(argv[2], (size_t)-1, 1, 64, &v) != 0)
			rc = emu_ots_admin_err(out, "shard count must be 1..64", argv[2]);
		else
			rc = emu_ots_shards_pending(ots, argv[1], (int)v);
	} else if (t == NULL) {
		rc = emu_ots_admin_err(out, "no such table", argv[1]);
	} else if (strcmp(argv[0], "split") == 0 || strcmp(argv[0], "merge") == 0) {
		rc = emu_ots_reshard(ots, t, argv, argc, out);
	} else if (strcmp(argv[0], "trim") == 0 && (argc == 2 || argc == 3)) {
		int64_t age = (int64_t)t->expiration_h * 3600;
		long n;

		if (argc == 3 &&
		    num_i64(argv[2], (size_t)-1, 0, INT64_C(1) << 40, &v) != 0)
			rc = emu_ots_admin_err(out, "age must be seconds", argv[2]);
		else if (!t->stream)
			rc = emu_ots_admin_err(out, "stream not enabled on table", t->name);
		else {
			if (argc == 3)
				age = v;
			/* +1: "trim T 0" removes everything committed so far */
			n = emu_ots_trim_commit(ots, t, emu_ots_now_us() - age * 1000000 + 1);
			if (n < 0)
				rc = (int)n;
			else
				(void)buf_printf(out, "%ld\n", n);
		}
	} else if (strcmp(argv[0], "shards") == 0 && argc == 3) {
		if (num_i64(argv[2], (size_t)-1, 1, 64, &v) != 0) {
			rc = emu_ots_admin_err(out, "shard count must be 1..64", argv[2]);
		} else {
			struct emu_ots_txn *txn;

			t->nshards_init = (int)v;
			if ((rc = emu_ots_txn_begin(ots->store, 0, &txn)) == 0) {
				if ((rc = emu_ots_store_put_table(txn, t)) == 0)
					rc = emu_ots_txn_commit(txn);
				else
					emu_ots_txn_abort(txn);
			}
		}
	} else if (strcmp(argv[0], "shards-of") == 0 && argc == 2) {
		size_t i;

		for (i = 0; i < t->nshards; i++)
			(void)buf_printf(out, "%s %s %s %s %08x-%08x\n", t->shards[i].id,
			    t->shards[i].closed ? "closed" : "open",
			    t->shards[i].parent[0] ? t->shards[i].parent : "-",
			    t->shards[i].sibling[0] ? t->shards[i].sibling : "-",
			    t->shards[i].lo, t->shards[i].hi);
	} else {
		rc = emu_ots_admin_err(out, "unknown or incomplete command", argv[0]);
	}
	pthread_rwlock_unlock(&ots->meta_lock);
	pthread_mutex_unlock(&ots->write_lock);
	return rc;
}
