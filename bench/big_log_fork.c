/*
 * big_log_fork — does a parent's fork get slower as its log grows?
 *
 * Run under the shim: records CYCLES pool get/put pairs (64 bytes of log
 * each: 1,600,000 is ~100 MiB), then times a fork + execve(/bin/true) +
 * waitpid loop.  With follow_exec=0 (as below) /bin/true runs without the
 * shim: this is the spawning process's cost alone.
 * Compare CYCLES=0 with a large CYCLES: the shim maps its log 16 MiB at a
 * time (preload/log.c), and each mapping costs every fork ~0.7 us even
 * though the fork leaves it out (bench/fork_mapping_cost).
 *
 *   LD_PRELOAD=$PWD/build/libguard.so \
 *   GUARD_OPTIONS=log_dir=DIR:pool_poison=0:pool_protect=0:follow_exec=0 \
 *   build/bench/big_log_fork 1600000
 *
 * usage: big_log_fork CYCLES [SPAWNS]
 */
#include "bench_common.h"


static char pool[1][64];

int main(int argc, char **argv)
{
    long cycles = argc > 1 ? strtol(argv[1], NULL, 10) : -1;
    long spawns = argc > 2 ? strtol(argv[2], NULL, 10) : 300;
    if (cycles < 0 || spawns < 1) {
        fprintf(stderr, "usage: %s CYCLES [SPAWNS]\n", argv[0]);
        return 2;
    }
    for (long i = 0; i < cycles; i++) {
        guard_pool_get(pool, pool[0], sizeof pool[0]);
        guard_pool_put(pool, pool[0], sizeof pool[0]);
    }
    double samples[BENCH_MAX_REPS];
    unsigned reps = 7;
    for (unsigned r = 0; r < reps; r++) {
        uint64_t t0 = bench_now_ns();
        for (long i = 0; i < spawns; i++) {
            if (bench_spawn_true() != 0) {
                fprintf(stderr, "big_log_fork: a spawn failed\n");
                return 1;
            }
        }
        samples[r] = (double)(bench_now_ns() - t0) / 1e3 / (double)spawns;
    }
    struct bench_result res = bench_summarize(samples, reps, (uint64_t)spawns);
    printf("big_log_fork: %ld get/put pairs logged (%s), then fork + execve(/bin/true) + waitpid: "
           "%.1f us median, %.1f best\n", cycles, bench_shim_loaded() ? "under the shim" : "no shim",
           res.median_ns, res.best_ns);
    return 0;
}
