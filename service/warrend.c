/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* warrend: the org.warren1 system bus service. Bus-activated, holds no
 * state that matters, exits when idle. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "build-config.h"
#include "cgroup.h"
#include "bus-error.h"
#include "bus-util.h"
#include "daemon.h"
#include "data-dbus.h"
#include "data-work.h"
#include "destroy-work.h"
#include "image-dbus.h"
#include "job.h"
#include "network-dbus.h"
#include "runtime.h"
#include "shell-dbus.h"
#include "stats-dbus.h"
#include "store.h"
#include "systemd-notify.h"
#include "systemd-scope.h"

#define DEFAULT_EXIT_IDLE_SEC 30
#define DEFAULT_POOL_SIZE 2

static int idle_timer_handler(sd_event_source *s, uint64_t usec, void *userdata) {
        Daemon *d = userdata;
        if (d->n_pending > 0) {
                daemon_touch(d);
                return 0;
        }
        log_debug("Idle for %" PRIu64 " s, exiting.", d->exit_idle_usec / 1000000);
        return sd_event_exit(d->event, 0);
}

void daemon_touch(Daemon *d) {
        if (d->exit_idle_usec == 0 || !d->event)
                return;
        uint64_t now;
        if (sd_event_now(d->event, CLOCK_MONOTONIC, &now) < 0)
                return;
        if (!d->idle_timer) {
                if (sd_event_add_time(d->event, &d->idle_timer, CLOCK_MONOTONIC, now + d->exit_idle_usec,
                                      1000000, idle_timer_handler, d) < 0)
                        return;
                return;
        }
        (void) sd_event_source_set_time(d->idle_timer, now + d->exit_idle_usec);
        (void) sd_event_source_set_enabled(d->idle_timer, SD_EVENT_ONESHOT);
}

void daemon_hold(Daemon *d) {
        d->n_pending++;
}

void daemon_release(Daemon *d) {
        if (d->n_pending > 0)
                d->n_pending--;
        daemon_touch(d);
}

/* The fd limit our unit grants (LimitNOFILE) is the hard one; the soft one
 * is often 1024 for select()'s sake, which we do not use. */
static void bump_nofile(void) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
                return;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                log_debug_errno(errno, "Failed to raise RLIMIT_NOFILE: %m");
}

/* Any message to us counts as activity. */
static int activity_filter(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        daemon_touch(userdata);
        return 0;
}

static void daemon_free(Daemon *d) {
        bus_caller_cache_free();
        audit_free_all();
        attach_free_all();
        notify_free(d);
        runtime_free_all(d);
        runtime_pool_free_all(d);
        images_free_all(d);
        data_work_free_all(d);
        destroy_work_free_all(d);
        job_free_all(d);
        sd_event_source_unref(d->idle_timer);
        sd_bus_flush_close_unref(d->bus);
        sd_event_unref(d->event);
        store_free(d->store);
        cgroup_layout_free(d->cgroup_layout);
        free(d->state_dir);
        free(d->runtime_dir);
        free(d->cache_dir);
        free(d->config_dir);
        free(d->data_dir);
        free(d->monitor_path);
        free(d->worker_path);
}

static void help(void) {
        printf("warrend [OPTIONS...]\n\n"
               "The warren container manager service (org.warren1 on the system bus).\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --state-dir=DIR     Containers (default " WARREN_STATE_DIR ")\n"
               "     --runtime-dir=DIR   Monitor sockets and state (default " WARREN_RUNTIME_DIR ")\n"
               "     --cache-dir=DIR     Image cache (default " WARREN_CACHE_DIR ")\n"
               "     --config-dir=DIR    System configuration (default " WARREN_CONFIG_DIR ")\n"
               "     --data-dir=DIR      Shipped data: default.conf, shared configs "
               "(default " WARREN_DATA_DIR ")\n"
               "     --monitor-path=PATH warren-monitor binary (default " WARREN_MONITOR_PATH ")\n"
               "     --worker-path=PATH  warren-worker binary (default " WARREN_WORKER_PATH ")\n"
               "     --exit-idle-sec=SEC Exit after SEC idle seconds; 0 never (default %d)\n"
               "     --pool-size=N       Warm monitors kept for fast starts; 0 none (default %d)\n"
               "     --user              Use the session bus (for development only)\n",
               DEFAULT_EXIT_IDLE_SEC, DEFAULT_POOL_SIZE);
}

static int set_path(char **dst, const char *src) {
        if (src[0] != '/') {
                fprintf(stderr, "Path '%s' must be absolute.\n", src);
                return -EINVAL;
        }
        char *c = strdup(src);
        if (!c)
                return -ENOMEM;
        free(*dst);
        *dst = c;
        return 0;
}

static int parse_argv(Daemon *d, int argc, char *argv[], bool *ret_user_bus) {
        enum {
                ARG_VERSION = 0x100,
                ARG_STATE_DIR,
                ARG_RUNTIME_DIR,
                ARG_CACHE_DIR,
                ARG_CONFIG_DIR,
                ARG_DATA_DIR,
                ARG_MONITOR_PATH,
                ARG_WORKER_PATH,
                ARG_EXIT_IDLE_SEC,
                ARG_POOL_SIZE,
                ARG_USER,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "runtime-dir", required_argument, NULL, ARG_RUNTIME_DIR },
                { "cache-dir", required_argument, NULL, ARG_CACHE_DIR },
                { "config-dir", required_argument, NULL, ARG_CONFIG_DIR },
                { "data-dir", required_argument, NULL, ARG_DATA_DIR },
                { "monitor-path", required_argument, NULL, ARG_MONITOR_PATH },
                { "worker-path", required_argument, NULL, ARG_WORKER_PATH },
                { "exit-idle-sec", required_argument, NULL, ARG_EXIT_IDLE_SEC },
                { "pool-size", required_argument, NULL, ARG_POOL_SIZE },
                { "user", no_argument, NULL, ARG_USER },
                {},
        };
        int c, r = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("warrend %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_STATE_DIR:
                        r = set_path(&d->state_dir, optarg);
                        break;
                case ARG_RUNTIME_DIR:
                        r = set_path(&d->runtime_dir, optarg);
                        break;
                case ARG_CACHE_DIR:
                        r = set_path(&d->cache_dir, optarg);
                        break;
                case ARG_CONFIG_DIR:
                        r = set_path(&d->config_dir, optarg);
                        break;
                case ARG_DATA_DIR:
                        r = set_path(&d->data_dir, optarg);
                        break;
                case ARG_MONITOR_PATH:
                        r = set_path(&d->monitor_path, optarg);
                        break;
                case ARG_WORKER_PATH:
                        r = set_path(&d->worker_path, optarg);
                        break;
                case ARG_EXIT_IDLE_SEC: {
                        char *end;
                        errno = 0;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (errno || *end || !*optarg || v > 86400UL * 365) {
                                fprintf(stderr, "Invalid --exit-idle-sec '%s'.\n", optarg);
                                return -EINVAL;
                        }
                        d->exit_idle_usec = (uint64_t) v * 1000000ULL;
                        break;
                }
                case ARG_POOL_SIZE: {
                        char *end;
                        errno = 0;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (errno || *end || !*optarg || optarg[0] == '-' || v > 64) {
                                fprintf(stderr, "Invalid --pool-size '%s': expected 0..64.\n", optarg);
                                return -EINVAL;
                        }
                        d->pool_size = (unsigned) v;
                        break;
                }
                case ARG_USER:
                        *ret_user_bus = true;
                        break;
                default:
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }
        if (optind < argc) {
                fprintf(stderr, "Unexpected argument '%s'.\n", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

static int daemon_set_defaults(Daemon *d) {
        static const struct {
                size_t offset;
                const char *value;
        } defaults[] = {
                { offsetof(Daemon, state_dir), WARREN_STATE_DIR },
                { offsetof(Daemon, runtime_dir), WARREN_RUNTIME_DIR },
                { offsetof(Daemon, cache_dir), WARREN_CACHE_DIR },
                { offsetof(Daemon, config_dir), WARREN_CONFIG_DIR },
                { offsetof(Daemon, data_dir), WARREN_DATA_DIR },
                { offsetof(Daemon, monitor_path), WARREN_MONITOR_PATH },
                { offsetof(Daemon, worker_path), WARREN_WORKER_PATH },
        };
        for (size_t i = 0; i < ELEMENTSOF(defaults); i++) {
                char **p = (char **) ((uint8_t *) d + defaults[i].offset);
                if (!*p && !(*p = strdup(defaults[i].value)))
                        return -ENOMEM;
        }
        return 0;
}

static int daemon_setup_bus(Daemon *d, bool user_bus) {
        int r = user_bus ? sd_bus_open_user(&d->bus) : sd_bus_open_system(&d->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the bus: %m");
        r = sd_bus_add_filter(d->bus, NULL, activity_filter, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add bus filter: %m");
        r = sd_bus_add_object_vtable(d->bus, NULL, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE, manager_vtable,
                                     d);
        if (r < 0)
                return log_error_errno(r, "Failed to add manager vtable: %m");
        r = sd_bus_add_object_vtable(d->bus, NULL, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE,
                                     image_manager_vtable, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add image manager vtable: %m");
        r = sd_bus_add_fallback_vtable(d->bus, NULL, WARREN_IMAGE_PREFIX, WARREN_IMAGE_IFACE, image_vtable,
                                       image_object_find, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add image vtable: %m");
        r = sd_bus_add_node_enumerator(d->bus, NULL, WARREN_IMAGE_PREFIX, image_node_enumerator, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add image enumerator: %m");
        r = sd_bus_add_fallback_vtable(d->bus, NULL, WARREN_CONTAINER_PREFIX, WARREN_CONTAINER_IFACE,
                                       container_vtable, container_object_find, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add container vtable: %m");
        r = sd_bus_add_node_enumerator(d->bus, NULL, WARREN_CONTAINER_PREFIX, container_node_enumerator, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add container enumerator: %m");
        r = data_dbus_register(d);
        if (r < 0)
                return r;
        if ((r = stats_dbus_register(d)) < 0)
                return r;
        r = sd_bus_add_fallback_vtable(d->bus, NULL, WARREN_JOB_PREFIX, WARREN_JOB_IFACE, job_vtable,
                                       job_object_find, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add job vtable: %m");
        r = sd_bus_add_node_enumerator(d->bus, NULL, WARREN_JOB_PREFIX, job_node_enumerator, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add job enumerator: %m");
        r = sd_bus_add_fallback_vtable(d->bus, NULL, WARREN_NETWORK_PREFIX, WARREN_NETWORK_IFACE,
                                       network_vtable, network_object_find, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add network vtable: %m");
        r = sd_bus_add_node_enumerator(d->bus, NULL, WARREN_NETWORK_PREFIX, network_node_enumerator, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add network enumerator: %m");
        r = sd_bus_add_object_manager(d->bus, NULL, WARREN_MANAGER_PATH);
        if (r < 0)
                return log_error_errno(r, "Failed to add object manager: %m");
        r = sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach bus to event loop: %m");
        r = sd_bus_request_name(d->bus, WARREN_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire name " WARREN_BUS_NAME ": %m");
        return 0;
}

int main(int argc, char *argv[]) {
        Daemon d = { .exit_idle_usec = DEFAULT_EXIT_IDLE_SEC * 1000000ULL, .pool_size = DEFAULT_POOL_SIZE };
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        bool user_bus = false;
        int r;

        log_set_prefix("warrend");
        log_parse_environment();
        umask(0022);
        bump_nofile();

        /* Under systemd a monitor puts itself in a scope of its own at
         * Start (systemd-scope.h), where a warm monitor's spare cgroups do
         * not fit, and a warm monitor waiting in warrend.service would be a
         * left-over process at every idle exit: no pool unless asked for. */
        if (systemd_is_running())
                d.pool_size = 0;
        r = parse_argv(&d, argc, argv, &user_bus);
        if (r <= 0)
                goto finish;
        r = daemon_set_defaults(&d);
        if (r < 0)
                goto finish;
        bus_error_register_mapping();

        r = store_open(d.state_dir, &d.store, &err);
        if (r < 0) {
                log_error("Failed to open the container store: %s", warren_error_message(&err));
                goto finish;
        }
        (void) store_cleanup_stale(d.store);
        /* Mounts of cgroup hierarchies do not change under a running host. */
        (void) cgroup_layout_detect(&d.cgroup_layout, NULL);
        r = mkdir_p(d.runtime_dir, 0755);
        if (r < 0) {
                log_error_errno(r, "Failed to create %s: %m", d.runtime_dir);
                goto finish;
        }

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        r = sd_event_default(&d.event);
        if (r < 0)
                goto finish;
        (void) sd_event_add_signal(d.event, NULL, SIGTERM, NULL, NULL);
        (void) sd_event_add_signal(d.event, NULL, SIGINT, NULL, NULL);
        /* SIGCHLD stays blocked: every child (monitors, attached processes)
         * is reaped by its own sd-event child source. */

        r = daemon_setup_bus(&d, user_bus);
        if (r < 0)
                goto finish;
        networks_ensure_all(&d);
        (void) runtime_adopt_all(&d);
        runtime_pool_init(&d);
        daemon_touch(&d);
        notify_ready(&d);
        log_debug("Ready.");

        r = sd_event_loop(d.event);
        if (r < 0)
                log_error_errno(r, "Event loop failed: %m");
        /* Give up the name first so new callers activate a fresh instance,
         * then answer whatever was queued to us already. */
        (void) sd_bus_release_name(d.bus, WARREN_BUS_NAME);
        while (sd_bus_process(d.bus, NULL) > 0)
                ;

finish:
        daemon_free(&d);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
