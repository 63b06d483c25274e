/*
 * main.c — the guard-analyze command line (a fixed contract, DESIGN.md 5):
 *
 *   guard-analyze [--format=text|json|sarif|junit|trace] [--verbose]
 *                 [--suppressions FILE]... [--baseline OLD.json]
 *                 [--source-root DIR] PATH...
 *   guard-analyze --list-kinds [--format=text|json] [--verbose]
 *   guard-analyze inspect [--format=text|json] [--verbose] [--host]
 *                         [--vdso-image=FILE] [BINARY...]
 *   guard-analyze symbolize    (the shim's symbolizer: symbolize_cmd.c)
 *
 * Exit status: 0 no findings, 1 findings, 2 usage or input error.  An input
 * error (unreadable path, not a log, corrupt record, a bad baseline) is
 * reported on stderr naming the file (and offset); everything that could
 * be read is still reported, and then 2 wins over 1: CI must not take a
 * damaged run for a clean or merely buggy one.  Suppressed findings, and
 * with --baseline the findings the baseline already had, do not count.
 *
 * The folders are the pipeline, in the order analyze() runs it:
 *   read/     one log file into plain structs (lg_*: logfile.c maps it,
 *             logread.c walks it, logrec.c one record, logcrash.c a crash's
 *             history, logns.c the namespace timeline, logring.c the field
 *             profile's event ring, rawunwind.c raw stacks)
 *   model/    the run as findings: symbolized, folded, fingerprinted, tied
 *             to the process tree, the namespace timelines and the crash;
 *             suppressions and a baseline applied
 *   report/   the model written as text, JSON, SARIF, JUnit XML or a trace
 *             (Chrome trace-event JSON: Perfetto, chrome://tracing)
 *   inspect/  `guard-analyze inspect`, a tool of its own: static checks on
 *             executables and the vDSO's stack use (no logs)
 * with main.c (this command line), progress.c (its progress line) and
 * util.c (allocation, notes, untrusted strings: used everywhere) on top.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "baseline.h"
#include "findings.h"
#include "inspect.h"
#include "logread.h"
#include "progress.h"
#include "report.h"
#include "suppress.h"
#include "symbolize.h"
#include "symbolize_cmd.h"
#include "util.h"

enum format { FMT_TEXT, FMT_JSON, FMT_SARIF, FMT_JUNIT, FMT_TRACE };

struct options {
    enum format format;
    bool verbose;
    bool host;              /* inspect only */
    const char *vdso_image; /* inspect only */
    const char **suppressions; /* --suppressions FILE, in order */
    size_t nsuppressions;
    const char *baseline;
    const char *source_root;
    bool list_kinds;        /* --list-kinds: the table of finding kinds */
};

static void inspect_usage(FILE *f)
{
    fputs("usage: " ANALYZER_NAME " inspect [--format=text|json] [--verbose] [--host]\n"
          "                             [--vdso-image=FILE] [BINARY...]\n"
          "       " ANALYZER_NAME " inspect --mode BINARY\n"
          "       " ANALYZER_NAME " inspect --symbolize BINARY ADDR...\n"
          "\n"
          "Tell whether libguard can work in each executable: dynamic, static,\n"
          "static-pie, setuid or setgid, with file capabilities, or of another ELF class\n"
          "(LD_PRELOAD reaches only the first), and run the static checks on it\n"
          "(nss-static-binary: a static executable with NSS lookups and threads).\n"
          "\n"
          "  --format=FORMAT     text (default) or json\n"
          "  --verbose, -v       more detail on each executable\n"
          "  --host              this machine: kernel, stack limits, and how deep below the\n"
          "                      caller's SP the vDSO's time functions write; BINARY\n"
          "                      operands are optional with it\n"
          "  --vdso-image=FILE   with --host: measure a vDSO image dumped to FILE\n"
          "  --mode BINARY       one word: preload (LD_PRELOAD sees it all), supervise\n"
          "                      (static or Go without cgo), both (dynamic Go with cgo)\n"
          "                      or none (setuid, setgid, file capabilities); why on\n"
          "                      stderr; exit 2 when BINARY cannot be read\n"
          "  --symbolize BINARY ADDR...  name each file address of BINARY (DWARF, symbol\n"
          "                      table, then Go's .gopclntab): ADDR FUNCTION FILE:LINE\n"
          "  --help, -h          this text\n"
          "\n"
          "Exit status: 0 nothing found, 1 a finding, 2 usage or input error.\n",
          f);
}

static void usage(FILE *f)
{
    fputs("usage: " ANALYZER_NAME " [--format=text|json|sarif|junit|trace] [--verbose]\n"
          "                     [--suppressions FILE]... [--baseline OLD.json]\n"
          "                     [--source-root DIR] PATH...\n"
          "       " ANALYZER_NAME " --list-kinds [--format=text|json] [--verbose]\n"
          "       " ANALYZER_NAME " inspect [--format=text|json] [--verbose] [--host] [BINARY...]\n"
          "       " ANALYZER_NAME " symbolize   (the shim's symbolizer; see --help there)\n"
          "\n"
          "Report the findings in libguard logs.  A PATH is a log file or a directory\n"
          "holding guard.*.log files; each PATH is one run (a nightly run's directory),\n"
          "and the report merges them, saying per finding how many processes and runs\n"
          "hit it.  `inspect` tells whether libguard can work in each executable\n"
          "(static, static-pie, setuid...) and runs static checks.\n"
          "\n"
          "  --format=FORMAT     text (default), json, sarif (SARIF 2.1.0), junit (JUnit\n"
          "                      XML: a testsuite per PATH, a testcase per finding kind)\n"
          "                      or trace (Chrome trace-event JSON, for ui.perfetto.dev or\n"
          "                      chrome://tracing: processes, threads, spawns, reaps,\n"
          "                      namespace changes, pool lifetimes and findings in time)\n"
          "  --suppressions FILE rules KIND:PATTERN, one a line (# comments): findings with\n"
          "                      a frame whose function, source file or module matches the\n"
          "                      glob are left out of the report and the exit status; may\n"
          "                      be given more than once\n"
          "  --baseline OLD.json report only findings whose fingerprint OLD.json (an earlier\n"
          "                      JSON or SARIF report) does not have, and those of OLD.json\n"
          "                      no longer seen; exit 1 only for new findings\n"
          "  --source-root DIR   (sarif) source paths under DIR as relative URIs (%SRCROOT%)\n"
          "  --list-kinds        the finding kinds, one a line (with --verbose: what fires\n"
          "                      and why; with --format=json: the whole table)\n"
          "  --verbose, -v       more detail: the whole process tree, every process,\n"
          "                      suppressed findings, each rule's use and unused rules,\n"
          "                      per-log statistics on stderr\n"
          "  --host              (inspect) this machine: kernel, stack limits, and how deep\n"
          "                      below the caller's SP the vDSO's time functions write;\n"
          "                      BINARY operands are optional with it\n"
          "  --vdso-image=FILE   (inspect --host) measure a vDSO image dumped to FILE\n"
          "  --version           the version of libguard\n"
          "  --help, -h          this text\n"
          "\n"
          "Exit status: 0 no findings, 1 findings, 2 usage or input error.\n",
          f);
}

/* Returns -1 on a usage error, 1 for --help, 2 for --version, 0 to go on; *first is the
 * index of the first operand. */
static int parse_options(int argc, char **argv, struct options *o, int *first, bool inspect)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"host", no_argument, NULL, 'H'},
        {"vdso-image", required_argument, NULL, 'I'},
        {"suppressions", required_argument, NULL, 'S'},
        {"baseline", required_argument, NULL, 'B'},
        {"source-root", required_argument, NULL, 'R'},
        {"list-kinds", no_argument, NULL, 'K'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 1;
    int c;
    while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "json") == 0)
                o->format = FMT_JSON;
            else if (strcmp(optarg, "text") == 0)
                o->format = FMT_TEXT;
            else if (!inspect && strcmp(optarg, "sarif") == 0)
                o->format = FMT_SARIF;
            else if (!inspect && strcmp(optarg, "junit") == 0)
                o->format = FMT_JUNIT;
            else if (!inspect && strcmp(optarg, "trace") == 0)
                o->format = FMT_TRACE;
            else {
                fprintf(stderr, ANALYZER_NAME ": unknown format '%s' (%s)\n", optarg,
                        inspect ? "text or json" : "text, json, sarif, junit or trace");
                return -1;
            }
            break;
        case 'S':
        case 'B':
        case 'R':
            if (inspect) {
                fprintf(stderr, ANALYZER_NAME ": --%s is not an option of `inspect`\n",
                        c == 'S' ? "suppressions" : c == 'B' ? "baseline" : "source-root");
                return -1;
            }
            if (c == 'S') {
                o->suppressions = xreallocarray(o->suppressions, o->nsuppressions + 1,
                                                sizeof *o->suppressions);
                o->suppressions[o->nsuppressions++] = optarg;
            } else if (c == 'B') {
                if (o->baseline) {
                    fputs(ANALYZER_NAME ": --baseline may be given once\n", stderr);
                    return -1;
                }
                o->baseline = optarg;
            } else {
                o->source_root = optarg;
            }
            break;
        case 'K':
            if (inspect) {
                fputs(ANALYZER_NAME ": --list-kinds is not an option of `inspect`\n", stderr);
                return -1;
            }
            o->list_kinds = true;
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'h':
            return 1;
        case 'V':
            return 2;
        case 'H':
        case 'I':
            if (!inspect) {
                fprintf(stderr, ANALYZER_NAME ": --%s is an option of `inspect`\n",
                        c == 'H' ? "host" : "vdso-image");
                return -1;
            }
            if (c == 'H')
                o->host = true;
            else
                o->vdso_image = optarg;
            break;
        default: /* getopt said what was wrong */
            return -1;
        }
    }
    *first = optind;
    return 0;
}

/* ---- collecting log files ------------------------------------------ */

struct input {
    char *path;
    dev_t dev;
    ino_t ino;
    uint64_t size;
    unsigned run; /* the operand it came from */
};

struct inputs {
    struct input *v;
    size_t n, cap;
};

static void add_input(struct inputs *in, const char *path, const struct stat *st, unsigned run)
{
    /* The same file named twice (a directory and a file in it) is one
     * process, not two. */
    for (size_t i = 0; i < in->n; i++)
        if (in->v[i].dev == st->st_dev && in->v[i].ino == st->st_ino)
            return;
    VEC_GROW(in->v, in->n, in->cap);
    in->v[in->n].path = xstrdup(path);
    in->v[in->n].dev = st->st_dev;
    in->v[in->n].ino = st->st_ino;
    /* what is really there: a log's tail is a sparse hole */
    uint64_t apparent = st->st_size > 0 ? (uint64_t)st->st_size : 0;
    uint64_t used = (uint64_t)st->st_blocks * 512u;
    in->v[in->n].size = used < apparent ? used : apparent;
    in->v[in->n].run = run;
    in->n++;
}

static bool is_log_name(const char *name)
{
    size_t n = strlen(name);
    return n > 10 && strncmp(name, "guard.", 6) == 0 && strcmp(name + n - 4, ".log") == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *file_kind(mode_t mode)
{
    return S_ISFIFO(mode) ? "a FIFO"
         : S_ISDIR(mode)  ? "a directory"
         : S_ISSOCK(mode) ? "a socket"
         : S_ISCHR(mode) || S_ISBLK(mode) ? "a device"
                          : "a special file";
}

/* The guard.*.log files of a directory (not recursive), sorted by name.
 * Each is stat'ed, never opened here (a FIFO would block an open); a name
 * that looks like a log but is not a regular file (a symlink loop or a
 * dangling one, a FIFO, a directory, a device) is an input error: a run
 * whose log was replaced by one of those is not a clean run. */
static void scan_dir(struct inputs *in, const char *dir, unsigned run, struct notes *notes)
{
    DIR *d = opendir(dir);
    if (!d) {
        notes_add(notes, NOTE_ERROR, dir, 0, "cannot read directory: %s", strerror(errno));
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_log_name(de->d_name))
            continue;
        VEC_GROW(names, n, cap);
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    size_t found = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        size_t dl = strlen(dir);
        char *path = xasprintf("%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", names[i]);
        struct stat st, lst;
        int rc = stat(path, &st), err = rc ? errno : 0;
        if (rc == 0 && S_ISREG(st.st_mode)) {
            add_input(in, path, &st, run);
            found++;
        } else {
            int lrc = lstat(path, &lst);
            bool link = lrc == 0 && S_ISLNK(lst.st_mode);
            if (rc != 0 && err == ENOENT && lrc != 0) {
                /* gone since readdir (a run still cleaning up): nothing to read */
            } else if (rc != 0) {
                notes_add(notes, NOTE_ERROR, path, 0, "cannot read: %s%s", strerror(err),
                          link ? " (a symlink)" : "");
                bad++;
            } else {
                notes_add(notes, NOTE_ERROR, path, 0, "cannot read: not a regular file (%s%s)",
                          link ? "a symlink to " : "", file_kind(st.st_mode));
                bad++;
            }
        }
        free(path);
        free(names[i]);
    }
    free(names);
    if (!found && !bad)
        /* Not an error: a run whose programs were all static, or all
         * setuid (the shim stays inert), has no logs.  Said in the report
         * so that nobody mistakes it for a clean run of the shim. */
        notes_add(notes, NOTE_INFO, dir, 0, "no guard.*.log files in this directory");
}

static void collect(struct inputs *in, char *const *paths, size_t n, struct notes *notes)
{
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0)
            notes_add(notes, NOTE_ERROR, paths[i], 0, "cannot read: %s", strerror(errno));
        else if (S_ISDIR(st.st_mode))
            scan_dir(in, paths[i], (unsigned)i, notes);
        else
            add_input(in, paths[i], &st, (unsigned)i); /* lg_read refuses non-regular files */
    }
}

/* ---- analyze ------------------------------------------------------- */

static int write_report(const struct report *r, enum format format)
{
    switch (format) {
    case FMT_JSON:
        return report_json(stdout, r);
    case FMT_SARIF:
        return report_sarif(stdout, r);
    case FMT_JUNIT:
        return report_junit(stdout, r);
    case FMT_TRACE:
        return report_trace(stdout, r);
    case FMT_TEXT:
    default:
        return report_text(stdout, r);
    }
}

static int analyze(char *const *paths, size_t npaths, const struct options *o)
{
    /* A bad rules file or baseline is an error (exit 2, named on stderr
     * and in the report's notes), like a corrupt log: the report is still
     * written, without that file's rules, or with every finding as new. */
    struct notes notes = {0};
    struct supp supp = {0};
    for (size_t i = 0; i < o->nsuppressions; i++)
        supp_load(&supp, o->suppressions[i], &notes);
    struct baseline base;
    bool have_base = o->baseline && baseline_load(&base, o->baseline, &notes) == 0;
    if (o->baseline && !have_base)
        baseline_free(&base);

    char *source_root = NULL; /* absolute, for SARIF's SRCROOT */
    if (o->source_root && !(source_root = realpath(o->source_root, NULL)))
        notes_add(&notes, NOTE_ERROR, o->source_root, 0, "--source-root: %s", strerror(errno));

    struct inputs in = {0};
    collect(&in, paths, npaths, &notes);
    if (o->format == FMT_TRACE) { /* pool lifetimes: kept only for the trace, and only
                                   * as many as it shows */
        lg_pool_spans = true;
        lg_pool_spans_max = TRACE_POOL_MAX;
    }

    bool input_error = notes.errors > 0;
    struct lg_log **logs = xcalloc(in.n ? in.n : 1, sizeof *logs);
    size_t nlogs = 0;
    uint64_t total = 0, done = 0;
    for (size_t i = 0; i < in.n; i++)
        total += in.v[i].size;
    struct progress prog;
    progress_init(&prog, in.n, total);
    for (size_t i = 0; i < in.n; i++) {
        progress_update(&prog, i, done);
        struct lg_log *log = lg_read(in.v[i].path, &notes, o->verbose, &input_error);
        done += in.v[i].size;
        if (log) {
            lg_pool_spans_max -= log->npool_spans; /* never more than it */
            log->run = in.v[i].run;
            logs[nlogs++] = log;
        }
    }
    progress_phase(&prog, "symbolizing and folding findings");

    struct symbolizer *sym = sym_new(&notes, o->verbose);
    struct fnd_db db;
    fnd_build(&db, logs, nlogs, sym, &notes);
    supp_apply(&supp, &db);
    if (have_base)
        baseline_apply(&base, &db);
    fnd_partition(&db);
    progress_done(&prog);

    struct report r = {.db = &db, .logs = logs, .nlogs = nlogs, .notes = &notes,
                       .verbose = o->verbose, .supp = o->nsuppressions ? &supp : NULL,
                       .baseline = have_base ? &base : NULL, .paths = paths,
                       .npaths = npaths, .source_root = source_root};
    int wrc = write_report(&r, o->format);
    if (wrc != 0)
        fprintf(stderr, ANALYZER_NAME ": cannot write the report: %s\n", strerror(errno));
    if (o->verbose && (supp.n || supp.shim_findings))
        supp_print_stats(&supp, stderr);

    int status = 0;
    if (wrc != 0 || input_error || notes.errors)
        status = 2;
    else if (db.n)
        status = 1;

    fnd_free(&db);
    sym_free(sym);
    for (size_t i = 0; i < nlogs; i++)
        lg_free(logs[i]);
    free(logs);
    for (size_t i = 0; i < in.n; i++)
        free(in.v[i].path);
    free(in.v);
    notes_free(&notes);
    supp_free(&supp);
    if (have_base)
        baseline_free(&base);
    free(source_root);
    return status;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "symbolize") == 0)
        return symbolize_cmd_run(argc - 1, argv + 1);
    struct options o = {0};
    bool inspect = argc > 1 && strcmp(argv[1], "inspect") == 0;
    int shift = inspect ? 1 : 0;
    int first = 0;
    /* inspect's one-line answers (inspect_mode.c) take their own operands */
    if (inspect && argc > 2 && (strcmp(argv[2], "--mode") == 0 || strncmp(argv[2], "--mode=", 7) == 0 ||
                                strcmp(argv[2], "--symbolize") == 0))
        return inspect_tool_main(argc - 2, argv + 2);
    int rc = parse_options(argc - shift, argv + shift, &o, &first, inspect);
    if (rc != 0)
        free(o.suppressions);
    if (rc == 2) {
        puts(ANALYZER_NAME " (libguard) " GUARD_VERSION);
        return 0;
    }
    if (rc > 0) {
        if (inspect)
            inspect_usage(stdout);
        else
            usage(stdout);
        return 0;
    }
    if (rc < 0) {
        fputs("Try '" ANALYZER_NAME " --help'.\n", stderr);
        return 2;
    }
    char *const *operands = argv + shift + first;
    size_t n = (size_t)(argc - shift - first);
    if (o.list_kinds) {
        free(o.suppressions);
        if (n || (o.format != FMT_TEXT && o.format != FMT_JSON)) {
            fprintf(stderr, ANALYZER_NAME ": --list-kinds takes %s\n",
                    n ? "no PATH" : "--format=text or json");
            return 2;
        }
        if (report_kinds(stdout, o.format == FMT_JSON, o.verbose) != 0) {
            fprintf(stderr, ANALYZER_NAME ": cannot write the list: %s\n", strerror(errno));
            return 2;
        }
        return 0;
    }
    if ((o.vdso_image && !o.host) || (n == 0 && !o.host)) {
        if (o.vdso_image && !o.host) {
            fputs(ANALYZER_NAME ": --vdso-image needs --host\n", stderr);
        } else {
            fprintf(stderr, ANALYZER_NAME ": no %s given\n", inspect ? "BINARY" : "PATH");
            usage(stderr);
        }
        free(o.suppressions);
        return 2;
    }
    int status;
    if (inspect) {
        struct inspect_options io = {o.format == FMT_JSON, o.verbose, o.host, o.vdso_image};
        status = inspect_run(operands, n, &io);
    } else {
        status = analyze(operands, n, &o);
    }
    free(o.suppressions);
    return status;
}
