/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_bus_storage.c: shadow storage against the real vssd with the fake
 * provider: Provider.ListStorage and SetStorage on the bus (arguments checked
 * before the provider sees them, the provider's refusals passed on, a
 * provider without the notion answering NotSupported), "vssctl list storage"
 * and "vssctl storage add|resize" (and through them libvss), settings kept
 * across a vssd restart, and "vssctl list volumes".
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bus/vssctl-test.h"

#define FAKE_PATH "/org/linuxvss/Vss1/provider/fake"
#define PROVIDER_IFACE "org.linuxvss.Vss1.Provider"
#define INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"
#define GIB (1024ull * 1024 * 1024)

/* The fake keeps its snapshots and storage settings in a file: a restarted vssd finds them. */
#define CONFIG "state = @DIR@/fake.state\n\n[daemon]\nmonitor_interval_ms = 60000\n"

static void setup(void)
{
        vssctl_test_start(CONFIG);
}

static void teardown(void)
{
        testbus_stop(&tb);
}

/* SetStorage(VOLUME, {KEYS: VALUES}) on the fake provider. */
static DBusMessage *set_storage(const char *volume, const char *const *keys,
                                const char *const *values, size_t n)
{
        DBusMessage *m = dbus_message_new_method_call("org.linuxvss.Vss1", FAKE_PATH,
                                                      PROVIDER_IFACE, "SetStorage");
        ck_assert_ptr_nonnull(m);
        ck_assert(dbus_message_append_args(m, DBUS_TYPE_STRING, &volume, DBUS_TYPE_INVALID));
        testbus_append_options(m, keys, values, n);
        return testbus_send_msg(tb.conn, m);
}

/* "VOLUME DIFF_AREA USED ALLOCATED MAX_SIZE MAX_BYTES" per entry, as vssctl's JSON has it. */
static char *json_storage(void)
{
        return json_query("list storage",
                          "for s in d[\"storage\"]:\n"
                          "    print(s[\"volume\"], s[\"provider\"], s[\"diff_area\"], "
                          "s[\"used_bytes\"], s[\"allocated_bytes\"], s[\"max_size\"], "
                          "s[\"max_bytes\"])");
}

static void expect_json_storage(const char *want)
{
        char *got = json_storage();
        ck_assert_msg(strcmp(got, want) == 0, "list storage:\n%s\nwanted:\n%s", got, want);
        free(got);
}

START_TEST(test_bus_set_and_list)
{
        DBusMessage *reply = testbus_call(&tb, FAKE_PATH, PROVIDER_IFACE, "ListStorage",
                                          DBUS_TYPE_INVALID);
        testbus_expect_ok(reply, "ListStorage");
        ck_assert_str_eq(dbus_message_get_signature(reply), "aa{sv}");
        dbus_message_unref(reply);
        expect_json_storage("");

        reply = set_storage("/dev/fake/a", (const char *[]){ "MaxSize", "DiffArea" },
                            (const char *[]){ "15%", "/srv/shadow" }, 2);
        testbus_expect_ok(reply, "SetStorage");
        dbus_message_unref(reply);
        ck_assert(log_has("set_storage /dev/fake/a 15% /srv/shadow\n"));
        expect_json_storage("/dev/fake/a fake /srv/shadow 0 0 15% 1610612736\n");

        /* MaxSize alone keeps the diff area; unbounded has no byte figure. */
        reply = set_storage("/dev/fake/a", (const char *[]){ "MaxSize" },
                            (const char *[]){ "unbounded" }, 1);
        testbus_expect_ok(reply, "SetStorage");
        dbus_message_unref(reply);
        expect_json_storage("/dev/fake/a fake /srv/shadow 0 0 unbounded None\n");
}
END_TEST

/* Bad arguments stop at vssd: the provider is not asked and nothing changes. */
START_TEST(test_bus_bad_arguments)
{
        testbus_expect_error(set_storage("/dev/fake/a", NULL, NULL, 0), "InvalidArgs",
                             "needs MaxSize, DiffArea or both");
        testbus_expect_error(set_storage("/dev/fake/a", (const char *[]){ "Size" },
                                         (const char *[]){ "1G" }, 1),
                             "InvalidArgs", "unknown option \"Size\"");
        testbus_expect_error(set_storage("dev/fake/a", (const char *[]){ "MaxSize" },
                                         (const char *[]){ "1G" }, 1),
                             "InvalidArgs", "not an absolute device path");
        testbus_expect_error(set_storage("/dev/fake/a", (const char *[]){ "DiffArea" },
                                         (const char *[]){ "shadow" }, 1),
                             "InvalidArgs", "DiffArea \"shadow\" is not an absolute path");
        testbus_expect_error(set_storage("/dev/fake/a", (const char *[]){ "MaxSize" },
                                         (const char *[]){ "" }, 1),
                             "InvalidArgs", "option MaxSize is empty");
        ck_assert(!log_has("set_storage"));
        expect_json_storage("");
}
END_TEST

/* What the provider refuses comes back with its reason, naming the figures. */
START_TEST(test_bus_provider_refusals)
{
        free(expect_vssctl(0, NULL, "create /dev/fake/a"));
        testbus_expect_error(set_storage("/dev/fake/a", (const char *[]){ "MaxSize" },
                                         (const char *[]){ "32K" }, 1),
                             "InvalidArgs", "below the 65536 bytes its 1 snapshot(s) already use");
        testbus_expect_error(set_storage("/dev/fake/b", (const char *[]){ "DiffArea" },
                                         (const char *[]){ "/fake/b/shadow" }, 1),
                             "InvalidArgs", "it is on that volume itself");
        testbus_expect_error(set_storage("/dev/fake/a", (const char *[]){ "DiffArea" },
                                         (const char *[]){ "/srv/elsewhere" }, 1),
                             "Busy", "has 1 snapshot(s) with their stores in /var/lib/fake/diff");
        testbus_expect_error(set_storage("/dev/fake/a", (const char *[]){ "MaxSize" },
                                         (const char *[]){ "lots" }, 1),
                             "InvalidArgs", "\"lots\" is not a size");
        /* Only the volume with a snapshot is listed, with the defaults. */
        expect_json_storage("/dev/fake/a fake /var/lib/fake/diff 65536 1073741824 unbounded "
                            "None\n");
}
END_TEST

START_TEST(test_vssctl_add_and_resize)
{
        expect_exact(0, "No shadow storage (set some with 'vssctl storage add').\n",
                     "list storage");
        expect_exact(0,
                     "VOLUME       PROVIDER  DIFF AREA           USED  ALLOCATED  MAXIMUM\n"
                     "/dev/fake/a  fake      /var/lib/fake/diff   0 B        0 B  15% (1.5 GiB)\n",
                     "storage add --for /dev/fake/a --maxsize 15%");
        expect_exact(0,
                     "VOLUME       PROVIDER  DIFF AREA  USED  ALLOCATED  MAXIMUM\n"
                     "/dev/fake/a  fake      /srv/vss    0 B        0 B  2G (2.0 GiB)\n",
                     "storage add --for /dev/fake/a --maxsize 2G --on /srv/vss --provider fake");
        expect_exact(0,
                     "VOLUME       PROVIDER  DIFF AREA  USED  ALLOCATED  MAXIMUM\n"
                     "/dev/fake/a  fake      /srv/vss    0 B        0 B  unbounded\n",
                     "storage resize --for /dev/fake/a --maxsize unbounded");
        expect_exact(1,
                     "vssctl: cannot resize the shadow storage of /dev/fake/b: it has none; "
                     "create it with 'vssctl storage add --for /dev/fake/b --maxsize 1G'\n",
                     "storage resize --for /dev/fake/b --maxsize 1G");
        char *out = expect_vssctl(1, NULL, "storage add --for /dev/fake/b --maxsize 1G "
                                           "--on /fake/b/vss");
        ck_assert_msg(strstr(out, "vssctl: cannot add the shadow storage of /dev/fake/b: ") &&
                      strstr(out, "the diff area /fake/b/vss cannot hold snapshots of "
                                  "/dev/fake/b: it is on that volume itself"), "%s", out);
        free(out);
        expect_json_storage("/dev/fake/a fake /srv/vss 0 0 unbounded None\n");
}
END_TEST

START_TEST(test_vssctl_usage_errors)
{
        char *out = expect_vssctl(2, NULL, "storage add --maxsize 1G");
        ck_assert_msg(strstr(out, "'storage add' needs --for VOLUME"), "%s", out);
        free(out);
        out = expect_vssctl(2, NULL, "storage resize --for /dev/fake/a");
        ck_assert_msg(strstr(out, "'storage resize' needs --maxsize SIZE"), "%s", out);
        free(out);
        out = expect_vssctl(2, NULL, "storage resize --for /dev/fake/a --maxsize 1G --on /x");
        ck_assert_msg(strstr(out, "'storage resize' changes only the maximum"), "%s", out);
        free(out);
        out = expect_vssctl(2, NULL, "storage grow --for /dev/fake/a --maxsize 1G");
        ck_assert_msg(strstr(out, "'storage' can add, resize, remove or list, not 'grow'"), "%s", out);
        free(out);
        out = expect_vssctl(1, NULL, "storage add --for /dev/other --maxsize 1G");
        ck_assert_msg(strstr(out, "cannot add shadow storage for /dev/other: no provider can "
                                  "snapshot it (fake: fake provider: /dev/other is not under "
                                  "/dev/fake/"), "%s", out);
        free(out);
        ck_assert(!log_has("set_storage"));
}
END_TEST

/* Set once, kept by the provider: a new vssd lists it as it was. */
START_TEST(test_kept_across_restart)
{
        free(expect_vssctl(0, NULL, "storage add --for /dev/fake/a --maxsize 3G --on /srv/a"));
        ck_assert_int_eq(testbus_stop_vssd(&tb), 0);
        ck_assert(testbus_start_vssd(&tb, NULL));
        expect_json_storage("/dev/fake/a fake /srv/a 0 0 3G 3221225472\n");
}
END_TEST

/* A provider without the notion: NotSupported naming it; vssctl skips it in listings. */
START_TEST(test_not_supported)
{
        testbus_stop(&tb);
        vssctl_test_start("storage = none\n");
        testbus_expect_error(testbus_call(&tb, FAKE_PATH, PROVIDER_IFACE, "ListStorage",
                                          DBUS_TYPE_INVALID),
                             "NotSupported", "provider 'fake' has no shadow storage");
        testbus_expect_error(set_storage("/dev/fake/a", (const char *[]){ "MaxSize" },
                                         (const char *[]){ "1G" }, 1),
                             "NotSupported", "provider 'fake' has no shadow storage");
        expect_exact(0, "No shadow storage (set some with 'vssctl storage add').\n",
                     "list storage");
        char *out = expect_vssctl(1, NULL, "storage add --for /dev/fake/a --maxsize 1G");
        ck_assert_msg(strstr(out, "cannot add the shadow storage of /dev/fake/a: provider "
                                  "'fake' has no shadow storage"), "%s", out);
        free(out);
}
END_TEST

/* A block device of this machine that "list volumes" must show, or "" if it has none. */
static void some_block_device(char *buf, size_t size)
{
        DIR *d = opendir("/sys/class/block");
        struct dirent *de;
        char path[512], line[64];

        buf[0] = '\0';
        while (d && !buf[0] && (de = readdir(d))) {
                FILE *f;
                if (de->d_name[0] == '.' || strncmp(de->d_name, "loop", 4) == 0 ||
                    strncmp(de->d_name, "ram", 3) == 0 || strncmp(de->d_name, "zram", 4) == 0 ||
                    strncmp(de->d_name, "dm-", 3) == 0)
                        continue;
                snprintf(path, sizeof(path), "/sys/class/block/%s/size", de->d_name);
                if ((f = fopen(path, "re")) && fgets(line, sizeof(line), f) && atoll(line) > 0)
                        snprintf(buf, size, "/dev/%s", de->d_name);
                if (f)
                        fclose(f);
        }
        if (d)
                closedir(d);
}

START_TEST(test_list_volumes)
{
        char device[300], config[512];

        some_block_device(device, sizeof(device));
        testbus_stop(&tb);
        snprintf(config, sizeof(config), "volumes = %s\n", device[0] ? device : "/dev/none");
        vssctl_test_start(config);
        /* No ram disk, no loop device without a file; every entry answered by the fake. */
        char *out = json_query("list volumes",
                               "for v in d[\"volumes\"]:\n"
                               "    n = v[\"volume\"].rsplit(\"/\", 1)[1]\n"
                               "    assert not n.startswith(\"ram\") and not n.startswith(\"zram\"), v\n"
                               "    assert v[\"size_bytes\"] > 0, v\n"
                               "    p = v[\"providers\"]\n"
                               "    assert [a[\"name\"] for a in p] == [\"fake\"], v\n"
                               "    assert p[0][\"supported\"] == (v[\"provider\"] == \"fake\"), v\n"
                               "    assert p[0][\"supported\"] or \"not in its volume list\" in p[0][\"reason\"], v\n"
                               "    if v[\"provider\"]: print(v[\"volume\"], v[\"type\"])");
        if (device[0]) {
                char want[400];
                snprintf(want, sizeof(want), "%s ", device);
                ck_assert_msg(strncmp(out, want, strlen(want)) == 0 && !strchr(out, '\n')[1],
                              "list volumes took %s:\n%s", device, out);
        } else {
                ck_assert_str_eq(out, "");
        }
        free(out);
        out = expect_vssctl(0, NULL, "list volumes");
        ck_assert_msg(strncmp(out, "VOLUME ", 7) == 0 || strcmp(out, "No block devices.\n") == 0,
                      "%s", out);
        free(out);
}
END_TEST

static Suite *storage_suite(void)
{
        Suite *s = suite_create("bus_storage");
        TCase *tc = tcase_create("storage");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_bus_set_and_list);
        tcase_add_test(tc, test_bus_bad_arguments);
        tcase_add_test(tc, test_bus_provider_refusals);
        tcase_add_test(tc, test_vssctl_add_and_resize);
        tcase_add_test(tc, test_vssctl_usage_errors);
        tcase_add_test(tc, test_kept_across_restart);
        tcase_add_test(tc, test_not_supported);
        tcase_add_test(tc, test_list_volumes);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return vssctl_test_run(storage_suite());
}
