/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Text from elsewhere (an image server's create-message, an error naming
 * what a server sent) made safe for a terminal and for D-Bus: C0 control
 * characters other than newline and tab, DEL, C1 controls (U+0080..U+009F)
 * and bytes that are not valid UTF-8 become "\xNN" (one per byte).
 * Idempotent (backslashes are left alone), so a client may apply it again
 * to what warrend already escaped. At most max input bytes are read (0:
 * all). malloc'd; NULL on ENOMEM. */
char *escape_untrusted_text(const char *s, size_t max);
