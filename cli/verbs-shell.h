/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* warrenctl attach / console / console-log (verbs-shell.c).
 *
 * Wiring in warrenctl.c:
 *   - add SHELL_SHORT_OPTIONS to both getopt strings and SHELL_OPTIONS to
 *     the option table; pass the SHELL_ARG_* codes and 'e' to
 *     parse_shell_option();
 *   - console's "-t N" arrives as arg_template: for the verb "console" call
 *     parse_shell_option(SHELL_ARG_TTY, arg_template) and clear it (as is
 *     done for stop's timeout);
 *   - look verbs up in verbs_shell[] too.
 * "attach" is declared with rest_after_first, so "attach NAME -- CMD ARGS"
 * gives args = { NAME, CMD, ARGS..., NULL }. */

#include "warrenctl.h"

extern const Verb verbs_shell[];
/* 0, or -EINVAL after printing what was wrong. */
int parse_shell_option(int c, const char *arg);

#define SHELL_SHORT_OPTIONS "e:"
enum {
        SHELL_ARG_PTY = 0x300,
        SHELL_ARG_NO_PTY,
        SHELL_ARG_CWD,
        SHELL_ARG_UID,
        SHELL_ARG_GID,
        SHELL_ARG_CLEAR_ENV,
        SHELL_ARG_ESCAPE,
        SHELL_ARG_TTY,
};
/* clang-format off */
#define SHELL_OPTIONS                                                    \
        { "env", required_argument, NULL, 'e' },                         \
        { "pty", no_argument, NULL, SHELL_ARG_PTY },                     \
        { "no-pty", no_argument, NULL, SHELL_ARG_NO_PTY },               \
        { "cwd", required_argument, NULL, SHELL_ARG_CWD },               \
        { "uid", required_argument, NULL, SHELL_ARG_UID },               \
        { "gid", required_argument, NULL, SHELL_ARG_GID },               \
        { "clear-env", no_argument, NULL, SHELL_ARG_CLEAR_ENV },         \
        { "escape", required_argument, NULL, SHELL_ARG_ESCAPE },         \
        { "tty", required_argument, NULL, SHELL_ARG_TTY }
/* clang-format on */
