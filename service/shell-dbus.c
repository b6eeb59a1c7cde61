/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Ways into a running container: consoles and their log (Attach lives in
 * attach-dbus.c). The monitor holds the pty masters; we hand the caller a
 * proxy master as a file descriptor. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "bus-error.h"
#include "bus-util.h"
#include "daemon.h"
#include "monitor-client.h"
#include "polkit.h"
#include "runtime.h"
#include "shell-dbus.h"

/* ttys past this cannot exist (lxc.tty.max is bounded the same way). */
#define TTY_MAX 64U

static int map_monitor_error(sd_bus_error *error, const char *name, int r, const WarrenError *err) {
        if (r == -ESRCH)
                return sd_bus_error_setf(error, WARREN_ERROR_NOT_RUNNING, "Container '%s' is not running",
                                         name);
        if (r == -EBUSY)
                return sd_bus_error_set(error, WARREN_ERROR_BUSY, warren_error_message(err)), r;
        if (r == -EINVAL)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, warren_error_message(err)), r;
        return bus_error_from_warren(error, r, err);
}

static int do_open_console(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL, *tty_name = NULL;
        _cleanup_close_ int fd = -EBADF, master = -EBADF;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        uint32_t tty;
        int r = runtime_target(d, m, &name, NULL, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "u", &tty);
        if (r < 0)
                return r;
        r = runtime_connect(d, name, &fd);
        if (r >= 0)
                r = monitor_get_tty(fd, tty, &master, &tty_name, &err);
        if (r < 0)
                return map_monitor_error(error, name, r, &err);
        return sd_bus_reply_method_return(m, "hs", master, tty_name);
}

int method_open_console(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        uid_t owner, caller;
        uint32_t tty;
        int r = runtime_target(d, m, &name, &owner, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "u", &tty);
        if (r < 0)
                return r;
        if (tty > TTY_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid tty %u: at most %u ttys exist", tty, TTY_MAX);
        r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        const PolkitDetails det = { .container = name, .owner = owner };
        return polkit_authorize(
                d, m, polkit_pick_action(caller, owner, "org.warren1.shell-own", "org.warren1.shell"), &det,
                do_open_console, d, error);
}

static int do_get_console_log(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *name = NULL, *data = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        size_t size = 0;
        int r = runtime_target(d, m, &name, NULL, error);
        if (r < 0)
                return r;
        r = runtime_connect(d, name, &fd);
        if (r >= 0)
                r = monitor_get_console_log(fd, &data, &size, &err);
        if (r < 0)
                return map_monitor_error(error, name, r, &err);
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', data, size);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int method_get_console_log(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        uid_t owner, caller;
        int r = runtime_target(d, m, &name, &owner, error);
        if (r < 0)
                return r;
        r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        /* The owner reads their own boot log; anyone else's is managing it. */
        if (caller == owner) {
                r = sd_bus_message_rewind(m, true);
                if (r < 0)
                        return r;
                return do_get_console_log(m, userdata, error);
        }
        const PolkitDetails det = { .container = name, .owner = owner };
        return polkit_authorize(d, m, "org.warren1.manage", &det, do_get_console_log, d, error);
}
