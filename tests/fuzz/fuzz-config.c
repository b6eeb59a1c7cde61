/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parses arbitrary bytes as an LXC config (KEEP mode, and EXPAND mode with
 * includes confined to a directory that does not exist), then checks that
 * format -> parse succeeds and is a fixed point, and that the start's rules
 * (config_check()) either accept the result or say why. Aborts if not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config-check.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const LxcConfig *c) {
        static const LxcParseOptions keep = { .include_mode = LXC_INCLUDE_KEEP };
        _cleanup_lxc_config_ LxcConfig *c2 = lxc_config_new();
        _cleanup_free_ char *s1 = lxc_config_format(c), *s2 = NULL;
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;

        if (!c2 || !s1)
                abort();
        if (lxc_config_parse(c2, s1, strlen(s1), "formatted", &keep, &e) < 0)
                abort(); /* what we write must read back */
        s2 = lxc_config_format(c2);
        if (!s2 || strcmp(s1, s2) != 0 || lxc_config_n_items(c2) != lxc_config_n_items(c))
                abort();
        for (size_t i = 0; i < lxc_config_n_items(c); i++) {
                const char *k1, *v1, *k2, *v2;
                lxc_config_item(c, i, &k1, &v1);
                lxc_config_item(c2, i, &k2, &v2);
                if (strcmp(k1, k2) != 0 || strcmp(v1, v2) != 0)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static char *const allow[] = { (char *) "/nonexistent-warren-fuzz-dir", NULL };
        const LxcParseOptions opts[] = {
                { .include_mode = LXC_INCLUDE_KEEP },
                { .include_mode = LXC_INCLUDE_EXPAND, .include_allow = allow },
        };

        for (size_t i = 0; i < ELEMENTSOF(opts); i++) {
                _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
                _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;
                if (!c)
                        return 0;
                if (lxc_config_parse(c, (const char *) data, size, "fuzz.conf", &opts[i], &e) < 0) {
                        /* A failed parse leaves the config as it was, and says why. */
                        if (lxc_config_n_items(c) != 0 || e.error == 0)
                                abort();
                        continue;
                }
                check_round_trip(c);
                _cleanup_error_ WarrenError ce = WARREN_ERROR_NULL;
                if (config_check(c, &ce) < 0 && ce.error == 0)
                        abort();
        }
        return 0;
}
