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
		for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			struct tz_tm lt, back;
			int64_t t;

			(void)tz_offset_at(tz, probes[i]);
			if (tz_to_local(tz, probes[i], &lt) != 0)
				continue;
			if (tz_to_utc(tz, &lt, &t, NULL) != 0)
				abort();
			if (tz_to_local(tz, t, &back) == 0 &&
			    (back.year != lt.year || back.mon != lt.mon ||
			    back.mday != lt.mday || back.hour != lt.hour ||
			    back.min != lt.min || back.sec != lt.sec))
				abort();
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
