/*
 * ns_offthread_fixed — the same job pinned to one dedicated thread: the
 * unshare, the mount and the exec all run where the namespace was set up.
 * No finding.
 */
#include "ns_job.h" /* first: it defines _GNU_SOURCE */

#include <pthread.h>

static void *container_thread(void *arg)
{
    (void)arg;
    if (step_unshare() != 0 || step_mount() != 0 || step_exec() != 0)
        fprintf(stderr, "job failed: %s\n", strerror(errno));
    return NULL;
}

int main(void)
{
    job_prepare_files();
    pthread_t t;
    pthread_create(&t, NULL, container_thread, NULL);
    pthread_join(t, NULL);
    job_cleanup();
    return 0;
}
