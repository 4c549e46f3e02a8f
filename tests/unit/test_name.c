/* SPDX-License-Identifier: MIT */
/*
 * test_name.c - core/name.c: definition names, output fields, object key
 * normalisation, and parameter values that would move the output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"
#include "tap.h"

static void
test_def_names(void)
{
	char big[NAME_DEF_MAX + 2];

	ok(name_def_ok("orders", 6), "letters");
	ok(name_def_ok("ots_to-oss.v2", 13), "digits, '_', '-', '.'");
	ok(name_def_ok("_x", 2), "leading '_'");
	ok(!name_def_ok(".hidden", 7), "leading '.'");
	ok(!name_def_ok("-rf", 3), "leading '-'");
	ok(!name_def_ok("my job", 6), "space");
	ok(!name_def_ok("caf\xc3\xa9", 5), "non-ASCII");
	ok(!name_def_ok("a/b", 3), "slash");
	ok(!name_def_ok("", 0), "empty");
	memset(big, 'a', sizeof(big));
	ok(name_def_ok(big, NAME_DEF_MAX), "NAME_DEF_MAX bytes");
	ok(!name_def_ok(big, NAME_DEF_MAX + 1), "one more");
}

static void
test_keys(void)
{
	struct eng_errbuf eb = { "" };
	char *k = NULL;

	is_rc(name_key_normalise("oss writer", "object", "a//b///c/", &k, &eb), 0, "double slashes");
	is_str(k, "a/b/c/", "made single, trailing kept");
	free(k);
	is_rc(name_key_normalise("oss writer", "object", "/abs/key", &k, &eb), ENG_EINVAL, "leading '/'");
	is_str(eb.msg, "oss writer: \"object\" \"/abs/key\" starts with '/': OSS object names must "
	    "not; write \"abs/key\"", "the message says the fix");
	ok(k == NULL, "nothing returned");
	is_rc(name_key_normalise("oss writer", "object", "a/../b", &k, &eb), ENG_EINVAL, "'..' segment");
	ok(strstr(eb.msg, "\"a/../b\" has a \"..\" segment") != NULL, "named: %s", eb.msg);
	is_rc(name_key_normalise("w", "object", "a/./b", &k, &eb), ENG_EINVAL, "'.' segment");
	is_rc(name_key_normalise("w", "object", "..", &k, &eb), ENG_EINVAL, "only '..'");
	is_rc(name_key_normalise("w", "object", "a/..", &k, &eb), ENG_EINVAL, "trailing '..'");
	is_rc(name_key_normalise("w", "object", "a/\n", &k, &eb), ENG_EINVAL, "newline");
	ok(strstr(eb.msg, "\\x0a") != NULL, "control bytes are escaped in the message");
	is_rc(name_key_normalise("w", "object", "a..b/..c/d..", &k, &eb), 0, "dots inside names");
	free(k);
}

static void
test_fields(void)
{
	struct eng_errbuf eb = { "" };

	is_rc(name_field_check("txtfile writer", "fileName", NAME_F_COMPONENT, "..", &eb), ENG_EINVAL,
	    "fileName ..");
	is_rc(name_field_check("w", "fileName", NAME_F_COMPONENT, "a/b", &eb), ENG_EINVAL, "fileName a/b");
	is_rc(name_field_check("w", "fileName", NAME_F_COMPONENT, "data", &eb), 0, "fileName data");
	is_rc(name_field_check("w", "suffix", NAME_F_SUFFIX, "..", &eb), 0, "suffix .. ends a name");
	is_rc(name_field_check("w", "suffix", NAME_F_SUFFIX, "/../x", &eb), ENG_EINVAL, "suffix /../x");
	is_rc(name_field_check("w", "path", NAME_F_PATH, "/data/../x", &eb), 0, "a path as written");
	is_rc(name_field_check("w", "path", NAME_F_PATH, "/data\t", &eb), ENG_EINVAL, "a tab in path");
	is_rc(name_field_check(NULL, "object", NAME_F_KEY, "/x", &eb), ENG_EINVAL, "no prefix");
	ok(strncmp(eb.msg, "\"object\"", 8) == 0, "who NULL: the message starts with the field");
}

static void
test_params(void)
{
	struct eng_errbuf eb = { "" };

	is_rc(name_param_check("p", "fileName", NAME_F_COMPONENT, "../../etc", 9, &eb), ENG_EINVAL,
	    "../../etc in fileName");
	is_str(eb.msg, "parameter ${p} = '../../etc' would move the output outside \"path\": "
	    "\"fileName\" must stay one file name (no '/' or \"..\"); give p a value without them",
	    "the message names the parameter and the field");
	is_rc(name_param_check("p", "fileName", NAME_F_COMPONENT, "a/b", 3, &eb), ENG_EINVAL, "'/'");
	is_rc(name_param_check("p", "fileName", NAME_F_COMPONENT, "a..b", 4, &eb), ENG_EINVAL, "'..'");
	is_rc(name_param_check("p", "fileName", NAME_F_COMPONENT, "a\0b", 3, &eb), ENG_EINVAL, "NUL");
	is_rc(name_param_check("p", "fileName", NAME_F_COMPONENT, "2026-01-01", 10, &eb), 0, "a date");
	is_rc(name_param_check("out", "path", NAME_F_PATH, "/tmp/x", 6, &eb), 0, "a directory in path");
	is_rc(name_param_check("sub", "path", NAME_F_PATH, "x/..", 4, &eb), ENG_EINVAL, "'..' in path");
	is_rc(name_param_check("p", "object", NAME_F_KEY, "../../etc", 9, &eb), ENG_EINVAL,
	    "../../etc in object");
	ok(strstr(eb.msg, "parameter ${p} = '../../etc' would move the output outside the object "
	    "prefix") != NULL, "named: %s", eb.msg);
	is_rc(name_param_check("p", "object", NAME_F_KEY, "a/b", 3, &eb), 0, "a/b in object");
	is_rc(name_param_check("p", "object", NAME_F_KEY, "\x1b[2J", 4, &eb), ENG_EINVAL, "escape");
	ok(strstr(eb.msg, "'\\x1b[2J'") != NULL, "escaped in the message");
}

int
main(void)
{
	test_def_names();
	test_keys();
	test_fields();
	test_params();
	return done_testing();
}
