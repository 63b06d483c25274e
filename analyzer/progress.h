/*
 * progress.h — "analyzing 350/1200 logs (1.2 GB of 3.4 GB)..." on stderr
 * while a long analysis runs, when stderr is a terminal; nothing
 * otherwise (CI logs stay clean).  Shown from the first second on,
 * refreshed a few times a second, erased at the end.
 */
#ifndef ANALYZER_PROGRESS_H
#define ANALYZER_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct progress {
    bool on;                 /* stderr is a terminal */
    bool shown;              /* a line is on the screen */
    size_t total;
    uint64_t total_bytes;
    double start, last;      /* seconds, CLOCK_MONOTONIC */
};

void progress_init(struct progress *p, size_t total, uint64_t total_bytes);
void progress_update(struct progress *p, size_t done, uint64_t bytes_done);
/* A later phase ("building the report"), shown in place of the counts. */
void progress_phase(struct progress *p, const char *what);
void progress_done(struct progress *p);

#endif /* ANALYZER_PROGRESS_H */
