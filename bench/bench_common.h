/*
 * bench_common.h — timing and log-reading helpers shared by the benchmarks
 * in bench/.  Each bench is one .c file built on its own (see the Makefile:
 * build/bench/NAME from bench/NAME.c), so everything here is static.
 *
 * Timing: CLOCK_MONOTONIC around a loop of n iterations.  n is calibrated so
 * that one repetition takes about `rep_ms` milliseconds; the first
 * (calibration) runs double as warm-up.  We keep every repetition and report
 * the median and the best (minimum): the median is the honest figure, the
 * best shows how much of the spread is noise from the machine.  A target of
 * the form "at most k x the native cost" is judged with bench_measure_pair:
 * the hooked call and libc's own definition of it (bench_libc_sym) timed in
 * alternating repetitions of the same process.
 *
 * Log reading: under the shim, a bench checks in its own event log that it
 * measured what it claims (the stack depth of its events, the poison and
 * protection flags of its puts).  The log format is common/guard_log.h.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

/* One fork + execve(/bin/true, an empty environment: /bin/true without
 * the shim) + waitpid; 0 when /bin/true exited 0, else -1. */
static BENCH_UNUSED int bench_spawn_true(void)
{
    static char *const argv[] = {"/bin/true", NULL}, *const envp[] = {NULL};
    pid_t pid = fork();
    if (pid == 0) {
        execve(argv[0], argv, envp);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return 0;
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

/* For a bench that takes only -t and -r: parse them or exit with the
 * usage; and print each result line as it comes. */
static BENCH_UNUSED void bench_parse_opts_only(int argc, char **argv, struct bench_opts *o)
{
    if (bench_parse_opts(argc, argv, o) != argc) {
        fprintf(stderr, "usage: %s [-t MS_PER_REP] [-r REPS]\n", argv[0]);
        exit(2);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
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

/* How many iterations of fn make one repetition of about o->rep_ms?  The
 * calibration runs double as warm-up. */
static BENCH_UNUSED uint64_t bench_calibrate(void (*fn)(void *, uint64_t), void *arg,
                                             const struct bench_opts *o)
{
    const uint64_t target = (uint64_t)o->rep_ms * 1000000u;
    uint64_t n = 1, dt = 0;
    /* grow n until one run takes >= target/8 */
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
    return iters < 1 ? 1 : iters;
}

/* One timed repetition: ns per iteration. */
static BENCH_UNUSED double bench_time_once(void (*fn)(void *, uint64_t), void *arg, uint64_t iters)
{
    uint64_t t0 = bench_now_ns();
    fn(arg, iters);
    return (double)(bench_now_ns() - t0) / (double)iters;
}

/* Median, best and worst of n samples (sorts them). */
static BENCH_UNUSED struct bench_result bench_summarize(double *samples, unsigned n, uint64_t iters)
{
    qsort(samples, n, sizeof samples[0], bench_cmp_double);
    struct bench_result res;
    res.reps = n;
    res.iters = iters;
    res.best_ns = samples[0];
    res.worst_ns = samples[n - 1];
    res.median_ns = (n & 1) ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    return res;
}

/* Time fn(arg, n): calibrate n to about o->rep_ms per call, then run
 * o->reps timed repetitions.  Results are per iteration. */
static BENCH_UNUSED struct bench_result bench_measure(void (*fn)(void *, uint64_t), void *arg,
                                                     const struct bench_opts *o)
{
    uint64_t iters = bench_calibrate(fn, arg, o);
    double samples[BENCH_MAX_REPS];
    for (unsigned r = 0; r < o->reps; r++)
        samples[r] = bench_time_once(fn, arg, iters);
    return bench_summarize(samples, o->reps, iters);
}

/* Two loops compared: a and b are timed in alternating repetitions (a b,
 * b a, a b, ...), so that drift of the machine (frequency, a neighbour on
 * the other CPU) hits both alike.  ratio is a/b per pair of repetitions;
 * its median is the figure to judge a "at most k x b" target by.  diff is
 * a - b per pair, in ns: the figure for a "costs at most N ns more" target
 * (a difference of two medians would mix repetitions far apart in time). */
struct bench_pair {
    struct bench_result a, b;
    struct bench_result ratio; /* in the _ns fields: a/b, not ns */
    struct bench_result diff;  /* a - b per pair, ns */
};

static BENCH_UNUSED struct bench_pair bench_measure_pair(void (*fa)(void *, uint64_t), void *arg_a,
                                                        void (*fb)(void *, uint64_t), void *arg_b,
                                                        const struct bench_opts *o)
{
    uint64_t na = bench_calibrate(fa, arg_a, o), nb = bench_calibrate(fb, arg_b, o);
    double sa[BENCH_MAX_REPS], sb[BENCH_MAX_REPS], ratio[BENCH_MAX_REPS], diff[BENCH_MAX_REPS];
    for (unsigned r = 0; r < o->reps; r++) {
        if (r & 1) {
            sb[r] = bench_time_once(fb, arg_b, nb);
            sa[r] = bench_time_once(fa, arg_a, na);
        } else {
            sa[r] = bench_time_once(fa, arg_a, na);
            sb[r] = bench_time_once(fb, arg_b, nb);
        }
        ratio[r] = sa[r] / sb[r];
        diff[r] = sa[r] - sb[r];
    }
    struct bench_pair p;
    p.a = bench_summarize(sa, o->reps, na);
    p.b = bench_summarize(sb, o->reps, nb);
    p.ratio = bench_summarize(ratio, o->reps, 0);
    p.diff = bench_summarize(diff, o->reps, 0);
    return p;
}

/* libc's own definition of a function, bypassing any LD_PRELOAD'ed
 * interposer (the shim): the reference "without the shim" measured in the
 * same process.  For an IFUNC (gettimeofday, time) dlsym returns what the
 * resolver picked, as the PLT would.  NULL if libc has no such symbol. */
static BENCH_UNUSED void *bench_libc_sym(const char *name)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    void *f = libc ? dlsym(libc, name) : NULL;
    if (libc)
        dlclose(libc);
    return f;
}

/* ---- the bench's own log ------------------------------------------------ */

/* log_dir from GUARD_OPTIONS ("." when not given, like the shim). */
/* The benches that compare a hooked call with libc's own definition check
 * that the call they time really is the hook when the shim is loaded (and
 * libc otherwise), say so, and return non-zero when it is not. */
static BENCH_UNUSED int bench_check_resolution(const char *bench, const char *calls, int shim,
                                               int hooked)
{
    printf("  the calls resolve to %s\n",
           hooked ? "the shim's hooks (libc's own definitions are timed as the reference)"
                  : "libc (both columns time the same functions)");
    if (shim == hooked)
        return 0;
    fprintf(stderr, "%s: the shim is %s but %s %s hooked\n", bench, shim ? "loaded" : "not loaded",
            calls, hooked ? "are" : "are not");
    return 1;
}

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

/* Read this process's own log back and walk it with fn: 1 when walked, 0
 * when there is no log to read (log=0), -1 (after saying so) when the log
 * has no valid header.  The benches use it to check that what they timed
 * was the path they meant (no finding, the expected records). */
static BENCH_UNUSED int bench_walk_own_log(const char *bench,
                                           int (*fn)(const struct guard_rec *, void *), void *arg)
{
    char *log = NULL;
    long len = bench_read_own_log(&log);
    if (len < 0)
        return 0;
    int rc = bench_walk_log(log, len, fn, arg) < 0 ? -1 : 1;
    if (rc < 0)
        fprintf(stderr, "%s: the log has no valid header\n", bench);
    free(log);
    return rc;
}

#endif /* BENCH_COMMON_H */
