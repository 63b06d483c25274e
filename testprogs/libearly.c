/*
 * libearly.so — a library whose constructor uses hooked functions and the
 * pool API before anything else runs (as libfaketime's tests do for time
 * calls).  Preloaded after libguard.so, its constructor runs before
 * libguard's: the shim must initialise itself lazily and still catch the
 * use-after-return in it.
 */
#include <string.h>
#include <unistd.h>

#include "guard.h"

static char early_buf[3 * 4096] __attribute__((aligned(4096)));

__attribute__((constructor)) static void early_init(void)
{
    char *obj = early_buf + 4096;
    guard_pool_get(early_buf, obj, 4096);
    memset(obj, 'e', 4096);
    guard_pool_put(early_buf, obj, 4096);
    int fd[2];
    if (pipe(fd) == 0) {
        ssize_t n = write(fd[1], obj, 16); /* BUG: the kernel reads a returned object */
        (void)n;
        close(fd[0]);
        close(fd[1]);
    }
}
