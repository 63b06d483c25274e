/*
 * nss_fork_initgroups_common.h — a program drops privileges in a child
 * before exec: initgroups, setgid, setuid, exec.  initgroups reads the
 * group database through NSS (locks, maybe a module to load), so in a
 * child forked while another thread ran it can deadlock on a lock that
 * thread held at the fork (fork-unsafe-call).
 *
 * nss_fork_initgroups: the parent has a second thread and the child calls
 * initgroups (the bug).  nss_fork_initgroups_fixed (NSS_FORK_FIXED) does
 * the two correct things: the same child while the process has no other
 * thread, and, once it has one, the groups resolved in the parent with
 * getgrouplist and only setgroups (a system call) in the child.
 */
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idle_thread.h"

static int wait_child(pid_t pid)
{
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Drop to nobody with initgroups in the child, then exec. */
static pid_t spawn_with_initgroups(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (initgroups("nobody", 65534) != 0) /* BUG in a threaded parent's child */
            _exit(126);
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(125);
        execlp("true", "true", (char *)NULL);
        _exit(127);
    }
    return pid;
}

#ifdef NSS_FORK_FIXED
/* The groups resolved before the fork; the child only makes system calls. */
static pid_t spawn_with_groups(const gid_t *groups, int ngroups)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (setgroups((size_t)ngroups, groups) != 0)
            _exit(126);
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(125);
        execlp("true", "true", (char *)NULL);
        _exit(127);
    }
    return pid;
}
#endif

int main(void)
{
    int status = 0;
#ifdef NSS_FORK_FIXED
    status |= wait_child(spawn_with_initgroups()); /* no other thread yet: fine */
#endif
    pthread_t t = idle_start(); /* the parent is multithreaded from here */
#ifdef NSS_FORK_FIXED
    gid_t groups[64];
    int ngroups = 64;
    if (getgrouplist("nobody", 65534, groups, &ngroups) < 0)
        return 2;
    status |= wait_child(spawn_with_groups(groups, ngroups));
#else
    status |= wait_child(spawn_with_initgroups());
#endif
    idle_stop(t);
    printf("children exited with %d\n", status);
    return 0;
}
