/*
 * pool_read_after_put — a reader thread keeps a pointer into a 16 KiB
 * buffer and reads it after the owner has put the buffer back.  The whole
 * pages of the returned buffer are protected, so the read faults and is
 * caught in the act (the shim then unprotects and the program goes on).
 * Deterministic: the reader reads only after the put (a pipe orders them).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bufpool.h"

static int order[2];
static const char *shared;

static long checksum(const char *p, size_t n)
{
    long sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += p[i];
    return sum;
}

static void *reader(void *arg)
{
    (void)arg;
    char go;
    if (read(order[0], &go, 1) != 1)
        return NULL;
    long sum = checksum(shared + 8192, 64); /* BUG: the buffer was put back */
    printf("checksum %ld\n", sum);
    return NULL;
}

int main(void)
{
    struct bufpool pool;
    bufpool_init(&pool, 16384);
    if (pipe(order) != 0)
        return 1;
    char *buf = bufpool_get(&pool);
    memset(buf, 1, 16384);
    shared = buf;
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    bufpool_put(&pool, buf);
    if (write(order[1], "g", 1) != 1)
        return 1;
    pthread_join(t, NULL);
    return 0;
}
