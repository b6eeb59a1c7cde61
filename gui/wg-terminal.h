/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A terminal into a container: a VteTerminal on the pty master that
 * Container.Attach (a root shell, pty=true) or Container.OpenConsole(0)
 * hands over the bus. The console shows the console log first. Closing the
 * window closes the master: the shell gets SIGHUP, the console is free. */

#include <adwaita.h>

#include "wg-container.h"

typedef struct _WgApplication WgApplication;

#define WG_TYPE_TERMINAL (wg_terminal_get_type())
G_DECLARE_FINAL_TYPE(WgTerminal, wg_terminal, WG, TERMINAL, AdwApplicationWindow)

WgTerminal *wg_terminal_new(WgApplication *app, WgContainer *container, gboolean console);
const char *wg_terminal_get_container_name(WgTerminal *t);
/* Types TEXT as if from the keyboard ("\n" is Enter). */
void wg_terminal_input(WgTerminal *t, const char *text);
