/*
 * logread_priv.h — shared between logread.c (walking a log file and
 * resynchronising after damage) and logrec.c (validating and interpreting
 * one record).  Not used outside the reader.
 */
#ifndef ANALYZER_LOGREAD_PRIV_H
#define ANALYZER_LOGREAD_PRIV_H

#include <setjmp.h>

#include "logread.h"

/* What the last full POOL_PUT/POOL_GET event said about an object: the
 * short records that follow take their pool, size and flags from here.
 * Also the object's latest put and get, for a crash's links: one entry
 * per object, whatever the number of its events. */
struct lg_pool_state {
    uint64_t obj;
    uint64_t pool;
    uint64_t size;
    uint64_t put_flags;
    bool have_put;          /* a full POOL_PUT gave put_flags */
    bool have_pool;         /* a full event gave pool and size */
    bool in_pool;           /* its latest event is a put */
    uint32_t nputs;
    struct lg_obj_event put, get; /* the latest of each */
    struct lg_obj_event span_get; /* lg_pool_spans_max: the get not yet put back */
    UT_hash_handle hh;
};

/* One thread's recent events (a ring of at most the process's
 * crash_events) and its latest namespace changes. */
struct lg_thread_state {
    uint32_t tid;
    struct lg_event *ring;
    size_t cap, n, next;     /* ring capacity (grows up to the limit), fill, next slot */
    size_t total;            /* events seen */
    uint64_t last_time;
    struct lg_event ns[LG_NS_KEEP];
    size_t nns, ns_next, ns_total;
    UT_hash_handle hh;
};

/* Findings of one log with the same kind, stacks and suppressed flag are
 * one finding with a count (a bug hit a million times in a loop is one
 * record in memory, not a million). */
#define LG_FOLD_STACKS 8u
struct lg_fold_key {
    uint16_t kind;
    uint16_t suppressed;
    uint32_t nstacks;
    uint32_t role[LG_FOLD_STACKS];
    uint32_t stack_id[LG_FOLD_STACKS];
};

struct lg_fold {
    struct lg_fold_key key;
    size_t index;            /* in log->findings */
    UT_hash_handle hh;
};

/* A log file in memory (logfile.c). */
struct mapped {
    unsigned char *buf;
    size_t len;
    bool mapped;   /* else malloc'd */
    int fd;        /* kept open while the file is read (its holes: SEEK_DATA) */
};
/* false with *err (errno) or *what (not a regular file) set */
bool lg_file_open(const char *path, struct mapped *m, int *err, const char **what);
void lg_file_close(struct mapped *m);
/* A SIGBUS inside [buf, buf+len) while armed jumps to jb (a file
 * truncated under its mapping); disarm returns where it hit. */
void lg_file_sigbus_arm(sigjmp_buf *jb, const unsigned char *buf, size_t len);
size_t lg_file_sigbus_disarm(void);

/* A slot of the event ring, noted while the stream is walked (logring.c). */
struct lg_ring_slot {
    size_t off;
    uint32_t size;
    uint64_t seq;
};

struct reader {
    const char *path;
    const unsigned char *buf;
    size_t len;
    bool mapped;         /* buf is a file mapping (logread.c drops pages behind) */
    size_t dropped;      /* pages of [0, dropped) dropped from the mapping */
    int fd;              /* the file, open while it is read: its holes (SEEK_DATA) are
                          * zeros the reader never reads (-1: none) */
    bool seek_data;      /* SEEK_DATA/SEEK_HOLE work on it */
    size_t data_lo, data_hi; /* the data region found last: [lo, hi) */
    size_t hole_lo, hole_hi; /* the hole found last: [lo, hi) */
    bool header_damaged; /* the file header was damaged: made up, pid from the file name
                          * until the PROCESS record says */
    struct lg_log *log;
    struct notes *notes;
    bool verbose;
    bool *input_error;
    unsigned messages;   /* region messages shown */
    unsigned suppressed; /* region messages not shown */
    struct lg_pool_state *objs; /* uthash by obj (logrec.c) */
    bool exec_pending;   /* an EXEC event not yet followed by EXEC_FAILED */
    struct lg_thread_state *threads; /* uthash by tid (logcrash.c) */
    struct lg_thread_state *last_thread; /* of the previous event: most
                                          * events follow one of the same thread */
    unsigned ring_limit;     /* events kept per thread: crash_events */
    size_t ring_slots;       /* event slots allocated over all threads */
    bool ring_budget_hit;    /* rings capped to bound memory */
    bool crash_frozen;       /* the crash was seen: no more history */
    struct lg_tid_seen *crash_tids; /* uthash: threads with a THREAD_STACK record (logcrash.c) */
    struct lg_fold *folds;   /* uthash (logrec.c) */
    struct lg_ns_state *ns;  /* the namespace timeline's reading state (logns.c) */
    struct lg_ring_slot *ring; /* filled slots of the event ring (logring.c) */
    size_t nring, ring_cap;
    size_t ring_done;        /* ring[0, ring_done) were read already */
    uint64_t ring_max_seq;
};

enum rec_status {
    REC_OK,
    REC_BAD,      /* the header or the type's fixed part does not validate */
    REC_PAST_EOF, /* a plausible header whose record runs past the end of file */
};

/* A note about a damaged region that is not an input error (logread.c). */
void lg_region_note(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Free an event's payload / copy an event with a payload of its own
 * (logread.c). */
void lg_event_clear(struct lg_event *ev);
void lg_event_copy(struct lg_event *dst, const struct lg_event *src);

/* Check the type-specific fixed part and payload lengths of the record at
 * p, whose header validated and which lies inside the file (logrec.c). */
enum rec_status lg_rec_type_check(const unsigned char *p, const struct guard_rec *rec, char *why,
                                  size_t whylen);
/* Copy what a valid record says into r->log (logrec.c). */
void lg_rec_handle(struct reader *r, size_t off, const struct guard_rec *rec);
/* Free what the record handlers kept in the reader (logrec.c). */
void lg_rec_done(struct reader *r);

/* Give an object the pool, size (and put flags) of a full event of it
 * unless it has them already (logrec.c; logring.c's short records). */
void lg_pool_seed(struct reader *r, uint64_t obj, uint64_t pool, uint64_t size, bool put,
                  uint64_t put_flags);

/* ---- logring.c: the event ring's slots ---- */

/* A RING record of the stream (validated): noted, read at the flush. */
void lg_ring_slot(struct reader *r, size_t off, const struct guard_rec *rec);
/* A RING record cut by the end of the file (rec: its header, which runs
 * past it): its records up to the end are noted as a slot; false when it
 * is not one. */
bool lg_ring_cut_slot(struct reader *r, size_t off, const struct guard_rec *rec);
/* Read the slots noted so far, in fill order (before the crash record,
 * and at the end of the walk). */
void lg_ring_flush(struct reader *r);
/* The note about what the ring overwrote; frees the reading state. */
void lg_ring_done(struct reader *r);

/* ---- logcrash.c: history for a crash, and the crash itself ---- */

/* An event (full or short, already resolved) into its thread's ring. */
void lg_crash_hist_event(struct reader *r, const struct lg_event *ev);
/* The pool state of an object after a put or get event (resolved). */
void lg_crash_hist_pool(struct lg_pool_state *o, const struct lg_event *ev);
/* A CRASH record / a THREAD_STACK record / a crash FINDING. */
void lg_crash_record(struct reader *r, const unsigned char *p, size_t off);
void lg_crash_thread_stack(struct reader *r, const unsigned char *p);
void lg_crash_finding(struct reader *r, const struct lg_finding *f);
/* At the end of the log: keep the threads the report shows; free the rest
 * of the history (logread.c then drops the stacks nothing refers to). */
void lg_crash_hist_done(struct reader *r);
void lg_crash_free(struct lg_crash *c);

/* ---- logns.c: the namespace timeline ---- */

/* An NS_CHANGE, NS_CALL, THREAD_START, SPAWN or EXEC event. */
void lg_ns_event(struct reader *r, const struct lg_event *ev);
/* At the end of the log: the thread starts the timeline needs join it;
 * the reading state goes. */
void lg_ns_done(struct reader *r);
void lg_ns_free(struct lg_log *log);

#endif /* ANALYZER_LOGREAD_PRIV_H */
