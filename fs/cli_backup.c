/* SPDX-License-Identifier: MIT */
/*
 * cli_backup.c - `difs backup [--state DIR] [--force] FILE|-` and
 * `difs restore FILE|- [--state DIR]` (see cli.h): the way to back difs up.
 *
 * A backup is a compacted, consistent copy of the state store (store.h:
 * store_backup), taken as one more reader, so a mount on the state directory
 * keeps running.  Its secrets are sealed under STATE/secret.key, which it
 * carries only with --with-key (store_backup_key); either way FILE is 0600, first as
 * a temporary file in FILE's directory that is fsynced, checked to read back
 * as a difs store (store_inspect), and only then renamed onto FILE (never
 * over an existing FILE without --force), so FILE is either absent, the old
 * file or a complete backup, whatever happens.  SIGINT, SIGTERM and SIGHUP
 * stop a backup or restore cleanly (temporary files removed).
 *
 * This file owns the file handling and the messages; everything LMDB is in
 * store.c.  Exit status: 0 done, 1 failed or refused, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "store.h"

/* set by the signal handler; store_backup/store_restore poll it */
static volatile sig_atomic_t cli_backup_stop;

static void
cli_backup_on_signal(int sig)
{
	(void)sig;
	cli_backup_stop = 1;
}

/* SIGPIPE off (a closed pipe is an EPIPE error); SIGINT/TERM/HUP set the
 * flag without SA_RESTART, so a blocked read or write returns EINTR */
static void
cli_backup_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = cli_backup_on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &sa, NULL);
}

enum { CLI_OPT_STATE = 256, CLI_OPT_FORCE, CLI_OPT_WITH_KEY, CLI_OPT_HELP };

static const struct option cli_backup_longopts[] = {
	{ "state", required_argument, NULL, CLI_OPT_STATE },
	{ "force", no_argument,       NULL, CLI_OPT_FORCE },
	{ "with-key", no_argument,    NULL, CLI_OPT_WITH_KEY },
	{ "help",  no_argument,       NULL, CLI_OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct cli_backup_args {
	const char	*state;		/**< --state, or NULL: the default */
	const char	*file;		/**< FILE or "-" */
	bool		 force;
	bool		 with_key;	/**< --with-key */
	char		 dflt[PATH_MAX];	/**< the default state directory */
};

static const char cli_backup_usage_text[] =
    "usage: difs backup [--state DIR] [--force] [--with-key] FILE|-\n"
    "Write a consistent copy of the state store in DIR (default: the mount's\n"
    "default, $XDG_STATE_HOME/difs or ~/.local/state/difs) to FILE, or to\n"
    "standard output for '-' (difs backup - | gzip > b.mdb.gz).  Works while\n"
    "a difs mount runs on DIR, without stopping it.  The backup holds every\n"
    "source, job, instance, log and checkpoint, sealed (secrets included)\n"
    "under DIR/secret.key, which the backup includes only with\n"
    "--with-key (then keep FILE as secret as the sources; without it a\n"
    "restore needs that key file).  FILE is created 0600, complete or not at\n"
    "all, and an existing FILE is replaced only with --force.  Restore it\n"
    "with difs restore.\n"
    "Exit status: 0 written, 1 failed or refused, 2 usage.\n";

static const char cli_restore_usage_text[] =
    "usage: difs restore FILE|- [--state DIR]\n"
    "Make DIR (default: the mount's default state directory) a state\n"
    "directory holding the backup FILE (or standard input for '-'), as\n"
    "difs backup wrote it: sources with their secrets, jobs, instances,\n"
    "logs and checkpoints.  DIR must not exist or be empty (but for a\n"
    "secret.key), and no mount may hold it; FILE is checked first.  A backup\n"
    "taken --with-key brings its key (DIR/secret.key); one without needs the\n"
    "key it was sealed under in DIR/secret.key (copy it there) or\n"
    "$CREDENTIALS_DIRECTORY/difs.key, and is refused under another key.\n"
    "Then mount it: difs mount MNT --state DIR\n"
    "(instances that were RUNNING in the backup rerun as a new attempt).\n"
    "Exit status: 0 restored, 1 failed or refused, 2 usage.\n";

/* parse argv into a; 0, or the exit status (2 usage, -1 for --help done) */
static int
cli_backup_parse(int argc, char **argv, bool restore, struct cli_backup_args *a)
{
	const char *usage = restore ? cli_restore_usage_text : cli_backup_usage_text;
	const char *cmd = restore ? "restore" : "backup";
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", cli_backup_longopts, NULL)) != -1) {
		switch (c) {
		case CLI_OPT_STATE:
			if (optarg[0] == '\0') {
				fprintf(stderr, "difs %s: --state: empty directory name\n", cmd);
				return 2;
			}
			a->state = optarg;
			break;
		case CLI_OPT_FORCE:
			if (restore) {
				fprintf(stderr, "difs restore: --force is not an option of "
				    "restore (DIR must be new or empty)\n%s", usage);
				return 2;
			}
			a->force = true;
			break;
		case CLI_OPT_WITH_KEY:
			if (restore) {
				fprintf(stderr, "difs restore: --with-key is an option of backup "
				    "(restore takes the key when the backup has it)\n%s", usage);
				return 2;
			}
			a->with_key = true;
			break;
		case '?':
			fprintf(stderr, "difs %s: unknown or incomplete option '%s'\n%s", cmd,
			    argv[optind - 1], usage);
			return 2;
		default:	/* 'h', --help */
			fputs(usage, stdout);
			return -1;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "difs %s: %s\n%s", cmd, argc - optind == 0 ?
		    "missing FILE" : "exactly one FILE expected", usage);
		return 2;
	}
	a->file = argv[optind];
	if (a->state == NULL) {
		int rc = store_default_dir(a->dflt, sizeof(a->dflt));

		if (rc != 0) {
			fprintf(stderr, "difs %s: cannot find the default state directory: %s "
			    "(use --state DIR)\n", cmd, eng_strerror(rc));
			return 1;
		}
		a->state = a->dflt;
	}
	return 0;
}

/* "3 sources, 4 jobs, 120 instances, 2 checkpoints" */
static void
cli_backup_counts(const struct store_dump_info *di, char *out, size_t outsz)
{
	(void)snprintf(out, outsz, "%" PRIu64 " sources, %" PRIu64 " jobs, %" PRIu64
	    " instances, %" PRIu64 " checkpoints", di->entries[STORE_DB_SOURCES],
	    di->entries[STORE_DB_JOBS], di->entries[STORE_DB_INSTANCES],
	    di->entries[STORE_DB_CHECKPOINTS]);
}

/* split path into its directory (".", "/" or a prefix) and last component */
static int
cli_backup_split(const char *path, char *dir, size_t dirsz, const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t n;
	int w;

	if (slash == NULL) {
		w = snprintf(dir, dirsz, ".");
		*base = path;
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		w = snprintf(dir, dirsz, "%.*s", (int)n, path);
		*base = slash + 1;
	}
	if (w < 0 || (size_t)w >= dirsz)
		return -ENAMETOOLONG;
	return (*base)[0] == '\0' ? -EISDIR : 0;
}

/* rename tmp onto file; without force only if file does not exist */
static int
cli_backup_place(const char *tmp, const char *file, bool force)
{
	if (force)
		return rename(tmp, file) == 0 ? 0 : -errno;
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, file, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* a filesystem without RENAME_NOREPLACE: link() refuses to replace too */
	if (link(tmp, file) != 0)
		return -errno;
	(void)unlink(tmp);
	return 0;
}

/*
 * the key after the store's bytes when --with-key, and the line that says
 * whether the backup has it; 0 or 1 (failed)
 */
static int
cli_backup_key(const struct cli_backup_args *a, int fd)
{
	struct eng_errbuf eb = { "" };
	bool had = false;
	int rc;

	if (a->with_key && (rc = store_backup_key(a->state, fd, &had, &eb)) != 0) {
		fprintf(stderr, "difs backup: the secret key: %s\n",
		    eb.msg[0] ? eb.msg : eng_strerror(rc));
		return 1;
	}
	if (had)
		fprintf(stderr, "difs backup: backup with the secret key: keep it as secret "
		    "as the sources\n");
	else if (a->with_key)
		fprintf(stderr, "difs backup: no secret key in %s yet (nothing sealed): "
		    "backup without it\n", a->state);
	else
		fprintf(stderr, "difs backup: backup without the secret key: restore needs "
		    "%s/secret.key or --with-key\n", a->state);
	return 0;
}

/* backup to stdout ('-') */
static int
cli_backup_stdout(const struct cli_backup_args *a)
{
	struct store_dump_info di;
	struct eng_errbuf eb = { "" };
	int rc;

	if (isatty(STDOUT_FILENO)) {
		fprintf(stderr, "difs backup: not writing a binary backup to a terminal "
		    "(redirect or pipe standard output)\n");
		return 1;
	}
	rc = store_backup(a->state, STDOUT_FILENO, &cli_backup_stop, &di, &eb);
	if (rc != 0) {
		fprintf(stderr, "difs backup: %s\n", eb.msg[0] ? eb.msg : eng_strerror(rc));
		return 1;
	}
	if (cli_backup_key(a, STDOUT_FILENO) != 0)
		return 1;
	fprintf(stderr, "difs backup: %s -> standard output: %" PRIu64 " bytes\n",
	    a->state, di.bytes);
	return 0;
}

static int
cli_backup_file(const struct cli_backup_args *a)
{
	char dir[PATH_MAX], tmp[PATH_MAX], counts[160];
	struct store_dump_info di;
	struct eng_errbuf eb = { "" };
	const char *base;
	struct stat sb;
	int fd = -1, rc, n, status = 1;

	tmp[0] = '\0';
	if ((rc = cli_backup_split(a->file, dir, sizeof(dir), &base)) != 0) {
		fprintf(stderr, "difs backup: %s: %s\n", a->file, rc == -EISDIR ?
		    "names a directory; give the backup file's name" : eng_strerror(rc));
		return 1;
	}
	if (lstat(a->file, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			fprintf(stderr, "difs backup: %s is a directory; give the backup "
			    "file's name\n", a->file);
			return 1;
		}
		if (!a->force) {
			fprintf(stderr, "difs backup: %s exists; not replaced (use --force to "
			    "replace it)\n", a->file);
			return 1;
		}
	} else if (errno != ENOENT) {
		fprintf(stderr, "difs backup: %s: %s\n", a->file, strerror(errno));
		return 1;
	}
	n = snprintf(tmp, sizeof(tmp), "%s/.%s.difs-backup.XXXXXX", dir, base);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		fprintf(stderr, "difs backup: %s: file name too long\n", a->file);
		tmp[0] = '\0';
		goto out;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {	/* mode 0600 */
		fprintf(stderr, "difs backup: cannot create a file in %s: %s\n", dir,
		    strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	rc = store_backup(a->state, fd, &cli_backup_stop, &di, &eb);
	if (rc != 0) {
		fprintf(stderr, "difs backup: %s\n", eb.msg[0] ? eb.msg : eng_strerror(rc));
		goto out;
	}
	if (cli_backup_key(a, fd) != 0)
		goto out;
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		fprintf(stderr, "difs backup: writing %s: %s\n", a->file, strerror(errno));
		goto out;
	}
	fd = -1;
	/* what lands under FILE reads back as a difs store */
	if ((rc = store_inspect(tmp, &di, &eb)) != 0) {
		fprintf(stderr, "difs backup: the copy does not read back: %s\n",
		    eb.msg[0] ? eb.msg : eng_strerror(rc));
		goto out;
	}
	if (cli_backup_stop) {
		fprintf(stderr, "difs backup: interrupted\n");
		goto out;
	}
	if ((rc = cli_backup_place(tmp, a->file, a->force)) != 0) {
		fprintf(stderr, "difs backup: %s: %s\n", a->file, rc == -EEXIST ?
		    "appeared meanwhile; not replaced (use --force to replace it)" :
		    strerror(-rc));
		goto out;
	}
	tmp[0] = '\0';
	if ((rc = store_fsync_dir(dir)) != 0)
		fprintf(stderr, "difs backup: warning: fsync of %s: %s\n", dir, strerror(-rc));
	cli_backup_counts(&di, counts, sizeof(counts));
	fprintf(stderr, "difs backup: %s -> %s: %" PRIu64 " bytes (%s)\n", a->state,
	    a->file, di.bytes, counts);
	status = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp[0] != '\0')
		(void)unlink(tmp);
	return status;
}

int
cli_backup(int argc, char **argv)
{
	struct cli_backup_args a;
	int rc;

	if ((rc = cli_backup_parse(argc, argv, false, &a)) != 0)
		return rc < 0 ? 0 : rc;
	cli_backup_signals();
	if (strcmp(a.file, "-") == 0)
		return cli_backup_stdout(&a);
	return cli_backup_file(&a);
}

int
cli_restore(int argc, char **argv)
{
	struct cli_backup_args a;
	struct store_dump_info di;
	struct eng_errbuf eb = { "" };
	char counts[160];
	const char *from;
	int fd = STDIN_FILENO, rc, status = 1;

	if ((rc = cli_backup_parse(argc, argv, true, &a)) != 0)
		return rc < 0 ? 0 : rc;
	cli_backup_signals();
	if (strcmp(a.file, "-") == 0) {
		if (isatty(STDIN_FILENO)) {
			fprintf(stderr, "difs restore: standard input is a terminal; "
			    "give FILE or redirect the backup into '-'\n");
			return 1;
		}
		from = "standard input";
	} else {
		from = a.file;
		/* check FILE before anything happens to DIR */
		if ((rc = store_inspect(a.file, NULL, &eb)) != 0) {
			fprintf(stderr, "difs restore: %s\n", eb.msg[0] ? eb.msg : eng_strerror(rc));
			return 1;
		}
		if ((fd = open(a.file, O_RDONLY | O_CLOEXEC)) < 0) {
			fprintf(stderr, "difs restore: %s: %s\n", a.file, strerror(errno));
			return 1;
		}
	}
	rc = store_restore(fd, a.state, &cli_backup_stop, &di, &eb);
	if (rc != 0) {
		fprintf(stderr, "difs restore: %s\n", eb.msg[0] ? eb.msg : eng_strerror(rc));
		goto out;
	}
	cli_backup_counts(&di, counts, sizeof(counts));
	fprintf(stderr, "difs restore: %s -> %s: %" PRIu64 " bytes (%s%s); mount it with "
	    "difs mount MOUNTPOINT --state %s\n", from, a.state, di.bytes, counts,
	    di.key ? ", with its secret key" : "", a.state);
	status = 0;
out:
	if (fd != STDIN_FILENO)
		close(fd);
	return status;
}
