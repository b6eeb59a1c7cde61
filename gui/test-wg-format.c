/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The front end's pure helpers: rates, durations, transfer lines, labels,
 * container paths as warrend makes them, bus error messages. */
#include <gio/gio.h>

#include "wg-format.h"

#define S (G_USEC_PER_SEC)

/* g_format_size() puts a no-break space between number and unit. */
static char *plain(char *s) {
        GString *g = g_string_new(s);
        g_free(s);
        g_string_replace(g, "\u00a0", " ", 0);
        return g_string_free(g, FALSE);
}

static void test_duration(void) {
        const struct {
                guint64 s;
                const char *text;
        } cases[] = {
                { 0, "0 s" },
                { 59, "59 s" },
                { 60, "1 min 00 s" },
                { 125, "2 min 05 s" },
                { 3599, "59 min 59 s" },
                { 3600, "1 h 00 min" },
                { 3720, "1 h 02 min" },
                { 360000, "a long time" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *t = wg_format_duration(cases[i].s);
                g_assert_cmpstr(t, ==, cases[i].text);
        }
}

static void test_rate(void) {
        WgRateMeter m;
        wg_rate_meter_reset(&m);
        wg_rate_meter_add(&m, 1 * S, 0);
        g_assert_false(m.has_rate);
        /* 1 MB/s, steadily. */
        for (int i = 1; i <= 20; i++)
                wg_rate_meter_add(&m, (1 + i) * S, (guint64) i * 1000000);
        g_assert_true(m.has_rate);
        g_assert_cmpfloat_with_epsilon(m.rate, 1e6, 1.0);
        /* Samples too close together say nothing. */
        wg_rate_meter_add(&m, 21 * S + 1000, 20000000 + 5000000);
        g_assert_cmpfloat_with_epsilon(m.rate, 1e6, 1.0);
        /* A stall: the rate falls towards 0, smoothly, not at once. */
        wg_rate_meter_add(&m, 24 * S, 20000000);
        g_assert_cmpfloat(m.rate, <, 1e6);
        g_assert_cmpfloat(m.rate, >, 0);
        /* Fewer bytes than before: a new phase, the rate starts over. */
        wg_rate_meter_add(&m, 25 * S, 10);
        g_assert_false(m.has_rate);
}

static void test_transfer(void) {
        WgRateMeter m;
        wg_rate_meter_reset(&m);
        g_autofree char *nothing = wg_format_transfer(0, 0, &m, 1 * S);
        g_assert_cmpstr(nothing, ==, "");
        g_autofree char *done_only = plain(wg_format_transfer(1500000, 0, NULL, 1 * S));
        g_assert_cmpstr(done_only, ==, "1.5 MB");
        g_autofree char *no_rate = plain(wg_format_transfer(1000000, 4000000, &m, 1 * S));
        g_assert_cmpstr(no_rate, ==, "1.0 MB of 4.0 MB");
        wg_rate_meter_add(&m, 1 * S, 0);
        wg_rate_meter_add(&m, 2 * S, 1000000);
        g_autofree char *full = plain(wg_format_transfer(1000000, 4000000, &m, 2 * S));
        g_assert_cmpstr(full, ==, "1.0 MB of 4.0 MB · 1.0 MB/s · 3 s left");
        g_autofree char *finished = plain(wg_format_transfer(4000000, 4000000, &m, 2 * S));
        g_assert_cmpstr(finished, ==, "4.0 MB of 4.0 MB · 1.0 MB/s");
        /* Nothing new for more than 5 s: stalled, whatever the last rate. */
        g_autofree char *stalled = plain(wg_format_transfer(1000000, 4000000, &m, 8 * S));
        g_assert_cmpstr(stalled, ==, "1.0 MB of 4.0 MB · stalled");
        g_autofree char *recent = plain(wg_format_transfer(1000000, 4000000, &m, 6 * S));
        g_assert_cmpstr(recent, ==, "1.0 MB of 4.0 MB · 1.0 MB/s · 3 s left");
        /* Done: never stalled. */
        g_autofree char *complete = plain(wg_format_transfer(4000000, 4000000, &m, 60 * S));
        g_assert_cmpstr(complete, ==, "4.0 MB of 4.0 MB · 1.0 MB/s");
        /* The same count again is no progress: still stalled since 2 s. */
        wg_rate_meter_add(&m, 7 * S, 1000000);
        g_autofree char *repeated = plain(wg_format_transfer(1000000, 4000000, &m, 8 * S));
        g_assert_cmpstr(repeated, ==, "1.0 MB of 4.0 MB · stalled");
}

static void test_labels(void) {
        g_assert_cmpstr(wg_state_label("RUNNING"), ==, "Running");
        g_assert_cmpstr(wg_state_label("FROZEN"), ==, "Frozen");
        g_assert_cmpstr(wg_state_label("SOMETHING_NEW"), ==, "SOMETHING_NEW");
        g_assert_cmpstr(wg_state_label(""), ==, "Unknown");
        g_assert_cmpstr(wg_phase_label("rootfs"), ==, "Downloading the root file system");
        g_assert_null(wg_phase_label("later-phase"));
        g_autofree char *none = wg_format_memory(0);
        g_assert_cmpstr(none, ==, "");
        g_autofree char *mib = plain(wg_format_memory(12 * 1024 * 1024));
        g_assert_cmpstr(mib, ==, "12.0 MiB");
        g_assert_cmpstr(wg_debian_arch("x86_64"), ==, "amd64");
        g_assert_cmpstr(wg_debian_arch("aarch64"), ==, "arm64");
        g_assert_cmpstr(wg_debian_arch("pdp11"), ==, "");
}

static void test_paths(void) {
        /* As sd_bus_path_encode(): everything but [A-Za-z0-9] as _xx. */
        const struct {
                const char *name, *path;
        } cases[] = {
                { "c1", "/org/warren1/container/c1" },
                { "c-gui", "/org/warren1/container/c_2dgui" },
                { "a.b_c", "/org/warren1/container/a_2eb_5fc" },
                { "", "/org/warren1/container/_" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *p = wg_container_path(cases[i].name);
                g_assert_cmpstr(p, ==, cases[i].path);
                g_assert_true(g_variant_is_object_path(p));
        }
}

static void test_error_message(void) {
        g_autoptr(GError) e = g_dbus_error_new_for_dbus_error("org.warren1.Error.InvalidName",
                                                              "Invalid container name '../x'");
        g_autofree char *m = wg_error_message(e);
        g_assert_cmpstr(m, ==, "Invalid container name '../x'");
        g_assert_true(g_dbus_error_is_remote_error(e)); /* the original keeps its name */
        g_autoptr(GError) local = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_FAILED, "plain");
        g_autofree char *m2 = wg_error_message(local);
        g_assert_cmpstr(m2, ==, "plain");
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/format/duration", test_duration);
        g_test_add_func("/format/rate", test_rate);
        g_test_add_func("/format/transfer", test_transfer);
        g_test_add_func("/format/labels", test_labels);
        g_test_add_func("/format/paths", test_paths);
        g_test_add_func("/format/error-message", test_error_message);
        return g_test_run();
}
