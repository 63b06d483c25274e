/*
 * segment_after_fork — the shim's writable segment, before and after the
 * process's first fork, and the shim's state across the change.
 *
 * The shim moves its writable segment (.data and .bss, two mappings as
 * the dynamic linker makes them) into one mapping at the first fork of a
 * single-threaded process (preload/segments.c).  This program counts the
 * mappings that segment spans before and after a fork, and checks that
 * the shim's state came through whole: an object put back before the move
 * is put back again after it, which must be one double-put whose first
 * put is the one from before the move; and each child's exit status must
 * come back.
 *
 *   segment_after_fork [threaded]
 *     -> "segment_mappings before 2 after 1"
 * With "threaded", a second thread is running at the fork: the segment
 * must be left as it was.
 */
#define _GNU_SOURCE
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"

struct range {
    uintptr_t start, end;
};

/* The shim's writable PT_LOAD, from the dynamic linker's list of objects. */
static int find_shim(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct range *r = data;
    if (!info->dlpi_name || !strstr(info->dlpi_name, "libguard"))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
            r->start = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)4095;
            r->end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + 4095) & ~(uintptr_t)4095;
            return 1;
        }
    }
    return 0;
}

/* How many of this process's mappings overlap the range. */
static int mappings_over(struct range r)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps)
        return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo < r.end && hi > r.start)
            n++;
    }
    fclose(maps);
    return n;
}

static int fork_and_wait(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(7);
    int status;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7;
}

static pthread_mutex_t hold = PTHREAD_MUTEX_INITIALIZER;

static void *idle(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&hold); /* until main is done */
    pthread_mutex_unlock(&hold);
    return NULL;
}

static char pool[1];

int main(int argc, char **argv)
{
    struct range shim = {0, 0};
    if (!dl_iterate_phdr(find_shim, &shim)) {
        fprintf(stderr, "segment_after_fork: not run under the shim\n");
        return 2;
    }
    pthread_t thread;
    int threaded = argc > 1 && strcmp(argv[1], "threaded") == 0;
    if (threaded) {
        pthread_mutex_lock(&hold);
        pthread_create(&thread, NULL, idle, NULL);
    }
    static char object[64];
    guard_pool_get(pool, object, sizeof object);
    guard_pool_put(pool, object, sizeof object); /* first put: recorded before the move */
    int before = mappings_over(shim);
    if (!fork_and_wait() || !fork_and_wait()) {
        fprintf(stderr, "segment_after_fork: a child's exit status was lost\n");
        return 3;
    }
    int after = mappings_over(shim);
    guard_pool_put(pool, object, sizeof object); /* BUG: put back twice, across the move */
    if (threaded) {
        pthread_mutex_unlock(&hold);
        pthread_join(thread, NULL);
    }
    printf("segment_mappings before %d after %d\n", before, after);
    return 0;
}
