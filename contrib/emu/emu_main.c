/* SPDX-License-Identifier: MIT */
/*
 * emu_main.c - difs-emu's HTTP core: the local Table Store + OSS emulator.
 *
 *   difs-emu --ots 127.0.0.1:PORT --oss 127.0.0.1:PORT --data DIR
 *            --access-key ID:SECRET [--instance NAME] [--bucket NAME]...
 *            [--shards [TABLE=]N]... [--fault SPEC]... [--threads N] [--skew SECONDS]
 *            [--sync on|off] [--log-level LEVEL] [--admin-token TOKEN]
 *
 * A TEST TOOL: it stores what it is sent in plain files, has one key pair
 * and an admin endpoint that injects faults.  --ots/--oss PORT (no host)
 * binds 127.0.0.1.  Bound beyond loopback (0.0.0.0, a LAN address) it
 * refuses to start without --admin-token, and then every admin request
 * needs "Authorization: Bearer TOKEN"; bound to loopback only, the admin
 * endpoint answers loopback peers (and also wants the token when one is
 * given).  Object and data files are 0600, directories 0700.
 *
 * Owns: argument parsing (one table), one libmicrohttpd daemon per service
 * (thread pool, loopback by default, port 0 = pick a free port), collecting
 * each request (raw URI, headers, bounded body) into struct emu_req, fault
 * injection (error replies, latency, dropped connections, reset mid-body,
 * "fail next N", all off by default), the unsigned loopback-only admin
 * endpoint under /_emu/ on every port, and clean shutdown on SIGINT/SIGTERM.
 * It never interprets a service's protocol: services (emu_ots*.c,
 * emu_oss*.c) see only struct emu_req / struct emu_resp (emu.h).
 *
 * Once listening it prints one line per service to stdout, then "ready":
 *   ots http://127.0.0.1:PORT instance=NAME
 *   oss http://127.0.0.1:PORT
 *   ready
 *
 * Fault SPEC (flag --fault and POST /_emu/fault), comma-separated key=value:
 *   svc=ots|oss|*       service (default: all for --fault, this port's
 *                       service for the admin endpoint)
 *   op=NAME             operation ("PutRow", "GetObject"; default any)
 *   error=CODE          reply with this service error (e.g. OTSServerBusy)
 *   status=N            HTTP status of that error (default 503)
 *   drop                close the connection without any reply
 *   reset               send headers and half the body, then close the
 *                       connection (SO_LINGER 0, so the close ends in RST)
 *   latency=MS          sleep before handling (alone: only delay)
 *   rate=R              probability 0..1 that a matching request fires (1)
 *   count=N             fire at most N times, then the rule expires
 * Example: --fault svc=ots,op=GetStreamRecord,error=OTSServerBusy,count=2
 *
 * Admin endpoint (loopback peers only, unsigned; with --admin-token any
 * peer with "Authorization: Bearer TOKEN", no one without it):
 *   GET  /_emu/health            "ok"
 *   GET  /_emu/stats             "key value" lines (requests, faults, ...)
 *   GET  /_emu/fault             the active fault rules
 *   POST /_emu/fault             body = SPEC, adds a rule
 *   POST /_emu/fault/clear       removes all rules
 *   POST /_emu/cmd               body = service admin command (e.g. OTS
 *                                "split TABLE SHARD"), see the service
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "emu.h"
#include "log.h"
#include "num.h"
#include "sys.h"

/*
 * The services live in the emu library (a static archive).  They are
 * referenced weakly so that difs-emu still links while one side is not
 * written yet; meson passes -Wl,-u,<symbol> so an archive member that
 * defines one is always pulled in.  A missing service is reported when its
 * flag is used.
 */
#pragma weak emu_ots_service
#pragma weak emu_oss_service

#define EMU_MAX_LIST	64		/* --bucket / --fault occurrences */
#define EMU_ADMIN	"/_emu/"

enum emu_fault_kind {
	EMU_FAULT_DELAY = 0,		/* latency only */
	EMU_FAULT_ERROR,
	EMU_FAULT_DROP,
	EMU_FAULT_RESET,
};

static const char *const emu_fault_kinds[] = { "delay", "error", "drop", "reset" };

struct emu_fault {
	char			 svc[8];	/**< "" = any service */
	char			 op[64];	/**< "" = any operation */
	char			 code[64];	/**< EMU_FAULT_ERROR: service error code */
	int			 status;	/**< EMU_FAULT_ERROR: HTTP status */
	enum emu_fault_kind	 kind;
	double			 rate;		/**< 0..1 */
	long			 count;		/**< remaining firings, -1 = unlimited */
	long			 latency_ms;
	uint64_t		 fired;
};

struct emu;

struct emu_port {
	struct emu			*emu;
	const struct emu_service_ops	*ops;
	void				*svc;
	struct MHD_Daemon		*mhd;		/**< main thread only */
	_Atomic int			 up;		/**< 1 once mhd serves; read by
							     the other port's workers */
	const char			*bind;		/**< "HOST:PORT" as given */
	char				 url[80];	/**< http://HOST:PORT once bound */
	_Atomic uint64_t		 requests;
	_Atomic uint64_t		 faults;
	_Atomic uint64_t		 status_4xx;
	_Atomic uint64_t		 status_5xx;
	_Atomic uint64_t		 admin;
};

struct emu {
	struct emu_config	 cfg;
	struct emu_port		 ports[2];	/**< [0] ots, [1] oss */
	unsigned		 threads;
	const char		*admin_token;	/**< NULL: loopback peers, unsigned */
	pthread_mutex_t		 lock;		/**< protects faults, nfaults, rng */
	struct emu_fault	*faults;
	size_t			 nfaults;
	uint64_t		 rng;
};

/* per request, created by the URI log callback, freed on completion */
struct emu_conn {
	char		*uri;		/**< raw request target */
	struct buf	 body;
	int		 started;
};

/* ---- raw arguments (first step of the two-step config) ------------------- */

struct emu_args {
	const char	*ots, *oss, *data, *access_key, *instance, *sync, *log_level;
	const char	*admin_token;
	const char	*buckets[EMU_MAX_LIST];
	size_t		 nbuckets;
	const char	*faults[EMU_MAX_LIST];
	size_t		 nfaults;
	const char	*shards[EMU_MAX_LIST];	/**< "N" or "TABLE=N" */
	size_t		 nshards;
	const char	*table_shards[EMU_MAX_LIST];
	size_t		 ntable_shards;
	long		 default_shards, threads, skew;
	int		 help, version;
};

enum emu_opt_kind { EMU_OPT_STR, EMU_OPT_LONG, EMU_OPT_LIST, EMU_OPT_FLAG };

struct emu_opt {
	const char		*name;
	enum emu_opt_kind	 kind;
	size_t			 off;		/**< into struct emu_args */
	size_t			 count_off;	/**< EMU_OPT_LIST: the counter */
	long			 min, max;	/**< EMU_OPT_LONG range */
	const char		*arg, *help;
};

#define EMU_OFF(f)	offsetof(struct emu_args, f)

static const struct emu_opt emu_opts[] = {
	{ "ots", EMU_OPT_STR, EMU_OFF(ots), 0, 0, 0, "[HOST:]PORT", "serve Table Store here (host default 127.0.0.1; port 0 = any free port)" },
	{ "oss", EMU_OPT_STR, EMU_OFF(oss), 0, 0, 0, "[HOST:]PORT", "serve OSS here (host default 127.0.0.1; port 0 = any free port)" },
	{ "data", EMU_OPT_STR, EMU_OFF(data), 0, 0, 0, "DIR", "data directory (created; services use DIR/ots, DIR/oss)" },
	{ "access-key", EMU_OPT_STR, EMU_OFF(access_key), 0, 0, 0, "ID:SECRET", "the one accepted key pair" },
	{ "instance", EMU_OPT_STR, EMU_OFF(instance), 0, 0, 0, "NAME", "Table Store instance name (default difs)" },
	{ "bucket", EMU_OPT_LIST, EMU_OFF(buckets), EMU_OFF(nbuckets), 0, 0, "NAME", "OSS bucket to create at start (repeatable)" },
	{ "shards", EMU_OPT_LIST, EMU_OFF(shards), EMU_OFF(nshards), 0, 0, "[TABLE=]N", "shards of new streams: default (2) or per table (repeatable)" },
	{ "fault", EMU_OPT_LIST, EMU_OFF(faults), EMU_OFF(nfaults), 0, 0, "SPEC", "fault rule (repeatable): svc=,op=,error=,status=,drop,reset,latency=MS,rate=,count=" },
	{ "threads", EMU_OPT_LONG, EMU_OFF(threads), 0, 1, 256, "N", "worker threads per service (default 16)" },
	{ "skew", EMU_OPT_LONG, EMU_OFF(skew), 0, 1, 86400 * 7, "SECONDS", "allowed request date skew (900)" },
	{ "sync", EMU_OPT_STR, EMU_OFF(sync), 0, 0, 0, "on|off", "fsync every commit (default on)" },
	{ "log-level", EMU_OPT_STR, EMU_OFF(log_level), 0, 0, 0, "LEVEL", "error, warn, info (default) or debug" },
	{ "admin-token", EMU_OPT_STR, EMU_OFF(admin_token), 0, 0, 0, "TOKEN", "admin requests need \"Authorization: Bearer TOKEN\" (required when bound beyond loopback)" },
	{ "help", EMU_OPT_FLAG, EMU_OFF(help), 0, 0, 0, NULL, "this text" },
	{ "version", EMU_OPT_FLAG, EMU_OFF(version), 0, 0, 0, NULL, "print the version" },
};

#define EMU_NOPTS	(sizeof(emu_opts) / sizeof(emu_opts[0]))

static volatile sig_atomic_t emu_stop;

static void
emu_usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: difs-emu --data DIR --access-key ID:SECRET "
	    "[--ots [HOST:]PORT] [--oss [HOST:]PORT] [options]\n\n"
	    "A local Table Store + OSS emulator for difs tests and benchmarks.\n"
	    "It is a test tool, not a server: keep it on 127.0.0.1 (the default);\n"
	    "bound beyond loopback it needs --admin-token.\n\n"
	    "options:\n");
	for (i = 0; i < EMU_NOPTS; i++) {
		char left[40];

		snprintf(left, sizeof(left), "--%s%s%s", emu_opts[i].name,
		    emu_opts[i].arg != NULL ? " " : "",
		    emu_opts[i].arg != NULL ? emu_opts[i].arg : "");
		fprintf(fp, "  %-26s %s\n", left, emu_opts[i].help);
	}
}

/** num_i64 into a long (whole string, in [min, max]): 0, ENG_EINVAL, -ERANGE. */
static int
emu_parse_long(const char *s, long min, long max, long *out)
{
	int64_t v;
	int rc;

	if ((rc = num_i64(s, (size_t)-1, min, max, &v)) != 0)
		return rc;
	*out = (long)v;
	return 0;
}

/** argv -> raw args.  Reports every error on stderr; returns 0 or -EINVAL. */
static int
emu_args_parse(int argc, char **argv, struct emu_args *a)
{
	int i, bad = 0;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL, *eq;
		const struct emu_opt *o = NULL;
		size_t j, nlen;
		char *base = (char *)a;

		if (strncmp(arg, "--", 2) != 0) {
			fprintf(stderr, "difs-emu: unexpected argument '%s'\n", arg);
			bad = 1;
			continue;
		}
		arg += 2;
		eq = strchr(arg, '=');
		nlen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		for (j = 0; j < EMU_NOPTS; j++)
			if (strlen(emu_opts[j].name) == nlen &&
			    strncmp(emu_opts[j].name, arg, nlen) == 0)
				o = &emu_opts[j];
		if (o == NULL) {
			fprintf(stderr, "difs-emu: unknown option '--%.*s'\n", (int)nlen, arg);
			bad = 1;
			continue;
		}
		if (o->kind == EMU_OPT_FLAG) {
			if (eq != NULL) {
				fprintf(stderr, "difs-emu: --%s takes no value\n", o->name);
				bad = 1;
				continue;
			}
			*(int *)(void *)(base + o->off) = 1;
			continue;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		if (val == NULL) {
			fprintf(stderr, "difs-emu: --%s needs %s\n", o->name, o->arg);
			bad = 1;
			continue;
		}
		switch (o->kind) {
		case EMU_OPT_STR:
			*(const char **)(void *)(base + o->off) = val;
			break;
		case EMU_OPT_LONG:
			if (emu_parse_long(val, o->min, o->max,
			    (long *)(void *)(base + o->off)) != 0) {
				fprintf(stderr, "difs-emu: --%s=%s: expected an integer "
				    "in [%ld, %ld]\n", o->name, val, o->min, o->max);
				bad = 1;
			}
			break;
		case EMU_OPT_LIST: {
			const char **list = (const char **)(void *)(base + o->off);
			size_t *n = (size_t *)(void *)(base + o->count_off);

			if (*n >= EMU_MAX_LIST) {
				fprintf(stderr, "difs-emu: too many --%s (max %d)\n",
				    o->name, EMU_MAX_LIST);
				bad = 1;
				break;
			}
			list[(*n)++] = val;
			break;
		}
		case EMU_OPT_FLAG:
			break;
		}
	}
	return bad ? -EINVAL : 0;
}

/* ---- fault rules ---------------------------------------------------------- */

/** Parse SPEC into f.  svc_default ("" = any).  0 or -EINVAL (msg in eb). */
static int
emu_fault_parse(const char *spec, const char *svc_default, struct emu_fault *f,
    char *eb, size_t eblen)
{
	const char *p = spec;
	int have_error = 0;

	memset(f, 0, sizeof(*f));
	f->rate = 1.0;
	f->count = -1;
	f->status = 503;
	f->kind = EMU_FAULT_DELAY;
	snprintf(f->svc, sizeof(f->svc), "%s", svc_default);
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		char item[160], *val;

		/* trailing newline/space of an admin body */
		while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r' ||
		    p[len - 1] == ' '))
			len--;
		if (len == 0 || len >= sizeof(item)) {
			snprintf(eb, eblen, "bad fault item near '%.20s'", p);
			return -EINVAL;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		val = strchr(item, '=');
		if (val != NULL)
			*val++ = '\0';
		if (strcmp(item, "svc") == 0 && val != NULL) {
			if (strcmp(val, "*") == 0)
				val = "";
			else if (strcmp(val, "ots") != 0 && strcmp(val, "oss") != 0)
				goto bad;
			snprintf(f->svc, sizeof(f->svc), "%s", val);
		} else if (strcmp(item, "op") == 0 && val != NULL) {
			if (strlen(val) >= sizeof(f->op))
				goto bad;
			snprintf(f->op, sizeof(f->op), "%s", strcmp(val, "*") == 0 ? "" : val);
		} else if (strcmp(item, "error") == 0 && val != NULL) {
			if (*val == '\0' || strlen(val) >= sizeof(f->code))
				goto bad;
			snprintf(f->code, sizeof(f->code), "%s", val);
			have_error = 1;
		} else if (strcmp(item, "status") == 0 && val != NULL) {
			long v;

			if (emu_parse_long(val, 400, 599, &v) != 0)
				goto bad;
			f->status = (int)v;
		} else if (strcmp(item, "drop") == 0 && val == NULL) {
			f->kind = EMU_FAULT_DROP;
		} else if (strcmp(item, "reset") == 0 && val == NULL) {
			f->kind = EMU_FAULT_RESET;
		} else if (strcmp(item, "latency") == 0 && val != NULL) {
			if (emu_parse_long(val, 0, 600000, &f->latency_ms) != 0)
				goto bad;
		} else if (strcmp(item, "count") == 0 && val != NULL) {
			if (emu_parse_long(val, 1, LONG_MAX, &f->count) != 0)
				goto bad;
		} else if (strcmp(item, "rate") == 0 && val != NULL) {
			char *e;

			errno = 0;
			f->rate = strtod(val, &e);
			if (*e != '\0' || errno != 0 || !(f->rate >= 0.0 && f->rate <= 1.0))
				goto bad;
		} else {
			goto bad;
		}
		p = end != NULL ? end + 1 : p + strlen(p);
		continue;
bad:
		snprintf(eb, eblen, "bad fault item '%s%s%s'", item,
		    val != NULL ? "=" : "", val != NULL ? val : "");
		return -EINVAL;
	}
	if (have_error) {
		if (f->kind != EMU_FAULT_DELAY) {
			snprintf(eb, eblen, "error= cannot be combined with drop/reset");
			return -EINVAL;
		}
		f->kind = EMU_FAULT_ERROR;
	}
	if (f->kind == EMU_FAULT_DELAY && f->latency_ms == 0) {
		snprintf(eb, eblen, "fault does nothing: give error=, drop, reset or latency=");
		return -EINVAL;
	}
	return 0;
}

static int
emu_fault_add(struct emu *emu, const struct emu_fault *f)
{
	struct emu_fault *nf;
	int rc = -ENOMEM;

	pthread_mutex_lock(&emu->lock);
	nf = realloc(emu->faults, (emu->nfaults + 1) * sizeof(*nf));
	if (nf != NULL) {
		emu->faults = nf;
		nf[emu->nfaults++] = *f;
		rc = 0;
	}
	pthread_mutex_unlock(&emu->lock);
	return rc;
}

static double
emu_rand01(struct emu *emu)
{
	/* xorshift64*, under emu->lock */
	uint64_t x = emu->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	emu->rng = x;
	return (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/** First matching rule that fires, copied into *out.  1 fired, 0 none. */
static int
emu_fault_pick(struct emu *emu, const char *svc, const char *op, struct emu_fault *out)
{
	size_t i;
	int fired = 0;

	pthread_mutex_lock(&emu->lock);
	for (i = 0; i < emu->nfaults; i++) {
		struct emu_fault *f = &emu->faults[i];

		if (f->svc[0] != '\0' && strcmp(f->svc, svc) != 0)
			continue;
		if (f->op[0] != '\0' && (op == NULL || strcmp(f->op, op) != 0))
			continue;
		if (f->count == 0)
			continue;
		if (f->rate < 1.0 && emu_rand01(emu) >= f->rate)
			continue;
		if (f->count > 0)
			f->count--;
		f->fired++;
		*out = *f;
		fired = 1;
		if (f->count == 0) {	/* expired: drop the rule */
			memmove(f, f + 1, (emu->nfaults - i - 1) * sizeof(*f));
			emu->nfaults--;
		}
		break;
	}
	pthread_mutex_unlock(&emu->lock);
	return fired;
}

static int
emu_fault_list(struct emu *emu, struct buf *b)
{
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&emu->lock);
	for (i = 0; i < emu->nfaults && rc == 0; i++) {
		const struct emu_fault *f = &emu->faults[i];

		rc = buf_printf(b, "svc=%s op=%s kind=%s code=%s status=%d rate=%g "
		    "count=%ld latency=%ld fired=%llu\n",
		    f->svc[0] ? f->svc : "*", f->op[0] ? f->op : "*",
		    emu_fault_kinds[f->kind], f->code[0] ? f->code : "-", f->status,
		    f->rate, f->count, f->latency_ms, (unsigned long long)f->fired);
	}
	pthread_mutex_unlock(&emu->lock);
	return rc;
}

/* ---- request collection ---------------------------------------------------- */

static void *
emu_uri_log(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct emu_conn *c;

	(void)cls;
	(void)con;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->uri = strdup(uri)) == NULL) {
		free(c);
		return NULL;
	}
	buf_init(&c->body, BUF_MAX_BODY);
	return c;
}

static void
emu_completed(void *cls, struct MHD_Connection *con, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct emu_conn *c = *req_cls;

	(void)cls;
	(void)con;
	(void)toe;
	if (c == NULL)
		return;
	buf_free(&c->body);
	free(c->uri);
	free(c);
	*req_cls = NULL;
}

struct emu_hdrs {
	struct emu_hdr	*v;
	size_t		 n, cap;
	int		 err;
};

static enum MHD_Result
emu_collect_hdr(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct emu_hdrs *h = cls;

	(void)kind;
	if (h->err != 0)
		return MHD_NO;
	if (h->n == h->cap) {
		size_t ncap = h->cap != 0 ? h->cap * 2 : 16;
		struct emu_hdr *nv = realloc(h->v, ncap * sizeof(*nv));

		if (nv == NULL) {
			h->err = -ENOMEM;
			return MHD_NO;
		}
		h->v = nv;
		h->cap = ncap;
	}
	h->v[h->n].name = strdup(key);
	h->v[h->n].value = strdup(value != NULL ? value : "");
	if (h->v[h->n].name == NULL || h->v[h->n].value == NULL) {
		free(h->v[h->n].name);
		free(h->v[h->n].value);
		h->err = -ENOMEM;
		return MHD_NO;
	}
	h->n++;
	return MHD_YES;
}

static void
emu_hdrs_free(struct emu_hdrs *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
}

static int
emu_peer_is_loopback(struct MHD_Connection *con, char *peer, size_t peerlen)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	int loop = 0;

	ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ci != NULL ? ci->client_addr : NULL;
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		loop = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		loop = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	snprintf(peer, peerlen, "%s:%u", host, port);
	return loop;
}

/* ---- responses ---------------------------------------------------------------- */

struct emu_partial {
	char	*p;
	size_t	 len, limit;
	int	 fd;		/**< the connection's socket, -1 unknown */
};

/* Make the coming close a TCP reset (RST), as a real "connection reset by
 * peer" is, rather than an orderly FIN that some clients wait out. */
static void
emu_rst_on_close(int fd)
{
	struct linger lg = { 1, 0 };

	if (fd >= 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

/* reset mid-body: hand out the first half, then reset the connection */
static ssize_t
emu_partial_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct emu_partial *pp = cls;
	size_t n;

	if (pos >= pp->limit) {
		emu_rst_on_close(pp->fd);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	n = pp->limit - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(out, pp->p + pos, n);
	return (ssize_t)n;
}

static void
emu_partial_free(void *cls)
{
	struct emu_partial *pp = cls;

	free(pp->p);
	free(pp);
}

/* a HEAD answer that announces a length but has no body */
static ssize_t
emu_head_read(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)cls;
	(void)pos;
	(void)out;
	(void)max;
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static int
emu_hdr_is_framing(const char *name)
{
	return strcasecmp(name, "content-length") == 0 ||
	    strcasecmp(name, "transfer-encoding") == 0 ||
	    strcasecmp(name, "connection") == 0;
}

/** Send resp on con.  reset: cut the body in the middle. */
static enum MHD_Result
emu_send(struct MHD_Connection *con, const char *method, struct emu_resp *resp, int reset)
{
	struct MHD_Response *r = NULL;
	enum MHD_Result ret = MHD_NO;
	const char *head_len = NULL;
	size_t i;

	if (strcmp(method, "HEAD") == 0 && resp->file_fd < 0 && resp->body.len == 0) {
		for (i = 0; i < resp->nhdrs; i++)
			if (strcasecmp(resp->hdrs[i].name, "content-length") == 0)
				head_len = resp->hdrs[i].value;
	}
	if (resp->file_fd >= 0) {
		r = MHD_create_response_from_fd_at_offset64(resp->file_len,
		    resp->file_fd, resp->file_off);
		if (r != NULL)
			resp->file_fd = -1;	/* MHD closes it now */
	} else if (head_len != NULL) {
		long v;

		if (emu_parse_long(head_len, 0, LONG_MAX, &v) != 0)
			v = 0;
		r = MHD_create_response_from_callback((uint64_t)v, 4096,
		    emu_head_read, NULL, NULL);
	} else if (reset) {
		struct emu_partial *pp = calloc(1, sizeof(*pp));
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);

		if (pp == NULL)
			return MHD_NO;
		pp->fd = ci != NULL ? (int)ci->connect_fd : -1;
		if (resp->body.len < 2) {	/* nothing to cut: reset at once */
			emu_rst_on_close(pp->fd);
			free(pp);
			return MHD_NO;
		}
		pp->p = buf_take(&resp->body, &pp->len);
		if (pp->p == NULL) {
			free(pp);
			return MHD_NO;
		}
		pp->limit = pp->len / 2;
		r = MHD_create_response_from_callback(pp->len, 4096,
		    emu_partial_read, pp, emu_partial_free);
		if (r == NULL)
			emu_partial_free(pp);
	} else {
		size_t len;
		char *p = buf_take(&resp->body, &len);

		if (p == NULL)
			return MHD_NO;
		r = MHD_create_response_from_buffer(len, p, MHD_RESPMEM_MUST_FREE);
		if (r == NULL)
			free(p);
	}
	if (r == NULL)
		return MHD_NO;
	for (i = 0; i < resp->nhdrs; i++) {
		if (emu_hdr_is_framing(resp->hdrs[i].name))
			continue;
		if (MHD_add_response_header(r, resp->hdrs[i].name,
		    resp->hdrs[i].value) != MHD_YES)
			log_warnx("emu: response header '%s' refused", resp->hdrs[i].name);
	}
	ret = MHD_queue_response(con, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static void
emu_count_status(struct emu_port *port, int status)
{
	if (status >= 500)
		atomic_fetch_add(&port->status_5xx, 1);
	else if (status >= 400)
		atomic_fetch_add(&port->status_4xx, 1);
}

/* ---- admin endpoint -------------------------------------------------------- */

/* "Bearer TOKEN" matches, compared in time independent of where it differs */
static int
emu_admin_token_ok(const char *token, const char *auth)
{
	size_t tl = strlen(token), al, i;
	unsigned char d = 0;

	if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0)
		return 0;
	auth += 7;
	al = strlen(auth);
	for (i = 0; i < tl; i++)
		d |= (unsigned char)(token[i] ^ (i < al ? auth[i] : 0));
	return d == 0 && al == tl;
}

static void
emu_admin(struct emu_port *port, const struct emu_req *req, struct emu_resp *resp)
{
	struct emu *emu = port->emu;
	const char *cmd = req->path + strlen(EMU_ADMIN);
	char eb[256];
	int rc = 0;

	(void)emu_resp_header(resp, "Content-Type", "text/plain");
	atomic_fetch_add(&port->admin, 1);
	if (strcmp(cmd, "health") == 0) {
		rc = buf_addstr(&resp->body, "ok\n");
	} else if (strcmp(cmd, "stats") == 0 && strcmp(req->method, "GET") == 0) {
		size_t i;

		for (i = 0; i < 2 && rc == 0; i++) {
			struct emu_port *p = &emu->ports[i];

			/* not p->mhd: main may still be starting that port */
			if (!atomic_load(&p->up))
				continue;
			rc = buf_printf(&resp->body,
			    "%s.requests %llu\n%s.faults %llu\n%s.status_4xx %llu\n"
			    "%s.status_5xx %llu\n%s.admin %llu\n",
			    p->ops->name, (unsigned long long)atomic_load(&p->requests),
			    p->ops->name, (unsigned long long)atomic_load(&p->faults),
			    p->ops->name, (unsigned long long)atomic_load(&p->status_4xx),
			    p->ops->name, (unsigned long long)atomic_load(&p->status_5xx),
			    p->ops->name, (unsigned long long)atomic_load(&p->admin));
		}
	} else if (strcmp(cmd, "fault") == 0 && strcmp(req->method, "GET") == 0) {
		rc = emu_fault_list(emu, &resp->body);
	} else if (strcmp(cmd, "fault") == 0 && strcmp(req->method, "POST") == 0) {
		struct emu_fault f;
		char *spec = strndup((const char *)req->body, req->body_len);

		if (spec == NULL) {
			rc = -ENOMEM;
		} else if (emu_fault_parse(spec, port->ops->name, &f, eb, sizeof(eb)) != 0) {
			resp->status = 400;
			rc = buf_printf(&resp->body, "%s\n", eb);
		} else if ((rc = emu_fault_add(emu, &f)) == 0) {
			rc = buf_addstr(&resp->body, "ok\n");
		}
		free(spec);
	} else if (strcmp(cmd, "fault/clear") == 0 && strcmp(req->method, "POST") == 0) {
		pthread_mutex_lock(&emu->lock);
		emu->nfaults = 0;
		pthread_mutex_unlock(&emu->lock);
		rc = buf_addstr(&resp->body, "ok\n");
	} else if (strcmp(cmd, "cmd") == 0 && strcmp(req->method, "POST") == 0) {
		char *line = strndup((const char *)req->body, req->body_len);
		size_t n;

		if (line == NULL) {
			rc = -ENOMEM;
		} else if (port->ops->admin == NULL) {
			resp->status = 404;
			rc = buf_printf(&resp->body, "%s has no admin commands\n", port->ops->name);
		} else {
			n = strlen(line);
			while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
				line[--n] = '\0';
			rc = port->ops->admin(port->svc, line, resp);
			if (rc == -EINVAL) {
				if (resp->status < 400)
					resp->status = 400;
				rc = 0;
			} else if (rc == 0 && resp->body.len == 0) {
				rc = buf_addstr(&resp->body, "ok\n");
			}
		}
		free(line);
	} else {
		resp->status = 404;
		rc = buf_printf(&resp->body, "unknown admin request %s %s\n",
		    req->method, req->path);
	}
	if (rc != 0) {
		emu_resp_reset(resp);
		resp->status = 500;
		(void)buf_printf(&resp->body, "admin: %s\n", strerror(-rc));
	}
}

/* ---- the request handler ---------------------------------------------------- */

static enum MHD_Result
emu_access(void *cls, struct MHD_Connection *con, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct emu_port *port = cls;
	struct emu_conn *c = *req_cls;
	struct emu_hdrs h = { 0 };
	struct emu_req req;
	struct emu_resp resp;
	struct emu_fault f;
	char peer[INET6_ADDRSTRLEN + 8], opbuf[64], *path = NULL;
	const char *q, *op = NULL;
	enum MHD_Result ret = MHD_NO;
	int fired = 0, rc;

	(void)url;
	(void)version;
	if (c == NULL)
		return MHD_NO;		/* out of memory in emu_uri_log */
	if (!c->started) {
		c->started = 1;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		/* keep reading even when too big, so we can answer 413 */
		if (c->body.err == 0)
			(void)buf_add(&c->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}

	emu_resp_init(&resp);
	atomic_fetch_add(&port->requests, 1);
	q = strchr(c->uri, '?');
	if ((path = strndup(c->uri, q != NULL ? (size_t)(q - c->uri) : strlen(c->uri))) == NULL)
		goto out;
	(void)MHD_get_connection_values(con, MHD_HEADER_KIND, emu_collect_hdr, &h);
	if (h.err != 0)
		goto out;
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.query = q != NULL ? q + 1 : "";
	req.hdrs = h.v;
	req.nhdrs = h.n;
	req.host = emu_req_header(&req, "Host");
	if (req.host == NULL)
		req.host = "";
	req.body = (const uint8_t *)c->body.p;
	req.body_len = c->body.len;
	req.peer = peer;
	if (strncmp(path, EMU_ADMIN, strlen(EMU_ADMIN)) == 0) {
		int loop = emu_peer_is_loopback(con, peer, sizeof(peer));

		if (port->emu->admin_token != NULL &&
		    !emu_admin_token_ok(port->emu->admin_token,
		    emu_req_header(&req, "Authorization"))) {
			resp.status = 401;
			(void)buf_addstr(&resp.body, "admin endpoint: send "
			    "\"Authorization: Bearer TOKEN\" (--admin-token)\n");
		} else if (port->emu->admin_token == NULL && !loop) {
			resp.status = 403;
			(void)buf_addstr(&resp.body, "admin endpoint is loopback-only\n");
		} else {
			emu_admin(port, &req, &resp);
		}
		ret = emu_send(con, method, &resp, 0);
		goto out;
	}
	(void)emu_peer_is_loopback(con, peer, sizeof(peer));
	if (c->body.err != 0) {
		resp.status = 413;
		(void)buf_addstr(&resp.body, "request body too large\n");
		emu_count_status(port, resp.status);
		ret = emu_send(con, method, &resp, 0);
		goto out;
	}

	if (port->ops->op_name != NULL)
		op = port->ops->op_name(port->svc, &req, opbuf, sizeof(opbuf));
	fired = emu_fault_pick(port->emu, port->ops->name, op, &f);
	if (fired) {
		atomic_fetch_add(&port->faults, 1);
		log_debug("emu: fault %s on %s %s", emu_fault_kinds[f.kind],
		    port->ops->name, op != NULL ? op : "?");
		if (f.latency_ms > 0) {
			struct timespec ts = { f.latency_ms / 1000,
			    (f.latency_ms % 1000) * 1000000L };

			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
		}
		if (f.kind == EMU_FAULT_DROP) {
			const union MHD_ConnectionInfo *ci =
			    MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);

			if (ci != NULL)
				emu_rst_on_close((int)ci->connect_fd);
			goto out;		/* MHD_NO: close without reply */
		}
		if (f.kind == EMU_FAULT_ERROR) {
			if (port->ops->fault != NULL)
				rc = port->ops->fault(port->svc, &req, f.code, f.status, &resp);
			else
				rc = buf_printf(&resp.body, "%s\n", f.code);
			if (rc != 0 || resp.status < 400)
				resp.status = f.status;
			emu_count_status(port, resp.status);
			ret = emu_send(con, method, &resp, 0);
			goto out;
		}
	}
	rc = port->ops->handle(port->svc, &req, &resp);
	if (rc != 0) {
		log_warnx("emu: %s %s %s: internal error: %s", port->ops->name,
		    method, path, strerror(rc < 0 ? -rc : rc));
		emu_resp_reset(&resp);
		resp.status = 500;
		(void)buf_addstr(&resp.body, "internal error\n");
	}
	emu_count_status(port, resp.status);
	ret = emu_send(con, method, &resp, fired && f.kind == EMU_FAULT_RESET);
out:
	emu_resp_free(&resp);
	emu_hdrs_free(&h);
	free(path);
	return ret;
}

/* ---- startup ------------------------------------------------------------------ */

/**
 * "HOST:PORT", "[V6]:PORT", or "PORT" / ":PORT" (127.0.0.1) -> sockaddr;
 * *loop: the address is a loopback one.  0 or -EINVAL.
 */
static int
emu_parse_bind(const char *s, struct sockaddr_storage *ss, socklen_t *sslen, int *v6,
    int *loop)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	size_t hlen;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (strchr(s, ':') == NULL || s[0] == ':') {
		struct sockaddr_in *in = (struct sockaddr_in *)(void *)ss;

		if (emu_parse_long(s[0] == ':' ? s + 1 : s, 0, 65535, &port) != 0)
			return -EINVAL;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*sslen = sizeof(*in);
		*v6 = 0;
		*loop = 1;
		return 0;
	}
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return -EINVAL;
		hlen = (size_t)(rb - s - 1);
		colon = rb + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -EINVAL;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (emu_parse_long(colon + 1, 0, 65535, &port) != 0)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)(void *)ss)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)(void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*in);
		*v6 = 0;
		*loop = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)(void *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*in6);
		*v6 = 1;
		*loop = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		return 0;
	}
	return -EINVAL;
}

static int
emu_port_start(struct emu *emu, struct emu_port *port)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	const union MHD_DaemonInfo *di;
	char host[INET6_ADDRSTRLEN];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int v6, loop, rc;

	if ((rc = emu_parse_bind(port->bind, &ss, &sslen, &v6, &loop)) != 0) {
		fprintf(stderr, "difs-emu: --%s %s: expected [HOST:]PORT\n",
		    port->ops->name, port->bind);
		return rc;
	}
	if (v6)
		flags |= MHD_USE_IPv6;
	if ((rc = port->ops->create(&emu->cfg, &port->svc)) != 0) {
		fprintf(stderr, "difs-emu: %s service: %s\n", port->ops->name, strerror(-rc));
		return rc;
	}
	port->mhd = MHD_start_daemon(flags, 0, NULL, NULL, emu_access, port,
	    MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, emu->threads,
	    MHD_OPTION_URI_LOG_CALLBACK, emu_uri_log, (void *)NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, emu_completed, (void *)NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, 300u,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 << 10),
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
	    MHD_OPTION_END);
	if (port->mhd == NULL) {
		fprintf(stderr, "difs-emu: cannot listen on %s for %s\n", port->bind,
		    port->ops->name);
		return -EADDRINUSE;
	}
	di = MHD_get_daemon_info(port->mhd, MHD_DAEMON_INFO_BIND_PORT);
	if (di == NULL)
		return -EIO;
	inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ?
	    (const void *)&((struct sockaddr_in6 *)(void *)&ss)->sin6_addr :
	    (const void *)&((struct sockaddr_in *)(void *)&ss)->sin_addr,
	    host, sizeof(host));
	snprintf(port->url, sizeof(port->url), v6 ? "http://[%s]:%u" : "http://%s:%u",
	    host, (unsigned)di->port);
	(void)sslen;
	atomic_store(&port->up, 1);
	return 0;
}

/** raw args -> validated config.  Reports every error; 0 or -EINVAL. */
static int
emu_validate(struct emu_args *a, struct emu *emu, char *secret_store, size_t sslen)
{
	static const char *const levels[] = { "error", "warn", "info", "debug" };
	const char *colon;
	int bad = 0;
	size_t i;

	if (a->data == NULL) {
		fprintf(stderr, "difs-emu: --data DIR is required\n");
		bad = 1;
	}
	if (a->ots == NULL && a->oss == NULL) {
		fprintf(stderr, "difs-emu: give --ots and/or --oss\n");
		bad = 1;
	}
	if (a->ots != NULL && &emu_ots_service == NULL) {
		fprintf(stderr, "difs-emu: this build has no Table Store service\n");
		bad = 1;
	}
	if (a->oss != NULL && &emu_oss_service == NULL) {
		fprintf(stderr, "difs-emu: this build has no OSS service\n");
		bad = 1;
	}
	if (a->access_key == NULL || (colon = strchr(a->access_key, ':')) == NULL ||
	    colon == a->access_key || colon[1] == '\0' ||
	    strlen(a->access_key) >= sslen) {
		fprintf(stderr, "difs-emu: --access-key ID:SECRET is required\n");
		bad = 1;
	} else {
		memcpy(secret_store, a->access_key, strlen(a->access_key) + 1);
		secret_store[colon - a->access_key] = '\0';
		emu->cfg.access_id = secret_store;
		emu->cfg.access_secret = secret_store + (colon - a->access_key) + 1;
	}
	for (i = 0; i < a->nshards; i++) {
		const char *eq = strchr(a->shards[i], '=');
		long n;

		if (emu_parse_long(eq != NULL ? eq + 1 : a->shards[i], 1, 64, &n) != 0 ||
		    (eq != NULL && eq == a->shards[i])) {
			fprintf(stderr, "difs-emu: --shards %s: expected N or TABLE=N, N in [1, 64]\n",
			    a->shards[i]);
			bad = 1;
		} else if (eq == NULL) {
			a->default_shards = n;
		} else {
			a->table_shards[a->ntable_shards++] = a->shards[i];
		}
	}
	if (a->sync != NULL && strcmp(a->sync, "on") != 0 && strcmp(a->sync, "off") != 0) {
		fprintf(stderr, "difs-emu: --sync must be on or off\n");
		bad = 1;
	}
	if (a->log_level != NULL) {
		for (i = 0; i < 4; i++)
			if (strcmp(a->log_level, levels[i]) == 0)
				break;
		if (i == 4) {
			fprintf(stderr, "difs-emu: --log-level must be error, warn, info or debug\n");
			bad = 1;
		} else {
			(void)log_open(NULL, 1, (enum log_level)i);
		}
	}
	for (i = 0; i < a->nfaults; i++) {
		struct emu_fault f;
		char eb[256];

		if (emu_fault_parse(a->faults[i], "", &f, eb, sizeof(eb)) != 0) {
			fprintf(stderr, "difs-emu: --fault %s: %s\n", a->faults[i], eb);
			bad = 1;
		} else if (emu_fault_add(emu, &f) != 0) {
			bad = 1;
		}
	}
	if (bad)
		return -EINVAL;
	emu->cfg.data_dir = a->data;
	emu->cfg.instance = a->instance != NULL ? a->instance : "difs";
	emu->cfg.skew_seconds = a->skew != 0 ? (int)a->skew : 900;
	emu->cfg.shards = a->default_shards != 0 ? (int)a->default_shards : 2;
	emu->cfg.table_shards = a->table_shards;
	emu->cfg.ntable_shards = a->ntable_shards;
	emu->cfg.buckets = a->buckets;
	emu->cfg.nbuckets = a->nbuckets;
	emu->cfg.nosync = a->sync != NULL && strcmp(a->sync, "off") == 0;
	emu->threads = a->threads != 0 ? (unsigned)a->threads : 16;
	emu->ports[0].bind = a->ots;
	emu->ports[0].ops = &emu_ots_service;
	emu->ports[1].bind = a->oss;
	emu->ports[1].ops = &emu_oss_service;
	if (a->admin_token != NULL && strlen(a->admin_token) < 8) {
		fprintf(stderr, "difs-emu: --admin-token: at least 8 characters\n");
		return -EINVAL;
	}
	emu->admin_token = a->admin_token;
	for (i = 0; i < 2; i++) {
		struct sockaddr_storage ss;
		socklen_t sl;
		int v6, loop;

		if (emu->ports[i].bind == NULL ||
		    emu_parse_bind(emu->ports[i].bind, &ss, &sl, &v6, &loop) != 0)
			continue;	/* reported when the port starts */
		if (!loop && a->admin_token == NULL) {
			fprintf(stderr, "difs-emu: refusing --%s %s (beyond loopback) "
			    "without --admin-token TOKEN: anyone who reaches it could "
			    "drive the admin endpoint; difs-emu is a test tool, keep "
			    "it on 127.0.0.1\n", emu->ports[i].ops->name,
			    emu->ports[i].bind);
			return -EINVAL;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct emu_args a;
	struct emu emu;
	char secret[1024];
	sigset_t set;
	size_t i;
	int sig, rc, status = 1;

	memset(&a, 0, sizeof(a));
	memset(&emu, 0, sizeof(emu));
	pthread_mutex_init(&emu.lock, NULL);
	emu.rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15ULL;
	if (emu_args_parse(argc, argv, &a) != 0) {
		emu_usage(stderr);
		status = 2;
		goto out;
	}
	if (a.help) {
		emu_usage(stdout);
		status = 0;
		goto out;
	}
	if (a.version) {
		printf("difs-emu %s\n", DIFS_VERSION);
		status = 0;
		goto out;
	}
	if (emu_validate(&a, &emu, secret, sizeof(secret)) != 0) {
		status = 2;
		goto out;
	}
	if ((rc = sys_mkdir_p(emu.cfg.data_dir, 0700)) != 0) {
		fprintf(stderr, "difs-emu: cannot create %s: %s\n", emu.cfg.data_dir,
		    strerror(-rc));
		goto out;
	}

	/* signals are taken by sigwait() below; worker threads inherit the mask */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < 2; i++) {
		struct emu_port *p = &emu.ports[i];

		p->emu = &emu;
		if (p->bind == NULL)
			continue;
		if (emu_port_start(&emu, p) != 0)
			goto out;
	}
	for (i = 0; i < 2; i++) {
		struct emu_port *p = &emu.ports[i];

		if (p->mhd == NULL)
			continue;
		if (strcmp(p->ops->name, "ots") == 0)
			printf("%s %s instance=%s\n", p->ops->name, p->url, emu.cfg.instance);
		else
			printf("%s %s\n", p->ops->name, p->url);
	}
	printf("ready\n");
	fflush(stdout);
	log_info("difs-emu: ready (data %s)", emu.cfg.data_dir);

	while (!emu_stop) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGINT || sig == SIGTERM)
			emu_stop = 1;
	}
	log_info("difs-emu: stopping");
	status = 0;
out:
	for (i = 0; i < 2; i++) {
		struct emu_port *p = &emu.ports[i];

		if (p->mhd != NULL)
			MHD_stop_daemon(p->mhd);
		if (p->svc != NULL)
			p->ops->destroy(p->svc);
	}
	free(emu.faults);
	pthread_mutex_destroy(&emu.lock);
	explicit_bzero(secret, sizeof(secret));
	return status;
}
