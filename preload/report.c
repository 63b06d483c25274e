/*
 * report.c — the immediate report on stderr (or report_path), and the
 * finding record.
 *
 * Findings are often raised from a SIGSEGV handler, so everything here is
 * async-signal-safe in practice: the formatter of fmt.c instead of stdio
 * (which locks and may allocate), one write(2) per line.  Frames are
 * named by an external symbolizer (symbolizer.c: function, file:line),
 * else by dladdr (nearest dynamic symbol and module).  The log gets the
 * exact record either way.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "guard_internal.h"
#include "symbolizer.h"

/* ---- the report --------------------------------------------------------- */

/* Where the immediate report goes: stderr, or report_path's file, opened
 * for each report and closed after it (the program never sees a
 * descriptor of ours between calls). */
static int out_fd = 2;

static int open_report_output(void)
{
    if (!guard_opt.report_path[0])
        return 2;
    int fd = guard_sys_open(guard_opt.report_path,
                            O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
    return fd >= 0 ? fd : 2; /* a path that cannot be written: stderr, as without it */
}

/* Each report's frames, symbolized in one symbolizer run (static: used
 * under print_lock only; its untouched pages cost nothing). */
GUARD_LARGE static struct guard_symbolizer_batch batch;

static void print_frame(unsigned *idx, const struct guard_symbolizer_pc *e)
{
    unsigned long pc = (unsigned long)e->pc;
    if (!e->have_module) {
        guard_fmt_fd(out_fd, "    #%u 0x%lx\n", (*idx)++, pc);
        return;
    }
    unsigned long off = (unsigned long)e->module_offset;
    for (unsigned j = 0; j < e->nlocs; j++) {
        const struct guard_symbolizer_loc *l = &e->locs[j];
        const char *fn = l->function ? l->function : "??";
        if (l->file && l->line)
            guard_fmt_fd(out_fd, "    #%u 0x%lx in %s %s:%u (%s+0x%lx)\n", (*idx)++, pc, fn, l->file,
                         l->line, e->module, off);
        else
            guard_fmt_fd(out_fd, "    #%u 0x%lx in %s (%s+0x%lx)\n", (*idx)++, pc, fn, e->module, off);
    }
    if (e->nlocs)
        return;
    if (e->dl_function)
        guard_fmt_fd(out_fd, "    #%u 0x%lx in %s+0x%lx (%s+0x%lx)\n", (*idx)++, pc, e->dl_function,
                     (unsigned long)e->dl_function_offset, e->module, off);
    else
        guard_fmt_fd(out_fd, "    #%u 0x%lx (%s+0x%lx)\n", (*idx)++, pc, e->module, off);
}

static void print_raw_frames(const struct guard_symbolizer_pc *e)
{
    for (unsigned i = 0; i < e->raw_n; i++) {
        const struct guard_symbolizer_raw_frame *r = &batch.raw_frames[e->raw_first + i];
        const char *fn = r->loc.function ? r->loc.function : "??";
        if (!r->module)
            guard_fmt_fd(out_fd, "    #%u 0x%lx in %s\n", i, (unsigned long)r->pc, fn);
        else if (r->loc.file && r->loc.line)
            guard_fmt_fd(out_fd, "    #%u 0x%lx in %s %s:%u (%s+0x%lx)\n", i, (unsigned long)r->pc, fn,
                         r->loc.file, r->loc.line, r->module, (unsigned long)r->module_offset);
        else
            guard_fmt_fd(out_fd, "    #%u 0x%lx in %s (%s+0x%lx)\n", i, (unsigned long)r->pc, fn,
                         r->module, (unsigned long)r->module_offset);
    }
}

/* The frames of stack `id` are batch.pcs[*next ...]: in the order they
 * were added. */
static void print_stack(uint32_t id, unsigned *next)
{
    const uint64_t *pcs = NULL;
    unsigned n = guard_stack_frames(id, &pcs);
    if (n == 0) {
        const struct guard_symbolizer_pc *e = *next < batch.n ? &batch.pcs[*next] : NULL;
        if (id && e && e->raw_stack == id) {
            (*next)++;
            if (e->raw_n) {
                print_raw_frames(e);
                return;
            }
        }
        guard_fmt_fd(out_fd, "    (stack #%u is in the log%s)\n", id,
                     id ? ", raw: guard-analyze unwinds it" : "");
        return;
    }
    unsigned idx = 0;
    for (unsigned i = 0; i < n; i++) {
        if (*next < batch.n && batch.pcs[*next].pc == pcs[i]) {
            print_frame(&idx, &batch.pcs[(*next)++]);
        } else {
            struct guard_symbolizer_pc e; /* beyond the batch: dladdr alone */
            guard_symbolizer_dladdr(&e, pcs[i]);
            print_frame(&idx, &e);
        }
    }
}

/* dladdr takes the loader lock; a fault in the middle of dlopen is the
 * one case where this could block, and we accept it (ASan does the same). */
static int symbolize_stacks(const struct guard_finding *f)
{
    guard_symbolizer_batch_begin(&batch);
    for (unsigned i = 0; i < f->nstacks; i++) {
        const uint64_t *pcs = NULL;
        unsigned n = guard_stack_frames(f->stacks[i].stack_id, &pcs);
        if (n == 0 && guard_opt.symbolize) /* a raw copy: unwound from the log */
            guard_symbolizer_batch_add_raw(&batch, f->stacks[i].stack_id, guard_log_path());
        for (unsigned k = 0; k < n; k++)
            guard_symbolizer_batch_add(&batch, pcs[k]);
    }
    return guard_opt.symbolize && guard_symbolizer_batch_run(&batch);
}

static const char *role_heading(uint32_t role)
{
    switch (role) {
    case GUARD_ROLE_ACCESS: return "accessed";
    case GUARD_ROLE_PUT: return "put back into its pool";
    case GUARD_ROLE_FIRST_PUT: return "first put back";
    case GUARD_ROLE_GET: return "taken from its pool (get)";
    default: return guard_stack_role_name(role);
    }
}

static void write_finding_record(const struct guard_finding *f)
{
    size_t call_len = f->call ? strnlen(f->call, 64) : 0;
    size_t summary_len = strnlen(f->summary, sizeof f->summary);
    uint32_t size = (uint32_t)(sizeof(struct guard_rec_finding) +
                               f->nstacks * sizeof(struct guard_finding_stack) + call_len + summary_len);
    struct guard_rec_finding *r = guard_log_reserve(GUARD_REC_FINDING, size);
    if (!r)
        return;
    r->time_ns = guard_now_ns();
    r->tid = (uint32_t)f->tid;
    r->kind = (uint16_t)f->kind;
    r->flags = (uint16_t)f->flags;
    r->pool = (uintptr_t)f->pool;
    r->obj = (uintptr_t)f->obj;
    r->size = f->size;
    r->addr = f->addr;
    r->offset = f->offset;
    r->access = f->access;
    r->bytes = f->bytes;
    r->other_tid = (uint32_t)f->other_tid;
    r->nstacks = (uint16_t)f->nstacks;
    r->call_len = (uint16_t)call_len;
    r->summary_len = (uint32_t)summary_len;
    r->reserved = 0;
    struct guard_finding_stack *fs = (struct guard_finding_stack *)(r + 1);
    for (unsigned i = 0; i < f->nstacks; i++) {
        fs[i].role = f->stacks[i].role;
        fs[i].stack_id = f->stacks[i].stack_id;
        fs[i].tid = f->stacks[i].tid;
        fs[i].reserved = 0;
    }
    char *text = (char *)(fs + f->nstacks);
    memcpy(text, f->call, call_len);
    memcpy(text + call_len, f->summary, summary_len);
    guard_log_commit(r, GUARD_REC_FINDING, size);
}

void guard_report_finding(const struct guard_finding *in)
{
    int saved = errno;
    struct guard_finding marked;
    const struct guard_finding *f = in;
    int suppressed = guard_suppress_rule(in);
    if (suppressed) {
        marked = *in;
        marked.flags |= GUARD_FINDING_SUPPRESSED;
        f = &marked;
    }
    write_finding_record(f);
    if (!suppressed && guard_opt.report_stderr && guard_opt.verbosity > 0) {
        static struct guard_lock print_lock; /* keep concurrent reports apart */
        int locked = guard_lock_acquire(&print_lock);
        int named = symbolize_stacks(f);
        out_fd = open_report_output();
        guard_fmt_fd(out_fd, "=================================================================\n");
        guard_fmt_fd(out_fd, "==%d==ERROR: libguard: %s\n", (int)guard_pid,
                     guard_finding_kind_name(f->kind));
        guard_fmt_fd(out_fd, "%s\n", f->summary);
        unsigned next = 0;
        for (unsigned i = 0; i < f->nstacks; i++) {
            guard_fmt_fd(out_fd, "%s by thread T%d:\n", role_heading(f->stacks[i].role),
                         (int)f->stacks[i].tid);
            print_stack(f->stacks[i].stack_id, &next);
        }
        const char *path = guard_log_path();
        if (path[0])
            guard_fmt_fd(out_fd, "==%d==libguard: details in %s (guard-analyze %s%s)\n",
                         (int)guard_pid, path, path,
                         named ? "" : " adds file:line");
        if (out_fd != 2)
            guard_sys_close(out_fd);
        out_fd = 2;
        if (locked)
            guard_lock_release(&print_lock);
    }
    errno = saved;
    if (guard_opt.halt_on_error && !suppressed && f->kind != GUARD_FK_CRASH) /* a crash ends it anyway */
        guard_halt();
}
