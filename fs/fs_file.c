/* SPDX-License-Identifier: MIT */
/*
 * fs_file.c - open-file ops of the mount: open, create, read, write and
 * the commit points flush (close), fsync and release (last close).  The
 * engine keeps the handle state (dirty flag, snapshot of generated files);
 * fi->fh carries the engine's handle.  Each op makes one eng_* call and
 * sends exactly one reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "fs_i.h"

/*
 * open - valid replies: fuse_reply_open, fuse_reply_err.
 */
void
fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct eng_open o;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = eng_open(fs->eng, ino, fi->flags, fuse_req_ctx(req)->pid, &o);
	if (rc != 0) {
		fs_reply_err(req, "open", rc);
		return;
	}
	fs_fi_from(fi, &o);
	if (fuse_reply_open(req, fi) == -ENOENT) {
		/* the caller was interrupted: nobody will release this handle */
		eng_release(fs->eng, o.fh);
	}
}

/*
 * create - valid replies: fuse_reply_create, fuse_reply_err.
 */
void
fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct fuse_entry_param fe;
	struct eng_entry e;
	struct eng_open o;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = eng_create(fs->eng, parent, name, mode, fi->flags, fuse_req_ctx(req)->pid, &e, &o);
	if (rc != 0) {
		fs_reply_err(req, "create", rc);
		return;
	}
	fs_fi_from(fi, &o);
	fs_entry_from(&fe, &e);
	if (fuse_reply_create(req, &fe, fi) == -ENOENT) {
		/* interrupted: the kernel neither knows the entry nor the
		 * handle; give both back */
		eng_release(fs->eng, o.fh);
		eng_forget(fs->eng, e.attr.ino, 1);
	}
}

/*
 * read - valid replies: fuse_reply_buf, fuse_reply_err.
 */
void
fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct buf b;
	int rc;

	(void)ino;
	buf_init(&b, size);
	rc = eng_read(fs->eng, fi->fh, off < 0 ? 0 : (uint64_t)off, size, &b);
	if (rc == 0 && b.err != 0)
		rc = b.err;
	if (rc != 0)
		fs_reply_err(req, "read", rc);
	else
		fuse_reply_buf(req, b.p, b.len > size ? size : b.len);
	buf_free(&b);
}

/*
 * write - valid replies: fuse_reply_write, fuse_reply_err.
 */
void
fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
    off_t off, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	size_t written = 0;
	int rc;

	(void)ino;
	rc = eng_write(fs->eng, fi->fh, off < 0 ? 0 : (uint64_t)off, buf, size,
	    &written);
	if (rc != 0) {
		fs_reply_err(req, "write", rc);
		return;
	}
	fuse_reply_write(req, written);
}

/*
 * flush - close(2) of one descriptor; its error is what close() returns
 * (only a failure to store the bytes: an invalid definition is not an
 * error, engine/view/view.h).  Valid replies: fuse_reply_err.
 */
void
fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);

	(void)ino;
	fs_reply_err(req, "flush", eng_flush(fs->eng, fi->fh, fuse_req_ctx(req)->pid));
}

/*
 * fsync - a commit point like flush.  Valid replies: fuse_reply_err.
 */
void
fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);

	(void)ino;
	(void)datasync;
	fs_reply_err(req, "fsync", eng_fsync(fs->eng, fi->fh, fuse_req_ctx(req)->pid));
}

/*
 * release - the last close of an open: commits and frees the handle (the
 * kernel ignores the error).  Valid replies: fuse_reply_err.
 */
void
fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);

	(void)ino;
	fs_reply_err(req, "release", eng_release(fs->eng, fi->fh));
}
