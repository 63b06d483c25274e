/*
 * fork/fork.h — the fork and spawn subsystem: the hooks that start, exec
 * and reap processes (fork, vfork, clone, posix_spawn, system, popen, the
 * exec and wait families, kill), what a forked child does before it runs
 * the program again, and how it tells its parent what it exec'd.
 *
 * Two paths, chosen by the fork_fast option (options.c):
 *   plain (fork_fast=0): a fork is the hook, a libgcc walk of its stack,
 *     the child's handoff in TLS, the atfork handler; a child's exec is
 *     recorded with a walk of its own stack.  Any engineer can follow it.
 *   fast (fork_fast=1, the default): the same records, with fewer pages
 *     written and copied per spawn: the fork's stack is reused from its
 *     call site while its frames are provably unchanged (site.c), the
 *     handoff lives in the fork hook's frame, the main thread's depth moves
 *     to parent-only memory (child.c), and a child's exec stack is a raw
 *     copy joined to its fork's stack (board.c).
 * The test suite runs whole with either (make check).
 *
 * The rest of the shim sees these entry points only.
 */
#ifndef GUARD_FORK_H
#define GUARD_FORK_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

struct guard_thread_hot;

/* At start-up: the atfork handler (child.c). */
void guard_fork_init(void);
/* Where this thread's depth in the shim is kept, chosen on its way in at
 * depth 0 (hook.h's guard_enter; child.c). */
struct guard_thread_hot *guard_fork_depth_place(void);
/* The counter that orders pool gets and spawns, shared by a fork tree
 * (board.c); NULL when none could be made. */
_Atomic uint64_t *guard_fork_board_sequence(void);
/* The parent reaped the child of board key `key` (pid): its exec, if on
 * the board, goes into the parent's log (board.c). */
void guard_fork_board_take(uint32_t key, pid_t pid);
/* At exit or exec: no more takes (board.c). */
void guard_fork_board_close(void);
/* Nonzero in a vfork child (or a clone(CLONE_VM|CLONE_VFORK) child) that
 * runs on its parent's memory (vfork.c): it must change none of the
 * shim's state (exec keeps only the environment; the exit hooks write
 * nothing).  Per thread: the child runs on the vforking thread's TLS, which
 * waits meanwhile, while the parent's other threads go on as before. */
extern __thread int guard_fork_in_vfork_child;
/* In such a child, before its function runs / in its parent after:
 * every hook passes through the child (vfork.c). */
void guard_fork_vm_child_enter(void);
void guard_fork_vm_child_left(void);
/* wait4, waitid, kill and pidfd_send_signal made through syscall(2) (ns.c's syscall hook
 * sends them here): the system call, recorded as the hooks of the libc
 * functions record it (hooks.c). */
long guard_fork_syscall_wait(long number, long a1, long a2, long a3, long a4, long a5);
/* The caller's stack with libgcc's unwinder (walk.c): for calls made once
 * per child (spawn, exec, fork-unsafe checks), without libunwind's 256 KiB
 * per-thread cache. */
uint32_t guard_fork_walk_capture(void);
/* The same walk, its frames (lookup addresses) into pcs; nothing is
 * written.  Returns how many (stack.c's walk for threads without one of
 * libunwind's places). */
unsigned guard_fork_walk_pcs(uint64_t *pcs, unsigned max);

#endif /* GUARD_FORK_H */
