/*
 * supervise_bench.c — the cost of a system call under guard-supervise
 * (docs/performance.md, "Supervised mode"):
 *   watched    kill(getpid(), 0): the filter sends it to the supervisor,
 *              which looks at the thread and lets it go on (no record:
 *              the target is no child);
 *   unwatched  getppid(): the filter lets it pass on its own.
 * Run it plain and under build/guard-supervise; the difference per call is
 * the mode's cost.  Prints the median and best ns per call of -r
 * repetitions of -n calls each.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void measure(const char *name, int watched, long n, int reps)
{
    double per[64];
    pid_t self = getpid();
    for (int r = 0; r < reps; r++) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++) {
            if (watched)
                syscall(SYS_kill, self, 0);
            else
                syscall(SYS_getppid);
        }
        per[r] = (now_ns() - t0) / (double)n;
    }
    qsort(per, (size_t)reps, sizeof per[0], cmp);
    printf("%-10s %8.1f ns/call median, %8.1f best (%d x %ld calls)\n", name, per[reps / 2],
           per[0], reps, n);
}

int main(int argc, char **argv)
{
    long n = 20000;
    int reps = 7;
    int opt;
    while ((opt = getopt(argc, argv, "n:r:")) != -1) {
        if (opt == 'n')
            n = atol(optarg);
        else if (opt == 'r')
            reps = atoi(optarg);
    }
    if (reps < 1 || reps > 64 || n < 1) {
        fprintf(stderr, "usage: supervise_bench [-n CALLS] [-r REPS (1..64)]\n");
        return 2;
    }
    measure("watched", 1, n, reps);
    measure("unwatched", 0, n * 50, reps);
    return 0;
}
