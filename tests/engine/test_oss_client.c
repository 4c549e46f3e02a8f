/* SPDX-License-Identifier: MIT */
/*
 * test_oss_client.c - the C OSS client (engine/oss/oss.h, real libcurl
 * transport) against difs-emu's OSS side: the ali-oss conformance scenario
 * (put, get incl. range, head, list v2 with paging and url encoding,
 * multipart incl. abort and list parts, append incl. the 409 path, delete
 * and delete-multiple, keys with spaces, '+', unicode and '/', wrong secret)
 * with V1 and with V4, then the fault cases: retry after injected 503s,
 * connections dropped mid-part and a Complete answer lost mid-body (object
 * byte-identical, checked by CRC-64), and Abort on failure leaving no
 * multipart upload behind.
 *
 *   test_oss_client PATH/TO/difs-emu
 *
 * The runner part starts difs-emu on a free loopback port with a fresh data
 * directory and stops it at the end.  Exit 77 (skip) only when the difs-emu
 * binary is absent.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc64.h"
#include "emu_harness.h"
#include "oss.h"
#include "tap.h"

#define AK	"AKIDEXAMPLE"
#define SK	"SECRETEXAMPLE"
#define BUCKET	"difs-test"

static struct th_emu g_emu = TH_EMU_INIT;

/* ---- helpers ----------------------------------------------------------------------- */

static struct sign_cred *g_cred, *g_bad;

static struct oss *
mk(enum oss_sigver v, const struct sign_cred *cred, unsigned retries, unsigned parallel)
{
	struct oss_config cfg;
	struct oss *oss = NULL;
	struct eng_errbuf eb;

	oss_config_defaults(&cfg);
	cfg.endpoint = g_emu.oss_url;
	cfg.bucket = BUCKET;
	cfg.cred = cred;
	cfg.sigver = v;
	cfg.max_retries = retries;
	cfg.retry_base_ms = 10;
	cfg.retry_max_ms = 100;
	cfg.part_size = OSS_PART_MIN;
	cfg.parallel = parallel;
	cfg.timeout_ms = 30000;
	if (oss_new(&cfg, &oss, &eb) != 0) {
		printf("# oss_new: %s\n", eb.msg);
		return NULL;
	}
	return oss;
}

static void
diag(const char *what, int rc, const struct oss_error *e)
{
	char line[600];

	if (rc == 0)
		return;
	oss_error_format(e, line, sizeof(line));
	printf("# %s: %s\n", what, line);
}

static int
put_str(struct oss *oss, const char *key, const char *s)
{
	struct oss_src src = oss_src_mem(s, strlen(s));
	struct oss_put_result pr;
	struct oss_error e;
	int rc = oss_put(oss, key, &src, NULL, &pr, &e);

	diag(key, rc, &e);
	return rc;
}

static char *
get_str(struct oss *oss, const char *key, const struct oss_get_opts *go)
{
	struct buf b;
	struct oss_error e;
	int rc;

	buf_init(&b, BUF_MAX_BODY);
	if ((rc = oss_get(oss, key, go, &b, NULL, &e)) != 0) {
		diag(key, rc, &e);
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b, NULL);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t
count_uploads(struct oss *oss, const char *prefix)
{
	struct oss_error e;
	size_t n = (size_t)-1;
	int rc = oss_mpu_list_uploads(oss, prefix, &n, NULL, &e);

	diag("ListMultipartUploads", rc, &e);
	return rc == 0 ? n : (size_t)-1;
}

/* ---- the conformance scenario ------------------------------------------------------- */

static void
scenario(enum oss_sigver v)
{
	const char *pfx = v == OSS_SIG_V4 ? "v4" : "v1";
	struct oss *oss = mk(v, g_cred, 2, 4), *bad;
	struct oss_error e;
	struct oss_head h;
	struct oss_get_opts go;
	char key[256], key2[256], *s;
	int rc;

	printf("# ---- scenario with signature V%d ----\n", (int)v);
	if (!ok(oss != NULL, "V%d client", (int)v))
		return;

	/* put / get / range / head, awkward key */
	snprintf(key, sizeof(key), "%s/dir/a b+c \xe4\xb8\xad.csv", pfx);
	is_rc(put_str(oss, key, "id,name\n1,\"x,y\"\n"), 0, "put key with space, '+', unicode, '/'");
	s = get_str(oss, key, NULL);
	is_str(s, "id,name\n1,\"x,y\"\n", "get returns the bytes");
	free(s);
	memset(&go, 0, sizeof(go));
	go.range = true;
	go.first = 3;
	go.last = 6;
	s = get_str(oss, key, &go);
	is_str(s, "name", "range get bytes=3-6");
	free(s);
	go.last = UINT64_MAX;
	go.first = 8;
	s = get_str(oss, key, &go);
	is_str(s, "1,\"x,y\"\n", "open range bytes=8-");
	free(s);
	rc = oss_head(oss, key, &h, &e);
	is_rc(rc, 0, "head");
	is_int(h.size, 16, "head size");
	ok(h.has_crc64 && h.crc64 == crc64_compute("id,name\n1,\"x,y\"\n", 16), "head CRC-64");
	ok(h.etag[0] == '"', "quoted ETag %s", h.etag);
	snprintf(key2, sizeof(key2), "%s/missing", pfx);
	is_rc(oss_head(oss, key2, &h, &e), ENG_ENOTFOUND, "head of a missing key");
	s = get_str(oss, key2, NULL);
	ok(s == NULL, "get of a missing key fails");
	{
		struct buf b;

		buf_init(&b, 1024);
		is_rc(oss_get(oss, key2, NULL, &b, NULL, &e), ENG_ENOTFOUND,
		    "get of a missing key: ENG_ENOTFOUND");
		buf_free(&b);
	}
	is_str(e.code, "NoSuchKey", "NoSuchKey");
	ok(e.request_id[0] != '\0', "request id reported (%s)", e.request_id);

	/* forbid overwrite */
	{
		struct oss_src src = oss_src_mem("zz", 2);
		struct oss_put_opts po = { .forbid_overwrite = true };

		is_rc(oss_put(oss, key, &src, &po, NULL, &e), ENG_ECONFLICT,
		    "x-oss-forbid-overwrite on an existing key");
		is_str(e.code, "FileAlreadyExists", "FileAlreadyExists");
	}

	/* list v2: paging, url encoding, delimiter */
	{
		static const char *const names[] = {
			"list/a b.txt", "list/a+b.txt", "list/sub/x.txt", "list/\xc3\xa9t\xc3\xa9.txt",
			"list/z&<>.txt", "list/%41.txt", "list/sub/y z.txt",
		};
		char *want[8], *got[16];
		struct oss_list_opts lo;
		struct oss_list_page pg;
		size_t i, ngot = 0, pages = 0, nw = sizeof(names) / sizeof(names[0]);
		char lp[32];

		for (i = 0; i < nw; i++) {
			char k[128];

			snprintf(k, sizeof(k), "%s/%s", pfx, names[i]);
			want[i] = strdup(k);
			(void)put_str(oss, k, names[i]);
		}
		qsort(want, nw, sizeof(want[0]), cmp_str);
		snprintf(lp, sizeof(lp), "%s/list/", pfx);
		memset(&lo, 0, sizeof(lo));
		lo.prefix = lp;
		lo.max_keys = 2;
		char *token = NULL;
		do {
			lo.continuation_token = token;
			rc = oss_list(oss, &lo, &pg, &e);
			diag("list", rc, &e);
			if (rc != 0)
				break;
			pages++;
			for (i = 0; i < pg.nobjs && ngot < 16; i++)
				got[ngot++] = strdup(pg.objs[i].key);
			free(token);
			token = pg.next_token != NULL ? strdup(pg.next_token) : NULL;
			ok(pg.nobjs <= 2, "page holds at most max-keys");
			oss_list_page_free(&pg);
		} while (token != NULL && pages < 10);
		free(token);
		is_rc(rc, 0, "list v2 pages");
		is_int(pages, 4, "7 keys in pages of 2");
		is_int(ngot, nw, "every key listed once");
		for (i = 0; i < ngot && i < nw; i++)
			is_str(got[i], want[i], "key %zu in byte order, decoded", i);
		for (i = 0; i < ngot; i++)
			free(got[i]);
		lo.max_keys = 0;
		lo.delimiter = "/";
		lo.continuation_token = NULL;
		rc = oss_list(oss, &lo, &pg, &e);
		is_rc(rc, 0, "list with delimiter");
		is_int(pg.nobjs, 5, "five objects directly under list/");
		is_int(pg.nprefixes, 1, "one common prefix");
		if (pg.nprefixes == 1) {
			char cp[64];

			snprintf(cp, sizeof(cp), "%s/list/sub/", pfx);
			is_str(pg.prefixes[0], cp, "common prefix decoded");
		}
		oss_list_page_free(&pg);

		/* delete-multiple (plus one key that does not exist) */
		{
			const char *dk[9];
			struct oss_delete_fail *fails = NULL;
			size_t nfails = 0;
			char ghost[64];

			for (i = 0; i < nw; i++)
				dk[i] = want[i];
			snprintf(ghost, sizeof(ghost), "%s/list/ghost", pfx);
			dk[nw] = ghost;
			rc = oss_delete_many(oss, dk, nw + 1, &fails, &nfails, &e);
			diag("delete-multiple", rc, &e);
			is_rc(rc, 0, "delete-multiple");
			is_int(nfails, 0, "no per-key failures");
			oss_delete_fails_free(fails, nfails);
			lo.delimiter = NULL;
			rc = oss_list(oss, &lo, &pg, &e);
			ok(rc == 0 && pg.nobjs == 0, "listing empty after delete-multiple");
			oss_list_page_free(&pg);
		}
		for (i = 0; i < nw; i++)
			free(want[i]);
	}

	/* delete */
	is_rc(oss_delete(oss, key, &e), 0, "delete");
	is_rc(oss_head(oss, key, &h, &e), ENG_ENOTFOUND, "gone after delete");
	is_rc(oss_delete(oss, key, &e), 0, "delete of a missing key is 204 too");

	/* multipart by hand: list parts, complete; and abort */
	{
		size_t n1 = OSS_PART_MIN + 7, n2 = 333;
		char *d = malloc(n1 + n2), *id = NULL;
		struct oss_part parts[2];
		struct oss_parts_page pp;
		struct oss_put_result pr;
		struct oss_src s1, s2;
		size_t i;

		for (i = 0; i < n1 + n2; i++)
			d[i] = (char)('a' + i % 23);
		s1 = oss_src_mem(d, n1);
		s2 = oss_src_mem(d + n1, n2);
		snprintf(key, sizeof(key), "%s/mp/obj \xe4\xb8\xad+1.bin", pfx);
		rc = oss_mpu_init(oss, key, NULL, &id, &e);
		diag("init", rc, &e);
		is_rc(rc, 0, "initiate");
		is_rc(oss_mpu_part(oss, key, id, 1, &s1, &parts[0], &e), 0, "part 1");
		is_rc(oss_mpu_part(oss, key, id, 2, &s2, &parts[1], &e), 0, "part 2 (short, last)");
		rc = oss_mpu_list_parts(oss, key, id, 0, &pp, &e);
		is_rc(rc, 0, "list parts");
		is_int(pp.nparts, 2, "two parts listed");
		if (pp.nparts == 2) {
			is_int(pp.parts[0].size, n1, "part 1 size");
			is_str(pp.parts[1].etag, parts[1].etag, "part 2 ETag");
		}
		oss_parts_page_free(&pp);
		ok(count_uploads(oss, pfx) == 1, "one upload in progress");
		rc = oss_mpu_complete(oss, key, id, parts, 2, NULL, &pr, &e);
		diag("complete", rc, &e);
		is_rc(rc, 0, "complete (CRC of parts combined = object CRC)");
		is_int(pr.crc64, crc64_compute(d, n1 + n2), "object CRC");
		is_int(count_uploads(oss, pfx), 0, "no upload left after Complete");
		s = get_str(oss, key, NULL);
		ok(s != NULL && memcmp(s, d, n1 + n2) == 0, "multipart object reads back");
		free(s);
		free(id);
		id = NULL;

		snprintf(key2, sizeof(key2), "%s/mp/aborted", pfx);
		is_rc(oss_mpu_init(oss, key2, NULL, &id, &e), 0, "initiate (to abort)");
		is_rc(oss_mpu_part(oss, key2, id, 1, &s1, &parts[0], &e), 0, "part");
		is_rc(oss_mpu_abort(oss, key2, id, &e), 0, "abort");
		is_rc(oss_mpu_list_parts(oss, key2, id, 0, &pp, &e), ENG_ENOTFOUND,
		    "list parts after abort: NoSuchUpload");
		is_rc(oss_head(oss, key2, &h, &e), ENG_ENOTFOUND, "aborted upload left no object");
		is_int(count_uploads(oss, pfx), 0, "no upload left after Abort");
		free(id);
		free(d);
	}

	/* append incl. the 409 path */
	{
		struct oss_append_result ar;
		struct oss_src a = oss_src_mem("hello", 5), b = oss_src_mem("world", 5);

		snprintf(key, sizeof(key), "%s/app/log 1.txt", pfx);
		rc = oss_append(oss, key, 0, &a, NULL, NULL, &ar, &e);
		diag("append", rc, &e);
		is_rc(rc, 0, "append at 0 creates");
		is_int(ar.next_position, 5, "next position 5");
		is_rc(oss_append(oss, key, ar.next_position, &b, &ar.crc64, NULL, &ar, &e), 0,
		    "append at 5 with the running CRC");
		is_int(ar.next_position, 10, "next position 10");
		is_int(ar.crc64, crc64_compute("helloworld", 10), "CRC of the whole object");
		is_rc(oss_append(oss, key, 5, &b, NULL, NULL, &ar, &e), ENG_ECONFLICT,
		    "append at a stale position");
		ok(e.has_next_append && e.next_append == 10, "next position reported (%" PRIu64 ")",
		    e.next_append);
		is_rc(oss_append(oss, key, 10, &b, NULL, NULL, &ar, &e), 0,
		    "append with unknown CRC reads it with HEAD");
		s = get_str(oss, key, NULL);
		is_str(s, "helloworldworld", "appended object");
		free(s);
		rc = oss_head(oss, key, &h, &e);
		is_str(h.type, "Appendable", "object type Appendable");
		snprintf(key2, sizeof(key2), "%s/app/normal", pfx);
		(void)put_str(oss, key2, "n");
		is_rc(oss_append(oss, key2, 1, &b, NULL, NULL, &ar, &e), ENG_ECONFLICT,
		    "append to a Normal object");
	}

	/* streaming upload: small and multipart */
	{
		size_t total = 5 * OSS_PART_MIN + 4321, i, k;
		char *d = malloc(total);
		struct oss_upload *up = NULL;
		struct oss_put_result pr;

		for (i = 0; i < total; i++)
			d[i] = (char)(i * 7 + (i >> 11));
		snprintf(key, sizeof(key), "%s/up/stream.csv", pfx);
		is_rc(oss_upload_new(oss, key, NULL, &up), 0, "upload_new");
		for (i = 0; i < total; i += k) {
			k = total - i < 10000 ? total - i : 10000;
			if (oss_upload_write(up, d + i, k) != 0)
				break;
		}
		rc = oss_upload_finish(up, &pr);
		diag("upload", rc, oss_upload_error(up));
		is_rc(rc, 0, "streamed multipart upload");
		is_int(pr.size, total, "size");
		is_int(pr.crc64, crc64_compute(d, total), "CRC-64");
		oss_upload_free(up);
		rc = oss_head(oss, key, &h, &e);
		ok(rc == 0 && h.crc64 == crc64_compute(d, total), "stored CRC matches");
		free(d);
	}

	/* wrong secret */
	bad = mk(v, g_bad, 0, 1);
	snprintf(key, sizeof(key), "%s/denied", pfx);
	{
		struct oss_src src = oss_src_mem("x", 1);

		is_rc(oss_put(bad, key, &src, NULL, NULL, &e), ENG_ESIG, "wrong secret refused");
		is_str(e.code, "SignatureDoesNotMatch", "SignatureDoesNotMatch");
		is_int(e.status, 403, "403");
	}
	oss_free(bad);
	oss_free(oss);
}

/* ---- faults ------------------------------------------------------------------------- */

static void
faults(void)
{
	struct oss *oss = mk(OSS_SIG_V4, g_cred, 4, 3);
	size_t total = 4 * OSS_PART_MIN + 999, i, k;
	char *d = malloc(total);
	struct oss_upload *up = NULL;
	struct oss_put_result pr;
	struct oss_error e;
	struct oss_head h;
	long nf;
	int rc;

	printf("# ---- fault injection ----\n");
	if (!ok(oss != NULL && d != NULL, "client")) {
		oss_free(oss);
		free(d);
		return;
	}
	for (i = 0; i < total; i++)
		d[i] = (char)(i * 13 + (i >> 7));

	/* 503s then success */
	is_rc(th_emu_post(g_emu.oss_url, "fault",
	    "op=PutObject,error=ServiceUnavailable,status=503,count=2"), 0,
	    "inject two 503s");
	{
		struct oss_src src = oss_src_mem(d, 1000);

		rc = oss_put(oss, "faults/put503", &src, NULL, &pr, &e);
		diag("put after 503s", rc, &e);
		is_rc(rc, 0, "put succeeds after two 503s");
		is_int(e.attempts, 3, "three attempts");
	}
	is_rc(th_emu_post(g_emu.oss_url, "fault",
	    "op=PutObject,error=SlowDown,status=503"), 0, "inject endless SlowDown");
	{
		struct oss_src src = oss_src_mem(d, 10);

		is_rc(oss_put(oss, "faults/throttled", &src, NULL, &pr, &e), ENG_ETHROTTLE,
		    "throttled until retries run out");
		is_int(e.attempts, 5, "1 + max_retries attempts");
		is_str(e.code, "SlowDown", "code kept");
	}
	is_rc(th_emu_post(g_emu.oss_url, "fault/clear", ""), 0, "clear faults");

	/* connections dropped mid-part and a Complete answer cut mid-body */
	nf = th_emu_stat(g_emu.oss_url, "oss.faults");
	is_rc(th_emu_post(g_emu.oss_url, "fault",
	    "op=UploadPart,drop,count=2"), 0, "drop two UploadPart connections");
	is_rc(th_emu_post(g_emu.oss_url, "fault",
	    "op=UploadPart,reset,count=1"), 0, "reset one UploadPart answer");
	is_rc(th_emu_post(g_emu.oss_url, "fault",
	    "op=CompleteMultipartUpload,reset,count=1"), 0,
	    "reset the Complete answer mid-body");
	is_rc(oss_upload_new(oss, "faults/big.bin", NULL, &up), 0, "upload_new");
	for (i = 0; i < total; i += k) {
		k = total - i < 65536 ? total - i : 65536;
		if (oss_upload_write(up, d + i, k) != 0)
			break;
	}
	rc = oss_upload_finish(up, &pr);
	diag("upload with faults", rc, oss_upload_error(up));
	is_rc(rc, 0, "upload survives dropped parts and a lost Complete answer");
	is_int(th_emu_stat(g_emu.oss_url, "oss.faults") - nf, 4, "all four faults were injected");
	oss_upload_free(up);
	rc = oss_head(oss, "faults/big.bin", &h, &e);
	ok(rc == 0 && h.size == total && h.crc64 == crc64_compute(d, total),
	    "stored object byte-identical (CRC-64)");
	{
		char *s = get_str(oss, "faults/big.bin", NULL);

		ok(s != NULL && memcmp(s, d, total) == 0, "and reads back identical");
		free(s);
	}
	is_rc(th_emu_post(g_emu.oss_url, "fault/clear", ""), 0, "clear faults");

	/* a part that keeps failing: the upload is aborted, nothing left */
	is_rc(th_emu_post(g_emu.oss_url, "fault",
	    "op=UploadPart,error=InternalError,status=500"), 0,
	    "UploadPart always fails");
	is_rc(oss_upload_new(oss, "faults/aborted.bin", NULL, &up), 0, "upload_new");
	for (i = 0; i < total; i += k) {
		k = total - i < 65536 ? total - i : 65536;
		if (oss_upload_write(up, d + i, k) != 0)
			break;
	}
	rc = oss_upload_finish(up, &pr);
	ok(rc != 0, "upload fails");
	is_str(oss_upload_error(up)->code, "InternalError", "error carries OSS's code");
	oss_upload_free(up);
	is_rc(th_emu_post(g_emu.oss_url, "fault/clear", ""), 0, "clear faults");
	is_int(count_uploads(oss, "faults/"), 0, "Abort on failure: no multipart upload left");
	is_rc(oss_head(oss, "faults/aborted.bin", &h, &e), ENG_ENOTFOUND, "and no object");

	/* cancel while writing: free() aborts */
	is_rc(oss_upload_new(oss, "faults/cancel.bin", NULL, &up), 0, "upload_new");
	is_rc(oss_upload_write(up, d, 3 * OSS_PART_MIN), 0, "write 3 parts");
	oss_upload_cancel(up);
	is_rc(oss_upload_write(up, d, 1), ENG_EKILLED, "cancelled");
	oss_upload_free(up);
	is_int(count_uploads(oss, "faults/"), 0, "cancelled upload aborted");

	/* a process killed mid-upload leaves uploads; abort_all cleans up */
	{
		char *id1 = NULL, *id2 = NULL;
		struct oss_part part;
		struct oss_src src = oss_src_mem(d, OSS_PART_MIN);
		size_t n = 0;

		is_rc(oss_mpu_init(oss, "faults/killed/a \xe4\xb8\xad", NULL, &id1, &e), 0,
		    "left-over upload 1");
		is_rc(oss_mpu_part(oss, "faults/killed/a \xe4\xb8\xad", id1, 1, &src, &part, &e),
		    0, "with a part");
		is_rc(oss_mpu_init(oss, "faults/killed/b+c", NULL, &id2, &e), 0,
		    "left-over upload 2");
		is_int(count_uploads(oss, "faults/killed/"), 2, "two uploads left");
		is_rc(oss_mpu_abort_all(oss, "faults/killed/", &n, &e), 0, "abort_all");
		is_int(n, 2, "two aborted");
		is_int(count_uploads(oss, "faults/"), 0, "nothing left");
		free(id1);
		free(id2);
	}
	oss_free(oss);
	free(d);
}

int
main(int argc, char **argv)
{
	const struct th_emu_opts emu_opts = {
		.name = "difs-oss-client",
		.access_key = AK ":" SK,
		.oss_bucket = BUCKET,
		.sync_off = true,
	};

	if (argc < 2 || access(argv[1], X_OK) != 0) {
		printf("1..0 # SKIP difs-emu binary not found (%s)\n",
		    argc < 2 ? "no path given" : argv[1]);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	if (th_emu_start(&g_emu, argv[1], &emu_opts) != 0) {
		ok(0, "difs-emu starts and prints its OSS port");
		th_emu_stop(&g_emu);
		return done_testing();
	}
	printf("# difs-emu OSS at %s, data in %s\n", g_emu.oss_url, g_emu.dir);
	if (sign_cred_new(AK, SK, NULL, &g_cred) != 0 ||
	    sign_cred_new(AK, "wrong-secret", NULL, &g_bad) != 0)
		return 1;
	scenario(OSS_SIG_V1);
	scenario(OSS_SIG_V4);
	faults();
	sign_cred_free(g_cred);
	sign_cred_free(g_bad);
	th_emu_stop(&g_emu);
	return done_testing();
}
