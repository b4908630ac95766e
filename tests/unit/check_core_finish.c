/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_core_finish.c: what comes after the hold window and what a set's
 * point in time means. Each provider of the set that has a finish op runs it
 * once the window closed whole, in the core's order (the daemon adds
 * providers by priority), before any writer thaws; one failing aborts the
 * set as a failed commit does (writers get Abort, every provider abort, the
 * error names the provider and its message), and a finish outlasting a
 * writer's freeze timeout fails it too. A set's Atomicity is the weakest its
 * providers' prepare() reported, announced once they all prepared.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "tests/unit/core-env.h"

/* Volumes in the opposite order of the providers: the order of ops is the providers'. */
static const char *const mixed_volumes[] = { "/dev/other/a", "/dev/fake/a", NULL };

static CoreSession *two_provider_set(void)
{
        env_add_other_provider();
        return prepared_session(OWNER, mixed_volumes);
}

/* --- finish -------------------------------------------------------------------------- */

START_TEST(test_finish_after_release_before_thaw_in_provider_order)
{
        tw_add("w", VSS_LEVEL_BACK_END);
        CoreSession *s = two_provider_set();
        env_give_finish("fake");
        env_give_finish("other");
        trace_clear();
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert_str_eq(E.trace, "w:PrepareSnapshot fake:prepare other:prepare w:Freeze "
                         "fake:hold other:hold fake:commit other:commit fake:release "
                         "other:release fake:finish other:finish w:Thaw w:PostSnapshot");
        ck_assert_uint_eq(log_count("fake", "finish", s->set->id), 1);
        ck_assert_uint_eq(log_count("other", "finish", s->set->id), 1);
        /* Still "committing" while the providers finish: no state of its own. */
        assert_contains(E.states, "freezing committing thawing post-snapshot ready");
        ck_assert_int_eq(s->set->state, CORE_SET_READY);
        ck_assert_uint_eq(count_snapshots(), 2);
        char line[128];
        snprintf(line, sizeof(line), "provider 'other' finished snapshot set %s", s->set->id);
        ck_assert(log_has(LOG_INFO, line));
}
END_TEST

START_TEST(test_provider_without_finish_is_skipped)
{
        tw_add("w", VSS_LEVEL_BACK_END);
        CoreSession *s = two_provider_set();
        env_give_finish("other");
        trace_clear();
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert(!trace_has("fake:finish"));
        ck_assert_int_lt(trace_pos("other:release"), trace_pos("other:finish"));
        ck_assert_int_lt(trace_pos("other:finish"), trace_pos("w:Thaw"));
        ck_assert_uint_eq(log_count("fake", "finish", NULL), 0);
        /* Nobody has it: straight from the window to Thaw, as before finish existed. */
        CoreSession *t = prepared_session(":1.2", (const char *const[]){ "/dev/fake/b", NULL });
        trace_clear();
        ck_assert_int_eq(do_snapshot(t, &c), 0);
        ck_assert_str_eq(E.trace, "w:PrepareSnapshot fake:prepare w:Freeze fake:hold "
                         "fake:commit fake:release w:Thaw w:PostSnapshot");
}
END_TEST

START_TEST(test_finish_failure_aborts_the_set)
{
        struct test_writer *w = tw_add("w", VSS_LEVEL_BACK_END);
        CoreSession *s = two_provider_set();
        env_give_finish("fake");
        env_give_finish("other");
        fault("fail finish ENOSPC");
        trace_clear();
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), -VSS_E_PROVIDER_FAILED);
        char want[256];
        snprintf(want, sizeof(want), "provider 'fake' failed to finish snapshot set %s: fake "
                 "provider: injected failure at finish", s->set->id);
        assert_contains(c.message, want);
        /* As a failed commit: Abort instead of Thaw, every provider undoes its part. */
        ck_assert_str_eq(E.trace, "w:PrepareSnapshot fake:prepare other:prepare w:Freeze "
                         "fake:hold other:hold fake:commit other:commit fake:release "
                         "other:release fake:finish w:Abort fake:abort other:abort");
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
        assert_contains(s->set->error_message, want);
        ck_assert_uint_eq(count_snapshots(), 0);
        ck_assert_uint_eq(provider_snapshots(), 0);
        ck_assert_int_eq(w->w->state, VSS_WS_STABLE);
        ck_assert(log_has(LOG_ERR, want));
        ck_assert(creation_allowed());
}
END_TEST

START_TEST(test_second_finish_failure_names_its_provider)
{
        CoreSession *s = two_provider_set();
        env_give_finish("fake");
        env_give_finish("other");
        fault_on("other", "fail finish");
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), -VSS_E_PROVIDER_FAILED);
        assert_contains(c.message, "provider 'other' failed to finish snapshot set");
        ck_assert_uint_eq(log_count("fake", "finish", NULL), 1);
        ck_assert_uint_eq(log_count("fake", "abort", s->set->id), 1);
        ck_assert_uint_eq(log_count("other", "abort", s->set->id), 1);
        ck_assert_uint_eq(provider_snapshots(), 0);
}
END_TEST

/* The writers stay frozen while providers finish: their freeze timeout bounds it. */
START_TEST(test_slow_finish_fails_on_freeze_timeout)
{
        struct test_writer *w = tw_add_full("w", "instance-w", VSS_LEVEL_BACK_END, 2000);
        CoreSession *s = prepared_session(OWNER, two_volumes);
        env_give_finish("fake");
        E.stop_op = CORE_JOB_FINISH;
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);
        ck_assert_int_eq(s->set->state, CORE_SET_COMMITTING);
        ck_assert(!trace_has("w:Thaw"));
        ck_assert_int_eq(w->w->state, VSS_WS_WAITING_FOR_THAW);
        advance(2000);
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTING);
        ck_assert(trace_has("w:Abort"));
        ck_assert(!trace_has("fake:abort")); /* after the finish running now */
        run_job_now();
        ck_assert_int_lt(trace_pos("fake:finish"), trace_pos("fake:abort"));
        ck_assert_uint_eq(c.count, 1);
        ck_assert_int_eq(c.r, -VSS_E_WRITER_FAILED);
        assert_contains(c.message, "writer 'w' failed Freeze (TIMEOUT)");
        ck_assert_uint_eq(provider_snapshots(), 0);
}
END_TEST

/* --- atomicity ---------------------------------------------------------------------- */

START_TEST(test_atomicity_one_instant_announced_after_prepare)
{
        CoreSession *s = prepared_session(OWNER, two_volumes);
        ck_assert(!s->set->atomicity_known);
        ck_assert(!strstr(E.set_changes, CORE_PROP_ATOMICITY));
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert(s->set->atomicity_known);
        ck_assert_int_eq(s->set->atomicity, VSS_ATOMICITY_ONE_INSTANT);
        ck_assert_str_eq(core_atomicity_to_string(s->set->atomicity), "one-instant");
        /* Announced once, when prepare finished: before the window. */
        const char *at = strstr(E.set_changes, CORE_PROP_ATOMICITY);
        ck_assert_ptr_nonnull(at);
        ck_assert_ptr_null(strstr(at + 1, CORE_PROP_ATOMICITY));
        ck_assert_ptr_nonnull(strstr(at, CORE_PROP_HOLD_WINDOW));
}
END_TEST

START_TEST(test_atomicity_is_the_weakest)
{
        E.atomicity_config = "writers-only";
        env_add_other_provider();
        E.atomicity_config = NULL;
        /* Only the one-instant provider: one-instant. */
        CoreSession *s = prepared_session(OWNER, two_volumes);
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert_int_eq(s->set->atomicity, VSS_ATOMICITY_ONE_INSTANT);
        ck_assert_int_eq(core_session_release(s, OWNER, NULL, NULL), 0);
        pump();
        /* With the other one: its writers-only wins, whatever the order. */
        s = prepared_session(OWNER, mixed_volumes);
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert(s->set->atomicity_known);
        ck_assert_int_eq(s->set->atomicity, VSS_ATOMICITY_WRITERS_ONLY);
        ck_assert_str_eq(core_atomicity_to_string(s->set->atomicity), "writers-only");
}
END_TEST

START_TEST(test_atomicity_unknown_when_prepare_fails)
{
        env_add_other_provider();
        CoreSession *s = prepared_session(OWNER, mixed_volumes);
        fault_on("other", "fail prepare");
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), -VSS_E_PROVIDER_FAILED);
        ck_assert(!s->set->atomicity_known);
        ck_assert(!strstr(E.set_changes, CORE_PROP_ATOMICITY));
}
END_TEST

static Suite *finish_suite(void)
{
        Suite *s = suite_create("core-finish");
        TCase *tc = tcase_create("finish");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_finish_after_release_before_thaw_in_provider_order);
        tcase_add_test(tc, test_provider_without_finish_is_skipped);
        tcase_add_test(tc, test_finish_failure_aborts_the_set);
        tcase_add_test(tc, test_second_finish_failure_names_its_provider);
        tcase_add_test(tc, test_slow_finish_fails_on_freeze_timeout);
        suite_add_tcase(s, tc);

        tc = tcase_create("atomicity");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_atomicity_one_instant_announced_after_prepare);
        tcase_add_test(tc, test_atomicity_is_the_weakest);
        tcase_add_test(tc, test_atomicity_unknown_when_prepare_fails);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(finish_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
