/* SPDX-License-Identifier: MIT */
/*
 * emu_ots_i.h - private header of difs-emu's Table Store service.
 *
 * Files, from the top down (each calls only the files below it):
 *   emu_ots.c         the service ops: request verification (MD5, V2
 *                     signature, key id, instance, date skew), dispatch,
 *                     signed responses, protobuf Error replies, admin.
 *   emu_ots_table.c   Create/Describe/Update/Delete/ListTable (enables,
 *                     drops and purges streams, purges rows).
 *   emu_ots_row.c     row model (cells, versions) and the row operations.
 *   emu_ots_stream.c  streams: shards, records, iterators, split/merge/trim.
 *   emu_ots_key.c     primary-key schema check, order-preserving row keys.
 *   emu_ots_store.c   persistence (the emulator's only LMDB user): table
 *                     metadata, rows keyed by an order-preserving PK
 *                     encoding, stream records keyed by (shard, µs, index).
 *   emu_ots_base.c    shared helpers: emu_ots_fail, clocks, the table
 *                     registry (find/free), pending shard counts, packing.
 *
 * Locking (struct emu_ots):
 *   meta_lock (rwlock) protects the table list and every table's metadata;
 *   write_lock (mutex) serialises every mutation (row writes, DDL, shard
 *   changes, trims) - LMDB has one writer at a time anyway.
 *   Row writes hold write_lock + meta_lock(read); DDL and shard changes hold
 *   write_lock + meta_lock(write); reads hold meta_lock(read) and use an
 *   LMDB read transaction of their own.
 */
#ifndef DIFS_EMU_OTS_I_H
#define DIFS_EMU_OTS_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "emu.h"
#include "plainbuf.h"

struct sign_cred;
struct emu_ots_store;
struct emu_ots_txn;

#define EMU_OTS_NAME_MAX	255		/**< table / column name bytes */
#define EMU_OTS_PK_MAX		4		/**< primary-key columns per table */
#define EMU_OTS_ID_MAX		288		/**< stream / shard id bytes ("NAME_us") */
#define EMU_OTS_BODY_MAX	((size_t)5 << 20)	/**< request body limit */
#define EMU_OTS_KEY_MAX		500		/**< encoded row key (LMDB limit 511) */

/* ---- errors: the service's code/message/status, carried to the reply
 * (emu_ots_base.c) ---------------------------------------------------------- */

struct emu_ots_err {
	int	 status;		/**< 0 = no error */
	char	 code[48];
	char	 msg[400];
};

/** Set e (always returns -1 so callers can "return emu_ots_fail(...)"). */
int emu_ots_fail(struct emu_ots_err *e, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/** 400 OTSParameterInvalid. */
#define EMU_OTS_BADPARAM(e, ...) emu_ots_fail((e), 400, "OTSParameterInvalid", __VA_ARGS__)

/* ---- metadata ----------------------------------------------------------- */

struct emu_ots_pkcol {
	char	 name[EMU_OTS_NAME_MAX + 1];
	int	 type;			/**< 1 INTEGER, 2 STRING, 3 BINARY (proto enum) */
	int	 autoinc;		/**< option AUTO_INCREMENT */
};

struct emu_ots_shard {
	char	 id[EMU_OTS_ID_MAX];
	char	 parent[EMU_OTS_ID_MAX];	/**< "" = none */
	char	 sibling[EMU_OTS_ID_MAX];	/**< parent_sibling_id, "" = none */
	uint32_t uid;			/**< unique in the store: record key prefix */
	uint32_t lo, hi;		/**< inclusive range of the routing hash */
	int	 closed;
	int64_t	 created_us, closed_us;
	int64_t	 trim_ts;		/**< records before (trim_ts, trim_idx) are gone */
	uint32_t trim_idx;
};

struct emu_ots_table {
	char	 name[EMU_OTS_NAME_MAX + 1];
	uint32_t uid;			/**< row key prefix */
	int64_t	 created_us;
	struct emu_ots_pkcol pk[EMU_OTS_PK_MAX];
	int	 npk;
	int32_t	 ttl;			/**< seconds, -1 forever */
	int32_t	 max_versions;
	int64_t	 deviation;		/**< seconds, 0 = not set (no check) */
	int	 has_deviation;
	/* stream */
	int	 stream;		/**< enabled */
	char	 stream_id[EMU_OTS_ID_MAX];
	int32_t	 expiration_h;
	int64_t	 stream_created_us;
	int	 nshards_init;		/**< shard count at (re)enable */
	struct emu_ots_shard *shards;	/**< creation order */
	size_t	 nshards;
	/* clocks (protected by write_lock) */
	int64_t	 last_commit_us;	/**< strictly increasing commit times */
	int64_t	 last_autoinc;
};

struct emu_ots {
	const struct emu_config	*cfg;
	struct sign_cred	*cred;
	struct emu_ots_store	*store;
	pthread_rwlock_t	 meta_lock;
	pthread_mutex_t		 write_lock;
	struct emu_ots_table	**tables;	/**< protected by meta_lock */
	size_t			 ntables;
	uint32_t		 next_uid;	/**< protected by write_lock */
	int			 default_shards;	/**< --shards, or admin "shards" */
	struct emu_ots_pending {
		char	 name[EMU_OTS_NAME_MAX + 1];
		int	 n;
	}			*pending;	/**< shard counts of tables not yet
						     created (--shards T=N, admin);
						     protected by write_lock */
	size_t			 npending;
	_Atomic uint64_t	 reqseq;	/**< request ids */
	_Atomic int64_t		 last_trim_check_us;
};

/* ---- shared helpers (emu_ots_base.c) ------------------------------------- */

/** Append the packed protobuf message msg (a ProtobufCMessage) to out. */
int emu_ots_pack(const void *msg, struct buf *out);
/** Shard count for a new stream of table name (write_lock held). */
int emu_ots_shards_for(struct emu_ots *ots, const char *name);
/** Remember n shards for table name, created later (write_lock held). */
int emu_ots_shards_pending(struct emu_ots *ots, const char *name, int n);
/** Look up a table by name (meta_lock held).  NULL when absent. */
struct emu_ots_table *emu_ots_table_find(struct emu_ots *ots, const char *name);
/** Free one table (shards too).  NULL-safe. */
void emu_ots_table_free(struct emu_ots_table *t);
/** Current time in µs / ms since the epoch. */
int64_t emu_ots_now_us(void);
/** Next strictly increasing commit time of t (write_lock held). */
int64_t emu_ots_commit_us(struct emu_ots_table *t);

/* ---- store (emu_ots_store.c) -------------------------------------------- */

enum emu_ots_db { EMU_OTS_DB_META = 0, EMU_OTS_DB_ROWS, EMU_OTS_DB_RECS, EMU_OTS_DB__N };

int  emu_ots_store_open(const char *dir, int nosync, struct emu_ots_store **out);
void emu_ots_store_close(struct emu_ots_store *s);
/** Begin a txn (rdonly or write).  0 or -errno. */
int  emu_ots_txn_begin(struct emu_ots_store *s, int rdonly, struct emu_ots_txn **out);
/** Commit (write) or end (read) and free.  0 or -errno. */
int  emu_ots_txn_commit(struct emu_ots_txn *t);
void emu_ots_txn_abort(struct emu_ots_txn *t);
/** Get: *val points into the map, valid until the txn ends or writes.
 *  0, -ENOENT, -errno. */
int  emu_ots_get(struct emu_ots_txn *t, enum emu_ots_db db, const void *k, size_t kl,
    const void **val, size_t *vl);
int  emu_ots_put(struct emu_ots_txn *t, enum emu_ots_db db, const void *k, size_t kl,
    const void *val, size_t vl);
/** 0 or -ENOENT (absent) or -errno. */
int  emu_ots_del(struct emu_ots_txn *t, enum emu_ots_db db, const void *k, size_t kl);
/** Delete the keys in [lo, hi) (hi NULL = no upper bound), at most max of
 *  them (0 = all).  Returns the count deleted (>= 0) or -errno. */
long emu_ots_del_range(struct emu_ots_txn *t, enum emu_ots_db db,
    const void *lo, size_t lol, const void *hi, size_t hil, long max);
/** Delete [lo, hi) in bounded write txns of its own (the caller holds no
 *  txn): big tables and streams go away without one huge transaction. */
int  emu_ots_purge(struct emu_ots_store *s, enum emu_ots_db db,
    const void *lo, size_t lol, const void *hi, size_t hil);

/** Cursor scanning in key order. */
struct emu_ots_cur;
int  emu_ots_cur_open(struct emu_ots_txn *t, enum emu_ots_db db, struct emu_ots_cur **out);
void emu_ots_cur_close(struct emu_ots_cur *c);
/** Position at the first key >= k (forward) / the last key <= k (backward).
 *  Returns 0 (positioned), -ENOENT (none), -errno. */
int  emu_ots_cur_seek(struct emu_ots_cur *c, const void *k, size_t kl, int backward,
    const void **key, size_t *keyl, const void **val, size_t *vl);
/** Step forward or backward.  0, -ENOENT at the end, -errno. */
int  emu_ots_cur_step(struct emu_ots_cur *c, int backward,
    const void **key, size_t *keyl, const void **val, size_t *vl);

/** Load every table record; fills ots->tables.  0 or -errno. */
int  emu_ots_store_load(struct emu_ots *ots);
/** Persist t's metadata (write txn). */
int  emu_ots_store_put_table(struct emu_ots_txn *txn, const struct emu_ots_table *t);
int  emu_ots_store_del_table(struct emu_ots_txn *txn, const struct emu_ots_table *t);
/** Persist ots->next_uid. */
int  emu_ots_store_put_uid(struct emu_ots_txn *txn, uint32_t next_uid);

/* ---- row keys (emu_ots_key.c) ------------------------------------------- */

/**
 * Encode an order-preserving row key: u32be(table uid), then per PK column
 * 0x01 + value (INTEGER: u64be(v ^ 1<<63); STRING/BINARY: bytes with 0x00
 * escaped as 00 FF, terminated by 00 01); INF_MIN as 0x00 and INF_MAX as
 * 0x02 end the key.  cells must match t's schema (checked by the caller).
 * 0, or -E2BIG (too long for the store).
 */
int emu_ots_key_encode(const struct emu_ots_table *t, const struct plainbuf_cell *pk,
    size_t npk, uint8_t *out, size_t *outlen);
/** Decode a row key back into PK cells (names from t, values pointing into
 *  arena which must hold keyl bytes).  0 or -EINVAL. */
int emu_ots_key_decode(const struct emu_ots_table *t, const uint8_t *k, size_t kl,
    struct plainbuf_cell *pk, uint8_t *arena);
/** Validate a PK against the schema (allow_inf: range bounds;
 *  allow_auto: PutRow with AUTO_INCREMENT columns). 0 or -1 with e set. */
int emu_ots_pk_check(const struct emu_ots_table *t, const struct plainbuf_row *row,
    int allow_inf, int allow_auto, struct emu_ots_err *e);

/* ---- operations: each decodes its request from (body, len), fills resp
 * body on success, or returns -1 with e set (service error), or -errno. */

typedef int emu_ots_op_fn(struct emu_ots *ots, const uint8_t *body, size_t len,
    struct buf *out, struct emu_ots_err *e);

emu_ots_op_fn emu_ots_create_table, emu_ots_describe_table, emu_ots_update_table,
    emu_ots_delete_table, emu_ots_list_table;
emu_ots_op_fn emu_ots_put_row, emu_ots_update_row, emu_ots_delete_row, emu_ots_get_row,
    emu_ots_get_range, emu_ots_batch_get_row, emu_ots_batch_write_row;
emu_ots_op_fn emu_ots_list_stream, emu_ots_describe_stream, emu_ots_get_shard_iterator,
    emu_ots_get_stream_record;

/* ---- streams (emu_ots_stream.c) ------------------------------------------- */

/** Create the initial shards of a newly enabled stream (write_lock,
 *  meta_lock write).  0 or -ENOMEM. */
int  emu_ots_stream_enable(struct emu_ots *ots, struct emu_ots_table *t, int32_t hours);
/** Disable t's stream: forget its shards (t->shards becomes NULL; the
 *  caller frees the old array and purges its records once committed). */
void emu_ots_stream_drop(struct emu_ots_table *t);
/** Delete every record of the given shards (no txn held). */
int  emu_ots_stream_purge(struct emu_ots *ots, const struct emu_ots_shard *shards, size_t n);
/**
 * Append one stream record for a committed row change (write txn,
 * write_lock held).  action: 1 PUT_ROW, 2 UPDATE_ROW, 3 DELETE_ROW.
 * row: PK + the cells to record (its seq info is filled here).
 */
int  emu_ots_stream_append(struct emu_ots_txn *txn, struct emu_ots_table *t, int action,
    struct plainbuf_row *row, int64_t commit_us, uint32_t row_index);
/** Admin: "split", "merge", "trim", "shards".  0, -EINVAL (msg in out). */
int  emu_ots_stream_admin(struct emu_ots *ots, char **argv, int argc, struct buf *out);
/** Drop records past the expiration of every stream (rate-limited). */
void emu_ots_stream_trim_maybe(struct emu_ots *ots);

/* ---- rows (emu_ots_row.c) ------------------------------------------------- */

/** Delete all rows of a table (no txn held; the table record is gone). */
int emu_ots_rows_purge(struct emu_ots *ots, uint32_t table_uid);

#endif /* DIFS_EMU_OTS_I_H */
