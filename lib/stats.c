/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A running container's resource use, from its cgroups and its init's
 * /proc entry (see stats.h). */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "stats.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strv.h"

#define STATS_FILE_MAX (64U * 1024U)
#define STATS_TREE_MAX_DEPTH 32U

void container_stats_done(ContainerStats *s) {
        for (size_t i = 0; i < s->n_nics; i++)
                free(s->nics[i].name);
        free(s->nics);
        *s = (ContainerStats){};
}

/* ---- parsers ---------------------------------------------------------------- */

static int parse_u64(const char *s, const char **ret_end, uint64_t *ret) {
        if (!(*s >= '0' && *s <= '9'))
                return -EBADMSG;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0)
                return -EBADMSG;
        *ret = v;
        if (ret_end)
                *ret_end = end;
        return 0;
}

/* The next line of *p (without its '\n') as [start, start + len); false at the end. */
static bool next_line(const char **p, const char **ret_start, size_t *ret_len) {
        if (!*p || !**p)
                return false;
        *ret_start = *p;
        *ret_len = strcspn(*p, "\n");
        *p += *ret_len + ((*p)[*ret_len] == '\n');
        return true;
}

int stats_parse_keyed(const char *text, const char *key, uint64_t *ret) {
        size_t kl = strlen(key), n;
        const char *l;
        for (const char *p = text; next_line(&p, &l, &n);) {
                if (n <= kl || strncmp(l, key, kl) != 0 || l[kl] != ' ')
                        continue;
                const char *end;
                if (parse_u64(l + kl + 1, &end, ret) < 0 || (end != l + n && *end != ' '))
                        return -EBADMSG;
                return 0;
        }
        return -ENOENT;
}

int stats_parse_io_stat(const char *text, uint64_t *ret_read, uint64_t *ret_write) {
        uint64_t rd = 0, wr = 0;
        const char *l;
        size_t n;
        for (const char *p = text; next_line(&p, &l, &n);) {
                _cleanup_free_ char *line = strndup(l, n);
                _cleanup_strv_free_ char **w = line ? strv_split(line, " ") : NULL;
                if (!w)
                        return -ENOMEM;
                if (!w[0])
                        continue;
                unsigned maj, min;
                char tail;
                if (sscanf(w[0], "%u:%u%c", &maj, &min, &tail) != 2)
                        return -EBADMSG;
                for (char **f = w + 1; *f; f++) {
                        uint64_t v;
                        const char *end;
                        bool is_r = strncmp(*f, "rbytes=", 7) == 0, is_w = strncmp(*f, "wbytes=", 7) == 0;
                        if (!is_r && !is_w)
                                continue;
                        if (parse_u64(*f + 7, &end, &v) < 0 || *end)
                                return -EBADMSG;
                        if (is_r)
                                rd += v;
                        else
                                wr += v;
                }
        }
        *ret_read = rd;
        *ret_write = wr;
        return 0;
}

int stats_parse_blkio(const char *text, uint64_t *ret_read, uint64_t *ret_write) {
        uint64_t rd = 0, wr = 0;
        const char *l;
        size_t n;
        for (const char *p = text; next_line(&p, &l, &n);) {
                char dev[32], op[16], tail;
                unsigned long long v;
                _cleanup_free_ char *line = strndup(l, n);
                if (!line)
                        return -ENOMEM;
                if (!*line || strncmp(line, "Total ", 6) == 0)
                        continue;
                if (sscanf(line, "%31s %15s %llu%c", dev, op, &v, &tail) != 3 || !strchr(dev, ':'))
                        return -EBADMSG;
                if (streq(op, "Read"))
                        rd += v;
                else if (streq(op, "Write"))
                        wr += v;
        }
        *ret_read = rd;
        *ret_write = wr;
        return 0;
}

/* An interface name a container chose, made safe for any reader (a D-Bus
 * string must be UTF-8; a terminal must not get escapes): bytes outside
 * printable ASCII as \xNN. */
static char *escape_ifname(const char *s, size_t n) {
        char *out = malloc(n * 4 + 1), *o = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c > 0x20 && c < 0x7f && c != '\\')
                        *o++ = (char) c;
                else
                        o += sprintf(o, "\\x%02x", c);
        }
        *o = 0;
        return out;
}

int stats_parse_net_dev(const char *text, StatsNic **ret_nics, size_t *ret_n, uint64_t *ret_rx,
                        uint64_t *ret_tx) {
        StatsNic *nics = NULL;
        size_t count = 0, n, line_no = 0;
        uint64_t rx = 0, tx = 0;
        const char *l;
        int r = 0;
        for (const char *p = text; next_line(&p, &l, &n); line_no++) {
                if (line_no < 2) /* the two heading lines */
                        continue;
                const char *colon = memchr(l, ':', n);
                if (!colon) {
                        r = -EBADMSG;
                        break;
                }
                const char *name = l + strspn(l, " ");
                size_t name_len = (size_t) (colon - name);
                uint64_t v[9];
                const char *q = colon + 1;
                for (size_t i = 0; i < ELEMENTSOF(v) && r >= 0; i++) {
                        q += strspn(q, " ");
                        r = parse_u64(q, &q, &v[i]);
                }
                if (r < 0 || name > colon || name_len == 0) {
                        r = -EBADMSG;
                        break;
                }
                if (name_len == 2 && strncmp(name, "lo", 2) == 0)
                        continue;
                StatsNic *m = realloc(nics, (count + 1) * sizeof(StatsNic));
                if (!m) {
                        r = -ENOMEM;
                        break;
                }
                nics = m;
                nics[count] = (StatsNic){ .name = escape_ifname(name, name_len),
                                          .rx_bytes = v[0],
                                          .tx_bytes = v[8] };
                if (!nics[count].name) {
                        r = -ENOMEM;
                        break;
                }
                rx += v[0];
                tx += v[8];
                count++;
        }
        if (r >= 0 && line_no < 2)
                r = -EBADMSG;
        if (r < 0) {
                for (size_t i = 0; i < count; i++)
                        free(nics[i].name);
                free(nics);
                return r;
        }
        *ret_nics = nics;
        *ret_n = count;
        *ret_rx = rx;
        *ret_tx = tx;
        return 0;
}

int stats_parse_starttime(const char *text, uint64_t *ret_ticks) {
        /* "pid (comm) state ppid ...": comm may hold spaces and ')'. */
        const char *p = strrchr(text, ')');
        if (!p)
                return -EBADMSG;
        p++;
        /* Field 3 (state) is the first after comm; starttime is field 22. */
        for (int field = 3; field < 22; field++) {
                p += strspn(p, " ");
                if (!*p)
                        return -EBADMSG;
                p += strcspn(p, " ");
        }
        p += strspn(p, " ");
        const char *end;
        if (parse_u64(p, &end, ret_ticks) < 0 || (*end && *end != ' ' && *end != '\n'))
                return -EBADMSG;
        return 0;
}

int stats_cgroup_contains(const char *text, const char *path) {
        size_t pl = strlen(path), n;
        const char *l;
        for (const char *p = text; next_line(&p, &l, &n);) {
                /* "ID:CONTROLLERS:PATH" */
                const char *c1 = memchr(l, ':', n);
                const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t) (l + n - c1 - 1)) : NULL;
                if (!c2)
                        continue;
                const char *cg = c2 + 1;
                size_t cl = (size_t) (l + n - cg);
                if (cl >= pl && strncmp(cg, path, pl) == 0 && (cl == pl || cg[pl] == '/'))
                        return 1;
        }
        return 0;
}

/* ---- reading ---------------------------------------------------------------- */

static int read_text_at(int dirfd, const char *path, size_t max, char **ret) {
        return read_full_file_at(dirfd, path, max, 1, ret, NULL);
}

/* A small kernel file in one read() (cgroupfs and proc produce it whole):
 * open, read, close, where read_full_file() would also fstat and read
 * again for the end. -EFBIG if it does not fit buf. */
static int read_small(const char *dir, const char *file, char *buf, size_t size) {
        char path[PATH_MAX];
        if ((size_t) snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path)
                return -ENAMETOOLONG;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        ssize_t n = read(fd, buf, size - 1);
        if (n < 0)
                return -errno;
        if ((size_t) n >= size - 1)
                return -EFBIG;
        buf[n] = 0;
        return 0;
}

static int read_u64_file(const char *dir, const char *file, uint64_t *ret) {
        char text[64];
        int r = read_small(dir, file, text, sizeof text);
        if (r < 0)
                return r;
        const char *end;
        r = parse_u64(text, &end, ret);
        if (r < 0 || (*end && *end != '\n'))
                return -EBADMSG;
        return 0;
}

static int read_keyed_file(const char *dir, const char *file, const char *key, uint64_t *ret) {
        char text[4096];
        int r = read_small(dir, file, text, sizeof text);
        if (r < 0)
                return r;
        return stats_parse_keyed(text, key, ret);
}

static int read_io_file(const char *dir, const char *file, bool v1, uint64_t *ret_r, uint64_t *ret_w) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        if (asprintf(&path, "%s/%s", dir, file) < 0)
                return -ENOMEM;
        int r = read_text_at(AT_FDCWD, path, STATS_FILE_MAX, &text);
        if (r < 0)
                return r;
        return v1 ? stats_parse_blkio(text, ret_r, ret_w) : stats_parse_io_stat(text, ret_r, ret_w);
}

/* The cgroup's directory in the hierarchy of controller: cgroup2 if the
 * controller is there, else its v1 hierarchy; NULL (and *ret_v1 untouched)
 * if neither. */
typedef struct Dirs {
        const CgroupLayout *layout;
        const char *path;
        char *v2; /* NULL without cgroup2 */
} Dirs;

static char *controller_dir(const Dirs *d, const char *controller, bool *ret_v1) {
        char *p = NULL;
        if (d->v2 && cgroup_layout_v2_has(d->layout, controller)) {
                *ret_v1 = false;
                return strdup(d->v2);
        }
        const CgroupHierarchy *h = cgroup_layout_v1_find(d->layout, controller);
        if (!h || asprintf(&p, "%s%s", h->mount, d->path) < 0)
                return NULL;
        *ret_v1 = true;
        return p;
}

static bool cgroup_dir_exists(const Dirs *d) {
        struct stat st;
        _cleanup_free_ char *v1 = NULL;
        if (d->v2 && stat(d->v2, &st) >= 0)
                return true;
        return d->layout->n_v1 > 0 && asprintf(&v1, "%s%s", d->layout->v1[0].mount, d->path) >= 0 &&
               stat(v1, &st) >= 0;
}

static void read_cpu(const Dirs *d, ContainerStats *s) {
        bool v1 = false;
        _cleanup_free_ char *dir = controller_dir(d, "cpu", &v1);
        uint64_t v;
        if (dir && !v1 && read_keyed_file(dir, "cpu.stat", "usage_usec", &v) >= 0)
                goto found;
        free(dir);
        dir = controller_dir(d, "cpuacct", &v1);
        if (dir && v1 && read_u64_file(dir, "cpuacct.usage", &v) >= 0) {
                v /= 1000U;
                goto found;
        }
        /* cpu.stat's usage_usec is kept for every cgroup2 cgroup. */
        if (!d->v2 || read_keyed_file(d->v2, "cpu.stat", "usage_usec", &v) < 0)
                return;
found:
        s->cpu_usec = v;
        s->have |= STATS_CPU;
}

static void read_memory(const Dirs *d, ContainerStats *s) {
        bool v1 = false;
        _cleanup_free_ char *dir = controller_dir(d, "memory", &v1);
        uint64_t v, sw;
        if (!dir)
                return;
        if (read_u64_file(dir, v1 ? "memory.usage_in_bytes" : "memory.current", &v) >= 0) {
                s->memory_bytes = v;
                s->have |= STATS_MEMORY;
        }
        if (read_u64_file(dir, v1 ? "memory.max_usage_in_bytes" : "memory.peak", &v) >= 0) {
                s->memory_peak_bytes = v;
                s->have |= STATS_MEMORY_PEAK;
        }
        if (!v1 && read_u64_file(dir, "memory.swap.current", &sw) >= 0) {
                s->swap_bytes = sw;
                s->have |= STATS_SWAP;
        } else if (v1 && (s->have & STATS_MEMORY) &&
                   read_u64_file(dir, "memory.memsw.usage_in_bytes", &sw) >= 0) {
                /* Read after usage: memsw can trail it by what moved meanwhile. */
                s->swap_bytes = sw > s->memory_bytes ? sw - s->memory_bytes : 0;
                s->have |= STATS_SWAP;
        }
}

static void read_io(const Dirs *d, ContainerStats *s) {
        bool v1 = false;
        _cleanup_free_ char *dir = controller_dir(d, "io", &v1);
        if (!dir)
                dir = controller_dir(d, "blkio", &v1);
        if (!dir)
                return;
        if (read_io_file(dir, v1 ? "blkio.throttle.io_service_bytes_recursive" : "io.stat", v1,
                         &s->io_read_bytes, &s->io_write_bytes) >= 0)
                s->have |= STATS_IO;
}

/* Threads listed in cgroup.threads of dir and every cgroup below it. */
static int count_threads(int dirfd, unsigned depth) {
        _cleanup_free_ char *text = NULL;
        int n = 0, r = read_text_at(dirfd, "cgroup.threads", STATS_FILE_MAX * 16U, &text);
        if (r < 0)
                return r;
        for (const char *p = text; *p; p++)
                n += *p == '\n';
        if (depth >= STATS_TREE_MAX_DEPTH)
                return n;
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
        if (!dir) {
                safe_close(fd);
                return n;
        }
        struct dirent *de;
        while ((de = readdir(dir))) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                _cleanup_close_ int sub =
                        openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                int k = sub >= 0 ? count_threads(sub, depth + 1) : 0;
                n += k > 0 ? k : 0;
        }
        closedir(dir);
        return n;
}

static void read_pids(const Dirs *d, ContainerStats *s) {
        bool v1 = false;
        _cleanup_free_ char *dir = controller_dir(d, "pids", &v1);
        uint64_t v;
        if (dir && read_u64_file(dir, "pids.current", &v) >= 0) {
                s->pids = (uint32_t) MIN(v, (uint64_t) UINT32_MAX);
                s->have |= STATS_PIDS;
                return;
        }
        if (!d->v2)
                return;
        _cleanup_close_ int fd = open(d->v2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int n = fd >= 0 ? count_threads(fd, 0) : -errno;
        if (n >= 0) {
                s->pids = (uint32_t) n;
                s->have |= STATS_PIDS;
        }
}

/* Uptime and network from init's /proc entry. The directory fd pins the
 * process: once it is gone, reads through it fail rather than reach
 * whoever gets the pid next. */
static void read_init(pid_t pid, const char *cgroup_path, ContainerStats *s) {
        char path[64];
        _cleanup_free_ char *cg = NULL, *stat_text = NULL, *dev = NULL;
        snprintf(path, sizeof path, "/proc/%d", (int) pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        if (read_text_at(fd, "cgroup", STATS_FILE_MAX, &cg) < 0 ||
            stats_cgroup_contains(cg, cgroup_path) <= 0) {
                log_debug("Process %d is not in cgroup %s: no init stats", (int) pid, cgroup_path);
                return;
        }
        uint64_t ticks;
        struct timespec now;
        long hz = sysconf(_SC_CLK_TCK);
        if (read_text_at(fd, "stat", STATS_FILE_MAX, &stat_text) >= 0 &&
            stats_parse_starttime(stat_text, &ticks) >= 0 && hz > 0 &&
            clock_gettime(CLOCK_BOOTTIME, &now) >= 0) {
                uint64_t now_usec = (uint64_t) now.tv_sec * 1000000U + (uint64_t) now.tv_nsec / 1000U;
                uint64_t start_usec = ticks * 1000000U / (uint64_t) hz;
                s->uptime_usec = now_usec > start_usec ? now_usec - start_usec : 0;
                s->have |= STATS_UPTIME;
        }
        /* The counters of init's network namespace, read without entering it. */
        if (read_text_at(fd, "net/dev", STATS_NET_DEV_MAX, &dev) >= 0 &&
            stats_parse_net_dev(dev, &s->nics, &s->n_nics, &s->net_rx_bytes, &s->net_tx_bytes) >= 0)
                s->have |= STATS_NET;
}

int stats_read(const CgroupLayout *l, const char *path, pid_t init_pid, ContainerStats *ret,
               WarrenError *reterr) {
        if (!path || path[0] != '/' || strstr(path, "/..") || strstr(path, "//") || strlen(path) > 4096)
                return warren_error_set(reterr, EINVAL, "Invalid cgroup path '%s'", strna(path));
        _cleanup_free_ char *v2 = NULL;
        if (l->v2_mount && asprintf(&v2, "%s%s", l->v2_mount, path) < 0)
                return -ENOMEM;

        ContainerStats s = {};
        Dirs d = { .layout = l, .path = path, .v2 = v2 };
        read_cpu(&d, &s);
        read_memory(&d, &s);
        read_io(&d, &s);
        read_pids(&d, &s);
        /* Nothing read, and no cgroup.procs either: it is not there (one
         * check for the rare case, not a stat() for every call). */
        if (!s.have && !cgroup_dir_exists(&d)) {
                container_stats_done(&s);
                return warren_error_set(reterr, ESRCH, "Cgroup %s does not exist", path);
        }
        if (init_pid > 0)
                read_init(init_pid, path, &s);
        *ret = s;
        return 0;
}
