/* SPDX-License-Identifier: MIT */
/*
 * run.c - one attempt of an instance (see run.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "run.h"

/* which connection a side uses in this attempt (no secret is shown) */
static void
run_log_source(const struct plugin_env *env, const struct conf_job *res,
    enum conf_side side)
{
	const struct conf_source *src = conf_job_source(res, side);
	const char *ds = conf_job_datasource(res, side), *ep, *where;
	bool ots;

	if (src == NULL)
		return;
	ots = conf_source_type(src) == CONF_SRC_OTS;
	ep = conf_source_endpoint(src);
	where = ots ? conf_source_instance(src) : conf_source_bucket(src);
	plugin_log(env, LOG_LVL_INFO, "%s %s: %s%s%s %s, %s %s (taken at this attempt's start)",
	    side == CONF_READER ? "reader" : "writer", conf_job_plugin(res, side),
	    ds != NULL ? "datasource \"" : "inline connection", ds != NULL ? ds : "",
	    ds != NULL ? "\":" : ":", ep != NULL ? ep : "?", ots ? "instance" : "bucket",
	    where != NULL ? where : "?");
}

int
run_job(const struct run_config *cfg, struct pipe_stats *st, struct eng_errbuf *eb)
{
	struct conf_diags *d = NULL;
	struct conf_job *res = NULL;
	const struct conf_settings *set;
	struct plugin_env env;
	struct pipe_config pc;
	struct buf msg;
	size_t i;
	int rc;

	buf_init(&msg, BUF_MAX_SMALL);
	memset(&env, 0, sizeof(env));
	env.job = conf_job_name(cfg->job);
	env.instance = cfg->instance;
	env.attempt = cfg->attempt;
	env.tz = cfg->tz;
	env.cyctime = cfg->cyctime;
	env.spool_dir = cfg->spool_dir;
	env.cancel = cfg->cancel;
	env.log = cfg->log;
	env.log_arg = cfg->log_arg;
	env.now_ms = cfg->now_ms;
	env.now_arg = cfg->now_arg;
	env.window = cfg->window;
	env.window_arg = cfg->window_arg;
	env.ckpt_put = cfg->ckpt_put;
	env.ckpt_get = cfg->ckpt_get;
	env.ckpt_arg = cfg->ckpt_arg;

	for (i = 0; cfg->params != NULL && i < cfg->params->n; i++) {
		/* a secret's value never goes into a log: "******" (conf.h) */
		buf_reset(&msg);
		if (conf_mask_param(cfg->params->v[i].name, cfg->params->v[i].value, &msg) == 0)
			plugin_log(&env, LOG_LVL_INFO, "parameter %s=%s",
			    cfg->params->v[i].name, msg.p);
	}
	buf_reset(&msg);
	if ((rc = conf_diags_new(&d)) != 0)
		goto out;
	rc = conf_job_resolve(cfg->job, param_set_lookup, (void *)(uintptr_t)cfg->params,
	    cfg->sources, cfg->sources_arg, d, &res);
	if (rc != 0) {
		(void)conf_diags_format(d, env.job, &msg);
		if (msg.len > 0 && msg.p[msg.len - 1] == '\n')
			buf_truncate(&msg, msg.len - 1);
		plugin_log(&env, LOG_LVL_ERROR, "the job is invalid after parameter substitution:\n%s",
		    msg.err == 0 ? msg.p : "(message too long)");
		eng_errbuf_set(eb, rc, "invalid after parameter substitution: %s",
		    msg.err == 0 ? msg.p : "(message too long)");
		goto out;
	}
	if (cfg->resolved != NULL && (rc = conf_job_render(res, true, cfg->resolved)) != 0)
		goto out;
	run_log_source(&env, res, CONF_READER);
	run_log_source(&env, res, CONF_WRITER);
	set = conf_job_settings(res);
	memset(&pc, 0, sizeof(pc));
	pc.env = &env;
	pc.reader = conf_job_plugin_id(res, CONF_READER);
	pc.reader_param = conf_job_param(res, CONF_READER);
	pc.reader_source = conf_job_source(res, CONF_READER);
	pc.writer = conf_job_plugin_id(res, CONF_WRITER);
	pc.writer_param = conf_job_param(res, CONF_WRITER);
	pc.writer_source = conf_job_source(res, CONF_WRITER);
	pc.concurrent = (int)(set->concurrent > 0 ? set->concurrent :
	    set->channel > 0 ? set->channel : 1);
	pc.mbps = set->mbps > 0 ? set->mbps : 0;
	if (set->bytes > 0 && (pc.mbps == 0 || (double)set->bytes / 1048576.0 < pc.mbps))
		pc.mbps = (double)set->bytes / 1048576.0;
	pc.error_records = set->error_record;
	pc.error_percent = set->error_percentage;
	pc.progress_ms = cfg->progress_ms;
	pc.outputs = cfg->outputs;
	rc = pipe_run(&pc, st, eb);
out:
	buf_free(&msg);
	conf_job_free(res);
	conf_diags_free(d);
	return rc;
}
