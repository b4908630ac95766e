/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_core_components.c: VSS's implicit component selection. A requester
 * that selects no component of a writer (vssctl create and exec, any
 * CreateSnapshotSet) still gets a set that holds every component of that
 * writer it touches wholly, or PrepareForBackup fails with
 * InconsistentSnapshot naming the file and the volume missing: a set with a
 * database's data but not its WAL would be a backup that cannot be restored.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/core-env.h"

/* A database: its data on /dev/fake/a, its WAL on /dev/fake/b, one component. */
static struct test_writer *database(const char *name)
{
        struct test_writer *tw = tw_add(name, VSS_LEVEL_BACK_END);
        const char *files[] = { "/mnt/a/data", "/mnt/b/wal" };
        CoreComponentInfo comp = { .name = "cluster", .files = files, .n_files = 2 };
        ck_assert_int_eq(core_writer_set_metadata(tw->w, tw->owner, &comp, 1, NULL), 0);
        return tw;
}

/* A session with a set of VOLUME, not prepared yet. */
static CoreSession *collecting(const char *volume)
{
        CoreSession *s = session_open(OWNER);
        set_start(s);
        ck_assert_int_eq(add_volume(s, volume, NULL), 0);
        return s;
}

START_TEST(test_touched_component_must_be_whole)
{
        struct test_writer *tw = database("pg");
        CoreSession *s = collecting("/dev/fake/a");
        struct call c;
        ck_assert_int_eq(prepare(s, &c), -VSS_E_INCONSISTENT);
        assert_contains(c.message, "component 'cluster' of writer 'pg'");
        assert_contains(c.message, "/mnt/b/wal is on volume /dev/fake/b");
        assert_contains(c.message, "add /dev/fake/b to the set");
        assert_contains(c.message, "--exclude-writer pg");
        /* Nothing happened: the writer heard nothing, the set can still grow. */
        ck_assert_uint_eq(tw->n_events, 0);
        ck_assert_int_eq(s->set->state, CORE_SET_COLLECTING);
        ck_assert_int_eq(add_volume(s, "/dev/fake/b", NULL), 0);
        ck_assert_int_eq(prepare(s, &c), 0);
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert(trace_has("pg:Freeze"));
}
END_TEST

/* A component with no file in the set is not selected, nor is one that cannot be placed. */
START_TEST(test_untouched_components_are_left_alone)
{
        struct test_writer *tw = tw_add("mail", VSS_LEVEL_BACK_END);
        const char *elsewhere[] = { "/mnt/c/spool", "/mnt/d/index" };
        const char *unknown[] = { "/srv/queue" };
        CoreComponentInfo comps[] = {
                { .name = "spool", .files = elsewhere, .n_files = 2 },
                { .name = "queue", .files = unknown, .n_files = 1 },
        };
        ck_assert_int_eq(core_writer_set_metadata(tw->w, tw->owner, comps, 2, NULL), 0);
        CoreSession *s = collecting("/dev/fake/a");
        struct call c;
        ck_assert_int_eq(prepare(s, &c), 0);
        ck_assert(trace_has("mail:PrepareBackup"));
}
END_TEST

/* Once a component is in, a file of it whose volume cannot be told fails the check. */
START_TEST(test_touched_component_with_unknown_file)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        const char *files[] = { "/mnt/a/data", "/srv/lost" };
        CoreComponentInfo comp = { .name = "main", .files = files, .n_files = 2 };
        ck_assert_int_eq(core_writer_set_metadata(tw->w, tw->owner, &comp, 1, NULL), 0);
        CoreSession *s = collecting("/dev/fake/a");
        struct call c;
        ck_assert_int_eq(prepare(s, &c), -ENOENT);
        assert_contains(c.message, "cannot tell which volume holds /srv/lost");
        assert_contains(c.message, "'main'");
}
END_TEST

/* A writer left out, or a context without writers: nothing of theirs is checked. */
START_TEST(test_excluded_writer_is_not_checked)
{
        database("pg");
        CoreSession *s = session_open(OWNER);
        const char *names[] = { "pg" };
        ck_assert_int_eq(core_session_set_exclude_writers(s, OWNER, names, 1, NULL), 0);
        set_start(s);
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        struct call c;
        ck_assert_int_eq(prepare(s, &c), 0);
        ck_assert(!trace_has("pg:PrepareBackup"));
        ck_assert_int_eq(core_session_abort_backup(s, OWNER, NULL), 0);
        pump();

        s = session_open(":1.2");
        ck_assert_int_eq(core_session_set_context(s, ":1.2", CORE_CONTEXT_FILE_SHARE_BACKUP, 0,
                                                  NULL), 0);
        ck_assert_ptr_nonnull(set_start(s));
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        ck_assert_int_eq(prepare(s, &c), 0);
}
END_TEST

/* A requester that selects components of a writer chooses for that writer: no implicit ones. */
START_TEST(test_explicit_selection_replaces_implicit)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        const char *data[] = { "/mnt/a/data" };
        const char *logs[] = { "/mnt/a/logs", "/mnt/b/logs" };
        CoreComponentInfo comps[] = {
                { .name = "data", .files = data, .n_files = 1 },
                { .name = "logs", .files = logs, .n_files = 2 },
        };
        ck_assert_int_eq(core_writer_set_metadata(tw->w, tw->owner, comps, 2, NULL), 0);
        CoreSession *s = session_open(OWNER);
        ck_assert_int_eq(core_session_add_component(s, OWNER, "instance-db", "", "data", NULL), 0);
        set_start(s);
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        struct call c;
        ck_assert_int_eq(prepare(s, &c), 0);
}
END_TEST

/* Each writer is judged by its own components: the second of two fails the set. */
START_TEST(test_every_writer_is_checked)
{
        struct test_writer *ok = tw_add("cache", VSS_LEVEL_BACK_END);
        tw_component(ok, "all", "/mnt/a/cache");
        database("pg");
        CoreSession *s = collecting("/dev/fake/a");
        struct call c;
        ck_assert_int_eq(prepare(s, &c), -VSS_E_INCONSISTENT);
        assert_contains(c.message, "writer 'pg'");
}
END_TEST

/* --- a selected writer's failure before Freeze aborts the set ----------------------------- */

static const enum core_event early_events[] = {
        CORE_EVENT_PREPARE_BACKUP, CORE_EVENT_PREPARE_SNAPSHOT,
};

/*
 * A writer with a component in the set (implicitly here) that vetoes
 * PrepareBackup or PrepareSnapshot aborts it before anything is frozen: its
 * files would be snapshotted without its consistency.
 */
START_TEST(test_selected_writer_veto_aborts)
{
        enum core_event event = early_events[_i];
        struct test_writer *fe = tw_add("fe", VSS_LEVEL_FRONT_END);
        struct test_writer *db = tw_add("db", VSS_LEVEL_BACK_END);
        tw_component(db, "data", "/mnt/a/data");
        tw_fail_at(db, event, VSS_WF_RETRYABLE);
        CoreSession *s = collecting("/dev/fake/a");
        struct call cp, cd;
        int r = prepare(s, &cp);
        if (event == CORE_EVENT_PREPARE_SNAPSHOT) {
                ck_assert_int_eq(r, 0);
                r = do_snapshot(s, &cd);
        }
        struct call *c = event == CORE_EVENT_PREPARE_BACKUP ? &cp : &cd;
        ck_assert_int_eq(r, -VSS_E_WRITER_FAILED);
        char expect[96];
        snprintf(expect, sizeof(expect), "writer 'db' failed %s (RETRYABLE): vetoed by the test",
                 core_event_to_string(event));
        assert_contains(c->message, expect);
        assert_contains(c->message, "retry, or leave the writer out with --exclude-writer db");
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
        ck_assert(!trace_has("fe:Freeze"));
        ck_assert(!trace_has("fake:prepare"));
        ck_assert(trace_has("fe:Abort"));
        ck_assert_int_eq(fe->w->state, VSS_WS_STABLE);
        ck_assert_int_eq(db->w->state, event == CORE_EVENT_PREPARE_BACKUP
                                       ? VSS_WS_FAILED_AT_PREPARE_BACKUP
                                       : VSS_WS_FAILED_AT_PREPARE_SNAPSHOT);
        ck_assert_uint_eq(count_snapshots(), 0);
        ck_assert_uint_eq(provider_snapshots(), 0);
        ck_assert(creation_allowed());
}
END_TEST

/* A component chosen with AddComponent counts too, and a timeout is a failure like a veto. */
START_TEST(test_explicitly_selected_writer_timeout_aborts)
{
        struct test_writer *db = tw_add("db", VSS_LEVEL_BACK_END);
        tw_component(db, "data", "/mnt/a/data");
        db->silent_at = CORE_EVENT_PREPARE_SNAPSHOT;
        CoreSession *s = session_open(OWNER);
        ck_assert_int_eq(core_session_add_component(s, OWNER, "instance-db", "", "data", NULL), 0);
        set_start(s);
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        struct call cp, cd;
        ck_assert_int_eq(prepare(s, &cp), 0);
        ck_assert_int_eq(do_snapshot(s, &cd), 1);
        advance(60000);
        pump();
        ck_assert_int_eq(cd.r, -VSS_E_WRITER_FAILED);
        assert_contains(cd.message, "did not answer PrepareSnapshot within 60000 ms");
        assert_contains(cd.message, "--exclude-writer db");
        ck_assert_int_eq(db->w->failure, VSS_WF_TIMEOUT);
        ck_assert(!trace_has("db:Freeze"));
        ck_assert_uint_eq(provider_snapshots(), 0);
}
END_TEST

/* The writer leaving before PrepareSnapshot is a failure of it too. */
START_TEST(test_selected_writer_leaving_aborts)
{
        struct test_writer *db = tw_add("db", VSS_LEVEL_BACK_END);
        tw_component(db, "data", "/mnt/a/data");
        CoreSession *s = collecting("/dev/fake/a");
        struct call cp, cd;
        ck_assert_int_eq(prepare(s, &cp), 0);
        core_owner_vanished(E.core, db->owner);
        pump();
        ck_assert_int_eq(do_snapshot(s, &cd), -VSS_E_WRITER_FAILED);
        assert_contains(cd.message, "writer 'db' failed PrepareSnapshot");
        assert_contains(cd.message, "left the bus before PrepareSnapshot");
        ck_assert_uint_eq(provider_snapshots(), 0);
}
END_TEST

/* A writer with nothing in the set vetoing is a warning, as VSS has it: the set is made. */
START_TEST(test_unselected_writer_veto_warns)
{
        enum core_event event = early_events[_i];
        struct test_writer *mail = tw_add("mail", VSS_LEVEL_BACK_END);
        tw_component(mail, "spool", "/mnt/c/spool");
        tw_fail_at(mail, event, VSS_WF_RETRYABLE);
        CoreSession *s = collecting("/dev/fake/a");
        struct call cp, cd;
        ck_assert_int_eq(prepare(s, &cp), 0);
        ck_assert_int_eq(do_snapshot(s, &cd), 0);
        struct call *c = event == CORE_EVENT_PREPARE_BACKUP ? &cp : &cd;
        assert_contains(c->message, "writer 'mail' failed");
        ck_assert(strstr(c->message, "--exclude-writer") == NULL);
        ck_assert_int_eq(s->set->state, CORE_SET_READY);
        ck_assert_uint_eq(count_snapshots(), 1);
        ck_assert(!trace_has("mail:Freeze"));
}
END_TEST

/* CreateSnapshotSet (vssctl create) fails whole, and leaves nothing behind. */
START_TEST(test_create_snapshot_set_selected_veto_fails)
{
        struct test_writer *db = database("pg");
        tw_fail_at(db, CORE_EVENT_PREPARE_SNAPSHOT, VSS_WF_RETRYABLE);
        const char *both[] = { "/dev/fake/a", "/dev/fake/b" };
        struct call c = { 0 };
        ck_assert_int_eq(core_create_snapshot_set(E.core, OWNER, both, 2, NULL, &c, NULL), 0);
        pump();
        ck_assert_int_eq(c.r, -VSS_E_WRITER_FAILED);
        assert_contains(c.message, "writer 'pg' failed PrepareSnapshot");
        assert_contains(c.message, "--exclude-writer pg");
        ck_assert(!trace_has("fake:prepare"));
        ck_assert_uint_eq(count_sessions(), 0);
        ck_assert_uint_eq(count_sets(), 0);
        ck_assert_uint_eq(provider_snapshots(), 0);
        ck_assert(creation_allowed());
}
END_TEST

/* --- CreateSnapshotSet: Identify first, then the same check ------------------------------- */

START_TEST(test_create_snapshot_set_checks_what_identify_said)
{
        struct test_writer *tw = tw_add("pg", VSS_LEVEL_BACK_END);
        tw->manual = true;
        const char *vols[] = { "/dev/fake/a" };
        struct call c = { 0 };
        ck_assert_int_eq(core_create_snapshot_set(E.core, OWNER, vols, 1, NULL, &c, NULL), 0);
        pump();
        ck_assert_int_eq(tw->event, CORE_EVENT_IDENTIFY);
        ck_assert_uint_eq(c.count, 0);
        /* The writer's answer says where its files are now (a tablespace was added). */
        const char *files[] = { "/mnt/a/data", "/mnt/b/wal" };
        CoreComponentInfo comp = { .name = "cluster", .files = files, .n_files = 2 };
        ck_assert_int_eq(core_writer_set_metadata(tw->w, tw->owner, &comp, 1, NULL), 0);
        ck_assert_int_eq(tw_answer(tw, VSS_WF_NONE, ""), 0);
        pump();
        ck_assert_uint_eq(c.count, 1);
        ck_assert_int_eq(c.r, -VSS_E_INCONSISTENT);
        assert_contains(c.message, "/mnt/b/wal is on volume /dev/fake/b");
        assert_contains(c.message, "--exclude-writer pg");
        ck_assert(!trace_has("pg:PrepareBackup"));
        ck_assert(!trace_has("fake:prepare"));
        ck_assert_uint_eq(count_sessions(), 0);
        ck_assert_uint_eq(count_sets(), 0);
        ck_assert_uint_eq(provider_snapshots(), 0);
        ck_assert(creation_allowed());
}
END_TEST

START_TEST(test_create_snapshot_set_whole_component_or_excluded)
{
        database("pg");
        const char *both[] = { "/dev/fake/a", "/dev/fake/b" };
        struct call c = { 0 };
        ck_assert_int_eq(core_create_snapshot_set(E.core, OWNER, both, 2, NULL, &c, NULL), 0);
        pump();
        ck_assert_int_eq(c.r, 0);
        ck_assert_uint_eq(count_snapshots(), 2);
        core_owner_vanished(E.core, OWNER);
        pump();

        /* Left out, the writer's WAL volume is no longer needed (and it is not frozen). */
        trace_clear();
        const char *names[] = { "pg" };
        CoreCreateOptions o = { .exclude_writers = names, .n_exclude_writers = 1 };
        memset(&c, 0, sizeof(c));
        ck_assert_int_eq(core_create_snapshot_set(E.core, OWNER, both, 1, &o, &c, NULL), 0);
        pump();
        ck_assert_int_eq(c.r, 0);
        ck_assert(!trace_has("pg:Identify"));
        ck_assert(!trace_has("pg:Freeze"));
}
END_TEST

/* Identify failing is a warning, as for GatherWriterMetadata; the last metadata is checked. */
START_TEST(test_create_snapshot_set_identify_failure_warns)
{
        struct test_writer *tw = database("pg");
        tw_fail_at(tw, CORE_EVENT_IDENTIFY, VSS_WF_RETRYABLE);
        const char *both[] = { "/dev/fake/a", "/dev/fake/b" };
        struct call c = { 0 };
        ck_assert_int_eq(core_create_snapshot_set(E.core, OWNER, both, 2, NULL, &c, NULL), 0);
        pump();
        ck_assert_int_eq(c.r, 0);
        assert_contains(c.message, "writer 'pg' failed Identify");
}
END_TEST

static Suite *components_suite(void)
{
        Suite *s = suite_create("core-components");
        TCase *tc = tcase_create("implicit");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_touched_component_must_be_whole);
        tcase_add_test(tc, test_untouched_components_are_left_alone);
        tcase_add_test(tc, test_touched_component_with_unknown_file);
        tcase_add_test(tc, test_excluded_writer_is_not_checked);
        tcase_add_test(tc, test_explicit_selection_replaces_implicit);
        tcase_add_test(tc, test_every_writer_is_checked);
        suite_add_tcase(s, tc);

        tc = tcase_create("selected-writer-failures");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_loop_test(tc, test_selected_writer_veto_aborts, 0, 2);
        tcase_add_test(tc, test_explicitly_selected_writer_timeout_aborts);
        tcase_add_test(tc, test_selected_writer_leaving_aborts);
        tcase_add_loop_test(tc, test_unselected_writer_veto_warns, 0, 2);
        tcase_add_test(tc, test_create_snapshot_set_selected_veto_fails);
        suite_add_tcase(s, tc);

        tc = tcase_create("create-snapshot-set");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_create_snapshot_set_checks_what_identify_said);
        tcase_add_test(tc, test_create_snapshot_set_whole_component_or_excluded);
        tcase_add_test(tc, test_create_snapshot_set_identify_failure_warns);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(components_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
