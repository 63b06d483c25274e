/*
 * vdso.h — how deep below its caller's stack pointer the kernel's vDSO time
 * functions write (vdso-low-stack: a vDSO built with -fstack-check probes
 * ~4 KiB below the stack pointer and corrupts whatever lies there when the
 * caller runs on a small stack, as Go's runtime did).
 *
 * The measurement is static: the vDSO image (this process's own, found
 * with getauxval(AT_SYSINFO_EHDR), or a dumped copy) is read with libelf
 * from a private copy, and the prologue and every reachable path of each
 * time function is disassembled with capstone, tracking the stack pointer
 * relative to the function's entry: pushes, sub/add/and/lea/mov on %rsp,
 * leave, stack probes (`or $0,mem`), probe loops (`lea -N(%rsp),%r11;
 * 1: sub $4096,%rsp; or $0,(%rsp); cmp %r11,%rsp; jne 1b`), red-zone and
 * frame accesses, and calls to other vDSO functions (followed).
 *
 * Only x86-64 code is disassembled; on other machines the functions are
 * listed but `measured` stays false.  Nothing here allocates memory that
 * outlives a call: the result is one plain struct.
 *
 * Reuse: vdso_measure_self() is all a caller needs.  The shim does not
 * link capstone; it measures empirically at run time instead.
 */
#ifndef ANALYZER_VDSO_H
#define ANALYZER_VDSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VDSO_MAX_FUNCS 12

struct vdso_func {
    char name[40];            /* __vdso_clock_gettime */
    char alias[40];           /* clock_gettime (same address), "" when none */
    char version[24];         /* LINUX_2.6; "" when unversioned */
    uint64_t addr, size;      /* st_value (vaddr in the image), st_size */
    bool measured;            /* disassembled */
    bool complete;            /* every path was followed (no indirect jumps,
                                 no variable-size allocation, no unknown callee) */
    bool has_probe;           /* an explicit stack probe (`or $0, mem`) is reached */
    bool realigns;            /* `and $-N,%rsp`: depth depends on the caller's alignment */
    unsigned calls;           /* calls to other functions in the vDSO (followed) */
    /* Bytes below the function's entry SP (the SP just after `call`,
     * pointing at the return address).  0: none. */
    uint32_t frame_bytes;     /* the function's own stack frame (pushes, sub) */
    uint32_t probe_bytes;     /* deepest probe, own or in a callee */
    /* The answer: the deepest byte written or read below the caller's SP,
     * including the return address the call pushes (8), callees, probes and
     * red-zone use.  A caller must leave at least this many bytes of
     * mapped, unshared stack below its SP. */
    uint32_t deepest_bytes;           /* caller's SP 16-byte aligned (the ABI) */
    uint32_t deepest_bytes_misaligned; /* caller's SP at any alignment (Go, asm) */
    char note[128];           /* why not complete / not measured, "" otherwise */
};

struct vdso_measure {
    bool present;             /* this process has a vDSO (or the image was read) */
    uint64_t base;            /* where it is mapped (0 for an image file) */
    size_t image_size;        /* bytes read: PT_LOAD extent, plus section headers */
    size_t map_size;          /* the [vdso] mapping from /proc/self/maps, 0 unknown */
    unsigned machine;         /* e_machine */
    bool elf64;
    char build_id[41];        /* hex, "" when the image has none */
    char disassembler[32];    /* "capstone 4.0" */
    size_t nfuncs;
    /* the time functions found, in table order, then getrandom when the
     * vDSO has it (Linux 6.11 and later); the fields below are over the
     * time functions only */
    struct vdso_func funcs[VDSO_MAX_FUNCS];
    bool any_probe;           /* some time function probes the stack */
    uint32_t max_deepest_bytes;            /* over funcs (ABI-aligned caller) */
    uint32_t max_deepest_bytes_misaligned; /* over funcs (any caller alignment) */
    char error[160];          /* set when the return value is -1 */
};

/* Measure a vDSO image held in memory (size bytes; copied, not modified).
 * Returns 0, or -1 with m->error set (not an ELF image, truncated...). */
int vdso_measure_image(const void *image, size_t size, struct vdso_measure *m);

/* Measure this process's own vDSO.  Returns 0; -1 with m->error set when
 * there is none (m->present false) or it cannot be read. */
int vdso_measure_self(struct vdso_measure *m);

#endif /* ANALYZER_VDSO_H */
