/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "basic/error.h"

typedef struct Store Store;
typedef struct CgroupLayout CgroupLayout;
typedef struct Job Job;

#define WARREN_BUS_NAME "org.warren1"
#define WARREN_MANAGER_PATH "/org/warren1"
#define WARREN_CONTAINER_PREFIX "/org/warren1/container"
#define WARREN_JOB_PREFIX "/org/warren1/job"
#define WARREN_MANAGER_IFACE "org.warren1.Manager"
#define WARREN_CONTAINER_IFACE "org.warren1.Container"
#define WARREN_JOB_IFACE "org.warren1.Job"

typedef struct Daemon {
        sd_event *event;
        sd_bus *bus;

        char *state_dir;
        char *runtime_dir;
        char *cache_dir;
        char *config_dir;
        char *data_dir;
        char *monitor_path;
        char *worker_path; /* warren-worker: the daemon's long work (lib/worker.h) */

        unsigned pool_size; /* warm monitors kept (runtime-pool.c) */

        Store *store;
        CgroupLayout *cgroup_layout; /* detected once, at start */

        Job *jobs;
        uint32_t last_job_id;

        /* Work in flight that keeps us from exiting on idle. */
        unsigned n_pending;
        uint64_t exit_idle_usec;
        sd_event_source *idle_timer;
} Daemon;

/* Called for anything that should push the idle exit further away. */
void daemon_touch(Daemon *d);
void daemon_hold(Daemon *d);
void daemon_release(Daemon *d);

/* Interfaces (one file each). */
extern const sd_bus_vtable manager_vtable[];
extern const sd_bus_vtable container_vtable[];
extern const sd_bus_vtable job_vtable[];
int container_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                          sd_bus_error *error);
int container_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                              sd_bus_error *error);
int job_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error);
int job_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);

/* Object paths; malloc'd. */
char *container_bus_path(const char *name);
/* Name from a container object path, validated; malloc'd or NULL. */
char *container_name_from_path(const char *path);

/* Caller's effective uid; its pid (0 if the bus does not tell). */
int bus_caller_uid(sd_bus_message *m, uid_t *ret);
int bus_caller_pid(sd_bus_message *m, pid_t *ret);
