/*
 * logns.c — the namespace timeline of one log, in bounded memory.
 *
 * While a log is read, its NS_CHANGE and NS_CALL events are kept (the
 * first LG_NS_TIMELINE_MAX of them; the rest are counted), and each
 * mount-family call is judged against the latest successful change of the
 * mount namespace in the process, as the shim's namespace-off-thread rule
 * does (preload/ns.c): a call on another thread than that change's, in a
 * mount namespace that is not the one the change set up, is marked
 * off-thread; in that namespace, other-thread.  The judgement is made over
 * every event of the log, kept or not.
 *
 * THREAD_START events say which thread created which (a new thread starts
 * in its creator's namespaces).  They are remembered while reading (at most
 * LG_NS_THREADS_MAX), and at the end of the log only those of the threads
 * the timeline shows, and of their creators up the chain, join it; a log
 * without namespace events keeps none.
 */
#define _GNU_SOURCE
#include "logread_priv.h"

#include <stdlib.h>
#include <string.h>

struct ns_tstart {
    uint64_t seq;
    uint64_t time_ns;
    uint32_t tid, creator, stack_id;
};

struct tid_set {
    uint32_t tid;
    UT_hash_handle hh;
};

struct lg_ns_state {
    bool have_change;           /* a successful change of the mount namespace was seen */
    uint32_t change_tid;
    uint32_t change_call;
    uint64_t change_ino;        /* the mount namespace it set up */
    struct ns_tstart *ts;       /* THREAD_START events, in log order */
    size_t nts, ts_cap;
    size_t ts_dropped;
};

static struct lg_ns_state *ns_state(struct reader *r)
{
    if (!r->ns)
        r->ns = xcalloc(1, sizeof *r->ns);
    return r->ns;
}

/* The payload of a change, when it is whole. */
static bool change_payload(const struct lg_event *ev, struct guard_ns_change_payload *p)
{
    if (!ev->payload || ev->payload_len < sizeof *p)
        return false;
    memcpy(p, ev->payload, sizeof *p);
    return true;
}

static void judge_call(const struct lg_ns_state *s, struct lg_ns_entry *e)
{
    uint64_t mine = e->ev.args[3];
    if (!s->have_change || s->change_tid == e->ev.tid || !mine || !s->change_ino)
        return;
    e->mark = mine != s->change_ino ? LG_NS_MARK_OFF_THREAD : LG_NS_MARK_OTHER_THREAD;
    e->changer_tid = s->change_tid;
    e->changer_call = s->change_call;
    e->changer_ino = s->change_ino;
}

static void note_change(struct lg_ns_state *s, const struct lg_event *ev)
{
    struct guard_ns_change_payload p;
    if ((int64_t)ev->args[2] != 0 || !change_payload(ev, &p))
        return;
    unsigned k = GUARD_NSK_MNT - 1;
    if (p.after[k] == p.before[k] || !p.after[k])
        return;
    s->have_change = true;
    s->change_tid = ev->tid;
    s->change_call = (uint32_t)ev->args[0];
    s->change_ino = p.after[k];
}

void lg_ns_event(struct reader *r, const struct lg_event *ev)
{
    struct lg_log *log = r->log;
    struct lg_ns_state *s = ns_state(r);
    if (ev->kind == GUARD_EV_THREAD_START) {
        if (s->nts >= LG_NS_THREADS_MAX) {
            s->ts_dropped++;
            return;
        }
        VEC_GROW(s->ts, s->nts, s->ts_cap);
        s->ts[s->nts++] = (struct ns_tstart){log->nevents, ev->time_ns, ev->tid,
                                             (uint32_t)ev->args[0], ev->stack_id};
        return;
    }
    struct lg_ns_entry e;
    memset(&e, 0, sizeof e);
    e.ev = *ev;
    e.seq = log->nevents;
    if (ev->kind == GUARD_EV_NS_CALL)
        judge_call(s, &e);
    else
        note_change(s, ev);
    if (log->nns_events >= LG_NS_TIMELINE_MAX) {
        log->ns_dropped++;
        log->ns_dropped_off_thread += e.mark == LG_NS_MARK_OFF_THREAD;
        return;
    }
    log->nns_events++;
    lg_event_copy(&e.ev, ev); /* ev's payload is the file's: a copy of our own */
    VEC_GROW(log->ns, log->nns, log->ns_cap);
    log->ns[log->nns++] = e;
}

static bool set_has(struct tid_set *set, uint32_t tid)
{
    struct tid_set *x = NULL;
    HASH_FIND(hh, set, &tid, sizeof tid, x);
    return x != NULL;
}

static void set_add(struct tid_set **set, uint32_t tid)
{
    if (set_has(*set, tid))
        return;
    struct tid_set *x = xcalloc(1, sizeof *x);
    x->tid = tid;
    HASH_ADD(hh, *set, tid, sizeof x->tid, x);
}

static int cmp_seq(const void *a, const void *b)
{
    const struct lg_ns_entry *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void lg_ns_done(struct reader *r)
{
    struct lg_ns_state *s = r->ns;
    struct lg_log *log = r->log;
    if (!s)
        return;
    r->ns = NULL;
    if (log && log->nns) {
        /* the timeline's threads, then their creators: a creator started
         * before the threads it created, so one backward walk closes the set */
        struct tid_set *set = NULL, *x, *tmp;
        for (size_t i = 0; i < log->nns; i++)
            set_add(&set, log->ns[i].ev.tid);
        for (size_t i = s->nts; i-- > 0;) {
            const struct ns_tstart *t = &s->ts[i];
            if (!set_has(set, t->tid))
                continue;
            set_add(&set, t->creator);
            struct lg_ns_entry e;
            memset(&e, 0, sizeof e);
            e.seq = t->seq;
            e.ev.time_ns = t->time_ns;
            e.ev.tid = t->tid;
            e.ev.kind = GUARD_EV_THREAD_START;
            e.ev.stack_id = t->stack_id;
            e.ev.args[0] = t->creator;
            VEC_GROW(log->ns, log->nns, log->ns_cap);
            log->ns[log->nns++] = e;
        }
        HASH_ITER(hh, set, x, tmp) {
            HASH_DEL(set, x);
            free(x);
        }
        qsort(log->ns, log->nns, sizeof *log->ns, cmp_seq);
        log->ns_threads_dropped = s->ts_dropped;
    }
    free(s->ts);
    free(s);
}

void lg_ns_free(struct lg_log *log)
{
    for (size_t i = 0; i < log->nns; i++)
        lg_event_clear(&log->ns[i].ev);
    free(log->ns);
    log->ns = NULL;
    log->nns = 0;
}
