/* SPDX-License-Identifier: MIT */
/*
 * registry.c - the plugins the runner knows, one table per kind, looked up
 * by the name a job's "plugin" key gives.
 */
#include <stddef.h>
#include <string.h>

#include "registry.h"

static const struct reader_ops *const plugin_readers[] = {
	&reader_stream_ops,
	&reader_otsstream_ops,
};

static const struct writer_ops *const plugin_writers[] = {
	&writer_txtfile_ops,
	&writer_oss_ops,
};

const struct reader_ops *
plugin_reader(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(plugin_readers) / sizeof(plugin_readers[0]); i++)
		if (name != NULL && strcmp(plugin_readers[i]->name, name) == 0)
			return plugin_readers[i];
	return NULL;
}

const struct writer_ops *
plugin_writer(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(plugin_writers) / sizeof(plugin_writers[0]); i++)
		if (name != NULL && strcmp(plugin_writers[i]->name, name) == 0)
			return plugin_writers[i];
	return NULL;
}
