/*
 * field_late_write.h — a late write to a page-sized pooled object after the
 * object has cycled many times, as in a long-running server: the field
 * profile samples page protection, so the write may land unseen in the
 * act; the poison check at the object's next get must still find it, in
 * every run.  A 4 KiB buffer cycles 5000 times through a pool of eight
 * (get, fill, put); then a request handler puts its buffer back and only
 * then writes its status byte through the stale pointer, and the buffer is
 * taken again.  In field_late_write_fixed (FIELD_LATE_WRITE_FIXED) the byte
 * is written before the put.  Deterministic: one thread, LIFO free list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"

#define NBUF 8
#define BUF_SIZE 4096

static char *bufs[NBUF];
static char *free_list[NBUF];
static int nfree;

static char *buf_get(void)
{
    char *b = free_list[--nfree];
    guard_pool_get(bufs, b, BUF_SIZE);
    return b;
}

static void buf_put(char *b)
{
    guard_pool_put(bufs, b, BUF_SIZE);
    free_list[nfree++] = b;
}

static void handle_request(char *b)
{
    memset(b, 'r', BUF_SIZE);
#ifdef FIELD_LATE_WRITE_FIXED
    b[100] = 'd'; /* status: done */
    buf_put(b);
#else
    buf_put(b);
    b[100] = 'd'; /* BUG: the buffer is back in the pool */
#endif
}

int main(void)
{
    for (int i = 0; i < NBUF; i++) {
        if (posix_memalign((void **)&bufs[i], 4096, BUF_SIZE) != 0)
            return 2;
        buf_put(bufs[i]);
    }
    for (int i = 0; i < 5000; i++) {
        char *b = buf_get();
        memset(b, i & 0x7f, BUF_SIZE);
        buf_put(b);
    }
    handle_request(buf_get());
    char *again = buf_get(); /* the same buffer: LIFO */
    printf("status byte %d\n", again[100]);
    buf_put(again);
    return 0;
}
