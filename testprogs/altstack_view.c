/*
 * altstack_view — what a program sees of alternate signal stacks, on the
 * main thread and on a second one: none at first (as natively: the shim's
 * own is not shown), its own once set (and used: a SIGUSR1 handler with
 * SA_ONSTACK runs on it), none again after SS_DISABLE.  The output is the
 * same with and without the shim.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static char own[2][64 * 1024];
static volatile int on_own;

static void on_usr1(int sig)
{
    (void)sig;
    char here;
    on_own = (uintptr_t)&here >= (uintptr_t)own[0] && (uintptr_t)&here < (uintptr_t)own[2];
}

static void show(const char *who, int n)
{
    stack_t ss;
    sigaltstack(NULL, &ss);
    printf("%s: at first %s\n", who, ss.ss_flags & SS_DISABLE ? "none" : "one");
    stack_t mine = {.ss_sp = own[n], .ss_size = sizeof own[n], .ss_flags = 0};
    stack_t old;
    int rc = sigaltstack(&mine, &old);
    printf("%s: set %d, old %s size %zu\n", who, rc, old.ss_flags & SS_DISABLE ? "none" : "one",
           old.ss_size);
    raise(SIGUSR1);
    sigaltstack(NULL, &ss);
    printf("%s: now %s, ours %d, handler on it %d\n", who, ss.ss_flags & SS_DISABLE ? "none" : "one",
           ss.ss_sp == own[n], on_own);
    stack_t off = {.ss_flags = SS_DISABLE};
    sigaltstack(&off, NULL);
    sigaltstack(NULL, &ss);
    printf("%s: after SS_DISABLE %s\n", who, ss.ss_flags & SS_DISABLE ? "none" : "one");
}

static void *second(void *arg)
{
    (void)arg;
    show("thread", 1);
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    show("main", 0);
    pthread_t t;
    pthread_create(&t, NULL, second, NULL);
    pthread_join(t, NULL);
    return 0;
}
