/*
 * baseline.h — `guard-analyze --baseline OLD.json NEW-LOGS...`: report only
 * what is new since a previous report, and what went away.
 *
 * OLD.json is a previous JSON report of guard-analyze (its "findings", and
 * its "unchanged" when it was itself made against a baseline, so that
 * baselines chain night after night), or a previous SARIF report (results'
 * partialFingerprints["libguard/v1"]).  A finding is known when its
 * fingerprint is in the baseline; the baseline's findings whose
 * fingerprint no finding of the new logs has (suppressed ones included:
 * they are still there) are "fixed".  A missing or unreadable file, bad
 * JSON, or a report without fingerprints is an input error.
 */
#ifndef ANALYZER_BASELINE_H
#define ANALYZER_BASELINE_H

#include <stdbool.h>
#include <stddef.h>

#include <uthash.h>

#include "findings.h"

struct baseline_entry {
    char *fingerprint;
    char *kind;             /* may be NULL */
    char *summary;          /* may be NULL */
    bool seen;              /* a new finding has this fingerprint */
    UT_hash_handle hh;
};

struct baseline {
    char *path;
    struct baseline_entry **v; /* in file order, duplicates dropped */
    size_t n, cap;
    struct baseline_entry *table;
    size_t nfixed;
};

/* 0, or -1 after an error note (exit status 2; the report is still
 * written, with every finding as new). */
int baseline_load(struct baseline *b, const char *path, struct notes *notes);
/* Mark db's findings known (f->known) and the entries seen; call
 * fnd_partition() after. */
void baseline_apply(struct baseline *b, struct fnd_db *db);
void baseline_free(struct baseline *b);

#endif /* ANALYZER_BASELINE_H */
