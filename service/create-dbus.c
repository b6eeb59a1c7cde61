/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager.CreateContainer. A container is owned by its creator; anyone but
 * root gets an unprivileged container mapped into their subordinate ids,
 * whose config is held to the owner rules (lib/policy.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "bus-error.h"
#include "bus-util.h"
#include "config.h"
#include "container-dbus.h"
#include "container.h"
#include "create-dbus.h"
#include "daemon.h"
#include "idmap.h"
#include "image-dbus.h"
#include "job.h"
#include "network.h"
#include "owner-limits.h"
#include "owner.h"
#include "polkit.h"
#include "store.h"
#include "usernet.h"

#define ADMIN_ACTION "org.warren1.create-privileged"

typedef struct CreateArgs {
        const char *name;
        const char *template_name;
        char **template_args;
        char **config_items;
        int unprivileged;
} CreateArgs;

static void create_args_done(CreateArgs *a) {
        strv_free(a->template_args);
        strv_free(a->config_items);
}

static int read_create_options(sd_bus_message *m, CreateArgs *a, sd_bus_error *error) {
        int r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "config")) {
                        r = sd_bus_message_enter_container(m, 'v', "a(ss)");
                        if (r < 0)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                         "Option 'config' must be of type a(ss)");
                        a->config_items = strv_free(a->config_items);
                        r = bus_read_config_items(m, &a->config_items, error);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else if (streq(key, "unprivileged")) {
                        r = sd_bus_message_read(m, "v", "b", &a->unprivileged);
                        if (r < 0)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                         "Option 'unprivileged' must be of type b");
                } else
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Unknown option '%s' (known: config, unprivileged)", key);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_create_args(sd_bus_message *m, CreateArgs *a, sd_bus_error *error) {
        int r = sd_bus_message_read(m, "ss", &a->name, &a->template_name);
        if (r < 0)
                return r;
        r = sd_bus_message_read_strv(m, &a->template_args);
        if (r < 0)
                return r;
        return read_create_options(m, a, error);
}

/* The request's arguments and its caller: every continuation reads both
 * again from the rewound message. */
static int read_create_request(sd_bus_message *m, CreateArgs *a, uid_t *ret_caller, sd_bus_error *error) {
        int r = read_create_args(m, a, error);
        if (r < 0)
                return r;
        return bus_caller_uid(m, ret_caller);
}

/* Everything a create will do, worked out without touching the disk. */
typedef struct CreatePlan {
        Owner owner;
        bool owner_loaded;
        Idmap *idmap;
        char *user_conf, *user_conf_path;
        char *dir;
        bool needs_admin;
        char *admin_why;
        char **items; /* the caller's items, plus what the plan adds */
        ContainerCreateParams params;
} CreatePlan;

static void create_plan_done(CreatePlan *p) {
        if (p->owner_loaded)
                owner_done(&p->owner);
        idmap_free(p->idmap);
        free(p->user_conf);
        free(p->user_conf_path);
        free(p->dir);
        free(p->admin_why);
        strv_free(p->items);
}

static bool startswith_net(const char *k) {
        return strncmp(k, "lxc.net", 7) == 0;
}

static bool items_have_idmap(char *const *kv) {
        for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
                if (streq(kv[i], "lxc.idmap") && !isempty(kv[i + 1]))
                        return true;
        return false;
}

static bool items_mention_net(char *const *kv) {
        for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
                if (startswith_net(kv[i]))
                        return true;
        return false;
}

/* An owner without a usernet quota on a bridge default.conf names could
 * never start the container: give it loopback only instead. 1 if so. */
static int drop_unusable_nics(const Owner *o, const LxcConfig *c, const char *config_dir,
                              WarrenError *reterr) {
        _cleanup_strv_free_ char **bridges = network_config_bridges(c), **groups = NULL;
        _cleanup_free_ char *path = NULL, *user = NULL;
        if (!bridges)
                return -ENOMEM;
        if (!bridges[0])
                return 0;
        if (asprintf(&path, "%s/usernet", config_dir) < 0)
                return -ENOMEM;
        int r = usernet_lookup_user(o->uid, &user, &groups, reterr);
        if (r < 0)
                return r;
        STRV_FOREACH(b, bridges) {
                unsigned quota = 0;
                r = usernet_quota(path, user, groups, *b, &quota, reterr);
                if (r < 0)
                        return r;
                if (quota == 0)
                        return 1;
        }
        return 0;
}

static int plan_create(Daemon *d, const CreateArgs *a, uid_t caller, CreatePlan *plan, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_lxc_config_ LxcConfig *config = NULL;
        ContainerCreateParams *p = &plan->params;
        int r;

        *p = (ContainerCreateParams){
                .name = a->name,
                .template_name = a->template_name,
                .template_args = a->template_args,
                .owner = caller,
                .config_dir = d->config_dir,
                .data_dir = d->data_dir,
                .config_items = a->config_items,
        };
        r = container_create_validate(p, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        plan->dir = store_container_path(d->store, a->name, NULL);
        if (!plan->dir)
                return -ENOMEM;

        bool unprivileged = caller != 0 || a->unprivileged || items_have_idmap(a->config_items);
        if (unprivileged || caller != 0) {
                r = owner_load(d, caller, &plan->owner, &err);
                if (r < 0)
                        return bus_error_from_config(error, r, &err);
                plan->owner_loaded = true;
                p->include_allow = plan->owner.include_allow;
        }
        if (caller != 0) {
                uint64_t n;
                r = owner_count_containers(d, caller, false, &n);
                if (r < 0)
                        return r;
                r = limits_check(plan->owner.limits, LIMIT_CONTAINERS, caller, plan->owner.name, n, &err);
                if (r < 0)
                        return sd_bus_error_set(error, WARREN_ERROR_QUOTA_EXCEEDED,
                                                warren_error_message(&err)),
                               r;
                r = owner_read_default_conf(&plan->owner, &plan->user_conf, &plan->user_conf_path, &err);
                if (r < 0)
                        return bus_error_from_warren(error, r, &err);
                p->user_default_conf = plan->user_conf;
                p->user_default_conf_path = plan->user_conf_path;
        }
        if (unprivileged && !items_have_idmap(a->config_items)) {
                r = owner_default_idmap(&plan->owner, &plan->idmap, &err);
                if (r < 0)
                        return bus_error_from_warren(error, r, &err);
                p->idmap = plan->idmap;
        }
        plan->items = strv_copy(a->config_items);
        if (!plan->items && !(plan->items = calloc(1, sizeof(char *))))
                return -ENOMEM;
        p->config_items = plan->items;
        r = container_build_config(p, plan->dir, &config, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        if (caller != 0 && !items_mention_net(a->config_items)) {
                r = drop_unusable_nics(&plan->owner, config, d->config_dir, &err);
                if (r < 0)
                        return bus_error_from_config(error, r, &err);
                if (r > 0) {
                        if (strv_extend(&plan->items, "lxc.net") < 0 || strv_extend(&plan->items, "") < 0 ||
                            strv_extend(&plan->items, "lxc.net.0.type") < 0 ||
                            strv_extend(&plan->items, "empty") < 0)
                                return -ENOMEM;
                        p->config_items = plan->items;
                        config = lxc_config_free(config);
                        r = container_build_config(p, plan->dir, &config, &err);
                        if (r < 0)
                                return bus_error_from_config(error, r, &err);
                }
        }
        if (!p->idmap && unprivileged) {
                /* The caller's own lxc.idmap lines decide the rootfs owner. */
                r = idmap_from_config(config, &plan->idmap, &err);
                if (r < 0)
                        return bus_error_from_config(error, r, &err);
                p->idmap = plan->idmap;
        }
        if (caller != 0) {
                PolicyContext ctx;
                owner_policy_context(d, &plan->owner, plan->dir, &ctx);
                r = policy_check_config(&ctx, config, NULL, &err);
                if (r == -EACCES) {
                        plan->needs_admin = true;
                        plan->admin_why = strdup(warren_error_message(&err));
                } else if (r == -EPERM)
                        return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                                warren_error_message(&err)),
                               r;
                else if (r < 0)
                        return bus_error_from_config(error, r, &err);
        }
        r = store_exists(d->store, a->name);
        if (r < 0)
                return r;
        /* An image job may be building that name right now. */
        if (r > 0 || image_create_in_progress(a->name))
                return sd_bus_error_setf(error, WARREN_ERROR_ALREADY_EXISTS, "Container '%s' already exists",
                                         a->name);
        return 0;
}

static int do_create_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(create_args_done) CreateArgs a = {};
        _cleanup_(create_plan_done) CreatePlan plan = {};
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *cpath = NULL, *jpath = NULL;
        uid_t caller;
        Job *job;
        int r = read_create_request(m, &a, &caller, error);
        if (r < 0)
                return r;
        /* Planned again: the world may have changed while polkit answered. */
        r = plan_create(d, &a, caller, &plan, error);
        if (r < 0)
                return r;
        r = container_create(d->store, &plan.params, &err);
        if (r == -EEXIST)
                return sd_bus_error_set(error, WARREN_ERROR_ALREADY_EXISTS, warren_error_message(&err)), r;
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        cpath = container_bus_path(a.name);
        if (!cpath)
                return -ENOMEM;
        (void) container_emit_added(d, a.name);
        /* busybox is built offline in one go; the job still exists so every
         * template looks the same to clients: JobNew now, JobRemoved after
         * the reply. */
        r = job_new(d, "create", a.name, &job);
        if (r < 0)
                return r;
        jpath = job_bus_path(job);
        r = jpath ? sd_bus_reply_method_return(m, "oo", cpath, jpath) : -ENOMEM;
        (void) job_finish(job, "done");
        return r;
}

/* org.warren1.create granted: the owner rules may also want the admin. */
static int do_create_authorized(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(create_args_done) CreateArgs a = {};
        _cleanup_(create_plan_done) CreatePlan plan = {};
        uid_t caller;
        int r = read_create_request(m, &a, &caller, error);
        if (r < 0)
                return r;
        r = plan_create(d, &a, caller, &plan, error);
        if (r < 0)
                return r;
        if (!plan.needs_admin) {
                r = sd_bus_message_rewind(m, true);
                return r < 0 ? r : do_create_container(m, userdata, error);
        }
        const PolkitDetails det = { .container = a.name, .owner = caller, .why = plan.admin_why };
        return polkit_authorize(d, m, ADMIN_ACTION, &det, do_create_container, d, error);
}

static bool is_image_template(const char *t) {
        return streq(t, "download") || streq(t, "local");
}

static int do_create_from_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(create_args_done) CreateArgs a = {};
        uid_t caller;
        int r = read_create_request(m, &a, &caller, error);
        if (r < 0)
                return r;
        return image_create_start(d, m, a.name, a.template_name, a.template_args, a.config_items, caller,
                                  error);
}

/* After org.warren1.create: the image templates may need one more action
 * (pulling into the shared cache, or --no-verify). */
static int do_create_authorize_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(create_args_done) CreateArgs a = {};
        const char *action = NULL;
        uid_t caller;
        int r = read_create_request(m, &a, &caller, error);
        if (r < 0)
                return r;
        r = image_create_validate(d, a.name, a.template_name, a.template_args, a.config_items, caller,
                                  &action, error);
        if (r < 0)
                return r;
        if (!action) {
                r = sd_bus_message_rewind(m, true);
                return r < 0 ? r : do_create_from_image(m, userdata, error);
        }
        const PolkitDetails det = { .container = a.name, .owner = caller };
        return polkit_authorize(d, m, action, &det, do_create_from_image, d, error);
}

int method_create_container(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(create_args_done) CreateArgs a = {};
        _cleanup_(create_plan_done) CreatePlan plan = {};
        uid_t caller;
        int r = read_create_args(m, &a, error);
        if (r < 0)
                return r;
        r = bus_validate_name(a.name, error);
        if (r < 0)
                return r;
        r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        const PolkitDetails det = { .container = a.name, .owner = caller };
        if (is_image_template(a.template_name)) {
                const char *action = NULL;
                r = image_create_validate(d, a.name, a.template_name, a.template_args, a.config_items,
                                          caller, &action, error);
                if (r < 0)
                        return r;
                return polkit_authorize(d, m, "org.warren1.create", &det, do_create_authorize_image, d,
                                        error);
        }
        /* Everything is checked before polkit: garbage never prompts anyone. */
        r = plan_create(d, &a, caller, &plan, error);
        if (r < 0)
                return r;
        return polkit_authorize(d, m, "org.warren1.create", &det, do_create_authorized, d, error);
}
