/* SPDX-License-Identifier: MIT */
/*
 * test_http_tls.c - TLS verification of the curl transport against a real
 * HTTPS server here (libmicrohttpd with TLS, a self-signed certificate for
 * 127.0.0.1 made with the openssl CLI in a temporary directory):
 *   - the system CAs do not trust it: ENG_ETLS, the message says caFile;
 *   - ca_file (a source's caFile) = the certificate: 200;
 *   - $SSL_CERT_FILE or $CURL_CA_BUNDLE = the certificate, no ca_file: 200;
 *   - ca_file = another self-signed certificate: ENG_ETLS (no fallback);
 *   - the Table Store client: ENG_ETLS without ca_file, through with it;
 *   - a source's caFile: absolute, readable, rendered back;
 *   - error messages never carry a URL's userinfo (user:password@).
 * Skips (TAP) when openssl or libmicrohttpd's TLS is missing.
 */
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "conf.h"
#include "http.h"
#include "loopback.h"
#include "ots.h"
#include "sign.h"
#include "sys.h"
#include "tap.h"

static char tmp[256], cert[300], key[300], other[300];
static struct buf certpem, keypem;

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *data, size_t *len, void **ctx)
{
	static char body[] = "hello over tls";
	struct MHD_Response *r;
	enum MHD_Result rc;

	(void)cls; (void)url; (void)method; (void)version; (void)data; (void)ctx;
	if (*len != 0) {
		*len = 0;	/* swallow request bodies (the ots client POSTs) */
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(sizeof(body) - 1, body, MHD_RESPMEM_PERSISTENT);
	rc = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return rc;
}

/* a self-signed certificate for 127.0.0.1 (subjectAltName IP) */
static int
make_cert(const char *crt, const char *k)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey rsa:2048 -nodes "
	    "-keyout '%s' -out '%s' -days 2 -subj /CN=127.0.0.1 "
	    "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1", k, crt);
	return system(cmd) == 0 ? 0 : -1;
}

static int
get(const char *ca_file, const char *url, struct eng_errbuf *eb, int *status)
{
	struct http_curl_config cc = { .ca_file = ca_file, .timeout_ms = 10000 };
	struct http_request req = { .method = "GET", .url = url };
	struct http_transport *tp = NULL;
	struct http_response resp;
	int rc;

	eb->msg[0] = '\0';
	*status = 0;
	if ((rc = http_curl_new(&cc, &tp)) != 0)
		return rc;
	http_response_init(&resp);
	rc = http_perform(tp, &req, &resp, eb);
	*status = resp.status;
	http_response_free(&resp);
	http_transport_free(tp);
	return rc;
}

static void
test_source_ca_file(void)
{
	struct conf_diags *d = NULL;
	struct conf_source *s = NULL;
	struct buf b, out;
	const char *kinds[] = { "ots", "oss" };
	size_t i;
	int rc;

	if (conf_diags_new(&d) != 0)
		return;
	buf_init(&b, BUF_MAX_SMALL);
	buf_init(&out, BUF_MAX_SMALL);
	for (i = 0; i < 2; i++) {
		const char *extra = i == 0 ? "\"instanceName\": \"i\"" : "\"bucket\": \"bkt\"";

		buf_reset(&b);
		buf_printf(&b, "{\"type\": \"%s\", \"endpoint\": \"https://127.0.0.1:1\", %s, "
		    "\"accessId\": \"id\", \"accessKey\": \"k\", \"caFile\": \"%s\"}",
		    kinds[i], extra, cert);
		conf_diags_clear(d);
		rc = conf_source_parse("s.json", b.p, b.len, NULL, d, &s);
		is_rc(rc, 0, "%s source with caFile %s: valid", kinds[i], cert);
		if (rc == 0) {
			is_str(conf_source_ca_file(s), cert, "%s: conf_source_ca_file", kinds[i]);
			buf_reset(&out);
			ok(conf_source_render(s, true, &out) == 0 && strstr(out.p, cert) != NULL,
			    "%s: caFile rendered back", kinds[i]);
			conf_source_free(s);
			s = NULL;
		}

		buf_reset(&b);
		buf_printf(&b, "{\"type\": \"%s\", \"endpoint\": \"https://127.0.0.1:1\", %s, "
		    "\"accessId\": \"id\", \"accessKey\": \"k\", \"caFile\": \"ca.pem\"}",
		    kinds[i], extra);
		conf_diags_clear(d);
		is_rc(conf_source_parse("s.json", b.p, b.len, NULL, d, &s), ENG_EINVAL,
		    "%s: relative caFile refused", kinds[i]);
		ok(conf_diags_count(d) > 0 && strstr(conf_diags_at(d, 0)->msg, "absolute") != NULL,
		    "%s: message: %s", kinds[i], conf_diags_count(d) > 0 ? conf_diags_at(d, 0)->msg : "");

		buf_reset(&b);
		buf_printf(&b, "{\"type\": \"%s\", \"endpoint\": \"https://127.0.0.1:1\", %s, "
		    "\"accessId\": \"id\", \"accessKey\": \"k\", \"caFile\": \"%s/missing.pem\"}",
		    kinds[i], extra, tmp);
		conf_diags_clear(d);
		is_rc(conf_source_parse("s.json", b.p, b.len, NULL, d, &s), ENG_EINVAL,
		    "%s: missing caFile refused", kinds[i]);
		ok(conf_diags_count(d) > 0 && strstr(conf_diags_at(d, 0)->msg, "missing.pem") != NULL &&
		    strstr(conf_diags_at(d, 0)->msg, "No such file") != NULL,
		    "%s: message: %s", kinds[i], conf_diags_count(d) > 0 ? conf_diags_at(d, 0)->msg : "");
	}
	buf_free(&b);
	buf_free(&out);
	conf_diags_free(d);
}

static void
test_ots(unsigned port)
{
	struct ots_config cfg;
	struct sign_cred *cred = NULL;
	struct ots_names *names = NULL;
	struct ots_error err;
	struct eng_errbuf eb = { "" };
	struct ots *o = NULL;
	char ep[64];
	int rc;

	if (sign_cred_new("id", "secret", NULL, &cred) != 0)
		return;
	snprintf(ep, sizeof(ep), "https://127.0.0.1:%u", port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.endpoint = ep;
	cfg.instance = "inst";
	cfg.cred = cred;
	cfg.max_retries = 0;
	is_rc(ots_new(&cfg, &o, &eb), 0, "ots client without caFile");
	memset(&err, 0, sizeof(err));
	rc = ots_list_table(o, &names, &err);
	is_rc(rc, ENG_ETLS, "ots: untrusted certificate: ENG_ETLS (%s)", err.message);
	ots_names_free(names);
	names = NULL;
	ots_free(o);
	o = NULL;
	cfg.ca_file = cert;
	is_rc(ots_new(&cfg, &o, &eb), 0, "ots client with caFile");
	memset(&err, 0, sizeof(err));
	rc = ots_list_table(o, &names, &err);
	/* the server here is no Table Store: past TLS, the reply is refused */
	ok(rc != ENG_ETLS && err.http_status == 200,
	    "ots with caFile: TLS passes, the (non-OTS) reply got HTTP 200 (rc %d: %s)",
	    rc, err.message);
	ots_names_free(names);
	ots_free(o);
	sign_cred_free(cred);
}

int
main(void)
{
	struct MHD_Daemon *d;
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	struct eng_errbuf eb;
	char url[128], bad[160], otherkey[300];
	unsigned port;
	int rc, st;

	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		printf("1..0 # SKIP libmicrohttpd without TLS\n");
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "%s/difs-tls-XXXXXX",
	    getenv("TMPDIR") != NULL && getenv("TMPDIR")[0] == '/' ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmp) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(cert, sizeof(cert), "%s/cert.pem", tmp);
	snprintf(key, sizeof(key), "%s/key.pem", tmp);
	snprintf(other, sizeof(other), "%s/other.pem", tmp);
	snprintf(otherkey, sizeof(otherkey), "%s/otherkey.pem", tmp);
	if (make_cert(cert, key) != 0 || make_cert(other, otherkey) != 0) {
		printf("1..0 # SKIP the openssl command cannot make a certificate\n");
		(void)nftw(tmp, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
		return 0;
	}
	buf_init(&certpem, BUF_MAX_SMALL);
	buf_init(&keypem, BUF_MAX_SMALL);
	if (sys_read_file(cert, 0, &certpem) != 0 || sys_read_file(key, 0, &keypem) != 0) {
		printf("Bail out! reading the certificate\n");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_TLS, 0, NULL, NULL, handler, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_HTTPS_MEM_KEY, keypem.p,
	    MHD_OPTION_HTTPS_MEM_CERT, certpem.p,
	    MHD_OPTION_END);
	info = d != NULL ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
	if (info == NULL || info->port == 0) {
		printf("Bail out! cannot start the TLS server\n");
		return 1;
	}
	port = info->port;
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/x", port);
	unsetenv("SSL_CERT_FILE");
	unsetenv("CURL_CA_BUNDLE");

	rc = get(NULL, url, &eb, &st);
	is_rc(rc, ENG_ETLS, "self-signed, system CAs: ENG_ETLS");
	ok(strstr(eb.msg, "caFile") != NULL, "the message points at caFile: %s", eb.msg);
	rc = get(cert, url, &eb, &st);
	is_rc(rc, 0, "ca_file = the certificate: verified (%s)", eb.msg);
	is_int(st, 200, "HTTP 200 over TLS");
	rc = get(other, url, &eb, &st);
	is_rc(rc, ENG_ETLS, "ca_file = another CA: ENG_ETLS, no fallback to others");
	ok(strstr(eb.msg, other) != NULL, "the message names the CA bundle: %s", eb.msg);

	setenv("SSL_CERT_FILE", cert, 1);
	rc = get(NULL, url, &eb, &st);
	is_rc(rc, 0, "$SSL_CERT_FILE honoured (%s)", eb.msg);
	rc = get(other, url, &eb, &st);
	is_rc(rc, ENG_ETLS, "ca_file wins over $SSL_CERT_FILE");
	unsetenv("SSL_CERT_FILE");
	setenv("CURL_CA_BUNDLE", cert, 1);
	rc = get(NULL, url, &eb, &st);
	is_rc(rc, 0, "$CURL_CA_BUNDLE honoured (%s)", eb.msg);
	setenv("SSL_CERT_FILE", other, 1);
	rc = get(NULL, url, &eb, &st);
	is_rc(rc, 0, "$CURL_CA_BUNDLE before $SSL_CERT_FILE (%s)", eb.msg);
	unsetenv("CURL_CA_BUNDLE");
	rc = get(NULL, url, &eb, &st);
	is_rc(rc, ENG_ETLS, "$SSL_CERT_FILE = another CA: ENG_ETLS");
	unsetenv("SSL_CERT_FILE");

	/* userinfo never in a message: TLS failure, then a refused connection */
	snprintf(bad, sizeof(bad), "https://alice:PW-S3CRET@127.0.0.1:%u/x?Signature=SIG", port);
	rc = get(NULL, bad, &eb, &st);
	is_rc(rc, ENG_ETLS, "userinfo URL, untrusted: ENG_ETLS");
	ok(strstr(eb.msg, "PW-S3CRET") == NULL && strstr(eb.msg, "alice") == NULL &&
	    strstr(eb.msg, "SIG") == NULL, "no userinfo, no query in: %s", eb.msg);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/x", port);
	ok(strstr(eb.msg, url) != NULL, "the URL is there without them");
	snprintf(bad, sizeof(bad), "http://bob:PW-S3CRET@127.0.0.1:%u/y", (unsigned)loopback_free_port());
	rc = get(NULL, bad, &eb, &st);
	is_rc(rc, ENG_ECONN, "userinfo URL, refused connection: ENG_ECONN");
	ok(strstr(eb.msg, "PW-S3CRET") == NULL && strstr(eb.msg, "bob") == NULL &&
	    strstr(eb.msg, "http://127.0.0.1:") != NULL, "no userinfo in: %s", eb.msg);
	rc = get(NULL, "http://a@b:PW-S3CRET@127.0.0.1:1/z", &eb, &st);
	ok(rc != 0 && strstr(eb.msg, "PW-S3CRET") == NULL, "two '@': no userinfo in: %s", eb.msg);

	test_ots(port);
	test_source_ca_file();

	MHD_stop_daemon(d);
	buf_free(&certpem);
	buf_free(&keypem);
	(void)nftw(tmp, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
