/*
 * fork_nss_common.h — a multithreaded parent forks; the buggy child looks
 * up a user (getpwuid_r) before exec — NSS takes locks and may load
 * modules, and a lock held by another parent thread at the fork is never
 * released in the child.  The fixed child execs at once.
 */
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idle_thread.h"

int main(void)
{
    pthread_t t = idle_start(); /* the parent is multithreaded from here */
    pid_t pid = fork();
    if (pid == 0) {
#ifndef FORK_NSS_FIXED
        struct passwd pw, *res = NULL;
        char buf[4096];
        getpwuid_r(0, &pw, buf, sizeof buf, &res); /* BUG: not async-signal-safe */
#endif
        execlp("true", "true", (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    idle_stop(t);
    printf("child status %d\n", WEXITSTATUS(status));
    return 0;
}
