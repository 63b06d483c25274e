/*
 * nss_threads_common.h — user lookups from 4 threads.  nss_threads uses
 * getpwuid(): the threads share one static result buffer
 * (nss-nonreentrant-threads), flagged on every run whether or not two calls
 * overlapped this time.  nss_threads_fixed (NSS_THREADS_FIXED) uses
 * getpwuid_r with a buffer per thread: no finding.
 */
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>

static void *lookup(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
#ifdef NSS_THREADS_FIXED
        struct passwd pw, *res = NULL;
        char buf[4096];
        if (getpwuid_r(0, &pw, buf, sizeof buf, &res) != 0 || !res)
            return (void *)1;
#else
        struct passwd *pw = getpwuid(0); /* BUG: shared static buffer */
        if (!pw)
            return (void *)1;
#endif
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
