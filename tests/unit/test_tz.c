/* SPDX-License-Identifier: MIT */
/*
 * test_tz.c - TZif/POSIX parsing and UTC <-> local conversion.
 * argv[1] is the directory of real TZif files (tests/fuzz/corpus/tz).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "tz.h"

static const char *corpus = "tests/fuzz/corpus/tz";

/* load corpus file for zone "Area/City" (stored as Area_City) */
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
	if ((fp = fopen(path, "rb")) == NULL) {
		printf("# cannot open %s\n", path);
		return NULL;
	}
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	p = malloc((size_t)n);
	if (p != NULL && fread(p, 1, (size_t)n, fp) == (size_t)n &&
	    tz_parse(zone, p, (size_t)n, &tz, &eb) != 0)
		printf("# %s: %s\n", zone, eb.msg);
	free(p);
	fclose(fp);
	return tz;
}

static int64_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	return tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

static void
check_local(const struct tz *tz, int64_t t, const char *want, int32_t off,
    const char *abbr)
{
	struct tz_tm lt;
	char got[32];

	if (tz_to_local(tz, t, &lt) != 0) {
		ok(0, "%s: to_local(%lld) failed", tz_name(tz), (long long)t);
		return;
	}
	snprintf(got, sizeof(got), "%04d-%02d-%02d %02d:%02d:%02d", (int)lt.year,
	    lt.mon, lt.mday, lt.hour, lt.min, lt.sec);
	is_str(got, want, "%s: local of %lld", tz_name(tz), (long long)t);
	is_int(lt.utoff, off, "%s: offset at %s", tz_name(tz), want);
	if (abbr != NULL)
		is_str(lt.abbr, abbr, "%s: abbr at %s", tz_name(tz), want);
}

static void
check_utc(const struct tz *tz, int y, int mo, int d, int h, int mi, int s,
    int64_t want, enum tz_local_kind wkind)
{
	struct tz_tm lt;
	enum tz_local_kind kind;
	int64_t t = 0;

	memset(&lt, 0, sizeof(lt));
	lt.year = y; lt.mon = mo; lt.mday = d; lt.hour = h; lt.min = mi; lt.sec = s;
	is_rc(tz_to_utc(tz, &lt, &t, &kind), 0, "%s: to_utc %04d-%02d-%02d %02d:%02d",
	    tz_name(tz), y, mo, d, h, mi);
	is_int(t, want, "%s: instant of %04d-%02d-%02d %02d:%02d:%02d", tz_name(tz),
	    y, mo, d, h, mi, s);
	is_int(kind, wkind, "%s: kind of %04d-%02d-%02d %02d:%02d", tz_name(tz),
	    y, mo, d, h, mi);
}

static void
test_calendar(void)
{
	int64_t y;
	int m, d;

	is_int(tz_days_from_civil(1970, 1, 1), 0, "epoch day");
	is_int(tz_days_from_civil(2000, 3, 1), 11017, "2000-03-01");
	is_int(tz_days_from_civil(1969, 12, 31), -1, "1969-12-31");
	tz_civil_from_days(19782, &y, &m, &d);
	ok(y == 2024 && m == 2 && d == 29, "day 19782 is 2024-02-29");
	ok(tz_is_leap(2024) && !tz_is_leap(2100) && tz_is_leap(2000) &&
	    !tz_is_leap(2026), "leap years");
	is_int(tz_days_in_month(2100, 2), 28, "Feb 2100");
	is_int(tz_days_in_month(2024, 2), 29, "Feb 2024");
	is_int(tz_days_in_month(2026, 13), 0, "month 13");
	tz_civil_from_days(tz_days_from_civil(1, 1, 1), &y, &m, &d);
	ok(y == 1 && m == 1 && d == 1, "round trip year 1");
	tz_civil_from_days(tz_days_from_civil(9999, 12, 31), &y, &m, &d);
	ok(y == 9999 && m == 12 && d == 31, "round trip year 9999");
}

static void
test_shanghai(void)
{
	struct tz *tz = load("Asia/Shanghai");

	ok(tz != NULL, "Asia/Shanghai parses");
	if (tz == NULL)
		return;
	is_str(tz_name(tz), "Asia/Shanghai", "name kept");
	check_local(tz, utc(2026, 11, 25, 4, 5, 0), "2026-11-25 12:05:00", 28800, "CST");
	check_local(tz, utc(2025, 10, 31, 16, 0, 0), "2025-11-01 00:00:00", 28800, "CST");
	/* 1988: China observed DST */
	check_local(tz, utc(1988, 7, 1, 0, 0, 0), "1988-07-01 09:00:00", 32400, "CDT");
	/* far future: footer rule "CST-8" */
	check_local(tz, utc(2300, 1, 1, 0, 0, 0), "2300-01-01 08:00:00", 28800, "CST");
	check_utc(tz, 2026, 11, 25, 12, 5, 0, utc(2026, 11, 25, 4, 5, 0), TZ_LOCAL_UNIQUE);
	tz_free(tz);
}

static void
test_new_york(void)
{
	struct tz *tz = load("America/New_York");

	ok(tz != NULL, "America/New_York parses");
	if (tz == NULL)
		return;
	/* 2025-03-09 02:00 EST -> 03:00 EDT (07:00Z) */
	check_local(tz, utc(2025, 3, 9, 6, 59, 59), "2025-03-09 01:59:59", -18000, "EST");
	check_local(tz, utc(2025, 3, 9, 7, 0, 0), "2025-03-09 03:00:00", -14400, "EDT");
	/* 2025-11-02 02:00 EDT -> 01:00 EST (06:00Z) */
	check_local(tz, utc(2025, 11, 2, 5, 59, 59), "2025-11-02 01:59:59", -14400, "EDT");
	check_local(tz, utc(2025, 11, 2, 6, 0, 0), "2025-11-02 01:00:00", -18000, "EST");
	/* gap: 02:30 does not exist -> read as EST -> 03:30 EDT */
	check_utc(tz, 2025, 3, 9, 2, 30, 0, utc(2025, 3, 9, 7, 30, 0), TZ_LOCAL_GAP);
	/* overlap: 01:30 twice -> the earlier (EDT) */
	check_utc(tz, 2025, 11, 2, 1, 30, 0, utc(2025, 11, 2, 5, 30, 0), TZ_LOCAL_OVERLAP);
	check_utc(tz, 2025, 11, 2, 2, 0, 0, utc(2025, 11, 2, 7, 0, 0), TZ_LOCAL_UNIQUE);
	check_utc(tz, 2025, 7, 4, 12, 0, 0, utc(2025, 7, 4, 16, 0, 0), TZ_LOCAL_UNIQUE);
	/* beyond the table (fat files end in 2037): the POSIX footer */
	check_local(tz, utc(2050, 7, 1, 12, 0, 0), "2050-07-01 08:00:00", -14400, "EDT");
	check_local(tz, utc(2050, 1, 1, 12, 0, 0), "2050-01-01 07:00:00", -18000, "EST");
	/* 2050-03-13 is the second Sunday of March */
	check_local(tz, utc(2050, 3, 13, 7, 0, 0), "2050-03-13 03:00:00", -14400, "EDT");
	check_utc(tz, 2050, 3, 13, 2, 15, 0, utc(2050, 3, 13, 7, 15, 0), TZ_LOCAL_GAP);
	check_utc(tz, 2050, 11, 6, 1, 15, 0, utc(2050, 11, 6, 5, 15, 0), TZ_LOCAL_OVERLAP);
	/* before the first transition: LMT -4:56:02 */
	check_local(tz, utc(1800, 1, 1, 0, 0, 0), "1799-12-31 19:03:58", -17762, "LMT");
	tz_free(tz);
}

static void
test_south(void)
{
	struct tz *tz = load("Australia/Sydney");

	ok(tz != NULL, "Australia/Sydney parses");
	if (tz != NULL) {
		check_local(tz, utc(2026, 1, 1, 0, 0, 0), "2026-01-01 11:00:00", 39600, "AEDT");
		check_local(tz, utc(2026, 7, 1, 0, 0, 0), "2026-07-01 10:00:00", 36000, "AEST");
		/* footer rule, southern hemisphere (DST across new year) */
		check_local(tz, utc(2060, 1, 15, 0, 0, 0), "2060-01-15 11:00:00", 39600, "AEDT");
		check_local(tz, utc(2060, 6, 15, 0, 0, 0), "2060-06-15 10:00:00", 36000, "AEST");
		tz_free(tz);
	}
	tz = load("Australia/Lord_Howe");
	ok(tz != NULL, "Australia/Lord_Howe parses (30-minute DST)");
	if (tz != NULL) {
		check_local(tz, utc(2060, 1, 15, 0, 0, 0), "2060-01-15 11:00:00", 39600, NULL);
		check_local(tz, utc(2060, 6, 15, 0, 0, 0), "2060-06-15 10:30:00", 37800, NULL);
		tz_free(tz);
	}
	tz = load("Europe/Dublin");
	ok(tz != NULL, "Europe/Dublin parses (negative DST)");
	if (tz != NULL) {
		check_local(tz, utc(2060, 7, 1, 12, 0, 0), "2060-07-01 13:00:00", 3600, "IST");
		check_local(tz, utc(2060, 1, 1, 12, 0, 0), "2060-01-01 12:00:00", 0, "GMT");
		tz_free(tz);
	}
	tz = load("America/Nuuk");
	ok(tz != NULL, "America/Nuuk parses");
	if (tz != NULL) {
		check_local(tz, utc(2060, 1, 1, 12, 0, 0), "2060-01-01 10:00:00", -7200, NULL);
		tz_free(tz);
	}
}

static void
test_posix(void)
{
	struct eng_errbuf eb;
	struct tz *tz = NULL;
	static const char *bad[] = { "", "E", "EST", "EST5EDT,M3.2.0", "EST5EDT,M13.2.0,M11.1.0",
	    "EST5EDT,M3.6.0,M11.1.0", "EST5EDT,M3.2.7,M11.1.0", "<+08-8", "EST99",
	    "EST5EDT,J0,J365", "EST5EDT,366,0", "EST5x", "EST5EDT,M3.2.0/,M11.1.0" };
	size_t i;

	is_rc(tz_parse_posix("x", "EST5EDT,M3.2.0,M11.1.0", 22, &tz, &eb), 0, "EST5EDT parses");
	if (tz != NULL) {
		check_local(tz, utc(2025, 3, 9, 7, 0, 0), "2025-03-09 03:00:00", -14400, "EDT");
		check_local(tz, utc(2025, 11, 2, 6, 0, 0), "2025-11-02 01:00:00", -18000, "EST");
		tz_free(tz);
	}
	is_rc(tz_parse_posix("x", "EST5EDT", 7, &tz, &eb), 0, "EST5EDT without rule");
	if (tz != NULL) {
		check_local(tz, utc(2025, 7, 1, 12, 0, 0), "2025-07-01 08:00:00", -14400, "EDT");
		tz_free(tz);
	}
	is_rc(tz_parse_posix("x", "<+0530>-5:30", 12, &tz, &eb), 0, "quoted abbr, minutes");
	if (tz != NULL) {
		check_local(tz, 0, "1970-01-01 05:30:00", 19800, "+0530");
		tz_free(tz);
	}
	/* all-year DST (tzfile(5) example) */
	is_rc(tz_parse_posix("x", "EST5EDT4,0/0,J365/25", 20, &tz, &eb), 0, "all-year DST");
	if (tz != NULL) {
		check_local(tz, utc(2030, 1, 1, 12, 0, 0), "2030-01-01 08:00:00", -14400, "EDT");
		check_local(tz, utc(2030, 12, 31, 23, 0, 0), "2030-12-31 19:00:00", -14400, "EDT");
		tz_free(tz);
	}
	/* Jn skips Feb 29; n counts it */
	is_rc(tz_parse_posix("x", "AAA0BBB,J60/0,J300/0", 20, &tz, &eb), 0, "Jn rule");
	if (tz != NULL) {
		check_local(tz, utc(2024, 2, 29, 12, 0, 0), "2024-02-29 12:00:00", 0, "AAA");
		check_local(tz, utc(2024, 3, 1, 0, 0, 0), "2024-03-01 01:00:00", 3600, "BBB");
		tz_free(tz);
	}
	is_rc(tz_parse_posix("x", "AAA0BBB,59/0,300/0", 18, &tz, &eb), 0, "n rule");
	if (tz != NULL) {
		check_local(tz, utc(2024, 2, 29, 12, 0, 0), "2024-02-29 13:00:00", 3600, "BBB");
		tz_free(tz);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tz = NULL;
		is_rc(tz_parse_posix("x", bad[i], strlen(bad[i]), &tz, &eb), ENG_EINVAL,
		    "bad POSIX TZ '%s' rejected", bad[i]);
		ok(tz == NULL, "no zone on error");
	}
}

static void
test_tzif_errors(void)
{
	struct eng_errbuf eb;
	struct tz *tz = NULL;
	FILE *fp;
	char path[512];
	unsigned char data[8192];
	size_t n, cut;

	is_rc(tz_parse("x", "", 0, &tz, &eb), ENG_EINVAL, "empty data");
	is_rc(tz_parse("x", "TZif2", 5, &tz, &eb), ENG_EINVAL, "short header");
	ok(strstr(eb.msg, "'x'") != NULL, "message names the zone: %s", eb.msg);
	snprintf(path, sizeof(path), "%s/America_New_York", corpus);
	if ((fp = fopen(path, "rb")) == NULL) {
		ok(0, "open %s", path);
		return;
	}
	n = fread(data, 1, sizeof(data), fp);
	fclose(fp);
	is_rc(tz_parse("ny", data, n, &tz, &eb), 0, "whole file parses");
	tz_free(tz);
	/* every truncation is rejected or still a valid zone, never a crash */
	for (cut = 0; cut < n; cut += 37) {
		int rc = tz_parse("ny", data, cut, &tz, &eb);

		if (rc == 0)
			tz_free(tz);
		else if (rc != ENG_EINVAL)
			ok(0, "truncation %zu: rc %d", cut, rc);
	}
	ok(1, "truncations handled");
	is_rc(tz_parse("ny", data, n - 1, &tz, &eb), ENG_EINVAL, "missing footer newline");
	data[4] = 'x';
	is_rc(tz_parse("ny", data, n, &tz, &eb), ENG_EINVAL, "bad version byte");
	data[4] = '2';
	data[0] = 'X';
	is_rc(tz_parse("ny", data, n, &tz, &eb), ENG_EINVAL, "bad magic");
	ok(tz == NULL, "out untouched on error");
}

/* a version-1 file built by hand: LMT until 1900, then +08 "CST" */
static void
test_v1(void)
{
	static const unsigned char v1[] = {
		'T', 'Z', 'i', 'f', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0,	/* isutcnt */
		0, 0, 0, 0,	/* isstdcnt */
		0, 0, 0, 0,	/* leapcnt */
		0, 0, 0, 1,	/* timecnt */
		0, 0, 0, 2,	/* typecnt */
		0, 0, 0, 8,	/* charcnt */
		0x80, 0, 0, 0,	/* transition at INT32_MIN (1901-12-13T20:45:52Z) */
		1,		/* -> type 1 */
		0, 0, 0x71, 0xd7, 0, 0,	/* type 0: +29143 LMT */
		0, 0, 0x70, 0x80, 0, 4,	/* type 1: +28800 CST */
		'L', 'M', 'T', 0, 'C', 'S', 'T', 0,
	};
	struct eng_errbuf eb;
	struct tz *tz = NULL;

	is_rc(tz_parse("v1", v1, sizeof(v1), &tz, &eb), 0, "version 1 file parses");
	if (tz == NULL)
		return;
	check_local(tz, utc(1800, 1, 1, 0, 0, 0), "1800-01-01 08:05:43", 29143, "LMT");
	check_local(tz, utc(2026, 11, 25, 4, 5, 0), "2026-11-25 12:05:00", 28800, "CST");
	tz_free(tz);
	/* a type index past typecnt is rejected */
	{
		unsigned char bad[sizeof(v1)];

		memcpy(bad, v1, sizeof(v1));
		bad[48] = 2;
		is_rc(tz_parse("v1", bad, sizeof(bad), &tz, &eb), ENG_EINVAL,
		    "bad type index rejected");
		memcpy(bad, v1, sizeof(v1));
		bad[60] = 9;	/* designation index past charcnt */
		is_rc(tz_parse("v1", bad, sizeof(bad), &tz, &eb), ENG_EINVAL,
		    "bad designation index rejected");
	}
}

/* zic -b slim output: one transition, the footer does the rest */
static void
test_slim(void)
{
	struct tz *tz = load("Test/Slim");

	ok(tz != NULL, "slim TZif parses");
	if (tz == NULL)
		return;
	check_local(tz, utc(2030, 1, 15, 12, 0, 0), "2030-01-15 07:00:00", -18000, "EST");
	check_local(tz, utc(2030, 7, 15, 12, 0, 0), "2030-07-15 08:00:00", -14400, "EDT");
	check_utc(tz, 2030, 3, 10, 2, 30, 0, utc(2030, 3, 10, 7, 30, 0), TZ_LOCAL_GAP);
	check_utc(tz, 2030, 11, 3, 1, 30, 0, utc(2030, 11, 3, 5, 30, 0), TZ_LOCAL_OVERLAP);
	tz_free(tz);
}

/*
 * Property: for every instant t, tz_to_utc(tz_to_local(t)) is t itself, or,
 * when that reading occurs twice, the earlier instant with the same reading.
 */
static void
test_roundtrip(void)
{
	static const char *zones[] = { "Asia/Shanghai", "America/New_York",
	    "Europe/London", "Australia/Sydney", "Australia/Lord_Howe",
	    "Europe/Dublin", "America/Sao_Paulo", "Asia/Kolkata",
	    "Pacific/Chatham", "America/Nuuk", "Etc/UTC", "Test/Slim" };
	size_t i;

	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		struct tz *tz = load(zones[i]);
		int64_t t, from = utc(1890, 1, 1, 0, 0, 0), to = utc(2110, 1, 1, 0, 0, 0);
		long bad = 0, n = 0, overlaps = 0;

		if (tz == NULL) {
			ok(0, "load %s", zones[i]);
			continue;
		}
		for (t = from; t < to; t += 7 * 3600 + 7 * 60 + 11) {
			struct tz_tm lt, back;
			enum tz_local_kind kind;
			int64_t u;

			n++;
			if (tz_to_local(tz, t, &lt) != 0 ||
			    tz_to_utc(tz, &lt, &u, &kind) != 0 ||
			    tz_to_local(tz, u, &back) != 0) {
				bad++;
				continue;
			}
			if (kind == TZ_LOCAL_GAP) {
				bad++;
				continue;
			}
			if (kind == TZ_LOCAL_OVERLAP)
				overlaps++;
			if (u == t)
				continue;
			if (kind != TZ_LOCAL_OVERLAP || u > t || back.hour != lt.hour ||
			    back.min != lt.min || back.sec != lt.sec || back.mday != lt.mday)
				bad++;
		}
		is_int(bad, 0, "%s: %ld instants round-trip (%ld in overlaps)",
		    zones[i], n, overlaps);
		tz_free(tz);
	}
}

/*
 * Cross-check against glibc (tests only: the library never touches TZ).
 * Uses the system's tzdata; skipped without it.
 */
static void
test_vs_glibc(void)
{
	static const char *zones[] = { "Asia/Shanghai", "America/New_York",
	    "Europe/London", "Australia/Lord_Howe", "Europe/Dublin",
	    "America/Sao_Paulo", "Pacific/Chatham", "America/Nuuk",
	    "Africa/Casablanca", "Asia/Tehran", "America/Santiago" };
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		struct eng_errbuf eb;
		struct tz *tz = NULL;
		int64_t t, from = utc(1970, 1, 1, 0, 0, 0), to = utc(2100, 1, 1, 0, 0, 0);
		long bad = 0, n = 0;

		snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zones[i]);
		if (access(path, R_OK) != 0 || tz_load(zones[i], &tz, &eb) != 0) {
			printf("# skip glibc cross-check for %s\n", zones[i]);
			continue;
		}
		setenv("TZ", zones[i], 1);
		tzset();
		for (t = from; t < to; t += 9 * 3600 + 13 * 60 + 7) {
			struct tz_tm lt;
			struct tm g;
			time_t tt = (time_t)t;

			n++;
			if (localtime_r(&tt, &g) == NULL || tz_to_local(tz, t, &lt) != 0) {
				bad++;
				continue;
			}
			if (lt.utoff != g.tm_gmtoff || lt.isdst != (g.tm_isdst > 0) ||
			    lt.year != g.tm_year + 1900 || lt.mon != g.tm_mon + 1 ||
			    lt.mday != g.tm_mday || lt.hour != g.tm_hour ||
			    lt.min != g.tm_min || lt.wday != g.tm_wday ||
			    lt.yday != g.tm_yday || strcmp(lt.abbr, g.tm_zone) != 0) {
				if (bad++ < 3)
					printf("# %s t=%lld: ours %+d %s, glibc %+ld %s\n",
					    zones[i], (long long)t, lt.utoff, lt.abbr,
					    g.tm_gmtoff, g.tm_zone);
			}
		}
		is_int(bad, 0, "%s agrees with glibc localtime_r at %ld instants",
		    zones[i], n);
		tz_free(tz);
	}
	unsetenv("TZ");
	tzset();
}

static void
test_load(void)
{
	struct eng_errbuf eb;
	struct tz *tz = NULL;
	int have_tzdata;
	FILE *fp;

	is_rc(tz_load("UTC", &tz, &eb), 0, "UTC without tzdata");
	if (tz != NULL) {
		check_local(tz, 0, "1970-01-01 00:00:00", 0, "UTC");
		is_str(tz_name(tz), "UTC", "UTC name");
		tz_free(tz);
	}
	is_rc(tz_load("Etc/UTC", &tz, &eb), 0, "Etc/UTC");
	tz_free(tz);
	is_rc(tz_utc(&tz), 0, "tz_utc");
	tz_free(tz);
	is_rc(tz_load("/etc/passwd", &tz, &eb), ENG_EINVAL, "absolute path rejected");
	ok(strstr(eb.msg, "/etc/passwd") != NULL, "message: %s", eb.msg);
	is_rc(tz_load("../../../etc/passwd", &tz, &eb), ENG_EINVAL, "'..' rejected");
	is_rc(tz_load("Asia/../Asia/Shanghai", &tz, &eb), ENG_EINVAL, "inner '..' rejected");
	is_rc(tz_load("Asia//Shanghai", &tz, &eb), ENG_EINVAL, "empty component rejected");
	is_rc(tz_load("Asia/Shanghai/", &tz, &eb), ENG_EINVAL, "trailing slash rejected");
	is_rc(tz_load("Asia/Shang hai", &tz, &eb), ENG_EINVAL, "space rejected");
	fp = fopen("/usr/share/zoneinfo/Asia/Shanghai", "rb");
	have_tzdata = fp != NULL;
	if (fp != NULL)
		fclose(fp);
	if (!have_tzdata) {
		printf("# no tzdata on this machine: named-zone loads not tested\n");
		return;
	}
	is_rc(tz_load("Asia/Shangai", &tz, &eb), ENG_EINVAL, "misspelt zone");
	is_str(eb.msg, "unknown time zone 'Asia/Shangai' (no /usr/share/zoneinfo/"
	    "Asia/Shangai; install tzdata or fix the name)", "misspelt zone message");
	is_rc(tz_load("America", &tz, &eb), ENG_EINVAL, "directory rejected");
	ok(strstr(eb.msg, "directory") != NULL, "message: %s", eb.msg);
	is_rc(tz_load("Asia/Shanghai", &tz, &eb), 0, "Asia/Shanghai from tzdata");
	if (tz != NULL) {
		check_local(tz, utc(2026, 11, 25, 4, 5, 0), "2026-11-25 12:05:00", 28800, "CST");
		tz_free(tz);
	}
	/* the machine's zone: $TZ wins (":Name" form), then /etc/localtime */
	setenv("TZ", ":America/New_York", 1);
	is_rc(tz_load(NULL, &tz, &eb), 0, "$TZ=:America/New_York");
	if (tz != NULL) {
		is_str(tz_name(tz), "America/New_York", "name from $TZ");
		tz_free(tz);
	}
	setenv("TZ", "CST-8", 1);
	is_rc(tz_load("", &tz, &eb), 0, "$TZ as a POSIX string");
	if (tz != NULL) {
		check_local(tz, 0, "1970-01-01 08:00:00", 28800, "CST");
		tz_free(tz);
	}
	setenv("TZ", "Nowhere/Special", 1);
	is_rc(tz_load(NULL, &tz, &eb), ENG_EINVAL, "bad $TZ");
	ok(strstr(eb.msg, "$TZ") != NULL, "message mentions $TZ: %s", eb.msg);
	setenv("TZ", "", 1);
	is_rc(tz_load(NULL, &tz, &eb), 0, "empty $TZ is UTC");
	if (tz != NULL) {
		is_int(tz_offset_at(tz, 1700000000), 0, "empty $TZ offset 0");
		tz_free(tz);
	}
	unsetenv("TZ");
	is_rc(tz_load(NULL, &tz, &eb), 0, "/etc/localtime or UTC");
	tz_free(tz);
}

/* zones loaded by name are interned and counted; the machine's is not */
static void
test_intern(void)
{
	struct eng_errbuf eb = { "" };
	struct tz *a = NULL, *b = NULL, *c = NULL, *l1 = NULL, *l2 = NULL;

	is_rc(tz_load("UTC", &a, &eb), 0, "load UTC");
	is_rc(tz_load("UTC", &b, &eb), 0, "load UTC again");
	ok(a != NULL && a == b, "two loads of one name share one zone");
	tz_free(a);
	ok(b != NULL && strcmp(tz_name(b), "UTC") == 0 && tz_offset_at(b, 0) == 0,
	    "the other load still works after one tz_free");
	tz_free(b);
	is_rc(tz_load("UTC", &c, &eb), 0, "load UTC after the last tz_free");
	ok(c != NULL && tz_offset_at(c, 0) == 0, "a zone loaded again after its last free works");
	tz_free(c);
	is_rc(tz_load("Etc/UTC", &a, &eb), 0, "load Etc/UTC");
	is_rc(tz_load("UTC", &b, &eb), 0, "load UTC");
	ok(a != b && strcmp(tz_name(a), "Etc/UTC") == 0, "different names, different zones");
	tz_free(a);
	tz_free(b);
	setenv("TZ", "", 1);
	is_rc(tz_load(NULL, &l1, &eb), 0, "machine zone");
	is_rc(tz_load(NULL, &l2, &eb), 0, "machine zone again");
	ok(l1 != NULL && l1 != l2, "the machine's zone is not interned (it follows $TZ)");
	tz_free(l1);
	tz_free(l2);
	unsetenv("TZ");
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		corpus = argv[1];
	test_calendar();
	test_shanghai();
	test_new_york();
	test_south();
	test_posix();
	test_tzif_errors();
	test_v1();
	test_slim();
	test_roundtrip();
	test_vs_glibc();
	test_load();
	test_intern();
	return done_testing();
}
