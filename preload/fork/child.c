/*
 * fork/child.c — a forked child's set-up (the atfork handler), and where
 * each thread keeps its depth in the shim.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "fork_internal.h"
#include "hook.h"

/* The main thread's depth once it forks on the fast path (hook.h): in
 * parent-only memory, which a fork does not make copy-on-write for the
 * parent, so that a program forking in a loop does not write its TLS page
 * after every fork (one page fault and copy per spawn).  A fork child
 * does not use its parent's (main_hot_pid): it makes its own if it forks. */
static struct guard_thread_hot *main_hot;
static pid_t main_hot_pid;

/* Where this thread's depth is kept, chosen at its first way into the
 * shim once it is active (guard_tls_hot is NULL until then), and again
 * after the main thread's first fork, when its depth moves.  The move is
 * not safe while the thread is inside the shim, so it is made here, on the
 * way in at depth 0 (guard_depth_settle covers a signal handler that makes
 * it under our feet).  Other threads keep theirs in TLS for good. */
struct guard_thread_hot *guard_fork_depth_place(void)
{
    struct guard_thread_hot *own = &guard_tls_hot_own;
    if (own->depth > 0 || !guard_is_active())
        return own;
    struct guard_thread_hot *m = __atomic_load_n(&main_hot, __ATOMIC_ACQUIRE);
    if (!m || main_hot_pid != guard_pid || guard_gettid() != guard_pid)
        m = own;
    guard_tls_hot = m;
    return m;
}

/* At the main thread's fork (from the fork hook, in the shim, fast path):
 * the first makes the main thread's place in parent-only memory, and the
 * thread takes it at its next way into the shim (guard_fork_depth_place). */
void guard_fork_depth_moves(void)
{
    if ((main_hot && main_hot_pid == guard_pid) || guard_gettid() != guard_pid)
        return;
    struct guard_thread_hot *m = guard_alloc_parent_only(sizeof *m);
    if (m && guard_alloc_parent_only_wiped()) { /* else (before Linux 4.14) it stays in TLS */
        main_hot_pid = guard_pid;
        __atomic_store_n(&main_hot, m, __ATOMIC_RELEASE);
        guard_tls_hot = NULL; /* its depth is on guard_tls_hot_own until it leaves */
    }
}

/* Runs in the child of fork() (pthread_atfork), before fork returns there.
 * The child has one thread: every lock some other parent thread held is
 * free, and the log moves to a file of the child's own.
 *
 * Most forked children exec at once, so this must cost next to nothing:
 * no system call but getpid (inline: sys.h), nothing unmapped (each room
 * puts that off until the child first needs it, see log.c and stack.c),
 * and no store of a value that is already there: every page of the
 * parent's memory this handler writes is a page the kernel copies for the
 * child; reads are free. */
GUARD_FORK_PATH static void after_fork_child(void)
{
    if (!guard_is_active())
        return;
    pid_t parent = guard_pid;
    guard_pid = guard_sys_getpid();
    guard_set_tid(guard_pid); /* the forking thread is the child's main thread */
    /* Our depth: 0 at a fork made through the fork hook; a signal
     * handler's fork inside the shim gets back the depth it forked at.  It
     * is kept in TLS again: the parent's main_hot is zeroed in the child,
     * and each page of it the child touched would be one more fault. */
    struct guard_thread_hot *hot = &guard_tls_hot_own;
    if (guard_tls_hot != hot)
        guard_tls_hot = hot;
    int depth = guard_fork_tls_nested ? guard_fork_tls_nested_depth : 0;
    if (hot->depth != depth)
        hot->depth = depth;
    hot->depth++;
    const struct guard_fork_handoff *handoff = guard_fork_handoff_take();
    guard_alloc_after_fork_child();
    guard_stack_after_fork_child();
    guard_log_after_fork_child(parent, handoff ? &handoff->stamp : NULL);
    guard_fork_board_after_fork_child(parent, handoff);
    guard_pool_after_fork_child();
    guard_children_after_fork_child(handoff ? handoff->threads : 0);
    guard_nss_after_fork_child();
    guard_ns_after_fork_child();
    hot->depth--;
}

/* The same for a process made by clone() without CLONE_VM (hooks.c): it
 * has a copy of our state, as a fork child does, but no atfork handler
 * runs in it. */
void guard_fork_child_setup(void)
{
    after_fork_child();
}

void guard_fork_init(void)
{
    pthread_atfork(NULL, NULL, after_fork_child);
}
