/* SPDX-License-Identifier: MIT */
/*
 * emu_ots_store.c - persistence of difs-emu's Table Store service, under
 * DATA/ots/ (one LMDB environment; this is the emulator's only LMDB user,
 * separate from the engine's state store).
 *
 * Databases:
 *   meta  "uid" -> u32be next uid;  "t\0NAME" -> table record (below)
 *   rows  u32be(table uid) + order-preserving PK encoding -> row value
 *         (emu_ots_row.c owns the value format)
 *   recs  u32be(shard uid) + u64be(commit µs) + u32be(row index)
 *         -> u8 action + PlainBuffer stream record
 * Every commit is synced unless --sync off.  MDB_NOTLS: transactions are
 * begun and ended by one request, on one MHD worker thread.
 *
 * Table record: a tagged little binary format, version byte first; new
 * fields are appended so old records stay readable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "emu_ots_i.h"
#include "log.h"
#include "sys.h"

#define EMU_OTS_MAP_SIZE	((size_t)256 << 30)	/* sparse; grows on demand */
#define EMU_OTS_TABLE_VERSION	1

struct emu_ots_store {
	MDB_env	*env;
	MDB_dbi	 dbi[EMU_OTS_DB__N];
};

struct emu_ots_txn {
	struct emu_ots_store	*s;
	MDB_txn			*txn;
};

struct emu_ots_cur {
	MDB_cursor	*cur;
};

static int
emu_ots_mdb_err(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		return -ENOSPC;
	case MDB_KEYEXIST:
		return -EEXIST;
	case MDB_BAD_VALSIZE:
		return -E2BIG;
	default:
		if (rc > 0)
			return -rc;
		log_warnx("emu ots: lmdb: %s", mdb_strerror(rc));
		return -EIO;
	}
}

int
emu_ots_store_open(const char *dir, int nosync, struct emu_ots_store **out)
{
	static const char *const names[EMU_OTS_DB__N] = { "meta", "rows", "recs" };
	struct emu_ots_store *s = NULL;
	MDB_txn *txn = NULL;
	int rc, i;

	*out = NULL;
	if ((rc = sys_mkdir_p(dir, 0700)) != 0)
		return rc;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	if ((rc = mdb_env_create(&s->env)) != 0)
		goto fail;
	if ((rc = mdb_env_set_maxdbs(s->env, EMU_OTS_DB__N)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, EMU_OTS_MAP_SIZE)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, 512)) != 0)
		goto fail;
	rc = mdb_env_open(s->env, dir, MDB_NOTLS | (nosync ? MDB_NOSYNC : 0), 0600);
	if (rc != 0)
		goto fail;
	{
		int dead;

		(void)mdb_reader_check(s->env, &dead);
	}
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		goto fail;
	for (i = 0; i < EMU_OTS_DB__N; i++)
		if ((rc = mdb_dbi_open(txn, names[i], MDB_CREATE, &s->dbi[i])) != 0)
			goto fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	log_warnx("emu ots: cannot open store %s: %s", dir, mdb_strerror(rc));
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (s->env != NULL)
		mdb_env_close(s->env);
	free(s);
	return emu_ots_mdb_err(rc);
}

void
emu_ots_store_close(struct emu_ots_store *s)
{
	if (s == NULL)
		return;
	mdb_env_close(s->env);
	free(s);
}

int
emu_ots_txn_begin(struct emu_ots_store *s, int rdonly, struct emu_ots_txn **out)
{
	struct emu_ots_txn *t;
	int rc;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	t->s = s;
	rc = mdb_txn_begin(s->env, NULL, rdonly ? MDB_RDONLY : 0, &t->txn);
	if (rc != 0) {
		free(t);
		return emu_ots_mdb_err(rc);
	}
	*out = t;
	return 0;
}

int
emu_ots_txn_commit(struct emu_ots_txn *t)
{
	int rc = mdb_txn_commit(t->txn);

	free(t);
	return emu_ots_mdb_err(rc);
}

void
emu_ots_txn_abort(struct emu_ots_txn *t)
{
	if (t == NULL)
		return;
	mdb_txn_abort(t->txn);
	free(t);
}

int
emu_ots_get(struct emu_ots_txn *t, enum emu_ots_db db, const void *k, size_t kl,
    const void **val, size_t *vl)
{
	MDB_val key = { kl, (void *)(uintptr_t)k }, v;
	int rc = mdb_get(t->txn, t->s->dbi[db], &key, &v);

	if (rc != 0)
		return emu_ots_mdb_err(rc);
	*val = v.mv_data;
	*vl = v.mv_size;
	return 0;
}

int
emu_ots_put(struct emu_ots_txn *t, enum emu_ots_db db, const void *k, size_t kl,
    const void *val, size_t vl)
{
	MDB_val key = { kl, (void *)(uintptr_t)k };
	MDB_val v = { vl, (void *)(uintptr_t)val };

	return emu_ots_mdb_err(mdb_put(t->txn, t->s->dbi[db], &key, &v, 0));
}

int
emu_ots_del(struct emu_ots_txn *t, enum emu_ots_db db, const void *k, size_t kl)
{
	MDB_val key = { kl, (void *)(uintptr_t)k };

	return emu_ots_mdb_err(mdb_del(t->txn, t->s->dbi[db], &key, NULL));
}

static int
emu_ots_keycmp(const void *a, size_t al, const void *b, size_t bl)
{
	size_t n = al < bl ? al : bl;
	int c = memcmp(a, b, n);

	if (c != 0)
		return c;
	return al < bl ? -1 : al > bl ? 1 : 0;
}

long
emu_ots_del_range(struct emu_ots_txn *t, enum emu_ots_db db,
    const void *lo, size_t lol, const void *hi, size_t hil, long max)
{
	MDB_cursor *cur = NULL;
	MDB_val k = { lol, (void *)(uintptr_t)lo }, v;
	long n = 0;
	int rc;

	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[db], &cur)) != 0)
		return emu_ots_mdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && (max == 0 || n < max)) {
		if (hi != NULL && emu_ots_keycmp(k.mv_data, k.mv_size, hi, hil) >= 0)
			break;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		n++;
		/* re-seek: simpler to trust than cursor state after a delete */
		k.mv_size = lol;
		k.mv_data = (void *)(uintptr_t)lo;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return emu_ots_mdb_err(rc);
	return n;
}

int
emu_ots_purge(struct emu_ots_store *s, enum emu_ots_db db,
    const void *lo, size_t lol, const void *hi, size_t hil)
{
	const long chunk = 50000;
	struct emu_ots_txn *t;
	long n;
	int rc;

	do {
		if ((rc = emu_ots_txn_begin(s, 0, &t)) != 0)
			return rc;
		if ((n = emu_ots_del_range(t, db, lo, lol, hi, hil, chunk)) < 0) {
			emu_ots_txn_abort(t);
			return (int)n;
		}
		if ((rc = emu_ots_txn_commit(t)) != 0)
			return rc;
	} while (n == chunk);
	return 0;
}

int
emu_ots_cur_open(struct emu_ots_txn *t, enum emu_ots_db db, struct emu_ots_cur **out)
{
	struct emu_ots_cur *c;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[db], &c->cur)) != 0) {
		free(c);
		return emu_ots_mdb_err(rc);
	}
	*out = c;
	return 0;
}

void
emu_ots_cur_close(struct emu_ots_cur *c)
{
	if (c == NULL)
		return;
	mdb_cursor_close(c->cur);
	free(c);
}

static void
emu_ots_cur_out(const MDB_val *k, const MDB_val *v, const void **key, size_t *keyl,
    const void **val, size_t *vl)
{
	*key = k->mv_data;
	*keyl = k->mv_size;
	*val = v->mv_data;
	*vl = v->mv_size;
}

int
emu_ots_cur_seek(struct emu_ots_cur *c, const void *kp, size_t kl, int backward,
    const void **key, size_t *keyl, const void **val, size_t *vl)
{
	MDB_val k = { kl, (void *)(uintptr_t)kp }, v;
	int rc;

	rc = mdb_cursor_get(c->cur, &k, &v, MDB_SET_RANGE);
	if (backward) {
		if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(c->cur, &k, &v, MDB_LAST);
		else if (rc == 0 && emu_ots_keycmp(k.mv_data, k.mv_size, kp, kl) > 0)
			rc = mdb_cursor_get(c->cur, &k, &v, MDB_PREV);
	}
	if (rc != 0)
		return emu_ots_mdb_err(rc);
	emu_ots_cur_out(&k, &v, key, keyl, val, vl);
	return 0;
}

int
emu_ots_cur_step(struct emu_ots_cur *c, int backward,
    const void **key, size_t *keyl, const void **val, size_t *vl)
{
	MDB_val k, v;
	int rc = mdb_cursor_get(c->cur, &k, &v, backward ? MDB_PREV : MDB_NEXT);

	if (rc != 0)
		return emu_ots_mdb_err(rc);
	emu_ots_cur_out(&k, &v, key, keyl, val, vl);
	return 0;
}

/* ---- table records -------------------------------------------------------- */

static void
put_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	(void)buf_add(b, x, 4);
}

static void
put_i64(struct buf *b, int64_t s)
{
	uint64_t v = (uint64_t)s;

	put_u32(b, (uint32_t)v);
	put_u32(b, (uint32_t)(v >> 32));
}

static void
put_str(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	put_u32(b, (uint32_t)n);
	(void)buf_add(b, s, n);
}

struct rd {
	const uint8_t	*p;
	size_t		 len, off;
	int		 bad;
};

static uint32_t
get_u32(struct rd *r)
{
	uint32_t v;

	if (r->bad || r->len - r->off < 4) {
		r->bad = 1;
		return 0;
	}
	v = (uint32_t)r->p[r->off] | (uint32_t)r->p[r->off + 1] << 8 |
	    (uint32_t)r->p[r->off + 2] << 16 | (uint32_t)r->p[r->off + 3] << 24;
	r->off += 4;
	return v;
}

static int64_t
get_i64(struct rd *r)
{
	uint64_t lo = get_u32(r), hi = get_u32(r);

	return (int64_t)(lo | hi << 32);
}

static void
get_str(struct rd *r, char *out, size_t outsz)
{
	uint32_t n = get_u32(r);

	if (r->bad || n >= outsz || r->len - r->off < n) {
		r->bad = 1;
		out[0] = '\0';
		return;
	}
	memcpy(out, r->p + r->off, n);
	out[n] = '\0';
	r->off += n;
}

static void
emu_ots_table_key(const char *name, struct buf *k)
{
	(void)buf_add(k, "t", 2);	/* "t\0" */
	(void)buf_addstr(k, name);
}

int
emu_ots_store_put_table(struct emu_ots_txn *txn, const struct emu_ots_table *t)
{
	struct buf k, v;
	size_t i;
	int rc;

	buf_init(&k, BUF_MAX_SMALL);
	buf_init(&v, BUF_MAX_DOC);
	emu_ots_table_key(t->name, &k);
	(void)buf_addc(&v, EMU_OTS_TABLE_VERSION);
	put_str(&v, t->name);
	put_u32(&v, t->uid);
	put_i64(&v, t->created_us);
	put_u32(&v, (uint32_t)t->npk);
	for (i = 0; i < (size_t)t->npk; i++) {
		put_str(&v, t->pk[i].name);
		put_u32(&v, (uint32_t)t->pk[i].type);
		put_u32(&v, (uint32_t)t->pk[i].autoinc);
	}
	put_u32(&v, (uint32_t)t->ttl);
	put_u32(&v, (uint32_t)t->max_versions);
	put_i64(&v, t->deviation);
	put_u32(&v, (uint32_t)t->has_deviation);
	put_u32(&v, (uint32_t)t->stream);
	put_str(&v, t->stream_id);
	put_u32(&v, (uint32_t)t->expiration_h);
	put_i64(&v, t->stream_created_us);
	put_u32(&v, (uint32_t)t->nshards_init);
	put_i64(&v, t->last_commit_us);
	put_i64(&v, t->last_autoinc);
	put_u32(&v, (uint32_t)t->nshards);
	for (i = 0; i < t->nshards; i++) {
		const struct emu_ots_shard *s = &t->shards[i];

		put_str(&v, s->id);
		put_str(&v, s->parent);
		put_str(&v, s->sibling);
		put_u32(&v, s->uid);
		put_u32(&v, s->lo);
		put_u32(&v, s->hi);
		put_u32(&v, (uint32_t)s->closed);
		put_i64(&v, s->created_us);
		put_i64(&v, s->closed_us);
		put_i64(&v, s->trim_ts);
		put_u32(&v, s->trim_idx);
	}
	if (k.err != 0 || v.err != 0)
		rc = k.err != 0 ? k.err : v.err;
	else
		rc = emu_ots_put(txn, EMU_OTS_DB_META, k.p, k.len, v.p, v.len);
	buf_free(&k);
	buf_free(&v);
	return rc;
}

static int
emu_ots_table_parse(const uint8_t *p, size_t len, struct emu_ots_table **out)
{
	struct rd r = { p, len, 0, 0 };
	struct emu_ots_table *t;
	uint32_t i, n;

	*out = NULL;
	if (len < 1 || p[0] != EMU_OTS_TABLE_VERSION)
		return -EINVAL;
	r.off = 1;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	get_str(&r, t->name, sizeof(t->name));
	t->uid = get_u32(&r);
	t->created_us = get_i64(&r);
	n = get_u32(&r);
	if (n == 0 || n > EMU_OTS_PK_MAX)
		r.bad = 1;
	for (i = 0; i < n && !r.bad; i++) {
		get_str(&r, t->pk[i].name, sizeof(t->pk[i].name));
		t->pk[i].type = (int)get_u32(&r);
		t->pk[i].autoinc = (int)get_u32(&r);
	}
	t->npk = (int)n;
	t->ttl = (int32_t)get_u32(&r);
	t->max_versions = (int32_t)get_u32(&r);
	t->deviation = get_i64(&r);
	t->has_deviation = (int)get_u32(&r);
	t->stream = (int)get_u32(&r);
	get_str(&r, t->stream_id, sizeof(t->stream_id));
	t->expiration_h = (int32_t)get_u32(&r);
	t->stream_created_us = get_i64(&r);
	t->nshards_init = (int)get_u32(&r);
	t->last_commit_us = get_i64(&r);
	t->last_autoinc = get_i64(&r);
	n = get_u32(&r);
	if (!r.bad && n > 0) {
		if (n > (len - r.off) / 16 || (t->shards = calloc(n, sizeof(*t->shards))) == NULL)
			r.bad = 1;
	}
	for (i = 0; i < n && !r.bad; i++) {
		struct emu_ots_shard *s = &t->shards[i];

		get_str(&r, s->id, sizeof(s->id));
		get_str(&r, s->parent, sizeof(s->parent));
		get_str(&r, s->sibling, sizeof(s->sibling));
		s->uid = get_u32(&r);
		s->lo = get_u32(&r);
		s->hi = get_u32(&r);
		s->closed = (int)get_u32(&r);
		s->created_us = get_i64(&r);
		s->closed_us = get_i64(&r);
		s->trim_ts = get_i64(&r);
		s->trim_idx = get_u32(&r);
		t->nshards = i + 1;
	}
	if (r.bad) {
		emu_ots_table_free(t);
		return -EINVAL;
	}
	*out = t;
	return 0;
}

int
emu_ots_store_del_table(struct emu_ots_txn *txn, const struct emu_ots_table *t)
{
	struct buf k;
	int rc;

	buf_init(&k, BUF_MAX_SMALL);
	emu_ots_table_key(t->name, &k);
	rc = k.err != 0 ? k.err : emu_ots_del(txn, EMU_OTS_DB_META, k.p, k.len);
	buf_free(&k);
	return rc == -ENOENT ? 0 : rc;
}

int
emu_ots_store_put_uid(struct emu_ots_txn *txn, uint32_t next_uid)
{
	uint8_t v[4] = { (uint8_t)(next_uid >> 24), (uint8_t)(next_uid >> 16),
	    (uint8_t)(next_uid >> 8), (uint8_t)next_uid };

	return emu_ots_put(txn, EMU_OTS_DB_META, "uid", 3, v, 4);
}

int
emu_ots_store_load(struct emu_ots *ots)
{
	struct emu_ots_txn *txn = NULL;
	struct emu_ots_cur *cur = NULL;
	const void *k, *v;
	size_t kl, vl;
	int rc;

	ots->next_uid = 1;
	if ((rc = emu_ots_txn_begin(ots->store, 1, &txn)) != 0)
		return rc;
	rc = emu_ots_get(txn, EMU_OTS_DB_META, "uid", 3, &v, &vl);
	if (rc == 0 && vl == 4) {
		const uint8_t *b = v;

		ots->next_uid = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | b[3];
	} else if (rc != -ENOENT && rc != 0) {
		goto out;
	}
	if ((rc = emu_ots_cur_open(txn, EMU_OTS_DB_META, &cur)) != 0)
		goto out;
	rc = emu_ots_cur_seek(cur, "t", 2, 0, &k, &kl, &v, &vl);
	while (rc == 0 && kl >= 2 && memcmp(k, "t", 2) == 0) {
		struct emu_ots_table *t, **nt;

		if ((rc = emu_ots_table_parse(v, vl, &t)) != 0) {
			log_warnx("emu ots: corrupt table record '%.*s'", (int)(kl - 2),
			    (const char *)k + 2);
			rc = -EIO;
			goto out;
		}
		nt = realloc(ots->tables, (ots->ntables + 1) * sizeof(*nt));
		if (nt == NULL) {
			emu_ots_table_free(t);
			rc = -ENOMEM;
			goto out;
		}
		ots->tables = nt;
		nt[ots->ntables++] = t;
		rc = emu_ots_cur_step(cur, 0, &k, &kl, &v, &vl);
	}
	if (rc == -ENOENT)
		rc = 0;
out:
	emu_ots_cur_close(cur);
	emu_ots_txn_abort(txn);
	return rc;
}
