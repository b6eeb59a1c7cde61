/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct Daemon Daemon;
typedef struct LxcConfig LxcConfig;

/* Takes ownership of name. Checks the container exists (NoSuchContainer
 * naming it otherwise) and returns its name and owner. */
int bus_container_lookup(Daemon *d, char *name, char **ret_name, uid_t *ret_owner, sd_bus_error *error);
/* Validates a container name from a caller: InvalidName naming it. */
int bus_validate_name(const char *name, sd_bus_error *error);

/* a(ss) <-> strv of alternating key, value. Reading rejects NUL-free but
 * absurd input (too many items, empty keys) with InvalidArgs. */
int bus_append_config_items(sd_bus_message *m, const LxcConfig *c);
int bus_read_config_items(sd_bus_message *m, char ***ret_kv, sd_bus_error *error);

/* Shared by Manager.DestroyContainer and Container.Destroy. */
int bus_destroy_container(Daemon *d, sd_bus_message *m, const char *name, sd_bus_error *error);

/* prefix/<name escaped with sd_bus_path_encode> for each name: what a
 * node enumerator returns. */
int bus_paths_from_names(const char *prefix, char *const *names, char ***ret);
