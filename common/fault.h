/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fault.h: named fault points, for proving crash safety (tests/vm/check_faults,
 * tests/vm/check_stall).
 *
 * Only a fault-injection build has them (make FAULT_INJECTION=1, which the VM
 * tests build into build/fault/); in every other build VSS_FAULT() compiles
 * to nothing, so no environment variable can make a production vssd kill
 * itself. In a fault build the environment variable VSS_FAULT chooses one
 * point and what happens there:
 *
 *   VSS_FAULT=POINT              SIGKILL the process the first time POINT is reached
 *   VSS_FAULT=POINT@N            ... the Nth time
 *   VSS_FAULT=POINT:stall=MS     sleep MS milliseconds there (every time), then go on
 *
 * VSS_FAULT() allocates nothing and logs nothing: it may stand inside the
 * hold window. The points (the catalogue the tests iterate over):
 *
 *   vssd (daemon/core):
 *     after-prepare          every provider prepared; no writer frozen yet
 *     after-freeze-front-end every front-end writer answered Freeze
 *     after-freeze-back-end  ... back-end writers
 *     after-freeze-system    ... system writers (the window opens next)
 *     window-open            the main thread, right after handing the window to
 *                            the provider thread (stall: a stuck main loop)
 *     during-thaw            Thaw sent to the writers, no answer read yet
 *   the hold window of every dm provider (providers/common/hold.c):
 *     after-suspend-first    hold suspended one origin (others may still be
 *                            suspending)
 *     after-suspend-all      hold suspended every origin (stall: a stuck hold)
 *   dm-snapshot provider:
 *     after-table-reload     prepare loaded an origin's snapshot-origin table
 *                            (inactive) and made its snapshot device
 *     before-resume          commit activated every snapshot; origins suspended
 *     after-resume           release resumed every origin
 *     delete-after-remove    delete removed a snapshot device; the origin's
 *                            table not yet restored
 *     revert-after-merge     revert loaded the merge table into the origin
 */
#ifndef VSS_COMMON_FAULT_H
#define VSS_COMMON_FAULT_H

#ifdef VSS_FAULT_INJECTION
void vss_fault_point(const char *name);
/* The VSS_FAULT setting, for a warning at start ("" when unset). */
const char *vss_fault_setting(void);
#define VSS_FAULT(name) vss_fault_point(name)
#else
#define VSS_FAULT(name) ((void)sizeof(name)) /* nothing, but NAME counts as used */
#endif

#endif
