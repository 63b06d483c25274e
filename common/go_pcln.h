/*
 * go_pcln.h — function, file and line from a Go binary's own line
 * table (.gopclntab), for binaries that keep no DWARF and no symbol table
 * (`go build -ldflags=-s -w`): the Go runtime needs the table to unwind
 * and print its own stacks, so the linker cannot strip it.
 *
 * Layouts read: Go 1.16/1.17 (magic 0xfffffffa), 1.18/1.19 (0xfffffff0)
 * and 1.20 and later (0xfffffff1).  The table is copied out of the ELF
 * file once; every offset taken from it is bounds-checked against the
 * copy, so a corrupt or hostile binary yields "unknown", never a read out
 * of bounds.  Inlined calls are not expanded: a pc in inlined code is
 * named by the function it was inlined into, with the inlined code's file
 * and line (what the table records for that pc).
 */
#ifndef COMMON_GO_PCLN_H
#define COMMON_GO_PCLN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libelf.h>

struct go_pcln;

/* Where a pc is; the strings live as long as the table. */
struct go_loc {
    const char *function;  /* NULL: not in a Go function */
    const char *file;      /* NULL: unknown */
    unsigned line;         /* 0: unknown */
    uint64_t entry, end;   /* the function's code: [entry, end) in file vaddrs */
};

/* The line table of elf, NULL when it has none (not Go, or a layout this
 * reader does not know). */
struct go_pcln *go_pcln_open(Elf *elf);
void go_pcln_free(struct go_pcln *p);

/* "1.16", "1.18" or "1.20": the first Go version of the table's layout. */
const char *go_pcln_layout(const struct go_pcln *p);
size_t go_pcln_nfunc(const struct go_pcln *p);

/* The location of vaddr (a file address); false when no Go function holds it. */
bool go_pcln_lookup(const struct go_pcln *p, uint64_t vaddr, struct go_loc *out);
/* Function i (0 <= i < nfunc): name, entry and end; false when corrupt. */
bool go_pcln_func(const struct go_pcln *p, size_t i, struct go_loc *out);
/* The function called name; false when there is none. */
bool go_pcln_find(const struct go_pcln *p, const char *name, struct go_loc *out);

#endif /* COMMON_GO_PCLN_H */
