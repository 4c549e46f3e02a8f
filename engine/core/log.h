/* SPDX-License-Identifier: MIT */
/*
 * log.h - the daemon's own log (not the per-instance logs, which live in the
 * state store).  Lines are "YYYY-MM-DDTHH:MM:SS.mmm+ZZZZ LEVEL message".
 *
 * The sink is process-wide: log_open() is called once by main() before any
 * thread starts (the one documented exception to "no global mutable state",
 * like OpenBSD's log.c).  Writing is thread-safe (one write(2) per line).
 * Never pass a secret to these functions.
 *
 * A log entry is one line: every byte below 0x20 (newline, tab, escape ...)
 * and 0x7f in a message is written as \xHH (log_escape), so a ctl write or
 * a file name holding "\n" cannot forge an entry.
 */
#ifndef DIFS_LOG_H
#define DIFS_LOG_H

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/**
 * log_open - send log lines to path (appended, created 0600) and, when
 * to_stderr, to stderr too.  path may be NULL (stderr only).
 * Returns 0 or -errno.  Default before any call: stderr, level INFO.
 */
int	log_open(const char *path, int to_stderr, enum log_level level);
void	log_close(void);

void	log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** log_warn - message + ": " + strerror(errno) (OpenBSD style). */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/**
 * log_escape - copy (s, len) to out (outsz >= 1, always NUL-terminated) with
 * every byte < 0x20 and 0x7f as "\xHH"; cut at a whole character when out
 * is too small.  Returns the bytes written, without the NUL.
 */
size_t	log_escape(const char *s, size_t len, char *out, size_t outsz);
/** log_escaped_len - the length log_escape needs for (s, len), without the NUL. */
size_t	log_escaped_len(const char *s, size_t len);
#define log_warnx(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_errorx(...)	log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif /* DIFS_LOG_H */
