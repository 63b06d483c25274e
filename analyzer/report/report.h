/*
 * report.h — the report formats over the same data: text for people
 * (ASan-like), JSON for CI (the contract in DESIGN.md section 6), SARIF
 * 2.1.0 for code-scanning tools, JUnit XML for test dashboards, a
 * Chrome trace-event timeline for Perfetto.
 */
#ifndef ANALYZER_REPORT_H
#define ANALYZER_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "baseline.h"
#include "findings.h"
#include "logread.h"
#include "suppress.h"
#include "util.h"

struct report {
    const struct fnd_db *db;
    struct lg_log *const *logs;  /* the processes: one log each */
    size_t nlogs;
    const struct notes *notes;
    bool verbose;
    const struct supp *supp;     /* NULL: no --suppressions */
    const struct baseline *baseline; /* NULL: no --baseline */
    char *const *paths;          /* the PATH operands: one run each */
    size_t npaths;
    const char *source_root;     /* SARIF: make file URIs relative to it (NULL: absolute) */
};

/* Each returns 0, or -1 when the report could not be written. */
int report_text(FILE *out, const struct report *r);
int report_json(FILE *out, const struct report *r);
int report_sarif(FILE *out, const struct report *r);
int report_junit(FILE *out, const struct report *r);
/* The Chrome trace-event JSON format (Perfetto, chrome://tracing): the run
 * as a timeline (report_trace.c).  Pool lifetimes need the logs read with
 * lg_pool_spans_max set; at most TRACE_POOL_MAX of them in all. */
#define TRACE_POOL_MAX 10000u
int report_trace(FILE *out, const struct report *r);
/* `--list-kinds`: the table of finding kinds, as text or JSON
 * (report_kinds.c). */
int report_kinds(FILE *out, bool json, bool verbose);

/* The "Process tree:" section of the text report (report_tree.c). */
void report_tree_text(FILE *out, const struct report *r);
/* The namespace timeline of each process with namespace events
 * (report_ns.c). */
void report_ns_text(FILE *out, const struct report *r);
/* One finding as the text report shows it (report_text.c): also the body
 * of a JUnit <failure>. */
void report_text_finding(FILE *out, const struct report *r, const struct fnd *f);
/* Frames, one a line, with an indent (report_text.c). */
void report_text_frames(FILE *out, const struct sym_stack *s, const char *indent, size_t max);
/* An event in words, without its stack (report_text.c). */
void report_text_event(FILE *out, const struct lg_event *ev);
/* "+1.234567s" since the log's start, or "+?" (report_text.c). */
void report_text_time(FILE *out, const struct lg_log *log, uint64_t t);
/* The crash part of a crash finding: signal, registers, every thread's
 * stack and last events, and the links (report_crash.c). */
void report_crash_text(FILE *out, const struct report *r, const struct fnd *f);

#endif /* ANALYZER_REPORT_H */
