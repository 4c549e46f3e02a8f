/* SPDX-License-Identifier: MIT */
/*
 * view_ns.c - the inode table: inode number -> node and (parent, name) ->
 * node, two chained hash tables over the same nodes, protected by e->lock.
 * A node lives while the kernel knows it (lookup count > 0), while it is
 * open, or while it is "permanent" (a fixed directory, or a file of
 * sources/ or jobs/ that exists): contrib/doc/style.md 2.3 rule 6.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "view_i.h"

#define VIEW_TAB_MIN	1024

static size_t
view_ns_hname(uint64_t parent, const char *name)
{
	uint64_t h = 1469598103934665603ULL ^ parent;

	for (; *name != '\0'; name++) {
		h ^= (unsigned char)*name;
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 29));
}

static size_t
view_ns_hino(uint64_t ino)
{
	return (size_t)(ino * 0x9E3779B97F4A7C15ULL >> 17);
}

void
view_ns_node_free(struct view_node *n)
{
	if (n == NULL)
		return;
	if (n->f != NULL) {
		buf_free(&n->f->data);
		free(n->f->errtext);
		free(n->f);
	}
	free(n->name);
	free(n->job);
	free(n->cycle);
	free(n);
}

struct view_node *
view_ns_alloc(enum view_kind kind, uint64_t parent, const char *name,
    const char *job, const char *cycle)
{
	struct view_node *n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->kind = kind;
	n->parent = parent;
	if ((name != NULL && (n->name = strdup(name)) == NULL) ||
	    (job != NULL && (n->job = strdup(job)) == NULL) ||
	    (cycle != NULL && (n->cycle = strdup(cycle)) == NULL)) {
		view_ns_node_free(n);
		return NULL;
	}
	return n;
}

static int
view_ns_grow(struct eng *e)
{
	struct view_node **it, **nt, *n, *next;
	size_t ns = e->tab_size * 2, i, mask = ns - 1;

	if ((it = calloc(ns, sizeof(*it))) == NULL)
		return -ENOMEM;
	if ((nt = calloc(ns, sizeof(*nt))) == NULL) {
		free(it);
		return -ENOMEM;
	}
	for (i = 0; i < e->tab_size; i++) {
		for (n = e->ino_tab[i]; n != NULL; n = next) {
			next = n->ino_next;
			n->ino_next = it[view_ns_hino(n->ino) & mask];
			it[view_ns_hino(n->ino) & mask] = n;
		}
		for (n = e->name_tab[i]; n != NULL; n = next) {
			next = n->name_next;
			n->name_next = nt[view_ns_hname(n->parent, n->name) & mask];
			nt[view_ns_hname(n->parent, n->name) & mask] = n;
		}
	}
	free(e->ino_tab);
	free(e->name_tab);
	e->ino_tab = it;
	e->name_tab = nt;
	e->tab_size = ns;
	return 0;
}

int
view_ns_init(struct eng *e)
{
	static const struct { enum view_kind k; const char *name; } fixed[] = {
		{ VIEW_K_ROOT, NULL }, { VIEW_K_SRCDIR, "sources" },
		{ VIEW_K_JOBDIR, "jobs" }, { VIEW_K_INSTDIR, "instances" },
		{ VIEW_K_STATUS, "status" }, { VIEW_K_METRICS, "metrics" },
	};
	struct view_node *n;
	size_t i;

	e->tab_size = VIEW_TAB_MIN;
	e->ino_tab = calloc(e->tab_size, sizeof(*e->ino_tab));
	e->name_tab = calloc(e->tab_size, sizeof(*e->name_tab));
	if (e->ino_tab == NULL || e->name_tab == NULL)
		return -ENOMEM;
	e->next_ino = 16;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		n = view_ns_alloc(fixed[i].k, i == 0 ? 0 : ENG_INO_ROOT,
		    fixed[i].name != NULL ? fixed[i].name : "", NULL, NULL);
		if (n == NULL)
			return -ENOMEM;
		n->ino = ENG_INO_ROOT + i;
		n->permanent = true;
		n->ino_next = e->ino_tab[view_ns_hino(n->ino) & (e->tab_size - 1)];
		e->ino_tab[view_ns_hino(n->ino) & (e->tab_size - 1)] = n;
		if (i > 0) {
			size_t b = view_ns_hname(n->parent, n->name) & (e->tab_size - 1);

			n->name_next = e->name_tab[b];
			e->name_tab[b] = n;
			n->hashed = true;
		}
		e->fixed[n->ino] = n;
		e->nnodes++;
	}
	return 0;
}

void
view_ns_free(struct eng *e)
{
	struct view_node *n, *next;
	size_t i;

	for (i = 0; e->ino_tab != NULL && i < e->tab_size; i++)
		for (n = e->ino_tab[i]; n != NULL; n = next) {
			next = n->ino_next;
			view_ns_node_free(n);
		}
	free(e->ino_tab);
	free(e->name_tab);
	e->ino_tab = NULL;
	e->name_tab = NULL;
}

struct view_node *
view_ns_get(struct eng *e, uint64_t ino)
{
	struct view_node *n;

	for (n = e->ino_tab[view_ns_hino(ino) & (e->tab_size - 1)]; n != NULL; n = n->ino_next)
		if (n->ino == ino)
			return n;
	return NULL;
}

struct view_node *
view_ns_find(struct eng *e, uint64_t parent, const char *name)
{
	struct view_node *n;

	for (n = e->name_tab[view_ns_hname(parent, name) & (e->tab_size - 1)]; n != NULL;
	    n = n->name_next)
		if (n->parent == parent && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

int
view_ns_insert(struct eng *e, struct view_node *n)
{
	size_t b;

	if (e->nnodes >= e->tab_size && view_ns_grow(e) != 0 && e->nnodes >= 4 * e->tab_size)
		return -ENOMEM;
	n->ino = e->next_ino++;
	b = view_ns_hino(n->ino) & (e->tab_size - 1);
	n->ino_next = e->ino_tab[b];
	e->ino_tab[b] = n;
	b = view_ns_hname(n->parent, n->name) & (e->tab_size - 1);
	n->name_next = e->name_tab[b];
	e->name_tab[b] = n;
	n->hashed = true;
	e->nnodes++;
	return 0;
}

struct view_node *
view_ns_make(struct eng *e, uint64_t parent, const char *name, enum view_kind kind,
    const char *job, const char *cycle)
{
	struct view_node *n;

	if ((n = view_ns_find(e, parent, name)) != NULL && n->kind == kind)
		return n;
	if (n != NULL)		/* same name, another kind (e.g. a stale node) */
		view_ns_unhash(e, n);
	if ((n = view_ns_alloc(kind, parent, name, job, cycle)) == NULL)
		return NULL;
	if (view_ns_insert(e, n) != 0) {
		view_ns_node_free(n);
		return NULL;
	}
	return n;
}

void
view_ns_unhash(struct eng *e, struct view_node *n)
{
	struct view_node **pp;

	if (!n->hashed)
		return;
	for (pp = &e->name_tab[view_ns_hname(n->parent, n->name) & (e->tab_size - 1)];
	    *pp != NULL; pp = &(*pp)->name_next)
		if (*pp == n) {
			*pp = n->name_next;
			break;
		}
	n->name_next = NULL;
	n->hashed = false;
}

int
view_ns_rehash(struct eng *e, struct view_node *n, uint64_t parent, const char *name)
{
	char *nn;
	size_t b;

	if ((nn = strdup(name)) == NULL)
		return -ENOMEM;
	view_ns_unhash(e, n);
	free(n->name);
	n->name = nn;
	n->parent = parent;
	b = view_ns_hname(parent, nn) & (e->tab_size - 1);
	n->name_next = e->name_tab[b];
	e->name_tab[b] = n;
	n->hashed = true;
	return 0;
}

void
view_ns_maybe_free(struct eng *e, struct view_node *n)
{
	struct view_node **pp;

	if (n == NULL || n->permanent || n->nlookup > 0 || n->nopen > 0)
		return;
	view_ns_unhash(e, n);
	for (pp = &e->ino_tab[view_ns_hino(n->ino) & (e->tab_size - 1)]; *pp != NULL;
	    pp = &(*pp)->ino_next)
		if (*pp == n) {
			*pp = n->ino_next;
			break;
		}
	e->nnodes--;
	if (n->f != NULL)
		e->held -= (int64_t)n->f->charged;
	view_ns_node_free(n);
}

void
view_ns_forget(struct eng *e, uint64_t ino, uint64_t nlookup)
{
	struct view_node *n;

	pthread_mutex_lock(&e->lock);
	if ((n = view_ns_get(e, ino)) != NULL) {
		n->nlookup = n->nlookup > nlookup ? n->nlookup - nlookup : 0;
		view_ns_maybe_free(e, n);
	}
	pthread_mutex_unlock(&e->lock);
}
