/*
 * pool_double_put_fixed — the correct twin: only the owner returns the
 * buffer, on every path.
 */
#include <stdio.h>
#include <string.h>

#include "bufpool.h"

static int parse(char *buf, const char *input)
{
    strncpy(buf, input, 4095);
    return strchr(buf, '!') ? -1 : 0;
}

int main(void)
{
    struct bufpool pool;
    bufpool_init(&pool, 4096);
    for (int round = 0; round < 3; round++) {
        char *buf = bufpool_get(&pool);
        int rc = parse(buf, round == 1 ? "bad input!" : "good input");
        bufpool_put(&pool, buf);
        printf("round %d: parse returned %d\n", round, rc);
    }
    return 0;
}
