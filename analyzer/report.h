/*
 * report.h — the two report formats over the same data: text for people
 * (ASan-like), JSON for CI (the contract in DESIGN.md section 6).
 */
#ifndef ANALYZER_REPORT_H
#define ANALYZER_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "findings.h"
#include "logread.h"
#include "util.h"

struct report {
    const struct fnd_db *db;
    struct lg_log *const *logs;  /* the processes: one log each */
    size_t nlogs;
    const struct notes *notes;
    bool verbose;
};

/* Both return 0, or -1 when the report could not be written. */
int report_text(FILE *out, const struct report *r);
int report_json(FILE *out, const struct report *r);
/* The "Process tree:" section of the text report (report_tree.c). */
void report_text_tree(FILE *out, const struct report *r);

#endif /* ANALYZER_REPORT_H */
