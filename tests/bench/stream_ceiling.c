/* SPDX-License-Identifier: MIT */
/*
 * stream_ceiling.c - the read ceiling for tests/bench/e2e_export.sh: every
 * stream record of a table read with GetStreamRecord, one thread per shard
 * (the export runs one channel per shard), and nothing else done with the
 * records (the client's own PlainBuffer decode and checksum are the only
 * processing).  Prints one line:
 *
 *   stream_ceiling: records N shards S seconds T records/s R
 *
 *   stream_ceiling ENDPOINT INSTANCE ID:SECRET TABLE
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ots.h"
#include "sign.h"

struct ceil_shard {
	struct ots	*ots;
	const char	*stream_id;
	const char	*shard_id;
	long long	 records;
	int		 rc;
	char		 msg[768];
};

static void *
ceil_read(void *arg)
{
	struct ceil_shard *s = arg;
	struct ots_error err;
	char *it = NULL;

	s->rc = ots_get_shard_iterator(s->ots, s->stream_id, s->shard_id, -1, &it, &err);
	while (s->rc == 0 && it != NULL) {
		struct ots_record_batch *b = NULL;

		s->rc = ots_get_stream_record(s->ots, it, 0, &b, &err);
		free(it);
		it = NULL;
		if (s->rc != 0)
			break;
		s->records += (long long)b->n;
		/* an empty batch with an iterator: caught up with an open shard */
		if (b->n > 0 && b->next_iterator != NULL && (it = strdup(b->next_iterator)) == NULL)
			s->rc = -ENOMEM;
		ots_record_batch_free(b);
	}
	if (s->rc != 0)
		snprintf(s->msg, sizeof(s->msg), "%s: %s", eng_strerror(s->rc), err.message);
	free(it);
	return NULL;
}

static double
ceil_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct ots_stream_list *sl = NULL;
	struct ots_stream_desc *d = NULL;
	struct ceil_shard *sh = NULL;
	pthread_t *th = NULL;
	struct sign_cred *cred = NULL;
	struct ots_config oc = { 0 };
	struct eng_errbuf eb = { "" };
	struct ots_error err;
	struct ots *o = NULL;
	char id[128], *colon;
	long long total = 0;
	double t0, t1;
	size_t i;
	int rc = 1;

	if (argc != 5 || (colon = strchr(argv[3], ':')) == NULL ||
	    (size_t)(colon - argv[3]) >= sizeof(id)) {
		fprintf(stderr, "usage: stream_ceiling ENDPOINT INSTANCE ID:SECRET TABLE\n");
		return 2;
	}
	memcpy(id, argv[3], (size_t)(colon - argv[3]));
	id[colon - argv[3]] = '\0';
	if (sign_cred_new(id, colon + 1, NULL, &cred) != 0)
		goto out;
	oc.endpoint = argv[1];
	oc.instance = argv[2];
	oc.cred = cred;
	if (ots_new(&oc, &o, &eb) != 0) {
		fprintf(stderr, "stream_ceiling: %s\n", eb.msg);
		goto out;
	}
	if (ots_list_stream(o, argv[4], &sl, &err) != 0 || sl->n == 0 ||
	    ots_describe_stream_all(o, sl->streams[0].stream_id, &d, &err) != 0) {
		fprintf(stderr, "stream_ceiling: no stream for %s: %s\n", argv[4], err.message);
		goto out;
	}
	if ((sh = calloc(d->nshards, sizeof(*sh))) == NULL ||
	    (th = calloc(d->nshards, sizeof(*th))) == NULL)
		goto out;
	for (i = 0; i < d->nshards; i++) {
		sh[i].stream_id = d->stream_id;
		sh[i].shard_id = d->shards[i].shard_id;
		if (ots_clone(o, &sh[i].ots) != 0)
			goto out;
	}
	t0 = ceil_now();
	for (i = 0; i < d->nshards; i++)
		if (pthread_create(&th[i], NULL, ceil_read, &sh[i]) != 0)
			goto out;
	for (i = 0; i < d->nshards; i++)
		pthread_join(th[i], NULL);
	t1 = ceil_now();
	rc = 0;
	for (i = 0; i < d->nshards; i++) {
		total += sh[i].records;
		if (sh[i].rc != 0) {
			fprintf(stderr, "stream_ceiling: shard %s: %s\n", sh[i].shard_id, sh[i].msg);
			rc = 1;
		}
	}
	printf("stream_ceiling: records %lld shards %zu seconds %.3f records/s %.0f\n", total,
	    d->nshards, t1 - t0, (double)total / (t1 - t0));
out:
	if (sh != NULL)
		for (i = 0; i < d->nshards; i++)
			ots_free(sh[i].ots);
	free(sh);
	free(th);
	ots_stream_desc_free(d);
	ots_stream_list_free(sl);
	ots_free(o);
	sign_cred_free(cred);
	return rc;
}
