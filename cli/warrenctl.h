/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "output.h"

#define WARREN_BUS "org.warren1"
#define WARREN_MANAGER_PATH "/org/warren1"
#define WARREN_MANAGER_IFACE "org.warren1.Manager"
#define WARREN_CONTAINER_IFACE "org.warren1.Container"
#define WARREN_CONTAINER_PREFIX "/org/warren1/container"
#define WARREN_JOB_IFACE "org.warren1.Job"
#define WARRENCTL_VERSION "0.1"
/* Long enough for a human to answer a polkit prompt or a slow stop. */
#define CALL_TIMEOUT_USEC (600ULL * 1000000ULL)

enum {
        VERB_REST = 1 << 0,      /* arguments past max_args go on (create's template, attach's command) */
        VERB_JSON = 1 << 1,      /* takes --json */
        VERB_TABLE = 1 << 2,     /* prints a table: takes -o, --noheadings, --raw */
        VERB_READ_ONLY = 1 << 3, /* never needs authorization: no polkit agent */
        VERB_LIST = 1 << 4,      /* takes list's filters */
};

typedef struct Verb {
        const char *name;
        int min_args;
        int max_args; /* -1: any */
        int (*run)(sd_bus *bus, char **args);
        unsigned flags; /* VERB_* */
        /* For help: usage after "warrenctl VERB " (one line per subcommand),
         * a summary (a few words), an optional description, option lines
         * ("-k --kill\tWhat it does\n"; "\tmore\n" continues the text),
         * examples (one command a line), the table's columns if any. An
         * alias has only alias_of. */
        const char *usage;
        const char *summary;
        const char *description;
        const char *options;
        const char *example;
        const OutputColumn *columns;
        const char *alias_of;
} Verb;

extern bool arg_ask_password;
/* Set by a verb whose exit status is its command's (attach). */
extern int arg_exit_status;

int bus_connect(sd_bus **ret);
/* Prints "warrenctl: what: message"; an AccessDenied also says which
 * polkit action was refused and what grants it. Returns r (or -EIO). */
int log_bus_error(const char *what, const sd_bus_error *error, int r);
int call_manager(sd_bus *bus, const char *member, sd_bus_message **ret_reply, const char *types, ...);
int call_container(sd_bus *bus, const char *name, const char *member, sd_bus_message **ret_reply,
                   const char *types, ...);
int container_path(sd_bus *bus, const char *name, char **ret);
int container_path_local(const char *name, char **ret);
int container_call_failed(sd_bus *bus, const char *name, const char *what, const sd_bus_error *error, int r);
int parse_key_value(const char *arg, char ***kv);
/* A method call that must never prompt (reads done on the side). */
int call_quiet(sd_bus *bus, const char *path, const char *iface, const char *member,
               sd_bus_message **ret_reply);

/* Reading properties with GetAll into a struct. */
struct bus_properties_map {
        const char *member;
        const char *signature; /* s, u, b, t, as */
        void *unused;
        size_t offset;
};
int bus_map_all_properties(sd_bus *bus, const char *path, const char *iface,
                           const struct bus_properties_map *map, void *userdata);

/* Verbs on containers' data (create, destroy, list, info, config):
 * verbs-container.c. */
extern const Verb verbs_container[];
int parse_container_option(int c, const char *arg);
/* 0, or -EINVAL after printing which option does not belong to verb. */
int container_options_check(const Verb *v);
enum {
        CONTAINER_ARG_CONFIG = 0x600,
        CONTAINER_ARG_UNPRIVILEGED,
        CONTAINER_ARG_RUNNING,
        CONTAINER_ARG_STOPPED,
        CONTAINER_ARG_FROZEN,
        CONTAINER_ARG_OWNER,
};
/* clang-format off */
#define CONTAINER_OPTIONS                                                       \
        { "config", required_argument, NULL, CONTAINER_ARG_CONFIG },            \
        { "unprivileged", no_argument, NULL, CONTAINER_ARG_UNPRIVILEGED },      \
        { "running", no_argument, NULL, CONTAINER_ARG_RUNNING },                \
        { "stopped", no_argument, NULL, CONTAINER_ARG_STOPPED },                \
        { "frozen", no_argument, NULL, CONTAINER_ARG_FROZEN },                  \
        { "owner", required_argument, NULL, CONTAINER_ARG_OWNER }
/* clang-format on */
/* create's -t (warrenctl.c routes it). */
extern const char *arg_template;

/* Runtime verbs (start, stop, ...) live in verbs-runtime.c. */
extern const Verb verbs_runtime[];
int parse_runtime_option(int c, const char *arg);
#define RUNTIME_SHORT_OPTIONS "ks:g:a"
enum {
        ARG_TIMEOUT = 0x200,
        ARG_STOP,
};
#define RUNTIME_OPTIONS                                                                                 \
        { "timeout", required_argument, NULL, ARG_TIMEOUT }, { "kill", no_argument, NULL, 'k' },        \
                { "signal", required_argument, NULL, 's' }, { "groups", required_argument, NULL, 'g' }, \
                { "all", no_argument, NULL, 'a' }, {                                                    \
                "stop", no_argument, NULL, ARG_STOP                                                     \
        }
