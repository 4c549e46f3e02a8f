/* SPDX-License-Identifier: MIT */
/*
 * view_defs.c - the files of sources/ and jobs/ (contrib/doc/design.md 1 "Rules
 * for files").  Every file lives in the store; its bytes are in memory
 * (f->data: what reads show, secrets masked) only while a handle uses them
 * (view_bounds.c):
 *
 *   content   definition names ("NAME.json", regular file, not starting
 *             with '.'): STORE_DB_SOURCES / STORE_DB_JOBS under NAME;
 *             anything else (editor swap/backup/temp files, symlinks):
 *             STORE_DB_FILES under "sources/NAME" / "jobs/NAME".  Stored
 *             bytes are what was written, with "******" replaced by the
 *             stored secret (conf_merge_secrets_text).
 *   metadata  STORE_DB_META "file\0DIR/NAME" -> "T PERM MTIME_NS CTIME_NS
 *             SIZE" (T: 'f' regular, 'l' symlink; SIZE: the view's length,
 *             so that getattr needs no bytes; records without it, from
 *             before, get it computed at load).
 *   running   STORE_DB_DEFS: the last VALID bytes of each definition; what
 *             the scheduler runs and what a restart defines again.
 *
 * Commit points: a handle that wrote bytes is saved and, for a definition,
 * validated at flush/fsync/release; a rename onto a definition name
 * validates too (and always succeeds).  Invalid definitions keep their
 * bytes, get a virtual read-only NAME.json.error and never replace the
 * running definition.  All of this runs under e->flock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "view_i.h"
#include "log.h"
#include "name.h"

#define VIEW_ERR_SFX	".error"

/* ---- names and keys ----------------------------------------------------------- */

const char *
view_dirname(uint64_t dir)
{
	return dir == ENG_INO_SOURCES ? "sources" : "jobs";
}

static enum view_dirm_idx
view_dirm_of(uint64_t dir)
{
	return dir == ENG_INO_SOURCES ? VIEW_DIRM_SOURCES : VIEW_DIRM_JOBS;
}

static bool
view_is_defname(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0;
}

bool
view_file_is_def(const struct view_node *n)
{
	return n->f->type == S_IFREG && view_is_defname(n->name);
}

/* "x.json.error" whose "x.json" is a definition name */
static bool
view_is_errname(const char *name, char *def, size_t defsz)
{
	size_t n = strlen(name), sl = sizeof(VIEW_ERR_SFX) - 1;

	if (n <= sl || n - sl >= defsz || strcmp(name + n - sl, VIEW_ERR_SFX) != 0)
		return false;
	memcpy(def, name, n - sl);
	def[n - sl] = '\0';
	return view_is_defname(def);
}

int
view_content_key(uint64_t dir, const char *name, mode_t type, struct view_key *k)
{
	int n;

	if (type == S_IFREG && view_is_defname(name)) {
		k->db = dir == ENG_INO_SOURCES ? STORE_DB_SOURCES : STORE_DB_JOBS;
		k->klen = strlen(name) - 5;
		memcpy(k->k, name, k->klen);
		return 0;
	}
	k->db = STORE_DB_FILES;
	n = snprintf(k->k, sizeof(k->k), "%s/%s", view_dirname(dir), name);
	if (n < 0 || (size_t)n >= sizeof(k->k))
		return -ENAMETOOLONG;
	k->klen = (size_t)n;
	return 0;
}

static int
view_meta_key(uint64_t dir, const char *name, struct view_key *k)
{
	int n;

	k->db = STORE_DB_META;
	n = snprintf(k->k, sizeof(k->k), VIEW_META_PFX "%c%s/%s", '\0', view_dirname(dir), name);
	if (n < 0 || (size_t)n >= sizeof(k->k))
		return -ENAMETOOLONG;
	k->klen = (size_t)n;
	return 0;
}

static int
view_def_key(uint64_t dir, const char *name, struct view_key *k)
{
	char stem[ENG_NAME_MAX + 1];
	size_t n = strlen(name) - 5;

	memcpy(stem, name, n);
	stem[n] = '\0';
	k->db = STORE_DB_DEFS;
	return store_key_def(k->k, sizeof(k->k),
	    dir == ENG_INO_SOURCES ? STORE_DEF_SOURCE : STORE_DEF_JOB, stem, &k->klen);
}

/* "defm\0" + the definition key: when that definition became the running one */
static int
view_defm_key(const struct view_key *dk, struct view_key *mk)
{
	if (dk->klen + 5 > STORE_KEY_MAX)
		return -ENAMETOOLONG;
	mk->db = STORE_DB_META;
	memcpy(mk->k, "defm", 5);
	memcpy(mk->k + 5, dk->k, dk->klen);
	mk->klen = dk->klen + 5;
	return 0;
}

static void
view_stem(const char *name, char *out, size_t outsz)
{
	size_t n = strlen(name) - 5;

	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, name, n);
	out[n] = '\0';
}

/*
 * A new definition name (NAME.json) whose NAME breaks name.h's rule
 * (letters, digits, '_', '-', '.'; not starting with '.' or '-'; at most
 * NAME_DEF_MAX bytes): refused with EINVAL and a log line saying the rule,
 * since a file system error alone does not explain it.  Other names
 * (editor files) are not definitions and keep view_name_ok's rule.
 */
static bool
view_defname_refused(uint64_t dir, const char *name)
{
	char q[80];
	size_t n = strlen(name);

	if (!view_is_defname(name) || name_def_ok(name, n - 5))
		return false;
	name_quote(name, n, 60, q, sizeof(q));
	log_warnx("%s/%s: refused: a definition name (before .json) is 1..%d ASCII letters, "
	    "digits, '_', '-' or '.', not starting with '.' or '-'", view_dirname(dir), q,
	    NAME_DEF_MAX);
	return true;
}

/* ---- store batches -------------------------------------------------------------- */

struct view_op {
	bool		 put;
	const struct view_key *key;
	const void	*val;
	size_t		 vlen;
};

struct view_batch {
	struct view_op	 ops[8];
	int		 n;
	/* optional move: read `from` (copy into moved), delete it, put at `to` */
	const struct view_key *from, *to;
	struct buf	*moved;
};

static int
view_batch_fn(struct store_txn *txn, void *arg)
{
	struct view_batch *b = arg;
	int i, rc;

	if (b->from != NULL) {
		buf_reset(b->moved);
		rc = store_get_buf(txn, b->from->db, b->from->k, b->from->klen, b->moved);
		if (rc != 0 && rc != -ENOENT)
			return rc;
		if ((rc = store_del(txn, b->from->db, b->from->k, b->from->klen)) != 0 &&
		    rc != -ENOENT)
			return rc;
	}
	for (i = 0; i < b->n; i++) {
		const struct view_op *o = &b->ops[i];

		if (o->put)
			rc = store_put(txn, o->key->db, o->key->k, o->key->klen, o->val, o->vlen, 0);
		else
			rc = store_del(txn, o->key->db, o->key->k, o->key->klen);
		if (rc != 0 && rc != -ENOENT)
			return rc;
	}
	if (b->to != NULL &&
	    (rc = store_put(txn, b->to->db, b->to->k, b->to->klen, b->moved->p, b->moved->len, 0)) != 0)
		return rc;
	return 0;
}

static void
view_batch_add(struct view_batch *b, bool put, const struct view_key *k, const void *v, size_t vl)
{
	b->ops[b->n].put = put;
	b->ops[b->n].key = k;
	b->ops[b->n].val = v;
	b->ops[b->n].vlen = vl;
	b->n++;
}

struct view_getq {
	const struct view_key *k;
	struct buf	*out;
};

static int
view_get_fn(struct store_txn *txn, void *arg)
{
	struct view_getq *q = arg;

	return store_get_buf(txn, q->k->db, q->k->k, q->k->klen, q->out);
}

int
view_get(struct eng *e, const struct view_key *k, struct buf *out)
{
	struct view_getq q = { k, out };

	buf_reset(out);
	return store_view(e->store, view_get_fn, &q);
}

static int
view_meta_fmt(const struct view_file *f, uint64_t size, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%c %o %lld %lld %llu", f->type == S_IFLNK ? 'l' : 'f',
	    (unsigned)f->perm, (long long)f->mtime_ns, (long long)f->ctime_ns,
	    (unsigned long long)size);

	return n < 0 || (size_t)n >= outsz ? -EOVERFLOW : n;
}

/* ---- content: view <-> stored bytes ------------------------------------------- */

/* The view of stored bytes: secrets masked, valid or not (unparsable text
 * by line, conf_mask_text). */
int
view_view_of(const char *raw, size_t len, struct buf *view)
{
	buf_reset(view);
	return conf_mask_text(raw, len, view);
}

/* The bytes to store for the view of n: "******" takes the stored secret. */
static int
view_raw_of(struct eng *e, struct view_node *n, struct buf *raw)
{
	const struct view_file *f = n->f;
	struct view_key k;
	struct buf old;
	int rc;

	buf_reset(raw);
	if (f->type != S_IFREG ||
	    memmem(f->data.p, f->data.len, CONF_MASK, sizeof(CONF_MASK) - 1) == NULL)
		return buf_add(raw, f->data.p, f->data.len);
	buf_init(&old, ENG_FILE_MAX + 1);
	rc = view_content_key(f->dir, n->name, f->type, &k);
	if (rc == 0 && (rc = view_get(e, &k, &old)) == 0 &&
	    conf_merge_secrets_text(f->data.p, f->data.len, old.p, old.len, raw, NULL) == 0)
		goto out;
	buf_reset(raw);
	if (view_file_is_def(n) && view_def_key(f->dir, n->name, &k) == 0 &&
	    view_get(e, &k, &old) == 0 &&
	    conf_merge_secrets_text(f->data.p, f->data.len, old.p, old.len, raw, NULL) == 0)
		goto out;
	buf_reset(raw);
	rc = buf_add(raw, f->data.p, f->data.len);
out:
	buf_free(&old);
	return rc == -ENOENT ? 0 : rc;
}

/* After a save: the view becomes v, the mask of what was stored, when that
 * differs (the kernel's cached pages and size of the file are dropped). */
static int
view_remask(struct eng *e, struct view_node *n, const struct buf *v)
{
	int rc;

	if (v->len == n->f->data.len && memcmp(v->p, n->f->data.p, v->len) == 0)
		return 0;
	buf_reset(&n->f->data);
	rc = buf_add(&n->f->data, v->p, v->len);
	view_recharge(e, n->f);
	if (rc != 0)
		return rc;
	if (e->cfg.inval_inode != NULL) {
		pthread_mutex_lock(&e->lock);
		e->cfg.inval_inode(e->cfg.inval_arg, n->ino);
		pthread_mutex_unlock(&e->lock);
	}
	return 0;
}

/* Store n's metadata and, when loaded, its content (e->flock held). */
int
view_save(struct eng *e, struct view_node *n)
{
	struct view_batch b;
	struct view_key ck, mk;
	struct buf raw, v;
	uint64_t size = n->f->size;
	bool content = n->f->loaded, reg = n->f->type == S_IFREG;
	char meta[96];
	int rc, ml;

	memset(&b, 0, sizeof(b));
	buf_init(&raw, ENG_FILE_MAX + 1);
	buf_init(&v, ENG_FILE_MAX);
	if ((rc = view_content_key(n->f->dir, n->name, n->f->type, &ck)) != 0 ||
	    (rc = view_meta_key(n->f->dir, n->name, &mk)) != 0)
		goto out;
	if (content) {
		if ((rc = view_raw_of(e, n, &raw)) != 0 ||
		    (reg && (rc = view_view_of(raw.p, raw.len, &v)) != 0))
			goto out;
		size = reg ? v.len : raw.len;
		view_batch_add(&b, true, &ck, raw.p, raw.len);
	}
	if ((ml = view_meta_fmt(n->f, size, meta, sizeof(meta))) < 0) {
		rc = ml;
		goto out;
	}
	view_batch_add(&b, true, &mk, meta, (size_t)ml);
	if ((rc = store_update(e->store, view_batch_fn, &b)) != 0) {
		log_warnx("%s/%s: cannot store the file: %s", view_dirname(n->f->dir), n->name,
		    eng_strerror(rc));
		goto out;
	}
	n->f->unsaved = false;
	/* a secret written in clear is shown masked from now on */
	if (content && reg && (rc = view_remask(e, n, &v)) != 0)
		goto out;
out:
	explicit_bzero(raw.p, raw.len);	/* may hold a secret */
	buf_free(&raw);
	buf_free(&v);
	return rc;
}

/* ---- removed jobs ------------------------------------------------------------- */

static bool
view_removed_take(struct eng *e, const char *job)
{
	struct view_name **pp, *r;

	for (pp = &e->removed; (r = *pp) != NULL; pp = &r->next)
		if (strcmp(r->name, job) == 0) {
			*pp = r->next;
			free(r->name);
			free(r);
			return true;
		}
	return false;
}

/*
 * view_def_note - one line about definition file DIR/name in the daemon log
 * and, for jobs/, in instances/JOB/log: "definition: jobs/x.json WHAT by
 * WHO: TAIL".  what/tail are the caller's words.
 */
struct view_srcnote {
	struct eng	*e;
	bool		 warn;
	const char	*line;
};

static void
view_srcnote_fn(void *arg, const char *job)
{
	const struct view_srcnote *n = arg;

	sched_job_log(n->e->sched, job, n->warn ? LOG_LVL_WARN : LOG_LVL_INFO, "%s", n->line);
}

/*
 * view_def_note - one line about definition file DIR/name in the daemon log
 * and in instances/JOB/log: for jobs/, the job's own ("definition: jobs/x.json
 * WHAT by WHO: TAIL"); for sources/, the logs of the jobs that use it
 * ("source: sources/y.json ...").  what/tail are the caller's words.
 */
static void
view_def_note(struct eng *e, uint64_t dir, const char *name, pid_t pid, bool warn,
    const char *what, const char *tail)
{
	char stem[ENG_NAME_MAX + 1], who[96], line[2048];
	struct view_srcnote sn = { e, warn, line };

	view_who(pid, who, sizeof(who));
	if (warn)
		log_warnx("%s/%s: %s by %s: %s", view_dirname(dir), name, what, who, tail);
	else
		log_info("%s/%s: %s by %s: %s", view_dirname(dir), name, what, who, tail);
	if (!view_is_defname(name))
		return;
	view_stem(name, stem, sizeof(stem));
	if (dir == ENG_INO_JOBS) {
		sched_job_log(e->sched, stem, warn ? LOG_LVL_WARN : LOG_LVL_INFO,
		    "definition: jobs/%s %s by %s: %s", name, what, who, tail);
		return;
	}
	(void)snprintf(line, sizeof(line), "source: sources/%s (this job's datasource) %s by %s: %s",
	    name, what, who, tail);
	(void)sched_jobs_using(e->sched, stem, view_srcnote_fn, &sn);
}

/* The job of definition file name stops being defined (its file is gone):
 * removed after the scheduler's grace period unless the file comes back. */
static void
view_job_gone(struct eng *e, const char *name, pid_t pid, const char *what)
{
	char stem[ENG_NAME_MAX + 1];
	struct view_name *r;

	view_stem(name, stem, sizeof(stem));
	if (sched_job_remove(e->sched, stem) != 0)
		return;
	/* INFO: editors rename the file away on every save; the scheduler says
	 * WARN if the grace period really ends the job */
	view_def_note(e, ENG_INO_JOBS, name, pid, false, what,
	    "the job stops being scheduled after the removal grace period unless a valid "
	    "definition comes back; its history stays");
	if (view_removed_take(e, stem), (r = calloc(1, sizeof(*r))) == NULL)
		return;
	if ((r->name = strdup(stem)) == NULL) {
		free(r);
		return;
	}
	r->next = e->removed;
	e->removed = r;
}

/* ---- validation ----------------------------------------------------------------- */

static void
view_set_errtext(struct eng *e, struct view_node *n, char *text)
{
	char ename[ENG_NAME_MAX + sizeof(VIEW_ERR_SFX) + 1];
	struct view_node *en;
	bool flip = (n->f->errtext == NULL) != (text == NULL);
	bool changed = flip || (text != NULL && strcmp(text, n->f->errtext) != 0);
	/* the errors come from the file's bytes: their time (the last write or
	 * rename), so a remount, which recomputes them, shows the same mtime */
	int64_t t = n->f->mtime_ns > n->f->ctime_ns ? n->f->mtime_ns : n->f->ctime_ns;

	free(n->f->errtext);
	n->f->errtext = text;
	if (!changed)
		return;
	n->f->err_mtime_ns = t;
	if (flip && text != NULL)
		n->f->err_since_ns = t;
	if (flip && !e->loading)	/* NAME.json.error came or went */
		view_dirm_touch(e, view_dirm_of(n->f->dir));
	if (n->f->dir == ENG_INO_JOBS && view_file_is_def(n)) {
		char stem[ENG_NAME_MAX + 1];

		view_stem(n->name, stem, sizeof(stem));
		view_summary_changed(e, stem);
	}
	if (e->cfg.inval_entry == NULL)
		return;
	snprintf(ename, sizeof(ename), "%s" VIEW_ERR_SFX, n->name);
	pthread_mutex_lock(&e->lock);
	if ((en = view_ns_find(e, n->f->dir, ename)) != NULL && e->cfg.inval_inode != NULL)
		e->cfg.inval_inode(e->cfg.inval_arg, en->ino);
	e->cfg.inval_entry(e->cfg.inval_arg, n->f->dir, ename);
	pthread_mutex_unlock(&e->lock);
}

struct view_defget {
	const struct view_key *ck, *dk;
	struct buf	*raw, *def;
	bool		 has_def;
};

static int
view_defget_fn(struct store_txn *txn, void *arg)
{
	struct view_defget *q = arg;
	int rc;

	buf_reset(q->raw);
	buf_reset(q->def);
	if ((rc = store_get_buf(txn, q->ck->db, q->ck->k, q->ck->klen, q->raw)) != 0)
		return rc;
	rc = store_get_buf(txn, q->dk->db, q->dk->k, q->dk->klen, q->def);
	q->has_def = rc == 0;
	return rc == -ENOENT ? 0 : rc;
}

/* Parse raw as the definition n; apply it when valid.  0, ENG_EINVAL
 * (errors in diag text), -ENOMEM. */
static int
view_apply(struct eng *e, struct view_node *n, const struct buf *raw, const struct view_key *dk,
    bool store_def, struct buf *errs)
{
	char stem[ENG_NAME_MAX + 1], path[ENG_NAME_MAX + 16];
	struct conf_diags *d = NULL;
	struct conf_source *src = NULL;
	struct conf_job *job = NULL;
	struct eng_errbuf eb = { "" };
	struct view_batch b;
	int rc;

	view_stem(n->name, stem, sizeof(stem));
	snprintf(path, sizeof(path), "%s/%s", view_dirname(n->f->dir), n->name);
	if ((rc = conf_diags_new(&d)) != 0)
		goto out;
	if (n->f->dir == ENG_INO_SOURCES)
		rc = conf_source_parse(stem, raw->p, raw->len, view_src_current(e, stem), d, &src);
	else if ((rc = conf_job_parse(stem, raw->p, raw->len, view_src_lookup, e, d, &job)) == 0)
		/* a definition that closes a dependency cycle is invalid too */
		rc = conf_job_check_deps(job, view_dep_lookup, e, false, d);
	if (rc != 0) {
		if (rc == ENG_EINVAL)
			(void)conf_diags_format(d, path, errs);
		goto out;
	}
	if (store_def) {
		struct view_key mk;
		char ms[24];
		int ml;

		memset(&b, 0, sizeof(b));
		view_batch_add(&b, true, dk, raw->p, raw->len);
		/* when it became the running definition (the job's summary) */
		ml = snprintf(ms, sizeof(ms), "%lld", (long long)(view_now_ns(e) / 1000000));
		if (view_defm_key(dk, &mk) == 0 && ml > 0 && (size_t)ml < sizeof(ms))
			view_batch_add(&b, true, &mk, ms, (size_t)ml);
		if ((rc = store_update(e->store, view_batch_fn, &b)) != 0) {
			buf_printf(errs, "%s: error: cannot store the definition: %s\n", path,
			    eng_strerror(rc));
			goto out;
		}
	}
	if (src != NULL) {
		rc = view_src_set(e, src);
		src = NULL;
	} else {
		const struct conf_schedule *sch = conf_job_schedule(job);

		view_removed_take(e, stem);
		(void)view_job_zone_set(e, stem, sch != NULL ? sch->timezone : NULL);
		rc = sched_job_set(e->sched, stem, job, &eb);
		job = NULL;
		if (rc != 0)
			buf_printf(errs, "%s: error: %s\n", path, eb.msg[0] != '\0' ? eb.msg :
			    eng_strerror(rc));
	}
	if (rc == 0 && !store_def)	/* a change is logged by view_def_check */
		log_info("%s: definition restored", path);
out:
	conf_source_free(src);
	conf_job_free(job);
	conf_diags_free(d);
	return rc;
}

/* raw := raw with "******" replaced from def, stored under ck when it
 * changed.  A merge that is not possible leaves raw as it is. */
static int
view_merge_stored(struct eng *e, const struct view_key *ck, struct buf *raw,
    const struct buf *def)
{
	struct view_batch b;
	struct buf m;
	int rc = 0;

	buf_init(&m, ENG_FILE_MAX + 1);
	if (conf_merge_secrets_text(raw->p, raw->len, def->p, def->len, &m, NULL) != 0 ||
	    (m.len == raw->len && memcmp(m.p, raw->p, m.len) == 0))
		goto out;
	memset(&b, 0, sizeof(b));
	view_batch_add(&b, true, ck, m.p, m.len);
	if ((rc = store_update(e->store, view_batch_fn, &b)) != 0)
		goto out;
	buf_reset(raw);
	rc = buf_add(raw, m.p, m.len);
out:
	buf_free(&m);
	return rc;
}

/*
 * view_validate - n is a definition whose bytes are in the store.  Identical
 * to the running definition: no change (a job removed by a rename comes
 * back).  Valid: becomes the running definition (*applied).  Invalid:
 * errtext.  0, ENG_EINVAL (invalid: errtext set) or a store error.
 */
int
view_validate(struct eng *e, struct view_node *n, bool *applied)
{
	char stem[ENG_NAME_MAX + 1];
	struct view_defget q;
	struct view_key ck, dk;
	struct buf raw, def, errs;
	bool same;
	int rc;

	buf_init(&raw, ENG_FILE_MAX + 1);
	buf_init(&def, ENG_FILE_MAX + 1);
	buf_init(&errs, BUF_MAX_SMALL);
	view_stem(n->name, stem, sizeof(stem));
	if ((rc = view_content_key(n->f->dir, n->name, n->f->type, &ck)) != 0 ||
	    (rc = view_def_key(n->f->dir, n->name, &dk)) != 0)
		goto out;
	q.ck = &ck;
	q.dk = &dk;
	q.raw = &raw;
	q.def = &def;
	q.has_def = false;
	if ((rc = store_view(e->store, view_defget_fn, &q)) != 0)
		goto out;
	/* bytes that arrived by rename (sed -i, atomic savers) may carry the
	 * "******" a read showed: they take the running definition's secrets */
	if (q.has_def && memmem(raw.p, raw.len, CONF_MASK, sizeof(CONF_MASK) - 1) != NULL &&
	    (rc = view_merge_stored(e, &ck, &raw, &def)) != 0)
		goto out;
	same = q.has_def && raw.len == def.len && memcmp(raw.p, def.p, raw.len) == 0;
	*applied = !same;
	if (same) {
		rc = 0;
		if (n->f->dir == ENG_INO_JOBS &&
		    (view_removed_take(e, stem) || !sched_job_defined(e->sched, stem)))
			rc = view_apply(e, n, &raw, &dk, false, &errs);
		else if (n->f->dir == ENG_INO_SOURCES && view_src_current(e, stem) == NULL)
			rc = view_apply(e, n, &raw, &dk, false, &errs);
	} else {
		rc = view_apply(e, n, &raw, &dk, true, &errs);
	}
	if (rc == 0) {
		view_set_errtext(e, n, NULL);
	} else if (rc == ENG_EINVAL || errs.len > 0) {
		char *t;

		if (errs.len == 0 || errs.err != 0) {
			buf_reset(&errs);
			buf_printf(&errs, "%s/%s: error: %s\n", view_dirname(n->f->dir), n->name,
			    eng_strerror(rc));
		}
		*applied = false;
		if ((t = buf_take(&errs, NULL)) != NULL)
			view_set_errtext(e, n, t);
		rc = ENG_EINVAL;
	}
out:
	buf_free(&raw);
	buf_free(&def);
	buf_free(&errs);
	return rc;
}

int
view_def_since(struct eng *e, uint64_t dir, const char *name, int64_t *ms)
{
	struct view_key dk, mk;
	struct buf v;
	char *end;
	long long x;
	int rc;

	*ms = 0;
	buf_init(&v, 64);
	if ((rc = view_def_key(dir, name, &dk)) == 0 && (rc = view_defm_key(&dk, &mk)) == 0 &&
	    (rc = view_get(e, &mk, &v)) == 0) {
		errno = 0;
		x = strtoll(v.p, &end, 10);
		if (errno != 0 || end == v.p || *end != '\0' || x < 0)
			rc = ENG_ECORRUPT;
		else
			*ms = x;
	}
	buf_free(&v);
	return rc;
}

/* What a validation result means, for the logs (one line). */
static void
view_verdict(struct eng *e, const struct view_node *n, int rc, bool applied, bool was_invalid,
    char *out, size_t outsz)
{
	char stem[ENG_NAME_MAX + 1], iso[48], kept[160];
	const char *t, *nl, *first;
	bool job = n->f->dir == ENG_INO_JOBS;
	int64_t since;
	int nerr = 0;

	view_stem(n->name, stem, sizeof(stem));
	if (rc == 0) {
		(void)snprintf(out, outsz, "%s", applied ? (job ? "valid; it is the running "
		    "definition from now on" : "valid; runs that start from now on use it") :
		    was_invalid ? "valid again; identical to the running definition, which kept "
		    "running" : "valid; identical to the running definition (nothing changes)");
		return;
	}
	if (job && sched_job_defined(e->sched, stem)) {
		if (view_def_since(e, n->f->dir, n->name, &since) == 0 &&
		    inst_iso(since, view_job_tz(e, stem), iso, sizeof(iso)) == 0)
			(void)snprintf(kept, sizeof(kept), "the job keeps running its last valid "
			    "definition (running since %s)", iso);
		else
			(void)snprintf(kept, sizeof(kept), "the job keeps running its last valid "
			    "definition");
	} else if (job) {
		(void)snprintf(kept, sizeof(kept), "the job is not defined until the file is valid");
	} else {
		(void)snprintf(kept, sizeof(kept), "%s", view_src_current(e, stem) != NULL ?
		    "runs keep using the last valid source" : "no job can use it until it is valid");
	}
	if (rc != ENG_EINVAL || n->f->errtext == NULL) {
		(void)snprintf(out, outsz, "cannot be stored: %s; %s", eng_strerror(rc), kept);
		return;
	}
	for (t = n->f->errtext; (t = strstr(t, ": error: ")) != NULL; t++)
		nerr++;
	/* the first error line (warnings may come before it) */
	for (first = n->f->errtext; (t = strchr(first, '\n')) != NULL &&
	    memmem(first, (size_t)(t - first), ": error: ", 9) == NULL; first = t + 1)
		;
	nl = strchr(first, '\n');
	(void)snprintf(out, outsz, "INVALID (%d error%s, see %s/%s.error; first: %.*s); %s",
	    nerr, nerr == 1 ? "" : "s", view_dirname(n->f->dir), n->name,
	    (int)(nl != NULL && nl - first < 400 ? nl - first : 400), first, kept);
}

int
view_def_check(struct eng *e, struct view_node *n, pid_t pid, const char *what)
{
	char tail[1024], how[ENG_NAME_MAX + 64];
	struct view_node *jn;
	bool applied = false, was_invalid = n->f->errtext != NULL;
	int rc;

	rc = view_validate(e, n, &applied);
	view_verdict(e, n, rc, applied, was_invalid, tail, sizeof(tail));
	view_def_note(e, n->f->dir, n->name, pid, rc != 0, what, tail);
	if (rc != 0 || !applied || n->f->dir != ENG_INO_SOURCES)
		return rc;
	/* job files that were invalid (e.g. naming this source before it
	 * existed) are checked again against the new source; those that
	 * become valid say so */
	(void)snprintf(how, sizeof(how), "checked again after sources/%s changed", n->name);
	for (jn = e->files[1]; jn != NULL; jn = jn->f->next)
		if (jn->f->errtext != NULL && view_file_is_def(jn) &&
		    view_validate(e, jn, &applied) == 0) {
			view_verdict(e, jn, 0, applied, true, tail, sizeof(tail));
			view_def_note(e, ENG_INO_JOBS, jn->name, pid, false, how, tail);
		}
	return 0;
}

/* ---- load --------------------------------------------------------------------- */

struct view_node *
view_file_new(struct eng *e, uint64_t dir, const char *name, mode_t type, mode_t perm,
    int64_t mtime, int64_t ctime)
{
	struct view_node *n;
	int idx = dir == ENG_INO_SOURCES ? 0 : 1;

	if ((n = view_ns_alloc(VIEW_K_FILE, dir, name, NULL, NULL)) == NULL)
		return NULL;
	if ((n->f = calloc(1, sizeof(*n->f))) == NULL) {
		view_ns_node_free(n);
		return NULL;
	}
	n->f->dir = dir;
	n->f->type = type;
	n->f->perm = perm & (dir == ENG_INO_SOURCES ? 0600 : 0777);
	n->f->mtime_ns = n->f->atime_ns = mtime;
	n->f->ctime_ns = ctime;
	buf_init(&n->f->data, ENG_FILE_MAX);
	n->permanent = true;
	pthread_mutex_lock(&e->lock);
	if (view_ns_insert(e, n) != 0) {
		pthread_mutex_unlock(&e->lock);
		view_ns_node_free(n);
		return NULL;
	}
	pthread_mutex_unlock(&e->lock);
	n->f->next = e->files[idx];
	e->files[idx] = n;
	e->nfiles++;
	return n;
}

/* the existing file dir/name (e->flock held): one hash lookup */
struct view_node *
view_file_find(struct eng *e, uint64_t dir, const char *name)
{
	struct view_node *n;

	pthread_mutex_lock(&e->lock);
	n = view_ns_find(e, dir, name);
	pthread_mutex_unlock(&e->lock);
	return n != NULL && n->kind == VIEW_K_FILE && !n->f->unlinked ? n : NULL;
}

static void
view_file_detach(struct eng *e, struct view_node *n)
{
	struct view_node **pp;

	for (pp = &e->files[n->f->dir == ENG_INO_SOURCES ? 0 : 1]; *pp != NULL;
	    pp = &(*pp)->f->next)
		if (*pp == n) {
			*pp = n->f->next;
			e->nfiles--;
			break;
		}
	n->f->next = NULL;
}

/* ---- attributes and lookup ------------------------------------------------------ */

static void
view_file_entry(struct eng *e, struct view_node *n, struct eng_entry *out)
{
	view_fill_attr(e, &out->attr, n->ino, n->f->type | n->f->perm, view_flen(n->f),
	    n->f->mtime_ns);
	out->attr.atime_ns = n->f->atime_ns;
	out->attr.ctime_ns = n->f->ctime_ns;
	if (n->f->unlinked)
		out->attr.nlink = 0;	/* open after unlink */
	out->attr_timeout = 1.0;
	out->entry_timeout = 1.0;
}

static void
view_err_entry(struct eng *e, struct view_node *en, const struct view_node *def,
    struct eng_entry *out)
{
	view_fill_attr(e, &out->attr, en->ino, S_IFREG | 0444, strlen(def->f->errtext),
	    def->f->err_mtime_ns);
	out->attr_timeout = 0;
	out->entry_timeout = 0;
}

int
view_defs_lookup(struct eng *e, uint64_t parent, const char *name, struct eng_entry *out)
{
	char def[ENG_NAME_MAX + 1];
	struct view_node *n, *dn;
	int rc = -ENOENT;

	pthread_mutex_lock(&e->flock);
	if ((n = view_file_find(e, parent, name)) != NULL) {
		pthread_mutex_lock(&e->lock);
		n->nlookup++;
		pthread_mutex_unlock(&e->lock);
		view_file_entry(e, n, out);
		rc = 0;
	} else if (view_is_errname(name, def, sizeof(def)) &&
	    (dn = view_file_find(e, parent, def)) != NULL && dn->f->errtext != NULL) {
		pthread_mutex_lock(&e->lock);
		if ((n = view_ns_make(e, parent, name, VIEW_K_ERRFILE, NULL, NULL)) != NULL)
			n->nlookup++;
		pthread_mutex_unlock(&e->lock);
		if (n == NULL)
			rc = -ENOMEM;
		else {
			view_err_entry(e, n, dn, out);
			rc = 0;
		}
	}
	pthread_mutex_unlock(&e->flock);
	return rc;
}

int
view_defs_getattr(struct eng *e, struct view_node *n, struct eng_entry *out)
{
	char def[ENG_NAME_MAX + 1];
	struct view_node *dn;
	int rc = 0;

	pthread_mutex_lock(&e->flock);
	if (n->kind == VIEW_K_FILE)
		view_file_entry(e, n, out);
	else if (view_is_errname(n->name, def, sizeof(def)) &&
	    (dn = view_file_find(e, n->parent, def)) != NULL && dn->f->errtext != NULL)
		view_err_entry(e, n, dn, out);
	else
		rc = -ENOENT;
	pthread_mutex_unlock(&e->flock);
	return rc;
}

/* ---- readdir -------------------------------------------------------------------- */

struct view_lent {
	char		*name;
	uint64_t	 ino;
	mode_t		 type;
	struct view_node	*n;	/* the file (or, for .error, its definition) */
	bool		 err;
};

static int
view_lent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct view_lent *)a)->name, ((const struct view_lent *)b)->name);
}

int
view_defs_readdir(struct eng *e, uint64_t ino, uint64_t off, int flags, eng_dirent_fn *fn,
    void *arg)
{
	struct view_lent *v = NULL;
	struct view_node *n, *en;
	struct eng_dirent d;
	struct eng_entry ent;
	size_t cnt = 0, i, j;
	int rc = -ENOMEM;

	pthread_mutex_lock(&e->flock);
	for (n = e->files[ino == ENG_INO_SOURCES ? 0 : 1]; n != NULL; n = n->f->next)
		cnt += n->f->errtext != NULL ? 2 : 1;
	if ((v = calloc(cnt + 1, sizeof(*v))) == NULL)
		goto out;
	i = 0;
	for (n = e->files[ino == ENG_INO_SOURCES ? 0 : 1]; n != NULL; n = n->f->next) {
		v[i].name = n->name;
		v[i].ino = n->ino;
		v[i].type = n->f->type;
		v[i++].n = n;
		if (n->f->errtext != NULL) {
			size_t l = strlen(n->name) + sizeof(VIEW_ERR_SFX);

			if ((v[i].name = malloc(l)) == NULL)
				goto out;
			snprintf(v[i].name, l, "%s" VIEW_ERR_SFX, n->name);
			v[i].ino = (uint64_t)1 << 63 | n->ino;
			v[i].type = S_IFREG;
			v[i].err = true;
			v[i++].n = n;
		}
	}
	qsort(v, cnt, sizeof(*v), view_lent_cmp);
	for (j = off; j < cnt + 2; j++) {
		memset(&d, 0, sizeof(d));
		d.next_off = j + 1;
		d.type = S_IFDIR;
		if (j < 2) {
			d.name = j == 0 ? "." : "..";
			d.ino = j == 0 ? ino : ENG_INO_ROOT;
			if (flags & ENG_READDIR_PLUS) {
				ent.attr.ino = 0;	/* "." and "..": no entry, no lookup */
				d.entry = NULL;
			}
			if (fn(arg, &d))
				break;
			continue;
		}
		d.name = v[j - 2].name;
		d.type = v[j - 2].type;
		d.ino = v[j - 2].ino;
		en = NULL;
		if (flags & ENG_READDIR_PLUS) {
			if (v[j - 2].err) {
				pthread_mutex_lock(&e->lock);
				en = view_ns_make(e, ino, d.name, VIEW_K_ERRFILE, NULL, NULL);
				pthread_mutex_unlock(&e->lock);
				if (en == NULL)
					break;
				view_err_entry(e, en, v[j - 2].n, &ent);
				d.ino = en->ino;
			} else {
				en = v[j - 2].n;
				view_file_entry(e, en, &ent);
			}
			d.entry = &ent;
		}
		if (fn(arg, &d)) {
			if (en != NULL && en->kind == VIEW_K_ERRFILE) {
				pthread_mutex_lock(&e->lock);
				view_ns_maybe_free(e, en);
				pthread_mutex_unlock(&e->lock);
			}
			break;
		}
		if (en != NULL) {
			pthread_mutex_lock(&e->lock);
			en->nlookup++;
			pthread_mutex_unlock(&e->lock);
		}
	}
	rc = 0;
out:
	for (i = 0; v != NULL && i < cnt; i++)
		if (v[i].err)
			free(v[i].name);
	free(v);
	pthread_mutex_unlock(&e->flock);
	return rc;
}

/* ---- open / read / write -------------------------------------------------------- */

/* n's content (loaded here) becomes size bytes long; growing needs room
 * under the bound (h: the handle, for the log, or NULL) */
static int
view_resize(struct eng *e, struct view_node *n, struct view_handle *h, size_t size)
{
	struct view_file *f = n->f;
	int rc;

	if (size > ENG_FILE_MAX)
		return -EFBIG;
	if (size == 0) {
		view_file_empty(e, n);
		return 0;
	}
	if ((rc = view_file_load(e, n, VIEW_LOAD_WRITE, h)) != 0)
		return rc;
	if (size <= f->data.len) {
		buf_truncate(&f->data, size);
		view_recharge(e, f);
		return 0;
	}
	if ((rc = view_file_room(e, n, h, size)) != 0)
		return rc;
	rc = buf_reserve(&f->data, size - f->data.len);
	view_recharge(e, f);
	if (rc != 0)
		return rc == -E2BIG ? -EFBIG : rc;
	memset(f->data.p + f->data.len, 0, size - f->data.len);
	f->data.len = size;
	f->data.p[size] = '\0';
	view_recharge(e, f);
	return 0;
}

int
view_defs_open(struct eng *e, struct view_node *n, int flags, struct view_handle *h,
    struct eng_open *out)
{
	char def[ENG_NAME_MAX + 1];
	struct view_node *dn;
	int rc = 0;

	pthread_mutex_lock(&e->flock);
	if (n->kind == VIEW_K_ERRFILE) {
		if ((flags & O_ACCMODE) != O_RDONLY)
			rc = -EACCES;
		else if (!view_is_errname(n->name, def, sizeof(def)) ||
		    (dn = view_file_find(e, n->parent, def)) == NULL || dn->f->errtext == NULL)
			rc = -ENOENT;
		else
			rc = buf_addstr(&h->snap, dn->f->errtext);
		out->direct_io = true;
		goto out;
	}
	if (n->f->type == S_IFLNK) {
		rc = -ELOOP;
		goto out;
	}
	if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY && view_flen(n->f) > 0) {
		view_file_empty(e, n);
		n->f->mtime_ns = n->f->ctime_ns = view_now_ns(e);
		n->f->unsaved = true;
		h->truncated = true;
	}
	/*
	 * Reads go to the engine, never to the kernel's page cache: with the
	 * cache, a reader racing another process's O_TRUNC + write could be
	 * served a short read zero-filled up to a stale size (seen as a torn
	 * read of NUL bytes in it_concurrent under ASan).  Definitions are
	 * small; nothing of value is lost.
	 */
	out->direct_io = true;
	out->keep_cache = false;
out:
	pthread_mutex_unlock(&e->flock);
	return rc;
}

int
view_defs_create(struct eng *e, uint64_t parent, const char *name, mode_t mode, int flags,
    struct eng_entry *out, struct eng_open *oi, bool *truncated)
{
	char def[ENG_NAME_MAX + 1];
	struct view_node *n;
	int64_t now = view_now_ns(e);
	int rc = 0;

	if (strlen(name) > ENG_NAME_MAX)
		return -ENAMETOOLONG;
	if (!view_name_ok(name))
		return -EINVAL;
	if (view_is_errname(name, def, sizeof(def)))
		return -EPERM;
	if (view_defname_refused(parent, name))
		return -EINVAL;
	pthread_mutex_lock(&e->flock);
	if ((n = view_file_find(e, parent, name)) != NULL) {
		if (flags & O_EXCL) {
			rc = -EEXIST;
			goto out;
		}
		if (n->f->type == S_IFLNK) {
			rc = -ELOOP;
			goto out;
		}
		if ((flags & O_TRUNC) && view_flen(n->f) > 0) {
			view_file_empty(e, n);
			n->f->mtime_ns = n->f->ctime_ns = now;
			n->f->unsaved = true;
			*truncated = true;
		}
	} else {
		if ((rc = view_files_room(e, parent, name)) != 0)
			goto out;
		if ((n = view_file_new(e, parent, name, S_IFREG, mode & 07777, now, now)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		view_file_empty(e, n);
		if ((rc = view_save(e, n)) != 0) {
			view_file_detach(e, n);
			pthread_mutex_lock(&e->lock);
			n->permanent = false;
			view_ns_maybe_free(e, n);
			pthread_mutex_unlock(&e->lock);
			goto out;
		}
		view_dirm_touch(e, view_dirm_of(parent));
	}
	pthread_mutex_lock(&e->lock);
	n->nlookup++;
	pthread_mutex_unlock(&e->lock);
	view_file_entry(e, n, out);
	oi->keep_cache = false;
out:
	pthread_mutex_unlock(&e->flock);
	return rc;
}

/* bytes [off, off + size) of v, appended to out */
static int
view_slice(const struct buf *v, uint64_t off, size_t size, struct buf *out)
{
	if (off >= v->len)
		return 0;
	return buf_add(out, v->p + off, v->len - off < size ? v->len - off : size);
}

int
view_defs_read(struct eng *e, struct view_handle *h, uint64_t off, size_t size, struct buf *out)
{
	struct view_node *n = h->node;
	struct view_key k;
	struct buf raw, v;
	int rc;

	pthread_mutex_lock(&e->flock);
	if (n->f->loaded || (rc = view_file_load(e, n, VIEW_LOAD_READ, NULL)) == 0) {
		rc = view_slice(&n->f->data, off, size, out);
		goto out;
	}
	if (rc != -ENOSPC)
		goto out;
	/* no room to keep it while open: this read's bytes from the store */
	buf_init(&raw, ENG_FILE_MAX + 1);
	buf_init(&v, ENG_FILE_MAX);
	if ((rc = view_content_key(n->f->dir, n->name, n->f->type, &k)) == 0 &&
	    (rc = view_get(e, &k, &raw)) == 0 &&
	    (rc = view_view_of(raw.p, raw.len, &v)) == 0)
		rc = view_slice(&v, off, size, out);
	explicit_bzero(raw.p, raw.len);
	buf_free(&raw);
	buf_free(&v);
	if (rc == -ENOENT)
		rc = 0;
out:
	pthread_mutex_unlock(&e->flock);
	return rc;
}

int
view_defs_write(struct eng *e, struct view_handle *h, uint64_t off, const void *data, size_t len)
{
	struct view_file *f = h->node->f;
	int rc;

	pthread_mutex_lock(&e->flock);
	if (h->flags & O_APPEND)
		off = view_flen(f);
	if (off > ENG_FILE_MAX || len > ENG_FILE_MAX - off) {
		rc = -EFBIG;
		goto out;
	}
	if ((rc = view_file_load(e, h->node, VIEW_LOAD_WRITE, h)) != 0)
		goto out;
	if (off + len > f->data.len &&
	    (rc = view_resize(e, h->node, h, (size_t)(off + len))) != 0)
		goto out;
	memcpy(f->data.p + off, data, len);
	f->mtime_ns = f->ctime_ns = view_now_ns(e);
	f->unsaved = true;
	h->wrote = true;
	h->truncated = false;	/* this write's commit covers it */
	rc = 0;
out:
	pthread_mutex_unlock(&e->flock);
	return rc;
}

int
view_defs_commit(struct eng *e, struct view_handle *h)
{
	struct view_node *n = h->node;
	int rc = 0;

	pthread_mutex_lock(&e->flock);
	if (n->f->unlinked) {
		h->wrote = false;
		goto out;
	}
	if (n->f->unsaved && (rc = view_save(e, n)) != 0)
		goto out;
	if (h->wrote) {
		h->wrote = false;
		/* validation never fails close/fsync (contrib/doc/design.md 1):
		 * an invalid definition is reported in NAME.json.error and the
		 * logs */
		if (view_file_is_def(n) && (rc = view_def_check(e, n, h->pid, "saved")) == ENG_EINVAL)
			rc = 0;
	}
out:
	pthread_mutex_unlock(&e->flock);
	return rc;
}

int
view_defs_setattr(struct eng *e, struct view_node *n, struct view_handle *h,
    const struct eng_setattr *sa, struct eng_entry *out)
{
	struct view_file *f = n->f;
	int64_t now = view_now_ns(e);
	int rc = 0;

	pthread_mutex_lock(&e->flock);
	if (sa->valid & ENG_SET_SIZE) {
		if (f->type != S_IFREG) {
			rc = -EINVAL;
			goto out;
		}
		if (sa->size > ENG_FILE_MAX) {
			rc = -EFBIG;
			goto out;
		}
		if ((rc = view_resize(e, n, h, (size_t)sa->size)) != 0)
			goto out;
		f->mtime_ns = now;
		if (h != NULL)
			h->wrote = true;
	}
	if (sa->valid & ENG_SET_MODE)
		f->perm = sa->mode & (f->dir == ENG_INO_SOURCES ? 0600 : 0777);
	if (sa->valid & ENG_SET_MTIME)
		f->mtime_ns = sa->mtime_ns;
	else if (sa->valid & ENG_SET_MTIME_NOW)
		f->mtime_ns = now;
	if (sa->valid & ENG_SET_ATIME)
		f->atime_ns = sa->atime_ns;
	else if (sa->valid & ENG_SET_ATIME_NOW)
		f->atime_ns = now;
	f->ctime_ns = now;
	if (!f->unlinked && (rc = view_save(e, n)) != 0)
		goto out;
	view_file_entry(e, n, out);
out:
	view_file_unload(e, n);	/* truncate(2) by name: no handle keeps it */
	pthread_mutex_unlock(&e->flock);
	return rc;
}

int
view_defs_readlink(struct eng *e, struct view_node *n, struct buf *out)
{
	int rc;

	pthread_mutex_lock(&e->flock);
	rc = n->f->type == S_IFLNK ? buf_add(out, n->f->data.p, n->f->data.len) : -EINVAL;
	pthread_mutex_unlock(&e->flock);
	return rc;
}

/* ---- namespace changes ------------------------------------------------------------ */

/* n's bytes are about to leave the store: an open handle keeps reading them */
static int
view_file_keep(struct eng *e, struct view_node *n)
{
	bool open;

	if (n->f->loaded)
		return 0;
	pthread_mutex_lock(&e->lock);
	open = n->nopen > 0;
	pthread_mutex_unlock(&e->lock);
	return open ? view_file_load(e, n, VIEW_LOAD_KEEP, NULL) : 0;
}

/* Forget n as a directory entry (its bytes are already gone from the store). */
static void
view_file_gone(struct eng *e, struct view_node *n, pid_t pid)
{
	if (view_file_is_def(n) && n->f->dir == ENG_INO_JOBS)
		view_job_gone(e, n->name, pid, "removed");
	view_set_errtext(e, n, NULL);
	view_file_detach(e, n);
	n->f->unlinked = true;
	pthread_mutex_lock(&e->lock);
	n->permanent = false;
	view_ns_unhash(e, n);
	view_ns_maybe_free(e, n);
	pthread_mutex_unlock(&e->lock);
}

int
view_defs_unlink(struct eng *e, uint64_t parent, const char *name, pid_t pid)
{
	char def[ENG_NAME_MAX + 1];
	struct view_batch b;
	struct view_key ck, mk, dk;
	struct view_node *n;
	int rc;

	pthread_mutex_lock(&e->flock);
	if ((n = view_file_find(e, parent, name)) == NULL) {
		struct view_node *dn = view_is_errname(name, def, sizeof(def)) ?
		    view_file_find(e, parent, def) : NULL;

		rc = dn != NULL && dn->f->errtext != NULL ? -EPERM : -ENOENT;
		goto out;
	}
	memset(&b, 0, sizeof(b));
	if ((rc = view_content_key(parent, name, n->f->type, &ck)) != 0 ||
	    (rc = view_meta_key(parent, name, &mk)) != 0)
		goto out;
	view_batch_add(&b, false, &ck, NULL, 0);
	view_batch_add(&b, false, &mk, NULL, 0);
	/* a deleted source's secrets do not stay behind (a job's last valid
	 * definition stays: it is the history's definition) */
	if (parent == ENG_INO_SOURCES && view_file_is_def(n) &&
	    view_def_key(parent, name, &dk) == 0)
		view_batch_add(&b, false, &dk, NULL, 0);
	if ((rc = view_file_keep(e, n)) != 0 ||
	    (rc = store_update(e->store, view_batch_fn, &b)) != 0)
		goto out;
	view_file_gone(e, n, pid);
	view_dirm_touch(e, view_dirm_of(parent));
out:
	pthread_mutex_unlock(&e->flock);
	return rc;
}

int
view_defs_symlink(struct eng *e, const char *target, uint64_t parent, const char *name,
    struct eng_entry *out)
{
	char def[ENG_NAME_MAX + 1];
	struct view_node *n;
	int64_t now = view_now_ns(e);
	int rc;

	if (strlen(name) > ENG_NAME_MAX)
		return -ENAMETOOLONG;
	if (!view_name_ok(name))
		return -EINVAL;
	if (view_is_errname(name, def, sizeof(def)))
		return -EPERM;
	if (strlen(target) > 4095)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&e->flock);
	if (view_file_find(e, parent, name) != NULL) {
		rc = -EEXIST;
		goto out;
	}
	if ((rc = view_files_room(e, parent, name)) != 0)
		goto out;
	if ((n = view_file_new(e, parent, name, S_IFLNK, 0777, now, now)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	n->f->perm = 0777;
	view_file_empty(e, n);
	rc = buf_addstr(&n->f->data, target);
	view_recharge(e, n->f);
	if (rc != 0 || (rc = view_save(e, n)) != 0) {
		view_file_detach(e, n);
		pthread_mutex_lock(&e->lock);
		n->permanent = false;
		view_ns_maybe_free(e, n);
		pthread_mutex_unlock(&e->lock);
		goto out;
	}
	pthread_mutex_lock(&e->lock);
	n->nlookup++;
	pthread_mutex_unlock(&e->lock);
	view_dirm_touch(e, view_dirm_of(parent));
	view_file_entry(e, n, out);
out:
	pthread_mutex_unlock(&e->flock);
	return rc;
}

int
view_defs_rename(struct eng *e, uint64_t parent, const char *name, uint64_t newparent,
    const char *newname, unsigned flags, pid_t pid)
{
	char def[ENG_NAME_MAX + 1], ostem[ENG_NAME_MAX + 1], nstem[ENG_NAME_MAX + 1];
	char what[2 * ENG_NAME_MAX + 48];
	struct view_key ock, omk, nck, nmk, tck, tmk;
	struct view_node *n, *t;
	struct view_batch b;
	struct buf moved;
	char meta[96];
	bool was_job;
	int rc, ml;

	if (strlen(newname) > ENG_NAME_MAX)
		return -ENAMETOOLONG;
	if (!view_name_ok(newname))
		return -EINVAL;
	if (view_is_errname(newname, def, sizeof(def)))
		return -EPERM;
	if (view_defname_refused(newparent, newname))
		return -EINVAL;
	buf_init(&moved, ENG_FILE_MAX + 1);
	pthread_mutex_lock(&e->flock);
	if ((n = view_file_find(e, parent, name)) == NULL) {
		rc = view_is_errname(name, def, sizeof(def)) ? -EPERM : -ENOENT;
		goto out;
	}
	t = view_file_find(e, newparent, newname);
	if (t == n) {
		rc = 0;
		goto out;
	}
	if (t != NULL && (flags & ENG_RENAME_NOREPLACE)) {
		rc = -EEXIST;
		goto out;
	}
	if (n->f->unsaved && (rc = view_save(e, n)) != 0)
		goto out;
	memset(&b, 0, sizeof(b));
	if ((rc = view_content_key(parent, name, n->f->type, &ock)) != 0 ||
	    (rc = view_meta_key(parent, name, &omk)) != 0 ||
	    (rc = view_content_key(newparent, newname, n->f->type, &nck)) != 0 ||
	    (rc = view_meta_key(newparent, newname, &nmk)) != 0)
		goto out;
	if (t != NULL) {
		if ((rc = view_file_keep(e, t)) != 0 ||
		    (rc = view_content_key(newparent, newname, t->f->type, &tck)) != 0 ||
		    (rc = view_meta_key(newparent, newname, &tmk)) != 0)
			goto out;
		view_batch_add(&b, false, &tck, NULL, 0);
		view_batch_add(&b, false, &tmk, NULL, 0);
	}
	n->f->ctime_ns = view_now_ns(e);
	if ((ml = view_meta_fmt(n->f, view_flen(n->f), meta, sizeof(meta))) < 0) {
		rc = ml;
		goto out;
	}
	view_batch_add(&b, false, &omk, NULL, 0);
	view_batch_add(&b, true, &nmk, meta, (size_t)ml);
	b.from = &ock;
	b.to = &nck;
	b.moved = &moved;
	if ((rc = store_update(e->store, view_batch_fn, &b)) != 0)
		goto out;
	/* the store is done: now the memory */
	was_job = view_file_is_def(n) && parent == ENG_INO_JOBS;
	if (was_job)
		view_stem(name, ostem, sizeof(ostem));
	if (t != NULL) {
		/* the replaced file: if it is a job with the same stem it stays
		 * (the new bytes replace it below), so no removal */
		if (view_file_is_def(t) && newparent == ENG_INO_JOBS && !view_is_defname(newname))
			view_job_gone(e, t->name, pid, "replaced by a file that is not a definition");
		t->f->errtext = (free(t->f->errtext), NULL);
		view_file_detach(e, t);
		t->f->unlinked = true;
		pthread_mutex_lock(&e->lock);
		t->permanent = false;
		view_ns_unhash(e, t);
		view_ns_maybe_free(e, t);
		pthread_mutex_unlock(&e->lock);
	}
	view_set_errtext(e, n, NULL);
	view_file_detach(e, n);
	pthread_mutex_lock(&e->lock);
	rc = view_ns_rehash(e, n, newparent, newname);
	pthread_mutex_unlock(&e->lock);
	n->f->dir = newparent;
	if (newparent == ENG_INO_SOURCES)
		n->f->perm &= 0600;
	n->f->next = e->files[newparent == ENG_INO_SOURCES ? 0 : 1];
	e->files[newparent == ENG_INO_SOURCES ? 0 : 1] = n;
	e->nfiles++;
	if (rc != 0)
		goto out;
	view_dirm_touch(e, view_dirm_of(parent));
	if (newparent != parent)
		view_dirm_touch(e, view_dirm_of(newparent));
	(void)snprintf(what, sizeof(what), "renamed to %s%s", newparent != parent ?
	    (newparent == ENG_INO_SOURCES ? "sources/" : "jobs/") : "", newname);
	if (was_job) {
		if (!view_file_is_def(n) || newparent != ENG_INO_JOBS)
			view_job_gone(e, name, pid, what);
		else {
			view_stem(newname, nstem, sizeof(nstem));
			if (strcmp(ostem, nstem) != 0)
				view_job_gone(e, name, pid, what);
		}
	}
	(void)snprintf(what, sizeof(what), "replaced by renaming %s%s onto it",
	    newparent != parent ? (parent == ENG_INO_SOURCES ? "sources/" : "jobs/") : "", name);
	if (view_file_is_def(n))	/* renames always succeed */
		(void)view_def_check(e, n, pid, what);
	/* a file moved into sources/ shows its secrets masked */
	if (n->f->type == S_IFREG && newparent != parent && n->f->loaded) {
		(void)view_view_of(moved.p, moved.len, &n->f->data);
		view_recharge(e, n->f);
	}
	rc = 0;
out:
	pthread_mutex_unlock(&e->flock);
	buf_free(&moved);
	return rc;
}

int
view_defs_jobinfo(struct eng *e, const char *job, struct view_definfo *out)
{
	char name[ENG_NAME_MAX + 8];
	struct view_node *n;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	(void)snprintf(name, sizeof(name), "%s.json", job);
	(void)snprintf(out->path, sizeof(out->path), "jobs/%s", name);
	pthread_mutex_lock(&e->flock);
	if ((n = view_file_find(e, ENG_INO_JOBS, name)) != NULL && view_file_is_def(n)) {
		out->present = true;
		out->err_ms = n->f->err_since_ns / 1000000;
		out->errchg_ms = n->f->err_mtime_ns / 1000000;
		if (n->f->errtext != NULL && (out->errtext = strdup(n->f->errtext)) == NULL)
			rc = -ENOMEM;
	}
	pthread_mutex_unlock(&e->flock);
	return rc;
}

int
view_defs_job_raw(struct eng *e, const char *job, struct buf *out)
{
	struct view_key k;
	int rc;

	k.db = STORE_DB_DEFS;
	if ((rc = store_key_def(k.k, sizeof(k.k), STORE_DEF_JOB, job, &k.klen)) != 0)
		return rc;
	return view_get(e, &k, out);
}
