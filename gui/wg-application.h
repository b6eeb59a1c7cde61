/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The application: one WgClient, the main window, terminals and dialogs.
 * Everything a person can do is an action of the application, with the
 * container's name as parameter, so the session bus (org.gtk.Actions at
 * /org/warren1/Containers) drives it as the buttons do:
 *
 *   new-container                       the create dialog
 *   create        (ssasa{sv})           name, template, template args, options
 *   select        s                     show NAME in the main window
 *   start stop force-stop reboot freeze unfreeze   s
 *   destroy       s                     asks first; destroy-now s does it
 *   open-terminal s                     a shell in NAME (Attach with a pty)
 *   open-console  s                     NAME's console (OpenConsole 0) after its log
 *   terminal-input (ss)                 types text into NAME's newest terminal
 *   close-terminals s
 *   settings      s                     the settings dialog; configure (sa{sv}) applies
 *                                       autostart b, memory-limit s, network s
 *   cancel-job    s                     cancels the job working on NAME
 *   refresh, about, quit
 */

#include <adwaita.h>

#include "wg-client.h"

#define WG_APP_ID "org.warren1.Containers"

#define WG_TYPE_APPLICATION (wg_application_get_type())
G_DECLARE_FINAL_TYPE(WgApplication, wg_application, WG, APPLICATION, AdwApplication)

WgApplication *wg_application_new(void);
WgClient *wg_application_get_client(WgApplication *app);
/* The image server the create dialog starts with ("" = warrend's default). */
const char *wg_application_get_image_server(WgApplication *app);

/* Shows a failed call as the bus said it: heading ("Could not start “c1”"),
 * the message (naming the bad value) and the error's name; also on stderr. */
void wg_application_report_error(WgApplication *app, const char *heading, const GError *error);
/* CreateContainer; the job is followed in the main window and its end
 * (the image's create-message, or why it failed) is shown. done (may be
 * NULL) learns whether warrend accepted the call. */
typedef void (*WgCreateDone)(gboolean accepted, gpointer user_data);
void wg_application_create(WgApplication *app, const char *name, const char *template, GVariant *args,
                           GVariant *options, WgCreateDone done, gpointer user_data);
/* Whether an action on NAME is on its way (buttons show a spinner). */
gboolean wg_application_is_busy(WgApplication *app, const char *name);
