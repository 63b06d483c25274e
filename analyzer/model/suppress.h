/*
 * suppress.h — `guard-analyze --suppressions FILE`: findings the project
 * accepts, removed from the report and from the exit status.
 *
 * The file format is the shim's (preload/suppress.c, GUARD_OPTIONS
 * suppressions=FILE), so one file serves both: one rule a line,
 * `KIND:PATTERN`, KIND a finding kind or `*`; `#` starts a comment; blank
 * lines are skipped.  PATTERN is an fnmatch(3) glob (no FNM_PATHNAME: `*`
 * crosses `/`) matched against, for every frame of every stack of the
 * finding (its roles: access, put, ...; for a crash, the crashing
 * thread's stack), the function name, the source file (full path and base
 * name) and the module (full path and base name); and against the name of
 * the call involved (`write`, `getpwuid`...), as the shim does.  The first
 * rule that matches wins.  Findings the shim already marked suppressed
 * count as suppressed too.  A line that is not a rule is a usage error
 * naming FILE:LINE (exit status 2; the report is still written, without
 * that file's rules).
 */
#ifndef ANALYZER_SUPPRESS_H
#define ANALYZER_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "findings.h"

struct supp_rule {
    char *file;
    unsigned line;
    char *text;             /* the rule as written (trimmed) */
    char *kind;             /* "*" or a kind name */
    char *pattern;
    size_t findings;        /* findings it suppressed (first match) */
    size_t occurrences;     /* their occurrences */
};

struct supp {
    struct supp_rule *v;
    size_t n, cap;
    size_t shim_findings;   /* marked suppressed by the shim, no rule here matched */
    size_t shim_occurrences;
};

/* Add the rules of path.  0, or -1 after an error note naming FILE:LINE
 * (the file's rules are then all dropped). */
int supp_load(struct supp *s, const char *path, struct notes *notes);
/* Mark the findings of db that a rule matches (f->suppressed, f->rule)
 * and count per rule; call fnd_partition() after. */
void supp_apply(struct supp *s, struct fnd_db *db);
/* --verbose: every rule with its counts, then "unused suppression:
 * FILE:LINE: RULE" for each rule that matched nothing. */
void supp_print_stats(const struct supp *s, FILE *out);
void supp_free(struct supp *s);

#endif /* ANALYZER_SUPPRESS_H */
