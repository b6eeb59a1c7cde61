/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* warrenctl image list|pull|remove and images [--remote [--server URL]]
 * (verbs-image.c), clients of Manager.ListImages/PullImage/RemoveImage/
 * ListRemoteImages; and the wait for a job with its progress, which create
 * uses too.
 *
 * Wiring in warrenctl.c: IMAGE_OPTIONS in the option table, the
 * IMAGE_ARG_* codes to parse_image_option(), verbs_image[] in the verb
 * lookup, image_options_check(verb) once the verb is known. */

#include <stdbool.h>

#include "warrenctl.h"

extern const Verb verbs_image[];
int parse_image_option(int c, const char *arg);
/* 0, or -EINVAL after printing which option does not belong to verb. */
int image_options_check(const char *verb);

enum {
        IMAGE_ARG_REMOTE = 0x500,
        IMAGE_ARG_SERVER,
};
/* clang-format off */
#define IMAGE_OPTIONS                                                   \
        { "remote", no_argument, NULL, IMAGE_ARG_REMOTE },              \
        { "server", required_argument, NULL, IMAGE_ARG_SERVER }
/* clang-format on */

/* Following a job: subscribe (job_watch_new) BEFORE the call that starts
 * it, so no signal slips past; then job_watch_wait() with its path. While
 * waiting, a terminal (stderr) shows a progress bar (bytes, rate, ETA),
 * anything else one line per phase; Ctrl-C cancels the job (Job.Cancel)
 * and a second one gives up waiting. At the end the job's Message goes to
 * stdout if it succeeded (an image's create-message), to stderr with what
 * (e.g. "create container 'c1'") if it failed. 0 if the job's result was
 * "done", -ECANCELED if canceled, -EIO if it failed. */
typedef struct JobWatch JobWatch;
int job_watch_new(sd_bus *bus, JobWatch **ret);
int job_watch_wait(JobWatch *w, const char *job_path, const char *what);
JobWatch *job_watch_free(JobWatch *w);
