/* SPDX-License-Identifier: MIT */
/*
 * engine_i.h - private to engine*.c: the inode table (engine_ns.c), the
 * sources/jobs files (engine_defs.c), the instances tree (engine_inst.c)
 * and the engine object (engine.c).
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
 *   e->sumlock the summaries' cache (engine_summary.c).  A leaf like
 *              e->lock, and never held together with it.
 * e->dirm[] (directory mtimes) are atomics: read without a lock.
 */
#ifndef DIFS_VIEW_I_H
#define DIFS_VIEW_I_H

#include <pthread.h>

#include "conf.h"
#include "view.h"
#include "scheduler.h"
#include "store.h"

enum eng_kind {
	ENG_K_ROOT = 1,
	ENG_K_SRCDIR,		/* sources/ */
	ENG_K_JOBDIR,		/* jobs/ */
	ENG_K_INSTDIR,		/* instances/ */
	ENG_K_FILE,		/* a file or symlink in sources/ or jobs/ */
	ENG_K_ERRFILE,		/* NAME.json.error */
	ENG_K_JOB,		/* instances/JOB/ */
	ENG_K_JOB_LATEST,
	ENG_K_JOB_CTL,
	ENG_K_JOB_LOG,
	ENG_K_INST,		/* instances/JOB/CYCLE/ */
	ENG_K_I_STATE,
	ENG_K_I_STATUS,
	ENG_K_I_PARAMS,
	ENG_K_I_JOBJSON,
	ENG_K_I_LOG,
	ENG_K_I_CTL,
	ENG_K_STATUS,		/* MOUNT/status */
	ENG_K_JOB_SUMMARY,	/* instances/JOB/summary */
};

struct eng_jsum;

/** A job's health in its summary and MOUNT/status (engine_summary.c). */
enum eng_health {
	ENG_H_OK = 0,		/* defined, last final instance succeeded (or none yet) */
	ENG_H_FAILING,		/* its newest final instance FAILED or was KILLED */
	ENG_H_INVALID,		/* jobs/JOB.json is invalid: the last valid one runs
				   (or none: never valid yet) */
	ENG_H_PAUSED,		/* ctl pause */
	ENG_H_REMOVED,		/* no longer defined: history only */
	ENG_H__COUNT
};

/** Directories whose mtime the engine keeps (e->dirm[]). */
enum eng_dirm_idx {
	ENG_DIRM_ROOT = 0,	/* the mount root: the store's first use */
	ENG_DIRM_SOURCES,	/* an entry of sources/ came or went */
	ENG_DIRM_JOBS,		/* ... of jobs/ */
	ENG_DIRM_INSTANCES,	/* a job's history was removed (rmdir) */
	ENG_DIRM__COUNT
};

/** A file of sources/ or jobs/; all fields protected by e->flock. */
struct eng_file {
	uint64_t	 dir;		/* ENG_INO_SOURCES or ENG_INO_JOBS */
	mode_t		 type;		/* S_IFREG or S_IFLNK */
	mode_t		 perm;
	int64_t		 mtime_ns, ctime_ns, atime_ns;
	struct buf	 data;		/* what reads show (masked view) */
	bool		 unsaved;	/* data differs from the store */
	bool		 unlinked;
	char		*errtext;	/* definition errors, NULL when valid */
	int64_t		 err_since_ns;	/* errtext non-NULL: the write that made it
					   invalid (first of the streak) */
	int64_t		 err_mtime_ns;	/* errtext last changed (the .error mtime;
					   the moment it went away when NULL) */
	struct eng_node	*next;		/* in the directory's list */
};

struct eng_node {
	uint64_t	 ino;
	enum eng_kind	 kind;
	uint64_t	 parent;	/* parent inode (0 for the root) */
	char		*name;		/* entry name in parent */
	char		*job;		/* instances tree: the job */
	char		*cycle;		/* instances tree below a cycle */
	uint64_t	 nlookup;	/* protected by e->lock */
	int		 nopen;		/* protected by e->lock */
	bool		 hashed;	/* in the name hash (e->lock) */
	bool		 permanent;	/* a file that exists, or a fixed dir */
	struct eng_file	*f;		/* ENG_K_FILE */
	struct eng_node	*ino_next;	/* hash chains (e->lock) */
	struct eng_node	*name_next;
};

/** An open handle (fh is its address). */
struct eng_handle {
	struct eng_node	*node;
	int		 flags;		/* open(2) flags */
	bool		 wrote;		/* wrote since its last commit */
	bool		 truncated;	/* O_TRUNC emptied a file and nothing was
					   written since: the last close validates
					   it (": > x.json") */
	pid_t		 pid;		/* the opener, or the last flush/fsync caller
					   (0: unknown): named in the job's log */
	struct buf	 snap;		/* generated files: the rendered content */
	struct eng_handle *prev, *next;	/* e->handles (e->lock) */
};

/** A source definition ever made current (freed at eng_free). */
struct eng_src {
	struct conf_source *src;
	bool		 current;
	struct eng_src	*next;
};

/** A loaded zone (immutable, lives until eng_free). */
struct eng_zone {
	char		*name;		/* "" = the machine's zone */
	struct tz	*tz;
	struct eng_zone	*next;
};

/** The zone a job's times are shown in. */
struct eng_jobzone {
	char		*job;
	const struct tz	*tz;		/* borrowed from e->zones */
	struct eng_jobzone *next;
};

/** Names of jobs removed through their file (e->flock). */
struct eng_name {
	char		*name;
	struct eng_name	*next;
};

struct eng {
	struct eng_config cfg;
	struct store	*store;
	struct sched	*sched;
	pthread_mutex_t	 lock;		/* the inode table */
	pthread_mutex_t	 flock;		/* sources/ and jobs/ */
	pthread_rwlock_t srclock;	/* srcs */
	struct eng_node	**ino_tab;	/* e->lock */
	struct eng_node	**name_tab;	/* e->lock */
	size_t		 tab_size;	/* buckets (power of two) */
	size_t		 nnodes;
	uint64_t	 next_ino;
	struct eng_node	*fixed[ENG_INO_STATUS + 1];	/* ENG_INO_ROOT..ENG_INO_STATUS */
	_Atomic int64_t	 dirm[ENG_DIRM__COUNT];	/* ms; persisted in META "dirm\0NAME" */
	pthread_mutex_t	 sumlock;	/* the fields below */
	struct eng_jsum	*sums;		/* per-job summaries (engine_summary.c) */
	uint64_t	 sumgen;	/* bumped by every change of any job */
	struct buf	 status_text;	/* MOUNT/status as last built */
	uint64_t	 status_built;	/* sumgen + 1 it was built at (0: none) */
	int64_t		 status_mtime, status_dirm;
	struct eng_node	*files[2];	/* sources/, jobs/ lists (e->flock) */
	struct eng_src	*srcs;		/* srclock */
	struct eng_name	*removed;	/* flock */
	pthread_mutex_t	 tzlock;	/* zones, jobzones */
	struct eng_zone	*zones;
	struct eng_jobzone *jobzones;
	struct eng_handle *handles;	/* open handles (e->lock): freed by
					   eng_free when the kernel did not */
	int64_t		 start_ns;
	bool		 loading;	/* in eng_defs_load (eng_new's thread) */
};

/* engine.c */
int64_t	eng_now_ns(struct eng *e);
const struct conf_source *eng_src_lookup(void *arg, const char *name);
const struct conf_source *eng_src_current(struct eng *e, const char *name);
/** Adopt src as the current source of its name (freed on failure too). */
int	eng_src_set(struct eng *e, struct conf_source *src);
void	eng_fill_attr(struct eng *e, struct eng_attr *a, uint64_t ino,
	    mode_t mode, uint64_t size, int64_t mtime_ns);
bool	eng_name_ok(const char *name);
/** "vim (pid 1234)" for pid (its /proc comm, unprintable bytes as '?'),
 *  "pid 1234" when that cannot be read, "an unknown process" for 0. */
void	eng_who(pid_t pid, char *out, size_t outsz);
/**
 * The zone job's times are shown in: its schedule's, recorded by
 * eng_job_zone_set when the definition was applied, else the machine's.
 * Valid until eng_free (the scheduler's sched_job_tz is freed when a job
 * is redefined, so the mount keeps its own).  NULL only without memory.
 */
const struct tz *eng_job_tz(struct eng *e, const char *job);
/** Record job's zone (IANA name or NULL).  0, -ENOMEM, ENG_EINVAL. */
int	eng_job_zone_set(struct eng *e, const char *job, const char *zone);

/** The mtime (ms) of directory idx. */
int64_t	eng_dirm_get(struct eng *e, enum eng_dirm_idx idx);
/** Directory idx gained or lost an entry now: move its mtime (persisted).
 *  Call with no lock held but e->flock. */
void	eng_dirm_touch(struct eng *e, enum eng_dirm_idx idx);

/* engine_ns.c */
int	eng_ns_init(struct eng *e);
void	eng_ns_free(struct eng *e);
/** Find ino (e->lock held). */
struct eng_node *eng_ns_get(struct eng *e, uint64_t ino);
/** Find parent/name (e->lock held). */
struct eng_node *eng_ns_find(struct eng *e, uint64_t parent, const char *name);
/**
 * eng_ns_make - find parent/name or create it with kind, job, cycle
 * (e->lock held).  NULL on -ENOMEM.
 */
struct eng_node *eng_ns_make(struct eng *e, uint64_t parent, const char *name,
	    enum eng_kind kind, const char *job, const char *cycle);
/** Insert a detached node (e->lock held); assigns an inode. */
int	eng_ns_insert(struct eng *e, struct eng_node *n);
/** Take parent/name out of the name hash (e->lock held). */
void	eng_ns_unhash(struct eng *e, struct eng_node *n);
/** Rename in the name hash (e->lock held).  0 or -ENOMEM. */
int	eng_ns_rehash(struct eng *e, struct eng_node *n, uint64_t parent,
	    const char *name);
/** Free n when nothing refers to it any more (e->lock held). */
void	eng_ns_maybe_free(struct eng *e, struct eng_node *n);
/** Allocate a detached node.  NULL on -ENOMEM. */
struct eng_node *eng_ns_alloc(enum eng_kind kind, uint64_t parent,
	    const char *name, const char *job, const char *cycle);
void	eng_ns_node_free(struct eng_node *n);

/* engine_defs.c: sources/ and jobs/ (e->flock held unless said) */
#define ENG_META_PFX	"file"		/* + NUL: "file\0DIR/NAME" in STORE_DB_META */

/** Where a file's content or metadata lives in the store. */
struct eng_key {
	enum store_db	 db;
	char		 k[STORE_KEY_MAX + 1];
	size_t		 klen;
};

const char *eng_dirname(uint64_t dir);
bool	eng_file_is_def(const struct eng_node *n);
int	eng_content_key(uint64_t dir, const char *name, mode_t type,
	    struct eng_key *k);
/** Copy the value of k into out (a read txn of its own). */
int	eng_get(struct eng *e, const struct eng_key *k, struct buf *out);
/** The view of stored bytes: secrets masked. */
int	eng_view_of(const char *raw, size_t len, struct buf *view);
/** Store n's content and metadata. */
int	eng_save(struct eng *e, struct eng_node *n);
/** Check the stored bytes of definition n; apply (*applied: it became the
 *  running definition) or set its .error.  0, ENG_EINVAL, a store error. */
int	eng_validate(struct eng *e, struct eng_node *n, bool *applied);
/** eng_validate, then one line about it in the daemon log and the job's
 *  log: "definition: jobs/x.json WHAT by WHO: verdict".  Same returns. */
int	eng_def_check(struct eng *e, struct eng_node *n, pid_t pid, const char *what);
/** When the running definition of DIR/name (a definition file name) was
 *  applied, ms since the epoch.  0, -ENOENT (none recorded), an error. */
int	eng_def_since(struct eng *e, uint64_t dir, const char *name, int64_t *ms);
/** A new file node, linked in its directory.  NULL on -ENOMEM. */
struct eng_node *eng_file_new(struct eng *e, uint64_t dir, const char *name,
	    mode_t type, mode_t perm, int64_t mtime, int64_t ctime);
/** The existing file dir/name or NULL. */
struct eng_node *eng_file_find(struct eng *e, uint64_t dir, const char *name);

/* engine_load.c */
int	eng_defs_load(struct eng *e, struct eng_errbuf *eb);
void	eng_defs_free(struct eng *e);
int	eng_defs_lookup(struct eng *e, uint64_t parent, const char *name,
	    struct eng_entry *out);
int	eng_defs_getattr(struct eng *e, struct eng_node *n, struct eng_entry *out);
int	eng_defs_readdir(struct eng *e, uint64_t ino, uint64_t off, int flags,
	    eng_dirent_fn *fn, void *arg);
int	eng_defs_setattr(struct eng *e, struct eng_node *n, struct eng_handle *h,
	    const struct eng_setattr *sa, struct eng_entry *out);
int	eng_defs_open(struct eng *e, struct eng_node *n, int flags,
	    struct eng_handle *h, struct eng_open *out);
int	eng_defs_create(struct eng *e, uint64_t parent, const char *name,
	    mode_t mode, int flags, struct eng_entry *out, struct eng_open *oi,
	    bool *truncated);
int	eng_defs_read(struct eng *e, struct eng_handle *h, uint64_t off,
	    size_t size, struct buf *out);
int	eng_defs_write(struct eng *e, struct eng_handle *h, uint64_t off,
	    const void *data, size_t len);
int	eng_defs_commit(struct eng *e, struct eng_handle *h);
int	eng_defs_unlink(struct eng *e, uint64_t parent, const char *name, pid_t pid);
int	eng_defs_symlink(struct eng *e, const char *target, uint64_t parent,
	    const char *name, struct eng_entry *out);
int	eng_defs_rename(struct eng *e, uint64_t parent, const char *name,
	    uint64_t newparent, const char *newname, unsigned flags, pid_t pid);
int	eng_defs_readlink(struct eng *e, struct eng_node *n, struct buf *out);
/** The last valid job definition (raw bytes), appended to out. */
int	eng_defs_job_raw(struct eng *e, const char *job, struct buf *out);

/** What a job's summary shows of its file jobs/JOB.json. */
struct eng_definfo {
	char		 path[ENG_NAME_MAX + 16];	/* "jobs/JOB.json" */
	bool		 present;
	char		*errtext;	/* a copy (caller frees), NULL: valid */
	int64_t		 err_ms;	/* invalid since (ms) */
	int64_t		 errchg_ms;	/* validity or errors last changed (ms) */
};
/** Fill *out for job (takes e->flock).  0 or -ENOMEM. */
int	eng_defs_jobinfo(struct eng *e, const char *job, struct eng_definfo *out);

/* engine_summary.c: instances/JOB/summary and MOUNT/status */
/** The summary of job, appended to out; *mtime_ms its as_of.  0, -ENOMEM
 *  or a store error. */
int	eng_summary_render(struct eng *e, const char *job, struct buf *out,
	    int64_t *mtime_ms);
/** MOUNT/status, appended to out; *mtime_ms its as_of. */
int	eng_status_render(struct eng *e, struct buf *out, int64_t *mtime_ms);
/** job (NULL: every job) changed: its summary is built again when read.
 *  Any thread, any lock held except e->sumlock. */
void	eng_summary_changed(struct eng *e, const char *job);
void	eng_summary_free(struct eng *e);

/* engine_inst.c: instances/ */
int	eng_inst_lookup(struct eng *e, struct eng_node *parent, const char *name,
	    struct eng_entry *out);
int	eng_inst_getattr(struct eng *e, struct eng_node *n, struct eng_entry *out);
int	eng_inst_readdir(struct eng *e, struct eng_node *n, uint64_t off,
	    int flags, eng_dirent_fn *fn, void *arg);
int	eng_inst_open(struct eng *e, struct eng_node *n, int flags,
	    struct eng_handle *h, struct eng_open *out);
int	eng_inst_read(struct eng *e, struct eng_handle *h, uint64_t off,
	    size_t size, struct buf *out);
int	eng_inst_write(struct eng *e, struct eng_handle *h, const void *data,
	    size_t len);
int	eng_inst_readlink(struct eng *e, struct eng_node *n, struct buf *out);
int	eng_inst_rmdir(struct eng *e, struct eng_node *parent, const char *name);
/** Every name instances/ lists (sorted, unique); the caller frees each
 *  and the array. */
int	eng_inst_jobnames(struct eng *e, char ***names, size_t *n);
int	eng_inst_unlink(struct eng *e, struct eng_node *parent, const char *name);
void	eng_inst_notify(void *arg, const char *job, const char *cycle);

#endif /* DIFS_VIEW_I_H */
