/* SPDX-License-Identifier: MIT */
/*
 * ckpt.h - the LMDB mirror of reader checkpoints: STORE_DB_CHECKPOINTS
 * under "JOB\0SUB" (SUB names one checkpoint of the job, e.g. a shard id).
 * Used by the scheduler and by `difs run --state` to back plugin_env's
 * ckpt_put/ckpt_get.  Thread-safe (one store transaction per call).
 */
#ifndef DIFS_CKPT_H
#define DIFS_CKPT_H

#include <stddef.h>

#include "buf.h"
#include "store.h"

/** ckpt_put - store val for (job, sub).  0, -ENAMETOOLONG or a store error. */
int	ckpt_put(struct store *st, const char *job, const char *sub,
	    const void *val, size_t len);
/** ckpt_get - append the value for (job, sub) to out.  0, -ENOENT, error. */
int	ckpt_get(struct store *st, const char *job, const char *sub, struct buf *out);

#endif /* DIFS_CKPT_H */
