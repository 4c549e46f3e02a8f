/* SPDX-License-Identifier: MIT */
/*
 * record.c - typed records with an owned arena (see record.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

void
record_init(struct record *r)
{
	r->cols = NULL;
	r->ncols = 0;
	r->cap = 0;
	r->bytes = 0;
	buf_init(&r->data, RECORD_MAX_BYTES);
}

void
record_clear(struct record *r)
{
	r->ncols = 0;
	r->bytes = 0;
	buf_reset(&r->data);
}

void
record_free(struct record *r)
{
	if (r == NULL)
		return;
	free(r->cols);
	r->cols = NULL;
	r->ncols = 0;
	r->cap = 0;
	r->bytes = 0;
	buf_free(&r->data);
}

static struct rec_slot *
record_slot(struct record *r)
{
	struct rec_slot *ns;
	size_t ncap;

	if (r->ncols == r->cap) {
		ncap = r->cap != 0 ? r->cap * 2 : 16;
		if (ncap > SIZE_MAX / sizeof(*ns))
			return NULL;
		if ((ns = realloc(r->cols, ncap * sizeof(*ns))) == NULL)
			return NULL;
		r->cols = ns;
		r->cap = ncap;
	}
	ns = &r->cols[r->ncols];
	memset(ns, 0, sizeof(*ns));
	return ns;
}

static int
record_add_scalar(struct record *r, enum rec_type t, int64_t l, double d, size_t bytes)
{
	struct rec_slot *s;

	if ((s = record_slot(r)) == NULL)
		return -ENOMEM;
	s->type = t;
	s->l = l;
	s->d = d;
	r->ncols++;
	r->bytes += bytes;
	return 0;
}

static int
record_add_blob(struct record *r, enum rec_type t, const void *p, size_t n)
{
	struct rec_slot *s;
	size_t off = r->data.len;
	int rc;

	if ((s = record_slot(r)) == NULL)
		return -ENOMEM;
	if ((rc = buf_add(&r->data, p, n)) != 0)
		return rc;
	s->type = t;
	s->off = off;
	s->n = n;
	r->ncols++;
	r->bytes += n;
	return 0;
}

int
record_add_null(struct record *r)
{
	return record_add_scalar(r, REC_NULL, 0, 0, 0);
}

int
record_add_string(struct record *r, const char *p, size_t n)
{
	return record_add_blob(r, REC_STRING, p, n);
}

int
record_add_long(struct record *r, int64_t v)
{
	return record_add_scalar(r, REC_LONG, v, 0, 8);
}

int
record_add_double(struct record *r, double v)
{
	return record_add_scalar(r, REC_DOUBLE, 0, v, 8);
}

int
record_add_bool(struct record *r, int v)
{
	return record_add_scalar(r, REC_BOOL, v != 0, 0, 1);
}

int
record_add_bytes(struct record *r, const void *p, size_t n)
{
	return record_add_blob(r, REC_BYTES, p, n);
}

int
record_add_date(struct record *r, int64_t ms)
{
	return record_add_scalar(r, REC_DATE, ms, 0, 8);
}

void
record_get(const struct record *r, size_t i, struct rec_value *v)
{
	const struct rec_slot *s = &r->cols[i];

	v->type = s->type;
	v->l = s->l;
	v->d = s->d;
	v->p = NULL;
	v->n = 0;
	if (s->type == REC_STRING || s->type == REC_BYTES) {
		v->p = r->data.p + s->off;
		v->n = s->n;
	}
}

void
record_swap(struct record *a, struct record *b)
{
	struct record t = *a;

	*a = *b;
	*b = t;
}
