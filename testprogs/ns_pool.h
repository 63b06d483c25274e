/*
 * ns_pool.h — a pool of two workers with no affinity: each task runs on
 * whichever worker is free, in the order queued.  `lock` and `cond` are
 * also the tasks' own, for the hand-shakes that decide which worker takes
 * which task.  Both workers start in worker(): they are peers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef int (*task_fn)(void);

#define POOL_MAX_TASKS 8
static task_fn queue[POOL_MAX_TASKS];
static int queued, taken, total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (taken == queued && queued < total)
            pthread_cond_wait(&cond, &lock);
        if (taken == total) {
            pthread_mutex_unlock(&lock);
            return NULL;
        }
        task_fn task = queue[taken++];
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
        if (task() != 0)
            fprintf(stderr, "task failed: %s\n", strerror(errno));
    }
}

/* Runs the n tasks (n <= POOL_MAX_TASKS) on the two workers. */
static void pool_run(const task_fn *tasks, int n)
{
    total = n;
    pthread_t workers[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&workers[i], NULL, worker, NULL);
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&lock);
        queue[queued++] = tasks[i];
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(workers[i], NULL);
}
