/*
 * pool_system_common.h — a buffer taken from a pool, a worker thread that
 * runs system() on a command that still reads the buffer's file, and the
 * buffer put back: while system() still runs (pool_system_thread: a
 * put-while-child-running) or after the worker is joined
 * (pool_system_thread_fixed: correct).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../include/guard.h"

static char pool_name;

static void *run_command(void *arg)
{
    (void)arg;
    if (system("sleep 0.2") != 0)
        fprintf(stderr, "system failed\n");
    return NULL;
}

static int pool_system_main(int join_before_put)
{
    char *buf = aligned_alloc(4096, 4096);
    guard_pool_get(&pool_name, buf, 4096);
    pthread_t worker;
    pthread_create(&worker, NULL, run_command, NULL);
    usleep(50 * 1000); /* the command is running */
    if (join_before_put)
        pthread_join(worker, NULL);
    guard_pool_put(&pool_name, buf, 4096); /* BUG unless joined: system()'s child still runs */
    if (!join_before_put)
        pthread_join(worker, NULL);
    puts("done");
    return 0;
}
