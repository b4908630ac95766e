/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_bus_vssctl_snapshot.c: what vssctl does with snapshots once they
 * exist, and with plain devices: list shadows (device, state, copy-on-write
 * usage, where exposed), expose, unexpose, revert (with --wait), enable and
 * disable; and the usage errors every verb shares. The real vssd runs on a
 * private bus with the fake provider, which reports /dev/fake/snap-<id> as a
 * snapshot's device and enables /dev/fakeplain/NAME as /dev/fake/NAME.
 */
#include <check.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/bus/vssctl-test.h"

static void setup(void)
{
        vssctl_test_start(NULL);
}

static void teardown(void)
{
        testbus_stop(&tb);
}

/* One persistent snapshot of VOLUME: its id into ID. */
static void snapshot_of(const char *volume, char id[UUID_LEN + 1])
{
        struct created c;

        create_ok(&c, volume);
        ck_assert_uint_eq(c.n, 1);
        memcpy(id, c.ids[0], UUID_LEN + 1);
}

/* Run "vssctl ARGS", expecting exit STATUS and output containing WANT. */
__attribute__((format(printf, 3, 4)))
static void expect_containing(int status, const char *want, const char *format, ...)
{
        char args[1024];
        va_list ap;

        va_start(ap, format);
        vsnprintf(args, sizeof(args), format, ap);
        va_end(ap);
        char *out = expect_vssctl(status, NULL, "%s", args);
        ck_assert_msg(strstr(out, want), "vssctl %s printed:\n%s\nwanted it to contain: %s", args,
                      out, want);
        free(out);
}

/* What "--json list shadows" says of snapshot ID, one field per line, as python prints them. */
static char *shadow_fields(const char *id)
{
        char code[512];

        snprintf(code, sizeof(code),
                 "for s in d[\"snapshots\"]:\n"
                 "    if s[\"id\"] == \"%s\":\n"
                 "        print(s[\"state\"], s[\"device\"], repr(s[\"exposed_path\"]), "
                 "s[\"cow_used_bytes\"], s[\"cow_size_bytes\"])",
                 id);
        return json_query("list shadows", code);
}

/* Snapshot ID is listed in STATE ("valid", "merging"), or with STATE NULL not listed. */
static void expect_state(const char *id, const char *state)
{
        char *out = shadow_fields(id);
        size_t len = state ? strlen(state) : 0;

        ck_assert_msg(state ? strncmp(out, state, len) == 0 && out[len] == ' ' : !*out,
                      "snapshot %s: wanted %s, vssctl lists: %s", id,
                      state ? state : "not listed", *out ? out : "nothing");
        free(out);
}

/* "vssctl --json ARGS", through the python CODE, printed WANT. */
static void expect_json(const char *args, const char *code, const char *want)
{
        char *out = json_query(args, code);
        ck_assert_str_eq(out, want);
        free(out);
}

/* ---- usage errors: every verb, before vssd is asked anything ----------------------------- */

START_TEST(test_empty_arguments_exit_2)
{
        static const struct {
                const char *args;
                const char *message;
        } cases[] = {
                { "expose ''", "'expose': the snapshot id must not be empty" },
                { "expose 0c9e6f42-1d7a-4b8e-a3c5-6e2f1b0d9a47 ''",
                  "'expose': the mount point must not be empty" },
                { "unexpose ''", "'unexpose': the snapshot id must not be empty" },
                { "revert ''", "'revert': the snapshot id must not be empty" },
                { "revert --wait ''", "'revert': the snapshot id must not be empty" },
                { "enable ''", "'enable': the device must not be empty" },
                { "enable --provider '' /dev/fakeplain/a", "option '--provider' must not be empty" },
                { "disable ''", "'disable': the volume must not be empty" },
                { "create ''", "'create': the volume must not be empty" },
                { "create /dev/fake/a ''", "'create': the volume must not be empty" },
                { "create --context '' /dev/fake/a", "option '--context' must not be empty" },
                { "create --exclude-writer= /dev/fake/a",
                  "option '--exclude-writer' must not be empty" },
                { "create --provider '' /dev/fake/a", "option '--provider' must not be empty" },
                { "exec --exclude-writer '' /dev/fake/a -- true",
                  "option '--exclude-writer' must not be empty" },
                { "supported ''", "'supported': the volume must not be empty" },
                { "supported -p '' /dev/fake/a", "option '-p' must not be empty" },
                { "delete ''", "'delete': the snapshot id must not be empty" },
                { "delete --set ''", "option '--set' must not be empty" },
                { "delete --for ''", "option '--for' must not be empty" },
                { "--bus '' status", "option '--bus' must not be empty" },
                { "status --timeout ''", "option '--timeout' must not be empty" },
        };

        free(expect_vssctl(2, "expose-empty-id.txt", "expose ''"));
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *out = expect_vssctl(2, NULL, "%s", cases[i].args);
                ck_assert_msg(strstr(out, cases[i].message) && strstr(out, "Try 'vssctl --help'"),
                              "vssctl %s printed:\n%s\nwanted: %s", cases[i].args, out,
                              cases[i].message);
                free(out);
        }
        /* None of them reached a provider. */
        ck_assert(!log_has("prepare") && !log_has("expose") && !log_has("enable"));
}
END_TEST

START_TEST(test_missing_and_extra_operands_exit_2)
{
        expect_containing(2, "'expose' needs a snapshot id (see 'vssctl list shadows')", "expose");
        expect_containing(2, "'expose' takes a snapshot id and a mount point, got also 'c'",
                          "expose a b c");
        expect_containing(2, "'unexpose' takes one snapshot id, got also 'b'", "unexpose a b");
        expect_containing(2, "'revert' needs a snapshot id", "revert --wait");
        expect_containing(2, "'enable' needs a device such as /dev/sdb1", "enable");
        expect_containing(2, "'disable' needs a volume", "disable");
        expect_containing(2, "option '--wait' doesn't allow an argument", "revert --wait=yes x");
}
END_TEST

/* ---- list shadows ----------------------------------------------------------------------------- */

/* Does the PropertiesChanged SIG carry PROPERTY? */
static bool changes(DBusMessage *sig, const char *property)
{
        DBusMessageIter iter, dict;

        dbus_message_iter_init(sig, &iter);
        dbus_message_iter_next(&iter);
        dbus_message_iter_recurse(&iter, &dict);
        for (; dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&dict)) {
                DBusMessageIter entry;
                const char *name;
                dbus_message_iter_recurse(&dict, &entry);
                dbus_message_iter_get_basic(&entry, &name);
                if (strcmp(name, property) == 0)
                        return true;
        }
        return false;
}

/*
 * vssd learns a snapshot's copy-on-write usage from its provider in monitor
 * rounds: wait for the announcement. The test's connection has received
 * every signal of vssd since it started, so none can be missed.
 */
static void wait_cow_reported(const char *id)
{
        char path[128];

        snprintf(path, sizeof(path), "/org/linuxvss/Vss1/snapshot/%s", id);
        for (char *c = path + strlen(path) - UUID_LEN; *c; c++)
                if (*c == '-')
                        *c = '_';
        for (;;) {
                DBusMessage *sig = testbus_wait_signal(&tb, DBUS_INTERFACE_PROPERTIES,
                                                       "PropertiesChanged", 20000);
                ck_assert_msg(sig, "vssd never announced the copy-on-write usage of %s", id);
                bool found = dbus_message_has_path(sig, path) && changes(sig, "CowSizeBytes");
                dbus_message_unref(sig);
                if (found)
                        return;
        }
}

START_TEST(test_list_shadows_device_state_cow)
{
        char id[UUID_LEN + 1], want[256];

        snapshot_of("/dev/fake/a", id);
        wait_cow_reported(id);
        char *out = expect_vssctl(0, "list-shadows-one.txt", "list shadows");
        snprintf(want, sizeof(want), "  /dev/fake/snap-%s  ", id);
        ck_assert_msg(strstr(out, want), "no device %s in:\n%s", want, out);
        free(out);

        /* The fake's store: 64 KiB used of 1 GiB. */
        out = shadow_fields(id);
        snprintf(want, sizeof(want), "valid /dev/fake/snap-%s '' 65536 1073741824\n", id);
        ck_assert_str_eq(out, want);
        free(out);
}
END_TEST

/* ---- expose and unexpose ------------------------------------------------------------------------ */

START_TEST(test_expose_unexpose)
{
        char id[UUID_LEN + 1], mnt[PATH_MAX], want[PATH_MAX + 128], *out;

        snapshot_of("/dev/fake/a", id);
        snprintf(mnt, sizeof(mnt), "%s/mnt", tb.dir);

        /* The path alone, so that "cd $(vssctl expose ID)" works. */
        snprintf(want, sizeof(want), "%s\n", mnt);
        out = expect_vssctl(0, NULL, "expose %s %s", id, mnt);
        ck_assert_str_eq(out, want);
        free(out);
        snprintf(want, sizeof(want), "expose %s %s", id, mnt);
        ck_assert_msg(log_has(want), "the provider never got '%s'", want);
        out = shadow_fields(id);
        snprintf(want, sizeof(want), "valid /dev/fake/snap-%s '%s' ", id, mnt);
        ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "%s", out);
        free(out);
        expect_containing(0, mnt, "list shadows");

        /* One place at a time. */
        expect_containing(1, "already exposed", "expose %s %s/other", id, tb.dir);

        snprintf(want, sizeof(want), "Snapshot %s is no longer exposed.\n", id);
        out = expect_vssctl(0, NULL, "unexpose %s", id);
        ck_assert_str_eq(out, want);
        free(out);
        expect_containing(1, "is not exposed", "unexpose %s", id);
}
END_TEST

/* ---- revert -------------------------------------------------------------------------------------- */

START_TEST(test_revert_wait)
{
        char id[UUID_LEN + 1], other[UUID_LEN + 1], want[512], *out;

        snapshot_of("/dev/fake/a", id);
        snapshot_of("/dev/fake/b", other);
        /* Progress comes from the copy-on-write usage: once vssd knows it. */
        wait_cow_reported(id);
        snprintf(want, sizeof(want), "Reverting /dev/fake/a to snapshot %s...\n"
                                     "  64.0 KiB left to merge\n"
                                     "Reverted /dev/fake/a to snapshot %s.\n", id, id);
        out = expect_vssctl(0, "revert-wait.txt", "revert --wait %s", id);
        ck_assert_str_eq(out, want);
        free(out);

        /* Returned once the snapshot is gone; the other one is untouched. */
        expect_state(id, NULL);
        snprintf(want, sizeof(want), "revert %s", id);
        ck_assert_msg(log_has(want), "the provider never got '%s'", want);
        expect_state(other, "valid");
}
END_TEST

START_TEST(test_revert_wait_json)
{
        char id[UUID_LEN + 1], args[128], want[256];

        snapshot_of("/dev/fake/a", id);
        snprintf(args, sizeof(args), "revert --wait %s", id);
        snprintf(want, sizeof(want), "%s /dev/fake/a merged\n", id);
        expect_json(args, "print(d[\"id\"], d[\"origin\"], d[\"state\"])", want);
        expect_state(id, NULL);
}
END_TEST

/*
 * vssd learns that a merge is done at its next monitor round: setting the
 * interval (root may) decides when that is. The change takes effect at once.
 */
static void set_monitor_interval(unsigned ms)
{
        ck_assert_int_eq(testbus_run(&tb, NULL, "busctl --system set-property org.linuxvss.Vss1 "
                                                "/org/linuxvss/Vss1 org.linuxvss.Vss1 "
                                                "MonitorIntervalMs u %u", ms),
                         0);
}

/* Start "vssctl ARGS" with its output (stdout and stderr) readable line by line as it comes. */
static FILE *vssctl_start(const char *args)
{
        char cmd[PATH_MAX * 3];

        snprintf(cmd, sizeof(cmd), "VSS_BUS_ADDRESS='%s' %s %s 2>&1", tb.address, vssctl_path(),
                 args);
        FILE *p = popen(cmd, "re");
        ck_assert_ptr_nonnull(p);
        return p;
}

/*
 * Without --wait vssctl returns while the merge goes on; a later --wait
 * follows that merge, and returns when vssd announces its end.
 */
START_TEST(test_revert_background_then_wait)
{
        char id[UUID_LEN + 1], args[128], want[512], line[512];

        set_monitor_interval(60000); /* no round during the test unless asked for */
        snapshot_of("/dev/fake/a", id);
        snprintf(args, sizeof(args), "revert %s", id);
        snprintf(want, sizeof(want), "%s /dev/fake/a merging\n", id);
        expect_json(args, "print(d[\"id\"], d[\"origin\"], d[\"state\"])", want);
        expect_state(id, "merging");
        /* Reverting twice is refused, and says why. */
        expect_containing(1, "is being merged into /dev/fake/a", "%s", args);

        /* Its first line says it listens to vssd: only then may the merge end. */
        snprintf(args, sizeof(args), "revert --wait %s", id);
        FILE *p = vssctl_start(args);
        snprintf(want, sizeof(want), "Reverting /dev/fake/a to snapshot %s...\n", id);
        ck_assert_str_eq(fgets(line, sizeof(line), p) ? line : "(nothing)", want);
        set_monitor_interval(100);
        snprintf(want, sizeof(want), "Reverted /dev/fake/a to snapshot %s.\n", id);
        ck_assert_str_eq(fgets(line, sizeof(line), p) ? line : "(nothing)", want);
        ck_assert_int_eq(pclose(p), 0);
        expect_state(id, NULL);
}
END_TEST

/* vssd stopping ends the wait at once, with a failure that says so. */
START_TEST(test_revert_wait_vssd_leaves)
{
        char id[UUID_LEN + 1], args[128], want[512], line[512];

        set_monitor_interval(60000);
        snapshot_of("/dev/fake/a", id);
        snprintf(args, sizeof(args), "revert --wait %s", id);
        /* After its first line vssctl listens: stopping vssd then cannot go unnoticed. */
        FILE *p = vssctl_start(args);
        snprintf(want, sizeof(want), "Reverting /dev/fake/a to snapshot %s...\n", id);
        ck_assert_str_eq(fgets(line, sizeof(line), p) ? line : "(nothing)", want);
        testbus_stop_vssd(&tb);
        snprintf(want, sizeof(want), "vssctl: cannot finish the merge of snapshot %s: vssd left "
                                     "the bus while snapshot %s was merging; its log says why "
                                     "(journalctl -u vssd)\n", id, id);
        ck_assert_str_eq(fgets(line, sizeof(line), p) ? line : "(nothing)", want);
        ck_assert_int_eq(WEXITSTATUS(pclose(p)), 1);
}
END_TEST

START_TEST(test_revert_refused)
{
        char id[UUID_LEN + 1], mnt[PATH_MAX];

        snapshot_of("/dev/fake/a", id);
        snprintf(mnt, sizeof(mnt), "%s/mnt", tb.dir);
        free(expect_vssctl(0, NULL, "expose %s %s", id, mnt));
        char *out = expect_vssctl(1, NULL, "revert --wait %s", id);
        ck_assert_msg(strstr(out, "Unexpose before Revert"), "%s", out);
        free(out);
        ck_assert(!log_has("revert "));
        expect_state(id, "valid");
}
END_TEST

/* ---- enable and disable --------------------------------------------------------------------------- */

START_TEST(test_enable_disable)
{
        char err_path[PATH_MAX], *out;

        /* The volume alone on stdout, for "vol=$(vssctl enable ...)"; the hint on stderr. */
        snprintf(err_path, sizeof(err_path), "%s/enable.err", tb.dir);
        int r = testbus_run(&tb, &out, "%s enable /dev/fakeplain/data 2>%s; exit $?",
                            vssctl_path(), err_path);
        char *err = testbus_read_file(err_path);
        ck_assert_msg(r == 0, "exit %d:\n%s%s", r, out, err);
        ck_assert_str_eq(out, "/dev/fake/data\n");
        ck_assert_str_eq(err, "Mount /dev/fake/data instead of /dev/fakeplain/data from now on, "
                              "and name it in snapshot sets (vssctl create /dev/fake/data).\n");
        free(out);
        free(err);
        ck_assert(log_has("enable_volume /dev/fakeplain/data"));

        expect_json("enable --provider fake /dev/fakeplain/logs",
                    "print(d[\"device\"], d[\"volume\"])", "/dev/fakeplain/logs /dev/fake/logs\n");

        free(expect_vssctl(0, "disable.txt", "disable /dev/fake/data"));
        ck_assert(log_has("disable_volume /dev/fake/data"));
        expect_json("disable /dev/fake/logs", "print(d[\"volume\"])", "/dev/fake/logs\n");
}
END_TEST

START_TEST(test_enable_disable_refused)
{
        expect_vssctl_unmasked(1, "enable-refused.txt", "enable /dev/sda1");
        expect_containing(1, "cannot enable /dev/fakeplain/x for snapshots: no provider named "
                             "'nope'", "enable --provider nope /dev/fakeplain/x");
        free(expect_vssctl(0, NULL, "enable /dev/fakeplain/data"));
        expect_containing(1, "is enabled already, as /dev/fake/data",
                          "enable /dev/fakeplain/data");

        /* Not while it has snapshots; never what was not enabled. */
        struct created c;
        create_ok(&c, "/dev/fake/data");
        expect_containing(1, "cannot disable /dev/fake/data: ", "disable /dev/fake/data");
        expect_containing(1, "/dev/fake/other is not an enabled volume", "disable /dev/fake/other");
        free(expect_vssctl(0, NULL, "delete --for /dev/fake/data"));
        free(expect_vssctl(0, "disable.txt", "disable /dev/fake/data"));
}
END_TEST

START_TEST(test_expose_default_json)
{
        char id[UUID_LEN + 1], args[128], want[256];

        snapshot_of("/dev/fake/a", id);
        snprintf(args, sizeof(args), "expose %s", id);
        snprintf(want, sizeof(want), "%s /run/vss/expose/%s\n", id, id);
        expect_json(args, "print(d[\"id\"], d[\"exposed_path\"])", want);
        snprintf(args, sizeof(args), "unexpose %s", id);
        snprintf(want, sizeof(want), "%s ''\n", id);
        expect_json(args, "print(d[\"id\"], repr(d[\"exposed_path\"]))", want);
        expect_containing(1, "is not an absolute path", "expose %s relative/dir", id);
}
END_TEST

START_TEST(test_unknown_snapshot)
{
        static const char *const verbs[] = { "expose", "unexpose", "revert", "revert --wait" };

        expect_vssctl_unmasked(1, "expose-unknown.txt",
                               "expose 00000000-0000-0000-0000-000000000000");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                char *out = expect_vssctl(1, NULL, "%s 00000000-0000-0000-0000-000000000000",
                                          verbs[i]);
                ck_assert_msg(strstr(out, "vssd has no snapshot with id "
                                          "00000000-0000-0000-0000-000000000000") &&
                                      strstr(out, "See 'vssctl list shadows'"),
                              "%s: %s", verbs[i], out);
                free(out);
        }
        expect_containing(1, "'not/an/id' is not a snapshot id (a UUID)", "unexpose not/an/id");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("bus: vssctl snapshots");
        TCase *tc = tcase_create("vssctl snapshots");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_empty_arguments_exit_2);
        tcase_add_test(tc, test_missing_and_extra_operands_exit_2);
        tcase_add_test(tc, test_list_shadows_device_state_cow);
        tcase_add_test(tc, test_expose_unexpose);
        tcase_add_test(tc, test_expose_default_json);
        tcase_add_test(tc, test_revert_wait);
        tcase_add_test(tc, test_revert_wait_json);
        tcase_add_test(tc, test_revert_background_then_wait);
        tcase_add_test(tc, test_revert_wait_vssd_leaves);
        tcase_add_test(tc, test_revert_refused);
        tcase_add_test(tc, test_enable_disable);
        tcase_add_test(tc, test_enable_disable_refused);
        tcase_add_test(tc, test_unknown_snapshot);
        suite_add_tcase(s, tc);
        return vssctl_test_run(s);
}
