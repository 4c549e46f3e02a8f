/* SPDX-License-Identifier: MIT */
/*
 * fuzz_tz.c - TZif parser + conversions on arbitrary bytes.  A parsed zone
 * must convert a spread of instants both ways without crashing, and every
 * local time it produces must map back to an instant with the same reading.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* the local reading of t must map back to t, or to an earlier instant
 * with the same reading (overlap) */
static void
check(const struct tz *tz, int64_t t0)
{
	struct tz_tm lt, back;
	enum tz_local_kind kind;
	int64_t t;

	(void)tz_offset_at(tz, t0);
	if (tz_to_local(tz, t0, &lt) != 0)
		return;
	if (tz_to_utc(tz, &lt, &t, &kind) != 0)
		abort();
	if (kind == TZ_LOCAL_GAP || t > t0)
		abort();
	if (t != t0 && kind != TZ_LOCAL_OVERLAP)
		abort();
	if (tz_to_local(tz, t, &back) != 0 || back.year != lt.year ||
	    back.mon != lt.mon || back.mday != lt.mday || back.hour != lt.hour ||
	    back.min != lt.min || back.sec != lt.sec)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t probes[] = { INT64_MIN, -62135596800LL - 1,
	    -62135596800LL, -2208988800LL, -1, 0, 1, 1000000000LL,
	    1710054000LL, 1730613600LL, 1795000000LL, 2147483647LL,
	    2147483648LL, 4102444800LL, 253402300799LL, INT64_MAX };
	struct tz *tz = NULL;
	struct eng_errbuf eb;
	size_t i;

	if (tz_parse("fuzz", data, size, &tz, &eb) == 0) {
		for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
			check(tz, probes[i]);
		/*
		 * Transition times are big-endian words of the input itself:
		 * probe around every 8-byte word (and 4-byte word) of the
		 * first kilobytes, which lands on real transitions.
		 */
		for (i = 0; i + 8 <= size && i < 4096; i += 4) {
			int64_t w = (int64_t)((uint64_t)be32(data + i) << 32 | be32(data + i + 4));
			int64_t w4 = (int32_t)be32(data + i);

			check(tz, w);
			if (w > INT64_MIN)
				check(tz, w - 1);
			check(tz, w4);
			check(tz, w4 - 1);
			check(tz, w4 + 3599);
		}
		tz_free(tz);
	}
	/* the same bytes as a POSIX TZ string */
	if (tz_parse_posix("fuzz", (const char *)data, size, &tz, &eb) == 0) {
		struct tz_tm lt;

		for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
			(void)tz_to_local(tz, probes[i], &lt);
		tz_free(tz);
	}
	return 0;
}
