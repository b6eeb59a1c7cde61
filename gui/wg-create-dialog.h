/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* "New Container": a name, a template (busybox, download, local) and its
 * arguments. For download it lists what the image server offers
 * (Manager.ListRemoteImages) by distribution, release, architecture and
 * variant. It closes once warrend accepts the create; the job's progress
 * shows in the main window. */

#include <adwaita.h>

typedef struct _WgApplication WgApplication;

#define WG_TYPE_CREATE_DIALOG (wg_create_dialog_get_type())
G_DECLARE_FINAL_TYPE(WgCreateDialog, wg_create_dialog, WG, CREATE_DIALOG, AdwWindow)

WgCreateDialog *wg_create_dialog_new(WgApplication *app, GtkWindow *parent);
