/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The front end's only way to the system: org.warren1 on the system bus
 * (DBUS_SYSTEM_BUS_ADDRESS is followed). Keeps a live list of containers
 * and of running jobs from GDBusObjectManagerClient, Manager's signals and
 * PropertiesChanged; survives warrend exiting when idle (it is
 * bus-activated again by the next call) and the bus itself going away.
 *
 * Signals:
 *   "status-changed"              connection or service state changed
 *   "job-added"    (WgJob)        a job appeared (any caller's)
 *   "attach-exited"(s path, u pid, i status)  Container.AttachExited
 */

#include <gio/gio.h>

#include "wg-container.h"
#include "wg-job.h"

#define WG_BUS_NAME "org.warren1"
#define WG_MANAGER_PATH "/org/warren1"
#define WG_MANAGER_IFACE "org.warren1.Manager"
#define WG_CONTAINER_IFACE "org.warren1.Container"
#define WG_JOB_IFACE "org.warren1.Job"

#define WG_TYPE_CLIENT (wg_client_get_type())
G_DECLARE_FINAL_TYPE(WgClient, wg_client, WG, CLIENT, GObject)

typedef enum {
        WG_AUTH_UNKNOWN, /* could not ask: act and let warrend say */
        WG_AUTH_YES,
        WG_AUTH_CHALLENGE, /* the desktop's polkit agent will ask for a password */
        WG_AUTH_NO,
} WgAuth;

WgClient *wg_client_new(void);
void wg_client_start(WgClient *c);

/* GListModel of WgContainer, sorted by name. */
GListModel *wg_client_get_containers(WgClient *c);
/* GListModel of the WgJob that still run. */
GListModel *wg_client_get_jobs(WgClient *c);
WgContainer *wg_client_lookup(WgClient *c, const char *name);
/* The running job working on TARGET, if any. */
WgJob *wg_client_find_job(WgClient *c, const char *target);
/* The job at PATH, made if not known yet (it may already be finished). */
WgJob *wg_client_track_job(WgClient *c, const char *path);

/* "" when the service answers, else why it cannot be reached. */
const char *wg_client_get_problem(WgClient *c);
gboolean wg_client_is_connected(WgClient *c);
/* Whether org.warren1 has an owner now (warrend exits when idle). */
gboolean wg_client_service_running(WgClient *c);
GDBusConnection *wg_client_get_bus(WgClient *c);

/* Re-reads the list (this activates warrend) and polls what has no
 * signals (memory, addresses) for the containers we may read. */
void wg_client_refresh(WgClient *c);
/* Poll every few seconds while enabled (the window is in front). */
void wg_client_set_polling(WgClient *c, gboolean enabled);

/* A method call to org.warren1 carrying the allow-interactive-authorization
 * flag, so the desktop's polkit agent may ask for a password. fd_list may
 * be NULL; the reply's fds come back from _finish. */
void wg_client_call(WgClient *c, const char *path, const char *iface, const char *method, GVariant *params,
                    const GVariantType *reply_type, GCancellable *cancellable, GAsyncReadyCallback callback,
                    gpointer user_data);
GVariant *wg_client_call_finish(WgClient *c, GAsyncResult *result, GUnixFDList **ret_fds, GError **error);

/* Would polkit let us do ACTION on container (NULL: no container detail)?
 * Root is always allowed. */
void wg_client_check_auth(WgClient *c, const char *action, WgContainer *container, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data);
WgAuth wg_client_check_auth_finish(WgClient *c, GAsyncResult *result);

/* manage-own or manage, shell-own or shell, as warrend picks them. */
const char *wg_client_manage_action(WgContainer *container);
const char *wg_client_shell_action(WgContainer *container);
