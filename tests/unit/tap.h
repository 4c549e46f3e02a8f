/* SPDX-License-Identifier: MIT */
/*
 * tap.h - a tiny TAP producer for unit tests (in the spirit of redis'
 * testhelp.h).  Header-only; one test program per module.
 *
 *   ok(cond, "fmt", ...)       one assertion
 *   is_int(got, want, "name")  integer equality, prints both on failure
 *   is_str(got, want, "name")  string equality (NULL-safe)
 *   is_rc(rc, want, "name")    rc equality, prints eng_strerror of both
 *   done_testing()             prints the plan, returns the exit status
 */
#ifndef DIFS_TAP_H
#define DIFS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static int tap_n, tap_fail;

#define ok(cond, ...) tap_ok(!!(cond), #cond, __FILE__, __LINE__, __VA_ARGS__)

static inline int __attribute__((format(printf, 5, 6)))
tap_ok(int pass, const char *expr, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_fail++;
		printf("#   Failed: %s\n#   at %s:%d\n", expr, file, line);
	}
	fflush(stdout);
	return pass;
}

#define is_int(got, want, ...) do { \
	long long tap_g_ = (long long)(got), tap_w_ = (long long)(want); \
	if (!tap_ok(tap_g_ == tap_w_, #got " == " #want, __FILE__, __LINE__, __VA_ARGS__)) \
		printf("#   got: %lld\n#   expected: %lld\n", tap_g_, tap_w_); \
} while (0)

#define is_str(got, want, ...) do { \
	const char *tap_g_ = (got), *tap_w_ = (want); \
	int tap_p_ = (tap_g_ == NULL || tap_w_ == NULL) ? tap_g_ == tap_w_ : strcmp(tap_g_, tap_w_) == 0; \
	if (!tap_ok(tap_p_, #got " eq " #want, __FILE__, __LINE__, __VA_ARGS__)) \
		printf("#   got: '%s'\n#   expected: '%s'\n", tap_g_ ? tap_g_ : "(null)", tap_w_ ? tap_w_ : "(null)"); \
} while (0)

#define is_rc(got, want, ...) do { \
	int tap_g_ = (got), tap_w_ = (want); \
	if (!tap_ok(tap_g_ == tap_w_, #got " == " #want, __FILE__, __LINE__, __VA_ARGS__)) \
		printf("#   got: %d (%s)\n#   expected: %d (%s)\n", tap_g_, eng_strerror(tap_g_), tap_w_, eng_strerror(tap_w_)); \
} while (0)

static inline int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	if (tap_fail != 0)
		printf("# %d of %d assertions failed\n", tap_fail, tap_n);
	return tap_fail != 0;
}

#endif /* DIFS_TAP_H */
