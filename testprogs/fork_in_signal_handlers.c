/*
 * fork_in_signal_handlers — forks from signal handlers, which the shim's
 * fork hook must survive and keep apart:
 *   fork_in_signal_handlers crash     a crash reporter: the program
 *       overflows its stack, and its SIGSEGV handler (on an alternate
 *       stack) forks and execs a helper, then exits 42
 *   fork_in_signal_handlers interleave N     the main loop forks N children
 *       while a SIGALRM handler, firing every few hundred microseconds,
 *       forks more (up to 100); every child execs /bin/true with its role
 *       and its own pid as arguments, so that each exec told to the parent
 *       can be checked against the child it belongs to
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static void exec_true(const char *role)
{
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    execl("/bin/true", "true", role, pid, (char *)NULL);
    _exit(127);
}

static void on_segv(int sig)
{
    (void)sig;
    pid_t pid = fork(); /* FORK_IN_CRASH_HANDLER */
    if (pid == 0)
        exec_true("reporter");
    int status;
    waitpid(pid, &status, 0);
    _exit(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 42 : 1);
}

static volatile int keep_going = 1; /* never cleared: the stack runs out first */

__attribute__((noinline)) static int recurse(int depth)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    return keep_going ? recurse(depth + 1) + frame[0] : 0;
}

static int crash(void)
{
    static char alt_stack[1 << 16];
    stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    return recurse(0);
}

static void on_alarm(int sig)
{
    (void)sig;
    static int budget = 100;
    int saved = errno;
    if (budget-- > 0 && fork() == 0)
        exec_true("handler");
    errno = saved;
}

static int interleave(int n)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval every = {{0, 331}, {0, 331}};
    setitimer(ITIMER_REAL, &every, NULL);
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0)
            exec_true("main");
        while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    while (wait(NULL) > 0 || errno == EINTR)
        ; /* the handler's children */
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "crash"))
        return crash();
    if (argc == 3 && !strcmp(argv[1], "interleave"))
        return interleave(atoi(argv[2]));
    fprintf(stderr, "usage: fork_in_signal_handlers crash | interleave N\n");
    return 2;
}
