/*
 * inspect_strs.c — the small sets of strings (names, evidence) that
 * inspect's checks collect, without duplicates (inspect.h).
 */
#include "inspect.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void inspect_strs_add(struct inspect_strs *s, const char *str)
{
    if (inspect_strs_has(s, str))
        return;
    VEC_GROW(s->v, s->n, s->cap);
    s->v[s->n++] = xstrdup(str);
}

bool inspect_strs_has(const struct inspect_strs *s, const char *str)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], str) == 0)
            return true;
    return false;
}

void inspect_strs_free(struct inspect_strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

json_t *inspect_strs_json(const struct inspect_strs *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++) {
        char *c = utf8_sanitize(s->v[i]);
        json_array_append_new(a, json_string(c));
        free(c);
    }
    return a;
}
