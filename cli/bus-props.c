/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "warrenctl.h"

static int read_one(sd_bus_message *m, const struct bus_properties_map *p, void *userdata) {
        void *dst = (uint8_t *) userdata + p->offset;
        const char *s;
        int r = sd_bus_message_enter_container(m, 'v', p->signature);
        if (r < 0)
                return r;
        switch (p->signature[0]) {
        case 's':
                r = sd_bus_message_read(m, "s", &s);
                if (r >= 0) {
                        free(*(char **) dst);
                        *(char **) dst = strdup(s);
                        if (!*(char **) dst)
                                return -ENOMEM;
                }
                break;
        case 'u':
                r = sd_bus_message_read(m, "u", (uint32_t *) dst);
                break;
        case 'b':
                r = sd_bus_message_read(m, "b", (int *) dst);
                break;
        case 't':
                r = sd_bus_message_read(m, "t", (uint64_t *) dst);
                break;
        case 'a':
                strv_free(*(char ***) dst);
                *(char ***) dst = NULL;
                r = sd_bus_message_read_strv(m, (char ***) dst);
                break;
        default:
                r = -EINVAL;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int bus_map_all_properties(sd_bus *bus, const char *path, const char *iface,
                           const struct bus_properties_map *map, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_call_method(bus, WARREN_BUS, path, "org.freedesktop.DBus.Properties", "GetAll", NULL,
                                   &reply, "s", iface);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *member;
                const struct bus_properties_map *p;
                r = sd_bus_message_read(reply, "s", &member);
                if (r < 0)
                        return r;
                for (p = map; p->member; p++)
                        if (streq(p->member, member))
                                break;
                if (p->member)
                        r = read_one(reply, p, userdata);
                else
                        r = sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        return r;
}
