/*
 * child_pidfd_kill_nowait — stops a helper with pidfd_send_signal and never
 * waits for it, then goes on: the child is a zombie for the rest of the
 * run.  unreaped-child (the kill() form, through a pidfd).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/pidfd.h>
#include <unistd.h>

extern char **environ;

int main(void)
{
    pid_t pid;
    char *argv[] = {"sleep", "30", NULL};
    if (posix_spawnp(&pid, "sleep", NULL, NULL, argv, environ) != 0)
        return 1;
    int fd = pidfd_open(pid, 0);
    pidfd_send_signal(fd, SIGTERM, NULL, 0); /* BUG: stopped, never waited for */
    close(fd);
    usleep(300 * 1000);
    printf("stopped %d\n", (int)pid);
    return 0;
}
