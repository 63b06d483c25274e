/*
 * threads.c — pthread_create: who started each thread.  A new thread
 * inherits its creator's namespaces (ns.c's timeline says which thread
 * came from where), so each thread's first record names its creator.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "guard_internal.h"
#include "hook.h"

struct thread_start {
    struct thread_start *next;  /* free list */
    void *(*start)(void *);
    void *arg;
    pid_t creator;
    uint32_t stack;
};

static struct thread_start *spare;
static struct guard_lock spare_lock;

static struct thread_start *take(void)
{
    struct thread_start *t = NULL;
    if (guard_lock_acquire(&spare_lock)) {
        t = spare;
        if (t)
            spare = t->next;
        guard_lock_release(&spare_lock);
    }
    return t ? t : guard_alloc(sizeof *t);
}

static void give_back(struct thread_start *t)
{
    if (guard_lock_acquire(&spare_lock)) {
        t->next = spare;
        spare = t;
        guard_lock_release(&spare_lock);
    }
}

static void *trampoline(void *p)
{
    struct thread_start t = *(struct thread_start *)p;
    give_back(p);
    if (guard_enter()) {
        guard_log_event(GUARD_EV_THREAD_START, t.stack, (uint64_t)t.creator, 0, 0, 0, NULL, 0);
        guard_leave();
    }
    return t.start(t.arg);
}

GUARD_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                                void *(*start)(void *), void *arg)
{
    GUARD_REAL(int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *),
               pthread_create);
    if (!guard_enter())
        return real(thread, attr, start, arg);
    int saved = errno;
    guard_stack_prepare(); /* before a second thread exists: fork children inherit it */
    struct thread_start *t = take();
    if (t) {
        t->start = start;
        t->arg = arg;
        t->creator = guard_gettid();
        t->stack = guard_stack_capture(1);
    }
    guard_leave();
    errno = saved;
    if (!t)
        return real(thread, attr, start, arg);
    int rc = real(thread, attr, trampoline, t);
    if (rc != 0)
        give_back(t); /* pthread_create reports errors by return value; errno is untouched */
    return rc;
}
