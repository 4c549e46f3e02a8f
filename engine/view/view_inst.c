/* SPDX-License-Identifier: MIT */
/*
 * engine_inst.c - instances/: one directory per job (defined, or deleted
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

#define ENG_CTL_MAX	4096

static const struct {
	const char	*name;
	enum eng_kind	 kind;
	mode_t		 mode;
} eng_inst_files[] = {
	{ "ctl",	ENG_K_I_CTL,	 S_IFREG | 0600 },
	{ "job.json",	ENG_K_I_JOBJSON, S_IFREG | 0444 },
	{ "log",	ENG_K_I_LOG,	 S_IFREG | 0444 },
	{ "params",	ENG_K_I_PARAMS,	 S_IFREG | 0444 },
	{ "state",	ENG_K_I_STATE,	 S_IFREG | 0444 },
	{ "status",	ENG_K_I_STATUS,	 S_IFREG | 0444 },
};
#define ENG_NIFILES	(sizeof(eng_inst_files) / sizeof(eng_inst_files[0]))

/* ---- helpers ---------------------------------------------------------------------- */

static bool
eng_is_cycle(const char *s)
{
	size_t i;

	for (i = 0; i < STORE_CYCLE_LEN; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return s[STORE_CYCLE_LEN] == '\0';
}

static bool
eng_job_name_ok(const char *job)
{
	return eng_name_ok(job) && strlen(job) + 1 + STORE_CYCLE_LEN <= STORE_KEY_MAX - 8;
}

/* UTC ns of a cycle name read in the job's zone (0 when it does not convert) */
static int64_t
eng_cycle_ns(const struct tz *tz, const char *c)
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
eng_cycle_num(const char *c)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < STORE_CYCLE_LEN; i++)
		v = v * 10 + (uint64_t)(c[i] - '0');
	return v;
}

struct eng_q {
	const char	*job;
	const char	*cycle;
	bool		 found;
	char		 last[STORE_CYCLE_LEN + 1];
	uint64_t	 bytes;
};

static int
eng_q_inst_fn(struct store_txn *txn, void *arg)
{
	struct eng_q *q = arg;
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
eng_q_last_fn(struct store_txn *txn, void *arg)
{
	struct eng_q *q = arg;
	char pfx[STORE_KEY_MAX + 1];
	const void *k, *v;
	size_t plen = strlen(q->job) + 1, klen, vlen;
	int rc;

	if (plen > STORE_KEY_MAX - STORE_CYCLE_LEN)
		return -ENAMETOOLONG;
	memcpy(pfx, q->job, plen);
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
eng_job_has_history(struct eng *e, const char *job, char *last)
{
	struct eng_q q;

	memset(&q, 0, sizeof(q));
	q.job = job;
	if (store_view(e->store, eng_q_last_fn, &q) != 0 || !q.found)
		return false;
	if (last != NULL)
		memcpy(last, q.last, sizeof(q.last));
	return true;
}

static int
eng_log_key(const char *job, const char *cycle, char *key, size_t ksz, size_t *klen)
{
	if (cycle == NULL)
		return sched_joblog_key(job, key, ksz, klen);
	return store_key_instance(key, ksz, job, cycle, klen);
}

/* a log's size and mtime (0: none kept) */
struct eng_logq {
	const char	*job;
	const char	*cycle;		/* NULL: the job's log */
	struct store_log_hdr h;
};

static int
eng_logq_fn(struct store_txn *txn, void *arg)
{
	struct eng_logq *q = arg;
	char key[STORE_KEY_MAX + 1];
	size_t klen;
	int rc;

	if ((rc = eng_log_key(q->job, q->cycle, key, sizeof(key), &klen)) != 0)
		return rc;
	return store_log_info(txn, key, klen, &q->h);
}

static int
eng_log_info(struct eng *e, const char *job, const char *cycle, struct store_log_hdr *h)
{
	struct eng_logq q;
	int rc;

	memset(&q, 0, sizeof(q));
	q.job = job;
	q.cycle = cycle;
	if ((rc = store_view(e->store, eng_logq_fn, &q)) == 0)
		*h = q.h;
	return rc;
}

/* instances/JOB exists while the job is defined, has instances or has a
 * line in its log (a job whose file was never valid has one) */
static bool
eng_job_exists(struct eng *e, const char *job)
{
	struct store_log_hdr h;

	return sched_job_defined(e->sched, job) || eng_job_has_history(e, job, NULL) ||
	    (eng_log_info(e, job, NULL, &h) == 0 && h.records > 0);
}

/* ms of a decimal META value (0 when absent or not a number) */
struct eng_metaq {
	char		 key[STORE_KEY_MAX + 1];
	size_t		 klen;
	struct buf	*val;		/* NULL: as a number into ms */
	int64_t		 ms;
};

static int
eng_metaq_fn(struct store_txn *txn, void *arg)
{
	struct eng_metaq *q = arg;
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
eng_jdir_ms(struct eng *e, const char *job)
{
	struct sched_jobinfo ji;
	struct eng_metaq q;

	memset(&q, 0, sizeof(q));
	if (sched_jdir_key(job, q.key, sizeof(q.key), &q.klen) == 0 &&
	    store_view(e->store, eng_metaq_fn, &q) == 0 && q.ms > 0)
		return q.ms;
	if (sched_job_info(e->sched, job, &ji) == 0 && ji.defined_ms > 0)
		return ji.defined_ms;
	return eng_dirm_get(e, ENG_DIRM_ROOT);
}

/* ---- rendering ------------------------------------------------------------------- */


static int
eng_render_jobjson(struct eng *e, const struct inst *in, struct buf *out)
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
	if ((rc = eng_defs_job_raw(e, in->job, &raw)) != 0) {
		rc = rc == -ENOENT ? buf_addstr(out, "{}\n") : rc;
		goto out;
	}
	if (conf_job_parse(in->job, raw.p, raw.len, eng_src_lookup, e, NULL, &job) != 0) {
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

static const char eng_ctl_help_job[] =
    "# instances/%s/ctl: write one command, e.g. echo run > ctl\n"
    "#   run [YYYYMMDDHHMMSS]  create (or rerun) the current cycle's instance, or that cycle's\n"
    "#   backfill FROM TO      every cycle in [FROM, TO), queued in cycle order\n"
    "#   pause                 no instance is created or started until resume\n"
    "#   resume                scheduling again; missed cycles are created (catch-up)\n"
    "# Reading shows this help and the result of the last command.\n";
static const char eng_ctl_help_inst[] =
    "# instances/%s/%s/ctl: write one command, e.g. echo rerun > ctl\n"
    "#   rerun        a new attempt series (not while RUNNING: kill first)\n"
    "#   kill         stop the running attempt: KILLED, no automatic rerun\n"
    "#   set-success  mark SUCCESS without running (unblocks self-dependency)\n"
    "#   freeze       a WAITING or RETRY_WAIT instance never starts until unfreeze\n"
    "#   unfreeze     back to WAITING\n"
    "# Reading shows this help and the result of the last command.\n";

/* META "ctl\0JOB\0CYCLE" (CYCLE empty for the job's ctl): "MS\nTEXT", TEXT
 * being the last command's lines as ctl shows them */
static int
eng_ctl_key(const char *job, const char *cycle, char *key, size_t ksz, size_t *klen)
{
	int n = snprintf(key, ksz, "ctl%c%s%c%s", '\0', job, '\0', cycle != NULL ? cycle : "");

	if (n < 0 || (size_t)n >= ksz || (size_t)n > STORE_KEY_MAX)
		return -ENAMETOOLONG;
	*klen = (size_t)n;
	return 0;
}

static int
eng_ctl_render(struct eng *e, const struct eng_node *n, struct buf *out, int64_t *mtime_ns)
{
	struct sched_jobinfo ji;
	struct eng_metaq q;
	struct buf v;
	struct inst in;
	const char *nl;
	int rc;

	if (n->kind == ENG_K_JOB_CTL)
		rc = buf_printf(out, eng_ctl_help_job, n->job);
	else
		rc = buf_printf(out, eng_ctl_help_inst, n->job, n->cycle);
	if (rc != 0)
		return rc;
	memset(&q, 0, sizeof(q));
	buf_init(&v, BUF_MAX_SMALL);
	q.val = &v;
	if ((rc = eng_ctl_key(n->job, n->cycle, q.key, sizeof(q.key), &q.klen)) != 0)
		goto out;
	rc = store_view(e->store, eng_metaq_fn, &q);
	if (rc == 0 && (nl = memchr(v.p, '\n', v.len)) != NULL) {
		*mtime_ns = strtoll(v.p, NULL, 10) * 1000000;
		rc = buf_add(out, nl + 1, v.len - (size_t)(nl + 1 - v.p));
		goto out;
	}
	if (rc != 0 && rc != -ENOENT)
		goto out;
	/* no command yet: the time the file came to be */
	*mtime_ns = eng_dirm_get(e, ENG_DIRM_ROOT) * 1000000;
	if (n->kind == ENG_K_I_CTL) {
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

struct eng_ctlput {
	char		 key[STORE_KEY_MAX + 1];
	size_t		 klen;
	const struct buf *val;
};

static int
eng_ctlput_fn(struct store_txn *txn, void *arg)
{
	struct eng_ctlput *c = arg;

	return store_put(txn, STORE_DB_META, c->key, c->klen, c->val->p, c->val->len, 0);
}

/* Keep the result of a ctl command for its readers ("ok: ..."/"refused: ...") */
static void
eng_ctl_result(struct eng *e, const struct eng_node *n, pid_t pid, const char *cmd, int rc,
    const char *msg)
{
	struct eng_ctlput c;
	struct buf v;
	char iso[48], who[96];
	int64_t ms = eng_now_ns(e) / 1000000;
	const struct tz *tz = eng_job_tz(e, n->job);
	int r;

	eng_who(pid, who, sizeof(who));
	if (inst_iso(ms, tz, iso, sizeof(iso)) != 0)
		(void)snprintf(iso, sizeof(iso), "%lld", (long long)ms);
	buf_init(&v, BUF_MAX_SMALL);
	(void)buf_printf(&v, "%lld\n# last command at %s by %s: %s\n%s: %s\n", (long long)ms, iso,
	    who, cmd, rc == 0 ? "ok" : "refused", msg[0] != '\0' ? msg : eng_strerror(rc));
	if (v.err == 0 && eng_ctl_key(n->job, n->cycle, c.key, sizeof(c.key), &c.klen) == 0) {
		c.val = &v;
		if ((r = store_update(e->store, eng_ctlput_fn, &c)) != 0)
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
eng_jobjson_ms(struct eng *e, const struct inst *in)
{
	char name[ENG_NAME_MAX + 8];
	int64_t def_ms = 0;

	if (in->job_json.len > 0)
		return in->jobjson_ms;
	(void)snprintf(name, sizeof(name), "%s.json", in->job);
	if (eng_def_since(e, ENG_INO_JOBS, name, &def_ms) == 0 && def_ms > in->created_ms)
		return def_ms;
	return in->created_ms;
}

/*
 * Render a generated file into out; *mtime (ns) gets the time its content
 * last changed: every file's bytes and mtime move together.
 */
static int
eng_render(struct eng *e, const struct eng_node *n, struct buf *out, int64_t *mtime)
{
	struct inst in;
	int64_t ms = 0;
	size_t i;
	int rc;

	switch (n->kind) {
	case ENG_K_STATUS:
		rc = eng_status_render(e, out, &ms);
		*mtime = ms * 1000000;
		return rc;
	case ENG_K_JOB_SUMMARY:
		rc = eng_summary_render(e, n->job, out, &ms);
		*mtime = ms * 1000000;
		return rc;
	case ENG_K_JOB_CTL: case ENG_K_I_CTL:
		return eng_ctl_render(e, n, out, mtime);
	default:
		break;
	}
	inst_init(&in);
	if ((rc = sched_instance_get(e->sched, n->job, n->cycle, &in)) != 0)
		goto out;
	switch (n->kind) {
	case ENG_K_I_STATE:
		*mtime = in.state_ms * 1000000;
		rc = buf_printf(out, "%s\n", inst_state_name(in.state));
		break;
	case ENG_K_I_STATUS:
		*mtime = in.updated_ms * 1000000;
		rc = inst_status(&in, eng_job_tz(e, n->job), out);
		break;
	case ENG_K_I_PARAMS:
		*mtime = in.created_ms * 1000000;
		for (i = 0; i < in.params.n && rc == 0; i++)
			rc = buf_printf(out, "%s=%s\n", in.params.v[i].name, in.params.v[i].value);
		break;
	case ENG_K_I_JOBJSON:
		*mtime = eng_jobjson_ms(e, &in) * 1000000;
		rc = eng_render_jobjson(e, &in, out);
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
eng_inst_dir_entry(struct eng *e, uint64_t ino, int64_t mtime, bool leaf, struct eng_entry *out)
{
	eng_fill_attr(e, &out->attr, ino, S_IFDIR | 0755, 0, mtime);
	if (!leaf)
		out->attr.nlink = 1;	/* unknown number of subdirectories */
	out->attr_timeout = 1.0;
	out->entry_timeout = 1.0;
}

/* a log's mtime: its last line; logs from before that was kept: fallback */
static int64_t
eng_log_mtime_ns(struct eng *e, const struct eng_node *n, const struct store_log_hdr *h)
{
	struct inst in;
	int64_t ms;

	if (h->mtime_ms > 0)
		return h->mtime_ms * 1000000;
	if (n->cycle == NULL)
		return eng_jdir_ms(e, n->job) * 1000000;
	inst_init(&in);
	ms = sched_instance_get(e->sched, n->job, n->cycle, &in) == 0 ? in.updated_ms :
	    eng_dirm_get(e, ENG_DIRM_ROOT);
	inst_free(&in);
	return ms * 1000000;
}

/*
 * Attributes of a node below instances/ (not a fixed directory).  Sizes
 * are the true sizes and mtimes the time the bytes last changed, so two
 * stats give the same answer until the content changes (tar, rsync).
 */
static int
eng_inst_attr(struct eng *e, const struct eng_node *n, struct eng_entry *out)
{
	struct store_log_hdr h;
	struct buf b;
	int64_t mtime = e->start_ns;
	char last[STORE_CYCLE_LEN + 1];
	mode_t mode = S_IFREG | 0444;
	size_t i;
	int rc = 0;

	switch (n->kind) {
	case ENG_K_JOB:
		if (!eng_job_exists(e, n->job))
			return -ENOENT;
		eng_inst_dir_entry(e, n->ino, eng_jdir_ms(e, n->job) * 1000000, false, out);
		/* 1 s like every directory: the kernel checks search permission
		 * on each path walk through it, so 0 would cost a GETATTR per
		 * stat below it; its mtime is at most 1 s behind */
		return 0;
	case ENG_K_INST:
		eng_inst_dir_entry(e, n->ino, eng_cycle_ns(eng_job_tz(e, n->job), n->cycle),
		    true, out);
		return 0;
	case ENG_K_JOB_LATEST:
		if (!eng_job_has_history(e, n->job, last))
			return -ENOENT;
		eng_fill_attr(e, &out->attr, n->ino, S_IFLNK | 0777, STORE_CYCLE_LEN,
		    eng_jdir_ms(e, n->job) * 1000000);
		out->attr_timeout = 0;
		out->entry_timeout = 0;
		return 0;
	case ENG_K_JOB_LOG: case ENG_K_I_LOG:
		if ((rc = eng_log_info(e, n->job, n->kind == ENG_K_I_LOG ? n->cycle : NULL, &h)) != 0)
			return rc;
		eng_fill_attr(e, &out->attr, n->ino, S_IFREG | 0444, h.bytes,
		    eng_log_mtime_ns(e, n, &h));
		break;
	default:
		buf_init(&b, BUF_MAX_DOC);
		rc = eng_render(e, n, &b, &mtime);
		if (rc != 0) {
			buf_free(&b);
			return rc;
		}
		for (i = 0; i < ENG_NIFILES; i++)
			if (eng_inst_files[i].kind == n->kind)
				mode = eng_inst_files[i].mode;
		if (n->kind == ENG_K_JOB_CTL)
			mode = S_IFREG | 0600;
		eng_fill_attr(e, &out->attr, n->ino, mode, b.len, mtime);
		buf_free(&b);
		break;
	}
	out->attr_timeout = 0;	/* live: tail -f polls the size */
	out->entry_timeout = 1.0;
	return 0;
}

int
eng_inst_getattr(struct eng *e, struct eng_node *n, struct eng_entry *out)
{
	return eng_inst_attr(e, n, out);
}

/* make (or find) parent/name with kind, count a lookup, fill its entry */
static int
eng_inst_make(struct eng *e, uint64_t parent, const char *name, enum eng_kind kind,
    const char *job, const char *cycle, struct eng_entry *out)
{
	struct eng_node *n;
	int rc;

	pthread_mutex_lock(&e->lock);
	if ((n = eng_ns_make(e, parent, name, kind, job, cycle)) != NULL)
		n->nopen++;	/* pin while we compute the attributes */
	pthread_mutex_unlock(&e->lock);
	if (n == NULL)
		return -ENOMEM;
	rc = eng_inst_attr(e, n, out);
	pthread_mutex_lock(&e->lock);
	n->nopen--;
	if (rc == 0)
		n->nlookup++;
	eng_ns_maybe_free(e, n);
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int
eng_inst_lookup(struct eng *e, struct eng_node *p, const char *name, struct eng_entry *out)
{
	struct eng_q q;
	size_t i;

	switch (p->kind) {
	case ENG_K_INSTDIR:
		if (!eng_job_name_ok(name))
			return -ENOENT;
		return eng_inst_make(e, p->ino, name, ENG_K_JOB, name, NULL, out);
	case ENG_K_JOB:
		if (strcmp(name, "latest") == 0)
			return eng_inst_make(e, p->ino, name, ENG_K_JOB_LATEST, p->job, NULL, out);
		if (strcmp(name, "ctl") == 0)
			return eng_inst_make(e, p->ino, name, ENG_K_JOB_CTL, p->job, NULL, out);
		if (strcmp(name, "log") == 0)
			return eng_inst_make(e, p->ino, name, ENG_K_JOB_LOG, p->job, NULL, out);
		if (strcmp(name, "summary") == 0)
			return eng_inst_make(e, p->ino, name, ENG_K_JOB_SUMMARY, p->job, NULL, out);
		if (!eng_is_cycle(name))
			return -ENOENT;
		memset(&q, 0, sizeof(q));
		q.job = p->job;
		q.cycle = name;
		if (store_view(e->store, eng_q_inst_fn, &q) != 0 || !q.found)
			return -ENOENT;
		return eng_inst_make(e, p->ino, name, ENG_K_INST, p->job, name, out);
	case ENG_K_INST:
		for (i = 0; i < ENG_NIFILES; i++)
			if (strcmp(name, eng_inst_files[i].name) == 0)
				return eng_inst_make(e, p->ino, name, eng_inst_files[i].kind, p->job,
				    p->cycle, out);
		return -ENOENT;
	default:
		return -ENOTDIR;
	}
}

/* ---- readdir ------------------------------------------------------------------ */

struct eng_rd {
	struct eng	*e;
	struct eng_node	*dir;
	int		 flags;
	eng_dirent_fn	*fn;
	void		*arg;
	bool		 full;
	const struct tz	*tz;
	size_t		 plen;
	/* instances/: job names */
	char		**names;
	size_t		 n, cap;
	char		 cur[STORE_KEY_MAX + 2];
	size_t		 curlen;
	bool		 got;
	size_t		 nhist;	/* names[0..nhist) have history; the rest are
				   definitions still to check */
};

/* emit one entry; with PLUS make its node and count the lookup.  Returns
 * true when the reply is full. */
static bool
eng_rd_emit(struct eng_rd *r, const char *name, mode_t type, enum eng_kind kind,
    const char *job, const char *cycle, uint64_t next_off)
{
	struct eng *e = r->e;
	struct eng_dirent d;
	struct eng_entry ent;
	struct eng_node *n;
	/* the summary is listed without attributes even in readdirplus (the
	 * kernel then takes no lookup): its size needs a pass over every
	 * instance record, which ls -l of a big job must not wait for */
	bool plus = (r->flags & ENG_READDIR_PLUS) && kind != ENG_K_JOB_SUMMARY;
	bool full;

	memset(&d, 0, sizeof(d));
	d.name = name;
	d.type = type;
	d.next_off = next_off;
	pthread_mutex_lock(&e->lock);
	n = eng_ns_find(e, r->dir->ino, name);
	if (n == NULL && plus)
		n = eng_ns_make(e, r->dir->ino, name, kind, job, cycle);
	if (n != NULL)
		n->nopen++;
	pthread_mutex_unlock(&e->lock);
	if (plus && n == NULL)
		return true;
	d.ino = n != NULL ? n->ino : ((uint64_t)1 << 63) | (next_off & (((uint64_t)1 << 62) - 1));
	if (plus) {
		if (kind == ENG_K_INST)	/* cheap: no record decoding for ls -l */
			eng_inst_dir_entry(e, n->ino, eng_cycle_ns(r->tz, cycle), true, &ent);
		else if (eng_inst_attr(e, n, &ent) != 0)
			eng_fill_attr(e, &ent.attr, n->ino, type, 0, e->start_ns);
		d.entry = &ent;
	}
	full = r->fn(r->arg, &d);
	if (n != NULL) {
		pthread_mutex_lock(&e->lock);
		n->nopen--;
		if (!full && plus)
			n->nlookup++;
		eng_ns_maybe_free(e, n);
		pthread_mutex_unlock(&e->lock);
	}
	r->full = full;
	return full;
}

static int
eng_rd_inst_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct eng_rd *r = arg;
	char cycle[STORE_CYCLE_LEN + 1];

	(void)val;
	(void)vlen;
	if (klen != r->plen + STORE_CYCLE_LEN)
		return 0;
	memcpy(cycle, (const char *)key + r->plen, STORE_CYCLE_LEN);
	cycle[STORE_CYCLE_LEN] = '\0';
	if (!eng_is_cycle(cycle))
		return 0;
	return eng_rd_emit(r, cycle, S_IFDIR, ENG_K_INST, r->dir->job, cycle,
	    eng_cycle_num(cycle)) ? 1 : 0;
}

struct eng_rd_job {
	struct eng_rd	*r;
	uint64_t	 off;
};

static int
eng_rd_job_fn(struct store_txn *txn, void *arg)
{
	struct eng_rd_job *j = arg;
	struct eng_rd *r = j->r;
	char start[STORE_KEY_MAX + 1];
	uint64_t v;
	int i;

	r->plen = strlen(r->dir->job) + 1;
	memcpy(start, r->dir->job, r->plen);
	if (j->off < 10000000000000ULL)
		return store_iter(txn, STORE_DB_INSTANCES, start, r->plen, NULL, 0, 0,
		    eng_rd_inst_cb, r);
	v = j->off;
	for (i = STORE_CYCLE_LEN - 1; i >= 0; i--) {
		start[r->plen + (size_t)i] = (char)('0' + v % 10);
		v /= 10;
	}
	return store_iter(txn, STORE_DB_INSTANCES, start, r->plen, start,
	    r->plen + STORE_CYCLE_LEN, STORE_ITER_EXCLUSIVE, eng_rd_inst_cb, r);
}

/* skip-scan: the first key at or after r->cur gives the next job name */
static int
eng_rd_first_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct eng_rd *r = arg;
	const char *nul = memchr(key, '\0', klen);

	(void)val;
	(void)vlen;
	if (nul == NULL)
		return 0;
	r->curlen = (size_t)(nul - (const char *)key);
	memcpy(r->cur, key, r->curlen);
	r->got = true;
	return 1;
}

static int
eng_rd_addname(struct eng_rd *r, const char *name, size_t len)
{
	char **nv;

	if (r->n == r->cap) {
		if ((nv = realloc(r->names, (r->cap * 2 + 16) * sizeof(*nv))) == NULL)
			return -ENOMEM;
		r->names = nv;
		r->cap = r->cap * 2 + 16;
	}
	if ((r->names[r->n] = strndup(name, len)) == NULL)
		return -ENOMEM;
	r->n++;
	return 0;
}

static int
eng_rd_def_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct eng_rd *r = arg;
	char name[ENG_NAME_MAX + 1];

	(void)val;
	(void)vlen;
	if (klen < 3 || klen - 2 > ENG_NAME_MAX)
		return 0;
	memcpy(name, (const char *)key + 2, klen - 2);
	name[klen - 2] = '\0';
	/* filtered by sched_job_defined after the txn: the scheduler's lock
	 * must not be taken inside a store transaction */
	return eng_rd_addname(r, name, klen - 2);
}

/* every distinct "NAME" of the "NAME\0..." keys of db (one seek per name) */
static int
eng_rd_skipscan(struct store_txn *txn, enum store_db db, struct eng_rd *r)
{
	int rc;

	r->curlen = 0;
	for (;;) {
		r->got = false;
		if ((rc = store_iter(txn, db, NULL, 0, r->curlen > 0 ? r->cur : NULL,
		    r->curlen > 0 ? r->curlen + 1 : 0, 0, eng_rd_first_cb, r)) != 0)
			return rc;
		if (!r->got)
			return 0;
		if ((rc = eng_rd_addname(r, r->cur, r->curlen)) != 0)
			return rc;
		r->cur[r->curlen] = '\x01';	/* past every "NAME\0..." */
	}
}

/* names with instances or logs (history), then those with a definition */
static int
eng_rd_jobs_fn(struct store_txn *txn, void *arg)
{
	struct eng_rd *r = arg;
	char pfx[2] = { STORE_DEF_JOB, '\0' };
	int rc;

	if ((rc = eng_rd_skipscan(txn, STORE_DB_INSTANCES, r)) != 0 ||
	    (rc = eng_rd_skipscan(txn, STORE_DB_LOGS, r)) != 0)
		return rc;
	r->nhist = r->n;
	return store_iter(txn, STORE_DB_DEFS, pfx, 2, NULL, 0, 0, eng_rd_def_cb, r);
}

static int
eng_strpcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* r->names := every job instances/ lists, sorted and unique */
static int
eng_rd_jobnames(struct eng *e, struct eng_rd *r)
{
	size_t i, k;
	int rc;

	if ((rc = store_view(e->store, eng_rd_jobs_fn, r)) != 0)
		return rc;
	for (i = r->nhist; i < r->n; i++)
		if (!sched_job_defined(e->sched, r->names[i])) {
			free(r->names[i]);
			r->names[i] = NULL;
		}
	for (i = k = 0; i < r->n; i++)
		if (r->names[i] != NULL && eng_job_name_ok(r->names[i]))
			r->names[k++] = r->names[i];
		else
			free(r->names[i]);
	r->n = k;
	if (r->n > 1)
		qsort(r->names, r->n, sizeof(*r->names), eng_strpcmp);
	for (i = k = 0; i < r->n; i++)
		if (k > 0 && strcmp(r->names[i], r->names[k - 1]) == 0)
			free(r->names[i]);
		else
			r->names[k++] = r->names[i];
	r->n = k;
	return 0;
}

int
eng_inst_jobnames(struct eng *e, char ***names, size_t *n)
{
	struct eng_rd r;
	size_t i;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = eng_rd_jobnames(e, &r)) != 0) {
		for (i = 0; i < r.n; i++)
			free(r.names[i]);
		free(r.names);
		return rc;
	}
	*names = r.names;
	*n = r.n;
	return 0;
}

int
eng_inst_readdir(struct eng *e, struct eng_node *n, uint64_t off, int flags, eng_dirent_fn *fn,
    void *arg)
{
	struct eng_rd r;
	struct eng_rd_job j;
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
	case ENG_K_INSTDIR:
		if ((rc = eng_rd_jobnames(e, &r)) != 0)
			goto out;
		for (i = 0; i < r.n; i++) {
			if (i + 3 <= off)
				continue;	/* cookie off: resume after entry off - 3 */
			if (eng_rd_emit(&r, r.names[i], S_IFDIR, ENG_K_JOB, r.names[i], NULL, i + 3))
				break;
		}
		break;
	case ENG_K_JOB:
		if (off <= 2 && eng_rd_emit(&r, "ctl", S_IFREG, ENG_K_JOB_CTL, n->job, NULL, 3))
			break;
		if (off <= 3 && eng_job_has_history(e, n->job, last) &&
		    eng_rd_emit(&r, "latest", S_IFLNK, ENG_K_JOB_LATEST, n->job, NULL, 4))
			break;
		if (off <= 4 && eng_rd_emit(&r, "log", S_IFREG, ENG_K_JOB_LOG, n->job, NULL, 5))
			break;
		if (off <= 5 && eng_rd_emit(&r, "summary", S_IFREG, ENG_K_JOB_SUMMARY, n->job, NULL,
		    6))
			break;
		r.tz = eng_job_tz(e, n->job);
		j.r = &r;
		j.off = off;
		rc = store_view(e->store, eng_rd_job_fn, &j);
		break;
	case ENG_K_INST:
		for (i = off - 2; i < ENG_NIFILES; i++)
			if (eng_rd_emit(&r, eng_inst_files[i].name, S_IFREG, eng_inst_files[i].kind,
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
eng_inst_open(struct eng *e, struct eng_node *n, int flags, struct eng_handle *h,
    struct eng_open *out)
{
	int64_t mtime;
	int acc = flags & O_ACCMODE;

	out->direct_io = true;
	if (n->kind == ENG_K_JOB_CTL || n->kind == ENG_K_I_CTL)	/* read: help + last result */
		return acc == O_WRONLY ? 0 : eng_render(e, n, &h->snap, &mtime);
	if (acc != O_RDONLY || (flags & O_TRUNC))
		return -EACCES;
	if (n->kind == ENG_K_JOB_LOG || n->kind == ENG_K_I_LOG)
		return 0;
	return eng_render(e, n, &h->snap, &mtime);
}

struct eng_logrd {
	const struct eng_node *n;
	uint64_t	 off;
	size_t		 size;
	struct buf	*out;
};

static int
eng_logrd_fn(struct store_txn *txn, void *arg)
{
	struct eng_logrd *l = arg;
	char key[STORE_KEY_MAX + 1];
	size_t klen, got = 0;
	int rc;

	if ((rc = eng_log_key(l->n->job, l->n->kind == ENG_K_I_LOG ? l->n->cycle : NULL, key,
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
eng_inst_read(struct eng *e, struct eng_handle *h, uint64_t off, size_t size, struct buf *out)
{
	struct eng_logrd l;
	int rc;

	if (h->node->kind == ENG_K_JOB_LOG || h->node->kind == ENG_K_I_LOG) {
		if ((rc = buf_reserve(out, size)) != 0)
			return rc;
		l.n = h->node;
		l.off = off;
		l.size = size;
		l.out = out;
		return store_view(e->store, eng_logrd_fn, &l);
	}
	if (off >= h->snap.len)
		return 0;
	return buf_add(out, h->snap.p + off, h->snap.len - off < size ? h->snap.len - off : size);
}

int
eng_inst_write(struct eng *e, struct eng_handle *h, const void *data, size_t len)
{
	struct eng_errbuf eb = { "" };
	char line[ENG_CTL_MAX + 1], shown[ENG_CTL_MAX + 1];
	const struct eng_node *n = h->node;
	int64_t mtime;
	size_t i;
	int rc;

	if (len > ENG_CTL_MAX) {
		eng_ctl_result(e, n, h->pid, "(too long)", ENG_EINVAL,
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
	if (n->kind == ENG_K_JOB_CTL)
		rc = sched_ctl_job(e->sched, n->job, line, &eb);
	else
		rc = sched_ctl_instance(e->sched, n->job, n->cycle, line, &eb);
out:
	if (rc != 0)
		log_info("instances/%s%s%s/ctl: '%s' refused: %s", n->job, n->cycle != NULL ? "/" : "",
		    n->cycle != NULL ? n->cycle : "", shown, eb.msg[0] != '\0' ? eb.msg :
		    eng_strerror(rc));
	eng_ctl_result(e, n, h->pid, shown, rc, eb.msg);
	if ((h->flags & O_ACCMODE) != O_WRONLY) {	/* a reader of this handle sees it */
		buf_reset(&h->snap);
		(void)eng_render(e, n, &h->snap, &mtime);
	}
	return rc;
}

int
eng_inst_readlink(struct eng *e, struct eng_node *n, struct buf *out)
{
	char last[STORE_CYCLE_LEN + 1];

	if (!eng_job_has_history(e, n->job, last))
		return -ENOENT;
	return buf_addstr(out, last);
}

/* ---- removal of history ---------------------------------------------------------- */

struct eng_del {
	const char	*job;
	const char	*cycle;		/* NULL: the whole job */
	int64_t		 now_ms;
	char		**keys;		/* collected cycles */
	size_t		 n, cap;
	size_t		 deleted;
	bool		 any;		/* anything of the job was there */
};

static int
eng_del_collect_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct eng_del *d = arg;
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
eng_del_reset(struct eng_del *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->keys[i]);
	d->n = 0;
}

static int
eng_del_fn(struct store_txn *txn, void *arg)
{
	struct eng_del *d = arg;
	char key[STORE_KEY_MAX + 1];
	size_t klen, i, plen = strlen(d->job) + 1;
	uint64_t bytes, recs;
	int rc;

	eng_del_reset(d);
	d->deleted = 0;
	d->any = false;
	if (d->cycle != NULL) {
		if ((rc = store_key_instance(key, sizeof(key), d->job, d->cycle, &klen)) != 0)
			return rc;
		if ((rc = store_del(txn, STORE_DB_INSTANCES, key, klen)) != 0)
			return rc;
		d->deleted = 1;
		if ((rc = store_log_delete(txn, key, klen)) != 0)
			return rc;
		if ((rc = eng_ctl_key(d->job, d->cycle, key, sizeof(key), &klen)) != 0 ||
		    ((rc = store_del(txn, STORE_DB_META, key, klen)) != 0 && rc != -ENOENT))
			return rc;
		return sched_jdir_touch(txn, d->job, d->now_ms);	/* an entry went */
	}
	memcpy(key, d->job, plen);
	if ((rc = store_iter(txn, STORE_DB_INSTANCES, key, plen, NULL, 0, 0, eng_del_collect_cb,
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
	if ((rc = eng_ctl_key(d->job, NULL, key, sizeof(key), &klen)) != 0 ||
	    (rc = store_del_prefix(txn, STORE_DB_META, key, klen, NULL)) != 0)
		return rc;
	/* nothing at all: the caller says ENOENT (the txn commits no change) */
	return 0;
}

int
eng_inst_rmdir(struct eng *e, struct eng_node *p, const char *name)
{
	struct eng_del d;
	struct eng_q q;
	size_t i;
	int rc;

	memset(&d, 0, sizeof(d));
	switch (p->kind) {
	case ENG_K_INSTDIR:
		if (!eng_job_name_ok(name))
			return -ENOENT;
		if (sched_job_defined(e->sched, name))
			return -EBUSY;	/* a defined job keeps its history */
		/* no instance left is fine: `rm -r` removed them one by one
		 * before this rmdir; the job log and state go now */
		d.job = name;
		break;
	case ENG_K_JOB:
		if (!eng_is_cycle(name)) {
			if (strcmp(name, "ctl") == 0 || strcmp(name, "log") == 0 ||
			    strcmp(name, "latest") == 0)
				return -ENOTDIR;
			return -ENOENT;
		}
		memset(&q, 0, sizeof(q));
		q.job = p->job;
		q.cycle = name;
		if (store_view(e->store, eng_q_inst_fn, &q) != 0 || !q.found)
			return -ENOENT;
		if (sched_job_defined(e->sched, p->job))
			return -EROFS;
		d.job = p->job;
		d.cycle = name;
		break;
	case ENG_K_INST:
		for (i = 0; i < ENG_NIFILES; i++)
			if (strcmp(name, eng_inst_files[i].name) == 0)
				return -ENOTDIR;
		return -ENOENT;
	default:
		return -EPERM;
	}
	d.now_ms = eng_now_ns(e) / 1000000;
	rc = store_update(e->store, eng_del_fn, &d);
	if (rc == 0 && d.cycle == NULL && d.any)
		eng_dirm_touch(e, ENG_DIRM_INSTANCES);	/* instances/JOB went */
	if (rc == 0)
		eng_summary_changed(e, d.job);
	if (rc == 0 && d.cycle == NULL && !d.any)
		rc = -ENOENT;
	else if (rc == 0)
		log_info("instances/%s%s%s: history removed (%zu instance%s)", d.job,
		    d.cycle != NULL ? "/" : "", d.cycle != NULL ? d.cycle : "", d.deleted,
		    d.deleted == 1 ? "" : "s");
	eng_del_reset(&d);
	free(d.keys);
	return rc;
}

int
eng_inst_unlink(struct eng *e, struct eng_node *p, const char *name)
{
	struct eng_entry ent;
	int rc;

	if (p->kind == ENG_K_INSTDIR)
		return eng_job_exists(e, name) ? -EISDIR : -ENOENT;
	/* the files are views: they exist as long as their directory, so
	 * "rm -r" of a deleted job's history may unlink them as a no-op
	 * before removing the directories */
	if ((rc = eng_inst_lookup(e, p, name, &ent)) != 0)
		return rc;
	eng_forget(e, ent.attr.ino, 1);
	if (S_ISDIR(ent.attr.mode))
		return -EISDIR;
	return sched_job_defined(e->sched, p->job) ? -EROFS : 0;
}

/* ---- notifications from the scheduler ------------------------------------------------ */

static void
eng_inval_child(struct eng *e, uint64_t parent, const char *name)
{
	struct eng_node *n = eng_ns_find(e, parent, name);

	if (n != NULL && e->cfg.inval_inode != NULL)
		e->cfg.inval_inode(e->cfg.inval_arg, n->ino);
}

void
eng_inst_notify(void *arg, const char *job, const char *cycle)
{
	struct eng *e = arg;
	struct eng_node *jd, *in;
	size_t i;

	eng_summary_changed(e, job);	/* before e->lock: both are leaves */
	pthread_mutex_lock(&e->lock);
	if (e->ino_tab == NULL || (jd = eng_ns_find(e, ENG_INO_INSTANCES, job)) == NULL ||
	    jd->kind != ENG_K_JOB)
		goto out;
	if (cycle == NULL) {
		eng_inval_child(e, jd->ino, "log");
		goto out;
	}
	eng_inval_child(e, jd->ino, "latest");
	if (e->cfg.inval_entry != NULL && eng_ns_find(e, jd->ino, "latest") != NULL)
		e->cfg.inval_entry(e->cfg.inval_arg, jd->ino, "latest");
	if ((in = eng_ns_find(e, jd->ino, cycle)) == NULL)
		goto out;
	for (i = 0; i < ENG_NIFILES; i++)
		if (eng_inst_files[i].kind != ENG_K_I_CTL)
			eng_inval_child(e, in->ino, eng_inst_files[i].name);
out:
	pthread_mutex_unlock(&e->lock);
}
