/*
 * findings.c — building the report's findings from FINDING records.
 *
 * Each record is symbolized (every stack it names), given a folding key
 * (kind + the key frames of every stack, as the fingerprint chooses them
 * (fingerprint.h), with lines except for a crash; + what a child ran, for
 * the child kinds), and either starts a
 * new finding or adds to the count of an existing one.  The first
 * occurrence is the one shown (its pid, tid and details); later ones add
 * to `count` and to the set of pids.  The reader has already folded the
 * records of one log with the same stacks (lg_finding.count).
 *
 * Then every finding gets its fingerprint, crash findings their threads
 * and links (crash.c), and fnd_partition() splits them into reported,
 * suppressed (suppress.c) and known from a baseline (baseline.c).
 */
#define _GNU_SOURCE
#include "findings.h"

#include "crash.h"
#include "fingerprint.h"
#include "kinds.h"
#include "nstimeline.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *fnd_access_name(uint32_t access)
{
    switch (access) {
    case GUARD_ACCESS_READ:
        return "read";
    case GUARD_ACCESS_WRITE:
        return "write";
    default:
        return NULL;
    }
}

const char *fnd_flag_name(unsigned bit)
{
    static const char *const names[16] = {
        "caught-in-act", "at-get",  "syscall", "hazard",  "suppressed", "flag-5",
        "flag-6",        "flag-7",  "flag-8",  "flag-9",  "flag-10", "flag-11",
        "flag-12",       "flag-13", "flag-14", "flag-15",
    };
    return bit < 16 ? names[bit] : "flag-?";
}

/* Symbolized stacks by (log, stack id): a log with a million findings of
 * one bug has a handful of distinct stacks, symbolized once each. */
struct stack_cache_key {
    const struct lg_log *log;
    uint32_t id;
};

struct fnd_stack_cache {
    struct stack_cache_key key;
    struct sym_stack sym;
    UT_hash_handle hh;
};

static const struct sym_stack no_stack = {NULL, 0};

static const struct sym_stack *cached_stack(struct fnd_db *db, const struct lg_log *log, uint32_t id,
                                            struct symbolizer *sym, bool *missing)
{
    const struct lg_stack *st = lg_find_stack(log, id);
    *missing = !st;
    if (!st)
        return &no_stack;
    struct stack_cache_key key;
    memset(&key, 0, sizeof key); /* padding is hashed too */
    key.log = log;
    key.id = id;
    struct fnd_stack_cache *c = NULL;
    HASH_FIND(hh, db->stack_cache, &key, sizeof key, c);
    if (!c) {
        c = xcalloc(1, sizeof *c);
        c->key = key;
        sym_stack(sym, log, st, &c->sym);
        HASH_ADD(hh, db->stack_cache, key, sizeof c->key, c);
    }
    return &c->sym;
}

const struct sym_stack *fnd_stack(struct fnd_db *db, const struct lg_log *log, uint32_t id,
                                  struct symbolizer *sym)
{
    bool missing;
    return cached_stack(db, log, id, sym, &missing);
}

static int cmp_role(const void *a, const void *b)
{
    const struct fnd_stack *x = a, *y = b;
    return x->role_id < y->role_id ? -1 : x->role_id > y->role_id;
}

/* The stacks of a record, symbolized, one per role (the first stack of a
 * role wins: roles are the keys of the JSON "stacks" object). */
static void build_stacks(struct fnd_db *db, struct fnd *f, const struct lg_log *log,
                         const struct lg_finding *rec, struct symbolizer *sym, bool *dup_role)
{
    f->stacks = xcalloc(rec->nstacks ? rec->nstacks : 1, sizeof *f->stacks);
    f->nstacks = 0;
    for (size_t i = 0; i < rec->nstacks; i++) {
        const struct lg_fstack *in = &rec->stacks[i];
        bool seen = false;
        for (size_t j = 0; j < f->nstacks; j++)
            seen |= f->stacks[j].role_id == in->role;
        if (seen) {
            *dup_role = true;
            continue;
        }
        struct fnd_stack *s = &f->stacks[f->nstacks++];
        s->role_id = in->role;
        s->tid = in->tid;
        s->stack_id = in->stack_id;
        if (!guard_stack_role_name(in->role))
            snprintf(s->role_buf, sizeof s->role_buf, "role-%u", in->role);
        s->sym = cached_stack(db, log, in->stack_id, sym, &s->missing);
    }
    qsort(f->stacks, f->nstacks, sizeof *f->stacks, cmp_role);
    /* only now: qsort moves the structs, and role may point into one */
    for (size_t i = 0; i < f->nstacks; i++) {
        struct fnd_stack *s = &f->stacks[i];
        s->role = guard_stack_role_name(s->role_id);
        if (!s->role)
            s->role = s->role_buf;
    }
}

static void free_stacks(struct fnd *f)
{
    free(f->stacks);
    f->stacks = NULL;
    f->nstacks = 0;
}

/* One frame's part of the key: never a raw address when anything better
 * is known, so that ASLR does not split a bug in two.  A crash's lines are
 * left out: one stack overflow faults at whichever instruction of the
 * recursive function touched the stack first. */
static void key_frame(FILE *k, const struct sym_frame *fr, bool lines)
{
    if (fr->function)
        fprintf(k, "%s\x1f%s\x1f%u", fr->function, fr->file ? fr->file : "", lines ? fr->line : 0);
    else if (fr->have_module)
        fprintf(k, "%s+0x%" PRIx64, fr->module, fr->module_offset);
    else
        fprintf(k, "?0x%" PRIx64, fr->pc);
    fputc('\x1e', k);
}

static char *make_key(const struct fnd_db *db, const struct fnd *f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *k = open_memstream(&buf, &len);
    if (!k)
        return xasprintf("%u", f->kind); /* degrade: fold by kind only */
    fprintf(k, "%u\x1d", f->kind);
    for (size_t i = 0; i < f->nstacks; i++) {
        const struct fnd_stack *s = &f->stacks[i];
        fprintf(k, "%s\x1d", s->role);
        size_t idx[FND_KEY_FRAMES];
        size_t n = fp_key_frames(s->sym, fp_stack_module_only(f, s), idx);
        for (size_t j = 0; j < n; j++)
            key_frame(k, &s->sym->frames[idx[j]], f->kind != GUARD_FK_CRASH);
        fputc('\x1d', k);
    }
    char *child = fp_child_command(db, f);
    if (child) {
        fprintf(k, "child\x1d%s\x1d", child);
        free(child);
    }
    if (fclose(k) != 0 || !buf) {
        free(buf);
        return xasprintf("%u", f->kind);
    }
    return buf;
}

static void add_pid(struct fnd *f, uint32_t pid)
{
    for (size_t i = f->npids; i-- > 0;)
        if (f->pids[i] == pid)
            return;
    VEC_GROW(f->pids, f->npids, f->pids_cap);
    f->pids[f->npids++] = pid;
}

static void add_run(struct fnd *f, unsigned run)
{
    for (size_t i = f->nruns; i-- > 0;)
        if (f->runs[i] == run)
            return;
    VEC_GROW(f->runs, f->nruns, f->runs_cap);
    f->runs[f->nruns++] = run;
}

bool fnd_in_run(const struct fnd *f, unsigned run)
{
    for (size_t i = 0; i < f->nruns; i++)
        if (f->runs[i] == run)
            return true;
    return false;
}

static int cmp_fnd(const void *a, const void *b)
{
    const struct fnd *x = *(const struct fnd *const *)a, *y = *(const struct fnd *const *)b;
    /* the bugs that corrupt memory or kill the process first, hazards and
     * leaks last (the kinds' RANK); kinds from a newer shim after them */
    unsigned rx = kinds_rank(x->kind), ry = kinds_rank(y->kind);
    if (rx != ry)
        return rx < ry ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    /* CLOCK_MONOTONIC is system-wide: times of different processes of one
     * run compare. */
    if (x->rec->time_ns != y->rec->time_ns)
        return x->rec->time_ns < y->rec->time_ns ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

void fnd_build(struct fnd_db *db, struct lg_log *const *logs, size_t nlogs,
               struct symbolizer *sym, struct notes *notes)
{
    memset(db, 0, sizeof *db);
    pt_build(&db->tree, logs, nlogs, db, sym, notes);
    nstl_build(&db->tree, db, sym);
    size_t order = 0, cap = 0;
    for (size_t li = 0; li < nlogs; li++) {
        struct lg_log *log = logs[li];
        bool dup_role = false;
        for (size_t fi = 0; fi < log->nfindings; fi++) {
            struct lg_finding *rec = &log->findings[fi];
            size_t count = rec->count ? rec->count : 1;
            struct fnd *f = xcalloc(1, sizeof *f);
            f->kind = rec->kind;
            f->kind_name = guard_finding_kind_name(rec->kind);
            if (!f->kind_name) {
                snprintf(f->kind_buf, sizeof f->kind_buf, "kind-%u", rec->kind);
                f->kind_name = f->kind_buf;
            }
            f->log = log;
            f->rec = rec;
            build_stacks(db, f, log, rec, sym, &dup_role);
            f->key = make_key(db, f);

            struct fnd *old = NULL;
            HASH_FIND_STR(db->table, f->key, old);
            if (old) {
                old->count += count;
                add_pid(old, log->hdr.pid);
                add_run(old, log->run);
                rec->owner = old;
                free_stacks(f);
                free(f->key);
                free(f);
                continue;
            }
            f->count = count;
            f->order = order++;
            add_pid(f, log->hdr.pid);
            add_run(f, log->run);
            rec->owner = f;
            HASH_ADD_KEYPTR(hh, db->table, f->key, strlen(f->key), f);
            VEC_GROW(db->all, db->nall, cap);
            db->all[db->nall++] = f;
        }
        if (dup_role)
            notes_add(notes, NOTE_INFO, log->path, log->hdr.pid,
                      "a finding names two stacks of the same role: only the first is shown");
    }
    if (db->nall)
        qsort(db->all, db->nall, sizeof *db->all, cmp_fnd);
    for (size_t i = 0; i < db->nall; i++) {
        struct fnd *f = db->all[i];
        fp_compute(db, f);
        if (f->kind == GUARD_FK_CRASH)
            crash_build(db, f, sym);
        /* the shim's own suppressions (GUARD_OPTIONS suppressions=FILE) */
        if (f->rec->flags & GUARD_FINDING_SUPPRESSED)
            f->suppressed = true;
    }
    fnd_partition(db);
}

void fnd_partition(struct fnd_db *db)
{
    free(db->sorted);
    free(db->suppressed);
    free(db->known);
    size_t n = db->nall ? db->nall : 1;
    db->sorted = xcalloc(n, sizeof *db->sorted);
    db->suppressed = xcalloc(n, sizeof *db->suppressed);
    db->known = xcalloc(n, sizeof *db->known);
    db->n = db->nsuppressed = db->nknown = 0;
    db->occurrences = db->nkinds = 0;
    for (size_t i = 0; i < db->nall; i++) {
        struct fnd *f = db->all[i];
        if (f->suppressed) {
            db->suppressed[db->nsuppressed++] = f;
        } else if (f->known) {
            db->known[db->nknown++] = f;
        } else {
            db->sorted[db->n++] = f;
            db->occurrences += f->count;
        }
    }
    /* sorted by kind first, so each kind is one run */
    for (size_t i = 0; i < db->n; i++)
        if (i == 0 || db->sorted[i]->kind != db->sorted[i - 1]->kind)
            db->nkinds++;
}

void fnd_free(struct fnd_db *db)
{
    struct fnd *f, *tmp;
    HASH_ITER(hh, db->table, f, tmp) {
        HASH_DEL(db->table, f);
        free_stacks(f);
        free(f->events);
        crash_free(f->crash);
        free(f->pids);
        free(f->runs);
        free(f->key);
        free(f);
    }
    struct fnd_stack_cache *c, *ctmp;
    HASH_ITER(hh, db->stack_cache, c, ctmp) {
        HASH_DEL(db->stack_cache, c);
        sym_stack_free(&c->sym);
        free(c);
    }
    free(db->all);
    free(db->sorted);
    free(db->suppressed);
    free(db->known);
    pt_free(&db->tree);
    memset(db, 0, sizeof *db);
}
