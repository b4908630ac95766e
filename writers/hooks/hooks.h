/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hooks.h: the writer's engine. Each event vssd sends becomes a job that runs
 * the hooks one after the other from the event loop, never inside libvss's
 * callback: the callback queues the job and answers VSS_WRITER_ANSWER_LATER,
 * and the job answers with vss_writer_answer() when its last hook is done.
 *
 * Freeze runs the hooks in name order and remembers those that froze (a hook
 * that exited 0, or a holder: one that printed READY and stays alive); thaw
 * and abort go to those, in reverse order. A hook that fails at freeze thaws
 * the ones before it, then the writer vetoes.
 */
#ifndef VSS_HOOKS_HOOKS_H
#define VSS_HOOKS_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include <vss/writer.h>

#define HOOKS_N_EVENTS (VSS_WRITER_EVENT_BACKUP_SHUTDOWN + 1)

struct hooks_config {
        const char *dir;
        const char *bus;                     /* NULL: libvss's default */
        bool events[HOOKS_N_EVENTS];         /* the events hooks are run for */
        uint64_t timeout_ms[HOOKS_N_EVENTS]; /* per hook run, by event */
};

struct hooks;

/* The word a hook gets as $1 for TYPE ("freeze", "prepare-backup"); NULL: none. */
const char *hooks_event_word(enum vss_writer_event_type type);
/* The inverse; -EINVAL for a word that names no event hooks get. */
int hooks_event_from_word(const char *word);

int hooks_new(struct hooks **ret, const struct hooks_config *cfg);
struct hooks *hooks_free(struct hooks *h);
/* The writer the jobs answer on; set before events come. */
void hooks_set_writer(struct hooks *h, vss_writer *w);
/* libvss's event callback (USERDATA: the hooks). */
int hooks_on_event(vss_writer *w, const struct vss_writer_event *ev, void *userdata);
/* Start whatever can start now; call after every dispatch and child event. */
void hooks_pump(struct hooks *h);
/*
 * SIGTERM: events that come or wait from now on are refused, the job
 * running finishes (a freeze fails), and whatever froze is thawed (abort).
 */
void hooks_stop(struct hooks *h);
/* Stopping, and nothing left to do (no job, nothing frozen). */
bool hooks_done(const struct hooks *h);

#endif
