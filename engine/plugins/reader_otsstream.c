/* SPDX-License-Identifier: MIT */
/*
 * reader_otsstream.c - the `otsstream` reader (DataX otsstreamreader):
 * exports the Table Store stream records of dataTable committed in the
 * window [start, end), resuming from the checkpoints the previous window
 * left in statusTable (DataX's protocol, reader_otsstream_ckpt.c), so that
 * DataX and difs can take turns on one status table.
 *
 * Parameters (DataX's meaning, contrib/doc/tablestore.md 4.2): the connection
 * (datasource or endpoint/accessId/accessKey/instanceName[/securityToken])
 * arrives as the run's snapshot of the source, env->source; dataTable;
 * statusTable; startTimestampMillis + endTimestampMillis (epoch ms, or a
 * 14-digit yyyyMMddHHmmss read as local time in the job's zone), or
 * startTimeString + endTimeString (yyyyMMddHHmmss), or date (yyyyMMdd: that
 * day, start + 86 400 000 ms); isExportSequenceInfo; enableSeekIterator;
 * maxRetries (per request); mode (absent = multi-version 6-tuples,
 * single_version_and_update_only = rows over `column`); column;
 * isTimeseriesTable; enableTableGroupSupport (may_more_record decides
 * "caught up"); confSimplifyEnable and threadNum (accepted: parallelism is
 * the job's channels here).  New: safetyMarginSeconds (default 300 =
 * DataX's fixed 5 minutes; 0 allowed): end must be <= now - margin.
 *
 * Flow: job_open checks the table, its stream, the time range, the status
 * table, lists the shards and restores the start checkpoints (4.3, 4.4).
 * Shards are grouped by lineage (parent / parent sibling links), groups are
 * spread over at most `advice` tasks, and a task reads its shards in
 * parents-before-children order, so a child is read only after all its
 * parents reached SHARD_END in this window (else it is skipped with a
 * TRIM_HORIZON checkpoint, as DataX).  Shard order, task assignment and
 * record order depend only on the shard list and the stream, so a rerun of
 * a window yields the same records in the same order per task.  Nothing is
 * written to the status table before job_commit, which runs after the
 * writer committed its outputs: then the job description, one checkpoint
 * per shard at the window end and the shard-time rows are written, and
 * each checkpoint is mirrored through env->ckpt_put (sub = shard id, value
 * "END_MS\tVERSION\tCHECKPOINT").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "conf.h"
#include "ots.h"
#include "plugin.h"
#include "reader_otsstream_i.h"
#include "sign.h"

#define OTSR_MODE_ROW		"single_version_and_update_only"
#define OTSR_BEFORE_MS		(10 * 60 * 1000LL)	/* DataX BEFORE_OFFSET_TIME_MILLIS */
#define OTSR_SHARDTIME_GAP_MS	(10 * 60 * 1000LL)	/* new shard-time row every 10 min */
#define OTSR_DAY_MS		86400000LL

enum otsr_state { ST_PENDING = 0, ST_END, ST_NOT_END, ST_SKIP };

struct otsr_stime {
	int64_t	 t;
	char	*iter;
};

struct otsr_shard {
	char			*id;
	int			 parent;	/**< index or -1 */
	int			 sibling;	/**< index or -1 */
	int			 group;
	int			 task;
	/* start */
	char			*start_ckpt;	/**< iterator, TRIM_HORIZON, SHARD_END; NULL = look up */
	int			 skip;		/**< drop records before start */
	/* result (written by the owning task only) */
	int			 state;
	char			*end_ckpt;
	int64_t			 sent;
	struct otsr_stime	*st;
	size_t			 nst;
};

struct otsr_col {
	char	*name;
	int	 tag;		/**< is_timeseries_tag */
};

struct otsr_job {
	const struct plugin_env	*env;
	struct sign_cred	*cred;
	struct ots		*ots;
	char			*table;
	char			*status;
	char			*stream;
	int64_t			 start, end;
	int			 exp_h;
	bool			 seq_info, seek, table_group, row_mode, timeseries;
	struct otsr_col		*cols;
	size_t			 ncols;
	struct otsr_shard	*shards;
	size_t			 nshards;
	size_t			*order;		/**< parents-before-children */
	int			 ntasks;
	char			 version[96];
};

/* ---- small helpers ------------------------------------------------------------ */

static char *
otsr_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* "2026-11-25 12:00:00.000 +0800" for logs and messages */
static void
otsr_fmt_time(const struct plugin_env *env, int64_t ms, char *out, size_t n)
{
	struct tz_tm tm;
	int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	int32_t off;

	if (env->tz == NULL || tz_to_local(env->tz, s, &tm) != 0) {
		(void)snprintf(out, n, "?");
		return;
	}
	off = tm.utoff < 0 ? -tm.utoff : tm.utoff;
	(void)snprintf(out, n, "%04" PRId64 "-%02d-%02d %02d:%02d:%02d.%03d %c%02d%02d",
	    tm.year, tm.mon, tm.mday, tm.hour, tm.min, tm.sec, (int)(ms - s * 1000),
	    tm.utoff < 0 ? '-' : '+', (int)(off / 3600), (int)(off / 60 % 60));
}

static int64_t
otsr_now(const struct plugin_env *env)
{
	struct timespec ts;

	if (env->now_ms != NULL)
		return env->now_ms(env->now_arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* digits of a parameter (JSON number or string) into out; 0 or ENG_EINVAL */
static int
otsr_param_text(const struct json *v, char *out, size_t n)
{
	const char *s = json_str(v);
	double d;

	if (s != NULL) {
		size_t len = strlen(s);

		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		while (len > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		if (len == 0 || len >= n)
			return ENG_EINVAL;
		memcpy(out, s, len);
		out[len] = '\0';
	} else if (json_num(v, &d) == 0 && d >= 0 && d < 9e18 && d == (double)(int64_t)d) {
		(void)snprintf(out, n, "%" PRId64, (int64_t)d);
	} else {
		return ENG_EINVAL;
	}
	return 0;
}

static int
otsr_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return s[n] == '\0';
}

static int
otsr_num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* yyyyMMddHHmmss (n = 14) or yyyyMMdd (n = 8), local time -> ms */
static int
otsr_parse_stamp(const struct plugin_env *env, const char *s, size_t n, int64_t *ms)
{
	struct tz_tm tm;
	int64_t utc;
	int rc;

	if (strlen(s) != n || !otsr_digits(s, n) || env->tz == NULL)
		return ENG_EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.year = otsr_num(s, 4);
	tm.mon = otsr_num(s + 4, 2);
	tm.mday = otsr_num(s + 6, 2);
	if (n == 14) {
		tm.hour = otsr_num(s + 8, 2);
		tm.min = otsr_num(s + 10, 2);
		tm.sec = otsr_num(s + 12, 2);
	}
	if (tm.mon < 1 || tm.mon > 12 || tm.mday < 1 ||
	    tm.mday > tz_days_in_month(tm.year, tm.mon) || tm.hour > 23 || tm.min > 59 ||
	    tm.sec > 59)
		return ENG_EINVAL;
	if ((rc = tz_to_utc(env->tz, &tm, &utc, NULL)) != 0)
		return rc;
	*ms = utc * 1000;
	return 0;
}

/* startTimestampMillis-style bound: epoch ms or a 14-digit local stamp */
static int
otsr_bound(const struct plugin_env *env, const struct json *param, const char *key,
    int kind, int64_t *ms, struct eng_errbuf *eb)
{
	char s[64], *end;
	long long v;

	if (otsr_param_text(json_get(param, key), s, sizeof(s)) != 0)
		goto bad;
	if (kind == 14 || kind == 8 || (strlen(s) == 14 && otsr_digits(s, 14))) {
		if (otsr_parse_stamp(env, s, kind == 8 ? 8 : 14, ms) == 0)
			return 0;
		if (kind != 0)
			goto bad;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == 0 && *end == '\0' && v >= 0) {
		*ms = v;
		return 0;
	}
bad:
	return eng_errbuf_set(eb, ENG_EINVAL, "otsstream: \"%s\" must be %s", key,
	    kind == 8 ? "a day as yyyyMMdd" : kind == 14 ? "a yyyyMMddHHmmss time" :
	    "epoch milliseconds or a yyyyMMddHHmmss time");
}

static int
otsr_time_range(struct otsr_job *j, const struct json *p, struct eng_errbuf *eb)
{
	const struct plugin_env *env = j->env;
	bool d = json_get(p, "date") != NULL;
	bool ms = json_get(p, "startTimestampMillis") != NULL || json_get(p, "endTimestampMillis") != NULL;
	bool ts = json_get(p, "startTimeString") != NULL || json_get(p, "endTimeString") != NULL;
	int rc;

	if ((int)d + (int)ms + (int)ts != 1)
		return eng_errbuf_set(eb, ENG_EINVAL, "otsstream: give the time range one way: "
		    "\"startTimestampMillis\" and \"endTimestampMillis\", or \"startTimeString\" "
		    "and \"endTimeString\", or \"date\"");
	if (ms && (json_get(p, "startTimestampMillis") == NULL || json_get(p, "endTimestampMillis") == NULL))
		return eng_errbuf_set(eb, ENG_EINVAL, "otsstream: \"startTimestampMillis\" and "
		    "\"endTimestampMillis\" go together: give both");
	if (ts && (json_get(p, "startTimeString") == NULL || json_get(p, "endTimeString") == NULL))
		return eng_errbuf_set(eb, ENG_EINVAL, "otsstream: \"startTimeString\" and "
		    "\"endTimeString\" go together: give both");
	if (d) {
		if ((rc = otsr_bound(env, p, "date", 8, &j->start, eb)) != 0)
			return rc;
		j->end = j->start + OTSR_DAY_MS;
	} else if (ms) {
		if ((rc = otsr_bound(env, p, "startTimestampMillis", 0, &j->start, eb)) != 0 ||
		    (rc = otsr_bound(env, p, "endTimestampMillis", 0, &j->end, eb)) != 0)
			return rc;
	} else {
		if ((rc = otsr_bound(env, p, "startTimeString", 14, &j->start, eb)) != 0 ||
		    (rc = otsr_bound(env, p, "endTimeString", 14, &j->end, eb)) != 0)
			return rc;
	}
	if (j->start >= j->end)
		return eng_errbuf_set(eb, ENG_EINVAL, "otsstream: EndTimestamp must be larger than "
		    "startTimestamp (window [%" PRId64 ", %" PRId64 ") ms)", j->start, j->end);
	return 0;
}

/* ---- open ------------------------------------------------------------------------ */

static void
otsr_job_close(void *p)
{
	struct otsr_job *j = p;
	size_t i, k;

	if (j == NULL)
		return;
	for (i = 0; i < j->nshards; i++) {
		struct otsr_shard *s = &j->shards[i];

		free(s->id);
		free(s->start_ckpt);
		free(s->end_ckpt);
		for (k = 0; k < s->nst; k++)
			free(s->st[k].iter);
		free(s->st);
	}
	free(j->shards);
	free(j->order);
	for (i = 0; i < j->ncols; i++)
		free(j->cols[i].name);
	free(j->cols);
	free(j->table);
	free(j->status);
	free(j->stream);
	ots_free(j->ots);
	sign_cred_free(j->cred);
	free(j);
}

/* the connection: the run's snapshot of this side's source (env->source) */
static int
otsr_connect(struct otsr_job *j, int64_t retries, struct eng_errbuf *eb)
{
	const struct conf_source *src = j->env->source;
	struct ots_config cfg;
	int rc;

	if (src == NULL || conf_source_type(src) != CONF_SRC_OTS ||
	    conf_source_endpoint(src) == NULL || conf_source_instance(src) == NULL ||
	    conf_source_access_id(src) == NULL || conf_source_access_key(src) == NULL)
		return eng_errbuf_set(eb, ENG_EINVAL, "otsstream: no Table Store connection: give "
		    "\"datasource\" (an ots source), or \"endpoint\", \"accessId\", \"accessKey\" "
		    "and \"instanceName\"");
	if ((rc = sign_cred_new(conf_source_access_id(src), conf_source_access_key(src),
	    conf_source_security_token(src), &j->cred)) != 0)
		return eng_errbuf_set(eb, rc, "otsstream: unusable access key");
	memset(&cfg, 0, sizeof(cfg));
	cfg.endpoint = conf_source_endpoint(src);
	cfg.instance = conf_source_instance(src);
	cfg.cred = j->cred;
	cfg.ca_file = conf_source_ca_file(src);
	cfg.max_retries = (int)retries;
	cfg.retry_base_ms = 100;	/* 30 retries take minutes, as DataX's */
	cfg.retry_max_ms = 10000;
	return ots_new(&cfg, &j->ots, eb);
}

static int
otsr_columns(struct otsr_job *j, const struct json *p, struct eng_errbuf *eb)
{
	const struct json *cols = json_get(p, "column"), *c;
	bool tag;
	int rc;

	if (!j->row_mode) {
		if (cols != NULL)
			plugin_log(j->env, LOG_LVL_WARN, "otsstream: \"column\" is ignored in "
			    "multi-version mode (as DataX)");
		return 0;
	}
	if (json_type(cols) != JSON_ARRAY || json_size(cols) == 0)
		return eng_errbuf_set(eb, ENG_EINVAL, "otsstream: single_version_and_update_only "
		    "mode needs \"column\", e.g. [{\"name\": \"uid\"}, {\"name\": \"name\"}]");
	if ((j->cols = calloc(json_size(cols), sizeof(*j->cols))) == NULL)
		return -ENOMEM;
	for (c = json_first(cols); c != NULL; c = json_next(c)) {
		const char *name = json_str(json_get(c, "name"));

		if (name == NULL || name[0] == '\0')
			return eng_errbuf_set(eb, ENG_EINVAL, "otsstream: column[%zu] needs a \"name\"",
			    j->ncols);
		if ((rc = plugin_param_bool(c, "is_timeseries_tag", false, &tag, eb)) != 0)
			return rc;
		if ((j->cols[j->ncols].name = strdup(name)) == NULL)
			return -ENOMEM;
		j->cols[j->ncols++].tag = tag && j->timeseries;
	}
	return 0;
}

static int
otsr_params(struct otsr_job *j, const struct json *p, int64_t *retries, int64_t *margin,
    struct eng_errbuf *eb)
{
	const char *mode = plugin_param_str(p, "mode", NULL);
	int rc;

	if ((j->table = otsr_strdup(plugin_param_str(p, "dataTable", NULL))) == NULL ||
	    j->table[0] == '\0')
		return eng_errbuf_set(eb, ENG_EINVAL, "otsstream: \"dataTable\" is required");
	if ((j->status = strdup(plugin_param_str(p, "statusTable", OTSR_STATUS_DEFAULT))) == NULL)
		return -ENOMEM;
	if (j->status[0] == '\0')
		return eng_errbuf_set(eb, ENG_EINVAL, "otsstream: \"statusTable\" is empty");
	if (mode != NULL && strcasecmp(mode, OTSR_MODE_ROW) == 0)
		j->row_mode = true;
	else if (mode != NULL)
		return eng_errbuf_set(eb, ENG_EINVAL, "otsstream: Unsupported Mode '%s': use \""
		    OTSR_MODE_ROW "\" or leave \"mode\" out (multi-version)", mode);
	if ((rc = plugin_param_bool(p, "isExportSequenceInfo", false, &j->seq_info, eb)) != 0 ||
	    (rc = plugin_param_bool(p, "enableSeekIterator", false, &j->seek, eb)) != 0 ||
	    (rc = plugin_param_bool(p, "enableTableGroupSupport", false, &j->table_group, eb)) != 0 ||
	    (rc = plugin_param_bool(p, "isTimeseriesTable", false, &j->timeseries, eb)) != 0 ||
	    (rc = plugin_param_int(p, "maxRetries", 30, retries, eb)) != 0 ||
	    (rc = plugin_param_int(p, "safetyMarginSeconds", 300, margin, eb)) != 0)
		return rc;
	if (*retries < 0 || *retries > 10000 || *margin < 0)
		return eng_errbuf_set(eb, ENG_EINVAL, "otsstream: \"maxRetries\" must be 0..10000 "
		    "and \"safetyMarginSeconds\" >= 0");
	if (!j->row_mode && j->timeseries) {
		plugin_log(j->env, LOG_LVL_WARN, "otsstream: \"isTimeseriesTable\" is only used in "
		    "single_version_and_update_only mode; ignored");
		j->timeseries = false;
	}
	if ((rc = otsr_columns(j, p, eb)) != 0)
		return rc;
	return otsr_time_range(j, p, eb);
}

/* DataX's OTSStreamReaderChecker: table, stream, time range */
static int
otsr_check(struct otsr_job *j, int64_t margin, struct eng_errbuf *eb)
{
	const struct plugin_env *env = j->env;
	struct ots_table_desc *d = NULL;
	struct ots_error err;
	int64_t now = otsr_now(env), exp_ms, earliest, latest;
	char a[64], b[64];
	int rc;

	rc = ots_describe_table(j->ots, j->table, &d, &err);
	if (rc == ENG_ENOTFOUND)
		return eng_errbuf_set(eb, rc, "otsstream: The data table is not exist: "
		    "no table '%s' in instance '%s' (%s)", j->table, ots_instance(j->ots),
		    err.code[0] != '\0' ? err.code : "not found");
	if (rc != 0)
		return otsr_ots_fail(eb, rc, &err, "otsstream: DescribeTable of the data table");
	if (!d->stream_enabled) {
		ots_table_desc_free(d);
		return eng_errbuf_set(eb, ENG_ENOTFOUND, "otsstream: the stream of table '%s' is not "
		    "enabled: enable it (UpdateTable with a stream specification) before exporting",
		    j->table);
	}
	j->exp_h = d->stream_expiration_hours > 0 ? d->stream_expiration_hours : 24;
	ots_table_desc_free(d);
	if (env->ckpt_put != NULL) {
		char hv[16];
		int hn = snprintf(hv, sizeof(hv), "%d", j->exp_h);

		/* the stream's retention, for the scheduler's backfill guard */
		if (hn > 0 && (size_t)hn < sizeof(hv))
			(void)env->ckpt_put(env->ckpt_arg, PLUGIN_CKPT_RETENTION, hv, (size_t)hn);
	}
	exp_ms = (int64_t)j->exp_h * 3600000;
	earliest = now - exp_ms + OTSR_BEFORE_MS;
	latest = now - margin * 1000;
	if (j->start < earliest) {
		otsr_fmt_time(env, j->start, a, sizeof(a));
		otsr_fmt_time(env, earliest, b, sizeof(b));
		/* trimmed class: a later run only moves the retention further on */
		return eng_errbuf_set(eb, ENG_ETRIMMED, "otsstream: the start %" PRId64 " (%s) is "
		    "outside the stream's retention: table '%s' keeps stream records %d h, so the "
		    "start must be >= now - %d h + 10 min = %" PRId64 " (%s); records before that "
		    "may already be trimmed. Export a later window", j->start, a, j->table,
		    j->exp_h, j->exp_h, earliest, b);
	}
	if (j->end > latest) {
		otsr_fmt_time(env, j->end, a, sizeof(a));
		otsr_fmt_time(env, latest, b, sizeof(b));
		/* the one check that time fixes: a rerun later may pass it */
		return eng_errbuf_set(eb, ENG_ERETRYABLE, "otsstream: the end %" PRId64 " (%s) is too "
		    "recent: it must be <= now - safetyMarginSeconds (%" PRId64 " s) = %" PRId64
		    " (%s), so that every record before the end has been committed. Run the window "
		    "later, or lower \"safetyMarginSeconds\" knowingly", j->end, a, margin,
		    latest, b);
	}
	return 0;
}

static int
otsr_find_stream(struct otsr_job *j, struct eng_errbuf *eb)
{
	struct ots_stream_list *l = NULL;
	struct ots_error err;
	size_t i;
	int rc;

	if ((rc = ots_list_stream(j->ots, j->table, &l, &err)) != 0)
		return otsr_ots_fail(eb, rc, &err, "otsstream: ListStream");
	for (i = 0; i < l->n && j->stream == NULL; i++)
		if (strcmp(l->streams[i].table, j->table) == 0 &&
		    (j->stream = strdup(l->streams[i].stream_id)) == NULL)
			rc = -ENOMEM;
	ots_stream_list_free(l);
	if (rc == 0 && j->stream == NULL)
		rc = eng_errbuf_set(eb, ENG_ENOTFOUND, "otsstream: table '%s' has no stream", j->table);
	return rc;
}

static int
otsr_shard_index(const struct otsr_job *j, const char *id)
{
	size_t i;

	for (i = 0; id != NULL && i < j->nshards; i++)
		if (strcmp(j->shards[i].id, id) == 0)
			return (int)i;
	return -1;
}

static int
otsr_cmp_id(const void *a, const void *b)
{
	const struct otsr_shard *x = a, *y = b;

	return strcmp(x->id, y->id);
}

static int
otsr_group_root(int *g, int i)
{
	while (g[i] != i) {
		g[i] = g[g[i]];
		i = g[i];
	}
	return i;
}

/* shard list, sorted by id, parents-before-children order, lineage groups */
static int
otsr_shards(struct otsr_job *j, struct eng_errbuf *eb)
{
	struct ots_stream_desc *d = NULL;
	struct ots_error err;
	char **pid = NULL, **sid = NULL;
	int *uf = NULL, *done = NULL;
	size_t i, n, k;
	int rc;

	if ((rc = ots_describe_stream_all(j->ots, j->stream, &d, &err)) != 0)
		return otsr_ots_fail(eb, rc, &err, "otsstream: DescribeStream");
	n = d->nshards;
	rc = -ENOMEM;
	if ((j->shards = calloc(n + 1, sizeof(*j->shards))) == NULL ||
	    (j->order = calloc(n + 1, sizeof(*j->order))) == NULL ||
	    (uf = calloc(n + 1, sizeof(*uf))) == NULL || (done = calloc(n + 1, sizeof(*done))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		/* park the parent ids in start_ckpt/end_ckpt until resolved to indices */
		j->shards[i].id = strdup(d->shards[i].shard_id);
		j->shards[i].start_ckpt = otsr_strdup(d->shards[i].parent_id);
		j->shards[i].end_ckpt = otsr_strdup(d->shards[i].parent_sibling_id);
		j->nshards++;
		if (j->shards[i].id == NULL ||
		    (d->shards[i].parent_id != NULL && j->shards[i].start_ckpt == NULL) ||
		    (d->shards[i].parent_sibling_id != NULL && j->shards[i].end_ckpt == NULL))
			goto out;
	}
	qsort(j->shards, n, sizeof(*j->shards), otsr_cmp_id);
	if ((pid = calloc(n + 1, sizeof(*pid))) == NULL || (sid = calloc(n + 1, sizeof(*sid))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		pid[i] = j->shards[i].start_ckpt;
		sid[i] = j->shards[i].end_ckpt;
		j->shards[i].start_ckpt = j->shards[i].end_ckpt = NULL;
	}
	for (i = 0; i < n; i++) {
		j->shards[i].parent = otsr_shard_index(j, pid[i]);
		j->shards[i].sibling = otsr_shard_index(j, sid[i]);
		uf[i] = (int)i;
	}
	for (i = 0; i < n; i++) {
		int r = otsr_group_root(uf, (int)i), q;

		if (j->shards[i].parent >= 0 && (q = otsr_group_root(uf, j->shards[i].parent)) != r)
			uf[q > r ? q : r] = q > r ? r : q;
		r = otsr_group_root(uf, (int)i);
		if (j->shards[i].sibling >= 0 && (q = otsr_group_root(uf, j->shards[i].sibling)) != r)
			uf[q > r ? q : r] = q > r ? r : q;
	}
	for (i = 0; i < n; i++)
		j->shards[i].group = otsr_group_root(uf, (int)i);
	/* Kahn: repeatedly take the smallest id whose known parents are done */
	for (k = 0; k < n; k++) {
		for (i = 0; i < n; i++) {
			const struct otsr_shard *s = &j->shards[i];

			if (!done[i] && (s->parent < 0 || done[s->parent]) &&
			    (s->sibling < 0 || done[s->sibling]))
				break;
		}
		if (i == n) {
			rc = eng_errbuf_set(eb, ENG_EPROTO, "otsstream: the stream's shards have "
			    "cyclic parent links");
			goto out;
		}
		done[i] = 1;
		j->order[k] = i;
	}
	rc = 0;
out:
	for (i = 0; pid != NULL && i < n; i++) {
		free(pid[i]);
		free(sid[i]);
	}
	free(pid);
	free(sid);
	free(uf);
	free(done);
	ots_stream_desc_free(d);
	return rc;
}

/* restore the start checkpoints (DataX checkAndSetCheckpoints) */
static int
otsr_restore(struct otsr_job *j, struct eng_errbuf *eb)
{
	const struct plugin_env *env = j->env;
	struct otsr_ckpts c;
	struct otsr_jobdesc *d = NULL;
	size_t i, k;
	int rc, ok = 0;

	if ((rc = otsr_ckpts_get(j->ots, j->status, j->stream, j->start, &c, eb)) != 0)
		return rc;
	if ((rc = otsr_jobdesc_get(j->ots, j->status, j->stream, j->start, &d, eb)) != 0)
		goto out;
	if (d != NULL) {
		ok = strcmp(d->stream_id, j->stream) == 0 && d->nshards == c.n && c.n > 0;
		for (i = 0; ok && i < d->nshards; i++) {
			for (k = 0; k < c.n; k++)
				if (strcmp(c.v[k].shard, d->shards[i]) == 0)
					break;
			ok = k < c.n && strcmp(c.v[k].version, d->version) == 0;
		}
	} else {
		ok = c.legacy_count >= 0 && (size_t)c.legacy_count == c.n && c.n > 0;
	}
	if (!ok) {
		if (c.n > 0 || d != NULL)
			plugin_log(env, LOG_LVL_WARN, "otsstream: the checkpoints at the start %"
			    PRId64 " are incomplete (%zu checkpoints, job description %s): not "
			    "resuming from them", j->start, c.n, d != NULL ? d->version : "absent");
		else
			plugin_log(env, LOG_LVL_INFO, "otsstream: no checkpoints at the start %" PRId64
			    ": each shard starts at its newest shard time checkpoint before the "
			    "start, or at its oldest record, skipping records before the start",
			    j->start);
		for (i = 0; i < j->nshards; i++)
			j->shards[i].skip = 1;	/* start_ckpt NULL: looked up by the task */
		rc = 0;
		goto out;
	}
	for (k = 0; k < c.n; k++) {
		int s = otsr_shard_index(j, c.v[k].shard);

		if (s < 0 && strcmp(c.v[k].value, OTSR_SHARD_END) != 0) {
			rc = eng_errbuf_set(eb, ENG_ETRIMMED, "otsstream: Shard does not exist now: "
			    "shard '%s' has an unfinished checkpoint at the start %" PRId64 " but is "
			    "no longer in the stream (its records were trimmed before they were "
			    "exported)", c.v[k].shard, j->start);
			goto out;
		}
		if (s >= 0 && (j->shards[s].start_ckpt = strdup(c.v[k].value)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < j->nshards; i++)
		if (j->shards[i].start_ckpt == NULL &&
		    (j->shards[i].start_ckpt = strdup(OTSR_TRIM_HORIZON)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	plugin_log(env, LOG_LVL_INFO, "otsstream: resuming from the %zu checkpoints at the "
	    "start %" PRId64 " (job %s)", c.n, j->start, d != NULL ? d->version : "legacy");
	rc = 0;
out:
	otsr_jobdesc_free(d);
	otsr_ckpts_free(&c);
	return rc;
}

static int
otsr_job_open(const struct plugin_env *env, const struct json *param, void **out,
    struct eng_errbuf *eb)
{
	struct otsr_job *j;
	int64_t retries = 30, margin = 300;
	uint8_t rnd[16];
	char a[64], b[64];
	int rc;

	*out = NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -ENOMEM;
	j->env = env;
	if ((rc = otsr_params(j, param, &retries, &margin, eb)) != 0 ||
	    (rc = otsr_connect(j, retries, eb)) != 0)
		goto out;
	otsr_fmt_time(env, j->start, a, sizeof(a));
	otsr_fmt_time(env, j->end, b, sizeof(b));
	plugin_log(env, LOG_LVL_INFO, "otsstream: table %s, window [%" PRId64 ", %" PRId64
	    ") ms = [%s, %s), %s mode, status table %s", j->table, j->start, j->end, a, b,
	    j->row_mode ? OTSR_MODE_ROW : "multi-version", j->status);
	if (env->window != NULL)
		env->window(env->window_arg, j->start, j->end);
	if ((rc = otsr_check(j, margin, eb)) != 0 ||
	    (rc = otsr_status_ensure(j->ots, j->status, eb)) != 0 ||
	    (rc = otsr_find_stream(j, eb)) != 0 ||
	    (rc = otsr_shards(j, eb)) != 0 ||
	    (rc = otsr_restore(j, eb)) != 0)
		goto out;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		rc = eng_errbuf_set(eb, -errno, "otsstream: no random bytes for the job version");
		goto out;
	}
	rnd[6] = (uint8_t)((rnd[6] & 0x0f) | 0x40);
	rnd[8] = (uint8_t)((rnd[8] & 0x3f) | 0x80);
	(void)snprintf(j->version, sizeof(j->version), "%" PRId64 "-%02x%02x%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", otsr_now(env), rnd[0], rnd[1], rnd[2],
	    rnd[3], rnd[4], rnd[5], rnd[6], rnd[7], rnd[8], rnd[9], rnd[10], rnd[11], rnd[12],
	    rnd[13], rnd[14], rnd[15]);
	plugin_log(env, LOG_LVL_INFO, "otsstream: stream %s, %zu shards, job version %s",
	    j->stream, j->nshards, j->version);
	*out = j;
	j = NULL;
out:
	otsr_job_close(j);
	return rc;
}

/* lineage groups over at most advice tasks: largest first onto the least loaded */
static int
otsr_job_split(void *p, int advice, int *ntasks, struct eng_errbuf *eb)
{
	struct otsr_job *j = p;
	size_t *size = NULL, *load = NULL, ngroups = 0, i, k;
	int *gtask = NULL, rc = -ENOMEM;

	(void)eb;
	if (advice < 1)
		advice = 1;
	if ((size = calloc(j->nshards + 1, sizeof(*size))) == NULL ||
	    (gtask = calloc(j->nshards + 1, sizeof(*gtask))) == NULL ||
	    (load = calloc((size_t)advice, sizeof(*load))) == NULL)
		goto out;
	for (i = 0; i < j->nshards; i++)
		if (size[j->shards[i].group]++ == 0)
			ngroups++;
	j->ntasks = ngroups == 0 ? 1 : (ngroups < (size_t)advice ? (int)ngroups : advice);
	/* groups are named by their smallest index, so this order is stable */
	for (k = 0; k < ngroups; k++) {
		size_t best = SIZE_MAX;
		int t = 0, m;

		for (i = 0; i < j->nshards; i++)
			if (size[i] > 0 && (best == SIZE_MAX || size[i] > size[best]))
				best = i;
		for (m = 1; m < j->ntasks; m++)
			if (load[m] < load[t])
				t = m;
		load[t] += size[best];
		gtask[best] = t;
		size[best] = 0;
	}
	for (i = 0; i < j->nshards; i++)
		j->shards[i].task = gtask[j->shards[i].group];
	*ntasks = j->ntasks;
	plugin_log(j->env, LOG_LVL_INFO, "otsstream: %zu shards in %zu lineage groups over %d task%s",
	    j->nshards, ngroups, j->ntasks, j->ntasks == 1 ? "" : "s");
	rc = 0;
out:
	free(size);
	free(gtask);
	free(load);
	return rc;
}

/* ---- records ------------------------------------------------------------------------ */

struct otsr_task {
	struct otsr_job		*j;
	struct ots		*ots;
	struct plugin_sender	*out;
	struct record		 r;
	struct otsr_shard	*s;
	int64_t			 last_st;	/**< time of the last shard-time row, -1 none */
};

static int
otsr_add_value(struct record *r, const struct plainbuf_value *v)
{
	switch (v->type) {
	case PLAINBUF_VT_INTEGER: return record_add_long(r, v->i);
	case PLAINBUF_VT_DOUBLE: return record_add_double(r, v->d);
	case PLAINBUF_VT_BOOLEAN: return record_add_bool(r, v->b);
	case PLAINBUF_VT_STRING: return record_add_string(r, (const char *)v->p, v->len);
	case PLAINBUF_VT_BLOB: return record_add_bytes(r, v->p, v->len);
	default: return record_add_null(r);
	}
}

static int
otsr_add_seq(struct otsr_task *t, const struct plainbuf_row *row, int colidx)
{
	char s[256];
	int n;

	if (colidx >= 0)
		n = snprintf(s, sizeof(s), "%010" PRIu32 "_%020" PRId64 "_%010" PRIu32 "_%s:%010d",
		    row->seq.epoch, row->seq.ts_us, row->seq.row_index, t->s->id, colidx);
	else
		n = snprintf(s, sizeof(s), "%010" PRIu32 "_%020" PRId64 "_%010" PRIu32 "_%s",
		    row->seq.epoch, row->seq.ts_us, row->seq.row_index, t->s->id);
	if (n < 0 || (size_t)n >= sizeof(s))
		return ENG_EINVAL;
	return record_add_string(&t->r, s, (size_t)n);
}

/* one 6-tuple line: cell NULL = DR; op selects U/DO/DA */
static int
otsr_send_mv(struct otsr_task *t, const struct plainbuf_row *row,
    const struct plainbuf_cell *c, int colidx)
{
	struct record *r = &t->r;
	const char *op = "DR";
	size_t i;
	int rc = 0;

	for (i = 0; i < row->npk && rc == 0; i++)
		rc = otsr_add_value(r, &row->pk[i].value);
	if (rc == 0 && c == NULL) {
		rc = record_add_null(r);
		if (rc == 0)
			rc = record_add_null(r);
		if (rc == 0)
			rc = record_add_null(r);
	} else if (rc == 0) {
		rc = record_add_string(r, c->name, c->name_len);
		if (c->op == PLAINBUF_OP_PUT && c->has_value) {
			op = "U";
			if (rc == 0)
				rc = c->has_ts ? record_add_long(r, c->ts) : record_add_null(r);
			if (rc == 0)
				rc = otsr_add_value(r, &c->value);
		} else if (c->op == PLAINBUF_OP_DELETE_ONE) {
			op = "DO";
			if (rc == 0)
				rc = c->has_ts ? record_add_long(r, c->ts) : record_add_null(r);
			if (rc == 0)
				rc = record_add_null(r);
		} else if (c->op == PLAINBUF_OP_DELETE_ALL) {
			op = "DA";
			if (rc == 0)
				rc = record_add_null(r);
			if (rc == 0)
				rc = record_add_null(r);
		} else {
			record_clear(r);
			return ENG_EPROTO;
		}
	}
	if (rc == 0)
		rc = record_add_string(r, op, strlen(op));
	if (rc == 0 && t->j->seq_info)
		rc = otsr_add_seq(t, row, colidx);
	if (rc == 0)
		rc = plugin_send(t->out, r);
	else
		record_clear(r);
	if (rc == 0)
		t->s->sent++;
	return rc;
}

static int
otsr_record_mv(struct otsr_task *t, int action, const struct plainbuf_row *row)
{
	size_t i;
	int rc = 0, idx = 0;

	if (action == OTS_PUT_ROW || action == OTS_DELETE_ROW)
		rc = otsr_send_mv(t, row, NULL, idx++);
	if (action == OTS_DELETE_ROW)
		return rc;
	for (i = 0; i < row->nattrs && rc == 0; i++)
		rc = otsr_send_mv(t, row, &row->attrs[i], idx++);
	return rc;
}

/* value of tag `name` inside a timeseries row's _tags: ["k=v", ...] */
static int
otsr_tag(const struct plainbuf_value *tags, const char *name, struct record *r, int *found)
{
	struct json_doc *doc = NULL;
	const struct json *e;
	size_t n = strlen(name);
	int rc;

	*found = 0;
	if (tags == NULL || tags->type != PLAINBUF_VT_STRING)
		return record_add_null(r);
	if (json_parse((const char *)tags->p, tags->len, &doc, NULL) != 0)
		return record_add_null(r);
	for (e = json_first(json_doc_root(doc)); e != NULL; e = json_next(e)) {
		const char *s = json_str(e);

		if (s != NULL && strncmp(s, name, n) == 0 && s[n] == '=') {
			*found = 1;
			break;
		}
	}
	rc = *found ? record_add_string(r, json_str(e) + n + 1, strlen(json_str(e) + n + 1)) :
	    record_add_null(r);
	json_doc_free(doc);
	return rc;
}

static int
otsr_record_row(struct otsr_task *t, int action, const struct plainbuf_row *row)
{
	const struct otsr_job *j = t->j;
	const struct plainbuf_value *tags = NULL;
	struct record *r = &t->r;
	size_t i, k;
	int rc = 0, any = 0, found;

	if (action == OTS_DELETE_ROW)
		return 0;
	for (k = 0; k < j->ncols && rc == 0; k++) {
		const struct plainbuf_value *v = NULL;

		for (i = 0; i < row->npk; i++)
			if (strcmp(row->pk[i].name, j->cols[k].name) == 0)
				v = &row->pk[i].value;
		for (i = 0; i < row->nattrs; i++) {
			const struct plainbuf_cell *c = &row->attrs[i];

			if (c->op != PLAINBUF_OP_PUT || !c->has_value)
				continue;
			if (strcmp(c->name, j->cols[k].name) == 0)
				v = &c->value;
			if (j->cols[k].tag && strcmp(c->name, "_tags") == 0)
				tags = &c->value;
		}
		if (j->cols[k].tag) {
			rc = otsr_tag(tags, j->cols[k].name, r, &found);
			any |= found;
		} else if (v != NULL) {
			rc = otsr_add_value(r, v);
			any = 1;
		} else {
			rc = record_add_null(r);
		}
	}
	if (rc == 0 && !any) {
		record_clear(r);
		return 0;
	}
	if (rc == 0 && j->seq_info)
		rc = otsr_add_seq(t, row, -1);
	if (rc == 0)
		rc = plugin_send(t->out, r);
	else
		record_clear(r);
	if (rc == 0)
		t->s->sent++;
	return rc;
}

/* ---- one shard ----------------------------------------------------------------------- */

static int
otsr_stime_add(struct otsr_shard *s, int64_t t, const char *iter)
{
	struct otsr_stime *nv;

	if ((nv = reallocarray(s->st, s->nst + 1, sizeof(*s->st))) == NULL)
		return -ENOMEM;
	s->st = nv;
	s->st[s->nst].t = t;
	if ((s->st[s->nst].iter = strdup(iter)) == NULL)
		return -ENOMEM;
	s->nst++;
	return 0;
}

static int
otsr_finish(struct otsr_shard *s, int state, const char *ckpt)
{
	free(s->end_ckpt);
	s->state = state;
	return (s->end_ckpt = strdup(ckpt)) == NULL ? -ENOMEM : 0;
}

static int
otsr_first_iter(struct otsr_task *t, char **it, int *hint, struct eng_errbuf *eb)
{
	struct otsr_job *j = t->j;
	struct otsr_shard *s = t->s;
	struct ots_error err;
	int64_t ts = -1;
	int rc;

	*hint = 0;
	if (s->start_ckpt == NULL) {
		int64_t lo = otsr_now(j->env) - (int64_t)(j->exp_h - 1) * 3600000;

		if ((rc = otsr_shardtime_find(t->ots, j->status, j->stream, s->id, lo,
		    j->start - 1, it, eb)) != 0)
			return rc;
		if (*it != NULL) {
			plugin_log(j->env, LOG_LVL_INFO, "otsstream: shard %s: starting at its newest "
			    "shard time checkpoint before the start, skipping records before the start",
			    s->id);
			*hint = 1;
			return 0;
		}
	} else if (strcmp(s->start_ckpt, OTSR_TRIM_HORIZON) != 0) {
		return (*it = strdup(s->start_ckpt)) == NULL ? -ENOMEM : 0;
	}
	if (j->seek && j->start - OTSR_BEFORE_MS > 0)
		ts = (j->start - OTSR_BEFORE_MS) * 1000;
	if ((rc = ots_get_shard_iterator(t->ots, j->stream, s->id, ts, it, &err)) != 0)
		return otsr_ots_fail(eb, rc, &err, "otsstream: GetShardIterator");
	return 0;
}

/* the iterator just before record i of the batch read from it (DataX) */
static int
otsr_iter_at(struct otsr_task *t, const char *it, size_t i, char **out, struct eng_errbuf *eb)
{
	struct ots_record_batch *b = NULL;
	struct ots_error err;
	int rc;

	if (i == 0)
		return (*out = strdup(it)) == NULL ? -ENOMEM : 0;
	if ((rc = ots_get_stream_record(t->ots, it, (int32_t)i, &b, &err)) != 0)
		return otsr_ots_fail(eb, rc, &err, "otsstream: GetStreamRecord");
	if (b->next_iterator == NULL || b->n != i)
		rc = eng_errbuf_set(eb, ENG_EPROTO, "otsstream: shard %s: re-reading %zu records "
		    "gave %zu records%s", t->s->id, i, b->n,
		    b->next_iterator == NULL ? " and no next iterator" : "");
	else if ((*out = strdup(b->next_iterator)) == NULL)
		rc = -ENOMEM;
	ots_record_batch_free(b);
	return rc;
}

static int
otsr_read_shard(struct otsr_task *t, struct eng_errbuf *eb)
{
	struct otsr_job *j = t->j;
	struct otsr_shard *s = t->s;
	struct ots_record_batch *b = NULL;
	struct ots_error err;
	char *it = NULL, *at = NULL;
	int hint, rc, skip = s->skip;
	size_t i;

	if ((rc = otsr_first_iter(t, &it, &hint, eb)) != 0)
		goto out;
	t->last_st = -1;
	for (;;) {
		if (plugin_cancelled(j->env)) {
			rc = ENG_EKILLED;
			goto out;
		}
		rc = ots_get_stream_record(t->ots, it, 0, &b, &err);
		if (rc == ENG_ETRIMMED && hint) {
			plugin_log(j->env, LOG_LVL_WARN, "otsstream: shard %s: its shard time "
			    "checkpoint was trimmed; reading from the shard's oldest record", s->id);
			free(it);
			it = NULL;
			hint = 0;
			if ((rc = ots_get_shard_iterator(t->ots, j->stream, s->id, -1, &it, &err)) != 0) {
				otsr_ots_fail(eb, rc, &err, "otsstream: GetShardIterator");
				goto out;
			}
			continue;
		}
		if (rc == ENG_ETRIMMED) {
			char a[64];

			otsr_fmt_time(j->env, j->start, a, sizeof(a));
			rc = eng_errbuf_set(eb, rc, "otsstream: shard %s: the stream position to "
			    "resume from (checkpoint of the window ending at %" PRId64 " = %s) was "
			    "already trimmed: records of this shard older than the stream's "
			    "retention (%d h) were lost before they could be exported. Export "
			    "windows more often, or start a new window chain at a start time with "
			    "no checkpoint (records before it are then skipped) (%s)", s->id, j->start,
			    a, j->exp_h, err.code[0] != '\0' ? err.code : "trimmed");
			goto out;
		}
		if (rc != 0) {
			otsr_ots_fail(eb, rc, &err, "otsstream: GetStreamRecord");
			goto out;
		}
		hint = 0;
		if (b->n > 0) {
			int64_t t0 = b->records[0].row->seq.ts_us / 1000;

			if (t->last_st < 0 || t0 - t->last_st >= OTSR_SHARDTIME_GAP_MS) {
				if ((rc = otsr_stime_add(s, t0, it)) != 0)
					goto out;
				t->last_st = t0;
			}
		}
		if (b->n == 0 && b->next_iterator != NULL && !(j->table_group && b->may_more)) {
			/* caught up */
			if ((rc = otsr_finish(s, ST_NOT_END, b->next_iterator)) == 0)
				rc = otsr_stime_add(s, j->end, b->next_iterator);
			goto out;
		}
		for (i = 0; i < b->n; i++) {
			const struct ots_stream_record *sr = &b->records[i];
			int64_t tm = sr->row->seq.ts_us / 1000;

			if (tm >= j->end) {
				if ((rc = otsr_iter_at(t, it, i, &at, eb)) == 0)
					rc = otsr_finish(s, ST_NOT_END, at);
				goto out;
			}
			if (skip && tm < j->start)
				continue;
			skip = 0;
			rc = j->row_mode ? otsr_record_row(t, sr->action, sr->row) :
			    otsr_record_mv(t, sr->action, sr->row);
			if (rc == ENG_EPROTO) {
				eng_errbuf_set(eb, rc, "otsstream: shard %s: Unknown cell type in a "
				    "%s record", s->id, ots_action_name(sr->action));
				goto out;
			}
			if (rc != 0)
				goto out;
		}
		if (b->next_iterator == NULL) {
			rc = otsr_finish(s, ST_END, OTSR_SHARD_END);
			goto out;
		}
		free(it);
		if ((it = strdup(b->next_iterator)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		ots_record_batch_free(b);
		b = NULL;
	}
out:
	ots_record_batch_free(b);
	free(it);
	free(at);
	return rc;
}

static int
otsr_parent_state(const struct otsr_job *j, int p)
{
	return p < 0 ? ST_END : j->shards[p].state;
}

static int
otsr_task_run(void *p, int task, struct plugin_sender *out, struct eng_errbuf *eb)
{
	struct otsr_job *j = p;
	struct otsr_task t;
	size_t k;
	int rc = 0;

	memset(&t, 0, sizeof(t));
	t.j = j;
	t.out = out;
	record_init(&t.r);
	if ((rc = ots_clone(j->ots, &t.ots)) != 0)
		goto out;
	for (k = 0; k < j->nshards && rc == 0; k++) {
		struct otsr_shard *s = &j->shards[j->order[k]];
		int ps, ss;

		if (s->task != task)
			continue;
		t.s = s;
		s->sent = 0;
		if (s->start_ckpt != NULL && strcmp(s->start_ckpt, OTSR_SHARD_END) == 0) {
			rc = otsr_finish(s, ST_END, OTSR_SHARD_END);
			continue;
		}
		ps = otsr_parent_state(j, s->parent);
		ss = otsr_parent_state(j, s->sibling);
		if (ps == ST_SKIP || ps == ST_NOT_END || ss == ST_SKIP || ss == ST_NOT_END) {
			plugin_log(j->env, LOG_LVL_INFO, "otsstream: shard %s: a parent has not "
			    "reached its end in this window; skipped (read from its start later)",
			    s->id);
			rc = otsr_finish(s, ST_SKIP, OTSR_TRIM_HORIZON);
			continue;
		}
		if (ps == ST_PENDING || ss == ST_PENDING) {
			rc = eng_errbuf_set(eb, ENG_ESTATE, "otsstream: shard %s: a parent was not "
			    "read before it", s->id);
			break;
		}
		if ((rc = otsr_read_shard(&t, eb)) == 0)
			plugin_log(j->env, LOG_LVL_INFO, "otsstream: shard %s: %" PRId64 " records "
			    "sent, %s", s->id, s->sent, s->state == ST_END ? "reached SHARD_END" :
			    "stopped at the window end");
	}
out:
	record_free(&t.r);
	ots_free(t.ots);
	return rc;
}

/* ---- commit -------------------------------------------------------------------------- */

static int
otsr_job_commit(void *p, struct eng_errbuf *eb)
{
	struct otsr_job *j = p;
	struct otsr_jobdesc d;
	struct otsr_ckpts old;
	struct buf v;
	size_t i, k;
	int rc;

	for (i = 0; i < j->nshards; i++)
		if (j->shards[i].end_ckpt == NULL)
			return eng_errbuf_set(eb, ENG_ESTATE, "otsstream: shard %s has no checkpoint "
			    "at the window end; not committing", j->shards[i].id);
	/* DataX clearAllCheckpoints(endTime): drop rows of shards not in this job */
	if ((rc = otsr_ckpts_get(j->ots, j->status, j->stream, j->end, &old, eb)) != 0)
		return rc;
	for (k = 0; k < old.n && rc == 0; k++)
		if (otsr_shard_index(j, old.v[k].shard) < 0)
			rc = otsr_ckpt_delete(j->ots, j->status, j->stream, j->end, old.v[k].shard, eb);
	otsr_ckpts_free(&old);
	if (rc != 0)
		return rc;
	memset(&d, 0, sizeof(d));
	d.version = j->version;
	d.table = j->table;
	d.stream_id = j->stream;
	d.start = j->start;
	d.end = j->end;
	d.nshards = j->nshards;
	if ((d.shards = calloc(j->nshards + 1, sizeof(*d.shards))) == NULL)
		return -ENOMEM;
	for (i = 0; i < j->nshards; i++)
		d.shards[i] = j->shards[i].id;
	rc = otsr_jobdesc_put(j->ots, j->status, &d, eb);
	free(d.shards);
	buf_init(&v, BUF_MAX_SMALL);
	for (i = 0; i < j->nshards && rc == 0; i++) {
		struct otsr_shard *s = &j->shards[i];

		rc = otsr_ckpt_put(j->ots, j->status, j->stream, j->end, s->id, s->end_ckpt,
		    j->version, s->sent, eb);
		for (k = 0; k < s->nst && rc == 0; k++)
			rc = otsr_shardtime_put(j->ots, j->status, j->stream, s->id, s->st[k].t,
			    s->st[k].iter, eb);
		if (rc == 0 && j->env->ckpt_put != NULL) {
			buf_reset(&v);
			(void)buf_printf(&v, "%" PRId64 "\t%s\t%s", j->end, j->version, s->end_ckpt);
			if ((rc = v.err) == 0)
				rc = j->env->ckpt_put(j->env->ckpt_arg, s->id, v.p, v.len);
			if (rc != 0)
				eng_errbuf_set(eb, rc, "otsstream: mirroring the checkpoint of shard %s "
				    "in the state store failed", s->id);
		}
	}
	buf_free(&v);
	if (rc == 0)
		plugin_log(j->env, LOG_LVL_INFO, "otsstream: checkpoints at the window end %" PRId64
		    " written for %zu shards (job %s)", j->end, j->nshards, j->version);
	return rc;
}

const struct reader_ops reader_otsstream_ops = {
	.job_open	= otsr_job_open,
	.job_split	= otsr_job_split,
	.task_run	= otsr_task_run,
	.job_commit	= otsr_job_commit,
	.job_close	= otsr_job_close,
};
