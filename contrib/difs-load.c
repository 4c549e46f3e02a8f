/* SPDX-License-Identifier: MIT */
/*
 * difs-load.c - a load writer for Table Store tables (real BatchWriteRow
 * traffic over engine/ots/ots.h), used by the quick start, the exactly-once
 * test and the benchmarks:
 *
 *   difs-load --endpoint URL --instance NAME --access-key ID:SECRET --table T
 *             [--create [--shards N]] [--pk string|integer]
 *             [--rate ROWS_PER_S] [--duration S | --count N]
 *             [--mix put=60,update=30,delete=10] [--row-bytes 200]
 *             [--keys N] [--seed N] [--batch N] [--record FILE] [--quiet]
 *
 * The table has the seed's columns: primary key `uid` (STRING "u%010d" by
 * default, or INTEGER) and the attribute `name`.  Each change is a PutRow
 * (new value of name), an UpdateRow (put of name) or a DeleteRow, drawn
 * from --mix with a seeded generator (same --seed, same sequence of
 * changes).  Values of name are unique within a run ("s<seed>n<change>-"
 * then filler up to --row-bytes of CSV line), so an exported row tells
 * exactly which change produced it.
 *
 * --record FILE appends one line per change whose batch came back, after
 * the batch (lines of a batch are written with one write(2), so a kill
 * leaves whole lines):
 *
 *   CHANGE<TAB>STATE<TAB>OP<TAB>UID<TAB>NAME<TAB>SEND_US<TAB>ACK_US
 *
 * CHANGE is the commit order (1, 2, ...; changes of one batch in request
 * order), STATE is 'c' (committed) or 'u' (outcome unknown: the request
 * failed as a whole in a way that may hide a commit -- a transport error or
 * timeout; difs-load then stops), OP is put /
 * update / delete, NAME is "-" for delete, SEND_US/ACK_US are the wall
 * clock (µs since the epoch) before the request and after its answer: the
 * service's commit time lies between them.  Rows the service refused are
 * not recorded (they are counted as failed), nor are batches the service
 * refused as a whole (error answer: nothing was written; difs-load stops).
 *
 * --create creates the table with a stream (24 h) when it does not exist;
 * --shards N first asks difs-emu (POST /_emu/cmd "shards TABLE N") for N
 * stream shards; against a real service leave it out.
 *
 * --rate 0 (the default) writes as fast as the service answers.  SIGINT /
 * SIGTERM stop after the current batch.  The summary goes to stdout:
 *   difs-load: N changes (put P, update U, delete D, failed F, unknown X) in S s = R/s
 * Exit: 0 done, 1 service/IO failure, 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "ots.h"
#include "plainbuf.h"
#include "sign.h"

#define LOAD_MAX_BATCH		200	/* BatchWriteRow row limit */
#define LOAD_MAX_ROW_BYTES	(64 << 10)
#define LOAD_UID_MAX		32

enum load_op { LOAD_PUT = 0, LOAD_UPDATE = 1, LOAD_DELETE = 2, LOAD_NOPS = 3 };

static const char *const load_op_names[LOAD_NOPS] = { "put", "update", "delete" };

/** Operation mix in percent (sum 100). */
struct load_mix {
	unsigned	pct[LOAD_NOPS];
};

/** Settings after validation. */
struct load_config {
	const char	*endpoint, *instance, *table, *record;
	char		 ak_id[128];
	char		 ak_secret[256];
	int		 create, pk_int, quiet;
	long		 shards;		/**< 0 = not asked */
	double		 rate;			/**< rows/s, 0 = unlimited */
	double		 duration;		/**< s, 0 = none */
	long long	 count;			/**< changes, 0 = none */
	struct load_mix	 mix;
	long		 row_bytes;
	long long	 keys;
	uint64_t	 seed;
	long		 batch;			/**< rows per BatchWriteRow */
};

/** One planned change. */
struct load_change {
	enum load_op	 op;
	uint64_t	 key;			/**< 0 .. keys-1 */
	uint64_t	 serial;		/**< 1, 2, ... in generation order */
};

/** The deterministic change generator. */
struct load_gen {
	uint64_t	 rng;
	struct load_mix	 mix;
	uint64_t	 keys;
	uint64_t	 serial;
	uint8_t		*exists;		/**< per key: 1 = row believed present */
};

/* ---- pure helpers (unit-tested) -------------------------------------------- */

/** splitmix64: the generator's step. */
static uint64_t
load_rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/** Uniform in [0, n) (n > 0), without modulo bias worth caring about at 64 bits. */
static uint64_t
load_rng_below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)load_rng_next(s) * n) >> 64);
}

/** Strict unsigned decimal of (p, len). 0 or -EINVAL / -ERANGE. */
static int
load_parse_u64(const char *p, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(p[i] - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/** Non-negative decimal with an optional fraction ("2.5"). 0 or -EINVAL. */
static int
load_parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || errno == ERANGE || !(v >= 0) || v > 1e12)
		return -EINVAL;
	*out = v;
	return 0;
}

/**
 * load_mix_parse - "put=60,update=30,delete=10" (any order, missing = 0,
 * each at most once, sum exactly 100).  Returns 0 or ENG_EINVAL (eb).
 */
static int
load_mix_parse(const char *s, size_t len, struct load_mix *out, struct eng_errbuf *eb)
{
	struct load_mix m = { { 0, 0, 0 } };
	unsigned seen = 0, sum = 0;
	size_t i = 0;

	while (i < len) {
		size_t j = i, eq, k;
		uint64_t v;
		int op = -1;

		while (j < len && s[j] != ',')
			j++;
		for (eq = i; eq < j && s[eq] != '='; eq++)
			;
		if (eq == j)
			return eng_errbuf_set(eb, ENG_EINVAL, "mix: '%.*s' is not OP=PERCENT",
			    (int)(j - i), s + i);
		for (k = 0; k < LOAD_NOPS; k++)
			if (strlen(load_op_names[k]) == eq - i &&
			    memcmp(load_op_names[k], s + i, eq - i) == 0)
				op = (int)k;
		if (op < 0)
			return eng_errbuf_set(eb, ENG_EINVAL,
			    "mix: unknown operation '%.*s' (put, update, delete)", (int)(eq - i), s + i);
		if (seen & (1u << op))
			return eng_errbuf_set(eb, ENG_EINVAL, "mix: '%s' given twice", load_op_names[op]);
		if (load_parse_u64(s + eq + 1, j - eq - 1, 100, &v) != 0)
			return eng_errbuf_set(eb, ENG_EINVAL, "mix: percentage of '%s' must be 0..100",
			    load_op_names[op]);
		seen |= 1u << op;
		m.pct[op] = (unsigned)v;
		sum += (unsigned)v;
		i = j + 1;
		if (j + 1 == len)
			return eng_errbuf_set(eb, ENG_EINVAL, "mix: trailing ','");
	}
	if (sum != 100)
		return eng_errbuf_set(eb, ENG_EINVAL, "mix: percentages add up to %u, not 100", sum);
	*out = m;
	return 0;
}

/** "ID:SECRET" -> id, secret (the secret may contain ':').  0 or ENG_EINVAL. */
static int
load_access_key_parse(const char *s, char *id, size_t idlen, char *secret, size_t seclen)
{
	const char *colon = strchr(s, ':');
	size_t n;
	int w;

	if (colon == NULL || colon == s || colon[1] == '\0')
		return ENG_EINVAL;
	n = (size_t)(colon - s);
	if (n >= idlen)
		return ENG_EINVAL;
	memcpy(id, s, n);
	id[n] = '\0';
	w = snprintf(secret, seclen, "%s", colon + 1);
	if (w < 0 || (size_t)w >= seclen)
		return ENG_EINVAL;
	return 0;
}

/**
 * load_outcome_unknown - whether a BatchWriteRow that failed as a whole
 * with rc may still have been applied: transport failures and malformed or
 * timed-out answers may hide a commit; an error answer of the service
 * (refused, throttled, bad signature, bad request) means nothing was
 * written.
 */
static int
load_outcome_unknown(int rc)
{
	switch (rc) {
	case ENG_ECONN:
	case ENG_ETLS:
	case ENG_EPROTO:
	case ENG_ECHECKSUM:
	case ENG_ERETRYABLE:
	case -ETIMEDOUT:
		return 1;
	default:
		return 0;
	}
}

/** The STRING primary key of key k ("u" + 10 digits).  Returns its length. */
static size_t
load_uid_format(uint64_t k, char *out, size_t len)
{
	int n = snprintf(out, len, "u%010" PRIu64, k);

	return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

/**
 * load_value_format - the name value of change `serial` in run `seed`,
 * sized so that a CSV line "UID,NAME\r\n" is about row_bytes long:
 * "s<seed>n<serial>-" then lowercase filler derived from serial.  Only
 * [a-z0-9-] (never needs CSV quoting).  Appends to out.
 */
static int
load_value_format(uint64_t seed, uint64_t serial, long row_bytes, size_t uid_len,
    struct buf *out)
{
	uint64_t st = serial ^ (seed << 1);
	size_t start = out->len, want;
	int rc;

	if ((rc = buf_printf(out, "s%" PRIu64 "n%" PRIu64 "-", seed, serial)) != 0)
		return rc;
	want = row_bytes > (long)(uid_len + 3) ? (size_t)row_bytes - uid_len - 3 : 0;
	while (out->len - start < want) {
		uint64_t r = load_rng_next(&st);
		int i;

		for (i = 0; i < 8 && out->len - start < want; i++, r >>= 8)
			if ((rc = buf_addc(out, (char)('a' + (r & 0xff) % 26))) != 0)
				return rc;
	}
	return 0;
}

static int
load_gen_init(struct load_gen *g, const struct load_mix *mix, uint64_t keys, uint64_t seed)
{
	memset(g, 0, sizeof(*g));
	if (keys == 0)
		return ENG_EINVAL;
	if ((g->exists = calloc(keys, 1)) == NULL)
		return -ENOMEM;
	g->rng = seed;
	g->mix = *mix;
	g->keys = keys;
	return 0;
}

static void
load_gen_fini(struct load_gen *g)
{
	free(g->exists);
	g->exists = NULL;
}

/** Whether key is in taken[0..ntaken). */
static int
load_key_taken(const uint64_t *taken, size_t ntaken, uint64_t key)
{
	size_t i;

	for (i = 0; i < ntaken; i++)
		if (taken[i] == key)
			return 1;
	return 0;
}

/**
 * load_gen_next - the next change, with a key not in taken[] (the keys
 * already in the current batch: BatchWriteRow refuses a row twice).
 * update/delete pick a row believed present; when none is found after a
 * few draws the change becomes a put.  Returns 0, or -EAGAIN when no free
 * key was found (end the batch).  Does not mark existence: call
 * load_gen_apply once the change is committed.
 */
static int
load_gen_next(struct load_gen *g, const uint64_t *taken, size_t ntaken,
    struct load_change *out)
{
	uint64_t r = load_rng_below(&g->rng, 100);
	enum load_op op;
	int tries;

	if (r < g->mix.pct[LOAD_PUT])
		op = LOAD_PUT;
	else if (r < g->mix.pct[LOAD_PUT] + g->mix.pct[LOAD_UPDATE])
		op = LOAD_UPDATE;
	else
		op = LOAD_DELETE;
	if (op != LOAD_PUT) {
		for (tries = 0; tries < 8; tries++) {
			uint64_t k = load_rng_below(&g->rng, g->keys);

			if (g->exists[k] && !load_key_taken(taken, ntaken, k)) {
				out->op = op;
				out->key = k;
				out->serial = ++g->serial;
				return 0;
			}
		}
		op = LOAD_PUT;	/* no present row found: write a new one */
	}
	for (tries = 0; tries < 16; tries++) {
		uint64_t k = load_rng_below(&g->rng, g->keys);

		if (!load_key_taken(taken, ntaken, k)) {
			out->op = op;
			out->key = k;
			out->serial = ++g->serial;
			return 0;
		}
	}
	return -EAGAIN;
}

/** The change was committed: track the row's existence. */
static void
load_gen_apply(struct load_gen *g, const struct load_change *c)
{
	g->exists[c->key] = c->op != LOAD_DELETE;
}

/**
 * load_record_line - append one --record line for change c (commit order
 * `commit`, state 'c' or 'u').  name is NULL for a delete.
 */
static int
load_record_line(struct buf *out, uint64_t commit, char state, const struct load_change *c,
    const char *uid, const char *name, int64_t send_us, int64_t ack_us)
{
	return buf_printf(out, "%" PRIu64 "\t%c\t%s\t%s\t%s\t%" PRId64 "\t%" PRId64 "\n",
	    commit, state, load_op_names[c->op], uid, name != NULL ? name : "-",
	    send_us, ack_us);
}

/* ---- arguments --------------------------------------------------------------- */

struct load_args {
	const char	*endpoint, *instance, *access_key, *table, *record, *pk;
	const char	*rate, *duration, *count, *mix, *row_bytes, *keys, *seed, *batch, *shards;
	int		 create, quiet, help;
};

enum load_opt_kind { LOAD_OPT_STR, LOAD_OPT_FLAG };

struct load_opt {
	const char		*name;
	enum load_opt_kind	 kind;
	size_t			 off;
	const char		*arg, *help;
};

#define LOAD_OFF(f)	offsetof(struct load_args, f)

static const struct load_opt load_opts[] = {
	{ "endpoint", LOAD_OPT_STR, LOAD_OFF(endpoint), "URL", "Table Store endpoint (http://127.0.0.1:PORT for difs-emu)" },
	{ "instance", LOAD_OPT_STR, LOAD_OFF(instance), "NAME", "instance name" },
	{ "access-key", LOAD_OPT_STR, LOAD_OFF(access_key), "ID:SECRET", "access key pair" },
	{ "table", LOAD_OPT_STR, LOAD_OFF(table), "T", "table to write" },
	{ "create", LOAD_OPT_FLAG, LOAD_OFF(create), NULL, "create the table with a stream when absent" },
	{ "shards", LOAD_OPT_STR, LOAD_OFF(shards), "N", "with --create on difs-emu: stream shards (1..64)" },
	{ "pk", LOAD_OPT_STR, LOAD_OFF(pk), "string|integer", "type of the primary key uid (default string)" },
	{ "rate", LOAD_OPT_STR, LOAD_OFF(rate), "ROWS_PER_S", "changes per second (default 0 = unlimited)" },
	{ "duration", LOAD_OPT_STR, LOAD_OFF(duration), "S", "stop after S seconds" },
	{ "count", LOAD_OPT_STR, LOAD_OFF(count), "N", "stop after N changes" },
	{ "mix", LOAD_OPT_STR, LOAD_OFF(mix), "put=P,update=U,delete=D", "operation mix in percent (default put=60,update=30,delete=10)" },
	{ "row-bytes", LOAD_OPT_STR, LOAD_OFF(row_bytes), "B", "approximate CSV bytes per row (default 200)" },
	{ "keys", LOAD_OPT_STR, LOAD_OFF(keys), "N", "distinct primary keys (default 10000)" },
	{ "seed", LOAD_OPT_STR, LOAD_OFF(seed), "N", "generator seed (default 1)" },
	{ "batch", LOAD_OPT_STR, LOAD_OFF(batch), "N", "rows per BatchWriteRow, 1..200 (default: rate/10, at most 200)" },
	{ "record", LOAD_OPT_STR, LOAD_OFF(record), "FILE", "append one line per committed change" },
	{ "quiet", LOAD_OPT_FLAG, LOAD_OFF(quiet), NULL, "no progress lines on stderr" },
	{ "help", LOAD_OPT_FLAG, LOAD_OFF(help), NULL, "this text" },
};

#define LOAD_NOPTS	(sizeof(load_opts) / sizeof(load_opts[0]))

static void
load_usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: difs-load --endpoint URL --instance NAME --access-key ID:SECRET "
	    "--table T [options]\n\nWrites puts, updates and deletes to a Table Store table.\n\n"
	    "options:\n");
	for (i = 0; i < LOAD_NOPTS; i++) {
		char left[48];

		snprintf(left, sizeof(left), "--%s%s%s", load_opts[i].name,
		    load_opts[i].arg != NULL ? " " : "",
		    load_opts[i].arg != NULL ? load_opts[i].arg : "");
		fprintf(fp, "  %-34s %s\n", left, load_opts[i].help);
	}
}

/** argv -> raw args ("--opt VALUE" or "--opt=VALUE").  0 or ENG_EINVAL (eb). */
static int
load_args_parse(int argc, char *const *argv, struct load_args *a, struct eng_errbuf *eb)
{
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq, *val;
		const struct load_opt *o = NULL;
		size_t j, nlen;
		char *base = (char *)a;

		if (strncmp(arg, "--", 2) != 0)
			return eng_errbuf_set(eb, ENG_EINVAL, "unexpected argument '%s'", arg);
		arg += 2;
		eq = strchr(arg, '=');
		nlen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		for (j = 0; j < LOAD_NOPTS; j++)
			if (strlen(load_opts[j].name) == nlen &&
			    strncmp(load_opts[j].name, arg, nlen) == 0)
				o = &load_opts[j];
		if (o == NULL)
			return eng_errbuf_set(eb, ENG_EINVAL, "unknown option '--%.*s'", (int)nlen, arg);
		if (o->kind == LOAD_OPT_FLAG) {
			if (eq != NULL)
				return eng_errbuf_set(eb, ENG_EINVAL, "--%s takes no value", o->name);
			*(int *)(void *)(base + o->off) = 1;
			continue;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return eng_errbuf_set(eb, ENG_EINVAL, "--%s needs %s", o->name, o->arg);
		*(const char **)(void *)(base + o->off) = val;
	}
	return 0;
}

static int
load_num(const char *s, const char *name, uint64_t min, uint64_t max, uint64_t *out,
    struct eng_errbuf *eb)
{
	if (s == NULL || load_parse_u64(s, strlen(s), max, out) != 0 || *out < min)
		return eng_errbuf_set(eb, ENG_EINVAL, "--%s must be an integer in %" PRIu64
		    "..%" PRIu64, name, min, max);
	return 0;
}

/** raw args -> config (every default applied).  0 or ENG_EINVAL (eb). */
static int
load_config_build(const struct load_args *a, struct load_config *c, struct eng_errbuf *eb)
{
	uint64_t v;
	int rc;

	memset(c, 0, sizeof(*c));
	if (a->endpoint == NULL || a->instance == NULL || a->access_key == NULL || a->table == NULL)
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "--endpoint, --instance, --access-key and --table are required");
	c->endpoint = a->endpoint;
	c->instance = a->instance;
	c->table = a->table;
	c->record = a->record;
	c->create = a->create;
	c->quiet = a->quiet;
	if (load_access_key_parse(a->access_key, c->ak_id, sizeof(c->ak_id), c->ak_secret,
	    sizeof(c->ak_secret)) != 0)
		return eng_errbuf_set(eb, ENG_EINVAL, "--access-key must be ID:SECRET");
	if (a->pk == NULL || strcmp(a->pk, "string") == 0)
		c->pk_int = 0;
	else if (strcmp(a->pk, "integer") == 0)
		c->pk_int = 1;
	else
		return eng_errbuf_set(eb, ENG_EINVAL, "--pk must be string or integer");
	if (a->shards != NULL) {
		if (!a->create)
			return eng_errbuf_set(eb, ENG_EINVAL, "--shards only goes with --create");
		if ((rc = load_num(a->shards, "shards", 1, 64, &v, eb)) != 0)
			return rc;
		c->shards = (long)v;
	}
	if (a->rate != NULL && load_parse_double(a->rate, &c->rate) != 0)
		return eng_errbuf_set(eb, ENG_EINVAL, "--rate must be a number >= 0");
	if (a->duration != NULL && a->count != NULL)
		return eng_errbuf_set(eb, ENG_EINVAL, "--duration and --count exclude each other");
	if (a->duration != NULL && (load_parse_double(a->duration, &c->duration) != 0 ||
	    c->duration <= 0))
		return eng_errbuf_set(eb, ENG_EINVAL, "--duration must be a number > 0");
	if (a->count != NULL) {
		if ((rc = load_num(a->count, "count", 1, 1ULL << 50, &v, eb)) != 0)
			return rc;
		c->count = (long long)v;
	}
	if ((rc = load_mix_parse(a->mix != NULL ? a->mix : "put=60,update=30,delete=10",
	    a->mix != NULL ? strlen(a->mix) : 26, &c->mix, eb)) != 0)
		return rc;
	c->row_bytes = 200;
	if (a->row_bytes != NULL) {
		if ((rc = load_num(a->row_bytes, "row-bytes", 16, LOAD_MAX_ROW_BYTES, &v, eb)) != 0)
			return rc;
		c->row_bytes = (long)v;
	}
	c->keys = 10000;
	if (a->keys != NULL) {
		if ((rc = load_num(a->keys, "keys", 1, 1ULL << 32, &v, eb)) != 0)
			return rc;
		c->keys = (long long)v;
	}
	c->seed = 1;
	if (a->seed != NULL && (rc = load_num(a->seed, "seed", 0, UINT64_MAX, &c->seed, eb)) != 0)
		return rc;
	if (a->batch != NULL) {
		if ((rc = load_num(a->batch, "batch", 1, LOAD_MAX_BATCH, &v, eb)) != 0)
			return rc;
		c->batch = (long)v;
	} else if (c->rate > 0) {
		c->batch = (long)(c->rate / 10);
		if (c->batch < 1)
			c->batch = 1;
		if (c->batch > LOAD_MAX_BATCH)
			c->batch = LOAD_MAX_BATCH;
	} else {
		c->batch = LOAD_MAX_BATCH;
	}
	if (c->keys < c->batch)
		c->batch = (long)c->keys;
	return 0;
}

#ifndef LOAD_NO_MAIN

/* ---- the run ------------------------------------------------------------------ */

static volatile sig_atomic_t load_stop;

static void
load_on_signal(int sig)
{
	(void)sig;
	load_stop = 1;
}

static int64_t
load_now_us(int clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/** Per-row storage of one batch. */
struct load_slot {
	struct load_change	 ch;
	char			 uid[LOAD_UID_MAX];
	struct buf		 name;
	struct plainbuf_cell	 pk;
	struct plainbuf_cell	 attr;
	struct plainbuf_row	 row;
};

struct load_stats {
	uint64_t	 done[LOAD_NOPS];
	uint64_t	 failed, unknown, commit;
};

/** POST /_emu/cmd "shards TABLE N" (difs-emu only). */
static int
load_emu_shards(const struct load_config *c, struct eng_errbuf *eb)
{
	struct http_transport *t = NULL;
	struct http_response resp;
	struct http_request req = { .method = "POST" };
	char url[1024], body[512];
	int rc, n;

	http_response_init(&resp);
	n = snprintf(url, sizeof(url), "%s/_emu/cmd", c->endpoint);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		rc = eng_errbuf_set(eb, ENG_EINVAL, "endpoint too long");
		goto out;
	}
	n = snprintf(body, sizeof(body), "shards %s %ld", c->table, c->shards);
	if (n < 0 || (size_t)n >= sizeof(body)) {
		rc = eng_errbuf_set(eb, ENG_EINVAL, "table name too long");
		goto out;
	}
	if ((rc = http_curl_new(NULL, &t)) != 0)
		goto out;
	req.url = url;
	req.body = body;
	req.body_len = (uint64_t)n;
	if ((rc = http_perform(t, &req, &resp, eb)) != 0)
		goto out;
	if (resp.status != 200) {
		rc = eng_errbuf_set(eb, ENG_EREMOTE, "difs-emu refused 'shards': HTTP %d %s",
		    resp.status, resp.body.p);
		goto out;
	}
	rc = 0;
out:
	http_response_free(&resp);
	http_transport_free(t);
	return rc;
}

static int
load_create(struct ots *o, const struct load_config *c, struct eng_errbuf *eb)
{
	struct ots_pk_schema pk = { "uid", c->pk_int ? OTS_PK_INTEGER : OTS_PK_STRING, 0 };
	struct ots_create_table req = { 0 };
	struct ots_table_desc *d = NULL;
	struct ots_error err;
	int rc;

	rc = ots_describe_table(o, c->table, &d, &err);
	if (rc == 0) {
		if (!d->stream_enabled)
			fprintf(stderr, "difs-load: warning: table %s exists without a stream\n",
			    c->table);
		ots_table_desc_free(d);
		return 0;
	}
	if (rc != ENG_ENOTFOUND)
		return eng_errbuf_set(eb, rc, "DescribeTable %s: %s", c->table, err.message);
	if (c->shards > 0 && (rc = load_emu_shards(c, eb)) != 0)
		return rc;
	req.table = c->table;
	req.pk = &pk;
	req.npk = 1;
	req.options.ttl = -1;
	req.options.max_versions = 1;
	req.stream.set = 1;
	req.stream.enable = 1;
	req.stream.expiration_hours = 24;
	if ((rc = ots_create_table(o, &req, &err)) != 0 && rc != ENG_ECONFLICT)
		return eng_errbuf_set(eb, rc, "CreateTable %s: %s", c->table, err.message);
	return 0;
}

/** Fill slot s for its change (uid, name value, row). */
static int
load_slot_build(struct load_slot *s, const struct load_config *c)
{
	struct plainbuf_value pkv, val;
	size_t ulen;
	int rc;

	ulen = load_uid_format(s->ch.key, s->uid, sizeof(s->uid));
	if (c->pk_int) {
		pkv = plainbuf_int((int64_t)s->ch.key);
		if (snprintf(s->uid, sizeof(s->uid), "%" PRIu64, s->ch.key) < 0)
			return -EINVAL;
	} else {
		pkv = plainbuf_bytes(PLAINBUF_VT_STRING, s->uid, ulen);
	}
	buf_reset(&s->name);
	if ((rc = load_value_format(c->seed, s->ch.serial, c->row_bytes, ulen, &s->name)) != 0)
		return rc;
	val = plainbuf_bytes(PLAINBUF_VT_STRING, s->name.p, s->name.len);
	plainbuf_cell_set(&s->pk, "uid", &pkv, PLAINBUF_OP_PUT, -1);
	plainbuf_cell_set(&s->attr, "name", &val, PLAINBUF_OP_PUT, -1);
	memset(&s->row, 0, sizeof(s->row));
	s->row.pk = &s->pk;
	s->row.npk = 1;
	if (s->ch.op != LOAD_DELETE) {
		s->row.attrs = &s->attr;
		s->row.nattrs = 1;
	}
	return 0;
}

static int
load_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
load_run(const struct load_config *c, struct load_stats *st, struct eng_errbuf *eb)
{
	static const int batch_ops[LOAD_NOPS] = { OTS_BATCH_PUT, OTS_BATCH_UPDATE, OTS_BATCH_DELETE };
	struct load_slot *slots = NULL;
	struct ots_batch_write *rows = NULL;
	uint64_t taken[LOAD_MAX_BATCH];
	struct sign_cred *cred = NULL;
	struct ots_config oc = { 0 };
	struct load_gen gen = { 0 };
	struct ots *o = NULL;
	struct buf rec;
	int64_t t0, next, last_report;
	int fd = -1, rc;
	long i;

	buf_init(&rec, BUF_MAX_DOC);
	if ((rc = sign_cred_new(c->ak_id, c->ak_secret, NULL, &cred)) != 0)
		goto out;
	oc.endpoint = c->endpoint;
	oc.instance = c->instance;
	oc.cred = cred;
	oc.max_retries = 10;
	if ((rc = ots_new(&oc, &o, eb)) != 0)
		goto out;
	if (c->create && (rc = load_create(o, c, eb)) != 0)
		goto out;
	if (c->record != NULL &&
	    (fd = open(c->record, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		rc = eng_errbuf_set(eb, -errno, "%s: %s", c->record, strerror(errno));
		goto out;
	}
	if ((rc = load_gen_init(&gen, &c->mix, (uint64_t)c->keys, c->seed)) != 0)
		goto out;
	rc = -ENOMEM;
	if ((slots = calloc((size_t)c->batch, sizeof(*slots))) == NULL ||
	    (rows = calloc((size_t)c->batch, sizeof(*rows))) == NULL)
		goto out;
	for (i = 0; i < c->batch; i++)
		buf_init(&slots[i].name, LOAD_MAX_ROW_BYTES + 64);
	t0 = next = last_report = load_now_us(CLOCK_MONOTONIC);
	while (!load_stop) {
		int64_t now = load_now_us(CLOCK_MONOTONIC), send_us, ack_us;
		uint64_t total = st->commit + st->failed;
		struct ots_error err;
		long n = 0, want = c->batch;
		int brc;

		if (c->duration > 0 && now - t0 >= (int64_t)(c->duration * 1e6))
			break;
		if (c->count > 0 && total >= (uint64_t)c->count)
			break;
		if (c->count > 0 && (uint64_t)want > (uint64_t)c->count - total)
			want = (long)((uint64_t)c->count - total);
		if (c->rate > 0) {
			if (next > now) {
				struct timespec ts = { (time_t)((next - now) / 1000000),
				    (long)((next - now) % 1000000) * 1000 };

				nanosleep(&ts, NULL);
				continue;
			}
			next += (int64_t)((double)want * 1e6 / c->rate);
			if (next < now - 1000000)	/* fell behind by > 1 s: don't burst */
				next = now;
		}
		for (n = 0; n < want; n++) {
			if (load_gen_next(&gen, taken, (size_t)n, &slots[n].ch) != 0)
				break;
			taken[n] = slots[n].ch.key;
			if ((rc = load_slot_build(&slots[n], c)) != 0)
				goto out;
			memset(&rows[n], 0, sizeof(rows[n]));
			rows[n].table = c->table;
			rows[n].op = batch_ops[slots[n].ch.op];
			rows[n].row = &slots[n].row;
			rows[n].existence = OTS_IGNORE;
		}
		if (n == 0)
			continue;
		send_us = load_now_us(CLOCK_REALTIME);
		brc = ots_batch_write_row(o, rows, (size_t)n, &err);
		ack_us = load_now_us(CLOCK_REALTIME);
		buf_reset(&rec);
		for (i = 0; i < n; i++) {
			const struct load_slot *s = &slots[i];
			char state;

			if (brc != 0 && !load_outcome_unknown(brc)) {
				st->failed++;	/* refused as a whole: nothing written */
				continue;
			} else if (brc != 0) {
				state = 'u';
				st->unknown++;
			} else if (!rows[i].ok) {
				st->failed++;
				if (st->failed <= 5)
					fprintf(stderr, "difs-load: %s %s refused: %s %s\n",
					    load_op_names[s->ch.op], s->uid, rows[i].error.code,
					    rows[i].error.message);
				continue;
			} else {
				state = 'c';
				st->done[s->ch.op]++;
				load_gen_apply(&gen, &s->ch);
			}
			st->commit++;
			if (fd >= 0 && (rc = load_record_line(&rec, st->commit, state, &s->ch,
			    s->uid, s->ch.op == LOAD_DELETE ? NULL : s->name.p, send_us,
			    ack_us)) != 0)
				goto out;
		}
		if (fd >= 0 && rec.len > 0 && (rc = load_write_all(fd, rec.p, rec.len)) != 0) {
			rc = eng_errbuf_set(eb, rc, "%s: write: %s", c->record, strerror(-rc));
			goto out;
		}
		if (brc != 0) {
			rc = eng_errbuf_set(eb, brc, "BatchWriteRow: %s (%s)", eng_strerror(brc),
			    err.message);
			goto out;
		}
		if (!c->quiet && now - last_report >= 10000000) {
			last_report = now;
			fprintf(stderr, "difs-load: %" PRIu64 " changes, %.0f/s\n", st->commit,
			    (double)st->commit * 1e6 / (double)(now - t0 + 1));
		}
	}
	rc = 0;
out:
	if (slots != NULL)
		for (i = 0; i < c->batch; i++)
			buf_free(&slots[i].name);
	free(slots);
	free(rows);
	load_gen_fini(&gen);
	buf_free(&rec);
	if (fd >= 0)
		(void)close(fd);
	ots_free(o);
	sign_cred_free(cred);
	return rc;
}

int
main(int argc, char **argv)
{
	struct load_stats st = { { 0, 0, 0 }, 0, 0, 0 };
	struct eng_errbuf eb = { "" };
	struct load_config c;
	struct load_args a;
	struct sigaction sa;
	int64_t t0, t1;
	double secs;
	int rc;

	if (load_args_parse(argc, argv, &a, &eb) != 0) {
		fprintf(stderr, "difs-load: %s\n", eb.msg);
		load_usage(stderr);
		return 2;
	}
	if (a.help) {
		load_usage(stdout);
		return 0;
	}
	if (load_config_build(&a, &c, &eb) != 0) {
		fprintf(stderr, "difs-load: %s\n", eb.msg);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = load_on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	t0 = load_now_us(CLOCK_MONOTONIC);
	rc = load_run(&c, &st, &eb);
	t1 = load_now_us(CLOCK_MONOTONIC);
	explicit_bzero(c.ak_secret, sizeof(c.ak_secret));
	secs = (double)(t1 - t0) / 1e6;
	printf("difs-load: %" PRIu64 " changes (put %" PRIu64 ", update %" PRIu64 ", delete %"
	    PRIu64 ", failed %" PRIu64 ", unknown %" PRIu64 ") in %.1f s = %.0f/s\n",
	    st.commit, st.done[LOAD_PUT], st.done[LOAD_UPDATE], st.done[LOAD_DELETE], st.failed,
	    st.unknown, secs, secs > 0 ? (double)st.commit / secs : 0.0);
	if (rc != 0) {
		fprintf(stderr, "difs-load: %s\n", eb.msg[0] != '\0' ? eb.msg : eng_strerror(rc));
		return 1;
	}
	return 0;
}

#endif /* LOAD_NO_MAIN */
