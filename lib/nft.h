/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* NAT for managed networks through libnftables: table "ip warren", one
 * base chain "nat-NETWORK" (postrouting, srcnat) per network holding
 * "ip saddr SUBNET ip daddr != SUBNET masquerade", like lxc-net does with
 * iptables. The table is removed with its last chain. Everything acts in
 * the caller's network namespace. */

#include "basic/error.h"

/* Adds or replaces (atomically) the network's chain. network: a network
 * name ([A-Za-z][A-Za-z0-9_-]*); subnet: an IPv4 CIDR, host bits allowed
 * ("192.168.5.1/24" masquerades 192.168.5.0/24). */
int nft_nat_add(const char *network, const char *subnet, WarrenError *reterr);
/* Removes the network's chain (0 if there was none, 1 if removed) and the
 * table once it is empty. */
int nft_nat_remove(const char *network, WarrenError *reterr);
/* 1 if the network's chain exists with a masquerade rule, 0 if not. */
int nft_nat_present(const char *network, WarrenError *reterr);

/* Runs nft commands (one transaction); *ret_output (may be NULL) gets
 * what nft printed. -ENOENT if nft said "No such file or directory",
 * else -EINVAL/-EPERM/...; the message quotes nft's first error line. */
int nft_exec(const char *commands, char **ret_output, WarrenError *reterr);
