/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_bus_daemon.c: the real vssd on a private bus with the project's
 * policy and the fake provider, driven with libdbus, gdbus and busctl:
 * introspection, ObjectManager, properties, provider plugins, bad calls,
 * signals and configuration handling.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/bus/harness.h"

#define ROOT "/org/linuxvss/Vss1"
#define FAKE ROOT "/provider/fake"
#define IFACE "org.linuxvss.Vss1"
#define PROPS "org.freedesktop.DBus.Properties"

static TestBus tb;

static void setup(void)
{
        testbus_start(&tb, NULL);
}

static void teardown(void)
{
        testbus_stop(&tb);
}

static char *introspect(const char *path)
{
        DBusMessage *reply = testbus_call(&tb, path, "org.freedesktop.DBus.Introspectable",
                                          "Introspect", DBUS_TYPE_INVALID);
        const char *xml = NULL;

        ck_assert_msg(!testbus_error_name(reply), "Introspect %s: %s", path,
                      testbus_error_text(reply));
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &xml, DBUS_TYPE_INVALID));
        char *copy = strdup(xml);
        dbus_message_unref(reply);
        return copy;
}

static uint32_t get_u32(const char *path, const char *iface, const char *name)
{
        DBusMessage *reply = testbus_call(&tb, path, PROPS, "Get", DBUS_TYPE_STRING, &iface,
                                          DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID);
        DBusMessageIter iter, variant;
        dbus_uint32_t v = 0;

        ck_assert_msg(!testbus_error_name(reply), "Get %s: %s", name, testbus_error_text(reply));
        dbus_message_iter_init(reply, &iter);
        dbus_message_iter_recurse(&iter, &variant);
        ck_assert_int_eq(dbus_message_iter_get_arg_type(&variant), DBUS_TYPE_UINT32);
        dbus_message_iter_get_basic(&variant, &v);
        dbus_message_unref(reply);
        return v;
}

/* Set a property to a uint32 (or, with AS_STRING, a string) value; returns the reply. */
static DBusMessage *set_prop(const char *name, dbus_uint32_t value, bool as_string)
{
        DBusMessage *msg = dbus_message_new_method_call(IFACE, ROOT, PROPS, "Set");
        const char *iface = IFACE, *s = "5000";
        DBusMessageIter iter, variant;

        dbus_message_iter_init_append(msg, &iter);
        dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &iface);
        dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &name);
        dbus_message_iter_open_container(&iter, DBUS_TYPE_VARIANT, as_string ? "s" : "u", &variant);
        if (as_string)
                dbus_message_iter_append_basic(&variant, DBUS_TYPE_STRING, &s);
        else
                dbus_message_iter_append_basic(&variant, DBUS_TYPE_UINT32, &value);
        dbus_message_iter_close_container(&iter, &variant);
        DBusPendingCall *pending;
        ck_assert(dbus_connection_send_with_reply(tb.conn, msg, &pending, 10000));
        dbus_pending_call_block(pending);
        DBusMessage *reply = dbus_pending_call_steal_reply(pending);
        dbus_pending_call_unref(pending);
        dbus_message_unref(msg);
        return reply;
}

START_TEST(test_introspect_root_from_tables)
{
        char *xml = introspect(ROOT);

        ck_assert_ptr_nonnull(strstr(xml, "<interface name=\"org.linuxvss.Vss1\">"));
        ck_assert_ptr_nonnull(
                strstr(xml, "<property name=\"HoldTimeoutMs\" type=\"u\" access=\"readwrite\"/>"));
        ck_assert_ptr_nonnull(strstr(xml, "<property name=\"Version\" type=\"s\" access=\"read\""));
        ck_assert_ptr_nonnull(strstr(xml, "org.freedesktop.DBus.ObjectManager"));
        ck_assert_ptr_nonnull(strstr(xml, "<node name=\"provider\"/>"));
        free(xml);
        /* Intermediate nodes introspect too, so tools can walk the tree from "/". */
        xml = introspect("/org/linuxvss");
        ck_assert_ptr_nonnull(strstr(xml, "<node name=\"Vss1\"/>"));
        free(xml);
}
END_TEST

START_TEST(test_gdbus_and_busctl_see_the_tree)
{
        char *out;

        ck_assert_int_eq(testbus_run(&tb, &out, "busctl --system tree org.linuxvss.Vss1"), 0);
        ck_assert_msg(strstr(out, FAKE), "busctl tree output: %s", out);
        free(out);
        ck_assert_int_eq(testbus_run(&tb, &out, "gdbus introspect --system -d org.linuxvss.Vss1 "
                                                "-o " FAKE),
                         0);
        ck_assert_msg(strstr(out, "IsVolumeSupported(in  s volume,") &&
                              strstr(out, "out b supported,") && strstr(out, "out s reason);"),
                      "gdbus introspect output: %s", out);
        free(out);
        ck_assert_int_eq(testbus_run(&tb, &out, "busctl --system get-property org.linuxvss.Vss1 "
                                                ROOT " " IFACE " MaxVolumesPerSet"),
                         0);
        ck_assert_str_eq(out, "u 64\n");
        free(out);
}
END_TEST

/* Collect the object paths of GetManagedObjects into BUF (space separated). */
static void managed_paths(char *buf, size_t size)
{
        DBusMessage *reply = testbus_call(&tb, ROOT, "org.freedesktop.DBus.ObjectManager",
                                          "GetManagedObjects", DBUS_TYPE_INVALID);
        DBusMessageIter iter, dict, entry;

        ck_assert(!testbus_error_name(reply));
        ck_assert_str_eq(dbus_message_get_signature(reply), "a{oa{sa{sv}}}");
        buf[0] = '\0';
        dbus_message_iter_init(reply, &iter);
        dbus_message_iter_recurse(&iter, &dict);
        for (; dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&dict)) {
                const char *path;
                dbus_message_iter_recurse(&dict, &entry);
                dbus_message_iter_get_basic(&entry, &path);
                strncat(buf, path, size - strlen(buf) - 2);
                strcat(buf, " ");
        }
        dbus_message_unref(reply);
}

START_TEST(test_plugins_good_loaded_bad_refused)
{
        char paths[4096];

        managed_paths(paths, sizeof(paths));
        ck_assert_str_eq(paths, FAKE " ");
        ck_assert(testbus_log_contains(&tb, "built for provider ABI 5, vssd speaks ABI 4"));
        ck_assert(testbus_log_contains(&tb, "no-symbol.so: no symbol vss_provider_v4"));
        ck_assert(testbus_vssd_alive(&tb));
}
END_TEST

START_TEST(test_provider_properties)
{
        const char *iface = "org.linuxvss.Vss1.Provider";
        char *out;

        ck_assert_int_eq(get_u32(FAKE, iface, "AbiVersion"), 4);
        ck_assert_int_eq(testbus_run(&tb, &out, "busctl --system get-property org.linuxvss.Vss1 "
                                                FAKE " org.linuxvss.Vss1.Provider Name Path"),
                         0);
        ck_assert_msg(strstr(out, "s \"fake\"") && strstr(out, "tests/providers/fake.so\""),
                      "%s", out);
        free(out);
}
END_TEST

START_TEST(test_is_volume_supported)
{
        const char *good = "/dev/fake/data", *bad = "/dev/sda1", *relative = "data";
        const char *iface = "org.linuxvss.Vss1.Provider", *reason;
        dbus_bool_t supported;

        DBusMessage *reply = testbus_call(&tb, FAKE, iface, "IsVolumeSupported", DBUS_TYPE_STRING,
                                          &good, DBUS_TYPE_INVALID);
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_BOOLEAN, &supported,
                                        DBUS_TYPE_STRING, &reason, DBUS_TYPE_INVALID));
        ck_assert(supported);
        ck_assert_str_eq(reason, "");
        dbus_message_unref(reply);

        reply = testbus_call(&tb, FAKE, iface, "IsVolumeSupported", DBUS_TYPE_STRING, &bad,
                             DBUS_TYPE_INVALID);
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_BOOLEAN, &supported,
                                        DBUS_TYPE_STRING, &reason, DBUS_TYPE_INVALID));
        ck_assert(!supported);
        ck_assert_ptr_nonnull(strstr(reason, "/dev/sda1"));
        dbus_message_unref(reply);

        reply = testbus_call(&tb, FAKE, iface, "IsVolumeSupported", DBUS_TYPE_STRING, &relative,
                             DBUS_TYPE_INVALID);
        ck_assert_str_eq(testbus_error_name(reply), "org.linuxvss.Vss1.Error.InvalidArgs");
        ck_assert_ptr_nonnull(strstr(testbus_error_text(reply), "\"data\" is not an absolute"));
        dbus_message_unref(reply);
}
END_TEST

START_TEST(test_set_property_emits_changed)
{
        dbus_bus_add_match(tb.conn, "type='signal',interface='" PROPS "',path='" ROOT "'", NULL);
        DBusMessage *reply = set_prop("HoldTimeoutMs", 2500, false);
        ck_assert_msg(!testbus_error_name(reply), "%s", testbus_error_text(reply));
        dbus_message_unref(reply);
        DBusMessage *sig = testbus_wait_signal(&tb, PROPS, "PropertiesChanged", 5000);
        ck_assert_ptr_nonnull(sig);
        DBusMessageIter iter, dict, entry, variant;
        const char *iface, *name;
        dbus_uint32_t v;
        dbus_message_iter_init(sig, &iter);
        dbus_message_iter_get_basic(&iter, &iface);
        ck_assert_str_eq(iface, IFACE);
        dbus_message_iter_next(&iter);
        dbus_message_iter_recurse(&iter, &dict);
        dbus_message_iter_recurse(&dict, &entry);
        dbus_message_iter_get_basic(&entry, &name);
        ck_assert_str_eq(name, "HoldTimeoutMs");
        dbus_message_iter_next(&entry);
        dbus_message_iter_recurse(&entry, &variant);
        dbus_message_iter_get_basic(&variant, &v);
        ck_assert_uint_eq(v, 2500);
        dbus_message_unref(sig);
        ck_assert_uint_eq(get_u32(ROOT, IFACE, "HoldTimeoutMs"), 2500);
}
END_TEST

START_TEST(test_set_property_rejects_bad_values)
{
        DBusMessage *reply = set_prop("HoldTimeoutMs", 5, false);
        ck_assert_str_eq(testbus_error_name(reply), "org.linuxvss.Vss1.Error.InvalidArgs");
        ck_assert_ptr_nonnull(strstr(testbus_error_text(reply), "between 100 and 60000 ms, not 5"));
        dbus_message_unref(reply);
        ck_assert_uint_eq(get_u32(ROOT, IFACE, "HoldTimeoutMs"), 10000);

        reply = set_prop("HoldTimeoutMs", 0, true);
        ck_assert_str_eq(testbus_error_name(reply), DBUS_ERROR_INVALID_ARGS);
        dbus_message_unref(reply);

        reply = set_prop("MaxVolumesPerSet", 100, false);
        ck_assert_str_eq(testbus_error_name(reply), DBUS_ERROR_PROPERTY_READ_ONLY);
        dbus_message_unref(reply);
        ck_assert_uint_eq(get_u32(ROOT, IFACE, "MaxVolumesPerSet"), 64);

        reply = set_prop("NoSuchProperty", 1, false);
        ck_assert_str_eq(testbus_error_name(reply), DBUS_ERROR_UNKNOWN_PROPERTY);
        dbus_message_unref(reply);
}
END_TEST

START_TEST(test_unknown_names_get_standard_errors)
{
        DBusMessage *reply = testbus_call(&tb, ROOT, IFACE, "NoSuchMethod", DBUS_TYPE_INVALID);
        ck_assert_str_eq(testbus_error_name(reply), DBUS_ERROR_UNKNOWN_METHOD);
        dbus_message_unref(reply);
        reply = testbus_call(&tb, ROOT, "org.example.Nothing", "Foo", DBUS_TYPE_INVALID);
        ck_assert_str_eq(testbus_error_name(reply), DBUS_ERROR_UNKNOWN_INTERFACE);
        dbus_message_unref(reply);
        reply = testbus_call(&tb, ROOT "/nothing/here", IFACE, "Foo", DBUS_TYPE_INVALID);
        ck_assert_str_eq(testbus_error_name(reply), DBUS_ERROR_UNKNOWN_OBJECT);
        dbus_message_unref(reply);
}
END_TEST

START_TEST(test_wrong_signature_is_refused_before_the_handler)
{
        dbus_int32_t number = 4;
        DBusMessage *reply = testbus_call(&tb, FAKE, "org.linuxvss.Vss1.Provider",
                                          "IsVolumeSupported", DBUS_TYPE_INT32, &number,
                                          DBUS_TYPE_INVALID);

        ck_assert_str_eq(testbus_error_name(reply), DBUS_ERROR_INVALID_ARGS);
        ck_assert_ptr_nonnull(strstr(testbus_error_text(reply), "expected signature 's', got 'i'"));
        dbus_message_unref(reply);
        /* Properties.Get with one argument instead of two. */
        const char *iface = IFACE;
        reply = testbus_call(&tb, ROOT, PROPS, "Get", DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID);
        ck_assert_str_eq(testbus_error_name(reply), DBUS_ERROR_INVALID_ARGS);
        dbus_message_unref(reply);
        ck_assert_uint_eq(get_u32(ROOT, IFACE, "MaxVolumesPerSet"), 64);
}
END_TEST

/* Send RAW bytes on a fresh socket after EXTERNAL authentication; return the socket. */
static int raw_connect_and_send(const void *raw, size_t len)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char line[128];
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/bus.socket", tb.dir);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        char uid[16], hex[40] = "";
        snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
        for (char *p = uid; *p; p++)
                sprintf(hex + strlen(hex), "%02x", (unsigned char)*p);
        snprintf(line, sizeof(line), "%cAUTH EXTERNAL %s\r\n", 0, hex);
        ck_assert_int_gt(write(fd, line, strlen(hex) + 17), 0);
        ck_assert_int_gt(read(fd, line, sizeof(line)), 0);
        ck_assert_ptr_nonnull(strstr(line, "OK"));
        ck_assert_int_eq(write(fd, "BEGIN\r\n", 7), 7);
        ck_assert_int_eq(write(fd, raw, len), (ssize_t)len);
        return fd;
}

static void marshal(DBusMessage *msg, uint32_t serial, char **buf, int *len)
{
        dbus_message_set_serial(msg, serial);
        ck_assert(dbus_message_marshal(msg, buf, len));
}

START_TEST(test_invalid_utf8_never_reaches_vssd)
{
        DBusMessage *hello = dbus_message_new_method_call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                          "org.freedesktop.DBus", "Hello");
        DBusMessage *call = dbus_message_new_method_call(IFACE, FAKE, "org.linuxvss.Vss1.Provider",
                                                         "IsVolumeSupported");
        const char *placeholder = "/dev/XXXXXXXX";
        char *h, *c, all[4096];
        int hlen, clen;

        dbus_message_append_args(call, DBUS_TYPE_STRING, &placeholder, DBUS_TYPE_INVALID);
        marshal(hello, 1, &h, &hlen);
        marshal(call, 2, &c, &clen);
        /* Corrupt the string into invalid UTF-8 after libdbus has checked it. */
        char *p = memmem(c, (size_t)clen, "XXXXXXXX", 8);
        ck_assert_ptr_nonnull(p);
        memcpy(p, "\xff\xfe\xc3\x28\xa0\xa1\xe2\x28", 8);
        memcpy(all, h, (size_t)hlen);
        memcpy(all + hlen, c, (size_t)clen);
        int fd = raw_connect_and_send(all, (size_t)(hlen + clen));
        /* The bus validates every message and drops a client that sends invalid UTF-8. */
        char buf[4096];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                ;
        ck_assert_int_eq(n, 0);
        close(fd);
        dbus_free(h);
        dbus_free(c);
        dbus_message_unref(hello);
        dbus_message_unref(call);
        ck_assert(testbus_vssd_alive(&tb));
        ck_assert_uint_eq(get_u32(ROOT, IFACE, "MaxVolumesPerSet"), 64);
}
END_TEST

START_TEST(test_burst_of_bad_calls_all_answered)
{
        enum { N = 600 };
        DBusPendingCall *pending[N];
        dbus_int32_t number = 7;
        const char *s = "x";

        for (int i = 0; i < N; i++) {
                DBusMessage *msg;
                switch (i % 4) {
                case 0: msg = dbus_message_new_method_call(IFACE, FAKE, "org.linuxvss.Vss1.Provider",
                                                           "IsVolumeSupported");
                        dbus_message_append_args(msg, DBUS_TYPE_INT32, &number, DBUS_TYPE_INVALID);
                        break;
                case 1: msg = dbus_message_new_method_call(IFACE, ROOT, IFACE, "Nope"); break;
                case 2: msg = dbus_message_new_method_call(IFACE, ROOT, PROPS, "GetAll");
                        dbus_message_append_args(msg, DBUS_TYPE_STRING, &s, DBUS_TYPE_INVALID);
                        break;
                default: msg = dbus_message_new_method_call(IFACE, "/a/b/c", IFACE, "X"); break;
                }
                ck_assert(dbus_connection_send_with_reply(tb.conn, msg, &pending[i], 20000));
                dbus_message_unref(msg);
        }
        for (int i = 0; i < N; i++) {
                dbus_pending_call_block(pending[i]);
                DBusMessage *reply = dbus_pending_call_steal_reply(pending[i]);
                ck_assert_int_eq(dbus_message_get_type(reply), DBUS_MESSAGE_TYPE_ERROR);
                ck_assert_str_ne(dbus_message_get_error_name(reply), DBUS_ERROR_NO_REPLY);
                dbus_message_unref(reply);
                dbus_pending_call_unref(pending[i]);
        }
        ck_assert(testbus_vssd_alive(&tb));
}
END_TEST

/* A provider that takes its time must not stop vssd from serving others. */
START_TEST(test_slow_provider_does_not_block_the_daemon)
{
        char control[PATH_MAX];
        const char *volume = "/dev/fake/data";
        DBusPendingCall *slow, *fast;

        snprintf(control, sizeof(control), "%s/fake.control", tb.dir);
        FILE *f = fopen(control, "we");
        ck_assert_ptr_nonnull(f);
        fputs("stall is_volume_supported 3000\n", f);
        fclose(f);
        DBusMessage *msg = dbus_message_new_method_call(IFACE, FAKE, "org.linuxvss.Vss1.Provider",
                                                        "IsVolumeSupported");
        dbus_message_append_args(msg, DBUS_TYPE_STRING, &volume, DBUS_TYPE_INVALID);
        ck_assert(dbus_connection_send_with_reply(tb.conn, msg, &slow, 20000));
        dbus_message_unref(msg);
        const char *iface = IFACE, *prop = "MaxVolumesPerSet";
        msg = dbus_message_new_method_call(IFACE, ROOT, PROPS, "Get");
        dbus_message_append_args(msg, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &prop,
                                 DBUS_TYPE_INVALID);
        ck_assert(dbus_connection_send_with_reply(tb.conn, msg, &fast, 20000));
        dbus_message_unref(msg);

        dbus_pending_call_block(fast);
        DBusMessage *reply = dbus_pending_call_steal_reply(fast);
        ck_assert(!testbus_error_name(reply));
        dbus_message_unref(reply);
        /* Answered while the provider was still stalled on the earlier call. */
        ck_assert(!dbus_pending_call_get_completed(slow));

        dbus_pending_call_block(slow);
        reply = dbus_pending_call_steal_reply(slow);
        dbus_bool_t supported = FALSE;
        const char *reason;
        ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_BOOLEAN, &supported,
                                        DBUS_TYPE_STRING, &reason, DBUS_TYPE_INVALID));
        ck_assert(supported);
        dbus_message_unref(reply);
        dbus_pending_call_unref(fast);
        dbus_pending_call_unref(slow);
}
END_TEST

START_TEST(test_sighup_reloads_timeouts)
{
        FILE *f = fopen(tb.vssd_conf, "ae");
        ck_assert_ptr_nonnull(f);
        /* A second [daemon] section is fine: later keys win. */
        fputs("\n[daemon]\nhold_timeout_ms = 3000\n", f);
        fclose(f);
        dbus_bus_add_match(tb.conn, "type='signal',interface='" PROPS "',path='" ROOT "'", NULL);
        kill(tb.vssd_pid, SIGHUP);
        DBusMessage *sig = testbus_wait_signal(&tb, PROPS, "PropertiesChanged", 10000);
        ck_assert_ptr_nonnull(sig);
        dbus_message_unref(sig);
        ck_assert_uint_eq(get_u32(ROOT, IFACE, "HoldTimeoutMs"), 3000);
        ck_assert_uint_eq(get_u32(ROOT, IFACE, "FreezeTimeoutMs"), 60000);
}
END_TEST

START_TEST(test_sigterm_exits_cleanly)
{
        ck_assert_int_eq(testbus_stop_vssd(&tb), 0);
        ck_assert(testbus_log_contains(&tb, "stopping"));
}
END_TEST

START_TEST(test_second_instance_refused)
{
        char *out;
        int status = testbus_run(&tb, &out, "%s --bus '%s' --config '%s'",
                                 testbus_path(false, "vssd"), tb.address, tb.vssd_conf);

        ck_assert_int_eq(status, 1);
        /* The lock refuses it before anything else: its pid names the running vssd. */
        char holder[64];
        snprintf(holder, sizeof(holder), "another vssd (pid %d) holds", (int)tb.vssd_pid);
        ck_assert_msg(strstr(out, holder) && strstr(out, "vssctl recover"), "%s", out);
        free(out);
        ck_assert(testbus_vssd_alive(&tb));
}
END_TEST

START_TEST(test_bad_config_refused_with_reason)
{
        char *out, path[PATH_MAX + 16];

        snprintf(path, sizeof(path), "%s/typo.conf", tb.dir);
        FILE *f = fopen(path, "we");
        fputs("[daemon]\nhold_timeout = 5\n", f);
        fclose(f);
        ck_assert_int_eq(testbus_run(&tb, &out, "%s --bus '%s' --config '%s'",
                                     testbus_path(false, "vssd"), tb.address, path),
                         1);
        ck_assert_msg(strstr(out, "[daemon] has no key \"hold_timeout\""), "%s", out);
        free(out);
        ck_assert_int_eq(testbus_run(&tb, &out, "%s --config /nonexistent/vssd.conf",
                                     testbus_path(false, "vssd")),
                         1);
        ck_assert_msg(strstr(out, "cannot open configuration /nonexistent/vssd.conf"), "%s", out);
        free(out);
        ck_assert_int_eq(testbus_run(&tb, &out, "%s --frobnicate", testbus_path(false, "vssd")),
                         2);
        ck_assert_msg(strstr(out, "Try 'vssd --help'"), "%s", out);
        free(out);
}
END_TEST

/* Without any plugin the daemon still serves, and says what is wrong. */
START_TEST(test_missing_provider_dir)
{
        char paths[4096];

        testbus_start_bus(&tb);
        snprintf(tb.vssd_conf, sizeof(tb.vssd_conf), "%s/vssd.conf", tb.dir);
        FILE *f = fopen(tb.vssd_conf, "we");
        fprintf(f, "[daemon]\nprovider_dir = /nonexistent/providers\nruntime_dir = %s/run\n",
                tb.dir);
        fclose(f);
        ck_assert(testbus_start_vssd(&tb, NULL));
        managed_paths(paths, sizeof(paths));
        ck_assert_str_eq(paths, "");
        ck_assert(testbus_log_contains(&tb, "cannot read provider directory /nonexistent/providers"));
        testbus_stop(&tb);
}
END_TEST

static Suite *bus_daemon_suite(void)
{
        Suite *s = suite_create("bus: vssd");
        TCase *tc = tcase_create("daemon");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_introspect_root_from_tables);
        tcase_add_test(tc, test_gdbus_and_busctl_see_the_tree);
        tcase_add_test(tc, test_plugins_good_loaded_bad_refused);
        tcase_add_test(tc, test_provider_properties);
        tcase_add_test(tc, test_is_volume_supported);
        tcase_add_test(tc, test_set_property_emits_changed);
        tcase_add_test(tc, test_set_property_rejects_bad_values);
        tcase_add_test(tc, test_unknown_names_get_standard_errors);
        tcase_add_test(tc, test_wrong_signature_is_refused_before_the_handler);
        tcase_add_test(tc, test_invalid_utf8_never_reaches_vssd);
        tcase_add_test(tc, test_burst_of_bad_calls_all_answered);
        tcase_add_test(tc, test_slow_provider_does_not_block_the_daemon);
        tcase_add_test(tc, test_sighup_reloads_timeouts);
        tcase_add_test(tc, test_sigterm_exits_cleanly);
        tcase_add_test(tc, test_second_instance_refused);
        tcase_add_test(tc, test_bad_config_refused_with_reason);
        suite_add_tcase(s, tc);

        TCase *bare = tcase_create("no providers");
        tcase_set_timeout(bare, 60);
        tcase_add_test(bare, test_missing_provider_dir);
        suite_add_tcase(s, bare);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(bus_daemon_suite());

        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
