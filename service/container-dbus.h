/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

typedef struct Daemon Daemon;

/* org.warren1.Container methods that Manager also offers as shortcuts
 * taking the name first (StartContainer, StopContainer, DestroyContainer). */
int method_container_start(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_container_stop(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_container_destroy(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* ObjectManager's InterfacesAdded for a new container (with only what
 * anyone may read, and true for everyone: a signal has no caller), and
 * InterfacesRemoved for a destroyed one. */
int container_emit_added(Daemon *d, const char *name);
int container_emit_removed(Daemon *d, const char *name);
