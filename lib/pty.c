/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "basic/macro.h"
#include "pty.h"

int pty_open(int *ret_master, char **ret_slave_path, WarrenError *reterr) {
        _cleanup_close_ int master = -EBADF;
        unsigned n;
        int unlock = 0;
        char *path;

        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return warren_error_set(reterr, errno, "Failed to allocate a pty on /dev/ptmx: %m");
        /* glibc's grantpt() is a no-op on devpts; unlocking and asking for
         * the number directly saves the ptsname() stat round trip. */
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return warren_error_set(reterr, errno, "Failed to unlock pty: %m");
        if (ioctl(master, TIOCGPTN, &n) < 0)
                return warren_error_set(reterr, errno, "Failed to get pty number: %m");
        if (asprintf(&path, "/dev/pts/%u", n) < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");

        *ret_master = TAKE_FD(master);
        *ret_slave_path = path;
        return 0;
}

int pty_open_slave(int master, int flags, WarrenError *reterr) {
        int fd = ioctl(master, TIOCGPTPEER, flags | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return warren_error_set(reterr, errno, "Failed to open pty slave of fd %d: %m", master);
        return fd;
}

int pty_chown_slave(int master, uid_t uid, gid_t gid, WarrenError *reterr) {
        _cleanup_close_ int fd = pty_open_slave(master, O_PATH, reterr);
        char p[64];

        if (fd < 0)
                return fd;
        /* fchown() does not work on O_PATH fds; the magic link does, and
         * names exactly this slave. */
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        if (chown(p, uid, gid) < 0)
                return warren_error_set(reterr, errno, "Failed to chown pty slave to %u:%u: %m",
                                        (unsigned) uid, (unsigned) gid);
        if (chmod(p, 0620) < 0)
                return warren_error_set(reterr, errno, "Failed to chmod pty slave: %m");
        return 0;
}

int pty_set_window_size(int fd, unsigned short rows, unsigned short cols, WarrenError *reterr) {
        struct winsize ws = { .ws_row = rows, .ws_col = cols };

        if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
                return warren_error_set(reterr, errno, "Failed to set window size %ux%u: %m", cols, rows);
        return 0;
}
