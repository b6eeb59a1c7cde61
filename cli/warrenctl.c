/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* warrenctl: the command line of warren, a thin client of org.warren1. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "table.h"
#include "verbs-data.h"
#include "verbs-image.h"
#include "verbs-network.h"
#include "verbs-shell.h"
#include "warrenctl.h"

bool arg_ask_password = true;
int arg_exit_status = -1;
bool arg_fancy = false;
bool arg_json = false;
const char *arg_template = NULL;
char **arg_config = NULL; /* key, value pairs from --config */
static bool arg_unprivileged = false;

int bus_connect(sd_bus **ret) {
        sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "warrenctl: Failed to connect to the system bus: %s\n", strerror(-r));
                return r;
        }
        (void) sd_bus_set_allow_interactive_authorization(bus, arg_ask_password);
        *ret = bus;
        return 0;
}

int log_bus_error(const char *what, const sd_bus_error *error, int r) {
        if (error && sd_bus_error_is_set(error))
                fprintf(stderr, "warrenctl: %s: %s\n", what, error->message ? error->message : error->name);
        else
                fprintf(stderr, "warrenctl: %s: %s\n", what, strerror(r < 0 ? -r : r));
        return r < 0 ? r : -EIO;
}

/* One method call, its error printed with the member's name. On a
 * container's object (container_name set) an UnknownObject error means the
 * container is not there: the service says why with GetContainer. */
static int call_methodv(sd_bus *bus, const char *path, const char *iface, const char *member,
                        const char *container_name, sd_bus_message **ret_reply, const char *types,
                        va_list ap) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_message_new_method_call(bus, &m, WARREN_BUS, path, iface, member);
        if (r < 0)
                return r;
        if (types && (r = sd_bus_message_appendv(m, types, ap)) < 0)
                return r;
        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, ret_reply);
        if (r < 0) {
                r = container_call_failed(bus, container_name, member, &error, r);
                sd_bus_error_free(&error);
        }
        return r;
}

int call_manager(sd_bus *bus, const char *member, sd_bus_message **ret_reply, const char *types, ...) {
        va_list ap;
        va_start(ap, types);
        int r = call_methodv(bus, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE, member, NULL, ret_reply, types,
                             ap);
        va_end(ap);
        return r;
}

int container_path(sd_bus *bus, const char *name, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r = call_manager(bus, "GetContainer", &reply, "s", name);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        *ret = strdup(path);
        return *ret ? 0 : -ENOMEM;
}

/* The object path the service gives a container (sd_bus_path_encode of the
 * name under the container prefix), without asking it: one round trip
 * less on every verb that acts on a container. */
int container_path_local(const char *name, char **ret) {
        return sd_bus_path_encode(WARREN_CONTAINER_PREFIX, name, ret);
}

int container_call_failed(sd_bus *bus, const char *name, const char *what, const sd_bus_error *error,
                          int r) {
        if (name && sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_OBJECT)) {
                /* Prints NoSuchContainer or InvalidName naming the value. */
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                int k = call_manager(bus, "GetContainer", &reply, "s", name);
                if (k < 0)
                        return k;
        }
        return log_bus_error(what, error, r);
}

int call_container(sd_bus *bus, const char *name, const char *member, sd_bus_message **ret_reply,
                   const char *types, ...) {
        _cleanup_free_ char *path = NULL;
        int r = container_path_local(name, &path);
        if (r < 0)
                return log_bus_error(member, NULL, r);
        va_list ap;
        va_start(ap, types);
        r = call_methodv(bus, path, WARREN_CONTAINER_IFACE, member, name, ret_reply, types, ap);
        va_end(ap);
        return r;
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
        r = sd_bus_message_new_method_call(bus, &m, WARREN_BUS, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE,
                                           "CreateContainer");
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
        char *name, *state, *cgroup, *config_path, *rootfs_path;
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
        strv_free(p->ipv4);
        strv_free(p->ipv6);
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
                {},
        };
        return bus_map_all_properties(bus, path, WARREN_CONTAINER_IFACE, map, p);
}

/* lxc.group of a container, if the caller may read its config. */
static char *container_groups(sd_bus *bus, const char *path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **groups = NULL;
        const char *k, *v;
        if (sd_bus_call_method(bus, WARREN_BUS, path, WARREN_CONTAINER_IFACE, "GetConfig", NULL, &reply,
                               NULL) < 0)
                return NULL;
        if (sd_bus_message_enter_container(reply, 'a', "(ss)") < 0)
                return NULL;
        while (sd_bus_message_read(reply, "(ss)", &k, &v) > 0)
                if (streq(k, "lxc.group") && strv_extend(&groups, v) < 0)
                        return NULL;
        return groups ? strv_join(groups, ",") : NULL;
}

static int verb_list(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *state, *path;
        uint32_t owner;
        Table *t;
        int r = call_manager(bus, "ListContainers", &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ssuo)");
        if (r < 0)
                return r;
        if (arg_fancy)
                t = table_new(7, "NAME", "STATE", "AUTOSTART", "GROUPS", "IPV4", "IPV6", "UNPRIVILEGED");
        else
                t = table_new(3, "NAME", "STATE", "OWNER");
        if (!t)
                return -ENOMEM;
        if (arg_json)
                printf("[");
        bool first = true;
        while ((r = sd_bus_message_read(reply, "(ssuo)", &name, &state, &owner, &path)) > 0) {
                char buf[32];
                ContainerProps p = {};
                _cleanup_free_ char *groups = NULL, *v4 = NULL, *v6 = NULL;
                if (arg_fancy || arg_json) {
                        (void) get_props(bus, path, &p);
                        groups = container_groups(bus, path);
                        v4 = strv_join(p.ipv4, ",");
                        v6 = strv_join(p.ipv6, ",");
                }
                if (arg_json) {
                        printf("%s\n  {\"name\": ", first ? "" : ",");
                        json_print_string(name);
                        printf(", \"state\": ");
                        json_print_string(state);
                        printf(", \"owner\": %u, \"autostart\": %s, \"groups\": ", owner,
                               p.autostart ? "true" : "false");
                        json_print_string(strempty(groups));
                        printf(", \"ipv4\": ");
                        json_print_string(strempty(v4));
                        printf(", \"ipv6\": ");
                        json_print_string(strempty(v6));
                        printf(", \"unprivileged\": %s, \"pid\": %u, \"path\": ",
                               p.unprivileged ? "true" : "false", p.init_pid);
                        json_print_string(path);
                        printf("}");
                } else if (arg_fancy) {
                        table_add(t, name);
                        table_add(t, state);
                        table_add(t, p.autostart ? "YES" : "NO");
                        table_add(t, groups);
                        table_add(t, v4);
                        table_add(t, v6);
                        table_add(t, p.unprivileged ? "true" : "false");
                } else {
                        snprintf(buf, sizeof buf, "%u", owner);
                        table_add(t, name);
                        table_add(t, state);
                        table_add(t, buf);
                }
                container_props_done(&p);
                first = false;
        }
        if (arg_json)
                printf("%s]\n", first ? "" : "\n");
        else
                table_print(t, true);
        table_free(t);
        return r;
}

/* lxc.idmap lines, if the caller may read the config. */
static void print_idmap(sd_bus *bus, const char *path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *k, *v;
        if (sd_bus_call_method(bus, WARREN_BUS, path, WARREN_CONTAINER_IFACE, "GetConfig", NULL, &reply,
                               NULL) < 0 ||
            sd_bus_message_enter_container(reply, 'a', "(ss)") < 0)
                return;
        while (sd_bus_message_read(reply, "(ss)", &k, &v) > 0)
                if (streq(k, "lxc.idmap"))
                        printf("ID map:         %s\n", v);
}

static int verb_info(sd_bus *bus, char **args) {
        _cleanup_free_ char *path = NULL, *v4 = NULL, *v6 = NULL;
        ContainerProps p = {};
        int r = container_path(bus, args[0], &path);
        if (r < 0)
                return r;
        r = get_props(bus, path, &p);
        if (r < 0) {
                container_props_done(&p);
                return log_bus_error("Failed to read properties", NULL, r);
        }
        v4 = strv_join(p.ipv4, " ");
        v6 = strv_join(p.ipv6, " ");
        printf("Name:           %s\n", p.name);
        printf("State:          %s\n", p.state);
        if (p.init_pid > 0)
                printf("PID:            %u\n", p.init_pid);
        printf("Owner UID:      %u\n", p.owner);
        printf("Unprivileged:   %s\n", p.unprivileged ? "yes" : "no");
        print_idmap(bus, path);
        printf("Autostart:      %s\n", p.autostart ? "yes" : "no");
        if (v4 && *v4)
                printf("IP:             %s\n", v4);
        if (v6 && *v6)
                printf("IPv6:           %s\n", v6);
        if (p.cgroup && *p.cgroup)
                printf("CGroup:         %s\n", p.cgroup);
        if (p.memory > 0)
                printf("Memory use:     %.2f MiB\n", (double) p.memory / (1024.0 * 1024.0));
        printf("TTYs:           %u\n", p.ttys);
        printf("Config:         %s\n", p.config_path);
        printf("Rootfs:         %s\n", p.rootfs_path);
        container_props_done(&p);
        return 0;
}

/* --- config ------------------------------------------------------------- */

static int print_items(sd_bus_message *reply, const char *only_key) {
        const char *k, *v;
        int r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(ss)", &k, &v)) > 0) {
                if (!only_key)
                        printf("%s = %s\n", k, v);
                else if (streq(k, only_key))
                        printf("%s\n", v);
        }
        return r;
}

int parse_key_value(const char *arg, char ***kv) {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg) {
                fprintf(stderr, "warrenctl: Invalid item '%s': expected KEY=VALUE\n", arg);
                return -EINVAL;
        }
        _cleanup_free_ char *k = strndup(arg, (size_t) (eq - arg));
        if (!k)
                return -ENOMEM;
        /* Tolerate "key = value" spacing as in config files. */
        size_t kl = strlen(k);
        while (kl > 0 && (k[kl - 1] == ' ' || k[kl - 1] == '\t'))
                k[--kl] = 0;
        const char *v = eq + 1;
        v += strspn(v, " \t");
        if (strv_extend(kv, k) < 0 || strv_extend(kv, v) < 0)
                return -ENOMEM;
        return 0;
}

static int verb_config(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *m = NULL;
        const char *sub = args[0];
        int r;

        if (streq(sub, "validate")) {
                int ret = 0;
                if (!args[1]) {
                        fprintf(stderr, "warrenctl: config validate needs FILE...\n");
                        return -EINVAL;
                }
                for (char **f = args + 1; *f; f++) {
                        _cleanup_free_ char *text = NULL;
                        _cleanup_(sd_bus_message_unrefp) sd_bus_message *rep = NULL;
                        size_t size;
                        r = read_full_file(*f, 4 * 1024 * 1024, &text, &size);
                        if (r < 0) {
                                fprintf(stderr, "warrenctl: %s: %s\n", *f, strerror(-r));
                                ret = r;
                                continue;
                        }
                        if (strlen(text) != size) {
                                fprintf(stderr, "warrenctl: %s: contains NUL bytes, not a config file\n",
                                        *f);
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
        if (!args[1]) {
                fprintf(stderr, "warrenctl: config %s needs a container name\n", sub);
                return -EINVAL;
        }
        if (streq(sub, "show") || streq(sub, "get")) {
                if (streq(sub, "get") && !args[2]) {
                        fprintf(stderr, "warrenctl: config get NAME KEY\n");
                        return -EINVAL;
                }
                r = call_container(bus, args[1], "GetConfig", &reply, NULL);
                if (r < 0)
                        return r;
                return print_items(reply, streq(sub, "get") ? args[2] : NULL);
        }
        if (streq(sub, "set")) {
                _cleanup_strv_free_ char **kv = NULL;
                if (!args[2]) {
                        fprintf(stderr, "warrenctl: config set NAME KEY=VALUE...\n");
                        return -EINVAL;
                }
                for (char **a = args + 2; *a; a++)
                        if ((r = parse_key_value(*a, &kv)) < 0)
                                return r;
                _cleanup_free_ char *path = NULL;
                sd_bus_error error = SD_BUS_ERROR_NULL;
                r = container_path(bus, args[1], &path);
                if (r < 0)
                        return r;
                r = sd_bus_message_new_method_call(bus, &m, WARREN_BUS, path, WARREN_CONTAINER_IFACE,
                                                   "SetConfig");
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
        fprintf(stderr, "warrenctl: Unknown config command '%s' (get, set, show, validate)\n", sub);
        return -EINVAL;
}

/* --- main ------------------------------------------------------------------ */

static void help(void) {
        printf("warrenctl [OPTIONS...] COMMAND ...\n\n"
               "Manage warren system containers.\n\n"
               "Commands:\n"
               "  create NAME -t TEMPLATE [-- ARGS...]  Create a container; download's ARGS:\n"
               "                                        -d DIST -r RELEASE [-a ARCH] [--variant V]\n"
               "                                        [--server URL]; local's: PATH (root only).\n"
               "                                        Ctrl-C cancels.\n"
               "  destroy NAME...                       Destroy containers\n"
               "  list, ls [--fancy|--json]             List containers\n"
               "  info NAME                             Show a container's details\n"
               "  config show NAME                      Print a container's config\n"
               "  config get NAME KEY                   Print the values of one key\n"
               "  config set NAME KEY=VALUE...          Change a container's config\n"
               "  config validate FILE...               Check LXC config files\n"
               "%s%s%s%s%s"
               "\nOptions:\n"
               "  -h --help             Show this help\n"
               "     --version          Show the version\n"
               "  -t --template=NAME    Template for create (busybox, download, local)\n"
               "     --config=KEY=VALUE Extra config item for create (repeatable)\n"
               "     --unprivileged     create: a user-namespaced container even as root\n"
               "  -f --fancy            More columns in list\n"
               "     --json             JSON output for list\n"
               "     --no-ask-password  Do not ask for a password (no interactive polkit)\n"
               "     --remote           images: what an image server offers\n"
               "     --server=URL       images --remote: the image server\n",
               verbs_runtime_help(), verbs_shell_help(), verbs_network_help(), verbs_image_help(),
               verbs_data_help());
}

static const Verb verbs[] = {
        { "create", 1, 1, verb_create, true },
        { "destroy", 1, -1, verb_destroy, false },
        { "list", 0, 0, verb_list, false },
        { "ls", 0, 0, verb_list, false },
        { "info", 1, 1, verb_info, false },
        { "config", 1, -1, verb_config, false },
        {},
};

static const Verb *find_verb(const char *name) {
        for (const Verb *v = verbs; v->name; v++)
                if (streq(v->name, name))
                        return v;
        for (const Verb *v = verbs_runtime; v->name; v++)
                if (streq(v->name, name))
                        return v;
        for (const Verb *v = verbs_shell; v->name; v++)
                if (streq(v->name, name))
                        return v;
        for (const Verb *v = verbs_network; v->name; v++)
                if (streq(v->name, name))
                        return v;
        for (const Verb *v = verbs_image; v->name; v++)
                if (streq(v->name, name))
                        return v;
        for (const Verb *v = verbs_data; v->name; v++)
                if (streq(v->name, name))
                        return v;
        return NULL;
}

enum {
        ARG_VERSION = 0x100,
        ARG_NO_ASK_PASSWORD,
        ARG_JSON,
        ARG_CONFIG,
        ARG_UNPRIVILEGED,
};

#define SHORT_OPTIONS "+ht:f" RUNTIME_SHORT_OPTIONS SHELL_SHORT_OPTIONS DATA_SHORT_OPTIONS

static const struct option options[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, ARG_VERSION },
        { "template", required_argument, NULL, 't' },
        { "config", required_argument, NULL, ARG_CONFIG },
        { "unprivileged", no_argument, NULL, ARG_UNPRIVILEGED },
        { "fancy", no_argument, NULL, 'f' },
        { "json", no_argument, NULL, ARG_JSON },
        { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
        RUNTIME_OPTIONS,
        SHELL_OPTIONS,
        NETWORK_OPTIONS,
        IMAGE_OPTIONS,
        DATA_OPTIONS,
        {},
};

/* One option; 1 means "done, exit successfully" (--help), <0 failure. */
static int handle_option(int c, const char *arg) {
        switch (c) {
        case 'h':
                help();
                return 1;
        case ARG_VERSION:
                printf("warrenctl %s\n", WARRENCTL_VERSION);
                return 1;
        case 't':
                arg_template = arg;
                return 0;
        case ARG_CONFIG:
                return parse_key_value(arg, &arg_config);
        case ARG_UNPRIVILEGED:
                arg_unprivileged = true;
                return 0;
        case 'f':
                arg_fancy = true;
                return 0;
        case ARG_JSON:
                arg_json = true;
                return 0;
        case ARG_NO_ASK_PASSWORD:
                arg_ask_password = false;
                return 0;
        case '?':
                return -EINVAL;
        case 'e':
                return parse_shell_option(c, arg);
        case 'o':
        case 'r':
                return parse_data_option(c, arg);
        default:
                if (c >= DATA_ARG_SNAPSHOT)
                        return parse_data_option(c, arg);
                if (c >= IMAGE_ARG_REMOTE)
                        return parse_image_option(c, arg);
                if (c >= NETWORK_ARG_IPV4)
                        return parse_network_option(c, arg);
                return c >= SHELL_ARG_PTY ? parse_shell_option(c, arg) : parse_runtime_option(c, arg);
        }
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_strv_free_ char **args = NULL;
        int c, r;

        arg_ask_password = isatty(STDIN_FILENO);
        /* "+" stops at the first non-option so that the verb, its arguments
         * and everything after "--" keep their order. */
        while ((c = getopt_long(argc, argv, SHORT_OPTIONS, options, NULL)) >= 0)
                if ((r = handle_option(c, optarg)) != 0)
                        return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
        if (optind >= argc) {
                help();
                return EXIT_FAILURE;
        }
        const Verb *v = find_verb(argv[optind]);
        if (!v) {
                fprintf(stderr, "warrenctl: Unknown command '%s'. See warrenctl --help.\n", argv[optind]);
                return EXIT_FAILURE;
        }
        /* Options may also follow the verb. */
        optind++;
        while (optind < argc) {
                if (streq(argv[optind], "--")) {
                        for (int i = optind + 1; i < argc; i++)
                                if (strv_extend(&args, argv[i]) < 0)
                                        return EXIT_FAILURE;
                        break;
                }
                c = getopt_long(argc, argv, SHORT_OPTIONS, options, NULL);
                if (c < 0) {
                        if (strv_extend(&args, argv[optind]) < 0)
                                return EXIT_FAILURE;
                        optind++;
                        continue;
                }
                if ((r = handle_option(c, optarg)) != 0)
                        return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
        }
        /* -t is the template for create, the timeout for stop (as lxc-stop
         * -t), the tty for console (as lxc-console -t). */
        if (arg_template && !streq(v->name, "create")) {
                if (streq(v->name, "stop") || streq(v->name, "autostart"))
                        r = parse_runtime_option(ARG_TIMEOUT, arg_template);
                else if (streq(v->name, "console"))
                        r = parse_shell_option(SHELL_ARG_TTY, arg_template);
                else {
                        fprintf(stderr, "warrenctl: -t means nothing for '%s'\n", v->name);
                        r = -EINVAL;
                }
                if (r < 0)
                        return EXIT_FAILURE;
                arg_template = NULL;
        }
        if (network_options_check(v->name) < 0 || image_options_check(v->name) < 0)
                return EXIT_FAILURE;
        size_t n = strv_length(args);
        if (n < (size_t) v->min_args ||
            (v->max_args >= 0 && !v->rest_after_first && n > (size_t) v->max_args)) {
                fprintf(stderr, "warrenctl: Wrong number of arguments for '%s'. See warrenctl --help.\n",
                        v->name);
                return EXIT_FAILURE;
        }
        if (!args && !(args = calloc(1, sizeof(char *))))
                return EXIT_FAILURE;
        r = bus_connect(&bus);
        if (r < 0)
                return EXIT_FAILURE;
        r = v->run(bus, args);
        strv_free(arg_config);
        if (r >= 0 && arg_exit_status >= 0)
                return arg_exit_status; /* a command's own exit status (attach) */
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
