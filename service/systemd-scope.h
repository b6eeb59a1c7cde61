/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Transient systemd scopes for what warren runs, when PID 1 is systemd
 * (sd_booted()): each container (its monitor and, below it, its payload)
 * in warren-NAME.scope under machine.slice with Delegate=yes, as
 * systemd-nspawn and libvirt do; a network's dnsmasq in
 * warren-dnsmasq-NETWORK.scope. Without systemd nothing here is called and
 * the layout stays warren's own (/warren/NAME at each hierarchy's root).
 *
 * A container's scope is ordered after network.target and remote-fs.target
 * (so stopped before them at shutdown) and wants warren-halt@NAME.service
 * (units/), whose stop halts the container through its monitor's socket:
 * at shutdown, or when the scope is stopped, the container gets its halt
 * signal, a timeout, then SIGKILL, with or without warrend running. Should
 * the scope itself be stopped first, the monitor takes its SIGTERM as the
 * same clean stop. */

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "basic/error.h"

/* After the stop timeout and the kill, the monitor tears down: the
 * scope's TimeoutStopSec covers a stop at the default timeout. */
#define WARREN_SCOPE_TIMEOUT_STOP_USEC (90ULL * 1000000ULL)

/* PID 1 is systemd. */
bool systemd_is_running(void);

/* The unit names: "warren-NAME.scope", "warren-halt@NAME.service",
 * "warren-dnsmasq-NAME.scope" (malloc'd, NULL on ENOMEM). */
char *systemd_scope_name(const char *container);
char *systemd_halt_unit_name(const char *container);
char *systemd_dnsmasq_scope_name(const char *network);

/* For warren-monitor, before it makes anything of its container: moves the
 * calling process into a new warren-NAME.scope and waits (blocking, with a
 * deadline) until systemd says the scope runs. 1 once in it; 0 if PID 1 is
 * not systemd; <0 with reterr naming what systemd answered. */
int systemd_scope_enter(const char *container, WarrenError *reterr);

/* For warrend: moves pid (a child it spawned, e.g. dnsmasq) into a new
 * scope unit under system.slice, asynchronously: failures are logged,
 * never waited for. */
int systemd_scope_adopt_async(sd_bus *bus, const char *unit, const char *description, pid_t pid);
