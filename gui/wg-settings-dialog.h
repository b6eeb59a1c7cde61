/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A few common settings of one container, through GetConfig/SetConfig:
 * autostart (lxc.start.auto), memory limit (lxc.cgroup2.memory.max) and
 * network (the first NIC's bridge, or none). Only what changed is sent;
 * warrend validates and says which value it refuses. */

#include <adwaita.h>

#include "wg-container.h"

typedef struct _WgApplication WgApplication;

#define WG_TYPE_SETTINGS_DIALOG (wg_settings_dialog_get_type())
G_DECLARE_FINAL_TYPE(WgSettingsDialog, wg_settings_dialog, WG, SETTINGS_DIALOG, AdwWindow)

WgSettingsDialog *wg_settings_dialog_new(WgApplication *app, GtkWindow *parent, WgContainer *container);

/* Applies SETTINGS (a{sv}: autostart b, memory-limit s, network s — ""
 * for none) to NAME; failures are reported. done (may be NULL) learns
 * whether it worked. */
typedef void (*WgSettingsDone)(gboolean ok, gpointer user_data);
void wg_settings_apply(WgApplication *app, const char *name, GVariant *settings, WgSettingsDone done,
                       gpointer user_data);
