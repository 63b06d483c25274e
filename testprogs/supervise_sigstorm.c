/*
 * supervise_sigstorm: watched calls interrupted by signals, for the
 * supervised mode (tests/test_supervise.py).  The main thread starts a
 * child (it sleeps) and sends it SIGCONT with kill() CALLS times while a
 * second thread sends the main thread SIGUSR1 (an SA_RESTART handler) every
 * few microseconds: signals arrive while kill() waits for the supervisor's
 * answer (before the supervisor received the call, the kernel makes the
 * call again; after, the killable wait holds the signal until the answer).
 * Each kill() must be in the log exactly once.  It prints how many calls
 * it made (at least CALLS, more until 100 signals came during them) and
 * how many signals were handled during them.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CALLS 200

static pid_t main_tid;
static atomic_int stop;
static atomic_int handled;

static void on_usr1(int sig)
{
    (void)sig;
    atomic_fetch_add(&handled, 1);
}

static void *storm(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
        struct timespec ts = {0, 5000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int main(void)
{
    struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    main_tid = (pid_t)syscall(SYS_gettid);
    pid_t child = fork();
    if (child == 0) {
        sleep(30);
        _exit(0);
    }
    pthread_t t;
    pthread_create(&t, NULL, storm, NULL);
    while (atomic_load(&handled) == 0) /* the storm has begun */
        ;
    int first = atomic_load(&handled), calls = 0;
    /* at least CALLS calls, and on until a hundred signals came during them
     * (a loaded machine may give the storm little time) */
    while (calls < CALLS || (atomic_load(&handled) - first < 100 && calls < 100 * CALLS)) {
        kill(child, SIGCONT);
        calls++;
    }
    int during = atomic_load(&handled) - first;
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    printf("%d kill calls, %d signals handled during them\n", calls, during);
    return 0;
}
