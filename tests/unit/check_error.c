/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_error.c: the one map between linux-vss error codes and D-Bus error
 * names (common/error.c). vssd turns a code into org.linuxvss.Vss1.Error.<Name>
 * and libvss turns the name back into a code, so every code a client can see
 * must survive that trip, every name must be a valid D-Bus error name (libdbus
 * refuses to build an error with an invalid one), and the enum names shown by
 * vssctl must be stable.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dbus/dbus.h>

#include <vss/vss.h>

#define ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* errno values the daemon returns to clients, each with its own name. */
static const int common_errnos[] = {
        EINVAL, ENOENT, ENODEV, EEXIST, EACCES, EBUSY, ETIMEDOUT,
        EOPNOTSUPP, ENOMEM, ENOSPC, ENOEXEC, ECANCELED, EIO,
};

static void full_name(char *buf, size_t size, const char *name)
{
        ck_assert_int_lt(snprintf(buf, size, "%s%s", VSS_ERROR_PREFIX, name), (int)size);
}

START_TEST(test_vss_codes_round_trip)
{
        for (int code = VSS_E_BASE + 1; code < VSS_E_MAX; code++) {
                const char *name = vss_error_to_name(-code);
                char full[256];

                ck_assert_msg(name, "code %d has no name", code);
                ck_assert_msg(strcmp(name, "Failed") != 0, "code %d falls back to Failed", code);
                /* Positive and negative spellings of a code are the same error. */
                ck_assert_str_eq(vss_error_to_name(code), name);
                ck_assert_int_eq(vss_error_from_name(name), -code);
                full_name(full, sizeof(full), name);
                ck_assert_msg(dbus_validate_error_name(full, NULL), "%s is not a valid name", full);
                ck_assert_int_eq(vss_error_from_name(full), -code);
                /* Each VSS_E_* has a sentence of its own, not the fallback. */
                ck_assert_str_ne(vss_strerror(-code), "unknown linux-vss error");
                ck_assert_int_gt((int)strlen(vss_strerror(-code)), 10);
        }
}
END_TEST

/* EPERM and EACCES are one D-Bus error; clients get -EACCES, as for the bus's own. */
START_TEST(test_access_denied_aliases)
{
        ck_assert_str_eq(vss_error_to_name(-EPERM), "AccessDenied");
        ck_assert_str_eq(vss_error_to_name(-EACCES), "AccessDenied");
        ck_assert_int_eq(vss_error_from_name("org.linuxvss.Vss1.Error.AccessDenied"), -EACCES);
        ck_assert_int_eq(vss_error_from_name("org.freedesktop.DBus.Error.AccessDenied"), -EACCES);
}
END_TEST

/* What the bus sends, not vssd, still reaches clients as a code they can act on. */
START_TEST(test_bus_errors_map_to_codes)
{
        ck_assert_int_eq(vss_error_from_name("org.freedesktop.DBus.Error.ServiceUnknown"),
                         -ECONNREFUSED);
        ck_assert_int_eq(vss_error_from_name("org.freedesktop.DBus.Error.Spawn.ChildExited"),
                         -ECONNREFUSED);
        ck_assert_int_eq(vss_error_from_name("org.freedesktop.DBus.Error.Disconnected"),
                         -ENOTCONN);
        ck_assert_int_eq(vss_error_from_name("org.freedesktop.DBus.Error.NoReply"), -ETIMEDOUT);
        ck_assert_int_eq(vss_error_from_name("org.freedesktop.DBus.Error.UnknownObject"),
                         -ENOENT);
        ck_assert_int_eq(vss_error_from_name("org.freedesktop.DBus.Error.UnknownProperty"),
                         -ENOENT);
        ck_assert_int_eq(vss_error_from_name("org.freedesktop.DBus.Error.PropertyReadOnly"),
                         -EROFS);
        ck_assert_int_eq(vss_error_from_name("org.freedesktop.DBus.Error.UnknownMethod"),
                         -EOPNOTSUPP);
        /* A prefix entry matches only below it, not a longer name that merely starts alike. */
        ck_assert_int_eq(vss_error_from_name("org.freedesktop.DBus.Error.SpawnSomething"), -EIO);
}
END_TEST

START_TEST(test_errnos_round_trip)
{
        for (size_t i = 0; i < ELEMENTS(common_errnos); i++) {
                int code = common_errnos[i];
                const char *name = vss_error_to_name(-code);
                char full[256];

                ck_assert_msg(name && strcmp(name, "Failed") != 0, "errno %d (%s) has no name",
                              code, strerror(code));
                full_name(full, sizeof(full), name);
                ck_assert_msg(dbus_validate_error_name(full, NULL), "%s is not a valid name", full);
                ck_assert_msg(vss_error_from_name(full) == -code,
                              "%s came back as %d, not -%d (%s)", full, vss_error_from_name(full),
                              code, strerror(code));
                /* errno values read as strerror() in clients. */
                ck_assert_str_eq(vss_strerror(-code), strerror(code));
        }
}
END_TEST

/* Two codes sharing one name would make a client see the wrong error. */
START_TEST(test_names_are_distinct)
{
        const char *names[VSS_E_MAX - VSS_E_BASE + ELEMENTS(common_errnos)];
        size_t n = 0;

        for (int code = VSS_E_BASE + 1; code < VSS_E_MAX; code++)
                names[n++] = vss_error_to_name(-code);
        for (size_t i = 0; i < ELEMENTS(common_errnos); i++)
                names[n++] = vss_error_to_name(-common_errnos[i]);
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        ck_assert_msg(strcmp(names[i], names[j]) != 0, "name %s used twice",
                                      names[i]);
}
END_TEST

/* EACCES and EPERM are both "AccessDenied": the name must at least come back. */
START_TEST(test_access_denied_alias)
{
        ck_assert_str_eq(vss_error_to_name(-EACCES), "AccessDenied");
        ck_assert_str_eq(vss_error_to_name(-EPERM), "AccessDenied");
        int back = vss_error_from_name(VSS_ERROR_PREFIX "AccessDenied");
        ck_assert_msg(back == -EPERM || back == -EACCES, "AccessDenied came back as %d", back);
        ck_assert_str_eq(vss_error_to_name(back), "AccessDenied");
}
END_TEST

START_TEST(test_unknown_codes_and_names)
{
        ck_assert_ptr_null(vss_error_to_name(0));
        /* Any other code still gets a name a client can match on. */
        ck_assert_str_eq(vss_error_to_name(-ENOTDIR), "Failed");
        ck_assert_str_eq(vss_error_to_name(-VSS_E_MAX), "Failed");
        ck_assert_str_eq(vss_error_to_name(-VSS_E_BASE), "Failed");
        ck_assert_int_eq(vss_error_from_name(VSS_ERROR_PREFIX "Failed"), -EIO);
        ck_assert_int_eq(vss_error_from_name("Failed"), -EIO);
        ck_assert_int_eq(vss_error_from_name(NULL), -EIO);
        ck_assert_int_eq(vss_error_from_name(""), -EIO);
        ck_assert_int_eq(vss_error_from_name(VSS_ERROR_PREFIX "NoSuchThing"), -EIO);
        /* Only our own prefix is stripped: another service's NotFound is not ours. */
        ck_assert_int_eq(vss_error_from_name("org.example.Error.NotFound"), -EIO);
        ck_assert_int_eq(vss_error_from_name("org.example.Error.BadState"), -EIO);
        ck_assert_str_eq(vss_strerror(-VSS_E_MAX), "unknown linux-vss error");
}
END_TEST

/* Errors the bus itself sends become codes a client can act on. */
START_TEST(test_bus_errors)
{
        static const struct {
                const char *name;
                int code;
        } cases[] = {
                { DBUS_ERROR_ACCESS_DENIED, -EACCES },
                { DBUS_ERROR_NO_REPLY, -ETIMEDOUT },
                { DBUS_ERROR_TIMEOUT, -ETIMEDOUT },
                { DBUS_ERROR_SERVICE_UNKNOWN, -ECONNREFUSED },
                { DBUS_ERROR_NAME_HAS_NO_OWNER, -ECONNREFUSED },
                { DBUS_ERROR_INVALID_ARGS, -EINVAL },
                { DBUS_ERROR_UNKNOWN_METHOD, -EOPNOTSUPP },
                { DBUS_ERROR_UNKNOWN_INTERFACE, -EOPNOTSUPP },
                /* An object that is gone (a set, a snapshot) reads as "not found". */
                { DBUS_ERROR_UNKNOWN_OBJECT, -ENOENT },
                { DBUS_ERROR_NO_MEMORY, -ENOMEM },
        };
        for (size_t i = 0; i < ELEMENTS(cases); i++)
                ck_assert_msg(vss_error_from_name(cases[i].name) == cases[i].code,
                              "%s -> %d, expected %d", cases[i].name,
                              vss_error_from_name(cases[i].name), cases[i].code);
}
END_TEST

/* The sentence for MaximumVolumesReached quotes the real limit. */
START_TEST(test_max_volumes_text_matches_limit)
{
        char limit[16];

        snprintf(limit, sizeof(limit), "%d", VSS_MAX_VOLUMES_PER_SET);
        ck_assert_ptr_nonnull(strstr(vss_strerror(-VSS_E_MAX_VOLUMES), limit));
        ck_assert_str_eq(vss_strerror(-VSS_E_ABI_MISMATCH),
                         "the provider plugin was built for another ABI version");
        ck_assert_str_eq(vss_error_to_name(-VSS_E_SET_IN_PROGRESS), "SnapshotSetInProgress");
        ck_assert_str_eq(vss_error_to_name(-VSS_E_ABI_MISMATCH), "ProviderAbiMismatch");
}
END_TEST

START_TEST(test_writer_state_names)
{
        static const char *const expected[] = {
                "UNKNOWN", "STABLE", "WAITING_FOR_FREEZE", "WAITING_FOR_THAW",
                "WAITING_FOR_POST_SNAPSHOT", "WAITING_FOR_BACKUP_COMPLETE",
                "FAILED_AT_IDENTIFY", "FAILED_AT_PREPARE_BACKUP", "FAILED_AT_PREPARE_SNAPSHOT",
                "FAILED_AT_FREEZE", "FAILED_AT_THAW", "FAILED_AT_POST_SNAPSHOT",
                "FAILED_AT_BACKUP_COMPLETE", "FAILED_AT_PRE_RESTORE", "FAILED_AT_POST_RESTORE",
                "FAILED_AT_BACKUPSHUTDOWN",
        };
        for (size_t i = 0; i < ELEMENTS(expected); i++)
                ck_assert_str_eq(vss_writer_state_to_string((enum vss_writer_state)i), expected[i]);
        ck_assert_str_eq(vss_writer_state_to_string(VSS_WS_FAILED_AT_FREEZE), "FAILED_AT_FREEZE");
        /* Out of range (a newer daemon, a corrupt value): never NULL. */
        ck_assert_str_eq(vss_writer_state_to_string((enum vss_writer_state)16), "UNKNOWN");
        ck_assert_str_eq(vss_writer_state_to_string((enum vss_writer_state)-1), "UNKNOWN");
}
END_TEST

START_TEST(test_writer_failure_names)
{
        ck_assert_str_eq(vss_writer_failure_to_string(VSS_WF_NONE), "NONE");
        ck_assert_str_eq(vss_writer_failure_to_string(VSS_WF_INCONSISTENT_SNAPSHOT),
                         "INCONSISTENTSNAPSHOT");
        ck_assert_str_eq(vss_writer_failure_to_string(VSS_WF_OUT_OF_RESOURCES), "OUTOFRESOURCES");
        ck_assert_str_eq(vss_writer_failure_to_string(VSS_WF_TIMEOUT), "TIMEOUT");
        ck_assert_str_eq(vss_writer_failure_to_string(VSS_WF_RETRYABLE), "RETRYABLE");
        ck_assert_str_eq(vss_writer_failure_to_string(VSS_WF_NONRETRYABLE), "NONRETRYABLE");
        ck_assert_str_eq(vss_writer_failure_to_string((enum vss_writer_failure)6), "NONRETRYABLE");
        ck_assert_str_eq(vss_writer_failure_to_string((enum vss_writer_failure)-1),
                         "NONRETRYABLE");
}
END_TEST

START_TEST(test_writer_level_names)
{
        static const char *const names[] = { "front-end", "back-end", "system" };

        for (int level = VSS_LEVEL_FRONT_END; level <= VSS_LEVEL_SYSTEM; level++) {
                const char *name = vss_writer_level_to_string((enum vss_writer_level)level);
                ck_assert_str_eq(name, names[level]);
                ck_assert_int_eq(vss_writer_level_from_string(name), level);
        }
        ck_assert_str_eq(vss_writer_level_to_string((enum vss_writer_level)3), "system");
        ck_assert_int_eq(vss_writer_level_from_string("frontend"), -EINVAL);
        ck_assert_int_eq(vss_writer_level_from_string("System"), -EINVAL);
        ck_assert_int_eq(vss_writer_level_from_string(""), -EINVAL);
        ck_assert_int_eq(vss_writer_level_from_string(NULL), -EINVAL);
}
END_TEST

static Suite *error_suite(void)
{
        Suite *s = suite_create("error");
        TCase *tc = tcase_create("names");

        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_vss_codes_round_trip);
        tcase_add_test(tc, test_errnos_round_trip);
        tcase_add_test(tc, test_access_denied_aliases);
        tcase_add_test(tc, test_bus_errors_map_to_codes);
        tcase_add_test(tc, test_names_are_distinct);
        tcase_add_test(tc, test_access_denied_alias);
        tcase_add_test(tc, test_unknown_codes_and_names);
        tcase_add_test(tc, test_bus_errors);
        tcase_add_test(tc, test_max_volumes_text_matches_limit);
        suite_add_tcase(s, tc);

        tc = tcase_create("enums");
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_writer_state_names);
        tcase_add_test(tc, test_writer_failure_names);
        tcase_add_test(tc, test_writer_level_names);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(error_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
