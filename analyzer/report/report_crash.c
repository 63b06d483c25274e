/*
 * report_crash.c — the crash part of a crash finding in the text report:
 *
 *   signal: SIGSEGV (signal 11), si_code 1 SEGV_MAPERR: ...
 *   registers of thread T (crashed):
 *     rax 0x0000000000000000  rbx 0x...  rcx 0x...  rdx 0x...
 *   thread T (crashed):
 *       #0 ...
 *   thread U:
 *       #0 ...
 *   last events before the crash, per thread (at most N each, oldest first):
 *     thread T (crashed): ...
 *   What libguard knows about this crash:
 *     - ...
 *
 * Like GOTRACEBACK=crash: every thread, the crashing one first.  Strings
 * from logs go through fput_escaped().
 */
#define _GNU_SOURCE
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "crash.h"

static void print_registers(FILE *out, const struct lg_crash *c)
{
    if (!c->nregs)
        return;
    fprintf(out, "  registers of thread %u:\n", c->tid);
    unsigned col = 0;
    for (size_t i = 0; i < crash_nreg_order; i++) {
        unsigned idx = crash_reg_order[i];
        if (idx >= c->nregs)
            continue;
        if (col == 0)
            fputs("   ", out);
        fprintf(out, " %-6s 0x%016" PRIx64, crash_reg_name(idx), c->regs[idx]);
        if (++col == 4) {
            fputc('\n', out);
            col = 0;
        }
    }
    if (col)
        fputc('\n', out);
}

static void thread_title(FILE *out, const struct fnd_thread *t)
{
    fprintf(out, "thread %u", t->tid);
    if (t->crashed)
        fputs(" (crashed)", out);
}

static void print_threads(FILE *out, const struct fnd_crash *fc)
{
    for (size_t i = 0; i < fc->nthreads; i++) {
        const struct fnd_thread *t = &fc->threads[i];
        if (!t->have_stack && !t->crashed)
            continue; /* listed with its events below */
        thread_title(out, t);
        fputs(":\n", out);
        if (t->missing)
            fprintf(out, "    (stack %u is not in the log)\n", t->stack_id);
        else if (!t->sym->n)
            fputs("    (no frames)\n", out);
        report_text_frames(out, t->sym, "", SIZE_MAX);
    }
    const struct lg_crash *c = fc->c;
    if (c->have_record && c->threads_signalled > fc->threads_answered)
        fprintf(out, "(%u other thread(s) were asked for their stacks, %zu answered)\n",
                c->threads_signalled, fc->threads_answered);
}

static void print_thread_events(FILE *out, const struct fnd_crash *fc)
{
    size_t with = 0;
    for (size_t i = 0; i < fc->nthreads; i++)
        with += fc->threads[i].nevents > 0;
    if (!with)
        return;
    fprintf(out, "last events before the crash, per thread (at most %u each, oldest first):\n",
            fc->c->events_per_thread);
    for (size_t i = 0; i < fc->nthreads; i++) {
        const struct fnd_thread *t = &fc->threads[i];
        if (!t->nevents)
            continue;
        fputs("  ", out);
        thread_title(out, t);
        if (!t->have_stack && !t->crashed)
            fputs(" (no stack at the crash: it had exited, or did not answer)", out);
        if (t->te && t->te->total > t->nevents)
            fprintf(out, ", the last %zu of its %zu events", t->nevents, t->te->total);
        fputs(":\n", out);
        for (size_t k = 0; k < t->nevents; k++) {
            const struct lg_event *ev = t->events[k].ev;
            fputs("    ", out);
            report_text_time(out, fc->log, ev->time_ns);
            fputc(' ', out);
            report_text_event(out, ev);
            fputc('\n', out);
            /* the innermost frames say where; the whole stack is in the JSON */
            report_text_frames(out, t->events[k].sym, "    ", 2);
        }
    }
    size_t hidden = fc->c->threads_with_events - with;
    if (fc->c->threads_with_events > with && hidden)
        fprintf(out, "  (%zu more threads had events; only the threads with a stack at the crash "
                "and the %u most recently active others are kept)\n", hidden,
                LG_CRASH_EXTRA_THREADS);
}

static void print_object_stacks(FILE *out, const struct crash_obj_view *v)
{
    const struct lg_crash_obj *o = v->o;
    fprintf(out, "      object 0x%" PRIx64 " put back by thread %u:\n", o->obj, o->put.tid);
    if (v->put->n)
        report_text_frames(out, v->put, "    ", 4);
    else
        fputs("          (no stack)\n", out);
    if (o->get.valid && !o->in_pool) {
        fprintf(out, "      taken again by thread %u:\n", o->get.tid);
        report_text_frames(out, v->get, "    ", 4);
    }
}

static void print_links(FILE *out, const struct fnd_crash *fc)
{
    fputs("What libguard knows about this crash:\n", out);
    if (!fc->nlinks) {
        fputs("  nothing ties it to a returned pool object, poison, a namespace change, a "
              "recent child or an earlier finding of this process\n", out);
        return;
    }
    for (size_t i = 0; i < fc->nlinks; i++) {
        const struct crash_link *l = &fc->links[i];
        fputs("  - ", out);
        fput_escaped(out, l->text);
        if (l->finding && l->finding->suppressed)
            fputs(" [suppressed]", out);
        fputc('\n', out);
        switch (l->kind) {
        case CL_OBJECT:
        case CL_POISON:
            for (size_t k = 0; k < l->nobjs; k++)
                print_object_stacks(out, &l->objs[k]);
            break;
        case CL_NAMESPACE:
        case CL_CHILD:
            if (l->stack && l->stack->n) {
                fprintf(out, "      %s by thread %u:\n",
                        l->kind == CL_CHILD ? "spawn" : "namespace change", l->ev->tid);
                report_text_frames(out, l->stack, "    ", 4);
            }
            break;
        case CL_FINDING:
            break;
        }
    }
}

void report_crash_text(FILE *out, const struct report *r, const struct fnd *f)
{
    (void)r;
    const struct fnd_crash *fc = f->crash;
    const struct lg_crash *c = fc->c;
    if (c->have_record) {
        char *sig = crash_signal_text(c);
        fputs("  signal: ", out);
        fput_escaped(out, sig);
        fputc('\n', out);
        free(sig);
    }
    print_registers(out, c);
    print_threads(out, fc);
    print_thread_events(out, fc);
    print_links(out, fc);
}
