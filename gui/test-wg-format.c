/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The front end's pure helpers (rates, durations, transfer lines, labels,
 * container paths as warrend makes them, bus error messages) and its model
 * objects (a container's and a job's properties as the bus updates them). */
#include <gio/gio.h>

#include "wg-container.h"
#include "wg-format.h"
#include "wg-job.h"

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

static void count(gpointer object, gpointer user_data) {
        (*(int *) user_data)++;
}

static void test_container(void) {
        g_autoptr(WgContainer) c = wg_container_new("c1", "/org/warren1/container/c1");
        int changes = 0;
        g_signal_connect(c, "changed", G_CALLBACK(count), &changes);
        g_assert_cmpuint(wg_container_get_owner_uid(c), ==, WG_UID_UNKNOWN);
        g_autoptr(GVariant) running = g_variant_ref_sink(g_variant_new_parsed(
                "{'Name': <'c1'>, 'State': <'RUNNING'>, 'OwnerUID': <uint32 0>, 'Unprivileged': <false>,"
                " 'IPv4Addresses': <['10.0.3.5/24']>, 'MemoryCurrent': <uint64 1048576>, 'InitPID': <uint32 "
                "42>,"
                " 'SomethingNew': <'ignored'>}"));
        wg_container_apply_properties(c, running);
        g_assert_cmpint(changes, ==, 1); /* one batch, one signal */
        g_assert_cmpstr(wg_container_get_state(c), ==, "RUNNING");
        g_assert_true(wg_container_is_running(c));
        g_assert_cmpstr(wg_container_get_owner_name(c), ==, "root");
        g_assert_cmpstr(wg_container_get_ipv4(c)[0], ==, "10.0.3.5/24");
        g_assert_cmpuint(wg_container_get_memory(c), ==, 1048576);
        wg_container_apply_properties(c, running);
        g_assert_cmpint(changes, ==, 1); /* nothing new, no signal */
        /* GetStats: memory, and CPU from two samples. */
        g_autoptr(GVariant) s1 = g_variant_ref_sink(
                g_variant_new_parsed("{'memory_bytes': <uint64 2097152>, 'cpu_usec': <uint64 1000000>}"));
        g_autoptr(GVariant) s2 = g_variant_ref_sink(g_variant_new_parsed("{'cpu_usec': <uint64 1500000>}"));
        wg_container_apply_stats(c, s1, 10 * S);
        g_assert_cmpuint(wg_container_get_memory(c), ==, 2097152);
        g_assert_cmpfloat(wg_container_get_cpu_percent(c), <, 0);
        wg_container_apply_stats(c, s2, 11 * S);
        g_assert_cmpfloat_with_epsilon(wg_container_get_cpu_percent(c), 50.0, 0.001);
        /* Stopped: measurements and addresses (which have no signal) go. */
        wg_container_set_state(c, "STOPPED");
        g_assert_false(wg_container_is_running(c));
        g_assert_cmpuint(wg_container_get_memory(c), ==, 0);
        g_assert_null(wg_container_get_ipv4(c)[0]);
        g_assert_cmpfloat(wg_container_get_cpu_percent(c), <, 0);
        /* An owner the host does not know. */
        wg_container_set_owner_uid(c, 4000000000u);
        g_assert_cmpstr(wg_container_get_owner_name(c), ==, "uid 4000000000");
}

static void test_job(void) {
        g_autoptr(WgJob) j = wg_job_new("/org/warren1/job/7");
        int changes = 0, finished = 0;
        g_signal_connect(j, "changed", G_CALLBACK(count), &changes);
        g_signal_connect(j, "finished", G_CALLBACK(count), &finished);
        g_assert_cmpfloat(wg_job_get_progress(j), <, 0);
        g_autoptr(GVariant) start = g_variant_ref_sink(g_variant_new_parsed(
                "{'Type': <'create'>, 'Target': <'d1'>, 'Phase': <'rootfs'>, 'Progress': <0.25>,"
                " 'BytesDone': <uint64 0>, 'BytesTotal': <uint64 4000000>}"));
        wg_job_apply_properties(j, start, 1 * S);
        g_autoptr(GVariant) more =
                g_variant_ref_sink(g_variant_new_parsed("{'BytesDone': <uint64 1000000>}"));
        wg_job_apply_properties(j, more, 2 * S);
        g_assert_cmpint(changes, ==, 2);
        g_autofree char *d = plain(wg_job_describe(j, 2 * S));
        g_assert_cmpstr(d, ==, "Downloading the root file system · 1.0 MB of 4.0 MB · 1.0 MB/s · 3 s left");
        /* A new phase counts its own bytes: no rate carried over. */
        g_autoptr(GVariant) unpack = g_variant_ref_sink(g_variant_new_parsed(
                "{'Phase': <'unpack'>, 'BytesDone': <uint64 10>, 'BytesTotal': <uint64 0>}"));
        wg_job_apply_properties(j, unpack, 3 * S);
        g_assert_false(wg_job_get_rate(j)->has_rate);
        g_autofree char *u = plain(wg_job_describe(j, 3 * S));
        g_assert_cmpstr(u, ==, "Unpacking the root file system · 10 bytes");
        g_assert_null(wg_job_get_result(j));
        wg_job_finish(j, "done");
        wg_job_finish(j, "failed"); /* the first word stands */
        g_assert_cmpstr(wg_job_get_result(j), ==, "done");
        g_assert_cmpint(finished, ==, 1);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/format/duration", test_duration);
        g_test_add_func("/format/rate", test_rate);
        g_test_add_func("/format/transfer", test_transfer);
        g_test_add_func("/format/labels", test_labels);
        g_test_add_func("/format/paths", test_paths);
        g_test_add_func("/format/error-message", test_error_message);
        g_test_add_func("/model/container", test_container);
        g_test_add_func("/model/job", test_job);
        return g_test_run();
}
