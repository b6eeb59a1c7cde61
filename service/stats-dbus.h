/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Resource use on the bus (issue 18): org.warren1.Container.GetStats()
 * and org.warren1.Manager.GetStatsAll(), each a vtable of its own beside
 * the interface's main one (sd-bus merges them into one interface).
 *
 * Who reads: root, the owner, and holders of org.warren1.manage (for
 * GetStatsAll granted without naming a container: one check, never
 * interactive, and its "no" only narrows the list to one's own). Runtime
 * state comes from warrend's cache (runtime.h), the numbers from the
 * kernel (lib/stats.h): no call waits on a monitor. */

typedef struct Daemon Daemon;

/* Registers both vtables (warrend.c calls it once). */
int stats_dbus_register(Daemon *d);
