/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * env.h: what a hook is told besides its argument: the set, its volumes and
 * where each is mounted, as environment variables.
 */
#ifndef VSS_HOOKS_ENV_H
#define VSS_HOOKS_ENV_H

#include <stddef.h>

/*
 * Where each of VOLUMES (N of them) is mounted, from /proc/self/mountinfo:
 * an array of N malloc()ed strings, "" for a volume that is not mounted
 * (also when mountinfo cannot be read: logged). A volume matches a mount
 * whose device number is the volume's (a block device), or whose source is
 * the same path. Of several mounts, the first that mounts the file system's
 * root wins, else the first (a bind mount of a subdirectory). NULL: no memory.
 */
char **mounts_of_volumes(const char *const *volumes, size_t n);

struct hook_env {
        const char *event;          /* the word the hook gets as $1 */
        const char *set_id;         /* "" for identify */
        const char *const *volumes;
        size_t n_volumes;
        char *const *mounts;        /* from mounts_of_volumes(); NULL when N is 0 */
        int backup_succeeded;       /* 1, 0, or -1: not known (the variable is left out) */
};

/*
 * A hook's environment: the writer's own, less every VSS_* variable but
 * VSS_BUS_ADDRESS (so nothing stale from the caller leaks in), plus
 * VSS_EVENT, VSS_SNAPSHOT_SET_ID, VSS_VOLUMES (space-separated),
 * VSS_VOLUME_COUNT, VSS_VOLUME_<i> and VSS_MOUNT_<i> from 0, and at
 * backup-complete VSS_BACKUP_SUCCEEDED (1 or 0) when known. NULL-terminated,
 * malloc()ed (free with strv_free()); NULL: no memory.
 */
char **env_build(const struct hook_env *e);

#endif
