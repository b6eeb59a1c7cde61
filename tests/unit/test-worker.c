/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/worker: the parameters' round trip and their strict reader, and what
 * a spawned worker gets (fds, signals, process group, death signal). The
 * "worker" spawned here is this program again: run as "warren-worker KIND"
 * it reports what it sees on fd 3. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/pack.h"
#include "basic/process.h"
#include "data-worker.h"
#include "idmap.h"
#include "tap.h"
#include "worker-fixture.h"
#include "worker-params.h"
#include "worker.h"

/* ---- the probe (this program as the worker) ---- */

static int probe(void) {
        char out[2048];
        size_t n = 0;
        int sig = -1;
        struct stat st;
        struct sigaction sa;
        sigset_t mask;
        _cleanup_free_ char *params = NULL;
        size_t psize = 0;

        DIR *d = opendir("/proc/self/fd");
        n += (size_t) snprintf(out + n, sizeof out - n, "fds");
        for (struct dirent *de; d && (de = readdir(d));)
                if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
                        n += (size_t) snprintf(out + n, sizeof out - n, " %s", de->d_name);
        if (d)
                closedir(d);
        (void) prctl(PR_GET_PDEATHSIG, &sig);
        (void) sigaction(SIGPIPE, NULL, &sa);
        (void) sigprocmask(SIG_BLOCK, NULL, &mask);
        mode_t um = umask(0);
        char cwd[64] = "";
        (void) !getcwd(cwd, sizeof cwd);
        int seals = fcntl(WORKER_PARAMS_FD, F_GET_SEALS);
        if (read_full_fd(WORKER_PARAMS_FD, WORKER_PARAMS_MAX, &params, &psize) < 0)
                psize = 0;
        n += (size_t) snprintf(out + n, sizeof out - n,
                               "\npdeathsig %d\npgid %d\nsigpipe %s\nblocked %d\numask %03o\ncwd %s\n"
                               "sock %d\nseals %d\nparams %zu\nfd5 %d\nfd6 %d\n",
                               sig, getpgid(0) == getpid(), sa.sa_handler == SIG_IGN ? "ignored" : "default",
                               sigismember(&mask, SIGTERM), (unsigned) um, cwd,
                               fstat(WORKER_SOCKET_FD, &st) >= 0 && S_ISSOCK(st.st_mode),
                               seals == (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL), psize,
                               fcntl(5, F_GETFD) >= 0, fcntl(6, F_GETFD) >= 0);
        (void) send(WORKER_SOCKET_FD, out, n, MSG_NOSIGNAL);
        return 0;
}

static char self_path[PATH_MAX];

static void test_spawn(void) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        const CopyWork cw = { .dst_name = "rootfs", .runtime_dir = "/run/x" };
        char buf[2048];
        pid_t pid = 0;
        int sock = -EBADF;

        /* An fd of ours without O_CLOEXEC, and one where fd 6 will be. */
        int leak = open("/dev/null", O_RDONLY);
        int fds[2] = { open("/dev/null", O_RDONLY | O_CLOEXEC), -EBADF };
        ok(leak >= 0 && fds[0] >= 0, "fixture fds open");
        (void) signal(SIGPIPE, SIG_DFL);
        sigset_t block;
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        (void) sigprocmask(SIG_BLOCK, &block, NULL);

        is(worker_spawn(self_path, WORKER_COPY, &cw, fds, 2, &pid, &sock, &e), 0, "spawned (%s)",
           strempty(e.message));
        ssize_t k = recv(sock, buf, sizeof buf - 1, 0);
        buf[k > 0 ? k : 0] = 0;
        like(buf, "fds 0 1 2 3 4 5\n",
             "the worker has 0-2, the socket, the params and the one fd: no other");
        like(buf, "pdeathsig 9\n", "it dies with its parent (SIGKILL)");
        like(buf, "pgid 1\n", "it leads its own process group");
        like(buf, "sigpipe ignored\n", "SIGPIPE is ignored across the exec");
        like(buf, "blocked 0\n", "no signal stays blocked");
        like(buf, "umask 022\n", "umask 022");
        like(buf, "cwd /\n", "cwd is /");
        like(buf, "sock 1\n", "fd 3 is the report socket");
        like(buf, "seals 1\n", "the parameters are sealed against change");
        ok(!strstr(buf, "params 0\n"), "the parameters are readable");
        like(buf, "fd5 1\nfd6 0\n", "the fd given is 5, the absent one leaves 6 closed");
        int st = process_group_reap(pid, false);
        ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the probe exited (0x%x)", st);
        safe_close(sock);
        safe_close(leak);
        safe_close(fds[0]);
        (void) sigprocmask(SIG_UNBLOCK, &block, NULL);

        is(worker_spawn("/nonexistent/warren-worker", WORKER_COPY, &cw, NULL, 0, &pid, &sock, &e), -ENOENT,
           "a missing binary fails at the spawn");
        like(e.message, "Failed to execute the worker '/nonexistent/warren-worker'", "naming it");
        warren_error_clear(&e);
        int closed[1] = { 1000 };
        is(worker_spawn(self_path, WORKER_COPY, &cw, closed, 1, &pid, &sock, &e), -EBADF,
           "an fd that is not open fails at the spawn");
        like(e.message, "Failed to set up the fds of the worker", "saying where");
        warren_error_clear(&e);
        is(worker_spawn("warren-worker", WORKER_COPY, &cw, NULL, 0, &pid, &sock, &e), -EINVAL,
           "a relative path is refused (never searched in PATH)");
        like(e.message, "must be absolute", "saying why");
        warren_error_clear(&e);
        is(worker_spawn(self_path, (WorkerKind) 99, &cw, NULL, 0, &pid, &sock, &e), -EINVAL,
           "an unknown kind is refused");
        warren_error_clear(&e);
}

/* The real worker, run other than by worker_spawn(): it refuses. */
static void test_worker_refuses(void) {
        int sv[2];
        char buf[512];
        posix_spawn_file_actions_t fa;
        pid_t pid;
        const char *argv[] = { "warren-worker", "copy", NULL };
        ok(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0, "socket");
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, sv[1], WORKER_SOCKET_FD);
        int r = posix_spawn(&pid, test_worker_path(), &fa, NULL, (char *const *) argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        is(r, 0, "warren-worker started by hand (%s)", test_worker_path());
        close(sv[1]);
        ssize_t k = recv(sv[0], buf, sizeof buf - 1, 0);
        ok(k > 5 && buf[0] == 'R', "it answers with a result at once");
        buf[k > 0 ? k : 0] = 0;
        like(k > 5 ? buf + 5 : "", "runs only as warrend's child", "refusing: no death signal set");
        int st = 0;
        (void) waitpid(pid, &st, 0);
        ok(WIFEXITED(st) && WEXITSTATUS(st) != 0, "and fails");
        close(sv[0]);

        const char *bad[] = { "warren-worker", "rm-rf", NULL };
        r = posix_spawn(&pid, test_worker_path(), NULL, NULL, (char *const *) bad, environ);
        (void) waitpid(pid, &st, 0);
        ok(r == 0 && WIFEXITED(st) && WEXITSTATUS(st) != 0, "an unknown kind on its command line fails");
}

/* ---- parameters ---- */

static uint8_t *pack(WorkerKind k, const void *p, const int *fds, size_t n, size_t *ret_size) {
        uint8_t *b = NULL;
        int r = worker_params_pack(k, p, fds, n, &b, ret_size);
        return r < 0 ? NULL : b;
}

static uint8_t *dup_buf(const uint8_t *b, size_t n) {
        uint8_t *c = malloc(n ? n : 1);
        if (c && n)
                memcpy(c, b, n);
        return c;
}

static void test_pull_round_trip(void) {
        static const ImageIdRange ranges[] = { { false, 0, 200000, 65536 }, { true, 0, 300000, 65536 } };
        char *items[] = { (char *) "lxc.tty.max", (char *) "4", NULL };
        const ImagePullParams p = {
                .cache_dir = "/var/cache/warren",
                .fetch = {
                        .origin = { .server = "https://h", .user = true, .uid = 1000 },
                        .keyring = "/etc/warren/k.gpg",
                        .spec = { "debian", "bookworm", "amd64", NULL },
                        .mode = IMAGE_MODE_USER,
                        .no_verify = true,
                        .force_cache = true,
                        .limits = { 1, 2, 3 },
                        .download = { .max_size = 7, .connect_timeout_s = 5, .attempts = 2, .retry_delay_ms = 9 },
                },
                .target_dir = "/t",
                .container_name = "c1",
                .default_config = "",
                .config_items = items,
                .idmap = ranges,
                .n_idmap = 2,
                .max_entries = 11,
                .no_decompressor = true,
        };
        WorkerParams q;
        size_t n;
        uint8_t *b = pack(WORKER_IMAGE_PULL, &p, NULL, 0, &n);
        ok(b != NULL, "pull parameters packed");
        is(worker_params_unpack(WORKER_IMAGE_PULL, b, n, &q, NULL), 0, "and read back");
        is_str(q.pull.cache_dir, "/var/cache/warren", "cache dir");
        is_str(q.pull.fetch.origin.server, "https://h", "server");
        ok(q.pull.fetch.origin.user && q.pull.fetch.origin.uid == 1000, "partition");
        is_str(q.pull.fetch.spec.release, "bookworm", "release");
        ok(q.pull.fetch.spec.variant == NULL, "NULL stays NULL");
        is_str(q.pull.default_config, "", "\"\" stays \"\"");
        ok(q.pull.fetch.mode == IMAGE_MODE_USER && q.pull.fetch.no_verify && !q.pull.fetch.flush_cache &&
                   q.pull.fetch.force_cache,
           "mode and flags");
        ok(q.pull.fetch.limits.meta_max == 2 && q.pull.fetch.download.max_size == 7 &&
                   q.pull.fetch.download.retry_delay_ms == 9 && q.pull.max_entries == 11 &&
                   q.pull.no_decompressor,
           "limits and numbers");
        ok(q.pull.config_items && streq(q.pull.config_items[1], "4") && !q.pull.config_items[2],
           "config items");
        ok(q.pull.n_idmap == 2 && q.pull.idmap[1].gid && q.pull.idmap[1].host_id == 300000 &&
                   q.pull.idmap[0].count == 65536,
           "id ranges");
        ok(q.pull.target_dir && !q.pull.container_path && !q.pull.fetch.progress, "no callback travels");
        worker_params_done(&q);
}

static void test_data_round_trip(void) {
        IdmapLine lines[] = { { IDMAP_BOTH, 0, 100000, 65536 } };
        const Idmap map = { .lines = lines, .n = 1 };
        char *paths[] = { (char *) "/etc/hostname", (char *) "/root", NULL };
        const FileWork fw = { .fds = { 11, 12 },
                              .push = false,
                              .paths = paths,
                              .recursive = true,
                              .runtime_dir = "/run/warren",
                              .container = "c",
                              .idmap = &map,
                              .caller_root = true };
        const int fds[2] = { 11, 12 };
        WorkerParams q;
        size_t n;
        uint8_t *b = pack(WORKER_FILES, &fw, fds, 2, &n);
        is(worker_params_unpack(WORKER_FILES, b, n, &q, NULL), 0, "file work read back");
        ok(q.files.fds[0] == WORKER_FIRST_FD && q.files.fds[1] == WORKER_FIRST_FD + 1, "fds become 5 and 6");
        ok(q.files.paths && streq(q.files.paths[1], "/root") && q.files.recursive && q.files.caller_root &&
                   !q.files.push && !q.files.dest_dir,
           "paths and flags");
        ok(q.files.idmap && q.files.idmap->n == 1 && q.files.idmap->lines[0].kind == IDMAP_BOTH &&
                   q.files.idmap->lines[0].hostid == 100000,
           "idmap");
        worker_params_done(&q);

        const ExportWork ew = { .name = "c", .compression = "xz", .now_s = 1700000000 };
        const int efds[4] = { 3, -EBADF, -EBADF, 9 };
        b = pack(WORKER_EXPORT, &ew, efds, 4, &n);
        is(worker_params_unpack(WORKER_EXPORT, b, n, &q, NULL), 0, "export work read back");
        ok(q.export.fds[0] == 5 && q.export.fds[1] < 0 && q.export.fds[2] < 0 && q.export.fds[3] == 8,
           "absent fds stay absent, present ones keep their place");
        ok(!q.export.shift && q.export.now_s == 1700000000, "no shift map; time");
        worker_params_done(&q);

        IdmapLine two[] = { { IDMAP_UID, 0, 100000, 65536 }, { IDMAP_GID, 0, 200000, 65536 } };
        const Idmap shift = { .lines = two, .n = 2 };
        const ExportWork ew2 = { .name = "u", .shift = &shift, .freeze_container = "u" };
        b = pack(WORKER_EXPORT, &ew2, efds, 4, &n);
        is(worker_params_unpack(WORKER_EXPORT, b, n, &q, NULL), 0, "export work with a shift map read back");
        ok(q.export.shift && q.export.shift->n == 2 && q.export.shift->lines[1].kind == IDMAP_GID &&
                   q.export.shift->lines[1].hostid == 200000 && streq(q.export.freeze_container, "u") &&
                   !q.export.compression,
           "the map's lines, in order");
        worker_params_done(&q);

        const CopyWork cw = { .dst_name = "rootfs", .cow = true, .rename_to = "b", .runtime_dir = "/run/w" };
        b = pack(WORKER_COPY, &cw, fds, 2, &n);
        is(worker_params_unpack(WORKER_COPY, b, n, &q, NULL), 0, "copy work read back");
        ok(streq(q.copy.dst_name, "rootfs") && q.copy.cow && !q.copy.rename_from &&
                   streq(q.copy.rename_to, "b") && streq(q.copy.runtime_dir, "/run/w") &&
                   !q.copy.freeze_container,
           "fields");
        worker_params_done(&q);

        const RestoreWork rw = { .tmp_name = ".#restore.snap0",
                                 .config = "lxc.uts.name = c\n",
                                 .cow = true };
        b = pack(WORKER_RESTORE, &rw, fds, 2, &n);
        is(worker_params_unpack(WORKER_RESTORE, b, n, &q, NULL), 0, "restore work read back");
        ok(streq(q.restore.config, "lxc.uts.name = c\n") && q.restore.cow && !q.restore.container, "fields");
        worker_params_done(&q);
}

static void test_image_child_round_trip(void) {
        static const ImageIdRange ranges[] = { { true, 0, 300000, 65536 } };
        const ImageLocalParams lp = { .fstree = "/x/rootfs.tar.xz",
                                      .target_dir = "/t",
                                      .container_name = "c",
                                      .hook_dir = "/h",
                                      .mode = IMAGE_MODE_USER,
                                      .idmap = ranges,
                                      .n_idmap = 1 };
        WorkerParams q;
        size_t n;
        uint8_t *b = pack(WORKER_IMAGE_LOCAL, &lp, NULL, 0, &n);
        is(worker_params_unpack(WORKER_IMAGE_LOCAL, b, n, &q, NULL), 0, "local image parameters read back");
        ok(streq(q.local.fstree, "/x/rootfs.tar.xz") && !q.local.metadata && streq(q.local.hook_dir, "/h") &&
                   q.local.mode == IMAGE_MODE_USER && q.local.n_idmap == 1 && q.local.idmap[0].gid &&
                   q.local.idmap[0].host_id == 300000,
           "fields, mode and ranges");
        worker_params_done(&q);

        const ImageRemoteParams rp = { .server = "https://s",
                                       .mode = IMAGE_MODE_SYSTEM,
                                       .scratch_dir = "/s" };
        b = pack(WORKER_IMAGE_REMOTE, &rp, NULL, 0, &n);
        is(worker_params_unpack(WORKER_IMAGE_REMOTE, b, n, &q, NULL), 0,
           "remote listing parameters read back");
        ok(streq(q.remote.server, "https://s") && q.remote.mode == IMAGE_MODE_SYSTEM && !q.remote.keyring &&
                   streq(q.remote.scratch_dir, "/s"),
           "fields");
        worker_params_done(&q);

        /* A mode the reader does not know is the system's, never the user's. */
        const ImageRemoteParams odd = { .server = "https://s", .mode = (ImageMode) 7 };
        b = pack(WORKER_IMAGE_REMOTE, &odd, NULL, 0, &n);
        is(worker_params_unpack(WORKER_IMAGE_REMOTE, b, n, &q, NULL), 0, "an unknown mode is read");
        ok(q.remote.mode == IMAGE_MODE_SYSTEM, "as the system's");
        worker_params_done(&q);
}

static void test_bad_params(void) {
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
        const CopyWork cw = { .dst_name = "rootfs", .rename_from = "a", .rename_to = "b" };
        const int fds[2] = { 7, 8 };
        WorkerParams q;
        size_t n;
        _cleanup_free_ uint8_t *b = pack(WORKER_COPY, &cw, fds, 2, &n);
        bool all_refused = true;
        for (size_t cut = 0; cut < n; cut++) {
                int r = worker_params_unpack(WORKER_COPY, dup_buf(b, cut), cut, &q, NULL);
                all_refused = all_refused && (r == -EBADMSG || r == -EPROTO);
        }
        ok(all_refused, "every truncation of %zu bytes is refused", n);

        uint8_t *longer = malloc(n + 1);
        memcpy(longer, b, n);
        longer[n] = 0;
        is(worker_params_unpack(WORKER_COPY, longer, n + 1, &q, &e), -EBADMSG, "a trailing byte is refused");
        like(e.message, "trailing bytes", "saying so");
        warren_error_clear(&e);

        is(worker_params_unpack(WORKER_RESTORE, dup_buf(b, n), n, &q, &e), -EPROTO,
           "parameters of another kind are refused");
        like(e.message, "'restore'", "naming the kind expected");
        warren_error_clear(&e);

        uint8_t *v = dup_buf(b, n);
        v[4] ^= 0x7f; /* the format version */
        is(worker_params_unpack(WORKER_COPY, v, n, &q, &e), -EPROTO, "another format version is refused");
        like(e.message, "different builds", "as a build mismatch");
        warren_error_clear(&e);

        /* The string "a" (length 1): its NUL replaced. */
        uint8_t *s = dup_buf(b, n);
        for (size_t i = 0; i + 6 <= n; i++)
                if (memcmp(s + i, "\x01\0\0\0a\0", 6) == 0) {
                        s[i + 5] = 'x';
                        break;
                }
        is(worker_params_unpack(WORKER_COPY, s, n, &q, &e), -EBADMSG, "a string without its NUL is refused");
        like(e.message, "misplaced NUL", "saying so");
        warren_error_clear(&e);

        Packer p = {};
        pack_u32(&p, 0x31505757U);
        pack_u32(&p, WORKER_PARAMS_VERSION);
        pack_u32(&p, WORKER_FILES);
        pack_u32(&p, 2);
        pack_u32(&p, 3);
        pack_bool(&p, false);
        pack_u32(&p, 100000); /* paths: far more than there are bytes */
        uint8_t *l;
        ok(pack_finish(&p, &l, &n) == 0, "a list claiming 100000 entries");
        is(worker_params_unpack(WORKER_FILES, l, n, &q, &e), -EBADMSG, "is refused before allocating");
        like(e.message, "list too long", "saying so");

        is(worker_kind_from_string("export"), WORKER_EXPORT, "kind names");
        is_str(worker_kind_to_string(WORKER_IMAGE_REMOTE), "image-remote", "kind strings");
        ok(worker_kind_from_string("sh") < 0 && worker_kind_from_string(NULL) < 0, "unknown kinds");
}

int main(int argc, char *argv[]) {
        if (argc == 2 && streq(argv[0], "warren-worker"))
                return probe();
        ssize_t k = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
        if (k <= 0)
                return printf("Bail out! /proc/self/exe\n"), 1;
        self_path[k] = 0;

        test_pull_round_trip();
        test_data_round_trip();
        test_image_child_round_trip();
        test_bad_params();
        test_spawn();
        test_worker_refuses();
        return done_testing();
}
