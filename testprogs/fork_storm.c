/*
 * fork_storm — 8 threads fork 125 children each, concurrently, and reap
 * them with waitpid; each child exits with a status derived from its index,
 * which the parent checks.  Under the shim: no deadlock, no lost child
 * record, no finding.  Prints "reaped N" and exits 0 when every status was
 * right.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 8
#define PER_THREAD 125

static atomic_int good;

static void *forker(void *arg)
{
    long base = (long)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        int code = (int)((base * PER_THREAD + i) % 200);
        pid_t pid = fork();
        if (pid == 0)
            _exit(code);
        int status;
        if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
            WEXITSTATUS(status) == code)
            atomic_fetch_add(&good, 1);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, forker, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("reaped %d\n", atomic_load(&good));
    return atomic_load(&good) == THREADS * PER_THREAD ? 0 : 1;
}
