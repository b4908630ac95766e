/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sets.c: volumes, snapshots in memory, and a set from prepare to finish or abort. */
#include "tests/providers/fake/fake.h"

/* --- volumes -------------------------------------------------------------- */

/* Is VOLUME one of the comma-separated entries of LIST (blanks around them ignored)? */
static bool volume_listed(const char *list, const char *volume)
{
        size_t vlen = strlen(volume);
        for (const char *p = list; *p;) {
                p += strspn(p, " \t,");
                size_t len = strcspn(p, ",");
                size_t end = len;
                while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t'))
                        end--;
                if (end > 0 && end == vlen && strncmp(p, volume, vlen) == 0)
                        return true;
                p += len;
        }
        return false;
}

int volume_check(struct fake *f, const char *volume, struct vss_error_buf *err)
{
        if (f->volumes) {
                if (volume_listed(f->volumes, volume))
                        return 1;
                set_error(err, 0, FAKE_WHO "%s is not in its volume list "
                          "(volumes= in [provider." FAKE_NAME "])", volume);
                return 0;
        }
        if (strncmp(volume, FAKE_PREFIX, strlen(FAKE_PREFIX)) == 0)
                return 1;
        set_error(err, 0, FAKE_WHO "%s is not under " FAKE_PREFIX " (list other volumes "
                  "with volumes= in [provider." FAKE_NAME "])", volume);
        return 0;
}

int fake_is_volume_supported(void *state, const char *volume, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "is_volume_supported", volume, NULL), NULL, err);
        if (r < 0)
                return r;
        if (!volume)
                return op_end(f, set_error(err, -EINVAL, FAKE_WHO "no volume given"));
        return op_end(f, volume_check(f, volume, err));
}

/* --- snapshots ------------------------------------------------------------ */

/* A snapshot id is taken while its snapshot exists or its set may still create it. */
static bool snapshot_id_taken(struct fake *f, const char *id)
{
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++)
                        if (strcmp(s->snaps[i].id, id) == 0 &&
                            (s->snaps[i].exists || s->phase <= PHASE_HELD))
                                return true;
        return false;
}

static struct fake_snapshot *snapshot_find(struct fake *f, const char *id)
{
        for (struct fake_set *s = f->sets; s; s = s->next)
                for (size_t i = 0; i < s->n_snaps; i++)
                        if (s->snaps[i].exists && strcmp(s->snaps[i].id, id) == 0)
                                return &s->snaps[i];
        return NULL;
}

/* Forget a snapshot: delete, a finished merge and abort. */
void snapshot_remove(struct fake *f, struct fake_snapshot *snap)
{
        if (snap->exists)
                f->dirty = true;
        snap->exists = false;
        free(snap->exposed);
        snap->exposed = NULL;
}

/* An "invalidate" control line, at monitor(): the store of ID overflowed. */
void snapshot_invalidate(struct fake *f, const char *id)
{
        struct fake_snapshot *snap = snapshot_find(f, id);
        if (!snap || snap->state != VSS_SNAPSHOT_VALID)
                return;
        snap->state = VSS_SNAPSHOT_INVALID;
        snap->cow_used = FAKE_COW_SIZE;
        f->dirty = true;
}

/* The existing snapshot ID, or NULL with the reason for -ENOENT in err. */
struct fake_snapshot *snapshot_lookup(struct fake *f, const char *id,
                                      struct vss_error_buf *err)
{
        struct fake_snapshot *snap = id ? snapshot_find(f, id) : NULL;
        if (!snap)
                set_error(err, -ENOENT, FAKE_WHO "snapshot %s does not exist; it may "
                          "have been deleted already", id ? id : "(null)");
        return snap;
}

/* --- sets ----------------------------------------------------------------- */

struct fake_set *fake_set_free(struct fake_set *set)
{
        if (!set)
                return NULL;
        for (size_t i = 0; i < set->n_snaps; i++) {
                free(set->snaps[i].id);
                free(set->snaps[i].origin);
                free(set->snaps[i].device);
                free(set->snaps[i].exposed);
        }
        free(set->snaps);
        free(set->id);
        free(set);
        return NULL;
}

/* Sets stay in the order they came: query reports in that order. */
void sets_append(struct fake *f, struct fake_set *set)
{
        struct fake_set **tail = &f->sets;
        while (*tail)
                tail = &(*tail)->next;
        *tail = set;
}

/* Everything the set will need is allocated here, so commit allocates nothing. */
static int set_new(const struct vss_set_request *req, struct fake_set **ret)
{
        struct fake_set *set = calloc(1, sizeof(*set));
        if (!set)
                return -ENOMEM;
        set->attributes = req->attributes;
        set->phase = PHASE_PREPARED;
        set->id = strdup(req->set_id);
        set->snaps = calloc(req->n_volumes, sizeof(*set->snaps));
        bool ok = set->id && set->snaps;
        if (set->snaps)
                set->n_snaps = req->n_volumes;
        for (size_t i = 0; ok && i < req->n_volumes; i++) {
                struct fake_snapshot *snap = &set->snaps[i];
                snap->id = strdup(req->volumes[i].snapshot_id);
                snap->origin = strdup(req->volumes[i].volume);
                ok = snap->id && snap->origin &&
                     asprintf(&snap->device, FAKE_PREFIX "snap-%s", snap->id) >= 0;
                if (!ok)
                        snap->device = NULL; /* asprintf leaves it undefined on failure */
                else
                        snprintf(req->volumes[i].device, sizeof(req->volumes[i].device), "%s",
                                 snap->device);
        }
        if (!ok) {
                fake_set_free(set);
                return -ENOMEM;
        }
        *ret = set;
        return 0;
}

static int prepare_check_volume(struct fake *f, const struct vss_set_request *req, size_t i,
                                struct vss_error_buf *err)
{
        const struct vss_volume_request *v = &req->volumes[i];
        if (!v->volume || !v->snapshot_id)
                return set_error(err, -EINVAL, FAKE_WHO "volume %zu of set %s has no "
                                 "path or no snapshot id", i, req->set_id);
        if (volume_check(f, v->volume, err) != 1)
                return -VSS_E_VOLUME_NOT_SUPPORTED; /* err holds the reason */
        for (size_t j = 0; j < i; j++) {
                if (strcmp(req->volumes[j].volume, v->volume) == 0)
                        return set_error(err, -VSS_E_VOLUME_IN_SET, FAKE_WHO "%s is "
                                         "twice in set %s", v->volume, req->set_id);
                if (strcmp(req->volumes[j].snapshot_id, v->snapshot_id) == 0)
                        return set_error(err, -EEXIST, FAKE_WHO "snapshot id %s is "
                                         "twice in set %s", v->snapshot_id, req->set_id);
        }
        if (snapshot_id_taken(f, v->snapshot_id))
                return set_error(err, -EEXIST, FAKE_WHO "snapshot id %s of set %s is "
                                 "already in use", v->snapshot_id, req->set_id);
        return 0;
}

static int prepare_check(struct fake *f, const struct vss_set_request *req,
                         struct vss_error_buf *err)
{
        struct fake_set *old = set_find(f, req->set_id);
        if (old)
                return set_error(err, -VSS_E_BAD_STATE, FAKE_WHO "prepare of set %s, "
                                 "which was prepared before (it is %s); a set is prepared "
                                 "once", req->set_id, phase_to_string(old->phase));
        if (req->n_volumes == 0 || !req->volumes)
                return set_error(err, -EINVAL, FAKE_WHO "prepare of set %s with no "
                                 "volumes", req->set_id);
        if (req->n_volumes > VSS_MAX_VOLUMES_PER_SET)
                return set_error(err, -VSS_E_MAX_VOLUMES, FAKE_WHO "set %s has %zu "
                                 "volumes, more than %d", req->set_id, req->n_volumes,
                                 VSS_MAX_VOLUMES_PER_SET);
        for (size_t i = 0; i < req->n_volumes; i++) {
                int r = prepare_check_volume(f, req, i, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int fake_prepare(void *state, struct vss_set_request *req,
                 struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        bool valid = req && req->set_id;

        line_start(&line, "prepare", valid ? req->set_id : NULL, NULL);
        for (size_t i = 0; valid && req->volumes && i < req->n_volumes; i++)
                line_add(&line, req->volumes[i].volume);
        int r = op_begin(f, &line, NULL, err);
        if (r < 0)
                return r;
        if (!valid)
                return op_end(f, set_error(err, -EINVAL, FAKE_WHO "prepare without "
                                           "a set id"));
        r = prepare_check(f, req, err);
        if (r < 0)
                return op_end(f, r);

        struct fake_set *set;
        r = set_new(req, &set);
        if (r < 0)
                return op_end(f, set_error(err, r, FAKE_WHO "out of memory preparing "
                                           "set %s", req->set_id));
        sets_append(f, set);
        /* An out field of a request the ABI hands over as const, as volumes[].device is. */
        req->atomicity = f->atomicity;
        return op_end(f, 0);
}

/* Common start of hold, commit and release: the set, or BAD_STATE when it is unknown. */
static int set_op_begin(struct fake *f, const char *op, const char *set_id,
                        struct fake_set **ret, struct vss_error_buf *err)
{
        struct line line;
        int r = op_begin(f, line_start(&line, op, set_id, NULL), set_id, err);
        if (r < 0)
                return r;
        struct fake_set *set = set_id ? set_find(f, set_id) : NULL;
        if (!set)
                return op_end(f, set_error(err, -VSS_E_BAD_STATE, FAKE_WHO "%s of set "
                                           "%s, which was never prepared; prepare it first",
                                           op, set_id ? set_id : "(null)"));
        *ret = set;
        return 0;
}

static int bad_phase(struct fake_set *set, const char *op, const char *needs,
                     struct vss_error_buf *err)
{
        return set_error(err, -VSS_E_BAD_STATE, FAKE_WHO "%s of set %s, which is %s; "
                         "%s", op, set->id, phase_to_string(set->phase), needs);
}

int fake_hold(void *state, const char *set_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct fake_set *set;
        int r = set_op_begin(f, "hold", set_id, &set, err);
        if (r < 0)
                return r;
        if (set->phase != PHASE_PREPARED)
                return op_end(f, bad_phase(set, "hold", "hold comes once, after prepare", err));
        set->phase = PHASE_HELD;
        return op_end(f, 0);
}

int fake_commit(void *state, const char *set_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct fake_set *set;
        int r = set_op_begin(f, "commit", set_id, &set, err);
        if (r < 0)
                return r;
        if (set->phase != PHASE_HELD)
                return op_end(f, bad_phase(set, "commit", "commit comes once, after hold", err));

        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        uint64_t usec = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
        for (size_t i = 0; i < set->n_snaps; i++) {
                set->snaps[i].exists = true;
                set->snaps[i].creation_usec = usec;
                set->snaps[i].state = VSS_SNAPSHOT_VALID;
                set->snaps[i].cow_used = FAKE_COW_USED;
        }
        set->phase = PHASE_COMMITTED;
        f->dirty = true; /* saved by the next op outside the window */
        return op_end(f, 0);
}

/*
 * Valid after hold (with or without commit: without is the failure path) and,
 * for the watchdog, while a hold of the set is still stalled in another thread.
 */
int fake_release(void *state, const char *set_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct fake_set *set;
        int r = set_op_begin(f, "release", set_id, &set, err);
        if (r < 0)
                return r;
        bool holding = set->phase == PHASE_HELD || set->phase == PHASE_COMMITTED ||
                       (set->phase == PHASE_PREPARED && set->inflight > 0);
        if (!holding)
                return op_end(f, bad_phase(set, "release", "release comes once, after hold",
                                           err));
        set->phase = PHASE_RELEASED;
        set_cancel(f, set);
        return op_end(f, 0);
}

/* After a release that followed a commit; what LVM's classic snapshots would do here. */
int fake_finish(void *state, const char *set_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct fake_set *set;
        int r = set_op_begin(f, "finish", set_id, &set, err);
        if (r < 0)
                return r;
        bool made = set->n_snaps > 0 && set->snaps[0].exists; /* commit came before */
        if (set->phase != PHASE_RELEASED || !made || set->finished)
                return op_end(f, bad_phase(set, "finish", "finish comes once, after a commit "
                                           "and its release", err));
        set->finished = true;
        return op_end(f, 0);
}

int fake_abort(void *state, const char *set_id, struct vss_error_buf *err)
{
        struct fake *f = state;
        struct line line;
        int r = op_begin(f, line_start(&line, "abort", set_id, NULL), set_id, err);
        if (r < 0)
                return r;
        struct fake_set *set = set_id ? set_find(f, set_id) : NULL;
        if (!set)
                return op_end(f, 0); /* nothing was made, so nothing to undo */
        for (size_t i = 0; i < set->n_snaps; i++)
                snapshot_remove(f, &set->snaps[i]);
        set->phase = PHASE_ABORTED;
        set_cancel(f, set);
        return op_end(f, 0);
}
