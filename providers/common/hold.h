/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hold.h: the hold window's suspensions, shared by every provider that
 * snapshots device-mapper devices (dm-snapshot, dm-thin, lvm's thin LVs).
 *
 * A HoldWindow is embedded in a provider's prepared set. prepare adds an
 * origin per volume to hold (hold_add), then arms the window (hold_arm: the
 * control fd, memory locked, and for more than one origin a crew of threads).
 * Inside the window hold_suspend_all suspends every origin at once: each
 * suspend waits for its file system to freeze, tens of milliseconds even
 * idle, so one after the other the window would grow by that much per
 * volume; the crew's threads, made in prepare and waiting on a condition,
 * run them together. hold_release resumes them.
 *
 * The watchdog may call hold_release while hold_suspend_all or the
 * provider's commit runs. Each origin's suspension is a small atomic state
 * machine (IDLE -> SUSPENDING -> HELD -> RELEASED): whoever moves it from
 * HELD to RELEASED resumes it, and a suspend still in flight when the release
 * came is resumed by its suspender. So every origin is resumed exactly once,
 * and a release that comes before the hold leaves nothing suspended.
 *
 * Nothing between hold_suspend_all and hold_release allocates, logs or
 * touches a file.
 */
#ifndef VSS_PROVIDERS_COMMON_HOLD_H
#define VSS_PROVIDERS_COMMON_HOLD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <vss/provider.h>

#include "providers/common/dm.h"

/* The struct TYPE that embeds MEMBER at PTR. */
#define hold_container_of(ptr, type, member) \
        ((type *)((char *)(ptr) - offsetof(type, member)))

/* One origin held in the window. */
typedef struct HeldOrigin {
        char name[DM_NAME_MAX];          /* its dm device, for messages */
        atomic_int state;                /* IDLE, SUSPENDING, HELD, RELEASED */
        DmSwitch suspend, suspend_frozen, resume;
        int r;                           /* what a crew member's suspend returned */
        struct vss_error_buf err;
} HeldOrigin;

struct HoldCrew;

typedef struct HoldWindow {
        char set_id[37];                 /* the set's id, a UUID: also the provider's */
        int control_fd;                  /* /dev/mapper/control from hold_arm, else -1 */
        bool locked;                     /* mlockall() from hold_arm to hold_release */
        atomic_bool released;            /* hold and commit must stop */
        size_t n, max;
        HeldOrigin *origins;
        struct HoldCrew *crew;           /* NULL below two origins */
        struct HoldWindow *next;         /* the provider's list of prepared sets */
} HoldWindow;

/* Room for MAX origins; 0 or -ENOMEM. hold_free() frees it (also after a failure). */
int hold_init(HoldWindow *w, const char *set_id, size_t max, struct vss_error_buf *err);
/* Hold the dm device NAME in the window too: its HeldOrigin, or NULL (error in ERR). */
HeldOrigin *hold_add(HoldWindow *w, const char *name, struct vss_error_buf *err);
/* Ready for the window: control fd, crew, memory locked (a warning if it cannot be). */
int hold_arm(HoldWindow *w, struct vss_error_buf *err);

/* Suspend every origin at once (lockfs); 0, or the first failure (then release). */
int hold_suspend_all(HoldWindow *w, struct vss_error_buf *err);
/* True once hold_release began: commit must stop (with hold_cancelled's error). */
bool hold_released(HoldWindow *w);
int hold_cancelled(const HoldWindow *w, struct vss_error_buf *err);
/* Resume every origin held, once; unlock memory. 0 or the first failure. */
int hold_release(HoldWindow *w, struct vss_error_buf *err);

/* End the crew, close the fd, unlock memory, free the origins. */
void hold_free(HoldWindow *w);

/* The provider's prepared sets: a list of windows under LOCK. */
typedef struct HoldList {
        pthread_mutex_t *lock;
        HoldWindow **head;
} HoldList;

void hold_list_add(HoldList l, HoldWindow *w);
HoldWindow *hold_list_find(HoldList l, const char *set_id);
void hold_list_remove(HoldList l, HoldWindow *w);

#endif
