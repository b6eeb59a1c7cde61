/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The text of an lxc.seccomp.profile file, parsed into rules. Pure text:
 * lib/seccomp.c turns a SeccompPolicy into a BPF filter with libseccomp.
 *
 * Version 1 ("1", then "allowlist" or "whitelist", then syscall numbers,
 * one a line) allows the listed numbers and kills everything else.
 *
 * Version 2:
 *
 *   2
 *   denylist [ACTION]          (or blacklist, allowlist, whitelist)
 *   reject_force_umount        # a comment
 *   [x86_64]
 *   NAME [ACTION] [INDEX,VALUE,OP] [INDEX,VALUE,&=,MASK] ...
 *
 * ACTION is kill, allow, trap, log or "errno N". A deny list allows what no
 * rule matches and kills what a rule without action matches; an allow list
 * the other way round; the ACTION after the list type overrides the former.
 * "[ARCH]" starts a section of rules for that architecture, "[all]" (or no
 * section) is every architecture. Argument conditions read as in LXC: for
 * MASKED_EQ, "[I,VALUE,&=,MASK]" matches when (arg I & MASK) == VALUE, and
 * is stored as value = MASK, value2 = VALUE (libseccomp's datum_a/datum_b).
 * reject_force_umount stands for "umount2 errno 13 [1,2,&=,2]".
 *
 * Unlike LXC, anything it does not understand is an error naming the
 * origin, line and word, never skipped. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/macro.h"

#define SECCOMP_POLICY_MAX_SIZE (1024U * 1024U)
#define SECCOMP_POLICY_MAX_RULES 4096U
#define SECCOMP_POLICY_MAX_LINE 4096U
#define SECCOMP_POLICY_MAX_ARGS 6U
#define SECCOMP_POLICY_MAX_ERRNO 4095
#define SECCOMP_POLICY_MAX_NUMBER 4095L /* version 1 syscall numbers */
#define SECCOMP_POLICY_MAX_NAME 64U

typedef enum SeccompActionType {
        SECCOMP_POLICY_ALLOW,
        SECCOMP_POLICY_KILL,
        SECCOMP_POLICY_TRAP,
        SECCOMP_POLICY_LOG,
        SECCOMP_POLICY_ERRNO,
} SeccompActionType;

typedef struct SeccompAction {
        SeccompActionType type;
        int errno_value; /* SECCOMP_POLICY_ERRNO only: 0..4095 */
} SeccompAction;

typedef enum SeccompCmpOp {
        SECCOMP_POLICY_CMP_NE,
        SECCOMP_POLICY_CMP_LT,
        SECCOMP_POLICY_CMP_LE,
        SECCOMP_POLICY_CMP_EQ,
        SECCOMP_POLICY_CMP_GE,
        SECCOMP_POLICY_CMP_GT,
        SECCOMP_POLICY_CMP_MASKED_EQ,
} SeccompCmpOp;

typedef struct SeccompArgCmp {
        unsigned index; /* 0..5 */
        SeccompCmpOp op;
        uint64_t value;  /* the mask for MASKED_EQ */
        uint64_t value2; /* the datum for MASKED_EQ, else 0 */
} SeccompArgCmp;

typedef struct SeccompRule {
        char *name;  /* syscall name, NULL when given by number (v1) */
        long number; /* v1: the syscall number; -1 otherwise */
        char *arch;  /* NULL: every arch; else lower case, "amd64" → "x86_64" */
        SeccompAction action;
        SeccompArgCmp args[6];
        size_t n_args;
        unsigned line; /* 1-based, for messages */
} SeccompRule;

typedef struct SeccompPolicy {
        unsigned version;             /* 1 or 2 */
        bool allowlist;               /* true: allowlist/whitelist; false: denylist/blacklist */
        SeccompAction default_action; /* for syscalls no rule matches */
        SeccompRule *rules;
        size_t n_rules;
        char *origin; /* file path or label, for messages */
} SeccompPolicy;

/* Parses text (size bytes, need not be NUL-terminated). origin names it in
 * messages ("<string>" if NULL). Garbage: -EINVAL and a message
 * "<origin>:<line>: ..." naming the bad word. */
int seccomp_policy_parse(const char *text, size_t size, const char *origin, SeccompPolicy **ret,
                         WarrenError *reterr);
/* Reads and parses a file (regular file only, at most 1 MiB, else -EFBIG). */
int seccomp_policy_load(const char *path, SeccompPolicy **ret, WarrenError *reterr);
SeccompPolicy *seccomp_policy_free(SeccompPolicy *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(SeccompPolicy *, seccomp_policy_free);
#define _cleanup_seccomp_policy_ _cleanup_(seccomp_policy_freep)

/* warren's built-in profile, used when lxc.seccomp.profile is unset: LXC's
 * common.seccomp deny list, as text in the format above. */
const char *seccomp_policy_default_text(void);
/* "allow", "kill", "trap", "log", "errno"; NULL if out of range. */
const char *seccomp_action_to_string(SeccompActionType t);
/* "SCMP_CMP_NE" ... "SCMP_CMP_MASKED_EQ"; NULL if out of range. */
const char *seccomp_cmp_op_to_string(SeccompCmpOp op);
