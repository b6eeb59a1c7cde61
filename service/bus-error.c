/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "bus-error.h"

/* lib/ reports by errno; these are the errnos it uses for each condition. */
static const sd_bus_error_map warren_error_map[] = {
        SD_BUS_ERROR_MAP(WARREN_ERROR_NO_SUCH_CONTAINER, ENOENT),
        SD_BUS_ERROR_MAP(WARREN_ERROR_ALREADY_EXISTS, EEXIST),
        SD_BUS_ERROR_MAP(WARREN_ERROR_INVALID_CONFIG, EBADMSG),
        SD_BUS_ERROR_MAP(WARREN_ERROR_NOT_RUNNING, ESRCH),
        SD_BUS_ERROR_MAP(WARREN_ERROR_ALREADY_RUNNING, EALREADY),
        SD_BUS_ERROR_MAP(WARREN_ERROR_BUSY, EBUSY),
        SD_BUS_ERROR_MAP(WARREN_ERROR_QUOTA_EXCEEDED, EDQUOT),
        SD_BUS_ERROR_MAP(WARREN_ERROR_NO_SUCH_IMAGE, ENOMEDIUM),
        SD_BUS_ERROR_MAP(WARREN_ERROR_DOWNLOAD_FAILED, ECOMM),
        SD_BUS_ERROR_MAP(WARREN_ERROR_VERIFICATION_FAILED, EBADE),
        SD_BUS_ERROR_MAP(WARREN_ERROR_UNRESPONSIVE, EHOSTDOWN),
        SD_BUS_ERROR_MAP(SD_BUS_ERROR_ACCESS_DENIED, EACCES),
        SD_BUS_ERROR_MAP(SD_BUS_ERROR_ACCESS_DENIED, EPERM),
        SD_BUS_ERROR_MAP(SD_BUS_ERROR_NOT_SUPPORTED, EOPNOTSUPP),
        SD_BUS_ERROR_MAP(SD_BUS_ERROR_INVALID_ARGS, EINVAL),
        SD_BUS_ERROR_MAP(SD_BUS_ERROR_NO_MEMORY, ENOMEM),
        SD_BUS_ERROR_MAP_END,
};

void bus_error_register_mapping(void) {
        (void) sd_bus_error_add_map(warren_error_map);
}

static const char *error_name_for_errno(int err) {
        for (const sd_bus_error_map *m = warren_error_map; m->name; m++)
                if (m->code == err)
                        return m->name;
        return SD_BUS_ERROR_FAILED;
}

int bus_error_from_warren(sd_bus_error *error, int r, const WarrenError *e) {
        if (r >= 0)
                r = -EIO;
        int err = -r;
        const char *msg = e && e->error != 0 ? warren_error_message(e) : strerror(err);
        sd_bus_error_set(error, error_name_for_errno(err), msg);
        return r;
}

int bus_error_from_config(sd_bus_error *error, int r, const WarrenError *e) {
        /* The config parser reports bad values as EINVAL as well as EBADMSG. */
        if (r == -EINVAL || r == -EBADMSG || r == -ENOENT || r == -ENOTDIR || r == -EISDIR || r == -ELOOP) {
                sd_bus_error_set(error, WARREN_ERROR_INVALID_CONFIG,
                                 e && e->error != 0 ? warren_error_message(e) : "Invalid configuration");
                return r;
        }
        return bus_error_from_warren(error, r, e);
}
