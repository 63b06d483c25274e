/*
 * open_bench — what the shim's path hooks cost an ordinary path
 * (preload/ns.c: open, open64, openat, openat64, __open_2, readlink, ...).
 *
 * The hooks look for proc-self-ns-mismatch: a path under /proc/ naming
 * another thread's namespaces.  Their fast path tests whether the path
 * starts with "/proc/" and whether the process has changed a namespace at
 * all, then calls the real function; every open of every program goes
 * through it, so it must cost next to nothing.
 *
 * Each loop is timed as a program makes the call (through the PLT: under
 * the shim, that is the hook) against the same loop calling libc's own
 * definition (dlsym in libc.so.6: the hook bypassed), in alternating
 * repetitions of the same process, as clock_bench does.  Two groups:
 *
 *   the calls doing their work, on DIR, a fresh directory under TMPDIR
 *   (default /tmp) with a 6-byte file and a symlink to it:
 *     open(DIR/file, O_RDONLY|O_CLOEXEC) + close()
 *     openat(dirfd, "file", O_RDONLY|O_CLOEXEC) + close()
 *     readlink(DIR/link)
 *     readlink("/proc/self/exe")   (context: a common call whose path
 *                                   matches "/proc/", so the hook also
 *                                   tests the namespace flag)
 *   close() is not hooked; both loops call libc's.  A call costs 1-3 us
 *   of system call and path walk, which varies by tens of ns from one
 *   repetition to the next.
 *
 *   the hook alone: the same calls made so that the kernel fails them with
 *   EINVAL before it reads the path (open/openat with O_TMPFILE|O_RDONLY;
 *   readlink with a buffer size of 0), so that only the system call's
 *   entry and exit (~100-200 ns) is left beside the hook:
 *     open(DIR/file), openat(dirfd, "file"), readlink(DIR/link),
 *     open("/proc/self/status"), readlink("/proc/self/exe")
 *   With O_TMPFILE the hook also reads the mode argument (a plain open
 *   does not), so these rows are, if anything, an upper bound.
 *
 * The figure is the per-pair difference, hook minus libc's own, in ns
 * (median of the pairs): a ratio would hide a few ns in its third decimal.
 * Without the shim both loops call libc, and the difference shows the
 * method's own noise.
 *
 *   build/bench/open_bench -t 20 -r 21                               no shim
 *   LD_PRELOAD=build/libguard.so GUARD_OPTIONS=log_dir=DIR build/bench/open_bench -t 20 -r 21
 *
 * Under the shim the bench checks that the calls really resolve to the
 * hooks, and that its log holds no finding (the slow path did not report).
 *
 * Target (g), docs/performance.md: with the shim, the /proc path match
 * costs under 20 ns per call.  Judged on the "hook alone" rows (every one
 * at most 20 ns more than libc's own); the rows of the calls doing their
 * work are printed beside them, their difference within their noise.
 *
 * usage: open_bench [-t MS_PER_REP] [-r REPS]
 */
#include "bench_common.h"

#include <sys/stat.h>

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef ssize_t (*readlink_fn)(const char *, char *, size_t);

static open_fn libc_open;
static openat_fn libc_openat;
static readlink_fn libc_readlink;

static char dir[512], file_path[600], link_path[600];
static int dir_fd = -1;
static volatile int failures;

#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC)
/* the kernel rejects a read-only O_TMPFILE before it copies the path */
#define EINVAL_FLAGS (O_TMPFILE | O_RDONLY | O_CLOEXEC)

/* ---- the calls doing their work ------------------------------------------ */

static void open_called(void *arg, uint64_t n)
{
    (void)arg;
    for (uint64_t i = 0; i < n; i++) {
        int fd = open(file_path, OPEN_FLAGS);
        if (__builtin_expect(fd < 0, 0))
            failures++;
        close(fd);
    }
}

static void open_libc(void *arg, uint64_t n)
{
    (void)arg;
    open_fn f = libc_open;
    for (uint64_t i = 0; i < n; i++) {
        int fd = f(file_path, OPEN_FLAGS);
        if (__builtin_expect(fd < 0, 0))
            failures++;
        close(fd);
    }
}

static void openat_called(void *arg, uint64_t n)
{
    (void)arg;
    for (uint64_t i = 0; i < n; i++) {
        int fd = openat(dir_fd, "file", OPEN_FLAGS);
        if (__builtin_expect(fd < 0, 0))
            failures++;
        close(fd);
    }
}

static void openat_libc(void *arg, uint64_t n)
{
    (void)arg;
    openat_fn f = libc_openat;
    for (uint64_t i = 0; i < n; i++) {
        int fd = f(dir_fd, "file", OPEN_FLAGS);
        if (__builtin_expect(fd < 0, 0))
            failures++;
        close(fd);
    }
}

/* arg: the path; every call must return a non-empty target */
static void readlink_called(void *arg, uint64_t n)
{
    const char *path = arg;
    char buf[512];
    for (uint64_t i = 0; i < n; i++) {
        if (__builtin_expect(readlink(path, buf, sizeof buf) <= 0, 0))
            failures++;
        BENCH_ESCAPE(buf);
    }
}

static void readlink_libc(void *arg, uint64_t n)
{
    const char *path = arg;
    readlink_fn f = libc_readlink;
    char buf[512];
    for (uint64_t i = 0; i < n; i++) {
        if (__builtin_expect(f(path, buf, sizeof buf) <= 0, 0))
            failures++;
        BENCH_ESCAPE(buf);
    }
}

/* ---- the hook alone: every call fails with EINVAL before the path is read */

static void check_einval(long rc)
{
    if (__builtin_expect(rc != -1 || errno != EINVAL, 0))
        failures++;
}

/* arg: the path */
static void open_einval_called(void *arg, uint64_t n)
{
    const char *path = arg;
    for (uint64_t i = 0; i < n; i++)
        check_einval(open(path, EINVAL_FLAGS, 0));
}

static void open_einval_libc(void *arg, uint64_t n)
{
    const char *path = arg;
    open_fn f = libc_open;
    for (uint64_t i = 0; i < n; i++)
        check_einval(f(path, EINVAL_FLAGS, 0));
}

static void openat_einval_called(void *arg, uint64_t n)
{
    (void)arg;
    for (uint64_t i = 0; i < n; i++)
        check_einval(openat(dir_fd, "file", EINVAL_FLAGS, 0));
}

static void openat_einval_libc(void *arg, uint64_t n)
{
    (void)arg;
    openat_fn f = libc_openat;
    for (uint64_t i = 0; i < n; i++)
        check_einval(f(dir_fd, "file", EINVAL_FLAGS, 0));
}

static void readlink_einval_called(void *arg, uint64_t n)
{
    const char *path = arg;
    char buf[8];
    for (uint64_t i = 0; i < n; i++) {
        check_einval(readlink(path, buf, 0));
        BENCH_ESCAPE(buf);
    }
}

static void readlink_einval_libc(void *arg, uint64_t n)
{
    const char *path = arg;
    readlink_fn f = libc_readlink;
    char buf[8];
    for (uint64_t i = 0; i < n; i++) {
        check_einval(f(path, buf, 0));
        BENCH_ESCAPE(buf);
    }
}

struct call_case {
    const char *name;
    void (*called)(void *, uint64_t);
    void (*libc)(void *, uint64_t);
    void *arg;
    int alone;  /* the hook alone (EINVAL): judged by target (g) */
};

static struct call_case calls[] = {
    {"open(DIR/file)+close", open_called, open_libc, NULL, 0},
    {"openat(dirfd,file)+close", openat_called, openat_libc, NULL, 0},
    {"readlink(DIR/link)", readlink_called, readlink_libc, link_path, 0},
    {"readlink(/proc/self/exe)", readlink_called, readlink_libc, "/proc/self/exe", 0},
    {"open(DIR/file)", open_einval_called, open_einval_libc, file_path, 1},
    {"openat(dirfd,file)", openat_einval_called, openat_einval_libc, NULL, 1},
    {"readlink(DIR/link)", readlink_einval_called, readlink_einval_libc, link_path, 1},
    {"open(/proc/self/status)", open_einval_called, open_einval_libc, "/proc/self/status", 1},
    {"readlink(/proc/self/exe)", readlink_einval_called, readlink_einval_libc, "/proc/self/exe", 1},
};
#define NCALLS (sizeof calls / sizeof calls[0])

/* Under the shim: no finding at all is expected in our own log. */
static int count_findings(const struct guard_rec *r, void *arg)
{
    if (r->type == GUARD_REC_FINDING)
        (*(int *)arg)++;
    return 0;
}

static void cleanup(void)
{
    if (dir_fd >= 0)
        close(dir_fd);
    if (link_path[0])
        unlink(link_path);
    if (file_path[0])
        unlink(file_path);
    if (dir[0])
        rmdir(dir);
}

static int make_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/guard-openbench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "open_bench: mkdtemp %s: %s\n", dir, strerror(errno));
        dir[0] = '\0';
        return -1;
    }
    snprintf(file_path, sizeof file_path, "%s/file", dir);
    snprintf(link_path, sizeof link_path, "%s/link", dir);
    int fd = open(file_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, "hello\n", 6) != 6 || close(fd) != 0) {
        fprintf(stderr, "open_bench: cannot write %s: %s\n", file_path, strerror(errno));
        return -1;
    }
    if (symlink("file", link_path) != 0) {
        fprintf(stderr, "open_bench: symlink %s: %s\n", link_path, strerror(errno));
        link_path[0] = '\0';
        return -1;
    }
    dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) {
        fprintf(stderr, "open_bench: cannot open %s: %s\n", dir, strerror(errno));
        return -1;
    }
    return 0;
}

static void print_rows(const struct bench_pair *res, int alone)
{
    for (size_t i = 0; i < NCALLS; i++) {
        if (calls[i].alone != alone)
            continue;
        const struct bench_pair *p = &res[i];
        printf("  %-26s %9.1f %9.1f   %9.1f %9.1f   %+8.1f %+8.1f %+8.1f   %6.3f\n", calls[i].name,
               p->a.median_ns, p->a.best_ns, p->b.median_ns, p->b.best_ns, p->diff.median_ns,
               p->diff.best_ns, p->diff.worst_ns, p->ratio.median_ns);
    }
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    bench_parse_opts_only(argc, argv, &o);
    int shim = bench_shim_loaded();
    libc_open = (open_fn)bench_libc_sym("open");
    libc_openat = (openat_fn)bench_libc_sym("openat");
    libc_readlink = (readlink_fn)bench_libc_sym("readlink");
    if (!libc_open || !libc_openat || !libc_readlink) {
        fprintf(stderr, "open_bench: cannot find open/openat/readlink in libc.so.6\n");
        return 1;
    }
    int hooked = (void *)open != (void *)libc_open && (void *)openat != (void *)libc_openat &&
                 (void *)readlink != (void *)libc_readlink;
    printf("open_bench: shim %s; GUARD_OPTIONS='%s'\n", shim ? "LOADED" : "not loaded",
           bench_env("GUARD_OPTIONS"));
    if (bench_check_resolution("open_bench", "open/openat/readlink", shim, hooked))
        return 1;
    if (make_dir() != 0) {
        cleanup();
        return 1;
    }
    printf("  DIR = %s (a 6-byte file and a symlink to it; removed at the end)\n", dir);
    printf("  %u repetitions of ~%u ms per column, the two columns alternating; ns per call\n\n",
           o.reps, o.rep_ms);

    struct bench_pair res[NCALLS];
    for (size_t i = 0; i < NCALLS; i++)
        res[i] = bench_measure_pair(calls[i].called, calls[i].arg, calls[i].libc, calls[i].arg, &o);
    cleanup();
    if (failures) {
        fprintf(stderr, "open_bench: %d calls did not do what they should (open/readlink failed, "
                        "or an EINVAL call did not fail with EINVAL)\n", failures);
        return 1;
    }

    printf("  %-26s %-19s   %-19s   %-26s   %s\n", "",
           shim ? "  with the shim (hook)" : "  called as usual", "  libc's own (dlsym)",
           "  difference per pair, ns", "ratio");
    printf("  %-26s %9s %9s   %9s %9s   %8s %8s %8s   %6s\n", "call", "median", "best", "median",
           "best", "median", "best", "worst", "median");
    printf("  the calls doing their work:\n");
    print_rows(res, 0);
    printf("  the hook alone (the kernel fails the call with EINVAL before it reads the path):\n");
    print_rows(res, 1);

    if (!shim) {
        printf("\n  no shim: the two columns call the same functions (the difference is the "
               "method's noise); target (g) needs the shim\n");
        return 0;
    }
    int findings = 0;
    int walked = bench_walk_own_log("open_bench", count_findings, &findings);
    if (walked == 0) {
        printf("\n  (no log to read back: log=0?  Not checked that no finding was made)\n");
    } else if (walked < 0) {
        return 1;
    } else if (findings) {
        fprintf(stderr, "open_bench: %d finding(s) in the log: the hooks did not just pass "
                        "through\n", findings);
        return 1;
    } else {
        printf("\n  log: no finding (no namespace change: the hooks took their fast path)\n");
    }
    int met = 1;
    double worst = -1e9, work_lo = 1e9, work_hi = -1e9;
    for (size_t i = 0; i < NCALLS; i++) {
        double d = res[i].diff.median_ns;
        if (calls[i].alone) {
            met &= d <= 20.0;
            worst = d > worst ? d : worst;
        } else {
            work_lo = d < work_lo ? d : work_lo;
            work_hi = d > work_hi ? d : work_hi;
        }
    }
    printf("\n  target (g): the /proc path match costs < 20 ns per call (hook - libc's own, same "
           "process; the hook-alone rows)\n");
    printf("              measured at most %+.1f ns (median of per-pair differences; the calls "
           "doing their work: %+.1f..%+.1f ns): %s\n", worst, work_lo, work_hi,
           met ? "MET" : "MISSED");
    return 0;
}
