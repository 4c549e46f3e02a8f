/* SPDX-License-Identifier: MIT */
/*
 * conf_diag.c - diagnostics (FILE:LINE:COL), comment stripping, key tables
 * with did-you-mean, and the value helpers every conf validator uses.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_i.h"

struct conf_dent {
	struct conf_diag pub;
	size_t		 off;
	size_t		 seq;
	char		*msg;
};

struct conf_diags {
	struct conf_dent *v;
	size_t		 n, cap;
	size_t		 nerr, nwarn;
	bool		 sorted;
};

int
conf_diags_new(struct conf_diags **out)
{
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? 0 : -ENOMEM;
}

void
conf_diags_clear(struct conf_diags *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		free(d->v[i].msg);
	d->n = d->nerr = d->nwarn = 0;
}

void
conf_diags_free(struct conf_diags *d)
{
	if (d == NULL)
		return;
	conf_diags_clear(d);
	free(d->v);
	free(d);
}

size_t
conf_diags_count(const struct conf_diags *d)
{
	return d != NULL ? d->n : 0;
}

size_t
conf_diags_errors(const struct conf_diags *d)
{
	return d != NULL ? d->nerr : 0;
}

size_t
conf_diags_warnings(const struct conf_diags *d)
{
	return d != NULL ? d->nwarn : 0;
}

static int
dent_cmp(const void *a, const void *b)
{
	const struct conf_dent *x = a, *y = b;

	/* unknown positions (line 0) first, then by position, then order */
	if (x->pub.line != y->pub.line)
		return x->pub.line < y->pub.line ? -1 : 1;
	if (x->pub.col != y->pub.col)
		return x->pub.col < y->pub.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
diags_sort(const struct conf_diags *cd)
{
	struct conf_diags *d = (struct conf_diags *)(uintptr_t)cd;

	if (!d->sorted && d->n > 0) {
		qsort(d->v, d->n, sizeof(*d->v), dent_cmp);
		d->sorted = true;
	}
}

const struct conf_diag *
conf_diags_at(const struct conf_diags *d, size_t i)
{
	if (d == NULL || i >= d->n)
		return NULL;
	diags_sort(d);
	return &d->v[i].pub;
}

int
conf_diags_format(const struct conf_diags *d, const char *file,
    struct buf *out)
{
	size_t i;
	int rc = 0;

	if (d == NULL)
		return 0;
	diags_sort(d);
	for (i = 0; i < d->n && rc == 0; i++) {
		const struct conf_diag *g = &d->v[i].pub;
		const char *sev = g->sev == CONF_ERROR ? "error" : "warning";

		if (g->line != 0)
			rc = buf_printf(out, "%s:%u:%u: %s: %s\n", file, g->line,
			    g->col, sev, g->msg);
		else
			rc = buf_printf(out, "%s: %s: %s\n", file, sev, g->msg);
	}
	return rc;
}

static void ctx_vadd(struct conf_ctx *c, enum conf_sev sev, size_t off,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void
ctx_vadd(struct conf_ctx *c, enum conf_sev sev, size_t off, const char *fmt,
    va_list ap)
{
	struct conf_diags *d = c->d;
	struct conf_dent *e;
	char tmp[1024];
	int n;

	if (sev == CONF_ERROR)
		c->nerr++;
	/* a resolved job repeats no definition-time advice */
	if (d == NULL || (sev == CONF_WARNING && c->resolved))
		return;
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(tmp))	/* keep a truncated message, marked */
		memcpy(tmp + sizeof(tmp) - 4, "...", 4);
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 16;
		struct conf_dent *nv = realloc(d->v, ncap * sizeof(*nv));

		if (nv == NULL) {
			c->oom = 1;
			return;
		}
		d->v = nv;
		d->cap = ncap;
	}
	e = &d->v[d->n];
	memset(e, 0, sizeof(*e));
	if ((e->msg = strdup(tmp)) == NULL) {
		c->oom = 1;
		return;
	}
	e->pub.msg = e->msg;
	e->pub.sev = sev;
	e->off = off;
	e->seq = d->n;
	if (off != JSON_NOOFF && c->text != NULL && off <= c->len) {
		size_t i, line = 1, bol = 0;

		for (i = 0; i < off; i++)
			if (c->text[i] == '\n') {
				line++;
				bol = i + 1;
			}
		e->pub.line = (unsigned)line;
		e->pub.col = (unsigned)(off - bol + 1);
	}
	d->n++;
	d->sorted = false;
	if (sev == CONF_ERROR)
		d->nerr++;
	else
		d->nwarn++;
}

static size_t
node_off(const struct conf_ctx *c, const struct json *n, enum conf_at at)
{
	size_t off;

	if (c->doc == NULL || n == NULL)
		return JSON_NOOFF;
	off = at == AT_KEY ? json_doc_key_off(c->doc, n) : JSON_NOOFF;
	if (off == JSON_NOOFF)
		off = json_doc_val_off(c->doc, n);
	return off;
}

void
conf_err(struct conf_ctx *c, const struct json *n, enum conf_at at,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctx_vadd(c, CONF_ERROR, node_off(c, n, at), fmt, ap);
	va_end(ap);
}

void
conf_warn(struct conf_ctx *c, const struct json *n, enum conf_at at,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctx_vadd(c, CONF_WARNING, node_off(c, n, at), fmt, ap);
	va_end(ap);
}

void
conf_diag_at(struct conf_ctx *c, enum conf_sev sev, size_t off,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctx_vadd(c, sev, off, fmt, ap);
	va_end(ap);
}

/* ---- comments and loading ----------------------------------------------- */

int
conf_strip_comments(const char *buf, size_t len, char **out, size_t *erroff,
    const char **why)
{
	char *t;
	size_t i = 0;
	int rc = ENG_EINVAL;

	*out = NULL;
	if ((t = malloc(len + 1)) == NULL)
		return -ENOMEM;
	if (len != 0)
		memcpy(t, buf, len);
	t[len] = '\0';
	while (i < len) {
		if (t[i] == '"') {
			for (i++; i < len && t[i] != '"' && t[i] != '\n'; i++)
				if (t[i] == '\\' && i + 1 < len)
					i++;
			i++;
		} else if (t[i] == '#' || (t[i] == '/' && i + 1 < len && t[i + 1] == '/')) {
			while (i < len && t[i] != '\n')
				t[i++] = ' ';
		} else if (t[i] == '/' && i + 1 < len && t[i + 1] == '*') {
			size_t start = i;

			t[i++] = ' ';
			t[i++] = ' ';
			while (i < len && !(t[i] == '*' && i + 1 < len && t[i + 1] == '/')) {
				if (t[i] != '\n')
					t[i] = ' ';
				i++;
			}
			if (i >= len) {
				*erroff = start;
				*why = "unterminated /* comment";
				goto out;
			}
			t[i++] = ' ';
			t[i++] = ' ';
		} else
			i++;
	}
	*out = t;
	t = NULL;
	rc = 0;
out:
	free(t);
	return rc;
}

/* What cJSON expected at off, for a friendlier syntax message. */
static const char *
syntax_hint(const char *t, size_t len, size_t off)
{
	size_t i = off, k;
	int depth = 0;
	bool instr = false;

	if (len == 0 || off >= len)
		return "unexpected end of file";
	/* nesting depth at off (t is comment-free) */
	for (k = 0; k < off; k++) {
		if (instr) {
			if (t[k] == '\\')
				k++;
			else if (t[k] == '"')
				instr = false;
		} else if (t[k] == '"')
			instr = true;
		else if (t[k] == '{' || t[k] == '[')
			depth++;
		else if (t[k] == '}' || t[k] == ']')
			depth--;
	}
	/* look back to the previous significant byte */
	while (i > 0 && (unsigned char)t[i - 1] <= 32)
		i--;
	if (depth <= 0 && i > 0)
		return "extra text after the end of the JSON document";
	if (t[off] == '}' || t[off] == ']') {
		if (i > 0 && t[i - 1] == ',')
			return "trailing comma before closing bracket";
		return "unexpected closing bracket";
	}
	if (t[off] == '\'')
		return "strings must use double quotes";
	if (t[off] == '"' && i > 0 && (t[i - 1] == '"' || t[i - 1] == '}' ||
	    t[i - 1] == ']' || isalnum((unsigned char)t[i - 1])))
		return "missing comma";
	if (i > 0 && t[i - 1] == ':' && (isalpha((unsigned char)t[off]) || t[off] == '_'))
		return "bad value (literals are true, false and null; strings need double quotes)";
	if (isalpha((unsigned char)t[off]) || t[off] == '_')
		return "member names need double quotes";
	return "unexpected character";
}

/*
 * If the line holding off ends inside a string, return the offset of that
 * string's opening quote (JSON strings cannot span lines), else JSON_NOOFF.
 */
static size_t
open_string_at(const char *t, size_t len, size_t off)
{
	size_t bol = off, i, q = JSON_NOOFF;
	bool instr = false;

	while (bol > 0 && t[bol - 1] != '\n')
		bol--;
	for (i = bol; i < len && t[i] != '\n'; i++) {
		if (instr && t[i] == '\\')
			i++;
		else if (t[i] == '"') {
			instr = !instr;
			q = i;
		}
	}
	return instr ? q : JSON_NOOFF;
}

int
conf_load(struct conf_ctx *c, const char *buf, size_t len,
    struct json_doc **doc)
{
	const char *why = NULL;
	char *text = NULL;
	size_t off = 0;
	int rc;

	*doc = NULL;
	c->doc = NULL;
	c->text = buf;
	c->len = len;
	rc = conf_strip_comments(buf, len, &text, &off, &why);
	if (rc == -ENOMEM)
		return rc;
	if (rc != 0) {
		conf_diag_at(c, CONF_ERROR, off, "%s", why);
		return ENG_EINVAL;
	}
	rc = json_parse(text, len, doc, &off);
	if (rc == -ENOMEM)
		goto out;
	if (rc != 0) {
		const char *p = memchr(text, '\0', len);
		size_t i;

		if (p != NULL && (size_t)(p - text) == off) {
			conf_diag_at(c, CONF_ERROR, off, "syntax error: NUL byte in file");
			rc = ENG_EINVAL;
			goto out;
		}
		/*
		 * Where cJSON expected a member name it reports the byte after
		 * the offending one: step back when the byte before off is the
		 * first of a token that follows '{' or ','.
		 */
		if (off > 0 && (unsigned char)text[off - 1] > 32 &&
		    strchr(",{[:", text[off - 1]) == NULL) {
			for (i = off - 1; i > 0 && (unsigned char)text[i - 1] <= 32; i--)
				;
			if (i > 0 && (text[i - 1] == '{' || text[i - 1] == ','))
				off--;
		}
		for (i = off; i < len && (unsigned char)text[i] <= 32; i++)
			;
		if (i >= len) {
			for (i = 0; i < len && (unsigned char)text[i] <= 32; i++)
				;
			conf_diag_at(c, CONF_ERROR, len, "syntax error: %s", i >= len ?
			    "the file is empty; expected a JSON object" :
			    "unexpected end of file (an object or array is not closed)");
			rc = ENG_EINVAL;
			goto out;
		}
		if ((i = open_string_at(text, len, off)) != JSON_NOOFF)
			conf_diag_at(c, CONF_ERROR, i, "syntax error: unterminated string (write a line break inside a string as \\n)");
		else
			conf_diag_at(c, CONF_ERROR, off, "syntax error: %s",
			    syntax_hint(text, len, off));
		rc = ENG_EINVAL;
		goto out;
	}
	c->doc = *doc;
	c->text = json_doc_text(*doc, &c->len);
	rc = 0;
out:
	free(text);
	return rc;
}

/* ---- did you mean ------------------------------------------------------- */

static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64];

	if (la >= 63 || lb >= 63)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) ==
			    tolower((unsigned char)b[j - 1]) ? 0 : 1;
			size_t best = prev + cost;

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

const char *
conf_suggest(const char *name, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t bestd = (size_t)-1, i, len = strlen(name);
	size_t limit = len < 4 ? 1 : len / 3 + 1;

	for (i = 0; i < n; i++) {
		size_t dd = edit_distance(name, cands[i]);

		if (dd < bestd) {
			bestd = dd;
			best = cands[i];
		}
	}
	return bestd <= limit ? best : NULL;
}

/* ---- key tables --------------------------------------------------------- */

void
conf_check_keys(struct conf_ctx *c, const struct json *obj,
    const struct conf_key *keys, size_t n, const char *what)
{
	const char *names[64];
	const struct json *m, *p;
	size_t i, nn = n < 64 ? n : 64;

	for (i = 0; i < nn; i++)
		names[i] = keys[i].name;
	for (m = json_first(obj); m != NULL; m = json_next(m)) {
		const char *k = json_key(m);
		const struct conf_key *ck = NULL;
		bool dup = false;

		for (p = json_first(obj); p != m; p = json_next(p))
			if (strcmp(json_key(p), k) == 0)
				dup = true;
		if (dup) {
			conf_err(c, m, AT_KEY, "duplicate key \"%s\" in %s", k, what);
			continue;
		}
		for (i = 0; i < n; i++)
			if (strcmp(keys[i].name, k) == 0)
				ck = &keys[i];
		if (ck == NULL) {
			const char *s = conf_suggest(k, names, nn);

			if (s != NULL)
				conf_err(c, m, AT_KEY, "unknown key \"%.80s\" in %s; did you mean \"%s\"?",
				    k, what, s);
			else
				conf_err(c, m, AT_KEY, "unknown key \"%.80s\" in %s", k, what);
			continue;
		}
		conf_check_value(c, m, ck);
	}
	for (i = 0; i < n; i++)
		if ((keys[i].flags & KF_REQ) && json_get(obj, keys[i].name) == NULL)
			conf_err(c, obj, AT_VAL, "%s: missing required key \"%s\"%s%s",
			    what, keys[i].name, keys[i].hint ? "; " : "",
			    keys[i].hint ? keys[i].hint : "");
}

static const char *
type_name(enum json_type t)
{
	switch (t) {
	case JSON_NULL:		return "null";
	case JSON_BOOL:		return "a boolean";
	case JSON_NUMBER:	return "a number";
	case JSON_STRING:	return "a string";
	case JSON_ARRAY:	return "an array";
	case JSON_OBJECT:	return "an object";
	default:		return "invalid";
	}
}

void
conf_check_value(struct conf_ctx *c, const struct json *v,
    const struct conf_key *k)
{
	enum json_type t = json_type(v);
	const char *s = json_str(v), *why = NULL;
	int64_t iv;
	double dv;
	bool bv;

	switch (k->vt) {
	case VT_ANY:
		return;
	case VT_STR:
		if (t != JSON_STRING)
			conf_err(c, v, AT_VAL, "\"%s\" must be a string, not %s", k->name, type_name(t));
		return;
	case VT_NESTR:
	case VT_SECRET:
		if (t != JSON_STRING)
			conf_err(c, v, AT_VAL, "\"%s\" must be a string, not %s", k->name, type_name(t));
		else if (s[strspn(s, " \t\r\n")] == '\0')
			conf_err(c, v, AT_VAL, "\"%s\" must not be empty", k->name);
		return;
	case VT_URL:
		if (t != JSON_STRING)
			conf_err(c, v, AT_VAL, "\"%s\" must be a string, not %s", k->name, type_name(t));
		else if (!conf_is_tmpl(c, s) && !conf_valid_url(s, &why)) {
			struct buf shown;	/* never echo a password in the URL */

			buf_init(&shown, BUF_MAX_SMALL);
			if (conf_mask_url(s, strlen(s), &shown) != 0)
				c->oom = true;
			conf_err(c, v, AT_VAL, "\"%s\": \"%.200s\" is not a valid endpoint: %s",
			    k->name, shown.p, why);
			buf_free(&shown);
		}
		return;
	case VT_INT:
		if (t == JSON_STRING && conf_is_tmpl(c, s))
			return;
		if (conf_val_int(v, &iv) != 0)
			conf_err(c, v, AT_VAL, "\"%s\" must be an integer (a JSON number or a numeric string)%s%s",
			    k->name, k->hint ? "; " : "", k->hint ? k->hint : "");
		else if (iv < k->min || iv > k->max) {
			if (k->max == INT64_MAX)
				conf_err(c, v, AT_VAL, "\"%s\" is %lld; it must be at least %lld",
				    k->name, (long long)iv, (long long)k->min);
			else
				conf_err(c, v, AT_VAL, "\"%s\" is %lld; it must be between %lld and %lld",
				    k->name, (long long)iv, (long long)k->min, (long long)k->max);
		}
		return;
	case VT_NUM:
		if (t == JSON_STRING && conf_is_tmpl(c, s))
			return;
		if (conf_val_num(v, &dv) != 0)
			conf_err(c, v, AT_VAL, "\"%s\" must be a number (a JSON number or a numeric string)",
			    k->name);
		else if (!(dv > 0))
			conf_err(c, v, AT_VAL, "\"%s\" must be greater than 0", k->name);
		return;
	case VT_BOOL:
		if (t == JSON_STRING && conf_is_tmpl(c, s))
			return;
		if (conf_val_bool(v, &bv) != 0)
			conf_err(c, v, AT_VAL, "\"%s\" must be true or false", k->name);
		return;
	case VT_OBJ:
		if (t != JSON_OBJECT)
			conf_err(c, v, AT_VAL, "\"%s\" must be an object, not %s", k->name, type_name(t));
		return;
	case VT_ARR:
		if (t != JSON_ARRAY)
			conf_err(c, v, AT_VAL, "\"%s\" must be an array, not %s", k->name, type_name(t));
		return;
	}
}

/* ---- values ------------------------------------------------------------- */

bool
conf_is_tmpl(const struct conf_ctx *c, const char *s)
{
	const char *p;

	if (c != NULL && c->resolved)
		return false;
	for (p = s; p != NULL && (p = strstr(p, "${")) != NULL; p += 2) {
		if (p > s && p[-1] == '$')
			continue;	/* "$${" is a literal "${" */
		if (strchr(p, '}') != NULL)
			return true;
	}
	return false;
}

int
conf_parse_i64(const char *s, int64_t *out)
{
	uint64_t v = 0;
	bool neg = false;
	const char *p = s;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p))
		return ENG_EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return ENG_EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '\0' || v > (uint64_t)INT64_MAX)
		return ENG_EINVAL;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

int
conf_val_int(const struct json *v, int64_t *out)
{
	double d;

	if (json_num(v, &d) == 0) {
		if (d != (double)(int64_t)d || d > 9007199254740992.0 ||
		    d < -9007199254740992.0)
			return ENG_EINVAL;
		*out = (int64_t)d;
		return 0;
	}
	if (json_str(v) != NULL)
		return conf_parse_i64(json_str(v), out);
	return ENG_EINVAL;
}

int
conf_val_num(const struct json *v, double *out)
{
	const char *s = json_str(v);
	char *end;
	double d;

	if (json_num(v, out) == 0)
		return 0;
	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return ENG_EINVAL;
	errno = 0;
	d = strtod(s, &end);
	if (*end != '\0' || errno != 0 || d != d)
		return ENG_EINVAL;
	*out = d;
	return 0;
}

int
conf_val_bool(const struct json *v, bool *out)
{
	const char *s = json_str(v);

	if (json_bool(v, out) == 0)
		return 0;
	if (s != NULL && strcasecmp(s, "true") == 0) {
		*out = true;
		return 0;
	}
	if (s != NULL && strcasecmp(s, "false") == 0) {
		*out = false;
		return 0;
	}
	return ENG_EINVAL;
}

int
conf_parse_duration(const char *s, int64_t *out)
{
	int64_t n = 0, mul;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return ENG_EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (n > 100000000)
			return ENG_EINVAL;
		n = n * 10 + (*p - '0');
	}
	switch (*p) {
	case 's':	mul = 1; break;
	case 'm':	mul = 60; break;
	case 'h':	mul = 3600; break;
	case 'd':	mul = 86400; break;
	default:	return ENG_EINVAL;
	}
	if (p[1] != '\0' || n <= 0)
		return ENG_EINVAL;
	*out = n * mul;
	return 0;
}

static int
digits(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

bool
conf_valid_stamp(const char *s, size_t len)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;
	size_t i;

	if (len != 8 && len != 14)
		return false;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	y = digits(s, 4);
	m = digits(s + 4, 2);
	d = digits(s + 6, 2);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	if (len == 14 && (digits(s + 8, 2) > 23 || digits(s + 10, 2) > 59 ||
	    digits(s + 12, 2) > 59))
		return false;
	return true;
}

bool
conf_valid_url(const char *s, const char **why)
{
	const char *h, *e;
	size_t i;

	if (strncmp(s, "http://", 7) == 0)
		h = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		h = s + 8;
	else {
		*why = strncmp(s, "oss://", 6) == 0 ?
		    "it must start with http:// or https:// (an oss:// path is not an endpoint)" :
		    "it must start with http:// or https://";
		return false;
	}
	e = h + strcspn(h, "/?#");
	if (e == h) {
		*why = "the host is missing";
		return false;
	}
	for (i = 0; h + i < e; i++) {
		unsigned char ch = (unsigned char)h[i];

		if (!isalnum(ch) && ch != '.' && ch != '-' && ch != ':' &&
		    ch != '_' && ch != '[' && ch != ']') {
			*why = "the host contains an invalid character";
			return false;
		}
	}
	if (memchr(h, ':', (size_t)(e - h)) != NULL && h[0] != '[') {
		const char *port = (const char *)memchr(h, ':', (size_t)(e - h)) + 1;
		long pv = 0;

		if (port == e) {
			*why = "the port is empty";
			return false;
		}
		for (; port < e; port++) {
			if (!isdigit((unsigned char)*port) || (pv = pv * 10 + (*port - '0')) > 65535) {
				*why = "the port must be a number from 1 to 65535";
				return false;
			}
		}
		if (pv == 0) {
			*why = "the port must be a number from 1 to 65535";
			return false;
		}
	}
	return true;
}

/*
 * The one list of secret names (README "Secrets"): a member or parameter
 * named exactly like one of conf_secret_exact[], or whose name contains one
 * of conf_secret_parts[], both compared without regard to case.  It covers
 * accessKey, accessKeySecret, securityToken, password, secret, token and
 * names like dbPassword or API_TOKEN.
 */
static const char *const conf_secret_exact[] = { "accessKey" };
static const char *const conf_secret_parts[] = { "secret", "password", "passwd", "token" };

#define CONF_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

bool
conf_is_secret_key(const char *key)
{
	size_t i;

	if (key == NULL)
		return false;
	for (i = 0; i < CONF_NELEM(conf_secret_exact); i++)
		if (strcasecmp(key, conf_secret_exact[i]) == 0)
			return true;
	for (i = 0; i < CONF_NELEM(conf_secret_parts); i++)
		if (strcasestr(key, conf_secret_parts[i]) != NULL)
			return true;
	return false;
}

/* a byte that ends the authority of a URL (RFC 3986 3.2) in free text */
static bool
conf_url_auth_end(char ch)
{
	return (unsigned char)ch <= 0x20 || ch == '/' || ch == '?' || ch == '#' ||
	    ch == '"' || ch == '\'' || ch == '<' || ch == '>' || ch == 0x7f;
}

int
conf_mask_url(const char *s, size_t len, struct buf *out)
{
	const char *p;
	size_t pos = 0, a, e, at;
	int rc = 0;

	while (rc == 0 && (p = memmem(s + pos, len - pos, "://", 3)) != NULL) {
		a = (size_t)(p - s) + 3;
		for (e = a, at = 0; e < len && !conf_url_auth_end(s[e]); e++)
			if (s[e] == '@')
				at = e;
		if (at != 0) {	/* scheme://USERINFO@host: USERINFO goes */
			rc = buf_add(out, s + pos, a - pos);
			if (rc == 0)
				rc = buf_addstr(out, CONF_MASK);
			if (rc == 0)
				rc = buf_add(out, s + at, e - at);
		} else
			rc = buf_add(out, s + pos, e - pos);
		pos = e;
	}
	return rc != 0 ? rc : buf_add(out, s + pos, len - pos);
}

int
conf_mask_param(const char *name, const char *value, struct buf *out)
{
	if (conf_is_secret_key(name))
		return buf_addstr(out, CONF_MASK);
	return conf_mask_url(value, strlen(value), out);
}

/* case-insensitive memmem */
static const char *
conf_memcasemem(const char *h, size_t hl, const char *n)
{
	size_t nl = strlen(n), i;

	for (i = 0; nl <= hl && i <= hl - nl; i++)
		if (strncasecmp(h + i, n, nl) == 0)
			return h + i;
	return NULL;
}

const char *
conf_find_secret_name(const char *s, size_t len, size_t *nlen)
{
	const char *best = NULL, *p;
	size_t i, bl = 0;

	for (i = 0; i < CONF_NELEM(conf_secret_exact); i++)
		if ((p = conf_memcasemem(s, len, conf_secret_exact[i])) != NULL &&
		    (best == NULL || p < best)) {
			best = p;
			bl = strlen(conf_secret_exact[i]);
		}
	for (i = 0; i < CONF_NELEM(conf_secret_parts); i++)
		if ((p = conf_memcasemem(s, len, conf_secret_parts[i])) != NULL &&
		    (best == NULL || p < best)) {
			best = p;
			bl = strlen(conf_secret_parts[i]);
		}
	if (nlen != NULL)
		*nlen = bl;
	return best;
}
