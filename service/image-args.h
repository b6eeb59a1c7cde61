/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The template arguments of "download" (lxc-download's) and "local", as
 * CreateContainer and PullImage take them. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

typedef struct ImageArgs {
        bool local;
        /* download: lxc-download's options; the names are borrowed */
        const char *dist, *release, *arch, *variant, *server;
        bool no_verify, flush_cache, force_cache;
        unsigned timeout_s; /* warren's: connect and stall timeout of each attempt; 0: the default */
        uint64_t max_size;  /* warren's: lowers the size limit of every download; 0: the defaults */
        /* local */
        const char *fstree, *metadata;
} ImageArgs;

/* Parses and checks args for template tmpl ("download" or "local"):
 * InvalidArgs naming the bad argument. Names are borrowed from args. arch
 * defaults to the host's, variant to "default"; the server (a remote's name
 * or a URL) is resolved later, against remotes.conf. */
int parse_image_args(const char *tmpl, char *const *args, ImageArgs *ret, sd_bus_error *error);
