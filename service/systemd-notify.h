/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* warrend's word to its service manager (sd_notify): READY=1 once it
 * serves the bus, and STATUS= with how many containers run ("2 of 5
 * containers running"), shown by systemctl status warrend. Nothing when
 * no service manager listens ($NOTIFY_SOCKET unset). */

typedef struct Daemon Daemon;

void notify_ready(Daemon *d);
/* Something changed (a state, a container made or destroyed): the status
 * is sent once the event loop is idle, not once per change. */
void notify_status_changed(Daemon *d);
void notify_free(Daemon *d);
