/*
 * pool_stdio_common.h — a pooled buffer given to a stdio stream with
 * setvbuf, the stream written, and the buffer put back into its pool:
 * before fclose (pool_stdio_buffer: libc still flushes it at fclose, with
 * its internal write no hook sees: a use-after-return) or after
 * (pool_stdio_buffer_fixed: correct).  Prints what fclose returned and
 * what the file holds: the same with and without the shim.
 *
 *   pool_stdio_buffer[_fixed] FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../include/guard.h"

static char pool_name;

static int pool_stdio_main(const char *path, int close_before_put)
{
    char *buf = aligned_alloc(4096, 8192);
    guard_pool_get(&pool_name, buf, 8192);
    FILE *f = fopen(path, "w");
    if (!f || setvbuf(f, buf, _IOFBF, 8192) != 0)
        return 1;
    fputs("a line that stays in the stream's buffer until fclose\n", f);
    if (close_before_put) {
        int rc = fclose(f);
        guard_pool_put(&pool_name, buf, 8192);
        printf("fclose %d\n", rc);
    } else {
        guard_pool_put(&pool_name, buf, 8192); /* BUG: the stream still owns the buffer */
        printf("fclose %d\n", fclose(f));
    }
    char back[128] = "";
    FILE *r = fopen(path, "r");
    if (r && fgets(back, sizeof back, r))
        printf("file: %s", back);
    if (r)
        fclose(r);
    return 0;
}
