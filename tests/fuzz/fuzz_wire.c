/* SPDX-License-Identifier: MIT */
/*
 * fuzz_wire.c - libFuzzer target for the Table Store response decoders
 * (engine/ots/wire.c): the client parses whatever a server sends, so every
 * decoder must be total.  Each input is fed to every decoder; results are
 * freed so that LeakSanitizer sees leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ots_table_desc *td = NULL;
	struct ots_names *nm = NULL;
	struct plainbuf_rows *rows = NULL;
	struct ots_range_page *pg = NULL;
	struct ots_stream_list *sl = NULL;
	struct ots_stream_desc *sd = NULL;
	struct ots_record_batch *rb = NULL;
	struct ots_batch_write bw[3];
	struct ots_batch_get bg[3];
	char code[64], msg[128], *it = NULL, *tok = NULL;
	size_t i;

	(void)wire_dec_error(data, size, code, sizeof(code), msg, sizeof(msg));
	(void)wire_dec_create_table(data, size, NULL);
	(void)wire_dec_update_table(data, size, NULL);
	(void)wire_dec_delete_table(data, size, NULL);
	(void)wire_dec_write_row(data, size, NULL);
	if (wire_dec_describe_table(data, size, &td, NULL) == 0)
		ots_table_desc_free(td);
	if (wire_dec_list_table(data, size, &nm, NULL) == 0)
		ots_names_free(nm);
	if (wire_dec_get_row(data, size, &rows, NULL) == 0)
		plainbuf_rows_free(rows);
	if (wire_dec_get_range(data, size, &pg, NULL) == 0)
		ots_range_page_free(pg);
	if (wire_dec_list_stream(data, size, &sl, NULL) == 0)
		ots_stream_list_free(sl);
	if (wire_dec_describe_stream(data, size, &sd, NULL) == 0)
		ots_stream_desc_free(sd);
	if (wire_dec_get_shard_iterator(data, size, &it, &tok, NULL) == 0) {
		free(it);
		free(tok);
	}
	if (wire_dec_get_stream_record(data, size, &rb, NULL) == 0) {
		for (i = 0; i < rb->n; i++)
			if (rb->records[i].row == NULL || !rb->records[i].row->has_seq)
				abort();
		ots_record_batch_free(rb);
	}
	memset(bw, 0, sizeof(bw));
	bw[0].table = "t1";
	bw[1].table = "t1";
	bw[2].table = "t2";
	(void)wire_dec_batch_write_row(data, size, bw, 3, NULL);
	memset(bg, 0, sizeof(bg));
	bg[0].table = "t1";
	bg[1].table = "t1";
	bg[2].table = "t2";
	if (wire_dec_batch_get_row(data, size, bg, 3, NULL) == 0)
		for (i = 0; i < 3; i++)
			plainbuf_rows_free(bg[i].row);
	return 0;
}
