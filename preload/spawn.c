/*
 * spawn.c — the hooks that start and reap child processes: fork, vfork,
 * posix_spawn(p), system, popen/pclose, clone, kill, and the wait family.
 * The bookkeeping is proc.c's; here are the entry points, each transparent
 * (same return value, same errno).
 *
 * vfork is run as fork: a vfork child borrows the parent's stack, so no
 * wrapper function can return into it safely.  A correct vfork program is
 * a correct fork program; it only gets a little slower.
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
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard_internal.h"
#include "hook.h"

/* Where the program called fork, read by the child at its exec (TLS is
 * copied).  Written only where it changed: see note_fork_site. */
__thread struct guard_fork_site guard_tls_fork_site;
__thread int guard_tls_fork_nested;
__thread int guard_tls_nested_depth;

/*
 * The handoff: what a fork child takes from the fork that made it (its
 * board key, the parent's thread count, when fork was called), read by
 * our atfork handler in the child, which runs inside the real fork, so
 * inside fork_common.
 *
 * It used to be thread-locals written at every fork.  But a fork makes
 * every private page of the parent copy-on-write, the thread's TLS page
 * with the rest, so a store there at each fork was one page fault and
 * copy per spawn in the parent (2-3 us, some 0.4 % of a fork+exec+wait;
 * bench/spawn_bench).  So on the main thread's stack the handoff is a
 * local of fork_common, and only a pointer to it is in TLS, stored when it
 * moves (a program forks from a few places, at the same depth each time):
 * the page of fork_common's frame is one the parent writes after the fork
 * anyway.  A fork on any other stack (other threads, coroutines, signal
 * stacks) and clone() use a thread-local handoff, as before.
 *
 * The pointer is only ever set to a frame on the main thread's stack
 * (guard_on_main_stack), and that stack never shrinks: reading it can
 * never fault, even long after the frame is gone.  `live` says whether
 * the frame is still fork_common's, in the middle of its fork.
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
    return !guard_on_main_stack(here, here) || (uintptr_t)h > here;
}

GUARD_FORK_PATH const struct guard_fork_handoff *guard_fork_handoff_take(void)
{
    if (guard_tls_fork_nested)
        return NULL; /* a signal handler's fork inside another: see nested_fork */
    if (tls_handoff.live == HANDOFF_LIVE)
        return &tls_handoff;
    const struct guard_fork_handoff *h = tls_stack_handoff;
    return h && h->live == HANDOFF_LIVE ? h : NULL;
}

static void stamp_fork(struct guard_fork_handoff *h)
{
    h->stamp.pid = guard_pid;
    h->stamp.realtime_ns = guard_clock_ns(CLOCK_REALTIME);
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

/* Remember the fork's frames for the child's exec (execboard.c): its
 * frame 1 (the forking function's caller) and where the return addresses
 * of the frames above it are.  pcs/sps are the fork's frames and their
 * stack pointers (n of them; sps[i] == 0: interrupted by a signal). */
static void note_fork_site(uint32_t stack, const uint64_t *pcs, const uint64_t *sps, unsigned n)
{
    struct guard_fork_site *site = &guard_tls_fork_site;
    /* Frame i's return address (pcs[i] + 1) was pushed just below frame
     * i's stack pointer at its call: the very word the unwinder read to
     * find frame i, so reading it cannot fault.  Not so for a frame a
     * signal interrupted (its pc comes from the signal frame, and its
     * stack pointer, 0 in sps, may be at a guard page): such a site is not
     * used.  Frames 2 on are checked (frame 1 is where the exec's own
     * frames join). */
    int usable = stack && n >= 2 && n - 2 <= GUARD_FORK_SLOTS && sps[1] &&
                 guard_frames_in_place(pcs + 1, sps + 1, n - 1);
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

/* The fork's stack, and its site for the child's exec.  Not inlined: the
 * frame arrays stay out of fork_common's frame, which the child returns
 * through (each stack page it writes is a page copied for it).  The array
 * is as long as max_frames (32 by default), not the longest it may be
 * (256): every stack page the parent writes between two forks is a page
 * fault, and 2 KiB more of depth made one more of them likely. */
static __attribute__((noinline)) uint32_t take_fork_stack(uint64_t ra, uint64_t cfa)
{
    unsigned max = guard_opt.max_frames >= 1 && guard_opt.max_frames <= GUARD_MAX_FRAMES
                       ? guard_opt.max_frames : GUARD_MAX_FRAMES;
    uint64_t pcs[max], sps[GUARD_FORK_SLOTS + 2];
    uint32_t stack;
    unsigned n = guard_fork_stack_take(ra, cfa, pcs, max, sps, GUARD_FORK_SLOTS + 2, &stack);
    note_fork_site(stack, pcs, sps, n);
    return stack;
}

/* The fork state (the handoff, the fork site) is for the child of the
 * fork that set it.  A fork that a signal handler makes in the middle of
 * another (or that comes in while this thread is inside the shim, and so
 * goes straight to the real fork) must neither overwrite it nor let its
 * child take it for its own: such a fork sets guard_tls_fork_nested around
 * the real call, and its child ignores the state (it gets no board slot
 * and writes its exec in a log of its own, and its log's start is the
 * time of its first record).  This costs nothing on the usual path;
 * holding signals around every fork, as before, cost two system calls in
 * the parent and one in the child.  The child also gets back the depth
 * the thread was at in the shim (its own is in memory a fork child finds
 * zeroed: see guard_hot). */
GUARD_FORK_PATH static pid_t nested_fork(pid_t (*real)(void))
{
    int was = guard_tls_fork_nested, was_depth = guard_tls_nested_depth;
    guard_tls_nested_depth = guard_hot()->depth;
    guard_tls_fork_nested = 1;
    pid_t pid = real();
    int saved = errno;
    guard_tls_fork_nested = was; /* in the parent and in the child */
    guard_tls_nested_depth = was_depth;
    errno = saved;
    return pid;
}

static void handoff_set_live(struct guard_fork_handoff *h, uint32_t live)
{
    atomic_signal_fence(memory_order_seq_cst); /* a signal handler's fork reads it */
    *(volatile uint32_t *)&h->live = live;
    atomic_signal_fence(memory_order_seq_cst);
}

/* ra and cfa: where the program called fork (see forkstack.c) */
GUARD_FORK_PATH static pid_t fork_common(unsigned kind, uint64_t ra, uint64_t cfa)
{
    GUARD_REAL(pid_t (*)(void), fork);
    if (!guard_enter())
        return nested_fork(real);
    int entry_errno = errno; /* our work may change it (libunwind's probes do) */
    struct guard_fork_handoff on_stack; /* see the handoff above */
    struct guard_fork_handoff *handoff = NULL;
    int nested = fork_in_progress();
    int threads = guard_thread_count();
    if (!nested) {
        guard_segments_consolidate(threads);
        guard_main_thread_forks();
        if (guard_on_main_stack((uintptr_t)&on_stack, (uintptr_t)(&on_stack + 1))) {
            handoff = &on_stack;
            handoff->live = 0;
            STORE_IF_CHANGED(tls_stack_handoff, handoff);
        } else {
            handoff = &tls_handoff;
            forks_off_main_stack++;
        }
        handoff_set_live(handoff, HANDOFF_LIVE);
    }
    guard_exec_prepare();  /* what the child's exec needs: looked up here, not in each child */
    uint32_t stack = nested ? guard_stack_capture_walk() : take_fork_stack(ra, cfa);
    guard_ns_before_spawn_or_exec(kind == GUARD_SPAWN_VFORK ? "vfork" : "fork");
    uint32_t board_key = 0;
    if (!nested) {
        handoff->threads = threads;
        board_key = guard_board_before_fork();
        handoff->board_key = board_key;
        stamp_fork(handoff);
    }
    guard_leave();
    guard_errno_restore(entry_errno);
    pid_t pid = nested ? nested_fork(real) : real(); /* the child: see our atfork handler */
    int saved = errno;
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
    if (pid > 0 && guard_enter()) {
        guard_child_started(kind, pid, stack, threads, NULL, NULL, NULL, board_key);
        guard_leave();
    } else if (pid < 0 && guard_enter()) {
        guard_child_started(kind, -1, stack, threads, NULL, NULL, NULL, 0);
        guard_leave();
    }
    guard_errno_restore(saved);
    return pid;
}

GUARD_EXPORT pid_t fork(void)
{
    return fork_common(GUARD_SPAWN_FORK, (uint64_t)__builtin_return_address(0),
                       (uint64_t)__builtin_dwarf_cfa());
}

GUARD_EXPORT pid_t vfork(void)
{
    return fork_common(GUARD_SPAWN_VFORK, (uint64_t)__builtin_return_address(0),
                       (uint64_t)__builtin_dwarf_cfa());
}

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[], char *const[]);

static int spawn_common(spawn_fn real, unsigned kind, pid_t *pid, const char *path,
                        const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                        char *const argv[], char *const envp[])
{
    if (!guard_enter())
        return real(pid, path, fa, attr, argv, envp);
    int entry_errno = errno;
    uint32_t stack = guard_stack_capture_walk();
    int threads = guard_thread_count();
    guard_ns_before_spawn_or_exec(kind == GUARD_SPAWN_POSIX_SPAWNP ? "posix_spawnp" : "posix_spawn");
    char *const *env = guard_env_with_shim(envp);
    guard_leave();
    errno = entry_errno;
    pid_t local_pid = 0;
    int rc = real(&local_pid, path, fa, attr, argv, env ? env : envp);
    int saved = errno;
    if (pid)
        *pid = local_pid;
    if (guard_enter()) {
        guard_child_started(kind, rc == 0 ? local_pid : -1, stack, threads, path, argv, NULL, 0);
        guard_leave();
    }
    errno = saved;
    return rc;
}

GUARD_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                             const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    GUARD_REAL(spawn_fn, posix_spawn);
    return spawn_common(real, GUARD_SPAWN_POSIX_SPAWN, pid, path, fa, attr, argv, envp);
}

GUARD_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                              const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    GUARD_REAL(spawn_fn, posix_spawnp);
    return spawn_common(real, GUARD_SPAWN_POSIX_SPAWNP, pid, file, fa, attr, argv, envp);
}

/* system() starts and reaps its child inside libc: record both ends. */
GUARD_EXPORT int system(const char *command)
{
    GUARD_REAL(int (*)(const char *), system);
    if (!guard_enter())
        return real(command);
    int entry_errno = errno;
    guard_check_fork_unsafe("system");
    uint32_t stack = guard_stack_capture_walk();
    int threads = guard_thread_count();
    char *const argv[] = {"sh", "-c", (char *)command, NULL};
    guard_log_spawn(GUARD_SPAWN_SYSTEM, 0, stack, command ? 0 : GUARD_SPAWN_FAILED, threads,
                    "/bin/sh", argv);
    guard_leave();
    errno = entry_errno;
    int rc = real(command);
    int saved = errno;
    if (command && rc != -1 && guard_enter()) {
        guard_child_reaped(0, rc, GUARD_REAP_SYSTEM, 1, NULL);
        guard_leave();
    }
    errno = saved;
    return rc;
}

GUARD_EXPORT FILE *popen(const char *command, const char *mode)
{
    GUARD_REAL(FILE *(*)(const char *, const char *), popen);
    if (!guard_enter())
        return real(command, mode);
    int entry_errno = errno;
    guard_check_fork_unsafe("popen");
    uint32_t stack = guard_stack_capture_walk();
    int threads = guard_thread_count();
    guard_leave();
    errno = entry_errno;
    FILE *stream = real(command, mode);
    int saved = errno;
    if (guard_enter()) {
        char *const argv[] = {"sh", "-c", (char *)command, NULL};
        guard_child_started(GUARD_SPAWN_POPEN, stream ? 0 : -1, stack, threads, command, argv, stream,
                            0);
        guard_leave();
    }
    errno = saved;
    return stream;
}

GUARD_EXPORT int pclose(FILE *stream)
{
    GUARD_REAL(int (*)(FILE *), pclose);
    int rc = real(stream);
    int saved = errno;
    if (rc != -1 && guard_enter()) {
        guard_child_reaped(0, rc, GUARD_REAP_PCLOSE, 1, stream);
        guard_leave();
    }
    errno = saved;
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
    guard_tls_fork_nested = 0;
    return start.fn(start.arg);
}

/* clone() through libc: a new process unless CLONE_THREAD. */
GUARD_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
    GUARD_REAL(int (*)(int (*)(void *), void *, int, void *, ...), clone);
    va_list ap;
    va_start(ap, arg);
    pid_t *ptid = va_arg(ap, pid_t *);
    void *tls = va_arg(ap, void *);
    pid_t *ctid = va_arg(ap, pid_t *);
    va_end(ap);
    if (flags & CLONE_VM)
        guard_segments_shared();
    int process = !(flags & CLONE_THREAD);
    uint32_t spawn_stack = 0, board_key = 0;
    int threads = 0;
    int entry_errno = errno;
    /* A copy of our memory and our TLS (no CLONE_SETTLS: our TLS offsets
     * in someone else's block would be wild stores) gets the set-up. */
    int copy = process && !(flags & (CLONE_VM | CLONE_SETTLS));
    struct clone_start start = {fn, arg};
    sigset_t mask;
    int nested = 0;
    int entered = process && guard_enter();
    if (entered) {
        spawn_stack = guard_stack_capture_walk();
        threads = guard_thread_count();
        if (copy && !fork_in_progress()) {
            tls_handoff.threads = threads;
            guard_tls_fork_site.stack = 0; /* its exec's stack: walked whole */
            block_async_signals(&mask);
            forks_off_main_stack++;
            board_key = guard_board_before_fork();
            tls_handoff.board_key = board_key;
            stamp_fork(&tls_handoff);
            handoff_set_live(&tls_handoff, HANDOFF_LIVE);
        } else if (copy) {
            nested = 1; /* a signal handler's clone inside a fork: see nested_fork */
        }
        guard_leave();
    }
    errno = entry_errno;
    int was_nested = guard_tls_fork_nested;
    if (nested)
        guard_tls_fork_nested = 1;
    int pid = entered && copy ? real(clone_trampoline, stack, flags, &start, ptid, tls, ctid)
                              : real(fn, stack, flags, arg, ptid, tls, ctid);
    int saved = errno;
    guard_tls_fork_nested = was_nested;
    if (entered && copy && !nested) {
        handoff_set_live(&tls_handoff, 0);
        forks_off_main_stack--;
        pthread_sigmask(SIG_SETMASK, &mask, NULL);
    }
    if (entered && guard_enter()) { /* glibc's clone returns only in the parent */
        guard_child_started(GUARD_SPAWN_CLONE, pid > 0 ? pid : -1, spawn_stack, threads, NULL,
                            NULL, NULL, board_key);
        guard_ns_clone(flags, pid, saved);
        guard_leave();
    }
    errno = saved;
    return pid;
}

GUARD_EXPORT int kill(pid_t pid, int sig)
{
    GUARD_REAL(int (*)(pid_t, int), kill);
    int rc = real(pid, sig);
    int saved = errno;
    if (rc == 0 && pid > 0 && sig != 0 && guard_enter()) {
        guard_child_signalled(pid, sig);
        guard_leave();
    }
    errno = saved;
    return rc;
}

/* ---- the wait family ---------------------------------------------------- */

static void reaped(pid_t ret, int status, unsigned call, pid_t asked)
{
    int saved = errno;
    if (ret > 0 && guard_enter()) {
        guard_child_reaped(ret, status, call, asked > 0, NULL);
        guard_leave();
    }
    guard_errno_restore(saved);
}

GUARD_EXPORT pid_t wait(int *wstatus)
{
    GUARD_REAL(pid_t (*)(int *), wait);
    int local = 0, *sp = wstatus ? wstatus : &local; /* the caller's pointer, as given */
    pid_t ret = real(sp);
    reaped(ret, ret > 0 ? *sp : 0, GUARD_REAP_WAIT, -1);
    return ret;
}

GUARD_EXPORT pid_t waitpid(pid_t pid, int *wstatus, int options)
{
    GUARD_REAL(pid_t (*)(pid_t, int *, int), waitpid);
    int local = 0, *sp = wstatus ? wstatus : &local;
    pid_t ret = real(pid, sp, options);
    reaped(ret, ret > 0 ? *sp : 0, GUARD_REAP_WAITPID, pid);
    return ret;
}

GUARD_EXPORT pid_t wait3(int *wstatus, int options, struct rusage *ru)
{
    GUARD_REAL(pid_t (*)(int *, int, struct rusage *), wait3);
    int local = 0, *sp = wstatus ? wstatus : &local;
    pid_t ret = real(sp, options, ru);
    reaped(ret, ret > 0 ? *sp : 0, GUARD_REAP_WAIT3, -1);
    return ret;
}

GUARD_EXPORT pid_t wait4(pid_t pid, int *wstatus, int options, struct rusage *ru)
{
    GUARD_REAL(pid_t (*)(pid_t, int *, int, struct rusage *), wait4);
    int local = 0, *sp = wstatus ? wstatus : &local;
    pid_t ret = real(pid, sp, options, ru);
    reaped(ret, ret > 0 ? *sp : 0, GUARD_REAP_WAIT4, pid);
    return ret;
}

GUARD_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
    GUARD_REAL(int (*)(idtype_t, id_t, siginfo_t *, int), waitid);
    int rc = real(idtype, id, info, options);
    if (rc == 0 && info && info->si_pid > 0 && !(options & WNOWAIT) &&
        (info->si_code == CLD_EXITED || info->si_code == CLD_KILLED || info->si_code == CLD_DUMPED)) {
        int status = info->si_code == CLD_EXITED ? (info->si_status & 0xff) << 8
                                                 : (info->si_status & 0x7f) |
                                                       (info->si_code == CLD_DUMPED ? 0x80 : 0);
        reaped(info->si_pid, status, GUARD_REAP_WAITID, idtype == P_PID ? (pid_t)id : -1);
    }
    return rc;
}
