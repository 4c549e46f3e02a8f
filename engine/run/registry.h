/* SPDX-License-Identifier: MIT */
/*
 * registry.h - look up a reader or writer plugin by name (registry.c).
 */
#ifndef DIFS_REGISTRY_H
#define DIFS_REGISTRY_H

#include "plugin.h"

/** The reader/writer named name, or NULL when there is none (or name is NULL). */
const struct reader_ops *plugin_reader(const char *name);
const struct writer_ops *plugin_writer(const char *name);

#endif /* DIFS_REGISTRY_H */
