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
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
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

/* Is kind a finding kind (or "*")? */
static int known_kind(const char *kind)
{
    if (!strcmp(kind, "*"))
        return 1;
    for (unsigned k = 1; k < GUARD_FK_COUNT_; k++) {
        const char *name = guard_finding_kind_name(k);
        if (name && !strcmp(name, kind))
            return 1;
    }
    return 0;
}

/* s without blanks at either end (in place). */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        s[--len] = '\0';
    return s;
}

/* The whole file into text, or a warning and 0: a file that is not a
 * regular file (a FIFO would block the program before main), cannot be
 * read whole, is longer than the buffer or holds a NUL byte is not used at
 * all; a part of a rule file could suppress what the whole does not. */
static int read_rules_file(const char *path)
{
    const char *why = NULL;
    int fd = guard_sys_open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0);
    struct stat st;
    long n = 0;
    if (fd < 0) {
        why = "cannot be opened";
    } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        why = "is not a regular file";
    } else if (st.st_size > (off_t)sizeof text - 1) {
        why = "is longer than 32 KiB";
    } else {
        for (;;) {
            long got = guard_sys_read(fd, text + n, sizeof text - 1 - (size_t)n);
            if (got == -EINTR)
                continue;
            if (got < 0) {
                why = "cannot be read";
                break;
            }
            if (got == 0)
                break;
            n += got;
            char more;
            if ((size_t)n == sizeof text - 1 && guard_sys_read(fd, &more, 1) > 0) {
                why = "is longer than 32 KiB"; /* it grew since the fstat */
                break;
            }
        }
        if (!why && memchr(text, '\0', (size_t)n))
            why = "holds a NUL byte";
    }
    if (fd >= 0)
        guard_sys_close(fd);
    if (why) {
        guard_fmt_stderr("libguard: warning: GUARD_OPTIONS: suppressions file %s %s; no rule "
                         "of it is used\n", path, why);
        return 0;
    }
    text[n] = '\0';
    return 1;
}

void guard_suppress_load(const char *path)
{
    nrules = 0;
    if (!path || !*path || !read_rules_file(path))
        return;
    unsigned lineno = 0, dropped = 0;
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        line = trim(line);
        if (*line) {
            char *colon = strchr(line, ':');
            char *kind = line, *pattern = colon ? trim(colon + 1) : NULL;
            if (colon)
                *colon = '\0';
            kind = trim(kind);
            if (!colon || !*kind || !*pattern)
                guard_fmt_stderr("libguard: warning: %s:%u: not KIND:PATTERN, ignored\n", path,
                                 lineno);
            else if (!known_kind(kind))
                guard_fmt_stderr("libguard: warning: %s:%u: unknown finding kind '%s', rule "
                                 "ignored\n", path, lineno, kind);
            else if (nrules < MAX_RULES)
                rules[nrules++] = (struct rule){kind, pattern};
            else
                dropped++;
        }
        line = next;
    }
    if (dropped)
        guard_fmt_stderr("libguard: warning: %s: only the first %u rules are used (%u more "
                         "ignored)\n", path, MAX_RULES, dropped);
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
