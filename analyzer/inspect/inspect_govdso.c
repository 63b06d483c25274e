/*
 * inspect_govdso.c — on which stack a Go program calls the vDSO.
 *
 * Go's runtime calls the vDSO's clock_gettime (runtime.nanotime1,
 * time.now on amd64, runtime.walltime elsewhere, walltime1 before Go
 * 1.17) and, since Go 1.24, its
 * getrandom (runtime.vgetrandom1) from assembly, through a pointer it
 * looked up at start-up.  A goroutine's stack guarantees a NOSPLIT
 * function only GO_NOSPLIT_LIMIT bytes below its frame, and a vDSO built
 * with stack probes touches up to a page and more below its caller's SP:
 * Go issue 20427, the story of vdso-low-stack.  Go fixed it by switching
 * to the system stack first: the runtime loads the SP g0 saved
 * (`mov gobuf_sp(g0),%rsp`) before the indirect call, when it runs on a
 * goroutine's stack.  So the question for a binary is: does its code load
 * %rsp from memory before its call through a register?  Answered by a
 * linear disassembly (capstone) of each function, whose bounds come from
 * the Go line table (common/go_pcln.c), so a binary stripped with -s -w is
 * answered too.
 *
 * The answer is combined with this host's measured vDSO stack need
 * (vdso.c): on the system stack (16 KiB and more) any measured need
 * fits; on a goroutine's stack, a need above GO_NOSPLIT_LIMIT can write
 * past the stack's end into whatever lies below it.
 */
#define _GNU_SOURCE
#include "inspect.h"

#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "go_pcln.h"
#include "util.h"
#include "vdso.h"

/* _StackLimit of Go's runtime on linux/amd64: the bytes a chain of NOSPLIT
 * functions may use below the stack guard (928 guard - 128 small). */
#define GO_NOSPLIT_LIMIT 800u

static const char *const vdso_callers[] = {
    "runtime.nanotime1", "time.now", "runtime.walltime", "runtime.walltime1", "runtime.vgetrandom1",
};

/* The code bytes [entry, end) from an executable PT_LOAD, NULL if absent. */
static const uint8_t *code_at(const struct inspect_target *t, uint64_t entry, uint64_t end)
{
    size_t flen = 0, phnum = 0;
    const uint8_t *img = (const uint8_t *)elf_rawfile(t->elf, &flen);
    if (!img || end <= entry || elf_getphdrnum(t->elf, &phnum) != 0)
        return NULL;
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(t->elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X) ||
            entry < ph.p_vaddr || end - ph.p_vaddr > ph.p_filesz || ph.p_offset > flen ||
            ph.p_filesz > flen - ph.p_offset)
            continue;
        return img + ph.p_offset + (entry - ph.p_vaddr);
    }
    return NULL;
}

static void scan_one(csh cs, const struct inspect_target *t, const struct go_loc *f,
                     struct inspect_go_vdso *v)
{
    const uint8_t *code = code_at(t, f->entry, f->end);
    if (!code || f->end - f->entry > (1u << 16))
        return;
    v->found = true;
    v->entry = f->entry;
    cs_insn *insn = cs_malloc(cs);
    const uint8_t *p = code;
    size_t left = f->end - f->entry;
    uint64_t addr = f->entry;
    while (insn && cs_disasm_iter(cs, &p, &left, &addr, insn)) {
        const cs_x86 *x = &insn->detail->x86;
        uint64_t off = insn->address - f->entry;
        if (insn->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
            x->operands[0].reg == X86_REG_RSP && x->operands[1].type == X86_OP_MEM && !v->switches) {
            v->switches = true;
            v->switch_off = off;
            snprintf(v->switch_insn, sizeof v->switch_insn, "%.8s %.36s at +%#" PRIx64, insn->mnemonic,
                     insn->op_str, off);
        }
        if (insn->id == X86_INS_CALL && x->op_count == 1 && x->operands[0].type != X86_OP_IMM) {
            v->indirect_call = true;
            v->call_off = off;
            snprintf(v->call_insn, sizeof v->call_insn, "%.6s %.20s at +%#" PRIx64, insn->mnemonic,
                     insn->op_str, off);
            break; /* the vDSO call: what comes after does not matter */
        }
    }
    if (insn)
        cs_free(insn, 1);
    if (!v->indirect_call)
        v->switches = false; /* a load of SP with no vDSO call after it says nothing */
}

void inspect_go_vdso_scan(const struct inspect_target *t, const void *pcln, struct inspect_go *g)
{
    const struct go_pcln *p = pcln;
    if (t->ehdr.e_machine != EM_X86_64 || t->ehdr.e_ident[EI_CLASS] != ELFCLASS64)
        return;
    csh cs;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
        return;
    cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
    for (size_t i = 0; i < sizeof vdso_callers / sizeof *vdso_callers && g->nvdso < INSPECT_GO_VDSO_MAX; i++) {
        struct go_loc f;
        if (!go_pcln_find(p, vdso_callers[i], &f))
            continue;
        struct inspect_go_vdso *v = &g->vdso[g->nvdso];
        memset(v, 0, sizeof *v);
        v->func = vdso_callers[i];
        scan_one(cs, t, &f, v);
        if (v->found)
            g->nvdso++;
    }
    cs_close(&cs);
}

/* This host's vDSO, measured once per run. */
static const struct vdso_measure *host_vdso(void)
{
    static struct vdso_measure m;
    static int state; /* 0 not yet, 1 measured, -1 none */
    if (!state)
        state = vdso_measure_self(&m) == 0 ? 1 : -1;
    return state > 0 ? &m : NULL;
}

static const struct vdso_func *host_func(const struct vdso_measure *m, const char *name)
{
    for (size_t i = 0; m && i < m->nfuncs; i++)
        if (strcmp(m->funcs[i].name, name) == 0 && m->funcs[i].measured)
            return &m->funcs[i];
    return NULL;
}

const char *inspect_go_vdso_verdict(const struct inspect_go *g, json_t **host)
{
    static char buf[1400];
    size_t nsw = 0, ncall = 0;
    bool time_on_g = false, random_on_g = false;
    char names[200] = "", on_g[200] = "";
    for (size_t i = 0; i < g->nvdso; i++) {
        const struct inspect_go_vdso *v = &g->vdso[i];
        if (!v->indirect_call)
            continue;
        ncall++;
        char *dst = v->switches ? names : on_g;
        size_t len = strlen(dst);
        snprintf(dst + len, 200 - len, "%s%s", len ? ", " : "", v->func);
        nsw += v->switches;
        if (!v->switches && strstr(v->func, "getrandom"))
            random_on_g = true;
        else if (!v->switches)
            time_on_g = true;
    }
    if (host)
        *host = NULL;
    if (!ncall)
        return NULL;
    const struct vdso_measure *m = host_vdso();
    const struct vdso_func *gr = host_func(m, "__vdso_getrandom");
    uint32_t need = m ? m->max_deepest_bytes : 0, grb = gr ? gr->deepest_bytes : 0;
    /* What the calls made on a goroutine stack need on this host. */
    uint32_t worst = time_on_g ? need : 0;
    if (random_on_g && grb > worst)
        worst = grb;
    char hostpart[240], grpart[120];
    if (gr)
        snprintf(grpart, sizeof grpart, "its getrandom needs %u", grb);
    else
        snprintf(grpart, sizeof grpart, "it has no getrandom (a kernel before 6.11: Go 1.24 and "
                 "glibc 2.41 make the system call instead)");
    if (!m)
        snprintf(hostpart, sizeof hostpart, "this host has no vDSO to measure");
    else
        snprintf(hostpart, sizeof hostpart, "this host's vDSO time functions need %u bytes below "
                 "the caller's SP%s, %s", need, m->any_probe ? " (stack probes)" : "", grpart);
    if (host) {
        json_t *h = json_object();
        json_object_set_new(h, "time_bytes", m ? json_integer(need) : json_null());
        json_object_set_new(h, "getrandom_bytes", gr ? json_integer(grb) : json_null());
        json_object_set_new(h, "stack_probe", json_boolean(m && m->any_probe));
        json_object_set_new(h, "goroutine_nosplit_limit", json_integer(GO_NOSPLIT_LIMIT));
        *host = h;
    }
    char sw[512] = "";
    if (nsw)
        snprintf(sw, sizeof sw, "%s switch%s to the system stack (g0) before calling the vDSO%s",
                 names, nsw == 1 ? "es" : "", nsw == ncall ? ", so the vDSO never runs on a "
                 "goroutine's small stack" : "; ");
    if (nsw == ncall) {
        snprintf(buf, sizeof buf, "%s; %s: fits", sw, hostpart);
        return buf;
    }
    const char *v = !m ? "unknown"
                    : worst <= GO_NOSPLIT_LIMIT ? "fits on this host (a vDSO built with stack "
                                                  "probes would not)"
                    : time_on_g ? "CAN OVERRUN the goroutine stack (Go issue 20427): use Go 1.9 "
                                  "or later"
                                : "CAN OVERRUN the goroutine stack";
    snprintf(buf, sizeof buf, "%s%s call%s the vDSO on the goroutine's own stack, which "
             "guarantees only %u bytes below a NOSPLIT function; %s: %s", sw, on_g,
             ncall - nsw == 1 ? "s" : "", GO_NOSPLIT_LIMIT, hostpart, v);
    return buf;
}
