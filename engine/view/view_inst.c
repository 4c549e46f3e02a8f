/* SPDX-License-Identifier: MIT */
/*
 * view_inst.c - instances/: one directory per job (defined, or deleted
 * with history), one per instance, read straight from the store:
 * listing a job is a prefix iteration of STORE_DB_INSTANCES ("JOB\0CYCLE")
 * whose cookies are the cycles themselves (YYYYMMDDHHMMSS as a number), so
 * a listing resumes correctly while instances are added; a lookup is one
 * B-tree get.  Generated files (state, status, params, job.json) are
 * rendered at open into the handle; logs are read live by offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "view_i.h"
#include "log.h"

#define VIEW_CTL_MAX	4096

static const struct {
	const char	*name;
	enum view_kind	 kind;
	mode_t		 mode;
} view_inst_files[] = {
	{ "ctl",	VIEW_K_I_CTL,	 S_IFREG | 0600 },
	{ "job.json",	VIEW_K_I_JOBJSON, S_IFREG | 0444 },
	{ "log",	VIEW_K_I_LOG,	 S_IFREG | 0444 },
	{ "params",	VIEW_K_I_PARAMS,	 S_IFREG | 0444 },
	{ "state",	VIEW_K_I_STATE,	 S_IFREG | 0444 },
	{ "status",	VIEW_K_I_STATUS,	 S_IFREG | 0444 },
};
#define VIEW_NIFILES	(sizeof(view_inst_files) / sizeof(view_inst_files[0]))

/* ---- helpers ---------------------------------------------------------------------- */

static bool
view_is_cycle(const char *s)
{
	size_t i;

	for (i = 0; i < STORE_CYCLE_LEN; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return s[STORE_CYCLE_LEN] == '\0';
}

/* UTC ns of a cycle name read in the job's zone (0 when it does not convert) */
static int64_t
view_cycle_ns(const struct tz *tz, const char *c)
{
	struct tz_tm tm;
	int64_t t;

	memset(&tm, 0, sizeof(tm));
	tm.year = (c[0] - '0') * 1000 + (c[1] - '0') * 100 + (c[2] - '0') * 10 + (c[3] - '0');
	tm.mon = (c[4] - '0') * 10 + (c[5] - '0');
	tm.mday = (c[6] - '0') * 10 + (c[7] - '0');
	tm.hour = (c[8] - '0') * 10 + (c[9] - '0');
	tm.min = (c[10] - '0') * 10 + (c[11] - '0');
	tm.sec = (c[12] - '0') * 10 + (c[13] - '0');
	if (tz == NULL || tz_to_utc(tz, &tm, &t, NULL) != 0)
		return 0;
	return t * 1000000000;
}

static uint64_t
view_cycle_num(const char *c)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < STORE_CYCLE_LEN; i++)
		v = v * 10 + (uint64_t)(c[i] - '0');
	return v;
}

struct view_q {
	const char	*job;
	const char	*cycle;
	bool		 found;
	char		 last[STORE_CYCLE_LEN + 1];
	uint64_t	 bytes;
	int64_t		 now_ms;	/**< > 0: `latest`'s rule (view_latest_cb) */
	bool		 fallback;	/**< last holds the newest non-future one */
	int		 scanned;
};

#define VIEW_LATEST_SCAN	2000	/* records `latest` looks at, newest first */

/*
 * `latest` is the newest instance that has started; while none of the
 * newest VIEW_LATEST_SCAN has, the newest whose cycle time has come (a
 * manual run or a backfill never makes a future one, but a job's history
 * may hold some from before); else simply the newest.
 */
static int
view_latest_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct view_q *q = arg;
	struct inst in;
	bool started, due;

	if (klen < STORE_CYCLE_LEN)
		return 0;
	/* a record that never started says "started_ms":0 (inst_encode writes
	 * every field): the common case, a backlog or SKIPPED history, is
	 * passed over without parsing it once the fallback is known */
	if (q->fallback && memmem(val, vlen, "\"started_ms\":0,", 15) != NULL)
		return ++q->scanned >= VIEW_LATEST_SCAN ? 1 : 0;
	inst_init(&in);
	if (inst_decode(val, vlen, &in) != 0) {
		inst_free(&in);
		return 0;
	}
	started = in.started_ms > 0;
	due = in.cyctime * 1000 <= q->now_ms;
	inst_free(&in);
	if (started || (due && !q->fallback) || !q->found) {
		memcpy(q->last, (const char *)key + klen - STORE_CYCLE_LEN, STORE_CYCLE_LEN);
		q->last[STORE_CYCLE_LEN] = '\0';
		q->found = true;
		if (due)
			q->fallback = true;
	}
	return started || ++q->scanned >= VIEW_LATEST_SCAN ? 1 : 0;
}

static int
view_q_inst_fn(struct store_txn *txn, void *arg)
{
	struct view_q *q = arg;
	char key[STORE_KEY_MAX + 1];
	const void *v;
	size_t klen, vlen;
	int rc;

	if ((rc = store_key_instance(key, sizeof(key), q->job, q->cycle, &klen)) != 0)
		return rc;
	rc = store_get(txn, STORE_DB_INSTANCES, key, klen, &v, &vlen);
	q->found = rc == 0;
	return rc == -ENOENT ? 0 : rc;
}

/* the newest instance of q->job into q->last (q->found) */
static int
view_q_last_fn(struct store_txn *txn, void *arg)
{
	struct view_q *q = arg;
	char pfx[STORE_KEY_MAX + 1];
	const void *k, *v;
	size_t plen = strlen(q->job) + 1, klen, vlen;
	int rc;

	if (plen > STORE_KEY_MAX - STORE_CYCLE_LEN)
		return -ENAMETOOLONG;
	memcpy(pfx, q->job, plen);
	if (q->now_ms > 0)
		return store_iter(txn, STORE_DB_INSTANCES, pfx, plen, NULL, 0, STORE_ITER_REVERSE,
		    view_latest_cb, q);
	rc = store_last(txn, STORE_DB_INSTANCES, pfx, plen, &k, &klen, &v, &vlen);
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	if (klen == plen + STORE_CYCLE_LEN) {
		memcpy(q->last, (const char *)k + plen, STORE_CYCLE_LEN);
		q->last[STORE_CYCLE_LEN] = '\0';
		q->found = true;
	}
	return 0;
}

static bool
view_job_has_history(struct eng *e, const char *job, char *last)
{
	struct view_q q;

	memset(&q, 0, sizeof(q));
	q.job = job;
	if (last != NULL)
		q.now_ms = view_now_ns(e) / 1000000;
	if (store_view(e->store, view_q_last_fn, &q) != 0 || !q.found)
		return false;
	if (last != NULL)
		memcpy(last, q.last, sizeof(q.last));
	return true;
}

static int
view_log_key(const char *job, const char *cycle, char *key, size_t ksz, size_t *klen)
{
	if (cycle == NULL)
		return sched_joblog_key(job, key, ksz, klen);
	return store_key_instance(key, ksz, job, cycle, klen);
}

/* a log's size and mtime (0: none kept) */
struct view_logq {
	const char	*job;
	const char	*cycle;		/* NULL: the job's log */
	struct store_log_hdr h;
};

static int
view_logq_fn(struct store_txn *txn, void *arg)
{
	struct view_logq *q = arg;
	char key[STORE_KEY_MAX + 1];
	size_t klen;
	int rc;

	if ((rc = view_log_key(q->job, q->cycle, key, sizeof(key), &klen)) != 0)
		return rc;
	return store_log_info(txn, key, klen, &q->h);
}

static int
view_log_info(struct eng *e, const char *job, const char *cycle, struct store_log_hdr *h)
{
	struct view_logq q;
	int rc;

	memset(&q, 0, sizeof(q));
	q.job = job;
	q.cycle = cycle;
	if ((rc = store_view(e->store, view_logq_fn, &q)) == 0)
		*h = q.h;
	return rc;
}

/* instances/JOB exists while the job is defined, has instances or has a
 * line in its log (a job whose file was never valid has one) */
static bool
view_job_exists(struct eng *e, const char *job)
{
	struct store_log_hdr h;

	return sched_job_defined(e->sched, job) || view_job_has_history(e, job, NULL) ||
	    (view_log_info(e, job, NULL, &h) == 0 && h.records > 0);
}

/* ms of a decimal META value (0 when absent or not a number) */
struct view_metaq {
	char		 key[STORE_KEY_MAX + 1];
	size_t		 klen;
	struct buf	*val;		/* NULL: as a number into ms */
	int64_t		 ms;
};

static int
view_metaq_fn(struct store_txn *txn, void *arg)
{
	struct view_metaq *q = arg;
	const void *v;
	size_t vl;
	char num[24];
	int rc;

	if (q->val != NULL)
		return store_get_buf(txn, STORE_DB_META, q->key, q->klen, q->val);
	if ((rc = store_get(txn, STORE_DB_META, q->key, q->klen, &v, &vl)) != 0)
		return rc;
	if (vl == 0 || vl >= sizeof(num))
		return 0;
	memcpy(num, v, vl);
	num[vl] = '\0';
	q->ms = strtoll(num, NULL, 10);
	return 0;
}

/* instances/JOB/'s mtime: its last instance created or removed (the
 * scheduler's "jdir" key), else the job's first definition */
static int64_t
view_jdir_ms(struct eng *e, const char *job)
{
	struct sched_jobinfo ji;
	struct view_metaq q;

	memset(&q, 0, sizeof(q));
	if (sched_jdir_key(job, q.key, sizeof(q.key), &q.klen) == 0 &&
	    store_view(e->store, view_metaq_fn, &q) == 0 && q.ms > 0)
		return q.ms;
	if (sched_job_info(e->sched, job, &ji) == 0 && ji.defined_ms > 0)
		return ji.defined_ms;
	return view_dirm_get(e, VIEW_DIRM_ROOT);
}

/* ---- rendering ------------------------------------------------------------------- */


static int
view_render_jobjson(struct eng *e, const struct inst *in, struct buf *out)
{
	struct conf_job *job = NULL, *res = NULL;
	struct buf raw;
	int rc;

	buf_init(&raw, ENG_FILE_MAX + 1);
	if (in->job_json.len > 0) {	/* what the last finished attempt ran */
		rc = buf_add(out, in->job_json.p, in->job_json.len);
		if (rc == 0 && in->job_json.p[in->job_json.len - 1] != '\n')
			rc = buf_addc(out, '\n');
		goto out;
	}
	if ((rc = view_defs_job_raw(e, in->job, &raw)) != 0) {
		rc = rc == -ENOENT ? buf_addstr(out, "{}\n") : rc;
		goto out;
	}
	if (conf_job_parse(in->job, raw.p, raw.len, view_src_lookup, e, NULL, &job) != 0) {
		/* cannot be parsed now (e.g. its source is gone): as stored, masked */
		rc = conf_mask_text(raw.p, raw.len, out);
		goto out;
	}
	if (conf_job_resolve(job, param_set_lookup, (void *)(uintptr_t)&in->params, NULL, NULL,
	    NULL, &res) == 0)
		rc = conf_job_render(res, true, out);
	else
		rc = conf_job_render(job, true, out);
out:
	conf_job_free(res);
	conf_job_free(job);
	buf_free(&raw);
	return rc;
}

/* ---- ctl files --------------------------------------------------------------------- */

static const char view_ctl_help_job[] =
    "# instances/%s/ctl: write one command, e.g. echo run > ctl\n"
    "#   run [YYYYMMDDHHMMSS]  create (or rerun) the current cycle's instance, or that cycle's\n"
    "#   backfill FROM TO      every cycle in [FROM, TO), queued in cycle order (past cycles\n"
    "#                         within the stream's retention, at most schedule.backfillLimit)\n"
    "#   backfill FROM TO force  the same over schedule.backfillLimit\n"
    "#   pause                 no instance is created or started until resume\n"
    "#   resume                scheduling again; missed cycles are created (catch-up)\n"
    "# Reading shows this help and the result of the last command.\n";
static const char view_ctl_help_inst[] =
    "# instances/%s/%s/ctl: write one command, e.g. echo rerun > ctl\n"
    "#   rerun        a new attempt series (not while RUNNING: kill first)\n"
    "#   rerun descendants  rerun, and every instance depending on this one (dependsOn)\n"
    "#   kill         stop the running attempt, or never start a waiting one: KILLED\n"
    "#   set-success  mark a FAILED, KILLED or WAITING instance SUCCESS without running\n"
    "#   freeze       a WAITING or RETRY_WAIT instance never starts until unfreeze\n"
    "#   unfreeze     back to WAITING\n"
    "# Reading shows this help and the result of the last command.\n";

/* META "ctl\0JOB\0CYCLE" (sched_ctl_key; CYCLE empty for the job's ctl):
 * "MS\nTEXT", TEXT being the last command's lines as ctl shows them */

static int
view_ctl_render(struct eng *e, const struct view_node *n, struct buf *out, int64_t *mtime_ns)
{
	struct sched_jobinfo ji;
	struct view_metaq q;
	struct buf v;
	struct inst in;
	const char *nl;
	int rc;

	if (n->kind == VIEW_K_JOB_CTL)
		rc = buf_printf(out, view_ctl_help_job, n->job);
	else
		rc = buf_printf(out, view_ctl_help_inst, n->job, n->cycle);
	if (rc != 0)
		return rc;
	memset(&q, 0, sizeof(q));
	buf_init(&v, BUF_MAX_SMALL);
	q.val = &v;
	if ((rc = sched_ctl_key(n->job, n->cycle, q.key, sizeof(q.key), &q.klen)) != 0)
		goto out;
	rc = store_view(e->store, view_metaq_fn, &q);
	if (rc == 0 && (nl = memchr(v.p, '\n', v.len)) != NULL) {
		*mtime_ns = strtoll(v.p, NULL, 10) * 1000000;
		rc = buf_add(out, nl + 1, v.len - (size_t)(nl + 1 - v.p));
		goto out;
	}
	if (rc != 0 && rc != -ENOENT)
		goto out;
	/* no command yet: the time the file came to be */
	*mtime_ns = view_dirm_get(e, VIEW_DIRM_ROOT) * 1000000;
	if (n->kind == VIEW_K_I_CTL) {
		inst_init(&in);
		if (sched_instance_get(e->sched, n->job, n->cycle, &in) == 0)
			*mtime_ns = in.created_ms * 1000000;
		inst_free(&in);
	} else if (sched_job_info(e->sched, n->job, &ji) == 0 && ji.defined_ms > 0) {
		*mtime_ns = ji.defined_ms * 1000000;
	}
	rc = buf_addstr(out, "# last command: none\n");
out:
	buf_free(&v);
	return rc;
}

struct view_ctlput {
	char		 key[STORE_KEY_MAX + 1];
	size_t		 klen;
	const struct buf *val;
};

static int
view_ctlput_fn(struct store_txn *txn, void *arg)
{
	struct view_ctlput *c = arg;

	return store_put(txn, STORE_DB_META, c->key, c->klen, c->val->p, c->val->len, 0);
}

/* Keep the result of a ctl command for its readers ("ok: ..."/"refused: ...") */
static void
view_ctl_result(struct eng *e, const struct view_node *n, pid_t pid, const char *cmd, int rc,
    const char *msg)
{
	struct view_ctlput c;
	struct buf v;
	char iso[48], who[96];
	int64_t ms = view_now_ns(e) / 1000000;
	const struct tz *tz = view_job_tz(e, n->job);
	int r;

	view_who(pid, who, sizeof(who));
	if (inst_iso(ms, tz, iso, sizeof(iso)) != 0)
		(void)snprintf(iso, sizeof(iso), "%lld", (long long)ms);
	buf_init(&v, BUF_MAX_SMALL);
	(void)buf_printf(&v, "%lld\n# last command at %s by %s: %s\n%s: %s\n", (long long)ms, iso,
	    who, cmd, rc == 0 ? "ok" : "refused", msg[0] != '\0' ? msg : eng_strerror(rc));
	if (v.err == 0 && sched_ctl_key(n->job, n->cycle, c.key, sizeof(c.key), &c.klen) == 0) {
		c.val = &v;
		if ((r = store_update(e->store, view_ctlput_fn, &c)) != 0)
			log_warnx("instances/%s%s%s/ctl: cannot keep the result: %s", n->job,
			    n->cycle != NULL ? "/" : "", n->cycle != NULL ? n->cycle : "",
			    eng_strerror(r));
	}
	buf_free(&v);
	if (e->cfg.inval_inode != NULL) {
		pthread_mutex_lock(&e->lock);
		e->cfg.inval_inode(e->cfg.inval_arg, n->ino);
		pthread_mutex_unlock(&e->lock);
	}
}

/* ---- rendering ------------------------------------------------------------------- */

/* job.json of an instance before it ran shows the running definition */
static int64_t
view_jobjson_ms(struct eng *e, const struct inst *in)
{
	char name[ENG_NAME_MAX + 8];
	int64_t def_ms = 0;

	if (in->job_json.len > 0)
		return in->jobjson_ms;
	(void)snprintf(name, sizeof(name), "%s.json", in->job);
	if (view_def_since(e, ENG_INO_JOBS, name, &def_ms) == 0 && def_ms > in->created_ms)
		return def_ms;
	return in->created_ms;
}

/*
 * Render a generated file into out; *mtime (ns) gets the time its content
 * last changed: every file's bytes and mtime move together.
 */
static int
view_render(struct eng *e, const struct view_node *n, struct buf *out, int64_t *mtime)
{
	struct inst in;
	int64_t ms = 0;
	size_t i;
	int rc;

	switch (n->kind) {
	case VIEW_K_STATUS:
		rc = view_status_render(e, out, &ms);
		*mtime = ms * 1000000;
		return rc;
	case VIEW_K_METRICS:
		rc = view_metrics_file(e, out, &ms);
		*mtime = ms * 1000000;
		return rc;
	case VIEW_K_JOB_SUMMARY:
		rc = view_summary_render(e, n->job, out, &ms);
		*mtime = ms * 1000000;
		return rc;
	case VIEW_K_JOB_CTL: case VIEW_K_I_CTL:
		return view_ctl_render(e, n, out, mtime);
	default:
		break;
	}
	inst_init(&in);
	if ((rc = sched_instance_get(e->sched, n->job, n->cycle, &in)) != 0)
		goto out;
	switch (n->kind) {
	case VIEW_K_I_STATE:
		*mtime = in.state_ms * 1000000;
		rc = buf_printf(out, "%s\n", inst_state_name(in.state));
		break;
	case VIEW_K_I_STATUS:
		*mtime = in.updated_ms * 1000000;
		rc = inst_status(&in, view_job_tz(e, n->job), out);
		break;
	case VIEW_K_I_PARAMS:
		*mtime = in.created_ms * 1000000;
		/* a secret's value shows as "******", a URL without its userinfo */
		for (i = 0; i < in.params.n && rc == 0; i++)
			if ((rc = buf_printf(out, "%s=", in.params.v[i].name)) == 0 &&
			    (rc = conf_mask_param(in.params.v[i].name, in.params.v[i].value, out)) == 0)
				rc = buf_addc(out, '\n');
		break;
	case VIEW_K_I_JOBJSON:
		*mtime = view_jobjson_ms(e, &in) * 1000000;
		rc = view_render_jobjson(e, &in, out);
		break;
	default:
		rc = -EINVAL;
		break;
	}
out:
	inst_free(&in);
	return rc;
}

/* ---- entries --------------------------------------------------------------------- */

static void
view_inst_dir_entry(struct eng *e, uint64_t ino, int64_t mtime, bool leaf, struct eng_entry *out)
{
	view_fill_attr(e, &out->attr, ino, S_IFDIR | 0755, 0, mtime);
	if (!leaf)
		out->attr.nlink = 1;	/* unknown number of subdirectories */
	out->attr_timeout = 1.0;
	out->entry_timeout = 1.0;
}

/* a log's mtime: its last line; logs from before that was kept: fallback */
static int64_t
view_log_mtime_ns(struct eng *e, const struct view_node *n, const struct store_log_hdr *h)
{
	struct inst in;
	int64_t ms;

	if (h->mtime_ms > 0)
		return h->mtime_ms * 1000000;
	if (n->cycle == NULL)
		return view_jdir_ms(e, n->job) * 1000000;
	inst_init(&in);
	ms = sched_instance_get(e->sched, n->job, n->cycle, &in) == 0 ? in.updated_ms :
	    view_dirm_get(e, VIEW_DIRM_ROOT);
	inst_free(&in);
	return ms * 1000000;
}

/*
 * Attributes of a node below instances/ (not a fixed directory).  Sizes
 * are the true sizes and mtimes the time the bytes last changed, so two
 * stats give the same answer until the content changes (tar, rsync).
 */
static int
view_inst_attr(struct eng *e, const struct view_node *n, struct eng_entry *out)
{
	struct store_log_hdr h;
	struct buf b;
	int64_t mtime = e->start_ns;
	char last[STORE_CYCLE_LEN + 1];
	mode_t mode = S_IFREG | 0444;
	size_t i;
	int rc = 0;

	switch (n->kind) {
	case VIEW_K_JOB:
		if (!view_job_exists(e, n->job))
			return -ENOENT;
		view_inst_dir_entry(e, n->ino, view_jdir_ms(e, n->job) * 1000000, false, out);
		/* 1 s like every directory: the kernel checks search permission
		 * on each path walk through it, so 0 would cost a GETATTR per
		 * stat below it; its mtime is at most 1 s behind */
		return 0;
	case VIEW_K_INST:
		view_inst_dir_entry(e, n->ino, view_cycle_ns(view_job_tz(e, n->job), n->cycle),
		    true, out);
		return 0;
	case VIEW_K_JOB_LATEST:
		if (!view_job_has_history(e, n->job, last))
			return -ENOENT;
		view_fill_attr(e, &out->attr, n->ino, S_IFLNK | 0777, STORE_CYCLE_LEN,
		    view_jdir_ms(e, n->job) * 1000000);
		out->attr_timeout = 0;
		out->entry_timeout = 0;
		return 0;
	case VIEW_K_JOB_LOG: case VIEW_K_I_LOG:
		if ((rc = view_log_info(e, n->job, n->kind == VIEW_K_I_LOG ? n->cycle : NULL, &h)) != 0)
			return rc;
		view_fill_attr(e, &out->attr, n->ino, S_IFREG | 0444, h.bytes,
		    view_log_mtime_ns(e, n, &h));
		break;
	default:
		buf_init(&b, BUF_MAX_DOC);
		rc = view_render(e, n, &b, &mtime);
		if (rc != 0) {
			buf_free(&b);
			return rc;
		}
		for (i = 0; i < VIEW_NIFILES; i++)
			if (view_inst_files[i].kind == n->kind)
				mode = view_inst_files[i].mode;
		if (n->kind == VIEW_K_JOB_CTL)
			mode = S_IFREG | 0600;
		view_fill_attr(e, &out->attr, n->ino, mode, b.len, mtime);
		buf_free(&b);
		break;
	}
	out->attr_timeout = 0;	/* live: tail -f polls the size */
	out->entry_timeout = 1.0;
	return 0;
}

int
view_inst_getattr(struct eng *e, struct view_node *n, struct eng_entry *out)
{
	return view_inst_attr(e, n, out);
}

/* make (or find) parent/name with kind, count a lookup, fill its entry */
static int
view_inst_make(struct eng *e, uint64_t parent, const char *name, enum view_kind kind,
    const char *job, const char *cycle, struct eng_entry *out)
{
	struct view_node *n;
	int rc;

	pthread_mutex_lock(&e->lock);
	if ((n = view_ns_make(e, parent, name, kind, job, cycle)) != NULL)
		n->nopen++;	/* pin while we compute the attributes */
	pthread_mutex_unlock(&e->lock);
	if (n == NULL)
		return -ENOMEM;
	rc = view_inst_attr(e, n, out);
	pthread_mutex_lock(&e->lock);
	n->nopen--;
	if (rc == 0)
		n->nlookup++;
	view_ns_maybe_free(e, n);
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int
view_inst_lookup(struct eng *e, struct view_node *p, const char *name, struct eng_entry *out)
{
	struct view_q q;
	size_t i;

	switch (p->kind) {
	case VIEW_K_INSTDIR:
		if (!view_job_name_ok(name))
			return -ENOENT;
		return view_inst_make(e, p->ino, name, VIEW_K_JOB, name, NULL, out);
	case VIEW_K_JOB:
		if (strcmp(name, "latest") == 0)
			return view_inst_make(e, p->ino, name, VIEW_K_JOB_LATEST, p->job, NULL, out);
		if (strcmp(name, "ctl") == 0)
			return view_inst_make(e, p->ino, name, VIEW_K_JOB_CTL, p->job, NULL, out);
		if (strcmp(name, "log") == 0)
			return view_inst_make(e, p->ino, name, VIEW_K_JOB_LOG, p->job, NULL, out);
		if (strcmp(name, "summary") == 0)
			return view_inst_make(e, p->ino, name, VIEW_K_JOB_SUMMARY, p->job, NULL, out);
		if (!view_is_cycle(name))
			return -ENOENT;
		memset(&q, 0, sizeof(q));
		q.job = p->job;
		q.cycle = name;
		if (store_view(e->store, view_q_inst_fn, &q) != 0 || !q.found)
			return -ENOENT;
		return view_inst_make(e, p->ino, name, VIEW_K_INST, p->job, name, out);
	case VIEW_K_INST:
		for (i = 0; i < VIEW_NIFILES; i++)
			if (strcmp(name, view_inst_files[i].name) == 0)
				return view_inst_make(e, p->ino, name, view_inst_files[i].kind, p->job,
				    p->cycle, out);
		return -ENOENT;
	default:
		return -ENOTDIR;
	}
}

/* ---- readdir ------------------------------------------------------------------ */

struct view_rd {
	struct eng	*e;
	struct view_node	*dir;
	int		 flags;
	eng_dirent_fn	*fn;
	void		*arg;
	bool		 full;
	const struct tz	*tz;
	size_t		 plen;
	/* instances/: job names (view_jobnames) */
	char		**names;
	size_t		 n;
};

/* emit one entry; with PLUS make its node and count the lookup.  Returns
 * true when the reply is full. */
static bool
view_rd_emit(struct view_rd *r, const char *name, mode_t type, enum view_kind kind,
    const char *job, const char *cycle, uint64_t next_off)
{
	struct eng *e = r->e;
	struct eng_dirent d;
	struct eng_entry ent;
	struct view_node *n;
	/* the summary is listed without attributes even in readdirplus (the
	 * kernel then takes no lookup): its size needs a pass over every
	 * instance record, which ls -l of a big job must not wait for */
	bool plus = (r->flags & ENG_READDIR_PLUS) && kind != VIEW_K_JOB_SUMMARY;
	bool full;

	memset(&d, 0, sizeof(d));
	d.name = name;
	d.type = type;
	d.next_off = next_off;
	pthread_mutex_lock(&e->lock);
	n = view_ns_find(e, r->dir->ino, name);
	if (n == NULL && plus)
		n = view_ns_make(e, r->dir->ino, name, kind, job, cycle);
	if (n != NULL)
		n->nopen++;
	pthread_mutex_unlock(&e->lock);
	if (plus && n == NULL)
		return true;
	d.ino = n != NULL ? n->ino : ((uint64_t)1 << 63) | (next_off & (((uint64_t)1 << 62) - 1));
	if (plus) {
		if (kind == VIEW_K_INST)	/* cheap: no record decoding for ls -l */
			view_inst_dir_entry(e, n->ino, view_cycle_ns(r->tz, cycle), true, &ent);
		else if (view_inst_attr(e, n, &ent) != 0)
			view_fill_attr(e, &ent.attr, n->ino, type, 0, e->start_ns);
		d.entry = &ent;
	}
	full = r->fn(r->arg, &d);
	if (n != NULL) {
		pthread_mutex_lock(&e->lock);
		n->nopen--;
		if (!full && plus)
			n->nlookup++;
		view_ns_maybe_free(e, n);
		pthread_mutex_unlock(&e->lock);
	}
	r->full = full;
	return full;
}

static int
view_rd_inst_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct view_rd *r = arg;
	char cycle[STORE_CYCLE_LEN + 1];

	(void)val;
	(void)vlen;
	if (klen != r->plen + STORE_CYCLE_LEN)
		return 0;
	memcpy(cycle, (const char *)key + r->plen, STORE_CYCLE_LEN);
	cycle[STORE_CYCLE_LEN] = '\0';
	if (!view_is_cycle(cycle))
		return 0;
	return view_rd_emit(r, cycle, S_IFDIR, VIEW_K_INST, r->dir->job, cycle,
	    view_cycle_num(cycle)) ? 1 : 0;
}

struct view_rd_job {
	struct view_rd	*r;
	uint64_t	 off;
};

static int
view_rd_job_fn(struct store_txn *txn, void *arg)
{
	struct view_rd_job *j = arg;
	struct view_rd *r = j->r;
	char start[STORE_KEY_MAX + 1];
	uint64_t v;
	int i;

	r->plen = strlen(r->dir->job) + 1;
	memcpy(start, r->dir->job, r->plen);
	if (j->off < 10000000000000ULL)
		return store_iter(txn, STORE_DB_INSTANCES, start, r->plen, NULL, 0, 0,
		    view_rd_inst_cb, r);
	v = j->off;
	for (i = STORE_CYCLE_LEN - 1; i >= 0; i--) {
		start[r->plen + (size_t)i] = (char)('0' + v % 10);
		v /= 10;
	}
	return store_iter(txn, STORE_DB_INSTANCES, start, r->plen, start,
	    r->plen + STORE_CYCLE_LEN, STORE_ITER_EXCLUSIVE, view_rd_inst_cb, r);
}

int
view_inst_readdir(struct eng *e, struct view_node *n, uint64_t off, int flags, eng_dirent_fn *fn,
    void *arg)
{
	struct view_rd r;
	struct view_rd_job j;
	struct eng_dirent d;
	char last[STORE_CYCLE_LEN + 1];
	size_t i;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	r.e = e;
	r.dir = n;
	r.flags = flags;
	r.fn = fn;
	r.arg = arg;
	/* "." and ".." (no lookup counted for them) */
	for (; off < 2; off++) {
		memset(&d, 0, sizeof(d));
		d.name = off == 0 ? "." : "..";
		d.ino = off == 0 ? n->ino : n->parent;
		d.type = S_IFDIR;
		d.next_off = off + 1;
		if (fn(arg, &d))
			return 0;
	}
	switch (n->kind) {
	case VIEW_K_INSTDIR:
		if ((rc = view_jobnames(e, &r.names, &r.n)) != 0)
			goto out;
		for (i = 0; i < r.n; i++) {
			if (i + 3 <= off)
				continue;	/* cookie off: resume after entry off - 3 */
			if (view_rd_emit(&r, r.names[i], S_IFDIR, VIEW_K_JOB, r.names[i], NULL, i + 3))
				break;
		}
		break;
	case VIEW_K_JOB:
		if (off <= 2 && view_rd_emit(&r, "ctl", S_IFREG, VIEW_K_JOB_CTL, n->job, NULL, 3))
			break;
		if (off <= 3 && view_job_has_history(e, n->job, last) &&
		    view_rd_emit(&r, "latest", S_IFLNK, VIEW_K_JOB_LATEST, n->job, NULL, 4))
			break;
		if (off <= 4 && view_rd_emit(&r, "log", S_IFREG, VIEW_K_JOB_LOG, n->job, NULL, 5))
			break;
		if (off <= 5 && view_rd_emit(&r, "summary", S_IFREG, VIEW_K_JOB_SUMMARY, n->job, NULL,
		    6))
			break;
		r.tz = view_job_tz(e, n->job);
		j.r = &r;
		j.off = off;
		rc = store_view(e->store, view_rd_job_fn, &j);
		break;
	case VIEW_K_INST:
		for (i = off - 2; i < VIEW_NIFILES; i++)
			if (view_rd_emit(&r, view_inst_files[i].name, S_IFREG, view_inst_files[i].kind,
			    n->job, n->cycle, i + 3))
				break;
		break;
	default:
		rc = -ENOTDIR;
		break;
	}
out:
	for (i = 0; i < r.n; i++)
		free(r.names[i]);
	free(r.names);
	return rc;
}

/* ---- open / read / write ------------------------------------------------------- */

int
view_inst_open(struct eng *e, struct view_node *n, int flags, struct view_handle *h,
    struct eng_open *out)
{
	int64_t mtime;
	int acc = flags & O_ACCMODE;

	out->direct_io = true;
	if (n->kind == VIEW_K_JOB_CTL || n->kind == VIEW_K_I_CTL)	/* read: help + last result */
		return acc == O_WRONLY ? 0 : view_render(e, n, &h->snap, &mtime);
	if (acc != O_RDONLY || (flags & O_TRUNC))
		return -EACCES;
	if (n->kind == VIEW_K_JOB_LOG || n->kind == VIEW_K_I_LOG)
		return 0;
	return view_render(e, n, &h->snap, &mtime);
}

struct view_logrd {
	const struct view_node *n;
	uint64_t	 off;
	size_t		 size;
	struct buf	*out;
};

static int
view_logrd_fn(struct store_txn *txn, void *arg)
{
	struct view_logrd *l = arg;
	char key[STORE_KEY_MAX + 1];
	size_t klen, got = 0;
	int rc;

	if ((rc = view_log_key(l->n->job, l->n->kind == VIEW_K_I_LOG ? l->n->cycle : NULL, key,
	    sizeof(key), &klen)) != 0)
		return rc;
	if ((rc = store_log_read(txn, key, klen, l->off, l->out->p + l->out->len, l->size,
	    &got)) != 0)
		return rc;
	l->out->len += got;
	l->out->p[l->out->len] = '\0';
	return 0;
}

int
view_inst_read(struct eng *e, struct view_handle *h, uint64_t off, size_t size, struct buf *out)
{
	struct view_logrd l;
	int rc;

	if (h->node->kind == VIEW_K_JOB_LOG || h->node->kind == VIEW_K_I_LOG) {
		if ((rc = buf_reserve(out, size)) != 0)
			return rc;
		l.n = h->node;
		l.off = off;
		l.size = size;
		l.out = out;
		return store_view(e->store, view_logrd_fn, &l);
	}
	if (off >= h->snap.len)
		return 0;
	return buf_add(out, h->snap.p + off, h->snap.len - off < size ? h->snap.len - off : size);
}

int
view_inst_write(struct eng *e, struct view_handle *h, const void *data, size_t len)
{
	struct eng_errbuf eb = { "" };
	char line[VIEW_CTL_MAX + 1], shown[VIEW_CTL_MAX + 1];
	const struct view_node *n = h->node;
	int64_t mtime;
	size_t i;
	int rc;

	if (len > VIEW_CTL_MAX) {
		view_ctl_result(e, n, h->pid, "(too long)", ENG_EINVAL,
		    "a command is one line of at most 4096 bytes");
		return ENG_EINVAL;
	}
	memcpy(line, data, len);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	line[len] = '\0';
	/* what logs and readers see: unprintable bytes as '?' (no log injection) */
	for (i = 0; i <= len; i++)
		shown[i] = i < len && ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) ? '?' :
		    line[i];
	if (len == 0 || memchr(line, '\n', len) != NULL || memchr(line, '\0', len) != NULL) {
		rc = eng_errbuf_set(&eb, ENG_EINVAL, "write one command per write: %s",
		    len == 0 ? "this one is empty" : "this one has several lines");
		goto out;
	}
	if (n->kind == VIEW_K_JOB_CTL)
		rc = sched_ctl_job(e->sched, n->job, line, &eb);
	else
		rc = sched_ctl_instance(e->sched, n->job, n->cycle, line, &eb);
out:
	if (rc != 0)
		log_info("instances/%s%s%s/ctl: '%s' refused: %s", n->job, n->cycle != NULL ? "/" : "",
		    n->cycle != NULL ? n->cycle : "", shown, eb.msg[0] != '\0' ? eb.msg :
		    eng_strerror(rc));
	view_ctl_result(e, n, h->pid, shown, rc, eb.msg);
	if ((h->flags & O_ACCMODE) != O_WRONLY) {	/* a reader of this handle sees it */
		buf_reset(&h->snap);
		(void)view_render(e, n, &h->snap, &mtime);
	}
	return rc;
}

int
view_inst_readlink(struct eng *e, struct view_node *n, struct buf *out)
{
	char last[STORE_CYCLE_LEN + 1];

	if (!view_job_has_history(e, n->job, last))
		return -ENOENT;
	return buf_addstr(out, last);
}

/* ---- removal of history ---------------------------------------------------------- */

struct view_del {
	const char	*job;
	const char	*cycle;		/* NULL: the whole job */
	int64_t		 now_ms;
	char		**keys;		/* collected cycles */
	size_t		 n, cap;
	size_t		 deleted;
	bool		 any;		/* anything of the job was there */
};

static int
view_del_collect_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct view_del *d = arg;
	size_t plen = strlen(d->job) + 1;
	char **nv;

	(void)val;
	(void)vlen;
	if (klen != plen + STORE_CYCLE_LEN)
		return 0;
	if (d->n == d->cap) {
		if ((nv = realloc(d->keys, (d->cap * 2 + 64) * sizeof(*nv))) == NULL)
			return -ENOMEM;
		d->keys = nv;
		d->cap = d->cap * 2 + 64;
	}
	if ((d->keys[d->n] = strndup((const char *)key + plen, STORE_CYCLE_LEN)) == NULL)
		return -ENOMEM;
	d->n++;
	return 0;
}

static void
view_del_reset(struct view_del *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->keys[i]);
	d->n = 0;
}

static int
view_del_fn(struct store_txn *txn, void *arg)
{
	struct view_del *d = arg;
	char key[STORE_KEY_MAX + 1];
	size_t klen, i, plen = strlen(d->job) + 1;
	uint64_t bytes, recs;
	int rc;

	view_del_reset(d);
	d->deleted = 0;
	d->any = false;
	if (d->cycle != NULL) {
		/* the record, its log and its ctl result, as retention does */
		if ((rc = sched_inst_delete(txn, d->job, d->cycle)) != 0)
			return rc;
		d->deleted = 1;
		return sched_jdir_touch(txn, d->job, d->now_ms);	/* an entry went */
	}
	memcpy(key, d->job, plen);
	if ((rc = store_iter(txn, STORE_DB_INSTANCES, key, plen, NULL, 0, 0, view_del_collect_cb,
	    d)) != 0)
		return rc;
	for (i = 0; i < d->n; i++) {
		if ((rc = store_key_instance(key, sizeof(key), d->job, d->keys[i], &klen)) != 0 ||
		    (rc = store_log_delete(txn, key, klen)) != 0)
			return rc;
	}
	memcpy(key, d->job, plen);
	if ((rc = store_del_prefix(txn, STORE_DB_INSTANCES, key, plen, &d->deleted)) != 0)
		return rc;
	d->any = d->deleted > 0;
	if ((rc = sched_joblog_key(d->job, key, sizeof(key), &klen)) != 0 ||
	    (rc = store_log_stat(txn, key, klen, &bytes, &recs)) != 0 ||
	    (rc = store_log_delete(txn, key, klen)) != 0)
		return rc;
	d->any |= recs > 0;
	/* the scheduler's per-job state ("job\0NAME") and the history's definition */
	memcpy(key, "job", 4);
	memcpy(key + 4, d->job, plen - 1);
	if ((rc = store_del(txn, STORE_DB_META, key, plen + 3)) != 0 && rc != -ENOENT)
		return rc;
	d->any |= rc == 0;
	if ((rc = store_key_def(key, sizeof(key), STORE_DEF_JOB, d->job, &klen)) != 0)
		return rc;
	if ((rc = store_del(txn, STORE_DB_DEFS, key, klen)) != 0 && rc != -ENOENT)
		return rc;
	d->any |= rc == 0;
	/* the mount's own records of the job: when its definition ran from
	 * ("defm\0j\0JOB"), its directory's mtime, its ctl results */
	memcpy(key, "defm", 5);
	if ((rc = store_key_def(key + 5, sizeof(key) - 5, STORE_DEF_JOB, d->job, &klen)) != 0)
		return rc;
	if ((rc = store_del(txn, STORE_DB_META, key, klen + 5)) != 0 && rc != -ENOENT)
		return rc;
	if ((rc = sched_jdir_key(d->job, key, sizeof(key), &klen)) != 0)
		return rc;
	if ((rc = store_del(txn, STORE_DB_META, key, klen)) != 0 && rc != -ENOENT)
		return rc;
	if ((rc = sched_ctl_key(d->job, NULL, key, sizeof(key), &klen)) != 0 ||
	    (rc = store_del_prefix(txn, STORE_DB_META, key, klen, NULL)) != 0)
		return rc;
	/* nothing at all: the caller says ENOENT (the txn commits no change) */
	return 0;
}

int
view_inst_rmdir(struct eng *e, struct view_node *p, const char *name)
{
	struct view_del d;
	struct view_q q;
	size_t i;
	int rc;

	memset(&d, 0, sizeof(d));
	switch (p->kind) {
	case VIEW_K_INSTDIR:
		if (!view_job_name_ok(name))
			return -ENOENT;
		if (sched_job_defined(e->sched, name))
			return -EBUSY;	/* a defined job keeps its history */
		/* no instance left is fine: `rm -r` removed them one by one
		 * before this rmdir; the job log and state go now */
		d.job = name;
		break;
	case VIEW_K_JOB:
		if (!view_is_cycle(name)) {
			if (strcmp(name, "ctl") == 0 || strcmp(name, "log") == 0 ||
			    strcmp(name, "latest") == 0)
				return -ENOTDIR;
			return -ENOENT;
		}
		memset(&q, 0, sizeof(q));
		q.job = p->job;
		q.cycle = name;
		if (store_view(e->store, view_q_inst_fn, &q) != 0 || !q.found)
			return -ENOENT;
		if (sched_job_defined(e->sched, p->job))
			return -EROFS;
		d.job = p->job;
		d.cycle = name;
		break;
	case VIEW_K_INST:
		for (i = 0; i < VIEW_NIFILES; i++)
			if (strcmp(name, view_inst_files[i].name) == 0)
				return -ENOTDIR;
		return -ENOENT;
	default:
		return -EPERM;
	}
	d.now_ms = view_now_ns(e) / 1000000;
	rc = store_update(e->store, view_del_fn, &d);
	if (rc == 0 && d.cycle == NULL && d.any)
		view_dirm_touch(e, VIEW_DIRM_INSTANCES);	/* instances/JOB went */
	if (rc == 0) {
		view_summary_changed(e, d.job);
		sched_history_changed(e->sched, d.job);	/* the metrics' counts */
	}
	if (rc == 0 && d.cycle == NULL && !d.any)
		rc = -ENOENT;
	else if (rc == 0)
		log_info("instances/%s%s%s: history removed (%zu instance%s)", d.job,
		    d.cycle != NULL ? "/" : "", d.cycle != NULL ? d.cycle : "", d.deleted,
		    d.deleted == 1 ? "" : "s");
	view_del_reset(&d);
	free(d.keys);
	return rc;
}

int
view_inst_unlink(struct eng *e, struct view_node *p, const char *name)
{
	struct eng_entry ent;
	int rc;

	if (p->kind == VIEW_K_INSTDIR)
		return view_job_exists(e, name) ? -EISDIR : -ENOENT;
	/* the files are views: they exist as long as their directory, so
	 * "rm -r" of a deleted job's history may unlink them as a no-op
	 * before removing the directories */
	if ((rc = view_inst_lookup(e, p, name, &ent)) != 0)
		return rc;
	view_ns_forget(e, ent.attr.ino, 1);
	if (S_ISDIR(ent.attr.mode))
		return -EISDIR;
	return sched_job_defined(e->sched, p->job) ? -EROFS : 0;
}

/* ---- notifications from the scheduler ------------------------------------------------ */

static void
view_inval_child(struct eng *e, uint64_t parent, const char *name)
{
	struct view_node *n = view_ns_find(e, parent, name);

	if (n != NULL && e->cfg.inval_inode != NULL)
		e->cfg.inval_inode(e->cfg.inval_arg, n->ino);
}

void
view_inst_notify(void *arg, const char *job, const char *cycle)
{
	struct eng *e = arg;
	struct view_node *jd, *in;
	size_t i;

	view_summary_changed(e, job);	/* before e->lock: both are leaves */
	pthread_mutex_lock(&e->lock);
	if (e->ino_tab == NULL || (jd = view_ns_find(e, ENG_INO_INSTANCES, job)) == NULL ||
	    jd->kind != VIEW_K_JOB)
		goto out;
	if (cycle == NULL) {
		view_inval_child(e, jd->ino, "log");
		goto out;
	}
	view_inval_child(e, jd->ino, "latest");
	if (e->cfg.inval_entry != NULL && view_ns_find(e, jd->ino, "latest") != NULL)
		e->cfg.inval_entry(e->cfg.inval_arg, jd->ino, "latest");
	if ((in = view_ns_find(e, jd->ino, cycle)) == NULL)
		goto out;
	for (i = 0; i < VIEW_NIFILES; i++)
		if (view_inst_files[i].kind != VIEW_K_I_CTL)
			view_inval_child(e, in->ino, view_inst_files[i].name);
out:
	pthread_mutex_unlock(&e->lock);
}
