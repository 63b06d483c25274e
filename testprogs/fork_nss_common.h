/*
 * fork_nss_common.h — a multithreaded parent forks; the buggy child looks
 * up a user (getpwuid_r) before exec — NSS takes locks and may load
 * modules, and a lock held by another parent thread at the fork is never
 * released in the child.  The fixed child execs at once.
 */
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int done;

static void *busy(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (!done)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, busy, NULL); /* the parent is multithreaded from here */
    pid_t pid = fork();
    if (pid == 0) {
#ifndef FORK_NSS_FIXED
        struct passwd pw, *res = NULL;
        char buf[4096];
        getpwuid_r(0, &pw, buf, sizeof buf, &res); /* BUG: not async-signal-safe */
#endif
        execlp("true", "true", (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    pthread_mutex_lock(&lock);
    done = 1;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    pthread_join(t, NULL);
    printf("child status %d\n", WEXITSTATUS(status));
    return 0;
}
