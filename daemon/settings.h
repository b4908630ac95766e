/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * settings.h: vssd's own settings, the [daemon] section of vssd.conf(5) and
 * the priority key of each [provider.NAME] section, checked as a whole so
 * that a typo is an error at start, not a silent default.
 */
#ifndef VSS_DAEMON_SETTINGS_H
#define VSS_DAEMON_SETTINGS_H

#include <limits.h>

#include "daemon/util/config.h"

#define VSS_FREEZE_TIMEOUT_MS_DEFAULT 60000u
#define VSS_FREEZE_TIMEOUT_MS_MIN 1000u
#define VSS_FREEZE_TIMEOUT_MS_MAX 600000u
#define VSS_HOLD_TIMEOUT_MS_DEFAULT 10000u
#define VSS_HOLD_TIMEOUT_MS_MIN 100u
#define VSS_HOLD_TIMEOUT_MS_MAX 60000u
#define VSS_EVENT_TIMEOUT_MS_DEFAULT 60000u
#define VSS_EVENT_TIMEOUT_MS_MIN 1000u
#define VSS_EVENT_TIMEOUT_MS_MAX 3600000u
#define VSS_MONITOR_INTERVAL_MS_DEFAULT 1000u
#define VSS_MONITOR_INTERVAL_MS_MIN 100u
#define VSS_MONITOR_INTERVAL_MS_MAX 60000u
/* Who besides root may make snapshots, and register writers (see access.h). */
#define VSS_BACKUP_GROUP_DEFAULT "vss-backup"
#define VSS_WRITER_GROUP_DEFAULT "vss-writer"
#define VSS_GROUP_NAME_MAX 32 /* as groupadd(8) allows */
/* tmpfs: vssd's lock, and what must survive vssd but never a reboot (recover.h). */
#define VSS_RUNTIME_DIR_DEFAULT "/run/vss"

/*
 * [provider.NAME] priority: which provider takes a volume several support
 * (the highest; ties by name). Overrides the plugin's own (its descriptor's).
 */
#define VSS_PROVIDER_PRIORITY_MAX 1000u

typedef struct Settings {
        char provider_dir[PATH_MAX];
        char runtime_dir[PATH_MAX];
        unsigned freeze_timeout_ms;
        unsigned hold_timeout_ms;
        unsigned event_timeout_ms; /* a writer's answer to any event but Freeze */
        unsigned monitor_interval_ms; /* providers' monitor() while snapshots exist */
        int log_priority; /* syslog priority */
        char backup_group[VSS_GROUP_NAME_MAX + 1]; /* "": root alone */
        char writer_group[VSS_GROUP_NAME_MAX + 1]; /* "": root alone */
        Config *config;   /* the whole file, for [provider.*] sections */
} Settings;

/*
 * Load PATH into SETTINGS. When REQUIRED is false a missing file means
 * defaults (the packaged config is optional); any other problem is an error
 * whose message names the file, the key and the fix.
 */
int settings_load(Settings *settings, const char *path, int required, char *err,
                  size_t err_size);
void settings_done(Settings *settings);

/*
 * The priority of provider NAME: [provider.NAME] priority in CONFIG (which
 * settings_load() checked: a whole number in 0..VSS_PROVIDER_PRIORITY_MAX),
 * or FALLBACK, the plugin's own, when the key is absent.
 */
unsigned settings_provider_priority(const Config *config, const char *name, unsigned fallback);

/* "err", "warning", "notice", "info", "debug" -> syslog priority; -EINVAL otherwise. */
int settings_parse_log_level(const char *s);

#endif
