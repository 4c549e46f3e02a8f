/* SPDX-License-Identifier: MIT */
/*
 * store.h - the state store: the engine's memory, one LMDB environment in the
 * state directory.  engine/store/store.c is the only file that includes
 * <lmdb.h>; no MDB_* constant or type crosses this header, every LMDB error is
 * translated into the difs error space (err.h) at this boundary.
 *
 * Layout of a state directory DIR:
 *   DIR/data.mdb, DIR/lock.mdb   the LMDB environment
 *   DIR/lock                     process lock (flock), holds the owner's pid
 *   DIR/data.mdb.restore         only while store_restore writes the store
 *
 * Named databases and their keys (values are opaque bytes: callers encode
 * them; only the log helpers below interpret what they store):
 *
 *   STORE_DB_SOURCES      key: source name (file name in sources/ without
 *                         ".json"); value: the file's raw bytes exactly as
 *                         written, valid or not.
 *   STORE_DB_JOBS         key: job name (file name in jobs/ without ".json");
 *                         value: raw bytes exactly as written.
 *   STORE_DB_DEFS         parsed, validated definitions.  key: kind byte
 *                         (STORE_DEF_JOB 'j' or STORE_DEF_SOURCE 's'), '\0',
 *                         name  (store_key_def builds it).
 *   STORE_DB_INSTANCES    key: "JOB\0CYCLE", CYCLE = 14 ASCII digits
 *                         YYYYMMDDHHMMSS, so byte order == time order within
 *                         a job and prefix "JOB\0" lists one job's instances
 *                         (store_key_instance builds it).
 *   STORE_DB_LOGS         per-instance append-only logs, managed only through
 *                         store_log_* (key layout in store.c's header).
 *   STORE_DB_CHECKPOINTS  key: job name, or "JOB\0SUB" for finer-grained
 *                         progress (e.g. per stream shard).
 *   STORE_DB_META         store-wide records.  Reserved keys:
 *                         "schema_version" (BE u32, checked on open) and
 *                         "commit_seq" (BE u64, bumped by every write txn).
 *   STORE_DB_FILES        non-definition files the mount keeps (editor swap,
 *                         backup and temp files, symlinks).  key: directory
 *                         relative to the mount root, '/', file name, e.g.
 *                         "jobs/.orders.json.swp".
 *
 * Keys are 1..STORE_KEY_MAX bytes (LMDB's limit); values 0..4 GiB.
 *
 * Secrets at rest: every value but the instance logs (store_log_*, masked
 * text) and the store's own meta records (schema_version, commit_seq) is
 * sealed with AES-256-GCM under the state directory's key (seal.h:
 * DIR/secret.key, created 0600 at the first sealed write, or
 * $CREDENTIALS_DIRECTORY/difs.key) by store_put and opened by every read;
 * callers see plaintext.  A value that does not open (another key,
 * tampering) reads as ENG_ECORRUPT, logged once with the fix.  store_get of
 * a sealed value borrows a per-txn copy, valid until the txn ends.  A value
 * written by an older difs (plaintext) reads as it is.
 *
 * Thread safety: one struct store is shared by all threads of a process.  A
 * transaction is begun and ended by the same thread, and a thread holds at
 * most one transaction at a time: store_view/store_update callbacks must not
 * start another transaction (attempts return ENG_ESTATE instead of risking a
 * deadlock with map growth).  A read transaction may be *used* by another
 * thread while its owner waits (the env is opened MDB_NOTLS), and that
 * thread then counts as holding it too (it must not begin another meanwhile);
 * a write transaction is used only by the thread that began it.  A store
 * must not be used across fork(): the child opens its own.  Write transactions
 * are serialised (one writer at a time, across processes too); readers never
 * block the writer and see the snapshot of their begin.  Snapshots are
 * monotonic within a process: a txn never sees older data than any txn of the
 * same process saw before it began (so a log's size never shrinks between
 * two reads).  Keep transactions
 * short: growing the map waits until no transaction of this process is open.
 *
 * Durability: LMDB's default sync semantics; a transaction whose commit
 * returned 0 survives SIGKILL and power loss.
 */
#ifndef DIFS_STORE_H
#define DIFS_STORE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct store;
struct store_txn;

enum store_db {
	STORE_DB_SOURCES = 0,
	STORE_DB_JOBS,
	STORE_DB_DEFS,
	STORE_DB_INSTANCES,
	STORE_DB_LOGS,
	STORE_DB_CHECKPOINTS,
	STORE_DB_META,
	STORE_DB_FILES,
	STORE_DB__COUNT
};

#define STORE_SCHEMA_VERSION	1u		/**< written on create, checked on open */
#define STORE_SCHEMA_KEY	"schema_version"	/**< key in STORE_DB_META */
#define STORE_KEY_MAX		511		/**< largest key, bytes */
#define STORE_CYCLE_LEN		14		/**< "YYYYMMDDHHMMSS" */
#define STORE_DEF_JOB		'j'
#define STORE_DEF_SOURCE	's'

#define STORE_MAP_DEFAULT	((size_t)64 << 20)	/**< initial map, bytes */
#define STORE_MAP_MAX_DEFAULT	((size_t)64 << 30)	/**< growth bound, bytes */

/** Options for store_open; NULL or zero fields mean the defaults. */
struct store_config {
	size_t	 map_size;	/**< initial map size, bytes (0: STORE_MAP_DEFAULT);
				     an existing larger environment keeps its size */
	size_t	 map_max;	/**< growth bound, bytes (0: STORE_MAP_MAX_DEFAULT) */
	unsigned max_readers;	/**< concurrent read txns, all processes (0: 126) */
	bool	 exclusive;	/**< take the flock on DIR/lock (the mount does) */
	bool	 nosync;	/**< TESTS AND FUZZING ONLY: no fsync at commit
				     (MDB_NOSYNC); survives a process crash but a
				     system crash may lose or corrupt data */
};

/** Snapshot of environment figures, for status and tests. */
struct store_info {
	uint64_t map_size;	/**< current map size, bytes */
	uint64_t map_max;	/**< configured growth bound, bytes */
	uint64_t used;		/**< bytes of pages in use (last page + 1) */
	uint64_t page_size;	/**< bytes */
	uint64_t last_txnid;	/**< id of the last committed write txn */
	unsigned readers;	/**< reader slots in use */
	unsigned max_readers;
	unsigned grows;		/**< map growths done by this handle */
};

/**
 * store_default_dir - the default state directory: $XDG_STATE_HOME/difs when
 * XDG_STATE_HOME is set to an absolute path, else $HOME/.local/state/difs
 * (HOME from the password database when unset).  Creates missing
 * directories with mode 0700 (mkdir -p); existing ones are left alone.
 * @param[out] out   receives the NUL-terminated path
 * @return 0, -ENAMETOOLONG (outsz too small), -ENOENT (no home directory),
 *         -ENOTDIR or another -errno from mkdir.
 */
int	store_default_dir(char *out, size_t outsz);

/**
 * store_open - open (creating if needed) the environment in dir.  dir itself
 * is created 0700 when missing (mkdir -p).  When cfg->exclusive, first takes a
 * non-blocking exclusive flock on DIR/lock, kept until store_close; a second
 * exclusive opener (any process, or another open in this one) gets
 * ENG_ELOCKED with the holder's pid in eb.  Non-exclusive opens are safe for
 * readers and occasional writers (LMDB is multi-process safe), but a process
 * must not open the same dir twice at once (LMDB's locks are per process).
 * Stale reader slots of dead processes are cleared.  On a new environment
 * the databases and the schema version are written; an existing, complete
 * one is opened with a read txn only (no write, no wait for a running
 * writer) and must carry STORE_SCHEMA_VERSION.
 * @param[in]  cfg  may be NULL (defaults, non-exclusive)
 * @param[out] out  the handle, set only on success
 * @param[out] eb   optional detail message
 * @return 0, ENG_ELOCKED, ENG_EVERSION (newer/unknown schema, not an LMDB
 *         file, LMDB version mismatch), ENG_ECORRUPT, ENG_EINVAL (bad cfg),
 *         -ENOMEM, -ENOTDIR, -EACCES or another -errno.
 */
int	store_open(const char *dir, const struct store_config *cfg,
	    struct store **out, struct eng_errbuf *eb)
    __attribute__((warn_unused_result));

/** store_close - close the environment and release the lock.  NULL-safe.
 *  No transaction may be open. */
void	store_close(struct store *s);

/** store_get_info - fill *info.  0 or a translated error. */
int	store_get_info(struct store *s, struct store_info *info);

/** store_db_name - LMDB name of a database ("sources", "jobs", ...). */
const char *store_db_name(enum store_db db);

/* ---- transactions -------------------------------------------------------- */

typedef int store_txn_fn(struct store_txn *txn, void *arg);

/**
 * store_update - run fn inside one write transaction and commit it.
 * fn returns 0 to commit, or an error that aborts the txn and is returned.
 * When the map fills up (at a put or at commit), the txn is aborted, the map
 * doubled (bounded by cfg->map_max) and fn run again FROM THE START on a
 * fresh txn: fn must be idempotent with respect to its own side effects
 * outside the store (compute into arg, publish after store_update returns).
 * Writes of an aborted attempt are never visible.
 * @return 0 (committed), fn's error, -ENOSPC (map_max reached),
 *         ENG_ESTATE (called while this thread holds a txn), or another
 *         translated error.
 */
int	store_update(struct store *s, store_txn_fn *fn, void *arg)
    __attribute__((warn_unused_result));

/**
 * store_view - run fn inside one read-only transaction (a consistent
 * snapshot), then end it.  Returns fn's return value, or a begin error.
 */
int	store_view(struct store *s, store_txn_fn *fn, void *arg);

#define STORE_TXN_RDONLY	0x1

/**
 * store_txn_begin - begin a transaction by hand (prefer store_update /
 * store_view).  flags: STORE_TXN_RDONLY or 0 (write).  A hand-made write txn
 * does not re-run: a put that fills the map returns -ENOSPC and poisons the
 * txn; ending it grows the map so that a new attempt can succeed.
 * @return 0, ENG_ESTATE (thread already holds a txn), -EAGAIN (reader slots
 *         full) or another translated error.
 */
int	store_txn_begin(struct store *s, int flags, struct store_txn **out)
    __attribute__((warn_unused_result));

/**
 * store_txn_commit - commit and free the txn (also on failure).  Committing a
 * read txn just ends it.  Returns 0; ENG_ERETRYABLE when the map was full and
 * has been grown (run the txn again); -ENOSPC when map_max is reached; the
 * error that poisoned the txn; or another translated error.
 */
int	store_txn_commit(struct store_txn *txn);

/** store_txn_abort - abort and free the txn.  NULL-safe. */
void	store_txn_abort(struct store_txn *txn);

/* ---- records ------------------------------------------------------------- */

#define STORE_PUT_NOOVERWRITE	0x1	/**< fail with -EEXIST if key present */

/**
 * store_get - look up key.  *val points INTO THE DATABASE: read-only, valid
 * until the txn ends or the next write (put/del/log_append) in this txn.
 * Copy it (store_get_buf) to keep it.
 * @return 0, -ENOENT, -EINVAL (bad key length), or a translated error.
 */
int	store_get(struct store_txn *txn, enum store_db db, const void *key,
	    size_t klen, const void **val, size_t *vlen);

/** store_get_buf - like store_get, but appends a copy of the value to b
 *  (b's limit applies: -E2BIG). */
int	store_get_buf(struct store_txn *txn, enum store_db db, const void *key,
	    size_t klen, struct buf *b);

/**
 * store_put - insert or replace key (write txn).  flags: 0 or
 * STORE_PUT_NOOVERWRITE.
 * @return 0, -EEXIST (NOOVERWRITE and present), -EINVAL (bad key length),
 *         -EROFS (read txn), -ENOSPC (map full: the txn is poisoned; under
 *         store_update it is re-run), or a translated error.
 */
int	store_put(struct store_txn *txn, enum store_db db, const void *key,
	    size_t klen, const void *val, size_t vlen, int flags);

/** store_del - delete key.  0, -ENOENT, -EROFS, or a translated error. */
int	store_del(struct store_txn *txn, enum store_db db, const void *key,
	    size_t klen);

/** store_del_prefix - delete every key starting with prefix (plen may be 0:
 *  everything).  *n (may be NULL) gets the count.  0 or an error. */
int	store_del_prefix(struct store_txn *txn, enum store_db db,
	    const void *prefix, size_t plen, size_t *n);

/**
 * Iteration callback: key/val are borrowed for the duration of the call.
 * Return 0 to continue, > 0 to stop (store_iter then returns 0), < 0 to stop
 * with that error.  The callback must not write in this txn.
 */
typedef int store_iter_fn(void *arg, const void *key, size_t klen,
	    const void *val, size_t vlen);

#define STORE_ITER_REVERSE	0x1	/**< descending key order */
#define STORE_ITER_EXCLUSIVE	0x2	/**< skip a key equal to start */

/**
 * store_iter - visit keys starting with prefix (plen 0: all keys), in
 * ascending byte order, or descending with STORE_ITER_REVERSE.  When start
 * is non-NULL, iteration begins at the first key >= start (reverse: the last
 * key <= start), which resumes a listing (add STORE_ITER_EXCLUSIVE to resume
 * after the last key seen).  Cost is O(log n) to position plus O(1) per key.
 * @return 0, the callback's negative return, or a translated error.
 */
int	store_iter(struct store_txn *txn, enum store_db db, const void *prefix,
	    size_t plen, const void *start, size_t slen, int flags,
	    store_iter_fn *fn, void *arg);

/** store_count - number of keys starting with prefix.  0 or an error. */
int	store_count(struct store_txn *txn, enum store_db db, const void *prefix,
	    size_t plen, size_t *n);

/**
 * store_last - the greatest key starting with prefix (e.g. the latest
 * instance of a job: prefix "JOB\0").  key/val are borrowed like store_get.
 * @return 0, -ENOENT (no such key), or a translated error.
 */
int	store_last(struct store_txn *txn, enum store_db db, const void *prefix,
	    size_t plen, const void **key, size_t *klen, const void **val,
	    size_t *vlen);

/* ---- keys ---------------------------------------------------------------- */

/**
 * store_key_instance - build "JOB\0CYCLE" into out.  job must be non-empty
 * without NUL or '/'; cycle must be STORE_CYCLE_LEN digits.  *klen gets the
 * key length (the key is not NUL-terminated by contract).
 * @return 0, -EINVAL, -ENAMETOOLONG (too long for out or STORE_KEY_MAX).
 */
int	store_key_instance(void *out, size_t outsz, const char *job,
	    const char *cycle, size_t *klen);

/** store_key_def - build kind '\0' name (kind STORE_DEF_JOB/SOURCE). */
int	store_key_def(void *out, size_t outsz, int kind, const char *name,
	    size_t *klen);

/* ---- instance logs ------------------------------------------------------- */
/*
 * A log is the concatenation of its records, in append order; the mount
 * serves it as a file.  ikey is an instance key (store_key_instance); the
 * keys of different logs must not be prefixes of one another (true for
 * instance keys).  Records are stored under their starting byte offset, so
 * reading at any offset is one B-tree seek plus a sequential scan.
 */

/**
 * store_log_append - append one record (typically one line including its
 * '\n'; len >= 1) to the log of ikey (write txn).  at_ms (ms since the
 * epoch, from the caller's clock) becomes the log's mtime unless the log
 * already has a later one (a log's mtime never goes back).  *seq (may be
 * NULL) gets the record's sequence number, 0 for the first record.
 * @return 0, -EINVAL (len 0, at_ms < 0, bad key), -EROFS, -ENOSPC,
 *         ENG_ECORRUPT, or a translated error.
 */
int	store_log_append(struct store_txn *txn, const void *ikey, size_t iklen,
	    const void *data, size_t len, int64_t at_ms, uint64_t *seq);

/** store_log_stat - total bytes and record count (0/0 for no log). */
int	store_log_stat(struct store_txn *txn, const void *ikey, size_t iklen,
	    uint64_t *bytes, uint64_t *records);

struct store_log_hdr;
/** store_log_info - the header of ikey's log: records, bytes and mtime_ms
 *  (all 0 for no log; mtime_ms 0 also for a log written before mtimes
 *  were kept).  0 or an error. */
int	store_log_info(struct store_txn *txn, const void *ikey, size_t iklen,
	    struct store_log_hdr *out);

/**
 * store_log_read - copy up to len bytes of the concatenated log starting at
 * byte offset off into dst.  *got gets the count (0 at or beyond the end).
 * @return 0, ENG_ECORRUPT (records inconsistent with offsets), or an error.
 */
int	store_log_read(struct store_txn *txn, const void *ikey, size_t iklen,
	    uint64_t off, void *dst, size_t len, size_t *got);

/** Log record callback: data is borrowed for the call.  Returns like
 *  store_iter_fn. */
typedef int store_log_fn(void *arg, uint64_t seq, uint64_t off,
	    const void *data, size_t len);

/**
 * store_log_iter - visit records in order, starting with the record that
 * contains byte offset from_off (0: the first record).
 * @return 0, the callback's negative return, ENG_ECORRUPT, or an error.
 */
int	store_log_iter(struct store_txn *txn, const void *ikey, size_t iklen,
	    uint64_t from_off, store_log_fn *fn, void *arg);

/**
 * store_log_seq_offset - starting byte offset of record seq (binary search
 * over offsets: O(log^2 n)), so a reader can resume by sequence number with
 * store_log_iter / store_log_read.
 * @return 0, -ENOENT (seq >= record count), ENG_ECORRUPT, or an error.
 */
int	store_log_seq_offset(struct store_txn *txn, const void *ikey, size_t iklen,
	    uint64_t seq, uint64_t *off);

/** store_log_delete - remove a log entirely (write txn).  0 or an error;
 *  deleting an absent log is not an error. */
int	store_log_delete(struct store_txn *txn, const void *ikey, size_t iklen);

/* ---- log record codec (pure functions; fuzzed) ----------------------------*/

#define STORE_LOG_HDR_LEN	28	/**< size of a log header value */
#define STORE_LOG_HDR_V1_LEN	20	/**< a header without mtime_ms (read only) */
#define STORE_LOG_REC_HDR	8	/**< bytes before a record's data */

/** Decoded per-log header (value stored under the bare instance key). */
struct store_log_hdr {
	uint64_t records;	/**< records appended */
	uint64_t bytes;		/**< sum of their data lengths */
	int64_t	 mtime_ms;	/**< time of the last append (0: unknown) */
};

/** store_log_hdr_decode - parse a header value (STORE_LOG_HDR_LEN or
 *  STORE_LOG_HDR_V1_LEN bytes).  0 or ENG_ECORRUPT. */
int	store_log_hdr_decode(const void *p, size_t len, struct store_log_hdr *h);
/** store_log_hdr_encode - write STORE_LOG_HDR_LEN bytes to out. */
void	store_log_hdr_encode(const struct store_log_hdr *h, void *out);
/** store_log_rec_decode - split a record value into seq and data (borrowed
 *  from p).  0 or ENG_ECORRUPT. */
int	store_log_rec_decode(const void *p, size_t len, uint64_t *seq,
	    const void **data, size_t *dlen);

/* ---- backup and restore ---------------------------------------------------*/
/*
 * A backup is one file: a compacted copy of DIR/data.mdb (an LMDB
 * environment in a single file, as `mdb_dump -n` reads it), holding every
 * named database, the secrets sealed (store_put) under the key of DIR,
 * which the backup carries only when store_backup_key appended it.  It is taken as one consistent
 * snapshot (one read txn) while a mount keeps running, and restored into a
 * new or empty state directory.
 */

/** What a backup file holds (store_inspect, store_restore) or how much was
 *  written (store_backup: bytes only). */
struct store_dump_info {
	uint64_t bytes;				/**< size of the file, bytes */
	uint64_t entries[STORE_DB__COUNT];	/**< keys per named database */
	uint32_t schema;			/**< its STORE_SCHEMA_KEY version */
	bool	 key;				/**< store_restore: the backup carried
						     its secret key */
};

/**
 * store_backup - write a consistent, compacted copy of the state store in
 * dir (DIR/data.mdb) to fd, from fd's current offset (a regular file, a pipe,
 * a socket).  dir is opened as one more reader, never written and never
 * locked: a mount holding dir keeps running, and its map growth during the
 * copy is followed (MDB_MAP_RESIZED).  The snapshot is that of one read txn
 * begun at the start of the copy.  fd is not fsynced or closed.  The caller
 * should ignore SIGPIPE when fd may be a pipe (a closed reader then gives
 * -EPIPE).
 * @param[in] cancel  optional: when it becomes non-zero (a signal handler's
 *                    flag; install the handler without SA_RESTART), the copy
 *                    stops and -EINTR is returned; bytes already written to
 *                    fd are the caller's to discard
 * @param[out] info   optional: bytes written (entries are not filled)
 * @return 0, -ENOENT (no store in dir), ENG_EVERSION (newer schema, not an
 *         LMDB store), ENG_ECORRUPT, -EINTR, -EPIPE, -ENOSPC or another
 *         -errno from writing fd, or a translated LMDB error; eb says which.
 */
int	store_backup(const char *dir, int fd, const volatile sig_atomic_t *cancel,
	    struct store_dump_info *info, struct eng_errbuf *eb)
    __attribute__((warn_unused_result));

/**
 * store_backup_key - append the secret key of dir (seal.h: the key sources
 * are sealed under) to a backup store_backup has just written to fd, as a
 * trailer that LMDB ignores and store_restore takes off and installs.
 * Without it a backup holds no usable secret; with it the backup file is
 * as secret as the sources.  *had is false (nothing appended) when dir has
 * no key (nothing was ever sealed).
 * @return 0, or an error reading the key or writing fd (eb says which).
 */
int	store_backup_key(const char *dir, int fd, bool *had, struct eng_errbuf *eb)
    __attribute__((warn_unused_result));

/**
 * store_verify_secrets - every sealed record of s opens under its key (the
 * check store_restore makes).
 * @return 0, ENG_ECORRUPT (the key is missing or another one: eb says which
 *         and how to fix it), or a store error.
 */
int	store_verify_secrets(struct store *s, struct eng_errbuf *eb);

/** store_fsync_dir - fsync directory dir, so that a rename or create in it
 *  survives a crash.  0 or -errno. */
int	store_fsync_dir(const char *dir);

/**
 * store_inspect - check that path is a difs backup (or a data.mdb) this difs
 * can restore: an LMDB file, not truncated, with every named database and
 * schema version STORE_SCHEMA_VERSION, whose databases read back key by key
 * as many entries as they claim.  Opened read-only without a lock file
 * (nothing is created beside path).  Must not run while another process
 * writes the file.
 * @param[out] info  optional: size, entries per database, schema version
 * @return 0, -ENOENT, -EISDIR, -EINVAL (not a regular file), ENG_EVERSION
 *         (not an LMDB file, incompatible LMDB format, newer schema),
 *         ENG_ECORRUPT (empty, truncated, not a difs store, entries lost),
 *         or another error; eb names path and the reason.
 */
int	store_inspect(const char *path, struct store_dump_info *info,
	    struct eng_errbuf *eb)
    __attribute__((warn_unused_result));

/**
 * store_restore - make dir a state directory holding the backup read from
 * src_fd (a regular file or a pipe; read to its end).  dir must not exist
 * or be empty (but for a secret.key); it is created 0700 and held with the flock on DIR/lock (as a
 * mount holds it) while the bytes go to DIR/data.mdb.restore (0600),
 * fsynced, checked with store_inspect, renamed to DIR/data.mdb and opened
 * with store_open.  A key the backup carries (store_backup_key) becomes
 * DIR/secret.key (refused when another key is in force); then every sealed
 * record must open under the key in force (store_verify_secrets).  On any failure everything the call created is removed
 * again (dir too when the call made it; missing parents stay), so dir is
 * as before.  cancel works as for store_backup (-EINTR, rolled back).
 * @param[out] info  optional: what was restored (store_inspect)
 * @return 0, ENG_ELOCKED (a mount or another restore holds dir; eb has the
 *         pid), -ENOTEMPTY (dir has entries), -ENOTDIR, the errors of
 *         store_inspect and store_open, or an -errno of reading or writing.
 */
int	store_restore(int src_fd, const char *dir, const volatile sig_atomic_t *cancel,
	    struct store_dump_info *info, struct eng_errbuf *eb)
    __attribute__((warn_unused_result));

#endif /* DIFS_STORE_H */
