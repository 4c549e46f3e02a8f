/* SPDX-License-Identifier: MIT */
/*
 * test_difs_load_emu.c - smoke test of contrib/difs-load against difs-emu:
 *
 *   test_difs_load_emu PATH/TO/difs-emu PATH/TO/difs-load
 *
 * Starts difs-emu on free ports with a fresh data directory, runs
 * difs-load --create --shards 3 --count N --record FILE (with a rate, so
 * pacing is exercised), then checks with the Table Store client:
 *   - the table exists with a stream of 3 shards;
 *   - the stream holds exactly the recorded changes: per primary key, the
 *     same operations with the same values in the same order;
 *   - the table's rows are the replay of the record file (last change per
 *     key; deleted keys absent);
 *   - a second run with another seed appends to the record file, and
 *     --count is exact.
 * Exits 77 (skip) only when a binary does not exist.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "emu_harness.h"
#include "ots.h"
#include "sign.h"
#include "../unit/tap.h"

#define AK	"loadid:loadsecret"
#define INST	"loadinst"
#define TABLE	"orders"

/* one change, from the record file or from the stream */
struct chg {
	char	*uid;
	char	 op;		/* 'p' put, 'u' update, 'd' delete */
	char	*name;		/* "" for deletes */
	size_t	 idx;		/* order of arrival */
};

struct chgs {
	struct chg	*v;
	size_t		 n, cap;
};

/* run difs-load with the given extra arguments; its exit status or -1 */
static int
run_load(char *exe, char *url, char *record, char *seed, char *count, int create)
{
	char *argv[32];
	int argc = 0, status;
	pid_t pid;

	argv[argc++] = exe;
	argv[argc++] = "--endpoint";
	argv[argc++] = url;
	argv[argc++] = "--instance";
	argv[argc++] = INST;
	argv[argc++] = "--access-key";
	argv[argc++] = AK;
	argv[argc++] = "--table";
	argv[argc++] = TABLE;
	if (create) {
		argv[argc++] = "--create";
		argv[argc++] = "--shards";
		argv[argc++] = "3";
	}
	argv[argc++] = "--count";
	argv[argc++] = count;
	argv[argc++] = "--rate";
	argv[argc++] = "4000";
	argv[argc++] = "--keys";
	argv[argc++] = "150";
	argv[argc++] = "--row-bytes";
	argv[argc++] = "64";
	argv[argc++] = "--seed";
	argv[argc++] = seed;
	argv[argc++] = "--record";
	argv[argc++] = record;
	argv[argc++] = "--quiet";
	argv[argc] = NULL;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		execv(exe, argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int
chgs_add(struct chgs *c, const char *uid, size_t ulen, char op, const char *name, size_t nlen)
{
	struct chg *x;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		struct chg *nv = realloc(c->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		c->v = nv;
		c->cap = ncap;
	}
	x = &c->v[c->n];
	x->uid = strndup(uid, ulen);
	x->name = strndup(name, nlen);
	x->op = op;
	x->idx = c->n;
	if (x->uid == NULL || x->name == NULL)
		return -ENOMEM;
	c->n++;
	return 0;
}

static void
chgs_free(struct chgs *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].uid);
		free(c->v[i].name);
	}
	free(c->v);
}

static int
chg_cmp(const void *a, const void *b)
{
	const struct chg *x = a, *y = b;
	int r = strcmp(x->uid, y->uid);

	if (r != 0)
		return r;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* record file -> changes (committed ones); returns lines read or -1 */
static long
read_record(const char *path, struct chgs *out, long *bad)
{
	char line[4096];
	FILE *fp = fopen(path, "r");
	long n = 0, expect = 1;

	*bad = 0;
	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *f[7], *p = line;
		int nf = 0;

		line[strcspn(line, "\n")] = '\0';
		while (nf < 7 && p != NULL) {
			f[nf++] = p;
			p = strchr(p, '\t');
			if (p != NULL)
				*p++ = '\0';
		}
		n++;
		if (nf != 7 || strcmp(f[1], "c") != 0) {
			(*bad)++;
			continue;
		}
		/* commit numbers restart at 1 in each run (append) */
		if (strtol(f[0], NULL, 10) != expect && strtol(f[0], NULL, 10) != 1)
			(*bad)++;
		expect = strtol(f[0], NULL, 10) + 1;
		if (chgs_add(out, f[3], strlen(f[3]), f[2][0],
		    f[2][0] == 'd' ? "" : f[4], f[2][0] == 'd' ? 0 : strlen(f[4])) != 0)
			(*bad)++;
	}
	fclose(fp);
	return n;
}

/* every record of every shard of the table's stream */
static int
read_stream(struct ots *o, struct chgs *out, size_t *nshards)
{
	struct ots_stream_list *sl = NULL;
	struct ots_stream_desc *d = NULL;
	struct ots_error err;
	int rc;

	if ((rc = ots_list_stream(o, TABLE, &sl, &err)) != 0 || sl->n != 1) {
		printf("# ListStream: %s %s\n", eng_strerror(rc), err.message);
		rc = rc != 0 ? rc : -ENOENT;
		goto out;
	}
	if ((rc = ots_describe_stream_all(o, sl->streams[0].stream_id, &d, &err)) != 0)
		goto out;
	*nshards = d->nshards;
	for (size_t s = 0; s < d->nshards; s++) {
		char *it = NULL;

		if ((rc = ots_get_shard_iterator(o, d->stream_id, d->shards[s].shard_id, -1,
		    &it, &err)) != 0)
			goto out;
		while (it != NULL) {
			struct ots_record_batch *b = NULL;
			size_t i;

			rc = ots_get_stream_record(o, it, 1000, &b, &err);
			free(it);
			it = NULL;
			if (rc != 0)
				goto out;
			for (i = 0; i < b->n; i++) {
				const struct plainbuf_row *r = b->records[i].row;
				int a = b->records[i].action;
				const char *nm = "";
				size_t nlen = 0;

				if (r->nattrs > 0 && r->attrs[0].has_value) {
					nm = (const char *)r->attrs[0].value.p;
					nlen = r->attrs[0].value.len;
				}
				if (chgs_add(out, (const char *)r->pk[0].value.p, r->pk[0].value.len,
				    a == OTS_PUT_ROW ? 'p' : a == OTS_UPDATE_ROW ? 'u' : 'd',
				    nm, nlen) != 0) {
					rc = -ENOMEM;
					ots_record_batch_free(b);
					goto out;
				}
			}
			if (b->n > 0 && b->next_iterator != NULL)
				it = strdup(b->next_iterator);
			ots_record_batch_free(b);
		}
	}
	rc = 0;
out:
	ots_stream_desc_free(d);
	ots_stream_list_free(sl);
	return rc;
}

static int
collect_row(void *arg, const struct plainbuf_row *row)
{
	struct buf *b = arg;

	return buf_printf(b, "%.*s=%.*s\n", (int)row->pk[0].value.len,
	    (const char *)row->pk[0].value.p,
	    row->nattrs > 0 ? (int)row->attrs[0].value.len : 0,
	    row->nattrs > 0 ? (const char *)row->attrs[0].value.p : "");
}

int
main(int argc, char **argv)
{
	struct th_emu e = TH_EMU_INIT;
	const struct th_emu_opts emu_opts = {
		.name = "difs-load",
		.access_key = AK,
		.ots_instance = INST,
		.sync_off = true,
	};
	struct chgs rec = { 0 }, str = { 0 };
	struct sign_cred *cred = NULL;
	struct ots_config oc = { 0 };
	struct eng_errbuf eb = { "" };
	struct ots *o = NULL;
	struct buf want, got;
	char record[256];
	size_t nshards = 0, i;
	long lines, bad;
	int same;

	if (argc < 3 || access(argv[1], X_OK) != 0 || access(argv[2], X_OK) != 0) {
		printf("1..0 # SKIP difs-emu or difs-load not built\n");
		return 77;
	}
	buf_init(&want, BUF_MAX_DOC);
	buf_init(&got, BUF_MAX_DOC);
	if (!ok(th_emu_start(&e, argv[1], &emu_opts) == 0, "difs-emu started: %s", e.ots_url))
		goto out;
	snprintf(record, sizeof(record), "%s/record.tsv", e.dir);
	is_int(run_load(argv[2], e.ots_url, record, "11", "1500", 1), 0, "difs-load run 1 exits 0");
	is_int(run_load(argv[2], e.ots_url, record, "12", "700", 0), 0, "difs-load run 2 (append) exits 0");
	lines = read_record(record, &rec, &bad);
	is_int(lines, 2200, "record file has --count lines over both runs");
	is_int(bad, 0, "every line well-formed, committed, in commit order");

	if (sign_cred_new("loadid", "loadsecret", NULL, &cred) != 0)
		goto out;
	oc.endpoint = e.ots_url;
	oc.instance = INST;
	oc.cred = cred;
	if (!ok(ots_new(&oc, &o, &eb) == 0, "client: %s", eb.msg))
		goto out;
	is_rc(read_stream(o, &str, &nshards), 0, "stream read");
	is_int(nshards, 3, "--shards 3 honoured");
	is_int(str.n, rec.n, "stream records == recorded changes");
	qsort(rec.v, rec.n, sizeof(*rec.v), chg_cmp);
	qsort(str.v, str.n, sizeof(*str.v), chg_cmp);
	same = rec.n == str.n;
	for (i = 0; same && i < rec.n; i++)
		if (strcmp(rec.v[i].uid, str.v[i].uid) != 0 || rec.v[i].op != str.v[i].op ||
		    strcmp(rec.v[i].name, str.v[i].name) != 0) {
			printf("# first difference at %zu: record %s %c %.20s / stream %s %c %.20s\n",
			    i, rec.v[i].uid, rec.v[i].op, rec.v[i].name, str.v[i].uid,
			    str.v[i].op, str.v[i].name);
			same = 0;
		}
	ok(same, "per key, the stream has the recorded operations and values in order");

	/* replay: the last change of each key */
	for (i = 0; i < rec.n; i++)
		if ((i + 1 == rec.n || strcmp(rec.v[i].uid, rec.v[i + 1].uid) != 0) &&
		    rec.v[i].op != 'd')
			(void)buf_printf(&want, "%s=%s\n", rec.v[i].uid, rec.v[i].name);
	{
		struct plainbuf_cell lo, hi;
		struct plainbuf_value vlo = plainbuf_special(PLAINBUF_VT_INF_MIN);
		struct plainbuf_value vhi = plainbuf_special(PLAINBUF_VT_INF_MAX);
		struct ots_range_req rq = { 0 };
		struct ots_error err;

		plainbuf_cell_set(&lo, "uid", &vlo, PLAINBUF_OP_PUT, -1);
		plainbuf_cell_set(&hi, "uid", &vhi, PLAINBUF_OP_PUT, -1);
		rq.table = TABLE;
		rq.start = &lo;
		rq.nstart = 1;
		rq.end = &hi;
		rq.nend = 1;
		rq.limit = 50;
		is_rc(ots_get_range_each(o, &rq, collect_row, &got, &err), 0, "GetRange");
	}
	ok(want.len > 0 && strcmp(want.p, got.p) == 0,
	    "table rows == replay of the record file (%zu bytes)", want.len);
out:
	chgs_free(&rec);
	chgs_free(&str);
	ots_free(o);
	sign_cred_free(cred);
	buf_free(&want);
	buf_free(&got);
	th_emu_stop(&e);
	return done_testing();
}
