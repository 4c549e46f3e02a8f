/* SPDX-License-Identifier: MIT */
/*
 * view.c - the engine object: lifecycle (store, scheduler, stored
 * definitions) and the dispatch of every eng_* call to sources/jobs
 * (view_defs.c) or instances (view_inst.c).  Layout and locking: view_i.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "view_i.h"
#include "log.h"
#include "tz.h"

/* ---- lifecycle ---------------------------------------------------------------- */

static void view_handle_free(struct eng *e, struct view_handle *h);

int
eng_new(const struct eng_config *cfg, struct eng **out, struct eng_errbuf *eb)
{
	struct store_config sc;
	struct sched_config schc;
	struct eng *e;
	int rc = -ENOMEM;

	*out = NULL;
	if (cfg == NULL || cfg->state_dir == NULL)
		return eng_errbuf_set(eb, ENG_EINVAL, "no state directory");
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -ENOMEM;
	e->cfg = *cfg;
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->flock, NULL);
	pthread_mutex_init(&e->tzlock, NULL);
	pthread_mutex_init(&e->sumlock, NULL);
	pthread_mutex_init(&e->metlock, NULL);
	pthread_rwlock_init(&e->srclock, NULL);
	buf_init(&e->status_text, BUF_MAX_DOC);
	buf_init(&e->met_text, BUF_MAX_DOC);
	e->start_ns = view_now_ns(e);
	view_bounds_init(e);
	if ((rc = view_ns_init(e)) != 0)
		goto out;
	memset(&sc, 0, sizeof(sc));
	sc.exclusive = cfg->exclusive;
	sc.nosync = cfg->nosync;
	if ((rc = store_open(cfg->state_dir, &sc, &e->store, eb)) != 0)
		goto out;
	if ((rc = view_dirm_load(e)) != 0) {
		eng_errbuf_set(eb, rc, "cannot read the state store: %s", eng_strerror(rc));
		goto out;
	}
	memset(&schc, 0, sizeof(schc));
	schc.store = e->store;
	schc.workers = cfg->workers;
	schc.now_ms = cfg->now_ms;
	schc.now_arg = cfg->now_arg;
	schc.sources = view_src_lookup;
	schc.sources_arg = e;
	schc.spool_dir = cfg->spool_dir;
	schc.grace_ms = cfg->grace_ms;
	schc.notify = view_inst_notify;
	schc.notify_arg = e;
	if ((rc = sched_new(&schc, &e->sched, eb)) != 0)
		goto out;
	if ((rc = view_defs_load(e, eb)) != 0)
		goto out;
	*out = e;
	e = NULL;
	rc = 0;
out:
	eng_free(e);
	return rc;
}

int
eng_default_state_dir(char *out, size_t outsz)
{
	return store_default_dir(out, outsz);
}

void
eng_free(struct eng *e)
{
	struct view_src *s;
	struct view_name *r;
	struct view_zone *z;
	struct view_jobzone *jz;

	if (e == NULL)
		return;
	if (e->store != NULL && e->ino_tab != NULL)
		view_defs_free(e);
	while (e->handles != NULL)	/* the kernel did not release them */
		view_handle_free(e, e->handles);
	if (e->sched != NULL) {
		sched_stop(e->sched);
		sched_free(e->sched);
	}
	store_close(e->store);
	view_ns_free(e);
	view_summary_free(e);
	while ((s = e->srcs) != NULL) {
		e->srcs = s->next;
		conf_source_free(s->src);
		free(s);
	}
	while ((z = e->zones) != NULL) {
		e->zones = z->next;
		tz_free(z->tz);
		free(z->name);
		free(z);
	}
	while ((jz = e->jobzones) != NULL) {
		e->jobzones = jz->next;
		free(jz->job);
		free(jz);
	}
	while ((r = e->removed) != NULL) {
		e->removed = r->next;
		free(r->name);
		free(r);
	}
	view_bounds_free(e);
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->flock);
	pthread_mutex_destroy(&e->tzlock);
	pthread_mutex_destroy(&e->sumlock);
	pthread_mutex_destroy(&e->metlock);
	buf_free(&e->met_text);
	pthread_rwlock_destroy(&e->srclock);
	free(e);
}

int
eng_start(struct eng *e)
{
	return sched_start(e->sched);
}

void
eng_stop(struct eng *e)
{
	sched_stop(e->sched);
}

struct sched *
eng_scheduler(struct eng *e)
{
	return e->sched;
}

/* ---- dispatch ----------------------------------------------------------------- */

/* The node of ino, or NULL.  The kernel holds a reference on ino during
 * the call, so the node outlives it. */
static struct view_node *
view_node_of(struct eng *e, uint64_t ino)
{
	struct view_node *n;

	pthread_mutex_lock(&e->lock);
	n = view_ns_get(e, ino);
	pthread_mutex_unlock(&e->lock);
	return n;
}

static bool
view_in_defs(const struct view_node *n)
{
	return n->kind == VIEW_K_SRCDIR || n->kind == VIEW_K_JOBDIR;
}

static bool
view_in_inst(const struct view_node *n)
{
	return n->kind == VIEW_K_INSTDIR || n->kind == VIEW_K_JOB || n->kind == VIEW_K_INST;
}

/* The root, sources/, jobs/, instances/, MOUNT/status and MOUNT/metrics. */
static int
view_dir_entry(struct eng *e, struct view_node *n, struct eng_entry *out)
{
	struct buf b;
	int64_t ms;
	int rc;

	if (n->kind == VIEW_K_STATUS || n->kind == VIEW_K_METRICS) {
		buf_init(&b, BUF_MAX_DOC);
		rc = n->kind == VIEW_K_STATUS ? view_status_render(e, &b, &ms) :
		    view_metrics_file(e, &b, &ms);
		view_fill_attr(e, &out->attr, n->ino, S_IFREG | 0444, b.len, ms * 1000000);
		buf_free(&b);
		out->attr_timeout = 0;	/* live */
		out->entry_timeout = 1.0;
		return rc;
	}
	switch (n->kind) {
	case VIEW_K_SRCDIR:
		ms = view_dirm_get(e, VIEW_DIRM_SOURCES);
		break;
	case VIEW_K_JOBDIR:
		ms = view_dirm_get(e, VIEW_DIRM_JOBS);
		break;
	case VIEW_K_INSTDIR:	/* its entries follow jobs/ and rmdir */
		ms = view_dirm_get(e, VIEW_DIRM_INSTANCES);
		if (view_dirm_get(e, VIEW_DIRM_JOBS) > ms)
			ms = view_dirm_get(e, VIEW_DIRM_JOBS);
		break;
	default:
		ms = view_dirm_get(e, VIEW_DIRM_ROOT);
		break;
	}
	view_fill_attr(e, &out->attr, n->ino, S_IFDIR | 0755, 0, ms * 1000000);
	if (n->kind == VIEW_K_ROOT)
		out->attr.nlink = 5;
	else if (n->kind == VIEW_K_INSTDIR)
		out->attr.nlink = 1;	/* unknown number of subdirectories */
	/* not 0: every path walk checks search permission on these (one
	 * GETATTR per stat below them); view_dirm_touch invalidates them */
	out->attr_timeout = 1.0;
	out->entry_timeout = 1.0;
	return 0;
}

int
eng_lookup(struct eng *e, uint64_t parent, const char *name, struct eng_entry *out)
{
	struct view_node *p, *n;

	if (strlen(name) > ENG_NAME_MAX)
		return -ENAMETOOLONG;
	if ((p = view_node_of(e, parent)) == NULL)
		return -ENOENT;
	if (p->kind == VIEW_K_ROOT) {
		pthread_mutex_lock(&e->lock);
		if ((n = view_ns_find(e, ENG_INO_ROOT, name)) != NULL)
			n->nlookup++;	/* permanent: safe to use after unlocking */
		pthread_mutex_unlock(&e->lock);
		if (n == NULL)
			return -ENOENT;
		if (view_dir_entry(e, n, out) != 0)
			view_fill_attr(e, &out->attr, n->ino, S_IFREG | 0444, 0, e->start_ns);
		return 0;
	}
	if (view_in_defs(p))
		return view_defs_lookup(e, parent, name, out);
	if (view_in_inst(p))
		return view_inst_lookup(e, p, name, out);
	return -ENOTDIR;
}

void
eng_forget(struct eng *e, uint64_t ino, uint64_t nlookup)
{
	view_ns_forget(e, ino, nlookup);
}

int
eng_getattr(struct eng *e, uint64_t ino, struct eng_entry *out)
{
	struct view_node *n;

	if ((n = view_node_of(e, ino)) == NULL)
		return -ENOENT;
	switch (n->kind) {
	case VIEW_K_ROOT: case VIEW_K_SRCDIR: case VIEW_K_JOBDIR: case VIEW_K_INSTDIR:
	case VIEW_K_STATUS: case VIEW_K_METRICS:
		return view_dir_entry(e, n, out);
	case VIEW_K_FILE: case VIEW_K_ERRFILE:
		return view_defs_getattr(e, n, out);
	default:
		return view_inst_getattr(e, n, out);
	}
}

int
eng_setattr(struct eng *e, uint64_t ino, uint64_t fh, const struct eng_setattr *sa,
    struct eng_entry *out)
{
	struct view_node *n;

	if ((n = view_node_of(e, ino)) == NULL)
		return -ENOENT;
	if ((sa->valid & ENG_SET_UID) && sa->uid != e->cfg.uid)
		return -EPERM;
	if ((sa->valid & ENG_SET_GID) && sa->gid != e->cfg.gid)
		return -EPERM;
	if (n->kind == VIEW_K_FILE)
		return view_defs_setattr(e, n, (struct view_handle *)(uintptr_t)fh, sa, out);
	switch (n->kind) {
	case VIEW_K_ROOT: case VIEW_K_SRCDIR: case VIEW_K_JOBDIR: case VIEW_K_INSTDIR:
	case VIEW_K_JOB: case VIEW_K_INST:
		if (sa->valid & ENG_SET_SIZE)
			return -EISDIR;
		break;
	case VIEW_K_JOB_CTL: case VIEW_K_I_CTL:
		break;	/* "echo cmd > ctl" may truncate first: nothing to do */
	default:
		if (sa->valid & ENG_SET_SIZE)
			return -EROFS;
		break;
	}
	if (sa->valid & ENG_SET_MODE)
		return -EPERM;
	return eng_getattr(e, ino, out);
}

int
eng_readdir(struct eng *e, uint64_t ino, uint64_t off, int flags, eng_dirent_fn *fn,
    void *arg)
{
	static const char *const names[] = { ".", "..", "sources", "jobs", "instances", "status",
	    "metrics" };
	struct view_node *n;
	struct eng_dirent d;
	struct eng_entry ent;
	uint64_t i;

	if ((n = view_node_of(e, ino)) == NULL)
		return -ENOENT;
	if (view_in_defs(n))
		return view_defs_readdir(e, ino, off, flags, fn, arg);
	if (view_in_inst(n))
		return view_inst_readdir(e, n, off, flags, fn, arg);
	if (n->kind != VIEW_K_ROOT)
		return -ENOTDIR;
	for (i = off; i < sizeof(names) / sizeof(names[0]); i++) {
		memset(&d, 0, sizeof(d));
		d.name = names[i];
		d.ino = i < 2 ? ENG_INO_ROOT : ENG_INO_SOURCES + (i - 2);
		d.type = d.ino >= ENG_INO_STATUS ? S_IFREG : S_IFDIR;
		d.next_off = i + 1;
		if (flags & ENG_READDIR_PLUS) {
			if (view_dir_entry(e, e->fixed[d.ino], &ent) != 0)
				view_fill_attr(e, &ent.attr, d.ino, S_IFREG | 0444, 0, e->start_ns);
			d.entry = &ent;
		}
		if (fn(arg, &d))
			break;
		if ((flags & ENG_READDIR_PLUS) && i >= 2) {
			pthread_mutex_lock(&e->lock);
			e->fixed[d.ino]->nlookup++;
			pthread_mutex_unlock(&e->lock);
		}
	}
	return 0;
}

int
eng_readlink(struct eng *e, uint64_t ino, struct buf *out)
{
	struct view_node *n;

	if ((n = view_node_of(e, ino)) == NULL)
		return -ENOENT;
	if (n->kind == VIEW_K_FILE)
		return view_defs_readlink(e, n, out);
	if (n->kind == VIEW_K_JOB_LATEST)
		return view_inst_readlink(e, n, out);
	return -EINVAL;
}

int
eng_mkdir(struct eng *e, uint64_t parent, const char *name, mode_t mode,
    struct eng_entry *out)
{
	struct view_node *p;

	(void)mode;
	(void)out;
	(void)name;
	if ((p = view_node_of(e, parent)) == NULL)
		return -ENOENT;
	if (view_in_inst(p))
		return -EROFS;
	return -EPERM;
}

int
eng_rmdir(struct eng *e, uint64_t parent, const char *name)
{
	struct view_node *p;

	if ((p = view_node_of(e, parent)) == NULL)
		return -ENOENT;
	if (view_in_inst(p))
		return view_inst_rmdir(e, p, name);
	if (view_in_defs(p))
		return -ENOTDIR;
	return -EPERM;
}

int
eng_unlink(struct eng *e, uint64_t parent, const char *name, pid_t pid)
{
	struct view_node *p;

	if ((p = view_node_of(e, parent)) == NULL)
		return -ENOENT;
	if (view_in_defs(p))
		return view_defs_unlink(e, parent, name, pid);
	if (view_in_inst(p))
		return view_inst_unlink(e, p, name);
	return -EPERM;
}

int
eng_symlink(struct eng *e, const char *target, uint64_t parent, const char *name,
    struct eng_entry *out)
{
	struct view_node *p;

	if ((p = view_node_of(e, parent)) == NULL)
		return -ENOENT;
	if (view_in_defs(p))
		return view_defs_symlink(e, target, parent, name, out);
	if (view_in_inst(p))
		return -EROFS;
	return -EPERM;
}

int
eng_link(struct eng *e, uint64_t ino, uint64_t newparent, const char *newname,
    struct eng_entry *out)
{
	(void)e;
	(void)ino;
	(void)newparent;
	(void)newname;
	(void)out;
	return -EPERM;	/* hard links are not supported: one name per file */
}

int
eng_rename(struct eng *e, uint64_t parent, const char *name, uint64_t newparent,
    const char *newname, unsigned flags, pid_t pid)
{
	struct view_node *p, *np;

	if ((p = view_node_of(e, parent)) == NULL || (np = view_node_of(e, newparent)) == NULL)
		return -ENOENT;
	if (flags & ENG_RENAME_EXCHANGE)
		return -EINVAL;
	if (flags & ~(unsigned)ENG_RENAME_NOREPLACE)
		return -EINVAL;
	if (view_in_defs(p) && view_in_defs(np))
		return view_defs_rename(e, parent, name, newparent, newname, flags, pid);
	if (view_in_inst(p) || view_in_inst(np))
		return -EROFS;
	return -EPERM;
}

int
eng_statfs(struct eng *e, struct eng_statfs *out)
{
	struct store_info si;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_get_info(e->store, &si)) != 0)
		return rc;
	out->bsize = out->frsize = si.page_size != 0 ? si.page_size : 4096;
	out->blocks = si.map_max / out->bsize;
	out->bfree = out->bavail = si.map_max > si.used ? (si.map_max - si.used) / out->bsize : 0;
	out->files = 1000000;
	pthread_mutex_lock(&e->lock);
	out->ffree = e->nnodes < out->files ? out->files - e->nnodes : 0;
	pthread_mutex_unlock(&e->lock);
	out->namemax = ENG_NAME_MAX;
	return 0;
}

/* ---- files -------------------------------------------------------------------- */

/* A handle of n (NULL: attached later by view_handle_attach) for pid, counted
 * against the handle bounds.  NULL with *rc set (-EMFILE, -ENFILE, -ENOMEM). */
static struct view_handle *
view_handle_new(struct eng *e, struct view_node *n, int flags, pid_t pid, int *rc)
{
	struct view_handle *h;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	h->flags = flags;
	h->pid = pid;
	buf_init(&h->snap, BUF_MAX_DOC);
	pthread_mutex_lock(&e->lock);
	if ((*rc = view_handle_count(e, h, pid)) != 0) {
		pthread_mutex_unlock(&e->lock);
		free(h);
		return NULL;
	}
	if ((h->node = n) != NULL)
		n->nopen++;
	h->next = e->handles;
	if (e->handles != NULL)
		e->handles->prev = h;
	e->handles = h;
	pthread_mutex_unlock(&e->lock);
	return h;
}

static void
view_handle_attach(struct eng *e, struct view_handle *h, struct view_node *n)
{
	pthread_mutex_lock(&e->lock);
	h->node = n;
	n->nopen++;
	pthread_mutex_unlock(&e->lock);
}

static void
view_handle_free(struct eng *e, struct view_handle *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	if (h->prev != NULL)
		h->prev->next = h->next;
	else
		e->handles = h->next;
	if (h->next != NULL)
		h->next->prev = h->prev;
	view_handle_uncount(e, h);
	if (h->node != NULL) {
		h->node->nopen--;
		view_ns_maybe_free(e, h->node);
	}
	pthread_mutex_unlock(&e->lock);
	view_snap_uncharge(e, h);
	buf_free(&h->snap);
	free(h);
}

/* The last close of a sources/jobs file drops its bytes (they are in the
 * store); under e->flock, so that of two closing at once the second sees
 * the first gone. */
static void
view_handle_close(struct eng *e, struct view_handle *h)
{
	struct view_node *n = h->node;
	bool keep;

	if (n == NULL || n->kind != VIEW_K_FILE) {
		view_handle_free(e, h);
		return;
	}
	pthread_mutex_lock(&e->flock);
	pthread_mutex_lock(&e->lock);
	keep = n->permanent;	/* else n may be freed with h */
	pthread_mutex_unlock(&e->lock);
	view_handle_free(e, h);
	if (keep)
		view_file_unload(e, n);
	pthread_mutex_unlock(&e->flock);
}

int
eng_open(struct eng *e, uint64_t ino, int flags, pid_t pid, struct eng_open *out)
{
	struct view_handle *h = NULL;
	struct view_node *n;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((n = view_node_of(e, ino)) == NULL)
		return -ENOENT;
	switch (n->kind) {
	case VIEW_K_ROOT: case VIEW_K_SRCDIR: case VIEW_K_JOBDIR: case VIEW_K_INSTDIR:
	case VIEW_K_JOB: case VIEW_K_INST:
		return -EISDIR;
	case VIEW_K_JOB_LATEST:
		return -ELOOP;
	default:
		break;
	}
	if ((h = view_handle_new(e, n, flags, pid, &rc)) == NULL)
		return rc;
	if (n->kind == VIEW_K_FILE || n->kind == VIEW_K_ERRFILE)
		rc = view_defs_open(e, n, flags, h, out);
	else if ((rc = view_inst_open(e, n, flags, h, out)) == 0)
		rc = view_snap_charge(e, h, n->name);
	if (rc != 0) {
		view_handle_free(e, h);
		return rc;
	}
	out->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

int
eng_create(struct eng *e, uint64_t parent, const char *name, mode_t mode, int flags,
    pid_t pid, struct eng_entry *out, struct eng_open *oi)
{
	struct view_handle *h;
	struct view_node *p, *n;
	bool truncated = false;
	int rc;

	memset(oi, 0, sizeof(*oi));
	if ((p = view_node_of(e, parent)) == NULL)
		return -ENOENT;
	if (view_in_inst(p))
		return -EROFS;
	if (!view_in_defs(p))
		return -EPERM;
	/* the handle first: past the handle bounds nothing is created */
	if ((h = view_handle_new(e, NULL, flags, pid, &rc)) == NULL)
		return rc;
	if ((rc = view_defs_create(e, parent, name, mode, flags, out, oi, &truncated)) != 0) {
		view_handle_free(e, h);
		return rc;
	}
	/* the node exists and has a lookup reference: open it */
	if ((n = view_node_of(e, out->attr.ino)) == NULL) {
		view_handle_free(e, h);
		eng_forget(e, out->attr.ino, 1);
		return -ENOMEM;
	}
	view_handle_attach(e, h, n);
	h->truncated = truncated;
	oi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

int
eng_read(struct eng *e, uint64_t fh, uint64_t off, size_t size, struct buf *out)
{
	struct view_handle *h = (struct view_handle *)(uintptr_t)fh;

	if (h == NULL)
		return -EBADF;
	if ((h->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	if (h->node->kind == VIEW_K_FILE)
		return view_defs_read(e, h, off, size, out);
	if (h->node->kind == VIEW_K_ERRFILE)
		return off < h->snap.len ?
		    buf_add(out, h->snap.p + off, h->snap.len - off < size ? h->snap.len - off : size) : 0;
	return view_inst_read(e, h, off, size, out);
}

int
eng_write(struct eng *e, uint64_t fh, uint64_t off, const void *data, size_t len,
    size_t *written)
{
	struct view_handle *h = (struct view_handle *)(uintptr_t)fh;
	int rc;

	*written = 0;
	if (h == NULL || (h->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (h->node->kind == VIEW_K_FILE)
		rc = view_defs_write(e, h, off, data, len);
	else if (h->node->kind == VIEW_K_JOB_CTL || h->node->kind == VIEW_K_I_CTL)
		rc = view_inst_write(e, h, data, len);
	else
		rc = -EACCES;
	if (rc == 0)
		*written = len;
	return rc;
}

int
eng_flush(struct eng *e, uint64_t fh, pid_t pid)
{
	struct view_handle *h = (struct view_handle *)(uintptr_t)fh;

	if (h == NULL)
		return -EBADF;
	if (pid > 0)
		h->pid = pid;	/* read by this handle's commit only */
	return h->node->kind == VIEW_K_FILE ? view_defs_commit(e, h) : 0;
}

int
eng_fsync(struct eng *e, uint64_t fh, pid_t pid)
{
	return eng_flush(e, fh, pid);
}

int
eng_release(struct eng *e, uint64_t fh)
{
	struct view_handle *h = (struct view_handle *)(uintptr_t)fh;
	int rc;

	if (h == NULL)
		return -EBADF;
	/* a truncation nobody wrote after (": > x.json") is a change too; not
	 * at flush: bash's "echo x > f" flushes once between O_TRUNC and write */
	if (h->truncated && h->node->kind == VIEW_K_FILE)
		h->wrote = true;
	rc = eng_flush(e, fh, 0);
	view_handle_close(e, h);
	return rc;
}
