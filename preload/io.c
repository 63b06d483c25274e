/*
 * io.c — the read/write family, watched on the error path only.
 *
 * When the kernel copies to or from a returned (PROT_NONE) pool object, the
 * call fails with EFAULT instead of faulting: a use-after-return by the
 * kernel, as when a writer thread still feeding a child's pipe from a buffer that was already
 * back in its pool.  The fast path is the real call and one compare; only a
 * failure with EFAULT looks further.  When the buffer is a returned object,
 * the finding is reported, the object unprotected, and the call made again,
 * so the program sees what it would have seen without the shim.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "guard_internal.h"
#include "hook.h"

/* Did this EFAULT come from a returned object?  (Any buffer of the call.) */
static int efault_on_buffers(const char *call, const struct iovec *iov, int n, unsigned access)
{
    struct guard_hook h;
    if (!guard_hook_begin(&h))
        return 0;
    int ours = 0;
    for (int i = 0; i < n && i < 1024; i++)
        if (iov[i].iov_len && guard_pool_efault(call, iov[i].iov_base, iov[i].iov_len, access))
            ours = 1;
    guard_hook_end(&h);
    return ours;
}

#define EFAULT_RETRY(call_expr, name, bufs, nbufs, access)                                   \
    do {                                                                                     \
        ret = call_expr;                                                                     \
        if (__builtin_expect(ret < 0, 0) && errno == EFAULT &&                               \
            efault_on_buffers(name, bufs, nbufs, access))                                    \
            ret = call_expr;                                                                 \
    } while (0)

/* The kernel reads the buffer of write/send (a read of the object) and
 * writes the buffer of read/recv. */
#define IO_HOOK_BUF(ret_t, name, access, params, args, buf, len)                \
    GUARD_EXPORT ret_t name params                                              \
    {                                                                           \
        ret_t ret;                                                              \
        struct iovec one = {(void *)(buf), (len)};                              \
        EFAULT_RETRY(GUARD_REAL(name) args, #name, &one, 1, access);            \
        return ret;                                                             \
    }

IO_HOOK_BUF(ssize_t, read, GUARD_ACCESS_WRITE, (int fd, void *b, size_t n), (fd, b, n), b, n)
IO_HOOK_BUF(ssize_t, write, GUARD_ACCESS_READ, (int fd, const void *b, size_t n), (fd, b, n), b, n)
IO_HOOK_BUF(ssize_t, pread, GUARD_ACCESS_WRITE, (int fd, void *b, size_t n, off_t o), (fd, b, n, o), b, n)
IO_HOOK_BUF(ssize_t, pwrite, GUARD_ACCESS_READ, (int fd, const void *b, size_t n, off_t o), (fd, b, n, o), b, n)
IO_HOOK_BUF(ssize_t, pread64, GUARD_ACCESS_WRITE, (int fd, void *b, size_t n, off64_t o), (fd, b, n, o), b, n)
IO_HOOK_BUF(ssize_t, pwrite64, GUARD_ACCESS_READ, (int fd, const void *b, size_t n, off64_t o), (fd, b, n, o), b, n)
IO_HOOK_BUF(ssize_t, send, GUARD_ACCESS_READ, (int fd, const void *b, size_t n, int f), (fd, b, n, f), b, n)
IO_HOOK_BUF(ssize_t, recv, GUARD_ACCESS_WRITE, (int fd, void *b, size_t n, int f), (fd, b, n, f), b, n)
IO_HOOK_BUF(ssize_t, sendto, GUARD_ACCESS_READ,
            (int fd, const void *b, size_t n, int f, const struct sockaddr *a, socklen_t l),
            (fd, b, n, f, a, l), b, n)
IO_HOOK_BUF(ssize_t, recvfrom, GUARD_ACCESS_WRITE,
            (int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l),
            (fd, b, n, f, a, l), b, n)

#define IO_HOOK_IOV(name, access, params, args, iov, cnt)                       \
    GUARD_EXPORT ssize_t name params                                            \
    {                                                                           \
        ssize_t ret;                                                            \
        EFAULT_RETRY(GUARD_REAL(name) args, #name, iov, cnt, access);           \
        return ret;                                                             \
    }

IO_HOOK_IOV(readv, GUARD_ACCESS_WRITE, (int fd, const struct iovec *v, int c), (fd, v, c), v, c)
IO_HOOK_IOV(writev, GUARD_ACCESS_READ, (int fd, const struct iovec *v, int c), (fd, v, c), v, c)
IO_HOOK_IOV(preadv, GUARD_ACCESS_WRITE, (int fd, const struct iovec *v, int c, off_t o), (fd, v, c, o), v, c)
IO_HOOK_IOV(pwritev, GUARD_ACCESS_READ, (int fd, const struct iovec *v, int c, off_t o), (fd, v, c, o), v, c)
IO_HOOK_IOV(sendmsg, GUARD_ACCESS_READ, (int fd, const struct msghdr *m, int f), (fd, m, f),
            m ? m->msg_iov : NULL, m ? (int)m->msg_iovlen : 0)
IO_HOOK_IOV(recvmsg, GUARD_ACCESS_WRITE, (int fd, struct msghdr *m, int f), (fd, m, f),
            m ? m->msg_iov : NULL, m ? (int)m->msg_iovlen : 0)
