/*
 * logring.c — the event ring's slots (GUARD_REC_RING, log_ring_kb).
 *
 * A slot's place in the file says nothing about when it was filled (the
 * oldest is refilled first), so slots are only noted while the stream is
 * walked, and their records are read in fill (seq) order when the walk
 * meets the crash or ends: each thread's events then come in the order
 * it made them.  Everything inside a slot is untrusted like the rest of
 * the file: every nested record is checked as a record of the stream
 * would be, and only event records are taken from a slot.
 */
#define _GNU_SOURCE
#include "logread_priv.h"

#include <stdlib.h>
#include <string.h>

static int lg_ring_cmp(const void *a, const void *b)
{
    const struct lg_ring_slot *x = a, *y = b;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

void lg_ring_slot(struct reader *r, size_t off, const struct guard_rec *rec)
{
    struct guard_rec_ring x;
    memcpy(&x, r->buf + off, sizeof x);
    r->log->nring_slots++;
    if (x.seq == 0)
        return; /* never filled, or being refilled when the process ended */
    if (x.seq > r->ring_max_seq)
        r->ring_max_seq = x.seq;
    VEC_GROW(r->ring, r->nring, r->ring_cap);
    r->ring[r->nring++] = (struct lg_ring_slot){off, rec->size, x.seq};
}

bool lg_ring_cut_slot(struct reader *r, size_t off, const struct guard_rec *rec)
{
    size_t rest = (r->len - off) / GUARD_REC_ALIGN * GUARD_REC_ALIGN;
    if (rec->sync != GUARD_REC_SYNC || rec->type != GUARD_REC_RING ||
        rest < sizeof(struct guard_rec_ring) || rest >= rec->size)
        return false;
    struct guard_rec cut = *rec;
    cut.size = (uint32_t)rest;
    lg_ring_slot(r, off, &cut);
    return true;
}

/* The records of one slot, from its fixed part to the first header never
 * stored (the unwritten rest, or a record its writer did not finish) or
 * the first that does not validate (the rest of the slot is not used). */
typedef void (*ring_visit)(struct reader *r, size_t off, const struct guard_rec *rec);

static void slot_walk(struct reader *r, const struct lg_ring_slot *s, ring_visit visit, bool quiet)
{
    size_t off = s->off + sizeof(struct guard_rec_ring), end = s->off + s->size;
    char why[160];
    while (off < end && end - off >= sizeof(struct guard_rec)) {
        struct guard_rec rec;
        memcpy(&rec, r->buf + off, sizeof rec);
        /* no sync word: a record its writer never committed (its type and
         * size may be there without it in logs of older shims) */
        if (rec.sync == 0)
            return;
        bool event = rec.type == GUARD_REC_EVENT || rec.type == GUARD_REC_POOL_PUT ||
                     rec.type == GUARD_REC_POOL_GET;
        if (rec.sync != GUARD_REC_SYNC || rec.size < sizeof rec || rec.size % GUARD_REC_ALIGN ||
            rec.size > end - off || !event ||
            lg_rec_type_check(r->buf + off, &rec, why, sizeof why) != REC_OK) {
            if (!quiet)
                lg_region_note(r, "damaged record at offset %zu inside the event ring's slot at "
                               "offset %zu: the rest of the slot is not used", off, s->off);
            return;
        }
        visit(r, off, &rec);
        off += rec.size;
    }
}

/* A full pool event gives its object's pool and size to the short
 * records of the ring that come before it (their own full event may have
 * been in a slot refilled since). */
static void seed_visit(struct reader *r, size_t off, const struct guard_rec *rec)
{
    if (rec->type != GUARD_REC_EVENT)
        return;
    struct guard_rec_event x;
    memcpy(&x, r->buf + off, sizeof x);
    if (x.kind == GUARD_EV_POOL_PUT || x.kind == GUARD_EV_POOL_GET)
        lg_pool_seed(r, x.args[1], x.args[0], x.args[2], x.kind == GUARD_EV_POOL_PUT, x.args[3]);
}

static void handle_visit(struct reader *r, size_t off, const struct guard_rec *rec)
{
    r->log->nring_events++;
    lg_rec_handle(r, off, rec);
}

void lg_ring_flush(struct reader *r)
{
    if (r->ring_done >= r->nring)
        return;
    struct lg_ring_slot *todo = r->ring + r->ring_done;
    size_t n = r->nring - r->ring_done;
    qsort(todo, n, sizeof *todo, lg_ring_cmp);
    for (size_t i = 0; i < n; i++)
        slot_walk(r, &todo[i], seed_visit, true);
    for (size_t i = 0; i < n; i++)
        slot_walk(r, &todo[i], handle_visit, false);
    r->ring_done = r->nring;
}

void lg_ring_done(struct reader *r)
{
    struct lg_log *log = r->log;
    if (log && r->nring && r->ring_max_seq > log->nring_slots)
        notes_add(r->notes, NOTE_INFO, r->path, log->hdr.pid,
                  "pool events are kept in a ring (log_ring_kb): %zu events in %zu slots are "
                  "the latest; older ones were overwritten", log->nring_events,
                  log->nring_slots);
    free(r->ring);
    r->ring = NULL;
    r->nring = r->ring_cap = r->ring_done = 0;
}
