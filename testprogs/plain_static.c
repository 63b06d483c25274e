/*
 * plain_static — built with -static, threads but no NSS lookups: inspect
 * must not flag it (and must say LD_PRELOAD cannot work on it).
 */
#include <pthread.h>
#include <stdio.h>

static void *work(void *arg)
{
    return (void *)((long)arg * 2);
}

int main(void)
{
    pthread_t t;
    void *out = NULL;
    pthread_create(&t, NULL, work, (void *)21);
    pthread_join(t, &out);
    printf("%ld\n", (long)out);
    return 0;
}
