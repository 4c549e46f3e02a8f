/* SPDX-License-Identifier: MIT */
/*
 * ots_result.c - the destructors of the result types ots.h declares (table
 * and stream descriptions, name lists, range pages, record batches).  wire.c
 * builds these values; the client's callers free them.  A leaf: it needs
 * nothing but PlainBuffer's row destructor.
 */
#include <stdlib.h>
#include <string.h>

#include "ots.h"
#include "plainbuf.h"

/* the const name pointers in a description are owned copies */
static char *
ots_unconst(const char *s)
{
	char *r;

	memcpy(&r, &s, sizeof(r));
	return r;
}

void
ots_table_desc_free(struct ots_table_desc *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->npk; i++)
		free(ots_unconst(d->pk[i].name));
	free(d->pk);
	free(d->table);
	free(d->stream_id);
	free(d);
}

void
ots_names_free(struct ots_names *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		free(n->names[i]);
	free(n->names);
	free(n);
}

void
ots_range_page_free(struct ots_range_page *pg)
{
	if (pg == NULL)
		return;
	plainbuf_rows_free(pg->rows);
	plainbuf_rows_free(pg->next_start);
	free(pg);
}

void
ots_stream_list_free(struct ots_stream_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->streams[i].stream_id);
		free(l->streams[i].table);
	}
	free(l->streams);
	free(l);
}

void
ots_stream_desc_free(struct ots_stream_desc *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nshards; i++) {
		free(d->shards[i].shard_id);
		free(d->shards[i].parent_id);
		free(d->shards[i].parent_sibling_id);
	}
	free(d->shards);
	free(d->stream_id);
	free(d->table);
	free(d->next_shard_id);
	free(d);
}

void
ots_record_batch_free(struct ots_record_batch *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		plainbuf_rows_free(b->records[i].rows_);
	free(b->records);
	free(b->next_iterator);
	free(b);
}
