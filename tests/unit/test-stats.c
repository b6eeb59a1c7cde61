/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/stats.c: the parsers on the kernel's formats (and on the running
 * kernel's own /proc files), then, as root, the reader on a real cgroup of
 * this machine's layout and on the same cgroup seen through its cgroup2
 * hierarchy alone, with a child burning CPU and holding memory in it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "stats.h"
#include "basic/fileio.h"
#include "basic/strv.h"
#include "tap.h"

static void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

static void test_keyed(void) {
        static const char cpu_stat[] = "usage_usec 1234567\n"
                                       "user_usec 1000000\n"
                                       "system_usec 234567\n"
                                       "nr_periods 0\n";
        uint64_t v = 0;
        is(stats_parse_keyed(cpu_stat, "usage_usec", &v), 0, "cpu.stat usage_usec");
        is(v, 1234567, "its value");
        is(stats_parse_keyed(cpu_stat, "system_usec", &v), 0, "cpu.stat system_usec");
        is(v, 234567, "its value");
        is(stats_parse_keyed(cpu_stat, "usage", &v), -ENOENT, "a key's prefix is not the key");
        is(stats_parse_keyed(cpu_stat, "nr_throttled", &v), -ENOENT, "a missing key");
        is(stats_parse_keyed("usage_usec lots\n", "usage_usec", &v), -EBADMSG, "a value that is no number");
        is(stats_parse_keyed("usage_usec 12x\n", "usage_usec", &v), -EBADMSG, "trailing garbage");
        is(stats_parse_keyed("usage_usec 99999999999999999999999\n", "usage_usec", &v), -EBADMSG,
           "a value past 2^64");
        is(stats_parse_keyed("", "usage_usec", &v), -ENOENT, "empty text");
        is(stats_parse_keyed("oom 0\noom_kill 3\n", "oom_kill", &v), 0, "memory.events oom_kill");
        is(v, 3, "its value");
}

static void test_io(void) {
        static const char io_stat[] = "8:0 rbytes=1048576 wbytes=4096 rios=10 wios=1 dbytes=0 dios=0\n"
                                      "253:1 rbytes=512 wbytes=1024 rios=1 wios=2 dbytes=0 dios=0\n";
        uint64_t r = 0, w = 0;
        is(stats_parse_io_stat(io_stat, &r, &w), 0, "io.stat parsed");
        is(r, 1048576 + 512, "io.stat rbytes summed over devices");
        is(w, 4096 + 1024, "io.stat wbytes summed over devices");
        is(stats_parse_io_stat("", &r, &w), 0, "empty io.stat (no io yet)");
        is(r + w, 0, "is zero");
        is(stats_parse_io_stat("sda rbytes=1\n", &r, &w), -EBADMSG, "a device that is not MAJ:MIN");
        is(stats_parse_io_stat("8:0 rbytes=-1\n", &r, &w), -EBADMSG, "a negative count");

        static const char blkio[] = "8:0 Read 2097152\n"
                                    "8:0 Write 8192\n"
                                    "8:0 Sync 2105344\n"
                                    "8:0 Async 0\n"
                                    "8:0 Discard 0\n"
                                    "8:0 Total 2105344\n"
                                    "8:16 Read 100\n"
                                    "8:16 Write 200\n"
                                    "Total 2105644\n";
        is(stats_parse_blkio(blkio, &r, &w), 0, "blkio io_service_bytes parsed");
        is(r, 2097152 + 100, "Read summed over devices");
        is(w, 8192 + 200, "Write summed over devices");
        is(stats_parse_blkio("Total 0\n", &r, &w), 0, "blkio with no device");
        is(r + w, 0, "is zero");
        is(stats_parse_blkio("8:0 Read\n", &r, &w), -EBADMSG, "a line without a count");
        is(stats_parse_blkio("garbage here 1\n", &r, &w), -EBADMSG, "a line without a device");
}

static void test_net_dev(void) {
        static const char dev[] =
                "Inter-|   Receive                                                |  Transmit\n"
                " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
                "drop fifo colls carrier compressed\n"
                "    lo:  999999      10    0    0    0     0          0         0   999999      10    0    "
                "0    0     0       0          0\n"
                "  eth0:    1296      16    0    0    0     0          0         0      586       7    0    "
                "0    0     0       0          0\n"
                "eth1.web:100000000000 5 0 0 0 0 0 0 200000000000 5 0 0 0 0 0 0\n";
        StatsNic *nics = NULL;
        size_t n = 0;
        uint64_t rx = 0, tx = 0;
        is(stats_parse_net_dev(dev, &nics, &n, &rx, &tx), 0, "net/dev parsed");
        is(n, 2, "two interfaces (lo left out)");
        if (n == 2) {
                is_str(nics[0].name, "eth0", "first is eth0");
                is(nics[0].rx_bytes, 1296, "eth0 rx bytes");
                is(nics[0].tx_bytes, 586, "eth0 tx bytes");
                is_str(nics[1].name, "eth1.web", "second, with no space before its counters");
                is(nics[1].rx_bytes, 100000000000ULL, "eth1.web rx bytes past 2^32");
                is(nics[1].tx_bytes, 200000000000ULL, "eth1.web tx bytes past 2^32");
        }
        is(rx, 1296 + 100000000000ULL, "rx total without lo");
        is(tx, 586 + 200000000000ULL, "tx total without lo");
        for (size_t i = 0; i < n; i++)
                free(nics[i].name);
        free(nics);

        /* Names are the container's to choose: made safe for the bus and a terminal. */
        static const char odd[] = "h1\nh2\n\xff\x1b[31m: 1 0 0 0 0 0 0 0 2 0 0 0 0 0 0 0\n";
        is(stats_parse_net_dev(odd, &nics, &n, &rx, &tx), 0, "net/dev with an odd name parsed");
        if (is(n, 1, "one interface"))
                is_str(nics[0].name, "\\xff\\x1b[31m", "bytes outside printable ASCII escaped");
        for (size_t i = 0; i < n; i++)
                free(nics[i].name);
        free(nics);

        is(stats_parse_net_dev("h1\nh2\neth0 1 2 3\n", &nics, &n, &rx, &tx), -EBADMSG, "a line without ':'");
        is(stats_parse_net_dev("h1\nh2\neth0: 1 2 3\n", &nics, &n, &rx, &tx), -EBADMSG,
           "a line with too few counters");
        is(stats_parse_net_dev("h1\n", &nics, &n, &rx, &tx), -EBADMSG, "no heading");
        is(stats_parse_net_dev("h1\nh2\n", &nics, &n, &rx, &tx), 0, "no interface at all");
        is(n, 0, "none");
        free(nics);

        /* The running kernel's own file. */
        char *text = NULL;
        if (ok(read_full_file("/proc/self/net/dev", 1 << 20, &text, NULL) >= 0, "/proc/self/net/dev read")) {
                is(stats_parse_net_dev(text, &nics, &n, &rx, &tx), 0, "the kernel's net/dev parses");
                for (size_t i = 0; i < n; i++) {
                        ok(!streq(nics[i].name, "lo"), "%s is not lo", nics[i].name);
                        free(nics[i].name);
                }
                free(nics);
        }
        free(text);
}

static void test_starttime(void) {
        uint64_t t = 0;
        is(stats_parse_starttime("1 (init) S 0 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 42 1000 100\n",
                                 &t),
           0, "stat parsed");
        is(t, 42, "field 22");
        is(stats_parse_starttime("7 (a b) c) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77 0 0", &t), 0,
           "a comm with spaces and ')'");
        is(t, 77, "field 22 after it");
        is(stats_parse_starttime("7 (x) R 1 1", &t), -EBADMSG, "too few fields");
        is(stats_parse_starttime("garbage", &t), -EBADMSG, "no comm");

        char *text = NULL;
        if (ok(read_full_file("/proc/self/stat", 1 << 16, &text, NULL) >= 0, "/proc/self/stat read")) {
                is(stats_parse_starttime(text, &t), 0, "the kernel's stat parses");
                struct timespec now;
                clock_gettime(CLOCK_BOOTTIME, &now);
                ok(t > 0 && t / (uint64_t) sysconf(_SC_CLK_TCK) <= (uint64_t) now.tv_sec,
                   "our start time (%llu ticks) is before now", (unsigned long long) t);
        }
        free(text);
}

static void test_cgroup_contains(void) {
        static const char hybrid[] = "9:name=systemd:/\n"
                                     "4:memory:/warren/c1\n"
                                     "0::/warren/c1/init.scope\n";
        is(stats_cgroup_contains(hybrid, "/warren/c1"), 1, "in the cgroup (v1 line)");
        is(stats_cgroup_contains("0::/warren/c1/init.scope\n", "/warren/c1"), 1, "in a cgroup below it");
        is(stats_cgroup_contains("0::/warren/c10\n", "/warren/c1"), 0, "a name with it as prefix is not it");
        is(stats_cgroup_contains("0::/warren\n", "/warren/c1"), 0, "its parent is not it");
        is(stats_cgroup_contains("garbage\n", "/warren/c1"), 0, "garbage is not it");
        is(stats_cgroup_contains("", "/warren/c1"), 0, "nothing is not it");
}

/* A child in the cgroup: holds 16 MiB it has written, burns CPU until killed. */
static pid_t spawn_burner(Cgroup *cg) {
        int go[2];
        if (pipe(go) < 0)
                return -1;
        pid_t pid = fork();
        if (pid == 0) {
                char c;
                close(go[1]);
                if (read(go[0], &c, 1) != 1)
                        _exit(1);
                size_t size = 16U << 20;
                volatile char *m =
                        mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (m == MAP_FAILED)
                        _exit(1);
                for (size_t i = 0; i < size; i += 4096)
                        m[i] = 1;
                for (volatile uint64_t x = 0;; x++)
                        ;
        }
        close(go[0]);
        if (pid > 0 && cgroup_attach(cg, pid, NULL) < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                pid = -1;
        }
        if (write(go[1], "x", 1) != 1)
                pid = -1;
        close(go[1]);
        return pid;
}

static void test_live(void) {
        _cleanup_(cgroup_layout_freep) CgroupLayout *l = NULL, *v2only = NULL;
        _cleanup_(cgroup_freep) Cgroup *cg = NULL;
        WarrenError err = WARREN_ERROR_NULL;
        char parent[64], p[512], *mounts = NULL;
        ContainerStats a = {}, b = {}, c = {};

        if (geteuid() != 0) {
                ok(1, "# SKIP live stats need root");
                return;
        }
        if (!ok(cgroup_layout_detect(&l, &err) == 0, "this machine's layout"))
                return;
        snprintf(parent, sizeof parent, "warren-test-stats-%d", (int) getpid());
        if (!ok(cgroup_new(l, parent, "c1", &cg, &err) == 0 && cgroup_create(cg, &err) == 0,
                "cgroup %s/c1 made", parent)) {
                printf("#   %s\n", warren_error_message(&err));
                return;
        }
        const char *path = cgroup_get_path(cg);

        is(stats_read(l, path, 0, &a, &err), 0, "stats of the empty cgroup");
        if (cgroup_layout_v1_find(l, "pids") || cgroup_layout_v2_has(l, "pids"))
                ok((a.have & STATS_PIDS) && a.pids == 0, "no pids in it (%u)", a.pids);
        container_stats_done(&a);

        pid_t pid = spawn_burner(cg);
        if (!ok(pid > 0, "burner in the cgroup"))
                goto out;
        sleep_ms(300);
        is(stats_read(l, path, pid, &a, &err), 0, "stats read");
        sleep_ms(300);
        is(stats_read(l, path, pid, &b, &err), 0, "stats read again 300 ms later");

        ok(b.have & STATS_CPU, "cpu_usec known");
        ok(b.cpu_usec > a.cpu_usec + 100000, "cpu_usec grew by more than 100 ms of burning (%llu -> %llu)",
           (unsigned long long) a.cpu_usec, (unsigned long long) b.cpu_usec);
        ok(b.have & STATS_MEMORY, "memory_bytes known");
        ok(b.memory_bytes >= 16U << 20, "memory_bytes holds the 16 MiB written (%llu)",
           (unsigned long long) b.memory_bytes);
        ok((b.have & STATS_MEMORY_PEAK) && b.memory_peak_bytes >= b.memory_bytes, "peak >= current (%llu)",
           (unsigned long long) b.memory_peak_bytes);
        ok((b.have & STATS_PIDS) && b.pids == 1, "one task (%u)", b.pids);
        ok(b.have & STATS_IO, "io known");
        ok(b.have & STATS_UPTIME, "uptime known");
        ok(b.uptime_usec >= 500000 && b.uptime_usec < 60000000ULL, "uptime: the burner's age, %llu µs",
           (unsigned long long) b.uptime_usec);
        ok(b.have & STATS_NET, "net counters known (the burner's netns)");

        /* The same cgroup seen through cgroup2 alone, as on a v2-only host. */
        if (l->v2_mount) {
                if (asprintf(&mounts, "cgroup2 %s cgroup2 rw 0 0\n", l->v2_mount) < 0)
                        abort();
                is(cgroup_layout_parse(mounts, &v2only, &err), 0, "layout of cgroup2 alone");
                free(mounts);
                is(stats_read(v2only, path, pid, &c, &err), 0, "stats through cgroup2 alone");
                ok(c.have & STATS_CPU, "v2 cpu.stat usage_usec read");
                ok(c.cpu_usec + 50000 >= b.cpu_usec,
                   "v2 cpu_usec (%llu) agrees with the first reading (%llu)",
                   (unsigned long long) c.cpu_usec, (unsigned long long) b.cpu_usec);
                ok((c.have & STATS_PIDS) && c.pids == 1, "one task, from v2 (%u)", c.pids);
                is(!!(c.have & STATS_MEMORY), cgroup_layout_v2_has(v2only, "memory"),
                   "memory known exactly when cgroup2 has the controller");
                is(!!(c.have & STATS_IO), cgroup_layout_v2_has(v2only, "io"),
                   "io known exactly when cgroup2 has the controller");
                ok(c.have & STATS_UPTIME, "uptime from /proc either way");
        }

        /* A pid outside the cgroup says nothing about it. */
        container_stats_done(&c);
        is(stats_read(l, path, getpid(), &c, &err), 0, "stats with a pid from elsewhere");
        ok(!(c.have & (STATS_UPTIME | STATS_NET)), "no uptime or net from a process not in the cgroup");
        ok(c.have & STATS_CPU, "the cgroup's own fields still read");

        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        container_stats_done(&c);
        is(stats_read(l, path, pid, &c, &err), 0, "stats after the burner died");
        ok(!(c.have & STATS_UPTIME), "no uptime from a dead pid");

out:
        container_stats_done(&a);
        container_stats_done(&b);
        container_stats_done(&c);
        is(stats_read(l, "/../etc", 0, &a, &err), -EINVAL, "a walking path is refused");
        like(err.message, "Invalid cgroup path '/../etc'", "naming it");
        warren_error_clear(&err);
        snprintf(p, sizeof p, "/%s/nosuch", parent);
        is(stats_read(l, p, 0, &a, &err), -ESRCH, "a cgroup that does not exist");
        like(err.message, "does not exist", "says so");
        warren_error_clear(&err);
        for (int i = 0; i < 100 && cgroup_count_procs(cg) > 0; i++)
                sleep_ms(10);
        is(cgroup_remove(cg, NULL), 0, "cgroup removed");
        is(cgroup_remove_parent(l, parent, NULL), 0, "parent removed");
}

int main(void) {
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        test_keyed();
        test_io();
        test_net_dev();
        test_starttime();
        test_cgroup_contains();
        test_live();
        return done_testing();
}
