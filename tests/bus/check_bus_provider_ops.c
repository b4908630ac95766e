/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_bus_provider_ops.c: what vssd hands a provider as it is, against the
 * real vssd with the fake provider: EnableVolume's options (strings only,
 * every one but Provider reaching the provider, which judges them), a new
 * volume's name without '/', the pass-on between providers (a "not mine"
 * asks the next one; any other answer is final), Provider.AddStorage and
 * RemoveStorage (root only, names checked before the provider is asked,
 * NotSupported from a provider that makes no storage), ListStorage's Name,
 * Kind and metadata keys, and "vssctl enable --thin", "vssctl storage add
 * --thin-pool", "storage remove" and "storage list" on top of libvss.
 *
 * The pass-on needs two providers: the "pair" directory holds the fake and
 * fake2 (the same code under another name), asked in that order.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bus/vssctl-test.h"

#define ROOT "/org/linuxvss/Vss1"
#define IFACE "org.linuxvss.Vss1"
#define FAKE_PATH ROOT "/provider/fake"
#define FAKE2_PATH ROOT "/provider/fake2"
#define PROVIDER_IFACE IFACE ".Provider"
#define INVALID_ARGS "InvalidArgs"
#define UID_DAEMON 1

#define CONFIG "state = @DIR@/fake.state\n"

static void setup(void)
{
        vssctl_test_start(CONFIG);
}

/* fake, without storage of its own, and fake2, each with its log and control file. */
static void setup_pair(void)
{
        char config[2048];
        snprintf(config, sizeof(config),
                 "storage = none\n\n[daemon]\nprovider_dir = %s\n\n[provider.fake2]\n"
                 "log = @DIR@/fake2.log\ncontrol = @DIR@/fake2.control\n",
                 testbus_daemon_path("tests/providers/pair"));
        vssctl_test_start(config);
}

static void teardown(void)
{
        testbus_stop(&tb);
}

/* ---- helpers -------------------------------------------------------------------------------- */

/* METHOD(s ARG, a{sv} {KEYS: VALUES}) on PATH; N_OPTIONS < 0: no a{sv} at all. */
static DBusMessage *call_msg(const char *path, const char *iface, const char *method,
                             const char *arg, const char *const *keys, const char *const *values,
                             int n_options)
{
        DBusMessage *m = dbus_message_new_method_call(IFACE, path, iface, method);
        ck_assert_ptr_nonnull(m);
        ck_assert(dbus_message_append_args(m, DBUS_TYPE_STRING, &arg, DBUS_TYPE_INVALID));
        if (n_options >= 0)
                testbus_append_options(m, keys, values, n_options);
        return m;
}

static DBusMessage *enable(const char *device, const char *const *keys,
                           const char *const *values, int n)
{
        return testbus_send_msg(tb.conn, call_msg(ROOT, IFACE, "EnableVolume", device, keys,
                                                  values, n));
}

static DBusMessage *disable(const char *volume)
{
        return testbus_send_msg(tb.conn, call_msg(ROOT, IFACE, "DisableVolume", volume, NULL,
                                                  NULL, 0));
}

static DBusMessage *add_storage(const char *path, const char *name, const char *const *keys,
                                const char *const *values, int n)
{
        return testbus_send_msg(tb.conn, call_msg(path, PROVIDER_IFACE, "AddStorage", name, keys,
                                                  values, n));
}

static DBusMessage *remove_storage(const char *path, const char *name)
{
        return testbus_send_msg(tb.conn, call_msg(path, PROVIDER_IFACE, "RemoveStorage", name,
                                                  NULL, NULL, -1));
}

/* The pool P on the fake: data /srv/P.data, metadata /srv/P.meta, 2G of data. */
static DBusMessage *add_pool(const char *path, const char *name)
{
        char data[128], meta[128];
        snprintf(data, sizeof(data), "/srv/%s.data", name);
        snprintf(meta, sizeof(meta), "/srv/%s.meta", name);
        return add_storage(path, name, (const char *[]){ "Data", "Metadata", "DataSize" },
                           (const char *[]){ data, meta, "2G" }, 3);
}

/* The string reply of REPLY (unref'd); malloc()ed. */
static char *reply_string(DBusMessage *reply, const char *what)
{
        const char *s;
        testbus_expect_ok(reply, what);
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &s, DBUS_TYPE_INVALID));
        char *copy = strdup(s);
        dbus_message_unref(reply);
        return copy;
}

static void ok(DBusMessage *reply, const char *what)
{
        testbus_expect_ok(reply, what);
        dbus_message_unref(reply);
}

static void expect_enabled(DBusMessage *reply, const char *want)
{
        char *volume = reply_string(reply, "EnableVolume");
        ck_assert_str_eq(volume, want);
        free(volume);
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

static void write_control(const char *name, const char *text)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s.control", tb.dir, name);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        ck_assert_int_eq(fclose(f), 0);
}

/*
 * Each ListStorage entry of the provider at PATH as "Name|Kind|Volume|DiffArea|
 * UsedBytes|AllocatedBytes|MaxSize|MaxBytes|MetadataUsedBytes|MetadataSizeBytes\n",
 * the keys in that order whatever order vssd sent them in; malloc()ed.
 */
static char *list_storage(const char *path)
{
        static const char *const keys[] = { "Name", "Kind", "Volume", "DiffArea", "UsedBytes",
                                            "AllocatedBytes", "MaxSize", "MaxBytes",
                                            "MetadataUsedBytes", "MetadataSizeBytes" };
        DBusMessage *reply = testbus_call(&tb, path, PROVIDER_IFACE, "ListStorage",
                                          DBUS_TYPE_INVALID);
        DBusMessageIter iter, array, dict;
        char *out = calloc(1, 8192);
        ck_assert_ptr_nonnull(out);
        testbus_expect_ok(reply, "ListStorage");
        dbus_message_iter_init(reply, &iter);
        dbus_message_iter_recurse(&iter, &array);
        for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_ARRAY;
             dbus_message_iter_next(&array)) {
                char fields[10][128] = { { 0 } };
                size_t seen = 0;
                dbus_message_iter_recurse(&array, &dict);
                for (; dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY;
                     dbus_message_iter_next(&dict)) {
                        DBusMessageIter entry, v;
                        const char *key, *s;
                        dbus_uint64_t t;
                        dbus_message_iter_recurse(&dict, &entry);
                        dbus_message_iter_get_basic(&entry, &key);
                        dbus_message_iter_next(&entry);
                        dbus_message_iter_recurse(&entry, &v);
                        for (size_t k = 0; k < 10; k++) {
                                if (strcmp(keys[k], key) != 0)
                                        continue;
                                seen++;
                                if (dbus_message_iter_get_arg_type(&v) == DBUS_TYPE_STRING) {
                                        dbus_message_iter_get_basic(&v, &s);
                                        snprintf(fields[k], sizeof(fields[k]), "%s", s);
                                } else {
                                        ck_assert_int_eq(dbus_message_iter_get_arg_type(&v),
                                                         DBUS_TYPE_UINT64);
                                        dbus_message_iter_get_basic(&v, &t);
                                        snprintf(fields[k], sizeof(fields[k]), "%llu",
                                                 (unsigned long long)t);
                                }
                        }
                }
                ck_assert_uint_eq(seen, 10);
                for (size_t k = 0; k < 10; k++)
                        snprintf(out + strlen(out), 8192 - strlen(out), "%s%s", fields[k],
                                 k < 9 ? "|" : "\n");
        }
        dbus_message_unref(reply);
        return out;
}

static void expect_storage(const char *path, const char *want)
{
        char *got = list_storage(path);
        ck_assert_msg(strcmp(got, want) == 0, "ListStorage:\n%s\nwanted:\n%s", got, want);
        free(got);
}

/* ---- EnableVolume's options ---------------------------------------------------------------- */

START_TEST(test_enable_options_reach_the_provider)
{
        expect_enabled(enable("/dev/fakeplain/x", (const char *[]){ "Label", "Provider" },
                              (const char *[]){ "db data", "fake" }, 2),
                       "/dev/fake/x");
        /* Provider is vssd's; every other option arrives as it was given. */
        ck_assert(log_has("enable_volume /dev/fakeplain/x Label=db data\n"));
        ck_assert(!log_has("Provider="));
}
END_TEST

START_TEST(test_enable_option_not_a_string_is_refused)
{
        DBusMessage *m = dbus_message_new_method_call(IFACE, ROOT, IFACE, "EnableVolume");
        const char *device = "/dev/fakeplain/x", *key = "Label";
        dbus_uint32_t number = 7;
        DBusMessageIter iter, dict, entry, variant;
        dbus_message_iter_init_append(m, &iter);
        ck_assert(dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &device));
        ck_assert(dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}", &dict));
        ck_assert(dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry));
        ck_assert(dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key));
        ck_assert(dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, "u", &variant));
        ck_assert(dbus_message_iter_append_basic(&variant, DBUS_TYPE_UINT32, &number));
        ck_assert(dbus_message_iter_close_container(&entry, &variant));
        ck_assert(dbus_message_iter_close_container(&dict, &entry));
        ck_assert(dbus_message_iter_close_container(&iter, &dict));
        testbus_expect_error(testbus_send_msg(tb.conn, m), INVALID_ARGS,
                             "option Label must be of type 's', not 'u'");
        testbus_expect_error(enable("/dev/fakeplain/x", (const char *[]){ "Label", "Label" },
                                    (const char *[]){ "a", "b" }, 2),
                             INVALID_ARGS, "option Label is given twice");
        /* An option the provider does not know: its refusal, naming it. */
        testbus_expect_error(enable("/dev/fakeplain/x", (const char *[]){ "Colour" },
                                    (const char *[]){ "red" }, 1),
                             INVALID_ARGS, "unknown option \"Colour\"; it takes Label");
        ck_assert(!log_has("enable_volume"));
}
END_TEST

START_TEST(test_enable_name_needs_options)
{
        /* A name alone is refused by vssd; with options it reaches the provider as it is. */
        testbus_expect_error(enable("data", NULL, NULL, 0), INVALID_ARGS,
                             "\"data\" is not an absolute device path");
        testbus_expect_error(enable("dev/fakeplain/x", (const char *[]){ "Label" },
                                    (const char *[]){ "a" }, 1),
                             INVALID_ARGS, "not an absolute device path");
        ck_assert(!log_has("enable_volume"));
        ok(add_pool(FAKE_PATH, "pool1"), "AddStorage");
        expect_enabled(enable("data", (const char *[]){ "ThinPool", "Size" },
                              (const char *[]){ "pool1", "1G" }, 2),
                       "/dev/fake/data");
        ck_assert(log_has("enable_volume data ThinPool=pool1 Size=1G\n"));
        testbus_expect_error(enable("more", (const char *[]){ "ThinPool", "Size" },
                                    (const char *[]){ "nopool", "1G" }, 2),
                             INVALID_ARGS, "there is no pool 'nopool'");
}
END_TEST

/* ---- AddStorage, RemoveStorage, ListStorage ------------------------------------------------ */

START_TEST(test_add_list_remove_pool)
{
        expect_storage(FAKE_PATH, "");
        ok(add_pool(FAKE_PATH, "pool1"), "AddStorage");
        ck_assert(log_has("add_storage pool1 Data=/srv/pool1.data Metadata=/srv/pool1.meta "
                          "DataSize=2G\n"));
        testbus_expect_error(add_pool(FAKE_PATH, "pool1"), "AlreadyExists",
                             "provider 'fake' could not add storage 'pool1': fake provider: "
                             "cannot add pool pool1: it exists already");
        expect_storage(FAKE_PATH, "pool1|thin-pool||/srv/pool1.data|0|2147483648|2G|2147483648|"
                                  "2097152|67108864\n");
        /* A volume in the pool keeps it; a diff area has kind diff-area and no name. */
        expect_enabled(enable("/dev/fakeplain/v", (const char *[]){ "ThinPool" },
                              (const char *[]){ "pool1" }, 1),
                       "/dev/fake/v");
        ok(testbus_send_msg(tb.conn, call_msg(FAKE_PATH, PROVIDER_IFACE, "SetStorage",
                                              "/dev/fake/a", (const char *[]){ "MaxSize" },
                                              (const char *[]){ "1G" }, 1)),
           "SetStorage");
        expect_storage(FAKE_PATH,
                       "|diff-area|/dev/fake/a|/var/lib/fake/diff|0|0|1G|1073741824|0|0\n"
                       "pool1|thin-pool||/srv/pool1.data|67108864|2147483648|2G|2147483648|"
                       "2097152|67108864\n");
        testbus_expect_error(remove_storage(FAKE_PATH, "pool1"), "Busy",
                             "pool 'pool1' still holds 1 volume(s)");
        ok(disable("/dev/fake/v"), "DisableVolume");
        ok(remove_storage(FAKE_PATH, "pool1"), "RemoveStorage");
        ck_assert(log_has("remove_storage pool1\n"));
        testbus_expect_error(remove_storage(FAKE_PATH, "pool1"), "NotFound",
                             "there is no pool 'pool1'");
        expect_storage(FAKE_PATH,
                       "|diff-area|/dev/fake/a|/var/lib/fake/diff|0|0|1G|1073741824|0|0\n");
}
END_TEST

START_TEST(test_pool_kept_across_restart)
{
        ok(add_pool(FAKE_PATH, "keep"), "AddStorage");
        ck_assert_int_eq(testbus_stop_vssd(&tb), 0);
        ck_assert(testbus_start_vssd(&tb, NULL));
        expect_storage(FAKE_PATH, "keep|thin-pool||/srv/keep.data|0|2147483648|2G|2147483648|"
                                  "2097152|67108864\n");
}
END_TEST

START_TEST(test_storage_names_checked_before_the_provider)
{
        char long_name[80];
        memset(long_name, 'p', 65);
        long_name[65] = '\0';
        testbus_expect_error(add_pool(FAKE_PATH, ""), INVALID_ARGS,
                             "AddStorage needs a name of 1 to 64 characters, not 0");
        testbus_expect_error(add_pool(FAKE_PATH, long_name), INVALID_ARGS, "not 65");
        testbus_expect_error(add_pool(FAKE_PATH, "a/b"), INVALID_ARGS,
                             "the name \"a/b\" has '/' at 2; use letters, digits and _ . + - "
                             "only");
        testbus_expect_error(add_pool(FAKE_PATH, "my pool"), INVALID_ARGS, "has ' ' at 3");
        testbus_expect_error(remove_storage(FAKE_PATH, "../x"), INVALID_ARGS,
                             "RemoveStorage: the name \"../x\" has '/' at 3");
        ck_assert(!log_has("add_storage") && !log_has("remove_storage"));
        /* A name of 64 of every allowed kind passes. */
        memset(long_name, 'p', 64);
        memcpy(long_name, "A-z_0.9+", 8);
        long_name[64] = '\0';
        ok(add_pool(FAKE_PATH, long_name), "AddStorage of a 64-character name");
}
END_TEST

/* Another uid: refused before the provider hears of it. */
static void as_daemon(DBusConnection *conn, int report_fd, void *userdata)
{
        testbus_report(report_fd, testbus_child_call(conn, call_msg(FAKE_PATH, PROVIDER_IFACE,
                                                                    "AddStorage", "p",
                                                                    NULL, NULL, 0)));
        testbus_report(report_fd, testbus_child_call(conn, call_msg(FAKE_PATH, PROVIDER_IFACE,
                                                                    "RemoveStorage", "p",
                                                                    NULL, NULL, -1)));
        testbus_report(report_fd, testbus_child_call(conn, dbus_message_new_method_call(
                                                                   IFACE, FAKE_PATH,
                                                                   PROVIDER_IFACE,
                                                                   "ListStorage")));
}

START_TEST(test_add_remove_are_root_only)
{
        DBusMessage *replies[3] = { NULL };
        testbus_open_to_all(&tb);
        ck_assert_uint_eq(testbus_run_as(&tb, UID_DAEMON, as_daemon, NULL, replies, 3), 3);
        testbus_expect_error(replies[0], "AccessDenied", "AddStorage is for root only; uid 1");
        testbus_expect_error(replies[1], "AccessDenied", "RemoveStorage is for root only");
        ck_assert_msg(replies[2] != NULL, "no reply to ListStorage");
        ck_assert_ptr_null(testbus_error_name(replies[2])); /* anyone may list */
        dbus_message_unref(replies[2]);
        ck_assert(!log_has("add_storage") && !log_has("remove_storage"));
}
END_TEST

START_TEST(test_provider_without_storage)
{
        testbus_stop(&tb);
        vssctl_test_start("storage = none\n");
        testbus_expect_error(add_pool(FAKE_PATH, "pool1"), "NotSupported",
                             "provider 'fake' makes no storage of its own");
        testbus_expect_error(remove_storage(FAKE_PATH, "pool1"), "NotSupported",
                             "provider 'fake' makes no storage of its own");
        expect_exact(1, "vssctl: cannot add thin pool pool1: no loaded provider makes storage "
                        "of its own (a provider such as dm-thin does; 'vssctl list providers' "
                        "shows those loaded)\n",
                     "storage add --thin-pool pool1 --data /d --metadata /m");
        ck_assert(!log_has("add_storage"));
}
END_TEST

/* ---- vssctl --------------------------------------------------------------------------------- */

START_TEST(test_vssctl_pool_lifecycle)
{
        /* The pool as 'storage list' shows it; what to do next on stderr. */
        char *out = expect_vssctl(0, NULL, "storage add --thin-pool pool1 --data /srv/pool1.data "
                                           "--metadata /srv/pool1.meta --data-size 1G "
                                           "--chunk-size 64K");
        ck_assert_msg(strstr(out, "NAME   KIND       PROVIDER  DATA             DATA USED  "
                                  "DATA SIZE  METADATA USED  METADATA SIZE\n"
                                  "pool1  thin-pool  fake      /srv/pool1.data        0 B    "
                                  "1.0 GiB        2.0 MiB       64.0 MiB\n") &&
                      strstr(out, "Added thin pool pool1 on provider fake; make volumes in it "
                                  "with 'vssctl enable --thin pool1 ...'.\n"), "%s", out);
        free(out);
        ck_assert(log_has("add_storage pool1 Data=/srv/pool1.data Metadata=/srv/pool1.meta "
                          "DataSize=1G ChunkSize=64K\n"));
        out = expect_vssctl(0, NULL, "enable --thin pool1 --size 10G db");
        ck_assert_msg(strstr(out, "/dev/fake/db\n") &&
                      strstr(out, "Make a file system on /dev/fake/db, mount it, and name it "
                                  "in snapshot sets (vssctl create /dev/fake/db).\n"), "%s", out);
        free(out);
        ck_assert(log_has("enable_volume db ThinPool=pool1 Size=10G\n"));
        free(expect_vssctl(0, NULL, "storage add --for /dev/fake/a --maxsize 1G"));
        /* Both kinds, each readable: the diff areas, then the pools. */
        expect_exact(0,
                     "VOLUME       PROVIDER  DIFF AREA           USED  ALLOCATED  MAXIMUM\n"
                     "/dev/fake/a  fake      /var/lib/fake/diff   0 B        0 B  1G (1.0 GiB)\n"
                     "\n"
                     "NAME   KIND       PROVIDER  DATA             DATA USED  DATA SIZE  "
                     "METADATA USED  METADATA SIZE\n"
                     "pool1  thin-pool  fake      /srv/pool1.data   64.0 MiB    1.0 GiB  "
                     "      2.0 MiB       64.0 MiB\n",
                     "storage list");
        char *got = json_query("list storage",
                               "for s in d[\"storage\"]:\n"
                               "    print(s[\"name\"], s[\"kind\"], s[\"volume\"], "
                               "s[\"used_bytes\"], s[\"allocated_bytes\"], "
                               "s[\"metadata_used_bytes\"], s[\"metadata_size_bytes\"])");
        ck_assert_str_eq(got, "pool1 thin-pool  67108864 1073741824 2097152 67108864\n"
                              " diff-area /dev/fake/a 0 0 0 0\n");
        free(got);
        out = expect_vssctl(1, NULL, "storage remove --thin-pool pool1");
        ck_assert_msg(strstr(out, "vssctl: cannot remove thin pool pool1: provider 'fake' could "
                                  "not remove storage 'pool1': fake provider: pool 'pool1' "
                                  "still holds 1 volume(s)"), "%s", out);
        free(out);
        free(expect_vssctl(0, NULL, "disable /dev/fake/db"));
        expect_exact(0, "Removed thin pool pool1 from provider fake.\n",
                     "storage remove --thin-pool pool1");
        expect_exact(0,
                     "VOLUME       PROVIDER  DIFF AREA           USED  ALLOCATED  MAXIMUM\n"
                     "/dev/fake/a  fake      /var/lib/fake/diff   0 B        0 B  1G (1.0 GiB)\n",
                     "storage list");
}
END_TEST

START_TEST(test_vssctl_usage_errors)
{
        static const struct {
                const char *args, *want;
        } cases[] = {
                { "storage add --thin-pool p --data /d",
                  "'storage add --thin-pool' needs --data PATH and --metadata PATH" },
                { "storage add --thin-pool p --data /d --metadata /m --for /dev/fake/a",
                  "is about a pool, not a volume's diff area: leave out --for" },
                { "storage add --for /dev/fake/a --maxsize 1G --data /d",
                  "--data is for a thin pool: give --thin-pool NAME" },
                { "storage remove", "'storage remove' needs --thin-pool NAME" },
                { "storage remove --thin-pool p --data-size 1G",
                  "'storage remove' takes only --thin-pool and --provider, not --data-size" },
                { "storage resize --thin-pool p", "'storage resize' changes a volume's maximum" },
                { "storage list --for /dev/fake/a", "'storage list' takes no options" },
                { "enable --size 1G db", "'enable --size' makes a new thin volume: give its "
                                         "pool with --thin POOL" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *out = expect_vssctl(2, NULL, "%s", cases[i].args);
                ck_assert_msg(strstr(out, cases[i].want), "%s:\n%s", cases[i].args, out);
                free(out);
        }
        ck_assert(!log_has("add_storage") && !log_has("remove_storage") &&
                  !log_has("enable_volume"));
}
END_TEST

/* ---- two providers: the pass-on ------------------------------------------------------------- */

START_TEST(test_providers_in_order)
{
        DBusMessage *reply = testbus_call(&tb, ROOT, "org.freedesktop.DBus.Properties", "Get",
                                          DBUS_TYPE_STRING, &(const char *){ IFACE },
                                          DBUS_TYPE_STRING, &(const char *){ "Providers" },
                                          DBUS_TYPE_INVALID);
        DBusMessageIter iter, variant, array;
        const char *names[2];
        testbus_expect_ok(reply, "Get Providers");
        dbus_message_iter_init(reply, &iter);
        dbus_message_iter_recurse(&iter, &variant);
        ck_assert_int_eq(dbus_message_iter_get_arg_type(&variant), DBUS_TYPE_ARRAY);
        dbus_message_iter_recurse(&variant, &array);
        for (int i = 0; i < 2; i++, dbus_message_iter_next(&array)) {
                ck_assert_int_eq(dbus_message_iter_get_arg_type(&array), DBUS_TYPE_STRING);
                dbus_message_iter_get_basic(&array, &names[i]);
        }
        ck_assert_int_eq(dbus_message_iter_get_arg_type(&array), DBUS_TYPE_INVALID);
        ck_assert_str_eq(names[0], "fake");
        ck_assert_str_eq(names[1], "fake2");
        dbus_message_unref(reply);
}
END_TEST

START_TEST(test_enable_passes_on_not_supported)
{
        /* The first provider takes what it supports; the second is not asked. */
        expect_enabled(enable("/dev/fakeplain/a", NULL, NULL, 0), "/dev/fake/a");
        ck_assert(log_has("enable_volume /dev/fakeplain/a") &&
                  !fake2_logged("enable_volume"));
        /* "Not mine" passes to the next, options and all. */
        write_control("fake", "fail enable_volume VOLUME_NOT_SUPPORTED\n");
        expect_enabled(enable("/dev/fakeplain/b", (const char *[]){ "Label" },
                              (const char *[]){ "b" }, 1),
                       "/dev/fake/b");
        ck_assert(log_has("enable_volume /dev/fakeplain/b Label=b"));
        ck_assert(fake2_logged("enable_volume /dev/fakeplain/b Label=b"));
        /* Named, a provider's "not mine" is final. */
        testbus_expect_error(enable("/dev/fakeplain/c", (const char *[]){ "Provider" },
                                    (const char *[]){ "fake" }, 1),
                             "VolumeNotSupported", "provider 'fake' could not enable "
                                                   "/dev/fakeplain/c");
        ck_assert(!fake2_logged("/dev/fakeplain/c"));
        /* Every provider passing: each one's reason. */
        write_control("fake2", "fail enable_volume VOLUME_NOT_SUPPORTED\n");
        DBusMessage *reply = enable("/dev/fakeplain/d", NULL, NULL, 0);
        ck_assert_str_eq(testbus_error_name(reply), "org.linuxvss.Vss1.Error.VolumeNotSupported");
        const char *text = testbus_error_text(reply);
        ck_assert_msg(strstr(text, "no provider can enable /dev/fakeplain/d: fake: ") &&
                      strstr(text, "; fake2: "), "%s", text);
        dbus_message_unref(reply);
}
END_TEST

START_TEST(test_other_refusals_are_final)
{
        write_control("fake", "fail enable_volume EBUSY\n");
        testbus_expect_error(enable("/dev/fakeplain/a", NULL, NULL, 0), "Busy",
                             "provider 'fake' could not enable /dev/fakeplain/a");
        ck_assert(!fake2_logged("enable_volume"));
}
END_TEST

START_TEST(test_disable_reaches_the_owner)
{
        expect_enabled(enable("/dev/fakeplain/b", (const char *[]){ "Provider" },
                              (const char *[]){ "fake2" }, 1),
                       "/dev/fake/b");
        /* fake did not enable it (ENOENT): fake2, which did, disables it. */
        ok(disable("/dev/fake/b"), "DisableVolume");
        ck_assert(log_has("disable_volume /dev/fake/b"));
        ck_assert(fake2_logged("disable_volume /dev/fake/b"));
        DBusMessage *reply = disable("/dev/fake/b");
        ck_assert_str_eq(testbus_error_name(reply), "org.linuxvss.Vss1.Error.NotFound");
        ck_assert_msg(strstr(testbus_error_text(reply), "no provider has enabled /dev/fake/b: "
                                                        "fake: ") &&
                      strstr(testbus_error_text(reply), "; fake2: "),
                      "%s", testbus_error_text(reply));
        dbus_message_unref(reply);
}
END_TEST

START_TEST(test_vssctl_pool_goes_to_the_provider_that_makes_storage)
{
        /* fake makes no storage: without --provider the pool goes to fake2. */
        char *out = expect_vssctl(0, NULL, "storage add --thin-pool p --data /d --metadata /m");
        ck_assert_msg(strstr(out, "Added thin pool p on provider fake2;") &&
                      strstr(out, "p     thin-pool  fake2"), "%s", out);
        free(out);
        ck_assert(fake2_logged("add_storage p Data=/d Metadata=/m\n"));
        expect_exact(0, "Removed thin pool p from provider fake2.\n",
                     "storage remove --thin-pool p");
        out = expect_vssctl(1, NULL, "storage add --thin-pool p --data /d --metadata /m "
                                     "--provider fake");
        ck_assert_msg(strstr(out, "provider 'fake' makes no storage of its own"), "%s", out);
        free(out);
}
END_TEST

static Suite *provider_ops_suite(void)
{
        Suite *s = suite_create("bus_provider_ops");
        TCase *tc = tcase_create("one");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_enable_options_reach_the_provider);
        tcase_add_test(tc, test_enable_option_not_a_string_is_refused);
        tcase_add_test(tc, test_enable_name_needs_options);
        tcase_add_test(tc, test_add_list_remove_pool);
        tcase_add_test(tc, test_pool_kept_across_restart);
        tcase_add_test(tc, test_storage_names_checked_before_the_provider);
        tcase_add_test(tc, test_add_remove_are_root_only);
        tcase_add_test(tc, test_provider_without_storage);
        tcase_add_test(tc, test_vssctl_pool_lifecycle);
        tcase_add_test(tc, test_vssctl_usage_errors);
        suite_add_tcase(s, tc);

        tc = tcase_create("pair");
        tcase_add_checked_fixture(tc, setup_pair, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_providers_in_order);
        tcase_add_test(tc, test_enable_passes_on_not_supported);
        tcase_add_test(tc, test_other_refusals_are_final);
        tcase_add_test(tc, test_disable_reaches_the_owner);
        tcase_add_test(tc, test_vssctl_pool_goes_to_the_provider_that_makes_storage);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return vssctl_test_run(provider_ops_suite());
}
