/*
 * hook.h — how a hook finds the function it wraps, and the reentrancy guard.
 *
 * Hooks can be called before our constructor (another library's constructor
 * may call them first), from signal handlers and from inside the shim itself
 * (libunwind or dladdr may call read/open).  So:
 *   - the real function is resolved lazily with dlsym(RTLD_NEXT) on first
 *     use and cached in a relaxed atomic pointer;
 *   - a per-thread depth counter (guard_hot: no allocation, no loader
 *     lock) lets a hook entered from inside the shim pass straight through
 *     to the real function.
 */
#ifndef GUARD_HOOK_H
#define GUARD_HOOK_H

#include <dlfcn.h>
#include <stdatomic.h>

#define GUARD_EXPORT __attribute__((visibility("default")))

/* A thread's depth in the shim, and where it is kept: the main thread's
 * in parent-only memory (guard_alloc_parent_only), which a fork does not
 * make copy-on-write for the parent, so that a program forking in a loop
 * does not write its TLS page after every fork (one page fault and copy
 * per spawn); a fork child finds it zeroed, as it should (a fork hook
 * leaves the shim before the real fork; see nested_fork for the other
 * case).  Other threads keep theirs in TLS (guard_tls_hot_own). */
struct guard_thread_hot {
    int depth;
};
extern __thread struct guard_thread_hot *guard_tls_hot;
extern __thread struct guard_thread_hot guard_tls_hot_own;

static inline struct guard_thread_hot *guard_hot(void)
{
    struct guard_thread_hot *hot = guard_tls_hot;
    return __builtin_expect(hot != NULL, 1) ? hot : &guard_tls_hot_own;
}

/* Declare and resolve the real function NAME of type TYPE into a local
 * variable `real`.  dlsym may allocate (dlerror state) but never calls back
 * into the hooks we have. */
#define GUARD_REAL(type, name)                                                   \
    static _Atomic(type) real_##name##_cache;                                    \
    __typeof__(type) real = atomic_load_explicit(&real_##name##_cache, memory_order_relaxed); \
    if (__builtin_expect(real == NULL, 0)) {                                     \
        real = (__typeof__(type))dlsym(RTLD_NEXT, #name);                                    \
        atomic_store_explicit(&real_##name##_cache, real, memory_order_relaxed); \
    }

/* Enter/leave the shim.  guard_enter() returns 0 when the hook must pass
 * through: the shim is inert (AT_SECURE, init failed) or already active on
 * this thread. */
int guard_enter(void);
static inline void guard_leave(void) { guard_hot()->depth--; }

/* Where the thread's depth is kept changes once, on a way into the shim at
 * depth 0 (guard_enter).  A signal handler's hook can make that change
 * between our read of the place and our increment: then the increment
 * moves to the new place (no change can come after it: depth is not 0). */
static inline void guard_depth_settle(struct guard_thread_hot *incremented)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    struct guard_thread_hot *now = guard_hot();
    if (__builtin_expect(now != incremented, 0)) {
        incremented->depth--;
        now->depth++;
    }
}

/* Into the shim whatever the depth (the fault and crash handlers, start-up
 * and exit), for a guard_leave() after. */
static inline void guard_enter_anyway(void)
{
    struct guard_thread_hot *hot = guard_hot();
    hot->depth++;
    guard_depth_settle(hot);
}

#endif /* GUARD_HOOK_H */
