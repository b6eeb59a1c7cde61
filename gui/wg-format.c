/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gio/gio.h>
#include <math.h>
#include <string.h>
#include <sys/utsname.h>

#include "wg-format.h"

/* Rates are averaged with this time constant: short enough to follow a
 * stall, long enough that the ETA does not jump at every signal (warrend
 * sends at most 5 a second). */
#define RATE_TAU_S 3.0
/* No new byte for this long: say so rather than show an old rate. */
#define STALL_S 5

void wg_rate_meter_reset(WgRateMeter *m) {
        *m = (WgRateMeter){ 0 };
}

void wg_rate_meter_add(WgRateMeter *m, gint64 now_us, guint64 bytes) {
        if (m->last_us == 0 || bytes < m->last_bytes) {
                wg_rate_meter_reset(m);
                m->last_us = m->moved_us = now_us;
                m->last_bytes = bytes;
                return;
        }
        if (bytes > m->last_bytes)
                m->moved_us = now_us;
        double dt = (double) (now_us - m->last_us) / G_USEC_PER_SEC;
        if (dt <= 0.05)
                return; /* too close to say anything; keep the older sample */
        double instant = (double) (bytes - m->last_bytes) / dt;
        if (!m->has_rate) {
                m->rate = instant;
                m->has_rate = TRUE;
        } else {
                double alpha = 1.0 - exp(-dt / RATE_TAU_S);
                m->rate += alpha * (instant - m->rate);
        }
        m->last_us = now_us;
        m->last_bytes = bytes;
}

char *wg_format_duration(guint64 s) {
        if (s < 60)
                return g_strdup_printf("%u s", (unsigned) s);
        if (s < 3600)
                return g_strdup_printf("%u min %02u s", (unsigned) (s / 60), (unsigned) (s % 60));
        if (s < 100 * 3600)
                return g_strdup_printf("%u h %02u min", (unsigned) (s / 3600), (unsigned) (s % 3600 / 60));
        return g_strdup("a long time");
}

char *wg_format_transfer(guint64 done, guint64 total, const WgRateMeter *m, gint64 now_us) {
        GString *s = g_string_new(NULL);
        g_autofree char *d = g_format_size(done);
        if (total > 0) {
                g_autofree char *t = g_format_size(total);
                g_string_append_printf(s, "%s of %s", d, t);
        } else if (done > 0)
                g_string_append(s, d);
        gboolean more = total == 0 || done < total;
        if (m && m->moved_us > 0 && done > 0 && more && now_us - m->moved_us > STALL_S * G_USEC_PER_SEC)
                g_string_append(s, " · stalled");
        else if (m && m->has_rate && done > 0) {
                g_autofree char *r = g_format_size((guint64) (m->rate + 0.5));
                g_string_append_printf(s, " · %s/s", r);
                if (total > done && m->rate >= 1.0) {
                        g_autofree char *eta =
                                wg_format_duration((guint64) ((double) (total - done) / m->rate + 0.5));
                        g_string_append_printf(s, " · %s left", eta);
                }
        }
        return g_string_free(s, FALSE);
}

const char *wg_phase_label(const char *phase) {
        static const struct {
                const char *phase, *label;
        } labels[] = {
                { "index", "Downloading the image index" },
                { "meta", "Downloading the image’s metadata" },
                { "rootfs", "Downloading the root file system" },
                { "unpack", "Unpacking the root file system" },
                { "configure", "Configuring" },
                { "done", "Done" },
        };
        if (!phase)
                return NULL;
        for (size_t i = 0; i < G_N_ELEMENTS(labels); i++)
                if (g_str_equal(phase, labels[i].phase))
                        return labels[i].label;
        return NULL;
}

const char *wg_state_label(const char *state) {
        static const struct {
                const char *state, *label;
        } labels[] = {
                { "STOPPED", "Stopped" },   { "STARTING", "Starting" }, { "RUNNING", "Running" },
                { "STOPPING", "Stopping" }, { "ABORTING", "Aborting" }, { "FREEZING", "Freezing" },
                { "FROZEN", "Frozen" },
        };
        if (!state || !*state)
                return "Unknown";
        for (size_t i = 0; i < G_N_ELEMENTS(labels); i++)
                if (g_str_equal(state, labels[i].state))
                        return labels[i].label;
        return state;
}

char *wg_format_memory(guint64 bytes) {
        if (bytes == 0)
                return g_strdup("");
        return g_format_size_full(bytes, G_FORMAT_SIZE_IEC_UNITS);
}

char *wg_container_path(const char *name) {
        GString *s = g_string_new("/org/warren1/container/");
        if (!*name)
                g_string_append_c(s, '_');
        for (const unsigned char *p = (const unsigned char *) name; *p; p++) {
                if (g_ascii_isalnum(*p))
                        g_string_append_c(s, (char) *p);
                else
                        g_string_append_printf(s, "_%02x", *p);
        }
        return g_string_free(s, FALSE);
}

char *wg_error_message(const GError *error) {
        if (!error)
                return g_strdup("");
        GError *copy = g_error_copy(error);
        if (g_dbus_error_is_remote_error(copy))
                g_dbus_error_strip_remote_error(copy);
        char *m = g_strdup(copy->message);
        g_error_free(copy);
        return m;
}

const char *wg_debian_arch(const char *machine) {
        static const struct {
                const char *machine, *arch;
        } arches[] = {
                { "x86_64", "amd64" },    { "aarch64", "arm64" }, { "arm64", "arm64" },
                { "armv7l", "armhf" },    { "armv8l", "armhf" },  { "i386", "i386" },
                { "i486", "i386" },       { "i586", "i386" },     { "i686", "i386" },
                { "ppc64le", "ppc64el" }, { "s390x", "s390x" },   { "riscv64", "riscv64" },
        };
        struct utsname u;
        if (!machine) {
                if (uname(&u) < 0)
                        return "";
                machine = u.machine;
        }
        for (size_t i = 0; i < G_N_ELEMENTS(arches); i++)
                if (g_str_equal(machine, arches[i].machine))
                        return arches[i].arch;
        return "";
}
