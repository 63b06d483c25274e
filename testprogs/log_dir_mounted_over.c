/*
 * log_dir_mounted_over — a program that enters a mount namespace of its
 * own and mounts a tmpfs over the directory its log is in (as test
 * suites do with /tmp), then goes on logging well past its log's first
 * chunk.  The log must go on: it is the file the shim created, wherever
 * its path now leads.
 *
 *   log_dir_mounted_over DIR
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>

#include "guard.h"

static char pool[1];
static char objs[64][64];

static void cycle(unsigned long n)
{
    for (unsigned long i = 0; i < n; i++) {
        guard_pool_get(pool, objs[i % 64], 64);
        guard_pool_put(pool, objs[i % 64], 64);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    cycle(100);
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("none", argv[1], "tmpfs", 0, "size=1m") != 0) {
        perror("unshare/mount");
        return 3;
    }
    cycle(200000);
    puts("done");
    return 0;
}
