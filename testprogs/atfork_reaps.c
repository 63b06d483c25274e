/*
 * atfork_reaps — a pthread_atfork prepare handler reaps an earlier child
 * and signals another, inside the fork the shim is making (so these calls
 * pass through the shim unrecorded).  The log must say it missed them
 * (END's dropped events), and no unreaped-child may follow: the kernel
 * knows the first child is gone.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static pid_t earlier = -1;

static void before_fork(void)
{
    if (earlier > 0) {
        kill(earlier, SIGTERM);
        waitpid(earlier, NULL, 0);
        earlier = -1;
    }
}

int main(void)
{
    char *argv[] = {"sleep", "5", NULL};
    posix_spawnp(&earlier, "sleep", NULL, NULL, argv, environ);
    pthread_atfork(before_fork, NULL, NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    usleep(200 * 1000);
    puts(earlier == -1 ? "reaped in the atfork handler" : "not reaped");
    return 0;
}
