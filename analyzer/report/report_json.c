/*
 * report_json.c — the report for CI, with jansson.
 *
 * The shape is a fixed contract (DESIGN.md section 6):
 *   {"findings": [...], "processes": [...], "notes": [...], "summary": {...}}
 * ("processes": those that matter to a finding, or all with --verbose)
 * Each finding has kind, pid, tid, summary, count, and stacks: {role:
 * [frame...]}, a frame being {"pc","module","function","file","line"}.
 * Fields beyond that are extensions (allowed: consumers ignore unknown
 * keys); nothing in the contract is renamed or reshaped here.
 *
 * Addresses are hex strings ("0x..."): JSON numbers lose precision above
 * 2^53 in most consumers.  Strings from logs go through rj_str(), since
 * jansson refuses invalid UTF-8 (it would return NULL and drop the key).
 */
#define _GNU_SOURCE
#include "report.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "crash.h"
#include "fingerprint.h"
#include "report_json.h"

json_t *rj_str(const char *s)
{
    if (!s)
        return json_null();
    if (utf8_valid(s))
        return json_string(s);
    char *clean = utf8_sanitize(s);
    json_t *j = json_string(clean);
    free(clean);
    return j;
}

json_t *rj_hex(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return json_string(buf);
}

/* Integers: json_int_t is long long; values past its range are nonsense
 * from a damaged log, clamped rather than wrapped. */
json_t *rj_uint(uint64_t v)
{
    return json_integer(v > (uint64_t)LLONG_MAX ? LLONG_MAX : (json_int_t)v);
}

json_t *rj_uint_or_null(uint64_t v)
{
    return v ? rj_uint(v) : json_null();
}

static json_t *frame_json(const struct sym_frame *fr)
{
    json_t *j = json_object();
    json_object_set_new(j, "pc", rj_hex(fr->pc));
    json_object_set_new(j, "module", rj_str(fr->module));
    json_object_set_new(j, "function", rj_str(fr->function));
    json_object_set_new(j, "file", rj_str(fr->file));
    json_object_set_new(j, "line", fr->file && fr->line ? rj_uint(fr->line) : json_null());
    if (fr->have_module)
        json_object_set_new(j, "module_offset", rj_hex(fr->module_offset));
    if (fr->inlined)
        json_object_set_new(j, "inlined", json_true());
    return j;
}

json_t *rj_frames(const struct sym_stack *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(a, frame_json(&s->frames[i]));
    return a;
}

json_t *rj_event(const struct fnd_event *fe)
{
    const struct lg_event *ev = fe->ev;
    json_t *e = json_object();
    const char *name = lg_event_kind_name(ev->kind);
    char buf[24];
    if (!name) {
        snprintf(buf, sizeof buf, "event-%u", ev->kind);
        name = buf;
    }
    json_object_set_new(e, "kind", json_string(name));
    json_object_set_new(e, "time_ns", rj_uint(ev->time_ns));
    json_object_set_new(e, "tid", rj_uint(ev->tid));
    json_t *args = json_array();
    for (size_t k = 0; k < 4; k++)
        json_array_append_new(args, rj_hex(ev->args[k]));
    json_object_set_new(e, "args", args);
    char *payload = ev->payload && ev->kind != GUARD_EV_NS_CHANGE ? lg_payload_text(ev) : NULL;
    json_object_set_new(e, "payload", rj_str(payload));
    free(payload);
    if (ev->kind == GUARD_EV_NS_CHANGE) { /* a binary payload: in words */
        char *t = crash_ns_change_text(ev);
        json_object_set_new(e, "text", rj_str(t));
        free(t);
    }
    if (ev->short_form) /* a short record: coarse time, args from the last full event */
        json_object_set_new(e, "short", json_true());
    if (ev->unresolved) /* ...which was not in the log: pool, size, flags unknown */
        json_object_set_new(e, "unresolved", json_true());
    json_object_set_new(e, "stack", rj_frames(fe->sym));
    return e;
}

static json_t *events_json(const struct fnd *f)
{
    json_t *a = json_array();
    for (size_t i = 0; i < f->nevents; i++)
        json_array_append_new(a, rj_event(&f->events[i]));
    return a;
}

int rj_dump(json_t *root, FILE *out)
{
    int rc = json_dumpf(root, out, JSON_INDENT(2));
    if (rc == 0)
        fputc('\n', out);
    return rc == 0 && fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

static json_t *strv_json(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, rj_str(v[i]));
    return a;
}

/* unreaped-child, put-while-child-running: the child other_tid names (or,
 * for a popen or system child, the spawn at the finding's spawn stack). */
static json_t *child_json(const struct report *r, const struct fnd *f)
{
    const struct pt_node *c = pt_finding_child(&r->db->tree, f->log, f->rec);
    if (!c)
        return json_null();
    json_t *j = json_object();
    json_object_set_new(j, "pid", rj_uint_or_null(c->pid));
    json_object_set_new(j, "command", rj_str(c->spawn ? pt_spawn_command(c->spawn) : NULL));
    json_object_set_new(j, "exe", rj_str(c->exe));
    json_object_set_new(j, "argv", strv_json(c->argv, c->argc));
    json_object_set_new(j, "process", rj_uint(c->id));
    return j;
}

static json_t *finding_json(const struct report *r, const struct fnd *f)
{
    const struct lg_finding *rec = f->rec;
    json_t *j = json_object();
    json_object_set_new(j, "kind", json_string(f->kind_name));
    json_object_set_new(j, "pid", rj_uint(f->log->hdr.pid));
    json_object_set_new(j, "tid", rj_uint(rec->tid));
    json_object_set_new(j, "summary", rj_str(rec->summary));
    json_object_set_new(j, "count", rj_uint(f->count));
    json_object_set_new(j, "processes", rj_uint(f->npids));
    json_object_set_new(j, "runs", rj_uint(f->nruns));
    json_object_set_new(j, "fingerprint", json_string(f->fingerprint));

    json_t *stacks = json_object(), *tids = json_object();
    for (size_t i = 0; i < f->nstacks; i++) {
        json_object_set_new(stacks, f->stacks[i].role, rj_frames(f->stacks[i].sym));
        json_object_set_new(tids, f->stacks[i].role, rj_uint_or_null(f->stacks[i].tid));
    }
    json_object_set_new(j, "stacks", stacks);
    json_object_set_new(j, "stack_tids", tids);

    if (rec->obj || rec->pool) {
        json_t *o = json_object();
        json_object_set_new(o, "pool", rj_hex(rec->pool));
        json_object_set_new(o, "address", rj_hex(rec->obj));
        json_object_set_new(o, "size", rj_uint(rec->size));
        json_object_set_new(j, "object", o);
        json_object_set_new(j, "offset", json_integer(rec->offset));
    } else {
        json_object_set_new(j, "object", json_null());
        json_object_set_new(j, "offset", json_null());
    }
    json_object_set_new(j, "address", rec->addr ? rj_hex(rec->addr) : json_null());
    const char *acc = fnd_access_name(rec->access);
    json_object_set_new(j, "access", acc ? json_string(acc) : json_null());
    json_object_set_new(j, "bytes", rj_uint_or_null(rec->bytes));
    json_object_set_new(j, "call", rj_str(rec->call));
    json_object_set_new(j, "other_tid", rj_uint_or_null(rec->other_tid));
    json_t *flags = json_array();
    for (unsigned b = 0; b < 16; b++)
        if (rec->flags & (1u << b))
            json_array_append_new(flags, json_string(fnd_flag_name(b)));
    json_object_set_new(j, "flags", flags);
    /* every finding is read from a log: nothing is derived (a process that
     * could not finish has nothing made up against it); the key stays for
     * consumers that test it */
    json_object_set_new(j, "derived", json_false());
    if (f->kind == GUARD_FK_UNREAPED_CHILD || f->kind == GUARD_FK_PUT_WHILE_CHILD_RUNNING)
        json_object_set_new(j, "child", child_json(r, f));

    json_t *pids = json_array();
    for (size_t i = 0; i < f->npids; i++)
        json_array_append_new(pids, rj_uint(f->pids[i]));
    json_object_set_new(j, "pids", pids);
    json_object_set_new(j, "log", rj_str(f->log->path));
    json_object_set_new(j, "time_ns", rj_uint(rec->time_ns));
    if (f->nevents)
        json_object_set_new(j, "events", events_json(f));
    if (f->crash)
        report_json_crash_fields(j, f);
    return j;
}

/* fixed / unchanged / suppressed entries: enough to recognise a finding */
static json_t *brief_json(const char *fp, const char *kind, const char *summary, size_t count)
{
    json_t *j = json_object();
    json_object_set_new(j, "fingerprint", rj_str(fp));
    json_object_set_new(j, "kind", rj_str(kind));
    json_object_set_new(j, "summary", rj_str(summary));
    if (count)
        json_object_set_new(j, "count", rj_uint(count));
    return j;
}

static void baseline_json(json_t *root, const struct report *r)
{
    const struct baseline *b = r->baseline;
    const struct fnd_db *db = r->db;
    json_t *fixed = json_array(), *unchanged = json_array();
    for (size_t i = 0; i < b->n; i++)
        if (!b->v[i]->seen)
            json_array_append_new(fixed, brief_json(b->v[i]->fingerprint, b->v[i]->kind,
                                                    b->v[i]->summary, 0));
    for (size_t i = 0; i < db->nknown; i++)
        json_array_append_new(unchanged, brief_json(db->known[i]->fingerprint,
                                                    db->known[i]->kind_name,
                                                    db->known[i]->rec->summary,
                                                    db->known[i]->count));
    json_object_set_new(root, "fixed", fixed);
    json_object_set_new(root, "unchanged", unchanged);
    json_t *bj = json_object();
    json_object_set_new(bj, "file", rj_str(b->path));
    json_object_set_new(bj, "findings", rj_uint(b->n));
    json_object_set_new(bj, "new", rj_uint(db->n));
    json_object_set_new(bj, "unchanged", rj_uint(db->nknown));
    json_object_set_new(bj, "fixed", rj_uint(b->nfixed));
    json_object_set_new(root, "baseline", bj);
}

static void suppressions_json(json_t *root, const struct report *r)
{
    const struct fnd_db *db = r->db;
    json_t *sup = json_array();
    for (size_t i = 0; i < db->nsuppressed; i++) {
        const struct fnd *f = db->suppressed[i];
        json_t *j = brief_json(f->fingerprint, f->kind_name, f->rec->summary, f->count);
        json_object_set_new(j, "rule", f->rule ? rj_str(f->rule->text) : json_string("shim"));
        json_object_set_new(j, "rule_file", f->rule ? rj_str(f->rule->file) : json_null());
        json_object_set_new(j, "rule_line", f->rule ? rj_uint(f->rule->line) : json_null());
        json_array_append_new(sup, j);
    }
    json_object_set_new(root, "suppressed", sup);
    if (!r->supp)
        return;
    json_t *rules = json_array();
    for (size_t k = 0; k < r->supp->n; k++) {
        const struct supp_rule *ru = &r->supp->v[k];
        json_t *j = json_object();
        json_object_set_new(j, "file", rj_str(ru->file));
        json_object_set_new(j, "line", rj_uint(ru->line));
        json_object_set_new(j, "rule", rj_str(ru->text));
        json_object_set_new(j, "findings", json_integer((json_int_t)ru->findings));
        json_object_set_new(j, "occurrences", json_integer((json_int_t)ru->occurrences));
        json_array_append_new(rules, j);
    }
    json_object_set_new(root, "suppressions", rules);
}

static json_t *wait_status_json(int status)
{
    json_t *j = json_object();
    if (WIFEXITED(status)) {
        json_object_set_new(j, "exited", json_integer(WEXITSTATUS(status)));
    } else if (WIFSIGNALED(status)) {
        json_object_set_new(j, "signal", json_integer(WTERMSIG(status)));
        json_object_set_new(j, "core", json_boolean(WCOREDUMP(status)));
    } else {
        json_object_set_new(j, "raw", json_integer(status));
    }
    return j;
}

static json_t *spawn_json(const struct pt_spawn *s)
{
    if (!s)
        return json_null();
    json_t *j = json_object();
    const char *kind = pt_spawn_kind_name(s->kind);
    json_object_set_new(j, "kind", kind ? json_string(kind) : json_null());
    json_object_set_new(j, "tid", rj_uint(s->ev->tid));
    json_object_set_new(j, "time_ns", rj_uint(s->ev->time_ns));
    json_object_set_new(j, "program", rj_str(s->program));
    json_object_set_new(j, "argv", strv_json(s->argv, s->argc));
    json_t *flags = json_array();
    if (s->flags & GUARD_SPAWN_MULTITHREADED)
        json_array_append_new(flags, json_string("multithreaded"));
    if (s->flags & GUARD_SPAWN_AUTOREAP)
        json_array_append_new(flags, json_string("autoreap"));
    json_object_set_new(j, "flags", flags);
    json_object_set_new(j, "threads", rj_uint_or_null(s->threads));
    json_object_set_new(j, "stack", rj_frames(s->stack));
    json_object_set_new(j, "log", rj_str(s->log->path));
    return j;
}

static json_t *reap_json(const struct pt_node *n)
{
    const struct pt_spawn *s = n->spawn;
    if (!s || (!s->reap && !s->reap_implicit))
        return json_null();
    json_t *j = json_object();
    if (s->reap) {
        const char *call = pt_reap_call_name((unsigned)s->reap->args[2]);
        int wst;
        bool known = pt_reap_status(s->reap, &wst);
        json_object_set_new(j, "tid", rj_uint(s->reap->tid));
        json_object_set_new(j, "call", call ? json_string(call) : json_null());
        /* lost (a bad status pointer: the kernel reaped all the same) */
        json_object_set_new(j, "status", known ? wait_status_json(wst) : json_null());
        json_object_set_new(j, "status_unknown", json_boolean(!known));
        json_object_set_new(j, "time_ns", rj_uint(s->reap->time_ns));
        json_object_set_new(j, "asked_for_pid", json_boolean(pt_reap_asked_for_pid(s->reap)));
    } else {
        /* system() reaped it inside libc, and the shim logged no REAP */
        json_object_set_new(j, "tid", rj_uint(s->ev->tid));
        json_object_set_new(j, "call", json_string("system"));
        json_t *st = json_null();
        if (n->have_exit) {
            st = json_object();
            json_object_set_new(st, "exited", json_integer(n->exit_status));
        }
        json_object_set_new(j, "status", st);
        json_object_set_new(j, "time_ns", json_null());
        json_object_set_new(j, "implicit", json_true());
    }
    return j;
}

static json_t *process_json(const struct pt_node *n)
{
    json_t *p = json_object();
    const struct lg_log *last = n->nlogs ? n->logs[n->nlogs - 1] : NULL;
    json_object_set_new(p, "id", rj_uint(n->id));
    /* as its parent knows it; null: not known (popen, system without a log) */
    json_object_set_new(p, "pid", rj_uint_or_null(n->pid));
    /* its pid in its own pid namespace, when that differs */
    json_object_set_new(p, "ns_pid", rj_uint_or_null(n->ns_pid));
    json_object_set_new(p, "ppid", n->nlogs || n->parent ? rj_uint(n->ppid) : json_null());
    json_object_set_new(p, "run", rj_uint(n->run));
    json_object_set_new(p, "exe", rj_str(n->exe));
    json_object_set_new(p, "argv", strv_json(n->argv, n->argc));
    /* INT32_MIN in END: returned from main without the shim seeing the
     * status; then the parent's wait status says it, when it was logged */
    json_object_set_new(p, "exit_status", n->have_exit ? json_integer(n->exit_status) : json_null());
    json_object_set_new(p, "exit_status_from",
                        !n->have_exit ? json_null()
                                      : json_string(n->exit_from_reap ? "wait" : "log"));
    json_object_set_new(p, "ended", json_string(pt_end_name(n->end)));
    /* false with ended "exit": it exited (its parent's wait status says)
     * by a path the shim does not see */
    json_object_set_new(p, "end_record", json_boolean(last && last->ended));
    json_object_set_new(p, "has_log", json_boolean(n->nlogs > 0));
    json_object_set_new(p, "log", last ? rj_str(last->path) : json_null());
    json_t *logs = json_array(), *chain = json_array();
    for (size_t i = 0; i < n->nlogs; i++) {
        const struct lg_log *log = n->logs[i];
        json_array_append_new(logs, rj_str(log->path));
        json_t *c = json_object();
        json_object_set_new(c, "exe", rj_str(log->exe));
        json_object_set_new(c, "argv", strv_json(log->argv, log->argc));
        json_object_set_new(c, "log", rj_str(log->path));
        json_object_set_new(c, "confirmed", json_true());
        json_array_append_new(chain, c);
    }
    if (n->end == PT_END_EXEC || n->exec_told) {
        json_t *c = json_object();
        json_object_set_new(c, "exe", rj_str(n->exec_path));
        json_object_set_new(c, "argv", strv_json(n->exec_argv, n->exec_argc));
        json_object_set_new(c, "log", json_null());
        /* false: the child was gone before its exec was seen to work */
        json_object_set_new(c, "confirmed", json_boolean(!n->exec_unconfirmed));
        /* where the child called exec, when it told its parent (CHILD_EXEC) */
        json_object_set_new(c, "stack", n->exec_told && n->spawn && n->spawn->exec_stack
                                            ? rj_frames(n->spawn->exec_stack)
                                            : json_null());
        json_array_append_new(chain, c);
    }
    json_object_set_new(p, "logs", logs);
    json_object_set_new(p, "exec_chain", chain);
    json_object_set_new(p, "spawn", spawn_json(n->spawn));
    json_object_set_new(p, "reap", reap_json(n));
    json_t *kill = json_null();
    if (n->spawn && n->spawn->kill) {
        kill = json_object();
        json_object_set_new(kill, "tid", rj_uint(n->spawn->kill->tid));
        json_object_set_new(kill, "signal", rj_uint(n->spawn->kill->args[1]));
        json_object_set_new(kill, "time_ns", rj_uint(n->spawn->kill->time_ns));
    }
    json_object_set_new(p, "kill", kill);
    json_object_set_new(p, "parent", n->parent ? rj_uint(n->parent->id) : json_null());
    json_t *kids = json_array(), *kid_ids = json_array();
    for (size_t i = 0; i < n->nchildren; i++) {
        json_array_append_new(kids, rj_uint(n->children[i]->pid));
        json_array_append_new(kid_ids, rj_uint(n->children[i]->id));
    }
    json_object_set_new(p, "children", kids);
    json_object_set_new(p, "children_ids", kid_ids);

    /* per log, summed over the exec chain */
    size_t nfindings = 0, dropped = 0, nevents = 0, nshort = 0;
    bool corrupt = false;
    for (size_t i = 0; i < n->nlogs; i++) {
        nevents += n->logs[i]->nevents;
        nshort += n->logs[i]->nshort;
        nfindings += n->logs[i]->nfindings;
        dropped += n->logs[i]->dropped_events;
        corrupt |= n->logs[i]->corrupt;
    }
    json_object_set_new(p, "main_tid", last ? rj_uint_or_null(last->main_tid) : json_null());
    json_object_set_new(p, "forked_child",
                        json_boolean(n->nlogs && (n->logs[0]->hdr.flags & GUARD_FILE_FORKED_CHILD)));
    json_object_set_new(p, "options", last ? rj_str(last->options) : json_null());
    json_object_set_new(p, "findings", rj_uint(nfindings));
    json_object_set_new(p, "events", rj_uint(nevents)); /* short pool records included */
    json_object_set_new(p, "short_pool_records", rj_uint(nshort));
    json_object_set_new(p, "dropped_events", rj_uint(dropped));
    json_object_set_new(p, "corrupt", json_boolean(corrupt));
    report_ns_json_fields(p, n);
    return p;
}

/* ---- which processes the report shows -----------------------------------
 * A nightly run has thousands of processes and a clean one matters to no
 * finding: without --verbose the report shows the processes that matter to
 * a reported finding (the process of each of its occurrences, the child a
 * child kind names, the children a crash links to) and their ancestors, so
 * that every "parent" and "process" id in it names a process shown; the
 * summary counts the others ("processes_omitted").  --verbose: them all. */

static void mark_with_ancestors(bool *shown, const struct pt_node *n)
{
    for (; n && !shown[n->id]; n = n->parent)
        shown[n->id] = true;
}

static bool reported(const struct fnd *f)
{
    return f && !f->suppressed && !f->known;
}

/* NULL: all of them. */
static bool *processes_shown(const struct report *r)
{
    const struct ptree *t = &r->db->tree;
    if (r->verbose || !t->n)
        return NULL;
    bool *shown = xcalloc(t->n, sizeof *shown);
    for (size_t i = 0; i < r->nlogs; i++) {
        const struct lg_log *log = r->logs[i];
        for (size_t k = 0; k < log->nfindings; k++) {
            const struct lg_finding *rec = &log->findings[k];
            const struct fnd *f = rec->owner;
            if (!reported(f))
                continue;
            mark_with_ancestors(shown, pt_node_of_log(t, log));
            if (f->kind == GUARD_FK_UNREAPED_CHILD || f->kind == GUARD_FK_PUT_WHILE_CHILD_RUNNING)
                mark_with_ancestors(shown, pt_finding_child(t, log, rec));
        }
    }
    for (size_t i = 0; i < t->n; i++) {
        const struct pt_node *n = t->nodes[i];
        bool matters = n->crashed || n->end == PT_END_KILLED || n->end == PT_END_KILLED_MAYBE ||
                       n->end == PT_END_LOG_CUT;
        for (size_t k = 0; k < n->nlogs && !matters; k++) {
            const struct lg_log *log = n->logs[k];
            matters = log->corrupt || log->dropped_events;
            for (size_t m = 0; m < r->notes->n && !matters; m++)
                matters = r->notes->v[m].log && strcmp(r->notes->v[m].log, log->path) == 0;
        }
        if (matters)
            mark_with_ancestors(shown, n);
    }
    for (size_t i = 0; i < r->db->n; i++) {
        const struct fnd *f = r->db->sorted[i];
        for (size_t k = 0; f->crash && k < f->crash->nlinks; k++)
            if (f->crash->links[k].kind == CL_CHILD && f->crash->links[k].spawn)
                mark_with_ancestors(shown, f->crash->links[k].spawn->child);
    }
    return shown;
}

/* Notes are plain strings, the same lines as in the text report:
 * consumers grep them ("END", an offset), they do not parse them. */
static json_t *note_json(const struct note *nt)
{
    char *line = note_format(nt);
    json_t *j = rj_str(line);
    free(line);
    return j;
}

/* ---- streaming the root object ------------------------------------------
 * A nightly run has thousands of processes: the report is written one
 * element at a time (each built, dumped and freed), so its memory is that
 * of one element, not of the whole document. */

/* v dumped with JSON_INDENT(2), every line after the first indented by
 * `indent` more spaces (JSON strings hold no raw newline); v is consumed. */
static void put_value(FILE *out, json_t *v, int indent)
{
    char *text = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    json_decref(v);
    if (!text) {
        fputs("null", out);
        return;
    }
    for (const char *p = text; *p; p++) {
        fputc(*p, out);
        if (*p == '\n')
            fprintf(out, "%*s", indent, "");
    }
    free(text);
}

static void put_key(FILE *out, bool *first, const char *key)
{
    fprintf(out, "%s\n  \"%s\": ", *first ? "" : ",", key);
    *first = false;
}

static void put_member(FILE *out, bool *first, const char *key, json_t *v)
{
    put_key(out, first, key);
    put_value(out, v, 2);
}

/* Members of obj, in order, at the root (obj is consumed). */
static void put_members(FILE *out, bool *first, json_t *obj)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        put_key(out, first, key);
        put_value(out, json_incref(v), 2);
    }
    json_decref(obj);
}

struct array_writer {
    FILE *out;
    size_t n;
};

static void array_begin(struct array_writer *w, FILE *out, bool *first, const char *key)
{
    put_key(out, first, key);
    fputc('[', out);
    w->out = out;
    w->n = 0;
}

static void array_item(struct array_writer *w, json_t *v)
{
    fputs(w->n++ ? ",\n    " : "\n    ", w->out);
    put_value(w->out, v, 4);
}

static void array_end(struct array_writer *w)
{
    fputs(w->n ? "\n  ]" : "]", w->out);
}

int report_json(FILE *out, const struct report *r)
{
    const struct fnd_db *db = r->db;
    bool first = true;
    struct array_writer w;
    fputc('{', out);

    json_t *by_kind = json_object();
    array_begin(&w, out, &first, "findings");
    for (size_t i = 0; i < db->n; i++) {
        const struct fnd *f = db->sorted[i];
        array_item(&w, finding_json(r, f));
        json_t *c = json_object_get(by_kind, f->kind_name);
        json_int_t prev = c ? json_integer_value(c) : 0;
        json_object_set_new(by_kind, f->kind_name, json_integer(prev + (json_int_t)f->count));
    }
    array_end(&w);

    bool *shown = processes_shown(r);
    size_t nshown = 0;
    array_begin(&w, out, &first, "processes");
    for (size_t i = 0; i < db->tree.n; i++)
        if (!shown || shown[db->tree.nodes[i]->id]) {
            array_item(&w, process_json(db->tree.nodes[i]));
            nshown++;
        }
    array_end(&w);
    free(shown);

    array_begin(&w, out, &first, "notes");
    for (size_t i = 0; i < r->notes->n; i++)
        array_item(&w, note_json(&r->notes->v[i]));
    array_end(&w);

    json_t *sum = json_object();
    json_object_set_new(sum, "findings", rj_uint(db->n));
    json_object_set_new(sum, "occurrences", rj_uint(db->occurrences));
    json_object_set_new(sum, "kinds", rj_uint(db->nkinds));
    /* the processes of the tree (an exec'ing process has one log per
     * image; a quiet child, none) */
    json_object_set_new(sum, "processes", rj_uint(db->tree.n));
    json_object_set_new(sum, "processes_with_log", rj_uint(db->tree.nlogged));
    json_object_set_new(sum, "processes_without_log", rj_uint(db->tree.n - db->tree.nlogged));
    /* in "processes": all with --verbose, else those that matter to a
     * finding and their ancestors */
    json_object_set_new(sum, "processes_shown", rj_uint(nshown));
    json_object_set_new(sum, "processes_omitted", rj_uint(db->tree.n - nshown));
    json_object_set_new(sum, "logs", rj_uint(r->nlogs));
    size_t runs = 0; /* logs are in operand order: count the changes */
    for (size_t i = 0; i < r->nlogs; i++)
        if (i == 0 || r->logs[i]->run != r->logs[i - 1]->run)
            runs++;
    json_object_set_new(sum, "runs", rj_uint(runs));
    json_object_set_new(sum, "errors", rj_uint(r->notes->errors));
    json_object_set_new(sum, "suppressed", rj_uint(db->nsuppressed));
    if (r->baseline) {
        json_object_set_new(sum, "unchanged", rj_uint(db->nknown));
        json_object_set_new(sum, "fixed", rj_uint(r->baseline->nfixed));
    }
    json_object_set_new(sum, "by_kind", by_kind);
    put_member(out, &first, "summary", sum);

    json_t *rest = json_object(); /* the small parts */
    /* what "fingerprint" is a hash of (fingerprint.h); --baseline checks it */
    json_object_set_new(rest, "fingerprint_recipe", json_string(FP_SARIF_KEY));
    suppressions_json(rest, r);
    if (r->baseline)
        baseline_json(rest, r);
    put_members(out, &first, rest);
    fputs("\n}\n", out);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
