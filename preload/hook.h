/*
 * hook.h — the one way a hook is written.
 *
 * Hooks run before our constructor (another library's constructor may call
 * them), in signal handlers, and while the shim itself is working on the
 * same thread.  Every hook therefore has the same shape:
 *
 *     GUARD_EXPORT int unshare(int flags)
 *     {
 *         struct guard_hook h;
 *         if (guard_hook_begin(&h)) {     // our work before the call
 *             ...;
 *             guard_hook_end(&h);
 *         }
 *         int rc = GUARD_REAL(unshare)(flags);
 *         if (guard_hook_begin(&h)) {     // and after it
 *             ...;
 *             guard_hook_end(&h);
 *         }
 *         return rc;
 *     }
 *
 * guard_hook_begin enters the shim and saves errno; it returns 0, and the
 * hook does none of its own work, when the shim is inert (AT_SECURE, not
 * initialised on this thread yet) or this thread is already inside it.
 * guard_hook_end leaves the shim and puts errno back as it was at begin,
 * so the real call always sees the program's errno and the program always
 * sees the real call's.  The real function is GUARD_REAL(name), resolved
 * once with dlsym(RTLD_NEXT) into the table of real functions (hook.c),
 * with the type hook_list.h gives it.
 *
 * The fault and crash handlers and the end of the process enter whatever
 * the depth, with the other pair, guard_handler_begin/guard_handler_end:
 * a fault may come while the thread is inside the shim, and the end of the
 * log must be written however the process ends.
 */
#ifndef GUARD_HOOK_H
#define GUARD_HOOK_H

#include <aliases.h>
#include <errno.h>
#include <grp.h>
#include <gshadow.h>
#include <netdb.h>
#include <netinet/ether.h>
#include <pthread.h>
#include <pwd.h>
#include <shadow.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <wordexp.h>

#define GUARD_EXPORT __attribute__((visibility("default")))

/* The type of each real function (guard_real_NAME_fn) and its index in
 * the table of real functions (GUARD_HOOK_ID_NAME). */
#define GUARD_API(name)
#define GUARD_HOOK(name, ret, params) typedef ret(*guard_real_##name##_fn) params;
#include "hook_list.h"
#undef GUARD_HOOK
#define GUARD_HOOK(name, ret, params) GUARD_HOOK_ID_##name,
enum guard_hook_id {
#include "hook_list.h"
    GUARD_HOOK_COUNT
};
#undef GUARD_HOOK
#undef GUARD_API

extern _Atomic(void *) guard_hook_real_table[GUARD_HOOK_COUNT];
/* The next definition of the hook's name after ours (NULL if none). */
void *guard_hook_resolve(enum guard_hook_id id);

static inline void *guard_hook_real(enum guard_hook_id id)
{
    void *fn = atomic_load_explicit(&guard_hook_real_table[id], memory_order_relaxed);
    return __builtin_expect(fn != NULL, 1) ? fn : guard_hook_resolve(id);
}

/* The real function a hook wraps, typed. */
#define GUARD_REAL(name) ((guard_real_##name##_fn)guard_hook_real(GUARD_HOOK_ID_##name))

/* ---- the depth of a thread in the shim ----------------------------------- */

/* Where a thread's depth is kept: in TLS (guard_tls_hot_own), except the
 * main thread's once it forks with the fast fork path, which is in
 * parent-only memory (fork/fork.h: guard_fork_depth_moves). */
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

/* Enter the shim: 0 when the caller must pass through (inert, or this
 * thread is already inside).  Initialises the shim at the first call. */
int guard_enter(void);
void guard_log_missed_call(void); /* log.c */
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

/* Into the shim whatever the depth, for a guard_leave() after. */
static inline void guard_enter_anyway(void)
{
    struct guard_thread_hot *hot = guard_hot();
    hot->depth++;
    guard_depth_settle(hot);
}

/* errno = value, but no store when it already holds it: on the fork path
 * errno's TLS page is copy-on-write after each fork, and a store of the
 * value it holds would be a page fault for nothing. */
static inline void guard_errno_restore(int value)
{
    if (errno != value)
        errno = value;
}

/* ---- the hook idiom --------------------------------------------------- */

struct guard_hook {
    int saved_errno;
};

static inline int guard_hook_begin(struct guard_hook *h)
{
    h->saved_errno = errno;
    return guard_enter();
}

/* The same, for hooks whose every call the log accounts for (spawns,
 * reaps, kills): a call that must pass through because this thread is
 * already inside the shim can only be a signal handler's that interrupted
 * a hook (the shim never calls its own hooks), or a vfork child's.  The
 * handler's call goes unrecorded, and is counted in the END record's
 * dropped events, so that the log does not claim to be whole. */
static inline int guard_hook_begin_counted(struct guard_hook *h)
{
    if (guard_hook_begin(h))
        return 1;
    guard_log_missed_call();
    return 0;
}

static inline void guard_hook_end(struct guard_hook *h)
{
    guard_leave();
    guard_errno_restore(h->saved_errno);
}

static inline void guard_handler_begin(struct guard_hook *h)
{
    h->saved_errno = errno;
    guard_enter_anyway();
}

static inline void guard_handler_end(struct guard_hook *h)
{
    guard_leave();
    guard_errno_restore(h->saved_errno);
}

#endif /* GUARD_HOOK_H */
