/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "basic/error.h"

#define CONTAINER_NAME_MAX 64

/* [A-Za-z0-9][A-Za-z0-9_.-]{0,63}, never "." or "..". On failure returns
 * -EINVAL and the message says which rule failed, naming the value
 * (escaped if it holds non-printable bytes). */
int container_name_validate(const char *name, WarrenError *reterr);
static inline bool container_name_is_valid(const char *name) {
        return container_name_validate(name, NULL) >= 0;
}
