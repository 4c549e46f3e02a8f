/* SPDX-License-Identifier: MIT */
/*
 * log.c - daemon log sink (see log.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Set once by log_open() before threads start; read-only afterwards. */
static int log_fd = -1;
static int log_stderr = 1;
static enum log_level log_max = LOG_LVL_INFO;

static const char *const log_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

int
log_open(const char *path, int to_stderr, enum log_level level)
{
	int fd = -1;

	if (path != NULL) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
	}
	log_close();
	log_fd = fd;
	log_stderr = to_stderr;
	log_max = level;
	return 0;
}

void
log_close(void)
{
	if (log_fd >= 0)
		(void)close(log_fd);
	log_fd = -1;
}

static bool
log_ctl(unsigned char ch)
{
	return ch < 0x20 || ch == 0x7f;
}

size_t
log_escaped_len(const char *s, size_t len)
{
	size_t i, n = len;

	for (i = 0; i < len; i++)
		if (log_ctl((unsigned char)s[i]))
			n += 3;
	return n;
}

size_t
log_escape(const char *s, size_t len, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n = 0;
	unsigned char ch;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		if (!log_ctl(ch)) {
			if (n + 1 >= outsz)
				break;
			out[n++] = (char)ch;
			continue;
		}
		if (n + 4 >= outsz)
			break;
		out[n++] = '\\';
		out[n++] = 'x';
		out[n++] = hex[ch >> 4];
		out[n++] = hex[ch & 0xf];
	}
	out[n] = '\0';
	return n;
}

static void log_vemit(enum log_level lvl, const char *fmt, va_list ap, int errnum)
    __attribute__((format(printf, 2, 0)));

static void
log_vemit(enum log_level lvl, const char *fmt, va_list ap, int errnum)
{
	char line[2048], msg[2048];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int k;

	if (lvl > log_max)
		return;
	(void)gettimeofday(&tv, NULL);
	(void)localtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	k = snprintf(line + n, sizeof(line) - n, ".%03ld", (long)(tv.tv_usec / 1000));
	if (k > 0)
		n += (size_t)k;
	n += strftime(line + n, sizeof(line) - n, "%z ", &tm);
	k = snprintf(line + n, sizeof(line) - n, "%s ", log_names[lvl]);
	if (k > 0)
		n += (size_t)k;
	if (n < sizeof(line)) {	/* one entry, one line: control bytes as \xHH */
		k = vsnprintf(msg, sizeof(msg), fmt, ap);
		if (k > 0)
			n += log_escape(msg, (size_t)k >= sizeof(msg) ? sizeof(msg) - 1 : (size_t)k,
			    line + n, sizeof(line) - n);
	}
	if (errnum != 0 && n < sizeof(line)) {
		k = snprintf(line + n, sizeof(line) - n, ": %s", strerror(errnum));
		if (k > 0)
			n = n + (size_t)k >= sizeof(line) ? sizeof(line) - 1 : n + (size_t)k;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (log_fd >= 0)
		(void)!write(log_fd, line, n);
	if (log_stderr)
		(void)!write(STDERR_FILENO, line, n);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(lvl, fmt, ap, 0);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int saverr = errno;

	va_start(ap, fmt);
	log_vemit(LOG_LVL_WARN, fmt, ap, saverr);
	va_end(ap);
}
