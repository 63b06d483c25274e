/*
 * report.c — the immediate report on stderr (or report_path), and the
 * finding record.
 *
 * Findings are often raised from a SIGSEGV handler, so everything here is
 * async-signal-safe in practice: the formatter of fmt.c instead of stdio
 * (which locks and may allocate), one write(2) per line, stacks
 * symbolized best-effort with dladdr (function+offset and module).  The log
 * gets the exact record; the analyzer adds file:line later.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "guard_internal.h"

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

static void print_stack(uint32_t id)
{
    const uint64_t *pcs = NULL;
    unsigned n = guard_stack_frames(id, &pcs);
    if (n == 0) {
        guard_fmt_fd(out_fd, "    (stack #%u is in the log%s)\n", id,
                     id ? ", raw: guard-analyze unwinds it" : "");
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        Dl_info info;
        /* dladdr takes the loader lock; a fault in the middle of dlopen is
         * the one case where this could block, and we accept it (ASan does
         * the same). */
        if (dladdr((void *)(uintptr_t)pcs[i], &info) && info.dli_fname) {
            if (info.dli_sname)
                guard_fmt_fd(out_fd, "    #%u 0x%lx in %s+0x%lx (%s+0x%lx)\n", i, (unsigned long)pcs[i],
                             info.dli_sname, (unsigned long)(pcs[i] - (uintptr_t)info.dli_saddr),
                             info.dli_fname, (unsigned long)(pcs[i] - (uintptr_t)info.dli_fbase));
            else
                guard_fmt_fd(out_fd, "    #%u 0x%lx (%s+0x%lx)\n", i, (unsigned long)pcs[i], info.dli_fname,
                             (unsigned long)(pcs[i] - (uintptr_t)info.dli_fbase));
        } else {
            guard_fmt_fd(out_fd, "    #%u 0x%lx\n", i, (unsigned long)pcs[i]);
        }
    }
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
    r->rec.type = GUARD_REC_FINDING;
    r->rec.size = size;
    guard_log_commit(r);
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
        out_fd = open_report_output();
        guard_fmt_fd(out_fd, "=================================================================\n");
        guard_fmt_fd(out_fd, "==%d==ERROR: libguard: %s\n", (int)guard_pid,
                     guard_finding_kind_name(f->kind));
        guard_fmt_fd(out_fd, "%s\n", f->summary);
        for (unsigned i = 0; i < f->nstacks; i++) {
            guard_fmt_fd(out_fd, "%s by thread T%d:\n", role_heading(f->stacks[i].role),
                         (int)f->stacks[i].tid);
            print_stack(f->stacks[i].stack_id);
        }
        const char *path = guard_log_path();
        if (path[0])
            guard_fmt_fd(out_fd, "==%d==libguard: details in %s (run guard-analyze on it for "
                         "file:line)\n", (int)guard_pid, path);
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
