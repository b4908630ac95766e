/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_bus_providers.c: vssd choosing between providers, with two of them:
 * fake and fake2 (the same test provider built under a second name, from
 * build/tests/providers/pair/), both taking /dev/fake/NAME unless told
 * otherwise. Proves that the provider of highest priority takes a volume
 * both support, that vssd.conf's priority reverses the plugins' own, that a
 * provider the requester names wins, that a refusal passes the volume to the
 * next and VolumeNotSupported gives every reason in that order; the
 * Provider's Priority property and "vssctl list providers" and "list
 * volumes" (which provider takes a device, why not the others); and, with
 * the fake's finish and atomicity settings, a failing finish() aborting the
 * set and a set's Atomicity being the weakest of its providers'.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bus/vssctl-test.h"

#define ROOT "/org/linuxvss/Vss1"
#define IFACE "org.linuxvss.Vss1"
#define PROVIDER_IFACE "org.linuxvss.Vss1.Provider"
#define SET_IFACE "org.linuxvss.Vss1.SnapshotSet"

/* vssd over the pair directory; EXTRA goes on in [provider.fake2]. */
static void start_pair(const char *extra)
{
        char config[2048];

        snprintf(config, sizeof(config),
                 "[daemon]\nprovider_dir = %s\n\n[provider.fake2]\nlog = @DIR@/fake2.log\n"
                 "control = @DIR@/fake2.control\n%s",
                 testbus_daemon_path("tests/providers/pair"), extra ? extra : "");
        vssctl_test_start(config);
}

static void teardown(void)
{
        testbus_stop(&tb);
}

static bool fake2_logged(const char *needle)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/fake2.log", tb.dir);
        char *text = testbus_read_file(path);
        bool found = strstr(text, needle) != NULL;
        free(text);
        return found;
}

/* CreateSnapshotSet of N VOLUMES, with option Provider when PROVIDER is not NULL. */
static DBusMessage *create_sets(const char *const *volumes, int n, const char *provider)
{
        DBusMessage *msg = dbus_message_new_method_call(IFACE, ROOT, IFACE, "CreateSnapshotSet");
        const char *key = "Provider";

        ck_assert_ptr_nonnull(msg);
        ck_assert(dbus_message_append_args(msg, DBUS_TYPE_ARRAY, DBUS_TYPE_STRING, &volumes, n,
                                           DBUS_TYPE_INVALID));
        testbus_append_options(msg, &key, &provider, provider ? 1 : 0);
        return testbus_send_msg(tb.conn, msg);
}

static DBusMessage *create_set(const char *volume, const char *provider)
{
        return create_sets(&volume, 1, provider);
}

/* The set's object path (malloc()ed) from a successful CreateSnapshotSet reply (taken). */
static char *set_path(DBusMessage *reply)
{
        const char *path;

        testbus_expect_ok(reply, "CreateSnapshotSet");
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path,
                                        DBUS_TYPE_INVALID));
        char *ret = strdup(path);
        dbus_message_unref(reply);
        return ret;
}

/* Which provider made the snapshot of VOLUME, as "vssctl --json list shadows" says. */
static void expect_taker(const char *volume, const char *provider)
{
        char code[256], want[256];

        snprintf(code, sizeof(code), "print(\" \".join(s[\"provider\"] for s in d[\"snapshots\"] "
                 "if s[\"origin\"] == \"%s\"))", volume);
        snprintf(want, sizeof(want), "%s\n", provider);
        char *got = json_query("list shadows", code);
        ck_assert_msg(strcmp(got, want) == 0, "%s was snapshotted by '%s', wanted '%s'", volume,
                      got, provider);
        free(got);
}

/* --- priority ---------------------------------------------------------------------- */

START_TEST(test_priority_property_and_list)
{
        start_pair(NULL);
        /* Both at the plugin's 100: by name. */
        ck_assert_uint_eq(testbus_get_uint(&tb, ROOT "/provider/fake2", PROVIDER_IFACE,
                                           "Priority"), 100);
        char *out = json_query("list providers",
                               "print([(p[\"name\"], p[\"priority\"]) for p in d[\"providers\"]])");
        ck_assert_str_eq(out, "[('fake', 100), ('fake2', 100)]\n");
        free(out);
        testbus_stop(&tb);

        start_pair("priority = 300\n");
        ck_assert_uint_eq(testbus_get_uint(&tb, ROOT "/provider/fake2", PROVIDER_IFACE,
                                           "Priority"), 300);
        ck_assert_uint_eq(testbus_get_uint(&tb, ROOT "/provider/fake", PROVIDER_IFACE,
                                           "Priority"), 100);
        out = expect_vssctl(0, NULL, "list providers");
        ck_assert_msg(strncmp(out, "NAME   PRIORITY  ", 17) == 0 &&
                      strstr(out, "\nfake2       300  ") &&
                      strstr(out, "\nfake2 ") < strstr(out, "\nfake "),
                      "list providers:\n%s", out);
        free(out);
        ck_assert(testbus_log_contains(&tb, "loaded provider fake2 1.0 (priority 300)"));
}
END_TEST

START_TEST(test_highest_priority_takes_the_volume)
{
        /* A tie goes by name. */
        start_pair(NULL);
        free(set_path(create_set("/dev/fake/a", NULL)));
        expect_taker("/dev/fake/a", "fake");
        testbus_stop(&tb);

        start_pair("priority = 300\n");
        free(set_path(create_set("/dev/fake/a", NULL)));
        expect_taker("/dev/fake/a", "fake2");
        ck_assert(fake2_logged("prepare "));
        ck_assert(!log_has("prepare "));
        /* vssctl create goes the same way. */
        free(expect_vssctl(0, NULL, "create /dev/fake/b"));
        expect_taker("/dev/fake/b", "fake2");
}
END_TEST

START_TEST(test_config_priority_reverses_it)
{
        start_pair("priority = 300\n[provider.fake]\npriority = 301\n");
        free(set_path(create_set("/dev/fake/a", NULL)));
        expect_taker("/dev/fake/a", "fake");
        ck_assert(!fake2_logged("prepare "));
}
END_TEST

START_TEST(test_named_provider_wins)
{
        start_pair("priority = 300\n");
        free(set_path(create_set("/dev/fake/a", "fake")));
        expect_taker("/dev/fake/a", "fake");
        free(expect_vssctl(0, NULL, "create --provider fake /dev/fake/b"));
        expect_taker("/dev/fake/b", "fake");
        ck_assert(!fake2_logged("prepare "));
        /* Named, it is the only one asked: no falling back to another. */
        testbus_expect_error(create_set("/dev/other/c", "fake2"), "VolumeNotSupported",
                             "fake2: fake2 provider: /dev/other/c is not under /dev/fake/");
}
END_TEST

START_TEST(test_refusal_passes_to_the_next)
{
        start_pair("priority = 300\nvolumes = /dev/fake/b\n");
        free(set_path(create_set("/dev/fake/a", NULL)));
        expect_taker("/dev/fake/a", "fake");
        free(set_path(create_set("/dev/fake/b", NULL)));
        expect_taker("/dev/fake/b", "fake2");
        /* Nobody: every reason, in the order they were asked. */
        DBusMessage *reply = create_set("/dev/other/c", NULL);
        const char *text = testbus_error_text(reply);
        const char *f2 = strstr(text, "fake2: fake2 provider: /dev/other/c is not in its volume "
                                      "list (volumes= in [provider.fake2])");
        const char *f1 = strstr(text, "fake: fake provider: /dev/other/c is not under /dev/fake/");
        ck_assert_msg(f2 && f1 && f2 < f1, "reasons out of order: %s", text);
        testbus_expect_error(reply, "VolumeNotSupported", "no provider can snapshot /dev/other/c");
}
END_TEST

/* --- vssctl list volumes ------------------------------------------------------------ */

/* The first block device "vssctl list volumes" shows, or "" (into BUF). */
static void first_device(char *buf, size_t size)
{
        char *out = json_query("list volumes",
                               "print(d[\"volumes\"][0][\"volume\"] if d[\"volumes\"] else \"\")");
        snprintf(buf, size, "%.*s", (int)strcspn(out, "\n"), out);
        free(out);
}

START_TEST(test_list_volumes_shows_taker_and_reasons)
{
        char device[256], extra[1024], code[512], want[1024];

        start_pair(NULL);
        first_device(device, sizeof(device));
        testbus_stop(&tb);
        if (!device[0])
                return; /* a machine without a block device: nothing to list */

        /* fake2 first by priority, but it does not take DEVICE: fake does. */
        snprintf(extra, sizeof(extra), "priority = 300\nvolumes = /dev/none\n"
                 "[provider.fake]\nvolumes = %s\n", device);
        start_pair(extra);
        snprintf(code, sizeof(code),
                 "v = [v for v in d[\"volumes\"] if v[\"volume\"] == \"%s\"][0]\n"
                 "print(v[\"provider\"])\n"
                 "for p in v[\"providers\"]: print(p[\"name\"], p[\"priority\"], "
                 "p[\"supported\"], p[\"reason\"])", device);
        char *out = json_query("list volumes", code);
        snprintf(want, sizeof(want), "fake\nfake2 300 False fake2 provider: %s is not in its "
                 "volume list (volumes= in [provider.fake2])\nfake 100 True \n", device);
        ck_assert_str_eq(out, want);
        free(out);
        out = expect_vssctl(0, NULL, "list volumes");
        snprintf(want, sizeof(want), "  fake\n    fake2: fake2 provider: %s is not in its volume "
                 "list (volumes= in [provider.fake2])\n", device);
        ck_assert_msg(strncmp(out, "VOLUME ", 7) == 0 && strstr(out, want),
                      "no \"%s\" in:\n%s", want, out);
        free(out);
        testbus_stop(&tb);

        /* Both can: the one that comes later says who comes first. */
        snprintf(extra, sizeof(extra), "priority = 300\nvolumes = %s\n[provider.fake]\n"
                 "volumes = %s\n", device, device);
        start_pair(extra);
        out = expect_vssctl(0, NULL, "list volumes");
        snprintf(want, sizeof(want), "  fake2\n    fake: can snapshot it too, but fake2 comes "
                 "first (priority 300, against 100)\n");
        ck_assert_msg(strstr(out, want), "no \"%s\" in:\n%s", want, out);
        free(out);
}
END_TEST

/* --- finish and atomicity ----------------------------------------------------------- */

START_TEST(test_finish_runs_and_its_failure_aborts)
{
        start_pair(NULL);
        char *set = set_path(create_set("/dev/fake/a", NULL));
        char *id = testbus_get_string(&tb, set, SET_IFACE, "Id");
        char line[256];
        snprintf(line, sizeof(line), "release %s\nfinish %s\n", id, id);
        ck_assert_msg(log_has(line), "no \"%s\" in the fake's log", line);
        free(id);
        free(set);

        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/fake.control", tb.dir);
        FILE *f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        fputs("fail finish ENOSPC\n", f);
        ck_assert_int_eq(fclose(f), 0);
        DBusMessage *reply = create_set("/dev/fake/b", NULL);
        const char *text = testbus_error_text(reply);
        ck_assert_msg(strstr(text, "provider 'fake' failed to finish snapshot set ") &&
                      strstr(text, "fake provider: injected failure at finish"), "%s", text);
        testbus_expect_error(reply, "ProviderFailed", NULL);
        ck_assert(testbus_log_contains(&tb, "failed to finish snapshot set"));
        ck_assert(log_has("finish "));
        /* Undone: the snapshot it made is gone, only the first set's is left. */
        char *out = json_query("list shadows",
                               "print(\" \".join(s[\"origin\"] for s in d[\"snapshots\"]))");
        ck_assert_str_eq(out, "/dev/fake/a\n");
        free(out);
}
END_TEST

START_TEST(test_atomicity_is_the_weakest)
{
        /* fake2 comes first but takes only /dev/fake/w and x, and says writers-only. */
        start_pair("priority = 300\natomicity = writers-only\n"
                   "volumes = /dev/fake/w, /dev/fake/x\n");
        char *one = set_path(create_set("/dev/fake/a", NULL));
        ck_assert(testbus_wait_property(&tb, one, "Atomicity", "one-instant", 5000));
        char *value = testbus_get_string(&tb, one, SET_IFACE, "Atomicity");
        ck_assert_str_eq(value, "one-instant");
        free(value);
        char *weak = set_path(create_set("/dev/fake/w", NULL));
        ck_assert(testbus_wait_property(&tb, weak, "Atomicity", "writers-only", 5000));
        value = testbus_get_string(&tb, weak, SET_IFACE, "Atomicity");
        ck_assert_str_eq(value, "writers-only");
        free(value);
        /* Both providers in one set: the weaker one's. */
        const char *const both[] = { "/dev/fake/b", "/dev/fake/x" };
        char *mixed = set_path(create_sets(both, 2, NULL));
        value = testbus_get_string(&tb, mixed, SET_IFACE, "Atomicity");
        ck_assert_str_eq(value, "writers-only");
        free(value);
        free(mixed);
        free(one);
        free(weak);
        expect_taker("/dev/fake/b", "fake");
        expect_taker("/dev/fake/x", "fake2");
        char *out = json_query("list sets",
                               "print(sorted(s[\"atomicity\"] for s in d[\"snapshot_sets\"]))");
        ck_assert_str_eq(out, "['one-instant', 'writers-only', 'writers-only']\n");
        free(out);
        out = expect_vssctl(0, NULL, "list sets");
        ck_assert_msg(strstr(out, "ATOMICITY") && strstr(out, "  writers-only") &&
                      strstr(out, "  one-instant"), "%s", out);
        free(out);
        /* vssctl create says it, in words and in JSON. */
        out = expect_vssctl(0, NULL, "create /dev/fake/x");
        ck_assert_msg(strstr(out, "\nAtomicity: writers-only\n"), "vssctl create: %s", out);
        free(out);
        out = expect_vssctl(0, NULL, "--json create /dev/fake/c");
        ck_assert_msg(strstr(out, "\"atomicity\": \"one-instant\""), "vssctl --json create: %s",
                      out);
        free(out);
}
END_TEST

static Suite *providers_suite(void)
{
        Suite *s = suite_create("bus_providers");
        TCase *tc = tcase_create("providers");

        tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_priority_property_and_list);
        tcase_add_test(tc, test_highest_priority_takes_the_volume);
        tcase_add_test(tc, test_config_priority_reverses_it);
        tcase_add_test(tc, test_named_provider_wins);
        tcase_add_test(tc, test_refusal_passes_to_the_next);
        tcase_add_test(tc, test_list_volumes_shows_taker_and_reasons);
        tcase_add_test(tc, test_finish_runs_and_its_failure_aborts);
        tcase_add_test(tc, test_atomicity_is_the_weakest);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return vssctl_test_run(providers_suite());
}
