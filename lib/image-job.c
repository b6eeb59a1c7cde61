/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build-config.h"
#include "fileio.h"
#include "image-job.h"
#include "log.h"
#include "store.h"
#include "strv.h"

#define PROGRESS_MIN_INTERVAL_USEC 100000ULL
#define CHILD_SOCKET_FD 3

void image_job_result_done(ImageJobResult *r) {
        if (!r)
                return;
        free(r->message);
        free(r->create_message);
        free(r->build);
        *r = (ImageJobResult){};
}

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

/* ---- the pull itself (the child's body) ---- */

int image_job_cleanup_target(const char *target_dir) {
        _cleanup_close_ int fd = open(target_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        static const char *const names[] = { "rootfs", "config", "fstab" };
        int ret = 0;

        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                int r = rm_rf_at(fd, names[i]);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        DIR *d = fdopendir(dup(fd));
        if (!d)
                return ret < 0 ? ret : -errno;
        _cleanup_strv_free_ char **temps = NULL;
        for (struct dirent *de; (de = readdir(d));)
                if (strncmp(de->d_name, ".#unpack.", 9) == 0 && strv_extend(&temps, de->d_name) < 0)
                        ret = -ENOMEM;
        closedir(d);
        STRV_FOREACH(t, temps) {
                int r = rm_rf_at(fd, *t);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

static int validate_params(const ImagePullParams *p, WarrenError *reterr) {
        int r;
        if (isempty(p->cache_dir) || p->cache_dir[0] != '/')
                return warren_error_set(reterr, EINVAL,
                                        "Invalid cache directory '%s': must be an absolute path",
                                        strempty(p->cache_dir));
        r = image_spec_validate(&p->fetch.spec, reterr);
        if (r < 0)
                return r;
        if (p->fetch.origin.server) {
                _cleanup_free_ char *u = NULL;
                r = image_server_url(p->fetch.origin.server, &u, reterr);
                if (r < 0)
                        return r;
        }
        if (p->fetch.origin.user && (p->fetch.origin.uid == 0 || p->fetch.origin.uid == (uid_t) -1))
                return warren_error_set(reterr, EINVAL, "Invalid cache partition: uid %u has none",
                                        (unsigned) p->fetch.origin.uid);
        if (p->fetch.keyring && p->fetch.keyring[0] != '/')
                return warren_error_set(reterr, EINVAL, "Invalid keyring '%s': must be an absolute path",
                                        p->fetch.keyring);
        if (!p->target_dir)
                return 0;
        if (p->target_dir[0] != '/')
                return warren_error_set(reterr, EINVAL,
                                        "Invalid target directory '%s': must be an absolute path",
                                        p->target_dir);
        if (isempty(p->container_name) || strchr(p->container_name, '/') || strchr(p->container_name, '\n'))
                return warren_error_set(reterr, EINVAL, "Invalid container name '%s' for the image pull",
                                        strempty(p->container_name));
        for (size_t i = 0; i < p->n_idmap; i++)
                if (p->idmap[i].count == 0 || p->idmap[i].host_id > UINT32_MAX - p->idmap[i].count)
                        return warren_error_set(reterr, EINVAL, "Invalid idmap range %c %u %u %u",
                                                p->idmap[i].gid ? 'g' : 'u', p->idmap[i].ns_id,
                                                p->idmap[i].host_id, p->idmap[i].count);
        return 0;
}

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
        _cleanup_free_ char *rootfs_path = NULL, *config = NULL, *fstab = NULL, *hooks = NULL;
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
        if (fr->meta->fstab) {
                fstab = image_template_substitute(fr->meta->fstab, strlen(fr->meta->fstab), &vars);
                if (!fstab)
                        return -ENOMEM;
                r = write_file_atomic_at(tfd, "fstab", fstab, strlen(fstab), 0644);
                if (r < 0)
                        return warren_error_set(reterr, r, "Failed to write the container's fstab: %s",
                                                strerror(-r));
        }
        const ImageConfigParams cp = {
                .default_config = p->default_config,
                .dist_config = fr->meta->config,
                .vars = &vars,
                .has_fstab = fr->meta->fstab != NULL,
                .extra_items = p->config_items,
        };
        r = image_config_assemble(&cp, &config, reterr);
        if (r == -EPERM || r == -EINVAL)
                drop_refused(p, cache, spec, fr->build);
        if (r < 0)
                return r;
        r = write_file_atomic_at(tfd, "config", config, strlen(config), 0644);
        if (r < 0)
                return warren_error_set(reterr, r, "Failed to write the container's config: %s",
                                        strerror(-r));
        return 0;
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
        r = validate_params(p, reterr);
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

/* ---- the wire protocol ---- */

typedef struct Writer {
        uint8_t *buf;
        size_t size, pos;
        bool overflow;
} Writer;

static void put_bytes(Writer *w, const void *p, size_t n) {
        if (n == 0)
                return;
        if (w->overflow || w->size - w->pos < n) {
                w->overflow = true;
                return;
        }
        memcpy(w->buf + w->pos, p, n);
        w->pos += n;
}

static void put_u32(Writer *w, uint32_t v) {
        uint8_t b[4] = { (uint8_t) v, (uint8_t) (v >> 8), (uint8_t) (v >> 16), (uint8_t) (v >> 24) };
        put_bytes(w, b, 4);
}

static void put_u64(Writer *w, uint64_t v) {
        put_u32(w, (uint32_t) v);
        put_u32(w, (uint32_t) (v >> 32));
}

static void put_string(Writer *w, const char *s, size_t max) {
        size_t n = s ? strnlen(s, max) : 0;
        put_u32(w, (uint32_t) n);
        put_bytes(w, s, n);
}

ssize_t image_job_msg_encode(const ImageJobMsg *m, uint8_t *buf, size_t size) {
        Writer w = { .buf = buf, .size = size };

        put_u32(&w, IMAGE_JOB_MSG_MAGIC);
        put_u32(&w, (uint32_t) m->type);
        if (m->type == IMAGE_JOB_MSG_PROGRESS) {
                double v = m->progress.progress;
                v = v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
                put_u32(&w, (uint32_t) m->progress.phase);
                put_u64(&w, m->progress.bytes_done);
                put_u64(&w, m->progress.bytes_total);
                put_u32(&w, (uint32_t) (v * 1e6 + 0.5));
        } else if (m->type == IMAGE_JOB_MSG_RESULT) {
                uint8_t d = m->result.downloaded;
                put_u32(&w, (uint32_t) m->result.error);
                put_bytes(&w, &d, 1);
                put_string(&w, m->result.message, IMAGE_JOB_MESSAGE_MAX);
                put_string(&w, m->result.create_message, IMAGE_JOB_CREATE_MESSAGE_MAX);
                put_string(&w, m->result.build, IMAGE_BUILD_MAX);
        } else
                return -EINVAL;
        return w.overflow ? -ENOBUFS : (ssize_t) w.pos;
}

typedef struct Reader {
        const uint8_t *buf;
        size_t size, pos;
} Reader;

static bool get_u32(Reader *r, uint32_t *v) {
        if (r->size - r->pos < 4)
                return false;
        const uint8_t *p = r->buf + r->pos;
        *v = (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
        r->pos += 4;
        return true;
}

static bool get_u64(Reader *r, uint64_t *v) {
        uint32_t lo, hi;
        if (!get_u32(r, &lo) || !get_u32(r, &hi))
                return false;
        *v = (uint64_t) hi << 32 | lo;
        return true;
}

/* 1: read (NULL for an empty string), 0: truncated, -1: too long or has a NUL. */
static int get_string(Reader *r, size_t max, char **ret) {
        uint32_t n;
        if (!get_u32(r, &n))
                return 0;
        if (n > max)
                return -1;
        if (r->size - r->pos < n)
                return 0;
        if (memchr(r->buf + r->pos, 0, n))
                return -1;
        *ret = NULL;
        if (n > 0) {
                *ret = strndup((const char *) r->buf + r->pos, n);
                if (!*ret)
                        return -2;
        }
        r->pos += n;
        return 1;
}

void image_job_msg_done(ImageJobMsg *m) {
        if (m)
                image_job_result_done(&m->result);
}

int image_job_msg_decode(const uint8_t *buf, size_t size, ImageJobMsg *ret, WarrenError *reterr) {
        Reader r = { .buf = buf, .size = size };
        ImageJobMsg m = {};
        uint32_t magic, type;

        if (!get_u32(&r, &magic) || !get_u32(&r, &type))
                return warren_error_set(reterr, EBADMSG, "Invalid image job message: %zu bytes, too short",
                                        size);
        if (magic != IMAGE_JOB_MSG_MAGIC)
                return warren_error_set(reterr, EBADMSG, "Invalid image job message: bad magic 0x%08x",
                                        magic);
        if (type == IMAGE_JOB_MSG_PROGRESS) {
                uint32_t phase, ppm;
                m.type = IMAGE_JOB_MSG_PROGRESS;
                if (!get_u32(&r, &phase) || !get_u64(&r, &m.progress.bytes_done) ||
                    !get_u64(&r, &m.progress.bytes_total) || !get_u32(&r, &ppm))
                        return warren_error_set(reterr, EBADMSG,
                                                "Invalid image job progress message: truncated");
                if (phase >= _IMAGE_PHASE_MAX)
                        return warren_error_set(reterr, EBADMSG,
                                                "Invalid image job progress message: phase %u", phase);
                if (ppm > 1000000)
                        return warren_error_set(reterr, EBADMSG,
                                                "Invalid image job progress message: progress %u ppm", ppm);
                m.progress.phase = (ImagePhase) phase;
                m.progress.progress = ppm / 1e6;
        } else if (type == IMAGE_JOB_MSG_RESULT) {
                uint32_t err;
                int k;
                m.type = IMAGE_JOB_MSG_RESULT;
                if (!get_u32(&r, &err) || r.pos >= r.size)
                        return warren_error_set(reterr, EBADMSG,
                                                "Invalid image job result message: truncated");
                if (err > 4095)
                        return warren_error_set(reterr, EBADMSG,
                                                "Invalid image job result message: errno %u", err);
                m.result.error = (int) err;
                if (r.buf[r.pos] > 1)
                        return warren_error_set(reterr, EBADMSG, "Invalid image job result message: flag %u",
                                                r.buf[r.pos]);
                m.result.downloaded = r.buf[r.pos++];
                const struct {
                        char **s;
                        size_t max;
                        const char *what;
                } strings[] = {
                        { &m.result.message, IMAGE_JOB_MESSAGE_MAX, "message" },
                        { &m.result.create_message, IMAGE_JOB_CREATE_MESSAGE_MAX, "create-message" },
                        { &m.result.build, IMAGE_BUILD_MAX, "build" },
                };
                for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                        k = get_string(&r, strings[i].max, strings[i].s);
                        if (k <= 0) {
                                image_job_result_done(&m.result);
                                if (k == -2)
                                        return -ENOMEM;
                                return warren_error_set(
                                        reterr, EBADMSG, "Invalid image job result message: %s %s",
                                        strings[i].what, k == 0 ? "truncated" : "too long or contains NUL");
                        }
                }
        } else
                return warren_error_set(reterr, EBADMSG, "Invalid image job message: type %u", type);
        if (r.pos != r.size) {
                image_job_msg_done(&m);
                return warren_error_set(reterr, EBADMSG, "Invalid image job message: %zu trailing bytes",
                                        r.size - r.pos);
        }
        *ret = m;
        return 0;
}

/* ---- the job: parent side and child setup ---- */

struct ImageJob {
        pid_t pid;
        int fd;
        bool reaped, finished, has_pending;
        ImageJobResult pending; /* a result read together with progress, returned next */
        char *temp_dir;         /* where the child downloads, for cleaning up after it */
        char *target_dir;
};

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

_Noreturn static void child_main(const ImagePullParams *p, int sock, pid_t parent) {
        ImageJobResult res = {};
        WarrenError e = WARREN_ERROR_NULL;
        static uint8_t buf[IMAGE_JOB_MSG_MAX];
        sigset_t all;

        /* Leave warrend's world: own process group (so cancel reaches any
         * grandchild), die with the parent, default signals, no other fds. */
        (void) setpgid(0, 0);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(EXIT_FAILURE);
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        /* OpenSSL writes to sockets without MSG_NOSIGNAL: a server closing
         * early must give an error, not kill us. */
        (void) signal(SIGPIPE, SIG_IGN);
        sigfillset(&all);
        (void) sigprocmask(SIG_UNBLOCK, &all, NULL);
        if (sock != CHILD_SOCKET_FD) {
                if (dup3(sock, CHILD_SOCKET_FD, O_CLOEXEC) < 0)
                        _exit(EXIT_FAILURE);
                sock = CHILD_SOCKET_FD;
        }
        (void) close_range(CHILD_SOCKET_FD + 1, ~0U, 0);
        (void) setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
        umask(022);
        if (chdir("/") < 0)
                _exit(EXIT_FAILURE);
        (void) prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        drop_capabilities();

        ChildReporter cr = { .fd = sock, .last_phase = _IMAGE_PHASE_MAX };
        int r = image_pull(p, child_report, &cr, &res, &e);
        if (r < 0) {
                res.error = -r;
                res.message = e.message ? strdup(e.message) : strdup(strerror(-r));
        }
        ImageJobMsg m = { .type = IMAGE_JOB_MSG_RESULT, .result = res };
        ssize_t n = image_job_msg_encode(&m, buf, sizeof buf);
        if (n > 0)
                (void) send(sock, buf, (size_t) n, MSG_NOSIGNAL);
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

static void job_cleanup(ImageJob *j) {
        _cleanup_free_ char *tmp = NULL;
        int r;

        if (j->temp_dir && asprintf(&tmp, "%s%d", j->temp_dir, (int) j->pid) >= 0) {
                r = rm_rf_at(AT_FDCWD, tmp);
                if (r < 0)
                        log_debug("Failed to remove '%s': %s", tmp, strerror(-r));
        }
        if (j->target_dir) {
                r = image_job_cleanup_target(j->target_dir);
                if (r < 0)
                        log_debug("Failed to clean up '%s': %s", j->target_dir, strerror(-r));
        }
}

/* Kills (if asked) and reaps the child; returns its wait status. */
static int job_reap(ImageJob *j, bool kill_it) {
        int status = 0;
        if (j->pid <= 0 || j->reaped)
                return 0;
        if (kill_it) {
                (void) kill(-j->pid, SIGKILL);
                (void) kill(j->pid, SIGKILL);
        }
        while (waitpid(j->pid, &status, 0) < 0)
                if (errno != EINTR) {
                        status = 0;
                        break;
                }
        j->reaped = true;
        return status;
}

static void job_finish(ImageJob *j, ImageJobResult *res, bool kill_it) {
        int status = job_reap(j, kill_it);
        if (res->error != 0)
                job_cleanup(j);
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                log_debug("Image job %d ended with status 0x%x after success", (int) j->pid, status);
        j->fd = safe_close(j->fd);
        j->finished = true;
}

/* "<variant dir>/.#pull-": the child's temporary without its pid. */
static int job_temp_prefix(const ImagePullParams *q, char **ret) {
        _cleanup_free_ char *server = NULL, *t = NULL;
        ImageOrigin o = q->fetch.origin;
        if (image_server_url(o.server ?: IMAGE_SERVER_DEFAULT, &server, NULL) < 0)
                return -EINVAL;
        o.server = server;
        t = image_cache_temp_path(q->cache_dir, &o, &q->fetch.spec, 0);
        if (!t)
                return -ENOMEM;
        t[strlen(t) - 1] = 0; /* the "0" of pid 0 */
        *ret = TAKE_PTR(t);
        return 0;
}

int image_job_start(const ImagePullParams *p, ImageJob **ret, WarrenError *reterr) {
        _cleanup_free_ ImageJob *j = NULL;
        ImagePullParams q = *p;
        int sv[2], r;

        if (!q.fetch.spec.arch) {
                r = image_host_arch(&q.fetch.spec.arch, reterr);
                if (r < 0)
                        return r;
        }
        if (!q.fetch.spec.variant)
                q.fetch.spec.variant = IMAGE_VARIANT_DEFAULT;
        r = validate_params(&q, reterr);
        if (r < 0)
                return r;

        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->fd = -EBADF;
        r = job_temp_prefix(&q, &j->temp_dir);
        j->target_dir = q.target_dir ? strdup(q.target_dir) : NULL;
        if (r < 0 || (q.target_dir && !j->target_dir)) {
                image_job_free(TAKE_PTR(j));
                return -ENOMEM;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                r = warren_error_set(reterr, errno, "Failed to create the image job socket: %m");
                image_job_free(TAKE_PTR(j));
                return r;
        }
        pid_t parent = getpid();
        j->pid = fork();
        if (j->pid < 0) {
                r = warren_error_set(reterr, errno, "Failed to fork the image job: %m");
                safe_close(sv[0]);
                safe_close(sv[1]);
                j->pid = 0;
                image_job_free(TAKE_PTR(j));
                return r;
        }
        if (j->pid == 0) {
                safe_close(sv[0]);
                child_main(&q, sv[1], parent);
        }
        safe_close(sv[1]);
        (void) setpgid(j->pid, j->pid); /* also here: no race with an early cancel */
        j->fd = sv[0];
        (void) fcntl(j->fd, F_SETFL, fcntl(j->fd, F_GETFL) | O_NONBLOCK);
        *ret = TAKE_PTR(j);
        return 0;
}

int image_job_fd(const ImageJob *j) {
        return j && !j->finished ? j->fd : -EBADF;
}

pid_t image_job_pid(const ImageJob *j) {
        return j ? j->pid : 0;
}

static void result_set(ImageJobResult *res, int error, const char *fmt, ...) _printf_(3, 4);
static void result_set(ImageJobResult *res, int error, const char *fmt, ...) {
        va_list ap;
        image_job_result_done(res);
        res->error = error;
        va_start(ap, fmt);
        if (vasprintf(&res->message, fmt, ap) < 0)
                res->message = NULL;
        va_end(ap);
}

int image_job_dispatch(ImageJob *j, ImageJobProgress *ret_progress, ImageJobResult *ret_result) {
        static uint8_t buf[IMAGE_JOB_MSG_MAX + 1];
        int event = IMAGE_JOB_NONE;

        if (j->finished)
                return -ESTALE;
        if (j->has_pending) {
                j->has_pending = false;
                job_finish(j, &j->pending, true);
                *ret_result = j->pending;
                j->pending = (ImageJobResult){};
                return IMAGE_JOB_FINISHED;
        }
        for (;;) {
                ImageJobMsg m;
                WarrenError e = WARREN_ERROR_NULL;
                ssize_t n = recv(j->fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return event;
                        return -errno;
                }
                if (n == 0) {
                        /* Gone without a result: killed, or crashed. Its group
                         * goes too (a decompressor could outlive it). */
                        int status = job_reap(j, true);
                        ImageJobResult res = {};
                        if (WIFSIGNALED(status))
                                result_set(&res, EIO, "Image job process %d was killed by signal %d (%s)",
                                           (int) j->pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
                        else
                                result_set(&res, EIO,
                                           "Image job process %d exited with status %d without a result",
                                           (int) j->pid, WEXITSTATUS(status));
                        job_finish(j, &res, false);
                        *ret_result = res;
                        return IMAGE_JOB_FINISHED;
                }
                if ((size_t) n > IMAGE_JOB_MSG_MAX || image_job_msg_decode(buf, (size_t) n, &m, &e) < 0) {
                        ImageJobResult res = {};
                        result_set(&res, EPROTO, "Image job sent an invalid message: %s",
                                   (size_t) n > IMAGE_JOB_MSG_MAX ? "too large" : warren_error_message(&e));
                        warren_error_clear(&e);
                        job_finish(j, &res, true);
                        *ret_result = res;
                        return IMAGE_JOB_FINISHED;
                }
                if (m.type == IMAGE_JOB_MSG_PROGRESS) {
                        *ret_progress = m.progress;
                        event = IMAGE_JOB_PROGRESS;
                        continue;
                }
                /* Progress read in this call is reported first, so the last
                 * one (1.0) is never lost; the result follows on the next
                 * call (the socket stays readable: the child exits). */
                if (event == IMAGE_JOB_PROGRESS) {
                        j->pending = m.result;
                        j->has_pending = true;
                        return event;
                }
                /* The result is the child's last act: it has nothing left to do. */
                job_finish(j, &m.result, true);
                *ret_result = m.result;
                return IMAGE_JOB_FINISHED;
        }
}

int image_job_cancel(ImageJob *j, ImageJobResult *ret_result) {
        ImageJobResult res = {};
        if (!j || j->finished)
                return 0;
        j->has_pending = false;
        image_job_result_done(&j->pending);
        result_set(&res, ECANCELED, "Image job canceled");
        job_finish(j, &res, true);
        if (ret_result)
                *ret_result = res;
        else
                image_job_result_done(&res);
        return 0;
}

ImageJob *image_job_free(ImageJob *j) {
        if (!j)
                return NULL;
        if (!j->finished && j->pid > 0)
                (void) image_job_cancel(j, NULL);
        image_job_result_done(&j->pending);
        safe_close(j->fd);
        free(j->temp_dir);
        free(j->target_dir);
        free(j);
        return NULL;
}
