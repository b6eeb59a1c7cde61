/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a running container uses, read from the kernel: its cgroups (v2
 * files where the controller is in cgroup2, else the v1 hierarchy's) and
 * its init's /proc entry (uptime, and the network namespace's counters
 * through /proc/PID/net/dev: no setns()). Nothing is cached; one
 * container costs a dozen small reads.
 *
 * Sources, in order of preference:
 *   cpu_usec          v2 cpu.stat usage_usec (cpu controller), v1
 *                     cpuacct.usage / 1000, else v2 cpu.stat (a core file
 *                     of every cgroup2 cgroup)
 *   memory_bytes      v2 memory.current, v1 memory.usage_in_bytes
 *   memory_peak_bytes v2 memory.peak, v1 memory.max_usage_in_bytes
 *   swap_bytes        v2 memory.swap.current, v1 memory.memsw.usage_in_bytes
 *                     - memory.usage_in_bytes
 *   io_*_bytes        v2 io.stat rbytes/wbytes, v1
 *                     blkio.throttle.io_service_bytes_recursive Read/Write
 *   pids              v2 or v1 pids.current, else the threads listed in the
 *                     cgroup2 tree's cgroup.threads
 *   uptime_usec       now - init's start time (/proc/PID/stat), so a
 *                     reboot starts it again
 *   net_*_bytes, nics /proc/PID/net/dev, every interface but lo; the
 *                     totals are the sums over them
 * A field the host cannot tell (its controller is in neither cgroup
 * version) is left out: its bit is not set in `have`. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"

typedef struct CgroupLayout CgroupLayout;

typedef enum StatsField {
        STATS_CPU = 1 << 0,
        STATS_MEMORY = 1 << 1,
        STATS_MEMORY_PEAK = 1 << 2,
        STATS_SWAP = 1 << 3,
        STATS_IO = 1 << 4,
        STATS_NET = 1 << 5,
        STATS_PIDS = 1 << 6,
        STATS_UPTIME = 1 << 7,
} StatsField;

typedef struct StatsNic {
        char *name;
        uint64_t rx_bytes;
        uint64_t tx_bytes;
} StatsNic;

typedef struct ContainerStats {
        unsigned have; /* StatsField bits of the fields read */
        uint64_t cpu_usec;
        uint64_t memory_bytes;
        uint64_t memory_peak_bytes;
        uint64_t swap_bytes;
        uint64_t io_read_bytes;
        uint64_t io_write_bytes;
        uint64_t net_rx_bytes;
        uint64_t net_tx_bytes;
        uint64_t uptime_usec;
        uint32_t pids;
        StatsNic *nics; /* without lo */
        size_t n_nics;
} ContainerStats;

/* At most this much of /proc/PID/net/dev is read (a container may make
 * many interfaces): past it, the network fields are left out. */
#define STATS_NET_DEV_MAX (256U * 1024U)

/* Frees what s holds and zeroes it. */
void container_stats_done(ContainerStats *s);

/* Reads the stats of the cgroup at path ("/warren/NAME", relative to the
 * hierarchies' roots) on layout l, and, with init_pid > 0, those of its
 * init: the process must (still) be in that cgroup, else the /proc fields
 * are left out, so a recycled pid never reports someone else's counters.
 * -EINVAL for a path that is not absolute or walks ("..");
 * -ESRCH if the cgroup does not exist in any hierarchy. */
int stats_read(const CgroupLayout *l, const char *path, pid_t init_pid, ContainerStats *ret,
               WarrenError *reterr);

/* The parsers, for tests. Each returns 0, -ENOENT if what it looks for is
 * not there, or -EBADMSG for text not in the kernel's format. */
/* "key value" lines (cpu.stat, memory.stat, memory.events). */
int stats_parse_keyed(const char *text, const char *key, uint64_t *ret);
/* cgroup2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N ..." per device, summed. */
int stats_parse_io_stat(const char *text, uint64_t *ret_read, uint64_t *ret_write);
/* v1 blkio.*io_service_bytes*: "MAJ:MIN Read N" ... lines, summed. */
int stats_parse_blkio(const char *text, uint64_t *ret_read, uint64_t *ret_write);
/* /proc/PID/net/dev: the interfaces but lo, and their sums. */
int stats_parse_net_dev(const char *text, StatsNic **ret_nics, size_t *ret_n, uint64_t *ret_rx,
                        uint64_t *ret_tx);
/* /proc/PID/stat: field 22, starttime, in clock ticks since boot. */
int stats_parse_starttime(const char *text, uint64_t *ret_ticks);
/* Whether /proc/PID/cgroup text puts the process in path or below it. */
int stats_cgroup_contains(const char *proc_cgroup_text, const char *path);
