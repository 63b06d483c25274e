/*
 * bufpool.h — a tiny buffer pool for the test programs, annotated with
 * libguard's API the way a real pool would be: guard_pool_get when a buffer
 * leaves the pool, guard_pool_put when it comes back.  The free-list link
 * lives outside the buffer, so the whole buffer is the owner's region.
 */
#ifndef BUFPOOL_H
#define BUFPOOL_H

#include <pthread.h>
#include <stdlib.h>

#include "guard.h"

#define BUFPOOL_MAX 16

struct bufpool {
    pthread_mutex_t lock;
    size_t size;
    int nfree;
    void *free[BUFPOOL_MAX];
};

static inline void bufpool_init(struct bufpool *p, size_t size)
{
    pthread_mutex_init(&p->lock, NULL);
    p->size = size;
    p->nfree = 0;
}

static inline void *bufpool_get(struct bufpool *p)
{
    void *buf = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->nfree > 0)
        buf = p->free[--p->nfree];
    pthread_mutex_unlock(&p->lock);
    if (!buf && posix_memalign(&buf, 4096, p->size) != 0)
        abort();
    guard_pool_get(p, buf, p->size);
    return buf;
}

static inline void bufpool_put(struct bufpool *p, void *buf)
{
    guard_pool_put(p, buf, p->size);
    pthread_mutex_lock(&p->lock);
    if (p->nfree < BUFPOOL_MAX)
        p->free[p->nfree++] = buf;
    else
        free(buf); /* not reached by the tests: they never overfill the pool */
    pthread_mutex_unlock(&p->lock);
}

#endif
