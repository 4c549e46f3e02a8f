/* SPDX-License-Identifier: MIT */
/*
 * fs_dir.c - namespace ops of the mount: lookup, forget, attributes,
 * listing, links, creation and removal of names.  Each op decodes its
 * arguments, makes one eng_* call and sends exactly one reply; the policy
 * (what may be created where, which errno) is the engine's
 * (engine/view/view.h).
 */
#include <errno.h>
#include <stdio.h>	/* RENAME_NOREPLACE, RENAME_EXCHANGE */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs_i.h"

#define FS_LINK_MAX	4096	/**< readlink reply limit (PATH_MAX) */

/*
 * lookup - valid replies: fuse_reply_entry, fuse_reply_err.
 */
void
fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fuse_req_userdata(req);
	struct eng_entry e;
	int rc;

	rc = eng_lookup(fs->eng, parent, name, &e);
	if (rc != 0) {
		fs_reply_err(req, "lookup", rc);
		return;
	}
	fs_reply_entry(req, &e);
}

/*
 * forget - valid replies: fuse_reply_none.
 */
void
fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct fs *fs = fuse_req_userdata(req);

	eng_forget(fs->eng, ino, nlookup);
	fuse_reply_none(req);
}

/*
 * forget_multi - valid replies: fuse_reply_none.  One eng_forget per inode
 * (the batch is the kernel's, not an engine operation).
 */
void
fs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct fs *fs = fuse_req_userdata(req);
	size_t i;

	for (i = 0; i < count; i++)
		eng_forget(fs->eng, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/*
 * getattr - valid replies: fuse_reply_attr, fuse_reply_err.
 */
void
fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct eng_entry e;
	int rc;

	(void)fi;
	rc = eng_getattr(fs->eng, ino, &e);
	if (rc != 0) {
		fs_reply_err(req, "getattr", rc);
		return;
	}
	fs_reply_attr(req, &e);
}

/* FUSE_SET_ATTR_* -> ENG_SET_* (ctime and unknown bits are dropped) */
static const struct {
	int		 fuse;
	unsigned	 eng;
} fs_setattr_bits[] = {
	{ FUSE_SET_ATTR_MODE,		ENG_SET_MODE },
	{ FUSE_SET_ATTR_UID,		ENG_SET_UID },
	{ FUSE_SET_ATTR_GID,		ENG_SET_GID },
	{ FUSE_SET_ATTR_SIZE,		ENG_SET_SIZE },
	{ FUSE_SET_ATTR_ATIME,		ENG_SET_ATIME },
	{ FUSE_SET_ATTR_MTIME,		ENG_SET_MTIME },
	{ FUSE_SET_ATTR_ATIME_NOW,	ENG_SET_ATIME_NOW },
	{ FUSE_SET_ATTR_MTIME_NOW,	ENG_SET_MTIME_NOW },
};

/*
 * setattr - chmod, chown, truncate, utimens.  Valid replies:
 * fuse_reply_attr, fuse_reply_err.
 */
void
fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
    struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct eng_setattr sa;
	struct eng_entry e;
	size_t i;
	int rc;

	memset(&sa, 0, sizeof(sa));
	for (i = 0; i < sizeof(fs_setattr_bits) / sizeof(fs_setattr_bits[0]); i++)
		if (to_set & fs_setattr_bits[i].fuse)
			sa.valid |= fs_setattr_bits[i].eng;
	sa.mode = attr->st_mode;
	sa.uid = attr->st_uid;
	sa.gid = attr->st_gid;
	sa.size = attr->st_size < 0 ? 0 : (uint64_t)attr->st_size;
	sa.atime_ns = (int64_t)attr->st_atim.tv_sec * 1000000000 +
	    attr->st_atim.tv_nsec;
	sa.mtime_ns = (int64_t)attr->st_mtim.tv_sec * 1000000000 +
	    attr->st_mtim.tv_nsec;
	rc = eng_setattr(fs->eng, ino, fi != NULL ? fi->fh : 0, &sa, &e);
	if (rc != 0) {
		fs_reply_err(req, "setattr", rc);
		return;
	}
	fs_reply_attr(req, &e);
}

/*
 * readlink - valid replies: fuse_reply_readlink, fuse_reply_err.
 */
void
fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fuse_req_userdata(req);
	struct buf b;
	int rc;

	buf_init(&b, FS_LINK_MAX);
	rc = eng_readlink(fs->eng, ino, &b);
	if (rc == 0 && b.err != 0)
		rc = b.err;
	if (rc != 0)
		fs_reply_err(req, "readlink", rc);
	else
		fuse_reply_readlink(req, b.p);
	buf_free(&b);
}

/*
 * mkdir - valid replies: fuse_reply_entry, fuse_reply_err (the engine
 * refuses directories everywhere: EPERM).
 */
void
fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fs *fs = fuse_req_userdata(req);
	struct eng_entry e;
	int rc;

	rc = eng_mkdir(fs->eng, parent, name, mode, &e);
	if (rc != 0) {
		fs_reply_err(req, "mkdir", rc);
		return;
	}
	fs_reply_entry(req, &e);
}

/*
 * unlink - valid replies: fuse_reply_err (0 on success).
 */
void
fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fuse_req_userdata(req);

	fs_reply_err(req, "unlink", eng_unlink(fs->eng, parent, name, fuse_req_ctx(req)->pid));
}

/*
 * rmdir - valid replies: fuse_reply_err (0 on success).
 */
void
fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fuse_req_userdata(req);

	fs_reply_err(req, "rmdir", eng_rmdir(fs->eng, parent, name));
}

/*
 * symlink - valid replies: fuse_reply_entry, fuse_reply_err.
 */
void
fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
    const char *name)
{
	struct fs *fs = fuse_req_userdata(req);
	struct eng_entry e;
	int rc;

	rc = eng_symlink(fs->eng, link, parent, name, &e);
	if (rc != 0) {
		fs_reply_err(req, "symlink", rc);
		return;
	}
	fs_reply_entry(req, &e);
}

/*
 * rename - rename(2) and renameat2(2) with RENAME_NOREPLACE/EXCHANGE
 * (other flags, e.g. RENAME_WHITEOUT: EINVAL).  Valid replies:
 * fuse_reply_err (0 on success).
 */
void
fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
    fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct fs *fs = fuse_req_userdata(req);
	unsigned eflags = 0;

	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (flags & RENAME_NOREPLACE)
		eflags |= ENG_RENAME_NOREPLACE;
	if (flags & RENAME_EXCHANGE)
		eflags |= ENG_RENAME_EXCHANGE;
	fs_reply_err(req, "rename",
	    eng_rename(fs->eng, parent, name, newparent, newname, eflags,
	    fuse_req_ctx(req)->pid));
}

/*
 * link - valid replies: fuse_reply_entry, fuse_reply_err (hard links are
 * refused by the engine: EPERM).
 */
void
fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
    const char *newname)
{
	struct fs *fs = fuse_req_userdata(req);
	struct eng_entry e;
	int rc;

	rc = eng_link(fs->eng, ino, newparent, newname, &e);
	if (rc != 0) {
		fs_reply_err(req, "link", rc);
		return;
	}
	fs_reply_entry(req, &e);
}

/* one reply buffer being filled by eng_readdir's callback */
struct fs_dirbuf {
	fuse_req_t	 req;
	char		*p;
	size_t		 size;	/**< capacity (the kernel's size) */
	size_t		 len;
	bool		 plus;
};

static bool
fs_dir_add(void *arg, const struct eng_dirent *d)
{
	struct fs_dirbuf *db = arg;
	size_t need;

	if (db->plus) {
		struct fuse_entry_param fe;

		if (d->entry != NULL) {
			fs_entry_from(&fe, d->entry);
		} else {
			/* "." and "..": nodeid 0 = no entry, the kernel only
			 * lists the name (and takes no lookup) */
			memset(&fe, 0, sizeof(fe));
			fe.attr.st_ino = (ino_t)d->ino;
			fe.attr.st_mode = d->type;
		}
		need = fuse_add_direntry_plus(db->req, db->p + db->len,
		    db->size - db->len, d->name, &fe, (off_t)d->next_off);
	} else {
		struct stat st;

		memset(&st, 0, sizeof(st));
		st.st_ino = (ino_t)d->ino;
		st.st_mode = d->type;
		need = fuse_add_direntry(db->req, db->p + db->len,
		    db->size - db->len, d->name, &st, (off_t)d->next_off);
	}
	if (need > db->size - db->len)
		return true;	/* full: not added */
	db->len += need;
	return false;
}

static void
fs_readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    bool plus)
{
	struct fs *fs = fuse_req_userdata(req);
	struct fs_dirbuf db;
	int rc;

	memset(&db, 0, sizeof(db));
	db.req = req;
	db.size = size;
	db.plus = plus;
	db.p = malloc(size > 0 ? size : 1);
	if (db.p == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rc = eng_readdir(fs->eng, ino, off < 0 ? 0 : (uint64_t)off,
	    plus ? ENG_READDIR_PLUS : 0, fs_dir_add, &db);
	if (rc != 0)
		fs_reply_err(req, plus ? "readdirplus" : "readdir", rc);
	else
		fuse_reply_buf(req, db.p, db.len);
	free(db.p);
}

/*
 * readdir - valid replies: fuse_reply_buf, fuse_reply_data, fuse_reply_err.
 */
void
fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	(void)fi;
	fs_readdir_common(req, ino, size, off, false);
}

/*
 * readdirplus - like readdir, entries carry attributes; each entry added
 * counts a lookup (the engine counts it, the kernel forgets it).
 */
void
fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	(void)fi;
	fs_readdir_common(req, ino, size, off, true);
}

/*
 * statfs - valid replies: fuse_reply_statfs, fuse_reply_err.
 */
void
fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fuse_req_userdata(req);
	struct eng_statfs s;
	struct statvfs sv;
	int rc;

	(void)ino;
	rc = eng_statfs(fs->eng, &s);
	if (rc != 0) {
		fs_reply_err(req, "statfs", rc);
		return;
	}
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = s.bsize;
	sv.f_frsize = s.frsize;
	sv.f_blocks = s.blocks;
	sv.f_bfree = s.bfree;
	sv.f_bavail = s.bavail;
	sv.f_files = s.files;
	sv.f_ffree = s.ffree;
	sv.f_favail = s.ffree;
	sv.f_namemax = s.namemax;
	fuse_reply_statfs(req, &sv);
}
