/*
 * symbolizer.h — function, file:line for the immediate report, from an
 * external `guard-analyze symbolize` (symbolizer.c).  Used under the
 * report lock only: the batch's strings live in static buffers until the
 * next batch.
 */
#ifndef GUARD_SYMBOLIZER_H
#define GUARD_SYMBOLIZER_H

#include <stdint.h>

#define GUARD_SYMBOLIZER_MAX_PCS 512
#define GUARD_SYMBOLIZER_MAX_LOCS 8 /* inlined calls shown per pc */

struct guard_symbolizer_loc {
    const char *function; /* NULL: unknown */
    const char *file;     /* NULL: unknown */
    unsigned line;        /* 0: unknown */
};

/* A frame of a raw stack, unwound by the symbolizer from the log. */
struct guard_symbolizer_raw_frame {
    uint64_t pc;
    const char *module;   /* NULL: unknown */
    uint64_t module_offset;
    struct guard_symbolizer_loc loc;
};

struct guard_symbolizer_pc {
    uint32_t raw_stack;       /* not 0: this entry asks for raw stack #raw_stack, not a pc */
    unsigned raw_first, raw_n; /* its answer: raw_frames[raw_first ...] */
    uint64_t pc;
    int have_module;          /* dladdr knew the module */
    const char *module;       /* dladdr's dli_fname */
    uint64_t module_offset;   /* pc - dli_fbase */
    const char *dl_function;  /* dladdr's nearest dynamic symbol, or NULL */
    uint64_t dl_function_offset;
    int asked;                /* sent to the symbolizer */
    unsigned nlocs;           /* its answer: innermost first; 0: none */
    struct guard_symbolizer_loc locs[GUARD_SYMBOLIZER_MAX_LOCS];
};

struct guard_symbolizer_batch {
    unsigned n;
    struct guard_symbolizer_pc pcs[GUARD_SYMBOLIZER_MAX_PCS];
    unsigned nraw;
    struct guard_symbolizer_raw_frame raw_frames[GUARD_SYMBOLIZER_MAX_PCS];
};

void guard_symbolizer_batch_begin(struct guard_symbolizer_batch *b);
/* dladdr's answer for one pc, without asking the symbolizer */
void guard_symbolizer_dladdr(struct guard_symbolizer_pc *e, uint64_t pc);
/* pcs beyond GUARD_SYMBOLIZER_MAX_PCS are dropped: check b->n */
void guard_symbolizer_batch_add(struct guard_symbolizer_batch *b, uint64_t pc);
/* A stack the shim only copied raw (guard_stack_frames() gives no pcs):
 * the symbolizer unwinds it from the log at log_path. */
void guard_symbolizer_batch_add_raw(struct guard_symbolizer_batch *b, uint32_t stack_id,
                                    const char *log_path);
/* Run the symbolizer on the batch (the first run looks for it: the
 * symbolizer option, else guard-analyze beside this library or in ../bin
 * from it); 0 when no frame got a name: it could not run (none found,
 * a seccomp filter, a vfork child, too many runs) or gave no answer in
 * time. */
int guard_symbolizer_batch_run(struct guard_symbolizer_batch *b);

#endif
