/* SPDX-License-Identifier: MIT */
/*
 * writer_oss.c - the `oss` writer (DataX osswriter, contrib/doc/oss.md 4):
 * records encoded by engine/plugins/csv.c, staged in the upload spool
 * (cache/spool.h) and written to OSS as multipart uploads
 * (writer_oss_up.c).
 *
 * Parameters (DataX's meaning): the connection (datasource, or inline
 * endpoint / accessId / accessKey / securityToken / bucket + region,
 * signatureVersion "v1"/"v4") arrives as the run's snapshot of the source,
 * env->source; object (name prefix); the option block shared with the
 * txtfile writer (file_output.h: writeMode truncate | append | nonConflict,
 * fileFormat csv | text, default text, fieldDelimiter, lineDelimiter,
 * encoding, nullFormat, default the literal "null" as DataX's code,
 * dateFormat, header: first line of every object, suffix; compress is
 * refused: OSS writes do not support compression, as DataX);
 * byteEncoding ("base64"), maxFileSize (MB, default 100000: rollover),
 * blockSizeInMB (part size), writeSingleObject, generateEmptyFile (default
 * true), encrypt (x-oss-server-side-encryption: AES256).  partition and a
 * non-empty csvWriterConfig are refused as not supported.
 *
 * writeMode, as DataX (contrib/doc/oss.md 4.2): truncate deletes every object
 * whose name starts with `object` (a prefix match: "abc" also deletes "abc123")
 * before the run; append deletes nothing; nonConflict fails when any object has
 * the prefix.  writeSingleObject: truncate deletes the one object, append
 * is refused, nonConflict fails if it exists.
 *
 * Deliberate differences from DataX (the README lists them):
 *  - Object names are deterministic instead of object__<random UUID>:
 *        object "__" instance "_" task ["_" n] [suffix]
 *    (instance = the cycle id, n = rollover index from 1), so a rerun of a
 *    window replaces its own objects instead of adding duplicates.  Before
 *    a run, this instance's own objects from an earlier attempt are deleted
 *    (append and nonConflict too) and nonConflict ignores them; leftover
 *    multipart uploads of this instance (a killed run) are aborted.
 *  - Rollover happens at a record boundary once an object holds
 *    maxFileSize MiB (DataX counts parts), so no line is split between
 *    objects; blockSizeInMB counts bytes (DataX: UTF-16 chars); the
 *    default part is 8 MiB.
 *  - writeSingleObject: the object is object__task parts in task order
 *    followed by the tasks' last partial parts in task order, so a rerun
 *    with the same records gives the same bytes (DataX interleaves tasks as
 *    they happen to finish).  Part numbers are reserved per task; a task
 *    may use (10000 - tasks) / tasks parts.
 *  - Failed and killed runs abort their multipart uploads (DataX leaves
 *    them behind).
 *
 * Exactly-once: an object is completed in task_finish (writeSingleObject:
 * job_commit), which the pipeline runs before the reader writes its
 * checkpoints; a rerun of the window writes the same names with the same
 * bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "csv.h"
#include "file_output.h"
#include "name.h"
#include "writer_oss_i.h"

#define WO_MIB		((uint64_t)1 << 20)
#define WO_INFLIGHT	3		/**< parts in flight per object */
#define WO_MAX_WORKERS	16
#define WO_RETRIES	10		/**< per request, as DataX's RetryUtil */

struct wo_job {
	const struct plugin_env	*env;
	struct sign_cred	*cred;
	struct oss		*oss;
	char			*endpoint;	/**< for messages */
	char			*bucket;
	char			*object;
	char			*own;		/**< object "__" instance "_" */
	struct file_output	 fo;		/**< writeMode, format, header, suffix ... */
	bool			 single;
	bool			 gen_empty;
	struct oss_put_opts	 opts;
	uint64_t		 part_size;
	uint64_t		 max_file;	/**< bytes */
	/* after job_prepare: */
	int			 ntasks;
	char			*spool_dir;
	struct spool		*spool;
	struct writer_oss_pool	*pool;
	struct writer_oss_obj	*sobj;		/**< writeSingleObject upload */
	unsigned		 sparts;	/**< part numbers per task (single) */
	uint64_t		 srecords;	/**< single: records of finished tasks, protected by lock */
	struct spool_file      **tails;		/**< single: each task's last part */
	bool			 committed;
	pthread_mutex_t		 lock;
	char		       **outputs;	/**< committed keys, protected by lock */
	size_t			 noutputs;
};

struct wo_task {
	struct wo_job		*job;
	int			 task;
	struct csv		*csv;
	struct buf		 enc;
	struct writer_oss_obj	*obj;		/**< multi-object: the current object */
	struct spool_file	*cur;		/**< part being filled */
	unsigned		 number;	/**< parts submitted (of obj) */
	unsigned		 base;		/**< first part number - 1 */
	unsigned		 limit;		/**< part numbers available */
	int			 n;		/**< rollover index */
	uint64_t		 obj_bytes;
	uint64_t		 obj_records;
};

/* ---- job ---------------------------------------------------------------- */

/* the per-run spool directory, once its spool is closed */
static void
wo_rmdir_spool(struct wo_job *j)
{
	char lock[4200];
	int k;

	if (j->spool_dir == NULL)
		return;
	k = snprintf(lock, sizeof(lock), "%s/.lock", j->spool_dir);
	if (k > 0 && (size_t)k < sizeof(lock))
		(void)unlink(lock);
	(void)rmdir(j->spool_dir);
}

static void
wo_job_close(void *p)
{
	struct wo_job *j = p;
	size_t i;

	if (j == NULL)
		return;
	if (j->sobj != NULL && !j->committed)
		writer_oss_obj_abort(j->sobj);
	writer_oss_obj_free(j->sobj);
	for (i = 0; j->tails != NULL && i < (size_t)j->ntasks; i++)
		spool_file_free(j->tails[i]);
	free(j->tails);
	writer_oss_pool_free(j->pool);
	spool_free(j->spool);
	wo_rmdir_spool(j);
	free(j->spool_dir);
	oss_free(j->oss);
	sign_cred_free(j->cred);
	free(j->endpoint);
	free(j->bucket);
	free(j->object);
	free(j->own);
	file_output_free(&j->fo);
	for (i = 0; i < j->noutputs; i++)
		free(j->outputs[i]);
	free(j->outputs);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

/* the connection: the run's snapshot of this side's source (env->source)
 * -> j->cred, j->oss */
static int
wo_connect(struct wo_job *j, struct eng_errbuf *eb)
{
	const struct conf_source *src = j->env->source;
	const char *endpoint, *bucket;
	struct oss_config cfg;
	int rc;

	if (src == NULL || conf_source_type(src) != CONF_SRC_OSS ||
	    (endpoint = conf_source_endpoint(src)) == NULL ||
	    (bucket = conf_source_bucket(src)) == NULL ||
	    conf_source_access_id(src) == NULL || conf_source_access_key(src) == NULL)
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "oss writer: no OSS connection: endpoint, bucket, accessId and accessKey "
		    "are required (inline or through \"datasource\", an oss source)");
	if ((j->endpoint = strdup(endpoint)) == NULL || (j->bucket = strdup(bucket)) == NULL)
		return -ENOMEM;
	if ((rc = sign_cred_new(conf_source_access_id(src), conf_source_access_key(src),
	    conf_source_security_token(src), &j->cred)) != 0)
		return eng_errbuf_set(eb, rc, "oss writer: credentials: %s", eng_strerror(rc));
	oss_config_defaults(&cfg);
	cfg.endpoint = endpoint;
	cfg.bucket = bucket;
	cfg.cred = j->cred;
	cfg.sigver = conf_source_signature_version(src) == 1 ? OSS_SIG_V1 : OSS_SIG_V4;
	cfg.region = conf_source_region(src);
	cfg.ca_file = conf_source_ca_file(src);
	cfg.max_retries = WO_RETRIES;
	cfg.part_size = j->part_size;
	if ((rc = oss_new(&cfg, &j->oss, eb)) != 0)
		return rc;
	return 0;
}

static int
wo_job_open(const struct plugin_env *env, const struct json *param, void **out,
    struct eng_errbuf *eb)
{
	struct wo_job *j;
	const struct json *h;
	const char *s;
	int64_t v;
	int rc = -ENOMEM;

	*out = NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -ENOMEM;
	pthread_mutex_init(&j->lock, NULL);
	j->env = env;
	h = json_get(param, "partition");
	if (h != NULL && json_size(h) > 0) {
		rc = eng_errbuf_set(eb, ENG_EINVAL,
		    "oss writer: \"partition\" is not supported by difs; remove it");
		goto out;
	}
	h = json_get(param, "csvWriterConfig");
	if (h != NULL && json_first(h) != NULL) {
		rc = eng_errbuf_set(eb, ENG_EINVAL,
		    "oss writer: \"csvWriterConfig\" is not supported by difs (the encoder "
		    "follows DataX's default CSV rules); remove it");
		goto out;
	}
	if ((s = plugin_param_str(param, "object", NULL)) == NULL || s[0] == '\0' ||
	    plugin_param_str(param, "writeMode", NULL) == NULL) {
		rc = eng_errbuf_set(eb, ENG_EINVAL, "oss writer: object and writeMode are required");
		goto out;
	}
	/* one '/' between segments, none first, no "." or ".." (name.h) */
	if ((rc = name_key_normalise("oss writer", "object", s, &j->object, eb)) != 0)
		goto out;
	if ((rc = file_output_parse(env, param, "oss writer", &j->fo, eb)) != 0)
		goto out;
	if (j->object[0] == '\\') {
		rc = eng_errbuf_set(eb, ENG_EINVAL, "oss writer: object \"%s\" starts with '\\': "
		    "OSS object names must not; write \"%s\"", j->object, j->object + 1);
		goto out;
	}
	if ((rc = plugin_param_bool(param, "writeSingleObject", false, &j->single, eb)) != 0 ||
	    (rc = plugin_param_bool(param, "generateEmptyFile", true, &j->gen_empty, eb)) != 0 ||
	    (rc = plugin_param_bool(param, "encrypt", false, &j->opts.sse_aes256, eb)) != 0)
		goto out;
	if (j->single && j->fo.mode == FILE_MODE_APPEND) {
		rc = eng_errbuf_set(eb, ENG_EINVAL, "oss writer: writeMode append cannot be used "
		    "with writeSingleObject (DataX: Illegal value); use truncate or nonConflict");
		goto out;
	}
	if ((rc = plugin_param_int(param, "blockSizeInMB", 0, &v, eb)) != 0)
		goto out;
	if (v < 0 || v > 5120) {
		rc = eng_errbuf_set(eb, ENG_EINVAL, "oss writer: blockSizeInMB must be 1..5120");
		goto out;
	}
	j->part_size = v > 0 ? (uint64_t)v * WO_MIB : OSS_PART_DEFAULT;
	if ((rc = plugin_param_int(param, "maxFileSize", 100000, &v, eb)) != 0)
		goto out;
	if (v < 1 || v > (int64_t)(UINT64_MAX / WO_MIB)) {
		rc = eng_errbuf_set(eb, ENG_EINVAL, "oss writer: maxFileSize (MB) must be >= 1");
		goto out;
	}
	j->max_file = (uint64_t)v * WO_MIB;
	/* as DataX (maxPartNumber), an object also rolls over before it would
	 * need more parts than a multipart upload allows */
	if (j->max_file > (uint64_t)(OSS_MAX_PARTS - 2) * j->part_size)
		j->max_file = (uint64_t)(OSS_MAX_PARTS - 2) * j->part_size;
	rc = -ENOMEM;
	if (asprintf(&j->own, "%s__%s_", j->object,
	    env->instance != NULL ? env->instance : "run") < 0) {
		j->own = NULL;
		goto out;
	}
	/* the oss writer's own encoding option, on top of the shared block */
	s = plugin_param_str(param, "byteEncoding", NULL);
	j->fo.csv.bytes_base64 = s != NULL && strcmp(s, "base64") == 0;
	if ((rc = wo_connect(j, eb)) != 0)
		goto out;
	*out = j;
	j = NULL;
	rc = 0;
out:
	wo_job_close(j);
	return rc;
}

static int
wo_oss_fail(const struct wo_job *j, int rc, const char *what, const struct oss_error *e,
    struct eng_errbuf *eb)
{
	char line[700];

	oss_error_format(e, line, sizeof(line));
	if (rc == ENG_ENOTFOUND && strcmp(e->code, "NoSuchBucket") == 0)
		return eng_errbuf_set(eb, rc, "oss writer: the bucket \"%s\" you configured does "
		    "not exist at %s (%s)", j->bucket, j->endpoint, line);
	return eng_errbuf_set(eb, rc, "oss writer: %s: %s", what, line);
}

static bool
wo_is_own(const struct wo_job *j, const char *key)
{
	return strncmp(key, j->own, strlen(j->own)) == 0;
}

/*
 * Delete the objects under prefix (own_only: only this instance's own);
 * with conflict, fail at the first object that is not ours instead.
 */
static int
wo_sweep(struct wo_job *j, const char *prefix, bool own_only, bool conflict,
    size_t *deleted, struct eng_errbuf *eb)
{
	struct oss_list_opts lo;
	struct oss_list_page pg;
	struct oss_error e;
	const char **keys = NULL;
	char *token = NULL;
	size_t i, nk;
	int rc;

	*deleted = 0;
	for (;;) {
		memset(&lo, 0, sizeof(lo));
		memset(&pg, 0, sizeof(pg));
		memset(&e, 0, sizeof(e));
		lo.prefix = prefix;
		lo.continuation_token = token;
		if ((rc = oss_list(j->oss, &lo, &pg, &e)) != 0) {
			rc = wo_oss_fail(j, rc, "listing objects", &e, eb);
			break;
		}
		free(token);
		token = NULL;
		rc = -ENOMEM;
		if ((keys = calloc(pg.nobjs + 1, sizeof(*keys))) == NULL) {
			oss_list_page_free(&pg);
			break;
		}
		rc = 0;
		for (i = nk = 0; i < pg.nobjs; i++) {
			bool own = wo_is_own(j, pg.objs[i].key);

			if (conflict && !own) {
				rc = eng_errbuf_set(eb, -EEXIST, "oss writer: writeMode nonConflict: "
				    "bucket \"%s\" contains objects with the name prefix of \"%s\" "
				    "(e.g. \"%s\"); use truncate, another object prefix, or delete them",
				    j->bucket, j->object, pg.objs[i].key);
				break;
			}
			if (!own_only || own)
				keys[nk++] = pg.objs[i].key;
		}
		if (rc == 0 && nk > 0) {
			memset(&e, 0, sizeof(e));
			if ((rc = oss_delete_many(j->oss, keys, nk, NULL, NULL, &e)) != 0)
				rc = wo_oss_fail(j, rc, "deleting objects", &e, eb);
			else
				*deleted += nk;
		}
		free(keys);
		keys = NULL;
		if (rc == 0 && pg.truncated && pg.next_token != NULL &&
		    (token = strdup(pg.next_token)) == NULL)
			rc = -ENOMEM;
		oss_list_page_free(&pg);
		if (rc != 0 || token == NULL)
			break;
	}
	free(token);
	return rc;
}

/*
 * The parent of the per-run spool directories: env->spool_dir (the state
 * directory's cache), else $TMPDIR/difs-spool-<uid> (created 0700, and
 * refused unless it is a directory of ours that nobody else can write).
 */
static int
wo_spool_parent(const struct plugin_env *env, char **out, struct eng_errbuf *eb)
{
	const char *tmp = getenv("TMPDIR");
	struct stat st;

	*out = NULL;
	if (env->spool_dir != NULL)
		return (*out = strdup(env->spool_dir)) != NULL ? 0 : -ENOMEM;
	if (asprintf(out, "%s/difs-spool-%u", tmp != NULL && tmp[0] == '/' ? tmp : "/tmp",
	    (unsigned)getuid()) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	if (mkdir(*out, 0700) != 0 && errno != EEXIST)
		return eng_errbuf_set(eb, -errno, "oss writer: cannot create the spool directory "
		    "%s: %s", *out, strerror(errno));
	if (lstat(*out, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077) != 0)
		return eng_errbuf_set(eb, -EPERM, "oss writer: %s is not a private directory "
		    "of this user; remove it or set TMPDIR", *out);
	return 0;
}

/* the per-run spool directory PARENT/oss-<job>-<instance>, after sweeping
 * the directories of runs that died */
static int
wo_spool_open(struct wo_job *j, struct eng_errbuf *eb)
{
	const struct plugin_env *env = j->env;
	struct spool_config sc;
	char name[200], *parent = NULL;
	size_t i, swept = 0;
	int k, rc;

	if ((rc = wo_spool_parent(env, &parent, eb)) != 0)
		goto out;
	if (spool_sweep(parent, &swept) == 0 && swept > 0)
		plugin_log(env, LOG_LVL_INFO, "oss writer: removed the staged files of %zu "
		    "run%s that did not finish, from %s", swept, swept == 1 ? "" : "s", parent);
	k = snprintf(name, sizeof(name), "oss-%s-%s", env->job != NULL ? env->job : "job",
	    env->instance != NULL ? env->instance : "run");
	if (k < 0 || (size_t)k >= sizeof(name)) {
		rc = eng_errbuf_set(eb, -ENAMETOOLONG, "oss writer: job name too long");
		goto out;
	}
	for (i = 0; name[i] != '\0'; i++)
		if (name[i] == '/' || name[i] == ' ' || (unsigned char)name[i] < 0x20)
			name[i] = '_';
	if (asprintf(&j->spool_dir, "%s/%s", parent, name) < 0) {
		j->spool_dir = NULL;
		rc = -ENOMEM;
		goto out;
	}
	memset(&sc, 0, sizeof(sc));
	sc.dir = j->spool_dir;
	sc.cancel = env->cancel;
	rc = spool_new(&sc, &j->spool, eb);
	if (rc != 0) {
		free(j->spool_dir);	/* not ours to remove */
		j->spool_dir = NULL;
	}
out:
	free(parent);
	return rc;
}

/* abort the multipart uploads a killed attempt of this instance left */
static int
wo_abort_leftovers(struct wo_job *j, struct eng_errbuf *eb)
{
	struct oss_error e;
	const char *prefix = j->single ? j->object : j->own;
	char **keys = NULL;
	size_t n = 0, i, aborted = 0;
	bool exact = true;
	int rc;

	memset(&e, 0, sizeof(e));
	if ((rc = oss_mpu_list_uploads(j->oss, prefix, &n, &keys, &e)) != 0)
		return wo_oss_fail(j, rc, "listing multipart uploads", &e, eb);
	for (i = 0; i < n; i++) {
		if (j->single && strcmp(keys[i], j->object) != 0)
			exact = false;
		free(keys[i]);
	}
	free(keys);
	if (n == 0)
		return 0;
	if (!exact) {
		/* other objects' uploads share the prefix: leave them alone */
		plugin_log(j->env, LOG_LVL_WARN, "oss writer: multipart uploads under \"%s\" "
		    "belong to other objects too; not aborting them", prefix);
		return 0;
	}
	memset(&e, 0, sizeof(e));
	if ((rc = oss_mpu_abort_all(j->oss, prefix, &aborted, &e)) != 0)
		return wo_oss_fail(j, rc, "aborting leftover multipart uploads", &e, eb);
	plugin_log(j->env, LOG_LVL_INFO, "oss writer: aborted %zu multipart upload%s left by "
	    "an earlier attempt (%s*)", aborted, aborted == 1 ? "" : "s", prefix);
	return 0;
}

static int
wo_prepare_single(struct wo_job *j, struct eng_errbuf *eb)
{
	struct oss_head hd;
	struct oss_error e;
	unsigned inflight;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = oss_head(j->oss, j->object, &hd, &e);
	if (rc != 0 && rc != ENG_ENOTFOUND)
		return wo_oss_fail(j, rc, "checking the object", &e, eb);
	if (rc == 0 && j->fo.mode == FILE_MODE_NONCONFLICT)
		return eng_errbuf_set(eb, -EEXIST, "oss writer: writeMode nonConflict: object "
		    "\"%s\" already exists in bucket \"%s\"", j->object, j->bucket);
	if (rc == 0) {
		memset(&e, 0, sizeof(e));
		if ((rc = oss_delete(j->oss, j->object, &e)) != 0)
			return wo_oss_fail(j, rc, "deleting the object", &e, eb);
		plugin_log(j->env, LOG_LVL_INFO, "oss writer: truncate deleted %s", j->object);
	}
	if ((j->tails = calloc((size_t)j->ntasks, sizeof(*j->tails))) == NULL)
		return -ENOMEM;
	j->sparts = (unsigned)((OSS_MAX_PARTS - j->ntasks) / j->ntasks);
	if (j->sparts == 0)
		return eng_errbuf_set(eb, ENG_EINVAL, "oss writer: writeSingleObject with %d "
		    "tasks: too many tasks for one multipart upload", j->ntasks);
	inflight = (unsigned)(WO_INFLIGHT * (j->ntasks < 8 ? j->ntasks : 8));
	if ((rc = writer_oss_obj_new(j->pool, j->object, &j->opts, inflight, &j->sobj)) != 0)
		return rc;
	return writer_oss_obj_init(j->sobj, eb);
}

static int
wo_job_prepare(void *p, int ntasks, struct eng_errbuf *eb)
{
	struct wo_job *j = p;
	unsigned workers;
	size_t n = 0;
	int rc;

	j->ntasks = ntasks > 0 ? ntasks : 1;
	if ((rc = wo_spool_open(j, eb)) != 0)
		return rc;
	workers = (unsigned)j->ntasks * WO_INFLIGHT;
	if (workers > WO_MAX_WORKERS)
		workers = WO_MAX_WORKERS;
	if ((rc = writer_oss_pool_new(j->oss, workers, j->env->cancel, &j->pool)) != 0)
		return eng_errbuf_set(eb, rc, "oss writer: cannot start upload threads");
	if ((rc = wo_abort_leftovers(j, eb)) != 0)
		return rc;
	if (j->single)
		return wo_prepare_single(j, eb);
	if (j->fo.mode == FILE_MODE_TRUNCATE) {
		if ((rc = wo_sweep(j, j->object, false, false, &n, eb)) != 0)
			return rc;
		plugin_log(j->env, LOG_LVL_INFO, "oss writer: truncate deleted %zu object%s named "
		    "%s* in bucket %s", n, n == 1 ? "" : "s", j->object, j->bucket);
		return 0;
	}
	rc = wo_sweep(j, j->fo.mode == FILE_MODE_NONCONFLICT ? j->object : j->own, true,
	    j->fo.mode == FILE_MODE_NONCONFLICT, &n, eb);
	if (rc == 0 && n > 0)
		plugin_log(j->env, LOG_LVL_INFO, "oss writer: deleted %zu object%s of an earlier "
		    "attempt of this instance (%s*)", n, n == 1 ? "" : "s", j->own);
	return rc;
}

static int
wo_add_output(struct wo_job *j, const char *key, uint64_t size)
{
	char **no;
	char *k;

	plugin_log(j->env, LOG_LVL_INFO, "oss writer: wrote oss://%s/%s (%llu bytes)", j->bucket,
	    key, (unsigned long long)size);
	if ((k = strdup(key)) == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&j->lock);
	no = realloc(j->outputs, (j->noutputs + 1) * sizeof(*no));
	if (no != NULL) {
		j->outputs = no;
		j->outputs[j->noutputs++] = k;
		k = NULL;
	}
	pthread_mutex_unlock(&j->lock);
	free(k);
	return no != NULL ? 0 : -ENOMEM;
}

static int
wo_job_output(void *p, size_t i, const char **name)
{
	struct wo_job *j = p;
	int rc = -ENOENT;

	pthread_mutex_lock(&j->lock);
	if (i < j->noutputs) {
		*name = j->outputs[i];
		rc = 0;
	}
	pthread_mutex_unlock(&j->lock);
	return rc;
}

/* ---- tasks -------------------------------------------------------------- */

static int
wo_new_part(struct wo_task *t, struct eng_errbuf *eb)
{
	char tag[32];

	snprintf(tag, sizeof(tag), "t%d-%d", t->task, t->n);
	return spool_file_new(t->job->spool, tag, t->job->part_size, &t->cur, eb);
}

/* hand the full current part over */
static int
wo_submit_cur(struct wo_task *t, struct eng_errbuf *eb)
{
	struct writer_oss_obj *o = t->job->single ? t->job->sobj : t->obj;
	struct spool_file *f = t->cur;

	if (t->number >= t->limit) {
		return eng_errbuf_set(eb, -EFBIG, "oss writer: %s needs more than %u parts of "
		    "%llu MiB; raise blockSizeInMB%s", o->key, t->limit,
		    (unsigned long long)(t->job->part_size / WO_MIB),
		    t->job->single ? " or turn writeSingleObject off" : " or lower maxFileSize");
	}
	t->cur = NULL;
	t->number++;
	return writer_oss_obj_submit(o, t->base + t->number, f, eb);
}

/* append encoded bytes to the current object, part by part */
static int
wo_emit(struct wo_task *t, const char *p, size_t n, struct eng_errbuf *eb)
{
	int rc;

	while (n > 0) {
		size_t k;

		if (t->cur != NULL && spool_file_room(t->cur) == 0 &&
		    (rc = wo_submit_cur(t, eb)) != 0)
			return rc;
		if (t->cur == NULL && (rc = wo_new_part(t, eb)) != 0)
			return rc;
		k = spool_file_room(t->cur) < n ? (size_t)spool_file_room(t->cur) : n;
		if ((rc = spool_file_write(t->cur, p, k)) != 0)
			return eng_errbuf_set(eb, rc, "oss writer: spool %s: %s",
			    spool_file_path(t->cur), eng_strerror(rc));
		p += k;
		n -= k;
		t->obj_bytes += k;
	}
	return 0;
}

static int
wo_emit_header(struct wo_task *t, struct eng_errbuf *eb)
{
	struct wo_job *j = t->job;
	int rc;

	if (j->fo.nheader == 0)
		return 0;
	buf_reset(&t->enc);
	if ((rc = csv_encode_strings(t->csv, (const char *const *)j->fo.header, j->fo.nheader,
	    &t->enc)) != 0)
		return eng_errbuf_set(eb, rc, "oss writer: header cannot be encoded in %s",
		    j->fo.csv.encoding != NULL ? j->fo.csv.encoding : "UTF-8");
	return wo_emit(t, t->enc.p, t->enc.len, eb);
}

/* start object n of the task (multi-object mode) */
static int
wo_start_object(struct wo_task *t, struct eng_errbuf *eb)
{
	struct wo_job *j = t->job;
	char *key = NULL;
	char nbuf[24] = "";
	int rc;

	if (t->n > 0)
		snprintf(nbuf, sizeof(nbuf), "_%d", t->n);
	if (asprintf(&key, "%s%d%s%s", j->own, t->task, nbuf, j->fo.suffix) < 0)
		return -ENOMEM;
	rc = writer_oss_obj_new(j->pool, key, &j->opts, WO_INFLIGHT, &t->obj);
	free(key);
	if (rc != 0)
		return rc;
	t->number = 0;
	t->obj_bytes = 0;
	t->obj_records = 0;
	return wo_emit_header(t, eb);
}

/* complete the current object (multi-object mode) */
static int
wo_finish_object(struct wo_task *t, struct eng_errbuf *eb)
{
	struct writer_oss_obj *o = t->obj;
	uint64_t size = 0;
	int rc;

	if (o->upload_id != NULL && t->cur != NULL && spool_file_size(t->cur) > 0 &&
	    (rc = wo_submit_cur(t, eb)) != 0)
		return rc;
	if (o->upload_id != NULL) {
		spool_file_free(t->cur);
		t->cur = NULL;
	}
	rc = writer_oss_obj_complete(o, t->cur, &size, eb);
	t->cur = NULL;
	if (rc != 0)
		return rc;
	t->obj = NULL;
	rc = wo_add_output(t->job, o->key, size);
	writer_oss_obj_free(o);
	return rc;
}

static void
wo_task_free(struct wo_task *t)
{
	if (t == NULL)
		return;
	spool_file_free(t->cur);
	if (t->obj != NULL) {
		writer_oss_obj_abort(t->obj);
		writer_oss_obj_free(t->obj);
	}
	csv_free(t->csv);
	buf_free(&t->enc);
	free(t);
}

static int
wo_task_open(void *p, int task, void **out, struct eng_errbuf *eb)
{
	struct wo_job *j = p;
	struct wo_task *t;
	int rc;

	*out = NULL;
	if (task < 0 || task >= j->ntasks)
		return eng_errbuf_set(eb, -EINVAL, "oss writer: task %d of %d", task, j->ntasks);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	t->job = j;
	t->task = task;
	buf_init(&t->enc, BUF_MAX_SMALL * 64);
	if ((rc = csv_new(&j->fo.csv, &t->csv, eb)) != 0)
		goto fail;
	if (j->single) {
		t->base = (unsigned)task * j->sparts;
		t->limit = j->sparts;
		if (task == 0 && (rc = wo_emit_header(t, eb)) != 0)
			goto fail;
	} else {
		t->limit = OSS_MAX_PARTS;
		if ((rc = wo_start_object(t, eb)) != 0)
			goto fail;
	}
	*out = t;
	return 0;
fail:
	wo_task_free(t);
	return rc;
}

static int
wo_task_write(void *p, const struct record *r, size_t *bytes, struct eng_errbuf *eb)
{
	struct wo_task *t = p;
	struct wo_job *j = t->job;
	int rc;

	buf_reset(&t->enc);
	rc = csv_encode(t->csv, r, &t->enc);
	if (rc == -EILSEQ) {
		eng_errbuf_set(eb, rc, "a value cannot be encoded in %s",
		    j->fo.csv.encoding != NULL ? j->fo.csv.encoding : "UTF-8");
		return rc;
	}
	if (rc != 0)
		return eng_errbuf_set(eb, rc, "oss writer: encoding failed: %s", eng_strerror(rc));
	if (plugin_cancelled(j->env))
		return eng_errbuf_set(eb, ENG_EKILLED, "oss writer: cancelled");
	if (!j->single && t->obj_records > 0 && t->obj_bytes >= j->max_file) {
		/* rollover at a record boundary */
		struct buf keep = t->enc;

		buf_init(&t->enc, BUF_MAX_SMALL * 64);
		if ((rc = wo_finish_object(t, eb)) == 0) {
			t->n++;
			rc = wo_start_object(t, eb);
		}
		buf_free(&t->enc);
		t->enc = keep;
		if (rc != 0)
			return rc;
	}
	if ((rc = wo_emit(t, t->enc.p, t->enc.len, eb)) != 0)
		return rc;
	t->obj_records++;
	*bytes = t->enc.len;
	return 0;
}

static int
wo_task_finish(void *p, struct eng_errbuf *eb)
{
	struct wo_task *t = p;
	struct wo_job *j = t->job;
	int rc = 0;

	if (j->single) {
		/* full parts are uploading; the last partial one waits for job_commit */
		if (t->cur != NULL && (rc = spool_file_seal(t->cur)) != 0) {
			rc = eng_errbuf_set(eb, rc, "oss writer: spool: %s", eng_strerror(rc));
			goto out;
		}
		pthread_mutex_lock(&j->lock);
		j->tails[t->task] = t->cur;
		j->srecords += t->obj_records;
		pthread_mutex_unlock(&j->lock);
		t->cur = NULL;
		goto out;
	}
	if (t->obj_records == 0 && t->n == 0 && !j->gen_empty) {
		plugin_log(j->env, LOG_LVL_INFO, "oss writer: task %d got no records: no object "
		    "(generateEmptyFile is false)", t->task);
		goto out;
	}
	rc = wo_finish_object(t, eb);
out:
	wo_task_free(t);
	return rc;
}

static void
wo_task_abort(void *p)
{
	wo_task_free(p);
}

/* copy a tail file's bytes into the merged parts (single object) */
static int
wo_merge_tail(struct wo_job *j, struct spool_file *tail, struct spool_file **cur,
    unsigned *number, struct eng_errbuf *eb)
{
	char *b;
	uint64_t off = 0, size = spool_file_size(tail);
	int rc = 0;

	if ((b = malloc(SPOOL_WBUF)) == NULL)
		return -ENOMEM;
	while (off < size && rc == 0) {
		size_t k = size - off < SPOOL_WBUF ? (size_t)(size - off) : SPOOL_WBUF;
		ssize_t r;

		if (*cur != NULL && spool_file_room(*cur) == 0) {
			(*number)++;
			rc = writer_oss_obj_submit(j->sobj, *number, *cur, eb);
			*cur = NULL;
			if (rc != 0)
				break;
		}
		if (*cur == NULL && (rc = spool_file_new(j->spool, "tail", j->part_size, cur,
		    eb)) != 0)
			break;
		if (k > spool_file_room(*cur))
			k = (size_t)spool_file_room(*cur);
		r = pread(spool_file_fd(tail), b, k, (off_t)off);
		if (r <= 0) {
			rc = eng_errbuf_set(eb, r < 0 ? -errno : -EIO, "oss writer: reading %s: %s",
			    spool_file_path(tail), r < 0 ? strerror(errno) : "short file");
			break;
		}
		if ((rc = spool_file_write(*cur, b, (size_t)r)) != 0)
			rc = eng_errbuf_set(eb, rc, "oss writer: spool: %s", eng_strerror(rc));
		off += (uint64_t)r;
	}
	free(b);
	return rc;
}

static int
wo_job_commit(void *p, struct eng_errbuf *eb)
{
	struct wo_job *j = p;
	struct spool_file *cur = NULL;
	struct oss_error e;
	unsigned number = (unsigned)j->ntasks * j->sparts;
	uint64_t size = 0, total;
	int i, rc = 0;

	if (!j->single)
		return 0;
	if ((rc = writer_oss_obj_wait(j->sobj, eb)) != 0)
		return rc;
	for (i = 0; i < j->ntasks && rc == 0; i++) {
		if (j->tails[i] == NULL)
			continue;
		rc = wo_merge_tail(j, j->tails[i], &cur, &number, eb);
		spool_file_free(j->tails[i]);
		j->tails[i] = NULL;
	}
	if (rc == 0 && cur != NULL && spool_file_size(cur) > 0) {
		number++;
		rc = writer_oss_obj_submit(j->sobj, number, cur, eb);
		cur = NULL;
	}
	spool_file_free(cur);
	if (rc == 0)
		rc = writer_oss_obj_wait(j->sobj, eb);
	if (rc != 0)
		return rc;
	total = j->sobj->bytes;	/* no part in flight any more */
	if (total == 0 || (j->srecords == 0 && !j->gen_empty)) {
		/* nothing to complete: OSS needs at least one part */
		writer_oss_obj_abort(j->sobj);
		j->committed = true;
		if (!j->gen_empty) {
			plugin_log(j->env, LOG_LVL_INFO, "oss writer: no records: no object "
			    "(generateEmptyFile is false)");
			return 0;
		}
		memset(&e, 0, sizeof(e));
		{
			struct oss_src src = oss_src_mem("", 0);
			struct oss_put_result pr;

			if ((rc = oss_put(j->oss, j->object, &src, &j->opts, &pr, &e)) != 0)
				return wo_oss_fail(j, rc, "writing the empty object", &e, eb);
		}
		return wo_add_output(j, j->object, 0);
	}
	if ((rc = writer_oss_obj_complete(j->sobj, NULL, &size, eb)) != 0)
		return rc;
	j->committed = true;
	return wo_add_output(j, j->object, size);
}

const struct writer_ops writer_oss_ops = {
	.job_open	= wo_job_open,
	.job_prepare	= wo_job_prepare,
	.task_open	= wo_task_open,
	.task_write	= wo_task_write,
	.task_finish	= wo_task_finish,
	.task_abort	= wo_task_abort,
	.job_commit	= wo_job_commit,
	.job_output	= wo_job_output,
	.job_close	= wo_job_close,
};
