/*
 * child_let_go — the correct twin of unreaped-child: every way real
 * programs reap a child, or let one go on purpose.  Each scenario runs in a
 * process of its own (so that one scenario's reaper style does not excuse
 * another's), started together and waited for by main.  Each scenario
 * process goes on for a while after its child is done, as a buggy program
 * would: none of them may be flagged.
 *
 *   child_let_go             all scenarios
 *   child_let_go reap-any    (internal) the image exec'd by "exec-handover"
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define GO_ON_US (300 * 1000) /* longer than a zombie may sit unnoticed */

static pid_t child_exiting(int code)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(code);
    return pid;
}

static pid_t child_sleeping(const char *seconds)
{
    pid_t pid;
    char *argv[] = {"sleep", (char *)seconds, NULL};
    if (posix_spawnp(&pid, "sleep", NULL, NULL, argv, environ) != 0)
        return -1;
    return pid;
}

static void raw_wait4(void)
{
    pid_t pid = child_exiting(1);
    int status;
    syscall(SYS_wait4, pid, &status, 0, NULL);
}

static void raw_waitid(void)
{
    pid_t pid = child_exiting(2);
    siginfo_t si;
    syscall(SYS_waitid, P_PID, pid, &si, WEXITED, NULL);
}

static void pidfd_poll_and_waitid(void)
{
    pid_t pid = child_exiting(3);
    int fd = pidfd_open(pid, 0);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    poll(&p, 1, -1);
    siginfo_t si;
    waitid(P_PIDFD, (id_t)fd, &si, WEXITED);
    close(fd);
}

static void pidfd_kill_and_waitid(void)
{
    pid_t pid = child_sleeping("5");
    int fd = pidfd_open(pid, 0);
    pidfd_send_signal(fd, SIGTERM, NULL, 0);
    siginfo_t si;
    waitid(P_PIDFD, (id_t)fd, &si, WEXITED);
    close(fd);
}

static void kill_and_raw_wait4(void)
{
    pid_t pid = child_sleeping("5");
    syscall(SYS_kill, pid, SIGTERM);
    syscall(SYS_wait4, pid, NULL, 0, NULL);
}

static void on_sigchld(int sig)
{
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

static void sigchld_handler_reaps(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    child_exiting(4);
    child_exiting(5);
}

static void signalfd_then_waitpid(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int fd = signalfd(-1, &set, SFD_CLOEXEC);
    pid_t pid = child_exiting(6);
    struct signalfd_siginfo info;
    if (read(fd, &info, sizeof info) == (ssize_t)sizeof info)
        waitpid((pid_t)info.ssi_pid, NULL, 0);
    else
        waitpid(pid, NULL, 0);
    close(fd);
}

static void *reaper(void *arg)
{
    waitpid((pid_t)(intptr_t)arg, NULL, 0);
    return NULL;
}

static void reaper_thread_per_child(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, reaper, (void *)(intptr_t)child_exiting(7 + i));
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
}

static void sigchld_ignored_after_the_spawn(void)
{
    child_sleeping("0.1");
    signal(SIGCHLD, SIG_IGN); /* the kernel reaps it when it exits */
}

static void session_leader_child(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        setsid(); /* detached on purpose (Python's start_new_session) */
        _exit(0);
    }
}

static void posix_spawn_setsid(void)
{
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    pid_t pid;
    char *argv[] = {"true", NULL};
    posix_spawnp(&pid, "true", NULL, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
}

static void double_fork_daemon(void)
{
    pid_t mid = fork();
    if (mid == 0) {
        if (fork() == 0) { /* the daemon: runs on after its parent is gone */
            usleep(200 * 1000);
            _exit(0);
        }
        _exit(0);
    }
    waitpid(mid, NULL, 0);
}

static void background_job_runs_on(void)
{
    child_sleeping("0.5"); /* left running, as `sleep 0.5 &` in a shell */
}

static void subreaper_reaps_orphans(void)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_t mid = fork();
    if (mid == 0) {
        if (fork() == 0)
            _exit(0);
        _exit(0);
    }
    waitpid(mid, NULL, 0);
    usleep(100 * 1000);
    while (waitpid(-1, NULL, WNOHANG) > 0) /* the orphaned grandchild */
        ;
}

static void exec_handover(const char *self)
{
    child_sleeping("0.2"); /* running at the exec: the new image reaps it */
    execl(self, self, "reap-any", (char *)NULL);
}

static void bad_status_pointer(void)
{
    pid_t pid = child_exiting(9);
    usleep(50 * 1000);
    waitpid(pid, (int *)16, 0); /* EFAULT, yet the kernel reaped it */
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "reap-any")) {
        while (wait(NULL) > 0)
            ;
        return 0;
    }
    void (*const scenarios[])(void) = {
        raw_wait4, raw_waitid, pidfd_poll_and_waitid, pidfd_kill_and_waitid, kill_and_raw_wait4,
        sigchld_handler_reaps, signalfd_then_waitpid, reaper_thread_per_child,
        sigchld_ignored_after_the_spawn, session_leader_child, posix_spawn_setsid,
        double_fork_daemon, background_job_runs_on, subreaper_reaps_orphans, bad_status_pointer,
        NULL};
    int n = 0;
    for (int i = 0; scenarios[i]; i++, n++)
        if (fork() == 0) {
            scenarios[i]();
            usleep(GO_ON_US);
            exit(0);
        }
    if (fork() == 0)
        exec_handover(argv[0]);
    n++;
    for (int i = 0; i < n; i++)
        wait(NULL);
    printf("%d scenarios\n", n);
    return 0;
}
