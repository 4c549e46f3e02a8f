/* SPDX-License-Identifier: MIT */
/*
 * num.h - the one strict integer parser.  Every decimal integer difs reads
 * from a person or a file (ctl arguments, parameters, cycle fields, sizes,
 * command-line values) goes through it, so "12abc", " 12", "+12", "" and
 * "1e3" are refused everywhere alike.  Floating-point input stays with
 * strtod at its few users (they say which forms they accept).
 */
#ifndef DIFS_NUM_H
#define DIFS_NUM_H

#include <stddef.h>
#include <stdint.h>

/**
 * num_i64 - parse s[0..len) as [-]DIGITS (ASCII, no blanks, no '+', at
 * least one digit; leading zeros allowed) into *out, which must lie in
 * [min, max].  len may be (size_t)-1 for a NUL-terminated s.
 * Returns 0, ENG_EINVAL (not such a number; *out unchanged) or -ERANGE
 * (a number outside [min, max]; *out unchanged).
 */
int	num_i64(const char *s, size_t len, int64_t min, int64_t max, int64_t *out);

/** num_u64 - as num_i64 for DIGITS only (no sign), in [0, max]. */
int	num_u64(const char *s, size_t len, uint64_t max, uint64_t *out);

#endif /* DIFS_NUM_H */
