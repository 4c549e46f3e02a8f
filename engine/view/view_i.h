/* SPDX-License-Identifier: MIT */
/*
 * view_i.h - private to engine/view.  The public face is view.h (eng_*,
 * what fs/ calls); everything here is the view's own (view_*, VIEW_*).
 *
 * Files, top to bottom (each calls only files below it):
 *   view.c          the engine object's lifecycle and the dispatch of every
 *                   eng_* call to sources/jobs or instances
 *   view_load.c     the stored definitions loaded at start
 *   view_inst.c     instances/ (directories, state/status/log/ctl files)
 *   view_summary.c  instances/JOB/summary and MOUNT/status
 *   view_metrics.c  MOUNT/metrics and the --metrics HTTP body (Prometheus)
 *   view_jobs.c     the jobs instances/ lists
 *   view_defs.c     the files of sources/ and jobs/, validation, applying
 *   view_base.c     clock, attributes, names, directory mtimes, the sources
 *                   runs read, zones, the summaries' change marks
 *   view_bounds.c   the bounds (view.h): bytes held, files, handles
 *   view_ns.c       the inode table
 *
 * Locks (order: e->flock, then scheduler/store, then e->lock):
 *   e->flock   everything about files in sources/ and jobs/ (content,
 *              metadata, directory lists, definitions, the source table
 *              writes).  Store and scheduler calls are made under it.
 *   e->lock    the inode table and lookup/open counts.  A leaf: under it
 *              only the config's inval hooks are called (they only queue),
 *              never the store or the scheduler (whose notify callback
 *              takes it with the scheduler lock held).
 *   e->srclock the source table read by the scheduler's runs.
 *   e->sumlock the summaries' cache (view_summary.c).  A leaf like
 *              e->lock, and never held together with it.
 *   e->metlock MOUNT/metrics' kept text (view_metrics.c).  A leaf too.
 * e->dirm[] (directory mtimes) are atomics: read without a lock.
 */
#ifndef DIFS_VIEW_I_H
#define DIFS_VIEW_I_H

#include <pthread.h>

#include "conf.h"
#include "view.h"
#include "view_metrics.h"
#include "scheduler.h"
#include "store.h"

enum view_kind {
	VIEW_K_ROOT = 1,
	VIEW_K_SRCDIR,		/* sources/ */
	VIEW_K_JOBDIR,		/* jobs/ */
	VIEW_K_INSTDIR,		/* instances/ */
	VIEW_K_FILE,		/* a file or symlink in sources/ or jobs/ */
	VIEW_K_ERRFILE,		/* NAME.json.error */
	VIEW_K_JOB,		/* instances/JOB/ */
	VIEW_K_JOB_LATEST,
	VIEW_K_JOB_CTL,
	VIEW_K_JOB_LOG,
	VIEW_K_INST,		/* instances/JOB/CYCLE/ */
	VIEW_K_I_STATE,
	VIEW_K_I_STATUS,
	VIEW_K_I_PARAMS,
	VIEW_K_I_JOBJSON,
	VIEW_K_I_LOG,
	VIEW_K_I_CTL,
	VIEW_K_STATUS,		/* MOUNT/status */
	VIEW_K_JOB_SUMMARY,	/* instances/JOB/summary */
	VIEW_K_METRICS,		/* MOUNT/metrics */
};


/** A job's health in its summary and MOUNT/status (view_summary.c). */
enum view_health {
	VIEW_H_OK = 0,		/* defined, last final instance succeeded (or none yet) */
	VIEW_H_FAILING,		/* its newest final instance FAILED or was KILLED */
	VIEW_H_INVALID,		/* jobs/JOB.json is invalid: the last valid one runs
				   (or none: never valid yet) */
	VIEW_H_PAUSED,		/* ctl pause */
	VIEW_H_REMOVED,		/* no longer defined: history only */
	VIEW_H__COUNT
};

/** A job's cached summary (view_summary.c builds it; view_base.c marks it
 *  changed). */
struct view_jsum {
	char		*job;
	uint64_t	 gen;		/**< bumped by view_summary_changed */
	uint64_t	 built;		/**< gen + 1 the cache was built at (0: none) */
	struct buf	 text;		/**< the rendered file */
	int64_t		 as_of;		/**< ms: the file's mtime */
	enum view_health	 health;
	int64_t		 running, waiting;
	int64_t		*fails;		/**< finished_ms of FAILED instances */
	size_t		 nfails;
	struct view_jsum	*next;
};

/** Directories whose mtime the engine keeps (e->dirm[]). */
enum view_dirm_idx {
	VIEW_DIRM_ROOT = 0,	/* the mount root: the store's first use */
	VIEW_DIRM_SOURCES,	/* an entry of sources/ came or went */
	VIEW_DIRM_JOBS,		/* ... of jobs/ */
	VIEW_DIRM_INSTANCES,	/* a job's history was removed (rmdir) */
	VIEW_DIRM__COUNT
};

#define VIEW_SIZE_UNKNOWN	UINT64_MAX

/** A file of sources/ or jobs/; all fields protected by e->flock. */
struct view_file {
	uint64_t	 dir;		/* ENG_INO_SOURCES or ENG_INO_JOBS */
	mode_t		 type;		/* S_IFREG or S_IFLNK */
	mode_t		 perm;
	int64_t		 mtime_ns, ctime_ns, atime_ns;
	struct buf	 data;		/* what reads show (masked view), while
					   loaded: a stored file's bytes are
					   brought in by view_file_load when a
					   handle needs them and dropped when the
					   last one closes (view_bounds.c) */
	bool		 loaded;	/* data holds the view (symlinks: always) */
	uint64_t	 size;		/* the view's length (data.len while loaded;
					   VIEW_SIZE_UNKNOWN while loading) */
	size_t		 charged;	/* bytes of data counted in e->held */
	bool		 unsaved;	/* data differs from the store (=> loaded) */
	bool		 unlinked;
	char		*errtext;	/* definition errors, NULL when valid */
	int64_t		 err_since_ns;	/* errtext non-NULL: the write that made it
					   invalid (first of the streak) */
	int64_t		 err_mtime_ns;	/* errtext last changed (the .error mtime;
					   the moment it went away when NULL) */
	struct view_node	*next;		/* in the directory's list */
};

struct view_node {
	uint64_t	 ino;
	enum view_kind	 kind;
	uint64_t	 parent;	/* parent inode (0 for the root) */
	char		*name;		/* entry name in parent */
	char		*job;		/* instances tree: the job */
	char		*cycle;		/* instances tree below a cycle */
	uint64_t	 nlookup;	/* protected by e->lock */
	int		 nopen;		/* protected by e->lock */
	bool		 hashed;	/* in the name hash (e->lock) */
	bool		 permanent;	/* a file that exists, or a fixed dir */
	struct view_file	*f;		/* VIEW_K_FILE */
	struct view_node	*ino_next;	/* hash chains (e->lock) */
	struct view_node	*name_next;
};

/** An open handle (fh is its address). */
struct view_handle {
	struct view_node	*node;
	int		 flags;		/* open(2) flags */
	bool		 wrote;		/* wrote since its last commit */
	bool		 truncated;	/* O_TRUNC emptied a file and nothing was
					   written since: the last close validates
					   it (": > x.json") */
	pid_t		 pid;		/* the opener, or the last flush/fsync caller
					   (0: unknown): named in the job's log */
	pid_t		 opener;	/* counted in e->pids (0: not counted) */
	size_t		 charged;	/* bytes of snap counted in e->held */
	bool		 refused;	/* a bound refused this handle's write:
					   logged once */
	struct buf	 snap;		/* generated files: the rendered content */
	struct view_handle *prev, *next;	/* e->handles (e->lock) */
};

/** Open handles of one process (e->pids). */
struct view_pidc {
	pid_t		 pid;
	size_t		 n;
	struct view_pidc	*next;
};

/** A source definition ever made current (freed at eng_free). */
struct view_src {
	struct conf_source *src;
	bool		 current;
	struct view_src	*next;
};

/** A loaded zone (immutable, lives until eng_free). */
struct view_zone {
	char		*name;		/* "" = the machine's zone */
	struct tz	*tz;
	struct view_zone	*next;
};

/** The zone a job's times are shown in. */
struct view_jobzone {
	char		*job;
	const struct tz	*tz;		/* borrowed from e->zones */
	struct view_jobzone *next;
};

/** Names of jobs removed through their file (e->flock). */
struct view_name {
	char		*name;
	struct view_name	*next;
};

struct eng {
	struct eng_config cfg;
	struct store	*store;
	struct sched	*sched;
	pthread_mutex_t	 lock;		/* the inode table */
	pthread_mutex_t	 flock;		/* sources/ and jobs/ */
	pthread_rwlock_t srclock;	/* srcs */
	struct view_node	**ino_tab;	/* e->lock */
	struct view_node	**name_tab;	/* e->lock */
	size_t		 tab_size;	/* buckets (power of two) */
	size_t		 nnodes;
	uint64_t	 next_ino;
	struct view_node	*fixed[ENG_INO_METRICS + 1];	/* ENG_INO_ROOT..ENG_INO_METRICS */
	_Atomic int64_t	 dirm[VIEW_DIRM__COUNT];	/* ms; persisted in META "dirm\0NAME" */
	pthread_mutex_t	 sumlock;	/* the fields below */
	struct view_jsum	*sums;		/* per-job summaries (view_summary.c) */
	uint64_t	 sumgen;	/* bumped by every change of any job */
	struct buf	 status_text;	/* MOUNT/status as last built */
	uint64_t	 status_built;	/* sumgen + 1 it was built at (0: none) */
	int64_t		 status_mtime, status_dirm;
	pthread_mutex_t	 metlock;	/* the three fields below */
	struct buf	 met_text;	/* MOUNT/metrics as last built */
	struct view_proc met_proc;	/* the process figures it shows */
	int64_t		 met_ms;	/* when it was built: its mtime (0: never) */
	struct view_node	*files[2];	/* sources/, jobs/ lists (e->flock) */
	struct view_src	*srcs;		/* srclock */
	struct view_name	*removed;	/* flock */
	pthread_mutex_t	 tzlock;	/* zones, jobzones */
	struct view_zone	*zones;
	struct view_jobzone *jobzones;
	struct view_handle *handles;	/* open handles (e->lock): freed by
					   eng_free when the kernel did not */
	int64_t		 start_ns;
	bool		 loading;	/* in view_defs_load (eng_new's thread) */
	/* bounds (view_bounds.c) */
	uint64_t	 max_held, max_files, max_handles;
	_Atomic int64_t	 held;		/* bytes of files' data and handles' snaps */
	size_t		 nfiles;	/* in sources/ and jobs/ (e->flock) */
	size_t		 nhandles;	/* e->lock */
	struct view_pidc	*pids[64];	/* open handles per process (e->lock) */
	_Atomic int64_t	 bound_log_ms;	/* the last refusal logged */
	_Atomic int64_t	 bound_quiet;	/* refusals not logged since */
};

/* view_base.c */
int64_t	view_now_ns(struct eng *e);
const struct conf_source *view_src_lookup(void *arg, const char *name);
const struct conf_source *view_src_current(struct eng *e, const char *name);
/** conf_dep_lookup_fn over the scheduler's defined jobs (arg: the eng). */
int	view_dep_lookup(void *arg, const char *name, char ***out, size_t *n);
/** Adopt src as the current source of its name (freed on failure too). */
int	view_src_set(struct eng *e, struct conf_source *src);
void	view_fill_attr(struct eng *e, struct eng_attr *a, uint64_t ino,
	    mode_t mode, uint64_t size, int64_t mtime_ns);
bool	view_name_ok(const char *name);
/** A job name: name.h's rule for definition names (name_def_ok). */
bool	view_job_name_ok(const char *job);
/** "vim (pid 1234)" for pid (its /proc comm, unprintable bytes as '?'),
 *  "pid 1234" when that cannot be read, "an unknown process" for 0. */
void	view_who(pid_t pid, char *out, size_t outsz);
/**
 * The zone job's times are shown in: its schedule's, recorded by
 * view_job_zone_set when the definition was applied, else the machine's.
 * Valid until eng_free (the scheduler's sched_job_tz is freed when a job
 * is redefined, so the mount keeps its own).  NULL only without memory.
 */
const struct tz *view_job_tz(struct eng *e, const char *job);
/** Record job's zone (IANA name or NULL).  0, -ENOMEM, ENG_EINVAL. */
int	view_job_zone_set(struct eng *e, const char *job, const char *zone);

/** Read the directory mtimes from the store (eng_new). */
int	view_dirm_load(struct eng *e);
/** The mtime (ms) of directory idx. */
int64_t	view_dirm_get(struct eng *e, enum view_dirm_idx idx);
/** Directory idx gained or lost an entry now: move its mtime (persisted).
 *  Call with no lock held but e->flock. */
void	view_dirm_touch(struct eng *e, enum view_dirm_idx idx);

/** job (NULL: every job) changed: its summary is built again when read.
 *  Any thread, any lock held except e->sumlock. */
void	view_summary_changed(struct eng *e, const char *job);

/* view_bounds.c (e->flock held unless said) */
/** The configured bounds into e (eng_new). */
void	view_bounds_init(struct eng *e);
void	view_bounds_free(struct eng *e);
/** The length of n's content (what getattr shows), loaded or not. */
uint64_t view_flen(const struct view_file *f);
/** Count what f->data holds now in e->held (after any change of it). */
void	view_recharge(struct eng *e, struct view_file *f);
/**
 * view_file_room - may f's content grow to len bytes?  0, or -ENOSPC
 * (logged once per handle h, may be NULL) naming DIR/name, the bound and
 * --max-defs-bytes.
 */
int	view_file_room(struct eng *e, struct view_node *n, struct view_handle *h,
	    size_t len);
enum view_load_why {
	VIEW_LOAD_READ,		/* only when there is room (no log) */
	VIEW_LOAD_WRITE,	/* room made by dropping saved files, else refused */
	VIEW_LOAD_KEEP,		/* always: an open file is unlinked (its bytes
				   leave the store, its readers keep them) */
};
/**
 * view_file_load - bring n's stored content into n->f->data (counted);
 * nothing when loaded.  0, -ENOSPC (past the bound: not loaded; logged
 * once for h, may be NULL, with VIEW_LOAD_WRITE), a store error.
 */
int	view_file_load(struct eng *e, struct view_node *n, enum view_load_why why,
	    struct view_handle *h);
/** n's content becomes empty and loaded (O_TRUNC, truncate to 0). */
void	view_file_empty(struct eng *e, struct view_node *n);
/** Drop n's loaded content when no handle has it open and it is saved. */
void	view_file_unload(struct eng *e, struct view_node *n);
/** Room for one more file in sources/ and jobs/ (name: for the log).
 *  0 or -ENOSPC (logged). */
int	view_files_room(struct eng *e, uint64_t dir, const char *name);
/** Count (0) or refuse (-EMFILE, -ENFILE; logged) a new handle of pid
 *  (e->lock held). */
int	view_handle_count(struct eng *e, struct view_handle *h, pid_t pid);
/** Uncount h (e->lock held). */
void	view_handle_uncount(struct eng *e, struct view_handle *h);
/** Count h->snap in the bytes held (takes e->flock): 0 or -ENOMEM (past the
 *  bound; logged).  what: the file, for the log. */
int	view_snap_charge(struct eng *e, struct view_handle *h, const char *what);
/** Uncount h->snap (any lock). */
void	view_snap_uncharge(struct eng *e, struct view_handle *h);

/* view_ns.c */
int	view_ns_init(struct eng *e);
void	view_ns_free(struct eng *e);
/** Find ino (e->lock held). */
struct view_node *view_ns_get(struct eng *e, uint64_t ino);
/** Find parent/name (e->lock held). */
struct view_node *view_ns_find(struct eng *e, uint64_t parent, const char *name);
/**
 * view_ns_make - find parent/name or create it with kind, job, cycle
 * (e->lock held).  NULL on -ENOMEM.
 */
struct view_node *view_ns_make(struct eng *e, uint64_t parent, const char *name,
	    enum view_kind kind, const char *job, const char *cycle);
/** Insert a detached node (e->lock held); assigns an inode. */
int	view_ns_insert(struct eng *e, struct view_node *n);
/** Take parent/name out of the name hash (e->lock held). */
void	view_ns_unhash(struct eng *e, struct view_node *n);
/** Rename in the name hash (e->lock held).  0 or -ENOMEM. */
int	view_ns_rehash(struct eng *e, struct view_node *n, uint64_t parent,
	    const char *name);
/** Free n when nothing refers to it any more (e->lock held). */
void	view_ns_maybe_free(struct eng *e, struct view_node *n);
/** Allocate a detached node.  NULL on -ENOMEM. */
struct view_node *view_ns_alloc(enum view_kind kind, uint64_t parent,
	    const char *name, const char *job, const char *cycle);
void	view_ns_node_free(struct view_node *n);
/** Drop nlookup lookups of ino (takes e->lock; the kernel's FORGET). */
void	view_ns_forget(struct eng *e, uint64_t ino, uint64_t nlookup);

/* view_defs.c: sources/ and jobs/ (e->flock held unless said) */
#define VIEW_META_PFX	"file"		/* + NUL: "file\0DIR/NAME" in STORE_DB_META */

/** Where a file's content or metadata lives in the store. */
struct view_key {
	enum store_db	 db;
	char		 k[STORE_KEY_MAX + 1];
	size_t		 klen;
};

const char *view_dirname(uint64_t dir);
bool	view_file_is_def(const struct view_node *n);
int	view_content_key(uint64_t dir, const char *name, mode_t type,
	    struct view_key *k);
/** Copy the value of k into out (a read txn of its own). */
int	view_get(struct eng *e, const struct view_key *k, struct buf *out);
/** The view of stored bytes: secrets masked. */
int	view_view_of(const char *raw, size_t len, struct buf *view);
/** Store n's content and metadata. */
int	view_save(struct eng *e, struct view_node *n);
/** Check the stored bytes of definition n; apply (*applied: it became the
 *  running definition) or set its .error.  0, ENG_EINVAL, a store error. */
int	view_validate(struct eng *e, struct view_node *n, bool *applied);
/** view_validate, then one line about it in the daemon log and the job's
 *  log: "definition: jobs/x.json WHAT by WHO: verdict".  Same returns. */
int	view_def_check(struct eng *e, struct view_node *n, pid_t pid, const char *what);
/** When the running definition of DIR/name (a definition file name) was
 *  applied, ms since the epoch.  0, -ENOENT (none recorded), an error. */
int	view_def_since(struct eng *e, uint64_t dir, const char *name, int64_t *ms);
/** A new file node, linked in its directory.  NULL on -ENOMEM. */
struct view_node *view_file_new(struct eng *e, uint64_t dir, const char *name,
	    mode_t type, mode_t perm, int64_t mtime, int64_t ctime);
/** The existing file dir/name or NULL. */
struct view_node *view_file_find(struct eng *e, uint64_t dir, const char *name);

/* view_load.c */
int	view_defs_load(struct eng *e, struct eng_errbuf *eb);
void	view_defs_free(struct eng *e);

/* view_defs.c: the file operations of sources/ and jobs/ */
int	view_defs_lookup(struct eng *e, uint64_t parent, const char *name,
	    struct eng_entry *out);
int	view_defs_getattr(struct eng *e, struct view_node *n, struct eng_entry *out);
int	view_defs_readdir(struct eng *e, uint64_t ino, uint64_t off, int flags,
	    eng_dirent_fn *fn, void *arg);
int	view_defs_setattr(struct eng *e, struct view_node *n, struct view_handle *h,
	    const struct eng_setattr *sa, struct eng_entry *out);
int	view_defs_open(struct eng *e, struct view_node *n, int flags,
	    struct view_handle *h, struct eng_open *out);
int	view_defs_create(struct eng *e, uint64_t parent, const char *name,
	    mode_t mode, int flags, struct eng_entry *out, struct eng_open *oi,
	    bool *truncated);
int	view_defs_read(struct eng *e, struct view_handle *h, uint64_t off,
	    size_t size, struct buf *out);
int	view_defs_write(struct eng *e, struct view_handle *h, uint64_t off,
	    const void *data, size_t len);
int	view_defs_commit(struct eng *e, struct view_handle *h);
int	view_defs_unlink(struct eng *e, uint64_t parent, const char *name, pid_t pid);
int	view_defs_symlink(struct eng *e, const char *target, uint64_t parent,
	    const char *name, struct eng_entry *out);
int	view_defs_rename(struct eng *e, uint64_t parent, const char *name,
	    uint64_t newparent, const char *newname, unsigned flags, pid_t pid);
int	view_defs_readlink(struct eng *e, struct view_node *n, struct buf *out);
/** The last valid job definition (raw bytes), appended to out. */
int	view_defs_job_raw(struct eng *e, const char *job, struct buf *out);

/** What a job's summary shows of its file jobs/JOB.json. */
struct view_definfo {
	char		 path[ENG_NAME_MAX + 16];	/* "jobs/JOB.json" */
	bool		 present;
	char		*errtext;	/* a copy (caller frees), NULL: valid */
	int64_t		 err_ms;	/* invalid since (ms) */
	int64_t		 errchg_ms;	/* validity or errors last changed (ms) */
};
/** Fill *out for job (takes e->flock).  0 or -ENOMEM. */
int	view_defs_jobinfo(struct eng *e, const char *job, struct view_definfo *out);

/* view_jobs.c */
/** Every name instances/ lists (sorted, unique); the caller frees each
 *  and the array. */
int	view_jobnames(struct eng *e, char ***names, size_t *n);

/* view_summary.c: instances/JOB/summary and MOUNT/status */
/** The summary of job, appended to out; *mtime_ms its as_of.  0, -ENOMEM
 *  or a store error. */
int	view_summary_render(struct eng *e, const char *job, struct buf *out,
	    int64_t *mtime_ms);
/** MOUNT/status, appended to out; *mtime_ms its as_of. */
int	view_status_render(struct eng *e, struct buf *out, int64_t *mtime_ms);
void	view_summary_free(struct eng *e);

/* view_metrics.c: MOUNT/metrics */
/** MOUNT/metrics, appended to out; *mtime_ms when its figures were taken
 *  (they are kept while the scheduler's figures do not change).  0,
 *  -ENOMEM. */
int	view_metrics_file(struct eng *e, struct buf *out, int64_t *mtime_ms);

/* view_inst.c: instances/ */
int	view_inst_lookup(struct eng *e, struct view_node *parent, const char *name,
	    struct eng_entry *out);
int	view_inst_getattr(struct eng *e, struct view_node *n, struct eng_entry *out);
int	view_inst_readdir(struct eng *e, struct view_node *n, uint64_t off,
	    int flags, eng_dirent_fn *fn, void *arg);
int	view_inst_open(struct eng *e, struct view_node *n, int flags,
	    struct view_handle *h, struct eng_open *out);
int	view_inst_read(struct eng *e, struct view_handle *h, uint64_t off,
	    size_t size, struct buf *out);
int	view_inst_write(struct eng *e, struct view_handle *h, const void *data,
	    size_t len);
int	view_inst_readlink(struct eng *e, struct view_node *n, struct buf *out);
int	view_inst_rmdir(struct eng *e, struct view_node *parent, const char *name);
int	view_inst_unlink(struct eng *e, struct view_node *parent, const char *name);
void	view_inst_notify(void *arg, const char *job, const char *cycle);

#endif /* DIFS_VIEW_I_H */
