/*
 * report_quiet_child — what a program can observe while the shim prints
 * its reports: it counts SIGCHLD, asks wait(-1) for any child and lists its
 * descriptors after two use-after-return findings (a late read and a late
 * write, each in its own put cycle, each caught in the act by a fault).  Under the shim the symbolizer runs
 * during each report; the program must see exactly what it sees natively:
 *     sigchld=0 wait=ECHILD fds=0,1,2
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"

static volatile sig_atomic_t sigchld;

static void on_sigchld(int sig)
{
    (void)sig;
    sigchld++;
}

static long touch(volatile const char *p)
{
    return p[0]; /* BUG: read after put */
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sigaction(SIGCHLD, &sa, NULL);
    static char pool;
    char *obj = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (obj == MAP_FAILED)
        return 1;
    guard_pool_get(&pool, obj, 8192);
    memset(obj, 1, 8192);
    guard_pool_put(&pool, obj, 8192);
    long v = touch(obj);
    guard_pool_get(&pool, obj, 8192);
    guard_pool_put(&pool, obj, 8192);
    obj[100] = 7; /* BUG: write after put */
    guard_pool_get(&pool, obj, 8192);
    (void)v;
    int st;
    pid_t w = waitpid(-1, &st, WNOHANG);
    const char *wait_says = w < 0 && errno == ECHILD ? "ECHILD" : "a child";
    char fds[256] = "";
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 1;
    int dfd = dirfd(d);
    struct dirent *e;
    int list[64], n = 0;
    while ((e = readdir(d)) && n < 64)
        if (e->d_name[0] != '.' && atoi(e->d_name) != dfd)
            list[n++] = atoi(e->d_name);
    closedir(d);
    for (int i = 0; i < n; i++) /* readdir order is not sorted */
        for (int j = i + 1; j < n; j++)
            if (list[j] < list[i]) {
                int t = list[i];
                list[i] = list[j];
                list[j] = t;
            }
    for (int i = 0; i < n; i++)
        snprintf(fds + strlen(fds), sizeof fds - strlen(fds), "%s%d", i ? "," : "", list[i]);
    printf("sigchld=%d wait=%s fds=%s\n", (int)sigchld, wait_says, fds);
    return 0;
}
