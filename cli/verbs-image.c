/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* warrenctl image list|pull|remove, images --remote, and following a job's
 * progress. Everything goes through warrend: the CLI never fetches an index
 * or reads the cache itself. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "verbs-image.h"

#define WARREN_JOB_PREFIX "/org/warren1/job"
#define WARREN_IMAGE_PREFIX "/org/warren1/image"
#define REDRAW_USEC 200000ULL
#define BAR_WIDTH 24

static bool arg_remote = false;
static const char *arg_server = NULL;
static const char *arg_first_option = NULL; /* for "means nothing to VERB" */

int parse_image_option(int c, const char *arg) {
        switch (c) {
        case IMAGE_ARG_REMOTE:
                arg_remote = true;
                if (!arg_first_option)
                        arg_first_option = "--remote";
                return 0;
        case IMAGE_ARG_SERVER:
                if (isempty(arg)) {
                        fprintf(stderr, "warrenctl: Invalid --server '': expected a URL\n");
                        return -EINVAL;
                }
                arg_server = arg;
                if (!arg_first_option)
                        arg_first_option = "--server";
                return 0;
        }
        return -EINVAL;
}

int image_options_check(const char *verb) {
        if (!arg_first_option || streq(verb, "images"))
                return 0;
        if (streq(verb, "create") || streq(verb, "image"))
                fprintf(stderr,
                        "warrenctl: %s means nothing for '%s': give the template's --server after '--' "
                        "(e.g. create NAME -t download -- -d DIST -r RELEASE --server URL)\n",
                        arg_first_option, verb);
        else
                fprintf(stderr, "warrenctl: %s means nothing for '%s' (it is for 'images --remote')\n",
                        arg_first_option, verb);
        return -EINVAL;
}

/* --- following a job ------------------------------------------------------- */

struct JobWatch {
        sd_bus *bus;
        sd_bus_slot *removed_slot, *props_slot;
        const char *path;
        char *result;
        double progress;
        uint64_t done, total;
        char *phase, *message, *error;
        bool tty, drawn, canceling;
        /* For the rate: when the current phase started, with how many bytes. */
        uint64_t phase_start_usec;
        char *shown_phase;
};

static volatile sig_atomic_t interrupted = 0;

static void on_sigint(int sig) {
        interrupted++;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        JobWatch *w = userdata;
        uint32_t id;
        const char *path, *result;
        if (sd_bus_message_read(m, "uos", &id, &path, &result) < 0)
                return 0;
        if (w->path && streq(path, w->path) && !w->result)
                w->result = strdup(result);
        return 0;
}

static int set_string(char **dst, const char *s) {
        char *c = strdup(s);
        if (!c)
                return -ENOMEM;
        free(*dst);
        *dst = c;
        return 0;
}

static int on_job_properties(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        JobWatch *w = userdata;
        const char *iface;
        if (!w->path || !streq_ptr(sd_bus_message_get_path(m), w->path))
                return 0;
        if (sd_bus_message_read(m, "s", &iface) < 0 || sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
                return 0;
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                const char *name, *s;
                int r;
                if (sd_bus_message_read(m, "s", &name) < 0)
                        return 0;
                if (streq(name, "Progress"))
                        r = sd_bus_message_read(m, "v", "d", &w->progress);
                else if (streq(name, "BytesDone"))
                        r = sd_bus_message_read(m, "v", "t", &w->done);
                else if (streq(name, "BytesTotal"))
                        r = sd_bus_message_read(m, "v", "t", &w->total);
                else if (streq(name, "Phase") || streq(name, "Message") || streq(name, "Error")) {
                        r = sd_bus_message_read(m, "v", "s", &s);
                        if (r >= 0)
                                r = set_string(streq(name, "Phase")     ? &w->phase
                                               : streq(name, "Message") ? &w->message
                                                                        : &w->error,
                                               s);
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0 || sd_bus_message_exit_container(m) < 0)
                        return 0;
        }
        return 0;
}

int job_watch_new(sd_bus *bus, JobWatch **ret) {
        JobWatch *w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->bus = sd_bus_ref(bus);
        w->progress = -1;
        w->tty = isatty(STDERR_FILENO);
        int r = sd_bus_match_signal(bus, &w->removed_slot, WARREN_BUS, WARREN_MANAGER_PATH,
                                    WARREN_MANAGER_IFACE, "JobRemoved", on_job_removed, w);
        if (r >= 0)
                r = sd_bus_add_match(
                        bus, &w->props_slot,
                        "type='signal',sender='" WARREN_BUS "',"
                        "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                        "path_namespace='" WARREN_JOB_PREFIX "',arg0='" WARREN_JOB_IFACE "'",
                        on_job_properties, w);
        if (r < 0) {
                job_watch_free(w);
                return log_bus_error("Failed to subscribe to the job's signals", NULL, r);
        }
        *ret = w;
        return 0;
}

JobWatch *job_watch_free(JobWatch *w) {
        if (!w)
                return NULL;
        sd_bus_slot_unref(w->removed_slot);
        sd_bus_slot_unref(w->props_slot);
        sd_bus_unref(w->bus);
        free(w->result);
        free(w->phase);
        free(w->message);
        free(w->error);
        free(w->shown_phase);
        free(w);
        return NULL;
}

static const char *phase_line(const char *phase) {
        static const struct {
                const char *phase, *text;
        } lines[] = {
                { "index", "Downloading the image index" },
                { "meta", "Downloading the image's metadata" },
                { "rootfs", "Downloading the rootfs" },
                { "unpack", "Unpacking the rootfs" },
                { "configure", "Configuring" },
        };
        for (size_t i = 0; i < ELEMENTSOF(lines); i++)
                if (streq(phase, lines[i].phase))
                        return lines[i].text;
        return NULL;
}

static void clear_line(JobWatch *w) {
        if (w->tty && w->drawn) {
                fputs("\r\033[K", stderr);
                fflush(stderr);
                w->drawn = false;
        }
}

/* Notes a phase change: the rate restarts; without a terminal, one line. */
static void note_phase(JobWatch *w) {
        if (!w->phase || isempty(w->phase) || streq_ptr(w->phase, w->shown_phase))
                return;
        (void) set_string(&w->shown_phase, w->phase);
        w->phase_start_usec = now_usec();
        const char *text = phase_line(w->phase);
        if (!w->tty && text) {
                fprintf(stderr, "%s...\n", text);
                fflush(stderr);
        }
}

static void draw(JobWatch *w) {
        char bar[BAR_WIDTH + 1], done[FORMAT_SIZE_MAX], total[FORMAT_SIZE_MAX], rate[FORMAT_SIZE_MAX],
                eta[32] = "";
        if (!w->tty || w->progress < 0)
                return;
        size_t fill = (size_t) (w->progress * BAR_WIDTH + 0.5);
        for (size_t i = 0; i < BAR_WIDTH; i++)
                bar[i] = i < fill ? '#' : '.';
        bar[BAR_WIDTH] = 0;
        fprintf(stderr, "\r\033[K%-9s [%s] %3.0f%%", strempty(w->shown_phase), bar, w->progress * 100.0);
        if (w->total > 0) {
                double secs = (double) (now_usec() - w->phase_start_usec) / 1e6;
                double bps = secs > 0.2 ? (double) w->done / secs : 0.0;
                format_size(w->done, done);
                format_size(w->total, total);
                fprintf(stderr, "  %s / %s", done, total);
                if (bps > 0) {
                        format_size((uint64_t) bps, rate);
                        if (w->done < w->total) {
                                uint64_t left = (uint64_t) ((double) (w->total - w->done) / bps);
                                snprintf(eta, sizeof eta, "  ETA %" PRIu64 ":%02" PRIu64, left / 60,
                                         left % 60);
                        }
                        fprintf(stderr, "  %s/s%s", rate, eta);
                }
        }
        fflush(stderr);
        w->drawn = true;
}

static int cancel_job(JobWatch *w) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        clear_line(w);
        fprintf(stderr, "Canceling...\n");
        int r = sd_bus_call_method(w->bus, WARREN_BUS, w->path, WARREN_JOB_IFACE, "Cancel", &error, NULL,
                                   NULL);
        if (r < 0) {
                /* It may have finished meanwhile: its JobRemoved tells. */
                fprintf(stderr, "warrenctl: Failed to cancel the job: %s\n",
                        error.message ? error.message : strerror(-r));
                sd_bus_error_free(&error);
        }
        return 0;
}

int job_watch_wait(JobWatch *w, const char *job_path, const char *what) {
        struct sigaction sa = { .sa_handler = on_sigint }, old;
        uint64_t last_draw = 0;
        int r = 0;

        w->path = job_path;
        interrupted = 0;
        /* No SA_RESTART: the wait returns EINTR and we cancel. */
        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGINT, &sa, &old);
        while (!w->result) {
                if (interrupted > 1) {
                        fprintf(stderr, "warrenctl: Not waiting for %s any more; the job may go on\n", what);
                        r = -EINTR;
                        break;
                }
                if (interrupted == 1 && !w->canceling) {
                        w->canceling = true;
                        (void) cancel_job(w);
                }
                r = sd_bus_process(w->bus, NULL);
                if (r < 0) {
                        clear_line(w);
                        r = log_bus_error("Lost the bus while waiting for the job", NULL, r);
                        break;
                }
                note_phase(w);
                if (w->tty && now_usec() - last_draw >= REDRAW_USEC && !w->result) {
                        draw(w);
                        last_draw = now_usec();
                }
                if (r > 0)
                        continue;
                r = sd_bus_wait(w->bus, REDRAW_USEC);
                if (r < 0 && r != -EINTR) {
                        clear_line(w);
                        r = log_bus_error("Lost the bus while waiting for the job", NULL, r);
                        break;
                }
                r = 0;
        }
        (void) sigaction(SIGINT, &old, NULL);
        clear_line(w);
        if (!w->result)
                return r < 0 ? r : -EIO;
        if (streq(w->result, "done")) {
                if (!isempty(w->message)) {
                        fputs(w->message, stdout);
                        if (w->message[strlen(w->message) - 1] != '\n')
                                fputc('\n', stdout);
                }
                return 0;
        }
        if (streq(w->result, "canceled")) {
                fprintf(stderr, "warrenctl: Canceled: %s\n", what);
                return -ECANCELED;
        }
        if (!isempty(w->message))
                fprintf(stderr, "warrenctl: Failed to %s: %s%s%s%s\n", what, w->message,
                        isempty(w->error) ? "" : " (", strempty(w->error), isempty(w->error) ? "" : ")");
        else
                fprintf(stderr, "warrenctl: Failed to %s: the job %s\n", what, w->result);
        return -EIO;
}

/* --- image list / pull / remove ----------------------------------------------- */

typedef struct ImageRow {
        const char *dist, *release, *arch, *variant, *build, *path;
        uint64_t size, last_used;
} ImageRow;

static int read_image_row(sd_bus_message *reply, ImageRow *row) {
        return sd_bus_message_read(reply, "(ssssstto)", &row->dist, &row->release, &row->arch, &row->variant,
                                   &row->build, &row->size, &row->last_used, &row->path);
}

static const OutputColumn image_columns[] = {
        { "dist", "DIST", OUTPUT_STRING, OUTPUT_DEFAULT, "distribution" },
        { "release", "RELEASE", OUTPUT_STRING, OUTPUT_DEFAULT, "release" },
        { "arch", "ARCH", OUTPUT_STRING, OUTPUT_DEFAULT, "architecture" },
        { "variant", "VARIANT", OUTPUT_STRING, OUTPUT_DEFAULT, "variant" },
        { "build", "BUILD", OUTPUT_STRING, OUTPUT_DEFAULT, "the server's build id" },
        { "size", "SIZE", OUTPUT_SIZE, OUTPUT_DEFAULT | OUTPUT_RIGHT, "size in the cache" },
        { "last_used", "LAST USED", OUTPUT_TIME, OUTPUT_DEFAULT, "last used by a create (JSON: µs)",
          "last_used_usec" },
        { "path", "PATH", OUTPUT_STRING, 0, "the D-Bus object path" },
        {},
};

static int image_list(sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        OutputTable *t = NULL;
        ImageRow row;
        int r = output_table_new(image_columns, "image list", &t);
        if (r < 0)
                return r;
        r = call_manager(bus, "ListImages", &reply, NULL);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(ssssstto)");
        while (r >= 0 && (r = read_image_row(reply, &row)) > 0) {
                r = output_table_add_row(t);
                if (r >= 0)
                        r = output_cell_string(t, "dist", row.dist);
                if (r >= 0)
                        r = output_cell_string(t, "release", row.release);
                if (r >= 0)
                        r = output_cell_string(t, "arch", row.arch);
                if (r >= 0)
                        r = output_cell_string(t, "variant", row.variant);
                if (r >= 0)
                        r = output_cell_string(t, "build", row.build);
                if (r >= 0)
                        r = output_cell_size(t, "size", row.size);
                if (r >= 0)
                        r = output_cell_time(t, "last_used", row.last_used);
                if (r >= 0)
                        r = output_cell_string(t, "path", row.path);
        }
        if (r >= 0)
                r = output_table_print(t);
        output_table_free(t);
        return r;
}

static int image_pull(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        JobWatch *w = NULL;
        const char *jpath;
        int r = job_watch_new(bus, &w);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, WARREN_BUS, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE,
                                           "PullImage");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, args);
        if (r >= 0)
                r = sd_bus_message_append(m, "a{sv}", 0);
        if (r < 0) {
                job_watch_free(w);
                return log_bus_error("Failed to build request", NULL, r);
        }
        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, &reply);
        if (r < 0) {
                r = log_bus_error("Failed to pull the image", &error, r);
                sd_bus_error_free(&error);
        } else if ((r = sd_bus_message_read(reply, "o", &jpath)) >= 0)
                r = job_watch_wait(w, jpath, "pull the image");
        job_watch_free(w);
        return r;
}

/* "DIST/RELEASE[/ARCH[/VARIANT[/BUILD]]]" against one listed build. */
static bool spec_matches(const char *spec, const ImageRow *row) {
        _cleanup_strv_free_ char **parts = strv_split(spec, "/");
        const char *fields[] = { row->dist, row->release, row->arch, row->variant, row->build };
        size_t n = strv_length(parts);
        if (n < 2 || n > 5)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(parts[i], fields[i]))
                        return false;
        return true;
}

static int remove_one(sd_bus *bus, const char *path, const char *shown) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(bus, WARREN_BUS, WARREN_MANAGER_PATH, WARREN_MANAGER_IFACE, "RemoveImage",
                                   &error, NULL, "o", path);
        if (r < 0) {
                fprintf(stderr, "warrenctl: Failed to remove image %s: %s\n", shown,
                        error.message ? error.message : strerror(-r));
                sd_bus_error_free(&error);
        }
        return r;
}

static int image_remove(sd_bus *bus, char **specs) {
        int ret = 0;
        STRV_FOREACH(s, specs) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                ImageRow row;
                unsigned found = 0;
                int r;
                if ((*s)[0] == '/') { /* an object path: the server judges it */
                        r = remove_one(bus, *s, *s);
                        if (r < 0 && ret == 0)
                                ret = r;
                        continue;
                }
                r = call_manager(bus, "ListImages", &reply, NULL);
                if (r >= 0)
                        r = sd_bus_message_enter_container(reply, 'a', "(ssssstto)");
                while (r >= 0 && (r = read_image_row(reply, &row)) > 0) {
                        if (!spec_matches(*s, &row))
                                continue;
                        found++;
                        char shown[512];
                        snprintf(shown, sizeof shown, "%s/%s/%s/%s/%s", row.dist, row.release, row.arch,
                                 row.variant, row.build);
                        int k = remove_one(bus, row.path, shown);
                        if (k < 0 && ret == 0)
                                ret = k;
                }
                if (r >= 0 && found == 0) {
                        fprintf(stderr,
                                "warrenctl: No cached image matches '%s' (expected "
                                "DIST/RELEASE[/ARCH[/VARIANT[/BUILD]]] "
                                "or an image path; see 'warrenctl image list')\n",
                                *s);
                        r = -ENOENT;
                }
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

static int verb_image(sd_bus *bus, char **args) {
        const char *sub = args[0];
        bool list = streq(sub, "list") || streq(sub, "ls");
        if (!list && (arg_json != JSON_OFF || arg_output || arg_noheadings || arg_raw)) {
                fprintf(stderr, "warrenctl: %s means nothing for 'image %s'\n",
                        arg_json != JSON_OFF ? "--json" : "--output/--noheadings/--raw", sub);
                return -EINVAL;
        }
        if (list) {
                if (args[1]) {
                        fprintf(stderr, "warrenctl: image list takes no arguments\n");
                        return -EINVAL;
                }
                return image_list(bus);
        }
        if (streq(sub, "pull")) {
                if (!args[1]) {
                        fprintf(stderr,
                                "warrenctl: image pull -- -d DIST -r RELEASE [-a ARCH] [--variant V] "
                                "[--server URL]\n");
                        return -EINVAL;
                }
                return image_pull(bus, args + 1);
        }
        if (streq(sub, "remove") || streq(sub, "rm")) {
                if (!args[1]) {
                        fprintf(stderr,
                                "warrenctl: image remove DIST/RELEASE[/ARCH[/VARIANT[/BUILD]]]...\n");
                        return -EINVAL;
                }
                return image_remove(bus, args + 1);
        }
        fprintf(stderr, "warrenctl: Unknown image command '%s' (list, pull, remove)\n", sub);
        return -EINVAL;
}

static const OutputColumn remote_columns[] = {
        { "dist", "DIST", OUTPUT_STRING, OUTPUT_DEFAULT, "distribution" },
        { "release", "RELEASE", OUTPUT_STRING, OUTPUT_DEFAULT, "release" },
        { "arch", "ARCH", OUTPUT_STRING, OUTPUT_DEFAULT, "architecture" },
        { "variant", "VARIANT", OUTPUT_STRING, OUTPUT_DEFAULT, "variant" },
        { "build", "BUILD", OUTPUT_STRING, OUTPUT_DEFAULT, "the newest build" },
        {},
};

static int verb_images(sd_bus *bus, char **args) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *dist, *release, *arch, *variant, *build;
        if (!arg_remote) {
                if (args[0] || arg_server) {
                        fprintf(stderr, "warrenctl: images lists the local cache; %s needs --remote\n",
                                args[0] ? "a distribution filter" : "--server");
                        return -EINVAL;
                }
                return image_list(bus);
        }
        OutputTable *t = NULL;
        int r = output_table_new(remote_columns, "images --remote", &t);
        if (r < 0)
                return r;
        r = call_manager(bus, "ListRemoteImages", &reply, "sa{sv}", strempty(arg_server), 0);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(sssss)");
        while (r >= 0 &&
               (r = sd_bus_message_read(reply, "(sssss)", &dist, &release, &arch, &variant, &build)) > 0) {
                if (args[0] && !streq(args[0], dist))
                        continue;
                r = output_table_add_row(t);
                if (r >= 0)
                        r = output_cell_string(t, "dist", dist);
                if (r >= 0)
                        r = output_cell_string(t, "release", release);
                if (r >= 0)
                        r = output_cell_string(t, "arch", arch);
                if (r >= 0)
                        r = output_cell_string(t, "variant", variant);
                if (r >= 0)
                        r = output_cell_string(t, "build", build);
        }
        if (r >= 0)
                r = output_table_print(t);
        output_table_free(t);
        return r;
}

const Verb verbs_image[] = {
        {
                .name = "image",
                .min_args = 1,
                .max_args = -1,
                .run = verb_image,
                .flags = VERB_JSON | VERB_TABLE,
                .usage = "list [-o COLUMNS]\n"
                         "pull -- -d DIST -r RELEASE [-a ARCH] [--variant V] [--server URL]\n"
                         "remove DIST/RELEASE[/ARCH[/VARIANT[/BUILD]]]...",
                .summary = "Manage the shared image cache",
                .description = "list shows the cached images; pull downloads one as the download template\n"
                               "would, without creating a container (a job with progress; Ctrl-C cancels);\n"
                               "remove deletes cached builds. pull and remove need org.warren1.pull-image.",
                .example = "warrenctl image pull -- -d debian -r bookworm -a amd64\n"
                           "warrenctl image list -o dist,release,size\n"
                           "warrenctl image remove debian/bookworm\n",
                .columns = image_columns,
        },
        {
                .name = "images",
                .max_args = 1,
                .run = verb_images,
                .flags = VERB_JSON | VERB_TABLE | VERB_READ_ONLY,
                .usage = "[--remote [--server=URL] [DIST]]",
                .summary = "List cached images, or an image server's",
                .description =
                        "Without --remote as image list; with it, what an image server's index offers\n"
                        "(the default server unless --server), of DIST if given.",
                .options = "--remote\tList the server's images, not the cache\n"
                           "--server=URL\tThe image server (with --remote)\n",
                .example = "warrenctl images --remote debian\n",
                .columns = remote_columns,
        },
        {},
};
