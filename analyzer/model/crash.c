/*
 * crash.c — a crash finding's threads, signal and links (crash.h).
 *
 * The reader froze the history at the crash (logcrash.c): per-thread last
 * events, the pool objects the registers point into, poisoned registers,
 * the crashing thread's namespace changes.  Here that is symbolized and
 * joined with what only the whole run knows: the process tree (children
 * started shortly before and not reaped) and the other findings of the
 * same process.  Each link gets its one-line text here, so that the text,
 * JSON and SARIF reports say the same thing.
 */
#define _GNU_SOURCE
#include "crash.h"
#include "nstimeline.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POISON64 UINT64_C(0xa5a5a5a5a5a5a5a5)

/* ---- signals ---------------------------------------------------------- */

const char *crash_signal_name(int signo)
{
    static const char *const names[32] = {
        NULL,      "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP", "SIGABRT",
        "SIGBUS",  "SIGFPE",  "SIGKILL",   "SIGUSR1", "SIGSEGV",   "SIGUSR2", "SIGPIPE",
        "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",
        "SIGTTIN", "SIGTTOU", "SIGURG",    "SIGXCPU", "SIGXFSZ",   "SIGVTALRM", "SIGPROF",
        "SIGWINCH", "SIGIO",  "SIGPWR",    "SIGSYS",
    };
    return signo > 0 && signo < 32 ? names[signo] : NULL;
}

struct code {
    int signo; /* 0: any signal */
    int code;
    const char *name;
    const char *meaning;
};

/* si_code values (Linux <asm-generic/siginfo.h>).  Signal-specific codes
 * are positive; the generic ones (sent by a process) are <= 0, and
 * SI_KERNEL (0x80) is the kernel's own, which for SIGSEGV means a
 * general-protection fault: on x86-64, an access through a non-canonical
 * address, such as 0xa5a5a5a5a5a5a5a5. */
static const struct code codes[] = {
    {SIGSEGV, 1, "SEGV_MAPERR", "address not mapped to an object"},
    {SIGSEGV, 2, "SEGV_ACCERR", "invalid permissions for a mapped object"},
    {SIGSEGV, 3, "SEGV_BNDERR", "failed address bound checks"},
    {SIGSEGV, 4, "SEGV_PKUERR", "access denied by memory protection keys"},
    {SIGSEGV, 5, "SEGV_ACCADI", "ADI not enabled for the mapped object"},
    {SIGSEGV, 6, "SEGV_ADIDERR", "disrupting MCD error"},
    {SIGSEGV, 7, "SEGV_ADIPERR", "precise MCD exception"},
    {SIGSEGV, 8, "SEGV_MTEAERR", "asynchronous ARM MTE error"},
    {SIGSEGV, 9, "SEGV_MTESERR", "synchronous ARM MTE exception"},
    {SIGSEGV, 10, "SEGV_CPERR", "control protection fault (shadow stack)"},
    {SIGSEGV, 0x80, "SI_KERNEL",
     "sent by the kernel: a general-protection fault, such as an access through a "
     "non-canonical address (like 0xa5a5a5a5a5a5a5a5); the kernel gives no fault address"},
    {SIGBUS, 1, "BUS_ADRALN", "invalid address alignment"},
    {SIGBUS, 2, "BUS_ADRERR", "nonexistent physical address (e.g. past the end of a mapped file)"},
    {SIGBUS, 3, "BUS_OBJERR", "object-specific hardware error"},
    {SIGBUS, 4, "BUS_MCEERR_AR", "hardware memory error consumed on a machine check"},
    {SIGBUS, 5, "BUS_MCEERR_AO", "hardware memory error detected, action optional"},
    {SIGFPE, 1, "FPE_INTDIV", "integer divide by zero"},
    {SIGFPE, 2, "FPE_INTOVF", "integer overflow"},
    {SIGFPE, 3, "FPE_FLTDIV", "floating-point divide by zero"},
    {SIGFPE, 4, "FPE_FLTOVF", "floating-point overflow"},
    {SIGFPE, 5, "FPE_FLTUND", "floating-point underflow"},
    {SIGFPE, 6, "FPE_FLTRES", "floating-point inexact result"},
    {SIGFPE, 7, "FPE_FLTINV", "floating-point invalid operation"},
    {SIGFPE, 8, "FPE_FLTSUB", "subscript out of range"},
    {SIGFPE, 14, "FPE_FLTUNK", "undiagnosed floating-point exception"},
    {SIGFPE, 15, "FPE_CONDTRAP", "trap on condition"},
    {SIGILL, 1, "ILL_ILLOPC", "illegal opcode"},
    {SIGILL, 2, "ILL_ILLOPN", "illegal operand"},
    {SIGILL, 3, "ILL_ILLADR", "illegal addressing mode"},
    {SIGILL, 4, "ILL_ILLTRP", "illegal trap"},
    {SIGILL, 5, "ILL_PRVOPC", "privileged opcode"},
    {SIGILL, 6, "ILL_PRVREG", "privileged register"},
    {SIGILL, 7, "ILL_COPROC", "coprocessor error"},
    {SIGILL, 8, "ILL_BADSTK", "internal stack error"},
    {SIGILL, 9, "ILL_BADIADDR", "unimplemented instruction address"},
    {SIGSYS, 1, "SYS_SECCOMP", "a system call blocked by a seccomp filter"},
    {SIGTRAP, 1, "TRAP_BRKPT", "process breakpoint"},
    {SIGTRAP, 2, "TRAP_TRACE", "process trace trap"},
    {0, 0, "SI_USER", "sent by kill() or raise() from a process"},
    {0, 0x80, "SI_KERNEL", "sent by the kernel"},
    {0, -1, "SI_QUEUE", "sent by sigqueue()"},
    {0, -2, "SI_TIMER", "a POSIX timer expired"},
    {0, -3, "SI_MESGQ", "a POSIX message queue changed state"},
    {0, -4, "SI_ASYNCIO", "asynchronous I/O completed"},
    {0, -5, "SI_SIGIO", "queued SIGIO"},
    {0, -6, "SI_TKILL", "sent by tkill()/tgkill() (abort() and raise() send their signal this way)"},
    {0, -7, "SI_DETHREAD", "sent by execve() killing subsidiary threads"},
    {0, -60, "SI_ASYNCNL", "asynchronous name lookup completed"},
};

static const struct code *find_code(int signo, int code)
{
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        if (codes[i].signo == signo && codes[i].code == code)
            return &codes[i];
    if (code > 0 && code != 0x80)
        return NULL; /* signal-specific, and not one we know */
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        if (codes[i].signo == 0 && codes[i].code == code)
            return &codes[i];
    return NULL;
}

const char *crash_code_name(int signo, int code)
{
    const struct code *c = find_code(signo, code);
    return c ? c->name : NULL;
}

const char *crash_code_meaning(int signo, int code)
{
    const struct code *c = find_code(signo, code);
    return c ? c->meaning : NULL;
}

const char *crash_reg_name(unsigned idx)
{
    static const char *const names[GUARD_CRASH_NREGS] = {
        "r8",  "r9",  "r10", "r11", "r12", "r13",    "r14",    "r15", "rdi", "rsi",     "rbp", "rbx",
        "rdx", "rax", "rcx", "rsp", "rip", "eflags", "csgsfs", "err", "trapno", "oldmask", "cr2",
    };
    return idx < GUARD_CRASH_NREGS ? names[idx] : NULL;
}

const unsigned crash_reg_order[] = {13, 11, 14, 12, 9, 8, 10, 15, 0, 1, 2, 3, 4, 5, 6, 7,
                                    16, 17, 19, 20, 22, 18, 21};
const size_t crash_nreg_order = sizeof crash_reg_order / sizeof *crash_reg_order;

bool crash_fault_addr_meaningful(const struct lg_crash *c)
{
    return c->si_code > 0 && c->si_code != 0x80 &&
           (c->signo == SIGSEGV || c->signo == SIGBUS || c->signo == SIGILL || c->signo == SIGFPE);
}

/* x86 trap numbers and the page-fault error code, as far as they help. */
static void trap_text(FILE *f, const struct lg_crash *c)
{
    if (c->nregs <= 20)
        return;
    uint64_t trapno = c->regs[20], err = c->regs[19];
    if (trapno == 14 && c->signo == SIGSEGV)
        fprintf(f, "; page fault on %s (%s)",
                err & 16 ? "an instruction fetch" : err & 2 ? "a write" : "a read",
                err & 1 ? "the page is mapped but does not allow it" : "no page mapped there");
    else if (trapno == 13)
        fputs("; general-protection fault (trap 13)", f);
    else if (trapno == 0 && c->signo == SIGFPE)
        fputs("; divide error (trap 0)", f);
    else if (trapno == 6 && c->signo == SIGILL)
        fputs("; invalid opcode (trap 6)", f);
}

char *crash_signal_text(const struct lg_crash *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return xstrdup("?");
    const char *name = crash_signal_name(c->signo);
    fprintf(f, "%s (signal %d), si_code %d", name ? name : "signal", c->signo, c->si_code);
    const char *cn = crash_code_name(c->signo, c->si_code);
    const char *cm = crash_code_meaning(c->signo, c->si_code);
    if (cn)
        fprintf(f, " %s", cn);
    if (cm)
        fprintf(f, ": %s", cm);
    if (crash_fault_addr_meaningful(c))
        fprintf(f, "; fault address 0x%" PRIx64, c->fault_addr);
    trap_text(f, c);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return xstrdup("?");
    }
    return buf;
}

void crash_duration(char *buf, size_t n, uint64_t ns)
{
    if (ns < 1000)
        snprintf(buf, n, "%" PRIu64 " ns", ns);
    else if (ns < 1000000)
        snprintf(buf, n, "%.1f us", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, n, "%.2f ms", (double)ns / 1e6);
    else
        snprintf(buf, n, "%.2f s", (double)ns / 1e9);
}

/* ---- namespaces ------------------------------------------------------- */

char *crash_ns_change_text(const struct lg_event *ev)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return xstrdup("namespace change");
    const char *call = nstl_call_name(ev->args[0]);
    fprintf(f, "%s()", call ? call : "namespace call");
    const char *names[8];
    uint64_t rest;
    size_t n = nstl_flag_names(ev->args[1], names, 8, &rest);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%s", i ? "|" : " with ", names[i]);
    if ((int64_t)ev->args[2] != 0)
        fprintf(f, " failed (errno %" PRIu64 ")", ev->args[3]);
    struct guard_ns_change_payload p;
    if (nstl_change_payload(ev, &p)) {
        const char *sep = ": ";
        for (unsigned k = 0; k < 8; k++)
            if (p.before[k] != p.after[k]) {
                fprintf(f, "%s%s:[%" PRIu64 "] -> %s:[%" PRIu64 "]", sep, nstl_link_name(k),
                        p.before[k], nstl_link_name(k), p.after[k]);
                sep = ", ";
            }
    }
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return xstrdup("namespace change");
    }
    return buf;
}

/* ---- threads ---------------------------------------------------------- */

static struct fnd_event *sym_events(struct fnd_db *db, const struct lg_log *log,
                                    const struct lg_thread_events *te, struct symbolizer *sym)
{
    struct fnd_event *v = xcalloc(te->n ? te->n : 1, sizeof *v);
    for (size_t i = 0; i < te->n; i++) {
        v[i].ev = &te->ev[i];
        v[i].sym = fnd_stack(db, log, te->ev[i].stack_id, sym);
    }
    return v;
}

/* The threads whose events were kept, by tid: a crash may have a million
 * threads, and each is looked up once (no linear search per thread). */
struct tev_index {
    uint32_t *tids;  /* sorted, distinct */
    size_t *at;      /* at[i]: the first index into c->tev with tids[i] */
    size_t n;
};

static int cmp_tev_tid(const void *a, const void *b, void *arg)
{
    const struct lg_crash *c = arg;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    uint32_t tx = c->tev[x].tid, ty = c->tev[y].tid;
    if (tx != ty)
        return tx < ty ? -1 : 1;
    return x < y ? -1 : x > y; /* the first of a tid wins, as before */
}

static void tev_index_build(struct tev_index *ix, const struct lg_crash *c)
{
    size_t *order = xcalloc(c->ntev ? c->ntev : 1, sizeof *order);
    for (size_t i = 0; i < c->ntev; i++)
        order[i] = i;
    if (c->ntev > 1)
        qsort_r(order, c->ntev, sizeof *order, cmp_tev_tid, (void *)c);
    ix->tids = xcalloc(c->ntev ? c->ntev : 1, sizeof *ix->tids);
    ix->at = order; /* compacted in place: at[n] <= i always */
    ix->n = 0;
    for (size_t i = 0; i < c->ntev; i++) {
        uint32_t tid = c->tev[order[i]].tid;
        if (ix->n && ix->tids[ix->n - 1] == tid)
            continue;
        ix->tids[ix->n] = tid;
        ix->at[ix->n++] = order[i];
    }
}

static const struct lg_thread_events *tev_find(const struct tev_index *ix,
                                               const struct lg_crash *c, uint32_t tid)
{
    ptrdiff_t k = tid_find(ix->tids, ix->n, tid);
    return k < 0 ? NULL : &c->tev[ix->at[k]];
}

static void add_thread(struct fnd_crash *fc, struct fnd_db *db, struct symbolizer *sym,
                       const struct tev_index *ix, uint32_t tid, bool crashed, bool have_stack,
                       uint32_t stack_id)
{
    struct fnd_thread *t = &fc->threads[fc->nthreads++];
    memset(t, 0, sizeof *t);
    t->tid = tid;
    t->crashed = crashed;
    t->have_stack = have_stack;
    t->stack_id = stack_id;
    t->missing = have_stack && stack_id && !lg_find_stack(fc->log, stack_id);
    t->sym = fnd_stack(db, fc->log, stack_id, sym);
    t->te = tev_find(ix, fc->c, tid);
    if (t->te) {
        t->events = sym_events(db, fc->log, t->te, sym);
        t->nevents = t->te->n;
    }
}

static void build_threads(struct fnd_crash *fc, struct fnd_db *db, struct symbolizer *sym)
{
    const struct lg_crash *c = fc->c;
    size_t max = 1 + c->nthreads + c->ntev;
    fc->threads = xcalloc(max, sizeof *fc->threads);
    struct tev_index ix;
    tev_index_build(&ix, c);
    /* the threads listed so far (the crashing one and those that answered),
     * as a sorted set */
    uint32_t *listed = xcalloc(1 + c->nthreads, sizeof *listed);
    size_t nlisted = 0;
    add_thread(fc, db, sym, &ix, c->tid, true, c->stack_id != 0, c->stack_id);
    listed[nlisted++] = c->tid;
    for (size_t i = 0; i < c->nthreads; i++)
        if (c->threads[i].tid != c->tid) {
            add_thread(fc, db, sym, &ix, c->threads[i].tid, false, true, c->threads[i].stack_id);
            listed[nlisted++] = c->threads[i].tid;
            fc->threads_answered++;
        }
    tid_sort(listed, nlisted);
    /* threads whose events were kept but which had no stack at the crash */
    for (size_t i = 0; i < c->ntev; i++)
        if (tid_find(listed, nlisted, c->tev[i].tid) < 0)
            add_thread(fc, db, sym, &ix, c->tev[i].tid, false, false, 0);
    free(listed);
    free(ix.tids);
    free(ix.at);
}

static int cmp_event_time(const void *a, const void *b)
{
    const struct fnd_event *x = a, *y = b;
    if (x->ev->time_ns != y->ev->time_ns)
        return x->ev->time_ns < y->ev->time_ns ? -1 : 1;
    return x->ev->tid < y->ev->tid ? -1 : x->ev->tid > y->ev->tid;
}

/* f->events: all kept events of all threads, oldest first. */
static void merge_events(struct fnd *f, const struct fnd_crash *fc)
{
    size_t n = 0;
    for (size_t i = 0; i < fc->nthreads; i++)
        n += fc->threads[i].nevents;
    if (!n)
        return;
    f->events = xcalloc(n, sizeof *f->events);
    for (size_t i = 0; i < fc->nthreads; i++)
        for (size_t j = 0; j < fc->threads[i].nevents; j++)
            f->events[f->nevents++] = fc->threads[i].events[j];
    qsort(f->events, f->nevents, sizeof *f->events, cmp_event_time);
}

/* ---- links ------------------------------------------------------------ */

static struct crash_link *new_link(struct fnd_crash *fc, size_t *cap, enum crash_link_kind kind)
{
    VEC_GROW(fc->links, fc->nlinks, *cap);
    struct crash_link *l = &fc->links[fc->nlinks++];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    return l;
}

static uint64_t before(const struct lg_crash *c, uint64_t t)
{
    return t && t <= c->time_ns ? c->time_ns - t : 0;
}

static const char *where_name(int reg, char *buf, size_t n)
{
    if (reg == LG_WHERE_FAULT)
        return "the fault address";
    const char *r = crash_reg_name((unsigned)reg);
    snprintf(buf, n, "%s", r ? r : "register");
    return buf;
}

/* "object 0x.. (256 bytes) of pool 0x.., put back by thread T1 1.2 ms
 * before the crash [(poisoned)], still in the pool" */
static void object_words(FILE *f, const struct lg_crash *c, const struct lg_crash_obj *o)
{
    char d[32];
    fprintf(f, "object 0x%" PRIx64 " (%" PRIu64 " bytes) of pool 0x%" PRIx64, o->obj, o->size,
            o->pool);
    crash_duration(d, sizeof d, before(c, o->put.time_ns));
    fprintf(f, ", put back by thread T%u %s before the crash", o->put.tid, d);
    if (o->nputs > 1)
        fprintf(f, " (put back %u times in all)", o->nputs);
    if (o->in_pool) {
        fputs(", still in the pool", f);
        if (o->put_flags & GUARD_PUT_POISONED)
            fputs(" (poisoned)", f);
    } else if (o->get.valid) {
        crash_duration(d, sizeof d, before(c, o->get.time_ns));
        fprintf(f, ", taken again by thread T%u %s before the crash", o->get.tid, d);
    }
}

/* Close a memstream; its text (the buffer fclose filled in), or "?". */
static char *memstream_done(FILE *f, char **buf)
{
    if (fclose(f) != 0 || !*buf) {
        free(*buf);
        return xstrdup("?");
    }
    return *buf;
}

static void object_links(struct fnd_crash *fc, size_t *cap)
{
    const struct lg_crash *c = fc->c;
    for (size_t i = 0; i < fc->nobjs; i++) {
        const struct lg_crash_obj *o = fc->objs[i].o;
        if (o->reg == LG_WHERE_RECENT)
            continue;
        struct crash_link *l = new_link(fc, cap, CL_OBJECT);
        l->reg = o->reg;
        l->value = o->value;
        l->objs = &fc->objs[i];
        l->nobjs = 1;
        l->before_ns = before(c, o->put.time_ns);
        char *buf = NULL, rn[16];
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
            continue;
        fprintf(f, "%s 0x%" PRIx64, where_name(o->reg, rn, sizeof rn), o->value);
        const char *sep = " (also in ";
        for (unsigned r = 0; r < GUARD_CRASH_NREGS; r++)
            if (o->also_regs & (1u << r)) {
                fprintf(f, "%s%s", sep, crash_reg_name(r));
                sep = ", ";
            }
        if (o->also_regs)
            fputc(')', f);
        fprintf(f, " is inside (offset %" PRIu64 ") ", o->value - o->obj);
        object_words(f, c, o);
        if (o->in_pool)
            fputs(": an access through it is a use after return", f);
        else
            fputs(" (the pointer may be an old one, or its new user's)", f);
        l->text = memstream_done(f, &buf);
    }
}

/* One link for all the poisoned registers: they tell one story. */
static void poison_links(struct fnd_crash *fc, size_t *cap)
{
    const struct lg_crash *c = fc->c;
    if (!c->npoison)
        return;
    size_t first_recent = fc->nobjs, nrecent = 0;
    for (size_t i = 0; i < fc->nobjs; i++)
        if (fc->objs[i].o->reg == LG_WHERE_RECENT) {
            if (first_recent == fc->nobjs)
                first_recent = i;
            nrecent++;
        }
    /* the register named first: the exact poison if any holds it */
    size_t lead = 0;
    for (size_t p = 0; p < c->npoison; p++)
        if (c->poison[p].value == POISON64) {
            lead = p;
            break;
        }
    struct crash_link *l = new_link(fc, cap, CL_POISON);
    l->reg = c->poison[lead].reg;
    l->value = c->poison[lead].value;
    l->objs = nrecent ? &fc->objs[first_recent] : NULL;
    l->nobjs = nrecent;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    const char *rn = crash_reg_name((unsigned)l->reg);
    fprintf(f, "%s = 0x%" PRIx64, rn ? rn : "a register", l->value);
    for (size_t p = 0; p < c->npoison; p++)
        if (p != lead)
            fprintf(f, " (and %s = 0x%" PRIx64 ")", crash_reg_name((unsigned)c->poison[p].reg),
                    c->poison[p].value);
    fputs(" is ", f);
    if (l->value == POISON64)
        fputs("libguard's poison (0xa5 in every byte of an object put back): a pointer "
              "read from an object after it was returned to its pool", f);
    else if ((l->value >> 16) == (POISON64 >> 16))
        fprintf(f, "libguard's poison %s 0x%" PRIx64 ": a pointer read from an object after "
                "it was returned to its pool, plus an offset",
                l->value >= POISON64 ? "+" : "-",
                l->value >= POISON64 ? l->value - POISON64 : POISON64 - l->value);
    else
        fputs("4 bytes of libguard's poison: a value read from an object after it was "
              "returned to its pool", f);
    if (c->signo == SIGSEGV && c->si_code == 0x80 && (l->value >> 48) == 0xa5a5)
        fputs(" (not a canonical address: hence the general-protection fault)", f);
    if (nrecent)
        fprintf(f, "; the most recently returned %s:",
                nrecent == 1 ? "object still in its pool is" : "objects still in their pools are");
    else
        fputs("; no object was in its pool at the crash", f);
    for (size_t k = 0; k < nrecent; k++) {
        fputs(k ? "; " : " ", f);
        object_words(f, c, l->objs[k].o);
    }
    l->text = memstream_done(f, &buf);
}

static void namespace_links(struct fnd_crash *fc, struct fnd_db *db, struct symbolizer *sym,
                            size_t *cap)
{
    const struct lg_crash *c = fc->c;
    if (!c->nns)
        return;
    const struct lg_event *ev = &c->ns_changes[c->nns - 1]; /* the latest */
    struct crash_link *l = new_link(fc, cap, CL_NAMESPACE);
    l->ev = ev;
    l->stack = fnd_stack(db, fc->log, ev->stack_id, sym);
    l->before_ns = before(c, ev->time_ns);
    char d[32];
    crash_duration(d, sizeof d, l->before_ns);
    char *what = crash_ns_change_text(ev);
    if (c->ns_total > 1)
        l->text = xasprintf("the crashing thread T%u changed its namespaces %zu times; the latest, "
                            "%s before the crash: %s", c->tid, c->ns_total, d, what);
    else
        l->text = xasprintf("the crashing thread T%u changed its namespaces %s before the crash: "
                            "%s", c->tid, d, what);
    free(what);
}

static void child_links(struct fnd_crash *fc, struct fnd_db *db, size_t *cap)
{
    const struct lg_crash *c = fc->c;
    const struct pt_node *n = pt_node_of_log(&db->tree, fc->log);
    for (size_t i = 0; n && i < n->nspawns; i++) {
        const struct pt_spawn *s = n->spawns[i];
        uint64_t t = s->ev->time_ns;
        if (s->log != fc->log || t > c->time_ns || c->time_ns - t > CRASH_CHILD_WINDOW_NS ||
            (s->flags & GUARD_SPAWN_FAILED) || s->reap_implicit ||
            (s->reap && s->reap->time_ns <= c->time_ns))
            continue;
        struct crash_link *l = new_link(fc, cap, CL_CHILD);
        l->ev = s->ev;
        l->spawn = s;
        l->stack = s->stack;
        l->before_ns = c->time_ns - t;
        char d[32];
        crash_duration(d, sizeof d, l->before_ns);
        const char *kind = pt_spawn_kind_name(s->kind);
        const char *command = s->pid ? NULL : pt_spawn_command(s);
        /* a popen or system child is named by its command, its pid unknown */
        char *who = command ? xasprintf("\"%s\"", command) : NULL;
        if (!who) {
            char *cmd = s->child ? pt_node_cmdline(s->child, 60)
                                 : xstrdup(s->program ? s->program : "?");
            who = s->pid ? xasprintf("%u (%s)", s->pid, cmd) : xasprintf("(pid unknown) (%s)", cmd);
            free(cmd);
        }
        l->text = xasprintf("child %s was started with %s() by thread T%u %s before the "
                            "crash and had not been reaped%s", who, kind ? kind : "?",
                            s->ev->tid, d,
                            s->kill ? " (it had been sent a signal with kill())" : "");
        free(who);
    }
}

static void finding_links(struct fnd_crash *fc, struct fnd_db *db, const struct fnd *self,
                          size_t *cap)
{
    const struct lg_crash *c = fc->c;
    const struct pt_node *n = pt_node_of_log(&db->tree, fc->log);
    size_t shown = 0, more = 0;
    for (size_t li = 0; n && li < n->nlogs; li++) {
        const struct lg_log *log = n->logs[li];
        for (size_t i = 0; i < log->nfindings; i++) {
            const struct lg_finding *rec = &log->findings[i];
            if (rec->kind == GUARD_FK_CRASH || rec->time_ns > c->time_ns || !rec->owner ||
                rec->owner == self)
                continue;
            if (shown == CRASH_MAX_FINDING_LINKS) {
                more++;
                continue;
            }
            shown++;
            struct crash_link *l = new_link(fc, cap, CL_FINDING);
            l->finding = rec->owner;
            l->rec = rec;
            l->before_ns = before(c, rec->time_ns);
            char d[32];
            crash_duration(d, sizeof d, l->before_ns);
            char times[32] = "";
            if (rec->count > 1)
                snprintf(times, sizeof times, " (%zu times)", rec->count);
            l->text = xasprintf("earlier finding in this process: %s%s, %s before the crash: %s",
                                rec->owner->kind_name, times, d, rec->summary);
        }
    }
    if (more) {
        struct crash_link *l = new_link(fc, cap, CL_FINDING);
        l->text = xasprintf("... and %zu more earlier findings in this process", more);
    }
}

void crash_build(struct fnd_db *db, struct fnd *f, struct symbolizer *sym)
{
    const struct lg_crash *c = f->log->crash;
    if (!c)
        return;
    struct fnd_crash *fc = xcalloc(1, sizeof *fc);
    fc->c = c;
    fc->log = f->log;
    f->crash = fc;
    build_threads(fc, db, sym);
    merge_events(f, fc);
    fc->objs = xcalloc(c->nobjs ? c->nobjs : 1, sizeof *fc->objs);
    fc->nobjs = c->nobjs;
    for (size_t i = 0; i < c->nobjs; i++) {
        fc->objs[i].o = &c->objs[i];
        fc->objs[i].put = fnd_stack(db, f->log, c->objs[i].put.stack_id, sym);
        fc->objs[i].get = fnd_stack(db, f->log, c->objs[i].get.valid ? c->objs[i].get.stack_id : 0,
                                    sym);
    }
    size_t cap = 0;
    object_links(fc, &cap);
    poison_links(fc, &cap);
    namespace_links(fc, db, sym, &cap);
    child_links(fc, db, &cap);
    finding_links(fc, db, f, &cap);
}

void crash_free(struct fnd_crash *fc)
{
    if (!fc)
        return;
    for (size_t i = 0; i < fc->nthreads; i++)
        free(fc->threads[i].events);
    free(fc->threads);
    free(fc->objs);
    for (size_t i = 0; i < fc->nlinks; i++)
        free(fc->links[i].text);
    free(fc->links);
    free(fc);
}
