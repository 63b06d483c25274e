/*
 * ns_procself_common.h — a thread moves to a new network namespace and then
 * asks which one it is in.  /proc/self/ns/net names the *main thread's*
 * namespace (proc-self-ns-mismatch); /proc/thread-self/ns/net is right.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *isolated(void *arg)
{
    (void)arg;
    char link[64] = "";
    if (unshare(CLONE_NEWNET) != 0) {
        perror("unshare");
        return (void *)1;
    }
    ssize_t n = readlink(NS_PATH, link, sizeof link - 1); /* which namespace am I in? */
    if (n > 0)
        link[n] = '\0';
    printf("%s -> %s\n", NS_PATH, link);
    return NULL;
}

int main(void)
{
    pthread_t t;
    void *rc = NULL;
    pthread_create(&t, NULL, isolated, NULL);
    pthread_join(t, &rc);
    return rc ? 1 : 0;
}
