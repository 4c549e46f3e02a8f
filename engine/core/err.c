/* SPDX-License-Identifier: MIT */
/*
 * err.c - message and errno tables for the ENG_E* error space (see err.h),
 * and the retry class of every code (README.md, "Error classes").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

const char *
eng_strerror(int rc)
{
	static const char unknown[] = "unknown error";

	if (rc == 0)
		return "success";
	switch (rc) {
#define ENG_ERR_MSG(name, code, errnum, msg) case name: return msg;
	ENG_ERR_LIST(ENG_ERR_MSG)
#undef ENG_ERR_MSG
	default:
		break;
	}
	if (rc < 0 && rc > -4096)
		return strerror(-rc);	/* glibc: static table, thread-safe */
	return unknown;
}

/*
 * The question is whether the same attempt, started again a while later
 * with nothing changed by a person, can succeed.  Requests have already
 * been retried by the clients (engine/ots, engine/oss) before a code gets
 * here, so this is about the rerun of the whole instance.
 */
bool
eng_err_retryable(int rc)
{
	switch (rc) {
	case 0:
		return false;		/* not a failure */
	/* a person must change the definition, a key, the remote side or data */
	case ENG_EINVAL:		/* the job or a parameter is invalid */
	case ENG_ESIG:			/* wrong secret, unknown AccessKeyId, clock skew */
	case ENG_EREJECTED:		/* the service refuses this request as invalid */
	case ENG_ENOTFOUND:		/* table, bucket or stream does not exist */
	case ENG_ETRIMMED:		/* stream data is gone: it never comes back */
	case ENG_ECONFLICT:		/* the object exists / changed: met again */
	case ENG_EDIRTY:		/* the same records are dirty again */
	case ENG_ETLS:			/* certificate or CA setup: does not pass by itself */
	case ENG_ESTATE:		/* an internal inconsistency: repeats */
	case ENG_ECORRUPT:		/* stored state is read back the same */
	case ENG_EVERSION:		/* needs another difs */
	case ENG_EKILLED:		/* a person stopped it; not a reason to rerun */
		return false;
	/* the cause passes by itself */
	case ENG_ECONN:
	case ENG_ETHROTTLE:
	case ENG_EREMOTE:		/* 5xx and unknown answers of the service */
	case ENG_EPROTO:		/* a garbled or truncated answer */
	case ENG_ECHECKSUM:		/* bytes damaged in transit: fetched again */
	case ENG_ELOCKED:		/* the other process may finish */
	case ENG_ERETRYABLE:
		return true;
	default:
		break;
	}
	if (rc > 0 || rc <= -4096)
		return true;		/* unknown code: the rerun budget bounds it */
	switch (-rc) {
	/* a path, a permission or an argument that stays wrong */
	case EACCES:			/* also OSS AccessDenied */
	case EPERM:
	case EROFS:
	case ENOENT:
	case ENOTDIR:
	case EISDIR:
	case ELOOP:
	case ENAMETOOLONG:
	case EEXIST:			/* writeMode nonConflict met existing output */
	case EINVAL:
	case ERANGE:
	case EFBIG:
	case E2BIG:
	case EILSEQ:
	case ENOSYS:
	case EOPNOTSUPP:
	case EBADF:
	case EFAULT:
		return false;
	default:
		/* EIO, ENOSPC, EDQUOT, EMFILE, ENFILE, ENOMEM, EAGAIN, EINTR,
		 * ETIMEDOUT, ECONNRESET, EPIPE, EBUSY ...: conditions of the
		 * machine or the network that change */
		return true;
	}
}

int
eng_to_errno(int rc)
{
	if (rc == 0)
		return 0;
	switch (rc) {
#define ENG_ERR_ERRNO(name, code, errnum, msg) case name: return errnum;
	ENG_ERR_LIST(ENG_ERR_ERRNO)
#undef ENG_ERR_ERRNO
	default:
		break;
	}
	if (rc < 0 && rc > -4096)
		return -rc;
	return EIO;
}

int
eng_errbuf_set(struct eng_errbuf *eb, int rc, const char *fmt, ...)
{
	va_list ap;

	if (eb == NULL)
		return rc;
	va_start(ap, fmt);
	/* truncation is acceptable for a diagnostic; msg stays terminated */
	(void)vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
	va_end(ap);
	return rc;
}
