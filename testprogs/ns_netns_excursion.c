/*
 * ns_netns_excursion — the shape of Docker's libnetwork: one dedicated
 * thread enters a container's network namespace with setns(), works there
 * (a socket), and goes back with setns() to the namespace it came from;
 * three times.  While it is inside, after its socket, and again after it
 * is back, two host threads and the main thread open sockets: all of them
 * in the host's network namespace, as they mean to.  The container is a
 * helper child that made a network namespace of its own.  Each socket's
 * namespace is checked (/proc/thread-self/ns/net).  No finding.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS 3
#define HOSTS 2

static char host_ns[64], container_ns[64];
static pid_t helper;
static sem_t inside[HOSTS], hosts_done, all_back;
static int wrong;

static void thread_ns(char *out, size_t len)
{
    ssize_t n = readlink("/proc/thread-self/ns/net", out, len - 1);
    out[n > 0 ? n : 0] = '\0';
}

/* A socket, checked to be in the namespace `expected`. */
static void socket_in(const char *expected, const char *who)
{
    char now[64];
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    thread_ns(now, sizeof now);
    if (fd < 0 || strcmp(now, expected) != 0) {
        fprintf(stderr, "%s: socket in %s, expected %s\n", who, now, expected);
        __atomic_add_fetch(&wrong, 1, __ATOMIC_RELAXED);
    }
    if (fd >= 0)
        close(fd);
}

static void *netlink_thread(void *arg)
{
    (void)arg;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)helper);
    int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int container = open(path, O_RDONLY | O_CLOEXEC);
    for (int round = 0; round < ROUNDS; round++) {
        if (home < 0 || container < 0 || setns(container, CLONE_NEWNET) != 0) {
            perror("enter the container");
            __atomic_add_fetch(&wrong, 1, __ATOMIC_RELAXED);
            break;
        }
        socket_in(container_ns, "in the container");   /* its work there */
        for (int i = 0; i < HOSTS; i++)
            sem_post(&inside[i]);
        for (int i = 0; i < HOSTS; i++)
            sem_wait(&hosts_done);
        if (setns(home, CLONE_NEWNET) != 0) {         /* back where it came from */
            perror("leave the container");
            __atomic_add_fetch(&wrong, 1, __ATOMIC_RELAXED);
            break;
        }
        socket_in(host_ns, "back home");
    }
    close(home);
    close(container);
    return NULL;
}

static void *host_thread(void *arg)
{
    int i = (int)(long)arg;
    for (int round = 0; round < ROUNDS; round++) {
        sem_wait(&inside[i]);
        socket_in(host_ns, "host thread, while the other is inside");
        sem_post(&hosts_done);
    }
    sem_wait(&all_back);
    socket_in(host_ns, "host thread, afterwards");
    return NULL;
}

int main(void)
{
    int ready[2];
    if (pipe(ready) != 0)
        return 2;
    helper = fork();
    if (helper == 0) {
        if (unshare(CLONE_NEWNET) != 0 || write(ready[1], "r", 1) != 1)
            _exit(3);
        pause();
        _exit(0);
    }
    char c;
    if (read(ready[0], &c, 1) != 1)
        return 2;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)helper);
    thread_ns(host_ns, sizeof host_ns);
    ssize_t n = readlink(path, container_ns, sizeof container_ns - 1);
    container_ns[n > 0 ? n : 0] = '\0';
    sem_init(&hosts_done, 0, 0);
    sem_init(&all_back, 0, 0);
    pthread_t nl, hosts[HOSTS];
    for (int i = 0; i < HOSTS; i++) {
        sem_init(&inside[i], 0, 0);
        pthread_create(&hosts[i], NULL, host_thread, (void *)(long)i);
    }
    pthread_create(&nl, NULL, netlink_thread, NULL);
    pthread_join(nl, NULL);
    for (int i = 0; i < HOSTS; i++)
        sem_post(&all_back);
    for (int i = 0; i < HOSTS; i++)
        pthread_join(hosts[i], NULL);
    socket_in(host_ns, "main, afterwards");
    kill(helper, SIGTERM);
    waitpid(helper, NULL, 0);
    printf("%d rounds, host %s, container %s, %d sockets in the wrong namespace\n", ROUNDS,
           host_ns, container_ns, wrong);
    return wrong ? 1 : 0;
}
