/*
 * report_sarif.c — `--format=sarif`: the findings as a SARIF 2.1.0 log for
 * code-scanning tools (GitHub code scanning, Azure DevOps, VS Code's SARIF
 * viewer).
 *
 * One run; tool.driver "libguard" with one rule per finding kind of the
 * contract (the table of kinds, common/guard_kinds.h, and the longer help of
 * model/kinds.c; helpUri: the kind's section of docs/checks.md).  One result
 * per (folded) finding: ruleId = kind, message = the summary, the location
 * = the innermost frame of its first stack that is the project's own code
 * (fingerprint.c says what is: not libc, ld.so, libguard or system paths),
 * falling back to the innermost symbolized frame; relatedLocations = the
 * same for its other stacks (and, for a crash, where the objects it is
 * linked to were put back); stacks = every stack in full (for a crash,
 * every thread's); partialFingerprints["libguard/v2"] (FP_SARIF_KEY) = the fingerprint,
 * which is what lets a code-scanning service follow a finding from run to
 * run.  Notes become toolExecutionNotifications.
 *
 * Paths become file:// URIs; with --source-root DIR, paths under DIR are
 * relative with uriBaseId SRCROOT (what code-scanning services need to
 * map them to the repository).
 */
#define _GNU_SOURCE
#include "report_json.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"
#include "fingerprint.h"
#include "kinds.h"

#define SARIF_SCHEMA \
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

/* ---- URIs ------------------------------------------------------------- */

static void pct_encode(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == '/')
            fputc(c, f);
        else
            fprintf(f, "%%%02X", c);
    }
}

static char *encoded(const char *prefix, const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return xstrdup("");
    fputs(prefix, f);
    pct_encode(f, path);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return xstrdup("");
    }
    return buf;
}

/* {"uri": ..., "uriBaseId": ...} for a path from a log. */
static json_t *artifact_location(const struct report *r, const char *path)
{
    json_t *j = json_object();
    const char *root = r->source_root;
    size_t rl = root ? strlen(root) : 0;
    while (rl > 1 && root[rl - 1] == '/')
        rl--;
    char *uri;
    if (root && path[0] == '/' && strncmp(path, root, rl) == 0 && path[rl] == '/') {
        uri = encoded("", path + rl + 1);
        json_object_set_new(j, "uriBaseId", json_string("SRCROOT"));
    } else if (path[0] == '/') {
        uri = encoded("file://", path);
    } else {
        /* relative to an unknown build directory (libc's "./nptl/...") */
        while (path[0] == '.' && path[1] == '/')
            path += 2;
        uri = encoded("", path);
    }
    json_object_set_new(j, "uri", json_string(uri));
    free(uri);
    return j;
}

/* ---- locations -------------------------------------------------------- */

static json_t *frame_location(const struct report *r, const struct sym_frame *fr, const char *msg)
{
    json_t *loc = json_object();
    json_t *phys = json_object();
    if (fr->file) {
        json_object_set_new(phys, "artifactLocation", artifact_location(r, fr->file));
        if (fr->line) {
            json_t *region = json_object();
            json_object_set_new(region, "startLine", json_integer(fr->line));
            json_object_set_new(phys, "region", region);
        }
    } else {
        json_object_set_new(phys, "artifactLocation", artifact_location(r, fr->module));
        if (fr->have_module) {
            json_t *addr = json_object();
            json_object_set_new(addr, "relativeAddress",
                                json_integer((json_int_t)(fr->module_offset & LLONG_MAX)));
            json_object_set_new(phys, "address", addr);
        }
    }
    json_object_set_new(loc, "physicalLocation", phys);
    if (fr->function) {
        json_t *ll = json_array(), *l = json_object();
        json_object_set_new(l, "fullyQualifiedName", rj_str(fr->function));
        json_object_set_new(l, "kind", json_string("function"));
        json_array_append_new(ll, l);
        json_object_set_new(loc, "logicalLocations", ll);
    }
    if (msg) {
        json_t *m = json_object();
        json_object_set_new(m, "text", rj_str(msg));
        json_object_set_new(loc, "message", m);
    }
    return loc;
}

static json_t *message(const char *text)
{
    json_t *m = json_object();
    json_object_set_new(m, "text", rj_str(text && text[0] ? text : "(no summary)"));
    return m;
}

static json_t *sarif_stack(const struct report *r, const struct sym_stack *s, const char *msg,
                           uint32_t tid)
{
    json_t *st = json_object();
    json_object_set_new(st, "message", message(msg));
    json_t *frames = json_array();
    for (size_t i = 0; i < s->n; i++) {
        const struct sym_frame *fr = &s->frames[i];
        json_t *f = json_object();
        json_object_set_new(f, "location", frame_location(r, fr, NULL));
        json_object_set_new(f, "module", rj_str(fr->module));
        if (tid)
            json_object_set_new(f, "threadId", json_integer(tid));
        json_array_append_new(frames, f);
    }
    json_object_set_new(st, "frames", frames);
    return st;
}

static void related(json_t *rel, const struct report *r, const struct sym_stack *s,
                    const char *what)
{
    const struct sym_frame *fr = fp_location_frame(s);
    if (!fr)
        return;
    char *msg = xasprintf("%s%s%s", what, fr->function ? ": " : "", fr->function ? fr->function : "");
    json_t *loc = frame_location(r, fr, msg);
    free(msg);
    json_object_set_new(loc, "id", json_integer((json_int_t)json_array_size(rel)));
    json_array_append_new(rel, loc);
}

/* ---- rules and results --------------------------------------------------- */

static char *docs_uri(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    /* build/guard-analyze -> docs/checks.md; PREFIX/bin -> PREFIX/share/doc/libguard */
    static const char *const rel[] = {"/../docs/checks.md", "/../share/doc/libguard/checks.md"};
    for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
        char *p = xasprintf("%s%s", exe, rel[i]);
        char *real = realpath(p, NULL);
        free(p);
        if (real) {
            char *uri = encoded("file://", real);
            free(real);
            return uri;
        }
    }
    return NULL;
}

/* One rule per kind of the table (kinds.h), in the order of their numbers. */
static json_t *rules_json(const char *docs)
{
    json_t *rules = json_array();
    for (unsigned k = 1; k < GUARD_FK_COUNT_; k++) {
        const struct kind_info *ki = kinds_get(k);
        if (!ki)
            continue;
        json_t *rule = json_object();
        json_object_set_new(rule, "id", json_string(ki->name));
        json_object_set_new(rule, "name", json_string(ki->rule));
        json_object_set_new(rule, "shortDescription", message(ki->help));
        json_object_set_new(rule, "fullDescription", message(ki->description));
        json_t *help = json_object();
        char *text = xasprintf("%s\n\nSee docs/checks.md, section \"%s\".", ki->description,
                               ki->anchor);
        json_object_set_new(help, "text", json_string(text));
        free(text);
        json_object_set_new(rule, "help", help);
        if (docs) {
            char *u = xasprintf("%s#%s", docs, ki->anchor);
            json_object_set_new(rule, "helpUri", json_string(u));
            free(u);
        }
        json_t *conf = json_object();
        json_object_set_new(conf, "level", json_string(ki->level));
        json_object_set_new(rule, "defaultConfiguration", conf);
        json_t *props = json_object(), *tags = json_array();
        json_array_append_new(tags, json_string("libguard"));
        json_array_append_new(tags, json_string(ki->origin));
        json_object_set_new(props, "tags", tags);
        json_object_set_new(rule, "properties", props);
        json_array_append_new(rules, rule);
    }
    return rules;
}

/* the rules array holds the kinds 1.. in order, skipping numbers no kind has */
static int rule_index(unsigned kind)
{
    int idx = 0;
    for (unsigned k = 1; k < GUARD_FK_COUNT_; k++) {
        if (!kinds_get(k))
            continue;
        if (k == kind)
            return idx;
        idx++;
    }
    return -1;
}

static const char *result_level(const struct fnd *f)
{
    const struct kind_info *ki = kinds_get(f->kind);
    if (f->rec->flags & GUARD_FINDING_HAZARD)
        return "warning"; /* the preconditions of the bug, not its symptom */
    return ki ? ki->level : "warning";
}

static void crash_stacks(json_t *stacks, json_t *rel, const struct report *r, const struct fnd *f)
{
    const struct fnd_crash *fc = f->crash;
    for (size_t i = 0; i < fc->nthreads; i++) {
        const struct fnd_thread *t = &fc->threads[i];
        if (!t->have_stack)
            continue;
        char *msg = xasprintf("thread %u%s", t->tid, t->crashed ? " (crashed)" : "");
        json_array_append_new(stacks, sarif_stack(r, t->sym, msg, t->tid));
        free(msg);
    }
    for (size_t i = 0; i < fc->nobjs; i++) {
        char *what = xasprintf("object 0x%" PRIx64 " put back by thread %u", fc->objs[i].o->obj,
                               fc->objs[i].o->put.tid);
        related(rel, r, fc->objs[i].put, what);
        free(what);
    }
}

static json_t *result_json(const struct report *r, const struct fnd *f)
{
    json_t *res = json_object();
    json_object_set_new(res, "ruleId", json_string(f->kind_name));
    int ri = rule_index(f->kind);
    if (ri >= 0)
        json_object_set_new(res, "ruleIndex", json_integer(ri));
    json_object_set_new(res, "level", json_string(result_level(f)));
    json_object_set_new(res, "message", message(f->rec->summary));

    const struct fnd_stack *primary = fp_primary_stack(f);
    const struct sym_frame *at = primary ? fp_location_frame(primary->sym) : NULL;
    json_t *locs = json_array();
    if (at)
        json_array_append_new(locs, frame_location(r, at, NULL));
    json_object_set_new(res, "locations", locs);

    json_t *rel = json_array(), *stacks = json_array();
    for (size_t i = 0; i < f->nstacks; i++) {
        const struct fnd_stack *s = &f->stacks[i];
        char *msg = s->tid ? xasprintf("%s by thread %u", s->role, s->tid) : xstrdup(s->role);
        if (s != primary)
            related(rel, r, s->sym, msg);
        if (!f->crash && s->sym->n)
            json_array_append_new(stacks, sarif_stack(r, s->sym, msg, s->tid));
        free(msg);
    }
    if (f->crash)
        crash_stacks(stacks, rel, r, f);
    if (json_array_size(rel))
        json_object_set_new(res, "relatedLocations", rel);
    else
        json_decref(rel);
    if (json_array_size(stacks))
        json_object_set_new(res, "stacks", stacks);
    else
        json_decref(stacks);

    json_t *pf = json_object();
    json_object_set_new(pf, FP_SARIF_KEY, json_string(f->fingerprint));
    json_object_set_new(res, "partialFingerprints", pf);
    if (r->baseline)
        json_object_set_new(res, "baselineState", json_string("new"));

    json_t *props = json_object();
    json_object_set_new(props, "pid", rj_uint(f->log->hdr.pid));
    json_object_set_new(props, "tid", rj_uint(f->rec->tid));
    json_object_set_new(props, "count", rj_uint(f->count));
    json_object_set_new(props, "processes", rj_uint(f->npids));
    json_object_set_new(props, "runs", rj_uint(f->nruns));
    json_object_set_new(props, "log", rj_str(f->log->path));
    if (f->crash) {
        json_t *links = json_array();
        for (size_t i = 0; i < f->crash->nlinks; i++)
            json_array_append_new(links, rj_str(f->crash->links[i].text));
        json_object_set_new(props, "crashLinks", links);
    }
    json_object_set_new(res, "properties", props);
    return res;
}

static json_t *invocation_json(const struct report *r)
{
    json_t *inv = json_object();
    json_object_set_new(inv, "executionSuccessful", json_boolean(r->notes->errors == 0));
    json_t *notes = json_array();
    for (size_t i = 0; i < r->notes->n; i++) {
        const struct note *nt = &r->notes->v[i];
        json_t *n = json_object();
        char *line = note_format(nt);
        json_object_set_new(n, "message", message(line));
        free(line);
        json_object_set_new(n, "level", json_string(nt->level == NOTE_ERROR ? "error"
                                                    : nt->level == NOTE_SHIM ? "warning"
                                                                             : "note"));
        json_array_append_new(notes, n);
    }
    json_object_set_new(inv, "toolExecutionNotifications", notes);
    return inv;
}

int report_sarif(FILE *out, const struct report *r)
{
    json_t *root = json_object();
    json_object_set_new(root, "$schema", json_string(SARIF_SCHEMA));
    json_object_set_new(root, "version", json_string("2.1.0"));
    json_t *run = json_object(), *tool = json_object(), *driver = json_object();
    char *docs = docs_uri();
    json_object_set_new(driver, "name", json_string("libguard"));
    json_object_set_new(driver, "fullName", json_string("libguard (guard-analyze)"));
    json_object_set_new(driver, "version", json_string(GUARD_VERSION));
    json_object_set_new(driver, "semanticVersion", json_string(GUARD_VERSION));
    if (docs)
        json_object_set_new(driver, "informationUri", json_string(docs));
    json_object_set_new(driver, "rules", rules_json(docs));
    free(docs);
    json_object_set_new(tool, "driver", driver);
    json_object_set_new(run, "tool", tool);
    if (r->source_root && r->source_root[0] == '/') {
        json_t *bases = json_object(), *root_loc = json_object();
        size_t rl = strlen(r->source_root);
        char *uri = encoded("file://", r->source_root);
        char *dir = rl && r->source_root[rl - 1] == '/' ? xstrdup(uri) : xasprintf("%s/", uri);
        json_object_set_new(root_loc, "uri", json_string(dir));
        free(uri);
        free(dir);
        json_object_set_new(bases, "SRCROOT", root_loc);
        json_object_set_new(run, "originalUriBaseIds", bases);
    }
    json_t *invs = json_array();
    json_array_append_new(invs, invocation_json(r));
    json_object_set_new(run, "invocations", invs);
    json_t *results = json_array();
    for (size_t i = 0; i < r->db->n; i++)
        json_array_append_new(results, result_json(r, r->db->sorted[i]));
    json_object_set_new(run, "results", results);
    json_object_set_new(run, "columnKind", json_string("unicodeCodePoints"));
    json_t *runs = json_array();
    json_array_append_new(runs, run);
    json_object_set_new(root, "runs", runs);
    int rc = rj_dump(root, out);
    json_decref(root);
    return rc;
}
