/* SPDX-License-Identifier: MIT */
/*
 * oss.h - the Alibaba Cloud OSS object client (contrib/doc/oss.md 1, 2) and the
 * streaming multipart upload used by the oss writer.
 *
 * One struct oss per (endpoint, bucket, credentials).  Every operation:
 *   - signs with V4 (OSS4-HMAC-SHA256, default) or V1 (OSS) through sign.h;
 *   - addresses the bucket virtual-host style (https://bucket.endpoint/key)
 *     for DNS endpoints and path style (http://127.0.0.1:P/bucket/key) for IP
 *     and localhost endpoints, like the official SDKs (overridable);
 *   - sends Content-MD5 with every body and checks x-oss-hash-crc64ecma of
 *     every upload response (a mismatch is retried, never accepted);
 *   - retries with full-jitter backoff, at most cfg.max_retries times, only
 *     retryable failures: 5xx, throttling (429, SlowDown, ...), RequestTimeout,
 *     InvalidDigest, connection errors/resets and timeouts;
 *   - fails with an engine code and fills an optional struct oss_error with
 *     OSS's Code, Message, RequestId and EC.  Nothing it reports contains a
 *     secret or an Authorization value.
 *
 * Return codes used below (besides 0, -ENOMEM, -EINVAL for bad arguments):
 *   ENG_ENOTFOUND  NoSuchKey / NoSuchBucket / NoSuchUpload (404)
 *   ENG_ECONFLICT  FileAlreadyExists, PositionNotEqualToLength,
 *                  ObjectNotAppendable (409)
 *   ENG_ESIG       SignatureDoesNotMatch, InvalidAccessKeyId,
 *                  RequestTimeTooSkewed
 *   -EACCES        AccessDenied
 *   ENG_ETHROTTLE  throttled, retries exhausted
 *   ENG_ECHECKSUM  CRC-64/MD5 mismatch, retries exhausted (or a completed
 *                  multipart object whose CRC differs from its parts')
 *   ENG_ECONN, -ETIMEDOUT, ENG_ETLS  transport (see http.h)
 *   ENG_EPROTO     unparsable response
 *   ENG_EREMOTE    any other OSS error
 *   ENG_EINVAL     bad configuration / key (empty, > 1023 bytes, starts with
 *                  '/' or '\\', not UTF-8, or holding a control character
 *                  other than TAB/LF/CR, which XML bodies cannot carry)
 *
 * Threading: a struct oss may be used from several threads at once (each
 * call borrows a transport from a small pool, cloning the configured one as
 * needed).  A struct oss_upload belongs to one thread, except
 * oss_upload_cancel() which any thread may call.
 */
#ifndef DIFS_OSS_H
#define DIFS_OSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "http.h"
#include "sign.h"

#define OSS_PART_MIN		((uint64_t)100 << 10)	/**< 100 KiB */
#define OSS_PART_DEFAULT	((uint64_t)8 << 20)	/**< 8 MiB */
#define OSS_PART_MAX		((uint64_t)5 << 30)	/**< 5 GiB */
#define OSS_MAX_PARTS		10000
#define OSS_DELETE_BATCH	1000			/**< keys per DeleteMultipleObjects */

enum oss_sigver { OSS_SIG_V4 = 4, OSS_SIG_V1 = 1 };
enum oss_addressing { OSS_ADDR_AUTO = 0, OSS_ADDR_VHOST, OSS_ADDR_PATH };

/** Injectable time and sleep (tests); all optional. */
typedef time_t	oss_now_fn(void *arg);
typedef void	oss_sleep_fn(void *arg, uint64_t ms);

struct oss_config {
	/** "https://oss-cn-hangzhou.aliyuncs.com", "http://127.0.0.1:9000",
	 *  or without scheme (https).  A trailing '/' is allowed, a path not. */
	const char		*endpoint;
	const char		*bucket;	/**< 3-63 of [a-z0-9-] */
	/** borrowed; must outlive the struct oss (secrets stay in sign.c) */
	const struct sign_cred	*cred;
	enum oss_sigver		 sigver;	/**< default OSS_SIG_V4 */
	/** V4 region, e.g. "cn-hangzhou"; NULL = derived from the endpoint
	 *  ("oss-cn-hangzhou[-internal].aliyuncs.com" -> "cn-hangzhou"; IP and
	 *  localhost endpoints default to "cn-hangzhou"); ENG_EINVAL when V4
	 *  and it cannot be derived. */
	const char		*region;
	enum oss_addressing	 addressing;
	/** transport to clone per connection (borrowed, must outlive the
	 *  oss); NULL = a libcurl transport built from the fields below */
	struct http_transport	*transport;
	const char		*ca_file;	/**< NULL = system CA store */
	uint32_t		 connect_timeout_ms;	/**< 0 = transport default */
	uint32_t		 timeout_ms;		/**< 0 = transport default */
	unsigned		 max_retries;	/**< retries after the first try */
	uint64_t		 retry_base_ms;	/**< backoff base, default 200 */
	uint64_t		 retry_max_ms;	/**< backoff cap, default 20000 */
	uint64_t		 part_size;	/**< OSS_PART_MIN..OSS_PART_MAX */
	unsigned		 parallel;	/**< parts in flight, 1..64 */
	oss_now_fn		*now;		/**< NULL = time() */
	oss_sleep_fn		*sleep;		/**< NULL = nanosleep */
	http_rand_fn		*rand;		/**< backoff jitter; NULL = default */
	void			*hook_arg;	/**< passed to now/sleep/rand */
};

/** Fill cfg with defaults: V4, auto addressing, 3 retries, 8 MiB parts,
 *  4 parallel parts, backoff 200 ms .. 20 s.  The caller sets the rest. */
void	oss_config_defaults(struct oss_config *cfg);

/** Details of the last failure of a call (all strings NUL-terminated). */
struct oss_error {
	int		 rc;		/**< engine code returned by the call */
	int		 status;	/**< HTTP status, 0 when none arrived */
	unsigned	 attempts;	/**< tries made (1 + retries) */
	char		 op[32];	/**< "PutObject", "UploadPart", ... */
	char		 code[64];	/**< OSS Code ("NoSuchKey"), "" if none */
	char		 message[256];	/**< OSS Message or transport detail */
	char		 request_id[64];/**< x-oss-request-id / RequestId */
	char		 ec[32];	/**< OSS EC ("0002-00000040") */
	bool		 has_next_append;	/**< 409 on append: ... */
	uint64_t	 next_append;	/**< ... x-oss-next-append-position */
};

/**
 * oss_error_format - one line for logs and status files:
 * "PutObject: HTTP 403 SignatureDoesNotMatch: <message> (RequestId ..., EC
 * ..., 1 attempt)".  Always NUL-terminates out (truncating).
 */
void	oss_error_format(const struct oss_error *e, char *out, size_t outsz);

struct oss;

/**
 * oss_new - validate cfg and build a client.  Strings are copied; cred and
 * transport are borrowed.  Returns 0, ENG_EINVAL (with eb set), -ENOMEM.
 */
int	oss_new(const struct oss_config *cfg, struct oss **out,
	    struct eng_errbuf *eb) __attribute__((warn_unused_result));
void	oss_free(struct oss *oss);

/** Effective settings (valid while oss lives). */
const char *oss_region(const struct oss *oss);
bool	oss_path_style(const struct oss *oss);
uint64_t oss_part_size(const struct oss *oss);

/**
 * oss_object_url - append the URL of key (or of the bucket when key is NULL)
 * as requests use it: scheme://host[:port]/[bucket/]pct(key).
 */
int	oss_object_url(const struct oss *oss, const char *key, struct buf *out);

/* ---- request bodies ------------------------------------------------------ */

/**
 * Where a body comes from: memory, or a region of an open file (read with
 * pread, so a retry re-reads it from disk).  Borrowed for the duration of
 * the call (for oss_upload_part_src: see there).
 */
struct oss_src {
	const void	*mem;	/**< memory body when fd < 0 */
	int		 fd;	/**< >= 0: file body */
	uint64_t	 off;	/**< file offset */
	uint64_t	 len;	/**< bytes */
};

static inline struct oss_src
oss_src_mem(const void *p, uint64_t len)
{
	struct oss_src s = { p, -1, 0, len };
	return s;
}

static inline struct oss_src
oss_src_fd(int fd, uint64_t off, uint64_t len)
{
	struct oss_src s = { NULL, fd, off, len };
	return s;
}

/* ---- object operations --------------------------------------------------- */

struct oss_put_opts {
	const char	*content_type;	/**< NULL = application/octet-stream */
	bool		 forbid_overwrite;	/**< x-oss-forbid-overwrite: true */
	bool		 sse_aes256;	/**< x-oss-server-side-encryption: AES256 */
};

/** What an upload produced. */
struct oss_put_result {
	char		etag[80];	/**< as returned, with quotes */
	uint64_t	crc64;		/**< CRC-64 of the object (checked) */
	uint64_t	size;
};

/**
 * oss_put - PutObject.  opts may be NULL.  A retry after a lost response
 * that meets FileAlreadyExists (forbid_overwrite) is reconciled with a
 * HeadObject: same size and CRC = success.
 */
int	oss_put(struct oss *oss, const char *key, const struct oss_src *body,
	    const struct oss_put_opts *opts, struct oss_put_result *res,
	    struct oss_error *err);

/** HeadObject result.  Fields absent from the response are 0/"". */
struct oss_head {
	uint64_t	size;		/**< Content-Length */
	char		etag[80];
	char		type[16];	/**< "Normal", "Appendable", "Multipart" */
	bool		has_crc64;
	uint64_t	crc64;
	bool		has_next_append;
	uint64_t	next_append;
	char		last_modified[40];
	char		content_type[128];
};

/** oss_head - HeadObject.  ENG_ENOTFOUND when absent. */
int	oss_head(struct oss *oss, const char *key, struct oss_head *out,
	    struct oss_error *err);

/** Response body sink for oss_get (see http_write_fn). */
typedef int oss_write_fn(void *arg, const void *p, size_t n);

struct oss_get_opts {
	bool		 range;		/**< send Range: bytes=first-last */
	uint64_t	 first;
	uint64_t	 last;		/**< inclusive; UINT64_MAX = to the end */
	/** sink: write_fn, or (NULL) the memory buffer `out` of oss_get */
	oss_write_fn	*write_fn;
	void		*write_arg;
	size_t		 max_mem;	/**< memory target limit; 0 = 64 MiB */
};

/**
 * oss_get - GetObject, whole or a range, into out (appended; may be NULL
 * when write_fn is set) or into opts->write_fn.  A retry after part of the
 * body was delivered resumes where it stopped, with If-Match on the ETag
 * seen first (so bytes are never delivered twice nor mixed between
 * versions).  Whole-object reads are checked against x-oss-hash-crc64ecma.
 * *size_out (may be NULL) gets the bytes delivered.
 */
int	oss_get(struct oss *oss, const char *key, const struct oss_get_opts *opts,
	    struct buf *out, uint64_t *size_out, struct oss_error *err);

/** oss_delete - DeleteObject (204 also when the key does not exist). */
int	oss_delete(struct oss *oss, const char *key, struct oss_error *err);

/** A key that DeleteMultipleObjects could not delete. */
struct oss_delete_fail {
	char	*key;
	char	 code[64];
	char	 message[256];
};

/**
 * oss_delete_many - DeleteMultipleObjects in quiet mode, in batches of
 * OSS_DELETE_BATCH.  Keys OSS reports as failed are returned in *fails
 * (*nfails entries; free with oss_delete_fails_free) and the call still
 * returns 0; a failed request returns its error (earlier batches stay
 * deleted).  fails/nfails may be NULL when not wanted.
 */
int	oss_delete_many(struct oss *oss, const char *const *keys, size_t nkeys,
	    struct oss_delete_fail **fails, size_t *nfails, struct oss_error *err);
void	oss_delete_fails_free(struct oss_delete_fail *fails, size_t n);

/* ---- listing ------------------------------------------------------------- */

struct oss_list_opts {
	const char	*prefix;	/**< NULL = none */
	const char	*delimiter;	/**< NULL = none ("/" for directories) */
	const char	*start_after;	/**< NULL = none */
	const char	*continuation_token;	/**< NULL = first page */
	unsigned	 max_keys;	/**< 1..1000, 0 = 1000 */
};

struct oss_object {
	char		*key;		/**< decoded */
	uint64_t	 size;
	char		 etag[80];
	char		 type[16];
	char		 last_modified[32];	/**< "2012-02-24T08:43:07.000Z" */
};

struct oss_list_page {
	struct oss_object	*objs;
	size_t			 nobjs;
	char			**prefixes;	/**< CommonPrefixes, decoded */
	size_t			 nprefixes;
	bool			 truncated;
	char			*next_token;	/**< NextContinuationToken or NULL */
};

/**
 * oss_list - one page of ListObjectsV2 (encoding-type=url, decoded here).
 * *page is filled on success; free with oss_list_page_free.
 */
int	oss_list(struct oss *oss, const struct oss_list_opts *opts,
	    struct oss_list_page *page, struct oss_error *err);
void	oss_list_page_free(struct oss_list_page *page);

/* ---- multipart ----------------------------------------------------------- */

/** oss_mpu_init - InitiateMultipartUpload; *upload_id is malloc'ed. */
int	oss_mpu_init(struct oss *oss, const char *key, const struct oss_put_opts *opts,
	    char **upload_id, struct oss_error *err);

struct oss_part {
	unsigned	number;		/**< 1..10000 */
	char		etag[80];
	uint64_t	size;
	uint64_t	crc64;
};

/** oss_mpu_part - UploadPart; fills part (number, etag, size, crc64). */
int	oss_mpu_part(struct oss *oss, const char *key, const char *upload_id,
	    unsigned number, const struct oss_src *body, struct oss_part *part,
	    struct oss_error *err);

/**
 * oss_mpu_complete - CompleteMultipartUpload with parts (ascending by
 * number).  The object's CRC is checked against the parts' CRCs combined.
 * A retry that meets NoSuchUpload (the first try completed, its answer was
 * lost) is reconciled with HeadObject (size and CRC).
 */
int	oss_mpu_complete(struct oss *oss, const char *key, const char *upload_id,
	    const struct oss_part *parts, size_t nparts,
	    const struct oss_put_opts *opts, struct oss_put_result *res,
	    struct oss_error *err);

/** oss_mpu_abort - AbortMultipartUpload (NoSuchUpload counts as done). */
int	oss_mpu_abort(struct oss *oss, const char *key, const char *upload_id,
	    struct oss_error *err);

struct oss_parts_page {
	struct oss_part	*parts;		/**< crc64 is 0 (ListParts has none) */
	size_t		 nparts;
	bool		 truncated;
	unsigned	 next_marker;	/**< NextPartNumberMarker */
};

/** oss_mpu_list_parts - ListParts from part number marker (0 = start). */
int	oss_mpu_list_parts(struct oss *oss, const char *key, const char *upload_id,
	    unsigned marker, struct oss_parts_page *page, struct oss_error *err);
void	oss_parts_page_free(struct oss_parts_page *page);

/**
 * oss_mpu_list_uploads - ListMultipartUploads under prefix (one page of up
 * to 1000): *count gets the number of in-progress uploads; when keys is
 * non-NULL it gets a malloc'ed array of "key\0" strings (free each + array).
 */
int	oss_mpu_list_uploads(struct oss *oss, const char *prefix, size_t *count,
	    char ***keys, struct oss_error *err);

/**
 * oss_mpu_abort_all - abort every in-progress multipart upload whose key
 * starts with prefix (NULL = the whole bucket): the clean-up after a
 * process was killed mid-upload.  *aborted (may be NULL) gets the count,
 * also on failure.
 */
int	oss_mpu_abort_all(struct oss *oss, const char *prefix, size_t *aborted,
	    struct oss_error *err);

/* ---- append -------------------------------------------------------------- */

struct oss_append_result {
	uint64_t	next_position;	/**< x-oss-next-append-position */
	uint64_t	crc64;		/**< CRC of the whole object (checked) */
};

/**
 * oss_append - AppendObject at position.  init_crc is the object's CRC
 * before this append (the crc64 of the previous result; NULL = unknown:
 * then, for position > 0, it is read with HeadObject first).  Never retried
 * blindly: after a lost response / 5xx the object is HEADed; when its length
 * is position + len and its CRC matches, the append happened (success);
 * when its length is still position it is retried; otherwise ENG_ECONFLICT.
 * A 409 PositionNotEqualToLength returns ENG_ECONFLICT with
 * err->next_append set.
 */
int	oss_append(struct oss *oss, const char *key, uint64_t position,
	    const struct oss_src *body, const uint64_t *init_crc,
	    const struct oss_put_opts *opts, struct oss_append_result *res,
	    struct oss_error *err);

/* ---- streaming upload (writers) ------------------------------------------ */

struct oss_upload;

/**
 * oss_upload_new - start a streamed object upload of key.  Nothing is sent
 * yet: objects up to one part size become one PutObject at finish; larger
 * ones a multipart upload whose parts are uploaded while bytes arrive, by up
 * to cfg.parallel worker threads.  Memory: at most parallel x part_size
 * bytes of buffers.  opts may be NULL (copied).
 */
int	oss_upload_new(struct oss *oss, const char *key,
	    const struct oss_put_opts *opts, struct oss_upload **out)
    __attribute__((warn_unused_result));

/**
 * oss_upload_write - push n bytes.  Blocks while all buffers are in flight.
 * After any failure the upload is poisoned: every call except abort/free
 * returns the first error (details: oss_upload_error).  ENG_EKILLED after
 * oss_upload_cancel().
 */
int	oss_upload_write(struct oss_upload *up, const void *p, size_t n)
    __attribute__((warn_unused_result));

/**
 * oss_upload_part_src - add one whole part from src (typically a file
 * region staged by the spool): len must be >= OSS_PART_MIN unless it is the
 * last part, and no partially filled buffer may be pending (ENG_ESTATE).
 * src->fd must stay open and the region unchanged until oss_upload_finish
 * or oss_upload_abort returns (a retry re-reads it).  Once a caller part
 * was added, oss_upload_write() refuses bytes (ENG_ESTATE): a writer feeds
 * an upload either from memory or from staged parts.
 */
int	oss_upload_part_src(struct oss_upload *up, const struct oss_src *src)
    __attribute__((warn_unused_result));

/**
 * oss_upload_finish - upload what is left and Complete (or PutObject for a
 * small object).  On failure the multipart upload is aborted before
 * returning.  The upload must still be freed.
 */
int	oss_upload_finish(struct oss_upload *up, struct oss_put_result *res)
    __attribute__((warn_unused_result));

/**
 * oss_upload_abort - stop: wait for parts in flight, AbortMultipartUpload
 * when one was initiated.  Idempotent.  Returns 0 or the Abort's error.
 */
int	oss_upload_abort(struct oss_upload *up);

/** oss_upload_cancel - from any thread: make blocked and later calls
 *  return ENG_EKILLED (the owner then calls abort). */
void	oss_upload_cancel(struct oss_upload *up);

/** Details of the first failure (valid while up lives). */
const struct oss_error *oss_upload_error(const struct oss_upload *up);
/** Upload id or NULL before the multipart upload was initiated. */
const char *oss_upload_id(const struct oss_upload *up);

/** oss_upload_free - abort if neither finished nor aborted, then free. */
void	oss_upload_free(struct oss_upload *up);

#endif /* DIFS_OSS_H */
