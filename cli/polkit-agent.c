/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-login.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "build-config.h"
#include "polkit-agent.h"
#include "warrenctl.h"

/* How long to wait for the agent to register before calling anyway. */
#define AGENT_REGISTER_TIMEOUT_MS 10000

static pid_t agent_pid = 0;

bool polkit_agent_running(void) {
        return agent_pid > 0;
}

/* The start time polkit pairs with a pid (field 22 of /proc/PID/stat),
 * so the agent cannot be taken over by a recycled pid. */
static int process_start_time(pid_t pid, uint64_t *ret) {
        _cleanup_free_ char *line = NULL, *path = NULL;
        if (asprintf(&path, "/proc/%d/stat", (int) pid) < 0)
                return -ENOMEM;
        int r = read_one_line_file(path, &line);
        if (r < 0)
                return r;
        /* The command name may hold spaces and ')': fields start after the last ')'. */
        const char *p = strrchr(line, ')');
        if (!p)
                return -EBADMSG;
        p++;
        for (int field = 3; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EBADMSG;
        }
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p + 1, &end, 10);
        if (errno || end == p + 1)
                return -EBADMSG;
        *ret = v;
        return 0;
}

int polkit_agent_open(void) {
        int pipe_fd[2];
        uint64_t start_time;
        char process[64], notify[16];
        pid_t self = getpid();

        if (agent_pid > 0 || !arg_ask_password)
                return 0;
        /* Root skips polkit; input is what the agent needs, as for systemd's tools. */
        if (geteuid() == 0 || !isatty(STDIN_FILENO))
                return 0;
        if (access(WARREN_PKTTYAGENT_PATH, X_OK) < 0)
                return 0;
        if (process_start_time(self, &start_time) < 0)
                return 0;
        _cleanup_free_ char *session = NULL;
        bool in_session = sd_pid_get_session(0, &session) >= 0;
        snprintf(process, sizeof process, "%d,%" PRIu64, (int) self, start_time);
        if (pipe2(pipe_fd, O_CLOEXEC) < 0)
                return -errno;

        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                safe_close(pipe_fd[0]);
                safe_close(pipe_fd[1]);
                return r;
        }
        if (pid == 0) {
                /* The agent lives no longer than we do. */
                (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (getppid() != self)
                        _exit(EXIT_FAILURE);
                int fd = fcntl(pipe_fd[1], F_DUPFD, 3); /* without O_CLOEXEC: the agent keeps it */
                if (fd < 0)
                        _exit(EXIT_FAILURE);
                snprintf(notify, sizeof notify, "%d", fd);
                /* Default signal dispositions and mask for the agent. */
                sigset_t none;
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                /* In a login session a desktop's agent keeps precedence
                 * (--fallback, as systemd's tools). Outside one polkitd
                 * passes a fallback agent over, so there ours is the agent. */
                if (in_session)
                        execl(WARREN_PKTTYAGENT_PATH, WARREN_PKTTYAGENT_PATH, "--notify-fd", notify,
                              "--fallback", "--process", process, (char *) NULL);
                else
                        execl(WARREN_PKTTYAGENT_PATH, WARREN_PKTTYAGENT_PATH, "--notify-fd", notify,
                              "--process", process, (char *) NULL);
                _exit(EXIT_FAILURE);
        }
        safe_close(pipe_fd[1]);
        agent_pid = pid;

        /* The agent closes its end once registered (or when it dies). */
        struct pollfd pf = { .fd = pipe_fd[0], .events = POLLIN };
        for (;;) {
                int n = poll(&pf, 1, AGENT_REGISTER_TIMEOUT_MS);
                if (n < 0 && errno == EINTR)
                        continue;
                break;
        }
        safe_close(pipe_fd[0]);
        return 0;
}

void polkit_agent_close(void) {
        if (agent_pid <= 0)
                return;
        (void) kill(agent_pid, SIGTERM);
        (void) kill(agent_pid, SIGCONT);
        while (waitpid(agent_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        agent_pid = 0;
}

/* --- explaining a refusal ------------------------------------------------------ */

typedef struct ActionHelp {
        const char *id;
        const char *guards;
        bool group; /* granted to group warren by the shipped rule */
} ActionHelp;

static const ActionHelp actions[] = {
        { "org.warren1.create", "creating your own containers", true },
        { "org.warren1.manage-own", "starting, stopping, configuring and destroying your own containers",
          true },
        { "org.warren1.shell-own", "attach and console in your own containers", true },
        { "org.warren1.pull-image", "downloading images into the shared cache", true },
        { "org.warren1.create-privileged",
          "privileged containers, host bind mounts, hooks and raw device or cgroup keys", false },
        { "org.warren1.manage", "managing and reading other users' containers", false },
        { "org.warren1.shell", "attach and console in other users' containers", false },
        { "org.warren1.network", "creating and deleting container networks", false },
};

void polkit_explain_denial(const char *message) {
        const char *p = message ? strstr(message, "org.warren1.") : NULL;
        if (!p || !strstr(message, "not authorized"))
                return;
        size_t len = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789.-");
        const ActionHelp *a = NULL;
        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                if (strlen(actions[i].id) == len && strncmp(actions[i].id, p, len) == 0)
                        a = &actions[i];
        if (!a)
                return;
        bool asked = strstr(message, "authentication required") != NULL;
        fprintf(stderr, "warrenctl: The polkit action %s (%s) was refused.\n", a->id, a->guards);
        if (a->group)
                fprintf(stderr,
                        "warrenctl: It is granted at an active local session and, anywhere, to members of "
                        "group warren: ask an administrator to add you to group warren");
        else
                fprintf(stderr,
                        "warrenctl: It needs an administrator's password or a polkit rule naming you "
                        "(see warren-dbus(7))");
        if (asked && polkit_agent_running())
                fprintf(stderr, "; authentication failed or was canceled.\n");
        else if (asked && !arg_ask_password)
                fprintf(stderr, ", or run without --no-ask-password to authenticate.\n");
        else if (asked && geteuid() != 0 && !isatty(STDIN_FILENO))
                fprintf(stderr, ", or run warrenctl on a terminal to authenticate.\n");
        else
                fprintf(stderr, ".\n");
}
