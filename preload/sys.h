/*
 * sys.h — the shim's own system calls, made inline.
 *
 * The shim never calls the libc functions it hooks (read, write, open,
 * readlink, kill, syscall, ...): through libc it would enter its own hooks
 * (the PLT binds a library's calls to the first definition, ours).  These
 * helpers are the system call itself: they return -errno on failure and
 * never touch errno, so a hook that uses them has nothing to restore.  A
 * forked child also uses them on its way to exec: each libc function it
 * called would be one more page of code to fault in per child.
 */
#ifndef GUARD_SYS_H
#define GUARD_SYS_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

static inline long guard_sys_call6(long nr, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#define GUARD_SYS3(nr, a, b, c) guard_sys_call6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)

static inline long guard_sys_read(int fd, void *buf, size_t len)
{
    return GUARD_SYS3(SYS_read, fd, buf, len);
}
static inline long guard_sys_write(int fd, const void *buf, size_t len)
{
    return GUARD_SYS3(SYS_write, fd, buf, len);
}
static inline long guard_sys_pread(int fd, void *buf, size_t len, off_t at)
{
    return guard_sys_call6(SYS_pread64, fd, (long)buf, (long)len, (long)at, 0, 0);
}
static inline int guard_sys_open(const char *path, int flags, mode_t mode)
{
    return (int)guard_sys_call6(SYS_openat, AT_FDCWD, (long)path, flags, mode, 0, 0);
}
static inline int guard_sys_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    return (int)guard_sys_call6(SYS_openat, dirfd, (long)path, flags, mode, 0, 0);
}
static inline int guard_sys_close(int fd)
{
    return (int)GUARD_SYS3(SYS_close, fd, 0, 0);
}
static inline long guard_sys_readlink(const char *path, char *buf, size_t len)
{
    return guard_sys_call6(SYS_readlinkat, AT_FDCWD, (long)path, (long)buf, (long)len, 0, 0);
}
static inline int guard_sys_kill(pid_t pid, int sig)
{
    return (int)GUARD_SYS3(SYS_kill, pid, sig, 0);
}
static inline int guard_sys_tgkill(pid_t tgid, pid_t tid, int sig)
{
    return (int)GUARD_SYS3(SYS_tgkill, tgid, tid, sig);
}
static inline pid_t guard_sys_getpid(void)
{
    return (pid_t)GUARD_SYS3(SYS_getpid, 0, 0, 0);
}
static inline pid_t guard_sys_gettid(void)
{
    return (pid_t)GUARD_SYS3(SYS_gettid, 0, 0, 0);
}
static inline int guard_sys_waitid(int idtype, id_t id, void *info, int options)
{
    return (int)guard_sys_call6(SYS_waitid, idtype, (long)id, (long)info, options, 0, 0);
}

/* Copies up to len bytes of this process's (pid self's) memory at src into
 * dst without faulting: returns how many it copied (fewer when src runs
 * into an unmapped page; 0 for a bad pointer), or -errno when the kernel
 * refuses (a seccomp profile may forbid process_vm_readv: then the caller
 * must treat the memory as unreadable). */
static inline long guard_sys_peek(pid_t self, void *dst, const void *src, size_t len)
{
    struct iovec local = {dst, len}, remote = {(void *)src, len};
    if (len == 0)
        return 0;
    long n = guard_sys_call6(SYS_process_vm_readv, self, (long)&local, 1, (long)&remote, 1, 0);
    return n == -EFAULT ? 0 : n;
}

/* Can the 8 bytes at addr be read?  Asked of rt_sigprocmask with a `how`
 * that does not exist: the kernel copies the new set in first (EFAULT if it
 * cannot) and only then rejects the `how` (EINVAL), so the mask never
 * changes.  No descriptor, allowed by every seccomp profile. */
static inline int guard_sys_readable8(const void *addr)
{
    return guard_sys_call6(SYS_rt_sigprocmask, -1, (long)addr, 0, 8, 0, 0) != -EFAULT;
}

#endif /* GUARD_SYS_H */
