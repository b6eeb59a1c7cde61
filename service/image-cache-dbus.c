/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image cache on the bus: org.warren1.Image objects (one per cached
 * build), Manager.ListImages/RemoveImage, and Manager.ListRemoteImages
 * (its index fetched and parsed by a forked helper, image-helper.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/strv.h"
#include "bus-error.h"
#include "daemon.h"
#include "image-cache.h"
#include "image-dbus.h"
#include "image-helper.h"
#include "image-job.h"
#include "polkit.h"

#define ACTION_PULL "org.warren1.pull-image"
#define REMOTE_TEXT_MAX (4U * 1024U * 1024U)

char *image_bus_path(const char *dist, const char *release, const char *arch, const char *variant,
                     const char *build) {
        _cleanup_free_ char *id = NULL;
        char *p = NULL;
        if (asprintf(&id, "%s/%s/%s/%s/%s", dist, release, arch, variant, build) < 0)
                return NULL;
        if (sd_bus_path_encode(WARREN_IMAGE_PREFIX, id, &p) < 0)
                return NULL;
        return p;
}

typedef struct ImageId {
        char *fields[5]; /* dist, release, arch, variant, build; one allocation */
} ImageId;

static void image_id_done(ImageId *id) {
        free(id->fields[0]);
}

/* Path -> the five names, each valid; -ENXIO if the path is not an image's. */
static int image_id_from_path(const char *path, ImageId *ret) {
        static const char *const what[5] = { "distribution", "release", "architecture", "variant", "build" };
        _cleanup_free_ char *s = NULL;
        if (sd_bus_path_decode(path, WARREN_IMAGE_PREFIX, &s) <= 0)
                return -ENXIO;
        char *p = s;
        for (size_t i = 0; i < 5; i++) {
                char *slash = strchr(p, '/');
                if ((i < 4) != (slash != NULL))
                        return -ENXIO;
                if (slash)
                        *slash = 0;
                if (image_name_validate(what[i], p, NULL) < 0)
                        return -ENXIO;
                ret->fields[i] = p;
                p = slash ? slash + 1 : NULL;
        }
        TAKE_PTR(s);
        return 0;
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
                if (streq(l[i].dist, id.fields[0]) && streq(l[i].release, id.fields[1]) &&
                    streq(l[i].arch, id.fields[2]) && streq(l[i].variant, id.fields[3]) &&
                    streq(l[i].build, id.fields[4])) {
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
        _cleanup_free_ char *dir = NULL;
        Daemon *d = userdata;
        struct stat st;
        if (image_id_from_path(path, &id) < 0)
                return 0;
        if (asprintf(&dir, "%s/images/%s/%s/%s/%s/%s", d->cache_dir, id.fields[0], id.fields[1],
                     id.fields[2], id.fields[3], id.fields[4]) < 0)
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
        int r = open_cache(userdata, &c, NULL);
        if (r >= 0)
                r = image_cache_list(c, &l, &n, NULL);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                char *p = image_bus_path(l[i].dist, l[i].release, l[i].arch, l[i].variant, l[i].build);
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
        image_cache_entries_free(l, n);
        return r;
}

int method_list_images(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_image_cache_ ImageCache *c = NULL;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        ImageCacheEntry *l = NULL;
        size_t n = 0;
        int r = open_cache(userdata, &c, error);
        if (r < 0)
                return r;
        r = image_cache_list(c, &l, &n, &err);
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssssstto)");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *p =
                        image_bus_path(l[i].dist, l[i].release, l[i].arch, l[i].variant, l[i].build);
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
        const ImageSpec spec = { id.fields[0], id.fields[1], id.fields[2], id.fields[3] };
        /* The job's child holds the image's lock: removing would block us. */
        uint32_t job = image_in_use(spec.dist, spec.release, spec.arch, spec.variant);
        if (job > 0)
                return sd_bus_error_setf(error, WARREN_ERROR_BUSY, "Image %s %s %s %s is in use by job %u",
                                         spec.dist, spec.release, spec.arch, spec.variant, job);
        r = open_cache(userdata, &c, error);
        if (r < 0)
                return r;
        r = image_cache_remove(c, &spec, id.fields[4], &err);
        if (r == -ENOENT)
                return sd_bus_error_set(error, WARREN_ERROR_NO_SUCH_IMAGE, warren_error_message(&err)), r;
        if (r < 0)
                return bus_error_from_warren(error, r, &err);
        path = image_bus_path(spec.dist, spec.release, spec.arch, spec.variant, id.fields[4]);
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
        /* The cache is shared: whoever may fill it may prune it. */
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
        if (q->result.error)
                return sd_bus_reply_method_errorf(q->request, image_job_error_name(q->result.error), "%s",
                                                  q->result.message ?: strerror(q->result.error));
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

int method_list_remote_images(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_error_ WarrenError err = WARREN_ERROR_NULL;
        _cleanup_free_ char *url = NULL;
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
        r = image_server_url(isempty(server) ? IMAGE_SERVER_DEFAULT : server, &url, &err);
        if (r < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, warren_error_message(&err)), r;
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
        r = image_helper_start_remote(d->event, url, mode, on_remote_message, on_remote_exit, q, &q->helper,
                                      &err);
        if (r < 0) {
                remote_query_free(q);
                return bus_error_from_warren(error, r, &err);
        }
        return 1;
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
