/* SPDX-License-Identifier: MIT */
/*
 * emu.c - helpers of the difs-emu core/service contract (emu.h) that both
 * the HTTP core and the services (and their fuzz targets) link: header
 * lookup and response construction.  No HTTP library here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "emu.h"

const char *
emu_req_header(const struct emu_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nhdrs; i++)
		if (strcasecmp(req->hdrs[i].name, name) == 0)
			return req->hdrs[i].value;
	return NULL;
}

int
emu_resp_header(struct emu_resp *resp, const char *name, const char *value)
{
	struct emu_hdr *nh;
	char *n = NULL, *v = NULL;

	if ((n = strdup(name)) == NULL || (v = strdup(value)) == NULL)
		goto fail;
	nh = realloc(resp->hdrs, (resp->nhdrs + 1) * sizeof(*nh));
	if (nh == NULL)
		goto fail;
	resp->hdrs = nh;
	nh[resp->nhdrs].name = n;
	nh[resp->nhdrs].value = v;
	resp->nhdrs++;
	return 0;
fail:
	free(n);
	free(v);
	return -ENOMEM;
}

void
emu_resp_init(struct emu_resp *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = 200;
	buf_init(&resp->body, BUF_MAX_BODY);
	resp->file_fd = -1;
}

static void
emu_resp_drop_headers(struct emu_resp *resp)
{
	size_t i;

	for (i = 0; i < resp->nhdrs; i++) {
		free(resp->hdrs[i].name);
		free(resp->hdrs[i].value);
	}
	free(resp->hdrs);
	resp->hdrs = NULL;
	resp->nhdrs = 0;
}

void
emu_resp_free(struct emu_resp *resp)
{
	if (resp == NULL)
		return;
	emu_resp_drop_headers(resp);
	buf_free(&resp->body);
	if (resp->file_fd >= 0)
		close(resp->file_fd);
	resp->file_fd = -1;
}

void
emu_resp_reset(struct emu_resp *resp)
{
	emu_resp_free(resp);
	emu_resp_init(resp);
}
