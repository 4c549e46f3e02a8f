/* SPDX-License-Identifier: MIT */
/*
 * view_load.c - bringing sources/ and jobs/ back at eng_new: every file
 * kept in the store (metadata in STORE_DB_META "file\0DIR/NAME", content in
 * SOURCES/JOBS/FILES), then the last valid definitions (STORE_DB_DEFS) made
 * current again -- sources first, then every job whose file still exists
 * -- and NAME.json.error recomputed for stored files that are invalid.
 * At eng_free, bytes of handles the kernel never closed are committed.
 * Layout and locking: view_defs.c, view_i.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "view_i.h"
#include "log.h"

struct view_load {
	struct eng	*e;
	int		 rc;
	enum store_db	 db;	/* pass 2: SOURCES or JOBS */
};

static int
view_parse_i64(const char *s, size_t len, int base, int64_t *out)
{
	int64_t v = 0;
	size_t i = 0;
	bool neg = false;

	if (len > 0 && s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] >= '0' + base || v > INT64_MAX / 16)
			return -EINVAL;
		v = v * base + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

static int
view_load_meta_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct view_load *l = arg;
	const char *k = (const char *)key + sizeof(VIEW_META_PFX), *v = val, *sl, *w[5];
	char name[ENG_NAME_MAX + 1];
	size_t kl = klen - sizeof(VIEW_META_PFX), wl[5], i, nw = 0, p = 0;
	int64_t perm, mt, ct, size = -1;
	struct view_node *n;
	uint64_t dir;

	if ((sl = memchr(k, '/', kl)) == NULL)
		return 0;
	dir = (size_t)(sl - k) == 7 && memcmp(k, "sources", 7) == 0 ? ENG_INO_SOURCES :
	    (size_t)(sl - k) == 4 && memcmp(k, "jobs", 4) == 0 ? ENG_INO_JOBS : 0;
	if (dir == 0 || kl - (size_t)(sl - k) - 1 > ENG_NAME_MAX)
		return 0;
	memcpy(name, sl + 1, kl - (size_t)(sl - k) - 1);
	name[kl - (size_t)(sl - k) - 1] = '\0';
	while (p < vlen && nw < 5) {
		i = p;
		while (p < vlen && v[p] != ' ')
			p++;
		w[nw] = v + i;
		wl[nw++] = p - i;
		p++;
	}
	/* the fifth word, the size, is new: records without it get it computed */
	if (nw < 4 || wl[0] != 1 || view_parse_i64(w[1], wl[1], 8, &perm) != 0 ||
	    view_parse_i64(w[2], wl[2], 10, &mt) != 0 || view_parse_i64(w[3], wl[3], 10, &ct) != 0 ||
	    (nw == 5 && (view_parse_i64(w[4], wl[4], 10, &size) != 0 || size < 0)) ||
	    !view_name_ok(name)) {
		log_warnx("state store: skipping unreadable file record %s/%s",
		    view_dirname(dir), name);
		return 0;
	}
	if ((n = view_file_new(l->e, dir, name, w[0][0] == 'l' ? S_IFLNK : S_IFREG,
	    (mode_t)perm, mt, ct)) == NULL) {
		l->rc = -ENOMEM;
		return -ENOMEM;
	}
	n->f->size = size >= 0 ? (uint64_t)size : VIEW_SIZE_UNKNOWN;
	return 0;
}

static int
view_load_bare_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct view_load *l = arg;
	uint64_t dir = l->db == STORE_DB_SOURCES ? ENG_INO_SOURCES : ENG_INO_JOBS;
	char name[ENG_NAME_MAX + 1];
	struct view_node *n;

	(void)val;
	(void)vlen;
	if (klen + 5 > ENG_NAME_MAX)
		return 0;
	memcpy(name, key, klen);
	memcpy(name + klen, ".json", 6);
	if (!view_name_ok(name) || view_file_find(l->e, dir, name) != NULL)
		return 0;
	if ((n = view_file_new(l->e, dir, name, S_IFREG, dir == ENG_INO_SOURCES ? 0600 : 0644,
	    l->e->start_ns, l->e->start_ns)) == NULL)
		return -ENOMEM;
	n->f->size = VIEW_SIZE_UNKNOWN;
	return 0;
}

static int
view_load_fn(struct store_txn *txn, void *arg)
{
	struct view_load *l = arg;
	int rc;

	if ((rc = store_iter(txn, STORE_DB_META, VIEW_META_PFX, sizeof(VIEW_META_PFX), NULL, 0, 0,
	    view_load_meta_cb, l)) != 0)
		return rc;
	l->db = STORE_DB_SOURCES;
	if ((rc = store_iter(txn, STORE_DB_SOURCES, NULL, 0, NULL, 0, 0, view_load_bare_cb, l)) != 0)
		return rc;
	l->db = STORE_DB_JOBS;
	return store_iter(txn, STORE_DB_JOBS, NULL, 0, NULL, 0, 0, view_load_bare_cb, l);
}

/* the running (last valid) definitions of one kind, collected in a read
 * txn and defined after it (defining a job opens transactions itself) */
struct view_defrec {
	char		*name;
	char		*raw;
	size_t		 len;
	struct view_defrec *next;
};

struct view_defload {
	int		 kind;
	struct view_defrec *list;
};

static int
view_defload_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct view_defload *l = arg;
	struct view_defrec *r;

	if (klen < 3 || klen - 2 > ENG_NAME_MAX - 5)
		return 0;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	r->name = strndup((const char *)key + 2, klen - 2);
	r->raw = malloc(vlen + 1);
	if (r->name == NULL || r->raw == NULL) {
		free(r->name);
		free(r->raw);
		free(r);
		return -ENOMEM;
	}
	memcpy(r->raw, val, vlen);
	r->raw[vlen] = '\0';
	r->len = vlen;
	r->next = l->list;
	l->list = r;
	return 0;
}

static int
view_defload_fn(struct store_txn *txn, void *arg)
{
	struct view_defload *l = arg;
	char pfx[2] = { (char)l->kind, '\0' };

	return store_iter(txn, STORE_DB_DEFS, pfx, 2, NULL, 0, 0, view_defload_cb, l);
}

/*
 * Jobs are defined again one by one, in no particular order: one whose
 * dependencies close a cycle with those defined before it is not defined
 * (eb: the cycle), like any invalid definition; view_validate then gives its
 * file the NAME.json.error.
 */
static int
view_stored_deps(struct eng *e, const struct conf_job *job, struct eng_errbuf *eb)
{
	const struct conf_diag *g;
	struct conf_diags *d = NULL;
	size_t i;
	int rc;

	if ((rc = conf_diags_new(&d)) != 0)
		return rc;
	rc = conf_job_check_deps(job, view_dep_lookup, e, false, d);
	for (i = 0; rc == ENG_EINVAL && (g = conf_diags_at(d, i)) != NULL; i++)
		if (g->sev == CONF_ERROR) {
			(void)eng_errbuf_set(eb, rc, "%s", g->msg);
			break;
		}
	conf_diags_free(d);
	return rc;
}

static int
view_define_stored(struct eng *e, int kind)
{
	char fname[ENG_NAME_MAX + 8];
	struct view_defload l = { kind, NULL };
	struct eng_errbuf eb;
	struct conf_source *src;
	struct conf_job *job;
	struct view_defrec *r;
	int rc, ret;

	ret = store_view(e->store, view_defload_fn, &l);
	while ((r = l.list) != NULL) {
		l.list = r->next;
		eb.msg[0] = '\0';
		rc = 0;
		if (ret != 0) {
			/* only free */
		} else if (kind == STORE_DEF_SOURCE) {
			if ((rc = conf_source_parse(r->name, r->raw, r->len, NULL, NULL, &src)) == 0)
				rc = view_src_set(e, src);
		} else {
			snprintf(fname, sizeof(fname), "%s.json", r->name);
			if ((rc = conf_job_parse(r->name, r->raw, r->len, view_src_lookup, e, NULL,
			    &job)) == 0) {
				const struct conf_schedule *sch = conf_job_schedule(job);

				(void)view_job_zone_set(e, r->name, sch != NULL ? sch->timezone :
				    NULL);
				if (view_file_find(e, ENG_INO_JOBS, fname) == NULL)
					conf_job_free(job);	/* deleted: history only */
				else if ((rc = view_stored_deps(e, job, &eb)) != 0)
					conf_job_free(job);
				else
					rc = sched_job_set(e->sched, r->name, job, &eb);
			} else if (view_file_find(e, ENG_INO_JOBS, fname) == NULL) {
				rc = 0;	/* a deleted job's zone: the machine's */
			}
		}
		if (rc != 0)
			log_warnx("%s %s: cannot define the stored definition again: %s",
			    kind == STORE_DEF_SOURCE ? "source" : "job", r->name,
			    eb.msg[0] != '\0' ? eb.msg : eng_strerror(rc));
		if (rc == -ENOMEM && ret == 0)
			ret = rc;
		if (r->raw != NULL)
			explicit_bzero(r->raw, r->len);	/* may hold a secret */
		free(r->raw);
		free(r->name);
		free(r);
	}
	return ret;
}

int
view_defs_load(struct eng *e, struct eng_errbuf *eb)
{
	struct view_load l = { e, 0, STORE_DB_SOURCES };
	struct view_node *n;
	bool applied;
	int rc, i;

	pthread_mutex_lock(&e->flock);
	e->loading = true;
	if ((rc = store_view(e->store, view_load_fn, &l)) != 0) {
		eng_errbuf_set(eb, rc, "cannot load the files of the mount: %s", eng_strerror(rc));
		goto out;
	}
	/* no bytes stay in memory but symlink targets; a size the record does
	 * not have is computed (the view's length) */
	for (i = 0; i < 2; i++)
		for (n = e->files[i]; n != NULL; n = n->f->next) {
			if (n->f->type == S_IFREG && n->f->size != VIEW_SIZE_UNKNOWN)
				continue;
			n->f->size = 0;
			if ((rc = view_file_load(e, n, VIEW_LOAD_KEEP, NULL)) != 0)
				goto fail;
			if (n->f->type == S_IFREG)
				view_file_unload(e, n);
		}
	if ((rc = view_define_stored(e, STORE_DEF_SOURCE)) != 0 ||
	    (rc = view_define_stored(e, STORE_DEF_JOB)) != 0)
		goto fail;
	for (i = 0; i < 2; i++)
		for (n = e->files[i]; n != NULL; n = n->f->next)
			/* errtext for invalid ones; an empty file (": > x.json",
			 * nothing written yet) was not validated before either */
			if (view_file_is_def(n) && view_flen(n->f) > 0 &&
			    view_validate(e, n, &applied) == ENG_EINVAL)
				log_warnx("%s/%s: invalid (see %s.error); %s", view_dirname(n->f->dir),
				    n->name, n->name, n->f->dir == ENG_INO_JOBS ?
				    "its last valid definition runs, if it had one" :
				    "its last valid source is used, if it had one");
	rc = 0;
	goto out;
fail:
	eng_errbuf_set(eb, rc, "cannot load the files of the mount: %s", eng_strerror(rc));
out:
	e->loading = false;
	pthread_mutex_unlock(&e->flock);
	return rc;
}

void
view_defs_free(struct eng *e)
{
	struct view_node *n;
	int i;

	/* bytes written through handles still open are committed (unmount
	 * and SIGTERM keep them); file nodes are freed with the inode table */
	pthread_mutex_lock(&e->flock);
	for (i = 0; i < 2; i++)
		for (n = e->files[i]; n != NULL; n = n->f->next)
			if (n->f->unsaved)
				(void)view_save(e, n);
	pthread_mutex_unlock(&e->flock);
}

