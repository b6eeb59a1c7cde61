/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "idmap.h"
#include "worker-params.h"

#define PARAMS_MAGIC 0x31505757U /* "WWP1" */
#define CONFIG_ITEMS_MAX 4096U
#define PATHS_MAX 4096U
#define IDMAP_LINES_MAX (2U * IDMAP_MAX_LINES)
#define IMAGE_RANGES_MAX (2U * IDMAP_MAX_LINES)

/* ---- the kinds' fields, in one order for both directions ---- */

static void pack_ranges(Packer *p, const ImageIdRange *r, size_t n) {
        pack_u32(p, (uint32_t) n);
        for (size_t i = 0; i < n; i++) {
                pack_bool(p, r[i].gid);
                pack_u32(p, r[i].ns_id);
                pack_u32(p, r[i].host_id);
                pack_u32(p, r[i].count);
        }
}

static const ImageIdRange *unpack_ranges(Unpacker *u, size_t *ret_n) {
        uint32_t n = unpack_u32(u);
        ImageIdRange *r = unpack_alloc(u, n, sizeof *r, IMAGE_RANGES_MAX);
        for (size_t i = 0; r && i < n; i++) {
                r[i].gid = unpack_bool(u);
                r[i].ns_id = unpack_u32(u);
                r[i].host_id = unpack_u32(u);
                r[i].count = unpack_u32(u);
        }
        *ret_n = r ? n : 0;
        return r;
}

static void pack_idmap(Packer *p, const Idmap *m) {
        pack_bool(p, m);
        if (!m)
                return;
        pack_u32(p, (uint32_t) m->n);
        for (size_t i = 0; i < m->n; i++) {
                pack_u32(p, (uint32_t) m->lines[i].kind);
                pack_u32(p, m->lines[i].nsid);
                pack_u32(p, m->lines[i].hostid);
                pack_u32(p, m->lines[i].count);
        }
}

static const Idmap *unpack_idmap(Unpacker *u) {
        if (!unpack_bool(u))
                return NULL;
        Idmap *m = unpack_alloc(u, 1, sizeof *m, 1);
        uint32_t n = unpack_u32(u);
        if (!m)
                return NULL;
        m->lines = unpack_alloc(u, n, sizeof *m->lines, IDMAP_LINES_MAX);
        m->n = m->lines ? n : 0;
        for (size_t i = 0; i < m->n; i++) {
                m->lines[i].kind = (IdmapKind) unpack_u32(u);
                m->lines[i].nsid = unpack_u32(u);
                m->lines[i].hostid = unpack_u32(u);
                m->lines[i].count = unpack_u32(u);
        }
        return m;
}

static void pack_pull(Packer *p, const ImagePullParams *q) {
        const ImageFetchParams *f = &q->fetch;
        pack_string(p, q->cache_dir);
        pack_string(p, f->origin.server);
        pack_bool(p, f->origin.user);
        pack_u32(p, (uint32_t) f->origin.uid);
        pack_string(p, f->keyring);
        pack_string(p, f->spec.dist);
        pack_string(p, f->spec.release);
        pack_string(p, f->spec.arch);
        pack_string(p, f->spec.variant);
        pack_u32(p, (uint32_t) f->mode);
        pack_bool(p, f->no_verify);
        pack_bool(p, f->flush_cache);
        pack_bool(p, f->force_cache);
        pack_u64(p, f->limits.index_max);
        pack_u64(p, f->limits.meta_max);
        pack_u64(p, f->limits.rootfs_max);
        pack_u64(p, f->download.max_size);
        pack_u32(p, f->download.connect_timeout_s);
        pack_u32(p, f->download.low_speed_time_s);
        pack_u32(p, f->download.low_speed_limit);
        pack_u32(p, f->download.attempts);
        pack_u32(p, f->download.retry_delay_ms);
        pack_string(p, q->target_dir);
        pack_string(p, q->container_name);
        pack_string(p, q->container_path);
        pack_string(p, q->template_config);
        pack_string(p, q->hook_dir);
        pack_string(p, q->default_config);
        pack_strv(p, q->config_items);
        pack_ranges(p, q->idmap, q->n_idmap);
        pack_u64(p, q->max_entries);
        pack_u64(p, q->max_unpacked_size);
        pack_bool(p, q->no_decompressor);
}

static ImageMode unpack_mode(Unpacker *u) {
        uint32_t m = unpack_u32(u);
        return m == IMAGE_MODE_USER ? IMAGE_MODE_USER : IMAGE_MODE_SYSTEM;
}

static void unpack_pull(Unpacker *u, ImagePullParams *q) {
        ImageFetchParams *f = &q->fetch;
        q->cache_dir = unpack_string(u);
        f->origin.server = unpack_string(u);
        f->origin.user = unpack_bool(u);
        f->origin.uid = (uid_t) unpack_u32(u);
        f->keyring = unpack_string(u);
        f->spec.dist = unpack_string(u);
        f->spec.release = unpack_string(u);
        f->spec.arch = unpack_string(u);
        f->spec.variant = unpack_string(u);
        f->mode = unpack_mode(u);
        f->no_verify = unpack_bool(u);
        f->flush_cache = unpack_bool(u);
        f->force_cache = unpack_bool(u);
        f->limits.index_max = unpack_u64(u);
        f->limits.meta_max = unpack_u64(u);
        f->limits.rootfs_max = unpack_u64(u);
        f->download.max_size = unpack_u64(u);
        f->download.connect_timeout_s = unpack_u32(u);
        f->download.low_speed_time_s = unpack_u32(u);
        f->download.low_speed_limit = unpack_u32(u);
        f->download.attempts = unpack_u32(u);
        f->download.retry_delay_ms = unpack_u32(u);
        q->target_dir = unpack_string(u);
        q->container_name = unpack_string(u);
        q->container_path = unpack_string(u);
        q->template_config = unpack_string(u);
        q->hook_dir = unpack_string(u);
        q->default_config = unpack_string(u);
        q->config_items = unpack_strv(u, CONFIG_ITEMS_MAX);
        q->idmap = unpack_ranges(u, &q->n_idmap);
        q->max_entries = unpack_u64(u);
        q->max_unpacked_size = unpack_u64(u);
        q->no_decompressor = unpack_bool(u);
}

static void pack_local(Packer *p, const ImageLocalParams *q) {
        pack_string(p, q->fstree);
        pack_string(p, q->metadata);
        pack_string(p, q->target_dir);
        pack_string(p, q->container_name);
        pack_string(p, q->container_path);
        pack_string(p, q->template_config);
        pack_string(p, q->hook_dir);
        pack_string(p, q->default_config);
        pack_u32(p, (uint32_t) q->mode);
        pack_ranges(p, q->idmap, q->n_idmap);
}

static void unpack_local(Unpacker *u, ImageLocalParams *q) {
        q->fstree = unpack_string(u);
        q->metadata = unpack_string(u);
        q->target_dir = unpack_string(u);
        q->container_name = unpack_string(u);
        q->container_path = unpack_string(u);
        q->template_config = unpack_string(u);
        q->hook_dir = unpack_string(u);
        q->default_config = unpack_string(u);
        q->mode = unpack_mode(u);
        q->idmap = unpack_ranges(u, &q->n_idmap);
}

static void pack_remote(Packer *p, const ImageRemoteParams *q) {
        pack_string(p, q->server);
        pack_u32(p, (uint32_t) q->mode);
        pack_string(p, q->keyring);
        pack_string(p, q->scratch_dir);
}

static void unpack_remote(Unpacker *u, ImageRemoteParams *q) {
        q->server = unpack_string(u);
        q->mode = unpack_mode(u);
        q->keyring = unpack_string(u);
        q->scratch_dir = unpack_string(u);
}

static void pack_copy(Packer *p, const CopyWork *w) {
        pack_string(p, w->dst_name);
        pack_bool(p, w->cow);
        pack_string(p, w->rename_from);
        pack_string(p, w->rename_to);
        pack_string(p, w->runtime_dir);
        pack_string(p, w->freeze_container);
}

static void unpack_copy(Unpacker *u, CopyWork *w) {
        w->dst_name = unpack_string(u);
        w->cow = unpack_bool(u);
        w->rename_from = unpack_string(u);
        w->rename_to = unpack_string(u);
        w->runtime_dir = unpack_string(u);
        w->freeze_container = unpack_string(u);
}

static void pack_restore(Packer *p, const RestoreWork *w) {
        pack_string(p, w->tmp_name);
        pack_string(p, w->config);
        pack_string(p, w->runtime_dir);
        pack_string(p, w->container);
        pack_bool(p, w->cow);
}

static void unpack_restore(Unpacker *u, RestoreWork *w) {
        w->tmp_name = unpack_string(u);
        w->config = unpack_string(u);
        w->runtime_dir = unpack_string(u);
        w->container = unpack_string(u);
        w->cow = unpack_bool(u);
}

static void pack_export(Packer *p, const ExportWork *w) {
        pack_string(p, w->name);
        pack_string(p, w->compression);
        pack_string(p, w->arch);
        pack_idmap(p, w->shift);
        pack_string(p, w->config);
        pack_string(p, w->config_user);
        pack_string(p, w->runtime_dir);
        pack_string(p, w->freeze_container);
        pack_u64(p, w->now_s);
}

static void unpack_export(Unpacker *u, ExportWork *w) {
        w->name = unpack_string(u);
        w->compression = unpack_string(u);
        w->arch = unpack_string(u);
        w->shift = unpack_idmap(u);
        w->config = unpack_string(u);
        w->config_user = unpack_string(u);
        w->runtime_dir = unpack_string(u);
        w->freeze_container = unpack_string(u);
        w->now_s = unpack_u64(u);
}

static void pack_files(Packer *p, const FileWork *w) {
        pack_bool(p, w->push);
        pack_strv(p, w->paths);
        pack_bool(p, w->recursive);
        pack_string(p, w->dest_dir);
        pack_string(p, w->runtime_dir);
        pack_string(p, w->container);
        pack_idmap(p, w->idmap);
        pack_bool(p, w->rootfs_shifted);
        pack_bool(p, w->caller_root);
}

static void unpack_files(Unpacker *u, FileWork *w) {
        w->push = unpack_bool(u);
        w->paths = unpack_strv(u, PATHS_MAX);
        w->recursive = unpack_bool(u);
        w->dest_dir = unpack_string(u);
        w->runtime_dir = unpack_string(u);
        w->container = unpack_string(u);
        w->idmap = unpack_idmap(u);
        w->rootfs_shifted = unpack_bool(u);
        w->caller_root = unpack_bool(u);
}

/* ---- the header and the dispatch ---- */

int worker_params_pack(WorkerKind kind, const void *params, const int *fds, size_t n_fds, uint8_t **ret,
                       size_t *ret_size) {
        Packer p = {};
        uint32_t present = 0;
        if (n_fds > WORKER_FDS_MAX || kind < 0 || kind >= _WORKER_KIND_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n_fds; i++)
                if (fds[i] >= 0)
                        present |= 1U << i;
        pack_u32(&p, PARAMS_MAGIC);
        pack_u32(&p, WORKER_PARAMS_VERSION);
        pack_u32(&p, (uint32_t) kind);
        pack_u32(&p, (uint32_t) n_fds);
        pack_u32(&p, present);
        switch (kind) {
        case WORKER_IMAGE_PULL:
                pack_pull(&p, params);
                break;
        case WORKER_IMAGE_LOCAL:
                pack_local(&p, params);
                break;
        case WORKER_IMAGE_REMOTE:
                pack_remote(&p, params);
                break;
        case WORKER_COPY:
                pack_copy(&p, params);
                break;
        case WORKER_RESTORE:
                pack_restore(&p, params);
                break;
        case WORKER_EXPORT:
                pack_export(&p, params);
                break;
        case WORKER_FILES:
                pack_files(&p, params);
                break;
        default:
                break;
        }
        int r = pack_finish(&p, ret, ret_size);
        if (r >= 0 && *ret_size > WORKER_PARAMS_MAX) {
                free(*ret);
                *ret = NULL;
                return -E2BIG;
        }
        return r;
}

/* The struct's own fds array, where the kind has one. */
static int *kind_fds(WorkerParams *p, size_t *ret_n) {
        switch (p->kind) {
        case WORKER_COPY:
                *ret_n = ELEMENTSOF(p->copy.fds);
                return p->copy.fds;
        case WORKER_RESTORE:
                *ret_n = ELEMENTSOF(p->restore.fds);
                return p->restore.fds;
        case WORKER_EXPORT:
                *ret_n = ELEMENTSOF(p->export.fds);
                return p->export.fds;
        case WORKER_FILES:
                *ret_n = ELEMENTSOF(p->files.fds);
                return p->files.fds;
        default:
                *ret_n = 0;
                return NULL;
        }
}

int worker_params_unpack(WorkerKind kind, uint8_t *buf, size_t size, WorkerParams *ret,
                         WarrenError *reterr) {
        WorkerParams p = { .kind = kind, .buf = buf, .unpacker = UNPACKER_INIT(buf, size) };
        Unpacker *u = &p.unpacker;
        uint32_t magic = unpack_u32(u), version = unpack_u32(u), k = unpack_u32(u), n_fds = unpack_u32(u),
                 present = unpack_u32(u);
        size_t want_fds;
        int *fds = kind_fds(&p, &want_fds);
        int r;

        if (u->error != 0 || magic != PARAMS_MAGIC) {
                free(buf);
                return warren_error_set(reterr, EBADMSG, "Invalid worker parameters: no header");
        }
        if (version != WORKER_PARAMS_VERSION || k != (uint32_t) kind) {
                free(buf);
                return warren_error_set(reterr, EPROTO,
                                        "Worker parameters of format %u for kind %u, expected format %u for "
                                        "'%s' (warrend and warren-worker of different builds?)",
                                        version, k, WORKER_PARAMS_VERSION, worker_kind_to_string(kind));
        }
        if (n_fds != want_fds || (n_fds < 32 && present >> n_fds)) {
                free(buf);
                return warren_error_set(reterr, EBADMSG, "Invalid worker parameters: %u fds for '%s'", n_fds,
                                        worker_kind_to_string(kind));
        }
        for (size_t i = 0; i < want_fds; i++)
                fds[i] = present & (1U << i) ? WORKER_FIRST_FD + (int) i : -EBADF;
        switch (kind) {
        case WORKER_IMAGE_PULL:
                unpack_pull(u, &p.pull);
                break;
        case WORKER_IMAGE_LOCAL:
                unpack_local(u, &p.local);
                break;
        case WORKER_IMAGE_REMOTE:
                unpack_remote(u, &p.remote);
                break;
        case WORKER_COPY:
                unpack_copy(u, &p.copy);
                break;
        case WORKER_RESTORE:
                unpack_restore(u, &p.restore);
                break;
        case WORKER_EXPORT:
                unpack_export(u, &p.export);
                break;
        case WORKER_FILES:
                unpack_files(u, &p.files);
                break;
        default:
                break;
        }
        r = unpack_finish(u);
        if (r < 0) {
                const char *what = u->error == 0 ? "trailing bytes" : u->what;
                worker_params_done(&p);
                return r == -ENOMEM
                               ? r
                               : warren_error_set(reterr, EBADMSG, "Invalid worker parameters for '%s': %s",
                                                  worker_kind_to_string(kind), what);
        }
        *ret = p;
        return 0;
}

void worker_params_done(WorkerParams *p) {
        if (!p)
                return;
        unpack_done(&p->unpacker);
        free(p->buf);
        *p = (WorkerParams){};
}
