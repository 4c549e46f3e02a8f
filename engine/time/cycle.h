/* SPDX-License-Identifier: MIT */
/*
 * cycle.h - periodic schedules: which instants are cycle times.
 *
 * A schedule is read in the job's time zone as wall-clock times of day:
 *
 *   "Nm"  (N = 1..1439)  every N minutes: start, start+N, ... <= end,
 *                        restarting at start each day.  DataWorks' console
 *                        offers 5-minute steps; we accept any whole number
 *                        of minutes (N need not divide 60: it counts from
 *                        start).  "5m" over 00:00-23:59 gives 288 cycles
 *                        (00:00 ... 23:55).
 *   "Nh"  (N = 1..23), "hourly" = "1h"
 *                        every N hours: start, start+N h, ... <= end (a
 *                        closed interval, as in DataWorks: 00:00-03:00
 *                        hourly = 4 cycles).  "60m" is the same as "1h".
 *   "1d", "daily"        once a day at `start` (default 00:00); `end` must
 *                        be absent.
 *   Seconds ("60s") are rejected: cycles are whole minutes.
 *
 * start/end are "HH:MM" (00:00..23:59); defaults 00:00 and 23:59; end < start
 * is rejected.
 *
 * Daylight saving time (only in zones that have it):
 *   - minute/hour cycles whose wall-clock time does not exist (spring-forward
 *     gap) are skipped; e.g. America/New_York 5m has 276 cycles on the
 *     spring-forward day;
 *   - wall-clock times that occur twice (fall-back overlap) give ONE cycle,
 *     at the earlier instant (instance ids are local wall-clock times and
 *     must be unique); the repeated hour has no cycles of its own, so 5m
 *     still has 288 cycles that day;
 *   - a daily cycle whose time falls in a gap runs at the shifted-forward
 *     instant (02:30 -> 03:30 EDT), so every day has exactly one run.
 *   Use "UTC" or a zone without DST when contiguous minute windows matter.
 *
 * Instance ids are the cycle's local time in the job's zone, 14 digits
 * "YYYYMMDDHHMMSS".
 *
 * All functions are pure and thread-safe.
 */
#ifndef DIFS_CYCLE_H
#define DIFS_CYCLE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tz.h"

enum cycle_unit {
	CYCLE_MINUTE = 1,
	CYCLE_HOUR = 2,
	CYCLE_DAY = 3,
};

/** A parsed schedule; plain data, copy freely. */
struct cycle_spec {
	enum cycle_unit unit;
	int	every;		/**< N of "Nm"/"Nh"; 1 for daily */
	int	start_min;	/**< minute of day of the first cycle (0..1439) */
	int	end_min;	/**< last allowed minute of day (>= start_min) */
};

/**
 * cycle_spec_parse - parse already-extracted strings.
 * @cycle: "5m", "1h", "daily", ... (required).
 * @start, @end: "HH:MM" or NULL for the default.
 * Returns 0 and *out, or ENG_EINVAL with eb naming the field and the fix
 * (e.g. "cycle '60s': seconds are not supported; use minutes such as '1m'").
 */
int	 cycle_spec_parse(const char *cycle, const char *start, const char *end,
	    struct cycle_spec *out, struct eng_errbuf *eb);

/**
 * cycle_next - first cycle time strictly after @after (UTC seconds).
 * Returns 0 and *next, or ENG_EINVAL (bad spec, or no cycle before year 9999).
 */
int	 cycle_next(const struct cycle_spec *spec, const struct tz *tz,
	    int64_t after, int64_t *next);

/**
 * cycle_list - call cb(arg, t) for every cycle time t in [from, to), in
 * increasing order.  A non-zero return from cb stops the walk and is
 * returned.  Returns 0, ENG_EINVAL (bad spec or from/to outside years
 * 1..9999) or cb's value.
 */
int	 cycle_list(const struct cycle_spec *spec, const struct tz *tz,
	    int64_t from, int64_t to, int (*cb)(void *arg, int64_t t), void *arg);

/** 1 if t is exactly a cycle time of spec in tz, else 0. */
int	 cycle_is_cycle(const struct cycle_spec *spec, const struct tz *tz,
	    int64_t t);

/**
 * cycle_id_format - "YYYYMMDDHHMMSS" (local time of t in tz) into out.
 * Returns 0 or ENG_EINVAL (year outside 1..9999).
 */
int	 cycle_id_format(int64_t t, const struct tz *tz, char out[15]);

/**
 * cycle_id_parse - inverse of cycle_id_format for (s, len): exactly 14 digits
 * forming a real local date and time.  A time inside a DST gap is rejected
 * (no instance can have it); one inside an overlap maps to the earlier
 * instant.  Returns 0 and *t, or ENG_EINVAL with eb saying what is wrong.
 */
int	 cycle_id_parse(const char *s, size_t len, const struct tz *tz,
	    int64_t *t, struct eng_errbuf *eb);

#endif /* DIFS_CYCLE_H */
