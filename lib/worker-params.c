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

/* ---- the kinds' fields, written once for both directions ----
 *
 * A Coder packs (p set) or unpacks (u set): each kind's fields are listed
 * in one function, so the two directions cannot disagree on the order.
 * Packing only reads the struct (the const is cast away for the shared
 * signature). */

typedef struct Coder {
        Packer *p;
        Unpacker *u;
} Coder;

static void code_u32(Coder *c, uint32_t *v) {
        if (c->p)
                pack_u32(c->p, *v);
        else
                *v = unpack_u32(c->u);
}

static void code_u64(Coder *c, uint64_t *v) {
        if (c->p)
                pack_u64(c->p, *v);
        else
                *v = unpack_u64(c->u);
}

static void code_bool(Coder *c, bool *v) {
        if (c->p)
                pack_bool(c->p, *v);
        else
                *v = unpack_bool(c->u);
}

static void code_string(Coder *c, const char **s) {
        if (c->p)
                pack_string(c->p, *s);
        else
                *s = unpack_string(c->u);
}

static void code_strv(Coder *c, char ***l, size_t max) {
        if (c->p)
                pack_strv(c->p, *l);
        else
                *l = unpack_strv(c->u, max);
}

static void code_mode(Coder *c, ImageMode *m) {
        uint32_t v = (uint32_t) *m;
        code_u32(c, &v);
        if (c->u)
                *m = v == IMAGE_MODE_USER ? IMAGE_MODE_USER : IMAGE_MODE_SYSTEM;
}

static void code_ranges(Coder *c, const ImageIdRange **ranges, size_t *n) {
        uint32_t count = (uint32_t) *n;
        code_u32(c, &count);
        ImageIdRange *r = (ImageIdRange *) *ranges;
        if (c->u) {
                r = unpack_alloc(c->u, count, sizeof *r, IMAGE_RANGES_MAX);
                *ranges = r;
                *n = r ? count : 0;
        }
        for (size_t i = 0; r && i < count; i++) {
                code_bool(c, &r[i].gid);
                code_u32(c, &r[i].ns_id);
                code_u32(c, &r[i].host_id);
                code_u32(c, &r[i].count);
        }
}

static void code_idmap(Coder *c, const Idmap **map) {
        bool present = *map;
        code_bool(c, &present);
        if (!present) {
                if (c->u)
                        *map = NULL;
                return;
        }
        Idmap *m = (Idmap *) *map;
        uint32_t n = m ? (uint32_t) m->n : 0;
        if (c->u) {
                m = unpack_alloc(c->u, 1, sizeof *m, 1);
                *map = m;
        }
        code_u32(c, &n);
        if (!m)
                return;
        if (c->u) {
                m->lines = unpack_alloc(c->u, n, sizeof *m->lines, IDMAP_LINES_MAX);
                m->n = m->lines ? n : 0;
        }
        for (size_t i = 0; i < m->n; i++) {
                uint32_t kind = (uint32_t) m->lines[i].kind;
                code_u32(c, &kind);
                if (c->u)
                        m->lines[i].kind = (IdmapKind) kind;
                code_u32(c, &m->lines[i].nsid);
                code_u32(c, &m->lines[i].hostid);
                code_u32(c, &m->lines[i].count);
        }
}

static void code_pull(Coder *c, ImagePullParams *q) {
        ImageFetchParams *f = &q->fetch;
        code_string(c, &q->cache_dir);
        code_string(c, &f->origin.server);
        code_bool(c, &f->origin.user);
        code_u32(c, &f->origin.uid);
        code_string(c, &f->keyring);
        code_string(c, &f->spec.dist);
        code_string(c, &f->spec.release);
        code_string(c, &f->spec.arch);
        code_string(c, &f->spec.variant);
        code_mode(c, &f->mode);
        code_bool(c, &f->no_verify);
        code_bool(c, &f->flush_cache);
        code_bool(c, &f->force_cache);
        code_u64(c, &f->limits.index_max);
        code_u64(c, &f->limits.meta_max);
        code_u64(c, &f->limits.rootfs_max);
        code_u64(c, &f->download.max_size);
        code_u32(c, &f->download.connect_timeout_s);
        code_u32(c, &f->download.low_speed_time_s);
        code_u32(c, &f->download.low_speed_limit);
        code_u32(c, &f->download.attempts);
        code_u32(c, &f->download.retry_delay_ms);
        code_string(c, &q->target_dir);
        code_string(c, &q->container_name);
        code_string(c, &q->container_path);
        code_string(c, &q->template_config);
        code_string(c, &q->hook_dir);
        code_string(c, &q->default_config);
        code_strv(c, (char ***) &q->config_items, CONFIG_ITEMS_MAX);
        code_ranges(c, &q->idmap, &q->n_idmap);
        code_u64(c, &q->max_entries);
        code_u64(c, &q->max_unpacked_size);
        code_bool(c, &q->no_decompressor);
}

static void code_local(Coder *c, ImageLocalParams *q) {
        code_string(c, &q->fstree);
        code_string(c, &q->metadata);
        code_string(c, &q->target_dir);
        code_string(c, &q->container_name);
        code_string(c, &q->container_path);
        code_string(c, &q->template_config);
        code_string(c, &q->hook_dir);
        code_string(c, &q->default_config);
        code_mode(c, &q->mode);
        code_ranges(c, &q->idmap, &q->n_idmap);
}

static void code_remote(Coder *c, ImageRemoteParams *q) {
        code_string(c, &q->server);
        code_mode(c, &q->mode);
        code_string(c, &q->keyring);
        code_string(c, &q->scratch_dir);
}

static void code_copy(Coder *c, CopyWork *w) {
        code_string(c, &w->dst_name);
        code_bool(c, &w->cow);
        code_string(c, &w->rename_from);
        code_string(c, &w->rename_to);
        code_string(c, &w->runtime_dir);
        code_string(c, &w->freeze_container);
}

static void code_restore(Coder *c, RestoreWork *w) {
        code_string(c, &w->tmp_name);
        code_string(c, &w->config);
        code_string(c, &w->runtime_dir);
        code_string(c, &w->container);
        code_bool(c, &w->cow);
}

static void code_export(Coder *c, ExportWork *w) {
        code_string(c, &w->name);
        code_string(c, &w->compression);
        code_string(c, &w->arch);
        code_idmap(c, &w->shift);
        code_string(c, &w->config);
        code_string(c, &w->config_user);
        code_string(c, &w->runtime_dir);
        code_string(c, &w->freeze_container);
        code_u64(c, &w->now_s);
}

static void code_files(Coder *c, FileWork *w) {
        code_bool(c, &w->push);
        code_strv(c, &w->paths, PATHS_MAX);
        code_bool(c, &w->recursive);
        code_string(c, &w->dest_dir);
        code_string(c, &w->runtime_dir);
        code_string(c, &w->container);
        code_idmap(c, &w->idmap);
        code_bool(c, &w->rootfs_shifted);
        code_bool(c, &w->caller_root);
}

static void code_kind(Coder *c, WorkerKind kind, void *params) {
        switch (kind) {
        case WORKER_IMAGE_PULL:
                code_pull(c, params);
                break;
        case WORKER_IMAGE_LOCAL:
                code_local(c, params);
                break;
        case WORKER_IMAGE_REMOTE:
                code_remote(c, params);
                break;
        case WORKER_COPY:
                code_copy(c, params);
                break;
        case WORKER_RESTORE:
                code_restore(c, params);
                break;
        case WORKER_EXPORT:
                code_export(c, params);
                break;
        case WORKER_FILES:
                code_files(c, params);
                break;
        default:
                break;
        }
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
        /* Packing only reads: see Coder. */
        code_kind(&(Coder){ .p = &p }, kind, (void *) params);
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
        /* Every member of the union starts at its address. */
        code_kind(&(Coder){ .u = u }, kind, &p.pull);
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
