/* SPDX-License-Identifier: MIT */
/*
 * json.h - the one JSON module of difs (json_*), a small API over cJSON.
 * engine/core/json.c is the only file that includes cJSON.h; every other module
 * sees these opaque types.
 *
 * Two kinds of use:
 *   - reading: json_parse(buf, len) gives a struct json_doc (the tree plus
 *     the byte offset where every value and member name starts, so callers
 *     can report FILE:LINE:COL for semantic errors).  cJSON is the parser;
 *     the offsets come from a lexical walk over the text cJSON accepted.
 *   - building: json_new_*() / json_obj_add*() / json_arr_add() make a tree
 *     that json_print() renders (status files, job snapshots).
 *
 * Ownership: a struct json_doc owns its tree; nodes reached through
 * json_doc_root()/json_get()/json_first()/json_next() are borrowed and valid
 * until json_doc_free().  A tree made by json_new_*() or json_dup() is owned
 * by the caller and released with json_free() on its root; json_obj_add()
 * and json_arr_add() adopt their value argument, also on failure (so
 * json_obj_add(o, "k", json_new_str(s)) never leaks).
 *
 * Thread-safety: none inside one tree; distinct trees are independent (no
 * global state: the parse error position is returned, not read from
 * cJSON_GetErrorPtr()).
 */
#ifndef DIFS_JSON_H
#define DIFS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum json_type {
	JSON_INVALID = 0,
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json;		/* one value in a tree (opaque) */
struct json_doc;	/* a parsed document: tree + source offsets (opaque) */

#define JSON_NOOFF	((size_t)-1)	/**< "offset unknown" */
#define JSON_PRETTY	0x1		/**< json_print: one member per line, 2-space indent */

/**
 * json_parse - parse exactly one JSON value from buf[0..len).
 * Leading UTF-8 BOM and surrounding whitespace are allowed; anything else
 * after the value, a NUL byte inside the text, or nesting deeper than 1000
 * is an error.
 * Returns 0 (*out set), ENG_EINVAL on a syntax error (*erroff, if not
 * NULL, gets the byte offset cJSON stopped at, < len when len > 0), or
 * -ENOMEM.
 */
int	json_parse(const char *buf, size_t len, struct json_doc **out,
	    size_t *erroff) __attribute__((warn_unused_result));
void	json_doc_free(struct json_doc *doc);
/** The root value; valid until json_doc_free(). */
const struct json *json_doc_root(const struct json_doc *doc);
/** Byte offset of the first character of n's value, or JSON_NOOFF. */
size_t	json_doc_val_off(const struct json_doc *doc, const struct json *n);
/** Byte offset of the opening quote of n's member name, or JSON_NOOFF. */
size_t	json_doc_key_off(const struct json_doc *doc, const struct json *n);
/** The source text (NUL-terminated copy of buf) and its length. */
const char *json_doc_text(const struct json_doc *doc, size_t *lenp);

/* ---- reading (all NULL-safe: a NULL node has type JSON_INVALID) -------- */
enum json_type json_type(const struct json *n);
/** Member name when n is an object member, else NULL. */
const char *json_key(const struct json *n);
/** First member named key (case-sensitive), or NULL (also if obj isn't one). */
const struct json *json_get(const struct json *obj, const char *key);
/** First element/member of an array/object, or NULL. */
const struct json *json_first(const struct json *n);
const struct json *json_next(const struct json *n);
/** Number of elements/members; 0 for scalars. */
size_t	json_size(const struct json *n);
/** The string value, or NULL when n is not a string. */
const char *json_str(const struct json *n);
/** 0 and *out for a number, else ENG_EINVAL. */
int	json_num(const struct json *n, double *out);
/** 0 and *out for true/false, else ENG_EINVAL. */
int	json_bool(const struct json *n, bool *out);
/** True when both trees are equal (object member order matters). */
bool	json_equal(const struct json *a, const struct json *b);

/* ---- building and editing (caller-owned trees) ------------------------ */
/** New empty object / array / null; NULL on -ENOMEM. */
struct json *json_new_object(void);
struct json *json_new_array(void);
struct json *json_new_null(void);
struct json *json_new_str(const char *s);
struct json *json_new_num(double v);
/** Integers up to 2^53 in magnitude are exact. */
struct json *json_new_int(int64_t v);
struct json *json_new_bool(bool v);
/**
 * json_obj_add - append member key=val to obj (val adopted, even on
 * failure; a NULL val counts as -ENOMEM).  0, -EINVAL if obj is not an
 * object, -ENOMEM.
 */
int	json_obj_add(struct json *obj, const char *key, struct json *val);
/** s == NULL adds a JSON null (handy for optional fields). */
int	json_obj_add_str(struct json *obj, const char *key, const char *s);
int	json_obj_add_int(struct json *obj, const char *key, int64_t v);
int	json_obj_add_num(struct json *obj, const char *key, double v);
int	json_obj_add_bool(struct json *obj, const char *key, bool v);
int	json_obj_add_null(struct json *obj, const char *key);
/** Replace member key (first one) by val or append it; val adopted. */
int	json_obj_set(struct json *obj, const char *key, struct json *val);
/** Remove and free member key (first one); 0 or -ENOENT. */
int	json_obj_del(struct json *obj, const char *key);
/** Append val to arr (adopted, even on failure). */
int	json_arr_add(struct json *arr, struct json *val);
/** Deep copy of n into a new caller-owned tree; 0 or -ENOMEM/-EINVAL. */
int	json_dup(const struct json *n, struct json **out);
/** Replace the value of a string node; 0, -EINVAL (not a string), -ENOMEM. */
int	json_set_str(struct json *n, const char *s);
/** Mutable views of the navigation functions, for caller-owned trees. */
struct json *json_get_mut(struct json *obj, const char *key);
struct json *json_first_mut(struct json *n);
struct json *json_next_mut(struct json *n);
/** Free a caller-owned tree (root only; NULL-safe). */
void	json_free(struct json *n);

/**
 * json_print - append the JSON text of n to out (flags: JSON_PRETTY).
 * Numbers print without loss for integers up to 2^53.
 * 0, -ENOMEM, -E2BIG (out's limit), or -EINVAL for a NULL node.
 */
int	json_print(const struct json *n, int flags, struct buf *out);

#endif /* DIFS_JSON_H */
