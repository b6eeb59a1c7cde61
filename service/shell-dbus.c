/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Ways into a running container: consoles and their log (Attach lives in
 * attach-dbus.c). The monitor holds the pty masters; we hand the caller a
 * proxy master as a file descriptor, asked for on the event loop with a
 * deadline (runtime_request()), never waiting on the monitor. */
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

static int reply_console(sd_bus_message *request, MonitorMessage *msg, const char *name) {
        if (msg->fd < 0)
                return sd_bus_reply_method_errorf(request, SD_BUS_ERROR_FAILED,
                                                  "The monitor of '%s' sent no pty with its reply", name);
        return sd_bus_reply_method_return(request, "hs", msg->fd, msg->text);
}

static int do_open_console(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        uint32_t tty;
        int r = bus_message_container(d, m, &name, NULL, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "u", &tty);
        if (r < 0)
                return r;
        return runtime_request(d, m, name, MONITOR_CMD_GET_TTY, tty, 0, reply_console, error);
}

int method_open_console(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        uid_t owner, caller;
        uint32_t tty;
        int r = bus_message_container(d, m, &name, &owner, error);
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

static int reply_console_log(sd_bus_message *request, MonitorMessage *msg, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        int r = msg->fd < 0
                        ? warren_error_set(&err, EBADMSG, "The monitor of '%s' sent no console log", name)
                        : monitor_read_console_log(msg->fd, &data, &size, &err);
        if (r < 0)
                return sd_bus_reply_method_errorf(request, SD_BUS_ERROR_FAILED, "%s",
                                                  warren_error_message(&err));
        r = sd_bus_message_new_method_return(request, &reply);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', data, size);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int do_get_console_log(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        int r = bus_message_container(d, m, &name, NULL, error);
        if (r < 0)
                return r;
        return runtime_request(d, m, name, MONITOR_CMD_GET_CONSOLE_LOG, 0, 0, reply_console_log, error);
}

int method_get_console_log(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_free_ char *name = NULL;
        uid_t owner, caller;
        int r = bus_message_container(d, m, &name, &owner, error);
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
