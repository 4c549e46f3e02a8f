/* SPDX-License-Identifier: MIT */
/*
 * emu_oss_i.h - private interfaces of difs-emu's OSS service.
 *
 * Files and what they own:
 *   emu_oss.c        the service (emu_oss_service): addressing, dispatch,
 *                    object operations (put/get/head/delete/append/
 *                    delete-multiple), bucket operations
 *   emu_oss_resp.c   error bodies, XML replies, x-oss-meta-* collection,
 *                    the Content-MD5 check, the listing owner
 *   emu_oss_req.c    pure request parsing: query strings, percent coding,
 *                    bucket/key from Host and path, Range, dates, and the
 *                    store's metadata record codec (no I/O; fuzzed)
 *   emu_oss_auth.c   signature checks: V1 header, V1 presigned, V4 header,
 *                    V4 presigned (pure; fuzzed)
 *   emu_oss_store.c  the on-disk store: plain object files below
 *                    DATA/oss/BUCKET/KEY, metadata sidecar, in-memory index,
 *                    atomic commits, multipart upload state
 *   emu_oss_mp.c     multipart operations and listings (ListObjects v1/v2,
 *                    ListParts, ListMultipartUploads)
 *   emu_oss_xml.c    the only expat user of the emulator: parses the
 *                    CompleteMultipartUpload and Delete request bodies
 *
 * Calls go one way: emu_oss.c (dispatch) -> emu_oss_mp.c -> emu_oss_resp.c
 * -> emu_oss_store.c, emu_oss_req.c, emu_oss_auth.c, emu_oss_xml.c.
 *
 * Nothing here is visible outside contrib/emu/oss/emu_oss*.c and the fuzz
 * target.
 */
#ifndef DIFS_EMU_OSS_I_H
#define DIFS_EMU_OSS_I_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "emu.h"

#define EMU_OSS_MAX_KEY		1023	/**< bytes, OSS limit */
#define EMU_OSS_MIN_PART	((uint64_t)100 << 10)	/**< all but the last part */
#define EMU_OSS_MAX_PARTNO	10000
#define EMU_OSS_MAX_DELETE	1000
#define EMU_OSS_MAX_LIST	1000
#define EMU_OSS_DEF_LIST	100

/* ---- emu_oss_req.c ------------------------------------------------------ */

/** One query parameter: raw as on the wire and percent-decoded. */
struct emu_oss_qp {
	char	*raw_key;	/**< undecoded */
	char	*raw_val;	/**< undecoded, "" when absent */
	char	*key;		/**< decoded */
	char	*val;		/**< decoded, "" when absent */
	int	 has_val;	/**< "k=" and "k=v" -> 1, "k" -> 0 */
};

struct emu_oss_query {
	struct emu_oss_qp	*p;
	size_t			 n;
};

/**
 * emu_oss_query_parse - split a raw query string into parameters.
 * Returns 0, -EINVAL (bad percent escape, NUL byte) or -ENOMEM.  Free with
 * emu_oss_query_free (also after failure).
 */
int	 emu_oss_query_parse(const char *raw, struct emu_oss_query *q);
void	 emu_oss_query_free(struct emu_oss_query *q);
/** Decoded value of the first parameter named key, NULL when absent. */
const char *emu_oss_query_get(const struct emu_oss_query *q, const char *key);
int	 emu_oss_query_has(const struct emu_oss_query *q, const char *key);

/**
 * emu_oss_pct_decode - percent-decode s[0..len) into a new string.
 * plus_space: '+' becomes ' ' (query strings).  Decoded NUL bytes are
 * refused.  Returns 0, -EINVAL or -ENOMEM.
 */
int	 emu_oss_pct_decode(const char *s, size_t len, int plus_space, char **out);
/**
 * emu_oss_pct_encode - RFC 3986 encoding (unreserved kept, uppercase hex);
 * keep_slash leaves '/' alone.  Appends to b; returns b's status.
 */
int	 emu_oss_pct_encode(struct buf *b, const char *s, size_t len, int keep_slash);

/** Where a request points. */
struct emu_oss_target {
	char	*bucket;	/**< decoded, NULL for service-level requests */
	char	*key;		/**< decoded object key, NULL for bucket-level */
	int	 vhost;		/**< bucket came from the Host header */
};

/**
 * emu_oss_target_parse - bucket and key from Host and the raw path.
 * A Host that is an IP literal, "localhost" or an "oss-..." endpoint means
 * path style (/bucket/key); otherwise the label before the first '.' is the
 * bucket (virtual host, incl. ali-oss's "bucket.oss-cn-hangzhou..." sent to
 * 127.0.0.1) and the whole path is the key.
 * Returns 0, -EINVAL (bad escape) or -ENOMEM.  Free with emu_oss_target_free.
 */
int	 emu_oss_target_parse(const char *host, const char *raw_path,
	    struct emu_oss_target *t);
void	 emu_oss_target_free(struct emu_oss_target *t);

/** 1 when name is a valid OSS bucket name (3-63, [a-z0-9-], alnum ends). */
int	 emu_oss_bucket_valid(const char *name);

/**
 * emu_oss_range_parse - "bytes=a-b" / "bytes=a-" / "bytes=-n" against size.
 * Returns 1 with *off and *len set for a satisfiable single range, 0 when the
 * header should be ignored (malformed, multiple ranges: OSS then sends the
 * whole object), -ERANGE when unsatisfiable.
 */
int	 emu_oss_range_parse(const char *v, uint64_t size, uint64_t *off,
	    uint64_t *len);

/**
 * emu_oss_http_date - parse an RFC 1123 date ("Wed, 28 Dec 2022 10:27:41
 * GMT") or an ISO 8601 basic one ("20231216T162057Z").  0 or -EINVAL.
 */
int	 emu_oss_parse_gmt(const char *s, time_t *out);
int	 emu_oss_parse_iso(const char *s, time_t *out);
/** Format t as RFC 1123 GMT / ISO-8601 with milliseconds ("...T..:..:..000Z"). */
void	 emu_oss_fmt_gmt(time_t t, char out[40]);
void	 emu_oss_fmt_iso_ms(time_t t, char out[40]);

/* ---- emu_oss_auth.c ----------------------------------------------------- */

/** What a signature check needs to know about a request. */
struct emu_oss_authreq {
	const struct emu_req		*req;
	const struct emu_oss_query	*q;
	const char			*bucket;	/**< NULL: service level */
	const char			*key;		/**< NULL: bucket level */
	const char			*access_id;
	const char			*access_secret;
	time_t				 now;
	int				 skew;		/**< seconds */
};

/** Result of a failed check: an OSS error code and the details OSS returns. */
struct emu_oss_authfail {
	int		 status;	/**< 403 or 400 */
	const char	*code;		/**< "SignatureDoesNotMatch", ... */
	const char	*ec;		/**< x-oss-ec value or NULL */
	char		 message[256];
	struct buf	 string_to_sign;	/**< filled for SignatureDoesNotMatch */
	char		 provided[160];	/**< signature the client sent */
	char		 access_id[128];
};

void	 emu_oss_authfail_init(struct emu_oss_authfail *f);
void	 emu_oss_authfail_free(struct emu_oss_authfail *f);

/**
 * emu_oss_auth_check - verify V1/V4 header or presigned signatures.
 * Returns 1 when the request is authentic, 0 when refused (f filled),
 * -ENOMEM.  Requests without any credentials are refused (AccessDenied).
 */
int	 emu_oss_auth_check(const struct emu_oss_authreq *a,
	    struct emu_oss_authfail *f);

/** Digest helpers (backed by engine/sign/sign.h). */
void	 emu_oss_md5(const void *p, size_t len, uint8_t out[16]);
/** base64 of n bytes into b.  Returns b's status. */
int	 emu_oss_b64(struct buf *b, const uint8_t *p, size_t n);
/** strict base64 decode into out (outsz bytes).  0, ENG_EINVAL, -ENOSPC. */
int	 emu_oss_b64_decode(const char *s, uint8_t *out, size_t outsz,
	    size_t *outlen);
/** uppercase hex of n bytes into out (2n+1 bytes). */
void	 emu_oss_hex(const uint8_t *p, size_t n, char *out, int upper);

/* ---- emu_oss_xml.c ------------------------------------------------------ */

struct emu_oss_cpart {
	uint32_t	 number;
	char		*etag;		/**< as sent, quotes stripped */
};

/**
 * emu_oss_xml_complete - parse a CompleteMultipartUpload body.
 * Returns 0 (parts in document order, may be empty), -EBADMSG (not
 * well-formed / wrong shape / bad PartNumber), -ENOMEM.
 */
int	 emu_oss_xml_complete(const void *p, size_t len,
	    struct emu_oss_cpart **parts, size_t *nparts);
void	 emu_oss_xml_complete_free(struct emu_oss_cpart *parts, size_t n);

/**
 * emu_oss_xml_delete - parse a Delete (DeleteMultipleObjects) body.
 * Returns 0, -EBADMSG, -E2BIG (more than EMU_OSS_MAX_DELETE keys), -ENOMEM.
 * keys are decoded XML text (not URL-decoded).
 */
int	 emu_oss_xml_delete(const void *p, size_t len, int *quiet,
	    char ***keys, size_t *nkeys);
void	 emu_oss_xml_strv_free(char **v, size_t n);

/** Append s escaped for XML character data / attribute values. */
int	 emu_oss_xml_esc(struct buf *b, const char *s);

/* ---- emu_oss_store.c ---------------------------------------------------- */

enum emu_oss_otype { EMU_OSS_NORMAL = 0, EMU_OSS_APPENDABLE, EMU_OSS_MULTIPART };

/** Metadata of one object (a copy handed out by the store). */
struct emu_oss_meta {
	char			*key;
	uint64_t		 size;
	char			 etag[48];	/**< unquoted: 32 hex or 32 hex "-N" */
	uint64_t		 crc64;
	time_t			 mtime;
	enum emu_oss_otype	 type;
	char			*ctype;		/**< Content-Type */
	char			*umeta;		/**< "name:value\n" lines (x-oss-meta-*, lowercase names) */
	int			 side;		/**< data kept in the sidecar, not the tree */
};

void	 emu_oss_meta_clear(struct emu_oss_meta *m);
int	 emu_oss_meta_copy(struct emu_oss_meta *dst, const struct emu_oss_meta *src);
/** Serialise / parse the sidecar record ((buf, len), fuzz-friendly). */
int	 emu_oss_meta_encode(struct buf *b, const struct emu_oss_meta *m);
int	 emu_oss_meta_decode(const char *p, size_t len, struct emu_oss_meta *m);
const char *emu_oss_otype_name(enum emu_oss_otype t);

struct emu_oss_store;

/**
 * emu_oss_store_open - open (creating) DATA/oss and rebuild the index.
 * sync: fsync object data and metadata records before publishing them.
 * Returns 0 or -errno.
 */
int	 emu_oss_store_open(const char *data_dir, int sync,
	    struct emu_oss_store **out);
void	 emu_oss_store_close(struct emu_oss_store *s);

/** 1 exists, 0 not.  create: make it when missing (0 or -errno). */
int	 emu_oss_store_bucket_exists(struct emu_oss_store *s, const char *b);
int	 emu_oss_store_bucket_create(struct emu_oss_store *s, const char *b);
/** Remove an empty bucket: 0, -ENOENT, -ENOTEMPTY (objects or uploads). */
int	 emu_oss_store_bucket_delete(struct emu_oss_store *s, const char *b);
/** Names of all buckets (sorted); free with emu_oss_xml_strv_free. */
int	 emu_oss_store_buckets(struct emu_oss_store *s, char ***names, size_t *n);
/** Bucket creation time. */
time_t	 emu_oss_store_bucket_ctime(struct emu_oss_store *s, const char *b);

/** A temp file in the store's tmp dir (same file system as the objects). */
struct emu_oss_tmp {
	int	 fd;
	char	 path[4096];
};

int	 emu_oss_store_tmp_open(struct emu_oss_store *s, struct emu_oss_tmp *t);
void	 emu_oss_tmp_discard(struct emu_oss_tmp *t);

/**
 * emu_oss_store_get - copy of key's metadata, optionally with an open
 * read-only fd on its data (taken under the lock, so the fd and the metadata
 * agree even when the object is replaced right after).
 * Returns 0, -ENOENT, -ENOMEM, -errno.
 */
int	 emu_oss_store_get(struct emu_oss_store *s, const char *bucket,
	    const char *key, struct emu_oss_meta *m, int *fd);

/**
 * emu_oss_store_commit - atomically replace (or create) key with the data in
 * tmp (consumed: renamed or unlinked) and metadata m (m->key, size, etag,
 * crc64, type, ctype, umeta used; mtime set to now).
 * no_overwrite: -EEXIST when the key exists.  Returns 0 or -errno.
 */
int	 emu_oss_store_commit(struct emu_oss_store *s, const char *bucket,
	    struct emu_oss_tmp *tmp, const struct emu_oss_meta *m,
	    int no_overwrite);

/**
 * emu_oss_store_append - AppendObject: data at position pos.
 * On success *out is the new metadata.  Errors: -ESPIPE (position differs
 * from the length; *next_pos set), -EPERM (object not appendable),
 * -EFBIG (over 5 GiB), -errno.  init (ctype, umeta) applies when creating.
 */
int	 emu_oss_store_append(struct emu_oss_store *s, const char *bucket,
	    const char *key, uint64_t pos, const void *p, size_t n,
	    const struct emu_oss_meta *init, struct emu_oss_meta *out,
	    uint64_t *next_pos);

/** Delete key (absent keys are fine).  0 or -errno. */
int	 emu_oss_store_delete(struct emu_oss_store *s, const char *bucket,
	    const char *key);

/**
 * emu_oss_store_list - objects of bucket with key > after and starting with
 * prefix, in byte order; cb returns nonzero to stop.  Runs under the store
 * lock: cb must not call back into the store.
 */
typedef int emu_oss_list_fn(void *arg, const struct emu_oss_meta *m);
int	 emu_oss_store_list(struct emu_oss_store *s, const char *bucket,
	    const char *prefix, const char *after, emu_oss_list_fn *cb, void *arg);

/* multipart uploads */
struct emu_oss_part {
	uint32_t	 number;
	uint64_t	 size;
	char		 etag[33];	/**< uppercase MD5 hex */
	uint8_t		 md5[16];
	uint64_t	 crc64;
	time_t		 mtime;
};

struct emu_oss_upload {
	char		*id;
	char		*key;
	time_t		 initiated;
	char		*ctype;
	char		*umeta;
	struct emu_oss_part *parts;	/**< sorted by number */
	size_t		 nparts;
};

void	 emu_oss_upload_clear(struct emu_oss_upload *u);

/** Create an upload; *id_out gets a new id (free()).  0 or -errno. */
int	 emu_oss_store_mp_init(struct emu_oss_store *s, const char *bucket,
	    const char *key, const char *ctype, const char *umeta, char **id_out);
/**
 * emu_oss_store_mp_get - copy of an upload (parts included).
 * Returns 0, -ENOENT (unknown id or other key/bucket), -ENOMEM.
 */
int	 emu_oss_store_mp_get(struct emu_oss_store *s, const char *bucket,
	    const char *key, const char *id, struct emu_oss_upload *u);
/** Store a part from tmp (consumed).  -ENOENT unknown upload. */
int	 emu_oss_store_mp_part(struct emu_oss_store *s, const char *bucket,
	    const char *key, const char *id, struct emu_oss_tmp *tmp,
	    const struct emu_oss_part *p);
/** Open part n of an upload for reading (0 or -errno). */
int	 emu_oss_store_mp_open_part(struct emu_oss_store *s, const char *bucket,
	    const char *id, uint32_t n, int *fd);
/** Remove an upload and its parts.  -ENOENT unknown. */
int	 emu_oss_store_mp_remove(struct emu_oss_store *s, const char *bucket,
	    const char *key, const char *id);
/** Uploads of bucket in (key, initiated, id) order; cb as for list. */
typedef int emu_oss_mplist_fn(void *arg, const struct emu_oss_upload *u);
int	 emu_oss_store_mp_list(struct emu_oss_store *s, const char *bucket,
	    emu_oss_mplist_fn *cb, void *arg);

/* ---- emu_oss_resp.c: what every operation answers with ----------------- */

struct emu_oss;

/** One request being served. */
struct emu_oss_ctx {
	struct emu_oss			*svc;
	struct emu_oss_store		*store;
	const struct emu_req		*req;
	struct emu_resp			*resp;
	struct emu_oss_query		 q;
	struct emu_oss_target		 t;
	const char			*owner;	/**< access key id (the service's) */
	char				 reqid[25];
	int				 head;	/**< HEAD: errors without body */
};

/**
 * emu_oss_error - fill resp with an OSS error (status, XML body or, for
 * HEAD, the base64 x-oss-err header).  extra: preformatted extra elements
 * (already escaped) or NULL.  Returns 0 or -ENOMEM.
 */
int	 emu_oss_error(struct emu_oss_ctx *c, int status, const char *code,
	    const char *msg, const char *extra);
/** emu_oss_error with an EC value (x-oss-ec header and <EC> element). */
int	 emu_oss_error_ec(struct emu_oss_ctx *c, int status, const char *code,
	    const char *msg, const char *extra, const char *ec);
/** emu_oss_error for an errno from the store (500 InternalError etc.). */
int	 emu_oss_error_errno(struct emu_oss_ctx *c, int rc);
/** Send an XML document body with status 200. */
int	 emu_oss_xml_reply(struct emu_oss_ctx *c, struct buf *doc);
/** Collect x-oss-meta-* headers into "name:value\n" lines. */
int	 emu_oss_collect_umeta(const struct emu_req *req, char **out);
/** Content-MD5 check: 0 ok (or absent when !required), else error sent (1). */
int	 emu_oss_check_md5(struct emu_oss_ctx *c, const void *p, size_t n,
	    int required, uint8_t md5[16]);
/** "Size" helper: append key (url-encoded when enc) to b. */
int	 emu_oss_xml_key(struct buf *b, const char *tag, const char *s, int enc);

/** Owner ID / DisplayName shown in listings (the access key id). */
const char *emu_oss_owner(const struct emu_oss_ctx *c);

/* ---- emu_oss_mp.c: multipart operations and listings -------------------- */

int	 emu_oss_mp_initiate(struct emu_oss_ctx *c);
int	 emu_oss_mp_upload_part(struct emu_oss_ctx *c);
int	 emu_oss_mp_complete(struct emu_oss_ctx *c);
int	 emu_oss_mp_abort(struct emu_oss_ctx *c);
int	 emu_oss_mp_list_parts(struct emu_oss_ctx *c);
int	 emu_oss_mp_list_uploads(struct emu_oss_ctx *c);
int	 emu_oss_list_objects(struct emu_oss_ctx *c, int v2);

#endif /* DIFS_EMU_OSS_I_H */
