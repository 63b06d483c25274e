/*
 * nss_static — built with -static: getpwuid_r from a second thread, the
 * nss-static-binary hazard (static glibc loads NSS modules at run time; their state is
 * set up for the thread that loaded them).  `guard-analyze inspect` must
 * flag it; running it is not required to crash.
 */
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>

static void *lookup(void *arg)
{
    (void)arg;
    struct passwd pw, *res = NULL;
    char buf[4096];
    getpwuid_r(0, &pw, buf, sizeof buf, &res);
    return res ? (void *)1 : NULL;
}

int main(void)
{
    pthread_t t;
    void *found = NULL;
    pthread_create(&t, NULL, lookup, NULL);
    pthread_join(t, &found);
    printf("root %s\n", found ? "found" : "not found");
    return 0;
}
