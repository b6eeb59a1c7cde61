/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.freedesktop.machine1.Manager.RegisterMachineWithNetwork (see
 * systemd-machined.h). */
#include <errno.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "basic/macro.h"
#include "systemd-machined.h"

#define MACHINED_DEST "org.freedesktop.machine1"
#define MACHINED_PATH "/org/freedesktop/machine1"
#define MACHINED_MANAGER "org.freedesktop.machine1.Manager"
/* machined may be bus-activated by the first call. */
#define MACHINED_TIMEOUT_USEC (25ULL * 1000000ULL)

int machined_register(const char *name, pid_t leader, const char *root_directory, const int *ifindexes,
                      size_t n_ifindexes, bool replace, WarrenError *reterr) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_open_system(&bus);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to connect to the system bus: %s", strerror(-r));
        (void) sd_bus_set_method_call_timeout(bus, MACHINED_TIMEOUT_USEC);
        if (replace) {
                r = sd_bus_call_method(bus, MACHINED_DEST, MACHINED_PATH, MACHINED_MANAGER,
                                       "UnregisterMachine", &error, NULL, "s", name);
                sd_bus_error_free(&error);
        }
        r = sd_bus_message_new_method_call(bus, &m, MACHINED_DEST, MACHINED_PATH, MACHINED_MANAGER,
                                           "RegisterMachineWithNetwork");
        /* No id of our own: machined takes the container's /etc/machine-id. */
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', NULL, 0);
        if (r >= 0)
                r = sd_bus_message_append(m, "ssus", "warren", "container", (uint32_t) leader,
                                          root_directory ?: "");
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'i', ifindexes, n_ifindexes * sizeof(int));
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to build the machined call: %s", strerror(-r));
        r = sd_bus_call(bus, m, 0, &error, NULL);
        if (r >= 0)
                return 0;
        if (sd_bus_error_has_names(&error, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                return warren_error_set(reterr, EHOSTDOWN, "systemd-machined is not available: %s",
                                        error.message);
        return warren_error_set(reterr, r, "systemd-machined refused container '%s': %s", name,
                                error.message ?: strerror(-r));
}
