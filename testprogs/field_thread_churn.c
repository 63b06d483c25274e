/*
 * field_thread_churn.c — a server that starts a thread per request: THREADS
 * threads one after another (at most four alive at once), each cycling a
 * 4 KiB object through a pool CYCLES times.  Under the field profile the
 * ring's slots of threads that ended must be reused: the log stays the
 * ring's size however many threads came and went.
 *
 * usage: field_thread_churn [THREADS [CYCLES]]
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"

static char pool_id;
static int cycles = 100;

static void *request(void *arg)
{
    char *obj = arg;
    for (int i = 0; i < cycles; i++) {
        guard_pool_get(&pool_id, obj, 4096);
        memset(obj, i, 4096);
        guard_pool_put(&pool_id, obj, 4096);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2000;
    if (argc > 2)
        cycles = atoi(argv[2]);
    char *objs[4];
    for (int i = 0; i < 4; i++) {
        if (posix_memalign((void **)&objs[i], 4096, 4096) != 0)
            return 2;
        guard_pool_put(&pool_id, objs[i], 4096);
    }
    pthread_t t[4];
    for (int n = 0; n < threads; n += 4) {
        for (int i = 0; i < 4; i++)
            pthread_create(&t[i], NULL, request, objs[i]);
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
    }
    return 0;
}
