/*
 * ns_pool_spawn — the job's steps are tasks on a two-worker thread pool
 * with no affinity, as in ns_offthread_pool, but the first task both sets
 * the namespace up and mounts the container's file in it (the job's first
 * step, on the right thread).  It holds its worker until the next task,
 * starting the container's `cat`, has been picked up, so that task always
 * runs on the other worker, in the host's mount namespace, and prints the
 * host's file: namespace-off-thread, on every run (the workers are peers:
 * any task of the pool can land on either).
 */
#include "ns_job.h" /* first: it defines _GNU_SOURCE */

#include <pthread.h>

typedef int (*task_fn)(void);

static task_fn queue[2];
static int queued, taken;
static int exec_started, namespace_ready;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

static int task_set_up(void)
{
    int rc = step_unshare() == 0 && step_mount() == 0 ? 0 : -1;
    pthread_mutex_lock(&lock);
    namespace_ready = 1;
    pthread_cond_broadcast(&cond);
    while (!exec_started)                /* hold this worker until the next task runs */
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    return rc;
}

static int task_exec(void)
{
    pthread_mutex_lock(&lock);
    exec_started = 1;
    pthread_cond_broadcast(&cond);
    while (!namespace_ready)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    return step_exec();                  /* BUG: runs on the other worker */
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (taken == queued && queued < 2)
            pthread_cond_wait(&cond, &lock);
        if (taken == 2) {
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

int main(void)
{
    job_prepare_files();
    pthread_t workers[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&workers[i], NULL, worker, NULL);
    task_fn tasks[2] = {task_set_up, task_exec};
    for (int i = 0; i < 2; i++) {
        pthread_mutex_lock(&lock);
        queue[queued++] = tasks[i];
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(workers[i], NULL);
    job_cleanup();
    return 0;
}
