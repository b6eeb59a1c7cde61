/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* warrend's view of running containers: it asks each container's monitor
 * (lib/monitor-client) and keeps nothing that matters itself. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct Daemon Daemon;

typedef struct RuntimeInfo {
        const char *state; /* static string */
        pid_t init_pid;
        char *cgroup;
        uint64_t memory_current;
} RuntimeInfo;

/* A blocking connection to NAME's monitor with short timeouts; -ESRCH if
 * it is not running. */
int runtime_connect(Daemon *d, const char *name, int *ret_fd);
/* The Container's name (from the path) checked to exist, and its owner. */
int runtime_target(Daemon *d, sd_bus_message *m, char **ret_name, uid_t *ret_owner, sd_bus_error *error);

/* Never fails: a container without a live monitor is STOPPED. */
void runtime_get_info(Daemon *d, const char *name, bool want_memory, RuntimeInfo *ret);
void runtime_info_done(RuntimeInfo *i);
bool runtime_is_active(Daemon *d, const char *name);
int runtime_append_namespaces(sd_bus_message *reply, pid_t init_pid);
int runtime_append_addresses(sd_bus_message *reply, pid_t init_pid, int family);

/* Subscribes to every live monitor (re-adoption after a restart). */
int runtime_adopt_all(Daemon *d);
void runtime_free_all(Daemon *d);

/* Container methods acting through the monitor; the name comes from the
 * object path (Container) or the first argument (Manager shortcuts). */
int method_container_start(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_container_stop(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_container_reboot(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_container_kill(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_container_freeze(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_container_unfreeze(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_manager_start(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_manager_stop(sd_bus_message *m, void *userdata, sd_bus_error *error);
