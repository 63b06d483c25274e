/*
 * crash_overflow_common.h — unbounded recursion: the stack runs out, and
 * the SIGSEGV comes with the stack exhausted (crash_overflow_main on the
 * main thread, crash_overflow_thread on a second thread).  Without an
 * alternate signal stack the kernel cannot deliver it: the process died
 * with no crash record.  The recursion must not be optimised into a loop.
 */
#include <pthread.h>
#include <stdio.h>

static volatile int forever = 1; /* never cleared: the stack runs out first */

__attribute__((noinline)) static int descend(int depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    return forever ? descend(depth + 1) + frame[0] : 0; /* BUG: no end to it */
}

static void *overflow(void *arg)
{
    (void)arg;
    descend(0);
    return NULL;
}
