/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seccomp-policy.h"
#include "basic/fileio.h"

#define BLANKS " \t\r"
/* Room for a word quoted in a message: bytes are escaped and long words cut. */
#define TOKEN_MSG_SIZE 100U

/* LXC's reject_force_umount: umount2(…, MNT_FORCE) fails with EACCES. */
#define FORCE_UMOUNT_ERRNO 13 /* EACCES */
#define FORCE_UMOUNT_FLAG 1   /* MNT_FORCE */

static const char default_text[] =
        "2\n"
        "denylist\n"
        /* The comment comes after the two header lines, where LXC too accepts one. */
        "# warren's built-in seccomp policy, used when lxc.seccomp.profile is unset.\n"
        "# The same deny list as LXC's common.seccomp: a container may not load a new\n"
        "# kernel or kernel modules, open files by handle (which walks out of bind\n"
        "# mounts), or force-unmount file systems it shares with the host.\n"
        "reject_force_umount\n"
        "[all]\n"
        "kexec_load errno 1\n"
        "kexec_file_load errno 1\n"
        "open_by_handle_at errno 1\n"
        "init_module errno 1\n"
        "finit_module errno 1\n"
        "delete_module errno 1\n";

const char *seccomp_policy_default_text(void) {
        return default_text;
}

static const char *const action_names[] = {
        [SECCOMP_POLICY_ALLOW] = "allow", [SECCOMP_POLICY_KILL] = "kill",   [SECCOMP_POLICY_TRAP] = "trap",
        [SECCOMP_POLICY_LOG] = "log",     [SECCOMP_POLICY_ERRNO] = "errno",
};

const char *seccomp_action_to_string(SeccompActionType t) {
        if ((unsigned) t >= ELEMENTSOF(action_names))
                return NULL;
        return action_names[t];
}

static const struct {
        const char *name, *symbol;
} cmp_ops[] = {
        [SECCOMP_POLICY_CMP_NE] = { "SCMP_CMP_NE", "!=" },
        [SECCOMP_POLICY_CMP_LT] = { "SCMP_CMP_LT", "<" },
        [SECCOMP_POLICY_CMP_LE] = { "SCMP_CMP_LE", "<=" },
        [SECCOMP_POLICY_CMP_EQ] = { "SCMP_CMP_EQ", "==" },
        [SECCOMP_POLICY_CMP_GE] = { "SCMP_CMP_GE", ">=" },
        [SECCOMP_POLICY_CMP_GT] = { "SCMP_CMP_GT", ">" },
        [SECCOMP_POLICY_CMP_MASKED_EQ] = { "SCMP_CMP_MASKED_EQ", "&=" },
};

const char *seccomp_cmp_op_to_string(SeccompCmpOp op) {
        if ((unsigned) op >= ELEMENTSOF(cmp_ops))
                return NULL;
        return cmp_ops[op].name;
}

SeccompPolicy *seccomp_policy_free(SeccompPolicy *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_rules; i++) {
                free(p->rules[i].name);
                free(p->rules[i].arch);
        }
        free(p->rules);
        free(p->origin);
        free(p);
        return NULL;
}

/* A word from the text, fit for a message (and a D-Bus string): bytes
 * outside printable ASCII as \xNN, at most ~80 characters. */
static const char *token_str(const char *s, char buf[TOKEN_MSG_SIZE]) {
        size_t n = 0;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (n >= 80) {
                        memcpy(buf + n, "...", 4);
                        return buf;
                }
                if (*p < 0x20 || *p >= 0x7f)
                        n += (size_t) snprintf(buf + n, TOKEN_MSG_SIZE - n, "\\x%02x", *p);
                else
                        buf[n++] = (char) *p;
        }
        buf[n] = 0;
        return buf;
}

static char *strip_blanks(char *s) {
        size_t n = strlen(s);
        while (n > 0 && strchr(BLANKS, s[n - 1]))
                s[--n] = 0;
        return s + strspn(s, BLANKS);
}

typedef struct Parser {
        const char *origin;
        unsigned line;
        WarrenError *reterr;
        SeccompPolicy *policy;
        SeccompAction rule_action; /* for rules that name none */
        char *arch;                /* the current section; NULL: every arch */
        size_t n_allocated;        /* of policy->rules */
} Parser;

#define parse_error(ps, fmt, ...) \
        warren_error_set((ps)->reterr, EINVAL, "%s:%u: " fmt, (ps)->origin, (ps)->line, ##__VA_ARGS__)

/* Cuts the next word out of *p (NUL-terminating it in place) and returns it,
 * or NULL at the end of the line. A word starting with '[' runs to its ']'
 * (blanks inside allowed) and on to the next blank. */
static char *next_token(char **p) {
        char *s = *p + strspn(*p, BLANKS), *e;

        if (!*s) {
                *p = s;
                return NULL;
        }
        e = s;
        if (*s == '[') {
                char *close = strchr(s, ']');
                e = close ? close + 1 : s + strlen(s);
        }
        e += strcspn(e, BLANKS);
        *p = *e ? e + 1 : e;
        *e = 0;
        return s;
}

/* Decimal without leading zeros, or 0x hex. A leading 0 is refused rather
 * than read as decimal, since LXC would read it as octal. */
static bool parse_u64(const char *s, uint64_t *ret) {
        uint64_t v = 0;

        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                s += 2;
                if (!*s || strlen(s) > 16)
                        return false;
                for (; *s; s++) {
                        unsigned d;
                        if (*s >= '0' && *s <= '9')
                                d = (unsigned) (*s - '0');
                        else if (*s >= 'a' && *s <= 'f')
                                d = (unsigned) (*s - 'a' + 10);
                        else if (*s >= 'A' && *s <= 'F')
                                d = (unsigned) (*s - 'A' + 10);
                        else
                                return false;
                        v = v << 4 | d;
                }
                *ret = v;
                return true;
        }
        if (!*s || (s[0] == '0' && s[1]))
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return false;
                unsigned d = (unsigned) (*s - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return false;
                v = v * 10 + d;
        }
        *ret = v;
        return true;
}

/* Plain decimal 0..max (syscall numbers, errno values, argument indexes). */
static bool parse_small(const char *s, long max, long *ret) {
        uint64_t v;
        if (strspn(s, "0123456789") != strlen(s) || !parse_u64(s, &v) || v > (uint64_t) max)
                return false;
        *ret = (long) v;
        return true;
}

/* Parses an action starting at word; "errno" takes the next word of *p. */
static int parse_action(Parser *ps, const char *word, char **p, SeccompAction *ret) {
        static const SeccompActionType simple[] = { SECCOMP_POLICY_ALLOW, SECCOMP_POLICY_KILL,
                                                    SECCOMP_POLICY_TRAP, SECCOMP_POLICY_LOG };
        char b[TOKEN_MSG_SIZE];

        for (size_t i = 0; i < ELEMENTSOF(simple); i++)
                if (streq(word, action_names[simple[i]])) {
                        *ret = (SeccompAction){ .type = simple[i] };
                        return 0;
                }
        if (streq(word, "errno")) {
                const char *v = next_token(p);
                long e;
                if (!v)
                        return parse_error(ps, "missing value after 'errno' (expected errno 0..%d)",
                                           SECCOMP_POLICY_MAX_ERRNO);
                if (!parse_small(v, SECCOMP_POLICY_MAX_ERRNO, &e))
                        return parse_error(ps, "invalid errno value '%s' (expected 0..%d)", token_str(v, b),
                                           SECCOMP_POLICY_MAX_ERRNO);
                *ret = (SeccompAction){ .type = SECCOMP_POLICY_ERRNO, .errno_value = (int) e };
                return 0;
        }
        if (streq(word, "notify"))
                return parse_error(ps, "action 'notify': seccomp notify is not supported by warren");
        return parse_error(ps, "unknown action '%s' (expected kill, allow, trap, log or errno N)",
                           token_str(word, b));
}

static int parse_version(Parser *ps, const char *line) {
        char b[TOKEN_MSG_SIZE];
        if (streq(line, "1") || streq(line, "2")) {
                ps->policy->version = (unsigned) (line[0] - '0');
                return 0;
        }
        return parse_error(ps, "unsupported seccomp policy version '%s' (expected 1 or 2)",
                           token_str(line, b));
}

static int parse_list_type(Parser *ps, char *line) {
        SeccompPolicy *pol = ps->policy;
        char b[TOKEN_MSG_SIZE], *p = line;
        const char *type = next_token(&p), *w;
        int r;

        assert(type); /* the caller skips empty lines */
        if (streq(type, "allowlist") || streq(type, "whitelist"))
                pol->allowlist = true;
        else if (streq(type, "denylist") || streq(type, "blacklist"))
                pol->allowlist = false;
        else
                return parse_error(
                        ps, "unknown list type '%s' (expected allowlist, denylist, whitelist or blacklist)",
                        token_str(type, b));

        if (pol->version == 1) {
                if (!pol->allowlist)
                        return parse_error(ps, "a version 1 policy must be an allowlist, not '%s'",
                                           token_str(type, b));
                pol->default_action = (SeccompAction){ .type = SECCOMP_POLICY_KILL };
                ps->rule_action = (SeccompAction){ .type = SECCOMP_POLICY_ALLOW };
                w = next_token(&p);
                if (w)
                        return parse_error(ps,
                                           "unexpected '%s' after '%s' (version 1 takes no default action)",
                                           token_str(w, b), type);
                return 0;
        }

        pol->default_action =
                (SeccompAction){ .type = pol->allowlist ? SECCOMP_POLICY_KILL : SECCOMP_POLICY_ALLOW };
        ps->rule_action =
                (SeccompAction){ .type = pol->allowlist ? SECCOMP_POLICY_ALLOW : SECCOMP_POLICY_KILL };
        w = next_token(&p);
        if (!w)
                return 0;
        r = parse_action(ps, w, &p, &pol->default_action);
        if (r < 0)
                return r;
        w = next_token(&p);
        if (w)
                return parse_error(ps, "unexpected '%s' after the default action", token_str(w, b));
        return 0;
}

static int parse_section(Parser *ps, const char *line) {
        size_t n = strlen(line);
        char b[TOKEN_MSG_SIZE];

        if (n < 3 || line[n - 1] != ']' ||
            strspn(line + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != n - 2)
                return parse_error(ps, "malformed section '%s' (expected [ARCH], letters, digits and '_')",
                                   token_str(line, b));

        _cleanup_free_ char *arch = strndup(line + 1, n - 2);
        if (!arch)
                return warren_error_set(ps->reterr, ENOMEM, "Out of memory");
        for (char *c = arch; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                        *c = (char) (*c - 'A' + 'a');
        free(ps->arch);
        ps->arch = NULL;
        if (streq(arch, "all"))
                return 0;
        if (streq(arch, "amd64")) {
                free(arch);
                arch = strdup("x86_64");
                if (!arch)
                        return warren_error_set(ps->reterr, ENOMEM, "Out of memory");
        }
        ps->arch = TAKE_PTR(arch);
        return 0;
}

static int parse_arg(Parser *ps, const char *token, SeccompArgCmp *ret) {
        char b[TOKEN_MSG_SIZE], b2[TOKEN_MSG_SIZE];
        size_t n = strlen(token), k = 0;
        char *fields[5];
        uint64_t v, v2 = 0;
        long index;

        if (n < 2 || token[0] != '[' || token[n - 1] != ']')
                return parse_error(ps,
                                   "malformed argument condition '%s' (expected [INDEX,VALUE,OP] or "
                                   "[INDEX,VALUE,OP,VALUE2])",
                                   token_str(token, b));
        _cleanup_free_ char *copy = strndup(token + 1, n - 2);
        if (!copy)
                return warren_error_set(ps->reterr, ENOMEM, "Out of memory");
        for (char *f = copy;;) {
                char *comma = strchr(f, ',');
                if (comma)
                        *comma = 0;
                if (k == ELEMENTSOF(fields))
                        break;
                fields[k++] = strip_blanks(f);
                if (!comma)
                        break;
                f = comma + 1;
        }
        if (k < 3 || k > 4)
                return parse_error(ps,
                                   "malformed argument condition '%s' (expected [INDEX,VALUE,OP] or "
                                   "[INDEX,VALUE,OP,VALUE2])",
                                   token_str(token, b));

        if (!parse_small(fields[0], SECCOMP_POLICY_MAX_ARGS - 1, &index))
                return parse_error(ps, "invalid argument index '%s' in '%s' (expected 0..%u)",
                                   token_str(fields[0], b), token_str(token, b2),
                                   SECCOMP_POLICY_MAX_ARGS - 1);
        if (!parse_u64(fields[1], &v))
                return parse_error(ps,
                                   "invalid value '%s' in '%s' (expected a decimal number without leading "
                                   "zeros or 0x hex, below 2^64)",
                                   token_str(fields[1], b), token_str(token, b2));

        size_t op = 0;
        for (; op < ELEMENTSOF(cmp_ops); op++)
                if (streq(fields[2], cmp_ops[op].name) || streq(fields[2], cmp_ops[op].symbol))
                        break;
        if (op == ELEMENTSOF(cmp_ops))
                return parse_error(ps,
                                   "unknown operator '%s' in '%s' (expected SCMP_CMP_NE, _LT, _LE, _EQ, "
                                   "_GE, _GT, _MASKED_EQ or != < <= == >= > &=)",
                                   token_str(fields[2], b), token_str(token, b2));

        if (op == SECCOMP_POLICY_CMP_MASKED_EQ && k != 4)
                return parse_error(
                        ps, "'%s': SCMP_CMP_MASKED_EQ needs a mask, [INDEX,VALUE,SCMP_CMP_MASKED_EQ,MASK]",
                        token_str(token, b));
        if (op != SECCOMP_POLICY_CMP_MASKED_EQ && k != 3)
                return parse_error(ps, "'%s': only SCMP_CMP_MASKED_EQ takes a fourth value",
                                   token_str(token, b));
        if (k == 4 && !parse_u64(fields[3], &v2))
                return parse_error(ps,
                                   "invalid value '%s' in '%s' (expected a decimal number without leading "
                                   "zeros or 0x hex, below 2^64)",
                                   token_str(fields[3], b), token_str(token, b2));

        *ret = (SeccompArgCmp){ .index = (unsigned) index, .op = (SeccompCmpOp) op };
        if (op == SECCOMP_POLICY_CMP_MASKED_EQ) {
                /* As LXC: "[I,VALUE,&=,MASK]" is (arg & MASK) == VALUE. */
                ret->value = v2;
                ret->value2 = v;
        } else
                ret->value = v;
        return 0;
}

static int add_rule(Parser *ps, SeccompRule **ret) {
        SeccompPolicy *pol = ps->policy;

        if (pol->n_rules >= SECCOMP_POLICY_MAX_RULES)
                return parse_error(ps, "too many rules (at most %u)", SECCOMP_POLICY_MAX_RULES);
        if (pol->n_rules == ps->n_allocated) {
                size_t n = ps->n_allocated ? ps->n_allocated * 2 : 16;
                SeccompRule *rules = reallocarray(pol->rules, n, sizeof(SeccompRule));
                if (!rules)
                        return warren_error_set(ps->reterr, ENOMEM, "Out of memory");
                pol->rules = rules;
                ps->n_allocated = n;
        }
        SeccompRule *rule = &pol->rules[pol->n_rules];
        *rule = (SeccompRule){ .number = -1, .action = ps->rule_action, .line = ps->line };
        if (ps->arch) {
                rule->arch = strdup(ps->arch);
                if (!rule->arch)
                        return warren_error_set(ps->reterr, ENOMEM, "Out of memory");
        }
        pol->n_rules++;
        *ret = rule;
        return 0;
}

static int parse_rule_v1(Parser *ps, char *line) {
        char b[TOKEN_MSG_SIZE], *p = line;
        const char *word = next_token(&p), *extra = next_token(&p);
        SeccompRule *rule;
        long nr;
        int r;

        if (!parse_small(word, SECCOMP_POLICY_MAX_NUMBER, &nr))
                return parse_error(ps, "invalid syscall number '%s' (expected 0..%ld)", token_str(word, b),
                                   SECCOMP_POLICY_MAX_NUMBER);
        if (extra)
                return parse_error(ps, "unexpected '%s' after syscall number %ld", token_str(extra, b), nr);
        r = add_rule(ps, &rule);
        if (r < 0)
                return r;
        rule->number = nr;
        return 0;
}

static int parse_rule_v2(Parser *ps, char *line) {
        char b[TOKEN_MSG_SIZE], *p = line;
        const char *name = next_token(&p), *w;
        SeccompAction action = ps->rule_action;
        SeccompArgCmp args[SECCOMP_POLICY_MAX_ARGS];
        size_t n_args = 0, n = strlen(name);
        SeccompRule *rule;
        int r;

        if (streq(name, "reject_force_umount")) {
                w = next_token(&p);
                if (w)
                        return parse_error(ps, "unexpected '%s' after reject_force_umount", token_str(w, b));
                r = add_rule(ps, &rule);
                if (r < 0)
                        return r;
                rule->name = strdup("umount2");
                if (!rule->name)
                        return warren_error_set(ps->reterr, ENOMEM, "Out of memory");
                rule->action =
                        (SeccompAction){ .type = SECCOMP_POLICY_ERRNO, .errno_value = FORCE_UMOUNT_ERRNO };
                rule->args[0] = (SeccompArgCmp){ .index = 1,
                                                 .op = SECCOMP_POLICY_CMP_MASKED_EQ,
                                                 .value = FORCE_UMOUNT_FLAG,
                                                 .value2 = FORCE_UMOUNT_FLAG };
                rule->n_args = 1;
                return 0;
        }

        if (n == 0 || n > SECCOMP_POLICY_MAX_NAME ||
            strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
                return parse_error(ps,
                                   "invalid syscall name '%s' (expected [a-z0-9_], at most %u characters)",
                                   token_str(name, b), SECCOMP_POLICY_MAX_NAME);

        w = next_token(&p);
        if (w && w[0] != '[') {
                r = parse_action(ps, w, &p, &action);
                if (r < 0)
                        return r;
                w = next_token(&p);
        }
        for (; w; w = next_token(&p)) {
                if (w[0] != '[')
                        return parse_error(
                                ps, "unexpected '%s' (expected an argument condition [INDEX,VALUE,OP])",
                                token_str(w, b));
                if (n_args >= SECCOMP_POLICY_MAX_ARGS)
                        return parse_error(ps, "too many argument conditions at '%s' (at most %u)",
                                           token_str(w, b), SECCOMP_POLICY_MAX_ARGS);
                r = parse_arg(ps, w, &args[n_args]);
                if (r < 0)
                        return r;
                n_args++;
        }

        r = add_rule(ps, &rule);
        if (r < 0)
                return r;
        rule->name = strdup(name);
        if (!rule->name)
                return warren_error_set(ps->reterr, ENOMEM, "Out of memory");
        rule->action = action;
        memcpy(rule->args, args, n_args * sizeof(SeccompArgCmp));
        rule->n_args = n_args;
        return 0;
}

/* Drops a comment and the blanks around what is left. */
static char *strip_line(char *line) {
        line[strcspn(line, "#")] = 0;
        return strip_blanks(line);
}

int seccomp_policy_parse(const char *text, size_t size, const char *origin, SeccompPolicy **ret,
                         WarrenError *reterr) {
        _cleanup_seccomp_policy_ SeccompPolicy *pol = NULL;
        char buf[SECCOMP_POLICY_MAX_LINE + 1];
        enum {
                WANT_VERSION,
                WANT_TYPE,
                WANT_RULES
        } state = WANT_VERSION;
        Parser ps = { .origin = origin ? origin : "<string>", .reterr = reterr };
        unsigned version_line = 0;
        int r = 0;

        assert(text || size == 0);
        assert(ret);

        if (size > SECCOMP_POLICY_MAX_SIZE)
                return warren_error_set(reterr, EFBIG, "%s: %zu bytes, more than the limit of %u (1 MiB)",
                                        ps.origin, size, SECCOMP_POLICY_MAX_SIZE);
        pol = calloc(1, sizeof(SeccompPolicy));
        if (!pol)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        pol->origin = strdup(ps.origin);
        if (!pol->origin)
                return warren_error_set(reterr, ENOMEM, "Out of memory");
        ps.policy = pol;

        for (size_t pos = 0; pos < size && r >= 0;) {
                const char *start = text + pos, *nl = memchr(start, '\n', size - pos);
                size_t len = nl ? (size_t) (nl - start) : size - pos;

                pos += len + 1;
                ps.line++;
                if (len > SECCOMP_POLICY_MAX_LINE) {
                        r = parse_error(&ps, "line too long (%zu bytes, at most %u)", len,
                                        SECCOMP_POLICY_MAX_LINE);
                        break;
                }
                if (memchr(start, 0, len)) {
                        r = parse_error(&ps, "contains a NUL byte");
                        break;
                }
                memcpy(buf, start, len);
                buf[len] = 0;
                char *line = strip_line(buf);
                if (!*line)
                        continue;

                switch (state) {
                case WANT_VERSION:
                        r = parse_version(&ps, line);
                        version_line = ps.line;
                        state = WANT_TYPE;
                        break;
                case WANT_TYPE:
                        r = parse_list_type(&ps, line);
                        state = WANT_RULES;
                        break;
                case WANT_RULES:
                        if (pol->version == 1)
                                r = parse_rule_v1(&ps, line);
                        else if (line[0] == '[')
                                r = parse_section(&ps, line);
                        else
                                r = parse_rule_v2(&ps, line);
                        break;
                }
        }
        free(ps.arch);
        if (r < 0)
                return r;
        if (state == WANT_VERSION)
                return warren_error_set(reterr, EINVAL,
                                        "%s: empty seccomp policy (expected a version line, 1 or 2)",
                                        ps.origin);
        if (state == WANT_TYPE)
                return warren_error_set(
                        reterr, EINVAL,
                        "%s:%u: missing list type after the version line (expected allowlist or denylist)",
                        ps.origin, version_line + 1);
        *ret = TAKE_PTR(pol);
        return 0;
}

int seccomp_policy_load(const char *path, SeccompPolicy **ret, WarrenError *reterr) {
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t size = 0;
        int r;

        assert(path);
        assert(ret);

        /* O_NONBLOCK: a FIFO must not hang us before fstat() refuses it. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                return warren_error_set(reterr, r, "Failed to open seccomp policy '%s': %s", path,
                                        strerror(-r));
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                return warren_error_set(reterr, r, "Failed to stat seccomp policy '%s': %s", path,
                                        strerror(-r));
        }
        if (S_ISDIR(st.st_mode))
                return warren_error_set(reterr, EISDIR, "Seccomp policy '%s' is a directory, not a file",
                                        path);
        if (!S_ISREG(st.st_mode))
                return warren_error_set(reterr, EINVAL, "Seccomp policy '%s' is not a regular file", path);
        if (st.st_size > (off_t) SECCOMP_POLICY_MAX_SIZE)
                return warren_error_set(
                        reterr, EFBIG,
                        "Seccomp policy '%s' is %lld bytes, more than the limit of %u (1 MiB)", path,
                        (long long) st.st_size, SECCOMP_POLICY_MAX_SIZE);
        /* One byte of room: read_full_fd() refuses a file that fills its limit exactly. */
        r = read_full_fd(fd, SECCOMP_POLICY_MAX_SIZE + 1, &text, &size);
        if (r == -EFBIG || (r >= 0 && size > SECCOMP_POLICY_MAX_SIZE))
                return warren_error_set(reterr, EFBIG,
                                        "Seccomp policy '%s' grew past the limit of %u bytes (1 MiB)", path,
                                        SECCOMP_POLICY_MAX_SIZE);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to read seccomp policy '%s': %s", path,
                                        strerror(-r));
        return seccomp_policy_parse(text, size, path, ret, reterr);
}
