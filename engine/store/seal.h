/* SPDX-License-Identifier: MIT */
/*
 * seal.h - secrets at rest: the sealed box the store keeps a source's bytes
 * in, and the key it is sealed under (kept outside data.mdb).
 *
 * A sealed record is
 *
 *   [SEAL_VERSION 0x01][12-byte random nonce][ciphertext][16-byte GCM tag]
 *
 * AES-256-GCM (OpenSSL EVP) with additional authenticated data chosen by
 * the caller (the store passes the database and the record's key, so a
 * sealed value moved under another key does not open).  A record that does
 * not start with SEAL_VERSION is an older store's plaintext: it is read as
 * it is and sealed at its next write.
 *
 * The key is SEAL_KEY_LEN random bytes, from $CREDENTIALS_DIRECTORY/difs.key
 * (systemd LoadCredential=; never written) when that file exists, else from
 * STATE/secret.key, created 0600 on first need.  It lives in a
 * sys_secret_dup mapping (MADV_DONTDUMP, wiped at free).
 *
 * seal.c is the store's only file that includes OpenSSL.
 */
#ifndef DIFS_SEAL_H
#define DIFS_SEAL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

#define SEAL_VERSION	0x01
#define SEAL_KEY_LEN	32
#define SEAL_NONCE_LEN	12
#define SEAL_TAG_LEN	16
#define SEAL_OVERHEAD	(1 + SEAL_NONCE_LEN + SEAL_TAG_LEN)
#define SEAL_KEY_FILE	"secret.key"	/**< in the state directory */
#define SEAL_CRED_FILE	"difs.key"	/**< in $CREDENTIALS_DIRECTORY */

/** seal - append the sealed box of (pt, ptlen) under key to out.
 *  0, -ENOMEM/-E2BIG (out's limit) or ENG_ECORRUPT (OpenSSL failed). */
int	seal(const unsigned char *key, const void *aad, size_t aadlen,
	    const void *pt, size_t ptlen, struct buf *out);

/** seal_is_sealed - the value starts with SEAL_VERSION (else: legacy
 *  plaintext). */
bool	seal_is_sealed(const void *v, size_t len);

/**
 * unseal - append the plaintext of the sealed box (v, len) to out, after
 * checking its tag (with aad).  Nothing is appended on failure.
 * @return 0, ENG_ECORRUPT (truncated, tampered, or another key or aad),
 *         -ENOMEM/-E2BIG.
 */
int	unseal(const unsigned char *key, const void *aad, size_t aadlen,
	    const void *v, size_t len, struct buf *out);

/**
 * seal_key_load - the key for the state directory dir into *key (a
 * sys_secret_dup copy of SEAL_KEY_LEN bytes; sys_secret_free it).  When
 * neither file exists: -ENOENT, or with create a new DIR/secret.key
 * (RAND_bytes, written under a random temporary name opened
 * O_CREAT|O_EXCL|O_NOFOLLOW, fchmod 0600, fsynced, then linked into place,
 * so that concurrent creators agree on one key).  A DIR/secret.key that is
 * not a regular file of the daemon's user, mode 0600 or 0400, of exactly
 * SEAL_KEY_LEN bytes is refused (ENG_EINVAL, eb says how to fix it).
 * @param[out] where  optional: the path the key came from
 */
int	seal_key_load(const char *dir, bool create, char **key, char *where,
	    size_t wheresz, struct eng_errbuf *eb);

/**
 * seal_key_install - make key the key of dir (store_restore): 0 when the
 * key in force already is that key; else DIR/secret.key is created with it
 * (*made = true).  A different key in force is refused (ENG_EINVAL).
 */
int	seal_key_install(const char *dir, const unsigned char *key, bool *made,
	    struct eng_errbuf *eb);

#endif /* DIFS_SEAL_H */
