/*
 * dlopen_uar — a use-after-return whose access happens in a dlopen'ed
 * library (libpoolwork.so, next to this program), which is dlclose'd
 * before the program ends.  The analyzer must still name poolwork_sum.
 */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bufpool.h"

int main(int argc, char **argv)
{
    (void)argc;
    char self[PATH_MAX], lib[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        return 2;
    self[n] = '\0';
    snprintf(lib, sizeof lib, "%s/libpoolwork.so", dirname(self));
    void *h = dlopen(lib, RTLD_NOW);
    if (!h) {
        fprintf(stderr, "%s: %s\n", argv[0], dlerror());
        return 2;
    }
    long (*sum)(const unsigned char *, size_t) = (long (*)(const unsigned char *, size_t))dlsym(h, "poolwork_sum");
    struct bufpool pool;
    bufpool_init(&pool, 8192);
    unsigned char *buf = bufpool_get(&pool);
    memset(buf, 1, 8192);
    bufpool_put(&pool, buf);
    long s = sum(buf, 64);  /* the library reads the returned buffer */
    printf("sum %ld\n", s);
    dlclose(h);
    return 0;
}
