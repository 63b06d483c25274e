/*
 * fork_mapping_cost — what one more memory mapping costs a program that
 * forks and execs, with no shim at all.  The shim's cost to a spawning
 * process is mostly mappings (its own image, the exec board, the
 * parent-only memory, the log): every fork copies each mapping of the
 * parent, and every exec tears the child's copies down.  This bench gave
 * the figures docs/performance.md and docs/design.md reason with.
 *
 * Each round runs a fork + execve(/bin/true) + waitpid loop in a worker
 * with no extra mappings and in workers with N extra ones of each kind:
 *   private    MAP_PRIVATE|MAP_ANONYMOUS, one page written (as the shim's
 *              .bss, or a log chunk before MADV_DONTFORK)
 *   dontfork   the same with MADV_DONTFORK: the fork leaves it out
 *   shared     MAP_SHARED|MAP_ANONYMOUS, one page written (the exec board)
 * Each mapping is two pages with different protections, so that no two
 * merge into one (2N mappings in all).  The order of the workers rotates
 * each round; the cost of one mapping is the median over rounds of
 * (worker with 2N - worker with none) / 2N.
 *
 *   build/bench/fork_mapping_cost [-n SPAWNS] [-r ROUNDS] [MAPPINGS]
 */
#include "bench_common.h"

#include <sys/mman.h>
#include <sys/wait.h>

enum kind { K_NONE, K_PRIVATE, K_DONTFORK, K_SHARED, NKINDS };
static const char *const kind_names[NKINDS] = {"none", "private", "dontfork", "shared"};

static int map_extra(enum kind kind, int pairs)
{
    for (int i = 0; i < pairs; i++) {
        int flags = kind == K_SHARED ? MAP_SHARED | MAP_ANONYMOUS : MAP_PRIVATE | MAP_ANONYMOUS;
        char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, flags, -1, 0);
        if (p == MAP_FAILED || mprotect(p + 4096, 4096, PROT_READ) != 0)
            return -1;
        p[0] = 1;
        if (kind == K_DONTFORK && madvise(p, 8192, MADV_DONTFORK) != 0)
            return -1;
    }
    return 0;
}

/* In the worker: us per fork+exec+wait, or -1. */
static double spawn_loop(long spawns)
{
    for (long i = 0; i < spawns + 20; i++) { /* the first 20: warm-up, untimed */
        static uint64_t t0;
        if (i == 20)
            t0 = bench_now_ns();
        if (bench_spawn_true() != 0)
            return -1;
        if (i == spawns + 19)
            return (double)(bench_now_ns() - t0) / 1e3 / (double)spawns;
    }
    return -1;
}

/* Run one worker in a fork of this process (it maps, then loops). */
static double run_worker(enum kind kind, int pairs, long spawns)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        double us = map_extra(kind, kind == K_NONE ? 0 : pairs) == 0 ? spawn_loop(spawns) : -1;
        _exit(write(fds[1], &us, sizeof us) == sizeof us ? 0 : 1);
    }
    close(fds[1]);
    double us = -1;
    if (pid < 0 || read(fds[0], &us, sizeof us) != sizeof us)
        us = -1;
    close(fds[0]);
    int status;
    if (pid > 0)
        waitpid(pid, &status, 0);
    return us;
}

int main(int argc, char **argv)
{
    long spawns = 1000;
    unsigned rounds = 9;
    int pairs = 25;
    int a = 1;
    for (; a + 1 < argc && argv[a][0] == '-'; a += 2) {
        long v = strtol(argv[a + 1], NULL, 10);
        if (!strcmp(argv[a], "-n") && v >= 10 && v <= 1000000)
            spawns = v;
        else if (!strcmp(argv[a], "-r") && v >= 1 && v <= BENCH_MAX_REPS)
            rounds = (unsigned)v;
        else
            goto usage;
    }
    if (a < argc) {
        long v = strtol(argv[a], NULL, 10);
        if (v < 1 || v > 5000 || v % 2)
            goto usage;
        pairs = (int)(v / 2);
    }
    printf("fork_mapping_cost: fork + execve(/bin/true) + waitpid, %ld spawns per worker, %u rounds;\n"
           "  the cost of one more mapping, from workers with %d extra mappings and none\n",
           spawns, rounds, 2 * pairs);
    double us[NKINDS][BENCH_MAX_REPS], per[NKINDS][BENCH_MAX_REPS];
    for (unsigned r = 0; r < rounds; r++) {
        for (int k = 0; k < NKINDS; k++) {
            enum kind kind = (enum kind)((r + (unsigned)k) % NKINDS);
            us[kind][r] = run_worker(kind, pairs, spawns);
            if (us[kind][r] < 0) {
                fprintf(stderr, "fork_mapping_cost: the %s worker failed\n", kind_names[kind]);
                return 1;
            }
        }
        for (int k = 1; k < NKINDS; k++)
            per[k][r] = (us[k][r] - us[K_NONE][r]) / (2.0 * pairs);
    }
    struct bench_result none = bench_summarize(us[K_NONE], rounds, (uint64_t)spawns);
    printf("  %-10s %8.1f us per spawn (median)\n", kind_names[K_NONE], none.median_ns);
    for (int k = 1; k < NKINDS; k++) {
        struct bench_result all = bench_summarize(us[k], rounds, (uint64_t)spawns);
        struct bench_result one = bench_summarize(per[k], rounds, 0);
        printf("  %-10s %8.1f us per spawn; one mapping: %5.2f us (median; %.2f..%.2f)\n",
               kind_names[k], all.median_ns, one.median_ns, one.best_ns, one.worst_ns);
    }
    return 0;
usage:
    fprintf(stderr, "usage: %s [-n SPAWNS] [-r ROUNDS] [MAPPINGS (even)]\n", argv[0]);
    return 2;
}
