/*
 * supervise_crash_static: a static executable (no shim can load in it)
 * whose second thread writes through a null pointer while the main thread
 * waits for it.  Under guard-supervise its crash is recorded by the
 * supervisor's ptrace layer: the crashing thread's stack (crash_here) and
 * the main thread's (pthread_join).
 */
#include <pthread.h>
#include <stdio.h>

static volatile int *volatile target;
static volatile int joining;

__attribute__((noinline)) static void crash_here(void)
{
    *target = 42; /* the crash */
}

__attribute__((noinline)) static void *worker(void *arg)
{
    (void)arg;
    while (!joining) /* the main thread is past pthread_create (glibc's clone3 has no */
        ;            /* unwind information: a stack taken inside it ends there) */
    for (volatile int i = 0; i < 1000000; i++) /* and waiting in pthread_join */
        ;
    crash_here();
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    joining = 1;
    pthread_join(t, NULL);
    puts("not reached");
    return 0;
}
