/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Start -> RUNNING -> kill-stop cycle from ONE long-lived C client, warren
 * and LXC interleaved, both from the same language (no Python interpreter
 * or GDBus worker thread in the timed path):
 *   warren   one sd-bus connection: Container.Start, Container.Stop(0, true)
 *   lxc      liblxc's API: start, wait RUNNING, stop, wait STOPPED (what
 *            python3-lxc calls)
 * Run by tests/bench/persistent.sh inside the sandbox; prints medians and
 * the ratio, never fails on speed.
 *   persistent-client WARREN_NAME LXC_NAME ROUNDS [POOL_SIZE [GAP_MS]]
 */
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lxc/lxccontainer.h>
#include <systemd/sd-bus.h>

#define CALL_TIMEOUT_USEC (60ULL * 1000 * 1000)

typedef struct Bench {
        sd_bus *bus;
        char *path;
        struct lxc_container *ct;
        unsigned pool_size;
        unsigned gap_ms;
} Bench;

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int parse_uint(const char *s, unsigned min, unsigned max, const char *what, unsigned *ret) {
        unsigned long v;
        char *end;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max) {
                fprintf(stderr, "persistent-client: invalid %s '%s': must be an integer in %u..%u\n", what,
                        s, min, max);
                return -EINVAL;
        }
        *ret = (unsigned) v;
        return 0;
}

static size_t pool_count(void) {
        glob_t g = { 0 };
        size_t n = 0;

        if (glob("/run/warren/pool/*/control", GLOB_NOSORT, NULL, &g) == 0)
                n = g.gl_pathc;
        globfree(&g);
        return n;
}

/* No timed run may overlap warrend refilling its warm monitors (their
 * cgroup-v1 move holds the kernel's cgroup_mutex), nor ride on the previous
 * run's namespace cleanup: wait for a full pool, then a gap. */
static void settle(const Bench *b) {
        unsigned i;

        for (i = 0; i < 200 && pool_count() < b->pool_size; i++)
                sleep_ms(10);
        if (i == 200)
                fprintf(stderr, "persistent-client: the warm monitors did not come back (%u expected)\n",
                        b->pool_size);
        sleep_ms(b->gap_ms);
}

static int warren_call(Bench *b, const char *method, const char *types, ...) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(b->bus, &m, "org.warren1", b->path, "org.warren1.Container",
                                           method);
        if (r >= 0 && types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (r < 0) {
                fprintf(stderr, "persistent-client: cannot build %s call: %s\n", method, strerror(-r));
                goto finish;
        }
        r = sd_bus_call(b->bus, m, CALL_TIMEOUT_USEC, &error, &reply);
        if (r < 0)
                fprintf(stderr, "persistent-client: warren %s on %s failed: %s%s%s\n", method, b->path,
                        error.name ? error.name : strerror(-r), error.message ? ": " : "",
                        error.message ? error.message : "");
finish:
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        return r < 0 ? r : 0;
}

static int cycle_warren(Bench *b) {
        int r;

        r = warren_call(b, "Start", NULL);
        if (r < 0)
                return r;
        return warren_call(b, "Stop", "ub", 0u, 1);
}

static int lxc_failed(Bench *b, const char *step) {
        fprintf(stderr, "persistent-client: lxc %s of %s failed%s%s\n", step, b->ct->name,
                b->ct->error_string ? ": " : "", b->ct->error_string ? b->ct->error_string : "");
        return -EIO;
}

static int cycle_lxc(Bench *b) {
        struct lxc_container *c = b->ct;

        if (!c->start(c, 0, NULL))
                return lxc_failed(b, "start");
        if (!c->wait(c, "RUNNING", 10))
                return lxc_failed(b, "wait RUNNING");
        if (!c->stop(c))
                return lxc_failed(b, "stop");
        if (!c->wait(c, "STOPPED", 10))
                return lxc_failed(b, "wait STOPPED");
        return 0;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
        qsort(v, n, sizeof(double), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char *argv[]) {
        Bench b = { .pool_size = 2, .gap_ms = 100 };
        double *s_warren = NULL, *s_lxc = NULL, m_warren, m_lxc;
        unsigned rounds;
        int r, ret = EXIT_FAILURE;

        if (argc < 4 || argc > 6) {
                fprintf(stderr, "usage: %s WARREN_NAME LXC_NAME ROUNDS [POOL_SIZE [GAP_MS]]\n", argv[0]);
                return EXIT_FAILURE;
        }
        if (parse_uint(argv[3], 1, 100000, "round count", &rounds) < 0 ||
            (argc > 4 && parse_uint(argv[4], 0, 1024, "pool size", &b.pool_size) < 0) ||
            (argc > 5 && parse_uint(argv[5], 0, 10000, "gap in ms", &b.gap_ms) < 0))
                return EXIT_FAILURE;

        s_warren = calloc(rounds, sizeof(double));
        s_lxc = calloc(rounds, sizeof(double));
        if (!s_warren || !s_lxc) {
                fprintf(stderr, "persistent-client: out of memory\n");
                goto finish;
        }

        r = sd_bus_path_encode("/org/warren1/container", argv[1], &b.path);
        if (r < 0) {
                fprintf(stderr, "persistent-client: cannot encode object path of '%s': %s\n", argv[1],
                        strerror(-r));
                goto finish;
        }
        r = sd_bus_open_system(&b.bus);
        if (r < 0) {
                fprintf(stderr, "persistent-client: cannot connect to the system bus: %s\n", strerror(-r));
                goto finish;
        }

        b.ct = lxc_container_new(argv[2], NULL);
        if (!b.ct) {
                fprintf(stderr, "persistent-client: cannot open LXC container '%s'\n", argv[2]);
                goto finish;
        }
        if (!b.ct->is_defined(b.ct)) {
                fprintf(stderr, "persistent-client: LXC container '%s' is not defined under %s\n", argv[2],
                        b.ct->config_path);
                goto finish;
        }
        if (!b.ct->want_daemonize(b.ct, true)) {
                fprintf(stderr, "persistent-client: cannot daemonize LXC container '%s'\n", argv[2]);
                goto finish;
        }

        /* Warm up: activation, page cache. */
        for (unsigned i = 0; i < 2; i++)
                if (cycle_warren(&b) < 0 || cycle_lxc(&b) < 0)
                        goto finish;

        for (unsigned i = 0; i < rounds; i++) {
                double t0;

                settle(&b);
                t0 = now_ms();
                if (cycle_warren(&b) < 0)
                        goto finish;
                s_warren[i] = now_ms() - t0;

                settle(&b);
                t0 = now_ms();
                if (cycle_lxc(&b) < 0)
                        goto finish;
                s_lxc[i] = now_ms() - t0;
        }

        m_warren = median(s_warren, rounds);
        m_lxc = median(s_lxc, rounds);
        printf("persistent C client      median ms   (%u rounds, interleaved, gap %u ms)\n", rounds,
               b.gap_ms);
        printf("warren (sd-bus)          %8.2f\n", m_warren);
        printf("lxc (liblxc)             %8.2f\n", m_lxc);
        printf("warren/lxc     %.2f   (target <= 0.5)\n", m_warren / m_lxc);
        ret = EXIT_SUCCESS;
finish:
        if (b.ct)
                lxc_container_put(b.ct);
        sd_bus_flush_close_unref(b.bus);
        free(b.path);
        free(s_lxc);
        free(s_warren);
        return ret;
}
