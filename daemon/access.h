/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * access.h: who may call what on vssd. Root may do everything; members of
 * the backup group (vssd.conf backup_group) may make, expose and delete
 * snapshots; members of the writer group (writer_group) may register
 * writers; anyone may list. Membership comes from the user database
 * (getpwuid_r, getgrouplist: the primary group included), as dbus-daemon's
 * own <policy group="..."> does, looked up once per caller. A refusal says
 * what the call needs, what the caller lacks and how an administrator gives
 * it.
 *
 * This file knows nothing of D-Bus: main.c plugs it into the bus layer as
 * its authorizer (bus_set_authorizer()), whose access classes these are.
 */
#ifndef VSS_DAEMON_ACCESS_H
#define VSS_DAEMON_ACCESS_H

#include <stddef.h>
#include <sys/types.h>

#include "daemon/dbus/bus.h"

/* The same values as enum bus_access. */
enum access_class {
        ACCESS_ROOT = 0, /* root only (and any class not known here) */
        ACCESS_ANYONE,
        ACCESS_BACKUP,   /* root or the backup group */
        ACCESS_WRITER,   /* root or the writer group */
};

typedef struct Access Access;
typedef struct AccessIdentity AccessIdentity;

/*
 * The rule with these group names ("" or NULL: root alone). A group that
 * does not exist is logged as a warning now, naming the fix; until it is
 * created, only root passes where it is needed.
 */
int access_new(Access **ret, const char *backup_group, const char *writer_group);
Access *access_free(Access *access);

/* What UID is: its name and which of the groups it is in (blocks on the user database). */
int access_identify(Access *access, uid_t uid, AccessIdentity **ret);
AccessIdentity *access_identity_free(AccessIdentity *identity);

/*
 * May IDENTITY make a call of CLASS? 0, or -EACCES with a message in ERR
 * naming WHAT (the call), what it needs and what the caller lacks.
 */
int access_check(const Access *access, const AccessIdentity *identity, enum access_class class,
                 const char *what, char *err, size_t err_size);

/* This rule as the bus layer's authorizer (bus_set_authorizer(); userdata: the Access). */
extern const BusAuthorizer access_bus_authorizer;

#endif
