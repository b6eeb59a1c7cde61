/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pull itself (lib/image-job.h): run in warren-worker, or in-process. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build-config.h"
#include "fileio.h"
#include "image-job.h"
#include "image-meta.h"
#include "log.h"

#define PROGRESS_MIN_INTERVAL_USEC 100000ULL

/* ---- progress: the phases' shares of the whole job ---- */

typedef struct Reporter {
        ImagePullReportFunc report;
        void *userdata;
        bool with_unpack;
        double last;
} Reporter;

static double phase_share(ImagePhase ph, bool with_unpack, double *ret_end) {
        /* Index, meta, rootfs download, unpack, configure. */
        static const double start_u[] = { 0.0, 0.02, 0.05, 0.60, 0.98, 1.0 };
        static const double start_n[] = { 0.0, 0.02, 0.05, 0.99, 0.99, 1.0 };
        const double *s = with_unpack ? start_u : start_n;
        unsigned i = (unsigned) ph < _IMAGE_PHASE_MAX ? (unsigned) ph : IMAGE_PHASE_DONE;
        *ret_end = i + 1 < _IMAGE_PHASE_MAX ? s[i + 1] : 1.0;
        return s[i];
}

static int reporter_send(Reporter *r, ImagePhase ph, uint64_t done, uint64_t total) {
        double end, start = phase_share(ph, r->with_unpack, &end);
        double frac = total > 0 ? (double) MIN(done, total) / (double) total : 0.0;
        double v = ph == IMAGE_PHASE_DONE ? 1.0 : start + (end - start) * frac;
        if (v < r->last)
                v = r->last; /* retries restart a phase's bytes; the whole only moves on */
        r->last = v;
        if (!r->report)
                return 0;
        ImageJobProgress p = { .phase = ph, .bytes_done = done, .bytes_total = total, .progress = v };
        return r->report(&p, r->userdata) < 0 ? -ECANCELED : 0;
}

static int fetch_progress(ImagePhase ph, uint64_t done, uint64_t total, void *userdata) {
        return reporter_send(userdata, ph, done, total);
}

static int unpack_progress(uint64_t done, uint64_t total, void *userdata) {
        return reporter_send(userdata, IMAGE_PHASE_UNPACK, done, total);
}

/* ---- the pull ---- */

/* LXC's template does mkdir -p rootfs/dev/pts after unpacking. */
static int make_dev_pts(int rootfd, const ImagePullParams *p, WarrenError *reterr) {
        uint32_t uid, gid;
        if (image_idmap_map(p->idmap, p->n_idmap, false, 0, &uid) < 0 ||
            image_idmap_map(p->idmap, p->n_idmap, true, 0, &gid) < 0)
                return warren_error_set(reterr, EINVAL, "The idmap does not map the container's root");
        const char *dirs[] = { "dev", "dev/pts" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                struct stat st;
                if (mkdirat(rootfd, dirs[i], 0755) >= 0) {
                        if (geteuid() == 0 && fchownat(rootfd, dirs[i], uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                                return warren_error_set(reterr, errno, "Failed to chown rootfs/%s: %m",
                                                        dirs[i]);
                } else if (errno != EEXIST)
                        return warren_error_set(reterr, errno, "Failed to create rootfs/%s: %m", dirs[i]);
                if (fstatat(rootfd, dirs[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        return 0; /* a symlink /dev: leave it to the image */
        }
        return 0;
}

/* A cached build refused at use (hostile or broken rootfs, config the
 * image may not carry) stays out of the cache, so it blocks nobody later. */
static void drop_refused(const ImagePullParams *p, ImageCache *cache, const ImageSpec *spec,
                         const char *build) {
        _cleanup_free_ char *server = NULL;
        ImageOrigin o = p->fetch.origin;
        if (image_server_url(o.server ?: IMAGE_SERVER_DEFAULT, &server, NULL) < 0)
                return;
        o.server = server;
        int k = image_cache_remove(cache, &o, spec, build, NULL);
        if (k < 0)
                log_debug("Failed to drop refused image build '%s' from the cache: %s", build, strerror(-k));
}

static int build_container(const ImagePullParams *p, ImageCache *cache, const ImageSpec *spec,
                           const ImageFetchResult *fr, Reporter *rep, WarrenError *reterr) {
        _cleanup_free_ char *rootfs_path = NULL, *hooks = NULL;
        _cleanup_close_ int tfd = -EBADF, rootfd = -EBADF;
        const char *cpath = p->container_path ?: p->target_dir;
        int r;

        tfd = open(p->target_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tfd < 0)
                return warren_error_set(reterr, errno, "Failed to open target directory '%s': %m",
                                        p->target_dir);

        ImageUnpackOptions uo = {
                .allow_devices = p->n_idmap == 0 && p->fetch.mode == IMAGE_MODE_SYSTEM,
                .idmap = p->idmap,
                .n_idmap = p->n_idmap,
                .excludes = fr->meta->excludes,
                .max_entries = p->max_entries,
                .max_size = p->max_unpacked_size,
                .decompress_in_child = !p->no_decompressor,
                .progress = unpack_progress,
                .userdata = rep,
        };
        r = reporter_send(rep, IMAGE_PHASE_UNPACK, 0, 0);
        if (r < 0)
                return warren_error_set(reterr, r, "Image pull canceled");
        r = image_unpack(fr->rootfs_fd, tfd, "rootfs", &uo, NULL, reterr);
        if (r == -EPERM || r == -EBADMSG)
                drop_refused(p, cache, spec, fr->build);
        if (r < 0)
                return r;

        r = reporter_send(rep, IMAGE_PHASE_CONFIGURE, 0, 0);
        if (r < 0)
                return warren_error_set(reterr, r, "Image pull canceled");
        rootfd = openat(tfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rootfd < 0)
                return warren_error_set(reterr, errno, "Failed to open the unpacked rootfs: %m");
        r = make_dev_pts(rootfd, p, reterr);
        if (r < 0)
                return r;

        if (asprintf(&rootfs_path, "%s/rootfs", cpath) < 0 ||
            (!p->hook_dir && asprintf(&hooks, "%s/hooks", WARREN_DATA_DIR) < 0))
                return -ENOMEM;
        const ImageTemplateVars vars = {
                .name = p->container_name,
                .path = cpath,
                .rootfs = rootfs_path,
                .template_config = p->template_config ?: WARREN_DATA_DIR,
                .hook_dir = p->hook_dir ?: hooks,
        };
        r = image_meta_apply_templates(fr->meta, rootfd, &vars, reterr);
        if (r < 0)
                return r;
        const ImageConfigParams cp = {
                .default_config = p->default_config,
                .dist_config = fr->meta->config,
                .vars = &vars,
                .extra_items = p->config_items,
        };
        bool refused;
        r = image_target_write_config(tfd, fr->meta, &cp, &refused, reterr);
        if (refused)
                drop_refused(p, cache, spec, fr->build);
        return r < 0 ? r : 0;
}

int image_pull(const ImagePullParams *p, ImagePullReportFunc report, void *userdata, ImageJobResult *ret,
               WarrenError *reterr) {
        _cleanup_image_cache_ ImageCache *cache = NULL;
        ImageFetchResult fr = IMAGE_FETCH_RESULT_NULL;
        Reporter rep = { .report = report, .userdata = userdata, .with_unpack = p->target_dir != NULL };
        ImageFetchParams fp = p->fetch;
        int r;

        *ret = (ImageJobResult){};
        if (!fp.spec.variant)
                fp.spec.variant = IMAGE_VARIANT_DEFAULT;
        if (!fp.spec.arch) {
                r = image_host_arch(&fp.spec.arch, reterr);
                if (r < 0)
                        return r;
        }
        r = image_pull_params_validate(p, reterr);
        if (r < 0)
                return r;
        r = image_cache_open(p->cache_dir, &cache, reterr);
        if (r < 0)
                return r;
        fp.progress = fetch_progress;
        fp.userdata = &rep;
        r = image_cache_fetch(cache, &fp, &fr, reterr);
        if (r < 0)
                return r;
        if (p->target_dir)
                r = build_container(p, cache, &fp.spec, &fr, &rep, reterr);
        if (r >= 0 && (r = reporter_send(&rep, IMAGE_PHASE_DONE, 0, 0)) < 0)
                r = warren_error_set(reterr, r, "Image pull canceled");
        if (r >= 0) {
                ret->build = TAKE_PTR(fr.build);
                ret->downloaded = fr.downloaded;
                if (fr.meta->create_message) {
                        ret->create_message = TAKE_PTR(fr.meta->create_message);
                }
        }
        image_fetch_result_done(&fr);
        if (r < 0 && p->target_dir) {
                int k = image_job_cleanup_target(p->target_dir);
                if (k < 0)
                        log_debug("Failed to clean up '%s': %s", p->target_dir, strerror(-k));
        }
        return r;
}

/* ---- in warren-worker ---- */

typedef struct ChildReporter {
        int fd;
        uint64_t last_usec;
        ImagePhase last_phase;
} ChildReporter;

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static int child_report(const ImageJobProgress *p, void *userdata) {
        ChildReporter *c = userdata;
        uint8_t buf[64];
        uint64_t t = now_usec();

        /* Phase changes and the end always; otherwise at most 10 a second. */
        if (p->phase == c->last_phase && p->phase != IMAGE_PHASE_DONE &&
            t - c->last_usec < PROGRESS_MIN_INTERVAL_USEC)
                return 0;
        ImageJobMsg m = { .type = IMAGE_JOB_MSG_PROGRESS, .progress = *p };
        ssize_t n = image_job_msg_encode(&m, buf, sizeof buf);
        if (n < 0)
                return 0;
        c->last_usec = t;
        c->last_phase = p->phase;
        /* A parent that reads slowly misses progress, never the result. */
        if (send(c->fd, buf, (size_t) n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN)
                return errno == EPIPE || errno == ECONNRESET ? -1 : 0;
        return 0;
}

/* What the child keeps: enough to create any file with any owner, mode,
 * device number and file capability in the rootfs. */
static void drop_capabilities(void) {
        static const cap_value_t keep[] = { CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
                                            CAP_FSETID, CAP_MKNOD,        CAP_SETFCAP };
        cap_t caps;

        if (geteuid() != 0)
                return;
        for (cap_value_t c = 0; c < 64 && prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++) {
                bool k = false;
                for (size_t i = 0; i < ELEMENTSOF(keep); i++)
                        k = k || keep[i] == c;
                if (!k)
                        (void) prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
        }
        caps = cap_init();
        if (!caps)
                return;
        if (cap_set_flag(caps, CAP_EFFECTIVE, ELEMENTSOF(keep), keep, CAP_SET) == 0 &&
            cap_set_flag(caps, CAP_PERMITTED, ELEMENTSOF(keep), keep, CAP_SET) == 0 &&
            cap_set_proc(caps) < 0)
                log_debug("Failed to drop capabilities: %m");
        cap_free(caps);
}

/* The forked child left warrend's world already (lib/worker.c); this is
 * what it did next, now in warren-worker. */
_Noreturn void image_pull_child(int sock, const ImagePullParams *p) {
        ImageJobResult res = {};
        WarrenError e = WARREN_ERROR_NULL;

        (void) prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        drop_capabilities();

        ChildReporter cr = { .fd = sock, .last_phase = _IMAGE_PHASE_MAX };
        int r = image_pull(p, child_report, &cr, &res, &e);
        if (r < 0) {
                res.error = -r;
                res.message = e.message ? strdup(e.message) : strdup(strerror(-r));
        }
        ImageJobMsg m = { .type = IMAGE_JOB_MSG_RESULT, .result = res };
        image_job_msg_send(sock, &m);
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}
