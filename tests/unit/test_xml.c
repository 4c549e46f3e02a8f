/* SPDX-License-Identifier: MIT */
/* test_xml.c - element tree reader, limits, DOCTYPE refusal, escaping writer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xml.h"
#include "tap.h"

static const char err_doc[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Error>\n"
    "  <Code>SignatureDoesNotMatch</Code>\n"
    "  <Message>The request signature we calculated does not match.</Message>\n"
    "  <RequestId>646DCB189AE2D1333018****</RequestId>\n"
    "  <HostId>bucket.oss-cn-hangzhou.aliyuncs.com</HostId>\n"
    "  <StringToSign>PUT\n\n\nTue, 23 May 2023 15:24:55 GMT\n/bucket/?acl</StringToSign>\n"
    "  <EC>0002-00000040</EC>\n"
    "</Error>\n";

static const char list_doc[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<ListBucketResult><Name>b</Name><Prefix>fun%2F</Prefix>"
    "<Contents><Key>a%20b</Key><Size>3</Size><Owner><ID>1</ID></Owner></Contents>"
    "<Contents><Key>c&amp;d</Key><Size>4</Size></Contents>"
    "<CommonPrefixes><Prefix>x%2F</Prefix></CommonPrefixes>"
    "<Contents><Key>&#x4e2d;&#25991;</Key><Size></Size></Contents>"
    "</ListBucketResult>";

static void
test_read(void)
{
	struct xml_doc *d = NULL;
	const struct xml_node *r, *c;
	int n;

	is_int(xml_parse(err_doc, strlen(err_doc), &d), 0, "error body parses");
	r = xml_root(d);
	is_str(r->name, "Error", "root name");
	is_str(xml_text(r, "Code"), "SignatureDoesNotMatch", "Code");
	is_str(xml_text(r, "EC"), "0002-00000040", "EC");
	is_str(xml_text(r, "StringToSign"),
	    "PUT\n\n\nTue, 23 May 2023 15:24:55 GMT\n/bucket/?acl",
	    "newlines inside text kept");
	ok(xml_text(r, "Missing") == NULL, "missing child is NULL");
	ok(xml_text(NULL, "Code") == NULL, "NULL node is NULL");
	xml_free(d);

	d = NULL;
	is_int(xml_parse(list_doc, sizeof(list_doc) - 1, &d), 0, "list parses");
	r = xml_root(d);
	n = 0;
	for (c = xml_child(r, "Contents"); c != NULL; c = xml_next(c))
		n++;
	is_int(n, 3, "xml_next skips other siblings");
	c = xml_child(r, "Contents");
	is_str(xml_text(c, "Key"), "a%20b", "first key raw");
	c = xml_next(c);
	is_str(xml_text(c, "Key"), "c&d", "entity resolved");
	c = xml_next(c);
	is_str(xml_text(c, "Key"), "\xe4\xb8\xad\xe6\x96\x87", "char refs to UTF-8");
	is_str(xml_text(c, "Size"), "", "empty element is empty string");
	is_str(xml_path(r, "Contents/Owner/ID")->text, "1", "xml_path");
	ok(xml_path(r, "Contents/Nope/ID") == NULL, "xml_path missing step");
	is_str(xml_path(r, "CommonPrefixes/Prefix")->text, "x%2F", "common prefix");
	ok(xml_child(r, "Contents")->parent == r, "parent link");
	xml_free(d);
}

static void
test_bad(void)
{
	struct xml_doc *d = (struct xml_doc *)&d;
	static const char *bad[] = {
		"",
		"<a>",
		"<a></b>",
		"<a/><b/>",
		"not xml",
		"<a>&undefined;</a>",
		"<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
		"<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY l2 \"&lol;&lol;\">]><a>&l2;</a>",
		"<a>\xff\xfe</a>",
	};
	struct buf b;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d = NULL;
		rc = xml_parse(bad[i], strlen(bad[i]), &d);
		is_rc(rc, -EBADMSG, "bad document %zu refused", i);
		ok(d == NULL, "out untouched on failure %zu", i);
	}
	is_rc(xml_parse(NULL, 1, &d), -EINVAL, "NULL buffer");
	/* depth limit */
	buf_init(&b, 1 << 20);
	for (i = 0; i < XML_MAX_DEPTH + 1; i++)
		(void)buf_addstr(&b, "<a>");
	for (i = 0; i < XML_MAX_DEPTH + 1; i++)
		(void)buf_addstr(&b, "</a>");
	d = NULL;
	is_rc(xml_parse(b.p, b.len, &d), -EBADMSG, "too deep refused");
	buf_reset(&b);
	for (i = 0; i < XML_MAX_DEPTH; i++)
		(void)buf_addstr(&b, "<a>");
	for (i = 0; i < XML_MAX_DEPTH; i++)
		(void)buf_addstr(&b, "</a>");
	is_rc(xml_parse(b.p, b.len, &d), 0, "max depth accepted");
	xml_free(d);
	buf_free(&b);
	/* node limit */
	buf_init(&b, 8 << 20);
	(void)buf_addstr(&b, "<r>");
	for (i = 0; i < XML_MAX_NODES; i++)
		(void)buf_addstr(&b, "<x/>");
	(void)buf_addstr(&b, "</r>");
	d = NULL;
	is_rc(xml_parse(b.p, b.len, &d), -EBADMSG, "too many nodes refused");
	buf_free(&b);
	is_rc(xml_parse("<a/>", XML_MAX_DOC + 1, &d), -E2BIG, "too large refused");
}

static void
test_write(void)
{
	struct buf b;
	struct xml_doc *d = NULL;
	static const char key[] = "b&<c>.csv \"q\" 'a'\r\n\tz \xe4\xb8\xad";

	buf_init(&b, BUF_MAX_SMALL);
	(void)xml_open(&b, "Delete");
	is_int(xml_elem(&b, "Quiet", "true"), 0, "elem");
	(void)xml_open(&b, "Object");
	is_int(xml_elem(&b, "Key", "b&<c>.csv"), 0, "escaped elem");
	(void)xml_close(&b, "Object");
	(void)xml_close(&b, "Delete");
	is_str(b.p, "<Delete><Quiet>true</Quiet><Object><Key>b&amp;&lt;c&gt;.csv"
	    "</Key></Object></Delete>", "ali-oss compatible bytes");

	buf_reset(&b);
	is_int(xml_elem(&b, "ETag", "\"AAA\""), 0, "quotes");
	is_str(b.p, "<ETag>\"AAA\"</ETag>", "quotes kept as is");

	buf_reset(&b);
	is_int(xml_elem(&b, "K", key), 0, "round-trip element");
	is_int(xml_parse(b.p, b.len, &d), 0, "written element parses");
	is_str(xml_root(d)->text, key, "text reads back byte-identical (CR, TAB, LF, UTF-8)");
	xml_free(d);

	buf_reset(&b);
	(void)buf_addstr(&b, "<x>");
	is_int(xml_elem(&b, "K", "a\x01" "b"), -EINVAL, "C0 control refused");
	is_int(xml_elem(&b, "K", "a\xc0\xaf"), -EINVAL, "overlong UTF-8 refused");
	is_int(xml_elem(&b, "K", "\xed\xa0\x80"), -EINVAL, "surrogate refused");
	is_int(xml_elem(&b, "K", "\xef\xbf\xbf"), -EINVAL, "U+FFFF refused");
	is_int(xml_elem(&b, "K", "\xe4\xb8"), -EINVAL, "truncated UTF-8 refused");
	is_str(b.p, "<x>", "nothing appended on -EINVAL");
	is_int(xml_escape(&b, NULL, 0), 0, "empty escape");
	is_int(xml_elem(&b, "K", "\xf0\x9f\x98\x80"), 0, "4-byte UTF-8 ok");
	buf_free(&b);

	buf_init(&b, 8);
	is_int(xml_elem(&b, "Key", "abcdefgh"), -E2BIG, "buffer limit reported");
	buf_free(&b);
}

int
main(void)
{
	test_read();
	test_bad();
	test_write();
	return done_testing();
}
