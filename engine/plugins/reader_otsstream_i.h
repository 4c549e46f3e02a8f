/* SPDX-License-Identifier: MIT */
/*
 * reader_otsstream_i.h - private to the otsstream reader: the DataX status
 * table protocol (reader_otsstream_ckpt.c), used by reader_otsstream.c.
 *
 * Status table (contrib/doc/tablestore.md 4.5): primary key StreamId,
 * StatusType, StatusValue (all STRING); TTL 30 days, max versions 1.
 *   CheckpointForDataxReader         "%16d(time)\tshardId" -> Version,
 *                                    Checkpoint, SkipCount, [SendRecordCount]
 *   CheckpointForDataxReader legacy  "%16d(time)" -> ShardCount
 *   DataxJobDesc                     "%16d(endTime)" -> ShardIds_N (zlib JSON,
 *                                    64 KiB chunks), Version, TableName,
 *                                    JobStreamId, StartTime, EndTime
 *   ShardTimeCheckpointForDataxReader "shardId\t%16d(time)" -> Checkpoint
 * %16d is right-aligned and space-padded to width 16.  Rows are written
 * with PutRow IGNORE, deleted with DeleteRow IGNORE.
 */
#ifndef DIFS_READER_OTSSTREAM_I_H
#define DIFS_READER_OTSSTREAM_I_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ots.h"

#define OTSR_STATUS_DEFAULT	"TableStoreStreamReaderStatusTable"
#define OTSR_TRIM_HORIZON	"TRIM_HORIZON"
#define OTSR_SHARD_END		"SHARD_END"

/** One checkpoint row at some time. */
struct otsr_ckpt {
	char	*shard;
	char	*value;		/**< iterator, TRIM_HORIZON or SHARD_END */
	char	*version;	/**< "" when the row has none */
	int64_t	 sent;		/**< SendRecordCount, 0 when absent */
};

struct otsr_ckpts {
	struct otsr_ckpt *v;
	size_t		  n;
	int64_t		  legacy_count;	/**< ShardCount of the legacy row, -1 = none */
};

void	otsr_ckpts_free(struct otsr_ckpts *c);

/** A job description row. */
struct otsr_jobdesc {
	char	*version;
	char	*table;
	char	*stream_id;
	int64_t	 start, end;
	char	**shards;
	size_t	 nshards;
};

void	otsr_jobdesc_free(struct otsr_jobdesc *d);

/**
 * otsr_status_ensure - create the status table if absent (waiting up to
 * 2 minutes until it serves reads), or check its primary key.
 */
int	otsr_status_ensure(struct ots *o, const char *table, struct eng_errbuf *eb);

/** otsr_ckpts_get - every checkpoint row of stream at time t (+ legacy row). */
int	otsr_ckpts_get(struct ots *o, const char *table, const char *stream, int64_t t,
	    struct otsr_ckpts *out, struct eng_errbuf *eb);

/** otsr_jobdesc_get - the job description at end time t; *out NULL if absent. */
int	otsr_jobdesc_get(struct ots *o, const char *table, const char *stream, int64_t t,
	    struct otsr_jobdesc **out, struct eng_errbuf *eb);

int	otsr_jobdesc_put(struct ots *o, const char *table, const struct otsr_jobdesc *d,
	    struct eng_errbuf *eb);

/** otsr_ckpt_put - checkpoint row (time t, shard); sent written only when > 0. */
int	otsr_ckpt_put(struct ots *o, const char *table, const char *stream, int64_t t,
	    const char *shard, const char *value, const char *version, int64_t sent,
	    struct eng_errbuf *eb);

int	otsr_ckpt_delete(struct ots *o, const char *table, const char *stream, int64_t t,
	    const char *shard, struct eng_errbuf *eb);

/** otsr_shardtime_put - ShardTime checkpoint (shard, t) -> iterator. */
int	otsr_shardtime_put(struct ots *o, const char *table, const char *stream,
	    const char *shard, int64_t t, const char *iter, struct eng_errbuf *eb);

/**
 * otsr_shardtime_find - the newest ShardTime checkpoint of shard with time
 * in (lo, hi]; *iter malloc'ed, or NULL when there is none.
 */
int	otsr_shardtime_find(struct ots *o, const char *table, const char *stream,
	    const char *shard, int64_t lo, int64_t hi, char **iter, struct eng_errbuf *eb);

/** otsr_ots_fail - eb = "what: CODE message" for a failed ots call; returns rc. */
int	otsr_ots_fail(struct eng_errbuf *eb, int rc, const struct ots_error *err,
	    const char *what);

#endif /* DIFS_READER_OTSSTREAM_I_H */
