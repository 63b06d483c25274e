/*
 * clock.c — the time calls (clock_gettime, gettimeofday, time,
 * clock_getres) and vdso-low-stack: a vDSO built with stack probing touches
 * memory about 4 KiB below the stack pointer, which corrupts whatever lies
 * there when the call runs on a small stack (Go's 104-byte system stack, a
 * coroutine, a 4 KiB sigaltstack).
 *
 * The fast path must cost next to nothing (these are the most frequent
 * calls in many programs): compare the stack pointer with the calling
 * thread's cached stack bounds and call the real function.  Only when the
 * pointer is outside the cached stack, or too close to its end, does the
 * slow path find out which stack it is on (a registered coroutine stack, the
 * sigaltstack, or the mapping around it) and measure the headroom.
 *
 * The threshold is vdso_min_headroom, raised to what this host's vDSO
 * really uses, measured once at start-up (vdso_measure.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

/* This thread's own stack, found on its first time call, and the last
 * other stack it was seen on (a coroutine or custom stack it keeps using). */
static __thread uintptr_t tls_stack_lo, tls_stack_hi;
static __thread int tls_stack_kind;
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

/* The mapping around sp, from /proc/self/maps read with plain system calls
 * (no stdio: we may be in a signal handler).  For the main thread's
 * [stack], the lower end is where RLIMIT_STACK lets it grow. */
static int find_mapping(uintptr_t sp, uintptr_t *lo, uintptr_t *hi, int *is_main_stack)
{
    int fd = guard_sys_open("/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    char buf[4096];
    size_t have = 0;
    int found = 0;
    for (;;) {
        long n = guard_sys_read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = '\0';
            uintptr_t a = 0, b = 0;
            char *p = line;
            while (*p && *p != '-')
                a = a * 16 + (uintptr_t)(*p <= '9' ? *p - '0' : (*p | 32) - 'a' + 10), p++;
            if (*p == '-')
                p++;
            while (*p && *p != ' ')
                b = b * 16 + (uintptr_t)(*p <= '9' ? *p - '0' : (*p | 32) - 'a' + 10), p++;
            if (sp >= a && sp < b) {
                *lo = a;
                *hi = b;
                *is_main_stack = strstr(p, "[stack]") != NULL;
                found = 1;
                break;
            }
            line = nl + 1;
        }
        if (found)
            break;
        have = strlen(line);
        memmove(buf, line, have);
    }
    guard_sys_close(fd);
    if (found && *is_main_stack) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            rl.rlim_cur < *hi)
            *lo = *hi - rl.rlim_cur;
    }
    return found;
}

static int classify_stack(uintptr_t sp, uintptr_t *lo, uintptr_t *hi)
{
    if (find_coroutine_stack(sp, lo, hi))
        return STACK_COROUTINE;
    stack_t ss;
    /* (not SS_ONSTACK: that flag describes the stack we run on now, which
     * is the slow path's own) */
    if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE) &&
        sp >= (uintptr_t)ss.ss_sp && sp < (uintptr_t)ss.ss_sp + ss.ss_size) {
        *lo = (uintptr_t)ss.ss_sp;
        *hi = *lo + ss.ss_size;
        return STACK_SIGALT;
    }
    int is_main = 0;
    if (!find_mapping(sp, lo, hi, &is_main))
        return 0;
    if (!tls_stack_hi) { /* the first stack a thread is seen on is its own */
        tls_stack_lo = *lo;
        tls_stack_hi = *hi;
        tls_stack_kind = is_main ? STACK_MAIN : STACK_THREAD;
        return tls_stack_kind;
    }
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
    memset(&f, 0, sizeof f);
    f.kind = GUARD_FK_VDSO_LOW_STACK;
    f.tid = guard_gettid();
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
    /* a coroutine or custom stack this thread keeps using, with room */
    if (sp < tls_other_hi && sp >= tls_other_lo + headroom_threshold)
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
