/* SPDX-License-Identifier: MIT */
/*
 * conf.h - job and source definitions: parse, validate, typed access (conf_*).
 *
 * Pipeline (contrib/doc/style.md rule 8): bytes -> comment stripping -> cJSON
 * tree (via json.h; cJSON is the parser) -> validator -> immutable struct
 * conf_job / struct conf_source.  Every problem becomes a diagnostic with a
 * position:
 *
 *     FILE:LINE:COL: error: MESSAGE
 *     FILE:LINE:COL: warning: MESSAGE
 *
 * LINE and COL are 1-based and computed from the byte offset of the value (or
 * member name) concerned; COL counts BYTES from the start of the line (a tab
 * or a UTF-8 sequence is one column per byte).  Independent problems are all
 * reported (every unknown key, every bad value).  No message contains the
 * value of a secret (accessKey, securityToken).
 *
 * Comments: "//" and "#" to end of line and "/" "*" ... "*" "/" outside
 * strings are accepted; they are replaced by spaces (newlines kept) before
 * cJSON sees the text, so offsets are unchanged.
 *
 * Templates: a string value containing ${name} is kept as written; the checks
 * that depend on its value are deferred to conf_job_resolve(), which
 * substitutes the instance's parameters everywhere and validates again.
 *
 * Thread-safety: parsed objects are immutable and may be shared read-only.
 * A struct conf_diags belongs to one caller.
 */
#ifndef DIFS_CONF_H
#define DIFS_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cycle.h"
#include "err.h"
#include "json.h"
#include "param.h"

/* ---- diagnostics -------------------------------------------------------- */

enum conf_sev { CONF_ERROR = 0, CONF_WARNING = 1 };

struct conf_diag {
	enum conf_sev	 sev;
	unsigned	 line;	/**< 1-based; 0 when the position is unknown */
	unsigned	 col;	/**< 1-based, in bytes; 0 when unknown */
	const char	*msg;	/**< never contains a secret */
};

struct conf_diags;

int	conf_diags_new(struct conf_diags **out);
void	conf_diags_free(struct conf_diags *d);
/** Drop all diagnostics. */
void	conf_diags_clear(struct conf_diags *d);
size_t	conf_diags_count(const struct conf_diags *d);
size_t	conf_diags_errors(const struct conf_diags *d);
size_t	conf_diags_warnings(const struct conf_diags *d);
/** The i-th diagnostic in position order; lives until the next change of d. */
const struct conf_diag *conf_diags_at(const struct conf_diags *d, size_t i);
/**
 * conf_diags_format - append "FILE:LINE:COL: error: MSG\n" lines (or
 * "FILE: error: MSG" when the position is unknown) sorted by position.
 * Returns 0, -ENOMEM or -E2BIG.
 */
int	conf_diags_format(const struct conf_diags *d, const char *file,
	    struct buf *out);

/* ---- sources ------------------------------------------------------------ */

enum conf_src_type { CONF_SRC_OTS = 1, CONF_SRC_OSS = 2 };

/** Value that conf_source_render() and difs show instead of a secret. */
#define CONF_MASK	"******"

struct conf_source;

/**
 * conf_source_parse - parse and validate a source file.
 * @name: the datasource name (the file stem: "ots-prod" for
 *        sources/ots-prod.json); may be NULL for inline connections.
 * @prev: optional stored version; a secret written as "******" takes prev's
 *        value (what a read of the mount showed comes back unchanged).
 *        A prev of another type is ignored, except the stand-in of
 *        conf_source_view_prev() (any type).
 * Returns 0 and *out (warnings may be in d); ENG_EINVAL with the errors in
 * d; -ENOMEM.  d may be NULL (nothing recorded).
 */
int	conf_source_parse(const char *name, const char *buf, size_t len,
	    const struct conf_source *prev, struct conf_diags *d,
	    struct conf_source **out) __attribute__((warn_unused_result));
/**
 * conf_source_view_prev - a stand-in for the stored version of a source
 * when only its view in the mount (secrets shown as "******") is at hand,
 * as for difs edit: every top-level accessKey/securityToken that the view
 * (buf, len) shows as "******" is a stored secret the mount keeps for a
 * "******" written back.  As @prev of conf_source_parse() it accepts
 * "******" exactly for those members (whatever the new type) and the
 * parsed source then holds "******" itself: for validation only, never
 * for signing.  Returns 0 with *out NULL when the view shows no masked
 * secret or does not parse; -ENOMEM.
 */
int	conf_source_view_prev(const char *buf, size_t len,
	    struct conf_source **out) __attribute__((warn_unused_result));
/** Wipes the secrets, then frees; NULL-safe. */
void	conf_source_free(struct conf_source *src);
int	conf_source_dup(const struct conf_source *src, struct conf_source **out);

/* getters: strings live as src; NULL when absent */
const char *conf_source_name(const struct conf_source *src);
enum conf_src_type conf_source_type(const struct conf_source *src);
const char *conf_source_endpoint(const struct conf_source *src);
/** ots: instanceName; NULL for oss */
const char *conf_source_instance(const struct conf_source *src);
/** oss: bucket; NULL for ots */
const char *conf_source_bucket(const struct conf_source *src);
const char *conf_source_access_id(const struct conf_source *src);
/** SECRET: pass only to the signer; never log or print it. */
const char *conf_source_access_key(const struct conf_source *src);
/** SECRET or NULL. */
const char *conf_source_security_token(const struct conf_source *src);
/** oss: 1 or 4 (default 4); ots: 0. */
int	conf_source_signature_version(const struct conf_source *src);
/** oss: region or NULL (derived from the endpoint by the OSS client). */
const char *conf_source_region(const struct conf_source *src);
/** caFile: the CA bundle (PEM) for the endpoint's certificate, or NULL. */
const char *conf_source_ca_file(const struct conf_source *src);

/**
 * conf_source_render - append the source as pretty JSON; with masked, every
 * secret prints as "******".  0, -ENOMEM or -E2BIG.
 */
int	conf_source_render(const struct conf_source *src, bool masked,
	    struct buf *out);

/**
 * conf_mask_text - copy a job or source file's bytes to out with the value
 * of every member whose name is a secret (conf_is_secret_key, at any depth,
 * valid definition or not) replaced by "******" (a secret object or array:
 * every scalar in it); all other bytes (comments, layout) are kept.  Text
 * that does not parse as JSON is masked by line: in a line where a secret
 * name occurs, everything from the first ':' or '=' after the name to the
 * end of the line becomes "******" (a trailing ',' is kept), and when the
 * line has neither or nothing after it, the next non-blank line is masked
 * whole.  0, -ENOMEM,
 * -E2BIG.
 */
int	conf_mask_text(const char *buf, size_t len, struct buf *out);

/**
 * conf_merge_secrets_text - the inverse for writes: copy (buf, len) to out,
 * replacing every secret member whose value is "******" by the value of the
 * member at the same path in (old, oldlen), the stored file.  Other bytes are
 * kept.  ENG_EINVAL (eb says which member has no stored value) when a
 * "******" has no counterpart, or when buf does not parse (then nothing can
 * be merged; the caller reports the parse errors through conf_*_parse).
 */
int	conf_merge_secrets_text(const char *buf, size_t len, const char *old,
	    size_t oldlen, struct buf *out, struct eng_errbuf *eb);

/* ---- secret names ------------------------------------------------------- */

/**
 * conf_is_secret_key - is a JSON member or a parameter called key a secret?
 * The one list (README "Secrets"), compared without regard to case: the
 * name accessKey, or any name containing "secret", "password", "passwd" or
 * "token" (accessKeySecret, securityToken, dbPassword, API_TOKEN, ...).
 * Its value is masked on every read and in every log or message.
 */
bool	conf_is_secret_key(const char *key);
/**
 * conf_find_secret_name - the first place in (s, len) where a name of that
 * list occurs (as a substring, any case); *nlen (may be NULL) gets the
 * length of the part that matched.  NULL when none.
 */
const char *conf_find_secret_name(const char *s, size_t len, size_t *nlen);
/**
 * conf_mask_url - append (s, len) to out with the userinfo of every URL in
 * it (user:password@ after the scheme) shown as ******@ instead.
 * 0, -ENOMEM or -E2BIG.
 */
int	conf_mask_url(const char *s, size_t len, struct buf *out);
/**
 * conf_mask_param - append how a parameter name=value may be shown in a log
 * or message: "******" when name is a secret name, else value with any URL
 * userinfo masked.  0, -ENOMEM or -E2BIG.
 */
int	conf_mask_param(const char *name, const char *value, struct buf *out);

/** A lookup of datasources by name (borrowed result, lives as the set). */
typedef const struct conf_source *(*conf_source_fn)(void *arg,
    const char *name);

/** A simple owning set of named sources, usable as a conf_source_fn. */
struct conf_srcset;
int	conf_srcset_new(struct conf_srcset **out);
void	conf_srcset_free(struct conf_srcset *set);
/** Adopt src (freed on failure too).  A second source with a name replaces the first. */
int	conf_srcset_add(struct conf_srcset *set, struct conf_source *src);
/** conf_source_fn over a struct conf_srcset (arg = the set). */
const struct conf_source *conf_srcset_lookup(void *arg, const char *name);

/* ---- jobs --------------------------------------------------------------- */

enum conf_side { CONF_READER = 0, CONF_WRITER = 1 };

/*
 * The plugins a job can name.  conf_plugin.c's table (name, side, source
 * type, parameter keys, validator) is the one list; the runner's registry
 * (engine/run/registry.c) maps each id to its ops.
 */
enum conf_plugin {
	CONF_PLUGIN_NONE = 0,
	CONF_PLUGIN_OTSSTREAM,	/**< reader: a Table Store stream (ots source) */
	CONF_PLUGIN_STREAM,	/**< reader: generated records */
	CONF_PLUGIN_OSS,	/**< writer: OSS objects (oss source) */
	CONF_PLUGIN_TXTFILE,	/**< writer: local files */
	CONF_PLUGIN_END		/**< one past the last */
};

/** The plugin of side called name; CONF_PLUGIN_NONE when none (name may be NULL). */
enum conf_plugin conf_plugin_find(enum conf_side side, const char *name);
/** Its name as a job writes it; NULL for CONF_PLUGIN_NONE or out of range. */
const char *conf_plugin_name(enum conf_plugin id);
/** Its side (CONF_READER for an id that is no plugin). */
enum conf_side conf_plugin_side(enum conf_plugin id);
/** The enum conf_src_type its connection needs; 0 when it has none. */
int	conf_plugin_source_type(enum conf_plugin id);

/** configuration.setting; fields are -1 (or < 0) when not given. */
struct conf_settings {
	int64_t	 error_record;		/**< errorLimit.record */
	double	 error_percentage;	/**< errorLimit.percentage, 0..1 */
	double	 mbps;			/**< speed.mbps (MB/s) */
	int64_t	 concurrent;		/**< speed.concurrent; default 1 */
	int64_t	 channel;		/**< speed.channel (DataX) */
	int64_t	 bytes;			/**< speed.byte (bytes/s, DataX) */
	int64_t	 records;		/**< speed.record (records/s, DataX) */
	bool	 throttle;		/**< speed.throttle (DataWorks) */
};

/** One schedule.dependsOn entry: wait for job's instance of the same
 *  cycle time ("same") or its newest cycle at or before ours ("latest"). */
enum conf_dep_cycle { CONF_DEP_SAME = 0, CONF_DEP_LATEST };
struct conf_dep {
	const char	*job;
	enum conf_dep_cycle cycle;
};

/** schedule.alert "on" events, as bits. */
enum conf_alert_event {
	CONF_ALERT_FAILED	= 1 << 0,	/**< "failed": an attempt failed */
	CONF_ALERT_EXHAUSTED	= 1 << 1,	/**< "exhausted": FAILED, no rerun left */
	CONF_ALERT_TIMEOUT	= 1 << 2,	/**< "timeout": an attempt timed out */
	CONF_ALERT_SKIPPED	= 1 << 3,	/**< "skipped": a cycle was SKIPPED */
	CONF_ALERT_UNFINISHED	= 1 << 4,	/**< "unfinished_by": not SUCCESS by HH:MM */
};

/** schedule.alert; strings live as the job. */
struct conf_alert {
	unsigned	 events;	/**< CONF_ALERT_* bits; 0: no alert block */
	const char *const *exec;	/**< argv (NULL-terminated) or NULL */
	size_t		 nexec;
	const char	*webhook;	/**< http(s) URL or NULL */
	int		 unfinished_by_min;	/**< minute of day in the job's zone, -1 none */
};

/** The top-level "schedule" block; strings live as the job. */
struct conf_schedule {
	const char	*cycle;		/**< as written: "5m", "1h", "daily", ... */
	struct cycle_spec spec;		/**< parsed cycle/start/end (cycle.h) */
	int64_t		 cycle_s;	/**< cycle length in seconds */
	const char	*start;		/**< "HH:MM" as written, or NULL (00:00) */
	const char	*end;		/**< "HH:MM" as written, or NULL (23:59) */
	const char	*timezone;	/**< IANA name, NULL = machine's zone */
	const struct param_kv *params;	/**< in definition order */
	size_t		 nparams;
	int64_t		 rerun_times;	/**< reruns after the first attempt; default 0 */
	int64_t		 rerun_interval_s; /**< default 0 */
	bool		 self_dependent;
	int64_t		 catchup_s;	/**< default 86400; INT64_MAX for "all" */
	bool		 catchup_all;	/**< "catchup": "all" (never skip) */
	int64_t		 backfill_limit;	/**< backfillLimit; default 1440 */
	int		 priority;	/**< 1..8 (DataWorks: higher runs first); default 1 */
	int		 max_concurrent;	/**< maxConcurrent; default 1 */
	int64_t		 timeout_s;	/**< timeoutSeconds; 0 = none */
	const struct conf_dep *deps;	/**< dependsOn, in definition order */
	size_t		 ndeps;
	struct conf_alert alert;	/**< alert block (events 0 when none) */
	int64_t		 keep_instances;	/**< keepInstances; 0 = no count limit */
	int64_t		 keep_days;	/**< keepDays; default 30, 0 = forever */
};

struct conf_job;

/**
 * conf_job_parse - parse and validate a job file.
 * @name:   the job's name (file stem).
 * @lookup: resolves "datasource" names (NULL: datasource existence and type
 *          are not checked, which only difs check without sources does).
 * Returns 0 and *out (warnings may be in d), ENG_EINVAL (errors in d),
 * -ENOMEM.  d may be NULL.
 */
int	conf_job_parse(const char *name, const char *buf, size_t len,
	    conf_source_fn lookup, void *lookup_arg, struct conf_diags *d,
	    struct conf_job **out) __attribute__((warn_unused_result));
void	conf_job_free(struct conf_job *job);

const char *conf_job_name(const struct conf_job *job);
/** "1.0" or "2.0" */
const char *conf_job_version(const struct conf_job *job);
const struct conf_settings *conf_job_settings(const struct conf_job *job);
/** NULL when the job has no schedule (runs only when asked). */
const struct conf_schedule *conf_job_schedule(const struct conf_job *job);
/** True when some string still holds a ${name} reference. */
bool	conf_job_has_templates(const struct conf_job *job);

/** "otsstream", "stream" / "oss", "txtfile". */
const char *conf_job_plugin(const struct conf_job *job, enum conf_side side);
/** The same as an id (CONF_PLUGIN_NONE when the job has none there). */
enum conf_plugin conf_job_plugin_id(const struct conf_job *job, enum conf_side side);
/** The validated parameter object; lives as job. */
const struct json *conf_job_param(const struct conf_job *job,
	    enum conf_side side);
/** String parameter or NULL (absent or not a string). */
const char *conf_job_str(const struct conf_job *job, enum conf_side side,
	    const char *key);
/**
 * conf_job_int / _num / _bool - typed parameter: a JSON number (bool) or a
 * numeric ("true"/"false") string.  Absent -> def.  ENG_EINVAL when present
 * but not convertible (e.g. still a template).
 */
int	conf_job_int(const struct conf_job *job, enum conf_side side,
	    const char *key, int64_t def, int64_t *out);
int	conf_job_num(const struct conf_job *job, enum conf_side side,
	    const char *key, double def, double *out);
int	conf_job_bool(const struct conf_job *job, enum conf_side side,
	    const char *key, bool def, bool *out);
/** The "datasource" name or NULL (inline connection / no connection). */
const char *conf_job_datasource(const struct conf_job *job,
	    enum conf_side side);
/**
 * conf_job_source - the connection of otsstream/oss: a snapshot of the
 * datasource, looked up once when the job was parsed or resolved (a copy:
 * editing or freeing the lookup's source afterwards does not change it),
 * or a source built from the inline endpoint/credentials.  NULL for
 * stream/txtfile, or when the datasource was not looked up.  Lives as job.
 * A run hands each plugin the snapshot of its side (run.h).
 */
const struct conf_source *conf_job_source(const struct conf_job *job,
	    enum conf_side side);

/**
 * conf_job_resolve - substitute ${name} in every string of the job using
 * lookup (param.h's param_substitute; param_set_lookup over a param_set is
 * the usual one), then validate the result again with no template left.
 * An unknown parameter is an error naming it, at the line:col of the
 * original text; errors found when validating the substituted job carry no
 * line:col (they are about values the file does not contain).  Warnings are
 * not repeated.  @slookup may be NULL to reuse the sources found when job
 * was parsed.  Each side's datasource is looked up once through slookup
 * and copied (conf_job_source): the resolved job does not depend on the
 * lookup's sources afterwards; they need to live only during this call.
 * Returns 0 and *out, ENG_EINVAL (d), -ENOMEM.
 */
int	conf_job_resolve(const struct conf_job *job, param_lookup_fn lookup,
	    void *arg, conf_source_fn slookup, void *sarg,
	    struct conf_diags *d, struct conf_job **out)
	    __attribute__((warn_unused_result));

/**
 * conf_job_render - append the job as pretty JSON; with masked, inline
 * accessKey/securityToken print as "******".  0, -ENOMEM, -E2BIG.
 */
int	conf_job_render(const struct conf_job *job, bool masked,
	    struct buf *out);

/* ---- dependencies between jobs ------------------------------------------ */

/**
 * conf_dep_lookup_fn - the upstream jobs (schedule.dependsOn) of the defined
 * job name, as sched_job_deps() gives them: a malloc'ed array of malloc'ed
 * names in *out (NULL when none; the caller frees each and the array) and
 * their count in *n.  Returns 0, -ENOENT (no such job: not an error, it may
 * be defined later) or another negative error (-ENOMEM).
 */
typedef int (*conf_dep_lookup_fn)(void *arg, const char *name, char ***out,
    size_t *n);

/**
 * conf_dep_cycle - would job name, depending on deps[0..ndeps), close a
 * cycle of dependencies among the jobs lookup knows?  lookup is never asked
 * for name itself (its new upstreams are deps).  Cycles among the other jobs
 * that do not pass through name are not reported.  Returns 0 (no cycle), 1
 * (a cycle: "name -> b -> c -> name" appended to path), or lookup's error /
 * -ENOMEM.
 */
int	conf_dep_cycle(const char *name, const struct conf_dep *deps, size_t ndeps,
	    conf_dep_lookup_fn lookup, void *arg, struct buf *path)
	    __attribute__((warn_unused_result));

/**
 * conf_job_check_deps - conf_dep_cycle() for a parsed job with a schedule: a
 * cycle is an error in d at the job's "dependsOn" member
 * ("dependsOn": dependency cycle: a -> b -> a; remove one of these
 * dependencies).  With warn_missing (the caller knows every job), an
 * upstream that lookup does not know is a warning at its "job" value.
 * Returns 0 (warnings may be in d), ENG_EINVAL (a cycle), -ENOMEM or
 * lookup's error.  d may be NULL.
 */
int	conf_job_check_deps(const struct conf_job *job, conf_dep_lookup_fn lookup,
	    void *arg, bool warn_missing, struct conf_diags *d)
	    __attribute__((warn_unused_result));

/* ---- classification ----------------------------------------------------- */

enum conf_kind { CONF_KIND_UNKNOWN = 0, CONF_KIND_JOB, CONF_KIND_SOURCE };

/**
 * conf_kind_of - what a file is: "type" "job" -> JOB; "ots"/"oss" -> SOURCE;
 * otherwise a "configuration" member -> JOB, a "type" or "endpoint" member
 * -> SOURCE (its validator then says which types exist); unparsable or none
 * of these -> UNKNOWN.
 */
enum conf_kind conf_kind_of(const char *buf, size_t len);

/**
 * conf_name_from_path - the definition name of a path: its last component
 * without ".json" ("sources/ots-prod.json" -> "ots-prod").  Appends to out.
 */
int	conf_name_from_path(const char *path, struct buf *out);

#endif /* DIFS_CONF_H */
