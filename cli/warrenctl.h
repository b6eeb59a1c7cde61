/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#define WARREN_BUS "org.warren1"
#define WARREN_MANAGER_PATH "/org/warren1"
#define WARREN_MANAGER_IFACE "org.warren1.Manager"
#define WARREN_CONTAINER_IFACE "org.warren1.Container"
#define WARREN_CONTAINER_PREFIX "/org/warren1/container"
#define WARREN_JOB_IFACE "org.warren1.Job"
#define WARRENCTL_VERSION "0.1"
/* Long enough for a human to answer a polkit prompt or a slow stop. */
#define CALL_TIMEOUT_USEC (600ULL * 1000000ULL)

typedef struct Verb {
        const char *name;
        int min_args;
        int max_args; /* -1: any */
        int (*run)(sd_bus *bus, char **args);
        bool rest_after_first; /* arguments past max_args go to the template */
} Verb;

extern bool arg_ask_password;
/* Set by a verb whose exit status is its command's (attach). */
extern int arg_exit_status;

int bus_connect(sd_bus **ret);
int log_bus_error(const char *what, const sd_bus_error *error, int r);
int call_manager(sd_bus *bus, const char *member, sd_bus_message **ret_reply, const char *types, ...);
int call_container(sd_bus *bus, const char *name, const char *member, sd_bus_message **ret_reply,
                   const char *types, ...);
int container_path(sd_bus *bus, const char *name, char **ret);
int container_path_local(const char *name, char **ret);
int container_call_failed(sd_bus *bus, const char *name, const char *what, const sd_bus_error *error, int r);
int parse_key_value(const char *arg, char ***kv);

/* Reading properties with GetAll into a struct. */
struct bus_properties_map {
        const char *member;
        const char *signature; /* s, u, b, t, as */
        void *unused;
        size_t offset;
};
int bus_map_all_properties(sd_bus *bus, const char *path, const char *iface,
                           const struct bus_properties_map *map, void *userdata);

/* Runtime verbs (start, stop, ...) live in verbs-runtime.c. */
extern const Verb verbs_runtime[];
const char *verbs_runtime_help(void);
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
