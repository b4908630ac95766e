/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * storage.h: the listings "vssctl list storage" (storage.c) and "vssctl list
 * volumes" (volumes.c), which list.c dispatches to, and the block-device
 * helpers they share with "vssctl storage".
 */
#ifndef VSSCTL_STORAGE_H
#define VSSCTL_STORAGE_H

#include <stddef.h>

#include "vssctl.h"

int list_storage(struct vssctl *ctx, vss_client *client);
int list_volumes(struct vssctl *ctx, vss_client *client);

/* Sort PROVIDERS as vssd asks them for a volume: highest priority first, ties by name. */
void providers_sort_by_priority(vss_provider_info **providers, size_t n);

/*
 * VOLUME's canonical name, as vssd names volumes: /dev/mapper/NAME for a
 * device-mapper device, /dev/KERNELNAME for another block device; anything
 * else is copied unchanged. -ENAMETOOLONG.
 */
int blockdev_canonical(const char *volume, char *buf, size_t size);

#endif
