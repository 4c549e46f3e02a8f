/* SPDX-License-Identifier: MIT */
/*
 * sched_i.h - private to engine/sched: the scheduler's in-memory state and
 * the functions its files share.
 *
 * Files, top to bottom: scheduler.c (the public API: jobs, lifecycle, the
 * step) -> sched_ctl.c -> sched_create.c, sched_run.c -> sched_core.c.
 */
#ifndef DIFS_SCHED_I_H
#define DIFS_SCHED_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ckpt.h"
#include "cycle.h"
#include "json.h"
#include "log.h"
#include "run.h"
#include "scheduler.h"

#define SCHED_JOBLOG	"joblog"
#define SCHED_JDIR_PFX	"jdir"	/**< META "jdir\0JOB": instances/JOB mtime */
#define SCHED_MAX_CREATE 200000	/**< instances one step may create for a job */
#define SCHED_CREATE_BATCH	2000	/**< records per creation transaction */

struct sched_def {
	struct conf_job	*job;
	struct tz	*tz;
	int		 refs;		/**< protected by sched->lock */
};

struct sched_job {
	char		*name;
	struct sched_def *def;
	bool		 paused;
	int64_t		 removed_ms;	/**< 0: defined */
	bool		 has_last;
	int64_t		 last_cycle;	/**< UTC s of the last created cycle */
	int64_t		 defined_ms;
	/* sched_pick.c (lock) */
	uint64_t	 rr_seq;	/**< when it last got a worker (round-robin) */
	int		 nrun;		/**< its attempts running (this step) */
	int64_t		 unfin_checked;	/**< the last unfinished_by deadline checked (UTC s) */
	int64_t		 prune_next_ms;	/**< sched_prune: no pass before (0: at once) */
	int64_t		 prune_log_ms;	/**< sched_prune: its last job log line */
	int64_t		 prune_unlogged[2];	/**< removed since: by count, by age */
	struct sched_job *next;
};

struct sched_pend {
	char		 job[256];
	char		 cycle[16];
	int64_t		 cyctime;
	enum inst_state	 state;
	int64_t		 next_try_ms;
	enum inst_trigger trigger;
	char		 reason[256];
	int64_t		 reason_ms;	/**< > 0: reason is newer than the record's
					     (only in memory, see sched_pick.c) */
	struct sched_pend *next;	/**< sorted by (job, cycle) */
	struct sched_pend *prev;
	struct sched_pend *hnext;	/**< hash chain */
};

#define SCHED_PEND_BUCKETS	65536u
#define SCHED_CNT_BUCKETS	4096u

/** A job's figures (sched_metrics.c), by name. */
struct sched_cnt {
	struct sched_job_metrics m;
	struct sched_cnt *hnext;
};

/** Why a run was cancelled. */
enum { SCHED_WHY_NONE = 0, SCHED_WHY_KILL, SCHED_WHY_STOP, SCHED_WHY_TIMEOUT };

struct sched_run {
	struct sched	*s;
	char		 job[256];
	char		 cycle[16];
	atomic_int	 cancel;
	int		 why;		/**< SCHED_WHY_* */
	int64_t		 started_ms;
	int64_t		 timeout_ms;	/**< schedule.timeoutSeconds; 0 none */
	struct pipe_stats stats;
	/* what `status` shows while it runs: the counters as of the run's last
	 * log line, so the file changes only when the log does (protected by
	 * s->lock) */
	int64_t		 snap_read, snap_written, snap_dirty, snap_bytes, snap_ms;
	struct sched_def *def;
	struct param_set params;	/**< copy of the instance's parameters */
	int		 attempt;
	int64_t		 cyctime;
	struct sched_run *next;
};

struct sched {
	struct sched_config cfg;
	struct tz	*local;		/**< the machine's zone */
	pthread_mutex_t	 lock;
	pthread_mutex_t	 steplock;	/**< one sched_step at a time (it releases
					     lock while it writes a batch) */
	uint64_t	 trgen;		/**< transitions made (lock) */
	uint64_t	 rr_next;	/**< round-robin sequence (lock) */
	int		 nalerts;	/**< alert deliveries under way (lock) */
	pthread_cond_t	 idle_cv;	/**< signalled when a run ends */
	pthread_cond_t	 wake_cv;	/**< wakes the background thread */
	struct sched_job *jobs;		/* protected by lock */
	struct sched_pend *pending;	/* protected by lock; sorted list head */
	struct sched_pend *pending_tail;	/* protected by lock */
	struct sched_pend **pending_hash;	/* SCHED_PEND_BUCKETS chains, protected by lock */
	struct sched_run *running;	/* protected by lock */
	int		 nrunning;	/* protected by lock */
	struct sched_cnt **cnt_hash;	/* SCHED_CNT_BUCKETS chains, protected by lock */
	int64_t		 npending;	/* protected by lock */
	pthread_t	 thread;
	bool		 thread_on;
	bool		 stopping;	/* protected by lock */
};

/*
 * A transition: load the record, let mut() change it and write the log
 * line, save — one transaction.  mut returns 0, or an error to abort.
 */
typedef int sched_mut_fn(struct inst *in, void *arg, struct buf *logmsg);

/** What sched_jobstate_get_fn (a read txn) fills. */
struct sched_jsload {
	struct sched_job *j;
	bool		  found;
};

/** What sched_jobstate_put_fn (a write txn) writes. */
struct sched_jsarg {
	const struct sched_job *j;
};

/* sched_core.c (every function: s->lock held unless said) */
int64_t	sched_now(const struct sched *s);
void	sched_def_unref(struct sched_def *d);
/** sched_def_unref taking s->lock (for a reference held outside it). */
void	sched_def_put(struct sched *s, struct sched_def *d);
struct sched_job *sched_find(struct sched *s, const char *name);
/** One log line, "ISO LEVEL msg\n", in tz (out appended). */
int	sched_fmt_line(struct sched *s, const struct tz *tz, enum log_level lvl,
	    const char *msg, struct buf *out);
/** A line in the instance's log (cycle) or the job's (cycle NULL). */
void	sched_log(struct sched *s, const char *job, const char *cycle, const struct tz *tz,
	    enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/** Read / write one instance record in txn (0, -ENOENT, a store error). */
int	sched_inst_load(struct store_txn *txn, const char *job, const char *cycle,
	    struct inst *in);
int	sched_inst_save(struct store_txn *txn, const struct inst *in, const char *logline);
/** The job state (META "job\0NAME"): save in a txn of its own; get/put
 *  as the fn of a txn (struct sched_jsload / struct sched_jsarg). */
int	sched_jobstate_save(struct sched *s, const struct sched_job *j);
int	sched_jobstate_get_fn(struct store_txn *txn, void *arg);
int	sched_jobstate_put_fn(struct store_txn *txn, void *arg);
struct sched_pend *sched_pend_find(struct sched *s, const char *job, const char *cycle);
/** Make the pending list show in (added, updated, or removed when final). */
int	sched_pend_sync(struct sched *s, const struct inst *in);
/**
 * One transition of job/cycle in one store transaction: mut(arg) on the
 * record, or (create) arg is a prepared record to insert (-EEXIST when
 * there).  Then the pending list and the notify hook; *out (may be NULL)
 * gets the record written.
 */
int	sched_transition(struct sched *s, const char *job, const char *cycle,
	    const struct tz *tz, sched_mut_fn *mut, void *arg, bool create,
	    struct inst *out);

/* sched_create.c */
/** Create cycle t of j in state st (one transition; -EEXIST when there). */
int	sched_create(struct sched *s, struct sched_job *j, int64_t t, enum inst_state st,
	    enum inst_trigger trig, const char *reason, int64_t now);
/** Create the cycles due for j, in batches (releases s->lock meanwhile;
 *  s->steplock held). */
int	sched_create_due(struct sched *s, struct sched_job *j, int64_t now);

/* sched_run.c */
/** Start an attempt of p (a job j instance that may start). */
int	sched_start_run(struct sched *s, struct sched_job *j, struct sched_pend *p, int64_t now);

/* sched_pick.c */
/** Stop timed-out attempts, start what may start now (the rest get their
 *  waiting reasons). */
void	sched_start_runnable(struct sched *s, int64_t now);

/* sched_ctl.c */
/** The mutation of a rerun: a new attempt series, WAITING with reason arg
 *  (a string; "...backfill..." makes its next attempt a backfill one). */
int	sched_mut_rerun(struct inst *in, void *arg, struct buf *msg);

/* sched_dep.c */
/** The newest cycle time of sch at or before t (-ENOENT: none in 3 days). */
int	sched_cycle_floor(const struct conf_schedule *sch, const struct tz *tz, int64_t t,
	    int64_t *out);
/** 0: j's instance at t has its upstream instances; 1: waits (why); <0 error. */
int	sched_dep_wait(struct sched *s, const struct sched_job *j, int64_t t, char *why,
	    size_t whysz);
/** ctl "rerun descendants" past the instance itself (which the caller reran). */
int	sched_rerun_descendants(struct sched *s, const char *job, const char *cycle, int *reran,
	    int *running, struct eng_errbuf *eb);

/* sched_alert.c (lock held) */
/** The schedule.alert events of d (0: no alert block). */
unsigned sched_alert_events(const struct sched_def *d);
/** Deliver events (CONF_ALERT_* bits) for in, each on its own thread;
 *  reason (NULL: in's) is the text the alert carries. */
void	sched_alert_raise(struct sched *s, struct sched_def *d, const struct inst *in,
	    unsigned events, const char *reason);
/** Raise unfinished_by for j's instances past today's baseline. */
void	sched_alert_unfinished(struct sched *s, struct sched_job *j, int64_t now);

/* sched_metrics.c (lock held) */
struct sched_cnt *sched_cnt_get(struct sched *s, const char *name);
/** An instance of job went from state was (-1: new) to now (-1: removed). */
void	sched_cnt_state(struct sched *s, const char *job, int was, int now);
/** An attempt of in finished (in: the record as written). */
void	sched_cnt_attempt(struct sched *s, const struct inst *in, bool failed, bool timeout);
/** in is SUCCESS: the freshness it gives. */
void	sched_cnt_success(struct sched *s, const struct inst *in);
void	sched_cnt_alert(struct sched *s, const char *job, bool ok);
void	sched_cnt_free(struct sched *s);
/* sched_prune.c */
/** Retention (keepInstances, keepDays) of every defined job, at most once a
 *  minute each (s->lock and s->steplock held; releases s->lock meanwhile). */
int	sched_prune(struct sched *s, int64_t now);

#endif /* DIFS_SCHED_I_H */
