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
