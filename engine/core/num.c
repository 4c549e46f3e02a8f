/* SPDX-License-Identifier: MIT */
/*
 * num.c - strict decimal integers (num.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "num.h"

/* DIGITS of s[0..len) into *v; ENG_EINVAL, or -ERANGE past UINT64_MAX */
static int
num_digits(const char *s, size_t len, uint64_t *v)
{
	uint64_t acc = 0;
	bool over = false;
	size_t i;

	if (len == 0)
		return ENG_EINVAL;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9)
			return ENG_EINVAL;
		if (acc > (UINT64_MAX - d) / 10)
			over = true;	/* keep going: "99...9x" is still not a number */
		else
			acc = acc * 10 + d;
	}
	if (over)
		return -ERANGE;
	*v = acc;
	return 0;
}

int
num_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v;
	int rc;

	if (s == NULL)
		return ENG_EINVAL;
	if (len == (size_t)-1)
		len = strlen(s);
	if ((rc = num_digits(s, len, &v)) != 0)
		return rc;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
num_i64(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
	bool neg = false;
	uint64_t v;
	int64_t r;
	int rc;

	if (s == NULL)
		return ENG_EINVAL;
	if (len == (size_t)-1)
		len = strlen(s);
	if (len > 0 && s[0] == '-') {
		neg = true;
		s++;
		len--;
	}
	if ((rc = num_digits(s, len, &v)) != 0)
		return rc;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		r = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX)
			return -ERANGE;
		r = (int64_t)v;
	}
	if (r < min || r > max)
		return -ERANGE;
	*out = r;
	return 0;
}
