/*
 * child_clean — every way of starting a child, each reaped properly:
 * fork+exec+waitpid, posix_spawn+waitpid, popen/pclose, system, children
 * reaped by a waitpid(-1) loop, and children under SIGCHLD=SIG_IGN (the
 * kernel reaps them).  No finding.  Exits 0 when all statuses are right.
 */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int check(int cond, const char *what)
{
    if (!cond)
        printf("FAILED: %s\n", what);
    return cond ? 0 : 1;
}

int main(void)
{
    int bad = 0, status;

    pid_t pid = fork();
    if (pid == 0) {
        execlp("true", "true", (char *)NULL);
        _exit(127);
    }
    bad += check(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                 "fork+exec+waitpid");

    char *argv[] = {"sh", "-c", "exit 3", NULL};
    bad += check(posix_spawnp(&pid, "sh", NULL, NULL, argv, environ) == 0, "posix_spawnp");
    bad += check(waitpid(pid, &status, 0) == pid && WEXITSTATUS(status) == 3, "posix_spawn status");

    FILE *p = popen("echo hello", "r");
    char line[64] = "";
    bad += check(p && fgets(line, sizeof line, p) != NULL, "popen read");
    bad += check(pclose(p) == 0, "pclose status");

    bad += check(WEXITSTATUS(system("exit 5")) == 5, "system status");

    /* a reaper loop: waitpid(-1) collects children started elsewhere */
    for (int i = 0; i < 4; i++)
        if (fork() == 0)
            _exit(i);
    int reaped = 0;
    while (waitpid(-1, &status, 0) > 0)
        reaped++;
    bad += check(reaped == 4, "waitpid(-1) loop");

    /* SIGCHLD ignored: children never become zombies */
    signal(SIGCHLD, SIG_IGN);
    for (int i = 0; i < 3; i++)
        if (fork() == 0)
            _exit(0);
    usleep(50 * 1000);
    signal(SIGCHLD, SIG_DFL);

    printf("%s\n", bad ? "failures" : "all children reaped");
    return bad ? 1 : 0;
}
