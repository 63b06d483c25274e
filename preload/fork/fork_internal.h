/*
 * fork/fork_internal.h — what the files of the fork subsystem share.
 *
 *   hooks.c     the hooks that start and reap processes; the handoff
 *   exec.c      the exec family; the environment that keeps the shim
 *   child.c     the atfork handler (a fork child's set-up), the depth move
 *   board.c     the exec board: a forked child's exec, told to its parent
 *   site.c      the fork's stack, reused per call site (fast path)
 *   walk.c      stacks with libgcc's unwinder, and the walk that joins a
 *               child's exec stack to its fork's
 *   vfork.c     vfork with vfork's semantics (a few instructions of assembly)
 */
#ifndef GUARD_FORK_INTERNAL_H
#define GUARD_FORK_INTERNAL_H

#include "guard_internal.h"

/* Is the fast path on?  (the fork_fast option; fork.h says what it is) */
static inline int guard_fork_fast(void) { return guard_opt.fork_fast; }

/* ---- the handoff (hooks.c) -----------------------------------------------
 * What a fork child takes from the fork that made it: set by the fork hook
 * before the real fork, read by the atfork handler in the child. */
struct guard_fork_handoff {
    uint32_t live;                 /* the fork is in progress (a magic value) */
    uint32_t board_key;            /* the child's slot on the board; 0: none */
    int threads;                   /* the parent's threads at the fork */
    struct guard_fork_stamp stamp;
};
/* In a fork child's atfork handler: its fork's handoff, or NULL when the
 * fork was not made through the fork hook or was a signal handler's inside
 * another. */
const struct guard_fork_handoff *guard_fork_handoff_take(void);
/* Set around a real fork made inside another fork of the same thread (a
 * signal handler's): its child must not take the fork state for its own
 * (hooks.c, nested_fork), and gets back the thread's depth in the shim at
 * that fork. */
extern __thread int guard_fork_tls_nested;
extern __thread int guard_fork_tls_nested_depth;
/* A clone child without CLONE_VM: the atfork handler's work (child.c). */
void guard_fork_child_setup(void);

/* ---- the depth move (child.c, fast path) --------------------------------
 * The main thread forks: its depth in the shim moves out of TLS (hook.h)
 * from its next entry on, so that a fork loop does not write its TLS page
 * (copy-on-write after every fork) at every hook. */
void guard_fork_depth_moves(void);

/* ---- the fork site (hooks.c, site.c, walk.c) -----------------------------
 * Where the program called fork: a child that execs with the forking
 * function's caller still on its stack, unchanged, has the parent's fork
 * stack above that frame (board.c). */
#define GUARD_FORK_SLOTS 32
struct guard_fork_site {
    uint32_t stack;              /* the fork's stack id in the parent's log; 0: none */
    pid_t owner;                 /* the process that forked (whose log has `stack`) */
    uintptr_t join_sp, join_pc;  /* the forking function's caller: its stack pointer at
                                    its call, and its pc (the fork stack's frame 1) */
    /* The return addresses of the frames above it, where they were on the
     * stack at the fork: while they are all still there, so are those frames. */
    unsigned nslots;
    uintptr_t slot_addr[GUARD_FORK_SLOTS];
    uint64_t slot_value[GUARD_FORK_SLOTS];
};
extern __thread struct guard_fork_site guard_fork_tls_site;
int guard_fork_site_intact(const struct guard_fork_site *site); /* board.c */
/* The fork's stack: its frames into pcs and their stack pointers into sps
 * (the walk's), its id into *stack; ra and cfa are where the program
 * called fork (the return address and the stack pointer at the call).
 * Returns the number of frames. */
unsigned guard_fork_site_stack(uint64_t ra, uint64_t cfa, uint64_t *pcs, unsigned max,
                               uint64_t *sps, unsigned sps_max, uint32_t *stack);
/* Is [lo, hi) on the main thread's stack, above the caller's frame?  Such
 * memory can be read without a fault. */
int guard_fork_on_main_stack(uintptr_t lo, uintptr_t hi);
/* Is each frame i >= 1 of a walk still on the stack, its return address
 * (pcs[i] + 1) in the slot below sps[i], the stack pointers rising? */
int guard_fork_frames_in_place(const uint64_t *pcs, const uint64_t *sps, unsigned n);

/* ---- walks (walk.c) -------------------------------------------------------
 * This thread's frames into pcs (and their stack pointers into sps, 0 for
 * a frame interrupted by a signal); with `until`, stops after the fork's
 * frame 1 if it is on the stack, unchanged, and then sets
 * GUARD_WALK_JOINED in the result. */
#define GUARD_WALK_JOINED 0x80000000u
unsigned guard_fork_walk_raw(uint64_t *pcs, unsigned max, uint64_t *sps, unsigned sps_max,
                             const struct guard_fork_site *until);

/* ---- the exec board (board.c) ------------------------------------------- */
uint32_t guard_fork_board_before_fork(void); /* the fork's key on the board */
void guard_fork_board_after_fork_child(pid_t parent, const struct guard_fork_handoff *handoff);
/* A child about to exec: 1 when its parent will tell its exec (it is on
 * the board), 0 when there is no board, -1 when the child must say it in
 * its own log (the parent is exiting or exec'ing, or the board was full). */
int guard_fork_board_post_exec(const char *payload, size_t len);
size_t guard_fork_board_exec_failed(char *payload, size_t cap);
/* CLOCK_MONOTONIC in a forked or vforked child, by a system call made
 * inline (the vDSO's pages would be faults in every child). */
uint64_t guard_fork_child_now_ns(void);

/* ---- vfork (vfork.c) ------------------------------------------------------
 * What a vfork child exec'd, written by the child into memory it shares
 * with its parent, which logs it (CHILD_EXEC) when it runs again. */
struct guard_vfork_exec {
    uint32_t len;      /* of payload; 0: no exec */
    int failed;        /* the exec returned */
    pid_t tid;
    uint64_t time_ns;
    char payload[1024];
};
struct guard_vfork_exec *guard_fork_vfork_exec_slot(void); /* in a vfork child */

/* ---- exec (exec.c) ------------------------------------------------------- */
/* In the parent before a fork: resolve what the child's exec needs, so
 * that no child runs the dynamic linker's lookup. */
void guard_fork_exec_prepare(void);
/* envp with LD_PRELOAD and GUARD_OPTIONS put back (follow_exec), or NULL
 * when envp already has them. */
char *const *guard_fork_env_with_shim(char *const envp[]);

#endif /* GUARD_FORK_INTERNAL_H */
