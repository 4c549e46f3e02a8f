/* SPDX-License-Identifier: MIT */
/*
 * emu.h - the contract between difs-emu's HTTP core (emu_main.c:
 * libmicrohttpd, argument parsing, data directory, fault injection) and its
 * two services (emu_ots*.c: Table Store, emu_oss*.c: OSS).
 *
 * The core collects a whole request (headers + body, bounded) into struct
 * emu_req, applies configured faults, then calls the service's handle()
 * from one of its worker threads.  A service fills struct emu_resp; the core
 * sends it.  Services must be thread-safe (they own their locking).
 */
#ifndef DIFS_EMU_H
#define DIFS_EMU_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct emu_hdr {
	char	*name;		/**< as received (case kept); compare case-insensitively */
	char	*value;
};

struct emu_req {
	const char	*method;	/**< "GET", "PUT", ... */
	const char	*path;		/**< URL path, raw as sent (not percent-decoded) */
	const char	*query;		/**< raw query string without '?', "" if none */
	const char	*host;		/**< Host header value, "" if none */
	struct emu_hdr	*hdrs;		/**< all request headers, in arrival order */
	size_t		 nhdrs;
	const uint8_t	*body;		/**< request body (not NUL-terminated) */
	size_t		 body_len;
	const char	*peer;		/**< "127.0.0.1:port" */
};

struct emu_resp {
	int		 status;	/**< HTTP status */
	struct emu_hdr	*hdrs;		/**< owned; filled with emu_resp_header() */
	size_t		 nhdrs;
	struct buf	 body;		/**< response body, initialised by the core */
	/** optional: serve a file region instead of body (GetObject of big objects) */
	int		 file_fd;	/**< -1 when unused; the core closes it */
	uint64_t	 file_off;
	uint64_t	 file_len;
};

/** Case-insensitive lookup of a request header; NULL when absent. */
const char *emu_req_header(const struct emu_req *req, const char *name);
/** Append a response header (copied).  0 or -ENOMEM. */
int emu_resp_header(struct emu_resp *resp, const char *name, const char *value);

/* ---- added by the core (emu.c), additive ----------------------------------
 * emu_resp_init/emu_resp_free let fuzz targets and unit tests drive a
 * service's handle() without the HTTP core.  The core itself uses them too,
 * so a response handed to handle() is always in the emu_resp_init() state:
 * status 200, no headers, empty body (max BUF_MAX_BODY), file_fd -1. */
void emu_resp_init(struct emu_resp *resp);
/** Free headers, body and close file_fd (when >= 0).  NULL-safe. */
void emu_resp_free(struct emu_resp *resp);
/** Drop all headers and the body, back to the emu_resp_init() state
 * (used when a service wants to replace a half-built answer). */
void emu_resp_reset(struct emu_resp *resp);

/** Runtime settings every service sees (read-only after start). */
struct emu_config {
	const char	*data_dir;	/**< service subdirectories live below it */
	const char	*access_id;	/**< --access-key ID:SECRET (the only key pair) */
	const char	*access_secret;
	const char	*instance;	/**< --instance, Table Store instance name */
	int		 skew_seconds;	/**< allowed Date skew, default 900 */
	int		 shards;	/**< default shard count for new streams (2) */
	/* ---- added by the core, additive ---- */
	const char *const *buckets;	/**< --bucket NAME (repeatable), created at start */
	size_t		 nbuckets;
	int		 nosync;	/**< --sync off: skip fsync on commit (benchmarks) */
	const char *const *table_shards; /**< --shards TABLE=N entries, as given */
	size_t		 ntable_shards;
};

/** A service: created once at start, handle() called concurrently. */
struct emu_service_ops {
	const char *name;	/**< "ots" or "oss" */
	int	(*create)(const struct emu_config *cfg, void **out);
	/** handle one request; must always produce a response (return 0), or
	 * return -errno for an internal failure (the core answers 500). */
	int	(*handle)(void *svc, const struct emu_req *req, struct emu_resp *resp);
	/** admin operations for tests: "split TABLE SHARD", etc.  Returns 0,
	 * -EINVAL with a message in resp. May be NULL. */
	int	(*admin)(void *svc, const char *cmd, struct emu_resp *resp);
	void	(*destroy)(void *svc);
	/* ---- added by the core, additive (may be NULL) ---- */
	/** name of the operation req asks for ("PutRow", "GetObject", ...),
	 * written into buf (NUL-terminated); used to match --fault op=NAME.
	 * Returns buf, or NULL when unknown. */
	const char *(*op_name)(void *svc, const struct emu_req *req,
	    char *buf, size_t len);
	/** fault injection: fill resp with the error response the service
	 * would send for code/status (e.g. "OTSServerBusy", 503), with all
	 * the headers a client requires.  Returns 0 or -errno. */
	int	(*fault)(void *svc, const struct emu_req *req, const char *code,
	    int status, struct emu_resp *resp);
};

extern const struct emu_service_ops emu_ots_service;
extern const struct emu_service_ops emu_oss_service;

#endif /* DIFS_EMU_H */
