/*
 * field_pool_cycles.c — the field profile's long run: THREADS threads
 * cycle OBJ_SIZE-byte objects through one locked pool (get, memset, put),
 * CYCLES cycles in all.  Prints the resident set before the first cycle
 * and after the last ("rss_kb start N end N"), so that a run under the
 * shim shows what the shim kept.  With "crash" as the fourth argument, the
 * first thread dies of SIGSEGV after its share of cycles while the others
 * wait: a crash after millions of events, whose report must still hold
 * every thread's last events.
 *
 * usage: field_pool_cycles [CYCLES [THREADS [OBJ_SIZE [crash]]]]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"

#define POOL_OBJS 64

static char *objs[POOL_OBJS];
static char *free_list[POOL_OBJS];
static int nfree;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static size_t obj_size = 4096;
static long per_thread;
static int crash;
static pthread_barrier_t done;

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static char *pool_get(void)
{
    pthread_mutex_lock(&lock);
    char *o = nfree ? free_list[--nfree] : NULL;
    pthread_mutex_unlock(&lock);
    if (o)
        guard_pool_get(objs, o, obj_size);
    return o;
}

static void pool_put(char *o)
{
    guard_pool_put(objs, o, obj_size);
    pthread_mutex_lock(&lock);
    free_list[nfree++] = o;
    pthread_mutex_unlock(&lock);
}

static void *worker(void *arg)
{
    long id = (long)(intptr_t)arg;
    for (long i = 0; i < per_thread; i++) {
        char *o = pool_get();
        if (!o)
            continue;
        memset(o, (int)(i & 0x7f), obj_size);
        pool_put(o);
    }
    if (crash) {
        pthread_barrier_wait(&done);
        if (id == 0) {
            volatile int *p = (volatile int *)(uintptr_t)16;
            *p = 1; /* the crash the field report must explain */
        }
        pause();
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long cycles = argc > 1 ? atol(argv[1]) : 6000000;
    int threads = argc > 2 ? atoi(argv[2]) : 4;
    if (argc > 3)
        obj_size = (size_t)atol(argv[3]);
    crash = argc > 4 && !strcmp(argv[4], "crash");
    if (threads < 1 || threads > 64 || obj_size == 0)
        return 2;
    per_thread = cycles / threads;
    for (int i = 0; i < POOL_OBJS; i++) {
        if (posix_memalign((void **)&objs[i], 4096, obj_size) != 0)
            return 2;
        memset(objs[i], 0, obj_size);
        pool_put(objs[i]);
    }
    pthread_barrier_init(&done, NULL, (unsigned)threads);
    long start = rss_kb();
    pthread_t t[64];
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    printf("rss_kb start %ld end %ld\n", start, rss_kb());
    /* where it is: anonymous, file-backed (the log's mapping), page tables */
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Rss", 3) || !strncmp(line, "VmPTE", 5) || !strncmp(line, "VmHWM", 5))
            fputs(line, stdout);
    if (f)
        fclose(f);
    return 0;
}
