/*
 * stackdepth.h — static stack-depth analysis of x86-64 machine code with
 * the capstone disassembler (used by vdso.c on the vDSO's time functions).
 *
 * Why capstone (libcapstone-dev) and not zydis (libzydis-dev): capstone is
 * in Debian 12 as a stable 4.0 ABI, gives per-operand detail (base, index,
 * displacement, immediate, read/write access) and the registers each
 * instruction writes, which is all a stack-pointer tracker needs; and it
 * covers aarch64, ppc64 and s390 too, the other machines whose vDSOs a
 * future version may want to measure.  Zydis is x86-only.
 *
 * The analysis follows every path from the entry (both sides of each
 * conditional jump, direct jumps anywhere in the code, direct calls into
 * the code, recursively), tracking the stack pointer as a byte offset below
 * the entry SP, plus any general register that holds an offset from it
 * (%rbp after `mov %rsp,%rbp`, %r11 after `lea -N(%rsp),%r11`).
 */
#ifndef ANALYZER_STACKDEPTH_H
#define ANALYZER_STACKDEPTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Executable code: bytes[0..size) are mapped at vaddr. */
struct sd_code {
    const uint8_t *bytes;
    uint64_t vaddr;
    size_t size;
};

struct sd_result {
    /* All depths in bytes below the entry SP (the SP right after `call`). */
    uint32_t frame;      /* the function's own frame: deepest SP reached */
    uint32_t probe;      /* deepest explicit probe (`or $0, mem`), own or a callee's */
    uint32_t deepest;    /* deepest byte touched: frame, accesses, probes, calls */
    bool complete;       /* every path followed to a return */
    bool has_probe;
    bool realigns;       /* `and $-N,%rsp` seen */
    unsigned calls;      /* direct calls followed */
    char note[96];       /* first reason for !complete */
};

/* Analyse the function at `entry` in code[0..ncode).  misaligned: assume
 * the caller's SP may have any alignment (otherwise the ABI's 16 bytes, so
 * the entry SP is 8 mod 16).  Returns 0, or -1 when the disassembler
 * cannot be opened (note says why). */
int sd_analyze(const struct sd_code *code, size_t ncode, uint64_t entry, bool misaligned,
               struct sd_result *r);

/* "capstone 4.0" */
const char *sd_disassembler_name(void);

#endif /* ANALYZER_STACKDEPTH_H */
