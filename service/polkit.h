/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct Daemon Daemon;

/* What a method does once the caller is authorized; has the contract of an
 * sd-bus method handler (reply, or return <0 / set error). It may be called
 * synchronously (root) or later from the polkit reply, with the message
 * rewound so it can read its arguments again. */
typedef int (*AuthorizedFunc)(sd_bus_message *m, void *userdata, sd_bus_error *error);

typedef struct PolkitDetails {
        const char *container; /* NULL if none */
        uid_t owner;           /* (uid_t) -1 if none */
        const char *extra_key; /* one more detail, e.g. "command_line" */
        const char *extra_value;
        const char *why; /* said in the AccessDenied message, e.g. the key that needs the action */
} PolkitDetails;

/* Root callers are authorized at once (cont runs now). Everyone else is
 * checked with CheckAuthorization, subject system-bus-name of the sender,
 * asynchronously; cont runs when polkit says yes, AccessDenied otherwise.
 * A check in flight counts as a pending call of its sender (bus-util.h):
 * QuotaExceeded beyond the caps. Nothing here ever waits for polkit.
 * Returns what the handler should return. */
int polkit_authorize(Daemon *d, sd_bus_message *m, const char *action, const PolkitDetails *details,
                     AuthorizedFunc cont, void *userdata, sd_bus_error *error);

/* The action for acting on a container: own_action if the caller owns it,
 * other_action otherwise. */
const char *polkit_pick_action(uid_t caller, uid_t owner, const char *own_action, const char *other_action);
