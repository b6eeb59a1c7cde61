/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* warren-monitor does not link libsystemd: only on a systemd host does it
 * talk to systemd (its scope, machined), and linking libsystemd and its
 * libraries (gcrypt, lzma, zstd, lz4) costs every running container's
 * monitor memory. lazy-libsystemd.c defines the sd-bus functions that
 * systemd-scope.c and systemd-machined.c call, each calling the real one
 * of libsystemd.so.0, loaded by lazy_libsystemd_load(). warrend links
 * libsystemd itself and has none of this. */

#include "basic/error.h"

/* Loads libsystemd.so.0 and looks up every function, once. 0 when loaded;
 * -ELIBACC naming the library and what failed. Until it succeeds, each
 * function fails (-ELIBACC, or NULL) without doing anything. */
int lazy_libsystemd_load(WarrenError *reterr);

/* Unloads it when nothing of it is in use any more (no bus, message or
 * slot left): a monitor in its scope has no use for it while its container
 * runs. A later lazy_libsystemd_load() loads it again. */
void lazy_libsystemd_unload(void);
