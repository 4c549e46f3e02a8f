/* SPDX-License-Identifier: MIT */
/*
 * fuzz_param.c - param_eval and param_substitute on arbitrary text.  The
 * first byte picks the cycle time and zone (UTC or a fixed-rule DST zone),
 * the rest is the expression.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "param.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_lookup(void *arg, const char *name, size_t len, const char **val,
    size_t *vlen)
{
	(void)arg;
	if (len == 1 && name[0] == 'x') {
		*val = "X";
		*vlen = 1;
		return 0;
	}
	return -ENOENT;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t cyc[] = { 1795579500LL /* 2026-11-25 04:05Z */,
	    1709251200LL /* 2024-02-29 */, 0, 1741503600LL /* 2025-03-09 07:00Z */,
	    -62135596800LL, 253402300799LL, 1762214400LL, 4107542400LL };
	static const char *zones[] = { "UTC0", "EST5EDT,M3.2.0,M11.1.0",
	    "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", "CST-8" };
	struct tz *tz = NULL;
	struct eng_errbuf eb;
	struct buf out;
	const char *z;

	if (size < 1)
		return 0;
	z = zones[(data[0] >> 3) & 3];
	if (tz_parse_posix("fuzz", z, strlen(z), &tz, NULL) != 0)
		abort();
	buf_init(&out, BUF_MAX_SMALL);
	(void)param_eval((const char *)data + 1, size - 1, tz, cyc[data[0] & 7],
	    &out, &eb);
	buf_reset(&out);
	(void)param_substitute((const char *)data + 1, size - 1, fuzz_lookup, NULL,
	    &out, &eb);
	(void)param_is_builtin_ref((const char *)data + 1, size - 1);
	buf_free(&out);
	tz_free(tz);
	return 0;
}
