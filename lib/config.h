/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* LXC container configuration: LXC's own file format ("lxc.key = value"),
 * read so that a config written for LXC 5 loads unchanged, and written back
 * in the same format with today's key names.
 *
 * A config is an ordered list of items (key, value) with normalized key
 * names. Applying an item follows LXC's semantics:
 *   - scalar key: replaces the previous value; an empty value removes it;
 *   - list key (lxc.cap.drop, lxc.mount.entry, lxc.environment, lxc.idmap,
 *     lxc.hook.*, lxc.cgroup2.devices.allow, lxc.include, ...): appends;
 *     an empty value removes every item of that key;
 *   - lxc.net.N.type starts NIC N afresh (removes every lxc.net.N.* item);
 *     "lxc.net.N =" removes NIC N (only an empty value is valid there);
 *   - prefix keys (lxc.cgroup.*, lxc.cgroup2.*, lxc.sysctl.*, lxc.prlimit.*)
 *     are scalars per full key; "lxc.cgroup2 =" style empty clears the prefix;
 *   - legacy names are rewritten (lxc.utsname -> lxc.uts.name, lxc.rootfs ->
 *     lxc.rootfs.path, lxc.network.* -> lxc.net.N.*, ...).
 * Formatting writes the items in order; parse -> format -> parse is a fixed
 * point. */

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"
#include "basic/macro.h"

typedef struct LxcConfig LxcConfig;

typedef enum LxcIncludeMode {
        /* Record "lxc.include" as an ordinary list item; never open it. */
        LXC_INCLUDE_KEEP,
        /* Open included files (or directories of *.conf, sorted) and apply
         * their items in place of the include line; the include item itself
         * is not recorded. A missing file is an error, a missing directory
         * (path ending in '/' or naming a dir) is ignored, like LXC. */
        LXC_INCLUDE_EXPAND,
} LxcIncludeMode;

typedef struct LxcParseOptions {
        LxcIncludeMode include_mode;
        /* If set, absolute include paths are looked up beneath this directory
         * (e.g. a test tree standing in for /). */
        const char *root;
        /* If non-NULL, lxc.include may only name paths under one of these
         * directories (checked lexically after normalizing, before anything is
         * opened). Applies in both modes. Violations: -EPERM. */
        char *const *include_allow;
        /* Nesting limit for includes; 0 means the default (16). */
        unsigned max_depth;
        /* Replace each 'x' in lxc.net.N.hwaddr values with a random hex digit
         * (what LXC does when it reads default.conf at create). */
        bool fill_hwaddr;
} LxcParseOptions;

/* Limits on what a caller can make us allocate. */
#define LXC_CONFIG_MAX_SIZE (4U * 1024U * 1024U) /* one file */
#define LXC_CONFIG_MAX_LINE (64U * 1024U)        /* one line */
#define LXC_CONFIG_MAX_ITEMS 8192U
#define LXC_CONFIG_MAX_NET_INDEX 255U

LxcConfig *lxc_config_new(void);
LxcConfig *lxc_config_free(LxcConfig *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(LxcConfig *, lxc_config_free);
#define _cleanup_lxc_config_ _cleanup_(lxc_config_freep)
LxcConfig *lxc_config_copy(const LxcConfig *c);

/* Parses text (need not be NUL-terminated; embedded NUL bytes are an error)
 * and applies its items to c. filename is used in messages and to resolve
 * relative includes (NULL: "<string>", relative to the cwd).
 * Errors: -EINVAL/-EBADMSG with "FILE:LINE: ..." naming the key or value;
 * on error c is left unchanged. */
int lxc_config_parse(LxcConfig *c, const char *text, size_t len, const char *filename,
                     const LxcParseOptions *opts, WarrenError *reterr);
/* Reads path (at most LXC_CONFIG_MAX_SIZE) and parses it. */
int lxc_config_load(LxcConfig *c, const char *path, const LxcParseOptions *opts, WarrenError *reterr);

/* Applies one item as if it were a line "key = value" appended to the
 * config (normalizing legacy names, validating the value), and only if it
 * would start: config_check_item() (config-check.h), in the context of c.
 * A file may hold what LXC loads; what is set through the API must start.
 * On error c is unchanged and the message names the key and value. */
int lxc_config_apply(LxcConfig *c, const char *key, const char *value, WarrenError *reterr);

size_t lxc_config_n_items(const LxcConfig *c);
/* Borrowed pointers, valid until c is modified. */
void lxc_config_item(const LxcConfig *c, size_t i, const char **ret_key, const char **ret_value);
/* Whether item i was read from an included file (LXC_INCLUDE_EXPAND), not
 * from the file or text parsed itself or set by lxc_config_apply(). */
bool lxc_config_item_included(const LxcConfig *c, size_t i);
/* The value of a scalar key (the last one), or NULL if unset. */
const char *lxc_config_get(const LxcConfig *c, const char *key);
/* Every value of key in order (a list key), or an empty strv. NULL on ENOMEM. */
char **lxc_config_get_all(const LxcConfig *c, const char *key);
/* Items whose key starts with prefix, as a strv of alternating key, value. */
char **lxc_config_get_prefix(const LxcConfig *c, const char *prefix);
/* Removes every item of key (exact match). Returns how many were removed. */
size_t lxc_config_unset(LxcConfig *c, const char *key);
/* Number of NICs = highest N used in lxc.net.N.* plus one (0 if none). */
unsigned lxc_config_net_count(const LxcConfig *c);

/* The config in LXC's format, one "key = value" line per item; NULL on ENOMEM. */
char *lxc_config_format(const LxcConfig *c);

/* Key table queries. */
/* Normalizes a single key name (legacy -> current) without a NIC context;
 * returns a malloc'd string, or NULL with reterr set if the key is unknown. */
char *lxc_key_normalize(const char *key, WarrenError *reterr);
bool lxc_key_is_known(const char *key);
bool lxc_key_is_list(const char *key);
