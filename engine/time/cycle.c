/* SPDX-License-Identifier: MIT */
/*
 * cycle.c - schedule strings and cycle-time computation in a job's zone.
 * Rules (units, ranges, DST behaviour) are documented in cycle.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cycle.h"

/* instants of 0001-01-02 and 9999-12-30 (a day of margin for zone offsets) */
#define CYCLE_T_MIN	(-62135510400LL)
#define CYCLE_T_MAX	(253402128000LL)
/* widest shift between wall clock and instant order we tolerate (minutes) */
#define CYCLE_DST_SLACK	180
/* a day without cycles happens only when all fall into a gap */
#define CYCLE_MAX_DAYS	8

static int
cycle_isdigit(int ch)
{
	return ch >= '0' && ch <= '9';
}

/* "HH:MM" (H:MM accepted) -> minute of day */
static int
cycle_hhmm(const char *s, int *out)
{
	size_t n = strlen(s), i = 0;
	int h = 0, m;

	if (n < 4 || n > 5)
		return -1;
	while (i < n && cycle_isdigit((unsigned char)s[i]))
		h = h * 10 + (s[i++] - '0');
	if (i == 0 || i > 2 || s[i] != ':' || n - i != 3 ||
	    !cycle_isdigit((unsigned char)s[i + 1]) ||
	    !cycle_isdigit((unsigned char)s[i + 2]))
		return -1;
	m = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
	if (h > 23 || m > 59)
		return -1;
	*out = h * 60 + m;
	return 0;
}

int
cycle_spec_parse(const char *cycle, const char *start, const char *end,
    struct cycle_spec *out, struct eng_errbuf *eb)
{
	struct cycle_spec s;
	size_t i = 0, n;
	long v = 0;
	char unit;

	memset(&s, 0, sizeof(s));
	if (cycle == NULL || cycle[0] == '\0')
		return eng_errbuf_set(eb, ENG_EINVAL, "schedule.cycle is missing "
		    "(use e.g. \"5m\", \"1h\" or \"daily\")");
	n = strlen(cycle);
	if (strcmp(cycle, "daily") == 0) {
		unit = 'd';
		v = 1;
	} else if (strcmp(cycle, "hourly") == 0) {
		unit = 'h';
		v = 1;
	} else {
		for (; i < n && cycle_isdigit((unsigned char)cycle[i]); i++)
			if (v <= 100000)
				v = v * 10 + (cycle[i] - '0');
		if (i == 0 || i + 1 != n)
			return eng_errbuf_set(eb, ENG_EINVAL, "schedule.cycle '%.32s': "
			    "expected a number and a unit, e.g. \"5m\", \"2h\", \"1d\" "
			    "or \"daily\"", cycle);
		unit = cycle[i];
	}
	switch (unit) {
	case 's':
		return eng_errbuf_set(eb, ENG_EINVAL, "schedule.cycle '%.32s': "
		    "seconds are not supported; cycles are whole minutes (e.g. "
		    "\"1m\")", cycle);
	case 'm':
		if (v < 1 || v > 1439)
			return eng_errbuf_set(eb, ENG_EINVAL, "schedule.cycle '%.32s': "
			    "minutes must be 1..1439 (use \"Nh\" or \"daily\" for "
			    "longer cycles)", cycle);
		if (v % 60 == 0) {
			s.unit = CYCLE_HOUR;
			s.every = (int)(v / 60);
		} else {
			s.unit = CYCLE_MINUTE;
			s.every = (int)v;
		}
		break;
	case 'h':
		if (v < 1 || v > 23)
			return eng_errbuf_set(eb, ENG_EINVAL, "schedule.cycle '%.32s': "
			    "hours must be 1..23 (use \"daily\" for once a day)", cycle);
		s.unit = CYCLE_HOUR;
		s.every = (int)v;
		break;
	case 'd':
		if (v != 1)
			return eng_errbuf_set(eb, ENG_EINVAL, "schedule.cycle '%.32s': "
			    "only \"1d\" (daily) is supported", cycle);
		s.unit = CYCLE_DAY;
		s.every = 1;
		break;
	default:
		return eng_errbuf_set(eb, ENG_EINVAL, "schedule.cycle '%.32s': "
		    "unknown unit '%c' (use m, h or d, e.g. \"5m\")", cycle, unit);
	}
	s.start_min = 0;
	s.end_min = 23 * 60 + 59;
	if (start != NULL && cycle_hhmm(start, &s.start_min) != 0)
		return eng_errbuf_set(eb, ENG_EINVAL, "schedule.start '%.32s': "
		    "expected a time of day \"HH:MM\" (00:00..23:59)", start);
	if (end != NULL) {
		if (s.unit == CYCLE_DAY)
			return eng_errbuf_set(eb, ENG_EINVAL, "schedule.end: a daily "
			    "cycle runs once at schedule.start; remove \"end\"");
		if (cycle_hhmm(end, &s.end_min) != 0)
			return eng_errbuf_set(eb, ENG_EINVAL, "schedule.end '%.32s': "
			    "expected a time of day \"HH:MM\" (00:00..23:59)", end);
	}
	if (s.unit == CYCLE_DAY)
		s.end_min = s.start_min;
	if (s.end_min < s.start_min)
		return eng_errbuf_set(eb, ENG_EINVAL, "schedule.end %02d:%02d is "
		    "before schedule.start %02d:%02d (cycles cannot cross midnight; "
		    "use start <= end)", s.end_min / 60, s.end_min % 60,
		    s.start_min / 60, s.start_min % 60);
	*out = s;
	return 0;
}

static int
cycle_spec_ok(const struct cycle_spec *s)
{
	switch (s->unit) {
	case CYCLE_MINUTE:
		if (s->every < 1 || s->every > 1439)
			return 0;
		break;
	case CYCLE_HOUR:
		if (s->every < 1 || s->every > 23)
			return 0;
		break;
	case CYCLE_DAY:
		break;
	default:
		return 0;
	}
	return s->start_min >= 0 && s->end_min <= 1439 && s->start_min <= s->end_min;
}

/*
 * Walk the cycles of local day `day` (days since epoch) in order, starting
 * at wall-clock minute >= min_wall; cb returns non-zero to stop.
 */
static int
cycle_day(const struct cycle_spec *s, const struct tz *tz, int64_t day,
    int min_wall, int (*cb)(void *, int64_t), void *arg)
{
	struct tz_tm lt;
	int step, m, rc;

	memset(&lt, 0, sizeof(lt));
	tz_civil_from_days(day, &lt.year, &lt.mon, &lt.mday);
	if (lt.year < 1 || lt.year > 9999)
		return ENG_EINVAL;
	step = s->unit == CYCLE_MINUTE ? s->every :
	    s->unit == CYCLE_HOUR ? s->every * 60 : 1440;
	m = s->start_min;
	if (min_wall > m)
		m += (min_wall - m) / step * step;
	for (; m <= s->end_min; m += step) {
		enum tz_local_kind kind;
		int64_t t;

		lt.hour = m / 60;
		lt.min = m % 60;
		lt.sec = 0;
		if ((rc = tz_to_utc(tz, &lt, &t, &kind)) != 0)
			return rc;
		if (kind == TZ_LOCAL_GAP && s->unit != CYCLE_DAY)
			continue;	/* this wall-clock time does not exist */
		if ((rc = cb(arg, t)) != 0)
			return rc;
	}
	return 0;
}

struct cycle_next_arg {
	int64_t	after;
	int64_t	found;
};

static int
cycle_next_cb(void *arg, int64_t t)
{
	struct cycle_next_arg *a = arg;

	if (t <= a->after)
		return 0;
	a->found = t;
	return 1;
}

/* local day and wall minute of instant t */
static int
cycle_local(const struct tz *tz, int64_t t, int64_t *day, int *wall)
{
	struct tz_tm lt;

	if (t < CYCLE_T_MIN || t > CYCLE_T_MAX || tz_to_local(tz, t, &lt) != 0)
		return ENG_EINVAL;
	*day = tz_days_from_civil(lt.year, lt.mon, lt.mday);
	*wall = lt.hour * 60 + lt.min;
	return 0;
}

int
cycle_next(const struct cycle_spec *spec, const struct tz *tz, int64_t after,
    int64_t *next)
{
	struct cycle_next_arg a = { after, 0 };
	int64_t day, d;
	int wall, rc;

	if (!cycle_spec_ok(spec) || cycle_local(tz, after, &day, &wall) != 0)
		return ENG_EINVAL;
	for (d = day - 1; d <= day + CYCLE_MAX_DAYS; d++) {
		/*
		 * Only the last hours of the previous day can lie after `after`
		 * (when clocks went back across midnight), and on after's own
		 * day nothing earlier than a few hours before its reading.
		 */
		int min_wall = d == day - 1 ? 1440 - CYCLE_DST_SLACK :
		    d == day ? wall - CYCLE_DST_SLACK : 0;

		rc = cycle_day(spec, tz, d, min_wall, cycle_next_cb, &a);
		if (rc == 1) {
			*next = a.found;
			return 0;
		}
		if (rc != 0)
			return rc;
	}
	return ENG_EINVAL;
}

struct cycle_list_arg {
	int64_t	from, to;
	int	(*cb)(void *, int64_t);
	void	*arg;
	int	done;
};

static int
cycle_list_cb(void *arg, int64_t t)
{
	struct cycle_list_arg *a = arg;
	int rc;

	if (t < a->from)
		return 0;
	if (t >= a->to) {
		a->done = 1;
		return 1;
	}
	if ((rc = a->cb(a->arg, t)) != 0)
		return rc;
	return 0;
}

int
cycle_list(const struct cycle_spec *spec, const struct tz *tz, int64_t from,
    int64_t to, int (*cb)(void *arg, int64_t t), void *arg)
{
	struct cycle_list_arg a = { from, to, cb, arg, 0 };
	int64_t day, last, d;
	int wall, rc;

	if (!cycle_spec_ok(spec))
		return ENG_EINVAL;
	if (from >= to)
		return 0;
	if (cycle_local(tz, from, &day, &wall) != 0 ||
	    cycle_local(tz, to, &last, &wall) != 0)
		return ENG_EINVAL;
	for (d = day - 1; d <= last + 1; d++) {
		rc = cycle_day(spec, tz, d, 0, cycle_list_cb, &a);
		if (a.done)
			return 0;
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
cycle_is_cycle(const struct cycle_spec *spec, const struct tz *tz, int64_t t)
{
	int64_t next;

	if (t <= CYCLE_T_MIN)
		return 0;
	return cycle_next(spec, tz, t - 1, &next) == 0 && next == t;
}

int
cycle_id_format(int64_t t, const struct tz *tz, char out[15])
{
	struct tz_tm lt;
	int n;

	if (tz_to_local(tz, t, &lt) != 0)
		return ENG_EINVAL;
	n = snprintf(out, 15, "%04d%02d%02d%02d%02d%02d", (int)lt.year, lt.mon,
	    lt.mday, lt.hour, lt.min, lt.sec);
	return n == 14 ? 0 : ENG_EINVAL;
}

static int
cycle_dig(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

int
cycle_id_parse(const char *s, size_t len, const struct tz *tz, int64_t *t,
    struct eng_errbuf *eb)
{
	struct tz_tm lt;
	enum tz_local_kind kind;
	int64_t v;
	size_t i;

	if (len != 14)
		goto bad;
	for (i = 0; i < len; i++)
		if (!cycle_isdigit((unsigned char)s[i]))
			goto bad;
	memset(&lt, 0, sizeof(lt));
	lt.year = cycle_dig(s, 4);
	lt.mon = cycle_dig(s + 4, 2);
	lt.mday = cycle_dig(s + 6, 2);
	lt.hour = cycle_dig(s + 8, 2);
	lt.min = cycle_dig(s + 10, 2);
	lt.sec = cycle_dig(s + 12, 2);
	if (tz_to_utc(tz, &lt, &v, &kind) != 0)
		return eng_errbuf_set(eb, ENG_EINVAL, "cycle '%.14s' is not a real "
		    "date and time (YYYYMMDDHHMMSS)", s);
	if (kind == TZ_LOCAL_GAP)
		return eng_errbuf_set(eb, ENG_EINVAL, "cycle '%.14s' does not exist "
		    "in time zone %s (skipped by a daylight-saving change)", s,
		    tz_name(tz));
	*t = v;
	return 0;
bad:
	return eng_errbuf_set(eb, ENG_EINVAL, "cycle '%.*s': expected 14 digits "
	    "YYYYMMDDHHMMSS (local time of the job's zone)",
	    (int)(len > 32 ? 32 : len), s);
}
