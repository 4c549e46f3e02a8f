/* SPDX-License-Identifier: MIT */
/*
 * emu_ots_key.c - the primary-key schema check and the order-preserving
 * row-key encoding of difs-emu's Table Store half (emu_ots_i.h), used by
 * the row and stream code.
 */
#include <errno.h>
#include <string.h>

#include "ots.pb-c.h"

#include "emu_ots_i.h"

static int
emu_ots_pb_type_ok(int schema_type, int vtype)
{
	switch (schema_type) {
	case OTS__PRIMARY_KEY_TYPE__INTEGER:
		return vtype == PLAINBUF_VT_INTEGER;
	case OTS__PRIMARY_KEY_TYPE__STRING:
		return vtype == PLAINBUF_VT_STRING;
	case OTS__PRIMARY_KEY_TYPE__BINARY:
		return vtype == PLAINBUF_VT_BLOB;
	default:
		return 0;
	}
}

int
emu_ots_pk_check(const struct emu_ots_table *t, const struct plainbuf_row *row,
    int allow_inf, int allow_auto, struct emu_ots_err *e)
{
	size_t i;

	if (row->npk != (size_t)t->npk)
		return emu_ots_fail(e, 400, "OTSInvalidPK", "Primary key schema mismatch.");
	for (i = 0; i < row->npk; i++) {
		const struct plainbuf_cell *c = &row->pk[i];
		int vt = c->value.type;

		if (c->name_len != strlen(t->pk[i].name) ||
		    memcmp(c->name, t->pk[i].name, c->name_len) != 0 || !c->has_value)
			return emu_ots_fail(e, 400, "OTSInvalidPK", "Primary key schema mismatch.");
		if (c->op != PLAINBUF_OP_PUT || c->has_ts)
			return EMU_OTS_BADPARAM(e, "Primary key column '%s' must not have a "
			    "timestamp or an operation.", t->pk[i].name);
		if (allow_inf && (vt == PLAINBUF_VT_INF_MIN || vt == PLAINBUF_VT_INF_MAX))
			continue;
		if (allow_auto && t->pk[i].autoinc && vt == PLAINBUF_VT_AUTO_INCREMENT)
			continue;
		if (!emu_ots_pb_type_ok(t->pk[i].type, vt))
			return emu_ots_fail(e, 400, "OTSInvalidPK", "Primary key schema mismatch.");
	}
	return 0;
}

int
emu_ots_key_encode(const struct emu_ots_table *t, const struct plainbuf_cell *pk,
    size_t npk, uint8_t *out, size_t *outlen)
{
	size_t o = 0, i, j;

	out[o++] = (uint8_t)(t->uid >> 24);
	out[o++] = (uint8_t)(t->uid >> 16);
	out[o++] = (uint8_t)(t->uid >> 8);
	out[o++] = (uint8_t)t->uid;
	for (i = 0; i < npk; i++) {
		const struct plainbuf_value *v = &pk[i].value;

		if (!pk[i].has_value || v->type == PLAINBUF_VT_INF_MIN) {
			out[o++] = 0x00;
			break;
		}
		if (v->type == PLAINBUF_VT_INF_MAX) {
			out[o++] = 0x02;
			break;
		}
		if (o + 10 > EMU_OTS_KEY_MAX)
			return -E2BIG;
		out[o++] = 0x01;
		if (v->type == PLAINBUF_VT_INTEGER) {
			uint64_t u = (uint64_t)v->i ^ (1ULL << 63);

			for (j = 0; j < 8; j++)
				out[o++] = (uint8_t)(u >> (56 - 8 * j));
			continue;
		}
		for (j = 0; j < v->len; j++) {
			if (o + 4 > EMU_OTS_KEY_MAX)
				return -E2BIG;
			out[o++] = v->p[j];
			if (v->p[j] == 0x00)
				out[o++] = 0xff;
		}
		if (o + 2 > EMU_OTS_KEY_MAX)
			return -E2BIG;
		out[o++] = 0x00;
		out[o++] = 0x01;
	}
	*outlen = o;
	return 0;
}

int
emu_ots_key_decode(const struct emu_ots_table *t, const uint8_t *k, size_t kl,
    struct plainbuf_cell *pk, uint8_t *arena)
{
	size_t o = 4, a = 0, i, j;

	if (kl < 4)
		return -EINVAL;
	for (i = 0; i < (size_t)t->npk; i++) {
		struct plainbuf_value *v = &pk[i].value;

		memset(&pk[i], 0, sizeof(pk[i]));
		pk[i].name = t->pk[i].name;
		pk[i].name_len = strlen(t->pk[i].name);
		pk[i].has_value = 1;
		if (o >= kl || k[o++] != 0x01)
			return -EINVAL;
		if (t->pk[i].type == OTS__PRIMARY_KEY_TYPE__INTEGER) {
			uint64_t u = 0;

			if (kl - o < 8)
				return -EINVAL;
			for (j = 0; j < 8; j++)
				u = u << 8 | k[o++];
			v->type = PLAINBUF_VT_INTEGER;
			v->i = (int64_t)(u ^ (1ULL << 63));
			continue;
		}
		v->type = t->pk[i].type == OTS__PRIMARY_KEY_TYPE__STRING ?
		    PLAINBUF_VT_STRING : PLAINBUF_VT_BLOB;
		v->p = arena + a;
		for (;;) {
			if (o >= kl)
				return -EINVAL;
			if (k[o] != 0x00) {
				arena[a++] = k[o++];
				continue;
			}
			if (o + 1 >= kl)
				return -EINVAL;
			if (k[o + 1] == 0x01) {
				o += 2;
				break;
			}
			if (k[o + 1] != 0xff)
				return -EINVAL;
			arena[a++] = 0x00;
			o += 2;
		}
		v->len = (size_t)(arena + a - v->p);
	}
	return o == kl ? 0 : -EINVAL;
}
