/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_core.c: unit tests of daemon/core/core.c: configuration, providers,
 * timers, names and lookups, in the fake environment of core-env.h.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "tests/unit/core-env.h"

/* --- tests of core.c ---------------------------------------------------------------------- */

START_TEST(test_config_defaults_and_ranges)
{
        const CoreConfig *c = core_config_get(E.core);
        ck_assert_uint_eq(c->freeze_timeout_ms, 60000);
        ck_assert_uint_eq(c->hold_timeout_ms, 10000);
        struct vss_error_buf err = { "" };
        CoreConfig bad = { .freeze_timeout_ms = 999, .hold_timeout_ms = 10000,
                                   .event_timeout_ms = 60000 };
        ck_assert_int_eq(core_config_set(E.core, &bad, &err), -EINVAL);
        assert_contains(err.message, "FreezeTimeoutMs");
        bad = (CoreConfig){ 60000, 60001, 60000 };
        ck_assert_int_eq(core_config_set(E.core, &bad, &err), -EINVAL);
        assert_contains(err.message, "HoldTimeoutMs");
        CoreConfig good = { 30000, 5000, 20000 };
        ck_assert_int_eq(core_config_set(E.core, &good, &err), 0);
        ck_assert_uint_eq(core_config_get(E.core)->hold_timeout_ms, 5000);
}
END_TEST

START_TEST(test_core_new_rejects_incomplete_env)
{
        Core *core;
        CoreEnv env = env_template;
        env.provider_run = NULL;
        ck_assert_int_eq(core_new(&core, &env, NULL), -EINVAL);
        CoreConfig c = { .hold_timeout_ms = 1 };
        ck_assert_int_eq(core_new(&core, &env_template, &c), -EINVAL);
}
END_TEST

START_TEST(test_provider_add_checks_abi_and_name)
{
        struct vss_error_buf err = { "" };
        struct vss_provider p = vss_provider_v1;
        p.abi_version = 99;
        ck_assert_int_eq(core_provider_add(E.core, &p, NULL, NULL, &err), -VSS_E_ABI_MISMATCH);
        assert_contains(err.message, "ABI 99");
        ck_assert_int_eq(core_provider_add(E.core, &vss_provider_v1, NULL, NULL, &err), -EEXIST);
        assert_contains(err.message, "'fake'");
        ck_assert_ptr_nonnull(core_provider_find(E.core, "fake"));
        ck_assert_ptr_null(core_provider_find(E.core, "nope"));
        ck_assert_ptr_null(core_provider_first(E.core)->next);
}
END_TEST

START_TEST(test_timers_fire_at_deadline_not_before)
{
        struct test_writer *tw = tw_add("w", VSS_LEVEL_BACK_END);
        tw->manual = true;
        CoreSession *s = session_open(OWNER);
        struct call c = { 0 };
        ck_assert_int_eq(core_session_gather_writer_metadata(s, OWNER, &c, NULL), 0);
        ck_assert_uint_eq(E.deadline, E.now + 60000);
        advance(59999);
        ck_assert_uint_eq(c.count, 0);
        core_dispatch_timers(E.core); /* early wake-ups are harmless */
        ck_assert_uint_eq(c.count, 0);
        advance(1);
        ck_assert_uint_eq(c.count, 1);
        ck_assert_uint_eq(E.deadline, UINT64_MAX);
}
END_TEST

START_TEST(test_names)
{
        ck_assert_str_eq(core_event_to_string(CORE_EVENT_PREPARE_SNAPSHOT), "PrepareSnapshot");
        ck_assert_str_eq(core_event_to_string(CORE_EVENT_BACKUP_SHUTDOWN), "BackupShutdown");
        ck_assert_str_eq(core_set_state_to_string(CORE_SET_PREPARING_SNAPSHOT),
                         "preparing-snapshot");
        ck_assert_str_eq(core_set_state_to_string(CORE_SET_ABORTED), "aborted");
        ck_assert_str_eq(core_session_state_to_string(CORE_SESSION_IN_SET), "in-set");
        ck_assert_str_eq(core_snapshot_state_to_string(VSS_SNAPSHOT_INVALID), "invalid");
        ck_assert_str_eq(core_job_op_to_string(CORE_JOB_WINDOW), "window");
        ck_assert_str_eq(core_job_op_to_string(CORE_JOB_WATCHDOG_RELEASE),
                         "watchdog-release");
        ck_assert_int_eq(core_context_from_string("nas-rollback"), CORE_CONTEXT_NAS_ROLLBACK);
        ck_assert_int_eq(core_context_from_string("nope"), -EINVAL);
        ck_assert_str_eq(core_context_to_string(CORE_CONTEXT_FILE_SHARE_BACKUP),
                         "file-share-backup");
        ck_assert_uint_eq(core_context_attributes(CORE_CONTEXT_BACKUP), 0);
        ck_assert_uint_eq(core_context_attributes(CORE_CONTEXT_APP_ROLLBACK),
                          VSS_ATTR_PERSISTENT | VSS_ATTR_NO_AUTO_RELEASE);
        ck_assert_uint_eq(core_context_attributes(CORE_CONTEXT_NAS_ROLLBACK),
                          VSS_ATTR_PERSISTENT | VSS_ATTR_NO_AUTO_RELEASE | VSS_ATTR_NO_WRITERS);
        ck_assert_uint_eq(core_context_attributes(CORE_CONTEXT_FILE_SHARE_BACKUP),
                          VSS_ATTR_NO_WRITERS);
}
END_TEST

START_TEST(test_lookups)
{
        struct test_writer *tw = tw_add("w", VSS_LEVEL_SYSTEM);
        CoreSession *s = ready_session(OWNER);
        ck_assert_ptr_eq(core_writer_find(E.core, tw->w->id), tw->w);
        ck_assert_ptr_null(core_writer_find(E.core, 999));
        ck_assert_ptr_eq(core_session_find(E.core, s->id), s);
        ck_assert_ptr_eq(core_set_find(E.core, s->set->id), s->set);
        ck_assert_ptr_eq(core_snapshot_find(E.core, s->set->snapshots->id), s->set->snapshots);
        ck_assert_ptr_null(core_snapshot_find(E.core, "nope"));
        ck_assert_ptr_eq(core_writer_first(E.core), tw->w);
        ck_assert_ptr_eq(core_session_first(E.core), s);
}
END_TEST

/* A job the env could not queue fails the op like the provider failing it. */
START_TEST(test_provider_run_refused_fails_the_op)
{
        CoreSession *s = session_open(OWNER);
        set_start(s);
        E.refuse_jobs = true;
        struct call c = { 0 };
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", &c), -EAGAIN);
        assert_contains(c.message, "could not start is_volume_supported");
        assert_contains(c.message, "/dev/fake/a");
}
END_TEST

START_TEST(test_provider_is_volume_supported)
{
        CoreProvider *p = core_provider_find(E.core, "fake");
        struct call yes = { 0 }, no = { 0 };
        struct vss_error_buf err = { "" };
        ck_assert_int_eq(core_provider_is_volume_supported(E.core, p, "/dev/fake/a", &yes, &err), 0);
        ck_assert_int_eq(core_provider_is_volume_supported(E.core, p, "/dev/sdb", &no, &err), 0);
        ck_assert_uint_eq(yes.count + no.count, 0); /* on the provider thread, not here */
        pump();
        ck_assert_int_eq(yes.r, 1);
        ck_assert_int_eq(no.r, 0);
        assert_contains(no.message, "/dev/sdb");
        ck_assert_int_eq(core_provider_is_volume_supported(E.core, p, "", &no, &err), -EINVAL);
}
END_TEST

/* core_free() with work in flight notifies nobody and leaks nothing. */
START_TEST(test_free_with_everything_in_flight)
{
        struct test_writer *tw = tw_add("w", VSS_LEVEL_BACK_END);
        CoreSession *done = ready_session(":1.5");
        struct call bc;
        tw->manual = true;
        ck_assert_int_eq(backup_complete(done, &bc), 1); /* BackupComplete stays pending */
        CoreSession *s = session_open(OWNER);
        set_start(s);
        struct call c = { 0 };
        ck_assert_int_eq(core_session_add_to_snapshot_set(s, OWNER, "/dev/fake/x", NULL, &c, NULL),
                         0);
        ck_assert_uint_eq(E.n_jobs, 1);
        unsigned removed = E.removed[CORE_OBJECT_SET];
        E.core = core_free(E.core); /* teardown completes the queued job afterwards */
        ck_assert_uint_eq(E.removed[CORE_OBJECT_SET], removed);
        ck_assert_uint_eq(c.count, 0);
}
END_TEST

static Suite *core_suite(void)
{
        Suite *s = suite_create("core");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_config_defaults_and_ranges);
        tcase_add_test(tc, test_core_new_rejects_incomplete_env);
        tcase_add_test(tc, test_provider_add_checks_abi_and_name);
        tcase_add_test(tc, test_timers_fire_at_deadline_not_before);
        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_lookups);
        tcase_add_test(tc, test_provider_run_refused_fails_the_op);
        tcase_add_test(tc, test_provider_is_volume_supported);
        tcase_add_test(tc, test_free_with_everything_in_flight);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(core_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
