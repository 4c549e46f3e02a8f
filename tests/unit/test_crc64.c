/* SPDX-License-Identifier: MIT */
/*
 * test_crc64.c - CRC-64/XZ check values from contrib/doc/oss.md 1.3, the
 * incremental and combine properties, and slicing-by-8 against a bitwise
 * reference over every alignment and length.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc64.h"
#include "tap.h"

/* the textbook bit-at-a-time definition, independent of the tables */
static uint64_t
ref_crc64(const unsigned char *p, size_t n)
{
	uint64_t crc = ~UINT64_C(0);
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ UINT64_C(0xc96c5795d7870f42) : crc >> 1;
	}
	return ~crc;
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int
main(void)
{
	static const char emerg[] = "This is a test of the emergency broadcast system.";
	unsigned char *buf;
	uint64_t seed = 0x9e3779b97f4a7c15ULL, crc, a, b;
	size_t n = 1 << 20, off, len, cut;
	int bad;

	is_int(crc64_compute("123456789", 9) == UINT64_C(0x995DC9BBDF1939FA), 1,
	    "check value 123456789");
	ok(crc64_compute("123456789", 9) == UINT64_C(11051210869376104954),
	    "same as decimal 11051210869376104954");
	ok(crc64_compute(emerg, strlen(emerg)) == UINT64_C(0x27DB187FC15BBC72),
	    "emergency broadcast vector");
	ok(crc64_compute("", 0) == 0, "empty is 0");
	ok(crc64_compute("a", 1) == UINT64_C(0x330284772E652B05), "'a'");
	ok(crc64_compute("hello,world", 11) == UINT64_C(7953198849674956925), "'hello,world'");

	if ((buf = malloc(n)) == NULL)
		return 1;
	for (off = 0; off < n; off++)
		buf[off] = (unsigned char)xorshift(&seed);

	/* slicing-by-8 == bitwise reference for every alignment/length up to 64 */
	bad = 0;
	for (off = 0; off < 8; off++)
		for (len = 0; len <= 64; len++)
			if (crc64_compute(buf + off, len) != ref_crc64(buf + off, len))
				bad++;
	is_int(bad, 0, "table == bitwise for all alignments, lengths 0..64");
	ok(crc64_compute(buf, n) == ref_crc64(buf, n), "1 MiB random == reference");

	/* incremental */
	crc = 0;
	for (off = 0; off < n; off += 1000)
		crc = crc64_update(crc, buf + off, n - off < 1000 ? n - off : 1000);
	ok(crc == crc64_compute(buf, n), "incremental in 1000-byte steps");

	/* combine, as for multipart parts */
	bad = 0;
	for (cut = 0; cut <= n; cut += n / 7 + 3) {
		a = crc64_compute(buf, cut);
		b = crc64_compute(buf + cut, n - cut);
		if (crc64_combine(a, b, n - cut) != crc64_compute(buf, n))
			bad++;
	}
	is_int(bad, 0, "combine(crc(A), crc(B), |B|) == crc(A||B) at several cuts");
	ok(crc64_combine(crc64_compute("1234", 4), crc64_compute("56789", 5), 5) ==
	    UINT64_C(0x995DC9BBDF1939FA), "combine of 1234 + 56789 gives check value");
	ok(crc64_combine(UINT64_C(0x1234), 0, 0) == UINT64_C(0x1234), "combine with empty B");
	ok(crc64_combine(0, crc64_compute("abc", 3), 3) == crc64_compute("abc", 3),
	    "combine with empty A");
	{
		/* three parts folded left, like a multipart upload */
		uint64_t acc = 0;
		size_t parts[] = { 100 * 1024, 100 * 1024 + 1, 7 }, p, pos = 0;

		for (p = 0; p < 3; p++) {
			acc = crc64_combine(acc, crc64_compute(buf + pos, parts[p]), parts[p]);
			pos += parts[p];
		}
		ok(acc == crc64_compute(buf, pos), "three parts folded");
	}
	free(buf);
	return done_testing();
}
