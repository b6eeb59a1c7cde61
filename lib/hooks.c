/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "hooks.h"

/* What is kept of a hook's output for the error message. */
#define OUTPUT_TAIL 4096
#define CHUNK 1024
#define MESSAGE_LINE_MAX 200
_Static_assert(CHUNK <= OUTPUT_TAIL, "a chunk fits the tail");

static const char *const hook_names[_HOOK_TYPE_MAX] = {
        [HOOK_PRE_START] = "pre-start", [HOOK_PRE_MOUNT] = "pre-mount",   [HOOK_MOUNT] = "mount",
        [HOOK_AUTODEV] = "autodev",     [HOOK_START_HOST] = "start-host", [HOOK_START] = "start",
        [HOOK_STOP] = "stop",           [HOOK_POST_STOP] = "post-stop",   [HOOK_DESTROY] = "destroy",
};

const char *hook_type_to_string(HookType t) {
        return (unsigned) t < _HOOK_TYPE_MAX ? hook_names[t] : NULL;
}

static char **hook_commands(const LxcConfig *c, HookType t) {
        char key[64];
        snprintf(key, sizeof key, "lxc.hook.%s", hook_type_to_string(t));
        return lxc_config_get_all(c, key);
}

bool hooks_any(const LxcConfig *c, HookType t) {
        _cleanup_strv_free_ char **l = hook_commands(c, t);
        STRV_FOREACH(i, l)
                if (!isempty(*i))
                        return true;
        return false;
}

static long long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000LL + ts.tv_nsec / 1000000L;
}

static int env_add(char ***env, const char *key, const char *value) {
        char *s;
        if (!value)
                return 0;
        if (asprintf(&s, "%s=%s", key, value) < 0)
                return -ENOMEM;
        int r = strv_consume(env, s);
        return r < 0 ? r : 0;
}

static int hook_env(const HookContext *ctx, HookType t, bool version1, char ***ret) {
        _cleanup_strv_free_ char **env = NULL;
        char pid[32];
        snprintf(pid, sizeof pid, "%d", (int) ctx->pid);
        int r = env_add(&env, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        if (r >= 0)
                r = env_add(&env, "LXC_NAME", ctx->name);
        if (r >= 0)
                r = env_add(&env, "LXC_CONFIG_FILE", ctx->config_path);
        if (r >= 0)
                r = env_add(&env, "LXC_ROOTFS_PATH", ctx->rootfs_path);
        if (r >= 0)
                r = env_add(&env, "LXC_ROOTFS_MOUNT", ctx->rootfs_mount ?: ctx->rootfs_path);
        if (r >= 0)
                r = env_add(&env, "LXC_HOOK_TYPE", hook_type_to_string(t));
        if (r >= 0)
                r = env_add(&env, "LXC_HOOK_SECTION", "lxc");
        if (r >= 0)
                r = env_add(&env, "LXC_HOOK_VERSION", version1 ? "1" : "0");
        if (r >= 0)
                r = env_add(&env, "LXC_CGNS_AWARE", "1");
        if (r >= 0 && ctx->pid > 0)
                r = env_add(&env, "LXC_PID", pid);
        if (r >= 0)
                r = env_add(&env, "LXC_TARGET", ctx->target);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(env);
        return 0;
}

/* The last non-empty line of a hook's output, printable, for a message. */
static void last_line(const char *buf, size_t n, char out[MESSAGE_LINE_MAX + 1]) {
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
                n--;
        size_t start = n;
        while (start > 0 && buf[start - 1] != '\n')
                start--;
        size_t k = 0;
        for (size_t i = start; i < n && k < MESSAGE_LINE_MAX; i++)
                out[k++] = (buf[i] >= 0x20 && buf[i] < 0x7f) ? buf[i] : '?';
        out[k] = 0;
}

_Noreturn static void hook_child(int out_fd, const char *script, char **argv_extra, char **env) {
        sigset_t none;
        int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        /* Our own process group: a timeout kills whatever it started. */
        (void) setpgid(0, 0);
        if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
            dup2(out_fd, STDERR_FILENO) < 0)
                _exit(127);
        (void) close_range(3, ~0U, 0);
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        const char *argv[8] = { "/bin/sh", "-c", script };
        size_t n = 3;
        STRV_FOREACH(a, argv_extra)
                if (n < ELEMENTSOF(argv) - 1)
                        argv[n++] = *a;
        argv[n] = NULL;
        execve("/bin/sh", (char *const *) argv, env);
        dprintf(STDERR_FILENO, "cannot run /bin/sh: %s\n", strerror(errno));
        _exit(127);
}

static int run_one(const char *cmd, HookType t, const HookContext *ctx, bool version1, char **env,
                   WarrenError *reterr) {
        const char *type = hook_type_to_string(t);
        _cleanup_free_ char *script = NULL, *buf = malloc(OUTPUT_TAIL);
        _cleanup_close_ int rd = -EBADF, wr = -EBADF, pidfd = -EBADF;
        char line[MESSAGE_LINE_MAX + 1];
        size_t n = 0;
        int fds[2];

        /* Version 0: LXC appends "NAME lxc TYPE" to the command line. */
        char *extra[] = { (char *) "sh", (char *) ctx->name, (char *) "lxc", (char *) type, NULL };
        if (!buf || (version1 ? !(script = strdup(cmd)) : asprintf(&script, "%s \"$@\"", cmd) < 0))
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        if (pipe2(fds, O_CLOEXEC) < 0)
                return warren_error_set(reterr, errno, "Failed to create a pipe for lxc.hook.%s: %m", type);
        rd = fds[0];
        wr = fds[1];

        pid_t pid = fork();
        if (pid < 0)
                return warren_error_set(reterr, errno, "Failed to fork lxc.hook.%s: %m", type);
        if (pid == 0)
                hook_child(wr, script, version1 ? NULL : extra, env);
        wr = safe_close(wr);
        pidfd = (int) syscall(SYS_pidfd_open, pid, 0);

        /* Until it exits (not until EOF: something it left running in the
         * background may hold the pipe), keeping the tail of its output. */
        unsigned timeout = ctx->timeout_ms ? ctx->timeout_ms : HOOK_TIMEOUT_MS_DEFAULT;
        long long deadline = now_ms() + timeout;
        bool timed_out = false, exited = pidfd < 0;
        while (!exited || rd >= 0) {
                struct pollfd p[2] = { { .fd = rd, .events = POLLIN },
                                       { .fd = exited ? -1 : pidfd, .events = POLLIN } };
                long long left = deadline - now_ms();
                if (left <= 0 && !exited) {
                        timed_out = true;
                        (void) kill(-pid, SIGKILL);
                        (void) kill(pid, SIGKILL);
                        break;
                }
                int k = poll(p, 2, exited ? 0 : (int) MIN(left, 1000LL));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        break;
                if (p[1].revents)
                        exited = true;
                if (p[0].revents) {
                        char chunk[CHUNK];
                        ssize_t m = read(rd, chunk, sizeof chunk);
                        if (m < 0 && errno == EINTR)
                                continue;
                        if (m <= 0) {
                                rd = safe_close(rd);
                                continue;
                        }
                        /* Keep the last OUTPUT_TAIL bytes (a chunk is smaller). */
                        if (n + (size_t) m > OUTPUT_TAIL) {
                                size_t drop = n + (size_t) m - OUTPUT_TAIL;
                                memmove(buf, buf + drop, n - drop);
                                n -= drop;
                        }
                        memcpy(buf + n, chunk, (size_t) m);
                        n += (size_t) m;
                } else if (exited)
                        break; /* exited and nothing more to read now */
        }

        int status = 0;
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR) {
                        status = -1;
                        break;
                }
        }
        last_line(buf, n, line);
        if (timed_out)
                return warren_error_set(reterr, ETIMEDOUT, "lxc.hook.%s '%s' did not finish within %u s%s%s",
                                        type, cmd, timeout / 1000U, *line ? ": " : "", line);
        if (status == -1)
                return warren_error_set(reterr, ECHILD, "lxc.hook.%s '%s': lost track of it", type, cmd);
        if (WIFSIGNALED(status))
                return warren_error_set(reterr, EIO, "lxc.hook.%s '%s' was killed by signal %d%s%s", type,
                                        cmd, WTERMSIG(status), *line ? ": " : "", line);
        if (WEXITSTATUS(status) != 0)
                return warren_error_set(reterr, EIO, "lxc.hook.%s '%s' failed with exit status %d%s%s", type,
                                        cmd, WEXITSTATUS(status), *line ? ": " : "", line);
        log_debug("lxc.hook.%s '%s' succeeded", type, cmd);
        return 0;
}

int hooks_run(const LxcConfig *c, HookType t, const HookContext *ctx, WarrenError *reterr) {
        _cleanup_strv_free_ char **cmds = NULL, **env = NULL;
        if (!c || !ctx || !ctx->name || (unsigned) t >= _HOOK_TYPE_MAX)
                return warren_error_set(reterr, EINVAL, "Invalid hook request");
        cmds = hook_commands(c, t);
        if (!cmds)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        if (!cmds[0])
                return 0;
        const char *v = lxc_config_get(c, "lxc.hook.version");
        bool version1 = v && (streq(v, "1") || streq(v, "true"));
        int r = hook_env(ctx, t, version1, &env);
        if (r < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        STRV_FOREACH(cmd, cmds) {
                if (isempty(*cmd))
                        continue;
                r = run_one(*cmd, t, ctx, version1, env, reterr);
                if (r < 0)
                        return r;
        }
        return 0;
}
