/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "process.h"

int process_group_reap(pid_t pid, bool kill_first) {
        int status = 0;
        /* kill(-1) would signal every process we may signal. */
        if (pid <= 1)
                return 0;
        if (kill_first) {
                (void) kill(-pid, SIGKILL);
                (void) kill(pid, SIGKILL); /* in case it had not made its group yet */
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return 0; /* not ours: its pid may name someone else's group by now */
        (void) kill(-pid, SIGKILL);
        return status;
}
