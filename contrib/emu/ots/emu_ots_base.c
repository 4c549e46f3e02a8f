/* SPDX-License-Identifier: MIT */
/*
 * emu_ots_base.c - what every file of difs-emu's Table Store half shares,
 * at the bottom of it (it calls none of them): the service error setter,
 * the clocks (now, strictly increasing commit times), the table registry
 * (find, free), the shard counts of tables not yet created, and protobuf
 * packing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ots.pb-c.h"

#include "emu_ots_i.h"

int
emu_ots_fail(struct emu_ots_err *e, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	snprintf(e->code, sizeof(e->code), "%s", code);
	va_start(ap, fmt);
	(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int64_t
emu_ots_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
emu_ots_commit_us(struct emu_ots_table *t)
{
	int64_t now = emu_ots_now_us();

	if (now <= t->last_commit_us)
		now = t->last_commit_us + 1;
	t->last_commit_us = now;
	return now;
}

int
emu_ots_shards_for(struct emu_ots *ots, const char *name)
{
	size_t i;

	for (i = 0; i < ots->npending; i++)
		if (strcmp(ots->pending[i].name, name) == 0)
			return ots->pending[i].n;
	return ots->default_shards;
}

int
emu_ots_shards_pending(struct emu_ots *ots, const char *name, int n)
{
	struct emu_ots_pending *np;
	size_t i;

	if (strlen(name) > EMU_OTS_NAME_MAX)
		return -ENAMETOOLONG;
	for (i = 0; i < ots->npending; i++)
		if (strcmp(ots->pending[i].name, name) == 0) {
			ots->pending[i].n = n;
			return 0;
		}
	if ((np = realloc(ots->pending, (ots->npending + 1) * sizeof(*np))) == NULL)
		return -ENOMEM;
	ots->pending = np;
	snprintf(np[ots->npending].name, sizeof(np[0].name), "%s", name);
	np[ots->npending++].n = n;
	return 0;
}

struct emu_ots_table *
emu_ots_table_find(struct emu_ots *ots, const char *name)
{
	size_t i;

	for (i = 0; i < ots->ntables; i++)
		if (strcmp(ots->tables[i]->name, name) == 0)
			return ots->tables[i];
	return NULL;
}

void
emu_ots_table_free(struct emu_ots_table *t)
{
	if (t == NULL)
		return;
	free(t->shards);
	free(t);
}

int
emu_ots_pack(const void *msg, struct buf *out)
{
	const ProtobufCMessage *m = msg;
	size_t n = protobuf_c_message_get_packed_size(m);
	int rc;

	if ((rc = buf_reserve(out, n)) != 0)
		return rc;
	protobuf_c_message_pack(m, (uint8_t *)out->p + out->len);
	out->len += n;
	out->p[out->len] = '\0';
	return 0;
}
