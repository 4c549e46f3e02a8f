/* SPDX-License-Identifier: MIT */
/*
 * fs_inval.c - the kernel cache invalidation queue.
 *
 * The engine asks for invalidations (a log grew, an instance appeared, a
 * definition's .error file came or went) from any of its threads, possibly
 * with its locks held.  fuse_lowlevel_notify_inval_* may block until the
 * kernel has taken the inode or directory lock, and must not run in the
 * path of a related request (libfuse docs): so the hooks only append to
 * this queue, and one thread sends the notifications.
 *
 * The queue is bounded (FS_INVAL_MAX requests); when it is full a request
 * is dropped and counted (logged once per overflow episode).  Consecutive
 * identical inode requests are merged (a log written line by line).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fs_i.h"
#include "log.h"

#define FS_INVAL_MAX	65536

struct fs_inval_req {
	struct fs_inval_req	*next;
	uint64_t		 ino;		/**< inode, or the parent for entries */
	char			*name;		/**< NULL: inode request */
};

struct fs_inval {
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct fs_inval_req	*head, *tail;	/**< protected by lock */
	size_t			 count;		/**< protected by lock */
	size_t			 dropped;	/**< protected by lock */
	bool			 stopping;	/**< protected by lock */
	bool			 running;	/**< the thread exists (main thread only) */
	struct fuse_session	*se;		/**< set before the thread starts */
	pthread_t		 thread;
};

int
fs_inval_new(struct fs_inval **out)
{
	struct fs_inval *q;

	*out = NULL;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	*out = q;
	return 0;
}

static void
fs_inval_push(struct fs_inval *q, uint64_t ino, const char *name)
{
	struct fs_inval_req *r = NULL;

	pthread_mutex_lock(&q->lock);
	if (q->stopping)
		goto out;
	if (name == NULL && q->tail != NULL && q->tail->name == NULL &&
	    q->tail->ino == ino)
		goto out;	/* merged with the pending identical request */
	if (q->count >= FS_INVAL_MAX) {
		if (q->dropped++ == 0)
			log_warnx("fuse: invalidation queue full, dropping requests");
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL || (name != NULL && (r->name = strdup(name)) == NULL)) {
		free(r);
		q->dropped++;
		goto out;
	}
	r->ino = ino;
	if (q->tail != NULL)
		q->tail->next = r;
	else
		q->head = r;
	q->tail = r;
	q->count++;
	pthread_cond_signal(&q->cond);
out:
	pthread_mutex_unlock(&q->lock);
}

void
fs_inval_inode_hook(void *arg, uint64_t ino)
{
	fs_inval_push(arg, ino, NULL);
}

void
fs_inval_entry_hook(void *arg, uint64_t parent, const char *name)
{
	if (name != NULL)
		fs_inval_push(arg, parent, name);
}

static void
fs_inval_send(struct fuse_session *se, const struct fs_inval_req *r)
{
	int rc;

	if (r->name == NULL)
		rc = fuse_lowlevel_notify_inval_inode(se, r->ino, 0, 0);
	else
		rc = fuse_lowlevel_notify_inval_entry(se, r->ino, r->name,
		    strlen(r->name));
	/* ENOENT: the kernel does not know it (nothing cached): normal */
	if (rc != 0 && rc != -ENOENT && rc != -ENOTCONN)
		log_debug("fuse: invalidation of %llu failed: %s",
		    (unsigned long long)r->ino, strerror(-rc));
}

static void
fs_inval_free_list(struct fs_inval_req *r)
{
	while (r != NULL) {
		struct fs_inval_req *next = r->next;

		free(r->name);
		free(r);
		r = next;
	}
}

static void *
fs_inval_main(void *arg)
{
	struct fs_inval *q = arg;
	struct fs_inval_req *batch, *r;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (q->head == NULL && !q->stopping)
			pthread_cond_wait(&q->cond, &q->lock);
		if (q->head == NULL && q->stopping)
			break;
		batch = q->head;
		q->head = q->tail = NULL;
		q->count = 0;
		if (q->dropped != 0) {
			log_warnx("fuse: %zu invalidation requests were dropped",
			    q->dropped);
			q->dropped = 0;
		}
		pthread_mutex_unlock(&q->lock);
		for (r = batch; r != NULL; r = r->next)
			fs_inval_send(q->se, r);
		fs_inval_free_list(batch);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int
fs_inval_start(struct fs_inval *q, struct fuse_session *se)
{
	int rc;

	q->se = se;
	rc = pthread_create(&q->thread, NULL, fs_inval_main, q);
	if (rc != 0)
		return -rc;
	q->running = true;
	return 0;
}

void
fs_inval_stop(struct fs_inval *q)
{
	struct fs_inval_req *rest;

	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	if (q->running) {
		pthread_join(q->thread, NULL);
		q->running = false;
	}
	pthread_mutex_lock(&q->lock);
	rest = q->head;
	q->head = q->tail = NULL;
	q->count = 0;
	pthread_mutex_unlock(&q->lock);
	fs_inval_free_list(rest);
}

void
fs_inval_free(struct fs_inval *q)
{
	if (q == NULL)
		return;
	fs_inval_stop(q);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}
