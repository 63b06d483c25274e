/*
 * supervise_floor.c — the least the supervised mode can cost: guard-supervise's
 * own seccomp filter (supervisor/filter.c) and a supervisor that answers
 * every watched call at once, reading, tracing and writing nothing.
 * bench/supervise_bench.sh runs a program plain, under this floor and under
 * guard-supervise side by side: what guard-supervise costs above the floor
 * is its own work (docs/performance.md, "Supervised mode").
 *
 * usage: supervise_floor PROGRAM [ARG...]; exits with the program's status.
 * The listener is taken from the child with pidfd_getfd (Linux 5.6) before
 * the child execs (its exec is itself a watched call).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/seccomp.h>

int filter_install(int *killable); /* supervisor/filter.c */

#define SYNC_WAKE_UP_IOCTL SECCOMP_IOW(4, uint64_t) /* as guard-supervise sets it */

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PROGRAM [ARG...]\n", argv[0]);
        return 2;
    }
    int up[2], down[2];
    if (pipe(up) != 0 || pipe(down) != 0)
        return perror("pipe"), 125;
    pid_t child = fork();
    if (child < 0)
        return perror("fork"), 125;
    if (child == 0) {
        int killable, fd = filter_install(&killable);
        char go;
        if (write(up[1], &fd, sizeof fd) != sizeof fd || fd < 0 || read(down[0], &go, 1) != 1)
            _exit(125);
        close(fd);
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    int cfd = -1;
    if (read(up[0], &cfd, sizeof cfd) != sizeof cfd || cfd < 0) {
        fprintf(stderr, "supervise_floor: the child could not install the filter\n");
        return 125;
    }
    int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
    int listener = pidfd >= 0 ? (int)syscall(SYS_pidfd_getfd, pidfd, cfd, 0) : -1;
    if (listener < 0)
        return perror("pidfd_getfd"), 125;
    (void)ioctl(listener, SYNC_WAKE_UP_IOCTL, 1ul); /* the flag by value; before Linux 6.6: without */
    if (write(down[1], "g", 1) != 1)
        return 125;
    struct seccomp_notif_sizes sizes;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
        return perror("SECCOMP_GET_NOTIF_SIZES"), 125;
    struct seccomp_notif *req = calloc(1, sizes.seccomp_notif);
    struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp);
    for (;;) {
        struct pollfd pf = {listener, POLLIN, 0};
        if (poll(&pf, 1, -1) < 0 && errno != EINTR)
            break;
        if (pf.revents & (POLLHUP | POLLERR))
            break; /* the last process of the tree has ended */
        memset(req, 0, sizes.seccomp_notif);
        if (!(pf.revents & POLLIN) || ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0)
            continue;
        memset(resp, 0, sizes.seccomp_notif_resp);
        resp->id = req->id;
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
    }
    int st = 0;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
