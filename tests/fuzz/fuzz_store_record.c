/* SPDX-License-Identifier: MIT */
/*
 * fuzz_store_record.c - the instance-log record codec and the log reader
 * against arbitrary (corrupt) database contents.
 *
 * 1. Pure codec: store_log_hdr_decode / store_log_rec_decode on the input;
 *    a decoded header must re-encode to the same bytes.
 * 2. Planted contents: the input is a list of chunks [u8 kind][u8 len][len
 *    bytes]; kind bit 0 = 0 plants the bytes as the log header of one
 *    instance, 1 plants them as a record whose key suffix is the chunk's first
 *    8 bytes (zero-padded) and whose value is the rest.  Then stat, read at
 *    several offsets, iterate and append must return an error or sane data,
 *    never touch memory out of bounds.
 * The environment lives in one mkdtemp directory per process (nosync: the
 * fuzzer needs speed, not durability), removed at exit.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fz_ikey[] = "job\0" "20261125120500";
#define FZ_IKLEN (sizeof(fz_ikey) - 1)

/* fuzz-harness state: one environment per process */
static struct store *fz_store;
static char fz_dir[256];

static int
fz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void
fz_cleanup(void)
{
	store_close(fz_store);
	fz_store = NULL;
	if (fz_dir[0] != '\0')
		(void)nftw(fz_dir, fz_rm, 8, FTW_DEPTH | FTW_PHYS);
}

static struct store *
fz_open(void)
{
	struct store_config cfg = { .map_size = 1 << 20, .map_max = 64 << 20, .nosync = true };
	const char *base = getenv("TMPDIR");

	if (fz_store != NULL)
		return fz_store;
	(void)snprintf(fz_dir, sizeof(fz_dir), "%s/difs-fuzz-XXXXXX",
	    base != NULL && base[0] == '/' ? base : "/tmp");
	if (mkdtemp(fz_dir) == NULL || store_open(fz_dir, &cfg, &fz_store, NULL) != 0)
		abort();
	atexit(fz_cleanup);
	return fz_store;
}

struct fz_in {
	const uint8_t	*p;
	size_t		 n;
};

static int
fz_plant(struct store_txn *t, void *arg)
{
	const struct fz_in *in = arg;
	unsigned char k[FZ_IKLEN + 8];
	size_t i = 0;
	int rc;

	if ((rc = store_log_delete(t, fz_ikey, FZ_IKLEN)) != 0)
		return rc;
	memcpy(k, fz_ikey, FZ_IKLEN);
	while (i + 2 <= in->n) {
		uint8_t kind = in->p[i], len = in->p[i + 1];
		const uint8_t *c = in->p + i + 2;
		size_t cl = len <= in->n - i - 2 ? len : in->n - i - 2;

		i += 2 + cl;
		if ((kind & 1) == 0) {
			rc = store_put(t, STORE_DB_LOGS, fz_ikey, FZ_IKLEN, c, cl, 0);
		} else {
			size_t kl = cl < 8 ? cl : 8;

			memset(k + FZ_IKLEN, 0, 8);
			memcpy(k + FZ_IKLEN, c, kl);
			rc = store_put(t, STORE_DB_LOGS, k, sizeof(k), c + kl, cl - kl, 0);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
fz_rec_cb(void *arg, uint64_t seq, uint64_t off, const void *d, size_t len)
{
	volatile unsigned char sink = 0;

	(void)arg; (void)seq; (void)off;
	/* touch every byte so ASan sees out-of-bounds data pointers */
	for (size_t i = 0; i < len; i++)
		sink ^= ((const unsigned char *)d)[i];
	(void)sink;
	return 0;
}

static int
fz_read(struct store_txn *t, void *arg)
{
	unsigned char buf[512];
	uint64_t bytes = 0, recs = 0, offs[5];
	size_t got;

	(void)arg;
	if (store_log_stat(t, fz_ikey, FZ_IKLEN, &bytes, &recs) != 0)
		return 0;
	offs[0] = 0;
	offs[1] = bytes / 2;
	offs[2] = bytes > 0 ? bytes - 1 : 0;
	offs[3] = bytes;
	offs[4] = bytes + 7;
	for (int i = 0; i < 5; i++) {
		if (store_log_read(t, fz_ikey, FZ_IKLEN, offs[i], buf, sizeof(buf), &got) == 0 &&
		    (got > sizeof(buf) || (offs[i] >= bytes && got != 0)))
			abort();
	}
	(void)store_log_iter(t, fz_ikey, FZ_IKLEN, offs[1], fz_rec_cb, NULL);
	for (uint64_t sq = 0; sq < recs && sq < 8; sq++)
		if (store_log_seq_offset(t, fz_ikey, FZ_IKLEN, sq, &offs[0]) == 0 &&
		    offs[0] >= bytes)
			abort();
	return 0;
}

static int
fz_append(struct store_txn *t, void *arg)
{
	uint64_t seq;

	(void)arg;
	return store_log_append(t, fz_ikey, FZ_IKLEN, "x\n", 2, 0, &seq);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_log_hdr h;
	unsigned char enc[STORE_LOG_HDR_LEN];
	struct fz_in in = { data, size };
	struct store *s;
	const void *d;
	uint64_t seq;
	size_t dl;

	if (store_log_hdr_decode(data, size, &h) == 0) {
		struct store_log_hdr h2;

		/* a current header re-encodes to itself; a v1 one (no mtime) to
		 * the same fields with mtime 0 */
		store_log_hdr_encode(&h, enc);
		if ((size == sizeof(enc) && memcmp(enc, data, size) != 0) ||
		    (size != sizeof(enc) && (size != STORE_LOG_HDR_V1_LEN || h.mtime_ms != 0 ||
		    memcmp(enc, data, size) != 0)) || h.records > h.bytes ||
		    store_log_hdr_decode(enc, sizeof(enc), &h2) != 0 ||
		    h2.records != h.records || h2.bytes != h.bytes || h2.mtime_ms != h.mtime_ms)
			abort();
	}
	if (store_log_rec_decode(data, size, &seq, &d, &dl) == 0 &&
	    (dl == 0 || dl + STORE_LOG_REC_HDR != size || d != data + STORE_LOG_REC_HDR))
		abort();

	s = fz_open();
	if (store_update(s, fz_plant, &in) != 0)
		return 0;
	(void)store_view(s, fz_read, NULL);
	if (store_update(s, fz_append, NULL) != 0)
		return 0;
	(void)store_view(s, fz_read, NULL);
	return 0;
}
