/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Images: the download and local templates of CreateContainer and
 * Manager.PullImage (image-dbus.c), Manager.ListImages/RemoveImage/
 * ListRemoteImages with org.warren1.Image objects (image-cache-dbus.c).
 * Work runs in warren-worker (lib/image-job.h, image-helper.h) behind
 * org.warren1.Job objects with progress; at most IMAGE_JOBS_MAX at once
 * (QuotaExceeded beyond, as beyond the owner's limit.jobs). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct Daemon Daemon;

#define WARREN_IMAGE_PREFIX "/org/warren1/image"
#define WARREN_IMAGE_IFACE "org.warren1.Image"

/* CreateContainer with template "download" or "local", before polkit
 * (and again after it):
 * checks the template arguments (-d -r -a --variant --server --no-verify
 * --flush-cache --force-cache --keyserver..., or the tarball path of
 * "local"), the name's availability and the config items. Sets error and
 * returns <0 on bad input; 0 if all is well. *ret_action is the polkit
 * action the request needs on top of org.warren1.create (e.g.
 * org.warren1.pull-image, or create-privileged for --no-verify), NULL if
 * none. */
int image_create_validate(Daemon *d, const char *name, const char *template_name, char *const *template_args,
                          char *const *config_items, uid_t caller, const char **ret_action,
                          sd_bus_error *error);

/* After authorization: starts the job and replies (container path, job
 * path) at once; the job ends with JobRemoved(id, path, done|canceled|
 * failed). Has the contract of a method handler. The request is read
 * again from m (with its options, e.g. "unprivileged") and planned again;
 * if it needs a second action (org.warren1.create-privileged for
 * --no-verify, or for config items the owner rules reserve to the
 * administrator), that is asked for here before the job starts. */
int image_create_start(Daemon *d, sd_bus_message *m, const char *name, const char *template_name,
                       char *const *template_args, char *const *config_items, uid_t owner,
                       sd_bus_error *error);

int method_list_images(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_pull_image(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_remove_image(sd_bus_message *m, void *userdata, sd_bus_error *error);
extern const sd_bus_vtable image_vtable[];
int image_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                      sd_bus_error *error);
int image_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);

/* Manager.ListRemoteImages(s server, a{sv} options) -> a(sssss): dist,
 * release, arch, variant and newest build of every image the server's
 * index offers ("" server: the default one; option "mode" s: system or
 * user, default by the caller). The index is fetched and parsed by a
 * worker running as nobody. No authorization: it is a read. It
 * lives in image_manager_vtable, a second vtable of org.warren1.Manager
 * at WARREN_MANAGER_PATH (registered in warrend.c; sd-bus merges it into
 * the interface), until it moves into manager_vtable. */
int method_list_remote_images(sd_bus_message *m, void *userdata, sd_bus_error *error);
extern const sd_bus_vtable image_manager_vtable[];

/* At most this many image jobs (create from download/local, pull) run at
 * once in one warrend, and this many remote listings. */
#define IMAGE_JOBS_MAX 4U
#define IMAGE_REMOTE_QUERIES_MAX 4U

/* Whether an image job is creating container NAME: the name is taken
 * (the busybox path checks it too, besides store_exists()). */
bool image_create_in_progress(const char *name);

typedef struct ImageOrigin ImageOrigin;
typedef struct ImageSpec ImageSpec;

/* The object path of one cached build: its partition, server, dist,
 * release, arch, variant and build, "/"-joined and escaped as
 * sd_bus_path_encode() does. malloc'd, NULL on ENOMEM or a bad origin. */
char *image_bus_path(const ImageOrigin *origin, const ImageSpec *spec, const char *build);

/* Between image-dbus.c (jobs) and image-cache-dbus.c (cache objects,
 * listings): the job id using an image (0 if none); the bus error a failed
 * image job's errno maps to; ending the remote listings at exit. */
uint32_t image_in_use(const ImageOrigin *origin, const ImageSpec *spec);
const char *image_job_error_name(int err);
void image_remote_queries_free_all(void);

/* Cancels and frees every running image job (warrend exiting). */
void images_free_all(Daemon *d);
