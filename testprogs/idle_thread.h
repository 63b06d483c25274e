/*
 * idle_thread.h — a second thread that waits until it is stopped: it makes
 * the process multithreaded, as the fork-unsafe programs need.
 */
#include <pthread.h>

static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;
static int idle_done;

static void *idle_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&idle_lock);
    while (!idle_done)
        pthread_cond_wait(&idle_cond, &idle_lock);
    pthread_mutex_unlock(&idle_lock);
    return NULL;
}

static pthread_t idle_start(void)
{
    pthread_t t;
    idle_done = 0;
    pthread_create(&t, NULL, idle_thread, NULL);
    return t;
}

static void idle_stop(pthread_t t)
{
    pthread_mutex_lock(&idle_lock);
    idle_done = 1;
    pthread_cond_signal(&idle_cond);
    pthread_mutex_unlock(&idle_lock);
    pthread_join(t, NULL);
}
