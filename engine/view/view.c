/* SPDX-License-Identifier: MIT */
/*
 * engine.c - the engine object: lifecycle (store, scheduler, stored
 * definitions), the source table the scheduler's runs read, and the
 * dispatch of every eng_* call to sources/jobs (engine_defs.c) or
 * instances (engine_inst.c).  Locking: engine_i.h.
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

/* ---- helpers ---------------------------------------------------------------- */

int64_t
eng_now_ns(struct eng *e)
{
	struct timespec ts;

	if (e->cfg.now_ms != NULL)
		return e->cfg.now_ms(e->cfg.now_arg) * 1000000;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
eng_fill_attr(struct eng *e, struct eng_attr *a, uint64_t ino, mode_t mode,
    uint64_t size, int64_t mtime_ns)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->mode = mode;
	a->nlink = S_ISDIR(mode) ? 2 : 1;
	a->size = size;
	a->atime_ns = a->mtime_ns = a->ctime_ns = mtime_ns;
	a->uid = e->cfg.uid;
	a->gid = e->cfg.gid;
}

/* ---- directory mtimes --------------------------------------------------------- */

static const char *const eng_dirm_names[ENG_DIRM__COUNT] = {
	[ENG_DIRM_ROOT] = "/", [ENG_DIRM_SOURCES] = "sources", [ENG_DIRM_JOBS] = "jobs",
	[ENG_DIRM_INSTANCES] = "instances",
};

struct eng_dirmq {
	struct eng	*e;
	int		 idx;		/* -1: load all */
	int64_t		 ms;
};

static size_t
eng_dirm_key(int idx, char *key, size_t ksz)
{
	int n = snprintf(key, ksz, "dirm%c%s", '\0', eng_dirm_names[idx]);

	return n > 0 && (size_t)n < ksz ? (size_t)n : 0;
}

static int
eng_dirm_load_fn(struct store_txn *txn, void *arg)
{
	struct eng_dirmq *q = arg;
	char key[32], num[24];
	const void *v;
	size_t klen, vlen;
	int i, rc;

	for (i = 0; i < ENG_DIRM__COUNT; i++) {
		if ((klen = eng_dirm_key(i, key, sizeof(key))) == 0)
			return -ENAMETOOLONG;
		rc = store_get(txn, STORE_DB_META, key, klen, &v, &vlen);
		if (rc == -ENOENT)
			continue;
		if (rc != 0)
			return rc;
		if (vlen == 0 || vlen >= sizeof(num))
			continue;
		memcpy(num, v, vlen);
		num[vlen] = '\0';
		atomic_store(&q->e->dirm[i], strtoll(num, NULL, 10));
	}
	return 0;
}

static int
eng_dirm_put_fn(struct store_txn *txn, void *arg)
{
	struct eng_dirmq *q = arg;
	char key[32], num[24];
	size_t klen;
	int n;

	if ((klen = eng_dirm_key(q->idx, key, sizeof(key))) == 0)
		return -ENAMETOOLONG;
	n = snprintf(num, sizeof(num), "%lld", (long long)q->ms);
	if (n <= 0 || (size_t)n >= sizeof(num))
		return -EOVERFLOW;
	return store_put(txn, STORE_DB_META, key, klen, num, (size_t)n, 0);
}

/* Load the kept directory mtimes; the root's is set on first use. */
static int
eng_dirm_load(struct eng *e)
{
	struct eng_dirmq q = { e, -1, 0 };
	int rc;

	if ((rc = store_view(e->store, eng_dirm_load_fn, &q)) != 0)
		return rc;
	if (atomic_load(&e->dirm[ENG_DIRM_ROOT]) == 0) {
		q.idx = ENG_DIRM_ROOT;
		q.ms = e->start_ns / 1000000;
		if ((rc = store_update(e->store, eng_dirm_put_fn, &q)) != 0)
			return rc;
		atomic_store(&e->dirm[ENG_DIRM_ROOT], q.ms);
	}
	return 0;
}

int64_t
eng_dirm_get(struct eng *e, enum eng_dirm_idx idx)
{
	int64_t v = atomic_load(&e->dirm[idx]);

	return v > 0 ? v : atomic_load(&e->dirm[ENG_DIRM_ROOT]);
}

void
eng_dirm_touch(struct eng *e, enum eng_dirm_idx idx)
{
	struct eng_dirmq q = { e, (int)idx, eng_now_ns(e) / 1000000 };
	int rc;

	if (q.ms <= atomic_load(&e->dirm[idx]))
		q.ms = atomic_load(&e->dirm[idx]) + 1;	/* every change moves it */
	atomic_store(&e->dirm[idx], q.ms);
	if ((rc = store_update(e->store, eng_dirm_put_fn, &q)) != 0)
		log_warnx("cannot keep the mtime of %s: %s", eng_dirm_names[idx], eng_strerror(rc));
	if (e->cfg.inval_inode != NULL) {
		pthread_mutex_lock(&e->lock);
		e->cfg.inval_inode(e->cfg.inval_arg, idx == ENG_DIRM_ROOT ? ENG_INO_ROOT :
		    idx == ENG_DIRM_SOURCES ? ENG_INO_SOURCES : idx == ENG_DIRM_JOBS ?
		    ENG_INO_JOBS : ENG_INO_INSTANCES);
		if (idx == ENG_DIRM_JOBS)	/* instances/ follows jobs/ */
			e->cfg.inval_inode(e->cfg.inval_arg, ENG_INO_INSTANCES);
		pthread_mutex_unlock(&e->lock);
	}
}

void
eng_who(pid_t pid, char *out, size_t outsz)
{
	char path[48], comm[64];
	ssize_t n = -1;
	size_t i;
	int fd;

	if (pid <= 0) {
		(void)snprintf(out, outsz, "an unknown process");
		return;
	}
	(void)snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, comm, sizeof(comm) - 1);
		close(fd);
	}
	while (n > 0 && (comm[n - 1] == '\n' || comm[n - 1] == ' '))
		n--;
	if (n <= 0) {
		(void)snprintf(out, outsz, "pid %ld", (long)pid);
		return;
	}
	comm[n] = '\0';
	for (i = 0; i < (size_t)n; i++)	/* a process names itself: no log injection */
		if ((unsigned char)comm[i] < 0x20 || (unsigned char)comm[i] >= 0x7f)
			comm[i] = '?';
	(void)snprintf(out, outsz, "%s (pid %ld)", comm, (long)pid);
}

bool
eng_name_ok(const char *name)
{
	size_t n = 0;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || name[0] == '\0')
		return false;
	for (; name[n] != '\0'; n++)
		if ((unsigned char)name[n] < 0x20 || name[n] == 0x7f || name[n] == '/')
			return false;
	return n <= ENG_NAME_MAX;
}

/* ---- sources for runs -------------------------------------------------------- */

const struct conf_source *
eng_src_current(struct eng *e, const char *name)
{
	const struct conf_source *r = NULL;
	struct eng_src *s;

	pthread_rwlock_rdlock(&e->srclock);
	for (s = e->srcs; s != NULL; s = s->next)
		if (s->current && strcmp(conf_source_name(s->src), name) == 0) {
			r = s->src;
			break;
		}
	pthread_rwlock_unlock(&e->srclock);
	return r;
}

/* A source made current once stays allocated until eng_free: a run may be
 * holding the pointer the lookup returned while a new version arrives. */
const struct conf_source *
eng_src_lookup(void *arg, const char *name)
{
	return eng_src_current(arg, name);
}

int
eng_src_set(struct eng *e, struct conf_source *src)
{
	struct eng_src *n, *s;

	if ((n = calloc(1, sizeof(*n))) == NULL) {
		conf_source_free(src);
		return -ENOMEM;
	}
	n->src = src;
	n->current = true;
	pthread_rwlock_wrlock(&e->srclock);
	for (s = e->srcs; s != NULL; s = s->next)
		if (s->current && strcmp(conf_source_name(s->src), conf_source_name(src)) == 0)
			s->current = false;
	n->next = e->srcs;
	e->srcs = n;
	pthread_rwlock_unlock(&e->srclock);
	return 0;
}

/* ---- zones -------------------------------------------------------------------- */

/* e->tzlock held */
static const struct tz *
eng_zone_get(struct eng *e, const char *name)
{
	struct eng_zone *z;

	for (z = e->zones; z != NULL; z = z->next)
		if (strcmp(z->name, name) == 0)
			return z->tz;
	if ((z = calloc(1, sizeof(*z))) == NULL || (z->name = strdup(name)) == NULL) {
		free(z);
		return NULL;
	}
	if (tz_load(name[0] != '\0' ? name : NULL, &z->tz, NULL) != 0 &&
	    (name[0] != '\0' || tz_utc(&z->tz) != 0)) {
		free(z->name);
		free(z);
		return NULL;
	}
	z->next = e->zones;
	e->zones = z;
	return z->tz;
}

int
eng_job_zone_set(struct eng *e, const char *job, const char *zone)
{
	struct eng_jobzone *j;
	const struct tz *tz;
	int rc = 0;

	pthread_mutex_lock(&e->tzlock);
	if ((tz = eng_zone_get(e, zone != NULL ? zone : "")) == NULL) {
		rc = ENG_EINVAL;
		goto out;
	}
	for (j = e->jobzones; j != NULL; j = j->next)
		if (strcmp(j->job, job) == 0)
			break;
	if (j == NULL) {
		if ((j = calloc(1, sizeof(*j))) == NULL || (j->job = strdup(job)) == NULL) {
			free(j);
			rc = -ENOMEM;
			goto out;
		}
		j->next = e->jobzones;
		e->jobzones = j;
	}
	j->tz = tz;
out:
	pthread_mutex_unlock(&e->tzlock);
	return rc;
}

const struct tz *
eng_job_tz(struct eng *e, const char *job)
{
	struct eng_jobzone *j;
	const struct tz *tz = NULL;

	pthread_mutex_lock(&e->tzlock);
	for (j = e->jobzones; j != NULL; j = j->next)
		if (strcmp(j->job, job) == 0) {
			tz = j->tz;
			break;
		}
	if (tz == NULL)
		tz = eng_zone_get(e, "");
	pthread_mutex_unlock(&e->tzlock);
	return tz;
}

/* ---- lifecycle ---------------------------------------------------------------- */

static void eng_handle_free(struct eng *e, struct eng_handle *h);

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
	pthread_rwlock_init(&e->srclock, NULL);
	buf_init(&e->status_text, BUF_MAX_DOC);
	e->start_ns = eng_now_ns(e);
	if ((rc = eng_ns_init(e)) != 0)
		goto out;
	memset(&sc, 0, sizeof(sc));
	sc.exclusive = cfg->exclusive;
	sc.nosync = cfg->nosync;
	if ((rc = store_open(cfg->state_dir, &sc, &e->store, eb)) != 0)
		goto out;
	if ((rc = eng_dirm_load(e)) != 0) {
		eng_errbuf_set(eb, rc, "cannot read the state store: %s", eng_strerror(rc));
		goto out;
	}
	memset(&schc, 0, sizeof(schc));
	schc.store = e->store;
	schc.workers = cfg->workers;
	schc.now_ms = cfg->now_ms;
	schc.now_arg = cfg->now_arg;
	schc.sources = eng_src_lookup;
	schc.sources_arg = e;
	schc.spool_dir = cfg->spool_dir;
	schc.grace_ms = cfg->grace_ms;
	schc.notify = eng_inst_notify;
	schc.notify_arg = e;
	if ((rc = sched_new(&schc, &e->sched, eb)) != 0)
		goto out;
	if ((rc = eng_defs_load(e, eb)) != 0)
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
	struct eng_src *s;
	struct eng_name *r;
	struct eng_zone *z;
	struct eng_jobzone *jz;

	if (e == NULL)
		return;
	if (e->store != NULL && e->ino_tab != NULL)
		eng_defs_free(e);
	while (e->handles != NULL)	/* the kernel did not release them */
		eng_handle_free(e, e->handles);
	if (e->sched != NULL) {
		sched_stop(e->sched);
		sched_free(e->sched);
	}
	store_close(e->store);
	eng_ns_free(e);
	eng_summary_free(e);
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
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->flock);
	pthread_mutex_destroy(&e->tzlock);
	pthread_mutex_destroy(&e->sumlock);
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
static struct eng_node *
eng_node_of(struct eng *e, uint64_t ino)
{
	struct eng_node *n;

	pthread_mutex_lock(&e->lock);
	n = eng_ns_get(e, ino);
	pthread_mutex_unlock(&e->lock);
	return n;
}

static bool
eng_in_defs(const struct eng_node *n)
{
	return n->kind == ENG_K_SRCDIR || n->kind == ENG_K_JOBDIR;
}

static bool
eng_in_inst(const struct eng_node *n)
{
	return n->kind == ENG_K_INSTDIR || n->kind == ENG_K_JOB || n->kind == ENG_K_INST;
}

/* The root, sources/, jobs/, instances/ and MOUNT/status. */
static int
eng_dir_entry(struct eng *e, struct eng_node *n, struct eng_entry *out)
{
	struct buf b;
	int64_t ms;
	int rc;

	if (n->kind == ENG_K_STATUS) {
		buf_init(&b, BUF_MAX_DOC);
		rc = eng_status_render(e, &b, &ms);
		eng_fill_attr(e, &out->attr, n->ino, S_IFREG | 0444, b.len, ms * 1000000);
		buf_free(&b);
		out->attr_timeout = 0;	/* live */
		out->entry_timeout = 1.0;
		return rc;
	}
	switch (n->kind) {
	case ENG_K_SRCDIR:
		ms = eng_dirm_get(e, ENG_DIRM_SOURCES);
		break;
	case ENG_K_JOBDIR:
		ms = eng_dirm_get(e, ENG_DIRM_JOBS);
		break;
	case ENG_K_INSTDIR:	/* its entries follow jobs/ and rmdir */
		ms = eng_dirm_get(e, ENG_DIRM_INSTANCES);
		if (eng_dirm_get(e, ENG_DIRM_JOBS) > ms)
			ms = eng_dirm_get(e, ENG_DIRM_JOBS);
		break;
	default:
		ms = eng_dirm_get(e, ENG_DIRM_ROOT);
		break;
	}
	eng_fill_attr(e, &out->attr, n->ino, S_IFDIR | 0755, 0, ms * 1000000);
	if (n->kind == ENG_K_ROOT)
		out->attr.nlink = 5;
	else if (n->kind == ENG_K_INSTDIR)
		out->attr.nlink = 1;	/* unknown number of subdirectories */
	/* not 0: every path walk checks search permission on these (one
	 * GETATTR per stat below them); eng_dirm_touch invalidates them */
	out->attr_timeout = 1.0;
	out->entry_timeout = 1.0;
	return 0;
}

int
eng_lookup(struct eng *e, uint64_t parent, const char *name, struct eng_entry *out)
{
	struct eng_node *p, *n;

	if (strlen(name) > ENG_NAME_MAX)
		return -ENAMETOOLONG;
	if ((p = eng_node_of(e, parent)) == NULL)
		return -ENOENT;
	if (p->kind == ENG_K_ROOT) {
		pthread_mutex_lock(&e->lock);
		if ((n = eng_ns_find(e, ENG_INO_ROOT, name)) != NULL)
			n->nlookup++;	/* permanent: safe to use after unlocking */
		pthread_mutex_unlock(&e->lock);
		if (n == NULL)
			return -ENOENT;
		if (eng_dir_entry(e, n, out) != 0)
			eng_fill_attr(e, &out->attr, n->ino, S_IFREG | 0444, 0, e->start_ns);
		return 0;
	}
	if (eng_in_defs(p))
		return eng_defs_lookup(e, parent, name, out);
	if (eng_in_inst(p))
		return eng_inst_lookup(e, p, name, out);
	return -ENOTDIR;
}

void
eng_forget(struct eng *e, uint64_t ino, uint64_t nlookup)
{
	struct eng_node *n;

	pthread_mutex_lock(&e->lock);
	if ((n = eng_ns_get(e, ino)) != NULL) {
		n->nlookup = n->nlookup > nlookup ? n->nlookup - nlookup : 0;
		eng_ns_maybe_free(e, n);
	}
	pthread_mutex_unlock(&e->lock);
}

int
eng_getattr(struct eng *e, uint64_t ino, struct eng_entry *out)
{
	struct eng_node *n;

	if ((n = eng_node_of(e, ino)) == NULL)
		return -ENOENT;
	switch (n->kind) {
	case ENG_K_ROOT: case ENG_K_SRCDIR: case ENG_K_JOBDIR: case ENG_K_INSTDIR:
	case ENG_K_STATUS:
		return eng_dir_entry(e, n, out);
	case ENG_K_FILE: case ENG_K_ERRFILE:
		return eng_defs_getattr(e, n, out);
	default:
		return eng_inst_getattr(e, n, out);
	}
}

int
eng_setattr(struct eng *e, uint64_t ino, uint64_t fh, const struct eng_setattr *sa,
    struct eng_entry *out)
{
	struct eng_node *n;

	if ((n = eng_node_of(e, ino)) == NULL)
		return -ENOENT;
	if ((sa->valid & ENG_SET_UID) && sa->uid != e->cfg.uid)
		return -EPERM;
	if ((sa->valid & ENG_SET_GID) && sa->gid != e->cfg.gid)
		return -EPERM;
	if (n->kind == ENG_K_FILE)
		return eng_defs_setattr(e, n, (struct eng_handle *)(uintptr_t)fh, sa, out);
	switch (n->kind) {
	case ENG_K_ROOT: case ENG_K_SRCDIR: case ENG_K_JOBDIR: case ENG_K_INSTDIR:
	case ENG_K_JOB: case ENG_K_INST:
		if (sa->valid & ENG_SET_SIZE)
			return -EISDIR;
		break;
	case ENG_K_JOB_CTL: case ENG_K_I_CTL:
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
	static const char *const names[] = { ".", "..", "sources", "jobs", "instances", "status" };
	struct eng_node *n;
	struct eng_dirent d;
	struct eng_entry ent;
	uint64_t i;

	if ((n = eng_node_of(e, ino)) == NULL)
		return -ENOENT;
	if (eng_in_defs(n))
		return eng_defs_readdir(e, ino, off, flags, fn, arg);
	if (eng_in_inst(n))
		return eng_inst_readdir(e, n, off, flags, fn, arg);
	if (n->kind != ENG_K_ROOT)
		return -ENOTDIR;
	for (i = off; i < sizeof(names) / sizeof(names[0]); i++) {
		memset(&d, 0, sizeof(d));
		d.name = names[i];
		d.ino = i < 2 ? ENG_INO_ROOT : ENG_INO_SOURCES + (i - 2);
		d.type = d.ino == ENG_INO_STATUS ? S_IFREG : S_IFDIR;
		d.next_off = i + 1;
		if (flags & ENG_READDIR_PLUS) {
			if (eng_dir_entry(e, e->fixed[d.ino], &ent) != 0)
				eng_fill_attr(e, &ent.attr, d.ino, S_IFREG | 0444, 0, e->start_ns);
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
	struct eng_node *n;

	if ((n = eng_node_of(e, ino)) == NULL)
		return -ENOENT;
	if (n->kind == ENG_K_FILE)
		return eng_defs_readlink(e, n, out);
	if (n->kind == ENG_K_JOB_LATEST)
		return eng_inst_readlink(e, n, out);
	return -EINVAL;
}

int
eng_mkdir(struct eng *e, uint64_t parent, const char *name, mode_t mode,
    struct eng_entry *out)
{
	struct eng_node *p;

	(void)mode;
	(void)out;
	(void)name;
	if ((p = eng_node_of(e, parent)) == NULL)
		return -ENOENT;
	if (eng_in_inst(p))
		return -EROFS;
	return -EPERM;
}

int
eng_rmdir(struct eng *e, uint64_t parent, const char *name)
{
	struct eng_node *p;

	if ((p = eng_node_of(e, parent)) == NULL)
		return -ENOENT;
	if (eng_in_inst(p))
		return eng_inst_rmdir(e, p, name);
	if (eng_in_defs(p))
		return -ENOTDIR;
	return -EPERM;
}

int
eng_unlink(struct eng *e, uint64_t parent, const char *name, pid_t pid)
{
	struct eng_node *p;

	if ((p = eng_node_of(e, parent)) == NULL)
		return -ENOENT;
	if (eng_in_defs(p))
		return eng_defs_unlink(e, parent, name, pid);
	if (eng_in_inst(p))
		return eng_inst_unlink(e, p, name);
	return -EPERM;
}

int
eng_symlink(struct eng *e, const char *target, uint64_t parent, const char *name,
    struct eng_entry *out)
{
	struct eng_node *p;

	if ((p = eng_node_of(e, parent)) == NULL)
		return -ENOENT;
	if (eng_in_defs(p))
		return eng_defs_symlink(e, target, parent, name, out);
	if (eng_in_inst(p))
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
	struct eng_node *p, *np;

	if ((p = eng_node_of(e, parent)) == NULL || (np = eng_node_of(e, newparent)) == NULL)
		return -ENOENT;
	if (flags & ENG_RENAME_EXCHANGE)
		return -EINVAL;
	if (flags & ~(unsigned)ENG_RENAME_NOREPLACE)
		return -EINVAL;
	if (eng_in_defs(p) && eng_in_defs(np))
		return eng_defs_rename(e, parent, name, newparent, newname, flags, pid);
	if (eng_in_inst(p) || eng_in_inst(np))
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

static struct eng_handle *
eng_handle_new(struct eng *e, struct eng_node *n, int flags, pid_t pid)
{
	struct eng_handle *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->node = n;
	h->flags = flags;
	h->pid = pid;
	buf_init(&h->snap, BUF_MAX_DOC);
	pthread_mutex_lock(&e->lock);
	n->nopen++;
	h->next = e->handles;
	if (e->handles != NULL)
		e->handles->prev = h;
	e->handles = h;
	pthread_mutex_unlock(&e->lock);
	return h;
}

static void
eng_handle_free(struct eng *e, struct eng_handle *h)
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
	h->node->nopen--;
	eng_ns_maybe_free(e, h->node);
	pthread_mutex_unlock(&e->lock);
	buf_free(&h->snap);
	free(h);
}

int
eng_open(struct eng *e, uint64_t ino, int flags, pid_t pid, struct eng_open *out)
{
	struct eng_handle *h = NULL;
	struct eng_node *n;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((n = eng_node_of(e, ino)) == NULL)
		return -ENOENT;
	switch (n->kind) {
	case ENG_K_ROOT: case ENG_K_SRCDIR: case ENG_K_JOBDIR: case ENG_K_INSTDIR:
	case ENG_K_JOB: case ENG_K_INST:
		return -EISDIR;
	case ENG_K_JOB_LATEST:
		return -ELOOP;
	default:
		break;
	}
	if ((h = eng_handle_new(e, n, flags, pid)) == NULL)
		return -ENOMEM;
	if (n->kind == ENG_K_FILE || n->kind == ENG_K_ERRFILE)
		rc = eng_defs_open(e, n, flags, h, out);
	else
		rc = eng_inst_open(e, n, flags, h, out);
	if (rc != 0) {
		eng_handle_free(e, h);
		return rc;
	}
	out->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

int
eng_create(struct eng *e, uint64_t parent, const char *name, mode_t mode, int flags,
    pid_t pid, struct eng_entry *out, struct eng_open *oi)
{
	struct eng_handle *h;
	struct eng_node *p, *n;
	bool truncated = false;
	int rc;

	memset(oi, 0, sizeof(*oi));
	if ((p = eng_node_of(e, parent)) == NULL)
		return -ENOENT;
	if (eng_in_inst(p))
		return -EROFS;
	if (!eng_in_defs(p))
		return -EPERM;
	if ((rc = eng_defs_create(e, parent, name, mode, flags, out, oi, &truncated)) != 0)
		return rc;
	/* the node exists and has a lookup reference: open it */
	if ((n = eng_node_of(e, out->attr.ino)) == NULL ||
	    (h = eng_handle_new(e, n, flags, pid)) == NULL) {
		eng_forget(e, out->attr.ino, 1);
		return -ENOMEM;
	}
	h->truncated = truncated;
	oi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

int
eng_read(struct eng *e, uint64_t fh, uint64_t off, size_t size, struct buf *out)
{
	struct eng_handle *h = (struct eng_handle *)(uintptr_t)fh;

	if (h == NULL)
		return -EBADF;
	if ((h->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	if (h->node->kind == ENG_K_FILE)
		return eng_defs_read(e, h, off, size, out);
	if (h->node->kind == ENG_K_ERRFILE)
		return off < h->snap.len ?
		    buf_add(out, h->snap.p + off, h->snap.len - off < size ? h->snap.len - off : size) : 0;
	return eng_inst_read(e, h, off, size, out);
}

int
eng_write(struct eng *e, uint64_t fh, uint64_t off, const void *data, size_t len,
    size_t *written)
{
	struct eng_handle *h = (struct eng_handle *)(uintptr_t)fh;
	int rc;

	*written = 0;
	if (h == NULL || (h->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (h->node->kind == ENG_K_FILE)
		rc = eng_defs_write(e, h, off, data, len);
	else if (h->node->kind == ENG_K_JOB_CTL || h->node->kind == ENG_K_I_CTL)
		rc = eng_inst_write(e, h, data, len);
	else
		rc = -EACCES;
	if (rc == 0)
		*written = len;
	return rc;
}

int
eng_flush(struct eng *e, uint64_t fh, pid_t pid)
{
	struct eng_handle *h = (struct eng_handle *)(uintptr_t)fh;

	if (h == NULL)
		return -EBADF;
	if (pid > 0)
		h->pid = pid;	/* read by this handle's commit only */
	return h->node->kind == ENG_K_FILE ? eng_defs_commit(e, h) : 0;
}

int
eng_fsync(struct eng *e, uint64_t fh, pid_t pid)
{
	return eng_flush(e, fh, pid);
}

int
eng_release(struct eng *e, uint64_t fh)
{
	struct eng_handle *h = (struct eng_handle *)(uintptr_t)fh;
	int rc;

	if (h == NULL)
		return -EBADF;
	/* a truncation nobody wrote after (": > x.json") is a change too; not
	 * at flush: bash's "echo x > f" flushes once between O_TRUNC and write */
	if (h->truncated && h->node->kind == ENG_K_FILE)
		h->wrote = true;
	rc = eng_flush(e, fh, 0);
	eng_handle_free(e, h);
	return rc;
}
