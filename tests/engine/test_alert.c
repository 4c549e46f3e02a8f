/* SPDX-License-Identifier: MIT */
/*
 * test_alert.c - alert_deliver: the command (environment, output, a
 * command that cannot start, a command killed at its limit with its
 * process group) and the webhook against a libmicrohttpd server on
 * 127.0.0.1 started here (body, retries on 5xx, giving up, connection
 * refused, no userinfo or query in the report).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "buf.h"
#include "err.h"
#include "json.h"
#include "hook_server.h"
#include "loopback.h"
#include "sys.h"
#include "tap.h"

static char tmpdir[256];

static const struct alert_event ev = {
	.event = "exhausted",
	.job = "orders",
	.cycle = "20240301T1200",
	.state = "FAILED",
	.reason = "attempt 3 of 3 failed",
	.error = "cannot connect to remote service",
	.attempt = 3,
	.attempts_allowed = 3,
	.window_start = "2024-03-01T12:00:00+08:00",
	.window_end = "2024-03-01T12:05:00+08:00",
	.time = "2024-03-01T12:07:31+08:00",
};

/* ---- helpers ----------------------------------------------------------------- */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
has(const struct buf *b, const char *needle)
{
	if (strstr(b->p, needle) != NULL)
		return 1;
	printf("# report lacks '%s':\n# %s\n", needle, b->p);
	return 0;
}

static int
lacks(const struct buf *b, const char *needle)
{
	if (strstr(b->p, needle) == NULL)
		return 1;
	printf("# report has '%s':\n# %s\n", needle, b->p);
	return 0;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, mode);
}

/* the value of NAME in an `env` dump, or NULL */
static const char *
env_get(const char *dump, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	const char *p = dump;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t vl = strcspn(p + nl + 1, "\n");

			snprintf(out, n, "%.*s", (int)vl, p + nl + 1);
			return out;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return NULL;
}

/* a process is gone when /proc has no entry or a zombie for it */
static int
proc_gone(pid_t pid)
{
	char path[64], st[256];
	struct buf b;
	int gone = 1, i;

	for (i = 0; i < 100; i++) {
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		buf_init(&b, BUF_MAX_SMALL);
		if (sys_read_file(path, BUF_MAX_SMALL, &b) != 0) {
			buf_free(&b);
			return 1;
		}
		/* "PID (comm) S ..." */
		snprintf(st, sizeof(st), "%s", b.p);
		buf_free(&b);
		if (strrchr(st, ')') != NULL && strrchr(st, ')')[1] == ' ' &&
		    strrchr(st, ')')[2] == 'Z')
			return 1;
		gone = 0;
		usleep(20 * 1000);
	}
	return gone;
}

static pid_t
read_pid(const char *path)
{
	struct buf b;
	long v = 0;

	buf_init(&b, BUF_MAX_SMALL);
	if (sys_read_file(path, BUF_MAX_SMALL, &b) == 0)
		v = strtol(b.p, NULL, 10);
	buf_free(&b);
	return (pid_t)v;
}

/* ---- exec ---------------------------------------------------------------------- */

static void
test_exec_env(void)
{
	static const char *vars[][2] = {
		{ "DIFS_EVENT", "exhausted" },
		{ "DIFS_JOB", "orders" },
		{ "DIFS_CYCLE", "20240301T1200" },
		{ "DIFS_STATE", "FAILED" },
		{ "DIFS_REASON", "attempt 3 of 3 failed" },
		{ "DIFS_ERROR", "cannot connect to remote service" },
		{ "DIFS_ATTEMPT", "3" },
		{ "DIFS_ATTEMPTS_ALLOWED", "3" },
		{ "DIFS_WINDOW_START", "2024-03-01T12:00:00+08:00" },
		{ "DIFS_WINDOW_END", "2024-03-01T12:05:00+08:00" },
		{ "DIFS_TIME", "2024-03-01T12:07:31+08:00" },
		{ "DIFS_INSTANCE", "instances/orders/20240301T1200" },
	};
	char script[512], dump[512], want[600], val[512];
	const char *argv[3];
	struct conf_alert a;
	struct alert_opts o = { .exec_timeout_ms = 10000 };
	struct buf rep, env;
	size_t i;
	int rc;

	snprintf(script, sizeof(script), "%s/alert.sh", tmpdir);
	snprintf(dump, sizeof(dump), "%s/env.txt", tmpdir);
	write_file(script,
	    "#!/bin/sh\n"
	    "env > \"$1\"\n"
	    "echo \"hello from $DIFS_JOB\"\n"
	    "echo 'to stderr' >&2\n"
	    "printf 'evil\\r2024-01-01 ERROR forged\\033[31m\\n'\n"
	    "printf 'last line without newline'\n"
	    "exit 3\n", 0755);
	argv[0] = script;
	argv[1] = dump;
	argv[2] = NULL;
	memset(&a, 0, sizeof(a));
	a.events = CONF_ALERT_EXHAUSTED;
	a.exec = argv;
	a.nexec = 2;
	/* a stale DIFS_JOB in the daemon's environment is replaced, the rest passes */
	setenv("DIFS_JOB", "stale", 1);
	setenv("ALERT_TEST_MARK", "kept", 1);
	buf_init(&rep, BUF_MAX_DOC);
	rc = alert_deliver(&a, &ev, &o, &rep);
	is_rc(rc, 0, "exec: a command that ran is delivered (its exit status is reported)");
	snprintf(want, sizeof(want), "alert exhausted: exec %s: exit status 3\n", script);
	ok(strncmp(rep.p, want, strlen(want)) == 0, "exec: first line is the exit status");
	ok(has(&rep, "\n  hello from orders\n"), "exec: stdout in the report, indented");
	ok(has(&rep, "\n  to stderr\n"), "exec: stderr in the report too");
	ok(has(&rep, "\n  evil\\x0d2024-01-01 ERROR forged\\x1b[31m\n"),
	    "exec: CR and ESC escaped (no forged log line)");
	ok(has(&rep, "\n  last line without newline\n"), "exec: a last partial line ends the report");
	buf_init(&env, BUF_MAX_DOC);
	is_int(sys_read_file(dump, BUF_MAX_DOC, &env), 0, "exec: the command dumped its environment");
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *got = env_get(env.p, vars[i][0], val, sizeof(val));

		is_str(got, vars[i][1], "exec: %s", vars[i][0]);
	}
	is_str(env_get(env.p, "ALERT_TEST_MARK", val, sizeof(val)), "kept",
	    "exec: the daemon's environment is passed on");
	unsetenv("DIFS_JOB");
	buf_free(&env);
	buf_free(&rep);
}

static void
test_exec_output_cap(void)
{
	const char *argv[] = { "sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo 0123456789; "
	    "i=$((i+1)); done", NULL };
	struct conf_alert a = { .events = 1, .exec = argv, .nexec = 3 };
	struct buf rep;
	size_t lines = 0;
	const char *p;

	buf_init(&rep, BUF_MAX_DOC);
	is_rc(alert_deliver(&a, &ev, NULL, &rep), 0, "exec: 33,000 bytes of output");
	for (p = rep.p; (p = strstr(p, "  0123456789\n")) != NULL; p++)
		lines++;
	ok(lines >= 370 && lines <= ALERT_OUTPUT_MAX / 11, "exec: only the first %d bytes kept (%zu lines)",
	    ALERT_OUTPUT_MAX, lines);
	ok(has(&rep, "[output truncated: 33000 bytes, the first 4096 kept]"), "exec: truncation said");
	buf_free(&rep);
}

static void
test_exec_nocmd(void)
{
	const char *argv1[] = { "difs-no-such-command-xyzzy", "x", NULL };
	const char *argv2[] = { "/nonexistent/dir/cmd", NULL };
	struct conf_alert a = { .events = 1, .exec = argv1, .nexec = 2 };
	struct buf rep;

	buf_init(&rep, BUF_MAX_DOC);
	is_rc(alert_deliver(&a, &ev, NULL, &rep), ENG_EINVAL, "exec: a command not on PATH");
	ok(has(&rep, "alert exhausted: exec difs-no-such-command-xyzzy: cannot start: "
	    "No such file or directory\n"), "exec: 'cannot start' with the reason");
	buf_reset(&rep);
	a.exec = argv2;
	a.nexec = 1;
	is_rc(alert_deliver(&a, &ev, NULL, &rep), ENG_EINVAL, "exec: an absolute path that is not there");
	ok(has(&rep, "exec /nonexistent/dir/cmd: cannot start: No such file or directory"),
	    "exec: named in the report");
	buf_free(&rep);
}

static void
test_exec_timeout(void)
{
	const char *argv[] = { "sleep", "30", NULL };
	char script[512], pids[512], bgpid[512];
	const char *argv2[3];
	struct conf_alert a = { .events = 1, .exec = argv, .nexec = 2 };
	struct alert_opts o = { .exec_timeout_ms = 300 };
	struct buf rep;
	int64_t t0, dt;
	pid_t p1, p2;

	buf_init(&rep, BUF_MAX_DOC);
	t0 = mono_ms();
	is_rc(alert_deliver(&a, &ev, &o, &rep), -ETIMEDOUT, "exec: sleep 30 over a 300 ms limit");
	dt = mono_ms() - t0;
	ok(dt >= 300 && dt < 2000, "exec: returned after %lld ms", (long long)dt);
	ok(has(&rep, "alert exhausted: exec sleep: killed after 300 ms\n"), "exec: 'killed after' reported");
	errno = 0;
	ok(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "exec: no child left (reaped)");

	/* a shell that started a background process: the whole group dies */
	snprintf(script, sizeof(script), "%s/bg.sh", tmpdir);
	snprintf(pids, sizeof(pids), "%s/pid", tmpdir);
	snprintf(bgpid, sizeof(bgpid), "%s/bgpid", tmpdir);
	{
		char text[2048];

		snprintf(text, sizeof(text), "#!/bin/sh\nsleep 30 &\necho $! > '%s'\n"
		    "echo $$ > '%s'\necho started\nwait\n", bgpid, pids);
		write_file(script, text, 0755);
	}
	argv2[0] = script;
	argv2[1] = NULL;
	a.exec = argv2;
	a.nexec = 1;
	buf_reset(&rep);
	t0 = mono_ms();
	is_rc(alert_deliver(&a, &ev, &o, &rep), -ETIMEDOUT, "exec: shell + background sleep over the limit");
	dt = mono_ms() - t0;
	ok(dt < 2000, "exec: returned after %lld ms", (long long)dt);
	ok(has(&rep, "\n  started\n"), "exec: output before the kill is kept");
	p1 = read_pid(pids);
	p2 = read_pid(bgpid);
	ok(p1 > 0 && proc_gone(p1), "exec: the shell (%d) is gone", (int)p1);
	ok(p2 > 0 && proc_gone(p2), "exec: its background sleep (%d) is gone too", (int)p2);
	buf_free(&rep);
}

/* ---- webhook ------------------------------------------------------------------- */

static void
check_body(struct hook_srv *s)
{
	static const char *strs[][2] = {
		{ "event", "exhausted" },
		{ "job", "orders" },
		{ "cycle", "20240301T1200" },
		{ "state", "FAILED" },
		{ "reason", "attempt 3 of 3 failed" },
		{ "error", "cannot connect to remote service" },
		{ "window_start", "2024-03-01T12:00:00+08:00" },
		{ "window_end", "2024-03-01T12:05:00+08:00" },
		{ "time", "2024-03-01T12:07:31+08:00" },
		{ "instance", "instances/orders/20240301T1200" },
	};
	struct json_doc *doc = NULL;
	const struct json *root;
	double v = 0;
	size_t i;

	pthread_mutex_lock(&s->lock);
	is_str(s->method, "POST", "webhook: POST");
	is_str(s->ctype, "application/json", "webhook: Content-Type application/json");
	is_str(s->url, "/hook", "webhook: the path");
	is_int(json_parse(s->body.p, s->body.len, &doc, NULL), 0, "webhook: body is JSON: %s", s->body.p);
	pthread_mutex_unlock(&s->lock);
	root = json_doc_root(doc);
	is_int(json_type(root), JSON_OBJECT, "webhook: one object");
	is_int(json_size(root), 12, "webhook: 12 members");
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		is_str(json_str(json_get(root, strs[i][0])), strs[i][1], "webhook: %s", strs[i][0]);
	ok(json_num(json_get(root, "attempt"), &v) == 0 && v == 3, "webhook: attempt is the number 3");
	v = 0;
	ok(json_num(json_get(root, "attempts_allowed"), &v) == 0 && v == 3,
	    "webhook: attempts_allowed is the number 3");
	json_doc_free(doc);
}

static int
srv_requests(struct hook_srv *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->requests;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* the server answers st[0..n); the webhook must be delivered after tries */
static void
delivered(struct hook_srv *s, const struct conf_alert *a, const struct alert_opts *o,
    int n, const int *st, int tries)
{
	char want[512];
	struct buf rep;

	buf_init(&rep, BUF_MAX_DOC);
	hook_srv_script(s, n, st);
	is_rc(alert_deliver(a, &ev, o, &rep), 0, "webhook: HTTP %d after %d is delivered",
	    st[n - 1], n - 1);
	snprintf(want, sizeof(want), "alert exhausted: webhook %s: HTTP %d after %d %s\n",
	    a->webhook, st[n - 1], tries, tries == 1 ? "try" : "tries");
	is_str(rep.p, want, "webhook: the report line");
	is_int(srv_requests(s), tries, "webhook: %d requests", tries);
	check_body(s);
	buf_free(&rep);
}

static void
test_webhook(struct hook_srv *s)
{
	static const int ok200[] = { 200 }, fail1[] = { 500, 200 }, always[] = { 500 },
	    throttled[] = { 429, 204 }, notfound[] = { 404 };
	struct alert_opts o = { .webhook_tries = 3, .webhook_backoff_ms = 10,
	    .webhook_timeout_ms = 5000 };
	struct conf_alert a = { .events = 1 };
	char url[256], want[512];
	struct buf rep;
	int64_t t0;

	buf_init(&rep, BUF_MAX_DOC);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", (unsigned)s->port);
	a.webhook = url;

	delivered(s, &a, &o, 1, ok200, 1);
	delivered(s, &a, &o, 2, fail1, 2);

	buf_reset(&rep);
	hook_srv_script(s, 2, throttled);
	is_rc(alert_deliver(&a, &ev, &o, &rep), 0, "webhook: 429 then 204 is delivered");
	ok(has(&rep, "HTTP 204 after 2 tries\n"), "webhook: any 2xx counts");

	buf_reset(&rep);
	hook_srv_script(s, 1, always);
	is_rc(alert_deliver(&a, &ev, &o, &rep), ENG_EREMOTE, "webhook: always 500 fails");
	is_int(srv_requests(s), 3, "webhook: webhook_tries (3) requests in all");
	snprintf(want, sizeof(want), "alert exhausted: webhook %s: not delivered after 3 tries: HTTP 500\n",
	    url);
	is_str(rep.p, want, "webhook: the failure line");

	buf_reset(&rep);
	hook_srv_script(s, 1, notfound);
	is_rc(alert_deliver(&a, &ev, &o, &rep), ENG_EREMOTE, "webhook: 404 fails");
	is_int(srv_requests(s), 1, "webhook: a 4xx is not retried");
	ok(has(&rep, "not delivered after 1 try: HTTP 404\n"), "webhook: 404 reported");

	/* userinfo and query never reach the report */
	buf_reset(&rep);
	hook_srv_script(s, 1, ok200);
	snprintf(url, sizeof(url), "http://alice:pa55word@127.0.0.1:%u/hook?token=t0ps3cret#frag",
	    (unsigned)s->port);
	is_rc(alert_deliver(&a, &ev, &o, &rep), 0, "webhook: URL with user:pass@ and ?token=");
	snprintf(want, sizeof(want), "alert exhausted: webhook http://127.0.0.1:%u/hook: HTTP 200 after 1 try\n",
	    (unsigned)s->port);
	is_str(rep.p, want, "webhook: the URL shown without userinfo and query");
	pthread_mutex_lock(&s->lock);
	ok(strncmp(s->auth, "Basic ", 6) == 0, "webhook: the userinfo went as Basic auth");
	pthread_mutex_unlock(&s->lock);

	/* connection refused, with secrets in the URL: the transport's
	 * message must not bring them back */
	buf_reset(&rep);
	snprintf(url, sizeof(url), "http://alice:pa55word@127.0.0.1:%u/hook?token=t0ps3cret",
	    (unsigned)loopback_free_port());
	t0 = mono_ms();
	is_rc(alert_deliver(&a, &ev, &o, &rep), ENG_EREMOTE, "webhook: connection refused fails");
	ok(mono_ms() - t0 < 3000, "webhook: quickly (small backoff)");
	ok(has(&rep, "not delivered after 3 tries: "), "webhook: retried, then reported");
	printf("# %s", rep.p);
	ok(lacks(&rep, "alice") && lacks(&rep, "pa55word") && lacks(&rep, "t0ps3cret") &&
	    lacks(&rep, "token"), "webhook: no userinfo or query in the failure");
	buf_free(&rep);
}

static void
test_both(struct hook_srv *s)
{
	static const int ok200[] = { 200 };
	const char *argv[] = { "sh", "-c", "echo \"$DIFS_EVENT for $DIFS_INSTANCE\"", NULL };
	const char *bad[] = { "difs-no-such-command-xyzzy", NULL };
	struct alert_opts o = { .webhook_tries = 2, .webhook_backoff_ms = 10 };
	struct conf_alert a = { .events = 1, .exec = argv, .nexec = 3 };
	char url[256], want[512];
	struct buf rep;
	const char *nl;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", (unsigned)s->port);
	a.webhook = url;
	buf_init(&rep, BUF_MAX_DOC);
	hook_srv_script(s, 1, ok200);
	is_rc(alert_deliver(&a, &ev, &o, &rep), 0, "both: exec and webhook delivered");
	snprintf(want, sizeof(want), "alert exhausted: exec sh: exit status 0\n"
	    "  exhausted for instances/orders/20240301T1200\n"
	    "alert exhausted: webhook %s: HTTP 200 after 1 try\n", url);
	is_str(rep.p, want, "both: one line per channel, the output under the exec line");
	is_int(srv_requests(s), 1, "both: the webhook was posted");
	check_body(s);

	/* the command cannot start: the webhook still goes, the rc says exec */
	buf_reset(&rep);
	hook_srv_script(s, 1, ok200);
	a.exec = bad;
	a.nexec = 1;
	is_rc(alert_deliver(&a, &ev, &o, &rep), ENG_EINVAL, "both: exec failure is the result");
	is_int(srv_requests(s), 1, "both: the webhook was posted anyway");
	nl = strchr(rep.p, '\n');
	ok(nl != NULL && strstr(nl, "webhook") != NULL && has(&rep, "HTTP 200 after 1 try"),
	    "both: the webhook line follows");
	buf_free(&rep);
}

int
main(void)
{
	struct hook_srv s;
	char cmd[600];
	const char *td = getenv("TMPDIR");

	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof(tmpdir), "%s/difs-test-alert-XXXXXX",
	    td != NULL && *td != '\0' ? td : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp %s: %s\n", tmpdir, strerror(errno));
		return 1;
	}
	test_exec_env();
	test_exec_output_cap();
	test_exec_nocmd();
	test_exec_timeout();
	if (hook_srv_start(&s) != 0) {
		printf("Bail out! cannot start the libmicrohttpd server\n");
		return 1;
	}
	test_webhook(&s);
	test_both(&s);
	hook_srv_stop(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return done_testing();
}
