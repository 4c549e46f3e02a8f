/* SPDX-License-Identifier: MIT */
/*
 * test_err_class.c - the retry class of every error code (core/err.c,
 * eng_err_retryable) and its documentation: each ENG_E* code must have a
 * decided class here (a new code fails this test until it is added), and
 * README.md's "Error classes" table must list it with the same answer.
 *
 *   test_err_class PATH/TO/README.md
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "oss_i.h"
#include "sys.h"
#include "tap.h"

struct cls {
	int		 rc;
	const char	*name;
	int		 retry;		/* 1 yes, 0 no */
};

/* the decided class of every ENG_E* code (README.md "Error classes") */
static const struct cls eng_cls[] = {
	{ ENG_EINVAL,     "ENG_EINVAL",     0 },
	{ ENG_ESIG,       "ENG_ESIG",       0 },
	{ ENG_EREMOTE,    "ENG_EREMOTE",    1 },
	{ ENG_ETHROTTLE,  "ENG_ETHROTTLE",  1 },
	{ ENG_EPROTO,     "ENG_EPROTO",     1 },
	{ ENG_ECONN,      "ENG_ECONN",      1 },
	{ ENG_ETLS,       "ENG_ETLS",       0 },
	{ ENG_ECHECKSUM,  "ENG_ECHECKSUM",  1 },
	{ ENG_EKILLED,    "ENG_EKILLED",    0 },
	{ ENG_EDIRTY,     "ENG_EDIRTY",     0 },
	{ ENG_ESTATE,     "ENG_ESTATE",     0 },
	{ ENG_ECORRUPT,   "ENG_ECORRUPT",   0 },
	{ ENG_EVERSION,   "ENG_EVERSION",   0 },
	{ ENG_ELOCKED,    "ENG_ELOCKED",    1 },
	{ ENG_ETRIMMED,   "ENG_ETRIMMED",   0 },
	{ ENG_ECONFLICT,  "ENG_ECONFLICT",  0 },
	{ ENG_ENOTFOUND,  "ENG_ENOTFOUND",  0 },
	{ ENG_ERETRYABLE, "ENG_ERETRYABLE", 1 },
	{ ENG_EREJECTED,  "ENG_EREJECTED",  0 },
};

static const struct cls *
eng_cls_find(int rc)
{
	size_t i;

	for (i = 0; i < sizeof(eng_cls) / sizeof(eng_cls[0]); i++)
		if (eng_cls[i].rc == rc)
			return &eng_cls[i];
	return NULL;
}

static void
test_codes(void)
{
	const struct cls *c;

	/* every code of the list, in the list's order: none is forgotten */
#define ERR_CLASS_CHECK(name, code, errnum, msg) \
	c = eng_cls_find(name); \
	if (ok(c != NULL, #name " has a decided class")) \
		is_int(eng_err_retryable(name), c->retry, #name " retryable = %d", c->retry);
	ENG_ERR_LIST(ERR_CLASS_CHECK)
#undef ERR_CLASS_CHECK
	ok(!eng_err_retryable(0), "0 is not a failure");
}

static void
test_errno(void)
{
	static const int no[] = { EACCES, EPERM, EROFS, ENOENT, ENOTDIR, EISDIR,
	    ENAMETOOLONG, EEXIST, EINVAL, ERANGE, EFBIG, E2BIG, EILSEQ };
	static const int yes[] = { EIO, ENOSPC, EDQUOT, EMFILE, ENFILE, ENOMEM,
	    EAGAIN, EINTR, ETIMEDOUT, ECONNRESET, EPIPE, EBUSY };
	size_t i;

	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ok(!eng_err_retryable(-no[i]), "-%s: not retryable", strerror(no[i]));
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ok(eng_err_retryable(-yes[i]), "-%s: retryable", strerror(yes[i]));
	ok(eng_err_retryable(-31999), "an unknown code: retryable (the budget bounds it)");
}

/* the OSS client's map, through the class: what the scheduler will decide */
static void
test_oss_map(void)
{
	static const struct { int st; const char *code; int retry; } m[] = {
		{ 404, "NoSuchBucket", 0 },
		{ 404, "NoSuchKey", 0 },
		{ 403, "SignatureDoesNotMatch", 0 },
		{ 403, "InvalidAccessKeyId", 0 },
		{ 403, "AccessDenied", 0 },
		{ 403, "RequestTimeTooSkewed", 0 },
		{ 403, "", 0 },
		{ 400, "InvalidArgument", 0 },
		{ 400, "InvalidObjectName", 0 },
		{ 400, "InvalidBucketName", 0 },
		{ 400, "", 0 },
		{ 409, "FileAlreadyExists", 0 },
		{ 503, "ServiceUnavailable", 1 },
		{ 503, "", 1 },
		{ 503, "SlowDown", 1 },
		{ 429, "", 1 },
		{ 500, "InternalError", 1 },
		{ 502, "", 1 },
		{ 400, "RequestTimeout", 1 },
		{ 408, "", 1 },
		{ 400, "InvalidDigest", 1 },
	};
	size_t i;
	bool r;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		int rc = oss_map_error(m[i].st, m[i].code, &r);

		is_int(eng_err_retryable(rc), m[i].retry, "OSS %d %s -> %s: retryable %d",
		    m[i].st, m[i].code, eng_strerror(rc), m[i].retry);
	}
}

/* the README's table: every code in a row of "Error classes", same answer */
static void
test_readme(const char *path)
{
	struct buf b;
	const char *sec, *end;
	size_t i;

	buf_init(&b, BUF_MAX_DOC);
	if (!ok(path != NULL && sys_read_file(path, BUF_MAX_DOC, &b) == 0, "read %s",
	    path != NULL ? path : "(no README.md given)")) {
		buf_free(&b);
		return;
	}
	(void)buf_addc(&b, '\0');
	sec = strstr(b.p, "\n### Error classes\n");
	if (!ok(sec != NULL, "README.md has a section \"Error classes\"")) {
		buf_free(&b);
		return;
	}
	sec++;
	if ((end = strstr(sec + 4, "\n#")) == NULL)
		end = sec + strlen(sec);
	for (i = 0; i < sizeof(eng_cls) / sizeof(eng_cls[0]); i++) {
		char want[64];
		const char *p, *ls, *le, *q;
		int col = 0, found = 0;
		char cell[16] = "";

		(void)snprintf(want, sizeof(want), "`%s`", eng_cls[i].name);
		for (p = sec; (p = strstr(p, want)) != NULL && p < end; p++) {
			for (ls = p; ls > sec && ls[-1] != '\n'; ls--)
				;
			if (*ls != '|')
				continue;	/* prose, not a row */
			le = strchr(p, '\n');
			/* the third cell: | class | codes | retryable | ... */
			for (q = ls; q < le && col < 3; q++)
				if (*q == '|')
					col++;
			while (q < le && *q == ' ')
				q++;
			(void)snprintf(cell, sizeof(cell), "%.*s", (int)strcspn(q, " |"), q);
			found = 1;
			break;
		}
		if (ok(found, "README lists %s in a row", eng_cls[i].name))
			is_str(cell, eng_cls[i].retry ? "yes" : "no", "README: %s retryable",
			    eng_cls[i].name);
	}
	buf_free(&b);
}

int
main(int argc, char **argv)
{
	test_codes();
	test_errno();
	test_oss_map();
	test_readme(argc > 1 ? argv[1] : NULL);
	return done_testing();
}
