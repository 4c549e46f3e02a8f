/* SPDX-License-Identifier: MIT */
/*
 * json.c - the only user of cJSON (see json.h).
 *
 * struct json is never defined: a struct json * is a cJSON * seen through an
 * opaque type, converted at this boundary only.  Parsing is cJSON's
 * (cJSON_ParseWithLengthOpts, which also returns where it failed); after a
 * successful parse, loc_walk() runs over the same text once, in step with
 * the tree cJSON built, and records where each member name and each value
 * begins.  That walk never decides validity (cJSON already did); it only
 * skips tokens it knows are well formed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "json.h"

struct json_loc {
	uintptr_t	node;		/* the cJSON node */
	size_t		key_off;	/* opening quote of the name, or JSON_NOOFF */
	size_t		val_off;	/* first byte of the value */
};

struct json_doc {
	cJSON		*root;
	char		*text;		/* NUL-terminated copy of the input */
	size_t		 len;
	struct json_loc	*locs;		/* sorted by node after parsing */
	size_t		 nlocs, caplocs;
};

static cJSON *
J(const struct json *n)
{
	return (cJSON *)(uintptr_t)n;
}

static struct json *
N(const cJSON *c)
{
	return (struct json *)(uintptr_t)c;
}

/* ---- offsets ----------------------------------------------------------- */

static int
loc_add(struct json_doc *d, const cJSON *c, size_t key_off, size_t val_off)
{
	if (d->nlocs == d->caplocs) {
		size_t ncap = d->caplocs ? d->caplocs * 2 : 64;
		struct json_loc *nl = realloc(d->locs, ncap * sizeof(*nl));

		if (nl == NULL)
			return -ENOMEM;
		d->locs = nl;
		d->caplocs = ncap;
	}
	d->locs[d->nlocs].node = (uintptr_t)c;
	d->locs[d->nlocs].key_off = key_off;
	d->locs[d->nlocs].val_off = val_off;
	d->nlocs++;
	return 0;
}

/* cJSON's whitespace: every byte <= 32 */
static size_t
loc_ws(const char *t, size_t len, size_t i)
{
	while (i < len && (unsigned char)t[i] <= 32 && t[i] != '\0')
		i++;
	return i;
}

/* t[i] == '"': return the offset just past the closing quote */
static size_t
loc_skip_string(const char *t, size_t len, size_t i)
{
	i++;
	while (i < len && t[i] != '"') {
		if (t[i] == '\\')
			i++;
		i++;
	}
	return i < len ? i + 1 : len;
}

static int
loc_walk(struct json_doc *d, const cJSON *c, size_t *pos, size_t key_off)
{
	const char *t = d->text;
	size_t i = loc_ws(t, d->len, *pos);
	const cJSON *ch;
	int rc;

	if (c == NULL || i >= d->len)
		return ENG_EINVAL;
	if ((rc = loc_add(d, c, key_off, i)) != 0)
		return rc;
	if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
		char close = cJSON_IsObject(c) ? '}' : ']';

		i++;
		for (ch = c->child; ch != NULL; ch = ch->next) {
			size_t k = JSON_NOOFF;

			i = loc_ws(t, d->len, i);
			if (i < d->len && t[i] == ',')
				i = loc_ws(t, d->len, i + 1);
			if (cJSON_IsObject(c)) {
				if (i >= d->len || t[i] != '"')
					return ENG_EINVAL;
				k = i;
				i = loc_ws(t, d->len, loc_skip_string(t, d->len, i));
				if (i >= d->len || t[i] != ':')
					return ENG_EINVAL;
				i++;
			}
			if ((rc = loc_walk(d, ch, &i, k)) != 0)
				return rc;
		}
		i = loc_ws(t, d->len, i);
		if (i >= d->len || t[i] != close)
			return ENG_EINVAL;
		i++;
	} else if (t[i] == '"') {
		i = loc_skip_string(t, d->len, i);
	} else {
		while (i < d->len && (unsigned char)t[i] > 32 && t[i] != ',' &&
		    t[i] != ']' && t[i] != '}')
			i++;
	}
	*pos = i;
	return 0;
}

static int
loc_cmp(const void *a, const void *b)
{
	uintptr_t x = ((const struct json_loc *)a)->node;
	uintptr_t y = ((const struct json_loc *)b)->node;

	return x < y ? -1 : x > y;
}

static const struct json_loc *
loc_find(const struct json_doc *d, const struct json *n)
{
	struct json_loc key = { (uintptr_t)J(n), JSON_NOOFF, JSON_NOOFF };

	if (d == NULL || n == NULL || d->nlocs == 0)
		return NULL;
	return bsearch(&key, d->locs, d->nlocs, sizeof(key), loc_cmp);
}

/* ---- parsing ------------------------------------------------------------ */

int
json_parse(const char *buf, size_t len, struct json_doc **out, size_t *erroff)
{
	struct json_doc *d = NULL;
	const char *end = NULL;
	size_t pos = 0;
	int rc = -ENOMEM;

	*out = NULL;
	if (buf == NULL && len != 0)
		return -EINVAL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		goto out;
	if ((d->text = malloc(len + 1)) == NULL)
		goto out;
	if (len != 0)
		memcpy(d->text, buf, len);
	d->text[len] = '\0';
	d->len = len;
	if (memchr(d->text, '\0', len) != NULL) {
		if (erroff != NULL)
			*erroff = (size_t)((const char *)memchr(d->text, '\0', len) - d->text);
		rc = ENG_EINVAL;
		goto out;
	}
	/* len + 1: require_null_terminated checks the byte after the value */
	d->root = cJSON_ParseWithLengthOpts(d->text, len + 1, &end, 1);
	if (d->root == NULL) {
		size_t off = (end != NULL && end >= d->text) ? (size_t)(end - d->text) : 0;

		if (off > len)
			off = len;
		if (off == len && len > 0)
			off = len - 1;
		if (erroff != NULL)
			*erroff = off;
		/* cJSON also fails on allocation failure; we cannot tell apart */
		rc = ENG_EINVAL;
		goto out;
	}
	if (len >= 3 && memcmp(d->text, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;
	if ((rc = loc_walk(d, d->root, &pos, JSON_NOOFF)) != 0) {
		if (rc != -ENOMEM) {
			/* cannot happen for text cJSON accepted; keep no offsets */
			d->nlocs = 0;
			rc = 0;
		} else
			goto out;
	}
	if (d->nlocs > 0)
		qsort(d->locs, d->nlocs, sizeof(*d->locs), loc_cmp);
	*out = d;
	d = NULL;
	rc = 0;
out:
	json_doc_free(d);
	return rc;
}

void
json_doc_free(struct json_doc *doc)
{
	if (doc == NULL)
		return;
	cJSON_Delete(doc->root);
	free(doc->text);
	free(doc->locs);
	free(doc);
}

const struct json *
json_doc_root(const struct json_doc *doc)
{
	return doc != NULL ? N(doc->root) : NULL;
}

size_t
json_doc_val_off(const struct json_doc *doc, const struct json *n)
{
	const struct json_loc *l = loc_find(doc, n);

	return l != NULL ? l->val_off : JSON_NOOFF;
}

size_t
json_doc_key_off(const struct json_doc *doc, const struct json *n)
{
	const struct json_loc *l = loc_find(doc, n);

	return l != NULL ? l->key_off : JSON_NOOFF;
}

const char *
json_doc_text(const struct json_doc *doc, size_t *lenp)
{
	if (lenp != NULL)
		*lenp = doc != NULL ? doc->len : 0;
	return doc != NULL ? doc->text : NULL;
}

/* ---- reading ------------------------------------------------------------ */

enum json_type
json_type(const struct json *n)
{
	const cJSON *c = J(n);

	if (c == NULL)
		return JSON_INVALID;
	switch (c->type & 0xff) {
	case cJSON_NULL:	return JSON_NULL;
	case cJSON_False:
	case cJSON_True:	return JSON_BOOL;
	case cJSON_Number:	return JSON_NUMBER;
	case cJSON_String:	return JSON_STRING;
	case cJSON_Array:	return JSON_ARRAY;
	case cJSON_Object:	return JSON_OBJECT;
	default:		return JSON_INVALID;
	}
}

const char *
json_key(const struct json *n)
{
	return n != NULL ? J(n)->string : NULL;
}

const struct json *
json_get(const struct json *obj, const char *key)
{
	if (json_type(obj) != JSON_OBJECT || key == NULL)
		return NULL;
	return N(cJSON_GetObjectItemCaseSensitive(J(obj), key));
}

const struct json *
json_first(const struct json *n)
{
	enum json_type t = json_type(n);

	return (t == JSON_OBJECT || t == JSON_ARRAY) ? N(J(n)->child) : NULL;
}

const struct json *
json_next(const struct json *n)
{
	return n != NULL ? N(J(n)->next) : NULL;
}

size_t
json_size(const struct json *n)
{
	const struct json *c;
	size_t k = 0;

	for (c = json_first(n); c != NULL; c = json_next(c))
		k++;
	return k;
}

const char *
json_str(const struct json *n)
{
	return json_type(n) == JSON_STRING ? J(n)->valuestring : NULL;
}

int
json_num(const struct json *n, double *out)
{
	if (json_type(n) != JSON_NUMBER)
		return ENG_EINVAL;
	*out = J(n)->valuedouble;
	return 0;
}

int
json_bool(const struct json *n, bool *out)
{
	if (json_type(n) != JSON_BOOL)
		return ENG_EINVAL;
	*out = cJSON_IsTrue(J(n));
	return 0;
}

bool
json_equal(const struct json *a, const struct json *b)
{
	const struct json *x, *y;

	if (json_type(a) != json_type(b))
		return false;
	switch (json_type(a)) {
	case JSON_INVALID:
	case JSON_NULL:
		return true;
	case JSON_BOOL:
		return cJSON_IsTrue(J(a)) == cJSON_IsTrue(J(b));
	case JSON_NUMBER:
		return J(a)->valuedouble == J(b)->valuedouble;
	case JSON_STRING:
		return strcmp(J(a)->valuestring, J(b)->valuestring) == 0;
	case JSON_ARRAY:
	case JSON_OBJECT:
		for (x = json_first(a), y = json_first(b); x != NULL && y != NULL;
		    x = json_next(x), y = json_next(y)) {
			if (json_type(a) == JSON_OBJECT &&
			    strcmp(json_key(x), json_key(y)) != 0)
				return false;
			if (!json_equal(x, y))
				return false;
		}
		return x == NULL && y == NULL;
	}
	return false;
}

/* ---- building ----------------------------------------------------------- */

struct json *
json_new_object(void)
{
	return N(cJSON_CreateObject());
}

struct json *
json_new_array(void)
{
	return N(cJSON_CreateArray());
}

struct json *
json_new_null(void)
{
	return N(cJSON_CreateNull());
}

struct json *
json_new_str(const char *s)
{
	return s != NULL ? N(cJSON_CreateString(s)) : NULL;
}

struct json *
json_new_num(double v)
{
	return N(cJSON_CreateNumber(v));
}

struct json *
json_new_int(int64_t v)
{
	return N(cJSON_CreateNumber((double)v));
}

struct json *
json_new_bool(bool v)
{
	return N(cJSON_CreateBool(v));
}

int
json_obj_add(struct json *obj, const char *key, struct json *val)
{
	if (val == NULL)
		return -ENOMEM;
	if (json_type(obj) != JSON_OBJECT || key == NULL) {
		cJSON_Delete(J(val));
		return -EINVAL;
	}
	if (!cJSON_AddItemToObject(J(obj), key, J(val))) {
		cJSON_Delete(J(val));
		return -ENOMEM;
	}
	return 0;
}

int
json_obj_add_str(struct json *obj, const char *key, const char *s)
{
	if (s == NULL)
		return json_obj_add(obj, key, json_new_null());
	return json_obj_add(obj, key, json_new_str(s));
}

int
json_obj_add_int(struct json *obj, const char *key, int64_t v)
{
	return json_obj_add(obj, key, json_new_int(v));
}

int
json_obj_add_num(struct json *obj, const char *key, double v)
{
	return json_obj_add(obj, key, json_new_num(v));
}

int
json_obj_add_bool(struct json *obj, const char *key, bool v)
{
	return json_obj_add(obj, key, json_new_bool(v));
}

int
json_obj_add_null(struct json *obj, const char *key)
{
	return json_obj_add(obj, key, json_new_null());
}

int
json_obj_set(struct json *obj, const char *key, struct json *val)
{
	cJSON *old;
	char *k;

	if (val == NULL)
		return -ENOMEM;
	if (json_type(obj) != JSON_OBJECT || key == NULL) {
		cJSON_Delete(J(val));
		return -EINVAL;
	}
	old = cJSON_GetObjectItemCaseSensitive(J(obj), key);
	if (old == NULL)
		return json_obj_add(obj, key, val);
	/* give val its member name ourselves, then swap it in */
	if ((k = strdup(key)) == NULL) {
		cJSON_Delete(J(val));
		return -ENOMEM;
	}
	if (J(val)->string != NULL && !(J(val)->type & cJSON_StringIsConst))
		free(J(val)->string);
	J(val)->string = k;
	J(val)->type &= ~cJSON_StringIsConst;
	if (!cJSON_ReplaceItemViaPointer(J(obj), old, J(val))) {
		cJSON_Delete(J(val));
		return -ENOMEM;
	}
	return 0;
}

int
json_obj_del(struct json *obj, const char *key)
{
	cJSON *old;

	if (json_type(obj) != JSON_OBJECT || key == NULL)
		return -ENOENT;
	old = cJSON_DetachItemFromObjectCaseSensitive(J(obj), key);
	if (old == NULL)
		return -ENOENT;
	cJSON_Delete(old);
	return 0;
}

int
json_arr_add(struct json *arr, struct json *val)
{
	if (val == NULL)
		return -ENOMEM;
	if (json_type(arr) != JSON_ARRAY) {
		cJSON_Delete(J(val));
		return -EINVAL;
	}
	if (!cJSON_AddItemToArray(J(arr), J(val))) {
		cJSON_Delete(J(val));
		return -ENOMEM;
	}
	return 0;
}

int
json_dup(const struct json *n, struct json **out)
{
	cJSON *c;

	*out = NULL;
	if (n == NULL)
		return -EINVAL;
	if ((c = cJSON_Duplicate(J(n), 1)) == NULL)
		return -ENOMEM;
	/* a duplicated member keeps its name; a root has none */
	if (c->string != NULL && !(c->type & cJSON_StringIsConst))
		free(c->string);
	c->string = NULL;
	c->type &= ~cJSON_StringIsConst;
	*out = N(c);
	return 0;
}

int
json_set_str(struct json *n, const char *s)
{
	char *copy;

	if (json_type(n) != JSON_STRING || s == NULL ||
	    (J(n)->type & cJSON_IsReference))
		return -EINVAL;
	if ((copy = strdup(s)) == NULL)
		return -ENOMEM;
	free(J(n)->valuestring);
	J(n)->valuestring = copy;
	return 0;
}

struct json *
json_get_mut(struct json *obj, const char *key)
{
	return N(J(json_get(obj, key)));
}

struct json *
json_first_mut(struct json *n)
{
	return N(J(json_first(n)));
}

struct json *
json_next_mut(struct json *n)
{
	return N(J(json_next(n)));
}

void
json_free(struct json *n)
{
	cJSON_Delete(J(n));
}

/* Pretty printer: 2-space indent, "key": value, one member per line; empty
 * containers as {} / [].  Scalars are printed by cJSON (string escaping). */
static int
print_pretty(const cJSON *c, int depth, struct buf *out)
{
	const cJSON *ch;
	char *s;
	int rc = 0, i;

	if (!cJSON_IsObject(c) && !cJSON_IsArray(c)) {
		if ((s = cJSON_PrintUnformatted((cJSON *)(uintptr_t)c)) == NULL)
			return -ENOMEM;
		rc = buf_addstr(out, s);
		cJSON_free(s);
		return rc;
	}
	if (c->child == NULL)
		return buf_addstr(out, cJSON_IsObject(c) ? "{}" : "[]");
	rc = buf_addstr(out, cJSON_IsObject(c) ? "{\n" : "[\n");
	for (ch = c->child; ch != NULL && rc == 0; ch = ch->next) {
		for (i = 0; i <= depth && rc == 0; i++)
			rc = buf_addstr(out, "  ");
		if (rc == 0 && cJSON_IsObject(c)) {
			cJSON *k = cJSON_CreateString(ch->string != NULL ? ch->string : "");

			if (k == NULL)
				return -ENOMEM;
			s = cJSON_PrintUnformatted(k);
			cJSON_Delete(k);
			if (s == NULL)
				return -ENOMEM;
			rc = buf_addstr(out, s);
			cJSON_free(s);
			if (rc == 0)
				rc = buf_addstr(out, ": ");
		}
		if (rc == 0)
			rc = print_pretty(ch, depth + 1, out);
		if (rc == 0)
			rc = buf_addstr(out, ch->next != NULL ? ",\n" : "\n");
	}
	for (i = 0; i < depth && rc == 0; i++)
		rc = buf_addstr(out, "  ");
	if (rc == 0)
		rc = buf_addc(out, cJSON_IsObject(c) ? '}' : ']');
	return rc;
}

int
json_print(const struct json *n, int flags, struct buf *out)
{
	char *s;
	int rc;

	if (n == NULL)
		return -EINVAL;
	if (flags & JSON_PRETTY)
		return print_pretty(J(n), 0, out);
	if ((s = cJSON_PrintUnformatted(J(n))) == NULL)
		return -ENOMEM;
	rc = buf_addstr(out, s);
	cJSON_free(s);
	return rc;
}
