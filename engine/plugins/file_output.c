/* SPDX-License-Identifier: MIT */
/*
 * file_output.c - the writers' shared option block (see file_output.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_output.h"
#include "name.h"

static const char *const file_modes[] = {
	[FILE_MODE_TRUNCATE]	= "truncate",
	[FILE_MODE_APPEND]	= "append",
	[FILE_MODE_NONCONFLICT]	= "nonConflict",
};

/* s without the spaces and tabs around it: *len bytes from the result */
static const char *
file_trim(const char *s, size_t *len)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*len = n;
	return s;
}

static int
file_dup(const struct json *param, const char *key, char **out)
{
	const char *s = json_str(json_get(param, key));

	*out = NULL;
	if (s == NULL)
		return 0;
	return (*out = strdup(s)) != NULL ? 0 : -ENOMEM;
}

void
file_output_free(struct file_output *fo)
{
	size_t i;

	free(fo->suffix);
	for (i = 0; i < sizeof(fo->strs) / sizeof(fo->strs[0]); i++)
		free(fo->strs[i]);
	for (i = 0; i < fo->nheader; i++)
		free(fo->header[i]);
	free(fo->header);
	memset(fo, 0, sizeof(*fo));
}

int
file_output_parse(const struct plugin_env *env, const struct json *param,
    const char *who, struct file_output *fo, struct eng_errbuf *eb)
{
	static const char *const keys[] = { "fieldDelimiter", "lineDelimiter", "nullFormat",
	    "dateFormat", "encoding" };
	const struct json *cp = json_get(param, "compress"), *h, *e;
	const char *s, *fmt;
	struct csv *probe = NULL;
	size_t n, i;
	int rc = ENG_EINVAL;

	memset(fo, 0, sizeof(*fo));
	if (cp != NULL && json_str(cp) == NULL) {
		eng_errbuf_set(eb, rc, "%s: compression is not supported; remove \"compress\"", who);
		goto out;
	}
	if (cp != NULL && json_str(cp)[strspn(json_str(cp), " \t")] != '\0') {
		eng_errbuf_set(eb, rc, "%s: compression is not supported (\"compress\": \"%.60s\"); "
		    "remove \"compress\"", who, json_str(cp));
		goto out;
	}
	if ((s = json_str(json_get(param, "writeMode"))) == NULL) {
		eng_errbuf_set(eb, rc, "%s: writeMode is required (truncate, append or nonConflict)", who);
		goto out;
	}
	s = file_trim(s, &n);
	for (i = 0; i < sizeof(file_modes) / sizeof(file_modes[0]); i++)
		if (strlen(file_modes[i]) == n && strncmp(file_modes[i], s, n) == 0)
			break;
	if (i == sizeof(file_modes) / sizeof(file_modes[0])) {
		eng_errbuf_set(eb, rc, "%s: writeMode \"%.*s\" must be truncate, append or "
		    "nonConflict", who, (int)(n < 64 ? n : 64), s);
		goto out;
	}
	fo->mode = (enum file_mode)i;
	fmt = json_str(json_get(param, "fileFormat"));
	if (fmt == NULL || strcmp(fmt, "text") == 0)
		fo->csv.format = CSV_FMT_TEXT;
	else if (strcmp(fmt, "csv") == 0)
		fo->csv.format = CSV_FMT_CSV;
	else {
		eng_errbuf_set(eb, rc, "%s: fileFormat \"%s\" must be csv or text", who, fmt);
		goto out;
	}
	rc = -ENOMEM;
	s = json_str(json_get(param, "suffix"));
	s = file_trim(s != NULL ? s : "", &n);
	if (asprintf(&fo->suffix, "%s%.*s", n > 0 && s[0] != '.' ? "." : "", (int)n, s) < 0) {
		fo->suffix = NULL;
		goto out;
	}
	/* the suffix ends a file name or an object key: it must not add a
	 * directory (name.h) */
	if ((rc = name_field_check(who, "suffix", NAME_F_SUFFIX, fo->suffix, eb)) != 0)
		goto out;
	rc = -ENOMEM;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (file_dup(param, keys[i], &fo->strs[i]) != 0)
			goto out;
	fo->csv.field_delim = fo->strs[0];
	fo->csv.line_delim = fo->strs[1];
	fo->csv.null_format = fo->strs[2];
	fo->csv.date_format = fo->strs[3];
	fo->csv.encoding = fo->strs[4];
	fo->csv.localtime = env->tz != NULL ? csv_tz_localtime : NULL;
	fo->csv.localtime_arg = (void *)(uintptr_t)env->tz;
	if ((rc = csv_new(&fo->csv, &probe, eb)) != 0)
		goto out;
	h = json_get(param, "header");
	if (json_type(h) == JSON_ARRAY && json_size(h) > 0) {
		rc = -ENOMEM;
		if ((fo->header = calloc(json_size(h), sizeof(*fo->header))) == NULL)
			goto out;
		for (e = json_first(h); e != NULL; e = json_next(e)) {
			s = json_str(e);
			if ((fo->header[fo->nheader] = strdup(s != NULL ? s : "")) == NULL)
				goto out;
			fo->nheader++;
		}
	}
	rc = 0;
out:
	csv_free(probe);
	if (rc != 0)
		file_output_free(fo);
	return rc;
}
