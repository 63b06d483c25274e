/*
 * findings.h — findings from all logs, symbolized, folded and ordered.
 *
 * Folding: two findings are the same bug when they have the same kind and
 * the same top frames in every stack, by symbol (function, file, line) or,
 * unsymbolized, by module and offset in it — never by raw address, so the
 * same bug in a hundred processes (ASLR, forks) is one finding with a count.
 */
#ifndef ANALYZER_FINDINGS_H
#define ANALYZER_FINDINGS_H

#include <stddef.h>
#include <stdint.h>

#include <uthash.h>

#include "logread.h"
#include "proctree.h"
#include "symbolize.h"
#include "util.h"

/* Frames of each stack that take part in the folding key. */
#define FND_KEY_FRAMES 3u

struct fnd_stack {
    const char *role;       /* JSON key: guard_stack_role_name, or role_buf */
    char role_buf[24];
    uint32_t role_id;
    uint32_t tid;           /* 0: unknown */
    uint32_t stack_id;
    bool missing;           /* the id names no STACK record in the log */
    const struct sym_stack *sym; /* shared: owned by the db's stack cache */
};

/* An event shown with a crash finding. */
struct fnd_event {
    const struct lg_event *ev;
    const struct sym_stack *sym; /* shared, as above */
};

struct fnd_crash;        /* crash.h */
struct supp_rule;        /* suppress.h */

/* Length of a fingerprint: 32 hex digits. */
#define FND_FINGERPRINT_LEN 32u

struct fnd {
    unsigned kind;
    const char *kind_name;  /* guard_finding_kind_name, or kind_buf */
    char kind_buf[24];
    const struct lg_log *log;       /* the first occurrence */
    const struct lg_finding *rec;
    struct fnd_stack *stacks;       /* ordered by role */
    size_t nstacks;
    struct fnd_event *events;       /* crash: every kept event, oldest first */
    size_t nevents;
    struct fnd_crash *crash;        /* crash: threads, registers, links (crash.h) */
    size_t count;                   /* occurrences folded into this one */
    uint32_t *pids;                 /* distinct pids, in first-seen order */
    size_t npids, pids_cap;
    size_t nruns;                   /* distinct runs (PATH operands) it occurred in */
    unsigned *runs;                 /* those runs, in first-seen order */
    size_t runs_cap;
    size_t order;                   /* first-seen order */
    char *key;
    char fingerprint[FND_FINGERPRINT_LEN + 1]; /* stable id across runs and rebuilds */
    bool suppressed;                /* by a rule, or marked so by the shim */
    const struct supp_rule *rule;   /* the rule (NULL: the shim's flag) */
    bool known;                     /* its fingerprint is in the baseline */
    UT_hash_handle hh;
};

struct fnd_stack_cache;

struct fnd_db {
    struct fnd_stack_cache *stack_cache; /* symbolized stacks by (log, id) */
    struct fnd *table;      /* uthash by key */
    struct fnd **all;       /* every finding, in report order */
    size_t nall;
    struct fnd **sorted;    /* the findings reported: not suppressed, not in
                             * the baseline; report order */
    size_t n;
    struct fnd **suppressed; /* suppressed ones, report order */
    size_t nsuppressed;
    struct fnd **known;     /* in the baseline (and not suppressed) */
    size_t nknown;
    size_t occurrences;     /* of the reported findings */
    size_t nkinds;          /* of the reported findings */
    struct ptree tree;      /* the processes of the run (proctree.h) */
};

void fnd_build(struct fnd_db *db, struct lg_log *const *logs, size_t nlogs,
               struct symbolizer *sym, struct notes *notes);
/* Split db->all into reported, suppressed and known (baseline) findings,
 * after suppress.c and baseline.c have marked them. */
void fnd_partition(struct fnd_db *db);
void fnd_free(struct fnd_db *db);
/* Did the finding occur in run (a PATH operand index)? */
bool fnd_in_run(const struct fnd *f, unsigned run);

/* Stack `id` of log, symbolized once per (log, id) and owned by db: an
 * empty stack when the log has no such stack (or id is 0). */
const struct sym_stack *fnd_stack(struct fnd_db *db, const struct lg_log *log, uint32_t id,
                                  struct symbolizer *sym);

/* "read", "write" or NULL. */
const char *fnd_access_name(uint32_t access);
/* Name of finding flag bit `bit` (0..15), e.g. "caught-in-act". */
const char *fnd_flag_name(unsigned bit);

#endif /* ANALYZER_FINDINGS_H */
