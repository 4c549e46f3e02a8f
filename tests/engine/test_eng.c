/* SPDX-License-Identifier: MIT */
/*
 * test_eng.c - the engine facade driven like the kernel drives it (no
 * FUSE): lookups with lookup counts, create/open/write/flush/fsync/release,
 * rename/unlink/symlink, readdir with cookies, on a fresh state directory
 * with a fake clock.  Covers the rules for files (contrib/doc/design.md 1): valid and invalid
 * definitions (.error, EINVAL, running definition kept), bash's '>', vim's
 * save sequence with the rename-to-backup grace, sed -i, secret masking
 * and the "******" write-back, remount persistence, ctl commands, listing
 * many instances page by page, and the errno cases.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "view.h"
#include "scheduler.h"
#include "store.h"
#include "tap.h"

#define SECRET	"S3cr3t-K3y-Value"
/* 2026-11-25 00:00:00 UTC */
#define T0_MS	(1795564800000LL)

static atomic_llong fake_now;
static char tmpdir[256];

/* inval hooks: remember the inodes asked for (the fs would queue them) */
static pthread_mutex_t inval_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t inval_inos[4096];
static size_t inval_n;
static atomic_int inval_entries;

static void
hook_inval_inode(void *arg, uint64_t ino)
{
	(void)arg;
	pthread_mutex_lock(&inval_mu);
	inval_inos[inval_n++ % 4096] = ino;
	pthread_mutex_unlock(&inval_mu);
}

static void
hook_inval_entry(void *arg, uint64_t parent, const char *name)
{
	(void)arg;
	(void)parent;
	(void)name;
	atomic_fetch_add(&inval_entries, 1);
}

static bool
was_invalidated(uint64_t ino)
{
	size_t i;
	bool r = false;

	pthread_mutex_lock(&inval_mu);
	for (i = 0; i < inval_n && i < 4096; i++)
		if (inval_inos[i] == ino)
			r = true;
	pthread_mutex_unlock(&inval_mu);
	return r;
}

static void
inval_reset(void)
{
	pthread_mutex_lock(&inval_mu);
	inval_n = 0;
	pthread_mutex_unlock(&inval_mu);
}

static int64_t
fake_clock(void *arg)
{
	(void)arg;
	return atomic_fetch_add(&fake_now, 1);
}

/* ---- kernel-like helpers ------------------------------------------------------ */

static struct eng *
mount_eng(void)
{
	struct eng_config c;
	struct eng_errbuf eb = { "" };
	struct eng *e = NULL;
	int rc;

	memset(&c, 0, sizeof(c));
	c.state_dir = tmpdir;
	c.nosync = true;
	c.exclusive = true;
	c.now_ms = fake_clock;
	c.uid = getuid();
	c.gid = getgid();
	c.workers = 2;
	c.inval_inode = hook_inval_inode;
	c.inval_entry = hook_inval_entry;
	if ((rc = eng_new(&c, &e, &eb)) != 0)
		printf("# eng_new: %s: %s\n", eng_strerror(rc), eb.msg);
	return e;
}

static uint64_t
lk(struct eng *e, uint64_t parent, const char *name)
{
	struct eng_entry ent;

	/* the reference is kept, as the kernel's dentry cache would */
	if (eng_lookup(e, parent, name, &ent) != 0)
		return 0;
	return ent.attr.ino;
}

/* like open(O_WRONLY|O_CREAT|extra) + write + close: returns close's rc */
static int
put(struct eng *e, uint64_t dir, const char *name, const char *data, int extra)
{
	struct eng_entry ent;
	struct eng_open oi;
	size_t w;
	int rc;

	if ((rc = eng_create(e, dir, name, 0644, O_WRONLY | O_CREAT | extra, 0, &ent, &oi)) != 0)
		return rc;
	if (data != NULL && (rc = eng_write(e, oi.fh, 0, data, strlen(data), &w)) != 0) {
		(void)eng_release(e, oi.fh);
		eng_forget(e, ent.attr.ino, 1);
		return rc;
	}
	rc = eng_flush(e, oi.fh, 0);
	(void)eng_release(e, oi.fh);
	eng_forget(e, ent.attr.ino, 1);
	return rc;
}

/* whole content of ino through open/read/release (NULL on error; free it) */
static char *
get_ino(struct eng *e, uint64_t ino, int *rcp)
{
	struct eng_open oi;
	struct buf b;
	size_t before;
	int rc;

	buf_init(&b, 4 << 20);
	if ((rc = eng_open(e, ino, O_RDONLY, 0, &oi)) != 0) {
		if (rcp != NULL)
			*rcp = rc;
		buf_free(&b);
		return NULL;
	}
	do {
		before = b.len;
		rc = eng_read(e, oi.fh, b.len, 7, &b);	/* small reads: offsets matter */
	} while (rc == 0 && b.len > before);
	(void)eng_release(e, oi.fh);
	if (rcp != NULL)
		*rcp = rc;
	if (rc != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b, NULL);
}

static char *
get(struct eng *e, uint64_t dir, const char *name)
{
	uint64_t ino = lk(e, dir, name);

	return ino == 0 ? NULL : get_ino(e, ino, NULL);
}

static uint64_t
lk_path(struct eng *e, const char *path)
{
	char copy[512], *p, *slash;
	uint64_t ino = ENG_INO_ROOT;

	snprintf(copy, sizeof(copy), "%s", path);
	for (p = copy; p != NULL && ino != 0; p = slash) {
		if ((slash = strchr(p, '/')) != NULL)
			*slash++ = '\0';
		ino = lk(e, ino, p);
	}
	return ino;
}

struct names {
	char	 v[64][64];
	int	 n;
	int	 limit;		/* entries per "reply buffer" */
	int	 in_page;
	uint64_t last_off;
	int	 total;
	bool	 sorted;
	char	 prev[64];
};

static bool
names_cb(void *arg, const struct eng_dirent *d)
{
	struct names *n = arg;

	if (n->limit > 0 && n->in_page == n->limit)
		return true;
	n->in_page++;
	n->last_off = d->next_off;
	n->total++;
	if (strlen(d->name) == 14) {
		if (n->prev[0] != '\0' && strcmp(n->prev, d->name) >= 0)
			n->sorted = false;
		snprintf(n->prev, sizeof(n->prev), "%s", d->name);
	}
	if (n->n < 64)
		snprintf(n->v[n->n++], sizeof(n->v[0]), "%s", d->name);
	return false;
}

static bool
has_name(const struct names *n, const char *name)
{
	int i;

	for (i = 0; i < n->n; i++)
		if (strcmp(n->v[i], name) == 0)
			return true;
	return false;
}

static struct names
list(struct eng *e, uint64_t ino)
{
	struct names n;

	memset(&n, 0, sizeof(n));
	n.sorted = true;
	if (eng_readdir(e, ino, 0, 0, names_cb, &n) != 0)
		n.n = -1;
	return n;
}

/* ---- definitions used ------------------------------------------------------------- */

static char job_ok[2048], job_ok2[2048];
static const char *job_bad = "{\"type\":\"job\",\"version\":\"2.0\",\"configuration\":{\"bogus\":1}}\n";

#define JOB_FMT \
	"{\"type\":\"job\",\"version\":\"2.0\",\n" \
	" \"schedule\":{\"cycle\":\"5m\",\"timezone\":\"UTC\"},\n" \
	" \"configuration\":{\"setting\":{\"errorLimit\":{\"record\":\"0\"}," \
	"\"speed\":{\"concurrent\":\"1\"}},\n" \
	" \"reader\":{\"plugin\":\"stream\",\"parameter\":{\"sliceRecordCount\":\"%d\"," \
	"\"column\":[{\"type\":\"string\",\"value\":\"x\"},{\"type\":\"long\",\"incr\":\"1,1\"}]}},\n" \
	" \"writer\":{\"plugin\":\"txtfile\",\"parameter\":{\"path\":\"%s/out\",\"fileName\":\"o\"," \
	"\"writeMode\":\"truncate\",\"fileFormat\":\"csv\"}}}}\n"

static void
make_jobs(void)
{
	snprintf(job_ok, sizeof(job_ok), JOB_FMT, 10, tmpdir);
	snprintf(job_ok2, sizeof(job_ok2), JOB_FMT, 20, tmpdir);
}

static const char *src_ots =
    "{\n  \"type\": \"ots\",\n  \"endpoint\": \"http://127.0.0.1:8800\",\n"
    "  \"instanceName\": \"demo\",\n  \"accessId\": \"id1\",\n"
    "  \"accessKey\": \"" SECRET "\"\n}\n";

/* ---- tests ---------------------------------------------------------------------- */

/* no JSON (a missing ',' and '}'), and valid JSON that is no valid source */
static const char src_broken[] = "{\"type\": \"ots\" \"endpoint\": \"http://127.0.0.1:1\",\n"
    "  \"accessKey\": \"" SECRET "\",\n  \"securityToken\":\n    \"" SECRET "\"\n";
static const char src_names[] = "{\"type\": \"ots\", \"dbPassword\": \"" SECRET "\",\n"
    "  \"extra\": {\"api_token\": \"" SECRET "\", \"list\": [{\"secret\": \"" SECRET "\"}]}}\n";

static void
test_root(struct eng *e)
{
	struct names n = list(e, ENG_INO_ROOT);
	struct eng_entry ent;

	ok(has_name(&n, "sources") && has_name(&n, "jobs") && has_name(&n, "instances"),
	    "root lists sources/ jobs/ instances/");
	is_int(lk(e, ENG_INO_ROOT, "jobs"), ENG_INO_JOBS, "jobs/ has its fixed inode");
	is_rc(eng_getattr(e, ENG_INO_INSTANCES, &ent), 0, "getattr instances/");
	ok(S_ISDIR(ent.attr.mode), "instances/ is a directory");
}

static void
test_valid_invalid(struct eng *e)
{
	char *s;
	uint64_t jd;

	is_rc(put(e, ENG_INO_JOBS, "j1.json", job_ok, O_TRUNC), 0, "valid job: close returns 0");
	ok(sched_job_defined(eng_scheduler(e), "j1"), "j1 is defined");
	jd = lk(e, ENG_INO_INSTANCES, "j1");
	ok(jd != 0, "instances/j1 appears as soon as the job is valid");
	ok(lk(e, jd, "ctl") != 0 && lk(e, jd, "log") != 0, "instances/j1 has ctl and log");
	is_int(lk(e, jd, "latest"), 0, "no latest before the first instance");

	is_rc(put(e, ENG_INO_JOBS, "j1.json", job_bad, O_TRUNC), 0,
	    "invalid job: close still returns 0 (validation never fails a call)");
	s = get(e, ENG_INO_JOBS, "j1.json");
	is_str(s, job_bad, "the file keeps the invalid bytes");
	free(s);
	s = get(e, ENG_INO_JOBS, "j1.json.error");
	ok(s != NULL && strstr(s, "jobs/j1.json:") != NULL && strstr(s, "error:") != NULL,
	    "j1.json.error has file:line:col: error: lines");
	if (s != NULL)
		printf("# %s", s);
	free(s);
	ok(sched_job_defined(eng_scheduler(e), "j1"), "the running definition stays");
	is_rc(put(e, ENG_INO_JOBS, "j1.json.error", "x", 0), -EPERM, "cannot create NAME.json.error");
	is_rc(eng_unlink(e, ENG_INO_JOBS, "j1.json.error", 0), -EPERM, "cannot unlink NAME.json.error");

	is_rc(put(e, ENG_INO_JOBS, "j1.json", job_ok, O_TRUNC), 0, "fixed again: close returns 0");
	is_int(lk(e, ENG_INO_JOBS, "j1.json.error"), 0, ".error is gone once valid");
	is_rc(put(e, ENG_INO_JOBS, "j1.json", job_ok, O_TRUNC), 0, "identical re-save: 0");
	s = get(e, jd, "log");
	ok(s != NULL && strstr(s, "INFO definition: jobs/j1.json saved by ") != NULL &&
	    strstr(s, ": valid; it is the running definition from now on\n") != NULL,
	    "the job's log has a line for the valid save");
	ok(s != NULL && strstr(s, "WARN definition: jobs/j1.json saved by ") != NULL &&
	    strstr(s, ": INVALID (") != NULL && strstr(s, "see jobs/j1.json.error; first: "
	    "jobs/j1.json:") != NULL && strstr(s, "the job keeps running its last valid "
	    "definition (running since ") != NULL,
	    "and one for the invalid save, naming .error, the first error and what keeps running");
	ok(s != NULL && strstr(s, ": valid; identical to the running definition") != NULL,
	    "and one for the identical re-save");
	if (s != NULL)
		printf("# %s", s);
	free(s);
}

static void
test_bash_redirect(struct eng *e)
{
	struct eng_entry ent;
	struct eng_open oi;
	size_t w;
	char *s;
	uint64_t ino = lk(e, ENG_INO_JOBS, "j1.json");

	/* OPEN(O_TRUNC), FLUSH, WRITE, FLUSH, RELEASE */
	is_rc(eng_open(e, ino, O_WRONLY | O_TRUNC, 0, &oi), 0, "bash >: open with O_TRUNC");
	is_rc(eng_flush(e, oi.fh, 0), 0, "bash >: flush before any write is not an error");
	is_int(lk(e, ENG_INO_JOBS, "j1.json.error"), 0, "bash >: no .error after the early flush");
	ok(sched_job_defined(eng_scheduler(e), "j1"), "bash >: job still defined");
	is_rc(eng_getattr(e, ino, &ent), 0, "getattr");
	is_int(ent.attr.size, 0, "bash >: truncated");
	is_rc(eng_write(e, oi.fh, 0, job_ok2, strlen(job_ok2), &w), 0, "bash >: write");
	is_rc(eng_flush(e, oi.fh, 0), 0, "bash >: flush after the write validates: 0");
	is_rc(eng_release(e, oi.fh), 0, "bash >: release");
	s = get(e, ENG_INO_JOBS, "j1.json");
	is_str(s, job_ok2, "bash >: bytes read back");
	free(s);
	/* ": > x.json": OPEN(O_TRUNC), FLUSH, RELEASE: the last close validates */
	is_rc(eng_open(e, ino, O_WRONLY | O_TRUNC, 0, &oi), 0, ": >: open with O_TRUNC");
	is_rc(eng_flush(e, oi.fh, 0), 0, ": >: flush");
	is_int(lk(e, ENG_INO_JOBS, "j1.json.error"), 0, ": >: no .error at the flush");
	is_rc(eng_release(e, oi.fh), 0, ": >: release");
	ok(lk(e, ENG_INO_JOBS, "j1.json.error") != 0, ": >: the emptied job is invalid: .error");
	ok(sched_job_defined(eng_scheduler(e), "j1"), ": >: the running definition stays");
	is_rc(put(e, ENG_INO_JOBS, "j1.json", job_ok2, O_TRUNC), 0, "put it back");

	/* >> appends */
	is_rc(eng_open(e, ino, O_WRONLY | O_APPEND, 0, &oi), 0, ">>: open O_APPEND");
	is_rc(eng_write(e, oi.fh, 0, "\n", 1, &w), 0, ">>: write at offset 0 appends");
	is_rc(eng_flush(e, oi.fh, 0), 0, ">>: still valid (trailing newline)");
	(void)eng_release(e, oi.fh);
	is_rc(eng_getattr(e, ino, &ent), 0, "getattr");
	is_int(ent.attr.size, strlen(job_ok2) + 1, ">>: size grew by one");
}

static void
test_vim(struct eng *e)
{
	struct eng_entry ent;
	struct eng_open oi;
	struct eng_setattr sa;
	size_t w;
	char *s;

	is_rc(put(e, ENG_INO_JOBS, ".j1.json.swp", "b0VIM 9.0\0\0\0", O_EXCL), 0, "vim: swap file");
	is_rc(put(e, ENG_INO_JOBS, "4913", NULL, O_EXCL), 0, "vim: 4913 probe");
	is_rc(put(e, ENG_INO_JOBS, "4913", NULL, O_EXCL), -EEXIST, "O_EXCL on an existing file");
	is_rc(eng_unlink(e, ENG_INO_JOBS, "4913", 0), 0, "vim: unlink 4913");
	is_rc(eng_rename(e, ENG_INO_JOBS, "j1.json", ENG_INO_JOBS, "j1.json~", 0, 0), 0,
	    "vim: rename j1.json -> j1.json~");
	ok(sched_job_defined(eng_scheduler(e), "j1"), "vim: job kept during the grace");
	is_rc(eng_create(e, ENG_INO_JOBS, "j1.json", 0644, O_WRONLY | O_CREAT, 0, &ent, &oi), 0,
	    "vim: create j1.json");
	memset(&sa, 0, sizeof(sa));
	sa.valid = ENG_SET_SIZE;
	is_rc(eng_setattr(e, ent.attr.ino, oi.fh, &sa, &ent), 0, "vim: ftruncate 0");
	is_rc(eng_write(e, oi.fh, 0, job_ok, 100, &w), 0, "vim: write part 1");
	is_rc(eng_write(e, oi.fh, 100, job_ok + 100, strlen(job_ok) - 100, &w), 0, "vim: write part 2");
	is_rc(eng_fsync(e, oi.fh, 0), 0, "vim: fsync validates: 0");
	sa.valid = ENG_SET_MODE;
	sa.mode = 0644;
	is_rc(eng_setattr(e, ent.attr.ino, oi.fh, &sa, &ent), 0, "vim: fchmod");
	is_rc(eng_flush(e, oi.fh, 0), 0, "vim: close");
	(void)eng_release(e, oi.fh);
	eng_forget(e, ent.attr.ino, 1);
	s = get(e, ENG_INO_JOBS, "j1.json~");
	ok(s != NULL && strncmp(s, job_ok2, strlen(job_ok2)) == 0, "vim: backup has the old bytes");
	free(s);
	is_rc(eng_unlink(e, ENG_INO_JOBS, "j1.json~", 0), 0, "vim: unlink the backup");
	is_rc(eng_unlink(e, ENG_INO_JOBS, ".j1.json.swp", 0), 0, "vim: unlink the swap file");
	atomic_fetch_add(&fake_now, 61000);
	(void)sched_step(eng_scheduler(e));
	ok(sched_job_defined(eng_scheduler(e), "j1"), "vim: job still defined after the grace");
	s = get(e, ENG_INO_JOBS, "j1.json");
	is_str(s, job_ok, "vim: new bytes");
	free(s);

	/* an invalid edit in vim: fsync/close fail, the definition is kept */
	is_rc(eng_rename(e, ENG_INO_JOBS, "j1.json", ENG_INO_JOBS, "j1.json~", 0, 0), 0, "vim(bad): backup");
	is_rc(put(e, ENG_INO_JOBS, "j1.json", job_bad, 0), 0, "vim(bad): close succeeds");
	/* vim restores: unlink + rename back */
	is_rc(eng_unlink(e, ENG_INO_JOBS, "j1.json", 0), 0, "vim(bad): unlink the bad file");
	is_rc(eng_rename(e, ENG_INO_JOBS, "j1.json~", ENG_INO_JOBS, "j1.json", 0, 0), 0,
	    "vim(bad): rename the backup back");
	is_int(lk(e, ENG_INO_JOBS, "j1.json.error"), 0, "vim(bad): no .error after the restore");
	atomic_fetch_add(&fake_now, 61000);
	(void)sched_step(eng_scheduler(e));
	ok(sched_job_defined(eng_scheduler(e), "j1"), "vim(bad): job still defined");
}

static void
test_sed_mv(struct eng *e)
{
	char *s;

	is_rc(put(e, ENG_INO_JOBS, "sedAbC123", job_bad, O_EXCL), 0,
	    "sed -i: temp file (not a definition: no validation)");
	is_rc(eng_rename(e, ENG_INO_JOBS, "sedAbC123", ENG_INO_JOBS, "j1.json", 0, 0), 0,
	    "sed -i: rename of invalid bytes onto j1.json succeeds");
	ok(lk(e, ENG_INO_JOBS, "j1.json.error") != 0, "sed -i: .error appears");
	ok(sched_job_defined(eng_scheduler(e), "j1"), "sed -i: running definition kept");
	is_rc(put(e, ENG_INO_JOBS, "sedXyZ", job_ok, O_EXCL), 0, "sed -i: temp file");
	is_rc(eng_rename(e, ENG_INO_JOBS, "sedXyZ", ENG_INO_JOBS, "j1.json", 0, 0), 0, "sed -i: rename");
	is_int(lk(e, ENG_INO_JOBS, "j1.json.error"), 0, "sed -i: .error gone");
	s = get(e, ENG_INO_JOBS, "j1.json");
	is_str(s, job_ok, "sed -i: bytes");
	free(s);
	is_int(lk(e, ENG_INO_JOBS, "sedXyZ"), 0, "sed -i: temp name gone");
	is_rc(put(e, ENG_INO_JOBS, "x", "y", O_EXCL), 0, "a file for NOREPLACE");
	is_rc(put(e, ENG_INO_JOBS, "z", "w", O_EXCL), 0, "another");
	is_rc(eng_rename(e, ENG_INO_JOBS, "x", ENG_INO_JOBS, "z", ENG_RENAME_NOREPLACE, 0), -EEXIST,
	    "RENAME_NOREPLACE onto an existing file: EEXIST");
	is_rc(eng_rename(e, ENG_INO_JOBS, "x", ENG_INO_JOBS, "z", ENG_RENAME_EXCHANGE, 0), -EINVAL,
	    "RENAME_EXCHANGE: EINVAL");
	is_rc(eng_rename(e, ENG_INO_JOBS, "x", ENG_INO_JOBS, "z", 0, 0), 0, "rename over an existing file");
	s = get(e, ENG_INO_JOBS, "z");
	is_str(s, "y", "the target has the source's bytes");
	free(s);
	is_rc(eng_unlink(e, ENG_INO_JOBS, "z", 0), 0, "unlink");
	is_rc(eng_unlink(e, ENG_INO_JOBS, "z", 0), -ENOENT, "unlink again: ENOENT");
}

/* sources/NAME reads without SECRET and with the masked text want */
static void
shows_masked(struct eng *e, const char *name, const char *want, const char *what)
{
	char *s = get(e, ENG_INO_SOURCES, name);

	ok(s != NULL && strstr(s, SECRET) == NULL && strstr(s, want) != NULL, "%s", what);
	if (s != NULL && strstr(s, SECRET) != NULL)
		printf("# shown: %s\n", s);
	free(s);
}

/* rename sources/NAME to NAME~ (vim's backup): the copy reads masked */
static void
backup_masked(struct eng *e, const char *name, const char *what)
{
	char bak[128];
	char *s;

	snprintf(bak, sizeof(bak), "%s~", name);
	is_rc(eng_rename(e, ENG_INO_SOURCES, name, ENG_INO_SOURCES, bak, 0, 0), 0,
	    "%s: rename to backup", what);
	s = get(e, ENG_INO_SOURCES, bak);
	ok(s != NULL && strstr(s, SECRET) == NULL, "%s backup: secret masked", what);
	free(s);
}

static void
test_sources(struct eng *e)
{
	struct eng_entry ent;
	struct eng_setattr sa;
	char *s, *w;
	size_t n;

	is_rc(put(e, ENG_INO_SOURCES, "ots.json", src_ots, O_TRUNC), 0, "source: valid");
	s = get(e, ENG_INO_SOURCES, "ots.json");
	ok(s != NULL && strstr(s, SECRET) == NULL && strstr(s, "\"******\"") != NULL,
	    "source: read shows ****** instead of the secret");
	is_rc(eng_lookup(e, ENG_INO_SOURCES, "ots.json", &ent), 0, "lookup source");
	is_int(ent.attr.mode & 0777, 0600, "source: mode 0600 although created 0644");
	memset(&sa, 0, sizeof(sa));
	sa.valid = ENG_SET_MODE;
	sa.mode = 0644;
	is_rc(eng_setattr(e, ent.attr.ino, 0, &sa, &ent), 0, "chmod 0644");
	is_int(ent.attr.mode & 0777, 0600, "chmod cannot widen a source");
	is_int(ent.attr.size, s != NULL ? strlen(s) : 0, "size is the masked view's");
	eng_forget(e, ent.attr.ino, 1);
	/* write the masked text back with another instance name */
	if (s != NULL && (w = strstr(s, "demo")) != NULL) {
		n = strlen(s);
		memcpy(w, "dem2", 4);
		is_rc(put(e, ENG_INO_SOURCES, "ots.json", s, O_TRUNC), 0,
		    "source: ****** written back is valid");
		free(s);
		s = get(e, ENG_INO_SOURCES, "ots.json");
		ok(s != NULL && strlen(s) == n && strstr(s, "dem2") != NULL &&
		    strstr(s, "\"******\"") != NULL, "source: still masked after write-back");
	} else {
		ok(0, "masked view has instanceName");
	}
	free(s);
	/* a copy (vim's backup) is masked too */
	backup_masked(e, "ots.json", "source");
	is_rc(eng_rename(e, ENG_INO_SOURCES, "ots.json~", ENG_INO_SOURCES, "ots.json", 0, 0), 0,
	    "source: rename back");
	/* sed -i on a source: the temp file holds the masked text it read */
	s = get(e, ENG_INO_SOURCES, "ots.json");
	if (s != NULL && (w = strstr(s, "dem2")) != NULL)
		memcpy(w, "dem3", 4);
	is_rc(put(e, ENG_INO_SOURCES, "sedQ1w2E3", s, O_EXCL), 0, "sed -i on a source: temp file");
	free(s);
	is_rc(eng_rename(e, ENG_INO_SOURCES, "sedQ1w2E3", ENG_INO_SOURCES, "ots.json", 0, 0), 0,
	    "sed -i on a source: rename");
	is_int(lk(e, ENG_INO_SOURCES, "ots.json.error"), 0, "sed -i on a source: valid");
	s = get(e, ENG_INO_SOURCES, "ots.json");
	ok(s != NULL && strstr(s, "dem3") != NULL && strstr(s, "\"******\"") != NULL,
	    "sed -i on a source: edit applied, still masked");
	free(s);
	is_rc(put(e, ENG_INO_SOURCES, "bad.json", "{\"type\":\"ots\",\"accessKey\":\"" SECRET "\"}",
	    O_TRUNC), 0, "invalid source: close succeeds");
	s = get(e, ENG_INO_SOURCES, "bad.json.error");
	ok(s != NULL && strstr(s, SECRET) == NULL, "source .error never shows the secret");
	free(s);
	s = get(e, ENG_INO_SOURCES, "bad.json");
	ok(s != NULL && strstr(s, SECRET) == NULL, "invalid source read: secret masked");
	free(s);
	is_rc(eng_unlink(e, ENG_INO_SOURCES, "bad.json", 0), 0, "unlink the bad source");
	/* issue 14: broken JSON, and valid JSON with other secret names */
	is_rc(put(e, ENG_INO_SOURCES, "broken.json", src_broken, O_TRUNC), 0,
	    "broken source: close succeeds");
	ok(lk(e, ENG_INO_SOURCES, "broken.json.error") != 0, "broken source has its .error");
	shows_masked(e, "broken.json", "\"accessKey\": \"******\"",
	    "broken source read: secret masked by line");
	s = get(e, ENG_INO_SOURCES, "broken.json.error");
	ok(s != NULL && strstr(s, SECRET) == NULL, "broken source .error: no secret");
	free(s);
	is_rc(put(e, ENG_INO_SOURCES, "names.json", src_names, O_TRUNC), 0,
	    "source with a password and a token: close succeeds");
	shows_masked(e, "names.json", "\"dbPassword\": \"******\"",
	    "every secret name masked at any depth in an invalid source");
	/* a copy under another name (STORE_DB_FILES) is masked too */
	backup_masked(e, "broken.json", "broken source");
}

static void
test_files_and_errnos(struct eng *e)
{
	struct eng_entry ent;
	struct eng_open oi;
	struct eng_setattr sa;
	struct buf b;
	char name[300];
	size_t w;
	uint64_t jd;

	/* binary-safe, pwrite at offsets, holes */
	is_rc(eng_create(e, ENG_INO_JOBS, "bin", 0600, O_RDWR | O_CREAT, 0, &ent, &oi), 0, "create bin");
	is_rc(eng_write(e, oi.fh, 10, "\0\1\2\3", 4, &w), 0, "pwrite at 10");
	is_rc(eng_write(e, oi.fh, 2, "AB", 2, &w), 0, "pwrite at 2");
	buf_init(&b, 1 << 20);
	is_rc(eng_read(e, oi.fh, 0, 100, &b), 0, "read back");
	ok(b.len == 14 && memcmp(b.p, "\0\0AB\0\0\0\0\0\0\0\1\2\3", 14) == 0, "bytes exact with hole");
	is_rc(eng_write(e, oi.fh, ENG_FILE_MAX, "x", 1, &w), -EFBIG, "write beyond 1 MiB: EFBIG");
	memset(&sa, 0, sizeof(sa));
	sa.valid = ENG_SET_SIZE;
	sa.size = ENG_FILE_MAX + 1;
	is_rc(eng_setattr(e, ent.attr.ino, oi.fh, &sa, &ent), -EFBIG, "truncate beyond 1 MiB: EFBIG");
	sa.valid = ENG_SET_MTIME;
	sa.mtime_ns = 1000000000LL * 1234567890;
	is_rc(eng_setattr(e, ent.attr.ino, 0, &sa, &ent), 0, "utimens");
	is_int(ent.attr.mtime_ns, 1000000000LL * 1234567890, "mtime set");
	is_rc(eng_release(e, oi.fh), 0, "release");
	eng_forget(e, ent.attr.ino, 1);
	buf_free(&b);

	is_rc(eng_symlink(e, "user@host.1:2", ENG_INO_JOBS, ".#j1.json", &ent), 0, "emacs lock symlink");
	ok(S_ISLNK(ent.attr.mode), "it is a symlink");
	buf_init(&b, 4096);
	is_rc(eng_readlink(e, ent.attr.ino, &b), 0, "readlink");
	is_str(b.p, "user@host.1:2", "link target");
	buf_free(&b);
	eng_forget(e, ent.attr.ino, 1);
	is_rc(eng_symlink(e, "x", ENG_INO_JOBS, ".#j1.json", &ent), -EEXIST, "symlink exists");

	is_rc(eng_mkdir(e, ENG_INO_JOBS, "d", 0755, &ent), -EPERM, "mkdir in jobs/: EPERM");
	is_rc(eng_mkdir(e, ENG_INO_SOURCES, "d", 0755, &ent), -EPERM, "mkdir in sources/: EPERM");
	is_rc(eng_link(e, lk(e, ENG_INO_JOBS, "bin"), ENG_INO_JOBS, "bin2", &ent), -EPERM,
	    "link: EPERM");
	is_rc(put(e, ENG_INO_JOBS, "a\nb", "x", 0), -EINVAL, "unprintable name: EINVAL");
	memset(name, 'n', 256);
	name[256] = '\0';
	is_rc(put(e, ENG_INO_JOBS, name, "x", 0), -ENAMETOOLONG, "256-byte name: ENAMETOOLONG");
	name[255] = '\0';
	is_rc(put(e, ENG_INO_JOBS, name, "x", 0), 0, "255-byte name works");
	is_rc(eng_unlink(e, ENG_INO_JOBS, name, 0), 0, "unlink it");
	/* definition names: name.h's rule (editor files keep the loose one) */
	is_rc(put(e, ENG_INO_JOBS, "my job.json", "{}", 0), -EINVAL, "a space in a job name: EINVAL");
	is_rc(put(e, ENG_INO_SOURCES, "-s.json", "{}", 0), -EINVAL, "a source name starting with '-': EINVAL");
	is_rc(put(e, ENG_INO_JOBS, "caf\xc3\xa9.json", "{}", 0), -EINVAL, "non-ASCII job name: EINVAL");
	is_rc(put(e, ENG_INO_JOBS, "a$(id).json", "{}", 0), -EINVAL, "shell characters: EINVAL");
	memset(name, 'd', 201);
	memcpy(name + 201, ".json", 6);
	is_rc(put(e, ENG_INO_JOBS, name, "{}", 0), -EINVAL, "201-byte job name: EINVAL");
	is_rc(put(e, ENG_INO_JOBS, "my job.json~", "x", 0), 0, "a backup of such a name is an editor file");
	is_rc(eng_rename(e, ENG_INO_JOBS, "my job.json~", ENG_INO_JOBS, "my job.json", 0, 0), -EINVAL,
	    "renaming onto a bad definition name: EINVAL");
	is_rc(eng_unlink(e, ENG_INO_JOBS, "my job.json~", 0), 0, "unlink it");
	is_rc(put(e, ENG_INO_INSTANCES, "x", "y", 0), -EROFS, "create in instances/: EROFS");
	is_rc(put(e, ENG_INO_ROOT, "x", "y", 0), -EPERM, "create in the root: EPERM");
	jd = lk(e, ENG_INO_INSTANCES, "j1");
	is_rc(eng_unlink(e, jd, "ctl", 0), -EROFS, "unlink in a defined job's dir: EROFS");
	is_rc(eng_rmdir(e, ENG_INO_INSTANCES, "j1"), -EBUSY, "rm -r of a defined job: refused");
	is_rc(eng_open(e, lk(e, jd, "ctl"), O_RDONLY, 0, &oi), 0, "reading ctl is allowed");
	(void)eng_release(e, oi.fh);
	is_rc(eng_open(e, lk(e, jd, "log"), O_WRONLY, 0, &oi), -EACCES, "writing log: EACCES");
	is_rc(eng_rename(e, ENG_INO_JOBS, "bin", ENG_INO_INSTANCES, "bin", 0, 0), -EROFS,
	    "rename into instances/: EROFS");
}

/* stat(name) twice: identical; its mtime is within [lo, hi] ns */
static bool
stat_stable(struct eng *e, uint64_t dir, const char *name, struct eng_attr *out)
{
	struct eng_entry a, b;

	if (eng_lookup(e, dir, name, &a) != 0 || eng_lookup(e, dir, name, &b) != 0)
		return false;
	eng_forget(e, a.attr.ino, 2);
	*out = a.attr;
	return a.attr.size == b.attr.size && a.attr.mtime_ns == b.attr.mtime_ns &&
	    a.attr.ctime_ns == b.attr.ctime_ns && a.attr.mode == b.attr.mode;
}

/* sizes and mtimes are true and stable (tar, rsync, find -newer) */
static void
test_stable(struct eng *e, uint64_t jd, uint64_t id)
{
	static const char *const files[] = { "state", "status", "params", "job.json", "log", "ctl" };
	struct eng_attr a, a2;
	size_t i;
	bool all = true;
	char *s;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct eng_entry ent;

		s = NULL;
		if (eng_lookup(e, id, files[i], &ent) == 0) {	/* no lookup left behind */
			s = get_ino(e, ent.attr.ino, NULL);
			eng_forget(e, ent.attr.ino, 1);
		}
		if (!stat_stable(e, id, files[i], &a) || s == NULL || a.size != strlen(s) ||
		    a.mtime_ns <= 0) {
			all = false;
			printf("# instance file %s: size %llu, content %zu\n", files[i],
			    (unsigned long long)a.size, s != NULL ? strlen(s) : 0);
		}
		free(s);
	}
	ok(all, "every instance file: stat twice equal, size = bytes read, mtime set");
	ok(stat_stable(e, jd, "log", &a), "job log: stat twice equal");
	s = get(e, jd, "log");
	ok(s != NULL && a.size == strlen(s) && a.size > 0, "job log: true size (%llu)",
	    (unsigned long long)a.size);
	free(s);
	ok(stat_stable(e, jd, "summary", &a), "summary: stat twice equal");
	s = get(e, jd, "summary");
	ok(s != NULL && a.size == strlen(s) && strstr(s, "\"job\": \"j1\"") != NULL &&
	    strstr(s, "\"SUCCESS\": ") != NULL && strstr(s, "\"valid\": true") != NULL &&
	    strstr(s, "\"health\": \"") != NULL && strstr(s, "\"lag_seconds\": ") != NULL,
	    "summary: JSON with counts, health, freshness, definition");
	if (s != NULL)
		printf("# %s", s);
	free(s);
	ok(stat_stable(e, ENG_INO_ROOT, "status", &a), "MOUNT/status: stat twice equal");
	s = get(e, ENG_INO_ROOT, "status");
	ok(s != NULL && a.size == strlen(s) && strstr(s, "\"version\": ") != NULL &&
	    strstr(s, "\"failed_last_24h\": ") != NULL, "MOUNT/status: JSON");
	free(s);
	/* a change moves the mtime of what changed */
	ok(stat_stable(e, jd, "summary", &a), "summary before a change");
	(void)put(e, ENG_INO_JOBS, "j1.json", job_bad, O_TRUNC);
	ok(stat_stable(e, jd, "summary", &a2) && a2.mtime_ns > a.mtime_ns && a2.size != a.size,
	    "an invalid save moves the summary's mtime and changes it");
	s = get(e, jd, "summary");
	ok(s != NULL && strstr(s, "\"valid\": false") != NULL && strstr(s, "\"health\": \"invalid\"")
	    != NULL && strstr(s, "jobs/j1.json:1:") != NULL, "summary: definition invalid, errors");
	free(s);
	(void)put(e, ENG_INO_JOBS, "j1.json", job_ok, O_TRUNC);
}

static void
test_ctl(struct eng *e)
{
	struct eng_open oi;
	struct eng_entry ent;
	struct buf b;
	size_t w;
	char *s;
	uint64_t jd, ino, id;
	int rc, i;

	jd = lk(e, ENG_INO_INSTANCES, "j1");
	ino = lk(e, jd, "ctl");
	is_rc(eng_open(e, ino, O_WRONLY | O_TRUNC, 0, &oi), 0, "open job ctl");
	is_rc(eng_write(e, oi.fh, 0, "bogus\n", 6, &w), ENG_EINVAL, "unknown command: EINVAL");
	/* log injection (issue 14): a second line is refused, other control
	 * bytes reach the job log as \xHH, each entry stays one line */
	is_rc(eng_write(e, oi.fh, 0, "run\nFAKE LINE", 13, &w), ENG_EINVAL,
	    "a ctl write of two lines: EINVAL");
	is_rc(eng_write(e, oi.fh, 0, "bogus\rFAKE\033[2J\n", 15, &w), ENG_EINVAL,
	    "a ctl write with control bytes: EINVAL");
	is_rc(eng_write(e, oi.fh, 0, "run 20261125000000\n", 19, &w), 0, "run CYCLE");
	is_rc(eng_write(e, oi.fh, 0, "run 20261125000000 x\n", 21, &w), ENG_EINVAL, "wrong args: EINVAL");
	(void)eng_release(e, oi.fh);
	s = get(e, jd, "log");
	ok(s != NULL && strstr(s, "bogus") != NULL, "the job log says why");
	ok(s != NULL && strstr(s, "\nFAKE") == NULL && strchr(s, '\r') == NULL &&
	    strchr(s, '\033') == NULL, "no forged line, no control byte in the job log");
	ok(s != NULL && strstr(s, "'bogus\\x0dFAKE\\x1b[2J'") != NULL,
	    "control bytes shown as \\xHH in the job log");
	if (s != NULL)
		printf("# %s", s);
	free(s);
	s = get(e, jd, "ctl");
	ok(s != NULL && strstr(s, "#   backfill FROM TO ") != NULL && strstr(s, "# last command at ") !=
	    NULL && strstr(s, ": run 20261125000000 x\nrefused: ") != NULL,
	    "reading ctl: the help, then the last command and why it was refused");
	if (s != NULL)
		printf("# %s", s);
	is_rc(eng_lookup(e, jd, "ctl", &ent), 0, "lookup ctl");
	ok(s != NULL && ent.attr.size == strlen(s) && ent.attr.mode == (S_IFREG | 0600),
	    "ctl: true size, mode 0600");
	eng_forget(e, ent.attr.ino, 1);
	free(s);
	id = lk(e, jd, "20261125000000");
	ok(id != 0, "the instance directory appears");
	buf_init(&b, 64);
	is_rc(eng_readlink(e, lk(e, jd, "latest"), &b), 0, "latest");
	is_str(b.p, "20261125000000", "latest points to it");
	buf_free(&b);
	for (i = 0; i < 50; i++) {
		(void)sched_step(eng_scheduler(e));
		(void)sched_wait_idle(eng_scheduler(e), 10000);
		s = get(e, id, "state");
		rc = s != NULL && strcmp(s, "SUCCESS\n") == 0;
		free(s);
		if (rc)
			break;
	}
	s = get(e, id, "state");
	is_str(s, "SUCCESS\n", "state: one word and a newline");
	free(s);
	is_rc(eng_lookup(e, id, "status", &ent), 0, "lookup status");
	is_int(ent.attr_timeout, 0, "status: attr timeout 0 (live)");
	s = get_ino(e, ent.attr.ino, NULL);
	ok(s != NULL && strlen(s) == ent.attr.size, "status: size matches the content");
	ok(s != NULL && strstr(s, "\"state\"") != NULL && strstr(s, "SUCCESS") != NULL,
	    "status is JSON with the state");
	free(s);
	eng_forget(e, ent.attr.ino, 1);
	s = get(e, id, "job.json");
	ok(s != NULL && strstr(s, "txtfile") != NULL, "job.json is the resolved job");
	free(s);
	s = get(e, id, "log");
	ok(s != NULL && strlen(s) > 0, "instance log has lines");
	if (s != NULL)
		printf("# log: %.200s\n", s);
	free(s);
	is_rc(eng_lookup(e, id, "log", &ent), 0, "lookup log");
	is_int(ent.attr_timeout, 0, "log: attr timeout 0 (tail -f)");
	eng_forget(e, ent.attr.ino, 1);
	s = get(e, id, "params");
	ok(s != NULL, "params readable");
	free(s);
	inval_reset();
	ino = lk(e, id, "ctl");
	is_rc(eng_open(e, ino, O_WRONLY, 0, &oi), 0, "open instance ctl");
	is_rc(eng_write(e, oi.fh, 0, "nonsense", 8, &w), ENG_EINVAL, "instance ctl: unknown: EINVAL");
	is_rc(eng_write(e, oi.fh, 0, "freeze\n", 7, &w), ENG_ESTATE, "freeze a finished one: ESTATE");
	is_rc(eng_write(e, oi.fh, 0, "rerun\n", 6, &w), 0, "rerun");
	(void)eng_release(e, oi.fh);
	s = get(e, id, "state");
	ok(s != NULL && strcmp(s, "SUCCESS\n") != 0, "rerun changed the state");
	free(s);
	ok(was_invalidated(lk(e, id, "log")) && was_invalidated(lk(e, id, "state")),
	    "the scheduler's notify invalidates the instance's log and state inodes");
	s = get(e, id, "ctl");
	ok(s != NULL && strstr(s, ": rerun\nok: rerun: a new attempt series is WAITING\n") != NULL,
	    "instance ctl shows the last result: ok");
	free(s);
	(void)sched_step(eng_scheduler(e));
	(void)sched_wait_idle(eng_scheduler(e), 10000);
	test_stable(e, jd, id);
}

static bool
plus_cb(void *arg, const struct eng_dirent *d)
{
	struct names *n = arg;

	if (d->entry != NULL && strcmp(d->name, "state") == 0)
		n->last_off = d->entry->attr.ino;
	if (d->entry != NULL && d->entry->attr.ino != d->ino)
		n->sorted = false;
	n->total++;
	return false;
}

static void
test_lookup_counts(struct eng *e)
{
	struct eng_entry a, b;
	struct names n;
	uint64_t id = lk_path(e, "instances/j1/20261125000000");

	is_rc(eng_lookup(e, id, "status", &a), 0, "lookup status");
	is_rc(eng_lookup(e, id, "status", &b), 0, "lookup status again");
	is_int(a.attr.ino, b.attr.ino, "same path, same inode while known");
	eng_forget(e, a.attr.ino, 2);
	is_rc(eng_getattr(e, a.attr.ino, &b), -ENOENT, "forgotten to 0: the inode is gone");
	memset(&n, 0, sizeof(n));
	n.sorted = true;
	is_rc(eng_readdir(e, id, 0, ENG_READDIR_PLUS, plus_cb, &n), 0, "readdirplus");
	is_int(n.total, 8, "., .., and six files");
	ok(n.sorted, "readdirplus entries carry their inode");
	is_int(n.last_off, lk(e, id, "state"), "readdirplus counted a lookup: same inode after");
}

static void
test_source_dep(struct eng *e)
{
	const char *job =
	    "{\"type\":\"job\",\"version\":\"2.0\",\"configuration\":{"
	    "\"setting\":{\"errorLimit\":{\"record\":\"0\"}},"
	    "\"reader\":{\"plugin\":\"stream\",\"parameter\":{\"sliceRecordCount\":\"1\","
	    "\"column\":[{\"type\":\"string\",\"value\":\"x\"}]}},"
	    "\"writer\":{\"plugin\":\"oss\",\"parameter\":{\"datasource\":\"oss-b\","
	    "\"object\":\"x/${p}\",\"writeMode\":\"truncate\",\"fileFormat\":\"csv\"}}}}";
	const char *src = "{\"type\":\"oss\",\"endpoint\":\"http://127.0.0.1:9\","
	    "\"bucket\":\"bkt-1\",\"accessId\":\"id\",\"accessKey\":\"" SECRET "-oss\"}";
	struct eng_open oi;
	size_t w;
	uint64_t jd;
	char *s;

	is_rc(put(e, ENG_INO_JOBS, "dep.json", job, O_EXCL), 0,
	    "job naming a missing source: saved (invalid)");
	s = get(e, ENG_INO_JOBS, "dep.json.error");
	ok(s != NULL && strstr(s, "oss-b") != NULL, ".error names the missing source");
	free(s);
	is_rc(put(e, ENG_INO_SOURCES, "oss-b.json", src, O_EXCL), 0, "the source arrives");
	is_int(lk(e, ENG_INO_JOBS, "dep.json.error"), 0, "the waiting job is valid now");
	ok(sched_job_defined(eng_scheduler(e), "dep"), "and defined");
	jd = lk(e, ENG_INO_INSTANCES, "dep");
	is_rc(eng_open(e, lk(e, jd, "ctl"), O_WRONLY, 0, &oi), 0, "dep ctl");
	is_rc(eng_write(e, oi.fh, 0, "run 20261125000000", 18, &w), 0, "run dep (not stepped)");
	(void)eng_release(e, oi.fh);
	s = get(e, lk(e, jd, "20261125000000"), "job.json");
	ok(s != NULL && strstr(s, "oss") != NULL && strstr(s, SECRET) == NULL,
	    "job.json of an instance never shows the source's secret");
	free(s);
	s = get(e, jd, "log");
	ok(s == NULL || strstr(s, SECRET) == NULL, "the job log has no secret");
	ok(s != NULL && strstr(s, "definition: jobs/dep.json checked again after "
	    "sources/oss-b.json changed by ") != NULL, "the job log says the source made it valid");
	free(s);
	is_rc(put(e, ENG_INO_SOURCES, "oss-b.json", "{\"type\": \"oss\"}", O_TRUNC), 0,
	    "an invalid save of the source the job uses");
	s = get(e, jd, "log");
	ok(s != NULL && strstr(s, "WARN source: sources/oss-b.json (this job's datasource) saved by ")
	    != NULL && strstr(s, "runs keep using the last valid source") != NULL,
	    "the job's log says its source was saved invalid and the last valid one stays");
	ok(s == NULL || strstr(s, SECRET) == NULL, "still no secret in the job log");
	free(s);
}

/* ---- concurrency: writers, readers and listers at once ---------------------- */

struct worker {
	struct eng	*e;
	int		 id;
	int		 errors;
};

static void *
writer_main(void *p)
{
	struct worker *w = p;
	char name[32], *s;
	int i, rc;

	snprintf(name, sizeof(name), "t%d.json", w->id);
	for (i = 0; i < 30; i++) {
		rc = put(w->e, ENG_INO_JOBS, name, (i % 3 == 2) ? job_bad : job_ok, O_TRUNC);
		if (rc != 0)
			w->errors++;
		s = get(w->e, ENG_INO_JOBS, name);
		if (s == NULL || strcmp(s, (i % 3 == 2) ? job_bad : job_ok) != 0)
			w->errors++;
		free(s);
	}
	return NULL;
}

static void *
reader_main(void *p)
{
	struct worker *w = p;
	struct names n;
	char *s;
	int i;

	for (i = 0; i < 60; i++) {
		n = list(w->e, ENG_INO_JOBS);
		if (n.n < 0)
			w->errors++;
		n = list(w->e, ENG_INO_INSTANCES);
		if (n.n < 0)
			w->errors++;
		s = get(w->e, lk_path(w->e, "instances/j1/20261125000000"), "status");
		if (s == NULL)
			w->errors++;
		free(s);
	}
	return NULL;
}

static void
test_concurrent(struct eng *e)
{
	struct worker w[12];
	pthread_t th[12];
	int i, errors = 0;

	for (i = 0; i < 12; i++) {
		w[i].e = e;
		w[i].id = i;
		w[i].errors = 0;
		pthread_create(&th[i], NULL, i < 8 ? writer_main : reader_main, &w[i]);
	}
	for (i = 0; i < 12; i++) {
		pthread_join(th[i], NULL);
		errors += w[i].errors;
	}
	is_int(errors, 0, "8 writers + 4 readers/listers in threads: every result as expected");
	for (i = 0; i < 8; i++) {
		char name[32];

		snprintf(name, sizeof(name), "t%d.json", i);
		ok(sched_job_defined(eng_scheduler(e), name[0] == 't' ? (name[strlen(name) - 5] = '\0', name) : name),
		    "t%d defined (last valid kept)", i);
	}
}

static void
test_many(struct eng *e)
{
	struct eng_open oi;
	struct names n;
	size_t w;
	uint64_t jd, off = 0;
	int pages = 0, rc = 0;
	const char *cmd = "backfill 20261124000000 20261124100000\n";

	jd = lk(e, ENG_INO_INSTANCES, "j1");
	is_rc(eng_open(e, lk(e, jd, "ctl"), O_WRONLY, 0, &oi), 0, "open ctl");
	is_rc(eng_write(e, oi.fh, 0, "pause", 5, &w), 0, "pause");
	is_rc(eng_write(e, oi.fh, 0, cmd, strlen(cmd), &w), 0, "backfill 120 cycles");
	memset(&n, 0, sizeof(n));
	n.sorted = true;
	n.limit = 7;
	do {
		n.in_page = 0;
		rc = eng_readdir(e, jd, off, 0, names_cb, &n);
		if (pages == 3) {
			/* an instance created between two pages, before the cursor */
			const char *c2 = "run 20261125001000";

			(void)eng_write(e, oi.fh, 0, c2, strlen(c2), &w);
		}
		off = n.last_off;
		pages++;
	} while (rc == 0 && n.in_page > 0 && pages < 1000);
	(void)eng_release(e, oi.fh);
	is_rc(rc, 0, "paged readdir");
	/* ., .., ctl, latest, log, summary, 20261125000000, 120 backfilled;
	 * the one inserted before the cursor is not repeated */
	is_int(n.total, 6 + 1 + 120, "every entry once across %d pages", pages);
	ok(n.sorted, "instances in cycle order");
}

static void
test_remove_job(struct eng *e)
{
	uint64_t jd;

	is_rc(put(e, ENG_INO_JOBS, "j2.json", job_ok, O_EXCL), 0, "job j2");
	jd = lk(e, ENG_INO_INSTANCES, "j2");
	ok(jd != 0, "instances/j2");
	{
		struct eng_open oi;
		size_t w;

		is_rc(eng_open(e, lk(e, jd, "ctl"), O_WRONLY, 0, &oi), 0, "j2 ctl");
		is_rc(eng_write(e, oi.fh, 0, "pause", 5, &w), 0, "pause j2");
		is_rc(eng_write(e, oi.fh, 0, "run 20261125000000", 18, &w), 0, "run j2");
		(void)eng_release(e, oi.fh);
	}
	is_rc(eng_unlink(e, ENG_INO_JOBS, "j2.json", 0), 0, "rm jobs/j2.json");
	ok(sched_job_defined(eng_scheduler(e), "j2"), "j2 kept during the grace");
	atomic_fetch_add(&fake_now, 61000);
	(void)sched_step(eng_scheduler(e));
	(void)sched_wait_idle(eng_scheduler(e), 10000);
	ok(!sched_job_defined(eng_scheduler(e), "j2"), "j2 removed after the grace");
	jd = lk(e, ENG_INO_INSTANCES, "j2");
	ok(jd != 0 && lk(e, jd, "20261125000000") != 0, "its history stays visible");
	is_rc(eng_unlink(e, lk(e, jd, "20261125000000"), "state", 0), 0,
	    "rm -r: unlinking a deleted job's view files is allowed");
	is_rc(eng_rmdir(e, jd, "20261125000000"), 0, "rm -r: rmdir of one instance of it");
	is_int(lk(e, jd, "20261125000000"), 0, "that instance is gone");
	is_rc(eng_rmdir(e, ENG_INO_INSTANCES, "j2"), 0, "rm -r instances/j2 removes the history");
	is_int(lk(e, ENG_INO_INSTANCES, "j2"), 0, "instances/j2 gone");
	is_rc(eng_rmdir(e, ENG_INO_INSTANCES, "j2"), -ENOENT, "again: ENOENT");
}

static void
test_remount(void)
{
	struct eng *e = mount_eng();
	struct store *st = NULL;
	struct eng_errbuf eb;
	struct buf b;
	char *s;
	uint64_t ino;

	ok(e != NULL, "remount");
	if (e == NULL)
		return;
	s = get(e, ENG_INO_JOBS, "j1.json");
	is_str(s, job_ok, "job bytes survive a remount");
	free(s);
	ok(sched_job_defined(eng_scheduler(e), "j1"), "the job is defined again");
	ino = lk(e, ENG_INO_JOBS, "bin");
	s = ino != 0 ? get_ino(e, ino, NULL) : NULL;
	ok(s != NULL && memcmp(s, "\0\0AB", 4) == 0 && s[13] == 3, "binary file survives");
	free(s);
	ino = lk(e, ENG_INO_JOBS, ".#j1.json");
	buf_init(&b, 4096);
	ok(ino != 0 && eng_readlink(e, ino, &b) == 0 && strcmp(b.p, "user@host.1:2") == 0,
	    "symlink survives");
	buf_free(&b);
	ok(lk_path(e, "instances/j1/20261125000000/state") != 0, "instances survive");
	s = get(e, ENG_INO_JOBS, "open-at-unmount");
	is_str(s, "kept", "bytes of a handle still open at unmount were committed");
	free(s);
	s = get(e, ENG_INO_SOURCES, "ots.json");
	ok(s != NULL && strstr(s, "dem3") != NULL && strstr(s, SECRET) == NULL,
	    "source survives, masked");
	free(s);
	shows_masked(e, "broken.json~", "\"accessKey\": \"******\"",
	    "broken source after a remount: masked");
	shows_masked(e, "names.json", "\"dbPassword\": \"******\"",
	    "invalid source after a remount: masked");
	/* an invalid file over a valid definition: still .error after a remount */
	is_rc(put(e, ENG_INO_JOBS, "j1.json", job_bad, O_TRUNC), 0, "break j1");
	eng_free(e);
	e = mount_eng();
	ok(e != NULL && lk(e, ENG_INO_JOBS, "j1.json.error") != 0, ".error recomputed at mount");
	ok(e != NULL && sched_job_defined(eng_scheduler(e), "j1"),
	    "the last valid definition runs after a remount");
	eng_free(e);
	/* the stored source keeps the secret the mount never shows */
	memset(&eb, 0, sizeof(eb));
	is_rc(store_open(tmpdir, NULL, &st, &eb), 0, "open the store directly");
	if (st != NULL) {
		struct store_txn *t = NULL;
		struct buf raw;

		buf_init(&raw, 1 << 20);
		if (store_txn_begin(st, STORE_TXN_RDONLY, &t) == 0) {
			(void)store_get_buf(t, STORE_DB_SOURCES, "ots", 3, &raw);
			(void)buf_add(&raw, "\n---\n", 5);
			(void)store_get_buf(t, STORE_DB_DEFS, "s\0ots", 5, &raw);
			store_txn_abort(t);
		}
		ok(strstr(raw.p, SECRET) != NULL && strstr(raw.p, "\n---\n") != NULL &&
		    strstr(strstr(raw.p, "\n---\n"), SECRET) != NULL &&
		    strstr(strstr(raw.p, "\n---\n"), "dem3") != NULL && strstr(raw.p, "dem3") != NULL &&
		    strstr(raw.p, CONF_MASK) == NULL,
		    "stored source and its running definition: secret kept under ****** write-back, edit applied");
		buf_free(&raw);
		store_close(st);
	}
}

/*
 * Stored definitions that form a dependsOn cycle (a state written before
 * cycles were checked): at start the jobs are defined one by one; the one
 * that closes the cycle is not defined, and its file gets the .error.
 */
static void
test_stored_cycle(void)
{
	static const char *const names[] = { "cy1", "cy2" };
	static const char *const tz = "\"timezone\":\"UTC\"}";
	struct store *st = NULL;
	struct store_txn *t = NULL;
	struct eng_errbuf eb;
	struct eng *e;
	char def[2048], key[8];
	const char *p = strstr(job_ok, tz);
	int i, n, ndef = 0, nerr = 0;
	char *s;

	memset(&eb, 0, sizeof(eb));
	ok(p != NULL, "the job has a schedule to add dependsOn to");
	is_rc(store_open(tmpdir, NULL, &st, &eb), 0, "open the store directly");
	if (st == NULL || p == NULL)
		return;
	if (store_txn_begin(st, 0, &t) == 0) {
		for (i = 0; i < 2; i++) {
			n = snprintf(def, sizeof(def), "%.*s\"timezone\":\"UTC\",\"dependsOn\":[{\"job\":\"%s\"}]}%s",
			    (int)(p - job_ok), job_ok, names[1 - i], p + strlen(tz));
			memcpy(key, "j\0", 2);
			memcpy(key + 2, names[i], 3);
			(void)store_put(t, STORE_DB_JOBS, names[i], 3, def, (size_t)n, 0);
			(void)store_put(t, STORE_DB_DEFS, key, 5, def, (size_t)n, 0);
		}
		is_rc(store_txn_commit(t), 0, "two stored definitions depending on each other");
	}
	store_close(st);
	if ((e = mount_eng()) == NULL)
		return;
	for (i = 0; i < 2; i++) {
		char ename[32];

		ndef += sched_job_defined(eng_scheduler(e), names[i]);
		snprintf(ename, sizeof(ename), "%s.json.error", names[i]);
		if ((s = get(e, ENG_INO_JOBS, ename)) != NULL) {
			nerr++;
			ok(strstr(s, "error: \"dependsOn\": dependency cycle: ") != NULL &&
			    strstr(s, "; remove one of these dependencies") != NULL,
			    "%s names the cycle", ename);
			free(s);
		}
	}
	is_int(ndef, 1, "one of the two is defined again");
	is_int(nerr, 1, "the other one is invalid, with its .error");
	eng_free(e);
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
main(void)
{
	int rc;

	struct eng *e, *e2;
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_eng.XXXXXX", base != NULL ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	atomic_init(&fake_now, T0_MS);
	make_jobs();
	e = mount_eng();
	ok(e != NULL, "eng_new on a fresh state dir");
	if (e == NULL)
		return done_testing();
	e2 = mount_eng();
	ok(e2 == NULL, "a second engine on the same state dir is refused");
	eng_free(e2);
	test_root(e);
	test_valid_invalid(e);
	test_bash_redirect(e);
	test_vim(e);
	test_sed_mv(e);
	test_sources(e);
	test_files_and_errnos(e);
	test_ctl(e);
	test_lookup_counts(e);
	test_many(e);
	test_remove_job(e);
	test_concurrent(e);
	test_source_dep(e);
	{
		/* bytes written through a handle the kernel never closed */
		struct eng_entry ent;
		struct eng_open oi;
		size_t w;

		is_rc(eng_create(e, ENG_INO_JOBS, "open-at-unmount", 0644, O_WRONLY | O_CREAT,
		    0, &ent, &oi), 0, "create a file and keep it open");
		is_rc(eng_write(e, oi.fh, 0, "kept", 4, &w), 0, "write without close");
	}
	eng_free(e);
	test_remount();
	test_stored_cycle();
	rc = done_testing();
	if (rc == 0 && getenv("KEEP") == NULL)
		(void)nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
