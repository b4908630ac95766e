/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * access.c: who may call what (see access.h): the rule, the user-database
 * look-ups and the messages of a refusal.
 *
 * A group's gid is looked up again for each new caller rather than once at
 * start, so that a group an administrator creates after the warning works
 * for the next connection without restarting vssd.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/access.h"
#include "daemon/util/log.h"

enum { GROUP_BACKUP, GROUP_WRITER, N_GROUPS };

/* What each group lets its members do, for the warning about a missing one. */
static const char *const group_keys[N_GROUPS] = { "backup_group", "writer_group" };
static const char *const group_rights[N_GROUPS] = {
        "create, expose and delete snapshots", "register writers",
};

struct Access {
        char *groups[N_GROUPS]; /* NULL: root alone */
};

enum membership { NOT_MEMBER, MEMBER, GROUP_MISSING };

struct AccessIdentity {
        uid_t uid;
        char *user; /* NULL: the uid is not in the user database */
        enum membership groups[N_GROUPS];
};

/* getgrnam_r and getpwuid_r say "not found" in several ways (getpwnam(3)). */
static bool lookup_not_found(int r)
{
        return r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM;
}

/* The gid of group NAME; -ENOENT when there is no such group. */
static int group_gid(const char *name, gid_t *ret)
{
        struct group gr, *result = NULL;

        for (size_t size = 1024;; size *= 2) {
                char *buf = malloc(size);
                if (!buf)
                        return -ENOMEM;
                int r = getgrnam_r(name, &gr, buf, size, &result);
                if (result)
                        *ret = gr.gr_gid;
                free(buf);
                if (r == ERANGE && size < (1u << 20))
                        continue;
                if (result)
                        return 0;
                return lookup_not_found(r) ? -ENOENT : -r;
        }
}

/* The name and primary group of UID; -ENOENT when the user database has no such uid. */
static int user_of(uid_t uid, char **ret_name, gid_t *ret_gid)
{
        struct passwd pw, *result = NULL;

        for (size_t size = 1024;; size *= 2) {
                char *buf = malloc(size);
                if (!buf)
                        return -ENOMEM;
                int r = getpwuid_r(uid, &pw, buf, size, &result);
                if (result) {
                        *ret_name = strdup(pw.pw_name);
                        *ret_gid = pw.pw_gid;
                }
                free(buf);
                if (r == ERANGE && size < (1u << 20))
                        continue;
                if (result)
                        return *ret_name ? 0 : -ENOMEM;
                return lookup_not_found(r) ? -ENOENT : -r;
        }
}

/* Is USER (primary group GID) in group WANTED, by the user database? */
static int user_in_group(const char *user, gid_t gid, gid_t wanted)
{
        int size = 64;

        for (;;) {
                int n = size;
                gid_t *list = malloc((size_t)size * sizeof(*list));
                if (!list)
                        return -ENOMEM;
                if (getgrouplist(user, gid, list, &n) >= 0) {
                        bool found = false;
                        for (int i = 0; i < n && !found; i++)
                                found = list[i] == wanted;
                        free(list);
                        return found;
                }
                free(list);
                /* Too small: N says how many there are (glibc), or try twice as many. */
                size = n > size ? n : size * 2;
                if (size > 65536 * 4)
                        return -E2BIG;
        }
}

int access_new(Access **ret, const char *backup_group, const char *writer_group)
{
        const char *names[N_GROUPS] = { backup_group, writer_group };
        Access *a = calloc(1, sizeof(*a));
        gid_t gid;

        if (!a)
                return -ENOMEM;
        for (int g = 0; g < N_GROUPS; g++) {
                if (!names[g] || !names[g][0])
                        continue;
                if (!(a->groups[g] = strdup(names[g]))) {
                        access_free(a);
                        return -ENOMEM;
                }
                int r = group_gid(names[g], &gid);
                if (r == -ENOENT)
                        log_warning("group '%s' (%s in vssd.conf) does not exist, so only root "
                                    "may %s; create it with: groupadd --system %s", names[g],
                                    group_keys[g], group_rights[g], names[g]);
                else if (r < 0)
                        log_warning("cannot look up group '%s' (%s in vssd.conf): %s", names[g],
                                    group_keys[g], strerror(-r));
        }
        *ret = a;
        return 0;
}

Access *access_free(Access *a)
{
        if (!a)
                return NULL;
        for (int g = 0; g < N_GROUPS; g++)
                free(a->groups[g]);
        free(a);
        return NULL;
}

AccessIdentity *access_identity_free(AccessIdentity *id)
{
        if (id) {
                free(id->user);
                free(id);
        }
        return NULL;
}

/* ID's membership of each configured group, from the user database. */
static int identity_resolve(const Access *a, AccessIdentity *id)
{
        gid_t primary = 0, gid;
        int r = user_of(id->uid, &id->user, &primary);

        if (r < 0 && r != -ENOENT)
                return r;
        for (int g = 0; g < N_GROUPS; g++) {
                if (!a->groups[g])
                        continue;
                r = group_gid(a->groups[g], &gid);
                if (r == -ENOENT) {
                        id->groups[g] = GROUP_MISSING;
                        continue;
                }
                if (r >= 0 && id->user)
                        r = user_in_group(id->user, primary, gid);
                if (r < 0)
                        return r;
                id->groups[g] = r > 0 ? MEMBER : NOT_MEMBER;
        }
        return 0;
}

int access_identify(Access *a, uid_t uid, AccessIdentity **ret)
{
        AccessIdentity *id = calloc(1, sizeof(*id));

        if (!id)
                return -ENOMEM;
        id->uid = uid;
        /* Root may do everything: no look-up needed. */
        int r = uid == 0 ? 0 : identity_resolve(a, id);
        if (r < 0) {
                access_identity_free(id);
                return r;
        }
        *ret = id;
        return 0;
}

/* "uid 1000 (alice)" */
static void describe(const AccessIdentity *id, char *buf, size_t size)
{
        if (id->user)
                snprintf(buf, size, "uid %u (%s)", (unsigned)id->uid, id->user);
        else
                snprintf(buf, size, "uid %u (not in the user database)", (unsigned)id->uid);
}

static int refuse_group(const char *group, const AccessIdentity *id, enum membership m,
                        const char *what, char *err, size_t err_size)
{
        char who[128];

        describe(id, who, sizeof(who));
        if (m == GROUP_MISSING)
                snprintf(err, err_size, "%s needs root or membership of group '%s', which does not "
                         "exist; %s is not root (an administrator can create the group: groupadd "
                         "--system %s, then add the user: usermod -aG %s %s)", what, group, who,
                         group, group, id->user ? id->user : "USER");
        else if (!id->user)
                snprintf(err, err_size, "%s needs root or membership of group '%s'; %s is in no "
                         "group", what, group, who);
        else
                snprintf(err, err_size, "%s needs root or membership of group '%s'; %s is not a "
                         "member (an administrator can add it: usermod -aG %s %s)", what, group,
                         who, group, id->user);
        return -EACCES;
}

int access_check(const Access *a, const AccessIdentity *id, enum access_class class,
                 const char *what, char *err, size_t err_size)
{
        int g = class == ACCESS_BACKUP ? GROUP_BACKUP : class == ACCESS_WRITER ? GROUP_WRITER : -1;
        char who[128];

        if (id->uid == 0 || class == ACCESS_ANYONE)
                return 0;
        if (g >= 0 && a->groups[g] && id->groups[g] == MEMBER)
                return 0;
        if (g >= 0 && a->groups[g])
                return refuse_group(a->groups[g], id, id->groups[g], what, err, err_size);
        describe(id, who, sizeof(who));
        if (g >= 0) /* the group is configured empty: root alone */
                snprintf(err, err_size, "%s is for root only (%s is empty in vssd.conf); %s is "
                         "not root", what, group_keys[g], who);
        else
                snprintf(err, err_size, "%s is for root only; %s is not root", what, who);
        return -EACCES;
}

/* --- authorization: access.c's rule as the bus layer's authorizer ------------------ */

_Static_assert((int)ACCESS_ROOT == (int)BUS_ACCESS_ROOT &&
                       (int)ACCESS_ANYONE == (int)BUS_ACCESS_ANYONE &&
                       (int)ACCESS_BACKUP == (int)BUS_ACCESS_BACKUP &&
                       (int)ACCESS_WRITER == (int)BUS_ACCESS_WRITER,
               "access classes of access.h and bus.h differ");

static int authorizer_identify(uid_t uid, void **ret_identity, void *userdata)
{
        AccessIdentity *id;
        int r = access_identify(userdata, uid, &id);

        if (r >= 0)
                *ret_identity = id;
        return r;
}

static int authorizer_check(const void *identity, unsigned access, const char *what, char *err,
                            size_t err_size, void *userdata)
{
        return access_check(userdata, identity, (enum access_class)access, what, err, err_size);
}

static void authorizer_free_identity(void *identity)
{
        access_identity_free(identity);
}

const BusAuthorizer access_bus_authorizer = {
        .identify = authorizer_identify,
        .check = authorizer_check,
        .free_identity = authorizer_free_identity,
};
