/* SPDX-License-Identifier: MIT */
/*
 * oss_i.h - private to the OSS client (oss.c: client, addressing, signing,
 * the retry loop, error mapping; oss_ops.c: operations; oss_xml.c: response
 * parsers and request bodies; oss_upload.c: streaming upload).
 */
#ifndef DIFS_OSS_I_H
#define DIFS_OSS_I_H

#include <pthread.h>
#include <stdbool.h>

#include "oss.h"

struct oss {
	char			*scheme;	/* "http" or "https" */
	char			*hostport;	/* endpoint host[:port] */
	char			*bucket;
	char			*region;
	bool			 path_style;
	enum oss_sigver		 sigver;
	const struct sign_cred	*cred;		/* borrowed */
	struct http_transport	*proto;		/* cloned per connection */
	bool			 own_proto;
	unsigned		 max_retries;
	uint64_t		 retry_base_ms;
	uint64_t		 retry_max_ms;
	uint64_t		 part_size;
	unsigned		 parallel;
	uint32_t		 timeout_ms;
	oss_now_fn		*now;
	oss_sleep_fn		*sleep;
	http_rand_fn		*rand;
	void			*hook_arg;
	pthread_mutex_t		 lock;		/* protects pool */
	struct http_transport	**pool;		/* idle transports; protected by lock */
	size_t			 npool;		/* protected by lock */
	size_t			 cappool;	/* protected by lock */
};

#define OSS_CALL_MAXQ	8
#define OSS_CALL_MAXH	12

/* one logical request, executed with retries by oss_exec() */
struct oss_call {
	const char		*op;		/* "PutObject" (errors, logs) */
	const char		*method;
	const char		*key;		/* NULL = bucket level */
	struct http_param	 query[OSS_CALL_MAXQ];
	size_t			 nquery;
	struct http_hdr		 hdrs[OSS_CALL_MAXH];	/* extra headers */
	size_t			 nhdrs;
	const struct oss_src	*body;		/* NULL = no body */
	bool			 no_retry;	/* AppendObject */
	/* response body: memory (max_body, 0 = BUF_MAX_DOC) or write_fn */
	http_write_fn		*write_fn;
	void			*write_arg;
	size_t			 max_body;
	/* hooks: before each attempt (may edit hdrs), after a 2xx (return a
	 * retryable code such as ENG_ECHECKSUM to retry) */
	int			(*before)(void *arg, struct oss_call *c, unsigned attempt);
	int			(*check)(void *arg, const struct http_response *r);
	void			*hook_arg;
	/* body digests: computed by oss_exec unless digested is set */
	bool			 digested;
	char			 md5[SIGN_MD5_B64_SIZE];
	uint64_t		 body_crc;	/* CRC-64 of the body (when body) */
	/* outputs */
	unsigned		 attempts;	/* tries made */
	bool			 retryable;	/* the last failure was retryable */
};

/* oss.c */
void	oss_call_init(struct oss_call *c, const char *op, const char *method,
	    const char *key);
void	oss_call_query(struct oss_call *c, const char *k, const char *v);
void	oss_call_header(struct oss_call *c, const char *name, const char *value);
/**
 * oss_exec - run c with retries.  On 0, resp holds the 2xx response.
 * On failure, err (may be NULL) is filled and the engine code returned.
 */
int	oss_exec(struct oss *oss, struct oss_call *c, struct http_response *resp,
	    struct oss_error *err);
/** oss_backoff - sleep before retry number attempt+1 (full jitter). */
void	oss_backoff(const struct oss *oss, unsigned attempt);
/** oss_src_digest - Content-MD5 (base64) and CRC-64 of a body. */
int	oss_src_digest(const struct oss_src *s, char md5[SIGN_MD5_B64_SIZE],
	    uint64_t *crc);
/** oss_map_error - engine code and retryability of an OSS error. */
int	oss_map_error(int status, const char *code, bool *retryable);
/** oss_key_check - 0 or ENG_EINVAL (OSS object key rules). */
int	oss_key_check(const char *key);
/** oss_err_set - fill err (may be NULL) for a local failure. */
void	oss_err_set(struct oss_error *err, const char *op, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/** oss_copy - bounded string copy into a fixed array (truncating). */
void	oss_copy(char *dst, size_t dstsz, const char *src);	/* oss_xml.c */
/* the signed wire form of one attempt of a call */
struct oss_wire {
	struct buf		 url;
	struct buf		 authz;
	char			 date[32];
	struct http_hdr		 hdrs[OSS_CALL_MAXH + 6];
	size_t			 nhdrs;
};
void	oss_wire_init(struct oss_wire *w);
void	oss_wire_free(struct oss_wire *w);
/** Build URL and signed headers of c at time now (md5 NULL = no body). */
int	oss_build(const struct oss *oss, const struct oss_call *c, const char *md5,
	    time_t now, struct oss_wire *w);

/* oss_xml.c: parsers take (buf, len); 0, ENG_EPROTO, -ENOMEM */
int	oss_xml_error(const char *p, size_t n, struct oss_error *e);
int	oss_xml_initiate(const char *p, size_t n, char **upload_id);
int	oss_xml_complete(const char *p, size_t n, char *etag, size_t etagsz);
int	oss_xml_list(const char *p, size_t n, struct oss_list_page *page);
int	oss_xml_list_parts(const char *p, size_t n, struct oss_parts_page *page);
int	oss_xml_delete_result(const char *p, size_t n,
	    struct oss_delete_fail **fails, size_t *nfails);
int	oss_xml_list_uploads(const char *p, size_t n, size_t *count, char ***keys,
	    char ***ids);
/* request bodies; ENG_EINVAL when a key cannot be carried by XML */
int	oss_xml_complete_body(const struct oss_part *parts, size_t n, struct buf *b);
int	oss_xml_delete_body(const char *const *keys, size_t n, bool quiet,
	    struct buf *b);

#endif /* DIFS_OSS_I_H */
