/* SPDX-License-Identifier: MIT */
/*
 * store.c - the state store over LMDB (see store.h).  The only file of difs
 * that includes <lmdb.h>.  Every MDB_* code is translated here (store_xlate);
 * nothing LMDB-specific leaves this file.
 *
 * Map growth.  LMDB's map size may only change while no transaction of this
 * process is open.  Every transaction therefore holds resize_lock for reading
 * for its whole life; growth takes it for writing (writer-preferring, so a
 * stream of readers cannot starve it).  Because a thread that already holds a
 * transaction and then waited for growth would deadlock, each thread may hold
 * at most one transaction: a per-store thread-specific flag (held_key) turns
 * nesting into ENG_ESTATE.
 *
 * Monotonic snapshots.  LMDB 0.9 publishes a commit's txnid (mti_txnid) only
 * after writing its meta page, and a read txn picks the meta page from that
 * id; a reader delayed between the two steps can get a snapshot NEWER than
 * the published id, and the next read txn then goes back in time (observed
 * under load: a log's size shrinking between two reads, which "tail -f"
 * takes for truncation).  Every write txn therefore bumps a commit counter
 * (STORE_DB_META "commit_seq"); read txns compare it with the highest value
 * this process has seen (seen_seq) and retry while theirs is older, which
 * lasts only until the writer publishes its txnid.
 *
 * Instance logs (STORE_DB_LOGS).  For an instance key K:
 *   K                 -> header: "dLg1", BE u64 records, BE u64 bytes,
 *                        BE i64 mtime_ms (the time of the last append; a
 *                        20-byte header written before it existed reads
 *                        as mtime_ms 0, "unknown")
 *   K || BE64(off)    -> record: BE u64 seq || data
 * where off is the record's first byte in the concatenated log.  Byte order of
 * the keys is offset order, so read(off) is MDB_SET_RANGE + one step back.
 *
 * Backup and restore.  store_backup opens DIR as a separate read-only
 * environment (one more reader; no flock, never a write) and runs
 * mdb_env_copyfd2(MDB_CP_COMPACT) in a thread into a pipe that the calling
 * thread drains into the output, so the byte count is exact for any fd, a
 * cancel flag is polled, and signals stay with the caller's thread.
 * store_inspect opens a file MDB_NOSUBDIR|MDB_RDONLY|MDB_NOLOCK (nothing
 * created beside it) and checks its size against its last page before any
 * page is touched (a truncated file would fault in the map).  store_restore
 * copies bytes, then inspects and opens the result; it never opens the
 * target environment twice in this process.
 *
 * Secrets at rest (seal.h).  Every record but the instance logs and the
 * store's own meta records (store_sealed) is sealed by store_put and opened
 * by every read (store_get, store_get_buf, store_iter, store_last) under
 * the key of the state directory (loaded once; created at the first write
 * of a store that holds no sealed record), with the database and the
 * record's key as AAD.  An older store's plaintext
 * record reads as it is and is sealed at its next write.  A backup carries
 * the key only when asked (store_backup_key: a trailer after the LMDB
 * bytes, which LMDB ignores); store_restore takes it off again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "seal.h"
#include "store.h"
#include "sys.h"

struct store {
	MDB_env		*env;
	MDB_dbi		 dbi[STORE_DB__COUNT];	/**< opened at store_open, then read-only */
	pthread_rwlock_t resize_lock;	/**< rd: any open txn; wr: map growth */
	pthread_key_t	 held_key;	/**< non-NULL while this thread holds a txn */
	pthread_mutex_t	 mu;		/**< protects grows */
	size_t		 map_max;	/**< bytes, immutable */
	unsigned	 grows;		/**< protected by mu */
	int		 lock_fd;	/**< DIR/lock or -1 */
	int		 ready;		/**< dbi[] valid (set once in store_open) */
	_Atomic uint64_t seen_seq;	/**< highest commit_seq seen by any txn */
	pthread_mutex_t	 key_mu;	/**< protects key, key_where */
	char		*key;		/**< SEAL_KEY_LEN bytes (sys_secret) or NULL */
	char		 key_where[PATH_MAX];	/**< the file it came from */
	_Atomic int	 key_warned;	/**< the mismatch was logged (or is reported
					     by store_verify_secrets instead) */
	char		 dir[PATH_MAX];
};

#define STORE_SEQ_KEY		"commit_seq"	/**< STORE_DB_META: BE u64 */
#define STORE_STALE_TRIES	20000		/**< x 10 us: give up after ~0.2 s+ */

struct store_txn {
	struct store	*s;
	MDB_txn		*txn;
	size_t		 map_seen;	/**< map size when the txn began */
	uint64_t	 seq;		/**< commit_seq in this txn's snapshot */
	int		 rdonly;
	int		 dirty;		/**< something was written */
	int		 err;		/**< poison: first error that broke the txn */
	int		 map_full;	/**< a put or commit hit MDB_MAP_FULL */
	struct store_opened *opened;	/**< store_get/store_last of sealed records */
};

/* the plaintext of a sealed record a store_get returned: kept (and then
 * wiped) until the txn ends, as a borrowed value would stay mapped */
struct store_opened {
	struct store_opened *next;
	struct buf	 b;
};

static const char *const store_db_names[STORE_DB__COUNT] = {
	[STORE_DB_SOURCES]	= "sources",
	[STORE_DB_JOBS]		= "jobs",
	[STORE_DB_DEFS]		= "defs",
	[STORE_DB_INSTANCES]	= "instances",
	[STORE_DB_LOGS]		= "logs",
	[STORE_DB_CHECKPOINTS]	= "checkpoints",
	[STORE_DB_META]		= "meta",
	[STORE_DB_FILES]	= "files",
};

static const char store_log_magic[4] = { 'd', 'L', 'g', '1' };

/* ---- helpers --------------------------------------------------------------- */

/* free a buffer that held plaintext of a sealed record */
static void
store_wipe(struct buf *b)
{
	if (b->cap > 0)
		explicit_bzero(b->p, b->cap);
	buf_free(b);
}

/*
 * store_sealed - the record is kept sealed.  Every record is but the
 * instance logs (masked text, read by offset) and the store's own meta
 * records (schema_version, commit_seq: read before any key is needed):
 * secrets are not only in sources (a job's parameters named like secrets,
 * an instance's resolved parameters), and one rule leaves no record out.
 */
static bool
store_sealed(enum store_db db, const void *key, size_t klen)
{
	if (db == STORE_DB_LOGS)
		return false;
	if (db == STORE_DB_META &&
	    ((klen == sizeof(STORE_SCHEMA_KEY) - 1 && memcmp(key, STORE_SCHEMA_KEY, klen) == 0) ||
	    (klen == sizeof(STORE_SEQ_KEY) - 1 && memcmp(key, STORE_SEQ_KEY, klen) == 0)))
		return false;
	return true;
}

/* the AAD of a record: its database, then its key */
static size_t
store_aad(enum store_db db, const void *key, size_t klen, unsigned char *aad)
{
	aad[0] = (unsigned char)db;
	memcpy(aad + 1, key, klen);
	return klen + 1;
}

/* a sealed record is in the store (txn t): a missing key is lost, not new */
static bool
store_any_sealed(struct store_txn *t)
{
	MDB_cursor *c;
	MDB_val k, v;
	bool found = false;

	for (int db = 0; db < STORE_DB__COUNT && !found; db++) {
		if (db == STORE_DB_LOGS || mdb_cursor_open(t->txn, t->s->dbi[db], &c) != 0)
			continue;
		for (int op = MDB_FIRST; !found && mdb_cursor_get(c, &k, &v, op) == 0;
		    op = MDB_NEXT)
			found = store_sealed((enum store_db)db, k.mv_data, k.mv_size) &&
			    seal_is_sealed(v.mv_data, v.mv_size);
		mdb_cursor_close(c);
	}
	return found;
}

/*
 * store_key - the store's key (loaded at the first need; for a write in t,
 * created unless the store already holds sealed records).  0 with *k set,
 * or the error (logged: a read error has no errbuf on its way to the
 * caller).
 */
static int
store_key(struct store *s, struct store_txn *t, const unsigned char **k)
{
	struct eng_errbuf eb = { "" };
	int rc = 0;

	pthread_mutex_lock(&s->key_mu);
	if (s->key == NULL) {
		rc = seal_key_load(s->dir, false, &s->key, s->key_where,
		    sizeof(s->key_where), &eb);
		if (rc == -ENOENT && t != NULL && !store_any_sealed(t))
			rc = seal_key_load(s->dir, true, &s->key, s->key_where,
			    sizeof(s->key_where), &eb);
		/* said once: every read after would say it again */
		if (rc == -ENOENT && atomic_exchange(&s->key_warned, 1) == 0)
			log_warnx("state store %s: a secret is sealed but %s is missing: restore "
			    "the key that was used (difs backup --with-key) or rewrite the "
			    "sources", s->dir, s->key_where);
		else if (rc != 0 && rc != -ENOENT && atomic_exchange(&s->key_warned, 1) == 0)
			log_warnx("state store %s: %s", s->dir, eb.msg);
		if (rc == -ENOENT)
			rc = ENG_ECORRUPT;
	}
	*k = (const unsigned char *)s->key;
	pthread_mutex_unlock(&s->key_mu);
	return rc;
}

/* open the sealed value v (key, klen of db) into out; legacy plaintext is
 * copied as it is */
static int
store_open_val(struct store *s, enum store_db db, const void *key, size_t klen,
    const void *v, size_t vlen, struct buf *out)
{
	unsigned char aad[STORE_KEY_MAX + 1];
	const unsigned char *k;
	size_t al;
	int rc;

	if (!seal_is_sealed(v, vlen))
		return buf_add(out, v, vlen);
	if ((rc = store_key(s, NULL, &k)) != 0)
		return rc;
	al = store_aad(db, key, klen, aad);
	rc = unseal(k, aad, al, v, vlen, out);
	if (rc == ENG_ECORRUPT && atomic_exchange(&s->key_warned, 1) == 0)
		log_warnx("state store %s: %s does not match this store: restore the key "
		    "that was used (difs backup --with-key) or rewrite the sources",
		    s->dir, s->key_where);
	return rc;
}

static void
store_put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t
store_get_be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/*
 * store_xlate - LMDB's mixed error space (positive errno, negative MDB_*)
 * into ours.
 */
static int
store_xlate(int mrc)
{
	switch (mrc) {
	case MDB_SUCCESS:		return 0;
	case MDB_NOTFOUND:		return -ENOENT;
	case MDB_KEYEXIST:		return -EEXIST;
	case MDB_MAP_FULL:		return -ENOSPC;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_PANIC:
	case MDB_PAGE_FULL:
	case MDB_CURSOR_FULL:		return ENG_ECORRUPT;
	case MDB_VERSION_MISMATCH:
	case MDB_INVALID:
	case MDB_INCOMPATIBLE:		return ENG_EVERSION;
	case MDB_READERS_FULL:
	case MDB_TLS_FULL:
	case MDB_MAP_RESIZED:		return -EAGAIN;
	case MDB_TXN_FULL:		return -EFBIG;
	case MDB_DBS_FULL:		return -EMFILE;
	case MDB_BAD_VALSIZE:
	case MDB_BAD_DBI:		return -EINVAL;
	case MDB_BAD_TXN:
	case MDB_BAD_RSLOT:		return ENG_ESTATE;
	default:
		break;
	}
	if (mrc > 0)
		return -mrc;
	return -EIO;
}

/* errors after which LMDB refuses further use of the write txn */
static int
store_poisons(int mrc)
{
	return mrc != MDB_SUCCESS && mrc != MDB_NOTFOUND &&
	    mrc != MDB_KEYEXIST && mrc != MDB_BAD_VALSIZE && mrc != EINVAL;
}

/* record an LMDB failure on t and return the translated code */
static int
store_txn_fail(struct store_txn *t, int mrc)
{
	int rc = store_xlate(mrc);

	if (mrc == MDB_MAP_FULL)
		t->map_full = 1;
	if (!t->rdonly && store_poisons(mrc) && t->err == 0)
		t->err = rc;
	return rc;
}

static int
store_check_key(const void *key, size_t klen)
{
	if (key == NULL || klen == 0 || klen > STORE_KEY_MAX)
		return -EINVAL;
	return 0;
}

static int
store_check(const struct store_txn *t, enum store_db db)
{
	if (t == NULL || (unsigned)db >= STORE_DB__COUNT)
		return -EINVAL;
	if (t->err != 0)
		return t->err;
	return 0;
}

static int
store_check_write(const struct store_txn *t, enum store_db db)
{
	int rc;

	if ((rc = store_check(t, db)) != 0)
		return rc;
	return t->rdonly ? -EROFS : 0;
}

int
store_default_dir(char *out, size_t outsz)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	struct passwd pw, *pwp = NULL;
	char pwbuf[4096];
	char tmp[PATH_MAX];
	int n, rc;

	if (out == NULL || outsz == 0)
		return -EINVAL;
	if (xdg != NULL && xdg[0] == '/') {
		n = snprintf(tmp, sizeof(tmp), "%s/difs", xdg);
	} else {
		if (home == NULL || home[0] == '\0') {
			if (getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &pwp) != 0 ||
			    pwp == NULL || pw.pw_dir == NULL || pw.pw_dir[0] == '\0')
				return -ENOENT;
			home = pw.pw_dir;
		}
		n = snprintf(tmp, sizeof(tmp), "%s/.local/state/difs", home);
	}
	if (n < 0 || (size_t)n >= sizeof(tmp) || (size_t)n >= outsz)
		return -ENAMETOOLONG;
	if ((rc = sys_mkdir_p(tmp, 0700)) != 0)
		return rc;
	memcpy(out, tmp, (size_t)n + 1);
	return 0;
}

const char *
store_db_name(enum store_db db)
{
	if ((unsigned)db >= STORE_DB__COUNT)
		return "?";
	return store_db_names[db];
}

/* ---- process lock ---------------------------------------------------------- */

static long
store_lock_pid(int fd)
{
	char b[32];
	ssize_t n = pread(fd, b, sizeof(b) - 1, 0);
	long pid = 0;

	if (n <= 0)
		return -1;
	for (ssize_t i = 0; i < n && b[i] != '\n'; i++) {
		if (b[i] < '0' || b[i] > '9' || pid > (LONG_MAX - 9) / 10)
			return -1;
		pid = pid * 10 + (b[i] - '0');
	}
	return pid > 0 ? pid : -1;
}

/* ENG_ELOCKED naming the holder of the lock file fd */
static int
store_lock_busy(int fd, const char *dir, struct eng_errbuf *eb)
{
	long pid = store_lock_pid(fd);

	if (pid > 0)
		return eng_errbuf_set(eb, ENG_ELOCKED,
		    "state directory %s is in use by process %ld", dir, pid);
	return eng_errbuf_set(eb, ENG_ELOCKED,
	    "state directory %s is in use by another process", dir);
}

static int
store_lock(const char *dir, int *fdp, struct eng_errbuf *eb)
{
	char path[PATH_MAX], pidtxt[32];
	int fd, n, rc, saverr;

	n = snprintf(path, sizeof(path), "%s/lock", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return eng_errbuf_set(eb, -ENAMETOOLONG, "state directory path too long");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		saverr = errno;
		return eng_errbuf_set(eb, -saverr, "%s: %s", path, strerror(saverr));
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		saverr = errno;
		if (saverr == EWOULDBLOCK) {
			rc = store_lock_busy(fd, dir, eb);
		} else {
			rc = eng_errbuf_set(eb, -saverr, "%s: flock: %s", path, strerror(saverr));
		}
		close(fd);
		return rc;
	}
	n = snprintf(pidtxt, sizeof(pidtxt), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pidtxt, (size_t)n, 0) != n) {
		saverr = errno;
		close(fd);
		return eng_errbuf_set(eb, -saverr, "%s: %s", path, strerror(saverr));
	}
	*fdp = fd;
	return 0;
}

/* ---- transactions ---------------------------------------------------------- */

static size_t
store_mapsize(struct store *s)
{
	MDB_envinfo ei;

	if (mdb_env_info(s->env, &ei) != 0)
		return 0;
	return ei.me_mapsize;
}

/*
 * store_grow - double the map (bounded by map_max) unless another txn already
 * grew it past seen.  Called with no txn of this thread open.
 */
static int
store_grow(struct store *s, size_t seen)
{
	MDB_stat st;
	size_t cur, want, psz;
	int rc = 0, mrc;

	pthread_rwlock_wrlock(&s->resize_lock);
	cur = store_mapsize(s);
	if (cur > seen)
		goto out;		/* someone else grew it meanwhile */
	if (cur >= s->map_max) {
		rc = -ENOSPC;
		goto out;
	}
	want = cur > s->map_max / 2 ? s->map_max : cur * 2;
	psz = mdb_env_stat(s->env, &st) == 0 ? st.ms_psize : 4096;
	want -= want % psz;
	if (want <= cur) {
		rc = -ENOSPC;
		goto out;
	}
	if ((mrc = mdb_env_set_mapsize(s->env, want)) != 0) {
		rc = store_xlate(mrc);
		goto out;
	}
	pthread_mutex_lock(&s->mu);
	s->grows++;
	pthread_mutex_unlock(&s->mu);
	log_debug("state store: map grown from %zu to %zu bytes", cur, want);
out:
	pthread_rwlock_unlock(&s->resize_lock);
	return rc;
}

/* commit_seq of t's snapshot (0 when absent) */
static uint64_t
store_read_seq(struct store_txn *t)
{
	MDB_val k = { sizeof(STORE_SEQ_KEY) - 1, (void *)(uintptr_t)STORE_SEQ_KEY }, v;

	if (mdb_get(t->txn, t->s->dbi[STORE_DB_META], &k, &v) != 0 || v.mv_size != 8)
		return 0;
	return store_get_be64(v.mv_data);
}

/* raise seen_seq to at least seq */
static void
store_seen(struct store *s, uint64_t seq)
{
	uint64_t cur = atomic_load(&s->seen_seq);

	while (cur < seq && !atomic_compare_exchange_weak(&s->seen_seq, &cur, seq))
		;
}

int
store_txn_begin(struct store *s, int flags, struct store_txn **out)
{
	struct store_txn *t;
	int mrc, tries, stale;

	*out = NULL;
	if (s == NULL || (flags & ~STORE_TXN_RDONLY) != 0)
		return -EINVAL;
	if (pthread_getspecific(s->held_key) != NULL)
		return ENG_ESTATE;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	t->s = s;
	t->rdonly = (flags & STORE_TXN_RDONLY) != 0;
	for (tries = 0, stale = 0;;) {
		pthread_rwlock_rdlock(&s->resize_lock);
		t->map_seen = store_mapsize(s);
		mrc = mdb_txn_begin(s->env, NULL, t->rdonly ? MDB_RDONLY : 0, &t->txn);
		if (mrc == MDB_MAP_RESIZED && tries++ < 3) {
			/* another process grew the map: adopt its size */
			pthread_rwlock_unlock(&s->resize_lock);
			pthread_rwlock_wrlock(&s->resize_lock);
			mrc = mdb_env_set_mapsize(s->env, 0);
			pthread_rwlock_unlock(&s->resize_lock);
			if (mrc != 0) {
				free(t);
				return store_xlate(mrc);
			}
			continue;
		}
		if (mrc != 0 || !s->ready)
			break;
		t->seq = store_read_seq(t);
		if (!t->rdonly || t->seq >= atomic_load(&s->seen_seq) ||
		    stale++ >= STORE_STALE_TRIES)
			break;
		/* older than a snapshot already seen (file header): again */
		mdb_txn_abort(t->txn);
		pthread_rwlock_unlock(&s->resize_lock);
		(void)nanosleep(&(struct timespec){ 0, 10000 }, NULL);
	}
	if (mrc != 0) {
		pthread_rwlock_unlock(&s->resize_lock);
		free(t);
		return store_xlate(mrc);
	}
	if (s->ready && t->rdonly)
		store_seen(s, t->seq);
	(void)pthread_setspecific(s->held_key, s);
	*out = t;
	return 0;
}

/*
 * store_txn_end - commit or abort, release the locks, grow the map when the
 * txn hit MDB_MAP_FULL.  Frees t.  Returns 0, ENG_ERETRYABLE (grown: run
 * again), -ENOSPC, or the commit error / poison.
 */
static int
store_txn_end(struct store_txn *t, int commit)
{
	struct store *s = t->s;
	int rc = 0, mrc;

	if (commit && !t->rdonly && t->err == 0 && !t->map_full) {
		unsigned char sb[8];
		MDB_val k = { sizeof(STORE_SEQ_KEY) - 1, (void *)(uintptr_t)STORE_SEQ_KEY };
		MDB_val v = { sizeof(sb), sb };

		store_put_be64(sb, t->seq + 1);
		mrc = s->ready && t->dirty ?
		    mdb_put(t->txn, s->dbi[STORE_DB_META], &k, &v, 0) : 0;
		if (mrc != 0)
			mdb_txn_abort(t->txn);
		else
			mrc = mdb_txn_commit(t->txn);
		if (mrc == MDB_MAP_FULL)
			t->map_full = 1;
		else
			rc = store_xlate(mrc);
		if (mrc == 0 && s->ready && t->dirty)
			store_seen(s, t->seq + 1);
	} else {
		mdb_txn_abort(t->txn);
		if (commit && t->err != 0)
			rc = t->err;
	}
	pthread_rwlock_unlock(&s->resize_lock);
	(void)pthread_setspecific(s->held_key, NULL);
	if (t->map_full) {
		int g = store_grow(s, t->map_seen);

		if (commit)
			rc = g == 0 ? ENG_ERETRYABLE : g;
	}
	while (t->opened != NULL) {
		struct store_opened *o = t->opened;

		t->opened = o->next;
		store_wipe(&o->b);
		free(o);
	}
	free(t);
	return rc;
}

int
store_txn_commit(struct store_txn *t)
{
	if (t == NULL)
		return -EINVAL;
	return store_txn_end(t, 1);
}

void
store_txn_abort(struct store_txn *t)
{
	if (t != NULL)
		(void)store_txn_end(t, 0);
}

int
store_update(struct store *s, store_txn_fn *fn, void *arg)
{
	struct store_txn *t;
	int rc;

	if (fn == NULL)
		return -EINVAL;
	for (;;) {
		if ((rc = store_txn_begin(s, 0, &t)) != 0)
			return rc;
		rc = fn(t, arg);
		if (t->map_full) {
			/* whatever fn made of the -ENOSPC, the txn is dead */
			rc = store_txn_end(t, 1);
			if (rc == ENG_ERETRYABLE)
				continue;
			return rc;
		}
		if (rc != 0) {
			store_txn_abort(t);
			return rc;
		}
		rc = store_txn_end(t, 1);
		if (rc != ENG_ERETRYABLE)
			return rc;
	}
}

int
store_view(struct store *s, store_txn_fn *fn, void *arg)
{
	struct store_txn *t;
	int rc;

	if (fn == NULL)
		return -EINVAL;
	if ((rc = store_txn_begin(s, STORE_TXN_RDONLY, &t)) != 0)
		return rc;
	rc = fn(t, arg);
	store_txn_abort(t);
	return rc;
}

/* ---- open / close ---------------------------------------------------------- */

/* check the schema version record of an existing environment */
static int
store_check_schema(MDB_txn *txn, MDB_dbi meta, struct eng_errbuf *eb)
{
	MDB_val k = { sizeof(STORE_SCHEMA_KEY) - 1, (void *)(uintptr_t)STORE_SCHEMA_KEY }, v;
	unsigned char vb[4];
	uint32_t ver;
	int mrc;

	mrc = mdb_get(txn, meta, &k, &v);
	if (mrc == MDB_NOTFOUND)
		return eng_errbuf_set(eb, ENG_ECORRUPT,
		    "state store has no schema version record");
	if (mrc != 0)
		return eng_errbuf_set(eb, store_xlate(mrc),
		    "reading schema version: %s", mdb_strerror(mrc));
	if (v.mv_size != 4)
		return eng_errbuf_set(eb, ENG_ECORRUPT,
		    "schema version record has %zu bytes, expected 4", v.mv_size);
	memcpy(vb, v.mv_data, 4);
	ver = (uint32_t)vb[0] << 24 | (uint32_t)vb[1] << 16 | (uint32_t)vb[2] << 8 | vb[3];
	if (ver != STORE_SCHEMA_VERSION)
		return eng_errbuf_set(eb, ver == 0 ? ENG_ECORRUPT : ENG_EVERSION,
		    "state store has schema version %u; this difs knows version %u%s",
		    ver, STORE_SCHEMA_VERSION,
		    ver > STORE_SCHEMA_VERSION ? " (written by a newer difs)" : "");
	return 0;
}

/*
 * store_open_existing - open the databases of a complete environment in a
 * read txn: no write, no writer lock, so opening while a mount runs costs
 * the mount nothing.  *found is 0 when a database is missing (the write
 * path, store_open_dbs, then creates it).
 */
static int
store_open_existing(struct store *s, struct eng_errbuf *eb, int *found)
{
	MDB_txn *txn = NULL;
	int rc, mrc;

	*found = 0;
	mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (mrc == MDB_MAP_RESIZED && (mrc = mdb_env_set_mapsize(s->env, 0)) == 0)
		mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (mrc != 0)
		return eng_errbuf_set(eb, store_xlate(mrc), "beginning a read txn: %s",
		    mdb_strerror(mrc));
	for (int i = 0; i < STORE_DB__COUNT; i++) {
		mrc = mdb_dbi_open(txn, store_db_names[i], 0, &s->dbi[i]);
		if (mrc == MDB_NOTFOUND) {
			mdb_txn_abort(txn);
			return 0;
		}
		if (mrc != 0) {
			mdb_txn_abort(txn);
			return eng_errbuf_set(eb, store_xlate(mrc), "opening database %s: %s",
			    store_db_names[i], mdb_strerror(mrc));
		}
	}
	if ((rc = store_check_schema(txn, s->dbi[STORE_DB_META], eb)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	/* commit, not abort: keeps the handles for the environment */
	if ((mrc = mdb_txn_commit(txn)) != 0)
		return eng_errbuf_set(eb, store_xlate(mrc), "opening databases: %s",
		    mdb_strerror(mrc));
	*found = 1;
	return 0;
}

/* write path of store_open: create missing databases, the schema record */
static int
store_open_dbs(struct store_txn *t, void *arg)
{
	struct eng_errbuf *eb = arg;
	struct store *s = t->s;
	MDB_dbi meta;
	MDB_val k = { sizeof(STORE_SCHEMA_KEY) - 1, (void *)(uintptr_t)STORE_SCHEMA_KEY }, v;
	unsigned char vb[4];
	int fresh, mrc;

	mrc = mdb_dbi_open(t->txn, store_db_names[STORE_DB_META], 0, &meta);
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		return eng_errbuf_set(eb, store_txn_fail(t, mrc),
		    "opening database meta: %s", mdb_strerror(mrc));
	fresh = mrc == MDB_NOTFOUND;
	for (int i = 0; i < STORE_DB__COUNT; i++) {
		mrc = mdb_dbi_open(t->txn, store_db_names[i], MDB_CREATE, &s->dbi[i]);
		if (mrc != 0)
			return eng_errbuf_set(eb, store_txn_fail(t, mrc),
			    "opening database %s: %s", store_db_names[i], mdb_strerror(mrc));
	}
	t->dirty = 1;
	if (!fresh)
		return store_check_schema(t->txn, s->dbi[STORE_DB_META], eb);
	vb[0] = (unsigned char)(STORE_SCHEMA_VERSION >> 24);
	vb[1] = (unsigned char)(STORE_SCHEMA_VERSION >> 16);
	vb[2] = (unsigned char)(STORE_SCHEMA_VERSION >> 8);
	vb[3] = (unsigned char)STORE_SCHEMA_VERSION;
	v.mv_data = vb;
	v.mv_size = sizeof(vb);
	mrc = mdb_put(t->txn, s->dbi[STORE_DB_META], &k, &v, 0);
	if (mrc != 0)
		return eng_errbuf_set(eb, store_txn_fail(t, mrc),
		    "writing schema version: %s", mdb_strerror(mrc));
	return 0;
}

/*
 * data.mdb and lock.mdb 0600 whatever the umask was and whatever mode an
 * older (or copied-in) file had: they hold the definitions and secrets.
 */
static int
store_private_files(struct store *s, const char *dir, struct eng_errbuf *eb)
{
	char path[PATH_MAX];
	mdb_filehandle_t fd;
	int lfd, saverr;

	if (mdb_env_get_fd(s->env, &fd) != 0 || fchmod(fd, 0600) != 0)
		return eng_errbuf_set(eb, -EIO, "state store %s: cannot make data.mdb "
		    "private (chmod 600 %s/data.mdb)", dir, dir);
	if (snprintf(path, sizeof(path), "%s/lock.mdb", dir) >= (int)sizeof(path))
		return eng_errbuf_set(eb, -ENAMETOOLONG, "state directory path too long");
	lfd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (lfd < 0 || fchmod(lfd, 0600) != 0) {
		saverr = errno;
		if (lfd >= 0)
			close(lfd);
		return eng_errbuf_set(eb, -saverr, "%s: %s (chmod 600 %s)", path,
		    strerror(saverr), path);
	}
	close(lfd);
	return 0;
}

int
store_open(const char *dir, const struct store_config *cfg, struct store **out,
    struct eng_errbuf *eb)
{
	static const struct store_config defaults = { 0 };
	struct store *s = NULL;
	pthread_rwlockattr_t ra;
	size_t map_size, map_max;
	int rc = -ENOMEM, mrc, dead, found, inited = 0;

	*out = NULL;
	if (cfg == NULL)
		cfg = &defaults;
	if (dir == NULL || dir[0] == '\0')
		return eng_errbuf_set(eb, ENG_EINVAL, "state directory not given");
	map_size = cfg->map_size != 0 ? cfg->map_size : STORE_MAP_DEFAULT;
	map_max = cfg->map_max != 0 ? cfg->map_max : STORE_MAP_MAX_DEFAULT;
	if (cfg->map_max == 0 && map_size > map_max)
		map_max = map_size;
	if (map_size < 4096 || map_size > map_max)
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "state store map size %zu must be within 4096..%zu", map_size, map_max);
	{
		char why[sizeof(eb->msg)];

		if ((rc = sys_private_dir(dir, "state directory", why, sizeof(why))) != 0)
			return eng_errbuf_set(eb, rc, "%s", why);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return eng_errbuf_set(eb, -ENOMEM, "out of memory");
	s->lock_fd = -1;
	s->map_max = map_max;
	if (snprintf(s->dir, sizeof(s->dir), "%s", dir) >= (int)sizeof(s->dir)) {
		free(s);
		return eng_errbuf_set(eb, -ENAMETOOLONG, "state directory %s: name too long", dir);
	}
	if (pthread_rwlockattr_init(&ra) != 0) {
		free(s);
		return -ENOMEM;
	}
	(void)pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	rc = pthread_rwlock_init(&s->resize_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	if (rc != 0) {
		free(s);
		return -rc;
	}
	if ((rc = pthread_key_create(&s->held_key, NULL)) != 0) {
		pthread_rwlock_destroy(&s->resize_lock);
		free(s);
		return -rc;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->key_mu, NULL);
	inited = 1;

	if (cfg->exclusive && (rc = store_lock(dir, &s->lock_fd, eb)) != 0)
		goto out;
	rc = -ENOMEM;
	if ((mrc = mdb_env_create(&s->env)) != 0) {
		s->env = NULL;
		rc = eng_errbuf_set(eb, store_xlate(mrc), "mdb_env_create: %s", mdb_strerror(mrc));
		goto out;
	}
	if ((mrc = mdb_env_set_maxdbs(s->env, STORE_DB__COUNT)) != 0 ||
	    (mrc = mdb_env_set_maxreaders(s->env,
	    cfg->max_readers != 0 ? cfg->max_readers : 126)) != 0 ||
	    (mrc = mdb_env_set_mapsize(s->env, map_size)) != 0) {
		rc = eng_errbuf_set(eb, store_xlate(mrc), "state store setup: %s", mdb_strerror(mrc));
		goto out;
	}
	if ((mrc = mdb_env_open(s->env, dir,
	    MDB_NOTLS | (cfg->nosync ? MDB_NOSYNC : 0), 0600)) != 0) {
		rc = eng_errbuf_set(eb, store_xlate(mrc), "state store %s: %s", dir,
		    mdb_strerror(mrc));
		goto out;
	}
	if ((rc = store_private_files(s, dir, eb)) != 0)
		goto out;
	if ((mrc = mdb_reader_check(s->env, &dead)) != 0) {
		rc = eng_errbuf_set(eb, store_xlate(mrc), "state store %s: reader check: %s",
		    dir, mdb_strerror(mrc));
		goto out;
	}
	if (dead > 0)
		log_info("state store %s: cleared %d stale reader slot(s)", dir, dead);
	if ((rc = store_open_existing(s, eb, &found)) != 0)
		goto out;
	if (!found && (rc = store_update(s, store_open_dbs, eb)) != 0) {
		if (rc == -ENOSPC || rc == ENG_ESTATE)
			(void)eng_errbuf_set(eb, rc, "state store %s: %s", dir, eng_strerror(rc));
		goto out;
	}
	s->ready = 1;	/* before any other thread can see s */
	*out = s;
	s = NULL;
	rc = 0;
out:
	if (s != NULL && inited) {
		if (s->env != NULL)
			mdb_env_close(s->env);
		if (s->lock_fd >= 0)
			close(s->lock_fd);
		pthread_key_delete(s->held_key);
		pthread_rwlock_destroy(&s->resize_lock);
		pthread_mutex_destroy(&s->mu);
		pthread_mutex_destroy(&s->key_mu);
		free(s);
	}
	return rc;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	mdb_env_close(s->env);
	if (s->lock_fd >= 0) {
		/* the flock is the truth; clear the pid for the next reader */
		if (ftruncate(s->lock_fd, 0) != 0)
			log_debug("state store: clearing lock file: %s", strerror(errno));
		close(s->lock_fd);
	}
	pthread_key_delete(s->held_key);
	pthread_rwlock_destroy(&s->resize_lock);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->key_mu);
	sys_secret_free(s->key);
	free(s);
}

int
store_get_info(struct store *s, struct store_info *info)
{
	MDB_envinfo ei;
	MDB_stat st;
	int mrc;

	if (s == NULL || info == NULL)
		return -EINVAL;
	if ((mrc = mdb_env_info(s->env, &ei)) != 0 || (mrc = mdb_env_stat(s->env, &st)) != 0)
		return store_xlate(mrc);
	memset(info, 0, sizeof(*info));
	info->map_size = ei.me_mapsize;
	info->map_max = s->map_max;
	info->page_size = st.ms_psize;
	info->used = ((uint64_t)ei.me_last_pgno + 1) * st.ms_psize;
	info->last_txnid = ei.me_last_txnid;
	info->readers = ei.me_numreaders;
	info->max_readers = ei.me_maxreaders;
	pthread_mutex_lock(&s->mu);
	info->grows = s->grows;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* ---- records --------------------------------------------------------------- */

/* the stored bytes of key, as they are (sealed or not) */
static int
store_get_raw(struct store_txn *t, enum store_db db, const void *key, size_t klen,
    const void **val, size_t *vlen)
{
	MDB_val k, v;
	int rc, mrc;

	if ((rc = store_check(t, db)) != 0 || (rc = store_check_key(key, klen)) != 0)
		return rc;
	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = klen;
	if ((mrc = mdb_get(t->txn, t->s->dbi[db], &k, &v)) != 0)
		return store_txn_fail(t, mrc);
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 0;
}

/* a sealed record's plaintext, kept until the txn ends (like a borrowed
 * value; several may be held at once) */
static int
store_open_txn(struct store_txn *t, enum store_db db, const void *key, size_t klen,
    const void **v, size_t *vl)
{
	struct store_opened *o;
	int rc;

	if (!store_sealed(db, key, klen) || !seal_is_sealed(*v, *vl))
		return 0;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return -ENOMEM;
	buf_init(&o->b, (size_t)UINT32_MAX);
	if ((rc = store_open_val(t->s, db, key, klen, *v, *vl, &o->b)) != 0) {
		store_wipe(&o->b);
		free(o);
		return rc;
	}
	o->next = t->opened;
	t->opened = o;
	*v = o->b.p;
	*vl = o->b.len;
	return 0;
}

int
store_get(struct store_txn *t, enum store_db db, const void *key, size_t klen,
    const void **val, size_t *vlen)
{
	const void *v;
	size_t vl;
	int rc;

	if ((rc = store_get_raw(t, db, key, klen, &v, &vl)) != 0 ||
	    (rc = store_open_txn(t, db, key, klen, &v, &vl)) != 0)
		return rc;
	if (val != NULL)
		*val = v;
	if (vlen != NULL)
		*vlen = vl;
	return 0;
}

/*
 * A large value, once copied, leaves this process's resident set: the
 * pages of the map it was read from stay in the page cache (a later read
 * maps them again), but a daemon reading thousands of 1 MiB definitions
 * does not keep them all mapped (issue 14, bounds).  Read-only txns only:
 * their values are in the map, while a write txn's may be in dirty pages,
 * which are malloc'd (MADV_DONTNEED would zero them).  The map does not
 * move while a txn is open.
 */
#define STORE_DROP_MIN	((size_t)64 << 10)

static void
store_drop_pages(const struct store_txn *t, const void *v, size_t vl)
{
	uintptr_t a = (uintptr_t)v, lo, hi, pg;
	long psz;

	if (!t->rdonly || vl < STORE_DROP_MIN || (psz = sysconf(_SC_PAGESIZE)) <= 0)
		return;
	pg = (uintptr_t)psz;
	lo = (a + pg - 1) & ~(pg - 1);
	hi = (a + vl) & ~(pg - 1);
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

int
store_get_buf(struct store_txn *t, enum store_db db, const void *key,
    size_t klen, struct buf *b)
{
	const void *v = NULL;
	size_t vl = 0;
	int rc;

	if (b == NULL)
		return -EINVAL;
	if (!store_sealed(db, key, klen)) {
		if ((rc = store_get(t, db, key, klen, &v, &vl)) != 0)
			return rc;
		rc = buf_add(b, v, vl);
		store_drop_pages(t, v, vl);
		return rc;
	}
	if ((rc = store_get_raw(t, db, key, klen, &v, &vl)) != 0)
		return rc;
	rc = store_open_val(t->s, db, key, klen, v, vl, b);
	store_drop_pages(t, v, vl);
	return rc;
}

int
store_put(struct store_txn *t, enum store_db db, const void *key, size_t klen,
    const void *val, size_t vlen, int flags)
{
	unsigned char aad[STORE_KEY_MAX + 1];
	const unsigned char *sk;
	struct buf sealed;
	MDB_val k, v;
	int rc, mrc;

	if ((rc = store_check_write(t, db)) != 0 || (rc = store_check_key(key, klen)) != 0)
		return rc;
	if ((flags & ~STORE_PUT_NOOVERWRITE) != 0 || (val == NULL && vlen != 0))
		return -EINVAL;
	buf_init(&sealed, (size_t)UINT32_MAX);
	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = klen;
	v.mv_data = (void *)(uintptr_t)val;
	v.mv_size = vlen;
	if (store_sealed(db, key, klen)) {
		if ((rc = store_key(t->s, t, &sk)) != 0 ||
		    (rc = seal(sk, aad, store_aad(db, key, klen, aad), val, vlen, &sealed)) != 0)
			return rc;
		v.mv_data = sealed.p;
		v.mv_size = sealed.len;
	}
	mrc = mdb_put(t->txn, t->s->dbi[db], &k, &v,
	    (flags & STORE_PUT_NOOVERWRITE) ? MDB_NOOVERWRITE : 0);
	buf_free(&sealed);
	if (mrc != 0)
		return store_txn_fail(t, mrc);
	t->dirty = 1;
	return 0;
}

int
store_del(struct store_txn *t, enum store_db db, const void *key, size_t klen)
{
	MDB_val k;
	int rc, mrc;

	if ((rc = store_check_write(t, db)) != 0 || (rc = store_check_key(key, klen)) != 0)
		return rc;
	k.mv_data = (void *)(uintptr_t)key;
	k.mv_size = klen;
	mrc = mdb_del(t->txn, t->s->dbi[db], &k, NULL);
	if (mrc != 0)
		return store_txn_fail(t, mrc);
	t->dirty = 1;
	return 0;
}

static int
store_has_prefix(const MDB_val *k, const void *prefix, size_t plen)
{
	return k->mv_size >= plen && (plen == 0 || memcmp(k->mv_data, prefix, plen) == 0);
}

/* byte-wise key order as LMDB's default comparator: memcmp, then length */
static int
store_keycmp(const void *a, size_t al, const void *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c != 0)
		return c;
	return al < bl ? -1 : al > bl;
}

int
store_del_prefix(struct store_txn *t, enum store_db db, const void *prefix,
    size_t plen, size_t *n)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	size_t cnt = 0;
	int rc, mrc;

	if ((rc = store_check_write(t, db)) != 0)
		return rc;
	if (plen > STORE_KEY_MAX || (prefix == NULL && plen != 0))
		return -EINVAL;
	if ((mrc = mdb_cursor_open(t->txn, t->s->dbi[db], &c)) != 0)
		return store_txn_fail(t, mrc);
	for (;;) {
		/* re-seek after each delete: simple and O(log n) each */
		k.mv_data = (void *)(uintptr_t)prefix;
		k.mv_size = plen;
		mrc = mdb_cursor_get(c, &k, &v, plen == 0 ? MDB_FIRST : MDB_SET_RANGE);
		if (mrc == MDB_NOTFOUND || (mrc == 0 && !store_has_prefix(&k, prefix, plen)))
			break;
		if (mrc == 0)
			mrc = mdb_cursor_del(c, 0);
		if (mrc != 0) {
			rc = store_txn_fail(t, mrc);
			goto out;
		}
		t->dirty = 1;
		cnt++;
	}
	if (n != NULL)
		*n = cnt;
	rc = 0;
out:
	mdb_cursor_close(c);
	return rc;
}

/* position c on the first key of the walk; returns an MDB code */
static int
store_iter_seek(MDB_cursor *c, MDB_val *k, MDB_val *v, const void *prefix,
    size_t plen, const void *start, size_t slen, int flags)
{
	unsigned char succ[STORE_KEY_MAX];
	size_t sl;
	int mrc;

	if (!(flags & STORE_ITER_REVERSE)) {
		if (start != NULL && store_keycmp(start, slen, prefix, plen) > 0) {
			k->mv_data = (void *)(uintptr_t)start;
			k->mv_size = slen;
		} else {
			start = NULL;	/* before the range: start at its beginning */
			k->mv_data = (void *)(uintptr_t)prefix;
			k->mv_size = plen;
		}
		if (k->mv_size == 0)
			return mdb_cursor_get(c, k, v, MDB_FIRST);
		mrc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
		if (mrc == 0 && start != NULL && (flags & STORE_ITER_EXCLUSIVE) &&
		    store_keycmp(k->mv_data, k->mv_size, start, slen) == 0)
			mrc = mdb_cursor_get(c, k, v, MDB_NEXT);
		return mrc;
	}
	if (start != NULL && store_keycmp(start, slen, prefix, plen) < 0)
		return MDB_NOTFOUND;	/* start below the range */
	if (start != NULL && store_has_prefix(&(MDB_val){ slen, (void *)(uintptr_t)start },
	    prefix, plen)) {
		k->mv_data = (void *)(uintptr_t)start;
		k->mv_size = slen;
		mrc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
		if (mrc == MDB_NOTFOUND)
			return mdb_cursor_get(c, k, v, MDB_LAST);
		if (mrc != 0)
			return mrc;
		if (!(flags & STORE_ITER_EXCLUSIVE) &&
		    store_keycmp(k->mv_data, k->mv_size, start, slen) == 0)
			return 0;
		return mdb_cursor_get(c, k, v, MDB_PREV);
	}
	/* last key with the prefix: seek the prefix's successor, step back */
	sl = plen;
	if (plen > 0)
		memcpy(succ, prefix, plen);
	while (sl > 0 && succ[sl - 1] == 0xff)
		sl--;
	if (sl == 0)
		return mdb_cursor_get(c, k, v, MDB_LAST);
	succ[sl - 1]++;
	k->mv_data = succ;
	k->mv_size = sl;
	mrc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
	if (mrc == MDB_NOTFOUND)
		return mdb_cursor_get(c, k, v, MDB_LAST);
	if (mrc != 0)
		return mrc;
	return mdb_cursor_get(c, k, v, MDB_PREV);
}

/* store_iter; open: sealed values reach fn opened (else as stored) */
static int
store_iter_do(struct store_txn *t, enum store_db db, const void *prefix,
    size_t plen, const void *start, size_t slen, int flags, bool open,
    store_iter_fn *fn, void *arg)
{
	MDB_cursor *c = NULL;
	struct buf pt;
	MDB_val k, v;
	int rc, mrc;

	if ((rc = store_check(t, db)) != 0)
		return rc;
	if (fn == NULL || plen > STORE_KEY_MAX || (prefix == NULL && plen != 0) ||
	    (start != NULL && store_check_key(start, slen) != 0) ||
	    (flags & ~(STORE_ITER_REVERSE | STORE_ITER_EXCLUSIVE)) != 0)
		return -EINVAL;
	if (prefix == NULL)
		prefix = "";
	if ((mrc = mdb_cursor_open(t->txn, t->s->dbi[db], &c)) != 0)
		return store_txn_fail(t, mrc);
	buf_init(&pt, (size_t)UINT32_MAX);
	mrc = store_iter_seek(c, &k, &v, prefix, plen, start, slen, flags);
	while (mrc == 0 && store_has_prefix(&k, prefix, plen)) {
		if (open && store_sealed(db, k.mv_data, k.mv_size) &&
		    seal_is_sealed(v.mv_data, v.mv_size)) {
			buf_reset(&pt);
			if ((rc = store_open_val(t->s, db, k.mv_data, k.mv_size, v.mv_data,
			    v.mv_size, &pt)) != 0)
				goto out;
			v.mv_data = pt.p;
			v.mv_size = pt.len;
		}
		rc = fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		if (rc != 0) {
			rc = rc > 0 ? 0 : rc;
			goto out;
		}
		mrc = mdb_cursor_get(c, &k, &v,
		    (flags & STORE_ITER_REVERSE) ? MDB_PREV : MDB_NEXT);
	}
	rc = (mrc == 0 || mrc == MDB_NOTFOUND) ? 0 : store_txn_fail(t, mrc);
out:
	store_wipe(&pt);
	mdb_cursor_close(c);
	return rc;
}

int
store_iter(struct store_txn *t, enum store_db db, const void *prefix,
    size_t plen, const void *start, size_t slen, int flags,
    store_iter_fn *fn, void *arg)
{
	return store_iter_do(t, db, prefix, plen, start, slen, flags, true, fn, arg);
}

static int
store_count_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	(void)key; (void)klen; (void)val; (void)vlen;
	(*(size_t *)arg)++;
	return 0;
}

int
store_count(struct store_txn *t, enum store_db db, const void *prefix,
    size_t plen, size_t *n)
{
	size_t cnt = 0;
	int rc;

	if (n == NULL)
		return -EINVAL;
	if ((rc = store_iter_do(t, db, prefix, plen, NULL, 0, 0, false, store_count_cb,
	    &cnt)) != 0)
		return rc;
	*n = cnt;
	return 0;
}

struct store_last_ctx {
	const void *k, *v;
	size_t kl, vl;
	int found;
};

static int
store_last_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct store_last_ctx *c = arg;

	c->k = key;
	c->kl = klen;
	c->v = val;
	c->vl = vlen;
	c->found = 1;
	return 1;
}

int
store_last(struct store_txn *t, enum store_db db, const void *prefix,
    size_t plen, const void **key, size_t *klen, const void **val, size_t *vlen)
{
	struct store_last_ctx c = { 0 };
	int rc;

	rc = store_iter_do(t, db, prefix, plen, NULL, 0, STORE_ITER_REVERSE, false,
	    store_last_cb, &c);
	if (rc != 0)
		return rc;
	if (!c.found)
		return -ENOENT;
	if ((rc = store_open_txn(t, db, c.k, c.kl, &c.v, &c.vl)) != 0)
		return rc;
	if (key != NULL)
		*key = c.k;
	if (klen != NULL)
		*klen = c.kl;
	if (val != NULL)
		*val = c.v;
	if (vlen != NULL)
		*vlen = c.vl;
	return 0;
}

/* ---- keys ------------------------------------------------------------------ */

int
store_key_instance(void *out, size_t outsz, const char *job, const char *cycle,
    size_t *klen)
{
	unsigned char *p = out;
	size_t jl, n;

	if (out == NULL || job == NULL || cycle == NULL || klen == NULL)
		return -EINVAL;
	jl = strlen(job);
	if (jl == 0 || memchr(job, '/', jl) != NULL)
		return -EINVAL;
	if (strlen(cycle) != STORE_CYCLE_LEN)
		return -EINVAL;
	for (size_t i = 0; i < STORE_CYCLE_LEN; i++)
		if (cycle[i] < '0' || cycle[i] > '9')
			return -EINVAL;
	n = jl + 1 + STORE_CYCLE_LEN;
	if (n > outsz || n > STORE_KEY_MAX)
		return -ENAMETOOLONG;
	memcpy(p, job, jl);
	p[jl] = '\0';
	memcpy(p + jl + 1, cycle, STORE_CYCLE_LEN);
	*klen = n;
	return 0;
}

int
store_key_def(void *out, size_t outsz, int kind, const char *name, size_t *klen)
{
	unsigned char *p = out;
	size_t nl, n;

	if (out == NULL || name == NULL || klen == NULL ||
	    (kind != STORE_DEF_JOB && kind != STORE_DEF_SOURCE))
		return -EINVAL;
	nl = strlen(name);
	if (nl == 0)
		return -EINVAL;
	n = 2 + nl;
	if (n > outsz || n > STORE_KEY_MAX)
		return -ENAMETOOLONG;
	p[0] = (unsigned char)kind;
	p[1] = '\0';
	memcpy(p + 2, name, nl);
	*klen = n;
	return 0;
}

/* ---- instance logs --------------------------------------------------------- */

int
store_log_hdr_decode(const void *p, size_t len, struct store_log_hdr *h)
{
	const unsigned char *b = p;
	struct store_log_hdr x;

	if (p == NULL || h == NULL ||
	    (len != STORE_LOG_HDR_LEN && len != STORE_LOG_HDR_V1_LEN) ||
	    memcmp(b, store_log_magic, sizeof(store_log_magic)) != 0)
		return ENG_ECORRUPT;
	x.records = store_get_be64(b + 4);
	x.bytes = store_get_be64(b + 12);
	x.mtime_ms = len == STORE_LOG_HDR_LEN ? (int64_t)store_get_be64(b + 20) : 0;
	if (x.mtime_ms < 0)
		return ENG_ECORRUPT;
	/* every record holds at least one byte */
	if (x.records > x.bytes)
		return ENG_ECORRUPT;
	*h = x;
	return 0;
}

void
store_log_hdr_encode(const struct store_log_hdr *h, void *out)
{
	unsigned char *b = out;

	memcpy(b, store_log_magic, sizeof(store_log_magic));
	store_put_be64(b + 4, h->records);
	store_put_be64(b + 12, h->bytes);
	store_put_be64(b + 20, (uint64_t)h->mtime_ms);
}

int
store_log_rec_decode(const void *p, size_t len, uint64_t *seq,
    const void **data, size_t *dlen)
{
	const unsigned char *b = p;

	if (p == NULL || len <= STORE_LOG_REC_HDR)
		return ENG_ECORRUPT;
	if (seq != NULL)
		*seq = store_get_be64(b);
	if (data != NULL)
		*data = b + STORE_LOG_REC_HDR;
	if (dlen != NULL)
		*dlen = len - STORE_LOG_REC_HDR;
	return 0;
}

static int
store_log_key_check(const void *ikey, size_t iklen)
{
	if (ikey == NULL || iklen == 0 || iklen > STORE_KEY_MAX - 8)
		return -EINVAL;
	return 0;
}

/* header of ikey's log; zeroes when there is none */
static int
store_log_hdr_get(struct store_txn *t, const void *ikey, size_t iklen,
    struct store_log_hdr *h)
{
	const void *v = NULL;
	size_t vl = 0;
	int rc;

	rc = store_get(t, STORE_DB_LOGS, ikey, iklen, &v, &vl);
	if (rc == -ENOENT) {
		h->records = 0;
		h->bytes = 0;
		h->mtime_ms = 0;
		return 0;
	}
	if (rc != 0)
		return rc;
	return store_log_hdr_decode(v, vl, h);
}

int
store_log_append(struct store_txn *t, const void *ikey, size_t iklen,
    const void *data, size_t len, int64_t at_ms, uint64_t *seq)
{
	struct store_log_hdr h;
	unsigned char kb[STORE_KEY_MAX], hb[STORE_LOG_HDR_LEN];
	MDB_val k, v;
	int rc, mrc;

	if ((rc = store_check_write(t, STORE_DB_LOGS)) != 0 ||
	    (rc = store_log_key_check(ikey, iklen)) != 0)
		return rc;
	if (data == NULL || len == 0 || at_ms < 0)
		return -EINVAL;
	if ((rc = store_log_hdr_get(t, ikey, iklen, &h)) != 0)
		return rc;
	if (h.bytes + len < h.bytes || len > SIZE_MAX - STORE_LOG_REC_HDR)
		return -EFBIG;
	memcpy(kb, ikey, iklen);
	store_put_be64(kb + iklen, h.bytes);
	k.mv_data = kb;
	k.mv_size = iklen + 8;
	v.mv_data = NULL;
	v.mv_size = len + STORE_LOG_REC_HDR;
	/* reserve, then fill: one copy of data; NOOVERWRITE catches a header
	 * that lags behind its records */
	mrc = mdb_put(t->txn, t->s->dbi[STORE_DB_LOGS], &k, &v,
	    MDB_RESERVE | MDB_NOOVERWRITE);
	if (mrc == MDB_KEYEXIST)
		return ENG_ECORRUPT;
	if (mrc != 0)
		return store_txn_fail(t, mrc);
	t->dirty = 1;
	store_put_be64(v.mv_data, h.records);
	memcpy((unsigned char *)v.mv_data + STORE_LOG_REC_HDR, data, len);
	if (seq != NULL)
		*seq = h.records;
	h.records++;
	h.bytes += len;
	if (at_ms > h.mtime_ms)	/* never backwards: a log's mtime only grows */
		h.mtime_ms = at_ms;
	store_log_hdr_encode(&h, hb);
	return store_put(t, STORE_DB_LOGS, ikey, iklen, hb, sizeof(hb), 0);
}

int
store_log_stat(struct store_txn *t, const void *ikey, size_t iklen,
    uint64_t *bytes, uint64_t *records)
{
	struct store_log_hdr h;
	int rc;

	if ((rc = store_log_info(t, ikey, iklen, &h)) != 0)
		return rc;
	if (bytes != NULL)
		*bytes = h.bytes;
	if (records != NULL)
		*records = h.records;
	return 0;
}

int
store_log_info(struct store_txn *t, const void *ikey, size_t iklen,
    struct store_log_hdr *out)
{
	struct store_log_hdr h;
	int rc;

	if ((rc = store_check(t, STORE_DB_LOGS)) != 0 ||
	    (rc = store_log_key_check(ikey, iklen)) != 0)
		return rc;
	if ((rc = store_log_hdr_get(t, ikey, iklen, &h)) != 0)
		return rc;
	*out = h;
	return 0;
}

/*
 * store_log_walk - call fn for each record of ikey's log from the one
 * containing from_off, checking that records tile the byte range without
 * gaps or overlaps.
 */
static int
store_log_walk(struct store_txn *t, const void *ikey, size_t iklen,
    uint64_t from_off, store_log_fn *fn, void *arg)
{
	struct store_log_hdr h;
	unsigned char kb[STORE_KEY_MAX];
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint64_t off, seq, expect = 0, expect_seq = 0;
	const void *d;
	size_t dl;
	int rc, mrc, first = 1;

	if ((rc = store_check(t, STORE_DB_LOGS)) != 0 ||
	    (rc = store_log_key_check(ikey, iklen)) != 0)
		return rc;
	if ((rc = store_log_hdr_get(t, ikey, iklen, &h)) != 0)
		return rc;
	if (from_off >= h.bytes)
		return 0;
	if ((mrc = mdb_cursor_open(t->txn, t->s->dbi[STORE_DB_LOGS], &c)) != 0)
		return store_txn_fail(t, mrc);
	memcpy(kb, ikey, iklen);
	store_put_be64(kb + iklen, from_off);
	k.mv_data = kb;
	k.mv_size = iklen + 8;
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (mrc == MDB_NOTFOUND)
		mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	else if (mrc == 0 && store_keycmp(k.mv_data, k.mv_size, kb, iklen + 8) != 0)
		mrc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	for (;;) {
		if (mrc != 0) {
			rc = mrc == MDB_NOTFOUND ? ENG_ECORRUPT : store_txn_fail(t, mrc);
			goto out;
		}
		if (k.mv_size != iklen + 8 || memcmp(k.mv_data, ikey, iklen) != 0) {
			rc = ENG_ECORRUPT;	/* header says bytes remain */
			goto out;
		}
		off = store_get_be64((const unsigned char *)k.mv_data + iklen);
		if ((rc = store_log_rec_decode(v.mv_data, v.mv_size, &seq, &d, &dl)) != 0)
			goto out;
		if ((first && (off > from_off || from_off - off >= dl)) ||
		    (!first && (off != expect || seq != expect_seq)) ||
		    seq >= h.records || off > h.bytes || dl > h.bytes - off) {
			rc = ENG_ECORRUPT;
			goto out;
		}
		first = 0;
		if ((rc = fn(arg, seq, off, d, dl)) != 0) {
			rc = rc > 0 ? 0 : rc;
			goto out;
		}
		expect = off + dl;
		expect_seq = seq + 1;
		if (expect == h.bytes)
			break;
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	rc = 0;
out:
	mdb_cursor_close(c);
	return rc;
}

/* the record of ikey's log containing byte off (off < log size) */
static int
store_log_at(struct store_txn *t, MDB_cursor *c, const void *ikey, size_t iklen,
    uint64_t off, uint64_t *roff, uint64_t *seq, size_t *dl)
{
	unsigned char kb[STORE_KEY_MAX];
	MDB_val k, v;
	const void *d;
	int mrc;

	memcpy(kb, ikey, iklen);
	store_put_be64(kb + iklen, off);
	k.mv_data = kb;
	k.mv_size = iklen + 8;
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (mrc == MDB_NOTFOUND)
		mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	else if (mrc == 0 && store_keycmp(k.mv_data, k.mv_size, kb, iklen + 8) != 0)
		mrc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	if (mrc != 0)
		return mrc == MDB_NOTFOUND ? ENG_ECORRUPT : store_txn_fail(t, mrc);
	if (k.mv_size != iklen + 8 || memcmp(k.mv_data, ikey, iklen) != 0)
		return ENG_ECORRUPT;
	*roff = store_get_be64((const unsigned char *)k.mv_data + iklen);
	if (store_log_rec_decode(v.mv_data, v.mv_size, seq, &d, dl) != 0 ||
	    *roff > off || off - *roff >= *dl)
		return ENG_ECORRUPT;
	return 0;
}

int
store_log_seq_offset(struct store_txn *t, const void *ikey, size_t iklen,
    uint64_t seq, uint64_t *off)
{
	struct store_log_hdr h;
	MDB_cursor *c = NULL;
	uint64_t lo = 0, hi, mid, roff = 0, rseq = 0;
	size_t dl;
	int rc, mrc;

	if ((rc = store_check(t, STORE_DB_LOGS)) != 0 ||
	    (rc = store_log_key_check(ikey, iklen)) != 0)
		return rc;
	if (off == NULL)
		return -EINVAL;
	if ((rc = store_log_hdr_get(t, ikey, iklen, &h)) != 0)
		return rc;
	if (seq >= h.records)
		return -ENOENT;
	if ((mrc = mdb_cursor_open(t->txn, t->s->dbi[STORE_DB_LOGS], &c)) != 0)
		return store_txn_fail(t, mrc);
	/* seq grows with offset: bisect the byte range [lo, hi) */
	hi = h.bytes;
	rc = ENG_ECORRUPT;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((rc = store_log_at(t, c, ikey, iklen, mid, &roff, &rseq, &dl)) != 0)
			goto out;
		if (rseq == seq) {
			*off = roff;
			rc = 0;
			goto out;
		}
		rc = ENG_ECORRUPT;
		if (rseq < seq)
			lo = roff + dl;
		else
			hi = roff;
	}
out:
	mdb_cursor_close(c);
	return rc;
}

int
store_log_iter(struct store_txn *t, const void *ikey, size_t iklen,
    uint64_t from_off, store_log_fn *fn, void *arg)
{
	if (fn == NULL)
		return -EINVAL;
	return store_log_walk(t, ikey, iklen, from_off, fn, arg);
}

struct store_log_read_ctx {
	unsigned char	*dst;
	size_t		 len, got;
	uint64_t	 pos;
};

static int
store_log_read_cb(void *arg, uint64_t seq, uint64_t off, const void *data, size_t len)
{
	struct store_log_read_ctx *c = arg;
	size_t skip = (size_t)(c->pos - off), n = len - skip;

	(void)seq;
	if (n > c->len - c->got)
		n = c->len - c->got;
	memcpy(c->dst + c->got, (const unsigned char *)data + skip, n);
	c->got += n;
	c->pos += n;
	return c->got == c->len;
}

int
store_log_read(struct store_txn *t, const void *ikey, size_t iklen,
    uint64_t off, void *dst, size_t len, size_t *got)
{
	struct store_log_read_ctx c = { dst, len, 0, off };
	int rc;

	if (got == NULL || (dst == NULL && len != 0))
		return -EINVAL;
	if (len != 0 && (rc = store_log_walk(t, ikey, iklen, off,
	    store_log_read_cb, &c)) != 0)
		return rc;
	*got = c.got;
	return 0;
}

int
store_log_delete(struct store_txn *t, const void *ikey, size_t iklen)
{
	int rc;

	if ((rc = store_log_key_check(ikey, iklen)) != 0)
		return rc;
	return store_del_prefix(t, STORE_DB_LOGS, ikey, iklen, NULL);
}

/* ---- backup and restore ---------------------------------------------------- */

#define STORE_PUMP_CHUNK	((size_t)1 << 20)	/**< bytes per read/write */
#define STORE_RESTORE_TMP	"data.mdb.restore"

/* eb->msg = "what: " eb->msg (rc returned) */
static int
store_errbuf_prefix(struct eng_errbuf *eb, int rc, const char *what)
{
	char tmp[sizeof(eb->msg)];

	if (eb == NULL)
		return rc;
	memcpy(tmp, eb->msg, sizeof(tmp));
	tmp[sizeof(tmp) - 1] = '\0';
	return eng_errbuf_set(eb, rc, "%s: %s", what, tmp[0] != '\0' ? tmp : eng_strerror(rc));
}

/* write all of p to fd; -errno (EINTR only when cancelled) */
static int
store_write_all(int fd, const unsigned char *p, size_t len,
    const volatile sig_atomic_t *cancel)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR && (cancel == NULL || !*cancel))
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * store_pump - copy in to out until in's end.  *bytes gets the count.
 * Returns 0, -EINTR (cancelled), -ENOMEM, or the -errno of a read (*rd = 1)
 * or of a write (*rd = 0).
 */
static int
store_pump(int in, int out, const volatile sig_atomic_t *cancel,
    uint64_t *bytes, int *rd)
{
	unsigned char *chunk;
	ssize_t n;
	int rc = 0;

	*bytes = 0;
	*rd = 0;
	if ((chunk = malloc(STORE_PUMP_CHUNK)) == NULL)
		return -ENOMEM;
	while (rc == 0) {
		if (cancel != NULL && *cancel)
			rc = -EINTR;
		else if ((n = read(in, chunk, STORE_PUMP_CHUNK)) > 0) {
			if ((rc = store_write_all(out, chunk, (size_t)n, cancel)) == 0)
				*bytes += (uint64_t)n;
		} else if (n == 0)
			break;
		else if (errno != EINTR) {
			rc = -errno;
			*rd = 1;
		}
	}
	free(chunk);
	return rc;
}

int
store_fsync_dir(const char *dir)
{
	int fd, rc = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* a read-only environment handle on path (flags: MDB_NOSUBDIR|MDB_NOLOCK) */
static int
store_env_ro(const char *path, const char *what, unsigned flags, MDB_env **out,
    struct eng_errbuf *eb)
{
	MDB_env *env = NULL;
	int mrc;

	*out = NULL;
	if ((mrc = mdb_env_create(&env)) != 0)
		return eng_errbuf_set(eb, store_xlate(mrc), "%s: mdb_env_create: %s", what,
		    mdb_strerror(mrc));
	if ((mrc = mdb_env_set_maxdbs(env, STORE_DB__COUNT)) == 0)
		mrc = mdb_env_open(env, path, flags | MDB_RDONLY | MDB_NOTLS, 0600);
	if (mrc != 0) {
		mdb_env_close(env);
		if (mrc == MDB_INVALID)
			return eng_errbuf_set(eb, ENG_EVERSION,
			    "%s: not an LMDB file (so neither a difs backup nor a state store)",
			    what);
		if (mrc == MDB_VERSION_MISMATCH)
			return eng_errbuf_set(eb, ENG_EVERSION,
			    "%s: written by an incompatible LMDB version", what);
		return eng_errbuf_set(eb, store_xlate(mrc), "%s: %s", what, mdb_strerror(mrc));
	}
	*out = env;
	return 0;
}

/*
 * store_env_check - in one read txn of env: every named database exists,
 * the schema version is ours and, when entries is non-NULL, each database
 * yields by cursor as many keys as it claims (entries[] gets them).
 */
static int
store_env_check(MDB_env *env, const char *what, uint64_t *entries,
    struct eng_errbuf *eb)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_dbi dbi[STORE_DB__COUNT];
	MDB_stat st;
	MDB_val k, v;
	uint64_t n;
	int rc, mrc, tries = 0;

	while ((mrc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) == MDB_MAP_RESIZED &&
	    tries++ < 3) {
		/* the mount grew the map since we opened: adopt its size */
		if ((mrc = mdb_env_set_mapsize(env, 0)) != 0)
			break;
	}
	if (mrc != 0)
		return eng_errbuf_set(eb, store_xlate(mrc), "%s: beginning a read txn: %s",
		    what, mdb_strerror(mrc));
	for (int i = 0; i < STORE_DB__COUNT; i++) {
		mrc = mdb_dbi_open(txn, store_db_names[i], 0, &dbi[i]);
		if (mrc == MDB_NOTFOUND || mrc == MDB_INCOMPATIBLE) {
			rc = eng_errbuf_set(eb, ENG_ECORRUPT,
			    "%s: an LMDB file but not a difs state store (no database \"%s\")",
			    what, store_db_names[i]);
			goto out;
		}
		if (mrc != 0) {
			rc = eng_errbuf_set(eb, store_xlate(mrc), "%s: opening database %s: %s",
			    what, store_db_names[i], mdb_strerror(mrc));
			goto out;
		}
	}
	if ((rc = store_check_schema(txn, dbi[STORE_DB_META], eb)) != 0) {
		rc = store_errbuf_prefix(eb, rc, what);
		goto out;
	}
	for (int i = 0; entries != NULL && i < STORE_DB__COUNT; i++) {
		if ((mrc = mdb_stat(txn, dbi[i], &st)) != 0 ||
		    (mrc = mdb_cursor_open(txn, dbi[i], &c)) != 0)
			break;
		n = 0;
		for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0;
		    mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
			n++;
		mdb_cursor_close(c);
		c = NULL;
		if (mrc != MDB_NOTFOUND)
			break;
		mrc = 0;
		if (n != st.ms_entries) {
			rc = eng_errbuf_set(eb, ENG_ECORRUPT,
			    "%s: database %s claims %zu entries but %" PRIu64 " read back",
			    what, store_db_names[i], st.ms_entries, n);
			goto out;
		}
		entries[i] = n;
	}
	if (mrc != 0) {
		rc = eng_errbuf_set(eb, store_xlate(mrc), "%s: reading: %s", what,
		    mdb_strerror(mrc));
		goto out;
	}
	rc = 0;
out:
	mdb_txn_abort(txn);
	return rc;
}

struct store_copy {
	MDB_env	*env;
	int	 wfd;		/**< write end of the pipe; closed by the thread */
	int	 mrc;		/**< the copy's result */
};

/* the compacting copy, into the pipe the caller's thread drains */
static void *
store_copy_main(void *arg)
{
	struct store_copy *c = arg;

	for (int tries = 0;; tries++) {
		/* MDB_MAP_RESIZED comes from the copy's txn_begin, before any
		 * byte is written, so the copy can simply start again */
		c->mrc = mdb_env_copyfd2(c->env, c->wfd, MDB_CP_COMPACT);
		if (c->mrc != MDB_MAP_RESIZED || tries >= 3)
			break;
		if ((c->mrc = mdb_env_set_mapsize(c->env, 0)) != 0)
			break;
	}
	close(c->wfd);
	c->wfd = -1;
	return NULL;
}

int
store_backup(const char *dir, int fd, const volatile sig_atomic_t *cancel,
    struct store_dump_info *info, struct eng_errbuf *eb)
{
	struct store_copy c = { NULL, -1, 0 };
	char path[PATH_MAX];
	struct stat sb;
	sigset_t all, old;
	pthread_t th;
	uint64_t bytes = 0;
	int rc, n, rd, pfd[2] = { -1, -1 };

	if (dir == NULL || dir[0] == '\0' || fd < 0)
		return eng_errbuf_set(eb, -EINVAL, "no state directory or output");
	n = snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return eng_errbuf_set(eb, -ENAMETOOLONG, "%s: path too long", dir);
	if (stat(path, &sb) != 0) {
		rc = -errno;
		if (rc == -ENOENT)
			return eng_errbuf_set(eb, rc, "no state store in %s (no data.mdb): "
			    "nothing to back up", dir);
		return eng_errbuf_set(eb, rc, "%s: %s", path, strerror(-rc));
	}
	/* a reader like any other: no flock, so a mount on dir keeps running */
	if ((rc = store_env_ro(dir, dir, 0, &c.env, eb)) != 0)
		goto out;
	if ((rc = store_env_check(c.env, dir, NULL, eb)) != 0)
		goto out;
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		rc = eng_errbuf_set(eb, -errno, "pipe: %s", strerror(errno));
		goto out;
	}
	c.wfd = pfd[1];
	pfd[1] = -1;
	/* signals (SIGINT for cancel, SIGPIPE as EPIPE) stay with this thread:
	 * the copy threads inherit the blocked mask */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&th, NULL, store_copy_main, &c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(c.wfd);
		rc = eng_errbuf_set(eb, -rc, "starting the copy: %s", strerror(rc));
		goto out;
	}
	rc = store_pump(pfd[0], fd, cancel, &bytes, &rd);
	close(pfd[0]);		/* a copy still writing stops with EPIPE */
	pfd[0] = -1;
	pthread_join(th, NULL);
	if (rc == -EINTR)
		rc = eng_errbuf_set(eb, rc, "backup of %s interrupted", dir);
	else if (rc != 0)
		rc = eng_errbuf_set(eb, rc, "%s backup of %s: %s", rd ? "reading the" :
		    "writing the", dir, strerror(-rc));
	else if (c.mrc != 0)
		rc = eng_errbuf_set(eb, store_xlate(c.mrc), "copying %s: %s", dir,
		    mdb_strerror(c.mrc));
	if (rc != 0)
		goto out;
	if (info != NULL) {
		memset(info, 0, sizeof(*info));
		info->bytes = bytes;
		info->schema = STORE_SCHEMA_VERSION;
	}
	rc = 0;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (c.env != NULL)
		mdb_env_close(c.env);
	return rc;
}

/* store_inspect of path, named what in messages */
static int
store_inspect_as(const char *path, const char *what, struct store_dump_info *info,
    struct eng_errbuf *eb)
{
	struct store_dump_info di;
	MDB_envinfo ei;
	MDB_env *env = NULL;
	MDB_stat st;
	struct stat sb;
	uint64_t need;
	int rc, mrc;

	memset(&di, 0, sizeof(di));
	if (path == NULL || path[0] == '\0')
		return eng_errbuf_set(eb, -EINVAL, "no file given");
	if (stat(path, &sb) != 0) {
		rc = -errno;
		return eng_errbuf_set(eb, rc, "%s: %s", what, strerror(-rc));
	}
	if (S_ISDIR(sb.st_mode))
		return eng_errbuf_set(eb, -EISDIR, "%s: is a directory (a backup is one file, "
		    "as difs backup writes it)", what);
	if (!S_ISREG(sb.st_mode))
		return eng_errbuf_set(eb, -EINVAL, "%s: not a regular file", what);
	if (sb.st_size == 0)
		return eng_errbuf_set(eb, ENG_ECORRUPT, "%s: empty file, not a difs backup", what);
	/* no lock file beside path, nothing written */
	if ((rc = store_env_ro(path, what, MDB_NOSUBDIR | MDB_NOLOCK, &env, eb)) != 0)
		return rc;
	/* pages past the end of a truncated file would fault when read */
	if ((mrc = mdb_env_info(env, &ei)) != 0 || (mrc = mdb_env_stat(env, &st)) != 0) {
		rc = eng_errbuf_set(eb, store_xlate(mrc), "%s: %s", what, mdb_strerror(mrc));
		goto out;
	}
	need = ((uint64_t)ei.me_last_pgno + 1) * st.ms_psize;
	if ((uint64_t)sb.st_size < need) {
		rc = eng_errbuf_set(eb, ENG_ECORRUPT, "%s: truncated (%jd bytes, its pages "
		    "need %" PRIu64 ")", what, (intmax_t)sb.st_size, need);
		goto out;
	}
	if ((rc = store_env_check(env, what, di.entries, eb)) != 0)
		goto out;
	di.bytes = (uint64_t)sb.st_size;
	di.schema = STORE_SCHEMA_VERSION;
	if (info != NULL)
		*info = di;
	rc = 0;
out:
	mdb_env_close(env);
	return rc;
}

int
store_inspect(const char *path, struct store_dump_info *info, struct eng_errbuf *eb)
{
	return store_inspect_as(path, path, info, eb);
}

/*
 * store_dir_entry - the first entry of dir other than ".", "..", the secret
 * key (a restore may bring the key the backup's secrets were sealed under)
 * and skip (may be NULL) into name.  1 found, 0 none, or -errno.
 */
static int
store_dir_entry(const char *dir, const char *skip, char *name, size_t namesz)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if ((d = opendir(dir)) == NULL)
		return -errno;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, SEAL_KEY_FILE) == 0 ||
		    (skip != NULL && strcmp(de->d_name, skip) == 0))
			continue;
		(void)snprintf(name, namesz, "%s", de->d_name);
		rc = 1;
		break;
	}
	if (rc == 0 && errno != 0)
		rc = -errno;
	closedir(d);
	return rc;
}

/* ENG_ELOCKED when a process holds DIR/lock; 0 otherwise (nothing written) */
static int
store_lock_probe(const char *dir, struct eng_errbuf *eb)
{
	char path[PATH_MAX];
	int fd, n, rc = 0;

	n = snprintf(path, sizeof(path), "%s/lock", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			rc = store_lock_busy(fd, dir, eb);
	} else {
		(void)flock(fd, LOCK_UN);
	}
	close(fd);
	return rc;
}

/*
 * store_restore_target - dir is missing (then created 0700, *made = 1) or
 * an empty directory; a held or non-empty one is refused with the reason.
 */
static int
store_restore_target(const char *dir, int *made, struct eng_errbuf *eb)
{
	char name[256];
	struct stat sb;
	int rc;

	*made = 0;
	if (stat(dir, &sb) != 0) {
		rc = -errno;
		if (rc != -ENOENT)
			return eng_errbuf_set(eb, rc, "state directory %s: %s", dir, strerror(-rc));
		if ((rc = sys_mkdir_p(dir, 0700)) != 0)
			return eng_errbuf_set(eb, rc, "creating state directory %s: %s", dir,
			    strerror(-rc));
		*made = 1;
		return 0;
	}
	if (!S_ISDIR(sb.st_mode))
		return eng_errbuf_set(eb, -ENOTDIR, "%s exists and is not a directory", dir);
	{
		char why[sizeof(eb->msg)];

		if ((rc = sys_private_dir(dir, "state directory", why, sizeof(why))) != 0)
			return eng_errbuf_set(eb, rc, "refusing to restore: %s", why);
	}
	if ((rc = store_lock_probe(dir, eb)) != 0)
		return store_errbuf_prefix(eb, rc, "refusing to restore");
	rc = store_dir_entry(dir, NULL, name, sizeof(name));
	if (rc < 0)
		return eng_errbuf_set(eb, rc, "state directory %s: %s", dir, strerror(-rc));
	if (rc > 0)
		return eng_errbuf_set(eb, -ENOTEMPTY, "refusing to restore: state directory %s "
		    "is not empty (it has \"%s\"); restore into a new or empty directory "
		    "(it may hold " SEAL_KEY_FILE ")",
		    dir, name);
	return 0;
}

/* the trailer of a backup that carries its key: magic, key, magic */
#define STORE_KEY_MAGIC		"difsKEY1"
#define STORE_KEY_MAGIC_LEN	8
#define STORE_KEY_TRAILER	(2 * STORE_KEY_MAGIC_LEN + SEAL_KEY_LEN)

int
store_backup_key(const char *dir, int fd, bool *had, struct eng_errbuf *eb)
{
	char *key = NULL, *tr;
	int rc;

	*had = false;
	rc = seal_key_load(dir, false, &key, NULL, 0, eb);
	if (rc == -ENOENT)
		return 0;	/* nothing was ever sealed */
	if (rc != 0)
		return rc;
	if ((tr = sys_secret_dup(NULL, STORE_KEY_TRAILER)) == NULL) {
		sys_secret_free(key);
		return eng_errbuf_set(eb, -ENOMEM, "out of memory");
	}
	memcpy(tr, STORE_KEY_MAGIC, STORE_KEY_MAGIC_LEN);
	memcpy(tr + STORE_KEY_MAGIC_LEN, key, SEAL_KEY_LEN);
	memcpy(tr + STORE_KEY_MAGIC_LEN + SEAL_KEY_LEN, STORE_KEY_MAGIC, STORE_KEY_MAGIC_LEN);
	sys_secret_free(key);
	rc = sys_write_all(fd, tr, STORE_KEY_TRAILER);
	sys_secret_free(tr);
	if (rc != 0)
		return eng_errbuf_set(eb, rc, "writing the key: %s", strerror(-rc));
	*had = true;
	return 0;
}

/*
 * store_restore_key - take the key trailer off the restored bytes in fd
 * (*bytes long): *key gets a secret copy, or NULL for a backup without it.
 */
static int
store_restore_key(int fd, uint64_t *bytes, char **key)
{
	unsigned char tr[STORE_KEY_TRAILER];
	ssize_t n;

	*key = NULL;
	if (*bytes < STORE_KEY_TRAILER)
		return 0;
	n = pread(fd, tr, sizeof(tr), (off_t)(*bytes - STORE_KEY_TRAILER));
	if (n != (ssize_t)sizeof(tr))
		return n < 0 ? -errno : -EIO;
	if (memcmp(tr, STORE_KEY_MAGIC, STORE_KEY_MAGIC_LEN) == 0 &&
	    memcmp(tr + STORE_KEY_MAGIC_LEN + SEAL_KEY_LEN, STORE_KEY_MAGIC,
	    STORE_KEY_MAGIC_LEN) == 0) {
		*key = sys_secret_dup((const char *)tr + STORE_KEY_MAGIC_LEN, SEAL_KEY_LEN);
		explicit_bzero(tr, sizeof(tr));
		if (*key == NULL)
			return -ENOMEM;
		if (ftruncate(fd, (off_t)(*bytes - STORE_KEY_TRAILER)) != 0) {
			sys_secret_free(*key);
			*key = NULL;
			return -errno;
		}
		*bytes -= STORE_KEY_TRAILER;
	}
	return 0;
}

static int
store_verify_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	(void)arg; (void)key; (void)klen; (void)val; (void)vlen;
	return 0;
}

/* every sealed record opens (store_iter opens each) */
static int
store_verify_fn(struct store_txn *t, void *arg)
{
	int rc;

	(void)arg;
	for (int db = 0; db < STORE_DB__COUNT; db++)
		if (db != STORE_DB_LOGS && (rc = store_iter(t, (enum store_db)db, NULL, 0, NULL,
		    0, 0, store_verify_cb, NULL)) != 0)
			return rc;
	return 0;
}

int
store_verify_secrets(struct store *s, struct eng_errbuf *eb)
{
	bool nokey;
	int rc;

	atomic_store(&s->key_warned, 1);	/* eb says it, not the log */
	rc = store_view(s, store_verify_fn, NULL);
	if (rc != ENG_ECORRUPT)
		return rc;
	pthread_mutex_lock(&s->key_mu);
	nokey = s->key == NULL;
	pthread_mutex_unlock(&s->key_mu);
	if (nokey)
		return eng_errbuf_set(eb, rc, "the store holds sealed secrets but %s is "
		    "missing: copy the key of the state directory the backup was taken "
		    "from into %s, or take the backup with difs backup --with-key",
		    s->key_where, s->dir);
	return eng_errbuf_set(eb, rc, "%s does not match this store: restore the key that "
	    "was used (difs backup --with-key) or rewrite the sources", s->key_where);
}

int
store_restore(int src_fd, const char *dir, const volatile sig_atomic_t *cancel,
    struct store_dump_info *info, struct eng_errbuf *eb)
{
	char lockp[PATH_MAX], tmpp[PATH_MAX], datap[PATH_MAX], lmdbp[PATH_MAX], name[256];
	struct store_dump_info di;
	struct store *s = NULL;
	char *key = NULL;
	bool key_made = false;
	uint64_t bytes;
	int rc, rd, made = 0, lock_fd = -1, tfd = -1, have_tmp = 0, have_data = 0;

	if (dir == NULL || dir[0] == '\0' || src_fd < 0)
		return eng_errbuf_set(eb, -EINVAL, "no state directory or input");
	if (snprintf(lockp, sizeof(lockp), "%s/lock", dir) >= (int)sizeof(lockp) ||
	    snprintf(tmpp, sizeof(tmpp), "%s/" STORE_RESTORE_TMP, dir) >= (int)sizeof(tmpp) ||
	    snprintf(datap, sizeof(datap), "%s/data.mdb", dir) >= (int)sizeof(datap) ||
	    snprintf(lmdbp, sizeof(lmdbp), "%s/lock.mdb", dir) >= (int)sizeof(lmdbp))
		return eng_errbuf_set(eb, -ENAMETOOLONG, "%s: path too long", dir);
	if ((rc = store_restore_target(dir, &made, eb)) != 0)
		return rc;
	/* held like a mount holds it: a mount or restore starting now is refused */
	if ((rc = store_lock(dir, &lock_fd, eb)) != 0) {
		lock_fd = -1;
		rc = store_errbuf_prefix(eb, rc, "refusing to restore");
		goto out;
	}
	if ((rc = store_dir_entry(dir, "lock", name, sizeof(name))) != 0) {
		if (rc > 0)
			rc = eng_errbuf_set(eb, -ENOTEMPTY, "refusing to restore: %s got \"%s\" "
			    "meanwhile", dir, name);
		else
			rc = eng_errbuf_set(eb, rc, "%s: %s", dir, strerror(-rc));
		goto out;
	}
	if ((tfd = open(tmpp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		rc = eng_errbuf_set(eb, -errno, "%s: %s", tmpp, strerror(errno));
		goto out;
	}
	have_tmp = 1;
	if ((rc = store_pump(src_fd, tfd, cancel, &bytes, &rd)) != 0) {
		if (rc == -EINTR)
			rc = eng_errbuf_set(eb, rc, "restore into %s interrupted", dir);
		else
			rc = eng_errbuf_set(eb, rc, "%s: %s", rd ? "reading the backup" : tmpp,
			    strerror(-rc));
		goto out;
	}
	if ((rc = store_restore_key(tfd, &bytes, &key)) != 0) {
		rc = eng_errbuf_set(eb, rc, "%s: %s", tmpp, strerror(-rc));
		goto out;
	}
	if (fsync(tfd) != 0 || close(tfd) != 0) {
		tfd = -1;
		rc = eng_errbuf_set(eb, -errno, "%s: %s", tmpp, strerror(errno));
		goto out;
	}
	tfd = -1;
	if (bytes == 0) {
		rc = eng_errbuf_set(eb, ENG_ECORRUPT, "the backup is empty (0 bytes read)");
		goto out;
	}
	if ((rc = store_inspect_as(tmpp, "the backup", &di, eb)) != 0)
		goto out;
	if (rename(tmpp, datap) != 0) {
		rc = eng_errbuf_set(eb, -errno, "rename to %s: %s", datap, strerror(errno));
		goto out;
	}
	have_tmp = 0;
	have_data = 1;
	if ((rc = store_fsync_dir(dir)) != 0) {
		rc = eng_errbuf_set(eb, rc, "%s: fsync: %s", dir, strerror(-rc));
		goto out;
	}
	if (key != NULL && (rc = seal_key_install(dir, (const unsigned char *)key,
	    &key_made, eb)) != 0)
		goto out;
	/* the proof: it opens as a state store (non-exclusive: we hold the lock)
	 * whose secrets open with the key in force */
	if ((rc = store_open(dir, NULL, &s, eb)) != 0)
		goto out;
	rc = store_verify_secrets(s, eb);
	store_close(s);
	if (rc != 0)
		goto out;
	di.key = key != NULL;
	if (info != NULL)
		*info = di;
	rc = 0;
out:
	if (tfd >= 0)
		close(tfd);
	if (rc != 0) {
		/* leave dir as it was */
		if (have_tmp)
			(void)unlink(tmpp);
		if (have_data) {
			(void)unlink(datap);
			(void)unlink(lmdbp);
		}
		if (lock_fd >= 0)
			(void)unlink(lockp);
		if (key_made) {
			(void)snprintf(tmpp, sizeof(tmpp), "%s/" SEAL_KEY_FILE, dir);
			(void)unlink(tmpp);
		}
	}
	sys_secret_free(key);
	if (lock_fd >= 0) {
		if (rc == 0 && ftruncate(lock_fd, 0) != 0)
			log_debug("state store: clearing lock file: %s", strerror(errno));
		close(lock_fd);
	}
	if (rc != 0 && made)
		(void)rmdir(dir);
	return rc;
}
