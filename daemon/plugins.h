/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plugins.h: loading provider plugins (include/vss/provider.h) with dlopen.
 * A plugin that cannot be used (not a shared object, no descriptor symbol,
 * another ABI version, a malformed descriptor, init failure) is refused with
 * a log line saying why; the daemon goes on with the others.
 */
#ifndef VSS_DAEMON_PLUGINS_H
#define VSS_DAEMON_PLUGINS_H

#include <stddef.h>

#include <vss/provider.h>

#include "daemon/util/config.h"

typedef struct Plugin {
        char *path;
        void *handle;
        const struct vss_provider *provider;
        void *state; /* from provider->ops->init */
        /* The descriptor's, or [provider.NAME] priority of vssd.conf: set by plugins_load_dir(). */
        unsigned priority;
} Plugin;

typedef struct PluginList {
        Plugin **items;
        size_t n;
} PluginList;

/* The configuration plugins read through host->config_get; may be NULL. */
void plugins_set_config(const Config *config);

/* Load and initialise one plugin; ERR says why on failure. */
int plugin_load(Plugin **ret, const char *path, char *err, size_t err_size);
Plugin *plugin_free(Plugin *plugin);

/*
 * Every "*.so" of DIR; refusals are logged and skipped. LIST is then in the
 * order vssd asks providers in: highest priority first, ties by name.
 */
int plugins_load_dir(PluginList *list, const char *dir);
void plugins_free(PluginList *list);
Plugin *plugins_find(const PluginList *list, const char *name);

#endif
