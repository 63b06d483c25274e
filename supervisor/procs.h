/*
 * procs.h — what procs.c (the table of processes and the handling of each
 * watched call) shares with reap.c (their ends).  Private to the two.
 */
#ifndef SUP_PROCS_H
#define SUP_PROCS_H

#include "sup.h"

#define MAX_PENDING_SPAWNS 8

struct pending_spawn {
    int active;
    pid_t tid;
    unsigned kind;
    uint64_t t;
    uint32_t stack;
    int threads;
};

struct proc {
    struct proc *next;
    pid_t pid, ppid;
    struct proc *parent;
    int pidfd;
    int launcher;          /* the launcher's child before its exec: no log */
    int recorded;          /* the current image wrote a record of its own */
    unsigned interrupted;  /* answers the kernel refused: the call was interrupted */
    int is_top;
    struct slog log;
    struct go_info go;
    struct nscheck *ns;
    /* as a child */
    uint64_t spawn_ns;
    pid_t spawn_tid;
    uint32_t spawn_stack;
    unsigned spawn_kind;
    int signalled;
    int exited, status_known, wstatus, finished, gone, reaped_by_us, judged;
    uint64_t ended_ns;     /* when the supervisor first saw it ended (reap_finish) */
    int pruned;            /* forgotten at this tick (procs.c, prune) */
    int shared_slot;       /* its index in sup_shared_pids, or -1 */
    /* as a parent */
    int waits_any;
    unsigned wait_call;
    pid_t wait_tid, wait_pid;
    struct pending_spawn spawns[MAX_PENDING_SPAWNS];
    /* an exec on its way */
    struct {
        int active;
        pid_t tid;
        long nr;
        uint64_t t, startstack;
        uint32_t stack;     /* in the log the record goes to */
        int told_parent;    /* CHILD_EXEC in the parent's log, not EXEC in ours */
        char comm[32];      /* before the exec */
        size_t len;
        char payload[2048];
    } exec;
};

extern struct proc *procs_list;  /* every process seen, the ended ones too */
extern int procs_epfd;
extern const char *const procs_spawn_names[8];

struct proc *procs_find(pid_t pid); /* a live one */
void procs_record(struct proc *p);
void procs_shared_del(struct proc *p); /* out of the watchdog's list */
const char *procs_comm_of(pid_t pid, char *buf, size_t cap);
/* settle a pending exec, if its outcome shows; ended: p is a zombie or gone */
void procs_resolve_exec(struct proc *p, int ended);

void reap_check_gone(struct proc *only_parent);
void reap_judge_children(struct proc *p, int at_exec);
void reap_finish(struct proc *p);
/* p's children that have ended and are not finished yet: finished now,
 * while they are zombies that /proc still shows */
void reap_settle_children(struct proc *p);

/* restart.c: a process that may see EINTR from a watched call is traced */
void restart_call(struct proc *p, unsigned long nr); /* any received call */

#endif /* SUP_PROCS_H */
