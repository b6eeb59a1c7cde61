/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gio/gio.h>

#include "wg-job.h"

struct _WgJob {
        GObject parent_instance;
        char *path, *type, *target, *phase, *message, *error, *result;
        double progress;
        guint64 bytes_done, bytes_total;
        WgRateMeter rate;
};

G_DEFINE_FINAL_TYPE(WgJob, wg_job, G_TYPE_OBJECT)

enum {
        SIGNAL_CHANGED,
        SIGNAL_FINISHED,
        N_SIGNALS
};
static guint signals[N_SIGNALS];

static void wg_job_finalize(GObject *object) {
        WgJob *j = WG_JOB(object);
        g_free(j->path);
        g_free(j->type);
        g_free(j->target);
        g_free(j->phase);
        g_free(j->message);
        g_free(j->error);
        g_free(j->result);
        G_OBJECT_CLASS(wg_job_parent_class)->finalize(object);
}

static void wg_job_class_init(WgJobClass *klass) {
        G_OBJECT_CLASS(klass)->finalize = wg_job_finalize;
        signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                               NULL, NULL, NULL, G_TYPE_NONE, 0);
        signals[SIGNAL_FINISHED] = g_signal_new("finished", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                                NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void wg_job_init(WgJob *j) {
        j->progress = -1;
        j->type = g_strdup("");
        j->target = g_strdup("");
        j->phase = g_strdup("");
        j->message = g_strdup("");
        j->error = g_strdup("");
}

WgJob *wg_job_new(const char *path) {
        WgJob *j = g_object_new(WG_TYPE_JOB, NULL);
        j->path = g_strdup(path);
        return j;
}

const char *wg_job_get_path(WgJob *j) {
        return j->path;
}
const char *wg_job_get_type_name(WgJob *j) {
        return j->type;
}
const char *wg_job_get_target(WgJob *j) {
        return j->target;
}
double wg_job_get_progress(WgJob *j) {
        return j->progress;
}
guint64 wg_job_get_bytes_done(WgJob *j) {
        return j->bytes_done;
}
guint64 wg_job_get_bytes_total(WgJob *j) {
        return j->bytes_total;
}
const char *wg_job_get_phase(WgJob *j) {
        return j->phase;
}
const char *wg_job_get_message(WgJob *j) {
        return j->message;
}
const char *wg_job_get_error(WgJob *j) {
        return j->error;
}
const char *wg_job_get_result(WgJob *j) {
        return j->result;
}
const WgRateMeter *wg_job_get_rate(WgJob *j) {
        return &j->rate;
}

char *wg_job_describe(WgJob *j, gint64 now_us) {
        const char *phase = wg_phase_label(j->phase);
        g_autofree char *transfer = wg_format_transfer(j->bytes_done, j->bytes_total, &j->rate, now_us);
        GString *s = g_string_new(phase ? phase : j->phase);
        if (*transfer)
                g_string_append_printf(s, "%s%s", s->len ? " · " : "", transfer);
        if (s->len == 0)
                g_string_append(s, "Working…");
        return g_string_free(s, FALSE);
}

static gboolean take_str(GVariant *dict, const char *key, char **field) {
        const char *s;
        if (!g_variant_lookup(dict, key, "&s", &s) || g_strcmp0(*field, s) == 0)
                return FALSE;
        g_free(*field);
        *field = g_strdup(s);
        return TRUE;
}

void wg_job_apply_properties(WgJob *j, GVariant *dict, gint64 now_us) {
        gboolean changed = FALSE;
        double d;
        guint64 t;
        changed |= take_str(dict, "Type", &j->type);
        changed |= take_str(dict, "Target", &j->target);
        changed |= take_str(dict, "Message", &j->message);
        changed |= take_str(dict, "Error", &j->error);
        if (take_str(dict, "Phase", &j->phase)) {
                /* A new phase counts its own bytes: the rate starts over. */
                wg_rate_meter_reset(&j->rate);
                changed = TRUE;
        }
        if (g_variant_lookup(dict, "Progress", "d", &d) && d != j->progress) {
                j->progress = d;
                changed = TRUE;
        }
        if (g_variant_lookup(dict, "BytesTotal", "t", &t) && t != j->bytes_total) {
                j->bytes_total = t;
                changed = TRUE;
        }
        if (g_variant_lookup(dict, "BytesDone", "t", &t)) {
                wg_rate_meter_add(&j->rate, now_us, t);
                if (t != j->bytes_done) {
                        j->bytes_done = t;
                        changed = TRUE;
                }
        }
        if (changed)
                g_signal_emit(j, signals[SIGNAL_CHANGED], 0);
}

void wg_job_finish(WgJob *j, const char *result) {
        if (j->result)
                return;
        j->result = g_strdup(result);
        g_signal_emit(j, signals[SIGNAL_FINISHED], 0);
}
