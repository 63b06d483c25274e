/*
 * crash.h — a crash finding as the reports show it: every thread's
 * stack (the crashing one first, like GOTRACEBACK=crash), each thread's
 * last events, the registers, the signal and what its si_code means, and
 * the links to what libguard knows (crash.c builds them, after all
 * findings exist):
 *   - object: the fault address or a register inside a pooled object that
 *     was put back (its pool, size, put stack and thread, how long before
 *     the crash, whether it was taken again);
 *   - poison: a register holding libguard's poison 0xa5a5a5a5a5a5a5a5 (a
 *     pointer read from a returned object), with the objects most recently
 *     put back;
 *   - namespace: a namespace change on the crashing thread;
 *   - child: a child started in the last second before the crash and not
 *     reaped by then;
 *   - finding: another finding of the same process, before the crash.
 */
#ifndef ANALYZER_CRASH_H
#define ANALYZER_CRASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "findings.h"

/* A child started this long before the crash is worth a link. */
#define CRASH_CHILD_WINDOW_NS 1000000000ull
/* Earlier findings of the process listed at most. */
#define CRASH_MAX_FINDING_LINKS 10u

struct fnd_thread {
    uint32_t tid;
    bool crashed;
    bool have_stack;            /* the crash's stack, or a THREAD_STACK record */
    uint32_t stack_id;
    bool missing;               /* the stack id names no STACK record */
    const struct sym_stack *sym;
    const struct lg_thread_events *te; /* its last events (NULL: none kept) */
    struct fnd_event *events;
    size_t nevents;
};

/* A pool object of the crash with its stacks symbolized. */
struct crash_obj_view {
    const struct lg_crash_obj *o;
    const struct sym_stack *put, *get;
};

enum crash_link_kind {
    CL_OBJECT,
    CL_POISON,
    CL_NAMESPACE,
    CL_CHILD,
    CL_FINDING,
};

struct crash_link {
    enum crash_link_kind kind;
    char *text;                 /* one line, the same in text and JSON */
    int reg;                    /* CL_OBJECT, CL_POISON: register or LG_WHERE_FAULT */
    uint64_t value;
    struct crash_obj_view *objs; /* CL_OBJECT: the object; CL_POISON: the most
                                  * recently returned ones (shared, not owned) */
    size_t nobjs;
    const struct lg_event *ev;  /* CL_NAMESPACE: the change; CL_CHILD: the spawn */
    const struct sym_stack *stack;
    const struct pt_spawn *spawn; /* CL_CHILD */
    const struct fnd *finding;  /* CL_FINDING */
    const struct lg_finding *rec;
    uint64_t before_ns;         /* how long before the crash (0: unknown) */
};

struct fnd_crash {
    const struct lg_crash *c;
    const struct lg_log *log;
    struct fnd_thread *threads; /* the crashing thread first */
    size_t nthreads;
    size_t threads_answered;    /* threads with a THREAD_STACK record */
    struct crash_obj_view *objs; /* all of c->objs */
    size_t nobjs;
    struct crash_link *links;
    size_t nlinks;
};

/* Build f->crash and f->events from f's log (f is a crash finding).  Runs
 * after every finding of every log exists (links name them). */
void crash_build(struct fnd_db *db, struct fnd *f, struct symbolizer *sym);
void crash_free(struct fnd_crash *fc);

const char *crash_signal_name(int signo);            /* "SIGSEGV"; NULL unknown */
const char *crash_code_name(int signo, int code);    /* "SEGV_MAPERR", "SI_KERNEL"; NULL */
const char *crash_code_meaning(int signo, int code); /* in words; NULL unknown */
const char *crash_reg_name(unsigned idx);            /* x86-64 gregs order; NULL past the end */
/* Registers in the order reports show them (indexes into regs). */
extern const unsigned crash_reg_order[];
extern const size_t crash_nreg_order;
/* "SIGSEGV (signal 11), si_code 128 SI_KERNEL: ...; fault address ..."
 * (fresh string) */
char *crash_signal_text(const struct lg_crash *c);
/* Is the fault address of c a real one (a fault the kernel raised)? */
bool crash_fault_addr_meaningful(const struct lg_crash *c);
/* "850 ns", "12.3 us", "4.56 ms", "1.23 s" */
void crash_duration(char *buf, size_t n, uint64_t ns);
/* A namespace change event in words (fresh string). */
char *crash_ns_change_text(const struct lg_event *ev);

#endif /* ANALYZER_CRASH_H */
