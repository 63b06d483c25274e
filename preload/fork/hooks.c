/*
 * fork/hooks.c — the hooks that start and reap child processes: fork, vfork,
 * posix_spawn(p), system, popen/pclose, clone, kill, and the wait family.
 * The bookkeeping is children.c's; here are the entry points, each transparent
 * (same return value, same errno), and the handoff a fork leaves its child.
 * vfork is fork/vfork.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fork_internal.h"
#include "hook.h"

/* Where the program called fork, read by the child at its exec (TLS is
 * copied).  Written only where it changed: see note_fork_site. */
__thread struct guard_fork_site guard_fork_tls_site;
__thread int guard_fork_tls_nested;
__thread int guard_fork_tls_nested_depth;

/*
 * The handoff: what a fork child takes from the fork that made it (its
 * board key, the parent's thread count, when fork was called), read by
 * the atfork handler in the child, which runs inside the real fork, so
 * inside fork_common.
 *
 * Plain path: it is a thread-local (tls_handoff).  Fast path, on the main
 * thread's stack: it is a local of fork_common, and only a pointer to it
 * is in TLS, stored when it moves (a program forks from a few places, at
 * the same depth each time): a fork makes the TLS page copy-on-write, and
 * a store there at every fork would be one page fault and copy per spawn
 * in the parent, where fork_common's frame is a page the parent writes
 * after the fork anyway.  A fork on any other stack (other threads,
 * coroutines, signal stacks) and clone() use the thread-local.
 *
 * Invariant: the pointer is only ever set to a frame on the main thread's
 * stack (guard_fork_on_main_stack), which never shrinks, so reading it
 * cannot fault even long after the frame is gone; `live` says whether the
 * frame is still fork_common's, in the middle of its fork.
 */
#define HANDOFF_LIVE 0x6b726f66u /* "fork" */
static __thread struct guard_fork_handoff *tls_stack_handoff;
static __thread struct guard_fork_handoff tls_handoff;
/* Forks of this thread in progress off the main stack (clone's too). */
static __thread int forks_off_main_stack;

/* Is this thread in the middle of a fork (a signal handler forks while
 * fork_common or clone runs)?  On the main stack a live handoff below our
 * own frame is a frame that is gone (a longjmp left it): not a fork in
 * progress. */
static int fork_in_progress(void)
{
    if (forks_off_main_stack > 0)
        return 1;
    const struct guard_fork_handoff *h = tls_stack_handoff;
    if (!h || h->live != HANDOFF_LIVE)
        return 0;
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    return !guard_fork_on_main_stack(here, here) || (uintptr_t)h > here;
}

GUARD_FORK_PATH const struct guard_fork_handoff *guard_fork_handoff_take(void)
{
    if (guard_fork_tls_nested)
        return NULL; /* a signal handler's fork inside another: see nested_fork */
    if (tls_handoff.live == HANDOFF_LIVE)
        return &tls_handoff;
    const struct guard_fork_handoff *h = tls_stack_handoff;
    return h && h->live == HANDOFF_LIVE ? h : NULL;
}

static void stamp_fork(struct guard_fork_handoff *h)
{
    h->stamp.pid = guard_pid;
    h->stamp.realtime_ns = guard_now_ns_on(CLOCK_REALTIME);
    h->stamp.monotonic_ns = guard_now_ns();
}

/* Stores value at *at unless it is there already (see the handoff above:
 * the fork site is the same at every fork from one place). */
#define STORE_IF_CHANGED(at, value)       \
    do {                                  \
        __typeof__(at) v_ = (value);      \
        if ((at) != v_)                   \
            (at) = v_;                    \
    } while (0)

/* Remember the fork's frames for the child's exec (fork/board.c): its
 * frame 1 (the forking function's caller) and where the return addresses
 * of the frames above it are.  pcs/sps are the fork's frames and their
 * stack pointers (n of them; sps[i] == 0: interrupted by a signal). */
static void note_fork_site(uint32_t stack, const uint64_t *pcs, const uint64_t *sps, unsigned n)
{
    struct guard_fork_site *site = &guard_fork_tls_site;
    /* Frame i's return address (pcs[i] + 1) was pushed just below frame
     * i's stack pointer at its call: the very word the unwinder read to
     * find frame i, so reading it cannot fault.  Not so for a frame a
     * signal interrupted (its pc comes from the signal frame, and its
     * stack pointer, 0 in sps, may be at a guard page): such a site is not
     * used.  Frames 2 on are checked (frame 1 is where the exec's own
     * frames join). */
    int usable = stack && n >= 2 && n - 2 <= GUARD_FORK_SLOTS && sps[1] &&
                 guard_fork_frames_in_place(pcs + 1, sps + 1, n - 1);
    if (!usable) {
        STORE_IF_CHANGED(site->stack, 0);
        return;
    }
    int same = site->stack == stack && site->nslots == n - 2 && site->join_sp == (uintptr_t)sps[1] &&
               site->join_pc == (uintptr_t)pcs[1] && site->owner == guard_pid;
    for (unsigned i = 2; same && i < n; i++)
        same = site->slot_addr[i - 2] == (uintptr_t)sps[i] - 8 && site->slot_value[i - 2] == pcs[i] + 1;
    if (same)
        return;
    site->stack = 0; /* never whole while half written */
    for (unsigned i = 2; i < n; i++) {
        site->slot_addr[i - 2] = (uintptr_t)sps[i] - 8;
        site->slot_value[i - 2] = pcs[i] + 1;
    }
    site->nslots = n - 2;
    site->join_sp = (uintptr_t)sps[1];
    site->join_pc = (uintptr_t)pcs[1];
    site->owner = guard_pid;
    site->stack = stack;
}

/* For clone(): signals whose handler might fork are held from the board
 * key's choice to the clone, so that the child finds its own key in TLS
 * (fork_common handles a nested fork instead: see nested_fork); the
 * synchronous ones (a fault in this very code) cannot be held. */
static void block_async_signals(sigset_t *old)
{
    sigset_t set;
    sigfillset(&set);
    static const int sync_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS};
    for (unsigned i = 0; i < sizeof sync_signals / sizeof sync_signals[0]; i++)
        sigdelset(&set, sync_signals[i]);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

/* The fork's stack, and (fast path) its site for the child's exec.  Not
 * inlined: the frame arrays stay out of fork_common's frame, which the
 * child returns through (each stack page it writes is a page copied for
 * it); the array is max_frames long, not the longest it may be (every
 * stack page the parent writes between two forks is a page fault). */
static __attribute__((noinline)) uint32_t take_fork_stack(uint64_t ra, uint64_t cfa)
{
    if (!guard_fork_fast()) {
        STORE_IF_CHANGED(guard_fork_tls_site.stack, 0); /* the child's exec walks whole */
        return guard_fork_walk_capture();
    }
    unsigned max = guard_opt.max_frames >= 1 && guard_opt.max_frames <= GUARD_MAX_FRAMES
                       ? guard_opt.max_frames : GUARD_MAX_FRAMES;
    uint64_t pcs[max], sps[GUARD_FORK_SLOTS + 2];
    uint32_t stack;
    unsigned n = guard_fork_site_stack(ra, cfa, pcs, max, sps, GUARD_FORK_SLOTS + 2, &stack);
    note_fork_site(stack, pcs, sps, n);
    return stack;
}

/* The fork state (the handoff, the fork site) is for the child of the
 * fork that set it.  A fork that a signal handler makes in the middle of
 * another (or that comes in while this thread is inside the shim, and so
 * goes straight to the real fork) must neither overwrite it nor let its
 * child take it for its own: such a fork sets guard_fork_tls_nested around
 * the real call, and its child ignores the state (it gets no board slot
 * and writes its exec in a log of its own, and its log's start is the
 * time of its first record).  Unlike holding signals around every fork,
 * this costs nothing on the usual path.  The child also gets back the
 * depth the thread was at in the shim (its own is in memory a fork child
 * finds zeroed: see guard_hot). */
GUARD_FORK_PATH static pid_t nested_fork(void)
{
    int was = guard_fork_tls_nested, was_depth = guard_fork_tls_nested_depth;
    guard_fork_tls_nested_depth = guard_hot()->depth;
    guard_fork_tls_nested = 1;
    pid_t pid = GUARD_REAL(fork)();
    int saved = errno;
    guard_fork_tls_nested = was; /* in the parent and in the child */
    guard_fork_tls_nested_depth = was_depth;
    errno = saved;
    return pid;
}

static void handoff_set_live(struct guard_fork_handoff *h, uint32_t live)
{
    atomic_signal_fence(memory_order_seq_cst); /* a signal handler's fork reads it */
    *(volatile uint32_t *)&h->live = live;
    atomic_signal_fence(memory_order_seq_cst);
}

/* ra and cfa: where the program called fork (see fork/site.c) */
GUARD_FORK_PATH static pid_t fork_common(unsigned kind, uint64_t ra, uint64_t cfa)
{
    struct guard_hook h;
    if (!guard_hook_begin_counted(&h))
        return nested_fork();
    struct guard_fork_handoff on_stack; /* see the handoff above */
    struct guard_fork_handoff *handoff = NULL;
    int nested = fork_in_progress();
    int threads = guard_threads_count();
    if (!nested) {
        if (guard_fork_fast())
            guard_fork_depth_moves();
        if (guard_fork_fast() &&
            guard_fork_on_main_stack((uintptr_t)&on_stack, (uintptr_t)(&on_stack + 1))) {
            handoff = &on_stack;
            handoff->live = 0;
            STORE_IF_CHANGED(tls_stack_handoff, handoff);
        } else {
            handoff = &tls_handoff;
            forks_off_main_stack++;
        }
        handoff_set_live(handoff, HANDOFF_LIVE);
    }
    guard_fork_exec_prepare(); /* what the child's exec needs: looked up here, not in each child */
    uint32_t stack = nested ? guard_fork_walk_capture() : take_fork_stack(ra, cfa);
    guard_ns_before_spawn_or_exec(kind == GUARD_SPAWN_VFORK ? "vfork" : "fork");
    uint32_t board_key = 0;
    if (!nested) {
        handoff->threads = threads;
        board_key = guard_fork_board_before_fork();
        handoff->board_key = board_key;
        stamp_fork(handoff);
    }
    guard_hook_end(&h);
    pid_t pid = nested ? nested_fork() : GUARD_REAL(fork)(); /* the child: see child.c */
    if (!nested) { /* a later fork not through here takes nothing */
        if (handoff == &tls_handoff) {
            handoff_set_live(handoff, 0);
            forks_off_main_stack--;
        } else if (pid != 0) {
            handoff_set_live(handoff, 0);
        } else {
            /* the child forgets the frame instead: its TLS page is one it
             * has written already (after_fork_child), this frame's maybe not */
            tls_stack_handoff = NULL;
        }
    }
    if (pid != 0 && guard_hook_begin(&h)) {
        guard_children_started(kind, pid > 0 ? pid : -1, stack, threads, NULL, NULL, NULL,
                               pid > 0 ? board_key : 0);
        guard_hook_end(&h);
    }
    return pid;
}

GUARD_EXPORT pid_t fork(void)
{
    return fork_common(GUARD_SPAWN_FORK, (uint64_t)__builtin_return_address(0),
                       (uint64_t)__builtin_dwarf_cfa());
}

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[], char *const[]);

/* *pid is written only when the spawn succeeded, as libc does. */
static int spawn_common(spawn_fn real, unsigned kind, pid_t *pid, const char *path,
                        const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                        char *const argv[], char *const envp[])
{
    struct guard_hook h;
    if (!guard_hook_begin_counted(&h))
        return real(pid, path, fa, attr, argv, envp);
    uint32_t stack = guard_fork_walk_capture();
    int threads = guard_threads_count();
    guard_ns_before_spawn_or_exec(kind == GUARD_SPAWN_POSIX_SPAWNP ? "posix_spawnp" : "posix_spawn");
    char *const *env = guard_fork_env_with_shim(envp);
    guard_hook_end(&h);
    pid_t local_pid = 0;
    int rc = real(&local_pid, path, fa, attr, argv, env ? env : envp);
    if (pid && rc == 0)
        *pid = local_pid;
    if (guard_hook_begin(&h)) {
        guard_children_started(kind, rc == 0 ? local_pid : -1, stack, threads, path, argv, NULL, 0);
        guard_hook_end(&h);
    }
    return rc;
}

GUARD_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                             const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    return spawn_common(GUARD_REAL(posix_spawn), GUARD_SPAWN_POSIX_SPAWN, pid, path, fa, attr, argv,
                        envp);
}

GUARD_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                              const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    return spawn_common(GUARD_REAL(posix_spawnp), GUARD_SPAWN_POSIX_SPAWNP, pid, file, fa, attr,
                        argv, envp);
}

/* system() starts and reaps its child inside libc: record both ends, and
 * the child is in the table meanwhile (for put-while-child-running on
 * other threads), named by a token of this thread's. */
static __thread char system_token;

GUARD_EXPORT int system(const char *command)
{
    struct guard_hook h;
    if (guard_hook_begin_counted(&h)) {
        guard_children_fork_unsafe_call("system");
        guard_ns_before_spawn_or_exec("system");
        uint32_t stack = guard_fork_walk_capture();
        int threads = guard_threads_count();
        char *const argv[] = {"sh", "-c", (char *)command, NULL};
        guard_children_log_spawn(GUARD_SPAWN_SYSTEM, 0, stack, command ? 0 : GUARD_SPAWN_FAILED,
                                 threads, "/bin/sh", argv);
        if (command)
            guard_children_system_started(command, stack, &system_token);
        guard_hook_end(&h);
    }
    int rc = GUARD_REAL(system)(command);
    if (command && guard_hook_begin(&h)) {
        if (rc != -1)
            guard_children_reaped(0, rc, GUARD_REAP_SYSTEM, 1, &system_token);
        else
            guard_children_system_failed(&system_token);
        guard_hook_end(&h);
    }
    return rc;
}

GUARD_EXPORT FILE *popen(const char *command, const char *mode)
{
    struct guard_hook h;
    if (!guard_hook_begin_counted(&h))
        return GUARD_REAL(popen)(command, mode);
    guard_children_fork_unsafe_call("popen");
    guard_ns_before_spawn_or_exec("popen");
    uint32_t stack = guard_fork_walk_capture();
    int threads = guard_threads_count();
    guard_hook_end(&h);
    FILE *stream = GUARD_REAL(popen)(command, mode);
    if (guard_hook_begin(&h)) {
        char *const argv[] = {"sh", "-c", (char *)command, NULL};
        guard_children_started(GUARD_SPAWN_POPEN, stream ? 0 : -1, stack, threads, command, argv,
                               stream, 0);
        guard_hook_end(&h);
    }
    return stream;
}

GUARD_EXPORT int pclose(FILE *stream)
{
    int rc = GUARD_REAL(pclose)(stream);
    struct guard_hook h;
    if (rc != -1 && guard_hook_begin_counted(&h)) {
        guard_children_reaped(0, rc, GUARD_REAP_PCLOSE, 1, stream);
        guard_hook_end(&h);
    }
    return rc;
}

/* A process made by clone() without CLONE_VM starts with a copy of our
 * state, as a fork child does, but no atfork handler runs in it: it would
 * write into its parent's log.  So fn runs through a trampoline that does
 * the fork child's set-up first.  The start record lives in the hook's
 * frame: the child has a copy of the parent's stack at the same address. */
struct clone_start {
    int (*fn)(void *);
    void *arg;
};

static int clone_trampoline(void *p)
{
    struct clone_start start = *(const struct clone_start *)p;
    guard_fork_child_setup();
    /* This child never returns through its parent's fork_common frames or
     * clone's: none of its forks is in progress, whatever the parent's
     * were. */
    forks_off_main_stack = 0;
    tls_handoff.live = 0;
    tls_stack_handoff = NULL;
    guard_fork_tls_nested = 0;
    return start.fn(start.arg);
}

/* A clone(CLONE_VM | CLONE_VFORK) child runs on its parent's memory and
 * on the calling thread's TLS (that thread waits): like a vfork child, it
 * changes nothing of the shim's (guard_fork_vm_child_enter). */
static int vm_clone_trampoline(void *p)
{
    struct clone_start start = *(struct clone_start *)p;
    guard_fork_vm_child_enter();
    return start.fn(start.arg);
}

/* clone() through libc: a new process unless CLONE_THREAD. */
GUARD_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    pid_t *ptid = va_arg(ap, pid_t *);
    void *tls = va_arg(ap, void *);
    pid_t *ctid = va_arg(ap, pid_t *);
    va_end(ap);
    int process = !(flags & CLONE_THREAD);
    uint32_t spawn_stack = 0, board_key = 0;
    int threads = 0;
    /* A copy of our memory and our TLS (no CLONE_SETTLS: our TLS offsets
     * in someone else's block would be wild stores) gets the set-up. */
    int copy = process && !(flags & (CLONE_VM | CLONE_SETTLS));
    int vm_vfork = process && (flags & (CLONE_VM | CLONE_VFORK | CLONE_SETTLS)) == (CLONE_VM | CLONE_VFORK);
    struct clone_start start = {fn, arg};
    sigset_t mask;
    int nested = 0;
    struct guard_hook h;
    int entered = process && guard_hook_begin_counted(&h);
    if (entered) {
        guard_ns_before_spawn_or_exec("clone");
        spawn_stack = guard_fork_walk_capture();
        threads = guard_threads_count();
        if (copy && !fork_in_progress()) {
            tls_handoff.threads = threads;
            guard_fork_tls_site.stack = 0; /* its exec's stack: walked whole */
            block_async_signals(&mask);
            forks_off_main_stack++;
            board_key = guard_fork_board_before_fork();
            tls_handoff.board_key = board_key;
            stamp_fork(&tls_handoff);
            handoff_set_live(&tls_handoff, HANDOFF_LIVE);
        } else if (copy) {
            nested = 1; /* a signal handler's clone inside a fork: see nested_fork */
        }
        guard_hook_end(&h);
    }
    int was_nested = guard_fork_tls_nested;
    if (nested)
        guard_fork_tls_nested = 1;
    int pid = entered && copy ? GUARD_REAL(clone)(clone_trampoline, stack, flags, &start, ptid, tls, ctid)
              : vm_vfork      ? GUARD_REAL(clone)(vm_clone_trampoline, stack, flags, &start, ptid, tls, ctid)
                              : GUARD_REAL(clone)(fn, stack, flags, arg, ptid, tls, ctid);
    int err = errno;
    if (vm_vfork)
        guard_fork_vm_child_left();
    guard_fork_tls_nested = was_nested;
    if (entered && copy && !nested) {
        handoff_set_live(&tls_handoff, 0);
        forks_off_main_stack--;
        pthread_sigmask(SIG_SETMASK, &mask, NULL);
        guard_errno_restore(err);
    }
    if (entered && guard_hook_begin(&h)) { /* glibc's clone returns only in the parent */
        guard_children_started(GUARD_SPAWN_CLONE, pid > 0 ? pid : -1, spawn_stack, threads, NULL,
                               NULL, NULL, board_key);
        guard_ns_clone(flags, pid, err);
        guard_hook_end(&h);
    }
    return pid;
}

static void signalled(pid_t pid, int sig)
{
    struct guard_hook h;
    if (guard_hook_begin_counted(&h)) {
        guard_children_signalled(pid, sig);
        guard_hook_end(&h);
    }
}

/* The pid a pidfd refers to (its fdinfo's "Pid:" line), or -1. */
static pid_t pidfd_pid(int pidfd)
{
    char path[64], buf[512];
    guard_fmt(path, sizeof path, "/proc/self/fdinfo/%d", pidfd);
    int fd = guard_sys_open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    long n = guard_sys_read(fd, buf, sizeof buf - 1);
    guard_sys_close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *at = strstr(buf, "\nPid:");
    if (!at)
        return -1;
    long pid = strtol(at + 5, NULL, 10);
    return pid > 0 ? (pid_t)pid : -1;
}

GUARD_EXPORT int pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
    int rc = GUARD_REAL(pidfd_send_signal)(pidfd, sig, info, flags);
    if (rc == 0 && sig != 0) {
        int saved = errno;
        pid_t pid = pidfd_pid(pidfd);
        if (pid > 0)
            signalled(pid, sig);
        errno = saved;
    }
    return rc;
}

GUARD_EXPORT int kill(pid_t pid, int sig)
{
    int rc = GUARD_REAL(kill)(pid, sig);
    if (rc == 0 && pid > 0 && sig != 0)
        signalled(pid, sig);
    return rc;
}

/* ---- the wait family ---------------------------------------------------- */

/* ret: the wait call's; a failure with EFAULT may have reaped a child all
 * the same (see guard_children_reconcile). */
static void reaped(pid_t ret, int status, unsigned call, pid_t asked)
{
    struct guard_hook h;
    int efault = ret < 0 && errno == EFAULT;
    if (asked <= 0)
        guard_children_waited_for_any();
    if ((ret > 0 || efault) && guard_hook_begin_counted(&h)) {
        if (ret > 0)
            guard_children_reaped(ret, status, call, asked > 0, NULL);
        else
            guard_children_reconcile(call, asked);
        guard_hook_end(&h);
    }
}

/* A status pointer of our own when the caller gave none: the status is
 * what says how the child ended. */
GUARD_EXPORT pid_t wait(int *wstatus)
{
    int local = 0, *sp = wstatus ? wstatus : &local;
    pid_t ret = GUARD_REAL(wait)(sp);
    reaped(ret, ret > 0 ? *sp : 0, GUARD_REAP_WAIT, -1);
    return ret;
}

GUARD_EXPORT pid_t waitpid(pid_t pid, int *wstatus, int options)
{
    int local = 0, *sp = wstatus ? wstatus : &local;
    pid_t ret = GUARD_REAL(waitpid)(pid, sp, options);
    reaped(ret, ret > 0 ? *sp : 0, GUARD_REAP_WAITPID, pid);
    return ret;
}

GUARD_EXPORT pid_t wait3(int *wstatus, int options, struct rusage *ru)
{
    int local = 0, *sp = wstatus ? wstatus : &local;
    pid_t ret = GUARD_REAL(wait3)(sp, options, ru);
    reaped(ret, ret > 0 ? *sp : 0, GUARD_REAP_WAIT3, -1);
    return ret;
}

GUARD_EXPORT pid_t wait4(pid_t pid, int *wstatus, int options, struct rusage *ru)
{
    int local = 0, *sp = wstatus ? wstatus : &local;
    pid_t ret = GUARD_REAL(wait4)(pid, sp, options, ru);
    reaped(ret, ret > 0 ? *sp : 0, GUARD_REAP_WAIT4, pid);
    return ret;
}

/* The pid a waitid asked for: > 0 one child (P_PID, P_PIDFD: its pid is
 * known only from the answer, so 1 stands for "one"), else "any child". */
static pid_t asked_of(idtype_t idtype, id_t id)
{
    return idtype == P_PID ? (pid_t)id : idtype == P_PIDFD ? 1 : -1;
}

static int reap_status(const siginfo_t *info)
{
    return info->si_code == CLD_EXITED ? (info->si_status & 0xff) << 8
                                       : (info->si_status & 0x7f) | (info->si_code == CLD_DUMPED ? 0x80 : 0);
}

/* What a waitid (the libc function's or the system call's) returned. */
static void waitid_done(long rc, idtype_t idtype, id_t id, const siginfo_t *info, int options)
{
    pid_t asked = asked_of(idtype, id);
    if (rc == 0 && info && info->si_pid > 0 && !(options & WNOWAIT) &&
        (info->si_code == CLD_EXITED || info->si_code == CLD_KILLED || info->si_code == CLD_DUMPED))
        reaped(info->si_pid, reap_status(info), GUARD_REAP_WAITID, asked);
    else if (rc < 0 && errno == EFAULT && !(options & WNOWAIT))
        reaped(-1, 0, GUARD_REAP_WAITID, asked);
    else if (asked <= 0)
        guard_children_waited_for_any();
}

GUARD_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
    int rc = GUARD_REAL(waitid)(idtype, id, info, options);
    waitid_done(rc, idtype, id, info, options);
    return rc;
}

/* The same calls made with syscall(2) (ns.c's syscall hook sends them
 * here): what the kernel returns, with the same bookkeeping. */
long guard_fork_syscall_wait(long number, long a1, long a2, long a3, long a4, long a5)
{
    if (number == SYS_wait4) {
        int local = 0, *sp = a2 ? (int *)a2 : &local;
        long ret = GUARD_REAL(syscall)(number, a1, (long)sp, a3, a4, a5);
        reaped((pid_t)ret, ret > 0 ? *sp : 0, GUARD_REAP_WAIT4, (pid_t)a1);
        return ret;
    }
    if (number == SYS_waitid) { /* a siginfo of our own when the caller gave none: it names the child */
        siginfo_t local;
        memset(&local, 0, sizeof local);
        siginfo_t *info = a3 ? (siginfo_t *)a3 : &local;
        long rc = GUARD_REAL(syscall)(number, a1, a2, (long)info, a4, a5);
        waitid_done(rc, (idtype_t)a1, (id_t)a2, info, (int)a4);
        return rc;
    }
    long rc = GUARD_REAL(syscall)(number, a1, a2, a3, a4, a5); /* kill, pidfd_send_signal */
    if (rc == 0 && a2 != 0) {
        int saved = errno;
        pid_t pid = number == SYS_kill ? (pid_t)a1 : pidfd_pid((int)a1);
        if (pid > 0)
            signalled(pid, (int)a2);
        errno = saved;
    }
    return rc;
}
