/*
 * vfork_semantics — what programs rely on vfork for: the child runs on the
 * parent's memory until it execs or exits, so what it writes the parent
 * sees, and the parent waits.  Three children: one that only writes a
 * variable and _exits, one whose exec fails and that reports the errno
 * through memory (as shells and posix_spawn implementations do), and one
 * that execs /bin/true.  Prints what the parent sees; the test compares it
 * with and without the shim.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int written_by_child;
static volatile int exec_errno;

static __attribute__((noinline)) pid_t start_child(int what)
{
    pid_t pid = vfork(); /* VFORK_SITE */
    if (pid == 0) {
        if (what == 0) {
            written_by_child = 42;
            _exit(3);
        }
        char *argv[] = {what == 1 ? "/nonexistent/program" : "/bin/true", NULL};
        execv(argv[0], argv);
        exec_errno = errno;
        _exit(127);
    }
    return pid;
}

int main(void)
{
    for (int what = 0; what < 3; what++) {
        written_by_child = 0;
        exec_errno = 0;
        pid_t pid = start_child(what);
        int status = 0;
        pid_t got = waitpid(pid, &status, 0);
        printf("child %d: reaped %s, exit %d, written %d, exec errno %s\n", what,
               got == pid ? "yes" : "no", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
               written_by_child, exec_errno ? strerrorname_np(exec_errno) : "0");
    }
    return 0;
}
