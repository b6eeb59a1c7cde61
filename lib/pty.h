/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Pseudo-terminals on the host's devpts for a container's console and
 * ttys: the monitor keeps the master, container_spawn() bind-mounts the
 * slave over /dev/console or /dev/ttyN inside the container. */

#include <sys/types.h>

#include "basic/error.h"

/* Allocates a pty pair. ret_master: O_RDWR|O_NOCTTY|O_CLOEXEC, unlocked;
 * ret_slave_path: "/dev/pts/N" (malloc'd). The slave keeps the kernel's
 * default termios. */
int pty_open(int *ret_master, char **ret_slave_path, WarrenError *reterr);

/* Opens the slave of master directly (TIOCGPTPEER: no path lookup, so it
 * cannot be confused by another devpts mounted over /dev/pts). flags:
 * O_RDWR etc.; O_NOCTTY|O_CLOEXEC are always added. */
int pty_open_slave(int master, int flags, WarrenError *reterr);

/* Makes the slave owned by uid:gid (mode 0620), so a user namespace whose
 * root maps to uid can open the console/tty bound into it. */
int pty_chown_slave(int master, uid_t uid, gid_t gid, WarrenError *reterr);

/* TIOCSWINSZ on a master or slave. */
int pty_set_window_size(int fd, unsigned short rows, unsigned short cols, WarrenError *reterr);
