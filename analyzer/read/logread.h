/*
 * logread.h — one log file, read defensively into plain structs.
 *
 * The reader copies everything it keeps out of the file buffer (so the
 * buffer can go, and no struct ever points into untrusted memory), checks
 * every length against the record that holds it, and turns torn, truncated
 * or corrupt regions into notes or errors instead of guesses.
 */
#ifndef ANALYZER_LOGREAD_H
#define ANALYZER_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uthash.h>

#include "guard_log.h"
#include "util.h"

/* One MODULE record: an ELF object of one module map generation. */
struct lg_module {
    uint64_t base;          /* load bias (dlpi_addr) */
    uint32_t generation;
    uint32_t flags;         /* GUARD_MODULE_* */
    char *path;             /* as recorded (may be empty for the vDSO) */
    unsigned char *build_id;
    size_t build_id_len;
    struct guard_segment *segs;
    size_t nsegs;
};

/* One STACK record, in a hash table keyed by id (ids are per log). */
struct lg_stack {
    uint32_t id;
    uint32_t nframes;
    uint32_t generation;
    uint32_t flags;
    bool keep;              /* referenced by something the report uses */
    uint64_t *pcs;          /* lookup addresses, innermost first */
    unsigned char *raw;     /* GUARD_STACK_RAW: struct guard_stack_raw and its bytes, until
                             * rawunwind.c has turned it into pcs (then NULL) */
    size_t raw_len;
    uint32_t join_stack;    /* GUARD_STACK_RAW_JOIN: the raw stack ends in this one's frames */
    uint64_t join_sp[3];    /* ... from frame 1 or 2 on, found at join_sp[1] or [2] (0: not) */
    UT_hash_handle hh;
};

/* An EVENT record, or a short POOL_PUT/POOL_GET record made whole again
 * (kind GUARD_EV_POOL_PUT/GET, args pool, obj, size, put flags taken from
 * the last full event of the same object in the log).  Events are not kept
 * in general (a log may hold hundreds of millions): process events are
 * (lg_log.pevents), and a crash keeps each thread's last few (lg_crash). */
struct lg_event {
    uint64_t time_ns;       /* CLOCK_MONOTONIC; _COARSE for a short record */
    uint32_t tid;
    uint16_t kind;          /* enum guard_event_kind */
    bool short_form;        /* from a short POOL_PUT/GET record */
    bool unresolved;        /* short, and no full event of its object came
                             * before it in this log: pool, size and flags
                             * unknown (args[0], args[2], args[3] are 0) */
    uint32_t stack_id;
    uint64_t args[4];
    char *payload;          /* NULL: none */
    size_t payload_len;     /* bytes in payload (it may hold NULs: argv) */
};

/* Events kept per thread for a crash report when the process's
 * GUARD_OPTIONS has no crash_events (the shim's default), and the most
 * crash_events may ask for. */
#define LG_CRASH_EVENTS_DEFAULT 16u
#define LG_CRASH_EVENTS_MAX 4096u
/* Threads without a stack at the crash (exited, or they did not answer)
 * whose last events are still shown: the most recently active ones. */
#define LG_CRASH_EXTRA_THREADS 4u
/* Namespace changes of a thread kept (its latest). */
#define LG_NS_KEEP 4u
/* Pool objects a crash is linked to at most (by value), and how many of
 * the most recently returned objects a poisoned register names. */
#define LG_CRASH_OBJ_LINKS 16u
#define LG_CRASH_RECENT_OBJS 3u

/* One thread's last events before the crash, oldest first. */
struct lg_thread_events {
    uint32_t tid;
    struct lg_event *ev;
    size_t n;
    size_t total;           /* events the thread logged before the crash */
    uint64_t last_time;     /* its latest event's time (0: none) */
};

/* A THREAD_STACK record: another thread's stack at the crash. */
struct lg_thread_stack {
    uint32_t tid;
    uint32_t stack_id;
    uint64_t time_ns;
};

/* What the log says about one pool event of an object (put or get). */
struct lg_obj_event {
    bool valid;
    uint64_t time_ns;
    uint32_t tid;
    uint32_t stack_id;
};

/* Where a crash's value came from (lg_crash_obj.reg, when not a register
 * index 0..GUARD_CRASH_NREGS-1). */
#define LG_WHERE_FAULT (-1)   /* the fault address */
#define LG_WHERE_RECENT (-2)  /* no value: one of the most recently returned objects */

/* A pool object a crash is linked to, as it was at the crash. */
struct lg_crash_obj {
    int reg;                /* register index, LG_WHERE_FAULT or LG_WHERE_RECENT */
    uint64_t value;         /* the register's value or the fault address */
    uint64_t obj, pool, size;
    uint64_t put_flags;     /* of the last put (GUARD_PUT_*) */
    bool in_pool;           /* put back and not taken again */
    uint32_t also_regs;     /* other registers pointing into it (bit = index) */
    uint32_t nputs;         /* puts of it in the log before the crash */
    struct lg_obj_event put;   /* its last put before the crash */
    struct lg_obj_event get;   /* the get after that put (!in_pool), else invalid */
};

/* A register that holds libguard's poison (or a pointer computed from it). */
struct lg_crash_poison {
    int reg;
    uint64_t value;
};

/* The crash of the process: its CRASH record, the other threads' stacks,
 * the last events of each thread, and what the reader could tie it to
 * while the pool history was at hand (objects the registers point into,
 * poisoned registers).  Built when the CRASH record (or, from an older
 * shim, the crash finding) is read; finished at the end of the log. */
struct lg_crash {
    bool have_record;       /* a CRASH record was read (else a crash finding alone) */
    uint64_t file_offset;
    uint64_t time_ns;
    uint32_t tid;
    int32_t signo;
    int32_t si_code;
    uint32_t stack_id;
    uint64_t fault_addr;
    uint32_t threads_signalled;
    uint32_t nregs;         /* 0: none recorded */
    uint64_t regs[GUARD_CRASH_NREGS];

    struct lg_thread_stack *threads; /* THREAD_STACK records, in log order */
    size_t nthreads, threads_cap;

    struct lg_thread_events *tev;    /* the crashing thread first, then the
                                      * threads with a stack, then at most
                                      * LG_CRASH_EXTRA_THREADS others */
    size_t ntev;
    unsigned events_per_thread;      /* N: crash_events of the process */
    size_t threads_with_events;      /* threads that had logged events */

    struct lg_crash_obj *objs;       /* pool links, by value first, then recent */
    size_t nobjs;
    struct lg_crash_poison *poison;  /* poisoned registers */
    size_t npoison;
    size_t objects_in_pool;          /* objects put back and not taken again */

    struct lg_event *ns_changes;     /* the crashing thread's latest namespace
                                      * changes, oldest first */
    size_t nns;
    size_t ns_total;                 /* its namespace changes in all */
};

/* Namespace events (NS_CHANGE, NS_CALL) kept per log for the timeline:
 * the first ones; the rest are counted.  THREAD_START events remembered
 * per log while reading (to name the creators of the timeline's threads). */
#define LG_NS_TIMELINE_MAX 256u
#define LG_NS_THREADS_MAX (1u << 16)

/* How a mount-family call stands under the namespace-off-thread rule
 * (common/guard_ns_rule.h, the shim's own). */
enum lg_ns_mark {
    LG_NS_MARK_NONE = 0,        /* in a namespace its thread moved into, no move to judge by, or unknown */
    LG_NS_MARK_OFF_THREAD = 1,  /* left behind: in the namespace another thread's pending move left */
    LG_NS_MARK_OTHER_THREAD = 2,/* in the namespace another thread moved into, without moving itself */
};

/* One entry of a log's namespace timeline (logns.c). */
struct lg_ns_entry {
    struct lg_event ev;         /* NS_CHANGE, NS_CALL or THREAD_START (own payload copy) */
    uint64_t seq;               /* the event's number in the log: log order */
    uint8_t mark;               /* NS_CALL: enum lg_ns_mark */
    uint32_t changer_tid;       /* marked: the thread whose move the mark names */
    uint32_t changer_call;      /* its enum guard_ns_call */
    uint64_t changer_ino;       /* the mount namespace it moved into */
};

/* Process events kept per log at most (SPAWN, REAP, EXEC, ...): beyond
 * that a note says how many were left out. */
#define LG_PEVENTS_MAX (1u << 18)

/* Is this event kind one of the process tree's (kept in lg_log.pevents)? */
bool lg_is_process_event(unsigned kind);

/* Pool objects' lifetimes (a get, then the put that returned the object),
 * for the trace report: kept only when lg_pool_spans is set (the caller
 * sets it before reading), at most lg_pool_spans_max per log (the caller
 * lowers it as logs use up its budget), in the order of their puts;
 * objects still out at the end of the log come last, with put_time 0.
 * The rest are counted (npool_spans_dropped). */
struct lg_pool_span {
    uint64_t obj, pool, size;
    uint64_t get_time, put_time; /* put_time 0: never put back */
    uint32_t get_tid, put_tid;
    uint32_t get_stack, put_stack;
};
extern bool lg_pool_spans;
extern size_t lg_pool_spans_max;

struct fnd;

struct lg_fstack {
    uint32_t role;          /* enum guard_stack_role */
    uint32_t stack_id;
    uint32_t tid;
};

/* A FINDING record. */
struct lg_finding {
    uint64_t file_offset;   /* where the record is in the log */
    uint64_t time_ns;
    uint32_t tid;
    uint16_t kind;
    uint16_t flags;
    uint64_t pool, obj, size, addr;
    int64_t offset;
    uint32_t access, bytes, other_tid;
    struct lg_fstack *stacks;
    size_t nstacks;
    char *call;             /* NULL: none */
    char *summary;          /* never NULL (may be empty) */
    size_t count;           /* records of this finding folded into this one
                             * by the reader: same kind, same stacks (ids),
                             * same suppressed flag, in one log */
    struct fnd *owner;      /* the report's finding it was folded into (set
                             * by fnd_build) */
};

struct lg_log {
    char *path;
    struct guard_file_header hdr;

    bool have_process;      /* a PROCESS record was read */
    uint32_t main_tid;
    char *exe;              /* NULL: unknown */
    char **argv;
    size_t argc;
    char *options;          /* NULL: none recorded */

    struct lg_module *modules;
    size_t nmodules, modules_cap;

    struct lg_stack *stacks; /* uthash head */
    size_t nstacks;

    struct lg_finding *findings;
    size_t nfindings, findings_cap;

    bool ended;             /* an END record was read */
    int32_t exit_status;
    uint32_t dropped_events;
    bool exec_ended;        /* no END, and an EXEC event not followed by
                             * EXEC_FAILED: the program replaced itself */
    uint64_t end_time_ns;   /* END's time, else the latest time seen in the
                             * log (0: none) */

    /* SPAWN, REAP, EXEC, EXEC_FAILED, KILL and SIGCHLD events, in file
     * order (at most LG_PEVENTS_MAX) */
    struct lg_event *pevents;
    size_t npevents, pevents_cap;
    size_t npevents_dropped;

    /* the namespace timeline (logns.c): NS_CHANGE and NS_CALL events (at
     * most LG_NS_TIMELINE_MAX) and the THREAD_START events of their threads
     * and of those threads' creators, in log order */
    struct lg_ns_entry *ns;
    size_t nns, ns_cap;
    size_t nns_events;      /* of which NS_CHANGE/NS_CALL */
    size_t ns_dropped;      /* NS_CHANGE/NS_CALL events beyond the bound */
    size_t ns_dropped_off_thread; /* of which calls marked off-thread */
    size_t ns_threads_dropped; /* THREAD_START events not remembered */

    struct lg_pool_span *pool_spans; /* see lg_pool_spans_max */
    size_t npool_spans, pool_spans_cap;
    size_t npool_spans_dropped;

    unsigned run;           /* index of the PATH operand it came from (set by
                             * the caller): each operand is one run, e.g. one
                             * run-N directory of run-with-guard --repeat */
    bool corrupt;           /* an input error was found in this log */
    size_t nrecords;        /* records accepted */
    size_t nevents;         /* events seen: EVENT and short pool records */
    size_t nshort;          /* of which short POOL_PUT/POOL_GET records */
    size_t nshort_unresolved; /* short records with no full event before */
    size_t nring_slots;     /* RING records (log_ring_kb) */
    size_t nring_events;    /* events read from them */
    size_t nunknown;        /* records of unknown types skipped */
    size_t nshim_notes;
    size_t nfinding_records; /* FINDING records (before the reader's folding) */
    uint64_t file_size;     /* bytes read */

    struct lg_crash *crash; /* NULL: the process did not crash (as far as the log says) */
};

/* Read the log at path.  Notes (torn records, missing END...) and errors
 * (corrupt records) go to notes; *input_error is set when the log has an
 * error, and NULL is returned when nothing could be used (unreadable file,
 * not a libguard log).  An empty log (all zeros: a process killed before
 * it wrote its header) gives a note and NULL without an error; a damaged
 * header over valid records gives an error and the log, read from there. */
struct lg_log *lg_read(const char *path, struct notes *notes, bool verbose, bool *input_error);
void lg_free(struct lg_log *log);

const struct lg_stack *lg_find_stack(const struct lg_log *log, uint32_t id);

/* rawunwind.c: turn the raw stacks of a log (registers and stack memory,
 * written by a shim that had no unwinder loaded) into pcs, with the call
 * frame information of the modules' files. */
void lg_unwind_raw_stacks(struct lg_log *log);

/* crash_events from the process's GUARD_OPTIONS (LG_CRASH_EVENTS_DEFAULT
 * when absent or not a number; at most LG_CRASH_EVENTS_MAX). */
unsigned lg_crash_events_option(const char *options);

/* The module that holds pc, using the module map generation in effect when
 * the stack was taken: the newest generation <= gen that contains pc, else
 * the oldest later generation that does (a stack taken just before a
 * dlopen's map was written), else NULL. */
const struct lg_module *lg_find_module(const struct lg_log *log, uint64_t pc, uint32_t gen);

const char *lg_event_kind_name(unsigned kind);

/* The payload of a SPAWN or EXEC event split at its NULs: the first
 * string (program, or exec path) in *first (NULL when there is no payload)
 * and the rest as a vector (*argv, *argc).  Everything is a fresh copy. */
void lg_split_payload(const struct lg_event *ev, char **first, char ***argv, size_t *argc);
void lg_free_strv(char **v, size_t n);
/* The payload as one line: its NULs as blanks, trailing ones dropped; an
 * NS_CALL's, its path (up to its NUL: binary follows) (fresh copy; "" when
 * there is none). */
char *lg_payload_text(const struct lg_event *ev);

#endif /* ANALYZER_LOGREAD_H */
