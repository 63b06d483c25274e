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

#include "ns_pool.h"

static int exec_started, namespace_ready;

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

int main(void)
{
    job_prepare_files();
    const task_fn tasks[2] = {task_set_up, task_exec};
    pool_run(tasks, 2);
    job_cleanup();
    return 0;
}
