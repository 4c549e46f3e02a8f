/* SPDX-License-Identifier: MIT */
/*
 * alert.c - deliver one alert: run schedule.alert.exec and/or POST
 * schedule.alert.webhook, and write what happened into the report.
 *
 * The command is started with posix_spawnp (the daemon is multithreaded,
 * so no fork() and no shell), in a process group of its own so that a
 * timeout kills whatever it started too.  Its output is text from an
 * arbitrary program that lands in the instance log, so control characters
 * are escaped and every line is indented: nothing it prints can pose as a
 * log line of difs.
 *
 * The webhook uses the engine/http transport (TLS always verified) with the
 * retry rules of the service clients: a connection error, a 5xx or a 429
 * is tried again after a full-jitter backoff, any 2xx is delivered.  The
 * URL in the report loses its userinfo and query (either may be a token).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "err.h"
#include "http.h"
#include "json.h"

extern char **environ;

#define ALERT_EXEC_TIMEOUT_MS	30000
#define ALERT_TRIES		3
#define ALERT_BACKOFF_MS	1000
#define ALERT_BACKOFF_MAX_MS	30000
#define ALERT_TIMEOUT_MS	10000
#define ALERT_TICK_MS		50	/* waitpid poll while the pipe is open */

static const char *
alert_s(const char *s)
{
	return s != NULL ? s : "";
}

/*
 * Append s[0..n) with every control character but \n and \t as \xHH, each
 * line after a newline starting with indent (NULL: none).
 */
static int
alert_put_text(struct buf *b, const char *s, size_t n, const char *indent)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (indent != NULL && (i == 0 || s[i - 1] == '\n'))
			buf_addstr(b, indent);
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_addc(b, (char)c);
	}
	return b->err;
}

static int64_t
alert_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
alert_sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* "30 s" or "300 ms" */
static void
alert_fmt_ms(char *out, size_t n, int ms)
{
	if (ms >= 1000 && ms % 1000 == 0)
		snprintf(out, n, "%d s", ms / 1000);
	else
		snprintf(out, n, "%d ms", ms);
}

/* ---- exec ----------------------------------------------------------------- */

/* The DIFS_* variables, in the order of alert.h. */
static const char *const alert_vars[] = {
	"DIFS_EVENT", "DIFS_JOB", "DIFS_CYCLE", "DIFS_STATE", "DIFS_REASON",
	"DIFS_ERROR", "DIFS_ATTEMPT", "DIFS_ATTEMPTS_ALLOWED",
	"DIFS_WINDOW_START", "DIFS_WINDOW_END", "DIFS_TIME", "DIFS_INSTANCE",
};
#define ALERT_NVARS	(sizeof(alert_vars) / sizeof(alert_vars[0]))

/* is environ entry e one of ours (then ours replaces it)? */
static int
alert_is_ours(const char *e)
{
	size_t i, n;

	for (i = 0; i < ALERT_NVARS; i++) {
		n = strlen(alert_vars[i]);
		if (strncmp(e, alert_vars[i], n) == 0 && e[n] == '=')
			return 1;
	}
	return 0;
}

/* environ + the DIFS_* facts; every string in *mem (one buffer) */
static int
alert_env(const struct alert_event *ev, char ***envp, char **mem)
{
	const char *val[ALERT_NVARS];
	char attempt[16], allowed[16];
	size_t nenv, i, k, off[ALERT_NVARS];
	struct buf b;
	char **env;

	snprintf(attempt, sizeof(attempt), "%d", ev->attempt);
	snprintf(allowed, sizeof(allowed), "%d", ev->attempts_allowed);
	val[0] = ev->event;
	val[1] = ev->job;
	val[2] = ev->cycle;
	val[3] = ev->state;
	val[4] = ev->reason;
	val[5] = ev->error;
	val[6] = attempt;
	val[7] = allowed;
	val[8] = ev->window_start;
	val[9] = ev->window_end;
	val[10] = ev->time;
	val[11] = NULL;		/* DIFS_INSTANCE, below */
	buf_init(&b, BUF_MAX_SMALL);
	for (i = 0; i < ALERT_NVARS; i++) {
		off[i] = b.len;
		if (i == 11)
			buf_printf(&b, "%s=instances/%s/%s", alert_vars[i],
			    alert_s(ev->job), alert_s(ev->cycle));
		else
			buf_printf(&b, "%s=%s", alert_vars[i], alert_s(val[i]));
		buf_addc(&b, '\0');
	}
	if (b.err != 0) {
		int rc = b.err;

		buf_free(&b);
		return rc;
	}
	for (nenv = 0; environ != NULL && environ[nenv] != NULL; nenv++)
		;
	if ((env = calloc(nenv + ALERT_NVARS + 1, sizeof(*env))) == NULL) {
		buf_free(&b);
		return -ENOMEM;
	}
	for (i = 0, k = 0; i < nenv; i++)
		if (!alert_is_ours(environ[i]))
			env[k++] = environ[i];
	*mem = buf_take(&b, NULL);
	if (*mem == NULL) {
		free(env);
		return -ENOMEM;
	}
	for (i = 0; i < ALERT_NVARS; i++)
		env[k++] = *mem + off[i];
	env[k] = NULL;
	*envp = env;
	return 0;
}

/*
 * Start argv with stdin /dev/null and stdout+stderr into wfd, in a new
 * process group, signals at their defaults and unblocked (the daemon's
 * threads block some; a child must not inherit that).  0 or a positive
 * errno from posix_spawnp.
 */
static int
alert_spawn(char *const argv[], char *const env[], int wfd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int err;

	if ((err = posix_spawn_file_actions_init(&fa)) != 0)
		return err;
	if ((err = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return err;
	}
	sigemptyset(&none);
	sigfillset(&dfl);
	sigdelset(&dfl, SIGKILL);
	sigdelset(&dfl, SIGSTOP);
	if ((err = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) == 0 &&
	    (err = posix_spawn_file_actions_adddup2(&fa, wfd, 1)) == 0 &&
	    (err = posix_spawn_file_actions_adddup2(&fa, wfd, 2)) == 0 &&
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	    /* a descriptor of the daemon without O_CLOEXEC (the FUSE device
	     * above all) must not live on in a command that may outlive us */
	    (err = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) == 0 &&
#endif
	    (err = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) == 0 &&
	    (err = posix_spawnattr_setpgroup(&at, 0)) == 0 &&
	    (err = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (err = posix_spawnattr_setsigdefault(&at, &dfl)) == 0)
		err = posix_spawnp(pid, argv[0], &fa, &at, argv, env);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return err;
}

/* read what is there into out (first ALERT_OUTPUT_MAX bytes); 1 at EOF */
static int
alert_read(int fd, struct buf *out, size_t *total)
{
	char tmp[4096];
	ssize_t n;

	n = read(fd, tmp, sizeof(tmp));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : 1;
	if (n == 0)
		return 1;
	if (*total < ALERT_OUTPUT_MAX) {
		size_t keep = (size_t)n;

		if (keep > ALERT_OUTPUT_MAX - *total)
			keep = ALERT_OUTPUT_MAX - *total;
		buf_add(out, tmp, keep);
	}
	*total += (size_t)n;
	return 0;
}

/*
 * Collect the output of pid from rfd until it exits (and the pipe is
 * drained) or timeout_ms passes; then its process group is killed.
 * Returns 1 when killed, 0 otherwise; *status is waitpid's.
 */
static int
alert_collect(pid_t pid, int rfd, int timeout_ms, struct buf *out,
    size_t *total, int *status)
{
	int64_t deadline = alert_mono_ms() + timeout_ms;
	bool exited = false, eof = false;
	int killed = 0;

	for (;;) {
		struct pollfd pfd = { .fd = rfd, .events = POLLIN };
		int64_t left;
		int r;

		if (!exited) {
			r = waitpid(pid, status, WNOHANG);
			if (r == pid || (r < 0 && errno == ECHILD))
				exited = true;
		}
		if (exited && eof)
			break;
		left = deadline - alert_mono_ms();
		if (!exited && left <= 0) {
			kill(-pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			exited = true;
			killed = 1;
		}
		if (eof) {
			alert_sleep_ms(left < ALERT_TICK_MS ? left : ALERT_TICK_MS);
			continue;
		}
		/*
		 * Once it exited, only drain what is already in the pipe: a
		 * background process it left may hold the pipe open forever.
		 */
		r = poll(&pfd, 1, exited ? 0 : (int)(left < ALERT_TICK_MS ? left : ALERT_TICK_MS));
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0)
			eof = alert_read(rfd, out, total) != 0;
		else if (r == 0 && exited)
			break;
	}
	return killed;
}

static int
alert_exec(const struct conf_alert *a, const struct alert_event *ev,
    int timeout_ms, struct buf *report)
{
	struct buf out;
	char **env = NULL, *mem = NULL, **argv = NULL, tbuf[32];
	size_t i, total = 0;
	int p[2] = { -1, -1 }, rc, err, status = 0;
	pid_t pid;

	buf_init(&out, ALERT_OUTPUT_MAX);
	buf_printf(report, "alert %s: exec ", alert_s(ev->event));
	alert_put_text(report, a->exec[0], strlen(a->exec[0]), NULL);
	buf_addstr(report, ": ");
	if ((rc = alert_env(ev, &env, &mem)) != 0)
		goto out;
	/* posix_spawnp wants char *const []; the strings are not written to */
	if ((argv = calloc(a->nexec + 1, sizeof(*argv))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < a->nexec; i++)
		argv[i] = (char *)(uintptr_t)a->exec[i];
	if (pipe2(p, O_CLOEXEC) != 0) {
		err = errno;
		buf_printf(report, "cannot start: %s\n", strerror(err));
		rc = -err;
		goto out;
	}
	err = alert_spawn(argv, env, p[1], &pid);
	close(p[1]);
	p[1] = -1;
	if (err != 0) {
		buf_printf(report, "cannot start: %s\n", strerror(err));
		rc = ENG_EINVAL;
		goto out;
	}
	if (alert_collect(pid, p[0], timeout_ms, &out, &total, &status)) {
		alert_fmt_ms(tbuf, sizeof(tbuf), timeout_ms);
		buf_printf(report, "killed after %s\n", tbuf);
		rc = -ETIMEDOUT;
	} else if (WIFEXITED(status)) {
		buf_printf(report, "exit status %d\n", WEXITSTATUS(status));
		rc = 0;
	} else if (WIFSIGNALED(status)) {
		buf_printf(report, "killed by signal %d\n", WTERMSIG(status));
		rc = 0;
	}
	if (out.len > 0) {
		alert_put_text(report, out.p, out.len, "  ");
		if (out.p[out.len - 1] != '\n')
			buf_addc(report, '\n');
	}
	if (total > ALERT_OUTPUT_MAX)
		buf_printf(report, "  [output truncated: %zu bytes, the first %d kept]\n",
		    total, ALERT_OUTPUT_MAX);
out:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	free(argv);
	free(env);
	free(mem);
	buf_free(&out);
	if (rc == 0 && report->err != 0)
		rc = report->err;
	return rc;
}

/* ---- webhook -------------------------------------------------------------- */

/* url without userinfo, query and fragment (either may carry a secret) */
static void
alert_put_url(struct buf *b, const char *url)
{
	const char *sch = strstr(url, "://");
	const char *auth, *end, *at;
	size_t alen;

	if (sch == NULL) {
		alert_put_text(b, url, strcspn(url, "?#"), NULL);
		return;
	}
	auth = sch + 3;
	alen = strcspn(auth, "/?#");
	alert_put_text(b, url, (size_t)(auth - url), NULL);
	for (at = NULL, end = auth; end < auth + alen; end++)
		if (*end == '@')
			at = end;
	if (at != NULL)
		auth = at + 1;
	alert_put_text(b, auth, (size_t)(end - auth), NULL);
	alert_put_text(b, end, strcspn(end, "?#"), NULL);
}

static int
alert_body(const struct alert_event *ev, struct buf *out)
{
	struct json *o = json_new_object();
	struct buf inst;
	int rc;

	if (o == NULL)
		return -ENOMEM;
	buf_init(&inst, BUF_MAX_SMALL);
	buf_printf(&inst, "instances/%s/%s", alert_s(ev->job), alert_s(ev->cycle));
	if ((rc = inst.err) == 0 &&
	    (rc = json_obj_add_str(o, "event", alert_s(ev->event))) == 0 &&
	    (rc = json_obj_add_str(o, "job", alert_s(ev->job))) == 0 &&
	    (rc = json_obj_add_str(o, "cycle", alert_s(ev->cycle))) == 0 &&
	    (rc = json_obj_add_str(o, "state", alert_s(ev->state))) == 0 &&
	    (rc = json_obj_add_str(o, "reason", alert_s(ev->reason))) == 0 &&
	    (rc = json_obj_add_str(o, "error", alert_s(ev->error))) == 0 &&
	    (rc = json_obj_add_int(o, "attempt", ev->attempt)) == 0 &&
	    (rc = json_obj_add_int(o, "attempts_allowed", ev->attempts_allowed)) == 0 &&
	    (rc = json_obj_add_str(o, "window_start", alert_s(ev->window_start))) == 0 &&
	    (rc = json_obj_add_str(o, "window_end", alert_s(ev->window_end))) == 0 &&
	    (rc = json_obj_add_str(o, "time", alert_s(ev->time))) == 0 &&
	    (rc = json_obj_add_str(o, "instance", inst.p)) == 0)
		rc = json_print(o, 0, out);
	buf_free(&inst);
	json_free(o);
	return rc;
}

/* a 2xx body is not wanted: drop it instead of bounding it */
static int
alert_discard(void *arg, const void *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
	return 0;
}

static bool
alert_conn_retryable(int rc)
{
	return rc == ENG_ECONN || rc == -ETIMEDOUT || rc == ENG_EPROTO ||
	    rc == -ECONNRESET || rc == -EPIPE;
}

/*
 * The transport's message is "POST URL: detail" with the URL as given but
 * for its query; the URL may hold userinfo, so keep only the detail.
 */
static const char *
alert_detail(const struct eng_errbuf *eb, const char *url, int rc)
{
	size_t ulen = strcspn(url, "?#");

	if (ulen > 200)
		ulen = 200;
	if (strncmp(eb->msg, "POST ", 5) == 0 && strncmp(eb->msg + 5, url, ulen) == 0 &&
	    strncmp(eb->msg + 5 + ulen, ": ", 2) == 0)
		return eb->msg + 5 + ulen + 2;
	return eng_strerror(rc);
}

static int
alert_webhook(const struct conf_alert *a, const struct alert_event *ev,
    const struct alert_opts *o, struct buf *report)
{
	int tries = o->webhook_tries > 0 ? o->webhook_tries : ALERT_TRIES;
	int backoff = o->webhook_backoff_ms > 0 ? o->webhook_backoff_ms : ALERT_BACKOFF_MS;
	int tmo = o->webhook_timeout_ms > 0 ? o->webhook_timeout_ms : ALERT_TIMEOUT_MS;
	static const struct http_hdr hdrs[] = {
		{ "Content-Type", "application/json" },
	};
	struct http_curl_config cfg;
	struct http_transport *t = NULL;
	struct http_response resp;
	struct http_request req;
	struct eng_errbuf eb;
	struct buf body;
	int rc, attempt, status = 0;

	buf_init(&body, BUF_MAX_SMALL);
	http_response_init(&resp);
	buf_printf(report, "alert %s: webhook ", alert_s(ev->event));
	alert_put_url(report, a->webhook);
	buf_addstr(report, ": ");
	if ((rc = alert_body(ev, &body)) != 0)
		goto out;
	memset(&cfg, 0, sizeof(cfg));
	cfg.timeout_ms = (uint32_t)tmo;
	cfg.connect_timeout_ms = (uint32_t)(tmo < 10000 ? tmo : 10000);
	if ((rc = http_curl_new(&cfg, &t)) != 0) {
		buf_printf(report, "cannot start: %s\n", eng_strerror(rc));
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = a->webhook;
	req.hdrs = hdrs;
	req.nhdrs = sizeof(hdrs) / sizeof(hdrs[0]);
	req.body = body.p;
	req.body_len = body.len;
	req.write_fn = alert_discard;
	req.timeout_ms = (uint32_t)tmo;
	for (attempt = 1;; attempt++) {
		bool retry;

		eb.msg[0] = '\0';
		rc = http_perform(t, &req, &resp, &eb);
		status = rc == 0 ? resp.status : 0;
		if (rc == 0 && status >= 200 && status < 300)
			break;
		retry = rc == 0 ? status >= 500 || status == 429 : alert_conn_retryable(rc);
		if (!retry || attempt >= tries)
			break;
		alert_sleep_ms((int64_t)http_backoff_ms((unsigned)(attempt - 1),
		    (uint64_t)backoff, ALERT_BACKOFF_MAX_MS, NULL, NULL));
	}
	if (rc == 0 && status >= 200 && status < 300) {
		buf_printf(report, "HTTP %d after %d %s\n", status, attempt,
		    attempt == 1 ? "try" : "tries");
	} else if (rc == -ENOMEM) {
		buf_addstr(report, "out of memory\n");
	} else {
		const char *why = alert_detail(&eb, a->webhook, rc);

		buf_printf(report, "not delivered after %d %s: ", attempt,
		    attempt == 1 ? "try" : "tries");
		if (rc == 0)
			buf_printf(report, "HTTP %d\n", status);
		else {
			alert_put_text(report, why, strlen(why), NULL);
			buf_addc(report, '\n');
		}
		rc = ENG_EREMOTE;
	}
out:
	http_transport_free(t);
	http_response_free(&resp);
	buf_free(&body);
	if (rc == 0 && report->err != 0)
		rc = report->err;
	return rc;
}

int
alert_deliver(const struct conf_alert *a, const struct alert_event *ev,
    const struct alert_opts *o, struct buf *report)
{
	static const struct alert_opts none;
	int rc = 0, r;

	if (a == NULL || ev == NULL || report == NULL)
		return -EINVAL;
	if (o == NULL)
		o = &none;
	if (a->exec != NULL && a->nexec > 0 && a->exec[0] != NULL) {
		r = alert_exec(a, ev, o->exec_timeout_ms > 0 ? o->exec_timeout_ms :
		    ALERT_EXEC_TIMEOUT_MS, report);
		if (r != 0)
			rc = r;
	}
	if (a->webhook != NULL) {
		r = alert_webhook(a, ev, o, report);
		/* the first failure names the result; out of memory wins */
		if (r != 0 && (rc == 0 || r == -ENOMEM))
			rc = r;
	}
	return rc;
}
