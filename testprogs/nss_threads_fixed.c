/*
 * nss_threads_fixed — the same lookups with getpwuid_r and a buffer per
 * thread: no finding.
 */
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>

static void *lookup(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
        struct passwd pw, *res = NULL;
        char buf[4096];
        if (getpwuid_r(0, &pw, buf, sizeof buf, &res) != 0 || !res)
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
