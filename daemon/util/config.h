/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * config.h: an INI-style configuration file (vssd.conf(5)):
 *
 *     # comment            ; comment too
 *     [section]
 *     key = value
 *
 * Keys and sections are case-sensitive; values are trimmed; a key given twice
 * keeps the last value. Parse errors name the file and line.
 */
#ifndef VSS_UTIL_CONFIG_H
#define VSS_UTIL_CONFIG_H

#include <stddef.h>

typedef struct Config Config;

/* Parse TEXT; SOURCE names it in error messages. */
int config_parse(Config **ret, const char *text, const char *source, char *err, size_t err_size);
/* Read and parse PATH; -ENOENT (with a message) when it does not exist. */
int config_load(Config **ret, const char *path, char *err, size_t err_size);
Config *config_free(Config *config);

const char *config_get(const Config *config, const char *section, const char *key);

/* Visit every key of SECTION, in file order; stop at the first non-zero return. */
int config_foreach_key(const Config *config, const char *section,
                       int (*fn)(const char *key, const char *value, void *userdata),
                       void *userdata);

/* Visit every key of every section, in file order; stop at the first non-zero return. */
int config_foreach_entry(const Config *config,
                         int (*fn)(const char *section, const char *key, const char *value,
                                   void *userdata),
                         void *userdata);

/*
 * Unsigned value of SECTION.KEY in [MIN, MAX]; DEFAULT_VALUE when absent.
 * -EINVAL with a message naming the key, the value and the range otherwise.
 */
int config_get_uint(const Config *config, const char *section, const char *key,
                    unsigned default_value, unsigned min, unsigned max, unsigned *ret,
                    char *err, size_t err_size);

#endif
