/* SPDX-License-Identifier: MIT */
/*
 * test_spool.c - cache/spool.c: staging files, quota reservations given
 * back at seal and free, backpressure (a waiter proceeds when another
 * thread frees a file), timeout, cancel, stale-file cleanup at start.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"
#include "tap.h"

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
count_spool_files(const char *dir)
{
	char cmd[512];
	FILE *p;
	int n = -1;
	char line[64];

	snprintf(cmd, sizeof(cmd), "ls -1 '%s' | grep -c '\\.spool$'", dir);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), p) != NULL)
		n = (int)strtol(line, NULL, 10);
	pclose(p);
	return n;
}

struct freer {
	struct spool_file	*f;
	int			 delay_ms;
};

static void *
free_later(void *arg)
{
	struct freer *fr = arg;
	struct timespec ts = { fr->delay_ms / 1000, (long)(fr->delay_ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
	spool_file_free(fr->f);
	return NULL;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
main(void)
{
	char root[] = "/tmp/difs-spool-XXXXXX", dir[600], stale[700], got[64];
	struct spool_config cfg;
	struct spool *sp = NULL;
	struct spool_file *a = NULL, *b = NULL, *c = NULL;
	struct eng_errbuf eb;
	struct freer fr;
	pthread_t th;
	atomic_int cancel = 0;
	char *big;
	int fd, rc;
	int64_t t0;

	if (mkdtemp(root) == NULL)
		return 1;
	snprintf(dir, sizeof(dir), "%s/state/cache/spool", root);

	/* a stale file from a "crashed" process, in a directory created here */
	memset(&cfg, 0, sizeof(cfg));
	cfg.dir = dir;
	cfg.quota = 1000;
	cfg.wait_ms = 300;
	cfg.cancel = &cancel;
	is_rc(spool_new(&cfg, &sp, &eb), 0, "spool_new creates the nested directory");
	spool_free(sp);
	snprintf(stale, sizeof(stale), "%s/old-7.spool", dir);
	fd = open(stale, O_WRONLY | O_CREAT, 0600);
	ok(fd >= 0, "stale file created");
	close(fd);
	snprintf(stale, sizeof(stale), "%s/keep.txt", dir);
	fd = open(stale, O_WRONLY | O_CREAT, 0600);
	close(fd);
	is_rc(spool_new(&cfg, &sp, &eb), 0, "spool_new again");
	is_int(count_spool_files(dir), 0, "stale *.spool removed at start");
	ok(access(stale, F_OK) == 0, "other files are left alone");
	is_int((long long)spool_quota(sp), 1000, "quota");

	/* write, read back, capacity */
	is_rc(spool_file_new(sp, "t0/obj", 400, &a, &eb), 0, "file of 400");
	ok(strstr(spool_file_path(a), "/t0_obj-") != NULL, "tag sanitised: %s", spool_file_path(a));
	is_int((long long)spool_used(sp), 400, "400 reserved");
	is_rc(spool_file_write(a, "hello ", 6), 0, "write");
	is_rc(spool_file_write(a, "world", 5), 0, "write");
	is_int((long long)spool_file_size(a), 11, "size counts buffered bytes");
	is_int((long long)spool_file_room(a), 389, "room");
	big = calloc(1, 400);
	is_rc(spool_file_write(a, big, 390), -EFBIG, "past capacity refused");
	is_int((long long)spool_file_size(a), 11, "nothing written by the refused call");
	is_rc(spool_file_seal(a), 0, "seal");
	is_rc(spool_file_write(a, "x", 1), ENG_ESTATE, "no write after seal");
	is_int((long long)spool_used(sp), 11, "seal gives back the unused reservation");
	memset(got, 0, sizeof(got));
	ok(pread(spool_file_fd(a), got, sizeof(got), 0) == 11 && strcmp(got, "hello world") == 0,
	    "contents read back with pread: '%s'", got);
	is_int(count_spool_files(dir), 1, "one file on disk");

	/* more than the buffer: flushed through */
	is_rc(spool_file_new(sp, "big", 989, &b, &eb), 0, "second file fills the quota");
	is_int((long long)spool_used(sp), 1000, "quota full");
	is_rc(spool_file_write(b, big, 389), 0, "write 389");
	is_rc(spool_file_seal(b), 0, "seal");
	is_int((long long)spool_used(sp), 400, "back to 400");

	/* -ENOSPC: never fits */
	is_rc(spool_file_new(sp, "huge", 1001, &c, &eb), -ENOSPC, "larger than the quota: %s", eb.msg);

	/* backpressure: wait until another thread frees b */
	is_rc(spool_file_new(sp, "c", 600, &c, &eb), 0, "600 fits exactly");
	spool_file_free(c);
	c = NULL;
	cfg.wait_ms = 5000;
	/* files keep a pointer to their spool: free them first */
	spool_file_free(a);
	spool_file_free(b);
	a = b = NULL;
	spool_free(sp);
	sp = NULL;
	is_int(count_spool_files(dir), 0, "free unlinks");
	is_rc(spool_new(&cfg, &sp, &eb), 0, "spool with 5 s wait");
	is_rc(spool_file_new(sp, "a", 700, &a, &eb), 0, "700 reserved");
	fr.f = a;
	fr.delay_ms = 300;
	pthread_create(&th, NULL, free_later, &fr);
	t0 = mono_ms();
	rc = spool_file_new(sp, "b", 700, &b, &eb);
	is_rc(rc, 0, "second 700 waits for the first to be freed");
	ok(mono_ms() - t0 >= 250, "it waited (%lld ms)", (long long)(mono_ms() - t0));
	pthread_join(th, NULL);
	a = NULL;
	is_int((long long)spool_peak(sp), 700, "peak never above the quota");
	is_int((int)spool_files(sp), 1, "one file open");

	/* cancel ends a wait */
	atomic_store(&cancel, 1);
	t0 = mono_ms();
	is_rc(spool_file_new(sp, "c", 700, &c, &eb), ENG_EKILLED, "cancel: %s", eb.msg);
	ok(mono_ms() - t0 < 2000, "promptly");
	atomic_store(&cancel, 0);
	spool_file_free(b);
	b = NULL;
	spool_free(sp);

	/* timeout */
	cfg.wait_ms = 200;
	is_rc(spool_new(&cfg, &sp, &eb), 0, "spool with 200 ms wait");
	is_rc(spool_file_new(sp, "a", 700, &a, &eb), 0, "700 reserved");
	rc = spool_file_new(sp, "b", 700, &b, &eb);
	is_rc(rc, -ETIMEDOUT, "full quota times out: %s", eb.msg);
	spool_file_free(a);
	spool_free(sp);
	is_int(count_spool_files(dir), 0, "nothing left");

	/* one spool per directory; sweeping what dead runs left */
	{
		char d1[700], d2[700], f[800];
		struct spool *s1 = NULL, *s2 = NULL, *s3 = NULL;
		pid_t pid;
		int status;
		size_t swept = 99;

		snprintf(d1, sizeof(d1), "%s/runs/live", root);
		snprintf(d2, sizeof(d2), "%s/runs/dead", root);
		cfg.dir = d1;
		is_rc(spool_new(&cfg, &s1, &eb), 0, "live spool");
		is_rc(spool_new(&cfg, &s3, &eb), -EBUSY, "a second spool on the same directory: %s",
		    eb.msg);
		is_rc(spool_file_new(s1, "x", 10, &a, &eb), 0, "live staged file");
		cfg.dir = d2;
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			/* a run that dies with a staged file */
			if (spool_new(&cfg, &s2, &eb) != 0 ||
			    spool_file_new(s2, "y", 10, &b, &eb) != 0)
				_exit(1);
			_exit(0);
		}
		waitpid(pid, &status, 0);
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a child staged a file and died");
		snprintf(f, sizeof(f), "%s/y-1.spool", d2);
		ok(access(f, F_OK) == 0, "dead run's file still on disk");
		b = NULL;
		snprintf(stale, sizeof(stale), "%s/runs/not-a-spool", root);
		ok(mkdir(stale, 0700) == 0, "unrelated directory");
		is_rc(spool_sweep(stale, NULL), 0, "sweep of a directory without spools");
		snprintf(stale, sizeof(stale), "%s/runs", root);
		is_rc(spool_sweep(stale, &swept), 0, "sweep");
		is_int((int)swept, 1, "one dead run swept");
		ok(access(f, F_OK) != 0 && access(d2, F_OK) != 0, "its files and directory are gone");
		ok(access(spool_file_path(a), F_OK) == 0, "the live run's file is kept");
		snprintf(stale, sizeof(stale), "%s/runs/not-a-spool", root);
		ok(access(stale, F_OK) == 0, "unrelated directories are kept");
		spool_file_free(a);
		spool_free(s1);
		is_rc(spool_sweep("/nonexistent/difs", NULL), 0, "missing parent is fine");
	}
	free(big);
	(void)nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
