/*
 * exec_sites — forked children that exec from two kinds of frame, for the
 * test that the exec's stack each child tells its parent (CHILD_EXEC) is
 * where it called exec:
 *   "direct"  the child execs in the function that forked (the shim takes
 *             the fork's stack and the exec's call site: no unwinder in
 *             the child)
 *   "helper"  the child calls a function that execs (the child unwinds
 *             down to the forking frame, the rest is the fork's)
 *   "again"   the forking function returns in the child, and the caller
 *             calls it again from another line, where it execs: the same
 *             function at the same depth, but not the frame that forked
 *             (the fork's callers are not the exec's: the child unwinds)
 *   "stale"   the forking function (with a large frame) returns in the
 *             child, which then takes some stack with alloca and execs two
 *             calls deeper: for one of the sizes the exec's caller has the
 *             fork's stack pointer while the fork's return addresses are
 *             still in the memory above, unused (41 children, sizes 0 to
 *             640 bytes)
 *   "thread"  as "direct", but forked from a second thread: its stack is
 *             not the main thread's, so the child copies it with a system
 *             call (process_vm_readv) instead of a plain copy
 * No child records anything, so none writes a log.
 */
#define _GNU_SOURCE
#include <alloca.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void reap(pid_t pid)
{
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "exec_sites: child failed\n");
        exit(1);
    }
}

__attribute__((noinline)) static void exec_true_from_helper(void)
{
    execl("/bin/true", "true", "helper", (char *)NULL); /* EXEC_IN_HELPER */
    _exit(127);
}

__attribute__((noinline)) static void spawn_direct(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/true", "true", "direct", (char *)NULL); /* EXEC_DIRECT */
        _exit(127);
    }
    reap(pid);
}

__attribute__((noinline)) static void spawn_via_helper(void)
{
    pid_t pid = fork();
    if (pid == 0)
        exec_true_from_helper(); /* CALL_HELPER */
    reap(pid);
}

/* mode 0: fork and return the pid; mode 1: exec */
__attribute__((noinline)) static pid_t fork_or_exec(int mode)
{
    if (mode == 0)
        return fork();
    execl("/bin/true", "true", "again", (char *)NULL); /* EXEC_AGAIN */
    _exit(127);
}

__attribute__((noinline)) static void spawn_then_call_again(void)
{
    pid_t pid = fork_or_exec(0);
    if (pid == 0)
        fork_or_exec(1); /* CALL_AGAIN */
    reap(pid);
}

__attribute__((noinline)) static pid_t fork_with_big_frame(void)
{
    volatile char pad[512];
    pad[0] = 0;
    return fork() + pad[0];
}

__attribute__((noinline)) static void exec_stale(void)
{
    execl("/bin/true", "true", "stale", (char *)NULL); /* EXEC_STALE */
    _exit(127);
}

__attribute__((noinline)) static void stale_helper(void)
{
    exec_stale(); /* CALL_STALE */
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void spawn_over_stale_frames(void)
{
    for (int size = 0; size <= 640; size += 16) {
        pid_t pid = fork_with_big_frame();
        if (pid == 0) {
            char *p = alloca(size + 1);
            __asm__ volatile("" ::"r"(p) : "memory");
            stale_helper(); /* CALL_STALE_HELPER */
        }
        reap(pid);
    }
}

__attribute__((noinline)) static void spawn_from_thread(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/true", "true", "thread", (char *)NULL); /* EXEC_FROM_THREAD */
        _exit(127);
    }
    reap(pid);
}

static void *spawning_thread(void *arg)
{
    (void)arg;
    spawn_from_thread(); /* CALL_FROM_THREAD */
    return NULL;
}

int main(void)
{
    spawn_direct();
    spawn_via_helper();
    spawn_then_call_again();
    spawn_over_stale_frames();
    pthread_t thread;
    if (pthread_create(&thread, NULL, spawning_thread, NULL) != 0 || pthread_join(thread, NULL) != 0)
        return 1;
    return 0;
}
