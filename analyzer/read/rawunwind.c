/*
 * rawunwind.c — unwinding the stacks the shim wrote raw.
 *
 * The shim loads libunwind only when a process first reaches a call that
 * a signal handler cannot make (preload/stack.c).  A stack wanted before
 * that — a crash in a process that never did, a time call on a tiny stack
 * — is written as the thread's registers plus a copy of its stack memory
 * above the stack pointer (struct guard_stack_raw).  Here libdwfl unwinds
 * it the way it unwinds a core file: the process's modules are reported
 * at their load addresses from the log's module map, the registers are the
 * initial frame, and memory reads are served from the copy.  The result
 * replaces the raw bytes with ordinary pcs, so nothing downstream (stacks,
 * findings, fingerprints, crash triage) knows the difference.
 *
 * Where a frame has no call frame information (Go code: the Go linker
 * writes none into .eh_frame, and none at all with -ldflags=-w) the
 * frame-pointer chain, which Go keeps on amd64, is the way on: libdwfl's
 * x86-64 backend follows it by itself, and where libdwfl stops with an
 * error at a frame of Go code (or of a module without any CFI) the walk
 * here goes on from the last frame it reached: [rbp] is the caller's rbp
 * and [rbp+8] the return address.  Each step reads the copy only (bounds-checked like
 * libdwfl's reads) and must move strictly up the stack, so a corrupt
 * chain ends the walk instead of looping.  Unwinding stops where the copy
 * ends, where a module's file is not on this machine, or where neither
 * works: the frames found until then are kept.
 */
#define _GNU_SOURCE
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "guard_log.h"
#include "logread.h"
#include "util.h"

struct raw_walk {
    struct guard_stack_raw hdr;
    const unsigned char *bytes; /* hdr.len bytes from hdr.regs[7] */
    bool thread_given;
    uint64_t pcs[GUARD_MAX_FRAMES];
    size_t n;
    size_t frame; /* frames seen, the shim's included */
    const struct lg_stack *join; /* the stack this one ends in (a fork's), if any */
    const uint64_t *join_sp;     /* its frames 1 and 2's stack pointers ([1], [2]; 0: none) */
    uint32_t joined_at;          /* the frame of `join` the unwind reached; 0: none */
    bool have_fp;                /* the last frame's rbp and rsp are known */
    uint64_t last_rbp, last_sp, last_pc;
};

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
    (void)dwfl;
    struct raw_walk *w = arg;
    if (w->thread_given)
        return 0;
    w->thread_given = true;
    *thread_argp = w;
    return 1; /* any tid: there is one thread */
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
    (void)dwfl;
    const struct raw_walk *w = arg;
    uint64_t sp = w->hdr.regs[7];
    if (addr < sp || addr - sp > w->hdr.len || w->hdr.len - (addr - sp) < sizeof *result)
        return false;
    memcpy(result, w->bytes + (addr - sp), sizeof *result);
    return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
    const struct raw_walk *w = thread_arg;
    Dwarf_Word regs[17];
    for (int i = 0; i < 17; i++)
        regs[i] = w->hdr.regs[i];
    dwfl_thread_state_register_pc(thread, regs[16]);
    return dwfl_thread_state_registers(thread, 0, 16, regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
    .next_thread = next_thread,
    .memory_read = memory_read,
    .set_initial_registers = set_initial_registers,
};

static int on_frame(Dwfl_Frame *state, void *arg)
{
    struct raw_walk *w = arg;
    Dwarf_Addr pc;
    bool activation;
    if (!dwfl_frame_pc(state, &pc, &activation) || pc == 0)
        return DWARF_CB_ABORT;
    /* The first frame is the registers' pc: an exact instruction for a
     * fault, else a return address (the shim's getcontext, a swapcontext). */
    if (w->frame++ == 0)
        activation = (w->hdr.flags & GUARD_RAW_PC_EXACT) != 0;
    uint64_t lookup = activation ? pc : pc - 1;
    if (w->n == 0 && lookup >= w->hdr.skip_lo && lookup < w->hdr.skip_hi)
        return DWARF_CB_OK; /* the shim's own frames on top */
    /* One of the fork's frames, at its stack pointer then: from here on the
     * frames are the fork's (the child checked they were still on its
     * stack), and the copy may end here. */
    Dwarf_Word sp;
    if (w->join && !activation && dwfl_frame_reg(state, 7, &sp) == 0)
        for (uint32_t k = 1; k <= 2 && k < w->join->nframes; k++)
            if (w->join_sp[k] && sp == w->join_sp[k] && lookup == w->join->pcs[k]) {
                w->joined_at = k;
                return DWARF_CB_ABORT;
            }
    w->pcs[w->n++] = lookup;
    Dwarf_Word rbp, rsp;
    w->have_fp = dwfl_frame_reg(state, 6, &rbp) == 0 && dwfl_frame_reg(state, 7, &rsp) == 0;
    w->last_rbp = w->have_fp ? rbp : 0;
    w->last_sp = w->have_fp ? rsp : 0;
    w->last_pc = lookup;
    return w->n < GUARD_MAX_FRAMES ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/* Is the frame-pointer chain worth following from pc?  Only out of Go
 * code (a module with Go's line table) or a module with no call frame
 * information at all: C code without frame pointers keeps anything in
 * rbp, and following it would invent frames. */
static bool frame_pointer_module(Dwfl *dwfl, uint64_t pc)
{
    Dwfl_Module *mod = dwfl_addrmodule(dwfl, pc);
    Dwarf_Addr bias;
    Elf *elf = mod ? dwfl_module_getelf(mod, &bias) : NULL;
    size_t shstrndx;
    if (!elf)
        return false;
    if (elf_getshdrstrndx(elf, &shstrndx) == 0) {
        Elf_Scn *scn = NULL;
        while ((scn = elf_nextscn(elf, scn)) != NULL) {
            GElf_Shdr sh;
            const char *name;
            if (gelf_getshdr(scn, &sh) && (name = elf_strptr(elf, shstrndx, sh.sh_name)) != NULL &&
                strcmp(name, ".gopclntab") == 0)
                return true;
        }
    }
    return !dwfl_module_eh_cfi(mod, &bias) && !dwfl_module_dwarf_cfi(mod, &bias);
}

/* Go on from the last frame libdwfl reached along the frame-pointer chain
 * (the file comment says when).  Invariant: each frame record read lies
 * inside the copy, above the previous one. */
static void frame_pointer_walk(struct raw_walk *w)
{
    uint64_t rbp = w->last_rbp, floor = w->last_sp;
    while (w->have_fp && w->n < GUARD_MAX_FRAMES && rbp >= floor && rbp % 8 == 0) {
        Dwarf_Word next, ret;
        if (!memory_read(NULL, rbp, &next, w) || !memory_read(NULL, rbp + 8, &ret, w) || ret == 0)
            return;
        uint64_t lookup = ret - 1; /* a return address: the call is before it */
        if (!(w->n == 0 && lookup >= w->hdr.skip_lo && lookup < w->hdr.skip_hi))
            w->pcs[w->n++] = lookup;
        if (next <= rbp)
            return; /* the chain must climb the stack */
        floor = rbp + 16;
        rbp = next;
    }
}

/* The stack a raw one ends in, if it is in this log as pcs (frames 0, 1
 * and more). */
static const struct lg_stack *join_target(const struct lg_log *log, const struct lg_stack *st)
{
    if (!st->join_stack || st->join_stack == st->id)
        return NULL;
    struct lg_stack *target = NULL;
    uint32_t id = st->join_stack;
    HASH_FIND(hh, log->stacks, &id, sizeof id, target);
    if (!target || target->raw || target->nframes < 2)
        return NULL;
    return target;
}

/* The module map in effect for generation gen: the newest generation <= gen
 * (every MODULE record of a generation lists the whole map). */
static uint32_t map_generation(const struct lg_log *log, uint32_t gen)
{
    uint32_t best = 0, oldest = UINT32_MAX;
    for (size_t i = 0; i < log->nmodules; i++) {
        uint32_t g = log->modules[i].generation;
        if (g <= gen && g > best)
            best = g;
        if (g < oldest)
            oldest = g;
    }
    return best ? best : oldest;
}

static char *debuginfo_path;
static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

static size_t unwind_one(const struct lg_log *log, const struct lg_stack *st, struct raw_walk *w)
{
    memcpy(&w->hdr, st->raw, sizeof w->hdr);
    w->bytes = st->raw + sizeof w->hdr;
    if (sizeof w->hdr + (size_t)w->hdr.len > st->raw_len)
        return 0;
    Dwfl *dwfl = dwfl_begin(&offline_callbacks);
    if (!dwfl)
        return 0;
    uint32_t gen = map_generation(log, st->generation);
    dwfl_report_begin(dwfl);
    for (size_t i = 0; i < log->nmodules; i++) {
        const struct lg_module *m = &log->modules[i];
        if (m->generation != gen || !m->path || m->path[0] != '/' || (m->flags & GUARD_MODULE_VDSO))
            continue;
        /* base is the load bias: the file's addresses plus base */
        dwfl_report_elf(dwfl, m->path, m->path, -1, m->base, false);
    }
    dwfl_report_end(dwfl, NULL, NULL);
    /* -1: libdwfl could not unwind a frame (not the end of the stack, not
     * our own stop): the frame-pointer chain may go on from there. */
    if (dwfl_attach_state(dwfl, NULL, 1, &thread_callbacks, w) &&
        dwfl_getthread_frames(dwfl, 1, on_frame, w) == -1 && !w->joined_at && w->n &&
        frame_pointer_module(dwfl, w->last_pc))
        frame_pointer_walk(w);
    dwfl_end(dwfl);
    return w->n;
}

void lg_unwind_raw_stacks(struct lg_log *log)
{
    struct lg_stack *st, *tmp;
    struct raw_walk *w = NULL;
    HASH_ITER(hh, log->stacks, st, tmp) {
        if (!st->raw)
            continue;
        if (!w)
            w = xmalloc(sizeof *w);
        memset(w, 0, sizeof *w);
        w->join = join_target(log, st);
        w->join_sp = st->join_sp;
        size_t n = st->raw_len >= sizeof w->hdr ? unwind_one(log, st, w) : 0;
        for (uint32_t i = w->joined_at; i && i < w->join->nframes && n < GUARD_MAX_FRAMES; i++)
            w->pcs[n++] = w->join->pcs[i];
        free(st->pcs);
        st->pcs = xcalloc(n ? n : 1, sizeof *st->pcs);
        memcpy(st->pcs, w->pcs, n * sizeof *st->pcs);
        st->nframes = (uint32_t)n;
        free(st->raw);
        st->raw = NULL;
        st->raw_len = 0;
    }
    free(w);
}
