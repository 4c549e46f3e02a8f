/* SPDX-License-Identifier: MIT */
/*
 * view_bounds.c - what the daemon may hold (view.h "Bounds"): the bytes of
 * sources/ and jobs/ files in memory, the number of those files, the open
 * handles.  A bound refuses the call that would pass it -- never an
 * allocation that fails later -- and says so in the daemon log, at most
 * one line a second (a loop of refused calls does not fill the log; the
 * next line counts those left out).
 *
 * Bytes held (e->held, the allocation sizes, not the lengths):
 *   - f->data of a loaded file.  A stored file is not resident: its
 *     length is in f->size (and in its META record), and its bytes are
 *     loaded when a handle writes it, or reads it while there is room,
 *     and dropped when its last handle closes (view_file_unload).  When a
 *     write needs room, loaded files that are saved are dropped first
 *     (view_evict): only bytes not yet stored can fill the bound.
 *   - h->snap of an open instances/ file (job.json is a definition).
 * The buffers a commit uses for a moment (the stored bytes, the masked
 * view, the parsed tree) are not counted: every such call holds e->flock,
 * so there is one set of them at a time (a constant, ~4 MiB).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "view_i.h"
#include "log.h"

void
view_bounds_init(struct eng *e)
{
	e->max_held = e->cfg.max_defs_bytes != 0 ? e->cfg.max_defs_bytes :
	    ENG_DEFS_BYTES_DEFAULT;
	e->max_files = e->cfg.max_defs != 0 ? e->cfg.max_defs : ENG_DEFS_DEFAULT;
	e->max_handles = e->cfg.max_handles != 0 ? e->cfg.max_handles :
	    ENG_HANDLES_DEFAULT;
}

void
view_bounds_free(struct eng *e)
{
	struct view_pidc *p;
	size_t i;

	for (i = 0; i < sizeof(e->pids) / sizeof(e->pids[0]); i++)
		while ((p = e->pids[i]) != NULL) {
			e->pids[i] = p->next;
			free(p);
		}
}

/* "64 MiB", "1.5 MiB", "900 KiB", "12 bytes" */
static void
view_size_str(uint64_t n, char *out, size_t outsz)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		(void)snprintf(out, outsz, "%llu MiB", (unsigned long long)(n >> 20));
	else if (n >= (1u << 20))
		(void)snprintf(out, outsz, "%.1f MiB", (double)n / (1u << 20));
	else if (n >= 1024)
		(void)snprintf(out, outsz, "%llu KiB", (unsigned long long)(n >> 10));
	else
		(void)snprintf(out, outsz, "%llu bytes", (unsigned long long)n);
}

/* One refusal in the daemon log; at most one line a second. */
static void __attribute__((format(printf, 2, 3)))
view_bound_log(struct eng *e, const char *fmt, ...)
{
	struct timespec ts;
	char msg[1024];
	va_list ap;
	int64_t now, last, quiet;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	last = e->bound_log_ms;
	if (last != 0 && now - last < 1000) {
		e->bound_quiet++;
		return;
	}
	e->bound_log_ms = now;
	quiet = e->bound_quiet;
	e->bound_quiet = 0;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);	/* a cut line is still fine */
	va_end(ap);
	if (quiet > 0)
		log_warnx("%s (and %lld more refusals in the last second)", msg, (long long)quiet);
	else
		log_warnx("%s", msg);
}

uint64_t
view_flen(const struct view_file *f)
{
	return f->loaded ? f->data.len : f->size;
}

void
view_recharge(struct eng *e, struct view_file *f)
{
	e->held += (int64_t)f->data.cap - (int64_t)f->charged;
	f->charged = f->data.cap;
	if (f->loaded)
		f->size = f->data.len;
}

/* The allocation buf_reserve makes for len bytes from cap (engine/core/buf.c:
 * doubling from 64, at most max + 1). */
static size_t
view_cap_for(size_t cap, size_t len, size_t max)
{
	size_t c = cap != 0 ? cap : 64;

	if (len + 1 <= cap)
		return cap;
	while (c < len + 1)
		c *= 2;
	return c > max + 1 ? max + 1 : c;
}

/* Drop the loaded bytes of saved files other than keep until need more
 * bytes fit; true when they do. */
static bool
view_evict(struct eng *e, const struct view_node *keep, int64_t need)
{
	struct view_node *n;
	int i;

	for (i = 0; i < 2; i++)
		for (n = e->files[i]; n != NULL && e->held + need > (int64_t)e->max_held;
		    n = n->f->next)
			if (n != keep && n->f->loaded && !n->f->unsaved && !n->f->unlinked &&
			    n->f->type == S_IFREG) {
				n->f->size = n->f->data.len;
				buf_free(&n->f->data);
				buf_init(&n->f->data, ENG_FILE_MAX);
				n->f->loaded = false;
				view_recharge(e, n->f);
			}
	return e->held + need <= (int64_t)e->max_held;
}

static int
view_room(struct eng *e, struct view_node *n, struct view_handle *h, size_t len,
    const char *what)
{
	char lim[32], held[32];
	size_t cap = n->f->loaded ? n->f->data.cap : 0;
	int64_t need = (int64_t)view_cap_for(cap, len, ENG_FILE_MAX) - (int64_t)cap;

	if (need <= 0 || e->held + need <= (int64_t)e->max_held || view_evict(e, n, need))
		return 0;
	if (h != NULL && h->refused)
		return -ENOSPC;
	if (h != NULL)
		h->refused = true;
	view_size_str(e->max_held, lim, sizeof(lim));
	view_size_str((uint64_t)e->held, held, sizeof(held));
	view_bound_log(e, "%s/%s: %s refused (No space left on device): the bytes of "
	    "definition files held in memory would pass the bound of %s (%s held by "
	    "files being written); raise it with `difs mount --max-defs-bytes`",
	    view_dirname(n->f->dir), n->name, what, lim, held);
	return -ENOSPC;
}

int
view_file_room(struct eng *e, struct view_node *n, struct view_handle *h, size_t len)
{
	return view_room(e, n, h, len, "write");
}

int
view_file_load(struct eng *e, struct view_node *n, enum view_load_why why,
    struct view_handle *h)
{
	struct view_file *f = n->f;
	struct view_key k;
	struct buf raw;
	int rc;

	if (f->loaded)
		return 0;
	if (why == VIEW_LOAD_READ) {
		if (e->held + (int64_t)view_cap_for(0, (size_t)f->size, ENG_FILE_MAX) >
		    (int64_t)e->max_held)
			return -ENOSPC;
	} else if (why == VIEW_LOAD_WRITE &&
	    (rc = view_room(e, n, h, (size_t)f->size, "write")) != 0) {
		return rc;
	}
	buf_init(&raw, ENG_FILE_MAX + 1);
	if ((rc = view_content_key(f->dir, n->name, f->type, &k)) == 0 &&
	    (rc = view_get(e, &k, &raw)) == -ENOENT)
		rc = 0;		/* created, never stored: empty */
	buf_reset(&f->data);
	if (rc == 0 && (rc = view_view_of(raw.p, raw.len, &f->data)) == 0)
		f->loaded = true;
	else
		buf_free(&f->data);
	explicit_bzero(raw.p, raw.len);	/* may hold a secret */
	buf_free(&raw);
	view_recharge(e, f);
	return rc;
}

void
view_file_empty(struct eng *e, struct view_node *n)
{
	if (!n->f->loaded) {
		buf_free(&n->f->data);
		buf_init(&n->f->data, ENG_FILE_MAX);
		n->f->loaded = true;
	}
	buf_truncate(&n->f->data, 0);
	view_recharge(e, n->f);
}

void
view_file_unload(struct eng *e, struct view_node *n)
{
	struct view_file *f = n->f;
	bool open;

	if (!f->loaded || f->unsaved || f->type != S_IFREG)
		return;
	pthread_mutex_lock(&e->lock);
	open = n->nopen > 0;
	pthread_mutex_unlock(&e->lock);
	if (open)
		return;
	f->size = f->data.len;
	if (f->data.p != NULL && f->data.cap > 0)
		explicit_bzero(f->data.p, f->data.len);
	buf_free(&f->data);
	buf_init(&f->data, ENG_FILE_MAX);
	f->loaded = false;
	view_recharge(e, f);
}

int
view_files_room(struct eng *e, uint64_t dir, const char *name)
{
	if (e->nfiles < e->max_files)
		return 0;
	view_bound_log(e, "%s/%s: not created (No space left on device): sources/ and "
	    "jobs/ hold %zu files, the bound; remove some or raise it with "
	    "`difs mount --max-defs`", view_dirname(dir), name, e->nfiles);
	return -ENOSPC;
}

static struct view_pidc **
view_pid_slot(struct eng *e, pid_t pid)
{
	struct view_pidc **pp;

	for (pp = &e->pids[(unsigned)pid % (sizeof(e->pids) / sizeof(e->pids[0]))];
	    *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->pid == pid)
			break;
	return pp;
}

int
view_handle_count(struct eng *e, struct view_handle *h, pid_t pid)
{
	struct view_pidc **pp, *p;
	char who[96];

	if (e->nhandles >= ENG_HANDLES_ALL) {
		view_bound_log(e, "open refused (Too many open files in system): %zu "
		    "handles are open on the mount, the bound for all processes together",
		    e->nhandles);
		return -ENFILE;
	}
	if (pid > 0) {
		pp = view_pid_slot(e, pid);
		if ((p = *pp) != NULL && p->n >= e->max_handles) {
			view_who(pid, who, sizeof(who));
			view_bound_log(e, "open refused for %s (Too many open files): it has "
			    "%zu handles open on the mount, the bound per process; close some "
			    "or raise it with `difs mount --max-handles`", who, p->n);
			return -EMFILE;
		}
		if (p == NULL) {
			if ((p = calloc(1, sizeof(*p))) == NULL)
				return -ENOMEM;
			p->pid = pid;
			*pp = p;
		}
		p->n++;
		h->opener = pid;
	}
	e->nhandles++;
	return 0;
}

void
view_handle_uncount(struct eng *e, struct view_handle *h)
{
	struct view_pidc **pp, *p;

	e->nhandles--;
	if (h->opener <= 0)
		return;
	pp = view_pid_slot(e, h->opener);
	if ((p = *pp) != NULL && --p->n == 0) {
		*pp = p->next;
		free(p);
	}
	h->opener = 0;
}

int
view_snap_charge(struct eng *e, struct view_handle *h, const char *what)
{
	char lim[32], sz[32];
	int rc = 0;

	if (h->snap.cap == 0)
		return 0;
	pthread_mutex_lock(&e->flock);	/* view_evict walks the files */
	if (e->held + (int64_t)h->snap.cap > (int64_t)e->max_held &&
	    !view_evict(e, NULL, (int64_t)h->snap.cap)) {
		view_size_str(e->max_held, lim, sizeof(lim));
		view_size_str(h->snap.len, sz, sizeof(sz));
		view_bound_log(e, "%s: open refused (Cannot allocate memory): its %s would "
		    "pass the bound of %s held in memory; raise it with `difs mount "
		    "--max-defs-bytes`", what, sz, lim);
		rc = -ENOMEM;
	} else {
		h->charged = h->snap.cap;
		e->held += (int64_t)h->charged;
	}
	pthread_mutex_unlock(&e->flock);
	return rc;
}

void
view_snap_uncharge(struct eng *e, struct view_handle *h)
{
	e->held -= (int64_t)h->charged;
	h->charged = 0;
}
