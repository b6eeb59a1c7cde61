/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* org.warren1.Container methods for ways into a running container. */
int method_open_console(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_get_console_log(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_attach(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_wait_attached(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_kill_attached(sd_bus_message *m, void *userdata, sd_bus_error *error);
void attach_free_all(void);
