/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkconfig.h"
#include "cgroup.h"
#include "basic/strv.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test-checkconfig-XXXXXX";

static KernelConfig *parse_ok(const char *text) {
        KernelConfig *k = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        if (!ok(kernel_config_parse(text, strlen(text), &k, &e) == 0, "config text parses"))
                printf("#   %s\n", warren_error_message(&e));
        warren_error_clear(&e);
        return k;
}

static void test_parse(void) {
        static const char text[] = "#\n"
                                   "# Automatically generated file; DO NOT EDIT.\n"
                                   "# Linux/x86 6.18.44 Kernel Configuration\n"
                                   "#\n"
                                   "CONFIG_CC_VERSION_TEXT=\"gcc (GCC) 15.3.0\"\n"
                                   "CONFIG_VETH=y\n"
                                   "CONFIG_MACVLAN=m\n"
                                   "# CONFIG_VLAN_8021Q is not set\n"
                                   "CONFIG_IPVLAN=n\n"
                                   "CONFIG_LOG_BUF_SHIFT=17\n"
                                   "CONFIG_PHYSICAL_START=0x1000000\n"
                                   "\n"
                                   "   \n"
                                   "# end of Networking\n"
                                   "# CONFIG_BRIDGE is not set and more\n"
                                   "CONFIG_BRIDGE=y\r\n"
                                   "CONFIG_VETH=m\n"
                                   "CONFIG_lower_case_9=y";
        _cleanup_(kernel_config_freep) KernelConfig *k = parse_ok(text);
        if (!k)
                return;
        is(kernel_config_size(k), 10, "10 entries (comments skipped, both VETH lines kept)");
        is(kernel_config_get(k, "MACVLAN"), KCONFIG_MODULE, "=m");
        is(kernel_config_get(k, "CONFIG_MACVLAN"), KCONFIG_MODULE, "with the CONFIG_ prefix too");
        is(kernel_config_get(k, "VLAN_8021Q"), KCONFIG_NO, "'is not set'");
        is(kernel_config_get(k, "IPVLAN"), KCONFIG_NO, "=n");
        is(kernel_config_get(k, "VETH"), KCONFIG_MODULE, "a later line wins");
        is(kernel_config_get(k, "BRIDGE"), KCONFIG_YES,
           "CRLF line, and a comment that only looks like 'is not set'");
        is(kernel_config_get(k, "LOG_BUF_SHIFT"), KCONFIG_OTHER, "a number");
        is_str(kernel_config_get_value(k, "LOG_BUF_SHIFT"), "17", "its value");
        is_str(kernel_config_get_value(k, "CC_VERSION_TEXT"), "\"gcc (GCC) 15.3.0\"",
               "a string keeps its quotes");
        is_str(kernel_config_get_value(k, "VLAN_8021Q"), "n", "'is not set' reads as n");
        is(kernel_config_get(k, "lower_case_9"), KCONFIG_YES, "last line without newline");
        is(kernel_config_get(k, "NOPE"), KCONFIG_ABSENT, "absent symbol");
        is(kernel_config_get(k, "CONFIG_"), KCONFIG_ABSENT, "empty symbol");
        ok(kernel_config_get_value(k, "NOPE") == NULL, "absent has no value");
        is(kernel_config_get(NULL, "VETH"), KCONFIG_ABSENT, "no config at all");

        _cleanup_(kernel_config_freep) KernelConfig *empty = parse_ok("");
        is(kernel_config_size(empty), 0, "empty text: no entries");
}

static void parse_fails(const char *text, size_t len, int error, const char *message, const char *what) {
        KernelConfig *k = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        is(kernel_config_parse(text, len, &k, &e), -error, "%s: rejected", what);
        is_str(e.message, message, "%s: message", what);
        ok(k == NULL, "%s: nothing returned", what);
        warren_error_clear(&e);
}

#define BAD(n, shown)                                                                                       \
        "Invalid kernel config line " #n ": '" shown                                                        \
        "': expected CONFIG_NAME=VALUE or '# CONFIG_NAME is not set'"

static void test_parse_garbage(void) {
        static const struct {
                const char *text, *message, *what;
        } bad[] = {
                {"CONFIG_A=y\nhello world\n", BAD(2, "hello world"), "a word line"},
                {"CONFIG_=y\n", BAD(1, "CONFIG_=y"), "empty symbol"},
                {"CONFIG_X y\n", BAD(1, "CONFIG_X y"), "no '='"},
                {"CONFIG_X\n", BAD(1, "CONFIG_X"), "symbol alone"},
                {"CONFIG_X-Y=y\n", BAD(1, "CONFIG_X-Y=y"), "'-' in a symbol"},
                {"config_x=y\n", BAD(1, "config_x=y"), "lower-case prefix"},
                {" CONFIG_X=y\n", BAD(1, " CONFIG_X=y"), "leading blank"},
                {"CONFIG_X=\x01\x02\n", BAD(1, "CONFIG_X=??"), "control characters in a value"},
                {"\x1f\x8b\x08\x08\xff\xfe\x80\x81", BAD(1, "????????"), "gzip bytes given as text"},
                {"\n\n\nCONFIG_X=y\n=y\n", BAD(5, "=y"), "line number counts blank lines"},
                /* 64 characters shown: CONFIG_ and 57 A's. */
                {"CONFIG_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                 BAD(1, "CONFIG_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA..."),
                 "long line is shortened"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                parse_fails(bad[i].text, strlen(bad[i].text), EBADMSG, bad[i].message, bad[i].what);

        static const char nul[] = "CONFIG_A=y\nCONFIG_B=\0y\n";
        parse_fails(nul, sizeof(nul) - 1, EBADMSG, "Invalid kernel config: contains a NUL byte at offset 20",
                    "NUL byte");

        char *big = malloc(KERNEL_CONFIG_MAX_SIZE + 1);
        if (big) {
                memset(big, '#', KERNEL_CONFIG_MAX_SIZE + 1);
                parse_fails(big, KERNEL_CONFIG_MAX_SIZE + 1, EFBIG,
                            "Kernel config too large (8388609 bytes, at most 8388608)", "too large");
                free(big);
        }
}

static int write_gzip(const char *path, const char *data, size_t len) {
        struct archive *a = archive_write_new();
        struct archive_entry *e = archive_entry_new();
        int r = -EIO;
        if (!a || !e)
                goto out;
        if (archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
            archive_write_set_format_raw(a) != ARCHIVE_OK ||
            archive_write_open_filename(a, path) != ARCHIVE_OK)
                goto out;
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, (la_int64_t) len);
        if (archive_write_header(a, e) != ARCHIVE_OK || archive_write_data(a, data, len) != (la_ssize_t) len)
                goto out;
        r = archive_write_close(a) == ARCHIVE_OK ? 0 : -EIO;
out:
        archive_entry_free(e);
        archive_write_free(a);
        return r;
}

static int write_plain(const char *path, const char *data, size_t len) {
        FILE *f = fopen(path, "we");
        if (!f)
                return -errno;
        fwrite(data, 1, len, f);
        return fclose(f) == 0 ? 0 : -errno;
}

static void test_load(void) {
        static const char text[] = "# comment\nCONFIG_VETH=y\n# CONFIG_BRIDGE is not set\n";
        char gz[256], plain[256], garbage[256], trunc[256], missing[256];
        WarrenError e = WARREN_ERROR_NULL;

        if (!mkdtemp(tmpdir))
                return;
        snprintf(gz, sizeof(gz), "%s/config.gz", tmpdir);
        snprintf(plain, sizeof(plain), "%s/config-plain", tmpdir);
        snprintf(garbage, sizeof(garbage), "%s/garbage.gz", tmpdir);
        snprintf(trunc, sizeof(trunc), "%s/truncated.gz", tmpdir);
        snprintf(missing, sizeof(missing), "%s/nope.gz", tmpdir);
        is(write_gzip(gz, text, strlen(text)), 0, "gzip fixture written");
        is(write_plain(plain, text, strlen(text)), 0, "plain fixture written");
        is(write_gzip(garbage, "CONFIG_OK=y\nthis is not a config\n", 33), 0, "gzip'd garbage written");

        KernelConfig *k = NULL;
        is(kernel_config_load(gz, &k, &e), 0, "gzip'd config loads");
        is(kernel_config_get(k, "VETH"), KCONFIG_YES, "VETH=y from the gzip'd file");
        is(kernel_config_get(k, "BRIDGE"), KCONFIG_NO, "BRIDGE not set from the gzip'd file");
        k = kernel_config_free(k);
        warren_error_clear(&e);

        is(kernel_config_load(plain, &k, &e), 0, "plain config loads through the same path");
        is(kernel_config_size(k), 2, "two entries");
        k = kernel_config_free(k);
        warren_error_clear(&e);

        is(kernel_config_load(garbage, &k, &e), -EBADMSG, "gzip'd garbage rejected");
        char expect[512];
        snprintf(expect, sizeof(expect), "%s: " BAD(2, "this is not a config"), garbage);
        is_str(e.message, expect, "message names the file and line");
        ok(k == NULL, "nothing returned");
        warren_error_clear(&e);

        /* Cut the gzip stream in the middle. */
        FILE *f = fopen(gz, "re");
        char buf[4096];
        size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
        if (f)
                fclose(f);
        is(write_plain(trunc, buf, n / 2), 0, "truncated gzip written");
        int r = kernel_config_load(trunc, &k, &e);
        if (!ok(r == -EBADMSG, "truncated gzip fails (%d)", r))
                printf("#   %s\n", warren_error_message(&e));
        like(e.message, trunc, "message names the file");
        ok(k == NULL, "nothing returned");
        warren_error_clear(&e);

        is(kernel_config_load(missing, &k, &e), -ENOENT, "missing file");
        like(e.message, missing, "message names it");
        warren_error_clear(&e);

        unlink(gz);
        unlink(plain);
        unlink(garbage);
        unlink(trunc);
        rmdir(tmpdir);
}

static void test_running(void) {
        _cleanup_(kernel_config_freep) KernelConfig *k = NULL;
        _cleanup_free_ char *src = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        if (access("/proc/config.gz", R_OK) < 0) {
                ok(1, "# SKIP no /proc/config.gz");
                return;
        }
        is(kernel_config_load_running(&k, &src, &e), 0, "running kernel's config loads");
        is_str(src, "/proc/config.gz", "from /proc/config.gz");
        ok(kernel_config_size(k) > 1000, "%zu symbols", kernel_config_size(k));
        ok(kernel_config_get(k, "NAMESPACES") == KCONFIG_YES, "CONFIG_NAMESPACES=y");
        warren_error_clear(&e);
}

static void test_run_here(void) {
        _cleanup_(check_report_freep) CheckReport *rep = NULL;
        _cleanup_(cgroup_layout_freep) CgroupLayout *l = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        static const char *const order[] = {
                "kernel config",
                "pid namespace",
                "mount namespace",
                "uts namespace",
                "ipc namespace",
                "network namespace",
                "cgroup namespace",
                "user namespace",
                "time namespace",
                "user namespaces allowed",
                "cgroup2",
                "cgroup v1",
                "memory controller",
                "pids controller",
                "cpu controller",
                "cpuset controller",
                "io controller",
                "freezer",
                "veth",
                "bridge",
                "macvlan",
                "vlan",
                "ipvlan",
                "nf_tables",
                "nat",
                "masquerade",
                "seccomp",
                "seccomp filter",
                "seccomp user notification",
                "pidfd",
                "clone3",
                "clone into cgroup",
                "idmapped mounts",
                "newuidmap",
                "newgidmap",
        };

        is(checkconfig_run(NULL, &rep, &e), 0, "checkconfig_run on this machine");
        if (!rep)
                return;
        is(rep->n_items, ELEMENTSOF(order), "%zu items", ELEMENTSOF(order));
        for (size_t i = 0; i < rep->n_items && i < ELEMENTSOF(order); i++) {
                const CheckItem *it = &rep->items[i];
                is_str(it->feature, order[i], "item %zu is '%s'", i, order[i]);
                ok(!isempty(it->detail), "'%s' has a detail ('%s')", it->feature, strna(it->detail));
                ok(check_status_to_string(it->status) != NULL, "'%s' is %s", it->feature,
                   check_status_to_string(it->status));
        }
        static const char *const ns[] = {"pid", "mount", "uts", "ipc", "network", "cgroup", "user", "time"};
        for (size_t i = 0; i < ELEMENTSOF(ns); i++) {
                char f[64];
                snprintf(f, sizeof(f), "%s namespace", ns[i]);
                const CheckItem *it = check_report_find(rep, f);
                ok(it && it->status == CHECK_ENABLED, "%s enabled (%s)", f, it ? it->detail : "?");
        }
        const CheckItem *it = check_report_find(rep, "pid namespace");
        like(it ? it->detail : NULL, "pid:[", "detail is the namespace link");

        is(cgroup_layout_detect(&l, NULL), 0, "layout");
        it = check_report_find(rep, "cgroup2");
        if (l && l->v2_mount) {
                ok(it && it->status == CHECK_ENABLED, "cgroup2 enabled");
                _cleanup_free_ char *c = strv_join(l->v2_controllers, " "), *expect = NULL;
                if (asprintf(&expect, "%s (controllers: %s)", l->v2_mount, isempty(c) ? "none" : c) > 0)
                        is_str(it ? it->detail : NULL, expect, "cgroup2 detail");
        } else
                ok(it && it->status == CHECK_MISSING, "cgroup2 missing");

        it = check_report_find(rep, "kernel config");
        ok(it && it->status == (access("/proc/config.gz", R_OK) >= 0 ? CHECK_ENABLED : CHECK_OPTIONAL),
           "kernel config status");
        /* This machine kind: everything built in, but no 802.1q VLAN and no ipvlan. */
        static const char *const here[] = {"veth",  "bridge",     "macvlan",          "nf_tables",
                                           "nat",   "masquerade", "seccomp",          "seccomp filter",
                                           "pidfd", "clone3",     "clone into cgroup"};
        for (size_t i = 0; i < ELEMENTSOF(here); i++) {
                it = check_report_find(rep, here[i]);
                ok(it && it->status == CHECK_ENABLED, "%s enabled (%s)", here[i], it ? it->detail : "?");
        }
        it = check_report_find(rep, "veth");
        if (access("/proc/config.gz", R_OK) >= 0)
                is_str(it ? it->detail : NULL, "CONFIG_VETH=y", "veth detail from the kernel config");
        for (size_t i = 0; i < rep->n_items; i++)
                if (rep->items[i].status == CHECK_MISSING)
                        printf("# missing here: %s (%s)\n", rep->items[i].feature, rep->items[i].detail);
        ok(check_report_find(rep, "no such feature") == NULL, "find of an unknown feature");
        warren_error_clear(&e);
}

static void test_run_given_config(void) {
        static const char text[] =
                "CONFIG_VETH=y\n# CONFIG_BRIDGE is not set\nCONFIG_MACVLAN=m\nCONFIG_NF_NAT=y\n";
        _cleanup_(kernel_config_freep) KernelConfig *k = parse_ok(text);
        _cleanup_(check_report_freep) CheckReport *rep = NULL;
        CheckOptions o = {.kernel_config = k};
        if (!k)
                return;
        is(checkconfig_run(&o, &rep, NULL), 0, "checkconfig_run with a given config");
        if (!rep)
                return;
        static const struct {
                const char *feature;
                CheckStatus status;
                const char *detail;
        } expect[] = {
                {"kernel config", CHECK_ENABLED, "given by the caller (4 symbols)"},
                {"veth", CHECK_ENABLED, "CONFIG_VETH=y"},
                {"bridge", CHECK_MISSING, "CONFIG_BRIDGE not set"},
                {"macvlan", CHECK_ENABLED, "CONFIG_MACVLAN=m"},
                {"vlan", CHECK_OPTIONAL, "CONFIG_VLAN_8021Q absent"},
                {"ipvlan", CHECK_OPTIONAL, "CONFIG_IPVLAN absent"},
                {"nf_tables", CHECK_MISSING, "CONFIG_NF_TABLES absent"},
                {"nat", CHECK_MISSING, "CONFIG_NF_NAT=y, CONFIG_NFT_NAT absent"},
                {"masquerade", CHECK_MISSING, "CONFIG_NFT_MASQ absent"},
        };
        for (size_t i = 0; i < ELEMENTSOF(expect); i++) {
                const CheckItem *it = check_report_find(rep, expect[i].feature);
                if (!ok(it != NULL, "'%s' reported", expect[i].feature))
                        continue;
                is_str(check_status_to_string(it->status), check_status_to_string(expect[i].status),
                       "'%s' status", expect[i].feature);
                is_str(it->detail, expect[i].detail, "'%s' detail", expect[i].feature);
        }
}

static void test_status_strings(void) {
        is_str(check_status_to_string(CHECK_ENABLED), "enabled", "enabled");
        is_str(check_status_to_string(CHECK_MISSING), "missing", "missing");
        is_str(check_status_to_string(CHECK_OPTIONAL), "optional", "optional");
        ok(check_status_to_string((CheckStatus) 42) == NULL, "out of range");
}

int main(void) {
        test_parse();
        test_parse_garbage();
        test_load();
        test_running();
        test_run_here();
        test_run_given_config();
        test_status_strings();
        return done_testing();
}
