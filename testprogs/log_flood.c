/*
 * log_flood — four threads cycling objects through a pool (get, put) as
 * fast as they can, writing the log as fast as it grows, while the main
 * thread exits after a given time with the threads still running.  Run on
 * a small or full file system, the shim must stop logging, never crash
 * the program: it exits with status 0.
 *
 *   log_flood [MILLISECONDS [rss]]    (default 300; rss: print the
 *                                      resident set at the end, in KiB)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"

static char pool[1];

static void *cycle(void *arg)
{
    char *objs = arg;
    for (unsigned long i = 0;; i++) {
        char *o = objs + (i % 64) * 64;
        guard_pool_get(pool, o, 64);
        o[0] = (char)i;
        guard_pool_put(pool, o, 64);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long ms = argc > 1 ? atol(argv[1]) : 300;
    static char objects[4][64 * 64];
    for (int t = 0; t < 4; t++) {
        for (int i = 0; i < 64; i++)
            guard_pool_put(pool, objects[t] + i * 64, 64);
        pthread_t th;
        pthread_create(&th, NULL, cycle, objects[t]);
    }
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&d, NULL);
    if (argc > 2 && !strcmp(argv[2], "rss")) {
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        while (f && fgets(line, sizeof line, f))
            if (!strncmp(line, "VmRSS:", 6))
                printf("rss_kb %ld\n", atol(line + 6));
        if (f)
            fclose(f);
        fflush(stdout);
    }
    exit(0); /* with the threads still logging */
}
