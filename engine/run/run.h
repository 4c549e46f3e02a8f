/* SPDX-License-Identifier: MIT */
/*
 * run.h - one attempt of one instance: substitute the instance parameters
 * into the job, validate the result, and run it through the pipeline.
 * Shared by `difs run` and the scheduler, so both behave the same.
 *
 * Sources: an attempt takes its snapshot of each side's source once, at
 * its start (conf_job_resolve looks every datasource up through
 * cfg->sources once and copies it; an inline connection becomes a source
 * of its own), and hands the reader and the writer the snapshot of their
 * side (plugin_env.source).  The snapshot is owned by the resolved job,
 * which lives for the whole attempt.  An edit of a source while the
 * attempt runs does not affect it; the next attempt (a rerun, the next
 * instance) takes a new snapshot and uses the edited source, so a user
 * who fixes a wrong key sees the automatic rerun pick the fix up.
 */
#ifndef DIFS_RUN_H
#define DIFS_RUN_H

#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "err.h"
#include "log.h"
#include "param.h"
#include "pipe.h"
#include "tz.h"

struct run_config {
	const struct conf_job	*job;		/**< parsed definition (may hold ${}) */
	const struct param_set	*params;	/**< the instance's resolved parameters */
	/** data source lookup, called only during run_job's start (its answer
	 *  needs to live only until it is copied); NULL: the sources found when
	 *  the job was parsed */
	conf_source_fn		 sources;
	void			*sources_arg;
	const struct tz		*tz;		/**< the job's zone */
	const char		*instance;	/**< instance id (cycle YYYYMMDDHHMMSS) */
	int			 attempt;	/**< 1-based */
	int64_t			 cyctime;	/**< UTC seconds */
	const char		*spool_dir;	/**< may be NULL */
	atomic_int		*cancel;	/**< may be NULL */
	void			(*log)(void *arg, enum log_level lvl, const char *line);
	void			*log_arg;	/**< NULL log: the daemon log */
	int64_t			(*now_ms)(void *arg);	/**< NULL: real time */
	void			*now_arg;
	int			 progress_ms;	/**< 0: 10 s */
	void			(*window)(void *arg, int64_t start_ms, int64_t end_ms);
	void			*window_arg;	/**< see plugin_env.window (may be NULL) */
	int			(*ckpt_put)(void *arg, const char *sub, const void *val, size_t len);
	int			(*ckpt_get)(void *arg, const char *sub, struct buf *out);
	void			*ckpt_arg;	/**< see plugin_env.ckpt_* (may be NULL) */
	struct buf		*outputs;	/**< optional: output names, one per line */
	struct buf		*resolved;	/**< optional: resolved job JSON, secrets masked */
};

/**
 * run_job - one attempt.  Returns 0 on success; ENG_EINVAL when the job is
 * invalid after substitution (unknown ${name}, bad value: eb names it);
 * otherwise as pipe_run().  Every step is logged through cfg->log.
 */
int	run_job(const struct run_config *cfg, struct pipe_stats *st, struct eng_errbuf *eb);

#endif /* DIFS_RUN_H */
