/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* warrenctl create, destroy, list, info, config. */
#include <errno.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "verbs-image.h"
#include "verbs-observe.h"
#include "warrenctl.h"

#define WARREN_ERROR_UNRESPONSIVE_NAME "org.warren1.Error.Unresponsive"

const char *arg_template = NULL;
static char **arg_config = NULL; /* key, value pairs from --config */
static bool arg_unprivileged = false;
static bool arg_running = false, arg_stopped = false, arg_frozen = false;
static int64_t arg_owner = -1;
static const char *arg_first_list_option = NULL, *arg_first_create_option = NULL;

int parse_container_option(int c, const char *arg) {
        switch (c) {
        case CONTAINER_ARG_CONFIG:
                arg_first_create_option = arg_first_create_option ?: "--config";
                return parse_key_value(arg, &arg_config);
        case CONTAINER_ARG_UNPRIVILEGED:
                arg_first_create_option = arg_first_create_option ?: "--unprivileged";
                arg_unprivileged = true;
                return 0;
        case CONTAINER_ARG_RUNNING:
                arg_first_list_option = arg_first_list_option ?: "--running";
                arg_running = true;
                return 0;
        case CONTAINER_ARG_STOPPED:
                arg_first_list_option = arg_first_list_option ?: "--stopped";
                arg_stopped = true;
                return 0;
        case CONTAINER_ARG_FROZEN:
                arg_first_list_option = arg_first_list_option ?: "--frozen";
                arg_frozen = true;
                return 0;
        case CONTAINER_ARG_OWNER: {
                struct passwd *pw = getpwnam(arg);
                char *end;
                arg_first_list_option = arg_first_list_option ?: "--owner";
                if (pw) {
                        arg_owner = pw->pw_uid;
                        return 0;
                }
                errno = 0;
                unsigned long v = strtoul(arg, &end, 10);
                if (errno || end == arg || *end || arg[0] == '-' || v >= UINT32_MAX) {
                        fprintf(stderr, "warrenctl: Invalid --owner '%s': no such user\n", arg);
                        return -EINVAL;
                }
                arg_owner = (int64_t) v;
                return 0;
        }
        }
        return -EINVAL;
}

int container_options_check(const Verb *v) {
        const char *bad = arg_first_list_option && !(v->flags & VERB_LIST)       ? arg_first_list_option
                          : arg_first_create_option && !streq(v->name, "create") ? arg_first_create_option
                                                                                 : NULL;
        if (!bad)
                return 0;
        fprintf(stderr, "warrenctl: %s means nothing for '%s'. See warrenctl %s --help.\n", bad, v->name,
                v->name);
        return -EINVAL;
}

/* --- create / destroy --------------------------------------------------- */

static int append_config_items(sd_bus_message *m, char **kv) {
        int r = sd_bus_message_open_container(m, 'a', "(ss)");
        if (r < 0)
                return r;
        for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
                if ((r = sd_bus_message_append(m, "(ss)", kv[i], kv[i + 1])) < 0)
                        return r;
        return sd_bus_message_close_container(m);
}

static int build_create(sd_bus *bus, char **args, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(bus, &m, WARREN_BUS, WARREN_MANAGER_PATH,
                                               WARREN_MANAGER_IFACE, "CreateContainer");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", args[0], arg_template);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, args + 1);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && arg_config) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "config");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "a(ss)");
                if (r >= 0)
                        r = append_config_items(m, arg_config);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0 && arg_unprivileged)
                r = sd_bus_message_append(m, "{sv}", "unprivileged", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

static int verb_create(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_free_ char *what = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        JobWatch *w = NULL;
        const char *cpath, *jpath;
        int r;

        if (!arg_template) {
                fprintf(stderr, "warrenctl: create needs a template: -t busybox|download|local\n");
                return -EINVAL;
        }
        if (asprintf(&what, "create container '%s'", args[0]) < 0)
                return -ENOMEM;
        r = build_create(bus, args, &m);
        if (r < 0)
                return log_bus_error("Failed to build request", NULL, r);
        /* Subscribe before calling so no signal of the job slips past. */
        r = job_watch_new(bus, &w);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, &reply);
        if (r < 0) {
                r = log_bus_error("Failed to create container", &error, r);
                sd_bus_error_free(&error);
        } else if ((r = sd_bus_message_read(reply, "oo", &cpath, &jpath)) < 0)
                r = log_bus_error("Bad reply", NULL, r);
        else
                r = job_watch_wait(w, jpath, what);
        job_watch_free(w);
        return r;
}

static int verb_destroy(sd_bus *bus, char **args) {
        int r = 0;
        STRV_FOREACH(n, args) {
                int k = call_manager(bus, "DestroyContainer", NULL, "s", *n);
                if (k < 0 && r == 0)
                        r = k;
        }
        return r;
}

/* --- list / info -------------------------------------------------------- */

typedef struct ContainerProps {
        char *name, *state, *cgroup, *config_path, *rootfs_path, *problem;
        uint32_t init_pid, owner, ttys;
        int unprivileged, autostart;
        uint64_t memory;
        char **ipv4, **ipv6;
} ContainerProps;

static void container_props_done(ContainerProps *p) {
        free(p->name);
        free(p->state);
        free(p->cgroup);
        free(p->config_path);
        free(p->rootfs_path);
        free(p->problem);
        strv_free(p->ipv4);
        strv_free(p->ipv6);
        *p = (ContainerProps){};
}

static int get_props(sd_bus *bus, const char *path, ContainerProps *p) {
        static const struct bus_properties_map map[] = {
                { "Name", "s", NULL, offsetof(ContainerProps, name) },
                { "State", "s", NULL, offsetof(ContainerProps, state) },
                { "CGroup", "s", NULL, offsetof(ContainerProps, cgroup) },
                { "ConfigPath", "s", NULL, offsetof(ContainerProps, config_path) },
                { "RootfsPath", "s", NULL, offsetof(ContainerProps, rootfs_path) },
                { "InitPID", "u", NULL, offsetof(ContainerProps, init_pid) },
                { "OwnerUID", "u", NULL, offsetof(ContainerProps, owner) },
                { "TTYs", "u", NULL, offsetof(ContainerProps, ttys) },
                { "Unprivileged", "b", NULL, offsetof(ContainerProps, unprivileged) },
                { "Autostart", "b", NULL, offsetof(ContainerProps, autostart) },
                { "MemoryCurrent", "t", NULL, offsetof(ContainerProps, memory) },
                { "IPv4Addresses", "as", NULL, offsetof(ContainerProps, ipv4) },
                { "IPv6Addresses", "as", NULL, offsetof(ContainerProps, ipv6) },
                { "Problem", "s", NULL, offsetof(ContainerProps, problem) },
                {},
        };
        return bus_map_all_properties(bus, path, WARREN_CONTAINER_IFACE, map, p);
}

/* The service shows someone else's container's details only to those who
 * may manage it: to others its config path reads empty. */
static bool props_readable(const ContainerProps *p) {
        return !isempty(p->config_path);
}

/* The values of key in a container's config, if the caller may read it
 * (never asking for a password: this is a read on the side). */
static char **config_values(sd_bus *bus, const char *path, const char *key) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **values = NULL;
        const char *k, *v;
        if (call_quiet(bus, path, WARREN_CONTAINER_IFACE, "GetConfig", &reply) < 0)
                return NULL;
        if (sd_bus_message_enter_container(reply, 'a', "(ss)") < 0)
                return NULL;
        while (sd_bus_message_read(reply, "(ss)", &k, &v) > 0)
                if (streq(k, key) && strv_extend(&values, v) < 0)
                        return NULL;
        /* Readable but none: an empty list, not "unknown". */
        return values ? TAKE_PTR(values) : calloc(1, sizeof(char *));
}

static const OutputColumn list_columns[] = {
        { "name", "NAME", OUTPUT_STRING, OUTPUT_DEFAULT | OUTPUT_FANCY, "the container's name" },
        { "state", "STATE", OUTPUT_STRING, OUTPUT_DEFAULT | OUTPUT_FANCY, "STOPPED, RUNNING, FROZEN, ..." },
        { "owner", "OWNER", OUTPUT_STRING, OUTPUT_DEFAULT, "the owner's user name" },
        { "uid", "UID", OUTPUT_NUMBER, OUTPUT_RIGHT, "the owner's uid" },
        { "autostart", "AUTOSTART", OUTPUT_BOOLEAN, OUTPUT_FANCY, "lxc.start.auto (YES or NO)" },
        { "groups", "GROUPS", OUTPUT_STRV, OUTPUT_FANCY, "lxc.group values" },
        { "ipv4", "IPV4", OUTPUT_STRV, OUTPUT_FANCY, "IPv4 addresses inside" },
        { "ipv6", "IPV6", OUTPUT_STRV, OUTPUT_FANCY, "IPv6 addresses inside" },
        { "unprivileged", "UNPRIVILEGED", OUTPUT_BOOLEAN, OUTPUT_FANCY,
          "in a user namespace (true or false)" },
        { "pid", "PID", OUTPUT_NUMBER, OUTPUT_RIGHT, "init's pid on the host" },
        { "memory", "MEMORY", OUTPUT_SIZE, OUTPUT_RIGHT, "memory in use" },
        { "path", "PATH", OUTPUT_STRING, 0, "the D-Bus object path" },
        {},
};

static bool list_selected(const char *name, const char *state, uint32_t owner, char **globs) {
        if ((arg_running || arg_stopped || arg_frozen) && !(arg_running && streq(state, "RUNNING")) &&
            !(arg_stopped && streq(state, "STOPPED")) && !(arg_frozen && streq(state, "FROZEN")))
                return false;
        if (arg_owner >= 0 && owner != (uint32_t) arg_owner)
                return false;
        if (strv_length(globs) == 0)
                return true;
        STRV_FOREACH(g, globs)
                if (fnmatch(*g, name, 0) == 0)
                        return true;
        return false;
}

static int list_row(sd_bus *bus, OutputTable *t, const char *name, const char *state, uint32_t owner,
                    const char *path) {
        ContainerProps p = {};
        char user[FORMAT_USER_MAX];
        bool props = output_table_wants(t, "autostart") || output_table_wants(t, "ipv4") ||
                     output_table_wants(t, "ipv6") || output_table_wants(t, "unprivileged") ||
                     output_table_wants(t, "pid") || output_table_wants(t, "memory");
        int r = output_table_add_row(t);
        if (r >= 0)
                r = output_cell_string(t, "name", name);
        if (r >= 0)
                r = output_cell_string(t, "state", state);
        if (r >= 0)
                r = output_cell_string(t, "owner", format_user(owner, user));
        if (r >= 0)
                r = output_cell_number(t, "uid", owner);
        if (r >= 0)
                r = output_cell_string(t, "path", path);
        /* A container that went away meanwhile keeps its row from the list. */
        if (r >= 0 && props && get_props(bus, path, &p) >= 0) {
                bool readable = props_readable(&p);
                r = output_cell_bool(t, "autostart", p.autostart, p.autostart ? "YES" : "NO");
                if (r >= 0)
                        r = output_cell_bool(t, "unprivileged", p.unprivileged,
                                             p.unprivileged ? "true" : "false");
                if (r >= 0 && readable)
                        r = output_cell_strv(t, "ipv4", p.ipv4);
                if (r >= 0 && readable)
                        r = output_cell_strv(t, "ipv6", p.ipv6);
                if (r >= 0 && readable && p.init_pid > 0)
                        r = output_cell_number(t, "pid", p.init_pid);
                if (r >= 0 && readable && p.init_pid > 0)
                        r = output_cell_size(t, "memory", p.memory);
        }
        container_props_done(&p);
        if (r >= 0 && output_table_wants(t, "groups")) {
                _cleanup_strv_free_ char **groups = config_values(bus, path, "lxc.group");
                if (groups)
                        r = output_cell_strv(t, "groups", groups);
        }
        return r;
}

static int verb_list(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *state, *path;
        uint32_t owner;
        OutputTable *t = NULL;
        int r = output_table_new(list_columns, "list", &t);
        if (r < 0)
                return r;
        r = call_manager(bus, "ListContainers", &reply, NULL);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(ssuo)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssuo)", &name, &state, &owner, &path)) > 0)
                if (list_selected(name, state, owner, args))
                        r = list_row(bus, t, name, state, owner, path);
        if (r >= 0)
                r = output_table_print(t);
        output_table_free(t);
        return r;
}

/* Whether a container's monitor answers, asked with a read that goes to
 * it (its console log: the owner reads it, others need manage; never a
 * prompt). 1 and the service's message if it is Unresponsive (the first
 * such call waits out the service's deadline, 2 s), 0 if it answered or
 * could not be asked. */
static int monitor_unresponsive(sd_bus *bus, const char *path, char **ret_message) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        *ret_message = NULL;
        int r = sd_bus_message_new_method_call(bus, &m, WARREN_BUS, path, WARREN_CONTAINER_IFACE,
                                               "GetConsoleLog");
        if (r >= 0)
                r = sd_bus_message_set_allow_interactive_authorization(m, false);
        if (r < 0)
                return 0;
        if (sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, &reply) >= 0 ||
            !sd_bus_error_has_name(&error, WARREN_ERROR_UNRESPONSIVE_NAME))
                return 0;
        *ret_message = strdup(strempty(error.message));
        return 1;
}

/* lxc.idmap lines, if the caller may read the config. */
static char **container_idmap(sd_bus *bus, const char *path) {
        return config_values(bus, path, "lxc.idmap");
}

static int info_json(sd_bus *bus, const ContainerProps *p, const char *path, char **idmap,
                     int unresponsive) {
        OutputObject *o = output_object_new();
        char user[FORMAT_USER_MAX];
        if (!o)
                return -ENOMEM;
        bool readable = props_readable(p);
        output_object_string(o, "name", p->name);
        output_object_string(o, "state", p->state);
        output_object_string(o, "owner", format_user(p->owner, user));
        output_object_number(o, "uid", p->owner);
        output_object_bool(o, "unprivileged", p->unprivileged);
        output_object_bool(o, "autostart", p->autostart);
        output_object_number(o, "ttys", p->ttys);
        output_object_string(o, "path", path);
        if (!isempty(p->problem))
                output_object_string(o, "problem", p->problem);
        if (unresponsive >= 0)
                output_object_bool(o, "unresponsive", unresponsive > 0);
        if (readable) {
                if (p->init_pid > 0) {
                        output_object_number(o, "pid", p->init_pid);
                        output_object_number(o, "memory", p->memory);
                        output_object_string(o, "cgroup", p->cgroup);
                }
                output_object_strv(o, "ipv4", p->ipv4);
                output_object_strv(o, "ipv6", p->ipv6);
                if (idmap)
                        output_object_strv(o, "idmap", idmap);
                output_object_string(o, "config", p->config_path);
                output_object_string(o, "rootfs", p->rootfs_path);
        }
        if (!streq_ptr(p->state, "STOPPED"))
                observe_info_json(bus, path, o);
        int r = output_object_print(o);
        output_object_free(o);
        return r;
}

static void info_text(const ContainerProps *p, char **idmap, const char *unresponsive) {
        _cleanup_free_ char *v4 = strv_join(p->ipv4, " "), *v6 = strv_join(p->ipv6, " ");
        char user[FORMAT_USER_MAX], size[FORMAT_SIZE_MAX];
        bool readable = props_readable(p);

        printf("Name:           %s\n", p->name);
        printf("State:          %s\n", p->state);
        if (!isempty(p->problem))
                printf("Problem:        %s\n", p->problem);
        if (unresponsive)
                printf("Monitor:        does not answer (org.warren1.Error.Unresponsive): %s\n",
                       unresponsive);
        if (readable && p->init_pid > 0)
                printf("PID:            %u\n", p->init_pid);
        printf("Owner:          %s (uid %u)\n", format_user(p->owner, user), p->owner);
        printf("Unprivileged:   %s\n", p->unprivileged ? "yes" : "no");
        STRV_FOREACH(m, idmap)
                printf("ID map:         %s\n", *m);
        printf("Autostart:      %s\n", p->autostart ? "yes" : "no");
        if (!isempty(v4))
                printf("IP:             %s\n", v4);
        if (!isempty(v6))
                printf("IPv6:           %s\n", v6);
        if (!isempty(p->cgroup))
                printf("CGroup:         %s\n", p->cgroup);
        if (readable && p->init_pid > 0)
                printf("Memory use:     %s\n", format_size(p->memory, size));
        printf("TTYs:           %u\n", p->ttys);
        if (readable) {
                printf("Config:         %s\n", p->config_path);
                printf("Rootfs:         %s\n", p->rootfs_path);
        } else
                printf("(Its addresses, paths and process details are shown to those who may manage it.)\n");
}

static int verb_info(sd_bus *bus, char **args) {
        _cleanup_free_ char *path = NULL, *why = NULL;
        _cleanup_strv_free_ char **idmap = NULL;
        ContainerProps p = {};
        int r = container_path(bus, args[0], &path);
        if (r < 0)
                return r;
        r = get_props(bus, path, &p);
        if (r < 0) {
                container_props_done(&p);
                return log_bus_error("Failed to read properties", NULL, r);
        }
        /* Whether its monitor answers: -1 not asked (stopped, or not the
         * caller's to manage). */
        int unresponsive = -1;
        if (props_readable(&p)) {
                idmap = container_idmap(bus, path);
                if (!streq_ptr(p.state, "STOPPED"))
                        unresponsive = monitor_unresponsive(bus, path, &why);
        }
        if (arg_json != JSON_OFF)
                r = info_json(bus, &p, path, idmap, unresponsive);
        else {
                info_text(&p, idmap, unresponsive > 0 ? strempty(why) : NULL);
                if (!streq_ptr(p.state, "STOPPED"))
                        observe_info_text(bus, path);
        }
        container_props_done(&p);
        return r;
}

/* --- config ------------------------------------------------------------- */

static int print_items(sd_bus_message *reply, const char *only_key, char ***ret_values) {
        const char *k, *v;
        int r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(ss)", &k, &v)) > 0) {
                if (only_key && !streq(k, only_key))
                        continue;
                if (ret_values) {
                        if (strv_extend(ret_values, only_key ? v : k) < 0 ||
                            (!only_key && strv_extend(ret_values, v) < 0))
                                return -ENOMEM;
                } else if (only_key)
                        printf("%s\n", v);
                else
                        printf("%s = %s\n", k, v);
        }
        return r;
}

/* Whether the service knows key (it is just not set): it validates a
 * config with the key cleared. */
static int config_key_check(sd_bus *bus, const char *key) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *text = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        if (asprintf(&text, "%s =\n", key) < 0)
                return -ENOMEM;
        int r = sd_bus_call_method(bus, WARREN_BUS, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE,
                                   "ValidateConfig", &error, &reply, "s", text);
        if (r < 0 && error.message && strstr(error.message, "unknown key")) {
                fprintf(stderr, "warrenctl: Unknown config key '%s'\n", key);
                r = -ENOKEY;
        } else if (r < 0 && error.message && strstr(error.message, "NIC index")) {
                /* "<input>:1: NIC index 99 in key ... is out of range" */
                fprintf(stderr, "warrenctl: Invalid config key '%s': %s\n", key,
                        strstr(error.message, "NIC index"));
                r = -ENOKEY;
        } else
                r = 0; /* known; any other complaint is about the empty value */
        sd_bus_error_free(&error);
        return r;
}

static int config_validate(sd_bus *bus, char **files) {
        int ret = 0;
        if (!files[0]) {
                fprintf(stderr, "warrenctl: config validate needs FILE...\n");
                return -EINVAL;
        }
        for (char **f = files; *f; f++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *rep = NULL;
                size_t size;
                int r = read_full_file(*f, 4 * 1024 * 1024, &text, &size);
                if (r < 0) {
                        fprintf(stderr, "warrenctl: %s: %s\n", *f, strerror(-r));
                        ret = r;
                        continue;
                }
                if (strlen(text) != size) {
                        fprintf(stderr, "warrenctl: %s: contains NUL bytes, not a config file\n", *f);
                        ret = -EBADMSG;
                        continue;
                }
                r = call_manager(bus, "ValidateConfig", &rep, "s", text);
                if (r < 0) {
                        fprintf(stderr, "warrenctl: %s: invalid\n", *f);
                        ret = r;
                } else
                        printf("%s: OK\n", *f);
        }
        return ret;
}

static int config_show(sd_bus *bus, const char *name, const char *key) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **values = calloc(1, sizeof(char *));
        if (!values)
                return -ENOMEM;
        int r = call_container(bus, name, "GetConfig", &reply, NULL);
        if (r < 0)
                return r;
        if (arg_json == JSON_OFF && !key)
                return print_items(reply, NULL, NULL);
        r = print_items(reply, key, &values);
        if (r < 0)
                return r;
        if (key && !values[0] && (r = config_key_check(bus, key)) < 0)
                return r;
        if (arg_json == JSON_OFF) {
                STRV_FOREACH(v, values)
                        printf("%s\n", *v);
                return 0;
        }
        if (key) /* config get: the values */
                return output_json_print(output_json_strv(values));
        /* config show: the items in order (a key may repeat) */
        return output_json_print(output_json_pairs(values));
}

static int config_set(sd_bus *bus, const char *name, char **items) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_strv_free_ char **kv = NULL;
        _cleanup_free_ char *path = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;
        if (!items[0]) {
                fprintf(stderr, "warrenctl: config set NAME KEY=VALUE...\n");
                return -EINVAL;
        }
        for (char **a = items; *a; a++)
                if ((r = parse_key_value(*a, &kv)) < 0)
                        return r;
        r = container_path(bus, name, &path);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, WARREN_BUS, path, WARREN_CONTAINER_IFACE, "SetConfig");
        if (r >= 0)
                r = append_config_items(m, kv);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, NULL);
        if (r < 0) {
                r = log_bus_error("SetConfig", &error, r);
                sd_bus_error_free(&error);
        }
        return r;
}

static int verb_config(sd_bus *bus, char **args) {
        const char *sub = args[0];
        bool show = streq(sub, "show"), get = streq(sub, "get");

        if (arg_json != JSON_OFF && !show && !get) {
                fprintf(stderr, "warrenctl: --json means nothing for 'config %s'\n", sub);
                return -EINVAL;
        }
        if (streq(sub, "validate"))
                return config_validate(bus, args + 1);
        if (!show && !get && !streq(sub, "set")) {
                fprintf(stderr, "warrenctl: Unknown config command '%s' (get, set, show, validate)\n", sub);
                return -EINVAL;
        }
        if (!args[1]) {
                fprintf(stderr, "warrenctl: config %s needs a container name\n", sub);
                return -EINVAL;
        }
        if (show) {
                if (args[2]) {
                        fprintf(stderr, "warrenctl: config show NAME takes no more arguments\n");
                        return -EINVAL;
                }
                return config_show(bus, args[1], NULL);
        }
        if (get) {
                if (!args[2] || args[3]) {
                        fprintf(stderr, "warrenctl: config get NAME KEY\n");
                        return -EINVAL;
                }
                return config_show(bus, args[1], args[2]);
        }
        return config_set(bus, args[1], args + 2);
}

const Verb verbs_container[] = {
        {
                .name = "create",
                .min_args = 1,
                .max_args = 1,
                .run = verb_create,
                .flags = VERB_REST,
                .usage = "NAME -t TEMPLATE [--config=KEY=VALUE...] [--unprivileged] [-- ARGS...]",
                .summary = "Create a container from a template",
                .description =
                        "Creates the container and follows the job's progress; Ctrl-C cancels it and\n"
                        "leaves nothing behind. Containers of users other than root are unprivileged.",
                .options = "-t --template=NAME\tbusybox (offline, from the host's busybox),\n"
                           "\tdownload (an LXC image server) or local (a rootfs tarball, root only)\n"
                           "--config=KEY=VALUE\tAn extra config item (repeatable)\n"
                           "--unprivileged\tUser-namespaced even when root creates it\n"
                           "-- ARGS...\tdownload: -d DIST -r RELEASE [-a ARCH] [--variant V]\n"
                           "\t[--server URL] [--no-verify]; local: PATH\n",
                .example = "warrenctl create web -t busybox\n"
                           "warrenctl create deb -t download -- -d debian -r bookworm -a amd64\n",
        },
        {
                .name = "destroy",
                .min_args = 1,
                .max_args = -1,
                .run = verb_destroy,
                .usage = "NAME...",
                .summary = "Destroy stopped containers",
                .description = "Removes their config and root file system (lxc.hook.destroy runs first).",
                .example = "warrenctl destroy web\n",
        },
        {
                .name = "list",
                .max_args = -1,
                .run = verb_list,
                .flags = VERB_JSON | VERB_TABLE | VERB_LIST | VERB_READ_ONLY,
                .usage = "[GLOB...] [--running] [--stopped] [--frozen] [--owner=USER] [-f] [-o COLUMNS]",
                .summary = "List containers",
                .description = "Lists every container (as lxc-ls), or those whose names match a GLOB and\n"
                               "the state filters (which add up). Reading needs no authorization; someone\n"
                               "else's container's addresses show only to those who may manage it.",
                .options = "--running\tOnly running containers\n"
                           "--stopped\tOnly stopped containers\n"
                           "--frozen\tOnly frozen containers\n"
                           "--owner=USER\tOnly USER's containers (a name or uid)\n"
                           "-f --fancy\tThe columns of lxc-ls --fancy\n",
                .example = "warrenctl list --running -o name,state,ipv4\n"
                           "warrenctl list 'web*' --json\n",
                .columns = list_columns,
        },
        { .name = "ls", .alias_of = "list" },
        {
                .name = "info",
                .min_args = 1,
                .max_args = 1,
                .run = verb_info,
                .flags = VERB_JSON | VERB_READ_ONLY,
                .usage = "NAME",
                .summary = "Show a container's details",
                .description = "As lxc-info, with a running container's resource use (CPU, memory,\n"
                               "block IO, processes, uptime, network bytes per NIC). For someone else's\n"
                               "container, its addresses, paths, processes and use are shown only to\n"
                               "those who may manage it; they are left out, not shown empty.",
                .example = "warrenctl info web\nwarrenctl info web --json\n",
        },
        {
                .name = "config",
                .min_args = 1,
                .max_args = -1,
                .run = verb_config,
                .flags = VERB_JSON,
                .usage = "show NAME\nget NAME KEY\nset NAME KEY=VALUE...\nvalidate FILE...",
                .summary = "Print, read, change or check LXC configs",
                .description = "show prints every item, get the values of one key (nothing if it is not\n"
                               "set; an unknown key is an error). set validates and writes atomically;\n"
                               "an empty value clears a list; on a running container cgroup keys apply at\n"
                               "once, with the config or not at all (see limit). validate checks config\n"
                               "files as the service would load them.",
                .example = "warrenctl config set web lxc.start.auto=1 lxc.group=onboot\n"
                           "warrenctl config get web lxc.net.0.link\n"
                           "warrenctl config validate ./config\n",
        },
        {},
};
