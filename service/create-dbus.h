/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Manager.CreateContainer: busybox here; download/local in image-dbus.c. */
int method_create_container(sd_bus_message *m, void *userdata, sd_bus_error *error);
