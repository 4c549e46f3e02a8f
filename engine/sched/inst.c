/* SPDX-License-Identifier: MIT */
/*
 * inst.c - instance records: JSON codec and the `status` rendering
 * (see inst.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "inst.h"
#include "json.h"

static const char *const inst_names[] = {
	"WAITING", "RUNNING", "RETRY_WAIT", "SUCCESS", "FAILED", "KILLED",
	"FROZEN", "SKIPPED",
};
static const char *const inst_triggers[] = { "scheduled", "manual", "backfill" };
static const char *const inst_atrigs[] = { "scheduled", "rerun", "backfill", "ctl" };
static const char *const inst_outcomes[] = {
	"running", "success", "failed", "timeout", "killed", "interrupted",
};
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

void
inst_init(struct inst *in)
{
	memset(in, 0, sizeof(*in));
	in->window_start_ms = -1;
	in->window_end_ms = -1;
	buf_init(&in->outputs, BUF_MAX_DOC);
	buf_init(&in->job_json, BUF_MAX_DOC);
}

void
inst_free(struct inst *in)
{
	if (in == NULL)
		return;
	buf_free(&in->outputs);
	buf_free(&in->job_json);
	param_set_free(&in->params);
	free(in->attempts);
	in->attempts = NULL;
	in->nattempts = 0;
}

const char *
inst_atrig_name(enum inst_atrig t)
{
	return (unsigned)t < NELEM(inst_atrigs) ? inst_atrigs[t] : "unknown";
}

const char *
inst_outcome_name(enum inst_outcome o)
{
	return (unsigned)o < NELEM(inst_outcomes) ? inst_outcomes[o] : "unknown";
}

struct inst_attempt *
inst_attempt_add(struct inst *in)
{
	struct inst_attempt *v;

	if (in->nattempts == INST_ATTEMPTS_KEPT) {
		memmove(in->attempts, in->attempts + 1, (in->nattempts - 1) * sizeof(*v));
		in->nattempts--;
	} else {
		if ((v = realloc(in->attempts, (in->nattempts + 1) * sizeof(*v))) == NULL)
			return NULL;
		in->attempts = v;
	}
	v = &in->attempts[in->nattempts++];
	memset(v, 0, sizeof(*v));
	return v;
}

struct inst_attempt *
inst_attempt_last(struct inst *in)
{
	return in->nattempts > 0 ? &in->attempts[in->nattempts - 1] : NULL;
}

int
inst_attempts_copy(struct inst *dst, const struct inst *src)
{
	dst->attempts = NULL;
	dst->nattempts = 0;
	if (src->nattempts == 0)
		return 0;
	if ((dst->attempts = malloc(src->nattempts * sizeof(*dst->attempts))) == NULL)
		return -ENOMEM;
	memcpy(dst->attempts, src->attempts, src->nattempts * sizeof(*dst->attempts));
	dst->nattempts = src->nattempts;
	return 0;
}

/* status (tz != NULL: times as ISO 8601, a duration) or stored form */
static int
inst_attempts_json(const struct inst *in, const struct tz *tz, struct json *arr)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < in->nattempts && rc == 0; i++) {
		const struct inst_attempt *at = &in->attempts[i];
		struct json *o = json_new_object(), *r;

		if (o == NULL)
			return -ENOMEM;
		rc = json_obj_add_int(o, tz != NULL ? "attempt" : "n", at->n);
		rc |= json_obj_add_str(o, "trigger", inst_atrig_name(at->trigger));
		rc |= json_obj_add_str(o, "outcome", inst_outcome_name(at->outcome));
		if (tz != NULL) {
			rc |= inst_json_time(o, "started", at->started_ms, tz);
			rc |= inst_json_time(o, "finished", at->finished_ms, tz);
			if (at->finished_ms > 0 && at->finished_ms >= at->started_ms)
				rc |= json_obj_add_num(o, "duration_s",
				    (double)(at->finished_ms - at->started_ms) / 1000);
			else
				rc |= json_obj_add_null(o, "duration_s");
			if ((r = json_new_object()) == NULL) {
				json_free(o);
				return -ENOMEM;
			}
			rc |= json_obj_add_int(r, "read", at->records_read);
			rc |= json_obj_add_int(r, "written", at->records_written);
			rc |= json_obj_add(o, "records", r);
			rc |= json_obj_add_int(o, "bytes", at->bytes);
			if (at->error[0] != '\0')
				rc |= json_obj_add_str(o, "error", at->error);
			else
				rc |= json_obj_add_null(o, "error");
		} else {
			rc |= json_obj_add_int(o, "started_ms", at->started_ms);
			rc |= json_obj_add_int(o, "finished_ms", at->finished_ms);
			rc |= json_obj_add_int(o, "records_read", at->records_read);
			rc |= json_obj_add_int(o, "records_written", at->records_written);
			rc |= json_obj_add_int(o, "bytes", at->bytes);
			rc |= json_obj_add_str(o, "error", at->error);
		}
		rc |= json_arr_add(arr, o);
	}
	return rc != 0 ? -ENOMEM : 0;
}

static int
inst_name_index(const char *s, const char *const *names, size_t n, int dflt)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return dflt;
}

const char *
inst_state_name(enum inst_state s)
{
	if ((unsigned)s < sizeof(inst_names) / sizeof(inst_names[0]))
		return inst_names[s];
	return "UNKNOWN";
}

bool
inst_state_terminal(enum inst_state s)
{
	return s == INST_SUCCESS || s == INST_FAILED || s == INST_KILLED ||
	    s == INST_SKIPPED;
}

static int
inst_outputs_json(const struct inst *in, struct json *arr)
{
	size_t k = 0;
	int rc = 0;

	while (k < in->outputs.len && rc == 0) {
		const char *nl = memchr(in->outputs.p + k, '\n', in->outputs.len - k);
		size_t e = nl != NULL ? (size_t)(nl - in->outputs.p) : in->outputs.len;
		char *s = strndup(in->outputs.p + k, e - k);

		if (s == NULL)
			return -ENOMEM;
		rc = json_arr_add(arr, json_new_str(s));
		free(s);
		k = e + 1;
	}
	return rc;
}

/* masked (what status shows): a secret's value as "******", a URL without
 * its user:password@ (conf_mask_param); the record keeps the values */
static int
inst_params_json(const struct inst *in, bool masked, struct json *obj)
{
	struct buf v;
	size_t i;
	int rc = 0;

	buf_init(&v, BUF_MAX_SMALL);
	for (i = 0; i < in->params.n && rc == 0; i++) {
		if (!masked) {
			rc = json_obj_add_str(obj, in->params.v[i].name, in->params.v[i].value);
			continue;
		}
		buf_reset(&v);
		if ((rc = conf_mask_param(in->params.v[i].name, in->params.v[i].value, &v)) == 0)
			rc = json_obj_add_str(obj, in->params.v[i].name, v.p);
	}
	buf_free(&v);
	return rc;
}

int
inst_encode(const struct inst *in, struct buf *out)
{
	struct json *o, *a = NULL, *p = NULL;
	int rc = -ENOMEM;

	if ((o = json_new_object()) == NULL)
		return -ENOMEM;
	rc = json_obj_add_str(o, "job", in->job);
	rc |= json_obj_add_str(o, "cycle", in->cycle);
	rc |= json_obj_add_str(o, "state", inst_state_name(in->state));
	rc |= json_obj_add_str(o, "reason", in->reason);
	rc |= json_obj_add_int(o, "attempt", in->attempt);
	rc |= json_obj_add_int(o, "attempt_base", in->attempt_base);
	rc |= json_obj_add_int(o, "rerun_times", in->rerun_times);
	rc |= json_obj_add_int(o, "rerun_interval_s", in->rerun_interval_s);
	rc |= json_obj_add_int(o, "cyctime", in->cyctime);
	rc |= json_obj_add_int(o, "created_ms", in->created_ms);
	rc |= json_obj_add_int(o, "started_ms", in->started_ms);
	rc |= json_obj_add_int(o, "finished_ms", in->finished_ms);
	rc |= json_obj_add_int(o, "next_try_ms", in->next_try_ms);
	rc |= json_obj_add_int(o, "window_start_ms", in->window_start_ms);
	rc |= json_obj_add_int(o, "window_end_ms", in->window_end_ms);
	rc |= json_obj_add_int(o, "records_read", in->records_read);
	rc |= json_obj_add_int(o, "records_written", in->records_written);
	rc |= json_obj_add_int(o, "dirty", in->dirty);
	rc |= json_obj_add_int(o, "bytes", in->bytes);
	if ((a = json_new_array()) == NULL || inst_outputs_json(in, a) != 0) {
		json_free(a);
		rc = -ENOMEM;
		goto out;
	}
	rc |= json_obj_add(o, "outputs", a);
	rc |= json_obj_add_str(o, "error", in->error);
	if ((p = json_new_object()) == NULL || inst_params_json(in, false, p) != 0) {
		json_free(p);
		rc = -ENOMEM;
		goto out;
	}
	rc |= json_obj_add(o, "params", p);
	rc |= json_obj_add_bool(o, "set_success", in->set_success);
	rc |= json_obj_add_str(o, "trigger", inst_triggers[in->trigger]);
	rc |= json_obj_add_str(o, "job_json", in->job_json.p);
	rc |= json_obj_add_int(o, "updated_ms", in->updated_ms);
	rc |= json_obj_add_int(o, "state_ms", in->state_ms);
	rc |= json_obj_add_int(o, "jobjson_ms", in->jobjson_ms);
	rc |= json_obj_add_str(o, "next_trigger", inst_atrig_name(in->next_trigger));
	rc |= json_obj_add_int(o, "alerts_fired", in->alerts_fired);
	if ((a = json_new_array()) == NULL || inst_attempts_json(in, NULL, a) != 0) {
		json_free(a);
		rc = -ENOMEM;
		goto out;
	}
	rc |= json_obj_add(o, "attempts", a);
	if (rc != 0) {
		rc = -ENOMEM;
		goto out;
	}
	rc = json_print(o, 0, out);
out:
	json_free(o);
	return rc;
}

static int64_t
inst_get_int(const struct json *o, const char *k)
{
	double d = 0;

	(void)json_num(json_get(o, k), &d);
	return (int64_t)d;
}

static void
inst_get_str(const struct json *o, const char *k, char *dst, size_t dsz)
{
	const char *s = json_str(json_get(o, k));

	(void)snprintf(dst, dsz, "%s", s != NULL ? s : "");
}

int
inst_decode(const char *buf, size_t len, struct inst *in)
{
	struct json_doc *doc = NULL;
	const struct json *o, *n;
	const char *s;
	size_t i, cnt;
	int rc;

	if (json_parse(buf, len, &doc, NULL) != 0)
		return ENG_ECORRUPT;
	o = json_doc_root(doc);
	rc = ENG_ECORRUPT;
	if (json_type(o) != JSON_OBJECT || (s = json_str(json_get(o, "state"))) == NULL)
		goto out;
	for (i = 0; i < sizeof(inst_names) / sizeof(inst_names[0]); i++)
		if (strcmp(s, inst_names[i]) == 0)
			break;
	if (i == sizeof(inst_names) / sizeof(inst_names[0]))
		goto out;
	in->state = (enum inst_state)i;
	inst_get_str(o, "job", in->job, sizeof(in->job));
	inst_get_str(o, "cycle", in->cycle, sizeof(in->cycle));
	inst_get_str(o, "reason", in->reason, sizeof(in->reason));
	inst_get_str(o, "error", in->error, sizeof(in->error));
	in->attempt = (int)inst_get_int(o, "attempt");
	in->attempt_base = (int)inst_get_int(o, "attempt_base");
	in->rerun_times = (int)inst_get_int(o, "rerun_times");
	in->rerun_interval_s = inst_get_int(o, "rerun_interval_s");
	in->cyctime = inst_get_int(o, "cyctime");
	in->created_ms = inst_get_int(o, "created_ms");
	in->started_ms = inst_get_int(o, "started_ms");
	in->finished_ms = inst_get_int(o, "finished_ms");
	in->next_try_ms = inst_get_int(o, "next_try_ms");
	in->window_start_ms = inst_get_int(o, "window_start_ms");
	in->window_end_ms = inst_get_int(o, "window_end_ms");
	in->records_read = inst_get_int(o, "records_read");
	in->records_written = inst_get_int(o, "records_written");
	in->dirty = inst_get_int(o, "dirty");
	in->bytes = inst_get_int(o, "bytes");
	in->updated_ms = inst_get_int(o, "updated_ms");
	in->state_ms = inst_get_int(o, "state_ms");
	in->jobjson_ms = inst_get_int(o, "jobjson_ms");
	if (in->updated_ms == 0) {	/* a record from before these times */
		in->updated_ms = in->created_ms;
		if (in->started_ms > in->updated_ms)
			in->updated_ms = in->started_ms;
		if (in->finished_ms > in->updated_ms)
			in->updated_ms = in->finished_ms;
	}
	if (in->state_ms == 0)
		in->state_ms = in->updated_ms;
	if (in->jobjson_ms == 0)
		in->jobjson_ms = in->finished_ms;
	{
		bool b = false;

		(void)json_bool(json_get(o, "set_success"), &b);
		in->set_success = b;
	}
	s = json_str(json_get(o, "trigger"));
	in->trigger = INST_SCHEDULED;
	for (i = 0; s != NULL && i < 3; i++)
		if (strcmp(s, inst_triggers[i]) == 0)
			in->trigger = (enum inst_trigger)i;
	in->next_trigger = (enum inst_atrig)inst_name_index(json_str(json_get(o, "next_trigger")),
	    inst_atrigs, NELEM(inst_atrigs), in->trigger == INST_BACKFILL ? INST_AT_BACKFILL :
	    in->trigger == INST_MANUAL ? INST_AT_CTL : INST_AT_SCHEDULED);
	in->alerts_fired = (unsigned)inst_get_int(o, "alerts_fired");
	free(in->attempts);
	in->attempts = NULL;
	in->nattempts = 0;
	for (n = json_first(json_get(o, "attempts")); n != NULL; n = json_next(n)) {
		struct inst_attempt *at;

		if (json_type(n) != JSON_OBJECT)
			continue;
		if ((at = inst_attempt_add(in)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		at->n = (int)inst_get_int(n, "n");
		at->trigger = (enum inst_atrig)inst_name_index(json_str(json_get(n, "trigger")),
		    inst_atrigs, NELEM(inst_atrigs), INST_AT_SCHEDULED);
		at->outcome = (enum inst_outcome)inst_name_index(json_str(json_get(n, "outcome")),
		    inst_outcomes, NELEM(inst_outcomes), INST_OUT_FAILED);
		at->started_ms = inst_get_int(n, "started_ms");
		at->finished_ms = inst_get_int(n, "finished_ms");
		at->records_read = inst_get_int(n, "records_read");
		at->records_written = inst_get_int(n, "records_written");
		at->bytes = inst_get_int(n, "bytes");
		inst_get_str(n, "error", at->error, sizeof(at->error));
	}
	buf_reset(&in->job_json);
	if ((s = json_str(json_get(o, "job_json"))) != NULL && buf_addstr(&in->job_json, s) != 0) {
		rc = -ENOMEM;
		goto out;
	}
	buf_reset(&in->outputs);
	for (n = json_first(json_get(o, "outputs")); n != NULL; n = json_next(n))
		if ((s = json_str(n)) != NULL && buf_printf(&in->outputs, "%s\n", s) != 0) {
			rc = -ENOMEM;
			goto out;
		}
	param_set_free(&in->params);
	cnt = json_size(json_get(o, "params"));
	if (cnt > 0) {
		if ((in->params.v = calloc(cnt, sizeof(*in->params.v))) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		for (n = json_first(json_get(o, "params")); n != NULL; n = json_next(n)) {
			const char *v = json_str(n);
			struct param_res *r = &in->params.v[in->params.n];

			if ((r->name = strdup(json_key(n))) == NULL ||
			    (r->value = strdup(v != NULL ? v : "")) == NULL) {
				free(r->name);
				r->name = NULL;
				rc = -ENOMEM;
				goto out;
			}
			in->params.n++;
		}
	}
	rc = 0;
out:
	json_doc_free(doc);
	return rc;
}

int
inst_iso(int64_t ms, const struct tz *tz, char *out, size_t outsz)
{
	struct tz_tm t;
	int64_t sec = ms / 1000;
	long frac = (long)(ms % 1000);
	int32_t off;
	int n, rc;

	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	if ((rc = tz_to_local(tz, sec, &t)) != 0)
		return rc;
	off = t.utoff;
	n = snprintf(out, outsz, "%04lld-%02d-%02dT%02d:%02d:%02d.%03ld%c%02d:%02d",
	    (long long)t.year, t.mon, t.mday, t.hour, t.min, t.sec, frac,
	    off < 0 ? '-' : '+', (off < 0 ? -off : off) / 3600,
	    ((off < 0 ? -off : off) / 60) % 60);
	if (n < 0 || (size_t)n >= outsz)
		return -ENAMETOOLONG;
	return 0;
}

int
inst_json_time(struct json *o, const char *k, int64_t ms, const struct tz *tz)
{
	char iso[48];

	if (ms <= 0 || inst_iso(ms, tz, iso, sizeof(iso)) != 0)
		return json_obj_add_null(o, k);
	return json_obj_add_str(o, k, iso);
}

int
inst_status(const struct inst *in, const struct tz *tz, struct buf *out)
{
	struct json *o, *w = NULL, *r = NULL, *a = NULL, *p = NULL, *t = NULL;
	int rc;

	if ((o = json_new_object()) == NULL)
		return -ENOMEM;
	rc = json_obj_add_str(o, "job", in->job);
	rc |= json_obj_add_str(o, "cycle", in->cycle);
	rc |= json_obj_add_str(o, "state", inst_state_name(in->state));
	rc |= json_obj_add_str(o, "reason", in->reason);
	if (in->window_start_ms >= 0 && in->window_end_ms >= 0) {
		if ((w = json_new_object()) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		rc |= inst_json_time(w, "start", in->window_start_ms, tz);
		rc |= inst_json_time(w, "end", in->window_end_ms, tz);
		rc |= json_obj_add_int(w, "start_ms", in->window_start_ms);
		rc |= json_obj_add_int(w, "end_ms", in->window_end_ms);
		rc |= json_obj_add(o, "window", w);
	} else {
		rc |= json_obj_add_null(o, "window");
	}
	rc |= json_obj_add_int(o, "attempt", in->attempt);
	rc |= json_obj_add_int(o, "attempts_allowed", inst_attempts_allowed(in));
	rc |= inst_json_time(o, "scheduled", in->cyctime * 1000, tz);
	rc |= inst_json_time(o, "created", in->created_ms, tz);
	rc |= inst_json_time(o, "started", in->started_ms, tz);
	rc |= inst_json_time(o, "finished", in->finished_ms, tz);
	rc |= inst_json_time(o, "next_try", in->state == INST_RETRY_WAIT ? in->next_try_ms : 0, tz);
	if ((r = json_new_object()) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc |= json_obj_add_int(r, "read", in->records_read);
	rc |= json_obj_add_int(r, "written", in->records_written);
	rc |= json_obj_add_int(r, "dirty", in->dirty);
	rc |= json_obj_add(o, "records", r);
	rc |= json_obj_add_int(o, "bytes", in->bytes);
	if ((a = json_new_array()) == NULL || inst_outputs_json(in, a) != 0) {
		json_free(a);
		rc = -ENOMEM;
		goto out;
	}
	rc |= json_obj_add(o, "objects", a);
	if (in->error[0] != '\0')
		rc |= json_obj_add_str(o, "error", in->error);
	else
		rc |= json_obj_add_null(o, "error");
	if ((p = json_new_object()) == NULL || inst_params_json(in, true, p) != 0) {
		json_free(p);
		rc = -ENOMEM;
		goto out;
	}
	rc |= json_obj_add(o, "params", p);
	rc |= json_obj_add_bool(o, "set_success", in->set_success);
	rc |= json_obj_add_str(o, "trigger", inst_triggers[in->trigger]);
	if ((t = json_new_array()) == NULL || inst_attempts_json(in, tz, t) != 0) {
		json_free(t);
		rc = -ENOMEM;
		goto out;
	}
	rc |= json_obj_add(o, "attempts", t);
	if (rc != 0) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = json_print(o, JSON_PRETTY, out)) == 0)
		rc = buf_addc(out, '\n');
out:
	json_free(o);
	return rc;
}
