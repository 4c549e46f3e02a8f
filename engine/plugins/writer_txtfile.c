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
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "file_output.h"
#include "plugin.h"

#define TXT_FLUSH	((size_t)1 << 20)	/**< write(2) when the buffer reaches this */

struct txt_job {
	const struct plugin_env	*env;
	char			*path;
	char			*file_name;
	struct file_output	 fo;		/**< writeMode, format, header, suffix ... */
	pthread_mutex_t		 lock;
	char		       **outputs;	/**< committed file names, protected by lock */
	size_t			 noutputs;
};

struct txt_task {
	struct txt_job	*job;
	struct csv	*csv;
	int		 fd;
	char		*tmp;		/**< temporary path */
	char		*final;		/**< final path */
	char		*name;		/**< final file name */
	struct buf	 out;
};

static void
txt_job_close(void *p)
{
	struct txt_job *j = p;
	size_t i;

	if (j == NULL)
		return;
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
	if (j->file_name[0] == '\0' || strchr(j->file_name, '/') != NULL) {
		rc = eng_errbuf_set(eb, ENG_EINVAL,
		    "txtfile writer: fileName must be a non-empty name without '/'");
		goto out;
	}
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

static int
txt_job_prepare(void *p, int ntasks, struct eng_errbuf *eb)
{
	struct txt_job *j = p;
	struct dirent *de;
	DIR *d;
	size_t fl = strlen(j->file_name);
	int rc = 0, n = 0;

	(void)ntasks;
	if (mkdir(j->path, 0755) != 0 && errno != EEXIST)
		return eng_errbuf_set(eb, -errno, "txtfile writer: cannot create path '%s': %s",
		    j->path, strerror(errno));
	if ((d = opendir(j->path)) == NULL)
		return eng_errbuf_set(eb, -errno, "txtfile writer: cannot open path '%s': %s",
		    j->path, strerror(errno));
	while ((de = readdir(d)) != NULL && rc == 0) {
		char full[4096];

		if (strncmp(de->d_name, j->file_name, fl) != 0)
			continue;
		if (j->fo.mode == FILE_MODE_NONCONFLICT && !txt_own(j, de->d_name)) {
			rc = eng_errbuf_set(eb, -EEXIST,
			    "txtfile writer: writeMode nonConflict: '%s' already contains '%s' "
			    "(files named %s*)", j->path, de->d_name, j->file_name);
		} else if (j->fo.mode == FILE_MODE_TRUNCATE) {
			int k = snprintf(full, sizeof(full), "%s/%s", j->path, de->d_name);

			if (k < 0 || (size_t)k >= sizeof(full)) {
				rc = -ENAMETOOLONG;
				break;
			}
			if (unlink(full) != 0 && errno != ENOENT)
				rc = eng_errbuf_set(eb, -errno, "txtfile writer: cannot delete '%s': %s",
				    full, strerror(errno));
			else
				n++;
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
	free(t->final);
	free(t->name);
	buf_free(&t->out);
	free(t);
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
	if (asprintf(&t->tmp, "%s/.%s.tmp-%d", j->path, t->name, (int)getpid()) < 0) {
		t->tmp = NULL;
		goto out;
	}
	if ((rc = csv_new(&j->fo.csv, &t->csv, eb)) != 0)
		goto out;
	t->fd = open(t->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (t->fd < 0) {
		rc = eng_errbuf_set(eb, -errno, "txtfile writer: cannot create %s: %s",
		    t->tmp, strerror(errno));
		goto out;
	}
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
		(void)unlink(t->tmp);
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

static int
txt_task_finish(void *p, struct eng_errbuf *eb)
{
	struct txt_task *t = p;
	struct txt_job *j = t->job;
	char **no;
	int rc, dfd;

	if ((rc = txt_flush(t, eb)) != 0)
		goto fail;
	if (fsync(t->fd) != 0) {
		rc = eng_errbuf_set(eb, -errno, "txtfile writer: fsync %s: %s", t->tmp, strerror(errno));
		goto fail;
	}
	if (rename(t->tmp, t->final) != 0) {
		rc = eng_errbuf_set(eb, -errno, "txtfile writer: rename to %s: %s",
		    t->final, strerror(errno));
		goto fail;
	}
	if ((dfd = open(j->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		(void)close(dfd);
	}
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
	(void)unlink(t->tmp);
	txt_task_free(t);
	return rc;
}

static void
txt_task_abort(void *p)
{
	struct txt_task *t = p;

	if (t == NULL)
		return;
	(void)unlink(t->tmp);
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
