/* SPDX-License-Identifier: MIT */
/*
 * log.c - daemon log sink (see log.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

static void log_vemit(enum log_level lvl, const char *fmt, va_list ap, int errnum)
    __attribute__((format(printf, 2, 0)));

static void
log_vemit(enum log_level lvl, const char *fmt, va_list ap, int errnum)
{
	char line[2048];
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
	if (n < sizeof(line)) {
		k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		if (k > 0)
			n = n + (size_t)k >= sizeof(line) ? sizeof(line) - 1 : n + (size_t)k;
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
