/* SPDX-License-Identifier: MIT */
/*
 * wire.h - Table Store protobuf messages <-> our own C structs (ots.h).
 *
 * wire.c is the only engine file that includes the protoc-c generated
 * ots.pb-c.h (built from engine/ots/ots.proto).  Encoders append the serialized
 * request to a caller-initialised struct buf; decoders take (buf, len) of a
 * response body, validate it semantically beyond protobuf-c's own checks
 * (required fields, enum ranges, string bounds), and return freshly
 * allocated results that do not reference the input.  PlainBuffer payloads
 * are passed in already encoded (requests) and are decoded here (responses)
 * with plainbuf_decode, so checksum errors surface as ENG_ECHECKSUM.
 *
 * Return codes: 0; ENG_EPROTO (malformed message; detail in eb);
 * ENG_ECHECKSUM (PlainBuffer checksum, detail in eb); ENG_EINVAL (bad
 * request argument); -ENOMEM / -E2BIG (buffer).  Thread-safe (no state).
 */
#ifndef DIFS_WIRE_H
#define DIFS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "ots.h"

/** A row of a batch request: the PlainBuffer is already encoded. */
struct wire_batch_row {
	const char	*table;
	int		 op;		/**< enum ots_batch_op (BatchWriteRow only) */
	const uint8_t	*row;		/**< PlainBuffer (header + one row) */
	size_t		 len;
	int		 existence;	/**< enum ots_row_existence (BatchWriteRow only) */
};

/* ---- Error ------------------------------------------------------------ */

/** Error{code, message} -> strings (truncated to fit, NUL-terminated). */
int	wire_dec_error(const uint8_t *p, size_t len, char *code, size_t codesz,
	    char *msg, size_t msgsz);
/** Error{code, message} (used by tests and mock servers). */
int	wire_enc_error(const char *code, const char *msg, struct buf *out);

/* ---- tables ------------------------------------------------------------ */

int	wire_enc_create_table(const struct ots_create_table *r, struct buf *out,
	    struct eng_errbuf *eb);
int	wire_dec_create_table(const uint8_t *p, size_t len, struct eng_errbuf *eb);
int	wire_enc_describe_table(const char *table, struct buf *out);
int	wire_dec_describe_table(const uint8_t *p, size_t len, struct ots_table_desc **out,
	    struct eng_errbuf *eb);
/** options / stream may be NULL. */
int	wire_enc_update_table(const char *table, const struct ots_table_options *options,
	    const struct ots_stream_spec *stream, struct buf *out);
int	wire_dec_update_table(const uint8_t *p, size_t len, struct eng_errbuf *eb);
int	wire_enc_delete_table(const char *table, struct buf *out);
int	wire_dec_delete_table(const uint8_t *p, size_t len, struct eng_errbuf *eb);
int	wire_enc_list_table(struct buf *out);
int	wire_dec_list_table(const uint8_t *p, size_t len, struct ots_names **out,
	    struct eng_errbuf *eb);

/* ---- rows --------------------------------------------------------------- */

/** PutRowRequest / UpdateRowRequest / DeleteRowRequest (same field numbers). */
int	wire_enc_put_row(const char *table, const uint8_t *row, size_t len, int existence,
	    struct buf *out);
int	wire_enc_update_row(const char *table, const uint8_t *row, size_t len,
	    int existence, struct buf *out);
int	wire_enc_delete_row(const char *table, const uint8_t *pk, size_t len,
	    int existence, struct buf *out);
/** Put/Update/DeleteRowResponse: checks the required consumed capacity. */
int	wire_dec_write_row(const uint8_t *p, size_t len, struct eng_errbuf *eb);

/** opts may be NULL. */
int	wire_enc_get_row(const char *table, const uint8_t *pk, size_t len,
	    const struct ots_read_opts *opts, struct buf *out);
/** *out: 0 rows (absent) or 1 row. */
int	wire_dec_get_row(const uint8_t *p, size_t len, struct plainbuf_rows **out,
	    struct eng_errbuf *eb);

int	wire_enc_get_range(const char *table, int direction, const uint8_t *start,
	    size_t start_len, const uint8_t *end, size_t end_len, int32_t limit,
	    const struct ots_read_opts *opts, struct buf *out);
int	wire_dec_get_range(const uint8_t *p, size_t len, struct ots_range_page **out,
	    struct eng_errbuf *eb);

/** Consecutive rows with the same table form one table entry. */
int	wire_enc_batch_write_row(const struct wire_batch_row *rows, size_t n,
	    struct buf *out);
/** Fills rows[i].ok / rows[i].error; the response must match the request's shape. */
int	wire_dec_batch_write_row(const uint8_t *p, size_t len, struct ots_batch_write *rows,
	    size_t n, struct eng_errbuf *eb);
int	wire_enc_batch_get_row(const struct wire_batch_row *rows, size_t n,
	    const struct ots_read_opts *opts, struct buf *out);
/** Fills rows[i].ok / .error / .row (caller frees .row). */
int	wire_dec_batch_get_row(const uint8_t *p, size_t len, struct ots_batch_get *rows,
	    size_t n, struct eng_errbuf *eb);

/* ---- streams ------------------------------------------------------------ */

/** table may be NULL (all streams). */
int	wire_enc_list_stream(const char *table, struct buf *out);
int	wire_dec_list_stream(const uint8_t *p, size_t len, struct ots_stream_list **out,
	    struct eng_errbuf *eb);
/** start_shard_id may be NULL; shard_limit 0 = not sent. */
int	wire_enc_describe_stream(const char *stream_id, const char *start_shard_id,
	    int32_t shard_limit, struct buf *out);
int	wire_dec_describe_stream(const uint8_t *p, size_t len, struct ots_stream_desc **out,
	    struct eng_errbuf *eb);
/** ts_us < 0: not sent; token may be NULL. */
int	wire_enc_get_shard_iterator(const char *stream_id, const char *shard_id,
	    int64_t ts_us, const char *token, struct buf *out);
/** *next_token is NULL when absent; both malloc'ed. */
int	wire_dec_get_shard_iterator(const uint8_t *p, size_t len, char **iterator,
	    char **next_token, struct eng_errbuf *eb);
/** limit 0 = not sent. */
int	wire_enc_get_stream_record(const char *iterator, int32_t limit, struct buf *out);
int	wire_dec_get_stream_record(const uint8_t *p, size_t len, struct ots_record_batch **out,
	    struct eng_errbuf *eb);

#endif /* DIFS_WIRE_H */
