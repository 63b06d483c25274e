/*
 * guard.c — the shim's state: start-up, the way into the shim
 * (guard_enter), thread ids, clocks, and the end of the process (the exit
 * hooks, the destructor, halt_on_error).
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
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guard_internal.h"
#include "hook.h"

__thread struct guard_thread_hot *guard_tls_hot;
__thread struct guard_thread_hot guard_tls_hot_own;
static __thread pid_t tls_tid;

GUARD_FORK_WRITTEN pid_t guard_pid;

enum { STATE_UNINIT, STATE_INITIALIZING, STATE_ACTIVE, STATE_INERT };
static _Atomic int guard_state = STATE_UNINIT;
static _Atomic int exit_status_known;
static int exit_status;

GUARD_FORK_PATH pid_t guard_gettid(void)
{
    if (__builtin_expect(tls_tid == 0, 0))
        tls_tid = guard_sys_gettid();
    return tls_tid;
}

GUARD_FORK_PATH void guard_set_tid(pid_t tid)
{
    tls_tid = tid;
}

GUARD_FORK_PATH uint64_t guard_now_ns_on(clockid_t clock)
{
    struct timespec ts;
    guard_clock_real_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

GUARD_FORK_PATH uint64_t guard_now_ns(void)
{
    return guard_now_ns_on(CLOCK_MONOTONIC);
}

/* For the short pool records on the hot path: the coarse clock reads the
 * vDSO's last tick without the TSC (a few ns instead of ~25 ns), at the
 * resolution of the kernel tick (1-4 ms).  Records are ordered by their
 * place in the file; the time only says roughly when. */
uint64_t guard_now_coarse_ns(void)
{
    return guard_now_ns_on(CLOCK_MONOTONIC_COARSE);
}

/* /proc/self/exe, read once per process image: a fork child has the same
 * one (and inherits this copy), an exec starts a new image. */
const char *guard_exe_path(void)
{
    GUARD_LARGE static char exe[4096];
    static int known;
    if (!known) {
        long n = guard_sys_readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
        known = 1;
    }
    return exe;
}

GUARD_FORK_PATH int guard_is_active(void)
{
    return atomic_load_explicit(&guard_state, memory_order_acquire) == STATE_ACTIVE;
}

/* ---- exit ------------------------------------------------------------------ */

static void record_exit(int status)
{
    if (guard_fork_in_vfork_child)
        return; /* a vfork child's exit is not its parent's */
    if (!atomic_exchange(&exit_status_known, 1))
        exit_status = status;
}

/* The exit hooks have no hook_begin/end: they never return, and their
 * work (the end of the log) must run whatever the depth. */
GUARD_EXPORT void exit(int status)
{
    record_exit(status);
    GUARD_REAL(exit)(status);
    __builtin_unreachable();
}

static void end_log_now(int status)
{
    if (!guard_is_active() || guard_fork_in_vfork_child)
        return; /* (a vfork child: the log and the children are its parent's) */
    struct guard_hook h;
    guard_handler_begin(&h);
    guard_children_at_exit(0);
    guard_nss_at_exit();
    guard_log_end(status);
    guard_handler_end(&h);
}

GUARD_EXPORT void _exit(int status)
{
    end_log_now(status);
    GUARD_REAL(_exit)(status);
    __builtin_unreachable();
}

GUARD_EXPORT void _Exit(int status)
{
    end_log_now(status);
    GUARD_REAL(_Exit)(status);
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
    guard_fmt_stderr("==%d==libguard: halt_on_error=1: aborting\n", (int)guard_pid);
    end_log_now(128 + SIGABRT);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    guard_fault_real_sigaction(SIGABRT, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGABRT);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(SIGABRT);
    GUARD_REAL(_exit)(128 + SIGABRT);
    __builtin_unreachable();
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
    guard_suppress_load(guard_opt.suppressions);
    guard_stack_init();
    guard_log_open(getppid(), 0);
    guard_fault_install();
    guard_altstack_init();
    guard_children_init();
    guard_vdso_measure_init();
    guard_fork_init();
    if (guard_opt.verbosity >= 2)
        guard_fmt_stderr("==%d==libguard: active, log %s%s; vdso-low-stack threshold %lu bytes\n",
                     (int)guard_pid, guard_log_created() ? guard_log_path() : guard_opt.log_dir,
                     guard_log_created() ? "" : " (created at the first record)",
                     guard_clock_threshold());
    atomic_store_explicit(&guard_state, STATE_ACTIVE, memory_order_release);
}

static void guard_ensure_init(void)
{
    int expected = STATE_UNINIT;
    if (atomic_compare_exchange_strong(&guard_state, &expected, STATE_INITIALIZING)) {
        struct guard_hook h;
        guard_handler_begin(&h);
        guard_init();
        guard_handler_end(&h);
    }
}

GUARD_FORK_PATH int guard_enter(void)
{
    struct guard_thread_hot *hot = guard_tls_hot;
    if (__builtin_expect(hot == NULL, 0))
        hot = guard_fork_depth_place();
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
