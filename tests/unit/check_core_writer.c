/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_core_writer.c: the writer registry and the event conversation: who may
 * register, what metadata looks like, which answers count (the pending cookie,
 * from the owner, once, in time) and which change nothing, events queueing
 * behind each other, GatherWriterMetadata (Identify), and writers a session
 * excludes (ExcludeWriters).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/core-env.h"

/* --- registration --------------------------------------------------------------------- */

START_TEST(test_register_checks_info)
{
        CoreWriter *w;
        struct vss_error_buf err = { "" };
        CoreWriterInfo info = { .name = "", .class_id = "c", .instance_id = "i" };
        ck_assert_int_eq(core_writer_register(E.core, ":1.5", &info, &w, &err), -EINVAL);
        assert_contains(err.message, "name");
        info.name = "db";
        info.level = (enum vss_writer_level)7;
        ck_assert_int_eq(core_writer_register(E.core, ":1.5", &info, &w, &err), -EINVAL);
        assert_contains(err.message, "level 7");
        info.level = VSS_LEVEL_BACK_END;
        info.instance_id = "";
        ck_assert_int_eq(core_writer_register(E.core, ":1.5", &info, &w, &err), -EINVAL);
        assert_contains(err.message, "instance id");
        ck_assert_uint_eq(E.added[CORE_OBJECT_WRITER], 0);
}
END_TEST

START_TEST(test_register_shows_the_writer)
{
        struct test_writer *tw = tw_add_full("db", "i-1", VSS_LEVEL_FRONT_END, 3000);
        ck_assert_uint_eq(E.added[CORE_OBJECT_WRITER], 1);
        ck_assert_uint_eq(tw->w->id, 1);
        ck_assert_str_eq(tw->w->name, "db");
        ck_assert_str_eq(tw->w->instance_id, "i-1");
        ck_assert_str_eq(tw->w->owner, tw->owner);
        ck_assert_int_eq(tw->w->level, VSS_LEVEL_FRONT_END);
        ck_assert_int_eq(tw->w->state, VSS_WS_STABLE);
        ck_assert_int_eq(tw->w->failure, VSS_WF_NONE);
        ck_assert_str_eq(tw->w->failure_message, "");
        ck_assert_uint_eq(core_writer_freeze_timeout(tw->w), 3000);
        ck_assert_uint_eq(tw_add("other", VSS_LEVEL_SYSTEM)->w->id, 2);
}
END_TEST

START_TEST(test_instance_id_is_unique)
{
        struct test_writer *first = tw_add_full("db", "same", VSS_LEVEL_BACK_END, 0);
        CoreWriter *w;
        struct vss_error_buf err = { "" };
        CoreWriterInfo info = { .name = "db2", .class_id = "c", .instance_id = "same" };
        ck_assert_int_eq(core_writer_register(E.core, ":1.77", &info, &w, &err), -EEXIST);
        assert_contains(err.message, "same");
        assert_contains(err.message, "'db'");
        /* Once the first left, the id is free again. */
        core_owner_vanished(E.core, first->owner);
        ck_assert_int_eq(core_writer_register(E.core, ":1.77", &info, &w, &err), 0);
}
END_TEST

START_TEST(test_only_the_owner_unregisters)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        struct vss_error_buf err = { "" };
        ck_assert_int_eq(core_writer_unregister(tw->w, ":1.666", &err), -EACCES);
        assert_contains(err.message, tw->owner);
        ck_assert_int_eq(core_writer_unregister(tw->w, tw->owner, &err), 0);
        ck_assert_uint_eq(E.removed[CORE_OBJECT_WRITER], 1);
        ck_assert_ptr_null(core_writer_first(E.core));
}
END_TEST

/* Leaving only takes that owner's writers. */
START_TEST(test_owner_leaving_takes_its_writers)
{
        tw_add("a", VSS_LEVEL_BACK_END);
        struct test_writer *b = tw_add("b", VSS_LEVEL_BACK_END);
        core_owner_vanished(E.core, E.writers[0].owner);
        ck_assert_ptr_eq(core_writer_first(E.core), b->w);
        ck_assert_ptr_null(b->w->next);
}
END_TEST

/* --- metadata -------------------------------------------------------------------------- */

START_TEST(test_metadata_stored_and_checked)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        const char *files[] = { "/mnt/a/db", "/mnt/b/log" };
        CoreComponentInfo c[] = {
                { .logical_path = "sql", .name = "main", .files = files, .n_files = 2 },
                { .name = "conf", .files = files, .n_files = 1 },
        };
        struct vss_error_buf err = { "" };
        unsigned changed = E.changed[CORE_OBJECT_WRITER];
        ck_assert_int_eq(core_writer_set_metadata(tw->w, tw->owner, c, 2, &err), 0);
        ck_assert_uint_eq(E.changed[CORE_OBJECT_WRITER], changed + 1);
        ck_assert_uint_eq(tw->w->n_components, 2);
        ck_assert_str_eq(tw->w->components[0].logical_path, "sql");
        ck_assert_str_eq(tw->w->components[0].files[1], "/mnt/b/log");
        ck_assert_str_eq(tw->w->components[1].logical_path, "");

        const char *relative[] = { "db/file" };
        CoreComponentInfo bad = { .name = "x", .files = relative, .n_files = 1 };
        ck_assert_int_eq(core_writer_set_metadata(tw->w, tw->owner, &bad, 1, &err), -EINVAL);
        assert_contains(err.message, "db/file");
        CoreComponentInfo twice[] = { c[1], c[1] };
        ck_assert_int_eq(core_writer_set_metadata(tw->w, tw->owner, twice, 2, &err), -EINVAL);
        assert_contains(err.message, "twice");
        ck_assert_int_eq(core_writer_set_metadata(tw->w, ":1.9", c, 1, &err), -EACCES);
        ck_assert_uint_eq(tw->w->n_components, 2); /* refused calls changed nothing */
        ck_assert_int_eq(core_writer_set_metadata(tw->w, tw->owner, NULL, 0, &err), 0);
        ck_assert_uint_eq(tw->w->n_components, 0);
}
END_TEST

/* --- answers ------------------------------------------------------------------------------ */

/* A set waiting for W's PrepareBackup answer. */
static CoreSession *waiting_for(struct test_writer *tw, struct call *c)
{
        CoreSession *s = session_open(OWNER);
        set_start(s);
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        tw->manual = true;
        memset(c, 0, sizeof(*c));
        ck_assert_int_eq(core_session_prepare_for_backup(s, OWNER, c, NULL), 0);
        ck_assert_int_eq(tw->event, CORE_EVENT_PREPARE_BACKUP);
        return s;
}

START_TEST(test_answer_from_someone_else_changes_nothing)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        struct test_writer *other = tw_add("other", VSS_LEVEL_BACK_END);
        struct call c;
        CoreSession *s = waiting_for(tw, &c);
        struct vss_error_buf err = { "" };
        /* Another writer's process answering for this writer's object. */
        ck_assert_int_eq(core_writer_answer(tw->w, other->owner, tw->cookie, VSS_WF_RETRYABLE,
                                            "mine now", &err), -EACCES);
        assert_contains(err.message, tw->owner);
        ck_assert_int_eq(tw->w->state, VSS_WS_STABLE);
        ck_assert_int_eq(s->set->state, CORE_SET_PREPARING_BACKUP);
        ck_assert_uint_eq(c.count, 0);
        ck_assert_int_eq(tw_answer(tw, VSS_WF_NONE, ""), 0); /* the real answer still counts */
        pump();
        ck_assert_uint_eq(c.count, 1);
}
END_TEST

START_TEST(test_wrong_cookie_changes_nothing)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        struct call c;
        CoreSession *s = waiting_for(tw, &c);
        struct vss_error_buf err = { "" };
        ck_assert_int_eq(core_writer_answer(tw->w, tw->owner, tw->cookie + 1000, VSS_WF_NONE, "",
                                            &err), -VSS_E_STALE_COOKIE);
        assert_contains(err.message, "PrepareBackup");
        assert_contains(err.message, "'db'");
        ck_assert_int_eq(s->set->state, CORE_SET_PREPARING_BACKUP);
        ck_assert_int_eq(core_writer_answer(tw->w, tw->owner, tw->cookie, 9, "", &err), -EINVAL);
        assert_contains(err.message, "9");
        ck_assert_int_eq(tw_answer(tw, VSS_WF_NONE, ""), 0);
        ck_assert_uint_eq(c.count, 1);
}
END_TEST

START_TEST(test_second_answer_changes_nothing)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        struct call c;
        CoreSession *s = waiting_for(tw, &c);
        uint64_t cookie = tw->cookie;
        ck_assert_int_eq(tw_answer(tw, VSS_WF_NONE, ""), 0);
        ck_assert_int_eq(s->set->state, CORE_SET_PREPARED);
        ck_assert_int_eq(core_writer_answer(tw->w, tw->owner, cookie, VSS_WF_NONRETRYABLE, "oops",
                                            NULL), -VSS_E_STALE_COOKIE);
        ck_assert_int_eq(tw->w->state, VSS_WS_STABLE);
        ck_assert_int_eq(tw->w->failure, VSS_WF_NONE);
        ck_assert_uint_eq(c.count, 1);
        ck_assert_str_eq(c.message, "");
}
END_TEST

START_TEST(test_late_answer_changes_nothing)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        struct call c;
        CoreSession *s = waiting_for(tw, &c);
        uint64_t cookie = tw->cookie;
        advance(60000);
        ck_assert_int_eq(tw->w->state, VSS_WS_FAILED_AT_PREPARE_BACKUP);
        ck_assert_int_eq(tw->w->failure, VSS_WF_TIMEOUT);
        ck_assert_uint_eq(c.count, 1);
        ck_assert_int_eq(s->set->state, CORE_SET_PREPARED);
        ck_assert_int_eq(core_writer_answer(tw->w, tw->owner, cookie, VSS_WF_NONE, "", NULL),
                         -VSS_E_STALE_COOKIE);
        ck_assert_int_eq(tw->w->state, VSS_WS_FAILED_AT_PREPARE_BACKUP);
        ck_assert_uint_eq(c.count, 1);
}
END_TEST

/* Abort and BackupShutdown expect no answer: answering one is stale too. */
START_TEST(test_answer_to_cancelled_event_changes_nothing)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        struct call c;
        CoreSession *s = waiting_for(tw, &c);
        uint64_t cookie = tw->cookie;
        ck_assert_int_eq(core_session_abort_backup(s, OWNER, NULL), 0);
        ck_assert(trace_has("db:Abort"));
        ck_assert_int_eq(core_writer_answer(tw->w, tw->owner, cookie, VSS_WF_NONE, "", NULL),
                         -VSS_E_STALE_COOKIE);
        ck_assert_int_eq(core_writer_answer(tw->w, tw->owner, cookie + 1, VSS_WF_NONE, "", NULL),
                         -VSS_E_STALE_COOKIE);
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
        ck_assert_int_eq(c.r, -VSS_E_ABORTED);
}
END_TEST

/* A writer that cannot be reached fails the event, like one that vetoes it. */
START_TEST(test_unreachable_writer_fails_the_event)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        CoreSession *s = session_open(OWNER);
        set_start(s);
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        E.refuse_sends = true;
        struct call c;
        ck_assert_int_eq(prepare(s, &c), 0);
        assert_contains(c.message, "writer 'db' failed PrepareBackup");
        assert_contains(c.message, "could not send PrepareBackup");
        ck_assert_int_eq(tw->w->state, VSS_WS_FAILED_AT_PREPARE_BACKUP);
        E.refuse_sends = false;
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert_uint_eq(tw->n_events, 0);
}
END_TEST

/* One event at a time per writer: another requester's waits its turn. */
START_TEST(test_events_queue_per_writer)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        tw->manual = true;
        CoreSession *a = session_open(":1.20");
        struct call ga = { 0 }, cb = { 0 };
        ck_assert_int_eq(core_session_gather_writer_metadata(a, ":1.20", &ga, NULL), 0);
        ck_assert_int_eq(tw->event, CORE_EVENT_IDENTIFY);

        CoreSession *b = session_open(":1.21");
        set_start(b);
        ck_assert_int_eq(add_volume(b, "/dev/fake/a", NULL), 0);
        ck_assert_int_eq(core_session_prepare_for_backup(b, ":1.21", &cb, NULL), 0);
        ck_assert(!trace_has("db:PrepareBackup"));

        advance(30000); /* a queued event's timeout has not started yet */
        ck_assert_int_eq(tw_answer(tw, VSS_WF_NONE, ""), 0);
        ck_assert_uint_eq(ga.count, 1);
        ck_assert_int_eq(tw->event, CORE_EVENT_PREPARE_BACKUP);
        advance(59999);
        ck_assert_uint_eq(cb.count, 0);
        ck_assert_int_eq(tw_answer(tw, VSS_WF_NONE, ""), 0);
        ck_assert_uint_eq(cb.count, 1);
        ck_assert_int_eq(cb.r, 0);
        ck_assert_str_eq(cb.message, "");
}
END_TEST

/* --- GatherWriterMetadata ------------------------------------------------------------------- */

START_TEST(test_gather_sends_identify_to_every_writer)
{
        struct test_writer *a = tw_add("a", VSS_LEVEL_BACK_END);
        struct test_writer *b = tw_add("b", VSS_LEVEL_SYSTEM);
        a->manual = b->manual = true;
        CoreSession *s = session_open(OWNER);
        struct call c = { 0 };
        ck_assert_int_eq(core_session_gather_writer_metadata(s, OWNER, &c, NULL), 0);
        ck_assert_int_eq(s->state, CORE_SESSION_GATHERING);
        ck_assert_str_eq(E.trace, "a:Identify b:Identify");
        ck_assert_int_eq(core_session_gather_writer_metadata(s, OWNER, &c, NULL), -EBUSY);
        tw_component(a, "data", "/mnt/a/data");
        ck_assert_int_eq(tw_answer(a, VSS_WF_NONE, ""), 0);
        ck_assert_uint_eq(c.count, 0);
        ck_assert_int_eq(tw_answer(b, VSS_WF_OUT_OF_RESOURCES, "no memory"), 0);
        ck_assert_uint_eq(c.count, 1);
        ck_assert_int_eq(c.r, 0);
        assert_contains(c.message, "writer 'b' failed Identify (OUTOFRESOURCES): no memory");
        ck_assert_int_eq(s->state, CORE_SESSION_GATHERED);
        ck_assert_int_eq(b->w->state, VSS_WS_FAILED_AT_IDENTIFY);
        ck_assert_str_eq(a->w->components[0].name, "data");
}
END_TEST

START_TEST(test_gather_survives_silent_and_leaving_writers)
{
        struct test_writer *mute = tw_add("mute", VSS_LEVEL_BACK_END);
        struct test_writer *gone = tw_add("gone", VSS_LEVEL_BACK_END);
        mute->manual = gone->manual = true;
        CoreSession *s = session_open(OWNER);
        struct call c = { 0 };
        ck_assert_int_eq(core_session_gather_writer_metadata(s, OWNER, &c, NULL), 0);
        core_owner_vanished(E.core, gone->owner);
        ck_assert_uint_eq(c.count, 0);
        advance(60000);
        ck_assert_uint_eq(c.count, 1);
        assert_contains(c.message, "writer 'mute' failed Identify (TIMEOUT)");
        assert_contains(c.message, "writer 'gone' failed Identify");
        assert_contains(c.message, "left the bus");
        ck_assert_int_eq(mute->w->state, VSS_WS_FAILED_AT_IDENTIFY);
}
END_TEST

START_TEST(test_gather_without_writers_context)
{
        tw_add("a", VSS_LEVEL_BACK_END);
        CoreSession *s = session_open(OWNER);
        ck_assert_int_eq(core_session_set_context(s, OWNER, CORE_CONTEXT_FILE_SHARE_BACKUP, 0,
                                                  NULL), 0);
        struct call c = { 0 };
        ck_assert_int_eq(core_session_gather_writer_metadata(s, OWNER, &c, NULL), 0);
        ck_assert_uint_eq(c.count, 1); /* nothing to wait for */
        ck_assert_int_eq(c.r, 0);
        ck_assert_str_eq(E.trace, "");
}
END_TEST

START_TEST(test_gather_aborted)
{
        struct test_writer *a = tw_add("a", VSS_LEVEL_BACK_END);
        a->manual = true;
        CoreSession *s = session_open(OWNER);
        struct call c = { 0 };
        ck_assert_int_eq(core_session_gather_writer_metadata(s, OWNER, &c, NULL), 0);
        uint64_t cookie = a->cookie;
        ck_assert_int_eq(core_session_abort_backup(s, OWNER, NULL), 0);
        ck_assert_uint_eq(c.count, 1);
        ck_assert_int_eq(c.r, -VSS_E_ABORTED);
        ck_assert_int_eq(core_writer_answer(a->w, a->owner, cookie, VSS_WF_NONE, "", NULL),
                         -VSS_E_STALE_COOKIE);
        ck_assert_uint_eq(c.count, 1);
        /* The session can go on. */
        a->cookie = 0;
        a->manual = false;
        ck_assert_int_eq(core_session_gather_writer_metadata(s, OWNER, &c, NULL), 0);
        pump();
        ck_assert_uint_eq(c.count, 2);
        ck_assert_int_eq(c.r, 0);
}
END_TEST

/* --- ExcludeWriters ------------------------------------------------------------------------ */

static const char *const one_volume[] = { "/dev/fake/a", NULL };

/* A session of OWNER excluding NAMES, made into a ready set of /dev/fake/a; PREPARE_MSG gets
 * PrepareForBackup's warnings. */
static CoreSession *excluding_session(const char *const *names, size_t n, char *prepare_msg,
                                      size_t size)
{
        CoreSession *s = session_open(OWNER);
        struct call c = { 0 };
        ck_assert_int_eq(core_session_set_exclude_writers(s, OWNER, names, n, NULL), 0);
        ck_assert_int_eq(core_session_gather_writer_metadata(s, OWNER, &c, NULL), 0);
        pump();
        ck_assert_int_eq(c.r, 0);
        set_start(s);
        ck_assert_int_eq(add_volume(s, one_volume[0], NULL), 0);
        ck_assert_int_eq(prepare(s, &c), 0);
        snprintf(prepare_msg, size, "%s", c.message);
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert_int_eq(s->set->state, CORE_SET_READY);
        return s;
}

START_TEST(test_excluded_writer_hears_nothing)
{
        struct test_writer *a = tw_add("a", VSS_LEVEL_BACK_END);
        struct test_writer *b = tw_add("b", VSS_LEVEL_BACK_END);
        const char *names[] = { "b" };
        char msg[2048];
        CoreSession *s = excluding_session(names, 1, msg, sizeof(msg));
        ck_assert_uint_eq(b->n_events, 0);
        ck_assert(!trace_has("b:Identify") && !trace_has("b:Freeze"));
        ck_assert(trace_has("a:Identify") && trace_has("a:Freeze") && trace_has("a:Thaw"));
        ck_assert_str_eq(msg, ""); /* "b" is registered: nothing to warn about */
        ck_assert(core_session_excludes(s, b->w));
        ck_assert(!core_session_excludes(s, a->w));
        struct call c = { 0 };
        ck_assert_int_eq(backup_complete(s, &c), 0);
        ck_assert(trace_has("a:BackupComplete") && !trace_has("b:BackupComplete"));
        ck_assert_int_eq(b->w->state, VSS_WS_STABLE);
}
END_TEST

START_TEST(test_exclude_by_instance_and_class_id)
{
        struct test_writer *a = tw_add_full("db", "db-1", VSS_LEVEL_BACK_END, 0);
        struct test_writer *b = tw_add_full("db", "db-2", VSS_LEVEL_BACK_END, 0);
        const char *by_instance[] = { "db-2" };
        char msg[2048];
        CoreSession *s = excluding_session(by_instance, 1, msg, sizeof(msg));
        ck_assert_uint_gt(a->n_events, 0);
        ck_assert_uint_eq(b->n_events, 0);
        ck_assert_int_eq(core_session_release(s, OWNER, NULL, NULL), 0);
        pump();

        /* Every writer of the class: both instances. */
        a->n_events = b->n_events = 0;
        const char *by_class[] = { a->w->class_id };
        excluding_session(by_class, 1, msg, sizeof(msg));
        ck_assert_uint_eq(a->n_events, 0);
        ck_assert_uint_eq(b->n_events, 0);
}
END_TEST

START_TEST(test_exclude_unknown_name_is_a_warning)
{
        tw_add("a", VSS_LEVEL_BACK_END);
        const char *names[] = { "a", "nosuch" };
        char msg[2048];
        CoreSession *s = excluding_session(names, 2, msg, sizeof(msg));
        assert_contains(msg, "no registered writer has the name, instance id or class id "
                             "'nosuch'");
        ck_assert(strstr(msg, "'a'") == NULL);
        ck_assert_uint_eq(count_snapshots(), 1);
        ck_assert_int_eq(s->set->state, CORE_SET_READY);
}
END_TEST

START_TEST(test_exclude_rules)
{
        struct test_writer *a = tw_add("a", VSS_LEVEL_BACK_END);
        tw_component(a, "data", "/mnt/a/data");
        CoreSession *s = session_open(OWNER);
        struct vss_error_buf err = { "" };
        const char *empty[] = { "a", "" };
        ck_assert_int_eq(core_session_set_exclude_writers(s, OWNER, empty, 2, &err), -EINVAL);
        assert_contains(err.message, "writer 2 to exclude is empty");
        ck_assert_uint_eq(s->n_exclude_writers, 0);
        const char *names[] = { "a" };
        ck_assert_int_eq(core_session_set_exclude_writers(s, ":1.9", names, 1, &err), -EACCES);
        ck_assert_int_eq(core_session_set_exclude_writers(s, OWNER, names, 1, &err), 0);
        ck_assert_int_eq(core_session_add_component(s, OWNER, a->w->instance_id, "", "data",
                                                    &err), -EINVAL);
        assert_contains(err.message, "excluded");
        set_start(s);
        ck_assert_int_eq(core_session_set_exclude_writers(s, OWNER, NULL, 0, &err),
                         -VSS_E_BAD_STATE);
        assert_contains(err.message, "before StartSnapshotSet");
        ck_assert_uint_eq(s->n_exclude_writers, 1);
}
END_TEST

START_TEST(test_create_snapshot_set_excludes_and_warns)
{
        struct test_writer *a = tw_add("a", VSS_LEVEL_BACK_END);
        struct test_writer *b = tw_add("b", VSS_LEVEL_BACK_END);
        const char *names[] = { "b", "typo" };
        CoreCreateOptions o = { .exclude_writers = names, .n_exclude_writers = 2 };
        struct call c = { 0 };
        ck_assert_int_eq(core_create_snapshot_set(E.core, OWNER, one_volume, 1, &o, &c, NULL), 0);
        pump();
        ck_assert_int_eq(c.r, 0);
        ck_assert_uint_gt(a->n_events, 0);
        ck_assert_uint_eq(b->n_events, 0);
        /* PrepareForBackup's warning reaches the one reply. */
        assert_contains(c.message, "'typo'");
}
END_TEST

static Suite *writer_suite(void)
{
        Suite *s = suite_create("core-writer");
        TCase *tc = tcase_create("registry");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_register_checks_info);
        tcase_add_test(tc, test_register_shows_the_writer);
        tcase_add_test(tc, test_instance_id_is_unique);
        tcase_add_test(tc, test_only_the_owner_unregisters);
        tcase_add_test(tc, test_owner_leaving_takes_its_writers);
        tcase_add_test(tc, test_metadata_stored_and_checked);
        suite_add_tcase(s, tc);

        tc = tcase_create("answers");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_answer_from_someone_else_changes_nothing);
        tcase_add_test(tc, test_wrong_cookie_changes_nothing);
        tcase_add_test(tc, test_second_answer_changes_nothing);
        tcase_add_test(tc, test_late_answer_changes_nothing);
        tcase_add_test(tc, test_answer_to_cancelled_event_changes_nothing);
        tcase_add_test(tc, test_unreachable_writer_fails_the_event);
        tcase_add_test(tc, test_events_queue_per_writer);
        suite_add_tcase(s, tc);

        tc = tcase_create("gather");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_gather_sends_identify_to_every_writer);
        tcase_add_test(tc, test_gather_survives_silent_and_leaving_writers);
        tcase_add_test(tc, test_gather_without_writers_context);
        tcase_add_test(tc, test_gather_aborted);
        tcase_add_test(tc, test_excluded_writer_hears_nothing);
        tcase_add_test(tc, test_exclude_by_instance_and_class_id);
        tcase_add_test(tc, test_exclude_unknown_name_is_a_warning);
        tcase_add_test(tc, test_exclude_rules);
        tcase_add_test(tc, test_create_snapshot_set_excludes_and_warns);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(writer_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
