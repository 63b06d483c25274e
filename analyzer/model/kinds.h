/*
 * kinds.h — the finding kinds as the analyzer uses them: the rows of the
 * one table (common/guard_kinds.h) with the longer explanation of each,
 * for the SARIF rules, `--list-kinds`, the report's order and the
 * suppression rules' kind check.
 */
#ifndef ANALYZER_KINDS_H
#define ANALYZER_KINDS_H

#include <stddef.h>

struct kind_info {
    unsigned kind;           /* enum guard_finding_kind (VALUE) */
    const char *name;        /* NAME: the contract's kind name */
    const char *rule;        /* RULE: PascalCase, SARIF reportingDescriptor.name */
    const char *level;       /* LEVEL: SARIF level, "error" or "warning" */
    const char *anchor;      /* ANCHOR: the section of docs/checks.md */
    unsigned rank;           /* RANK: place in the report, 0 first */
    const char *origin;      /* ORIGIN: "runtime" or "static" */
    const char *help;        /* HELP: one line, what fires */
    const char *description; /* when it fires and why it matters (kinds.c) */
};

/* The row of a kind, or NULL for a number no kind has. */
const struct kind_info *kinds_get(unsigned kind);
/* The row named name (the contract's name), or NULL. */
const struct kind_info *kinds_by_name(const char *name);
/* All rows, in the table's order (docs/checks.md's); *n set to their number. */
const struct kind_info *kinds_all(size_t *n);
/* The report's order: the kind's RANK; a number no kind has (a log from
 * a newer shim) comes after every known kind. */
unsigned kinds_rank(unsigned kind);

#endif /* ANALYZER_KINDS_H */
