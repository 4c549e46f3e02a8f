/* SPDX-License-Identifier: MIT */
/*
 * scheduler.h - the scheduler: DataWorks' cycle scheduling and Operation
 * Center as a library (no FUSE).  Prefix sched_; the file is not called
 * sched.h because that would shadow the system <sched.h> (<pthread.h>
 * includes it).
 *
 * Owns: the defined jobs, instance creation for each cycle (with catch-up
 * bounded by schedule.catchup and SKIPPED records beyond it), the instance
 * state machine (inst.h) with one store transaction per transition and a
 * log line for each, automatic reruns, self-dependency, the worker limit,
 * kill, the ctl commands, and recovery of instances that were RUNNING when
 * the daemon died.
 *
 * Time comes only from cfg->now_ms (a fake clock in tests): sched_step()
 * does everything that is due at "now"; sched_start() runs it every second
 * on a thread for the daemon.  Runs execute on their own threads.
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef DIFS_SCHEDULER_H
#define DIFS_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "inst.h"
#include "log.h"
#include "pipe.h"
#include "store.h"

struct sched;

struct sched_config {
	struct store	*store;		/**< borrowed; outlives the scheduler */
	int		 workers;	/**< global limit of running instances (0: 4) */
	int64_t		(*now_ms)(void *arg);	/**< clock (NULL: real time) */
	void		*now_arg;
	conf_source_fn	 sources;	/**< data sources for runs (may be NULL) */
	void		*sources_arg;
	const char	*spool_dir;	/**< staging directory for writers (may be NULL) */
	int		 progress_ms;	/**< progress line period (0: 10 s) */
	int64_t		 grace_ms;	/**< job removal grace (0: 60 s) */
	int		 alert_exec_timeout_ms;	/**< alert command limit (0: 30 s) */
	int		 alert_backoff_ms;	/**< first webhook retry delay (0: 1 s) */
	/** called after an instance's record or log changed, from any thread,
	 *  possibly with the scheduler lock held: it must not block or call
	 *  back into the scheduler (fs/ only queues an invalidation); cycle is
	 *  NULL for the job-level log */
	void		(*notify)(void *arg, const char *job, const char *cycle);
	void		*notify_arg;
};

/**
 * sched_new - load pending instances from the store; instances found
 * RUNNING (the daemon died during a run) become WAITING for a new attempt,
 * which their log says.  Returns 0, -ENOMEM or a store error.
 */
int	sched_new(const struct sched_config *cfg, struct sched **out, struct eng_errbuf *eb);
/** Kill running instances (their records say so), wait for them, free. */
void	sched_free(struct sched *s);

/** Start/stop the background thread that calls sched_step every second. */
int	sched_start(struct sched *s);
void	sched_stop(struct sched *s);
/** Wake the background thread now (after a definition or ctl change). */
void	sched_wake(struct sched *s);

/**
 * sched_job_set - define or redefine job `name` (job adopted, also on
 * failure).  A redefinition takes effect for instances started from now
 * on; running ones finish with the definition they started with.  A job
 * that was being removed is kept.  0, -ENOMEM, a tz/store error (eb).
 */
int	sched_job_set(struct sched *s, const char *name, struct conf_job *job,
	    struct eng_errbuf *eb);
/** sched_job_remove - stop scheduling `name` after the grace period. */
int	sched_job_remove(struct sched *s, const char *name);
/** True while `name` is defined (including during its removal grace). */
bool	sched_job_defined(struct sched *s, const char *name);

/** What the mount's summaries show of a defined job. */
struct sched_jobinfo {
	bool	 paused;	/**< ctl pause */
	bool	 removing;	/**< its file is gone: in the removal grace */
	bool	 scheduled;	/**< has a schedule block */
	int64_t	 defined_ms;	/**< first definition (ms since the epoch) */
};
/** sched_job_info - *out for a defined job.  0 or -ENOENT. */
int	sched_job_info(struct sched *s, const char *name, struct sched_jobinfo *out);

/**
 * sched_jobs_using - call fn(arg, job) for every defined job whose reader
 * or writer names `source` as its "datasource" (without the scheduler's
 * lock held: fn may call sched_job_log).  Returns how many.
 */
size_t	sched_jobs_using(struct sched *s, const char *source,
	    void (*fn)(void *arg, const char *job), void *arg);

/**
 * sched_job_deps - the upstream jobs (schedule.dependsOn) of defined job
 * name, as a malloc'ed array of malloc'ed names (*out NULL when none;
 * free each and the array).  0, -ENOENT (not defined), -ENOMEM.
 */
int	sched_job_deps(struct sched *s, const char *name, char ***out, size_t *n);

/** sched_step - create due instances and start runnable ones.  0 or error. */
int	sched_step(struct sched *s);
/** sched_wait_idle - wait until no instance runs; -ETIMEDOUT after timeout_ms. */
int	sched_wait_idle(struct sched *s, int timeout_ms);

/**
 * sched_ctl_job - a job `ctl` line: "run [YYYYMMDDHHMMSS]",
 * "backfill FROM TO" (cycles in [FROM, TO), in order), "pause", "resume".
 * sched_ctl_instance - an instance `ctl` line: "rerun", "kill",
 * "set-success", "freeze", "unfreeze".
 * Returns 0 (eb: what was done), ENG_EINVAL (unknown command / bad arguments: eb, also written
 * to the job's or instance's log), ENG_ESTATE (not allowed now: eb),
 * -ENOENT (no such job/instance).
 */
int	sched_ctl_job(struct sched *s, const char *job, const char *line,
	    struct eng_errbuf *eb);
int	sched_ctl_instance(struct sched *s, const char *job, const char *cycle,
	    const char *line, struct eng_errbuf *eb);

/**
 * sched_instance_get - the instance record, with live counters while it
 * runs: the counters as of the run's last log line (progress lines come
 * every progress_ms), and updated_ms moved to that line's time, so what
 * `status` shows changes only together with the log.  in must be
 * inst_init'ed; 0, -ENOENT, ENG_ECORRUPT.
 */
int	sched_instance_get(struct sched *s, const char *job, const char *cycle,
	    struct inst *in);

/**
 * sched_job_log - append one line to instances/JOB/log (the job's own log),
 * timestamped in the job's zone when it is defined, else the machine's.
 * For events the scheduler does not see itself (definition changes).  Any
 * job name, defined or not.  Errors go to the daemon log.
 */
void	sched_job_log(struct sched *s, const char *job, enum log_level lvl,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/** Upper bounds (seconds) of the attempt duration histogram's buckets. */
#define SCHED_DUR_NBUCKETS	10
extern const double sched_dur_bounds[SCHED_DUR_NBUCKETS];

/** One job's figures for MOUNT/metrics (counters: since the daemon started). */
struct sched_job_metrics {
	char	 name[256];
	int64_t	 by_state[INST_NSTATES];	/**< instance records in each state now */
	int64_t	 attempts_total;	/**< attempts finished */
	int64_t	 attempts_failed_total;	/**< ... of which failed (incl. timeouts, kills) */
	int64_t	 timeouts_total;	/**< attempts stopped by schedule.timeoutSeconds */
	int64_t	 records_total;		/**< records written by finished attempts */
	int64_t	 bytes_total;		/**< bytes written by finished attempts */
	int64_t	 dur_bucket[SCHED_DUR_NBUCKETS];	/**< cumulative: attempts <= bound */
	int64_t	 dur_count;
	double	 dur_sum_s;
	int64_t	 alerts_total;		/**< alert deliveries that succeeded */
	int64_t	 alerts_failed_total;	/**< ... that failed */
	int64_t	 skipped_total;		/**< cycles recorded SKIPPED */
	int64_t	 last_success_end_ms;	/**< newest SUCCESS's window end (its cycle
					     time when it reported none); 0 none */
	int	 running;
	int	 priority;
	bool	 paused;
};

/** The scheduler's figures: one snapshot taken under its lock. */
struct sched_metrics {
	struct sched_job_metrics *jobs;	/**< sorted by name */
	size_t	 njobs;
	int64_t	 now_ms;
	int64_t	 pending;		/**< instances not in a final state */
	int	 running;		/**< attempts running */
	int	 workers;		/**< --workers */
};
/** sched_metrics_get - fill *out (free with sched_metrics_free). 0 or -ENOMEM. */
int	sched_metrics_get(struct sched *s, struct sched_metrics *out);
void	sched_metrics_free(struct sched_metrics *m);

/** sched_history_changed - instances of job were removed outside the
 *  scheduler (rmdir of a history): its counts are taken from the store again. */
void	sched_history_changed(struct sched *s, const char *job);

/** Key of a job's own log (ctl messages) in STORE_DB_LOGS: "JOB\0joblog". */
int	sched_joblog_key(const char *job, char *out, size_t outsz, size_t *klen);

/**
 * The time instances/JOB last gained or lost an entry (ms since the epoch,
 * decimal text) lives in STORE_DB_META under "jdir\0JOB".  The scheduler
 * writes it in the transaction that creates an instance; the mount when it
 * removes one.  sched_jdir_key builds the key (0, -ENAMETOOLONG);
 * sched_jdir_touch writes ms (write txn; 0 or a store error).
 */
int	sched_jdir_key(const char *job, char *out, size_t outsz, size_t *klen);
int	sched_jdir_touch(struct store_txn *txn, const char *job, int64_t ms);

/**
 * The result of the last ctl command lives in STORE_DB_META under
 * "ctl\0JOB\0CYCLE" (CYCLE empty for the job's ctl); sched_ctl_key builds
 * the key (0, -ENAMETOOLONG).  sched_inst_delete removes one instance in a
 * write txn: its record, its log and its ctl result, nothing else (the
 * caller touches the jdir mtime).  0, -ENOENT (no record) or a store error.
 * Used by retention (sched_prune.c) and the mount's rmdir of an instance.
 */
int	sched_ctl_key(const char *job, const char *cycle, char *key, size_t ksz,
	    size_t *klen);
int	sched_inst_delete(struct store_txn *txn, const char *job, const char *cycle);

#endif /* DIFS_SCHEDULER_H */
