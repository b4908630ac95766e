/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_core_set.c: the snapshot set's state machine when things go right, and
 * the rules that keep it in bounds: every transition in order, writer events
 * and provider ops in order (levels, hold before commit), volumes (limits,
 * duplicates, providers), serialization of creation, provider failures at
 * every op. Aborts, vetoes and timeouts are in check_core_abort.c.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/core-env.h"

/* --- transitions ------------------------------------------------------------------ */

START_TEST(test_set_goes_through_every_state_in_order)
{
        tw_add("w", VSS_LEVEL_BACK_END);
        CoreSession *s = ready_session(OWNER);
        struct call c;
        ck_assert_int_eq(backup_complete(s, &c), 0);
        ck_assert_uint_eq(c.count, 1);
        ck_assert_str_eq(E.states, "collecting preparing-backup prepared preparing-snapshot "
                         "freezing committing thawing post-snapshot ready completing-backup "
                         "backup-complete");
        ck_assert_int_eq(s->set->state, CORE_SET_BACKUP_COMPLETE);
}
END_TEST

START_TEST(test_events_and_provider_ops_in_order)
{
        tw_add("w", VSS_LEVEL_BACK_END);
        CoreSession *s = prepared_session(OWNER, two_volumes);
        trace_clear();
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert_str_eq(E.trace, "w:PrepareSnapshot fake:prepare w:Freeze fake:hold fake:commit "
                         "fake:release w:Thaw w:PostSnapshot");
        trace_clear();
        ck_assert_int_eq(backup_complete(s, &c), 0);
        ck_assert_str_eq(E.trace, "w:BackupComplete");
}
END_TEST

/* What a writer's State shows after each answer, as GetWriterStatus would. */
START_TEST(test_writer_state_after_each_answer)
{
        struct test_writer *tw = tw_add("w", VSS_LEVEL_BACK_END);
        CoreSession *s = prepared_session(OWNER, two_volumes);
        ck_assert_int_eq(tw->w->state, VSS_WS_STABLE);
        tw->manual = true;
        struct call c = { 0 };
        ck_assert_int_eq(core_session_do_snapshot_set(s, OWNER, &c, NULL), 0);
        static const struct {
                enum core_event event;
                enum vss_writer_state after;
        } steps[] = {
                { CORE_EVENT_PREPARE_SNAPSHOT, VSS_WS_WAITING_FOR_FREEZE },
                { CORE_EVENT_FREEZE, VSS_WS_WAITING_FOR_THAW },
                { CORE_EVENT_THAW, VSS_WS_WAITING_FOR_POST_SNAPSHOT },
                { CORE_EVENT_POST_SNAPSHOT, VSS_WS_WAITING_FOR_BACKUP_COMPLETE },
        };
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                pump();
                ck_assert_int_eq(tw->event, steps[i].event);
                ck_assert_int_eq(tw_answer(tw, VSS_WF_NONE, ""), 0);
                ck_assert_int_eq(tw->w->state, steps[i].after);
        }
        pump();
        ck_assert_uint_eq(c.count, 1);
        ck_assert_int_eq(c.r, 0);
        ck_assert_int_eq(core_session_backup_complete(s, OWNER, &c, NULL), 0);
        ck_assert_int_eq(tw_answer(tw, VSS_WF_NONE, ""), 0);
        ck_assert_int_eq(tw->w->state, VSS_WS_STABLE);
        ck_assert_uint_eq(c.count, 2);
}
END_TEST

/* What the core and the provider show when the window's last release returns. */
static size_t seen_core, seen_provider;
static unsigned seen_added;
static enum core_set_state seen_state;
static CoreSession *seen_session;

static void look_at_snapshots(void)
{
        seen_core = count_snapshots();
        seen_added = E.added[CORE_OBJECT_SNAPSHOT];
        seen_provider = provider_snapshots();
        seen_state = seen_session->set->state;
}

START_TEST(test_snapshots_appear_only_when_made)
{
        tw_add("w", VSS_LEVEL_BACK_END);
        CoreSession *s = seen_session = prepared_session(OWNER, two_volumes);
        at_op("fake:release", look_at_snapshots);
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        /* Made by the provider, not yet shown: the window had not come back. */
        ck_assert_int_eq(seen_state, CORE_SET_COMMITTING);
        ck_assert_uint_eq(seen_provider, 2);
        ck_assert_uint_eq(seen_core, 0);
        ck_assert_uint_eq(seen_added, 0);
        ck_assert_uint_eq(count_snapshots(), 2);
        ck_assert_uint_eq(provider_snapshots(), 2);
        ck_assert_uint_eq(E.added[CORE_OBJECT_SNAPSHOT], 2);
        CoreSnapshot *snap = s->set->snapshots;
        ck_assert_str_eq(snap->origin, "/dev/fake/a");
        ck_assert_str_eq(snap->next->origin, "/dev/fake/b");
        ck_assert_str_eq(snap->id, s->set->volumes[0].snapshot_id);
        ck_assert_str_eq(snap->provider->vp->name, "fake");
        ck_assert_ptr_eq(snap->set, s->set);
        ck_assert_int_eq(snap->state, VSS_SNAPSHOT_VALID);
        ck_assert_uint_eq(snap->attributes, 0);
        ck_assert_uint_gt(snap->creation_usec, 0);
        ck_assert(creation_allowed());
}
END_TEST

/* Writers learn which set and volumes an event is about. */
START_TEST(test_events_carry_the_set)
{
        struct test_writer *tw = tw_add("w", VSS_LEVEL_BACK_END);
        CoreSession *s = ready_session(OWNER);
        ck_assert_str_eq(tw->last_set, s->set->id);
        ck_assert_uint_eq(s->set->n_volumes, 2);
        ck_assert_uint_eq(tw->n_events, 5);
}
END_TEST

START_TEST(test_no_writers_registered)
{
        CoreSession *s = ready_session(OWNER);
        ck_assert_str_eq(E.states, "collecting preparing-backup prepared preparing-snapshot "
                         "freezing committing thawing post-snapshot ready");
        ck_assert_uint_eq(count_snapshots(), 2);
        ck_assert_ptr_nonnull(s->set->snapshots);
}
END_TEST

/* A writer registering after PrepareForBackup waits for the next set. */
START_TEST(test_late_writer_not_in_set)
{
        CoreSession *s = prepared_session(OWNER, two_volumes);
        struct test_writer *late = tw_add("late", VSS_LEVEL_FRONT_END);
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert_uint_eq(late->n_events, 0);
}
END_TEST

/* --- levels -------------------------------------------------------------------------- */

START_TEST(test_freeze_by_level_front_back_system)
{
        /* Registered out of order on purpose. */
        struct test_writer *sys = tw_add("sys", VSS_LEVEL_SYSTEM);
        struct test_writer *be1 = tw_add("be1", VSS_LEVEL_BACK_END);
        struct test_writer *fe1 = tw_add("fe1", VSS_LEVEL_FRONT_END);
        struct test_writer *be2 = tw_add("be2", VSS_LEVEL_BACK_END);
        struct test_writer *fe2 = tw_add("fe2", VSS_LEVEL_FRONT_END);
        CoreSession *s = prepared_session(OWNER, two_volumes);
        for (size_t i = 0; i < E.n_writers; i++)
                E.writers[i].silent_at = CORE_EVENT_FREEZE;
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);

        /* Front-end first, both at once; nobody else yet. */
        ck_assert_int_eq(fe1->event, CORE_EVENT_FREEZE);
        ck_assert_int_eq(fe2->event, CORE_EVENT_FREEZE);
        ck_assert(!trace_has("be1:Freeze") && !trace_has("be2:Freeze") && !trace_has("sys:Freeze"));
        ck_assert_int_eq(tw_answer(fe1, VSS_WF_NONE, ""), 0);
        ck_assert(!trace_has("be1:Freeze"));
        ck_assert_int_eq(tw_answer(fe2, VSS_WF_NONE, ""), 0);

        /* Then back-end, both at once. */
        ck_assert_int_eq(be1->event, CORE_EVENT_FREEZE);
        ck_assert_int_eq(be2->event, CORE_EVENT_FREEZE);
        ck_assert(!trace_has("sys:Freeze"));
        ck_assert_int_eq(tw_answer(be2, VSS_WF_NONE, ""), 0);
        ck_assert_int_eq(tw_answer(be1, VSS_WF_NONE, ""), 0);

        /* Then system, and only then the provider holds. */
        ck_assert_int_eq(sys->event, CORE_EVENT_FREEZE);
        ck_assert(!trace_has("fake:hold"));
        ck_assert_int_eq(tw_answer(sys, VSS_WF_NONE, ""), 0);
        pump();
        ck_assert_int_eq(c.r, 0);
        ck_assert_int_lt(trace_last("sys:Freeze"), trace_pos("fake:hold"));
        ck_assert_int_lt(trace_pos("fake:release"), trace_pos("fe1:Thaw"));
        for (size_t i = 0; i < E.n_writers; i++)
                ck_assert_int_eq(E.writers[i].w->state, VSS_WS_WAITING_FOR_BACKUP_COMPLETE);
}
END_TEST

/* Writers of a phase get their events together: one slow writer delays, not serializes. */
START_TEST(test_phase_events_go_out_in_parallel)
{
        struct test_writer *a = tw_add("a", VSS_LEVEL_BACK_END);
        struct test_writer *b = tw_add("b", VSS_LEVEL_BACK_END);
        a->manual = b->manual = true;
        CoreSession *s = session_open(OWNER);
        set_start(s);
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        struct call c = { 0 };
        ck_assert_int_eq(core_session_prepare_for_backup(s, OWNER, &c, NULL), 0);
        ck_assert_int_eq(a->event, CORE_EVENT_PREPARE_BACKUP);
        ck_assert_int_eq(b->event, CORE_EVENT_PREPARE_BACKUP);
        ck_assert_int_eq(tw_answer(b, VSS_WF_NONE, ""), 0);
        ck_assert_uint_eq(c.count, 0);
        ck_assert_int_eq(s->set->state, CORE_SET_PREPARING_BACKUP);
        ck_assert_int_eq(tw_answer(a, VSS_WF_NONE, ""), 0);
        ck_assert_uint_eq(c.count, 1);
        ck_assert_int_eq(s->set->state, CORE_SET_PREPARED);
}
END_TEST

/* --- several providers ----------------------------------------------------------------- */

START_TEST(test_two_providers_hold_together)
{
        env_add_other_provider();
        static const char *const volumes[] = { "/dev/fake/a", "/dev/other/a", "/dev/fake/b", NULL };
        CoreSession *s = prepared_session(OWNER, volumes);
        ck_assert_str_eq(s->set->volumes[0].provider->vp->name, "fake");
        ck_assert_str_eq(s->set->volumes[1].provider->vp->name, "other");
        trace_clear();
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert_str_eq(E.trace, "fake:prepare other:prepare fake:hold other:hold fake:commit "
                         "other:commit fake:release other:release");
        ck_assert_uint_eq(count_snapshots(), 3);
        ck_assert_str_eq(s->set->snapshots->next->provider->vp->name, "other");
}
END_TEST

START_TEST(test_provider_chosen_per_volume_or_by_name)
{
        env_add_other_provider();
        CoreSession *s = session_open(OWNER);
        set_start(s);
        struct call c = { 0 };
        struct vss_error_buf err = { "" };
        /* The first provider that says yes is taken ... */
        ck_assert_int_eq(add_volume(s, "/dev/other/b", &c), 0);
        ck_assert_str_eq(s->set->volumes[0].provider->vp->name, "other");
        ck_assert_str_eq(c.id, s->set->volumes[0].snapshot_id);
        /* ... unless the requester names one, which must then say yes itself. */
        memset(&c, 0, sizeof(c));
        ck_assert_int_eq(core_session_add_to_snapshot_set(s, OWNER, "/dev/fake/a", "other", &c,
                                                          &err), 0);
        pump();
        ck_assert_int_eq(c.r, -VSS_E_VOLUME_NOT_SUPPORTED);
        assert_contains(c.message, "/dev/fake/a");
        assert_contains(c.message, "other");
        ck_assert_int_eq(core_session_add_to_snapshot_set(s, OWNER, "/dev/fake/a", "nope", &c,
                                                          &err), -ENOENT);
        assert_contains(err.message, "'nope'");
        ck_assert_uint_eq(s->set->n_volumes, 1);
}
END_TEST

/* --- volumes --------------------------------------------------------------------------- */

START_TEST(test_unsupported_volume_says_why)
{
        CoreSession *s = session_open(OWNER);
        CoreSet *set = set_start(s);
        struct call c = { 0 };
        ck_assert_int_eq(add_volume(s, "/dev/sda1", &c), -VSS_E_VOLUME_NOT_SUPPORTED);
        assert_contains(c.message, "/dev/sda1");
        assert_contains(c.message, "fake: ");
        assert_contains(c.message, "not under /dev/fake/");
        ck_assert_uint_eq(set->n_volumes, 0);
        ck_assert_int_eq(set->state, CORE_SET_CREATED);
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0); /* the set is still usable */
}
END_TEST

/* A provider that cannot tell (an error, not a "no") gives its error. */
START_TEST(test_volume_check_error_is_reported)
{
        CoreSession *s = session_open(OWNER);
        set_start(s);
        fault("fail is_volume_supported EBUSY");
        struct call c = { 0 };
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", &c), -EBUSY);
        assert_contains(c.message, "/dev/fake/a");
        assert_contains(c.message, "injected failure at is_volume_supported");
}
END_TEST

START_TEST(test_volume_once_per_set)
{
        CoreSession *s = session_open(OWNER);
        set_start(s);
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        struct call c = { 0 };
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", &c), -VSS_E_VOLUME_IN_SET);
        assert_contains(c.message, "/dev/fake/a");
        assert_contains(c.message, "already in snapshot set");
        ck_assert_uint_eq(c.count, 0); /* refused at once, no reply */
        ck_assert_uint_eq(s->set->n_volumes, 1);
}
END_TEST

START_TEST(test_at_most_64_volumes)
{
        CoreSession *s = session_open(OWNER);
        set_start(s);
        char name[64];
        for (int i = 0; i < VSS_MAX_VOLUMES_PER_SET; i++) {
                snprintf(name, sizeof(name), "/dev/fake/v%d", i);
                ck_assert_int_eq(add_volume(s, name, NULL), 0);
        }
        struct call c = { 0 };
        ck_assert_int_eq(add_volume(s, "/dev/fake/v64", &c), -VSS_E_MAX_VOLUMES);
        assert_contains(c.message, "/dev/fake/v64");
        assert_contains(c.message, "64");
        ck_assert_uint_eq(s->set->n_volumes, 64);
        /* 64 is fine all the way through. */
        ck_assert_int_eq(prepare(s, &c), 0);
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert_uint_eq(count_snapshots(), 64);
}
END_TEST

START_TEST(test_calls_out_of_order_are_refused)
{
        CoreSession *s = session_open(OWNER);
        struct call c;
        struct vss_error_buf err = { "" };
        ck_assert_int_eq(core_session_add_to_snapshot_set(s, OWNER, "/dev/fake/a", NULL, &c, &err),
                         -VSS_E_BAD_STATE);
        assert_contains(err.message, "StartSnapshotSet");
        set_start(s);
        ck_assert_int_eq(prepare(s, &c), -VSS_E_BAD_STATE);
        assert_contains(c.message, "AddToSnapshotSet");
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        ck_assert_int_eq(do_snapshot(s, &c), -VSS_E_BAD_STATE);
        assert_contains(c.message, "PrepareForBackup");
        ck_assert_int_eq(backup_complete(s, &c), -VSS_E_BAD_STATE);
        ck_assert_int_eq(prepare(s, &c), 0);
        ck_assert_int_eq(add_volume(s, "/dev/fake/b", &c), -VSS_E_BAD_STATE);
        assert_contains(c.message, "before PrepareForBackup");
        ck_assert_int_eq(prepare(s, &c), -VSS_E_BAD_STATE);
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert_int_eq(do_snapshot(s, &c), -VSS_E_BAD_STATE);
        ck_assert_int_eq(s->set->state, CORE_SET_READY);
}
END_TEST

/* One call at a time per session. */
START_TEST(test_second_call_while_pending_is_busy)
{
        struct test_writer *tw = tw_add("w", VSS_LEVEL_BACK_END);
        CoreSession *s = session_open(OWNER);
        set_start(s);
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        tw->manual = true;
        struct call c = { 0 }, c2 = { 0 };
        struct vss_error_buf err = { "" };
        ck_assert_int_eq(core_session_prepare_for_backup(s, OWNER, &c, NULL), 0);
        ck_assert_int_eq(core_session_do_snapshot_set(s, OWNER, &c2, &err), -EBUSY);
        assert_contains(err.message, "waiting");
        ck_assert_int_eq(tw_answer(tw, VSS_WF_NONE, ""), 0);
        ck_assert_uint_eq(c.count, 1);
        ck_assert_uint_eq(c2.count, 0);
}
END_TEST

/* --- serialization ---------------------------------------------------------------------- */

START_TEST(test_one_set_created_at_a_time)
{
        struct test_writer *tw = tw_add("w", VSS_LEVEL_BACK_END);
        CoreSession *a = prepared_session(":1.10", two_volumes);
        CoreSession *b = session_open(":1.11");
        CoreSet *set;
        struct vss_error_buf err = { "" };
        ck_assert_int_eq(core_session_start_snapshot_set(b, ":1.11", &set, &err),
                         -VSS_E_SET_IN_PROGRESS);
        assert_contains(err.message, a->set->id);
        ck_assert_ptr_null(b->set);

        /* Still refused while DoSnapshotSet runs ... */
        tw->silent_at = CORE_EVENT_FREEZE;
        struct call c;
        ck_assert_int_eq(do_snapshot(a, &c), 1);
        ck_assert_int_eq(core_session_start_snapshot_set(b, ":1.11", &set, &err),
                         -VSS_E_SET_IN_PROGRESS);
        const char *vols[] = { "/dev/fake/z" };
        struct call cc = { 0 };
        ck_assert_int_eq(core_create_snapshot_set(E.core, ":1.12", vols, 1, NULL, &cc, &err),
                         -VSS_E_SET_IN_PROGRESS);

        /* ... and allowed once it returned. */
        release_all();
        ck_assert_int_eq(c.r, 0);
        ck_assert_int_eq(core_session_start_snapshot_set(b, ":1.11", &set, &err), 0);
}
END_TEST

START_TEST(test_lock_released_by_failure)
{
        CoreSession *a = prepared_session(":1.10", two_volumes);
        fault("fail commit");
        struct call c;
        ck_assert_int_eq(do_snapshot(a, &c), -VSS_E_PROVIDER_FAILED);
        CoreSession *b = session_open(":1.11");
        set_start(b);
        /* And the failed session may start over with a new set. */
        fault_clear();
        CoreSession *again = a;
        ck_assert_int_eq(core_session_release(b, ":1.11", NULL, NULL), 0);
        CoreSet *old = again->set;
        CoreSet *fresh = set_start(again);
        ck_assert_ptr_ne(old, fresh);
        ck_assert_int_eq(add_volume(again, "/dev/fake/a", NULL), 0);
        ck_assert_int_eq(prepare(again, &c), 0);
        ck_assert_int_eq(do_snapshot(again, &c), 0);
}
END_TEST

/* --- provider failures at every op --------------------------------------------------------- */

static const char *const provider_ops[] = { "prepare", "hold", "commit", "release" };

START_TEST(test_provider_op_failure_aborts)
{
        const char *op = provider_ops[_i];
        char line[64];
        struct test_writer *fe = tw_add("fe", VSS_LEVEL_FRONT_END);
        struct test_writer *be = tw_add("be", VSS_LEVEL_BACK_END);
        CoreSession *s = prepared_session(OWNER, two_volumes);
        snprintf(line, sizeof(line), "fail %s ENOSPC", op);
        fault(line);
        trace_clear();
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), -VSS_E_PROVIDER_FAILED);
        ck_assert_uint_eq(c.count, 1);
        assert_contains(c.message, op);
        assert_contains(c.message, "'fake'");
        assert_contains(c.message, s->set->id);
        assert_contains(c.message, "injected failure");
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
        ck_assert_int_eq(s->set->error, -VSS_E_PROVIDER_FAILED);
        ck_assert(trace_has("fake:abort"));
        ck_assert_uint_eq(count_snapshots(), 0);
        ck_assert_uint_eq(provider_snapshots(), 0);
        ck_assert(creation_allowed());
        /* Writers frozen by then get Abort after their Freeze; nobody stays frozen. */
        bool frozen = strcmp(op, "prepare") != 0;
        ck_assert_int_eq(trace_has("fe:Freeze"), frozen);
        ck_assert_int_gt(trace_last("fe:Abort"), trace_last("fe:Freeze"));
        ck_assert_int_gt(trace_last("be:Abort"), trace_last("be:Freeze"));
        ck_assert(!trace_has("fe:Thaw"));
        ck_assert_int_eq(fe->w->state, VSS_WS_STABLE);
        ck_assert_int_eq(be->w->state, VSS_WS_STABLE);
}
END_TEST

/* An abort the provider fails too is reported, so the admin knows to recover. */
START_TEST(test_provider_abort_failure_is_reported)
{
        CoreSession *s = prepared_session(OWNER, two_volumes);
        fault("fail hold");
        fault("fail abort");
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), -VSS_E_PROVIDER_FAILED);
        assert_contains(c.message, "hold");
        assert_contains(c.message, "could not undo");
        assert_contains(c.message, "Recover");
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
}
END_TEST

static Suite *set_suite(void)
{
        Suite *s = suite_create("core-set");
        TCase *tc = tcase_create("lifecycle");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_set_goes_through_every_state_in_order);
        tcase_add_test(tc, test_events_and_provider_ops_in_order);
        tcase_add_test(tc, test_writer_state_after_each_answer);
        tcase_add_test(tc, test_snapshots_appear_only_when_made);
        tcase_add_test(tc, test_events_carry_the_set);
        tcase_add_test(tc, test_no_writers_registered);
        tcase_add_test(tc, test_late_writer_not_in_set);
        tcase_add_test(tc, test_freeze_by_level_front_back_system);
        tcase_add_test(tc, test_phase_events_go_out_in_parallel);
        tcase_add_test(tc, test_two_providers_hold_together);
        tcase_add_test(tc, test_provider_chosen_per_volume_or_by_name);
        suite_add_tcase(s, tc);

        tc = tcase_create("rules");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_unsupported_volume_says_why);
        tcase_add_test(tc, test_volume_check_error_is_reported);
        tcase_add_test(tc, test_volume_once_per_set);
        tcase_add_test(tc, test_at_most_64_volumes);
        tcase_add_test(tc, test_calls_out_of_order_are_refused);
        tcase_add_test(tc, test_second_call_while_pending_is_busy);
        tcase_add_test(tc, test_one_set_created_at_a_time);
        tcase_add_test(tc, test_lock_released_by_failure);
        tcase_add_loop_test(tc, test_provider_op_failure_aborts, 0, ELEMENTSOF(provider_ops));
        tcase_add_test(tc, test_provider_abort_failure_is_reported);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(set_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
