/* SPDX-License-Identifier: MIT */
/*
 * test_json.c - engine/core/json.c: parsing with offsets, syntax error
 * positions, the builder, editing and printing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "tap.h"

static void
test_parse_offsets(void)
{
	const char *t = "{\n  \"a\": 1,\n  \"b\": [true, \"x\"],\n  \"c\": {\"d\": null}\n}";
	struct json_doc *doc = NULL;
	const struct json *r, *a, *b, *c, *d, *x;
	size_t off = 0;
	double v = 0;
	bool bv = false;

	is_rc(json_parse(t, strlen(t), &doc, &off), 0, "parse object");
	r = json_doc_root(doc);
	is_int(json_type(r), JSON_OBJECT, "root is an object");
	is_int(json_size(r), 3, "three members");
	a = json_get(r, "a");
	b = json_get(r, "b");
	c = json_get(r, "c");
	d = json_get(c, "d");
	is_int(json_doc_key_off(doc, a), 4, "key offset of a");
	is_int(json_doc_val_off(doc, a), 9, "value offset of a");
	is_int(json_doc_val_off(doc, b), 19, "value offset of b");
	x = json_next(json_first(b));
	is_int(json_doc_val_off(doc, x), 26, "value offset of array element");
	is_int(json_doc_key_off(doc, x), JSON_NOOFF, "array element has no key");
	is_int(json_type(d), JSON_NULL, "nested null");
	is_int(json_doc_val_off(doc, d), 45, "nested value offset");
	is_int(json_doc_val_off(doc, r), 0, "root offset");
	is_rc(json_num(a, &v), 0, "a is a number");
	ok(v == 1.0, "a == 1");
	is_rc(json_bool(json_first(b), &bv), 0, "b[0] is a bool");
	ok(bv, "b[0] is true");
	is_str(json_str(x), "x", "b[1] string");
	is_str(json_key(a), "a", "member name");
	ok(json_get(r, "A") == NULL, "lookup is case-sensitive");
	ok(json_get(a, "x") == NULL, "json_get on a scalar is NULL");
	is_rc(json_num(x, &v), ENG_EINVAL, "string is not a number");
	json_doc_free(doc);
}

static void
test_parse_errors(void)
{
	struct json_doc *doc = NULL;
	size_t off = 99;

	is_rc(json_parse("{\"a\": 1,, }", 11, &doc, &off), ENG_EINVAL, "double comma");
	ok(doc == NULL, "no doc on error");
	ok(off >= 7 && off <= 9, "error offset near the second comma (%zu)", off);
	off = 99;
	is_rc(json_parse("{} x", 4, &doc, &off), ENG_EINVAL, "trailing garbage");
	is_int(off, 3, "offset of the garbage");
	is_rc(json_parse("{\"a\":\0 1}", 9, &doc, &off), ENG_EINVAL, "NUL byte rejected");
	is_int(off, 5, "offset of the NUL byte");
	is_rc(json_parse("", 0, &doc, &off), ENG_EINVAL, "empty text");
	is_rc(json_parse("\xEF\xBB\xBF {\"k\": \"v\"}", 14, &doc, &off), 0, "BOM accepted");
	is_int(json_doc_val_off(doc, json_get(json_doc_root(doc), "k")), 10, "offsets count the BOM");
	json_doc_free(doc);
	is_rc(json_parse("  [1, 2]  \n", 11, &doc, &off), 0, "array with spaces");
	is_int(json_doc_val_off(doc, json_doc_root(doc)), 2, "root offset after spaces");
	json_doc_free(doc);
}

static void
test_build_print(void)
{
	struct json *o = json_new_object(), *arr = json_new_array(), *dup = NULL;
	struct buf b;

	buf_init(&b, BUF_MAX_SMALL);
	ok(o != NULL && arr != NULL, "new object and array");
	is_rc(json_obj_add_str(o, "s", "a\"b\n"), 0, "add string");
	is_rc(json_obj_add_int(o, "ms", 1764043200000LL), 0, "add big int");
	is_rc(json_obj_add_bool(o, "t", true), 0, "add bool");
	is_rc(json_obj_add_null(o, "n"), 0, "add null");
	is_rc(json_arr_add(arr, json_new_int(-3)), 0, "array add");
	is_rc(json_arr_add(arr, json_new_num(0.5)), 0, "array add 2");
	is_rc(json_obj_add(o, "arr", arr), 0, "add array member");
	is_rc(json_obj_add(o, "e", json_new_object()), 0, "add empty object");
	is_rc(json_arr_add(o, json_new_int(1)), -EINVAL, "arr_add on an object fails (value freed)");
	is_rc(json_print(o, 0, &b), 0, "print compact");
	is_str(b.p, "{\"s\":\"a\\\"b\\n\",\"ms\":1764043200000,\"t\":true,\"n\":null,\"arr\":[-3,0.5],\"e\":{}}",
	    "compact text");
	buf_reset(&b);
	is_rc(json_print(o, JSON_PRETTY, &b), 0, "print pretty");
	is_str(b.p, "{\n  \"s\": \"a\\\"b\\n\",\n  \"ms\": 1764043200000,\n  \"t\": true,\n  \"n\": null,\n"
	    "  \"arr\": [\n    -3,\n    0.5\n  ],\n  \"e\": {}\n}", "pretty text");
	is_rc(json_dup(o, &dup), 0, "dup");
	ok(json_equal(o, dup), "dup is equal");
	is_rc(json_set_str(json_get_mut(dup, "s"), "changed"), 0, "set_str");
	ok(!json_equal(o, dup), "no longer equal");
	is_rc(json_set_str(json_get_mut(dup, "t"), "x"), -EINVAL, "set_str on a bool");
	is_rc(json_obj_set(dup, "t", json_new_str("now a string")), 0, "obj_set replaces");
	is_str(json_str(json_get(dup, "t")), "now a string", "replaced value");
	is_str(json_key(json_get(dup, "t")), "t", "replaced member keeps its name");
	is_int(json_size(dup), 6, "same member count after replace");
	is_rc(json_obj_set(dup, "new", json_new_int(7)), 0, "obj_set appends");
	is_int(json_size(dup), 7, "one more member");
	is_rc(json_obj_del(dup, "n"), 0, "delete member");
	is_rc(json_obj_del(dup, "n"), -ENOENT, "delete again");
	ok(json_get(dup, "n") == NULL, "member gone");
	is_rc(json_obj_add(o, "x", NULL), -ENOMEM, "NULL value counts as ENOMEM");
	is_rc(json_obj_add_str(o, "nul", NULL), 0, "NULL string adds null");
	is_int(json_type(json_get(o, "nul")), JSON_NULL, "it is a null");
	json_free(dup);
	json_free(o);
	json_free(NULL);
	buf_free(&b);
}

static void
test_roundtrip(void)
{
	const char *t = "{\"a\":[1,{\"b\":\"\\u00e9\"}],\"c\":-1.25e3}";
	struct json_doc *doc = NULL;
	struct buf b;
	size_t off;

	buf_init(&b, BUF_MAX_SMALL);
	is_rc(json_parse(t, strlen(t), &doc, &off), 0, "parse");
	is_rc(json_print(json_doc_root(doc), 0, &b), 0, "print");
	is_str(b.p, "{\"a\":[1,{\"b\":\"\xc3\xa9\"}],\"c\":-1250}", "round trip (UTF-8 kept raw)");
	json_doc_free(doc);
	buf_free(&b);
}

int
main(void)
{
	test_parse_offsets();
	test_parse_errors();
	test_build_print();
	test_roundtrip();
	return done_testing();
}
