/*
 * nss_threads — getpwuid() from 4 threads: they share one static result
 * buffer (nss-nonreentrant-threads).  Flagged on every run, whether or not
 * two calls overlapped this time.
 */
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>

static void *lookup(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
        struct passwd *pw = getpwuid(0); /* BUG: shared static buffer */
        if (!pw)
            return (void *)1;
    }
    return NULL;
}

int main(void)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, lookup, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    puts("looked up");
    return 0;
}
