/* SPDX-License-Identifier: MIT */
/*
 * test_seal.c - secrets at rest (seal.h, store.h): the sealed box (round
 * trip, every byte tampered, another key or AAD, truncated), the key file
 * (created 0600 whatever the umask, refused when group-readable, short, a
 * symlink; $CREDENTIALS_DIRECTORY's used and never written), and the store
 * as an attacker reads data.mdb: the records of a source, its definition,
 * its swap file, a job, an instance are sealed on disk (no plaintext in
 * the file; an instance log, not sealed, is the control), a legacy plaintext
 * record reads as it is and is sealed at its next write, another key
 * reads as ENG_ECORRUPT, and a lost key is not replaced by a new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seal.h"
#include "store.h"
#include "sys.h"
#include "tap.h"

static char base[256];

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static const char *
at(char *out, size_t outsz, const char *name)
{
	(void)snprintf(out, outsz, "%s/%s", base, name);
	return out;
}

static const unsigned char key1[SEAL_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char key2[SEAL_KEY_LEN] = "fedcba9876543210fedcba9876543210";

static void
test_box(void)
{
	static const char pt[] = "{\"accessKeySecret\": \"S3cr3t-XYZ\"}";
	struct buf c, p;
	size_t i;
	int bad = 0, grew = 0;

	buf_init(&c, 1 << 20);
	buf_init(&p, 1 << 20);
	is_rc(seal(key1, "aad", 3, pt, strlen(pt), &c), 0, "seal");
	is_int(c.len, strlen(pt) + SEAL_OVERHEAD, "version + nonce + ciphertext + tag");
	is_int((unsigned char)c.p[0], SEAL_VERSION, "starts with the version byte");
	ok(memmem(c.p, c.len, "S3cr3t", 6) == NULL, "no plaintext in the box");
	is_rc(unseal(key1, "aad", 3, c.p, c.len, &p), 0, "unseal");
	ok(p.len == strlen(pt) && memcmp(p.p, pt, p.len) == 0, "round trip");
	for (i = 0; i < c.len; i++) {
		buf_reset(&p);
		c.p[i] ^= 0x20;
		if (unseal(key1, "aad", 3, c.p, c.len, &p) != ENG_ECORRUPT)
			bad++;
		if (p.len != 0)
			grew++;
		c.p[i] ^= 0x20;
	}
	is_int(bad, 0, "each of the %zu bytes tampered: ENG_ECORRUPT", c.len);
	is_int(grew, 0, "nothing appended from a tampered box");
	buf_reset(&p);
	is_rc(unseal(key2, "aad", 3, c.p, c.len, &p), ENG_ECORRUPT, "another key: ENG_ECORRUPT");
	is_rc(unseal(key1, "aae", 3, c.p, c.len, &p), ENG_ECORRUPT,
	    "another AAD (the value moved under another key): ENG_ECORRUPT");
	is_rc(unseal(key1, "aad", 3, c.p, SEAL_OVERHEAD - 1, &p), ENG_ECORRUPT, "truncated");
	is_rc(unseal(key1, "aad", 3, c.p, c.len - 1, &p), ENG_ECORRUPT, "tag cut short");
	ok(seal_is_sealed(c.p, c.len) && !seal_is_sealed("{}", 2) && !seal_is_sealed("", 0),
	    "sealed vs legacy plaintext");
	{
		struct buf c2;

		buf_init(&c2, 1 << 20);
		is_rc(seal(key1, "aad", 3, pt, strlen(pt), &c2), 0, "seal again");
		ok(memcmp(c.p + 1, c2.p + 1, SEAL_NONCE_LEN) != 0, "a fresh nonce every time");
		buf_free(&c2);
	}
	buf_reset(&c);
	buf_reset(&p);
	is_rc(seal(key1, NULL, 0, "", 0, &c), 0, "seal of nothing");
	is_rc(unseal(key1, NULL, 0, c.p, c.len, &p), 0, "opens to nothing");
	is_int(p.len, 0, "empty round trip");
	buf_free(&c);
	buf_free(&p);
}

static void
test_key_file(void)
{
	char d[300], p[320], cred[300], where[400];
	struct eng_errbuf eb = { "" };
	struct stat sb;
	char *k = NULL, *k2 = NULL;
	mode_t old;
	int fd;

	at(d, sizeof(d), "kdir");
	(void)mkdir(d, 0700);
	(void)snprintf(p, sizeof(p), "%s/secret.key", d);
	is_rc(seal_key_load(d, false, &k, NULL, 0, &eb), -ENOENT, "no key, not created");
	ok(access(p, F_OK) != 0, "nothing created without create");
	old = umask(0);
	is_rc(seal_key_load(d, true, &k, where, sizeof(where), &eb), 0, "created (%s)", eb.msg);
	umask(old);
	ok(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600 && sb.st_size == SEAL_KEY_LEN,
	    "secret.key: 0600 under umask 0, %d bytes", SEAL_KEY_LEN);
	is_str(where, p, "where says the file");
	is_rc(seal_key_load(d, true, &k2, NULL, 0, &eb), 0, "loaded again");
	ok(k != NULL && k2 != NULL && memcmp(k, k2, SEAL_KEY_LEN) == 0, "the same key");
	sys_secret_free(k2);
	k2 = NULL;
	ok(chmod(p, 0640) == 0, "chmod 640");
	is_rc(seal_key_load(d, true, &k2, NULL, 0, &eb), ENG_EINVAL, "group-readable key refused");
	ok(strstr(eb.msg, "chmod 600") != NULL, "the fix is named (%s)", eb.msg);
	ok(chmod(p, 0600) == 0 && truncate(p, 16) == 0, "a short key");
	is_rc(seal_key_load(d, true, &k2, NULL, 0, &eb), ENG_EINVAL, "short key refused (%s)",
	    eb.msg);
	ok(unlink(p) == 0 && symlink("/etc/passwd", p) == 0, "a symlink at secret.key");
	ok(seal_key_load(d, true, &k2, NULL, 0, &eb) != 0, "symlink refused (%s)", eb.msg);
	ok(lstat(p, &sb) == 0 && S_ISLNK(sb.st_mode), "the link is left alone");
	(void)unlink(p);

	/* systemd's credential: used, never written */
	at(cred, sizeof(cred), "cred");
	(void)mkdir(cred, 0700);
	(void)snprintf(where, sizeof(where), "%s/difs.key", cred);
	fd = open(where, O_WRONLY | O_CREAT | O_EXCL, 0400);
	ok(fd >= 0 && sys_write_all(fd, key2, SEAL_KEY_LEN) == 0 && close(fd) == 0,
	    "a credential difs.key (0400)");
	setenv("CREDENTIALS_DIRECTORY", cred, 1);
	is_rc(seal_key_load(d, true, &k2, NULL, 0, &eb), 0, "loaded from the credential (%s)",
	    eb.msg);
	ok(k2 != NULL && memcmp(k2, key2, SEAL_KEY_LEN) == 0, "the credential's key");
	ok(access(p, F_OK) != 0, "no secret.key written while the credential exists");
	unsetenv("CREDENTIALS_DIRECTORY");
	sys_secret_free(k);
	sys_secret_free(k2);
}

/* the whole data.mdb of dir holds needle */
static int
mdb_holds(const char *dir, const char *needle)
{
	char p[320];
	struct buf b;
	int r;

	(void)snprintf(p, sizeof(p), "%s/data.mdb", dir);
	buf_init(&b, (size_t)1 << 30);
	r = sys_read_file(p, 0, &b) == 0 && memmem(b.p, b.len, needle, strlen(needle)) != NULL;
	buf_free(&b);
	return r;
}

/* raw LMDB access, as an attacker (or an older difs) sees the file */
static int
raw(const char *dir, const char *db, const char *key, size_t klen, const char *put,
    struct buf *got)
{
	MDB_env *env = NULL;
	MDB_txn *t = NULL;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)(uintptr_t)key }, v;
	int rc;

	if ((rc = mdb_env_create(&env)) != 0 || (rc = mdb_env_set_maxdbs(env, 16)) != 0 ||
	    (rc = mdb_env_open(env, dir, 0, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, put != NULL ? 0 : MDB_RDONLY, &t)) != 0 ||
	    (rc = mdb_dbi_open(t, db, 0, &dbi)) != 0)
		goto out;
	if (put != NULL) {
		v.mv_size = strlen(put);
		v.mv_data = (void *)(uintptr_t)put;
		if ((rc = mdb_put(t, dbi, &k, &v, 0)) == 0)
			rc = mdb_txn_commit(t);
		t = NULL;
	} else if ((rc = mdb_get(t, dbi, &k, &v)) == 0) {
		buf_reset(got);
		rc = buf_add(got, v.mv_data, v.mv_size);
	}
out:
	if (t != NULL)
		mdb_txn_abort(t);
	if (env != NULL)
		mdb_env_close(env);
	return rc;
}

struct two { const char *db_key; size_t kl; const char *val; };

static int
put_fn(struct store_txn *t, void *arg)
{
	const struct two *w = arg;
	int rc;

	for (; w->db_key != NULL; w++) {
		enum store_db db = (enum store_db)(w->db_key[0] - '0');

		if ((rc = store_put(t, db, w->db_key + 1, w->kl, w->val, strlen(w->val), 0)) != 0)
			return rc;
	}
	return 0;
}

static int
log_fn(struct store_txn *t, void *arg)
{
	(void)arg;
	return store_log_append(t, "orders\00020260101000000", 21, "LOG-PLAIN-8\n", 12, 1, NULL);
}

struct getq { enum store_db db; const char *k; size_t kl; struct buf *out; int via_get; };

static int
get_fn(struct store_txn *t, void *arg)
{
	struct getq *q = arg;
	const void *v;
	size_t vl;
	int rc;

	buf_reset(q->out);
	if (!q->via_get)
		return store_get_buf(t, q->db, q->k, q->kl, q->out);
	if ((rc = store_get(t, q->db, q->k, q->kl, &v, &vl)) != 0)
		return rc;
	return buf_add(q->out, v, vl);
}

static int
iter_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	(void)key; (void)klen;
	return buf_add(arg, val, vlen);
}

static int
iter_fn(struct store_txn *t, void *arg)
{
	buf_reset(arg);
	return store_iter(t, STORE_DB_SOURCES, NULL, 0, NULL, 0, 0, iter_cb, arg);
}

static void
test_store(void)
{
	char d[300], p[320];
	struct eng_errbuf eb = { "" };
	struct store *s = NULL;
	struct buf got;
	struct two w[] = {
		{ "0ots", 3, "{\"accessKeySecret\": \"SOURCE-SECRET-1\"}" },
		{ "2s\0ots", 5, "{\"accessKeySecret\": \"DEF-SECRET-2\"}" },
		{ "7sources/.ots.json.swp", 21, "swap SWAP-SECRET-3" },
		{ "1orders", 6, "{\"job\": \"JOB-SECRET-4\"}" },
		{ "3orders\00020260101000000", 21, "{\"params\": \"INST-SECRET-7\"}" },
		{ NULL, 0, NULL },
	};
	struct getq q = { STORE_DB_SOURCES, "ots", 3, &got, 0 };
	int fd;

	buf_init(&got, 1 << 20);
	at(d, sizeof(d), "st");
	is_rc(store_open(d, NULL, &s, &eb), 0, "store open");
	(void)snprintf(p, sizeof(p), "%s/secret.key", d);
	ok(access(p, F_OK) != 0, "no key before anything is sealed");
	is_rc(store_update(s, put_fn, w), 0,
	    "a source, its definition, its swap file, a job, an instance");
	is_rc(store_update(s, log_fn, NULL), 0, "an instance log line");
	ok(access(p, F_OK) == 0, "secret.key made at the first sealed write");
	is_rc(store_view(s, get_fn, &q), 0, "store_get_buf of the source");
	is_str(got.p, w[0].val, "reads back as written");
	q.via_get = 1;
	is_rc(store_view(s, get_fn, &q), 0, "store_get of the source");
	is_str(got.p, w[0].val, "store_get opens it too");
	q.db = STORE_DB_DEFS; q.k = "s\0ots"; q.kl = 5;
	is_rc(store_view(s, get_fn, &q), 0, "the definition");
	is_str(got.p, w[1].val, "opened");
	is_rc(store_view(s, iter_fn, &got), 0, "store_iter");
	is_str(got.p, w[0].val, "store_iter opens it");
	store_close(s);
	s = NULL;

	ok(!mdb_holds(d, "SOURCE-SECRET-1"), "data.mdb: no plaintext of the source");
	ok(!mdb_holds(d, "DEF-SECRET-2"), "data.mdb: no plaintext of the definition");
	ok(!mdb_holds(d, "SWAP-SECRET-3"), "data.mdb: no plaintext of the swap file");
	ok(!mdb_holds(d, "JOB-SECRET-4"), "data.mdb: no plaintext of the job");
	ok(!mdb_holds(d, "INST-SECRET-7"), "data.mdb: no plaintext of the instance");
	ok(mdb_holds(d, "LOG-PLAIN-8"), "control: the log line (not sealed) is found in the file");
	is_rc(raw(d, "sources", "ots", 3, NULL, &got), 0, "raw read");
	ok(seal_is_sealed(got.p, got.len), "the raw record is a sealed box");

	/* an older store's plaintext: read as it is, sealed at its next write */
	is_rc(raw(d, "sources", "old", 3, "{\"password\": \"LEGACY-5\"}", NULL), 0,
	    "a legacy plaintext record");
	is_rc(store_open(d, NULL, &s, &eb), 0, "store open");
	q.db = STORE_DB_SOURCES; q.k = "old"; q.kl = 3; q.via_get = 0;
	is_rc(store_view(s, get_fn, &q), 0, "legacy record reads");
	is_str(got.p, "{\"password\": \"LEGACY-5\"}", "as it is");
	{
		struct two w2[] = { { "0old", 3, "{\"password\": \"LEGACY-6\"}" }, { NULL, 0, NULL } };

		is_rc(store_update(s, put_fn, w2), 0, "rewritten");
	}
	store_close(s);
	s = NULL;
	is_rc(raw(d, "sources", "old", 3, NULL, &got), 0, "raw read");
	ok(seal_is_sealed(got.p, got.len), "sealed at its next write");

	/* another key: ENG_ECORRUPT, and the verification says why */
	ok(unlink(p) == 0, "key removed");
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ok(fd >= 0 && sys_write_all(fd, key2, SEAL_KEY_LEN) == 0 && close(fd) == 0,
	    "another key in its place");
	is_rc(store_open(d, NULL, &s, &eb), 0, "store open");
	q.k = "ots";
	is_rc(store_view(s, get_fn, &q), ENG_ECORRUPT, "a read under another key: ENG_ECORRUPT");
	is_int(got.len, 0, "nothing read");
	is_rc(store_verify_secrets(s, &eb), ENG_ECORRUPT, "verification fails");
	ok(strstr(eb.msg, "secret.key does not match this store: restore the key that was "
	    "used (difs backup --with-key) or rewrite the sources") != NULL, "the reason (%s)",
	    eb.msg);
	store_close(s);
	s = NULL;

	/* the key lost: a write does not make a new one over sealed records */
	ok(unlink(p) == 0, "key removed");
	is_rc(store_open(d, NULL, &s, &eb), 0, "store open");
	{
		struct two w3[] = { { "0new", 3, "{}" }, { NULL, 0, NULL } };

		is_rc(store_update(s, put_fn, w3), ENG_ECORRUPT, "a write without the key: refused");
	}
	ok(access(p, F_OK) != 0, "no new secret.key over sealed records");
	is_rc(store_verify_secrets(s, &eb), ENG_ECORRUPT, "verification fails");
	ok(strstr(eb.msg, "secret.key is missing") != NULL, "the reason (%s)", eb.msg);
	store_close(s);
	buf_free(&got);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	(void)snprintf(base, sizeof(base), "%s/difs-seal-XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(base) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	unsetenv("CREDENTIALS_DIRECTORY");
	test_box();
	test_key_file();
	test_store();
	(void)nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
