/*
 * main.c — the guard-analyze command line (a fixed contract, DESIGN.md 5):
 *
 *   guard-analyze [--format=text|json] [--verbose] PATH...
 *   guard-analyze inspect [--format=text|json] [--verbose] [--host]
 *                         [--vdso-image=FILE] [BINARY...]
 *
 * Exit status: 0 no findings, 1 findings, 2 usage or input error.  An input
 * error (unreadable path, not a log, corrupt record) is reported on stderr
 * naming the file (and offset); everything that could be read is still
 * reported, and then 2 wins over 1: CI must not take a damaged run for a
 * clean or merely buggy one.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "findings.h"
#include "inspect.h"
#include "logread.h"
#include "report.h"
#include "symbolize.h"
#include "util.h"

struct options {
    bool json;
    bool verbose;
    bool host;              /* inspect only */
    const char *vdso_image; /* inspect only */
};

static void usage(FILE *f)
{
    fputs("usage: " ANALYZER_NAME " [--format=text|json] [--verbose] PATH...\n"
          "       " ANALYZER_NAME " inspect [--format=text|json] [--verbose] [--host] [BINARY...]\n"
          "\n"
          "Report the findings in libguard logs.  A PATH is a log file or a directory\n"
          "holding guard.*.log files.  `inspect` tells whether libguard can work in\n"
          "each executable (static, static-pie, setuid...) and runs static checks.\n"
          "\n"
          "  --format=text|json  report format (default text; `--format json` works too)\n"
          "  --verbose, -v       more detail: processes, per-log statistics on stderr\n"
          "  --host              (inspect) this machine: kernel, stack limits, and how deep\n"
          "                      below the caller's SP the vDSO's time functions write;\n"
          "                      BINARY operands are optional with it\n"
          "  --vdso-image=FILE   (inspect --host) measure a vDSO image dumped to FILE\n"
          "  --help, -h          this text\n"
          "\n"
          "Exit status: 0 no findings, 1 findings, 2 usage or input error.\n",
          f);
}

/* Returns -1 on a usage error, 1 for --help, 0 to go on; *first is the
 * index of the first operand. */
static int parse_options(int argc, char **argv, struct options *o, int *first, bool inspect)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"host", no_argument, NULL, 'H'},
        {"vdso-image", required_argument, NULL, 'I'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 1;
    int c;
    while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "json") == 0)
                o->json = true;
            else if (strcmp(optarg, "text") == 0)
                o->json = false;
            else {
                fprintf(stderr, ANALYZER_NAME ": unknown format '%s' (text or json)\n", optarg);
                return -1;
            }
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'h':
            return 1;
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

/* The guard.*.log files of a directory (not recursive), sorted by name. */
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
    size_t found = 0;
    for (size_t i = 0; i < n; i++) {
        size_t dl = strlen(dir);
        char *path = xasprintf("%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            add_input(in, path, &st, run);
            found++;
        }
        free(path);
        free(names[i]);
    }
    free(names);
    if (!found)
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

static int analyze(char *const *paths, size_t npaths, const struct options *o)
{
    struct notes notes = {0};
    struct inputs in = {0};
    collect(&in, paths, npaths, &notes);

    bool input_error = notes.errors > 0;
    struct lg_log **logs = xcalloc(in.n ? in.n : 1, sizeof *logs);
    size_t nlogs = 0;
    for (size_t i = 0; i < in.n; i++) {
        struct lg_log *log = lg_read(in.v[i].path, &notes, o->verbose, &input_error);
        if (log) {
            log->run = in.v[i].run;
            logs[nlogs++] = log;
        }
    }

    struct symbolizer *sym = sym_new(&notes, o->verbose);
    struct fnd_db db;
    fnd_build(&db, logs, nlogs, sym, &notes);

    struct report r = {.db = &db, .logs = logs, .nlogs = nlogs, .notes = &notes,
                       .verbose = o->verbose};
    int wrc = o->json ? report_json(stdout, &r) : report_text(stdout, &r);
    if (wrc != 0)
        fprintf(stderr, ANALYZER_NAME ": cannot write the report: %s\n", strerror(errno));

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
    return status;
}

int main(int argc, char **argv)
{
    struct options o = {false, false, false, NULL};
    bool inspect = argc > 1 && strcmp(argv[1], "inspect") == 0;
    int shift = inspect ? 1 : 0;
    int first = 0;
    int rc = parse_options(argc - shift, argv + shift, &o, &first, inspect);
    if (rc > 0) {
        usage(stdout);
        return 0;
    }
    if (rc < 0) {
        fputs("Try '" ANALYZER_NAME " --help'.\n", stderr);
        return 2;
    }
    char *const *operands = argv + shift + first;
    size_t n = (size_t)(argc - shift - first);
    if (o.vdso_image && !o.host) {
        fputs(ANALYZER_NAME ": --vdso-image needs --host\n", stderr);
        return 2;
    }
    if (n == 0 && !o.host) {
        fprintf(stderr, ANALYZER_NAME ": no %s given\n", inspect ? "BINARY" : "PATH");
        usage(stderr);
        return 2;
    }
    if (inspect) {
        struct inspect_options io = {o.json, o.verbose, o.host, o.vdso_image};
        return inspect_run(operands, n, &io);
    }
    return analyze(operands, n, &o);
}
