/*
 * pool_late_write_fixed — the correct twin of pool_late_write: the worker
 * drops its reference before it puts the session back.
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
    s->refs--;           /* done with it ... */
    session_put(s);      /* ... then give it back */
    return NULL;
}

int main(void)
{
    for (int i = 0; i < 4; i++)
        session_put(&slab[i]);
    struct session *s = session_get();
    s->id = 1;
    s->refs = 1;
    pthread_t t;
    pthread_create(&t, NULL, worker, s);
    pthread_join(t, NULL);
    struct session *again = session_get();
    printf("got session %p again: %s\n", (void *)again, again == s ? "same" : "other");
    session_put(again);
    return 0;
}
