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

#include "crash.h"

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

void report_text_frames(FILE *out, const struct sym_stack *s, const char *indent, size_t max)
{
    for (size_t i = 0; i < s->n && i < max; i++) {
        fputs(indent, out);
        print_frame(out, i, &s->frames[i]);
    }
}

static void print_frames(FILE *out, const struct sym_stack *s, const char *indent)
{
    report_text_frames(out, s, indent, SIZE_MAX);
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
    if (f->kind == GUARD_FK_VDSO_LOW_STACK && rec->obj) { /* the stack the call ran on */
        fprintf(out, " on the stack at 0x%" PRIx64, rec->obj);
        if (rec->size)
            fprintf(out, " of %" PRIu64 " %s", rec->size, plural(rec->size, "byte", "bytes"));
    } else if (rec->obj || rec->pool) {
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
    fprintf(out, "  fingerprint %s\n", f->fingerprint);
}

static bool is_child_kind(unsigned kind)
{
    return kind == GUARD_FK_UNREAPED_CHILD || kind == GUARD_FK_PUT_WHILE_CHILD_RUNNING;
}

/* ", child 123 (sleep 30)": other_tid of the child kinds is a pid.  A
 * popen or system child, whose pid its SPAWN does not give, is named by
 * its command: ', child "gzip -c > out" (pid 124)'. */
static void print_child(FILE *out, const struct report *r, const struct fnd *f)
{
    const struct lg_finding *rec = f->rec;
    const struct pt_node *c = pt_finding_child(&r->db->tree, f->log, rec);
    const char *command = !rec->other_tid && c && c->spawn ? pt_spawn_command(c->spawn) : NULL;
    if (command) {
        fputs(", child \"", out);
        fput_escaped(out, command);
        fputc('"', out);
        if (c->pid)
            fprintf(out, " (pid %u%s)", c->pid, c->nlogs ? "" : ", no log");
        else if (!c->nlogs)
            fputs(" (no log)", out);
        return;
    }
    if (rec->other_tid)
        fprintf(out, ", child %u", rec->other_tid);
    else
        fputs(", child (pid unknown)", out);
    if (!c)
        return;
    char *cmd = pt_node_cmdline(c, 60);
    fputs(" (", out);
    fput_escaped(out, cmd);
    if (!c->nlogs)
        fputs(", no log", out);
    fputc(')', out);
    free(cmd);
}

/* One line of what the record says beyond its stacks. */
static void print_details(FILE *out, const struct report *r, const struct fnd *f)
{
    const struct lg_finding *rec = f->rec;
    bool child = is_child_kind(f->kind);
    if (f->crash) /* the crash part says it all (report_crash.c) */
        return;
    fprintf(out, "  thread %u", rec->tid);
    if (rec->call) {
        /* unreaped-child names the call that started the child */
        fputs(child ? ", started with " : ", in ", out);
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
        if (rec->obj && f->kind != GUARD_FK_VDSO_LOW_STACK)
            fprintf(out, " (offset %" PRId64 " in the object)", rec->offset);
    }
    if (child)
        print_child(out, r, f);
    else if (rec->other_tid && rec->other_tid != rec->tid)
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

/* An event in words: "reap waitpid pid 12: exited 0". */
void report_text_event(FILE *out, const struct lg_event *ev)
{
    const char *name = lg_event_kind_name(ev->kind);
    char st[96];
    if (name)
        fputs(name, out);
    else
        fprintf(out, "event-%u", ev->kind);
    switch (ev->kind) {
    case GUARD_EV_POOL_PUT:
    case GUARD_EV_POOL_GET:
        fprintf(out, " object 0x%" PRIx64, ev->args[1]);
        if (ev->unresolved) {
            fputs(" (pool and size unknown)", out);
        } else {
            fprintf(out, " of %" PRIu64 " bytes, pool 0x%" PRIx64, ev->args[2], ev->args[0]);
            if (ev->kind == GUARD_EV_POOL_PUT && ev->args[3])
                fprintf(out, ", flags 0x%" PRIx64, ev->args[3]);
        }
        if (ev->short_form)
            fputs(" [short record]", out);
        return;
    case GUARD_EV_SPAWN: {
        const char *kind = pt_spawn_kind_name((unsigned)ev->args[1]);
        fprintf(out, " %s pid %" PRId64, kind ? kind : "?", (int64_t)ev->args[0]);
        if (ev->args[2] & GUARD_SPAWN_FAILED)
            fputs(" (failed)", out);
        break;
    }
    case GUARD_EV_REAP: {
        const char *call = pt_reap_call_name((unsigned)ev->args[2]);
        int wst;
        fprintf(out, " %s pid %" PRIu64 ": %s", call ? call : "?", ev->args[0],
                pt_reap_status(ev, &wst) ? pt_wait_status_text(wst, st, sizeof st)
                                         : "status unknown");
        return;
    }
    case GUARD_EV_EXEC:
        break;
    case GUARD_EV_CHILD_EXEC:
        fprintf(out, " pid %" PRIu64 " exec'd (told by the child)", ev->args[0]);
        break;
    case GUARD_EV_EXEC_FAILED:
        fprintf(out, " errno %" PRIu64, ev->args[0]);
        return;
    case GUARD_EV_KILL:
        fprintf(out, " pid %" PRIu64 " signal %" PRIu64, ev->args[0], ev->args[1]);
        return;
    case GUARD_EV_SIGCHLD:
        fputs(ev->args[0] ? " children auto-reaped" : " children not auto-reaped", out);
        return;
    case GUARD_EV_THREAD_START:
        fprintf(out, " created by thread %" PRIu64, ev->args[0]);
        return;
    case GUARD_EV_NS_CHANGE: {
        char *t = crash_ns_change_text(ev);
        fputc(' ', out);
        fput_escaped(out, t);
        free(t);
        return;
    }
    default:
        fprintf(out, " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64, ev->args[0],
                ev->args[1], ev->args[2], ev->args[3]);
        break;
    }
    if (ev->payload) {
        char *text = lg_payload_text(ev);
        fputs(" \"", out);
        fput_escaped(out, text);
        fputc('"', out);
        free(text);
    }
}

void report_text_time(FILE *out, const struct lg_log *log, uint64_t t)
{
    uint64_t t0 = log->hdr.start_monotonic_ns;
    if (t >= t0) {
        uint64_t d = t - t0;
        fprintf(out, "+%" PRIu64 ".%06" PRIu64 "s", d / 1000000000u, d % 1000000000u / 1000u);
    } else {
        fputs("+?", out); /* a coarse time may be a tick before the log's start */
    }
}

void report_text_finding(FILE *out, const struct report *r, const struct fnd *f)
{
    print_heading(out, f);
    if (f->rec->summary[0]) {
        fputs("  ", out);
        fput_escaped(out, f->rec->summary);
        fputc('\n', out);
    }
    print_details(out, r, f);
    if (f->crash) {
        report_crash_text(out, r, f);
    } else {
        for (size_t i = 0; i < f->nstacks; i++)
            print_stack(out, f, &f->stacks[i]);
    }
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

/* With --baseline: what the baseline had that is gone. */
static void print_fixed(FILE *out, const struct report *r)
{
    const struct baseline *b = r->baseline;
    if (!b)
        return;
    fprintf(out, "Baseline %s: %zu %s, %zu still seen, %zu new\n", b->path, b->n,
            plural(b->n, "finding", "findings"), r->db->nknown, r->db->n);
    if (!b->nfixed) {
        fputc('\n', out);
        return;
    }
    fputs("No longer seen (in the baseline, not in these logs):\n", out);
    for (size_t i = 0; i < b->n; i++) {
        const struct baseline_entry *e = b->v[i];
        if (e->seen)
            continue;
        fputs("  ", out);
        fput_escaped(out, e->kind ? e->kind : "?");
        fprintf(out, " %s", e->fingerprint);
        if (e->summary) {
            fputs(": ", out);
            fput_escaped(out, e->summary);
        }
        fputc('\n', out);
    }
    fputc('\n', out);
}

static void print_suppressed(FILE *out, const struct report *r)
{
    const struct fnd_db *db = r->db;
    if (!db->nsuppressed)
        return;
    size_t occ = 0;
    for (size_t i = 0; i < db->nsuppressed; i++)
        occ += db->suppressed[i]->count;
    fprintf(out, "Suppressed: %zu %s (%zu %s)", db->nsuppressed,
            plural(db->nsuppressed, "finding", "findings"), occ,
            plural(occ, "occurrence", "occurrences"));
    if (!r->verbose) {
        fputs(" (--verbose lists them)\n\n", out);
        return;
    }
    fputs(":\n", out);
    for (size_t i = 0; i < db->nsuppressed; i++) {
        const struct fnd *f = db->suppressed[i];
        fprintf(out, "  %s (count %zu) by ", f->kind_name, f->count);
        if (f->rule) {
            fprintf(out, "%s:%u: ", f->rule->file, f->rule->line);
            fput_escaped(out, f->rule->text);
        } else {
            fputs("the shim's suppressions", out);
        }
        fputs(": ", out);
        fput_escaped(out, f->rec->summary);
        fputc('\n', out);
    }
    fputc('\n', out);
}

int report_text(FILE *out, const struct report *r)
{
    const struct fnd_db *db = r->db;
    for (size_t i = 0; i < db->n; i++)
        report_text_finding(out, r, db->sorted[i]);
    report_tree_text(out, r);
    report_ns_text(out, r);
    if (r->verbose)
        print_processes(out, r);
    print_notes(out, r->notes);
    print_suppressed(out, r);
    print_fixed(out, r);
    /* the processes of the tree: one exec'ing process writes a log per
     * image, and a quiet child has none */
    size_t np = db->tree.n;
    const char *what = r->baseline ? "new " : "";
    if (db->n)
        fprintf(out, "SUMMARY: libguard: %zu %s%s (%zu %s) in %zu %s", db->n, what,
                plural(db->n, "finding", "findings"), db->nkinds, plural(db->nkinds, "kind", "kinds"),
                np, plural(np, "process", "processes"));
    else
        fprintf(out, "libguard: no %sfindings in %zu %s", what, np, plural(np, "process", "processes"));
    if (r->nlogs != np)
        fprintf(out, " (%zu logs)", r->nlogs);
    if (db->nsuppressed)
        fprintf(out, "; %zu suppressed", db->nsuppressed);
    if (r->baseline)
        fprintf(out, "; %zu known from the baseline, %zu no longer seen", db->nknown,
                r->baseline->nfixed);
    fputc('\n', out);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
