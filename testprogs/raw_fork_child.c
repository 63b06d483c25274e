/*
 * raw_fork_child [hooked] — a child made by the fork system call itself, as
 * some sandboxes and language runtimes make them: no atfork handler runs in
 * it, so the shim in it still holds its parent's log.  The child records
 * (pool gets and puts), waits a little and leaves with _exit, while the
 * parent records a lot; nothing of the child's may land in the parent's
 * log, and the child's exit must not end or cut short the parent's log.
 * With "hooked" the child is made by fork() (our hook): the parent's log
 * must come out the same.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bufpool.h"

static struct bufpool pool;

static void churn(int n)
{
    for (int i = 0; i < n; i++)
        bufpool_put(&pool, bufpool_get(&pool));
}

int main(int argc, char **argv)
{
    int hooked = argc > 1 && !strcmp(argv[1], "hooked");
    bufpool_init(&pool, 256);
    churn(100);
    pid_t pid = hooked ? fork() : (pid_t)syscall(SYS_fork);
    if (pid == 0) {
        churn(100);
        usleep(100 * 1000); /* exit after the parent's records */
        _exit(0);
    }
    if (pid < 0) {
        perror("raw_fork_child: fork");
        return 1;
    }
    churn(1000);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "raw_fork_child: the child failed\n");
        return 1;
    }
    churn(100);
    return 0;
}
