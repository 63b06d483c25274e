/*
 * threads.c — the program's threads: how many there are, and who started
 * each (pthread_create).  A new thread inherits its creator's namespaces
 * (ns.c's timeline says which thread came from where), so each thread's
 * first record names its creator.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/stat.h>

#include "guard_internal.h"
#include "hook.h"

/* Procfs counts threads made with a raw clone system call too. */
int guard_threads_count_procfs(void)
{
    /* procfs gives the task directory one link per thread, plus . and ..:
     * one stat instead of open/read/close of /proc/self/stat */
    struct stat st;
    if (stat("/proc/self/task", &st) != 0 || st.st_nlink < 3)
        return 0;
    return (int)st.st_nlink - 2;
}

int guard_threads_count(void)
{
    /* glibc's own flag: no thread was ever created (then there is one, and
     * the stat, a few microseconds of procfs, is saved on every spawn of a
     * single-threaded program: a shell, make, a test runner).  It is never
     * set back, so a program that had threads asks procfs. */
    if (__libc_single_threaded)
        return 1;
    return guard_threads_count_procfs();
}

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
    struct guard_hook h;
    if (guard_hook_begin(&h)) {
        guard_altstack_give();
        guard_log_event(GUARD_EV_THREAD_START, t.stack, (uint64_t)t.creator, 0, 0, 0, NULL, 0);
        guard_hook_end(&h);
    }
    return t.start(t.arg);
}

GUARD_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                                void *(*start)(void *), void *arg)
{
    struct guard_hook h;
    if (!guard_hook_begin(&h))
        return GUARD_REAL(pthread_create)(thread, attr, start, arg);
    guard_stack_prepare(); /* before a second thread exists: fork children inherit it */
    struct thread_start *t = take();
    if (t) {
        t->start = start;
        t->arg = arg;
        t->creator = guard_gettid();
        t->stack = guard_stack_capture(1);
    }
    guard_hook_end(&h);
    if (!t)
        return GUARD_REAL(pthread_create)(thread, attr, start, arg);
    int rc = GUARD_REAL(pthread_create)(thread, attr, trampoline, t);
    if (rc != 0)
        give_back(t); /* pthread_create reports errors by return value; errno is untouched */
    return rc;
}
