/*
 * vdso_measure.c — how deep below its caller's stack pointer does this
 * host's vDSO touch memory?  Measured, not guessed: the time calls are run
 * once on a fresh, never-touched stack, and mincore() then shows which of
 * its pages the calls made resident.  A stack probe (`or $0,(%rsp)` 4 KiB
 * down) writes nothing, so a canary could not see it; a page fault it
 * cannot hide.
 *
 * The answer has page resolution (it is an upper bound: the distance from
 * the caller's frame to the start of the lowest page touched).  The shim
 * raises its threshold to it only when it is clearly deeper than the
 * configured vdso_min_headroom; `guard-analyze inspect --host`
 * disassembles the vDSO for the exact figure.  Cost: one mmap, one
 * swapcontext and one mincore, about 30 us, once per process, at its first
 * time call.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "guard_internal.h"
#include "hook.h"

#define PROBE_STACK (64 * 1024)

GUARD_LARGE static ucontext_t caller_ctx, probe_ctx;
static volatile uintptr_t probe_frame;

static void call_gettimeofday(void)
{
    struct timeval tv;
    GUARD_REAL(gettimeofday)(&tv, NULL);
}

static void call_time(void)
{
    GUARD_REAL(time)(NULL);
}

static void call_clock_getres(void)
{
    struct timespec ts;
    GUARD_REAL(clock_getres)(CLOCK_MONOTONIC, &ts);
}

/* Runs on the fresh stack.  Each call is made from this frame's depth, as
 * a hook's call would be from the hook's frame. */
static void probe_time_calls(void)
{
    struct timespec ts;
    probe_frame = (uintptr_t)__builtin_frame_address(0);
    guard_clock_real_gettime(CLOCK_MONOTONIC, &ts);
    guard_clock_real_gettime(CLOCK_REALTIME, &ts);
    call_gettimeofday();
    call_time();
    call_clock_getres();
}

unsigned long guard_vdso_measure(void)
{
    long page = sysconf(_SC_PAGESIZE);
    char *stack = mmap(NULL, PROBE_STACK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (stack == MAP_FAILED)
        return 0;
    unsigned long depth = 0;
    if (getcontext(&probe_ctx) == 0) {
        probe_ctx.uc_stack.ss_sp = stack;
        probe_ctx.uc_stack.ss_size = PROBE_STACK;
        probe_ctx.uc_link = &caller_ctx;
        GUARD_REAL(makecontext)(&probe_ctx, probe_time_calls, 0);
        if (swapcontext(&caller_ctx, &probe_ctx) == 0) {
            unsigned char resident[PROBE_STACK / 4096];
            size_t npages = PROBE_STACK / (size_t)page;
            if (npages <= sizeof resident && mincore(stack, PROBE_STACK, resident) == 0) {
                for (size_t i = 0; i < npages; i++)
                    if (resident[i] & 1) {
                        uintptr_t lowest = (uintptr_t)stack + i * (size_t)page;
                        if (probe_frame > lowest)
                            depth = probe_frame - lowest;
                        break;
                    }
            }
        }
    }
    munmap(stack, PROBE_STACK);
    return depth;
}

/* At start-up the threshold is the option's; the measurement is made the
 * first time a time call takes the slow path (a thread's first time call,
 * or a small stack), so that a process that never asks for the time —
 * most short-lived children — does not pay for it. */
void guard_vdso_measure_init(void)
{
    guard_clock_set_threshold(guard_opt.vdso_min_headroom);
    guard_clock_init();
}

/* Called from the time calls' slow path (on its own stack, one at a time). */
void guard_vdso_measure_once(void)
{
    static int measured;
    if (measured)
        return;
    measured = 1;
    unsigned long threshold = guard_opt.vdso_min_headroom;
    unsigned long depth = guard_opt.vdso_measure ? guard_vdso_measure() : 0;
    long page = sysconf(_SC_PAGESIZE);
    /* page resolution: raise only when clearly deeper than the option */
    if (depth > threshold + (unsigned long)page)
        threshold = depth;
    guard_clock_set_threshold(threshold);
    struct guard_rec_host *h = guard_log_reserve(GUARD_REC_HOST, sizeof *h);
    if (!h)
        return;
    h->vdso_base = getauxval(AT_SYSINFO_EHDR);
    h->vdso_depth = (uint32_t)depth;
    h->vdso_threshold = (uint32_t)threshold;
    h->vdso_min_headroom = guard_opt.vdso_min_headroom;
    h->page_size = (uint32_t)page;
    guard_log_commit(h, GUARD_REC_HOST, sizeof *h);
}
