/*
 * progress.c — progress on stderr for long analyses (see progress.h).
 */
#define _GNU_SOURCE
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_AFTER 1.0   /* seconds before the first line */
#define PROGRESS_EVERY 0.25  /* seconds between refreshes */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human(char *buf, size_t n, uint64_t bytes)
{
    if (bytes >= (1ull << 30))
        snprintf(buf, n, "%.1f GB", (double)bytes / (double)(1ull << 30));
    else if (bytes >= (1ull << 20))
        snprintf(buf, n, "%.0f MB", (double)bytes / (double)(1ull << 20));
    else
        snprintf(buf, n, "%.0f KB", (double)bytes / 1024.0);
}

void progress_init(struct progress *p, size_t total, uint64_t total_bytes)
{
    p->on = isatty(STDERR_FILENO) == 1;
    p->shown = false;
    p->total = total;
    p->total_bytes = total_bytes;
    p->start = p->last = now();
}

static bool due(struct progress *p)
{
    if (!p->on)
        return false;
    double t = now();
    if (t - p->start < PROGRESS_AFTER || t - p->last < PROGRESS_EVERY)
        return false;
    p->last = t;
    return true;
}

void progress_update(struct progress *p, size_t done, uint64_t bytes_done)
{
    if (!due(p))
        return;
    char a[32], b[32];
    human(a, sizeof a, bytes_done);
    human(b, sizeof b, p->total_bytes);
    fprintf(stderr, "\r\033[Kanalyzing %zu/%zu logs (%s of %s)...", done, p->total, a, b);
    fflush(stderr);
    p->shown = true;
}

void progress_phase(struct progress *p, const char *what)
{
    if (!p->on || now() - p->start < PROGRESS_AFTER)
        return;
    fprintf(stderr, "\r\033[K%s...", what);
    fflush(stderr);
    p->shown = true;
}

void progress_done(struct progress *p)
{
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->shown = false;
}
