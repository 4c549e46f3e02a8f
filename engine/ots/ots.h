/* SPDX-License-Identifier: MIT */
/*
 * ots.h - the Table Store (OTS) client: stream API (ListStream,
 * DescribeStream, GetShardIterator, GetStreamRecord), tables (Create,
 * Describe, Update, Delete, List) and rows (Put, Update, Delete, Get,
 * GetRange, BatchWrite, BatchGet).
 *
 * Wire facts: contrib/doc/tablestore.md.  Each call is one signed POST of a
 * protobuf body to ENDPOINT/ApiName (V2 signature, x-ots-contentmd5), with
 * the response's MD5, required headers and "authorization" signature
 * checked.  Errors from the service come back as ENG_E* codes plus a
 * struct ots_error carrying the service's code, message and request id.
 * Retryable failures are retried as the official SDKs decide
 * (contrib/doc/tablestore.md 1.6, Java DefaultRetryStrategy):
 * OTSRowOperationConflict, OTSNotEnoughCapacityUnit, OTSTableNotReady,
 * OTSPartitionUnavailable, OTSServerBusy, OTSStorageServerBusy,
 * OTSOperationThrottled and OTSQuotaExhausted "Too frequent table operations."
 * always; for idempotent operations (List/Describe*, Get*, streams) also
 * OTSTimeout, OTSInternalServerError, OTSServerUnavailable,
 * OTSTunnelServerUnavailable, any other 5xx, transport failures and
 * malformed/unauthenticated responses.  Backoff: http_backoff_ms (full jitter)
 * from retry_base_ms, capped at retry_max_ms, at most max_retries retries.
 *
 * Threading: a struct ots is used by one thread at a time (it owns one
 * transport = one keep-alive connection).  Give each worker its own with
 * ots_clone().  Results are owned by the caller and freed with the
 * matching *_free function.
 *
 * Return codes of every operation: 0; ENG_EINVAL (bad argument, message in
 * err); and for failures of the exchange:
 *   ENG_ENOTFOUND   OTSObjectNotExist
 *   ENG_ECONFLICT   OTSObjectAlreadyExist, OTSConditionCheckFail
 *   ENG_ETRIMMED    OTSTrimmedDataAccess (stream iterator outside retention)
 *   ENG_ETHROTTLE   throttling codes (OTSServerBusy, OTSFlowControl, ...) left
 *                   after the retries
 *   ENG_ERETRYABLE  other retryable codes left after the retries
 *   ENG_ESIG        OTSAuthFailed / OTSNoPermissionAccess, or a response
 *                   whose signature does not verify
 *   ENG_EREMOTE     any other service error
 *   ENG_EPROTO      malformed response (bad protobuf, missing headers, MD5
 *                   mismatch, unexpected PlainBuffer)
 *   ENG_ECHECKSUM   PlainBuffer checksum mismatch (message names the row)
 *   ENG_ECONN, ENG_ETLS, -ETIMEDOUT, -E2BIG   transport failures (http.h)
 *   -ENOMEM
 * err (may be NULL) is always filled on failure: code/request_id/http_status
 * for service errors, message for all; after an exchange that succeeded it
 * is cleared except for attempts.
 */
#ifndef DIFS_OTS_H
#define DIFS_OTS_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "plainbuf.h"
#include "sign.h"

struct ots;

/** Details of the last failure of a call. */
struct ots_error {
	char	code[64];	/**< service error code ("OTSServerBusy"), "" for local errors */
	char	message[512];	/**< service message, or our description */
	char	request_id[64];	/**< x-ots-requestid, "" when none */
	int	http_status;	/**< HTTP status, 0 when no response */
	int	attempts;	/**< exchanges made (1 + retries) */
};

struct ots_config {
	const char		*endpoint;	/**< "https://INST.REGION.ots.aliyuncs.com" or "http://127.0.0.1:PORT" */
	const char		*instance;	/**< instance name; NULL = first label of an
						     *.ots.aliyuncs.com / *.ots-internal.aliyuncs.com host */
	const struct sign_cred	*cred;		/**< borrowed; must outlive the client and its clones */
	const char		*ca_file;	/**< CA bundle; NULL = system default */
	uint32_t		 connect_timeout_ms;	/**< 0 = transport default (10 s) */
	uint32_t		 timeout_ms;		/**< per exchange; 0 = 60 s */
	int			 max_retries;	/**< retries after the first attempt; < 0 = 3 */
	uint32_t		 retry_base_ms;	/**< 0 = 10 ms */
	uint32_t		 retry_max_ms;	/**< 0 = 1000 ms */
	/**
	 * Transport to use instead of a new curl one (tests: mock/fault).
	 * Borrowed; must outlive the client.  ots_clone() clones it.
	 */
	struct http_transport	*transport;
};

/**
 * ots_new - validate cfg and create a client (strings copied).
 * Returns 0, ENG_EINVAL (message in eb), -ENOMEM.
 */
int	ots_new(const struct ots_config *cfg, struct ots **out, struct eng_errbuf *eb)
	    __attribute__((warn_unused_result));
/** ots_clone - an independent client with the same settings (own transport). */
int	ots_clone(struct ots *o, struct ots **out) __attribute__((warn_unused_result));
void	ots_free(struct ots *o);
/** Instance name used (valid while o lives). */
const char *ots_instance(const struct ots *o);

/* ==== tables ============================================================ */

enum ots_pk_type { OTS_PK_INTEGER = 1, OTS_PK_STRING = 2, OTS_PK_BINARY = 3 };

struct ots_pk_schema {
	const char	*name;		/**< owned by results, borrowed in requests */
	int		 type;		/**< enum ots_pk_type */
	int		 auto_increment;
};

/** Mutable table options; 0 / -2 means "not set" as noted. */
struct ots_table_options {
	int32_t	 ttl;			/**< seconds, -1 = forever, 0 = not set */
	int32_t	 max_versions;		/**< 0 = not set */
	int64_t	 deviation_sec;		/**< max cell version deviation; 0 = not set */
	int	 allow_update;		/**< 1/0; -1 = not set */
};

struct ots_stream_spec {
	int	 set;			/**< 0 = leave the request field out */
	int	 enable;
	int32_t	 expiration_hours;	/**< 0 = service default */
};

struct ots_create_table {
	const char			*table;
	const struct ots_pk_schema	*pk;
	size_t				 npk;
	int32_t				 read_cu, write_cu;	/**< reserved throughput */
	struct ots_table_options	 options;
	struct ots_stream_spec		 stream;
};

enum ots_table_status {
	OTS_TABLE_ACTIVE = 1, OTS_TABLE_INACTIVE, OTS_TABLE_LOADING,
	OTS_TABLE_UNLOADING, OTS_TABLE_UPDATING,
};

struct ots_table_desc {
	char			*table;
	struct ots_pk_schema	*pk;
	size_t			 npk;
	struct ots_table_options options;
	int			 status;	/**< enum ots_table_status */
	int32_t			 read_cu, write_cu;
	int			 stream_enabled;
	char			*stream_id;	/**< NULL when no stream */
	int32_t			 stream_expiration_hours;
	int64_t			 stream_last_enable_time;
	int64_t			 creation_time;	/**< 0 when not sent */
};

void	ots_table_desc_free(struct ots_table_desc *d);

struct ots_names {
	char	**names;
	size_t	  n;
};

void	ots_names_free(struct ots_names *n);

int	ots_create_table(struct ots *o, const struct ots_create_table *req, struct ots_error *err);
int	ots_describe_table(struct ots *o, const char *table, struct ots_table_desc **out,
	    struct ots_error *err);
/** Any of options / stream may be NULL (not changed). */
int	ots_update_table(struct ots *o, const char *table,
	    const struct ots_table_options *options, const struct ots_stream_spec *stream,
	    struct ots_error *err);
int	ots_delete_table(struct ots *o, const char *table, struct ots_error *err);
int	ots_list_table(struct ots *o, struct ots_names **out, struct ots_error *err);

/* ==== rows ============================================================== */

enum ots_row_existence {
	OTS_IGNORE = 0, OTS_EXPECT_EXIST = 1, OTS_EXPECT_NOT_EXIST = 2,
};

/**
 * ots_put_row - write row (pk + attribute cells without op).
 * ots_update_row - apply row (pk + cells: put with value [+ts],
 *   PLAINBUF_OP_DELETE_ONE with ts, PLAINBUF_OP_DELETE_ALL).
 * ots_delete_row - delete the row with primary key pk.
 * existence: enum ots_row_existence.
 */
int	ots_put_row(struct ots *o, const char *table, const struct plainbuf_row *row,
	    int existence, struct ots_error *err);
int	ots_update_row(struct ots *o, const char *table, const struct plainbuf_row *row,
	    int existence, struct ots_error *err);
int	ots_delete_row(struct ots *o, const char *table, const struct plainbuf_cell *pk,
	    size_t npk, int existence, struct ots_error *err);

/** Read options shared by GetRow, GetRange and BatchGetRow. */
struct ots_read_opts {
	const char *const	*columns;	/**< columns_to_get; NULL = all */
	size_t			 ncolumns;
	int32_t			 max_versions;	/**< 0 = 1 */
};

/**
 * ots_get_row - *out gets 0 rows (absent) or 1 row.  opts may be NULL.
 */
int	ots_get_row(struct ots *o, const char *table, const struct plainbuf_cell *pk,
	    size_t npk, const struct ots_read_opts *opts, struct plainbuf_rows **out,
	    struct ots_error *err);

enum ots_direction { OTS_FORWARD = 0, OTS_BACKWARD = 1 };

struct ots_range_req {
	const char			*table;
	int				 direction;	/**< enum ots_direction */
	const struct plainbuf_cell	*start;		/**< inclusive; INF_MIN/INF_MAX allowed */
	size_t				 nstart;
	const struct plainbuf_cell	*end;		/**< exclusive */
	size_t				 nend;
	int32_t				 limit;		/**< rows per page; 0 = service default */
	struct ots_read_opts		 opts;
};

struct ots_range_page {
	struct plainbuf_rows	*rows;
	struct plainbuf_rows	*next_start;	/**< one PK-only row; NULL = range finished */
};

void	ots_range_page_free(struct ots_range_page *p);

/** ots_get_range - one page. */
int	ots_get_range(struct ots *o, const struct ots_range_req *req,
	    struct ots_range_page **out, struct ots_error *err);

/** Row callback: return 0 to go on, anything else stops and is returned. */
typedef int ots_row_fn(void *arg, const struct plainbuf_row *row);

/**
 * ots_get_range_each - every row of the range, page by page (req->limit is
 * the page size), following next_start_primary_key until it is absent.
 * fn's non-zero return stops the scan and is returned.
 */
int	ots_get_range_each(struct ots *o, const struct ots_range_req *req,
	    ots_row_fn *fn, void *arg, struct ots_error *err);

enum ots_batch_op { OTS_BATCH_PUT = 1, OTS_BATCH_UPDATE = 2, OTS_BATCH_DELETE = 3 };

/** One row of a BatchWriteRow; the out fields are written by the call. */
struct ots_batch_write {
	const char			*table;
	int				 op;		/**< enum ots_batch_op */
	const struct plainbuf_row	*row;		/**< DELETE: its pk is used */
	int				 existence;
	/* out */
	int				 ok;
	struct ots_error		 error;		/**< when !ok */
};

/**
 * ots_batch_write_row - one BatchWriteRow.  Adjacent rows of the same table
 * form one table entry of the request, so keep each table's rows together
 * (the service expects every table once).  Returns 0 when the request
 * succeeded as a whole, even if some rows failed: check rows[i].ok (partial
 * failures are not retried here).  Not idempotent: only the always-retryable
 * codes are retried.
 */
int	ots_batch_write_row(struct ots *o, struct ots_batch_write *rows, size_t n,
	    struct ots_error *err);

/** One row of a BatchGetRow. */
struct ots_batch_get {
	const char			*table;
	const struct plainbuf_cell	*pk;
	size_t				 npk;
	/* out */
	int				 ok;
	struct ots_error		 error;
	struct plainbuf_rows		*row;		/**< 0 or 1 rows when ok; caller frees */
};

/** ots_batch_get_row - like ots_batch_write_row; opts apply to every table. */
int	ots_batch_get_row(struct ots *o, struct ots_batch_get *rows, size_t n,
	    const struct ots_read_opts *opts, struct ots_error *err);

/* ==== streams =========================================================== */

struct ots_stream {
	char	*stream_id;
	char	*table;
	int64_t	 creation_time;		/**< µs */
};

struct ots_stream_list {
	struct ots_stream	*streams;
	size_t			 n;
};

void	ots_stream_list_free(struct ots_stream_list *l);

/** ots_list_stream - streams of table (NULL = all tables). */
int	ots_list_stream(struct ots *o, const char *table, struct ots_stream_list **out,
	    struct ots_error *err);

struct ots_shard {
	char	*shard_id;
	char	*parent_id;		/**< NULL when none */
	char	*parent_sibling_id;	/**< NULL when none (set for merges) */
};

enum ots_stream_status { OTS_STREAM_ENABLING = 1, OTS_STREAM_ACTIVE = 2 };

struct ots_stream_desc {
	char			*stream_id;
	char			*table;
	int32_t			 expiration_hours;
	int64_t			 creation_time;	/**< µs */
	int			 status;	/**< enum ots_stream_status */
	struct ots_shard	*shards;
	size_t			 nshards;
	char			*next_shard_id;	/**< NULL = last page */
};

void	ots_stream_desc_free(struct ots_stream_desc *d);

/**
 * ots_describe_stream - one page of shards starting at start_shard_id
 * (NULL = first), at most shard_limit (0 = service default).
 */
int	ots_describe_stream(struct ots *o, const char *stream_id, const char *start_shard_id,
	    int32_t shard_limit, struct ots_stream_desc **out, struct ots_error *err);
/** ots_describe_stream_all - all pages, shards concatenated; next_shard_id NULL. */
int	ots_describe_stream_all(struct ots *o, const char *stream_id,
	    struct ots_stream_desc **out, struct ots_error *err);

/**
 * ots_get_shard_iterator - iterator at the start of the shard's retained
 * records (ts_us < 0) or at the first record at/after ts_us (µs), following
 * next_token pages until the service returns none.  *out is malloc'ed.
 */
int	ots_get_shard_iterator(struct ots *o, const char *stream_id, const char *shard_id,
	    int64_t ts_us, char **out, struct ots_error *err);

enum ots_action { OTS_PUT_ROW = 1, OTS_UPDATE_ROW = 2, OTS_DELETE_ROW = 3 };

struct ots_stream_record {
	int			 action;	/**< enum ots_action */
	const struct plainbuf_row *row;		/**< the record's row (has_seq set); points into rows */
	struct plainbuf_rows	*rows_;		/* private: owner of row */
};

struct ots_record_batch {
	struct ots_stream_record *records;
	size_t			  n;
	char			 *next_iterator;	/**< NULL = shard closed and fully read */
	int			  may_more;		/**< may_more_record (when sent) */
};

void	ots_record_batch_free(struct ots_record_batch *b);

/**
 * ots_get_stream_record - at most limit records (0 = service default) from
 * iterator.  Every record must decode to exactly one row with sequence
 * info (else ENG_EPROTO).  An expired iterator is ENG_ETRIMMED.
 */
int	ots_get_stream_record(struct ots *o, const char *iterator, int32_t limit,
	    struct ots_record_batch **out, struct ots_error *err);

/** Name of an ots_action ("PUT_ROW"...) for messages. */
const char *ots_action_name(int action);

#endif /* DIFS_OTS_H */
