/* SPDX-License-Identifier: MIT */
/*
 * ls_instances.c - what `ls -l instances/JOB` costs in the engine: a job
 * directory with N instance records (default 100,000), listed with
 * eng_readdir in reply-sized pages, then one lookup + getattr + forget per
 * entry (what the kernel asks for without readdirplus), then the same with
 * ENG_READDIR_PLUS.  Prints the times; exits 1 when the plain listing takes
 * 2 s or more (the bound for the whole `ls -l` through FUSE, which
 * fsmount's bench measures on a real mount).
 *
 *   ls_instances [N] [STATE_DIR]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "view.h"
#include "inst.h"
#include "store.h"

struct fill {
	long	 n;
};

static int
fill_fn(struct store_txn *txn, void *arg)
{
	struct fill *f = arg;
	char key[STORE_KEY_MAX + 1], cycle[64];
	struct inst in;
	struct buf b;
	size_t klen;
	long i;
	int rc = 0;

	buf_init(&b, BUF_MAX_DOC);
	for (i = 0; i < f->n && rc == 0; i++) {
		/* one cycle per minute from 2026-01-01 00:00 */
		long m = i, d = m / 1440, hh = (m % 1440) / 60, mm = m % 60;
		int mon = 1 + (int)(d / 28), day = 1 + (int)(d % 28);

		snprintf(cycle, sizeof(cycle), "%04d%02d%02d%02ld%02ld00", 2026 + (mon - 1) / 12,
		    (mon - 1) % 12 + 1, day, hh, mm);
		inst_init(&in);
		snprintf(in.job, sizeof(in.job), "bench");
		memcpy(in.cycle, cycle, STORE_CYCLE_LEN + 1);
		in.state = INST_SUCCESS;
		in.attempt = 1;
		in.created_ms = in.started_ms = in.finished_ms = 1767225600000LL + m * 60000;
		buf_reset(&b);
		if ((rc = inst_encode(&in, &b)) == 0 &&
		    (rc = store_key_instance(key, sizeof(key), "bench", cycle, &klen)) == 0)
			rc = store_put(txn, STORE_DB_INSTANCES, key, klen, b.p, b.len, 0);
		inst_free(&in);
	}
	buf_free(&b);
	return rc;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct page {
	struct eng	*e;
	uint64_t	 dir;
	int		 in_page;
	uint64_t	 next;
	long		 total;
	long		 looked;
	bool		 stat_each;
	bool		 plus;
	int		 rc;
	char		 names[100][32];
	int		 nnames;
};

/* a 4 KiB reply holds ~100 entries of this size */
static bool
page_cb(void *arg, const struct eng_dirent *d)
{
	struct page *p = arg;

	if (p->in_page == 100)
		return true;
	p->in_page++;
	p->next = d->next_off;
	p->total++;
	if (p->plus && d->entry != NULL) {
		p->looked++;
		return false;
	}
	if (p->stat_each && strcmp(d->name, ".") != 0 && strcmp(d->name, "..") != 0)
		snprintf(p->names[p->nnames++], sizeof(p->names[0]), "%s", d->name);
	return false;
}

/* what the kernel does after a readdir reply: lookup + getattr each name */
static void
stat_page(struct page *p)
{
	struct eng_entry ent;
	int i;

	for (i = 0; i < p->nnames; i++) {
		if (eng_lookup(p->e, p->dir, p->names[i], &ent) != 0) {
			p->rc = -EIO;
			continue;
		}
		if (eng_getattr(p->e, ent.attr.ino, &ent) != 0)
			p->rc = -EIO;
		else
			p->looked++;
		eng_forget(p->e, ent.attr.ino, 1);
	}
	p->nnames = 0;
}

static int
run_list(struct eng *e, uint64_t dir, bool stat_each, bool plus, struct page *p)
{
	uint64_t off = 0;
	int rc;

	memset(p, 0, sizeof(*p));
	p->e = e;
	p->dir = dir;
	p->stat_each = stat_each;
	p->plus = plus;
	do {
		p->in_page = 0;
		rc = eng_readdir(e, dir, off, plus ? ENG_READDIR_PLUS : 0, page_cb, p);
		stat_page(p);
		off = p->next;
	} while (rc == 0 && p->in_page > 0);
	return rc != 0 ? rc : p->rc;
}

int
main(int argc, char **argv)
{
	char dir[256];
	struct store *st = NULL;
	struct eng_config c;
	struct eng_errbuf eb = { "" };
	struct eng_entry ent;
	struct eng *e = NULL;
	struct fill f;
	struct page p;
	double t0, t1, t2, t3;
	uint64_t jd;
	int rc;

	f.n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	if (argc > 2)
		snprintf(dir, sizeof(dir), "%s", argv[2]);
	else {
		snprintf(dir, sizeof(dir), "/tmp/ls_instances.XXXXXX");
		if (mkdtemp(dir) == NULL) {
			perror("mkdtemp");
			return 1;
		}
	}
	if ((rc = store_open(dir, NULL, &st, &eb)) != 0) {
		fprintf(stderr, "store_open: %s %s\n", eng_strerror(rc), eb.msg);
		return 1;
	}
	t0 = now_s();
	rc = store_update(st, fill_fn, &f);
	store_close(st);
	if (rc != 0) {
		fprintf(stderr, "fill: %s\n", eng_strerror(rc));
		return 1;
	}
	printf("created %ld instance records in %.2f s\n", f.n, now_s() - t0);
	memset(&c, 0, sizeof(c));
	c.state_dir = dir;
	c.uid = getuid();
	c.gid = getgid();
	if ((rc = eng_new(&c, &e, &eb)) != 0) {
		fprintf(stderr, "eng_new: %s %s\n", eng_strerror(rc), eb.msg);
		return 1;
	}
	if ((rc = eng_lookup(e, ENG_INO_INSTANCES, "bench", &ent)) != 0) {
		fprintf(stderr, "lookup instances/bench: %s\n", eng_strerror(rc));
		return 1;
	}
	jd = ent.attr.ino;
	t0 = now_s();
	rc = run_list(e, jd, false, false, &p);
	t1 = now_s();
	printf("readdir only:            %ld entries in %.3f s (rc %d)\n", p.total, t1 - t0, rc);
	rc = run_list(e, jd, true, false, &p);
	t2 = now_s();
	printf("readdir+lookup+getattr:  %ld entries, %ld stats in %.3f s (rc %d)\n", p.total,
	    p.looked, t2 - t1, rc);
	rc = run_list(e, jd, false, true, &p);
	t3 = now_s();
	printf("readdirplus:             %ld entries in %.3f s (rc %d)\n", p.total, t3 - t2, rc);
	eng_forget(e, jd, 1);
	eng_free(e);
	if (argc <= 2) {	/* our own temporary state dir */
		static const char *const files[] = { "data.mdb", "lock.mdb", "lock" };
		char path[512];
		size_t i;

		for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
			(void)unlink(path);
		}
		(void)rmdir(dir);
	}
	if (t2 - t1 >= 2.0) {
		printf("FAIL: ls -l equivalent took %.3f s (bound 2 s)\n", t2 - t1);
		return 1;
	}
	printf("ok: ls -l equivalent under 2 s\n");
	return 0;
}
