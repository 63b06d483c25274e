/*
 * ns_offthread_pool — the job's three steps are tasks on a two-worker thread
 * pool with no affinity: each task runs on whichever worker is free.  The
 * unshare task holds its worker until the next task has been picked up (a
 * latch, as a task that waits on a future would), so the mount always runs
 * on the other worker — in the root mount namespace: namespace-off-thread,
 * on every run, whichever worker the third task (the exec) lands on.  The
 * mount task waits for the namespace to be ready, as a task awaiting the
 * first one's result would.
 */
#include "ns_job.h" /* first: it defines _GNU_SOURCE */

#include "ns_pool.h"

static int mount_started, namespace_ready;

static int task_unshare(void)
{
    int rc = step_unshare();
    pthread_mutex_lock(&lock);
    namespace_ready = 1;
    pthread_cond_broadcast(&cond);
    while (!mount_started)               /* hold this worker until the next task runs */
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    return rc;
}

static int task_mount(void)
{
    pthread_mutex_lock(&lock);
    mount_started = 1;
    pthread_cond_broadcast(&cond);
    while (!namespace_ready)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    return step_mount();                 /* BUG: may run on another worker */
}

int main(void)
{
    job_prepare_files();
    const task_fn tasks[3] = {task_unshare, task_mount, step_exec};
    pool_run(tasks, 3);
    job_cleanup();
    return 0;
}
