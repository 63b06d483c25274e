/*
 * bad_pointers — every hooked call that takes a pointer, given one the
 * kernel rejects.  Natively each returns -1 with EFAULT (or an error of
 * its own); under the shim each must return exactly the same, and the
 * program must not crash.  Prints one line per call: name, return value,
 * errno.  The test runs it with and without the shim and compares the
 * output byte for byte.  (mount, umount and chroot are made only with a
 * bad path, which the kernel rejects before anything is mounted; the test
 * still runs this program in a private mount namespace when it can.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void show(const char *name, long rc)
{
    int err = errno;
    printf("%-34s rc=%ld errno=%s\n", name, rc, rc < 0 || err ? strerrorname_np(err) : "0");
    fflush(stdout);
    errno = 0;
}

#define TRY(expr) (errno = 0, show(#expr, (long)(expr)))

int main(void)
{
    /* an address the kernel cannot read: a page kept PROT_NONE (an unmapped
     * one could be taken by the next mapping anyone makes, the shim's too) */
    char *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const struct iovec *bad_iov = (const void *)bad;
    char buf[64];
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int fd = open("/dev/null", O_RDWR);

    TRY(open(bad, O_RDONLY));
    TRY(open(bad, O_RDONLY | O_CREAT, 0600));
    TRY(openat(AT_FDCWD, bad, O_RDONLY));
    TRY(readlink(bad, buf, sizeof buf));
    TRY(readlinkat(AT_FDCWD, bad, buf, sizeof buf));
    TRY(readlink("/proc/self/exe", bad, 64));
    TRY(mount("none", bad, "tmpfs", 0, NULL));
    TRY(umount(bad));
    TRY(umount2(bad, 0));
    TRY(chroot(bad));
    TRY(syscall(SYS_pivot_root, bad, bad));
    TRY(read(fd, bad, 16));
    TRY(write(fd, bad, 16));
    TRY(readv(fd, bad_iov, 2));
    TRY(writev(fd, bad_iov, 2));
    TRY(preadv(fd, bad_iov, 2, 0));
    TRY(pwritev(fd, bad_iov, 2, 0));
    struct iovec iov_bad_base = {bad, 16};
    TRY(writev(fd, &iov_bad_base, 1));
    TRY(sendmsg(sv[0], (const struct msghdr *)bad, 0));
    TRY(recvmsg(sv[1], (struct msghdr *)bad, MSG_DONTWAIT));
    struct msghdr msg = {.msg_iov = (struct iovec *)bad, .msg_iovlen = 1};
    TRY(sendmsg(sv[0], &msg, 0));
    TRY(recvmsg(sv[1], &msg, MSG_DONTWAIT));
    char *argv_ok[] = {"true", NULL};
    char *argv_bad_elem[] = {"true", bad, NULL};
    char *envp_bad_elem[] = {"A=1", bad, NULL};
    TRY(execve(bad, argv_ok, environ));
    TRY(execve("/bin/true", (char *const *)bad, environ));
    TRY(execve("/bin/true", argv_bad_elem, environ));
    TRY(execve("/bin/true", argv_ok, envp_bad_elem));
    TRY(execve("/bin/true", argv_ok, (char *const *)bad));
    TRY(execv(bad, argv_ok));
    TRY(execvp("true", argv_bad_elem));
    pid_t pid = 12345;
    int rc = posix_spawn(&pid, "/nonexistent/program", NULL, NULL, argv_ok, environ);
    printf("%-34s rc=%d pid=%s\n", "posix_spawn(nonexistent)", rc, pid == 12345 ? "untouched" : "changed");
    return 0;
}
