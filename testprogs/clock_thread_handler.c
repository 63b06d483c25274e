/*
 * clock_thread_handler.c — a thread's first time call is made by a signal
 * handler running on the thread's own stack, its second outside it.  The
 * shim finds a thread's stack bounds with pthread_getattr_np, which no
 * signal handler may call (it allocates memory and takes a lock): it must
 * wait for the second call.  libclock_getattr_spy.so counts where it was
 * called.  No finding: both calls have room.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
    (void)sig;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* the thread's first time call */
    handled = 1;
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_kill(pthread_self(), SIGUSR1); /* the handler runs before this returns */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return NULL;
}

int main(void)
{
    struct sigaction sa = {.sa_handler = on_usr1};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        return 2;
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_join(t, NULL);
    printf("handled %d\n", (int)handled);
    return 0;
}
