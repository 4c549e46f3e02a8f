/* SPDX-License-Identifier: MIT */
/*
 * param.h - DataWorks scheduling parameters and ${name} substitution.
 *
 * Two time bases (contrib/doc/scheduling.md 1):
 *   cyctime  the instance's scheduled time, to the second (UTC instant,
 *            shown in the job's zone);
 *   bizdate  the business date = local date of cyctime minus one day.
 *
 * What param_eval replaces in a value (everything else is copied verbatim,
 * so "prefix/$[yyyymmdd]/x" works and a value may hold several expressions):
 *
 *   $[FMT]                 cyctime formatted with FMT
 *   $[FMT+EXPR] $[FMT-EXPR] cyctime +/- EXPR days, then formatted
 *   $[add_months(FMT,N)]   cyctime +/- N months (N: [+-]int[*int]...), day
 *                          clamped to the month end (2024-03-31 -1 month ->
 *                          2024-02-29; 2024-01-31 +1 -> 2024-02-29; no
 *                          "last day stays last day" rule), time kept
 *   ${FMT}                 bizdate formatted with FMT (date tokens only)
 *   ${FMT+N} ${FMT-N}      bizdate +/- N units, the unit being the smallest
 *                          date token in FMT: dd -> days, mm -> months
 *                          (clamped), yy/yyyy -> years; N must come out a
 *                          whole number (7*2 is fine, 1/24 is not)
 *   ${bdp.system.bizdate} ${bizdate}  $bizdate    = ${yyyymmdd}
 *   ${bdp.system.cyctime} ${cyctime}  $cyctime    = $[yyyymmddhh24miss]
 *   ${gmtdate}            $gmtdate              = $[yyyymmdd] (the date of the
 *                          cycle: parameters are fixed at instance
 *                          generation, never taken from the wall clock)
 *   ${bizmonth}           $bizmonth             = yyyymm of bizdate's month
 *                          if bizdate lies in an earlier month than the
 *                          cycle date, else of the month before bizdate's
 *   The bare $name forms are recognised only when the name is not followed
 *   by a letter, digit or '_'.  Not supported (copied verbatim / treated as
 *   user references): $jobid, and the third-party extras
 *   ${bdp.system.bizdate2}, ${bdp.system.premonth}, ...
 *   (contrib/doc/scheduling.md 1.1).
 *
 * FMT tokens (case-insensitive, longest first): yyyy yy mm dd hh24 hh12 hh
 * mi ss ("mm" is always the month, "mi" the minute; hh/hh12 are 01..12).
 * Between tokens only the separators - / : . _ and space may appear; any
 * other letter or a digit is an error (a typo such as "yyyymmddhh24mis"
 * must not silently become literal text).
 *
 * EXPR (days) = digits { ('*' | '/') digits }, evaluated left to right as an
 * exact fraction: "-10/24/60" is minus 10 minutes, "-1/24" minus one hour,
 * "+7*1" plus a week, "-5/24/60/60" minus 5 seconds.  The offset is the text
 * after the LAST '+' (or, if none, the last '-') that is followed by a digit,
 * so "$[yyyy-mm-dd-1]" is yyyy-mm-dd minus one day.  Fractions of a second
 * are truncated toward zero.  Whole days move the local calendar date and
 * keep the wall-clock time (then re-read in the zone: DST gap -> shifted
 * forward, overlap -> earlier instant, see tz.h); the remaining hours,
 * minutes and seconds are elapsed time added to that instant.  In zones
 * without DST (Asia/Shanghai, UTC) this is plain Oracle date arithmetic.
 *
 * ${NAME} where NAME is none of the above is a USER parameter reference:
 * param_eval leaves it untouched; param_is_builtin_ref() tells which ${...}
 * belong to this module.  A ${...} made only of date/time tokens but using a
 * time token (${hh24miss}) is an error (bizdate has no time of day).
 *
 * Order for a job string (as DataWorks does before DataX sees the JSON):
 * param_eval first (expressions written directly in the job), then
 * param_substitute with the instance's resolved parameters; param_eval
 * leaves user ${name} references for the second step.
 *
 * All functions are pure and thread-safe; the tz is only read.
 */
#ifndef DIFS_PARAM_H
#define DIFS_PARAM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "tz.h"

/**
 * param_eval - expand the DataWorks expressions in (expr, len), appending the
 * result to out.
 * @tz:      the job's zone (formats local time of this zone).
 * @cyctime: the cycle's scheduled time, UTC epoch seconds.
 * Returns 0; ENG_EINVAL on bad syntax, with eb = "bad scheduling expression
 * '$[...]' at column N: why" (columns count bytes from 1); -E2BIG/-ENOMEM
 * from out.  On error out may hold a partial result.
 */
int	 param_eval(const char *expr, size_t len, const struct tz *tz,
	    int64_t cyctime, struct buf *out, struct eng_errbuf *eb);

/**
 * param_is_builtin_ref - 1 if "${body}" (body given without "${" and "}") is
 * evaluated by param_eval (a date format, with or without offset, or one of
 * the built-in names; includes the erroneous time-token formats param_eval
 * rejects), 0 if it is a user parameter reference left for substitution.
 */
int	 param_is_builtin_ref(const char *body, size_t len);

/** A borrowed name=value template (both NUL-terminated). */
struct param_kv {
	const char *name;
	const char *value;
};

/** One resolved parameter; both strings owned by the param_set. */
struct param_res {
	char	*name;
	char	*value;
};

/** The resolved parameters of one instance, in input order. */
struct param_set {
	struct param_res *v;
	size_t	 n;
};

/**
 * param_resolve_all - evaluate a list of parameter templates for one cycle.
 * Parameters cannot reference each other (DataWorks assigns each from an
 * expression or a constant), so a user ${name} inside a value is an error
 * naming the parameter and the reference.  Names must match
 * [A-Za-z_][A-Za-z0-9_]* and be unique.
 * On success *out holds n results (free with param_set_free); on failure
 * *out is left empty ({NULL, 0}) and the rc is ENG_EINVAL (eb starts with
 * "parameter 'NAME': "), -ENOMEM or -E2BIG.
 */
int	 param_resolve_all(const struct param_kv *in, size_t n,
	    const struct tz *tz, int64_t cyctime, struct param_set *out,
	    struct eng_errbuf *eb);

/** Free the contents of s (NULL-safe) and leave it empty. */
void	 param_set_free(struct param_set *s);

/** Value of parameter name, or NULL.  Borrowed: lives as s. */
const char *param_set_get(const struct param_set *s, const char *name);

/**
 * param_lookup_fn - substitution callback: find name (name, len; not
 * NUL-terminated).  Return 0 and set *val and *vlen (borrowed; must stay valid
 * until param_substitute returns), -ENOENT if unknown, or another negative
 * code to abort (returned as is).
 */
typedef int (*param_lookup_fn)(void *arg, const char *name, size_t len,
    const char **val, size_t *vlen);

/** A param_lookup_fn over a struct param_set (arg = the set). */
int	 param_set_lookup(void *arg, const char *name, size_t len,
	    const char **val, size_t *vlen);

/**
 * param_substitute - replace every ${name} in (s, len) by lookup's value and
 * append the result to out.  name is [A-Za-z0-9_.]+ ; a '$' not followed by
 * '{' is copied verbatim; "$${" is an escape for a literal "${".  The
 * substituted values are not scanned again.
 * Returns 0; ENG_EINVAL for an unknown name ("unknown parameter ${name} at
 * column N"), an unterminated "${" or an empty/invalid name; the lookup's own
 * error; -E2BIG/-ENOMEM from out.
 */
int	 param_substitute(const char *s, size_t len, param_lookup_fn lookup,
	    void *arg, struct buf *out, struct eng_errbuf *eb);

#endif /* DIFS_PARAM_H */
