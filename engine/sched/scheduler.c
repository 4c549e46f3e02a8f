/* SPDX-License-Identifier: MIT */
/*
 * scheduler.c - cycle scheduling, the instance state machine, reruns,
 * self-dependency, catch-up, backfill and ctl commands (see scheduler.h).
 *
 * In memory (protected by sched->lock): the job table, the pending list
 * (every instance not in a terminal state, sorted by job then cycle, so
 * that a step never scans history) and the running list.  In the store:
 * instance records (inst.h), instance logs, and per-job scheduling state
 * in STORE_DB_META under "job\0NAME" ({"last_cycle","paused","defined_ms"}).
 * Every transition is one store transaction that writes the record and its
 * log line together.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ckpt.h"
#include "cycle.h"
#include "json.h"
#include "log.h"
#include "run.h"
#include "scheduler.h"

#define SCHED_JOBLOG	"joblog"
#define SCHED_JDIR_PFX	"jdir"	/**< META "jdir\0JOB": instances/JOB mtime */
#define SCHED_MAX_CREATE 200000	/**< instances one step may create for a job */

struct sched_def {
	struct conf_job	*job;
	struct tz	*tz;
	int		 refs;		/**< protected by sched->lock */
};

struct sched_job {
	char		*name;
	struct sched_def *def;
	bool		 paused;
	int64_t		 removed_ms;	/**< 0: defined */
	bool		 has_last;
	int64_t		 last_cycle;	/**< UTC s of the last created cycle */
	int64_t		 defined_ms;
	struct sched_job *next;
};

struct sched_pend {
	char		 job[256];
	char		 cycle[16];
	int64_t		 cyctime;
	enum inst_state	 state;
	int64_t		 next_try_ms;
	enum inst_trigger trigger;
	char		 reason[256];
	struct sched_pend *next;	/**< sorted by (job, cycle) */
	struct sched_pend *prev;
	struct sched_pend *hnext;	/**< hash chain */
};

#define SCHED_PEND_BUCKETS	65536u

struct sched_run {
	struct sched	*s;
	char		 job[256];
	char		 cycle[16];
	atomic_int	 cancel;
	int		 why;		/**< 1: killed through ctl, 2: shutdown */
	struct pipe_stats stats;
	/* what `status` shows while it runs: the counters as of the run's last
	 * log line, so the file changes only when the log does (protected by
	 * s->lock) */
	int64_t		 snap_read, snap_written, snap_dirty, snap_bytes, snap_ms;
	struct sched_def *def;
	struct param_set params;	/**< copy of the instance's parameters */
	int		 attempt;
	int64_t		 cyctime;
	struct sched_run *next;
};

struct sched {
	struct sched_config cfg;
	struct tz	*local;		/**< the machine's zone */
	pthread_mutex_t	 lock;
	pthread_cond_t	 idle_cv;	/**< signalled when a run ends */
	pthread_cond_t	 wake_cv;	/**< wakes the background thread */
	struct sched_job *jobs;		/* protected by lock */
	struct sched_pend *pending;	/* protected by lock; sorted list head */
	struct sched_pend *pending_tail;	/* protected by lock */
	struct sched_pend **pending_hash;	/* SCHED_PEND_BUCKETS chains, protected by lock */
	struct sched_run *running;	/* protected by lock */
	int		 nrunning;	/* protected by lock */
	pthread_t	 thread;
	bool		 thread_on;
	bool		 stopping;	/* protected by lock */
};

/* ---- small helpers ----------------------------------------------------------- */

static int64_t
sched_now(const struct sched *s)
{
	struct timespec ts;

	if (s->cfg.now_ms != NULL)
		return s->cfg.now_ms(s->cfg.now_arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sched_def_unref(struct sched_def *d)
{
	if (d == NULL || --d->refs > 0)
		return;
	conf_job_free(d->job);
	tz_free(d->tz);
	free(d);
}

/* drop a reference taken under s->lock, from outside it */
static void
sched_def_put(struct sched *s, struct sched_def *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	sched_def_unref(d);
	pthread_mutex_unlock(&s->lock);
}

static struct sched_job *
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
static int
sched_fmt_line(struct sched *s, const struct tz *tz, enum log_level lvl,
    const char *msg, struct buf *out)
{
	static const char *const names[] = { "ERROR", "WARN", "INFO", "DEBUG" };
	char iso[48];

	if (inst_iso(sched_now(s), tz, iso, sizeof(iso)) != 0)
		(void)snprintf(iso, sizeof(iso), "-");
	return buf_printf(out, "%s %s %s\n", iso, names[lvl], msg);
}

/* ---- store access -------------------------------------------------------------- */

static int
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

static int
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
static void
sched_log(struct sched *s, const char *job, const char *cycle, const struct tz *tz,
    enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void
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
	buf_init(&line, sizeof(msg) + 128);
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

struct sched_jsarg {
	const struct sched_job *j;
};

static int
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

static int
sched_jobstate_save(struct sched *s, const struct sched_job *j)
{
	struct sched_jsarg a = { j };

	return store_update(s->cfg.store, sched_jobstate_put_fn, &a);
}

struct sched_jsload {
	struct sched_job *j;
	bool		  found;
};

static int
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

static struct sched_pend *
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
	free(p);
}

/*
 * Insert or update from a record; terminal states remove.  O(1) for the
 * usual cases: lookups hash, and new cycles are inserted walking back from
 * the tail (they are nearly always the newest).
 */
static int
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
	}
	p->cyctime = in->cyctime;
	p->state = in->state;
	p->next_try_ms = in->next_try_ms;
	p->trigger = in->trigger;
	(void)snprintf(p->reason, sizeof(p->reason), "%s", in->reason);
	return 0;
}

/* ---- transitions ------------------------------------------------------------- */

/*
 * A transition: load the record, let mut() change it and write the log
 * line, save — one transaction.  mut returns 0, or an error to abort.
 */
typedef int sched_mut_fn(struct inst *in, void *arg, struct buf *logmsg);

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
	buf_init(&line, 4096);
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
static int
sched_transition(struct sched *s, const char *job, const char *cycle, const struct tz *tz,
    sched_mut_fn *mut, void *arg, bool create, struct inst *out)
{
	struct sched_tr t = { .s = s, .job = job, .cycle = cycle, .tz = tz,
	    .mut = mut, .arg = arg, .create = create };
	int rc;

	inst_init(&t.in);
	rc = store_update(s->cfg.store, sched_tr_fn, &t);
	if (rc == 0) {
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

/* ---- instance creation ----------------------------------------------------------- */

static int
sched_create(struct sched *s, struct sched_job *j, int64_t t, enum inst_state st,
    enum inst_trigger trig, const char *reason, int64_t now)
{
	const struct conf_schedule *sch = conf_job_schedule(j->def->job);
	struct eng_errbuf eb = { "" };
	struct inst in;
	int rc;

	inst_init(&in);
	(void)snprintf(in.job, sizeof(in.job), "%s", j->name);
	if ((rc = cycle_id_format(t, j->def->tz, in.cycle)) != 0)
		goto out;
	in.state = st;
	in.cyctime = t;
	in.created_ms = now;
	in.trigger = trig;
	in.rerun_times = sch != NULL ? (int)sch->rerun_times : 0;
	in.rerun_interval_s = sch != NULL ? sch->rerun_interval_s : 0;
	(void)snprintf(in.reason, sizeof(in.reason), "%s", reason);
	if (st != INST_SKIPPED && sch != NULL && sch->nparams > 0 &&
	    param_resolve_all(sch->params, sch->nparams, j->def->tz, t, &in.params, &eb) != 0) {
		in.state = INST_FAILED;
		(void)snprintf(in.error, sizeof(in.error), "%s", eb.msg);
		(void)snprintf(in.reason, sizeof(in.reason),
		    "parameters cannot be resolved: %.200s", eb.msg);
	}
	rc = sched_transition(s, j->name, in.cycle, j->def->tz, NULL, &in, true, NULL);
out:
	inst_free(&in);
	return rc;
}

/* create every cycle that is due for j; catch-up bounded by schedule.catchup */
static int
sched_create_due(struct sched *s, struct sched_job *j, int64_t now)
{
	const struct conf_schedule *sch = conf_job_schedule(j->def->job);
	int64_t t, nows = now / 1000;
	int made = 0, rc;
	char why[160];

	if (sch == NULL)
		return 0;
	if (j->has_last)
		rc = cycle_next(&sch->spec, j->def->tz, j->last_cycle, &t);
	else
		rc = cycle_next(&sch->spec, j->def->tz, j->defined_ms / 1000 - 1, &t);
	if (rc != 0)
		return rc;
	while (t <= nows && made < SCHED_MAX_CREATE) {
		if (nows - t > sch->catchup_s) {
			(void)snprintf(why, sizeof(why),
			    "skipped: the cycle is older than schedule.catchup (%llds) "
			    "when the scheduler reached it", (long long)sch->catchup_s);
			rc = sched_create(s, j, t, INST_SKIPPED, INST_SCHEDULED, why, now);
		} else {
			rc = sched_create(s, j, t, INST_WAITING, INST_SCHEDULED,
			    "created for its cycle time", now);
		}
		if (rc != 0 && rc != -EEXIST)
			break;
		j->has_last = true;
		j->last_cycle = t;
		made++;
		if ((rc = cycle_next(&sch->spec, j->def->tz, t, &t)) != 0)
			break;
	}
	/*
	 * One save for the whole batch: after a crash before it, the cycles are
	 * created again and found to exist (-EEXIST), so nothing is lost.
	 */
	if (made > 0) {
		int r = sched_jobstate_save(s, j);

		if (rc == 0)
			rc = r;
	}
	return rc == -EEXIST ? 0 : rc;
}

/* ---- starting and finishing runs ---------------------------------------------- */

static int
sched_mut_start(struct inst *in, void *arg, struct buf *msg)
{
	int64_t now = *(const int64_t *)arg;

	in->state = INST_RUNNING;
	in->attempt++;
	in->started_ms = now;
	in->finished_ms = 0;
	in->next_try_ms = 0;
	in->records_read = in->records_written = in->dirty = in->bytes = 0;
	in->error[0] = '\0';
	buf_reset(&in->outputs);
	(void)snprintf(in->reason, sizeof(in->reason), "attempt %d of %d running",
	    in->attempt, inst_attempts_allowed(in));
	return buf_printf(msg, "RUNNING: attempt %d of %d started", in->attempt,
	    inst_attempts_allowed(in));
}

struct sched_fin {
	int		 rc;
	int		 why;
	const char	*err;
	int64_t		 now;
	const struct pipe_stats *st;
	const struct buf *outputs;
	const struct buf *resolved;	/**< may be NULL */
	const struct tz	*tz;
};

static int
sched_mut_finish(struct inst *in, void *arg, struct buf *msg)
{
	const struct sched_fin *f = arg;
	char iso[48];

	in->finished_ms = f->now;
	in->records_read = atomic_load(&f->st->records_read);
	in->records_written = atomic_load(&f->st->records_written);
	in->dirty = atomic_load(&f->st->dirty);
	in->bytes = atomic_load(&f->st->bytes_written);
	buf_reset(&in->outputs);
	if (f->outputs->len > 0 && buf_add(&in->outputs, f->outputs->p, f->outputs->len) != 0)
		return -ENOMEM;
	if (f->resolved != NULL && f->resolved->len > 0 &&
	    (in->job_json.len != f->resolved->len ||
	    memcmp(in->job_json.p, f->resolved->p, f->resolved->len) != 0)) {
		buf_reset(&in->job_json);
		if (buf_add(&in->job_json, f->resolved->p, f->resolved->len) != 0)
			return -ENOMEM;
		in->jobjson_ms = f->now;
	}
	if (f->rc == 0) {
		in->state = INST_SUCCESS;
		in->error[0] = '\0';
		(void)snprintf(in->reason, sizeof(in->reason), "attempt %d succeeded", in->attempt);
		return buf_printf(msg, "SUCCESS: attempt %d succeeded", in->attempt);
	}
	(void)snprintf(in->error, sizeof(in->error), "%s", f->err);
	if (f->why == 1) {
		in->state = INST_KILLED;
		(void)snprintf(in->reason, sizeof(in->reason), "attempt %d killed through ctl",
		    in->attempt);
		return buf_printf(msg, "KILLED: attempt %d killed through ctl", in->attempt);
	}
	if (f->why == 2) {
		in->state = INST_WAITING;
		in->attempt_base = in->attempt;
		(void)snprintf(in->reason, sizeof(in->reason),
		    "the daemon stopped during attempt %d; it reruns as attempt %d",
		    in->attempt, in->attempt + 1);
		return buf_printf(msg, "WAITING: %s", in->reason);
	}
	if (in->attempt < inst_attempts_allowed(in)) {
		in->state = INST_RETRY_WAIT;
		in->next_try_ms = f->now + in->rerun_interval_s * 1000;
		if (inst_iso(in->next_try_ms, f->tz, iso, sizeof(iso)) != 0)
			iso[0] = '\0';
		(void)snprintf(in->reason, sizeof(in->reason),
		    "attempt %d failed; automatic rerun %d of %d at %s", in->attempt,
		    in->attempt - in->attempt_base, in->rerun_times, iso);
		return buf_printf(msg, "RETRY_WAIT: attempt %d failed: %s; automatic rerun "
		    "%d of %d at %s", in->attempt, f->err, in->attempt - in->attempt_base,
		    in->rerun_times, iso);
	}
	in->state = INST_FAILED;
	(void)snprintf(in->reason, sizeof(in->reason),
	    "attempt %d failed; no automatic rerun left (rerun.times = %d)",
	    in->attempt, in->rerun_times);
	return buf_printf(msg, "FAILED: attempt %d failed: %s; no automatic rerun left "
	    "(rerun.times = %d)", in->attempt, f->err, in->rerun_times);
}

struct sched_runlog {
	struct sched	*s;
	const char	*job;
	const char	*cycle;
	const struct tz	*tz;
	struct sched_run *r;
};

static void
sched_run_log(void *arg, enum log_level lvl, const char *line)
{
	const struct sched_runlog *l = arg;
	struct sched_run *r = l->r;

	pthread_mutex_lock(&l->s->lock);
	r->snap_read = atomic_load(&r->stats.records_read);
	r->snap_written = atomic_load(&r->stats.records_written);
	r->snap_dirty = atomic_load(&r->stats.dirty);
	r->snap_bytes = atomic_load(&r->stats.bytes_written);
	r->snap_ms = sched_now(l->s);
	pthread_mutex_unlock(&l->s->lock);

	sched_log(l->s, l->job, l->cycle, l->tz, lvl, "%s", line);
}

static int64_t
sched_clock_cb(void *arg)
{
	return sched_now(arg);
}

struct sched_win {
	int64_t		 start, end;
	const struct tz	*tz;
};

static int
sched_mut_window(struct inst *in, void *arg, struct buf *msg)
{
	const struct sched_win *w = arg;
	char a[48], b[48];

	in->window_start_ms = w->start;
	in->window_end_ms = w->end;
	if (inst_iso(w->start, w->tz, a, sizeof(a)) != 0 ||
	    inst_iso(w->end, w->tz, b, sizeof(b)) != 0)
		return buf_printf(msg, "window [%lld, %lld) ms", (long long)w->start,
		    (long long)w->end);
	return buf_printf(msg, "window [%s, %s) = [%lld, %lld) ms", a, b,
	    (long long)w->start, (long long)w->end);
}

static void
sched_run_window(void *arg, int64_t start_ms, int64_t end_ms)
{
	struct sched_run *r = arg;
	struct sched_win w = { start_ms, end_ms, r->def->tz };

	pthread_mutex_lock(&r->s->lock);
	(void)sched_transition(r->s, r->job, r->cycle, r->def->tz, sched_mut_window, &w,
	    false, NULL);
	pthread_mutex_unlock(&r->s->lock);
}

static int
sched_run_ckpt_put(void *arg, const char *sub, const void *val, size_t len)
{
	struct sched_run *r = arg;

	return ckpt_put(r->s->cfg.store, r->job, sub, val, len);
}

static int
sched_run_ckpt_get(void *arg, const char *sub, struct buf *out)
{
	struct sched_run *r = arg;

	return ckpt_get(r->s->cfg.store, r->job, sub, out);
}

static void *
sched_run_main(void *p)
{
	struct sched_run *r = p;
	struct sched *s = r->s;
	struct sched_runlog rl = { s, r->job, r->cycle, r->def->tz, r };
	struct run_config rc_;
	struct eng_errbuf eb = { "" };
	struct buf outputs, resolved;
	struct sched_fin f;
	struct sched_run **rp;
	int rc;

	buf_init(&outputs, BUF_MAX_DOC);
	buf_init(&resolved, BUF_MAX_DOC);
	memset(&rc_, 0, sizeof(rc_));
	rc_.job = r->def->job;
	rc_.params = &r->params;
	rc_.sources = s->cfg.sources;
	rc_.sources_arg = s->cfg.sources_arg;
	rc_.tz = r->def->tz;
	rc_.instance = r->cycle;
	rc_.attempt = r->attempt;
	rc_.cyctime = r->cyctime;
	rc_.spool_dir = s->cfg.spool_dir;
	rc_.cancel = &r->cancel;
	rc_.log = sched_run_log;
	rc_.log_arg = &rl;
	rc_.now_ms = sched_clock_cb;
	rc_.now_arg = s;
	rc_.progress_ms = s->cfg.progress_ms;
	rc_.outputs = &outputs;
	rc_.resolved = &resolved;
	rc_.window = sched_run_window;
	rc_.window_arg = r;
	rc_.ckpt_put = sched_run_ckpt_put;
	rc_.ckpt_get = sched_run_ckpt_get;
	rc_.ckpt_arg = r;
	rc = run_job(&rc_, &r->stats, &eb);

	pthread_mutex_lock(&s->lock);
	f.rc = rc;
	f.why = rc != 0 ? r->why : 0;
	f.err = eb.msg[0] != '\0' ? eb.msg : eng_strerror(rc);
	f.now = sched_now(s);
	f.st = &r->stats;
	f.outputs = &outputs;
	f.resolved = &resolved;
	f.tz = r->def->tz;
	rc = sched_transition(s, r->job, r->cycle, r->def->tz, sched_mut_finish, &f, false, NULL);
	if (rc != 0)
		log_errorx("cannot record the end of %s/%s: %s", r->job, r->cycle, eng_strerror(rc));
	for (rp = &s->running; *rp != NULL; rp = &(*rp)->next)
		if (*rp == r) {
			*rp = r->next;
			break;
		}
	s->nrunning--;
	sched_def_unref(r->def);
	pthread_cond_broadcast(&s->idle_cv);
	pthread_cond_broadcast(&s->wake_cv);
	pthread_mutex_unlock(&s->lock);
	param_set_free(&r->params);
	buf_free(&outputs);
	buf_free(&resolved);
	free(r);
	return NULL;
}

/* called with s->lock held */
static int
sched_start_run(struct sched *s, struct sched_job *j, struct sched_pend *p, int64_t now)
{
	struct sched_run *r;
	struct inst in;
	pthread_attr_t attr;
	pthread_t th;
	int rc;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	inst_init(&in);
	rc = sched_transition(s, p->job, p->cycle, j->def->tz, sched_mut_start, &now, false, &in);
	if (rc != 0) {
		inst_free(&in);
		free(r);
		return rc;
	}
	r->s = s;
	(void)snprintf(r->job, sizeof(r->job), "%s", in.job);
	(void)snprintf(r->cycle, sizeof(r->cycle), "%s", in.cycle);
	atomic_init(&r->cancel, 0);
	pipe_stats_init(&r->stats);
	r->def = j->def;
	r->def->refs++;
	r->attempt = in.attempt;
	r->cyctime = in.cyctime;
	/* adopt the parameters */
	r->params = in.params;
	in.params.v = NULL;
	in.params.n = 0;
	inst_free(&in);
	r->next = s->running;
	s->running = r;
	s->nrunning++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&th, &attr, sched_run_main, r);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		struct sched_fin f = { .rc = -rc, .why = 0, .err = "cannot start a thread",
		    .now = now, .st = &r->stats, .tz = j->def->tz };
		struct buf empty;

		buf_init(&empty, 1);
		f.outputs = &empty;
		(void)sched_transition(s, r->job, r->cycle, j->def->tz, sched_mut_finish, &f,
		    false, NULL);
		s->running = r->next;
		s->nrunning--;
		sched_def_unref(r->def);
		param_set_free(&r->params);
		free(r);
		return -rc;
	}
	return 0;
}

/* ---- waiting reasons ----------------------------------------------------------- */

struct sched_prev {
	char		cycle[16];
	enum inst_state	state;
	bool		found;
};

static int
sched_prev_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct sched_prev *pv = arg;
	const char *k = key;
	struct inst in;

	if (klen < STORE_CYCLE_LEN)
		return 1;
	inst_init(&in);
	if (inst_decode(val, vlen, &in) == 0) {
		memcpy(pv->cycle, k + klen - STORE_CYCLE_LEN, STORE_CYCLE_LEN);
		pv->cycle[STORE_CYCLE_LEN] = '\0';
		pv->state = in.state;
		pv->found = true;
	}
	inst_free(&in);
	return 1;	/* only the first (nearest) one */
}

struct sched_prevq {
	const char	*job;
	const char	*cycle;
	struct sched_prev *out;
};

static int
sched_prev_fn(struct store_txn *txn, void *arg)
{
	struct sched_prevq *q = arg;
	char prefix[STORE_KEY_MAX + 1], start[STORE_KEY_MAX + 1];
	size_t plen = strlen(q->job) + 1, slen;
	int rc;

	if (plen > sizeof(prefix))
		return -ENAMETOOLONG;
	memcpy(prefix, q->job, plen);
	if ((rc = store_key_instance(start, sizeof(start), q->job, q->cycle, &slen)) != 0)
		return rc;
	return store_iter(txn, STORE_DB_INSTANCES, prefix, plen, start, slen,
	    STORE_ITER_REVERSE | STORE_ITER_EXCLUSIVE, sched_prev_cb, q->out);
}

struct sched_reason {
	const char *text;
};

static int
sched_mut_reason(struct inst *in, void *arg, struct buf *msg)
{
	const char *text = ((struct sched_reason *)arg)->text;

	(void)snprintf(in->reason, sizeof(in->reason), "%s", text);
	return buf_printf(msg, "%s: %s", inst_state_name(in->state), text);
}

/* record a new waiting reason (logged once per change) */
static void
sched_set_reason(struct sched *s, struct sched_pend *p, const struct tz *tz, const char *text)
{
	struct sched_reason a = { text };

	if (strcmp(p->reason, text) == 0)
		return;
	(void)sched_transition(s, p->job, p->cycle, tz, sched_mut_reason, &a, false, NULL);
}

/*
 * Called with s->lock held.  Work per step stays proportional to what can
 * start, not to the pending backlog (a backfill may queue 100,000
 * instances): once an instance of a self-dependent job is blocked, the
 * job's later instances are blocked too and are passed over without a
 * store access; once every worker is busy, nothing more can start.
 */
static void
sched_start_runnable(struct sched *s, int64_t now)
{
	struct sched_pend *p, *next;
	const char *blocked_job = NULL;
	char why[256];

	for (p = s->pending; p != NULL; p = next) {
		struct sched_job *j;
		const struct conf_schedule *sch;
		struct sched_run *r;
		bool busy = false;

		next = p->next;
		if (s->stopping)
			return;
		if (blocked_job != NULL && strcmp(p->job, blocked_job) == 0)
			continue;
		blocked_job = NULL;
		if (p->state == INST_RUNNING || p->state == INST_FROZEN)
			continue;
		if (p->state == INST_RETRY_WAIT && now < p->next_try_ms)
			continue;
		if (p->trigger == INST_SCHEDULED && p->cyctime * 1000 > now)
			continue;
		j = sched_find(s, p->job);
		if (j == NULL || j->def == NULL)
			continue;	/* history of a job that is not defined */
		if (j->paused) {
			sched_set_reason(s, p, j->def->tz, "waiting: the job is paused");
			blocked_job = p->job;
			continue;
		}
		sch = conf_job_schedule(j->def->job);
		if (sch != NULL && sch->self_dependent) {
			struct sched_prev pv = { "", INST_WAITING, false };
			struct sched_prevq q = { p->job, p->cycle, &pv };

			for (r = s->running; r != NULL; r = r->next)
				if (strcmp(r->job, p->job) == 0)
					busy = true;
			if (store_view(s->cfg.store, sched_prev_fn, &q) != 0)
				continue;
			if (pv.found && pv.state != INST_SUCCESS && pv.state != INST_SKIPPED) {
				(void)snprintf(why, sizeof(why),
				    "waiting for the previous cycle %s (%s): the job is self-dependent",
				    pv.cycle, inst_state_name(pv.state));
				sched_set_reason(s, p, j->def->tz, why);
				blocked_job = p->job;
				continue;
			}
			if (busy) {
				sched_set_reason(s, p, j->def->tz,
				    "waiting: another instance of this self-dependent job is running");
				blocked_job = p->job;
				continue;
			}
		}
		if (s->nrunning >= s->cfg.workers) {
			(void)snprintf(why, sizeof(why), "waiting for a free worker (%d of %d busy)",
			    s->nrunning, s->cfg.workers);
			sched_set_reason(s, p, j->def->tz, why);
			return;
		}
		if (sched_start_run(s, j, p, now) != 0)
			log_warnx("cannot start %s/%s", p->job, p->cycle);
	}
}

int
sched_step(struct sched *s)
{
	struct sched_job *j, **jp;
	int64_t now = sched_now(s);
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	for (jp = &s->jobs; (j = *jp) != NULL;) {
		if (j->removed_ms != 0 && now - j->removed_ms >= s->cfg.grace_ms) {
			*jp = j->next;
			log_warnx("job %s: removed: its file did not come back within the removal "
			    "grace period (its instance history stays)", j->name);
			sched_log(s, j->name, NULL, j->def->tz, LOG_LVL_WARN,
			    "job removed: its file did not come back within the removal grace period; "
			    "no new instances are scheduled; history stays");
			sched_def_unref(j->def);
			free(j->name);
			free(j);
			continue;
		}
		if (j->removed_ms == 0 && !j->paused) {
			int r = sched_create_due(s, j, now);

			if (r != 0) {
				log_warnx("job %s: cannot create instances: %s", j->name, eng_strerror(r));
				rc = r;
			}
		}
		jp = &j->next;
	}
	sched_start_runnable(s, now);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ---- ctl: instances ---------------------------------------------------------- */

static int
sched_mut_rerun(struct inst *in, void *arg, struct buf *msg)
{
	const char *why = arg;

	if (in->state == INST_RUNNING)
		return ENG_ESTATE;
	in->state = INST_WAITING;
	in->attempt_base = in->attempt;
	in->next_try_ms = 0;
	in->set_success = false;
	(void)snprintf(in->reason, sizeof(in->reason), "%s", why);
	return buf_printf(msg, "WAITING: %s (attempt %d next, %d allowed)", why,
	    in->attempt + 1, inst_attempts_allowed(in));
}

static int
sched_mut_set_success(struct inst *in, void *arg, struct buf *msg)
{
	(void)arg;
	if (in->state == INST_RUNNING)
		return ENG_ESTATE;
	in->state = INST_SUCCESS;
	in->set_success = true;
	(void)snprintf(in->reason, sizeof(in->reason), "set to success through ctl");
	return buf_printf(msg, "SUCCESS: set to success through ctl (nothing was run)");
}

static int
sched_mut_freeze(struct inst *in, void *arg, struct buf *msg)
{
	(void)arg;
	if (in->state != INST_WAITING && in->state != INST_RETRY_WAIT)
		return ENG_ESTATE;
	in->state = INST_FROZEN;
	(void)snprintf(in->reason, sizeof(in->reason), "frozen through ctl");
	return buf_printf(msg, "FROZEN: frozen through ctl; it will not start until unfrozen");
}

static int
sched_mut_unfreeze(struct inst *in, void *arg, struct buf *msg)
{
	(void)arg;
	if (in->state != INST_FROZEN)
		return ENG_ESTATE;
	in->state = INST_WAITING;
	in->next_try_ms = 0;
	(void)snprintf(in->reason, sizeof(in->reason), "unfrozen through ctl");
	return buf_printf(msg, "WAITING: unfrozen through ctl");
}

/* split a ctl line into words (at most 4) in place; returns the count */
static int
sched_words(char *line, char **w, int max)
{
	int n = 0;
	char *p = line;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (n == max)
			return max + 1;
		w[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
	}
	return n;
}

struct sched_icmd {
	const char	*name;
	sched_mut_fn	*mut;
	const char	*refused;	/**< why ENG_ESTATE */
	const char	*done;		/**< what it did (ctl's result) */
};

static const struct sched_icmd sched_icmds[] = {
	{ "rerun",       sched_mut_rerun,       "a running instance cannot be rerun; kill it first",
	  "a new attempt series is WAITING" },
	{ "kill",        NULL,                  "only a running instance can be killed",
	  "the running attempt is being stopped" },
	{ "set-success", sched_mut_set_success, "a running instance cannot be set to success; kill it first",
	  "SUCCESS without running" },
	{ "freeze",      sched_mut_freeze,      "only a WAITING or RETRY_WAIT instance can be frozen",
	  "FROZEN: it does not start until unfreeze" },
	{ "unfreeze",    sched_mut_unfreeze,    "only a FROZEN instance can be unfrozen",
	  "WAITING again" },
};

int
sched_ctl_instance(struct sched *s, const char *job, const char *cycle, const char *line,
    struct eng_errbuf *eb)
{
	const struct sched_icmd *c = NULL;
	struct sched_job *j;
	struct sched_def *d;
	struct sched_run *r;
	const struct tz *tz;
	char copy[256], *w[4];
	size_t i;
	int n, rc;

	(void)snprintf(copy, sizeof(copy), "%s", line);
	n = sched_words(copy, w, 3);
	pthread_mutex_lock(&s->lock);
	j = sched_find(s, job);
	if ((d = j != NULL ? j->def : NULL) != NULL)
		d->refs++;	/* keeps tz alive after unlocking */
	tz = d != NULL ? d->tz : s->local;
	for (i = 0; n >= 1 && i < sizeof(sched_icmds) / sizeof(sched_icmds[0]); i++)
		if (strcmp(w[0], sched_icmds[i].name) == 0)
			c = &sched_icmds[i];
	if (n == 0 || c == NULL || n != 1) {
		rc = eng_errbuf_set(eb, ENG_EINVAL, n == 0 ? "empty control message" :
		    c == NULL ? "unknown control message '%s' (instance ctl takes: rerun, kill, "
		    "set-success, freeze, unfreeze)" : "bad # args: '%s' takes no argument",
		    n > 0 ? w[0] : "");
		pthread_mutex_unlock(&s->lock);
		sched_log(s, job, cycle, tz, LOG_LVL_WARN, "ctl: %s", eb != NULL ? eb->msg :
		    "invalid control message");
		sched_def_put(s, d);
		return ENG_EINVAL;
	}
	if (c->mut == NULL) {	/* kill */
		for (r = s->running; r != NULL; r = r->next)
			if (strcmp(r->job, job) == 0 && strcmp(r->cycle, cycle) == 0)
				break;
		if (r == NULL) {
			if (d != NULL)
				sched_def_unref(d);
			pthread_mutex_unlock(&s->lock);
			return eng_errbuf_set(eb, ENG_ESTATE, "%s", c->refused);
		}
		r->why = 1;
		atomic_store(&r->cancel, 1);
		pthread_mutex_unlock(&s->lock);
		sched_log(s, job, cycle, tz, LOG_LVL_INFO, "ctl: kill requested");
		sched_def_put(s, d);
		return eng_errbuf_set(eb, 0, "%s: %s", c->name, c->done);
	}
	rc = sched_transition(s, job, cycle, tz, c->mut,
	    (void *)(uintptr_t)"rerun requested through ctl", false, NULL);
	if (d != NULL)
		sched_def_unref(d);
	pthread_mutex_unlock(&s->lock);
	if (rc == ENG_ESTATE)
		return eng_errbuf_set(eb, rc, "%s", c->refused);
	if (rc == -ENOENT)
		return eng_errbuf_set(eb, rc, "no instance %s/%s", job, cycle);
	if (rc != 0)
		return eng_errbuf_set(eb, rc, "%s: %s", w[0], eng_strerror(rc));
	sched_wake(s);
	return eng_errbuf_set(eb, 0, "%s: %s", w[0], c->done);
}

/* ---- ctl: jobs ----------------------------------------------------------------- */

/* create (or rerun) the instance of cycle t for a manual run/backfill; lock held */
static int
sched_manual(struct sched *s, struct sched_job *j, int64_t t, enum inst_trigger trig,
    int64_t now, int *skipped_running)
{
	char cycle[16];
	int rc;

	if ((rc = cycle_id_format(t, j->def->tz, cycle)) != 0)
		return rc;
	rc = sched_create(s, j, t, INST_WAITING, trig,
	    trig == INST_BACKFILL ? "created by backfill" : "created by run", now);
	if (rc != -EEXIST)
		return rc;
	rc = sched_transition(s, j->name, cycle, j->def->tz, sched_mut_rerun,
	    (void *)(uintptr_t)(trig == INST_BACKFILL ? "rerun by backfill" : "rerun by run"),
	    false, NULL);
	if (rc == ENG_ESTATE) {
		(*skipped_running)++;
		sched_log(s, j->name, cycle, j->def->tz, LOG_LVL_INFO,
		    "%s: this instance is running; left alone",
		    trig == INST_BACKFILL ? "backfill" : "run");
		return 0;
	}
	return rc;
}

static int
sched_parse_cycle(struct sched_job *j, const char *arg, int64_t *t, struct eng_errbuf *eb)
{
	const struct conf_schedule *sch = conf_job_schedule(j->def->job);
	int rc;

	if ((rc = cycle_id_parse(arg, strlen(arg), j->def->tz, t, eb)) != 0)
		return ENG_EINVAL;
	if (sch != NULL && !cycle_is_cycle(&sch->spec, j->def->tz, *t))
		return eng_errbuf_set(eb, ENG_EINVAL,
		    "%s is not a cycle time of this job (cycle %s)", arg, sch->cycle);
	return 0;
}

int
sched_ctl_job(struct sched *s, const char *job, const char *line, struct eng_errbuf *eb)
{
	struct eng_errbuf e = { "" };
	const struct conf_schedule *sch;
	struct sched_job *j;
	int64_t now = sched_now(s), t, from, to;
	char copy[256], *w[4];
	int n, rc = 0, made = 0, busy = 0;

	(void)snprintf(copy, sizeof(copy), "%s", line);
	n = sched_words(copy, w, 3);
	pthread_mutex_lock(&s->lock);
	if ((j = sched_find(s, job)) == NULL || j->def == NULL) {
		pthread_mutex_unlock(&s->lock);
		return eng_errbuf_set(eb, -ENOENT, "job %s is not defined", job);
	}
	sch = conf_job_schedule(j->def->job);
	if (n >= 1 && strcmp(w[0], "run") == 0 && n <= 2) {
		if (n == 2) {
			if ((rc = sched_parse_cycle(j, w[1], &t, &e)) != 0)
				goto bad;
		} else if (sch != NULL) {
			/* the current cycle: the latest cycle time <= now */
			int64_t lo = now / 1000 - 2 * 86400, c = lo, nx;

			t = -1;
			while (cycle_next(&sch->spec, j->def->tz, c, &nx) == 0 && nx <= now / 1000) {
				t = nx;
				c = nx;
			}
			if (t < 0) {
				rc = eng_errbuf_set(&e, ENG_EINVAL, "no cycle of this job is due yet");
				goto bad;
			}
		} else {
			t = now / 1000;
		}
		rc = sched_manual(s, j, t, INST_MANUAL, now, &busy);
		if (rc == 0) {
			char cid[16];

			if (cycle_id_format(t, j->def->tz, cid) != 0)
				(void)snprintf(cid, sizeof(cid), "?");
			(void)eng_errbuf_set(&e, 0, "%s: instance %s %s", line, cid, busy > 0 ?
			    "is running: left alone" : "queued");
			sched_log(s, job, NULL, j->def->tz, LOG_LVL_INFO, "ctl: %s", e.msg);
		}
	} else if (n >= 1 && strcmp(w[0], "backfill") == 0 && n == 3) {
		if ((rc = cycle_id_parse(w[1], strlen(w[1]), j->def->tz, &from, &e)) != 0 ||
		    (rc = cycle_id_parse(w[2], strlen(w[2]), j->def->tz, &to, &e)) != 0) {
			rc = ENG_EINVAL;
			goto bad;
		}
		if (sch == NULL) {
			rc = eng_errbuf_set(&e, ENG_EINVAL,
			    "backfill needs a job with a schedule; use 'run YYYYMMDDHHMMSS'");
			goto bad;
		}
		if (to <= from) {
			rc = eng_errbuf_set(&e, ENG_EINVAL,
			    "backfill FROM TO covers [FROM, TO): TO must be later than FROM");
			goto bad;
		}
		for (rc = cycle_next(&sch->spec, j->def->tz, from - 1, &t);
		    rc == 0 && t < to && made < SCHED_MAX_CREATE;
		    rc = cycle_next(&sch->spec, j->def->tz, t, &t)) {
			if ((rc = sched_manual(s, j, t, INST_BACKFILL, now, &busy)) != 0)
				break;
			made++;
		}
		if (rc == 0 && made == 0) {
			rc = eng_errbuf_set(&e, ENG_EINVAL,
			    "backfill %s %s covers no cycle (the range is [FROM, TO))", w[1], w[2]);
			goto bad;
		}
		if (rc == 0) {
			(void)eng_errbuf_set(&e, 0, "%s: %d instance%s queued in cycle order%s",
			    line, made, made == 1 ? "" : "s",
			    busy > 0 ? " (running ones left alone)" : "");
			sched_log(s, job, NULL, j->def->tz, LOG_LVL_INFO, "ctl: %s", e.msg);
		}
	} else if (n == 1 && (strcmp(w[0], "pause") == 0 || strcmp(w[0], "resume") == 0)) {
		j->paused = strcmp(w[0], "pause") == 0;
		rc = sched_jobstate_save(s, j);
		if (rc == 0) {
			(void)eng_errbuf_set(&e, 0, "%s: %s", w[0], j->paused ?
			    "no instance is created or started until resume" :
			    "missed cycles are created now (catch-up)");
			sched_log(s, job, NULL, j->def->tz, LOG_LVL_INFO, "ctl: %s", e.msg);
		}
	} else {
		if (n >= 1 && (strcmp(w[0], "run") == 0 || strcmp(w[0], "backfill") == 0 ||
		    strcmp(w[0], "pause") == 0 || strcmp(w[0], "resume") == 0))
			rc = eng_errbuf_set(&e, ENG_EINVAL, "bad # args: usage: run [YYYYMMDDHHMMSS] | "
			    "backfill FROM TO | pause | resume");
		else
			rc = eng_errbuf_set(&e, ENG_EINVAL, "unknown control message '%s' (job ctl "
			    "takes: run [YYYYMMDDHHMMSS], backfill FROM TO, pause, resume)",
			    n > 0 ? w[0] : "");
		goto bad;
	}
	pthread_mutex_unlock(&s->lock);
	if (rc != 0)
		return eng_errbuf_set(eb, rc, "%s: %s", line, eng_strerror(rc));
	(void)eng_errbuf_set(eb, 0, "%s", e.msg);	/* what was done, for ctl's reader */
	sched_wake(s);
	return 0;
bad:
	{
		struct sched_def *d = j->def;	/* j is defined on every path to bad */

		d->refs++;
		pthread_mutex_unlock(&s->lock);
		sched_log(s, job, NULL, d->tz, LOG_LVL_WARN, "ctl: refused '%s': %s", line, e.msg);
		sched_def_put(s, d);
	}
	eng_errbuf_set(eb, rc, "%s", e.msg);
	return rc;
}

/* ---- jobs -------------------------------------------------------------------- */

int
sched_job_set(struct sched *s, const char *name, struct conf_job *job, struct eng_errbuf *eb)
{
	const struct conf_schedule *sch = conf_job_schedule(job);
	struct sched_def *d = NULL;
	struct sched_job *j;
	struct sched_jsload l;
	int rc = -ENOMEM;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		conf_job_free(job);
		return -ENOMEM;
	}
	d->job = job;
	d->refs = 1;
	if ((rc = tz_load(sch != NULL ? sch->timezone : NULL, &d->tz, eb)) != 0) {
		sched_def_unref(d);
		return rc;
	}
	pthread_mutex_lock(&s->lock);
	if ((j = sched_find(s, name)) == NULL) {
		if ((j = calloc(1, sizeof(*j))) == NULL || (j->name = strdup(name)) == NULL) {
			free(j);
			pthread_mutex_unlock(&s->lock);
			sched_def_unref(d);
			return -ENOMEM;
		}
		l.j = j;
		l.found = false;
		if ((rc = store_view(s->cfg.store, sched_jobstate_get_fn, &l)) != 0) {
			free(j->name);
			free(j);
			pthread_mutex_unlock(&s->lock);
			sched_def_unref(d);
			return eng_errbuf_set(eb, rc, "job %s: reading its state: %s", name,
			    eng_strerror(rc));
		}
		if (!l.found)
			j->defined_ms = sched_now(s);
		j->next = s->jobs;
		s->jobs = j;
		if ((rc = sched_jobstate_save(s, j)) != 0)
			log_warnx("job %s: cannot save its state: %s", name, eng_strerror(rc));
	}
	sched_def_unref(j->def);
	j->def = d;
	j->removed_ms = 0;
	pthread_mutex_unlock(&s->lock);
	sched_wake(s);
	return 0;
}

int
sched_job_remove(struct sched *s, const char *name)
{
	struct sched_job *j;
	int rc = -ENOENT;

	pthread_mutex_lock(&s->lock);
	if ((j = sched_find(s, name)) != NULL) {
		if (j->removed_ms == 0)
			j->removed_ms = sched_now(s);
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

bool
sched_job_defined(struct sched *s, const char *name)
{
	bool b;

	pthread_mutex_lock(&s->lock);
	b = sched_find(s, name) != NULL;
	pthread_mutex_unlock(&s->lock);
	return b;
}

int
sched_job_info(struct sched *s, const char *name, struct sched_jobinfo *out)
{
	struct sched_job *j;
	int rc = -ENOENT;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	if ((j = sched_find(s, name)) != NULL) {
		out->paused = j->paused;
		out->removing = j->removed_ms != 0;
		out->scheduled = conf_job_schedule(j->def->job) != NULL;
		out->defined_ms = j->defined_ms;
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

size_t
sched_jobs_using(struct sched *s, const char *source, void (*fn)(void *, const char *),
    void *arg)
{
	struct sched_job *j;
	char **names = NULL, **nv;
	size_t n = 0, cap = 0, i;
	const char *r, *w;

	/* collect under the lock, call without it (fn may log into the jobs) */
	pthread_mutex_lock(&s->lock);
	for (j = s->jobs; j != NULL; j = j->next) {
		if (j->def == NULL || j->removed_ms != 0)
			continue;
		r = conf_job_datasource(j->def->job, CONF_READER);
		w = conf_job_datasource(j->def->job, CONF_WRITER);
		if ((r == NULL || strcmp(r, source) != 0) && (w == NULL || strcmp(w, source) != 0))
			continue;
		if (n == cap) {
			if ((nv = realloc(names, (cap * 2 + 8) * sizeof(*nv))) == NULL)
				break;
			names = nv;
			cap = cap * 2 + 8;
		}
		if ((names[n] = strdup(j->name)) != NULL)
			n++;
	}
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < n; i++) {
		fn(arg, names[i]);
		free(names[i]);
	}
	free(names);
	return n;
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

/* ---- lifecycle ----------------------------------------------------------------- */

struct sched_load {
	struct sched	*s;
	struct inst	**recover;	/**< RUNNING records to recover */
	size_t		 nrecover;
	int		 rc;
};

static int
sched_load_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct sched_load *l = arg;
	struct inst in, **nr;

	(void)key;
	(void)klen;
	inst_init(&in);
	if (inst_decode(val, vlen, &in) != 0) {
		inst_free(&in);
		log_warnx("state store: skipping an unreadable instance record");
		return 0;
	}
	if (in.state == INST_RUNNING) {
		if ((nr = realloc(l->recover, (l->nrecover + 1) * sizeof(*nr))) == NULL ||
		    (nr[l->nrecover] = malloc(sizeof(struct inst))) == NULL) {
			if (nr != NULL)
				l->recover = nr;
			inst_free(&in);
			return -ENOMEM;
		}
		l->recover = nr;
		*nr[l->nrecover++] = in;
		return 0;
	}
	if (!inst_state_terminal(in.state) && sched_pend_sync(l->s, &in) != 0) {
		inst_free(&in);
		return -ENOMEM;
	}
	inst_free(&in);
	return 0;
}

static int
sched_load_fn(struct store_txn *txn, void *arg)
{
	return store_iter(txn, STORE_DB_INSTANCES, NULL, 0, NULL, 0, 0, sched_load_cb, arg);
}

static int
sched_mut_recover(struct inst *in, void *arg, struct buf *msg)
{
	(void)arg;
	if (in->state != INST_RUNNING)
		return 0;
	in->state = INST_WAITING;
	in->attempt_base = in->attempt;
	(void)snprintf(in->reason, sizeof(in->reason),
	    "the daemon restarted during attempt %d; rerunning as attempt %d",
	    in->attempt, in->attempt + 1);
	return buf_printf(msg, "WAITING: %s", in->reason);
}

void
sched_wake(struct sched *s)
{
	pthread_mutex_lock(&s->lock);
	pthread_cond_broadcast(&s->wake_cv);
	pthread_mutex_unlock(&s->lock);
}

int
sched_new(const struct sched_config *cfg, struct sched **out, struct eng_errbuf *eb)
{
	struct sched *s;
	struct sched_load l;
	size_t i;
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->cfg = *cfg;
	if (s->cfg.workers <= 0)
		s->cfg.workers = 4;
	if (s->cfg.grace_ms <= 0)
		s->cfg.grace_ms = 60000;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle_cv, NULL);
	pthread_cond_init(&s->wake_cv, NULL);
	if ((s->pending_hash = calloc(SCHED_PEND_BUCKETS, sizeof(*s->pending_hash))) == NULL) {
		sched_free(s);
		return -ENOMEM;
	}
	if ((rc = tz_load(NULL, &s->local, eb)) != 0 && (rc = tz_utc(&s->local)) != 0) {
		sched_free(s);
		return rc;
	}
	memset(&l, 0, sizeof(l));
	l.s = s;
	rc = store_view(s->cfg.store, sched_load_fn, &l);
	for (i = 0; i < l.nrecover; i++) {
		struct inst *in = l.recover[i];

		if (rc == 0) {
			rc = sched_transition(s, in->job, in->cycle, s->local, sched_mut_recover,
			    NULL, false, NULL);
			if (rc == 0)
				log_info("%s/%s: was RUNNING when the daemon stopped; rerunning as "
				    "attempt %d", in->job, in->cycle, in->attempt + 1);
		}
		inst_free(in);
		free(in);
	}
	free(l.recover);
	if (rc != 0) {
		eng_errbuf_set(eb, rc, "loading instances: %s", eng_strerror(rc));
		sched_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int
sched_wait_idle(struct sched *s, int timeout_ms)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	while (s->nrunning > 0 && rc == 0)
		rc = pthread_cond_timedwait(&s->idle_cv, &s->lock, &ts);
	pthread_mutex_unlock(&s->lock);
	return rc == 0 ? 0 : -ETIMEDOUT;
}

static void *
sched_thread_main(void *p)
{
	struct sched *s = p;

	for (;;) {
		struct timespec ts;

		pthread_mutex_lock(&s->lock);
		if (s->stopping) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		pthread_mutex_unlock(&s->lock);
		(void)sched_step(s);
		pthread_mutex_lock(&s->lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		if (!s->stopping)
			(void)pthread_cond_timedwait(&s->wake_cv, &s->lock, &ts);
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

int
sched_start(struct sched *s)
{
	int rc;

	if (s->thread_on)
		return 0;
	if ((rc = pthread_create(&s->thread, NULL, sched_thread_main, s)) != 0)
		return -rc;
	s->thread_on = true;
	return 0;
}

void
sched_stop(struct sched *s)
{
	struct sched_run *r;

	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	for (r = s->running; r != NULL; r = r->next) {
		if (r->why == 0)
			r->why = 2;
		atomic_store(&r->cancel, 1);
	}
	pthread_cond_broadcast(&s->wake_cv);
	pthread_mutex_unlock(&s->lock);
	if (s->thread_on) {
		pthread_join(s->thread, NULL);
		s->thread_on = false;
	}
	/* runs notice the cancel flag within a fraction of a second */
	while (sched_wait_idle(s, 1000) != 0)
		log_info("waiting for running instances to stop");
}

void
sched_free(struct sched *s)
{
	struct sched_job *j;
	struct sched_pend *p;

	if (s == NULL)
		return;
	sched_stop(s);
	while ((j = s->jobs) != NULL) {
		s->jobs = j->next;
		sched_def_unref(j->def);
		free(j->name);
		free(j);
	}
	while ((p = s->pending) != NULL) {
		s->pending = p->next;
		free(p);
	}
	free(s->pending_hash);
	tz_free(s->local);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->idle_cv);
	pthread_cond_destroy(&s->wake_cv);
	free(s);
}
