/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "basic/error.h"

#define WARREN_ERROR_NO_SUCH_CONTAINER "org.warren1.Error.NoSuchContainer"
#define WARREN_ERROR_ALREADY_EXISTS "org.warren1.Error.AlreadyExists"
#define WARREN_ERROR_INVALID_NAME "org.warren1.Error.InvalidName"
#define WARREN_ERROR_INVALID_CONFIG "org.warren1.Error.InvalidConfig"
#define WARREN_ERROR_NOT_RUNNING "org.warren1.Error.NotRunning"
#define WARREN_ERROR_ALREADY_RUNNING "org.warren1.Error.AlreadyRunning"
#define WARREN_ERROR_BUSY "org.warren1.Error.Busy"
#define WARREN_ERROR_QUOTA_EXCEEDED "org.warren1.Error.QuotaExceeded"
#define WARREN_ERROR_NO_SUCH_IMAGE "org.warren1.Error.NoSuchImage"
#define WARREN_ERROR_DOWNLOAD_FAILED "org.warren1.Error.DownloadFailed"
#define WARREN_ERROR_VERIFICATION_FAILED "org.warren1.Error.VerificationFailed"
/* That container's monitor missed its deadline; every other container is
 * still served. */
#define WARREN_ERROR_UNRESPONSIVE "org.warren1.Error.Unresponsive"

/* The one place errno becomes a bus error: maps r (negative errno) and the
 * WarrenError's message to an org.warren1.Error.* name (or a generic one),
 * sets error and returns r for "return bus_error_from_warren(...)". */
int bus_error_from_warren(sd_bus_error *error, int r, const WarrenError *e);
/* The same, for calls that take config input or read a container's files:
 * EINVAL and EBADMSG become InvalidConfig, and so do a file that is
 * missing or of the wrong type (ENOENT, ENOTDIR, EISDIR, ELOOP): a
 * damaged container is not a missing one. */
int bus_error_from_config(sd_bus_error *error, int r, const WarrenError *e);
/* Registers the errno mapping with sd-bus (so a handler's bare -errno
 * also maps). */
void bus_error_register_mapping(void);
