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

#include <stddef.h>
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
    case GUARD_REC_POOL_PUT:
    case GUARD_REC_POOL_GET:
        /* fixed size; a longer one (a newer writer) is read by its prefix */
        if (size >= sizeof(struct guard_rec_pool))
            return REC_OK;
        break;
    case GUARD_REC_CRASH: {
        /* registers: nregs of them, as many as the record holds */
        if (size < offsetof(struct guard_rec_crash, regs))
            break;
        uint32_t nregs;
        memcpy(&nregs, p + offsetof(struct guard_rec_crash, nregs), sizeof nregs);
        if (fits(size, offsetof(struct guard_rec_crash, regs), (uint64_t)nregs * sizeof(uint64_t)))
            return REC_OK;
        snprintf(why, whylen, "CRASH record of %u registers overruns the %u-byte record", nregs,
                 size);
        return REC_BAD;
    }
    case GUARD_REC_RING:
        if (size >= sizeof(struct guard_rec_ring))
            return REC_OK;
        break;
    case GUARD_REC_THREAD_STACK:
        if (size >= sizeof(struct guard_rec_thread_stack))
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

static void pool_span_add(struct reader *r, const struct lg_pool_state *o,
                          const struct lg_event *put)
{
    struct lg_log *log = r->log;
    if (log->npool_spans >= lg_pool_spans_max) {
        log->npool_spans_dropped++;
        return;
    }
    VEC_GROW(log->pool_spans, log->npool_spans, log->pool_spans_cap);
    struct lg_pool_span *s = &log->pool_spans[log->npool_spans++];
    memset(s, 0, sizeof *s);
    s->obj = o->obj;
    s->pool = o->pool;
    s->size = o->size;
    s->get_time = o->span_get.time_ns;
    s->get_tid = o->span_get.tid;
    s->get_stack = o->span_get.stack_id;
    if (put) {
        s->put_time = put->time_ns;
        s->put_tid = put->tid;
        s->put_stack = put->stack_id;
    }
}

/* The trace report's pool lifetimes: a get opens one, the next put of the
 * object closes it (a put without a get before it in the log opens none). */
static void pool_span_event(struct reader *r, struct lg_pool_state *o, const struct lg_event *ev)
{
    if (!lg_pool_spans)
        return;
    if (ev->kind == GUARD_EV_POOL_GET) {
        if (o->span_get.valid) /* got twice: the first one's end is unknown */
            pool_span_add(r, o, NULL);
        o->span_get = (struct lg_obj_event){true, ev->time_ns, ev->tid, ev->stack_id};
    } else if (o->span_get.valid) {
        pool_span_add(r, o, ev);
        o->span_get.valid = false;
    }
}

void lg_rec_done(struct reader *r)
{
    struct lg_pool_state *o, *tmp;
    HASH_ITER(hh, r->objs, o, tmp) {
        if (o->span_get.valid && r->log)
            pool_span_add(r, o, NULL);
        HASH_DEL(r->objs, o);
        free(o);
    }
    struct lg_fold *fo, *ftmp;
    HASH_ITER(hh, r->folds, fo, ftmp) {
        HASH_DEL(r->folds, fo);
        free(fo);
    }
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
    if (r->header_damaged && x.main_tid)
        log->hdr.pid = x.main_tid; /* the shim's pid (preload/log.c), better than the file name */
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
    r->ring_limit = lg_crash_events_option(log->options);
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

/* A GUARD_STACK_RAW_ZRUNS stack (at p, avail bytes to the record's end):
 * its struct guard_stack_raw and len bytes, as a plain raw stack has them,
 * and in *written the runs' own length; NULL when the runs are damaged
 * (they overrun the record or len, or tell nothing). */
static unsigned char *zruns_decode(const unsigned char *p, size_t avail, size_t *written)
{
    struct guard_stack_raw raw;
    memcpy(&raw, p, sizeof raw);
    if (raw.len > GUARD_REC_MAX_SIZE * 16u) /* 64 KiB of runs tell at most 1 GiB: bound it */
        return NULL;
    unsigned char *out = xcalloc(1, sizeof raw + raw.len);
    memcpy(out, &raw, sizeof raw);
    size_t in = sizeof raw, pos = 0;
    while (pos < raw.len) {
        uint16_t h[2];
        if (avail - in < sizeof h)
            break;
        memcpy(h, p + in, sizeof h);
        in += sizeof h;
        if ((!h[0] && !h[1]) || h[0] > raw.len - pos || h[1] > raw.len - pos - h[0] ||
            h[1] > avail - in)
            break;
        pos += h[0]; /* xcalloc's zeros */
        memcpy(out + sizeof raw + pos, p + in, h[1]);
        pos += h[1];
        in += h[1];
    }
    if (pos != raw.len) {
        free(out);
        return NULL;
    }
    *written = in - sizeof raw;
    return out;
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
    if ((x.flags & GUARD_STACK_RAW) && x.nframes == 0) {
        /* registers and stack memory, for rawunwind.c (bounds checked there too) */
        size_t avail = x.rec.size - sizeof x;
        struct guard_stack_raw raw;
        if (avail >= sizeof raw) {
            memcpy(&raw, p + sizeof x, sizeof raw);
            size_t written = raw.len; /* the bytes' length in the record */
            if (x.flags & GUARD_STACK_RAW_ZRUNS) {
                st->raw = zruns_decode(p + sizeof x, avail, &written);
                st->raw_len = st->raw ? sizeof raw + raw.len : 0;
            } else if (raw.len <= avail - sizeof raw) {
                st->raw_len = sizeof raw + raw.len;
                st->raw = xmalloc(st->raw_len);
                memcpy(st->raw, p + sizeof x, st->raw_len);
            }
            if (st->raw) {
                size_t join_at = sizeof raw + ((written + 7) & ~(size_t)7);
                struct guard_stack_join join;
                if ((x.flags & GUARD_STACK_RAW_JOIN) && avail >= join_at + sizeof join) {
                    memcpy(&join, p + sizeof x + join_at, sizeof join);
                    st->join_stack = join.stack;
                    st->join_sp[1] = join.frame1_sp;
                    st->join_sp[2] = join.frame2_sp;
                }
            }
        }
        if (!st->raw)
            lg_region_note(r, "raw STACK record at offset %zu is damaged: that stack is empty", off);
    }
    HASH_ADD(hh, log->stacks, id, sizeof st->id, st);
    log->nstacks++;
}

static void note_time(struct lg_log *log, uint64_t t)
{
    if (t > log->end_time_ns && !log->ended)
        log->end_time_ns = t;
}

/* Every event, full or short, goes through here: the counts, the
 * thread's recent history (for a crash), and the process events list. */
static void add_event(struct reader *r, const struct lg_event *ev)
{
    struct lg_log *log = r->log;
    log->nevents++;
    note_time(log, ev->time_ns);
    lg_crash_hist_event(r, ev);

    if (ev->kind == GUARD_EV_NS_CHANGE || ev->kind == GUARD_EV_NS_CALL ||
        ev->kind == GUARD_EV_THREAD_START || ev->kind == GUARD_EV_SPAWN ||
        ev->kind == GUARD_EV_EXEC)
        lg_ns_event(r, ev);
    if (ev->kind == GUARD_EV_EXEC)
        r->exec_pending = true;
    else if (ev->kind == GUARD_EV_EXEC_FAILED)
        r->exec_pending = false;
    if (!lg_is_process_event(ev->kind))
        return;
    if (log->npevents >= LG_PEVENTS_MAX) {
        log->npevents_dropped++;
        return;
    }
    VEC_GROW(log->pevents, log->npevents, log->pevents_cap);
    lg_event_copy(&log->pevents[log->npevents++], ev);
}

/* The state short records of this object will be resolved from. */
static struct lg_pool_state *pool_state(struct reader *r, uint64_t obj, bool create)
{
    struct lg_pool_state *o = NULL;
    HASH_FIND(hh, r->objs, &obj, sizeof obj, o);
    if (!o && create) {
        o = xcalloc(1, sizeof *o);
        o->obj = obj;
        HASH_ADD(hh, r->objs, obj, sizeof o->obj, o);
    }
    return o;
}

void lg_pool_seed(struct reader *r, uint64_t obj, uint64_t pool, uint64_t size, bool put,
                  uint64_t put_flags)
{
    struct lg_pool_state *o = pool_state(r, obj, true);
    if (!o->have_pool) {
        o->pool = pool;
        o->size = size;
        o->have_pool = true;
    }
    if (put && !o->have_put) {
        o->put_flags = put_flags;
        o->have_put = true;
    }
}

static void on_event(struct reader *r, const unsigned char *p)
{
    struct guard_rec_event x;
    memcpy(&x, p, sizeof x);
    struct lg_event ev;
    memset(&ev, 0, sizeof ev);
    ev.time_ns = x.time_ns;
    ev.tid = x.tid;
    ev.kind = x.kind;
    ev.stack_id = x.stack_id;
    memcpy(ev.args, x.args, sizeof ev.args);
    /* add_event copies it again: the ring and the list own their copies */
    ev.payload = x.payload_len ? (char *)p + sizeof x : NULL;
    ev.payload_len = x.payload_len;
    if (x.kind == GUARD_EV_POOL_PUT || x.kind == GUARD_EV_POOL_GET) {
        struct lg_pool_state *o = pool_state(r, x.args[1], true);
        o->pool = x.args[0];
        o->size = x.args[2];
        o->have_pool = true;
        if (x.kind == GUARD_EV_POOL_PUT) {
            o->put_flags = x.args[3];
            o->have_put = true;
        }
        if (!r->crash_frozen)
            lg_crash_hist_pool(o, &ev);
        pool_span_event(r, o, &ev);
    }
    add_event(r, &ev);
}

/* A short POOL_PUT/POOL_GET record: the same event as a full one, with
 * pool, size and put flags those of the last full event of the object. */
static void on_pool_short(struct reader *r, const unsigned char *p, uint16_t type)
{
    struct guard_rec_pool x;
    memcpy(&x, p, sizeof x);
    bool put = type == GUARD_REC_POOL_PUT;
    struct lg_event ev;
    memset(&ev, 0, sizeof ev);
    ev.time_ns = x.time_ns;
    ev.tid = x.tid;
    ev.kind = put ? GUARD_EV_POOL_PUT : GUARD_EV_POOL_GET;
    ev.short_form = true;
    ev.stack_id = x.stack_id;
    ev.args[1] = x.obj;
    struct lg_pool_state *o = pool_state(r, x.obj, false);
    if (o && o->have_pool && (!put || o->have_put)) {
        ev.args[0] = o->pool;
        ev.args[2] = o->size;
        ev.args[3] = put ? o->put_flags : 0;
    } else {
        /* the writer broke its promise (or the full record was lost) */
        ev.unresolved = true;
        r->log->nshort_unresolved++;
    }
    if (!r->crash_frozen) {
        /* its history all the same: a crash may point into it (its size
         * comes from a full event, if one ever comes) */
        if (!o)
            o = pool_state(r, x.obj, true);
        lg_crash_hist_pool(o, &ev);
    }
    if (lg_pool_spans) {
        if (!o)
            o = pool_state(r, x.obj, true);
        pool_span_event(r, o, &ev);
    }
    r->log->nshort++;
    add_event(r, &ev);
}

/* The reader's folding key of a finding record (false: not foldable). */
static bool fold_key(const struct guard_rec_finding *x, const unsigned char *stacks,
                     struct lg_fold_key *k)
{
    /* a crash has its own history; unreaped-child records name one child
     * each, which the process tree matches one by one */
    if (x->kind == GUARD_FK_CRASH || x->kind == GUARD_FK_UNREAPED_CHILD ||
        x->nstacks > LG_FOLD_STACKS)
        return false;
    memset(k, 0, sizeof *k);
    k->kind = x->kind;
    k->suppressed = (x->flags & GUARD_FINDING_SUPPRESSED) != 0;
    k->nstacks = x->nstacks;
    for (size_t i = 0; i < x->nstacks; i++) {
        struct guard_finding_stack fs;
        memcpy(&fs, stacks + i * sizeof fs, sizeof fs);
        k->role[i] = fs.role;
        k->stack_id[i] = fs.stack_id;
    }
    return true;
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
    const unsigned char *s = p + sizeof x;
    log->nfinding_records++;
    note_time(log, x.time_ns);
    struct lg_fold_key key;
    bool foldable = fold_key(&x, s, &key);
    if (foldable) {
        struct lg_fold *fo = NULL;
        HASH_FIND(hh, r->folds, &key, sizeof key, fo);
        if (fo) {
            log->findings[fo->index].count++;
            return;
        }
    }
    VEC_GROW(log->findings, log->nfindings, log->findings_cap);
    struct lg_finding *f = &log->findings[log->nfindings++];
    memset(f, 0, sizeof *f);
    f->count = 1;
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
    if (foldable) {
        struct lg_fold *fo = xcalloc(1, sizeof *fo);
        fo->key = key;
        fo->index = log->nfindings - 1;
        HASH_ADD(hh, r->folds, key, sizeof fo->key, fo);
    }
    if (x.kind == GUARD_FK_CRASH)
        lg_crash_finding(r, f);
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
    r->log->end_time_ns = x.time_ns;
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
    case GUARD_REC_POOL_PUT:
    case GUARD_REC_POOL_GET:
        on_pool_short(r, p, rec->type);
        break;
    case GUARD_REC_CRASH:
        lg_ring_flush(r); /* the history before it */
        lg_crash_record(r, p, off);
        break;
    case GUARD_REC_RING:
        lg_ring_slot(r, off, rec);
        break;
    case GUARD_REC_THREAD_STACK:
        lg_crash_thread_stack(r, p);
        break;
    case GUARD_REC_HOST: /* what the shim measured of the host: the findings carry what they need */
        break;
    default:
        r->log->nunknown++;
        break;
    }
}
