/* SPDX-License-Identifier: MIT */
/*
 * fuzz_conf.c - libFuzzer target over the whole definitions path: comment
 * stripping, cJSON parsing with offsets, job and source validation
 * (datasources resolved against two fixed sources), diagnostics formatting,
 * ${name} resolution + re-validation, rendering, and the byte-preserving
 * secret masking/merging.  Everything is freed, so LeakSanitizer sees leaks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ots[] = "{\"type\":\"ots\",\"endpoint\":\"http://127.0.0.1:8800\","
    "\"instanceName\":\"i\",\"accessId\":\"a\",\"accessKey\":\"k\"}";
static const char oss[] = "{\"type\":\"oss\",\"endpoint\":\"http://127.0.0.1:8801\","
    "\"bucket\":\"backup\",\"accessId\":\"a\",\"accessKey\":\"k\"}";

/* every parameter resolves to a value that is valid in most places */
static int
any_param(void *arg, const char *name, size_t len, const char **val, size_t *vlen)
{
	(void)arg;
	(void)name;
	if (len == 0)
		return -ENOENT;
	*val = "20261125115500";
	*vlen = 14;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct conf_srcset *set = NULL;
	struct conf_source *s = NULL, *src = NULL;
	struct conf_diags *d = NULL;
	struct conf_job *job = NULL, *res = NULL;
	struct eng_errbuf eb;
	struct buf out;

	buf_init(&out, BUF_MAX_DOC);
	if (conf_srcset_new(&set) != 0 || conf_diags_new(&d) != 0)
		goto out;
	if (conf_source_parse("ots-source", ots, sizeof(ots) - 1, NULL, NULL, &s) == 0)
		(void)conf_srcset_add(set, s);
	if (conf_source_parse("oss-source", oss, sizeof(oss) - 1, NULL, NULL, &s) == 0)
		(void)conf_srcset_add(set, s);
	(void)conf_kind_of(buf, size);
	if (conf_job_parse("fuzz", buf, size, conf_srcset_lookup, set, d, &job) == 0) {
		(void)conf_job_render(job, true, &out);
		if (conf_job_resolve(job, any_param, NULL, NULL, NULL, d, &res) == 0)
			(void)conf_job_render(res, true, &out);
	}
	(void)conf_diags_format(d, "fuzz.json", &out);
	conf_diags_clear(d);
	if (conf_source_parse("x", buf, size, conf_srcset_lookup(set, "ots-source"), d, &src) == 0)
		(void)conf_source_render(src, true, &out);
	(void)conf_diags_format(d, "fuzz.json", &out);
	buf_reset(&out);
	(void)conf_mask_text(buf, size, &out);
	buf_reset(&out);
	(void)conf_merge_secrets_text(buf, size, buf, size, &out, &eb);
out:
	conf_source_free(src);
	conf_job_free(res);
	conf_job_free(job);
	conf_diags_free(d);
	conf_srcset_free(set);
	buf_free(&out);
	return 0;
}
