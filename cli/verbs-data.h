/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* warrenctl copy, rename, snapshot, export and file (verbs-data.c),
 * clients of the Container data methods.
 *
 * Wiring in warrenctl.c: DATA_OPTIONS in the option table, the DATA_ARG_*
 * codes to parse_data_option(), verbs_data[] in the verb groups, and
 * data_verb_owns_o_r() where -o/-r are checked: export takes "-o FILE"
 * and file takes "-r" (recursive), as incus does, not the table options. */

#include <stdbool.h>

#include "warrenctl.h"

extern const Verb verbs_data[];
int parse_data_option(int c, const char *arg);
bool data_verb_owns_o_r(const Verb *v);

enum {
        DATA_ARG_SNAPSHOT = 0x700,
        DATA_ARG_KEEP_MAC,
        DATA_ARG_COMMENT,
        DATA_ARG_NO_FREEZE,
        DATA_ARG_SPLIT,
        DATA_ARG_COMPRESSION,
        DATA_ARG_RECURSIVE,
};
/* clang-format off */
#define DATA_OPTIONS                                                            \
        { "snapshot", no_argument, NULL, DATA_ARG_SNAPSHOT },                   \
        { "keep-mac", no_argument, NULL, DATA_ARG_KEEP_MAC },                   \
        { "comment", required_argument, NULL, DATA_ARG_COMMENT },               \
        { "no-freeze", no_argument, NULL, DATA_ARG_NO_FREEZE },                 \
        { "split", required_argument, NULL, DATA_ARG_SPLIT },                   \
        { "compression", required_argument, NULL, DATA_ARG_COMPRESSION },       \
        { "recursive", no_argument, NULL, DATA_ARG_RECURSIVE }
/* clang-format on */
