/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container.Export, PullFiles and PushFiles (see data-dbus.h). */
#include <errno.h>

#include "data-dbus.h"

int data_files_validate(Daemon *d, DataRequest *q, sd_bus_error *error) {
        return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED, "Not implemented yet");
}

int data_files_start(Daemon *d, sd_bus_message *m, DataRequest *q, sd_bus_error *error) {
        return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED, "Not implemented yet");
}
