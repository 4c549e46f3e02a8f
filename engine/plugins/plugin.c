/* SPDX-License-Identifier: MIT */
/*
 * plugin.c - the helpers plugins share (logging into the instance log,
 * parameter access).  The registry of plugins is engine/run/registry.c.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

void
plugin_log(const struct plugin_env *env, enum log_level lvl, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);	/* long lines are cut */
	va_end(ap);
	if (env != NULL && env->log != NULL)
		env->log(env->log_arg, lvl, line);
	else
		log_msg(lvl, "%s", line);
}

const char *
plugin_param_str(const struct json *param, const char *key, const char *def)
{
	const char *s = json_str(json_get(param, key));

	return s != NULL ? s : def;
}

int
plugin_param_int(const struct json *param, const char *key, int64_t def,
    int64_t *out, struct eng_errbuf *eb)
{
	const struct json *n = json_get(param, key);
	const char *s;
	char *end;
	double d;
	long long v;

	if (n == NULL || json_type(n) == JSON_NULL) {
		*out = def;
		return 0;
	}
	if (json_num(n, &d) == 0) {
		if (d != floor(d) || d < -9.2e18 || d > 9.2e18)
			return eng_errbuf_set(eb, ENG_EINVAL,
			    "parameter '%s' must be a whole number", key);
		*out = (int64_t)d;
		return 0;
	}
	if ((s = json_str(n)) != NULL) {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno == 0 && end != s && *end == '\0') {
			*out = v;
			return 0;
		}
	}
	return eng_errbuf_set(eb, ENG_EINVAL,
	    "parameter '%s' must be a whole number (a JSON number or a numeric string)", key);
}

int
plugin_param_bool(const struct json *param, const char *key, bool def,
    bool *out, struct eng_errbuf *eb)
{
	const struct json *n = json_get(param, key);
	const char *s;

	if (n == NULL || json_type(n) == JSON_NULL) {
		*out = def;
		return 0;
	}
	if (json_bool(n, out) == 0)
		return 0;
	if ((s = json_str(n)) != NULL) {
		if (strcasecmp(s, "true") == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, "false") == 0) {
			*out = false;
			return 0;
		}
	}
	return eng_errbuf_set(eb, ENG_EINVAL, "parameter '%s' must be true or false", key);
}
