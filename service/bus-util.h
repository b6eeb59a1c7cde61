/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small helpers shared by the interface files. They call nothing above
 * them: no interface, no polkit, no runtime. */

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct Daemon Daemon;
typedef struct LxcConfig LxcConfig;

/* bus_caller_uid() (daemon.h) remembers a few senders' uids; this forgets them. */
void bus_caller_cache_free(void);

/* Validates a container name from a caller: InvalidName naming it. */
int bus_validate_name(const char *name, sd_bus_error *error);

/* Takes ownership of name. Checks the container exists (NoSuchContainer
 * naming it otherwise) and returns its name and, with ret_owner, its owner:
 * a damaged owner file is InvalidConfig naming the file. */
int bus_container_lookup(Daemon *d, char *name, char **ret_name, uid_t *ret_owner, sd_bus_error *error);
/* The container a method acts on: Manager shortcuts pass its name as their
 * first argument (read here), Container methods have it in their path.
 * Then as bus_container_lookup(). */
int bus_message_container(Daemon *d, sd_bus_message *m, char **ret_name, uid_t *ret_owner,
                          sd_bus_error *error);

/* a(ss) <-> strv of alternating key, value. Reading rejects NUL-free but
 * absurd input (too many items, empty keys) with InvalidArgs. */
int bus_append_config_items(sd_bus_message *m, const LxcConfig *c);
int bus_read_config_items(sd_bus_message *m, char ***ret_kv, sd_bus_error *error);

/* prefix/<name escaped with sd_bus_path_encode> for each name: what a
 * node enumerator returns. */
int bus_paths_from_names(const char *prefix, char *const *names, char ***ret);

/* Work a caller makes warrend hold while it waits (a polkit check, a
 * request to a monitor, a WaitAttached): at most BUS_PENDING_PER_SENDER
 * per connection and BUS_PENDING_PER_USER per user; root is not capped.
 * Beyond, QuotaExceeded naming the cap. */
#define BUS_PENDING_PER_SENDER 32U
#define BUS_PENDING_PER_USER 128U
typedef struct BusPending {
        char *sender; /* NULL: holds nothing */
        uid_t uid;
} BusPending;
int bus_pending_acquire(sd_bus_message *m, BusPending *ret, sd_bus_error *error);
void bus_pending_release(BusPending *p);
