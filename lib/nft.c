/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "netlink.h"
#include "nft.h"
#include "basic/log.h"

#define NFT_TABLE "ip warren"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nft_ctx *, nft_ctx_free);

static bool chain_name_is_valid(const char *network) {
        /* Unquoted nft identifiers: nft 1.0 does not take quoted chain names. */
        if (!network ||
            !((network[0] >= 'a' && network[0] <= 'z') || (network[0] >= 'A' && network[0] <= 'Z')) ||
            strlen(network) > 64)
                return false;
        return strspn(network, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
               strlen(network);
}

/* The errno nft's message stands for, for callers that tell "absent" apart. */
static int nft_error_errno(const char *msg) {
        if (strstr(msg, "No such file or directory"))
                return ENOENT;
        if (strstr(msg, "Operation not permitted"))
                return EPERM;
        if (strstr(msg, "File exists"))
                return EEXIST;
        if (strstr(msg, "Device or resource busy"))
                return EBUSY;
        if (strstr(msg, "Operation not supported") || strstr(msg, "Could not process rule"))
                return EOPNOTSUPP;
        return EINVAL;
}

int nft_exec(const char *commands, char **ret_output, WarrenError *reterr) {
        _cleanup_(nft_ctx_freep) struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!ctx || nft_ctx_buffer_output(ctx) < 0 || nft_ctx_buffer_error(ctx) < 0)
                return warren_error_set(reterr, ENOMEM, "Failed to set up libnftables");
        if (nft_run_cmd_from_buffer(ctx, commands) != 0) {
                const char *msg = nft_ctx_get_error_buffer(ctx);
                msg = isempty(msg) ? "unknown error" : msg;
                int len = (int) strcspn(msg, "\n");
                log_debug("nft failed: %s\nfor: %s", msg, commands);
                return warren_error_set(reterr, nft_error_errno(msg), "nftables: %.*s (in '%.*s')", len, msg,
                                        (int) strcspn(commands, "\n"), commands);
        }
        if (ret_output) {
                char *out = strdup(strempty(nft_ctx_get_output_buffer(ctx)));
                if (!out)
                        return warren_error_set(reterr, ENOMEM, "Out of memory");
                *ret_output = out;
        }
        return 0;
}

int nft_nat_add(const char *network, const char *subnet, WarrenError *reterr) {
        char net[INET_ADDRSTRLEN], cmds[1024];
        NlAddr a;

        if (!chain_name_is_valid(network))
                return warren_error_set(reterr, EINVAL, "Invalid network name '%s' for an nft chain",
                                        strempty(network));
        int r = netlink_addr_parse(AF_INET, subnet, &a, reterr);
        if (r < 0)
                return r;
        if (!strchr(subnet, '/'))
                return warren_error_set(reterr, EINVAL, "Invalid subnet '%s': must be ADDRESS/PREFIX",
                                        subnet);
        for (unsigned bit = a.prefixlen; bit < 32; bit++)
                a.addr[bit / 8] &= (uint8_t) ~(0x80U >> (bit % 8));
        netlink_addr_to_string(AF_INET, a.addr, net, sizeof net);
        snprintf(cmds, sizeof cmds,
                 "add table " NFT_TABLE "\n"
                 "add chain " NFT_TABLE
                 " nat-%1$s { type nat hook postrouting priority srcnat; policy accept; }\n"
                 "flush chain " NFT_TABLE " nat-%1$s\n"
                 "add rule " NFT_TABLE " nat-%1$s ip saddr %2$s/%3$u ip daddr != %2$s/%3$u masquerade "
                 "comment \"warren network %1$s\"\n",
                 network, net, a.prefixlen);
        r = nft_exec(cmds, NULL, reterr);
        if (r < 0)
                warren_error_prefix(reterr, "NAT for network '%s'", network);
        return r;
}

int nft_nat_present(const char *network, WarrenError *reterr) {
        _cleanup_free_ char *out = NULL;
        char cmd[128];
        if (!chain_name_is_valid(network))
                return warren_error_set(reterr, EINVAL, "Invalid network name '%s' for an nft chain",
                                        strempty(network));
        snprintf(cmd, sizeof cmd, "list chain " NFT_TABLE " nat-%s", network);
        WarrenError e = WARREN_ERROR_NULL;
        int r = nft_exec(cmd, &out, &e);
        if (r == -ENOENT) {
                warren_error_clear(&e);
                return 0;
        }
        if (r < 0) {
                r = warren_error_set(reterr, r, "%s", warren_error_message(&e));
                warren_error_clear(&e);
                return r;
        }
        return strstr(out, " masquerade") != NULL;
}

int nft_nat_remove(const char *network, WarrenError *reterr) {
        _cleanup_free_ char *out = NULL;
        char cmd[128];
        int r = nft_nat_present(network, reterr), removed = 0;
        if (r < 0)
                return r;
        snprintf(cmd, sizeof cmd, "list chain " NFT_TABLE " nat-%s", network);
        WarrenError e = WARREN_ERROR_NULL;
        /* Present without a masquerade rule still needs removing. */
        if (r > 0 || nft_exec(cmd, NULL, &e) >= 0) {
                snprintf(cmd, sizeof cmd, "delete chain " NFT_TABLE " nat-%s", network);
                r = nft_exec(cmd, NULL, reterr);
                if (r < 0)
                        return r;
                removed = 1;
        }
        warren_error_clear(&e);
        r = nft_exec("list table " NFT_TABLE, &out, &e);
        warren_error_clear(&e);
        if (r >= 0 && !strstr(out, "chain ")) {
                r = nft_exec("delete table " NFT_TABLE, NULL, reterr);
                if (r < 0)
                        return r;
        }
        return removed;
}
