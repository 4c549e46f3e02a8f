/* SPDX-License-Identifier: MIT */
/*
 * err.c - message and errno tables for the ENG_E* error space (see err.h).
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
