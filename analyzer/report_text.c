/*
 * report_text.c — the report for people, in the shape ASan users know:
 *
 *   ==PID== ERROR: libguard: KIND on object ADDR ... (count N)
 *     summary
 *   access (write) by thread T:
 *       #0 0xPC in FUNCTION FILE:LINE (MODULE)
 *   ...
 *   SUMMARY: libguard: N findings (K kinds) in P processes
 *
 * Every string that came from a log goes through fput_escaped(): a log is
 * untrusted and must not be able to send escape sequences to a terminal.
 */
#define _GNU_SOURCE
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void print_frame(FILE *out, size_t idx, const struct sym_frame *fr)
{
    fprintf(out, "    #%zu 0x%" PRIx64, idx, fr->pc);
    if (fr->function) {
        fputs(" in ", out);
        fput_escaped(out, fr->function);
    }
    if (fr->function && fr->file) {
        fputc(' ', out);
        fput_escaped(out, fr->file);
        if (fr->line)
            fprintf(out, ":%u", fr->line);
        fputs(" (", out);
        fput_escaped(out, fr->module);
        fputs(")\n", out);
        return;
    }
    /* Without a source location the offset in the module is what lets a
     * reader find the code (addr2line -e MODULE OFFSET). */
    fputs(" (", out);
    fput_escaped(out, fr->module);
    if (fr->have_module)
        fprintf(out, "+0x%" PRIx64, fr->module_offset);
    fputs(")\n", out);
}

static void print_frames(FILE *out, const struct sym_stack *s, const char *indent)
{
    for (size_t i = 0; i < s->n; i++) {
        fputs(indent, out);
        print_frame(out, i, &s->frames[i]);
    }
}

static void print_stack(FILE *out, const struct fnd *f, const struct fnd_stack *s)
{
    fputs(s->role, out);
    const char *acc = fnd_access_name(f->rec->access);
    if (s->role_id == GUARD_ROLE_ACCESS && acc)
        fprintf(out, " (%s)", acc);
    if (s->tid)
        fprintf(out, " by thread %u", s->tid);
    fputs(":\n", out);
    if (s->missing && s->stack_id)
        fprintf(out, "    (stack %u is not in the log)\n", s->stack_id);
    else if (s->sym->n == 0)
        fputs("    (no frames)\n", out);
    print_frames(out, s->sym, "");
}

static void print_heading(FILE *out, const struct fnd *f)
{
    const struct lg_finding *rec = f->rec;
    fprintf(out, "==%u== ERROR: libguard: %s", f->log->hdr.pid, f->kind_name);
    if (rec->obj || rec->pool) {
        fprintf(out, " on object 0x%" PRIx64, rec->obj);
        if (rec->size)
            fprintf(out, " of %" PRIu64 " %s", rec->size, plural(rec->size, "byte", "bytes"));
        if (rec->pool)
            fprintf(out, " from pool 0x%" PRIx64, rec->pool);
    }
    fprintf(out, " (count %zu", f->count);
    if (f->npids > 1)
        fprintf(out, ", %zu processes", f->npids);
    if (f->nruns > 1)
        fprintf(out, ", %zu runs", f->nruns);
    fputs(")\n", out);
}

/* One line of what the record says beyond its stacks. */
static void print_details(FILE *out, const struct fnd *f)
{
    const struct lg_finding *rec = f->rec;
    fprintf(out, "  thread %u", rec->tid);
    if (rec->call) {
        fputs(", in ", out);
        fput_escaped(out, rec->call);
        fputs("()", out);
    }
    const char *acc = fnd_access_name(rec->access);
    if (acc) {
        fprintf(out, ", %s", acc);
        if (rec->bytes)
            fprintf(out, " of %u %s", rec->bytes, plural(rec->bytes, "byte", "bytes"));
    } else if (rec->bytes) {
        fprintf(out, ", %u %s", rec->bytes, plural(rec->bytes, "byte", "bytes"));
    }
    if (rec->addr) {
        fprintf(out, " at 0x%" PRIx64, rec->addr);
        if (rec->obj)
            fprintf(out, " (offset %" PRId64 " in the object)", rec->offset);
    }
    if (rec->other_tid)
        fprintf(out, ", other thread %u", rec->other_tid);
    fputc('\n', out);
    if (rec->flags) {
        fputs("  flags:", out);
        const char *sep = " ";
        for (unsigned b = 0; b < 16; b++)
            if (rec->flags & (1u << b)) {
                fprintf(out, "%s%s", sep, fnd_flag_name(b));
                sep = ", ";
            }
        fputc('\n', out);
    }
}

static void print_events(FILE *out, const struct fnd *f)
{
    if (!f->nevents)
        return;
    uint64_t t0 = f->log->hdr.start_monotonic_ns;
    fputs("last events before it (oldest first):\n", out);
    for (size_t i = 0; i < f->nevents; i++) {
        const struct lg_event *ev = f->events[i].ev;
        const char *name = lg_event_kind_name(ev->kind);
        if (ev->time_ns >= t0) {
            uint64_t d = ev->time_ns - t0;
            fprintf(out, "  +%" PRIu64 ".%06" PRIu64 "s", d / 1000000000u, d % 1000000000u / 1000u);
        } else {
            fputs("  +?", out);
        }
        fprintf(out, " thread %u ", ev->tid);
        if (name)
            fputs(name, out);
        else
            fprintf(out, "event-%u", ev->kind);
        fprintf(out, " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64, ev->args[0],
                ev->args[1], ev->args[2], ev->args[3]);
        if (ev->payload) {
            fputs(" \"", out);
            fput_escaped(out, ev->payload);
            fputc('"', out);
        }
        fputc('\n', out);
        /* the innermost frames say where; the whole stack is in the JSON */
        const struct sym_stack *s = f->events[i].sym;
        struct sym_stack top = {s->frames, s->n < 2 ? s->n : 2};
        print_frames(out, &top, "  ");
    }
}

static void print_finding(FILE *out, const struct fnd *f)
{
    print_heading(out, f);
    if (f->rec->summary[0]) {
        fputs("  ", out);
        fput_escaped(out, f->rec->summary);
        fputc('\n', out);
    }
    print_details(out, f);
    for (size_t i = 0; i < f->nstacks; i++)
        print_stack(out, f, &f->stacks[i]);
    print_events(out, f);
    fputc('\n', out);
}

static void print_notes(FILE *out, const struct notes *notes)
{
    if (!notes->n)
        return;
    fputs("Notes:\n", out);
    for (size_t i = 0; i < notes->n; i++) {
        char *line = note_format(&notes->v[i]);
        fputs("  ", out);
        fput_escaped(out, line);
        fputc('\n', out);
        free(line);
    }
    fputc('\n', out);
}

static void print_processes(FILE *out, const struct report *r)
{
    fputs("Processes:\n", out);
    for (size_t i = 0; i < r->nlogs; i++) {
        const struct lg_log *log = r->logs[i];
        fprintf(out, "  pid %u (parent %u): ", log->hdr.pid, log->hdr.ppid);
        fput_escaped(out, log->exe ? log->exe : "?");
        for (size_t a = 1; a < log->argc; a++) {
            fputc(' ', out);
            fput_escaped(out, log->argv[a]);
        }
        if (log->ended && log->exit_status == INT32_MIN)
            fputs(" — exited", out);
        else if (log->ended)
            fprintf(out, " — exited, status %d", log->exit_status);
        else
            fputs(" — no END record", out);
        fputs(" [", out);
        fput_escaped(out, log->path);
        fputs("]\n", out);
    }
    fputc('\n', out);
}

int report_text(FILE *out, const struct report *r)
{
    const struct fnd_db *db = r->db;
    for (size_t i = 0; i < db->n; i++)
        print_finding(out, db->sorted[i]);
    if (r->verbose)
        print_processes(out, r);
    print_notes(out, r->notes);
    if (db->n)
        fprintf(out, "SUMMARY: libguard: %zu %s (%zu %s) in %zu %s\n", db->n,
                plural(db->n, "finding", "findings"), db->nkinds, plural(db->nkinds, "kind", "kinds"),
                r->nlogs, plural(r->nlogs, "process", "processes"));
    else
        fprintf(out, "libguard: no findings in %zu %s\n", r->nlogs,
                plural(r->nlogs, "process", "processes"));
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
