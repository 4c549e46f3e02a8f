/* SPDX-License-Identifier: MIT */
/*
 * test_store_backup.c - store_backup, store_inspect, store_restore: a round
 * trip of every named database (logs included) while the source store is
 * open and written by another process, a backup through a pipe, backups
 * racing map growth, and the refusals: a restore into a non-empty or a held
 * state directory, of a non-LMDB, empty, truncated or newer-schema file,
 * from a short pipe; cancellation and a closed output pipe.  A failed
 * restore leaves no trace.  Secrets: a file backup carries the key
 * (store_backup_key) and restores it; the piped one does not and restores
 * onto the source's key copied in; without a key or with another one the
 * restore fails with the reason and leaves the directory as it was.  Every case uses its own mkdtemp directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "sys.h"
#include "tap.h"

static char base[256];		/* this run's directory; every case below it */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

/* BASE/NAME into out */
static const char *
at(char *out, size_t outsz, const char *name)
{
	int n = snprintf(out, outsz, "%s/%s", base, name);

	if (n < 0 || (size_t)n >= outsz) {
		printf("Bail out! path too long\n");
		exit(1);
	}
	return out;
}

static int
exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

/* ---- a store with something in every database ------------------------------ */

#define NJOBS	5
#define NCYC	4

static int
fill_fn(struct store_txn *t, void *arg)
{
	int round = *(int *)arg, rc = 0;
	char name[32], cyc[32], key[128], val[256];
	size_t kl;

	for (int j = 0; j < NJOBS && rc == 0; j++) {
		(void)snprintf(name, sizeof(name), "job%d", j);
		(void)snprintf(val, sizeof(val), "{\"secret\":\"key-%d-r%d\"}", j, round);
		rc = store_put(t, STORE_DB_SOURCES, name, strlen(name), val, strlen(val), 0);
		if (rc == 0)
			rc = store_put(t, STORE_DB_JOBS, name, strlen(name), val, strlen(val), 0);
		if (rc == 0 && store_key_def(key, sizeof(key), STORE_DEF_JOB, name, &kl) == 0)
			rc = store_put(t, STORE_DB_DEFS, key, kl, "parsed", 6, 0);
		if (rc == 0)
			rc = store_put(t, STORE_DB_CHECKPOINTS, name, strlen(name), "\0\1ckpt", 6, 0);
		for (int c = 0; c < NCYC && rc == 0; c++) {
			(void)snprintf(cyc, sizeof(cyc), "2026112512%02d%02d", c % 60, round % 60);
			if ((rc = store_key_instance(key, sizeof(key), name, cyc, &kl)) != 0)
				break;
			(void)snprintf(val, sizeof(val), "RUNNING attempt %d", round);
			rc = store_put(t, STORE_DB_INSTANCES, key, kl, val, strlen(val), 0);
			if (rc == 0)
				rc = store_log_append(t, key, kl, "a log line\n", 11, 1000 + round, NULL);
		}
	}
	if (rc == 0)
		rc = store_put(t, STORE_DB_FILES, "jobs/.x.swp", 11, "swap", 4, 0);
	if (rc == 0)
		rc = store_put(t, STORE_DB_META, "mine", 4, "m", 1, 0);
	return rc;
}

static int
fill(struct store *s, int round)
{
	return store_update(s, fill_fn, &round);
}

/* every (db, key, value) of a store as text lines, for comparing two */
struct dump {
	struct buf	*b;
	int		 db;
};

static int
dump_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct dump *d = arg;
	const unsigned char *k = key, *v = val;

	(void)buf_printf(d->b, "%d ", d->db);
	for (size_t i = 0; i < klen; i++)
		(void)buf_printf(d->b, "%02x", k[i]);
	(void)buf_addc(d->b, ' ');
	for (size_t i = 0; i < vlen; i++)
		(void)buf_printf(d->b, "%02x", v[i]);
	return buf_addc(d->b, '\n');
}

static int
dump_fn(struct store_txn *t, void *arg)
{
	struct dump d = { arg, 0 };
	int rc = 0;

	for (d.db = 0; d.db < STORE_DB__COUNT && rc == 0; d.db++) {
		if (d.db == STORE_DB_META)
			continue;	/* commit_seq moves with every write */
		rc = store_iter(t, d.db, NULL, 0, NULL, 0, 0, dump_cb, &d);
	}
	return rc;
}

static int
dump_dir(const char *dir, struct buf *b)
{
	struct store *s = NULL;
	int rc;

	buf_reset(b);
	if ((rc = store_open(dir, NULL, &s, NULL)) != 0)
		return rc;
	rc = store_view(s, dump_fn, b);
	store_close(s);
	return rc != 0 ? rc : b->err;
}

/* ---- backup in a child process (LMDB: one env per dir and process) --------- */

/* fork; the child backs dir up to path (O_EXCL) n times, reports rc */
static pid_t
backup_child(const char *dir, const char *path, int n, int pfd)
{
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) != 0)
		return pid;
	for (int i = 0; i < n; i++) {
		struct store_dump_info di;
		int rc, fd;

		(void)unlink(path);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		rc = fd < 0 ? -errno : store_backup(dir, fd, NULL, &di, NULL);
		if (rc == 0) {
			bool had;

			rc = store_backup_key(dir, fd, &had, NULL);
		}
		if (fd >= 0)
			close(fd);
		if (rc == 0)
			rc = store_inspect(path, NULL, NULL);
		if (rc != 0 || i == n - 1) {
			if (write(pfd, &rc, sizeof(rc)) != (ssize_t)sizeof(rc))
				_exit(1);
			break;
		}
	}
	_exit(0);
}

static int
child_rc(pid_t pid, int rfd)
{
	int rc = 1, status;

	if (read(rfd, &rc, sizeof(rc)) != (ssize_t)sizeof(rc))
		rc = -EPIPE;
	close(rfd);
	(void)waitpid(pid, &status, 0);
	return rc;
}

/* copy the key file of dir a into dir b (made 0700) */
static int
copy_key(const char *a, const char *b)
{
	char pa[320], pb[320];
	struct buf k;
	int fd, rc;

	buf_init(&k, 64);
	(void)snprintf(pa, sizeof(pa), "%s/secret.key", a);
	(void)snprintf(pb, sizeof(pb), "%s/secret.key", b);
	if ((rc = sys_mkdir_p(b, 0700)) != 0 || (rc = sys_read_file(pa, 64, &k)) != 0)
		goto out;
	if ((fd = open(pb, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0) {
		rc = -errno;
		goto out;
	}
	rc = sys_write_all(fd, k.p, k.len);
	close(fd);
out:
	buf_free(&k);
	return rc;
}

/* the two key files hold the same bytes */
static int
same_key(const char *a, const char *b)
{
	char pa[320], pb[320];
	struct buf ka, kb;
	int same;

	buf_init(&ka, 64);
	buf_init(&kb, 64);
	(void)snprintf(pa, sizeof(pa), "%s/secret.key", a);
	(void)snprintf(pb, sizeof(pb), "%s/secret.key", b);
	same = sys_read_file(pa, 64, &ka) == 0 && sys_read_file(pb, 64, &kb) == 0 &&
	    ka.len == 32 && ka.len == kb.len && memcmp(ka.p, kb.p, ka.len) == 0;
	buf_free(&ka);
	buf_free(&kb);
	return same;
}

/* restore of the keyless backup FILE into dir fails with ENG_ECORRUPT and
 * a message holding want; dir is as before (absent, or only its key) */
static void
restore_refused(const char *file, const char *dir, const char *want, const char *what)
{
	struct eng_errbuf eb = { "" };
	char p[300];
	int fd = open(file, O_RDONLY);

	is_rc(store_restore(fd, dir, NULL, NULL, &eb), ENG_ECORRUPT, "%s: refused", what);
	close(fd);
	ok(strstr(eb.msg, want) != NULL, "%s: the reason says so (%s)", what, eb.msg);
	(void)snprintf(p, sizeof(p), "%s/data.mdb", dir);
	ok(!exists(p), "%s: no data.mdb left", what);
}

static void
test_round_trip(void)
{
	char src[300], bak[300], dst[300], p[300];
	struct store_config ex = { .exclusive = true, .map_size = 1 << 20 };
	struct store_dump_info di;
	struct eng_errbuf eb = { "" };
	struct store *s = NULL;
	struct buf want, got;
	struct stat sb;
	int pfd[2], fd, rc;
	pid_t pid;

	buf_init(&want, 1 << 24);
	buf_init(&got, 1 << 24);
	at(src, sizeof(src), "src");
	at(bak, sizeof(bak), "b.mdb");
	at(dst, sizeof(dst), "restored");
	is_rc(store_open(src, &ex, &s, &eb), 0, "source store open, exclusive (as a mount holds it)");
	is_rc(fill(s, 1), 0, "every database filled");

	/* the backup while the holder keeps the store open */
	ok(pipe(pfd) == 0, "pipe");
	pid = backup_child(src, bak, 1, pfd[1]);
	close(pfd[1]);
	is_rc(child_rc(pid, pfd[0]), 0, "backup by another process while the store is held");
	is_rc(store_view(s, dump_fn, &want), 0, "dump of the source");
	is_rc(fill(s, 2), 0, "the holder writes on after the backup");

	ok(stat(bak, &sb) == 0 && (sb.st_mode & 0777) == 0600, "backup file is 0600");
	is_rc(store_inspect(bak, &di, &eb), 0, "store_inspect accepts the backup (%s)", eb.msg);
	is_int(di.entries[STORE_DB_SOURCES], NJOBS, "sources counted");
	is_int(di.entries[STORE_DB_JOBS], NJOBS, "jobs counted");
	is_int(di.entries[STORE_DB_INSTANCES], NJOBS * NCYC, "instances counted");
	is_int(di.entries[STORE_DB_CHECKPOINTS], NJOBS, "checkpoints counted");
	is_int(di.entries[STORE_DB_LOGS], 2 * NJOBS * NCYC, "log headers + records counted");
	is_int(di.bytes, sb.st_size, "bytes = file size");
	is_int(di.schema, STORE_SCHEMA_VERSION, "schema version");
	ok(!exists(at(p, sizeof(p), "b.mdb-lock")), "inspect left no lock file beside the backup");

	fd = open(bak, O_RDONLY);
	memset(&di, 0, sizeof(di));
	is_rc(store_restore(fd, dst, NULL, &di, &eb), 0, "restore into a new directory (%s)", eb.msg);
	close(fd);
	is_int(di.entries[STORE_DB_INSTANCES], NJOBS * NCYC, "restore reports what it restored");
	ok(stat(dst, &sb) == 0 && (sb.st_mode & 0777) == 0700, "restored dir is 0700");
	ok(stat(at(p, sizeof(p), "restored/data.mdb"), &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "restored data.mdb is 0600");
	ok(!exists(at(p, sizeof(p), "restored/data.mdb.restore")), "no temporary file left");
	ok(same_key(src, dst), "the backup's key became the restored dir's secret.key");
	ok(stat(at(p, sizeof(p), "restored/secret.key"), &sb) == 0 &&
	    (sb.st_mode & 0777) == 0600, "restored secret.key is 0600");
	rc = dump_dir(dst, &got);
	is_rc(rc, 0, "restored store opens");
	ok(got.len == want.len && memcmp(got.p, want.p, got.len) == 0,
	    "every database equal to the snapshot of the backup (%zu bytes of dump)", want.len);
	{
		struct store_config ex2 = { .exclusive = true };
		struct store *r = NULL;

		is_rc(store_open(dst, &ex2, &r, &eb), 0, "restored dir opens exclusive: "
		    "the restore released its lock");
		store_close(r);
	}

	/* the same through a pipe, as `difs backup - | difs restore -` */
	{
		char dst2[300];
		int pp[2];

		at(dst2, sizeof(dst2), "restored2");
		is_rc(copy_key(src, dst2), 0, "the source's key copied into an empty dir");
		ok(pipe(pp) == 0, "pipe");
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			close(pp[0]);
			_exit(store_backup(src, pp[1], NULL, NULL, NULL) == 0 ? 0 : 1);
		}
		close(pp[1]);
		is_rc(store_restore(pp[0], dst2, NULL, &di, &eb), 0,
		    "backup into a pipe, restore from it (%s)", eb.msg);
		close(pp[0]);
		{
			int status = -1;

			ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
			    WEXITSTATUS(status) == 0, "store_backup to a pipe succeeded");
		}
		buf_reset(&want);
		is_rc(store_view(s, dump_fn, &want), 0, "dump of the source now");
		is_rc(dump_dir(dst2, &got), 0, "piped restore opens");
		ok(got.len == want.len && memcmp(got.p, want.p, got.len) == 0,
		    "piped round trip: every database equal");
	}

	/* a backup without the key: restores only onto the key it was sealed under */
	{
		char nokey[300], d3[300], d4[300], k4[320];
		int kfd;

		at(nokey, sizeof(nokey), "nokey.mdb");
		fd = open(nokey, O_WRONLY | O_CREAT | O_EXCL, 0600);
		is_rc(store_backup(src, fd, NULL, NULL, &eb), 0, "a backup without the key");
		close(fd);
		restore_refused(nokey, at(d3, sizeof(d3), "nokey-fresh"), "secret.key is missing",
		    "no key at all");
		ok(!exists(d3), "no key at all: the directory made is gone again");
		at(d4, sizeof(d4), "wrongkey");
		(void)snprintf(k4, sizeof(k4), "%s/secret.key", d4);
		ok(sys_mkdir_p(d4, 0700) == 0 &&
		    (kfd = open(k4, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0 &&
		    sys_write_all(kfd, "0123456789abcdef0123456789abcdef", 32) == 0 &&
		    close(kfd) == 0, "another key in an empty dir");
		restore_refused(nokey, d4, "does not match this store", "another key");
		ok(exists(k4), "another key: the dir's own key stays");
	}
	store_close(s);
	buf_free(&want);
	buf_free(&got);
}

/* backups by another process while this one grows the map over and over */
static void
test_growth(void)
{
	char src[300], bak[300];
	struct store_config ex = { .exclusive = true, .map_size = 64 << 10 };
	struct store_info si;
	struct store *s = NULL;
	char val[4096];
	int pfd[2], rc = 0;
	pid_t pid;

	at(src, sizeof(src), "grow");
	at(bak, sizeof(bak), "grow.mdb");
	if (store_open(src, &ex, &s, NULL) != 0 || fill(s, 1) != 0) {
		ok(0, "growth store");
		return;
	}
	memset(val, 'g', sizeof(val));
	ok(pipe(pfd) == 0, "pipe");
	pid = backup_child(src, bak, 40, pfd[1]);
	close(pfd[1]);
	for (int i = 0; i < 1500 && rc == 0; i++) {
		char k[32];
		struct store_txn *t = NULL;

		(void)snprintf(k, sizeof(k), "big%05d", i);
		for (;;) {
			if ((rc = store_txn_begin(s, 0, &t)) != 0)
				break;
			rc = store_put(t, STORE_DB_FILES, k, strlen(k), val, sizeof(val), 0);
			if (rc != 0) {
				store_txn_abort(t);
				rc = 0;
				continue;	/* the map grew: again */
			}
			rc = store_txn_commit(t);
			if (rc != ENG_ERETRYABLE)
				break;
		}
	}
	is_rc(rc, 0, "1500 x 4 KiB written while backups run");
	is_rc(child_rc(pid, pfd[0]), 0, "40 backups during map growth all read back");
	memset(&si, 0, sizeof(si));
	is_rc(store_get_info(s, &si), 0, "store_get_info");
	ok(si.grows > 0, "the map grew %u times meanwhile", si.grows);
	store_close(s);
}

/* ---- refusals ---------------------------------------------------------------- */

static int
write_file(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), rc = 0;

	if (fd < 0)
		return -errno;
	if (len > 0 && write(fd, p, len) != (ssize_t)len)
		rc = -EIO;
	close(fd);
	return rc;
}

/* the whole file at path appended to b */
static int
read_all(const char *path, struct buf *b)
{
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY), rc = 0;

	if (fd < 0)
		return -errno;
	while (rc == 0 && (n = read(fd, chunk, sizeof(chunk))) > 0)
		rc = buf_add(b, chunk, (size_t)n);
	close(fd);
	return rc;
}

/* store_restore of the file at path into dir; eb gets the message */
static int
restore_path(const char *path, const char *dir, const volatile sig_atomic_t *cancel,
    struct eng_errbuf *eb)
{
	int fd = open(path, O_RDONLY), rc;

	if (fd < 0)
		return -errno;
	eb->msg[0] = '\0';
	rc = store_restore(fd, dir, cancel, NULL, eb);
	close(fd);
	return rc;
}

static void
test_refusals(void)
{
	char bak[300], dir[300], p[300], q[300];
	struct eng_errbuf eb = { "" };
	struct store *s = NULL;
	struct stat sb;
	char junk[8192];
	int fd;

	at(bak, sizeof(bak), "b.mdb");		/* from test_round_trip */

	/* non-empty target: untouched */
	at(dir, sizeof(dir), "nonempty");
	mkdir(dir, 0755);
	write_file(at(p, sizeof(p), "nonempty/notes.txt"), "keep", 4);
	is_rc(restore_path(bak, dir, NULL, &eb), -ENOTEMPTY, "non-empty directory refused");
	ok(strstr(eb.msg, dir) != NULL && strstr(eb.msg, "notes.txt") != NULL,
	    "message names the directory and an entry: %s", eb.msg);
	ok(stat(p, &sb) == 0 && sb.st_size == 4 && !exists(at(q, sizeof(q), "nonempty/lock")) &&
	    !exists(at(q, sizeof(q), "nonempty/data.mdb")), "nothing added to it");

	/* an empty existing directory is fine */
	at(dir, sizeof(dir), "empty");
	mkdir(dir, 0700);
	is_rc(restore_path(bak, dir, NULL, &eb), 0, "empty existing directory accepted (%s)", eb.msg);

	/* held by a mount */
	at(dir, sizeof(dir), "held");
	{
		struct store_config ex = { .exclusive = true };
		char pid[32];

		if (store_open(dir, &ex, &s, NULL) != 0)
			printf("Bail out! store_open held\n");
		is_rc(restore_path(bak, dir, NULL, &eb), ENG_ELOCKED, "held directory refused");
		(void)snprintf(pid, sizeof(pid), "process %ld", (long)getpid());
		ok(strstr(eb.msg, pid) != NULL, "message names the holder: %s", eb.msg);
		store_close(s);
	}

	/* bad input files: the target is not created */
	at(dir, sizeof(dir), "never");
	memset(junk, 0x5a, sizeof(junk));
	write_file(at(p, sizeof(p), "junk"), junk, sizeof(junk));
	is_rc(store_inspect(p, NULL, &eb), ENG_EVERSION, "inspect: junk is not LMDB");
	ok(strstr(eb.msg, "not an LMDB file") != NULL, "message: %s", eb.msg);
	is_rc(restore_path(p, dir, NULL, &eb), ENG_EVERSION, "restore of junk refused");
	ok(!exists(dir), "no directory left behind");

	write_file(at(p, sizeof(p), "zero"), "", 0);
	is_rc(store_inspect(p, NULL, &eb), ENG_ECORRUPT, "inspect: empty file");
	is_rc(restore_path(p, dir, NULL, &eb), ENG_ECORRUPT, "restore of an empty file refused");
	ok(!exists(dir), "no directory left behind");

	is_rc(store_inspect(base, NULL, &eb), -EISDIR, "inspect: a directory");
	is_rc(store_inspect(at(p, sizeof(p), "missing"), NULL, &eb), -ENOENT, "inspect: missing file");

	{
		struct buf b;

		buf_init(&b, 1 << 24);
		if (read_all(bak, &b) == 0 && b.len > 8192) {
			write_file(at(p, sizeof(p), "short"), b.p, b.len - 4096);
			is_rc(store_inspect(p, NULL, &eb), ENG_ECORRUPT, "inspect: truncated file");
			ok(strstr(eb.msg, "truncated") != NULL, "message: %s", eb.msg);
			is_rc(restore_path(p, dir, NULL, &eb), ENG_ECORRUPT, "restore of it refused");
			ok(!exists(dir), "no directory left behind");
		} else {
			ok(0, "read the backup");
		}
		buf_free(&b);
	}

	/* a newer schema: the data.mdb of a store that says version 2 */
	{
		char sdir[300];

		at(sdir, sizeof(sdir), "newer");
		if (store_open(sdir, NULL, &s, NULL) == 0) {
			struct store_txn *t = NULL;

			if (store_txn_begin(s, 0, &t) == 0) {
				(void)store_put(t, STORE_DB_META, STORE_SCHEMA_KEY,
				    sizeof(STORE_SCHEMA_KEY) - 1, "\0\0\0\x02", 4, 0);
				(void)store_txn_commit(t);
			}
			store_close(s);
		}
		at(p, sizeof(p), "newer/data.mdb");
		is_rc(store_inspect(p, NULL, &eb), ENG_EVERSION, "inspect: newer schema");
		ok(strstr(eb.msg, "newer") != NULL, "message: %s", eb.msg);
		is_rc(restore_path(p, dir, NULL, &eb), ENG_EVERSION, "restore of a newer schema refused");
		ok(!exists(dir), "no directory left behind");
		eb.msg[0] = '\0';
		fd = open(at(q, sizeof(q), "newer.mdb"), O_WRONLY | O_CREAT | O_EXCL, 0600);
		is_rc(store_backup(sdir, fd, NULL, NULL, &eb), ENG_EVERSION,
		    "backup of a newer-schema store refused");
		close(fd);
	}

	/* nothing to back up */
	fd = open(at(q, sizeof(q), "none.mdb"), O_WRONLY | O_CREAT | O_EXCL, 0600);
	is_rc(store_backup(at(p, sizeof(p), "nostate"), fd, NULL, NULL, &eb), -ENOENT,
	    "backup of a directory without a store: -ENOENT");
	ok(strstr(eb.msg, "no state store") != NULL, "message: %s", eb.msg);
	ok(!exists(p), "the state directory was not created");
	close(fd);

	/* cancelled */
	{
		volatile sig_atomic_t stop = 1;

		is_rc(restore_path(bak, dir, &stop, &eb), -EINTR, "cancelled restore: -EINTR");
		ok(!exists(dir), "no directory left behind");
		fd = open(at(q, sizeof(q), "cancel.mdb"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		is_rc(store_backup(at(p, sizeof(p), "empty"), fd, &stop, NULL, &eb), -EINTR,
		    "cancelled backup: -EINTR");
		close(fd);
	}

	/* the output pipe closed early */
	{
		int pp[2];

		signal(SIGPIPE, SIG_IGN);
		ok(pipe(pp) == 0, "pipe");
		close(pp[0]);
		is_rc(store_backup(at(p, sizeof(p), "empty"), pp[1], NULL, NULL, &eb), -EPIPE,
		    "backup into a closed pipe: -EPIPE (%s)", eb.msg);
		close(pp[1]);
	}
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	(void)snprintf(base, sizeof(base), "%s/difs-backup-XXXXXX",
	    tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(base) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_round_trip();
	test_growth();
	test_refusals();
	(void)nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
