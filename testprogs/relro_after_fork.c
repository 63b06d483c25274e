/*
 * relro_after_fork — the shim keeps full RELRO, and its state comes
 * through a fork whole.
 *
 * A library preloaded into every process of its user keeps the hardening
 * those processes expect: the shim's RELRO segment (its GOT with the
 * addresses of the functions it calls) must be read-only once it is
 * loaded, and stay so across the process's forks.  This program prints
 * whether any mapping over that segment is writable, before and after two
 * fork+wait, and checks that the shim's state came through: an object put
 * back before the forks is put back again after them, which must be one
 * double-put whose first put is the one from before; and each child's exit
 * status must come back.
 *
 *   relro_after_fork [threaded]   -> "relro writable before 0 after 0"
 * With "threaded", a second thread is running at the forks.
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

/* The shim's PT_GNU_RELRO, from the dynamic linker's list of objects. */
static int find_shim(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct range *r = data;
    if (!info->dlpi_name || !strstr(info->dlpi_name, "libguard"))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_GNU_RELRO) {
            /* the loader protects the pages from its start to its end's
             * page (the linker ends it on a page boundary) */
            r->start = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)4095;
            r->end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) & ~(uintptr_t)4095;
            return 1;
        }
    }
    return 0;
}

/* How many of this process's writable mappings overlap the range. */
static int writable_over(struct range r)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps)
        return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && lo < r.end && hi > r.start &&
            perms[1] == 'w')
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
    if (!dl_iterate_phdr(find_shim, &shim) || shim.end <= shim.start) {
        fprintf(stderr, "relro_after_fork: not run under the shim, or it has no RELRO segment\n");
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
    guard_pool_put(pool, object, sizeof object); /* first put: recorded before the forks */
    int before = writable_over(shim);
    if (!fork_and_wait() || !fork_and_wait()) {
        fprintf(stderr, "relro_after_fork: a child's exit status was lost\n");
        return 3;
    }
    int after = writable_over(shim);
    guard_pool_put(pool, object, sizeof object); /* BUG: put back twice, across the forks */
    if (threaded) {
        pthread_mutex_unlock(&hold);
        pthread_join(thread, NULL);
    }
    printf("relro writable before %d after %d\n", before, after);
    return 0;
}
