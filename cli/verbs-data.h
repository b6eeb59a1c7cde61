/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* warrenctl copy, rename, snapshot, export and file (verbs-data.c),
 * clients of the Container data methods.
 *
 * Wiring in warrenctl.c: DATA_SHORT_OPTIONS in the getopt string,
 * DATA_OPTIONS in the option table, 'o', 'r' and the DATA_ARG_* codes to
 * parse_data_option(), verbs_data[] in the verb lookup, verbs_data_help()
 * in the help text. */

#include "warrenctl.h"

extern const Verb verbs_data[];
const char *verbs_data_help(void);
int parse_data_option(int c, const char *arg);

#define DATA_SHORT_OPTIONS "o:r"
enum {
        DATA_ARG_SNAPSHOT = 0x600,
        DATA_ARG_KEEP_MAC,
        DATA_ARG_COMMENT,
        DATA_ARG_NO_FREEZE,
        DATA_ARG_SPLIT,
        DATA_ARG_COMPRESSION,
};
/* clang-format off */
#define DATA_OPTIONS                                                            \
        { "snapshot", no_argument, NULL, DATA_ARG_SNAPSHOT },                   \
        { "keep-mac", no_argument, NULL, DATA_ARG_KEEP_MAC },                   \
        { "comment", required_argument, NULL, DATA_ARG_COMMENT },               \
        { "no-freeze", no_argument, NULL, DATA_ARG_NO_FREEZE },                 \
        { "split", required_argument, NULL, DATA_ARG_SPLIT },                   \
        { "compression", required_argument, NULL, DATA_ARG_COMPRESSION },       \
        { "output", required_argument, NULL, 'o' },                             \
        { "recursive", no_argument, NULL, 'r' }
/* clang-format on */
