/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mount_opts.c - fs_opts_check (the `difs mount -o` checker) on
 * arbitrary text.  The first byte's low bit is --allow-other, the rest is
 * the -o text.  Beyond "no crash", the properties an attacker would break:
 *   - without --allow-other, an accepted text yields no option that is
 *     allow_other/allow_root in any spelling, and never reports "shared";
 *   - what is handed to libfuse only uses the escapes "\," and "\\", and
 *     splitting it (here, independently of fs_opts.c) gives options none of
 *     which is a control byte or names default_permissions otherwise than
 *     plainly;
 *   - checking the output again accepts it and gives it back unchanged.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fs_opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* lower case, no '_' '-' blanks, up to '=': is (exact) or contains folded */
static bool
fuzz_is(const char *opt, size_t n, const char *folded, bool exact)
{
	char f[64];
	size_t i, o = 0;

	for (i = 0; i < n && opt[i] != '=' && o + 1 < sizeof(f); i++) {
		char c = opt[i];

		if (c == '_' || c == '-' || c == ' ' || c == '\t')
			continue;
		f[o++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	f[o] = '\0';
	return exact ? strcmp(f, folded) == 0 : strstr(f, folded) != NULL;
}

static void
fuzz_check_option(const char *opt, size_t n, bool allow)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)opt[i] < 0x20 || opt[i] == 0x7f)
			abort();
	if (!allow && (fuzz_is(opt, n, "allowother", true) ||
	    fuzz_is(opt, n, "allowroot", true)))
		abort();
	if (fuzz_is(opt, n, "defaultpermission", false) &&
	    !(n == 19 && memcmp(opt, "default_permissions", 19) == 0))
		abort();
}

/* split the checker's output: only "\," and "\\" may appear escaped */
static void
fuzz_split(const char *p, size_t len, bool allow)
{
	char opt[BUF_MAX_SMALL];
	size_t i, n = 0;

	for (i = 0; i <= len; i++) {
		if (i == len || p[i] == ',') {
			if (n == 0)
				abort();	/* empty options are dropped */
			fuzz_check_option(opt, n, allow);
			n = 0;
			continue;
		}
		if (p[i] == '\\') {
			if (i + 1 >= len || (p[i + 1] != ',' && p[i + 1] != '\\'))
				abort();
			i++;
		}
		if (n >= sizeof(opt))
			abort();
		opt[n++] = p[i];
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out, again;
	char why[512];
	bool allow, shared = false, shared2 = false;
	int rc;

	if (size == 0)
		return 0;
	allow = (data[0] & 1) != 0;
	buf_init(&out, BUF_MAX_SMALL);
	buf_init(&again, BUF_MAX_SMALL);
	rc = fs_opts_check((const char *)data + 1, size - 1, allow, &out,
	    &shared, why, sizeof(why));
	if (rc != 0 && why[0] == '\0')
		abort();	/* every refusal says why */
	if (rc == 0) {
		if (shared && !allow)
			abort();
		if (out.len > 0)
			fuzz_split(out.p, out.len, allow);
		if (fs_opts_check(out.p, out.len, allow, &again, &shared2, why,
		    sizeof(why)) != 0 || again.len != out.len ||
		    memcmp(again.p, out.p, out.len) != 0 || shared2 != shared)
			abort();
	}
	buf_free(&out);
	buf_free(&again);
	return 0;
}
