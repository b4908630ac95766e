/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * recover.h: what vssd does so that a crash never leaves a machine frozen or
 * a volume suspended, on the daemon's side (each provider's recover() does
 * the rolling back, from its intent journal and the kernel's device list):
 *
 *   - the lock: one vssd at a time owns the providers' kernel state. A vssd
 *     holds RUNTIME_DIR/vssd.lock (flock) from before its providers start to
 *     its exit, so a second vssd, or `vssd --recover`, never rolls back what
 *     a live one is doing. The kernel drops the lock when vssd dies, however.
 *   - `vssd --recover`: every provider's recover(), with no bus and no
 *     loop, for systemd's ExecStopPost= (a vssd killed with SIGKILL is
 *     cleaned up before anything restarts it) and for an administrator.
 *   - Manager.Recover() (vssctl recover): the same on a live vssd, refused
 *     while a snapshot set is being created.
 */
#ifndef VSS_DAEMON_RECOVER_H
#define VSS_DAEMON_RECOVER_H

#include <stddef.h>

#include "daemon/dbus/bus.h"
#include "daemon/settings.h"

/*
 * Take RUNTIME_DIR/vssd.lock (creating the directory, 0700, if needed) and
 * write our pid into it; the descriptor into *RET_FD, to keep until exit.
 * -EBUSY with a message naming the holder's pid when another vssd has it.
 */
int recover_lock(const char *runtime_dir, int *ret_fd, char *err, size_t err_size);

/* `vssd --recover`: lock, load the providers, recover each; 0 when all did. */
int recover_offline(const Settings *settings);

/* Manager.Recover() -> (u fixed). USERDATA is the Manager. */
int recover_method(BusCall *call, void *userdata);

#endif
