/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container.GetStats and Manager.GetStatsAll (see stats-dbus.h). */
#include <errno.h>
#include <stdlib.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "bus-error.h"
#include "bus-util.h"
#include "daemon.h"
#include "polkit.h"
#include "runtime.h"
#include "stats-dbus.h"
#include "stats.h"
#include "store.h"

static int append_u64(sd_bus_message *m, const char *key, uint64_t v) {
        return sd_bus_message_append(m, "{sv}", key, "t", v);
}

/* a{sv}: only the fields the host could tell. */
static int append_stats(sd_bus_message *m, const ContainerStats *s) {
        static const struct {
                const char *key;
                StatsField field;
                size_t offset;
        } fields[] = {
                { "cpu_usec", STATS_CPU, offsetof(ContainerStats, cpu_usec) },
                { "memory_bytes", STATS_MEMORY, offsetof(ContainerStats, memory_bytes) },
                { "memory_peak_bytes", STATS_MEMORY_PEAK, offsetof(ContainerStats, memory_peak_bytes) },
                { "swap_bytes", STATS_SWAP, offsetof(ContainerStats, swap_bytes) },
                { "io_read_bytes", STATS_IO, offsetof(ContainerStats, io_read_bytes) },
                { "io_write_bytes", STATS_IO, offsetof(ContainerStats, io_write_bytes) },
                { "net_rx_bytes", STATS_NET, offsetof(ContainerStats, net_rx_bytes) },
                { "net_tx_bytes", STATS_NET, offsetof(ContainerStats, net_tx_bytes) },
                { "uptime_usec", STATS_UPTIME, offsetof(ContainerStats, uptime_usec) },
        };
        int r = sd_bus_message_open_container(m, 'a', "{sv}");
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(fields); i++)
                if (s->have & fields[i].field)
                        r = append_u64(m, fields[i].key,
                                       *(const uint64_t *) ((const char *) s + fields[i].offset));
        if (r >= 0 && (s->have & STATS_PIDS))
                r = sd_bus_message_append(m, "{sv}", "pids", "u", s->pids);
        if (r >= 0 && (s->have & STATS_NET)) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "nics");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "a(stt)");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "(stt)");
                for (size_t i = 0; r >= 0 && i < s->n_nics; i++)
                        r = sd_bus_message_append(m, "(stt)", s->nics[i].name, s->nics[i].rx_bytes,
                                                  s->nics[i].tx_bytes);
                for (unsigned i = 0; r >= 0 && i < 3; i++)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* The stats of a container that runs: 1 read, 0 if it does not run (or
 * stopped meanwhile), <0 on error. */
static int read_container(Daemon *d, const char *name, ContainerStats *ret, WarrenError *reterr) {
        RuntimeInfo info;
        runtime_get_info(d, name, &info);
        if (info.init_pid <= 0 || !d->cgroup_layout)
                return 0;
        int r = stats_read(d->cgroup_layout, info.cgroup, info.init_pid, ret, reterr);
        if (r == -ESRCH)
                return 0;
        return r < 0 ? r : 1;
}

static int do_get_stats(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *name = NULL;
        ContainerStats s = {};
        int r = bus_message_container(d, m, &name, NULL, error);
        if (r < 0)
                return r;
        r = read_container(d, name, &s, &err);
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        if (r == 0)
                return sd_bus_error_setf(error, WARREN_ERROR_NOT_RUNNING, "Container '%s' is not running",
                                         name);
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = append_stats(reply, &s);
        container_stats_done(&s);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

/* The owner reads its own, as its properties; others need manage. */
int method_container_get_stats(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        uid_t owner, caller;
        int r = bus_message_container(d, m, &name, &owner, error);
        if (r >= 0)
                r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        if (caller == 0 || caller == owner) {
                r = sd_bus_message_rewind(m, true);
                return r < 0 ? r : do_get_stats(m, d, error);
        }
        const PolkitDetails det = { .container = name, .owner = owner };
        return polkit_authorize(d, m, "org.warren1.manage", &det, do_get_stats, d, error);
}

/* Every running container the caller may read: all with manage, else
 * its own. A container that fails to read is left out (and logged), never
 * failing the listing for the others. */
static int reply_stats_all(sd_bus_message *m, void *userdata, bool all, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **names = NULL;
        uid_t caller;
        int r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        r = store_list(d->store, &names);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to list containers: %m");
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sa{sv})");
        STRV_FOREACH(n, names) {
                _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
                ContainerStats s = {};
                uid_t owner;
                if (r < 0)
                        break;
                if (!all && (store_get_owner(d->store, *n, &owner) < 0 || owner != caller))
                        continue;
                int k = read_container(d, *n, &s, &err);
                if (k < 0)
                        log_warning("Cannot read the stats of container '%s': %s", *n,
                                    warren_error_message(&err));
                if (k <= 0)
                        continue;
                r = sd_bus_message_open_container(reply, 'r', "sa{sv}");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", *n);
                if (r >= 0)
                        r = append_stats(reply, &s);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                container_stats_done(&s);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int method_get_stats_all(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        /* Granted without naming a container: a rule that grants manage
         * only for some containers is not enough to list everyone's. */
        const PolkitDetails det = { .owner = (uid_t) -1 };
        return polkit_decide(d, m, "org.warren1.manage", &det, reply_stats_all, d, error);
}

static const sd_bus_vtable stats_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("GetStatsAll", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sa{sv})", stats),
                                method_get_stats_all, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int stats_dbus_register(Daemon *d) {
        int r = sd_bus_add_object_vtable(d->bus, NULL, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE,
                                         stats_manager_vtable, d);
        if (r < 0)
                return log_error_errno(r, "Failed to add the stats manager vtable: %m");
        return 0;
}
