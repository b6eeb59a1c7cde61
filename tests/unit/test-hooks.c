/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/hooks: lxc.hook.* run through /bin/sh with LXC's arguments and
 * environment; failures, timeouts and garbage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "config.h"
#include "hooks.h"
#include "tap.h"

static char dir[] = "/tmp/warren-test-hooks-XXXXXX";
static char out[256];

static LxcConfig *config_with(const char *text) {
        LxcConfig *c = lxc_config_new();
        if (c && lxc_config_parse(c, text, strlen(text), NULL, NULL, NULL) < 0)
                c = lxc_config_free(c);
        return c;
}

static int write_text(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        if (!f)
                return -errno;
        fputs(text, f);
        return fclose(f) == 0 ? 0 : -errno;
}

static char *slurp(const char *path) {
        char *s = NULL;
        if (read_full_file(path, 1 << 20, &s, NULL) < 0)
                return NULL;
        return s;
}

static long long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000LL + ts.tv_nsec / 1000000L;
}

static const HookContext base = {
        .name = "c1",
        .config_path = "/var/lib/warren/containers/c1/config",
        .rootfs_path = "/var/lib/warren/containers/c1/rootfs",
};

static char script[256];

static void test_args_env(void) {
        char text[1024];
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        /* A hook script, as LXC users write them: "$@" is NAME lxc TYPE. */
        snprintf(text, sizeof text, "#!/bin/sh\necho \"args:$*\" >%s\nenv | grep '^LXC_' | sort >>%s\n", out,
                 out);
        ok(write_text(script, text) == 0 && chmod(script, 0755) == 0, "a hook script");
        snprintf(text, sizeof text, "lxc.hook.pre-start = %s\n", script);
        _cleanup_lxc_config_ LxcConfig *c = config_with(text);
        ok(c != NULL, "a config with a pre-start hook");
        HookContext ctx = base;
        ctx.pid = 4242;
        ctx.target = "stop";
        ok(hooks_any(c, HOOK_PRE_START), "it has pre-start hooks");
        ok(!hooks_any(c, HOOK_START), "and no start hook");
        is(hooks_run(c, HOOK_PRE_START, &ctx, &e), 0, "the hook runs (%s)", warren_error_message(&e));
        _cleanup_free_ char *s = slurp(out);
        ok(s != NULL, "it wrote its file");
        like(s, "args:c1 lxc pre-start\n", "version 0: NAME lxc TYPE appended");
        like(s, "LXC_NAME=c1\n", "LXC_NAME");
        like(s, "LXC_CONFIG_FILE=/var/lib/warren/containers/c1/config\n", "LXC_CONFIG_FILE");
        like(s, "LXC_ROOTFS_PATH=/var/lib/warren/containers/c1/rootfs\n", "LXC_ROOTFS_PATH");
        like(s, "LXC_ROOTFS_MOUNT=/var/lib/warren/containers/c1/rootfs\n",
             "LXC_ROOTFS_MOUNT defaults to the path");
        like(s, "LXC_HOOK_TYPE=pre-start\n", "LXC_HOOK_TYPE");
        like(s, "LXC_HOOK_SECTION=lxc\n", "LXC_HOOK_SECTION");
        like(s, "LXC_HOOK_VERSION=0\n", "LXC_HOOK_VERSION");
        like(s, "LXC_PID=4242\n", "LXC_PID");
        like(s, "LXC_TARGET=stop\n", "LXC_TARGET");
        is(hooks_run(c, HOOK_START, &ctx, &e), 0, "no start hook: nothing to do");

        snprintf(text, sizeof text, "lxc.hook.version = 1\nlxc.hook.mount = %s\n", script);
        _cleanup_lxc_config_ LxcConfig *v1 = config_with(text);
        is(hooks_run(v1, HOOK_MOUNT, &base, &e), 0, "a version 1 hook runs");
        free(s);
        s = slurp(out);
        like(s, "args:\n", "version 1: no arguments");
        like(s, "LXC_HOOK_VERSION=1\n", "LXC_HOOK_VERSION=1");
        ok(!strstr(s, "LXC_PID="), "no LXC_PID when there is no pid");

        /* Version 1 from here: whole shell command lines, nothing appended. */
        snprintf(text, sizeof text,
                 "lxc.hook.version = 1\nlxc.hook.stop = echo one >>%s\nlxc.hook.stop = false\n"
                 "lxc.hook.stop = echo three >>%s\n",
                 out, out);
        unlink(out);
        _cleanup_lxc_config_ LxcConfig *many = config_with(text);
        ok(hooks_run(many, HOOK_STOP, &base, &e) < 0, "the second of three fails");
        like(e.message, "lxc.hook.stop 'false' failed with exit status 1", "naming it and its status");
        free(s);
        s = slurp(out);
        is_str(s, "one\n", "the first ran, the third did not");
        warren_error_clear(&e);
}

static void test_failures(void) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        _cleanup_lxc_config_ LxcConfig *c =
                config_with("lxc.hook.version = 1\n"
                            "lxc.hook.start-host = echo noise; echo 'boom: no disk' >&2; exit 3\n"
                            "lxc.hook.post-stop = kill -TERM $$\n"
                            "lxc.hook.destroy = 'unterminated\n"
                            "lxc.hook.autodev = sleep 30\n"
                            "lxc.hook.mount = sleep 3 & echo started\n"
                            "lxc.hook.pre-mount = head -c 1000000 /dev/zero | tr '\\\\0' x; echo; echo last "
                            "words; exit 9\n");
        ok(c != NULL, "a config with failing hooks");
        is(hooks_run(c, HOOK_START_HOST, &base, &e), -EIO, "exit 3 fails");
        like(e.message, "lxc.hook.start-host", "naming the hook");
        like(e.message, "exit status 3", "its status");
        like(e.message, "boom: no disk", "and its last line");
        warren_error_clear(&e);

        is(hooks_run(c, HOOK_POST_STOP, &base, &e), -EIO, "a hook killed by a signal fails");
        like(e.message, "killed by signal 15", "saying which");
        warren_error_clear(&e);

        ok(hooks_run(c, HOOK_DESTROY, &base, &e) < 0, "a shell syntax error fails");
        like(e.message, "exit status 2", "with sh's status");
        warren_error_clear(&e);

        HookContext quick = base;
        quick.timeout_ms = 300;
        long long t0 = now_ms();
        is(hooks_run(c, HOOK_AUTODEV, &quick, &e), -ETIMEDOUT, "a hook past its timeout fails");
        long long took = now_ms() - t0;
        ok(took < 3000, "at the timeout (%lld ms)", took);
        like(e.message, "did not finish within", "saying so");
        warren_error_clear(&e);

        t0 = now_ms();
        is(hooks_run(c, HOOK_MOUNT, &base, &e), 0, "a hook leaving a background process holding its output");
        took = now_ms() - t0;
        ok(took < 2000, "returns when the hook exits, not at EOF (%lld ms)", took);

        is(hooks_run(c, HOOK_PRE_MOUNT, &base, &e), -EIO, "a hook printing 1 MB then failing");
        like(e.message, "exit status 9: last words", "keeps the last line of its output");
        ok(e.message && strlen(e.message) < 600, "and the message stays short (%zu)",
           e.message ? strlen(e.message) : 0);
        warren_error_clear(&e);
}

static void test_garbage(void) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        _cleanup_lxc_config_ LxcConfig *c = config_with("lxc.hook.start = \n");
        ok(c != NULL, "a config with an empty hook");
        ok(!hooks_any(c, HOOK_START), "an empty hook is none");
        is(hooks_run(c, HOOK_START, &base, &e), 0, "and runs nothing");
        is(hooks_run(c, _HOOK_TYPE_MAX, &base, &e), -EINVAL, "an invalid type: EINVAL");
        warren_error_clear(&e);
        is(hooks_run(c, HOOK_START, NULL, &e), -EINVAL, "no context: EINVAL");
        warren_error_clear(&e);
        HookContext noname = base;
        noname.name = NULL;
        is(hooks_run(c, HOOK_START, &noname, &e), -EINVAL, "no name: EINVAL");
        warren_error_clear(&e);
        is(hooks_run(NULL, HOOK_START, &base, &e), -EINVAL, "no config: EINVAL");
        ok(hook_type_to_string(_HOOK_TYPE_MAX) == NULL, "no name for an invalid type");
        is_str(hook_type_to_string(HOOK_START_HOST), "start-host", "start-host's name");
        is_str(hook_type_to_string(HOOK_POST_STOP), "post-stop", "post-stop's name");
}

int main(void) {
        if (!mkdtemp(dir))
                return 1;
        snprintf(out, sizeof out, "%s/out", dir);
        snprintf(script, sizeof script, "%s/hook.sh", dir);
        test_args_env();
        test_failures();
        test_garbage();
        unlink(out);
        unlink(script);
        rmdir(dir);
        return done_testing();
}
