/* SPDX-License-Identifier: MIT */
/*
 * tz.h - time zones without the process-global TZ.
 *
 * The daemon is multi-threaded, so setenv("TZ")/tzset()/localtime() are not
 * used anywhere.  A struct tz is an immutable, self-contained copy of one zone:
 * the transition table of a TZif file (RFC 8536, versions 1, 2, 3 and 4) and
 * the POSIX TZ footer string that gives local time after the last transition.
 * Once loaded, a struct tz may be shared read-only between threads.
 *
 * Leap-second records ("right/" zones) are ignored: all times are POSIX
 * seconds since 1970-01-01T00:00:00Z without leap seconds.
 *
 * Conversions
 *   tz_to_local  UTC instant -> local broken-down time (+ offset, isdst, abbr)
 *   tz_to_utc    local broken-down time -> UTC instant, with these rules:
 *                - a local time that occurs once maps to that instant;
 *                - a local time in a gap (clocks jump forward, e.g. 02:30 on
 *                  the US spring-forward day) maps as mktime() with
 *                  tm_isdst = -1 does: it is read with the offset in effect
 *                  BEFORE the gap, so 02:30 becomes 03:30 EDT;
 *                - a local time in an overlap (clocks go back, e.g. 01:30 on
 *                  the US fall-back day) maps to the EARLIER instant (the
 *                  first 01:30, EDT).
 *                The optional kind out-parameter tells which case applied.
 *   The search is exact for any zone: it tries every offset in effect
 *   within the 52 hours of instants that could show the given reading, so
 *   closely spaced transitions (historical double changes) are handled.
 */
#ifndef DIFS_TZ_H
#define DIFS_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct tz;

/** Longest zone name tz_load accepts (bytes, without NUL). */
#define TZ_NAME_MAX	255

/** A broken-down local time.  Ranges are those of a real calendar. */
struct tz_tm {
	int64_t	year;	/**< full year, e.g. 2026 (proleptic Gregorian) */
	int	mon;	/**< 1..12 */
	int	mday;	/**< 1..31 */
	int	hour;	/**< 0..23 */
	int	min;	/**< 0..59 */
	int	sec;	/**< 0..59 */
	int	wday;	/**< 0 = Sunday .. 6 (output only) */
	int	yday;	/**< 0..365 (output only) */
	int32_t	utoff;	/**< seconds east of UTC (output only) */
	int	isdst;	/**< 0/1 (output only) */
	char	abbr[16]; /**< zone abbreviation, e.g. "EDT", "+08" (output only) */
};

/** tz_to_utc's kind out-parameter. */
enum tz_local_kind {
	TZ_LOCAL_UNIQUE = 0,	/**< the local time occurs exactly once */
	TZ_LOCAL_GAP = 1,	/**< it does not exist; shifted forward */
	TZ_LOCAL_OVERLAP = 2,	/**< it occurs twice; the earlier was chosen */
};

/**
 * tz_load - load a zone by IANA name.
 * @name: "Area/Location" relative to /usr/share/zoneinfo ("Asia/Shanghai").
 *        "UTC", "Etc/UTC", "GMT", "Etc/GMT", "Zulu" work without tzdata.
 *        NULL or "" means the machine's zone: $TZ if set (":Name" or "Name";
 *        a POSIX TZ string such as "CST-8" is accepted there too; an empty
 *        $TZ means UTC), else /etc/localtime, else UTC.
 *        Absolute paths, "." / ".." components, empty components and names
 *        longer than TZ_NAME_MAX are rejected.
 * A zone loaded by name is interned: loads of one name share one immutable
 * zone, counted, freed with its last tz_free.
 * Returns 0 and *out (free with tz_free), ENG_EINVAL (bad name, unknown zone,
 * not a TZif file; eb names the zone and says how to fix it), -ENOMEM, or
 * another -errno from reading the file.  Thread-safe (reads $TZ with getenv).
 */
int	 tz_load(const char *name, struct tz **out, struct eng_errbuf *eb);

/**
 * tz_parse - build a zone from TZif bytes (buf, len).  @name is stored and
 * returned by tz_name (NULL -> "").  Returns 0, ENG_EINVAL with a message
 * (eb) for malformed data, or -ENOMEM.  Never reads outside buf.
 */
int	 tz_parse(const char *name, const void *buf, size_t len, struct tz **out,
	    struct eng_errbuf *eb);

/**
 * tz_parse_posix - build a zone from a POSIX TZ string alone, e.g.
 * "EST5EDT,M3.2.0,M11.1.0" or "<+08>-8".  Same returns as tz_parse.
 */
int	 tz_parse_posix(const char *name, const char *s, size_t len,
	    struct tz **out, struct eng_errbuf *eb);

/** tz_utc - the UTC zone (never fails except -ENOMEM). */
int	 tz_utc(struct tz **out);

void	 tz_free(struct tz *tz);

/** The zone's name as loaded ("Asia/Shanghai", "UTC", ...); lives as tz. */
const char *tz_name(const struct tz *tz);

/**
 * tz_to_local - UTC seconds -> local time.  Returns 0, or ENG_EINVAL when the
 * result's year would fall outside 1..9999.
 */
int	 tz_to_local(const struct tz *tz, int64_t t, struct tz_tm *out);

/**
 * tz_to_utc - local time -> UTC seconds (rules in the file comment).
 * Only year, mon, mday, hour, min, sec of @lt are read; they must be in
 * range (year 1..9999, a real day of that month) or ENG_EINVAL is returned.
 * @kind may be NULL.
 */
int	 tz_to_utc(const struct tz *tz, const struct tz_tm *lt, int64_t *out,
	    enum tz_local_kind *kind);

/** UTC offset (seconds east) in effect at instant t. */
int32_t	 tz_offset_at(const struct tz *tz, int64_t t);

/* ---- proleptic Gregorian calendar helpers (pure, thread-safe) ---------- */

/** 1 if y is a leap year. */
int	 tz_is_leap(int64_t y);
/** Days in month m (1..12) of year y. */
int	 tz_days_in_month(int64_t y, int m);
/** Days since 1970-01-01 of y-m-d (m 1..12, d 1..31; not range-checked). */
int64_t	 tz_days_from_civil(int64_t y, int m, int d);
/** Inverse of tz_days_from_civil. */
void	 tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

#endif /* DIFS_TZ_H */
