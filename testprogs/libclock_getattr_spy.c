/*
 * libclock_getattr_spy.so — preloaded before libguard.so, it stands in for
 * pthread_getattr_np, which the shim asks for a thread's stack bounds, and
 * counts the calls made while SIGUSR1 is blocked: inside the test
 * program's SIGUSR1 handler (clock_thread_handler), where the shim must
 * not make it (it allocates memory and takes a lock).  The counts are
 * printed at exit.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>

static atomic_int in_handler, outside;

int pthread_getattr_np(pthread_t thread, pthread_attr_t *attr)
{
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    atomic_fetch_add(sigismember(&now, SIGUSR1) ? &in_handler : &outside, 1);
    int (*real)(pthread_t, pthread_attr_t *) =
        (int (*)(pthread_t, pthread_attr_t *))dlsym(RTLD_NEXT, "pthread_getattr_np");
    return real(thread, attr);
}

__attribute__((destructor)) static void report(void)
{
    printf("pthread_getattr_np: %d in a signal handler, %d outside\n", atomic_load(&in_handler),
           atomic_load(&outside));
}
