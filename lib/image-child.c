/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "image-child.h"
#include "image-download.h"
#include "image-index-fetch.h"
#include "image-job.h"
#include "image-meta.h"
#include "image-verify.h"
#include "store.h"

#define PROGRESS_MIN_INTERVAL_USEC 100000ULL
#define META_TEMP_DIR ".#meta"
#define NOBODY 65534
/* Chunks of the remote listing: well under IMAGE_JOB_MSG_MAX. */
#define TEXT_CHUNK_MAX (32U * 1024U)

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

_Noreturn static void child_exit_result(int sock, int r, const WarrenError *e, char *create_message) {
        ImageJobMsg m = { .type = IMAGE_JOB_MSG_RESULT };
        if (r < 0) {
                m.result.error = -r;
                m.result.message = (char *) (e && e->message ? e->message : strerror(-r));
        } else
                m.result.create_message = create_message;
        image_job_msg_send(sock, &m);
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

/* The unpack keeps what writing any rootfs takes (owners, modes, device
 * nodes, file capabilities), nothing else. */
static int child_keep_rootfs_caps(void) {
        static const cap_value_t keep[] = { CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
                                            CAP_FSETID, CAP_MKNOD,        CAP_SETFCAP };
        int r = 0;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        for (cap_value_t c = 0; c < 64 && prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++) {
                bool k = false;
                for (size_t i = 0; i < ELEMENTSOF(keep); i++)
                        k = k || keep[i] == c;
                if (!k && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
                        return -errno;
        }
        cap_t caps = cap_init();
        if (!caps)
                return -ENOMEM;
        if (cap_set_flag(caps, CAP_EFFECTIVE, ELEMENTSOF(keep), keep, CAP_SET) < 0 ||
            cap_set_flag(caps, CAP_PERMITTED, ELEMENTSOF(keep), keep, CAP_SET) < 0 || cap_set_proc(caps) < 0)
                r = -errno;
        cap_free(caps);
        return r;
}

/* The remote listing needs no privilege at all: nobody, no groups. */
static int child_become_nobody(void) {
        if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
            setresuid(NOBODY, NOBODY, NOBODY) < 0)
                return -errno;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

typedef struct LocalReporter {
        int sock;
        ImagePhase phase;
        uint64_t last_usec;
        double last;
} LocalReporter;

static void local_report(LocalReporter *rep, ImagePhase phase, uint64_t done, uint64_t total) {
        double frac = total > 0 ? (double) MIN(done, total) / (double) total : 0.0;
        double v = phase == IMAGE_PHASE_UNPACK ? 0.95 * frac : phase == IMAGE_PHASE_DONE ? 1.0 : 0.97;
        uint64_t t = now_usec();
        if (v < rep->last)
                v = rep->last;
        rep->last = v;
        if (phase == rep->phase && phase != IMAGE_PHASE_DONE &&
            t - rep->last_usec < PROGRESS_MIN_INTERVAL_USEC)
                return;
        rep->phase = phase;
        rep->last_usec = t;
        ImageJobMsg m = {
                .type = IMAGE_JOB_MSG_PROGRESS,
                .progress = { .phase = phase, .bytes_done = done, .bytes_total = total, .progress = v }
        };
        image_job_msg_send(rep->sock, &m);
}

static int local_unpack_progress(uint64_t done, uint64_t total, void *userdata) {
        local_report(userdata, IMAGE_PHASE_UNPACK, done, total);
        return 0;
}

/* The meta files of a local image, unpacked beside the rootfs for a moment. */
static int local_load_meta(int tfd, const ImageLocalParams *p, ImageMeta **ret, WarrenError *reterr) {
        _cleanup_close_ int afd = -EBADF, mfd = -EBADF;
        int r;
        afd = open(p->metadata, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (afd < 0)
                return warren_error_set(reterr, errno, "Failed to open metadata tarball '%s': %m",
                                        p->metadata);
        if (mkdirat(tfd, META_TEMP_DIR, 0700) < 0)
                return warren_error_set(reterr, errno, "Failed to create a directory for the metadata: %m");
        mfd = openat(tfd, META_TEMP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (mfd < 0)
                return warren_error_set(reterr, errno, "Failed to open the metadata directory: %m");
        r = image_meta_extract(afd, mfd, reterr);
        if (r >= 0)
                r = image_meta_load(mfd, p->mode, ret, reterr);
        if (r < 0)
                warren_error_prefix(reterr, "Metadata tarball '%s'", p->metadata);
        return r;
}

static int local_build(int sock, const ImageLocalParams *p, ImageMeta **ret_meta, WarrenError *reterr) {
        _cleanup_free_ char *rootfs_path = NULL, *dist_config = NULL;
        _cleanup_close_ int tfd = -EBADF, afd = -EBADF, rootfd = -EBADF;
        _cleanup_image_meta_ ImageMeta *meta = NULL;
        LocalReporter rep = { .sock = sock, .phase = _IMAGE_PHASE_MAX };
        struct stat st;
        int r;

        tfd = open(p->target_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tfd < 0)
                return warren_error_set(reterr, errno, "Failed to open target directory '%s': %m",
                                        p->target_dir);
        afd = open(p->fstree, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (afd < 0)
                return warren_error_set(reterr, errno, "Failed to open rootfs tarball '%s': %m", p->fstree);
        if (fstat(afd, &st) < 0)
                return warren_error_set(reterr, errno, "Failed to stat rootfs tarball '%s': %m", p->fstree);
        if (!S_ISREG(st.st_mode))
                return warren_error_set(reterr, EINVAL, "Rootfs tarball '%s' is not a regular file",
                                        p->fstree);
        if (p->metadata) {
                r = local_load_meta(tfd, p, &meta, reterr);
                if (r < 0)
                        return r;
        } else {
                /* No image config: the shared settings an image would include. */
                if (asprintf(&dist_config, "lxc.include = LXC_TEMPLATE_CONFIG/common.conf\n%s",
                             p->mode == IMAGE_MODE_USER ? "lxc.include = LXC_TEMPLATE_CONFIG/userns.conf\n"
                                                        : "") < 0)
                        return -ENOMEM;
        }

        local_report(&rep, IMAGE_PHASE_UNPACK, 0, (uint64_t) st.st_size);
        const ImageUnpackOptions uo = {
                .allow_devices = p->n_idmap == 0 && p->mode == IMAGE_MODE_SYSTEM,
                .idmap = p->idmap,
                .n_idmap = p->n_idmap,
                .excludes = meta ? meta->excludes : NULL,
                .decompress_in_child = true,
                .progress = local_unpack_progress,
                .userdata = &rep,
        };
        r = image_unpack(afd, tfd, "rootfs", &uo, NULL, reterr);
        if (r < 0)
                return r;

        local_report(&rep, IMAGE_PHASE_CONFIGURE, 0, 0);
        rootfd = openat(tfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rootfd < 0)
                return warren_error_set(reterr, errno, "Failed to open the unpacked rootfs: %m");
        if (asprintf(&rootfs_path, "%s/rootfs", p->container_path) < 0)
                return -ENOMEM;
        const ImageTemplateVars vars = {
                .name = p->container_name,
                .path = p->container_path,
                .rootfs = rootfs_path,
                .template_config = p->template_config,
                .hook_dir = p->hook_dir,
        };
        if (meta) {
                r = image_meta_apply_templates(meta, rootfd, &vars, reterr);
                if (r < 0)
                        return r;
        }
        const ImageConfigParams cp = {
                .default_config = p->default_config,
                .dist_config = meta ? meta->config : dist_config,
                .vars = &vars,
        };
        bool refused;
        r = image_target_write_config(tfd, meta, &cp, &refused, reterr);
        if (r < 0)
                return r;
        (void) rm_rf_at(tfd, META_TEMP_DIR);
        local_report(&rep, IMAGE_PHASE_DONE, 0, 0);
        *ret_meta = TAKE_PTR(meta);
        return 0;
}

_Noreturn void image_local_child(int sock, const ImageLocalParams *p) {
        _cleanup_image_meta_ ImageMeta *meta = NULL;
        WarrenError e = WARREN_ERROR_NULL;
        int r = child_keep_rootfs_caps();
        if (r < 0)
                r = warren_error_set(&e, r, "Failed to drop capabilities: %s", strerror(-r));
        else
                r = local_build(sock, p, &meta, &e);
        if (r < 0) {
                _cleanup_close_ int tfd =
                        open(p->target_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (tfd >= 0)
                        (void) rm_rf_at(tfd, META_TEMP_DIR);
                (void) image_job_cleanup_target(p->target_dir);
        }
        child_exit_result(sock, r, &e, meta ? meta->create_message : NULL);
}

static int entry_compare(const void *a, const void *b) {
        const ImageIndexEntry *x = *(const ImageIndexEntry *const *) a,
                              *y = *(const ImageIndexEntry *const *) b;
        int c = strcmp(x->dist, y->dist);
        if (c == 0)
                c = strcmp(x->release, y->release);
        if (c == 0)
                c = strcmp(x->arch, y->arch);
        if (c == 0)
                c = strcmp(x->variant, y->variant);
        return c != 0 ? c : image_build_compare(x->build, y->build);
}

static bool same_image(const ImageIndexEntry *x, const ImageIndexEntry *y) {
        return streq(x->dist, y->dist) && streq(x->release, y->release) && streq(x->arch, y->arch) &&
               streq(x->variant, y->variant);
}

/* Index lines of the newest build of each image, from validated fields only. */
static int remote_send_index(int sock, const ImageIndex *idx) {
        _cleanup_free_ const ImageIndexEntry **sorted = calloc(idx->n_entries + 1, sizeof *sorted);
        _cleanup_free_ char *chunk = malloc(TEXT_CHUNK_MAX);
        size_t n = 1;
        if (!chunk || !sorted)
                return -ENOMEM;
        for (size_t i = 0; i < idx->n_entries; i++)
                sorted[i] = &idx->entries[i];
        qsort(sorted, idx->n_entries, sizeof *sorted, entry_compare);
        chunk[0] = IMAGE_HELPER_TEXT_CHUNK;
        for (size_t i = 0; i < idx->n_entries; i++) {
                const ImageIndexEntry *e = sorted[i];
                char line[5 * IMAGE_NAME_MAX + IMAGE_PATH_MAX + 8];
                if (i + 1 < idx->n_entries && same_image(e, sorted[i + 1]))
                        continue; /* an older build */
                int k = snprintf(line, sizeof line, "%s;%s;%s;%s;%s;%s\n", e->dist, e->release, e->arch,
                                 e->variant, e->build, e->path);
                if (k < 0 || (size_t) k >= sizeof line)
                        continue;
                if (n + (size_t) k > TEXT_CHUNK_MAX) {
                        if (send(sock, chunk, n, MSG_NOSIGNAL) < 0)
                                return -errno;
                        n = 1;
                }
                memcpy(chunk + n, line, (size_t) k);
                n += (size_t) k;
        }
        if (n > 1 && send(sock, chunk, n, MSG_NOSIGNAL) < 0)
                return -errno;
        return 0;
}

/* As root: the keyring's fd and a scratch directory nobody owns. */
static int remote_prepare(const ImageRemoteParams *p, int *ret_keyring_fd, char **ret_home,
                          WarrenError *reterr) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int kfd = -EBADF;
        int r = image_remote_scratch_path(p->scratch_dir, getpid(), &dir);
        if (r < 0)
                return r;
        kfd = image_keyring_open(p->keyring, reterr);
        if (kfd < 0)
                return kfd;
        (void) rm_rf_at(AT_FDCWD, dir);
        if (mkdir(dir, 0700) < 0 || chown(dir, NOBODY, NOBODY) < 0)
                return warren_error_set(reterr, errno, "Failed to create '%s': %m", dir);
        if (asprintf(ret_home, "%s/gnupg", dir) < 0)
                return -ENOMEM;
        *ret_keyring_fd = TAKE_FD(kfd);
        return 0;
}

_Noreturn void image_remote_child(int sock, const ImageRemoteParams *p) {
        _cleanup_image_verifier_ ImageVerifier *v = NULL;
        _cleanup_image_index_ ImageIndex *idx = NULL;
        _cleanup_free_ char *text = NULL, *home = NULL;
        _cleanup_close_ int kfd = -EBADF;
        WarrenError e = WARREN_ERROR_NULL;
        size_t size = 0;
        int r = 0;
        if (p->keyring)
                r = remote_prepare(p, &kfd, &home, &e);
        if (r < 0)
                child_exit_result(sock, r, &e, NULL);
        r = child_become_nobody();
        if (r < 0) {
                r = warren_error_set(&e, r, "Failed to drop privileges: %s", strerror(-r));
                child_exit_result(sock, r, &e, NULL);
        }
        /* gpg reads the server's bytes as nobody too. */
        if (p->keyring)
                r = image_verifier_new_fd(kfd, p->keyring, home, &v, &e);
        const ImageIndexFetchParams ip = {
                .server = p->server,
                .mode = p->mode,
                .download = {
                        .max_size = IMAGE_INDEX_MAX_SIZE,
                        .connect_timeout_s = IMAGE_HELPER_REMOTE_TIMEOUT_S,
                        .low_speed_time_s = IMAGE_HELPER_REMOTE_TIMEOUT_S,
                        .attempts = 2,
                },
                .verifier = v,
                .keyring = p->keyring,
        };
        if (r >= 0)
                r = image_index_fetch(&ip, &text, &size, NULL, &e);
        if (r >= 0)
                r = image_index_parse(text, size, &idx, &e);
        if (r >= 0)
                r = remote_send_index(sock, idx);
        child_exit_result(sock, r, &e, NULL);
}
