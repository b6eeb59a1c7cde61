/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* seccomp-policy.c: LXC's seccomp profile format, versions 1 and 2; every
 * kind of garbage refused naming origin, line and word; a few thousand
 * random mutations of valid text that must never crash. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "seccomp-policy.h"
#include "tap.h"

static SeccompPolicy *parse(const char *text, const char *what) {
        SeccompPolicy *p = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        int r = seccomp_policy_parse(text, strlen(text), "t", &p, &e);
        if (!is(r, 0, "%s: parses", what))
                printf("#   %s\n", warren_error_message(&e));
        warren_error_clear(&e);
        return p;
}

/* Garbage: -EINVAL, a message starting with "t:LINE: " (or "t: " if line
 * is 0) and naming needle, and nothing returned. */
static void expect_error_n(const char *text, size_t size, unsigned line, const char *needle,
                           const char *what) {
        SeccompPolicy *p = (SeccompPolicy *) 0x1;
        WarrenError e = WARREN_ERROR_NULL;
        char prefix[32];
        int r = seccomp_policy_parse(text, size, "t", &p, &e);

        if (line > 0)
                snprintf(prefix, sizeof prefix, "t:%u: ", line);
        else
                snprintf(prefix, sizeof prefix, "t: ");
        ok(r == -EINVAL && e.error == EINVAL && p == (SeccompPolicy *) 0x1, "%s: refused (r=%d)", what, r);
        ok(e.message && strncmp(e.message, prefix, strlen(prefix)) == 0, "%s: names line: %s", what,
           strna(e.message));
        like(e.message, needle, "%s: names '%s'", what, needle);
        warren_error_clear(&e);
}

static void expect_error(const char *text, unsigned line, const char *needle, const char *what) {
        expect_error_n(text, strlen(text), line, needle, what);
}

static bool rule_is(const SeccompRule *r, const char *name, const char *arch, SeccompActionType type,
                    int errno_value, size_t n_args) {
        return streq_ptr(r->name, name) && streq_ptr(r->arch, arch) && r->action.type == type &&
               (type != SECCOMP_POLICY_ERRNO || r->action.errno_value == errno_value) &&
               r->n_args == n_args && r->number == (name ? -1 : r->number);
}

static bool is_force_umount(const SeccompRule *r, const char *arch) {
        return rule_is(r, "umount2", arch, SECCOMP_POLICY_ERRNO, 13, 1) && r->args[0].index == 1 &&
               r->args[0].op == SECCOMP_POLICY_CMP_MASKED_EQ && r->args[0].value == 1 /* MNT_FORCE */ &&
               r->args[0].value2 == 1;
}

static void test_default(void) {
        _cleanup_seccomp_policy_ SeccompPolicy *p = parse(seccomp_policy_default_text(), "default text");
        static const char *const names[] = { "kexec_load",  "kexec_file_load", "open_by_handle_at",
                                             "init_module", "finit_module",    "delete_module" };
        bool all = true;

        if (!p)
                return;
        is(p->version, 2, "default: version 2");
        ok(!p->allowlist, "default: a deny list");
        is(p->default_action.type, SECCOMP_POLICY_ALLOW, "default: unlisted calls are allowed");
        is(p->n_rules, 7, "default: 7 rules");
        if (p->n_rules != 7)
                return;
        ok(is_force_umount(&p->rules[0], NULL),
           "default: reject_force_umount is umount2 errno 13 [1,1,&=,1]");
        for (size_t i = 0; i < 6; i++)
                all = all && rule_is(&p->rules[i + 1], names[i], NULL, SECCOMP_POLICY_ERRNO, 1, 0);
        ok(all, "default: the six calls answer EPERM on every arch");
        is_str(p->origin, "t", "default: origin kept");
        ok(p->rules[1].line > p->rules[0].line && p->rules[0].line > 2, "default: rules know their lines");
}

static void test_v1(void) {
        _cleanup_seccomp_policy_ SeccompPolicy *p =
                parse("1\nwhitelist\n0\n1\n\n# read and write\n  60  \n231 # exit_group\r\n", "v1");
        _cleanup_seccomp_policy_ SeccompPolicy *q = parse("\n1\n allowlist \n4095\n", "v1 allowlist");

        if (p) {
                is(p->version, 1, "v1: version");
                ok(p->allowlist, "v1: allow list");
                is(p->default_action.type, SECCOMP_POLICY_KILL, "v1: unlisted calls are killed");
                is(p->n_rules, 4, "v1: 4 numbers");
                if (p->n_rules == 4) {
                        ok(!p->rules[0].name && p->rules[0].number == 0 && p->rules[1].number == 1 &&
                                   p->rules[2].number == 60 && p->rules[3].number == 231,
                           "v1: numbers, no names");
                        ok(p->rules[3].action.type == SECCOMP_POLICY_ALLOW && !p->rules[3].arch,
                           "v1: allowed on every arch");
                        is(p->rules[2].line, 7, "v1: line of '60'");
                }
        }
        if (q)
                ok(q->n_rules == 1 && q->rules[0].number == 4095, "v1: 'allowlist', the largest number");
}

static void test_actions(void) {
        _cleanup_seccomp_policy_ SeccompPolicy *p = parse("2\nallowlist\n"
                                                          "a kill\nb allow\nc trap\nd log\n"
                                                          "e errno 0\nf errno 4095\ng\n",
                                                          "every action");
        if (!p || !is(p->n_rules, 7, "every action: 7 rules"))
                return;
        ok(rule_is(&p->rules[0], "a", NULL, SECCOMP_POLICY_KILL, 0, 0), "kill");
        ok(rule_is(&p->rules[1], "b", NULL, SECCOMP_POLICY_ALLOW, 0, 0), "allow");
        ok(rule_is(&p->rules[2], "c", NULL, SECCOMP_POLICY_TRAP, 0, 0), "trap");
        ok(rule_is(&p->rules[3], "d", NULL, SECCOMP_POLICY_LOG, 0, 0), "log");
        ok(rule_is(&p->rules[4], "e", NULL, SECCOMP_POLICY_ERRNO, 0, 0), "errno 0");
        ok(rule_is(&p->rules[5], "f", NULL, SECCOMP_POLICY_ERRNO, 4095, 0), "errno 4095");
        ok(rule_is(&p->rules[6], "g", NULL, SECCOMP_POLICY_ALLOW, 0, 0),
           "no action in an allow list: allow");

        is_str(seccomp_action_to_string(SECCOMP_POLICY_ALLOW), "allow", "action name allow");
        is_str(seccomp_action_to_string(SECCOMP_POLICY_KILL), "kill", "action name kill");
        is_str(seccomp_action_to_string(SECCOMP_POLICY_TRAP), "trap", "action name trap");
        is_str(seccomp_action_to_string(SECCOMP_POLICY_LOG), "log", "action name log");
        is_str(seccomp_action_to_string(SECCOMP_POLICY_ERRNO), "errno", "action name errno");
        ok(!seccomp_action_to_string((SeccompActionType) 99), "action name out of range: NULL");
}

static void test_ops(void) {
        static const struct {
                const char *name, *symbol;
                SeccompCmpOp op;
        } ops[] = {
                { "SCMP_CMP_NE", "!=", SECCOMP_POLICY_CMP_NE },
                { "SCMP_CMP_LT", "<", SECCOMP_POLICY_CMP_LT },
                { "SCMP_CMP_LE", "<=", SECCOMP_POLICY_CMP_LE },
                { "SCMP_CMP_EQ", "==", SECCOMP_POLICY_CMP_EQ },
                { "SCMP_CMP_GE", ">=", SECCOMP_POLICY_CMP_GE },
                { "SCMP_CMP_GT", ">", SECCOMP_POLICY_CMP_GT },
        };
        for (size_t i = 0; i < ELEMENTSOF(ops); i++)
                for (int sym = 0; sym < 2; sym++) {
                        char text[256], what[64];
                        snprintf(text, sizeof text, "2\ndenylist\nioctl errno 1 [%zu,%zu,%s]\n", i % 6,
                                 100 + i, sym ? ops[i].symbol : ops[i].name);
                        snprintf(what, sizeof what, "op %s", sym ? ops[i].symbol : ops[i].name);
                        _cleanup_seccomp_policy_ SeccompPolicy *p = parse(text, what);
                        ok(p && p->n_rules == 1 && p->rules[0].n_args == 1 &&
                                   p->rules[0].args[0].op == ops[i].op &&
                                   p->rules[0].args[0].index == i % 6 &&
                                   p->rules[0].args[0].value == 100 + i && p->rules[0].args[0].value2 == 0,
                           "%s: index, op, value", what);
                        is_str(seccomp_cmp_op_to_string(ops[i].op), ops[i].name, "%s: name", what);
                }

        /* MASKED_EQ as LXC reads it: [INDEX,VALUE,op,MASK] is (arg & MASK) == VALUE. */
        const char *masked[] = { "[1,0x10,SCMP_CMP_MASKED_EQ,0x30]", "[1, 0x10, &=, 0x30]" };
        for (size_t i = 0; i < ELEMENTSOF(masked); i++) {
                char text[256];
                snprintf(text, sizeof text, "2\ndenylist\nclone %s\n", masked[i]);
                _cleanup_seccomp_policy_ SeccompPolicy *p = parse(text, masked[i]);
                ok(p && p->n_rules == 1 && p->rules[0].n_args == 1 &&
                           p->rules[0].args[0].op == SECCOMP_POLICY_CMP_MASKED_EQ &&
                           p->rules[0].args[0].index == 1 && p->rules[0].args[0].value == 0x30 &&
                           p->rules[0].args[0].value2 == 0x10,
                   "%s: value is the mask 0x30, value2 the datum 0x10", masked[i]);
        }
        is_str(seccomp_cmp_op_to_string(SECCOMP_POLICY_CMP_MASKED_EQ), "SCMP_CMP_MASKED_EQ",
               "MASKED_EQ name");
        ok(!seccomp_cmp_op_to_string((SeccompCmpOp) 7), "op name out of range: NULL");

        _cleanup_seccomp_policy_ SeccompPolicy *p =
                parse("2\ndenylist\n"
                      "personality kill [ 0 , 0xFFFFffff , == ] [1,18446744073709551615,<] "
                      "[2,0xffffffffffffffff,>]"
                      " [3,0,!=] [4,7,<=] [5,0X1f,>=]\n",
                      "six conditions, blanks, hex and limits");
        if (p && p->n_rules == 1) {
                const SeccompRule *r = &p->rules[0];
                ok(r->n_args == 6 && r->action.type == SECCOMP_POLICY_KILL,
                   "six conditions kept, action kill");
                ok(r->args[0].value == 0xffffffffULL && r->args[1].value == UINT64_MAX &&
                           r->args[2].value == UINT64_MAX && r->args[5].value == 0x1f,
                   "hex either case, 2^64-1 in both notations");
                ok(r->args[3].index == 3 && r->args[3].op == SECCOMP_POLICY_CMP_NE && r->args[4].value == 7,
                   "conditions in order");
        }
        _cleanup_seccomp_policy_ SeccompPolicy *q =
                parse("2\nallowlist\nwrite [0,2,==]\n", "args without action");
        ok(q && q->n_rules == 1 && q->rules[0].action.type == SECCOMP_POLICY_ALLOW &&
                   q->rules[0].n_args == 1,
           "condition right after the name: the list's rule action");
}

static void test_sections(void) {
        _cleanup_seccomp_policy_ SeccompPolicy *p = parse("2\ndenylist\n"
                                                          "a\n"
                                                          "[X86_64]\nb\n"
                                                          "[amd64]\nc\n"
                                                          "[AMD64]  # the same\nd\n"
                                                          "[arm64]\ne\nreject_force_umount\n"
                                                          "[all]\nf\n"
                                                          "[i386]\ng\n"
                                                          "[ALL]\nh\n"
                                                          "[Mips64N32]\ni\n",
                                                          "sections");
        if (!p || !is(p->n_rules, 10, "sections: 10 rules"))
                return;
        ok(!p->rules[0].arch, "before any section: every arch");
        is_str(p->rules[1].arch, "x86_64", "[X86_64] lower-cased");
        is_str(p->rules[2].arch, "x86_64", "[amd64] is x86_64");
        is_str(p->rules[3].arch, "x86_64", "[AMD64] too, comment after it");
        is_str(p->rules[4].arch, "arm64", "[arm64]");
        ok(is_force_umount(&p->rules[5], "arm64"), "reject_force_umount inside a section: its arch");
        ok(!p->rules[6].arch, "[all] resets to every arch");
        is_str(p->rules[7].arch, "i386", "an arch we may not know is kept");
        ok(!p->rules[8].arch, "[ALL] too");
        is_str(p->rules[9].arch, "mips64n32", "mixed case lower-cased");
        ok(p->rules[0].action.type == SECCOMP_POLICY_KILL, "deny list: rule without action kills");
}

static void test_lists_and_comments(void) {
        static const struct {
                const char *line;
                bool allowlist;
                SeccompAction def, rule;
        } lists[] = {
                { "denylist", false, { SECCOMP_POLICY_ALLOW, 0 }, { SECCOMP_POLICY_KILL, 0 } },
                { "blacklist", false, { SECCOMP_POLICY_ALLOW, 0 }, { SECCOMP_POLICY_KILL, 0 } },
                { "allowlist", true, { SECCOMP_POLICY_KILL, 0 }, { SECCOMP_POLICY_ALLOW, 0 } },
                { "whitelist", true, { SECCOMP_POLICY_KILL, 0 }, { SECCOMP_POLICY_ALLOW, 0 } },
                { "denylist errno 38", false, { SECCOMP_POLICY_ERRNO, 38 }, { SECCOMP_POLICY_KILL, 0 } },
                { "allowlist trap # comment",
                  true,
                  { SECCOMP_POLICY_TRAP, 0 },
                  { SECCOMP_POLICY_ALLOW, 0 } },
                { "  allowlist   log ", true, { SECCOMP_POLICY_LOG, 0 }, { SECCOMP_POLICY_ALLOW, 0 } },
                { "blacklist allow", false, { SECCOMP_POLICY_ALLOW, 0 }, { SECCOMP_POLICY_KILL, 0 } },
                { "whitelist errno 1", true, { SECCOMP_POLICY_ERRNO, 1 }, { SECCOMP_POLICY_ALLOW, 0 } },
        };
        for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
                char text[128];
                snprintf(text, sizeof text, "2\n%s\nread\n", lists[i].line);
                _cleanup_seccomp_policy_ SeccompPolicy *p = parse(text, lists[i].line);
                ok(p && p->allowlist == lists[i].allowlist && p->default_action.type == lists[i].def.type &&
                           p->default_action.errno_value == lists[i].def.errno_value && p->n_rules == 1 &&
                           p->rules[0].action.type == lists[i].rule.type,
                   "'%s': list type, default action, rule action", lists[i].line);
        }

        _cleanup_seccomp_policy_ SeccompPolicy *p =
                parse("# a header before the version\n"
                      "  2  # version\r\n"
                      "\n"
                      "denylist\r\n"
                      "#kexec_load\n"
                      "   # indented comment\n"
                      "\t\n"
                      "mount errno 1 #[0,1,==] not a condition\r\n"
                      "umount2#glued comment\n"
                      "reject_force_umount  # comment this to allow umount -f\n",
                      "comments, blanks, CRLF");
        if (p && is(p->n_rules, 3, "comments: 3 rules")) {
                ok(rule_is(&p->rules[0], "mount", NULL, SECCOMP_POLICY_ERRNO, 1, 0) && p->rules[0].line == 8,
                   "a comment ends a rule, line counted");
                ok(rule_is(&p->rules[1], "umount2", NULL, SECCOMP_POLICY_KILL, 0, 0),
                   "# right after a name");
                ok(is_force_umount(&p->rules[2], NULL), "reject_force_umount with a comment");
        }
        _cleanup_seccomp_policy_ SeccompPolicy *q = parse("2\ndenylist\n", "no rules");
        ok(q && q->n_rules == 0 && !q->rules, "no rules at all is fine");
        _cleanup_seccomp_policy_ SeccompPolicy *u = parse("2\ndenylist\nread", "no final newline");
        ok(u && u->n_rules == 1, "the last line needs no newline");
}

/* LXC's shipped profiles, and a userns-style one, as users have them. */
static void test_lxc_examples(void) {
        _cleanup_seccomp_policy_ SeccompPolicy *common =
                parse("2\n"
                      "blacklist\n"
                      "reject_force_umount  # comment this to allow umount -f;  not recommended\n"
                      "[all]\n"
                      "kexec_load errno 1\n"
                      "open_by_handle_at errno 1\n"
                      "init_module errno 1\n"
                      "finit_module errno 1\n"
                      "delete_module errno 1\n",
                      "LXC common.seccomp");
        if (common && is(common->n_rules, 6, "common.seccomp: 6 rules")) {
                ok(is_force_umount(&common->rules[0], NULL) &&
                           rule_is(&common->rules[5], "delete_module", NULL, SECCOMP_POLICY_ERRNO, 1, 0),
                   "common.seccomp: force umount and delete_module");
                ok(!common->allowlist && common->default_action.type == SECCOMP_POLICY_ALLOW,
                   "common.seccomp: deny list, the rest allowed");
        }

        /* Unprivileged containers: no new keyrings (ENOSYS makes libraries
         * fall back), no mounting of block devices, no raw sockets. */
        _cleanup_seccomp_policy_ SeccompPolicy *userns =
                parse("2\n"
                      "denylist\n"
                      "reject_force_umount\n"
                      "[all]\n"
                      "keyctl errno 38\n"
                      "add_key errno 38\n"
                      "request_key errno 38\n"
                      "mount errno 1 [3,1,SCMP_CMP_MASKED_EQ,1]\n"
                      "socket errno 97 [0,16,SCMP_CMP_EQ] [1,3,==]\n"
                      "[x86_64]\n"
                      "iopl errno 1\n"
                      "ioperm errno 1\n"
                      "[x86]\n"
                      "vm86 errno 1\n"
                      "vm86old errno 1\n",
                      "userns-style profile");
        if (userns && is(userns->n_rules, 10, "userns: 10 rules")) {
                const SeccompRule *s = &userns->rules[5];
                ok(rule_is(s, "socket", NULL, SECCOMP_POLICY_ERRNO, 97, 2) && s->args[0].index == 0 &&
                           s->args[0].value == 16 && s->args[1].index == 1 &&
                           s->args[1].op == SECCOMP_POLICY_CMP_EQ,
                   "userns: socket(AF_NETLINK, SOCK_RAW) refused");
                is_str(userns->rules[6].arch, "x86_64", "userns: iopl on x86_64");
                is_str(userns->rules[9].arch, "x86", "userns: vm86old on x86");
        }

        _cleanup_seccomp_policy_ SeccompPolicy *nesting = parse("2\n"
                                                                "allowlist errno 1\n"
                                                                "[all]\n"
                                                                "read\nwrite\nexit_group\n_llseek\npread64\n"
                                                                "ptrace kill\n",
                                                                "allow list with a default errno");
        ok(nesting && nesting->n_rules == 6 && nesting->default_action.type == SECCOMP_POLICY_ERRNO &&
                   nesting->default_action.errno_value == 1 &&
                   rule_is(&nesting->rules[3], "_llseek", NULL, SECCOMP_POLICY_ALLOW, 0, 0) &&
                   nesting->rules[5].action.type == SECCOMP_POLICY_KILL,
           "allow list: names with '_' and digits, an explicit kill");
}

static void test_garbage(void) {
        expect_error("", 0, "empty seccomp policy", "empty text");
        expect_error("# only a comment\n\n  \n", 0, "empty seccomp policy", "only comments");
        expect_error("3\ndenylist\n", 1, "unsupported seccomp policy version '3' (expected 1 or 2)",
                     "version 3");
        expect_error("\n\n02\ndenylist\n", 3, "version '02'", "version 02, on line 3");
        expect_error("2 denylist\n", 1, "version '2 denylist'", "version and type on one line");
        expect_error("v2\n", 1, "version 'v2'", "version v2");
        expect_error("2", 2, "missing list type", "'2' alone");
        expect_error("2\n# nothing\n\n", 2, "missing list type", "'2' and a comment");
        expect_error("2\ngreylist\n", 2, "unknown list type 'greylist'", "unknown list type");
        expect_error("2\nDenylist\n", 2, "unknown list type 'Denylist'", "list type is case-sensitive");
        expect_error("1\ndenylist\n", 2, "must be an allowlist, not 'denylist'", "v1 deny list");
        expect_error("1\nallowlist kill\n", 2, "unexpected 'kill'", "v1 default action");
        expect_error("2\ndenylist kill kill\n", 2, "unexpected 'kill' after the default action",
                     "two default actions");
        expect_error("2\ndenylist explode\n", 2, "unknown action 'explode'", "bad default action");

        expect_error("2\ndenylist\nmount explode\n", 3,
                     "unknown action 'explode' (expected kill, allow, trap, log or errno N)",
                     "unknown action");
        expect_error("2\ndenylist\nmount notify\n", 3,
                     "action 'notify': seccomp notify is not supported by warren", "notify");
        expect_error("2\nallowlist notify\n", 2, "seccomp notify", "notify as default action");
        expect_error("2\ndenylist\nmount KILL\n", 3, "unknown action 'KILL'", "upper-case action");
        expect_error("2\ndenylist\nmount errno 4096\n", 3, "invalid errno value '4096' (expected 0..4095)",
                     "errno 4096");
        expect_error("2\ndenylist\nmount errno -1\n", 3, "invalid errno value '-1'", "errno -1");
        expect_error("2\ndenylist\nmount errno abc\n", 3, "invalid errno value 'abc'", "errno abc");
        expect_error("2\ndenylist\nmount errno 0x1\n", 3, "invalid errno value '0x1'", "errno in hex");
        expect_error("2\ndenylist\nmount errno 01\n", 3, "invalid errno value '01'", "errno 01");
        expect_error("2\ndenylist\nmount errno\n", 3, "missing value after 'errno'", "errno without value");
        expect_error("2\ndenylist\nmount errno # 1\n", 3, "missing value after 'errno'",
                     "errno value commented");
        expect_error("2\ndenylist\nmount kill trap\n", 3, "unexpected 'trap'", "two actions");
        expect_error("2\ndenylist\nmount [0,1,==] kill\n", 3, "unexpected 'kill'",
                     "action after a condition");

        expect_error("2\ndenylist\nm [0,1,==] [1,1,==] [2,1,==] [3,1,==] [4,1,==] [5,1,==] [0,7,!=]\n", 3,
                     "too many argument conditions at '[0,7,!=]' (at most 6)", "7 conditions");
        expect_error("2\ndenylist\nm [6,1,==]\n", 3,
                     "invalid argument index '6' in '[6,1,==]' (expected 0..5)", "index 6");
        expect_error("2\ndenylist\nm [-1,1,==]\n", 3, "invalid argument index '-1'", "index -1");
        expect_error("2\ndenylist\nm [x,1,==]\n", 3, "invalid argument index 'x'", "index x");
        expect_error("2\ndenylist\nm [0,1,=~]\n", 3, "unknown operator '=~' in '[0,1,=~]'", "bad op");
        expect_error("2\ndenylist\nm [0,1,scmp_cmp_eq]\n", 3, "unknown operator 'scmp_cmp_eq'",
                     "op is case-sensitive");
        expect_error("2\ndenylist\nm [1,2,SCMP_CMP_MASKED_EQ]\n", 3, "SCMP_CMP_MASKED_EQ needs a mask",
                     "MASKED_EQ without value2");
        expect_error("2\ndenylist\nm [1,2,&=]\n", 3, "'[1,2,&=]'", "&= without value2 names the condition");
        expect_error("2\ndenylist\nm [1,2,SCMP_CMP_EQ,3]\n", 3,
                     "only SCMP_CMP_MASKED_EQ takes a fourth value", "EQ with value2");
        expect_error("2\ndenylist\nm [1,abc,==]\n", 3, "invalid value 'abc' in '[1,abc,==]'", "value abc");
        expect_error("2\ndenylist\nm [1,18446744073709551616,==]\n", 3,
                     "invalid value '18446744073709551616'", "value 2^64");
        expect_error("2\ndenylist\nm [1,0x10000000000000000,==]\n", 3, "invalid value '0x10000000000000000'",
                     "hex value 2^64");
        expect_error("2\ndenylist\nm [1,0x,==]\n", 3, "invalid value '0x'", "bare 0x");
        expect_error("2\ndenylist\nm [1,-1,==]\n", 3, "invalid value '-1'", "negative value");
        expect_error("2\ndenylist\nm [1,010,==]\n", 3, "invalid value '010'", "leading zero (octal to LXC)");
        expect_error("2\ndenylist\nm [1,2 3,==]\n", 3, "invalid value '2 3'", "blank inside a value");
        expect_error("2\ndenylist\nm [1,,==]\n", 3, "invalid value ''", "empty value");
        expect_error("2\ndenylist\nm [1,2,&=,0xg]\n", 3, "invalid value '0xg'", "bad value2");
        expect_error("2\ndenylist\nm [1,2]\n", 3, "malformed argument condition '[1,2]'", "two fields");
        expect_error("2\ndenylist\nm [1,2,&=,3,4]\n", 3, "malformed argument condition '[1,2,&=,3,4]'",
                     "five fields");
        expect_error("2\ndenylist\nm []\n", 3, "malformed argument condition '[]'", "empty condition");
        expect_error("2\ndenylist\nm [1,2,==\n", 3, "malformed argument condition '[1,2,=='",
                     "unterminated");
        expect_error("2\ndenylist\nm [1,2,==]x\n", 3, "malformed argument condition '[1,2,==]x'",
                     "junk after ]");

        expect_error("2\ndenylist\nfoo-bar\n", 3, "invalid syscall name 'foo-bar' (expected [a-z0-9_]",
                     "name with '-'");
        expect_error("2\ndenylist\nMount errno 1\n", 3, "invalid syscall name 'Mount'", "upper-case name");
        expect_error("2\ndenylist\nm\xc3\xa9\n", 3, "invalid syscall name 'm\\xc3\\xa9'",
                     "non-ASCII name, escaped in the message");
        expect_error("2\ndenylist\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 3,
                     "at most 64 characters", "65-character name");
        expect_error("2\ndenylist\nreject_force_umount now\n", 3,
                     "unexpected 'now' after reject_force_umount", "reject_force_umount with an argument");
        expect_error("1\nallowlist\nreject_force_umount\n", 3,
                     "invalid syscall number 'reject_force_umount'", "reject_force_umount in v1");

        expect_error("2\ndenylist\n[x86_64\n", 3, "malformed section '[x86_64'", "unterminated section");
        expect_error("2\ndenylist\n[]\n", 3, "malformed section '[]'", "empty section");
        expect_error("2\ndenylist\n[a b]\n", 3, "malformed section '[a b]'", "blank in a section");
        expect_error("2\ndenylist\n[x86-64]\n", 3, "malformed section '[x86-64]'", "'-' in a section");
        expect_error("2\ndenylist\n[x86_64] mount\n", 3, "malformed section '[x86_64] mount'",
                     "rule on a section line");

        expect_error("1\nallowlist\n4096\n", 3, "invalid syscall number '4096' (expected 0..4095)",
                     "v1 4096");
        expect_error("1\nallowlist\n-1\n", 3, "invalid syscall number '-1'", "v1 -1");
        expect_error("1\nallowlist\nread\n", 3, "invalid syscall number 'read'", "v1 name");
        expect_error("1\nallowlist\n12 13\n", 3, "unexpected '13' after syscall number 12",
                     "v1 two numbers");
        expect_error("1\nallowlist\n[x86_64]\n", 3, "invalid syscall number '[x86_64]'", "v1 section");

        /* Lines, bytes, counts. */
        char *long_line = malloc(6000);
        if (long_line) {
                memcpy(long_line, "2\ndenylist\n", 11);
                memset(long_line + 11, 'a', 5000);
                strcpy(long_line + 5011, "\nread\n");
                expect_error(long_line, 3, "line too long (5000 bytes, at most 4096)", "5000-byte line");
                free(long_line);
        }
        static const char nul[] = "2\ndenylist\nmo\0unt\nread\n";
        expect_error_n(nul, sizeof nul - 1, 3, "contains a NUL byte", "NUL byte");
        static const char nul_in_comment[] = "2\ndenylist\nread\n# \0\n";
        expect_error_n(nul_in_comment, sizeof nul_in_comment - 1, 4, "NUL byte", "NUL byte in a comment");
        expect_error("\xff\xfe\x01junk\n", 1, "version '\\xff\\xfe\\x01junk'",
                     "binary version line, escaped");

        size_t big = 16 + 4097 * 5;
        char *many = malloc(big);
        if (many) {
                size_t n = (size_t) sprintf(many, "2\ndenylist\n");
                for (unsigned i = 0; i < 4096; i++)
                        n += (size_t) sprintf(many + n, "r%u\n", i % 10);
                SeccompPolicy *p = NULL;
                ok(seccomp_policy_parse(many, n, "t", &p, NULL) == 0 && p && p->n_rules == 4096,
                   "4096 rules: fine");
                seccomp_policy_free(p);
                strcpy(many + n, "r\n");
                expect_error(many, 4099, "too many rules (at most 4096)", "4097 rules");
                free(many);
        }

        char *huge = malloc(SECCOMP_POLICY_MAX_SIZE + 1);
        if (huge) {
                WarrenError e = WARREN_ERROR_NULL;
                SeccompPolicy *p = NULL;
                memset(huge, '\n', SECCOMP_POLICY_MAX_SIZE + 1);
                is(seccomp_policy_parse(huge, SECCOMP_POLICY_MAX_SIZE + 1, "t", &p, &e), -EFBIG,
                   "1 MiB + 1 of text: refused");
                like(e.message, "t: 1048577 bytes, more than the limit", "size named");
                ok(!p, "nothing returned");
                warren_error_clear(&e);
                free(huge);
        }
        SeccompPolicy *p = NULL;
        ok(seccomp_policy_parse("mount", 5, NULL, &p, NULL) == -EINVAL && !p, "no reterr: just -EINVAL");
        WarrenError e = WARREN_ERROR_NULL;
        seccomp_policy_parse("x\n", 2, NULL, &p, &e);
        like(e.message, "<string>:1: ", "no origin: <string>");
        warren_error_clear(&e);
}

static int write_file(const char *path, const char *data, size_t size) {
        FILE *f = fopen(path, "we");
        if (!f)
                return -errno;
        size_t k = fwrite(data, 1, size, f);
        if (fclose(f) != 0 || k != size)
                return -EIO;
        return 0;
}

static void expect_load_error(const char *path, int error, const char *needle, const char *what) {
        SeccompPolicy *p = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        is(seccomp_policy_load(path, &p, &e), -error, "%s: refused", what);
        like(e.message, path, "%s: names the path", what);
        like(e.message, needle, "%s: says '%s'", what, needle);
        ok(!p, "%s: nothing returned", what);
        warren_error_clear(&e);
}

static void test_load(void) {
        char dir[] = "/tmp/test-seccomp-policy.XXXXXX", path[128], fifo[128], missing[128];
        const char *def = seccomp_policy_default_text();

        if (!ok(mkdtemp(dir) != NULL, "temp dir"))
                return;
        snprintf(path, sizeof path, "%s/profile", dir);
        snprintf(fifo, sizeof fifo, "%s/fifo", dir);
        snprintf(missing, sizeof missing, "%s/missing", dir);

        ok(write_file(path, def, strlen(def)) == 0, "write the default profile");
        SeccompPolicy *p = NULL;
        ok(seccomp_policy_load(path, &p, NULL) == 0 && p && p->n_rules == 7 && streq(p->origin, path),
           "load: 7 rules, origin is the path");
        p = seccomp_policy_free(p);

        /* Exactly 1 MiB, valid: comment lines up to the limit. */
        char *buf = malloc(SECCOMP_POLICY_MAX_SIZE + 1);
        if (buf) {
                size_t n = (size_t) sprintf(buf, "2\ndenylist\nread\n");
                while (n < SECCOMP_POLICY_MAX_SIZE) {
                        size_t k = MIN((size_t) 100, SECCOMP_POLICY_MAX_SIZE - n);
                        memset(buf + n, '#', k);
                        buf[n + k - 1] = '\n';
                        n += k;
                }
                ok(write_file(path, buf, n) == 0, "write a 1 MiB profile");
                ok(seccomp_policy_load(path, &p, NULL) == 0 && p && p->n_rules == 1, "1 MiB: loads");
                p = seccomp_policy_free(p);
                buf[n] = '\n';
                ok(write_file(path, buf, n + 1) == 0, "write a 1 MiB + 1 profile");
                expect_load_error(path, EFBIG, "is 1048577 bytes, more than the limit", "1 MiB + 1");
                free(buf);
        }

        ok(write_file(path, "2\ndenylist\nmount explode\n", 25) == 0, "write a bad profile");
        char needle[200];
        snprintf(needle, sizeof needle, "%s:3: unknown action 'explode'", path);
        expect_load_error(path, EINVAL, needle, "bad profile");

        expect_load_error(dir, EISDIR, "is a directory", "a directory");
        expect_load_error(missing, ENOENT, "No such file", "missing file");
        if (mkfifo(fifo, 0600) == 0)
                expect_load_error(fifo, EINVAL, "not a regular file", "a FIFO (no hang)");
        else
                ok(false, "mkfifo: %s", strerror(errno));

        unlink(path);
        unlink(fifo);
        rmdir(dir);
}

/* ---- random mutations ---- */

static uint64_t rng_state = 0x5eed5eed12345678ULL;

static uint64_t rng(void) {
        /* splitmix64: deterministic, so a failure replays */
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static bool name_ok(const char *s, const char *set, size_t max) {
        size_t n = strlen(s);
        return n > 0 && n <= max && strspn(s, set) == n;
}

/* What any successful parse must look like; false names the broken invariant. */
static const char *check_policy(const SeccompPolicy *p) {
        if (p->version != 1 && p->version != 2)
                return "version";
        if (!p->origin || p->n_rules > SECCOMP_POLICY_MAX_RULES || (p->n_rules > 0 && !p->rules))
                return "origin or rule count";
        if (p->version == 1 && (!p->allowlist || p->default_action.type != SECCOMP_POLICY_KILL))
                return "v1 list";
        for (size_t i = 0; i < p->n_rules; i++) {
                const SeccompRule *r = &p->rules[i];
                if (p->version == 1 ? (r->name || r->number < 0 || r->number > SECCOMP_POLICY_MAX_NUMBER)
                                    : (!r->name || r->number != -1 ||
                                       !name_ok(r->name, "abcdefghijklmnopqrstuvwxyz0123456789_", 64)))
                        return "name or number";
                if (r->arch && (!name_ok(r->arch, "abcdefghijklmnopqrstuvwxyz0123456789_", SIZE_MAX) ||
                                streq(r->arch, "all") || streq(r->arch, "amd64")))
                        return "arch";
                if ((unsigned) r->action.type > SECCOMP_POLICY_ERRNO ||
                    (r->action.type == SECCOMP_POLICY_ERRNO &&
                     (r->action.errno_value < 0 || r->action.errno_value > SECCOMP_POLICY_MAX_ERRNO)))
                        return "action";
                if (r->n_args > SECCOMP_POLICY_MAX_ARGS || r->line == 0)
                        return "args or line";
                for (size_t j = 0; j < r->n_args; j++)
                        if (r->args[j].index > 5 ||
                            (unsigned) r->args[j].op > SECCOMP_POLICY_CMP_MASKED_EQ ||
                            (r->args[j].op != SECCOMP_POLICY_CMP_MASKED_EQ && r->args[j].value2 != 0))
                                return "argument condition";
        }
        return NULL;
}

static void test_mutations(void) {
        static const char *const seeds[] = {
                NULL, /* the default text */
                "1\nwhitelist\n0\n1\n60\n231\n",
                "2\nallowlist errno 1\n[x86_64]\nread\nwrite [0,1,==]\nmount errno 1 "
                "[2,1,SCMP_CMP_MASKED_EQ,1]\n"
                "[all]\nioctl trap [1, 0x5401, SCMP_CMP_EQ] [2,0,!=]\nptrace log\n",
                "2\nblacklist\nreject_force_umount # c\n[AMD64]\nkeyctl errno 38\n[arm]\nclone "
                "[0,0x10000000,&=,0x10000000]\n",
        };
        static const char *const tokens[] = {
                "\n",
                "#",
                "[",
                "]",
                ",",
                " ",
                "errno",
                "4095",
                "4096",
                "0x",
                "0xffffffffffffffff",
                "18446744073709551616",
                "SCMP_CMP_MASKED_EQ",
                "&=",
                "==",
                "[all]",
                "[x86_64]",
                "reject_force_umount",
                "kill",
                "notify",
                "1",
                "2",
                "[0,1,==]",
                "\r",
                "\t",
                "-",
        };
        unsigned parsed = 0, refused = 0;
        const char *broken = NULL;
        size_t cap = 8192;
        char *buf = malloc(cap);

        if (!buf)
                return;
        for (unsigned iter = 0; iter < 5000 && !broken; iter++) {
                const char *seed = seeds[iter % ELEMENTSOF(seeds)];
                size_t n;
                if (!seed)
                        seed = seccomp_policy_default_text();
                n = strlen(seed);
                memcpy(buf, seed, n);
                for (unsigned m = 1 + (unsigned) (rng() % 6); m > 0; m--) {
                        size_t at = n ? (size_t) (rng() % n) : 0;
                        switch (rng() % 6) {
                        case 0: /* any byte */
                                if (n)
                                        buf[at] = (char) (rng() & 0xff);
                                break;
                        case 1: { /* an interesting token */
                                const char *t = tokens[rng() % ELEMENTSOF(tokens)];
                                size_t k = strlen(t);
                                if (n + k < cap) {
                                        memmove(buf + at + k, buf + at, n - at);
                                        memcpy(buf + at, t, k);
                                        n += k;
                                }
                                break;
                        }
                        case 2: {                                /* delete a run */
                                size_t k = (size_t) (rng() % 8); /* not inside MIN(): it would draw twice */
                                k = MIN(k, n - at);
                                memmove(buf + at, buf + at + k, n - at - k);
                                n -= k;
                                break;
                        }
                        case 3: { /* duplicate a run */
                                size_t k = (size_t) (rng() % 32);
                                k = MIN(k, n - at);
                                if (n + k < cap) {
                                        memmove(buf + at + k, buf + at, n - at);
                                        n += k;
                                }
                                break;
                        }
                        case 4: /* truncate */
                                n = at;
                                break;
                        default: /* a digit */
                                if (n)
                                        buf[at] = (char) ('0' + rng() % 10);
                                break;
                        }
                }

                SeccompPolicy *p = NULL;
                WarrenError e = WARREN_ERROR_NULL;
                int r = seccomp_policy_parse(buf, n, "m", &p, &e);
                if (r == 0) {
                        parsed++;
                        broken = !p ? "no policy" : check_policy(p);
                } else {
                        refused++;
                        if (r != -EINVAL || e.error != EINVAL || !e.message ||
                            strncmp(e.message, "m:", 2) != 0 || p)
                                broken = "error shape";
                }
                if (broken)
                        printf("# iteration %u broke '%s' (r=%d, %s)\n", iter, broken, r, strna(e.message));
                seccomp_policy_free(p);
                warren_error_clear(&e);
        }
        free(buf);
        ok(!broken, "5000 mutations: no crash, every result well-formed (%u parsed, %u refused)", parsed,
           refused);
        ok(parsed > 100 && refused > 100, "mutations reach both outcomes");

        /* Pure junk, all 256 byte values. */
        unsigned junk_ok = 0;
        for (unsigned iter = 0; iter < 500; iter++) {
                char junk[512];
                size_t n = (size_t) (rng() % sizeof junk);
                for (size_t i = 0; i < n; i++)
                        junk[i] = (char) (rng() & 0xff);
                SeccompPolicy *p = NULL;
                WarrenError e = WARREN_ERROR_NULL;
                int r = seccomp_policy_parse(junk, n, "j", &p, &e);
                if ((r == 0 && p && !check_policy(p)) || (r < 0 && e.message && !p))
                        junk_ok++;
                seccomp_policy_free(p);
                warren_error_clear(&e);
        }
        is(junk_ok, 500, "500 binary junk inputs: refused cleanly");
}

int main(void) {
        test_default();
        test_v1();
        test_actions();
        test_ops();
        test_sections();
        test_lists_and_comments();
        test_lxc_examples();
        test_garbage();
        test_load();
        test_mutations();
        return done_testing();
}
