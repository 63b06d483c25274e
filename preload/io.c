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
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "guard_internal.h"
#include "hook.h"

/* Did this EFAULT come from a returned object?  (Any buffer of the call.)
 * The iovec array (and a msghdr) may itself be the bad pointer the kernel
 * rejected: it is copied with a read that cannot fault, and what cannot be
 * read is not looked at (ours_iov: the array is the hook's own). */
static int efault_on_iov(const char *call, const struct iovec *iov, int n, unsigned access,
                         int ours_iov)
{
    struct guard_hook h;
    if (n <= 0 || !iov || !guard_hook_begin(&h))
        return 0;
    int ours = 0;
    struct iovec part[64];
    for (int at = 0; at < n && at < 1024; at += 64) {
        int want = n - at < 64 ? n - at : 64;
        long got = (long)((size_t)want * sizeof part[0]);
        if (ours_iov)
            memcpy(part, iov + at, (size_t)got);
        else
            got = guard_sys_peek(guard_pid, part, iov + at, (size_t)got);
        int have = got > 0 ? (int)((size_t)got / sizeof part[0]) : 0;
        for (int i = 0; i < have; i++)
            if (part[i].iov_len &&
                guard_pool_efault(call, part[i].iov_base, part[i].iov_len, access))
                ours = 1;
        if (have < want)
            break;
    }
    guard_hook_end(&h);
    return ours;
}

/* The same for a msghdr: its iovec array, if the msghdr can be read. */
static int efault_on_msg(const char *call, const struct msghdr *m, unsigned access)
{
    struct msghdr copy;
    if (!m || guard_sys_peek(guard_pid, &copy, m, sizeof copy) != (long)sizeof copy)
        return 0;
    return efault_on_iov(call, copy.msg_iov, (int)copy.msg_iovlen, access, 0);
}

#define EFAULT_RETRY(call_expr, check)                                              \
    do {                                                                            \
        ret = call_expr;                                                            \
        if (__builtin_expect(ret < 0, 0) && errno == EFAULT && (check))             \
            ret = call_expr;                                                        \
    } while (0)

/* The kernel reads the buffer of write/send (a read of the object) and
 * writes the buffer of read/recv. */
#define IO_HOOK_BUF(ret_t, name, access, params, args, buf, len)                \
    GUARD_EXPORT ret_t name params                                              \
    {                                                                           \
        ret_t ret;                                                              \
        if (guard_unwinder_fd(fd))                                              \
            return guard_unwinder_fd_io(fd, (uintptr_t)(buf));                             \
        struct iovec one = {(void *)(buf), (len)};                              \
        EFAULT_RETRY(GUARD_REAL(name) args, efault_on_iov(#name, &one, 1, access, 1)); \
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

#define IO_HOOK_IOV(name, params, args, check)                                  \
    GUARD_EXPORT ssize_t name params                                            \
    {                                                                           \
        ssize_t ret;                                                            \
        EFAULT_RETRY(GUARD_REAL(name) args, check);                             \
        return ret;                                                             \
    }

IO_HOOK_IOV(readv, (int fd, const struct iovec *v, int c), (fd, v, c),
            efault_on_iov("readv", v, c, GUARD_ACCESS_WRITE, 0))
IO_HOOK_IOV(writev, (int fd, const struct iovec *v, int c), (fd, v, c),
            efault_on_iov("writev", v, c, GUARD_ACCESS_READ, 0))
IO_HOOK_IOV(preadv, (int fd, const struct iovec *v, int c, off_t o), (fd, v, c, o),
            efault_on_iov("preadv", v, c, GUARD_ACCESS_WRITE, 0))
IO_HOOK_IOV(pwritev, (int fd, const struct iovec *v, int c, off_t o), (fd, v, c, o),
            efault_on_iov("pwritev", v, c, GUARD_ACCESS_READ, 0))
IO_HOOK_IOV(sendmsg, (int fd, const struct msghdr *m, int f), (fd, m, f),
            efault_on_msg("sendmsg", m, GUARD_ACCESS_READ))
IO_HOOK_IOV(recvmsg, (int fd, struct msghdr *m, int f), (fd, m, f),
            efault_on_msg("recvmsg", m, GUARD_ACCESS_WRITE))
