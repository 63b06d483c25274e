/*
 * logread_priv.h — shared between logread.c (walking a log file and
 * resynchronising after damage) and logrec.c (validating and interpreting
 * one record).  Not used outside the reader.
 */
#ifndef ANALYZER_LOGREAD_PRIV_H
#define ANALYZER_LOGREAD_PRIV_H

#include "logread.h"

/* What the last full POOL_PUT/POOL_GET event said about an object: the
 * short records that follow take their pool, size and flags from here. */
struct lg_pool_state {
    uint64_t obj;
    uint64_t pool;
    uint64_t size;
    uint64_t put_flags;
    bool have_put;          /* a full POOL_PUT gave put_flags */
    UT_hash_handle hh;
};

struct reader {
    const char *path;
    const unsigned char *buf;
    size_t len;
    struct lg_log *log;
    struct notes *notes;
    bool verbose;
    bool *input_error;
    unsigned messages;   /* region messages shown */
    unsigned suppressed; /* region messages not shown */
    struct lg_pool_state *objs; /* uthash by obj (logrec.c) */
    bool exec_pending;   /* an EXEC event not yet followed by EXEC_FAILED */
};

enum rec_status {
    REC_OK,
    REC_BAD,      /* the header or the type's fixed part does not validate */
    REC_PAST_EOF, /* a plausible header whose record runs past the end of file */
};

/* A note about a damaged region that is not an input error (logread.c). */
void lg_region_note(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Check the type-specific fixed part and payload lengths of the record at
 * p, whose header validated and which lies inside the file (logrec.c). */
enum rec_status lg_rec_type_check(const unsigned char *p, const struct guard_rec *rec, char *why,
                                  size_t whylen);
/* Copy what a valid record says into r->log (logrec.c). */
void lg_rec_handle(struct reader *r, size_t off, const struct guard_rec *rec);
void lg_event_clear(struct lg_event *ev);
/* Free what the record handlers kept in the reader (logrec.c). */
void lg_reader_done(struct reader *r);

#endif /* ANALYZER_LOGREAD_PRIV_H */
