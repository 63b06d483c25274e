/*
 * ns_setns_common.h — a helper child makes a new network namespace; the
 * parent joins it with setns(CLONE_NEWNET) on one thread and opens a socket
 * on another (SOCKET_ON_OTHER_THREAD), which lands in the root namespace:
 * namespace-off-thread.  The twin opens the socket on the thread that joined.
 * Also checks that setns(CLONE_NEWNS) in a multithreaded process still
 * fails with EINVAL under the shim.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t helper;
static int joined_ok;
static int sock_fd = -1;

static void *idle_thread(void *arg)
{
    (void)arg;
    pause();
    return NULL;
}

static void *joiner(void *arg)
{
    (void)arg;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)helper);
    int fd = open(path, O_RDONLY);
    joined_ok = fd >= 0 && setns(fd, CLONE_NEWNET) == 0;
    if (fd >= 0)
        close(fd);
#ifndef SOCKET_ON_OTHER_THREAD
    sock_fd = socket(AF_INET, SOCK_STREAM, 0);   /* in the joined namespace */
#endif
    return NULL;
}

int main(void)
{
    int ready[2];
    if (pipe(ready) != 0)
        return 2;
    helper = fork();
    if (helper == 0) {
        if (unshare(CLONE_NEWNET) != 0)
            _exit(3);
        if (write(ready[1], "r", 1) != 1)
            _exit(4);
        pause();
        _exit(0);
    }
    char c;
    if (read(ready[0], &c, 1) != 1)
        return 2;
    pthread_t t;
    pthread_create(&t, NULL, joiner, NULL);
    pthread_join(t, NULL);
#ifdef SOCKET_ON_OTHER_THREAD
    sock_fd = socket(AF_INET, SOCK_STREAM, 0);   /* BUG: main thread is still in the root namespace */
#endif
    /* the kernel refuses to move a multithreaded process's mount namespace */
    pthread_create(&t, NULL, idle_thread, NULL);
    int mntfd = open("/proc/self/ns/mnt", O_RDONLY);
    errno = 0;
    int rc = setns(mntfd, CLONE_NEWNS);
    int einval = rc == -1 && errno == EINVAL;
    close(mntfd);
    kill(helper, SIGTERM);
    waitpid(helper, NULL, 0);
    printf("joined %d, socket %s, setns(mnt) EINVAL %d\n", joined_ok, sock_fd >= 0 ? "ok" : "failed", einval);
    return joined_ok && sock_fd >= 0 && einval ? 0 : 1;
}
