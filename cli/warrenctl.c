/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* warrenctl: the command line of warren, a thin client of org.warren1. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "polkit-agent.h"
#include "verbs-data.h"
#include "verbs-image.h"
#include "verbs-network.h"
#include "verbs-observe.h"
#include "verbs-shell.h"
#include "warrenctl.h"

bool arg_ask_password = true;
int arg_exit_status = -1;
static const Verb *arg_verb = NULL; /* the verb being run, for help and checks */

int bus_connect(sd_bus **ret) {
        sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "warrenctl: Failed to connect to the system bus: %s\n", strerror(-r));
                return r;
        }
        /* As systemd's tools: calls may be answered after an interactive
         * authorization (our pkttyagent on a terminal, or a desktop's agent). */
        (void) sd_bus_set_allow_interactive_authorization(bus, arg_ask_password);
        *ret = bus;
        return 0;
}

int log_bus_error(const char *what, const sd_bus_error *error, int r) {
        if (error && sd_bus_error_is_set(error)) {
                fprintf(stderr, "warrenctl: %s: %s\n", what, error->message ? error->message : error->name);
                if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED) ||
                    sd_bus_error_has_name(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
                        polkit_explain_denial(error->message);
        } else
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

int call_quiet(sd_bus *bus, const char *path, const char *iface, const char *member,
               sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(bus, &m, WARREN_BUS, path, iface, member);
        if (r < 0)
                return r;
        /* A read on the side never asks for a password. */
        r = sd_bus_message_set_allow_interactive_authorization(m, false);
        if (r < 0)
                return r;
        return sd_bus_call(bus, m, CALL_TIMEOUT_USEC, NULL, ret_reply);
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

/* --- verbs and help ------------------------------------------------------------- */

static int verb_help(sd_bus *bus, char **args);

static const Verb verbs_main[] = {
        {
                .name = "help",
                .max_args = 1,
                .run = verb_help,
                .flags = VERB_READ_ONLY,
                .usage = "[COMMAND]",
                .summary = "Show the help of warrenctl or of one command",
                .example = "warrenctl help list\n",
        },
        {},
};

static const struct {
        const char *title;
        const Verb *verbs;
} verb_groups[] = {
        { "Containers", verbs_container },
        { "Running containers", verbs_runtime },
        { "Watching containers", verbs_observe },
        { "Inside containers", verbs_shell },
        { "Networks", verbs_network },
        { "Images", verbs_image },
        { "Container data", verbs_data },
        { "Help", verbs_main },
};

static const Verb *find_verb(const char *name) {
        for (size_t g = 0; g < ELEMENTSOF(verb_groups); g++)
                for (const Verb *v = verb_groups[g].verbs; v->name; v++)
                        if (streq(v->name, name))
                                return v;
        return NULL;
}

static const Verb *verb_resolve(const Verb *v) {
        if (v && v->alias_of)
                return find_verb(v->alias_of);
        return v;
}

/* Lines of text, each indented by indent. */
static void print_lines(const char *text, const char *indent) {
        for (const char *t = text; t && *t;) {
                size_t n = strcspn(t, "\n");
                printf("%s%.*s\n", indent, (int) n, t);
                t += n + (t[n] == '\n');
        }
}

/* "OPTION\tTEXT" lines, the texts aligned. */
static void print_options(const char *text) {
        for (const char *t = text; t && *t;) {
                size_t n = strcspn(t, "\n"), k = strcspn(t, "\t\n");
                /* Long options alone line up with those after a short one. */
                bool long_only = k >= 2 && t[0] == '-' && t[1] == '-';
                if (k < n)
                        printf("  %s%-*.*s %.*s\n", long_only ? "   " : "", long_only ? 23 : 26, (int) k, t,
                               (int) (n - k - 1), t + k + 1);
                else
                        printf("  %.*s\n", (int) n, t);
                t += n + (t[n] == '\n');
        }
}

static const char global_options[] = "-h --help\tShow this help, or with a command its own\n"
                                     "--version\tShow the version\n"
                                     "--no-ask-password\tNever ask for a password (no polkit agent)\n"
                                     "-J --json[=pretty|short]\tJSON output, for commands that print data\n"
                                     "-o --output=COLUMNS\tA table's columns (NAME,...; +NAME adds one)\n"
                                     "-n --noheadings\tNo table heading\n"
                                     "-r --raw\tRaw table: one space between columns\n";

static void help(void) {
        printf("warrenctl [OPTIONS...] COMMAND ...\n\n"
               "Manage warren system containers through the org.warren1 service.\n");
        for (size_t g = 0; g < ELEMENTSOF(verb_groups); g++) {
                printf("\n%s:\n", verb_groups[g].title);
                for (const Verb *v = verb_groups[g].verbs; v->name; v++) {
                        if (v->alias_of)
                                continue;
                        _cleanup_free_ char *first = NULL;
                        const char *u = strempty(v->usage);
                        /* A subcommand verb lists its subcommands. */
                        if (strchr(u, '\n')) {
                                _cleanup_strv_free_ char **lines = strv_split(u, "\n");
                                _cleanup_strv_free_ char **words = NULL;
                                /* "NAME list", "NAME [create] ...": the subcommand is the
                                 * second word, after an argument (upper case) they share. */
                                const char *arg = NULL;
                                size_t arg_len = 0;
                                if (lines && lines[0] && isupper((unsigned char) lines[0][0])) {
                                        arg = lines[0];
                                        arg_len = strcspn(arg, " ");
                                }
                                STRV_FOREACH(l, lines) {
                                        const char *w = *l;
                                        if (*w == ' ')
                                                continue;
                                        if (arg && strncmp(w, arg, arg_len) == 0 && w[arg_len] == ' ')
                                                w += arg_len + 1;
                                        w += *w == '[';
                                        if (strv_consume(&words, strndup(w, strcspn(w, " ]"))) < 0)
                                                return;
                                }
                                _cleanup_free_ char *subs = strv_join(words, "|");
                                if (!subs || asprintf(&first, "%s %.*s%s%s ...", v->name, (int) arg_len,
                                                      strempty(arg), arg ? " " : "", subs) < 0)
                                        return;
                        } else if (asprintf(&first, "%s%s%s", v->name, *u ? " " : "", u) < 0)
                                return;
                        if (strlen(first) <= 36)
                                printf("  %-36s %s\n", first, v->summary);
                        else
                                printf("  %s\n  %-36s %s\n", first, "", v->summary);
                }
        }
        printf("\nOptions:\n");
        print_options(global_options);
        printf("\nRun 'warrenctl help COMMAND' or 'warrenctl COMMAND --help' for a command's options\n"
               "and an example. See warrenctl(1), warrend(8), warren.conf(5), warren-dbus(7).\n");
}

static void verb_print_help(const Verb *v) {
        v = verb_resolve(v);
        bool first = true;
        for (const char *u = strempty(v->usage);; first = false) {
                size_t n = strcspn(u, "\n");
                if (u[0] == ' ') /* a continued usage line */
                        printf("       %*s%.*s\n", (int) strlen(v->name) + 10, "", (int) n, u);
                else
                        printf("%s warrenctl %s%s%.*s\n", first ? "Usage:" : "      ", v->name, n ? " " : "",
                               (int) n, u);
                u += n + (u[n] == '\n');
                if (!*u)
                        break;
        }
        printf("\n%s.\n", v->summary);
        if (v->description)
                printf("\n%s\n", v->description);
        if (v->options || (v->flags & (VERB_JSON | VERB_TABLE)))
                printf("\nOptions:\n");
        print_options(v->options);
        if (v->flags & VERB_JSON)
                print_options("-J --json[=pretty|short]\tJSON output\n");
        if (v->flags & VERB_TABLE)
                print_options("-o --output=COLUMNS\tColumns to show (NAME,...; +NAME adds one)\n"
                              "-n --noheadings\tNo heading\n"
                              "-r --raw\tRaw output: one space between columns\n");
        if (v->columns)
                output_columns_help(v->columns);
        if (v->example) {
                printf("\nExample%s:\n", strchr(v->example, '\n') != strrchr(v->example, '\n') ? "s" : "");
                print_lines(v->example, "  ");
        }
        printf("\nGlobal options (--no-ask-password, ...): warrenctl --help. More: warrenctl(1).\n");
}

static int verb_help(sd_bus *bus, char **args) {
        if (!args[0]) {
                help();
                return 0;
        }
        const Verb *v = find_verb(args[0]);
        if (!v) {
                fprintf(stderr, "warrenctl: Unknown command '%s'. See warrenctl --help.\n", args[0]);
                return -EINVAL;
        }
        verb_print_help(v);
        return 0;
}

/* --- options and main ------------------------------------------------------------- */

enum {
        ARG_VERSION = 0x100,
        ARG_NO_ASK_PASSWORD,
        ARG_JSON,
};

#define SHORT_OPTIONS "+ht:fJo:nr" RUNTIME_SHORT_OPTIONS SHELL_SHORT_OPTIONS

static const struct option options[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, ARG_VERSION },
        { "template", required_argument, NULL, 't' },
        { "fancy", no_argument, NULL, 'f' },
        { "json", optional_argument, NULL, ARG_JSON },
        { "output", required_argument, NULL, 'o' },
        { "noheadings", no_argument, NULL, 'n' },
        { "raw", no_argument, NULL, 'r' },
        { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
        CONTAINER_OPTIONS,
        RUNTIME_OPTIONS,
        SHELL_OPTIONS,
        NETWORK_OPTIONS,
        IMAGE_OPTIONS,
        DATA_OPTIONS,
        OBSERVE_OPTIONS,
        {},
};

/* What was given, for "means nothing for VERB". */
static const char *opt_table = NULL, *opt_json = NULL, *opt_fancy = NULL;

/* One option; 1 means "done, exit successfully" (--help), <0 failure. */
static int handle_option(int c, const char *arg) {
        switch (c) {
        case 'h':
                if (arg_verb)
                        verb_print_help(arg_verb);
                else
                        help();
                return 1;
        case ARG_VERSION:
                printf("warrenctl %s\n", WARRENCTL_VERSION);
                return 1;
        case 't':
                arg_template = arg;
                return 0;
        case 'f':
                arg_fancy = true;
                opt_fancy = "--fancy";
                return 0;
        case 'J':
        case ARG_JSON:
                opt_json = "--json";
                return parse_json_mode(arg, &arg_json);
        case 'o':
                arg_output = arg;
                opt_table = "--output";
                return 0;
        case 'n':
                arg_noheadings = true;
                opt_table = "--noheadings";
                return 0;
        case 'r':
                arg_raw = true;
                opt_table = "--raw";
                return 0;
        case ARG_NO_ASK_PASSWORD:
                arg_ask_password = false;
                return 0;
        case '?':
                return -EINVAL;
        case 'e':
                return parse_shell_option(c, arg);
        default:
                if (c == ARG_TIMEOUT && arg_verb && streq(arg_verb->name, "wait"))
                        return parse_observe_option(OBSERVE_ARG_TIMEOUT, arg);
                if (c >= OBSERVE_ARG_DELAY)
                        return parse_observe_option(c, arg);
                if (c >= DATA_ARG_SNAPSHOT)
                        return parse_data_option(c, arg);
                if (c >= CONTAINER_ARG_CONFIG)
                        return parse_container_option(c, arg);
                if (c >= IMAGE_ARG_REMOTE)
                        return parse_image_option(c, arg);
                if (c >= NETWORK_ARG_IPV4)
                        return parse_network_option(c, arg);
                return c >= SHELL_ARG_PTY ? parse_shell_option(c, arg) : parse_runtime_option(c, arg);
        }
}

static int options_check(const Verb *v) {
        /* -t is the template for create, the timeout for stop (as lxc-stop
         * -t), the tty for console (as lxc-console -t). */
        if (arg_template && !streq(v->name, "create")) {
                int r;
                if (streq(v->name, "stop") || streq(v->name, "autostart"))
                        r = parse_runtime_option(ARG_TIMEOUT, arg_template);
                else if (streq(v->name, "console"))
                        r = parse_shell_option(SHELL_ARG_TTY, arg_template);
                else if (streq(v->name, "wait"))
                        r = parse_observe_option(OBSERVE_ARG_TIMEOUT, arg_template);
                else {
                        fprintf(stderr, "warrenctl: -t means nothing for '%s'\n", v->name);
                        r = -EINVAL;
                }
                if (r < 0)
                        return r;
                arg_template = NULL;
        }
        const char *bad = opt_json && !(v->flags & VERB_JSON)                               ? opt_json
                          : opt_table && !(v->flags & VERB_TABLE) && !data_verb_owns_o_r(v) ? opt_table
                          : opt_fancy && !(v->flags & VERB_LIST)                            ? opt_fancy
                                                                                            : NULL;
        if (bad) {
                fprintf(stderr, "warrenctl: %s means nothing for '%s'. See warrenctl %s --help.\n", bad,
                        v->name, v->name);
                return -EINVAL;
        }
        if (network_options_check(v->name) < 0 || image_options_check(v->name) < 0 ||
            observe_options_check(v->name) < 0 || container_options_check(v) < 0)
                return -EINVAL;
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_strv_free_ char **args = NULL;
        int c, r;

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
        v = verb_resolve(v);
        arg_verb = v;
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
        if (options_check(v) < 0)
                return EXIT_FAILURE;
        size_t n = strv_length(args);
        if (n < (size_t) v->min_args ||
            (v->max_args >= 0 && !(v->flags & VERB_REST) && n > (size_t) v->max_args)) {
                fprintf(stderr, "warrenctl: Wrong number of arguments for '%s'. Usage: warrenctl %s %.*s\n",
                        v->name, v->name, (int) strcspn(strempty(v->usage), "\n"), strempty(v->usage));
                return EXIT_FAILURE;
        }
        if (!args && !(args = calloc(1, sizeof(char *))))
                return EXIT_FAILURE;
        if (v->run == verb_help)
                return verb_help(NULL, args) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        r = bus_connect(&bus);
        if (r < 0)
                return EXIT_FAILURE;
        if (!(v->flags & VERB_READ_ONLY))
                (void) polkit_agent_open();
        r = v->run(bus, args);
        polkit_agent_close();
        if (r >= 0 && arg_exit_status >= 0)
                return arg_exit_status; /* a command's own exit status (attach) */
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
