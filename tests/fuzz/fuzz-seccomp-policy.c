/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parses arbitrary bytes as an LXC seccomp profile. A refusal must carry
 * -EINVAL/-EFBIG and a message naming the origin; a success must hold
 * only rules the compiler can take as they are. Aborts if not. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp-policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_word(const char *s, const char *set, size_t max) {
        size_t n = strlen(s);
        if (n == 0 || n > max || strspn(s, set) != n)
                abort();
}

static void check_rule(const SeccompPolicy *p, const SeccompRule *r) {
        if (p->version == 1) {
                if (r->name || r->number < 0 || r->number > SECCOMP_POLICY_MAX_NUMBER || r->arch ||
                    r->action.type != SECCOMP_POLICY_ALLOW)
                        abort();
        } else {
                if (!r->name || r->number != -1)
                        abort();
                check_word(r->name, "abcdefghijklmnopqrstuvwxyz0123456789_", SECCOMP_POLICY_MAX_NAME);
        }
        if (r->arch) {
                check_word(r->arch, "abcdefghijklmnopqrstuvwxyz0123456789_", SECCOMP_POLICY_MAX_LINE);
                if (streq(r->arch, "all") || streq(r->arch, "amd64"))
                        abort();
        }
        if (!seccomp_action_to_string(r->action.type))
                abort();
        if (r->action.type == SECCOMP_POLICY_ERRNO &&
            (r->action.errno_value < 0 || r->action.errno_value > SECCOMP_POLICY_MAX_ERRNO))
                abort();
        if (r->n_args > SECCOMP_POLICY_MAX_ARGS || r->line == 0)
                abort();
        for (size_t j = 0; j < r->n_args; j++) {
                const SeccompArgCmp *a = &r->args[j];
                if (a->index >= SECCOMP_POLICY_MAX_ARGS || !seccomp_cmp_op_to_string(a->op))
                        abort();
                if (a->op != SECCOMP_POLICY_CMP_MASKED_EQ && a->value2 != 0)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_seccomp_policy_ SeccompPolicy *p = NULL;
        _cleanup_error_ WarrenError e = WARREN_ERROR_NULL;

        int r = seccomp_policy_parse((const char *) data, size, "fuzz", &p, &e);
        if (r < 0) {
                if ((r != -EINVAL && r != -EFBIG) || e.error != -r || !e.message || p ||
                    strncmp(e.message, "fuzz", 4) != 0)
                        abort();
                return 0;
        }
        if (r != 0 || !p || (p->version != 1 && p->version != 2) || !streq(p->origin, "fuzz"))
                abort();
        if (p->n_rules > SECCOMP_POLICY_MAX_RULES || (p->n_rules > 0 && !p->rules))
                abort();
        if (p->version == 1 && (!p->allowlist || p->default_action.type != SECCOMP_POLICY_KILL))
                abort();
        if (!seccomp_action_to_string(p->default_action.type))
                abort();
        for (size_t i = 0; i < p->n_rules; i++)
                check_rule(p, &p->rules[i]);
        return 0;
}
