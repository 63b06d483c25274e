/*
 * vfork_threads — a thread vforks (and another clones with CLONE_VM |
 * CLONE_VFORK) a child that waits a while on its parent's memory before it
 * execs, and meanwhile the main thread exits with status 3.  The children
 * must not make the shim misreport its parent: the exit is recorded (an
 * END with status 3), and both spawns are in the log.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char clone_stack[64 * 1024];

static int late_exec(void *arg)
{
    (void)arg;
    usleep(400 * 1000); /* the parent thread waits; the others go on */
    execl("/bin/true", "true", (char *)NULL);
    _exit(127);
}

static void *vforker(void *arg)
{
    (void)arg;
    if (vfork() == 0)
        late_exec(NULL);
    return NULL;
}

static void *cloner(void *arg)
{
    (void)arg;
    clone(late_exec, clone_stack + sizeof clone_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, vforker, NULL);
    pthread_create(&b, NULL, cloner, NULL);
    usleep(150 * 1000); /* both children are waiting to exec */
    printf("exiting\n");
    fflush(stdout);
    exit(3);
}
