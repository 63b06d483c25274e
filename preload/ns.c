/*
 * ns.c — namespaces are per thread: namespace-off-thread and
 * proc-self-ns-mismatch.
 *
 * unshare() and setns() move only the calling thread; mount, umount,
 * pivot_root and chroot act in the calling thread's mount namespace,
 * socket() in its network namespace, sethostname() in its UTS namespace;
 * a fork, spawn or exec takes the calling thread's namespaces with it.  A
 * job whose steps run on different threads (a thread pool, a work queue,
 * an event loop, Go's scheduler) therefore sets a namespace up on one
 * thread and runs its next step on another, on some runs only.
 *
 * The rule (common/guard_ns_rule.h, shared with the analyzer's timeline;
 * docs/checks.md says what fires and why): each thread that moves keeps
 * its own state per kind.  A move is pending until its thread begins a
 * sensitive call in the namespace it moved into.  A sensitive call on a
 * thread that is not in a namespace of its own, in the namespace another
 * thread's move left, is the job's step run on a thread left behind when,
 * as the call began, that move was pending, or was an unshare by a peer (a
 * thread of the same pool: the same origin in its start routine).
 * Dedicated threads, threads that inherited the namespace, visits that
 * came back and other threads' work after the job's first step are never
 * flagged.  A call's time is taken as its hook is entered; the verdict on
 * a mount-family call goes into its timeline record.
 *
 * Each thread's namespace identities (the inode of /proc/thread-self/ns/K)
 * are read only around these calls; a process that never calls
 * unshare/setns pays nothing but a flag test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guard_internal.h"
#include "guard_ns_rule.h"
#include "hook.h"

static const char *const ns_names[GUARD_NSK_COUNT_] = {
    NULL, "mnt", "net", "uts", "ipc", "pid", "user", "cgroup", "time"};

/* Valid while any_change is set: the first move of a process image clears
 * it (a fork child inherits its parent's and only clears the flag, so that
 * a fork costs no store into it).  Guarded by ns_lock. */
GUARD_LARGE static struct guard_ns_rule rule;
static struct guard_lock ns_lock;
static _Atomic int any_change;  /* fast path: nothing to check before the first move */
/* The rule's time: a tick when a move is made, and at the very start of
 * each sensitive call's hook (a thread's first hook may take long to enter
 * the shim: the call began when the program made it). */
static _Atomic uint64_t ns_clock;

static uint64_t ns_tick(void)
{
    return atomic_fetch_add_explicit(&ns_clock, 1, memory_order_relaxed) + 1;
}

static uint64_t thread_ns_ino(int kind)
{
    char path[64];
    struct stat st;
    /* unshare(CLONE_NEWPID/NEWTIME) changes what children get, not the
     * caller: that is the *_for_children link */
    const char *name = kind == GUARD_NSK_PID ? "pid_for_children"
                     : kind == GUARD_NSK_TIME ? "time_for_children" : ns_names[kind];
    guard_fmt(path, sizeof path, "/proc/thread-self/ns/%s", name);
    return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static uint64_t main_thread_ns_ino(int kind)
{
    char path[96];
    struct stat st;
    guard_fmt(path, sizeof path, "/proc/%d/task/%d/ns/%s", (int)guard_pid, (int)guard_pid,
              ns_names[kind]);
    return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static void read_all(uint64_t out[8])
{
    for (int k = 1; k < GUARD_NSK_COUNT_; k++)
        out[k - 1] = thread_ns_ino(k);
}

/* A thread's origin, from one of its whole stacks: the return address in
 * its start routine, third from the outer end (start routine, then glibc's
 * start_thread and clone3; a frame of ours between them is passed over).
 * Threads of one pool have one origin; the main thread's is in glibc's
 * __libc_start_call_main, which no other thread has.  0: unknown (a stack
 * cut at max_frames, or not unwound). */
static uint64_t stack_origin(uint32_t stack)
{
    const uint64_t *pcs = NULL;
    unsigned n = stack ? guard_stack_frames(stack, &pcs) : 0;
    if (n < 3 || n >= guard_opt.max_frames)
        return 0;
    unsigned j = n - 3;
    if (guard_stack_in_shim((uintptr_t)pcs[j]) && j > 0)
        j--;
    return pcs[j];
}

/* ---- recording a move ---------------------------------------------------- */

static void record_change(unsigned call, int flags, int rc, int err, const uint64_t before[8])
{
    struct guard_ns_change_payload p;
    memcpy(p.before, before, sizeof p.before);
    read_all(p.after);
    uint32_t stack = guard_stack_capture(2);
    guard_log_event(GUARD_EV_NS_CHANGE, stack, call, (uint64_t)(unsigned)flags, (uint64_t)rc,
                    (uint64_t)err, (const char *)&p, sizeof p);
    if (rc != 0)
        return;
    if (!guard_lock_acquire(&ns_lock))
        return;
    if (!atomic_load_explicit(&any_change, memory_order_relaxed))
        memset(&rule, 0, sizeof rule);
    uint32_t forgotten = rule.forgotten;
    uint64_t now = ns_tick(), origin = stack_origin(stack);
    for (int k = 1; k < GUARD_NSK_COUNT_; k++)
        guard_ns_rule_moved(&rule, (uint32_t)guard_gettid(), k, p.before[k - 1], p.after[k - 1],
                            stack, call, origin, now);
    atomic_store(&any_change, 1);
    int forgot_first = !forgotten && rule.forgotten;
    guard_lock_release(&ns_lock);
    if (forgot_first)
        guard_log_note("more than %d threads moved namespaces: the least recent one's moves "
                       "are forgotten by namespace-off-thread", GUARD_NS_RULE_THREADS);
}

/* ---- checking a namespace-sensitive call -------------------------------- */

struct left_behind {
    uint32_t tid, stack, call;
    uint64_t left, cur;
    int peer;           /* a peer's unshare (pending or not) */
};

static void report_left_behind(int kind, const struct left_behind *v, const char *call,
                               unsigned role, uint32_t stack)
{
    struct guard_finding f;
    guard_finding_init(&f, GUARD_FK_NAMESPACE_OFF_THREAD, guard_gettid());
    f.other_tid = (pid_t)v->tid;
    f.call = call;
    const char *by = v->call == GUARD_NS_SETNS ? "setns" : "unshare";
    /* the namespace identities are in the summary (obj/addr are for memory),
     * which stays under 256 bytes with the longest names and numbers */
    if (v->peer)
        guard_fmt(f.summary, sizeof f.summary,
                  "%s() on thread T%d runs in %s:[%lu], which T%d, a thread of the same pool, "
                  "left with %s() for %s:[%lu]: the job's step ran on a worker that never "
                  "entered it", call, (int)f.tid, ns_names[kind], (unsigned long)v->left,
                  (int)v->tid, by, ns_names[kind], (unsigned long)v->cur);
    else
        guard_fmt(f.summary, sizeof f.summary,
                  "%s() on thread T%d runs in %s:[%lu], which T%d left with %s() for %s:[%lu] "
                  "and had made no call in yet: the job's next step ran on a thread left behind",
                  call, (int)f.tid, ns_names[kind], (unsigned long)v->left, (int)v->tid, by,
                  ns_names[kind], (unsigned long)v->cur);
    f.stacks[0] = (struct guard_finding_stack_ref){GUARD_ROLE_UNSHARE, v->stack, v->tid};
    f.stacks[1] = (struct guard_finding_stack_ref){role, stack, (uint32_t)f.tid};
    f.nstacks = 2;
    guard_report_finding(&f);
}

/* A namespace-sensitive call that began at `now`, inside the shim: a step
 * of the calling thread's own job for each kind (bit k of `kinds`) in which
 * it is in a namespace it moved into itself; `setup` says the call only
 * sets the namespace up (a propagation change), which is no step. */
static void own_steps(unsigned kinds, int setup, uint64_t now)
{
    if (!guard_lock_acquire(&ns_lock))
        return;
    uint32_t self = (uint32_t)guard_gettid();
    for (int k = 1; k < GUARD_NSK_COUNT_; k++)
        if (kinds & (1u << k))
            guard_ns_rule_own_step(&rule, self, k, setup, now);
    guard_lock_release(&ns_lock);
}

/* The start of a sensitive call's hook, before the real call: its time (0:
 * no move yet, nothing to judge) and its steps.  The tick comes before the
 * hook enters the shim: one relaxed atomic add, safe anywhere. */
static uint64_t ns_begin(unsigned kinds, int setup)
{
    if (!atomic_load_explicit(&any_change, memory_order_relaxed))
        return 0;
    uint64_t now = ns_tick();
    struct guard_hook h;
    if (guard_hook_begin(&h)) {
        own_steps(kinds, setup, now);
        guard_hook_end(&h);
    }
    return now;
}

/* The judgement of a namespace-sensitive call that began at `began`: for
 * each kind it depends on in which its thread is not in a namespace of its
 * own, was it left behind by another thread's pending move?  `stack` is
 * the call's (0: taken if needed); the judgement for the mount namespace
 * goes to *mnt for the timeline. */
static void sensitive_call(unsigned kinds, const char *call, unsigned role, int setup,
                           uint64_t began, uint32_t stack, struct left_behind *mnt)
{
    if (!began)
        return;
    uint32_t self = (uint32_t)guard_gettid();
    unsigned check = 0;
    if (!guard_lock_acquire(&ns_lock))
        return;
    for (int k = 1; k < GUARD_NSK_COUNT_; k++)
        if ((kinds & (1u << k)) && !guard_ns_rule_own_step(&rule, self, k, setup, began) &&
            rule.open[k])
            check |= 1u << k;
    int peers = 0;
    for (int k = 1; check && k < GUARD_NSK_COUNT_; k++)
        peers |= (check & (1u << k)) && guard_ns_rule_peers_matter(&rule, self, k);
    guard_lock_release(&ns_lock);
    uint64_t origin = 0;
    if (peers) {
        if (!stack)
            stack = guard_stack_capture(2);
        origin = stack_origin(stack);
    }
    for (int k = 1; check && k < GUARD_NSK_COUNT_; k++) {
        if (!(check & (1u << k)))
            continue;
        uint64_t mine = thread_ns_ino(k); /* outside the lock: a system call */
        struct left_behind v = {0};
        if (!guard_lock_acquire(&ns_lock))
            return;
        const struct guard_ns_thread *t =
            guard_ns_rule_left_behind(&rule, self, k, mine, began, origin);
        if (t)
            v = (struct left_behind){t->tid, t->k[k].stack, t->k[k].call, t->k[k].left,
                                     t->k[k].cur,
                                     origin && t->k[k].origin == origin &&
                                         t->k[k].call == GUARD_NS_UNSHARE};
        guard_lock_release(&ns_lock);
        if (!v.tid)
            continue;
        if (!stack)
            stack = guard_stack_capture(2);
        if (k == GUARD_NSK_MNT && mnt)
            *mnt = v;
        report_left_behind(k, &v, call, role, stack);
    }
}

#define ALL_KINDS 0x1feu
#define KIND(k) (1u << (k))
#define NS_TARGET_MAX 512 /* bytes of a call's target path the timeline keeps */

/* Called by fork/exec.c, fork/hooks.c and fork/vfork.c, inside the shim,
 * before the real call: the child or the new program takes every kind. */
GUARD_FORK_PATH void guard_ns_before_spawn_or_exec(const char *call)
{
    if (!atomic_load_explicit(&any_change, memory_order_relaxed))
        return;
    uint64_t now = ns_tick();
    own_steps(ALL_KINDS, 0, now);
    sensitive_call(ALL_KINDS, call, GUARD_ROLE_CALL, 0, now, 0, NULL);
}

/* ---- hooks: changes ----------------------------------------------------- */

/* unshare and setns: the thread's namespaces before, the move after.
 * flags (CLONE_NEW* or setns's nstype) is what the timeline shows. */
static int ns_change(unsigned call_id, int fd, int flags)
{
    struct guard_hook h;
    uint64_t before[8];
    int entered = guard_hook_begin(&h);
    if (entered) {
        guard_stack_prepare();
        read_all(before);
        guard_hook_end(&h);
    }
    int rc = call_id == GUARD_NS_UNSHARE ? GUARD_REAL(unshare)(flags)
                                         : GUARD_REAL(setns)(fd, flags);
    if (entered && guard_hook_begin(&h)) {
        record_change(call_id, flags, rc, rc ? h.saved_errno : 0, before);
        guard_hook_end(&h);
    }
    return rc;
}

GUARD_EXPORT int unshare(int flags)
{
    return ns_change(GUARD_NS_UNSHARE, -1, flags);
}

GUARD_EXPORT int setns(int fd, int nstype)
{
    return ns_change(GUARD_NS_SETNS, fd, nstype);
}

/* clone() with CLONE_NEW* flags (fork/hooks.c calls this in the parent): the
 * caller's namespaces do not change, the child starts in new ones.  The
 * timeline records it so that the child's namespaces can be told apart. */
void guard_ns_clone(int flags, long pid, int err)
{
    const int new_ns = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID |
                       CLONE_NEWUSER | CLONE_NEWCGROUP | 0x00000080 /* CLONE_NEWTIME */;
    if (!(flags & new_ns))
        return;
    struct guard_ns_change_payload p;
    read_all(p.before);
    memcpy(p.after, p.before, sizeof p.after);
    guard_log_event(GUARD_EV_NS_CHANGE, guard_stack_capture(2), GUARD_NS_CLONE,
                    (uint64_t)(unsigned)flags, (uint64_t)pid, (uint64_t)(pid < 0 ? err : 0),
                    (const char *)&p, sizeof p);
}

/* ---- hooks: namespace-sensitive calls ------------------------------------ */

/* After a namespace-sensitive call that began at `began` and returned rc:
 * the check, and (but for socket and sethostname) the call in the
 * timeline, with its flags and the check's verdict after its target (a
 * struct guard_ns_call_tail). */
static void ns_call(unsigned call_id, const char *call, unsigned kinds, unsigned role,
                    const char *target, unsigned long mount_flags, int rc, uint64_t began)
{
    struct guard_hook h;
    if (!guard_hook_begin(&h))
        return;
    int err = rc ? h.saved_errno : 0;
    if (err == EFAULT)
        target = NULL; /* a pointer the kernel rejected: never read */
    int logged = call_id != GUARD_NS_SOCKET && call_id != GUARD_NS_SETHOSTNAME;
    uint32_t stack = 0;
    if (call_id != GUARD_NS_SOCKET) /* socket() is async-signal-safe: not a safe point */
        guard_stack_prepare();
    if (logged)
        stack = guard_stack_capture(2);
    int setup = call_id == GUARD_NS_MOUNT && guard_ns_rule_propagation_only(mount_flags);
    struct left_behind v = {0};
    sensitive_call(kinds, call, role, setup, began, stack, &v);
    if (logged) {
        char payload[NS_TARGET_MAX + 1 + sizeof(struct guard_ns_call_tail)];
        size_t len = 0;
        if (target) {
            struct guard_ns_call_tail tail = {call_id == GUARD_NS_MOUNT ? mount_flags : 0, v.cur,
                                              v.tid, v.call};
            len = strnlen(target, NS_TARGET_MAX);
            memcpy(payload, target, len);
            payload[len++] = '\0';
            memcpy(payload + len, &tail, sizeof tail);
            len += sizeof tail;
        }
        guard_log_event(GUARD_EV_NS_CALL, stack, call_id, (uint64_t)rc, (uint64_t)err,
                        thread_ns_ino(GUARD_NSK_MNT), len ? payload : NULL, len);
    }
    guard_hook_end(&h);
}

static int ns_mount(const char *src, const char *target, const char *type, unsigned long flags,
                    const void *data)
{
    uint64_t began = ns_begin(KIND(GUARD_NSK_MNT), guard_ns_rule_propagation_only(flags));
    int rc = GUARD_REAL(mount)(src, target, type, flags, data);
    ns_call(GUARD_NS_MOUNT, "mount", KIND(GUARD_NSK_MNT), GUARD_ROLE_MOUNT, target, flags, rc,
            began);
    return rc;
}

static int ns_umount2(const char *target, int flags)
{
    uint64_t began = ns_begin(KIND(GUARD_NSK_MNT), 0);
    int rc = GUARD_REAL(umount2)(target, flags);
    ns_call(GUARD_NS_UMOUNT, "umount2", KIND(GUARD_NSK_MNT), GUARD_ROLE_MOUNT, target, 0, rc, began);
    return rc;
}

GUARD_EXPORT int mount(const char *src, const char *target, const char *type, unsigned long flags,
                       const void *data)
{
    return ns_mount(src, target, type, flags, data);
}

GUARD_EXPORT int umount(const char *target)
{
    uint64_t began = ns_begin(KIND(GUARD_NSK_MNT), 0);
    int rc = GUARD_REAL(umount)(target);
    ns_call(GUARD_NS_UMOUNT, "umount", KIND(GUARD_NSK_MNT), GUARD_ROLE_MOUNT, target, 0, rc, began);
    return rc;
}

GUARD_EXPORT int umount2(const char *target, int flags)
{
    return ns_umount2(target, flags);
}

GUARD_EXPORT int chroot(const char *path)
{
    uint64_t began = ns_begin(KIND(GUARD_NSK_MNT), 0);
    int rc = GUARD_REAL(chroot)(path);
    ns_call(GUARD_NS_CHROOT, "chroot", KIND(GUARD_NSK_MNT), GUARD_ROLE_MOUNT, path, 0, rc, began);
    return rc;
}

GUARD_EXPORT int socket(int domain, int type, int protocol)
{
    uint64_t began = ns_begin(KIND(GUARD_NSK_NET), 0);
    int rc = GUARD_REAL(socket)(domain, type, protocol);
    if (began)
        ns_call(GUARD_NS_SOCKET, "socket", KIND(GUARD_NSK_NET), GUARD_ROLE_CALL, NULL, 0, 0, began);
    return rc;
}

GUARD_EXPORT int sethostname(const char *name, size_t len)
{
    uint64_t began = ns_begin(KIND(GUARD_NSK_UTS), 0);
    int rc = GUARD_REAL(sethostname)(name, len);
    ns_call(GUARD_NS_SETHOSTNAME, "sethostname", KIND(GUARD_NSK_UTS), GUARD_ROLE_CALL, NULL, 0, 0,
            began);
    return rc;
}

/* glibc has no pivot_root wrapper: programs use syscall().  Only the
 * namespace system calls are looked at; everything else passes through
 * with its six argument registers untouched. */
GUARD_EXPORT long syscall(long number, ...)
{
    va_list ap;
    va_start(ap, number);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);
    switch (number) {
    case SYS_wait4:
    case SYS_waitid:
    case SYS_kill:
    case SYS_pidfd_send_signal:
        return guard_fork_syscall_wait(number, a1, a2, a3, a4, a5);
    case SYS_read:
    case SYS_write:
        if (guard_unwinder_fd(a1))
            return guard_unwinder_fd_io(a1, (uintptr_t)a2);
        return GUARD_REAL(syscall)(number, a1, a2, a3, a4, a5, a6);
    case SYS_pivot_root: {
        uint64_t began = ns_begin(KIND(GUARD_NSK_MNT), 0);
        long rc = GUARD_REAL(syscall)(number, a1, a2, a3, a4, a5, a6);
        ns_call(GUARD_NS_PIVOT_ROOT, "pivot_root", KIND(GUARD_NSK_MNT), GUARD_ROLE_MOUNT,
                (const char *)a1, 0, (int)rc, began);
        return rc;
    }
    case SYS_unshare:
        return ns_change(GUARD_NS_UNSHARE, -1, (int)a1);
    case SYS_setns:
        return ns_change(GUARD_NS_SETNS, (int)a1, (int)a2);
    case SYS_mount:
        return ns_mount((const char *)a1, (const char *)a2, (const char *)a3, (unsigned long)a4,
                        (const void *)a5);
    case SYS_umount2:
        return ns_umount2((const char *)a1, (int)a2);
    default:
        return GUARD_REAL(syscall)(number, a1, a2, a3, a4, a5, a6);
    }
}

/* ---- /proc/.../ns/ paths ------------------------------------------------- */

static int ns_kind_of(const char *name)
{
    for (int k = 1; k < GUARD_NSK_COUNT_; k++) {
        size_t n = strlen(ns_names[k]);
        if (!strncmp(name, ns_names[k], n) && (name[n] == '\0' || name[n] == '/'))
            return k;
    }
    if (!strncmp(name, "pid_for_children", 16))
        return GUARD_NSK_PID;
    if (!strncmp(name, "time_for_children", 17))
        return GUARD_NSK_TIME;
    return 0;
}

static long parse_pid(const char **p)
{
    long v = 0;
    if (**p < '0' || **p > '9')
        return -1;
    while (**p >= '0' && **p <= '9')
        v = v * 10 + (*(*p)++ - '0');
    return v;
}

static void proc_ns_mismatch(const char *call, const char *path, int kind, const char *why)
{
    struct guard_finding f;
    guard_finding_init(&f, GUARD_FK_PROC_SELF_NS_MISMATCH, guard_gettid());
    f.call = call;
    guard_fmt(f.summary, sizeof f.summary, "%s(\"%s\") on thread T%d: %s", call, path, (int)f.tid, why);
    (void)kind;
    uint32_t stack = guard_stack_capture(3);
    f.stacks[0] = (struct guard_finding_stack_ref){GUARD_ROLE_CALL, stack, (uint32_t)f.tid};
    f.nstacks = stack ? 1 : 0;
    guard_report_finding(&f);
}

/* The slow part of the /proc path check: only paths that start with
 * "/proc/" in a process that has changed a namespace get here. */
static void check_proc_ns_path(const char *call, const char *path)
{
    const char *p = path + 6;
    long pid = -1, tid = -1;
    if (!strncmp(p, "self/", 5)) {
        pid = guard_pid;
        p += 5;
    } else if (!strncmp(p, "thread-self/", 12)) {
        return; /* the right way */
    } else if ((pid = parse_pid(&p)) < 0 || *p++ != '/') {
        return;
    }
    if (!strncmp(p, "task/", 5)) {
        p += 5;
        if ((tid = parse_pid(&p)) < 0 || *p++ != '/')
            return;
    }
    if (strncmp(p, "ns/", 3))
        return;
    int kind = ns_kind_of(p + 3);
    if (!kind)
        return;
    char why[160];
    if (pid != guard_pid && tid < 0) {
        /* /proc/<n>/ns: is n a thread of ours that is gone? */
        char task[64];
        struct stat st;
        guard_fmt(task, sizeof task, "/proc/%d/task/%ld", (int)guard_pid, pid);
        int known = 0;
        if (guard_lock_acquire(&ns_lock)) {
            known = guard_ns_rule_find(&rule, (uint32_t)pid) != NULL;
            guard_lock_release(&ns_lock);
        }
        if (known && stat(task, &st) != 0) {
            guard_fmt(why, sizeof why, "%ld was a thread of this process (it changed a namespace) "
                      "and has exited: the path no longer exists", pid);
            proc_ns_mismatch(call, path, kind, why);
        }
        return;
    }
    if (pid != guard_pid || (tid >= 0 && tid != guard_pid))
        return;
    uint64_t mine = thread_ns_ino(kind), mains = main_thread_ns_ino(kind);
    if (mine && mains && mine != mains) {
        guard_fmt(why, sizeof why, "this thread is in %s:[%lu] but the path names the main "
                  "thread's %s:[%lu]; use /proc/thread-self/ns/%s", ns_names[kind],
                  (unsigned long)mine, ns_names[kind], (unsigned long)mains, ns_names[kind]);
        proc_ns_mismatch(call, path, kind, why);
    }
}

/* The path is looked at after the call, and only when the kernel could
 * read it (the call did not fail with EFAULT): a pointer the kernel
 * rejects is never read by the shim.  Nothing is looked at before the
 * process's first namespace change. */
static inline int maybe_proc_path(const char *path, long rc)
{
    return __builtin_expect(atomic_load_explicit(&any_change, memory_order_relaxed), 0) &&
           path && !(rc < 0 && errno == EFAULT) && path[0] == '/' && path[1] == 'p' &&
           !memcmp(path, "/proc/", 6);
}

static void proc_path_hook(const char *call, const char *path)
{
    struct guard_hook h;
    if (guard_hook_begin(&h)) {
        check_proc_ns_path(call, path);
        guard_hook_end(&h);
    }
}

/* The call, then the check of its path. */
#define PROC_PATH_CALL(call, path, expr)                         \
    ({                                                           \
        __typeof__(expr) rc_ = (expr);                           \
        if (__builtin_expect(maybe_proc_path(path, rc_), 0))     \
            proc_path_hook(call, path);                          \
        rc_;                                                     \
    })

#define OPEN_MODE(flags, ap, mode)                            \
    mode_t mode = 0;                                          \
    if ((flags) & (O_CREAT | __O_TMPFILE)) {                  \
        va_start(ap, flags);                                  \
        mode = (mode_t)va_arg(ap, int);                       \
        va_end(ap);                                           \
    }

GUARD_EXPORT int open(const char *path, int flags, ...)
{
    va_list ap;
    OPEN_MODE(flags, ap, mode);
    return PROC_PATH_CALL("open", path, GUARD_REAL(open)(path, flags, mode));
}

GUARD_EXPORT int open64(const char *path, int flags, ...)
{
    va_list ap;
    OPEN_MODE(flags, ap, mode);
    return PROC_PATH_CALL("open", path, GUARD_REAL(open64)(path, flags, mode));
}

GUARD_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    OPEN_MODE(flags, ap, mode);
    return PROC_PATH_CALL("openat", path, GUARD_REAL(openat)(dirfd, path, flags, mode));
}

GUARD_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    OPEN_MODE(flags, ap, mode);
    return PROC_PATH_CALL("openat", path, GUARD_REAL(openat64)(dirfd, path, flags, mode));
}

/* _FORTIFY_SOURCE builds call these instead of open/openat. */
GUARD_EXPORT int __open_2(const char *path, int flags)
{
    return PROC_PATH_CALL("open", path, GUARD_REAL(__open_2)(path, flags));
}

GUARD_EXPORT int __open64_2(const char *path, int flags)
{
    return PROC_PATH_CALL("open", path, GUARD_REAL(__open64_2)(path, flags));
}

GUARD_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    return PROC_PATH_CALL("openat", path, GUARD_REAL(__openat_2)(dirfd, path, flags));
}

GUARD_EXPORT ssize_t readlink(const char *restrict path, char *restrict buf, size_t len)
{
    return PROC_PATH_CALL("readlink", path, GUARD_REAL(readlink)(path, buf, len));
}

GUARD_EXPORT ssize_t readlinkat(int dirfd, const char *restrict path, char *restrict buf, size_t len)
{
    return PROC_PATH_CALL("readlinkat", path, GUARD_REAL(readlinkat)(dirfd, path, buf, len));
}

GUARD_FORK_PATH void guard_ns_after_fork_child(void)
{
    /* only what differs: see guard_pool_after_fork_child */
    guard_lock_reset_in_child(&ns_lock);
    /* the child is one thread, in this thread's namespaces: it starts with
     * no moves (the table is cleared at its own first move) */
    if (atomic_load_explicit(&any_change, memory_order_relaxed))
        atomic_store(&any_change, 0);
}
