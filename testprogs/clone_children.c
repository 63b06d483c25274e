/*
 * clone_children — processes made with clone() without CLONE_VM, as
 * container tools make them: a copy of the parent, but not through fork(),
 * so no atfork handler runs in them.
 *   child 1 records something (a pool get and put) and then execs
 *           /bin/true clone-recording: its records belong in a log of its
 *           own, not in its parent's
 *   child 2 execs /bin/true clone-quiet at once: it tells its parent
 * Meanwhile the parent records too (pool gets and puts), so that a child
 * writing into the parent's log would show up as a corrupt or mixed log.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bufpool.h"

static struct bufpool pool;

static int recording_child(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++)
        bufpool_put(&pool, bufpool_get(&pool));
    execl("/bin/true", "true", "clone-recording", (char *)NULL);
    return 127;
}

static int quiet_child(void *arg)
{
    (void)arg;
    execl("/bin/true", "true", "clone-quiet", (char *)NULL);
    return 127;
}

static pid_t start(int (*fn)(void *))
{
    size_t size = 256 * 1024;
    char *stack = malloc(size);
    if (!stack)
        exit(1);
    return clone(fn, stack + size, SIGCHLD, NULL);
}

int main(void)
{
    bufpool_init(&pool, 4096);
    pid_t recording = start(recording_child);
    pid_t quiet = start(quiet_child);
    for (int i = 0; i < 50; i++)
        bufpool_put(&pool, bufpool_get(&pool));
    int ok = 1;
    pid_t pids[2] = {recording, quiet};
    for (int i = 0; i < 2; i++) {
        int status;
        ok &= pids[i] > 0 && waitpid(pids[i], &status, 0) == pids[i] && WIFEXITED(status) &&
              WEXITSTATUS(status) == 0;
    }
    return ok ? 0 : 1;
}
