/*
 * report_ns.c — the namespace timeline of each process in the reports
 * (nstimeline.h builds it).
 *
 * Text, after the findings and the process tree:
 *
 *   Namespace timeline of 20535 ns_offthread_pool:
 *     +0.001161s T20537 unshare(CLONE_NEWNS)        mnt:[4026532177] -> mnt:[4026532178]
 *     +0.001234s T20536 mount("/tmp/x/resolv.conf")  in mnt:[4026532177]  <- OFF-THREAD: ...
 *
 * A mount-family call the namespace-off-thread rule finds left behind is
 * marked (logns.c judges: the shim's verdict in the log, else the rule by
 * the log's order): that is the finding, seen in order.
 *
 * JSON: each entry of "processes" gets "namespaces" (always; [] without
 * namespace events), "namespaces_dropped" and "namespace_threads".
 */
#define _GNU_SOURCE
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "nstimeline.h"
#include "report_json.h"

/* Timelines shown in the text report without --verbose. */
#define NS_TEXT_MAX_PROCS 50u
/* Column the "T... call(...)" part is padded to. */
#define NS_CALL_COLUMN 36

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

static int64_t result_of(const struct lg_event *ev)
{
    return (int64_t)(ev->kind == GUARD_EV_NS_CHANGE ? ev->args[2] : ev->args[1]);
}

static uint64_t errno_of(const struct lg_event *ev)
{
    return ev->kind == GUARD_EV_NS_CHANGE ? ev->args[3] : ev->args[2];
}

static char *ns_id(unsigned slot, uint64_t ino)
{
    return xasprintf("%s:[%" PRIu64 "]", nstl_link_name(slot), ino);
}

/* ---- text ------------------------------------------------------------- */

/* What the text walk knows of each thread's mount namespace (inheritance
 * at thread start). */
struct mnt_map {
    uint32_t *tid;
    uint64_t *ino;
    size_t n, cap;
};

static uint64_t mnt_get(const struct mnt_map *m, uint32_t tid)
{
    for (size_t i = m->n; i-- > 0;)
        if (m->tid[i] == tid)
            return m->ino[i];
    return 0;
}

static void mnt_set(struct mnt_map *m, uint32_t tid, uint64_t ino)
{
    if (!ino)
        return;
    for (size_t i = 0; i < m->n; i++)
        if (m->tid[i] == tid) {
            m->ino[i] = ino;
            return;
        }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->tid = xreallocarray(m->tid, m->cap, sizeof *m->tid);
        m->ino = xreallocarray(m->ino, m->cap, sizeof *m->ino);
    }
    m->tid[m->n] = tid;
    m->ino[m->n++] = ino;
}

static void text_failure(FILE *f, const struct lg_event *ev)
{
    int64_t rc = result_of(ev);
    const char *en = nstl_errno_name(errno_of(ev));
    if (rc == 0)
        return;
    fprintf(f, " = %" PRId64, rc);
    if (en)
        fprintf(f, " %s", en);
    else if (errno_of(ev))
        fprintf(f, " errno %" PRIu64, errno_of(ev));
}

/* "T20537 unshare(CLONE_NEWNS)" / "T20536 mount("/x") = -1 ENOENT" */
static void text_call(FILE *f, const struct lg_event *ev)
{
    const char *call = nstl_call_name(ev->args[0]);
    fprintf(f, "T%u ", ev->tid);
    if (call)
        fputs(call, f);
    else
        fprintf(f, "call-%" PRIu64, ev->args[0]);
    fputc('(', f);
    if (ev->kind == GUARD_EV_NS_CHANGE) {
        const char *names[8];
        uint64_t rest;
        size_t n = nstl_flag_names(ev->args[1], names, 8, &rest);
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%s%s", i ? "|" : "", names[i]);
        if (rest || !n)
            fprintf(f, "%s0x%" PRIx64, n ? "|" : "", rest);
    } else if (ev->payload) {
        char *t = xstrndup_bytes(ev->payload, ev->payload_len);
        fputc('"', f);
        fput_escaped(f, t);
        fputc('"', f);
        free(t);
    } else {
        fputs("NULL", f);
    }
    fputc(')', f);
    text_failure(f, ev);
}

static void text_change(FILE *out, const struct lg_event *ev, struct mnt_map *mm)
{
    struct guard_ns_change_payload p;
    if (!nstl_change_payload(ev, &p)) {
        fputs("(namespaces not recorded)", out);
        return;
    }
    const char *sep = "";
    for (unsigned k = 0; k < 8; k++) {
        if (p.before[k] == p.after[k])
            continue;
        fprintf(out, "%s%s:[%" PRIu64 "] -> %s:[%" PRIu64 "]%s", sep, nstl_link_name(k),
                p.before[k], nstl_link_name(k), p.after[k],
                k == GUARD_NSK_PID - 1 || k == GUARD_NSK_TIME - 1 ? " (for children)" : "");
        sep = ", ";
    }
    if (!*sep)
        fputs("(no change)", out);
    mnt_set(mm, ev->tid, p.after[GUARD_NSK_MNT - 1]);
}

static void text_ns_call(FILE *out, const struct lg_ns_entry *e, struct mnt_map *mm)
{
    const struct lg_event *ev = &e->ev;
    if (ev->args[3])
        fprintf(out, "in mnt:[%" PRIu64 "]", ev->args[3]);
    else
        fputs("in mnt:[?]", out);
    mnt_set(mm, ev->tid, ev->args[3]);
    const char *by = nstl_call_name(e->changer_call);
    if (e->mark == LG_NS_MARK_OFF_THREAD)
        fprintf(out, "  <- OFF-THREAD: T%u's %s() set up mnt:[%" PRIu64 "]", e->changer_tid,
                by ? by : "change", e->changer_ino);
    else if (e->mark == LG_NS_MARK_OTHER_THREAD)
        fprintf(out, "  (the one T%u's %s() set up, used from another thread)", e->changer_tid,
                by ? by : "change");
}

static void text_item(FILE *out, const struct pt_node *n, const struct ns_item *it,
                      struct mnt_map *mm)
{
    const struct lg_event *ev = &it->e->ev;
    fputs("  ", out);
    report_text_time(out, n->logs[0], ev->time_ns);
    fputc(' ', out);
    if (ev->kind == GUARD_EV_THREAD_START) {
        uint32_t creator = (uint32_t)ev->args[0];
        uint64_t ino = mnt_get(mm, creator);
        fprintf(out, "T%u started by T%u", ev->tid, creator);
        if (ino) {
            fprintf(out, ", in its mnt:[%" PRIu64 "]", ino);
            mnt_set(mm, ev->tid, ino);
        }
        fputc('\n', out);
        return;
    }
    char *call = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&call, &len);
    if (f) {
        text_call(f, ev);
        if (fclose(f) != 0) {
            free(call);
            call = NULL;
        }
    }
    fputs(call ? call : "?", out);
    int pad = NS_CALL_COLUMN - (int)(call ? strlen(call) : 1);
    free(call);
    if (ev->kind == GUARD_EV_NS_CHANGE && result_of(ev) != 0) {
        fputc('\n', out); /* failed: nothing changed */
        return;
    }
    fprintf(out, "%*s", pad > 2 ? pad : 2, "");
    if (ev->kind == GUARD_EV_NS_CHANGE)
        text_change(out, ev, mm);
    else
        text_ns_call(out, it->e, mm);
    fputc('\n', out);
}

static bool has_off_thread(const struct ns_timeline *tl)
{
    if (tl->dropped_off_thread)
        return true;
    for (size_t i = 0; i < tl->n; i++)
        if (tl->items[i].e->mark == LG_NS_MARK_OFF_THREAD)
            return true;
    return false;
}

static void text_timeline(FILE *out, const struct pt_node *n)
{
    const struct ns_timeline *tl = n->ns;
    fprintf(out, "Namespace timeline of %u ", n->pid);
    fput_escaped(out, pt_node_name(n));
    fputs(":\n", out);
    if (n->spawn && n->spawn->ev && n->spawn->owner) {
        const char *how = pt_spawn_kind_name(n->spawn->kind);
        fprintf(out, "  (main thread T%u starts in the namespaces of T%u of %u, which started it "
                "with %s)\n", n->pid, n->spawn->ev->tid, n->spawn->owner->pid, how ? how : "?");
    }
    struct mnt_map mm = {0};
    const struct lg_log *cur = NULL;
    for (size_t i = 0; i < tl->n; i++) {
        const struct ns_item *it = &tl->items[i];
        if (it->log != cur && n->nlogs > 1) {
            fputs("  in ", out);
            fput_escaped(out, it->log->exe ? base_name(it->log->exe) : "?");
            fprintf(out, "%s:\n", cur ? " (after exec)" : "");
        }
        cur = it->log;
        text_item(out, n, it, &mm);
    }
    free(mm.tid);
    free(mm.ino);
    if (tl->dropped) {
        fprintf(out, "  ... %zu more namespace %s not kept", tl->dropped,
                tl->dropped == 1 ? "event" : "events");
        if (tl->dropped_off_thread)
            fprintf(out, " (%zu of them OFF-THREAD)", tl->dropped_off_thread);
        fprintf(out, "; the first %u are shown\n", LG_NS_TIMELINE_MAX);
    }
    if (tl->threads_dropped)
        fprintf(out, "  (%zu thread starts not remembered: some creators may be missing)\n",
                tl->threads_dropped);
    fputc('\n', out);
}

void report_ns_text(FILE *out, const struct report *r)
{
    const struct ptree *t = &r->db->tree;
    size_t total = 0, shown = 0;
    for (size_t i = 0; i < t->n; i++)
        total += t->nodes[i]->ns != NULL;
    bool capped = !r->verbose && total > NS_TEXT_MAX_PROCS;
    /* over the cap: the processes with an off-thread call first, then the
     * others (each pass in tree order) */
    for (int pass = capped ? 0 : 1; pass < 2; pass++) {
        for (size_t i = 0; i < t->n && (!capped || shown < NS_TEXT_MAX_PROCS); i++) {
            const struct pt_node *n = t->nodes[i];
            if (!n->ns || (capped && (pass == 0) != has_off_thread(n->ns)))
                continue;
            text_timeline(out, n);
            shown++;
        }
    }
    if (shown < total)
        fprintf(out, "... and %zu more processes with namespace events (--verbose or "
                "--format=json shows them)\n\n", total - shown);
}

/* ---- JSON ------------------------------------------------------------- */

static json_t *change_json(const struct lg_event *ev)
{
    json_t *a = json_array();
    struct guard_ns_change_payload p;
    if (result_of(ev) != 0 || !nstl_change_payload(ev, &p))
        return a;
    for (unsigned k = 0; k < 8; k++) {
        if (p.before[k] == p.after[k])
            continue;
        json_t *c = json_object();
        char *b = ns_id(k, p.before[k]), *af = ns_id(k, p.after[k]);
        json_object_set_new(c, "kind", json_string(nstl_kind_name(k)));
        json_object_set_new(c, "before", p.before[k] ? json_string(b) : json_null());
        json_object_set_new(c, "after", p.after[k] ? json_string(af) : json_null());
        free(b);
        free(af);
        json_array_append_new(a, c);
    }
    return a;
}

static json_t *flags_json(const struct lg_event *ev)
{
    json_t *a = json_array();
    if (ev->kind != GUARD_EV_NS_CHANGE)
        return a;
    const char *names[8];
    uint64_t rest;
    size_t n = nstl_flag_names(ev->args[1], names, 8, &rest);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(names[i]));
    if (rest)
        json_array_append_new(a, rj_hex(rest));
    return a;
}

static json_t *mark_json(const struct lg_ns_entry *e)
{
    if (e->mark == LG_NS_MARK_NONE)
        return json_null();
    json_t *m = json_object();
    const char *by = nstl_call_name(e->changer_call);
    char *expected = ns_id(GUARD_NSK_MNT - 1, e->changer_ino);
    json_object_set_new(m, "kind", json_string(e->mark == LG_NS_MARK_OFF_THREAD ? "off-thread"
                                                                                 : "other-thread"));
    json_object_set_new(m, "changed_by", rj_uint(e->changer_tid));
    json_object_set_new(m, "changed_with", by ? json_string(by) : json_null());
    json_object_set_new(m, "expected", json_string(expected));
    free(expected);
    return m;
}

static json_t *entry_json(const struct pt_node *n, const struct ns_item *it)
{
    const struct lg_ns_entry *e = it->e;
    const struct lg_event *ev = &e->ev;
    bool call = ev->kind == GUARD_EV_NS_CALL;
    json_t *j = json_object();
    const char *name = nstl_call_name(ev->args[0]);
    char buf[32];
    if (!name) {
        snprintf(buf, sizeof buf, "call-%" PRIu64, ev->args[0]);
        name = buf;
    }
    json_object_set_new(j, "time_ns", rj_uint(ev->time_ns));
    json_object_set_new(j, "tid", rj_uint(ev->tid));
    json_object_set_new(j, "call", json_string(name));
    json_object_set_new(j, "flags", flags_json(ev));
    json_object_set_new(j, "result", json_integer(result_of(ev)));
    json_object_set_new(j, "errno", rj_uint_or_null(errno_of(ev)));
    json_object_set_new(j, "changes", call ? json_array() : change_json(ev));
    char *target = call && ev->payload ? xstrndup_bytes(ev->payload, ev->payload_len) : NULL;
    json_object_set_new(j, "target", rj_str(target));
    free(target);
    char *mnt = call && ev->args[3] ? ns_id(GUARD_NSK_MNT - 1, ev->args[3]) : NULL;
    json_object_set_new(j, "mnt", mnt ? json_string(mnt) : json_null());
    free(mnt);
    json_object_set_new(j, "mark", call ? mark_json(e) : json_null());
    size_t li = 0;
    while (li + 1 < n->nlogs && n->logs[li] != it->log)
        li++;
    json_object_set_new(j, "log_index", rj_uint(li));
    json_object_set_new(j, "stack", rj_frames(it->stack));
    return j;
}

void report_ns_json_fields(json_t *p, const struct pt_node *n)
{
    json_t *a = json_array(), *threads = json_array();
    const struct ns_timeline *tl = n->ns;
    for (size_t i = 0; tl && i < tl->n; i++) {
        const struct ns_item *it = &tl->items[i];
        const struct lg_event *ev = &it->e->ev;
        if (ev->kind != GUARD_EV_THREAD_START) {
            json_array_append_new(a, entry_json(n, it));
            continue;
        }
        json_t *t = json_object();
        json_object_set_new(t, "tid", rj_uint(ev->tid));
        json_object_set_new(t, "creator", rj_uint(ev->args[0]));
        json_object_set_new(t, "time_ns", rj_uint(ev->time_ns));
        json_object_set_new(t, "stack", rj_frames(it->stack));
        json_array_append_new(threads, t);
    }
    json_object_set_new(p, "namespaces", a);
    json_object_set_new(p, "namespaces_dropped", rj_uint(tl ? tl->dropped : 0));
    json_object_set_new(p, "namespace_threads", threads);
}
