/* SPDX-License-Identifier: MIT */
/*
 * writer_oss_up.c - the oss writer's objects and its part upload pool.
 *
 * The writer stages each part in a spool file (cache/spool.h) and hands it
 * to this pool; a worker uploads it as a file region with oss_mpu_part (the
 * client retries from the file) and frees the file as soon as its part is
 * stored, so disk use per object is bounded by (max_inflight + 1) parts,
 * not by the object size.  (oss_upload_part_src would keep every region
 * until Complete, i.e. the whole object on disk; and a writeSingleObject
 * upload is shared by several tasks, which struct oss_upload does not
 * allow.)  Every failure or cancellation aborts the multipart upload.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "writer_oss_i.h"

struct wop_job {
	struct writer_oss_obj	*obj;
	unsigned		 number;
	struct spool_file	*f;
	struct wop_job		*next;
};

struct writer_oss_pool {
	struct oss	*oss;
	atomic_int	*cancel;
	pthread_t	*threads;
	unsigned	 nthreads;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	/* protected by lock: */
	struct wop_job	*qhead, *qtail;
	bool		 stop;
};

static void
wop_fail_locked(struct writer_oss_obj *o, int rc, const struct oss_error *e)
{
	if (o->err != 0)
		return;
	o->err = rc;
	if (e != NULL)
		o->e = *e;
	else {
		memset(&o->e, 0, sizeof(o->e));
		o->e.rc = rc;
	}
}

static void *
wop_worker(void *arg)
{
	struct writer_oss_pool *p = arg;
	struct wop_job *j;
	struct oss_part part;
	struct oss_error e;
	struct oss_src src;
	int rc;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stop && p->qhead == NULL)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->qhead == NULL)
			break;
		j = p->qhead;
		p->qhead = j->next;
		if (p->qhead == NULL)
			p->qtail = NULL;
		rc = j->obj->err;
		if (rc == 0 && p->cancel != NULL && atomic_load(p->cancel) != 0)
			rc = ENG_EKILLED;
		pthread_mutex_unlock(&p->lock);
		memset(&e, 0, sizeof(e));
		if (rc == 0) {
			src = oss_src_fd(spool_file_fd(j->f), 0, spool_file_size(j->f));
			rc = oss_mpu_part(p->oss, j->obj->key, j->obj->upload_id, j->number,
			    &src, &part, &e);
		}
		spool_file_free(j->f);	/* stored (or failed): the disk is free again */
		pthread_mutex_lock(&p->lock);
		if (rc == 0 && j->obj->nparts == j->obj->cap) {
			size_t nc = j->obj->cap != 0 ? j->obj->cap * 2 : 16;
			struct oss_part *np = realloc(j->obj->parts, nc * sizeof(*np));

			if (np == NULL)
				rc = -ENOMEM;
			else {
				j->obj->parts = np;
				j->obj->cap = nc;
			}
		}
		if (rc == 0)
			j->obj->parts[j->obj->nparts++] = part;
		else
			wop_fail_locked(j->obj, rc, rc == ENG_EKILLED || rc == -ENOMEM ? NULL : &e);
		j->obj->inflight--;
		pthread_cond_broadcast(&p->cond);
		free(j);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int
writer_oss_pool_new(struct oss *oss, unsigned nworkers, atomic_int *cancel,
    struct writer_oss_pool **out)
{
	struct writer_oss_pool *p;
	unsigned i;
	int rc;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	p->oss = oss;
	p->cancel = cancel;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if ((p->threads = calloc(nworkers, sizeof(*p->threads))) == NULL) {
		writer_oss_pool_free(p);
		return -ENOMEM;
	}
	for (i = 0; i < nworkers; i++) {
		if ((rc = pthread_create(&p->threads[i], NULL, wop_worker, p)) != 0) {
			writer_oss_pool_free(p);
			return -rc;
		}
		p->nthreads++;
	}
	*out = p;
	return 0;
}

void
writer_oss_pool_free(struct writer_oss_pool *p)
{
	struct wop_job *j, *nx;
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	for (j = p->qhead; j != NULL; j = nx) {
		nx = j->next;
		spool_file_free(j->f);
		free(j);
	}
	free(p->threads);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int
writer_oss_obj_new(struct writer_oss_pool *pool, const char *key,
    const struct oss_put_opts *opts, unsigned max_inflight, struct writer_oss_obj **out)
{
	struct writer_oss_obj *o;

	*out = NULL;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return -ENOMEM;
	if ((o->key = strdup(key)) == NULL) {
		free(o);
		return -ENOMEM;
	}
	o->pool = pool;
	o->opts = opts;
	o->max_inflight = max_inflight > 0 ? max_inflight : 1;
	*out = o;
	return 0;
}

static int
wop_errmsg(const struct writer_oss_obj *o, int rc, struct eng_errbuf *eb)
{
	char line[700];

	if (o->e.op[0] == '\0')
		return eng_errbuf_set(eb, rc, "oss writer: %s: %s", o->key, eng_strerror(rc));
	oss_error_format(&o->e, line, sizeof(line));
	return eng_errbuf_set(eb, rc, "oss writer: %s: %s", o->key, line);
}

int
writer_oss_obj_init(struct writer_oss_obj *o, struct eng_errbuf *eb)
{
	struct oss_error e;
	int rc;

	if (o->upload_id != NULL)
		return 0;
	memset(&e, 0, sizeof(e));
	if ((rc = oss_mpu_init(o->pool->oss, o->key, o->opts, &o->upload_id, &e)) != 0) {
		o->upload_id = NULL;
		pthread_mutex_lock(&o->pool->lock);
		wop_fail_locked(o, rc, &e);
		pthread_mutex_unlock(&o->pool->lock);
		return wop_errmsg(o, rc, eb);
	}
	return 0;
}

static bool
wop_cancelled(const struct writer_oss_pool *p)
{
	return p->cancel != NULL && atomic_load(p->cancel) != 0;
}

/* wait (pool->lock held) until o->inflight <= limit; 0, o->err, ENG_EKILLED */
static int
wop_wait_locked(struct writer_oss_obj *o, unsigned limit)
{
	struct writer_oss_pool *p = o->pool;

	while (o->inflight > limit && o->err == 0) {
		struct timespec ts;

		if (wop_cancelled(p))
			return ENG_EKILLED;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&p->cond, &p->lock, &ts);
	}
	return o->err;
}

int
writer_oss_obj_submit(struct writer_oss_obj *o, unsigned number, struct spool_file *f,
    struct eng_errbuf *eb)
{
	struct writer_oss_pool *p = o->pool;
	struct wop_job *j = NULL;
	int rc;

	if ((rc = spool_file_seal(f)) != 0) {
		spool_file_free(f);
		return eng_errbuf_set(eb, rc, "oss writer: spool write failed: %s", eng_strerror(rc));
	}
	if ((rc = writer_oss_obj_init(o, eb)) != 0) {
		spool_file_free(f);
		return rc;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		spool_file_free(f);
		return -ENOMEM;
	}
	j->obj = o;
	j->number = number;
	j->f = f;
	pthread_mutex_lock(&p->lock);
	rc = wop_wait_locked(o, o->max_inflight - 1);
	if (rc == 0) {
		if (p->qtail != NULL)
			p->qtail->next = j;
		else
			p->qhead = j;
		p->qtail = j;
		o->inflight++;
		o->bytes += spool_file_size(f);
		pthread_cond_broadcast(&p->cond);
		j = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	if (j != NULL) {
		spool_file_free(j->f);
		free(j);
		if (rc == ENG_EKILLED)
			return eng_errbuf_set(eb, rc, "oss writer: %s: cancelled", o->key);
		return wop_errmsg(o, rc, eb);
	}
	return 0;
}

int
writer_oss_obj_wait(struct writer_oss_obj *o, struct eng_errbuf *eb)
{
	int rc;

	pthread_mutex_lock(&o->pool->lock);
	rc = wop_wait_locked(o, 0);
	pthread_mutex_unlock(&o->pool->lock);
	if (rc == ENG_EKILLED)
		return eng_errbuf_set(eb, rc, "oss writer: %s: cancelled", o->key);
	if (rc != 0)
		return wop_errmsg(o, rc, eb);
	return 0;
}

static int
wop_part_cmp(const void *a, const void *b)
{
	const struct oss_part *x = a, *y = b;

	return x->number < y->number ? -1 : x->number > y->number;
}

int
writer_oss_obj_complete(struct writer_oss_obj *o, struct spool_file *last,
    uint64_t *size, struct eng_errbuf *eb)
{
	struct oss_put_result pr;
	struct oss_error e;
	struct oss_src src;
	int rc;

	memset(&e, 0, sizeof(e));
	if (o->upload_id == NULL) {
		/* at most one part: one PutObject */
		if (last != NULL && (rc = spool_file_seal(last)) != 0) {
			spool_file_free(last);
			return eng_errbuf_set(eb, rc, "oss writer: spool write failed: %s",
			    eng_strerror(rc));
		}
		src = last != NULL ? oss_src_fd(spool_file_fd(last), 0, spool_file_size(last)) :
		    oss_src_mem("", 0);
		rc = oss_put(o->pool->oss, o->key, &src, o->opts, &pr, &e);
		spool_file_free(last);
		if (rc != 0) {
			pthread_mutex_lock(&o->pool->lock);
			wop_fail_locked(o, rc, &e);
			pthread_mutex_unlock(&o->pool->lock);
			return wop_errmsg(o, rc, eb);
		}
		*size = pr.size;
		return 0;
	}
	if (last != NULL) {
		/* the caller numbers and submits the parts of a multipart upload */
		spool_file_free(last);
		rc = eng_errbuf_set(eb, ENG_ESTATE, "oss writer: internal: unsubmitted last part");
		goto fail;
	}
	if ((rc = writer_oss_obj_wait(o, eb)) != 0)
		goto fail;
	pthread_mutex_lock(&o->pool->lock);
	qsort(o->parts, o->nparts, sizeof(*o->parts), wop_part_cmp);
	pthread_mutex_unlock(&o->pool->lock);
	rc = oss_mpu_complete(o->pool->oss, o->key, o->upload_id, o->parts, o->nparts,
	    o->opts, &pr, &e);
	if (rc != 0) {
		pthread_mutex_lock(&o->pool->lock);
		wop_fail_locked(o, rc, &e);
		pthread_mutex_unlock(&o->pool->lock);
		(void)wop_errmsg(o, rc, eb);
		goto fail;
	}
	if (pr.size != o->bytes) {
		free(o->upload_id);	/* completed: nothing to abort */
		o->upload_id = NULL;
		return eng_errbuf_set(eb, ENG_ECHECKSUM,
		    "oss writer: %s completed with %llu bytes, %llu were uploaded", o->key,
		    (unsigned long long)pr.size, (unsigned long long)o->bytes);
	}
	free(o->upload_id);
	o->upload_id = NULL;
	*size = pr.size;
	return 0;
fail:
	writer_oss_obj_abort(o);
	return rc;
}

void
writer_oss_obj_abort(struct writer_oss_obj *o)
{
	struct writer_oss_pool *p;
	struct oss_error e;

	if (o == NULL)
		return;
	p = o->pool;
	pthread_mutex_lock(&p->lock);
	wop_fail_locked(o, ENG_EKILLED, NULL);
	while (o->inflight > 0)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	if (o->upload_id != NULL) {
		memset(&e, 0, sizeof(e));
		if (oss_mpu_abort(p->oss, o->key, o->upload_id, &e) != 0) {
			char line[700];

			oss_error_format(&e, line, sizeof(line));
			log_warnx("oss writer: multipart upload of %s left behind (the next run of "
			    "this window aborts it): %s", o->key, line);
		}
		free(o->upload_id);
		o->upload_id = NULL;
	}
}

void
writer_oss_obj_free(struct writer_oss_obj *o)
{
	if (o == NULL)
		return;
	if (o->upload_id != NULL)
		writer_oss_obj_abort(o);
	free(o->parts);
	free(o->key);
	free(o);
}
