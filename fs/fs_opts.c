/* SPDX-License-Identifier: MIT */
/*
 * fs_opts.c - check `difs mount -o` option strings (fs_opts.h).
 *
 * libfuse unescapes -o text before it matches an option (fuse_opt.c,
 * process_real_option_group: "\x" is x, "\ooo" an octal byte, an unescaped
 * ',' ends an option), so a check on the raw text is bypassed with
 * -o 'allow_othe\r'.  Here the text is split and unescaped the same way, each
 * option is checked as libfuse will see it, and what goes on to libfuse is
 * the checked options re-escaped (only ',' and '\' need it): whatever the
 * installed libfuse does with other escapes, it parses what was checked.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fs_opts.h"

/* the option as the user wrote it, for a message: printable, cut */
static void
fs_opts_show(const char *p, size_t n, char *dst, size_t dstsz)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 8 < dstsz; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f)
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, dstsz - o, "\\%03o", c);
	}
	if (i < n && o + 4 < dstsz) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/*
 * name (the option up to '=') folded for comparison: lower case, without
 * '_', '-' and blanks, so allow-other, ALLOW_OTHER and " allow_other " are
 * all "allowother".  The result is cut at dstsz - 1: long names are none of
 * the few compared with.
 */
static void
fs_opts_fold(const char *opt, size_t n, char *dst, size_t dstsz)
{
	size_t i, o = 0;

	for (i = 0; i < n && opt[i] != '=' && o + 1 < dstsz; i++) {
		char c = opt[i];

		if (c == '_' || c == '-' || c == ' ' || c == '\t')
			continue;
		dst[o++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	dst[o] = '\0';
}

/* one unescaped option: 0, or -EINVAL with why */
static int
fs_opts_one(const char *raw, size_t rawlen, const char *opt, size_t n,
    bool allow_other, bool *shared, char *why, size_t whysz)
{
	char shown[128], fold[64];
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)opt[i];

		if (c < 0x20 || c == 0x7f) {
			fs_opts_show(raw, rawlen, shown, sizeof(shown));
			snprintf(why, whysz, "-o '%s': control character (byte "
			    "0x%02x) in a mount option", shown, c);
			return -EINVAL;
		}
	}
	fs_opts_fold(opt, n, fold, sizeof(fold));
	if (strcmp(fold, "allowother") == 0 || strcmp(fold, "allowroot") == 0) {
		const char *plain = fold[5] == 'o' ? "allow_other" : "allow_root";

		fs_opts_show(raw, rawlen, shown, sizeof(shown));
		if (!allow_other) {
			snprintf(why, whysz, "-o '%s' (%s) is refused: the mount "
			    "belongs to the mounting user only; to let other "
			    "users in, give --allow-other (see difs(1))",
			    shown, plain);
			return -EINVAL;
		}
		if (n != strlen(plain) || memcmp(opt, plain, n) != 0) {
			snprintf(why, whysz, "-o '%s': write it as plain -o %s "
			    "(no escapes, no value)", shown, plain);
			return -EINVAL;
		}
		*shared = true;
		return 0;
	}
	if (strstr(fold, "defaultpermission") != NULL &&
	    !(n == strlen("default_permissions") &&
	    memcmp(opt, "default_permissions", n) == 0)) {
		fs_opts_show(raw, rawlen, shown, sizeof(shown));
		snprintf(why, whysz, "-o '%s' is refused: default_permissions "
		    "is always on (the kernel checks file modes) and cannot "
		    "be changed", shown);
		return -EINVAL;
	}
	return 0;
}

/* append opt[0..n) to out with ',' and '\' escaped */
static int
fs_opts_emit(struct buf *out, const char *opt, size_t n)
{
	size_t i;

	if (out->len > 0)
		(void)buf_addc(out, ',');
	for (i = 0; i < n; i++) {
		if (opt[i] == ',' || opt[i] == '\\')
			(void)buf_addc(out, '\\');
		(void)buf_addc(out, opt[i]);
	}
	return out->err;
}

int
fs_opts_check(const char *buf, size_t len, bool allow_other, struct buf *out,
    bool *shared, char *why, size_t whysz)
{
	struct buf opt;
	size_t i = 0, start;
	bool dummy = false;
	int rc = 0;

	if (shared == NULL)
		shared = &dummy;
	if (whysz > 0)
		why[0] = '\0';
	buf_init(&opt, BUF_MAX_SMALL);
	while (i <= len && rc == 0) {
		buf_reset(&opt);
		start = i;
		/* one option: up to an unescaped ',' or the end */
		while (i < len && buf[i] != ',') {
			if (buf[i] == '\\' && i + 1 < len) {
				i++;
				if (i + 2 < len && buf[i] >= '0' && buf[i] <= '3' &&
				    buf[i + 1] >= '0' && buf[i + 1] <= '7' &&
				    buf[i + 2] >= '0' && buf[i + 2] <= '7') {
					(void)buf_addc(&opt, (char)((buf[i] - '0') * 64 +
					    (buf[i + 1] - '0') * 8 + (buf[i + 2] - '0')));
					i += 2;
				} else {
					(void)buf_addc(&opt, buf[i]);
				}
			} else {
				(void)buf_addc(&opt, buf[i]);
			}
			i++;
		}
		if (opt.err != 0) {
			rc = opt.err;
			snprintf(why, whysz, "-o: option too long");
		} else if (opt.len > 0) {
			rc = fs_opts_one(buf + start, i - start, opt.p, opt.len,
			    allow_other, shared, why, whysz);
			if (rc == 0 && (rc = fs_opts_emit(out, opt.p, opt.len)) != 0)
				snprintf(why, whysz, "-o: options too long");
		}
		i++;	/* past the ',' (or the end) */
	}
	buf_free(&opt);
	return rc;
}
