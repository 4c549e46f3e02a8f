/* SPDX-License-Identifier: MIT */
/*
 * view.h - THE API fs/ may include: the whole filesystem logic of the
 * mount (contrib/doc/design.md 1 "Rules for files") without any FUSE
 * type.  Prefix eng_.  fs/ is thin (contrib/doc/style.md 2.4): each FUSE op
 * decodes its arguments, makes ONE eng_* call and sends one reply; errors are
 * mapped with eng_to_errno() (err.h).
 *
 * Tree (inode numbers are owned by the engine):
 *
 *   /                     ENG_INO_ROOT
 *   sources/  jobs/       ENG_INO_SOURCES, ENG_INO_JOBS: regular files and
 *                         symlinks kept byte-exact in the state store;
 *                         "NAME.json" (not starting with '.') is a
 *                         definition; "NAME.json.error" (read-only, virtual)
 *                         appears while NAME.json is invalid
 *   instances/            ENG_INO_INSTANCES
 *     JOB/                every defined job and every job with history
 *                         (instances or a line in its log)
 *       latest            symlink to the newest instance directory
 *       ctl               0600: run [CYCLE] | backfill FROM TO | pause |
 *                         resume; reading shows them and the last result
 *       log               the job's own log (ctl, definition changes)
 *       summary           JSON for scripts (view_summary.c)
 *       YYYYMMDDHHMMSS/   one per instance
 *         state status params job.json log    read-only
 *         ctl             0600: rerun | kill | set-success | freeze |
 *                         unfreeze; reading as above
 *   status                ENG_INO_STATUS: JSON about the daemon
 *   metrics               ENG_INO_METRICS: Prometheus text (view_metrics.c)
 *
 * Every size is true and every mtime is the time the bytes last changed:
 * nothing changes size or mtime unless its content changes (tar, rsync).
 *
 * Lookup counts: every successful call that returns a struct eng_entry
 * (eng_lookup, eng_create, eng_mkdir, eng_symlink, and eng_readdir with
 * ENG_READDIR_PLUS for each entry the callback accepted) adds 1 to the
 * inode's lookup count; eng_forget() removes them (contrib/doc/style.md 2.3
 * rule 6).  An inode number stays valid and stable while its count is > 0 or it
 * is open; the same path gets the same number while the kernel knows it.
 * ENG_INO_ROOT..ENG_INO_INSTANCES are permanent.
 *
 * Return values: 0 on success, -errno, or an ENG_E* code (err.h); each
 * function lists its "valid errors".  Messages for humans go to the daemon
 * log (and, for definitions, to NAME.json.error); no message or file other
 * than the source's own masked view ever contains a secret.
 *
 * Thread safety: every function may be called concurrently from any thread
 * (FUSE runs multi-threaded), except eng_new/eng_free/eng_start/eng_stop,
 * which the daemon calls from its main thread.  The hooks in struct
 * eng_config are called from any engine thread, possibly with engine or
 * scheduler locks held: they must only queue work (fs/ calls
 * fuse_lowlevel_notify_inval_* from its own thread) and must not call back
 * into the engine.
 */
#ifndef DIFS_VIEW_H
#define DIFS_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

struct eng;
struct sched;

/* ---- fixed inodes and limits ------------------------------------------- */

#define ENG_INO_ROOT		1	/**< the mount root (FUSE_ROOT_ID) */
#define ENG_INO_SOURCES		2
#define ENG_INO_JOBS		3
#define ENG_INO_INSTANCES	4
#define ENG_INO_STATUS		5	/**< MOUNT/status (a file) */
#define ENG_INO_METRICS		6	/**< MOUNT/metrics (a file) */

#define ENG_NAME_MAX		255	/**< bytes in one name */
#define ENG_FILE_MAX		((size_t)1 << 20)	/**< sources/jobs file size (EFBIG) */

/*
 * Bounds (eng_config; 0 takes these defaults).  Past one, the call fails
 * and the daemon log says which bound, its value and the flag that sets it:
 *   defs bytes  bytes of sources/jobs files held in memory: the bytes of
 *               files being written or read through an open handle, and
 *               the rendered snapshots of open instances/ files (a stored
 *               file is read from the store on demand, never kept
 *               resident).  A write or truncate past it: -ENOSPC (only
 *               bytes not yet stored can fill it: saved files are dropped
 *               first); a read past it is served from the store without
 *               a copy; an instances/ open past it: -ENOMEM.
 *   defs        files in sources/ and jobs/ (every name: definitions,
 *               editor files, links; NAME.json.error is derived and not
 *               counted).  Creating one more: -ENOSPC.
 *   handles     open handles of one process (the pid FUSE names: a
 *               thread's id): -EMFILE; of all processes together
 *               (ENG_HANDLES_ALL): -ENFILE.
 */
#define ENG_DEFS_BYTES_DEFAULT	((uint64_t)64 << 20)	/**< --max-defs-bytes */
#define ENG_DEFS_DEFAULT	10000		/**< --max-defs */
#define ENG_HANDLES_DEFAULT	1024		/**< --max-handles (per process) */
#define ENG_HANDLES_ALL		65536		/**< every process together */

/* ---- configuration ----------------------------------------------------- */

struct eng_config {
	const char	*state_dir;	/**< LMDB state directory (created 0700) */
	bool		 exclusive;	/**< take the state dir lock (the mount does;
					     a second daemon gets ENG_ELOCKED) */
	bool		 nosync;	/**< TESTS ONLY: no fsync at commit */
	int		 workers;	/**< running instances limit (0: 4) */
	const char	*spool_dir;	/**< writers' staging dir (NULL: none) */
	int64_t		 grace_ms;	/**< job removal grace (0: 60 s) */
	int64_t		(*now_ms)(void *arg);	/**< clock (NULL: real time) */
	void		*now_arg;
	uid_t		 uid;		/**< owner of every inode (mounting user) */
	gid_t		 gid;
	/**
	 * Kernel cache invalidation requests (may be NULL).  inval_inode: drop
	 * cached attributes and data of ino (fuse_lowlevel_notify_inval_inode
	 * (ino, 0, 0)).  inval_entry: drop the dentry parent/name.  Called
	 * from any thread, possibly with locks held: only queue.  name is
	 * borrowed for the call.
	 */
	void		(*inval_inode)(void *arg, uint64_t ino);
	void		(*inval_entry)(void *arg, uint64_t parent, const char *name);
	void		*inval_arg;
	uint64_t	 max_defs_bytes;	/**< 0: ENG_DEFS_BYTES_DEFAULT */
	uint64_t	 max_defs;	/**< 0: ENG_DEFS_DEFAULT */
	uint64_t	 max_handles;	/**< per process; 0: ENG_HANDLES_DEFAULT */
};

/* ---- attributes -------------------------------------------------------- */

struct eng_attr {
	uint64_t	 ino;
	mode_t		 mode;		/**< S_IFDIR/S_IFREG/S_IFLNK | permissions */
	uint32_t	 nlink;
	uint64_t	 size;		/**< bytes (symlink: target length) */
	int64_t		 atime_ns, mtime_ns, ctime_ns;	/**< ns since the epoch */
	uid_t		 uid;
	gid_t		 gid;
};

/** Reply of lookup/create/mkdir/symlink: fuse_entry_param without FUSE. */
struct eng_entry {
	struct eng_attr	 attr;
	double		 attr_timeout;	/**< seconds; 0 for live files */
	double		 entry_timeout;	/**< seconds */
};

/** Open result: the handle and hints for struct fuse_file_info. */
struct eng_open {
	uint64_t	 fh;		/**< pass back to read/write/.../release */
	bool		 direct_io;	/**< generated/live files */
	bool		 keep_cache;
	bool		 nonseekable;
};

/* eng_setattr valid bits (a subset of FUSE_SET_ATTR_*, our own values) */
#define ENG_SET_MODE		0x01
#define ENG_SET_UID		0x02
#define ENG_SET_GID		0x04
#define ENG_SET_SIZE		0x08
#define ENG_SET_ATIME		0x10
#define ENG_SET_MTIME		0x20
#define ENG_SET_ATIME_NOW	0x40
#define ENG_SET_MTIME_NOW	0x80

struct eng_setattr {
	unsigned	 valid;		/**< ENG_SET_* */
	mode_t		 mode;
	uid_t		 uid;
	gid_t		 gid;
	uint64_t	 size;
	int64_t		 atime_ns, mtime_ns;
};

/** One directory entry for eng_readdir's callback. */
struct eng_dirent {
	const char	*name;		/**< borrowed for the call */
	uint64_t	 ino;		/**< may be a placeholder (top bit set) for
					     an entry the kernel does not know yet,
					     unless ENG_READDIR_PLUS */
	mode_t		 type;		/**< S_IFDIR / S_IFREG / S_IFLNK */
	uint64_t	 next_off;	/**< cookie: pass to eng_readdir to resume
					     after this entry */
	const struct eng_entry *entry;	/**< ENG_READDIR_PLUS only, else NULL */
};

/**
 * Readdir callback: add d to the reply.  Return true when the reply buffer
 * is full and d was NOT added (the engine then stops and, with
 * ENG_READDIR_PLUS, does not count a lookup for d).  It runs inside the
 * engine's read of the store: it must only copy d into the reply, never
 * call back into the engine.
 */
typedef bool eng_dirent_fn(void *arg, const struct eng_dirent *d);

#define ENG_READDIR_PLUS	0x1	/**< readdirplus: entries carry attributes
					     and each accepted one counts a lookup */

#define ENG_RENAME_NOREPLACE	0x1	/**< == Linux RENAME_NOREPLACE */
#define ENG_RENAME_EXCHANGE	0x2	/**< == Linux RENAME_EXCHANGE (refused: EINVAL) */

struct eng_statfs {
	uint64_t	 bsize, frsize, blocks, bfree, bavail, files, ffree;
	uint32_t	 namemax;
};

/* ---- lifecycle --------------------------------------------------------- */

/**
 * eng_default_state_dir - the state directory used when none is given:
 * $XDG_STATE_HOME/difs, else ~/.local/state/difs (store_default_dir, which
 * creates it mode 0700).  0, -ENAMETOOLONG, -ENOENT (no home) or -errno.
 */
int	eng_default_state_dir(char *out, size_t outsz);

/**
 * eng_new - open the state store, load every stored file, define every
 * last-valid job and source (STORE_DB_DEFS), recompute NAME.json.error for
 * stored definitions that are invalid, and create the scheduler (not
 * started).  Errors: ENG_ELOCKED, ENG_EVERSION, ENG_ECORRUPT, -ENOMEM,
 * -errno; detail in eb.
 */
int	eng_new(const struct eng_config *cfg, struct eng **out,
	    struct eng_errbuf *eb) __attribute__((warn_unused_result));
/** eng_free - stop everything, kill running instances, close the store. */
void	eng_free(struct eng *e);
/** eng_start - start the scheduler thread (the daemon; tests step by hand). */
int	eng_start(struct eng *e);
/** eng_stop - stop the scheduler thread (running instances keep running
 *  until eng_free kills them). */
void	eng_stop(struct eng *e);
/** The scheduler (borrowed, lives as e): tests and the daemon's status. */
struct sched *eng_scheduler(struct eng *e);

/* ---- namespace --------------------------------------------------------- */

/** eng_lookup - parent/name.  +1 lookup.  Errors: -ENOENT, -ENOTDIR,
 *  -ENAMETOOLONG. */
int	eng_lookup(struct eng *e, uint64_t parent, const char *name,
	    struct eng_entry *out);
/** eng_forget - the kernel drops nlookup references to ino.  Never fails. */
void	eng_forget(struct eng *e, uint64_t ino, uint64_t nlookup);
/** eng_getattr - attributes of ino (sizes are current).  -ENOENT. */
int	eng_getattr(struct eng *e, uint64_t ino, struct eng_entry *out);
/**
 * eng_setattr - chmod/chown/truncate/utimens of ino (fh: the handle of
 * ftruncate/futimens, or 0).  sources/jobs files: mode bits are kept
 * (sources never wider than 0600), size > ENG_FILE_MAX -> -EFBIG, times
 * are set.  chown to the mounting user is a no-op, else -EPERM.
 * Everything in instances/: -EROFS for size (ctl files ignore it, so
 * `echo cmd > ctl` works), -EPERM for mode, times ignored.  Errors:
 * -ENOENT, -EFBIG, -EPERM, -EROFS, -EISDIR, -EINVAL (size of a symlink).
 */
int	eng_setattr(struct eng *e, uint64_t ino, uint64_t fh,
	    const struct eng_setattr *sa, struct eng_entry *out);
/**
 * eng_readdir - list ino from cookie off (0: the start; "." and ".." are
 * included).  Cookies survive concurrent inserts and deletes (instance
 * directories use the cycle as cookie).  Errors: -ENOENT, -ENOTDIR.
 */
int	eng_readdir(struct eng *e, uint64_t ino, uint64_t off, int flags,
	    eng_dirent_fn *fn, void *arg);
/** eng_readlink - symlink target, appended to out.  -EINVAL (not a link). */
int	eng_readlink(struct eng *e, uint64_t ino, struct buf *out);
/** eng_mkdir - directories are made by the engine only: -EPERM in the
 *  root, sources/ and jobs/; -EROFS in instances/. */
int	eng_mkdir(struct eng *e, uint64_t parent, const char *name, mode_t mode,
	    struct eng_entry *out);
/**
 * eng_rmdir - only below instances/ and only for a job that is no longer
 * defined: instances/JOB removes its whole history (records, logs, job
 * log, last definition), instances/JOB/CYCLE that one instance.  Errors:
 * -EBUSY (instances/JOB of a defined job), -EROFS (an instance of a
 * defined job), -ENOTDIR, -ENOENT, -EPERM (root).
 */
int	eng_rmdir(struct eng *e, uint64_t parent, const char *name);
/** eng_unlink - sources/jobs files (a job file's removal starts the job's
 *  grace period; pid, the calling process or 0, is named in the job's
 *  log).  In instances/: the files of a job that is no longer
 *  defined are views of its history: unlinking them succeeds and changes
 *  nothing (so `rm -r instances/JOB` reaches the rmdirs that remove it);
 *  for a defined job -EROFS.  Errors: -ENOENT, -EISDIR, -EROFS, -EPERM
 *  (NAME.json.error, the root). */
int	eng_unlink(struct eng *e, uint64_t parent, const char *name, pid_t pid);
/** eng_symlink - in sources/jobs only (editor lock links).  +1 lookup.
 *  -EEXIST, -EROFS (instances/), -EPERM (root), -ENAMETOOLONG, -EINVAL
 *  (unprintable name). */
int	eng_symlink(struct eng *e, const char *target, uint64_t parent,
	    const char *name, struct eng_entry *out);
/** eng_link - always refused: -EPERM (hard links are not supported). */
int	eng_link(struct eng *e, uint64_t ino, uint64_t newparent,
	    const char *newname, struct eng_entry *out);
/**
 * eng_rename - within/between sources/ and jobs/ (a file keeps its inode;
 * replacing an existing target is atomic).  Renaming onto a definition
 * name (re)validates it and always succeeds; renaming a job definition
 * away starts the job's grace period.  flags: ENG_RENAME_NOREPLACE
 * (-EEXIST), ENG_RENAME_EXCHANGE (-EINVAL).  Errors: -ENOENT, -EEXIST,
 * -EINVAL, -EROFS (from or into instances/), -EPERM (root,
 * NAME.json.error).  Moving a file between sources/ and jobs/ is allowed.
 * pid (the calling process, or 0) is named in the job's log.
 */
int	eng_rename(struct eng *e, uint64_t parent, const char *name,
	    uint64_t newparent, const char *newname, unsigned flags, pid_t pid);
/**
 * eng_metrics - the scheduler's and the daemon's figures now, in the
 * Prometheus text format 0.0.4 (the body of `difs mount --metrics`;
 * MOUNT/metrics shows the same families), appended to out.  Holds the
 * scheduler's lock only to copy its figures, no engine lock: safe from
 * any thread.  0, -ENOMEM.
 */
int	eng_metrics(struct eng *e, struct buf *out);
/** eng_statfs - figures of the state store. */
int	eng_statfs(struct eng *e, struct eng_statfs *out);

/* ---- files ------------------------------------------------------------- */

/**
 * eng_open - open ino with open(2) flags (O_ACCMODE, O_TRUNC, O_APPEND)
 * for process pid (0: unknown; named in the job's log when this handle
 * changes a definition or writes a ctl command).  sources/jobs:
 * read/write, O_TRUNC truncates now (not a definition change until a
 * write is committed).  instances/: ctl is read/write (reading shows the
 * commands it takes and the result of the last one), the rest read-only
 * (-EACCES for writing); generated files are rendered at open (a
 * consistent snapshot per open); log reads are served live.  Errors:
 * -ENOENT, -EISDIR, -EACCES, -EROFS, -EMFILE/-ENFILE (handle bounds),
 * -ENOMEM (a snapshot past the bytes bound).
 */
int	eng_open(struct eng *e, uint64_t ino, int flags, pid_t pid,
	    struct eng_open *out);
/**
 * eng_create - create (or, without O_EXCL, open) parent/name in sources/
 * or jobs/ for process pid (as eng_open).  +1 lookup.  Errors: -EEXIST (O_EXCL), -EPERM (root,
 * NAME.json.error), -EROFS (instances/), -ENAMETOOLONG, -EINVAL (a name
 * with unprintable bytes), -ENOSPC (--max-defs), -EMFILE/-ENFILE (nothing
 * is created).
 */
int	eng_create(struct eng *e, uint64_t parent, const char *name,
	    mode_t mode, int flags, pid_t pid, struct eng_entry *out,
	    struct eng_open *oi);
/** eng_read - up to size bytes at off, appended to out (fewer at EOF).
 *  Errors: -EBADF, -EACCES, an out buffer error. */
int	eng_read(struct eng *e, uint64_t fh, uint64_t off, size_t size,
	    struct buf *out);
/**
 * eng_write - write len bytes at off (O_APPEND handles append at the end).
 * *written gets len on success.  ctl files: one command per write
 * (trailing newline allowed), run at once: ENG_EINVAL for an unknown
 * command or bad arguments, ENG_ESTATE when not allowed now; the result
 * ("ok: ..." or "refused: REASON") is what reading the ctl file shows
 * after its help, and a line in the job's or instance's log.  Errors:
 * -EFBIG, -ENOSPC (bytes bound), -EBADF, -EACCES, ENG_EINVAL, ENG_ESTATE.
 */
int	eng_write(struct eng *e, uint64_t fh, uint64_t off, const void *data,
	    size_t len, size_t *written);
/**
 * eng_flush - close(2) of one descriptor by process pid (0: the opener):
 * when this handle wrote bytes since its last commit, store them and, for
 * a definition, validate.  Validation never fails the call: an invalid
 * definition keeps its bytes, gets NAME.json.error, a line in the job's
 * log and the daemon log, and the running definition stays
 * (contrib/doc/design.md 1).  Errors are only those of storing the bytes
 * (-ENOSPC, -EIO, ...).  A handle that wrote nothing returns 0 and changes
 * nothing (bash's '>').
 */
int	eng_flush(struct eng *e, uint64_t fh, pid_t pid);
/** eng_fsync - like eng_flush (a commit point). */
int	eng_fsync(struct eng *e, uint64_t fh, pid_t pid);
/** eng_release - the last close: commits like eng_flush (its result is not
 *  seen by close(2)) and frees the handle. */
int	eng_release(struct eng *e, uint64_t fh);

#endif /* DIFS_VIEW_H */
