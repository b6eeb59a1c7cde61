/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image cache on the bus: org.warren1.Image objects (one per cached
 * build), Manager.ListImages/RemoveImage, and Manager.ListRemoteImages
 * (its index fetched and parsed by warren-worker, image-helper.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/escape.h"
#include "basic/strv.h"
#include "bus-error.h"
#include "daemon.h"
#include "image-cache.h"
#include "image-dbus.h"
#include "image-helper.h"
#include "image-job.h"
#include "image-remote.h"
#include "polkit.h"

#define ACTION_PULL "org.warren1.pull-image"
#define ACTION_ADMIN "org.warren1.create-privileged"
#define REMOTE_TEXT_MAX (4U * 1024U * 1024U)

/* Object ids: "<partition>/<server dir>/<dist>/<release>/<arch>/<variant>/<build>". */
#define ID_FIELDS 7

char *image_bus_path(const ImageOrigin *origin, const ImageSpec *spec, const char *build) {
        _cleanup_free_ char *id = NULL, *part = image_cache_partition_name(origin), *srv = NULL;
        char *p = NULL;
        if (!part || !origin->server || !(srv = image_cache_server_dirname(origin->server)))
                return NULL;
        if (asprintf(&id, "%s/%s/%s/%s/%s/%s/%s", part, srv, spec->dist, spec->release, spec->arch,
                     spec->variant, build) < 0)
                return NULL;
        if (sd_bus_path_encode(WARREN_IMAGE_PREFIX, id, &p) < 0)
                return NULL;
        return p;
}

static char *entry_bus_path(const ImageCacheEntry *e) {
        const ImageOrigin o = { .server = e->server, .user = e->user, .uid = e->uid };
        const ImageSpec spec = { e->dist, e->release, e->arch, e->variant };
        return image_bus_path(&o, &spec, e->build);
}

typedef struct ImageId {
        char *id;     /* the decoded path, cut into fields */
        char *server; /* decoded from the server dir */
        ImageOrigin origin;
        ImageSpec spec;
        const char *build;
} ImageId;

static void image_id_done(ImageId *id) {
        free(id->id);
        free(id->server);
}

/* Path -> origin, spec and build, each valid; -ENXIO if the path is not an image's. */
static int image_id_from_path(const char *path, ImageId *ret) {
        static const char *const what[] = { "distribution", "release", "architecture", "variant", "build" };
        _cleanup_(image_id_done) ImageId id = {};
        char *fields[ID_FIELDS];
        if (sd_bus_path_decode(path, WARREN_IMAGE_PREFIX, &id.id) <= 0 || !id.id)
                return -ENXIO;
        char *p = id.id;
        for (size_t i = 0; i < ID_FIELDS; i++) {
                char *slash = strchr(p, '/');
                if ((i < ID_FIELDS - 1) != (slash != NULL))
                        return -ENXIO;
                if (slash)
                        *slash = 0;
                if (i >= 2 && image_name_validate(what[i - 2], p, NULL) < 0)
                        return -ENXIO;
                fields[i] = p;
                p = slash ? slash + 1 : NULL;
        }
        id.server = image_cache_server_from_dirname(fields[1]);
        if (!id.server)
                return -ENXIO;
        id.origin.server = id.server;
        if (!streq(fields[0], IMAGE_CACHE_SHARED)) {
                char *end = NULL;
                const char *d = fields[0] + strlen(IMAGE_CACHE_USER_PREFIX);
                if (strncmp(fields[0], IMAGE_CACHE_USER_PREFIX, strlen(IMAGE_CACHE_USER_PREFIX)) != 0)
                        return -ENXIO;
                errno = 0;
                unsigned long v = strtoul(d, &end, 10);
                if (errno || end == d || *end || d[0] == '0' || v == 0 || v >= UINT32_MAX)
                        return -ENXIO;
                id.origin.user = true;
                id.origin.uid = (uid_t) v;
        }
        id.spec = (ImageSpec){ fields[2], fields[3], fields[4], fields[5] };
        id.build = fields[6];
        *ret = id;
        id = (ImageId){};
        return 0;
}

/* Builds in a user's own partition are that user's business (and root's,
 * to manage the disk): nobody else sees them. */
static bool visible_to(bool user, uid_t owner, uid_t caller) {
        return caller == 0 || !user || owner == caller;
}

/* Who asks; (uid_t) -1 when nobody does (a signal being emitted): then only
 * the shared cache is visible, so no broadcast names a user's build. */
static uid_t current_caller(sd_bus *bus) {
        sd_bus_message *m = sd_bus_get_current_message(bus);
        uid_t uid;
        return m && bus_caller_uid(m, &uid) >= 0 ? uid : (uid_t) -1;
}

static int open_cache(Daemon *d, ImageCache **ret, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        int r = image_cache_open(d->cache_dir, ret, &err);
        if (r < 0 && error)
                return bus_error_from_warren(error, r, &err);
        return r;
}

/* The cache entry an image path names, if it is cached. */
static int image_lookup(Daemon *d, const char *path, ImageCacheEntry **ret_list, size_t *ret_n,
                        ImageCacheEntry **ret) {
        _cleanup_image_cache_ ImageCache *c = NULL;
        _cleanup_(image_id_done) ImageId id = {};
        ImageCacheEntry *l = NULL;
        size_t n = 0;
        int r = image_id_from_path(path, &id);
        if (r < 0)
                return r;
        r = open_cache(d, &c, NULL);
        if (r >= 0)
                r = image_cache_list(c, &l, &n, NULL);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (streq(l[i].server, id.server) && l[i].user == id.origin.user &&
                    (!l[i].user || l[i].uid == id.origin.uid) && streq(l[i].dist, id.spec.dist) &&
                    streq(l[i].release, id.spec.release) && streq(l[i].arch, id.spec.arch) &&
                    streq(l[i].variant, id.spec.variant) && streq(l[i].build, id.build)) {
                        *ret_list = l;
                        *ret_n = n;
                        *ret = &l[i];
                        return 0;
                }
        image_cache_entries_free(l, n);
        return -ENOENT;
}

int image_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                      sd_bus_error *error) {
        _cleanup_(image_id_done) ImageId id = {};
        _cleanup_free_ char *vdir = NULL, *dir = NULL;
        Daemon *d = userdata;
        struct stat st;
        uid_t caller;
        if (image_id_from_path(path, &id) < 0)
                return 0;
        caller = current_caller(bus);
        if (!visible_to(id.origin.user, id.origin.uid, caller))
                return 0;
        vdir = image_cache_variant_path(d->cache_dir, &id.origin, &id.spec);
        if (!vdir)
                return 0;
        if (asprintf(&dir, "%s/%s", vdir, id.build) < 0)
                return -ENOMEM;
        if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                return 0;
        *found = d;
        return 1;
}
int image_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                          sd_bus_error *error) {
        _cleanup_image_cache_ ImageCache *c = NULL;
        _cleanup_strv_free_ char **paths = NULL;
        ImageCacheEntry *l = NULL;
        size_t n = 0;
        uid_t caller = current_caller(bus);
        int r = open_cache(userdata, &c, NULL);
        if (r >= 0)
                r = image_cache_list(c, &l, &n, NULL);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (!visible_to(l[i].user, l[i].uid, caller))
                        continue;
                char *p = entry_bus_path(&l[i]);
                if (!p || strv_consume(&paths, p) < 0) {
                        free(p);
                        r = -ENOMEM;
                }
        }
        image_cache_entries_free(l, n);
        if (r < 0)
                return r;
        if (!paths && !(paths = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *nodes = TAKE_PTR(paths);
        return 0;
}

/* The listed remote whose URL the entry came from, "" if none. */
static char *remote_name(Daemon *d, const char *server) {
        _cleanup_image_remotes_ ImageRemotes *rs = NULL;
        const ImageRemote *r = NULL;
        if (image_remotes_load((const char *const[]){ d->config_dir, d->data_dir, NULL }, &rs, NULL) >= 0)
                r = image_remotes_find_url(rs, server);
        return strdup(r ? r->name : "");
}

static int property_get_image(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        static const char *const names[5] = { "Dist", "Release", "Arch", "Variant", "Build" };
        ImageCacheEntry *l = NULL, *e;
        size_t n = 0;
        int r = image_lookup(userdata, path, &l, &n, &e);
        if (r < 0)
                return sd_bus_error_setf(error, WARREN_ERROR_NO_SUCH_IMAGE, "No cached image at '%s'", path);
        const char *fields[5] = { e->dist, e->release, e->arch, e->variant, e->build };
        r = -EINVAL;
        for (size_t i = 0; i < 5; i++)
                if (streq(property, names[i]))
                        r = sd_bus_message_append(reply, "s", fields[i]);
        if (streq(property, "Size"))
                r = sd_bus_message_append(reply, "t", e->size);
        else if (streq(property, "LastUsed"))
                r = sd_bus_message_append(reply, "t", e->last_used_usec);
        else if (streq(property, "Path"))
                r = sd_bus_message_append(reply, "s", e->path);
        else if (streq(property, "Server"))
                r = sd_bus_message_append(reply, "s", e->server);
        else if (streq(property, "OwnerUID"))
                r = sd_bus_message_append(reply, "u", (uint32_t) (e->user ? e->uid : 0));
        else if (streq(property, "Remote")) {
                _cleanup_free_ char *name = remote_name(userdata, e->server);
                r = name ? sd_bus_message_append(reply, "s", name) : -ENOMEM;
        }
        image_cache_entries_free(l, n);
        return r;
}

int method_list_images(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_image_cache_ ImageCache *c = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        ImageCacheEntry *l = NULL;
        size_t n = 0;
        uid_t caller;
        int r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        r = open_cache(userdata, &c, error);
        if (r < 0)
                return r;
        r = image_cache_list(c, &l, &n, &err);
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssssstto)");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (!visible_to(l[i].user, l[i].uid, caller))
                        continue;
                _cleanup_free_ char *p = entry_bus_path(&l[i]);
                r = p ? sd_bus_message_append(reply, "(ssssstto)", l[i].dist, l[i].release, l[i].arch,
                                              l[i].variant, l[i].build, l[i].size, l[i].last_used_usec, p)
                      : -ENOMEM;
        }
        image_cache_entries_free(l, n);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int read_image_arg(sd_bus_message *m, ImageId *id, sd_bus_error *error) {
        const char *path;
        int r = sd_bus_message_read(m, "o", &path);
        if (r < 0)
                return r;
        if (image_id_from_path(path, id) < 0)
                return sd_bus_error_setf(error, WARREN_ERROR_NO_SUCH_IMAGE,
                                         "'%s' is not an image path (" WARREN_IMAGE_PREFIX "/...)", path);
        return 0;
}

static int do_remove_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(image_id_done) ImageId id = {};
        _cleanup_image_cache_ ImageCache *c = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        int r = read_image_arg(m, &id, error);
        if (r < 0)
                return r;
        const ImageSpec *spec = &id.spec;
        uint32_t job = image_in_use(&id.origin, spec);
        if (job > 0)
                return sd_bus_error_setf(error, WARREN_ERROR_BUSY,
                                         "Image %s %s %s %s from %s is in use by job %u", spec->dist,
                                         spec->release, spec->arch, spec->variant, id.server, job);
        r = open_cache(userdata, &c, error);
        if (r < 0)
                return r;
        r = image_cache_remove(c, &id.origin, spec, id.build, &err);
        if (r == -ENOENT)
                return sd_bus_error_set(error, WARREN_ERROR_NO_SUCH_IMAGE, warren_error_message(&err)), r;
        if (r == -EBUSY)
                return sd_bus_error_set(error, WARREN_ERROR_BUSY, warren_error_message(&err)), r;
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        path = image_bus_path(&id.origin, spec, id.build);
        if (path)
                (void) sd_bus_emit_interfaces_removed(sd_bus_message_get_bus(m), path, WARREN_IMAGE_IFACE,
                                                      NULL);
        return sd_bus_reply_method_return(m, NULL);
}

int method_remove_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(image_id_done) ImageId id = {};
        uid_t caller;
        int r = read_image_arg(m, &id, error);
        if (r >= 0)
                r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        /* The shared cache and one's own partition: whoever may fill it may
         * prune it. Another user's partition: the administrator. */
        if (caller != 0 && id.origin.user && id.origin.uid != caller) {
                const PolkitDetails det = { .owner = caller, .why = "the image is in another user's cache" };
                return polkit_authorize(userdata, m, ACTION_ADMIN, &det, do_remove_image, userdata, error);
        }
        const PolkitDetails det = { .owner = caller };
        return polkit_authorize(userdata, m, ACTION_PULL, &det, do_remove_image, userdata, error);
}

const sd_bus_vtable image_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Dist", "s", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Release", "s", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Arch", "s", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Variant", "s", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Build", "s", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Size", "t", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        /* Updated by the jobs' children when they use the image: no signal. */
        SD_BUS_PROPERTY("LastUsed", "t", property_get_image, 0, 0),
        SD_BUS_PROPERTY("Path", "s", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Server", "s", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        /* Follows remotes.conf, which root may edit at any time: no signal. */
        SD_BUS_PROPERTY("Remote", "s", property_get_image, 0, 0),
        SD_BUS_PROPERTY("OwnerUID", "u", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END,
};

/* ---- ListRemoteImages ---- */

typedef struct RemoteQuery RemoteQuery;
struct RemoteQuery {
        Daemon *daemon;
        sd_bus_message *request;
        ImageHelper *helper;
        char *text;
        size_t size;
        ImageJobResult result;
        bool has_result, overflow;
        RemoteQuery *next;
};

static RemoteQuery *remote_queries = NULL;

static RemoteQuery *remote_query_free(RemoteQuery *q) {
        if (!q)
                return NULL;
        for (RemoteQuery **p = &remote_queries; *p; p = &(*p)->next)
                if (*p == q) {
                        *p = q->next;
                        break;
                }
        image_helper_free(q->helper);
        sd_bus_message_unref(q->request);
        image_job_result_done(&q->result);
        free(q->text);
        daemon_release(q->daemon);
        free(q);
        return NULL;
}

static void on_remote_message(ImageHelper *h, const uint8_t *buf, size_t size, void *userdata) {
        RemoteQuery *q = userdata;
        ImageJobMsg m;
        if (size > 0 && buf[0] == IMAGE_HELPER_TEXT_CHUNK) {
                if (q->overflow || q->size + size > REMOTE_TEXT_MAX) {
                        q->overflow = true;
                        return;
                }
                char *t = realloc(q->text, q->size + size);
                if (!t) {
                        q->overflow = true;
                        return;
                }
                memcpy(t + q->size, buf + 1, size - 1);
                q->text = t;
                q->size += size - 1;
                return;
        }
        if (size > IMAGE_JOB_MSG_MAX || image_job_msg_decode(buf, size, &m, NULL) < 0)
                return;
        if (m.type == IMAGE_JOB_MSG_RESULT && !q->has_result) {
                q->result = m.result;
                q->has_result = true;
                return;
        }
        image_job_msg_done(&m);
}

static int remote_reply(RemoteQuery *q) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_image_index_ ImageIndex *idx = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        if (!q->has_result)
                return sd_bus_reply_method_errorf(q->request, SD_BUS_ERROR_FAILED,
                                                  "The image listing helper ended without a result");
        if (q->result.error) {
                /* It may quote what the server said. */
                _cleanup_free_ char *safe =
                        escape_untrusted_text(q->result.message ?: strerror(q->result.error), 0);
                return sd_bus_reply_method_errorf(q->request, image_job_error_name(q->result.error), "%s",
                                                  safe ?: strerror(q->result.error));
        }
        if (q->overflow)
                return sd_bus_reply_method_errorf(q->request, SD_BUS_ERROR_FAILED,
                                                  "The server's index lists too many images");
        /* Our helper's output, re-parsed with the same strict parser. */
        int r = image_index_parse(q->text ?: "", q->size, &idx, &err);
        if (r < 0)
                return sd_bus_reply_method_errorf(q->request, SD_BUS_ERROR_FAILED, "%s",
                                                  warren_error_message(&err));
        r = sd_bus_message_new_method_return(q->request, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sssss)");
        for (size_t i = 0; r >= 0 && i < idx->n_entries; i++) {
                const ImageIndexEntry *e = &idx->entries[i];
                r = sd_bus_message_append(reply, "(sssss)", e->dist, e->release, e->arch, e->variant,
                                          e->build);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return sd_bus_reply_method_errno(q->request, r, NULL);
        return sd_bus_send(NULL, reply, NULL);
}

static void on_remote_exit(ImageHelper *h, int status, void *userdata) {
        RemoteQuery *q = userdata;
        q->helper = image_helper_free(q->helper);
        (void) remote_reply(q);
        remote_query_free(q);
}

static size_t remote_queries_count(void) {
        size_t n = 0;
        for (RemoteQuery *q = remote_queries; q; q = q->next)
                n++;
        return n;
}

/* The arguments, the server resolved (a remote's name or a URL, as for
 * the download template) and the caller. */
static int list_remote_parse(Daemon *d, sd_bus_message *m, ImageServerChoice *choice, ImageMode *ret_mode,
                             uid_t *ret_caller, sd_bus_error *error) {
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_image_remotes_ ImageRemotes *remotes = NULL;
        const char *server;
        uid_t caller;
        ImageMode mode;
        int r = sd_bus_message_read(m, "s", &server);
        if (r >= 0)
                r = bus_caller_uid(m, &caller);
        if (r < 0)
                return r;
        mode = caller == 0 ? IMAGE_MODE_SYSTEM : IMAGE_MODE_USER;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *value;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (!streq(key, "mode"))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Unknown option '%s' (known: mode)", key);
                if (sd_bus_message_read(m, "v", "s", &value) < 0 ||
                    !(streq(value, "system") || streq(value, "user")))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Option 'mode' must be the string system or user");
                mode = streq(value, "user") ? IMAGE_MODE_USER : IMAGE_MODE_SYSTEM;
                r = sd_bus_message_exit_container(m);
        }
        if (r < 0)
                return r;
        r = image_remotes_load((const char *const[]){ d->config_dir, d->data_dir, NULL }, &remotes, &err);
        if (r < 0)
                return sd_bus_error_setf(error, WARREN_ERROR_INVALID_CONFIG, "Image remotes unusable: %s",
                                         warren_error_message(&err)),
                       r;
        r = image_remotes_resolve(remotes, server, choice, &err);
        if (r < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, warren_error_message(&err)), r;
        *ret_mode = mode;
        *ret_caller = caller;
        return 0;
}

static int do_list_remote_images(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_(image_server_choice_done) ImageServerChoice choice = {};
        ImageMode mode;
        uid_t caller;
        int r = list_remote_parse(d, m, &choice, &mode, &caller, error);
        if (r < 0)
                return r;
        if (remote_queries_count() >= IMAGE_REMOTE_QUERIES_MAX)
                return sd_bus_error_setf(error, WARREN_ERROR_QUOTA_EXCEEDED,
                                         "Too many image listings running: the limit is %u per warrend",
                                         IMAGE_REMOTE_QUERIES_MAX);

        RemoteQuery *q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        q->daemon = d;
        daemon_hold(d);
        q->request = sd_bus_message_ref(m);
        q->next = remote_queries;
        remote_queries = q;
        const ImageRemoteParams rp = {
                .server = choice.url, .mode = mode, .keyring = choice.keyring, .scratch_dir = d->runtime_dir
        };
        r = image_helper_start_remote(d->event, d->worker_path, &rp, on_remote_message, on_remote_exit, q,
                                      &q->helper, &err);
        if (r < 0) {
                remote_query_free(q);
                return bus_error_from_warren(error, r, &err);
        }
        return 1;
}

/* Who may make warrend fetch a listing, as for pulls (image-dbus.c): a
 * remote open to users, anyone (what a front end browses); a server that
 * is no listed remote, pull-image (else any user could have warrend fetch
 * from any URL); a remote closed to users, the administrator. */
int method_list_remote_images(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(image_server_choice_done) ImageServerChoice choice = {};
        _cleanup_free_ char *why = NULL;
        ImageMode mode;
        uid_t caller;
        int r = list_remote_parse(d, m, &choice, &mode, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_rewind(m, true);
        if (r < 0)
                return r;
        if (caller == 0 || (choice.remote && choice.users))
                return do_list_remote_images(m, d, error);
        const char *action = choice.remote ? "org.warren1.create-privileged" : "org.warren1.pull-image";
        if (choice.remote ? asprintf(&why, "image remote '%s' is not open to ordinary users (remotes.conf)",
                                     choice.remote) < 0
                          : asprintf(&why, "'%s' is not a listed image remote", choice.url) < 0)
                return -ENOMEM;
        const PolkitDetails det = { .owner = caller, .why = why };
        return polkit_authorize(d, m, action, &det, do_list_remote_images, d, error);
}

const sd_bus_vtable image_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListRemoteImages", SD_BUS_ARGS("s", server, "a{sv}", options),
                                SD_BUS_RESULT("a(sssss)", images), method_list_remote_images,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

void image_remote_queries_free_all(void) {
        while (remote_queries) {
                (void) sd_bus_reply_method_errorf(remote_queries->request, SD_BUS_ERROR_NO_SERVER,
                                                  "warrend is exiting");
                remote_query_free(remote_queries);
        }
}
