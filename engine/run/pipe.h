/* SPDX-License-Identifier: MIT */
/*
 * pipe.h - one run of a job: reader -> bounded queue -> writer, on
 * `concurrent` channels (DataX's JobContainer + TaskGroup in one call).
 *
 * Owns: channel threads, the per-channel bounded record queue, dirty-record
 * accounting against setting.errorLimit, the mbps token bucket on the
 * writer's output bytes, progress lines every progress_ms and the final
 * summary in the instance log, and the commit order (every writer task
 * finished -> writer job_commit -> reader job_commit).  On any failure no
 * commit happens and unfinished writer tasks are aborted.
 */
#ifndef DIFS_PIPE_H
#define DIFS_PIPE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "json.h"
#include "plugin.h"

struct pipe_config {
	const struct plugin_env	*env;		/**< its source member is ignored */
	enum conf_plugin	 reader;	/**< conf's plugin ids */
	const struct json	*reader_param;
	const struct conf_source *reader_source; /**< the reader's env->source */
	enum conf_plugin	 writer;
	const struct json	*writer_param;
	const struct conf_source *writer_source; /**< the writer's env->source */
	int			 concurrent;	/**< channels (>= 1) */
	double			 mbps;		/**< writer output limit, MiB/s; 0 = none */
	int64_t			 error_records;	/**< errorLimit.record; < 0 = no limit */
	double			 error_percent;	/**< errorLimit.percentage (0..1); < 0 = none */
	int			 progress_ms;	/**< progress line period (0: 10000) */
	size_t			 queue_len;	/**< records per channel queue (0: 1024) */
	struct buf		*outputs;	/**< optional: committed output names, one per line */
};

/** Live counters: readable from any thread while the run goes on. */
struct pipe_stats {
	atomic_llong	records_read;
	atomic_llong	records_written;
	atomic_llong	dirty;
	atomic_llong	bytes_written;	/**< encoded output bytes */
	atomic_llong	start_ms;
	atomic_llong	end_ms;
	atomic_int	channels;
};

void	pipe_stats_init(struct pipe_stats *st);

/**
 * pipe_run - run the job once; blocks until done.  The reader and the
 * writer each get a copy of cfg->env whose source is their side's
 * (reader_source / writer_source: snapshots that outlive the call).
 * Returns 0 when every task was written and committed; ENG_EDIRTY when the
 * dirty records exceeded errorLimit; ENG_EKILLED when env->cancel was set;
 * ENG_EINVAL for an unknown plugin or bad parameters; otherwise the first
 * plugin error.  eb gets the message of the first failure.
 */
int	pipe_run(const struct pipe_config *cfg, struct pipe_stats *stats,
	    struct eng_errbuf *eb);

#endif /* DIFS_PIPE_H */
