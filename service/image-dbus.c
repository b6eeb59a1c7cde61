/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Images on the bus: the "download" and "local" templates of
 * CreateContainer, Manager.PullImage/RemoveImage/ListImages/
 * ListRemoteImages and org.warren1.Image objects (one per cached build).
 *
 * The work runs in warren-worker: lib/image-job.h for downloads,
 * image-helper.h for the local template and remote listings. warrend only
 * watches their sockets, turns their progress into Job properties and, for
 * a create, moves the finished directory into the store (store_create_begin
 * before the child starts, commit or abort after it ends). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/escape.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "bus-error.h"
#include "bus-util.h"
#include "container-dbus.h"
#include "config.h"
#include "container.h"
#include "daemon.h"
#include "idmap.h"
#include "image-args.h"
#include "image-cache.h"
#include "image-dbus.h"
#include "image-helper.h"
#include "image-job.h"
#include "image-remote.h"
#include "job.h"
#include "network.h"
#include "owner-limits.h"
#include "owner.h"
#include "polkit.h"
#include "store.h"
#include "usernet.h"

#define ACTION_PULL "org.warren1.pull-image"
#define ACTION_ADMIN "org.warren1.create-privileged"
#define REMOTE_TEXT_MAX (4U * 1024U * 1024U)

/* ---- running image work ---- */

typedef struct ImageWork ImageWork;
struct ImageWork {
        Daemon *daemon;
        Job *job;
        uid_t caller;
        ImageJob *image_job;   /* download and pull */
        sd_event_source *io;   /* on a dup of image_job's socket */
        ImageHelper *helper;   /* local */
        ImageJobResult result; /* what the local helper reported */
        bool has_result;
        StoreCreate *create; /* create: the container's temporary directory */
        char *container;
        char *dist, *release, *arch, *variant;
        char *server; /* canonical; with user/uid: where its builds are cached */
        bool user;
        uid_t uid;
        Owner owner; /* non-root creates: the assembled config is checked again */
        bool owner_loaded;
        ImageWork *next;
};

static ImageWork *works = NULL;

static size_t works_count(uid_t uid) {
        size_t n = 0;
        for (ImageWork *w = works; w; w = w->next)
                if (uid == (uid_t) -1 || w->caller == uid)
                        n++;
        return n;
}

static ImageWork *work_by_container(const char *name) {
        for (ImageWork *w = works; w; w = w->next)
                if (w->container && streq(w->container, name))
                        return w;
        return NULL;
}

bool image_create_in_progress(const char *name) {
        return work_by_container(name) != NULL;
}

uint32_t image_in_use(const ImageOrigin *o, const ImageSpec *spec) {
        for (ImageWork *w = works; w; w = w->next)
                if (w->dist && streq(w->server, o->server) && w->user == o->user &&
                    (!o->user || w->uid == o->uid) && streq(w->dist, spec->dist) &&
                    streq(w->release, spec->release) && streq(w->arch, spec->arch) &&
                    streq(w->variant, spec->variant))
                        return w->job ? w->job->id : UINT32_MAX;
        return 0;
}

static ImageWork *work_free(ImageWork *w) {
        if (!w)
                return NULL;
        for (ImageWork **p = &works; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        if (w->job && w->job->cancel_userdata == w)
                job_set_cancel(w->job, w->caller, NULL, NULL);
        w->io = sd_event_source_disable_unref(w->io);
        image_job_free(w->image_job);
        image_helper_free(w->helper);
        image_job_result_done(&w->result);
        store_create_abort(w->create);
        if (w->owner_loaded)
                owner_done(&w->owner);
        free(w->container);
        free(w->dist);
        free(w->release);
        free(w->arch);
        free(w->variant);
        free(w->server);
        free(w);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageWork *, work_free);

/* The bus error a failed image job maps to: its errno says which. */
const char *image_job_error_name(int err) {
        switch (err) {
        case ECOMM:
                return WARREN_ERROR_DOWNLOAD_FAILED;
        case EBADE:
                return WARREN_ERROR_VERIFICATION_FAILED;
        case ENOENT:
                return WARREN_ERROR_NO_SUCH_IMAGE;
        case EEXIST:
                return WARREN_ERROR_ALREADY_EXISTS;
        case EDQUOT:
                return WARREN_ERROR_QUOTA_EXCEEDED;
        case EACCES:
                return SD_BUS_ERROR_ACCESS_DENIED;
        default:
                return SD_BUS_ERROR_FAILED;
        }
}

/* A non-root owner's config is held to the owner rules: the image's config
 * came from a server, so it is checked once assembled, before the commit. */
static int work_check_config(ImageWork *w, WarrenError *reterr) {
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        _cleanup_free_ char *path = NULL;
        PolicyContext ctx;
        if (!w->owner_loaded || w->caller == 0)
                return 0;
        if (!c || asprintf(&path, "%s/config", store_create_temp_path(w->create)) < 0)
                return -ENOMEM;
        const LxcParseOptions opts = { .include_mode = LXC_INCLUDE_KEEP };
        int r = lxc_config_load(c, path, &opts, reterr);
        if (r < 0)
                return r;
        owner_policy_context(w->daemon, &w->owner, store_create_final_path(w->create), &ctx);
        r = policy_check_config(&ctx, c, NULL, reterr);
        if (r < 0)
                warren_error_prefix(reterr, "The image's config is not allowed for uid %u",
                                    (unsigned) w->caller);
        return r;
}

static void work_end(ImageWork *w, const ImageJobResult *res) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *safe = NULL;
        Daemon *d = w->daemon;
        int r = res->error ? -res->error : 0;
        const char *message = res->message;

        if (r >= 0 && w->create) {
                r = work_check_config(w, &err);
                if (r >= 0)
                        r = store_create_commit(w->create, &err);
                if (r < 0)
                        message = warren_error_message(&err);
        }
        if (r >= 0) {
                if (w->create)
                        (void) container_emit_added(d, w->container);
                /* A user's own partition is announced to nobody. */
                if (res->downloaded && res->build && w->dist && !w->user) {
                        const ImageOrigin o = { .server = w->server, .user = w->user, .uid = w->uid };
                        const ImageSpec spec = { w->dist, w->release, w->arch, w->variant };
                        _cleanup_free_ char *ipath = image_bus_path(&o, &spec, res->build);
                        if (ipath)
                                (void) sd_bus_emit_object_added(d->bus, ipath);
                }
                log_debug("Image job %u (%s %s) done, build %s", w->job->id, w->job->type, w->job->target,
                          strna(res->build));
                /* The create-message is the server's text: it reaches terminals. */
                safe = res->create_message ? escape_untrusted_text(res->create_message, 0) : NULL;
                (void) job_set_message(w->job, NULL, safe);
                (void) job_finish(w->job, "done");
        } else if (r == -ECANCELED) {
                log_info("Image job %u (%s %s) canceled", w->job->id, w->job->type, w->job->target);
                (void) job_set_message(w->job, NULL, "Canceled");
                (void) job_finish(w->job, "canceled");
        } else {
                /* Errors may quote what a server or a tarball said. */
                safe = escape_untrusted_text(message ?: strerror(-r), 0);
                message = safe ?: strerror(-r);
                log_warning("Image job %u (%s %s) failed: %s", w->job->id, w->job->type, w->job->target,
                            message);
                (void) job_set_message(w->job, image_job_error_name(-r), message);
                (void) job_finish(w->job, "failed");
        }
        work_free(w);
}

static int on_image_job_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ImageWork *w = userdata;
        for (;;) {
                ImageJobProgress p;
                ImageJobResult res = {};
                int k = image_job_dispatch(w->image_job, &p, &res);
                if (k == IMAGE_JOB_NONE)
                        return 0;
                if (k == IMAGE_JOB_PROGRESS) {
                        job_set_progress(w->job, p.progress, p.bytes_done, p.bytes_total,
                                         image_phase_to_string(p.phase));
                        continue;
                }
                if (k < 0) {
                        (void) image_job_cancel(w->image_job, NULL);
                        res.error = EIO;
                        if (asprintf(&res.message, "Failed to read from the image job: %s", strerror(-k)) <
                            0)
                                res.message = NULL;
                }
                work_end(w, &res);
                image_job_result_done(&res);
                return 0;
        }
}

static void on_local_message(ImageHelper *h, const uint8_t *buf, size_t size, void *userdata) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        ImageWork *w = userdata;
        ImageJobMsg m;
        if (size > IMAGE_JOB_MSG_MAX || image_job_msg_decode(buf, size, &m, &err) < 0) {
                log_warning("Image helper %d sent an invalid message: %s", (int) image_helper_pid(h),
                            size > IMAGE_JOB_MSG_MAX ? "too large" : warren_error_message(&err));
                return;
        }
        if (m.type == IMAGE_JOB_MSG_PROGRESS)
                job_set_progress(w->job, m.progress.progress, m.progress.bytes_done, m.progress.bytes_total,
                                 image_phase_to_string(m.progress.phase));
        else if (!w->has_result) {
                w->result = m.result;
                w->has_result = true;
                return;
        }
        image_job_msg_done(&m);
}

static void on_local_exit(ImageHelper *h, int status, void *userdata) {
        ImageWork *w = userdata;
        ImageJobResult res = {};
        w->helper = image_helper_free(w->helper);
        if (!w->has_result) {
                res.error = EIO;
                if (asprintf(&res.message, "Image helper ended without a result (wait status 0x%x)",
                             status) < 0)
                        res.message = NULL;
                /* It may have been killed midway: clear what it left. */
                (void) image_job_cleanup_target(store_create_temp_path(w->create));
        }
        work_end(w, w->has_result ? &w->result : &res);
        image_job_result_done(&res);
}

static int work_cancel(Job *j, void *userdata) {
        ImageWork *w = userdata;
        ImageJobResult res = {};
        if (w->image_job)
                (void) image_job_cancel(w->image_job, &res);
        else {
                w->helper = image_helper_free(w->helper);
                res.error = ECANCELED;
        }
        work_end(w, &res);
        image_job_result_done(&res);
        return 0;
}

/* Job and list membership, once the child runs. */
static int work_register(ImageWork *w, const char *type, const char *target) {
        int r = job_new(w->daemon, type, target, &w->job);
        if (r < 0)
                return r;
        job_set_cancel(w->job, w->caller, work_cancel, w);
        w->next = works;
        works = w;
        return 0;
}

static int work_watch_image_job(ImageWork *w) {
        _cleanup_close_ int fd = fcntl(image_job_fd(w->image_job), F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        /* A dup: the job closes its own fd when it finishes, inside dispatch. */
        int r = sd_event_add_io(w->daemon->event, &w->io, fd, EPOLLIN, on_image_job_io, w);
        if (r < 0)
                return r;
        r = sd_event_source_set_io_fd_own(w->io, true);
        if (r < 0)
                return r;
        TAKE_FD(fd);
        return 0;
}

/* Where --server points for this caller: root trusts whatever it names
 * and fills the shared cache; others fill it only from remotes listed for
 * them (remotes.conf users = yes); their ad-hoc servers get a partition
 * of the cache of their own, which nobody else (root included) reads, and
 * a listed remote closed to users needs the administrator. */
typedef struct ImageSource {
        ImageServerChoice choice;
        bool user_partition;
        bool needs_admin;
        char *admin_why;
} ImageSource;

static void image_source_done(ImageSource *s) {
        image_server_choice_done(&s->choice);
        free(s->admin_why);
}

static int image_source_resolve(Daemon *d, const char *server, uid_t caller, ImageSource *ret,
                                sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_image_remotes_ ImageRemotes *rs = NULL;
        int r = image_remotes_load((const char *const[]){ d->config_dir, d->data_dir, NULL }, &rs, &err);
        if (r < 0)
                return sd_bus_error_setf(error, WARREN_ERROR_INVALID_CONFIG, "Image remotes unusable: %s",
                                         warren_error_message(&err)),
                       r;
        r = image_remotes_resolve(rs, server, &ret->choice, &err);
        if (r < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, warren_error_message(&err)), r;
        if (caller == 0)
                return 0;
        if (!ret->choice.remote)
                ret->user_partition = true;
        else if (!ret->choice.users) {
                ret->needs_admin = true;
                if (asprintf(&ret->admin_why,
                             "image remote '%s' is not open to ordinary users (remotes.conf)",
                             ret->choice.remote) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static ImageOrigin source_origin(const ImageSource *s, uid_t caller) {
        return (ImageOrigin){ .server = s->choice.url, .user = s->user_partition, .uid = caller };
}

static int work_set_spec(ImageWork *w, const ImageArgs *a, const ImageSource *src) {
        w->dist = strdup(a->dist);
        w->release = strdup(a->release);
        w->arch = strdup(a->arch);
        w->variant = strdup(a->variant);
        w->server = strdup(src->choice.url);
        w->user = src->user_partition;
        w->uid = w->caller;
        return w->dist && w->release && w->arch && w->variant && w->server ? 0 : -ENOMEM;
}

static void fetch_params(const ImageArgs *a, const ImageSource *src, uid_t caller, ImageMode mode,
                         ImageFetchParams *ret) {
        *ret = (ImageFetchParams){
                .origin = source_origin(src, caller),
                .keyring = src->choice.keyring,
                .spec = { a->dist, a->release, a->arch, a->variant },
                .mode = mode,
                .no_verify = a->no_verify,
                .flush_cache = a->flush_cache,
                .force_cache = a->force_cache,
                .limits = {
                        .index_max = a->max_size ? MIN(a->max_size, IMAGE_LIMIT_INDEX_DEFAULT) : 0,
                        .meta_max = a->max_size ? MIN(a->max_size, IMAGE_LIMIT_META_DEFAULT) : 0,
                        .rootfs_max = a->max_size ? MIN(a->max_size, IMAGE_LIMIT_ROOTFS_DEFAULT) : 0,
                },
                .download = {
                        .connect_timeout_s = a->timeout_s,
                        .low_speed_time_s = a->timeout_s,
                },
        };
}

static int work_limits(Daemon *d, uid_t caller, const Owner *owner, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        size_t n = works_count((uid_t) -1);
        if (n >= IMAGE_JOBS_MAX)
                return sd_bus_error_setf(error, WARREN_ERROR_QUOTA_EXCEEDED,
                                         "Too many image jobs: %zu are running, the limit is %u per warrend",
                                         n, IMAGE_JOBS_MAX);
        if (owner && caller != 0 &&
            limits_check(owner->limits, LIMIT_JOBS, caller, owner->name, works_count(caller), &err) < 0)
                return sd_bus_error_set(error, WARREN_ERROR_QUOTA_EXCEEDED, warren_error_message(&err)),
                       -EDQUOT;
        return 0;
}

/* ---- CreateContainer with an image template ---- */

typedef struct CreateRequest {
        const char *name, *template_name;
        char **args;
        char **items;
        int unprivileged;
} CreateRequest;

static void create_request_done(CreateRequest *q) {
        strv_free(q->args);
        strv_free(q->items);
}

/* Manager.CreateContainer's arguments, read again after polkit. */
static int read_create_request(sd_bus_message *m, CreateRequest *q, sd_bus_error *error) {
        int r = sd_bus_message_rewind(m, true);
        if (r >= 0)
                r = sd_bus_message_read(m, "ss", &q->name, &q->template_name);
        if (r >= 0)
                r = sd_bus_message_read_strv(m, &q->args);
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0 && streq(key, "config")) {
                        r = sd_bus_message_enter_container(m, 'v', "a(ss)");
                        if (r >= 0) {
                                q->items = strv_free(q->items);
                                r = bus_read_config_items(m, &q->items, error);
                        }
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else if (r >= 0 && streq(key, "unprivileged"))
                        r = sd_bus_message_read(m, "v", "b", &q->unprivileged);
                else if (r >= 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Unknown option '%s' (known: config, unprivileged)", key);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r;
}

/* What a create will do, worked out before anything changes. */
typedef struct ImagePlan {
        ImageArgs args;
        ImageSource source; /* download */
        bool unprivileged;
        Owner owner;
        bool owner_loaded;
        Idmap *idmap;
        ImageIdRange *ranges;
        size_t n_ranges;
        char *default_config; /* default.conf layers, the caller's items, the idmap */
        char *dir;
        char *admin_why;
        const char *actions[2]; /* polkit actions on top of org.warren1.create */
        size_t n_actions;
} ImagePlan;

static void image_plan_done(ImagePlan *p) {
        image_source_done(&p->source);
        if (p->owner_loaded)
                owner_done(&p->owner);
        idmap_free(p->idmap);
        free(p->ranges);
        free(p->default_config);
        free(p->dir);
        free(p->admin_why);
}

static bool items_have_key(char *const *kv, const char *prefix, bool exact) {
        for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
                if (exact ? streq(kv[i], prefix) && !isempty(kv[i + 1])
                          : strncmp(kv[i], prefix, strlen(prefix)) == 0)
                        return true;
        return false;
}

static int plan_idmap(ImagePlan *p, const LxcConfig *items_config, WarrenError *reterr) {
        int r = items_config ? idmap_from_config(items_config, &p->idmap, reterr)
                             : owner_default_idmap(&p->owner, &p->idmap, reterr);
        if (r < 0)
                return r;
        p->ranges = calloc(2 * p->idmap->n + 1, sizeof *p->ranges);
        if (!p->ranges)
                return -ENOMEM;
        for (size_t i = 0; i < p->idmap->n; i++) {
                const IdmapLine *l = &p->idmap->lines[i];
                for (int gid = 0; gid <= 1; gid++)
                        if (l->kind & (gid ? IDMAP_GID : IDMAP_UID))
                                p->ranges[p->n_ranges++] = (ImageIdRange){
                                        .gid = gid, .ns_id = l->nsid, .host_id = l->hostid, .count = l->count
                                };
        }
        return 0;
}

/* The layers under the image's config: default.conf, the owner's own
 * default.conf, the idmap, the caller's items (so their lxc.net keys land
 * in the network section, after default.conf's). */
static int plan_base_config(Daemon *d, const CreateRequest *q, ImagePlan *p, uid_t caller, LxcConfig **ret,
                            WarrenError *reterr) {
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_new();
        _cleanup_free_ char *user_conf = NULL, *user_conf_path = NULL;
        int r;
        if (!c)
                return -ENOMEM;
        const char *dirs[] = { d->config_dir, d->data_dir };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/default.conf", dirs[i]) < 0)
                        return -ENOMEM;
                if (access(path, F_OK) < 0)
                        continue;
                const LxcParseOptions opts = { .include_mode = LXC_INCLUDE_KEEP, .fill_hwaddr = true };
                r = lxc_config_load(c, path, &opts, reterr);
                if (r < 0)
                        return r;
                break;
        }
        if (caller != 0) {
                r = owner_read_default_conf(&p->owner, &user_conf, &user_conf_path, reterr);
                if (r < 0)
                        return r;
        }
        if (user_conf) {
                const LxcParseOptions opts = { .include_mode = LXC_INCLUDE_KEEP,
                                               .fill_hwaddr = true,
                                               .include_allow = p->owner.include_allow };
                r = lxc_config_parse(c, user_conf, strlen(user_conf), user_conf_path, &opts, reterr);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; p->idmap && !items_have_key(q->items, "lxc.idmap", true) && i < p->idmap->n;
             i++) {
                _cleanup_free_ char *v = idmap_line_format(&p->idmap->lines[i]);
                if (!v)
                        return -ENOMEM;
                r = lxc_config_apply(c, "lxc.idmap", v, reterr);
                if (r < 0)
                        return r;
        }
        r = container_config_apply_items(c, q->items, reterr);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

/* An owner without a usernet quota on a bridge of default.conf could never
 * start the container: it gets loopback only, as with busybox. */
static int plan_drop_unusable_nics(Daemon *d, const ImagePlan *p, LxcConfig *c, WarrenError *reterr) {
        _cleanup_strv_free_ char **bridges = network_config_bridges(c), **groups = NULL;
        _cleanup_free_ char *path = NULL, *user = NULL;
        unsigned quota = 1;
        int r;
        if (!bridges)
                return -ENOMEM;
        if (!bridges[0])
                return 0;
        if (asprintf(&path, "%s/usernet", d->config_dir) < 0)
                return -ENOMEM;
        r = usernet_lookup_user(p->owner.uid, &user, &groups, reterr);
        for (char **b = bridges; r >= 0 && *b && quota > 0; b++)
                r = usernet_quota(path, user, groups, *b, &quota, reterr);
        if (r < 0 || quota > 0)
                return r;
        r = lxc_config_apply(c, "lxc.net", "", reterr);
        if (r >= 0)
                r = lxc_config_apply(c, "lxc.net.0.type", "empty", reterr);
        return r;
}

/* The owner rules (lib/policy.h), on everything but the image's own config. */
static int plan_check_policy(Daemon *d, const CreateRequest *q, ImagePlan *p, const LxcConfig *base,
                             sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_lxc_config_ LxcConfig *c = lxc_config_copy(base);
        _cleanup_free_ char *rootfs = NULL;
        PolicyContext ctx;
        if (!c || asprintf(&rootfs, "dir:%s/rootfs", p->dir) < 0)
                return -ENOMEM;
        int r = lxc_config_apply(c, "lxc.rootfs.path", rootfs, &err);
        if (r >= 0)
                r = lxc_config_apply(c, "lxc.uts.name", q->name, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        owner_policy_context(d, &p->owner, p->dir, &ctx);
        r = policy_check_config(&ctx, c, NULL, &err);
        if (r == -EACCES) {
                p->admin_why = strdup(warren_error_message(&err));
                return p->admin_why ? 1 : -ENOMEM;
        }
        if (r == -EPERM)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, warren_error_message(&err)), r;
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        return 0;
}

static int plan_image_create(Daemon *d, const CreateRequest *q, uid_t caller, ImagePlan *p,
                             sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_lxc_config_ LxcConfig *items = lxc_config_new(), *base = NULL;
        bool needs_admin = false;
        int r;

        if (!items)
                return -ENOMEM;
        r = bus_validate_name(q->name, error);
        if (r < 0)
                return r;
        r = parse_image_args(q->template_name, q->args, &p->args, error);
        if (r < 0)
                return r;
        if (p->args.local && caller != 0)
                return sd_bus_error_setf(
                        error, SD_BUS_ERROR_ACCESS_DENIED,
                        "Template 'local' opens a file by the caller's path: only root may use "
                        "it (uid %u asked for '%s')",
                        (unsigned) caller, p->args.fstree);
        if (!p->args.local) {
                r = image_source_resolve(d, p->args.server, caller, &p->source, error);
                if (r < 0)
                        return r;
        }
        r = container_config_apply_items(items, q->items, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        r = store_exists(d->store, q->name);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to look up container '%s': %m", q->name);
        ImageWork *busy = work_by_container(q->name);
        if (r > 0 || busy)
                return sd_bus_error_setf(error, WARREN_ERROR_ALREADY_EXISTS,
                                         "Container '%s' already exists%s", q->name,
                                         busy ? " (it is being created)" : "");
        p->dir = store_container_path(d->store, q->name, NULL);
        if (!p->dir)
                return -ENOMEM;

        bool own_idmap = items_have_key(q->items, "lxc.idmap", true);
        p->unprivileged = caller != 0 || q->unprivileged || own_idmap;
        if (p->unprivileged || caller != 0) {
                r = owner_load(d, caller, &p->owner, &err);
                if (r < 0)
                        return bus_error_from_config(error, r, &err);
                p->owner_loaded = true;
        }
        r = work_limits(d, caller, p->owner_loaded ? &p->owner : NULL, error);
        if (r < 0)
                return r;
        if (caller != 0) {
                uint64_t n;
                r = owner_count_containers(d, caller, false, &n);
                if (r < 0)
                        return r;
                /* n counts creates in progress (the store's), this one's too once begun. */
                r = limits_check(p->owner.limits, LIMIT_CONTAINERS, caller, p->owner.name, n, &err);
                if (r < 0)
                        return sd_bus_error_set(error, WARREN_ERROR_QUOTA_EXCEEDED,
                                                warren_error_message(&err)),
                               r;
        }
        if (p->unprivileged) {
                r = plan_idmap(p, own_idmap ? items : NULL, &err);
                if (r < 0)
                        return bus_error_from_warren(error, r, &err);
        }
        r = plan_base_config(d, q, p, caller, &base, &err);
        if (r >= 0 && caller != 0 && !items_have_key(q->items, "lxc.net", false))
                r = plan_drop_unusable_nics(d, p, base, &err);
        if (r < 0)
                return bus_error_from_config(error, r, &err);
        if (caller != 0) {
                r = plan_check_policy(d, q, p, base, error);
                if (r < 0)
                        return r;
                needs_admin = r > 0;
        }
        p->default_config = lxc_config_format(base);
        if (!p->default_config)
                return -ENOMEM;
        if (!p->args.local && caller != 0)
                p->actions[p->n_actions++] = ACTION_PULL;
        if (caller != 0 && !p->admin_why && (p->args.no_verify || p->source.admin_why)) {
                p->admin_why = strdup(p->args.no_verify ? "--no-verify skips the image's verification"
                                                        : p->source.admin_why);
                if (!p->admin_why)
                        return -ENOMEM;
        }
        if (caller != 0 && (p->args.no_verify || needs_admin || p->source.needs_admin))
                p->actions[p->n_actions++] = ACTION_ADMIN;
        return 0;
}

int image_create_validate(Daemon *d, const char *name, const char *template_name, char *const *template_args,
                          char *const *config_items, uid_t caller, const char **ret_action,
                          sd_bus_error *error) {
        _cleanup_(image_plan_done) ImagePlan plan = {};
        const CreateRequest q = { .name = name,
                                  .template_name = template_name,
                                  .args = (char **) template_args,
                                  .items = (char **) config_items };
        int r = plan_image_create(d, &q, caller, &plan, error);
        if (r < 0)
                return r;
        *ret_action = plan.n_actions > 0 ? plan.actions[0] : NULL;
        return 0;
}

static int create_start_child(Daemon *d, ImageWork *w, const CreateRequest *q, const ImagePlan *p,
                              WarrenError *reterr) {
        _cleanup_free_ char *hooks = NULL;
        const ImageMode mode = p->unprivileged ? IMAGE_MODE_USER : IMAGE_MODE_SYSTEM;
        if (asprintf(&hooks, "%s/hooks", d->data_dir) < 0)
                return -ENOMEM;
        if (p->args.local) {
                const ImageLocalParams lp = {
                        .fstree = p->args.fstree,
                        .metadata = p->args.metadata,
                        .target_dir = store_create_temp_path(w->create),
                        .container_name = q->name,
                        .container_path = store_create_final_path(w->create),
                        .template_config = d->data_dir,
                        .hook_dir = hooks,
                        .default_config = p->default_config,
                        .mode = mode,
                        .idmap = p->ranges,
                        .n_idmap = p->n_ranges,
                };
                return image_helper_start_local(d->event, d->worker_path, &lp, on_local_message,
                                                on_local_exit, w, &w->helper, reterr);
        }
        ImagePullParams pp = {
                .cache_dir = d->cache_dir,
                .target_dir = store_create_temp_path(w->create),
                .container_name = q->name,
                .container_path = store_create_final_path(w->create),
                .template_config = d->data_dir,
                .hook_dir = hooks,
                .default_config = p->default_config,
                .idmap = p->ranges,
                .n_idmap = p->n_ranges,
        };
        fetch_params(&p->args, &p->source, w->caller, mode, &pp.fetch);
        int r = work_set_spec(w, &p->args, &p->source);
        if (r < 0)
                return r;
        r = image_job_start(d->worker_path, &pp, &w->image_job, reterr);
        if (r < 0)
                return r;
        r = work_watch_image_job(w);
        return r < 0 ? warren_error_set(reterr, r, "Failed to watch the image job: %s", strerror(-r)) : 0;
}

static int image_create_run(Daemon *d, sd_bus_message *m, const CreateRequest *q, ImagePlan *p, uid_t caller,
                            sd_bus_error *error) {
        _cleanup_(work_freep) ImageWork *w = calloc(1, sizeof(ImageWork));
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *cpath = container_bus_path(q->name), *jpath = NULL;
        int r;

        if (!w || !cpath)
                return -ENOMEM;
        w->daemon = d;
        w->caller = caller;
        w->container = strdup(q->name);
        if (!w->container)
                return -ENOMEM;
        if (p->owner_loaded) {
                w->owner = p->owner;
                w->owner_loaded = true;
                p->owner = (Owner){};
                p->owner_loaded = false;
        }
        r = store_create_begin(d->store, q->name, caller, &w->create, &err);
        if (r == -EEXIST)
                return sd_bus_error_set(error, WARREN_ERROR_ALREADY_EXISTS, warren_error_message(&err)), r;
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        r = create_start_child(d, w, q, p, &err);
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        r = work_register(w, "create", q->name);
        if (r < 0)
                return r;
        jpath = job_bus_path(w->job);
        log_debug("Image job %u creates '%s' for uid %u", w->job->id, q->name, (unsigned) caller);
        TAKE_PTR(w);
        return jpath ? sd_bus_reply_method_return(m, "oo", cpath, jpath) : -ENOMEM;
}

/* Every action the plan needs is granted. */
static int do_image_create_final(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(create_request_done) CreateRequest q = {};
        _cleanup_(image_plan_done) ImagePlan plan = {};
        uid_t caller;
        int r = read_create_request(m, &q, error);
        if (r >= 0)
                r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        r = plan_image_create(d, &q, caller, &plan, error);
        if (r < 0)
                return r;
        return image_create_run(d, m, &q, &plan, caller, error);
}

int image_create_start(Daemon *d, sd_bus_message *m, const char *name, const char *template_name,
                       char *const *template_args, char *const *config_items, uid_t owner,
                       sd_bus_error *error) {
        _cleanup_(create_request_done) CreateRequest q = {};
        _cleanup_(image_plan_done) ImagePlan plan = {};
        /* Planned again (the world may have changed while polkit answered),
         * with the options the caller gave. */
        int r = read_create_request(m, &q, error);
        if (r < 0)
                return r;
        r = plan_image_create(d, &q, owner, &plan, error);
        if (r < 0)
                return r;
        /* actions[0] was granted before we were called; the rest now. */
        if (plan.n_actions > 1) {
                const PolkitDetails det = { .container = q.name, .owner = owner, .why = plan.admin_why };
                return polkit_authorize(d, m, plan.actions[1], &det, do_image_create_final, d, error);
        }
        return image_create_run(d, m, &q, &plan, owner, error);
}

/* ---- PullImage ---- */

typedef struct PullRequest {
        char **args;
} PullRequest;

static void pull_request_done(PullRequest *q) {
        strv_free(q->args);
}

static int read_pull_request(sd_bus_message *m, PullRequest *q, sd_bus_error *error) {
        int r = sd_bus_message_rewind(m, true);
        if (r >= 0)
                r = sd_bus_message_read_strv(m, &q->args);
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Unknown option '%s' (PullImage takes none yet)", key);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r;
}

static int plan_pull(Daemon *d, sd_bus_message *m, PullRequest *q, ImageArgs *a, ImageSource *src,
                     uid_t *ret_caller, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        Owner owner = {};
        int r = read_pull_request(m, q, error);
        if (r >= 0)
                r = bus_caller_uid(m, ret_caller);
        if (r < 0)
                return r;
        r = parse_image_args("download", q->args, a, error);
        if (r < 0)
                return r;
        r = image_source_resolve(d, a->server, *ret_caller, src, error);
        if (r < 0)
                return r;
        if (*ret_caller != 0) {
                r = owner_load(d, *ret_caller, &owner, &err);
                if (r < 0)
                        return bus_error_from_config(error, r, &err);
        }
        r = work_limits(d, *ret_caller, *ret_caller != 0 ? &owner : NULL, error);
        if (*ret_caller != 0)
                owner_done(&owner);
        return r;
}

static int do_pull_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(pull_request_done) PullRequest q = {};
        _cleanup_(image_source_done) ImageSource src = {};
        _cleanup_(work_freep) ImageWork *w = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *target = NULL, *jpath = NULL;
        ImageArgs a;
        uid_t caller;
        int r = plan_pull(d, m, &q, &a, &src, &caller, error);
        if (r < 0)
                return r;
        w = calloc(1, sizeof *w);
        if (!w || asprintf(&target, "%s/%s/%s/%s", a.dist, a.release, a.arch, a.variant) < 0)
                return -ENOMEM;
        w->daemon = d;
        w->caller = caller;
        ImagePullParams pp = { .cache_dir = d->cache_dir };
        fetch_params(&a, &src, caller, caller == 0 ? IMAGE_MODE_SYSTEM : IMAGE_MODE_USER, &pp.fetch);
        r = work_set_spec(w, &a, &src);
        if (r < 0)
                return r;
        r = image_job_start(d->worker_path, &pp, &w->image_job, &err);
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        r = work_watch_image_job(w);
        if (r < 0)
                return r;
        r = work_register(w, "pull", target);
        if (r < 0)
                return r;
        jpath = job_bus_path(w->job);
        TAKE_PTR(w);
        return jpath ? sd_bus_reply_method_return(m, "o", jpath) : -ENOMEM;
}

/* --no-verify, or a remote closed to users, also needs the administrator. */
static int do_pull_authorized(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(pull_request_done) PullRequest q = {};
        _cleanup_(image_source_done) ImageSource src = {};
        ImageArgs a;
        uid_t caller;
        int r = plan_pull(userdata, m, &q, &a, &src, &caller, error);
        if (r < 0)
                return r;
        if (caller == 0 || !(a.no_verify || src.needs_admin))
                return do_pull_image(m, userdata, error);
        const PolkitDetails det = { .owner = caller,
                                    .why = a.no_verify ? "--no-verify skips the image's verification"
                                                       : src.admin_why };
        return polkit_authorize(userdata, m, ACTION_ADMIN, &det, do_pull_image, userdata, error);
}

int method_pull_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(pull_request_done) PullRequest q = {};
        _cleanup_(image_source_done) ImageSource src = {};
        ImageArgs a;
        uid_t caller;
        int r = plan_pull(userdata, m, &q, &a, &src, &caller, error);
        if (r < 0)
                return r;
        const PolkitDetails det = { .owner = caller };
        return polkit_authorize(userdata, m, ACTION_PULL, &det, do_pull_authorized, userdata, error);
}

void images_free_all(Daemon *d) {
        while (works) {
                Job *j = works->job;
                work_free(works);
                if (j)
                        (void) job_finish(j, "canceled");
        }
        image_remote_queries_free_all();
}
