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

#endif /* DIFS_SYS_H */
