/* SPDX-License-Identifier: MIT */
/*
 * seal.c - AES-256-GCM sealed boxes and the store's key file (seal.h).
 * The engine's second home of OpenSSL (after engine/sign/sign.c): the store
 * sits below sign/, and every reader of a source (the mount, difs run
 * --state, difs params, restore) goes through the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "seal.h"
#include "sys.h"

/* EVP lengths are ints: feed big values in pieces */
#define SEAL_CHUNK	((size_t)1 << 30)

bool
seal_is_sealed(const void *v, size_t len)
{
	return len > 0 && ((const unsigned char *)v)[0] == SEAL_VERSION;
}

/* run (en|de)crypt update over n bytes in SEAL_CHUNK pieces */
static int
seal_update(EVP_CIPHER_CTX *c, int enc, unsigned char *out, const unsigned char *in,
    size_t n)
{
	int ol;

	while (n > 0) {
		size_t k = n < SEAL_CHUNK ? n : SEAL_CHUNK;

		if ((enc ? EVP_EncryptUpdate(c, out, &ol, in, (int)k) :
		    EVP_DecryptUpdate(c, out, &ol, in, (int)k)) != 1 || (size_t)ol != k)
			return -1;
		out += k;
		in += k;
		n -= k;
	}
	return 0;
}

/* aad in pieces too (NULL output: authenticated only) */
static int
seal_aad(EVP_CIPHER_CTX *c, int enc, const void *aad, size_t aadlen)
{
	int ol;

	if (aadlen == 0)
		return 0;
	if (aadlen > INT_MAX)
		return -1;
	return (enc ? EVP_EncryptUpdate(c, NULL, &ol, aad, (int)aadlen) :
	    EVP_DecryptUpdate(c, NULL, &ol, aad, (int)aadlen)) == 1 ? 0 : -1;
}

int
seal(const unsigned char *key, const void *aad, size_t aadlen, const void *pt,
    size_t ptlen, struct buf *out)
{
	EVP_CIPHER_CTX *c = NULL;
	unsigned char *p;
	size_t at = out->len;
	int rc, ol;

	if (ptlen > SIZE_MAX - SEAL_OVERHEAD - at)
		return -E2BIG;
	if ((rc = buf_reserve(out, SEAL_OVERHEAD + ptlen)) != 0)
		return rc;
	p = (unsigned char *)out->p + at;
	p[0] = SEAL_VERSION;
	rc = ENG_ECORRUPT;
	if (RAND_bytes(p + 1, SEAL_NONCE_LEN) != 1 || (c = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(c, NULL, NULL, key, p + 1) != 1 ||
	    seal_aad(c, 1, aad, aadlen) != 0 ||
	    seal_update(c, 1, p + 1 + SEAL_NONCE_LEN, pt, ptlen) != 0 ||
	    EVP_EncryptFinal_ex(c, p + 1 + SEAL_NONCE_LEN + ptlen, &ol) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN,
	    p + 1 + SEAL_NONCE_LEN + ptlen) != 1)
		goto out;
	out->len = at + SEAL_OVERHEAD + ptlen;
	out->p[out->len] = '\0';
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

int
unseal(const unsigned char *key, const void *aad, size_t aadlen, const void *v,
    size_t len, struct buf *out)
{
	const unsigned char *b = v, *nonce, *ct, *tag;
	EVP_CIPHER_CTX *c = NULL;
	unsigned char *p;
	size_t at = out->len, n;
	int rc, ol;

	if (len < SEAL_OVERHEAD || b[0] != SEAL_VERSION)
		return ENG_ECORRUPT;
	n = len - SEAL_OVERHEAD;
	nonce = b + 1;
	ct = nonce + SEAL_NONCE_LEN;
	tag = ct + n;
	if ((rc = buf_reserve(out, n)) != 0)
		return rc;
	p = (unsigned char *)out->p + at;
	rc = ENG_ECORRUPT;
	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, key, nonce) != 1 ||
	    seal_aad(c, 0, aad, aadlen) != 0 ||
	    seal_update(c, 0, p, ct, n) != 0 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, (void *)(uintptr_t)tag) != 1 ||
	    EVP_DecryptFinal_ex(c, p + n, &ol) != 1) {
		explicit_bzero(p, n);	/* unauthenticated plaintext never escapes */
		goto out;
	}
	out->len = at + n;
	out->p[out->len] = '\0';
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

/* ---- the key file ------------------------------------------------------- */

/* read exactly SEAL_KEY_LEN bytes of an open key file into a secret copy */
static int
seal_key_read(int fd, const char *path, bool own, char **key, struct eng_errbuf *eb)
{
	unsigned char k[SEAL_KEY_LEN + 1];
	struct stat sb;
	ssize_t n;

	if (fstat(fd, &sb) != 0)
		return eng_errbuf_set(eb, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return eng_errbuf_set(eb, ENG_EINVAL, "%s is not a regular file; it must hold "
		    "the %d-byte secret key", path, SEAL_KEY_LEN);
	/* the state directory's file: ours alone (a credential is systemd's) */
	if (own && (sb.st_uid != geteuid() || (sb.st_mode & 077) != 0))
		return eng_errbuf_set(eb, ENG_EINVAL, "%s: %s; the secret key must be the "
		    "daemon user's, mode 0600 (chown and chmod 600 it)", path,
		    sb.st_uid != geteuid() ? "owned by another user" :
		    "readable or writable by group or others");
	do
		n = pread(fd, k, sizeof(k), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return eng_errbuf_set(eb, -errno, "%s: %s", path, strerror(errno));
	if (n != SEAL_KEY_LEN) {
		explicit_bzero(k, sizeof(k));
		return eng_errbuf_set(eb, ENG_EINVAL, "%s: %zd bytes; a difs secret key is "
		    "exactly %d random bytes (head -c %d /dev/urandom > FILE)", path, n,
		    SEAL_KEY_LEN, SEAL_KEY_LEN);
	}
	*key = sys_secret_dup((const char *)k, SEAL_KEY_LEN);
	explicit_bzero(k, sizeof(k));
	return *key != NULL ? 0 : eng_errbuf_set(eb, -ENOMEM, "out of memory");
}

/* open path for reading the key: fd, or -errno */
static int
seal_key_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	return fd >= 0 ? fd : -errno;
}

/* the credential path, when $CREDENTIALS_DIRECTORY is set */
static bool
seal_cred_path(char *out, size_t outsz)
{
	const char *cd = getenv("CREDENTIALS_DIRECTORY");
	int n;

	if (cd == NULL || cd[0] == '\0')
		return false;
	n = snprintf(out, outsz, "%s/" SEAL_CRED_FILE, cd);
	return n > 0 && (size_t)n < outsz;
}

/* write key as DIR/secret.key: 0, -EEXIST (one is there), or an error */
static int
seal_key_create(const char *dir, const char *path, const unsigned char *key,
    struct eng_errbuf *eb)
{
	unsigned char rnd[8];
	char tmp[PATH_MAX];
	int fd, n, rc;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return eng_errbuf_set(eb, ENG_ECORRUPT, "RAND_bytes failed");
	n = snprintf(tmp, sizeof(tmp), "%s/." SEAL_KEY_FILE ".%02x%02x%02x%02x%02x%02x%02x%02x",
	    dir, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return eng_errbuf_set(eb, -ENAMETOOLONG, "%s: path too long", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return eng_errbuf_set(eb, -errno, "creating %s: %s", tmp, strerror(errno));
	/* 0600 whatever the umask */
	if (fchmod(fd, 0600) != 0 || (rc = sys_write_all(fd, key, SEAL_KEY_LEN)) != 0 ||
	    fsync(fd) != 0)
		rc = -errno;
	else
		rc = 0;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && link(tmp, path) != 0)
		rc = -errno;
	(void)unlink(tmp);
	if (rc != 0 && rc != -EEXIST)
		return eng_errbuf_set(eb, rc, "creating %s: %s", path, strerror(-rc));
	if (rc == 0 && (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	return rc;
}

int
seal_key_load(const char *dir, bool create, char **key, char *where, size_t wheresz,
    struct eng_errbuf *eb)
{
	unsigned char nk[SEAL_KEY_LEN];
	char path[PATH_MAX];
	int fd, n, rc, tries;

	*key = NULL;
	if (seal_cred_path(path, sizeof(path)) && (fd = seal_key_open(path)) != -ENOENT) {
		if (where != NULL)
			(void)snprintf(where, wheresz, "%s", path);
		if (fd < 0)
			return eng_errbuf_set(eb, fd, "%s: %s", path, strerror(-fd));
		rc = seal_key_read(fd, path, false, key, eb);
		close(fd);
		return rc;
	}
	n = snprintf(path, sizeof(path), "%s/" SEAL_KEY_FILE, dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return eng_errbuf_set(eb, -ENAMETOOLONG, "%s: path too long", dir);
	if (where != NULL)
		(void)snprintf(where, wheresz, "%s", path);
	for (tries = 0; tries < 2; tries++) {
		if ((fd = seal_key_open(path)) >= 0) {
			rc = seal_key_read(fd, path, true, key, eb);
			close(fd);
			return rc;
		}
		if (fd != -ENOENT)
			return eng_errbuf_set(eb, fd, "%s: %s", path, strerror(-fd));
		if (!create)
			return eng_errbuf_set(eb, -ENOENT, "%s does not exist", path);
		if (RAND_bytes(nk, sizeof(nk)) != 1)
			return eng_errbuf_set(eb, ENG_ECORRUPT, "RAND_bytes failed");
		rc = seal_key_create(dir, path, nk, eb);
		if (rc == 0)
			*key = sys_secret_dup((const char *)nk, SEAL_KEY_LEN);
		explicit_bzero(nk, sizeof(nk));
		if (rc == 0)
			return *key != NULL ? 0 : eng_errbuf_set(eb, -ENOMEM, "out of memory");
		if (rc != -EEXIST)
			return rc;
		/* another process made it first: use that one */
	}
	return eng_errbuf_set(eb, -EEXIST, "%s: cannot create or read it", path);
}

int
seal_key_install(const char *dir, const unsigned char *key, bool *made,
    struct eng_errbuf *eb)
{
	char where[PATH_MAX], path[PATH_MAX];
	char *cur = NULL;
	int rc, n;

	*made = false;
	rc = seal_key_load(dir, false, &cur, where, sizeof(where), eb);
	if (rc == 0) {
		rc = memcmp(cur, key, SEAL_KEY_LEN) == 0 ? 0 : eng_errbuf_set(eb, ENG_EINVAL,
		    "%s is not the key in the backup: remove it (or unset "
		    "CREDENTIALS_DIRECTORY) to restore the backup's key", where);
		sys_secret_free(cur);
		return rc;
	}
	if (rc != -ENOENT)
		return rc;
	n = snprintf(path, sizeof(path), "%s/" SEAL_KEY_FILE, dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return eng_errbuf_set(eb, -ENAMETOOLONG, "%s: path too long", dir);
	if ((rc = seal_key_create(dir, path, key, eb)) == -EEXIST)
		return eng_errbuf_set(eb, -EEXIST, "%s appeared meanwhile", path);
	*made = rc == 0;
	return rc;
}
