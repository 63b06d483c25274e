/*
 * crash.c — the crash flight recorder.  When the process is about to die
 * of SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT or SIGSYS (and the program
 * has no handler of its own for it), fault.c calls here first:
 *   - a CRASH record: signal, si_code, fault address, the registers and the
 *     stack of the crashing thread (from the signal context);
 *   - every other thread's stack (like GOTRACEBACK=crash): each is sent a
 *     reserved real-time signal and writes its own stack; we wait a bounded
 *     time for the answers;
 *   - a `crash` finding (and the immediate report on stderr).
 * Then fault.c restores the default action and the process dies of its own
 * signal, core dump included.
 *
 * The recent history needs no separate ring buffer: every event the shim
 * records is already in the crash-proof log, in order, per thread; the
 * analyzer takes the last crash_events of them.
 *
 * Everything here is async-signal-safe: system calls, our own formatter,
 * the lock-free stack depot.  It runs on a stack of its own: the fatal
 * signal's handler may be on the program's alternate signal stack, which
 * can be as small as 8 KiB (Rust gives every thread one), too small for an
 * unwind and a report.  A second fatal signal while recording (a
 * crash in the recorder, or another thread crashing) skips the recorder, so
 * the process can never hang here.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "guard_internal.h"
#include "hook.h"
#include "guard_names.h"

static _Atomic int crashing;
static _Atomic unsigned answered;
static int dump_signal;

static void write_thread_stack(pid_t tid, uint32_t stack)
{
    struct guard_rec_thread_stack *r = guard_log_reserve(GUARD_REC_THREAD_STACK, sizeof *r);
    if (!r)
        return;
    r->time_ns = guard_now_ns();
    r->tid = (uint32_t)tid;
    r->stack_id = stack;
    guard_log_commit(r, GUARD_REC_THREAD_STACK, sizeof *r);
}

/* Runs on each other thread when asked: its stack at the moment. */
static void dump_handler(int sig, siginfo_t *info, void *uc)
{
    (void)sig;
    (void)info;
    struct guard_hook h;
    guard_handler_begin(&h);
    write_thread_stack(guard_gettid(), guard_stack_capture_signal(uc));
    guard_handler_end(&h);
    atomic_fetch_add(&answered, 1);
}

/* Ask every other thread for its stack; wait at most crash_wait_ms. */
static unsigned dump_other_threads(void)
{
    dump_signal = SIGRTMAX - 2; /* reserved only now: a program using it never conflicts before */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = dump_handler;
    /* not SA_ONSTACK: the thread's own stack has room for an unwind, its
     * alternate signal stack may not */
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (guard_fault_real_sigaction(dump_signal, &sa, NULL) != 0)
        return 0;
    int fd = guard_sys_open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    unsigned sent = 0;
    pid_t self = guard_gettid();
    char buf[4096];
    for (;;) {
        long n = GUARD_SYS3(SYS_getdents64, fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            off += d->d_reclen;
            pid_t tid = 0;
            for (const char *p = d->d_name; *p >= '0' && *p <= '9'; p++)
                tid = tid * 10 + (*p - '0');
            if (tid > 0 && tid != self && guard_sys_tgkill(guard_pid, tid, dump_signal) == 0)
                sent++;
        }
    }
    guard_sys_close(fd);
    struct timespec pause_1ms = {0, 1000000};
    for (unsigned waited = 0; atomic_load(&answered) < sent && waited < guard_opt.crash_wait_ms;
         waited++)
        nanosleep(&pause_1ms, NULL);
    return sent;
}

static void record(int sig, siginfo_t *info, void *ucontext)
{
    uint32_t stack = guard_stack_capture_signal(ucontext);
    struct guard_rec_crash *c = guard_log_reserve(GUARD_REC_CRASH, sizeof *c);
    if (c) {
        c->time_ns = guard_now_ns();
        c->tid = (uint32_t)guard_gettid();
        c->signo = sig;
        c->si_code = info->si_code;
        c->stack_id = stack;
        c->fault_addr = (uintptr_t)info->si_addr;
        c->threads_signalled = 0;
        c->nregs = 0;
#if defined(__x86_64__)
        const ucontext_t *uc = ucontext;
        c->nregs = GUARD_CRASH_NREGS < NGREG ? GUARD_CRASH_NREGS : NGREG;
        for (unsigned i = 0; i < c->nregs; i++)
            c->regs[i] = (uint64_t)uc->uc_mcontext.gregs[i];
#endif
        guard_log_commit(c, GUARD_REC_CRASH, sizeof *c);
    }
    unsigned others = dump_other_threads();

    struct guard_finding f;
    guard_finding_init(&f, GUARD_FK_CRASH, guard_gettid());
    f.call = guard_signal_name(sig);
    f.addr = (uintptr_t)info->si_addr;
    f.bytes = others;
    char where[160] = "";
    if (info->si_code > 0 && sig != SIGABRT && sig != SIGSYS) { /* a fault: si_addr means something */
        uintptr_t sp = 0, at = (uintptr_t)info->si_addr;
#if defined(__x86_64__)
        sp = (uintptr_t)((const ucontext_t *)ucontext)->uc_mcontext.gregs[REG_RSP];
#endif
        /* A write just below the stack pointer that faults is a push or a
         * new frame past the end of the stack. */
        if (sig == SIGSEGV && sp && at <= sp + 256 && at + (64u << 10) >= sp)
            guard_fmt(where, sizeof where, ", fault address %p: a stack overflow (the stack "
                      "pointer %p ran past the end of the thread's stack)", info->si_addr,
                      (void *)sp);
        else
            guard_fmt(where, sizeof where, ", fault address %p", info->si_addr);
    } else {
        f.addr = 0;
    }
    guard_fmt(f.summary, sizeof f.summary,
              "the process died of %s (si_code %d) on thread T%d%s; %u other thread(s) asked "
              "for their stacks, %u answered", guard_signal_name(sig), info->si_code, (int)f.tid, where,
              others, atomic_load(&answered));
    f.stacks[0] = (struct guard_finding_stack_ref){GUARD_ROLE_CRASH, stack, (uint32_t)f.tid};
    f.nstacks = stack ? 1 : 0;
    guard_report_finding(&f);
}

/* The recorder's own stack, made at start-up (memory from the arena: its
 * untouched pages cost nothing), and the contexts to switch to it and back
 * (static: only the first fatal signal records, see `crashing`). */
#define CRASH_STACK_SIZE (128u << 10)
static char *crash_stack;
GUARD_LARGE static ucontext_t crash_caller_ctx, crash_ctx;
static struct {
    int sig;
    siginfo_t *info;
    void *ucontext;
} crash_args;

void guard_crash_init(void)
{
    if (guard_opt.crash_handler && !crash_stack)
        crash_stack = guard_alloc(CRASH_STACK_SIZE);
}

static void record_on_own_stack(void)
{
    record(crash_args.sig, crash_args.info, crash_args.ucontext);
}

void guard_crash_record(int sig, siginfo_t *info, void *ucontext)
{
    if (!guard_opt.crash_handler || atomic_exchange(&crashing, 1))
        return;
    crash_args.sig = sig;
    crash_args.info = info;
    crash_args.ucontext = ucontext;
    if (crash_stack && getcontext(&crash_ctx) == 0) {
        crash_ctx.uc_stack.ss_sp = crash_stack;
        crash_ctx.uc_stack.ss_size = CRASH_STACK_SIZE;
        crash_ctx.uc_link = &crash_caller_ctx;
        GUARD_REAL(makecontext)(&crash_ctx, record_on_own_stack, 0);
        if (swapcontext(&crash_caller_ctx, &crash_ctx) == 0)
            return;
    }
    record(sig, info, ucontext); /* no stack of its own: on this one */
}
