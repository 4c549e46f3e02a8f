/* SPDX-License-Identifier: MIT */
/*
 * fuzz_plainbuf.c - libFuzzer target for the PlainBuffer decoder.
 *
 * Decodes arbitrary bytes; whatever decodes must re-encode and decode again
 * to the same rows (the codec is a bijection on valid input, up to NUL
 * padding and unknown extension items, which re-encoding drops).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plainbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
cells_same(const struct plainbuf_cell *a, const struct plainbuf_cell *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (a[i].name_len != b[i].name_len ||
		    memcmp(a[i].name, b[i].name, a[i].name_len) != 0 ||
		    a[i].has_value != b[i].has_value || a[i].op != b[i].op ||
		    a[i].has_ts != b[i].has_ts || a[i].ts != b[i].ts)
			return 0;
		if (a[i].has_value && !plainbuf_value_eq(&a[i].value, &b[i].value))
			return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plainbuf_rows *r = NULL, *r2 = NULL;
	struct eng_errbuf eb;
	struct buf b;
	size_t i;

	if (plainbuf_decode(data, size, &r, &eb) != 0)
		return 0;
	buf_init(&b, BUF_MAX_BODY);
	if (plainbuf_encode(r->rows, r->nrows, &b, &eb) != 0)
		abort();	/* anything decoded must be encodable */
	if (plainbuf_decode((const uint8_t *)b.p, b.len, &r2, &eb) != 0)
		abort();
	if (r2->nrows != r->nrows)
		abort();
	for (i = 0; i < r->nrows; i++) {
		const struct plainbuf_row *x = &r->rows[i], *y = &r2->rows[i];

		if (x->npk != y->npk || x->nattrs != y->nattrs || x->deleted != y->deleted ||
		    x->has_seq != y->has_seq || !cells_same(x->pk, y->pk, x->npk) ||
		    !cells_same(x->attrs, y->attrs, x->nattrs))
			abort();
		if (x->has_seq && (x->seq.epoch != y->seq.epoch || x->seq.ts_us != y->seq.ts_us ||
		    x->seq.row_index != y->seq.row_index))
			abort();
	}
	plainbuf_rows_free(r);
	plainbuf_rows_free(r2);
	buf_free(&b);
	return 0;
}
