/* SPDX-License-Identifier: MIT */
/*
 * ckpt.c - reader checkpoint mirror in the state store (see ckpt.h).
 */
#include <errno.h>
#include <string.h>

#include "ckpt.h"

struct ckpt_q {
	const char	*job;
	const char	*sub;
	const void	*val;
	size_t		 len;
	struct buf	*out;
};

static int
ckpt_key(const struct ckpt_q *q, char *key, size_t ksz, size_t *klen)
{
	size_t a = strlen(q->job), b = strlen(q->sub);

	if (a == 0 || a + 1 + b > ksz)
		return -ENAMETOOLONG;
	memcpy(key, q->job, a);
	key[a] = '\0';
	memcpy(key + a + 1, q->sub, b);
	*klen = a + 1 + b;
	return 0;
}

static int
ckpt_put_fn(struct store_txn *txn, void *arg)
{
	const struct ckpt_q *q = arg;
	char key[STORE_KEY_MAX];
	size_t klen;
	int rc;

	if ((rc = ckpt_key(q, key, sizeof(key), &klen)) != 0)
		return rc;
	return store_put(txn, STORE_DB_CHECKPOINTS, key, klen, q->val, q->len, 0);
}

static int
ckpt_get_fn(struct store_txn *txn, void *arg)
{
	const struct ckpt_q *q = arg;
	char key[STORE_KEY_MAX];
	size_t klen;
	int rc;

	if ((rc = ckpt_key(q, key, sizeof(key), &klen)) != 0)
		return rc;
	return store_get_buf(txn, STORE_DB_CHECKPOINTS, key, klen, q->out);
}

int
ckpt_put(struct store *st, const char *job, const char *sub, const void *val, size_t len)
{
	struct ckpt_q q = { job, sub, val, len, NULL };

	return store_update(st, ckpt_put_fn, &q);
}

int
ckpt_get(struct store *st, const char *job, const char *sub, struct buf *out)
{
	struct ckpt_q q = { job, sub, NULL, 0, out };

	return store_view(st, ckpt_get_fn, &q);
}
