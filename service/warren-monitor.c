/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* warren-monitor NAME: started by warrend (monitor_spawn()), one per
 * running container; all the work is monitor_run() in lib/monitor.c. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "build-config.h"
#include "lazy-libsystemd.h"
#include "monitor-client.h"
#include "monitor-proto.h"
#include "monitor.h"
#include "systemd-machined.h"
#include "systemd-scope.h"

/* --stop's default: lxc-autostart -s's, and what a host shutdown gives
 * each container (warren-halt@.service). */
#define STOP_TIMEOUT_DEFAULT_SEC 30U

static void help(void) {
        printf("warren-monitor --name=NAME [OPTIONS...]\n\n"
               "Runs one container: sets it up, supervises its init, serves its control socket.\n"
               "Started by warrend; not meant to be run by hand.\n\n"
               "  -h --help             Show this help\n"
               "     --version          Show the version\n"
               "     --name=NAME        The container\n"
               "     --state-dir=DIR    Containers (default " WARREN_STATE_DIR ")\n"
               "     --runtime-dir=DIR  Control sockets and state (default " WARREN_RUNTIME_DIR ")\n"
               "     --config-dir=DIR   System configuration (default " WARREN_CONFIG_DIR ")\n"
               "     --sync-fd=FD       SOCK_SEQPACKET socket to report the start result on\n"
               "     --log-file=PATH    Append diagnostics here (default: the journal if one\n"
               "                        listens, else discard)\n"
               "     --foreground       Do not detach (keep stdio, session and fds)\n"
               "     --stop             Do not run NAME: stop it through its running monitor\n"
               "                        and wait until it is gone (0 if it was not running)\n"
               "     --timeout=SEC      --stop: seconds from the halt signal to SIGKILL\n"
               "                        (default %u)\n"
               "     --pool             Warm up without a container and wait for one (no --name)\n",
               STOP_TIMEOUT_DEFAULT_SEC);
}

/* ---- under systemd: a scope of our own, machined ---------------------------- */

static bool machine_registered = false;

static int hook_place(const char *name, void *userdata, WarrenError *reterr) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        int r = lazy_libsystemd_load(&e);
        if (r >= 0) {
                r = systemd_scope_enter(name, &e);
                /* Nothing of it is needed while the container runs. */
                lazy_libsystemd_unload();
        }
        if (r >= 0)
                return r;
        /* It still runs, as on a host without systemd. */
        log_warning("%s: running container '%s' without a scope of its own", warren_error_message(&e), name);
        return 0;
}

/* In a helper process: machined may be slow to activate, and the monitor
 * never waits on anyone. */
static void hook_running(const char *name, pid_t init_pid, const char *rootfs, const int *ifindexes,
                         size_t n_ifindexes, void *userdata) {
        if (!systemd_is_running())
                return;
        bool replace = machine_registered;
        machine_registered = true;
        pid_t pid = fork();
        if (pid < 0) {
                log_warning_errno(errno, "Failed to fork to register '%s' with machined: %m", name);
                return;
        }
        if (pid > 0)
                return; /* reaped with the monitor's other children */
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        (void) close_range(STDERR_FILENO + 1, ~0U, 0);
        int r = lazy_libsystemd_load(&e);
        if (r >= 0)
                r = machined_register(name, init_pid, rootfs, ifindexes, n_ifindexes, replace, &e);
        if (r == -EHOSTDOWN)
                log_debug("%s", warren_error_message(&e));
        else if (r < 0)
                log_warning("%s", warren_error_message(&e));
        _exit(r < 0 && r != -EHOSTDOWN ? EXIT_FAILURE : EXIT_SUCCESS);
}

static const MonitorHooks systemd_hooks = {
        .place = hook_place,
        .running = hook_running,
};

/* ---- --stop: what warren-halt@NAME.service's stop runs ----------------------- */

/* Asks NAME's monitor for a clean stop (the halt signal, timeout_s, then
 * SIGKILL) and waits until the container is gone. Not running is done. */
static int stop_container(const char *runtime_dir, const char *name, uint32_t timeout_s) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        _cleanup_close_ int fd = -EBADF;
        int r = monitor_connect(runtime_dir, name, false, &fd, &e);
        if (r == -ESRCH) {
                log_debug("Container '%s' is not running.", name);
                return 0;
        }
        if (r >= 0)
                r = monitor_stop(fd, timeout_s, false, &e);
        if (r == -ESRCH) /* no init any more: it is going */
                return 0;
        if (r < 0)
                return log_error_errno(r, "Failed to stop container '%s': %s", name,
                                       warren_error_message(&e));
        log_info("Container '%s' stopped.", name);
        return 0;
}

/* Our command line, as /proc/PID/cmdline shows it: rewritten in place
 * after a take so that it says "--name NAME" like a monitor spawned for
 * the container (pgrep -f, ps). */
static char **saved_argv;
static int saved_argc;

/* Overwrites our command line with words, as far as they fit. */
static void set_title(const char *const *words, size_t n) {
        /* The strings lie one after the other; getopt may have reordered
         * the pointers, not them. */
        char *start = saved_argv[0], *end = saved_argv[0];
        for (int i = 0; i < saved_argc; i++) {
                start = MIN(start, saved_argv[i]);
                end = MAX(end, saved_argv[i] + strlen(saved_argv[i]) + 1);
        }
        size_t room = (size_t) (end - start), used = 0;
        _cleanup_free_ char *buf = calloc(1, room);
        if (!buf)
                return;
        for (size_t i = 0; i < n; i++) {
                size_t l = strlen(words[i]) + 1;
                if (used + l > room)
                        break;
                memcpy(buf + used, words[i], l);
                used += l;
        }
        memcpy(start, buf, room);
}

/* After a take: "--name NAME" like a monitor spawned for the container
 * (pgrep -f, ps); what does not fit is left out, "--name NAME" never
 * (warrend passes longer directory options than a name can be). */
static void retitle(const char *name) {
        _cleanup_free_ char *field = NULL;
        if (asprintf(&field, "CONTAINER=%s", name) >= 0)
                (void) log_set_field(field);
        const char *words[64];
        size_t n = 0;
        words[n++] = saved_argv[0];
        words[n++] = "--name";
        words[n++] = name;
        for (int i = 1; i < saved_argc && n < ELEMENTSOF(words); i++) {
                if (streq(saved_argv[i], "--pool") || streq(saved_argv[i], "--sync-fd") ||
                    strncmp(saved_argv[i], "--sync-fd=", 10) == 0) {
                        if (streq(saved_argv[i], "--sync-fd"))
                                i++;
                        continue;
                }
                words[n++] = saved_argv[i];
        }
        set_title(words, n);
}

/* The attach helper starts with a copy of our command line: never taken
 * for the monitor (pgrep -f "warren-monitor.*--name NAME"). */
static void retitle_attach_helper(const char *name) {
        const char *words[] = { "warren-attach", name };
        set_title(words, ELEMENTSOF(words));
}

/* Copies of the option strings, freed when main() returns. */
typedef struct OwnedStrings {
        char *s[5];
} OwnedStrings;

static void owned_strings_done(OwnedStrings *o) {
        for (size_t i = 0; i < ELEMENTSOF(o->s); i++)
                free(o->s[i]);
}

static int parse_fd(const char *s, int *ret) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < 0 || v > 1024 * 1024)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

int main(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_NAME,
                ARG_STATE_DIR,
                ARG_RUNTIME_DIR,
                ARG_CONFIG_DIR,
                ARG_SYNC_FD,
                ARG_LOG_FILE,
                ARG_FOREGROUND,
                ARG_STOP,
                ARG_TIMEOUT,
                ARG_POOL,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "name", required_argument, NULL, ARG_NAME },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "runtime-dir", required_argument, NULL, ARG_RUNTIME_DIR },
                { "config-dir", required_argument, NULL, ARG_CONFIG_DIR },
                { "sync-fd", required_argument, NULL, ARG_SYNC_FD },
                { "log-file", required_argument, NULL, ARG_LOG_FILE },
                { "foreground", no_argument, NULL, ARG_FOREGROUND },
                { "stop", no_argument, NULL, ARG_STOP },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "pool", no_argument, NULL, ARG_POOL },
                {},
        };
        MonitorOptions o = {
                .state_dir = WARREN_STATE_DIR,
                .runtime_dir = WARREN_RUNTIME_DIR,
                .config_dir = WARREN_CONFIG_DIR,
                .sync_fd = -1,
                .detach = true,
        };
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        bool stop = false;
        uint32_t timeout = STOP_TIMEOUT_DEFAULT_SEC;
        int c;

        log_set_prefix("warren-monitor");
        log_parse_environment();
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case ARG_VERSION:
                        printf("warren-monitor %s\n", PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                case ARG_NAME:
                        o.name = optarg;
                        break;
                case ARG_STATE_DIR:
                        o.state_dir = optarg;
                        break;
                case ARG_RUNTIME_DIR:
                        o.runtime_dir = optarg;
                        break;
                case ARG_CONFIG_DIR:
                        o.config_dir = optarg;
                        break;
                case ARG_SYNC_FD:
                        if (parse_fd(optarg, &o.sync_fd) < 0) {
                                log_error("Invalid --sync-fd '%s'.", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case ARG_LOG_FILE:
                        o.log_path = optarg;
                        break;
                case ARG_FOREGROUND:
                        o.detach = false;
                        break;
                case ARG_STOP:
                        stop = true;
                        break;
                case ARG_TIMEOUT: {
                        int v;
                        if (parse_fd(optarg, &v) < 0) {
                                log_error("Invalid --timeout '%s': expected seconds.", optarg);
                                return EXIT_FAILURE;
                        }
                        timeout = (uint32_t) v;
                        break;
                }
                case ARG_POOL:
                        o.pool = true;
                        break;
                default:
                        return EXIT_FAILURE;
                }
        }
        if (optind < argc) {
                log_error("Unexpected argument '%s'.", argv[optind]);
                return EXIT_FAILURE;
        }
        if (!o.name == !o.pool) {
                log_error("Either --name or --pool is required.");
                return EXIT_FAILURE;
        }
        /* set_title() overwrites the strings the options point to. */
        const char **opts[] = { &o.name, &o.state_dir, &o.runtime_dir, &o.config_dir, &o.log_path };
        _cleanup_(owned_strings_done) OwnedStrings owned = {};
        for (size_t i = 0; i < ELEMENTSOF(opts); i++)
                if (*opts[i] && !(*opts[i] = owned.s[i] = strdup(*opts[i]))) {
                        log_error("Out of memory.");
                        return EXIT_FAILURE;
                }
        saved_argv = argv;
        saved_argc = argc;
        o.on_take = retitle;
        o.retitle_attach_helper = retitle_attach_helper;
        if (o.state_dir[0] != '/' || o.runtime_dir[0] != '/' || o.config_dir[0] != '/') {
                log_error("--state-dir, --runtime-dir and --config-dir must be absolute paths.");
                return EXIT_FAILURE;
        }

        if (stop)
                return stop_container(o.runtime_dir, o.name, timeout) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        /* Every record of this process names its container. */
        _cleanup_free_ char *field = NULL;
        if (o.name && asprintf(&field, "CONTAINER=%s", o.name) >= 0)
                (void) log_set_field(field);
        if (systemd_is_running())
                o.hooks = &systemd_hooks;
        if (monitor_run(&o, &e) < 0) {
                log_error("%s", warren_error_message(&e));
                return EXIT_FAILURE;
        }
#ifndef __SANITIZE_ADDRESS__
        /* The container is gone and warrend was told; it replies to Stop
         * once we have exited. The libraries' destructors (libnl's undo
         * hundreds of registrations) are not worth that wait; under a
         * sanitizer the exit checks for leaks, so it stays. */
        (void) fflush(NULL);
        _exit(EXIT_SUCCESS);
#endif
        return EXIT_SUCCESS;
}
