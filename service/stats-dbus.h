/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Resource use on the bus (issue 18): org.warren1.Container.GetStats()
 * (an entry of container_vtable: sd-bus 252 asserts when it signals an
 * invalidated property of an interface that has a second fallback
 * vtable) and org.warren1.Manager.GetStatsAll() (a vtable of its own
 * beside manager_vtable, merged by sd-bus into the interface).
 *
 * Who reads: root, the owner, and holders of org.warren1.manage (for
 * GetStatsAll granted without naming a container: one check, never
 * interactive, and its "no" only narrows the list to one's own). Runtime
 * state comes from warrend's cache (runtime.h), the numbers from the
 * kernel (lib/stats.h): no call waits on a monitor. */

#include <systemd/sd-bus.h>

typedef struct Daemon Daemon;

/* Container.GetStats() → a{sv}. */
int method_container_get_stats(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* Registers the Manager vtable (warrend.c calls it once). */
int stats_dbus_register(Daemon *d);
