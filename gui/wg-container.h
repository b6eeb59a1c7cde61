/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One container as the bus shows it: a plain object the list and the detail
 * pane read, kept up to date by WgClient from org.warren1.Container's
 * properties. "changed" is emitted once per batch of updates. */

#include <glib-object.h>

#define WG_TYPE_CONTAINER (wg_container_get_type())
G_DECLARE_FINAL_TYPE(WgContainer, wg_container, WG, CONTAINER, GObject)

#define WG_UID_UNKNOWN G_MAXUINT32

WgContainer *wg_container_new(const char *name, const char *path);

const char *wg_container_get_name(WgContainer *c);
const char *wg_container_get_path(WgContainer *c);
const char *wg_container_get_state(WgContainer *c);
guint32 wg_container_get_owner_uid(WgContainer *c);
/* The owner's user name, or "uid N" when the host does not know it. */
const char *wg_container_get_owner_name(WgContainer *c);
gboolean wg_container_get_unprivileged(WgContainer *c);
gboolean wg_container_get_autostart(WgContainer *c);
const char *const *wg_container_get_ipv4(WgContainer *c);
const char *const *wg_container_get_ipv6(WgContainer *c);
guint64 wg_container_get_memory(WgContainer *c);
guint32 wg_container_get_init_pid(WgContainer *c);
/* CPU use in percent of one CPU over the last two GetStats, or < 0 unknown. */
double wg_container_get_cpu_percent(WgContainer *c);
const char *wg_container_get_problem(WgContainer *c);
gboolean wg_container_is_running(WgContainer *c);

/* Applies an a{sv} of org.warren1.Container properties (GetAll, a
 * PropertiesChanged, a proxy's cache); unknown keys are ignored. Emits
 * "changed" if anything did. */
void wg_container_apply_properties(WgContainer *c, GVariant *dict);
/* Applies GetStats' a{sv} (memory_bytes, cpu_usec) taken at now_us. */
void wg_container_apply_stats(WgContainer *c, GVariant *dict, gint64 now_us);
void wg_container_set_state(WgContainer *c, const char *state);
void wg_container_set_owner_uid(WgContainer *c, guint32 uid);
