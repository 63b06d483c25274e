/*
 * ns_offthread_spawn — see ns_handoff.h: the worker sets the namespace up,
 * the main thread starts the container's program with posix_spawn.
 */
#include "ns_handoff.h" /* first: it defines _GNU_SOURCE */

static void *worker(void *arg)
{
    (void)arg;
    if (setup_namespace() != 0)
        perror("set-up");
    sem_post(&set_up);
    sem_wait(&job_done);   /* parked until the job is over */
    return NULL;
}

int main(void)
{
    prepare_files();
    sem_init(&set_up, 0, 0);
    sem_init(&job_done, 0, 0);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    sem_wait(&set_up);
    int rc = run_cat();    /* BUG: starts in the main thread's (the host's) mount namespace */
    sem_post(&job_done);
    pthread_join(t, NULL);
    unlink(source);
    unlink(target);
    if (!getenv("NS_JOB_DIR"))
        rmdir(dir);
    return rc == 0 ? 0 : 1;
}
