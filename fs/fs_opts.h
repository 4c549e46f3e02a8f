/* SPDX-License-Identifier: MIT */
/*
 * fs_opts.h - the checker of `difs mount -o` option strings (fs/fs_opts.c).
 * Apart from fs_mount.c so that it builds without libfuse (the fuzz target
 * tests/fuzz/fuzz_mount_opts.c links it alone).
 */
#ifndef DIFS_FS_OPTS_H
#define DIFS_FS_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/**
 * fs_opts_check - split the -o text buf[0..len) into options the way
 * libfuse's fuse_opt_parse does (',' separates, a backslash escapes the
 * next byte, \ooo is an octal byte), unescape each and check it:
 *   - allow_other / allow_root in any spelling (case, '-' for '_', blanks,
 *     "=value", escapes) are refused unless allow_other is true, and then
 *     only as the plain "allow_other" or "allow_root";
 *   - default_permissions is always on: any other option naming it
 *     ("default_permissions=0", "nodefault_permissions", ...) is refused;
 *   - control bytes (a NUL from \000 included) are refused.
 * On success the options are appended to out re-escaped (',' and '\' only,
 * comma-joined after what out holds), so libfuse parses exactly the options
 * that were checked; empty options are dropped.  *shared (if not NULL) is set
 * when allow_other or allow_root was among them.
 *
 * Returns 0, -EINVAL with a message in why (naming the option as given and
 * as unescaped, and the fix), or -ENOMEM/-E2BIG (out's error).
 */
int	fs_opts_check(const char *buf, size_t len, bool allow_other,
	    struct buf *out, bool *shared, char *why, size_t whysz);

#endif /* DIFS_FS_OPTS_H */
