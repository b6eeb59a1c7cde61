/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <pwd.h>
#include <sys/types.h>

#include <gio/gio.h>

#include "wg-container.h"

struct _WgContainer {
        GObject parent_instance;
        char *name, *path, *state, *owner_name, *problem;
        guint32 owner_uid, init_pid;
        gboolean unprivileged, autostart;
        char **ipv4, **ipv6;
        guint64 memory;
        guint64 cpu_usec;
        gint64 cpu_sample_us;
        double cpu_percent;
};

G_DEFINE_FINAL_TYPE(WgContainer, wg_container, G_TYPE_OBJECT)

enum {
        SIGNAL_CHANGED,
        N_SIGNALS
};
static guint signals[N_SIGNALS];

static void wg_container_finalize(GObject *object) {
        WgContainer *c = WG_CONTAINER(object);
        g_free(c->name);
        g_free(c->path);
        g_free(c->state);
        g_free(c->owner_name);
        g_free(c->problem);
        g_strfreev(c->ipv4);
        g_strfreev(c->ipv6);
        G_OBJECT_CLASS(wg_container_parent_class)->finalize(object);
}

static void wg_container_class_init(WgContainerClass *klass) {
        G_OBJECT_CLASS(klass)->finalize = wg_container_finalize;
        signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                               NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void wg_container_init(WgContainer *c) {
        c->state = g_strdup("");
        c->problem = g_strdup("");
        c->owner_uid = WG_UID_UNKNOWN;
        c->ipv4 = g_new0(char *, 1);
        c->ipv6 = g_new0(char *, 1);
        c->cpu_percent = -1;
}

WgContainer *wg_container_new(const char *name, const char *path) {
        WgContainer *c = g_object_new(WG_TYPE_CONTAINER, NULL);
        c->name = g_strdup(name);
        c->path = g_strdup(path);
        return c;
}

const char *wg_container_get_name(WgContainer *c) {
        return c->name;
}
const char *wg_container_get_path(WgContainer *c) {
        return c->path;
}
const char *wg_container_get_state(WgContainer *c) {
        return c->state;
}
guint32 wg_container_get_owner_uid(WgContainer *c) {
        return c->owner_uid;
}
const char *wg_container_get_owner_name(WgContainer *c) {
        return c->owner_name ? c->owner_name : "";
}
gboolean wg_container_get_unprivileged(WgContainer *c) {
        return c->unprivileged;
}
gboolean wg_container_get_autostart(WgContainer *c) {
        return c->autostart;
}
const char *const *wg_container_get_ipv4(WgContainer *c) {
        return (const char *const *) c->ipv4;
}
const char *const *wg_container_get_ipv6(WgContainer *c) {
        return (const char *const *) c->ipv6;
}
guint64 wg_container_get_memory(WgContainer *c) {
        return c->memory;
}
guint32 wg_container_get_init_pid(WgContainer *c) {
        return c->init_pid;
}
double wg_container_get_cpu_percent(WgContainer *c) {
        return c->cpu_percent;
}
const char *wg_container_get_problem(WgContainer *c) {
        return c->problem;
}

gboolean wg_container_is_running(WgContainer *c) {
        return g_str_equal(c->state, "RUNNING") || g_str_equal(c->state, "FROZEN") ||
               g_str_equal(c->state, "FREEZING") || g_str_equal(c->state, "STARTING") ||
               g_str_equal(c->state, "STOPPING");
}

static gboolean set_str(char **field, const char *value) {
        if (g_strcmp0(*field, value) == 0)
                return FALSE;
        g_free(*field);
        *field = g_strdup(value);
        return TRUE;
}

static gboolean set_strv(char ***field, const char *const *value) {
        static const char *const empty[] = { NULL };
        if (!value)
                value = empty;
        if (g_strv_equal((const char *const *) *field, value))
                return FALSE;
        g_strfreev(*field);
        *field = g_strdupv((char **) value);
        return TRUE;
}

static char *owner_name_of(guint32 uid) {
        struct passwd pw, *result = NULL;
        char buf[4096];
        if (getpwuid_r((uid_t) uid, &pw, buf, sizeof buf, &result) == 0 && result)
                return g_strdup(result->pw_name);
        return g_strdup_printf("uid %u", uid);
}

static gboolean set_owner(WgContainer *c, guint32 uid) {
        if (c->owner_uid == uid && c->owner_name)
                return FALSE;
        c->owner_uid = uid;
        g_free(c->owner_name);
        c->owner_name = uid == WG_UID_UNKNOWN ? NULL : owner_name_of(uid);
        return TRUE;
}

/* Down: what was measured no longer holds, and no signal tells when
 * addresses go: they go with the state. */
static void forget_measurements_if_down(WgContainer *c) {
        if (wg_container_is_running(c))
                return;
        c->memory = 0;
        c->cpu_percent = -1;
        c->cpu_sample_us = 0;
        set_strv(&c->ipv4, NULL);
        set_strv(&c->ipv6, NULL);
}

void wg_container_set_state(WgContainer *c, const char *state) {
        if (!set_str(&c->state, state))
                return;
        forget_measurements_if_down(c);
        g_signal_emit(c, signals[SIGNAL_CHANGED], 0);
}

void wg_container_set_owner_uid(WgContainer *c, guint32 uid) {
        if (set_owner(c, uid))
                g_signal_emit(c, signals[SIGNAL_CHANGED], 0);
}

void wg_container_apply_properties(WgContainer *c, GVariant *dict) {
        gboolean changed = FALSE;
        const char *s;
        guint32 u;
        guint64 t;
        gboolean b;
        g_autofree const char **strv = NULL;

        if (g_variant_lookup(dict, "State", "&s", &s))
                changed |= set_str(&c->state, s);
        if (g_variant_lookup(dict, "Problem", "&s", &s))
                changed |= set_str(&c->problem, s);
        if (g_variant_lookup(dict, "OwnerUID", "u", &u))
                changed |= set_owner(c, u);
        if (g_variant_lookup(dict, "InitPID", "u", &u) && u != c->init_pid) {
                c->init_pid = u;
                changed = TRUE;
        }
        if (g_variant_lookup(dict, "Unprivileged", "b", &b) && b != c->unprivileged) {
                c->unprivileged = b;
                changed = TRUE;
        }
        if (g_variant_lookup(dict, "Autostart", "b", &b) && b != c->autostart) {
                c->autostart = b;
                changed = TRUE;
        }
        if (g_variant_lookup(dict, "MemoryCurrent", "t", &t) && t != c->memory) {
                c->memory = t;
                changed = TRUE;
        }
        if (g_variant_lookup(dict, "IPv4Addresses", "^a&s", &strv)) {
                changed |= set_strv(&c->ipv4, strv);
                g_clear_pointer(&strv, g_free);
        }
        if (g_variant_lookup(dict, "IPv6Addresses", "^a&s", &strv))
                changed |= set_strv(&c->ipv6, strv);
        if (changed)
                forget_measurements_if_down(c);
        if (changed)
                g_signal_emit(c, signals[SIGNAL_CHANGED], 0);
}

void wg_container_apply_stats(WgContainer *c, GVariant *dict, gint64 now_us) {
        gboolean changed = FALSE;
        guint64 t;
        if (g_variant_lookup(dict, "memory_bytes", "t", &t) && t != c->memory) {
                c->memory = t;
                changed = TRUE;
        }
        if (g_variant_lookup(dict, "cpu_usec", "t", &t)) {
                if (c->cpu_sample_us > 0 && now_us > c->cpu_sample_us && t >= c->cpu_usec) {
                        c->cpu_percent =
                                100.0 * (double) (t - c->cpu_usec) / (double) (now_us - c->cpu_sample_us);
                        changed = TRUE;
                }
                c->cpu_usec = t;
                c->cpu_sample_us = now_us;
        }
        if (changed)
                g_signal_emit(c, signals[SIGNAL_CHANGED], 0);
}
