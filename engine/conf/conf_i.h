/* SPDX-License-Identifier: MIT */
/*
 * conf_i.h - private to engine/conf*.c: the validation context, value
 * helpers and key tables shared by the job, source and plugin validators.
 */
#ifndef DIFS_CONF_I_H
#define DIFS_CONF_I_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "json.h"

/* Where a diagnostic points: the member name or the value. */
enum conf_at { AT_VAL = 0, AT_KEY = 1 };

/** One validation pass over one document. */
struct conf_ctx {
	const struct json_doc	*doc;	/* NULL: tree without source text */
	const char		*text;	/* comment-stripped text (or NULL) */
	size_t			 len;
	struct conf_diags	*d;	/* may be NULL */
	int			 nerr;	/* errors reported in this pass */
	int			 oom;	/* an allocation failed: -ENOMEM */
	bool			 resolved; /* strings are final: no templates */
	const char		*tz;	/* job's timezone name, for checks */
	bool			 scheduled; /* the job has a schedule block */
	int64_t			 cycle_s;   /* its cycle length, 0 if none */
	const struct json	*params;   /* schedule.params object or NULL */
};

void	conf_err(struct conf_ctx *c, const struct json *n, enum conf_at at,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	conf_warn(struct conf_ctx *c, const struct json *n, enum conf_at at,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/** Diagnostic at a raw offset (JSON_NOOFF: no position). */
void	conf_diag_at(struct conf_ctx *c, enum conf_sev sev, size_t off,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/**
 * conf_strip_comments - copy (buf, len) to *out (malloc'd, NUL-terminated,
 * same length) with comments blanked.  Returns 0, -ENOMEM, or ENG_EINVAL
 * with *erroff at an unterminated block comment.
 */
int	conf_strip_comments(const char *buf, size_t len, char **out,
	    size_t *erroff, const char **why);

/**
 * conf_load - strip comments and parse; on a syntax error report it in c
 * (c->text must be the stripped text afterwards) and return ENG_EINVAL.
 * On success *doc is the parsed document and c->doc/text/len are set.
 */
int	conf_load(struct conf_ctx *c, const char *buf, size_t len,
	    struct json_doc **doc);

/* ---- key tables --------------------------------------------------------- */

enum conf_vt {
	VT_ANY = 0,	/* checked by custom code */
	VT_STR,		/* string (may be empty) */
	VT_NESTR,	/* non-empty string */
	VT_SECRET,	/* non-empty string, never quoted */
	VT_INT,		/* integer: number or numeric string, min..max */
	VT_NUM,		/* number or numeric string, > 0 */
	VT_BOOL,	/* true/false or "true"/"false" */
	VT_OBJ,
	VT_ARR,
	VT_URL,		/* http:// or https:// URL */
};

#define KF_REQ	0x1	/* required */

struct conf_key {
	const char	*name;
	enum conf_vt	 vt;
	int		 flags;
	int64_t		 min, max;	/* VT_INT range */
	const char	*hint;		/* appended to type errors */
};

/**
 * conf_check_keys - every member of obj must be in keys[0..n): unknown names
 * are errors with a did-you-mean, duplicates are errors, each known member's
 * value is type-checked, and missing KF_REQ keys are reported at obj's
 * opening brace (what is the object called: @what, e.g. "reader parameter").
 */
void	conf_check_keys(struct conf_ctx *c, const struct json *obj,
	    const struct conf_key *keys, size_t n, const char *what);
/** Check one value against one key description. */
void	conf_check_value(struct conf_ctx *c, const struct json *v,
	    const struct conf_key *k);
/** Closest of cands[0..n) to name, or NULL when none is close. */
const char *conf_suggest(const char *name, const char *const *cands,
	    size_t n);

/* ---- value helpers ------------------------------------------------------ */

/** True when s contains a ${name} reference (and c is not resolved). */
bool	conf_is_tmpl(const struct conf_ctx *c, const char *s);
/** Parse a whole decimal int64 (optional sign, no spaces). */
int	conf_parse_i64(const char *s, int64_t *out);
/** Number or numeric string -> int64 (integral); ENG_EINVAL otherwise. */
int	conf_val_int(const struct json *v, int64_t *out);
int	conf_val_num(const struct json *v, double *out);
int	conf_val_bool(const struct json *v, bool *out);
/** Parse "Ns", "Nm", "Nh", "Nd" (N > 0 decimal) into seconds. */
int	conf_parse_duration(const char *s, int64_t *out);
/** Valid yyyyMMdd (len 8) or yyyyMMddHHmmss (len 14) calendar value. */
bool	conf_valid_stamp(const char *s, size_t len);
/** http(s)://host[:port][/path] check; *why set on failure. */
bool	conf_valid_url(const char *s, const char **why);

/* ---- plugins (conf_plugin.c) -------------------------------------------- */

/**
 * conf_plugin_check - validate a reader/writer parameter object for plugin
 * id (its keys and its own rules) and take the side's connection
 * (otsstream, oss): the datasource, looked up once through lookup (NULL:
 * prev, the source found when the job was parsed), copied into *snap, or a
 * source made of the inline keys.  *snap must be NULL on entry and stays
 * NULL for plugins without a connection or an unknown datasource; an
 * allocation failure sets c->oom.
 */
void	conf_plugin_check(struct conf_ctx *c, enum conf_plugin id,
	    const struct json *param, conf_source_fn lookup, void *larg,
	    const struct conf_source *prev, struct conf_source **snap);
/** The names of the plugins of side, in table order, into names[0..max). */
size_t	conf_plugin_list(enum conf_side side, const char **names, size_t max);
/** "\"otsstream\", \"stream\"": the plugins of side, for messages (cut at outsz). */
void	conf_plugin_names(enum conf_side side, char *out, size_t outsz);

/* ---- sources (conf_source.c) -------------------------------------------- */

/** Build a source from a job's inline parameters (already validated). */
int	conf_source_from_inline(enum conf_src_type t, const struct json *param,
	    struct conf_source **out);
/** OSS endpoint/bucket checks for an inline oss writer connection. */
void	conf_source_check_oss_inline(struct conf_ctx *c,
	    const struct json *param);
/** Validate a source object; used by conf_source_parse. */
void	conf_source_check(struct conf_ctx *c, const struct json *root);
/**
 * conf_sigver - the one parser of "signatureVersion": "v1" -> 1, "v4" or
 * NULL (absent) -> 4, anything else -> 0 (invalid).
 */
int	conf_sigver(const char *s);
/** Report a "signatureVersion" that conf_sigver() refuses. */
void	conf_check_sigver(struct conf_ctx *c, const struct json *v);

#endif /* DIFS_CONF_I_H */
