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
    uint64_t *pcs;          /* lookup addresses, innermost first */
    UT_hash_handle hh;
};

/* An EVENT record, or a short POOL_PUT/POOL_GET record made whole again
 * (kind GUARD_EV_POOL_PUT/GET, args pool, obj, size, put flags taken from
 * the last full event of the same object in the log).  The last few of all
 * events are kept (LG_EVENT_RING): they are what a crash report shows as
 * "the last events"; process events are all kept (lg_log.pevents). */
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

#define LG_EVENT_RING 16u

/* Process events kept per log at most (SPAWN, REAP, EXEC, ...): beyond
 * that a note says how many were left out. */
#define LG_PEVENTS_MAX (1u << 18)

/* Is this event kind one of the process tree's (kept in lg_log.pevents)? */
bool lg_is_process_event(unsigned kind);

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
    bool derived;           /* made by the analyzer, not read from the log
                             * (e.g. unreaped-child of a killed process) */
    struct lg_event *events; /* crash: the events just before it, oldest first */
    size_t nevents;
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

    unsigned run;           /* index of the PATH operand it came from (set by
                             * the caller): each operand is one run, e.g. one
                             * run-N directory of run-with-guard --repeat */
    bool corrupt;           /* an input error was found in this log */
    size_t nrecords;        /* records accepted */
    size_t nevents;         /* events seen: EVENT and short pool records */
    size_t nshort;          /* of which short POOL_PUT/POOL_GET records */
    size_t nshort_unresolved; /* short records with no full event before */
    size_t nunknown;        /* records of unknown types skipped */
    size_t nshim_notes;

    /* ring of the last events (for crash findings) */
    struct lg_event ring[LG_EVENT_RING];
    size_t ring_n, ring_next;
};

/* Read the log at path.  Notes (torn records, missing END...) and errors
 * (corrupt records) go to notes; *input_error is set when the log has an
 * error, and NULL is returned when nothing could be used (unreadable file,
 * not a libguard log).  An empty log (a process killed before it wrote its
 * header) gives a note and NULL without an error. */
struct lg_log *lg_read(const char *path, struct notes *notes, bool verbose, bool *input_error);
void lg_free(struct lg_log *log);

const struct lg_stack *lg_find_stack(const struct lg_log *log, uint32_t id);

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
/* The payload as one line: its NULs as blanks, trailing ones dropped
 * (fresh copy; "" when there is none). */
char *lg_payload_text(const struct lg_event *ev);

#endif /* ANALYZER_LOGREAD_H */
