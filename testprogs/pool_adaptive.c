/*
 * pool_adaptive — one 16 KiB buffer cycled through a pool many times, then
 * touched after it was put back: what the adaptive protection
 * (pool_protect_young, pool_protect_sample) catches on an old object and a
 * young one.
 *
 *   pool_adaptive CYCLES MODE
 *
 * CYCLES clean cycles (get, memset, put) first; then, by MODE:
 *   none             one more clean cycle (the correct twin)
 *   read             a cycle whose buffer is read after its put (BUG)
 *   write            a cycle whose buffer is written after its put (BUG)
 *   write-then-read  a late write, then a cycle with a late read (BUG, twice)
 *   read-each        every one of the CYCLES cycles reads its buffer late (BUG)
 * and at the end one more get and put, where the poison is checked.
 * Single-threaded and deterministic: the late access is the next statement
 * after the put.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bufpool.h"

static volatile unsigned char sink;

static void read_late(const unsigned char *buf)
{
    sink = buf[8192]; /* BUG: read after put */
}

static void write_late(unsigned char *buf)
{
    buf[8192] = 7; /* BUG: write after put */
}

static void cycle(struct bufpool *pool, int late_read)
{
    unsigned char *buf = bufpool_get(pool);
    memset(buf, 1, 16384);
    bufpool_put(pool, buf);
    if (late_read)
        read_late(buf);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    long cycles = strtol(argv[1], NULL, 10);
    const char *mode = argv[2];
    struct bufpool pool;
    bufpool_init(&pool, 16384);
    int each = !strcmp(mode, "read-each");
    for (long i = 0; i < cycles; i++)
        cycle(&pool, each);
    unsigned char *buf = bufpool_get(&pool);
    memset(buf, 2, 16384);
    bufpool_put(&pool, buf);
    if (!strcmp(mode, "read")) {
        read_late(buf);
    } else if (!strcmp(mode, "write")) {
        write_late(buf);
    } else if (!strcmp(mode, "write-then-read")) {
        write_late(buf);
        cycle(&pool, 1);
    } else if (strcmp(mode, "none") && !each) {
        return 2;
    }
    buf = bufpool_get(&pool);
    bufpool_put(&pool, buf);
    printf("done\n");
    return 0;
}
