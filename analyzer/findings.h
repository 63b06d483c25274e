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

struct fnd {
    unsigned kind;
    const char *kind_name;  /* guard_finding_kind_name, or kind_buf */
    char kind_buf[24];
    const struct lg_log *log;       /* the first occurrence */
    const struct lg_finding *rec;
    struct fnd_stack *stacks;       /* ordered by role */
    size_t nstacks;
    struct fnd_event *events;
    size_t nevents;
    size_t count;                   /* occurrences folded into this one */
    uint32_t *pids;                 /* distinct pids, in first-seen order */
    size_t npids, pids_cap;
    size_t nruns;                   /* distinct runs (PATH operands) it occurred in */
    unsigned last_run;
    size_t order;                   /* first-seen order */
    char *key;
    UT_hash_handle hh;
};

struct fnd_stack_cache;

struct fnd_db {
    struct fnd_stack_cache *stack_cache; /* symbolized stacks by (log, id) */
    struct fnd *table;      /* uthash by key */
    struct fnd **sorted;    /* the report order */
    size_t n;
    size_t occurrences;
    size_t nkinds;
    struct ptree tree;      /* the processes of the run (proctree.h) */
};

void fnd_build(struct fnd_db *db, struct lg_log *const *logs, size_t nlogs,
               struct symbolizer *sym, struct notes *notes);
void fnd_free(struct fnd_db *db);

/* Stack `id` of log, symbolized once per (log, id) and owned by db: an
 * empty stack when the log has no such stack (or id is 0). */
const struct sym_stack *fnd_stack(struct fnd_db *db, const struct lg_log *log, uint32_t id,
                                  struct symbolizer *sym);

/* "read", "write" or NULL. */
const char *fnd_access_name(uint32_t access);
/* Name of finding flag bit `bit` (0..15), e.g. "caught-in-act". */
const char *fnd_flag_name(unsigned bit);

#endif /* ANALYZER_FINDINGS_H */
