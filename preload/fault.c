/*
 * fault.c — the shim's handlers for fatal signals, and living with the
 * program's own.
 *
 * Protected pool pages turn a late access into a SIGSEGV that we must
 * handle, and the crash flight recorder (crash.c) must see SIGSEGV, SIGBUS,
 * SIGFPE, SIGILL, SIGABRT and SIGSYS; yet the program may have its own
 * handlers (a JIT, a garbage collector, a crash reporter), installed before
 * or after us.  So the kernel always has our handler, and the program's
 * view of each disposition lives here: sigaction()/signal() for these
 * signals are answered from and stored into that view.  A signal that is
 * not ours is passed on exactly as the kernel would have delivered it: to
 * the program's handler (with its mask and flags), or — after the crash
 * recorder has written its record — to the default action.
 *
 * Known limit: a program that calls the rt_sigaction system call directly
 * replaces our handler; pool faults then reach its handler instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "guard_internal.h"
#include "hook.h"

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS};
#define NFATAL (sizeof fatal_signals / sizeof fatal_signals[0])

/* Its index in fatal_signals; only called for a signal there (installed). */
static unsigned fatal_index(int sig)
{
    unsigned i = 0;
    while (i + 1 < NFATAL && fatal_signals[i] != sig)
        i++;
    return i;
}

/* The program's idea of the disposition of each of fatal_signals, by its
 * index there (a table by signal number was 10 KiB, two pages for every
 * process to fault in at start-up). */
static struct sigaction app_views[NFATAL];
#define app_view(sig) app_views[fatal_index(sig)]
static volatile int installed[NSIG];    /* our handler is the kernel's for this signal */
static struct guard_lock app_lock;

int guard_fault_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    return GUARD_REAL(sigaction)(sig, act, old);
}

static void pass_on(int sig, siginfo_t *info, void *uc)
{
    struct sigaction app = app_view(sig); /* a copy: the program may change it meanwhile */
    if (app.sa_flags & SA_SIGINFO ? app.sa_sigaction == NULL : app.sa_handler == SIG_DFL ||
                                                                 app.sa_handler == SIG_IGN) {
        int user_sent = info->si_code <= 0;
        if (!(app.sa_flags & SA_SIGINFO) && app.sa_handler == SIG_IGN &&
            (user_sent || sig == SIGABRT))
            return; /* kill -SEGV of an ignoring process: ignored */
        /* The process is about to die of this signal: record it first. */
        if (guard_is_active()) {
            struct guard_hook h;
            guard_handler_begin(&h);
            guard_crash_record(sig, info, uc);
            guard_handler_end(&h);
        }
        /* Default action.  For a real fault, returning re-executes the
         * instruction, which faults again and now kills the process with
         * the right signal and core dump; a sent signal is raised again. */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        guard_fault_real_sigaction(sig, &dfl, NULL);
        installed[sig] = 0;
        if (user_sent || sig == SIGABRT) {
            sigset_t unblock;
            sigemptyset(&unblock);
            sigaddset(&unblock, sig);
            pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
            raise(sig);
        }
        return;
    }
    /* Run the program's handler as the kernel would: its mask (and the
     * signal itself unless SA_NODEFER) blocked while it runs. */
    sigset_t mask = app.sa_mask, old;
    if (!(app.sa_flags & SA_NODEFER))
        sigaddset(&mask, sig);
    pthread_sigmask(SIG_BLOCK, &mask, &old);
    if (app.sa_flags & SA_RESETHAND) {
        memset(&app_view(sig), 0, sizeof app_view(sig));
        app_view(sig).sa_handler = SIG_DFL;
    }
    if (app.sa_flags & SA_SIGINFO)
        app.sa_sigaction(sig, info, uc);
    else
        app.sa_handler(sig);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void fault_handler(int sig, siginfo_t *info, void *uc)
{
    if (sig == SIGSEGV && info->si_code == SEGV_ACCERR && guard_is_active()) {
        unsigned access = GUARD_ACCESS_UNKNOWN;
#if defined(__x86_64__)
        /* page-fault error code: bit 1 set for a write */
        access = (((ucontext_t *)uc)->uc_mcontext.gregs[REG_ERR] & 2) ? GUARD_ACCESS_WRITE
                                                                       : GUARD_ACCESS_READ;
#endif
        struct guard_hook h;
        guard_handler_begin(&h);
        int ours = guard_pool_fault((uintptr_t)info->si_addr, access, uc);
        guard_handler_end(&h);
        if (ours)
            return; /* the object is unprotected now: the access is retried */
    }
    pass_on(sig, info, uc);
}

void guard_fault_install(void)
{
    guard_crash_init();
    for (unsigned i = 0; i < NFATAL; i++) {
        int sig = fatal_signals[i];
        /* Without pool protection and without the crash recorder, nothing
         * of ours needs these signals: leave them entirely to the program. */
        if (!guard_opt.crash_handler && !(sig == SIGSEGV && guard_opt.pool_protect))
            continue;
        struct sigaction sa, old;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = fault_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        if (guard_fault_real_sigaction(sig, &sa, &old) == 0) {
            app_view(sig) = old;
            installed[sig] = 1;
        }
    }
}

static int viewed(int sig)
{
    return sig > 0 && sig < NSIG && installed[sig] && guard_is_active();
}

/* The program asks for one of our signals: answer from (and store into)
 * its view. */
static int app_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (!guard_lock_acquire(&app_lock))
        return -2;
    if (old)
        *old = app_view(sig);
    if (act)
        app_view(sig) = *act;
    guard_lock_release(&app_lock);
    return 0;
}

GUARD_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (viewed(sig)) {
        int rc = app_sigaction(sig, act, old);
        if (rc == 0)
            return 0;
    }
    int rc = guard_fault_real_sigaction(sig, act, old);
    struct guard_hook h;
    if (rc == 0 && act && sig == SIGCHLD && guard_hook_begin(&h)) {
        guard_children_sigchld_changed(act); /* SIG_IGN / SA_NOCLDWAIT: children reap themselves */
        guard_hook_end(&h);
    }
    return rc;
}

/* The signal() family for our signals goes through the program's view; for
 * every other signal the real function runs untouched. */
static int segv_view(int sig, sighandler_t handler, int flags, sighandler_t *old_out)
{
    if (!viewed(sig))
        return 0;
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    act.sa_flags = flags;
    sigemptyset(&act.sa_mask);
    if (!(flags & SA_NODEFER))
        sigaddset(&act.sa_mask, sig);
    if (app_sigaction(sig, &act, &old) != 0)
        return 0;
    *old_out = (old.sa_flags & SA_SIGINFO) ? (sighandler_t)(void *)old.sa_sigaction : old.sa_handler;
    return 1;
}

static void sigchld_set_by_signal(sighandler_t handler)
{
    struct guard_hook h;
    if (guard_hook_begin(&h)) {
        struct sigaction now;
        memset(&now, 0, sizeof now);
        now.sa_handler = handler;
        guard_children_sigchld_changed(&now);
        guard_hook_end(&h);
    }
}

#define SIGNAL_HOOK(name, flags)                                   \
    GUARD_EXPORT sighandler_t name(int sig, sighandler_t handler)  \
    {                                                              \
        sighandler_t old;                                          \
        if (segv_view(sig, handler, flags, &old))                  \
            return old;                                            \
        old = GUARD_REAL(name)(sig, handler);                      \
        if (sig == SIGCHLD && old != SIG_ERR)                      \
            sigchld_set_by_signal(handler);                        \
        return old;                                                \
    }

/* glibc's signal() has BSD semantics: restart, handler stays installed. */
SIGNAL_HOOK(signal, SA_RESTART)
SIGNAL_HOOK(bsd_signal, SA_RESTART)
SIGNAL_HOOK(sysv_signal, SA_RESETHAND | SA_NODEFER)
