/* SPDX-License-Identifier: MIT */
/*
 * emu_harness.c - a difs-emu child process for engine tests (see
 * emu_harness.h): fork + exec with stdout on a pipe, the endpoint lines
 * read until "ready", SIGTERM and directory removal at the end, and the
 * admin endpoint over the production curl transport.
 */
#include <errno.h>
#include <limits.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "emu_harness.h"
#include "http.h"
#include "num.h"

#define TH_EMU_ARGS		20
#define TH_EMU_READY_MS		20000

static int
th_emu_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* "ots URL ..." / "oss URL" into the matching field; true on "ready" */
static bool
th_emu_line(struct th_emu *e, char *line)
{
	char *url = NULL, *sp;
	size_t n;

	if (strcmp(line, "ready") == 0)
		return true;
	if (strncmp(line, "ots ", 4) == 0)
		url = e->ots_url;
	else if (strncmp(line, "oss ", 4) == 0)
		url = e->oss_url;
	if (url == NULL)
		return false;
	if ((sp = strchr(line + 4, ' ')) != NULL)
		*sp = '\0';
	n = strlen(line + 4);
	if (n < sizeof(e->ots_url))
		memcpy(url, line + 4, n + 1);
	return false;
}

/* read lines from fd until "ready", EOF or the deadline; true on "ready" */
static bool
th_emu_wait_ready(struct th_emu *e, int fd)
{
	char line[512];
	size_t n = 0;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		char c;

		if (poll(&p, 1, TH_EMU_READY_MS) <= 0 || read(fd, &c, 1) != 1)
			return false;
		if (c != '\n') {
			if (n + 1 < sizeof(line))
				line[n++] = c;
			continue;
		}
		line[n] = '\0';
		n = 0;
		if (th_emu_line(e, line))
			return true;
	}
}

int
th_emu_start(struct th_emu *e, const char *exe, const struct th_emu_opts *o)
{
	char *argv[TH_EMU_ARGS];
	const char *tmp;
	int pfd[2], n;
	bool ready;

	e->pid = -1;
	e->ots_url[0] = e->oss_url[0] = '\0';
	tmp = getenv("TMPDIR");
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	n = snprintf(e->dir, sizeof(e->dir), "%s/%s-XXXXXX", tmp, o->name);
	if (n < 0 || (size_t)n >= sizeof(e->dir) || mkdtemp(e->dir) == NULL) {
		e->dir[0] = '\0';
		return -1;
	}
	snprintf(e->data, sizeof(e->data), "%s/data", e->dir);
	n = 0;
	argv[n++] = (char *)(uintptr_t)exe;
	argv[n++] = (char *)(uintptr_t)"--data";
	argv[n++] = e->data;
	argv[n++] = (char *)(uintptr_t)"--access-key";
	argv[n++] = (char *)(uintptr_t)o->access_key;
	if (o->ots_instance != NULL) {
		argv[n++] = (char *)(uintptr_t)"--ots";
		argv[n++] = (char *)(uintptr_t)"127.0.0.1:0";
		argv[n++] = (char *)(uintptr_t)"--instance";
		argv[n++] = (char *)(uintptr_t)o->ots_instance;
	}
	if (o->oss_bucket != NULL) {
		argv[n++] = (char *)(uintptr_t)"--oss";
		argv[n++] = (char *)(uintptr_t)"127.0.0.1:0";
		argv[n++] = (char *)(uintptr_t)"--bucket";
		argv[n++] = (char *)(uintptr_t)o->oss_bucket;
	}
	if (o->sync_off) {
		argv[n++] = (char *)(uintptr_t)"--sync";
		argv[n++] = (char *)(uintptr_t)"off";
	}
	if (o->log_level != NULL) {
		argv[n++] = (char *)(uintptr_t)"--log-level";
		argv[n++] = (char *)(uintptr_t)o->log_level;
	}
	argv[n] = NULL;
	if (pipe(pfd) != 0)
		return -1;
	if ((e->pid = fork()) < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (e->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);	/* no orphan if the test crashes */
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execv(exe, argv);
		_exit(127);
	}
	close(pfd[1]);
	ready = th_emu_wait_ready(e, pfd[0]);
	close(pfd[0]);	/* difs-emu prints nothing more on stdout */
	if (!ready || (o->ots_instance != NULL && e->ots_url[0] == '\0') ||
	    (o->oss_bucket != NULL && e->oss_url[0] == '\0'))
		return -1;
	return 0;
}

void
th_emu_stop(struct th_emu *e)
{
	int status;

	if (e->pid > 0) {
		kill(e->pid, SIGTERM);
		waitpid(e->pid, &status, 0);
		e->pid = -1;
	}
	if (e->dir[0] != '\0') {
		(void)nftw(e->dir, th_emu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
		e->dir[0] = '\0';
	}
}

int
th_emu_admin(const char *base, const char *path, const char *body, struct buf *out)
{
	struct http_transport *t = NULL;
	struct http_request req;
	struct http_response resp;
	char url[512];
	int status = -1;

	snprintf(url, sizeof(url), "%s/_emu/%s", base, path);
	if (http_curl_new(NULL, &t) != 0)
		return -1;
	memset(&req, 0, sizeof(req));
	req.method = body != NULL ? "POST" : "GET";
	req.url = url;
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	http_response_init(&resp);
	if (http_perform(t, &req, &resp, NULL) == 0) {
		status = resp.status;
		if (out != NULL && buf_add(out, resp.body.p, resp.body.len) != 0)
			status = -1;
	}
	http_response_free(&resp);
	http_transport_free(t);
	return status;
}

int
th_emu_post(const char *base, const char *path, const char *body)
{
	return th_emu_admin(base, path, body, NULL) == 200 ? 0 : -EIO;
}

long
th_emu_stat(const char *base, const char *name)
{
	struct buf b;
	const char *p = NULL;
	size_t nlen = strlen(name);
	uint64_t u;
	long v = -1;

	buf_init(&b, BUF_MAX_SMALL);
	if (th_emu_admin(base, "stats", NULL, &b) == 200 && b.p != NULL)
		for (p = strstr(b.p, name); p != NULL; p = strstr(p + 1, name))
			if ((p == b.p || p[-1] == '\n') && p[nlen] == ' ')
				break;
	if (p != NULL) {
		p += nlen + 1;
		if (num_u64(p, strspn(p, "0123456789"), LONG_MAX, &u) == 0)
			v = (long)u;
	}
	buf_free(&b);
	return v;
}

int64_t
th_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
th_sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	if (ms > 0)
		nanosleep(&ts, NULL);
}

int64_t
th_boundary(void)
{
	int64_t b = (th_now_ms() + 200 + 999) / 1000 * 1000;

	th_sleep_ms(b + 300 - th_now_ms());
	return b;
}

int
th_emu_main_start(struct th_emu *e, int argc, char **argv, const struct th_emu_opts *o)
{
	if (argc < 2 || access(argv[1], X_OK) != 0) {
		printf("1..0 # SKIP difs-emu binary not found (%s)\n",
		    argc < 2 ? "no path given" : argv[1]);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return th_emu_start(e, argv[1], o) == 0 ? 0 : -1;
}
