/*
 * suppress.c — suppression rules applied to the report (see suppress.h).
 */
#define _GNU_SOURCE
#include "suppress.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "kinds.h"

static bool known_kind(const char *k)
{
    return !strcmp(k, "*") || kinds_by_name(k);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

int supp_load(struct supp *s, const char *path, struct notes *notes)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        notes_add(notes, NOTE_ERROR, path, 0, "cannot read the suppressions file: %s",
                  strerror(errno));
        return -1;
    }
    size_t first = s->n;
    char *line = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    int rc = 0;
    while (getline(&line, &cap, f) != -1) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *t = trim(line);
        if (!*t)
            continue;
        char *colon = strchr(t, ':');
        const char *why = NULL;
        if (!colon)
            why = "not KIND:PATTERN (no ':')";
        else if (colon == t)
            why = "empty KIND (use '*' for any kind)";
        else if (!*trim(colon + 1))
            why = "empty PATTERN";
        if (!why) {
            *colon = '\0';
            char *kind = trim(t);
            if (!known_kind(kind)) {
                char *at = xasprintf("%s:%u", path, lineno);
                notes_add(notes, NOTE_ERROR, at, 0, "unknown finding kind '%s' in a suppression "
                          "rule (a kind such as use-after-return, or '*')", kind);
                free(at);
                rc = -1;
                break;
            }
            char *pattern = trim(colon + 1);
            VEC_GROW(s->v, s->n, s->cap);
            struct supp_rule *r = &s->v[s->n++];
            memset(r, 0, sizeof *r);
            r->file = xstrdup(path);
            r->line = lineno;
            r->kind = xstrdup(kind);
            r->pattern = xstrdup(pattern);
            r->text = xasprintf("%s:%s", kind, pattern);
            continue;
        }
        char *at = xasprintf("%s:%u", path, lineno);
        notes_add(notes, NOTE_ERROR, at, 0, "bad suppression rule: %s: '%s'", why, t);
        free(at);
        rc = -1;
        break;
    }
    if (rc == 0 && ferror(f)) {
        notes_add(notes, NOTE_ERROR, path, 0, "cannot read the suppressions file: read error");
        rc = -1;
    }
    free(line);
    fclose(f);
    if (rc != 0) {
        /* none of a bad file's rules: a half-read file suppresses by accident */
        for (size_t k = first; k < s->n; k++) {
            free(s->v[k].file);
            free(s->v[k].text);
            free(s->v[k].kind);
            free(s->v[k].pattern);
        }
        s->n = first;
        notes_add(notes, NOTE_ERROR, path, 0, "no rule of this suppressions file is used");
    }
    return rc;
}

static bool glob(const char *pattern, const char *s)
{
    return s && s[0] && fnmatch(pattern, s, 0) == 0;
}

static bool frame_matches(const char *pattern, const struct sym_frame *fr)
{
    return glob(pattern, fr->function) || glob(pattern, fr->file) ||
           (fr->file && glob(pattern, fp_base_name(fr->file))) || glob(pattern, fr->module) ||
           (fr->module && glob(pattern, fp_base_name(fr->module)));
}

static bool rule_matches(const struct supp_rule *r, const struct fnd *f)
{
    if (strcmp(r->kind, "*") && strcmp(r->kind, f->kind_name))
        return false;
    for (size_t i = 0; i < f->nstacks; i++) {
        const struct sym_stack *s = f->stacks[i].sym;
        for (size_t k = 0; k < s->n; k++)
            if (frame_matches(r->pattern, &s->frames[k]))
                return true;
    }
    return glob(r->pattern, f->rec->call);
}

void supp_apply(struct supp *s, struct fnd_db *db)
{
    for (size_t i = 0; i < db->nall; i++) {
        struct fnd *f = db->all[i];
        for (size_t k = 0; k < s->n; k++)
            if (rule_matches(&s->v[k], f)) {
                f->suppressed = true;
                f->rule = &s->v[k];
                s->v[k].findings++;
                s->v[k].occurrences += f->count;
                break;
            }
        if (f->suppressed && !f->rule) {
            s->shim_findings++;
            s->shim_occurrences += f->count;
        }
    }
}

void supp_print_stats(const struct supp *s, FILE *out)
{
    for (size_t k = 0; k < s->n; k++) {
        const struct supp_rule *r = &s->v[k];
        fprintf(out, ANALYZER_NAME ": suppression %s:%u: %s: %zu %s (%zu %s)\n", r->file, r->line,
                r->text, r->findings, r->findings == 1 ? "finding" : "findings", r->occurrences,
                r->occurrences == 1 ? "occurrence" : "occurrences");
    }
    if (s->shim_findings)
        fprintf(out, ANALYZER_NAME ": suppressed by the shim (GUARD_OPTIONS suppressions): "
                "%zu %s (%zu %s)\n", s->shim_findings,
                s->shim_findings == 1 ? "finding" : "findings", s->shim_occurrences,
                s->shim_occurrences == 1 ? "occurrence" : "occurrences");
    for (size_t k = 0; k < s->n; k++)
        if (!s->v[k].findings)
            fprintf(out, "unused suppression: %s:%u: %s\n", s->v[k].file, s->v[k].line,
                    s->v[k].text);
}

void supp_free(struct supp *s)
{
    for (size_t k = 0; k < s->n; k++) {
        free(s->v[k].file);
        free(s->v[k].text);
        free(s->v[k].kind);
        free(s->v[k].pattern);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}
