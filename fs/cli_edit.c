/* SPDX-License-Identifier: MIT */
/*
 * cli_edit.c - `difs edit MOUNT/sources/NAME.json | MOUNT/jobs/NAME.json`:
 * the crontab -e / visudo / kubectl edit flow for a mount's definitions.
 *
 *   1. locate: PATH's directory must be sources/ or jobs/ of a difs mount
 *      (its parent holds sources/, jobs/ and instances/ and is a fuse.difs
 *      mount point); the name must be NAME.json.  The file may be new.
 *   2. copy: the current bytes (the mount's view: secrets "******") go to a
 *      private copy $TMPDIR/difs-edit.XXXXXX/NAME.json (0700 directory, the
 *      same name so editors pick their JSON mode).
 *   3. edit: $VISUAL, else $EDITOR, else vi, run like git runs its editor:
 *      /bin/sh -c 'EDITOR "$@"' EDITOR COPY, so the variable may hold
 *      arguments and shell quoting.  SIGINT/SIGQUIT are ignored meanwhile
 *      (they belong to the editor).
 *   4. validate locally with the mount's validator (conf_source_parse /
 *      conf_job_parse): a job's datasources are the valid sources of the
 *      mount's sources/ as their views show them (a masked secret counts as
 *      stored); a source may keep "******" where its view had it.  Errors
 *      name the mount-relative file (jobs/NAME.json:LINE:COL); on errors
 *      ask "Edit again? [Y/n]" (stdin; EOF = no).  Warnings never block.
 *   5. install, only when valid and only when the mounted file is still
 *      what was copied (bytes and mtime): write .NAME.json.difs-edit.PID in
 *      the same directory and rename it onto NAME.json (RENAME_NOREPLACE for
 *      a new file), so readers see the old or the new bytes and never a
 *      mix; then NAME.json.error must be absent.
 *
 * The private copy is removed on every exit, except when its path is
 * printed for the user (editor failure, concurrent change, failed install,
 * signal).  Exit status: 0 installed or no changes, 1 not installed, 2
 * usage (not a definition file of a difs mount).  Not reentrant: one edit
 * per process (the signal flag).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "cli_i.h"
#include "conf.h"
#include "err.h"

#define EDIT_FUSE_MAGIC		0x65735546	/* FUSE_SUPER_MAGIC */
#define EDIT_FSTYPE		"fuse.difs"	/* fsname=difs,subtype=difs */
#define EDIT_MAX		((size_t)1 << 20)	/* the mount's file limit */

/* the signal that asked us to stop (0: none); the only global */
static volatile sig_atomic_t edit_signal;

struct edit {
	char		 mnt[PATH_MAX];		/* the mount root (real path) */
	char		 dir[PATH_MAX + 8];	/* MNT/sources or MNT/jobs */
	const char	*sub;			/* "sources" or "jobs" */
	char		 name[NAME_MAX + 1];	/* NAME.json */
	char		 rel[NAME_MAX + 16];	/* "jobs/NAME.json": messages */
	char		 target[PATH_MAX + NAME_MAX + 16];	/* dir/name */
	char		 tmpdir[PATH_MAX];	/* the private directory, or "" */
	char		 copy[PATH_MAX + NAME_MAX + 2];	/* tmpdir/name */
	bool		 existed;		/* target existed when copied */
	struct stat	 st;			/* target when copied */
	struct buf	 orig;			/* its bytes when copied */
	struct buf	 cur;			/* the private copy's bytes */
	bool		 keep;			/* the copy's path was printed */
};

static void
edit_usage(FILE *fp)
{
	fprintf(fp, "usage: difs edit MOUNT/sources/NAME.json | MOUNT/jobs/NAME.json\n"
	    "Edit a source or job of a difs mount like crontab -e: the file (or an\n"
	    "empty one when it is new) is copied to a private directory under $TMPDIR\n"
	    "and opened with $VISUAL, else $EDITOR, else vi.  When the editor exits,\n"
	    "the copy is validated as the mount would (jobs' datasources against the\n"
	    "mount's sources/; \"******\" keeps a stored secret).  Errors are printed\n"
	    "as jobs/NAME.json:LINE:COL and you are asked \"Edit again? [Y/n]\" (n or\n"
	    "end of input discards).  A valid version is installed atomically (a\n"
	    "temporary file in the same directory renamed onto NAME.json), unless the\n"
	    "file changed in the mount meanwhile.\n"
	    "Exit status: 0 installed or no changes, 1 not installed, 2 usage.\n");
}

static void
edit_on_signal(int sig)
{
	edit_signal = sig;
}

/* sig's disposition: fn, or SIG_IGN/SIG_DFL; no SA_RESTART, so a blocking
 * read of the answer returns EINTR */
static void
edit_sigset(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(sig, &sa, NULL);
}

/* ---- locating the file ---------------------------------------------------- */

/* mountinfo's octal escapes (\040 space, \011, \012, \134) undone into out */
static void
edit_unescape(const char *p, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < outsz; i++) {
		if (p[i] == '\\' && i + 3 < n &&
		    p[i + 1] >= '0' && p[i + 1] <= '3' && p[i + 2] >= '0' && p[i + 2] <= '7' &&
		    p[i + 3] >= '0' && p[i + 3] <= '7') {
			out[o++] = (char)((p[i + 1] - '0') * 64 + (p[i + 2] - '0') * 8 + (p[i + 3] - '0'));
			i += 3;
		} else
			out[o++] = p[i];
	}
	out[o] = '\0';
}

/*
 * The file system type of the mount whose mount point is exactly root, from
 * /proc/self/mountinfo text (buf, len): "ID PARENT MAJ:MIN ROOT POINT OPTS
 * [OPTIONAL...] - FSTYPE SOURCE SUPER".  The last such line wins (it is the
 * one on top).  Copies it to out (or "" when root is no mount point).
 */
static void
edit_mount_fstype(const char *buf, size_t len, const char *root, char *out,
    size_t outsz)
{
	char point[PATH_MAX];
	const char *line = buf, *end = buf + len, *nl, *f, *sep;
	size_t field;

	out[0] = '\0';
	for (; line < end; line = nl < end ? nl + 1 : end) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		/* field 5 (index 4) is the mount point */
		for (f = line, field = 0; field < 4 && f < nl; field++) {
			if ((f = memchr(f, ' ', (size_t)(nl - f))) == NULL)
				break;
			f++;
		}
		if (f == NULL || f >= nl || field != 4)
			continue;
		if ((sep = memchr(f, ' ', (size_t)(nl - f))) == NULL)
			continue;
		edit_unescape(f, (size_t)(sep - f), point, sizeof(point));
		if (strcmp(point, root) != 0)
			continue;
		if ((f = memmem(sep, (size_t)(nl - sep), " - ", 3)) == NULL)
			continue;
		f += 3;
		if ((sep = memchr(f, ' ', (size_t)(nl - f))) == NULL)
			sep = nl;
		if ((size_t)(sep - f) < outsz) {
			memcpy(out, f, (size_t)(sep - f));
			out[sep - f] = '\0';
		}
	}
}

/* Is root (a real path) the root of a difs mount?  why says what is not. */
static bool
edit_is_difs(const char *root, char *why, size_t whysz)
{
	static const char *const subs[] = { "sources", "jobs", "instances" };
	char p[PATH_MAX + 16], fstype[64];
	struct statfs sf;
	struct stat sb;
	struct buf mi;
	size_t i;
	bool ok = false;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		(void)snprintf(p, sizeof(p), "%s/%s", root, subs[i]);
		if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			(void)snprintf(why, whysz, "%s has no %s/ directory", root, subs[i]);
			return false;
		}
	}
	buf_init(&mi, BUF_MAX_DOC);
	if (cli_read("/proc/self/mountinfo", &mi) == 0) {
		edit_mount_fstype(mi.p, mi.len, root, fstype, sizeof(fstype));
		ok = strcmp(fstype, EDIT_FSTYPE) == 0;
		if (!ok)
			(void)snprintf(why, whysz, "%s is %s%s", root,
			    fstype[0] != '\0' ? "a mount of type " : "not a mount point",
			    fstype);
	} else if (statfs(root, &sf) == 0 && sf.f_type == EDIT_FUSE_MAGIC)
		ok = true;	/* no /proc: a FUSE mount with the three directories */
	else
		(void)snprintf(why, whysz, "%s is not a FUSE mount", root);
	buf_free(&mi);
	return ok;
}

/* Is name a definition file name, NAME.json, as the mount takes it? */
static bool
edit_name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n <= 5 || n > NAME_MAX || name[0] == '.' || strcmp(name + n - 5, ".json") != 0)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

/* Fill e's paths from the user's path.  0, or prints why and returns 2. */
static int
edit_locate(struct edit *e, const char *path)
{
	char dir[PATH_MAX], real[PATH_MAX], why[PATH_MAX + 64], *slash;
	const char *base = strrchr(path, '/');
	size_t dl;

	base = base != NULL ? base + 1 : path;
	if (!edit_name_ok(base)) {
		fprintf(stderr, "difs edit: %s: not a definition file name: expected NAME.json "
		    "(NAME not starting with '.')\n", path);
		return 2;
	}
	dl = (size_t)(base - path);
	if (dl == 0)
		memcpy(dir, ".", 2);
	else if (dl >= sizeof(dir)) {
		fprintf(stderr, "difs edit: %s: path too long\n", path);
		return 2;
	} else {
		memcpy(dir, path, dl);
		dir[dl] = '\0';
	}
	if (realpath(dir, real) == NULL) {
		fprintf(stderr, "difs edit: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	if ((slash = strrchr(real, '/')) == NULL || slash == real ||
	    (strcmp(slash + 1, "sources") != 0 && strcmp(slash + 1, "jobs") != 0)) {
		fprintf(stderr, "difs edit: %s: not in the sources/ or jobs/ directory of a difs "
		    "mount (the file's directory is %s)\n", path, real);
		return 2;
	}
	e->sub = strcmp(slash + 1, "sources") == 0 ? "sources" : "jobs";
	*slash = '\0';
	if (!edit_is_difs(real, why, sizeof(why))) {
		fprintf(stderr, "difs edit: %s: not in the sources/ or jobs/ directory of a difs "
		    "mount: %s\n", path, why);
		return 2;
	}
	memcpy(e->mnt, real, strlen(real) + 1);
	(void)snprintf(e->dir, sizeof(e->dir), "%s/%s", e->mnt, e->sub);
	memcpy(e->name, base, strlen(base) + 1);
	(void)snprintf(e->rel, sizeof(e->rel), "%s/%s", e->sub, e->name);
	if ((size_t)snprintf(e->target, sizeof(e->target), "%s/%s", e->dir, e->name) >=
	    sizeof(e->target)) {
		fprintf(stderr, "difs edit: %s: path too long\n", path);
		return 2;
	}
	return 0;
}

/* ---- reading the mounted file ----------------------------------------------- */

/*
 * The target as it is now: *exists, its stat and bytes.  0, -errno (a
 * directory, symlink or other non-regular file: -EISDIR/-ELOOP/-EINVAL).
 */
static int
edit_snapshot(const struct edit *e, bool *exists, struct stat *st, struct buf *b)
{
	int fd, rc;

	buf_reset(b);
	*exists = false;
	if (lstat(e->target, st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st->st_mode))
		return -ELOOP;
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	if ((fd = open(e->target, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, st) != 0)
		rc = -errno;
	else
		rc = cli_read_fd(fd, b);
	close(fd);
	*exists = rc == 0;
	return rc;
}

/* Did the target change since it was copied (someone else saved it)? */
static bool
edit_changed(const struct edit *e, struct buf *scratch)
{
	struct stat st;
	bool exists;

	if (edit_snapshot(e, &exists, &st, scratch) != 0 || exists != e->existed)
		return true;
	if (!exists)
		return false;
	return st.st_mtim.tv_sec != e->st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != e->st.st_mtim.tv_nsec ||
	    scratch->len != e->orig.len || memcmp(scratch->p, e->orig.p, scratch->len) != 0;
}

/* ---- the private copy ------------------------------------------------------- */

/* Write b to fd through stdio (which retries short writes), fsync when
 * asked, close fd.  0 or -errno. */
static int
edit_write_fd(int fd, const struct buf *b, bool sync)
{
	FILE *fp;
	int rc = 0;

	if ((fp = fdopen(fd, "w")) == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	errno = 0;
	if (fwrite(b->p, 1, b->len, fp) != b->len || fflush(fp) != 0)
		rc = errno != 0 ? -errno : -EIO;
	if (rc == 0 && sync && fsync(fileno(fp)) != 0)
		rc = -errno;
	if (fclose(fp) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* mkdtemp under $TMPDIR and the copy of the original bytes in it. */
static int
edit_make_copy(struct edit *e)
{
	const char *tmp = getenv("TMPDIR");
	int fd, rc;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if ((size_t)snprintf(e->tmpdir, sizeof(e->tmpdir), "%s/difs-edit.XXXXXX", tmp) >=
	    sizeof(e->tmpdir) ||
	    (size_t)snprintf(e->copy, sizeof(e->copy), "%s/%s", e->tmpdir, e->name) >=
	    sizeof(e->copy)) {
		e->tmpdir[0] = '\0';
		fprintf(stderr, "difs edit: TMPDIR %s: path too long\n", tmp);
		return -ENAMETOOLONG;
	}
	if (mkdtemp(e->tmpdir) == NULL) {
		rc = -errno;
		fprintf(stderr, "difs edit: cannot create a private directory in %s: %s\n", tmp,
		    strerror(-rc));
		e->tmpdir[0] = '\0';
		return rc;
	}
	(void)snprintf(e->copy, sizeof(e->copy), "%s/%s", e->tmpdir, e->name);
	if ((fd = open(e->copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		rc = -errno;
	else
		rc = edit_write_fd(fd, &e->orig, false);
	if (rc != 0)
		fprintf(stderr, "difs edit: cannot write %s: %s\n", e->copy, strerror(-rc));
	return rc;
}

/* Remove the private directory and what the editor left in it (backups,
 * swap files), unless its path was shown to the user. */
static void
edit_cleanup(struct edit *e)
{
	struct dirent *de;
	DIR *d;

	if (e->tmpdir[0] == '\0' || e->keep)
		return;
	if ((d = opendir(e->tmpdir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				(void)unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	if (rmdir(e->tmpdir) != 0)
		fprintf(stderr, "difs edit: warning: cannot remove %s: %s\n", e->tmpdir,
		    strerror(errno));
	e->tmpdir[0] = '\0';
}

/* Keep the private copy and say where it is. */
static void
edit_keep(struct edit *e, const char *what)
{
	e->keep = true;
	fprintf(stderr, "difs edit: %s; nothing installed; your version is kept in %s\n",
	    what, e->copy);
}

/* ---- the editor --------------------------------------------------------------- */

/* Run the user's editor on the copy.  0 when it exited 0; otherwise prints
 * why (and keeps the copy) and returns 1. */
static int
edit_run_editor(struct edit *e)
{
	const char *ed = getenv("VISUAL");
	char what[3 * PATH_MAX];
	struct buf cmd;
	pid_t pid, w;
	int status = 0, rc = 1;

	if (ed == NULL || *ed == '\0')
		ed = getenv("EDITOR");
	if (ed == NULL || *ed == '\0')
		ed = "vi";
	buf_init(&cmd, BUF_MAX_SMALL);
	if (buf_printf(&cmd, "%s \"$@\"", ed) != 0) {
		edit_keep(e, "the editor command is too long");
		goto out;
	}
	fflush(stdout);
	fflush(stderr);
	edit_sigset(SIGINT, SIG_IGN);	/* ^C and ^\ are the editor's */
	edit_sigset(SIGQUIT, SIG_IGN);
	if ((pid = fork()) < 0) {
		(void)snprintf(what, sizeof(what), "cannot start the editor: %s", strerror(errno));
		edit_keep(e, what);
		goto restore;
	}
	if (pid == 0) {
		edit_sigset(SIGINT, SIG_DFL);
		edit_sigset(SIGQUIT, SIG_DFL);
		edit_sigset(SIGTERM, SIG_DFL);
		edit_sigset(SIGHUP, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd.p, ed, e->copy, (char *)NULL);
		_exit(127);
	}
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (w < 0)
		(void)snprintf(what, sizeof(what), "cannot wait for the editor: %s", strerror(errno));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		rc = 0;
	else if (WIFEXITED(status))
		(void)snprintf(what, sizeof(what), "the editor (%.100s) exited with status %d%s", ed,
		    WEXITSTATUS(status), WEXITSTATUS(status) == 127 ? " (not found?)" : "");
	else
		(void)snprintf(what, sizeof(what), "the editor (%.100s) was killed by signal %d", ed,
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	if (rc != 0)
		edit_keep(e, what);
restore:
	edit_sigset(SIGINT, edit_on_signal);
	edit_sigset(SIGQUIT, edit_on_signal);
out:
	buf_free(&cmd);
	return rc;
}

/* ---- validation ------------------------------------------------------------- */

/*
 * The valid sources of the mount's sources/, parsed from their views (a
 * masked secret counts as stored).  A source with a NAME.json.error is
 * left out even when its view parses: the mount may hold "******" literally
 * (a new source written with it) or run an older version we cannot see;
 * either way a job is only accepted here against a source that is valid
 * as it reads.
 */
static int
edit_load_sources(const struct edit *e, struct conf_srcset *set)
{
	char dir[PATH_MAX + 16], path[PATH_MAX + NAME_MAX + 32];
	struct conf_source *prev, *src;
	struct stat sb;
	struct dirent *de;
	struct buf b, name;
	DIR *d;
	int rc = 0;

	(void)snprintf(dir, sizeof(dir), "%s/sources", e->mnt);
	if ((d = opendir(dir)) == NULL)
		return 0;	/* then every datasource is reported missing */
	buf_init(&b, EDIT_MAX);
	buf_init(&name, BUF_MAX_SMALL);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!edit_name_ok(de->d_name))
			continue;
		buf_reset(&b);
		buf_reset(&name);
		(void)snprintf(path, sizeof(path), "%s/%s.error", dir, de->d_name);
		if (lstat(path, &sb) == 0)
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (cli_read(path, &b) != 0)
			continue;
		if ((rc = conf_name_from_path(de->d_name, &name)) != 0 ||
		    (rc = conf_source_view_prev(b.p, b.len, &prev)) != 0)
			break;
		rc = conf_source_parse(name.p, b.p, b.len, prev, NULL, &src);
		conf_source_free(prev);
		if (rc == 0)
			rc = conf_srcset_add(set, src);
		else if (rc != -ENOMEM)
			rc = 0;	/* invalid: not a source a job can use */
	}
	closedir(d);
	buf_free(&name);
	buf_free(&b);
	return rc;
}

/*
 * Validate the copy's bytes (e->cur) as the mount would, printing every
 * diagnostic.  0 valid (warnings allowed), ENG_EINVAL, -ENOMEM.
 */
static int
edit_validate(const struct edit *e)
{
	struct conf_srcset *set = NULL;
	struct conf_source *prev = NULL, *src = NULL;
	struct conf_job *job = NULL;
	struct conf_diags *d = NULL;
	struct buf stem;
	int rc;

	buf_init(&stem, BUF_MAX_SMALL);
	if ((rc = conf_diags_new(&d)) != 0 || (rc = conf_name_from_path(e->name, &stem)) != 0)
		goto out;
	if (strcmp(e->sub, "sources") == 0) {
		/* "******" keeps a stored secret: one the view showed masked */
		if (e->existed && (rc = conf_source_view_prev(e->orig.p, e->orig.len, &prev)) != 0)
			goto out;
		rc = conf_source_parse(stem.p, e->cur.p, e->cur.len, prev, d, &src);
	} else {
		if ((rc = conf_srcset_new(&set)) != 0 || (rc = edit_load_sources(e, set)) != 0)
			goto out;
		rc = conf_job_parse(stem.p, e->cur.p, e->cur.len, conf_srcset_lookup, set, d, &job);
	}
	if (rc == 0 || rc == ENG_EINVAL)
		cli_print_diags(d, e->rel);
out:
	conf_job_free(job);
	conf_source_free(src);
	conf_source_free(prev);
	conf_srcset_free(set);
	conf_diags_free(d);
	buf_free(&stem);
	return rc;
}

/* ---- asking ------------------------------------------------------------------- */

enum edit_answer { EDIT_AGAIN, EDIT_DISCARD, EDIT_EOF, EDIT_SIGNAL };

/*
 * "Edit again? [Y/n] " on stderr, the answer from stdin, read one byte at a
 * time so nothing after the line is consumed: empty, y, yes -> again; n,
 * no -> discard; anything else asks again.
 */
static enum edit_answer
edit_ask(void)
{
	char line[64];
	size_t n, a, z;
	ssize_t r;
	char c;

	for (;;) {
		fputs("Edit again? [Y/n] ", stderr);
		fflush(stderr);
		n = 0;
		for (;;) {
			if ((r = read(STDIN_FILENO, &c, 1)) < 0 && errno == EINTR) {
				if (edit_signal != 0)
					return EDIT_SIGNAL;
				continue;
			}
			if (r <= 0) {
				if (n == 0)
					return EDIT_EOF;
				break;	/* a last line without newline */
			}
			if (c == '\n')
				break;
			if (n + 1 < sizeof(line))
				line[n++] = c;
		}
		for (a = 0; a < n && (line[a] == ' ' || line[a] == '\t' || line[a] == '\r'); a++)
			;
		for (z = n; z > a && (line[z - 1] == ' ' || line[z - 1] == '\t' || line[z - 1] == '\r'); z--)
			;
		line[z] = '\0';
		if (line[a] == '\0' || strcasecmp(line + a, "y") == 0 || strcasecmp(line + a, "yes") == 0)
			return EDIT_AGAIN;
		if (strcasecmp(line + a, "n") == 0 || strcasecmp(line + a, "no") == 0)
			return EDIT_DISCARD;
		fputs("Please answer y (edit again) or n (discard your changes).\n", stderr);
		if (r <= 0)
			return EDIT_EOF;
	}
}

/* ---- installing --------------------------------------------------------------- */

/* The temporary name in the mount's directory: .NAME.json.difs-edit.PID
 * (a scratch file: the mount does not validate it). */
static void
edit_tmpname(const struct edit *e, char *out, size_t outsz)
{
	char leaf[NAME_MAX + 1];

	if ((size_t)snprintf(leaf, sizeof(leaf), ".%s.difs-edit.%ld", e->name, (long)getpid()) >=
	    sizeof(leaf))
		(void)snprintf(leaf, sizeof(leaf), ".difs-edit.%ld", (long)getpid());
	(void)snprintf(out, outsz, "%s/%s", e->dir, leaf);
}

/* Write e->cur to tmp (created; mode of the original, or 0600 for a new
 * source and 0666 & ~umask for a new job), fsync, close.  0 or -errno. */
static int
edit_write_tmp(const struct edit *e, const char *tmp)
{
	mode_t mode = e->existed ? (e->st.st_mode & 07777) :
	    strcmp(e->sub, "sources") == 0 ? 0600 : 0666;
	int fd, rc;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0 &&
	    errno == EEXIST && unlink(tmp) == 0)	/* a stale one of ours */
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (e->existed && fchmod(fd, mode) != 0) {	/* umask applied at creation */
		rc = -errno;
		close(fd);
		return rc;
	}
	return edit_write_fd(fd, &e->cur, true);
}

/* rename tmp onto the target; a new file must still be absent.  0, -EEXIST
 * (created meanwhile), -errno. */
static int
edit_rename(const struct edit *e, const char *tmp)
{
	if (!e->existed) {
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, e->target, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EINVAL && errno != ENOSYS)
			return -errno;
		/* RENAME_NOREPLACE unsupported: the check before is all we have */
	}
	return rename(tmp, e->target) == 0 ? 0 : -errno;
}

/*
 * Install e->cur through the mount.  0 installed; 1 not (the reason is
 * printed, the copy kept where it matters).
 */
static int
edit_install(struct edit *e)
{
	char tmp[PATH_MAX + NAME_MAX + 32], errpath[PATH_MAX + NAME_MAX + 24];
	char what[3 * PATH_MAX];
	struct buf scratch;
	struct stat sb;
	int rc, status = 1;

	buf_init(&scratch, EDIT_MAX);
	if (edit_changed(e, &scratch)) {
		(void)snprintf(what, sizeof(what), "%s changed in the mount while you were editing "
		    "(someone else saved it); it was not overwritten", e->rel);
		edit_keep(e, what);
		fprintf(stderr, "difs edit: compare with: diff %s %s\n", e->target, e->copy);
		goto out;
	}
	edit_tmpname(e, tmp, sizeof(tmp));
	if ((rc = edit_write_tmp(e, tmp)) != 0) {
		(void)unlink(tmp);
		(void)snprintf(what, sizeof(what), "cannot write %s: %s", tmp, strerror(-rc));
		edit_keep(e, what);
		goto out;
	}
	if ((rc = edit_rename(e, tmp)) != 0) {
		(void)unlink(tmp);
		if (rc == -EEXIST)
			(void)snprintf(what, sizeof(what), "%s was created in the mount while you were "
			    "editing (someone else saved it); it was not overwritten", e->rel);
		else
			(void)snprintf(what, sizeof(what), "cannot rename %s onto %s: %s", tmp,
			    e->target, strerror(-rc));
		edit_keep(e, what);
		goto out;
	}
	/* validated locally; the mount has the last word */
	(void)snprintf(errpath, sizeof(errpath), "%s.error", e->target);
	if (lstat(errpath, &sb) == 0) {
		buf_reset(&scratch);
		(void)cli_read(errpath, &scratch);
		fprintf(stderr, "difs edit: the mount did not accept %s: its bytes are saved, "
		    "but a previous valid version, if any, keeps running; %s.error says:\n%s", e->rel, e->rel, scratch.p);
		if (scratch.len > 0 && scratch.p[scratch.len - 1] != '\n')
			fputc('\n', stderr);
		goto out;
	}
	printf("installed %s\n", e->rel);
	status = fflush(stdout) == 0 ? 0 : 1;
out:
	buf_free(&scratch);
	return status;
}

/* ---- the command -------------------------------------------------------------- */

/* Edit until valid, discarded or failed; then install.  Exit status. */
static int
edit_loop(struct edit *e)
{
	enum edit_answer ans;
	char what[64];
	int rc;

	for (;;) {
		if (edit_run_editor(e) != 0)
			return 1;
		if (edit_signal != 0) {
			(void)snprintf(what, sizeof(what), "interrupted by signal %d", (int)edit_signal);
			edit_keep(e, what);
			return 128 + edit_signal;
		}
		buf_reset(&e->cur);
		if ((rc = cli_read(e->copy, &e->cur)) != 0) {
			fprintf(stderr, "difs edit: cannot read the edited copy %s: %s; nothing installed\n",
			    e->copy, rc == -E2BIG ? "larger than the mount's 1 MiB limit" :
			    eng_strerror(rc));
			e->keep = rc != -ENOENT;
			return 1;
		}
		if (e->cur.len == e->orig.len && memcmp(e->cur.p, e->orig.p, e->cur.len) == 0) {
			printf("no changes: %s\n", e->rel);
			return fflush(stdout) == 0 ? 0 : 1;
		}
		if ((rc = edit_validate(e)) == 0 && edit_signal == 0)
			return edit_install(e);
		if (rc == 0) {
			(void)snprintf(what, sizeof(what), "interrupted by signal %d", (int)edit_signal);
			edit_keep(e, what);
			return 128 + edit_signal;
		}
		if (rc != ENG_EINVAL) {
			edit_keep(e, eng_strerror(rc));
			return 1;
		}
		fprintf(stderr, "difs edit: %s is not valid; nothing installed yet\n", e->rel);
		ans = edit_ask();
		if (ans == EDIT_AGAIN)
			continue;
		if (ans == EDIT_SIGNAL) {
			fputc('\n', stderr);
			(void)snprintf(what, sizeof(what), "interrupted by signal %d", (int)edit_signal);
			edit_keep(e, what);
			return 128 + edit_signal;
		}
		if (ans == EDIT_EOF)
			fputs("\ndifs edit: no answer (end of input): discarding\n", stderr);
		fprintf(stderr, "difs edit: your changes were discarded; %s is unchanged\n", e->rel);
		return 1;
	}
}

int
cli_edit(int argc, char **argv)
{
	struct edit *e = NULL;
	const char *path = NULL;
	int i, rc, status = 1;
	bool opts = true;

	for (i = 1; i < argc; i++) {
		if (opts && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
			edit_usage(stdout);
			return 0;
		} else if (opts && strcmp(argv[i], "--") == 0)
			opts = false;
		else if (opts && argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "difs edit: unknown option '%s'\n", argv[i]);
			edit_usage(stderr);
			return 2;
		} else if (path == NULL)
			path = argv[i];
		else {
			fprintf(stderr, "difs edit: one file at a time ('%s' is extra)\n", argv[i]);
			edit_usage(stderr);
			return 2;
		}
	}
	if (path == NULL) {
		edit_usage(stderr);
		return 2;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		fprintf(stderr, "difs edit: out of memory\n");
		return 1;
	}
	buf_init(&e->orig, EDIT_MAX);
	buf_init(&e->cur, EDIT_MAX);
	if ((status = edit_locate(e, path)) != 0)
		goto out;
	if ((rc = edit_snapshot(e, &e->existed, &e->st, &e->orig)) != 0) {
		if (rc == -ELOOP || rc == -EISDIR || rc == -EINVAL) {
			fprintf(stderr, "difs edit: %s: not a regular file%s\n", e->rel,
			    rc == -ELOOP ? " (a symbolic link: edit its target)" : "");
			status = 2;
		} else {
			fprintf(stderr, "difs edit: cannot read %s: %s\n", e->rel, rc == -E2BIG ?
			    "larger than the mount's 1 MiB limit" : eng_strerror(rc));
			status = 1;
		}
		goto out;
	}
	edit_sigset(SIGINT, edit_on_signal);
	edit_sigset(SIGQUIT, edit_on_signal);
	edit_sigset(SIGTERM, edit_on_signal);
	edit_sigset(SIGHUP, edit_on_signal);
	status = 1;
	if (edit_make_copy(e) != 0)
		goto out;
	status = edit_loop(e);
out:
	if (e != NULL) {
		edit_cleanup(e);
		buf_free(&e->orig);
		buf_free(&e->cur);
		free(e);
	}
	return status;
}
