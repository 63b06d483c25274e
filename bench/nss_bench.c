/*
 * nss_bench — what the shim's NSS hooks cost (preload/nss.c).
 *
 * Times a loop of
 *     getpwuid_r(0, &pw, buf, sizeof buf, &result)     (the target)
 * with a caller buffer of 1 KiB, made as a program makes it (through the
 * PLT: under the shim, that is the hook) against the same loop calling
 * libc's own getpwuid_r (dlsym in libc.so.6: the hook bypassed), in
 * alternating repetitions of the same process.  For context it does the
 * same for the non-reentrant getpwuid(0), whose hook takes a stack on
 * every call (nss-nonreentrant-threads needs to know where each thread
 * calls it from).  Without the shim both loops call libc; their ratio,
 * ~1.00, shows that the method compares like with like.
 *
 * Every call must find root (uid 0); what it costs depends on the NSS
 * configuration (/etc/nsswitch.conf "passwd:" line, printed) and on the
 * file system /etc/passwd is on: it is a lookup in a file, opened and
 * parsed on each call by glibc's "files" module.
 *
 *   build/bench/nss_bench                                          no shim
 *   LD_PRELOAD=build/libguard.so GUARD_OPTIONS=log_dir=DIR build/bench/nss_bench
 *
 * Target (d), docs/performance.md: with the shim, getpwuid_r(0, ...) with a
 * caller buffer is at most 5 % slower than the native call.
 *
 * usage: nss_bench [-t MS_PER_REP] [-r REPS]
 */
#include "bench_common.h"

#include <pwd.h>
#include <sys/types.h>

typedef int (*getpwuid_r_fn)(uid_t, struct passwd *, char *, size_t, struct passwd **);
typedef struct passwd *(*getpwuid_fn)(uid_t);

static getpwuid_r_fn libc_getpwuid_r;
static getpwuid_fn libc_getpwuid;
static volatile int failures;

static void check(const struct passwd *pw)
{
    if (!pw || pw->pw_uid != 0)
        failures++;
}

static void r_called(void *arg, uint64_t n)
{
    (void)arg;
    struct passwd pw, *res;
    char buf[1024];
    for (uint64_t i = 0; i < n; i++) {
        if (getpwuid_r(0, &pw, buf, sizeof buf, &res) != 0)
            res = NULL;
        check(res);
    }
}

static void r_libc(void *arg, uint64_t n)
{
    (void)arg;
    struct passwd pw, *res;
    char buf[1024];
    getpwuid_r_fn f = libc_getpwuid_r;
    for (uint64_t i = 0; i < n; i++) {
        if (f(0, &pw, buf, sizeof buf, &res) != 0)
            res = NULL;
        check(res);
    }
}

static void nr_called(void *arg, uint64_t n)
{
    (void)arg;
    for (uint64_t i = 0; i < n; i++)
        check(getpwuid(0));
}

static void nr_libc(void *arg, uint64_t n)
{
    (void)arg;
    getpwuid_fn f = libc_getpwuid;
    for (uint64_t i = 0; i < n; i++)
        check(f(0));
}

static void print_row(const char *name, const struct bench_pair *p)
{
    printf("  %-26s %9.1f %9.1f   %9.1f %9.1f   %6.3f %6.3f %6.3f\n", name, p->a.median_ns,
           p->a.best_ns, p->b.median_ns, p->b.best_ns, p->ratio.median_ns, p->ratio.best_ns,
           p->ratio.worst_ns);
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    bench_parse_opts_only(argc, argv, &o);
    int shim = bench_shim_loaded();
    libc_getpwuid_r = (getpwuid_r_fn)bench_libc_sym("getpwuid_r");
    libc_getpwuid = (getpwuid_fn)bench_libc_sym("getpwuid");
    if (!libc_getpwuid_r || !libc_getpwuid) {
        fprintf(stderr, "nss_bench: cannot find getpwuid_r/getpwuid in libc.so.6\n");
        return 1;
    }
    int hooked = (void *)getpwuid_r != (void *)libc_getpwuid_r &&
                 (void *)getpwuid != (void *)libc_getpwuid;
    char nss[256] = "(no passwd line)";
    FILE *conf = fopen("/etc/nsswitch.conf", "r");
    for (char line[256]; conf && fgets(line, sizeof line, conf);)
        if (!strncmp(line, "passwd:", 7)) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(nss, sizeof nss, "%s", line);
        }
    if (conf)
        fclose(conf);

    printf("nss_bench: shim %s; GUARD_OPTIONS='%s'\n", shim ? "LOADED" : "not loaded",
           bench_env("GUARD_OPTIONS"));
    printf("  /etc/nsswitch.conf: %s\n", nss);
    if (bench_check_resolution("nss_bench", "the NSS calls", shim, hooked))
        return 1;
    printf("  %u repetitions of ~%u ms per column, the two columns alternating; ns per call\n\n",
           o.reps, o.rep_ms);

    struct bench_pair r = bench_measure_pair(r_called, NULL, r_libc, NULL, &o);
    struct bench_pair nr = bench_measure_pair(nr_called, NULL, nr_libc, NULL, &o);
    if (failures) {
        fprintf(stderr, "nss_bench: %d lookups of uid 0 did not find root\n", failures);
        return 1;
    }
    printf("  %-26s %-21s   %-21s   %-20s\n", "", shim ? "  with the shim (hook)" : "  called as usual",
           "  libc's own (dlsym)", "  ratio (per pair)");
    printf("  %-26s %9s %9s   %9s %9s   %6s %6s %6s\n", "call", "median", "best", "median", "best",
           "median", "best", "worst");
    print_row("getpwuid_r(0), 1 KiB buf", &r);
    print_row("getpwuid(0) (context)", &nr);

    if (shim) {
        printf("\n  target (d): getpwuid_r(0, ...) with the shim <= 1.05 x native (libc's own, "
               "same process)\n");
        printf("              measured %.1f vs %.1f ns = %.3fx (median of per-pair ratios): %s\n",
               r.a.median_ns, r.b.median_ns, r.ratio.median_ns,
               r.ratio.median_ns <= 1.05 ? "MET" : "MISSED");
    } else {
        printf("\n  no shim: the two columns call the same functions; target (d) needs the shim\n");
    }
    return 0;
}
