/* SPDX-License-Identifier: MIT */
/*
 * writer_txtfile.c - the `txtfile` writer (DataX txtfilewriter): one local
 * file per task under `path`, encoded by engine/plugins/csv.c.
 *
 * Parameters: path, fileName, and the option block shared with the oss
 * writer (file_output.h: writeMode truncate | append | nonConflict,
 * fileFormat csv | text, default text as DataX, fieldDelimiter,
 * lineDelimiter, encoding, nullFormat "null" by default as DataX's code,
 * dateFormat, header: first line of each file, suffix, compress refused).
 * writeMode as DataX: truncate deletes every file in `path` whose name
 * starts with fileName before the run; append keeps them; nonConflict fails
 * if any exists — except this instance's own files from an earlier attempt.
 * Deliberate difference: a task's file is named
 *   fileName "__" instance "_" task ["." suffix]
 * instead of fileName__<random UUID>, so a rerun replaces its own output.
 * Files are written to a hidden temporary name, fsync'ed, and renamed into
 * place at task_finish: a failed or killed run leaves no partial file.
 *
 * Other users on the machine (issue 14).  `path` is opened once, at
 * job_prepare, one component at a time from "/" (or the working directory)
 * with O_DIRECTORY|O_NOFOLLOW; every directory on the way must be owned by
 * this user (euid) or root and not be writable by group or others unless
 * it has the sticky bit (as /tmp: others cannot rename or remove what is
 * ours in it).  A symbolic link on the way is followed only when it is
 * owned by this user or root (as fs.protected_symlinks does in sticky
 * directories).  Everything afterwards goes through that directory's fd
 * (openat/renameat/unlinkat), so a directory swapped later changes nothing.
 * Temporary files are ".NAME.tmp-<16 random hex digits>", created with
 * O_CREAT|O_EXCL|O_NOFOLLOW (a new random name on EEXIST).  An output name
 * (fileName*) that is a symbolic link fails the run ("refusing to replace
 * the symbolic link ...") and is left as it is, with its target; the final
 * rename does not replace a name that appeared meanwhile unless it is a
 * regular file (renameat2 RENAME_NOREPLACE, then a fresh check).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "file_output.h"
#include "name.h"
#include "plugin.h"

#define TXT_FLUSH	((size_t)1 << 20)	/**< write(2) when the buffer reaches this */
#define TXT_TMP_TRIES	100			/**< random temp names tried */

struct txt_job {
	const struct plugin_env	*env;
	char			*path;
	char			*file_name;
	struct file_output	 fo;		/**< writeMode, format, header, suffix ... */
	int			 dfd;		/**< path, opened by job_prepare; -1 before */
	pthread_mutex_t		 lock;
	char		       **outputs;	/**< committed file names, protected by lock */
	size_t			 noutputs;
};

struct txt_task {
	struct txt_job	*job;
	struct csv	*csv;
	int		 fd;
	char		*tmp;		/**< temporary path, for messages */
	char		*tmpname;	/**< temporary file name in dfd */
	char		*final;		/**< final path, for messages */
	char		*name;		/**< final file name in dfd */
	struct buf	 out;
};

static void
txt_job_close(void *p)
{
	struct txt_job *j = p;
	size_t i;

	if (j == NULL)
		return;
	if (j->dfd >= 0)
		(void)close(j->dfd);
	free(j->path);
	free(j->file_name);
	file_output_free(&j->fo);
	for (i = 0; i < j->noutputs; i++)
		free(j->outputs[i]);
	free(j->outputs);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

static int
txt_job_open(const struct plugin_env *env, const struct json *param, void **out,
    struct eng_errbuf *eb)
{
	struct txt_job *j;
	int rc = -ENOMEM;

	*out = NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -ENOMEM;
	pthread_mutex_init(&j->lock, NULL);
	j->env = env;
	j->dfd = -1;
	if (plugin_param_str(param, "path", NULL) == NULL ||
	    plugin_param_str(param, "fileName", NULL) == NULL ||
	    plugin_param_str(param, "writeMode", NULL) == NULL) {
		rc = eng_errbuf_set(eb, ENG_EINVAL,
		    "txtfile writer: path, fileName and writeMode are required");
		goto out;
	}
	if ((j->path = strdup(plugin_param_str(param, "path", ""))) == NULL ||
	    (j->file_name = strdup(plugin_param_str(param, "fileName", ""))) == NULL)
		goto out;
	if (j->file_name[0] == '\0' || j->path[0] == '\0') {
		rc = eng_errbuf_set(eb, ENG_EINVAL,
		    "txtfile writer: path and fileName must not be empty");
		goto out;
	}
	if ((rc = name_field_check("txtfile writer", "path", NAME_F_PATH, j->path, eb)) != 0 ||
	    (rc = name_field_check("txtfile writer", "fileName", NAME_F_COMPONENT, j->file_name,
	    eb)) != 0)
		goto out;
	if ((rc = file_output_parse(env, param, "txtfile writer", &j->fo, eb)) != 0)
		goto out;
	*out = j;
	j = NULL;
	rc = 0;
out:
	txt_job_close(j);
	return rc;
}

/* is name one of this instance's own files? */
static int
txt_own(const struct txt_job *j, const char *name)
{
	size_t fl = strlen(j->file_name), il = strlen(j->env->instance);

	return strncmp(name, j->file_name, fl) == 0 &&
	    strncmp(name + fl, "__", 2) == 0 &&
	    strncmp(name + fl + 2, j->env->instance, il) == 0 &&
	    name[fl + 2 + il] == '_';
}

/*
 * May output go into the directory st (reached as the prefix dir of path)?
 * Owned by this user or root, and not writable by group or others unless
 * sticky.  Returns 0 or -EACCES (not retryable: a person must fix it).
 */
static int
txt_dir_trusted(const struct stat *st, const char *dir, struct eng_errbuf *eb)
{
	uid_t me = geteuid();

	if (!S_ISDIR(st->st_mode))
		return eng_errbuf_set(eb, -ENOTDIR, "txtfile writer: %s in \"path\" is not a "
		    "directory", dir);
	if (st->st_uid != me && st->st_uid != 0)
		return eng_errbuf_set(eb, -EACCES, "txtfile writer: refusing to write under %s: "
		    "it is owned by uid %u, not by this user (uid %u) or root, so its owner "
		    "could replace the output; chown it or choose another \"path\"", dir,
		    (unsigned)st->st_uid, (unsigned)me);
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st->st_mode & S_ISVTX) == 0)
		return eng_errbuf_set(eb, -EACCES, "txtfile writer: refusing to write under %s: "
		    "it is writable by %s (mode %04o) without the sticky bit, so another user "
		    "could replace the output; run chmod go-w %s (or chmod +t %s), or choose "
		    "another \"path\"", dir, (st->st_mode & S_IWOTH) ? "everyone" : "its group",
		    (unsigned)(st->st_mode & 07777), dir, dir);
	return 0;
}

/*
 * Open component comp of the directory fd (dir: the path so far, for
 * messages), creating it (0755) when missing and create is set.  A symbolic
 * link is followed only when owned by this user or root.
 */
static int
txt_dir_step(int fd, const char *comp, const char *dir, bool create, int *out,
    struct eng_errbuf *eb)
{
	const int fl = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
	struct stat st;
	int nfd;

	if ((nfd = openat(fd, comp, fl | O_NOFOLLOW)) < 0 && errno == ENOENT && create) {
		if (mkdirat(fd, comp, 0755) != 0 && errno != EEXIST)
			return eng_errbuf_set(eb, -errno, "txtfile writer: cannot create path '%s': "
			    "%s", dir, strerror(errno));
		nfd = openat(fd, comp, fl | O_NOFOLLOW);
	}
	if (nfd < 0 && (errno == ELOOP || errno == ENOTDIR) &&
	    fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
		if (st.st_uid != geteuid() && st.st_uid != 0)
			return eng_errbuf_set(eb, -EACCES, "txtfile writer: refusing to follow the "
			    "symbolic link %s in \"path\": it is owned by uid %u, not by this user "
			    "or root; replace it by a directory or choose another \"path\"", dir,
			    (unsigned)st.st_uid);
		nfd = openat(fd, comp, fl);
	}
	if (nfd < 0)
		return eng_errbuf_set(eb, -errno, "txtfile writer: cannot open path '%s': %s",
		    dir, strerror(errno));
	*out = nfd;
	return 0;
}

/*
 * txt_dir_open - open the directory path for output (see the top of the
 * file), creating its last component when missing.  *out: the fd.
 */
static int
txt_dir_open(const char *path, int *out, struct eng_errbuf *eb)
{
	char dir[4096];
	struct stat st;
	size_t i = 0, len = strlen(path), e;
	int fd, nfd = -1, rc;

	*out = -1;
	if (len >= sizeof(dir))
		return eng_errbuf_set(eb, -ENAMETOOLONG, "txtfile writer: path is too long");
	if ((fd = open(path[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return eng_errbuf_set(eb, -errno, "txtfile writer: cannot open path '%s': %s",
		    path, strerror(errno));
	(void)snprintf(dir, sizeof(dir), "%s", path[0] == '/' ? "/" : ".");
	for (;;) {
		if (fstat(fd, &st) != 0) {
			rc = eng_errbuf_set(eb, -errno, "txtfile writer: %s: %s", dir, strerror(errno));
			goto fail;
		}
		if ((rc = txt_dir_trusted(&st, dir, eb)) != 0)
			goto fail;
		while (i < len && path[i] == '/')
			i++;
		if (i == len)
			break;
		for (e = i; e < len && path[e] != '/'; e++)
			;
		memcpy(dir, path, e);
		dir[e] = '\0';
		{
			char comp[256];

			if (e - i >= sizeof(comp)) {
				rc = eng_errbuf_set(eb, -ENAMETOOLONG, "txtfile writer: a name in "
				    "path '%s' is too long", path);
				goto fail;
			}
			memcpy(comp, path + i, e - i);
			comp[e - i] = '\0';
			i = e;
			while (i < len && path[i] == '/')
				i++;
			rc = txt_dir_step(fd, comp, dir, i == len, &nfd, eb);
		}
		if (rc != 0)
			goto fail;
		(void)close(fd);
		fd = nfd;
	}
	*out = fd;
	return 0;
fail:
	(void)close(fd);
	return rc;
}

static int
txt_link_error(const struct txt_job *j, const char *name, struct eng_errbuf *eb)
{
	return eng_errbuf_set(eb, -ELOOP, "txtfile writer: refusing to replace the symbolic "
	    "link %s/%s (an output name must be a regular file; the link and its target "
	    "were left as they are): remove the link or choose another \"fileName\"",
	    j->path, name);
}

/* is the entry name of dfd a symbolic link?  Then refuse to touch it. */
static int
txt_refuse_link(const struct txt_job *j, const char *name, struct eng_errbuf *eb)
{
	struct stat st;

	if (fstatat(j->dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode))
		return 0;
	return txt_link_error(j, name, eb);
}

static int
txt_job_prepare(void *p, int ntasks, struct eng_errbuf *eb)
{
	struct txt_job *j = p;
	struct dirent *de;
	DIR *d;
	size_t fl = strlen(j->file_name);
	int rc = 0, n = 0, pass, fd;

	(void)ntasks;
	if ((rc = txt_dir_open(j->path, &j->dfd, eb)) != 0)
		return rc;
	if ((fd = dup(j->dfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		rc = eng_errbuf_set(eb, -errno, "txtfile writer: cannot open path '%s': %s",
		    j->path, strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		return rc;
	}
	/* pass 0 checks every name the run could touch, pass 1 deletes: a
	 * refusal leaves the directory as it was */
	for (pass = 0; pass < 2 && rc == 0; pass++) {
		rewinddir(d);
		while ((de = readdir(d)) != NULL && rc == 0) {
			if (strncmp(de->d_name, j->file_name, fl) != 0)
				continue;
			if (pass == 0 && j->fo.mode == FILE_MODE_NONCONFLICT &&
			    !txt_own(j, de->d_name)) {
				rc = eng_errbuf_set(eb, -EEXIST,
				    "txtfile writer: writeMode nonConflict: '%s' already contains "
				    "'%s' (files named %s*)", j->path, de->d_name, j->file_name);
			} else if (pass == 0)
				rc = txt_refuse_link(j, de->d_name, eb);
			else if (j->fo.mode == FILE_MODE_TRUNCATE) {
				if (unlinkat(j->dfd, de->d_name, 0) != 0 && errno != ENOENT)
					rc = eng_errbuf_set(eb, -errno, "txtfile writer: cannot delete "
					    "'%s/%s': %s", j->path, de->d_name, strerror(errno));
				else
					n++;
			}
		}
	}
	closedir(d);
	if (rc == 0 && n > 0)
		plugin_log(j->env, LOG_LVL_INFO, "txtfile writer: truncate deleted %d file%s "
		    "named %s* in %s", n, n == 1 ? "" : "s", j->file_name, j->path);
	return rc;
}

static int
txt_flush(struct txt_task *t, struct eng_errbuf *eb)
{
	size_t off = 0;

	while (off < t->out.len) {
		ssize_t w = write(t->fd, t->out.p + off, t->out.len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return eng_errbuf_set(eb, -errno, "txtfile writer: write %s: %s",
			    t->tmp, strerror(errno));
		}
		off += (size_t)w;
	}
	buf_reset(&t->out);
	return 0;
}

static void
txt_task_free(struct txt_task *t)
{
	if (t == NULL)
		return;
	if (t->fd >= 0)
		(void)close(t->fd);
	csv_free(t->csv);
	free(t->tmp);
	free(t->tmpname);
	free(t->final);
	free(t->name);
	buf_free(&t->out);
	free(t);
}

/* create the task's temporary file under a fresh random name */
static int
txt_tmp_create(struct txt_task *t, struct eng_errbuf *eb)
{
	const struct txt_job *j = t->job;
	unsigned char rnd[8];
	int k;

	for (k = 0; k < TXT_TMP_TRIES; k++) {
		free(t->tmpname);
		free(t->tmp);
		t->tmp = NULL;
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return eng_errbuf_set(eb, -EIO, "txtfile writer: no random bytes for a "
			    "temporary name: %s", strerror(errno));
		if (asprintf(&t->tmpname, ".%s.tmp-%02x%02x%02x%02x%02x%02x%02x%02x", t->name,
		    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]) < 0) {
			t->tmpname = NULL;
			return -ENOMEM;
		}
		if (asprintf(&t->tmp, "%s/%s", j->path, t->tmpname) < 0) {
			t->tmp = NULL;
			return -ENOMEM;
		}
		t->fd = openat(j->dfd, t->tmpname,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (t->fd >= 0)
			return 0;
		if (errno != EEXIST)
			return eng_errbuf_set(eb, -errno, "txtfile writer: cannot create %s: %s",
			    t->tmp, strerror(errno));
	}
	return eng_errbuf_set(eb, -EEXIST, "txtfile writer: %d random temporary names in %s "
	    "already exist", TXT_TMP_TRIES, j->path);
}

static int
txt_task_open(void *p, int task, void **out, struct eng_errbuf *eb)
{
	struct txt_job *j = p;
	struct txt_task *t;
	int rc = -ENOMEM;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	t->job = j;
	t->fd = -1;
	buf_init(&t->out, TXT_FLUSH * 4);
	if (asprintf(&t->name, "%s__%s_%d%s", j->file_name, j->env->instance, task,
	    j->fo.suffix) < 0) {
		t->name = NULL;
		goto out;
	}
	if (asprintf(&t->final, "%s/%s", j->path, t->name) < 0) {
		t->final = NULL;
		goto out;
	}
	if ((rc = csv_new(&j->fo.csv, &t->csv, eb)) != 0)
		goto out;
	if ((rc = txt_tmp_create(t, eb)) != 0)
		goto out;
	if (j->fo.nheader > 0 &&
	    (rc = csv_encode_strings(t->csv, (const char *const *)j->fo.header, j->fo.nheader,
	    &t->out)) != 0) {
		eng_errbuf_set(eb, rc, "txtfile writer: header cannot be encoded in %s",
		    j->fo.csv.encoding != NULL ? j->fo.csv.encoding : "UTF-8");
		goto out;
	}
	*out = t;
	t = NULL;
	rc = 0;
out:
	if (t != NULL && t->fd >= 0)
		(void)unlinkat(j->dfd, t->tmpname, 0);
	txt_task_free(t);
	return rc;
}

static int
txt_task_write(void *p, const struct record *r, size_t *bytes, struct eng_errbuf *eb)
{
	struct txt_task *t = p;
	size_t before = t->out.len;
	int rc;

	rc = csv_encode(t->csv, r, &t->out);
	if (rc == -EILSEQ) {
		eng_errbuf_set(eb, rc, "a value cannot be encoded in %s",
		    t->job->fo.csv.encoding != NULL ? t->job->fo.csv.encoding : "UTF-8");
		return rc;
	}
	if (rc != 0)
		return eng_errbuf_set(eb, rc, "txtfile writer: encoding failed: %s", eng_strerror(rc));
	*bytes = t->out.len - before;
	if (t->out.len >= TXT_FLUSH)
		return txt_flush(t, eb);
	return 0;
}

/*
 * Rename the temporary file onto the final name: never over a symbolic link
 * (checked, then RENAME_NOREPLACE while the name is free, so a link planted
 * between the check and the rename is not replaced either).
 */
static int
txt_commit(struct txt_task *t, struct eng_errbuf *eb)
{
	const struct txt_job *j = t->job;
	struct stat st;
	int k;

	for (k = 0; k < 3; k++) {
		if (fstatat(j->dfd, t->name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT)
				break;
			if (renameat2(j->dfd, t->tmpname, j->dfd, t->name, RENAME_NOREPLACE) == 0)
				return 0;
			if (errno == EEXIST)
				continue;	/* it appeared: look again */
			if (errno != EINVAL && errno != ENOSYS)
				break;
			/* no RENAME_NOREPLACE here (file system or kernel): plain rename,
			 * which replaces a name, never writes through it */
		} else if (S_ISLNK(st.st_mode))
			return txt_link_error(j, t->name, eb);
		if (renameat(j->dfd, t->tmpname, j->dfd, t->name) == 0)
			return 0;
		break;
	}
	if (k == 3)
		errno = EEXIST;
	return eng_errbuf_set(eb, -errno, "txtfile writer: rename to %s: %s", t->final,
	    strerror(errno));
}

static int
txt_task_finish(void *p, struct eng_errbuf *eb)
{
	struct txt_task *t = p;
	struct txt_job *j = t->job;
	char **no;
	int rc;

	if ((rc = txt_flush(t, eb)) != 0)
		goto fail;
	if (fsync(t->fd) != 0) {
		rc = eng_errbuf_set(eb, -errno, "txtfile writer: fsync %s: %s", t->tmp, strerror(errno));
		goto fail;
	}
	if ((rc = txt_commit(t, eb)) != 0)
		goto fail;
	(void)fsync(j->dfd);
	pthread_mutex_lock(&j->lock);
	no = realloc(j->outputs, (j->noutputs + 1) * sizeof(*no));
	if (no != NULL) {
		j->outputs = no;
		j->outputs[j->noutputs++] = t->name;
		t->name = NULL;
	}
	pthread_mutex_unlock(&j->lock);
	txt_task_free(t);
	return 0;
fail:
	(void)unlinkat(j->dfd, t->tmpname, 0);
	txt_task_free(t);
	return rc;
}

static void
txt_task_abort(void *p)
{
	struct txt_task *t = p;

	if (t == NULL)
		return;
	(void)unlinkat(t->job->dfd, t->tmpname, 0);
	txt_task_free(t);
}

static int
txt_job_output(void *p, size_t i, const char **name)
{
	struct txt_job *j = p;
	int rc = -ENOENT;

	pthread_mutex_lock(&j->lock);
	if (i < j->noutputs) {
		*name = j->outputs[i];
		rc = 0;
	}
	pthread_mutex_unlock(&j->lock);
	return rc;
}

const struct writer_ops writer_txtfile_ops = {
	.job_open	= txt_job_open,
	.job_prepare	= txt_job_prepare,
	.task_open	= txt_task_open,
	.task_write	= txt_task_write,
	.task_finish	= txt_task_finish,
	.task_abort	= txt_task_abort,
	.job_commit	= NULL,
	.job_output	= txt_job_output,
	.job_close	= txt_job_close,
};
