/* SPDX-License-Identifier: MIT */
/*
 * fs_mount.c - `difs mount MOUNTPOINT`: the daemon.
 *
 * Start-up order, chosen so that every failure reaches the terminal and the
 * exit status:
 *   1. parse options, check the mount point (exists, directory, empty);
 *   2. unless -f: fork; the parent waits on a pipe for the child's verdict
 *      and exits with it; the child calls setsid().  The fork comes BEFORE
 *      the engine opens the LMDB store: an LMDB environment must not cross a
 *      fork (its reader slots and fcntl locks belong to the opening pid), so
 *      libfuse's fuse_daemonize() (which forks late) is not used;
 *   3. open the daemon log (STATE/difs.log, plus stderr with -f; writers
 *      stage their output under STATE/spool), open the
 *      engine (takes the state directory's lock: a second daemon gets
 *      ENG_ELOCKED and the holder's pid), with --metrics bind its port
 *      and serve it (fs_metrics.c: a port in use fails here), create the
 *      FUSE session, mount;
 *   4. start the invalidation thread, the scheduler and the signal thread,
 *      then tell the parent "mounted" (the child's stdio goes to /dev/null);
 *   5. run the multi-threaded session loop until `fusermount3 -u` or
 *      SIGTERM/SIGINT/SIGHUP;
 *   6. stop the metrics server and the scheduler, unmount, stop the invalidation thread, free the
 *      engine (kills running instances, commits the state), exit 0.
 *
 * Signals: SIGTERM/SIGINT/SIGHUP are blocked in every thread and taken by
 * a dedicated thread with sigwait(); it ends the session and wakes the main
 * thread (blocked in libfuse's sem_wait) with SIGUSR1, whose handler does
 * nothing.  No engine thread ever runs a signal handler.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fs_i.h"
#include "fs_metrics.h"
#include "fs_mount.h"
#include "fs_opts.h"
#include "log.h"
#include "num.h"
#include "sys.h"

#define FS_MOUNT_BASE_OPTS	"default_permissions,fsname=difs,subtype=difs"
#define FS_MOUNT_MAX_THREADS	64
#define FS_MOUNT_IDLE_THREADS	16
#define FS_MOUNT_MAX_O		32	/* -o given at most this often */

struct fs_mount_opts {
	char		*mountpoint;	/**< absolute (realpath) */
	char		 state[PATH_MAX];
	bool		 foreground;
	struct buf	 fuse_opts;	/**< user -o options, checked, comma-joined */
	const char	*o_args[FS_MOUNT_MAX_O];	/**< -o texts as given */
	int		 n_o;
	bool		 allow_other;	/**< --allow-other: others may enter */
	int		 workers;	/**< 0: engine default */
	int		 grace_ms;	/**< hidden --grace-ms (tests): 0 = default */
	bool		 nosync;	/**< hidden --nosync (benchmarks): no fsync */
	bool		 metrics;	/**< --metrics given: serve metrics_addr */
	uint64_t	 max_defs_bytes, max_defs, max_handles;	/**< 0: defaults */
	struct fs_metrics_addr metrics_addr;
};

/* the signal thread's view of the daemon */
struct fs_sig {
	struct fuse_session	*se;
	pthread_t		 main;
	pthread_t		 thread;
	bool			 running;
};

enum { FS_OPT_STATE = 256, FS_OPT_WORKERS, FS_OPT_GRACE, FS_OPT_NOSYNC,
	FS_OPT_METRICS, FS_OPT_ALLOW_OTHER, FS_OPT_HELP, FS_OPT_MAX_DEFS_BYTES, FS_OPT_MAX_DEFS,
	FS_OPT_MAX_HANDLES };

static const struct option fs_mount_longopts[] = {
	{ "state",	required_argument,	NULL, FS_OPT_STATE },
	{ "foreground",	no_argument,		NULL, 'f' },
	{ "workers",	required_argument,	NULL, FS_OPT_WORKERS },
	{ "metrics",	required_argument,	NULL, FS_OPT_METRICS },
	{ "allow-other", no_argument,		NULL, FS_OPT_ALLOW_OTHER },
	{ "max-defs-bytes", required_argument,	NULL, FS_OPT_MAX_DEFS_BYTES },
	{ "max-defs",	required_argument,	NULL, FS_OPT_MAX_DEFS },
	{ "max-handles", required_argument,	NULL, FS_OPT_MAX_HANDLES },
	{ "help",	no_argument,		NULL, FS_OPT_HELP },
	/* hidden, for tests: job removal grace instead of 60 s */
	{ "grace-ms",	required_argument,	NULL, FS_OPT_GRACE },
	/* hidden, for benchmarks: no fsync at commit (a crash loses state) */
	{ "nosync",	no_argument,		NULL, FS_OPT_NOSYNC },
	{ NULL,		0,			NULL, 0 },
};

static void
fs_mount_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: difs mount MOUNTPOINT [--state DIR] [-f|--foreground]\n"
	    "                  [-o OPTIONS] [--allow-other] [--workers N]\n"
	    "                  [--metrics [ADDR:]PORT]\n"
	    "                  [--max-defs-bytes SIZE] [--max-defs N] [--max-handles N]\n"
	    "\n"
	    "  --state DIR      state directory (default $XDG_STATE_HOME/difs or\n"
	    "                   ~/.local/state/difs); the log is DIR/difs.log\n"
	    "  -f, --foreground stay in the foreground, log to stderr too\n"
	    "  -o OPTIONS       extra FUSE mount options (comma-separated);\n"
	    "                   allow_other/allow_root only with --allow-other\n"
	    "  --allow-other    let other users use the mount (mount option\n"
	    "                   allow_other; default_permissions stays on, so\n"
	    "                   file modes decide; see difs(1) before using it)\n"
	    "  --workers N      instances running at once (default 4)\n"
	    "  --metrics [ADDR:]PORT\n"
	    "                   serve GET /metrics (Prometheus text, as MOUNT/metrics)\n"
	    "                   on PORT of 127.0.0.1, or of ADDR (0.0.0.0, [::1], ...)\n"
	    "  --max-defs-bytes SIZE\n"
	    "                   bytes of sources/jobs files held in memory (default\n"
	    "                   64M; K, M, G suffixes); past it writes fail ENOSPC\n"
	    "  --max-defs N     files in sources/ and jobs/ (default 10000): ENOSPC\n"
	    "  --max-handles N  open files per process (default 1024): EMFILE\n"
	    "\n"
	    "Unmount with `fusermount3 -u MOUNTPOINT` (or SIGTERM).\n");
}

/*
 * A start-up failure: on stderr with the command's prefix and, once the log
 * is open (o != NULL), in the log too (with -f the log is on stderr
 * already: once is enough).
 */
static void __attribute__((format(printf, 2, 3)))
fs_mount_err(const struct fs_mount_opts *o, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);	/* a cut message is still fine */
	va_end(ap);
	if (o == NULL || !o->foreground)
		fprintf(stderr, "difs mount: %s\n", msg);
	if (o != NULL)
		log_errorx("%s", msg);
}

static int
fs_mount_parse_int(const char *s, long min, long max, int *out)
{
	int64_t v;

	if (num_i64(s, (size_t)-1, min, max, &v) != 0)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* "64M", "512K", "1G", "100000" (bytes; K/M/G are 1024-based), in
 * [min, max] */
static int
fs_mount_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	size_t len = strlen(s);
	unsigned shift = 0;
	uint64_t v;

	if (len > 0) {
		switch (s[len - 1]) {
		case 'K': case 'k': shift = 10; break;
		case 'M': case 'm': shift = 20; break;
		case 'G': case 'g': shift = 30; break;
		default: break;
		}
	}
	if (shift != 0)
		len--;
	if (num_u64(s, len, max >> shift, &v) != 0 || (v << shift) < min)
		return -EINVAL;
	*out = v << shift;
	return 0;
}

/*
 * The -o texts, each checked as libfuse will parse it (fs_opts.c), into
 * o->fuse_opts; --allow-other without -o allow_other/allow_root adds
 * allow_other.  Each -o apart: joining the raw texts first would let a
 * trailing backslash of one escape the joining comma.
 */
static int
fs_mount_check_fuse_opts(struct fs_mount_opts *o)
{
	char why[512];
	bool shared = false;
	int i;

	for (i = 0; i < o->n_o; i++)
		if (fs_opts_check(o->o_args[i], strlen(o->o_args[i]),
		    o->allow_other, &o->fuse_opts, &shared, why,
		    sizeof(why)) != 0) {
			fs_mount_err(NULL, "%s", why);
			return -EINVAL;
		}
	if (o->allow_other && !shared &&
	    ((o->fuse_opts.len > 0 && buf_addc(&o->fuse_opts, ',') != 0) ||
	    buf_addstr(&o->fuse_opts, "allow_other") != 0))
		return -ENOMEM;
	return 0;
}

/* the mount point must exist, be a directory and be empty */
static int
fs_mount_check_point(const char *arg, char **abs)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 1;

	if (stat(arg, &st) != 0) {
		if (errno == ENOTCONN)
			fs_mount_err(NULL, "%s: %s (a dead mount? run `fusermount3 "
			    "-u %s` first)", arg, strerror(errno), arg);
		else
			fs_mount_err(NULL, "mount point %s: %s", arg,
			    strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fs_mount_err(NULL, "mount point %s is not a directory", arg);
		return 1;
	}
	d = opendir(arg);
	if (d == NULL) {
		fs_mount_err(NULL, "mount point %s: %s", arg, strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		fs_mount_err(NULL, "mount point %s is not empty (it holds '%s'); "
		    "mount on an empty directory", arg, de->d_name);
		goto out;
	}
	*abs = realpath(arg, NULL);
	if (*abs == NULL) {
		fs_mount_err(NULL, "mount point %s: %s", arg, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	closedir(d);
	return rc;
}

/* parse argv; 0, or the exit status (2 usage, 1 error) */
static int
fs_mount_parse(int argc, char **argv, struct fs_mount_opts *o)
{
	int c, rc;

	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "fo:h", fs_mount_longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'f':
			o->foreground = true;
			break;
		case 'o':
			if (o->n_o == FS_MOUNT_MAX_O) {
				fs_mount_err(NULL, "-o given more than %d times; "
				    "join the options with commas", FS_MOUNT_MAX_O);
				return 2;
			}
			o->o_args[o->n_o++] = optarg;
			break;
		case FS_OPT_ALLOW_OTHER:
			o->allow_other = true;
			break;
		case FS_OPT_STATE:
			if (optarg[0] == '\0' ||
			    strlen(optarg) >= sizeof(o->state) - 16) {
				fs_mount_err(NULL, "--state: bad directory name");
				return 2;
			}
			memcpy(o->state, optarg, strlen(optarg) + 1);
			break;
		case FS_OPT_WORKERS:
			if (fs_mount_parse_int(optarg, 1, 1024, &o->workers) != 0) {
				fs_mount_err(NULL, "--workers: expected 1..1024, "
				    "got '%s'", optarg);
				return 2;
			}
			break;
		case FS_OPT_GRACE:
			if (fs_mount_parse_int(optarg, 1, 86400000, &o->grace_ms) != 0) {
				fs_mount_err(NULL, "--grace-ms: expected 1..86400000, "
				    "got '%s'", optarg);
				return 2;
			}
			break;
		case FS_OPT_NOSYNC:
			o->nosync = true;
			break;
		case FS_OPT_MAX_DEFS_BYTES:
			if (fs_mount_parse_size(optarg, (uint64_t)2 << 20, (uint64_t)1 << 40,
			    &o->max_defs_bytes) != 0) {
				fs_mount_err(NULL, "--max-defs-bytes: expected a size from 2M "
				    "to 1024G (bytes, or with K, M or G), got '%s'", optarg);
				return 2;
			}
			break;
		case FS_OPT_MAX_DEFS:
		case FS_OPT_MAX_HANDLES:
			if (fs_mount_parse_size(optarg, 1, 1000000, c == FS_OPT_MAX_DEFS ?
			    &o->max_defs : &o->max_handles) != 0) {
				fs_mount_err(NULL, "--%s: expected 1..1000000, got '%s'",
				    c == FS_OPT_MAX_DEFS ? "max-defs" : "max-handles", optarg);
				return 2;
			}
			break;
		case FS_OPT_METRICS: {
			char why[256];

			if (fs_metrics_parse(optarg, &o->metrics_addr, why, sizeof(why)) != 0) {
				fs_mount_err(NULL, "--metrics %s", why);
				return 2;
			}
			o->metrics = true;
			break;
		}
		case 'h':
		case FS_OPT_HELP:
			fs_mount_usage(stdout);
			return -1;
		default:
			fs_mount_usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		fs_mount_err(NULL, argc - optind == 0 ? "missing MOUNTPOINT" :
		    "exactly one MOUNTPOINT expected");
		fs_mount_usage(stderr);
		return 2;
	}
	if (fs_mount_check_fuse_opts(o) != 0)
		return 2;
	rc = fs_mount_check_point(argv[optind], &o->mountpoint);
	if (rc != 0)
		return rc;
	if (o->state[0] == '\0') {
		rc = eng_default_state_dir(o->state, sizeof(o->state) - 16);
		if (rc != 0) {
			fs_mount_err(NULL, "cannot find the default state "
			    "directory: %s (use --state DIR)", eng_strerror(rc));
			return 1;
		}
	}
	{
		char why[512];

		/* before the log and the spool go into it */
		if ((rc = sys_private_dir(o->state, "state directory", why,
		    sizeof(why))) != 0) {
			fs_mount_err(NULL, "%s", why);
			return 1;
		}
	}
	if (rc == 0) {
		char *abs = realpath(o->state, NULL);

		if (abs == NULL)
			rc = -errno;
		else if (strlen(abs) >= sizeof(o->state) - 16)
			rc = -ENAMETOOLONG;
		else
			memcpy(o->state, abs, strlen(abs) + 1);
		free(abs);
	}
	if (rc != 0) {
		fs_mount_err(NULL, "state directory %s: %s", o->state,
		    strerror(-rc));
		return 1;
	}
	return 0;
}

static void
fs_mount_wake(int sig)
{
	(void)sig;	/* only interrupts the main thread's sem_wait */
}

static void *
fs_sig_main(void *arg)
{
	struct fs_sig *s = arg;
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	sigset_t set, stop;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	sigemptyset(&stop);
	sigaddset(&stop, SIGUSR2);
	if (sigwait(&set, &sig) != 0 || sig == SIGUSR2)
		return NULL;
	log_info("signal %d (%s): unmounting", sig, strsignal(sig));
	fuse_session_exit(s->se);
	/* repeat until the main thread has left the loop (it may have been
	 * between its exit check and sem_wait when the first one came) */
	do
		pthread_kill(s->main, SIGUSR1);
	while (sigtimedwait(&stop, NULL, &ts) != SIGUSR2);
	return NULL;
}

static int
fs_sig_start(struct fs_sig *s, struct fuse_session *se)
{
	int rc;

	s->se = se;
	s->main = pthread_self();
	rc = pthread_create(&s->thread, NULL, fs_sig_main, s);
	if (rc != 0)
		return -rc;
	s->running = true;
	return 0;
}

static void
fs_sig_stop(struct fs_sig *s)
{
	if (!s->running)
		return;
	pthread_kill(s->thread, SIGUSR2);
	pthread_join(s->thread, NULL);
	s->running = false;
}

/* block the daemon's signals in this (the main) thread and so in every
 * thread created later; SIGUSR1 wakes the main thread */
static int
fs_mount_signals(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return -errno;
	sa.sa_handler = fs_mount_wake;
	sa.sa_flags = 0;	/* no SA_RESTART: sem_wait must return EINTR */
	if (sigaction(SIGUSR1, &sa, NULL) != 0)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* the daemon is up: the child detaches its stdio and tells the parent */
static void
fs_mount_detach(int notify_fd)
{
	int fd;
	char ok = 0;

	if (notify_fd < 0)
		return;
	if (chdir("/") != 0)
		log_warn("chdir /");
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (write(notify_fd, &ok, 1) != 1)
		log_warn("cannot notify the parent");
	close(notify_fd);
}

static struct fuse_session *
fs_mount_session(const struct fs_mount_opts *o, struct fs *fs)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se = NULL;

	if (fuse_opt_add_arg(&args, "difs") != 0 ||
	    fuse_opt_add_arg(&args, "-o") != 0 ||
	    fuse_opt_add_arg(&args, FS_MOUNT_BASE_OPTS) != 0)
		goto out;
	if (o->fuse_opts.len > 0 &&
	    (fuse_opt_add_arg(&args, "-o") != 0 ||
	    fuse_opt_add_arg(&args, o->fuse_opts.p) != 0))
		goto out;
	se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), fs);
out:
	fuse_opt_free_args(&args);
	return se;
}

/* steps 3-6: returns the exit status */
static int
fs_mount_run(const struct fs_mount_opts *o, int notify_fd)
{
	struct fuse_loop_config *lc = NULL;
	struct fuse_session *se = NULL;
	struct fs_metrics *metrics = NULL;
	struct eng_config cfg;
	struct eng_errbuf eb;
	struct fs_sig sig;
	struct fs fs;
	char logpath[PATH_MAX], spool[PATH_MAX];
	bool mounted = false;
	int rc, status = 1;

	memset(&fs, 0, sizeof(fs));
	memset(&sig, 0, sizeof(sig));
	memset(&eb, 0, sizeof(eb));
	rc = snprintf(logpath, sizeof(logpath), "%s/difs.log", o->state);
	if (rc < 0 || (size_t)rc >= sizeof(logpath)) {
		fs_mount_err(NULL, "state directory name too long");
		goto out;
	}
	rc = snprintf(spool, sizeof(spool), "%s/spool", o->state);
	if (rc < 0 || (size_t)rc >= sizeof(spool)) {
		fs_mount_err(NULL, "state directory name too long");
		goto out;
	}
	if (mkdir(spool, 0700) != 0 && errno != EEXIST) {
		fs_mount_err(NULL, "cannot create %s: %s", spool, strerror(errno));
		goto out;
	}
	rc = log_open(logpath, o->foreground, LOG_LVL_INFO);
	if (rc != 0) {
		fs_mount_err(NULL, "cannot open the log %s: %s", logpath,
		    strerror(-rc));
		goto out;
	}
	rc = fs_mount_signals();
	if (rc != 0) {
		fs_mount_err(o, "signal set-up: %s", strerror(-rc));
		goto out;
	}
	rc = fs_inval_new(&fs.inval);
	if (rc != 0) {
		fs_mount_err(o, "%s", strerror(-rc));
		goto out;
	}

	memset(&cfg, 0, sizeof(cfg));
	cfg.state_dir = o->state;
	cfg.exclusive = true;
	cfg.workers = o->workers;
	cfg.grace_ms = o->grace_ms;
	cfg.nosync = o->nosync;
	cfg.max_defs_bytes = o->max_defs_bytes;
	cfg.max_defs = o->max_defs;
	cfg.max_handles = o->max_handles;
	cfg.spool_dir = spool;	/* writers' staging files: STATE/spool */
	cfg.uid = getuid();
	cfg.gid = getgid();
	cfg.inval_inode = fs_inval_inode_hook;
	cfg.inval_entry = fs_inval_entry_hook;
	cfg.inval_arg = fs.inval;
	rc = eng_new(&cfg, &fs.eng, &eb);
	if (rc == ENG_ELOCKED) {
		fs_mount_err(o, "%s (another difs daemon is running on it)",
		    eb.msg[0] != '\0' ? eb.msg : eng_strerror(rc));
		goto out;
	}
	if (rc != 0) {
		fs_mount_err(o, "cannot open the state in %s: %s%s%s",
		    o->state, eng_strerror(rc), eb.msg[0] != '\0' ? ": " : "",
		    eb.msg);
		goto out;
	}

	if (o->metrics) {
		char why[512];

		rc = fs_metrics_start(fs.eng, &o->metrics_addr, &metrics, why, sizeof(why));
		if (rc != 0) {
			fs_mount_err(o, "%s", why);
			goto out;
		}
		log_info("metrics on http://%s/metrics", o->metrics_addr.text);
	}
	se = fs_mount_session(o, &fs);
	if (se == NULL) {
		fs_mount_err(o, "cannot create the FUSE session (bad -o "
		    "option?)");
		goto out;
	}
	if (fuse_session_mount(se, o->mountpoint) != 0) {
		fs_mount_err(o, "cannot mount on %s (is /dev/fuse there and "
		    "fusermount3 installed?)", o->mountpoint);
		goto out;
	}
	mounted = true;
	rc = fs_inval_start(fs.inval, se);
	if (rc == 0)
		rc = eng_start(fs.eng);
	if (rc == 0)
		rc = fs_sig_start(&sig, se);
	if (rc != 0) {
		fs_mount_err(o, "cannot start: %s", eng_strerror(rc));
		goto out;
	}
	lc = fuse_loop_cfg_create();
	if (lc == NULL) {
		fs_mount_err(o, "out of memory");
		goto out;
	}
	fuse_loop_cfg_set_max_threads(lc, FS_MOUNT_MAX_THREADS);
	fuse_loop_cfg_set_idle_threads(lc, FS_MOUNT_IDLE_THREADS);
	log_info("mounted %s (state %s, pid %ld)", o->mountpoint, o->state,
	    (long)getpid());
	if (o->allow_other)
		log_warnx("--allow-other: other users can use %s (file modes "
		    "decide what they may read and write)", o->mountpoint);
	fs_mount_detach(notify_fd);
	notify_fd = -1;

	rc = fuse_session_loop_mt(se, lc);
	if (rc < 0)
		log_errorx("session loop: %s", strerror(-rc));
	else
		status = 0;
out:
	fs_sig_stop(&sig);
	fs_metrics_stop(metrics);	/* before eng_free: it reads the engine */
	if (fs.eng != NULL)
		eng_stop(fs.eng);
	if (mounted)
		fuse_session_unmount(se);
	if (fs.inval != NULL)
		fs_inval_stop(fs.inval);
	eng_free(fs.eng);
	if (se != NULL)
		fuse_session_destroy(se);
	fuse_loop_cfg_destroy(lc);
	fs_inval_free(fs.inval);
	if (status == 0)
		log_info("unmounted %s, state committed", o->mountpoint);
	if (notify_fd >= 0)
		close(notify_fd);	/* the parent sees EOF and our status */
	log_close();
	return status;
}

/* the parent of a daemon: wait for "mounted" or the child's exit */
static int
fs_mount_parent(pid_t child, int fd)
{
	char ok;
	ssize_t n;
	int st;

	do
		n = read(fd, &ok, 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n == 1)
		return 0;
	while (waitpid(child, &st, 0) < 0) {
		if (errno != EINTR)
			return 1;
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st) != 0 ? WEXITSTATUS(st) : 1;
	fs_mount_err(NULL, "daemon died (signal %d)",
	    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 1;
}

int
fs_mount_cmd(int argc, char **argv)
{
	struct fs_mount_opts o;
	int p[2] = { -1, -1 };
	pid_t pid;
	int rc;

	memset(&o, 0, sizeof(o));
	buf_init(&o.fuse_opts, BUF_MAX_SMALL);
	rc = fs_mount_parse(argc, argv, &o);
	if (rc != 0) {
		rc = rc < 0 ? 0 : rc;	/* --help */
		goto out;
	}
	if (o.foreground) {
		rc = fs_mount_run(&o, -1);
		goto out;
	}
	if (pipe2(p, O_CLOEXEC) != 0) {
		fs_mount_err(NULL, "pipe: %s", strerror(errno));
		rc = 1;
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fs_mount_err(NULL, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		rc = 1;
		goto out;
	}
	if (pid > 0) {
		close(p[1]);
		rc = fs_mount_parent(pid, p[0]);
		goto out;
	}
	close(p[0]);
	if (setsid() < 0)
		fs_mount_err(NULL, "setsid: %s", strerror(errno));
	rc = fs_mount_run(&o, p[1]);
out:
	free(o.mountpoint);
	buf_free(&o.fuse_opts);
	return rc;
}
