/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plugins.c: dlopen()ing provider plugins, checking their descriptor, and
 * ordering them by priority (the order vssd asks them in).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/plugins.h"
#include "daemon/settings.h"
#include "daemon/util/cleanup.h"
#include "daemon/util/log.h"

static const Config *plugin_config;

void plugins_set_config(const Config *config)
{
        plugin_config = config;
}

static const char *host_config_get(const char *provider_name, const char *key)
{
        char section[160];

        snprintf(section, sizeof(section), "provider.%s", provider_name);
        return config_get(plugin_config, section, key);
}

static const struct vss_provider_host host = {
        .abi_version = VSS_PROVIDER_ABI_VERSION,
        .log = log_msg,
        .config_get = host_config_get,
};

static int provider_name_valid(const char *name)
{
        if (!name || !*name || strlen(name) > 64)
                return 0;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                        return 0;
        return 1;
}

/* The descriptor must name itself and carry every op a snapshot set needs. */
static int provider_check(const struct vss_provider *p, const char *path, char *err,
                          size_t err_size)
{
        if (p->abi_version != VSS_PROVIDER_ABI_VERSION) {
                snprintf(err, err_size, "%s: built for provider ABI %u, vssd speaks ABI %u; "
                         "rebuild the plugin against this vssd's <vss/provider.h>",
                         path, p->abi_version, VSS_PROVIDER_ABI_VERSION);
                return -VSS_E_ABI_MISMATCH;
        }
        const struct vss_provider_ops *o = p->ops;
        if (!provider_name_valid(p->name) || !p->id || !p->version || !o || !o->init ||
            !o->fini || !o->is_volume_supported || !o->prepare || !o->hold || !o->commit ||
            !o->release || !o->abort || !o->delete_snapshot || !o->query) {
                snprintf(err, err_size, "%s: malformed provider descriptor (needs a name of "
                         "[a-z0-9-], an id, a version, and init, fini, is_volume_supported, "
                         "prepare, hold, commit, release, abort, delete_snapshot, query)", path);
                return -ENOEXEC;
        }
        if (!o->list_storage != !o->set_storage) {
                snprintf(err, err_size, "%s: malformed provider descriptor: list_storage and "
                         "set_storage come together (both, or neither for a provider without "
                         "shadow storage)", path);
                return -ENOEXEC;
        }
        if (!o->add_storage != !o->remove_storage) {
                snprintf(err, err_size, "%s: malformed provider descriptor: add_storage and "
                         "remove_storage come together (both, or neither for a provider that "
                         "makes no storage)", path);
                return -ENOEXEC;
        }
        return 0;
}

Plugin *plugin_free(Plugin *plugin)
{
        if (!plugin)
                return NULL;
        if (plugin->state)
                plugin->provider->ops->fini(plugin->state);
        if (plugin->handle)
                dlclose(plugin->handle);
        free(plugin->path);
        free(plugin);
        return NULL;
}

DEFINE_FREEP(Plugin, plugin_free)

static int plugin_open(Plugin *plugin, const char *path, char *err, size_t err_size)
{
        /* RTLD_LOCAL: two plugins' symbols never clash. */
        plugin->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!plugin->handle) {
                snprintf(err, err_size, "cannot load %s: %s", path, dlerror());
                return access(path, F_OK) < 0 ? -ENOENT : -ENOEXEC;
        }
        dlerror();
        plugin->provider = dlsym(plugin->handle, VSS_PROVIDER_SYMBOL);
        if (!plugin->provider) {
                snprintf(err, err_size, "%s: no symbol " VSS_PROVIDER_SYMBOL "; is it a "
                         "linux-vss provider plugin?", path);
                return -ENOEXEC;
        }
        return provider_check(plugin->provider, path, err, err_size);
}

static int plugin_init(Plugin *plugin, char *err, size_t err_size)
{
        int r = plugin->provider->ops->init(&host, &plugin->state);

        if (r < 0) {
                plugin->state = NULL;
                snprintf(err, err_size, "%s: provider %s failed to initialise: %s", plugin->path,
                         plugin->provider->name, vss_strerror(r));
        }
        return r;
}

/* Open and check PATH; with LIST, refuse a name already loaded before running init. */
static int plugin_load_into(Plugin **ret, const char *path, const PluginList *list, char *err,
                            size_t err_size)
{
        _cleanup_(plugin_freep) Plugin *plugin = calloc(1, sizeof(*plugin));

        if (!plugin || !(plugin->path = strdup(path)))
                return -ENOMEM;
        int r = plugin_open(plugin, path, err, err_size);
        if (r < 0)
                return r;
        if (list && plugins_find(list, plugin->provider->name)) {
                snprintf(err, err_size, "%s: a provider named %s is already loaded", path,
                         plugin->provider->name);
                return -EEXIST;
        }
        r = plugin_init(plugin, err, err_size);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(plugin);
        return 0;
}

int plugin_load(Plugin **ret, const char *path, char *err, size_t err_size)
{
        return plugin_load_into(ret, path, NULL, err, err_size);
}

Plugin *plugins_find(const PluginList *list, const char *name)
{
        for (size_t i = 0; i < list->n; i++)
                if (strcmp(list->items[i]->provider->name, name) == 0)
                        return list->items[i];
        return NULL;
}

static int plugins_add(PluginList *list, Plugin *plugin)
{
        Plugin **items = realloc(list->items, (list->n + 1) * sizeof(*items));

        if (!items)
                return -ENOMEM;
        list->items = items;
        list->items[list->n++] = plugin;
        return 0;
}

static int is_plugin_file(const struct dirent *d)
{
        size_t len = strlen(d->d_name);

        return d->d_name[0] != '.' && len > 3 && strcmp(d->d_name + len - 3, ".so") == 0;
}

/* Load one file of the directory; refusals are logged, only ENOMEM is fatal. */
static int plugins_try(PluginList *list, const char *path)
{
        char err[VSS_ERROR_MESSAGE_MAX] = "";
        Plugin *plugin;

        int r = plugin_load_into(&plugin, path, list, err, sizeof(err));
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_error("refusing provider plugin: %s", err);
                return 0;
        }
        plugin->priority = settings_provider_priority(plugin_config, plugin->provider->name,
                                                      plugin->provider->priority);
        r = plugins_add(list, plugin);
        if (r < 0) {
                plugin_free(plugin);
                return r;
        }
        log_info("loaded provider %s %s (priority %u) from %s", plugin->provider->name,
                 plugin->provider->version, plugin->priority, path);
        return 0;
}

/* Highest priority first; names are unique, so the order is total. */
static int plugin_compare(const void *a, const void *b)
{
        const Plugin *pa = *(Plugin *const *)a, *pb = *(Plugin *const *)b;

        if (pa->priority != pb->priority)
                return pa->priority > pb->priority ? -1 : 1;
        return strcmp(pa->provider->name, pb->provider->name);
}

int plugins_load_dir(PluginList *list, const char *dir)
{
        struct dirent **entries;
        int n = scandir(dir, &entries, is_plugin_file, alphasort);
        int r = 0;

        if (n < 0) {
                r = -errno;
                log_error("cannot read provider directory %s: %s", dir, strerror(errno));
                return r;
        }
        for (int i = 0; i < n; i++) {
                char path[4096];
                if (r >= 0 && snprintf(path, sizeof(path), "%s/%s", dir, entries[i]->d_name) <
                                      (int)sizeof(path))
                        r = plugins_try(list, path);
                free(entries[i]);
        }
        free(entries);
        if (list->n > 1)
                qsort(list->items, list->n, sizeof(*list->items), plugin_compare);
        if (r >= 0 && list->n == 0)
                log_warning("no provider plugin loaded from %s: snapshots cannot be made", dir);
        return r;
}

void plugins_free(PluginList *list)
{
        for (size_t i = 0; i < list->n; i++)
                plugin_free(list->items[i]);
        free(list->items);
        list->items = NULL;
        list->n = 0;
}
