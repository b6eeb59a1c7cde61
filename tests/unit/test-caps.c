/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "config.h"
#include "basic/fileio.h"
#include "basic/strv.h"
#include "tap.h"

#define BIT(c) (UINT64_C(1) << (c))
#define ALL40 ((UINT64_C(1) << 41) - 1)
#define DEFAULT_DROP40                                                                                      \
        (BIT(CAP_MAC_ADMIN) | BIT(CAP_MAC_OVERRIDE) | BIT(CAP_SYS_TIME) | BIT(CAP_SYS_MODULE) |             \
         BIT(CAP_SYS_RAWIO))

static void test_parse_name(void) {
        static const char *const spellings[] = {"sys_module",     "SYS_MODULE",     "cap_sys_module",
                                                "CAP_SYS_MODULE", "Cap_Sys_Module", "16"};
        for (size_t i = 0; i < ELEMENTSOF(spellings); i++) {
                unsigned c = 999;
                is(caps_parse_name(spellings[i], 40, &c, NULL), 0, "'%s' parses", spellings[i]);
                is(c, CAP_SYS_MODULE, "'%s' is CAP_SYS_MODULE", spellings[i]);
        }
        unsigned c = 999;
        is(caps_parse_name("chown", 40, &c, NULL), 0, "chown");
        is(c, 0, "chown is 0");
        is(caps_parse_name("checkpoint_restore", 40, &c, NULL), 0, "checkpoint_restore");
        is(c, 40, "checkpoint_restore is 40");
        is(caps_parse_name("40", 40, &c, NULL), 0, "40 as a number");

        static const struct {
                const char *name;
                unsigned last;
                const char *message;
        } bad[] = {
                {"bogus", 40, "Unknown capability 'bogus'"},
                {"cap_", 40, "Unknown capability 'cap_'"},
                {"", 40, "Unknown capability ''"},
                {"sys-module", 40, "Unknown capability 'sys-module'"},
                {"sys_module;", 40, "Unknown capability 'sys_module;'"},
                {"../sys_admin", 40, "Unknown capability '../sys_admin'"},
                {"41", 40, "Unknown capability '41': this kernel's last is 40"},
                {"99999999999999999999999", 40,
                 "Unknown capability '99999999999999999999999': this kernel's last is 40"},
                {"checkpoint_restore", 39,
                 "Capability 'checkpoint_restore' is not supported by this kernel (last is 39)"},
                {"cap_cap_chown", 40, "Unknown capability 'cap_cap_chown'"},
                {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 40,
                 "Unknown capability "
                 "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                WarrenError e = WARREN_ERROR_NULL;
                c = 999;
                is(caps_parse_name(bad[i].name, bad[i].last, &c, &e), -EINVAL, "'%s' rejected", bad[i].name);
                is_str(e.message, bad[i].message, "message for '%s'", bad[i].name);
                is(c, 999, "nothing returned for '%s'", bad[i].name);
                warren_error_clear(&e);
        }
}

static void compute_is(char **drop, char **keep, unsigned last, uint64_t expect, const char *what) {
        uint64_t m = 0xdeadbeef;
        WarrenError e = WARREN_ERROR_NULL;
        if (!is(caps_compute(drop, keep, last, &m, &e), 0, "%s: computed", what))
                printf("#   %s\n", warren_error_message(&e));
        ok(m == expect, "%s: mask %#" PRIx64 " == %#" PRIx64, what, m, expect);
        warren_error_clear(&e);
}

static void compute_fails(char **drop, char **keep, const char *message, const char *what) {
        uint64_t m = 0xdeadbeef;
        WarrenError e = WARREN_ERROR_NULL;
        is(caps_compute(drop, keep, 40, &m, &e), -EINVAL, "%s: fails", what);
        is_str(e.message, message, "%s: message", what);
        ok(m == 0xdeadbeef, "%s: mask untouched", what);
        warren_error_clear(&e);
}

static void test_compute(void) {
        char *empty[] = {NULL};
        compute_is(NULL, NULL, 40, ALL40 & ~DEFAULT_DROP40, "neither set: common.conf's default drop");
        compute_is(empty, empty, 40, ALL40 & ~DEFAULT_DROP40, "empty lists: default drop");

        char *drop[] = {"sys_admin NET_RAW", "cap_sys_module\tmknod", NULL};
        compute_is(drop, NULL, 40,
                   ALL40 & ~(BIT(CAP_SYS_ADMIN) | BIT(CAP_NET_RAW) | BIT(CAP_SYS_MODULE) | BIT(CAP_MKNOD)),
                   "drop list, several per value");
        char *keep[] = {"chown net_bind_service", "SYS_CHROOT", NULL};
        compute_is(NULL, keep, 40, BIT(CAP_CHOWN) | BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_SYS_CHROOT),
                   "keep list");
        char *none[] = {"none", NULL};
        compute_is(NULL, none, 40, 0, "keep none drops everything");
        compute_is(empty, none, 40, 0, "keep none with an empty drop list");
        char *none_then[] = {"sys_admin none", "chown", NULL};
        compute_is(NULL, none_then, 40, BIT(CAP_CHOWN), "none forgets names before it");
        compute_is(NULL, NULL, 63, UINT64_MAX & ~DEFAULT_DROP40, "last cap 63: every bit");
        compute_is(NULL, NULL, 36, ((UINT64_C(1) << 37) - 1) & ~DEFAULT_DROP40,
                   "older kernel (last cap 36)");
        char *dup[] = {"chown chown 0", NULL};
        compute_is(dup, NULL, 40, ALL40 & ~BIT(CAP_CHOWN), "duplicates are harmless");

        char *d1[] = {"sys_admin", NULL}, *k1[] = {"chown", NULL};
        compute_fails(
                d1, k1,
                "lxc.cap.keep ('chown') and lxc.cap.drop ('sys_admin') are both set: use only one of them",
                "keep and drop together");
        compute_fails(
                d1, none,
                "lxc.cap.keep ('none') and lxc.cap.drop ('sys_admin') are both set: use only one of them",
                "keep none and drop together");
        char *bad_drop[] = {"sys_admin sys_bogus", NULL};
        compute_fails(bad_drop, NULL, "Unknown capability 'sys_bogus'", "unknown name in drop");
        char *bad_keep[] = {"chown", "../../etc", NULL};
        compute_fails(NULL, bad_keep, "Unknown capability '../../etc'", "unknown name in keep");
        char *bad_none[] = {"none bogus", NULL};
        compute_fails(NULL, bad_none, "Unknown capability 'bogus'", "unknown name after none");

        uint64_t m;
        WarrenError e = WARREN_ERROR_NULL;
        is(caps_compute(NULL, NULL, 64, &m, &e), -EINVAL, "last cap 64 rejected");
        is_str(e.message, "Invalid last capability 64: at most 63 supported", "message");
        warren_error_clear(&e);
}

static void test_to_string(void) {
        char *s = caps_mask_to_string(BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_SYS_ADMIN), 40);
        is_str(s, "chown dac_override sys_admin", "names of a mask");
        free(s);
        s = caps_mask_to_string(0, 40);
        is_str(s, "", "empty mask");
        free(s);
        s = caps_mask_to_string(DEFAULT_DROP40, 40);
        is_str(s, "sys_module sys_rawio sys_time mac_override mac_admin",
               "default drop set, in number order");
        free(s);
}

static void test_from_config(void) {
        static const struct {
                const char *text;
                uint64_t expect;
        } good[] = {
                {"lxc.uts.name = x\n", ALL40 & ~DEFAULT_DROP40},
                {"lxc.cap.drop = sys_admin\nlxc.cap.drop = net_raw mknod\n",
                 ALL40 & ~(BIT(CAP_SYS_ADMIN) | BIT(CAP_NET_RAW) | BIT(CAP_MKNOD))},
                {"lxc.cap.keep = none\n", 0},
                {"lxc.cap.keep = chown\n", BIT(CAP_CHOWN)},
                /* An empty value clears the list: back to the default. */
                {"lxc.cap.drop = sys_admin\nlxc.cap.drop =\n", ALL40 & ~DEFAULT_DROP40},
        };
        unsigned last = caps_last_cap();
        uint64_t all = last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
                WarrenError e = WARREN_ERROR_NULL;
                uint64_t m = 0;
                if (!ok(c && lxc_config_parse(c, good[i].text, strlen(good[i].text), NULL, NULL, &e) == 0,
                        "config %zu parses", i)) {
                        printf("#   %s\n", warren_error_message(&e));
                        warren_error_clear(&e);
                        continue;
                }
                is(caps_from_config(c, &m, &e), 0, "caps_from_config %zu", i);
                ok(m == (good[i].expect & all), "config %zu: mask %#" PRIx64, i, m);
                warren_error_clear(&e);
        }

        static const char both[] = "lxc.cap.drop = sys_admin\nlxc.cap.keep = chown\n";
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        WarrenError e = WARREN_ERROR_NULL;
        uint64_t m = 0;
        if (c && lxc_config_parse(c, both, strlen(both), NULL, NULL, NULL) == 0) {
                is(caps_from_config(c, &m, &e), -EINVAL, "keep and drop in a config fail");
                is_str(e.message,
                       "lxc.cap.keep ('chown') and lxc.cap.drop ('sys_admin') are both set: use only one of "
                       "them",
                       "message");
                warren_error_clear(&e);
        } else
                ok(0, "config with keep and drop parses");
}

typedef struct CapSets {
        uint64_t inh, prm, eff, bnd, amb;
} CapSets;

static int parse_status(const char *text, CapSets *s) {
        static const struct {
                const char *field;
                size_t off;
        } f[] = {
                {"CapInh:", offsetof(CapSets, inh)}, {"CapPrm:", offsetof(CapSets, prm)},
                {"CapEff:", offsetof(CapSets, eff)}, {"CapBnd:", offsetof(CapSets, bnd)},
                {"CapAmb:", offsetof(CapSets, amb)},
        };
        int found = 0;
        for (size_t i = 0; i < ELEMENTSOF(f); i++) {
                const char *p = strstr(text, f[i].field);
                if (p &&
                    sscanf(p + strlen(f[i].field), "%" SCNx64, (uint64_t *) ((char *) s + f[i].off)) == 1)
                        found++;
        }
        return found == (int) ELEMENTSOF(f) ? 0 : -EBADMSG;
}

static int read_own_sets(CapSets *s) {
        _cleanup_free_ char *text = NULL;
        int r = read_full_file("/proc/self/status", 1 << 20, &text, NULL);
        return r < 0 ? r : parse_status(text, s);
}

/* Runs caps_apply(keep) in a child, optionally after raising an ambient
 * capability, and reports the child's sets (before exec, or those of
 * /bin/cat after exec). */
static int apply_in_child(uint64_t keep, bool raise_ambient, bool exec_after, CapSets *ret, char *errbuf,
                          size_t errlen) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid == 0) {
                WarrenError e = WARREN_ERROR_NULL;
                if (raise_ambient) {
                        cap_value_t nbs = CAP_NET_BIND_SERVICE;
                        cap_t c = cap_get_proc();
                        if (!c || cap_set_flag(c, CAP_INHERITABLE, 1, &nbs, CAP_SET) < 0 ||
                            cap_set_proc(c) < 0 || cap_set_ambient(CAP_NET_BIND_SERVICE, CAP_SET) < 0)
                                _exit(3);
                        cap_free(c);
                }
                if (caps_apply(keep, &e) < 0) {
                        dprintf(p[1], "ERROR %s", warren_error_message(&e));
                        _exit(2);
                }
                if (exec_after) {
                        dup2(p[1], STDOUT_FILENO);
                        execl("/bin/cat", "cat", "/proc/self/status", (char *) NULL);
                        _exit(4);
                }
                _cleanup_free_ char *text = NULL;
                if (read_full_file("/proc/self/status", 1 << 20, &text, NULL) < 0)
                        _exit(5);
                (void) write_all(p[1], text, strlen(text));
                _exit(0);
        }
        close(p[1]);
        if (pid < 0) {
                close(p[0]);
                return -errno;
        }
        _cleanup_free_ char *out = NULL;
        int r = read_full_fd(p[0], 1 << 20, &out, NULL);
        close(p[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        if (r < 0)
                return r;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                snprintf(errbuf, errlen, "child exit %d: %s", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                         out);
                return -EPROTO;
        }
        return parse_status(out, ret);
}

static void test_apply(void) {
        CapSets before, after;
        char errbuf[512] = "";

        if (geteuid() != 0) {
                ok(1, "# SKIP caps_apply needs root");
                return;
        }
        if (!ok(read_own_sets(&before) == 0, "own capability sets read"))
                return;
        unsigned last = caps_last_cap();
        uint64_t all = last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
        uint64_t def = 0;
        is(caps_compute(NULL, NULL, last, &def, NULL), 0, "default mask");

        int r = apply_in_child(def, false, false, &after, errbuf, sizeof(errbuf));
        if (!is(r, 0, "caps_apply(default) in a child"))
                printf("#   %s\n", errbuf);
        if (r == 0) {
                ok(after.bnd == (before.bnd & def), "CapBnd %#" PRIx64 " == %#" PRIx64, after.bnd,
                   before.bnd & def);
                ok(after.eff == (before.eff & def), "CapEff %#" PRIx64 " == %#" PRIx64, after.eff,
                   before.eff & def);
                ok(after.prm == (before.prm & def), "CapPrm %#" PRIx64, after.prm);
                ok(after.inh == (before.inh & def), "CapInh %#" PRIx64, after.inh);
                ok(!(after.bnd & BIT(CAP_SYS_MODULE)) && !(after.eff & BIT(CAP_SYS_MODULE)),
                   "sys_module gone");
                ok((after.bnd & BIT(CAP_SYS_ADMIN)) && (after.eff & BIT(CAP_SYS_ADMIN)), "sys_admin kept");
        }

        r = apply_in_child(0, false, false, &after, errbuf, sizeof(errbuf));
        if (!is(r, 0, "caps_apply(none) in a child"))
                printf("#   %s\n", errbuf);
        if (r == 0)
                ok(after.bnd == 0 && after.eff == 0 && after.prm == 0 && after.inh == 0 && after.amb == 0,
                   "everything dropped (bnd %#" PRIx64 " eff %#" PRIx64 ")", after.bnd, after.eff);

        uint64_t keep = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_CHOWN);
        r = apply_in_child(keep, true, false, &after, errbuf, sizeof(errbuf));
        if (!is(r, 0, "caps_apply(chown net_bind_service) with an ambient capability raised"))
                printf("#   %s\n", errbuf);
        if (r == 0) {
                is(after.amb, 0, "ambient set cleared");
                ok(after.bnd == (before.bnd & keep), "CapBnd is chown + net_bind_service");
                ok(after.eff == (before.eff & keep), "CapEff is chown + net_bind_service");
        }

        /* What init actually runs with: root's sets after exec derive from the bounding set. */
        r = apply_in_child(def, false, true, &after, errbuf, sizeof(errbuf));
        if (!is(r, 0, "exec after caps_apply(default)"))
                printf("#   %s\n", errbuf);
        if (r == 0) {
                ok(after.bnd == (before.bnd & def), "exec'd CapBnd %#" PRIx64, after.bnd);
                uint64_t expect = (before.bnd | before.inh) & def;
                ok(after.eff == expect, "exec'd CapEff %#" PRIx64 " is the bounding set (%#" PRIx64 ")",
                   after.eff, expect);
        }

        CapSets mine;
        ok(read_own_sets(&mine) == 0 && mine.bnd == before.bnd && mine.eff == before.eff,
           "the test process kept its own sets");
        (void) all;
}

int main(void) {
        test_parse_name();
        test_compute();
        test_to_string();
        test_from_config();
        test_apply();
        return done_testing();
}
