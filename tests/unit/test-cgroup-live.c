/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Live limits (lib/cgroup-limits.c): which items of a change a running
 * cgroup takes, and, as root on this machine's real cgroups, writing a
 * plan all or nothing (a value the kernel refuses restores what was
 * written), on v1 hierarchies and on cgroup2 core files. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "basic/fileio.h"
#include "basic/strv.h"
#include "tap.h"

static char *joined(char **l) {
        static char buf[1024];
        char *s = strv_join(l, ",");
        snprintf(buf, sizeof buf, "%s", s ? s : "(null)");
        free(s);
        return buf;
}

static void test_live_items(void) {
        char *items[] = {
                "lxc.cgroup2.memory.max",
                "64M",
                "lxc.tty.max",
                "2",
                "lxc.start.auto",
                "1",
                "lxc.cgroup.dir",
                "x",
                "lxc.cgroup2.devices.allow",
                "c 1:3 rwm",
                "lxc.cgroup2.pids.max",
                "",
                "lxc.cgroup2.memory.max",
                "64M",
                "lxc.cgroup2.cpuset.cpus",
                "",
                "lxc.cgroup.memory.limit_in_bytes",
                "",
                "lxc.group",
                "web",
                NULL,
        };
        char *effective[] = {
                "lxc.cgroup2.memory.max",
                "32M",
                "lxc.cgroup2.memory.max",
                "64M",
                "lxc.cgroup2.memory.swap.max",
                "32M",
                "lxc.cgroup2.devices.allow",
                "c 1:3 rwm",
                NULL,
        };
        char **plan = NULL, **live = NULL, **restart = NULL;
        is(cgroup_limits_live_items(items, effective, true, &plan, &live, &restart), 0, "live items");
        is_str(joined(live), "lxc.cgroup2.memory.max,lxc.cgroup2.pids.max,lxc.cgroup.memory.limit_in_bytes",
               "live: the limits, each once");
        is_str(joined(restart),
               "lxc.tty.max,lxc.cgroup.dir,lxc.cgroup2.devices.allow,lxc.cgroup2.cpuset.cpus",
               "restart: other keys, placement, devices, a cleared key without a default; not lxc.start.*, "
               "lxc.group");
        is_str(joined(plan),
               "lxc.cgroup2.memory.max,64M,lxc.cgroup2.pids.max,max,lxc.cgroup.memory.limit_in_bytes,-1,"
               "lxc.cgroup2.memory.swap.max,32M",
               "plan: effective values (the last), defaults for cleared keys, swap.max along with "
               "memory.max");
        strv_free(plan);
        strv_free(live);
        strv_free(restart);

        is(cgroup_limits_live_items(items, effective, false, &plan, &live, &restart), 0,
           "live items, not live");
        is(strv_length(plan), 0, "nothing to plan");
        is(strv_length(live), 0, "nothing live");
        is_str(joined(restart),
               "lxc.cgroup2.memory.max,lxc.tty.max,lxc.cgroup.dir,lxc.cgroup2.devices.allow,lxc.cgroup2."
               "pids.max,"
               "lxc.cgroup2.cpuset.cpus,lxc.cgroup.memory.limit_in_bytes",
               "every key needs a restart");
        strv_free(plan);
        strv_free(live);
        strv_free(restart);

        char *swap_only[] = { "lxc.cgroup2.memory.swap.max", "16M", NULL };
        is(cgroup_limits_live_items(swap_only, effective, true, &plan, &live, &restart), 0, "swap alone");
        is_str(joined(plan), "lxc.cgroup2.memory.swap.max,32M,lxc.cgroup2.memory.max,64M",
               "memory.max comes along (its effective value); swap.max's effective value wins");
        strv_free(plan);
        strv_free(live);
        strv_free(restart);

        char *hugetlb[] = { "lxc.cgroup2.hugetlb.2MB.max", "", "lxc.cgroup.hugetlb.2MB.limit_in_bytes", "",
                            NULL };
        is(cgroup_limits_live_items(hugetlb, NULL, true, &plan, &live, &restart), 0, "hugetlb cleared");
        is_str(joined(plan), "lxc.cgroup2.hugetlb.2MB.max,max,lxc.cgroup.hugetlb.2MB.limit_in_bytes,-1",
               "hugetlb defaults for both versions");
        strv_free(plan);
        strv_free(live);
        strv_free(restart);
}

static char *cat(const char *dir, const char *file) {
        char p[512], *s = NULL;
        snprintf(p, sizeof p, "%s/%s", dir, file);
        if (read_one_line_file(p, &s) < 0)
                return NULL;
        return s;
}

/* Plans kv on l and writes it to cg atomically. */
static int apply(const CgroupLayout *l, const Cgroup *cg, char **kv, WarrenError *err) {
        _cleanup_(cgroup_plan_freep) CgroupPlan *p = NULL;
        int r = cgroup_plan_limits(l, kv, &p, err);
        if (r < 0)
                return r;
        return cgroup_apply_plan_atomic(cg, p, NULL, err);
}

static void test_atomic(void) {
        _cleanup_(cgroup_layout_freep) CgroupLayout *l = NULL;
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        WarrenError err = WARREN_ERROR_NULL;
        char parent[64], mem[512] = "", cpu[512] = "", v2[512] = "";
        if (geteuid() != 0) {
                ok(1, "# SKIP live cgroup writes need root");
                return;
        }
        snprintf(parent, sizeof parent, "warren-test-live-%d", (int) getpid());
        if (!ok(cgroup_layout_detect(&l, &err) == 0 && cgroup_new(l, parent, "c1", &cg, &err) == 0 &&
                        cgroup_create(cg, &err) == 0,
                "cgroup %s/c1 made", parent)) {
                printf("#   %s\n", warren_error_message(&err));
                return;
        }
        const CgroupHierarchy *hm = cgroup_layout_v1_find(l, "memory"),
                              *hc = cgroup_layout_v1_find(l, "cpu");
        if (hm)
                snprintf(mem, sizeof mem, "%s%s", hm->mount, cgroup_get_path(cg));
        if (hc)
                snprintf(cpu, sizeof cpu, "%s%s", hc->mount, cgroup_get_path(cg));
        if (cgroup_get_v2_dir(cg))
                snprintf(v2, sizeof v2, "%s", cgroup_get_v2_dir(cg));

        if (hm && hc && !cgroup_layout_v2_has(l, "memory")) {
                char *before = cat(mem, "memory.limit_in_bytes"), *s;
                char *good[] = { "lxc.cgroup2.memory.max", "64M", NULL };
                is(apply(l, cg, good, &err), 0, "v1: memory.max 64M written");
                is_str(s = cat(mem, "memory.limit_in_bytes"), "67108864", "limit_in_bytes is 64M");
                free(s);

                char *bad[] = { "lxc.cgroup2.memory.max", "32M", "lxc.cgroup2.cpu.max", "500 100000", NULL };
                is(apply(l, cg, bad, &err), -EINVAL, "v1: a quota under 1 ms is refused by the kernel");
                like(err.message, "lxc.cgroup2.cpu.max = 500 100000: the kernel rejected '500'",
                     "naming key and value");
                like(err.message, "nothing was changed", "and saying nothing changed");
                warren_error_clear(&err);
                is_str(s = cat(mem, "memory.limit_in_bytes"), "67108864",
                       "the memory limit written first is back");
                free(s);
                is_str(s = cat(cpu, "cpu.cfs_quota_us"), "-1", "the quota is unchanged");
                free(s);

                char *missing[] = { "lxc.cgroup.memory.nosuch_file", "1", "lxc.cgroup2.memory.max", "16M",
                                    NULL };
                is(apply(l, cg, missing, &err), -ENOENT, "v1: a file the kernel does not have");
                like(err.message, "memory.nosuch_file does not exist", "named");
                warren_error_clear(&err);
                is_str(s = cat(mem, "memory.limit_in_bytes"), "67108864", "nothing written");
                free(s);

                char *memsw_path = NULL;
                if (asprintf(&memsw_path, "%s/memory.memsw.limit_in_bytes", mem) >= 0 &&
                    access(memsw_path, F_OK) == 0) {
                        char *small[] = { "lxc.cgroup2.memory.max", "64M", "lxc.cgroup2.memory.swap.max",
                                          "32M", NULL };
                        char *big[] = { "lxc.cgroup2.memory.max", "256M", "lxc.cgroup2.memory.swap.max",
                                        "32M", NULL };
                        is(apply(l, cg, small, &err), 0, "v1: memory 64M + swap 32M");
                        is_str(s = cat(mem, "memory.memsw.limit_in_bytes"), "100663296", "memsw 96M");
                        free(s);
                        is(apply(l, cg, big, &err), 0,
                           "raising memory past the old memsw works (memsw first)");
                        if (err.error)
                                printf("#   %s\n", warren_error_message(&err));
                        warren_error_clear(&err);
                        is_str(s = cat(mem, "memory.limit_in_bytes"), "268435456", "limit 256M");
                        free(s);
                        is_str(s = cat(mem, "memory.memsw.limit_in_bytes"), "301989888", "memsw 288M");
                        free(s);
                }
                free(memsw_path);
                free(before);
        }

        if (*v2) {
                char *s;
                char *good[] = { "lxc.cgroup2.cgroup.max.descendants", "2", NULL };
                is(apply(l, cg, good, &err), 0, "v2 core: cgroup.max.descendants 2");
                is_str(s = cat(v2, "cgroup.max.descendants"), "2", "written");
                free(s);
                /* Enforced by the kernel: a third descendant is refused. */
                char d[600];
                snprintf(d, sizeof d, "%s/a", v2);
                ok(mkdir(d, 0755) == 0, "first sub-cgroup");
                snprintf(d, sizeof d, "%s/b", v2);
                ok(mkdir(d, 0755) == 0, "second sub-cgroup");
                snprintf(d, sizeof d, "%s/c", v2);
                ok(mkdir(d, 0755) < 0 && errno == EAGAIN, "the third is refused (EAGAIN)");
                snprintf(d, sizeof d, "%s/a", v2);
                rmdir(d);
                snprintf(d, sizeof d, "%s/b", v2);
                rmdir(d);

                char *bad[] = { "lxc.cgroup2.cgroup.max.descendants", "7", "lxc.cgroup2.cgroup.max.depth",
                                "-3", NULL };
                is(apply(l, cg, bad, &err), -ERANGE,
                   "v2: a negative depth is refused by the kernel (ERANGE)");
                like(err.message, "the kernel rejected '-3'", "naming the value");
                warren_error_clear(&err);
                is_str(s = cat(v2, "cgroup.max.descendants"), "2",
                       "descendants, written first, is back to 2");
                free(s);
                is_str(s = cat(v2, "cgroup.max.depth"), "max", "depth unchanged");
                free(s);
        }
        is(cgroup_remove(cg, NULL), 0, "cgroup removed");
        is(cgroup_remove_parent(l, parent, NULL), 0, "parent removed");
}

int main(void) {
        test_live_items();
        test_atomic();
        return done_testing();
}
