/*
 * wait_bad_status — waitpid, wait4 and waitid given a status (or siginfo)
 * pointer the kernel cannot write.  The kernel reaps the child all the
 * same and returns EFAULT; natively and under the shim the calls return
 * the same, and under the shim the children count as reaped (no
 * unreaped-child).  Prints one line per call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child(int code)
{
    pid_t p = fork();
    if (p == 0)
        _exit(code);
    usleep(50000); /* let it exit: the wait then finds a zombie */
    return p;
}

static void show(const char *name, long rc, pid_t expect)
{
    printf("%-8s rc=%s errno=%s\n", name, rc == expect ? "expected" : rc < 0 ? "-1" : "other",
           rc < 0 ? strerrorname_np(errno) : "0");
    errno = 0;
}

int main(void)
{
    void *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    pid_t a = child(3);
    show("waitpid", waitpid(a, bad, 0), a);
    pid_t b = child(4);
    show("wait4", wait4(-1, NULL, 0, bad), b);
    pid_t c = child(5);
    show("waitid", waitid(P_PID, (id_t)c, bad, WEXITED), 0);
    show("leftover", waitpid(-1, NULL, WNOHANG), -1);
    return 0;
}
