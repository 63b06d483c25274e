/*
 * ns_offthread_spawn_fixed — see ns_handoff.h: the worker sets the
 * namespace up, mounts the container's file and starts the container's
 * program itself; afterwards the main thread runs a program for the host,
 * in the host's namespace, as it means to.  No finding.
 */
#include "ns_handoff.h" /* first: it defines _GNU_SOURCE */

static int container_rc = -1;

static void *worker(void *arg)
{
    (void)arg;
    if (setup_namespace() != 0 || mount(source, target, NULL, MS_BIND, NULL) != 0)
        perror("set-up");
    else
        container_rc = run_cat(); /* in the container's namespace */
    sem_post(&job_done);
    return NULL;
}

int main(void)
{
    prepare_files();
    sem_init(&job_done, 0, 0);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    sem_wait(&job_done);
    int host_rc = run_cat();      /* the host's file, from the host's namespace */
    pthread_join(t, NULL);
    unlink(source);
    unlink(target);
    if (!getenv("NS_JOB_DIR"))
        rmdir(dir);
    return container_rc == 0 && host_rc == 0 ? 0 : 1;
}
