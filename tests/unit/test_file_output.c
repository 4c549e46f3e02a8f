/* SPDX-License-Identifier: MIT */
/*
 * test_file_output.c - the writers' shared option block (plugins/
 * file_output.c): defaults, the blanks around writeMode and suffix, the
 * refusals, header copies; the same parse for the oss and txtfile writers.
 */
#include <stdio.h>
#include <string.h>

#include "file_output.h"
#include "tap.h"

static const struct plugin_env env0;

/* parse JSON text js; 0 or the error, with the message in msg */
static int
parse(const char *js, struct file_output *fo, char *msg, size_t msgsz)
{
	struct json_doc *doc = NULL;
	struct eng_errbuf eb = { "" };
	int rc;

	if (json_parse(js, strlen(js), &doc, NULL) != 0) {
		printf("# bad test JSON: %s\n", js);
		return -1;
	}
	rc = file_output_parse(&env0, json_doc_root(doc), "some writer", fo, &eb);
	snprintf(msg, msgsz, "%s", eb.msg);
	json_doc_free(doc);
	return rc;
}

static void
test_defaults(void)
{
	struct file_output fo;
	char msg[256];

	is_rc(parse("{\"writeMode\": \"truncate\"}", &fo, msg, sizeof(msg)), 0, "minimal");
	is_int(fo.mode, FILE_MODE_TRUNCATE, "truncate");
	is_int(fo.csv.format, CSV_FMT_TEXT, "fileFormat default text (DataX)");
	is_str(fo.suffix, "", "no suffix");
	ok(fo.csv.field_delim == NULL && fo.csv.line_delim == NULL &&
	    fo.csv.null_format == NULL && fo.csv.date_format == NULL &&
	    fo.csv.encoding == NULL, "csv.h's defaults for the rest");
	ok(fo.nheader == 0 && fo.header == NULL, "no header");
	ok(fo.csv.localtime == NULL, "no zone: UTC");
	file_output_free(&fo);
	ok(fo.suffix == NULL, "free zeroes");
	file_output_free(&fo);	/* a zeroed one: nothing */
}

static void
test_values(void)
{
	struct file_output fo;
	char msg[256];

	is_rc(parse("{\"writeMode\": \" nonConflict\\t\", \"fileFormat\": \"csv\", "
	    "\"fieldDelimiter\": \";\", \"lineDelimiter\": \"\\r\\n\", \"nullFormat\": \"\", "
	    "\"dateFormat\": \"yyyyMMdd\", \"encoding\": \"UTF-8\", \"suffix\": \" csv \", "
	    "\"compress\": \" \", \"header\": [\"a\", \"b\", 3]}", &fo, msg, sizeof(msg)), 0,
	    "every key: %s", msg);
	is_int(fo.mode, FILE_MODE_NONCONFLICT, "writeMode: blanks around it ignored");
	is_int(fo.csv.format, CSV_FMT_CSV, "csv");
	is_str(fo.csv.field_delim, ";", "fieldDelimiter");
	is_str(fo.csv.line_delim, "\r\n", "lineDelimiter");
	is_str(fo.csv.null_format, "", "nullFormat \"\"");
	is_str(fo.csv.date_format, "yyyyMMdd", "dateFormat");
	is_str(fo.csv.encoding, "UTF-8", "encoding");
	is_str(fo.suffix, ".csv", "suffix trimmed, '.' added");
	is_int((long long)fo.nheader, 3, "three header strings");
	if (fo.nheader == 3) {
		is_str(fo.header[0], "a", "header[0]");
		is_str(fo.header[2], "", "a non-string header entry is empty");
	}
	file_output_free(&fo);
	is_rc(parse("{\"writeMode\": \"append\", \"suffix\": \".gz\"}", &fo, msg, sizeof(msg)), 0,
	    "append");
	is_int(fo.mode, FILE_MODE_APPEND, "append");
	is_str(fo.suffix, ".gz", "a suffix with its '.'");
	file_output_free(&fo);
}

static void
test_refused(void)
{
	static const struct { const char *js, *want; } bad[] = {
		{ "{}", "writeMode is required" },
		{ "{\"writeMode\": \"overwrite\"}", "writeMode \"overwrite\" must be" },
		{ "{\"writeMode\": \"truncate\", \"fileFormat\": \"orc\"}", "fileFormat \"orc\"" },
		{ "{\"writeMode\": \"truncate\", \"compress\": \"gzip\"}", "compression is not supported" },
		{ "{\"writeMode\": \"truncate\", \"compress\": true}", "compression is not supported" },
		{ "{\"writeMode\": \"truncate\", \"fileFormat\": \"csv\", \"fieldDelimiter\": \"ab\"}", "" },
		{ "{\"writeMode\": \"truncate\", \"encoding\": \"NO-SUCH-CHARSET\"}", "" },
	};
	struct file_output fo;
	char msg[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		is_rc(parse(bad[i].js, &fo, msg, sizeof(msg)), ENG_EINVAL, "%s refused: %s",
		    bad[i].js, msg);
		ok(strstr(msg, bad[i].want) != NULL, "message: %s", msg);
		ok(fo.suffix == NULL && fo.header == NULL, "nothing left to free");
	}
	is_rc(parse("{\"writeMode\": \"truncate\"}", &fo, msg, sizeof(msg)), 0, "again fine");
	file_output_free(&fo);
	ok(strncmp(msg, "", 1) == 0, "no message on success");
	(void)parse("{\"writeMode\": \"x\"}", &fo, msg, sizeof(msg));
	ok(strncmp(msg, "some writer: ", 13) == 0, "messages name the writer: %s", msg);
}

int
main(void)
{
	test_defaults();
	test_values();
	test_refused();
	return done_testing();
}
