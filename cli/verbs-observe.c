/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* warrenctl top, limit, monitor, wait: watching and adjusting running
 * containers (as lxc-top, lxc-cgroup, lxc-monitor, lxc-wait), and the
 * stats lines of info. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* GLib has its own MIN and MAX, the same; ours follow. */
#undef MIN
#undef MAX
#include "basic/macro.h"
#include "basic/strv.h"
#include "verbs-observe.h"

#define WARREN_JOB_PREFIX "/org/warren1/job"

static double arg_delay = 1.0;
static unsigned arg_iterations = 0;  /* 0: until interrupted */
static double arg_wait_timeout = -1; /* < 0: forever */
static const char *arg_first_option = NULL;

static char *const container_states[] = {
        "STOPPED", "STARTING", "RUNNING", "STOPPING", "ABORTING", "FREEZING", "FROZEN", NULL,
};

static int parse_seconds(const char *what, const char *arg, double min, double *ret) {
        char *end;
        errno = 0;
        double v = strtod(arg, &end);
        if (errno || end == arg || *end || !isfinite(v) || v < min || v > 86400.0 * 365) {
                fprintf(stderr, "warrenctl: Invalid %s '%s': expected seconds%s\n", what, arg,
                        min > 0 ? " (more than 0)" : "");
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

int parse_observe_option(int c, const char *arg) {
        switch (c) {
        case OBSERVE_ARG_DELAY:
                arg_first_option = arg_first_option ?: "--delay";
                return parse_seconds("--delay", arg, 0.1, &arg_delay);
        case OBSERVE_ARG_ITERATIONS: {
                char *end;
                errno = 0;
                unsigned long v = strtoul(arg, &end, 10);
                arg_first_option = arg_first_option ?: "--iterations";
                if (errno || end == arg || *end || v == 0 || v > 1000000UL) {
                        fprintf(stderr, "warrenctl: Invalid --iterations '%s': expected 1..1000000\n", arg);
                        return -EINVAL;
                }
                arg_iterations = (unsigned) v;
                return 0;
        }
        case OBSERVE_ARG_TIMEOUT:
                return parse_seconds("timeout", arg, 0, &arg_wait_timeout);
        }
        return -EINVAL;
}

int observe_options_check(const char *verb) {
        if (!arg_first_option || streq(verb, "top"))
                return 0;
        fprintf(stderr, "warrenctl: %s means nothing for '%s' (it is for 'top')\n", arg_first_option, verb);
        return -EINVAL;
}

static uint64_t now_usec(clockid_t clock) {
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

static bool name_selected(const char *name, char **globs) {
        if (strv_length(globs) == 0)
                return true;
        STRV_FOREACH(g, globs)
                if (fnmatch(*g, name, 0) == 0)
                        return true;
        return false;
}

/* --- stats ------------------------------------------------------------------ */

enum {
        HAVE_CPU = 1 << 0,
        HAVE_MEMORY = 1 << 1,
        HAVE_MEMORY_PEAK = 1 << 2,
        HAVE_SWAP = 1 << 3,
        HAVE_IO_READ = 1 << 4,
        HAVE_IO_WRITE = 1 << 5,
        HAVE_NET_RX = 1 << 6,
        HAVE_NET_TX = 1 << 7,
        HAVE_UPTIME = 1 << 8,
        HAVE_PIDS = 1 << 9,
        HAVE_NICS = 1 << 10,
        HAVE_PERCENT = 1 << 11,
};

typedef struct Stats {
        char *name;
        unsigned have;
        uint64_t cpu_usec, memory, memory_peak, swap, io_read, io_write, net_rx, net_tx, uptime;
        uint32_t pids;
        char **nic_names;
        uint64_t *nic_rx, *nic_tx;
        size_t n_nics;
        double cpu_percent;
} Stats;

static const struct {
        const char *key;
        unsigned bit;
        size_t offset;
} stats_fields[] = {
        { "cpu_usec", HAVE_CPU, offsetof(Stats, cpu_usec) },
        { "memory_bytes", HAVE_MEMORY, offsetof(Stats, memory) },
        { "memory_peak_bytes", HAVE_MEMORY_PEAK, offsetof(Stats, memory_peak) },
        { "swap_bytes", HAVE_SWAP, offsetof(Stats, swap) },
        { "io_read_bytes", HAVE_IO_READ, offsetof(Stats, io_read) },
        { "io_write_bytes", HAVE_IO_WRITE, offsetof(Stats, io_write) },
        { "net_rx_bytes", HAVE_NET_RX, offsetof(Stats, net_rx) },
        { "net_tx_bytes", HAVE_NET_TX, offsetof(Stats, net_tx) },
        { "uptime_usec", HAVE_UPTIME, offsetof(Stats, uptime) },
};

static void stats_done(Stats *s) {
        free(s->name);
        strv_free(s->nic_names);
        free(s->nic_rx);
        free(s->nic_tx);
        *s = (Stats){};
}

static void stats_array_free(Stats *a, size_t n) {
        for (size_t i = 0; i < n; i++)
                stats_done(&a[i]);
        free(a);
}

static int read_nics(sd_bus_message *m, Stats *s) {
        const char *name;
        uint64_t rx, tx;
        int r = sd_bus_message_enter_container(m, 'v', "a(stt)");
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "(stt)");
        while (r >= 0 && (r = sd_bus_message_read(m, "(stt)", &name, &rx, &tx)) > 0) {
                uint64_t *a = realloc(s->nic_rx, (s->n_nics + 1) * sizeof(uint64_t));
                if (a)
                        s->nic_rx = a;
                uint64_t *b = a ? realloc(s->nic_tx, (s->n_nics + 1) * sizeof(uint64_t)) : NULL;
                if (b)
                        s->nic_tx = b;
                if (!a || !b || strv_extend(&s->nic_names, name) < 0)
                        return -ENOMEM;
                s->nic_rx[s->n_nics] = rx;
                s->nic_tx[s->n_nics++] = tx;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r >= 0)
                s->have |= HAVE_NICS;
        return r;
}

/* One a{sv} of GetStats; keys not known here are skipped (newer services). */
static int read_stats(sd_bus_message *m, Stats *s) {
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *contents = NULL;
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0)
                        r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r < 0)
                        return r;
                bool done = false;
                for (size_t i = 0; !done && i < ELEMENTSOF(stats_fields); i++)
                        if (streq(key, stats_fields[i].key) && streq_ptr(contents, "t")) {
                                r = sd_bus_message_read(m, "v", "t",
                                                        (uint64_t *) ((char *) s + stats_fields[i].offset));
                                s->have |= stats_fields[i].bit;
                                done = true;
                        }
                if (!done && streq(key, "pids") && streq_ptr(contents, "u")) {
                        r = sd_bus_message_read(m, "v", "u", &s->pids);
                        s->have |= HAVE_PIDS;
                } else if (!done && streq(key, "nics") && streq_ptr(contents, "a(stt)"))
                        r = read_nics(m, s);
                else if (!done)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r;
}

/* GetStats of path without prompting; <0 if it cannot be read. */
static int get_stats_quiet(sd_bus *bus, const char *path, Stats *s) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = call_quiet(bus, path, WARREN_CONTAINER_IFACE, "GetStats", &reply);
        if (r >= 0)
                r = read_stats(reply, s);
        return r;
}

void observe_info_text(sd_bus *bus, const char *path) {
        Stats s = {};
        char a[FORMAT_SIZE_MAX], b[FORMAT_SIZE_MAX], t[FORMAT_DURATION_MAX];
        if (get_stats_quiet(bus, path, &s) < 0)
                return;
        if (s.have & HAVE_CPU)
                printf("CPU use:        %.2f seconds\n", (double) s.cpu_usec / 1e6);
        if (s.have & HAVE_MEMORY_PEAK)
                printf("Memory peak:    %s\n", format_size(s.memory_peak, a));
        if (s.have & HAVE_SWAP)
                printf("Swap use:       %s\n", format_size(s.swap, a));
        if (s.have & HAVE_IO_READ)
                printf("BlkIO use:      %s read, %s written\n", format_size(s.io_read, a),
                       format_size(s.io_write, b));
        if (s.have & HAVE_PIDS)
                printf("Processes:      %" PRIu32 "\n", s.pids);
        if (s.have & HAVE_UPTIME)
                printf("Uptime:         %s\n", format_duration(s.uptime, t));
        for (size_t i = 0; i < s.n_nics; i++)
                printf("Link:           %s (RX %s, TX %s)\n", s.nic_names[i], format_size(s.nic_rx[i], a),
                       format_size(s.nic_tx[i], b));
        if (s.have & HAVE_NET_RX)
                printf("Network:        RX %s, TX %s\n", format_size(s.net_rx, a), format_size(s.net_tx, b));
        stats_done(&s);
}

void observe_info_json(sd_bus *bus, const char *path, OutputObject *o) {
        Stats s = {};
        if (get_stats_quiet(bus, path, &s) < 0)
                return;
        JsonObject *so = json_object_new();
        for (size_t i = 0; i < ELEMENTSOF(stats_fields); i++)
                if (s.have & stats_fields[i].bit)
                        json_object_set_int_member(
                                so, stats_fields[i].key,
                                (gint64) MIN(*(uint64_t *) ((char *) &s + stats_fields[i].offset),
                                             (uint64_t) INT64_MAX));
        if (s.have & HAVE_PIDS)
                json_object_set_int_member(so, "pids", s.pids);
        if (s.have & HAVE_NICS) {
                JsonArray *arr = json_array_new();
                for (size_t i = 0; i < s.n_nics; i++) {
                        JsonObject *n = json_object_new();
                        json_object_set_member(n, "name", output_json_string(s.nic_names[i]));
                        json_object_set_int_member(n, "rx_bytes",
                                                   (gint64) MIN(s.nic_rx[i], (uint64_t) INT64_MAX));
                        json_object_set_int_member(n, "tx_bytes",
                                                   (gint64) MIN(s.nic_tx[i], (uint64_t) INT64_MAX));
                        json_array_add_object_element(arr, n);
                }
                JsonNode *node = json_node_new(JSON_NODE_ARRAY);
                json_node_take_array(node, arr);
                json_object_set_member(so, "nics", node);
        }
        JsonNode *node = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(node, so);
        output_object_node(o, "stats", node);
        stats_done(&s);
}

/* --- top -------------------------------------------------------------------- */

static const OutputColumn top_columns[] = {
        { "name", "NAME", OUTPUT_STRING, OUTPUT_DEFAULT, "container name" },
        { "cpu", "CPU%", OUTPUT_PERCENT, OUTPUT_DEFAULT | OUTPUT_RIGHT,
          "CPU use over the last interval, 100 per busy CPU", "cpu_percent" },
        { "memory", "MEMORY", OUTPUT_SIZE, OUTPUT_DEFAULT | OUTPUT_RIGHT, "memory in use", "memory_bytes" },
        { "memory-peak", "PEAK", OUTPUT_SIZE, OUTPUT_RIGHT, "most memory used", "memory_peak_bytes" },
        { "swap", "SWAP", OUTPUT_SIZE, OUTPUT_RIGHT, "swap in use", "swap_bytes" },
        { "pids", "PIDS", OUTPUT_NUMBER, OUTPUT_DEFAULT | OUTPUT_RIGHT, "tasks" },
        { "net-rx", "NET RX", OUTPUT_SIZE, OUTPUT_DEFAULT | OUTPUT_RIGHT, "bytes received (all NICs)",
          "net_rx_bytes" },
        { "net-tx", "NET TX", OUTPUT_SIZE, OUTPUT_DEFAULT | OUTPUT_RIGHT, "bytes sent (all NICs)",
          "net_tx_bytes" },
        { "io-read", "IO READ", OUTPUT_SIZE, OUTPUT_DEFAULT | OUTPUT_RIGHT, "bytes read from block devices",
          "io_read_bytes" },
        { "io-write", "IO WRITE", OUTPUT_SIZE, OUTPUT_DEFAULT | OUTPUT_RIGHT,
          "bytes written to block devices", "io_write_bytes" },
        { "cpu-time", "CPU TIME", OUTPUT_DURATION, OUTPUT_RIGHT, "CPU time used since start", "cpu_usec" },
        { "uptime", "UPTIME", OUTPUT_DURATION, OUTPUT_DEFAULT | OUTPUT_RIGHT, "time since init started",
          "uptime_usec" },
        {},
};

/* GetStatsAll, the containers named by globs; ret_when: when it answered. */
static int top_sample(sd_bus *bus, char **globs, Stats **ret, size_t *ret_n, uint64_t *ret_when) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Stats *all = NULL;
        size_t n = 0;
        const char *name;
        int r = call_manager(bus, "GetStatsAll", &reply, NULL);
        if (r < 0)
                return r;
        *ret_when = now_usec(CLOCK_MONOTONIC);
        r = sd_bus_message_enter_container(reply, 'a', "(sa{sv})");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "sa{sv}")) > 0) {
                Stats s = {};
                r = sd_bus_message_read(reply, "s", &name);
                if (r >= 0)
                        r = read_stats(reply, &s);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0 && name_selected(name, globs)) {
                        Stats *a = realloc(all, (n + 1) * sizeof(Stats));
                        s.name = strdup(name);
                        if (!a || !s.name)
                                r = -ENOMEM;
                        else {
                                all = a;
                                all[n++] = s;
                                continue;
                        }
                }
                stats_done(&s);
        }
        if (r < 0) {
                stats_array_free(all, n);
                return log_bus_error("Failed to read GetStatsAll's reply", NULL, r);
        }
        *ret = all;
        *ret_n = n;
        return 0;
}

static int by_cpu(const void *a, const void *b) {
        const Stats *x = a, *y = b;
        if (x->cpu_percent != y->cpu_percent)
                return x->cpu_percent < y->cpu_percent ? 1 : -1;
        return strcmp(x->name, y->name);
}

static int top_print(Stats *s, size_t n, bool clear) {
        OutputTable *t = NULL;
        int r = output_table_new(top_columns, "top", &t);
        if (r < 0)
                return r;
        qsort(s, n, sizeof(Stats), by_cpu);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = output_table_add_row(t);
                if (r >= 0)
                        r = output_cell_string(t, "name", s[i].name);
                if (r >= 0 && (s[i].have & HAVE_PERCENT))
                        r = output_cell_percent(t, "cpu", s[i].cpu_percent);
                if (r >= 0 && (s[i].have & HAVE_MEMORY))
                        r = output_cell_size(t, "memory", s[i].memory);
                if (r >= 0 && (s[i].have & HAVE_MEMORY_PEAK))
                        r = output_cell_size(t, "memory-peak", s[i].memory_peak);
                if (r >= 0 && (s[i].have & HAVE_SWAP))
                        r = output_cell_size(t, "swap", s[i].swap);
                if (r >= 0 && (s[i].have & HAVE_PIDS))
                        r = output_cell_number(t, "pids", s[i].pids);
                if (r >= 0 && (s[i].have & HAVE_NET_RX))
                        r = output_cell_size(t, "net-rx", s[i].net_rx);
                if (r >= 0 && (s[i].have & HAVE_NET_TX))
                        r = output_cell_size(t, "net-tx", s[i].net_tx);
                if (r >= 0 && (s[i].have & HAVE_IO_READ))
                        r = output_cell_size(t, "io-read", s[i].io_read);
                if (r >= 0 && (s[i].have & HAVE_IO_WRITE))
                        r = output_cell_size(t, "io-write", s[i].io_write);
                if (r >= 0 && (s[i].have & HAVE_CPU))
                        r = output_cell_duration(t, "cpu-time", s[i].cpu_usec);
                if (r >= 0 && (s[i].have & HAVE_UPTIME))
                        r = output_cell_duration(t, "uptime", s[i].uptime);
        }
        if (r >= 0 && clear) {
                char when[32];
                time_t now = time(NULL);
                struct tm tm;
                strftime(when, sizeof when, "%H:%M:%S", localtime_r(&now, &tm));
                /* Home and clear, as top does between frames. */
                printf("\033[H\033[2Jwarrenctl top - %s, %zu container%s running\n\n", when, n,
                       n == 1 ? "" : "s");
        }
        if (r >= 0)
                r = output_table_print(t);
        output_table_free(t);
        return r;
}

/* CPU % of each container in cur over the interval since prev. */
static void top_percent(Stats *cur, size_t n_cur, uint64_t when, const Stats *prev, size_t n_prev,
                        uint64_t prev_when) {
        for (size_t i = 0; i < n_cur; i++)
                for (size_t j = 0; j < n_prev; j++)
                        if (streq(cur[i].name, prev[j].name) && (cur[i].have & prev[j].have & HAVE_CPU) &&
                            cur[i].cpu_usec >= prev[j].cpu_usec && when > prev_when) {
                                cur[i].cpu_percent = 100.0 * (double) (cur[i].cpu_usec - prev[j].cpu_usec) /
                                                     (double) (when - prev_when);
                                cur[i].have |= HAVE_PERCENT;
                        }
}

static int verb_top(sd_bus *bus, char **args) {
        Stats *prev = NULL, *cur = NULL;
        size_t n_prev = 0, n_cur = 0;
        uint64_t prev_when = 0, when = 0;
        /* JSON is one sample: the use over one interval. */
        unsigned iterations = arg_json != JSON_OFF ? 1 : arg_iterations;
        bool clear = arg_json == JSON_OFF && isatty(STDOUT_FILENO);
        int r = top_sample(bus, args, &prev, &n_prev, &prev_when);
        for (unsigned i = 0; r >= 0 && (iterations == 0 || i < iterations); i++) {
                struct timespec ts = { .tv_sec = (time_t) arg_delay,
                                       .tv_nsec = (long) ((arg_delay - floor(arg_delay)) * 1e9) };
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
                r = top_sample(bus, args, &cur, &n_cur, &when);
                if (r < 0)
                        break;
                top_percent(cur, n_cur, when, prev, n_prev, prev_when);
                if (i > 0 && !clear && arg_json == JSON_OFF)
                        putchar('\n');
                r = top_print(cur, n_cur, clear);
                stats_array_free(prev, n_prev);
                prev = TAKE_PTR(cur);
                n_prev = n_cur;
                prev_when = when;
        }
        stats_array_free(prev, n_prev);
        return r;
}

/* --- limit ------------------------------------------------------------------ */

typedef enum LimitKind {
        LIMIT_BYTES, /* 512M, 2G, max */
        LIMIT_CPUS,  /* 1.5 CPUs -> cpu.max "150000 100000" */
        LIMIT_COUNT, /* 200, max */
        LIMIT_RAW,   /* passed on; the service checks it */
} LimitKind;

static const struct {
        const char *name;
        const char *key;
        LimitKind kind;
        const char *help;
} limit_names[] = {
        { "memory", "lxc.cgroup2.memory.max", LIMIT_BYTES, "memory limit, e.g. 512M, 2G, max" },
        { "memory.high", "lxc.cgroup2.memory.high", LIMIT_BYTES,
          "memory above which it is reclaimed first" },
        { "swap", "lxc.cgroup2.memory.swap.max", LIMIT_BYTES, "swap limit (cgroup v1: memory+swap)" },
        { "cpu", "lxc.cgroup2.cpu.max", LIMIT_CPUS, "CPUs' worth of time, e.g. 1.5, or max" },
        { "cpu.weight", "lxc.cgroup2.cpu.weight", LIMIT_RAW, "CPU share, 1..10000 (default 100)" },
        { "cpuset", "lxc.cgroup2.cpuset.cpus", LIMIT_RAW, "CPUs it may run on, e.g. 0-1" },
        { "pids", "lxc.cgroup2.pids.max", LIMIT_COUNT, "tasks, e.g. 200, or max" },
        { "io.weight", "lxc.cgroup2.io.weight", LIMIT_RAW, "block IO share, 1..10000 (default 100)" },
};

static bool is_unlimited(const char *v) {
        return strcasecmp(v, "max") == 0 || strcasecmp(v, "none") == 0 || strcasecmp(v, "unlimited") == 0 ||
               strcasecmp(v, "infinity") == 0;
}

static int limit_value(const char *name, LimitKind kind, const char *v, char **ret) {
        if (isempty(v) || kind == LIMIT_RAW)
                return (*ret = strdup(v)) ? 0 : -ENOMEM;
        if (is_unlimited(v))
                return (*ret = strdup(kind == LIMIT_CPUS ? "max 100000" : "max")) ? 0 : -ENOMEM;
        if (kind == LIMIT_CPUS) {
                char *end;
                errno = 0;
                double cpus = strtod(v, &end);
                if (errno || end == v || *end || !isfinite(cpus) || cpus < 0.01 || cpus > 100000.0) {
                        fprintf(stderr,
                                "warrenctl: Invalid value '%s' for %s: expected CPUs (0.01 or more, e.g. "
                                "1.5) or max\n",
                                v, name);
                        return -EINVAL;
                }
                return asprintf(ret, "%.0f 100000", cpus * 100000.0) < 0 ? -ENOMEM : 0;
        }
        size_t digits = strspn(v, "0123456789");
        bool ok = digits > 0 && (v[digits] == 0 || (kind == LIMIT_BYTES && v[digits + 1] == 0 &&
                                                    strchr("kKmMgGtT", v[digits])));
        if (!ok) {
                fprintf(stderr, "warrenctl: Invalid value '%s' for %s: expected %s or max\n", v, name,
                        kind == LIMIT_BYTES ? "a size such as 512M or 2G" : "a number");
                return -EINVAL;
        }
        return (*ret = strdup(v)) ? 0 : -ENOMEM;
}

/* NAME=VALUE (a friendly name) or lxc.cgroup*.FILE=VALUE -> key, value. */
static int limit_item(const char *arg, char ***kv) {
        _cleanup_strv_free_ char **pair = NULL;
        int r = parse_key_value(arg, &pair);
        if (r < 0)
                return r;
        if (strncmp(pair[0], "lxc.cgroup", 10) == 0)
                return strv_extend(kv, pair[0]) < 0 || strv_extend(kv, pair[1]) < 0 ? -ENOMEM : 0;
        for (size_t i = 0; i < ELEMENTSOF(limit_names); i++) {
                if (strcasecmp(pair[0], limit_names[i].name) != 0)
                        continue;
                char *v = NULL;
                r = limit_value(limit_names[i].name, limit_names[i].kind, pair[1], &v);
                if (r < 0)
                        return r;
                if (strv_extend(kv, limit_names[i].key) < 0 || strv_consume(kv, v) < 0)
                        return -ENOMEM;
                return 0;
        }
        fprintf(stderr, "warrenctl: Unknown limit '%s'; limits:", pair[0]);
        for (size_t i = 0; i < ELEMENTSOF(limit_names); i++)
                fprintf(stderr, "%s %s", i ? "," : "", limit_names[i].name);
        fprintf(stderr, ", or an lxc.cgroup2.* / lxc.cgroup.* key\n");
        return -EINVAL;
}

static int limit_show(sd_bus *bus, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **kv = calloc(1, sizeof(char *));
        const char *k, *v;
        if (!kv)
                return -ENOMEM;
        int r = call_container(bus, name, "GetConfig", &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ss)", &k, &v)) > 0)
                if (strncmp(k, "lxc.cgroup", 10) == 0 &&
                    (strv_extend(&kv, k) < 0 || strv_extend(&kv, v) < 0))
                        return -ENOMEM;
        if (r < 0)
                return log_bus_error("Failed to read the config", NULL, r);
        if (arg_json != JSON_OFF)
                return output_json_print(output_json_pairs(kv));
        for (size_t i = 0; kv[i] && kv[i + 1]; i += 2)
                printf("%s = %s\n", kv[i], kv[i + 1]);
        return 0;
}

static int append_items(sd_bus_message *m, char **kv) {
        int r = sd_bus_message_open_container(m, 'a', "(ss)");
        for (size_t i = 0; r >= 0 && kv[i] && kv[i + 1]; i += 2)
                r = sd_bus_message_append(m, "(ss)", kv[i], kv[i + 1]);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

static int verb_limit(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_strv_free_ char **kv = NULL, **live = NULL, **restart = NULL;
        _cleanup_free_ char *path = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        if (!args[1])
                return limit_show(bus, args[0]);
        for (char **a = args + 1; *a; a++) {
                int r = limit_item(*a, &kv);
                if (r < 0)
                        return r;
        }
        int r = container_path_local(args[0], &path);
        if (r >= 0)
                r = sd_bus_message_new_method_call(bus, &m, WARREN_BUS, path, WARREN_CONTAINER_IFACE,
                                                   "SetConfigWithResult");
        if (r >= 0)
                r = append_items(m, kv);
        if (r >= 0)
                r = sd_bus_message_append(m, "a{sv}", 0);
        if (r < 0)
                return log_bus_error("SetConfigWithResult", NULL, r);
        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, &reply);
        if (r < 0) {
                r = container_call_failed(bus, args[0], "Failed to set limits", &error, r);
                sd_bus_error_free(&error);
                return r;
        }
        r = sd_bus_message_read_strv(reply, &live);
        if (r >= 0)
                r = sd_bus_message_read_strv(reply, &restart);
        if (r < 0)
                return log_bus_error("Failed to read the reply", NULL, r);
        if (arg_json != JSON_OFF) {
                OutputObject *o = output_object_new();
                if (!o)
                        return -ENOMEM;
                output_object_strv(o, "applied_live", live);
                output_object_strv(o, "needs_restart", restart);
                r = output_object_print(o);
                output_object_free(o);
                return r;
        }
        _cleanup_free_ char *l = strv_join(live, ", "), *s = strv_join(restart, ", ");
        if (!l || !s)
                return -ENOMEM;
        if (*l)
                printf("Applied to the running container: %s\n", l);
        if (*s)
                printf("Saved, takes effect at the next start: %s\n", s);
        if (!*l && !*s)
                printf("Saved; '%s' is not running: the limits apply when it starts.\n", args[0]);
        return 0;
}

/* --- monitor and wait: the service's signals ----------------------------------- */

typedef struct Watch {
        char **globs;  /* monitor: the containers to show (NULL: all) */
        char **states; /* name, state, ...: the state last told or seen */
        char **jobs;   /* "ID", "TARGET\tTYPE", ...: jobs seen new */
        /* wait: */
        const char *name;
        char **want;
        int done; /* 1 reached, <0 failed */
} Watch;

static void watch_done(Watch *w) {
        strv_free(w->states);
        strv_free(w->jobs);
}

/* The value after key in a strv of pairs, or NULL. */
static char **pairs_find(char **kv, const char *key) {
        for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
                if (streq(kv[i], key))
                        return &kv[i + 1];
        return NULL;
}

static int pairs_set(char ***kv, const char *key, const char *value) {
        char **v = pairs_find(*kv, key);
        if (v) {
                char *n = strdup(value);
                if (!n)
                        return -ENOMEM;
                free(*v);
                *v = n;
                return 0;
        }
        return strv_extend(kv, key) < 0 || strv_extend(kv, value) < 0 ? -ENOMEM : 0;
}

/* One event: "TIME EVENT CONTAINER DETAIL", or a JSON line with extra's
 * members (taken). Flushed at once: a reader of a pipe sees it now. */
static void event_print(const char *event, const char *container, const char *detail, JsonObject *extra) {
        uint64_t usec = now_usec(CLOCK_REALTIME);
        time_t s = (time_t) (usec / 1000000U);
        struct tm tm;
        char when[64];
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", localtime_r(&s, &tm));
        snprintf(when + strlen(when), sizeof when - strlen(when), ".%06u", (unsigned) (usec % 1000000U));
        if (arg_json == JSON_OFF) {
                printf("%s %-11s %s%s%s\n", when, event, isempty(container) ? "-" : container,
                       isempty(detail) ? "" : " ", strempty(detail));
                if (extra)
                        json_object_unref(extra);
        } else {
                JsonObject *o = extra ?: json_object_new();
                json_object_set_member(o, "time", output_json_string(when));
                json_object_set_int_member(o, "time_usec", (gint64) usec);
                json_object_set_member(o, "event", output_json_string(event));
                if (container)
                        json_object_set_member(o, "container", output_json_string(container));
                JsonNode *n = json_node_new(JSON_NODE_OBJECT);
                json_node_take_object(n, o);
                (void) output_json_print(n);
        }
        fflush(stdout);
}

static void event_state(const char *event, const char *name, const char *state) {
        JsonObject *o = json_object_new();
        json_object_set_member(o, "state", output_json_string(state));
        event_print(event, name, state, o);
}

static bool state_wanted(const Watch *w, const char *state) {
        return strv_contains(w->want, state);
}

/* A state seen for name (by a signal or a read): told once per change. */
static void watch_state(Watch *w, const char *event, const char *name, const char *state) {
        char **old = pairs_find(w->states, name);
        if (old && streq(*old, state) && !streq(event, "current"))
                return;
        (void) pairs_set(&w->states, name, state);
        if (w->name) {
                if (streq(name, w->name) && state_wanted(w, state))
                        w->done = 1;
                return;
        }
        if (name_selected(name, w->globs))
                event_state(event, name, state);
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        _cleanup_free_ char *name = NULL;
        _cleanup_strv_free_ char **changed = NULL;
        const char *iface, *key, *state = NULL;
        if (sd_bus_path_decode(sd_bus_message_get_path(m), WARREN_CONTAINER_PREFIX, &name) <= 0 || !name)
                return 0;
        int r = sd_bus_message_read(m, "s", &iface);
        if (r < 0 || !streq(iface, WARREN_CONTAINER_IFACE))
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0 && streq(key, "State"))
                        r = sd_bus_message_read(m, "v", "s", &state);
                else if (r >= 0) {
                        r = sd_bus_message_skip(m, "v");
                        if (r >= 0 && strv_extend(&changed, key) < 0)
                                r = -ENOMEM;
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r < 0)
                return 0; /* not the service's format: nothing to tell */
        if (state)
                watch_state(w, "state", name, state);
        if (changed && !w->name && name_selected(name, w->globs)) {
                _cleanup_free_ char *list = strv_join(changed, ",");
                JsonObject *o = json_object_new();
                json_object_set_member(o, "properties", output_json_strv(changed));
                event_print("changed", name, list, o);
        }
        return 0;
}

/* Job's target and type, read when it is announced ("" if it is gone already). */
static void job_describe(sd_bus *bus, const char *path, char **ret_target, char **ret_type) {
        *ret_target = NULL;
        *ret_type = NULL;
        (void) sd_bus_get_property_string(bus, WARREN_BUS, path, WARREN_JOB_IFACE, "Target", NULL,
                                          ret_target);
        (void) sd_bus_get_property_string(bus, WARREN_BUS, path, WARREN_JOB_IFACE, "Type", NULL, ret_type);
}

static void event_job(Watch *w, const char *event, uint32_t id, const char *target, const char *type,
                      const char *result) {
        _cleanup_free_ char *detail = NULL;
        if (!isempty(target) ? !name_selected(target, w->globs) : strv_length(w->globs) > 0)
                return;
        if (asprintf(&detail, "job %" PRIu32 " (%s)%s%s", id, isempty(type) ? "?" : type, result ? ": " : "",
                     strempty(result)) < 0)
                return;
        JsonObject *o = json_object_new();
        json_object_set_int_member(o, "job", id);
        if (!isempty(type))
                json_object_set_member(o, "type", output_json_string(type));
        if (result)
                json_object_set_member(o, "result", output_json_string(result));
        event_print(event, target, detail, o);
}

static int on_manager_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const char *member = sd_bus_message_get_member(m), *name, *path, *result;
        uint32_t id;
        char key[16];
        if (streq_ptr(member, "ContainerNew") || streq_ptr(member, "ContainerRemoved")) {
                bool added = streq(member, "ContainerNew");
                if (sd_bus_message_read(m, "so", &name, &path) < 0)
                        return 0;
                if (w->name) {
                        if (!added && streq(name, w->name))
                                w->done = -EIDRM;
                        return 0;
                }
                if (name_selected(name, w->globs))
                        event_print(added ? "added" : "removed", name, NULL, NULL);
                /* A new container is STOPPED; its start is signalled. */
                (void) pairs_set(&w->states, name, added ? "STOPPED" : "");
                return 0;
        }
        if (w->name || !(streq_ptr(member, "JobNew") || streq_ptr(member, "JobRemoved")))
                return 0;
        bool is_new = streq(member, "JobNew");
        if (sd_bus_message_read(m, "uo", &id, &path) < 0 ||
            (!is_new && sd_bus_message_read(m, "s", &result) < 0))
                return 0;
        snprintf(key, sizeof key, "%" PRIu32, id);
        _cleanup_free_ char *target = NULL, *type = NULL;
        char **known = pairs_find(w->jobs, key);
        if (is_new && !known) { /* an older service: no InterfacesAdded for jobs */
                job_describe(sd_bus_message_get_bus(m), path, &target, &type);
                _cleanup_free_ char *v = NULL;
                if (asprintf(&v, "%s\t%s", strempty(target), strempty(type)) >= 0)
                        (void) pairs_set(&w->jobs, key, v);
        } else if (known) {
                target = strndup(*known, strcspn(*known, "\t"));
                type = strdup(*known + strcspn(*known, "\t") + ((*known)[strcspn(*known, "\t")] != 0));
        }
        event_job(w, is_new ? "job-new" : "job-removed", id, target, type, is_new ? NULL : result);
        return 0;
}

/* ObjectManager announces a job with its properties before JobNew: its
 * target and type are known even if it is gone before anyone asks. */
static int on_interfaces_added(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const char *path, *iface, *key, *target = NULL, *type = NULL;
        uint32_t id = 0;
        if (sd_bus_message_read(m, "o", &path) < 0 ||
            strncmp(path, WARREN_JOB_PREFIX "/", strlen(WARREN_JOB_PREFIX "/")) != 0)
                return 0;
        int r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
                r = sd_bus_message_read(m, "s", &iface);
                if (r >= 0 && !streq(iface, WARREN_JOB_IFACE))
                        r = sd_bus_message_skip(m, "a{sv}");
                else if (r >= 0) {
                        r = sd_bus_message_enter_container(m, 'a', "{sv}");
                        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                                r = sd_bus_message_read(m, "s", &key);
                                if (r >= 0 && streq(key, "Id"))
                                        r = sd_bus_message_read(m, "v", "u", &id);
                                else if (r >= 0 && streq(key, "Target"))
                                        r = sd_bus_message_read(m, "v", "s", &target);
                                else if (r >= 0 && streq(key, "Type"))
                                        r = sd_bus_message_read(m, "v", "s", &type);
                                else if (r >= 0)
                                        r = sd_bus_message_skip(m, "v");
                                if (r >= 0)
                                        r = sd_bus_message_exit_container(m);
                        }
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r < 0 || id == 0)
                return 0;
        char key_buf[16];
        _cleanup_free_ char *v = NULL;
        snprintf(key_buf, sizeof key_buf, "%" PRIu32, id);
        if (asprintf(&v, "%s\t%s", strempty(target), strempty(type)) >= 0)
                (void) pairs_set(&w->jobs, key_buf, v);
        return 0;
}

/* Reads every container's state (which starts the service if it is not
 * running, re-adopting the containers) and tells what differs from what
 * was told: the service signals nothing while it is away. */
static int watch_sync(sd_bus *bus, Watch *w, const char *event) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *state, *path;
        uint32_t owner;
        int r = call_manager(bus, "ListContainers", &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ssuo)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssuo)", &name, &state, &owner, &path)) > 0)
                watch_state(w, event, name, state);
        return r < 0 ? log_bus_error("Failed to read ListContainers' reply", NULL, r) : 0;
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Watch *w = userdata;
        const char *name, *old, *new;
        if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0 || !streq(name, WARREN_BUS) ||
            !isempty(new))
                return 0;
        /* The service exited (idle): bring it back, so that what the
         * containers do is told again. */
        if (watch_sync(sd_bus_message_get_bus(m), w, "state") < 0)
                w->done = -EHOSTDOWN;
        return 0;
}

static int watch_subscribe(sd_bus *bus, Watch *w) {
        static const struct {
                const char *match;
                sd_bus_message_handler_t handler;
        } matches[] = {
                { "type='signal',sender='" WARREN_BUS "',interface='org.freedesktop.DBus.Properties',"
                  "member='PropertiesChanged',path_namespace='" WARREN_CONTAINER_PREFIX "'",
                  on_properties_changed },
                { "type='signal',sender='" WARREN_BUS "',path='" WARREN_MANAGER_PATH
                  "',interface='" WARREN_MANAGER_IFACE "'",
                  on_manager_signal },
                { "type='signal',sender='" WARREN_BUS "',path='" WARREN_MANAGER_PATH "',"
                  "interface='org.freedesktop.DBus.ObjectManager',member='InterfacesAdded'",
                  on_interfaces_added },
                { "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                  "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" WARREN_BUS "'",
                  on_owner_changed },
        };
        /* Subscribed (AddMatch answered) before anything is read: no change
         * falls between the read and the first signal. */
        for (size_t i = 0; i < ELEMENTSOF(matches); i++) {
                int r = sd_bus_add_match(bus, NULL, matches[i].match, matches[i].handler, w);
                if (r < 0)
                        return log_bus_error("Failed to subscribe to the service's signals", NULL, r);
        }
        return 0;
}

/* Dispatches signals until w->done, or deadline (CLOCK_MONOTONIC µs, 0:
 * none): -ETIME then. */
static int watch_run(sd_bus *bus, Watch *w, uint64_t deadline) {
        for (;;) {
                int r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return log_bus_error("Lost the bus", NULL, r);
                if (w->done)
                        return w->done < 0 ? w->done : 0;
                if (r > 0)
                        continue;
                uint64_t timeout = UINT64_MAX, now = now_usec(CLOCK_MONOTONIC);
                if (deadline) {
                        if (now >= deadline)
                                return -ETIME;
                        timeout = deadline - now;
                }
                r = sd_bus_wait(bus, timeout);
                if (r < 0 && r != -EINTR)
                        return log_bus_error("Lost the bus", NULL, r);
        }
}

static int verb_monitor(sd_bus *bus, char **args) {
        Watch w = { .globs = args };
        if (arg_json != JSON_OFF)
                arg_json = JSON_SHORT; /* one event a line */
        int r = watch_subscribe(bus, &w);
        if (r >= 0)
                r = watch_sync(bus, &w, "current");
        if (r >= 0)
                r = watch_run(bus, &w, 0);
        watch_done(&w);
        return r;
}

static int verb_wait(sd_bus *bus, char **args) {
        _cleanup_strv_free_ char **want = strv_split(args[1], "|");
        _cleanup_free_ char *path = NULL, *state = NULL;
        if (!want)
                return -ENOMEM;
        STRV_FOREACH(s, want) {
                for (char *c = *s; *c; c++)
                        *c = (char) toupper((unsigned char) *c);
                if (!strv_contains(container_states, *s)) {
                        _cleanup_free_ char *all = strv_join(container_states, "|");
                        fprintf(stderr, "warrenctl: Unknown state '%s': expected one of %s\n", *s,
                                strempty(all));
                        return -EINVAL;
                }
        }
        if (!want[0]) {
                fprintf(stderr, "warrenctl: No state to wait for in '%s'\n", args[1]);
                return -EINVAL;
        }
        Watch w = { .name = args[0], .want = want };
        uint64_t start = now_usec(CLOCK_MONOTONIC);
        int r = watch_subscribe(bus, &w);
        if (r >= 0)
                r = container_path(bus, args[0], &path); /* NoSuchContainer, InvalidName */
        if (r >= 0) {
                r = sd_bus_get_property_string(bus, WARREN_BUS, path, WARREN_CONTAINER_IFACE, "State", NULL,
                                               &state);
                if (r < 0)
                        r = log_bus_error("Failed to read the state", NULL, r);
        }
        if (r < 0) {
                watch_done(&w);
                return r;
        }
        watch_state(&w, "current", args[0], state);
        if (!w.done)
                r = watch_run(bus, &w,
                              arg_wait_timeout < 0 ? 0 : start + (uint64_t) (arg_wait_timeout * 1e6) + 1);
        if (r == -ETIME) {
                char **now = pairs_find(w.states, args[0]);
                fprintf(stderr, "warrenctl: Timed out after %g s: container '%s' is %s, not %s\n",
                        arg_wait_timeout, args[0], now ? *now : "?", args[1]);
        } else if (r == -EIDRM)
                fprintf(stderr, "warrenctl: Container '%s' was destroyed\n", args[0]);
        else if (r == -EHOSTDOWN)
                fprintf(stderr, "warrenctl: The service went away and could not be started again\n");
        watch_done(&w);
        return r;
}

/* --- verbs ------------------------------------------------------------------ */

const Verb verbs_observe[] = {
        {
                .name = "top",
                .max_args = -1,
                .run = verb_top,
                .flags = VERB_JSON | VERB_TABLE | VERB_READ_ONLY,
                .usage = "[NAME...]",
                .summary = "Show running containers' resource use, busiest first",
                .description = "As lxc-top: a table refreshed every second, sorted by CPU use over the\n"
                               "last interval (100% is one busy CPU). NAME may be a glob. Root and\n"
                               "holders of org.warren1.manage see every container, others their own.\n"
                               "With --json, one sample over one interval, then it exits.",
                .options = "--delay=SEC\tSeconds between refreshes (default 1)\n"
                           "--iterations=N\tExit after N refreshes\n",
                .example = "warrenctl top\nwarrenctl top 'web*' -o name,cpu,memory\nwarrenctl top --json\n",
                .columns = top_columns,
        },
        {
                .name = "limit",
                .min_args = 1,
                .max_args = -1,
                .run = verb_limit,
                .flags = VERB_JSON,
                .usage = "NAME [LIMIT=VALUE...]",
                .summary = "Show or change a container's resource limits, live",
                .description = "As lxc-cgroup and machinectl set-property: on a running container the\n"
                               "limits apply at once, together with its config (a value the kernel\n"
                               "refuses changes neither); what cannot apply live is saved for the next\n"
                               "start, and said so. LIMIT is one of memory, memory.high, swap, cpu (CPUs,\n"
                               "e.g. 1.5), cpu.weight, cpuset, pids, io.weight, or an lxc.cgroup2.* or\n"
                               "lxc.cgroup.* key; cgroup v1 hosts get the v1 equivalents. An empty VALUE\n"
                               "removes the limit. Without LIMITs, prints the cgroup items of the config.",
                .example = "warrenctl limit web memory=512M cpu=1.5 pids=200 io.weight=50\n"
                           "warrenctl limit web memory=\nwarrenctl limit web\n",
        },
        {
                .name = "monitor",
                .max_args = -1,
                .run = verb_monitor,
                .flags = VERB_JSON | VERB_READ_ONLY,
                .usage = "[NAME...]",
                .summary = "Print containers' state changes and jobs as they happen",
                .description = "As lxc-monitor: first each container's current state, then every state\n"
                               "change, container added or removed, property changed and job started or\n"
                               "finished, with a timestamp, in the order the service signalled them,\n"
                               "until interrupted. NAME may be a glob. --json prints one JSON object a\n"
                               "line (time, time_usec, event, container, and state, job, type, result,\n"
                               "properties as they apply).",
                .example = "warrenctl monitor\nwarrenctl monitor web --json\n",
        },
        {
                .name = "wait",
                .min_args = 2,
                .max_args = 2,
                .run = verb_wait,
                .flags = VERB_READ_ONLY,
                .usage = "NAME STATE[|STATE...]",
                .summary = "Wait until a container is in one of the states",
                .description = "As lxc-wait: returns (status 0) as soon as the container is in one of\n"
                               "the states (STOPPED, STARTING, RUNNING, STOPPING, ABORTING, FREEZING,\n"
                               "FROZEN); status 1 on timeout or if the container is destroyed meanwhile.",
                .options = "-t --timeout=SEC\tGive up after SEC seconds (0: just check)\n",
                .example = "warrenctl wait web RUNNING -t 10\nwarrenctl wait web 'STOPPED|FROZEN'\n",
        },
        {},
};
