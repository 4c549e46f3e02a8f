/* SPDX-License-Identifier: MIT */
/*
 * registry.c - the ops of each plugin in conf's table, indexed by its id
 * (enum conf_plugin).  tests/unit/test_registry checks that every plugin
 * conf knows has ops of its side here, and nothing else.
 */
#include <stddef.h>

#include "registry.h"

static const struct registry_entry {
	const struct reader_ops	*reader;
	const struct writer_ops	*writer;
} registry[CONF_PLUGIN_END] = {
	[CONF_PLUGIN_OTSSTREAM]	= { &reader_otsstream_ops, NULL },
	[CONF_PLUGIN_STREAM]	= { &reader_stream_ops, NULL },
	[CONF_PLUGIN_OSS]	= { NULL, &writer_oss_ops },
	[CONF_PLUGIN_TXTFILE]	= { NULL, &writer_txtfile_ops },
};

const struct reader_ops *
registry_reader(enum conf_plugin id)
{
	if ((int)id <= (int)CONF_PLUGIN_NONE || (int)id >= (int)CONF_PLUGIN_END)
		return NULL;
	return registry[id].reader;
}

const struct writer_ops *
registry_writer(enum conf_plugin id)
{
	if ((int)id <= (int)CONF_PLUGIN_NONE || (int)id >= (int)CONF_PLUGIN_END)
		return NULL;
	return registry[id].writer;
}
