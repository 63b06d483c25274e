/*
 * fork/vfork.c — vfork with vfork's semantics.
 *
 * A vfork child borrows its parent's memory and stack until it execs or
 * exits: its writes reach the parent (programs report an exec failure
 * that way), and the parent waits.  No C wrapper can call the real vfork
 * and return into such a child: the child's first return would pop the
 * wrapper's frame, and its next call would write over the return address
 * the suspended parent still needs.  So vfork is a few instructions of
 * assembly that keep no frame of their own across the real call: the
 * caller's return address is kept in a per-thread stack (guard_vfork_enter)
 * and the real vfork is called with the caller's own stack pointer (glibc's
 * vfork keeps its return address in a register).  Both processes then come
 * back through guard_vfork_leave, which gives them the return address.
 *
 * The child shares every byte of the shim's state with its parent, so it
 * must change none of it: from guard_vfork_leave on it runs with the
 * thread's depth raised (every hook passes through) and with
 * guard_fork_in_vfork_child set (the exec hooks only keep the shim in the
 * environment; the exit hooks write nothing).  The parent, which runs
 * again only once the child has exec'd or exited, undoes both and records
 * the spawn.
 */
#define _GNU_SOURCE
#include <stdint.h>

#include "fork_internal.h"
#include "hook.h"

__thread int guard_fork_in_vfork_child;

void guard_fork_vm_child_enter(void)
{
    guard_fork_in_vfork_child++;
    guard_hot()->depth++;
}

void guard_fork_vm_child_left(void)
{
    if (guard_fork_in_vfork_child > 0) { /* a child ran (and exec'd or exited) */
        guard_hot()->depth--;
        guard_fork_in_vfork_child--;
    }
}

/* The callers' return addresses, innermost last: a vfork child may itself
 * vfork before it execs. */
#define VFORK_NEST 8
static __thread uintptr_t saved_ret[VFORK_NEST];
static __thread unsigned nsaved;
static __thread uint32_t spawn_stack[VFORK_NEST];
/* What the child exec'd, for the first two levels (a vfork child that
 * vforks again is rare; deeper ones share the last slot). */
static __thread struct guard_vfork_exec child_exec[2];
static struct guard_vfork_exec *exec_slot(unsigned n) { return &child_exec[n < 2 ? n : 1]; }

struct guard_vfork_exec *guard_fork_vfork_exec_slot(void)
{
    return exec_slot(nsaved ? nsaved - 1 : 0);
}
static __thread int spawn_threads[VFORK_NEST];

/* Before the real vfork, in the parent: keep the return address, take the
 * spawn's stack; returns the real vfork. */
__attribute__((used)) void *guard_vfork_enter(uintptr_t ret)
{
    unsigned n = nsaved < VFORK_NEST ? nsaved : VFORK_NEST - 1;
    saved_ret[n] = ret;
    exec_slot(n)->len = 0;
    spawn_stack[n] = 0;
    spawn_threads[n] = 0;
    nsaved = n + 1;
    struct guard_hook h;
    if (!guard_fork_in_vfork_child && guard_hook_begin(&h)) {
        spawn_stack[n] = guard_fork_walk_capture();
        spawn_threads[n] = guard_threads_count();
        guard_ns_before_spawn_or_exec("vfork");
        guard_fork_exec_prepare();
        guard_hook_end(&h);
    }
    return (void *)GUARD_REAL(vfork);
}

/* After the real vfork, in both processes: returns where the caller
 * called vfork from. */
__attribute__((used)) uintptr_t guard_vfork_leave(long pid)
{
    unsigned n = nsaved ? nsaved - 1 : 0;
    uintptr_t ret = saved_ret[n];
    if (pid == 0) { /* the child: touch nothing of the parent's (see above) */
        guard_fork_vm_child_enter();
        return ret;
    }
    nsaved = n; /* the parent: the child has exec'd or exited */
    guard_fork_vm_child_left();
    struct guard_hook h;
    if (spawn_stack[n] && guard_hook_begin(&h)) {
        guard_children_started(GUARD_SPAWN_VFORK, pid > 0 ? (pid_t)pid : -1, spawn_stack[n],
                               spawn_threads[n], NULL, NULL, NULL, 0);
        const struct guard_vfork_exec *e = exec_slot(n);
        if (pid > 0 && e->len && !e->failed)
            guard_log_event(GUARD_EV_CHILD_EXEC, 0, (uint64_t)pid, e->time_ns, (uint64_t)e->tid, 0,
                            e->payload, e->len <= sizeof e->payload ? e->len : sizeof e->payload);
        guard_hook_end(&h);
    }
    return ret;
}

/* rsp is 8 mod 16 at the entry (the return address) and 0 mod 16 at each
 * call made here.  Between the two calls the return address is off the
 * stack: no unwind information holds there (the caller's frame is the
 * innermost one a walk could find). */
__asm__(".text\n"
        ".globl vfork\n"
        ".type vfork, @function\n"
        "vfork:\n"
        "    .cfi_startproc\n"
        "    mov (%rsp), %rdi\n"
        "    sub $8, %rsp\n"
        "    .cfi_adjust_cfa_offset 8\n"
        "    call guard_vfork_enter\n"
        "    add $16, %rsp\n"
        "    .cfi_adjust_cfa_offset -16\n"
        "    .cfi_undefined rip\n"
        "    call *%rax\n"
        "    push %rax\n"
        "    movslq %eax, %rdi\n"
        "    sub $8, %rsp\n"
        "    call guard_vfork_leave\n"
        "    add $8, %rsp\n"
        "    mov %rax, %rcx\n"
        "    pop %rax\n"
        "    jmp *%rcx\n"
        "    .cfi_endproc\n"
        ".size vfork, .-vfork\n");
