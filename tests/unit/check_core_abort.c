/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_core_abort.c: everything that stops a snapshot set: writers vetoing
 * each event at each level, timeouts (freeze, events, a hold that hangs) on the
 * test's clock, writers leaving mid-set, and AbortBackup from every state (the
 * hold window cut short at each of its ops: check_core_window.c).
 * Whatever the cause, at the end no writer is left frozen and the provider has
 * undone what it made.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/core-env.h"

/* Every Freeze NAME got was followed by a Thaw or an Abort. */
static bool writer_left_thawed(const char *name)
{
        char freeze[64], thaw[64], abort_[64];
        snprintf(freeze, sizeof(freeze), "%s:Freeze", name);
        snprintf(thaw, sizeof(thaw), "%s:Thaw", name);
        snprintf(abort_, sizeof(abort_), "%s:Abort", name);
        long f = trace_last(freeze), t = trace_last(thaw), a = trace_last(abort_);
        return f < 0 || t > f || a > f;
}

/* --- vetoes ------------------------------------------------------------------------ */

static const struct {
        enum core_event event;
        enum vss_writer_state state;
        unsigned n_events; /* events the vetoing writer gets in all */
} nonfatal[] = {
        { CORE_EVENT_PREPARE_BACKUP, VSS_WS_FAILED_AT_PREPARE_BACKUP, 1 },
        { CORE_EVENT_PREPARE_SNAPSHOT, VSS_WS_FAILED_AT_PREPARE_SNAPSHOT, 2 },
        { CORE_EVENT_POST_SNAPSHOT, VSS_WS_FAILED_AT_POST_SNAPSHOT, 5 },
        { CORE_EVENT_BACKUP_COMPLETE, VSS_WS_FAILED_AT_BACKUP_COMPLETE, 6 },
};

/*
 * PrepareBackup, PrepareSnapshot, PostSnapshot, BackupComplete: reported, the
 * set goes on (the writer has no component in the set: check_core_components.c).
 */
START_TEST(test_nonfatal_veto_is_reported)
{
        enum core_event event = nonfatal[_i].event;
        struct test_writer *fe = tw_add("fe", VSS_LEVEL_FRONT_END);
        struct test_writer *be = tw_add("be", VSS_LEVEL_BACK_END);
        tw_fail_at(be, event, VSS_WF_RETRYABLE);
        CoreSession *s = session_open(OWNER);
        set_start(s);
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        struct call cp, cd, cb;
        ck_assert_int_eq(prepare(s, &cp), 0);
        ck_assert_int_eq(do_snapshot(s, &cd), 0);
        ck_assert_int_eq(backup_complete(s, &cb), 0);

        struct call *reply = event == CORE_EVENT_PREPARE_BACKUP ? &cp
                           : event == CORE_EVENT_BACKUP_COMPLETE ? &cb : &cd;
        char expect[128];
        snprintf(expect, sizeof(expect), "writer 'be' failed %s (RETRYABLE): vetoed by the test",
                 core_event_to_string(event));
        assert_contains(reply->message, expect);
        ck_assert_int_eq(be->w->state, nonfatal[_i].state);
        ck_assert_int_eq(be->w->failure, VSS_WF_RETRYABLE);
        ck_assert_str_eq(be->w->failure_message, "vetoed by the test");
        ck_assert_uint_eq(be->n_events, nonfatal[_i].n_events); /* no events after failing */
        ck_assert_uint_eq(fe->n_events, 6);
        ck_assert_int_eq(fe->w->state, VSS_WS_STABLE);
        ck_assert_int_eq(s->set->state, CORE_SET_BACKUP_COMPLETE);
        ck_assert_uint_eq(count_snapshots(), 1);
        ck_assert(!trace_has("fake:abort"));
}
END_TEST

/* A Freeze veto at any level aborts: later levels never freeze, earlier ones get Abort. */
START_TEST(test_freeze_veto_at_each_level_aborts)
{
        static const char *const names[] = { "fe", "be", "sys" };
        struct test_writer *tws[3];
        for (int level = 0; level < 3; level++)
                tws[level] = tw_add(names[level], (enum vss_writer_level)level);
        tw_fail_at(tws[_i], CORE_EVENT_FREEZE, VSS_WF_INCONSISTENT_SNAPSHOT);
        CoreSession *s = prepared_session(OWNER, two_volumes);
        trace_clear();
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), -VSS_E_WRITER_FAILED);
        char expect[96];
        snprintf(expect, sizeof(expect), "writer '%s' failed Freeze (INCONSISTENTSNAPSHOT): "
                 "vetoed by the test", names[_i]);
        assert_contains(c.message, expect);
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
        for (int level = 0; level < 3; level++) {
                char freeze[32], abort_[32];
                snprintf(freeze, sizeof(freeze), "%s:Freeze", names[level]);
                snprintf(abort_, sizeof(abort_), "%s:Abort", names[level]);
                ck_assert_int_eq(trace_has(freeze), level <= _i);
                ck_assert(trace_has(abort_));
                ck_assert(writer_left_thawed(names[level]));
                ck_assert_int_eq(tws[level]->w->state, level == _i ? VSS_WS_FAILED_AT_FREEZE
                                                                    : VSS_WS_STABLE);
        }
        ck_assert(trace_has("fake:abort"));
        ck_assert(!trace_has("fake:hold"));
        ck_assert_uint_eq(count_snapshots(), 0);
        ck_assert(creation_allowed());
}
END_TEST

START_TEST(test_thaw_veto_aborts_and_removes_snapshots)
{
        tw_add("fe", VSS_LEVEL_FRONT_END);
        struct test_writer *be = tw_add("be", VSS_LEVEL_BACK_END);
        tw_fail_at(be, CORE_EVENT_THAW, VSS_WF_NONRETRYABLE);
        CoreSession *s = prepared_session(OWNER, two_volumes);
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), -VSS_E_WRITER_FAILED);
        assert_contains(c.message, "writer 'be' failed Thaw");
        ck_assert_int_eq(be->w->state, VSS_WS_FAILED_AT_THAW);
        ck_assert_int_lt(trace_pos("fake:release"), trace_pos("fake:abort"));
        ck_assert(!trace_has("fe:PostSnapshot"));
        ck_assert(trace_has("fe:Abort"));
        ck_assert_uint_eq(count_snapshots(), 0);
        ck_assert_uint_eq(E.added[CORE_OBJECT_SNAPSHOT], 0);
        ck_assert_uint_eq(provider_snapshots(), 0);
}
END_TEST

/* --- timeouts ------------------------------------------------------------------------- */

START_TEST(test_freeze_timeout_aborts_exactly_at_timeout)
{
        struct test_writer *fe = tw_add("fe", VSS_LEVEL_FRONT_END);
        struct test_writer *slow = tw_add_full("slow", "i-slow", VSS_LEVEL_FRONT_END, 5000);
        slow->silent_at = CORE_EVENT_FREEZE;
        CoreSession *s = prepared_session(OWNER, two_volumes);
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);
        ck_assert_int_eq(slow->event, CORE_EVENT_FREEZE);
        uint64_t cookie = slow->cookie;
        advance(4999);
        ck_assert_int_eq(s->set->state, CORE_SET_FREEZING);
        ck_assert(!trace_has("fe:Abort"));
        advance(1);
        ck_assert(trace_has("fe:Abort")); /* thawed at once, not after the provider */
        pump();
        ck_assert_int_eq(c.r, -VSS_E_WRITER_FAILED);
        assert_contains(c.message, "writer 'slow' failed Freeze (TIMEOUT)");
        assert_contains(c.message, "freeze timeout of 5000 ms");
        ck_assert_int_eq(slow->w->state, VSS_WS_FAILED_AT_FREEZE);
        ck_assert_int_eq(slow->w->failure, VSS_WF_TIMEOUT);
        ck_assert(writer_left_thawed("fe") && writer_left_thawed("slow"));
        /* Its late answer is refused and changes nothing. */
        ck_assert_int_eq(core_writer_answer(slow->w, slow->owner, cookie, VSS_WF_NONE, "", NULL),
                         -VSS_E_STALE_COOKIE);
        ck_assert_int_eq(slow->w->state, VSS_WS_FAILED_AT_FREEZE);
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
        ck_assert_int_eq(fe->w->state, VSS_WS_STABLE);
}
END_TEST

/* A writer may ask for less than the configured freeze timeout, never more. */
START_TEST(test_freeze_timeout_capped_by_config)
{
        CoreConfig cfg = { .freeze_timeout_ms = 20000, .hold_timeout_ms = 10000,
                                   .event_timeout_ms = 60000 };
        ck_assert_int_eq(core_config_set(E.core, &cfg, NULL), 0);
        struct test_writer *greedy = tw_add_full("greedy", "i-g", VSS_LEVEL_BACK_END, 120000);
        ck_assert_uint_eq(core_writer_freeze_timeout(greedy->w), 20000);
        greedy->silent_at = CORE_EVENT_FREEZE;
        CoreSession *s = prepared_session(OWNER, two_volumes);
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);
        advance(19999);
        ck_assert_int_eq(s->set->state, CORE_SET_FREEZING);
        advance(1);
        pump();
        ck_assert_int_eq(c.r, -VSS_E_WRITER_FAILED);
        assert_contains(c.message, "20000 ms");
}
END_TEST

/* What the set looked like when the slow hold returned, after the freeze timeout. */
static CoreSession *slow_session;
static struct call *slow_call;
static enum core_set_state slow_state;
static unsigned slow_replies;

static void hold_outlasts_freeze_timeout(void)
{
        ck_assert_int_eq(slow_session->set->state, CORE_SET_COMMITTING);
        advance(5000);
        slow_state = slow_session->set->state;
        slow_replies = slow_call->count;
}

/* The freeze timeout runs from Freeze to Thaw: a slow hold can outlast it. */
START_TEST(test_freeze_timeout_covers_until_thaw)
{
        struct test_writer *w = tw_add_full("w", "i-w", VSS_LEVEL_BACK_END, 5000);
        CoreSession *s = slow_session = prepared_session(OWNER, two_volumes);
        at_op("fake:hold", hold_outlasts_freeze_timeout);
        struct call c;
        slow_call = &c;
        ck_assert_int_eq(do_snapshot(s, &c), -VSS_E_WRITER_FAILED);
        ck_assert_int_eq(slow_state, CORE_SET_ABORTING); /* waited for the window in flight */
        ck_assert_uint_eq(slow_replies, 0);
        assert_contains(c.message, "stayed frozen");
        ck_assert_int_eq(w->w->state, VSS_WS_FAILED_AT_FREEZE);
        /* Cut short: released at once, never committed, then undone. */
        ck_assert_int_lt(trace_pos("fake:hold"), trace_pos("w:Abort"));
        ck_assert_int_lt(trace_pos("w:Abort"), trace_pos("fake:release"));
        ck_assert_int_lt(trace_pos("fake:release"), trace_pos("fake:abort"));
        ck_assert(!trace_has("fake:commit"));
        ck_assert_uint_eq(log_count("fake", "release", s->set->id), 1);
        ck_assert_uint_eq(provider_snapshots(), 0);
        ck_assert_int_eq(E.n_watchdog, 0);
}
END_TEST

/*
 * Other events have an answer timeout too; for PrepareSnapshot, of a writer with
 * no component in the set, it is not fatal.
 */
START_TEST(test_prepare_snapshot_timeout_is_reported)
{
        struct test_writer *mute = tw_add("mute", VSS_LEVEL_BACK_END);
        tw_add("ok", VSS_LEVEL_BACK_END);
        mute->silent_at = CORE_EVENT_PREPARE_SNAPSHOT;
        CoreSession *s = prepared_session(OWNER, two_volumes);
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);
        advance(59999);
        ck_assert_int_eq(s->set->state, CORE_SET_PREPARING_SNAPSHOT);
        advance(1);
        pump();
        ck_assert_int_eq(c.r, 0);
        assert_contains(c.message, "did not answer PrepareSnapshot within 60000 ms");
        ck_assert_int_eq(mute->w->state, VSS_WS_FAILED_AT_PREPARE_SNAPSHOT);
        ck_assert_int_eq(mute->w->failure, VSS_WF_TIMEOUT);
        ck_assert(!trace_has("mute:Freeze"));
        ck_assert_int_eq(s->set->state, CORE_SET_READY);
}
END_TEST

START_TEST(test_thaw_timeout_aborts)
{
        struct test_writer *mute = tw_add("mute", VSS_LEVEL_BACK_END);
        mute->silent_at = CORE_EVENT_THAW;
        CoreSession *s = prepared_session(OWNER, two_volumes);
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);
        advance(60000);
        pump();
        ck_assert_int_eq(c.r, -VSS_E_WRITER_FAILED);
        assert_contains(c.message, "did not answer Thaw within 60000 ms");
        ck_assert_int_eq(mute->w->state, VSS_WS_FAILED_AT_THAW);
        ck_assert_uint_eq(count_snapshots(), 0);
        ck_assert_uint_eq(provider_snapshots(), 0);
}
END_TEST

/* --- the hold window (the rest is in check_core_window.c) ------------------------- */

static void *stuck_run(void *userdata)
{
        core_job_execute(userdata);
        return NULL;
}

/*
 * The real thing: the window's hold hangs on the provider thread, the bound
 * passes, the watchdog's release cuts the hold short, and the window (its
 * hold failed) releases nothing itself.
 */
START_TEST(test_watchdog_release_unblocks_a_hanging_hold)
{
        fault("stall hold 30000"); /* far past the test's own time limit */
        CoreSession *s = prepared_session(OWNER, two_volumes);
        E.stop_op = CORE_JOB_WINDOW;
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);
        ck_assert_uint_eq(E.n_jobs, 1);
        CoreJob *job = E.jobs[0];
        E.n_jobs = 0;
        pthread_t thread;
        ck_assert_int_eq(pthread_create(&thread, NULL, stuck_run, job), 0);
        for (int i = 0; i < 5000 && !log_count("fake", "hold", NULL); i++)
                usleep(1000);
        ck_assert_uint_eq(log_count("fake", "hold", NULL), 1);
        advance(10000); /* the watchdog releases from this thread */
        ck_assert_int_eq(pthread_join(thread, NULL), 0);
        ck_assert_int_eq(job->r, -ECANCELED);
        assert_contains(job->err.message, "cancelled by release");
        core_job_complete(job);
        release_all();
        ck_assert_int_eq(c.r, -VSS_E_HOLD_TIMEOUT);
        assert_contains(c.message, "hold-window bound of 10000 ms (provider 'fake' was still "
                        "in hold)");
        ck_assert_uint_eq(E.n_watchdog, 1);
        ck_assert_uint_eq(log_count("fake", "release", NULL), 1);
        ck_assert(!trace_has("fake:commit"));
        ck_assert_int_lt(trace_pos("fake:release"), trace_pos("fake:abort"));
        ck_assert_uint_eq(provider_snapshots(), 0);
}
END_TEST

/* --- writers leaving --------------------------------------------------------------------- */

START_TEST(test_writer_leaves_mid_freeze)
{
        struct test_writer *fe = tw_add("fe", VSS_LEVEL_FRONT_END);
        tw_add("be", VSS_LEVEL_BACK_END);
        fe->silent_at = CORE_EVENT_FREEZE;
        CoreSession *s = prepared_session(OWNER, two_volumes);
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);
        CoreWriter *w = fe->w;
        core_owner_vanished(E.core, fe->owner);
        ck_assert_uint_eq(E.removed[CORE_OBJECT_WRITER], 1);
        ck_assert_int_eq(w->state, VSS_WS_FAILED_AT_FREEZE); /* the set still shows it */
        pump();
        ck_assert_int_eq(c.r, -VSS_E_WRITER_FAILED);
        assert_contains(c.message, "writer 'fe' failed Freeze");
        assert_contains(c.message, "left the bus");
        ck_assert(!trace_has("be:Freeze"));
        ck_assert(trace_has("be:Abort"));
        ck_assert(!trace_has("fe:Abort")); /* nobody to tell */
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
}
END_TEST

START_TEST(test_writer_leaves_while_frozen)
{
        struct test_writer *fe = tw_add("fe", VSS_LEVEL_FRONT_END);
        tw_add("be", VSS_LEVEL_BACK_END);
        CoreSession *s = prepared_session(OWNER, two_volumes);
        E.stop_op = CORE_JOB_WINDOW;
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);
        CoreWriter *w = fe->w;
        ck_assert_int_eq(w->state, VSS_WS_WAITING_FOR_THAW);
        ck_assert_int_eq(core_writer_unregister(w, fe->owner, NULL), 0);
        ck_assert_int_eq(w->state, VSS_WS_FAILED_AT_THAW);
        ck_assert(trace_has("be:Abort"));
        release_all();
        ck_assert_int_eq(c.r, -VSS_E_WRITER_FAILED);
        assert_contains(c.message, "left the bus while frozen");
        ck_assert_uint_eq(provider_snapshots(), 0);
}
END_TEST

/* Gone before its level freezes: it fails at Freeze when the set gets there. */
START_TEST(test_writer_leaves_before_its_freeze)
{
        struct test_writer *fe = tw_add("fe", VSS_LEVEL_FRONT_END);
        struct test_writer *be = tw_add("be", VSS_LEVEL_BACK_END);
        CoreSession *s = prepared_session(OWNER, two_volumes);
        fe->manual = true;
        struct call c = { 0 };
        ck_assert_int_eq(core_session_do_snapshot_set(s, OWNER, &c, NULL), 0);
        ck_assert_int_eq(tw_answer(fe, VSS_WF_NONE, ""), 0); /* PrepareSnapshot */
        pump();
        CoreWriter *w = be->w;
        core_owner_vanished(E.core, be->owner);
        ck_assert_int_eq(s->set->state, CORE_SET_FREEZING);
        ck_assert_int_eq(tw_answer(fe, VSS_WF_NONE, ""), 0); /* Freeze */
        pump();
        ck_assert_int_eq(c.r, -VSS_E_WRITER_FAILED);
        assert_contains(c.message, "writer 'be' failed Freeze");
        assert_contains(c.message, "left the bus before Freeze");
        ck_assert_int_eq(w->state, VSS_WS_FAILED_AT_FREEZE);
        ck_assert(writer_left_thawed("fe"));
}
END_TEST

START_TEST(test_writer_leaves_mid_prepare_snapshot)
{
        struct test_writer *fe = tw_add("fe", VSS_LEVEL_FRONT_END);
        struct test_writer *be = tw_add("be", VSS_LEVEL_BACK_END);
        be->silent_at = CORE_EVENT_PREPARE_SNAPSHOT;
        CoreSession *s = prepared_session(OWNER, two_volumes);
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);
        CoreWriter *w = be->w;
        core_owner_vanished(E.core, be->owner);
        pump();
        ck_assert_int_eq(c.r, 0);
        assert_contains(c.message, "writer 'be' failed PrepareSnapshot");
        ck_assert_int_eq(w->state, VSS_WS_FAILED_AT_PREPARE_SNAPSHOT);
        ck_assert_int_eq(fe->w->state, VSS_WS_WAITING_FOR_BACKUP_COMPLETE);
        ck_assert_int_eq(s->set->state, CORE_SET_READY);
}
END_TEST

/* --- AbortBackup from every state ------------------------------------------------------------ */

enum stop {
        AT_CREATED, AT_ADDING, AT_COLLECTING, AT_PREPARING_BACKUP, AT_PREPARED,
        AT_PREPARING_SNAPSHOT, AT_PROVIDER_PREPARE, AT_FREEZING_FRONT, AT_FREEZING_BACK,
        AT_WINDOW, AT_THAWING, AT_POST_SNAPSHOT, AT_READY,
        AT_COMPLETING, AT_BACKUP_COMPLETE, _AT_MAX
};

static const struct {
        enum core_set_state state;
        bool pending;  /* a call waits for its reply there */
        int silent;    /* the event "be" does not answer, to stop there */
        int stop_op;   /* the provider job pump() does not run, to stop there */
} stops[_AT_MAX] = {
        [AT_CREATED] = { CORE_SET_CREATED, false, -1, -1 },
        [AT_ADDING] = { CORE_SET_CREATED, true, -1, CORE_JOB_IS_VOLUME_SUPPORTED },
        [AT_COLLECTING] = { CORE_SET_COLLECTING, false, -1, -1 },
        [AT_PREPARING_BACKUP] = { CORE_SET_PREPARING_BACKUP, true, CORE_EVENT_PREPARE_BACKUP, -1 },
        [AT_PREPARED] = { CORE_SET_PREPARED, false, -1, -1 },
        [AT_PREPARING_SNAPSHOT] = { CORE_SET_PREPARING_SNAPSHOT, true, CORE_EVENT_PREPARE_SNAPSHOT,
                                    -1 },
        [AT_PROVIDER_PREPARE] = { CORE_SET_PREPARING_SNAPSHOT, true, -1, CORE_JOB_PREPARE },
        [AT_FREEZING_FRONT] = { CORE_SET_FREEZING, true, -1, -1 }, /* "fe" is silent */
        [AT_FREEZING_BACK] = { CORE_SET_FREEZING, true, CORE_EVENT_FREEZE, -1 },
        /* Aborts in the middle of the window: check_core_window.c. */
        [AT_WINDOW] = { CORE_SET_COMMITTING, true, -1, CORE_JOB_WINDOW },
        [AT_THAWING] = { CORE_SET_THAWING, true, CORE_EVENT_THAW, -1 },
        [AT_POST_SNAPSHOT] = { CORE_SET_POST_SNAPSHOT, true, CORE_EVENT_POST_SNAPSHOT, -1 },
        [AT_READY] = { CORE_SET_READY, false, -1, -1 },
        [AT_COMPLETING] = { CORE_SET_COMPLETING_BACKUP, true, CORE_EVENT_BACKUP_COMPLETE, -1 },
        [AT_BACKUP_COMPLETE] = { CORE_SET_BACKUP_COMPLETE, false, -1, -1 },
};

/* A front-end and a back-end writer, two volumes, driven up to STOP. */
static CoreSession *drive_to(enum stop stop, struct call *c)
{
        struct test_writer *fe = tw_add("fe", VSS_LEVEL_FRONT_END);
        struct test_writer *be = tw_add("be", VSS_LEVEL_BACK_END);
        CoreSession *s = session_open(OWNER);
        memset(c, 0, sizeof(*c));
        set_start(s);
        be->silent_at = stops[stop].silent;
        if (stop == AT_FREEZING_FRONT)
                fe->silent_at = CORE_EVENT_FREEZE;
        E.stop_op = stops[stop].stop_op;
        if (stop == AT_CREATED)
                return s;
        if (stop == AT_ADDING) {
                ck_assert_int_eq(core_session_add_to_snapshot_set(s, OWNER, "/dev/fake/a", NULL,
                                                                  c, NULL), 0);
                pump();
                return s;
        }
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        ck_assert_int_eq(add_volume(s, "/dev/fake/b", NULL), 0);
        if (stop == AT_COLLECTING)
                return s;
        if (prepare(s, c) != 0 || stop == AT_PREPARED)
                return s;
        if (do_snapshot(s, c) != 0 || stop == AT_READY)
                return s;
        backup_complete(s, c);
        return s;
}

START_TEST(test_abort_from_every_state)
{
        enum stop stop = (enum stop)_i;
        struct call c;
        CoreSession *s = drive_to(stop, &c);
        CoreSet *set = s->set;
        ck_assert_msg(set->state == stops[stop].state, "stop %d: set is %s", _i,
                      core_set_state_to_string(set->state));
        ck_assert_uint_eq(c.count, stops[stop].pending ? 0 : (stop > AT_COLLECTING ? 1 : 0));
        unsigned replies = c.count;
        bool prepared = stop >= AT_PROVIDER_PREPARE;

        ck_assert_int_eq(core_session_abort_backup(s, OWNER, NULL), 0);
        release_all();

        ck_assert_int_eq(set->state, CORE_SET_ABORTED);
        if (stops[stop].pending) {
                ck_assert_uint_eq(c.count, replies + 1);
                ck_assert_int_eq(c.r, -VSS_E_ABORTED);
                assert_contains(c.message, "AbortBackup");
        } else {
                ck_assert_uint_eq(c.count, replies);
        }
        /* Writers that were in the backup are told, and none stays frozen. */
        bool told = stop >= AT_PREPARING_BACKUP && stop < AT_BACKUP_COMPLETE;
        ck_assert_int_eq(trace_has("fe:Abort"), told);
        ck_assert_int_eq(trace_has("be:Abort"), told);
        ck_assert(writer_left_thawed("fe") && writer_left_thawed("be"));
        for (size_t i = 0; i < E.n_writers; i++)
                ck_assert_int_eq(E.writers[i].w->state, VSS_WS_STABLE);
        /* The provider undoes whatever it prepared, snapshots included (auto-release). */
        ck_assert_int_eq(trace_has("fake:abort"), prepared);
        ck_assert_uint_eq(count_snapshots(), 0);
        ck_assert_uint_eq(provider_snapshots(), 0);
        ck_assert(creation_allowed());
        /* Aborting again changes nothing. */
        unsigned n = c.count;
        ck_assert_int_eq(core_session_abort_backup(s, OWNER, NULL), 0);
        ck_assert_uint_eq(c.count, n);
}
END_TEST

static Suite *abort_suite(void)
{
        Suite *s = suite_create("core-abort");
        TCase *tc = tcase_create("vetoes");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_loop_test(tc, test_nonfatal_veto_is_reported, 0, ELEMENTSOF(nonfatal));
        tcase_add_loop_test(tc, test_freeze_veto_at_each_level_aborts, 0, 3);
        tcase_add_test(tc, test_thaw_veto_aborts_and_removes_snapshots);
        suite_add_tcase(s, tc);

        tc = tcase_create("timeouts");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_freeze_timeout_aborts_exactly_at_timeout);
        tcase_add_test(tc, test_freeze_timeout_capped_by_config);
        tcase_add_test(tc, test_freeze_timeout_covers_until_thaw);
        tcase_add_test(tc, test_prepare_snapshot_timeout_is_reported);
        tcase_add_test(tc, test_thaw_timeout_aborts);
        tcase_add_test(tc, test_watchdog_release_unblocks_a_hanging_hold);
        suite_add_tcase(s, tc);

        tc = tcase_create("leaving");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_writer_leaves_mid_freeze);
        tcase_add_test(tc, test_writer_leaves_while_frozen);
        tcase_add_test(tc, test_writer_leaves_before_its_freeze);
        tcase_add_test(tc, test_writer_leaves_mid_prepare_snapshot);
        suite_add_tcase(s, tc);

        tc = tcase_create("abort-backup");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_loop_test(tc, test_abort_from_every_state, 0, _AT_MAX);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(abort_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
