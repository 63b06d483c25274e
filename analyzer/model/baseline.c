/*
 * baseline.c — reading a previous report and comparing (see baseline.h).
 */
#define _GNU_SOURCE
#include "baseline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fingerprint.h"

static bool valid_fingerprint(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static const char *jstring(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void add_entry(struct baseline *b, const char *fp, const char *kind, const char *summary)
{
    struct baseline_entry *e = NULL;
    HASH_FIND_STR(b->table, fp, e);
    if (e)
        return;
    e = xcalloc(1, sizeof *e);
    e->fingerprint = xstrdup(fp);
    e->kind = kind ? xstrdup(kind) : NULL;
    e->summary = summary ? xstrdup(summary) : NULL;
    HASH_ADD_KEYPTR(hh, b->table, e->fingerprint, strlen(e->fingerprint), e);
    VEC_GROW(b->v, b->n, b->cap);
    b->v[b->n++] = e;
}

/* A guard-analyze JSON report: "findings" (and "unchanged"). */
static int load_report(struct baseline *b, json_t *root, const char *path, struct notes *notes)
{
    /* reports name their recipe since libguard/v2 */
    const char *recipe = jstring(root, "fingerprint_recipe");
    if (!recipe || strcmp(recipe, FP_SARIF_KEY) != 0)
        notes_add(notes, NOTE_INFO, path, 0, "baseline: made with %s fingerprint recipe (%s, "
                  "not " FP_SARIF_KEY "): its findings match none of this report's (make the "
                  "baseline again)", recipe ? "another" : "an older", recipe ? recipe : FP_SARIF_KEY_V1);
    static const char *const arrays[] = {"findings", "unchanged"};
    for (size_t a = 0; a < 2; a++) {
        json_t *arr = json_object_get(root, arrays[a]);
        if (!arr && a == 1)
            continue;
        if (!json_is_array(arr)) {
            notes_add(notes, NOTE_ERROR, path, 0, "baseline: not a guard-analyze JSON report "
                      "(no \"findings\" array)");
            return -1;
        }
        size_t i;
        json_t *f;
        json_array_foreach(arr, i, f) {
            const char *fp = json_is_object(f) ? jstring(f, "fingerprint") : NULL;
            if (!fp) {
                notes_add(notes, NOTE_ERROR, path, 0, "baseline: %s[%zu] has no \"fingerprint\" "
                          "(a report from an older guard-analyze? make the baseline again)",
                          arrays[a], i);
                return -1;
            }
            if (!valid_fingerprint(fp)) {
                notes_add(notes, NOTE_ERROR, path, 0, "baseline: %s[%zu]: bad fingerprint '%s'",
                          arrays[a], i, fp);
                return -1;
            }
            add_entry(b, fp, jstring(f, "kind"), jstring(f, "summary"));
        }
    }
    return 0;
}

/* A SARIF log of ours: runs[*].results[*].partialFingerprints. */
static int load_sarif(struct baseline *b, json_t *root, const char *path, struct notes *notes)
{
    bool old = false, *old_recipe = &old;
    size_t r, i;
    json_t *run, *res;
    json_array_foreach(json_object_get(root, "runs"), r, run) {
        json_t *results = json_object_get(run, "results");
        if (!json_is_array(results))
            continue;
        json_array_foreach(results, i, res) {
            json_t *pf = json_object_get(res, "partialFingerprints");
            const char *fp = jstring(pf, FP_SARIF_KEY);
            if (!fp && (fp = jstring(pf, FP_SARIF_KEY_V1)) && !*old_recipe) {
                *old_recipe = true;
                notes_add(notes, NOTE_INFO, path, 0, "baseline: made with the older fingerprint "
                          "recipe " FP_SARIF_KEY_V1 ": its findings match none of this report's "
                          "(make the baseline again)");
            }
            if (!fp || !valid_fingerprint(fp)) {
                notes_add(notes, NOTE_ERROR, path, 0, "baseline: runs[%zu].results[%zu] has no "
                          "partialFingerprints \"" FP_SARIF_KEY "\" (not a libguard SARIF log?)",
                          r, i);
                return -1;
            }
            add_entry(b, fp, jstring(res, "ruleId"),
                      jstring(json_object_get(res, "message"), "text"));
        }
    }
    return 0;
}

int baseline_load(struct baseline *b, const char *path, struct notes *notes)
{
    memset(b, 0, sizeof *b);
    b->path = xstrdup(path);
    FILE *f = fopen(path, "r");
    if (!f) {
        notes_add(notes, NOTE_ERROR, path, 0, "cannot read the baseline: %s", strerror(errno));
        return -1;
    }
    json_error_t err;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &err);
    fclose(f);
    if (!root) {
        notes_add(notes, NOTE_ERROR, path, 0, "baseline: not valid JSON (line %d, column %d: %s)",
                  err.line, err.column, err.text);
        return -1;
    }
    int rc;
    if (!json_is_object(root)) {
        notes_add(notes, NOTE_ERROR, path, 0, "baseline: not a guard-analyze report (the JSON "
                  "is not an object)");
        rc = -1;
    } else if (json_is_array(json_object_get(root, "runs")) && !json_object_get(root, "findings")) {
        rc = load_sarif(b, root, path, notes);
    } else {
        rc = load_report(b, root, path, notes);
    }
    json_decref(root);
    return rc;
}

void baseline_apply(struct baseline *b, struct fnd_db *db)
{
    for (size_t i = 0; i < db->nall; i++) {
        struct fnd *f = db->all[i];
        struct baseline_entry *e = NULL;
        HASH_FIND_STR(b->table, f->fingerprint, e);
        if (!e)
            continue;
        e->seen = true;
        f->known = true;
    }
    b->nfixed = 0;
    for (size_t i = 0; i < b->n; i++)
        b->nfixed += !b->v[i]->seen;
}

void baseline_free(struct baseline *b)
{
    struct baseline_entry *e, *tmp;
    HASH_ITER(hh, b->table, e, tmp) {
        HASH_DEL(b->table, e);
        free(e->fingerprint);
        free(e->kind);
        free(e->summary);
        free(e);
    }
    free(b->v);
    free(b->path);
    memset(b, 0, sizeof *b);
}
