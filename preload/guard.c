/*
 * guard.c — start-up, process state, and the small primitives every room
 * uses: the reentrancy guard, the owner-aware lock, the allocator, thread
 * ids, time, fork and exit handling.
 *
 * Initialisation is lazy and happens exactly once, from our constructor or
 * from the first hook that runs, whichever comes first: another library's
 * constructor may call a hooked function before ours has run.  While one
 * thread initialises, hooks on other threads pass straight through.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guard_internal.h"
#include "hook.h"

__thread struct guard_thread_hot *guard_tls_hot;
__thread struct guard_thread_hot guard_tls_hot_own;
/* The main thread's (see hook.h), made at the first fork: a process that
 * never forks makes no parent-only mapping for it.  A fork child does not
 * use its parent's (main_hot_pid): it makes its own if it forks. */
static struct guard_thread_hot *main_hot;
static pid_t main_hot_pid;
static __thread pid_t tls_tid;

GUARD_FORK_WRITTEN pid_t guard_pid;
const char *guard_options_text = "";

enum { STATE_UNINIT, STATE_INITIALIZING, STATE_ACTIVE, STATE_INERT };
static _Atomic int guard_state = STATE_UNINIT;
static _Atomic int exit_status_known;
static int exit_status;

GUARD_FORK_PATH pid_t guard_gettid(void)
{
    if (__builtin_expect(tls_tid == 0, 0))
        tls_tid = (pid_t)syscall(SYS_gettid);
    return tls_tid;
}

GUARD_FORK_PATH uint64_t guard_clock_ns(clockid_t clock)
{
    struct timespec ts;
    guard_real_clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

GUARD_FORK_PATH uint64_t guard_now_ns(void)
{
    return guard_clock_ns(CLOCK_MONOTONIC);
}

/* For the short pool records on the hot path: the coarse clock reads the
 * vDSO's last tick without the TSC (a few ns instead of ~25 ns), at the
 * resolution of the kernel tick (1-4 ms).  Records are ordered by their
 * place in the file; the time only says roughly when. */
uint64_t guard_now_coarse_ns(void)
{
    return guard_clock_ns(CLOCK_MONOTONIC_COARSE);
}

/* /proc/self/exe, read once per process image: a fork child has the same
 * one (and inherits this copy), an exec starts a new image. */
const char *guard_exe_path(void)
{
    GUARD_LARGE static char exe[4096];
    static int known;
    if (!known) {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
        known = 1;
    }
    return exe;
}

GUARD_FORK_PATH int guard_is_active(void)
{
    return atomic_load_explicit(&guard_state, memory_order_acquire) == STATE_ACTIVE;
}

/* ---- lock and allocator ------------------------------------------------- */

int guard_lock_acquire(struct guard_lock *lock)
{
    int self = (int)guard_gettid();
    for (unsigned spins = 0;; spins++) {
        int expected = 0;
        if (atomic_compare_exchange_weak_explicit(&lock->owner, &expected, self,
                                                  memory_order_acquire, memory_order_relaxed))
            return 1;
        if (expected == self)
            return 0; /* we interrupted ourselves: refuse rather than deadlock */
        if (spins > 64)
            sched_yield();
    }
}

void guard_lock_release(struct guard_lock *lock)
{
    atomic_store_explicit(&lock->owner, 0, memory_order_release);
}

/* A bump allocator over chunks of anonymous memory, never freed: what the
 * shim allocates lives as long as the process. */
struct bump_arena {
    struct guard_lock lock;
    char *next, *end;
    size_t chunk, align;
    int advice;       /* madvise'd on each new chunk, if not 0 */
    int advice_taken; /* every chunk so far took it */
};

static void *bump_alloc(struct bump_arena *a, size_t size, size_t align)
{
    if (align < a->align)
        align = a->align;
    size = (size + align - 1) & ~(align - 1);
    if (size > a->chunk || !guard_lock_acquire(&a->lock))
        return NULL;
    char *at = (char *)(((uintptr_t)a->next + align - 1) & ~(uintptr_t)(align - 1));
    if (!a->next || at > a->end || (size_t)(a->end - at) < size) {
        char *p = mmap(NULL, a->chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            guard_lock_release(&a->lock);
            return NULL;
        }
        int saved = errno;
        if (a->advice && madvise(p, a->chunk, a->advice) != 0)
            a->advice_taken = 0;
        /* Sparse tables live here: with transparent huge pages set to
         * "always", each first touch would make 2 MiB resident. */
        (void)madvise(p, a->chunk, MADV_NOHUGEPAGE);
        errno = saved;
        a->next = p;
        a->end = p + a->chunk;
        at = p; /* chunks are page-aligned */
    }
    a->next = at + size;
    guard_lock_release(&a->lock);
    return at;
}

#define ARENA_CHUNK (1u << 20)
/* The first chunk is in our .bss, not a mapping of its own: most
 * processes never need a second, and each mapping is one more for every
 * fork to copy.  (Untouched pages of it cost nothing.) */
GUARD_LARGE static char arena_first[ARENA_CHUNK] __attribute__((aligned(64)));
static struct bump_arena arena = {{0}, arena_first, arena_first + ARENA_CHUNK, ARENA_CHUNK, 16, 0, 1};

void *guard_alloc(size_t size)
{
    if (size >= ARENA_CHUNK / 4) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
    }
    return bump_alloc(&arena, size, 16);
}

/* Memory for what this process writes on every spawn and its fork children
 * must not inherit (the log's tail, the table of its children): a fork
 * does not make a MADV_WIPEONFORK mapping copy-on-write for the parent,
 * whose next write to it is then no page fault and copy (a few of those
 * per spawn were much of what a fork+exec cost under the shim), and the
 * child finds it all zeros: no log tail, no children.  Where the kernel
 * has no MADV_WIPEONFORK (before 4.14) it is ordinary memory, and the
 * fork child's handlers reset it as they reset everything else.  A cache
 * line each. */
static struct bump_arena parent_only = {{0}, NULL, NULL, 8u << 20, 64, MADV_WIPEONFORK, 1};

void *guard_alloc_parent_only(size_t size)
{
    return bump_alloc(&parent_only, size, 64);
}

/* Whole pages of it (the stack tables, which a fork child without a
 * wiping kernel unmaps): one mapping with the rest, not two more for every
 * fork to copy.  (8 MiB of address space; untouched pages cost nothing.) */
void *guard_alloc_parent_only_pages(size_t size)
{
    return bump_alloc(&parent_only, size, 4096);
}

int guard_parent_only_wiped(void)
{
    return parent_only.next && parent_only.advice_taken;
}

void *guard_parent_only_object(_Atomic(void *) *at, size_t size, void *fallback, int *wiped)
{
    void *made = atomic_load_explicit(at, memory_order_acquire);
    if (__builtin_expect(made != NULL, 1))
        return made;
    void *own = guard_alloc_parent_only(size);
    int own_wiped = own && guard_parent_only_wiped();
    void *expected = NULL;
    if (atomic_compare_exchange_strong(at, &expected, own ? own : fallback)) {
        *wiped = own_wiped;
        return own ? own : fallback;
    }
    return expected; /* another thread made it first (its memory stays unused) */
}

/* ---- fork and exit ------------------------------------------------------ */

/* Runs in the child of fork() (pthread_atfork), before fork returns there.
 * The child has one thread: every lock some other parent thread held is
 * simply released, and the log moves to a file of the child's own.
 *
 * Most forked children exec at once, so this must cost next to nothing:
 * no system call but getpid (made inline: see guard_inline_syscall6),
 * nothing unmapped (each room puts that off until the child first needs
 * it, see log.c and stack.c), and no store of a value that is already
 * there.  Every page of the parent's
 * memory this handler writes is a page the kernel must copy for the child
 * (about a microsecond each); reads are free. */
GUARD_FORK_PATH static void after_fork_child(void)
{
    if (!guard_is_active())
        return;
    pid_t parent = guard_pid;
    guard_pid = (pid_t)guard_inline_syscall6(SYS_getpid, 0, 0, 0, 0, 0, 0);
    tls_tid = guard_pid; /* the forking thread is the child's main thread */
    /* Our depth: 0 at a fork made through the fork hook; a signal
     * handler's fork inside the shim gets back the depth it forked at.  It
     * is kept in TLS again: the parent's main_hot is zeroed in the child,
     * and each page of it the child touched would be one more fault. */
    struct guard_thread_hot *hot = &guard_tls_hot_own;
    if (guard_tls_hot != hot)
        guard_tls_hot = hot; /* back in TLS, whose page the child writes anyway (tls_tid) */
    int depth = guard_tls_fork_nested ? guard_tls_nested_depth : 0;
    if (hot->depth != depth)
        hot->depth = depth;
    hot->depth++;
    const struct guard_fork_handoff *handoff = guard_fork_handoff_take();
    guard_lock_reset_in_child(&arena.lock);
    guard_lock_reset_in_child(&parent_only.lock);
    guard_stack_after_fork_child();
    guard_log_after_fork_child(parent, handoff ? &handoff->stamp : NULL);
    guard_board_after_fork_child(parent, handoff);
    guard_pool_after_fork_child();
    guard_proc_after_fork_child(handoff ? handoff->threads : 0);
    guard_nss_after_fork_child();
    guard_ns_after_fork_child();
    hot->depth--;
}

/* The same for a process made by clone() without CLONE_VM (spawn.c): it
 * has a copy of our state, as a fork child does, but no atfork handler
 * runs in it. */
void guard_fork_child_setup(void)
{
    after_fork_child();
}

static void record_exit(int status)
{
    if (!atomic_exchange(&exit_status_known, 1))
        exit_status = status;
}

GUARD_EXPORT void exit(int status)
{
    GUARD_REAL(void (*)(int), exit);
    record_exit(status);
    real(status);
    __builtin_unreachable();
}

static void end_log_now(int status)
{
    if (!guard_is_active())
        return;
    guard_enter_anyway();
    guard_children_at_exit("exited");
    guard_nss_at_exit();
    guard_log_end(status);
    guard_leave();
}

GUARD_EXPORT void _exit(int status)
{
    GUARD_REAL(void (*)(int), _exit);
    end_log_now(status);
    real(status);
    __builtin_unreachable();
}

GUARD_EXPORT void _Exit(int status)
{
    GUARD_REAL(void (*)(int), _Exit);
    end_log_now(status);
    real(status);
    __builtin_unreachable();
}

/* Destructors run after main returned or exit() ran the atexit handlers:
 * the END record marks a log whose process ended normally. */
__attribute__((destructor)) static void guard_fini(void)
{
    end_log_now(atomic_load(&exit_status_known) ? exit_status : INT32_MIN);
}

void guard_halt(void)
{
    guard_stderr("==%d==libguard: halt_on_error=1: aborting\n", (int)guard_pid);
    end_log_now(128 + SIGABRT);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    guard_real_sigaction(SIGABRT, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGABRT);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(SIGABRT);
    _exit(128 + SIGABRT);
}

/* ---- initialisation ----------------------------------------------------- */

static void guard_init(void)
{
    if (getauxval(AT_SECURE)) {
        /* setuid/setgid: the environment is the attacker's; stay inert. */
        atomic_store(&guard_state, STATE_INERT);
        return;
    }
    guard_pid = getpid();
    guard_options_defaults();
    const char *text = getenv("GUARD_OPTIONS");
    if (text) {
        guard_options_text = text;
        guard_options_parse(text);
    }
    guard_suppressions_load(guard_opt.suppressions);
    guard_stack_init();
    guard_log_open(getppid(), 0);
    guard_fault_install();
    guard_proc_init();
    guard_clock_init();
    pthread_atfork(NULL, NULL, after_fork_child);
    if (guard_opt.verbosity >= 2)
        guard_stderr("==%d==libguard: active, log %s%s; vdso-low-stack threshold %lu bytes\n",
                     (int)guard_pid, guard_log_created() ? guard_log_path() : guard_opt.log_dir,
                     guard_log_created() ? "" : " (created at the first record)",
                     guard_clock_threshold());
    atomic_store_explicit(&guard_state, STATE_ACTIVE, memory_order_release);
}

static void guard_ensure_init(void)
{
    int expected = STATE_UNINIT;
    if (atomic_compare_exchange_strong(&guard_state, &expected, STATE_INITIALIZING)) {
        int saved = errno;
        guard_enter_anyway();
        guard_init();
        guard_leave();
        errno = saved;
    }
}

/* Where this thread's depth is kept, chosen at its first way into the
 * shim once it is active (guard_tls_hot is NULL until then), and again
 * after the main thread's first fork: the main thread's depth moves to
 * parent-only memory then.  The move is not safe while the thread is
 * inside the shim, so it is made here, on the way in at depth 0 (see
 * guard_depth_settle for a signal handler that makes it under our feet).
 * Other threads keep theirs in TLS for good. */
static struct guard_thread_hot *attach_hot(void)
{
    struct guard_thread_hot *own = &guard_tls_hot_own;
    if (own->depth > 0 || !guard_is_active())
        return own;
    struct guard_thread_hot *m = __atomic_load_n(&main_hot, __ATOMIC_ACQUIRE);
    if (!m || main_hot_pid != guard_pid || guard_gettid() != guard_pid)
        m = own;
    guard_tls_hot = m;
    return m;
}

/* At the main thread's fork (from the fork hook, in the shim): the first
 * makes the main thread's place in parent-only memory, and the thread
 * takes it at its next way into the shim (attach_hot). */
void guard_main_thread_forks(void)
{
    if ((main_hot && main_hot_pid == guard_pid) || guard_gettid() != guard_pid)
        return;
    struct guard_thread_hot *m = guard_alloc_parent_only(sizeof *m);
    if (m && guard_parent_only_wiped()) { /* else (before Linux 4.14) it stays in TLS */
        main_hot_pid = guard_pid;
        __atomic_store_n(&main_hot, m, __ATOMIC_RELEASE);
        guard_tls_hot = NULL; /* its depth is on guard_tls_hot_own until it leaves */
    }
}

GUARD_FORK_PATH int guard_enter(void)
{
    struct guard_thread_hot *hot = guard_tls_hot;
    if (__builtin_expect(hot == NULL, 0))
        hot = attach_hot();
    if (hot->depth > 0)
        return 0;
    int state = atomic_load_explicit(&guard_state, memory_order_acquire);
    if (__builtin_expect(state != STATE_ACTIVE, 0)) {
        if (state != STATE_UNINIT)
            return 0;
        guard_ensure_init();
        if (!guard_is_active())
            return 0;
    }
    hot->depth++;
    guard_depth_settle(hot);
    return 1;
}

__attribute__((constructor)) static void guard_constructor(void)
{
    guard_ensure_init();
}
