/* SPDX-License-Identifier: MIT */
/*
 * conf_deps.c - cycles of schedule.dependsOn between jobs (conf.h,
 * conf_dep_cycle): a depth-first walk upstream from the new definition,
 * with the other jobs' upstreams from a callback (the scheduler's defined
 * jobs, or the files difs check was given).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

/* One job on the walk's path: its upstreams and the next one to follow. */
struct dep_frame {
	const char	*name;
	char		**ups;	/* owned (lookup's result); NULL for the root */
	const struct conf_dep *deps;	/* the root's upstreams */
	size_t		 n, next;
};

static const char *
frame_up(const struct dep_frame *f, size_t i)
{
	return f->ups != NULL ? f->ups[i] : f->deps[i].job;
}

static void
frame_free(struct dep_frame *f)
{
	size_t i;

	for (i = 0; f->ups != NULL && i < f->n; i++)
		free(f->ups[i]);
	free(f->ups);
	f->ups = NULL;
}

/* Jobs entered once: a job already walked cannot lead back to the root
 * (or the walk from it found the cycle), so each is looked up once. */
struct dep_seen {
	char	**v;
	size_t	 n, cap;
};

static bool
seen_has(const struct dep_seen *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return true;
	return false;
}

static int
seen_add(struct dep_seen *s, const char *name)
{
	char **nv;

	if (s->n == s->cap) {
		if ((nv = realloc(s->v, (s->cap ? s->cap * 2 : 16) * sizeof(*nv))) == NULL)
			return -ENOMEM;
		s->v = nv;
		s->cap = s->cap ? s->cap * 2 : 16;
	}
	if ((s->v[s->n] = strdup(name)) == NULL)
		return -ENOMEM;
	s->n++;
	return 0;
}

int
conf_dep_cycle(const char *name, const struct conf_dep *deps, size_t ndeps,
    conf_dep_lookup_fn lookup, void *arg, struct buf *path)
{
	struct dep_frame *st = NULL, *f, *nst;
	struct dep_seen seen = { NULL, 0, 0 };
	size_t depth = 0, cap = 0, i;
	const char *up;
	char **ups;
	size_t nups;
	int rc = 0;

	if (ndeps == 0)
		return 0;
	if ((st = calloc(cap = 8, sizeof(*st))) == NULL || seen_add(&seen, name) != 0) {
		rc = -ENOMEM;
		goto out;
	}
	st[depth++] = (struct dep_frame){ name, NULL, deps, ndeps, 0 };
	while (depth > 0 && rc == 0) {
		f = &st[depth - 1];
		if (f->next == f->n) {
			frame_free(f);
			depth--;
			continue;
		}
		up = frame_up(f, f->next++);
		if (strcmp(up, name) == 0) {
			for (i = 0; i < depth; i++)
				(void)buf_printf(path, "%s -> ", st[i].name);
			(void)buf_printf(path, "%s", name);
			rc = path->err != 0 ? path->err : 1;
			break;
		}
		if (seen_has(&seen, up))
			continue;
		if ((rc = seen_add(&seen, up)) != 0)
			break;
		ups = NULL;
		nups = 0;
		rc = lookup(arg, up, &ups, &nups);
		if (rc == -ENOENT) {	/* not defined (yet): no upstreams */
			rc = 0;
			continue;
		}
		if (rc != 0)
			break;
		if (nups == 0) {
			free(ups);
			continue;
		}
		if (depth == cap) {
			if ((nst = realloc(st, cap * 2 * sizeof(*st))) == NULL) {
				for (i = 0; i < nups; i++)
					free(ups[i]);
				free(ups);
				rc = -ENOMEM;
				break;
			}
			st = nst;
			cap *= 2;
		}
		/* the frame's name lives in seen until the end */
		st[depth++] = (struct dep_frame){ seen.v[seen.n - 1], ups, NULL, nups, 0 };
	}
out:
	while (depth > 0)
		frame_free(&st[--depth]);
	free(st);
	for (i = 0; i < seen.n; i++)
		free(seen.v[i]);
	free(seen.v);
	return rc;
}
