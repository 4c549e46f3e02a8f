/* SPDX-License-Identifier: MIT */
/*
 * plugin.h - reader and writer plugins (DataX's Reader/Writer) behind const
 * ops vtables, and the environment a run gives them.
 *
 * A run (engine/run/pipe.c) drives plugins in this order:
 *   reader job_open -> writer job_open -> reader job_split(advice) = N tasks
 *   -> writer job_prepare(N) (truncate / nonConflict checks)
 *   -> for each task, on up to `concurrent` channels at once:
 *        reader task_run pushes records into a bounded queue;
 *        writer task_open, task_write per record, task_finish (commit) or
 *        task_abort
 *   -> writer job_commit -> reader job_commit (checkpoints after outputs)
 *   -> job_close of both.
 * The reader's task_run and the writer's task_* of one task run on
 * different threads; different tasks run concurrently, so per-job state
 * shared by tasks must be locked by the plugin.
 *
 * Every plugin function returns 0 or a negative error with a message in eb;
 * none logs secrets.  task_write returns -EILSEQ (or ENG_EDIRTY) for a dirty
 * record: it is counted against setting.errorLimit and the run goes on.
 */
#ifndef DIFS_PLUGIN_H
#define DIFS_PLUGIN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "json.h"
#include "log.h"
#include "record.h"
#include "tz.h"

struct conf_source;

/**
 * What a run tells its plugins.  All pointers, and the env itself, live
 * until the plugin's job_close.
 */
/**
 * The checkpoint sub under which a stream reader records its source's
 * retention in hours (decimal text), as it last saw it: the scheduler
 * refuses backfills of windows certainly outside it.  '@' is in no
 * shard id.
 */
#define PLUGIN_CKPT_RETENTION	"@stream_retention_h"

struct plugin_env {
	const char	*job;		/**< job name */
	const char	*instance;	/**< instance id: cycle YYYYMMDDHHMMSS */
	int		 attempt;	/**< 1-based attempt number */
	const struct tz	*tz;		/**< the job's time zone */
	int64_t		 cyctime;	/**< cycle time, UTC seconds */
	const char	*spool_dir;	/**< writable directory for staging (may be NULL) */
	atomic_int	*cancel;	/**< nonzero: stop as soon as possible */
	/** instance log sink (one line, no newline); may be called from any thread */
	void		(*log)(void *arg, enum log_level lvl, const char *line);
	void		*log_arg;
	/**
	 * This plugin's connection (otsstream, oss), the only one it uses:
	 * the snapshot of its side's source that the run took once, at the
	 * attempt's start (conf_job_source: the datasource, or the inline
	 * endpoint/credentials, already merged and validated by conf).  An
	 * edit of the source during the attempt does not change it; the next
	 * attempt takes a new snapshot.  Set per side by pipe_run (the reader
	 * and the writer each see their own); NULL for plugins without a
	 * connection or when the job's datasource was not found.  Plugins
	 * never look a source up themselves.
	 */
	const struct conf_source *source;
	/** per-run "now" in ms (injected clock) */
	int64_t		(*now_ms)(void *arg);
	void		*now_arg;
	/** the reader's export window [start_ms, end_ms), shown in status
	 *  (may be NULL) */
	void		(*window)(void *arg, int64_t start_ms, int64_t end_ms);
	void		*window_arg;
	/**
	 * Mirror of a reader's checkpoints in the state store (for status and
	 * for resuming without the remote status table); sub names one
	 * checkpoint of this job (e.g. a shard id).  ckpt_put: 0 or an error;
	 * ckpt_get: 0 (value appended to out), -ENOENT.  May be NULL (difs run
	 * without --state).
	 */
	int		(*ckpt_put)(void *arg, const char *sub, const void *val, size_t len);
	int		(*ckpt_get)(void *arg, const char *sub, struct buf *out);
	void		*ckpt_arg;
};

/** plugin_log - printf into the instance log. */
void	plugin_log(const struct plugin_env *env, enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline bool
plugin_cancelled(const struct plugin_env *env)
{
	return env->cancel != NULL && atomic_load(env->cancel) != 0;
}

/* ---- parameter helpers (values already validated by conf_) ------------ */
/** String parameter or def when absent. */
const char *plugin_param_str(const struct json *param, const char *key, const char *def);
/** Integer from a JSON number or numeric string; def when absent; ENG_EINVAL otherwise. */
int	plugin_param_int(const struct json *param, const char *key, int64_t def,
	    int64_t *out, struct eng_errbuf *eb);
/** Boolean from true/false or "true"/"false"; def when absent. */
int	plugin_param_bool(const struct json *param, const char *key, bool def,
	    bool *out, struct eng_errbuf *eb);

/** Pushes records from a reader task to the channel (engine-owned). */
struct plugin_sender;
/**
 * plugin_send - hand r's contents to the channel (r is left empty and
 * reusable).  May block while the queue is full.  Returns 0, ENG_EKILLED
 * when the run is cancelled or the writer failed (stop reading).
 */
int	plugin_send(struct plugin_sender *s, struct record *r);

struct reader_ops {
	int	(*job_open)(const struct plugin_env *env, const struct json *param,
		    void **job, struct eng_errbuf *eb);
	/** number of tasks (>= 1) for `advice` channels */
	int	(*job_split)(void *job, int advice, int *ntasks, struct eng_errbuf *eb);
	int	(*task_run)(void *job, int task, struct plugin_sender *out,
		    struct eng_errbuf *eb);
	/** after the writer committed every task (may be NULL) */
	int	(*job_commit)(void *job, struct eng_errbuf *eb);
	void	(*job_close)(void *job);
};

struct writer_ops {
	int	(*job_open)(const struct plugin_env *env, const struct json *param,
		    void **job, struct eng_errbuf *eb);
	/** before any task runs; ntasks from the reader (may be NULL) */
	int	(*job_prepare)(void *job, int ntasks, struct eng_errbuf *eb);
	int	(*task_open)(void *job, int task, void **taskp, struct eng_errbuf *eb);
	int	(*task_write)(void *task, const struct record *r, size_t *bytes,
		    struct eng_errbuf *eb);
	/** make the task's output durable and visible; frees the task */
	int	(*task_finish)(void *task, struct eng_errbuf *eb);
	/** discard the task's output; frees the task */
	void	(*task_abort)(void *task);
	/** after every task finished (may be NULL) */
	int	(*job_commit)(void *job, struct eng_errbuf *eb);
	/**
	 * names of the outputs committed so far, one per call (i from 0) for
	 * status; 0 and *name, or -ENOENT past the end.  May be NULL.
	 */
	int	(*job_output)(void *job, size_t i, const char **name);
	void	(*job_close)(void *job);
};

/**
 * Each plugin's ops.  Their names and the list of plugins are conf's
 * (enum conf_plugin); the runner's registry, engine/run/registry.c, maps
 * each id to these.
 */
extern const struct reader_ops reader_stream_ops;
extern const struct reader_ops reader_otsstream_ops;
extern const struct writer_ops writer_txtfile_ops;
extern const struct writer_ops writer_oss_ops;

#endif /* DIFS_PLUGIN_H */
