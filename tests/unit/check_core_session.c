/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check_core_session.c: requester sessions around the set: who may call,
 * contexts and their attributes, selected components that must lie inside the
 * set, the owner leaving (auto-release), CreateSnapshotSet, deleting
 * snapshots by id, by set and by volume, and the other ops on one snapshot
 * (Expose, Unexpose, Revert: one at a time, refused with a reason when they
 * cannot be).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "tests/unit/core-env.h"

/* --- ownership and context ---------------------------------------------------------------- */

START_TEST(test_only_the_owner_uses_a_session)
{
        CoreSession *s = session_open(OWNER);
        struct vss_error_buf err = { "" };
        CoreSet *set;
        struct call c = { 0 };
        ck_assert_int_eq(core_session_start_snapshot_set(s, ":1.2", &set, &err), -EACCES);
        assert_contains(err.message, OWNER);
        ck_assert_int_eq(core_session_set_context(s, ":1.2", CORE_CONTEXT_BACKUP, 0, &err),
                         -EACCES);
        ck_assert_int_eq(core_session_gather_writer_metadata(s, ":1.2", &c, &err), -EACCES);
        ck_assert_int_eq(core_session_abort_backup(s, ":1.2", &err), -EACCES);
        ck_assert_int_eq(core_session_release(s, ":1.2", NULL, &err), -EACCES);
        ck_assert_uint_eq(count_sessions(), 1);
        ck_assert_uint_eq(c.count, 0);
        ck_assert_uint_eq(count_sets(), 0);
        ck_assert_uint_eq(E.added[CORE_OBJECT_SESSION], 1);
        ck_assert_uint_eq(s->id, 1);
}
END_TEST

START_TEST(test_context_rules)
{
        CoreSession *s = session_open(OWNER);
        struct vss_error_buf err = { "" };
        ck_assert_int_eq(s->context, CORE_CONTEXT_BACKUP);
        ck_assert_int_eq(core_session_set_context(s, OWNER, (enum core_context)9, 0, &err),
                         -EINVAL);
        assert_contains(err.message, "context 9");
        ck_assert_int_eq(core_session_set_context(s, OWNER, CORE_CONTEXT_BACKUP, 0x80, &err),
                         -EINVAL);
        assert_contains(err.message, "0x80");
        ck_assert_int_eq(core_session_set_context(s, OWNER, CORE_CONTEXT_APP_ROLLBACK, 0, &err), 0);
        ck_assert_uint_eq(s->attributes, VSS_ATTR_PERSISTENT | VSS_ATTR_NO_AUTO_RELEASE);
        ck_assert_int_eq(core_session_set_context(s, OWNER, CORE_CONTEXT_BACKUP,
                                                  VSS_ATTR_NO_AUTO_RELEASE, &err), 0);
        ck_assert_uint_eq(s->attributes, VSS_ATTR_NO_AUTO_RELEASE);
        set_start(s);
        ck_assert_int_eq(core_session_set_context(s, OWNER, CORE_CONTEXT_BACKUP, 0, &err),
                         -VSS_E_BAD_STATE);
        assert_contains(err.message, "before StartSnapshotSet");
}
END_TEST

START_TEST(test_snapshots_carry_the_context_attributes)
{
        CoreSession *s = session_open(OWNER);
        ck_assert_int_eq(core_session_set_context(s, OWNER, CORE_CONTEXT_APP_ROLLBACK, 0, NULL), 0);
        set_start(s);
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        struct call c;
        ck_assert_int_eq(prepare(s, &c), 0);
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert_uint_eq(s->set->attributes, VSS_ATTR_PERSISTENT | VSS_ATTR_NO_AUTO_RELEASE);
        ck_assert_uint_eq(s->set->snapshots->attributes,
                          VSS_ATTR_PERSISTENT | VSS_ATTR_NO_AUTO_RELEASE);
}
END_TEST

/* file-share-backup and nas-rollback: writers hear nothing of the set. */
START_TEST(test_no_writers_contexts)
{
        static const enum core_context contexts[] = { CORE_CONTEXT_FILE_SHARE_BACKUP,
                                                      CORE_CONTEXT_NAS_ROLLBACK };
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        CoreSession *s = session_open(OWNER);
        ck_assert_int_eq(core_session_set_context(s, OWNER, contexts[_i], 0, NULL), 0);
        set_start(s);
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        struct call c;
        ck_assert_int_eq(prepare(s, &c), 0);
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert_int_eq(backup_complete(s, &c), 0);
        ck_assert_uint_eq(tw->n_events, 0);
        ck_assert_uint_eq(count_snapshots(), 1);
        ck_assert(s->set->attributes & VSS_ATTR_NO_WRITERS);
        ck_assert(trace_has("fake:commit"));
}
END_TEST

/* --- components ---------------------------------------------------------------------------- */

START_TEST(test_add_component_checks)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        tw_component(tw, "data", "/mnt/a/db");
        CoreSession *s = session_open(OWNER);
        struct vss_error_buf err = { "" };
        ck_assert_int_eq(core_session_add_component(s, OWNER, "nope", "", "data", &err), -ENOENT);
        assert_contains(err.message, "nope");
        ck_assert_int_eq(core_session_add_component(s, OWNER, "instance-db", "", "logs", &err),
                         -ENOENT);
        assert_contains(err.message, "'logs'");
        assert_contains(err.message, "'db'");
        ck_assert_int_eq(core_session_add_component(s, OWNER, "instance-db", "", "data", &err), 0);
        ck_assert_int_eq(core_session_add_component(s, OWNER, "instance-db", NULL, "data", &err),
                         -EEXIST);
}
END_TEST

/* A selected component with files outside the set would give an inconsistent backup. */
START_TEST(test_component_outside_set_is_inconsistent)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        const char *files[] = { "/mnt/a/db", "/mnt/b/log" };
        CoreComponentInfo comp = { .name = "main", .files = files, .n_files = 2 };
        ck_assert_int_eq(core_writer_set_metadata(tw->w, tw->owner, &comp, 1, NULL), 0);
        CoreSession *s = session_open(OWNER);
        ck_assert_int_eq(core_session_add_component(s, OWNER, "instance-db", "", "main", NULL), 0);
        set_start(s);
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        struct call c;
        ck_assert_int_eq(prepare(s, &c), -VSS_E_INCONSISTENT);
        assert_contains(c.message, "'main'");
        assert_contains(c.message, "'db'");
        assert_contains(c.message, "/mnt/b/log");
        assert_contains(c.message, "/dev/fake/b");
        ck_assert_int_eq(s->set->state, CORE_SET_COLLECTING);
        ck_assert_uint_eq(tw->n_events, 0);
        ck_assert_int_eq(add_volume(s, "/dev/fake/b", NULL), 0);
        ck_assert_int_eq(prepare(s, &c), 0);
}
END_TEST

START_TEST(test_component_file_on_unknown_volume)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        tw_component(tw, "data", "/srv/db");
        CoreSession *s = session_open(OWNER);
        ck_assert_int_eq(core_session_add_component(s, OWNER, "instance-db", "", "data", NULL), 0);
        set_start(s);
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        struct call c;
        ck_assert_int_eq(prepare(s, &c), -ENOENT);
        assert_contains(c.message, "/srv/db");
        /* And when the writer dropped the component meanwhile. */
        tw_component(tw, "other", "/mnt/a/x");
        ck_assert_int_eq(prepare(s, &c), -ENOENT);
        assert_contains(c.message, "no longer exists");
}
END_TEST

/* --- the owner leaving, Release ------------------------------------------------------------- */

START_TEST(test_owner_leaving_mid_set_aborts)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        CoreSession *s = prepared_session(OWNER, two_volumes);
        E.stop_op = CORE_JOB_WINDOW;
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);
        ck_assert_int_eq(tw->w->state, VSS_WS_WAITING_FOR_THAW);
        core_owner_vanished(E.core, OWNER);
        ck_assert_uint_eq(c.count, 1);
        ck_assert_int_eq(c.r, -VSS_E_ABORTED);
        assert_contains(c.message, "owner left the bus");
        ck_assert_uint_eq(E.removed[CORE_OBJECT_SESSION], 1);
        ck_assert(trace_has("db:Abort"));
        ck_assert_int_eq(tw->w->state, VSS_WS_STABLE);
        release_all();
        ck_assert(trace_has("fake:abort"));
        ck_assert_uint_eq(count_sessions(), 0);
        ck_assert_uint_eq(count_sets(), 0);
        ck_assert_uint_eq(E.removed[CORE_OBJECT_SET], 1);
        ck_assert_uint_eq(provider_snapshots(), 0);
        ck_assert(creation_allowed());
}
END_TEST

static const struct {
        enum core_context context;
        uint32_t attributes;
        bool kept;
} release_cases[] = {
        { CORE_CONTEXT_BACKUP, 0, false },
        { CORE_CONTEXT_BACKUP, VSS_ATTR_NO_AUTO_RELEASE, true },
        { CORE_CONTEXT_APP_ROLLBACK, 0, true },
        { CORE_CONTEXT_NAS_ROLLBACK, 0, true },
        { CORE_CONTEXT_FILE_SHARE_BACKUP, 0, false },
};

/* Auto-release: a leaving owner takes its non-persistent snapshots along. */
START_TEST(test_owner_leaving_after_set_auto_releases)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        CoreSession *s = session_open(OWNER);
        ck_assert_int_eq(core_session_set_context(s, OWNER, release_cases[_i].context,
                                                  release_cases[_i].attributes, NULL), 0);
        set_start(s);
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        ck_assert_int_eq(add_volume(s, "/dev/fake/b", NULL), 0);
        struct call c;
        ck_assert_int_eq(prepare(s, &c), 0);
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        CoreSet *set = s->set;
        bool writers = !(set->attributes & VSS_ATTR_NO_WRITERS);
        trace_clear();
        core_owner_vanished(E.core, OWNER);
        pump();
        ck_assert_int_eq(trace_has("db:BackupShutdown"), writers);
        ck_assert(!trace_has("db:Abort"));
        ck_assert_int_eq(tw->w->state, VSS_WS_STABLE);
        ck_assert_uint_eq(count_sessions(), 0);
        bool kept = release_cases[_i].kept;
        ck_assert_uint_eq(count_snapshots(), kept ? 2 : 0);
        ck_assert_uint_eq(provider_snapshots(), kept ? 2 : 0);
        ck_assert_uint_eq(trace_count("fake:delete"), kept ? 0 : 2);
        ck_assert_uint_eq(count_sets(), kept ? 1 : 0);
        if (kept)
                ck_assert_ptr_null(set->session);
}
END_TEST

/* Nobody waits for an auto-release: a deletion that fails is logged, and the snapshot stays. */
START_TEST(test_failed_auto_release_is_logged)
{
        ready_session(OWNER);
        fault("fail delete EBUSY");
        core_owner_vanished(E.core, OWNER);
        pump();
        ck_assert(log_has(LOG_ERR, "could not delete snapshot"));
        ck_assert(log_has(LOG_ERR, "injected failure at delete"));
        ck_assert_uint_eq(count_snapshots(), 2);
}
END_TEST

START_TEST(test_release_is_like_leaving)
{
        CoreSession *s = ready_session(OWNER);
        struct vss_error_buf err = { "" };
        ck_assert_int_eq(core_session_release(s, OWNER, NULL, &err), 0);
        pump();
        ck_assert_uint_eq(count_sessions(), 0);
        ck_assert_uint_eq(count_snapshots(), 0);
        ck_assert_uint_eq(count_sets(), 0);
}
END_TEST

/* Release answers once its auto-release deletions are done, with how they went. */
START_TEST(test_release_answers_after_the_deletions)
{
        CoreSession *s = ready_session(OWNER);
        struct call c = { 0 };
        E.hold_jobs = true;
        ck_assert_int_eq(core_session_release(s, OWNER, &c, NULL), 0);
        ck_assert_uint_eq(count_sessions(), 0); /* ended at once */
        ck_assert_uint_eq(c.count, 0);
        E.hold_jobs = false;
        pump();
        ck_assert_uint_eq(c.count, 1);
        ck_assert_int_eq(c.r, 0);
        ck_assert_uint_eq(c.n, 2);
        ck_assert_uint_eq(count_snapshots(), 0);

        s = ready_session(OWNER);
        fault("fail delete EBUSY");
        memset(&c, 0, sizeof(c));
        ck_assert_int_eq(core_session_release(s, OWNER, &c, NULL), 0);
        pump();
        ck_assert_int_eq(c.r, -VSS_E_PROVIDER_FAILED);
        assert_contains(c.message, "injected failure at delete");
        ck_assert_uint_eq(count_sessions(), 0);
}
END_TEST

/* Other requesters' sessions are left alone. */
START_TEST(test_owner_leaving_takes_only_its_sessions)
{
        session_open(":1.40");
        session_open(":1.40");
        CoreSession *other = ready_session(":1.41");
        core_owner_vanished(E.core, ":1.40");
        pump();
        ck_assert_uint_eq(count_sessions(), 1);
        ck_assert_ptr_eq(core_session_first(E.core), other);
        ck_assert_uint_eq(count_snapshots(), 2);
}
END_TEST

/* AbortBackup after the snapshots exist: persistent ones stay. */
START_TEST(test_abort_after_ready_keeps_persistent)
{
        tw_add("db", VSS_LEVEL_BACK_END);
        CoreSession *s = session_open(OWNER);
        ck_assert_int_eq(core_session_set_context(s, OWNER, CORE_CONTEXT_APP_ROLLBACK, 0, NULL), 0);
        set_start(s);
        ck_assert_int_eq(add_volume(s, "/dev/fake/a", NULL), 0);
        struct call c;
        ck_assert_int_eq(prepare(s, &c), 0);
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert_int_eq(core_session_abort_backup(s, OWNER, NULL), 0);
        pump();
        ck_assert_int_eq(s->set->state, CORE_SET_ABORTED);
        ck_assert(trace_has("db:Abort"));
        ck_assert(!trace_has("fake:abort"));
        ck_assert_uint_eq(count_snapshots(), 1);
        ck_assert_uint_eq(provider_snapshots(), 1);
}
END_TEST

/* --- CreateSnapshotSet ----------------------------------------------------------------------- */

static const char *const script_volumes[] = { "/dev/fake/a", "/dev/fake/b" };

/* CreateSnapshotSet of /dev/fake/a and /dev/fake/b. */
static int create(const char *owner, const CoreCreateOptions *options, struct call *c)
{
        return core_create_snapshot_set(E.core, owner, script_volumes, 2, options, c, NULL);
}

START_TEST(test_create_snapshot_set_whole_lifecycle)
{
        tw_add("db", VSS_LEVEL_BACK_END);
        struct call c = { 0 };
        struct vss_error_buf err = { "" };
        ck_assert_int_eq(core_create_snapshot_set(E.core, OWNER, script_volumes, 2, NULL, &c, &err),
                         0);
        pump();
        ck_assert_uint_eq(c.count, 1);
        ck_assert_int_eq(c.r, 0);
        CoreSet *set = core_set_find(E.core, c.id);
        ck_assert_ptr_nonnull(set);
        ck_assert_int_eq(set->state, CORE_SET_READY);
        ck_assert_str_eq(set->session->owner, OWNER);
        ck_assert_uint_eq(count_snapshots(), 2);
        ck_assert_str_eq(E.trace, "db:Identify fake:is_volume_supported fake:is_volume_supported "
                         "db:PrepareBackup db:PrepareSnapshot fake:prepare db:Freeze fake:hold "
                         "fake:commit fake:release db:Thaw db:PostSnapshot");
        ck_assert(creation_allowed());
        /* The caller leaving releases them (backup context). */
        core_owner_vanished(E.core, OWNER);
        pump();
        ck_assert_uint_eq(count_snapshots(), 0);
        ck_assert(trace_has("db:BackupShutdown"));
}
END_TEST

START_TEST(test_create_snapshot_set_persistent_survives_owner)
{
        CoreCreateOptions o = { .context = CORE_CONTEXT_NAS_ROLLBACK };
        struct call c = { 0 };
        ck_assert_int_eq(create(OWNER, &o, &c), 0);
        pump();
        ck_assert_int_eq(c.r, 0);
        core_owner_vanished(E.core, OWNER);
        pump();
        ck_assert_uint_eq(count_sessions(), 0);
        ck_assert_uint_eq(count_snapshots(), 2);
        ck_assert_uint_eq(core_set_find(E.core, c.id)->snapshots->attributes & VSS_ATTR_PERSISTENT,
                          VSS_ATTR_PERSISTENT);
}
END_TEST

START_TEST(test_create_snapshot_set_refuses_bad_requests)
{
        struct call c = { 0 };
        struct vss_error_buf err = { "" };
        const char *dup[] = { "/dev/fake/a", "/dev/fake/a" };
        ck_assert_int_eq(core_create_snapshot_set(E.core, OWNER, dup, 0, NULL, &c, &err), -EINVAL);
        assert_contains(err.message, "at least one volume");
        ck_assert_int_eq(core_create_snapshot_set(E.core, OWNER, dup, 2, NULL, &c, &err),
                         -VSS_E_VOLUME_IN_SET);
        assert_contains(err.message, "/dev/fake/a");
        const char *many[65];
        char names[65][32];
        for (int i = 0; i < 65; i++) {
                snprintf(names[i], sizeof(names[i]), "/dev/fake/v%d", i);
                many[i] = names[i];
        }
        ck_assert_int_eq(core_create_snapshot_set(E.core, OWNER, many, 65, NULL, &c, &err),
                         -VSS_E_MAX_VOLUMES);
        assert_contains(err.message, "65");
        CoreCreateOptions o = { .provider = "nope" };
        ck_assert_int_eq(core_create_snapshot_set(E.core, OWNER, many, 1, &o, &c, &err), -ENOENT);
        assert_contains(err.message, "'nope'");
        ck_assert_uint_eq(c.count, 0);
        ck_assert_uint_eq(E.added[CORE_OBJECT_SESSION], 0);
        /* 64 is allowed. */
        ck_assert_int_eq(core_create_snapshot_set(E.core, OWNER, many, 64, NULL, &c, &err), 0);
        pump();
        ck_assert_int_eq(c.r, 0);
        ck_assert_uint_eq(count_snapshots(), 64);
}
END_TEST

START_TEST(test_create_snapshot_set_failure_cleans_up)
{
        tw_add("db", VSS_LEVEL_BACK_END);
        const char *vols[] = { "/dev/fake/a", "/dev/sdz" };
        struct call c = { 0 };
        ck_assert_int_eq(core_create_snapshot_set(E.core, OWNER, vols, 2, NULL, &c, NULL), 0);
        pump();
        ck_assert_int_eq(c.r, -VSS_E_VOLUME_NOT_SUPPORTED);
        assert_contains(c.message, "/dev/sdz");
        ck_assert_str_eq(c.id, "");
        ck_assert_uint_eq(count_sessions(), 0);
        ck_assert_uint_eq(count_sets(), 0);
        ck_assert(creation_allowed());

        fault("fail commit");
        memset(&c, 0, sizeof(c));
        ck_assert_int_eq(create(OWNER, NULL, &c), 0);
        pump();
        ck_assert_int_eq(c.r, -VSS_E_PROVIDER_FAILED);
        assert_contains(c.message, "commit");
        ck_assert(trace_has("db:Abort"));
        ck_assert_uint_eq(count_sessions(), 0);
        ck_assert_uint_eq(provider_snapshots(), 0);
}
END_TEST

START_TEST(test_create_snapshot_set_owner_leaves_midway)
{
        struct test_writer *tw = tw_add("db", VSS_LEVEL_BACK_END);
        tw->silent_at = CORE_EVENT_FREEZE;
        struct call c = { 0 };
        ck_assert_int_eq(create(OWNER, NULL, &c), 0);
        pump();
        ck_assert_uint_eq(c.count, 0);
        core_owner_vanished(E.core, OWNER);
        ck_assert_uint_eq(c.count, 1);
        ck_assert_int_eq(c.r, -VSS_E_ABORTED);
        release_all();
        ck_assert(trace_has("db:Abort"));
        ck_assert(trace_has("fake:abort"));
        ck_assert_uint_eq(count_sessions(), 0);
        ck_assert_uint_eq(count_sets(), 0);
}
END_TEST

/* --- deleting snapshots --------------------------------------------------------------------- */

/* Two persistent sets of /dev/fake/a and /dev/fake/b whose sessions ended. */
static void two_persistent_sets(CoreSet **ret_a, CoreSet **ret_b)
{
        CoreCreateOptions o = { .context = CORE_CONTEXT_APP_ROLLBACK };
        struct call c1 = { 0 }, c2 = { 0 };
        ck_assert_int_eq(create(":1.50", &o, &c1), 0);
        pump();
        ck_assert_int_eq(create(":1.51", &o, &c2), 0);
        pump();
        ck_assert_int_eq(c1.r, 0);
        ck_assert_int_eq(c2.r, 0);
        core_owner_vanished(E.core, ":1.50");
        core_owner_vanished(E.core, ":1.51");
        *ret_a = core_set_find(E.core, c1.id);
        *ret_b = core_set_find(E.core, c2.id);
        ck_assert_uint_eq(count_snapshots(), 4);
}

START_TEST(test_delete_by_id_set_and_volume)
{
        CoreSet *a, *b;
        two_persistent_sets(&a, &b);
        struct call c = { 0 };
        char id[CORE_UUID_LEN + 1];
        snprintf(id, sizeof(id), "%s", a->snapshots->id);
        ck_assert_int_eq(core_snapshots_delete(E.core, CORE_DELETE_SNAPSHOT, id, &c, NULL), 0);
        pump();
        ck_assert_int_eq(c.r, 0);
        ck_assert_uint_eq(c.n, 1);
        ck_assert_ptr_null(core_snapshot_find(E.core, id));
        ck_assert_uint_eq(provider_snapshots(), 3);

        /* By volume: /dev/fake/b has one snapshot in each set. */
        memset(&c, 0, sizeof(c));
        ck_assert_int_eq(core_snapshots_delete(E.core, CORE_DELETE_VOLUME, "/dev/fake/b", &c, NULL),
                         0);
        pump();
        ck_assert_uint_eq(c.n, 2);
        ck_assert_uint_eq(count_snapshots(), 1);
        ck_assert_uint_eq(count_sets(), 1); /* a set goes with its last snapshot */
        ck_assert_uint_eq(E.removed[CORE_OBJECT_SET], 1);

        memset(&c, 0, sizeof(c));
        char set_id[CORE_UUID_LEN + 1];
        snprintf(set_id, sizeof(set_id), "%s", b->id);
        ck_assert_int_eq(core_snapshots_delete(E.core, CORE_DELETE_SET, set_id, &c, NULL), 0);
        pump();
        ck_assert_uint_eq(c.n, 1);
        ck_assert_uint_eq(count_snapshots(), 0);
        ck_assert_uint_eq(count_sets(), 0);
        ck_assert_uint_eq(provider_snapshots(), 0);
        ck_assert_uint_eq(E.removed[CORE_OBJECT_SNAPSHOT], 4);
}
END_TEST

START_TEST(test_delete_refusals)
{
        CoreSet *a, *b;
        two_persistent_sets(&a, &b);
        struct vss_error_buf err = { "" };
        struct call c = { 0 };
        ck_assert_int_eq(core_snapshots_delete(E.core, CORE_DELETE_SNAPSHOT, "nope", &c, &err),
                         -ENOENT);
        assert_contains(err.message, "nope");
        ck_assert_int_eq(core_snapshots_delete(E.core, CORE_DELETE_VOLUME, "/dev/fake/q", &c, &err),
                         -ENOENT);
        assert_contains(err.message, "/dev/fake/q");
        ck_assert_int_eq(core_snapshots_delete(E.core, CORE_DELETE_SET, "", &c, &err), -EINVAL);
        E.hold_jobs = true;
        ck_assert_int_eq(core_snapshots_delete(E.core, CORE_DELETE_SET, a->id, &c, &err), 0);
        ck_assert(a->snapshots->deleting);
        ck_assert_int_eq(core_snapshots_delete(E.core, CORE_DELETE_SET, a->id, &c, &err), -EBUSY);
        assert_contains(err.message, "already");
        E.hold_jobs = false;
        pump();
        ck_assert_uint_eq(c.count, 1);
        ck_assert_uint_eq(c.n, 2);
}
END_TEST

START_TEST(test_delete_failure_keeps_the_snapshot)
{
        CoreSet *a, *b;
        two_persistent_sets(&a, &b);
        fault("fail delete EBUSY");
        struct call c = { 0 };
        ck_assert_int_eq(core_snapshots_delete(E.core, CORE_DELETE_SET, a->id, &c, NULL), 0);
        pump();
        ck_assert_int_eq(c.r, -VSS_E_PROVIDER_FAILED);
        ck_assert_uint_eq(c.n, 0);
        assert_contains(c.message, a->snapshots->id);
        assert_contains(c.message, "/dev/fake/a");
        assert_contains(c.message, "injected failure at delete");
        ck_assert_uint_eq(count_snapshots(), 4);
        ck_assert(!a->snapshots->deleting);
}
END_TEST

/* --- expose, unexpose, revert ------------------------------------------------------------- */

/* An op on SNAP: its synchronous return, else (pumped) its reply's code; the reply in C. */
static int snap_op(int (*op)(CoreSnapshot *, void *, struct vss_error_buf *), CoreSnapshot *snap,
                   struct call *c)
{
        struct vss_error_buf err = { "" };
        memset(c, 0, sizeof(*c));
        return call_finish(c, op(snap, c, &err), &err);
}

static const char *expose_at; /* the mount point expose() passes */

static int do_expose(CoreSnapshot *snap, void *call, struct vss_error_buf *err)
{
        return core_snapshot_expose(snap, expose_at, call, err);
}

static int expose(CoreSnapshot *snap, const char *mount_point, struct call *c)
{
        expose_at = mount_point;
        return snap_op(do_expose, snap, c);
}

START_TEST(test_device_is_known_when_a_snapshot_appears)
{
        CoreSession *s = ready_session(OWNER);
        char device[64];
        snprintf(device, sizeof(device), "/dev/fake/snap-%s", s->set->snapshots->id);
        ck_assert_str_eq(s->set->snapshots->device, device);
        ck_assert_uint_eq(E.added_without_device, 0);
        ck_assert_str_eq(s->set->snapshots->exposed_path, "");
}
END_TEST

START_TEST(test_expose_and_unexpose)
{
        CoreSet *a, *b;
        two_persistent_sets(&a, &b);
        CoreSnapshot *snap = a->snapshots;
        char path[128];
        snprintf(path, sizeof(path), CORE_EXPOSE_DIR "/%s", snap->id);
        unsigned changed = E.changed[CORE_OBJECT_SNAPSHOT];
        struct call c;
        ck_assert_int_eq(expose(snap, "", &c), 0);
        ck_assert_str_eq(c.id, path);
        ck_assert_str_eq(snap->exposed_path, path);
        ck_assert_uint_eq(E.changed[CORE_OBJECT_SNAPSHOT], changed + 1);
        ck_assert_int_eq(expose(snap, "/mnt/other", &c), -VSS_E_BAD_STATE);
        assert_contains(c.message, "already exposed at " CORE_EXPOSE_DIR);
        assert_contains(c.message, "Unexpose");
        ck_assert_uint_eq(log_count("fake", "expose", NULL), 1);
        ck_assert_int_eq(snap_op(core_snapshot_unexpose, snap, &c), 0);
        ck_assert_str_eq(snap->exposed_path, "");
        ck_assert_int_eq(snap_op(core_snapshot_unexpose, snap, &c), -VSS_E_BAD_STATE);
        assert_contains(c.message, "is not exposed");
        ck_assert_int_eq(expose(snap, "/mnt/snap", &c), 0);
        ck_assert_str_eq(c.id, "/mnt/snap");
        ck_assert_uint_eq(E.changed[CORE_OBJECT_SNAPSHOT], changed + 3);
}
END_TEST

/* Auto-release: nobody is left to unexpose, and a provider may refuse to delete what is mounted. */
START_TEST(test_auto_release_unmounts_an_exposed_snapshot)
{
        CoreSession *s = ready_session(OWNER);
        CoreSnapshot *snap = s->set->snapshots;
        struct call c;
        ck_assert_int_eq(expose(snap, "/mnt/snap", &c), 0);
        trace_clear();
        core_owner_vanished(E.core, OWNER);
        pump();
        ck_assert_uint_eq(count_snapshots(), 0);
        ck_assert_uint_eq(provider_snapshots(), 0);
        ck_assert_int_eq(trace_count("fake:unexpose"), 1);
        ck_assert_int_lt(trace_pos("fake:unexpose"), trace_last("fake:delete"));
        ck_assert_uint_eq(trace_count("fake:delete"), 2);
}
END_TEST

START_TEST(test_auto_release_keeps_what_it_cannot_unmount)
{
        CoreSession *s = ready_session(OWNER);
        CoreSnapshot *snap = s->set->snapshots;
        struct call c, r = { 0 };
        ck_assert_int_eq(expose(snap, "/mnt/snap", &c), 0);
        fault("fail unexpose EBUSY");
        ck_assert_int_eq(core_session_release(s, OWNER, &r, NULL), 0);
        pump();
        ck_assert_uint_eq(r.count, 1);
        ck_assert_int_eq(r.r, -VSS_E_PROVIDER_FAILED);
        assert_contains(r.message, "could not unmount snapshot");
        assert_contains(r.message, "/mnt/snap");
        /* The other one went; the exposed one stays, still exposed, to be handled by hand. */
        ck_assert_uint_eq(count_snapshots(), 1);
        ck_assert_str_eq(snap->exposed_path, "/mnt/snap");
        ck_assert(!snap->deleting);
        ck_assert_uint_eq(log_count("fake", "delete", NULL), 1);
}
END_TEST

START_TEST(test_set_backup_succeeded)
{
        tw_add("db", VSS_LEVEL_BACK_END);
        CoreSession *s = prepared_session(OWNER, two_volumes);
        struct vss_error_buf err = { "" };
        struct call c;
        ck_assert_int_eq(core_session_set_backup_succeeded(s, OWNER, true, &err),
                         -VSS_E_BAD_STATE);
        assert_contains(err.message, "is prepared");
        ck_assert_int_eq(do_snapshot(s, &c), 0);
        ck_assert(!s->set->backup_succeeded);
        ck_assert_int_eq(core_session_set_backup_succeeded(s, ":1.9", true, &err), -EACCES);
        unsigned changed = E.changed[CORE_OBJECT_SET];
        ck_assert_int_eq(core_session_set_backup_succeeded(s, OWNER, true, &err), 0);
        ck_assert(s->set->backup_succeeded);
        ck_assert_uint_eq(E.changed[CORE_OBJECT_SET], changed + 1);
        ck_assert_int_eq(core_session_set_backup_succeeded(s, OWNER, true, &err), 0);
        ck_assert_uint_eq(E.changed[CORE_OBJECT_SET], changed + 1); /* no change, no signal */
        ck_assert_int_eq(core_session_set_backup_succeeded(s, OWNER, false, &err), 0);
        ck_assert(!s->set->backup_succeeded);
        ck_assert_int_eq(core_session_set_backup_succeeded(s, OWNER, true, &err), 0);
        ck_assert_int_eq(backup_complete(s, &c), 0);
        ck_assert(trace_has("db:BackupComplete"));
        ck_assert(s->set->backup_succeeded);
        ck_assert_int_eq(core_session_set_backup_succeeded(s, OWNER, false, &err),
                         -VSS_E_BAD_STATE);
        assert_contains(err.message, "backup-complete");
}
END_TEST

START_TEST(test_expose_refuses_bad_mount_points)
{
        CoreSet *a, *b;
        two_persistent_sets(&a, &b);
        struct call c;
        ck_assert_int_eq(expose(a->snapshots, "mnt/snap", &c), -EINVAL);
        assert_contains(c.message, "\"mnt/snap\" is not an absolute path");
        ck_assert_int_eq(expose(a->snapshots, "//", &c), -EINVAL);
        assert_contains(c.message, "root directory");
        ck_assert_int_eq(expose(a->snapshots, "/mnt/../etc", &c), -EINVAL);
        assert_contains(c.message, "\"..\"");
        ck_assert_uint_eq(log_count("fake", "expose", NULL), 0);
        ck_assert_str_eq(a->snapshots->exposed_path, "");
}
END_TEST

/* One op at a time; a deletion asked meanwhile waits for the op, then runs. */
START_TEST(test_one_op_at_a_time_and_deletion_waits)
{
        CoreSet *a, *b;
        two_persistent_sets(&a, &b);
        CoreSnapshot *snap = a->snapshots;
        char id[CORE_UUID_LEN + 1];
        strcpy(id, snap->id);
        struct call c = { 0 }, other, d = { 0 };
        E.hold_jobs = true;
        ck_assert_int_eq(core_snapshot_expose(snap, "/mnt/a", &c, NULL), 0);
        ck_assert_int_eq(expose(snap, "/mnt/b", &other), -EBUSY);
        assert_contains(other.message, "busy (expose is running)");
        ck_assert_int_eq(snap_op(core_snapshot_revert, snap, &other), -EBUSY);
        ck_assert_int_eq(core_snapshots_delete(E.core, CORE_DELETE_SNAPSHOT, id, &d, NULL), 0);
        ck_assert(snap->deleting);
        ck_assert_uint_eq(E.n_jobs, 1); /* the deletion waits for the expose */
        ck_assert_int_eq(snap_op(core_snapshot_unexpose, snap, &other), -EBUSY);
        assert_contains(other.message, "being deleted");
        E.hold_jobs = false;
        pump();
        ck_assert_int_eq(c.r, 0);
        ck_assert_uint_eq(d.count, 1);
        ck_assert_uint_eq(d.n, 1);
        ck_assert_ptr_null(core_snapshot_find(E.core, id));
        ck_assert(trace_pos("fake:expose") < trace_pos("fake:delete"));
}
END_TEST

START_TEST(test_ops_refused_while_the_set_is_made)
{
        struct test_writer *tw = tw_add("w", VSS_LEVEL_BACK_END);
        tw->silent_at = CORE_EVENT_POST_SNAPSHOT;
        CoreSession *s = prepared_session(OWNER, two_volumes);
        struct call c;
        ck_assert_int_eq(do_snapshot(s, &c), 1);
        CoreSnapshot *snap = s->set->unpublished;
        ck_assert_ptr_nonnull(snap);
        struct call op;
        ck_assert_int_eq(expose(snap, "", &op), -VSS_E_BAD_STATE);
        assert_contains(op.message, "still being created");
        ck_assert_int_eq(snap_op(core_snapshot_revert, snap, &op), -VSS_E_BAD_STATE);
        release_all();
        ck_assert_int_eq(c.r, 0);
}
END_TEST

START_TEST(test_revert_rules)
{
        CoreSet *a, *b;
        two_persistent_sets(&a, &b);
        CoreSnapshot *first = a->snapshots, *second = first->next;
        struct call c;
        char line[64];
        /* An invalid snapshot: its content is lost. */
        snprintf(line, sizeof(line), "invalidate %s", second->id);
        fault(line);
        monitor_tick();
        ck_assert_int_eq(second->state, VSS_SNAPSHOT_INVALID);
        ck_assert_int_eq(snap_op(core_snapshot_revert, second, &c), -VSS_E_BAD_STATE);
        assert_contains(c.message, "is invalid");
        ck_assert_int_eq(expose(second, "", &c), -VSS_E_BAD_STATE);
        assert_contains(c.message, "delete it");
        /* An exposed one is unexposed first. */
        ck_assert_int_eq(expose(first, "/mnt/a", &c), 0);
        ck_assert_int_eq(snap_op(core_snapshot_revert, first, &c), -VSS_E_BAD_STATE);
        assert_contains(c.message, "Unexpose before Revert");
        ck_assert_int_eq(snap_op(core_snapshot_unexpose, first, &c), 0);
        ck_assert_int_eq(snap_op(core_snapshot_revert, first, &c), 0);
        ck_assert_int_eq(first->state, VSS_SNAPSHOT_MERGING);
        /* Merging: the merge consumes it; nothing else may touch it. */
        ck_assert_int_eq(snap_op(core_snapshot_revert, first, &c), -VSS_E_BAD_STATE);
        assert_contains(c.message, "being merged");
        struct vss_error_buf err = { "" };
        ck_assert_int_eq(core_snapshots_delete(E.core, CORE_DELETE_SNAPSHOT, first->id, &c, &err),
                         -VSS_E_BAD_STATE);
        assert_contains(err.message, "being merged");
        memset(&c, 0, sizeof(c));
        ck_assert_int_eq(core_snapshots_delete(E.core, CORE_DELETE_SET, a->id, &c, NULL), 0);
        pump();
        ck_assert_uint_eq(c.n, 1); /* the invalid one; the merging one stays */
        ck_assert_ptr_eq(a->snapshots, first);
}
END_TEST

START_TEST(test_provider_failing_an_op)
{
        CoreSet *a, *b;
        two_persistent_sets(&a, &b);
        unsigned changed = E.changed[CORE_OBJECT_SNAPSHOT];
        fault("fail expose EBUSY");
        struct call c;
        ck_assert_int_eq(expose(a->snapshots, "", &c), -EBUSY);
        assert_contains(c.message, "provider 'fake' could not expose snapshot");
        assert_contains(c.message, "of /dev/fake/a: fake provider: injected failure at expose");
        ck_assert_str_eq(a->snapshots->exposed_path, "");
        ck_assert_uint_eq(E.changed[CORE_OBJECT_SNAPSHOT], changed);
}
END_TEST

/* Its set is aborted (auto-release) before the op comes back: the caller hears why. */
START_TEST(test_snapshot_gone_before_its_op_returns)
{
        CoreSession *s = ready_session(OWNER);
        E.hold_jobs = true;
        struct call c = { 0 };
        ck_assert_int_eq(core_snapshot_expose(s->set->snapshots, "", &c, NULL), 0);
        ck_assert_int_eq(core_session_abort_backup(s, OWNER, NULL), 0);
        ck_assert_uint_eq(E.n_jobs, 2);
        CoreJob *expose_job = E.jobs[0];
        E.jobs[0] = E.jobs[1];
        E.jobs[1] = expose_job; /* the provider aborts first */
        E.hold_jobs = false;
        pump();
        ck_assert_uint_eq(c.count, 1);
        ck_assert_int_eq(c.r, -ENOENT);
        assert_contains(c.message, "went away before expose finished");
        ck_assert_uint_eq(count_snapshots(), 0);
}
END_TEST

static Suite *session_suite(void)
{
        Suite *s = suite_create("core-session");
        TCase *tc = tcase_create("session");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_only_the_owner_uses_a_session);
        tcase_add_test(tc, test_context_rules);
        tcase_add_test(tc, test_snapshots_carry_the_context_attributes);
        tcase_add_loop_test(tc, test_no_writers_contexts, 0, 2);
        tcase_add_test(tc, test_add_component_checks);
        tcase_add_test(tc, test_component_outside_set_is_inconsistent);
        tcase_add_test(tc, test_component_file_on_unknown_volume);
        suite_add_tcase(s, tc);

        tc = tcase_create("release");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_owner_leaving_mid_set_aborts);
        tcase_add_loop_test(tc, test_owner_leaving_after_set_auto_releases, 0,
                            ELEMENTSOF(release_cases));
        tcase_add_test(tc, test_failed_auto_release_is_logged);
        tcase_add_test(tc, test_release_is_like_leaving);
        tcase_add_test(tc, test_release_answers_after_the_deletions);
        tcase_add_test(tc, test_owner_leaving_takes_only_its_sessions);
        tcase_add_test(tc, test_abort_after_ready_keeps_persistent);
        suite_add_tcase(s, tc);

        tc = tcase_create("create-snapshot-set");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_create_snapshot_set_whole_lifecycle);
        tcase_add_test(tc, test_create_snapshot_set_persistent_survives_owner);
        tcase_add_test(tc, test_create_snapshot_set_refuses_bad_requests);
        tcase_add_test(tc, test_create_snapshot_set_failure_cleans_up);
        tcase_add_test(tc, test_create_snapshot_set_owner_leaves_midway);
        suite_add_tcase(s, tc);

        tc = tcase_create("delete");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_delete_by_id_set_and_volume);
        tcase_add_test(tc, test_delete_refusals);
        tcase_add_test(tc, test_delete_failure_keeps_the_snapshot);
        suite_add_tcase(s, tc);

        tc = tcase_create("snapshot-ops");
        tcase_add_checked_fixture(tc, env_setup, env_teardown);
        tcase_add_test(tc, test_device_is_known_when_a_snapshot_appears);
        tcase_add_test(tc, test_expose_and_unexpose);
        tcase_add_test(tc, test_expose_refuses_bad_mount_points);
        tcase_add_test(tc, test_auto_release_unmounts_an_exposed_snapshot);
        tcase_add_test(tc, test_auto_release_keeps_what_it_cannot_unmount);
        tcase_add_test(tc, test_set_backup_succeeded);
        tcase_add_test(tc, test_one_op_at_a_time_and_deletion_waits);
        tcase_add_test(tc, test_ops_refused_while_the_set_is_made);
        tcase_add_test(tc, test_revert_rules);
        tcase_add_test(tc, test_provider_failing_an_op);
        tcase_add_test(tc, test_snapshot_gone_before_its_op_returns);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(session_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
