/* SPDX-License-Identifier: MIT */
/*
 * sys.h - the small file-system helpers every layer needs once: mkdir -p,
 * read a whole file, write a whole buffer.  Thin over POSIX; errors are
 * -errno as the system gave them (err.h).
 */
#ifndef DIFS_SYS_H
#define DIFS_SYS_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/**
 * sys_mkdir_p - create path and its missing parents with mode (existing
 * directories are left as they are; "a//b" and a trailing '/' are fine).
 * Returns 0, -ENOENT (empty path), -ENAMETOOLONG, -ENOTDIR (a component is
 * not a directory) or the -errno of mkdir/stat.
 */
int	sys_mkdir_p(const char *path, mode_t mode);

/**
 * sys_private_dir - create path (and its parents) 0700 when missing, then
 * insist that it is a directory owned by the effective user and writable by
 * no one else (as ssh's StrictModes does for ~/.ssh): a directory another
 * user owns or can write to could hand this process jobs it did not write.
 * what names it in the message ("state directory").  Returns 0, or -ENOTDIR,
 * -EPERM (wrong owner or mode) or the -errno of mkdir/stat, with a message
 * in why naming the directory and the fix (chmod 700, chown).
 */
int	sys_private_dir(const char *path, const char *what, char *why, size_t whysz);

/**
 * sys_read_fd - append what fd gives until end of file to out (as
 * sys_read_file, for an open descriptor: a pipe, stdin, a mount file).
 */
int	sys_read_fd(int fd, size_t max, struct buf *out);

/**
 * sys_read_file - append the whole of the regular file path to out.
 * max > 0 bounds the size: a longer file gives -EFBIG and appends nothing.
 * Returns 0, -EISDIR, -EFBIG, -ENOMEM or the -errno of open/read.
 */
int	sys_read_file(const char *path, size_t max, struct buf *out);

/**
 * sys_write_all - write all len bytes to fd, retrying short writes and
 * EINTR.  Returns 0 or the -errno of write.
 */
int	sys_write_all(int fd, const void *data, size_t len);

/*
 * Secret bytes (access keys, tokens, the store key): each lives in its own
 * anonymous mapping marked MADV_DONTDUMP (left out of a core dump even
 * when one is allowed) and is wiped before it is unmapped.
 */
/** sys_secret_dup - a NUL-terminated copy of (s, len) in such a mapping
 *  (s NULL: len zero bytes, to fill in); NULL when out of memory. */
char	*sys_secret_dup(const char *s, size_t len);
/** sys_secret_strdup - sys_secret_dup of a string; NULL for NULL. */
char	*sys_secret_strdup(const char *s);
/** sys_secret_free - wipe and unmap what sys_secret_dup returned; NULL-safe. */
void	sys_secret_free(char *s);
/**
 * sys_harden - for a process that holds secrets: not dumpable
 * (PR_SET_DUMPABLE 0: no core dump, no ptrace or /proc/PID/mem, environ,
 * maps by other processes of the same user) and RLIMIT_CORE 0.  0 or -errno.
 */
int	sys_harden(void);

#endif /* DIFS_SYS_H */
