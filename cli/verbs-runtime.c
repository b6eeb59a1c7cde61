/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Verbs acting on running containers. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "warrenctl.h"

static uint32_t arg_timeout = 60; /* lxc-stop's default */
static bool arg_kill = false;
static int arg_signal = SIGKILL;
static char **arg_groups = NULL; /* autostart: NULL = containers without a group */
static bool arg_all = false;
static bool arg_stop = false;

static int parse_signal(const char *s, int *ret) {
        char *end;
        long n = strtol(s, &end, 10);
        if (*s && !*end) {
                if (n <= 0 || n >= _NSIG)
                        return -EINVAL;
                *ret = (int) n;
                return 0;
        }
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (int i = 1; i < _NSIG; i++) {
                const char *abbrev = sigabbrev_np(i);
                if (abbrev && strcasecmp(abbrev, s) == 0) {
                        *ret = i;
                        return 0;
                }
        }
        return -EINVAL;
}

int parse_runtime_option(int c, const char *arg) {
        switch (c) {
        case ARG_TIMEOUT: {
                char *end;
                errno = 0;
                unsigned long v = strtoul(arg, &end, 10);
                if (errno || *end || !*arg || v > UINT32_MAX - 1) {
                        fprintf(stderr, "warrenctl: Invalid timeout '%s': expected seconds\n", arg);
                        return -EINVAL;
                }
                arg_timeout = (uint32_t) v;
                return 0;
        }
        case 'k':
                arg_kill = true;
                return 0;
        case 's':
                if (parse_signal(arg, &arg_signal) < 0) {
                        fprintf(stderr, "warrenctl: Invalid signal '%s'\n", arg);
                        return -EINVAL;
                }
                return 0;
        case 'g':
                strv_free(arg_groups);
                /* "onboot," means group onboot and containers without a group. */
                arg_groups = calloc(1, sizeof(char *));
                for (const char *p = arg;; p++) {
                        size_t n = strcspn(p, ",");
                        char *g = strndup(p, n);
                        if (!g || strv_consume(&arg_groups, g) < 0)
                                return -ENOMEM;
                        p += n;
                        if (!*p)
                                break;
                }
                return 0;
        case 'a':
                arg_all = true;
                return 0;
        case ARG_STOP:
                arg_stop = true;
                return 0;
        }
        return -EINVAL;
}

typedef struct NameCall {
        const char *name;
        sd_bus_slot *slot;
        sd_bus_error error;
        int r;
        bool done;
} NameCall;

static int on_name_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        NameCall *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        c->done = true;
        if (e) {
                c->r = -sd_bus_message_get_errno(m);
                if (c->r == 0)
                        c->r = -EIO;
                (void) sd_bus_error_copy(&c->error, e);
        }
        return 1;
}

/* One call per name, all sent at once over our one connection and
 * answered in any order (warrend serves them concurrently): "start a b c"
 * takes about as long as the slowest, not the sum. Errors are printed
 * afterwards, in the order of the names. */
static int for_each_name(sd_bus *bus, char **args, const char *member) {
        size_t n = strv_length(args), pending = 0;
        _cleanup_free_ NameCall *calls = calloc(n ? n : 1, sizeof(NameCall));
        int r = 0;
        if (!calls)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                _cleanup_free_ char *path = NULL;
                NameCall *c = &calls[i];
                *c = (NameCall){ .name = args[i], .error = SD_BUS_ERROR_NULL };
                c->r = container_path_local(c->name, &path);
                if (c->r >= 0)
                        c->r = sd_bus_message_new_method_call(bus, &m, WARREN_BUS, path,
                                                              WARREN_CONTAINER_IFACE, member);
                if (c->r >= 0 && streq(member, "Stop"))
                        c->r = sd_bus_message_append(m, "ub", arg_timeout, (int) arg_kill);
                else if (c->r >= 0 && streq(member, "Kill"))
                        c->r = sd_bus_message_append(m, "i", (int32_t) arg_signal);
                if (c->r >= 0)
                        c->r = sd_bus_call_async(bus, &c->slot, m, on_name_reply, c, CALL_TIMEOUT_USEC);
                if (c->r >= 0)
                        pending++;
                else
                        c->done = true;
        }
        while (pending > 0) {
                int k = sd_bus_process(bus, NULL);
                if (k < 0) {
                        r = k;
                        break;
                }
                pending = 0;
                for (size_t i = 0; i < n; i++)
                        pending += !calls[i].done;
                if (pending > 0 && k == 0 && (k = sd_bus_wait(bus, UINT64_MAX)) < 0 && k != -EINTR) {
                        r = k;
                        break;
                }
        }
        for (size_t i = 0; i < n; i++) {
                NameCall *c = &calls[i];
                if (r < 0 && !c->done)
                        c->r = r;
                if (c->r < 0) {
                        int k = sd_bus_error_is_set(&c->error)
                                        ? container_call_failed(bus, c->name, member, &c->error, c->r)
                                        : log_bus_error(member, NULL, c->r);
                        if (r == 0)
                                r = k;
                }
                sd_bus_error_free(&c->error);
                sd_bus_slot_unref(c->slot);
        }
        return r;
}

static int verb_start(sd_bus *bus, char **args) {
        return for_each_name(bus, args, "Start");
}
static int verb_stop(sd_bus *bus, char **args) {
        return for_each_name(bus, args, "Stop");
}
static int verb_reboot(sd_bus *bus, char **args) {
        return for_each_name(bus, args, "Reboot");
}
static int verb_kill(sd_bus *bus, char **args) {
        return for_each_name(bus, args, "Kill");
}
static int verb_freeze(sd_bus *bus, char **args) {
        return for_each_name(bus, args, "Freeze");
}
static int verb_unfreeze(sd_bus *bus, char **args) {
        return for_each_name(bus, args, "Unfreeze");
}

static int verb_state(sd_bus *bus, char **args) {
        _cleanup_free_ char *path = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        char *state = NULL;
        int r = container_path_local(args[0], &path);
        if (r < 0)
                return log_bus_error("State", NULL, r);
        r = sd_bus_get_property_string(bus, WARREN_BUS, path, WARREN_CONTAINER_IFACE, "State", &error,
                                       &state);
        if (r < 0) {
                r = container_call_failed(bus, args[0], "State", &error, r);
                sd_bus_error_free(&error);
                return r;
        }
        if (arg_json != JSON_OFF) {
                OutputObject *o = output_object_new();
                if (!o)
                        r = -ENOMEM;
                else {
                        output_object_string(o, "name", args[0]);
                        output_object_string(o, "state", state);
                        r = output_object_print(o);
                        output_object_free(o);
                }
        } else
                printf("%s\n", state);
        free(state);
        return r;
}

static const OutputColumn checkconfig_columns[] = {
        { "feature", "FEATURE", OUTPUT_STRING, OUTPUT_DEFAULT, "a kernel or host feature" },
        { "status", "STATUS", OUTPUT_STRING, OUTPUT_DEFAULT, "enabled, missing or optional" },
        { "detail", "DETAIL", OUTPUT_STRING, OUTPUT_DEFAULT | OUTPUT_WRAP, "what was found" },
        {},
};

static int verb_checkconfig(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *feature, *status, *detail;
        OutputTable *t = NULL;
        int missing = 0;
        int r = output_table_new(checkconfig_columns, "checkconfig", &t);
        if (r < 0)
                return r;
        r = call_manager(bus, "CheckConfig", &reply, NULL);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(sss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sss)", &feature, &status, &detail)) > 0) {
                r = output_table_add_row(t);
                if (r >= 0)
                        r = output_cell_string(t, "feature", feature);
                if (r >= 0)
                        r = output_cell_string(t, "status", status);
                if (r >= 0)
                        r = output_cell_string(t, "detail", detail);
                if (streq(status, "missing"))
                        missing++;
        }
        if (r >= 0)
                r = output_table_print(t);
        output_table_free(t);
        if (r < 0)
                return r;
        if (missing > 0) {
                fprintf(stderr, "warrenctl: %d required feature%s missing\n", missing,
                        missing == 1 ? "" : "s");
                return -ENOTSUP;
        }
        return 0;
}

/* --- autostart (lxc-autostart) ------------------------------------------- */

typedef struct AutoEntry {
        char *name;
        bool running; /* anything but STOPPED: start skips it, --stop does not */
        long order;
        long delay;
        char **groups;
} AutoEntry;

static int read_auto_entry(sd_bus *bus, const char *name, const char *path, AutoEntry *e, bool *ret_auto) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *k, *v;
        bool autostart = false;
        int r = sd_bus_call_method(bus, WARREN_BUS, path, WARREN_CONTAINER_IFACE, "GetConfig", NULL, &reply,
                                   NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        if (r < 0)
                return r;
        *e = (AutoEntry){ .name = strdup(name) };
        if (!e->name)
                return -ENOMEM;
        while ((r = sd_bus_message_read(reply, "(ss)", &k, &v)) > 0) {
                if (streq(k, "lxc.start.auto"))
                        autostart = streq(v, "1");
                else if (streq(k, "lxc.start.order"))
                        e->order = strtol(v, NULL, 10);
                else if (streq(k, "lxc.start.delay"))
                        e->delay = strtol(v, NULL, 10);
                else if (streq(k, "lxc.group") && strv_extend(&e->groups, v) < 0)
                        return -ENOMEM;
        }
        *ret_auto = autostart;
        return r;
}

static bool auto_selected(const AutoEntry *e) {
        if (arg_all)
                return true;
        if (!arg_groups)
                return strv_length(e->groups) == 0;
        STRV_FOREACH(g, arg_groups) {
                if (isempty(*g) && strv_length(e->groups) == 0)
                        return true;
                if (!isempty(*g) && strv_contains(e->groups, *g))
                        return true;
        }
        return false;
}

static int auto_cmp(const void *a, const void *b) {
        const AutoEntry *x = a, *y = b;
        if (x->order != y->order)
                return x->order < y->order ? -1 : 1; /* lower order starts earlier */
        return strcmp(x->name, y->name);
}

static int verb_autostart(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *state, *path;
        uint32_t owner;
        AutoEntry *list = NULL;
        size_t n = 0;
        int r = call_manager(bus, "ListContainers", &reply, NULL), ret = 0;
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ssuo)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(ssuo)", &name, &state, &owner, &path)) > 0) {
                AutoEntry e;
                bool autostart = false;
                if (read_auto_entry(bus, name, path, &e, &autostart) < 0 || !autostart ||
                    !auto_selected(&e)) {
                        free(e.name);
                        strv_free(e.groups);
                        continue;
                }
                AutoEntry *nl = realloc(list, (n + 1) * sizeof *list);
                if (!nl)
                        return -ENOMEM;
                e.running = !streq(state, "STOPPED");
                list = nl;
                list[n++] = e;
        }
        qsort(list, n, sizeof *list, auto_cmp);
        for (size_t i = 0; i < n; i++) {
                /* Stop in the reverse of start order. */
                AutoEntry *e = &list[arg_stop ? n - 1 - i : i];
                /* As lxc-autostart: what already is as asked is no failure. */
                if (e->running != arg_stop)
                        continue;
                int k = arg_stop ? call_container(bus, e->name, "Stop", NULL, "ub", arg_timeout,
                                                  (int) arg_kill)
                                 : call_container(bus, e->name, "Start", NULL, NULL);
                if (k < 0 && ret == 0)
                        ret = k;
                if (!arg_stop && k >= 0 && e->delay > 0 && i + 1 < n)
                        sleep((unsigned) e->delay);
        }
        for (size_t i = 0; i < n; i++) {
                free(list[i].name);
                strv_free(list[i].groups);
        }
        free(list);
        return ret;
}

#define NAMES_ONLY(verb, what, more, ex)                                                              \
        {                                                                                             \
                .name = #verb, .min_args = 1, .max_args = -1, .run = verb_##verb, .usage = "NAME...", \
                .summary = what, .description = more, .example = "warrenctl " #verb " " ex "\n",      \
        }

const Verb verbs_runtime[] = {
        NAMES_ONLY(start, "Boot containers",
                   "Runs their init (lxc.init.cmd, else /sbin/init) in fresh namespaces; fails\n"
                   "with the reason if it does not come up.",
                   "web"),
        {
                .name = "stop",
                .min_args = 1,
                .max_args = -1,
                .run = verb_stop,
                .usage = "NAME... [-t SEC] [-k]",
                .summary = "Halt containers",
                .description = "As lxc-stop: the halt signal (lxc.signal.halt, SIGPWR by default) to init,\n"
                               "then SIGKILL when the timeout passes.",
                .options = "-t --timeout=SEC\tSeconds to wait before SIGKILL (default 60)\n"
                           "-k --kill\tSIGKILL at once\n",
                .example = "warrenctl stop web -t 10\n",
        },
        NAMES_ONLY(reboot, "Reboot containers",
                   "The reboot signal (lxc.signal.reboot, SIGINT by default) to init.", "web"),
        {
                .name = "kill",
                .min_args = 1,
                .max_args = -1,
                .run = verb_kill,
                .usage = "NAME... [-s SIGNAL]",
                .summary = "Send a signal to containers' init",
                .options = "-s --signal=SIGNAL\tA name (TERM, SIGTERM) or number (default SIGKILL)\n",
                .example = "warrenctl kill web -s SIGUSR2\n",
        },
        NAMES_ONLY(freeze, "Freeze containers", "Every process stops (the cgroup freezer) until unfreeze.",
                   "web"),
        NAMES_ONLY(unfreeze, "Thaw frozen containers", NULL, "web"),
        {
                .name = "state",
                .min_args = 1,
                .max_args = 1,
                .run = verb_state,
                .flags = VERB_JSON | VERB_READ_ONLY,
                .usage = "NAME",
                .summary = "Print a container's state",
                .description = "STOPPED, STARTING, RUNNING, STOPPING, ABORTING, FREEZING or FROZEN.",
                .example = "warrenctl state web\n",
        },
        {
                .name = "checkconfig",
                .run = verb_checkconfig,
                .flags = VERB_JSON | VERB_TABLE | VERB_READ_ONLY,
                .usage = "[-o COLUMNS]",
                .summary = "What this host's kernel supports",
                .description = "As lxc-checkconfig, asked of the service; fails if a required feature is\n"
                               "missing.",
                .example = "warrenctl checkconfig -o feature,status\n",
                .columns = checkconfig_columns,
        },
        {
                .name = "autostart",
                .run = verb_autostart,
                .usage = "[--stop] [-g GROUPS] [-a] [-t SEC] [-k]",
                .summary = "Start or stop the containers marked lxc.start.auto",
                .description = "As lxc-autostart: by lxc.start.order, waiting lxc.start.delay after each;\n"
                               "--stop in the reverse order. Containers already running (stopped, with\n"
                               "--stop) are skipped.",
                .options = "--stop\tStop them instead\n"
                           "-g --groups=GROUPS\tOnly those in these lxc.group groups; a trailing ','\n"
                           "\tadds those without a group (the default set)\n"
                           "-a --all\tEvery marked container, whatever its groups\n"
                           "-t --timeout=SEC\t--stop: seconds before SIGKILL\n"
                           "-k --kill\t--stop: SIGKILL at once\n",
                .example = "warrenctl autostart -g onboot,\n",
        },
        {},
};
