/*
 * exec_told_late — forked children whose exec the exec board used to lose:
 *   exec_told_late orphan   the parent exits while its child is still to
 *                           exec (a daemon's double fork): the child must
 *                           say what it ran in its own log
 *   exec_told_late pidns    the parent forks into a new PID namespace
 *                           (unshare(CLONE_NEWPID), as `unshare -p -f`
 *                           does): the child is pid 1 there, not the pid
 *                           its parent sees (needs CAP_SYS_ADMIN; exits 77
 *                           without it)
 *   exec_told_late ignored  SIGCHLD is ignored, so the parent never reaps
 *                           its 300 children (the kernel does) and their
 *                           slots on the exec board are never given back:
 *                           the children past the board's 256 slots must
 *                           say what they ran themselves
 * The child execs /bin/true with the mode as its argument.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "ignored")) {
        signal(SIGCHLD, SIG_IGN);
        for (int i = 0; i < 300; i++)
            if (fork() == 0) {
                execl("/bin/true", "true", "ignored", (char *)NULL);
                _exit(127);
            }
        while (wait(NULL) > 0 || errno == EINTR)
            ; /* returns ECHILD once the kernel has reaped them all */
        return 0;
    }
    if (argc != 2 || (strcmp(argv[1], "orphan") && strcmp(argv[1], "pidns"))) {
        fprintf(stderr, "usage: exec_told_late orphan|pidns|ignored\n");
        return 2;
    }
    int pidns = !strcmp(argv[1], "pidns");
    if (pidns && unshare(CLONE_NEWPID) != 0) {
        fprintf(stderr, "exec_told_late: unshare(CLONE_NEWPID): %s\n", strerror(errno));
        return 77;
    }
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        if (!pidns)
            usleep(200 * 1000); /* the parent is gone by now */
        execl("/bin/true", "true", argv[1], (char *)NULL);
        _exit(127);
    }
    if (!pidns)
        return 0; /* never waits: the child is the init process's now */
    int status;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
