/* SPDX-License-Identifier: MIT */
/*
 * crc64.h - CRC-64 as OSS computes x-oss-hash-crc64ecma: CRC-64/XZ
 * (ECMA-182 polynomial, reflected 0xC96C5795D7870F42, init and xorout all
 * ones).  Check value: crc64("123456789") == 0x995DC9BBDF1939FA.
 * The header value OSS sends is this number in decimal.
 *
 * Pure functions, no state, thread-safe.
 */
#ifndef DIFS_CRC64_H
#define DIFS_CRC64_H

#include <stddef.h>
#include <stdint.h>

/**
 * crc64_update - continue a CRC: crc is the CRC of the bytes so far (0 for
 * none), the result is the CRC of those bytes followed by p[0..n).
 * So crc64_update(crc64_update(0, a, na), b, nb) == CRC of a||b.
 */
uint64_t crc64_update(uint64_t crc, const void *p, size_t n);

/** CRC of one buffer: crc64_update(0, p, n). */
uint64_t crc64_compute(const void *p, size_t n);

/**
 * crc64_combine - CRC of A||B from crc1 = CRC(A), crc2 = CRC(B) and
 * len2 = length of B in bytes (zlib-style GF(2) matrix method; O(log len2)).
 * Used to check the whole-object CRC of a multipart upload from its parts.
 */
uint64_t crc64_combine(uint64_t crc1, uint64_t crc2, uint64_t len2);

#endif /* DIFS_CRC64_H */
