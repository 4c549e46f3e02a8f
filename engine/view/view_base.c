/* SPDX-License-Identifier: MIT */
/*
 * view_base.c - what every part of the view shares (see view_i.h): the
 * clock and attributes, directory mtimes, who saved a file, names, the
 * sources runs read, the zones jobs are shown in, and the summaries'
 * change marks.  It calls no other file of the view but view_ns.c.
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
#include "name.h"
#include "tz.h"

/* ---- helpers ---------------------------------------------------------------- */

int64_t
view_now_ns(struct eng *e)
{
	struct timespec ts;

	if (e->cfg.now_ms != NULL)
		return e->cfg.now_ms(e->cfg.now_arg) * 1000000;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
view_fill_attr(struct eng *e, struct eng_attr *a, uint64_t ino, mode_t mode,
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

static const char *const view_dirm_names[VIEW_DIRM__COUNT] = {
	[VIEW_DIRM_ROOT] = "/", [VIEW_DIRM_SOURCES] = "sources", [VIEW_DIRM_JOBS] = "jobs",
	[VIEW_DIRM_INSTANCES] = "instances",
};

struct view_dirmq {
	struct eng	*e;
	int		 idx;		/* -1: load all */
	int64_t		 ms;
};

static size_t
view_dirm_key(int idx, char *key, size_t ksz)
{
	int n = snprintf(key, ksz, "dirm%c%s", '\0', view_dirm_names[idx]);

	return n > 0 && (size_t)n < ksz ? (size_t)n : 0;
}

static int
view_dirm_load_fn(struct store_txn *txn, void *arg)
{
	struct view_dirmq *q = arg;
	char key[32], num[24];
	const void *v;
	size_t klen, vlen;
	int i, rc;

	for (i = 0; i < VIEW_DIRM__COUNT; i++) {
		if ((klen = view_dirm_key(i, key, sizeof(key))) == 0)
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
view_dirm_put_fn(struct store_txn *txn, void *arg)
{
	struct view_dirmq *q = arg;
	char key[32], num[24];
	size_t klen;
	int n;

	if ((klen = view_dirm_key(q->idx, key, sizeof(key))) == 0)
		return -ENAMETOOLONG;
	n = snprintf(num, sizeof(num), "%lld", (long long)q->ms);
	if (n <= 0 || (size_t)n >= sizeof(num))
		return -EOVERFLOW;
	return store_put(txn, STORE_DB_META, key, klen, num, (size_t)n, 0);
}

/* Load the kept directory mtimes; the root's is set on first use. */
int
view_dirm_load(struct eng *e)
{
	struct view_dirmq q = { e, -1, 0 };
	int rc;

	if ((rc = store_view(e->store, view_dirm_load_fn, &q)) != 0)
		return rc;
	if (atomic_load(&e->dirm[VIEW_DIRM_ROOT]) == 0) {
		q.idx = VIEW_DIRM_ROOT;
		q.ms = e->start_ns / 1000000;
		if ((rc = store_update(e->store, view_dirm_put_fn, &q)) != 0)
			return rc;
		atomic_store(&e->dirm[VIEW_DIRM_ROOT], q.ms);
	}
	return 0;
}

int64_t
view_dirm_get(struct eng *e, enum view_dirm_idx idx)
{
	int64_t v = atomic_load(&e->dirm[idx]);

	return v > 0 ? v : atomic_load(&e->dirm[VIEW_DIRM_ROOT]);
}

void
view_dirm_touch(struct eng *e, enum view_dirm_idx idx)
{
	struct view_dirmq q = { e, (int)idx, view_now_ns(e) / 1000000 };
	int rc;

	if (q.ms <= atomic_load(&e->dirm[idx]))
		q.ms = atomic_load(&e->dirm[idx]) + 1;	/* every change moves it */
	atomic_store(&e->dirm[idx], q.ms);
	if ((rc = store_update(e->store, view_dirm_put_fn, &q)) != 0)
		log_warnx("cannot keep the mtime of %s: %s", view_dirm_names[idx], eng_strerror(rc));
	if (e->cfg.inval_inode != NULL) {
		pthread_mutex_lock(&e->lock);
		e->cfg.inval_inode(e->cfg.inval_arg, idx == VIEW_DIRM_ROOT ? ENG_INO_ROOT :
		    idx == VIEW_DIRM_SOURCES ? ENG_INO_SOURCES : idx == VIEW_DIRM_JOBS ?
		    ENG_INO_JOBS : ENG_INO_INSTANCES);
		if (idx == VIEW_DIRM_JOBS)	/* instances/ follows jobs/ */
			e->cfg.inval_inode(e->cfg.inval_arg, ENG_INO_INSTANCES);
		pthread_mutex_unlock(&e->lock);
	}
}

void
view_who(pid_t pid, char *out, size_t outsz)
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
view_name_ok(const char *name)
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
view_src_current(struct eng *e, const char *name)
{
	const struct conf_source *r = NULL;
	struct view_src *s;

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
view_src_lookup(void *arg, const char *name)
{
	return view_src_current(arg, name);
}

/* the running definitions' upstreams: a definition that is invalid now
 * still runs its last valid one, whose dependencies are the ones that count */
int
view_dep_lookup(void *arg, const char *name, char ***out, size_t *n)
{
	struct eng *e = arg;

	return sched_job_deps(e->sched, name, out, n);
}

int
view_src_set(struct eng *e, struct conf_source *src)
{
	struct view_src *n, *s;

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
view_zone_get(struct eng *e, const char *name)
{
	struct view_zone *z;

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
view_job_zone_set(struct eng *e, const char *job, const char *zone)
{
	struct view_jobzone *j;
	const struct tz *tz;
	int rc = 0;

	pthread_mutex_lock(&e->tzlock);
	if ((tz = view_zone_get(e, zone != NULL ? zone : "")) == NULL) {
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
view_job_tz(struct eng *e, const char *job)
{
	struct view_jobzone *j;
	const struct tz *tz = NULL;

	pthread_mutex_lock(&e->tzlock);
	for (j = e->jobzones; j != NULL; j = j->next)
		if (strcmp(j->job, job) == 0) {
			tz = j->tz;
			break;
		}
	if (tz == NULL)
		tz = view_zone_get(e, "");
	pthread_mutex_unlock(&e->tzlock);
	return tz;
}

/* a job's name: name.h's rule for definitions, the one the mount enforces
 * on jobs/NAME.json (view_defs.c); short enough for its store keys */
_Static_assert(NAME_DEF_MAX + 1 + STORE_CYCLE_LEN <= STORE_KEY_MAX - 8,
    "a job name fits in the store's instance keys");

bool
view_job_name_ok(const char *job)
{
	return name_def_ok(job, strlen(job));
}

/* ---- summaries ---------------------------------------------------------------- */

void
view_summary_changed(struct eng *e, const char *job)
{
	struct view_jsum *s;

	pthread_mutex_lock(&e->sumlock);
	e->sumgen++;
	for (s = e->sums; s != NULL; s = s->next)
		if (job == NULL || strcmp(s->job, job) == 0)
			s->gen++;
	pthread_mutex_unlock(&e->sumlock);
}
