/*
 * pool_late_write_common.h — a worker thread is done with a session (a
 * small, sub-page pooled object) and gives it back.  In pool_late_write it
 * drops its reference *after* the put, through a stale pointer: no whole
 * page lies inside a 48-byte object, so nothing faults; the poison check at
 * the next get finds the modified bytes.  Deterministic: the late write
 * happens on the same thread, after the put, before the next get.  In
 * pool_late_write_fixed (LATE_WRITE_FIXED) the reference is dropped first.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "guard.h"

struct session {
    int id;
    int refs;
    char name[40];
};

static struct session slab[4];
static struct session *free_list[4];
static int nfree;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct session *session_get(void)
{
    pthread_mutex_lock(&lock);
    struct session *s = nfree ? free_list[--nfree] : NULL;
    pthread_mutex_unlock(&lock);
    guard_pool_get(slab, s, sizeof *s);
    return s;
}

static void session_put(struct session *s)
{
    guard_pool_put(slab, s, sizeof *s);
    pthread_mutex_lock(&lock);
    free_list[nfree++] = s;
    pthread_mutex_unlock(&lock);
}

static void *worker(void *arg)
{
    struct session *s = arg;
    strcpy(s->name, "worker");
#ifdef LATE_WRITE_FIXED
    s->refs--;           /* done with it ... */
    session_put(s);      /* ... then give it back */
#else
    session_put(s);
    s->refs--;           /* BUG: the session is already back in the pool */
#endif
    return NULL;
}

int main(void)
{
    for (int i = 0; i < 4; i++)
        session_put(&slab[i]); /* fill the pool */
    struct session *s = session_get();
    s->id = 1;
    s->refs = 1;
    pthread_t t;
    pthread_create(&t, NULL, worker, s);
    pthread_join(t, NULL);
    struct session *again = session_get(); /* the same object: LIFO free list */
    printf("got session %p again: %s\n", (void *)again, again == s ? "same" : "other");
    session_put(again);
    return 0;
}
