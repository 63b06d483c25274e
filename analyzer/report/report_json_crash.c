/*
 * report_json_crash.c — the crash fields of a crash finding in the JSON
 * report (extensions of the contract's finding object):
 *
 *   "signal": "SIGSEGV", "signal_number": 11, "si_code": 1,
 *   "si_code_name": "SEGV_MAPERR", "si_code_meaning": "...", "signal_text": "...",
 *   "fault_address": "0x..." | null,
 *   "registers": {"rip": "0x...", ...} | null,
 *   "threads": [{"tid", "crashed", "stack": [frames], "events": [...],
 *                "events_total"}, ...]      (every thread with a stack at the
 *                                            crash, the crashing one first),
 *   "other_threads": [...]  (threads whose last events are kept but which
 *                            had no stack at the crash: exited?),
 *   "threads_signalled", "threads_answered", "events_per_thread",
 *   "links": [{"kind": "object"|"poison"|"namespace"|"child"|"finding",
 *              "text", ...}, ...]
 */
#define _GNU_SOURCE
#include "report_json.h"

#include <stdlib.h>

#include "crash.h"

static void signal_fields(json_t *j, const struct lg_crash *c)
{
    const char *name = c->have_record ? crash_signal_name(c->signo) : NULL;
    const char *cn = c->have_record ? crash_code_name(c->signo, c->si_code) : NULL;
    const char *cm = c->have_record ? crash_code_meaning(c->signo, c->si_code) : NULL;
    json_object_set_new(j, "signal", name ? json_string(name) : json_null());
    json_object_set_new(j, "signal_number", c->have_record ? json_integer(c->signo) : json_null());
    json_object_set_new(j, "si_code", c->have_record ? json_integer(c->si_code) : json_null());
    json_object_set_new(j, "si_code_name", cn ? json_string(cn) : json_null());
    json_object_set_new(j, "si_code_meaning", cm ? json_string(cm) : json_null());
    char *text = c->have_record ? crash_signal_text(c) : NULL;
    json_object_set_new(j, "signal_text", rj_str(text));
    free(text);
}

static json_t *registers_json(const struct lg_crash *c)
{
    if (!c->nregs)
        return json_null();
    json_t *j = json_object();
    for (size_t i = 0; i < crash_nreg_order; i++) {
        unsigned idx = crash_reg_order[i];
        if (idx < c->nregs)
            json_object_set_new(j, crash_reg_name(idx), rj_hex(c->regs[idx]));
    }
    return j;
}

static json_t *thread_json(const struct fnd_thread *t)
{
    json_t *j = json_object();
    json_object_set_new(j, "tid", rj_uint(t->tid));
    json_object_set_new(j, "crashed", json_boolean(t->crashed));
    json_object_set_new(j, "stack", rj_frames(t->sym));
    json_t *ev = json_array();
    for (size_t i = 0; i < t->nevents; i++)
        json_array_append_new(ev, rj_event(&t->events[i]));
    json_object_set_new(j, "events", ev);
    json_object_set_new(j, "events_total", rj_uint(t->te ? t->te->total : 0));
    return j;
}

static json_t *obj_event_json(const struct lg_crash *c, const struct lg_obj_event *e,
                              const struct sym_stack *stack)
{
    if (!e->valid)
        return json_null();
    json_t *j = json_object();
    json_object_set_new(j, "tid", rj_uint(e->tid));
    json_object_set_new(j, "time_ns", rj_uint(e->time_ns));
    json_object_set_new(j, "before_crash_ns",
                        e->time_ns <= c->time_ns ? rj_uint(c->time_ns - e->time_ns) : json_null());
    json_object_set_new(j, "stack", rj_frames(stack));
    return j;
}

static json_t *object_json(const struct lg_crash *c, const struct crash_obj_view *v)
{
    const struct lg_crash_obj *o = v->o;
    json_t *j = json_object();
    json_object_set_new(j, "address", rj_hex(o->obj));
    json_object_set_new(j, "pool", rj_hex(o->pool));
    json_object_set_new(j, "size", rj_uint(o->size));
    json_object_set_new(j, "in_pool", json_boolean(o->in_pool));
    json_object_set_new(j, "poisoned", json_boolean((o->put_flags & GUARD_PUT_POISONED) != 0));
    json_object_set_new(j, "puts", rj_uint(o->nputs));
    json_object_set_new(j, "put", obj_event_json(c, &o->put, v->put));
    json_object_set_new(j, "taken_again", o->in_pool ? json_null()
                                                     : obj_event_json(c, &o->get, v->get));
    return j;
}

static const char *where(int reg)
{
    return reg == LG_WHERE_FAULT ? "fault_address" : crash_reg_name((unsigned)reg);
}

static json_t *link_json(const struct fnd_crash *fc, const struct crash_link *l)
{
    static const char *const kinds[] = {"object", "poison", "namespace", "child", "finding"};
    json_t *j = json_object();
    json_object_set_new(j, "kind", json_string(kinds[l->kind]));
    json_object_set_new(j, "text", rj_str(l->text));
    json_object_set_new(j, "before_crash_ns", l->before_ns ? rj_uint(l->before_ns) : json_null());
    switch (l->kind) {
    case CL_OBJECT: {
        const char *w = where(l->reg);
        json_object_set_new(j, "where", w ? json_string(w) : json_null());
        json_object_set_new(j, "value", rj_hex(l->value));
        json_object_set_new(j, "offset", rj_uint(l->value - l->objs[0].o->obj));
        json_t *also = json_array();
        for (unsigned r = 0; r < GUARD_CRASH_NREGS; r++)
            if (l->objs[0].o->also_regs & (1u << r))
                json_array_append_new(also, json_string(crash_reg_name(r)));
        json_object_set_new(j, "also", also);
        json_object_set_new(j, "object", object_json(fc->c, &l->objs[0]));
        break;
    }
    case CL_POISON: {
        const char *w = where(l->reg);
        json_object_set_new(j, "where", w ? json_string(w) : json_null());
        json_object_set_new(j, "value", rj_hex(l->value));
        json_t *recent = json_array();
        for (size_t k = 0; k < l->nobjs; k++)
            json_array_append_new(recent, object_json(fc->c, &l->objs[k]));
        json_object_set_new(j, "recent_objects", recent);
        break;
    }
    case CL_NAMESPACE:
        json_object_set_new(j, "tid", rj_uint(l->ev->tid));
        json_object_set_new(j, "time_ns", rj_uint(l->ev->time_ns));
        json_object_set_new(j, "changes", rj_uint(fc->c->ns_total));
        json_object_set_new(j, "stack", rj_frames(l->stack));
        break;
    case CL_CHILD: {
        const char *k = pt_spawn_kind_name(l->spawn->kind);
        json_object_set_new(j, "pid", rj_uint_or_null(l->spawn->pid));
        json_object_set_new(j, "spawn_kind", k ? json_string(k) : json_null());
        json_object_set_new(j, "tid", rj_uint(l->ev->tid));
        json_object_set_new(j, "time_ns", rj_uint(l->ev->time_ns));
        json_object_set_new(j, "program", rj_str(l->spawn->program));
        json_object_set_new(j, "process",
                            l->spawn->child ? rj_uint(l->spawn->child->id) : json_null());
        json_object_set_new(j, "stack", rj_frames(l->stack));
        break;
    }
    case CL_FINDING:
        if (l->finding) {
            json_object_set_new(j, "finding_kind", json_string(l->finding->kind_name));
            json_object_set_new(j, "fingerprint", json_string(l->finding->fingerprint));
            json_object_set_new(j, "summary", rj_str(l->rec->summary));
            json_object_set_new(j, "count", rj_uint(l->rec->count));
            json_object_set_new(j, "time_ns", rj_uint(l->rec->time_ns));
            json_object_set_new(j, "suppressed", json_boolean(l->finding->suppressed));
        }
        break;
    }
    return j;
}

void report_json_crash_fields(json_t *j, const struct fnd *f)
{
    const struct fnd_crash *fc = f->crash;
    const struct lg_crash *c = fc->c;
    signal_fields(j, c);
    json_object_set_new(j, "fault_address",
                        crash_fault_addr_meaningful(c) ? rj_hex(c->fault_addr) : json_null());
    json_object_set_new(j, "registers", registers_json(c));
    json_t *threads = json_array(), *others = json_array();
    for (size_t i = 0; i < fc->nthreads; i++) {
        const struct fnd_thread *t = &fc->threads[i];
        json_array_append_new(t->have_stack || t->crashed ? threads : others, thread_json(t));
    }
    json_object_set_new(j, "threads", threads);
    json_object_set_new(j, "other_threads", others);
    json_object_set_new(j, "threads_signalled",
                        c->have_record ? rj_uint(c->threads_signalled) : json_null());
    json_object_set_new(j, "threads_answered", rj_uint(fc->threads_answered));
    json_object_set_new(j, "events_per_thread", rj_uint(c->events_per_thread));
    json_t *links = json_array();
    for (size_t i = 0; i < fc->nlinks; i++)
        json_array_append_new(links, link_json(fc, &fc->links[i]));
    json_object_set_new(j, "links", links);
}
