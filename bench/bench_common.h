/*
 * bench_common.h — timing and log-reading helpers shared by the benchmarks
 * in bench/.  Each bench is one .c file built on its own (see the Makefile:
 * build/bench/NAME from bench/NAME.c), so everything here is static.
 *
 * Timing: CLOCK_MONOTONIC around a loop of n iterations.  n is calibrated so
 * that one repetition takes about `rep_ms` milliseconds; the first
 * (calibration) runs double as warm-up.  We keep every repetition and report
 * the median and the best (minimum): the median is the honest figure, the
 * best shows how much of the spread is noise from the machine.
 *
 * Log reading: under the shim, a bench checks in its own event log that it
 * measured what it claims (the stack depth of its events, the poison and
 * protection flags of its puts).  The log format is common/guard_log.h.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"
#include "guard_log.h"

#define BENCH_UNUSED __attribute__((unused))
#define BENCH_MAX_REPS 64

/* Keep the compiler from dropping or merging work on p. */
#define BENCH_ESCAPE(p) __asm__ volatile("" : : "r"(p) : "memory")

struct bench_opts {
    unsigned rep_ms; /* target duration of one repetition */
    unsigned reps;   /* timed repetitions */
};

static BENCH_UNUSED uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Is the shim loaded?  The API is weak: without the shim both are NULL. */
static BENCH_UNUSED int bench_shim_loaded(void)
{
    /* the name not followed by '(' is not the function-like macro */
    return (guard_pool_put) != NULL;
}

static BENCH_UNUSED const char *bench_env(const char *name)
{
    const char *v = getenv(name);
    return v ? v : "";
}

/* Parse -t MS (per repetition) and -r REPS; returns the index of the first
 * other argument, or -1 on a usage error. */
static BENCH_UNUSED int bench_parse_opts(int argc, char **argv, struct bench_opts *o)
{
    o->rep_ms = 100;
    o->reps = 7;
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc) {
            long v = strtol(argv[++i], NULL, 10);
            if (v < 1 || v > 10000)
                return -1;
            o->rep_ms = (unsigned)v;
        } else if (!strcmp(argv[i], "-r") && i + 1 < argc) {
            long v = strtol(argv[++i], NULL, 10);
            if (v < 1 || v > BENCH_MAX_REPS)
                return -1;
            o->reps = (unsigned)v;
        } else if (argv[i][0] == '-') {
            return -1;
        } else {
            break;
        }
    }
    return i;
}

static BENCH_UNUSED int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct bench_result {
    double median_ns; /* per iteration */
    double best_ns;
    double worst_ns;
    uint64_t iters;   /* per repetition */
    unsigned reps;
};

/* Time fn(arg, n): calibrate n to about o->rep_ms per call, then run
 * o->reps timed repetitions.  Results are per iteration. */
static BENCH_UNUSED struct bench_result bench_measure(void (*fn)(void *, uint64_t), void *arg,
                                                     const struct bench_opts *o)
{
    const uint64_t target = (uint64_t)o->rep_ms * 1000000u;
    uint64_t n = 1, dt = 0;
    /* calibrate (and warm up): grow n until one run takes >= target/8 */
    for (;;) {
        uint64_t t0 = bench_now_ns();
        fn(arg, n);
        dt = bench_now_ns() - t0;
        if (dt >= target / 8 || n >= (1ull << 40))
            break;
        n *= dt < target / 64 ? 8 : 2;
    }
    double per = (double)dt / (double)n;
    uint64_t iters = (uint64_t)((double)target / (per > 0.01 ? per : 0.01));
    if (iters < 1)
        iters = 1;
    double samples[BENCH_MAX_REPS];
    for (unsigned r = 0; r < o->reps; r++) {
        uint64_t t0 = bench_now_ns();
        fn(arg, iters);
        samples[r] = (double)(bench_now_ns() - t0) / (double)iters;
    }
    qsort(samples, o->reps, sizeof samples[0], bench_cmp_double);
    struct bench_result res;
    res.reps = o->reps;
    res.iters = iters;
    res.best_ns = samples[0];
    res.worst_ns = samples[o->reps - 1];
    res.median_ns = (o->reps & 1) ? samples[o->reps / 2]
                                  : (samples[o->reps / 2 - 1] + samples[o->reps / 2]) / 2;
    return res;
}

/* ---- the bench's own log ------------------------------------------------ */

/* log_dir from GUARD_OPTIONS ("." when not given, like the shim). */
static BENCH_UNUSED void bench_log_dir(char *out, size_t cap)
{
    const char *opts = bench_env("GUARD_OPTIONS");
    snprintf(out, cap, ".");
    for (const char *p = opts; p && *p;) {
        const char *sep = strchr(p, ':');
        size_t len = sep ? (size_t)(sep - p) : strlen(p);
        if (len > 8 && !strncmp(p, "log_dir=", 8))
            snprintf(out, cap, "%.*s", (int)(len - 8), p + 8);
        p = sep ? sep + 1 : NULL;
    }
}

/* Read this process's log (guard.<exe>.<pid>[.N].log in log_dir) into a
 * malloc'd buffer.  Returns its length, or -1 (message on stderr). */
static BENCH_UNUSED long bench_read_own_log(char **buf)
{
    char dir[512], path[1024], prefix[128], exe[512];
    bench_log_dir(dir, sizeof dir);
    /* the shim names the log after the basename of /proc/self/exe */
    ssize_t exe_len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[exe_len > 0 ? exe_len : 0] = '\0';
    const char *base = strrchr(exe, '/');
    snprintf(prefix, sizeof prefix, "guard.%s.%d.", base ? base + 1 : program_invocation_short_name,
             (int)getpid());
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "bench: cannot open log_dir %s: %s\n", dir, strerror(errno));
        return -1;
    }
    path[0] = '\0';
    for (struct dirent *e; (e = readdir(d));)
        if (!strncmp(e->d_name, prefix, strlen(prefix))) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            break;
        }
    closedir(d);
    if (!path[0]) {
        fprintf(stderr, "bench: no log %s*.log in %s\n", prefix, dir);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "bench: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < (off_t)sizeof(struct guard_file_header) || size > (1l << 30)) {
        fprintf(stderr, "bench: %s: unexpected size %ld\n", path, (long)size);
        close(fd);
        return -1;
    }
    *buf = malloc((size_t)size);
    long got = 0;
    while (*buf && got < size) {
        ssize_t n = pread(fd, *buf + got, (size_t)(size - got), got);
        if (n <= 0)
            break;
        got += n;
    }
    close(fd);
    if (!*buf || got != size) {
        fprintf(stderr, "bench: cannot read %s\n", path);
        free(*buf);
        return -1;
    }
    return got;
}

/* Walk the records of a log: calls fn for each one until fn returns
 * non-zero or the log ends (a zero header).  Returns fn's value or 0. */
static BENCH_UNUSED int bench_walk_log(const char *log, long len,
                                       int (*fn)(const struct guard_rec *, void *), void *arg)
{
    const struct guard_file_header *h = (const void *)log;
    if (h->magic != GUARD_LOG_MAGIC || h->header_size < sizeof *h)
        return -1;
    long off = h->header_size;
    while (off + (long)sizeof(struct guard_rec) <= len) {
        const struct guard_rec *r = (const void *)(log + off);
        if (r->sync != GUARD_REC_SYNC || r->size < sizeof *r || r->size % 8 ||
            off + (long)r->size > len)
            break;
        int rc = fn(r, arg);
        if (rc)
            return rc;
        off += r->size;
    }
    return 0;
}

#endif /* BENCH_COMMON_H */
