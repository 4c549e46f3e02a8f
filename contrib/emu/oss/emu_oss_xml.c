/* SPDX-License-Identifier: MIT */
/*
 * emu_oss_xml.c - XML of difs-emu's OSS side: the only expat user of the
 * emulator.  Reads the two request bodies OSS accepts as XML
 * (CompleteMultipartUpload, Delete) and escapes text for the responses.
 *
 * The emulator deliberately does not share engine/oss/xml.c with the client, so
 * a mistake there cannot hide itself in tests.  DOCTYPEs and entity
 * declarations are refused (OSS clients never send them; refusing removes
 * entity expansion), nesting is bounded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "num.h"
#include "emu_oss_i.h"

#define XML_DEPTH	8

struct px {
	XML_Parser	 p;
	int		 depth;
	char		 path[XML_DEPTH][32];	/* element names on the stack */
	int		 overflow;		/* depth beyond XML_DEPTH */
	struct buf	 text;			/* char data of the current leaf */
	int		 err;			/* first error */
	/* what the handlers fill */
	int		 kind;			/* 1 complete, 2 delete */
	struct emu_oss_cpart *parts;
	size_t		 nparts, capparts;
	int		 have_num, have_etag;
	uint32_t	 num;
	char		*etag;
	char		**keys;
	size_t		 nkeys, capkeys;
	int		 have_key;
	char		*key;
	int		 quiet;
};

static void
px_fail(struct px *x, int err)
{
	if (x->err == 0)
		x->err = err;
	XML_StopParser(x->p, XML_FALSE);
}

static int
at(const struct px *x, int depth, const char *name)
{
	return x->depth == depth && strcmp(x->path[depth - 1], name) == 0;
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct px *x = ud;
	size_t n = strlen(name);

	(void)attrs;
	if (x->err != 0)
		return;
	if (x->depth >= XML_DEPTH || n >= sizeof(x->path[0])) {
		px_fail(x, -EBADMSG);
		return;
	}
	memcpy(x->path[x->depth], name, n + 1);
	x->depth++;
	buf_reset(&x->text);
	if (x->depth == 1) {
		if (strcmp(name, x->kind == 1 ? "CompleteMultipartUpload" :
		    "Delete") != 0)
			px_fail(x, -EBADMSG);
		return;
	}
	if (x->kind == 1 && at(x, 2, "Part")) {
		x->have_num = x->have_etag = 0;
		free(x->etag);
		x->etag = NULL;
	}
	if (x->kind == 2 && at(x, 2, "Object")) {
		x->have_key = 0;
		free(x->key);
		x->key = NULL;
	}
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	struct px *x = ud;

	if (x->err == 0 && buf_add(&x->text, s, (size_t)len) != 0)
		px_fail(x, x->text.err);
}

static char *
trimmed_dup(const char *s, int strip_quotes)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (strip_quotes && n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	return strndup(s, n);
}

static void
end_complete(struct px *x)
{
	if (at(x, 3, "PartNumber") && strcmp(x->path[1], "Part") == 0) {
		char *t = trimmed_dup(x->text.p, 0);
		uint64_t v;

		if (t == NULL) {
			px_fail(x, -ENOMEM);
			return;
		}
		if (num_u64(t, (size_t)-1, UINT64_MAX, &v) != 0 || v < 1 ||
		    v > EMU_OSS_MAX_PARTNO || x->have_num) {
			free(t);
			px_fail(x, -EBADMSG);
			return;
		}
		free(t);
		x->num = (uint32_t)v;
		x->have_num = 1;
	} else if (at(x, 3, "ETag") && strcmp(x->path[1], "Part") == 0) {
		if (x->have_etag || (x->etag = trimmed_dup(x->text.p, 1)) == NULL) {
			px_fail(x, x->have_etag ? -EBADMSG : -ENOMEM);
			return;
		}
		x->have_etag = 1;
	} else if (at(x, 2, "Part")) {
		if (!x->have_num || !x->have_etag) {
			px_fail(x, -EBADMSG);
			return;
		}
		if (x->nparts == x->capparts) {
			size_t nc = x->capparts != 0 ? x->capparts * 2 : 16;
			struct emu_oss_cpart *np;

			if (nc > EMU_OSS_MAX_PARTNO ||
			    (np = realloc(x->parts, nc * sizeof(*np))) == NULL) {
				px_fail(x, nc > EMU_OSS_MAX_PARTNO ? -EBADMSG :
				    -ENOMEM);
				return;
			}
			x->parts = np;
			x->capparts = nc;
		}
		x->parts[x->nparts].number = x->num;
		x->parts[x->nparts].etag = x->etag;
		x->nparts++;
		x->etag = NULL;
	}
}

static void
end_delete(struct px *x)
{
	if (at(x, 2, "Quiet")) {
		char *t = trimmed_dup(x->text.p, 0);

		if (t == NULL) {
			px_fail(x, -ENOMEM);
			return;
		}
		if (strcmp(t, "true") == 0)
			x->quiet = 1;
		else if (strcmp(t, "false") == 0)
			x->quiet = 0;
		else
			px_fail(x, -EBADMSG);
		free(t);
	} else if (at(x, 3, "Key") && strcmp(x->path[1], "Object") == 0) {
		/* keys are taken verbatim: leading/trailing blanks are part of them */
		if (x->have_key || (x->key = strdup(x->text.p)) == NULL) {
			px_fail(x, x->have_key ? -EBADMSG : -ENOMEM);
			return;
		}
		x->have_key = 1;
	} else if (at(x, 2, "Object")) {
		if (!x->have_key) {
			px_fail(x, -EBADMSG);
			return;
		}
		if (x->nkeys >= EMU_OSS_MAX_DELETE) {
			px_fail(x, -E2BIG);
			return;
		}
		if (x->nkeys == x->capkeys) {
			size_t nc = x->capkeys != 0 ? x->capkeys * 2 : 16;
			char **np;

			if ((np = realloc(x->keys, nc * sizeof(*np))) == NULL) {
				px_fail(x, -ENOMEM);
				return;
			}
			x->keys = np;
			x->capkeys = nc;
		}
		x->keys[x->nkeys++] = x->key;
		x->key = NULL;
	}
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	struct px *x = ud;

	(void)name;
	if (x->err != 0)
		return;
	if (x->kind == 1)
		end_complete(x);
	else
		end_delete(x);
	x->depth--;
	buf_reset(&x->text);
}

static void XMLCALL
on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal;
	px_fail(ud, -EBADMSG);
}

static void XMLCALL
on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
    int vlen, const XML_Char *base, const XML_Char *sysid,
    const XML_Char *pubid, const XML_Char *notation)
{
	(void)name;
	(void)is_param;
	(void)value;
	(void)vlen;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	px_fail(ud, -EBADMSG);
}

static int
px_run(struct px *x, const void *p, size_t len)
{
	int rc;

	if (len > BUF_MAX_DOC)
		return -EBADMSG;
	buf_init(&x->text, BUF_MAX_SMALL);
	if ((x->p = XML_ParserCreate("UTF-8")) == NULL)
		return -ENOMEM;
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, on_start, on_end);
	XML_SetCharacterDataHandler(x->p, on_text);
	XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
	XML_SetEntityDeclHandler(x->p, on_entity);
	if (XML_Parse(x->p, p, (int)len, XML_TRUE) == XML_STATUS_ERROR)
		rc = x->err != 0 ? x->err : -EBADMSG;
	else
		rc = x->err;
	XML_ParserFree(x->p);
	buf_free(&x->text);
	return rc;
}

void
emu_oss_xml_complete_free(struct emu_oss_cpart *parts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(parts[i].etag);
	free(parts);
}

int
emu_oss_xml_complete(const void *p, size_t len, struct emu_oss_cpart **parts,
    size_t *nparts)
{
	struct px x;
	int rc;

	*parts = NULL;
	*nparts = 0;
	memset(&x, 0, sizeof(x));
	x.kind = 1;
	rc = px_run(&x, p, len);
	free(x.etag);
	if (rc != 0) {
		emu_oss_xml_complete_free(x.parts, x.nparts);
		return rc;
	}
	*parts = x.parts;
	*nparts = x.nparts;
	return 0;
}

void
emu_oss_xml_strv_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
emu_oss_xml_delete(const void *p, size_t len, int *quiet, char ***keys,
    size_t *nkeys)
{
	struct px x;
	int rc;

	*keys = NULL;
	*nkeys = 0;
	*quiet = 0;
	memset(&x, 0, sizeof(x));
	x.kind = 2;
	rc = px_run(&x, p, len);
	free(x.key);
	if (rc != 0) {
		emu_oss_xml_strv_free(x.keys, x.nkeys);
		return rc;
	}
	*keys = x.keys;
	*nkeys = x.nkeys;
	*quiet = x.quiet;
	return 0;
}

int
emu_oss_xml_esc(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			buf_addstr(b, "&amp;");
			break;
		case '<':
			buf_addstr(b, "&lt;");
			break;
		case '>':
			buf_addstr(b, "&gt;");
			break;
		case '"':
			buf_addstr(b, "&quot;");
			break;
		case '\'':
			buf_addstr(b, "&apos;");
			break;
		case '\r':
			buf_addstr(b, "&#13;");
			break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				buf_printf(b, "&#%d;", *s);	/* not legal XML 1.0; keep visible */
			else
				buf_addc(b, *s);
		}
	}
	return b->err;
}
