/* SPDX-License-Identifier: MIT */
/*
 * writer_oss_i.h - private to the oss writer: the part upload pool shared
 * by writer_oss.c (the plugin) and writer_oss_up.c (objects and parts).
 */
#ifndef DIFS_WRITER_OSS_I_H
#define DIFS_WRITER_OSS_I_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "oss.h"
#include "plugin.h"
#include "spool.h"

struct writer_oss_pool;

/** One object being written: a PutObject of one staged part, or a
 *  multipart upload whose parts are uploaded by the pool's workers. */
struct writer_oss_obj {
	struct writer_oss_pool	*pool;
	char			*key;
	char			*upload_id;	/**< NULL until a part was handed over */
	const struct oss_put_opts *opts;	/**< borrowed from the job */
	unsigned		 max_inflight;	/**< parts queued or uploading at most */
	/* protected by pool->lock: */
	struct oss_part		*parts;		/**< uploaded parts, any order */
	size_t			 nparts, cap;
	unsigned		 inflight;
	int			 err;		/**< first failure */
	struct oss_error	 e;
	uint64_t		 bytes;		/**< bytes handed over */
};

/**
 * writer_oss_pool_new - nworkers threads uploading staged parts with
 * oss_mpu_part (file regions: a retry re-reads the spool file).  cancel
 * (may be NULL) ends waits with ENG_EKILLED.
 */
int	writer_oss_pool_new(struct oss *oss, unsigned nworkers, atomic_int *cancel,
	    struct writer_oss_pool **out);
/** Stops the workers (queued parts are dropped and their files freed). */
void	writer_oss_pool_free(struct writer_oss_pool *pool);

/** writer_oss_obj_new - an object named key (nothing is sent yet). */
int	writer_oss_obj_new(struct writer_oss_pool *pool, const char *key,
	    const struct oss_put_opts *opts, unsigned max_inflight,
	    struct writer_oss_obj **out);
/** writer_oss_obj_init - InitiateMultipartUpload now (if not yet). */
int	writer_oss_obj_init(struct writer_oss_obj *o, struct eng_errbuf *eb);
/**
 * writer_oss_obj_submit - hand a staged part over (sealed here; the pool
 * frees f once uploaded, also on failure).  Initiates the multipart upload
 * first if needed; waits while max_inflight parts are in flight.  Returns
 * 0, the object's first failure, ENG_EKILLED.
 */
int	writer_oss_obj_submit(struct writer_oss_obj *o, unsigned number,
	    struct spool_file *f, struct eng_errbuf *eb);
/** Wait for the parts in flight; returns the object's first failure. */
int	writer_oss_obj_wait(struct writer_oss_obj *o, struct eng_errbuf *eb);
/**
 * writer_oss_obj_complete - make the object visible: when no part was
 * handed over, PutObject of last (may be NULL: empty object); otherwise
 * (last must be NULL: the caller submitted every part) wait for the parts
 * in flight and CompleteMultipartUpload with the parts sorted by number.
 * last is freed in every case.  On failure the
 * multipart upload is aborted.  *size gets the object's size.
 */
int	writer_oss_obj_complete(struct writer_oss_obj *o, struct spool_file *last,
	    uint64_t *size, struct eng_errbuf *eb);
/** writer_oss_obj_abort - wait for parts in flight, AbortMultipartUpload. */
void	writer_oss_obj_abort(struct writer_oss_obj *o);
void	writer_oss_obj_free(struct writer_oss_obj *o);

#endif /* DIFS_WRITER_OSS_I_H */
