/*
 * stdio.c — buffers the program handed to a stdio stream (setvbuf,
 * setbuffer, setbuf).
 *
 * libc reads and writes such a buffer itself until the stream is closed,
 * and writes it out through its internal write, which no hook sees.  So a
 * pool object that is a stream's buffer must not go back to its pool
 * before the stream is closed: pool.c asks here at each put, reports a
 * use-after-return when it is, and leaves the object unpoisoned and
 * unprotected, so that libc's flush writes what it would have written
 * natively (the program's result stays its own).
 *
 * Streams with a buffer of the program's are few: a small table under a
 * lock, empty (and not even locked) in most programs.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "guard_internal.h"
#include "hook.h"

#define STDIO_BUFS 64

struct stdio_buf {
    FILE *stream; /* NULL: a free slot */
    uintptr_t start, end;
    uint32_t stack;
    pid_t tid;
};

static struct stdio_buf bufs[STDIO_BUFS];
static _Atomic unsigned nbufs; /* slots in use: 0 lets a put skip the table */
static struct guard_lock bufs_lock;

static void forget_locked(FILE *stream)
{
    for (unsigned i = 0; i < STDIO_BUFS; i++)
        if (bufs[i].stream == stream) {
            bufs[i].stream = NULL;
            atomic_fetch_sub(&nbufs, 1);
        }
}

static void forget(FILE *stream)
{
    if (!atomic_load(&nbufs) || !guard_lock_acquire(&bufs_lock))
        return;
    forget_locked(stream);
    guard_lock_release(&bufs_lock);
}

/* The stream's buffer is now [buf, buf + size), or none (buf NULL). */
static void buffer_given(FILE *stream, const void *buf, size_t size)
{
    struct guard_hook h;
    if (!guard_hook_begin(&h))
        return;
    uint32_t stack = buf && size ? guard_stack_capture(2) : 0;
    if (guard_lock_acquire(&bufs_lock)) {
        forget_locked(stream);
        for (unsigned i = 0; buf && size && i < STDIO_BUFS; i++)
            if (!bufs[i].stream) {
                bufs[i] = (struct stdio_buf){stream, (uintptr_t)buf, (uintptr_t)buf + size, stack,
                                             guard_gettid()};
                atomic_fetch_add(&nbufs, 1);
                break;
            }
        guard_lock_release(&bufs_lock);
    }
    guard_hook_end(&h);
}

static void stream_closed(FILE *stream)
{
    struct guard_hook h;
    if (!atomic_load(&nbufs) || !guard_hook_begin(&h))
        return;
    forget(stream);
    guard_hook_end(&h);
}

int guard_stdio_buffer_of(const void *obj, size_t size, struct guard_stdio_owner *out)
{
    if (__builtin_expect(!atomic_load_explicit(&nbufs, memory_order_relaxed), 1))
        return 0;
    int found = 0;
    if (!guard_lock_acquire(&bufs_lock))
        return 0;
    uintptr_t start = (uintptr_t)obj, end = start + size;
    for (unsigned i = 0; i < STDIO_BUFS && !found; i++)
        if (bufs[i].stream && bufs[i].start < end && start < bufs[i].end) {
            *out = (struct guard_stdio_owner){bufs[i].stream, bufs[i].stack, bufs[i].tid};
            found = 1;
        }
    guard_lock_release(&bufs_lock);
    return found;
}

/* ---- the hooks: each returns what libc returns ----------------------- */

GUARD_EXPORT int setvbuf(FILE *stream, char *buf, int mode, size_t size)
{
    int rc = GUARD_REAL(setvbuf)(stream, buf, mode, size);
    if (rc == 0 && stream) {
        int saved = errno;
        buffer_given(stream, mode == _IONBF ? NULL : buf, size);
        errno = saved;
    }
    return rc;
}

GUARD_EXPORT void setbuffer(FILE *stream, char *buf, size_t size)
{
    GUARD_REAL(setbuffer)(stream, buf, size);
    if (stream) {
        int saved = errno;
        buffer_given(stream, buf, size);
        errno = saved;
    }
}

GUARD_EXPORT void setbuf(FILE *stream, char *buf)
{
    GUARD_REAL(setbuf)(stream, buf);
    if (stream) {
        int saved = errno;
        buffer_given(stream, buf, BUFSIZ);
        errno = saved;
    }
}

/* The stream's file was closed (fclose, freopen: the new file gets a
 * buffer of libc's own); returns result. */
static FILE *reopened(FILE *result, FILE *stream)
{
    int saved = errno;
    stream_closed(stream);
    errno = saved;
    return result;
}

GUARD_EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
    return reopened(GUARD_REAL(freopen)(path, mode, stream), stream);
}

GUARD_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
    return reopened(GUARD_REAL(freopen64)(path, mode, stream), stream);
}

/* The buffer is the stream's until fclose has flushed it. */
GUARD_EXPORT int fclose(FILE *stream)
{
    int rc = GUARD_REAL(fclose)(stream);
    (void)reopened(NULL, stream);
    return rc;
}

GUARD_EXPORT int fcloseall(void)
{
    int rc = GUARD_REAL(fcloseall)();
    struct guard_hook h;
    int saved = errno;
    if (atomic_load(&nbufs) && guard_hook_begin(&h)) {
        if (guard_lock_acquire(&bufs_lock)) {
            for (unsigned i = 0; i < STDIO_BUFS; i++)
                bufs[i].stream = NULL;
            atomic_store(&nbufs, 0);
            guard_lock_release(&bufs_lock);
        }
        guard_hook_end(&h);
    }
    errno = saved;
    return rc;
}
