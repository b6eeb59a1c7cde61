/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* warrend's view of running containers: it asks each container's monitor
 * (through lib/monitor-client) and keeps nothing that matters itself. */

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

/* Never fails: a container without a live monitor is STOPPED. */
void runtime_get_info(Daemon *d, const char *name, RuntimeInfo *ret);
void runtime_info_done(RuntimeInfo *i);
bool runtime_is_active(Daemon *d, const char *name);
int runtime_append_namespaces(sd_bus_message *reply, pid_t init_pid);
int runtime_append_addresses(sd_bus_message *reply, pid_t init_pid, int family);

