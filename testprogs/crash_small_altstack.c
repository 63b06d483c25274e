/*
 * crash_small_altstack — a null write on a thread whose alternate signal
 * stack is 8 KiB, as Rust's runtime gives every thread (for its stack
 * overflow handler).  The shim's fatal-signal handler runs with SA_ONSTACK,
 * so on that small stack; its flight recorder (an unwind, a report) must
 * still record the crash.  The process dies of SIGSEGV either way.
 *
 *   crash_small_altstack [thread]   (in a second thread with its own 8 KiB stack)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void small_altstack(void)
{
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_size = 8192;
    ss.ss_sp = malloc(ss.ss_size);
    sigaltstack(&ss, NULL);
}

static __attribute__((noinline)) void write_through_null(volatile int *p)
{
    *p = 1; /* BUG: null write */
}

static void *crash_here(void *arg)
{
    (void)arg;
    small_altstack();
    write_through_null(NULL);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "thread")) {
        pthread_t t;
        pthread_create(&t, NULL, crash_here, NULL);
        pthread_join(t, NULL);
        return 0;
    }
    crash_here(NULL);
    return 0;
}
