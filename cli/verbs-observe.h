/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* warrenctl top, limit, monitor and wait (verbs-observe.c), and the stats
 * part of info: clients of Container.GetStats, Manager.GetStatsAll,
 * Container.SetConfigWithResult and of the service's signals
 * (PropertiesChanged of the containers, ContainerNew/Removed,
 * JobNew/Removed, the bus name's owner).
 *
 * Wiring in warrenctl.c: OBSERVE_OPTIONS in the option table, the
 * OBSERVE_ARG_* codes to parse_observe_option() (and -t / --timeout of
 * wait too), verbs_observe[] in the verb lookup, and
 * observe_options_check(verb) once the verb is known. */

#include "warrenctl.h"

typedef struct OutputObject OutputObject;

extern const Verb verbs_observe[];

enum {
        OBSERVE_ARG_DELAY = 0x800,
        OBSERVE_ARG_ITERATIONS,
        OBSERVE_ARG_TIMEOUT, /* wait's -t / --timeout (warrenctl.c routes them) */
};
/* clang-format off */
#define OBSERVE_OPTIONS                                                         \
        { "delay", required_argument, NULL, OBSERVE_ARG_DELAY },                \
        { "iterations", required_argument, NULL, OBSERVE_ARG_ITERATIONS }
/* clang-format on */

/* 0, or -EINVAL after printing what was wrong. */
int parse_observe_option(int c, const char *arg);
/* 0 if no option of ours was given or verb takes it, else -EINVAL after
 * printing which option does not belong. */
int observe_options_check(const char *verb);

/* info: the running container's stats (GetStats, never prompting; left
 * out when they cannot be read), as text lines or into a JSON object
 * ("stats"). */
void observe_info_text(sd_bus *bus, const char *path);
void observe_info_json(sd_bus *bus, const char *path, OutputObject *o);
