/*
 * thread_memory — what the threads that take stacks cost in resident
 * memory and in the program's heap.
 *
 * THREADS threads each put and get one object of a pool PAIRS times (under
 * the shim: two events with stacks each time; without it: two null tests)
 * and wait at a barrier.  With all of them alive, the main thread reads
 * its resident set (VmRSS) and its heap (mallinfo2: what the allocator
 * took from the system), then lets them exit and joins them.  ROUNDS
 * repeats that with new threads, so a cost that a thread's exit does not
 * give back grows round after round.  One line per round:
 *
 *   round R threads N rss_kb K heap_kb H
 *
 * Each put and get is a safe point for the shim: with PAIRS of 4 or more
 * a thread asks for a place on the fast stack path (preload/stack.c), and
 * all the places are taken.
 *
 * tests/test_reliability.py runs it natively and under the shim and
 * bounds the difference (docs/reliability.md, docs/performance.md).
 *
 *   usage: thread_memory THREADS [ROUNDS [PAIRS]]   (1 round, 1 pair by default)
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"

static char pool;
static pthread_barrier_t all_called, all_measured;
static long pairs;

static void *worker(void *arg)
{
    char *obj = arg;
    for (long i = 0; i < pairs; i++) {
        guard_pool_put(&pool, obj, 64);
        guard_pool_get(&pool, obj, 64);
        obj[0] = 1;
    }
    pthread_barrier_wait(&all_called);
    pthread_barrier_wait(&all_measured);
    return NULL;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 0, rounds = argc > 2 ? atol(argv[2]) : 1;
    pairs = argc > 3 ? atol(argv[3]) : 1;
    if (n < 1 || n > 100000 || rounds < 1 || rounds > 1000 || pairs < 1 || pairs > 1000000) {
        fprintf(stderr, "usage: %s THREADS [ROUNDS [PAIRS]]\n", argv[0]);
        return 2;
    }
    pthread_t *th = calloc((size_t)n, sizeof *th);
    char *objs = calloc((size_t)n, 64);
    if (!th || !objs)
        return 1;
    for (long r = 0; r < rounds; r++) {
        pthread_barrier_init(&all_called, NULL, (unsigned)n + 1);
        pthread_barrier_init(&all_measured, NULL, (unsigned)n + 1);
        for (long i = 0; i < n; i++)
            if (pthread_create(&th[i], NULL, worker, objs + i * 64) != 0) {
                fprintf(stderr, "thread_memory: pthread_create failed at thread %ld\n", i);
                return 1;
            }
        pthread_barrier_wait(&all_called);
        struct mallinfo2 mi = mallinfo2();
        printf("round %ld threads %ld rss_kb %ld heap_kb %zu\n", r + 1, n, rss_kb(),
               (mi.arena + mi.hblkhd) >> 10);
        fflush(stdout);
        pthread_barrier_wait(&all_measured);
        for (long i = 0; i < n; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&all_called);
        pthread_barrier_destroy(&all_measured);
    }
    free(th);
    free(objs);
    return 0;
}
