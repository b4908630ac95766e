/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store.h: sparse files on loop devices: dm-snapshot's copy-on-write stores
 * ("diff areas"), dm-thin's file-backed pool devices.
 *
 * A store is a file in a directory, named by the caller (dm-snapshot names
 * it DMSNAP_UUID_PREFIX<set>-<snapshot>.cow), attached to a
 * loop device with LO_FLAGS_AUTOCLEAR: the loop device goes away by itself
 * when its last user (the dm snapshot) closes it, so a crash leaks no loop
 * device. Sizes are bytes, multiples of 4096.
 */
#ifndef VSS_PROVIDERS_COMMON_STORE_H
#define VSS_PROVIDERS_COMMON_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <vss/provider.h>

typedef struct CowStore {
        char path[PATH_MAX]; /* the file */
        char loop[64];       /* "/dev/loopN", "" when not attached */
        int loop_fd;         /* open while we hold it; -1 otherwise */
        uint64_t size;       /* current size of the file and the loop device */
} CowStore;

#define COW_STORE_INIT { .path = "", .loop = "", .loop_fd = -1, .size = 0 }

/*
 * May stores for a set of volumes live in DIR? It must exist (made with mode
 * 0700 if missing, with its parents), be a directory on a file system that
 * supports sparse files, and not lie on any of the block devices VOLUMES
 * (major:minor) nor on any device stacked on or under them (sysfs holders
 * and slaves, a partition's disk, a loop device's backing file system).
 * -EINVAL with a reason that names the volume otherwise; -ENOTDIR when DIR
 * is not a directory, -EROFS on a read-only file system.
 */
int store_dir_check(const char *dir, const dev_t *volumes, size_t n_volumes,
                    struct vss_error_buf *err);

/*
 * Create DIR/NAME (O_EXCL, sparse, SIZE bytes) and attach it to a free loop
 * device; the loop fd stays open in STORE (so the device lives) until
 * store_close(). Nothing is left behind on failure, and STORE is untouched:
 * -EEXIST when DIR/NAME exists (it is left alone), -ENOSPC as store_grow.
 */
int store_create(CowStore *store, const char *dir, const char *name, uint64_t size,
                 struct vss_error_buf *err);
/*
 * Attach the existing file PATH (a multiple of 4096 bytes) to a free loop
 * device, as store_create() does; its size into STORE. -EINVAL for anything
 * but such a file.
 */
int store_attach(CowStore *store, const char *path, struct vss_error_buf *err);
/* Close our fd: from now on the loop device lives only as long as its users. */
void store_close(CowStore *store);
/*
 * Grow to NEW_SIZE: extend the file, then LOOP_SET_CAPACITY so the loop
 * device sees it. -ENOSPC with the free space named when the file system
 * cannot hold it (checked with statvfs before extending: the new size less
 * what the file takes already); nothing changes then. -EINVAL to shrink,
 * -ENXIO when STORE's loop device no longer serves its file (autocleared).
 */
int store_grow(CowStore *store, uint64_t new_size, struct vss_error_buf *err);
/* Detach the loop device if it is still attached and delete the file. Missing: 0. */
int store_destroy(CowStore *store, struct vss_error_buf *err);
/*
 * Find the loop device whose backing file is PATH (after a restart):
 * fills STORE (loop_fd stays -1); -ENOENT when none is attached. A loop
 * device still bound to a deleted file of that name does not count.
 */
int store_find(CowStore *store, const char *path, struct vss_error_buf *err);
/* Free bytes in DIR's file system, for the reason in a refusal. */
int store_dir_free(const char *dir, uint64_t *ret);

#endif
