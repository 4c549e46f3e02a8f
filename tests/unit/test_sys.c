/* SPDX-License-Identifier: MIT */
/* test_sys.c - core/sys.c (mkdir -p, whole-file read, write-all) and
 * core/num.c (the strict integer parser). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "num.h"
#include "sys.h"
#include "tap.h"

static void
test_num(void)
{
	int64_t v = 7;
	uint64_t u = 7;

	is_int(num_i64("42", (size_t)-1, 0, 100, &v), 0, "i64: 42");
	is_int((int)v, 42, "i64: value");
	is_int(num_i64("-5", 2, -10, 10, &v), 0, "i64: negative");
	is_int((int)v, -5, "i64: negative value");
	is_int(num_i64("007", (size_t)-1, 0, 10, &v), 0, "i64: leading zeros");
	is_int((int)v, 7, "i64: leading zeros value");
	is_int(num_i64("12abc", 2, 0, 100, &v), 0, "i64: len bounds the text");
	v = 99;
	is_int(num_i64("12abc", (size_t)-1, 0, 100, &v), ENG_EINVAL, "i64: trailing garbage");
	is_int(num_i64(" 12", (size_t)-1, 0, 100, &v), ENG_EINVAL, "i64: leading blank");
	is_int(num_i64("+12", (size_t)-1, 0, 100, &v), ENG_EINVAL, "i64: plus sign");
	is_int(num_i64("", (size_t)-1, 0, 100, &v), ENG_EINVAL, "i64: empty");
	is_int(num_i64("-", (size_t)-1, -1, 100, &v), ENG_EINVAL, "i64: sign only");
	is_int(num_i64("1e3", (size_t)-1, 0, 10000, &v), ENG_EINVAL, "i64: exponent");
	is_int(num_i64(NULL, 0, 0, 1, &v), ENG_EINVAL, "i64: NULL");
	is_int((int)v, 99, "i64: *out untouched on error");
	is_int(num_i64("101", (size_t)-1, 0, 100, &v), -ERANGE, "i64: above max");
	is_int(num_i64("-1", (size_t)-1, 0, 100, &v), -ERANGE, "i64: below min");
	is_int(num_i64("9223372036854775807", (size_t)-1, INT64_MIN, INT64_MAX, &v), 0,
	    "i64: INT64_MAX");
	ok(v == INT64_MAX, "i64: INT64_MAX value");
	is_int(num_i64("-9223372036854775808", (size_t)-1, INT64_MIN, INT64_MAX, &v), 0,
	    "i64: INT64_MIN");
	ok(v == INT64_MIN, "i64: INT64_MIN value");
	is_int(num_i64("9223372036854775808", (size_t)-1, INT64_MIN, INT64_MAX, &v), -ERANGE,
	    "i64: INT64_MAX + 1");
	is_int(num_i64("99999999999999999999999", (size_t)-1, INT64_MIN, INT64_MAX, &v),
	    -ERANGE, "i64: past 64 bits");
	is_int(num_i64("99999999999999999999999x", (size_t)-1, INT64_MIN, INT64_MAX, &v),
	    ENG_EINVAL, "i64: long garbage is garbage, not a range error");
	is_int(num_u64("18446744073709551615", (size_t)-1, UINT64_MAX, &u), 0, "u64: max");
	ok(u == UINT64_MAX, "u64: max value");
	is_int(num_u64("18446744073709551616", (size_t)-1, UINT64_MAX, &u), -ERANGE,
	    "u64: max + 1");
	is_int(num_u64("-1", (size_t)-1, UINT64_MAX, &u), ENG_EINVAL, "u64: no sign");
	is_int(num_u64("11", (size_t)-1, 10, &u), -ERANGE, "u64: above max");
}

static void
test_fs(void)
{
	char dir[] = "/tmp/test_sys.XXXXXX", p[PATH_MAX], q[PATH_MAX];
	struct buf b;
	struct stat st;
	int fd;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	(void)snprintf(p, sizeof(p), "%s/a//b/c/", dir);
	is_int(sys_mkdir_p(p, 0700), 0, "mkdir_p: a//b/c/");
	(void)snprintf(q, sizeof(q), "%s/a/b/c", dir);
	ok(stat(q, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
	    "mkdir_p: made with the mode");
	is_int(sys_mkdir_p(p, 0700), 0, "mkdir_p: existing is fine");
	is_int(sys_mkdir_p("", 0700), -ENOENT, "mkdir_p: empty path");

	(void)snprintf(p, sizeof(p), "%s/a/f", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ok(fd >= 0, "create a file");
	is_int(sys_write_all(fd, "hello\0world", 11), 0, "write_all");
	(void)close(fd);
	(void)snprintf(q, sizeof(q), "%s/a/f/g", dir);
	is_int(sys_mkdir_p(q, 0700), -ENOTDIR, "mkdir_p: a file in the way");

	buf_init(&b, BUF_MAX_SMALL);
	is_int(buf_addstr(&b, ">"), 0, "buf prefix");
	is_int(sys_read_file(p, 0, &b), 0, "read_file");
	ok(b.len == 12 && memcmp(b.p, ">hello\0world", 12) == 0, "read_file appends all bytes");
	is_int(sys_read_file(p, 10, &b), -EFBIG, "read_file: over max");
	is_int((int)b.len, 12, "read_file: nothing appended on failure");
	is_int(sys_read_file(p, 11, &b), 0, "read_file: exactly max");
	(void)snprintf(q, sizeof(q), "%s/a", dir);
	is_int(sys_read_file(q, 0, &b), -EISDIR, "read_file: a directory");
	(void)snprintf(q, sizeof(q), "%s/none", dir);
	is_int(sys_read_file(q, 0, &b), -ENOENT, "read_file: missing");
	buf_free(&b);

	(void)unlink(p);
	(void)snprintf(q, sizeof(q), "%s/a/b/c", dir);
	(void)rmdir(q);
	(void)snprintf(q, sizeof(q), "%s/a/b", dir);
	(void)rmdir(q);
	(void)snprintf(q, sizeof(q), "%s/a", dir);
	(void)rmdir(q);
	(void)rmdir(dir);
}

int
main(void)
{
	test_num();
	test_fs();
	return done_testing();
}
