/*
 * supervise_fork_signals.c — a static program that forks while signals
 * keep coming, with a handler installed without SA_RESTART (as a shell's
 * SIGCHLD handler may be).  Natively fork never fails so: a signal that
 * comes during fork makes the kernel run the handler and fork again.
 * Under the supervisor the fork is a watched call, and a signal that
 * comes before the supervisor has taken it must not turn into EINTR.
 * Prints "forks N failed M" (M must be 0) and exits 0.
 *
 * usage: supervise_fork_signals [FORKS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static _Atomic int done;
static pid_t main_tid;
static volatile sig_atomic_t handled;

static void on_signal(int sig)
{
    (void)sig;
    handled++;
}

static void *pester(void *arg)
{
    (void)arg;
    while (!atomic_load(&done)) {
        syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
        usleep(50);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int forks = argc > 1 ? atoi(argv[1]) : 300;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART */
    sigaction(SIGUSR1, &sa, NULL);
    main_tid = (pid_t)syscall(SYS_gettid);
    pthread_t t;
    pthread_create(&t, NULL, pester, NULL);
    int failed = 0;
    for (int i = 0; i < forks; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        if (pid < 0) {
            failed++;
            continue;
        }
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    atomic_store(&done, 1);
    pthread_join(t, NULL);
    printf("forks %d failed %d\n", forks, failed);
    return 0;
}
