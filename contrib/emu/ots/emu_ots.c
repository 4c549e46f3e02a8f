/* SPDX-License-Identifier: MIT */
/*
 * emu_ots.c - difs-emu's Table Store service: the emu_service_ops.
 *
 * Every request is verified the way the service does
 * (contrib/doc/tablestore.md 1.2-1.5): POST only, body size, the required
 * x-ots-* headers, API version, access key id, instance name, x-ots-date format
 * and skew, x-ots-contentmd5 against the body, and the V2 signature recomputed
 * over all received x-ots-* headers (engine/sign/sign.c).  Every answer, errors
 * included, carries x-ots-contentmd5, x-ots-requestid, x-ots-date,
 * x-ots-contenttype and the response signature "authorization: OTS id:sig".
 * Errors are protobuf Error{code, message} with the service's HTTP status.
 *
 * Operations are in emu_ots_table.c, emu_ots_row.c and emu_ots_stream.c;
 * persistence in emu_ots_store.c; the helpers they all share in
 * emu_ots_base.c.  This file is the top: nothing calls back into it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ots.pb-c.h"

#include "emu_ots_i.h"
#include "http.h"
#include "log.h"
#include "num.h"
#include "sign.h"

struct emu_ots_opdef {
	const char	*api;
	emu_ots_op_fn	*fn;
};

static const struct emu_ots_opdef emu_ots_ops[] = {
	{ "CreateTable",	emu_ots_create_table },
	{ "DescribeTable",	emu_ots_describe_table },
	{ "UpdateTable",	emu_ots_update_table },
	{ "DeleteTable",	emu_ots_delete_table },
	{ "ListTable",		emu_ots_list_table },
	{ "PutRow",		emu_ots_put_row },
	{ "UpdateRow",		emu_ots_update_row },
	{ "DeleteRow",		emu_ots_delete_row },
	{ "GetRow",		emu_ots_get_row },
	{ "GetRange",		emu_ots_get_range },
	{ "BatchGetRow",	emu_ots_batch_get_row },
	{ "BatchWriteRow",	emu_ots_batch_write_row },
	{ "ListStream",		emu_ots_list_stream },
	{ "DescribeStream",	emu_ots_describe_stream },
	{ "GetShardIterator",	emu_ots_get_shard_iterator },
	{ "GetStreamRecord",	emu_ots_get_stream_record },
};

/* messages of the error-code page (contrib/doc/tablestore.md 1.5), for injected
 * faults */
static const struct {
	const char	*code;
	const char	*msg;
} emu_ots_msgs[] = {
	{ "OTSServerBusy",		"Server is busy." },
	{ "OTSPartitionUnavailable",	"The partition is not available." },
	{ "OTSTimeout",			"Operation timeout." },
	{ "OTSServerUnavailable",	"Server is not available." },
	{ "OTSInternalServerError",	"Internal server error." },
	{ "OTSRowOperationConflict",	"Data is being modified by the other request." },
	{ "OTSTableNotReady",		"The table is not ready." },
	{ "OTSQuotaExhausted",		"Too frequent table operations." },
	{ "OTSNotEnoughCapacityUnit",	"Remaining capacity unit is not enough." },
	{ "OTSCapacityUnitExhausted",	"Capacity unit is not enough." },
	{ "OTSFlowControl",		"The requests have been throttled." },
	{ "OTSRequestTimeout",		"Request timeout." },
	{ "OTSAuthFailed",		"Signature mismatch." },
	{ "OTSParameterInvalid",	"The input parameter is invalid." },
	{ "OTSObjectNotExist",		"Requested table does not exist." },
	{ "OTSConditionCheckFail",	"Condition check failed." },
	{ "OTSTrimmedDataAccess",	"Requested stream data is already trimmed or does not exist." },
};

/* ---- responses ------------------------------------------------------------ */

static const char *
emu_ots_api(const struct emu_req *req)
{
	return req->path[0] == '/' ? req->path + 1 : req->path;
}

/** Add the x-ots-* response headers and the response signature. */
static int
emu_ots_finish(struct emu_ots *ots, const char *api, struct emu_resp *resp)
{
	char md5[SIGN_MD5_B64_SIZE], date[96], reqid[96];
	struct http_hdr h[4];
	struct buf authz;
	struct timespec ts;
	struct tm tm;
	uint64_t seq = atomic_fetch_add(&ots->reqseq, 1);
	int rc;

	if ((rc = sign_content_md5(resp->body.p, resp->body.len, md5)) != 0)
		return rc;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	/* the service sends six fraction digits
	 * (contrib/doc/tablestore.md 1.4) */
	snprintf(date, sizeof(date), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000);
	snprintf(reqid, sizeof(reqid), "%08llx-%04llx-%04llx-%04llx-%012llx",
	    (unsigned long long)ts.tv_sec & 0xffffffffULL,
	    (unsigned long long)(ts.tv_nsec >> 14) & 0xffff,
	    (unsigned long long)(seq >> 48) & 0xffff,
	    (unsigned long long)(seq >> 32) & 0xffff,
	    (unsigned long long)seq & 0xffffffffffffULL);
	h[0].name = "x-ots-contentmd5";
	h[0].value = md5;
	h[1].name = "x-ots-contenttype";
	h[1].value = "protocol buffer";
	h[2].name = "x-ots-date";
	h[2].value = date;
	h[3].name = "x-ots-requestid";
	h[3].value = reqid;
	buf_init(&authz, BUF_MAX_SMALL);
	if ((rc = sign_ots_response(ots->cred, api, h, 4, &authz)) != 0)
		goto out;
	for (size_t i = 0; i < 4 && rc == 0; i++)
		rc = emu_resp_header(resp, h[i].name, h[i].value);
	if (rc == 0)
		rc = emu_resp_header(resp, "authorization", authz.p);
out:
	buf_free(&authz);
	return rc;
}

/** Replace resp's body with protobuf Error{code, message}. */
static int
emu_ots_error_body(struct emu_resp *resp, const char *code, const char *msg)
{
	Ots__Error err = OTS__ERROR__INIT;
	size_t n;
	int rc;

	buf_reset(&resp->body);
	err.code = (char *)(uintptr_t)code;
	err.message = (char *)(uintptr_t)msg;
	n = ots__error__get_packed_size(&err);
	if ((rc = buf_reserve(&resp->body, n)) != 0)
		return rc;
	ots__error__pack(&err, (uint8_t *)resp->body.p);
	resp->body.len = n;
	return 0;
}

/* ---- verification ----------------------------------------------------------- */

static int
emu_ots_verify(struct emu_ots *ots, const struct emu_req *req, const char *api,
    struct emu_ots_err *e)
{
	static const char *const required[] = {
		"x-ots-date", "x-ots-apiversion", "x-ots-accesskeyid",
		"x-ots-instancename", "x-ots-contentmd5", "x-ots-signature",
	};
	struct http_hdr *hh = NULL;
	const char *v;
	char md5[SIGN_MD5_B64_SIZE];
	time_t when;
	int64_t skew;
	size_t i;
	int rc = -1;

	if (strcmp(req->method, "POST") != 0)
		return emu_ots_fail(e, 405, "OTSMethodNotAllowed",
		    "OTSMethodNotAllowedOnly POST method for requests is supported.");
	if (req->body_len > EMU_OTS_BODY_MAX)
		return emu_ots_fail(e, 413, "OTSRequestBodyTooLarge",
		    "The size of POST data is too large.");
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (emu_req_header(req, required[i]) == NULL)
			return EMU_OTS_BADPARAM(e, "Missing header: '%s'.", required[i]);
	v = emu_req_header(req, "x-ots-apiversion");
	if (strcmp(v, "2015-12-31") != 0)
		return EMU_OTS_BADPARAM(e, "Unsupported API version: %s.", v);
	if (strcmp(emu_req_header(req, "x-ots-accesskeyid"), ots->cfg->access_id) != 0)
		return emu_ots_fail(e, 403, "OTSAuthFailed", "The AccessKeyID does not exist.");
	if (strcasecmp(emu_req_header(req, "x-ots-instancename"), ots->cfg->instance) != 0)
		return emu_ots_fail(e, 403, "OTSAuthFailed", "The instance is not found.");
	v = emu_req_header(req, "x-ots-date");
	if (sign_date_parse(v, &when) != 0)
		return EMU_OTS_BADPARAM(e, "Invalid date format: %s.", v);
	skew = (int64_t)when - (int64_t)time(NULL);
	if (skew > ots->cfg->skew_seconds || skew < -(int64_t)ots->cfg->skew_seconds)
		return emu_ots_fail(e, 403, "OTSAuthFailed",
		    "Mismatch between system time and x-ots-date: %s.", v);
	if (sign_content_md5(req->body, req->body_len, md5) != 0)
		return -ENOMEM;
	if (strcmp(md5, emu_req_header(req, "x-ots-contentmd5")) != 0)
		return emu_ots_fail(e, 403, "OTSAuthFailed",
		    "Mismatch between MD5 value of request body and x-ots-contentmd5 in header.");
	if (emu_req_header(req, "x-ots-request-compress-type") != NULL)
		return EMU_OTS_BADPARAM(e, "Request compression is not supported.");
	if ((hh = calloc(req->nhdrs + 1, sizeof(*hh))) == NULL)
		return -ENOMEM;
	for (i = 0; i < req->nhdrs; i++) {
		hh[i].name = req->hdrs[i].name;
		hh[i].value = req->hdrs[i].value;
	}
	if (sign_ots_verify_request(ots->cred, api, req->method, hh, req->nhdrs) != 0) {
		rc = emu_ots_fail(e, 403, "OTSAuthFailed", "Signature mismatch.");
		goto out;
	}
	rc = 0;
out:
	free(hh);
	return rc;
}

/* ---- service ops ------------------------------------------------------------- */

static int
emu_ots_handle(void *svc, const struct emu_req *req, struct emu_resp *resp)
{
	struct emu_ots *ots = svc;
	struct emu_ots_err e;
	const char *api = emu_ots_api(req);
	const struct emu_ots_opdef *op = NULL;
	size_t i;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = emu_ots_verify(ots, req, api, &e);
	if (rc == 0) {
		for (i = 0; i < sizeof(emu_ots_ops) / sizeof(emu_ots_ops[0]); i++)
			if (strcmp(emu_ots_ops[i].api, api) == 0)
				op = &emu_ots_ops[i];
		if (op == NULL)
			rc = EMU_OTS_BADPARAM(&e, "Unsupported operation: %s.", api);
	}
	if (rc == 0)
		rc = op->fn(ots, req->body, req->body_len, &resp->body, &e);
	if (rc == 0 && resp->body.err != 0)
		rc = resp->body.err;
	if (rc < -1) {
		log_warnx("emu ots: %s: %s", api, strerror(-rc));
		emu_ots_fail(&e, 500, "OTSInternalServerError", "Internal server error.");
	}
	if (e.status != 0) {
		resp->status = e.status;
		if ((rc = emu_ots_error_body(resp, e.code, e.msg)) != 0)
			return rc;
		log_debug("emu ots: %s -> %d %s %s", api, e.status, e.code, e.msg);
	} else {
		resp->status = 200;
	}
	return emu_ots_finish(ots, api, resp);
}

static const char *
emu_ots_op_name(void *svc, const struct emu_req *req, char *buf, size_t len)
{
	int n;

	(void)svc;
	n = snprintf(buf, len, "%s", emu_ots_api(req));
	return n < 0 || (size_t)n >= len ? NULL : buf;
}

static int
emu_ots_fault(void *svc, const struct emu_req *req, const char *code, int status,
    struct emu_resp *resp)
{
	const char *msg = "Injected fault.";
	size_t i;
	int rc;

	for (i = 0; i < sizeof(emu_ots_msgs) / sizeof(emu_ots_msgs[0]); i++)
		if (strcmp(emu_ots_msgs[i].code, code) == 0)
			msg = emu_ots_msgs[i].msg;
	resp->status = status;
	if ((rc = emu_ots_error_body(resp, code, msg)) != 0)
		return rc;
	return emu_ots_finish(svc, emu_ots_api(req), resp);
}

static int
emu_ots_admin(void *svc, const char *cmd, struct emu_resp *resp)
{
	char line[512], *argv[8], *p;
	int argc = 0, n;

	n = snprintf(line, sizeof(line), "%s", cmd);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		(void)buf_addstr(&resp->body, "command too long\n");
		return -EINVAL;
	}
	for (p = line; *p != '\0' && argc < 8;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (*p == '\0')
			break;
		argv[argc++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
	}
	if (argc == 0) {
		(void)buf_addstr(&resp->body, "empty command\n");
		return -EINVAL;
	}
	return emu_ots_stream_admin(svc, argv, argc, &resp->body);
}

static void
emu_ots_destroy(void *svc)
{
	struct emu_ots *ots = svc;
	size_t i;

	if (ots == NULL)
		return;
	for (i = 0; i < ots->ntables; i++)
		emu_ots_table_free(ots->tables[i]);
	free(ots->tables);
	free(ots->pending);
	emu_ots_store_close(ots->store);
	sign_cred_free(ots->cred);
	pthread_rwlock_destroy(&ots->meta_lock);
	pthread_mutex_destroy(&ots->write_lock);
	free(ots);
}

static int
emu_ots_create(const struct emu_config *cfg, void **out)
{
	struct emu_ots *ots;
	char dir[4096];
	int rc, n;

	*out = NULL;
	if ((ots = calloc(1, sizeof(*ots))) == NULL)
		return -ENOMEM;
	pthread_rwlock_init(&ots->meta_lock, NULL);
	pthread_mutex_init(&ots->write_lock, NULL);
	ots->cfg = cfg;
	ots->default_shards = cfg->shards > 0 ? cfg->shards : 2;
	for (size_t i = 0; i < cfg->ntable_shards; i++) {
		const char *spec = cfg->table_shards[i], *eq = strchr(spec, '=');
		char name[EMU_OTS_NAME_MAX + 1];
		int64_t cnt;

		/* emu_main validated "TABLE=N" with N in [1, 64] */
		if (eq == NULL || (size_t)(eq - spec) > EMU_OTS_NAME_MAX)
			continue;
		memcpy(name, spec, (size_t)(eq - spec));
		name[eq - spec] = '\0';
		if (num_i64(eq + 1, (size_t)-1, 1, 64, &cnt) != 0)
			continue;
		if ((rc = emu_ots_shards_pending(ots, name, (int)cnt)) != 0)
			goto fail;
	}
	if ((rc = sign_cred_new(cfg->access_id, cfg->access_secret, NULL, &ots->cred)) != 0) {
		rc = -EINVAL;
		goto fail;
	}
	n = snprintf(dir, sizeof(dir), "%s/ots", cfg->data_dir);
	if (n < 0 || (size_t)n >= sizeof(dir)) {
		rc = -ENAMETOOLONG;
		goto fail;
	}
	if ((rc = emu_ots_store_open(dir, cfg->nosync, &ots->store)) != 0)
		goto fail;
	if ((rc = emu_ots_store_load(ots)) != 0)
		goto fail;
	*out = ots;
	return 0;
fail:
	emu_ots_destroy(ots);
	return rc;
}

const struct emu_service_ops emu_ots_service = {
	.name		= "ots",
	.create		= emu_ots_create,
	.handle		= emu_ots_handle,
	.admin		= emu_ots_admin,
	.destroy	= emu_ots_destroy,
	.op_name	= emu_ots_op_name,
	.fault		= emu_ots_fault,
};
