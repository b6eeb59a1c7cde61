/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "config.h"
#include "name.h"
#include "netlink.h"
#include "network.h"
#include "nft.h"
#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strv.h"

#define NETWORK_FILE_MAX (64U * 1024U)
#define DNSMASQ_START_TIMEOUT_MS 5000
#define DNSMASQ_STOP_TIMEOUT_MS 5000
#define DNSMASQ_LEASE_TIME "1h"

static const char *const dnsmasq_paths[] = { "/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/sbin/dnsmasq" };

static void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000U + (uint64_t) ts.tv_nsec / 1000000U;
}

/* ---- definitions ---- */

int network_name_validate(const char *name, WarrenError *reterr) {
        size_t n = name ? strlen(name) : 0;
        if (n == 0 || n > NETWORK_NAME_MAX)
                return warren_error_set(reterr, EINVAL,
                                        "Invalid network name '%s': must be 1..%d characters",
                                        strempty(name), NETWORK_NAME_MAX);
        if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')) ||
            strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
                return warren_error_set(reterr, EINVAL,
                                        "Invalid network name '%s': must match [A-Za-z][A-Za-z0-9_-]{0,14}",
                                        name);
        return 0;
}

int network_def_new(const char *name, NetworkDef **ret, WarrenError *reterr) {
        int r = network_name_validate(name, reterr);
        if (r < 0)
                return r;
        NetworkDef *d = calloc(1, sizeof(NetworkDef));
        if (!d || !(d->name = strdup(name))) {
                free(d);
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        }
        d->dns = true;
        *ret = d;
        return 0;
}

NetworkDef *network_def_free(NetworkDef *d) {
        if (!d)
                return NULL;
        free(d->name);
        free(d->ipv4_address);
        free(d->dhcp_range);
        free(d->uplink);
        free(d);
        return NULL;
}

static int parse_bool(const char *v) {
        static const char *const yes[] = { "1", "yes", "true", "on" }, *const no[] = { "0", "no", "false",
                                                                                       "off" };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (streq(v, yes[i]))
                        return 1;
                if (streq(v, no[i]))
                        return 0;
        }
        return -EINVAL;
}

static int set_string(char **dest, const char *v) {
        char *s = isempty(v) ? NULL : strdup(v);
        if (!isempty(v) && !s)
                return -ENOMEM;
        free(*dest);
        *dest = s;
        return 0;
}

int network_def_set(NetworkDef *d, const char *key, const char *value, WarrenError *reterr) {
        static const struct {
                const char *key;
                size_t offset;
        } bools[] = {
                { "nat", offsetof(NetworkDef, nat) },
                { "dhcp", offsetof(NetworkDef, dhcp) },
                { "dns", offsetof(NetworkDef, dns) },
                { "force", offsetof(NetworkDef, force) },
        };
        NlAddr a;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(bools); i++) {
                if (!streq(key, bools[i].key))
                        continue;
                r = parse_bool(value);
                if (r < 0)
                        return warren_error_set(
                                reterr, EINVAL,
                                "Invalid value '%s' for network option '%s': must be true or false", value,
                                key);
                *(bool *) ((char *) d + bools[i].offset) = r;
                return 0;
        }
        if (streq(key, "ipv4.address")) {
                if (!isempty(value)) {
                        r = netlink_addr_parse(AF_INET, value, &a, reterr);
                        if (r < 0)
                                return r;
                        if (!strchr(value, '/') || strchr(value, ' ') || a.prefixlen > 30)
                                return warren_error_set(reterr, EINVAL,
                                                        "Invalid ipv4.address '%s': must be ADDRESS/PREFIX "
                                                        "with a prefix of at most 30",
                                                        value);
                        uint32_t ip, mask = ~0U << (32 - a.prefixlen);
                        memcpy(&ip, a.addr, 4);
                        ip = ntohl(ip);
                        if ((ip & ~mask) == 0 || (ip & ~mask) == ~mask)
                                return warren_error_set(reterr, EINVAL,
                                                        "Invalid ipv4.address '%s': the subnet's network or "
                                                        "broadcast address",
                                                        value);
                }
                r = set_string(&d->ipv4_address, value);
        } else if (streq(key, "dhcp.range")) {
                if (!isempty(value)) {
                        char first[INET_ADDRSTRLEN], last[INET_ADDRSTRLEN];
                        uint8_t bin[4];
                        size_t n = strcspn(value, ",");
                        if (!value[n] || n >= sizeof first || strlen(value + n + 1) >= sizeof last)
                                return warren_error_set(reterr, EINVAL,
                                                        "Invalid dhcp.range '%s': must be FIRST,LAST",
                                                        value);
                        snprintf(first, sizeof first, "%.*s", (int) n, value);
                        snprintf(last, sizeof last, "%s", value + n + 1);
                        if (inet_pton(AF_INET, first, bin) != 1 || inet_pton(AF_INET, last, bin) != 1)
                                return warren_error_set(
                                        reterr, EINVAL,
                                        "Invalid dhcp.range '%s': must be two IPv4 addresses "
                                        "FIRST,LAST",
                                        value);
                }
                r = set_string(&d->dhcp_range, value);
        } else if (streq(key, "uplink")) {
                if (!isempty(value) && !netlink_ifname_is_valid(value))
                        return warren_error_set(reterr, EINVAL, "Invalid uplink '%s': not an interface name",
                                                value);
                r = set_string(&d->uplink, value);
        } else
                return warren_error_set(reterr, EINVAL,
                                        "Unknown network option '%s' (ipv4.address, nat, dhcp, dhcp.range, "
                                        "dns, uplink, force)",
                                        key);
        if (r < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        return 0;
}

/* Host-order first/last of "A,B". */
static void parse_range(const char *range, uint32_t *first, uint32_t *last) {
        char a[INET_ADDRSTRLEN] = "", b[INET_ADDRSTRLEN] = "";
        uint32_t x = 0, y = 0;
        size_t n = strcspn(range, ",");
        snprintf(a, sizeof a, "%.*s", (int) MIN(n, sizeof a - 1), range);
        snprintf(b, sizeof b, "%s", range[n] ? range + n + 1 : "");
        (void) inet_pton(AF_INET, a, &x);
        (void) inet_pton(AF_INET, b, &y);
        *first = ntohl(x);
        *last = ntohl(y);
}

int network_def_check(const NetworkDef *d, WarrenError *reterr) {
        NlAddr a;
        if ((d->nat || d->dhcp) && !d->ipv4_address)
                return warren_error_set(reterr, EINVAL, "Network '%s': %s needs ipv4.address", d->name,
                                        d->nat ? "nat" : "dhcp");
        if (d->dhcp_range && !d->dhcp)
                return warren_error_set(reterr, EINVAL, "Network '%s': dhcp.range '%s' needs dhcp = true",
                                        d->name, d->dhcp_range);
        if (d->uplink && streq(d->uplink, d->name))
                return warren_error_set(reterr, EINVAL,
                                        "Network '%s': the uplink cannot be the bridge itself", d->name);
        if (!d->dhcp_range || !d->ipv4_address || netlink_addr_parse(AF_INET, d->ipv4_address, &a, NULL) < 0)
                return 0;
        uint32_t ip, first, last, mask = ~0U << (32 - a.prefixlen);
        memcpy(&ip, a.addr, 4);
        ip = ntohl(ip);
        parse_range(d->dhcp_range, &first, &last);
        if ((first & mask) != (ip & mask) || (last & mask) != (ip & mask))
                return warren_error_set(reterr, EINVAL,
                                        "Invalid dhcp.range '%s': not inside the subnet of %s",
                                        d->dhcp_range, d->ipv4_address);
        if (first > last || (first & ~mask) == 0 || (last & ~mask) == ~mask)
                return warren_error_set(
                        reterr, EINVAL,
                        "Invalid dhcp.range '%s': must go from a lower to a higher host address",
                        d->dhcp_range);
        if (ip >= first && ip <= last)
                return warren_error_set(reterr, EINVAL,
                                        "Invalid dhcp.range '%s': it contains the bridge's address %s",
                                        d->dhcp_range, d->ipv4_address);
        return 0;
}

int network_def_dhcp_range(const NetworkDef *d, char **ret, WarrenError *reterr) {
        NlAddr a;
        char *s;
        if (d->dhcp_range)
                s = strdup(d->dhcp_range);
        else {
                if (!d->ipv4_address)
                        return warren_error_set(reterr, EINVAL, "Network '%s' has no ipv4.address for DHCP",
                                                d->name);
                int r = netlink_addr_parse(AF_INET, d->ipv4_address, &a, reterr);
                if (r < 0)
                        return r;
                /* The longer run of host addresses beside the bridge's. */
                uint32_t ip, mask = ~0U << (32 - a.prefixlen), first, last;
                memcpy(&ip, a.addr, 4);
                ip = ntohl(ip);
                uint32_t lo = (ip & mask) + 1, hi = (ip | ~mask) - 1;
                if (ip - lo >= hi - ip)
                        first = lo, last = ip - 1;
                else
                        first = ip + 1, last = hi;
                struct in_addr x = { htonl(first) }, y = { htonl(last) };
                char fb[INET_ADDRSTRLEN], lb[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &x, fb, sizeof fb);
                inet_ntop(AF_INET, &y, lb, sizeof lb);
                if (asprintf(&s, "%s,%s", fb, lb) < 0)
                        s = NULL;
        }
        if (!s)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        *ret = s;
        return 0;
}

char *network_def_format(const NetworkDef *d) {
        char *s = NULL;
        if (asprintf(&s,
                     "# warren network %s\n"
                     "%s%s%s"
                     "nat=%s\n"
                     "dhcp=%s\n"
                     "%s%s%s"
                     "dns=%s\n"
                     "%s%s%s"
                     "force=%s\n",
                     d->name, d->ipv4_address ? "ipv4.address=" : "", strempty(d->ipv4_address),
                     d->ipv4_address ? "\n" : "", d->nat ? "true" : "false", d->dhcp ? "true" : "false",
                     d->dhcp_range ? "dhcp.range=" : "", strempty(d->dhcp_range), d->dhcp_range ? "\n" : "",
                     d->dns ? "true" : "false", d->uplink ? "uplink=" : "", strempty(d->uplink),
                     d->uplink ? "\n" : "", d->force ? "true" : "false") < 0)
                return NULL;
        return s;
}

static char *networks_dir(const char *state_dir) {
        char *p = NULL;
        return asprintf(&p, "%s/networks", state_dir) < 0 ? NULL : p;
}

int network_def_load(const char *state_dir, const char *name, NetworkDef **ret, WarrenError *reterr) {
        _cleanup_(network_def_freep) NetworkDef *d = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        int r = network_def_new(name, &d, reterr);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/networks/%s", state_dir, name) < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        r = read_full_file_at(AT_FDCWD, path, NETWORK_FILE_MAX, 1, &text, NULL);
        if (r == -ENOENT)
                return warren_error_set(reterr, ENOENT, "No network '%s'", name);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read '%s': %s", path, strerror(-r));
        unsigned lineno = 0;
        for (char *line = text, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                lineno++;
                line += strspn(line, " \t");
                if (!*line || *line == '#')
                        continue;
                char *eq = strchr(line, '=');
                if (!eq)
                        return warren_error_set(reterr, EBADMSG, "%s:%u: expected KEY=VALUE", path, lineno);
                *eq = 0;
                r = network_def_set(d, line, eq + 1, reterr);
                if (r < 0) {
                        warren_error_prefix(reterr, "%s:%u", path, lineno);
                        return r;
                }
        }
        r = network_def_check(d, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

static int strv_sort_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int network_list(const char *state_dir, char ***ret, WarrenError *reterr) {
        _cleanup_free_ char *dir = networks_dir(state_dir);
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!dir || !l)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        DIR *d = opendir(dir);
        if (!d && errno != ENOENT)
                return warren_error_set(reterr, errno, "Failed to open '%s': %m", dir);
        for (struct dirent *de; d && (de = readdir(d));)
                if (network_name_validate(de->d_name, NULL) >= 0 && strv_extend(&l, de->d_name) < 0) {
                        closedir(d);
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
                }
        if (d)
                closedir(d);
        qsort(l, strv_length(l), sizeof(char *), strv_sort_cmp);
        *ret = TAKE_PTR(l);
        return 0;
}

int network_users(const char *state_dir, const char *name, char ***ret, WarrenError *reterr) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l || asprintf(&dir, "%s/containers", state_dir) < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        DIR *d = opendir(dir);
        if (!d && errno != ENOENT)
                return warren_error_set(reterr, errno, "Failed to open '%s': %m", dir);
        for (struct dirent *de; d && (de = readdir(d));) {
                _cleanup_free_ char *path = NULL;
                _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
                LxcParseOptions opts = { .include_mode = LXC_INCLUDE_KEEP };
                if (!container_name_is_valid(de->d_name))
                        continue;
                if (!c || asprintf(&path, "%s/%s/config", dir, de->d_name) < 0) {
                        closedir(d);
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
                }
                /* An unreadable config cannot start, so it uses nothing. */
                if (lxc_config_load(c, path, &opts, NULL) < 0)
                        continue;
                for (unsigned i = 0; i < lxc_config_net_count(c); i++) {
                        char key[64];
                        snprintf(key, sizeof key, "lxc.net.%u.link", i);
                        if (streq_ptr(lxc_config_get(c, key), name)) {
                                if (strv_extend(&l, de->d_name) < 0) {
                                        closedir(d);
                                        return warren_error_set(reterr, ENOMEM, "Out of memory");
                                }
                                break;
                        }
                }
        }
        if (d)
                closedir(d);
        qsort(l, strv_length(l), sizeof(char *), strv_sort_cmp);
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- dnsmasq ---- */

static char *runtime_file(const char *runtime_dir, const char *name, const char *suffix) {
        char *p = NULL;
        return asprintf(&p, "%s/networks/%s%s", runtime_dir, name, suffix) < 0 ? NULL : p;
}

/* The last non-empty line of dnsmasq's log, for error messages. */
static char *log_last_line(const char *path) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        if (read_full_file(path, 1024 * 1024, &text, &size) < 0)
                return NULL;
        while (size > 0 && text[size - 1] == '\n')
                text[--size] = 0;
        char *nl = strrchr(text, '\n');
        return strdup(nl ? nl + 1 : text);
}

static int read_pid_file(const char *path, pid_t *ret) {
        _cleanup_free_ char *s = NULL;
        int r = read_one_line_file(path, &s);
        if (r < 0)
                return r;
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || v <= 1 || v > INT32_MAX)
                return -EBADMSG;
        *ret = (pid_t) v;
        return 0;
}

/* Whether pid exists and is not a zombie (its files are closed then). */
static bool pid_is_alive(pid_t pid) {
        char path[64];
        _cleanup_free_ char *stat = NULL;
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        if (read_one_line_file(path, &stat) < 0)
                return false;
        const char *paren = strrchr(stat, ')');
        return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

/* Whether pid is a live dnsmasq serving interface name. */
static bool pid_is_dnsmasq_of(pid_t pid, const char *name) {
        char path[64], want[64];
        _cleanup_free_ char *cmdline = NULL;
        size_t size = 0;
        if (!pid_is_alive(pid))
                return false;
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int) pid);
        if (read_full_file(path, 64 * 1024, &cmdline, &size) < 0 || size == 0)
                return false;
        snprintf(want, sizeof want, "--interface=%s", name);
        const char *argv0 = strrchr(cmdline, '/') ? strrchr(cmdline, '/') + 1 : cmdline;
        if (!streq(argv0, "dnsmasq"))
                return false;
        for (size_t i = 0; i < size; i += strlen(cmdline + i) + 1)
                if (streq(cmdline + i, want))
                        return true;
        return false;
}

int network_dnsmasq_running(const char *name, const char *runtime_dir, pid_t *ret_pid) {
        _cleanup_free_ char *pidfile = runtime_file(runtime_dir, name, ".pid");
        pid_t pid;
        if (!pidfile)
                return -ENOMEM;
        if (read_pid_file(pidfile, &pid) < 0 || !pid_is_dnsmasq_of(pid, name))
                return 0;
        if (ret_pid)
                *ret_pid = pid;
        return 1;
}

static const char *find_dnsmasq(void) {
        for (size_t i = 0; i < ELEMENTSOF(dnsmasq_paths); i++)
                if (access(dnsmasq_paths[i], X_OK) == 0)
                        return dnsmasq_paths[i];
        return NULL;
}

__attribute__((noreturn)) static void dnsmasq_exec(const char *path, char **argv, const char *log_path) {
        sigset_t all;
        int fd;
        (void) setsid();
        sigemptyset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, NULL);
        for (int sig = 1; sig < NSIG; sig++)
                (void) signal(sig, SIG_DFL);
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
                _exit(126);
        fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                _exit(126);
        (void) close_range(3, ~0U, 0);
        execv(path, argv);
        _exit(127);
}

int network_dnsmasq_spawn(const NetworkDef *d, const char *runtime_dir, pid_t *ret_pid,
                          WarrenError *reterr) {
        _cleanup_free_ char *dir = NULL, *pidfile = runtime_file(runtime_dir, d->name, ".pid"),
                            *leases = runtime_file(runtime_dir, d->name, ".leases"),
                            *log_path = runtime_file(runtime_dir, d->name, ".dnsmasq.log"), *range = NULL;
        char a_iface[64], a_listen[64], a_range[128], a_leases[PATH_MAX + 32], a_pid[PATH_MAX + 32],
                addr[INET_ADDRSTRLEN];
        NlAddr a;
        int r;

        const char *path = find_dnsmasq();
        if (!path)
                return warren_error_set(reterr, ENOENT,
                                        "dnsmasq not found (needed for DHCP on network '%s')", d->name);
        if (!pidfile || !leases || !log_path || asprintf(&dir, "%s/networks", runtime_dir) < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        r = network_def_dhcp_range(d, &range, reterr);
        if (r >= 0)
                r = netlink_addr_parse(AF_INET, d->ipv4_address, &a, reterr);
        if (r < 0)
                return r;
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to create '%s': %s", dir, strerror(-r));
        (void) unlink(pidfile);
        snprintf(a_iface, sizeof a_iface, "--interface=%s", d->name);
        snprintf(a_listen, sizeof a_listen, "--listen-address=%s",
                 netlink_addr_to_string(AF_INET, a.addr, addr, sizeof addr));
        snprintf(a_range, sizeof a_range, "--dhcp-range=%s," DNSMASQ_LEASE_TIME, range);
        snprintf(a_leases, sizeof a_leases, "--dhcp-leasefile=%s", leases);
        snprintf(a_pid, sizeof a_pid, "--pid-file=%s", pidfile);
        char *argv[] = {
                (char *) "dnsmasq",
                (char *) "--conf-file=/dev/null",
                (char *) "--keep-in-foreground",
                (char *) "--strict-order",
                (char *) "--bind-interfaces",
                (char *) "--except-interface=lo",
                a_iface,
                a_listen,
                a_range,
                (char *) "--dhcp-no-override",
                (char *) "--dhcp-authoritative",
                a_leases,
                a_pid,
                (char *) "--log-facility=-",
                (char *) "--no-ping",
                d->dns ? NULL : (char *) "--port=0",
                NULL,
        };

        pid_t pid = fork();
        if (pid < 0)
                return warren_error_set(reterr, errno, "Failed to fork for dnsmasq: %m");
        if (pid == 0)
                dnsmasq_exec(path, argv, log_path);

        /* Ready once it wrote its pid file: its sockets are bound by then. */
        for (uint64_t end = now_ms() + DNSMASQ_START_TIMEOUT_MS; now_ms() < end; sleep_ms(2)) {
                pid_t got;
                int status;
                if (read_pid_file(pidfile, &got) >= 0 && got == pid) {
                        *ret_pid = pid;
                        return 0;
                }
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        _cleanup_free_ char *last = log_last_line(log_path);
                        return warren_error_set(
                                reterr, ECHILD,
                                "dnsmasq for network '%s' failed to start (exit status %d): %s", d->name,
                                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                                last ? last : "no log");
                }
        }
        (void) kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
        return warren_error_set(reterr, ETIMEDOUT, "dnsmasq for network '%s' did not start within %d ms",
                                d->name, DNSMASQ_START_TIMEOUT_MS);
}

int network_dnsmasq_stop(const char *name, const char *runtime_dir, WarrenError *reterr) {
        _cleanup_free_ char *pidfile = runtime_file(runtime_dir, name, ".pid");
        pid_t pid;
        if (!pidfile)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        if (network_dnsmasq_running(name, runtime_dir, &pid) <= 0) {
                (void) unlink(pidfile);
                return 0;
        }
        (void) kill(pid, SIGTERM);
        uint64_t start = now_ms();
        bool killed = false;
        /* Not pid_is_dnsmasq_of(): an exiting process loses its cmdline
         * before it closes its sockets. */
        while (pid_is_alive(pid)) {
                if (!killed && now_ms() - start > DNSMASQ_STOP_TIMEOUT_MS) {
                        (void) kill(pid, SIGKILL);
                        killed = true;
                } else if (now_ms() - start > DNSMASQ_STOP_TIMEOUT_MS + 1000)
                        return warren_error_set(reterr, ETIMEDOUT,
                                                "dnsmasq %d of network '%s' does not exit", (int) pid, name);
                sleep_ms(2);
        }
        (void) unlink(pidfile);
        return 1;
}

/* ---- bring-up ---- */

/* Addresses that make an interface "the host's": global ones. */
static bool addr_is_global(const NlAddr *a) {
        return a->scope == RT_SCOPE_UNIVERSE || a->scope == RT_SCOPE_SITE;
}

/* Moves the global addresses and the non-kernel routes of from to to
 * (skipping keep, the bridge's own address). */
static int move_ip_config(NlSocket *h, int from, int to, const NlAddr *keep, WarrenError *reterr) {
        _cleanup_free_ NlAddr *addrs = NULL;
        _cleanup_free_ NlRoute *routes = NULL;
        size_t n_addrs = 0, n_routes = 0;
        int r = netlink_addr_list(h, from, AF_UNSPEC, &addrs, &n_addrs);
        if (r >= 0)
                r = netlink_route_list(h, AF_UNSPEC, from, &routes, &n_routes);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read addresses and routes: %s", strerror(-r));

        /* Routes first: deleting an address may take some of them along. */
        for (size_t i = 0; i < n_routes; i++)
                if (routes[i].protocol != RTPROT_KERNEL)
                        (void) netlink_route_del(h, &routes[i], NULL);
        for (size_t i = 0; i < n_addrs; i++) {
                bool skip = !addr_is_global(&addrs[i]) || (keep && keep->family == addrs[i].family &&
                                                           keep->prefixlen == addrs[i].prefixlen &&
                                                           memcmp(keep->addr, addrs[i].addr, 16) == 0);
                if (skip) {
                        addrs[i].family = AF_UNSPEC;
                        continue;
                }
                r = netlink_addr_del(h, &addrs[i], reterr);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n_addrs; i++) {
                if (addrs[i].family == AF_UNSPEC)
                        continue;
                addrs[i].ifindex = to;
                r = netlink_addr_add(h, &addrs[i], reterr);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        for (size_t i = 0; i < n_routes; i++) {
                if (routes[i].protocol == RTPROT_KERNEL)
                        continue;
                routes[i].oif = to;
                r = netlink_route_add(h, &routes[i], reterr);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        return 0;
}

/* What the uplink holds of the host's configuration, for the refusal. */
static int uplink_holdings(NlSocket *h, const NlLink *up, char *buf, size_t size) {
        _cleanup_free_ NlAddr *addrs = NULL;
        _cleanup_free_ NlRoute *routes = NULL;
        size_t n_addrs = 0, n_routes = 0;
        char a[64];
        int r = netlink_addr_list(h, up->ifindex, AF_UNSPEC, &addrs, &n_addrs);
        if (r >= 0)
                r = netlink_route_list(h, AF_UNSPEC, up->ifindex, &routes, &n_routes);
        if (r < 0)
                return r;
        buf[0] = 0;
        for (size_t i = 0; i < n_addrs; i++)
                if (addr_is_global(&addrs[i])) {
                        snprintf(buf, size, "address %s", netlink_addr_to_cidr(&addrs[i], a, sizeof a));
                        break;
                }
        for (size_t i = 0; i < n_routes; i++)
                if (routes[i].dst_len == 0) {
                        size_t l = strlen(buf);
                        snprintf(buf + l, size - l, "%sthe default route", l ? " and " : "");
                        break;
                }
        return buf[0] != 0;
}

static int ensure_uplink(NlSocket *h, const NetworkDef *d, const NlLink *br, WarrenError *reterr) {
        NlLink up;
        char what[160];
        int r = netlink_link_get_by_name(h, d->uplink, &up);
        if (r < 0)
                return warren_error_set(reterr, r, "Uplink '%s' of network '%s': %s", d->uplink, d->name,
                                        r == -ENODEV ? "no such interface" : strerror(-r));
        if (up.master != br->ifindex) {
                if (up.master > 0)
                        return warren_error_set(reterr, EBUSY,
                                                "Uplink '%s' of network '%s' is already a port of another "
                                                "interface",
                                                d->uplink, d->name);
                if (streq(up.kind, "bridge"))
                        return warren_error_set(reterr, EINVAL, "Uplink '%s' of network '%s' is a bridge",
                                                d->uplink, d->name);
                r = uplink_holdings(h, &up, what, sizeof what);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to read the configuration of '%s': %s",
                                                d->uplink, strerror(-r));
                if (r > 0 && !d->force)
                        return warren_error_set(reterr, EBUSY,
                                                "Uplink '%s' holds the host's %s: refusing to enslave it to "
                                                "bridge '%s' (force=true moves them to the bridge)",
                                                d->uplink, what, d->name);
                if (r > 0) {
                        r = move_ip_config(h, up.ifindex, br->ifindex, NULL, reterr);
                        if (r < 0) {
                                warren_error_prefix(reterr, "Moving the configuration of '%s' to '%s'",
                                                    d->uplink, d->name);
                                return r;
                        }
                }
        }
        NlLinkSpec spec = NL_LINK_SPEC_INIT;
        spec.master = br->ifindex;
        spec.up = 1;
        return netlink_link_change(h, up.ifindex, &spec, reterr);
}

static int ensure_bridge(NlSocket *h, const NetworkDef *d, NlLink *ret, bool *ret_created,
                         WarrenError *reterr) {
        int r = netlink_link_get_by_name(h, d->name, ret);
        *ret_created = false;
        if (r == -ENODEV) {
                NlLinkSpec spec = NL_LINK_SPEC_INIT;
                spec.name = d->name;
                spec.up = 1;
                r = netlink_link_add_bridge(h, &spec, reterr);
                if (r < 0)
                        return r;
                *ret_created = true;
                r = netlink_link_get_by_name(h, d->name, ret);
        }
        if (r < 0)
                return warren_error_set(reterr, r, "Bridge '%s': %s", d->name, strerror(-r));
        if (!streq(ret->kind, "bridge"))
                return warren_error_set(reterr, EEXIST, "Interface '%s' exists and is not a bridge",
                                        d->name);
        if (!(ret->flags & IFF_UP)) {
                NlLinkSpec spec = NL_LINK_SPEC_INIT;
                spec.up = 1;
                return netlink_link_change(h, ret->ifindex, &spec, reterr);
        }
        return 0;
}

static int ensure_address(NlSocket *h, const NetworkDef *d, const NlLink *br, WarrenError *reterr) {
        _cleanup_free_ NlAddr *addrs = NULL;
        size_t n = 0;
        NlAddr want;
        if (!d->ipv4_address)
                return 0;
        int r = netlink_addr_parse(AF_INET, d->ipv4_address, &want, reterr);
        if (r < 0)
                return r;
        r = netlink_addr_list(h, br->ifindex, AF_INET, &addrs, &n);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read the addresses of '%s': %s", d->name,
                                        strerror(-r));
        for (size_t i = 0; i < n; i++)
                if (addrs[i].prefixlen == want.prefixlen && memcmp(addrs[i].addr, want.addr, 4) == 0)
                        return 0;
        want.ifindex = br->ifindex;
        return netlink_addr_add(h, &want, reterr);
}

static int ensure_def(const NetworkDef *d, const char *runtime_dir, pid_t *ret_pid, WarrenError *reterr) {
        _cleanup_(netlink_closep) NlSocket *h = NULL;
        NlLink br;
        bool created;
        int r;

        *ret_pid = 0;
        r = netlink_open(-1, &h, reterr);
        if (r >= 0)
                r = ensure_bridge(h, d, &br, &created, reterr);
        if (r >= 0)
                r = ensure_address(h, d, &br, reterr);
        if (r >= 0 && d->uplink)
                r = ensure_uplink(h, d, &br, reterr);
        if (r < 0)
                return r;
        if (d->nat) {
                r = write_string_file_at(AT_FDCWD, "/proc/sys/net/ipv4/ip_forward", "1");
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to enable IPv4 forwarding: %s",
                                                strerror(-r));
                r = nft_nat_add(d->name, d->ipv4_address, reterr);
                if (r < 0)
                        return r;
        }
        if (!d->dhcp)
                return 0;
        /* A dnsmasq bound to a bridge that was re-created serves nothing. */
        if (created && (r = network_dnsmasq_stop(d->name, runtime_dir, reterr)) < 0)
                return r;
        if (network_dnsmasq_running(d->name, runtime_dir, NULL) > 0)
                return 0;
        return network_dnsmasq_spawn(d, runtime_dir, ret_pid, reterr);
}

int network_ensure(const char *state_dir, const char *runtime_dir, const char *name, pid_t *ret_dnsmasq_pid,
                   WarrenError *reterr) {
        _cleanup_(network_def_freep) NetworkDef *d = NULL;
        pid_t pid = 0;
        int r = network_def_load(state_dir, name, &d, reterr);
        if (r >= 0)
                r = ensure_def(d, runtime_dir, &pid, reterr);
        if (ret_dnsmasq_pid)
                *ret_dnsmasq_pid = pid;
        return r;
}

/* Undoes ensure_def(): every step is done even when one fails; the first
 * error is returned. */
static int teardown_def(const NetworkDef *d, const char *runtime_dir, WarrenError *reterr) {
        _cleanup_(netlink_closep) NlSocket *h = NULL;
        NlLink br, up;
        int r, ret = 0;

        if ((r = network_dnsmasq_stop(d->name, runtime_dir, reterr)) < 0)
                ret = r;
        if ((r = nft_nat_remove(d->name, reterr)) < 0 && ret == 0)
                ret = r;
        r = netlink_open(-1, &h, reterr);
        if (r < 0)
                return r;
        if (netlink_link_get_by_name(h, d->name, &br) >= 0) {
                if (d->uplink && netlink_link_get_by_name(h, d->uplink, &up) >= 0 &&
                    up.master == br.ifindex) {
                        NlAddr keep = {}, *k = NULL;
                        NlLinkSpec spec = NL_LINK_SPEC_INIT;
                        if (d->ipv4_address &&
                            netlink_addr_parse(AF_INET, d->ipv4_address, &keep, NULL) >= 0)
                                k = &keep;
                        spec.master = NL_NOMASTER;
                        if ((r = netlink_link_change(h, up.ifindex, &spec, reterr)) < 0 && ret == 0)
                                ret = r;
                        if ((r = move_ip_config(h, br.ifindex, up.ifindex, k, reterr)) < 0 && ret == 0)
                                ret = r;
                }
                if ((r = netlink_link_delete(h, br.ifindex, reterr)) < 0 && r != -ENODEV && ret == 0)
                        ret = r;
        }
        const char *const suffixes[] = { ".pid", ".leases", ".dnsmasq.log" };
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                _cleanup_free_ char *p = runtime_file(runtime_dir, d->name, suffixes[i]);
                if (p)
                        (void) unlink(p);
        }
        return ret;
}

int network_create(const char *state_dir, const char *runtime_dir, const NetworkDef *d,
                   pid_t *ret_dnsmasq_pid, WarrenError *reterr) {
        _cleanup_(netlink_closep) NlSocket *h = NULL;
        _cleanup_free_ char *dir = networks_dir(state_dir), *text = network_def_format(d);
        struct stat st;
        NlLink l;
        pid_t pid = 0;
        int r;

        if (ret_dnsmasq_pid)
                *ret_dnsmasq_pid = 0;
        r = network_name_validate(d->name, reterr);
        if (r >= 0)
                r = network_def_check(d, reterr);
        if (r < 0)
                return r;
        if (!dir || !text)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to create '%s': %s", dir, strerror(-r));
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return warren_error_set(reterr, errno, "Failed to open '%s': %m", dir);
        if (fstatat(dfd, d->name, &st, AT_SYMLINK_NOFOLLOW) >= 0)
                return warren_error_set(reterr, EEXIST, "Network '%s' already exists", d->name);
        r = netlink_open(-1, &h, reterr);
        if (r < 0)
                return r;
        if (netlink_link_get_by_name(h, d->name, &l) >= 0)
                return warren_error_set(reterr, EEXIST, "An interface named '%s' already exists", d->name);

        r = write_file_atomic_at(dfd, d->name, text, strlen(text), 0644);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to write '%s/%s': %s", dir, d->name,
                                        strerror(-r));
        r = ensure_def(d, runtime_dir, &pid, reterr);
        if (r < 0) {
                if (pid > 0)
                        (void) waitpid(pid, NULL, 0);
                (void) teardown_def(d, runtime_dir, NULL);
                (void) unlinkat(dfd, d->name, 0);
                return r;
        }
        if (ret_dnsmasq_pid)
                *ret_dnsmasq_pid = pid;
        return 0;
}

int network_delete(const char *state_dir, const char *runtime_dir, const char *name, WarrenError *reterr) {
        _cleanup_(network_def_freep) NetworkDef *d = NULL;
        _cleanup_free_ char *path = NULL;
        int r = network_def_load(state_dir, name, &d, reterr);
        if (r < 0)
                return r;
        r = teardown_def(d, runtime_dir, reterr);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/networks/%s", state_dir, name) < 0)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        if (unlink(path) < 0 && errno != ENOENT)
                return warren_error_set(reterr, errno, "Failed to remove '%s': %m", path);
        return 0;
}
