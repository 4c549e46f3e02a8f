/* SPDX-License-Identifier: MIT */
/*
 * registry.h - the ops of each plugin conf knows (registry.c).  The list of
 * plugins is conf's (enum conf_plugin, conf_plugin_find); the registry only
 * maps an id to the reader or writer that implements it.
 */
#ifndef DIFS_REGISTRY_H
#define DIFS_REGISTRY_H

#include "conf.h"
#include "plugin.h"

/** The reader that implements id, or NULL when id is no reader (or NONE). */
const struct reader_ops *registry_reader(enum conf_plugin id);
/** The writer that implements id, or NULL when id is no writer (or NONE). */
const struct writer_ops *registry_writer(enum conf_plugin id);

#endif /* DIFS_REGISTRY_H */
