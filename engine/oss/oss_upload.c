/* SPDX-License-Identifier: MIT */
/*
 * oss_upload.c - streaming object upload for writers (see oss.h).
 *
 * Bytes pushed with oss_upload_write() fill part-sized memory buffers (at
 * most cfg.parallel of them, allocated when first needed).  A full buffer
 * is handed to the worker threads only when more data arrives, so an
 * object of at most one part size never starts a multipart upload: finish
 * sends it with one PutObject.  Otherwise the first hand-over initiates the
 * multipart upload, workers upload parts (each with its own retries and
 * CRC check), finish completes with the combined CRC, and every failure or
 * cancellation aborts, so no multipart upload is left behind.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "oss_i.h"

enum oss_up_state { OSS_UP_OPEN = 0, OSS_UP_DONE, OSS_UP_ABORTED };

struct oss_upbuf {
	char		*p;		/* part_size bytes, allocated lazily */
	size_t		 len;
	bool		 busy;		/* filling or in flight; protected by lock */
};

struct oss_upjob {
	unsigned		 number;
	struct oss_src		 src;
	int			 bufidx;	/* -1: caller's source */
	struct oss_upjob	*next;
};

struct oss_upload {
	struct oss		*oss;
	char			*key;
	struct oss_put_opts	 opts;
	char			*content_type;
	uint64_t		 part_size;
	unsigned		 nbuf;
	struct oss_upbuf	*bufs;
	int			 cur;		/* buffer being filled, -1 none */
	struct oss_src		 pending;	/* caller part not yet handed over */
	bool			 has_pending;
	bool			 tail_small;	/* a part < OSS_PART_MIN was added */
	char			*upload_id;
	unsigned		 next_number;	/* parts handed over so far */
	uint64_t		 total;
	enum oss_up_state	 state;
	pthread_t		*threads;
	unsigned		 nthreads;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	/* protected by lock: */
	struct oss_upjob	*qhead, *qtail;
	unsigned		 inflight;	/* queued + running jobs */
	bool			 stop;
	struct oss_part		*parts;		/* index number - 1 */
	int			 err;		/* first error; poisons the upload */
	struct oss_error	 e;
};

static void
oss_up_fail_locked(struct oss_upload *up, int rc, const struct oss_error *e)
{
	if (up->err != 0)
		return;
	up->err = rc;
	if (e != NULL)
		up->e = *e;
	else
		oss_err_set(&up->e, "upload", rc, "%s", eng_strerror(rc));
	up->e.rc = rc;
	pthread_cond_broadcast(&up->cond);
}

static void
oss_up_fail(struct oss_upload *up, int rc, const struct oss_error *e)
{
	pthread_mutex_lock(&up->lock);
	oss_up_fail_locked(up, rc, e);
	pthread_mutex_unlock(&up->lock);
}

static int
oss_up_errcheck(struct oss_upload *up)
{
	int rc;

	pthread_mutex_lock(&up->lock);
	rc = up->err;
	pthread_mutex_unlock(&up->lock);
	if (rc == 0 && up->state != OSS_UP_OPEN)
		rc = ENG_ESTATE;
	return rc;
}

static void *
oss_up_worker(void *arg)
{
	struct oss_upload *up = arg;
	struct oss_upjob *j;
	struct oss_part part;
	struct oss_error e;
	int rc;

	pthread_mutex_lock(&up->lock);
	for (;;) {
		while (!up->stop && up->qhead == NULL)
			pthread_cond_wait(&up->cond, &up->lock);
		if (up->qhead == NULL)
			break;		/* stop and nothing left */
		j = up->qhead;
		up->qhead = j->next;
		if (up->qhead == NULL)
			up->qtail = NULL;
		rc = up->err;
		pthread_mutex_unlock(&up->lock);
		if (rc == 0) {
			memset(&e, 0, sizeof(e));
			rc = oss_mpu_part(up->oss, up->key, up->upload_id, j->number,
			    &j->src, &part, &e);
		}
		pthread_mutex_lock(&up->lock);
		if (rc == 0)
			up->parts[j->number - 1] = part;
		else if (up->err == 0)
			oss_up_fail_locked(up, rc, &e);
		if (j->bufidx >= 0) {
			up->bufs[j->bufidx].busy = false;
			up->bufs[j->bufidx].len = 0;
		}
		up->inflight--;
		pthread_cond_broadcast(&up->cond);
		free(j);
	}
	pthread_mutex_unlock(&up->lock);
	return NULL;
}

int
oss_upload_new(struct oss *oss, const char *key, const struct oss_put_opts *opts,
    struct oss_upload **out)
{
	struct oss_upload *up = NULL;
	int rc = -ENOMEM;

	*out = NULL;
	if (oss == NULL || oss_key_check(key) != 0)
		return ENG_EINVAL;
	if ((up = calloc(1, sizeof(*up))) == NULL)
		return -ENOMEM;
	if (pthread_mutex_init(&up->lock, NULL) != 0) {
		free(up);
		return -ENOMEM;
	}
	if (pthread_cond_init(&up->cond, NULL) != 0) {
		pthread_mutex_destroy(&up->lock);
		free(up);
		return -ENOMEM;
	}
	up->oss = oss;
	up->cur = -1;
	up->part_size = oss->part_size;
	up->nbuf = oss->parallel;
	if ((up->key = strdup(key)) == NULL)
		goto out;
	if (opts != NULL) {
		up->opts = *opts;
		if (opts->content_type != NULL &&
		    (up->content_type = strdup(opts->content_type)) == NULL)
			goto out;
		up->opts.content_type = up->content_type;
	}
	if ((up->bufs = calloc(up->nbuf, sizeof(*up->bufs))) == NULL)
		goto out;
	if ((up->parts = calloc(OSS_MAX_PARTS, sizeof(*up->parts))) == NULL)
		goto out;
	*out = up;
	up = NULL;
	rc = 0;
out:
	if (up != NULL) {
		up->state = OSS_UP_ABORTED;
		oss_upload_free(up);
	}
	return rc;
}

/* start the multipart upload and the workers (caller thread) */
static int
oss_up_start(struct oss_upload *up)
{
	struct oss_error e;
	unsigned i;
	int rc;

	if (up->upload_id != NULL)
		return 0;
	memset(&e, 0, sizeof(e));
	if ((rc = oss_mpu_init(up->oss, up->key, &up->opts, &up->upload_id, &e)) != 0) {
		oss_up_fail(up, rc, &e);
		return rc;
	}
	if ((up->threads = calloc(up->nbuf, sizeof(*up->threads))) == NULL) {
		oss_up_fail(up, -ENOMEM, NULL);
		return -ENOMEM;
	}
	for (i = 0; i < up->nbuf; i++) {
		if ((rc = pthread_create(&up->threads[i], NULL, oss_up_worker, up)) != 0) {
			oss_up_fail(up, -rc, NULL);
			return -rc;
		}
		up->nthreads++;
	}
	return 0;
}

/* queue one part (a filled buffer or the caller's source) */
static int
oss_up_submit(struct oss_upload *up, int bufidx, const struct oss_src *src)
{
	struct oss_upjob *j;
	int rc;

	if (up->next_number >= OSS_MAX_PARTS) {
		rc = -EFBIG;
		oss_up_fail(up, rc, NULL);
		oss_copy(up->e.message, sizeof(up->e.message),
		    "object needs more than 10000 parts; raise the part size");
		return rc;
	}
	if ((rc = oss_up_start(up)) != 0)
		return rc;
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		oss_up_fail(up, -ENOMEM, NULL);
		return -ENOMEM;
	}
	j->number = ++up->next_number;
	j->bufidx = bufidx;
	j->src = bufidx >= 0 ? oss_src_mem(up->bufs[bufidx].p, up->bufs[bufidx].len) :
	    *src;
	pthread_mutex_lock(&up->lock);
	if (up->qtail != NULL)
		up->qtail->next = j;
	else
		up->qhead = j;
	up->qtail = j;
	up->inflight++;
	pthread_cond_broadcast(&up->cond);
	pthread_mutex_unlock(&up->lock);
	return 0;
}

/* hand over whatever is pending (full buffer or caller part) */
static int
oss_up_flush_pending(struct oss_upload *up)
{
	int rc = 0;

	if (up->cur >= 0 && up->bufs[up->cur].len > 0) {
		rc = oss_up_submit(up, up->cur, NULL);
		up->cur = -1;
	} else if (up->has_pending) {
		rc = oss_up_submit(up, -1, &up->pending);
		up->has_pending = false;
	}
	return rc;
}

/* wait for a free buffer and make it current */
static int
oss_up_take_buffer(struct oss_upload *up)
{
	unsigned i;
	int rc = 0;

	pthread_mutex_lock(&up->lock);
	for (;;) {
		if ((rc = up->err) != 0)
			break;
		for (i = 0; i < up->nbuf; i++)
			if (!up->bufs[i].busy)
				break;
		if (i < up->nbuf) {
			up->bufs[i].busy = true;
			up->bufs[i].len = 0;
			up->cur = (int)i;
			break;
		}
		pthread_cond_wait(&up->cond, &up->lock);
	}
	pthread_mutex_unlock(&up->lock);
	if (rc != 0 || up->bufs[up->cur].p != NULL)
		return rc;
	if ((up->bufs[up->cur].p = malloc((size_t)up->part_size)) == NULL) {
		oss_up_fail(up, -ENOMEM, NULL);
		return -ENOMEM;
	}
	return 0;
}

int
oss_upload_write(struct oss_upload *up, const void *p, size_t n)
{
	const char *s = p;
	int rc;

	if ((rc = oss_up_errcheck(up)) != 0)
		return rc;
	if (n == 0)
		return 0;
	if (up->has_pending || up->tail_small)
		return ENG_ESTATE;	/* bytes after a caller part */
	while (n > 0) {
		struct oss_upbuf *b;
		size_t k;

		if (up->cur < 0 && (rc = oss_up_take_buffer(up)) != 0)
			return rc;
		b = &up->bufs[up->cur];
		if (b->len == up->part_size) {
			/* full and more is coming: it is not the last part */
			if ((rc = oss_up_flush_pending(up)) != 0)
				return rc;
			continue;
		}
		k = (size_t)up->part_size - b->len;
		if (k > n)
			k = n;
		memcpy(b->p + b->len, s, k);
		b->len += k;
		up->total += k;
		s += k;
		n -= k;
	}
	return 0;
}

int
oss_upload_part_src(struct oss_upload *up, const struct oss_src *src)
{
	int rc;

	if ((rc = oss_up_errcheck(up)) != 0)
		return rc;
	if (src == NULL || src->len == 0 || src->len > OSS_PART_MAX ||
	    (src->fd < 0 && src->mem == NULL))
		return -EINVAL;
	if (up->tail_small)
		return ENG_ESTATE;	/* a short part must be the last one */
	if (up->cur >= 0 && up->bufs[up->cur].len != 0 &&
	    up->bufs[up->cur].len < up->part_size)
		return ENG_ESTATE;	/* a partly filled buffer would be a short part */
	if ((rc = oss_up_flush_pending(up)) != 0)
		return rc;
	if (up->cur >= 0) {
		/* an empty current buffer: give it back */
		pthread_mutex_lock(&up->lock);
		up->bufs[up->cur].busy = false;
		pthread_mutex_unlock(&up->lock);
		up->cur = -1;
	}
	up->pending = *src;
	up->has_pending = true;
	up->tail_small = src->len < OSS_PART_MIN;
	up->total += src->len;
	return 0;
}

static void
oss_up_wait_idle(struct oss_upload *up)
{
	pthread_mutex_lock(&up->lock);
	while (up->inflight > 0)
		pthread_cond_wait(&up->cond, &up->lock);
	pthread_mutex_unlock(&up->lock);
}

static void
oss_up_stop_workers(struct oss_upload *up)
{
	unsigned i;

	pthread_mutex_lock(&up->lock);
	up->stop = true;
	pthread_cond_broadcast(&up->cond);
	pthread_mutex_unlock(&up->lock);
	for (i = 0; i < up->nthreads; i++)
		pthread_join(up->threads[i], NULL);
	up->nthreads = 0;
}

int
oss_upload_abort(struct oss_upload *up)
{
	struct oss_error e;
	int rc = 0;

	if (up == NULL || up->state == OSS_UP_ABORTED)
		return 0;
	pthread_mutex_lock(&up->lock);
	if (up->err == 0 && up->state == OSS_UP_OPEN)
		oss_up_fail_locked(up, ENG_EKILLED, NULL);
	pthread_mutex_unlock(&up->lock);
	oss_up_wait_idle(up);
	oss_up_stop_workers(up);
	if (up->upload_id != NULL && up->state == OSS_UP_OPEN) {
		memset(&e, 0, sizeof(e));
		rc = oss_mpu_abort(up->oss, up->key, up->upload_id, &e);
		if (rc != 0) {
			char line[600];

			oss_error_format(&e, line, sizeof(line));
			log_warnx("oss: multipart upload %s of %s left behind: %s",
			    up->upload_id, up->key, line);
		}
	}
	up->state = OSS_UP_ABORTED;
	return rc;
}

int
oss_upload_finish(struct oss_upload *up, struct oss_put_result *res)
{
	struct oss_put_result pr;
	struct oss_error e;
	struct oss_src src;
	unsigned i;
	int rc;

	if ((rc = oss_up_errcheck(up)) != 0)
		goto fail;
	memset(&e, 0, sizeof(e));
	if (up->upload_id == NULL) {
		/* at most one part: a single PutObject */
		if (up->has_pending)
			src = up->pending;
		else if (up->cur >= 0)
			src = oss_src_mem(up->bufs[up->cur].p, up->bufs[up->cur].len);
		else
			src = oss_src_mem("", 0);
		if ((rc = oss_put(up->oss, up->key, &src, &up->opts, &pr, &e)) != 0) {
			oss_up_fail(up, rc, &e);
			goto fail;
		}
		up->has_pending = false;
		up->state = OSS_UP_DONE;
		if (res != NULL)
			*res = pr;
		return 0;
	}
	if ((rc = oss_up_flush_pending(up)) != 0)
		goto fail;
	oss_up_wait_idle(up);
	if ((rc = oss_up_errcheck(up)) != 0)
		goto fail;
	for (i = 0; i < up->next_number; i++)
		if (up->parts[i].number != i + 1) {
			rc = ENG_ESTATE;
			oss_up_fail(up, rc, NULL);
			goto fail;
		}
	rc = oss_mpu_complete(up->oss, up->key, up->upload_id, up->parts,
	    up->next_number, &up->opts, &pr, &e);
	if (rc != 0) {
		oss_up_fail(up, rc, &e);
		goto fail;
	}
	if (pr.size != up->total) {
		rc = ENG_ESTATE;
		oss_up_fail(up, rc, NULL);
		up->state = OSS_UP_DONE;	/* completed: nothing to abort */
		return rc;
	}
	oss_up_stop_workers(up);
	up->state = OSS_UP_DONE;
	if (res != NULL)
		*res = pr;
	return 0;
fail:
	if (up->state == OSS_UP_OPEN)
		(void)oss_upload_abort(up);
	return rc;
}

void
oss_upload_cancel(struct oss_upload *up)
{
	pthread_mutex_lock(&up->lock);
	oss_up_fail_locked(up, ENG_EKILLED, NULL);
	if (up->err == ENG_EKILLED)
		oss_copy(up->e.message, sizeof(up->e.message), "upload cancelled");
	pthread_mutex_unlock(&up->lock);
}

const struct oss_error *
oss_upload_error(const struct oss_upload *up)
{
	return &up->e;
}

const char *
oss_upload_id(const struct oss_upload *up)
{
	return up->upload_id;
}

void
oss_upload_free(struct oss_upload *up)
{
	struct oss_upjob *j, *nx;
	unsigned i;

	if (up == NULL)
		return;
	if (up->state == OSS_UP_OPEN)
		(void)oss_upload_abort(up);
	oss_up_stop_workers(up);
	for (j = up->qhead; j != NULL; j = nx) {
		nx = j->next;
		free(j);
	}
	for (i = 0; up->bufs != NULL && i < up->nbuf; i++)
		free(up->bufs[i].p);
	free(up->bufs);
	free(up->threads);
	free(up->parts);
	free(up->upload_id);
	free(up->content_type);
	free(up->key);
	pthread_cond_destroy(&up->cond);
	pthread_mutex_destroy(&up->lock);
	free(up);
}
