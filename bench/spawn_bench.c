/*
 * spawn_bench — what the shim costs a program that starts child processes
 * (preload/fork/, preload/children.c), and what it costs the children.
 *
 * Two loops, each timed over SPAWNS iterations after WARMUP untimed ones:
 *   fork-exec    pid = fork(); child: execve("/bin/true"); parent: waitpid(pid)
 *   posix-spawn  posix_spawn(&pid, "/bin/true"); waitpid(pid)
 * in three modes:
 *   no shim      the loop runs without the shim, and so does /bin/true
 *   shim         LD_PRELOAD=SHIM GUARD_OPTIONS=log_dir=LOGDIR: the loop runs
 *                under the shim and /bin/true inherits LD_PRELOAD, so it runs
 *                under the shim too (and writes its own log): the cost a
 *                user pays
 *   floor        LD_PRELOAD=libempty_preload.so (next to this program): a
 *                library with an empty constructor, in the loop and in
 *                /bin/true: what preloading anything costs, the floor of
 *                every LD_PRELOAD tool
 *   log_always=1 as "shim", but every process creates its log at start-up
 *                (the behaviour before logs were created at the first record)
 *   follow_exec=0  GUARD_OPTIONS=log_dir=LOGDIR:follow_exec=0, and the loop
 *                execs /bin/true with an environment without LD_PRELOAD
 *                (follow_exec=0 only stops the shim from putting it back;
 *                an inherited LD_PRELOAD would still load it): the shim's
 *                cost in the spawning process alone
 *
 * This program is the driver: it runs each (loop, mode) as a worker
 * process, `spawn_bench --worker LOOP SPAWNS WARMUP STRIP`, with the
 * environment of the mode, and prints each worker's exact command line.
 * The runs come in rounds, each with a run without the shim, and each mode
 * is judged by the median of its per-round ratios to its round's run
 * without the shim, given with a 95 % confidence interval.  The judged
 * pair (follow_exec=0 against no shim) runs first and alone, in ROUNDS
 * rounds (-j, 40 by default) whose order alternates; the other modes
 * follow in REPS rounds (-r) whose order rotates, and log_always=1 comes
 * last: its thousands of log files must not disturb the judged rounds.
 * After every worker it counts
 * the logs the worker added to LOGDIR and checks that they are what the
 * mode implies (one log, the worker's: /bin/true and the forked children
 * record nothing; with log_always=1 also one per forked child and one per
 * /bin/true).  The logs stay until the end of
 * the run, when the driver deletes them all: on an ext4 file system without
 * a journal, every file deleted makes the next file creations in its block
 * group slower for a minute or more (the inode allocator steps over
 * recently deleted inodes one by one), so deleting between workers would
 * charge the bench's own clean-up to the shim's log creation.
 *
 *   build/bench/spawn_bench -n 300 -r 7 -j 40 $PWD/build/libguard.so LOGDIR
 *
 * LOGDIR must exist and hold no guard.*.log file.  Run the driver without
 * LD_PRELOAD.
 *
 * Targets (e) and (f), docs/performance.md: with the shim, a fork+exec+wait
 * and a posix_spawn+wait of /bin/true cost at most 5 % more than without.
 *
 * usage: spawn_bench [-n SPAWNS] [-r REPS] [-j ROUNDS] [-w WARMUP] SHIM LOGDIR [fork-exec|posix-spawn...]
 */
#include "bench_common.h"

#include <limits.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char **environ;

enum loop { L_FORK_EXEC, L_POSIX_SPAWN, NLOOPS };
static const char *const loop_names[NLOOPS] = {"fork-exec", "posix-spawn"};
static const char *const loop_titles[NLOOPS] = {"fork + execve(/bin/true) + waitpid",
                                                "posix_spawn(/bin/true) + waitpid"};

enum mode { M_NATIVE, M_FLOOR, M_SHIM, M_ALWAYS, M_NOFOLLOW, NMODES };
static const char *const mode_titles[NMODES] = {
    "no shim",
    "floor: an empty library preloaded",
    "shim (/bin/true under it too)",
    "shim, log_always=1",
    "shim, follow_exec=0 (/bin/true without)",
};

/* The judged pair runs up to this many rounds (-j). */
#define MAX_ROUNDS 200

/* A 95 % confidence interval for the median of n samples, sorted, that
 * assumes nothing about their distribution: the k-th smallest and the
 * k-th largest, where k is the largest rank with P(Binomial(n, 1/2) < k)
 * <= 2.5 %.  NaN when n is too small for one (below 6). */
static void median_interval(const double *sorted, unsigned n, double *lo, double *hi)
{
    double p = 1, below = 0; /* P(B = i), P(B < k) */
    for (unsigned i = 0; i < n; i++)
        p /= 2;
    unsigned k = 0;
    while (k < n / 2 && below + p <= 0.025) {
        below += p;
        p = p * (double)(n - k) / (double)(k + 1);
        k++;
    }
    *lo = k ? sorted[k - 1] : __builtin_nan("");
    *hi = k ? sorted[n - k] : __builtin_nan("");
}

/* ---- the worker ----------------------------------------------------------- */

/* environ without LD_PRELOAD (and, for the driver, GUARD_OPTIONS), in a
 * malloc'd array with room for `extra` more entries. */
static char **env_without(int drop_options, size_t extra)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + extra + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) &&
            !(drop_options && !strncmp(environ[i], "GUARD_OPTIONS=", 14)))
            env[k++] = environ[i];
    return env;
}

static int one_spawn(enum loop loop, char *const env[])
{
    static char *const argv[] = {"/bin/true", NULL};
    pid_t pid;
    if (loop == L_FORK_EXEC) {
        pid = fork();
        if (pid == 0) {
            execve(argv[0], argv, env);
            _exit(127);
        }
        if (pid < 0) {
            perror("spawn_bench: fork");
            return -1;
        }
    } else {
        int rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, env);
        if (rc != 0) {
            fprintf(stderr, "spawn_bench: posix_spawn: %s\n", strerror(rc));
            return -1;
        }
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "spawn_bench: /bin/true (pid %d) did not exit with status 0\n", (int)pid);
        return -1;
    }
    return 0;
}

/* Prints the ns the timed spawns took, on stdout. */
static int worker(int argc, char **argv)
{
    if (argc != 6)
        return 2;
    enum loop loop = !strcmp(argv[2], "fork-exec") ? L_FORK_EXEC : L_POSIX_SPAWN;
    long spawns = strtol(argv[3], NULL, 10), warmup = strtol(argv[4], NULL, 10);
    int strip = atoi(argv[5]);
    char **env = strip ? env_without(0, 0) : environ;
    if (!env || spawns < 1)
        return 2;
    for (long i = 0; i < warmup; i++)
        if (one_spawn(loop, env) != 0)
            return 1;
    uint64_t t0 = bench_now_ns();
    for (long i = 0; i < spawns; i++)
        if (one_spawn(loop, env) != 0)
            return 1;
    uint64_t dt = bench_now_ns() - t0;
    printf("%llu\n", (unsigned long long)dt);
    return 0;
}

/* ---- the driver ----------------------------------------------------------- */

struct log_count {
    long self;  /* guard.spawn_bench.*: the worker's own and its forked children's */
    long child; /* guard.true.*: /bin/true under the shim */
    long other;
    long long disk;  /* bytes allocated to them */
};

/* Count the guard.*.log files in dir; delete them when asked. */
static int count_logs(const char *dir, struct log_count *c, int clear)
{
    memset(c, 0, sizeof *c);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "spawn_bench: cannot open %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (struct dirent *e; (e = readdir(d));) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        if (strncmp(n, "guard.", 6) || len < 10 || strcmp(n + len - 4, ".log"))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) == 0)
            c->disk += (long long)st.st_blocks * 512;
        if (!strncmp(n, "guard.spawn_bench.", 18))
            c->self++;
        else if (!strncmp(n, "guard.true.", 11))
            c->child++;
        else
            c->other++;
        if (clear && unlinkat(dirfd(d), n, 0) != 0) {
            fprintf(stderr, "spawn_bench: cannot remove %s/%s: %s\n", dir, n, strerror(errno));
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    return 0;
}

struct setup {
    char self[PATH_MAX];
    const char *shim, *logdir;
    long spawns, warmup;
    char **env[NMODES];
};

/* Run one worker; returns us per spawn, or -1. */
static double run_worker(const struct setup *s, enum loop loop, enum mode mode, int print_cmd)
{
    char spawns[32], warmup[32];
    snprintf(spawns, sizeof spawns, "%ld", s->spawns);
    snprintf(warmup, sizeof warmup, "%ld", s->warmup);
    char *argv[] = {(char *)s->self, "--worker", (char *)loop_names[loop], spawns, warmup,
                    mode == M_NOFOLLOW ? "1" : "0", NULL};
    if (print_cmd) {
        printf("  $ ");
        for (char **e = s->env[mode]; *e; e++)
            if (!strncmp(*e, "LD_PRELOAD=", 11) || !strncmp(*e, "GUARD_OPTIONS=", 14))
                printf("%s ", *e);
        for (char **a = argv; *a; a++)
            printf("%s%s", *a, a[1] ? " " : "\n");
    }
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    pid_t pid;
    int rc = posix_spawn(&pid, s->self, &fa, NULL, argv, s->env[mode]);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        fprintf(stderr, "spawn_bench: cannot start the worker: %s\n", strerror(rc));
        close(fds[0]);
        return -1;
    }
    char out[128];
    size_t got = 0;
    for (ssize_t n; got < sizeof out - 1 && (n = read(fds[0], out + got, sizeof out - 1 - got)) > 0;)
        got += (size_t)n;
    out[got] = '\0';
    close(fds[0]);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "spawn_bench: the %s worker (%s) failed\n", loop_names[loop],
                mode_titles[mode]);
        return -1;
    }
    double ns = strtod(out, NULL);
    return ns > 0 ? ns / 1e3 / (double)s->spawns : -1;
}

/* Are the logs what the mode implies?  Prints a line when asked. */
static int logs_as_expected(const struct setup *s, enum loop loop, enum mode mode,
                            const struct log_count *c, int print)
{
    long total = s->spawns + s->warmup;
    long want_self = 0, want_child = 0;
    if (mode == M_ALWAYS) {
        want_self = 1 + (loop == L_FORK_EXEC ? total : 0); /* the worker, its fork children */
        want_child = total;
    } else if (mode != M_NATIVE && mode != M_FLOOR) {
        want_self = 1; /* the worker's spawns; the children record nothing */
    }
    int ok = c->self == want_self && c->child == want_child && c->other == 0;
    if (print || !ok)
        printf("    logs: %ld by the worker and its forked children, %ld by /bin/true, %ld other "
               "(%ld spawns), %.1f MiB on disk: %s\n", c->self, c->child, c->other, total,
               (double)c->disk / (1 << 20), ok ? "as expected" : "NOT what this mode implies");
    return ok;
}

static void print_usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [-n SPAWNS] [-r REPS] [-j ROUNDS] [-w WARMUP] SHIM LOGDIR "
                    "[fork-exec|posix-spawn...]\n", argv0);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--worker"))
        return worker(argc, argv);

    struct setup s = {.spawns = 300, .warmup = 20};
    unsigned reps = 7;
    unsigned judged_reps = 40;
    int a = 1;
    for (; a + 1 < argc && argv[a][0] == '-'; a += 2) {
        long v = strtol(argv[a + 1], NULL, 10);
        if (!strcmp(argv[a], "-n") && v >= 1 && v <= 100000)
            s.spawns = v;
        else if (!strcmp(argv[a], "-r") && v >= 1 && v <= BENCH_MAX_REPS)
            reps = (unsigned)v;
        else if (!strcmp(argv[a], "-j") && v >= 1 && v <= MAX_ROUNDS)
            judged_reps = (unsigned)v;
        else if (!strcmp(argv[a], "-w") && v >= 0 && v <= 100000)
            s.warmup = v;
        else {
            print_usage(argv[0]);
            return 2;
        }
    }
    if (argc - a < 2) {
        print_usage(argv[0]);
        return 2;
    }
    s.shim = argv[a];
    s.logdir = argv[a + 1];
    int selected[NLOOPS] = {argc - a == 2, argc - a == 2};
    for (int i = a + 2; i < argc; i++) {
        int k = 0;
        while (k < NLOOPS && strcmp(argv[i], loop_names[k]))
            k++;
        if (k == NLOOPS) {
            print_usage(argv[0]);
            return 2;
        }
        selected[k] = 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (bench_shim_loaded() || getenv("LD_PRELOAD")) {
        fprintf(stderr, "spawn_bench: run the driver without LD_PRELOAD (it sets it per worker)\n");
        return 2;
    }
    struct stat st;
    if (stat(s.shim, &st) != 0 || s.shim[0] != '/') {
        fprintf(stderr, "spawn_bench: SHIM must be the absolute path of libguard.so: %s\n", s.shim);
        return 2;
    }
    struct log_count c, before;
    if (count_logs(s.logdir, &c, 0) != 0)
        return 2;
    if (c.self + c.child + c.other) {
        fprintf(stderr, "spawn_bench: %s already holds guard.*.log files; use an empty "
                        "directory (the bench deletes the logs its workers write)\n", s.logdir);
        return 2;
    }
    ssize_t n = readlink("/proc/self/exe", s.self, sizeof s.self - 1);
    if (n <= 0)
        return 2;
    s.self[n] = '\0';

    static char preload[PATH_MAX + 16], empty[PATH_MAX + 32], opts[NMODES][PATH_MAX + 64];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", s.shim);
    char *slash = strrchr(s.self, '/');
    snprintf(empty, sizeof empty, "LD_PRELOAD=%.*s/libempty_preload.so",
             slash ? (int)(slash - s.self) : 1, slash ? s.self : ".");
    if (stat(empty + 11, &st) != 0) {
        fprintf(stderr, "spawn_bench: %s is missing (make bench builds it)\n", empty + 11);
        return 2;
    }
    snprintf(opts[M_FLOOR], sizeof opts[M_FLOOR], "GUARD_OPTIONS=");
    snprintf(opts[M_SHIM], sizeof opts[M_SHIM], "GUARD_OPTIONS=log_dir=%s", s.logdir);
    snprintf(opts[M_ALWAYS], sizeof opts[M_ALWAYS], "GUARD_OPTIONS=log_dir=%s:log_always=1",
             s.logdir);
    snprintf(opts[M_NOFOLLOW], sizeof opts[M_NOFOLLOW], "GUARD_OPTIONS=log_dir=%s:follow_exec=0",
             s.logdir);
    for (int m = 0; m < NMODES; m++) {
        s.env[m] = env_without(1, 2);
        if (!s.env[m])
            return 1;
        if (m != M_NATIVE) {
            size_t k = 0;
            while (s.env[m][k])
                k++;
            s.env[m][k] = m == M_FLOOR ? empty : preload;
            s.env[m][k + 1] = opts[m];
        }
    }

    printf("spawn_bench: %ld timed spawns (after %ld untimed) per repetition; %u rounds of the "
           "judged pair, %u of each other mode; us per spawn+wait\n", s.spawns, s.warmup,
           judged_reps, reps);
    printf("  shim %s; logs in %s (counted after each worker, deleted at the end)\n", s.shim,
           s.logdir);

    int failed = 0;
    uint64_t start = bench_now_ns();
    for (int loop = 0; loop < NLOOPS; loop++) {
        if (!selected[loop])
            continue;
        printf("\n  %s: the workers' commands\n", loop_titles[loop]);
        /* Three phases, each with rounds of its own without the shim.
         * The judged pair (no shim, follow_exec=0) comes first, alone: two
         * workers per round, their order swapped every round, so that a
         * round's ratio is taken between neighbours in time and a drift of
         * the machine favours neither.  The context modes come next.  Last
         * log_always=1, which creates a log per process: its thousands of
         * files dirty the page cache and the journal for the next seconds,
         * and that churn must not fall on the other rounds. */
        static const enum mode phases[3][3] = {{M_NATIVE, M_NOFOLLOW},
                                               {M_NATIVE, M_FLOOR, M_SHIM},
                                               {M_NATIVE, M_ALWAYS}};
        static const int phase_modes[3] = {2, 3, 2};
        const unsigned phase_rounds[3] = {judged_reps, reps, reps};
        static double us[NMODES][MAX_ROUNDS], ratio[NMODES][MAX_ROUNDS];
        unsigned count[NMODES] = {0};
        for (int phase = 0; phase < 3 && !failed; phase++) {
            for (unsigned r = 0; r < phase_rounds[phase] && !failed; r++) {
                double t[NMODES] = {0};
                for (int k = 0; k < phase_modes[phase] && !failed; k++) {
                    enum mode m = phases[phase][(r + (unsigned)k) % (unsigned)phase_modes[phase]];
                    if (count_logs(s.logdir, &before, 0) != 0)
                        failed = 1;
                    /* each command and its logs are printed once */
                    int first = r == 0 && (phase == 0 || m != M_NATIVE);
                    t[m] = failed ? -1 : run_worker(&s, (enum loop)loop, m, first);
                    if (t[m] < 0 || count_logs(s.logdir, &c, 0) != 0) {
                        failed = 1;
                        break;
                    }
                    c.self -= before.self;
                    c.child -= before.child;
                    c.other -= before.other;
                    c.disk -= before.disk;
                    if (!logs_as_expected(&s, (enum loop)loop, m, &c, first))
                        failed = 1;
                }
                for (int k = 0; k < phase_modes[phase] && !failed; k++) {
                    enum mode m = phases[phase][k];
                    if (m == M_NATIVE && phase != 0)
                        continue; /* the table shows the judged phase's */
                    us[m][count[m]] = t[m];
                    ratio[m][count[m]++] = t[m] / t[M_NATIVE];
                }
            }
        }
        if (failed)
            break;
        struct bench_result res[NMODES], rat[NMODES];
        double lo[NMODES], hi[NMODES];
        for (int m = 0; m < NMODES; m++) {
            res[m] = bench_summarize(us[m], count[m], (uint64_t)s.spawns);
            rat[m] = bench_summarize(ratio[m], count[m], 0);
            median_interval(ratio[m], count[m], &lo[m], &hi[m]);
        }
        printf("\n  %-42s %9s %9s %9s   %s\n", loop_titles[loop], "median", "best", "worst",
               "x no shim, per round: median [95 % interval] (min..max)");
        static const enum mode table_order[] = {M_NATIVE, M_FLOOR, M_SHIM, M_ALWAYS, M_NOFOLLOW};
        for (unsigned i = 0; i < NMODES; i++) {
            enum mode m = table_order[i];
            printf("  %-42s %9.1f %9.1f %9.1f", mode_titles[m], res[m].median_ns, res[m].best_ns,
                   res[m].worst_ns);
            if (m != M_NATIVE && lo[m] == lo[m]) /* not NaN: enough rounds for an interval */
                printf("   %6.3f [%.3f..%.3f] (%.3f..%.3f)", rat[m].median_ns, lo[m], hi[m],
                       rat[m].best_ns, rat[m].worst_ns);
            else if (m != M_NATIVE)
                printf("   %6.3f [too few rounds] (%.3f..%.3f)", rat[m].median_ns, rat[m].best_ns,
                       rat[m].worst_ns);
            printf("\n");
        }
        double full = rat[M_SHIM].median_ns, nofollow = rat[M_NOFOLLOW].median_ns;
        double floor = rat[M_FLOOR].median_ns;
        const char *verdict = hi[M_NOFOLLOW] <= 1.05 ? "MET, the whole interval is below 1.05"
                              : nofollow <= 1.05     ? "MET, but the interval reaches past 1.05"
                                                     : "MISSED";
        printf("\n  target (%c): %s, the spawning process under the shim <= 1.05 x no shim\n",
               loop == L_FORK_EXEC ? 'e' : 'f', loop_titles[loop]);
        printf("              %.4fx, 95 %% interval %.3f..%.3f: %s\n", nofollow, lo[M_NOFOLLOW],
               hi[M_NOFOLLOW], verdict);
        printf("              (the median of %u per-round ratios: follow_exec=0, /bin/true without the shim,\n"
               "              against no shim in alternating pairs; the medians: %.1f vs %.1f us, %.3fx)\n",
               count[M_NOFOLLOW], res[M_NOFOLLOW].median_ns, res[M_NATIVE].median_ns,
               res[M_NOFOLLOW].median_ns / res[M_NATIVE].median_ns);
        printf("              /bin/true under the shim too: %.3fx; an empty preloaded library "
               "alone: %.3fx; the shim's own share of a /bin/true child: %+.1f us\n",
               full, floor, res[M_SHIM].median_ns - res[M_FLOOR].median_ns);
    }
    double secs = (double)(bench_now_ns() - start) / 1e9;
    uint64_t t0 = bench_now_ns();
    if (count_logs(s.logdir, &c, 1) != 0)
        failed = 1;
    printf("\n  (%.1f s; at the end %ld logs, %.0f MiB on disk, deleted in %.1f s)\n", secs,
           c.self + c.child + c.other, (double)c.disk / (1 << 20), (double)(bench_now_ns() - t0) / 1e9);
    return failed;
}
