/*
 * clock.c — the time calls (clock_gettime, gettimeofday, time,
 * clock_getres) and vdso-low-stack: a vDSO built with stack probing touches
 * memory about 4 KiB below the stack pointer, which corrupts whatever lies
 * there when the call runs on a small stack (Go's 104-byte system stack, a
 * coroutine, a 4 KiB sigaltstack, a thread stack the program carved from
 * the heap).
 *
 * The fast path must cost next to nothing (these are the most frequent
 * calls in many programs): compare the stack pointer with the calling
 * thread's cached stack bounds and call the real function.  Only when the
 * pointer is outside the cached stack, or too close to its end, does the
 * slow path find out which stack it is on and measure the headroom.  The
 * bounds of each kind of stack (docs/checks.md, vdso-low-stack):
 *   - a coroutine stack registered by makecontext: as registered;
 *   - the sigaltstack: as sigaltstack() says;
 *   - the main thread's own stack: as far as the kernel lets it grow
 *     (RLIMIT_STACK, and the guard gap above the mapping below it), not
 *     the [stack] mapping as it is now;
 *   - another thread's own stack: glibc's exact bounds (pthread_getattr_np),
 *     not the mapping, which for a stack from the heap is the whole heap;
 *   - anything else: the mapping around the stack pointer.
 *
 * The threshold is vdso_min_headroom, raised to what this host's vDSO
 * really uses, measured once at start-up (vdso_measure.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "guard_internal.h"
#include "hook.h"

/* This thread's own stack, found at its first time call that can find it
 * (find_own_stack), and the last other stack it was seen on (a coroutine or
 * custom stack it keeps using).  A forked child keeps its thread's. */
static __thread uintptr_t tls_stack_lo, tls_stack_hi;
static __thread int tls_stack_kind;
static __thread unsigned tls_own_tries; /* calls that could not find it */
static __thread uintptr_t tls_other_lo, tls_other_hi;
static __thread int tls_other_kind;
static unsigned long headroom_threshold = 4096 + 256;

void guard_clock_set_threshold(unsigned long bytes) { headroom_threshold = bytes; }
unsigned long guard_clock_threshold(void) { return headroom_threshold; }

static inline int headroom_ok(uintptr_t sp)
{
    return sp < tls_stack_hi && sp >= tls_stack_lo + headroom_threshold;
}

/* ---- stacks the program made itself: makecontext ------------------------ */

#define MAX_COROUTINE_STACKS 256
struct known_stack {
    _Atomic uintptr_t lo;
    uintptr_t hi;
};
GUARD_LARGE static struct known_stack coroutine_stacks[MAX_COROUTINE_STACKS];
static _Atomic unsigned ncoroutine_stacks;

static void remember_coroutine_stack(uintptr_t lo, size_t size)
{
    unsigned n = atomic_load(&ncoroutine_stacks);
    for (unsigned i = 0; i < n && i < MAX_COROUTINE_STACKS; i++)
        if (atomic_load(&coroutine_stacks[i].lo) == lo) {
            coroutine_stacks[i].hi = lo + size;
            return;
        }
    unsigned i = atomic_fetch_add(&ncoroutine_stacks, 1);
    if (i >= MAX_COROUTINE_STACKS) {
        /* a program with many coroutines: reuse slots round-robin */
        i %= MAX_COROUTINE_STACKS;
    }
    coroutine_stacks[i].hi = lo + size;
    atomic_store(&coroutine_stacks[i].lo, lo);
}

static int find_coroutine_stack(uintptr_t sp, uintptr_t *lo, uintptr_t *hi)
{
    unsigned n = atomic_load(&ncoroutine_stacks);
    for (unsigned i = 0; i < n && i < MAX_COROUTINE_STACKS; i++) {
        uintptr_t l = atomic_load(&coroutine_stacks[i].lo), h = coroutine_stacks[i].hi;
        if (sp >= l && sp < h) {
            *lo = l;
            *hi = h;
            return 1;
        }
    }
    return 0;
}

GUARD_EXPORT void makecontext(ucontext_t *ucp, void (*func)(void), int argc, ...)
{
    long a[16] = {0};
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc && i < 16; i++)
        a[i] = va_arg(ap, long); /* glibc reads them as greg_t (long) too */
    va_end(ap);
    struct guard_hook h;
    if (ucp && ucp->uc_stack.ss_sp && ucp->uc_stack.ss_size && guard_hook_begin(&h)) {
        remember_coroutine_stack((uintptr_t)ucp->uc_stack.ss_sp, ucp->uc_stack.ss_size);
        guard_hook_end(&h);
    }
    GUARD_REAL(makecontext)(ucp, func, argc, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
                            a[9], a[10], a[11], a[12], a[13], a[14], a[15]);
}

/* ---- finding the stack the pointer is on -------------------------------- */

enum stack_kind { STACK_THREAD = 1, STACK_MAIN, STACK_SIGALT, STACK_COROUTINE, STACK_MAPPING };
static const char *const stack_kind_names[] = {"?", "thread stack", "main thread stack",
                                               "sigaltstack", "coroutine stack (makecontext)",
                                               "custom stack (its mapping)"};

struct mapping {
    uintptr_t lo, hi;
    uintptr_t below_hi;   /* the end of the mapping below it (0: none) */
    int below_accessible; /* that mapping is not PROT_NONE */
};

struct find_mapping_state {
    uintptr_t addr;
    struct mapping *m;
    uintptr_t prev_hi;
    int prev_accessible;
};

static int find_mapping_line(const struct guard_maps_line *l, void *arg)
{
    struct find_mapping_state *st = arg;
    if (st->addr >= l->lo && st->addr < l->hi) {
        *st->m = (struct mapping){l->lo, l->hi, st->prev_hi, st->prev_accessible};
        return 1;
    }
    st->prev_hi = l->hi;
    st->prev_accessible = strncmp(l->perms, "---", 3) != 0;
    return 0;
}

/* The mapping around addr (plain system calls: we may be in a signal
 * handler). */
static int find_mapping(uintptr_t addr, struct mapping *m)
{
    struct find_mapping_state st = {addr, m, 0, 0};
    return guard_maps_each(find_mapping_line, &st);
}

/* ---- the thread's own stack ---------------------------------------------- */

extern void *__libc_stack_end; /* ld.so's: inside the initial thread's stack */
static pthread_t initial_thread; /* pthread_self() at start-up, on the initial thread */

void guard_clock_init(void)
{
    initial_thread = pthread_self();
}

/* The kernel's stack_guard_gap: a growing stack stops this far above an
 * accessible mapping below it (256 pages unless the boot line says else). */
#define STACK_GUARD_GAP_PAGES 256

/* The initial thread's stack grows on demand: from the top of its mapping
 * down to RLIMIT_STACK (the kernel counts the limit from the mapping's
 * top), and never into the guard gap above the mapping below it.  With
 * RLIMIT_STACK unlimited that is the mapping below plus the gap. */
static int main_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
    struct mapping m;
    if (!find_mapping((uintptr_t)__libc_stack_end, &m))
        return 0;
    uintptr_t gap = m.below_accessible ? (uintptr_t)STACK_GUARD_GAP_PAGES * (uintptr_t)getpagesize() : 0;
    uintptr_t floor = m.below_hi + gap < m.hi ? m.below_hi + gap : m.lo;
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < m.hi &&
        m.hi - rl.rlim_cur > floor)
        floor = m.hi - rl.rlim_cur;
    *lo = floor < m.lo ? floor : m.lo; /* what is mapped now is the stack's in any case */
    *hi = m.hi;
    return 1;
}

/* glibc's restorer (__restore_rt): the return address of every signal
 * frame of a handler installed through libc.  0 while no handler is
 * installed, when no handler can be running either. */
static uintptr_t signal_restorer(void)
{
    static uintptr_t restorer;
    for (int sig = 1; !restorer && sig < NSIG; sig++) {
        struct sigaction sa;
        if (sig != SIGKILL && sig != SIGSTOP && guard_fault_real_sigaction(sig, NULL, &sa) == 0 &&
            sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
            restorer = (uintptr_t)sa.sa_restorer;
    }
    return restorer;
}

/* Is a signal handler running on [sp, top)?  The kernel's frame for it
 * lies above the handler's stack pointer: the restorer, then the
 * ucontext's uc_flags (at most UC_FP_XSTATE | UC_SIGCONTEXT_SS |
 * UC_STRICT_RESTORE_SS), uc_link (NULL) and uc_stack (the thread's
 * sigaltstack as it was: alt, or disabled).  Memory that cannot be read
 * answers yes: the caller then does not risk what a handler must not. */
static int in_signal_handler(uintptr_t sp, uintptr_t top, const stack_t *alt)
{
    uintptr_t restorer = signal_restorer();
    if (!restorer)
        return 0;
    uintptr_t page = (uintptr_t)getpagesize();
    for (uintptr_t p = sp & ~(page - 1); p < top; p += page)
        if (!guard_sys_readable8((const void *)(p < sp ? sp & ~(uintptr_t)7 : p)))
            return 1;
    uint64_t alt_sp = alt ? (uintptr_t)alt->ss_sp : 0, alt_size = alt ? alt->ss_size : 0;
    for (uintptr_t a = (sp + 7) & ~(uintptr_t)7; a + 6 * 8 <= top; a += 8) {
        const uint64_t *w = (const uint64_t *)a;
        if (w[0] == restorer && w[1] <= 7 && w[2] == 0 && w[3] == alt_sp && w[5] == alt_size &&
            (alt || (uint32_t)w[4] == SS_DISABLE))
            return 1;
    }
    return 0;
}

/* A thread glibc made: glibc's bounds of its stack (its own allocation, or
 * the block the program gave with pthread_attr_setstack).  Asked only
 * where pthread_getattr_np is safe: it allocates memory and takes the
 * thread's lock, which no signal handler may do.  So only while the
 * thread runs on its own stack, below its descriptor (glibc puts the
 * descriptor at the top of every stack it starts a thread on) and no
 * signal frame lies between the two; else 0, and a later call asks. */
#define MAX_OWN_SCAN (8u << 20)
static int thread_stack_bounds(uintptr_t sp, uintptr_t *lo, uintptr_t *hi)
{
    stack_t ss;
    if (guard_sys_call6(SYS_sigaltstack, 0, (long)&ss, 0, 0, 0, 0) != 0)
        return 0;
    int has_alt = !(ss.ss_flags & SS_DISABLE);
    if (has_alt && sp >= (uintptr_t)ss.ss_sp && sp - (uintptr_t)ss.ss_sp < ss.ss_size)
        return 0; /* a handler runs on the sigaltstack */
    uintptr_t self = (uintptr_t)pthread_self();
    if (sp >= self || self - sp > MAX_OWN_SCAN || in_signal_handler(sp, self, has_alt ? &ss : NULL))
        return 0;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return 0;
    void *addr = NULL;
    size_t size = 0;
    int ok = pthread_attr_getstack(&attr, &addr, &size) == 0 && size;
    pthread_attr_destroy(&attr);
    if (!ok)
        return 0;
    *lo = (uintptr_t)addr;
    *hi = *lo + size;
    return 1;
}

/* Find and keep this thread's own stack, or count a call that could not. */
#define MAX_OWN_TRIES 64
static void find_own_stack(uintptr_t sp)
{
    uintptr_t lo, hi;
    int kind = 0;
    if (pthread_equal(pthread_self(), initial_thread))
        kind = main_stack_bounds(&lo, &hi) ? STACK_MAIN : 0;
    else
        kind = thread_stack_bounds(sp, &lo, &hi) ? STACK_THREAD : 0;
    if (!kind) {
        tls_own_tries++;
        return;
    }
    tls_stack_lo = lo;
    tls_stack_kind = kind;
    tls_stack_hi = hi;
}

/* A stack that is not the thread's own. */
static int classify_stack(uintptr_t sp, uintptr_t *lo, uintptr_t *hi)
{
    if (find_coroutine_stack(sp, lo, hi))
        return STACK_COROUTINE;
    stack_t ss;
    /* (not SS_ONSTACK: that flag describes the stack we run on now, which
     * is the slow path's own) */
    if (guard_sys_call6(SYS_sigaltstack, 0, (long)&ss, 0, 0, 0, 0) == 0 && !(ss.ss_flags & SS_DISABLE) &&
        sp >= (uintptr_t)ss.ss_sp && sp < (uintptr_t)ss.ss_sp + ss.ss_size) {
        *lo = (uintptr_t)ss.ss_sp;
        *hi = *lo + ss.ss_size;
        return STACK_SIGALT;
    }
    struct mapping m;
    if (!find_mapping(sp, &m))
        return 0;
    *lo = m.lo;
    *hi = m.hi;
    return STACK_MAPPING;
}

/* One report per call site: the stack id says where. */
static uint32_t reported_sites[128];
static _Atomic unsigned nreported_sites;

/* The slow path runs on a stack of its own: the caller's may be a 2 KiB
 * coroutine stack with a few hundred bytes left, far too little for
 * reading /proc/self/maps, unwinding and reporting.  One slow path at a
 * time (a lock; a second one meanwhile skips its check). */
#define SLOW_STACK_SIZE (128 * 1024)
GUARD_LARGE static ucontext_t slow_caller_ctx, slow_ctx;
static struct guard_lock slow_lock;
static char *slow_stack;
static const char *slow_call;
static uintptr_t slow_sp;

static void low_stack_slow(const char *call, uintptr_t sp);

static void slow_entry(void)
{
    guard_vdso_measure_once();
    low_stack_slow(slow_call, slow_sp);
}

static void run_on_slow_stack(const char *call, uintptr_t sp)
{
    if (!guard_lock_acquire(&slow_lock))
        return;
    /* From our arena, not a mapping of its own: every mapping with pages
     * in it is one more for each fork to copy. */
    if (!slow_stack)
        slow_stack = guard_alloc(SLOW_STACK_SIZE);
    if (slow_stack && getcontext(&slow_ctx) == 0) {
        slow_ctx.uc_stack.ss_sp = slow_stack;
        slow_ctx.uc_stack.ss_size = SLOW_STACK_SIZE;
        slow_ctx.uc_link = &slow_caller_ctx;
        GUARD_REAL(makecontext)(&slow_ctx, slow_entry, 0);
        slow_call = call;
        slow_sp = sp;
        swapcontext(&slow_caller_ctx, &slow_ctx);
    }
    guard_lock_release(&slow_lock);
}

static void low_stack_slow(const char *call, uintptr_t sp)
{
    uintptr_t lo = 0, hi = 0;
    int kind;
    if (!tls_stack_hi && tls_own_tries < MAX_OWN_TRIES)
        find_own_stack(sp);
    if (sp < tls_stack_hi && sp >= tls_stack_lo) {
        kind = tls_stack_kind, lo = tls_stack_lo, hi = tls_stack_hi;
    } else if (sp < tls_other_hi && sp >= tls_other_lo && tls_other_kind != STACK_SIGALT) {
        kind = tls_other_kind, lo = tls_other_lo, hi = tls_other_hi;
    } else {
        kind = classify_stack(sp, &lo, &hi);
        if (kind == STACK_COROUTINE || kind == STACK_MAPPING)
            tls_other_lo = lo, tls_other_hi = hi, tls_other_kind = kind;
    }
    if (!kind || sp - lo >= headroom_threshold)
        return;
    uint32_t stack = guard_stack_capture_context(&slow_caller_ctx);
    unsigned n = atomic_load(&nreported_sites);
    for (unsigned i = 0; i < n && i < 128; i++)
        if (reported_sites[i] == stack)
            return;
    unsigned slot = atomic_fetch_add(&nreported_sites, 1);
    if (slot < 128)
        reported_sites[slot] = stack;
    struct guard_finding f;
    guard_finding_init(&f, GUARD_FK_VDSO_LOW_STACK, guard_gettid());
    f.call = call;
    f.addr = sp;
    f.obj = (const void *)lo;
    f.size = hi - lo;
    f.offset = (long)(sp - lo);
    f.bytes = (unsigned)headroom_threshold;
    guard_fmt(f.summary, sizeof f.summary,
              "%s() called with %lu bytes of stack left on a %s of %lu bytes; a stack-probing "
              "vDSO needs %lu (it touches memory that far below the stack pointer)",
              call, (unsigned long)(sp - lo), stack_kind_names[kind], (unsigned long)(hi - lo),
              headroom_threshold);
    f.stacks[0] = (struct guard_finding_stack_ref){GUARD_ROLE_CALL, stack, (uint32_t)f.tid};
    f.nstacks = stack ? 1 : 0;
    guard_report_finding(&f);
}

static void check_headroom(const char *call, uintptr_t sp)
{
    /* a coroutine or custom stack this thread keeps using, with room
     * (once its own stack is known, or will not be: until then the slow
     * path tries to find it) */
    if (sp < tls_other_hi && sp >= tls_other_lo + headroom_threshold &&
        (tls_stack_hi || tls_own_tries >= MAX_OWN_TRIES))
        return;
    struct guard_hook h;
    if (guard_hook_begin(&h)) {
        run_on_slow_stack(call, sp);
        guard_hook_end(&h);
    }
}

/* The stack pointer of the hook's caller, near enough: our own frame. */
#define CALLER_SP() ((uintptr_t)__builtin_frame_address(0))

GUARD_EXPORT int clock_gettime(clockid_t clk, struct timespec *ts)
{
    uintptr_t sp = CALLER_SP();
    if (__builtin_expect(!headroom_ok(sp), 0))
        check_headroom("clock_gettime", sp);
    return GUARD_REAL(clock_gettime)(clk, ts);
}

GUARD_EXPORT int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    uintptr_t sp = CALLER_SP();
    if (__builtin_expect(!headroom_ok(sp), 0))
        check_headroom("gettimeofday", sp);
    return GUARD_REAL(gettimeofday)(tv, tz);
}

GUARD_EXPORT time_t time(time_t *out)
{
    uintptr_t sp = CALLER_SP();
    if (__builtin_expect(!headroom_ok(sp), 0))
        check_headroom("time", sp);
    return GUARD_REAL(time)(out);
}

GUARD_EXPORT int clock_getres(clockid_t clk, struct timespec *res)
{
    uintptr_t sp = CALLER_SP();
    if (__builtin_expect(!headroom_ok(sp), 0))
        check_headroom("clock_getres", sp);
    return GUARD_REAL(clock_getres)(clk, res);
}

/* The shim's own clock reads skip the check. */
int guard_clock_real_gettime(clockid_t clk, struct timespec *ts)
{
    return GUARD_REAL(clock_gettime)(clk, ts);
}
