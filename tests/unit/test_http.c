/* SPDX-License-Identifier: MIT */
/*
 * test_http.c - the curl transport and the fault wrapper against a real
 * HTTP server (libmicrohttpd on 127.0.0.1, started inside the test), plus
 * the transport-independent helpers (query parsing, percent-encoding,
 * backoff).  The server counts TCP connections, so keep-alive reuse is
 * observed from the server side.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "crc64.h"
#include "err.h"
#include "http.h"
#include "http_fault.h"
#include "loopback.h"
#include "tap.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))
#define BIG	(1u << 20)

/* ---- the server ------------------------------------------------------------ */

struct srv {
	struct MHD_Daemon	*d;
	uint16_t		 port;
	pthread_mutex_t		 lock;
	unsigned		 conns;		/* TCP connections accepted */
	unsigned		 requests;	/* requests completed */
	char			 last_method[16];
	char			 last_test_hdr[128];
	uint64_t		 last_len;
	uint64_t		 last_crc;
	unsigned char		*big;
};

struct srv_req {
	uint64_t	len;
	uint64_t	crc;
};

static void
srv_notify(void *cls, struct MHD_Connection *c, void **sock_ctx,
    enum MHD_ConnectionNotificationCode toe)
{
	struct srv *s = cls;

	(void)c;
	(void)sock_ctx;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		pthread_mutex_lock(&s->lock);
		s->conns++;
		pthread_mutex_unlock(&s->lock);
	}
}

static void
srv_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

static ssize_t
srv_trickle(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)cls;
	if (pos >= 100)
		return MHD_CONTENT_READER_END_OF_STREAM;
	usleep(300 * 1000);
	if (max > 10)
		max = 10;
	memset(out, 't', max);
	return (ssize_t)max;
}

static enum MHD_Result
srv_send(struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
srv_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct srv *s = cls;
	struct srv_req *rq = *con_cls;
	struct MHD_Response *r;
	const char *th;
	char text[256], num[32];

	(void)version;
	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		rq->crc = crc64_update(rq->crc, upload, *upload_size);
		rq->len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	th = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Test");
	pthread_mutex_lock(&s->lock);
	s->requests++;
	snprintf(s->last_method, sizeof(s->last_method), "%s", method);
	snprintf(s->last_test_hdr, sizeof(s->last_test_hdr), "%s", th != NULL ? th : "");
	s->last_len = rq->len;
	s->last_crc = rq->crc;
	pthread_mutex_unlock(&s->lock);

	if (strncmp(url, "/status/", 8) == 0) {
		unsigned st = (unsigned)strtoul(url + 8, NULL, 10);

		snprintf(text, sizeof(text), "error body %u", st);
		r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
		if (r != NULL)
			MHD_add_response_header(r, "X-Oss-Request-Id", "req-42");
		return srv_send(c, st, r);
	}
	if (strcmp(url, "/slow") == 0)
		usleep(1500 * 1000);
	if (strcmp(url, "/big") == 0)
		return srv_send(c, 200, MHD_create_response_from_buffer(BIG, s->big,
		    MHD_RESPMEM_PERSISTENT));
	if (strcmp(url, "/trickle") == 0)
		return srv_send(c, 200, MHD_create_response_from_callback(100, 10,
		    srv_trickle, NULL, NULL));
	/* /echo and everything else */
	snprintf(text, sizeof(text), "method=%s len=%llu", method, (unsigned long long)rq->len);
	r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)rq->crc);
	MHD_add_response_header(r, "X-Body-Crc", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)rq->len);
	MHD_add_response_header(r, "X-Body-Len", num);
	MHD_add_response_header(r, "X-Echo-Test", th != NULL ? th : "");
	MHD_add_response_header(r, "X-Spaced", "  padded value  ");
	return srv_send(c, 200, r);
}

static int
srv_start(struct srv *s)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	size_t i;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	if ((s->big = malloc(BIG)) == NULL)
		return -1;
	for (i = 0; i < BIG; i++)
		s->big[i] = (unsigned char)(i * 31 + (i >> 8));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
	    0, NULL, NULL, srv_handler, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_CONNECTION, srv_notify, s,
	    MHD_OPTION_NOTIFY_COMPLETED, srv_completed, s,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_END);
	if (s->d == NULL)
		return -1;
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0)
		return -1;
	s->port = info->port;
	return 0;
}

static unsigned
srv_get(struct srv *s, unsigned *field)
{
	unsigned v;

	pthread_mutex_lock(&s->lock);
	v = *field;
	pthread_mutex_unlock(&s->lock);
	return v;
}

/* ---- client helpers --------------------------------------------------------- */

static char urlbuf[8][256];
static int urlnext;

static const char *
url(const struct srv *s, const char *path)
{
	char *u = urlbuf[urlnext++ % 8];

	snprintf(u, sizeof(urlbuf[0]), "http://127.0.0.1:%u%s", (unsigned)s->port, path);
	return u;
}

/* streamed body: byte i is a function of i, so any rewind reproduces it */
struct src {
	uint64_t	len;
	uint64_t	pos;
	unsigned	rewinds;
	uint64_t	fail_at;	/* return -EIO at this offset (0 = never) */
	uint64_t	short_at;	/* pretend EOF here (0 = never) */
};

static unsigned char
src_byte(uint64_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}

static ssize_t
src_read(void *arg, void *dst, size_t n)
{
	struct src *s = arg;
	unsigned char *d = dst;
	size_t i;

	if (s->fail_at != 0 && s->pos >= s->fail_at)
		return -EIO;
	if (s->short_at != 0 && s->pos >= s->short_at)
		return 0;
	if (n > s->len - s->pos)
		n = (size_t)(s->len - s->pos);
	for (i = 0; i < n; i++)
		d[i] = src_byte(s->pos + i);
	s->pos += n;
	return (ssize_t)n;
}

static int
src_rewind(void *arg)
{
	struct src *s = arg;

	s->pos = 0;
	s->rewinds++;
	return 0;
}

static uint64_t
src_crc(uint64_t len)
{
	unsigned char b[4096];
	uint64_t crc = 0, pos = 0;
	size_t i, n;

	while (pos < len) {
		n = len - pos < sizeof(b) ? (size_t)(len - pos) : sizeof(b);
		for (i = 0; i < n; i++)
			b[i] = src_byte(pos + i);
		crc = crc64_update(crc, b, n);
		pos += n;
	}
	return crc;
}

struct sink {
	uint64_t	len;
	uint64_t	crc;
	int		fail;	/* return this from the callback */
};

static int
sink_write(void *arg, const void *p, size_t n)
{
	struct sink *k = arg;

	if (k->fail != 0)
		return k->fail;
	k->crc = crc64_update(k->crc, p, n);
	k->len += n;
	return 0;
}

static uint64_t
resp_u64(const struct http_response *r, const char *name)
{
	const char *v = http_response_header(r, name);

	return v != NULL ? strtoull(v, NULL, 10) : UINT64_MAX;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- tests ------------------------------------------------------------------- */

static struct http_transport *
new_curl(void)
{
	struct http_curl_config cfg;
	struct http_transport *t = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.proxy = "";		/* never go through an environment proxy */
	cfg.connect_timeout_ms = 2000;
	cfg.timeout_ms = 20000;
	if (http_curl_new(&cfg, &t) != 0) {
		printf("Bail out! http_curl_new\n");
		exit(1);
	}
	return t;
}

static void
test_basic(struct srv *s)
{
	struct http_transport *t = new_curl();
	struct http_hdr h[] = { { "X-Test", "hello world" }, { "X-Empty", "" } };
	struct http_request req;
	struct http_response resp;
	struct eng_errbuf eb;
	unsigned c0;
	int i, rc;

	http_response_init(&resp);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url(s, "/echo");
	req.hdrs = h;
	req.nhdrs = N(h);
	rc = http_perform(t, &req, &resp, &eb);
	is_rc(rc, 0, "GET /echo");
	is_int(resp.status, 200, "status 200");
	is_str(resp.body.p, "method=GET len=0", "body received");
	is_str(srv_get(s, &s->requests) ? s->last_test_hdr : NULL, "hello world",
	    "request header arrived at the server");
	is_str(http_response_header(&resp, "x-echo-test"), "hello world",
	    "case-insensitive response header lookup");
	is_str(http_response_header(&resp, "X-SPACED"), "padded value", "header value trimmed");
	ok(http_response_header(&resp, "X-Not-There") == NULL, "absent header is NULL");

	/* keep-alive: five more requests on the same transport, same connection */
	c0 = srv_get(s, &s->conns);
	for (i = 0; i < 5; i++)
		rc |= http_perform(t, &req, &resp, NULL);
	is_rc(rc, 0, "five more GETs");
	is_int(srv_get(s, &s->conns) - c0, 0, "keep-alive: no new connection for 5 requests");

	/* HEAD */
	req.method = "HEAD";
	is_rc(http_perform(t, &req, &resp, NULL), 0, "HEAD");
	is_int(resp.status, 200, "HEAD status");
	is_int(resp.body.len, 0, "HEAD has no body");
	is_str(s->last_method, "HEAD", "server saw HEAD");

	/* DELETE, and POST without a body (Content-Length: 0) */
	req.method = "DELETE";
	is_rc(http_perform(t, &req, &resp, NULL), 0, "DELETE");
	is_str(resp.body.p, "method=DELETE len=0", "DELETE arrives");
	req.method = "POST";
	is_rc(http_perform(t, &req, &resp, NULL), 0, "POST without body");
	is_str(resp.body.p, "method=POST len=0", "empty POST arrives");

	/* PUT from memory */
	req.method = "PUT";
	req.body = "0123456789";
	req.body_len = 10;
	is_rc(http_perform(t, &req, &resp, NULL), 0, "PUT from memory");
	is_str(resp.body.p, "method=PUT len=10", "PUT body length");
	ok(resp_u64(&resp, "X-Body-Crc") == crc64_compute("0123456789", 10), "PUT body bytes");
	is_int(srv_get(s, &s->conns) - c0, 0, "still one connection after HEAD/DELETE/POST/PUT");

	/* an error status is a success at this layer */
	req.method = "GET";
	req.body = NULL;
	req.body_len = 0;
	req.url = url(s, "/status/503");
	is_rc(http_perform(t, &req, &resp, NULL), 0, "503 is returned, not an error");
	is_int(resp.status, 503, "status 503");
	is_str(resp.body.p, "error body 503", "error body kept");
	is_str(http_response_header(&resp, "x-oss-request-id"), "req-42", "error headers kept");

	/* header injection is refused */
	h[0].value = "a\r\nX-Evil: 1";
	req.url = url(s, "/echo");
	is_rc(http_perform(t, &req, &resp, &eb), ENG_EINVAL, "CR/LF in a header value refused");
	h[0].value = "hello world";

	/* clone: an independent handle, hence a new connection */
	{
		struct http_transport *t2 = NULL;

		c0 = srv_get(s, &s->conns);
		is_rc(http_clone(t, &t2), 0, "clone");
		is_rc(http_perform(t2, &req, &resp, NULL), 0, "GET on the clone");
		is_int(srv_get(s, &s->conns) - c0, 1, "clone opens its own connection");
		http_transport_free(t2);
	}
	http_response_free(&resp);
	http_transport_free(t);
}

static void
test_streams(struct srv *s)
{
	struct http_transport *t = new_curl();
	struct src src = { 3u << 20, 0, 0, 0, 0 };
	struct sink sink = { 0, 0, 0 };
	struct http_request req;
	struct http_response resp;
	struct eng_errbuf eb;

	http_response_init(&resp);
	memset(&req, 0, sizeof(req));
	req.method = "PUT";
	req.url = url(s, "/echo");
	req.body_len = src.len;
	req.read_fn = src_read;
	req.rewind_fn = src_rewind;
	req.read_arg = &src;
	is_rc(http_perform(t, &req, &resp, &eb), 0, "PUT 3 MiB from a callback");
	is_int(resp.status, 200, "status");
	ok(resp_u64(&resp, "X-Body-Len") == src.len, "server got 3 MiB");
	ok(resp_u64(&resp, "X-Body-Crc") == src_crc(src.len), "server got the exact bytes");

	/* callback error passes through */
	src.fail_at = 1u << 20;
	is_rc(http_perform(t, &req, &resp, &eb), -EIO, "read callback error returned");
	src.fail_at = 0;
	/* a body shorter than announced */
	src.short_at = 1000;
	is_rc(http_perform(t, &req, &resp, &eb), -EIO, "short body is an error");
	src.short_at = 0;
	/* and the transport still works afterwards */
	is_rc(http_perform(t, &req, &resp, &eb), 0, "next PUT fine");
	ok(resp_u64(&resp, "X-Body-Crc") == src_crc(src.len), "bytes right after errors");

	/* download: bounded buffer, then streamed */
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url(s, "/big");
	req.max_body = 1000;
	is_rc(http_perform(t, &req, &resp, &eb), -E2BIG, "body over max_body");
	req.max_body = BIG;
	is_rc(http_perform(t, &req, &resp, &eb), 0, "body at max_body");
	ok(resp.body.len == BIG && crc64_compute(resp.body.p, BIG) == crc64_compute(s->big, BIG),
	    "1 MiB into the buffer");
	req.write_fn = sink_write;
	req.write_arg = &sink;
	is_rc(http_perform(t, &req, &resp, &eb), 0, "streamed download");
	ok(sink.len == BIG && sink.crc == crc64_compute(s->big, BIG), "1 MiB via write_fn");
	is_int(resp.body.len, 0, "nothing in the buffer when streaming");
	sink.fail = -ENOSPC;
	is_rc(http_perform(t, &req, &resp, &eb), -ENOSPC, "write callback error returned");
	sink.fail = 0;
	/* non-2xx bodies go to the buffer even when streaming */
	sink.len = 0;
	req.url = url(s, "/status/404");
	is_rc(http_perform(t, &req, &resp, &eb), 0, "404 while streaming");
	is_str(resp.body.p, "error body 404", "error body in the buffer");
	is_int(sink.len, 0, "sink untouched by an error body");

	http_response_free(&resp);
	http_transport_free(t);
}

static void
test_errors(struct srv *s)
{
	struct http_transport *t = new_curl(), *tb = NULL;
	struct http_curl_config cfg;
	struct http_request req;
	struct http_response resp;
	struct eng_errbuf eb;
	char u[256];
	double t0;

	http_response_init(&resp);
	memset(&req, 0, sizeof(req));
	req.method = "GET";

	snprintf(u, sizeof(u), "http://127.0.0.1:%u/x?Signature=SECRETSIG", (unsigned)loopback_free_port());
	req.url = u;
	memset(&eb, 0, sizeof(eb));
	is_rc(http_perform(t, &req, &resp, &eb), ENG_ECONN, "connection refused -> ENG_ECONN");
	ok(strstr(eb.msg, "127.0.0.1") != NULL, "message names the host: %s", eb.msg);
	ok(strstr(eb.msg, "SECRETSIG") == NULL, "message has no query string");

	req.url = url(s, "/slow");
	req.timeout_ms = 300;
	t0 = now_ms();
	is_rc(http_perform(t, &req, &resp, &eb), -ETIMEDOUT, "total timeout -> -ETIMEDOUT");
	ok(now_ms() - t0 < 1400, "gave up before the server answered");
	req.timeout_ms = 0;

	memset(&cfg, 0, sizeof(cfg));
	cfg.proxy = "";
	cfg.low_speed_bytes = 1000;
	cfg.low_speed_secs = 1;
	is_rc(http_curl_new(&cfg, &tb), 0, "low-speed transport");
	req.url = url(s, "/trickle");
	is_rc(http_perform(tb, &req, &resp, &eb), -ETIMEDOUT, "below low-speed limit -> -ETIMEDOUT");
	http_transport_free(tb);

	snprintf(u, sizeof(u), "https://127.0.0.1:%u/echo", (unsigned)s->port);
	req.url = u;
	is_rc(http_perform(t, &req, &resp, &eb), ENG_ETLS, "TLS to a plain server -> ENG_ETLS");
	memset(&cfg, 0, sizeof(cfg));
	cfg.proxy = "";
	cfg.ca_file = "/nonexistent/ca.pem";
	is_rc(http_curl_new(&cfg, &tb), 0, "transport with a missing CA file");
	is_rc(http_perform(tb, &req, &resp, &eb), ENG_ETLS, "missing CA bundle -> ENG_ETLS");
	http_transport_free(tb);

	req.url = "ftp://127.0.0.1/x";
	is_rc(http_perform(t, &req, &resp, &eb), ENG_EINVAL, "non-http scheme refused");
	req.url = url(s, "/echo");
	req.method = "get";
	is_rc(http_perform(t, &req, &resp, &eb), ENG_EINVAL, "bad method refused");

	http_response_free(&resp);
	http_transport_free(t);
}

static void
test_fault(struct srv *s)
{
	struct http_transport *curl = new_curl(), *t = NULL, *t2 = NULL;
	struct http_hdr fh[] = { { "x-oss-request-id", "fault-1" } };
	struct src src = { 2u << 20, 0, 0, 0, 0 };
	struct http_fault_rule rule;
	struct http_request req;
	struct http_response resp;
	struct eng_errbuf eb;
	unsigned r0;
	double t0;

	http_response_init(&resp);
	is_rc(http_fault_new(curl, true, &t), 0, "fault wrapper");
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url(s, "/echo");

	/* fail call 3 with a 503 */
	memset(&rule, 0, sizeof(rule));
	rule.kind = HTTP_FAULT_STATUS;
	rule.skip = 2;
	rule.count = 1;
	rule.status = 503;
	rule.body = "ServerBusy";
	rule.hdrs = fh;
	rule.nhdrs = N(fh);
	is_rc(http_fault_add(t, &rule), 0, "rule: third call gets 503");
	r0 = srv_get(s, &s->requests);
	http_perform(t, &req, &resp, NULL);
	is_int(resp.status, 200, "call 1 passes");
	http_perform(t, &req, &resp, NULL);
	is_int(resp.status, 200, "call 2 passes");
	is_rc(http_perform(t, &req, &resp, NULL), 0, "call 3 returns");
	is_int(resp.status, 503, "call 3 injected 503");
	is_str(resp.body.p, "ServerBusy", "injected body");
	is_str(http_response_header(&resp, "X-OSS-Request-Id"), "fault-1", "injected header");
	http_perform(t, &req, &resp, NULL);
	is_int(resp.status, 200, "call 4 passes again");
	is_int(srv_get(s, &s->requests) - r0, 3, "injected call never reached the server");
	is_int(http_fault_calls(t), 4, "4 calls counted");
	is_int(http_fault_fired(t), 1, "1 fault fired");

	/* matching requests: PUT to /status/ paths only, twice; connection errors */
	http_fault_clear(t);
	memset(&rule, 0, sizeof(rule));
	rule.kind = HTTP_FAULT_CONN;
	rule.method = "PUT";
	rule.url_substr = "/echo";
	rule.count = 2;
	is_rc(http_fault_add(t, &rule), 0, "rule: PUT /echo -> conn error x2");
	is_rc(http_perform(t, &req, &resp, NULL), 0, "GET not matched");
	req.method = "PUT";
	req.body = "abc";
	req.body_len = 3;
	is_rc(http_perform(t, &req, &resp, &eb), ENG_ECONN, "PUT matched: ENG_ECONN");
	is_rc(http_perform(t, &req, &resp, &eb), ENG_ECONN, "PUT matched again");
	is_rc(http_perform(t, &req, &resp, &eb), 0, "count exhausted: PUT passes");
	is_str(resp.body.p, "method=PUT len=3", "real answer");

	/* lost response + rewind on retry of a streamed body */
	http_fault_clear(t);
	memset(&rule, 0, sizeof(rule));
	rule.kind = HTTP_FAULT_LOST;
	rule.count = 1;
	rule.rc = -ECONNRESET;
	is_rc(http_fault_add(t, &rule), 0, "rule: lose the first answer");
	req.body = NULL;
	req.body_len = src.len;
	req.read_fn = src_read;
	req.rewind_fn = src_rewind;
	req.read_arg = &src;
	r0 = srv_get(s, &s->requests);
	is_rc(http_perform(t, &req, &resp, &eb), -ECONNRESET, "answer lost");
	is_int(srv_get(s, &s->requests) - r0, 1, "but the server handled it");
	ok(src.pos == src.len, "whole body was read once");
	src.pos = 12345;	/* as if a retry started mid-stream */
	is_rc(http_perform(t, &req, &resp, &eb), 0, "retry of the same request");
	ok(src.rewinds >= 2, "body rewound before each send (%u)", src.rewinds);
	ok(resp_u64(&resp, "X-Body-Crc") == src_crc(src.len), "retry sent the exact body");

	/* latency, and clones share the counters */
	http_fault_clear(t);
	memset(&rule, 0, sizeof(rule));
	rule.kind = HTTP_FAULT_LATENCY;
	rule.latency_ms = 200;
	rule.count = 1;
	is_rc(http_fault_add(t, &rule), 0, "rule: 200 ms latency once");
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url(s, "/echo");
	is_rc(http_clone(t, &t2), 0, "clone the wrapper");
	t0 = now_ms();
	is_rc(http_perform(t2, &req, &resp, NULL), 0, "GET via the clone");
	ok(now_ms() - t0 >= 195, "latency injected via the clone");
	t0 = now_ms();
	http_perform(t, &req, &resp, NULL);
	ok(now_ms() - t0 < 150, "count is shared: no second delay");
	is_int(resp.status, 200, "latency rule passes through");
	is_int(http_fault_calls(t2), http_fault_calls(t), "clone and original share counters");

	memset(&rule, 0, sizeof(rule));
	rule.kind = HTTP_FAULT_STATUS;
	rule.status = 42;
	is_rc(http_fault_add(t, &rule), ENG_EINVAL, "bad status refused");
	is_rc(http_fault_add(curl, &rule), ENG_EINVAL, "not a fault transport");

	http_transport_free(t2);
	http_response_free(&resp);
	http_transport_free(t);	/* frees curl too (adopted) */
}

/* workers, each with its own clone, hammer one fault schedule */
struct worker {
	struct http_transport	*t;
	const char		*url;
	int			 n503;
	int			 errors;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct http_request req;
	struct http_response resp;
	int i;

	http_response_init(&resp);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = w->url;
	for (i = 0; i < 25; i++) {
		if (http_perform(w->t, &req, &resp, NULL) != 0)
			w->errors++;
		else if (resp.status == 503)
			w->n503++;
	}
	http_response_free(&resp);
	return NULL;
}

static void
test_fault_threads(struct srv *s)
{
	struct http_transport *t = NULL;
	struct http_fault_rule rule;
	struct worker w[4];
	pthread_t th[4];
	unsigned r0 = srv_get(s, &s->requests);
	int i, n503 = 0, errors = 0;

	is_rc(http_fault_new(new_curl(), true, &t), 0, "shared fault schedule");
	memset(&rule, 0, sizeof(rule));
	rule.kind = HTTP_FAULT_STATUS;
	rule.status = 503;
	rule.skip = 10;
	rule.count = 20;
	is_rc(http_fault_add(t, &rule), 0, "rule: calls 11..30 get 503");
	for (i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].url = url(s, "/echo");
		if (http_clone(t, &w[i].t) != 0 ||
		    pthread_create(&th[i], NULL, worker_run, &w[i]) != 0) {
			printf("Bail out! worker setup\n");
			exit(1);
		}
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		n503 += w[i].n503;
		errors += w[i].errors;
		http_transport_free(w[i].t);
	}
	is_int(errors, 0, "no transport errors in 4 threads");
	is_int(n503, 20, "exactly 20 injected across threads");
	is_int(http_fault_calls(t), 100, "100 calls counted");
	is_int(http_fault_fired(t), 20, "20 fired");
	is_int(srv_get(s, &s->requests) - r0, 80, "80 reached the server");
	http_transport_free(t);
}

/* read a whole small file; NULL on failure */
static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) > 0 && fseek(fp, 0, SEEK_SET) == 0 &&
	    (p = calloc(1, (size_t)n + 1)) != NULL && fread(p, 1, (size_t)n, fp) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(fp);
	return p;
}

/*
 * TLS: a self-signed certificate for IP 127.0.0.1 (made with the openssl
 * CLI) is refused with the default trust store, accepted when given as
 * ca_file, and still refused for another host name (host verification).
 */
static void
test_tls(void)
{
	char dir[] = "/tmp/difs-test-http-XXXXXX", cmd[1024], path[256], u[256];
	char *cert = NULL, *key = NULL;
	struct http_transport *t = NULL, *tc = NULL;
	struct http_curl_config cfg;
	struct http_request req;
	struct http_response resp;
	struct eng_errbuf eb;
	struct sockaddr_in sa;
	struct MHD_Daemon *d = NULL;
	struct srv s;
	const union MHD_DaemonInfo *info;

	http_response_init(&resp);
	if (mkdtemp(dir) == NULL || MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		ok(1, "# SKIP no temp dir or libmicrohttpd without TLS");
		return;
	}
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
	    "-nodes -keyout %s/key.pem -out %s/cert.pem -days 2 -subj /CN=127.0.0.1 "
	    "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1", dir, dir);
	if (system(cmd) != 0) {
		ok(1, "# SKIP openssl CLI not available to make a test certificate");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	cert = slurp(path);
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	key = slurp(path);
	memset(&s, 0, sizeof(s));
	pthread_mutex_init(&s.lock, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (cert != NULL && key != NULL)
		d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
		    MHD_USE_TLS, 0, NULL, NULL, srv_handler, &s,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		    MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_CERT, cert,
		    MHD_OPTION_NOTIFY_COMPLETED, srv_completed, &s,
		    MHD_OPTION_END);
	info = d != NULL ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
	ok(info != NULL && info->port != 0, "TLS test server started");
	if (info == NULL || info->port == 0)
		goto out;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	snprintf(u, sizeof(u), "https://127.0.0.1:%u/echo", (unsigned)info->port);
	req.url = u;

	t = new_curl();
	is_rc(http_perform(t, &req, &resp, &eb), ENG_ETLS, "self-signed refused by default");
	memset(&cfg, 0, sizeof(cfg));
	cfg.proxy = "";
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	cfg.ca_file = path;
	is_rc(http_curl_new(&cfg, &tc), 0, "transport trusting the test CA");
	is_rc(http_perform(tc, &req, &resp, &eb), 0, "accepted with ca_file");
	is_int(resp.status, 200, "TLS request answered");
	is_str(resp.body.p, "method=GET len=0", "TLS body");
	snprintf(u, sizeof(u), "https://localhost:%u/echo", (unsigned)info->port);
	is_rc(http_perform(tc, &req, &resp, &eb), ENG_ETLS, "host name not in the certificate refused");
out:
	http_transport_free(t);
	http_transport_free(tc);
	if (d != NULL)
		MHD_stop_daemon(d);
	free(cert);
	free(key);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	http_response_free(&resp);
}

static uint64_t
rand_fixed(void *arg)
{
	return *(const uint64_t *)arg;
}

static uint64_t
rand_seq(void *arg)
{
	uint64_t *v = arg;

	return (*v)++;
}

static void
test_backoff(void)
{
	uint64_t seq = 0, v, fixed;
	unsigned i;
	int bad = 0;

	/* the result is rand % (cap + 1): a value of cap shows the cap itself */
	fixed = 100;
	is_int(http_backoff_ms(0, 100, 10000, rand_fixed, &fixed), 100, "attempt 0 cap = base");
	fixed = 101;
	is_int(http_backoff_ms(0, 100, 10000, rand_fixed, &fixed), 0, "attempt 0 never above base");
	fixed = 800;
	is_int(http_backoff_ms(3, 100, 10000, rand_fixed, &fixed), 800, "attempt 3 cap = base*8");
	fixed = 801;
	is_int(http_backoff_ms(3, 100, 10000, rand_fixed, &fixed), 0, "attempt 3 never above");
	fixed = 10000;
	is_int(http_backoff_ms(10, 100, 10000, rand_fixed, &fixed), 10000, "capped at max");
	is_int(http_backoff_ms(200, 100, 10000, rand_fixed, &fixed), 10000, "no overflow");
	fixed = 10001;
	is_int(http_backoff_ms(200, 100, 10000, rand_fixed, &fixed), 0, "never above max");
	is_int(http_backoff_ms(5, 100, 10000, rand_seq, &seq), 0, "full jitter reaches 0");
	seq = 3201;
	is_int(http_backoff_ms(5, 100, 10000, rand_seq, &seq), 0, "value mod (cap+1)");
	for (i = 0; i < 1000; i++) {
		v = http_backoff_ms(i % 12, 10, 320, NULL, NULL);
		if (v > 320 || v > (10ull << (i % 12)))
			bad++;
	}
	is_int(bad, 0, "default random source within bounds");
}

static void
test_helpers(void)
{
	struct http_query q;
	struct buf b;
	bool found;

	buf_init(&b, BUF_MAX_SMALL);
	http_pct_encode(&b, "a b+c/d~e", 9, 0);
	is_str(b.p, "a%20b%2Bc%2Fd~e", "pct encode");
	buf_reset(&b);
	http_pct_encode(&b, "dir/a b+c.csv", 13, HTTP_PCT_KEEP_SLASH);
	is_str(b.p, "dir/a%20b%2Bc.csv", "pct encode keeping '/'");
	buf_reset(&b);
	http_pct_encode(&b, "\xe4\xb8\xad", 3, 0);
	is_str(b.p, "%E4%B8%AD", "UTF-8 bytes, uppercase hex");
	buf_reset(&b);
	is_rc(http_pct_decode(&b, "a%20b+c%2B", 10, true), 0, "pct decode");
	is_str(b.p, "a b c+", "decoded, + is space");
	buf_reset(&b);
	is_rc(http_pct_decode(&b, "%2", 2, false), ENG_EINVAL, "truncated escape");
	buf_reset(&b);
	is_rc(http_pct_decode(&b, "%zz", 3, false), ENG_EINVAL, "bad hex");
	buf_free(&b);

	is_rc(http_query_parse("uploads&partNumber=3&uploadId=a%2Bb&x=&&k=v=w", 45, &q), 0,
	    "query parse");
	is_int(q.n, 5, "five params (empty piece skipped)");
	ok(http_query_get(&q, "uploads", &found) == NULL && found, "key without '='");
	is_str(http_query_get(&q, "partNumber", NULL), "3", "partNumber");
	is_str(http_query_get(&q, "uploadId", NULL), "a+b", "value decoded");
	is_str(http_query_get(&q, "x", NULL), "", "'x=' is empty, not NULL");
	is_str(http_query_get(&q, "k", NULL), "v=w", "split on the first '='");
	ok(http_query_get(&q, "nope", &found) == NULL && !found, "absent");
	http_query_free(&q);
	is_rc(http_query_parse("", 0, &q), 0, "empty query");
	is_int(q.n, 0, "no params");
	http_query_free(&q);
	is_rc(http_query_parse("a=%00", 5, &q), ENG_EINVAL, "NUL byte refused");
	is_rc(http_query_parse("a=%G0", 5, &q), ENG_EINVAL, "bad escape refused");
}

int
main(void)
{
	struct srv s;

	test_helpers();
	test_backoff();
	if (srv_start(&s) != 0) {
		printf("Bail out! cannot start the test HTTP server\n");
		return 1;
	}
	test_basic(&s);
	test_streams(&s);
	test_errors(&s);
	test_fault(&s);
	test_fault_threads(&s);
	test_tls();
	MHD_stop_daemon(s.d);
	free(s.big);
	pthread_mutex_destroy(&s.lock);
	return done_testing();
}
