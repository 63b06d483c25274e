/*
 * stackdepth.c — how deep below its entry SP an x86-64 function touches
 * the stack, by abstract interpretation over capstone's decoded
 * instructions (see stackdepth.h for the choice of capstone).
 *
 * State along a path: d, the bytes the SP is below the entry SP, and for
 * each general register whether it holds "entry SP - k" and k.  What moves
 * the SP: push/pop (8), pushf/popf, sub/add $imm, lea disp(%rsp|known
 * reg), mov known reg, leave (SP := %rbp, pop), and $-2^n (realignment:
 * exact for an ABI-aligned caller, worst case otherwise), call (the return
 * address, then the callee's own depth, analysed recursively).  What
 * touches the stack below the SP: every memory operand based on %rsp or a
 * register known to hold an SP offset, without an index (red zone,
 * `or $0,-N(%rsp)` probes of old -fstack-check, `or $0,(%rsp)` after a sub).
 * A probe loop (`cmp %r11,%rsp; jne back`) ends with the SP at %r11's
 * offset: the loop is not iterated, its exit gets that offset.
 *
 * Anything else that writes %rsp (sub %reg,%rsp: a variable-size frame), an
 * indirect jump or call, or a call/jump out of the code ends the path and
 * marks the result incomplete: the depth found is then a lower bound.
 */
#define _GNU_SOURCE
#include "stackdepth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#define SD_MAX_STEPS 20000u   /* instructions per top-level analysis */
#define SD_MAX_PENDING 512u   /* open paths */
#define SD_MAX_REVISITS 4u    /* deeper revisits of one address: a growing loop */
#define SD_MAX_CALL_DEPTH 6
#define SD_MAX_MEMO 32
#define SD_VISIT_SLOTS 2048u  /* power of two */
#define SD_MAX_DEPTH (1ll << 32) /* beyond this an SP offset is garbage, not a frame */
#define SD_NREG 16
#define SD_RSP 4
#define SD_RBP 5

struct sd_state {
    uint64_t addr;
    int64_t d;                /* SP is entry SP - d */
    int64_t off[SD_NREG];     /* register i holds entry SP - off[i] when known */
    uint16_t known;
};

struct sd_visit {
    bool used;
    uint64_t addr;
    int64_t d;
    unsigned count;
};

struct sd_memo {
    uint64_t entry;
    bool busy;                /* being analysed: recursion */
    struct sd_result r;
};

struct sd_ctx {
    csh cs;
    cs_insn *insn;
    const struct sd_code *code;
    size_t ncode;
    bool misaligned;
    unsigned steps;
    struct sd_memo memo[SD_MAX_MEMO];
    size_t nmemo;
};

/* 64-bit register index of any x86 general register name, -1 otherwise. */
static int gpr_index(unsigned reg)
{
    static const struct {
        unsigned r;
        signed char idx;
    } map[] = {
        {X86_REG_RAX, 0},  {X86_REG_EAX, 0},  {X86_REG_AX, 0},   {X86_REG_AL, 0},   {X86_REG_AH, 0},
        {X86_REG_RCX, 1},  {X86_REG_ECX, 1},  {X86_REG_CX, 1},   {X86_REG_CL, 1},   {X86_REG_CH, 1},
        {X86_REG_RDX, 2},  {X86_REG_EDX, 2},  {X86_REG_DX, 2},   {X86_REG_DL, 2},   {X86_REG_DH, 2},
        {X86_REG_RBX, 3},  {X86_REG_EBX, 3},  {X86_REG_BX, 3},   {X86_REG_BL, 3},   {X86_REG_BH, 3},
        {X86_REG_RSP, 4},  {X86_REG_ESP, 4},  {X86_REG_SP, 4},   {X86_REG_SPL, 4},
        {X86_REG_RBP, 5},  {X86_REG_EBP, 5},  {X86_REG_BP, 5},   {X86_REG_BPL, 5},
        {X86_REG_RSI, 6},  {X86_REG_ESI, 6},  {X86_REG_SI, 6},   {X86_REG_SIL, 6},
        {X86_REG_RDI, 7},  {X86_REG_EDI, 7},  {X86_REG_DI, 7},   {X86_REG_DIL, 7},
        {X86_REG_R8, 8},   {X86_REG_R8D, 8},  {X86_REG_R8W, 8},  {X86_REG_R8B, 8},
        {X86_REG_R9, 9},   {X86_REG_R9D, 9},  {X86_REG_R9W, 9},  {X86_REG_R9B, 9},
        {X86_REG_R10, 10}, {X86_REG_R10D, 10}, {X86_REG_R10W, 10}, {X86_REG_R10B, 10},
        {X86_REG_R11, 11}, {X86_REG_R11D, 11}, {X86_REG_R11W, 11}, {X86_REG_R11B, 11},
        {X86_REG_R12, 12}, {X86_REG_R12D, 12}, {X86_REG_R12W, 12}, {X86_REG_R12B, 12},
        {X86_REG_R13, 13}, {X86_REG_R13D, 13}, {X86_REG_R13W, 13}, {X86_REG_R13B, 13},
        {X86_REG_R14, 14}, {X86_REG_R14D, 14}, {X86_REG_R14W, 14}, {X86_REG_R14B, 14},
        {X86_REG_R15, 15}, {X86_REG_R15D, 15}, {X86_REG_R15W, 15}, {X86_REG_R15B, 15},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].r == reg)
            return map[i].idx;
    return -1;
}

static bool is_reg64(unsigned reg, int idx)
{
    static const unsigned r64[SD_NREG] = {
        X86_REG_RAX, X86_REG_RCX, X86_REG_RDX, X86_REG_RBX, X86_REG_RSP, X86_REG_RBP,
        X86_REG_RSI, X86_REG_RDI, X86_REG_R8,  X86_REG_R9,  X86_REG_R10, X86_REG_R11,
        X86_REG_R12, X86_REG_R13, X86_REG_R14, X86_REG_R15,
    };
    return idx >= 0 && idx < SD_NREG && r64[idx] == reg;
}

/* The bytes at vaddr, and how many follow in the same code range. */
static const uint8_t *code_at(const struct sd_ctx *c, uint64_t vaddr, size_t *avail)
{
    for (size_t i = 0; i < c->ncode; i++) {
        const struct sd_code *k = &c->code[i];
        if (vaddr >= k->vaddr && vaddr - k->vaddr < k->size) {
            *avail = k->size - (size_t)(vaddr - k->vaddr);
            return k->bytes + (vaddr - k->vaddr);
        }
    }
    return NULL;
}

static void incomplete(struct sd_result *r, const char *fmt, unsigned long long addr)
{
    if (r->complete) {
        r->complete = false;
        snprintf(r->note, sizeof r->note, fmt, addr);
    }
}

static void deeper(uint32_t *slot, int64_t depth)
{
    if (depth > 0 && depth > (int64_t)*slot)
        *slot = depth > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)depth;
}

/* Register offset of an operand's base (SP or a known register). */
static bool base_offset(const struct sd_state *s, unsigned reg, int64_t *off)
{
    int i = gpr_index(reg);
    if (i < 0 || !is_reg64(reg, i))
        return false;
    if (i == SD_RSP) {
        *off = s->d;
        return true;
    }
    if (s->known & (1u << i)) {
        *off = s->off[i];
        return true;
    }
    return false;
}

static void forget_written(const struct sd_ctx *c, struct sd_state *s, bool *sp_written)
{
    cs_regs rd, wr;
    uint8_t nrd = 0, nwr = 0;
    *sp_written = false;
    if (cs_regs_access(c->cs, c->insn, rd, &nrd, wr, &nwr) != CS_ERR_OK) {
        s->known = 0; /* cannot tell: forget everything but the SP */
        return;
    }
    for (unsigned i = 0; i < nwr; i++) {
        int g = gpr_index(wr[i]);
        if (g == SD_RSP)
            *sp_written = true;
        else if (g >= 0)
            s->known &= (uint16_t)~(1u << g);
    }
}

static int sd_run(struct sd_ctx *c, uint64_t entry, int level, struct sd_result *r);

/* Depth of a callee, memoised.  NULL when it cannot be analysed. */
static const struct sd_result *callee(struct sd_ctx *c, uint64_t target, int level)
{
    for (size_t i = 0; i < c->nmemo; i++)
        if (c->memo[i].entry == target)
            return c->memo[i].busy ? NULL : &c->memo[i].r;
    if (level >= SD_MAX_CALL_DEPTH || c->nmemo >= SD_MAX_MEMO)
        return NULL;
    size_t k = c->nmemo++;
    c->memo[k].entry = target;
    c->memo[k].busy = true;
    struct sd_result tmp;
    cs_insn *mine = c->insn, *nested = cs_malloc(c->cs);
    if (!nested) {
        c->nmemo--;
        return NULL;
    }
    c->insn = nested; /* the caller's instruction stays decoded */
    sd_run(c, target, level + 1, &tmp);
    c->insn = mine;
    cs_free(nested, 1);
    c->memo[k].r = tmp;
    c->memo[k].busy = false;
    return &c->memo[k].r;
}

struct sd_walk {
    struct sd_state *pend;
    size_t npend;
    struct sd_visit *vis;
};

static bool push_path(struct sd_walk *w, const struct sd_state *s, struct sd_result *r)
{
    if (w->npend >= SD_MAX_PENDING) {
        incomplete(r, "too many open paths at %#llx", (unsigned long long)s->addr);
        return false;
    }
    w->pend[w->npend++] = *s;
    return true;
}

/* Seen this address with a state at least as deep?  Then stop here. */
static bool already_seen(struct sd_walk *w, const struct sd_state *s, struct sd_result *r)
{
    size_t mask = SD_VISIT_SLOTS - 1, h = (size_t)(s->addr * 0x9E3779B97F4A7C15ull >> 40) & mask;
    for (size_t n = 0; n < SD_VISIT_SLOTS; n++, h = (h + 1) & mask) {
        struct sd_visit *v = &w->vis[h];
        if (!v->used) {
            v->used = true;
            v->addr = s->addr;
            v->d = s->d;
            v->count = 1;
            return false;
        }
        if (v->addr != s->addr)
            continue;
        if (s->d <= v->d)
            return true;
        if (++v->count > SD_MAX_REVISITS) {
            incomplete(r, "the stack grows in a loop at %#llx", (unsigned long long)s->addr);
            return true;
        }
        v->d = s->d;
        return false;
    }
    incomplete(r, "too much code from %#llx", (unsigned long long)s->addr);
    return true;
}

enum { SD_STOP, SD_NEXT, SD_JUMPED };

/* One instruction: SD_STOP when the path ends here, SD_JUMPED when s->addr
 * is the next instruction, SD_NEXT to fall through. */
static int step(struct sd_ctx *c, struct sd_walk *w, struct sd_state *s, int level,
                 struct sd_result *r, bool *cmp_sp, int64_t *cmp_bound)
{
    const cs_insn *in = c->insn;
    const cs_x86 *x = &in->detail->x86;
    unsigned id = in->id;
    const cs_x86_op *o0 = x->op_count > 0 ? &x->operands[0] : NULL;
    const cs_x86_op *o1 = x->op_count > 1 ? &x->operands[1] : NULL;
    bool prev_cmp = *cmp_sp;
    *cmp_sp = false;

    /* Memory touched relative to the stack. */
    if (id != X86_INS_LEA && id != X86_INS_NOP) {
        for (unsigned i = 0; i < x->op_count; i++) {
            const cs_x86_op *op = &x->operands[i];
            int64_t boff;
            if (op->type != X86_OP_MEM || op->mem.segment != X86_REG_INVALID ||
                op->mem.index != X86_REG_INVALID || !base_offset(s, op->mem.base, &boff))
                continue;
            int64_t depth = boff - op->mem.disp;
            deeper(&r->deepest, depth);
            if (id == X86_INS_OR && o1 && o1->type == X86_OP_IMM && o1->imm == 0 && op == o0) {
                r->has_probe = true;
                deeper(&r->probe, depth);
            }
        }
    }

    bool sp_written;
    switch (id) {
    case X86_INS_PUSH:
    case X86_INS_PUSHF:
    case X86_INS_PUSHFQ:
        s->d += (o0 && o0->size == 2) || (id == X86_INS_PUSHF && in->size == 2) ? 2 : 8;
        deeper(&r->deepest, s->d);
        deeper(&r->frame, s->d);
        return SD_NEXT;
    case X86_INS_POP:
    case X86_INS_POPFQ:
        s->d -= 8;
        if (o0 && o0->type == X86_OP_REG) {
            int g = gpr_index(o0->reg);
            if (g == SD_RSP) {
                incomplete(r, "pop into the SP at %#llx", (unsigned long long)in->address);
                return SD_STOP;
            }
            if (g >= 0)
                s->known &= (uint16_t)~(1u << g);
        }
        return SD_NEXT;
    case X86_INS_LEAVE:
        if (!(s->known & (1u << SD_RBP))) {
            incomplete(r, "leave with an unknown frame pointer at %#llx", (unsigned long long)in->address);
            return SD_STOP;
        }
        s->d = s->off[SD_RBP] - 8;
        s->known &= (uint16_t)~(1u << SD_RBP);
        return SD_NEXT;
    case X86_INS_RET:
    case X86_INS_RETF:
    case X86_INS_RETFQ:
    case X86_INS_HLT:
    case X86_INS_UD2:
    case X86_INS_INT3:
        return SD_STOP;
    case X86_INS_CALL: {
        deeper(&r->deepest, s->d + 8);
        if (o0 && o0->type == X86_OP_IMM) {
            size_t avail;
            const struct sd_result *cr = code_at(c, (uint64_t)o0->imm, &avail)
                                             ? callee(c, (uint64_t)o0->imm, level) : NULL;
            if (cr) {
                r->calls++;
                deeper(&r->deepest, s->d + 8 + cr->deepest);
                if (cr->has_probe) {
                    r->has_probe = true;
                    deeper(&r->probe, s->d + 8 + cr->probe);
                }
                r->realigns |= cr->realigns;
                if (!cr->complete)
                    incomplete(r, "a callee was not fully analysed (call at %#llx)",
                               (unsigned long long)in->address);
            } else
                incomplete(r, "call to code that cannot be analysed at %#llx", (unsigned long long)in->address);
        } else
            incomplete(r, "indirect call at %#llx", (unsigned long long)in->address);
        /* The callee may clobber the caller-saved registers. */
        s->known &= (uint16_t)~((1u << 0) | (1u << 1) | (1u << 2) | (1u << 6) | (1u << 7) |
                                (1u << 8) | (1u << 9) | (1u << 10) | (1u << 11));
        return SD_NEXT;
    }
    case X86_INS_JMP:
        if (o0 && o0->type == X86_OP_IMM) {
            size_t avail;
            if (!code_at(c, (uint64_t)o0->imm, &avail)) {
                incomplete(r, "jump out of the code at %#llx", (unsigned long long)in->address);
                return SD_STOP;
            }
            s->addr = (uint64_t)o0->imm;
            return SD_JUMPED;
        }
        incomplete(r, "indirect jump at %#llx", (unsigned long long)in->address);
        return SD_STOP;
    default:
        break;
    }

    if (cs_insn_group(c->cs, in, X86_GRP_JUMP)) { /* conditional jumps, loop, jrcxz */
        if (!o0 || o0->type != X86_OP_IMM) {
            incomplete(r, "indirect jump at %#llx", (unsigned long long)in->address);
            return SD_STOP;
        }
        uint64_t target = (uint64_t)o0->imm;
        if (prev_cmp && target <= in->address) {
            /* A probe loop: leave it with the SP where the compare stops it. */
            if (r->has_probe)
                deeper(&r->probe, *cmp_bound);
            deeper(&r->deepest, *cmp_bound);
            deeper(&r->frame, *cmp_bound);
            s->d = *cmp_bound;
            return SD_NEXT;
        }
        size_t avail;
        if (code_at(c, target, &avail)) {
            struct sd_state t = *s;
            t.addr = target;
            push_path(w, &t, r);
        } else
            incomplete(r, "jump out of the code at %#llx", (unsigned long long)in->address);
        return SD_NEXT;
    }

    /* Instructions that may move the SP or a tracked register. */
    int g0 = o0 && o0->type == X86_OP_REG ? gpr_index(o0->reg) : -1;
    bool full0 = g0 >= 0 && is_reg64(o0->reg, g0);
    if ((id == X86_INS_SUB || id == X86_INS_ADD) && full0 && o1 && o1->type == X86_OP_IMM &&
        o1->imm > -SD_MAX_DEPTH && o1->imm < SD_MAX_DEPTH) {
        int64_t delta = id == X86_INS_SUB ? o1->imm : -o1->imm;
        if (g0 == SD_RSP) {
            s->d += delta;
            deeper(&r->frame, s->d);
            deeper(&r->deepest, s->d);
            return SD_NEXT;
        }
        if (s->known & (1u << g0)) {
            s->off[g0] += delta;
            return SD_NEXT;
        }
    }
    if (id == X86_INS_AND && g0 == SD_RSP && full0 && o1 && o1->type == X86_OP_IMM &&
        o1->imm < 0 && o1->imm >= -(1 << 20) && ((-o1->imm) & (-o1->imm - 1)) == 0) {
        int64_t align = -o1->imm;
        r->realigns = true;
        if (!c->misaligned && align <= 16)
            s->d += ((8 - s->d) % align + align) % align; /* entry SP is 8 mod 16 */
        else
            s->d += align - 1;
        deeper(&r->frame, s->d);
        deeper(&r->deepest, s->d);
        return SD_NEXT;
    }
    if (id == X86_INS_LEA && full0 && o1 && o1->type == X86_OP_MEM) {
        int64_t boff;
        if (o1->mem.index == X86_REG_INVALID && o1->mem.segment == X86_REG_INVALID &&
            base_offset(s, o1->mem.base, &boff)) {
            if (g0 == SD_RSP) {
                s->d = boff - o1->mem.disp;
                deeper(&r->frame, s->d);
                deeper(&r->deepest, s->d);
            } else {
                s->off[g0] = boff - o1->mem.disp;
                s->known |= (uint16_t)(1u << g0);
            }
            return SD_NEXT;
        }
    }
    if (id == X86_INS_MOV && full0 && o1 && o1->type == X86_OP_REG) {
        int64_t boff;
        if (base_offset(s, o1->reg, &boff)) {
            if (g0 == SD_RSP) {
                s->d = boff;
                deeper(&r->frame, s->d);
                deeper(&r->deepest, s->d);
            } else {
                s->off[g0] = boff;
                s->known |= (uint16_t)(1u << g0);
            }
            return SD_NEXT;
        }
    }
    if (id == X86_INS_CMP && o0 && o1 && o0->type == X86_OP_REG && o1->type == X86_OP_REG) {
        int a = gpr_index(o0->reg), b = gpr_index(o1->reg);
        int other = a == SD_RSP ? b : b == SD_RSP ? a : -1;
        if (other >= 0 && other != SD_RSP && (s->known & (1u << other))) {
            *cmp_sp = true;
            *cmp_bound = s->off[other];
        }
        return SD_NEXT;
    }

    forget_written(c, s, &sp_written);
    if (sp_written) {
        incomplete(r, "the SP is set from an unknown value at %#llx (variable-size frame)",
                   (unsigned long long)in->address);
        return SD_STOP;
    }
    return SD_NEXT;
}

static int sd_run(struct sd_ctx *c, uint64_t entry, int level, struct sd_result *r)
{
    memset(r, 0, sizeof *r);
    r->complete = true;
    struct sd_walk w;
    w.pend = calloc(SD_MAX_PENDING, sizeof *w.pend);
    w.vis = calloc(SD_VISIT_SLOTS, sizeof *w.vis);
    w.npend = 0;
    if (!w.pend || !w.vis) {
        free(w.pend);
        free(w.vis);
        r->complete = false;
        snprintf(r->note, sizeof r->note, "out of memory");
        return -1;
    }
    struct sd_state s0;
    memset(&s0, 0, sizeof s0);
    s0.addr = entry;
    push_path(&w, &s0, r);
    while (w.npend > 0) {
        struct sd_state s = w.pend[--w.npend];
        bool cmp_sp = false;
        int64_t cmp_bound = 0;
        for (;;) {
            if (already_seen(&w, &s, r))
                break;
            if (++c->steps > SD_MAX_STEPS) {
                incomplete(r, "too many instructions (at %#llx)", (unsigned long long)s.addr);
                w.npend = 0;
                break;
            }
            size_t avail = 0;
            const uint8_t *p = code_at(c, s.addr, &avail);
            uint64_t a = s.addr;
            if (!p || !cs_disasm_iter(c->cs, &p, &avail, &a, c->insn)) {
                incomplete(r, "undecodable instruction at %#llx", (unsigned long long)s.addr);
                break;
            }
            uint64_t next = c->insn->address + c->insn->size;
            int how = step(c, &w, &s, level, r, &cmp_sp, &cmp_bound);
            if (how == SD_STOP)
                break;
            if (s.d > SD_MAX_DEPTH || s.d < -SD_MAX_DEPTH) {
                incomplete(r, "implausible stack adjustment at %#llx", (unsigned long long)c->insn->address);
                break;
            }
            if (how == SD_NEXT)
                s.addr = next;
        }
    }
    free(w.pend);
    free(w.vis);
    return 0;
}

int sd_analyze(const struct sd_code *code, size_t ncode, uint64_t entry, bool misaligned,
               struct sd_result *r)
{
    memset(r, 0, sizeof *r);
    struct sd_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(r->note, sizeof r->note, "out of memory");
        return -1;
    }
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &c->cs) != CS_ERR_OK) {
        snprintf(r->note, sizeof r->note, "capstone cannot disassemble x86-64");
        free(c);
        return -1;
    }
    cs_option(c->cs, CS_OPT_DETAIL, CS_OPT_ON);
    c->insn = cs_malloc(c->cs);
    c->code = code;
    c->ncode = ncode;
    c->misaligned = misaligned;
    int rc = -1;
    if (c->insn) {
        /* The top level goes through the memo too, so that a callee calling
         * back into it is seen as recursion. */
        c->memo[0].entry = entry;
        c->memo[0].busy = true;
        c->nmemo = 1;
        rc = sd_run(c, entry, 0, r);
        cs_free(c->insn, 1);
    } else
        snprintf(r->note, sizeof r->note, "capstone: out of memory");
    cs_close(&c->cs);
    free(c);
    return rc;
}

const char *sd_disassembler_name(void)
{
    static char name[32];
    int major = 0, minor = 0;
    cs_version(&major, &minor);
    snprintf(name, sizeof name, "capstone %d.%d", major, minor);
    return name;
}
