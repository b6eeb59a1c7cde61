/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Internal: the table of LXC config keys, legacy renames and value checks.
 * Used by config.c only (and by its unit test). */

#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"

typedef enum LxcKeyKind {
        LXC_KIND_SCALAR, /* the last value wins; empty removes */
        LXC_KIND_LIST,   /* values append; empty removes all */
        LXC_KIND_CLEAR,  /* only "key =" is valid: clears the key's group */
} LxcKeyKind;

/* Keys that a bare "lxc.<group> =" clears together. */
typedef enum LxcKeyGroup {
        LXC_GROUP_NONE,
        LXC_GROUP_NET,
        LXC_GROUP_HOOK,
        LXC_GROUP_CGROUP,
        LXC_GROUP_CGROUP2,
        LXC_GROUP_SYSCTL,
        LXC_GROUP_PRLIMIT,
        LXC_GROUP_PROC,
} LxcKeyGroup;

typedef struct LxcKeyInfo {
        const char *name; /* full key; for prefix entries e.g. "lxc.sysctl." */
        uint8_t kind;     /* LxcKeyKind */
        uint8_t type;     /* value check, private to config-keys.c */
        uint8_t group;    /* LxcKeyGroup */
        bool prefix;      /* name is followed by a free suffix */
} LxcKeyInfo;

/* A resolved key: its table entry, and the NIC index for lxc.net.N.* (else
 * -1). "lxc.net.N" itself resolves to a LXC_KIND_CLEAR entry with nic N. */
typedef struct LxcKey {
        const LxcKeyInfo *info;
        int nic;
} LxcKey;

/* Whether key is an un-indexed legacy lxc.network.<sub> key, which needs the
 * NIC context (is_type: it is lxc.network.type, which starts a new NIC). */
bool lxc_key_is_legacy_net(const char *key, bool *ret_is_type);

/* Resolves key (today's or a legacy name) to its canonical name and table
 * entry. Un-indexed legacy lxc.network.* keys go to NIC legacy_nic (< 0: an
 * error, no NIC yet). Returns 1 with *ret_name malloc'd, 0 if the key is
 * obsolete and is to be ignored (*ret_name = NULL), or -EINVAL with
 * "unknown key 'K'" (or a bad NIC index) in reterr. */
int lxc_key_resolve(const char *key, int legacy_nic, char **ret_name, LxcKey *ret, WarrenError *reterr);

/* Checks a non-empty value for a resolved key.
 * Error: -EINVAL, "invalid value 'V' for 'K': why". */
int lxc_value_check(const LxcKey *k, const char *key, const char *value, WarrenError *reterr);

/* Whether the tables are sorted as the binary search needs (unit test). */
bool lxc_keys_table_sorted(void);
