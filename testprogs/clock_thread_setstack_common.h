/*
 * clock_thread_setstack_common.h — a thread runs on a stack the program
 * gave it with pthread_attr_setstack, a block from the heap, and calls
 * clock_gettime() deep in a recursion with LEFT bytes of that stack left.
 * 2.5 KiB (clock_thread_setstack) is less than a stack-probing vDSO
 * touches below the stack pointer: it would write into the heap below the
 * block.  64 KiB (clock_thread_setstack_fixed) is plenty.
 *
 * The stack is the block above PAD bytes of padding of our own, so that an
 * overrun stays in our memory: the program runs the same natively and
 * under the shim.  clock_gettime is called once before, so that its
 * lazy binding (which saves the vector registers on the stack) is done.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define PAD (16 * 1024)
#define STACK_SIZE (96 * 1024) /* with PAD, below malloc's mmap threshold: the heap */

static uintptr_t stack_lo;
static long long when;

static __attribute__((noinline)) void descend(void)
{
    volatile char frame[256];
    frame[0] = 1;
    if ((uintptr_t)__builtin_frame_address(0) - stack_lo > LEFT + sizeof frame) {
        descend();
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts); /* LEFT bytes of the thread's stack left */
        when = ts.tv_sec;
    }
    frame[1] = frame[0];
}

static void *worker(void *arg)
{
    (void)arg;
    descend();
    return NULL;
}

int main(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char *block = malloc(PAD + STACK_SIZE);
    pthread_attr_t attr;
    pthread_t t;
    if (!block || pthread_attr_init(&attr) != 0 ||
        pthread_attr_setstack(&attr, block + PAD, STACK_SIZE) != 0)
        return 2;
    stack_lo = (uintptr_t)block + PAD;
    if (pthread_create(&t, &attr, worker, NULL) != 0)
        return 3;
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    free(block);
    printf("the thread read the clock at %lld\n", when);
    return 0;
}
