/*
 * fork/site.c — the fork's stack, kept per call site.
 *
 * Fast path only.  A program that starts many children (a shell, make, a
 * test runner) forks from a handful of places, and a walk of the fork's
 * stack with libgcc's unwinder (walk.c) runs cold after every exec of the
 * previous child: its unwind tables, in three or four modules, are out of
 * the caches.  So the frames of the last few fork sites are kept, and a fork from the same call at the same stack pointer
 * takes them again when every frame is provably still the same: the
 * return address of each frame above the first is still in the stack slot
 * where the walk found it.  (Frame i's return address sits just below
 * frame i-1's stack pointer at its call; while those words are unchanged,
 * so is the chain of callers the unwinder would follow.)
 *
 * Those reads must not fault.  They are made only on the main thread's
 * stack, which is one mapping from the stack pointer up to
 * __libc_stack_end: no other mapping is placed within 128 MiB below it (the
 * kernel keeps mmap_base at least that far down), so a stack pointer in
 * the 64 MiB below __libc_stack_end is on that stack, and so is every
 * address between it and __libc_stack_end.  Other threads (and coroutine
 * or signal stacks) walk every time.
 *
 * The kept frames are in parent-only memory (guard_alloc_parent_only): a
 * fork child finds none, which is right, since the stack ids they name are
 * its parent's, not its own log's.  Without a kernel that wipes that
 * memory in the child (before 4.14) nothing is kept.  Only the thread on
 * the main stack, inside the shim, reads or writes them; a signal handler's
 * fork meanwhile goes through fork_common's nested path, which walks.
 *
 * One case is not told apart: a walk that ended because a caller's frame
 * had no unwind information gives the same truncated stack again even if
 * the caller above the last frame has changed since.
 */
#define _GNU_SOURCE
#include <stdint.h>

#include "fork_internal.h"

extern void *__libc_stack_end; /* ld.so's: the main thread's stack pointer at start */

#define SITES 4
#define SITE_FRAMES (GUARD_FORK_SLOTS + 2) /* the frames whose stack pointers a walk gives */
#define MAIN_STACK_SPAN (64u << 20)

struct kept_site {
    uint64_t cfa;              /* frame 0's stack pointer at its fork call; 0: empty */
    uint64_t pcs[SITE_FRAMES]; /* lookup addresses, as the walk gave them */
    uint64_t sps[SITE_FRAMES];
    unsigned n;
    uint32_t stack;
};

struct kept_sites {
    struct kept_site site[SITES];
    unsigned next; /* the entry to replace */
};

static struct kept_sites *kept; /* in parent-only memory, made at the first fork */

/* Is [lo, hi) on the main thread's stack, above the stack pointer?  (Not
 * inlined: "above" is above this function's own frame, so any local of
 * the caller qualifies.) */
GUARD_FORK_PATH __attribute__((noinline)) int guard_fork_on_main_stack(uintptr_t lo, uintptr_t hi)
{
    uintptr_t top = (uintptr_t)__libc_stack_end;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    return top && sp < lo && lo <= hi && hi <= top && top - sp < MAIN_STACK_SPAN;
}

/* Are the frames of a kept site (or of a fresh walk) still on the stack:
 * each frame's return address in the slot below its callee's stack
 * pointer?  Frame 0's is the fork call's own, checked by the caller.  The
 * stack pointers must rise frame by frame, so that every read is between
 * the first and the last: here on_main_stack has checked those; for a
 * fresh walk (fork/hooks.c) the unwinder has just read the same words. */
int guard_fork_frames_in_place(const uint64_t *pcs, const uint64_t *sps, unsigned n)
{
    for (unsigned i = 1; i < n; i++)
        if (sps[i] <= sps[i - 1] || *(const volatile uint64_t *)(uintptr_t)(sps[i] - 8) != pcs[i] + 1)
            return 0;
    return 1;
}

static struct kept_site *find(uint64_t ra, uint64_t cfa)
{
    if (!kept)
        return NULL;
    for (unsigned k = 0; k < SITES; k++) {
        struct kept_site *s = &kept->site[k];
        if (s->cfa == cfa && s->n && s->pcs[0] + 1 == ra)
            return s;
    }
    return NULL;
}

static void keep(const uint64_t *pcs, const uint64_t *sps, unsigned n, uint32_t stack)
{
    if (!kept) {
        kept = guard_alloc_parent_only(sizeof *kept);
        if (!kept)
            return;
    }
    struct kept_site *s = &kept->site[kept->next];
    kept->next = (kept->next + 1) % SITES;
    s->cfa = 0; /* never a match while half written */
    for (unsigned i = 0; i < n; i++) {
        s->pcs[i] = pcs[i];
        s->sps[i] = sps[i];
    }
    s->n = n;
    s->stack = stack;
    s->cfa = sps[0];
}

unsigned guard_fork_site_stack(uint64_t ra, uint64_t cfa, uint64_t *pcs, unsigned max,
                               uint64_t *sps, unsigned sps_max, uint32_t *stack)
{
    /* (the table is not even read from another stack: only the thread on
     * the main stack touches it) */
    int keepable = sps_max >= SITE_FRAMES && max <= SITE_FRAMES && guard_fork_on_main_stack(cfa, cfa) &&
                   guard_alloc_parent_only_wiped();
    if (keepable) {
        struct kept_site *s = find(ra, cfa);
        if (s && s->n <= max && guard_fork_on_main_stack(s->sps[0], s->sps[s->n - 1]) &&
            guard_fork_frames_in_place(s->pcs, s->sps, s->n)) {
            for (unsigned i = 0; i < s->n; i++) {
                pcs[i] = s->pcs[i];
                sps[i] = s->sps[i];
            }
            *stack = s->stack;
            return s->n;
        }
    }
    unsigned n = guard_fork_walk_raw(pcs, max, sps, sps_max, NULL);
    *stack = n ? guard_stack_intern(pcs, n) : guard_fork_walk_capture();
    /* kept only if the walk started where the fork was called (no frame
     * of ours left on top) and every frame can be checked next time */
    if (keepable && *stack && n >= 1 && n <= SITE_FRAMES && pcs[0] + 1 == ra && sps[0] == cfa &&
        guard_fork_on_main_stack(sps[0], sps[n - 1]) && guard_fork_frames_in_place(pcs, sps, n))
        keep(pcs, sps, n, *stack);
    return n;
}
