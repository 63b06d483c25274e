/*
 * checks_help.h — the help text of every finding kind, for the SARIF
 * rules (and anything else that needs to explain a kind).
 */
#ifndef ANALYZER_CHECKS_HELP_H
#define ANALYZER_CHECKS_HELP_H

struct check_help {
    unsigned kind;          /* enum guard_finding_kind */
    const char *name;       /* PascalCase, SARIF reportingDescriptor.name */
    const char *short_text; /* one line: what fires */
    const char *full_text;  /* when it fires and why it matters */
    const char *level;      /* SARIF level: "error", "warning" or "note" */
    const char *anchor;     /* the section of docs/checks.md */
};

/* The entry of a kind, or NULL. */
const struct check_help *check_help(unsigned kind);
/* All entries, in the order of docs/checks.md; *n set to their number. */
const struct check_help *check_help_all(unsigned *n);

#endif /* ANALYZER_CHECKS_HELP_H */
