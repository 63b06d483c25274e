/*
 * report_json.c — the report for CI, with jansson.
 *
 * The shape is a fixed contract (DESIGN.md section 6):
 *   {"findings": [...], "processes": [...], "notes": [...], "summary": {...}}
 * Each finding has kind, pid, tid, summary, count, and stacks: {role:
 * [frame...]}, a frame being {"pc","module","function","file","line"}.
 * Fields beyond that are extensions (allowed: consumers ignore unknown
 * keys); nothing in the contract is renamed or reshaped here.
 *
 * Addresses are hex strings ("0x..."): JSON numbers lose precision above
 * 2^53 in most consumers.  Strings from logs go through jstr(), since
 * jansson refuses invalid UTF-8 (it would return NULL and drop the key).
 */
#define _GNU_SOURCE
#include "report.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>

#include <jansson.h>

static json_t *jstr(const char *s)
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

static json_t *jhex(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return json_string(buf);
}

/* Integers: json_int_t is long long; values past its range are nonsense
 * from a damaged log, clamped rather than wrapped. */
static json_t *juint(uint64_t v)
{
    return json_integer(v > (uint64_t)LLONG_MAX ? LLONG_MAX : (json_int_t)v);
}

static json_t *juint_or_null(uint64_t v)
{
    return v ? juint(v) : json_null();
}

static json_t *frame_json(const struct sym_frame *fr)
{
    json_t *j = json_object();
    json_object_set_new(j, "pc", jhex(fr->pc));
    json_object_set_new(j, "module", jstr(fr->module));
    json_object_set_new(j, "function", jstr(fr->function));
    json_object_set_new(j, "file", jstr(fr->file));
    json_object_set_new(j, "line", fr->file && fr->line ? juint(fr->line) : json_null());
    if (fr->have_module)
        json_object_set_new(j, "module_offset", jhex(fr->module_offset));
    if (fr->inlined)
        json_object_set_new(j, "inlined", json_true());
    return j;
}

static json_t *frames_json(const struct sym_stack *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(a, frame_json(&s->frames[i]));
    return a;
}

static json_t *events_json(const struct fnd *f)
{
    json_t *a = json_array();
    for (size_t i = 0; i < f->nevents; i++) {
        const struct lg_event *ev = f->events[i].ev;
        json_t *e = json_object();
        const char *name = lg_event_kind_name(ev->kind);
        char buf[24];
        if (!name) {
            snprintf(buf, sizeof buf, "event-%u", ev->kind);
            name = buf;
        }
        json_object_set_new(e, "kind", json_string(name));
        json_object_set_new(e, "time_ns", juint(ev->time_ns));
        json_object_set_new(e, "tid", juint(ev->tid));
        json_t *args = json_array();
        for (size_t k = 0; k < 4; k++)
            json_array_append_new(args, jhex(ev->args[k]));
        json_object_set_new(e, "args", args);
        json_object_set_new(e, "payload", jstr(ev->payload));
        json_object_set_new(e, "stack", frames_json(f->events[i].sym));
        json_array_append_new(a, e);
    }
    return a;
}

static json_t *finding_json(const struct fnd *f)
{
    const struct lg_finding *rec = f->rec;
    json_t *j = json_object();
    json_object_set_new(j, "kind", json_string(f->kind_name));
    json_object_set_new(j, "pid", juint(f->log->hdr.pid));
    json_object_set_new(j, "tid", juint(rec->tid));
    json_object_set_new(j, "summary", jstr(rec->summary));
    json_object_set_new(j, "count", juint(f->count));
    json_object_set_new(j, "processes", juint(f->npids));
    json_object_set_new(j, "runs", juint(f->nruns));

    json_t *stacks = json_object(), *tids = json_object();
    for (size_t i = 0; i < f->nstacks; i++) {
        json_object_set_new(stacks, f->stacks[i].role, frames_json(f->stacks[i].sym));
        json_object_set_new(tids, f->stacks[i].role, juint_or_null(f->stacks[i].tid));
    }
    json_object_set_new(j, "stacks", stacks);
    json_object_set_new(j, "stack_tids", tids);

    if (rec->obj || rec->pool) {
        json_t *o = json_object();
        json_object_set_new(o, "pool", jhex(rec->pool));
        json_object_set_new(o, "address", jhex(rec->obj));
        json_object_set_new(o, "size", juint(rec->size));
        json_object_set_new(j, "object", o);
        json_object_set_new(j, "offset", json_integer(rec->offset));
    } else {
        json_object_set_new(j, "object", json_null());
        json_object_set_new(j, "offset", json_null());
    }
    json_object_set_new(j, "address", rec->addr ? jhex(rec->addr) : json_null());
    const char *acc = fnd_access_name(rec->access);
    json_object_set_new(j, "access", acc ? json_string(acc) : json_null());
    json_object_set_new(j, "bytes", juint_or_null(rec->bytes));
    json_object_set_new(j, "call", jstr(rec->call));
    json_object_set_new(j, "other_tid", juint_or_null(rec->other_tid));
    json_t *flags = json_array();
    for (unsigned b = 0; b < 16; b++)
        if (rec->flags & (1u << b))
            json_array_append_new(flags, json_string(fnd_flag_name(b)));
    json_object_set_new(j, "flags", flags);

    json_t *pids = json_array();
    for (size_t i = 0; i < f->npids; i++)
        json_array_append_new(pids, juint(f->pids[i]));
    json_object_set_new(j, "pids", pids);
    json_object_set_new(j, "log", jstr(f->log->path));
    json_object_set_new(j, "time_ns", juint(rec->time_ns));
    if (f->nevents)
        json_object_set_new(j, "events", events_json(f));
    return j;
}

static json_t *process_json(const struct lg_log *log)
{
    json_t *p = json_object();
    json_object_set_new(p, "pid", juint(log->hdr.pid));
    json_object_set_new(p, "ppid", juint(log->hdr.ppid));
    json_object_set_new(p, "exe", jstr(log->exe));
    json_t *argv = json_array();
    for (size_t i = 0; i < log->argc; i++)
        json_array_append_new(argv, jstr(log->argv[i]));
    json_object_set_new(p, "argv", argv);
    json_object_set_new(p, "ended", json_boolean(log->ended));
    json_object_set_new(p, "log", jstr(log->path));
    /* INT32_MIN: returned from main without the shim seeing the status */
    json_object_set_new(p, "exit_status", log->ended && log->exit_status != INT32_MIN
                                              ? json_integer(log->exit_status) : json_null());
    json_object_set_new(p, "main_tid", juint_or_null(log->main_tid));
    json_object_set_new(p, "forked_child",
                        json_boolean(log->hdr.flags & GUARD_FILE_FORKED_CHILD));
    json_object_set_new(p, "options", jstr(log->options));
    json_object_set_new(p, "findings", juint(log->nfindings));
    json_object_set_new(p, "dropped_events", juint(log->dropped_events));
    json_object_set_new(p, "corrupt", json_boolean(log->corrupt));
    return p;
}

/* Notes are plain strings, the same lines as in the text report:
 * consumers grep them ("END", an offset), they do not parse them. */
static json_t *note_json(const struct note *nt)
{
    char *line = note_format(nt);
    json_t *j = jstr(line);
    free(line);
    return j;
}

int report_json(FILE *out, const struct report *r)
{
    const struct fnd_db *db = r->db;
    json_t *root = json_object();

    json_t *findings = json_array();
    json_t *by_kind = json_object();
    for (size_t i = 0; i < db->n; i++) {
        const struct fnd *f = db->sorted[i];
        json_array_append_new(findings, finding_json(f));
        json_t *c = json_object_get(by_kind, f->kind_name);
        json_int_t prev = c ? json_integer_value(c) : 0;
        json_object_set_new(by_kind, f->kind_name, json_integer(prev + (json_int_t)f->count));
    }
    json_object_set_new(root, "findings", findings);

    json_t *procs = json_array();
    for (size_t i = 0; i < r->nlogs; i++)
        json_array_append_new(procs, process_json(r->logs[i]));
    json_object_set_new(root, "processes", procs);

    json_t *notes = json_array();
    for (size_t i = 0; i < r->notes->n; i++)
        json_array_append_new(notes, note_json(&r->notes->v[i]));
    json_object_set_new(root, "notes", notes);

    json_t *sum = json_object();
    json_object_set_new(sum, "findings", juint(db->n));
    json_object_set_new(sum, "occurrences", juint(db->occurrences));
    json_object_set_new(sum, "kinds", juint(db->nkinds));
    json_object_set_new(sum, "processes", juint(r->nlogs));
    size_t runs = 0; /* logs are in operand order: count the changes */
    for (size_t i = 0; i < r->nlogs; i++)
        if (i == 0 || r->logs[i]->run != r->logs[i - 1]->run)
            runs++;
    json_object_set_new(sum, "runs", juint(runs));
    json_object_set_new(sum, "errors", juint(r->notes->errors));
    json_object_set_new(sum, "by_kind", by_kind);
    json_object_set_new(root, "summary", sum);

    int rc = json_dumpf(root, out, JSON_INDENT(2));
    json_decref(root);
    if (rc == 0)
        fputc('\n', out);
    return rc == 0 && fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
