/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* warrenctl network create|delete|list|info (verbs-network.c), a client of
 * Manager.{Create,Delete,List}Networks and the org.warren1.Network objects.
 *
 * Wiring in warrenctl.c: NETWORK_OPTIONS in the option table (long options
 * only), the NETWORK_ARG_* codes to parse_network_option(), verbs_network[]
 * in the verb lookup, and network_options_check(verb) once the verb is known: the create options
 * mean nothing to any other verb. */

#include <stdbool.h>

#include "warrenctl.h"

#define WARREN_NETWORK_IFACE "org.warren1.Network"

extern const Verb verbs_network[];
/* 0, or -EINVAL after printing what was wrong. */
int parse_network_option(int c, const char *arg);
/* 0 if no network option was given or verb is "network", else -EINVAL
 * after printing which option does not belong. */
int network_options_check(const char *verb);

enum {
        NETWORK_ARG_IPV4 = 0x400,
        NETWORK_ARG_NAT,
        NETWORK_ARG_DHCP,
        NETWORK_ARG_DHCP_RANGE,
        NETWORK_ARG_NO_DNS,
        NETWORK_ARG_UPLINK,
        NETWORK_ARG_FORCE,
};
/* clang-format off */
#define NETWORK_OPTIONS                                                          \
        { "ipv4", required_argument, NULL, NETWORK_ARG_IPV4 },                   \
        { "nat", no_argument, NULL, NETWORK_ARG_NAT },                           \
        { "dhcp", no_argument, NULL, NETWORK_ARG_DHCP },                         \
        { "dhcp-range", required_argument, NULL, NETWORK_ARG_DHCP_RANGE },       \
        { "no-dns", no_argument, NULL, NETWORK_ARG_NO_DNS },                     \
        { "uplink", required_argument, NULL, NETWORK_ARG_UPLINK },               \
        { "force", no_argument, NULL, NETWORK_ARG_FORCE }
/* clang-format on */
