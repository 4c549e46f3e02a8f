/* SPDX-License-Identifier: MIT */
/* test_log.c - the daemon log: one entry is one line whatever the message
 * holds (control bytes as \xHH: no log injection, issue 14). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"

int
main(void)
{
	char path[] = "/tmp/test_log.XXXXXX", out[64], text[4096];
	ssize_t n;
	int fd, lines, i;

	is_int(log_escape("a\nb\tc\x7f" "d\\e", 9, out, sizeof(out)), 18, "escape length");
	is_str(out, "a\\x0ab\\x09c\\x7fd\\e", "control bytes and DEL as \\xHH, the rest as is");
	is_int(log_escaped_len("a\nb\tc\x7f" "d\\e", 9), 18, "escaped length agrees");
	is_int(log_escape("\n\n", 2, out, 6), 4, "cut at a whole escape");
	is_str(out, "\\x0a", "no half escape");
	is_int(log_escape("abc", 3, out, 1), 0, "room for the NUL only");
	if ((fd = mkstemp(path)) < 0)
		return perror("mkstemp"), 1;
	close(fd);
	is_int(log_open(path, 0, LOG_LVL_INFO), 0, "log to a file");
	log_info("ctl: 'run\nFAKE LINE' refused");
	log_warnx("jobs/x\r\n2026-01-01T00:00:00.000+0000 ERROR forged.json: saved");
	log_close();
	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	if (fd >= 0)
		close(fd);
	text[n > 0 ? n : 0] = '\0';
	for (i = 0, lines = 0; text[i] != '\0'; i++)
		lines += text[i] == '\n';
	is_int(lines, 2, "two entries, two lines");
	ok(strstr(text, "'run\\x0aFAKE LINE' refused\n") != NULL, "the newline is \\x0a");
	ok(strstr(text, "jobs/x\\x0d\\x0a2026-") != NULL, "CR LF escaped");
	ok(strchr(text, '\r') == NULL, "no raw CR");
	unlink(path);
	return done_testing();
}
