/*
 * symbolize.h — offline symbolization of recorded PCs with libdwfl.
 *
 * A PC is mapped to the module that held it (from the log's MODULE
 * records, by generation), then to function, file and line in that
 * module's ELF file on disk or, when the file is gone or was rebuilt, in a
 * file found by the recorded build-id.  Separate debuginfo is found the
 * standard way (/usr/lib/debug/.build-id, .gnu_debuglink).
 */
#ifndef ANALYZER_SYMBOLIZE_H
#define ANALYZER_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logread.h"
#include "util.h"

/* One frame of a symbolized stack.  An inlined call expands to several
 * frames with the same pc, innermost first.  All strings are owned by the
 * symbolizer and live until sym_free(). */
struct sym_frame {
    uint64_t pc;            /* as recorded (a lookup address) */
    const char *module;     /* full path, "[vdso]" or "[unknown]" */
    bool have_module;       /* module_offset is meaningful */
    uint64_t module_offset; /* pc minus the module's load bias */
    const char *function;   /* NULL: unknown */
    const char *file;       /* NULL: unknown */
    unsigned line;          /* 0: unknown */
    bool inlined;           /* a frame of an inlined call (not the outermost function) */
};

struct sym_stack {
    struct sym_frame *frames;
    size_t n;
};

struct symbolizer;

struct symbolizer *sym_new(struct notes *notes, bool verbose);
void sym_free(struct symbolizer *sym);

/* Symbolize a stack of log (NULL or empty stack: empty result).  The
 * frames array belongs to the caller (sym_stack_free). */
void sym_stack(struct symbolizer *sym, const struct lg_log *log, const struct lg_stack *st,
               struct sym_stack *out);
void sym_stack_free(struct sym_stack *s);

/* One address of a live process, named by the module's path and its
 * offset from the module's first mapped byte (dladdr's dli_fbase), for
 * `guard-analyze symbolize`.  One frame per location (inlined calls
 * expand, innermost first); an unknown address gives one frame without a
 * function.  The frames array belongs to the caller (sym_stack_free). */
void sym_module_offset(struct symbolizer *sym, const char *path, uint64_t off,
                       struct sym_stack *out);

#endif /* ANALYZER_SYMBOLIZE_H */
