/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Verbs acting on running containers. */
#include <stddef.h>

#include "warrenctl.h"

const Verb verbs_runtime[] = {
        {},
};

const char *verbs_runtime_help(void) {
        return "";
}

int parse_runtime_option(int c, const char *arg) {
        return -22;
}
