/* SPDX-License-Identifier: MIT */
/* test_buf.c - struct buf invariants: termination, limits, sticky failure. */
#include <errno.h>
#include <stdlib.h>

#include "buf.h"
#include "tap.h"

int
main(void)
{
	struct buf b;
	char *p;
	size_t n;

	buf_init(&b, 16);
	ok(b.p != NULL && b.p[0] == '\0' && b.len == 0, "init: empty, terminated");
	is_int(buf_addstr(&b, "hello"), 0, "add within limit");
	is_int(buf_printf(&b, " %d", 42), 0, "printf within limit");
	is_str(b.p, "hello 42", "contents");
	is_int(buf_add(&b, "\0x", 2), 0, "binary add");
	is_int(b.len, 10, "binary length");
	is_int(buf_addstr(&b, "0123456789"), -E2BIG, "exceeding max fails");
	is_int(b.len, 0, "failed buffer is empty");
	is_int(buf_addc(&b, 'x'), -E2BIG, "failure is sticky");
	buf_reset(&b);
	is_int(buf_addc(&b, 'y'), 0, "reset clears the failure");
	buf_truncate(&b, 0);
	is_str(b.p, "", "truncate");
	is_int(buf_addstr(&b, "0123456789abcdef"), 0, "exactly max bytes fit");
	p = buf_take(&b, &n);
	ok(p != NULL && n == 16 && p[16] == '\0', "take hands over terminated memory");
	free(p);
	ok(b.len == 0 && b.p[0] == '\0', "buffer empty after take");
	p = buf_take(&b, &n);
	ok(p != NULL && n == 0 && p[0] == '\0', "take of empty buffer gives \"\"");
	free(p);
	buf_free(&b);
	buf_free(NULL);
	return done_testing();
}
