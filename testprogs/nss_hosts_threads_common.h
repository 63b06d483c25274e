/*
 * nss_hosts_threads_common.h — two worker threads resolve "localhost"
 * (from /etc/hosts: no network).  nss_hosts_threads uses gethostbyname():
 * its result lives in one static buffer that the other thread's next call
 * overwrites (nss-nonreentrant-threads, flagged on every run whether or
 * not the calls overlapped this time).  nss_hosts_threads_fixed
 * (NSS_HOSTS_FIXED) uses gethostbyname_r with a buffer per thread.
 */
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void *resolve(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
#ifdef NSS_HOSTS_FIXED
        struct hostent he, *res = NULL;
        char buf[2048];
        int herr = 0;
        if (gethostbyname_r("localhost", &he, buf, sizeof buf, &res, &herr) != 0 || !res)
            return (void *)1;
        const char *name = res->h_name;
#else
        struct hostent *res = gethostbyname("localhost"); /* BUG: shared static buffer */
        if (!res)
            return (void *)1;
        const char *name = res->h_name;
#endif
        if (strcmp(name, "localhost") != 0)
            return (void *)1;
    }
    return NULL;
}

int main(void)
{
    pthread_t t[2];
    void *bad[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, resolve, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], &bad[i]);
    puts(bad[0] || bad[1] ? "lookup failed" : "resolved localhost");
    return 0;
}
