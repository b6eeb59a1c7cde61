/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/snapshot: names reserved at once, listing, deleting, limits, stale
 * leftovers, restoring in place (and what a killed restore leaves undone). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data-fixture.h"
#include "fileio.h"
#include "snapshot.h"
#include "store.h"
#include "tap.h"

static char tmp[] = "/tmp/test-snapshot.XXXXXX";

static int build(int dirfd, const char *final_path, void *userdata, WarrenError *reterr) {
        if (write_file_atomic_at(dirfd, "config", "lxc.uts.name = c1\n", 18, 0644) < 0 ||
            mkdirat(dirfd, "rootfs", 0755) < 0)
                return -errno;
        int fd = openat(dirfd, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        (void) write_file_atomic_at(fd, "version", "1\n", 2, 0644);
        close(fd);
        return 0;
}

static char *rd(const char *rel) {
        char p[512];
        char *t = NULL;
        snprintf(p, sizeof p, "%s/containers/c1/%s", tmp, rel);
        return read_full_file(p, 1 << 20, &t, NULL) < 0 ? NULL : t;
}

static bool exists(const char *rel) {
        char p[512];
        struct stat st;
        snprintf(p, sizeof p, "%s/containers/c1/%s", tmp, rel);
        return lstat(p, &st) == 0;
}

static int fill(SnapshotCreate *c) {
        if (mkdirat(snapshot_create_dirfd(c), "rootfs", 0755) < 0)
                return -errno;
        int fd = openat(snapshot_create_dirfd(c), "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = write_file_atomic_at(fd, "version", "snap\n", 5, 0644);
        close(fd);
        return r;
}

int main(void) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_store_ Store *s = NULL;
        SnapshotCreate *a = NULL, *b = NULL, *c = NULL;
        SnapshotInfo *l = NULL;
        size_t n = 0;
        if (!mkdtemp(tmp) || store_open(tmp, &s, &err) < 0 ||
            store_create(s, "c1", 0, build, NULL, &err) < 0)
                return 1;

        is(snapshot_list(s, "c1", &l, &n, &err), 0, "no snapshots yet");
        is(n, 0, "...an empty list");
        /* Two at once get two names. */
        is(snapshot_create_begin(s, "c1", "first\nline two", 1700000000ULL * 1000000ULL, &a, &err), 0,
           "begin one");
        is(snapshot_create_begin(s, "c1", "", 1700000100ULL * 1000000ULL, &b, &err), 0, "begin another");
        is_str(snapshot_create_name(a), "snap0", "the first is snap0");
        is_str(snapshot_create_name(b), "snap1", "the one begun meanwhile is snap1");
        is(snapshot_list(s, "c1", &l, &n, &err), 0, "list while they are made");
        is(n, 0, "...shows neither");
        is(snapshot_create_commit(b, &err), -EPROTO, "a snapshot without rootfs is not committed");
        ok(fill(a) == 0 && fill(b) == 0, "fill both");
        is(snapshot_create_commit(a, &err), 0, "commit snap0");
        is(snapshot_create_commit(b, &err), 0, "commit snap1");
        a = snapshot_create_abort(a);
        b = snapshot_create_abort(b);
        is(snapshot_list(s, "c1", &l, &n, &err), 0, "list");
        ok(n == 2 && streq(l[0].name, "snap0") && streq(l[1].name, "snap1"), "snap0, snap1");
        ok(n == 2 && streq(l[0].comment, "first\nline two") && streq(l[1].comment, ""), "comments");
        ok(n == 2 && l[0].created_usec == 1700000000ULL * 1000000ULL, "creation time (%llu)",
           n ? (unsigned long long) l[0].created_usec : 0ULL);
        snapshot_info_free_many(l, n);
        _cleanup_free_ char *cfg = rd("snaps/snap0/config"), *ts = rd("snaps/snap0/ts");
        is_str(cfg, "lxc.uts.name = c1\n", "the config is kept");
        is_str(ts, "2023:11:14 22:13:20\n", "ts in lxc-snapshot's format");

        /* An aborted one is gone, its number free again. */
        is(snapshot_create_begin(s, "c1", "x", 0, &c, &err), 0, "begin a third");
        is_str(snapshot_create_name(c), "snap2", "snap2");
        c = snapshot_create_abort(c);
        ok(!exists("snaps/.#new.snap2"), "aborting removes it");
        /* A leftover of a killed warrend (unlocked) is cleaned up. */
        char p[512];
        snprintf(p, sizeof p, "%s/containers/c1/snaps/.#new.snap7", tmp);
        mkdir(p, 0700);
        is(snapshot_create_begin(s, "c1", "x", 0, &c, &err), 0, "begin after a stale leftover");
        is_str(snapshot_create_name(c), "snap2", "its number is not taken");
        ok(!exists("snaps/.#new.snap7"), "the leftover is gone");
        c = snapshot_create_abort(c);

        /* Garbage. */
        _cleanup_error_ WarrenError e1 = WARREN_ERROR_NULL, e2 = WARREN_ERROR_NULL, e3 = WARREN_ERROR_NULL;
        int fd = -EBADF;
        is(snapshot_open(s, "c1", "../c1", &fd, &e1), -EINVAL, "a snapshot name with a slash is refused");
        like(warren_error_message(&e1), "'../c1'", "...naming it");
        is(snapshot_open(s, "c1", "snap9", &fd, &e2), -ENOENT, "a missing snapshot");
        like(warren_error_message(&e2), "no snapshot 'snap9'", "...named");
        char big[SNAPSHOT_COMMENT_MAX + 2];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = 0;
        is(snapshot_create_begin(s, "c1", big, 0, &c, &e3), -EINVAL, "a comment over the limit is refused");
        ok(!exists("snaps/.#new.snap2"), "...and nothing is made");

        /* Restore in place: the snapshot's rootfs and config come back. */
        RestoreWork w = {
                .tmp_name = ".#restore.snap0",
                .config = "lxc.uts.name = c1\n# restored\n",
                .runtime_dir = tmp,
                .container = "c1",
        };
        snprintf(p, sizeof p, "%s/containers/c1/snaps/snap0/rootfs", tmp);
        w.fds[0] = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        snprintf(p, sizeof p, "%s/containers/c1", tmp);
        w.fds[1] = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int keep[2] = { w.fds[0], w.fds[1] };
        WorkerOutcome out;
        is(run_worker(WORKER_RESTORE, &w, w.fds, 2, &out), 0, "restore (%s)", out.text);
        _cleanup_free_ char *v = rd("rootfs/version"), *rc = rd("config");
        is_str(v, "snap\n", "the rootfs is the snapshot's");
        is_str(rc, "lxc.uts.name = c1\n# restored\n", "the config is the one given");
        ok(!exists(".#restore.snap0") && !exists(".#old.restore.snap0"), "nothing left beside");

        /* What a restore killed between its two renames leaves is undone. */
        snprintf(p, sizeof p,
                 "mv %s/containers/c1/rootfs %s/containers/c1/.#old.restore.snap0 && mkdir "
                 "%s/containers/c1/.#restore.snap0",
                 tmp, tmp, tmp);
        ok(system(p) == 0, "simulate a restore killed midway");
        restore_work_cleanup(keep[1], ".#restore.snap0");
        _cleanup_free_ char *v2 = rd("rootfs/version");
        is_str(v2, "snap\n", "the old rootfs is back in place");
        ok(!exists(".#restore.snap0") && !exists(".#old.restore.snap0"), "the leftovers are gone");

        is(snapshot_delete(s, "c1", "snap0", &err), 0, "delete snap0");
        is(snapshot_list(s, "c1", &l, &n, &err), 0, "list");
        ok(n == 1 && streq(l[0].name, "snap1"), "only snap1 is left");
        snapshot_info_free_many(l, n);
        is(snapshot_delete(s, "c1", "snap0", &e2), -ENOENT, "deleting it again: ENOENT");
        /* The limit. */
        int made = 0;
        for (unsigned i = 0; i < SNAPSHOTS_MAX + 1; i++) {
                _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
                if (snapshot_create_begin(s, "c1", "", 0, &c, &e) < 0) {
                        is(warren_error_set(NULL, e.error, "x"), -EDQUOT,
                           "the %u. snapshot is over the limit", i + 2);
                        like(warren_error_message(&e), "the limit is 64", "...saying so");
                        break;
                }
                if (fill(c) < 0 || snapshot_create_commit(c, &e) < 0)
                        break;
                c = snapshot_create_abort(c);
                made++;
        }
        is(made, SNAPSHOTS_MAX - 1, "%u snapshots at most", SNAPSHOTS_MAX);
        close(keep[0]);
        close(keep[1]);
        snprintf(p, sizeof p, "rm -rf %s", tmp);
        (void) system(p);
        return done_testing();
}
