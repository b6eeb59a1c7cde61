/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the parts of the monitor share (monitor.c, monitor-setup.c,
 * monitor-control.c, monitor-init.c): the Monitor of one container and
 * the functions one part calls in another. Not for use outside them. */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "monitor-attach.h"
#include "monitor-proto.h"
#include "monitor-stub.h"
#include "monitor.h"
#include "network.h"

typedef struct Cgroup Cgroup;
typedef struct CgroupLayout CgroupLayout;
typedef struct Idmap Idmap;
typedef struct MonitorTtys MonitorTtys;
typedef struct MonitorWarm MonitorWarm;

#define MAX_CLIENTS 32U
#define CLIENT_QUEUE_MAX 32U /* replies/events queued for a slow client before it is dropped */

typedef enum Tag {
        TAG_LISTEN,
        TAG_SIGNAL,
        TAG_STOP_TIMER,
        TAG_FREEZE_TIMER,
        TAG_CLIENT,
        TAG_MASTER,
        TAG_PROXY,
} Tag;
#define TAG(kind, idx) (((uint64_t) (kind) << 32) | (uint32_t) (idx))

typedef enum StopPhase {
        STOP_NONE,
        STOP_HALT_SENT,
        STOP_SIGNAL_SENT,
        STOP_KILLED,
} StopPhase;

typedef struct QueuedMessage {
        size_t len;
        int fd;
        char data[];
} QueuedMessage;

typedef struct Client {
        unsigned index;
        int fd;
        bool subscribed;
        bool broken;
        MonitorCommand waiting; /* a deferred reply (STOP, FREEZE), or MONITOR_CMD_INVALID */
        QueuedMessage *queue[CLIENT_QUEUE_MAX];
        size_t n_queue;
        uint32_t mask;
} Client;

typedef struct Monitor {
        NetworkCheckFlags net_flags;
        const MonitorOptions *o; /* &opts */
        MonitorOptions opts;
        char *taken_name;               /* a warm monitor's container, from the TAKE */
        MonitorWarm *warm;              /* a warm monitor's spares and stub, until init is spawned */
        bool init_via_stub;             /* init was born in its v1 cgroups: no move */
        SpawnStub *stub;                /* the warm monitor's stub, from init's spawn until reaped */
        int standby_fd;                 /* the attach helper made ahead, until it was sent the container */
        AttachHelperContext attach_ctx; /* what the attach helper starts from */
        char *attach_path;
        pid_t attach_pid; /* the attach helper, 0 if none */
        int attach_pidfd;
        pid_t pid;
        MonitorState state;

        LxcConfig *config;
        bool host_links; /* network_config_has_host_links(config), asked once */
        char *rootfs;
        Idmap *idmap;    /* lxc.idmap; NULL: privileged (no user namespace) */
        uid_t owner_uid; /* from the store's owner file: decides how binds are opened */
        gid_t owner_gid;
        uid_t root_uid; /* host ids of the container's root and its tty group */
        gid_t root_gid, tty_gid;
        unsigned tty_max;
        bool has_console;
        int halt_signal, stop_signal, reboot_signal; /* halt_signal 0: decided at stop time */
        size_t console_buffer_size;

        CgroupLayout *layout;
        Cgroup *cgroup;
        bool cgroup_created;
        bool placed;        /* the host's place hook put us in a delegated cgroup */
        bool pre_start_ran; /* lxc.hook.post-stop runs at teardown */
        int netns_fd;       /* the container's, kept while it has phys NICs to give back */
        bool init_ran;      /* lxc.hook.stop runs at teardown */
        char *config_path;
        bool cgroup_killed; /* cgroup.kill was used: no CLONE_INTO_CGROUP any more */

        char *dir_path; /* <runtime>/containers/NAME */
        int dir_fd;
        int lock_fd;
        bool owns_dir;

        int sync_fd, epoll_fd, signal_fd, listen_fd, stop_timer_fd, freeze_timer_fd;
        sigset_t blocked;

        pid_t init_pid;
        int init_pidfd;
        StopPhase stop_phase;
        int stop_halt_signal;
        uint64_t stop_deadline_usec;
        bool done;

        MonitorTtys *ttys;

        Client *clients[MAX_CLIENTS];
} Monitor;

/* monitor.c */
int monitor_epoll_add(Monitor *m, int fd, uint64_t tag, uint32_t events);
int monitor_arm_timer(int fd, uint64_t sec, long nsec, bool repeat);

/* monitor-setup.c */
int monitor_detach(Monitor *m, WarrenError *reterr);
int monitor_make_cgroup(Monitor *m, WarrenError *reterr);
int monitor_setup(Monitor *m, WarrenError *reterr);
void monitor_teardown(Monitor *m);

/* monitor-control.c */
void monitor_set_state(Monitor *m, MonitorState s);
void monitor_finish_waiting(Monitor *m, MonitorCommand cmd, int error, const char *text);
void monitor_client_flush(Monitor *m, Client *c);
Client *monitor_client_free(Monitor *m, Client *c);
void monitor_clients_gc(Monitor *m);
void monitor_client_on_event(Monitor *m, Client *c, uint32_t events);
void monitor_on_listen(Monitor *m);
int monitor_setup_socket(Monitor *m, WarrenError *reterr);

/* monitor-init.c */
int monitor_run_pre_start(Monitor *m, WarrenError *reterr);
void monitor_run_stop_hooks(Monitor *m, const char *target);
void monitor_restore_phys(Monitor *m);
void monitor_hook_running(Monitor *m);
void monitor_hook_stopped(Monitor *m);
/* SIGKILL now, reaped by monitor_stop_attach_helper(). */
void monitor_kill_attach_helper(Monitor *m);
void monitor_stop_attach_helper(Monitor *m);
int monitor_spawn_init(Monitor *m, WarrenError *reterr);
/* Once RUNNING is out: the attach helper, and the stub is sent away. */
void monitor_after_start(Monitor *m);
void monitor_signal_init(Monitor *m, int sig);
void monitor_begin_stop(Monitor *m, uint32_t timeout_s, bool kill);
void monitor_empty_cgroup(Monitor *m);
void monitor_on_stop_timer(Monitor *m);
void monitor_on_signal(Monitor *m);
void monitor_on_freeze_timer(Monitor *m);
