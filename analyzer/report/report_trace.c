/*
 * report_trace.c — the run as a timeline: the Chrome trace-event JSON
 * format (the JSON Object Format of Google's "Trace Event Format" document,
 * which Perfetto and chrome://tracing open): {"traceEvents": [...],
 * "displayTimeUnit": "ms", "otherData": {...}}.
 *
 * A track per process (pid: the real pid; a child whose pid nobody knows,
 * popen or system, gets one above TRACE_PID_UNKNOWN) and per thread (tid),
 * named by "M" metadata events; in them:
 *   - the process's lifetime, a complete "X" event on its main thread;
 *   - its process events (spawn, reap, exec, exec-failed, kill, sigchld,
 *     child-exec) as instant "i" events on the thread that made them, a
 *     spawn also as a flow ("s" in the parent, "f" on the child's track);
 *   - its namespace timeline (unshare, setns, clone, mount...) as instants;
 *   - pool objects' lifetimes, from a get to the put that returned them,
 *     as nestable async slices ("b" on the getting thread, "e" on the
 *     putting one; a thread's objects overlap without nesting, which "X"
 *     slices may not) named "pool object" (at most TRACE_POOL_MAX in all:
 *     the rest are counted in otherData and a metadata event);
 *   - each finding occurrence as an instant named by its kind, scope "p"
 *     (or "t" when it names a thread), args: summary, fingerprint, stacks.
 * Times are the logs' CLOCK_MONOTONIC in microseconds.  Only the reported
 * findings are shown (not suppressed ones, not the baseline's).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash.h"
#include "nstimeline.h"
#include "proctree.h"
#include "report.h"
#include "report_json.h"

#define TRACE_PID_UNKNOWN 0x40000000u

struct tid_seen {
    uint32_t pid, tid;
    const char *name;
};

struct trace {
    json_t *events;
    struct tid_seen *tids;
    size_t ntids, tids_cap;
    size_t pool_spans, pool_dropped;
};

static json_t *ts_json(uint64_t ns)
{
    return json_real((double)ns / 1000.0);
}

static uint32_t node_pid(const struct pt_node *n)
{
    return n->pid ? n->pid : TRACE_PID_UNKNOWN + (uint32_t)n->id;
}

static uint32_t node_main_tid(const struct pt_node *n)
{
    for (size_t i = 0; i < n->nlogs; i++)
        if (n->logs[i]->have_process && n->logs[i]->main_tid)
            return n->logs[i]->main_tid;
    return n->ns_pid ? n->ns_pid : node_pid(n);
}

/* Remember that thread (pid, tid) has events (for its "M" thread_name). */
static void see_tid(struct trace *t, uint32_t pid, uint32_t tid, const char *name)
{
    for (size_t i = 0; i < t->ntids; i++)
        if (t->tids[i].pid == pid && t->tids[i].tid == tid) {
            if (name && !t->tids[i].name)
                t->tids[i].name = name;
            return;
        }
    VEC_GROW(t->tids, t->ntids, t->tids_cap);
    t->tids[t->ntids++] = (struct tid_seen){pid, tid, name};
}

static json_t *event(struct trace *t, const char *ph, const char *name, const char *cat,
                     uint32_t pid, uint32_t tid, uint64_t ns)
{
    json_t *e = json_object();
    json_object_set_new(e, "ph", json_string(ph));
    json_object_set_new(e, "name", rj_str(name ? name : "?"));
    if (cat)
        json_object_set_new(e, "cat", json_string(cat));
    json_object_set_new(e, "pid", json_integer(pid));
    json_object_set_new(e, "tid", json_integer(tid));
    json_object_set_new(e, "ts", ts_json(ns));
    json_array_append_new(t->events, e);
    see_tid(t, pid, tid, NULL);
    return e;
}

static json_t *instant(struct trace *t, const char *name, const char *cat, uint32_t pid,
                       uint32_t tid, uint64_t ns, const char *scope)
{
    json_t *e = event(t, "i", name, cat, pid, tid, ns);
    json_object_set_new(e, "s", json_string(scope));
    return e;
}

static void meta(struct trace *t, const char *what, uint32_t pid, uint32_t tid, const char *key,
                 json_t *value)
{
    json_t *e = json_object();
    json_object_set_new(e, "ph", json_string("M"));
    json_object_set_new(e, "name", json_string(what));
    json_object_set_new(e, "pid", json_integer(pid));
    json_object_set_new(e, "tid", json_integer(tid));
    json_t *args = json_object();
    json_object_set_new(args, key, value);
    json_object_set_new(e, "args", args);
    json_array_append_new(t->events, e);
}

static json_t *frames_text(const struct sym_stack *s)
{
    json_t *a = json_array();
    for (size_t i = 0; s && i < s->n; i++) {
        const struct sym_frame *fr = &s->frames[i];
        char *line;
        if (fr->file && fr->line)
            line = xasprintf("%s %s:%u", fr->function ? fr->function : "??", fr->file,
                             fr->line);
        else if (fr->have_module)
            line = xasprintf("%s (%s+0x%" PRIx64 ")", fr->function ? fr->function : "??",
                             fr->module ? fr->module : "?", fr->module_offset);
        else
            line = xasprintf("%s 0x%" PRIx64, fr->function ? fr->function : "??", fr->pc);
        json_array_append_new(a, rj_str(line));
        free(line);
    }
    return a;
}

static char *event_text(const struct lg_event *ev)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return xstrdup("");
    report_text_event(f, ev);
    fclose(f);
    return buf;
}

static const char *event_name(const struct lg_event *ev, char *buf, size_t cap)
{
    const char *name = lg_event_kind_name(ev->kind);
    if (name)
        return name;
    snprintf(buf, cap, "event-%u", ev->kind);
    return buf;
}

/* The spawn of node n that this process event is, or NULL. */
static const struct pt_spawn *spawn_of(const struct pt_node *n, const struct lg_event *ev)
{
    for (size_t i = 0; i < n->nspawns; i++)
        if (n->spawns[i]->ev == ev)
            return n->spawns[i];
    return NULL;
}

static void process_events(struct trace *t, const struct pt_node *n)
{
    uint32_t pid = node_pid(n);
    for (size_t l = 0; l < n->nlogs; l++) {
        const struct lg_log *log = n->logs[l];
        for (size_t i = 0; i < log->npevents; i++) {
            const struct lg_event *ev = &log->pevents[i];
            char nb[24];
            const struct pt_spawn *sp = ev->kind == GUARD_EV_SPAWN ? spawn_of(n, ev) : NULL;
            const char *name = event_name(ev, nb, sizeof nb);
            char *label = NULL;
            if (sp && sp->child)
                label = xasprintf("spawn %s", pt_node_name(sp->child));
            json_t *e = instant(t, label ? label : name, "process", pid, ev->tid, ev->time_ns,
                                "t");
            free(label);
            json_t *args = json_object();
            char *text = event_text(ev);
            json_object_set_new(args, "event", rj_str(text));
            free(text);
            if (ev->payload && ev->kind != GUARD_EV_NS_CHANGE) {
                char *p = lg_payload_text(ev);
                if (*p)
                    json_object_set_new(args, "payload", rj_str(p));
                free(p);
            }
            if (sp) {
                json_object_set_new(args, "spawn_stack", frames_text(sp->stack));
                if (sp->child) {
                    const struct pt_node *c = sp->child;
                    json_object_set_new(args, "child_pid", json_integer(node_pid(c)));
                    char *cmd = pt_node_cmdline(c, 512);
                    json_object_set_new(args, "child", rj_str(cmd));
                    free(cmd);
                    /* a flow from the spawn to the child's track */
                    json_t *s = event(t, "s", "spawn", "spawn", pid, ev->tid, ev->time_ns);
                    json_object_set_new(s, "id", json_integer((json_int_t)c->id + 1));
                    uint64_t cts = c->start_ns > ev->time_ns ? c->start_ns : ev->time_ns;
                    if (c->end_ns && cts > c->end_ns && c->end_ns >= c->start_ns)
                        cts = c->end_ns;
                    json_t *f = event(t, "f", "spawn", "spawn", node_pid(c), node_main_tid(c),
                                      cts);
                    json_object_set_new(f, "id", json_integer((json_int_t)c->id + 1));
                    json_object_set_new(f, "bp", json_string("e"));
                }
            }
            json_object_set_new(e, "args", args);
        }
    }
}

/* An NS_CALL in words: 'mount("/x")', with ' = -1 ENOENT' when it failed. */
static char *ns_call_text(const struct lg_event *ev)
{
    const char *call = nstl_call_name(ev->args[0]);
    char *path = lg_payload_text(ev);
    int64_t rc = (int64_t)ev->args[1];
    const char *en = nstl_errno_name(ev->args[2]);
    char res[64] = "";
    if (rc != 0 && en)
        snprintf(res, sizeof res, " = %" PRId64 " %s", rc, en);
    else if (rc != 0)
        snprintf(res, sizeof res, " = %" PRId64 " errno %" PRIu64, rc, ev->args[2]);
    char *s = call ? xasprintf("%s(\"%s\")%s", call, path, res)
                   : xasprintf("call-%" PRIu64 "(\"%s\")%s", ev->args[0], path, res);
    free(path);
    return s;
}

static void ns_events(struct trace *t, const struct pt_node *n)
{
    if (!n->ns)
        return;
    uint32_t pid = node_pid(n);
    for (size_t i = 0; i < n->ns->n; i++) {
        const struct ns_item *it = &n->ns->items[i];
        const struct lg_event *ev = &it->e->ev;
        if (ev->kind != GUARD_EV_NS_CHANGE && ev->kind != GUARD_EV_NS_CALL)
            continue;
        char nb[24];
        const char *call = nstl_call_name(ev->args[0]);
        char *name = xasprintf("%s%s%s", event_name(ev, nb, sizeof nb), call ? " " : "",
                               call ? call : "");
        json_t *e = instant(t, name, "namespace", pid, ev->tid, ev->time_ns, "t");
        free(name);
        json_t *args = json_object();
        char *text = ev->kind == GUARD_EV_NS_CHANGE ? crash_ns_change_text(ev) : ns_call_text(ev);
        json_object_set_new(args, "event", rj_str(text));
        free(text);
        if (ev->kind == GUARD_EV_NS_CALL) {
            char *p = lg_payload_text(ev);
            json_object_set_new(args, "path", rj_str(p));
            free(p);
            if (it->e->mark)
                json_object_set_new(args, "off_thread",
                                    json_string(it->e->mark == LG_NS_MARK_OFF_THREAD
                                                    ? "left behind by another thread's move"
                                                    : "in the namespace another thread moved into"));
        }
        json_object_set_new(args, "stack", frames_text(it->stack));
        json_object_set_new(e, "args", args);
    }
    if (n->ns->dropped)
        meta(t, "namespace_events_dropped", pid, node_main_tid(n), "count",
             json_integer((json_int_t)n->ns->dropped));
}

static void pool_events(struct trace *t, const struct pt_node *n)
{
    uint32_t pid = node_pid(n);
    for (size_t l = 0; l < n->nlogs; l++) {
        const struct lg_log *log = n->logs[l];
        t->pool_dropped += log->npool_spans_dropped;
        for (size_t i = 0; i < log->npool_spans; i++) {
            const struct lg_pool_span *s = &log->pool_spans[i];
            if (t->pool_spans >= TRACE_POOL_MAX) {
                t->pool_dropped++;
                continue;
            }
            t->pool_spans++;
            uint64_t end = s->put_time ? s->put_time : log->end_time_ns;
            if (end < s->get_time)
                end = s->get_time;
            /* nestable async slices, not "X": the lifetimes of the objects
             * a thread holds at once overlap without nesting */
            json_t *b = event(t, "b", "pool object", "pool", pid, s->get_tid, s->get_time);
            json_object_set_new(b, "id", json_integer((json_int_t)t->pool_spans));
            json_t *e = event(t, "e", "pool object", "pool", pid,
                              s->put_time ? s->put_tid : s->get_tid, end);
            json_object_set_new(e, "id", json_integer((json_int_t)t->pool_spans));
            json_t *args = json_object();
            char *obj = xasprintf("0x%" PRIx64, s->obj);
            json_object_set_new(args, "object", json_string(obj));
            free(obj);
            json_object_set_new(args, "pool", rj_hex(s->pool));
            json_object_set_new(args, "size", rj_uint(s->size));
            json_object_set_new(args, "get_tid", json_integer(s->get_tid));
            if (s->put_time)
                json_object_set_new(args, "put_tid", json_integer(s->put_tid));
            else
                json_object_set_new(args, "put", json_string("never put back (to the end of "
                                                             "the log)"));
            json_object_set_new(b, "args", args);
        }
    }
}

static bool reported(const struct fnd *f)
{
    return f && !f->suppressed && !f->known;
}

static void finding_events(struct trace *t, const struct report *r)
{
    for (size_t i = 0; i < r->nlogs; i++) {
        const struct lg_log *log = r->logs[i];
        const struct pt_node *n = pt_node_of_log(&r->db->tree, log);
        uint32_t pid = n ? node_pid(n) : log->hdr.pid;
        for (size_t k = 0; k < log->nfindings; k++) {
            const struct lg_finding *rec = &log->findings[k];
            const struct fnd *f = rec->owner;
            if (!reported(f))
                continue;
            uint32_t tid = rec->tid ? rec->tid : n ? node_main_tid(n) : pid;
            json_t *e = instant(t, f->kind_name, "finding", pid, tid, rec->time_ns,
                                rec->tid ? "t" : "p");
            json_t *args = json_object();
            json_object_set_new(args, "summary", rj_str(rec->summary));
            json_object_set_new(args, "fingerprint", json_string(f->fingerprint));
            if (rec->count > 1)
                json_object_set_new(args, "count", rj_uint(rec->count));
            if (rec->call)
                json_object_set_new(args, "call", rj_str(rec->call));
            json_t *stacks = json_object();
            for (size_t s = 0; s < f->nstacks; s++)
                json_object_set_new(stacks, f->stacks[s].role, frames_text(f->stacks[s].sym));
            json_object_set_new(args, "stacks", stacks);
            json_object_set_new(e, "args", args);
        }
    }
}

static void process_track(struct trace *t, const struct pt_node *n)
{
    uint32_t pid = node_pid(n), tid = node_main_tid(n);
    char *cmd = pt_node_cmdline(n, 256);
    char *pname = xasprintf("%s%s", cmd, n->pid ? "" : " (pid unknown)");
    meta(t, "process_name", pid, 0, "name", rj_str(pname));
    free(pname);
    meta(t, "process_sort_index", pid, 0, "sort_index", json_integer((json_int_t)n->id));
    see_tid(t, pid, tid, "main");
    uint64_t start = n->start_ns;
    if (!start && n->spawn)
        start = n->spawn->ev->time_ns;
    if (start) {
        uint64_t end = n->end_ns > start ? n->end_ns : start;
        /* no log: it lived at least until its parent reaped it, else (for
         * all we know) as long as its parent */
        if (!n->nlogs && n->spawn && n->spawn->reap && n->spawn->reap->time_ns > end)
            end = n->spawn->reap->time_ns;
        else if (!n->nlogs && n->parent && n->parent->end_ns > end)
            end = n->parent->end_ns;
        json_t *e = event(t, "X", pt_node_name(n), "process", pid, tid, start);
        json_object_set_new(e, "dur", json_real((double)(end - start) / 1000.0));
        json_t *args = json_object();
        json_object_set_new(args, "cmdline", rj_str(cmd));
        if (n->exe)
            json_object_set_new(args, "exe", rj_str(n->exe));
        if (n->parent)
            json_object_set_new(args, "parent_pid", json_integer(node_pid(n->parent)));
        json_object_set_new(args, "end", json_string(pt_end_name(n->end)));
        if (n->have_exit) {
            char st[96];
            if (n->exit_from_reap)
                json_object_set_new(args, "status",
                                    json_string(pt_wait_status_text(n->exit_status, st,
                                                                    sizeof st)));
            else
                json_object_set_new(args, "exit_status", json_integer(n->exit_status));
        }
        json_object_set_new(args, "logs", json_integer((json_int_t)n->nlogs));
        json_object_set_new(e, "args", args);
    }
    free(cmd);
}

int report_trace(FILE *out, const struct report *r)
{
    struct trace t = {.events = json_array()};
    const struct ptree *tree = &r->db->tree;
    for (size_t i = 0; i < tree->n; i++)
        process_track(&t, tree->nodes[i]);
    for (size_t i = 0; i < tree->n; i++) {
        process_events(&t, tree->nodes[i]);
        ns_events(&t, tree->nodes[i]);
        pool_events(&t, tree->nodes[i]);
    }
    finding_events(&t, r);

    /* every thread with an event, named (the main thread "main") */
    for (size_t i = 0; i < t.ntids; i++) {
        const struct tid_seen *s = &t.tids[i];
        char *name = s->name ? xstrdup(s->name) : xasprintf("thread %" PRIu32, s->tid);
        meta(&t, "thread_name", s->pid, s->tid, "name", rj_str(name));
        free(name);
    }
    if (t.pool_dropped) {
        json_t *e = json_object();
        json_object_set_new(e, "ph", json_string("M"));
        json_object_set_new(e, "name", json_string("pool_lifetimes_dropped"));
        json_object_set_new(e, "pid", json_integer(0));
        json_object_set_new(e, "tid", json_integer(0));
        json_t *args = json_object();
        json_object_set_new(args, "count", rj_uint(t.pool_dropped));
        json_object_set_new(args, "kept", rj_uint(t.pool_spans));
        json_object_set_new(e, "args", args);
        json_array_append_new(t.events, e);
    }

    json_t *root = json_object();
    json_object_set_new(root, "traceEvents", t.events);
    json_object_set_new(root, "displayTimeUnit", json_string("ms"));
    json_t *other = json_object();
    json_object_set_new(other, "tool", json_string(ANALYZER_NAME " " GUARD_VERSION));
    json_object_set_new(other, "clock", json_string("CLOCK_MONOTONIC, microseconds"));
    json_object_set_new(other, "processes", rj_uint(tree->n));
    json_object_set_new(other, "findings", rj_uint(r->db->n));
    json_object_set_new(other, "pool_lifetimes", rj_uint(t.pool_spans));
    json_object_set_new(other, "pool_lifetimes_dropped", rj_uint(t.pool_dropped));
    json_t *notes = json_array();
    for (size_t i = 0; r->notes && i < r->notes->n; i++) {
        char *nt = note_format(&r->notes->v[i]);
        json_array_append_new(notes, rj_str(nt));
        free(nt);
    }
    json_object_set_new(other, "notes", notes);
    json_object_set_new(root, "otherData", other);
    int rc = json_dumpf(root, out, JSON_COMPACT) == 0 ? 0 : -1;
    if (rc == 0)
        fputc('\n', out);
    json_decref(root);
    free(t.tids);
    return rc == 0 && fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
