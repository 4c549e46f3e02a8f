/* SPDX-License-Identifier: MIT */
/*
 * test_registry.c - conf's plugin table (enum conf_plugin) and the runner's
 * registry (run/registry.c) agree: every plugin conf knows has ops of its
 * side, none of the other side, and the registry has nothing else; names
 * find their ids; a job naming each plugin validates to that id.
 */
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "registry.h"
#include "tap.h"

static void
test_both_ways(void)
{
	int i, nread = 0, nwrite = 0;

	for (i = CONF_PLUGIN_NONE + 1; i < CONF_PLUGIN_END; i++) {
		enum conf_plugin id = (enum conf_plugin)i;
		const char *name = conf_plugin_name(id);
		enum conf_side side = conf_plugin_side(id);
		enum conf_side other = side == CONF_READER ? CONF_WRITER : CONF_READER;

		if (!ok(name != NULL && name[0] != '\0', "plugin %d has a name", i))
			continue;
		is_int(conf_plugin_find(side, name), id, "%s: its name finds it", name);
		is_int(conf_plugin_find(other, name), CONF_PLUGIN_NONE,
		    "%s: not a plugin of the other side", name);
		if (side == CONF_READER) {
			nread++;
			ok(registry_reader(id) != NULL, "reader %s has reader ops", name);
			ok(registry_writer(id) == NULL, "reader %s has no writer ops", name);
		} else {
			nwrite++;
			ok(registry_writer(id) != NULL, "writer %s has writer ops", name);
			ok(registry_reader(id) == NULL, "writer %s has no reader ops", name);
		}
	}
	ok(nread > 0 && nwrite > 0, "%d readers, %d writers", nread, nwrite);
	/* the registry is indexed by the enum: outside it there is nothing */
	ok(registry_reader(CONF_PLUGIN_NONE) == NULL && registry_writer(CONF_PLUGIN_NONE) == NULL,
	    "no ops for CONF_PLUGIN_NONE");
	ok(registry_reader(CONF_PLUGIN_END) == NULL && registry_writer(CONF_PLUGIN_END) == NULL,
	    "no ops past the end");
	ok(conf_plugin_name(CONF_PLUGIN_NONE) == NULL && conf_plugin_name(CONF_PLUGIN_END) == NULL,
	    "no name outside the table");
	is_int(conf_plugin_find(CONF_READER, NULL), CONF_PLUGIN_NONE, "NULL name");
	is_int(conf_plugin_find(CONF_READER, "OtsStream"), CONF_PLUGIN_NONE,
	    "names are case-sensitive");
}

static void
test_table(void)
{
	is_int(conf_plugin_source_type(CONF_PLUGIN_OTSSTREAM), CONF_SRC_OTS, "otsstream: ots source");
	is_int(conf_plugin_source_type(CONF_PLUGIN_OSS), CONF_SRC_OSS, "oss: oss source");
	is_int(conf_plugin_source_type(CONF_PLUGIN_STREAM), 0, "stream: no connection");
	is_int(conf_plugin_source_type(CONF_PLUGIN_TXTFILE), 0, "txtfile: no connection");
	is_int(conf_plugin_find(CONF_READER, "otsstream"), CONF_PLUGIN_OTSSTREAM, "otsstream");
	is_int(conf_plugin_find(CONF_WRITER, "txtfile"), CONF_PLUGIN_TXTFILE, "txtfile");
}

/* a job naming the stream reader and the txtfile writer (no connection needed) */
static void
test_job_ids(void)
{
	static const char js[] =
	    "{\"type\": \"job\", \"configuration\": {"
	    "\"reader\": {\"plugin\": \"stream\", \"parameter\": {\"sliceRecordCount\": 1,"
	    " \"column\": [{\"type\": \"long\", \"value\": 1}]}},"
	    "\"writer\": {\"plugin\": \"txtfile\", \"parameter\": {\"path\": \"/tmp\","
	    " \"fileName\": \"x\", \"writeMode\": \"truncate\"}}}}";
	struct conf_job *job = NULL;
	int rc = conf_job_parse("j", js, strlen(js), NULL, NULL, NULL, &job);

	is_rc(rc, 0, "job parses");
	if (rc != 0)
		return;
	is_int(conf_job_plugin_id(job, CONF_READER), CONF_PLUGIN_STREAM, "reader id");
	is_int(conf_job_plugin_id(job, CONF_WRITER), CONF_PLUGIN_TXTFILE, "writer id");
	is_str(conf_job_plugin(job, CONF_READER), "stream", "reader name");
	ok(registry_reader(conf_job_plugin_id(job, CONF_READER)) != NULL, "its reader ops");
	ok(registry_writer(conf_job_plugin_id(job, CONF_WRITER)) != NULL, "its writer ops");
	conf_job_free(job);
}

int
main(void)
{
	test_both_ways();
	test_table();
	test_job_ids();
	return done_testing();
}
