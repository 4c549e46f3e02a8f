/* SPDX-License-Identifier: MIT */
/*
 * store_crash.c - the state store survives SIGKILL at any moment.
 *
 * A child commits transactions in a loop.  Transaction N writes, in one
 * store_update:
 *   instances   "crash\0" + 14-digit N  -> record(N): seq, length, payload
 *                                          derived from N, FNV-1a checksum
 *   checkpoints "seq"                   -> BE64 N, BE32 checksum of record(N)
 *   logs        "crash\0" + 14 zeros    <- one line "seq=N sum=XXXXXXXX\n"
 * and only after store_update returned 0 writes N to a pipe.  The map starts
 * at 64 KiB, so kills also land during map growth.  The parent SIGKILLs the
 * child after a random delay (>= 50 times), then reopens the environment and
 * checks: every reported N is present and intact; at most one more (the
 * commit in flight when the kill came) and then complete in all three
 * databases; sequence numbers contiguous from 1; nothing beyond.
 * Seed: $STORE_CRASH_SEED (decimal) or time ^ pid, printed for replay.
 */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "tap.h"

#define KILLS		60
#define MAX_PAYLOAD	6000
#define TIME_BUDGET	50.0	/* seconds; stop adding rounds after this */

static const char log_key[] = "crash\0" "00000000000000";
#define LOG_KEY_LEN	(sizeof(log_key) - 1)

static uint32_t
fnv1a(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

static void
be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t
rd64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* record(N): BE64 N, BE32 len, len payload bytes, BE32 fnv1a(all before) */
static size_t
make_record(uint64_t seq, unsigned char *out)
{
	uint64_t x = seq * 0x9E3779B97F4A7C15ull + 1;
	size_t len = 1 + (size_t)((seq * 2654435761u) % MAX_PAYLOAD);

	be64(out, seq);
	be32(out + 8, (uint32_t)len);
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		out[12 + i] = (unsigned char)x;
	}
	be32(out + 12 + len, fnv1a(out, 12 + len));
	return 16 + len;
}

static void
inst_key(uint64_t seq, char *k)
{
	memcpy(k, "crash", 6);	/* with the NUL */
	(void)snprintf(k + 6, 15, "%014llu", (unsigned long long)seq);
}

/* ---- child ------------------------------------------------------------------- */

struct child_txn {
	uint64_t	 seq;
	unsigned char	 rec[16 + MAX_PAYLOAD];
};

static int
child_commit(struct store_txn *t, void *arg)
{
	struct child_txn *c = arg;
	unsigned char ck[12];
	char k[24], line[64];
	size_t rl = make_record(c->seq, c->rec);
	uint32_t sum = fnv1a(c->rec, rl);
	int rc, n;

	inst_key(c->seq, k);
	be64(ck, c->seq);
	be32(ck + 8, sum);
	n = snprintf(line, sizeof(line), "seq=%llu sum=%08x\n", (unsigned long long)c->seq, sum);
	if ((rc = store_put(t, STORE_DB_INSTANCES, k, 20, c->rec, rl,
	    STORE_PUT_NOOVERWRITE)) != 0 ||
	    (rc = store_put(t, STORE_DB_CHECKPOINTS, "seq", 3, ck, sizeof(ck), 0)) != 0)
		return rc;
	return store_log_append(t, log_key, LOG_KEY_LEN, line, (size_t)n, 0, NULL);
}

static int
child_last(struct store_txn *t, void *arg)
{
	const void *v;
	size_t vl;
	int rc = store_get(t, STORE_DB_CHECKPOINTS, "seq", 3, &v, &vl);

	if (rc == -ENOENT) {
		*(uint64_t *)arg = 0;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (vl != 12)
		return ENG_ECORRUPT;
	*(uint64_t *)arg = rd64(v);
	return 0;
}

static void __attribute__((noreturn))
child_main(const char *dir, int wfd)
{
	struct store_config cfg = { .map_size = 64 << 10, .map_max = 1 << 30, .exclusive = true };
	struct child_txn *c = malloc(sizeof(*c));
	struct store *s = NULL;
	int rc;

	if (c == NULL || store_open(dir, &cfg, &s, NULL) != 0 ||
	    store_view(s, child_last, &c->seq) != 0)
		_exit(2);
	for (;;) {
		c->seq++;
		if ((rc = store_update(s, child_commit, c)) != 0) {
			fprintf(stderr, "child: commit %llu: %s\n",
			    (unsigned long long)c->seq, eng_strerror(rc));
			_exit(3);
		}
		if (write(wfd, &c->seq, sizeof(c->seq)) != (ssize_t)sizeof(c->seq))
			_exit(4);
	}
}

/* ---- parent: verification -------------------------------------------------- */

struct verify {
	uint64_t	 ckpt;		/* checkpoint seq, 0 when none */
	uint64_t	 n_inst;	/* instance records seen */
	uint64_t	 bad;		/* problems found */
	uint64_t	 log_recs;
	char		 why[200];
	unsigned char	 rec[16 + MAX_PAYLOAD];
};

static void
vfail(struct verify *v, const char *what, uint64_t seq)
{
	if (v->bad++ == 0)
		(void)snprintf(v->why, sizeof(v->why), "%s at seq %llu", what,
		    (unsigned long long)seq);
}

static int
verify_inst(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct verify *v = arg;
	uint64_t want = v->n_inst + 1;
	char k[24];
	size_t rl;

	inst_key(want, k);
	if (klen != 20 || memcmp(key, k, 20) != 0) {
		vfail(v, "instance keys not contiguous", want);
		return 1;
	}
	rl = make_record(want, v->rec);
	if (vlen != rl || memcmp(val, v->rec, rl) != 0 ||
	    fnv1a(val, vlen - 4) != rd32((const unsigned char *)val + vlen - 4))
		vfail(v, "instance record damaged", want);
	v->n_inst++;
	return 0;
}

static int
verify_log(void *arg, uint64_t seq, uint64_t off, const void *data, size_t len)
{
	struct verify *v = arg;
	char line[64];
	size_t rl;
	int n;

	(void)off;
	if (seq != v->log_recs) {
		vfail(v, "log sequence gap", seq);
		return 1;
	}
	rl = make_record(seq + 1, v->rec);
	n = snprintf(line, sizeof(line), "seq=%llu sum=%08x\n",
	    (unsigned long long)(seq + 1), fnv1a(v->rec, rl));
	if (len != (size_t)n || memcmp(data, line, len) != 0)
		vfail(v, "log line damaged", seq + 1);
	v->log_recs++;
	return 0;
}

static int
verify_fn(struct store_txn *t, void *arg)
{
	struct verify *v = arg;
	const void *val;
	size_t vl;
	uint64_t bytes, recs;
	int rc;

	v->ckpt = 0;
	v->n_inst = v->log_recs = v->bad = 0;
	rc = store_get(t, STORE_DB_CHECKPOINTS, "seq", 3, &val, &vl);
	if (rc == 0) {
		if (vl != 12) {
			vfail(v, "checkpoint size", 0);
			return 0;
		}
		v->ckpt = rd64(val);
		if (rd32((const unsigned char *)val + 8) !=
		    fnv1a(v->rec, make_record(v->ckpt, v->rec)))
			vfail(v, "checkpoint checksum", v->ckpt);
	} else if (rc != -ENOENT) {
		return rc;
	}
	if ((rc = store_iter(t, STORE_DB_INSTANCES, "crash", 6, NULL, 0, 0,
	    verify_inst, v)) != 0)
		return rc;
	if ((rc = store_log_stat(t, log_key, LOG_KEY_LEN, &bytes, &recs)) != 0 ||
	    (rc = store_log_iter(t, log_key, LOG_KEY_LEN, 0, verify_log, v)) != 0)
		return rc;
	if (v->n_inst != v->ckpt)
		vfail(v, "instance count differs from checkpoint", v->n_inst);
	if (v->log_recs != v->ckpt || recs != v->ckpt)
		vfail(v, "log record count differs from checkpoint", v->log_recs);
	return 0;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned
get_seed(void)
{
	const char *e = getenv("STORE_CRASH_SEED");
	unsigned long v = 0;

	if (e != NULL && *e != '\0') {
		for (const char *p = e; *p != '\0'; p++) {
			if (*p < '0' || *p > '9' || v > 0xffffffffUL / 10)
				return 1;
			v = v * 10 + (unsigned long)(*p - '0');
		}
		return (unsigned)v;
	}
	return (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
}

int
main(void)
{
	struct store_config cfg = { .map_size = 64 << 10, .map_max = 1 << 30, .exclusive = true };
	char dir[256];
	const char *base = getenv("TMPDIR");
	struct verify *v = calloc(1, sizeof(*v));
	struct eng_errbuf eb = { "" };
	unsigned seed = get_seed();
	uint64_t reported = 0, inflight_seen = 0;
	double t0 = now_s();
	int round, rounds = 0, failed_rounds = 0;

	printf("# seed %u (set STORE_CRASH_SEED to replay)\n", seed);
	(void)snprintf(dir, sizeof(dir), "%s/difs-crash-XXXXXX",
	    base != NULL && base[0] == '/' ? base : "/tmp");
	if (v == NULL || mkdtemp(dir) == NULL) {
		printf("Bail out! setup failed\n");
		return 1;
	}
	for (round = 0; round < KILLS; round++) {
		struct store *s = NULL;
		int p[2], status, rc;
		unsigned r = (unsigned)rand_r(&seed);
		useconds_t delay;
		uint64_t seq, first = reported + 1, got = 0;
		pid_t pid;

		rounds++;
		/* 20% very early (during open/recovery), 50% short, 30% longer */
		if (r % 10 < 2)
			delay = (useconds_t)(r / 10 % 2000);
		else if (r % 10 < 7)
			delay = (useconds_t)(2000 + r / 10 % 28000);
		else
			delay = (useconds_t)(30000 + r / 10 % 90000);
		if (pipe(p) != 0) {
			printf("Bail out! pipe: %s\n", strerror(errno));
			return 1;
		}
		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			printf("Bail out! fork: %s\n", strerror(errno));
			return 1;
		}
		if (pid == 0) {
			close(p[0]);
			child_main(dir, p[1]);
		}
		close(p[1]);
		usleep(delay);
		kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		/* the child reported each commit after it returned; all in order */
		while (read(p[0], &seq, sizeof(seq)) == (ssize_t)sizeof(seq)) {
			if (seq != first + got)
				vfail(v, "child reported out of order", seq);
			got++;
		}
		close(p[0]);
		if (WIFEXITED(status)) {
			printf("# child exited with %d instead of being killed\n",
			    WEXITSTATUS(status));
			failed_rounds++;
		}
		reported += got;

		rc = store_open(dir, &cfg, &s, &eb);
		if (rc != 0) {
			ok(0, "round %d: reopen after kill: %s (%s)", round, eng_strerror(rc), eb.msg);
			failed_rounds++;
			continue;
		}
		v->bad = 0;
		rc = store_view(s, verify_fn, v);
		store_close(s);
		if (v->ckpt == reported + 1)
			inflight_seen++;
		if (!ok(rc == 0 && v->bad == 0 && (v->ckpt == reported || v->ckpt == reported + 1),
		    "round %d: killed after %u us; %llu reported, %llu durable, all intact",
		    round, (unsigned)delay, (unsigned long long)reported,
		    (unsigned long long)v->ckpt)) {
			printf("#   rc=%s problems=%llu first: %s\n", eng_strerror(rc),
			    (unsigned long long)v->bad, v->why);
			failed_rounds++;
		}
		/* the next child continues from what is durable */
		reported = v->ckpt;
		if (now_s() - t0 > TIME_BUDGET)
			break;
	}
	ok(rounds >= 50, "at least 50 kills (%d done in %.1f s)", rounds, now_s() - t0);
	ok(reported > 0, "the children committed %llu transactions in total",
	    (unsigned long long)reported);
	printf("# %llu kill(s) landed between commit and report\n",
	    (unsigned long long)inflight_seen);
	is_int(failed_rounds, 0, "no failed rounds");
	(void)nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(v);
	return done_testing();
}
