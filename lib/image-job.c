/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "image-job.h"
#include "log.h"
#include "process.h"
#include "store.h"
#include "strv.h"
#include "worker.h"

void image_job_result_done(ImageJobResult *r) {
        if (!r)
                return;
        free(r->message);
        free(r->create_message);
        free(r->build);
        *r = (ImageJobResult){};
}
/* ---- shared by the job and the pull ---- */

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
int image_pull_params_validate(const ImagePullParams *p, WarrenError *reterr) {
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

void image_job_msg_send(int sock, const ImageJobMsg *m) {
        static uint8_t buf[IMAGE_JOB_MSG_MAX];
        ssize_t n = image_job_msg_encode(m, buf, sizeof buf);
        if (n > 0)
                (void) send(sock, buf, (size_t) n, MSG_NOSIGNAL);
}

/* ---- the job ---- */

struct ImageJob {
        pid_t pid;
        int fd;
        bool reaped, finished, has_pending;
        ImageJobResult pending; /* a result read together with progress, returned next */
        char *temp_dir;         /* where the child downloads, for cleaning up after it */
        char *target_dir;
};
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
        if (j->pid <= 0 || j->reaped)
                return 0;
        j->reaped = true;
        return process_group_reap(j->pid, kill_it);
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

int image_job_start(const char *worker_path, const ImagePullParams *p, ImageJob **ret, WarrenError *reterr) {
        _cleanup_free_ ImageJob *j = NULL;
        ImagePullParams q = *p;
        int r;

        if (!q.fetch.spec.arch) {
                r = image_host_arch(&q.fetch.spec.arch, reterr);
                if (r < 0)
                        return r;
        }
        if (!q.fetch.spec.variant)
                q.fetch.spec.variant = IMAGE_VARIANT_DEFAULT;
        r = image_pull_params_validate(&q, reterr);
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
        r = worker_spawn(worker_path, WORKER_IMAGE_PULL, &q, NULL, 0, &j->pid, &j->fd, reterr);
        if (r < 0) {
                j->pid = 0;
                image_job_free(TAKE_PTR(j));
                return r;
        }
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
