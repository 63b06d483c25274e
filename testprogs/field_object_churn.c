/*
 * field_object_churn.c — a pool whose objects come and go: each of N
 * distinct 64-byte objects (slices of one mapping) is put into the pool
 * once, taken out once and then dropped, as a pool does that frees what it
 * has too much of.  Its memory stays small: every 1024 objects, the pages
 * behind the ones dropped go back to the kernel.  Prints the resident set
 * at the end ("rss_kb N"), so that a run under the shim shows what the
 * shim kept of the objects it saw.  With "late" as the second argument,
 * one more object is written to after its put, once the table is full of
 * dropped objects: the late write must still be found at its get.
 *
 * usage: field_object_churn [N [late]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "guard.h"

#define OBJ 64
#define BATCH 1024 /* objects per 64 KiB of the mapping */

static long rss_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    static int pool;
    char *base = mmap(NULL, (size_t)n * OBJ, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return 2;
    for (long i = 0; i < n; i++) {
        char *obj = base + i * OBJ;
        memset(obj, 1, OBJ);
        guard_pool_put(&pool, obj, OBJ);
        guard_pool_get(&pool, obj, OBJ);
        memset(obj, 2, OBJ);
        if ((i + 1) % BATCH == 0)
            madvise(base + (i + 1 - BATCH) * OBJ, (size_t)BATCH * OBJ, MADV_DONTNEED);
    }
    printf("rss_kb %ld\n", rss_kb());
    if (argc > 2 && !strcmp(argv[2], "late")) {
        static char late[OBJ];
        guard_pool_put(&pool, late, OBJ);
        late[7] = 'x'; /* after the put: a use-after-return */
        guard_pool_get(&pool, late, OBJ);
    }
    return 0;
}
