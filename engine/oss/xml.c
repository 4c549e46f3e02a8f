/* SPDX-License-Identifier: MIT */
/*
 * xml.c - expat behind a tiny element-tree reader and an escaping writer
 * (see xml.h).  This is the only file that includes <expat.h>.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "xml.h"

/* a node as built by the parser; the public part comes first */
struct xml_inode {
	struct xml_node		 n;
	struct xml_inode	*iparent;	/* same as n.parent, writable */
	struct xml_inode	*last_child;	/* to append children in order */
	struct xml_inode	*all_next;	/* every node of the doc, for xml_free */
	char			*name;		/* owned copy, n.name points here */
	struct buf		 text;		/* owned, n.text points into it */
};

struct xml_doc {
	struct xml_inode	*root;
	struct xml_inode	*all;		/* list of every node */
};

/* parser state, lives for one xml_parse() call */
struct xml_ctx {
	XML_Parser		 p;
	struct xml_doc		*doc;
	struct xml_inode	*cur;		/* innermost open element */
	size_t			 depth;
	size_t			 nodes;
	int			 err;		/* first error, 0 if none */
};

static void
xml_ctx_fail(struct xml_ctx *c, int err)
{
	if (c->err == 0)
		c->err = err;
	(void)XML_StopParser(c->p, XML_FALSE);
}

static void XMLCALL
xml_on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct xml_ctx *c = ud;
	struct xml_inode *in;

	(void)atts;
	if (c->err != 0)
		return;
	if (c->depth >= XML_MAX_DEPTH || c->nodes >= XML_MAX_NODES) {
		xml_ctx_fail(c, -EBADMSG);
		return;
	}
	if ((in = calloc(1, sizeof(*in))) == NULL) {
		xml_ctx_fail(c, -ENOMEM);
		return;
	}
	buf_init(&in->text, XML_MAX_DOC);
	in->all_next = c->doc->all;
	c->doc->all = in;
	if ((in->name = strdup(name)) == NULL) {
		xml_ctx_fail(c, -ENOMEM);
		return;
	}
	in->n.name = in->name;
	in->n.text = in->text.p;
	if (c->cur == NULL) {
		c->doc->root = in;
	} else {
		in->iparent = c->cur;
		in->n.parent = &c->cur->n;
		if (c->cur->last_child == NULL)
			c->cur->n.child = &in->n;
		else
			c->cur->last_child->n.next = &in->n;
		c->cur->last_child = in;
	}
	c->cur = in;
	c->depth++;
	c->nodes++;
}

static void XMLCALL
xml_on_end(void *ud, const XML_Char *name)
{
	struct xml_ctx *c = ud;
	struct xml_inode *in = c->cur;

	(void)name;
	if (c->err != 0 || in == NULL)
		return;
	if (in->text.err != 0) {
		xml_ctx_fail(c, in->text.err == -E2BIG ? -EBADMSG : in->text.err);
		return;
	}
	in->n.text = in->text.p;
	in->n.text_len = in->text.len;
	c->cur = in->iparent;
	c->depth--;
}

static void XMLCALL
xml_on_text(void *ud, const XML_Char *s, int len)
{
	struct xml_ctx *c = ud;

	if (c->err != 0 || c->cur == NULL || len <= 0)
		return;
	if (buf_add(&c->cur->text, s, (size_t)len) != 0)
		xml_ctx_fail(c, c->cur->text.err == -E2BIG ? -EBADMSG : -ENOMEM);
}

static void XMLCALL
xml_on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	xml_ctx_fail(ud, -EBADMSG);
}

void
xml_free(struct xml_doc *doc)
{
	struct xml_inode *in, *nx;

	if (doc == NULL)
		return;
	for (in = doc->all; in != NULL; in = nx) {
		nx = in->all_next;
		buf_free(&in->text);
		free(in->name);
		free(in);
	}
	free(doc);
}

int
xml_parse(const char *buf, size_t len, struct xml_doc **out)
{
	struct xml_ctx c;
	struct xml_doc *doc = NULL;
	int rc = -ENOMEM;

	memset(&c, 0, sizeof(c));
	if (out == NULL || (buf == NULL && len != 0))
		return -EINVAL;
	*out = NULL;
	if (len > XML_MAX_DOC || len > INT_MAX)
		return -E2BIG;
	if ((doc = calloc(1, sizeof(*doc))) == NULL)
		goto out;
	if ((c.p = XML_ParserCreate("UTF-8")) == NULL)
		goto out;
	c.doc = doc;
	XML_SetUserData(c.p, &c);
	XML_SetElementHandler(c.p, xml_on_start, xml_on_end);
	XML_SetCharacterDataHandler(c.p, xml_on_text);
	XML_SetStartDoctypeDeclHandler(c.p, xml_on_doctype);
	if (XML_Parse(c.p, len != 0 ? buf : "", (int)len, XML_TRUE) !=
	    XML_STATUS_OK) {
		if (c.err == 0)
			c.err = XML_GetErrorCode(c.p) == XML_ERROR_NO_MEMORY ?
			    -ENOMEM : -EBADMSG;
	}
	if (c.err == 0 && (doc->root == NULL || c.cur != NULL))
		c.err = -EBADMSG;
	if (c.err != 0) {
		rc = c.err;
		goto out;
	}
	*out = doc;
	doc = NULL;
	rc = 0;
out:
	if (c.p != NULL)
		XML_ParserFree(c.p);
	xml_free(doc);
	return rc;
}

const struct xml_node *
xml_root(const struct xml_doc *doc)
{
	return doc == NULL ? NULL : &doc->root->n;
}

const struct xml_node *
xml_child(const struct xml_node *n, const char *name)
{
	const struct xml_node *ch;

	if (n == NULL)
		return NULL;
	for (ch = n->child; ch != NULL; ch = ch->next)
		if (strcmp(ch->name, name) == 0)
			return ch;
	return NULL;
}

const struct xml_node *
xml_next(const struct xml_node *n)
{
	const struct xml_node *s;

	if (n == NULL)
		return NULL;
	for (s = n->next; s != NULL; s = s->next)
		if (strcmp(s->name, n->name) == 0)
			return s;
	return NULL;
}

const char *
xml_text(const struct xml_node *n, const char *name)
{
	const struct xml_node *ch = xml_child(n, name);

	return ch == NULL ? NULL : ch->text;
}

const struct xml_node *
xml_path(const struct xml_node *n, const char *path)
{
	char step[128];
	const char *p = path, *slash;
	size_t k;

	while (n != NULL && *p != '\0') {
		slash = strchr(p, '/');
		k = slash == NULL ? strlen(p) : (size_t)(slash - p);
		if (k == 0 || k >= sizeof(step))
			return NULL;
		memcpy(step, p, k);
		step[k] = '\0';
		n = xml_child(n, step);
		p += k;
		if (*p == '/')
			p++;
	}
	return n;
}

/*
 * Length of the valid UTF-8 sequence at s (1..4) that XML 1.0 can carry, or
 * 0 when it is invalid or not an XML Char.
 */
static size_t
xml_utf8_char(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t k, i;

	if (s[0] < 0x80) {
		if (s[0] < 0x20 && s[0] != '\t' && s[0] != '\n' && s[0] != '\r')
			return 0;
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		k = 2;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		k = 3;
		cp = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		k = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < k)
		return 0;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
	    cp == 0xFFFE || cp == 0xFFFF)
		return 0;
	return k;
}

int
xml_escape(struct buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, k, start;

	if (n == 0)
		return b->err;
	if (s == NULL)
		return -EINVAL;
	for (i = 0; i < n; i += k)
		if ((k = xml_utf8_char(u + i, n - i)) == 0)
			return -EINVAL;
	start = 0;
	for (i = 0; i < n; i++) {
		const char *ent;

		switch (s[i]) {
		case '&':	ent = "&amp;"; break;
		case '<':	ent = "&lt;"; break;
		case '>':	ent = "&gt;"; break;
		case '\r':	ent = "&#13;"; break;
		default:	continue;
		}
		(void)buf_add(b, s + start, i - start);
		(void)buf_addstr(b, ent);
		start = i + 1;
	}
	return buf_add(b, s + start, n - start);
}

int
xml_open(struct buf *b, const char *name)
{
	(void)buf_addc(b, '<');
	(void)buf_addstr(b, name);
	return buf_addc(b, '>');
}

int
xml_close(struct buf *b, const char *name)
{
	(void)buf_addstr(b, "</");
	(void)buf_addstr(b, name);
	return buf_addc(b, '>');
}

int
xml_elem(struct buf *b, const char *name, const char *text)
{
	size_t mark = b->len;
	int rc;

	(void)xml_open(b, name);
	if ((rc = xml_escape(b, text, strlen(text))) != 0) {
		if (rc == -EINVAL)
			buf_truncate(b, mark);
		return rc;
	}
	return xml_close(b, name);
}
