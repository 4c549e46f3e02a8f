/* SPDX-License-Identifier: MIT */
/*
 * spool.c - the upload spool (see spool.h): part-sized staging files under
 * a byte quota.  Owns the staging directory's *.spool files and the quota
 * accounting; knows nothing about OSS or records.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"
#include "sys.h"

#define SPOOL_SUFFIX	".spool"
#define SPOOL_LOCK	".lock"		/**< flock-held while a spool is open */
#define SPOOL_SLICE_MS	100	/**< waits re-check the cancel flag this often */

struct spool {
	char		*dir;
	uint64_t	 quota;
	uint32_t	 wait_ms;
	atomic_int	*cancel;
	int		 lockfd;	/**< DIR/.lock, flock(LOCK_EX) while open */
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	/* protected by lock: */
	uint64_t	 used;		/**< bytes reserved */
	uint64_t	 peak;
	uint64_t	 seq;		/**< file name counter */
	size_t		 nfiles;
};

struct spool_file {
	struct spool	*sp;
	int		 fd;
	char		*path;
	uint64_t	 cap;		/**< reserved bytes (shrinks at seal) */
	uint64_t	 size;		/**< bytes written, buffered included */
	char		*wbuf;		/**< NULL once sealed */
	size_t		 wlen;
	int		 sealed;
};

/* remove stale DIR/ *.spool; returns the count or -errno */
static int
spool_clean(const char *dir)
{
	struct dirent *de;
	DIR *d;
	size_t sl = strlen(SPOOL_SUFFIX);
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l <= sl || strcmp(de->d_name + l - sl, SPOOL_SUFFIX) != 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* take DIR/.lock: a second open spool on DIR is refused (-EBUSY) */
static int
spool_lock(struct spool *sp, struct eng_errbuf *eb)
{
	char path[4096];
	int k;

	sp->lockfd = -1;
	k = snprintf(path, sizeof(path), "%s/" SPOOL_LOCK, sp->dir);
	if (k < 0 || (size_t)k >= sizeof(path))
		return eng_errbuf_set(eb, -ENAMETOOLONG, "spool: directory name too long");
	if ((sp->lockfd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return eng_errbuf_set(eb, -errno, "spool: cannot create %s: %s", path,
		    strerror(errno));
	if (flock(sp->lockfd, LOCK_EX | LOCK_NB) != 0) {
		int rc = errno == EWOULDBLOCK ? -EBUSY : -errno;

		(void)close(sp->lockfd);
		sp->lockfd = -1;
		return eng_errbuf_set(eb, rc, "spool: %s is in use by another run", sp->dir);
	}
	return 0;
}

int
spool_sweep(const char *parent, size_t *removed)
{
	struct dirent *de;
	DIR *d;
	size_t n = 0;

	if (removed != NULL)
		*removed = 0;
	if ((d = opendir(parent)) == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) != NULL) {
		char sub[4096], lock[4200];
		int fd, k;

		if (de->d_name[0] == '.')
			continue;
		k = snprintf(sub, sizeof(sub), "%s/%s", parent, de->d_name);
		if (k < 0 || (size_t)k >= sizeof(sub))
			continue;
		k = snprintf(lock, sizeof(lock), "%s/" SPOOL_LOCK, sub);
		if (k < 0 || (size_t)k >= sizeof(lock))
			continue;
		if ((fd = open(lock, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;	/* not a spool directory */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			/* nobody holds it: the run that made it is gone */
			if (spool_clean(sub) > 0)
				n++;
			(void)unlink(lock);
			(void)rmdir(sub);
		}
		(void)close(fd);
	}
	closedir(d);
	if (removed != NULL)
		*removed = n;
	return 0;
}

int
spool_new(const struct spool_config *cfg, struct spool **out, struct eng_errbuf *eb)
{
	struct spool *sp;
	int rc;

	*out = NULL;
	if (cfg == NULL || cfg->dir == NULL || cfg->dir[0] == '\0')
		return eng_errbuf_set(eb, -EINVAL, "spool: no directory");
	if ((rc = sys_mkdir_p(cfg->dir, 0700)) != 0)
		return eng_errbuf_set(eb, rc, "spool: cannot create %s: %s", cfg->dir,
		    eng_strerror(rc));
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return -ENOMEM;
	if ((sp->dir = strdup(cfg->dir)) == NULL) {
		free(sp);
		return -ENOMEM;
	}
	if ((rc = spool_lock(sp, eb)) == 0 && (rc = spool_clean(cfg->dir)) < 0)
		eng_errbuf_set(eb, rc, "spool: cannot read %s: %s", cfg->dir, eng_strerror(rc));
	if (rc < 0) {
		if (sp->lockfd >= 0)
			(void)close(sp->lockfd);
		free(sp->dir);
		free(sp);
		return rc;
	}
	sp->quota = cfg->quota != 0 ? cfg->quota : SPOOL_QUOTA_DEFAULT;
	sp->wait_ms = cfg->wait_ms != 0 ? cfg->wait_ms : SPOOL_WAIT_DEFAULT;
	sp->cancel = cfg->cancel;
	pthread_mutex_init(&sp->lock, NULL);
	pthread_cond_init(&sp->cond, NULL);
	*out = sp;
	return 0;
}

void
spool_free(struct spool *sp)
{
	if (sp == NULL)
		return;
	pthread_cond_destroy(&sp->cond);
	pthread_mutex_destroy(&sp->lock);
	if (sp->lockfd >= 0)
		(void)close(sp->lockfd);	/* releases the flock */
	free(sp->dir);
	free(sp);
}

static int64_t
spool_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* reserve n bytes, waiting for space; called without the lock */
static int
spool_reserve(struct spool *sp, uint64_t n, struct eng_errbuf *eb)
{
	int64_t deadline = spool_now_ms() + sp->wait_ms;
	int rc = 0;

	if (n > sp->quota)
		return eng_errbuf_set(eb, -ENOSPC,
		    "spool: a %llu-byte part cannot fit the %llu-byte spool quota",
		    (unsigned long long)n, (unsigned long long)sp->quota);
	pthread_mutex_lock(&sp->lock);
	while (sp->used + n > sp->quota) {
		struct timespec ts;
		int64_t now = spool_now_ms();

		if (sp->cancel != NULL && atomic_load(sp->cancel) != 0) {
			rc = eng_errbuf_set(eb, ENG_EKILLED, "spool: cancelled while waiting for space");
			break;
		}
		if (now >= deadline) {
			rc = eng_errbuf_set(eb, -ETIMEDOUT,
			    "spool: quota of %llu bytes in %s still full after %u ms "
			    "(%llu bytes staged by uploads that do not finish)",
			    (unsigned long long)sp->quota, sp->dir, sp->wait_ms,
			    (unsigned long long)sp->used);
			break;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)SPOOL_SLICE_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&sp->cond, &sp->lock, &ts);
	}
	if (rc == 0) {
		sp->used += n;
		if (sp->used > sp->peak)
			sp->peak = sp->used;
		sp->nfiles++;
	}
	pthread_mutex_unlock(&sp->lock);
	return rc;
}

static void
spool_release(struct spool *sp, uint64_t n, int file)
{
	pthread_mutex_lock(&sp->lock);
	sp->used -= n <= sp->used ? n : sp->used;
	if (file && sp->nfiles > 0)
		sp->nfiles--;
	pthread_cond_broadcast(&sp->cond);
	pthread_mutex_unlock(&sp->lock);
}

int
spool_file_new(struct spool *sp, const char *tag, uint64_t cap,
    struct spool_file **out, struct eng_errbuf *eb)
{
	struct spool_file *f = NULL;
	char name[96], path[4096];
	uint64_t seq;
	size_t i;
	int rc, k;

	*out = NULL;
	if (cap == 0)
		return eng_errbuf_set(eb, -EINVAL, "spool: zero-sized file");
	if ((rc = spool_reserve(sp, cap, eb)) != 0)
		return rc;
	pthread_mutex_lock(&sp->lock);
	seq = ++sp->seq;
	pthread_mutex_unlock(&sp->lock);
	for (i = 0; tag != NULL && tag[i] != '\0' && i < 64; i++) {
		char c = tag[i];

		name[i] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-') ? c : '_';
	}
	name[i] = '\0';
	k = snprintf(path, sizeof(path), "%s/%s-%llu" SPOOL_SUFFIX, sp->dir,
	    name[0] != '\0' ? name : "part", (unsigned long long)seq);
	rc = -ENAMETOOLONG;
	if (k < 0 || (size_t)k >= sizeof(path))
		goto fail;
	rc = -ENOMEM;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		goto fail;
	f->sp = sp;
	f->cap = cap;
	f->fd = -1;
	if ((f->path = strdup(path)) == NULL)
		goto fail;
	if ((f->wbuf = malloc(SPOOL_WBUF)) == NULL)
		goto fail;
	/* a fresh name (stale files were removed at spool_new, seq is ours):
	 * never open what someone else put there, a link least of all */
	f->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f->fd < 0) {
		rc = eng_errbuf_set(eb, -errno, "spool: cannot create %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	*out = f;
	return 0;
fail:
	if (f != NULL) {
		free(f->wbuf);
		free(f->path);
		free(f);
	}
	spool_release(sp, cap, 1);
	return rc;
}

static int
spool_flush(struct spool_file *f)
{
	size_t off = 0;

	while (off < f->wlen) {
		ssize_t w = write(f->fd, f->wbuf + off, f->wlen - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)w;
	}
	f->wlen = 0;
	return 0;
}

int
spool_file_write(struct spool_file *f, const void *p, size_t n)
{
	const char *s = p;
	int rc;

	if (f->sealed)
		return ENG_ESTATE;
	if (n > f->cap - f->size)
		return -EFBIG;
	while (n > 0) {
		size_t k = SPOOL_WBUF - f->wlen;

		if (k == 0) {
			if ((rc = spool_flush(f)) != 0)
				return rc;
			continue;
		}
		if (k > n)
			k = n;
		memcpy(f->wbuf + f->wlen, s, k);
		f->wlen += k;
		f->size += k;
		s += k;
		n -= k;
	}
	return 0;
}

int
spool_file_seal(struct spool_file *f)
{
	int rc;

	if (f->sealed)
		return 0;
	if ((rc = spool_flush(f)) != 0)
		return rc;
	free(f->wbuf);
	f->wbuf = NULL;
	f->sealed = 1;
	if (f->cap > f->size) {
		spool_release(f->sp, f->cap - f->size, 0);
		f->cap = f->size;
	}
	return 0;
}

uint64_t
spool_file_size(const struct spool_file *f)
{
	return f->size;
}

uint64_t
spool_file_room(const struct spool_file *f)
{
	return f->sealed ? 0 : f->cap - f->size;
}

int
spool_file_fd(const struct spool_file *f)
{
	return f->fd;
}

const char *
spool_file_path(const struct spool_file *f)
{
	return f->path;
}

void
spool_file_free(struct spool_file *f)
{
	if (f == NULL)
		return;
	if (f->fd >= 0)
		(void)close(f->fd);
	(void)unlink(f->path);
	spool_release(f->sp, f->cap, 1);
	free(f->wbuf);
	free(f->path);
	free(f);
}

uint64_t
spool_used(struct spool *sp)
{
	uint64_t v;

	pthread_mutex_lock(&sp->lock);
	v = sp->used;
	pthread_mutex_unlock(&sp->lock);
	return v;
}

uint64_t
spool_peak(struct spool *sp)
{
	uint64_t v;

	pthread_mutex_lock(&sp->lock);
	v = sp->peak;
	pthread_mutex_unlock(&sp->lock);
	return v;
}

size_t
spool_files(struct spool *sp)
{
	size_t v;

	pthread_mutex_lock(&sp->lock);
	v = sp->nfiles;
	pthread_mutex_unlock(&sp->lock);
	return v;
}

uint64_t
spool_quota(const struct spool *sp)
{
	return sp->quota;
}
