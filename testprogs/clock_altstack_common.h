/*
 * clock_altstack_common.h — clock_gettime() in a signal handler that runs on
 * a sigaltstack of ALTSTACK_SIZE bytes.  With 4 KiB (the buggy program) a
 * stack-probing vDSO would touch memory below the alternate stack
 * (vdso-low-stack).  With 64 KiB (the twin) there is room.  The shim flags the
 * call by the headroom it has, on every run, whatever this host's vDSO does.
 *
 * The alternate stack is the top ALTSTACK_SIZE bytes of a 64 KiB block, so
 * that what runs past its end (the signal frame alone is ~3 KiB with
 * AVX-512 state) lands in our own padding instead of the heap: the program
 * runs the same with and without the shim, and only the headroom differs.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile long long stamp;

static void on_alarm(int sig)
{
    (void)sig;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* runs on the alternate stack */
    stamp = ts.tv_sec;
}

int main(void)
{
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    char *block = aligned_alloc(4096, 64 * 1024 + ALTSTACK_SIZE);
    if (!block)
        return 2;
    ss.ss_size = ALTSTACK_SIZE;
    ss.ss_sp = block + 64 * 1024;
    if (sigaltstack(&ss, NULL) != 0)
        return 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("handled at %lld\n", stamp);
    return 0;
}
