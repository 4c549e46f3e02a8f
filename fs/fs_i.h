/* SPDX-License-Identifier: MIT */
/*
 * fs_i.h - internals of the FUSE view (fs/ only; the only header besides
 * the fs/ sources that includes <fuse_lowlevel.h>).
 *
 * struct fs is the per-mount state and travels as the libfuse userdata
 * (fuse_req_userdata).  The op bodies live in fs_dir.c (namespace) and
 * fs_file.c (open files); fs_ops.c holds the ops table and the reply
 * helpers; fs_inval.c the kernel-cache invalidation queue; fs_mount.c the
 * `difs mount` command.  Each op decodes its arguments, makes ONE eng_*
 * call and sends exactly one fuse_reply_* (contrib/doc/style.md 2.4).
 */
#ifndef DIFS_FS_I_H
#define DIFS_FS_I_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "view.h"

struct fs_inval;

/** Per-mount state: set up by fs_mount.c before the session starts. */
struct fs {
	struct eng		*eng;	/**< the engine (thread-safe) */
	struct fs_inval		*inval;	/**< invalidation queue (thread-safe) */
};

/* ---- fs_ops.c: the table and the reply helpers ------------------------- */

/** The low-level ops table handed to fuse_session_new(). */
extern const struct fuse_lowlevel_ops fs_ops;

/**
 * fs_reply_err - reply to req with the errno for rc (eng_to_errno; 0 is a
 * success reply).  Unexpected errors (EIO and the like) are logged once
 * with the op name.
 */
void	fs_reply_err(fuse_req_t req, const char *op, int rc);
/** fs_reply_entry - fuse_reply_entry for an engine entry. */
void	fs_reply_entry(fuse_req_t req, const struct eng_entry *e);
/** fs_reply_attr - fuse_reply_attr for an engine entry. */
void	fs_reply_attr(fuse_req_t req, const struct eng_entry *e);
/** fs_stat_from - fill st from an engine attribute set. */
void	fs_stat_from(struct stat *st, const struct eng_attr *a);
/** fs_entry_from - fill a fuse_entry_param from an engine entry. */
void	fs_entry_from(struct fuse_entry_param *fe, const struct eng_entry *e);
/** fs_fi_from - copy an engine open result into fi. */
void	fs_fi_from(struct fuse_file_info *fi, const struct eng_open *o);

/* ---- fs_dir.c: namespace ops (valid replies in the file) ---------------- */

void	fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void	fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void	fs_forget_multi(fuse_req_t req, size_t count,
	    struct fuse_forget_data *forgets);
void	fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void	fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
	    int to_set, struct fuse_file_info *fi);
void	fs_readlink(fuse_req_t req, fuse_ino_t ino);
void	fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
	    mode_t mode);
void	fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void	fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void	fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
	    const char *name);
void	fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	    fuse_ino_t newparent, const char *newname, unsigned int flags);
void	fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
	    const char *newname);
void	fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	    struct fuse_file_info *fi);
void	fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	    struct fuse_file_info *fi);
void	fs_statfs(fuse_req_t req, fuse_ino_t ino);

/* ---- fs_file.c: open-file ops ------------------------------------------ */

void	fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void	fs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
	    mode_t mode, struct fuse_file_info *fi);
void	fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	    struct fuse_file_info *fi);
void	fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
	    off_t off, struct fuse_file_info *fi);
void	fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void	fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	    struct fuse_file_info *fi);
void	fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

/* ---- fs_inval.c: kernel cache invalidation queue ------------------------ */

/**
 * fs_inval_new - an empty queue, no thread yet.  -ENOMEM.
 * The engine's hooks (fs_inval_inode_hook / fs_inval_entry_hook with the
 * queue as arg) only append to it; fs_inval_start() runs the thread that
 * sends the notifications on se.
 */
int	fs_inval_new(struct fs_inval **out);
/** fs_inval_start - start the sender thread for se.  0 or -errno. */
int	fs_inval_start(struct fs_inval *q, struct fuse_session *se);
/** fs_inval_stop - stop and join the thread; later requests are dropped. */
void	fs_inval_stop(struct fs_inval *q);
/** fs_inval_free - stop (if needed) and free.  NULL-safe. */
void	fs_inval_free(struct fs_inval *q);
/** eng_config.inval_inode: queue "drop attributes and data of ino". */
void	fs_inval_inode_hook(void *arg, uint64_t ino);
/** eng_config.inval_entry: queue "drop the dentry parent/name". */
void	fs_inval_entry_hook(void *arg, uint64_t parent, const char *name);

#endif /* DIFS_FS_I_H */
