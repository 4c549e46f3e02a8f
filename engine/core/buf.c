/* SPDX-License-Identifier: MIT */
/*
 * buf.c - bounded growable buffer (see buf.h for the invariants).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static char buf_empty[1];

void
buf_init(struct buf *b, size_t max)
{
	b->p = buf_empty;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->err = 0;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	if (b->cap != 0)
		free(b->p);
	b->p = buf_empty;
	b->len = 0;
	b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->cap != 0)
		b->p[0] = '\0';
}

static int
buf_fail(struct buf *b, int err)
{
	buf_free(b);
	b->err = err;
	return err;
}

int
buf_reserve(struct buf *b, size_t n)
{
	size_t want, ncap;
	char *np;

	if (b->err != 0)
		return b->err;
	if (n > b->max || b->len > b->max - n)
		return buf_fail(b, -E2BIG);
	want = b->len + n + 1;
	if (want <= b->cap)
		return 0;
	ncap = b->cap != 0 ? b->cap : 64;
	while (ncap < want)
		ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if (b->cap == 0) {
		if ((np = malloc(ncap)) == NULL)
			return buf_fail(b, -ENOMEM);
		np[0] = '\0';
	} else if ((np = realloc(b->p, ncap)) == NULL) {
		return buf_fail(b, -ENOMEM);
	}
	b->p = np;
	b->cap = ncap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	int rc;

	if ((rc = buf_reserve(b, n)) != 0)
		return rc;
	if (n != 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, rc;

	if (b->err != 0)
		return b->err;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return buf_fail(b, -EINVAL);
	if ((rc = buf_reserve(b, (size_t)n)) != 0)
		return rc;
	(void)vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void
buf_truncate(struct buf *b, size_t n)
{
	if (n >= b->len)
		return;
	b->len = n;
	b->p[n] = '\0';
}

char *
buf_take(struct buf *b, size_t *lenp)
{
	char *p;

	if (lenp != NULL)
		*lenp = 0;
	if (b->err != 0)
		return NULL;
	if (b->cap == 0) {
		if ((p = calloc(1, 1)) == NULL)
			return NULL;
	} else {
		p = b->p;
	}
	if (lenp != NULL)
		*lenp = b->len;
	b->p = buf_empty;
	b->len = 0;
	b->cap = 0;
	return p;
}
