/* SPDX-License-Identifier: MIT */
/*
 * fuzz_emu_ots_request.c - difs-emu's Table Store request path: header
 * checks, MD5, V2 signature verification, protobuf decoding of every
 * operation, PlainBuffer rows, the row/stream logic and the admin commands,
 * through the service's own handle() (emu_ots_service) on a scratch data
 * directory (LMDB, no fsync).
 *
 * Input, first byte = mode:
 *   'S' signed:  "S" API "\n" BODY      the harness adds valid x-ots-*
 *                headers (fresh date, MD5, signature), so the fuzzer
 *                reaches the operations.
 *   'R' raw:     "R" METHOD " " PATH "\n" ("Name: value\n")* "\n" BODY
 *                headers exactly as given: exercises the refusals.
 *   'A' admin:   "A" COMMAND LINE        emu_ots_service.admin().
 * Every response must be well-formed: a status, the x-ots-* response
 * headers and, for errors, a protobuf Error body.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emu.h"
#include "http.h"
#include "sign.h"

#define ID	"fuzzid"
#define SECRET	"fuzzsecret"
#define INST	"fuzzinst"
#define MAX_HDRS 32

struct fuzz_state {
	void			*svc;
	struct sign_cred	*cred;
	struct emu_config	 cfg;
	char			 dir[64];
};

/* the harness keeps one service for the whole run (libFuzzer convention) */
static struct fuzz_state *fuzz_st;

static void
fuzz_cleanup(void)
{
	char path[128];

	if (fuzz_st == NULL)
		return;
	emu_ots_service.destroy(fuzz_st->svc);
	sign_cred_free(fuzz_st->cred);
	snprintf(path, sizeof(path), "%s/ots/data.mdb", fuzz_st->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ots/lock.mdb", fuzz_st->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ots", fuzz_st->dir);
	rmdir(path);
	rmdir(fuzz_st->dir);
	free(fuzz_st);
	fuzz_st = NULL;
}

/* "S" CreateTable of t1 (k STRING, n INTEGER; max versions 3; stream 24 h),
 * encoded by the Node SDK: the corpus' rows and streams land on a table */
static const uint8_t fuzz_create_t1[] = {
	'C', 'r', 'e', 'a', 't', 'e', 'T', 'a', 'b', 'l', 'e', '\n',
	0x0a, 0x12, 0x0a, 0x02, 0x74, 0x31, 0x12, 0x05, 0x0a, 0x01, 0x6b, 0x10,
	0x02, 0x12, 0x05, 0x0a, 0x01, 0x6e, 0x10, 0x01, 0x12, 0x06, 0x0a, 0x04,
	0x08, 0x00, 0x10, 0x00, 0x1a, 0x0d, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0x01, 0x10, 0x03, 0x2a, 0x04, 0x08, 0x01, 0x10,
	0x18,
};

static void fuzz_signed(struct fuzz_state *st, const uint8_t *p, size_t n);

static struct fuzz_state *
fuzz_init(void)
{
	struct fuzz_state *st;

	if (fuzz_st != NULL)
		return fuzz_st;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		abort();
	snprintf(st->dir, sizeof(st->dir), "/tmp/fuzz-emu-ots-XXXXXX");
	if (mkdtemp(st->dir) == NULL)
		abort();
	st->cfg.data_dir = st->dir;
	st->cfg.access_id = ID;
	st->cfg.access_secret = SECRET;
	st->cfg.instance = INST;
	st->cfg.skew_seconds = 900;
	st->cfg.shards = 2;
	st->cfg.nosync = 1;
	if (emu_ots_service.create(&st->cfg, &st->svc) != 0 ||
	    sign_cred_new(ID, SECRET, NULL, &st->cred) != 0)
		abort();
	fuzz_st = st;
	atexit(fuzz_cleanup);
	fuzz_signed(st, fuzz_create_t1, sizeof(fuzz_create_t1));
	return st;
}

static void
check_resp(const struct emu_resp *resp)
{
	static const char *const need[] = { "x-ots-contentmd5", "x-ots-requestid",
	    "x-ots-date", "x-ots-contenttype", "authorization" };
	size_t i, j;

	if (resp->status < 200 || resp->status > 599)
		abort();
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		for (j = 0; j < resp->nhdrs; j++)
			if (strcmp(resp->hdrs[j].name, need[i]) == 0)
				break;
		if (j == resp->nhdrs)
			abort();
	}
}

static void
run(struct fuzz_state *st, struct emu_req *req)
{
	struct emu_resp resp;

	emu_resp_init(&resp);
	if (emu_ots_service.handle(st->svc, req, &resp) == 0) {
		check_resp(&resp);
		if (getenv("FUZZ_VERBOSE") != NULL)	/* corpus triage */
			fprintf(stderr, "%s %s -> %d\n", req->method, req->path, resp.status);
	}
	emu_resp_free(&resp);
}

static void
fuzz_signed(struct fuzz_state *st, const uint8_t *p, size_t n)
{
	const uint8_t *nl = memchr(p, '\n', n);
	char api[64], path[80], md5[SIGN_MD5_B64_SIZE], date[32], sig[SIGN_SHA1_B64_SIZE];
	struct http_hdr hh[6];
	struct emu_hdr eh[6];
	struct emu_req req;
	size_t alen, i;

	if (nl == NULL || (alen = (size_t)(nl - p)) == 0 || alen >= sizeof(api))
		return;
	memcpy(api, p, alen);
	api[alen] = '\0';
	p = nl + 1;
	n -= alen + 1;
	snprintf(path, sizeof(path), "/%s", api);
	if (sign_content_md5(p, n, md5) != 0 || sign_date_ots(time(NULL), 0, date) != 0)
		return;
	hh[0].name = "x-ots-accesskeyid";	hh[0].value = ID;
	hh[1].name = "x-ots-apiversion";	hh[1].value = "2015-12-31";
	hh[2].name = "x-ots-contentmd5";	hh[2].value = md5;
	hh[3].name = "x-ots-date";		hh[3].value = date;
	hh[4].name = "x-ots-instancename";	hh[4].value = INST;
	if (sign_ots_request(st->cred, api, "POST", hh, 5, sig) != 0)
		return;
	hh[5].name = "x-ots-signature";		hh[5].value = sig;
	for (i = 0; i < 6; i++) {
		eh[i].name = (char *)(uintptr_t)hh[i].name;
		eh[i].value = (char *)(uintptr_t)hh[i].value;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = path;
	req.query = "";
	req.host = "127.0.0.1";
	req.hdrs = eh;
	req.nhdrs = 6;
	req.body = p;
	req.body_len = n;
	req.peer = "127.0.0.1:1";
	run(st, &req);
}

static char *
take_line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl != NULL ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p = nl != NULL ? nl + 1 : end;
	return s;
}

static void
fuzz_raw(struct fuzz_state *st, const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;
	char *first = take_line(&p, end), *sp, *lines[MAX_HDRS];
	struct emu_hdr eh[MAX_HDRS];
	struct emu_req req;
	size_t nh = 0, i;

	memset(&req, 0, sizeof(req));
	while (p < end && nh < MAX_HDRS) {
		char *line = take_line(&p, end), *colon;

		if (line[0] == '\0') {
			free(line);
			break;
		}
		lines[nh] = line;
		if ((colon = strchr(line, ':')) == NULL) {
			eh[nh].name = line;
			eh[nh].value = line + strlen(line);
		} else {
			*colon = '\0';
			eh[nh].name = line;
			eh[nh].value = colon + 1 + (colon[1] == ' ');
		}
		nh++;
	}
	sp = strchr(first, ' ');
	req.method = first;
	req.path = "/";
	if (sp != NULL) {
		*sp = '\0';
		req.path = sp + 1;
	}
	req.query = "";
	req.host = "127.0.0.1";
	req.hdrs = eh;
	req.nhdrs = nh;
	req.body = p;
	req.body_len = (size_t)(end - p);
	req.peer = "127.0.0.1:1";
	run(st, &req);
	for (i = 0; i < nh; i++)
		free(lines[i]);
	free(first);
}

static void
fuzz_admin(struct fuzz_state *st, const uint8_t *p, size_t n)
{
	struct emu_resp resp;
	char *cmd = strndup((const char *)p, n);

	if (cmd == NULL)
		abort();
	emu_resp_init(&resp);
	(void)emu_ots_service.admin(st->svc, cmd, &resp);
	emu_resp_free(&resp);
	free(cmd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_state *st = fuzz_init();

	if (size < 1)
		return 0;
	switch (data[0]) {
	case 'S':
		fuzz_signed(st, data + 1, size - 1);
		break;
	case 'R':
		fuzz_raw(st, data + 1, size - 1);
		break;
	case 'A':
		fuzz_admin(st, data + 1, size - 1);
		break;
	default:
		break;
	}
	return 0;
}
