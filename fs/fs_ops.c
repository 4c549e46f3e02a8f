/* SPDX-License-Identifier: MIT */
/*
 * fs_ops.c - the low-level FUSE ops table of the mount and the reply
 * helpers every op uses.  The op bodies live in fs_dir.c and fs_file.c.
 *
 * Not implemented on purpose (the kernel answers by itself):
 *   getxattr/setxattr/listxattr/removexattr: ENOSYS once, then the kernel
 *     returns EOPNOTSUPP without asking again (vim, emacs and sed ignore
 *     it; ls -l does not pay a round-trip per file for its ACL check);
 *   opendir/releasedir: the default (fh 0) is enough, listing is by cookie;
 *   fsyncdir, access (default_permissions does the checks), flock/lock
 *     (local to the kernel), copy_file_range (cp falls back to read/write),
 *   poll, fallocate, ioctl, bmap.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fs_i.h"
#include "log.h"

/* errnos that are ordinary answers, not worth a log line */
static int
fs_err_expected(int err)
{
	switch (err) {
	case ENOENT: case EEXIST: case EACCES: case EPERM: case EROFS:
	case EINVAL: case ENOTEMPTY: case ENAMETOOLONG: case EFBIG:
	case EISDIR: case ENOTDIR: case EBUSY: case EBADF: case EXDEV:
	case ENODATA: case EOPNOTSUPP: case ENOSYS:
		return 1;
	default:
		return 0;
	}
}

void
fs_reply_err(fuse_req_t req, const char *op, int rc)
{
	int err = eng_to_errno(rc);

	if (rc != 0 && err == 0)
		err = EIO;	/* never turn a failure into a success */
	if (err != 0 && !fs_err_expected(err))
		log_warnx("fuse %s: %s", op, eng_strerror(rc));
	fuse_reply_err(req, err);
}

/* ns since the epoch -> timespec; times before 1970 keep 0 <= nsec < 1e9 */
static void
fs_ts_from(struct timespec *ts, int64_t ns)
{
	int64_t sec = ns / 1000000000, rem = ns % 1000000000;

	if (rem < 0) {
		rem += 1000000000;
		sec--;
	}
	ts->tv_sec = (time_t)sec;
	ts->tv_nsec = (long)rem;
}

void
fs_stat_from(struct stat *st, const struct eng_attr *a)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = (ino_t)a->ino;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_size = (off_t)a->size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((a->size + 511) / 512);
	fs_ts_from(&st->st_atim, a->atime_ns);
	fs_ts_from(&st->st_mtim, a->mtime_ns);
	fs_ts_from(&st->st_ctim, a->ctime_ns);
}

void
fs_entry_from(struct fuse_entry_param *fe, const struct eng_entry *e)
{
	memset(fe, 0, sizeof(*fe));
	fe->ino = e->attr.ino;
	fe->generation = 0;
	fs_stat_from(&fe->attr, &e->attr);
	fe->attr_timeout = e->attr_timeout;
	fe->entry_timeout = e->entry_timeout;
}

void
fs_reply_entry(fuse_req_t req, const struct eng_entry *e)
{
	struct fuse_entry_param fe;

	fs_entry_from(&fe, e);
	fuse_reply_entry(req, &fe);
}

void
fs_reply_attr(fuse_req_t req, const struct eng_entry *e)
{
	struct stat st;

	fs_stat_from(&st, &e->attr);
	fuse_reply_attr(req, &st, e->attr_timeout);
}

void
fs_fi_from(struct fuse_file_info *fi, const struct eng_open *o)
{
	fi->fh = o->fh;
	fi->direct_io = o->direct_io ? 1 : 0;
	fi->keep_cache = o->keep_cache ? 1 : 0;
	fi->nonseekable = o->nonseekable ? 1 : 0;
}

const struct fuse_lowlevel_ops fs_ops = {
	.lookup		= fs_lookup,
	.forget		= fs_forget,
	.forget_multi	= fs_forget_multi,
	.getattr	= fs_getattr,
	.setattr	= fs_setattr,
	.readlink	= fs_readlink,
	.mkdir		= fs_mkdir,
	.unlink		= fs_unlink,
	.rmdir		= fs_rmdir,
	.symlink	= fs_symlink,
	.rename		= fs_rename,
	.link		= fs_link,
	.open		= fs_open,
	.create		= fs_create,
	.read		= fs_read,
	.write		= fs_write,
	.flush		= fs_flush,
	.fsync		= fs_fsync,
	.release	= fs_release,
	.readdir	= fs_readdir,
	.readdirplus	= fs_readdirplus,
	.statfs		= fs_statfs,
};
