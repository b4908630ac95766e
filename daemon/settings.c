/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* settings.c: [daemon] keys of vssd.conf, with ranges and defaults; provider priorities. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "daemon/settings.h"

static const char *const daemon_keys[] = {
        "provider_dir", "freeze_timeout_ms", "hold_timeout_ms", "event_timeout_ms",
        "monitor_interval_ms", "log_level", "backup_group", "writer_group", "runtime_dir", NULL,
};

int settings_parse_log_level(const char *s)
{
        static const struct {
                const char *name;
                int priority;
        } levels[] = {
                { "err", LOG_ERR },   { "error", LOG_ERR },  { "warning", LOG_WARNING },
                { "notice", LOG_NOTICE }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
        };
        for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
                if (strcmp(levels[i].name, s) == 0)
                        return levels[i].priority;
        return -EINVAL;
}

struct key_check {
        char *err;
        size_t err_size;
        const Config *config;
};

static int check_daemon_key(const char *key, const char *value, void *userdata)
{
        struct key_check *kc = userdata;

        for (const char *const *k = daemon_keys; *k; k++)
                if (strcmp(*k, key) == 0)
                        return 0;
        snprintf(kc->err, kc->err_size, "[daemon] has no key \"%s\"; known keys: provider_dir, "
                 "freeze_timeout_ms, hold_timeout_ms, event_timeout_ms, monitor_interval_ms, "
                 "log_level, backup_group, writer_group, runtime_dir (see vssd.conf(5))", key);
        return -EINVAL;
}

/* A group name as groupadd(8) takes it: [A-Za-z_][A-Za-z0-9_.-]*, '$' at the end allowed. */
static bool group_name_valid(const char *name)
{
        size_t len = strlen(name);

        if (len > VSS_GROUP_NAME_MAX || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
                return false;
        for (size_t i = 1; i < len; i++) {
                char c = name[i];
                if (!(isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-' ||
                      (c == '$' && i == len - 1)))
                        return false;
        }
        return true;
}

/* KEY, a group name (empty: root alone), into BUF; DEFAULT_NAME when absent. */
static int settings_group(Settings *s, const char *key, const char *default_name, char *buf,
                          char *err, size_t err_size)
{
        const char *name = config_get(s->config, "daemon", key);

        if (!name)
                name = default_name;
        if (name[0] && !group_name_valid(name)) {
                snprintf(err, err_size, "[daemon] %s = \"%s\" is not a group name (a letter or "
                         "'_', then letters, digits, '_', '.', '-'; at most %d characters); "
                         "give one such as %s, or nothing for root alone", key, name,
                         VSS_GROUP_NAME_MAX, default_name);
                return -EINVAL;
        }
        snprintf(buf, VSS_GROUP_NAME_MAX + 1, "%s", name);
        return 0;
}

/* KEY, a directory, into BUF (PATH_MAX); left as it is when absent. */
static int settings_dir(Settings *s, const char *key, const char *example, char *buf,
                        char *err, size_t err_size)
{
        const char *dir = config_get(s->config, "daemon", key);

        if (dir && dir[0] != '/') {
                snprintf(err, err_size, "[daemon] %s = \"%s\" is not an absolute path; give "
                         "a directory such as %s", key, dir, example);
                return -EINVAL;
        }
        if (dir && snprintf(buf, PATH_MAX, "%s", dir) >= PATH_MAX) {
                snprintf(err, err_size, "[daemon] %s is longer than %d bytes; give a shorter "
                         "directory", key, PATH_MAX - 1);
                return -ENAMETOOLONG;
        }
        return 0;
}

#define PROVIDER_SECTION "provider."

/* [provider.NAME] priority, the one key of those sections vssd reads itself. */
static int check_provider_priority(const char *section, const char *key, const char *value,
                                   void *userdata)
{
        struct key_check *kc = userdata;
        const Config *config = kc->config;
        unsigned priority;

        if (strncmp(section, PROVIDER_SECTION, strlen(PROVIDER_SECTION)) != 0 ||
            strcmp(key, "priority") != 0)
                return 0;
        int r = config_get_uint(config, section, key, 0, 0, VSS_PROVIDER_PRIORITY_MAX, &priority,
                                kc->err, kc->err_size);
        if (r < 0) {
                size_t len = strlen(kc->err);
                snprintf(kc->err + len, kc->err_size - len, " (the provider that takes a "
                         "volume several support is the one of highest priority; see "
                         "vssd.conf(5))");
        }
        return r;
}

unsigned settings_provider_priority(const Config *config, const char *name, unsigned fallback)
{
        char section[160], err[256];
        unsigned priority;

        snprintf(section, sizeof(section), PROVIDER_SECTION "%s", name);
        if (config_get_uint(config, section, "priority", fallback, 0, VSS_PROVIDER_PRIORITY_MAX,
                            &priority, err, sizeof(err)) < 0)
                return fallback; /* settings_load() refused it already */
        return priority;
}

static int settings_apply(Settings *s, char *err, size_t err_size)
{
        struct key_check kc = { err, err_size, s->config };
        int r = config_foreach_key(s->config, "daemon", check_daemon_key, &kc);

        if (r >= 0)
                r = config_foreach_entry(s->config, check_provider_priority, &kc);
        if (r < 0)
                return r;
        r = settings_dir(s, "provider_dir", "/usr/lib/vss/providers", s->provider_dir, err,
                         err_size);
        if (r < 0)
                return r;
        r = settings_dir(s, "runtime_dir", VSS_RUNTIME_DIR_DEFAULT, s->runtime_dir, err,
                         err_size);
        if (r < 0)
                return r;
        r = settings_group(s, "backup_group", VSS_BACKUP_GROUP_DEFAULT, s->backup_group, err,
                           err_size);
        if (r < 0)
                return r;
        r = settings_group(s, "writer_group", VSS_WRITER_GROUP_DEFAULT, s->writer_group, err,
                           err_size);
        if (r < 0)
                return r;
        const char *level = config_get(s->config, "daemon", "log_level");
        if (level && (s->log_priority = settings_parse_log_level(level)) < 0) {
                snprintf(err, err_size, "[daemon] log_level = \"%s\" is not one of err, warning, "
                         "notice, info, debug", level);
                return -EINVAL;
        }
        r = config_get_uint(s->config, "daemon", "freeze_timeout_ms",
                            VSS_FREEZE_TIMEOUT_MS_DEFAULT, VSS_FREEZE_TIMEOUT_MS_MIN,
                            VSS_FREEZE_TIMEOUT_MS_MAX, &s->freeze_timeout_ms, err, err_size);
        if (r < 0)
                return r;
        r = config_get_uint(s->config, "daemon", "hold_timeout_ms", VSS_HOLD_TIMEOUT_MS_DEFAULT,
                            VSS_HOLD_TIMEOUT_MS_MIN, VSS_HOLD_TIMEOUT_MS_MAX,
                            &s->hold_timeout_ms, err, err_size);
        if (r < 0)
                return r;
        r = config_get_uint(s->config, "daemon", "event_timeout_ms",
                            VSS_EVENT_TIMEOUT_MS_DEFAULT, VSS_EVENT_TIMEOUT_MS_MIN,
                            VSS_EVENT_TIMEOUT_MS_MAX, &s->event_timeout_ms, err, err_size);
        if (r < 0)
                return r;
        return config_get_uint(s->config, "daemon", "monitor_interval_ms",
                               VSS_MONITOR_INTERVAL_MS_DEFAULT, VSS_MONITOR_INTERVAL_MS_MIN,
                               VSS_MONITOR_INTERVAL_MS_MAX, &s->monitor_interval_ms, err,
                               err_size);
}

/* "PATH: " before a message about a value, as parse errors have "PATH:LINE: ". */
static void prefix_path(char *err, size_t err_size, const char *path)
{
        char *msg = strdup(err);

        if (msg) {
                snprintf(err, err_size, "%s: %s", path, msg);
                free(msg);
        }
}

int settings_load(Settings *s, const char *path, int required, char *err, size_t err_size)
{
        *s = (Settings){
                .freeze_timeout_ms = VSS_FREEZE_TIMEOUT_MS_DEFAULT,
                .hold_timeout_ms = VSS_HOLD_TIMEOUT_MS_DEFAULT,
                .event_timeout_ms = VSS_EVENT_TIMEOUT_MS_DEFAULT,
                .monitor_interval_ms = VSS_MONITOR_INTERVAL_MS_DEFAULT,
                .log_priority = LOG_INFO,
        };
        snprintf(s->provider_dir, sizeof(s->provider_dir), "%s", VSS_PROVIDER_DIR);
        snprintf(s->runtime_dir, sizeof(s->runtime_dir), "%s", VSS_RUNTIME_DIR_DEFAULT);
        int r = config_load(&s->config, path, err, err_size);
        if (r == -ENOENT && !required)
                r = config_parse(&s->config, "", "<defaults>", err, err_size);
        if (r >= 0) {
                r = settings_apply(s, err, err_size);
                if (r < 0)
                        prefix_path(err, err_size, path);
        }
        if (r < 0)
                settings_done(s);
        return r;
}

void settings_done(Settings *s)
{
        s->config = config_free(s->config);
}
