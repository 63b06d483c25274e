/*
 * pool_bench — what a pool put+get pair costs.
 *
 * For objects of 64 B, 4 KiB and 64 KiB (the two larger ones page-aligned,
 * as a buffer pool would allocate them), time a loop of
 *     guard_pool_put(pool, obj, size); guard_pool_get(pool, obj, size);
 * and, as the reference the target is stated against, a loop of
 *     memset(obj, c, size);
 * on the same memory.
 *
 * Run it three ways (bench/run.sh does):
 *   build/bench/pool_bench                                  no shim: the weak API is a null test
 *   LD_PRELOAD=build/libguard.so GUARD_OPTIONS=log_dir=DIR:pool_protect=0 build/bench/pool_bench
 *                                                           poisoning only
 *   LD_PRELOAD=build/libguard.so GUARD_OPTIONS=log_dir=DIR build/bench/pool_bench
 *                                                           poisoning + page protection (default)
 *
 * Under the shim the bench reads its own log back and prints the flags the
 * shim recorded for each put (poisoned, protected), so that the mode of a
 * run is what the log says, not what we think we asked for.
 *
 * Target (a), docs/performance.md: with poisoning, a put+get pair of a
 * 4 KiB object costs no more than 3 x memset(4 KiB) + 300 ns.
 *
 * usage: pool_bench [-t MS_PER_REP] [-r REPS] [SIZE...]
 * (SIZE: 64, 4096 or 65536, to time only those objects, e.g. under perf)
 */
#include "bench_common.h"

#include <sys/mman.h>

struct obj_case {
    size_t size;
    const char *name;
    unsigned char *obj;
    char pool;          /* its address names the pool */
    unsigned put_flags; /* from the log; ~0u when unknown */
    int selected;
};

static struct obj_case cases[] = {
    {64, "64 B", NULL, 0, ~0u, 1},
    {4096, "4 KiB", NULL, 0, ~0u, 1},
    {65536, "64 KiB", NULL, 0, ~0u, 1},
};
#define NCASES (sizeof cases / sizeof cases[0])

static void run_pairs(void *arg, uint64_t n)
{
    struct obj_case *c = arg;
    unsigned char *obj = c->obj;
    size_t size = c->size;
    for (uint64_t i = 0; i < n; i++) {
        guard_pool_put(&c->pool, obj, size);
        guard_pool_get(&c->pool, obj, size);
        BENCH_ESCAPE(obj);
    }
}

static void run_memset(void *arg, uint64_t n)
{
    struct obj_case *c = arg;
    unsigned char *obj = c->obj;
    size_t size = c->size;
    for (uint64_t i = 0; i < n; i++) {
        memset(obj, (int)(i & 0xff), size);
        BENCH_ESCAPE(obj);
    }
}

static int find_put_flags(const struct guard_rec *r, void *arg)
{
    (void)arg;
    if (r->type != GUARD_REC_EVENT || r->size < sizeof(struct guard_rec_event))
        return 0;
    const struct guard_rec_event *ev = (const void *)r;
    if (ev->kind != GUARD_EV_POOL_PUT)
        return 0;
    for (size_t i = 0; i < NCASES; i++)
        if (ev->args[1] == (uintptr_t)cases[i].obj && cases[i].put_flags == ~0u)
            cases[i].put_flags = (unsigned)ev->args[3];
    return 0;
}

static const char *flags_text(unsigned f)
{
    if (f == ~0u)
        return "unknown (no PUT event in the log)";
    static char buf[96];
    snprintf(buf, sizeof buf, "%s%s%s%s", (f & GUARD_PUT_POISONED) ? "poisoned " : "",
             (f & GUARD_PUT_PROTECTED) ? "protected " : "",
             (f & GUARD_PUT_OVER_BOUND) ? "over-max_protected " : "",
             f ? "" : "neither poisoned nor protected");
    return buf;
}

static void print_row(const char *obj, const char *op, const struct bench_result *r)
{
    printf("  %-7s %-14s %11.1f %10.1f %10.1f %12.2f\n", obj, op, r->median_ns, r->best_ns,
           r->worst_ns, 1e3 / r->median_ns);
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    int first = bench_parse_opts(argc, argv, &o);
    if (first < 0) {
    usage:
        fprintf(stderr, "usage: %s [-t MS_PER_REP] [-r REPS] [SIZE...]  (SIZE: 64 4096 65536)\n",
                argv[0]);
        return 2;
    }
    if (first < argc) {
        for (size_t i = 0; i < NCASES; i++)
            cases[i].selected = 0;
        for (int a = first; a < argc; a++) {
            size_t i = 0;
            while (i < NCASES && strtoul(argv[a], NULL, 10) != cases[i].size)
                i++;
            if (i == NCASES)
                goto usage;
            cases[i].selected = 1;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int shim = bench_shim_loaded();

    for (size_t i = 0; i < NCASES; i++) {
        void *p = NULL;
        if (cases[i].size >= 4096) {
            if (posix_memalign(&p, 4096, cases[i].size) != 0)
                p = NULL;
        } else {
            p = malloc(cases[i].size);
        }
        if (!p) {
            fprintf(stderr, "pool_bench: out of memory\n");
            return 1;
        }
        memset(p, 0, cases[i].size); /* fault the pages in before timing */
        cases[i].obj = p;
    }

    printf("pool_bench: shim %s; GUARD_OPTIONS='%s'\n", shim ? "LOADED" : "not loaded",
           bench_env("GUARD_OPTIONS"));
    if (shim) {
        /* One put+get of each object, then ask the log what the shim did. */
        for (size_t i = 0; i < NCASES; i++)
            run_pairs(&cases[i], 1);
        char *log = NULL;
        long len = bench_read_own_log(&log);
        if (len < 0)
            printf("  (no log to read back: log=0?  The mode of this run is not checked)\n");
        else if (bench_walk_log(log, len, find_put_flags, NULL) < 0) {
            fprintf(stderr, "pool_bench: the log has no valid header\n");
            free(log);
            return 1;
        }
        free(log);
        for (size_t i = 0; i < NCASES; i++)
            printf("  put of %-6s recorded as: %s\n", cases[i].name, flags_text(cases[i].put_flags));
    }
    printf("  %u repetitions of ~%u ms per row; ns per operation\n\n", o.reps, o.rep_ms);
    printf("  %-7s %-14s %11s %10s %10s %12s\n", "object", "operation", "median ns", "best ns",
           "worst ns", "M ops/s");

    struct bench_result pair[NCASES], ms[NCASES];
    for (size_t i = 0; i < NCASES; i++) {
        if (!cases[i].selected)
            continue;
        pair[i] = bench_measure(run_pairs, &cases[i], &o);
        print_row(cases[i].name, "put+get pair", &pair[i]);
        ms[i] = bench_measure(run_memset, &cases[i], &o);
        print_row(cases[i].name, "memset (ref)", &ms[i]);
    }

    /* Target (a) is stated for the 4 KiB object with poisoning. */
    const size_t k4 = 1;
    double limit = 3 * ms[k4].median_ns + 300;
    printf("\n");
    if (!cases[k4].selected) {
        /* nothing to compare */
    } else if (!shim) {
        printf("  no shim: a put+get pair is two tests of a weak symbol (target (a) needs the shim)\n");
    } else if (cases[k4].put_flags == GUARD_PUT_POISONED) {
        printf("  target (a): 4 KiB put+get with poisoning <= 3 x memset(4 KiB) + 300 ns "
               "= 3 x %.1f + 300 = %.1f ns\n", ms[k4].median_ns, limit);
        printf("              measured %.1f ns (median), %.1f ns (best), %.1fx memset: %s\n",
               pair[k4].median_ns, pair[k4].best_ns, pair[k4].median_ns / ms[k4].median_ns,
               pair[k4].median_ns <= limit ? "MET" : "MISSED");
    } else {
        /* Target (a) is stated for poisoning only: report, do not judge. */
        printf("  for information (target (a) is stated for pool_protect=0): 4 KiB put+get in this "
               "mode = %.1f ns = %.1fx memset(4 KiB)\n", pair[k4].median_ns,
               pair[k4].median_ns / ms[k4].median_ns);
    }
    for (size_t i = 0; i < NCASES; i++)
        free(cases[i].obj);
    return 0;
}
