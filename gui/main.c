/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* warren-containers: the desktop front end of warren (a pure bus client). */
#include "wg-application.h"

int main(int argc, char **argv) {
        g_autoptr(WgApplication) app = wg_application_new();
        return g_application_run(G_APPLICATION(app), argc, argv);
}
