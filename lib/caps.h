/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Capabilities of a container's init, from lxc.cap.drop / lxc.cap.keep.
 *
 * The result is a keep mask: bit N set = capability N stays. Names are
 * accepted as "sys_module", "SYS_MODULE" or "cap_sys_module" (or a number),
 * several per config value separated by blanks, as LXC writes them.
 *   - lxc.cap.keep: only the listed capabilities stay; "none" forgets the
 *     names before it, so "lxc.cap.keep = none" alone drops everything;
 *   - lxc.cap.drop: every capability the kernel knows stays but those;
 *   - both set: an error, as in LXC;
 *   - neither set: CAPS_DEFAULT_DROP is dropped (LXC's common.conf list). */

#include <stdint.h>

#include "basic/error.h"

typedef struct LxcConfig LxcConfig;

#define CAPS_DEFAULT_DROP "mac_admin mac_override sys_time sys_module sys_rawio"

/* The highest capability number the running kernel knows. */
unsigned caps_last_cap(void);

/* Parses one capability name; -EINVAL naming it if unknown or above last_cap. */
int caps_parse_name(const char *name, unsigned last_cap, unsigned *ret_cap, WarrenError *reterr);

/* Computes the keep mask from the values of lxc.cap.drop and lxc.cap.keep
 * (either may be NULL or empty) for a kernel whose last capability is
 * last_cap (<= 63). Pure: reads nothing from the system. */
int caps_compute(char *const *drop, char *const *keep, unsigned last_cap, uint64_t *ret_keep,
                 WarrenError *reterr);

/* caps_compute() on a config's lxc.cap.drop / lxc.cap.keep and this kernel. */
int caps_from_config(const LxcConfig *c, uint64_t *ret_keep, WarrenError *reterr);

/* "chown dac_override ...": the names in mask, blank-separated, lowercase
 * without "cap_"; NULL on ENOMEM. */
char *caps_mask_to_string(uint64_t mask, unsigned last_cap);

/* In the container's child, just before exec: drops every capability not in
 * keep from the bounding set (PR_CAPBSET_DROP), then from the permitted,
 * effective and inheritable sets, and clears the ambient set. Needs
 * CAP_SETPCAP (dropped last). Allocates (libcap); no threads involved. */
int caps_apply(uint64_t keep, WarrenError *reterr);
