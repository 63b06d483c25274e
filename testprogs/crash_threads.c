/*
 * crash_threads — 8 threads; one of them dereferences a bad pointer.  The
 * crash report must carry all 8 stacks, and the program must still die of
 * SIGSEGV.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_barrier_t all_started;

static void *waiter(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&all_started);
    for (;;)
        pause();
    return NULL;
}

static void *crasher(void *arg)
{
    pthread_barrier_wait(&all_started);
    usleep(10000);
    *(volatile int *)arg = 42; /* BUG: a null pointer */
    return NULL;
}

int main(void)
{
    pthread_t t[7];
    pthread_barrier_init(&all_started, NULL, 8);
    for (int i = 0; i < 6; i++)
        pthread_create(&t[i], NULL, waiter, NULL);
    pthread_create(&t[6], NULL, crasher, NULL);
    pthread_barrier_wait(&all_started);
    pthread_join(t[6], NULL);
    puts("not reached");
    return 0;
}
