/* SPDX-License-Identifier: MIT */
/*
 * spool.h - the upload spool: encoded writer output staged on local disk in
 * part-sized files, under a disk quota (cache/, prefix spool_).
 *
 * A writer stages each upload part in a struct spool_file before uploading
 * it as a file region (oss_src_fd), so a failed or slow part is retried by
 * re-reading the file, never the record stream, and memory stays at a small
 * write buffer per open file.  Space is reserved when a file is created
 * (its capacity) and given back when it is sealed (capacity - size) and
 * when it is freed (the rest): the sum of reservations never exceeds the
 * quota.  A creation that would exceed it waits until other files are freed
 * (backpressure), up to wait_ms, or fails with -ENOSPC when the quota can
 * never hold the file.
 *
 * Files are named DIR/<tag>-<seq>.spool and removed by spool_file_free();
 * spool_new() removes every *.spool file left in DIR by a crashed process.
 * An open spool holds an flock on DIR/.lock, so one directory serves one
 * spool at a time, and spool_sweep() can tell the directories of runs that
 * died (lock free) from live ones.
 * The spool does not fsync: staged data only needs to survive until its
 * upload, and a crash re-creates it from the source.
 *
 * Threading: a struct spool may be used from several threads (one lock);
 * a struct spool_file belongs to one thread at a time (hand-over between a
 * writer and an upload worker needs the caller's own synchronisation), and
 * spool_file_free() may run on any thread.
 */
#ifndef DIFS_SPOOL_H
#define DIFS_SPOOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SPOOL_QUOTA_DEFAULT	((uint64_t)2 << 30)	/**< 2 GiB */
#define SPOOL_WAIT_DEFAULT	600000u			/**< ms: 10 minutes */
#define SPOOL_WBUF		((size_t)64 << 10)	/**< write buffer per file */

struct spool_config {
	const char	*dir;		/**< created (0700) when absent; copied */
	uint64_t	 quota;		/**< bytes reserved at most; 0 = SPOOL_QUOTA_DEFAULT */
	uint32_t	 wait_ms;	/**< longest wait for space; 0 = SPOOL_WAIT_DEFAULT */
	atomic_int	*cancel;	/**< nonzero: waits end with ENG_EKILLED (may be NULL) */
};

struct spool;
struct spool_file;

/**
 * spool_new - open the spool in cfg->dir (created when missing, parents
 * too) and remove stale *.spool files there.
 * Returns 0, -EBUSY when another open spool holds DIR, -errno of
 * mkdir/opendir/open (eb says which directory), -ENOMEM.
 */
int	spool_new(const struct spool_config *cfg, struct spool **out,
	    struct eng_errbuf *eb) __attribute__((warn_unused_result));
/**
 * spool_sweep - remove the spool directories under parent that no open
 * spool holds (their *.spool files, .lock, and the directory when empty):
 * what crashed runs left.  Other entries are untouched.  *removed (may be
 * NULL) gets the number of directories that held staged files.
 * Returns 0 (also when parent does not exist) or -errno of opendir.
 */
int	spool_sweep(const char *parent, size_t *removed);

/** spool_free - every file must have been freed first (they keep a pointer);
 *  releases the directory lock (the directory itself stays). */
void	spool_free(struct spool *sp);

/**
 * spool_file_new - reserve cap bytes and create an empty file.
 * @tag: name part, [A-Za-z0-9._-] (other bytes become '_'), may be NULL.
 * Returns 0; -ENOSPC when cap exceeds the whole quota; -ETIMEDOUT when no
 * space was freed within wait_ms; ENG_EKILLED when cancelled while
 * waiting; -errno of open(2); -ENOMEM.  eb (may be NULL) explains.
 */
int	spool_file_new(struct spool *sp, const char *tag, uint64_t cap,
	    struct spool_file **out, struct eng_errbuf *eb)
	    __attribute__((warn_unused_result));

/**
 * spool_file_write - append n bytes (buffered).  -EFBIG when the file would
 * exceed its capacity (nothing written), -errno of write(2), ENG_ESTATE
 * after spool_file_seal().
 */
int	spool_file_write(struct spool_file *f, const void *p, size_t n)
	    __attribute__((warn_unused_result));

/**
 * spool_file_seal - flush the buffer, free it, and give back the unused
 * reservation (cap - size).  The file is read-only afterwards; fd and size
 * are final.  Idempotent.  0 or -errno of write(2).
 */
int	spool_file_seal(struct spool_file *f) __attribute__((warn_unused_result));

/** Bytes written so far (buffered ones included). */
uint64_t spool_file_size(const struct spool_file *f);
/** Bytes that can still be written. */
uint64_t spool_file_room(const struct spool_file *f);
/** The descriptor to read sealed contents with pread (valid until free). */
int	spool_file_fd(const struct spool_file *f);
/** The file's path (valid until free). */
const char *spool_file_path(const struct spool_file *f);

/** spool_file_free - close, unlink and give the reservation back; NULL-safe. */
void	spool_file_free(struct spool_file *f);

/** Bytes reserved now, and the most ever reserved at once. */
uint64_t spool_used(struct spool *sp);
uint64_t spool_peak(struct spool *sp);
/** Files open now. */
size_t	spool_files(struct spool *sp);
uint64_t spool_quota(const struct spool *sp);

#endif /* DIFS_SPOOL_H */
