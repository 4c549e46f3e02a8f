/* SPDX-License-Identifier: MIT */
/*
 * conf_job.c - job files: the script-mode JSON of the seed (type, version,
 * configuration.{setting, reader, writer}) plus the top-level "schedule"
 * block (contrib/doc/design.md 1); the immutable struct conf_job, ${name}
 * resolution and masked rendering.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_i.h"
#include "cycle.h"
#include "name.h"
#include "param.h"
#include "tz.h"

#define NKEYS(a)	(sizeof(a) / sizeof((a)[0]))

struct conf_job {
	char			*name;
	struct conf_dep		*deps;	/* schedule.dependsOn; names in the tree */
	const char		**argv;	/* schedule.alert.exec, NULL-terminated */
	struct json_doc		*doc;	/* parsed from text: owns the tree */
	struct json		*tree;	/* resolved: owns the tree */
	const struct json	*root;
	const char		*version;
	struct conf_settings	 settings;
	bool			 has_sched;
	struct conf_schedule	 sched;
	struct param_kv		*kvs;
	const char		*plugin[2];
	enum conf_plugin	 pid[2];
	const struct json	*param[2];
	struct conf_source	*src[2];
	bool			 templated;
};

static const struct conf_key top_keys[] = {
	{ "type",          VT_NESTR, KF_REQ, 0, 0, "it must be \"job\"" },
	{ "version",       VT_NESTR, 0, 0, 0, NULL },
	{ "configuration", VT_OBJ,   KF_REQ, 0, 0, "it holds \"setting\", \"reader\" and \"writer\"" },
	{ "schedule",      VT_OBJ,   0, 0, 0, NULL },
};

static const struct conf_key configuration_keys[] = {
	{ "setting", VT_OBJ, 0,      0, 0, NULL },
	{ "reader",  VT_OBJ, KF_REQ, 0, 0, "e.g. {\"plugin\": \"otsstream\", \"parameter\": {...}}" },
	{ "writer",  VT_OBJ, KF_REQ, 0, 0, "e.g. {\"plugin\": \"oss\", \"parameter\": {...}}" },
};

static const struct conf_key setting_keys[] = {
	{ "errorLimit", VT_OBJ, 0, 0, 0, NULL },
	{ "speed",      VT_OBJ, 0, 0, 0, NULL },
};

static const struct conf_key errorlimit_keys[] = {
	{ "record",     VT_INT, 0, 0, INT64_MAX, "the number of dirty records allowed" },
	{ "percentage", VT_ANY, 0, 0, 0, NULL },
};

static const struct conf_key speed_keys[] = {
	{ "mbps",       VT_NUM,  0, 0, 0, NULL },
	{ "concurrent", VT_INT,  0, 1, 1024, NULL },
	{ "channel",    VT_INT,  0, 1, 1024, NULL },
	{ "byte",       VT_INT,  0, -1, INT64_MAX, NULL },
	{ "record",     VT_INT,  0, -1, INT64_MAX, NULL },
	{ "throttle",   VT_BOOL, 0, 0, 0, NULL },
};

static const struct conf_key plugin_keys[] = {
	{ "plugin",    VT_NESTR, KF_REQ, 0, 0, NULL },
	{ "parameter", VT_OBJ,   KF_REQ, 0, 0, NULL },
};

static const struct conf_key schedule_keys[] = {
	{ "cycle",         VT_NESTR, KF_REQ, 0, 0, "e.g. \"5m\", \"1h\" or \"daily\"" },
	{ "start",         VT_NESTR, 0, 0, 0, NULL },
	{ "end",           VT_NESTR, 0, 0, 0, NULL },
	{ "timezone",      VT_NESTR, 0, 0, 0, NULL },
	{ "params",        VT_OBJ,   0, 0, 0, NULL },
	{ "rerun",         VT_OBJ,   0, 0, 0, NULL },
	{ "selfDependent", VT_BOOL,  0, 0, 0, NULL },
	{ "catchup",       VT_NESTR, 0, 0, 0, NULL },
	/* integers: checked by sched_int (the schedule is never substituted) */
	{ "backfillLimit",  VT_ANY,  0, 0, 0, NULL },
	{ "priority",       VT_ANY,  0, 0, 0, NULL },
	{ "maxConcurrent",  VT_ANY,  0, 0, 0, NULL },
	{ "timeoutSeconds", VT_ANY,  0, 0, 0, NULL },
	{ "keepInstances",  VT_ANY,  0, 0, 0, NULL },
	{ "keepDays",       VT_ANY,  0, 0, 0, NULL },
	{ "dependsOn",      VT_ARR,  0, 0, 0, NULL },
	{ "alert",          VT_OBJ,  0, 0, 0, NULL },
};

static const struct conf_key dep_keys[] = {
	{ "job",   VT_NESTR, KF_REQ, 0, 0, "the upstream job's name, e.g. {\"job\": \"orders\"}" },
	{ "cycle", VT_NESTR, 0, 0, 0, NULL },
};

static const struct conf_key alert_keys[] = {
	{ "on",            VT_ARR,   KF_REQ, 0, 0, "e.g. [\"exhausted\", \"skipped\"]" },
	{ "exec",          VT_ARR,   0, 0, 0, NULL },
	{ "webhook",       VT_NESTR, 0, 0, 0, NULL },
	{ "unfinished_by", VT_NESTR, 0, 0, 0, NULL },
};

static const struct conf_key rerun_keys[] = {
	{ "times",    VT_INT,   KF_REQ, 0, 100, "reruns after the first attempt" },
	{ "interval", VT_NESTR, KF_REQ, 0, 0, "e.g. \"2m\"" },
};

/* ---- settings ----------------------------------------------------------- */

static void
check_settings(struct conf_ctx *c, const struct json *set, struct conf_settings *out)
{
	const struct json *el = json_get(set, "errorLimit"), *sp = json_get(set, "speed");
	const struct json *pct;
	double dv;

	out->error_record = -1;
	out->error_percentage = -1;
	out->mbps = -1;
	out->concurrent = 1;
	out->channel = -1;
	out->bytes = -1;
	out->records = -1;
	out->throttle = false;
	if (json_type(set) != JSON_OBJECT)
		return;
	conf_check_keys(c, set, setting_keys, NKEYS(setting_keys), "setting");
	if (json_type(el) == JSON_OBJECT) {
		conf_check_keys(c, el, errorlimit_keys, NKEYS(errorlimit_keys), "errorLimit");
		pct = json_get(el, "percentage");
		if (pct != NULL && !(json_str(pct) && conf_is_tmpl(c, json_str(pct)))) {
			if (conf_val_num(pct, &dv) != 0 || dv < 0 || dv > 1)
				conf_err(c, pct, AT_VAL, "\"percentage\" must be a number from 0 to 1 (0.02 = 2%% dirty records)");
			else
				out->error_percentage = dv;
		}
		(void)conf_val_int(json_get(el, "record"), &out->error_record);
	}
	if (json_type(sp) == JSON_OBJECT) {
		conf_check_keys(c, sp, speed_keys, NKEYS(speed_keys), "speed");
		(void)conf_val_num(json_get(sp, "mbps"), &out->mbps);
		(void)conf_val_int(json_get(sp, "concurrent"), &out->concurrent);
		(void)conf_val_int(json_get(sp, "channel"), &out->channel);
		(void)conf_val_int(json_get(sp, "byte"), &out->bytes);
		(void)conf_val_int(json_get(sp, "record"), &out->records);
		(void)conf_val_bool(json_get(sp, "throttle"), &out->throttle);
	}
}

/* ---- schedule ----------------------------------------------------------- */

static bool
valid_param_name(const char *s)
{
	size_t i;

	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* schedule.dependsOn may name at most this many upstream jobs */
#define CONF_DEPS_MAX	32
/* a job's name is the stem of jobs/NAME.json, a file name of <= 255 bytes */
#define CONF_JOBNAME_MAX	250

/*
 * An integer of the schedule block: absent leaves *out (the default).  Not
 * conf_check_value's VT_INT, which lets a ${name} through: the schedule
 * block is never substituted.  what says what the number means.
 */
static void
sched_int(struct conf_ctx *c, const struct json *s, const char *key, int64_t min,
    int64_t max, const char *what, int64_t *out)
{
	const struct json *v = json_get(s, key);
	int64_t iv;

	if (v == NULL)
		return;
	if (conf_val_int(v, &iv) != 0)
		conf_err(c, v, AT_VAL, "\"%s\" must be an integer (a JSON number or a numeric string) from %lld to %lld (%s)",
		    key, (long long)min, (long long)max, what);
	else if (iv < min && max == INT64_MAX)
		conf_err(c, v, AT_VAL, "\"%s\" is %lld; it must be at least %lld (%s)", key,
		    (long long)iv, (long long)min, what);
	else if (iv < min || iv > max)
		conf_err(c, v, AT_VAL, "\"%s\" is %lld; it must be between %lld and %lld (%s)", key,
		    (long long)iv, (long long)min, (long long)max, what);
	else
		*out = iv;
}

/* The name of another job as dependsOn writes it (the file stem). */
static bool
valid_job_name(const char *s, const char **why)
{
	size_t i, n = strlen(s);

	if (n > 5 && strcmp(s + n - 5, ".json") == 0) {
		*why = "write the job's name without \".json\" (jobs/orders.json is \"orders\")";
		return false;
	}
	if (s[0] == '.') {
		*why = "job names do not start with '.' (jobs/.NAME files are not jobs)";
		return false;
	}
	if (n > CONF_JOBNAME_MAX) {
		*why = "a job's name has at most 250 bytes";
		return false;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '/') {
			*why = "a job's name is a file name in jobs/ without \".json\": no '/' and no control characters";
			return false;
		}
	return true;
}

static void
check_deps(struct conf_ctx *c, const struct json *arr, struct conf_job *job)
{
	struct conf_schedule *sc = &job->sched;
	const struct json *e;
	size_t n = json_size(arr), i;

	if (json_type(arr) != JSON_ARRAY || n == 0)
		return;
	if (n > CONF_DEPS_MAX) {
		conf_err(c, arr, AT_VAL, "\"dependsOn\" lists %zu jobs; at most %d are allowed (split the job, or depend on a job that depends on the others)",
		    n, CONF_DEPS_MAX);
		return;
	}
	if ((job->deps = calloc(n, sizeof(*job->deps))) == NULL) {
		c->oom = 1;
		return;
	}
	sc->deps = job->deps;
	for (e = json_first(arr); e != NULL; e = json_next(e)) {
		const struct json *jn = json_get(e, "job"), *cy = json_get(e, "cycle");
		const char *name = json_str(jn), *cs = json_str(cy), *why = NULL;
		enum conf_dep_cycle dc = CONF_DEP_SAME;

		if (json_type(e) != JSON_OBJECT) {
			conf_err(c, e, AT_VAL, "each \"dependsOn\" entry must be an object like {\"job\": \"orders\", \"cycle\": \"same\"}");
			continue;
		}
		conf_check_keys(c, e, dep_keys, NKEYS(dep_keys), "a \"dependsOn\" entry");
		if (cs != NULL && strcmp(cs, "latest") == 0)
			dc = CONF_DEP_LATEST;
		else if (cs != NULL && strcmp(cs, "same") != 0)
			conf_err(c, cy, AT_VAL, "\"cycle\" must be \"same\" (the upstream instance of the same cycle time, the default) or \"latest\" (the upstream's newest cycle at or before this one)");
		if (name == NULL || name[strspn(name, " \t\r\n")] == '\0')
			continue;	/* reported by conf_check_keys */
		if (!valid_job_name(name, &why)) {
			conf_err(c, jn, AT_VAL, "\"job\" is not a valid job name: %s", why);
			continue;
		}
		if (job->name != NULL && strcmp(name, job->name) == 0) {
			conf_err(c, jn, AT_VAL, "a job cannot depend on itself; to wait for its previous cycle use \"selfDependent\": true");
			continue;
		}
		for (i = 0; i < sc->ndeps && strcmp(sc->deps[i].job, name) != 0; i++)
			;
		if (i < sc->ndeps) {
			conf_err(c, jn, AT_VAL, "duplicate dependency on \"%s\"; list each upstream job once", name);
			continue;
		}
		job->deps[sc->ndeps].job = name;
		job->deps[sc->ndeps++].cycle = dc;
	}
}

static const struct {
	const char	*name;
	unsigned	 bit;
} alert_events[] = {
	{ "failed",		CONF_ALERT_FAILED },
	{ "exhausted",		CONF_ALERT_EXHAUSTED },
	{ "timeout",		CONF_ALERT_TIMEOUT },
	{ "skipped",		CONF_ALERT_SKIPPED },
	{ "unfinished_by",	CONF_ALERT_UNFINISHED },
};
#define ALERT_EVENT_LIST	"\"failed\", \"exhausted\", \"timeout\", \"skipped\", \"unfinished_by\""

/*
 * An http(s) URL for a POST.  The URL is never quoted in a message: a
 * webhook's query often carries its access token.
 */
static bool
valid_webhook(const char *s, const char **why)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f) {
			*why = "it contains a space, a control or a non-ASCII character (percent-encode it, e.g. a space as %20)";
			return false;
		}
	return conf_valid_url(s, why);
}

/* "on": the events as bits; *tmo and *unf are its "timeout" and
 * "unfinished_by" elements (NULL when absent) */
static unsigned
check_alert_on(struct conf_ctx *c, const struct json *on, const struct json **tmo,
    const struct json **unf)
{
	const char *names[NKEYS(alert_events)], *sug;
	const struct json *e;
	unsigned ev = 0;
	size_t i;

	*tmo = *unf = NULL;
	if (json_type(on) != JSON_ARRAY)
		return 0;
	if (json_size(on) == 0)
		conf_err(c, on, AT_VAL, "\"on\" must list at least one event: " ALERT_EVENT_LIST);
	for (i = 0; i < NKEYS(alert_events); i++)
		names[i] = alert_events[i].name;
	for (e = json_first(on); e != NULL; e = json_next(e)) {
		const char *s = json_str(e);

		for (i = 0; s != NULL && i < NKEYS(alert_events) && strcmp(s, names[i]) != 0; i++)
			;
		if (s == NULL) {
			conf_err(c, e, AT_VAL, "each \"on\" element must be a string, one of " ALERT_EVENT_LIST);
			continue;
		}
		if (i == NKEYS(alert_events)) {
			if ((sug = conf_suggest(s, names, NKEYS(alert_events))) != NULL)
				conf_err(c, e, AT_VAL, "unknown alert event \"%.40s\"; did you mean \"%s\"?", s, sug);
			else
				conf_err(c, e, AT_VAL, "unknown alert event \"%.40s\"; the events are " ALERT_EVENT_LIST, s);
			continue;
		}
		if (ev & alert_events[i].bit) {
			conf_err(c, e, AT_VAL, "duplicate event \"%s\" in \"on\"", s);
			continue;
		}
		ev |= alert_events[i].bit;
		if (alert_events[i].bit == CONF_ALERT_TIMEOUT)
			*tmo = e;
		else if (alert_events[i].bit == CONF_ALERT_UNFINISHED)
			*unf = e;
	}
	return ev;
}

static void
check_alert(struct conf_ctx *c, const struct json *a, bool has_timeout, struct conf_job *job)
{
	struct conf_alert *al = &job->sched.alert;
	const struct json *ex = json_get(a, "exec"), *wh = json_get(a, "webhook");
	const struct json *ub = json_get(a, "unfinished_by"), *tmo, *unf, *e;
	const char *why = NULL;
	struct cycle_spec spec;
	struct eng_errbuf eb;
	size_t n = 0, i = 0;

	if (json_type(a) != JSON_OBJECT)
		return;
	conf_check_keys(c, a, alert_keys, NKEYS(alert_keys), "\"alert\"");
	al->events = check_alert_on(c, json_get(a, "on"), &tmo, &unf);
	if (ex == NULL && wh == NULL)
		conf_err(c, a, AT_VAL, "\"alert\" needs \"exec\" (a command as an argv array, e.g. [\"/usr/local/bin/page\", \"data-team\"]) or \"webhook\" (an http:// or https:// URL), or both");
	if (json_type(ex) == JSON_ARRAY && (n = json_size(ex)) == 0)
		conf_err(c, ex, AT_VAL, "\"exec\" must not be empty: the command and its arguments, e.g. [\"/usr/local/bin/page\", \"data-team\"]");
	else if (json_type(ex) == JSON_ARRAY && (job->argv = calloc(n + 1, sizeof(*job->argv))) == NULL)
		c->oom = 1;
	for (e = json_first(ex); e != NULL && job->argv != NULL; e = json_next(e)) {
		const char *s = json_str(e);

		if (s == NULL)
			conf_err(c, e, AT_VAL, "each \"exec\" element must be a string (the command, then one string per argument; no shell)");
		else if (*s == '\0')
			conf_err(c, e, AT_VAL, "\"exec\" elements must not be empty strings");
		else
			job->argv[i++] = s;
	}
	al->exec = job->argv;
	al->nexec = i;
	if (json_str(wh) != NULL) {
		if (!valid_webhook(json_str(wh), &why))
			conf_err(c, wh, AT_VAL, "\"webhook\" is not a valid URL: %s", why);
		else
			al->webhook = json_str(wh);
	}
	if (json_str(ub) != NULL) {
		eb.msg[0] = '\0';
		if (unf == NULL)
			conf_err(c, ub, AT_KEY, "\"unfinished_by\" is set but \"on\" has no \"unfinished_by\" event; add \"unfinished_by\" to \"on\" or remove this key");
		else if (cycle_spec_parse("daily", json_str(ub), NULL, &spec, &eb) != 0)
			conf_err(c, ub, AT_VAL, "\"unfinished_by\" must be a time of day \"HH:MM\" (00:00..23:59) in the job's timezone, e.g. \"06:30\"");
		else
			al->unfinished_by_min = spec.start_min;
	} else if (unf != NULL && ub == NULL) {
		conf_err(c, unf, AT_VAL, "the \"unfinished_by\" event needs \"unfinished_by\": \"HH:MM\" in \"alert\" (the time of day by which the cycle's instance should be SUCCESS)");
	}
	if (tmo != NULL && !has_timeout)
		conf_warn(c, tmo, AT_VAL, "the \"timeout\" event never fires: \"timeoutSeconds\" is not set, so attempts do not time out");
}

static void
check_schedule(struct conf_ctx *c, const struct json *s, struct conf_job *job)
{
	const struct json *cy = json_get(s, "cycle"), *st = json_get(s, "start");
	const struct json *en = json_get(s, "end"), *tzn = json_get(s, "timezone");
	const struct json *pa = json_get(s, "params"), *rr = json_get(s, "rerun"), *m;
	const struct json *cu = json_get(s, "catchup");
	struct conf_schedule *sc = &job->sched;
	struct eng_errbuf eb;
	struct tz *tz = NULL;
	int64_t v;
	size_t i;

	conf_check_keys(c, s, schedule_keys, NKEYS(schedule_keys), "schedule");
	c->scheduled = true;
	c->params = json_type(pa) == JSON_OBJECT ? pa : NULL;
	sc->cycle = json_str(cy);
	sc->start = json_str(st);
	sc->end = json_str(en);
	sc->timezone = json_str(tzn);
	sc->catchup_s = 86400;
	sc->backfill_limit = 1440;
	sc->priority = 1;
	sc->max_concurrent = 1;
	sc->keep_days = 30;
	sc->alert.unfinished_by_min = -1;
	if (sc->cycle != NULL) {
		eb.msg[0] = '\0';
		if (cycle_spec_parse(sc->cycle, NULL, NULL, &sc->spec, &eb) != 0)
			conf_err(c, cy, AT_VAL, "%s", eb.msg);
		else if ((st == NULL || sc->start != NULL) && (en == NULL || sc->end != NULL) &&
		    cycle_spec_parse(sc->cycle, sc->start, sc->end, &sc->spec, &eb) != 0)
			conf_err(c, strstr(eb.msg, "end") != NULL && en != NULL ? en :
			    st != NULL ? st : cy, AT_VAL, "%s", eb.msg);
		else {
			sc->cycle_s = sc->spec.unit == CYCLE_MINUTE ? (int64_t)sc->spec.every * 60 :
			    sc->spec.unit == CYCLE_HOUR ? (int64_t)sc->spec.every * 3600 : 86400;
			c->cycle_s = sc->cycle_s;
		}
	}
	if (sc->timezone != NULL) {
		eb.msg[0] = '\0';
		if (tz_load(sc->timezone, &tz, &eb) == -ENOMEM)
			c->oom = 1;
		else if (tz == NULL)
			conf_err(c, tzn, AT_VAL, "\"timezone\": %s", eb.msg);
		tz_free(tz);
		tz = NULL;
		c->tz = sc->timezone;
	}
	if (json_type(rr) == JSON_OBJECT) {
		const struct json *iv = json_get(rr, "interval");

		conf_check_keys(c, rr, rerun_keys, NKEYS(rerun_keys), "rerun");
		(void)conf_val_int(json_get(rr, "times"), &sc->rerun_times);
		if (json_str(iv) != NULL && conf_parse_duration(json_str(iv), &sc->rerun_interval_s) != 0)
			conf_err(c, iv, AT_VAL, "\"interval\" must be a duration like \"30s\", \"2m\" or \"1h\"");
	}
	(void)conf_val_bool(json_get(s, "selfDependent"), &sc->self_dependent);
	if (json_str(cu) != NULL && strcmp(json_str(cu), "all") == 0) {
		sc->catchup_all = true;
		sc->catchup_s = INT64_MAX;
	} else if (json_str(cu) != NULL && conf_parse_duration(json_str(cu), &sc->catchup_s) != 0)
		conf_err(c, cu, AT_VAL, "\"catchup\" must be a duration like \"24h\" or \"2d\", or \"all\" (never skip a missed cycle)");
	sched_int(c, s, "backfillLimit", 1, 1000000,
	    "the most instances one \"backfill\" may create; default 1440", &sc->backfill_limit);
	v = sc->priority;
	sched_int(c, s, "priority", 1, 8, "1 lowest to 8 highest, as in DataWorks; default 1", &v);
	sc->priority = (int)v;
	v = sc->max_concurrent;
	sched_int(c, s, "maxConcurrent", 1, 64,
	    "instances of this job running at once; default 1", &v);
	sc->max_concurrent = (int)v;
	sched_int(c, s, "timeoutSeconds", 1, 604800,
	    "seconds one attempt may run, at most 7 days; leave it out for no timeout", &sc->timeout_s);
	sched_int(c, s, "keepInstances", 0, INT64_MAX,
	    "final instances kept per job; 0 = no count limit", &sc->keep_instances);
	sched_int(c, s, "keepDays", 0, 3650,
	    "days final instances and their logs are kept; 0 = forever, default 30", &sc->keep_days);
	check_deps(c, json_get(s, "dependsOn"), job);
	check_alert(c, json_get(s, "alert"), json_get(s, "timeoutSeconds") != NULL, job);
	if (c->params == NULL)
		return;
	if (tz_utc(&tz) != 0) {
		c->oom = 1;
		return;
	}
	sc->nparams = json_size(pa);
	if (sc->nparams > 0 && (job->kvs = calloc(sc->nparams, sizeof(*job->kvs))) == NULL) {
		c->oom = 1;
		sc->nparams = 0;
	}
	sc->params = job->kvs;
	/* params is a free-form object: its names are checked here */
	for (m = json_first(pa), i = 0; m != NULL && job->kvs != NULL; m = json_next(m), i++) {
		struct param_kv kv = { json_key(m), json_str(m) };
		struct param_set ps = { NULL, 0 };
		const struct json *p;

		job->kvs[i] = kv;
		for (p = json_first(pa); p != m; p = json_next(p))
			if (strcmp(json_key(p), json_key(m)) == 0)
				break;
		if (p != m) {
			conf_err(c, m, AT_KEY, "duplicate parameter \"%s\"", json_key(m));
			continue;
		}
		if (!valid_param_name(json_key(m))) {
			conf_err(c, m, AT_KEY, "parameter name \"%.60s\" must match [A-Za-z_][A-Za-z0-9_]*", json_key(m));
			continue;
		}
		if (kv.value == NULL) {
			conf_err(c, m, AT_VAL, "parameter \"%s\" must be a string: an expression such as \"$[yyyymmddhh24miss-10/24/60]\" or a constant",
			    json_key(m));
			continue;
		}
		eb.msg[0] = '\0';
		/* evaluated once at a fixed instant: syntax is what is checked */
		switch (param_resolve_all(&kv, 1, tz, 1764043200, &ps, &eb)) {
		case 0:
			break;
		case -ENOMEM:
			c->oom = 1;
			break;
		default:
			conf_err(c, m, AT_VAL, "%s", eb.msg);
			break;
		}
		param_set_free(&ps);
	}
	tz_free(tz);
}

/*
 * ${name} references in the configuration must be parameters of the schedule.
 * In a secret only the member name is reported, never a part of its value.
 */
static void
check_refs(struct conf_ctx *c, const struct json *n, bool secret)
{
	const struct json *m;
	const char *s = json_str(n), *p, *e;
	char name[128];

	if (s == NULL) {
		for (m = json_first(n); m != NULL; m = json_next(m))
			check_refs(c, m, conf_is_secret_key(json_key(m)));
		return;
	}
	for (p = strstr(s, "${"); p != NULL; p = strstr(p + 2, "${")) {
		if (p > s && p[-1] == '$')
			continue;
		if ((e = strchr(p + 2, '}')) == NULL)
			break;
		if ((size_t)(e - p - 2) >= sizeof(name) || e == p + 2)
			continue;
		memcpy(name, p + 2, (size_t)(e - p - 2));
		name[e - p - 2] = '\0';
		if (json_get(c->params, name) != NULL)
			continue;
		if (secret) {
			conf_err(c, n, AT_VAL, "\"%s\" refers to a parameter that \"schedule\".\"params\" does not define",
			    json_key(n));
			return;
		}
		if (param_is_builtin_ref(name, strlen(name)))
			conf_err(c, n, AT_VAL, "${%s} is a scheduling expression: define it in \"schedule\".\"params\" (e.g. \"date\": \"${%s}\") and write ${date} here",
			    name, name);
		else
			conf_err(c, n, AT_VAL, "unknown parameter ${%s}: define it in \"schedule\".\"params\"", name);
	}
}

/* ---- reader / writer ---------------------------------------------------- */

/* from: the job being resolved (its sources stand in for a NULL lookup) */
static void
check_side(struct conf_ctx *c, enum conf_side side, const struct json *o,
    conf_source_fn lookup, void *larg, const struct conf_job *from,
    struct conf_job *job)
{
	const char *names[CONF_PLUGIN_END];
	const char *what = side == CONF_READER ? "reader" : "writer";
	const struct json *pl = json_get(o, "plugin"), *pa = json_get(o, "parameter");
	const char *ps = json_str(pl), *sug;
	enum conf_plugin id;
	char base[64], known[128];
	size_t n, nn;

	if (json_type(o) != JSON_OBJECT)
		return;
	conf_check_keys(c, o, plugin_keys, NKEYS(plugin_keys), what);
	if (ps == NULL)
		return;
	if ((id = conf_plugin_find(side, ps)) == CONF_PLUGIN_NONE) {
		nn = conf_plugin_list(side, names, CONF_PLUGIN_END);
		n = strlen(ps);
		sug = conf_suggest(ps, names, nn);
		if (sug == NULL && n > 6 && n < sizeof(base) &&
		    (strcasecmp(ps + n - 6, "reader") == 0 || strcasecmp(ps + n - 6, "writer") == 0)) {
			memcpy(base, ps, n - 6);
			base[n - 6] = '\0';
			sug = conf_suggest(base, names, nn);
		}
		conf_plugin_names(side, known, sizeof(known));
		if (sug != NULL)
			conf_err(c, pl, AT_VAL, "unknown %s plugin \"%.60s\"; did you mean \"%s\"?", what, ps, sug);
		else
			conf_err(c, pl, AT_VAL, "unknown %s plugin \"%.60s\"; known %ss: %s", what, ps,
			    what, known);
		return;
	}
	job->plugin[side] = ps;
	job->pid[side] = id;
	job->param[side] = pa;
	conf_plugin_check(c, id, pa, lookup, larg,
	    from != NULL ? from->src[side] : NULL, &job->src[side]);
}

static bool
tree_has_tmpl(const struct conf_ctx *c, const struct json *n)
{
	const struct json *m;

	if (json_str(n) != NULL)
		return conf_is_tmpl(c, json_str(n));
	for (m = json_first(n); m != NULL; m = json_next(m))
		if (tree_has_tmpl(c, m))
			return true;
	return false;
}

/* Validate root into job; the caller looks at c->nerr. */
static void
job_check(struct conf_ctx *c, const struct json *root, conf_source_fn lookup,
    void *larg, const struct conf_job *from, struct conf_job *job)
{
	const struct json *t, *v, *cf, *sc;

	if (json_type(root) != JSON_OBJECT) {
		conf_err(c, root, AT_VAL, "a job file must be a JSON object like {\"type\": \"job\", \"version\": \"2.0\", \"configuration\": {...}}");
		return;
	}
	conf_check_keys(c, root, top_keys, NKEYS(top_keys), "job");
	t = json_get(root, "type");
	if (json_str(t) != NULL && strcmp(json_str(t), "job") != 0)
		conf_err(c, t, AT_VAL, "\"type\" of a job file must be \"job\"");
	v = json_get(root, "version");
	job->version = "2.0";
	if (json_str(v) != NULL) {
		if (strcmp(json_str(v), "1.0") != 0 && strcmp(json_str(v), "2.0") != 0)
			conf_err(c, v, AT_VAL, "\"version\" must be \"1.0\" or \"2.0\"");
		else
			job->version = json_str(v);
	}
	if (json_type((sc = json_get(root, "schedule"))) == JSON_OBJECT) {
		job->has_sched = true;
		check_schedule(c, sc, job);
	}
	cf = json_get(root, "configuration");
	if (json_type(cf) != JSON_OBJECT) {
		check_settings(c, NULL, &job->settings);
		return;
	}
	conf_check_keys(c, cf, configuration_keys, NKEYS(configuration_keys), "configuration");
	check_settings(c, json_get(cf, "setting"), &job->settings);
	check_side(c, CONF_READER, json_get(cf, "reader"), lookup, larg, from, job);
	check_side(c, CONF_WRITER, json_get(cf, "writer"), lookup, larg, from, job);
	if (c->scheduled && !c->resolved)
		check_refs(c, cf, false);
	job->templated = tree_has_tmpl(c, cf);
}

void
conf_job_free(struct conf_job *job)
{
	if (job == NULL)
		return;
	free(job->name);
	json_doc_free(job->doc);
	json_free(job->tree);
	free(job->kvs);
	free(job->deps);
	free(job->argv);
	conf_source_free(job->src[0]);
	conf_source_free(job->src[1]);
	free(job);
}

int
conf_job_parse(const char *name, const char *buf, size_t len,
    conf_source_fn lookup, void *lookup_arg, struct conf_diags *d,
    struct conf_job **out)
{
	struct conf_ctx c = { .d = d };
	struct conf_job *job = NULL;
	int rc = -ENOMEM;

	*out = NULL;
	if ((job = calloc(1, sizeof(*job))) == NULL)
		goto out;
	if (name != NULL && (job->name = strdup(name)) == NULL)
		goto out;
	if ((rc = conf_load(&c, buf, len, &job->doc)) != 0)
		goto out;
	job->root = json_doc_root(job->doc);
	job_check(&c, job->root, lookup, lookup_arg, NULL, job);
	rc = c.oom ? -ENOMEM : c.nerr != 0 ? ENG_EINVAL : 0;
	if (rc != 0)
		goto out;
	*out = job;
	job = NULL;
out:
	conf_job_free(job);
	return rc;
}

/* ---- resolution --------------------------------------------------------- */

struct subst {
	struct conf_ctx		*c;
	const struct json_doc	*doc;	/* original, for positions */
	param_lookup_fn		 lookup;
	void			*arg;
	struct buf		 b;
	/* the writer's output names (name.h): a parameter's value there must
	 * not move the output, checked here where the parameter is known */
	const struct json	*wparam;	/* original writer.parameter */
	const char		*field;		/* key being substituted, or NULL */
	enum name_field		 kind;
	bool			 bad;		/* a value was refused: peb says why */
	struct eng_errbuf	 peb;
};

/* the writer parameters that become a file name, a directory or a key */
static const struct {
	const char	*key;
	enum name_field	 kind;
} subst_out_fields[] = {
	{ "path",	NAME_F_PATH },		/* txtfile */
	{ "fileName",	NAME_F_COMPONENT },	/* txtfile */
	{ "object",	NAME_F_KEY },		/* oss */
	{ "suffix",	NAME_F_SUFFIX },	/* both */
};

static int
subst_lookup(void *arg, const char *name, size_t len, const char **val, size_t *vlen)
{
	struct subst *s = arg;
	char pname[128];
	int rc;

	if ((rc = s->lookup(s->arg, name, len, val, vlen)) != 0 || s->field == NULL)
		return rc;
	(void)snprintf(pname, sizeof(pname), "%.*s", (int)(len < 100 ? len : 100), name);
	if (name_param_check(pname, s->field, s->kind, *val, *vlen, &s->peb) != 0) {
		s->bad = true;
		return -EPERM;
	}
	return 0;
}

/* set s->field/kind when orig is one of the writer's output names */
static void
subst_field(struct subst *s, const struct json *orig)
{
	const struct json *m;
	size_t i;

	s->field = NULL;
	for (m = json_first(s->wparam); m != NULL && m != orig; m = json_next(m))
		;
	if (m == NULL)
		return;
	for (i = 0; i < sizeof(subst_out_fields) / sizeof(subst_out_fields[0]); i++)
		if (strcmp(json_key(orig), subst_out_fields[i].key) == 0) {
			s->field = subst_out_fields[i].key;
			s->kind = subst_out_fields[i].kind;
		}
}

static int
subst_walk(struct subst *s, struct json *n, const struct json *orig)
{
	struct json *m;
	const struct json *om;
	const char *str = json_str(n);
	struct eng_errbuf eb;
	int rc;

	if (str != NULL) {
		if (strstr(str, "${") == NULL)
			return 0;
		buf_reset(&s->b);
		eb.msg[0] = '\0';
		subst_field(s, orig);
		s->bad = false;
		rc = param_substitute(str, strlen(str), subst_lookup, s, &s->b, &eb);
		if (rc == -ENOMEM || rc == -E2BIG)
			return rc;
		if (rc != 0 && s->bad)
			conf_err(s->c, orig, AT_VAL, "%s", s->peb.msg);
		else if (rc != 0 && conf_is_secret_key(json_key(n)))	/* never quote a secret */
			conf_err(s->c, orig, AT_VAL, "\"%s\" refers to an unknown parameter or has a bad ${...}",
			    json_key(n));
		else if (rc != 0)
			conf_err(s->c, orig, AT_VAL, "%s", eb.msg[0] ? eb.msg : eng_strerror(rc));
		if (rc != 0)
			return 0;
		return json_set_str(n, s->b.p);
	}
	for (m = json_first_mut(n), om = json_first(orig); m != NULL;
	    m = json_next_mut(m), om = json_next(om))
		if ((rc = subst_walk(s, m, om)) != 0)
			return rc;
	return 0;
}

int
conf_job_resolve(const struct conf_job *job, param_lookup_fn lookup, void *arg,
    conf_source_fn slookup, void *sarg, struct conf_diags *d,
    struct conf_job **out)
{
	struct conf_ctx c = { .d = d };
	struct conf_job *nj = NULL;
	struct subst s = { .c = &c, .lookup = lookup, .arg = arg };
	struct json *cf;
	int rc = -ENOMEM;

	*out = NULL;
	buf_init(&s.b, BUF_MAX_DOC);
	if ((nj = calloc(1, sizeof(*nj))) == NULL)
		goto out;
	if (job->name != NULL && (nj->name = strdup(job->name)) == NULL)
		goto out;
	if ((rc = json_dup(job->root, &nj->tree)) != 0)
		goto out;
	nj->root = nj->tree;
	/* positions of substitution errors come from the original text */
	if (job->doc != NULL) {
		c.doc = job->doc;
		c.text = json_doc_text(job->doc, &c.len);
	}
	cf = json_get_mut(nj->tree, "configuration");
	s.wparam = json_get(json_get(json_get(job->root, "configuration"), "writer"), "parameter");
	if ((rc = subst_walk(&s, cf, json_get(job->root, "configuration"))) != 0)
		goto out;
	if (c.nerr != 0) {
		rc = ENG_EINVAL;
		goto out;
	}
	c.doc = NULL;
	c.text = NULL;
	c.len = 0;
	c.resolved = true;
	job_check(&c, nj->root, slookup, sarg, job, nj);
	rc = c.oom ? -ENOMEM : c.nerr != 0 ? ENG_EINVAL : 0;
	if (rc != 0)
		goto out;
	*out = nj;
	nj = NULL;
out:
	if (rc == 0 && c.oom)
		rc = -ENOMEM;
	buf_free(&s.b);
	conf_job_free(nj);
	return rc;
}

/* ---- dependencies between jobs ------------------------------------------ */

int
conf_job_check_deps(const struct conf_job *job, conf_dep_lookup_fn lookup, void *arg,
    bool warn_missing, struct conf_diags *d)
{
	struct conf_ctx c = { .d = d, .doc = job->doc };
	const struct conf_schedule *sc = conf_job_schedule(job);
	const struct json *dep, *m;
	struct buf path;
	char **ups;
	size_t i, n;
	int rc;

	if (sc == NULL || sc->ndeps == 0)
		return 0;
	if (job->doc != NULL)
		c.text = json_doc_text(job->doc, &c.len);
	dep = json_get(json_get(job->root, "schedule"), "dependsOn");
	for (m = json_first(dep); warn_missing && m != NULL; m = json_next(m)) {
		const struct json *jn = json_get(m, "job");

		for (i = 0; i < sc->ndeps && json_str(jn) != sc->deps[i].job; i++)
			;
		if (i == sc->ndeps)
			continue;
		ups = NULL;
		rc = lookup(arg, sc->deps[i].job, &ups, &n);
		if (rc == -ENOENT)
			conf_warn(&c, jn, AT_VAL, "upstream job \"%s\" is not defined; it may be defined later, but until then nothing satisfies this dependency",
			    sc->deps[i].job);
		else if (rc != 0)
			return rc;
		while (ups != NULL && n > 0)
			free(ups[--n]);
		free(ups);
	}
	buf_init(&path, BUF_MAX_SMALL);
	rc = conf_dep_cycle(job->name != NULL ? job->name : "", sc->deps, sc->ndeps, lookup, arg,
	    &path);
	if (rc == 1) {
		/* at the member's name: the cycle is the list's doing */
		conf_err(&c, dep, AT_KEY, "\"dependsOn\": dependency cycle: %s; remove one of these dependencies",
		    path.p);
		rc = ENG_EINVAL;
	}
	buf_free(&path);
	return c.oom ? -ENOMEM : rc;
}

/* ---- rendering and getters ---------------------------------------------- */

/* replace every secret below n by "******" (json_obj_set frees the old
 * member, so the walk of that level restarts; masked ones are skipped) */
static int
mask_tree_once(struct json *n)
{
	struct json *m;
	int rc;

	for (m = json_first_mut(n); m != NULL; m = json_next_mut(m)) {
		if (json_type(n) == JSON_OBJECT && conf_is_secret_key(json_key(m))) {
			if (json_str(m) == NULL || strcmp(json_str(m), CONF_MASK) != 0) {
				if ((rc = json_obj_set(n, json_key(m), json_new_str(CONF_MASK))) != 0)
					return rc;
				return mask_tree_once(n);
			}
			continue;
		}
		if ((rc = mask_tree_once(m)) != 0)
			return rc;
	}
	return 0;
}

int
conf_job_render(const struct conf_job *job, bool masked, struct buf *out)
{
	struct json *t = NULL;
	int rc;

	struct buf text;

	if ((rc = json_dup(job->root, &t)) != 0)
		return rc;
	buf_init(&text, BUF_MAX_DOC);
	if (masked && (rc = mask_tree_once(t)) != 0)
		goto out;
	if (!masked) {
		if ((rc = json_print(t, JSON_PRETTY, out)) == 0)
			rc = buf_addc(out, '\n');
		goto out;
	}
	/* and a URL's user:password@ (e.g. from a ${param}) as ******@ */
	if ((rc = json_print(t, JSON_PRETTY, &text)) == 0 &&
	    (rc = conf_mask_url(text.p, text.len, out)) == 0)
		rc = buf_addc(out, '\n');
out:
	explicit_bzero(text.p, text.len);
	buf_free(&text);
	json_free(t);
	return rc;
}

const char *conf_job_name(const struct conf_job *job) { return job->name; }
const char *conf_job_version(const struct conf_job *job) { return job->version; }
const struct conf_settings *conf_job_settings(const struct conf_job *job) { return &job->settings; }
bool conf_job_has_templates(const struct conf_job *job) { return job->templated; }

const struct conf_schedule *
conf_job_schedule(const struct conf_job *job)
{
	return job->has_sched ? &job->sched : NULL;
}

const char *
conf_job_plugin(const struct conf_job *job, enum conf_side side)
{
	return job->plugin[side];
}

enum conf_plugin
conf_job_plugin_id(const struct conf_job *job, enum conf_side side)
{
	return job->pid[side];
}

const struct json *
conf_job_param(const struct conf_job *job, enum conf_side side)
{
	return job->param[side];
}

const char *
conf_job_str(const struct conf_job *job, enum conf_side side, const char *key)
{
	return json_str(json_get(job->param[side], key));
}

int
conf_job_int(const struct conf_job *job, enum conf_side side, const char *key,
    int64_t def, int64_t *out)
{
	const struct json *v = json_get(job->param[side], key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	return conf_val_int(v, out);
}

int
conf_job_num(const struct conf_job *job, enum conf_side side, const char *key,
    double def, double *out)
{
	const struct json *v = json_get(job->param[side], key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	return conf_val_num(v, out);
}

int
conf_job_bool(const struct conf_job *job, enum conf_side side, const char *key,
    bool def, bool *out)
{
	const struct json *v = json_get(job->param[side], key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	return conf_val_bool(v, out);
}

const char *
conf_job_datasource(const struct conf_job *job, enum conf_side side)
{
	return json_str(json_get(job->param[side], "datasource"));
}

const struct conf_source *
conf_job_source(const struct conf_job *job, enum conf_side side)
{
	return job->src[side];
}
