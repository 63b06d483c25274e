/*
 * suppress.c — GUARD_OPTIONS=suppressions=FILE: known findings the program's
 * owners accept, kept quiet at run time.
 *
 * One rule a line, `KIND:PATTERN`, `#` starts a comment.  KIND is a finding
 * kind (or `*`); PATTERN is a glob (`*`, `?`) matched against the function
 * name and the module path of every frame of every stack of the finding.
 * (Source files are known only offline: `guard-analyze --suppressions`
 * takes the same file and matches files too.)  A suppressed finding is not
 * printed and does not halt the program; it still goes to the log, marked,
 * so the analyzer can say which rules were used.
 *
 * The file is read once at start-up; matching uses dladdr and a glob
 * matcher of our own (no fnmatch: it may allocate), so it is safe in a
 * signal handler.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "guard_internal.h"

#define MAX_RULES 256
#define MAX_TEXT (32 * 1024)

struct rule {
    const char *kind;    /* "*" for any */
    const char *pattern;
};

GUARD_LARGE static char text[MAX_TEXT];
GUARD_LARGE static struct rule rules[MAX_RULES];
static unsigned nrules;

/* Glob with * and ?; iterative, no recursion, no allocation. */
int guard_suppress_glob(const char *pat, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat == '?' || *pat == *s) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

void guard_suppress_load(const char *path)
{
    nrules = 0;
    if (!path || !*path)
        return;
    int fd = guard_sys_open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        guard_fmt_stderr("libguard: warning: GUARD_OPTIONS: cannot read suppressions file %s\n", path);
        return;
    }
    long n = guard_sys_read(fd, text, sizeof text - 1);
    guard_sys_close(fd);
    if (n < 0)
        n = 0;
    text[n] = '\0';
    unsigned lineno = 0;
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        size_t len = strlen(line);
        while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (*line) {
            char *colon = strchr(line, ':');
            if (!colon || colon == line || !colon[1]) {
                guard_fmt_stderr("libguard: warning: %s:%u: not KIND:PATTERN, ignored\n", path, lineno);
            } else if (nrules < MAX_RULES) {
                *colon = '\0';
                rules[nrules++] = (struct rule){line, colon + 1};
            }
        }
        line = next;
    }
}

static int frame_matches(const char *pattern, uint64_t pc)
{
    Dl_info info;
    if (!dladdr((void *)(uintptr_t)pc, &info))
        return 0;
    return (info.dli_sname && guard_suppress_glob(pattern, info.dli_sname)) ||
           (info.dli_fname && guard_suppress_glob(pattern, info.dli_fname));
}

/* Does a rule cover this finding?  Returns the rule's index + 1, or 0. */
int guard_suppress_rule(const struct guard_finding *f)
{
    const char *kind = guard_finding_kind_name(f->kind);
    for (unsigned r = 0; r < nrules; r++) {
        if (strcmp(rules[r].kind, "*") && (!kind || strcmp(rules[r].kind, kind)))
            continue;
        for (unsigned s = 0; s < f->nstacks; s++) {
            const uint64_t *pcs = NULL;
            unsigned n = guard_stack_frames(f->stacks[s].stack_id, &pcs);
            for (unsigned i = 0; i < n; i++)
                if (frame_matches(rules[r].pattern, pcs[i]))
                    return (int)r + 1;
        }
        if (f->call && guard_suppress_glob(rules[r].pattern, f->call))
            return (int)r + 1;
    }
    return 0;
}
