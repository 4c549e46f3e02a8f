/* SPDX-License-Identifier: MIT */
/*
 * name.c - names that become file names, paths and object keys (name.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"

static bool
name_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

bool
name_def_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > NAME_DEF_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

void
name_quote(const char *s, size_t len, size_t max, char *out, size_t outsz)
{
	size_t i, o = 0;

	if (outsz == 0)
		return;
	for (i = 0; i < len && i < max && o + 5 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (name_ctl(c) || c == '\\') {
			(void)snprintf(out + o, outsz - o, "\\x%02x", c);
			o += 4;
		} else
			out[o++] = (char)c;
	}
	if (i < len && o + 4 < outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* the first control byte of (s, len), or NULL */
static const char *
name_find_ctl(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (name_ctl((unsigned char)s[i]) || s[i] == '\0')
			return s + i;
	return NULL;
}

/* does (s, len) hold a "." or ".." segment between '/'s?  *dots: 1 or 2 */
static bool
name_dot_segment(const char *s, size_t len, int *dots)
{
	size_t i = 0;

	while (i <= len) {
		size_t e = i;

		while (e < len && s[e] != '/')
			e++;
		if ((e - i == 1 && s[i] == '.') || (e - i == 2 && s[i] == '.' && s[i + 1] == '.')) {
			*dots = (int)(e - i);
			return true;
		}
		i = e + 1;
	}
	return false;
}

int
name_field_check(const char *who, const char *field, enum name_field kind, const char *s,
    struct eng_errbuf *eb)
{
	const char *sep = who != NULL ? ": " : "";
	char q[300];
	size_t n = strlen(s);
	int dots = 0;

	if (who == NULL)
		who = "";
	name_quote(s, n, 200, q, sizeof(q));
	if (name_find_ctl(s, n) != NULL)
		return eng_errbuf_set(eb, ENG_EINVAL, "%s%s\"%s\" \"%s\" contains a control "
		    "character; remove it", who, sep, field, q);
	switch (kind) {
	case NAME_F_COMPONENT:
	case NAME_F_SUFFIX:
		if (strchr(s, '/') != NULL)
			return eng_errbuf_set(eb, ENG_EINVAL, "%s%s\"%s\" \"%s\" contains '/': %s",
			    who, sep, field, q, kind == NAME_F_SUFFIX ? "a suffix ends a name and must "
			    "not add a directory" : "it must be one file name; put directories in \"path\"");
		if (kind == NAME_F_COMPONENT && (strcmp(s, ".") == 0 || strcmp(s, "..") == 0))
			return eng_errbuf_set(eb, ENG_EINVAL, "%s%s\"%s\" must be a file name, "
			    "not \"%s\"", who, sep, field, q);
		return 0;
	case NAME_F_PATH:
		return 0;
	case NAME_F_KEY:
		if (n == 0)
			return eng_errbuf_set(eb, ENG_EINVAL, "%s%s\"%s\" is empty; give the object "
			    "name prefix, e.g. \"backup/orders/\"", who, sep, field);
		if (s[0] == '/')
			return eng_errbuf_set(eb, ENG_EINVAL, "%s%s\"%s\" \"%s\" starts with '/': "
			    "OSS object names must not; write \"%s\"", who, sep, field, q,
			    q + strspn(q, "/"));
		if (name_dot_segment(s, n, &dots))
			return eng_errbuf_set(eb, ENG_EINVAL, "%s%s\"%s\" \"%s\" has a \"%s\" segment: "
			    "OSS keeps it in the key while tools that show keys as paths resolve it "
			    "(another place); write the key without \".\" and \"..\" segments", who, sep, field, q, dots == 1 ? "." : "..");
		return 0;
	}
	return 0;
}

int
name_key_normalise(const char *who, const char *field, const char *s, char **out,
    struct eng_errbuf *eb)
{
	size_t i, o = 0;
	char *k;
	int rc;

	*out = NULL;
	if ((k = malloc(strlen(s) + 1)) == NULL)
		return -ENOMEM;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] != '/' || o == 0 || k[o - 1] != '/')
			k[o++] = s[i];
	k[o] = '\0';
	if ((rc = name_field_check(who, field, NAME_F_KEY, k, eb)) != 0) {
		free(k);
		return rc;
	}
	*out = k;
	return 0;
}

static bool
name_has_dotdot(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++)
		if (s[i] == '.' && s[i + 1] == '.')
			return true;
	return false;
}

int
name_param_check(const char *pname, const char *field, enum name_field kind, const char *val,
    size_t vlen, struct eng_errbuf *eb)
{
	const char *where = kind == NAME_F_KEY ? "the object prefix" : "\"path\"";
	char q[300];
	int dots = 0;

	name_quote(val, vlen, 64, q, sizeof(q));
	if (name_find_ctl(val, vlen) != NULL)
		return eng_errbuf_set(eb, ENG_EINVAL, "parameter ${%s} = '%s' contains a control "
		    "character, which \"%s\" must not hold; give %s a printable value", pname, q,
		    field, pname);
	if ((kind == NAME_F_COMPONENT || kind == NAME_F_SUFFIX) &&
	    (memchr(val, '/', vlen) != NULL || name_has_dotdot(val, vlen)))
		return eng_errbuf_set(eb, ENG_EINVAL, "parameter ${%s} = '%s' would move the "
		    "output outside %s: \"%s\" must stay one file name (no '/' or \"..\"); "
		    "give %s a value without them", pname, q, where, field, pname);
	if ((kind == NAME_F_PATH || kind == NAME_F_KEY) && name_dot_segment(val, vlen, &dots))
		return eng_errbuf_set(eb, ENG_EINVAL, "parameter ${%s} = '%s' would move the "
		    "output outside %s: its value in \"%s\" has a \"%s\" segment; give %s a "
		    "value without \".\" and \"..\" segments", pname, q,
		    kind == NAME_F_KEY ? "the object prefix" : "the directory written",
		    field, dots == 1 ? "." : "..", pname);
	return 0;
}
