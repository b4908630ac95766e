/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * scripts.h: which files of the hook directory are hooks, in which order.
 */
#ifndef VSS_HOOKS_SCRIPTS_H
#define VSS_HOOKS_SCRIPTS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The hooks of DIR: the names of its executable regular files (symbolic
 * links followed) in byte order of their names, as run-parts(8) sorts;
 * dotfiles and the leftovers of editors and package managers are skipped
 * (see script_name_ignored()), each skip logged at debug level. A
 * NULL-terminated array of malloc()ed names into *RET, its length into
 * *RET_N. -errno when DIR cannot be read; -ENOMEM.
 */
int scripts_list(const char *dir, char ***ret, size_t *ret_n);

/* Names that are never hooks: ".*", "*~", "*.bak", "*.dpkg-*", "*.rpmsave", ... */
bool script_name_ignored(const char *name);

/* Free a NULL-terminated array of strings (NULL is fine). */
void strv_free(char **v);

#endif
