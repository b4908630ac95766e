/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_settings.c: vssd's [daemon] settings (daemon/settings.c), as
 * vssd.conf(5) documents them: defaults when the packaged file is absent, an
 * error when a required one is, every key with its range, log levels by name,
 * and a typo in [daemon] refused at start with a message that names the file,
 * the key and the fix instead of silently meaning a default.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon/settings.h"

static char err[512];
static char dir[64];
static char path[128];
static Settings settings;

static void setup(void)
{
        snprintf(dir, sizeof(dir), "/tmp/check_settings.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/vssd.conf", dir);
        err[0] = '\0';
        memset(&settings, 0, sizeof(settings));
}

static void teardown(void)
{
        settings_done(&settings);
        unlink(path);
        rmdir(dir);
}

static void write_conf(const char *text)
{
        FILE *f = fopen(path, "we");

        ck_assert_ptr_nonnull(f);
        ck_assert_int_ge(fputs(text, f), 0);
        ck_assert_int_eq(fclose(f), 0);
}

/* Load TEXT as a required file; expect -EINVAL and return the message. */
static const char *load_fails(const char *text)
{
        write_conf(text);
        err[0] = '\0';
        ck_assert_int_eq(settings_load(&settings, path, 1, err, sizeof(err)), -EINVAL);
        /* Nothing half-loaded is left behind. */
        ck_assert_ptr_null(settings.config);
        ck_assert_msg(err[0], "no message for:\n%s", text);
        return err;
}

static void assert_defaults(const Settings *s)
{
        ck_assert_str_eq(s->provider_dir, VSS_PROVIDER_DIR);
        ck_assert_str_eq(s->runtime_dir, "/run/vss");
        ck_assert_uint_eq(s->freeze_timeout_ms, VSS_FREEZE_TIMEOUT_MS_DEFAULT);
        ck_assert_uint_eq(s->hold_timeout_ms, VSS_HOLD_TIMEOUT_MS_DEFAULT);
        ck_assert_int_eq(s->log_priority, LOG_INFO);
        ck_assert_str_eq(s->backup_group, VSS_BACKUP_GROUP_DEFAULT);
        ck_assert_str_eq(s->writer_group, VSS_WRITER_GROUP_DEFAULT);
}

START_TEST(test_missing_optional_file_means_defaults)
{
        ck_assert_int_eq(settings_load(&settings, path, 0, err, sizeof(err)), 0);
        assert_defaults(&settings);
        /* Providers can still ask for their sections: an empty configuration. */
        ck_assert_ptr_nonnull(settings.config);
        ck_assert_ptr_null(config_get(settings.config, "provider.fake", "log"));
}
END_TEST

START_TEST(test_missing_required_file_is_an_error)
{
        ck_assert_int_eq(settings_load(&settings, path, 1, err, sizeof(err)), -ENOENT);
        ck_assert_ptr_nonnull(strstr(err, path));
        ck_assert_ptr_null(settings.config);
}
END_TEST

START_TEST(test_empty_daemon_section_means_defaults)
{
        write_conf("# nothing set\n[daemon]\n");
        ck_assert_int_eq(settings_load(&settings, path, 1, err, sizeof(err)), 0);
        assert_defaults(&settings);
}
END_TEST

START_TEST(test_every_key)
{
        write_conf("[daemon]\n"
                   "provider_dir = /opt/vss/providers\n"
                   "freeze_timeout_ms = 1500\n"
                   "hold_timeout_ms = 250\n"
                   "log_level = debug\n"
                   "backup_group = backup\n"
                   "writer_group = db-writers\n"
                   "[provider.fake]\n"
                   "log = /tmp/fake.log\n"
                   "anything_goes = here\n");
        ck_assert_int_eq(settings_load(&settings, path, 1, err, sizeof(err)), 0);
        ck_assert_str_eq(settings.provider_dir, "/opt/vss/providers");
        ck_assert_uint_eq(settings.freeze_timeout_ms, 1500);
        ck_assert_uint_eq(settings.hold_timeout_ms, 250);
        ck_assert_int_eq(settings.log_priority, LOG_DEBUG);
        ck_assert_str_eq(settings.backup_group, "backup");
        ck_assert_str_eq(settings.writer_group, "db-writers");
        /* Provider sections are the provider's business; they stay readable. */
        ck_assert_str_eq(config_get(settings.config, "provider.fake", "log"), "/tmp/fake.log");
        ck_assert_str_eq(config_get(settings.config, "provider.fake", "anything_goes"), "here");
}
END_TEST

START_TEST(test_range_boundaries_accepted)
{
        char text[256];

        snprintf(text, sizeof(text), "[daemon]\nfreeze_timeout_ms = %u\nhold_timeout_ms = %u\n",
                 VSS_FREEZE_TIMEOUT_MS_MIN, VSS_HOLD_TIMEOUT_MS_MAX);
        write_conf(text);
        ck_assert_int_eq(settings_load(&settings, path, 1, err, sizeof(err)), 0);
        ck_assert_uint_eq(settings.freeze_timeout_ms, VSS_FREEZE_TIMEOUT_MS_MIN);
        ck_assert_uint_eq(settings.hold_timeout_ms, VSS_HOLD_TIMEOUT_MS_MAX);
        settings_done(&settings);

        snprintf(text, sizeof(text), "[daemon]\nfreeze_timeout_ms = %u\nhold_timeout_ms = %u\n",
                 VSS_FREEZE_TIMEOUT_MS_MAX, VSS_HOLD_TIMEOUT_MS_MIN);
        write_conf(text);
        ck_assert_int_eq(settings_load(&settings, path, 1, err, sizeof(err)), 0);
        ck_assert_uint_eq(settings.freeze_timeout_ms, VSS_FREEZE_TIMEOUT_MS_MAX);
        ck_assert_uint_eq(settings.hold_timeout_ms, VSS_HOLD_TIMEOUT_MS_MIN);
}
END_TEST

START_TEST(test_out_of_range_refused)
{
        const char *m;

        m = load_fails("[daemon]\nfreeze_timeout_ms = 999\n");
        ck_assert_msg(strstr(m, "freeze_timeout_ms") && strstr(m, "999") &&
                              strstr(m, "1000..600000"), "got: %s", m);
        m = load_fails("[daemon]\nfreeze_timeout_ms = 600001\n");
        ck_assert_msg(strstr(m, "600001") && strstr(m, "1000..600000"), "got: %s", m);
        m = load_fails("[daemon]\nhold_timeout_ms = 99\n");
        ck_assert_msg(strstr(m, "hold_timeout_ms") && strstr(m, "100..60000"), "got: %s", m);
        m = load_fails("[daemon]\nhold_timeout_ms = 10s\n");
        ck_assert_msg(strstr(m, "hold_timeout_ms") && strstr(m, "10s"), "got: %s", m);
        m = load_fails("[daemon]\nhold_timeout_ms = -5\n");
        ck_assert_msg(strstr(m, "hold_timeout_ms"), "got: %s", m);
}
END_TEST

START_TEST(test_unknown_key_refused)
{
        /* The classic typo: a plural. */
        const char *m = load_fails("[daemon]\nhold_timeout_ms = 500\nfreeze_timeouts_ms = 5000\n");

        ck_assert_msg(strstr(m, "freeze_timeouts_ms"), "got: %s", m);
        /* The fix: the keys that do exist. */
        ck_assert_msg(strstr(m, "provider_dir") && strstr(m, "freeze_timeout_ms") &&
                              strstr(m, "hold_timeout_ms") && strstr(m, "log_level") &&
                              strstr(m, "backup_group") && strstr(m, "writer_group"),
                      "got: %s", m);
        /* Keys are case-sensitive, so this is a typo too. */
        m = load_fails("[daemon]\nLog_Level = debug\n");
        ck_assert_msg(strstr(m, "Log_Level"), "got: %s", m);
}
END_TEST

START_TEST(test_log_levels)
{
        static const struct {
                const char *name;
                int priority;
        } levels[] = {
                { "err", LOG_ERR },         { "error", LOG_ERR }, { "warning", LOG_WARNING },
                { "notice", LOG_NOTICE },   { "info", LOG_INFO }, { "debug", LOG_DEBUG },
        };
        for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
                char text[64];
                ck_assert_int_eq(settings_parse_log_level(levels[i].name), levels[i].priority);
                snprintf(text, sizeof(text), "[daemon]\nlog_level = %s\n", levels[i].name);
                write_conf(text);
                ck_assert_int_eq(settings_load(&settings, path, 1, err, sizeof(err)), 0);
                ck_assert_int_eq(settings.log_priority, levels[i].priority);
                settings_done(&settings);
        }
        ck_assert_int_eq(settings_parse_log_level("DEBUG"), -EINVAL);
        ck_assert_int_eq(settings_parse_log_level("verbose"), -EINVAL);
        ck_assert_int_eq(settings_parse_log_level(""), -EINVAL);

        const char *m = load_fails("[daemon]\nlog_level = loud\n");
        ck_assert_msg(strstr(m, "loud") && strstr(m, "debug"), "got: %s", m);
}
END_TEST

START_TEST(test_provider_dir_must_be_a_path)
{
        const char *m = load_fails("[daemon]\nprovider_dir = providers\n");

        ck_assert_msg(strstr(m, "provider_dir") && strstr(m, "providers"), "got: %s", m);
}
END_TEST

/* The lock must not land in the working directory of whoever started vssd. */
START_TEST(test_runtime_dir_must_be_absolute)
{
        const char *m = load_fails("[daemon]\nruntime_dir = run/vss\n");

        ck_assert_msg(strstr(m, "runtime_dir = \"run/vss\" is not an absolute path") &&
                      strstr(m, "/run/vss"), "got: %s", m);
}
END_TEST

START_TEST(test_parse_error_names_file_and_line)
{
        const char *m = load_fails("[daemon]\nlog_level = info\nhold_timeout_ms 500\n");
        char want[200];

        snprintf(want, sizeof(want), "%s:3:", path);
        ck_assert_msg(strncmp(m, want, strlen(want)) == 0, "got: %s", m);
}
END_TEST

/*
 * vssd.conf(5): "Errors name the file and the line". An administrator with
 * several configuration files (vssd -c, reload) must see which one is wrong.
 */
START_TEST(test_value_errors_name_the_file)
{
        static const char *const texts[] = {
                "[daemon]\nno_such_key = 1\n",
                "[daemon]\nfreeze_timeout_ms = 5\n",
                "[daemon]\nhold_timeout_ms = forever\n",
                "[daemon]\nlog_level = loud\n",
                "[daemon]\nprovider_dir = relative\n",
        };
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
                const char *m = load_fails(texts[i]);
                ck_assert_msg(strstr(m, path), "message does not name %s: %s", path, m);
        }
}
END_TEST

/* A provider_dir longer than PATH_MAX is refused with a message, not silently. */
START_TEST(test_too_long_provider_dir_explained)
{
        size_t n = PATH_MAX + 64;
        char *text = malloc(n + 64);

        ck_assert_ptr_nonnull(text);
        strcpy(text, "[daemon]\nprovider_dir = /");
        size_t len = strlen(text);
        memset(text + len, 'p', n);
        strcpy(text + len + n, "\n");
        write_conf(text);
        free(text);
        err[0] = '\0';
        ck_assert_int_lt(settings_load(&settings, path, 1, err, sizeof(err)), 0);
        ck_assert_ptr_null(settings.config);
        ck_assert_msg(strstr(err, "provider_dir"), "no message naming provider_dir: \"%s\"", err);
}
END_TEST

/* Group names as groupadd(8) takes them; empty leaves the calls to root alone. */
START_TEST(test_group_names)
{
        write_conf("[daemon]\nbackup_group = _vss.backup-2\nwriter_group =\n");
        ck_assert_int_eq(settings_load(&settings, path, 1, err, sizeof(err)), 0);
        ck_assert_str_eq(settings.backup_group, "_vss.backup-2");
        ck_assert_str_eq(settings.writer_group, "");
        settings_done(&settings);
        write_conf("[daemon]\nwriter_group = machine$\n");
        ck_assert_int_eq(settings_load(&settings, path, 1, err, sizeof(err)), 0);
        ck_assert_str_eq(settings.writer_group, "machine$");
        ck_assert_str_eq(settings.backup_group, VSS_BACKUP_GROUP_DEFAULT);
}
END_TEST

START_TEST(test_bad_group_names_refused)
{
        static const char *const bad[] = {
                "1000",         /* a gid is not a name */
                "vss backup",   /* whitespace */
                "-vss",         /* an option to groupadd */
                "vss:backup",   /* the field separator of /etc/group */
                "a$b",          /* '$' only at the end */
                "a23456789012345678901234567890123", /* 33 characters */
        };
        char text[128];

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                snprintf(text, sizeof(text), "[daemon]\nbackup_group = %s\n", bad[i]);
                const char *m = load_fails(text);
                ck_assert_msg(strstr(m, path) && strstr(m, "backup_group") && strstr(m, bad[i]) &&
                                      strstr(m, "is not a group name") &&
                                      strstr(m, "nothing for root alone"),
                              "got: %s", m);
        }
        const char *m = load_fails("[daemon]\nwriter_group = 42\n");
        ck_assert_msg(strstr(m, "writer_group") && strstr(m, "vss-writer"), "got: %s", m);
}
END_TEST

/* The file make install ships must load as the defaults it documents. */
START_TEST(test_shipped_config_loads)
{
        const char *top = getenv("VSS_TOP");
        char shipped[4096];

        snprintf(shipped, sizeof(shipped), "%s/systemd/vssd.conf", top ? top : ".");
        if (access(shipped, R_OK) < 0)
                ck_abort_msg("cannot read %s; run from the source tree or set VSS_TOP", shipped);
        ck_assert_msg(settings_load(&settings, shipped, 1, err, sizeof(err)) == 0, "%s", err);
        assert_defaults(&settings);
}
END_TEST

START_TEST(test_done_is_idempotent)
{
        ck_assert_int_eq(settings_load(&settings, path, 0, err, sizeof(err)), 0);
        settings_done(&settings);
        ck_assert_ptr_null(settings.config);
        settings_done(&settings);
}
END_TEST

/* [provider.NAME] priority: vssd's own key in any provider's section, 0..1000. */
START_TEST(test_provider_priority)
{
        write_conf("[provider.dm-snapshot]\npriority = 0\n[provider.lvm]\npriority = 1000\n"
                   "[provider.fake]\nlog = /tmp/x\n");
        ck_assert_int_eq(settings_load(&settings, path, 1, err, sizeof(err)), 0);
        ck_assert_uint_eq(settings_provider_priority(settings.config, "dm-snapshot", 100), 0);
        ck_assert_uint_eq(settings_provider_priority(settings.config, "lvm", 200), 1000);
        /* Not set: the plugin's own. */
        ck_assert_uint_eq(settings_provider_priority(settings.config, "fake", 100), 100);
        ck_assert_uint_eq(settings_provider_priority(settings.config, "dm-thin", 300), 300);
}
END_TEST

START_TEST(test_bad_provider_priority_refused)
{
        static const char *const bad[] = { "1001", "-1", "high", "", "10 0", "4294967396" };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char text[256], want[512];
                snprintf(text, sizeof(text), "[daemon]\nlog_level = info\n[provider.dm-thin]\n"
                         "priority = %s\n", bad[i]);
                const char *msg = load_fails(text);
                snprintf(want, sizeof(want), "%s: [provider.dm-thin] priority = \"%s\" is not a "
                         "whole number in 0..1000", path, bad[i]);
                ck_assert_msg(strstr(msg, want), "got: %s", msg);
                ck_assert_msg(strstr(msg, "vssd.conf(5)"), "got: %s", msg);
        }
}
END_TEST

static Suite *settings_suite(void)
{
        Suite *s = suite_create("settings");
        TCase *tc = tcase_create("load");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_missing_optional_file_means_defaults);
        tcase_add_test(tc, test_missing_required_file_is_an_error);
        tcase_add_test(tc, test_empty_daemon_section_means_defaults);
        tcase_add_test(tc, test_every_key);
        tcase_add_test(tc, test_range_boundaries_accepted);
        tcase_add_test(tc, test_group_names);
        tcase_add_test(tc, test_shipped_config_loads);
        tcase_add_test(tc, test_done_is_idempotent);
        tcase_add_test(tc, test_provider_priority);
        suite_add_tcase(s, tc);

        tc = tcase_create("refusals");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_out_of_range_refused);
        tcase_add_test(tc, test_unknown_key_refused);
        tcase_add_test(tc, test_bad_group_names_refused);
        tcase_add_test(tc, test_log_levels);
        tcase_add_test(tc, test_provider_dir_must_be_a_path);
        tcase_add_test(tc, test_runtime_dir_must_be_absolute);
        tcase_add_test(tc, test_parse_error_names_file_and_line);
        tcase_add_test(tc, test_value_errors_name_the_file);
        tcase_add_test(tc, test_too_long_provider_dir_explained);
        tcase_add_test(tc, test_bad_provider_priority_refused);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(settings_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
