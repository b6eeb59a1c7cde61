/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "config.h"
#include "basic/fileio.h"
#include "basic/strv.h"
#include "tap.h"

/* Local copy of the clone3() argument block (kernel ABI, versioned by size). */
struct test_clone_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
                set_tid_size, cgroup;
};
#define TEST_CLONE_INTO_CGROUP 0x200000000ULL

static char tmpdir[] = "/tmp/test-cgroup-XXXXXX";
static char v2_hybrid[256], v2_unified[256];

static void skip(const char *why) {
        ok(1, "# SKIP %s", why);
}

static void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

static int write_text(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        if (!f)
                return -errno;
        fputs(text, f);
        return fclose(f) == 0 ? 0 : -errno;
}

static char *read_text(const char *path) {
        char *s = NULL;
        if (read_one_line_file(path, &s) < 0)
                return NULL;
        return s;
}

static void setup_fake_roots(void) {
        char p[512];
        if (!mkdtemp(tmpdir))
                abort();
        snprintf(v2_hybrid, sizeof(v2_hybrid), "%s/unified", tmpdir);
        snprintf(v2_unified, sizeof(v2_unified), "%s/v2", tmpdir);
        mkdir(v2_hybrid, 0755);
        mkdir(v2_unified, 0755);
        snprintf(p, sizeof(p), "%s/cgroup.controllers", v2_hybrid);
        write_text(p, "hugetlb\n");
        snprintf(p, sizeof(p), "%s/cgroup.controllers", v2_unified);
        write_text(p, "cpuset cpu io memory hugetlb pids rdma misc\n");
}

static void cleanup_fake_roots(void) {
        char p[512];
        snprintf(p, sizeof(p), "%s/cgroup.controllers", v2_hybrid);
        unlink(p);
        snprintf(p, sizeof(p), "%s/cgroup.controllers", v2_unified);
        unlink(p);
        rmdir(v2_hybrid);
        rmdir(v2_unified);
        rmdir(tmpdir);
}

/* This machine's kind: v1 controllers plus a cgroup2 with only hugetlb. */
static CgroupLayout *hybrid_layout(void) {
        char *mounts = NULL;
        CgroupLayout *l = NULL;
        if (asprintf(&mounts,
                     "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
                     "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n"
                     "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,relatime,cpu,cpuacct 0 0\n"
                     "cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset,clone_children 0 0\n"
                     "cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,memory 0 0\n"
                     "cgroup /sys/fs/cgroup/devices cgroup rw,relatime,devices 0 0\n"
                     "cgroup /sys/fs/cgroup/freezer cgroup rw,relatime,freezer 0 0\n"
                     "cgroup /sys/fs/cgroup/blkio cgroup rw,relatime,blkio 0 0\n"
                     "cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0\n"
                     "cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,xattr,name=systemd 0 0\n"
                     "cgroup2 %s cgroup2 rw,relatime 0 0\n"
                     "cgroup /mnt/memory-again cgroup rw,memory 0 0\n",
                     v2_hybrid) < 0)
                abort();
        int r = cgroup_layout_parse(mounts, &l, NULL);
        free(mounts);
        return r < 0 ? NULL : l;
}

static CgroupLayout *unified_layout(void) {
        char *mounts = NULL;
        CgroupLayout *l = NULL;
        if (asprintf(&mounts, "proc /proc proc rw 0 0\ncgroup2 %s cgroup2 rw,nsdelegate 0 0\n", v2_unified) <
            0)
                abort();
        int r = cgroup_layout_parse(mounts, &l, NULL);
        free(mounts);
        return r < 0 ? NULL : l;
}

static void test_layout_parse(void) {
        _cleanup_(cgroup_layout_freep) CgroupLayout *h = hybrid_layout(), *u = unified_layout();
        _cleanup_(cgroup_layout_freep) CgroupLayout *e = NULL, *esc = NULL;
        WarrenError err = WARREN_ERROR_NULL;

        ok(h != NULL, "hybrid mount table parses");
        if (!h || !u)
                return;
        is_str(h->v2_mount, v2_hybrid, "cgroup2 mount found");
        is(strv_length(h->v2_controllers), 1, "one cgroup2 controller");
        is_str(h->v2_controllers[0], "hugetlb", "it is hugetlb");
        is(h->n_v1, 8, "eight v1 hierarchies (the second memory mount is ignored)");
        ok(!cgroup_layout_is_unified(h), "hybrid is not unified");
        ok(cgroup_layout_v2_has(h, "hugetlb") && !cgroup_layout_v2_has(h, "memory"),
           "v2 has hugetlb, not memory");
        is_str(cgroup_layout_v1_find(h, "cpuacct")->mount, "/sys/fs/cgroup/cpu,cpuacct",
               "cpuacct co-mounted with cpu");
        is_str(cgroup_layout_v1_find(h, "cpu")->mount, "/sys/fs/cgroup/cpu,cpuacct", "cpu found");
        is(strv_length(cgroup_layout_v1_find(h, "cpuset")->controllers), 1,
           "clone_children is not a controller");
        is_str(cgroup_layout_v1_find(h, "memory")->mount, "/sys/fs/cgroup/memory",
               "first memory mount wins");
        is_str(cgroup_layout_v1_find(h, "name=systemd")->mount, "/sys/fs/cgroup/systemd",
               "named hierarchy kept");
        ok(cgroup_layout_v1_find(h, "xattr") == NULL, "mount flag xattr is not a controller");
        ok(cgroup_layout_v1_find(h, "hugetlb") == NULL, "hugetlb is not a v1 hierarchy here");

        ok(cgroup_layout_is_unified(u), "cgroup2-only layout is unified");
        is(strv_length(u->v2_controllers), 8, "eight cgroup2 controllers");
        ok(cgroup_layout_v2_has(u, "memory") && cgroup_layout_v2_has(u, "io"), "memory and io on cgroup2");

        is(cgroup_layout_parse("proc /proc proc rw 0 0\nbogus\n\n  \nx y\n", &e, &err), -ENOMEDIUM,
           "no cgroup mounts");
        is_str(err.message,
               "No cgroup filesystem is mounted (no cgroup2 or cgroup entry in the mount table)",
               "error says so");
        ok(e == NULL, "nothing returned");
        warren_error_clear(&err);

        is(cgroup_layout_parse("garbage\ncgroup /a\\040b/mem cgroup rw,memory 0 0\ncgroup2 /nonexistent/v2 "
                               "cgroup2 rw 0 0\n"
                               "cgroup /x cgroup rw,relatime 0 0\n",
                               &esc, &err),
           0, "escaped mount point, garbage line, unreadable cgroup2 root");
        if (esc) {
                is_str(esc->v1[0].mount, "/a b/mem", "\\040 decoded to a space");
                is(esc->n_v1, 1, "a v1 mount without controllers is ignored");
                is(strv_length(esc->v2_controllers), 0, "unreadable cgroup.controllers: no v2 controllers");
        }
}

/* Plans kv on l and expects success; returns the plan. */
static CgroupPlan *plan_ok(const CgroupLayout *l, char **kv) {
        CgroupPlan *p = NULL;
        WarrenError err = WARREN_ERROR_NULL;
        int r = cgroup_plan_limits(l, kv, &p, &err);
        if (!ok(r == 0, "plan %s = %s", kv[0], kv[1]))
                printf("#   %s\n", warren_error_message(&err));
        warren_error_clear(&err);
        return p;
}

static void expect_setting(const CgroupPlan *p, size_t i, const char *mount, const char *file,
                           const char *value) {
        if (!ok(p && i < p->n_settings, "setting %zu exists", i))
                return;
        is_str(p->settings[i].mount, mount, "setting %zu goes to %s", i, mount);
        is_str(p->settings[i].file, file, "setting %zu file %s", i, file);
        is_str(p->settings[i].value, value, "setting %zu value '%s'", i, value);
}

/* message may name the fake roots as /tmp/test-cgroup-XXXXXX (same length as the real name). */
static void plan_fails(const CgroupLayout *l, const char *key, const char *value, int error,
                       const char *message) {
        char *kv[] = { (char *) key, (char *) value, NULL };
        char expect[1024];
        snprintf(expect, sizeof(expect), "%s", message);
        char *t = strstr(expect, "/tmp/test-cgroup-XXXXXX");
        if (t)
                memcpy(t, tmpdir, strlen(tmpdir));
        CgroupPlan *p = NULL;
        WarrenError err = WARREN_ERROR_NULL;
        is(cgroup_plan_limits(l, kv, &p, &err), -error, "'%s' = '%.*s' fails", key,
           (int) strcspn(value, "\n"), value);
        is_str(err.message, expect, "error for '%s'", key);
        ok(p == NULL, "no plan returned");
        warren_error_clear(&err);
}

static void test_plan_hybrid(void) {
        _cleanup_(cgroup_layout_freep) CgroupLayout *h = hybrid_layout();
        if (!h)
                return;
        char *kv[] = {
                "lxc.cgroup2.memory.swap.max",
                "32M",
                "lxc.cgroup2.memory.max",
                "64M",
                "lxc.cgroup2.memory.high",
                "max",
                "lxc.cgroup2.pids.max",
                "20",
                "lxc.cgroup2.cpu.max",
                "50000 100000",
                "lxc.cgroup2.cpu.weight",
                "100",
                "lxc.cgroup2.cpuset.cpus",
                "0",
                "lxc.cgroup2.io.weight",
                "default 100",
                "lxc.cgroup2.hugetlb.2MB.max",
                "0",
                "lxc.cgroup2.cgroup.max.descendants",
                "10",
                "lxc.cgroup2.devices.deny",
                "a",
                "lxc.cgroup.cpuset.mems",
                "0",
                "lxc.cgroup.dir",
                "foo",
                "lxc.cgroup.relative",
                "1",
                NULL,
        };
        _cleanup_(cgroup_plan_freep) CgroupPlan *p = plan_ok(h, kv);
        if (!p)
                return;
        is(p->n_settings, 13, "thirteen writes");
        expect_setting(p, 0, "/sys/fs/cgroup/memory", "memory.limit_in_bytes", "64M");
        expect_setting(p, 1, "/sys/fs/cgroup/memory", "memory.soft_limit_in_bytes", "-1");
        expect_setting(p, 2, "/sys/fs/cgroup/pids", "pids.max", "20");
        expect_setting(p, 3, "/sys/fs/cgroup/cpu,cpuacct", "cpu.cfs_period_us", "100000");
        expect_setting(p, 4, "/sys/fs/cgroup/cpu,cpuacct", "cpu.cfs_quota_us", "50000");
        expect_setting(p, 5, "/sys/fs/cgroup/cpu,cpuacct", "cpu.shares", "1024");
        expect_setting(p, 6, "/sys/fs/cgroup/cpuset", "cpuset.cpus", "0");
        expect_setting(p, 7, "/sys/fs/cgroup/blkio", "blkio.weight", "500");
        expect_setting(p, 8, v2_hybrid, "hugetlb.2MB.max", "0");
        expect_setting(p, 9, v2_hybrid, "cgroup.max.descendants", "10");
        expect_setting(p, 10, "/sys/fs/cgroup/devices", "devices.deny", "a");
        expect_setting(p, 11, "/sys/fs/cgroup/cpuset", "cpuset.mems", "0");
        /* 64M + 32M, after memory.limit_in_bytes although configured first. */
        expect_setting(p, 12, "/sys/fs/cgroup/memory", "memory.memsw.limit_in_bytes", "100663296");
        is_str(p->settings[12].key, "lxc.cgroup2.memory.swap.max", "memsw comes from the swap key");
        is_str(p->settings[12].config_value, "32M", "with its configured value");
        ok(p->settings[0].v1 && !p->settings[8].v1, "v1 flags");
        is(strv_length(p->ignored), 0, "nothing ignored with a v1 devices hierarchy");

        static const struct {
                const char *key, *value, *file, *expect;
        } one[] = {
                { "lxc.cgroup2.memory.max", "max", "memory.limit_in_bytes", "-1" },
                { "lxc.cgroup2.cpu.max", "max", "cpu.cfs_quota_us", "-1" },
                { "lxc.cgroup2.cpu.weight", "1", "cpu.shares", "10" },
                { "lxc.cgroup2.cpu.weight", "10000", "cpu.shares", "102400" },
                { "lxc.cgroup2.io.weight", "1", "blkio.weight", "10" },
                { "lxc.cgroup2.io.weight", "10000", "blkio.weight", "1000" },
                { "lxc.cgroup2.io.weight", "8:0 50", "blkio.weight_device", "8:0 250" },
                { "lxc.cgroup2.memory.swap.max", "max", "memory.memsw.limit_in_bytes", "-1" },
                { "lxc.cgroup2.cpuset.mems", "0", "cpuset.mems", "0" },
                { "lxc.cgroup.memory.limit_in_bytes", "1G", "memory.limit_in_bytes", "1G" },
                { "lxc.cgroup.devices.allow", "c 1:3 rwm", "devices.allow", "c 1:3 rwm" },
        };
        for (size_t i = 0; i < ELEMENTSOF(one); i++) {
                char *kv1[] = { (char *) one[i].key, (char *) one[i].value, NULL };
                _cleanup_(cgroup_plan_freep) CgroupPlan *q = plan_ok(h, kv1);
                if (q && ok(q->n_settings >= 1, "%s planned", one[i].key)) {
                        is_str(q->settings[q->n_settings - 1].file, one[i].file, "%s = %s -> %s", one[i].key,
                               one[i].value, one[i].file);
                        is_str(q->settings[q->n_settings - 1].value, one[i].expect, "value '%s'",
                               one[i].expect);
                }
        }

        plan_fails(h, "lxc.cgroup2.foo.max", "1", EOPNOTSUPP,
                   "lxc.cgroup2.foo.max: controller 'foo' is not available (neither in cgroup2 at "
                   "/tmp/test-cgroup-XXXXXX/unified nor as a v1 hierarchy)");
        plan_fails(h, "lxc.cgroup2.rdma.max", "x", EOPNOTSUPP,
                   "lxc.cgroup2.rdma.max: controller 'rdma' is not available (neither in cgroup2 at "
                   "/tmp/test-cgroup-XXXXXX/unified nor as a v1 hierarchy)");
        plan_fails(h, "lxc.cgroup2.memory.low", "1M", EOPNOTSUPP,
                   "lxc.cgroup2.memory.low: controller 'memory' is only available as a cgroup v1 hierarchy "
                   "at /sys/fs/cgroup/memory, and 'memory.low' has no cgroup v1 equivalent");
        plan_fails(
                h, "lxc.cgroup.net_cls.classid", "1", EOPNOTSUPP,
                "lxc.cgroup.net_cls.classid: controller 'net_cls' is not available as a cgroup v1 hierarchy "
                "on this host (cgroup2 is at /tmp/test-cgroup-XXXXXX/unified: use lxc.cgroup2.* keys)");
        plan_fails(h, "lxc.cgroup2.memory.swap.max", "1G", EINVAL,
                   "lxc.cgroup2.memory.swap.max = 1G: cgroup v1 limits memory and swap together, which "
                   "needs lxc.cgroup2.memory.max set to a byte count (it is unset)");
        plan_fails(h, "lxc.cgroup2.memory.swap.max", "lots", EINVAL,
                   "Invalid value 'lots' for lxc.cgroup2.memory.swap.max: must be a byte count (K/M/G/T "
                   "suffixes allowed) or 'max'");
        plan_fails(h, "lxc.cgroup2.cpu.weight", "0", EINVAL,
                   "Invalid value '0' for lxc.cgroup2.cpu.weight: must be 1..10000");
        plan_fails(h, "lxc.cgroup2.cpu.weight", "10001", EINVAL,
                   "Invalid value '10001' for lxc.cgroup2.cpu.weight: must be 1..10000");
        plan_fails(h, "lxc.cgroup2.cpu.max", "50000 100000 7", EINVAL,
                   "Invalid value '50000 100000 7' for lxc.cgroup2.cpu.max: must be 'QUOTA [PERIOD]' in "
                   "microseconds, QUOTA may be 'max'");
        plan_fails(h, "lxc.cgroup2.cpu.max", "-5", EINVAL,
                   "Invalid value '-5' for lxc.cgroup2.cpu.max: must be 'QUOTA [PERIOD]' in microseconds, "
                   "QUOTA may be 'max'");
        plan_fails(h, "lxc.cgroup2.io.weight", "8:x 5", EINVAL,
                   "Invalid value '8:x 5' for lxc.cgroup2.io.weight: must be 'WEIGHT', 'default WEIGHT' or "
                   "'MAJ:MIN WEIGHT'");
        plan_fails(
                h, "lxc.cgroup2.devices.list", "a", EINVAL,
                "Invalid cgroup key 'lxc.cgroup2.devices.list': only devices.allow and devices.deny exist");

        /* The swap sum uses the last memory.max, wherever it is. */
        char *kv2[] = { "lxc.cgroup2.memory.max",
                        "1G",
                        "lxc.cgroup2.memory.swap.max",
                        "1G",
                        "lxc.cgroup2.memory.max",
                        "2G",
                        NULL };
        _cleanup_(cgroup_plan_freep) CgroupPlan *q = plan_ok(h, kv2);
        if (q && is(q->n_settings, 3, "three writes"))
                expect_setting(q, 2, "/sys/fs/cgroup/memory", "memory.memsw.limit_in_bytes", "3221225472");
        char *kv3[] = { "lxc.cgroup2.memory.max", "max", "lxc.cgroup2.memory.swap.max", "1G", NULL };
        WarrenError err = WARREN_ERROR_NULL;
        CgroupPlan *none = NULL;
        is(cgroup_plan_limits(h, kv3, &none, &err), -EINVAL, "swap limit with unlimited memory fails on v1");
        is_str(err.message,
               "lxc.cgroup2.memory.swap.max = 1G: cgroup v1 limits memory and swap together, which needs "
               "lxc.cgroup2.memory.max set to a byte count (it is 'max')",
               "error names the memory.max value");
        warren_error_clear(&err);
}

static void test_plan_unified(void) {
        _cleanup_(cgroup_layout_freep) CgroupLayout *u = unified_layout();
        if (!u)
                return;
        char *kv[] = {
                "lxc.cgroup2.memory.max",
                "64M",
                "lxc.cgroup2.memory.swap.max",
                "0",
                "lxc.cgroup2.pids.max",
                "20",
                "lxc.cgroup2.cpu.max",
                "max 100000",
                "lxc.cgroup2.io.weight",
                "200",
                "lxc.cgroup2.devices.allow",
                "c 1:3 rwm",
                "lxc.cgroup.devices.deny",
                "a",
                NULL,
        };
        _cleanup_(cgroup_plan_freep) CgroupPlan *p = plan_ok(u, kv);
        if (!p)
                return;
        is(p->n_settings, 5, "five writes, untranslated");
        expect_setting(p, 0, v2_unified, "memory.max", "64M");
        expect_setting(p, 1, v2_unified, "memory.swap.max", "0");
        expect_setting(p, 2, v2_unified, "pids.max", "20");
        expect_setting(p, 3, v2_unified, "cpu.max", "max 100000");
        expect_setting(p, 4, v2_unified, "io.weight", "200");
        is(strv_length(p->ignored), 2, "device rules ignored without a v1 devices hierarchy");
        if (strv_length(p->ignored) == 2) {
                is_str(p->ignored[0],
                       "lxc.cgroup2.devices.allow: no cgroup v1 devices hierarchy, and cgroup2 device "
                       "filters (eBPF) are not supported",
                       "ignored v2 device rule says why");
                like(p->ignored[1], "lxc.cgroup.devices.deny: ", "ignored v1 device rule");
        }
        plan_fails(
                u, "lxc.cgroup.memory.limit_in_bytes", "1G", EOPNOTSUPP,
                "lxc.cgroup.memory.limit_in_bytes: controller 'memory' is not available as a cgroup v1 "
                "hierarchy on this host (cgroup2 is at /tmp/test-cgroup-XXXXXX/v2: use lxc.cgroup2.* keys)");
        plan_fails(u, "lxc.cgroup2.freezer.state", "FROZEN", EOPNOTSUPP,
                   "lxc.cgroup2.freezer.state: controller 'freezer' is not available (neither in cgroup2 at "
                   "/tmp/test-cgroup-XXXXXX/v2 nor as a v1 hierarchy)");
}

static void test_plan_garbage(void) {
        _cleanup_(cgroup_layout_freep) CgroupLayout *h = hybrid_layout();
        if (!h)
                return;
        static const struct {
                const char *key, *file;
        } bad[] = {
                { "lxc.cgroup2.../x", "../x" },
                { "lxc.cgroup2.memory.max/..", "memory.max/.." },
                { "lxc.cgroup2.memory..max", "memory..max" },
                { "lxc.cgroup2.", "" },
                { "lxc.cgroup2.max", "max" },
                { "lxc.cgroup2..memory", ".memory" },
                { "lxc.cgroup2.memory.", "memory." },
                { "lxc.cgroup2.memory max", "memory max" },
                { "lxc.cgroup.memory.limit_in_bytes/../../../etc/passwd",
                  "memory.limit_in_bytes/../../../etc/passwd" },
                { "lxc.cgroup./etc/shadow", "/etc/shadow" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char msg[512];
                snprintf(msg, sizeof(msg),
                         "Invalid cgroup key '%s': '%s' is not a cgroup file name (CONTROLLER.FILE of "
                         "[A-Za-z0-9_.-], no '/' or '..')",
                         bad[i].key, bad[i].file);
                plan_fails(h, bad[i].key, "1", EINVAL, msg);
        }
        plan_fails(h, "../x", "1", EINVAL,
                   "Invalid cgroup key '../x': not an lxc.cgroup.* or lxc.cgroup2.* key");
        plan_fails(h, "lxc.cgroupfoo.x", "1", EINVAL,
                   "Invalid cgroup key 'lxc.cgroupfoo.x': not an lxc.cgroup.* or lxc.cgroup2.* key");
        plan_fails(h, "lxc.cgroup2.cgroup.procs", "1", EINVAL,
                   "Invalid cgroup key 'lxc.cgroup2.cgroup.procs': 'cgroup.procs' is managed by warren");
        plan_fails(h, "lxc.cgroup.cgroup.procs", "1", EINVAL,
                   "Invalid cgroup key 'lxc.cgroup.cgroup.procs': 'cgroup.procs' is managed by warren");
        plan_fails(h, "lxc.cgroup.tasks", "1", EINVAL,
                   "Invalid cgroup key 'lxc.cgroup.tasks': 'tasks' is not a cgroup file name "
                   "(CONTROLLER.FILE of [A-Za-z0-9_.-], no '/' or '..')");
        plan_fails(h, "lxc.cgroup2.pids.max", "1\n2", EINVAL,
                   "Invalid value '1\n2' for lxc.cgroup2.pids.max: must be a single line of at most 4096 "
                   "bytes");
}

static void test_new_validation(void) {
        _cleanup_(cgroup_layout_freep) CgroupLayout *h = hybrid_layout();
        static const struct {
                const char *parent, *name, *message;
        } bad[] = {
                { "warren", "../x",
                  "Invalid cgroup name '../x': must be 1..128 of [A-Za-z0-9_.-], not starting with '.'" },
                { "warren", "..",
                  "Invalid cgroup name '..': must be 1..128 of [A-Za-z0-9_.-], not starting with '.'" },
                { "warren", "",
                  "Invalid cgroup name '': must be 1..128 of [A-Za-z0-9_.-], not starting with '.'" },
                { "a/b", "c1",
                  "Invalid cgroup parent 'a/b': must be 1..128 of [A-Za-z0-9_.-], not starting with '.'" },
                { "", "c1",
                  "Invalid cgroup parent '': must be 1..128 of [A-Za-z0-9_.-], not starting with '.'" },
        };
        if (!h)
                return;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Cgroup *cg = NULL;
                WarrenError err = WARREN_ERROR_NULL;
                is(cgroup_new(h, bad[i].parent, bad[i].name, &cg, &err), -EINVAL,
                   "cgroup_new('%s', '%s') fails", bad[i].parent, bad[i].name);
                is_str(err.message, bad[i].message, "message for '%s'/'%s'", bad[i].parent, bad[i].name);
                ok(cg == NULL, "nothing returned");
                warren_error_clear(&err);
        }
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        is(cgroup_new(h, "warren", "c1", &cg, NULL), 0, "valid cgroup");
        if (cg) {
                is_str(cgroup_get_path(cg), "/warren/c1", "CGroup property path");
                char expect[512];
                snprintf(expect, sizeof(expect), "%s/warren/c1", v2_hybrid);
                is_str(cgroup_get_v2_dir(cg), expect, "v2 directory");
        }
}

/* ---- on this machine, as root ---- */

static bool exists(const char *path) {
        struct stat st;
        return lstat(path, &st) >= 0;
}

static char proc_state(pid_t pid) {
        char p[64], buf[512];
        snprintf(p, sizeof(p), "/proc/%d/stat", (int) pid);
        FILE *f = fopen(p, "re");
        if (!f)
                return '?';
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        char *c = strrchr(buf, ')');
        return c && c[1] == ' ' ? c[2] : '?';
}

static pid_t clone_into(int cgroup_fd) {
        struct test_clone_args a = { .flags = TEST_CLONE_INTO_CGROUP,
                                     .exit_signal = SIGCHLD,
                                     .cgroup = (uint64_t) cgroup_fd };
        return (pid_t) syscall(SYS_clone3, &a, sizeof(a));
}

static void reap_all(void) {
        while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
                ;
}

static void expect_v1_file(const CgroupLayout *l, const char *ctrl, const char *path, const char *file,
                           const char *expect) {
        const CgroupHierarchy *h = cgroup_layout_v1_find(l, ctrl);
        char p[512];
        if (!h) {
                skip("no v1 hierarchy");
                return;
        }
        snprintf(p, sizeof(p), "%s%s/%s", h->mount, path, file);
        char *s = read_text(p);
        is_str(s, expect, "%s reads back '%s'", p, expect);
        free(s);
}

/* Forks children inside the cgroup until the pids limit stops it. */
static void test_fork_bomb(Cgroup *cg, const CgroupLayout *l) {
        int go[2], res[2];
        _cleanup_close_ int fd = cgroup_open_fd(cg, NULL);
        ok(fd >= 0, "cgroup_open_fd");
        if (fd < 0 || pipe2(go, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0)
                return;
        pid_t bomber = clone_into(fd);
        if (bomber == 0) {
                char c;
                int result[2] = { 0, 0 };
                if (read(go[0], &c, 1) != 1)
                        _exit(1);
                /* Bounded, in case the limit is not enforced. */
                for (int i = 0; i < 200; i++) {
                        pid_t k = fork();
                        if (k == 0)
                                for (;;)
                                        pause();
                        if (k < 0) {
                                result[1] = errno;
                                break;
                        }
                        result[0]++;
                }
                if (write(res[1], result, sizeof(result)) < 0)
                        _exit(1);
                for (;;)
                        pause();
        }
        ok(bomber > 0, "clone3(CLONE_INTO_CGROUP) started a child in the cgroup");
        if (bomber < 0)
                return;
        WarrenError err = WARREN_ERROR_NULL;
        is(cgroup_attach_v1(cg, bomber, &err), 0, "child attached to the v1 cgroups");
        warren_error_clear(&err);
        if (write(go[1], "x", 1) != 1)
                return;
        int result[2] = { -1, -1 };
        is(read(res[0], result, sizeof(result)), (long) sizeof(result), "bomber reported");
        is(result[0], 19, "19 forks succeeded next to the bomber (pids.max = 20)");
        is(result[1], EAGAIN, "the 20th fork failed with EAGAIN");
        is(cgroup_count_procs(cg), 20, "20 processes in the cgroup");
        expect_v1_file(l, "pids", cgroup_get_path(cg), "pids.current", "20");

        uint64_t mem = 0;
        is(cgroup_memory_current(cg, &mem, NULL), 0, "memory current read");
        ok(mem > 0, "memory current is %llu > 0", (unsigned long long) mem);

        is(cgroup_kill_all(cg, NULL), 0, "kill all");
        int status = 0;
        is(waitpid(bomber, &status, 0), bomber, "bomber reaped");
        ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "bomber died of SIGKILL");
        reap_all();
        for (int i = 0; i < 100 && cgroup_count_procs(cg) > 0; i++)
                sleep_ms(10);
        is(cgroup_count_procs(cg), 0, "cgroup empty after kill");
        close(go[0]);
        close(go[1]);
        close(res[0]);
        close(res[1]);
}

static void test_freeze(Cgroup *cg) {
        volatile uint64_t *counter =
                mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        WarrenError err = WARREN_ERROR_NULL;
        if (counter == MAP_FAILED)
                return;
        pid_t pid = fork();
        if (pid == 0)
                for (;;)
                        (*counter)++;
        ok(pid > 0, "busy child forked");
        is(cgroup_attach(cg, pid, &err), 0, "busy child attached (v2 + v1)");
        warren_error_clear(&err);
        is(cgroup_count_procs(cg), 1, "one process in the cgroup");
        sleep_ms(20);
        is(proc_state(pid), 'R', "child is running");
        is(cgroup_is_frozen(cg), 0, "not frozen");

        is(cgroup_freeze(cg, 5U * 1000U * 1000U, &err), 0, "freeze");
        warren_error_clear(&err);
        is(cgroup_is_frozen(cg), 1, "cgroup.events says frozen");
        uint64_t a = *counter;
        sleep_ms(100);
        uint64_t b = *counter;
        ok(a == b, "counter stopped while frozen (%llu == %llu)", (unsigned long long) a,
           (unsigned long long) b);
        ok(proc_state(pid) != 'R', "child not running while frozen (state %c)", proc_state(pid));

        is(cgroup_unfreeze(cg, 5U * 1000U * 1000U, &err), 0, "unfreeze");
        warren_error_clear(&err);
        is(cgroup_is_frozen(cg), 0, "thawed");
        sleep_ms(50);
        ok(*counter > b, "counter moves again");

        /* Killing works on a frozen cgroup too. */
        is(cgroup_freeze(cg, 5U * 1000U * 1000U, NULL), 0, "freeze again");
        is(cgroup_kill_all(cg, &err), 0, "kill all while frozen");
        int status = 0;
        is(waitpid(pid, &status, 0), pid, "child reaped");
        ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child died of SIGKILL");
        is(cgroup_unfreeze(cg, 5U * 1000U * 1000U, NULL), 0, "unfreeze empty cgroup");
        munmap((void *) counter, 4096);
}

static void test_delegate(Cgroup *cg, const CgroupLayout *l) {
        char p[512];
        struct stat st;
        is(cgroup_delegate(cg, 4242, 4343, NULL), 0, "delegate to 4242:4343");
        const char *v2 = cgroup_get_v2_dir(cg);
        static const char *const mine[] = { "", "/cgroup.procs", "/cgroup.subtree_control",
                                            "/cgroup.threads" };
        for (size_t i = 0; v2 && i < ELEMENTSOF(mine); i++) {
                snprintf(p, sizeof(p), "%s%s", v2, mine[i]);
                ok(stat(p, &st) == 0 && st.st_uid == 4242 && st.st_gid == 4343, "%s delegated", p);
        }
        snprintf(p, sizeof(p), "%s/cgroup.freeze", v2);
        ok(stat(p, &st) == 0 && st.st_uid == 0, "cgroup.freeze stays root's");
        const CgroupHierarchy *m = cgroup_layout_v1_find(l, "memory");
        if (m) {
                snprintf(p, sizeof(p), "%s%s/tasks", m->mount, cgroup_get_path(cg));
                ok(stat(p, &st) == 0 && st.st_uid == 4242, "v1 tasks delegated");
                snprintf(p, sizeof(p), "%s%s/memory.limit_in_bytes", m->mount, cgroup_get_path(cg));
                ok(stat(p, &st) == 0 && st.st_uid == 0, "v1 memory.limit_in_bytes stays root's");
        }
}

/* The LxcConfig wrapper: lxc.cgroup* items in config order, placement keys skipped. */
static void test_apply_config(Cgroup *cg, const CgroupLayout *l) {
        static const char text[] = "lxc.uts.name = c1\n"
                                   "lxc.cgroup.dir = elsewhere\n"
                                   "lxc.cgroup2.pids.max = 30\n"
                                   "lxc.cgroup2.pids.max = 20\n";
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        WarrenError err = WARREN_ERROR_NULL;
        char **ignored = NULL;
        if (!ok(c && lxc_config_parse(c, text, strlen(text), NULL, NULL, &err) == 0, "config parsed"))
                return;
        is(cgroup_apply_config(cg, c, &ignored, &err), 0, "cgroup_apply_config");
        if (err.error)
                printf("#   %s\n", warren_error_message(&err));
        warren_error_clear(&err);
        is(strv_length(ignored), 0, "nothing ignored");
        strv_free(ignored);
        if (cgroup_layout_v2_has(l, "pids")) {
                char p[512];
                snprintf(p, sizeof(p), "%s/pids.max", cgroup_get_v2_dir(cg));
                char *s = read_text(p);
                is_str(s, "20", "v2 pids.max from the config");
                free(s);
        } else
                expect_v1_file(l, "pids", cgroup_get_path(cg), "pids.max", "20");

        _cleanup_lxc_config_ LxcConfig *bad = lxc_config_new();
        static const char bad_text[] = "lxc.cgroup2.nosuch.max = 1\n";
        if (bad && lxc_config_parse(bad, bad_text, strlen(bad_text), NULL, NULL, NULL) == 0) {
                is(cgroup_apply_config(cg, bad, NULL, &err), -EOPNOTSUPP,
                   "config with an unknown controller fails");
                like(err.message, "lxc.cgroup2.nosuch.max: controller 'nosuch' is not available",
                     "names the key");
                warren_error_clear(&err);
        } else
                ok(0, "config with lxc.cgroup2.nosuch.max parsed");
}

/* Whether pid is at path in expect_lines v1 hierarchies (/proc/PID/cgroup). */
static bool in_v1_cgroup(pid_t pid, const char *path, size_t expect_lines) {
        char p[64], *text = NULL;
        snprintf(p, sizeof p, "/proc/%d/cgroup", (int) pid);
        if (read_full_file(p, 1 << 16, &text, NULL) < 0)
                return false;
        size_t match = 0;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                char *c = strchr(line, ':') ? strchr(strchr(line, ':') + 1, ':') : NULL;
                if (strncmp(line, "0::", 3) != 0 && c && streq(c + 1, path))
                        match++;
        }
        free(text);
        return match == expect_lines;
}

static pid_t sleeper_in_v1(Cgroup *cg) {
        pid_t pid = fork();
        if (pid == 0)
                for (;;)
                        pause();
        if (cgroup_attach_v1(cg, pid, NULL) < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return -1;
        }
        return pid;
}

/* A warm monitor's spares (v1 only) renamed into a container's cgroups
 * with their process in them: cgroup_create_v1(), cgroup_create_from(). */
static void test_spares(const CgroupLayout *l) {
        _cleanup_(cgroup_freep) Cgroup *spare = NULL, *cg = NULL, *other = NULL, *spare2 = NULL, *cg2 = NULL;
        WarrenError err = WARREN_ERROR_NULL;
        char parent[64], p[512];

        if (l->n_v1 == 0) {
                skip("no v1 hierarchy: no spares");
                return;
        }
        snprintf(parent, sizeof(parent), "warren-test-spare-%d", (int) getpid());
        is(cgroup_new(l, parent, "_pool.1", &spare, NULL), 0, "spare cgroup_new");
        is(cgroup_create_v1(spare, &err), 0, "cgroup_create_v1");
        warren_error_clear(&err);
        for (size_t i = 0; i < l->n_v1; i++) {
                snprintf(p, sizeof(p), "%s%s", l->v1[i].mount, cgroup_get_path(spare));
                ok(exists(p), "spare %s exists", p);
        }
        if (l->v2_mount)
                ok(!exists(cgroup_get_v2_dir(spare)), "no cgroup2 spare (CLONE_INTO_CGROUP needs none)");
        is(cgroup_create_v1(spare, &err), -EEXIST, "spares exist already: EEXIST");
        like(err.message, "_pool.1: it exists", "naming the directory");
        warren_error_clear(&err);
        pid_t s1 = sleeper_in_v1(spare);
        ok(s1 > 0, "a process in the spares");

        is(cgroup_new(l, "warren-test-elsewhere", "c1", &other, NULL), 0, "a cgroup under another parent");
        is(cgroup_create_from(other, spare, &err), -EXDEV, "spares never move to another parent");
        like(err.message, "not the same parent", "saying so");
        warren_error_clear(&err);
        ok(in_v1_cgroup(s1, cgroup_get_path(spare), l->n_v1), "nothing changed");

        is(cgroup_new(l, parent, "c1", &cg, NULL), 0, "the container's cgroup_new");
        /* A leftover (empty) of the container's name in one hierarchy. */
        snprintf(p, sizeof(p), "%s%s", l->v1[0].mount, cgroup_get_path(cg));
        ok(mkdir(p, 0755) == 0, "an empty leftover %s", p);
        is(cgroup_create_from(cg, spare, &err), 0, "cgroup_create_from");
        if (err.error)
                printf("#   %s\n", warren_error_message(&err));
        warren_error_clear(&err);
        ok(in_v1_cgroup(s1, cgroup_get_path(cg), l->n_v1),
           "its process is in %s in every v1 hierarchy, never moved", cgroup_get_path(cg));
        for (size_t i = 0; i < l->n_v1; i++) {
                snprintf(p, sizeof(p), "%s%s", l->v1[i].mount, cgroup_get_path(spare));
                ok(!exists(p), "spare %s renamed away", p);
        }
        if (l->v2_mount)
                ok(exists(cgroup_get_v2_dir(cg)), "the cgroup2 cgroup is made");
        char *kv[] = { "lxc.cgroup2.pids.max", "20", NULL };
        is(cgroup_apply_limits(cg, kv, NULL, NULL), 0, "limits apply to the renamed cgroups");
        expect_v1_file(l, "pids", cgroup_get_path(cg), "pids.max", "20");

        /* Rollback: the last hierarchy has a populated cgroup of the name. */
        is(cgroup_new(l, parent, "_pool.2", &spare2, NULL), 0, "second spare");
        is(cgroup_create_v1(spare2, NULL), 0, "...created");
        pid_t s2 = sleeper_in_v1(spare2);
        is(cgroup_new(l, parent, "c2", &cg2, NULL), 0, "c2");
        /* The last hierarchy a process can join without cpuset setup. */
        size_t last = l->n_v1 - 1;
        while (last > 0 && strv_contains(l->v1[last].controllers, "cpuset"))
                last--;
        snprintf(p, sizeof(p), "%s%s", l->v1[last].mount, cgroup_get_path(cg2));
        ok(mkdir(p, 0755) == 0, "a c2 in %s", l->v1[last].mount);
        pid_t s3 = fork();
        if (s3 == 0)
                for (;;)
                        pause();
        char pid_s[32], procs[600];
        snprintf(pid_s, sizeof pid_s, "%d", (int) s3);
        snprintf(procs, sizeof procs, "%s/cgroup.procs", p);
        is(write_text(procs, pid_s), 0, "with a process in it");
        is(cgroup_create_from(cg2, spare2, &err), -EBUSY, "cgroup_create_from refuses: EBUSY");
        like(err.message, "has 1 processes", "saying why");
        warren_error_clear(&err);
        ok(in_v1_cgroup(s2, cgroup_get_path(spare2), l->n_v1),
           "the spares are renamed back, their process in them");
        if (l->v2_mount)
                ok(!exists(cgroup_get_v2_dir(cg2)), "no cgroup2 c2 made");
        for (size_t i = 0; i < l->n_v1; i++) {
                snprintf(p, sizeof(p), "%s%s", l->v1[i].mount, cgroup_get_path(cg2));
                if (i != last)
                        ok(!exists(p), "no c2 left in %s", l->v1[i].mount);
        }

        for (pid_t *x = (pid_t[]){ s1, s2, s3, 0 }; *x; x++)
                if (*x > 0) {
                        kill(*x, SIGKILL);
                        waitpid(*x, NULL, 0);
                }
        is(cgroup_remove(cg, &err), 0, "c1 removed");
        warren_error_clear(&err);
        is(cgroup_remove(cg2, NULL), 0, "c2 removed");
        is(cgroup_remove(spare2, NULL), 0, "spare removed");
        is(cgroup_remove_parent(l, parent, NULL), 0, "nothing else left");
        (void) cgroup_remove_parent(l, "warren-test-elsewhere", NULL);
}

static void test_live(void) {
        _cleanup_(cgroup_layout_freep) CgroupLayout *l = NULL;
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        WarrenError err = WARREN_ERROR_NULL;
        char parent[64], p[512];

        if (geteuid() != 0) {
                skip("live cgroup tests need root");
                return;
        }
        is(cgroup_layout_detect(&l, &err), 0, "layout of this machine detected");
        if (!l)
                return;
        ok(l->v2_mount != NULL, "cgroup2 mounted at %s", strna(l->v2_mount));
        snprintf(parent, sizeof(parent), "warren-test-%d", (int) getpid());
        is(cgroup_new(l, parent, "c1", &cg, &err), 0, "cgroup_new");
        is(cgroup_create(cg, &err), 0, "cgroup_create");
        if (err.error)
                printf("#   %s\n", warren_error_message(&err));
        warren_error_clear(&err);
        is(cgroup_create(cg, &err), 0, "creating again reuses the empty cgroup");
        warren_error_clear(&err);

        if (l->v2_mount)
                ok(exists(cgroup_get_v2_dir(cg)), "v2 cgroup exists");
        for (size_t i = 0; i < l->n_v1; i++) {
                snprintf(p, sizeof(p), "%s%s", l->v1[i].mount, cgroup_get_path(cg));
                ok(exists(p), "v1 cgroup %s exists", p);
        }
        const CgroupHierarchy *cs = cgroup_layout_v1_find(l, "cpuset");
        if (cs) {
                snprintf(p, sizeof(p), "%s%s/cpuset.cpus", cs->mount, cgroup_get_path(cg));
                char *cpus = read_text(p);
                ok(cpus && cpus[0], "v1 cpuset.cpus copied from the parent ('%s')", strna(cpus));
                free(cpus);
        }

        char *kv[] = { "lxc.cgroup2.memory.max", "64M", "lxc.cgroup2.pids.max", "20", NULL };
        char **ignored = NULL;
        is(cgroup_apply_limits(cg, kv, &ignored, &err), 0, "memory.max=64M, pids.max=20 applied");
        if (err.error)
                printf("#   %s\n", warren_error_message(&err));
        warren_error_clear(&err);
        strv_free(ignored);
        if (cgroup_layout_v2_has(l, "memory")) {
                snprintf(p, sizeof(p), "%s/memory.max", cgroup_get_v2_dir(cg));
                char *s = read_text(p);
                is_str(s, "67108864", "v2 memory.max");
                free(s);
        } else
                expect_v1_file(l, "memory", cgroup_get_path(cg), "memory.limit_in_bytes", "67108864");
        if (cgroup_layout_v2_has(l, "pids")) {
                snprintf(p, sizeof(p), "%s/pids.max", cgroup_get_v2_dir(cg));
                char *s = read_text(p);
                is_str(s, "20", "v2 pids.max");
                free(s);
        } else
                expect_v1_file(l, "pids", cgroup_get_path(cg), "pids.max", "20");

        char *bad[] = { "lxc.cgroup2.pids.max", "lots", NULL };
        char expect[1024];
        const CgroupHierarchy *ph = cgroup_layout_v1_find(l, "pids");
        is(cgroup_apply_limits(cg, bad, NULL, &err), -EINVAL, "the kernel rejects pids.max = lots");
        snprintf(expect, sizeof(expect),
                 "lxc.cgroup2.pids.max = lots: the kernel rejected 'lots' in %s%s/pids.max: Invalid "
                 "argument (errno 22)",
                 cgroup_layout_v2_has(l, "pids") ? l->v2_mount
                 : ph                            ? ph->mount
                                                 : "?",
                 cgroup_get_path(cg));
        is_str(err.message, expect, "error names key, value, file and errno");
        warren_error_clear(&err);
        char *unknown[] = { "lxc.cgroup2.nosuch.max", "1", NULL };
        is(cgroup_apply_limits(cg, unknown, NULL, &err), -EOPNOTSUPP, "unknown controller fails");
        like(err.message, "lxc.cgroup2.nosuch.max: controller 'nosuch' is not available",
             "error names key and controller");
        warren_error_clear(&err);
        char *path_trick[] = { "lxc.cgroup2.memory.max/..", "1", NULL };
        is(cgroup_apply_limits(cg, path_trick, NULL, &err), -EINVAL, "path trick rejected before any write");
        warren_error_clear(&err);

        test_spares(l);
        test_apply_config(cg, l);
        test_delegate(cg, l);
        test_fork_bomb(cg, l);
        test_freeze(cg);

        /* A populated cgroup is not reused and cannot be removed. */
        pid_t sleeper = fork();
        if (sleeper == 0)
                for (;;)
                        pause();
        is(cgroup_attach(cg, sleeper, NULL), 0, "sleeper attached");
        is(cgroup_create(cg, &err), -EBUSY, "create refuses a cgroup with processes");
        like(err.message, "already exists and has 1 processes", "error says why");
        warren_error_clear(&err);
        is(cgroup_kill_all(cg, NULL), 0, "kill sleeper");
        waitpid(sleeper, NULL, 0);

        /* The container may have made sub-cgroups of its own. */
        if (l->v2_mount) {
                snprintf(p, sizeof(p), "%s/sub", cgroup_get_v2_dir(cg));
                ok(mkdir(p, 0755) == 0, "sub-cgroup made");
                snprintf(p, sizeof(p), "%s/sub/deeper", cgroup_get_v2_dir(cg));
                ok(mkdir(p, 0755) == 0, "deeper sub-cgroup made");
        }
        is(cgroup_remove(cg, &err), 0, "cgroup_remove");
        if (err.error)
                printf("#   %s\n", warren_error_message(&err));
        warren_error_clear(&err);
        is(cgroup_remove(cg, NULL), 0, "removing again is fine");
        if (l->v2_mount)
                ok(!exists(cgroup_get_v2_dir(cg)), "v2 cgroup gone");
        for (size_t i = 0; i < l->n_v1; i++) {
                snprintf(p, sizeof(p), "%s%s", l->v1[i].mount, cgroup_get_path(cg));
                ok(!exists(p), "v1 cgroup %s gone", p);
        }
        is(cgroup_remove_parent(l, parent, &err), 0, "parent removed");
        warren_error_clear(&err);
        for (size_t i = 0; i <= l->n_v1; i++) {
                const char *m = i < l->n_v1 ? l->v1[i].mount : l->v2_mount;
                if (!m)
                        continue;
                snprintf(p, sizeof(p), "%s/%s", m, parent);
                ok(!exists(p), "nothing left at %s", p);
        }
}

/* A cgroup delegated to us, as systemd makes a scope with Delegate=yes:
 * base exists in cgroup2 (and here in one v1 hierarchy), a process of
 * ours in it; the container's cgroup goes below, nothing above is
 * touched, and a v1 hierarchy without base gets it made and removed. */
static void test_delegated(void) {
        _cleanup_(cgroup_layout_freep) CgroupLayout *l = NULL;
        _cleanup_(cgroup_freep) Cgroup *cg = NULL, *bad = NULL, *at = NULL;
        WarrenError err = WARREN_ERROR_NULL;
        char top[64], base[128], p[512];

        if (geteuid() != 0) {
                skip("delegated cgroup tests need root");
                return;
        }
        if (cgroup_layout_detect(&l, NULL) < 0 || !l->v2_mount) {
                skip("no cgroup2 here");
                return;
        }
        is(cgroup_new_delegated(l, "machine.slice/x.scope", "payload", &bad, &err), -EINVAL,
           "a relative base is refused");
        like(err.message, "machine.slice/x.scope", "...naming it");
        warren_error_clear(&err);
        is(cgroup_new_delegated(l, "/machine.slice/../x", "payload", &bad, &err), -EINVAL, "'..' is refused");
        warren_error_clear(&err);
        is(cgroup_new_delegated(l, "/a", "../b", &bad, &err), -EINVAL, "a name with '/' is refused");
        warren_error_clear(&err);
        is(cgroup_new_at(l, "/warren/web", &at, NULL), 0, "cgroup_new_at(/warren/web)");
        is_str(at ? cgroup_get_path(at) : NULL, "/warren/web", "...its path");
        is(cgroup_new_at(l, "web", &bad, &err), -EINVAL, "cgroup_new_at of no path is refused");
        warren_error_clear(&err);

        snprintf(top, sizeof top, "/warren-test-deleg-%d", (int) getpid());
        snprintf(base, sizeof base, "%s/w.scope", top);
        /* What systemd would have made: base in cgroup2 and memory. */
        const CgroupHierarchy *mem = cgroup_layout_v1_find(l, "memory");
        snprintf(p, sizeof p, "%s%s", l->v2_mount, top);
        ok(mkdir(p, 0755) == 0, "test parent %s", p);
        snprintf(p, sizeof p, "%s%s", l->v2_mount, base);
        ok(mkdir(p, 0755) == 0, "base in cgroup2");
        if (mem) {
                snprintf(p, sizeof p, "%s%s", mem->mount, top);
                (void) mkdir(p, 0755);
                snprintf(p, sizeof p, "%s%s", mem->mount, base);
                (void) mkdir(p, 0755);
        }
        pid_t sleeper = fork();
        if (sleeper == 0)
                for (;;)
                        pause();
        snprintf(p, sizeof p, "%s%s/cgroup.procs", l->v2_mount, base);
        char pid[32];
        snprintf(pid, sizeof pid, "%d", (int) sleeper);
        int fd = open(p, O_WRONLY | O_CLOEXEC);
        ok(fd >= 0 && write(fd, pid, strlen(pid)) == (ssize_t) strlen(pid), "sleeper in base (cgroup2)");
        if (fd >= 0)
                close(fd);

        _cleanup_free_ char *own = NULL;
        is(cgroup_pid_path(sleeper, &own, &err), 0, "cgroup_pid_path of the sleeper");
        is_str(own, base, "...is base");
        is(cgroup_move_below(l, base, "monitor", sleeper, &err), 0, "cgroup_move_below(monitor)");
        free(own);
        own = NULL;
        is(cgroup_pid_path(sleeper, &own, NULL), 0, "cgroup_pid_path again");
        snprintf(p, sizeof p, "%s/monitor", base);
        is_str(own, p, "...base/monitor: base holds no process any more");

        is(cgroup_new_delegated(l, base, "payload", &cg, &err), 0, "cgroup_new_delegated");
        snprintf(p, sizeof p, "%s/payload", base);
        is_str(cg ? cgroup_get_path(cg) : NULL, p, "its path is base/payload");
        is(cgroup_create(cg, &err), 0, "cgroup_create below base");
        if (err.error)
                printf("#   %s\n", warren_error_message(&err));
        warren_error_clear(&err);
        ok(exists(cgroup_get_v2_dir(cg)), "payload exists in cgroup2");
        for (size_t i = 0; i < l->n_v1; i++) {
                snprintf(p, sizeof p, "%s%s/payload", l->v1[i].mount, base);
                ok(exists(p), "payload exists in %s (base made where missing)", l->v1[i].mount);
        }
        snprintf(p, sizeof p, "%s/cgroup.subtree_control", l->v2_mount);
        _cleanup_free_ char *root_ctl_before = read_text(p);
        is(cgroup_remove(cg, &err), 0, "cgroup_remove");
        warren_error_clear(&err);
        ok(!exists(cgroup_get_v2_dir(cg)), "payload gone from cgroup2");
        snprintf(p, sizeof p, "%s%s", l->v2_mount, base);
        ok(exists(p), "base stays in cgroup2 (its manager's)");
        for (size_t i = 0; i < l->n_v1; i++) {
                bool named = strv_length(l->v1[i].controllers) == 1 &&
                             strncmp(l->v1[i].controllers[0], "name=", 5) == 0;
                snprintf(p, sizeof p, "%s%s", l->v1[i].mount, base);
                if (named)
                        ok(exists(p), "base stays in %s (named: systemd's)", l->v1[i].mount);
                else
                        ok(!exists(p), "empty base removed from %s", l->v1[i].mount);
        }
        snprintf(p, sizeof p, "%s/cgroup.subtree_control", l->v2_mount);
        _cleanup_free_ char *root_ctl_after = read_text(p);
        is_str(root_ctl_after, root_ctl_before, "the root's subtree_control untouched");

        kill(sleeper, SIGKILL);
        waitpid(sleeper, NULL, 0);
        snprintf(p, sizeof p, "%s%s/monitor", l->v2_mount, base);
        ok(rmdir(p) == 0, "cleanup: monitor");
        for (size_t i = 0; i <= l->n_v1; i++) {
                const char *m = i < l->n_v1 ? l->v1[i].mount : l->v2_mount;
                snprintf(p, sizeof p, "%s%s", m, base);
                (void) rmdir(p);
                snprintf(p, sizeof p, "%s%s", m, top);
                (void) rmdir(p);
                ok(!exists(p), "nothing left at %s", p);
        }
}

int main(void) {
        /* Orphaned grandchildren of the fork test come back to us to be reaped. */
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        setup_fake_roots();
        test_layout_parse();
        test_plan_hybrid();
        test_plan_unified();
        test_plan_garbage();
        test_new_validation();
        test_live();
        test_delegated();
        cleanup_fake_roots();
        return done_testing();
}
