/*
 * pool_threads — a pool-heavy multithreaded program, and a runner that
 * times it natively, under the shim and under the sanitizers side by side.
 *
 * The program (issue 23): THREADS threads cycle 4 KiB page-aligned objects
 * through one mutex-protected pool, CYCLES cycles in all:
 *     obj = get();  memset(obj, i, 4096);  put(obj);
 * annotated with guard_pool_get/guard_pool_put the way testprogs/bufpool.h
 * is (the shim's call outside the pool's lock).  --floor runs, instead of
 * the pool, memset + mprotect(PROT_NONE) + mprotect(PROT_READ|PROT_WRITE)
 * per cycle on each thread's own page and without any shim: what one cycle
 * costs when every put and get changes the page's protection.
 *
 *   pool_threads [-t THREADS] [-n CYCLES] [--floor]
 *       one run; prints wall, user and system seconds and ns per cycle
 *   pool_threads --compare [-r ROUNDS] [-n CYCLES] [-n1 CYCLES] [-nf CYCLES] [--field OPTS]
 *                          [--sample-floor LIB] [--poison-floor LIB] SHIM [ASAN TSAN]
 *       the runner: each row below ROUNDS times (default 5), in interleaved
 *       rounds, medians reported with the ratio per cycle to native and to
 *       the floor.  CYCLES (default 6000000) for the four-thread rows,
 *       -n1 (default CYCLES/4) for the one-thread rows, -nf (default
 *       100000) for the floors, whose cycles cost microseconds:
 *         four threads:  native, shim (test profile, the default), shim
 *                        (field profile), ASan build, TSan build, floor
 *         one thread:    native, shim (test), shim (field), floor
 *       Every command is printed before the table.  The shim's logs go to
 *       a temporary directory emptied after each run.  --field OPTS: the
 *       GUARD_OPTIONS of the field column (default: profile=field when the
 *       shim knows that key, else FIELD_POOL_OPTIONS: the pool options that
 *       preset sets, without its bounded log).
 *       --sample-floor LIB: a four-thread row with LIB preloaded instead of
 *       the shim (bench/preload/pool_sample_floor.c: the least a sampled
 *       pool check can cost).  --poison-floor LIB: the same for
 *       bench/preload/pool_poison_floor.c (the least poisoning every put
 *       and checking it at the next get can cost).
 *       ASAN/TSAN: the same program built with clang -fsanitize=address /
 *       thread (the Makefile's pool_threads-asan/-tsan; "-" or a missing
 *       file skips the row).
 *
 * The machine must be quiet: the runner prints the load average before
 * and after, and the spread (min..max) of each row.
 */
#include "bench_common.h"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define OBJ_SIZE 4096
/* The pool options the field profile sets (docs/performance.md), for a
 * shim that does not know profile=field yet. */
#define FIELD_POOL_OPTIONS "pool_protect_young=16:pool_protect_sample=8192"

#define POOL_CAP 64

/* ---- the program ------------------------------------------------------- */

struct pool {
    pthread_mutex_t lock;
    int nfree;
    void *free[POOL_CAP];
};

static struct pool pool = {PTHREAD_MUTEX_INITIALIZER, 0, {0}};

static void *pool_get(void)
{
    void *obj = NULL;
    pthread_mutex_lock(&pool.lock);
    if (pool.nfree > 0)
        obj = pool.free[--pool.nfree];
    pthread_mutex_unlock(&pool.lock);
    if (!obj && posix_memalign(&obj, 4096, OBJ_SIZE) != 0)
        abort();
    guard_pool_get(&pool, obj, OBJ_SIZE);
    return obj;
}

static void pool_put(void *obj)
{
    guard_pool_put(&pool, obj, OBJ_SIZE);
    pthread_mutex_lock(&pool.lock);
    if (pool.nfree < POOL_CAP)
        pool.free[pool.nfree++] = obj;
    else
        free(obj); /* not reached: at most THREADS objects are out at once */
    pthread_mutex_unlock(&pool.lock);
}

struct worker {
    pthread_t t;
    uint64_t cycles;
    int floor;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    if (w->floor) {
        void *page;
        if (posix_memalign(&page, 4096, OBJ_SIZE) != 0)
            abort();
        for (uint64_t i = 0; i < w->cycles; i++) {
            memset(page, (int)(i & 0xff), OBJ_SIZE);
            BENCH_ESCAPE(page);
            if (mprotect(page, OBJ_SIZE, PROT_NONE) != 0 ||
                mprotect(page, OBJ_SIZE, PROT_READ | PROT_WRITE) != 0)
                abort();
        }
        free(page);
        return NULL;
    }
    for (uint64_t i = 0; i < w->cycles; i++) {
        unsigned char *obj = pool_get();
        memset(obj, (int)(i & 0xff), OBJ_SIZE);
        BENCH_ESCAPE(obj);
        pool_put(obj);
    }
    return NULL;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int run_program(unsigned threads, uint64_t cycles, int floor)
{
    struct worker w[64];
    uint64_t t0 = bench_now_ns();
    for (unsigned i = 0; i < threads; i++) {
        w[i].cycles = cycles / threads + (i < cycles % threads);
        w[i].floor = floor;
        if (pthread_create(&w[i].t, NULL, worker_main, &w[i]) != 0)
            return 1;
    }
    for (unsigned i = 0; i < threads; i++)
        pthread_join(w[i].t, NULL);
    double wall = (double)(bench_now_ns() - t0) / 1e9;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("threads=%u cycles=%llu mode=%s wall_s=%.4f user_s=%.3f sys_s=%.3f ns_per_cycle=%.1f\n",
           threads, (unsigned long long)cycles, floor ? "floor" : "pool", wall, tv_s(ru.ru_utime),
           tv_s(ru.ru_stime), wall * 1e9 / (double)cycles);
    return 0;
}

/* ---- the runner -------------------------------------------------------- */

enum { ROW_MAX = 14, ROUND_MAX = 31 };

struct row {
    const char *name;
    unsigned threads;
    int floor;
    const char *exe;      /* the program to run */
    char options[1024];   /* GUARD_OPTIONS; empty: no shim */
    int shim;
    const char *preload;  /* LD_PRELOAD instead of the shim (no GUARD_OPTIONS), or NULL */
    unsigned long long cycles;
    double wall[ROUND_MAX], user[ROUND_MAX], sys[ROUND_MAX];
    unsigned done;
    int failed;
};

static double median(double *v, unsigned n)
{
    double s[ROUND_MAX];
    memcpy(s, v, n * sizeof *v);
    qsort(s, n, sizeof *s, bench_cmp_double);
    return n == 0 ? 0 : (n & 1) ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double minmax(double *v, unsigned n, int max)
{
    double m = n ? v[0] : 0;
    for (unsigned i = 1; i < n; i++)
        if (max ? v[i] > m : v[i] < m)
            m = v[i];
    return m;
}

static const char *shim_path, *log_dir;

/* Run one row once: fork, exec it with its environment, read its line. */
static int run_row(struct row *r, int print_cmd)
{
    unsigned long long cycles = r->cycles;
    char threads[16], ncycles[32];
    snprintf(threads, sizeof threads, "%u", r->threads);
    snprintf(ncycles, sizeof ncycles, "%llu", cycles);
    char *argv[] = {(char *)r->exe, "-t", threads, "-n", ncycles, r->floor ? "--floor" : NULL, NULL};
    char preload[4200], options[1100];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", r->preload ? r->preload : shim_path);
    snprintf(options, sizeof options, "GUARD_OPTIONS=%s", r->options);
    int pre = r->shim || r->preload, opts = r->shim;
    char *envp[] = {"PATH=/usr/bin:/bin", pre ? preload : NULL, opts ? options : NULL, NULL};
    if (print_cmd)
        printf("  $ %s%s%s%s%s -t %s -n %s%s\n", pre ? preload : "", pre ? " " : "",
               opts ? options : "", opts ? " " : "", r->exe, threads, ncycles,
               r->floor ? " --floor" : "");
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execve(r->exe, argv, envp);
        _exit(127);
    }
    close(fd[1]);
    char out[512];
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd[0], out + len, sizeof out - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    /* the logs of this run */
    DIR *d = opendir(log_dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            unlinkat(dirfd(d), e->d_name, 0);
    if (d)
        closedir(d);
    const char *w = strstr(out, "wall_s="), *u = strstr(out, "user_s="), *s = strstr(out, "sys_s=");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !w || !u || !s) {
        fprintf(stderr, "pool_threads: %s failed (status 0x%x): %s\n", r->name, status, out);
        return -1;
    }
    r->wall[r->done] = strtod(w + 7, NULL);
    r->user[r->done] = strtod(u + 7, NULL);
    r->sys[r->done] = strtod(s + 6, NULL);
    r->done++;
    return 0;
}

/* Does the shim know the key profile (help=1 lists it)? */
static int shim_knows_profile(const char *self)
{
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "LD_PRELOAD='%s' GUARD_OPTIONS=help=1:log=0 '%s' -t 1 -n 1 2>&1 >/dev/null "
             "| grep -q '^  profile:'", shim_path, self);
    return system(cmd) == 0;
}

static void load(const char *when)
{
    double l[3];
    if (getloadavg(l, 3) == 3)
        printf("load average %s: %.2f %.2f %.2f\n", when, l[0], l[1], l[2]);
}

static void add(struct row *rows, unsigned *n, const char *name, unsigned threads, int floor,
                const char *exe, int shim, const char *options, unsigned long long cycles)
{
    struct row *r = &rows[(*n)++];
    memset(r, 0, sizeof *r);
    r->cycles = cycles;
    r->name = name;
    r->threads = threads;
    r->floor = floor;
    r->exe = exe;
    r->shim = shim;
    snprintf(r->options, sizeof r->options, "log_dir=%s%s%s", log_dir, *options ? ":" : "", options);
}

/* ns per cycle of a row: its median wall time over its cycles */
static double per_cycle(struct row *r)
{
    return median(r->wall, r->done) * 1e9 / (double)r->cycles;
}

/* The median ns per cycle of the row named name with threads threads; 0 if
 * it did not run. */
static double row_cycle(struct row *rows, unsigned nrows, const char *name, unsigned threads)
{
    for (unsigned i = 0; i < nrows; i++)
        if (rows[i].threads == threads && rows[i].done && !strcmp(rows[i].name, name))
            return per_cycle(&rows[i]);
    return 0;
}

static void print_target(const char *what, double ratio, double limit)
{
    printf("  target: %s\n    %.2fx (limit %.2fx): %s\n", what, ratio, limit,
           ratio <= 0 ? "NOT MEASURED" : ratio <= limit ? "MET" : "MISSED");
}

static void print_table(struct row *rows, unsigned nrows, unsigned threads)
{
    double native = 0, floor = 0;
    for (unsigned i = 0; i < nrows; i++)
        if (rows[i].threads == threads && rows[i].done) {
            if (!strcmp(rows[i].name, "native"))
                native = per_cycle(&rows[i]);
            if (rows[i].floor)
                floor = per_cycle(&rows[i]);
        }
    printf("\n%u thread%s: medians of the rounds (wall: min..max); ratios per cycle\n", threads,
           threads == 1 ? "" : "s");
    printf("| run | cycles | wall s | ns/cycle | x native | x floor | user s | sys s |\n");
    printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (unsigned i = 0; i < nrows; i++) {
        struct row *r = &rows[i];
        if (r->threads != threads)
            continue;
        if (!r->done) {
            printf("| %s | %llu | not run%s | | | | | |\n", r->name, r->cycles,
                   r->failed ? " (failed)" : "");
            continue;
        }
        double w = median(r->wall, r->done), c = per_cycle(r);
        printf("| %s | %llu | %.3f (%.3f..%.3f) | %.0f | %.2f | %.3f | %.2f | %.2f |\n", r->name,
               r->cycles, w, minmax(r->wall, r->done, 0), minmax(r->wall, r->done, 1), c,
               native > 0 ? c / native : 0, floor > 0 ? c / floor : 0, median(r->user, r->done),
               median(r->sys, r->done));
    }
}

static int usable(const char *exe)
{
    return exe && strcmp(exe, "-") && access(exe, X_OK) == 0;
}

static int compare(int argc, char **argv)
{
    unsigned rounds = 5;
    unsigned long long cycles = 6000000, cycles1 = 0, cycles_floor = 100000;
    const char *field = NULL, *sample_floor = NULL, *poison_floor = NULL;
    int i = 2;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-r") && i + 1 < argc)
            rounds = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-n") && i + 1 < argc)
            cycles = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-n1") && i + 1 < argc)
            cycles1 = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-nf") && i + 1 < argc)
            cycles_floor = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--field") && i + 1 < argc)
            field = argv[++i];
        else if (!strcmp(argv[i], "--sample-floor") && i + 1 < argc)
            sample_floor = argv[++i];
        else if (!strcmp(argv[i], "--poison-floor") && i + 1 < argc)
            poison_floor = argv[++i];
        else
            goto usage;
    }
    if (i >= argc || rounds < 1 || rounds > ROUND_MAX || cycles < 1)
        goto usage;
    if (!cycles1)
        cycles1 = cycles / 4;
    shim_path = argv[i];
    const char *asan = i + 1 < argc ? argv[i + 1] : NULL, *tsan = i + 2 < argc ? argv[i + 2] : NULL;
    static char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 2;
    self[n] = '\0';
    char dir[] = "/tmp/pool_threads.XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    log_dir = dir;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!field)
        field = shim_knows_profile(self) ? "profile=field" : FIELD_POOL_OPTIONS;

    static struct row rows[ROW_MAX];
    unsigned nrows = 0;
    add(rows, &nrows, "native", 4, 0, self, 0, "", cycles);
    add(rows, &nrows, "shim, test profile (default)", 4, 0, self, 1, "", cycles);
    add(rows, &nrows, "shim, field profile", 4, 0, self, 1, field, cycles);
    if (usable(asan))
        add(rows, &nrows, "ASan build", 4, 0, asan, 0, "", cycles);
    else
        printf("no ASan build (%s): its row is left out\n", asan ? asan : "not given");
    if (usable(tsan))
        add(rows, &nrows, "TSan build", 4, 0, tsan, 0, "", cycles);
    else
        printf("no TSan build (%s): its row is left out\n", tsan ? tsan : "not given");
    if (sample_floor) {
        add(rows, &nrows, "sampled-check floor (--sample-floor)", 4, 0, self, 0, "", cycles);
        rows[nrows - 1].preload = sample_floor;
    }
    if (poison_floor) {
        add(rows, &nrows, "poison floor (--poison-floor)", 4, 0, self, 0, "", cycles);
        rows[nrows - 1].preload = poison_floor;
    }
    add(rows, &nrows, "floor: memset + 2 mprotect", 4, 1, self, 0, "", cycles_floor);
    add(rows, &nrows, "native", 1, 0, self, 0, "", cycles1);
    add(rows, &nrows, "shim, test profile (default)", 1, 0, self, 1, "", cycles1);
    add(rows, &nrows, "shim, field profile", 1, 0, self, 1, field, cycles1);
    add(rows, &nrows, "floor: memset + 2 mprotect", 1, 1, self, 0, "", cycles_floor);

    printf("pool_threads: %ld CPU(s); %u rounds; field options: %s\n", sysconf(_SC_NPROCESSORS_ONLN),
           rounds, field);
    load("before");
    int failed = 0;
    for (unsigned round = 0; round < rounds; round++)
        for (unsigned k = 0; k < nrows; k++) {
            struct row *r = &rows[round & 1 ? nrows - 1 - k : k];
            if (r->failed)
                continue;
            if (run_row(r, round == 0) != 0)
                r->failed = failed = 1;
        }
    load("after");
    print_table(rows, nrows, 4);
    print_table(rows, nrows, 1);
    const char *test = "shim, test profile (default)", *floor = "floor: memset + 2 mprotect";
    double native4 = row_cycle(rows, nrows, "native", 4), floor1 = row_cycle(rows, nrows, floor, 1);
    printf("\n");
    print_target("test profile, four threads, at most 10x native",
                 native4 > 0 ? row_cycle(rows, nrows, test, 4) / native4 : 0, 10);
    print_target("test profile, one thread, at most 1.2x the floor",
                 floor1 > 0 ? row_cycle(rows, nrows, test, 1) / floor1 : 0, 1.2);
    print_target("field profile, four threads, at most 1.10x native",
                 native4 > 0 ? row_cycle(rows, nrows, "shim, field profile", 4) / native4 : 0, 1.1);
    rmdir(dir);
    return failed;
usage:
    fprintf(stderr, "usage: %s --compare [-r ROUNDS] [-n CYCLES] [-n1 CYCLES] [-nf CYCLES] [--field OPTS] "
            "[--sample-floor LIB] [--poison-floor LIB] SHIM [ASAN TSAN]\n", argv[0]);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--compare"))
        return compare(argc, argv);
    unsigned threads = 4;
    unsigned long long cycles = 6000000;
    int floor = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc)
            threads = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-n") && i + 1 < argc)
            cycles = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--floor"))
            floor = 1;
        else {
            fprintf(stderr, "usage: %s [-t THREADS] [-n CYCLES] [--floor]\n"
                    "       %s --compare [-r ROUNDS] [-n CYCLES] [-n1 CYCLES] [-nf CYCLES] [--field OPTS] SHIM "
                    "[ASAN TSAN]\n", argv[0], argv[0]);
            return 2;
        }
    }
    if (threads < 1 || threads > 64 || cycles < 1)
        return 2;
    return run_program(threads, cycles, floor);
}
