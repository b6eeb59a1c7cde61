/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Containers known to systemd-machined (machinectl list/status, systemctl
 * -M, journalctl -M): registered with their init as leader, class
 * "container", service "warren", their root directory and the host ends
 * of their network interfaces. machined ties the machine to the unit the
 * leader runs in (warren-NAME.scope, systemd-scope.h) and forgets it when
 * that unit goes. Blocking calls, for warren-monitor's helper processes. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "basic/error.h"

/* replace: unregister a machine of that name first (ours, from before a
 * reboot of the container: its leader is gone). -EHOSTDOWN if machined is
 * not installed. */
int machined_register(const char *name, pid_t leader, const char *root_directory, const int *ifindexes,
                      size_t n_ifindexes, bool replace, WarrenError *reterr);
