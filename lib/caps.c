/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "caps.h"
#include "config.h"
#include "basic/fileio.h"
#include "basic/strv.h"

#define CAP_NAME_MAX 64U

static void cap_freep(cap_t *c) {
        if (*c)
                cap_free(*c);
}

static void cap_free_namep(char **s) {
        if (*s)
                cap_free(*s);
}

unsigned caps_last_cap(void) {
        /* The kernel's, fixed until reboot: asked once per process, and a
         * child forked after the first call (a container's init, with no
         * /proc yet) inherits the answer instead of probing. */
        static unsigned cached = UINT_MAX;
        if (cached != UINT_MAX)
                return cached;
        _cleanup_free_ char *s = NULL;
        unsigned last = UINT_MAX;
        /* procfs is the kernel's own answer; libcap probes if /proc is not there. */
        if (read_one_line_file("/proc/sys/kernel/cap_last_cap", &s) >= 0) {
                char *end;
                unsigned long v = strtoul(s, &end, 10);
                if (end != s && *end == 0 && v <= 63)
                        last = (unsigned) v;
        }
        if (last == UINT_MAX) {
                int bits = (int) cap_max_bits();
                last = bits > 0 && bits <= 64 ? (unsigned) bits - 1 : CAP_LAST_CAP;
        }
        cached = last;
        return last;
}

int caps_parse_name(const char *name, unsigned last_cap, unsigned *ret_cap, WarrenError *reterr) {
        char lower[CAP_NAME_MAX + 8];
        size_t n = strlen(name);

        if (n == 0 || n > CAP_NAME_MAX)
                return warren_error_set(reterr, EINVAL, "Unknown capability '%s'", name);
        if (strspn(name, "0123456789") == n) {
                char *end;
                unsigned long v = strtoul(name, &end, 10);
                if (v > last_cap)
                        return warren_error_set(reterr, EINVAL,
                                                "Unknown capability '%s': this kernel's last is %u", name,
                                                last_cap);
                *ret_cap = (unsigned) v;
                return 0;
        }
        for (size_t i = 0; i < n; i++) {
                if (!isalnum((unsigned char) name[i]) && name[i] != '_')
                        return warren_error_set(reterr, EINVAL, "Unknown capability '%s'", name);
                lower[i] = (char) tolower((unsigned char) name[i]);
        }
        lower[n] = 0;

        char full[sizeof(lower) + 4];
        snprintf(full, sizeof(full), "%s%s", strncmp(lower, "cap_", 4) == 0 ? "" : "cap_", lower);
        cap_value_t v;
        /* libcap also takes bare numbers; those were handled above. */
        if (cap_from_name(full, &v) < 0 || v < 0)
                return warren_error_set(reterr, EINVAL, "Unknown capability '%s'", name);
        if ((unsigned) v > last_cap)
                return warren_error_set(reterr, EINVAL,
                                        "Capability '%s' is not supported by this kernel (last is %u)", name,
                                        last_cap);
        *ret_cap = (unsigned) v;
        return 0;
}

static uint64_t all_caps(unsigned last_cap) {
        return last_cap >= 63 ? UINT64_MAX : (UINT64_C(1) << (last_cap + 1)) - 1;
}

/* Splits every value into words; NULL on ENOMEM. */
static char **words_of(char *const *values) {
        _cleanup_strv_free_ char **w = calloc(1, sizeof(char *));
        if (!w)
                return NULL;
        STRV_FOREACH(v, values) {
                _cleanup_strv_free_ char **s = strv_split(*v, " \t\n");
                if (!s)
                        return NULL;
                STRV_FOREACH(x, s)
                        if (strv_extend(&w, *x) < 0)
                                return NULL;
        }
        return TAKE_PTR(w);
}

static int mask_of(char *const *words, unsigned last_cap, uint64_t *ret, WarrenError *reterr) {
        uint64_t m = 0;
        STRV_FOREACH(w, words) {
                unsigned cap;
                int r = caps_parse_name(*w, last_cap, &cap, reterr);
                if (r < 0)
                        return r;
                m |= UINT64_C(1) << cap;
        }
        *ret = m;
        return 0;
}

int caps_compute(char *const *drop, char *const *keep, unsigned last_cap, uint64_t *ret_keep,
                 WarrenError *reterr) {
        _cleanup_strv_free_ char **dw = words_of(drop), **kw = words_of(keep);
        uint64_t m;
        int r;

        if (!dw || !kw)
                return -ENOMEM;
        if (last_cap > 63)
                return warren_error_set(reterr, EINVAL, "Invalid last capability %u: at most 63 supported",
                                        last_cap);

        if (kw[0] && dw[0]) {
                _cleanup_free_ char *d = strv_join(dw, " "), *k = strv_join(kw, " ");
                return warren_error_set(
                        reterr, EINVAL,
                        "lxc.cap.keep ('%s') and lxc.cap.drop ('%s') are both set: use only one of them",
                        strna(k), strna(d));
        }
        if (kw[0]) {
                /* "none" forgets what came before it, like LXC. */
                size_t start = 0;
                for (size_t i = 0; kw[i]; i++)
                        if (streq(kw[i], "none"))
                                start = i + 1;
                r = mask_of(kw + start, last_cap, &m, reterr);
                if (r < 0)
                        return r;
                *ret_keep = m;
                return 0;
        }
        if (dw[0]) {
                r = mask_of(dw, last_cap, &m, reterr);
                if (r < 0)
                        return r;
                *ret_keep = all_caps(last_cap) & ~m;
                return 0;
        }
        _cleanup_strv_free_ char **def = strv_split(CAPS_DEFAULT_DROP, " ");
        if (!def)
                return -ENOMEM;
        r = mask_of(def, last_cap, &m, reterr);
        if (r < 0)
                return r;
        *ret_keep = all_caps(last_cap) & ~m;
        return 0;
}

int caps_from_config(const LxcConfig *c, uint64_t *ret_keep, WarrenError *reterr) {
        _cleanup_strv_free_ char **drop = lxc_config_get_all(c, "lxc.cap.drop"),
                                 **keep = lxc_config_get_all(c, "lxc.cap.keep");
        if (!drop || !keep)
                return -ENOMEM;
        return caps_compute(drop, keep, caps_last_cap(), ret_keep, reterr);
}

char *caps_mask_to_string(uint64_t mask, unsigned last_cap) {
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *));
        if (!names)
                return NULL;
        for (unsigned i = 0; i <= MIN(last_cap, 63U); i++) {
                if (!(mask & (UINT64_C(1) << i)))
                        continue;
                _cleanup_(cap_free_namep) char *n = cap_to_name((cap_value_t) i);
                if (!n)
                        return NULL;
                if (strv_extend(&names, strncmp(n, "cap_", 4) == 0 ? n + 4 : n) < 0)
                        return NULL;
        }
        return strv_join(names, " ");
}

int caps_apply(uint64_t keep, WarrenError *reterr) {
        unsigned last = caps_last_cap();
        cap_value_t dropped[64];
        int n = 0;

        for (unsigned i = 0; i <= last; i++)
                if (!(keep & (UINT64_C(1) << i)))
                        dropped[n++] = (cap_value_t) i;

        /* The bounding set first: dropping from it needs CAP_SETPCAP, which
         * may itself be about to go from the effective set. After exec, root's
         * permitted set is the bounding set, so this is what sticks. */
        for (int i = 0; i < n; i++)
                if (cap_drop_bound(dropped[i]) < 0 && errno != EINVAL)
                        return warren_error_set(reterr, errno,
                                                "Failed to drop capability %d from the bounding set: %s",
                                                (int) dropped[i], strerror(errno));

        /* EINVAL: a kernel without ambient capabilities, nothing to clear. */
        if (cap_reset_ambient() < 0 && errno != EINVAL)
                return warren_error_set(reterr, errno, "Failed to clear the ambient capabilities: %s",
                                        strerror(errno));

        if (n == 0)
                return 0;
        _cleanup_(cap_freep) cap_t c = cap_get_proc();
        if (!c)
                return warren_error_set(reterr, errno, "Failed to read the process capabilities: %s",
                                        strerror(errno));
        if (cap_set_flag(c, CAP_EFFECTIVE, n, dropped, CAP_CLEAR) < 0 ||
            cap_set_flag(c, CAP_PERMITTED, n, dropped, CAP_CLEAR) < 0 ||
            cap_set_flag(c, CAP_INHERITABLE, n, dropped, CAP_CLEAR) < 0)
                return warren_error_set(reterr, errno, "Failed to compute the capability sets: %s",
                                        strerror(errno));
        if (cap_set_proc(c) < 0)
                return warren_error_set(reterr, errno, "Failed to set the process capabilities: %s",
                                        strerror(errno));
        return 0;
}
