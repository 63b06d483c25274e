/*
 * ns_offthread_exec — see ns_handoff.h: the worker sets the namespace up,
 * the main thread replaces the process with the container's program
 * (execvp): it runs in the main thread's namespace, and the one the worker
 * made dies with the worker.
 */
#include "ns_handoff.h" /* first: it defines _GNU_SOURCE */

static void *worker(void *arg)
{
    (void)arg;
    if (setup_namespace() != 0)
        perror("set-up");
    sem_post(&set_up);
    sem_wait(&job_done);   /* parked: the exec ends it */
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
    char *argv[] = {"cat", target, NULL};
    execvp("cat", argv);   /* BUG: the new program starts in the host's mount namespace */
    perror("execvp");
    return 1;
}
