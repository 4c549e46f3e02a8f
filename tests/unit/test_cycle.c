/* SPDX-License-Identifier: MIT */
/*
 * test_cycle.c - schedule parsing, cycle listing/next, instance ids.
 * argv[1] is the directory of real TZif files (tests/fuzz/corpus/tz).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cycle.h"
#include "tap.h"

static const char *corpus = "tests/fuzz/corpus/tz";

static struct tz *
load(const char *zone)
{
	char path[512], file[128];
	struct eng_errbuf eb;
	struct tz *tz = NULL;
	FILE *fp;
	long n;
	char *p;
	size_t i;

	snprintf(file, sizeof(file), "%s", zone);
	for (i = 0; file[i] != '\0'; i++)
		if (file[i] == '/')
			file[i] = '_';
	snprintf(path, sizeof(path), "%s/%s", corpus, file);
	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	p = malloc((size_t)n);
	if (p != NULL && fread(p, 1, (size_t)n, fp) == (size_t)n)
		(void)tz_parse(zone, p, (size_t)n, &tz, &eb);
	free(p);
	fclose(fp);
	return tz;
}

static int64_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	return tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

/* collects cycle times */
struct coll {
	int64_t	t[2000];
	size_t	n;
	int	stop_at;	/* stop with this rc after n == stop_at (0: never) */
};

static int
coll_cb(void *arg, int64_t t)
{
	struct coll *c = arg;

	if (c->n < sizeof(c->t) / sizeof(c->t[0]))
		c->t[c->n] = t;
	c->n++;
	if (c->stop_at != 0 && (int)c->n == c->stop_at)
		return 42;
	return 0;
}

static struct cycle_spec
spec(const char *cyc, const char *start, const char *end)
{
	struct cycle_spec s;
	struct eng_errbuf eb;

	memset(&s, 0, sizeof(s));
	if (cycle_spec_parse(cyc, start, end, &s, &eb) != 0)
		printf("# %s\n", eb.msg);
	return s;
}

/* number of cycles in the local day y-m-d of tz */
static size_t
count_day(const struct cycle_spec *s, const struct tz *tz, int y, int m, int d,
    struct coll *c)
{
	struct tz_tm a, b;
	int64_t from, to;

	memset(&a, 0, sizeof(a));
	a.year = y; a.mon = m; a.mday = d;
	b = a;
	tz_civil_from_days(tz_days_from_civil(y, m, d) + 1, &b.year, &b.mon, &b.mday);
	if (tz_to_utc(tz, &a, &from, NULL) != 0 || tz_to_utc(tz, &b, &to, NULL) != 0)
		return 0;
	memset(c, 0, sizeof(*c));
	if (cycle_list(s, tz, from, to, coll_cb, c) != 0)
		return 0;
	return c->n;
}

static void
test_parse(void)
{
	static const struct { const char *cyc, *start, *end; int unit, every, smin, emin; } good[] = {
		{ "5m", NULL, NULL, CYCLE_MINUTE, 5, 0, 1439 },
		{ "1m", "00:00", "23:59", CYCLE_MINUTE, 1, 0, 1439 },
		{ "30m", "08:00", "18:30", CYCLE_MINUTE, 30, 480, 1110 },
		{ "7m", "9:05", NULL, CYCLE_MINUTE, 7, 545, 1439 },
		{ "60m", NULL, NULL, CYCLE_HOUR, 1, 0, 1439 },
		{ "120m", NULL, NULL, CYCLE_HOUR, 2, 0, 1439 },
		{ "1h", "00:00", "03:00", CYCLE_HOUR, 1, 0, 180 },
		{ "hourly", NULL, NULL, CYCLE_HOUR, 1, 0, 1439 },
		{ "2h", NULL, NULL, CYCLE_HOUR, 2, 0, 1439 },
		{ "1d", NULL, NULL, CYCLE_DAY, 1, 0, 0 },
		{ "daily", "00:30", NULL, CYCLE_DAY, 1, 30, 30 },
		{ "5m", "12:00", "12:00", CYCLE_MINUTE, 5, 720, 720 },
	};
	static const struct { const char *cyc, *start, *end, *msg; } bad[] = {
		{ NULL, NULL, NULL, "missing" },
		{ "", NULL, NULL, "missing" },
		{ "60s", NULL, NULL, "seconds are not supported" },
		{ "0m", NULL, NULL, "1..1439" },
		{ "1440m", NULL, NULL, "1..1439" },
		{ "24h", NULL, NULL, "1..23" },
		{ "0h", NULL, NULL, "1..23" },
		{ "2d", NULL, NULL, "only \"1d\"" },
		{ "5w", NULL, NULL, "unknown unit" },
		{ "m", NULL, NULL, "expected a number" },
		{ "5 m", NULL, NULL, "expected a number" },
		{ "5mm", NULL, NULL, "expected a number" },
		{ "99999999999m", NULL, NULL, "1..1439" },
		{ "5m", "24:00", NULL, "schedule.start" },
		{ "5m", "12:60", NULL, "schedule.start" },
		{ "5m", "1200", NULL, "schedule.start" },
		{ "5m", "12:0", NULL, "schedule.start" },
		{ "5m", NULL, "noon", "schedule.end" },
		{ "5m", "10:00", "09:59", "before schedule.start" },
		{ "daily", "01:00", "02:00", "remove \"end\"" },
	};
	struct cycle_spec s;
	struct eng_errbuf eb;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&s, 0, sizeof(s));
		is_rc(cycle_spec_parse(good[i].cyc, good[i].start, good[i].end, &s, &eb),
		    0, "parse %s %s-%s", good[i].cyc, good[i].start ? good[i].start : "-",
		    good[i].end ? good[i].end : "-");
		ok(s.unit == (enum cycle_unit)good[i].unit && s.every == good[i].every &&
		    s.start_min == good[i].smin && s.end_min == good[i].emin,
		    "fields of %s: unit %d every %d %d-%d", good[i].cyc, s.unit, s.every,
		    s.start_min, s.end_min);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		eb.msg[0] = '\0';
		is_rc(cycle_spec_parse(bad[i].cyc, bad[i].start, bad[i].end, &s, &eb),
		    ENG_EINVAL, "reject %s %s %s", bad[i].cyc ? bad[i].cyc : "(null)",
		    bad[i].start ? bad[i].start : "-", bad[i].end ? bad[i].end : "-");
		ok(strstr(eb.msg, bad[i].msg) != NULL, "message has '%s': %s",
		    bad[i].msg, eb.msg);
	}
}

static void
test_counts(const struct tz *sh, const struct tz *ny, const struct tz *u)
{
	struct cycle_spec s5 = spec("5m", "00:00", "23:59");
	struct cycle_spec s1h = spec("1h", NULL, NULL);
	struct cycle_spec sd = spec("daily", "02:30", NULL);
	struct cycle_spec s1m = spec("1m", NULL, NULL);
	struct cycle_spec win = spec("1h", "00:00", "03:00");
	struct cycle_spec s7 = spec("7m", "00:00", "01:00");
	static struct coll c;
	char id[15];

	is_int(count_day(&s5, sh, 2026, 11, 25, &c), 288, "5m: 288 cycles a day (Shanghai)");
	cycle_id_format(c.t[0], sh, id);
	is_str(id, "20261125000000", "first is 00:00");
	cycle_id_format(c.t[287], sh, id);
	is_str(id, "20261125235500", "last is 23:55");
	is_int(c.t[1] - c.t[0], 300, "5 minutes apart");
	is_int(count_day(&s5, u, 2024, 2, 29, &c), 288, "5m: 288 on a leap day (UTC)");
	is_int(count_day(&s1h, sh, 2026, 11, 25, &c), 24, "hourly: 24");
	is_int(count_day(&sd, sh, 2026, 11, 25, &c), 1, "daily: 1");
	cycle_id_format(c.t[0], sh, id);
	is_str(id, "20261125023000", "daily at 02:30");
	is_int(count_day(&s1m, sh, 2026, 11, 25, &c), 1440, "1m: 1440");
	is_int(count_day(&win, sh, 2026, 11, 25, &c), 4, "00:00-03:00 hourly: 4 (closed)");
	is_int(count_day(&s7, sh, 2026, 11, 25, &c), 9, "7m over 00:00-01:00: 9 (00:00..00:56)");
	cycle_id_format(c.t[8], sh, id);
	is_str(id, "20261125005600", "7m last at 00:56");

	/* DST: spring forward loses 02:00-02:59 local */
	is_int(count_day(&s5, ny, 2025, 3, 9, &c), 276, "5m NY spring-forward day: 276");
	cycle_id_format(c.t[23], ny, id);
	is_str(id, "20250309015500", "last before the gap 01:55");
	cycle_id_format(c.t[24], ny, id);
	is_str(id, "20250309030000", "first after the gap 03:00");
	is_int(c.t[24] - c.t[23], 300, "contiguous in real time across the gap");
	is_int(count_day(&s1h, ny, 2025, 3, 9, &c), 23, "hourly NY spring-forward: 23");
	is_int(count_day(&sd, ny, 2025, 3, 9, &c), 1, "daily in the gap still runs");
	is_int(c.t[0], utc(2025, 3, 9, 7, 30, 0), "daily 02:30 -> 03:30 EDT");
	/* fall back: the repeated hour runs once */
	is_int(count_day(&s5, ny, 2025, 11, 2, &c), 288, "5m NY fall-back day: 288");
	is_int(c.t[12] , utc(2025, 11, 2, 5, 0, 0), "01:00 is the EDT one");
	is_int(c.t[24] - c.t[23], 3900, "01:55 EDT -> 02:00 EST is 65 minutes");
	is_int(count_day(&s1h, ny, 2025, 11, 2, &c), 24, "hourly NY fall-back: 24");
	is_int(count_day(&s5, ny, 2025, 7, 4, &c), 288, "5m NY summer day: 288");
	is_int(count_day(&s5, ny, 2050, 3, 13, &c), 276, "5m NY 2050 spring (footer rule): 276");
}

static void
test_next(const struct tz *sh, const struct tz *ny)
{
	struct cycle_spec s5 = spec("5m", NULL, NULL);
	struct cycle_spec biz = spec("30m", "08:00", "18:00");
	struct cycle_spec sd = spec("daily", "00:05", NULL);
	struct cycle_spec bad;
	int64_t n = 0, base = utc(2026, 11, 25, 4, 5, 0);	/* 12:05 Shanghai */
	char id[15];

	is_rc(cycle_next(&s5, sh, base, &n), 0, "next 5m");
	is_int(n, base + 300, "strictly after a cycle time");
	is_rc(cycle_next(&s5, sh, base - 1, &n), 0, "next 5m from just before");
	is_int(n, base, "the cycle itself");
	is_rc(cycle_next(&s5, sh, utc(2026, 11, 25, 15, 57, 0), &n), 0, "next at 23:57");
	cycle_id_format(n, sh, id);
	is_str(id, "20261126000000", "rolls over to midnight");
	is_rc(cycle_next(&biz, sh, utc(2026, 11, 25, 10, 0, 0), &n), 0, "next after 18:00");
	cycle_id_format(n, sh, id);
	is_str(id, "20261126080000", "next business window day");
	is_rc(cycle_next(&biz, sh, utc(2026, 12, 31, 10, 0, 1), &n), 0, "next after year end");
	cycle_id_format(n, sh, id);
	is_str(id, "20270101080000", "new year");
	is_rc(cycle_next(&sd, sh, base, &n), 0, "next daily");
	cycle_id_format(n, sh, id);
	is_str(id, "20261126000500", "tomorrow 00:05");
	is_rc(cycle_next(&s5, ny, utc(2025, 3, 9, 6, 55, 0), &n), 0, "NY next across gap");
	is_int(n, utc(2025, 3, 9, 7, 0, 0), "01:55 EST -> 03:00 EDT");
	is_rc(cycle_next(&s5, ny, utc(2025, 11, 2, 5, 55, 0), &n), 0, "NY next in overlap");
	is_int(n, utc(2025, 11, 2, 7, 0, 0), "01:55 EDT -> 02:00 EST (second 01:xx skipped)");
	is_rc(cycle_next(&s5, ny, utc(2025, 11, 2, 6, 10, 0), &n), 0, "NY next from inside the second 01:xx");
	is_int(n, utc(2025, 11, 2, 7, 0, 0), "-> 02:00 EST");
	ok(cycle_is_cycle(&s5, sh, base), "12:05 is a cycle");
	ok(!cycle_is_cycle(&s5, sh, base + 60), "12:06 is not");
	ok(!cycle_is_cycle(&s5, sh, base + 1), "12:05:01 is not");
	ok(!cycle_is_cycle(&biz, sh, utc(2026, 11, 25, 11, 0, 0)), "19:00 outside the window");
	ok(!cycle_is_cycle(&s5, ny, utc(2025, 11, 2, 6, 30, 0)), "second 01:30 is not a cycle");
	memset(&bad, 0, sizeof(bad));
	is_rc(cycle_next(&bad, sh, base, &n), ENG_EINVAL, "zeroed spec rejected");
	is_rc(cycle_next(&s5, sh, INT64_MAX, &n), ENG_EINVAL, "far future rejected");
}

static void
test_list(const struct tz *sh)
{
	struct cycle_spec s5 = spec("5m", NULL, NULL);
	static struct coll c;
	int64_t from = utc(2026, 11, 25, 4, 0, 0), t;
	size_t i;
	int ok_next = 1;

	memset(&c, 0, sizeof(c));
	is_rc(cycle_list(&s5, sh, from, from + 3600, coll_cb, &c), 0, "list one hour");
	is_int(c.n, 12, "12 cycles in [12:00, 13:00)");
	is_int(c.t[0], from, "from is inclusive");
	is_int(c.t[11], from + 3300, "to is exclusive");
	memset(&c, 0, sizeof(c));
	is_rc(cycle_list(&s5, sh, from + 1, from + 300, coll_cb, &c), 0, "list empty window");
	is_int(c.n, 0, "no cycle in (12:00, 12:05)");
	is_rc(cycle_list(&s5, sh, from, from, coll_cb, &c), 0, "empty range");
	memset(&c, 0, sizeof(c));
	c.stop_at = 3;
	is_rc(cycle_list(&s5, sh, from, from + 86400, coll_cb, &c), 42, "callback stops the walk");
	is_int(c.n, 3, "after three");
	/* list and next agree over several days */
	memset(&c, 0, sizeof(c));
	(void)cycle_list(&s5, sh, from, from + 3 * 86400, coll_cb, &c);
	is_int(c.n, 864, "three days of 5m");
	t = from - 1;
	for (i = 0; i < c.n && i < 2000; i++) {
		int64_t n;

		if (cycle_next(&s5, sh, t, &n) != 0 || n != c.t[i]) {
			ok_next = 0;
			break;
		}
		t = n;
	}
	ok(ok_next, "cycle_next walks the same times as cycle_list");
	is_rc(cycle_list(&s5, sh, INT64_MIN, from, coll_cb, &c), ENG_EINVAL, "from out of range");
}

static void
test_ids(const struct tz *sh, const struct tz *ny)
{
	struct eng_errbuf eb;
	char id[15];
	int64_t t = 0;
	static const char *bad[] = { "", "2026112512050", "202611251205000", "2026112512050x",
	    "20261325120500", "20260230120500", "20261125240000", "20261125126000",
	    "20261125120560", "00001125120500", "2026-11-25 12:" };
	size_t i;

	is_rc(cycle_id_parse("20261125120500", 14, sh, &t, &eb), 0, "parse id");
	is_int(t, utc(2026, 11, 25, 4, 5, 0), "Shanghai 12:05 = 04:05Z");
	is_rc(cycle_id_format(t, sh, id), 0, "format id");
	is_str(id, "20261125120500", "round trip");
	is_rc(cycle_id_parse("20240229000000", 14, sh, &t, &eb), 0, "leap day id");
	is_rc(cycle_id_parse("21000229000000", 14, sh, &t, &eb), ENG_EINVAL, "2100-02-29 rejected");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_rc(cycle_id_parse(bad[i], strlen(bad[i]), sh, &t, &eb), ENG_EINVAL,
		    "bad id '%s'", bad[i]);
	is_rc(cycle_id_parse("20250309023000", 14, ny, &t, &eb), ENG_EINVAL, "id in DST gap");
	ok(strstr(eb.msg, "America/New_York") != NULL, "gap message names the zone: %s", eb.msg);
	is_rc(cycle_id_parse("20251102013000", 14, ny, &t, &eb), 0, "id in overlap");
	is_int(t, utc(2025, 11, 2, 5, 30, 0), "overlap -> earlier");
	is_rc(cycle_id_format(INT64_MAX, sh, id), ENG_EINVAL, "format out of range");
}

/* a whole DST year: list == repeated next, strictly increasing, exact count */
struct walk {
	const struct cycle_spec *s;
	const struct tz *tz;
	int64_t	prev;
	long	n, bad;
};

static int
walk_cb(void *arg, int64_t t)
{
	struct walk *w = arg;
	int64_t nx;

	if (w->n > 0 && (cycle_next(w->s, w->tz, w->prev, &nx) != 0 || nx != t))
		w->bad++;
	if (w->n > 0 && t <= w->prev)
		w->bad++;
	if (!cycle_is_cycle(w->s, w->tz, t))
		w->bad++;
	w->prev = t;
	w->n++;
	return 0;
}

static void
test_year(const struct tz *ny, const struct tz *sh)
{
	struct cycle_spec s5 = spec("5m", NULL, NULL);
	struct cycle_spec s7 = spec("7m", "08:00", "18:00");
	struct cycle_spec s3h = spec("3h", "01:00", "23:00");
	struct walk w;
	int64_t from = utc(2025, 1, 1, 5, 0, 0), to = utc(2026, 1, 1, 5, 0, 0);

	memset(&w, 0, sizeof(w));
	w.s = &s5;
	w.tz = ny;
	is_rc(cycle_list(&s5, ny, from, to, walk_cb, &w), 0, "NY 2025 5m list");
	is_int(w.n, 288 * 365 - 12, "NY 2025: 288 a day, minus the 12 skipped in spring");
	is_int(w.bad, 0, "list agrees with next and is_cycle, increasing");
	memset(&w, 0, sizeof(w));
	w.s = &s7;
	w.tz = ny;
	is_rc(cycle_list(&s7, ny, from, to, walk_cb, &w), 0, "NY 2025 7m 08:00-18:00 list");
	is_int(w.n, 86 * 365, "86 cycles a day (08:00..17:55)");
	is_int(w.bad, 0, "7m walk consistent");
	memset(&w, 0, sizeof(w));
	w.s = &s3h;
	w.tz = sh;
	is_rc(cycle_list(&s3h, sh, utc(2024, 1, 1, 0, 0, 0) - 8 * 3600,
	    utc(2025, 1, 1, 0, 0, 0) - 8 * 3600, walk_cb, &w), 0, "Shanghai 2024 3h list");
	is_int(w.n, 8 * 366, "3h 01:00-23:00: 8 a day in a leap year");
	is_int(w.bad, 0, "3h walk consistent");
}

int
main(int argc, char **argv)
{
	struct tz *sh, *ny, *u = NULL;

	if (argc > 1)
		corpus = argv[1];
	sh = load("Asia/Shanghai");
	ny = load("America/New_York");
	(void)tz_utc(&u);
	ok(sh != NULL && ny != NULL && u != NULL, "zones load from %s", corpus);
	test_parse();
	if (sh != NULL && ny != NULL && u != NULL) {
		test_counts(sh, ny, u);
		test_next(sh, ny);
		test_list(sh);
		test_ids(sh, ny);
		test_year(ny, sh);
	}
	tz_free(sh);
	tz_free(ny);
	tz_free(u);
	return done_testing();
}
