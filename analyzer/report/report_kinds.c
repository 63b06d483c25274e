/*
 * report_kinds.c — `guard-analyze --list-kinds`: the table of finding kinds
 * (common/guard_kinds.h, model/kinds.c), in its order (docs/checks.md's).
 *
 * Text, one kind a line (--verbose: each with its longer explanation):
 *
 *   use-after-return          error    An object was read or written after ...
 *
 * JSON, every column of the table:
 *
 *   {"kinds": [{"kind", "value", "rule", "level", "origin", "rank",
 *               "anchor", "help", "description"}, ...]}
 */
#include "report.h"

#include <string.h>

#include <jansson.h>

#include "kinds.h"
#include "report_json.h"

/* text folded at about `width` columns, each line indented */
static void print_folded(FILE *out, const char *text, const char *indent, size_t width)
{
    const char *p = text;
    while (*p) {
        size_t n = strlen(p);
        if (n > width) {
            n = width;
            while (n > 0 && p[n] != ' ')
                n--;
            if (n == 0) /* one word longer than a line */
                n = strcspn(p + width, " ") + width;
        }
        fprintf(out, "%s%.*s\n", indent, (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
}

static int kinds_text(FILE *out, bool verbose)
{
    size_t n;
    const struct kind_info *k = kinds_all(&n);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%-25s %-8s %s\n", k[i].name, k[i].level, k[i].help);
        if (verbose) {
            print_folded(out, k[i].description, "    ", 76);
            fprintf(out, "    docs/checks.md#%s\n\n", k[i].anchor);
        }
    }
    if (!verbose)
        fputs("\nEvery kind has a section in docs/checks.md (--verbose: what fires and why).\n",
              out);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

static int kinds_json(FILE *out)
{
    size_t n;
    const struct kind_info *k = kinds_all(&n);
    json_t *root = json_object(), *kinds = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *j = json_object();
        json_object_set_new(j, "kind", json_string(k[i].name));
        json_object_set_new(j, "value", json_integer(k[i].kind));
        json_object_set_new(j, "rule", json_string(k[i].rule));
        json_object_set_new(j, "level", json_string(k[i].level));
        json_object_set_new(j, "origin", json_string(k[i].origin));
        json_object_set_new(j, "rank", json_integer(k[i].rank));
        json_object_set_new(j, "anchor", json_string(k[i].anchor));
        json_object_set_new(j, "help", json_string(k[i].help));
        json_object_set_new(j, "description", json_string(k[i].description));
        json_array_append_new(kinds, j);
    }
    json_object_set_new(root, "kinds", kinds);
    int rc = rj_dump(root, out);
    json_decref(root);
    return rc;
}

int report_kinds(FILE *out, bool json, bool verbose)
{
    return json ? kinds_json(out) : kinds_text(out, verbose);
}
