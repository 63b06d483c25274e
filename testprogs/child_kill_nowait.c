/*
 * child_kill_nowait — starts a child with posix_spawn, kills it, and never
 * waits for it: the classic form of unreaped-child ("killed, so it's gone").
 */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <unistd.h>

extern char **environ;

int main(void)
{
    pid_t pid;
    char *argv[] = {"sleep", "30", NULL};
    if (posix_spawnp(&pid, "sleep", NULL, NULL, argv, environ) != 0)
        return 2;
    kill(pid, SIGTERM);     /* BUG: killed but never waited for */
    usleep(50 * 1000);
    printf("stopped %d\n", (int)pid);
    return 0;
}
