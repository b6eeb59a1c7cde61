/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Pure helpers of the desktop front end: how numbers, states, job progress
 * and bus paths are shown and made. No widgets, no bus: unit-tested by
 * test-wg-format. */

#include <glib.h>

/* A download's rate, smoothed over a few seconds, restarting when the byte
 * count goes back (a new phase: the next file, or the unpack). */
typedef struct {
        gint64 last_us;  /* the last sample */
        gint64 moved_us; /* the last sample with more bytes than before */
        guint64 last_bytes;
        double rate; /* bytes per second */
        gboolean has_rate;
} WgRateMeter;

void wg_rate_meter_reset(WgRateMeter *m);
void wg_rate_meter_add(WgRateMeter *m, gint64 now_us, guint64 bytes);

/* "3 s", "2 min 05 s", "1 h 02 min". */
char *wg_format_duration(guint64 seconds);

/* "1.2 MB of 4.5 MB · 300.0 kB/s · 11 s left"; parts that are unknown
 * (total 0, no rate yet) are left out; "" when nothing is known; "stalled"
 * when no byte came for a few seconds before now_us (warrend may repeat
 * the same count meanwhile). */
char *wg_format_transfer(guint64 done, guint64 total, const WgRateMeter *m, gint64 now_us);

/* What a Job's Phase means to a person ("Downloading the rootfs"); NULL for
 * a phase this version does not know (show it as it is). */
const char *wg_phase_label(const char *phase);

/* "Running" for RUNNING, ...; the bus value itself for one we do not know. */
const char *wg_state_label(const char *state);

/* Memory as people read it: "12.3 MiB"; "" for 0 (unknown or not running). */
char *wg_format_memory(guint64 bytes);

/* The object path of a container, as warrend names it: the name escaped as
 * sd_bus_path_encode() does (every byte but [A-Za-z0-9] as _XX). */
char *wg_container_path(const char *name);

/* A message from the bus for a person: without GDBus's "GDBus.Error:NAME: "
 * prefix. */
char *wg_error_message(const GError *error);

/* The Debian name of this machine's architecture (what image servers
 * call it): amd64 for x86_64, arm64 for aarch64, ...; MACHINE is uname's
 * (NULL: this machine's). */
const char *wg_debian_arch(const char *machine);
