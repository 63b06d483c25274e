/*
 * logrec.c — validating and interpreting single log records.
 *
 * Every fixed part is memcpy'd out of the file buffer into a local struct
 * (no unaligned access whatever the offsets), every payload length has been
 * checked against its record by lg_rec_type_check() before any on_*()
 * handler runs, and everything kept is copied (no pointer into the buffer
 * survives it).  Counts from the log (argc, nframes...) are never trusted
 * beyond the bytes that back them.
 */
#define _GNU_SOURCE
#include "logread_priv.h"

#include <stdlib.h>
#include <string.h>

/* ---- record validation --------------------------------------------- */

/* Does a payload of `need` bytes fit in a record of `size` bytes after a
 * fixed part of `fixed` bytes?  64-bit arithmetic: the lengths are at most
 * 32-bit each, so their sum cannot overflow. */
static bool fits(uint32_t size, size_t fixed, uint64_t need)
{
    return size >= fixed && need <= (uint64_t)size - fixed;
}

/* Check the type-specific fixed part and the payload lengths of a record
 * whose header already validated and which lies inside the file. */
enum rec_status lg_rec_type_check(const unsigned char *p, const struct guard_rec *rec, char *why,
                                  size_t whylen)
{
    uint32_t size = rec->size;
    switch (rec->type) {
    case GUARD_REC_PROCESS: {
        struct guard_rec_process x;
        if (size < sizeof x)
            break;
        memcpy(&x, p, sizeof x);
        if (fits(size, sizeof x, (uint64_t)x.exe_len + x.args_len + x.options_len))
            return REC_OK;
        snprintf(why, whylen, "PROCESS strings (%u+%u+%u bytes) overrun the %u-byte record",
                 x.exe_len, x.args_len, x.options_len, size);
        return REC_BAD;
    }
    case GUARD_REC_MODULE: {
        struct guard_rec_module x;
        if (size < sizeof x)
            break;
        memcpy(&x, p, sizeof x);
        uint64_t need = (uint64_t)x.nsegs * sizeof(struct guard_segment) + x.build_id_len + x.path_len;
        if (fits(size, sizeof x, need))
            return REC_OK;
        snprintf(why, whylen, "MODULE payload (%u segments, %u+%u bytes) overruns the %u-byte record",
                 x.nsegs, x.build_id_len, x.path_len, size);
        return REC_BAD;
    }
    case GUARD_REC_STACK: {
        struct guard_rec_stack x;
        if (size < sizeof x)
            break;
        memcpy(&x, p, sizeof x);
        if (fits(size, sizeof x, (uint64_t)x.nframes * sizeof(uint64_t)))
            return REC_OK;
        snprintf(why, whylen, "STACK of %u frames overruns the %u-byte record", x.nframes, size);
        return REC_BAD;
    }
    case GUARD_REC_EVENT: {
        struct guard_rec_event x;
        if (size < sizeof x)
            break;
        memcpy(&x, p, sizeof x);
        if (fits(size, sizeof x, x.payload_len))
            return REC_OK;
        snprintf(why, whylen, "EVENT payload of %u bytes overruns the %u-byte record",
                 x.payload_len, size);
        return REC_BAD;
    }
    case GUARD_REC_FINDING: {
        struct guard_rec_finding x;
        if (size < sizeof x)
            break;
        memcpy(&x, p, sizeof x);
        uint64_t need = (uint64_t)x.nstacks * sizeof(struct guard_finding_stack) + x.call_len +
                        x.summary_len;
        if (fits(size, sizeof x, need))
            return REC_OK;
        snprintf(why, whylen, "FINDING payload (%u stacks, %u+%u bytes) overruns the %u-byte record",
                 x.nstacks, x.call_len, x.summary_len, size);
        return REC_BAD;
    }
    case GUARD_REC_NOTE: {
        struct guard_rec_note x;
        if (size < sizeof x)
            break;
        memcpy(&x, p, sizeof x);
        if (fits(size, sizeof x, x.len))
            return REC_OK;
        snprintf(why, whylen, "NOTE text of %u bytes overruns the %u-byte record", x.len, size);
        return REC_BAD;
    }
    case GUARD_REC_END:
        if (size >= sizeof(struct guard_rec_end))
            return REC_OK;
        break;
    default:
        /* PAD and record types from a newer writer: skipped by size. */
        return REC_OK;
    }
    snprintf(why, whylen, "record of type %u is %u bytes, too small for its fixed part",
             rec->type, size);
    return REC_BAD;
}

/* ---- interpreting records ------------------------------------------ */

void lg_event_clear(struct lg_event *ev)
{
    free(ev->payload);
    ev->payload = NULL;
}

static void event_copy(struct lg_event *dst, const struct lg_event *src)
{
    *dst = *src;
    dst->payload = src->payload ? xstrdup(src->payload) : NULL;
}

static void on_process(struct reader *r, const unsigned char *p)
{
    struct lg_log *log = r->log;
    struct guard_rec_process x;
    memcpy(&x, p, sizeof x);
    if (log->have_process)
        return; /* written once; a second one is ignored */
    log->have_process = true;
    log->main_tid = x.main_tid;
    const unsigned char *s = p + sizeof x;
    log->exe = xstrndup_bytes(s, x.exe_len);
    s += x.exe_len;

    /* argc NUL-terminated strings in args_len bytes; argc itself is not
     * trusted: no more strings than the bytes can hold. */
    size_t n = 0, cap = 0;
    const unsigned char *a = s, *end = s + x.args_len;
    while (a < end && n < x.argc) {
        const unsigned char *nul = memchr(a, '\0', (size_t)(end - a));
        size_t l = nul ? (size_t)(nul - a) : (size_t)(end - a);
        VEC_GROW(log->argv, n, cap);
        log->argv[n++] = xstrndup_bytes(a, l);
        a += l + (nul ? 1 : 0);
    }
    log->argc = n;
    s = end;
    if (x.options_len)
        log->options = xstrndup_bytes(s, x.options_len);
}

static void on_module(struct reader *r, const unsigned char *p)
{
    struct lg_log *log = r->log;
    struct guard_rec_module x;
    memcpy(&x, p, sizeof x);
    VEC_GROW(log->modules, log->nmodules, log->modules_cap);
    struct lg_module *m = &log->modules[log->nmodules++];
    memset(m, 0, sizeof *m);
    m->base = x.base;
    m->generation = x.generation;
    m->flags = x.flags;
    const unsigned char *s = p + sizeof x;
    m->nsegs = x.nsegs;
    m->segs = xcalloc(x.nsegs ? x.nsegs : 1, sizeof *m->segs);
    if (x.nsegs)
        memcpy(m->segs, s, (size_t)x.nsegs * sizeof *m->segs);
    s += (size_t)x.nsegs * sizeof *m->segs;
    m->build_id_len = x.build_id_len;
    m->build_id = xmalloc(x.build_id_len ? x.build_id_len : 1);
    if (x.build_id_len)
        memcpy(m->build_id, s, x.build_id_len);
    s += x.build_id_len;
    m->path = xstrndup_bytes(s, x.path_len);
}

static void on_stack(struct reader *r, const unsigned char *p, size_t off)
{
    struct lg_log *log = r->log;
    struct guard_rec_stack x;
    memcpy(&x, p, sizeof x);
    if (x.id == 0) {
        lg_region_note(r, "incomplete STACK record (id 0) at offset %zu skipped", off);
        return;
    }
    struct lg_stack *st = NULL;
    HASH_FIND(hh, log->stacks, &x.id, sizeof x.id, st);
    if (st)
        return; /* ids are unique per log: keep the first */
    st = xcalloc(1, sizeof *st);
    st->id = x.id;
    st->nframes = x.nframes;
    st->generation = x.generation;
    st->flags = x.flags;
    st->pcs = xcalloc(x.nframes ? x.nframes : 1, sizeof *st->pcs);
    if (x.nframes)
        memcpy(st->pcs, p + sizeof x, (size_t)x.nframes * sizeof *st->pcs);
    HASH_ADD(hh, log->stacks, id, sizeof st->id, st);
    log->nstacks++;
}

static void on_event(struct reader *r, const unsigned char *p)
{
    struct lg_log *log = r->log;
    struct guard_rec_event x;
    memcpy(&x, p, sizeof x);
    log->nevents++;
    struct lg_event *ev = &log->ring[log->ring_next];
    lg_event_clear(ev);
    ev->time_ns = x.time_ns;
    ev->tid = x.tid;
    ev->kind = x.kind;
    ev->stack_id = x.stack_id;
    memcpy(ev->args, x.args, sizeof ev->args);
    ev->payload = x.payload_len ? xstrndup_bytes(p + sizeof x, x.payload_len) : NULL;
    log->ring_next = (log->ring_next + 1) % LG_EVENT_RING;
    if (log->ring_n < LG_EVENT_RING)
        log->ring_n++;
}

static void on_finding(struct reader *r, const unsigned char *p, size_t off)
{
    struct lg_log *log = r->log;
    struct guard_rec_finding x;
    memcpy(&x, p, sizeof x);
    if (x.kind == 0) {
        /* A writer that fills the fixed part last leaves kind 0 behind when
         * it is killed in between: nothing in it can be trusted. */
        lg_region_note(r, "incomplete FINDING record (kind 0) at offset %zu skipped", off);
        return;
    }
    VEC_GROW(log->findings, log->nfindings, log->findings_cap);
    struct lg_finding *f = &log->findings[log->nfindings++];
    memset(f, 0, sizeof *f);
    f->file_offset = off;
    f->time_ns = x.time_ns;
    f->tid = x.tid;
    f->kind = x.kind;
    f->flags = x.flags;
    f->pool = x.pool;
    f->obj = x.obj;
    f->size = x.size;
    f->addr = x.addr;
    f->offset = x.offset;
    f->access = x.access;
    f->bytes = x.bytes;
    f->other_tid = x.other_tid;
    const unsigned char *s = p + sizeof x;
    f->nstacks = x.nstacks;
    f->stacks = xcalloc(x.nstacks ? x.nstacks : 1, sizeof *f->stacks);
    for (size_t i = 0; i < x.nstacks; i++) {
        struct guard_finding_stack fs;
        memcpy(&fs, s + i * sizeof fs, sizeof fs);
        f->stacks[i].role = fs.role;
        f->stacks[i].stack_id = fs.stack_id;
        f->stacks[i].tid = fs.tid;
    }
    s += (size_t)x.nstacks * sizeof(struct guard_finding_stack);
    f->call = x.call_len ? xstrndup_bytes(s, x.call_len) : NULL;
    s += x.call_len;
    f->summary = xstrndup_bytes(s, x.summary_len);

    if (x.kind == GUARD_FK_CRASH && log->ring_n) {
        /* "the finding carries ... the last events": those logged before
         * the crash record, oldest first. */
        f->nevents = log->ring_n;
        f->events = xcalloc(f->nevents, sizeof *f->events);
        size_t start = (log->ring_next + LG_EVENT_RING - log->ring_n) % LG_EVENT_RING;
        for (size_t i = 0; i < f->nevents; i++)
            event_copy(&f->events[i], &log->ring[(start + i) % LG_EVENT_RING]);
    }
}

static void on_note(struct reader *r, const unsigned char *p)
{
    struct guard_rec_note x;
    memcpy(&x, p, sizeof x);
    char *text = xstrndup_bytes(p + sizeof x, x.len);
    r->log->nshim_notes++;
    notes_add(r->notes, NOTE_SHIM, r->path, r->log->hdr.pid, "%s", text);
    free(text);
}

static void on_end(struct reader *r, const unsigned char *p)
{
    struct guard_rec_end x;
    memcpy(&x, p, sizeof x);
    r->log->ended = true;
    r->log->exit_status = x.exit_status;
    r->log->dropped_events += x.dropped_events;
}

void lg_rec_handle(struct reader *r, size_t off, const struct guard_rec *rec)
{
    const unsigned char *p = r->buf + off;
    r->log->nrecords++;
    switch (rec->type) {
    case GUARD_REC_PAD:
        break;
    case GUARD_REC_PROCESS:
        on_process(r, p);
        break;
    case GUARD_REC_MODULE:
        on_module(r, p);
        break;
    case GUARD_REC_STACK:
        on_stack(r, p, off);
        break;
    case GUARD_REC_EVENT:
        on_event(r, p);
        break;
    case GUARD_REC_FINDING:
        on_finding(r, p, off);
        break;
    case GUARD_REC_NOTE:
        on_note(r, p);
        break;
    case GUARD_REC_END:
        on_end(r, p);
        break;
    default:
        r->log->nunknown++;
        break;
    }
}
