/* SPDX-License-Identifier: MIT */
/*
 * inst.h - one instance (one run of one job's cycle): its state machine
 * record, how it is stored (JSON, in STORE_DB_INSTANCES under
 * "JOB\0CYCLE") and how it is shown (the `status` file).
 *
 * States (DataWorks' instance states, contrib/doc/scheduling.md 2.1, made
 * explicit):
 *   WAITING     created; waits for its time, its previous cycle or a worker
 *               (reason says which)
 *   RUNNING     an attempt is running
 *   RETRY_WAIT  an attempt failed and an automatic rerun is due at next_try
 *   SUCCESS     the last attempt succeeded, or set-success was used
 *   FAILED      the last attempt failed and no automatic rerun is left
 *   KILLED      killed through ctl (no automatic rerun)
 *   FROZEN      frozen through ctl: never started until unfrozen
 *   SKIPPED     a missed cycle older than schedule.catchup: never run
 *
 * Attempts: `attempt` is the number of the current (or last) attempt, from
 * 1.  schedule.rerun.times counts automatic reruns AFTER the first attempt
 * (the seed's "reruns three times" allows 4 attempts).  A manual rerun (or
 * a daemon restart during a run) starts a new series: attempt_base is the
 * number of attempts made before it, and
 *   attempts_allowed = attempt_base + 1 + rerun_times.
 *
 * Stored JSON (stable; every field always present):
 *   {"job","cycle","state","reason","attempt","attempt_base","rerun_times",
 *    "rerun_interval_s","cyctime","created_ms","started_ms","finished_ms",
 *    "next_try_ms","window_start_ms","window_end_ms","records_read",
 *    "records_written","dirty","bytes","outputs":[..],"error","params":{..},
 *    "set_success","trigger","job_json","updated_ms","state_ms","jobjson_ms",
 *    "next_trigger","alerts_fired","attempts":[{"n","trigger","outcome",
 *    "started_ms","finished_ms","records_read","records_written","bytes",
 *    "error"}..]}
 * (the last three may be absent in records written before they existed)
 * (times: ms since the epoch, 0 = not yet; window: -1 = not reported).
 * updated_ms, state_ms and jobjson_ms are the times the record, its state
 * and its job_json last changed: the mtimes of `status`, `state` and
 * `job.json` (records written before they existed decode them from the
 * other times).
 */
#ifndef DIFS_INST_H
#define DIFS_INST_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "param.h"
#include "tz.h"

enum inst_state {
	INST_WAITING = 0,
	INST_RUNNING,
	INST_RETRY_WAIT,
	INST_SUCCESS,
	INST_FAILED,
	INST_KILLED,
	INST_FROZEN,
	INST_SKIPPED,
	INST_NSTATES
};

/** How the instance came to be. */
enum inst_trigger { INST_SCHEDULED = 0, INST_MANUAL, INST_BACKFILL };

/** What started an attempt. */
enum inst_atrig {
	INST_AT_SCHEDULED = 0,	/**< the first attempt of a scheduled cycle */
	INST_AT_RERUN,		/**< an automatic rerun (or after a daemon restart) */
	INST_AT_BACKFILL,	/**< a backfill */
	INST_AT_CTL,		/**< ctl: run, rerun, rerun descendants */
};

/** How an attempt ended. */
enum inst_outcome {
	INST_OUT_RUNNING = 0,	/**< not yet */
	INST_OUT_SUCCESS,
	INST_OUT_FAILED,
	INST_OUT_TIMEOUT,	/**< stopped by schedule.timeoutSeconds */
	INST_OUT_KILLED,	/**< killed through ctl */
	INST_OUT_INTERRUPTED,	/**< the daemon stopped or died during it */
};

/** One attempt, as status.attempts shows it. */
struct inst_attempt {
	int		 n;		/**< its number (from 1) */
	enum inst_atrig	 trigger;
	enum inst_outcome outcome;
	int64_t		 started_ms, finished_ms;	/**< finished 0: not yet */
	int64_t		 records_read, records_written, bytes;
	char		 error[256];	/**< "" none */
};

/** Attempts kept in a record (the oldest go first; attempt numbers stay). */
#define INST_ATTEMPTS_KEPT	100

struct inst {
	char		 job[256];
	char		 cycle[16];	/**< YYYYMMDDHHMMSS */
	enum inst_state	 state;
	char		 reason[256];	/**< why it is in this state */
	int		 attempt;
	int		 attempt_base;
	int		 rerun_times;
	int64_t		 rerun_interval_s;
	int64_t		 cyctime;	/**< UTC seconds */
	int64_t		 created_ms, started_ms, finished_ms, next_try_ms;
	int64_t		 updated_ms;	/**< last change of the record (status mtime) */
	int64_t		 state_ms;	/**< last change of state (state mtime) */
	int64_t		 jobjson_ms;	/**< last change of job_json */
	int64_t		 window_start_ms, window_end_ms;	/**< -1 = not reported */
	int64_t		 records_read, records_written, dirty, bytes;
	struct buf	 outputs;	/**< output names, one per line */
	struct buf	 job_json;	/**< the resolved job of the last finished attempt,
					     secrets masked ("" before any) */
	char		 error[512];	/**< last error ("" none) */
	struct param_set params;	/**< owned */
	bool		 set_success;
	enum inst_trigger trigger;
	enum inst_atrig	 next_trigger;	/**< what starts the next attempt */
	unsigned	 alerts_fired;	/**< CONF_ALERT_* bits already raised */
	struct inst_attempt *attempts;	/**< owned; oldest first */
	size_t		 nattempts;
};

void	inst_init(struct inst *in);
void	inst_free(struct inst *in);	/**< frees owned parts; in reusable after inst_init */

const char *inst_state_name(enum inst_state s);	/**< "WAITING", ... */
const char *inst_atrig_name(enum inst_atrig t);	/**< "scheduled", "rerun", ... */
const char *inst_outcome_name(enum inst_outcome o);	/**< "success", ... */
/** A new attempt entry (running) at the end of in->attempts; NULL: -ENOMEM. */
struct inst_attempt *inst_attempt_add(struct inst *in);
/** The current (last) attempt entry, or NULL when there is none. */
struct inst_attempt *inst_attempt_last(struct inst *in);
/** Deep copy of src's attempts into dst (which has none).  0 or -ENOMEM. */
int	inst_attempts_copy(struct inst *dst, const struct inst *src);
/** True for states no scheduler action changes by itself. */
bool	inst_state_terminal(enum inst_state s);
static inline int
inst_attempts_allowed(const struct inst *in)
{
	return in->attempt_base + 1 + in->rerun_times;
}

/** inst_encode - the stored JSON of in, appended to out. */
int	inst_encode(const struct inst *in, struct buf *out);
/**
 * inst_decode - parse a stored record (buf, len) into in (inst_init'ed).
 * Returns 0, ENG_ECORRUPT (not a record), -ENOMEM.
 */
int	inst_decode(const char *buf, size_t len, struct inst *in);

/**
 * inst_status - the `status` file: one JSON object (pretty, ends with a
 * newline): job, cycle, state, reason, window {start,end} (ISO 8601 with
 * zone, or null), attempt, attempts_allowed, created/started/finished/
 * next_try (ISO 8601 or null), records {read, written, dirty}, bytes,
 * objects [...], error (or null), params {...}, set_success, trigger.
 * Times are shown in tz.
 */
int	inst_status(const struct inst *in, const struct tz *tz, struct buf *out);

/** inst_iso - ISO 8601 "2026-11-25T12:05:00.000+08:00" of ms in tz. */
int	inst_iso(int64_t ms, const struct tz *tz, char *out, size_t outsz);

struct json;
/** inst_json_time - add member k to object o: inst_iso(ms) as a string, or
 *  null for ms <= 0.  0 or -ENOMEM (json.h conventions). */
int	inst_json_time(struct json *o, const char *k, int64_t ms, const struct tz *tz);

#endif /* DIFS_INST_H */
