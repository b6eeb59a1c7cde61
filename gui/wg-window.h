/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The main window: running jobs and containers on the left (live from
 * WgClient), the selected container's details and buttons on the right.
 * Its actions (win.start, win.stop, ...) act on the selection and are
 * disabled when the state forbids them or polkit would refuse (asked
 * beforehand, without interaction); a line under the buttons says why. */

#include <adwaita.h>

typedef struct _WgApplication WgApplication;

#define WG_TYPE_WINDOW (wg_window_get_type())
G_DECLARE_FINAL_TYPE(WgWindow, wg_window, WG, WINDOW, AdwApplicationWindow)

WgWindow *wg_window_new(WgApplication *app);
/* Selects NAME now, or as soon as it appears in the list. */
void wg_window_select(WgWindow *w, const char *name);
void wg_window_toast(WgWindow *w, const char *text);
void wg_window_update_busy(WgWindow *w);
/* Asks polkit again about the selection (grants may have changed). */
void wg_window_recheck_auth(WgWindow *w);
