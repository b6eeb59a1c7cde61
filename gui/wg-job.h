/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A running org.warren1.Job (a create or a pull) as the bus shows it, until
 * Manager.JobRemoved: "changed" on each PropertiesChanged, "finished" once
 * with the result ("done", "failed", "canceled"). */

#include <glib-object.h>

#include "wg-format.h"

#define WG_TYPE_JOB (wg_job_get_type())
G_DECLARE_FINAL_TYPE(WgJob, wg_job, WG, JOB, GObject)

WgJob *wg_job_new(const char *path);

const char *wg_job_get_path(WgJob *j);
const char *wg_job_get_type_name(WgJob *j);
/* The container or image it works on. */
const char *wg_job_get_target(WgJob *j);
/* 0..1, or < 0 when unknown. */
double wg_job_get_progress(WgJob *j);
guint64 wg_job_get_bytes_done(WgJob *j);
guint64 wg_job_get_bytes_total(WgJob *j);
const char *wg_job_get_phase(WgJob *j);
const char *wg_job_get_message(WgJob *j);
const char *wg_job_get_error(WgJob *j);
/* NULL while it runs. */
const char *wg_job_get_result(WgJob *j);
const WgRateMeter *wg_job_get_rate(WgJob *j);
/* "Downloading the root file system · 1.2 MB of 4.5 MB · 300 kB/s · 11 s left" */
char *wg_job_describe(WgJob *j, gint64 now_us);

void wg_job_apply_properties(WgJob *j, GVariant *dict, gint64 now_us);
void wg_job_finish(WgJob *j, const char *result);
