/*
 * fork/walk.c — the stacks of the spawn family (fork, vfork, posix_spawn,
 * system, popen, clone, exec, the fork-unsafe checks), taken with libgcc's
 * unwinder instead of libunwind.
 *
 * Why a second unwinder: these stacks are taken once per child, and a
 * process that only starts children (a shell, make, a test runner) should
 * not pay for more than it needs.  libunwind's cached unw_backtrace needs
 * a 256 KiB trace cache per thread, which every fork then copies the page
 * tables of; its cursor walk takes a cache lock around every step (two
 * rt_sigprocmask calls each).  libgcc's _Unwind_Backtrace finds each
 * frame's unwind information through glibc's _dl_find_object, without a
 * lock or a system call.  The pool API, NSS and the other frequent calls
 * use libunwind's cached capture on the threads that hold one of its
 * places (stack.c), and libunwind still unwinds from signal contexts
 * (crashes, faults).
 *
 * The unwinder is linked into the shim from gcc's libgcc_eh.a (its
 * symbols kept local by the export list), not loaded from libgcc_s.so.1:
 * a library loaded into the process is five more mappings that every fork
 * copies and every exec tears down, where 30 KiB more of our own code
 * costs a fork nothing.  Our copy has its own registry of frames (empty: nothing
 * registers with it), so it never contends with the program's exceptions.
 *
 * A walk also gives each frame's stack pointer, which the exec board needs
 * to recognise the fork's frames in a forked child (fork/board.c), and it
 * can stop there.
 */
#define _GNU_SOURCE
#include <unwind.h>

#include "fork_internal.h"

struct walk {
    uint64_t *pcs, *sps;
    unsigned n, max, sps_max;
    const struct guard_fork_site *until;
    int in_shim, joined;
};

GUARD_FORK_PATH static _Unwind_Reason_Code walk_frame(struct _Unwind_Context *ctx, void *arg)
{
    struct walk *w = arg;
    int exact = 0; /* the frame was interrupted (a signal), not calling */
    uintptr_t ip = (uintptr_t)_Unwind_GetIPInfo(ctx, &exact);
    /* In _Unwind_Backtrace's callback the context's CFA is that of the
     * frame this one called: this frame's stack pointer at its call. */
    uintptr_t sp = (uintptr_t)_Unwind_GetCFA(ctx);
    if (ip == 0)
        return _URC_END_OF_STACK;
    uintptr_t pc = exact ? ip : ip - 1; /* a return address: the call instruction */
    if (w->in_shim && guard_stack_in_shim(pc))
        return _URC_NO_REASON;
    w->in_shim = 0;
    if (w->sps && w->n < w->sps_max)
        w->sps[w->n] = exact ? 0 : sp; /* an interrupted frame's sp is no call's */
    w->pcs[w->n++] = pc;
    /* the fork's frame 1, reached by unwinding, with everything above it as
     * it was: the rest is the fork's stack, which the parent has */
    if (w->until && !exact && sp == w->until->join_sp && pc == w->until->join_pc &&
        guard_fork_site_intact(w->until)) {
        w->joined = 1;
        return _URC_END_OF_STACK;
    }
    return w->n < w->max ? _URC_NO_REASON : _URC_END_OF_STACK;
}

/* The caller's frames without the shim's own into pcs (lookup addresses),
 * and into sps (if not NULL) each frame's stack pointer at its call, the
 * address just above the return address it pushed.  With `until`, stops
 * after the frame that called fork if it is on the stack, and then sets
 * GUARD_WALK_JOINED in the result. */
GUARD_FORK_PATH __attribute__((noinline)) unsigned guard_fork_walk_raw(uint64_t *pcs, unsigned max, uint64_t *sps,
                                                        unsigned sps_max,
                                                        const struct guard_fork_site *until)
{
    if (max > guard_opt.max_frames)
        max = guard_opt.max_frames;
    struct walk w = {pcs, sps, 0, max, sps_max, until, 1, 0};
    if (max > 0)
        _Unwind_Backtrace(walk_frame, &w);
    return w.n | (w.joined ? GUARD_WALK_JOINED : 0);
}

unsigned guard_fork_walk_pcs(uint64_t *pcs, unsigned max)
{
    return guard_fork_walk_raw(pcs, max, NULL, 0, NULL);
}

__attribute__((noinline)) uint32_t guard_fork_walk_capture(void)
{
    uint64_t pcs[GUARD_MAX_FRAMES];
    unsigned n = guard_fork_walk_raw(pcs, GUARD_MAX_FRAMES, NULL, 0, NULL);
    return guard_stack_intern(pcs, n);
}
