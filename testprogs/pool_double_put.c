/*
 * pool_double_put — an error path returns a buffer that the normal path
 * returns as well.  The second put must be flagged as double-put.
 */
#include <stdio.h>
#include <string.h>

#include "bufpool.h"

static int parse(struct bufpool *pool, char *buf, const char *input)
{
    strncpy(buf, input, 4095);
    if (strchr(buf, '!')) {
        bufpool_put(pool, buf);  /* error path gives the buffer back ... */
        return -1;
    }
    return 0;
}

int main(void)
{
    struct bufpool pool;
    bufpool_init(&pool, 4096);
    char *buf = bufpool_get(&pool);
    int rc = parse(&pool, buf, "bad input!");
    bufpool_put(&pool, buf);     /* BUG: ... and so does the caller */
    printf("parse returned %d\n", rc);
    return 0;
}
