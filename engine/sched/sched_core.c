/* SPDX-License-Identifier: MIT */
/*
 * sched_core.c - what every part of the scheduler shares (see sched_i.h): the store
 * access, per-job state, the pending list, transitions, reading a record.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched_i.h"

/* ---- small helpers ----------------------------------------------------------- */

int64_t
sched_now(const struct sched *s)
{
	struct timespec ts;

	if (s->cfg.now_ms != NULL)
		return s->cfg.now_ms(s->cfg.now_arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sched_def_unref(struct sched_def *d)
{
	if (d == NULL || --d->refs > 0)
		return;
	conf_job_free(d->job);
	tz_free(d->tz);
	free(d);
}

/* drop a reference taken under s->lock, from outside it */
void
sched_def_put(struct sched *s, struct sched_def *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	sched_def_unref(d);
	pthread_mutex_unlock(&s->lock);
}

struct sched_job *
sched_find(struct sched *s, const char *name)
{
	struct sched_job *j;

	for (j = s->jobs; j != NULL; j = j->next)
		if (strcmp(j->name, name) == 0)
			return j;
	return NULL;
}

int
sched_joblog_key(const char *job, char *out, size_t outsz, size_t *klen)
{
	size_t n = strlen(job);

	if (n == 0 || n + 1 + sizeof(SCHED_JOBLOG) - 1 > outsz)
		return -ENAMETOOLONG;
	memcpy(out, job, n);
	out[n] = '\0';
	memcpy(out + n + 1, SCHED_JOBLOG, sizeof(SCHED_JOBLOG) - 1);
	*klen = n + 1 + sizeof(SCHED_JOBLOG) - 1;
	return 0;
}

/* format one log line "ISO LEVEL msg\n" */
int
sched_fmt_line(struct sched *s, const struct tz *tz, enum log_level lvl,
    const char *msg, struct buf *out)
{
	static const char *const names[] = { "ERROR", "WARN", "INFO", "DEBUG" };
	char iso[48];

	size_t ml = strlen(msg), el = log_escaped_len(msg, ml);
	int rc;

	if (inst_iso(sched_now(s), tz, iso, sizeof(iso)) != 0)
		(void)snprintf(iso, sizeof(iso), "-");
	/* one entry, one line: a "\n" from a ctl write or a name is \x0a */
	if ((rc = buf_printf(out, "%s %s ", iso, names[lvl])) != 0 ||
	    (rc = buf_reserve(out, el + 2)) != 0)
		return rc;
	out->len += log_escape(msg, ml, out->p + out->len, el + 1);
	return buf_addc(out, '\n');
}

/* ---- store access -------------------------------------------------------------- */

int
sched_inst_load(struct store_txn *txn, const char *job, const char *cycle, struct inst *in)
{
	char key[STORE_KEY_MAX + 1];
	const void *v;
	size_t klen, vlen;
	int rc;

	if ((rc = store_key_instance(key, sizeof(key), job, cycle, &klen)) != 0)
		return rc;
	if ((rc = store_get(txn, STORE_DB_INSTANCES, key, klen, &v, &vlen)) != 0)
		return rc;
	return inst_decode(v, vlen, in);
}

int
sched_inst_save(struct store_txn *txn, const struct inst *in, const char *logline)
{
	char key[STORE_KEY_MAX + 1];
	struct buf b;
	size_t klen;
	int rc;

	if ((rc = store_key_instance(key, sizeof(key), in->job, in->cycle, &klen)) != 0)
		return rc;
	buf_init(&b, BUF_MAX_DOC);
	if ((rc = inst_encode(in, &b)) == 0)
		rc = store_put(txn, STORE_DB_INSTANCES, key, klen, b.p, b.len, 0);
	if (rc == 0 && logline != NULL && logline[0] != '\0')
		rc = store_log_append(txn, key, klen, logline, strlen(logline), in->updated_ms, NULL);
	buf_free(&b);
	return rc;
}

struct sched_logarg {
	const char	*key;
	size_t		 klen;
	const char	*line;
	int64_t		 at_ms;
};

static int
sched_log_fn(struct store_txn *txn, void *arg)
{
	struct sched_logarg *a = arg;

	return store_log_append(txn, a->key, a->klen, a->line, strlen(a->line), a->at_ms, NULL);
}

/* append msg to an instance log (cycle) or the job log (cycle NULL) */

void
sched_log(struct sched *s, const char *job, const char *cycle, const struct tz *tz,
    enum log_level lvl, const char *fmt, ...)
{
	char key[STORE_KEY_MAX + 1], msg[2048];
	struct sched_logarg a;
	struct buf line;
	size_t klen;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cycle != NULL)
		rc = store_key_instance(key, sizeof(key), job, cycle, &klen);
	else
		rc = sched_joblog_key(job, key, sizeof(key), &klen);
	if (rc != 0)
		return;
	buf_init(&line, 4 * sizeof(msg) + 128);	/* room for \xHH */
	if (sched_fmt_line(s, tz != NULL ? tz : s->local, lvl, msg, &line) == 0) {
		a.key = key;
		a.klen = klen;
		a.line = line.p;
		a.at_ms = sched_now(s);
		if ((rc = store_update(s->cfg.store, sched_log_fn, &a)) != 0)
			log_warnx("cannot append to the log of %s%s%s: %s", job,
			    cycle != NULL ? "/" : "", cycle != NULL ? cycle : "", eng_strerror(rc));
	}
	buf_free(&line);
	if (s->cfg.notify != NULL)
		s->cfg.notify(s->cfg.notify_arg, job, cycle);
}

void
sched_job_log(struct sched *s, const char *job, enum log_level lvl, const char *fmt, ...)
{
	struct sched_job *j;
	struct sched_def *d = NULL;
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* the job's zone, if it is defined (a reference: the definition may be
	 * replaced while the line is written) */
	pthread_mutex_lock(&s->lock);
	if ((j = sched_find(s, job)) != NULL && (d = j->def) != NULL)
		d->refs++;
	pthread_mutex_unlock(&s->lock);
	sched_log(s, job, NULL, d != NULL ? d->tz : NULL, lvl, "%s", msg);
	sched_def_put(s, d);
}

/* ---- per-job state (META "job\0NAME") --------------------------------------- */

static size_t
sched_jobstate_key(const char *name, char *key, size_t ksz)
{
	size_t n = strlen(name);

	if (n + 4 > ksz)
		return 0;
	memcpy(key, "job", 4);	/* includes the NUL separator */
	memcpy(key + 4, name, n);
	return n + 4;
}


int
sched_jobstate_put_fn(struct store_txn *txn, void *arg)
{
	const struct sched_job *j = ((struct sched_jsarg *)arg)->j;
	char key[STORE_KEY_MAX + 1];
	struct json *o;
	struct buf b;
	size_t klen;
	int rc;

	if ((klen = sched_jobstate_key(j->name, key, sizeof(key))) == 0)
		return -ENAMETOOLONG;
	if ((o = json_new_object()) == NULL)
		return -ENOMEM;
	rc = json_obj_add_int(o, "last_cycle", j->has_last ? j->last_cycle : -1);
	rc |= json_obj_add_bool(o, "paused", j->paused);
	rc |= json_obj_add_int(o, "defined_ms", j->defined_ms);
	buf_init(&b, 4096);
	if (rc == 0 && (rc = json_print(o, 0, &b)) == 0)
		rc = store_put(txn, STORE_DB_META, key, klen, b.p, b.len, 0);
	json_free(o);
	buf_free(&b);
	return rc != 0 && rc > -4096 && rc < 0 ? rc : (rc != 0 ? -ENOMEM : 0);
}

int
sched_jobstate_save(struct sched *s, const struct sched_job *j)
{
	struct sched_jsarg a = { j };

	return store_update(s->cfg.store, sched_jobstate_put_fn, &a);
}


int
sched_jobstate_get_fn(struct store_txn *txn, void *arg)
{
	struct sched_jsload *l = arg;
	char key[STORE_KEY_MAX + 1];
	struct json_doc *doc = NULL;
	const struct json *o;
	const void *v;
	size_t klen, vlen;
	double d;
	bool b;
	int rc;

	if ((klen = sched_jobstate_key(l->j->name, key, sizeof(key))) == 0)
		return -ENAMETOOLONG;
	rc = store_get(txn, STORE_DB_META, key, klen, &v, &vlen);
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	if (json_parse(v, vlen, &doc, NULL) != 0)
		return ENG_ECORRUPT;
	o = json_doc_root(doc);
	if (json_num(json_get(o, "last_cycle"), &d) == 0 && d >= 0) {
		l->j->has_last = true;
		l->j->last_cycle = (int64_t)d;
	}
	if (json_bool(json_get(o, "paused"), &b) == 0)
		l->j->paused = b;
	if (json_num(json_get(o, "defined_ms"), &d) == 0)
		l->j->defined_ms = (int64_t)d;
	l->found = true;
	json_doc_free(doc);
	return 0;
}

/* ---- the pending list --------------------------------------------------------- */

static int
sched_pend_cmp(const char *job1, const char *cyc1, const char *job2, const char *cyc2)
{
	int c = strcmp(job1, job2);

	return c != 0 ? c : strcmp(cyc1, cyc2);
}

static uint32_t
sched_pend_hash(const char *job, const char *cycle)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *job != '\0'; job++)
		h = (h ^ (unsigned char)*job) * 16777619u;
	h = (h ^ 0xffu) * 16777619u;
	for (; *cycle != '\0'; cycle++)
		h = (h ^ (unsigned char)*cycle) * 16777619u;
	return h % SCHED_PEND_BUCKETS;
}

struct sched_pend *
sched_pend_find(struct sched *s, const char *job, const char *cycle)
{
	struct sched_pend *p;

	for (p = s->pending_hash[sched_pend_hash(job, cycle)]; p != NULL; p = p->hnext)
		if (strcmp(p->job, job) == 0 && strcmp(p->cycle, cycle) == 0)
			return p;
	return NULL;
}

static void
sched_pend_unlink(struct sched *s, struct sched_pend *p)
{
	struct sched_pend **hp;

	for (hp = &s->pending_hash[sched_pend_hash(p->job, p->cycle)]; *hp != NULL;
	    hp = &(*hp)->hnext)
		if (*hp == p) {
			*hp = p->hnext;
			break;
		}
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		s->pending = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	else
		s->pending_tail = p->prev;
	s->npending--;
	free(p);
}

/*
 * Insert or update from a record; terminal states remove.  O(1) for the
 * usual cases: lookups hash, and new cycles are inserted walking back from
 * the tail (they are nearly always the newest).
 */
int
sched_pend_sync(struct sched *s, const struct inst *in)
{
	struct sched_pend *p, *q;
	uint32_t h;

	p = sched_pend_find(s, in->job, in->cycle);
	if (inst_state_terminal(in->state)) {
		if (p != NULL)
			sched_pend_unlink(s, p);
		return 0;
	}
	if (p == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return -ENOMEM;
		(void)snprintf(p->job, sizeof(p->job), "%s", in->job);
		(void)snprintf(p->cycle, sizeof(p->cycle), "%s", in->cycle);
		for (q = s->pending_tail; q != NULL; q = q->prev)
			if (sched_pend_cmp(q->job, q->cycle, p->job, p->cycle) < 0)
				break;
		/* insert after q (q NULL: at the head) */
		p->prev = q;
		p->next = q != NULL ? q->next : s->pending;
		if (p->next != NULL)
			p->next->prev = p;
		else
			s->pending_tail = p;
		if (q != NULL)
			q->next = p;
		else
			s->pending = p;
		h = sched_pend_hash(p->job, p->cycle);
		p->hnext = s->pending_hash[h];
		s->pending_hash[h] = p;
		s->npending++;
	}
	p->cyctime = in->cyctime;
	p->state = in->state;
	p->next_try_ms = in->next_try_ms;
	p->trigger = in->trigger;
	(void)snprintf(p->reason, sizeof(p->reason), "%s", in->reason);
	p->reason_ms = 0;	/* the record's own reason */
	return 0;
}

/* ---- transitions ------------------------------------------------------------- */


int
sched_jdir_key(const char *job, char *out, size_t outsz, size_t *klen)
{
	size_t n = strlen(job);

	if (n == 0 || sizeof(SCHED_JDIR_PFX) + n > outsz || sizeof(SCHED_JDIR_PFX) + n > STORE_KEY_MAX)
		return -ENAMETOOLONG;
	memcpy(out, SCHED_JDIR_PFX, sizeof(SCHED_JDIR_PFX));	/* with the NUL */
	memcpy(out + sizeof(SCHED_JDIR_PFX), job, n);
	*klen = sizeof(SCHED_JDIR_PFX) + n;
	return 0;
}

int
sched_jdir_touch(struct store_txn *txn, const char *job, int64_t ms)
{
	char key[STORE_KEY_MAX + 1], val[24];
	size_t klen;
	int rc, n;

	if ((rc = sched_jdir_key(job, key, sizeof(key), &klen)) != 0)
		return rc;
	n = snprintf(val, sizeof(val), "%lld", (long long)ms);
	if (n < 0 || (size_t)n >= sizeof(val))
		return -EOVERFLOW;
	return store_put(txn, STORE_DB_META, key, klen, val, (size_t)n, 0);
}

struct sched_tr {
	struct sched	*s;
	const char	*job;
	const char	*cycle;
	const struct tz	*tz;
	sched_mut_fn	*mut;
	void		*arg;
	struct inst	 in;		/**< the record as written */
	bool		 create;	/**< arg is a prepared record to insert */
	int		 was;		/**< its state before (-1: created) */
};

static int
sched_tr_fn(struct store_txn *txn, void *arg)
{
	struct sched_tr *t = arg;
	struct buf msg, line;
	int rc;

	inst_free(&t->in);
	inst_init(&t->in);
	buf_init(&msg, 2048);
	buf_init(&line, 4 * 2048 + 128);	/* msg as \xHH at worst */
	if (t->create) {
		const struct inst *src = t->arg;
		struct inst tmp;

		inst_init(&tmp);
		rc = sched_inst_load(txn, t->job, t->cycle, &tmp);
		inst_free(&tmp);
		if (rc == 0) {
			rc = -EEXIST;
			goto out;
		}
		if (rc != -ENOENT)
			goto out;
		/* shallow copy of scalars; params and outputs copied below */
		memcpy(&t->in, src, sizeof(t->in));
		t->was = -1;
		t->in.attempts = NULL;	/* a prepared record has none */
		t->in.nattempts = 0;
		buf_init(&t->in.outputs, BUF_MAX_DOC);
		t->in.params.v = NULL;
		t->in.params.n = 0;
		if (src->params.n > 0) {
			size_t i;

			if ((t->in.params.v = calloc(src->params.n, sizeof(*t->in.params.v))) == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			for (i = 0; i < src->params.n; i++) {
				if ((t->in.params.v[i].name = strdup(src->params.v[i].name)) == NULL ||
				    (t->in.params.v[i].value = strdup(src->params.v[i].value)) == NULL) {
					free(t->in.params.v[i].name);
					t->in.params.v[i].name = NULL;
					rc = -ENOMEM;
					goto out;
				}
				t->in.params.n++;
			}
		}
		rc = buf_addstr(&msg, src->reason);
		t->in.updated_ms = t->in.state_ms = t->in.created_ms;
		if (rc == 0)
			rc = sched_jdir_touch(txn, t->job, t->in.created_ms);
	} else {
		enum inst_state was;

		if ((rc = sched_inst_load(txn, t->job, t->cycle, &t->in)) != 0)
			goto out;
		was = t->in.state;
		t->was = (int)was;
		if ((rc = t->mut(&t->in, t->arg, &msg)) != 0)
			goto out;
		t->in.updated_ms = sched_now(t->s);
		if (t->in.state != was)
			t->in.state_ms = t->in.updated_ms;
	}
	if (rc == 0 && msg.len > 0)
		rc = sched_fmt_line(t->s, t->tz, LOG_LVL_INFO, msg.p, &line);
	if (rc == 0)
		rc = sched_inst_save(txn, &t->in, line.len > 0 ? line.p : NULL);
out:
	buf_free(&msg);
	buf_free(&line);
	return rc;
}

/* run a transition; on success *out (may be NULL) gets the new record */
int
sched_transition(struct sched *s, const char *job, const char *cycle, const struct tz *tz,
    sched_mut_fn *mut, void *arg, bool create, struct inst *out)
{
	struct sched_tr t = { .s = s, .job = job, .cycle = cycle, .tz = tz,
	    .mut = mut, .arg = arg, .create = create };
	int rc;

	inst_init(&t.in);
	rc = store_update(s->cfg.store, sched_tr_fn, &t);
	if (rc == 0) {
		s->trgen++;
		sched_cnt_state(s, job, t.was, (int)t.in.state);
		rc = sched_pend_sync(s, &t.in);
		if (out != NULL) {
			inst_free(out);
			*out = t.in;
			inst_init(&t.in);
		}
	}
	inst_free(&t.in);
	if (s->cfg.notify != NULL && rc == 0)
		s->cfg.notify(s->cfg.notify_arg, job, cycle);
	return rc;
}

/* ---- reading ------------------------------------------------------------------ */

struct sched_getq {
	const char	*job;
	const char	*cycle;
	struct inst	*in;
};

static int
sched_get_fn(struct store_txn *txn, void *arg)
{
	struct sched_getq *q = arg;

	return sched_inst_load(txn, q->job, q->cycle, q->in);
}

int
sched_instance_get(struct sched *s, const char *job, const char *cycle, struct inst *in)
{
	struct sched_getq q = { job, cycle, in };
	struct sched_run *r;
	int rc;

	if ((rc = store_view(s->cfg.store, sched_get_fn, &q)) != 0)
		return rc;
	if (in->state == INST_WAITING || in->state == INST_RETRY_WAIT) {
		struct sched_pend *p;

		/* what it waits for now (kept in memory for a backlog, see
		 * sched_pick.c), with the time it became so */
		pthread_mutex_lock(&s->lock);
		p = sched_pend_find(s, job, cycle);
		if (p != NULL && p->reason_ms > 0 && strcmp(p->reason, in->reason) != 0) {
			(void)snprintf(in->reason, sizeof(in->reason), "%s", p->reason);
			if (p->reason_ms > in->updated_ms)
				in->updated_ms = p->reason_ms;
		}
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	if (in->state != INST_RUNNING)
		return 0;
	pthread_mutex_lock(&s->lock);
	for (r = s->running; r != NULL; r = r->next)
		if (strcmp(r->job, job) == 0 && strcmp(r->cycle, cycle) == 0 &&
		    r->snap_ms > 0) {
			in->records_read = r->snap_read;
			in->records_written = r->snap_written;
			in->dirty = r->snap_dirty;
			in->bytes = r->snap_bytes;
			if (r->snap_ms > in->updated_ms)
				in->updated_ms = r->snap_ms;
		}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

