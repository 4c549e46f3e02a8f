/* SPDX-License-Identifier: MIT */
/*
 * emu_oss_store.c - the on-disk object store of difs-emu's OSS side.
 *
 * Layout below DATA/oss (ROOT):
 *   ROOT/BUCKET/KEY                      object data as a plain file, so a
 *                                        user can look at exported files
 *   ROOT/.emu/tmp/                       temp files (same file system, so a
 *                                        rename publishes atomically)
 *   ROOT/.emu/buckets/BUCKET/meta/H      metadata record of key (H = MD5 hex
 *                                        of the key; the record holds the key)
 *   ROOT/.emu/buckets/BUCKET/side/H      data of keys that cannot be plain
 *                                        files: components "", ".", "..",
 *                                        names over 255 bytes, a trailing
 *                                        '/', or a clash between a file and a
 *                                        directory ("a" next to "a/b")
 *   ROOT/.emu/buckets/BUCKET/uploads/ID/ info + part files of multipart uploads
 * Bucket names cannot start with '.', so ".emu" never clashes with a bucket,
 * and no key ever resolves outside ROOT/BUCKET (unsafe keys go to side/).
 *
 * Every object and upload is also held in an in-memory index (sorted by key,
 * byte order) rebuilt from meta/ at start.  One mutex guards the index and
 * all renames; request bodies are written to temp files outside it, so the
 * lock is held only for the publish step (rename + metadata record).
 * Readers get an fd opened under the lock: they keep the old data when an
 * object is replaced after that.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc64.h"
#include "num.h"
#include "sign.h"
#include "sys.h"
#include "emu_oss_i.h"

#define MAX_OBJECT	((uint64_t)5 << 30)	/* 5 GiB */

struct st_bucket {
	char			 *name;
	time_t			  ctime;
	struct emu_oss_meta	**objs;		/* sorted by key */
	size_t			  nobj, capobj;
	struct emu_oss_upload	**ups;		/* in creation order */
	size_t			  nup, capup;
};

struct emu_oss_store {
	pthread_mutex_t		  lock;
	char			 *root;		/* DATA/oss */
	char			 *tmpdir;	/* ROOT/.emu/tmp */
	struct st_bucket	**b;		/* protected by lock */
	size_t			  nb, capb;
	uint64_t		  seq;		/* protected by lock */
	int			  sync;		/* fsync data before publishing */
};

static int
sdup(const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return 0;
	return (*out = strdup(s)) != NULL ? 0 : -ENOMEM;
}

void
emu_oss_upload_clear(struct emu_oss_upload *u)
{
	if (u == NULL)
		return;
	free(u->id);
	free(u->key);
	free(u->ctype);
	free(u->umeta);
	free(u->parts);
	memset(u, 0, sizeof(*u));
}

/* ---- small file helpers -------------------------------------------------- */

static int
mkpath(char *out, size_t outsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
mkpath(char *out, size_t outsz, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, outsz, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= outsz)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Create the parent directories of a tree object below base (ROOT/BUCKET)
 * without following anything that is not a real directory: a file, a
 * symlink or a special file on the way means "not here" (-ENOTDIR), so an
 * object can never be written outside the bucket directory.
 */
static int
mkdir_tree(const char *base, const char *dir)
{
	char tmp[PATH_MAX];
	size_t i, n = strlen(dir), bl = strlen(base);
	struct stat st;

	if (n >= sizeof(tmp) || strncmp(dir, base, bl) != 0 ||
	    (dir[bl] != '/' && dir[bl] != '\0'))
		return -EINVAL;
	memcpy(tmp, dir, n + 1);
	for (i = bl + 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (lstat(tmp, &st) == 0) {
			if (!S_ISDIR(st.st_mode))
				return -ENOTDIR;
		} else if (errno != ENOENT) {
			return -errno;
		} else if (mkdir(tmp, 0700) != 0) {
			return -errno;
		}
		if (i < n)
			tmp[i] = '/';
	}
	return 0;
}

static void
keyhash(const char *key, char out[33])
{
	uint8_t md5[16];

	emu_oss_md5(key, strlen(key), md5);
	emu_oss_hex(md5, 16, out, 0);
}

int
emu_oss_store_tmp_open(struct emu_oss_store *s, struct emu_oss_tmp *t)
{
	uint64_t seq;
	int rc;

	pthread_mutex_lock(&s->lock);
	seq = ++s->seq;
	pthread_mutex_unlock(&s->lock);
	if ((rc = mkpath(t->path, sizeof(t->path), "%s/t%ld-%llu", s->tmpdir,
	    (long)getpid(), (unsigned long long)seq)) != 0)
		return rc;
	t->fd = open(t->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	return t->fd < 0 ? -errno : 0;
}

void
emu_oss_tmp_discard(struct emu_oss_tmp *t)
{
	if (t == NULL)
		return;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->path[0] != '\0')
		unlink(t->path);
	t->path[0] = '\0';
}

/* flush (unless --sync off) and close the temp fd; the file stays for a rename */
static int
tmp_close(const struct emu_oss_store *s, struct emu_oss_tmp *t)
{
	int rc = 0;

	if (t->fd >= 0) {
		if (s->sync && fsync(t->fd) != 0)
			rc = -errno;
		if (close(t->fd) != 0 && rc == 0)
			rc = -errno;
	}
	t->fd = -1;
	return rc;
}

/* write a small file atomically through the tmp dir (lock held) */
static int
write_atomic(struct emu_oss_store *s, const char *path, const char *p, size_t n)
{
	char tmp[PATH_MAX];
	int fd, rc;

	if ((rc = mkpath(tmp, sizeof(tmp), "%s/m%ld-%llu", s->tmpdir,
	    (long)getpid(), (unsigned long long)++s->seq)) != 0)
		return rc;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -errno;
	rc = sys_write_all(fd, p, n);
	if (rc == 0 && s->sync && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(tmp);
	return rc;
}

/* ---- buckets --------------------------------------------------------------- */

static struct st_bucket *
bucket_find(struct emu_oss_store *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nb; i++)
		if (strcmp(s->b[i]->name, name) == 0)
			return s->b[i];
	return NULL;
}

static void
bucket_free(struct st_bucket *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nobj; i++) {
		emu_oss_meta_clear(b->objs[i]);
		free(b->objs[i]);
	}
	for (i = 0; i < b->nup; i++) {
		emu_oss_upload_clear(b->ups[i]);
		free(b->ups[i]);
	}
	free(b->objs);
	free(b->ups);
	free(b->name);
	free(b);
}

static int
grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *np;

	if (n < *cap)
		return 0;
	ncap = *cap != 0 ? *cap * 2 : 16;
	if ((np = realloc(*arr, ncap * elem)) == NULL)
		return -ENOMEM;
	*arr = np;
	*cap = ncap;
	return 0;
}

/* binary search: index of key or insertion point; *found */
static size_t
obj_search(const struct st_bucket *b, const char *key, int *found)
{
	size_t lo = 0, hi = b->nobj;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(b->objs[mid]->key, key);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
obj_put(struct st_bucket *b, struct emu_oss_meta *m)
{
	size_t i;
	int found;

	i = obj_search(b, m->key, &found);
	if (found) {
		emu_oss_meta_clear(b->objs[i]);
		free(b->objs[i]);
		b->objs[i] = m;
		return 0;
	}
	if (grow((void **)&b->objs, &b->capobj, b->nobj, sizeof(*b->objs)) != 0)
		return -ENOMEM;
	memmove(&b->objs[i + 1], &b->objs[i], (b->nobj - i) * sizeof(*b->objs));
	b->objs[i] = m;
	b->nobj++;
	return 0;
}

static int
bucket_add(struct emu_oss_store *s, const char *name, struct st_bucket **out)
{
	struct st_bucket *b;
	char path[PATH_MAX];
	struct stat st;

	if ((b = calloc(1, sizeof(*b))) == NULL || (b->name = strdup(name)) == NULL)
		goto nomem;
	if (mkpath(path, sizeof(path), "%s/.emu/buckets/%s", s->root, name) == 0 &&
	    stat(path, &st) == 0)
		b->ctime = st.st_mtime;
	else
		b->ctime = time(NULL);
	if (grow((void **)&s->b, &s->capb, s->nb, sizeof(*s->b)) != 0)
		goto nomem;
	s->b[s->nb++] = b;
	*out = b;
	return 0;
nomem:
	bucket_free(b);
	return -ENOMEM;
}

int
emu_oss_store_bucket_exists(struct emu_oss_store *s, const char *name)
{
	int r;

	pthread_mutex_lock(&s->lock);
	r = bucket_find(s, name) != NULL;
	pthread_mutex_unlock(&s->lock);
	return r;
}

int
emu_oss_store_bucket_create(struct emu_oss_store *s, const char *name)
{
	static const char *const sub[] = { "meta", "side", "uploads" };
	struct st_bucket *b;
	char path[PATH_MAX];
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	if (bucket_find(s, name) != NULL)
		goto out;
	if ((rc = mkpath(path, sizeof(path), "%s/%s", s->root, name)) != 0 ||
	    (rc = sys_mkdir_p(path, 0700)) != 0)
		goto out;
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		if ((rc = mkpath(path, sizeof(path), "%s/.emu/buckets/%s/%s",
		    s->root, name, sub[i])) != 0 ||
		    (rc = sys_mkdir_p(path, 0700)) != 0)
			goto out;
	rc = bucket_add(s, name, &b);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
emu_oss_store_bucket_delete(struct emu_oss_store *s, const char *name)
{
	static const char *const sub[] = { "meta", "side", "uploads", "" };
	struct st_bucket *b;
	char path[PATH_MAX];
	size_t i;
	int rc = -ENOENT;

	pthread_mutex_lock(&s->lock);
	if ((b = bucket_find(s, name)) == NULL)
		goto out;
	rc = -ENOTEMPTY;
	if (b->nobj > 0 || b->nup > 0)
		goto out;
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		if (mkpath(path, sizeof(path), "%s/.emu/buckets/%s/%s", s->root,
		    name, sub[i]) == 0)
			(void)rmdir(path);
	/* the user-visible directory goes only when nothing is left in it */
	if (mkpath(path, sizeof(path), "%s/%s", s->root, name) == 0)
		(void)rmdir(path);
	for (i = 0; i < s->nb; i++)
		if (s->b[i] == b)
			break;
	memmove(&s->b[i], &s->b[i + 1], (s->nb - i - 1) * sizeof(*s->b));
	s->nb--;
	bucket_free(b);
	rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

time_t
emu_oss_store_bucket_ctime(struct emu_oss_store *s, const char *name)
{
	struct st_bucket *b;
	time_t t = 0;

	pthread_mutex_lock(&s->lock);
	if ((b = bucket_find(s, name)) != NULL)
		t = b->ctime;
	pthread_mutex_unlock(&s->lock);
	return t;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
emu_oss_store_buckets(struct emu_oss_store *s, char ***names, size_t *n)
{
	char **v = NULL;
	size_t i;
	int rc = -ENOMEM;

	*names = NULL;
	*n = 0;
	pthread_mutex_lock(&s->lock);
	if (s->nb > 0 && (v = calloc(s->nb, sizeof(*v))) == NULL)
		goto out;
	for (i = 0; i < s->nb; i++)
		if ((v[i] = strdup(s->b[i]->name)) == NULL) {
			emu_oss_xml_strv_free(v, i);
			v = NULL;
			goto out;
		}
	if (s->nb > 0)
		qsort(v, s->nb, sizeof(*v), cmp_str);
	*names = v;
	*n = s->nb;
	rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ---- object placement ------------------------------------------------------ */

/* Can key live at ROOT/BUCKET/KEY without escaping or ambiguity? */
static int
key_tree_safe(const char *key)
{
	const char *c = key, *sl;

	if (*key == '\0' || strlen(key) > 3000)
		return 0;
	for (;;) {
		size_t n;

		sl = strchr(c, '/');
		n = sl != NULL ? (size_t)(sl - c) : strlen(c);
		if (n == 0 || n > 255 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (sl == NULL)
			return 1;
		c = sl + 1;
	}
}

static int
data_path(const struct emu_oss_store *s, const char *bucket, const char *key,
    int side, char *out, size_t outsz)
{
	char h[33];

	if (!side)
		return mkpath(out, outsz, "%s/%s/%s", s->root, bucket, key);
	keyhash(key, h);
	return mkpath(out, outsz, "%s/.emu/buckets/%s/side/%s", s->root, bucket, h);
}

static int
meta_path(const struct emu_oss_store *s, const char *bucket, const char *key,
    char *out, size_t outsz)
{
	char h[33];

	keyhash(key, h);
	return mkpath(out, outsz, "%s/.emu/buckets/%s/meta/%s", s->root, bucket, h);
}

/*
 * Choose where key's data goes and prepare parent directories (lock held).
 * Tree when the key is safe, no parent component is a file and the path is
 * not a directory; side otherwise.  cur_side: where it lives now (-1: new).
 */
static int
place(struct emu_oss_store *s, const char *bucket, const char *key,
    int cur_side, int *side, char *path, size_t pathsz)
{
	char dir[PATH_MAX], base[PATH_MAX], *sl;
	struct stat st;
	int rc;

	*side = 1;
	if (cur_side == 1 || !key_tree_safe(key))
		goto side;
	if (data_path(s, bucket, key, 0, path, pathsz) != 0)
		goto side;
	if (cur_side == 0) {
		*side = 0;
		return 0;
	}
	memcpy(dir, path, strlen(path) + 1);
	if ((sl = strrchr(dir, '/')) != NULL)
		*sl = '\0';
	if (mkpath(base, sizeof(base), "%s/%s", s->root, bucket) != 0 ||
	    mkdir_tree(base, dir) != 0)
		goto side;
	/* a directory of other keys or a stray file: not ours to replace */
	if (lstat(path, &st) == 0 || errno != ENOENT)
		goto side;
	*side = 0;
	return 0;
side:
	if ((rc = data_path(s, bucket, key, 1, path, pathsz)) != 0)
		return rc;
	*side = 1;
	return 0;
}

/* remove now-empty parent directories of a tree key (lock held) */
static void
prune_dirs(const struct emu_oss_store *s, const char *bucket, const char *key)
{
	char path[PATH_MAX], *sl;
	size_t base;

	if (mkpath(path, sizeof(path), "%s/%s/%s", s->root, bucket, key) != 0)
		return;
	base = strlen(s->root) + 1 + strlen(bucket);
	while ((sl = strrchr(path, '/')) != NULL && (size_t)(sl - path) > base) {
		*sl = '\0';
		if (rmdir(path) != 0)
			break;
	}
}

static int
meta_write(struct emu_oss_store *s, const char *bucket,
    const struct emu_oss_meta *m)
{
	char path[PATH_MAX];
	struct buf b;
	int rc;

	buf_init(&b, BUF_MAX_DOC);
	if ((rc = meta_path(s, bucket, m->key, path, sizeof(path))) == 0 &&
	    (rc = emu_oss_meta_encode(&b, m)) == 0)
		rc = write_atomic(s, path, b.p, b.len);
	buf_free(&b);
	return rc;
}

int
emu_oss_store_get(struct emu_oss_store *s, const char *bucket, const char *key,
    struct emu_oss_meta *m, int *fd)
{
	struct st_bucket *b;
	char path[PATH_MAX];
	size_t i;
	int found, rc = -ENOENT;

	if (fd != NULL)
		*fd = -1;
	pthread_mutex_lock(&s->lock);
	if ((b = bucket_find(s, bucket)) == NULL)
		goto out;
	i = obj_search(b, key, &found);
	if (!found)
		goto out;
	if (fd != NULL) {
		if ((rc = data_path(s, bucket, key, b->objs[i]->side, path,
		    sizeof(path))) != 0)
			goto out;
		if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			rc = -errno;
			goto out;
		}
	}
	if ((rc = emu_oss_meta_copy(m, b->objs[i])) != 0 && fd != NULL) {
		close(*fd);
		*fd = -1;
	}
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
emu_oss_store_commit(struct emu_oss_store *s, const char *bucket,
    struct emu_oss_tmp *tmp, const struct emu_oss_meta *in, int no_overwrite)
{
	struct emu_oss_meta *m = NULL;
	struct st_bucket *b;
	char path[PATH_MAX], old[PATH_MAX];
	size_t i;
	int found, side, cur = -1, rc;

	if ((rc = tmp_close(s, tmp)) != 0) {
		emu_oss_tmp_discard(tmp);
		return rc;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		emu_oss_tmp_discard(tmp);
		return -ENOMEM;
	}
	if ((rc = emu_oss_meta_copy(m, in)) != 0) {
		free(m);
		emu_oss_tmp_discard(tmp);
		return rc;
	}
	m->mtime = time(NULL);
	pthread_mutex_lock(&s->lock);
	rc = -ENOENT;
	if ((b = bucket_find(s, bucket)) == NULL)
		goto out;
	i = obj_search(b, m->key, &found);
	if (found && no_overwrite) {
		rc = -EEXIST;
		goto out;
	}
	if (found)
		cur = b->objs[i]->side;
	if ((rc = place(s, bucket, m->key, cur, &side, path, sizeof(path))) != 0)
		goto out;
	if (rename(tmp->path, path) != 0) {
		rc = -errno;
		goto out;
	}
	tmp->path[0] = '\0';
	if (cur >= 0 && cur != side &&
	    data_path(s, bucket, m->key, cur, old, sizeof(old)) == 0)
		unlink(old);
	m->side = side;
	if ((rc = meta_write(s, bucket, m)) != 0)
		goto out;
	rc = obj_put(b, m);
	if (rc == 0)
		m = NULL;
out:
	pthread_mutex_unlock(&s->lock);
	emu_oss_tmp_discard(tmp);
	if (m != NULL) {
		emu_oss_meta_clear(m);
		free(m);
	}
	return rc;
}

int
emu_oss_store_append(struct emu_oss_store *s, const char *bucket,
    const char *key, uint64_t pos, const void *p, size_t n,
    const struct emu_oss_meta *init, struct emu_oss_meta *out,
    uint64_t *next_pos)
{
	struct emu_oss_meta *m = NULL, *cur = NULL;
	struct st_bucket *b;
	char path[PATH_MAX], etagsrc[96], hexb[33];
	uint8_t md5[16], md5b[16];
	size_t i;
	int found, side, fd = -1, rc;

	pthread_mutex_lock(&s->lock);
	rc = -ENOENT;
	if ((b = bucket_find(s, bucket)) == NULL)
		goto out;
	i = obj_search(b, key, &found);
	if (found) {
		cur = b->objs[i];
		*next_pos = cur->size;
		if (cur->type != EMU_OSS_APPENDABLE) {
			rc = -EPERM;
			goto out;
		}
		if (pos != cur->size) {
			rc = -ESPIPE;
			goto out;
		}
	} else if (pos != 0) {
		*next_pos = 0;
		rc = -ESPIPE;
		goto out;
	}
	if ((cur != NULL ? cur->size : 0) + n > MAX_OBJECT) {
		rc = -EFBIG;
		goto out;
	}
	rc = -ENOMEM;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		goto out;
	if ((rc = emu_oss_meta_copy(m, cur != NULL ? cur : init)) != 0) {
		free(m);
		m = NULL;
		goto out;
	}
	if (cur == NULL) {
		free(m->key);
		if ((m->key = strdup(key)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		m->size = 0;
		m->crc64 = 0;
		m->etag[0] = '\0';
		m->type = EMU_OSS_APPENDABLE;
		if ((rc = place(s, bucket, key, -1, &side, path,
		    sizeof(path))) != 0)
			goto out;
		m->side = side;
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	} else {
		if ((rc = data_path(s, bucket, key, cur->side, path,
		    sizeof(path))) != 0)
			goto out;
		fd = open(path, O_WRONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (n > 0 && (pwrite(fd, p, n, (off_t)m->size) != (ssize_t)n)) {
		rc = errno != 0 ? -errno : -EIO;
		if (ftruncate(fd, (off_t)m->size) != 0)
			rc = -EIO;
		goto out;
	}
	if (s->sync && fsync(fd) != 0) {
		rc = -errno;
		if (ftruncate(fd, (off_t)m->size) != 0)
			rc = -EIO;
		goto out;
	}
	/* ETag of an appendable object: chained MD5 (not the content MD5) */
	emu_oss_md5(p, n, md5b);
	emu_oss_hex(md5b, 16, hexb, 1);
	snprintf(etagsrc, sizeof(etagsrc), "%s%s", hexb, m->etag);
	emu_oss_md5(etagsrc, strlen(etagsrc), md5);
	emu_oss_hex(md5, 16, m->etag, 1);
	m->crc64 = crc64_update(m->crc64, p, n);
	m->size += n;
	m->mtime = time(NULL);
	if ((rc = meta_write(s, bucket, m)) != 0) {
		if (ftruncate(fd, (off_t)(m->size - n)) != 0)
			rc = -EIO;
		goto out;
	}
	if ((rc = emu_oss_meta_copy(out, m)) != 0)
		goto out;
	rc = obj_put(b, m);
	if (rc == 0)
		m = NULL;
	*next_pos = out->size;
out:
	pthread_mutex_unlock(&s->lock);
	if (fd >= 0)
		close(fd);
	if (m != NULL) {
		emu_oss_meta_clear(m);
		free(m);
	}
	return rc;
}

int
emu_oss_store_delete(struct emu_oss_store *s, const char *bucket,
    const char *key)
{
	struct st_bucket *b;
	char path[PATH_MAX];
	size_t i;
	int found, side, rc = -ENOENT;

	pthread_mutex_lock(&s->lock);
	if ((b = bucket_find(s, bucket)) == NULL)
		goto out;
	rc = 0;
	i = obj_search(b, key, &found);
	if (!found)
		goto out;
	side = b->objs[i]->side;
	if (data_path(s, bucket, key, side, path, sizeof(path)) == 0)
		unlink(path);
	if (meta_path(s, bucket, key, path, sizeof(path)) == 0)
		unlink(path);
	if (!side)
		prune_dirs(s, bucket, key);
	emu_oss_meta_clear(b->objs[i]);
	free(b->objs[i]);
	memmove(&b->objs[i], &b->objs[i + 1], (b->nobj - i - 1) * sizeof(*b->objs));
	b->nobj--;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
emu_oss_store_list(struct emu_oss_store *s, const char *bucket,
    const char *prefix, const char *after, emu_oss_list_fn *cb, void *arg)
{
	struct st_bucket *b;
	size_t i, plen = prefix != NULL ? strlen(prefix) : 0;
	int found, rc = -ENOENT;

	pthread_mutex_lock(&s->lock);
	if ((b = bucket_find(s, bucket)) == NULL)
		goto out;
	rc = 0;
	i = 0;
	if (after != NULL && *after != '\0') {
		i = obj_search(b, after, &found);
		if (found)
			i++;
	}
	if (plen > 0 && (after == NULL || strcmp(after, prefix) < 0)) {
		size_t j = obj_search(b, prefix, &found);

		if (j > i)
			i = j;
	}
	for (; i < b->nobj; i++) {
		const struct emu_oss_meta *m = b->objs[i];

		if (plen > 0 && strncmp(m->key, prefix, plen) != 0) {
			if (strcmp(m->key, prefix) > 0)
				break;
			continue;
		}
		if ((rc = cb(arg, m)) != 0)
			break;
	}
	if (rc > 0)
		rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ---- multipart uploads ------------------------------------------------------ */

static struct emu_oss_upload *
up_find(struct st_bucket *b, const char *id, size_t *idx)
{
	size_t i;

	for (i = 0; i < b->nup; i++)
		if (strcmp(b->ups[i]->id, id) == 0) {
			if (idx != NULL)
				*idx = i;
			return b->ups[i];
		}
	return NULL;
}

static int
up_dir(const struct emu_oss_store *s, const char *bucket, const char *id,
    char *out, size_t outsz)
{
	return mkpath(out, outsz, "%s/.emu/buckets/%s/uploads/%s", s->root,
	    bucket, id);
}

static int
up_info_write(struct emu_oss_store *s, const char *bucket,
    const struct emu_oss_upload *u)
{
	struct emu_oss_meta m;
	char path[PATH_MAX];
	struct buf b;
	int rc;

	memset(&m, 0, sizeof(m));
	m.key = u->key;
	m.ctype = u->ctype;
	m.umeta = u->umeta;
	m.mtime = u->initiated;
	buf_init(&b, BUF_MAX_DOC);
	if ((rc = up_dir(s, bucket, u->id, path, sizeof(path))) == 0 &&
	    (rc = sys_mkdir_p(path, 0700)) == 0 &&
	    (rc = mkpath(path, sizeof(path), "%s/.emu/buckets/%s/uploads/%s/info",
	    s->root, bucket, u->id)) == 0 &&
	    (rc = emu_oss_meta_encode(&b, &m)) == 0)
		rc = write_atomic(s, path, b.p, b.len);
	buf_free(&b);
	return rc;
}

int
emu_oss_store_mp_init(struct emu_oss_store *s, const char *bucket,
    const char *key, const char *ctype, const char *umeta, char **id_out)
{
	struct emu_oss_upload *u = NULL;
	struct st_bucket *b;
	uint8_t md5[16];
	char src[96], id[33];
	int rc = -ENOENT;

	*id_out = NULL;
	pthread_mutex_lock(&s->lock);
	if ((b = bucket_find(s, bucket)) == NULL)
		goto out;
	snprintf(src, sizeof(src), "%lld/%ld/%llu/%s", (long long)time(NULL),
	    (long)getpid(), (unsigned long long)++s->seq, bucket);
	emu_oss_md5(src, strlen(src), md5);
	emu_oss_hex(md5, 16, id, 1);
	rc = -ENOMEM;
	if ((u = calloc(1, sizeof(*u))) == NULL || (u->id = strdup(id)) == NULL ||
	    (u->key = strdup(key)) == NULL || sdup(ctype, &u->ctype) != 0 ||
	    sdup(umeta, &u->umeta) != 0)
		goto out;
	u->initiated = time(NULL);
	if ((rc = grow((void **)&b->ups, &b->capup, b->nup, sizeof(*b->ups))) != 0)
		goto out;
	if ((rc = up_info_write(s, bucket, u)) != 0)
		goto out;
	if ((*id_out = strdup(id)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	b->ups[b->nup++] = u;
	u = NULL;
	rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	emu_oss_upload_clear(u);
	free(u);
	return rc;
}

static int
up_copy(struct emu_oss_upload *d, const struct emu_oss_upload *u)
{
	memset(d, 0, sizeof(*d));
	d->initiated = u->initiated;
	if (sdup(u->id, &d->id) != 0 || sdup(u->key, &d->key) != 0 ||
	    sdup(u->ctype, &d->ctype) != 0 || sdup(u->umeta, &d->umeta) != 0)
		goto nomem;
	if (u->nparts > 0) {
		if ((d->parts = calloc(u->nparts, sizeof(*d->parts))) == NULL)
			goto nomem;
		memcpy(d->parts, u->parts, u->nparts * sizeof(*d->parts));
		d->nparts = u->nparts;
	}
	return 0;
nomem:
	emu_oss_upload_clear(d);
	return -ENOMEM;
}

int
emu_oss_store_mp_get(struct emu_oss_store *s, const char *bucket,
    const char *key, const char *id, struct emu_oss_upload *out)
{
	struct emu_oss_upload *u;
	struct st_bucket *b;
	int rc = -ENOENT;

	pthread_mutex_lock(&s->lock);
	if ((b = bucket_find(s, bucket)) != NULL &&
	    (u = up_find(b, id, NULL)) != NULL &&
	    (key == NULL || strcmp(u->key, key) == 0))
		rc = up_copy(out, u);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int
part_meta_write(struct emu_oss_store *s, const char *bucket, const char *id,
    const struct emu_oss_part *p)
{
	struct emu_oss_meta m;
	char path[PATH_MAX], num[16];
	struct buf b;
	int rc;

	snprintf(num, sizeof(num), "%u", p->number);
	memset(&m, 0, sizeof(m));
	m.key = num;
	m.size = p->size;
	memcpy(m.etag, p->etag, sizeof(p->etag));
	m.crc64 = p->crc64;
	m.mtime = p->mtime;
	buf_init(&b, BUF_MAX_SMALL);
	if ((rc = mkpath(path, sizeof(path),
	    "%s/.emu/buckets/%s/uploads/%s/%u.m", s->root, bucket, id,
	    p->number)) == 0 && (rc = emu_oss_meta_encode(&b, &m)) == 0)
		rc = write_atomic(s, path, b.p, b.len);
	buf_free(&b);
	return rc;
}

static int
part_put(struct emu_oss_upload *u, const struct emu_oss_part *p)
{
	struct emu_oss_part *np;
	size_t i;

	for (i = 0; i < u->nparts && u->parts[i].number < p->number; i++)
		;
	if (i < u->nparts && u->parts[i].number == p->number) {
		u->parts[i] = *p;
		return 0;
	}
	if ((np = realloc(u->parts, (u->nparts + 1) * sizeof(*np))) == NULL)
		return -ENOMEM;
	u->parts = np;
	memmove(&np[i + 1], &np[i], (u->nparts - i) * sizeof(*np));
	np[i] = *p;
	u->nparts++;
	return 0;
}

int
emu_oss_store_mp_part(struct emu_oss_store *s, const char *bucket,
    const char *key, const char *id, struct emu_oss_tmp *tmp,
    const struct emu_oss_part *p)
{
	struct emu_oss_upload *u;
	struct st_bucket *b;
	char path[PATH_MAX];
	int rc = -ENOENT;

	if ((rc = tmp_close(s, tmp)) != 0) {
		emu_oss_tmp_discard(tmp);
		return rc;
	}
	rc = -ENOENT;
	pthread_mutex_lock(&s->lock);
	if ((b = bucket_find(s, bucket)) == NULL ||
	    (u = up_find(b, id, NULL)) == NULL || strcmp(u->key, key) != 0)
		goto out;
	if ((rc = mkpath(path, sizeof(path), "%s/.emu/buckets/%s/uploads/%s/%u",
	    s->root, bucket, id, p->number)) != 0)
		goto out;
	if (rename(tmp->path, path) != 0) {
		rc = -errno;
		goto out;
	}
	tmp->path[0] = '\0';
	if ((rc = part_meta_write(s, bucket, id, p)) != 0)
		goto out;
	rc = part_put(u, p);
out:
	pthread_mutex_unlock(&s->lock);
	emu_oss_tmp_discard(tmp);
	return rc;
}

int
emu_oss_store_mp_open_part(struct emu_oss_store *s, const char *bucket,
    const char *id, uint32_t n, int *fd)
{
	char path[PATH_MAX];
	int rc;

	*fd = -1;
	if ((rc = mkpath(path, sizeof(path), "%s/.emu/buckets/%s/uploads/%s/%u",
	    s->root, bucket, id, n)) != 0)
		return rc;
	if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	return 0;
}

static void
rm_dir_files(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (mkpath(path, sizeof(path), "%s/%s", dir, de->d_name) == 0)
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

int
emu_oss_store_mp_remove(struct emu_oss_store *s, const char *bucket,
    const char *key, const char *id)
{
	struct emu_oss_upload *u;
	struct st_bucket *b;
	char dir[PATH_MAX];
	size_t i = 0;
	int rc = -ENOENT;

	pthread_mutex_lock(&s->lock);
	if ((b = bucket_find(s, bucket)) == NULL ||
	    (u = up_find(b, id, &i)) == NULL ||
	    (key != NULL && strcmp(u->key, key) != 0))
		goto out;
	if (up_dir(s, bucket, id, dir, sizeof(dir)) == 0)
		rm_dir_files(dir);
	emu_oss_upload_clear(u);
	free(u);
	memmove(&b->ups[i], &b->ups[i + 1], (b->nup - i - 1) * sizeof(*b->ups));
	b->nup--;
	rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int
cmp_up(const void *a, const void *b)
{
	const struct emu_oss_upload *x = *(const struct emu_oss_upload *const *)a;
	const struct emu_oss_upload *y = *(const struct emu_oss_upload *const *)b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	if (x->initiated != y->initiated)
		return x->initiated < y->initiated ? -1 : 1;
	return strcmp(x->id, y->id);
}

int
emu_oss_store_mp_list(struct emu_oss_store *s, const char *bucket,
    emu_oss_mplist_fn *cb, void *arg)
{
	struct emu_oss_upload **v = NULL;
	struct st_bucket *b;
	size_t i;
	int rc = -ENOENT;

	pthread_mutex_lock(&s->lock);
	if ((b = bucket_find(s, bucket)) == NULL)
		goto out;
	rc = -ENOMEM;
	if (b->nup > 0 && (v = calloc(b->nup, sizeof(*v))) == NULL)
		goto out;
	rc = 0;
	if (b->nup > 0) {
		memcpy(v, b->ups, b->nup * sizeof(*v));
		qsort(v, b->nup, sizeof(*v), cmp_up);
	}
	for (i = 0; i < b->nup; i++)
		if ((rc = cb(arg, v[i])) != 0)
			break;
	if (rc > 0)
		rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	free(v);
	return rc;
}

/* ---- open: rebuild the index from the sidecar ------------------------------- */

static int
load_upload(struct emu_oss_store *s, struct st_bucket *b, const char *id)
{
	struct emu_oss_upload *u = NULL;
	struct emu_oss_meta m;
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	struct buf fb;
	DIR *d = NULL;
	int rc;

	buf_init(&fb, BUF_MAX_DOC);
	memset(&m, 0, sizeof(m));
	if ((rc = up_dir(s, b->name, id, dir, sizeof(dir))) != 0 ||
	    (rc = mkpath(path, sizeof(path), "%s/info", dir)) != 0 ||
	    (rc = sys_read_file(path, 0, &fb)) != 0 ||
	    (rc = emu_oss_meta_decode(fb.p, fb.len, &m)) != 0)
		goto out;	/* a half-made upload: ignored */
	rc = -ENOMEM;
	if ((u = calloc(1, sizeof(*u))) == NULL || (u->id = strdup(id)) == NULL)
		goto out;
	u->key = m.key;
	u->ctype = m.ctype;
	u->umeta = m.umeta;
	u->initiated = m.mtime;
	memset(&m, 0, sizeof(m));
	if ((d = opendir(dir)) == NULL) {
		rc = -errno;
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		struct emu_oss_part p;
		size_t nl = strlen(de->d_name);
		uint64_t num;

		if (nl < 3 || strcmp(de->d_name + nl - 2, ".m") != 0)
			continue;
		buf_reset(&fb);
		if (mkpath(path, sizeof(path), "%s/%s", dir, de->d_name) != 0 ||
		    sys_read_file(path, 0, &fb) != 0 ||
		    emu_oss_meta_decode(fb.p, fb.len, &m) != 0)
			continue;
		memset(&p, 0, sizeof(p));
		if (num_u64(m.key, (size_t)-1, UINT64_MAX, &num) == 0 && num >= 1 &&
		    num <= EMU_OSS_MAX_PARTNO && strlen(m.etag) == 32) {
			size_t k;

			p.number = (uint32_t)num;
			p.size = m.size;
			p.crc64 = m.crc64;
			p.mtime = m.mtime;
			memcpy(p.etag, m.etag, 33);
			for (k = 0; k < 16; k++) {
				static const char hx[] = "0123456789ABCDEF";
				const char *hi = strchr(hx, m.etag[2 * k]);
				const char *lo = strchr(hx, m.etag[2 * k + 1]);

				p.md5[k] = (uint8_t)(((hi != NULL ? hi - hx : 0) << 4) |
				    (lo != NULL ? lo - hx : 0));
			}
			if ((rc = part_put(u, &p)) != 0) {
				emu_oss_meta_clear(&m);
				goto out;
			}
		}
		emu_oss_meta_clear(&m);
	}
	if ((rc = grow((void **)&b->ups, &b->capup, b->nup, sizeof(*b->ups))) != 0)
		goto out;
	b->ups[b->nup++] = u;
	u = NULL;
	rc = 0;
out:
	if (d != NULL)
		closedir(d);
	emu_oss_meta_clear(&m);
	emu_oss_upload_clear(u);
	free(u);
	buf_free(&fb);
	return rc == -ENOMEM ? rc : 0;
}

/*
 * The data file's size differs from the record (lock not needed: start-up).
 * An appendable object longer than recorded lost the end of an append that
 * never completed: cut it back.  Anything else was edited by a user: adopt
 * the file as a Normal object with a fresh ETag and CRC-64.
 */
static int
reconcile(struct emu_oss_store *s, const char *bucket, const char *path,
    const struct stat *st, struct emu_oss_meta *m)
{
	struct sign_hash *h = NULL;
	uint8_t md5[16];
	char tmp[1 << 16];
	uint64_t crc = 0;
	int fd = -1, rc;

	if (m->type == EMU_OSS_APPENDABLE && (uint64_t)st->st_size > m->size)
		return truncate(path, (off_t)m->size) == 0 ? 0 : -errno;
	if ((rc = sign_hash_new(SIGN_HASH_MD5, &h)) != 0)
		return rc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, tmp, sizeof(tmp));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		crc = crc64_update(crc, tmp, (size_t)r);
		if ((rc = sign_hash_update(h, tmp, (size_t)r)) != 0)
			goto out;
	}
	if ((rc = sign_hash_final(h, md5, sizeof(md5))) != 0)
		goto out;
	emu_oss_hex(md5, 16, m->etag, 1);
	m->crc64 = crc;
	m->size = (uint64_t)st->st_size;
	m->mtime = st->st_mtime;
	m->type = EMU_OSS_NORMAL;
	rc = meta_write(s, bucket, m);
out:
	if (fd >= 0)
		close(fd);
	sign_hash_free(h);
	return rc;
}

static int
load_bucket(struct emu_oss_store *s, const char *name)
{
	struct st_bucket *b;
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	struct buf fb;
	DIR *d;
	int rc;

	if ((rc = bucket_add(s, name, &b)) != 0)
		return rc;
	buf_init(&fb, BUF_MAX_DOC);
	if (mkpath(dir, sizeof(dir), "%s/.emu/buckets/%s/meta", s->root, name) == 0 &&
	    (d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			struct emu_oss_meta *m;
			struct stat st;

			if (de->d_name[0] == '.')
				continue;
			buf_reset(&fb);
			if (mkpath(path, sizeof(path), "%s/%s", dir, de->d_name) != 0 ||
			    sys_read_file(path, 0, &fb) != 0)
				continue;
			if ((m = calloc(1, sizeof(*m))) == NULL) {
				rc = -ENOMEM;
				break;
			}
			if (emu_oss_meta_decode(fb.p, fb.len, m) != 0 ||
			    data_path(s, name, m->key, m->side, path,
			    sizeof(path)) != 0 || stat(path, &st) != 0 ||
			    !S_ISREG(st.st_mode) ||
			    ((uint64_t)st.st_size != m->size &&
			    reconcile(s, name, path, &st, m) != 0)) {
				/* data gone behind our back: forget the object */
				emu_oss_meta_clear(m);
				free(m);
				continue;
			}
			if ((rc = obj_put(b, m)) != 0) {
				emu_oss_meta_clear(m);
				free(m);
				break;
			}
		}
		closedir(d);
	}
	if (rc == 0 && mkpath(dir, sizeof(dir), "%s/.emu/buckets/%s/uploads",
	    s->root, name) == 0 && (d = opendir(dir)) != NULL) {
		while (rc == 0 && (de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				rc = load_upload(s, b, de->d_name);
		closedir(d);
	}
	buf_free(&fb);
	return rc;
}

void
emu_oss_store_close(struct emu_oss_store *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nb; i++)
		bucket_free(s->b[i]);
	free(s->b);
	free(s->root);
	free(s->tmpdir);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int
emu_oss_store_open(const char *data_dir, int sync, struct emu_oss_store **out)
{
	struct emu_oss_store *s;
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = -ENOMEM;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->sync = sync;
	if ((rc = mkpath(path, sizeof(path), "%s/oss", data_dir)) != 0)
		goto out;
	rc = -ENOMEM;
	if ((s->root = strdup(path)) == NULL)
		goto out;
	if ((rc = mkpath(path, sizeof(path), "%s/.emu/tmp", s->root)) != 0)
		goto out;
	rc = -ENOMEM;
	if ((s->tmpdir = strdup(path)) == NULL)
		goto out;
	if ((rc = sys_mkdir_p(s->tmpdir, 0700)) != 0)
		goto out;
	/* leftovers of a previous run (a crash mid-upload) */
	rm_dir_files(s->tmpdir);
	if ((rc = sys_mkdir_p(s->tmpdir, 0700)) != 0)
		goto out;
	if ((rc = mkpath(path, sizeof(path), "%s/.emu/buckets", s->root)) != 0 ||
	    (rc = sys_mkdir_p(path, 0700)) != 0)
		goto out;
	if ((d = opendir(path)) == NULL) {
		rc = -errno;
		goto out;
	}
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (emu_oss_bucket_valid(de->d_name))
			rc = load_bucket(s, de->d_name);
	closedir(d);
	if (rc != 0)
		goto out;
	*out = s;
	s = NULL;
out:
	emu_oss_store_close(s);
	return rc;
}
