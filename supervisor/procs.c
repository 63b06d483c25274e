/*
 * procs.c — the supervised processes: each watched call turned into log
 * records, and what the calls do not say found out from /proc.
 *
 * The supervisor lets every call continue, so it never sees a result.  It
 * learns them another way:
 *   - a spawn's child: the new pid in /proc/<pid>/task/<tid>/children of
 *     the spawning thread, or a first call from a process whose parent has
 *     a spawn pending;
 *   - an exec's success: the process's startstack (a new one at every
 *     exec) changed; a failed exec is not recorded;
 *   - an end: the process's pidfd becomes readable (it is a zombie); its
 *     wait status is in /proc/<pid>/stat while it is one;
 *   - a reap by the parent: the zombie is gone (pidfd_send_signal says
 *     ESRCH) and it was not the supervisor, as a subreaper, that reaped it.
 *
 * Ends, reaps and unreaped-child are reap.c's.  Every process image gets a log when it first records something; an exec'd
 * image that records nothing writes none (its parent's CHILD_EXEC or EXEC
 * says what it ran), except the program itself, whose log always exists.
 *
 * Invariants: a process record outlives its process while its parent
 * lives (the parent's judgement needs it), and no longer (prune); lookups
 * by pid find only live ones; a pid is in the watchdog's list from its
 * spawn until the supervisor saw it end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procs.h"

struct proc *procs_list;
int procs_epfd = -1;
/* processes seen, records held now and at most (guard-supervise -v) */
static unsigned long n_seen, n_held, n_held_max;

/* Threads seen, by tid: the process they belong to, so that a thread's
 * next call costs no /proc/<tid>/status.  An entry is believed while its
 * process lives; a tid reused by another process within one run would
 * need the pid space to wrap around. */
#define TID_CACHE 4096
static struct {
    pid_t tid;
    struct proc *p;
} tid_cache[TID_CACHE];
static pid_t self_pid;
const char *const procs_spawn_names[8] = {"?", "fork", "vfork", "posix_spawn", "posix_spawnp",
                                          "system", "popen", "clone"};

void procs_init(int epfd)
{
    procs_epfd = epfd;
    self_pid = getpid();
}

struct proc *procs_find(pid_t pid)
{
    for (struct proc *p = procs_list; p; p = p->next)
        if (p->pid == pid && !p->gone)
            return p;
    return NULL;
}

static void shared_add(struct proc *p)
{
    p->shared_slot = -1;
    for (unsigned i = 0; i < SUP_SHARED_MAX; i++)
        if (!sup_shared_pids[i]) {
            sup_shared_pids[i] = (uint32_t)p->pid;
            p->shared_slot = (int)i;
            return;
        }
}

void procs_shared_del(struct proc *p)
{
    if (p->shared_slot >= 0 && sup_shared_pids[p->shared_slot] == (uint32_t)p->pid)
        sup_shared_pids[p->shared_slot] = 0;
    p->shared_slot = -1;
}

/* pidfd: the process's pidfd if the caller has one (taken: -1 after) */
static struct proc *add_proc(pid_t pid, pid_t ppid, uint64_t t, int *pidfd)
{
    struct proc *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->pid = pid;
    p->ppid = ppid;
    p->parent = procs_find(ppid);
    if (pidfd && *pidfd >= 0) {
        p->pidfd = *pidfd;
        *pidfd = -1;
    } else {
        p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    }
    if (p->pidfd >= 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = p};
        epoll_ctl(procs_epfd, EPOLL_CTL_ADD, p->pidfd, &ev);
    } else if (errno == ESRCH) { /* already reaped: nothing of it is left to see */
        p->exited = p->finished = p->gone = 1;
    } else { /* out of descriptors: it lives, but its end goes unseen */
        peek_fd_failed();
    }
    if (p->parent) { /* a fork child runs its parent's image */
        slog_init(&p->log, pid, ppid, 1, t, p->parent->log.exe, p->parent->log.args,
                  p->parent->log.args_len);
    } else {
        char exe[PATH_MAX], link[64];
        snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
        ssize_t n = readlink(link, exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
        char args[8192];
        snprintf(link, sizeof link, "/proc/%d/cmdline", (int)pid);
        ssize_t alen = peek_file(link, args, sizeof args);
        slog_init(&p->log, pid, ppid, 1, t, exe, args, alen > 0 ? (size_t)alen : 0);
    }
    p->go = p->parent ? p->parent->go : (struct go_info){0};
    p->next = procs_list;
    procs_list = p;
    n_seen++;
    if (++n_held > n_held_max)
        n_held_max = n_held;
    p->shared_slot = -1;
    if (!p->gone)
        shared_add(p);
    return p;
}

struct proc *procs_top(pid_t pid, uint64_t start)
{
    struct proc *p = add_proc(pid, self_pid, start, NULL);
    if (p) {
        p->launcher = 1;
        p->is_top = 1;
    }
    return p;
}

int procs_live(void)
{
    for (struct proc *p = procs_list; p; p = p->next)
        if (!p->finished)
            return 1;
    return 0;
}

/* ---- stacks and records ------------------------------------------------------ */

/* The thread's stack at its call, from /proc (rsp and pc) or from the
 * registers ptrace gave (regs non-NULL). */
static void take_stack(pid_t pid, pid_t tid, const uint64_t *regs, struct peek_stack *st)
{
    memset(st->regs, 0, sizeof st->regs);
    if (regs) {
        memcpy(st->regs, regs, sizeof st->regs);
    } else {
        long nr;
        peek_syscall_regs(tid, &st->regs[7], &st->regs[16], &nr);
    }
    peek_stack_copy(pid, st);
}

void procs_record(struct proc *p)
{
    p->recorded = 1;
}

/* Let p's call go on; 0 when the kernel took the answer.  Otherwise a
 * signal interrupted the call: it is made again and recorded then. */
static int go_on(struct notif *n, struct proc *p)
{
    if (notif_continue(n) == 0)
        return 0;
    p->interrupted++;
    return -1;
}

const char *procs_comm_of(pid_t pid, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    if (peek_file(path, buf, cap) <= 0)
        return "?";
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

/* ---- spawns ---------------------------------------------------------------------- */

static int claimed(pid_t pid)
{
    return procs_find(pid) != NULL;
}

/* The child of spawn s is c: the SPAWN record and the child's entry. */
static struct proc *spawn_resolved(struct proc *p, struct pending_spawn *s, pid_t c, int *pidfd)
{
    s->active = 0;
    unsigned flags = s->threads > 1 ? GUARD_SPAWN_MULTITHREADED : 0;
    if (c <= 0)
        flags |= GUARD_SPAWN_FAILED;
    slog_event(&p->log, s->t, s->tid, GUARD_EV_SPAWN, s->stack, (uint64_t)(c > 0 ? c : -1),
               s->kind, flags, (uint64_t)s->threads, "", 1, 0);
    procs_record(p);
    if (c <= 0)
        return NULL;
    struct proc *child = add_proc(c, p->pid, s->t, pidfd);
    if (child) {
        child->parent = p;
        child->spawn_ns = s->t;
        child->spawn_tid = s->tid;
        child->spawn_stack = s->stack;
        child->spawn_kind = s->kind;
        child->go = p->go;
    }
    return child;
}

/* Look for the child of a pending spawn, without waiting: if it is not
 * there yet and the thread is still in its call, it is looked for again
 * later. */
static void resolve_spawn(struct proc *p, struct pending_spawn *s)
{
    /* the thread's state first: a child made between the two reads is
     * then in the list */
    long nr;
    uint64_t sp, pc;
    int returned = peek_syscall_regs(s->tid, &sp, &pc, &nr) == 0 && nr != SYS_clone &&
                   nr != SYS_clone3 && nr != SYS_fork && nr != SYS_vfork && nr >= 0;
    static pid_t now[PEEK_CHILDREN_MAX];
    size_t n = peek_children(p->pid, s->tid, now, PEEK_CHILDREN_MAX);
    for (size_t i = 0; i < n; i++) {
        /* Every child of a supervised process was spawned by a watched
         * call, so one without an entry is this spawn's. */
        if (!claimed(now[i])) {
            spawn_resolved(p, s, now[i], NULL);
            return;
        }
    }
    if (returned)
        spawn_resolved(p, s, -1, NULL); /* back from the call, no new child: it failed */
}

/* A process we did not know: a child whose spawn is pending, or one whose
 * spawn we missed. */
static struct proc *adopt_unknown(pid_t tgid, pid_t ppid, uint64_t t, int *pidfd)
{
    struct proc *par = procs_find(ppid);
    if (par)
        for (unsigned i = 0; i < MAX_PENDING_SPAWNS; i++)
            if (par->spawns[i].active)
                return spawn_resolved(par, &par->spawns[i], tgid, pidfd);
    return add_proc(tgid, ppid, t, pidfd);
}

static void handle_spawn(struct notif *n, struct proc *p, pid_t tid, unsigned long nr)
{
    const uint64_t *a = (const uint64_t *)n->req->data.args;
    uint64_t flags = 0;
    if (nr == SYS_clone) {
        flags = a[0];
    } else if (nr == SYS_clone3) {
        if (peek_mem(p->pid, a[0], &flags, sizeof flags) != sizeof flags)
            flags = 0;
        if (flags & CLONE_THREAD) {
            notif_continue(n);
            return;
        }
    }
    unsigned kind = nr == SYS_fork ? GUARD_SPAWN_FORK
                  : nr == SYS_vfork || (flags & CLONE_VFORK) ? GUARD_SPAWN_VFORK
                  : !(flags & CLONE_VM) ? GUARD_SPAWN_FORK : GUARD_SPAWN_CLONE;
    struct pending_spawn s;
    memset(&s, 0, sizeof s);
    s.active = 1;
    s.tid = tid;
    s.kind = kind;
    s.t = n->t;
    s.threads = peek_threads(p->pid);
    static struct peek_stack st;
    take_stack(p->pid, tid, NULL, &st);
    if (nr == SYS_clone3 && st.len >= 8) {
        /* glibc's __clone3 ends its call frame information before its
         * system call, and has pushed nothing: the stack starts at its
         * caller, whose return address is on top */
        memcpy(&st.regs[16], st.bytes, 8);
        st.regs[7] += 8;
        st.len -= 8;
        memmove(st.bytes, st.bytes + 8, st.len);
    } else if (nr == SYS_clone && (flags & CLONE_VFORK) && p->go.is_go && st.regs[7]) {
        /* Go's syscall.rawVforkSyscall pops its return address (into R12,
         * to keep it from the child) before the call: it is the word just
         * below the stack pointer, and the stack pointer is its caller's */
        uint64_t ra = 0;
        if (peek_mem(p->pid, st.regs[7] - 8, &ra, sizeof ra) == (ssize_t)sizeof ra && ra)
            st.regs[16] = ra;
    }
    uint64_t ns[8] = {0};
    int judge_ns = ns_any_move(p->ns);
    if (judge_ns)
        peek_ns_inodes(tid, ns);
    if (go_on(n, p) != 0)
        return;
    s.stack = slog_stack(&p->log, &st);
    if (judge_ns)
        ns_sensitive(p->ns, &p->log, n->t, tid, 0, "clone", NULL, 0, s.stack, NULL, ns, 0, 0);
    const uint64_t new_ns = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC |
                            CLONE_NEWPID | CLONE_NEWUSER | CLONE_NEWCGROUP | 0x80;
    if (flags & new_ns) {
        struct guard_ns_change_payload pl;
        peek_ns_inodes(tid, pl.before);
        memcpy(pl.after, pl.before, sizeof pl.after);
        slog_event(&p->log, n->t, tid, GUARD_EV_NS_CHANGE, s.stack, GUARD_NS_CLONE, flags, 0, 0,
                   &pl, sizeof pl, 0);
    }
    for (unsigned i = 0; i < MAX_PENDING_SPAWNS; i++)
        if (!p->spawns[i].active) {
            /* Settled later, without waiting here: at the child's first
             * watched call (adopt_unknown), at its parent's next one, or
             * at the tick, whichever comes first. */
            p->spawns[i] = s;
            return;
        }
}

/* ---- execs ------------------------------------------------------------------------ */

/* ended: p is a zombie, whose /proc/<pid>/exe is gone already;
 * unconfirmed: or gone, and whether its exec worked is not known */
static void exec_succeeded(struct proc *p, int ended, int unconfirmed)
{
    p->exec.active = 0;
    uint64_t t = p->exec.t;
    if (p->exec.told_parent && p->parent) {
        slog_event(&p->parent->log, sup_now_ns(), p->parent->pid, GUARD_EV_CHILD_EXEC,
                   p->exec.stack, (uint64_t)p->pid, t, (uint64_t)p->exec.tid,
                   unconfirmed ? GUARD_EXEC_UNCONFIRMED : 0, p->exec.payload, p->exec.len, 0);
        procs_record(p->parent);
    } else if (!p->launcher) {
        slog_event(&p->log, t, p->exec.tid, GUARD_EV_EXEC, p->exec.stack, 0, 0, 0, 0,
                   p->exec.payload, p->exec.len, 0);
        reap_judge_children(p, 1);
    }
    slog_close(&p->log);
    char exe[PATH_MAX] = "", link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", (int)p->pid);
    ssize_t n = ended ? 0 : readlink(link, exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    size_t path_len = strnlen(p->exec.payload, p->exec.len);
    const char *args = p->exec.payload + path_len + 1;
    size_t args_len = p->exec.len > path_len + 1 ? p->exec.len - path_len - 1 : 0;
    slog_init(&p->log, p->pid, p->ppid, 0, t, exe[0] ? exe : p->exec.payload, args, args_len);
    p->launcher = 0;
    p->recorded = 0;
    p->waits_any = 0;
    ns_free(p->ns);
    p->ns = NULL; /* made at the image's first namespace call */
    if (!ended)
        go_inspect(p->pid, &p->go);
    if (p->is_top)
        slog_ready(&p->log); /* the program's own log exists whatever it does */
}

/* Did the pending exec happen (1), fail (-1), or is it still on its way
 * (0)?  ended: p has ended (its pidfd said so), and is a zombie or gone;
 * gone, a forked child's exec is unconfirmed (2): its parent is told the
 * exec it tried, marked so, rather than nothing. */
static int exec_state(struct proc *p, int ended)
{
    uint64_t ss = 0;
    char st = 0;
    int code = 0;
    /* whether the thread is still in its call is read first: an exec that
     * completes between the two reads is then seen by the second */
    int in = ended ? 0 : peek_in_syscall(p->exec.tid, p->exec.nr);
    char comm[PEEK_COMM];
    if (peek_stat(p->pid, &st, &ss, &code, NULL, NULL, comm) != 0)
        return ended && p->exec.told_parent ? 2 : -1;
    if (st == 'Z') { /* ended already: a zombie keeps the name its last exec gave it */
        if (!p->status_known) { /* its wait status, read once (reap_finish) */
            p->wstatus = code;
            p->status_known = 1;
        }
        return strcmp(comm, p->exec.comm) ? 1 : -1;
    }
    if (ss != p->exec.startstack)
        return 1;
    return in == 1 && sup_now_ns() - p->exec.t < 5000000000ull ? 0 : -1;
}

void procs_resolve_exec(struct proc *p, int ended)
{
    int s = p->exec.active ? exec_state(p, ended) : 0;
    if (s > 0)
        exec_succeeded(p, ended, s == 2);
    else if (s < 0)
        p->exec.active = 0;
}

static void handle_exec(struct notif *n, struct proc *p, pid_t tid, unsigned long nr)
{
    const uint64_t *a = (const uint64_t *)n->req->data.args;
    uint64_t path = nr == SYS_execveat ? a[1] : a[0], argv = nr == SYS_execveat ? a[2] : a[1];
    static char payload[2048];
    size_t len = peek_argv(p->pid, path, argv, payload, sizeof payload);
    uint64_t ss = 0;
    char comm[PEEK_COMM] = "?";
    peek_stat(p->pid, NULL, &ss, NULL, NULL, NULL, comm);
    static struct peek_stack st;
    int told_parent = !p->launcher && p->log.forked_child && !p->recorded && p->parent &&
                      !p->parent->finished;
    if (!p->launcher)
        take_stack(p->pid, tid, NULL, &st);
    if (p->launcher && p->is_top && crash_wanted(p->pid, payload))
        crash_attach(p->pid); /* before its first instruction */
    uint64_t ns[8] = {0};
    int judge_ns = !p->launcher && !told_parent && ns_any_move(p->ns);
    if (judge_ns)
        peek_ns_inodes(tid, ns);
    if (go_on(n, p) != 0)
        return;
    struct slog *target = told_parent ? &p->parent->log : &p->log;
    uint32_t stack = p->launcher ? 0 : slog_stack(target, &st);
    if (judge_ns)
        ns_sensitive(p->ns, &p->log, n->t, tid, 0, "execve", NULL, 0, stack, NULL, ns, 0, 0);
    p->exec.active = 1;
    p->exec.tid = tid;
    p->exec.nr = (long)nr;
    p->exec.t = n->t;
    p->exec.startstack = ss;
    p->exec.stack = stack;
    p->exec.told_parent = told_parent;
    p->exec.len = len;
    memcpy(p->exec.payload, payload, len);
    memcpy(p->exec.comm, comm, sizeof comm); /* settled later, as a spawn is */
}

/* ---- waits and kills ---------------------------------------------------------------- */

static void handle_wait(struct notif *n, struct proc *p, pid_t tid, unsigned long nr)
{
    const uint64_t *a = (const uint64_t *)n->req->data.args;
    /* once the call goes on it may reap them, and their exec and status
     * can no longer be read */
    reap_settle_children(p);
    if (go_on(n, p) != 0)
        return;
    int any;
    pid_t asked = 0;
    if (nr == SYS_wait4) {
        int pid = (int)a[0];
        any = pid == -1 || pid == 0 || pid < -1;
        asked = pid > 0 ? pid : 0;
        p->wait_call = GUARD_REAP_WAIT4;
    } else {
        int idtype = (int)a[0];
        any = idtype == P_ALL || idtype == P_PGID;
        asked = idtype == P_PID ? (pid_t)a[1] : 0;
        p->wait_call = GUARD_REAP_WAITID;
    }
    if (any)
        p->waits_any = 1;
    p->wait_tid = tid;
    p->wait_pid = asked;
    reap_check_gone(p);
}

static void handle_kill(struct notif *n, struct proc *p, pid_t tid)
{
    pid_t target = (pid_t)n->req->data.args[0];
    int sig = (int)n->req->data.args[1];
    if (go_on(n, p) != 0)
        return;
    struct proc *c = target > 0 ? procs_find(target) : NULL;
    if (c && c->parent == p && sig) {
        c->signalled = sig;
        slog_event(&p->log, n->t, tid, GUARD_EV_KILL, 0, (uint64_t)target, (uint64_t)sig, 0, 0,
                   NULL, 0, 0);
        procs_record(p);
    }
}

/* ---- namespace calls ----------------------------------------------------------------- */

/* Which goroutine made the call (Go programs).  The thread is in the
 * kernel's killable wait for our answer (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV),
 * which a ptrace stop request does not break: it is seized and asked to
 * stop, its call goes on, and it stops as the call returns, with R14 still
 * its g and rax the call's result.  Without the killable wait (kernels
 * before 5.19) the request would interrupt the call: no goroutine then. */
static int capture_begin(struct proc *p, pid_t tid)
{
    if (!p->go.is_go || sup_opt.no_goroutines || !sup_killable_wait || !go_layout(p->pid, &p->go))
        return 0;
    return go_capture_begin(p->pid, tid) == 0;
}

static void handle_ns(struct notif *n, struct proc *p, pid_t tid, unsigned long nr)
{
    const uint64_t *a = (const uint64_t *)n->req->data.args;
    if (!p->ns && !(p->ns = ns_new())) {
        notif_continue(n);
        return;
    }
    char target[513] = "";
    unsigned call_id = 0;
    const char *call = "sethostname";
    uint64_t mflags = 0;
    switch (nr) {
    case SYS_unshare:
        call_id = GUARD_NS_UNSHARE;
        break;
    case SYS_setns:
        call_id = GUARD_NS_SETNS;
        break;
    case SYS_mount:
        peek_string(p->pid, a[1], target, sizeof target);
        mflags = a[3];
        call_id = GUARD_NS_MOUNT;
        call = "mount";
        break;
    case SYS_umount2:
        peek_string(p->pid, a[0], target, sizeof target);
        call_id = GUARD_NS_UMOUNT;
        call = "umount2";
        break;
    case SYS_pivot_root:
        peek_string(p->pid, a[0], target, sizeof target);
        call_id = GUARD_NS_PIVOT_ROOT;
        call = "pivot_root";
        break;
    case SYS_chroot:
        peek_string(p->pid, a[0], target, sizeof target);
        call_id = GUARD_NS_CHROOT;
        call = "chroot";
        break;
    default:
        call_id = GUARD_NS_SETHOSTNAME;
        break;
    }
    uint64_t before[8], after[8];
    peek_ns_inodes(tid, before);
    static struct peek_stack st;
    int armed = capture_begin(p, tid);
    if (!armed)
        take_stack(p->pid, tid, NULL, &st);
    int sent = go_on(n, p) == 0;
    struct goroutine g = {0};
    int have_rc = armed && go_capture_end(p->pid, tid, &p->go, &st, &g) == 0;
    if (!sent)
        return;
    if (armed && !have_rc)
        st.regs[7] = 0; /* no stack: the thread went on without stopping */
    long rc = have_rc ? (long)st.regs[0] : 0;
    uint32_t stack = slog_stack(&p->log, &st);
    if (call_id == GUARD_NS_UNSHARE || call_id == GUARD_NS_SETNS) {
        /* the move is made once the call goes on: wait for the thread's
         * namespaces to change or for the thread to leave the call (a
         * thread stopped at its return has done both) */
        uint64_t until = sup_now_ns() + 1000000000ull;
        int changed = 0;
        for (;;) {
            int left = have_rc || peek_in_syscall(tid, (long)nr) == 0; /* before the read below */
            peek_ns_inodes(tid, after);
            changed = memcmp(before, after, sizeof after) != 0;
            if (changed || left || sup_now_ns() >= until)
                break;
            nanosleep(&(struct timespec){0, 10000}, NULL);
        }
        if (!have_rc)
            rc = changed ? 0 : -1;
        ns_changed(p->ns, &p->log, n->t, tid, call_id, call_id == GUARD_NS_UNSHARE ? a[0] : a[1],
                   before, after, have_rc, rc, stack, &g);
    } else {
        ns_sensitive(p->ns, &p->log, n->t, tid, call_id, call, target, mflags, stack, &g, before,
                     have_rc, rc);
    }
    procs_record(p);
}

/* ---- the dispatcher ---------------------------------------------------------------------- */

void procs_handle(struct notif *n)
{
    pid_t tid = (pid_t)n->req->pid, ppid = 0;
    unsigned slot = (unsigned)tid % TID_CACHE;
    struct proc *p = tid_cache[slot].tid == tid ? tid_cache[slot].p : NULL;
    if (!p || p->finished || p->gone) {
        int pidfd = -1;
        pid_t tgid = peek_tgid_pidfd(tid, &ppid, &pidfd);
        if (tgid <= 0) { /* gone already: let it go */
            if (pidfd >= 0)
                close(pidfd);
            notif_continue(n);
            return;
        }
        p = procs_find(tgid);
        if (!p)
            p = adopt_unknown(tgid, ppid, n->t, &pidfd);
        if (pidfd >= 0)
            close(pidfd);
        if (!p) {
            notif_continue(n);
            return;
        }
        tid_cache[slot].tid = tid;
        tid_cache[slot].p = p;
    }
    if (p->exec.active)
        procs_resolve_exec(p, 0);
    for (unsigned i = 0; i < MAX_PENDING_SPAWNS; i++)
        if (p->spawns[i].active)
            resolve_spawn(p, &p->spawns[i]);
    reap_check_gone(p); /* its children reaped since: before what this call does */
    unsigned long nr = (unsigned long)n->req->data.nr;
    restart_call(p, nr);
    switch (nr) {
    case SYS_clone:
    case SYS_clone3:
    case SYS_fork:
    case SYS_vfork:
        handle_spawn(n, p, tid, nr);
        break;
    case SYS_execve:
    case SYS_execveat:
        handle_exec(n, p, tid, nr);
        break;
    case SYS_wait4:
    case SYS_waitid:
        handle_wait(n, p, tid, nr);
        break;
    case SYS_kill:
        handle_kill(n, p, tid);
        break;
    case SYS_unshare:
    case SYS_setns:
    case SYS_mount:
    case SYS_umount2:
    case SYS_pivot_root:
    case SYS_chroot:
    case SYS_sethostname:
        handle_ns(n, p, tid, nr);
        break;
    default:
        notif_continue(n);
        break;
    }
}

int procs_pending(void)
{
    for (struct proc *p = procs_list; p; p = p->next) {
        if (p->finished)
            continue;
        if (p->exec.active)
            return 1;
        for (unsigned i = 0; i < MAX_PENDING_SPAWNS; i++)
            if (p->spawns[i].active)
                return 1;
    }
    for (struct proc *p = procs_list; p; p = p->next)
        if (p->exited && !p->gone)
            return 1;
    return 0;
}

/* Forget the records nothing can need any more, so that a long run
 * keeps only its live processes: a process that has ended and is gone,
 * unless its parent lives and may still judge it (unreaped-child reads
 * the record of a child the supervisor reaped for it, reap.c).  Its
 * children's parent becomes unknown, which every use takes as an ended
 * parent. */
static void prune(void)
{
    int any = 0;
    for (struct proc *p = procs_list; p; p = p->next) {
        p->pruned = p->finished && p->gone &&
                    (!p->parent || p->parent->finished || !p->reaped_by_us || p->judged);
        any |= p->pruned;
    }
    if (!any)
        return;
    for (struct proc *p = procs_list; p; p = p->next)
        if (p->parent && p->parent->pruned)
            p->parent = NULL;
    for (unsigned i = 0; i < TID_CACHE; i++)
        if (tid_cache[i].p && tid_cache[i].p->pruned)
            tid_cache[i].p = NULL, tid_cache[i].tid = 0;
    for (struct proc **pp = &procs_list; *pp;) {
        struct proc *p = *pp;
        if (!p->pruned) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        n_held--;
        slog_close(&p->log);
        ns_free(p->ns);
        free(p);
    }
}

void procs_tick(void)
{
    for (struct proc *p = procs_list; p; p = p->next) {
        if (p->finished)
            continue;
        if (p->exec.active)
            procs_resolve_exec(p, 0);
        for (unsigned i = 0; i < MAX_PENDING_SPAWNS; i++)
            if (p->spawns[i].active)
                resolve_spawn(p, &p->spawns[i]);
    }
    reap_check_gone(NULL);
    prune();
}

/* The supervisor is done: whatever is still open is written and closed. */
void procs_finish(void)
{
    if (sup_opt.verbose) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        dprintf(2, "guard-supervise: %lu processes supervised, at most %lu records held, "
                "%ld ms of CPU of its own\n", n_seen, n_held_max,
                (long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
                    (long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
    }
    reap_check_gone(NULL);
    for (struct proc *p = procs_list; p; p = p->next)
        if (!p->finished && p->pidfd >= 0) {
            struct pollfd pf = {p->pidfd, POLLIN, 0};
            if (poll(&pf, 1, 0) == 1)
                reap_finish(p);
        }
    for (struct proc *p = procs_list; p; p = p->next)
        slog_close(&p->log);
}
