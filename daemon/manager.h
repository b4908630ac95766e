/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager.h: the daemon as a whole: settings, loop, bus, provider plugins
 * and the objects that publish them. One instance, owned by main().
 */
#ifndef VSS_DAEMON_MANAGER_H
#define VSS_DAEMON_MANAGER_H

#include "daemon/access.h"
#include "daemon/core/core.h"
#include "daemon/dbus/bus.h"
#include "daemon/plugins.h"
#include "daemon/provider-runner.h"
#include "daemon/settings.h"
#include "daemon/util/loop.h"

typedef struct ProviderObject ProviderObject;

typedef struct Manager {
        Settings settings;
        Loop *loop;
        Bus *bus;
        Access *access;         /* who may call what (the bus's authorizer) */
        PluginList plugins;
        ProviderRunner *runner; /* provider ops, off the main loop */
        BusObject *root;
        ProviderObject **provider_objects;
        size_t n_provider_objects;
        Core *core;             /* the VSS state machine (lifecycle.h) */
        LoopSource *core_timer; /* the core's one wake-up */
        LoopSource *stop_check; /* while stopping: exit once the core is idle */
        LoopSource *stop_timer; /* bound of a graceful stop */
        bool stopping;          /* sessions ended; exit once the providers are done */
        int lock_fd;            /* runtime_dir/vssd.lock, held until exit (recover.h) */
} Manager;

/* The root object /org/linuxvss/Vss1 (coordinator.c). */
int coordinator_publish(Manager *m);
/* PropertiesChanged for the timeouts (after a reload). */
void coordinator_emit_timeouts_changed(Manager *m);

/* One object per loaded provider (provider-object.c). */
int provider_objects_publish(Manager *m);
void provider_objects_free(Manager *m);

#endif
