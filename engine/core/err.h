/* SPDX-License-Identifier: MIT */
/*
 * err.h - the one error space of difs.
 *
 * Every function in engine/ and cache/ returns an int: 0 on success, -errno
 * for system conditions, or one of the ENG_E* codes below (a reserved
 * negative range, like LMDB's MDB_* group).  The X-macro table produces the
 * enum, the message table and the errno mapping in one place.  Mapping to a
 * POSIX errno happens only in fs/ (eng_to_errno).
 *
 * Where a human needs more than a code (configuration, remote services), a
 * function takes an optional struct eng_errbuf *; NULL means "not wanted".
 * No message ever contains a secret.
 *
 * Which code to return:
 *   -errno       what the system said (a system call failed: return -errno
 *                as it came), and a caller breaking a function's documented
 *                contract: -EINVAL for an argument the header forbids (NULL,
 *                a size outside the stated range, a malformed internal key),
 *                -ERANGE/-ENAMETOOLONG for an output buffer too small,
 *                -ENOMEM.  These are programming or system conditions.
 *   ENG_EINVAL   bytes from a person are wrong: a definition, a parameter,
 *                a ctl command, a command-line value.  The message (eb)
 *                names the field and the fix; it reaches the user.
 *   ENG_EPROTO   bytes from a remote service are malformed.
 *   ENG_EREJECTED a remote service refused a request as invalid (a 4xx
 *                such as OTSParameterInvalid or InvalidArgument): the same
 *                request is refused again.
 *   other ENG_E* the conditions of the table below (remote errors, state,
 *                checksums), each with its errno for the mount.
 * A parser of outside bytes therefore never returns -EINVAL for bad input:
 * it says whose bytes were wrong (ENG_EINVAL or ENG_EPROTO).
 */
#ifndef DIFS_ERR_H
#define DIFS_ERR_H

#include <stdbool.h>
#include <stddef.h>

/*      name            code    errno       message */
#define ENG_ERR_LIST(X) \
	X(ENG_EINVAL,      -32000, EINVAL,    "invalid definition or argument") \
	X(ENG_ESIG,        -32001, EACCES,    "signature verification failed") \
	X(ENG_EREMOTE,     -32002, EIO,       "remote service returned an error") \
	X(ENG_ETHROTTLE,   -32003, EAGAIN,    "remote service throttled the request") \
	X(ENG_EPROTO,      -32004, EPROTO,    "malformed response from remote service") \
	X(ENG_ECONN,       -32005, EHOSTUNREACH, "cannot connect to remote service") \
	X(ENG_ETLS,        -32006, EIO,       "TLS verification failed") \
	X(ENG_ECHECKSUM,   -32007, EIO,       "checksum mismatch") \
	X(ENG_EKILLED,     -32008, EINTR,     "run was killed") \
	X(ENG_EDIRTY,      -32009, EIO,       "dirty record limit exceeded") \
	X(ENG_ESTATE,      -32010, EBUSY,     "operation not allowed in this state") \
	X(ENG_ECORRUPT,    -32011, EIO,       "stored state is corrupt") \
	X(ENG_EVERSION,    -32012, EIO,       "state directory has an unknown schema version") \
	X(ENG_ELOCKED,     -32013, EBUSY,     "state directory is in use by another process") \
	X(ENG_ETRIMMED,    -32014, EIO,       "stream data was trimmed (outside retention)") \
	X(ENG_ECONFLICT,   -32015, EEXIST,    "object already exists") \
	X(ENG_ENOTFOUND,   -32016, ENOENT,    "remote object not found") \
	X(ENG_ERETRYABLE,  -32017, EAGAIN,    "temporary failure, retry later") \
	X(ENG_EREJECTED,   -32018, EINVAL,    "remote service rejected the request")

enum eng_err {
#define ENG_ERR_ENUM(name, code, errnum, msg) name = code,
	ENG_ERR_LIST(ENG_ERR_ENUM)
#undef ENG_ERR_ENUM
};

/** Human-readable detail for an error; msg is always NUL-terminated. */
struct eng_errbuf {
	char msg[512];
};

/**
 * eng_strerror - message for rc: an ENG_E* code, -errno or 0.
 * Returns a static string; never NULL; thread-safe.
 */
const char *eng_strerror(int rc);

/**
 * eng_err_retryable - whether a run that failed with rc may succeed if
 * it is simply tried again (an automatic rerun), or must go to FAILED at
 * once because only a person can fix it (auth, a missing table or bucket,
 * trimmed or expired stream data, an invalid job).  The table of classes
 * is in README.md ("Error classes").
 */
bool eng_err_retryable(int rc);

/** eng_to_errno - positive errno for rc (used only by fs/). 0 for rc == 0. */
int eng_to_errno(int rc);

/**
 * eng_errbuf_set - printf into eb (ignored when eb is NULL).  Returns rc, so
 * callers can write "return eng_errbuf_set(eb, ENG_EINVAL, ...)".
 */
int eng_errbuf_set(struct eng_errbuf *eb, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* DIFS_ERR_H */
