/* SPDX-License-Identifier: MIT */
/*
 * name.h - the rules for names that become file names, directory paths or
 * object keys: definition names (sources/NAME.json, jobs/NAME.json), the
 * writers' output names (txtfile path/fileName/suffix, oss object/suffix),
 * and the values ${param} substitution puts into them.  One place, so the
 * mount, `difs check`, the resolution of a run and the writers agree.
 *
 * Definition names (name_def_ok): 1..NAME_DEF_MAX bytes of ASCII letters,
 * digits, '_', '-' and '.', first byte a letter, digit or '_' (not '.':
 * hidden files are editor files; not '-': it would read as an option on a
 * command line).  ASCII only: the name becomes store keys, log lines,
 * spool directory names and object keys, where every byte must mean one
 * thing.
 *
 * Output fields (enum name_field):
 *   NAME_F_COMPONENT  one file name (txtfile fileName): no '/', no control
 *                     byte, not "." or "..".
 *   NAME_F_SUFFIX     the end of a file name or key (txtfile and oss
 *                     suffix): no '/', no control byte.
 *   NAME_F_PATH       a local directory path (txtfile path): no control byte.
 *   NAME_F_KEY        an OSS object key or key prefix (oss object):
 *                     normalised (runs of '/' become one), then refused if
 *                     empty, starting with '/', holding a "." or ".."
 *                     segment or a control byte.
 *
 * A parameter's value (name_param_check) that lands in one of these fields
 * must not move the output: in a COMPONENT or SUFFIX it may hold no '/' and
 * no "..";
 * in a PATH or KEY it may hold '/' (a parameter may name a whole directory)
 * but no "." or ".." segment; in all three no NUL or control byte.
 *
 * All functions are pure and thread-safe.
 */
#ifndef DIFS_NAME_H
#define DIFS_NAME_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define NAME_DEF_MAX	200	/**< bytes in a definition name (without ".json") */

enum name_field { NAME_F_COMPONENT, NAME_F_SUFFIX, NAME_F_PATH, NAME_F_KEY };

/** Is (s, len) a valid definition name (the rule above)? */
bool	name_def_ok(const char *s, size_t len);

/**
 * name_field_check - is s (NUL-terminated) acceptable as the value of field
 * kind?  who and field name the place in messages ("txtfile writer",
 * "fileName"; who NULL: no prefix).  NAME_F_KEY values are checked as name_key_normalise would
 * leave them.  Returns 0 or ENG_EINVAL with eb saying what and how to fix.
 */
int	name_field_check(const char *who, const char *field, enum name_field kind,
	    const char *s, struct eng_errbuf *eb);

/**
 * name_key_normalise - the object key s with runs of '/' made one, checked
 * as NAME_F_KEY; *out is malloc'ed.  A trailing '/' stays (a "directory"
 * prefix).  Returns 0, ENG_EINVAL (eb), -ENOMEM.
 */
int	name_key_normalise(const char *who, const char *field, const char *s,
	    char **out, struct eng_errbuf *eb) __attribute__((warn_unused_result));

/**
 * name_param_check - may parameter pname with value (val, vlen) be
 * substituted into field (of kind kind)?  Returns 0 or ENG_EINVAL with eb
 * = "parameter ${p} = '...' would move the output outside ...: why; fix".
 * The value is quoted with control bytes escaped, at most 64 bytes.
 */
int	name_param_check(const char *pname, const char *field, enum name_field kind,
	    const char *val, size_t vlen, struct eng_errbuf *eb);

/** Append at most max bytes of (s, len) to out (outsz bytes) with control
 *  bytes and '\\' escaped as \xNN; always NUL-terminates. */
void	name_quote(const char *s, size_t len, size_t max, char *out, size_t outsz);

#endif /* DIFS_NAME_H */
