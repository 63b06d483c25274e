/* fork_site_reused — forks from one call site (do_fork) many times, with
 * the frames above it changing between forks while frame 0 stays at the
 * same stack pointer: through two callers at the same depth (via_a and
 * via_b, frame 2), each called from two lines of main (frame 3).  The
 * shim keeps a fork site's frames and reuses them while they are still on
 * the stack (preload/fork/site.c); every child's spawn stack must still be
 * its own.  Each child exits at once with its number; the parent reaps it.
 * The children's order and callers are printed, one per line, for the
 * test to compare with the report. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) static pid_t do_fork(void)
{
    pid_t pid = fork(); /* FORK_SITE */
    __asm__ volatile("" ::: "memory");
    return pid;
}

__attribute__((noinline)) static void spawn_child(int n)
{
    pid_t pid = do_fork(); /* CALL_DO_FORK */
    if (pid == 0)
        _exit(n & 0x7f);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        exit(1);
    printf("%d\n", (int)pid);
}

__attribute__((noinline)) static void via_a(int n)
{
    spawn_child(n); /* CALL_FROM_A */
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void via_b(int n)
{
    spawn_child(n); /* CALL_FROM_B */
    __asm__ volatile("" ::: "memory");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < 40; i += 4) {
        via_a(i);     /* MAIN_A1 */
        via_b(i + 1); /* MAIN_B1 */
        via_a(i + 2); /* MAIN_A2 */
        via_b(i + 3); /* MAIN_B2 */
    }
    return 0;
}
