/*
 * report_junit.c — `--format=junit`: JUnit XML for CI dashboards.
 *
 *   <testsuites name="libguard" tests= failures= errors=>
 *     <testsuite name="PATH" tests= failures= errors= skipped="0" time="0">
 *       <testcase classname="libguard" name="use-after-return" time="0">
 *         <failure message="SUMMARY" type="use-after-return">TEXT REPORT</failure>
 *       </testcase>
 *       ... one testcase per finding kind of the contract ...
 *       <testcase classname="libguard" name="input">   (only when the run's
 *         <error message="...">NOTES</error>           logs had input errors)
 *       </testcase>
 *     </testsuite>
 *   </testsuites>
 *
 * One testsuite per PATH operand (a run).  A kind's testcase fails when
 * findings of that kind (not suppressed, not in the baseline) occurred in
 * that run; the failure's text is the text report of those findings (the
 * first occurrence of each, which may come from another run when the
 * finding was seen in several).  Everything is XML-escaped, invalid UTF-8
 * and control characters included.
 */
#define _GNU_SOURCE
#include "report.h"

#include <stdlib.h>
#include <string.h>

static void xml_text(FILE *out, const char *s, bool attr)
{
    char *clean = utf8_valid(s) ? NULL : utf8_sanitize(s);
    for (const unsigned char *p = (const unsigned char *)(clean ? clean : s); *p; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&apos;", out);
            break;
        case '\n':
        case '\t':
        case '\r':
            if (attr)
                fprintf(out, "&#%u;", *p); /* attribute values normalise whitespace */
            else
                fputc(*p, out);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(out, "\\x%02x", *p); /* not allowed in XML 1.0, even escaped */
            else
                fputc(*p, out);
        }
    }
    free(clean);
}

static char *memstream_text(void (*fn)(FILE *, const void *, const void *), const void *a,
                            const void *b)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return xstrdup("");
    fn(f, a, b);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return xstrdup("");
    }
    return buf;
}

struct kind_ctx {
    const struct report *r;
    unsigned run;
    unsigned kind;
};

static void kind_text(FILE *f, const void *a, const void *b)
{
    (void)b;
    const struct kind_ctx *k = a;
    const struct fnd_db *db = k->r->db;
    for (size_t i = 0; i < db->n; i++) {
        const struct fnd *fd = db->sorted[i];
        if (fd->kind == k->kind && fnd_in_run(fd, k->run))
            report_text_finding(f, k->r, fd);
    }
}

static bool note_in_run(const struct note *nt, const char *path)
{
    size_t n = strlen(path);
    return nt->log && strncmp(nt->log, path, n) == 0 && (nt->log[n] == '\0' || nt->log[n] == '/' ||
                                                         path[n - 1] == '/');
}

struct suite {
    size_t failures, errors, tests;
};

static struct suite suite_counts(const struct report *r, unsigned run)
{
    struct suite s = {0, 0, 0};
    for (unsigned k = 1; k < GUARD_FK_COUNT_; k++) {
        if (!guard_finding_kind_name(k))
            continue;
        s.tests++;
        for (size_t i = 0; i < r->db->n; i++)
            if (r->db->sorted[i]->kind == k && fnd_in_run(r->db->sorted[i], run)) {
                s.failures++;
                break;
            }
    }
    for (size_t i = 0; i < r->notes->n; i++)
        if (r->notes->v[i].level == NOTE_ERROR && note_in_run(&r->notes->v[i], r->paths[run])) {
            s.errors = 1;
            s.tests++;
            break;
        }
    return s;
}

static void testcase(FILE *out, const struct report *r, unsigned run, unsigned kind)
{
    const char *name = guard_finding_kind_name(kind);
    fputs("    <testcase classname=\"libguard\" name=\"", out);
    xml_text(out, name, true);
    fputs("\" time=\"0\"", out);
    const struct fnd *first = NULL;
    size_t n = 0;
    for (size_t i = 0; i < r->db->n; i++) {
        const struct fnd *f = r->db->sorted[i];
        if (f->kind == kind && fnd_in_run(f, run)) {
            if (!first)
                first = f;
            n++;
        }
    }
    if (!first) {
        fputs("/>\n", out);
        return;
    }
    fputs(">\n      <failure message=\"", out);
    xml_text(out, first->rec->summary, true);
    if (n > 1)
        fprintf(out, " (and %zu more %s)", n - 1, n == 2 ? "finding" : "findings");
    fputs("\" type=\"", out);
    xml_text(out, name, true);
    fputs("\">", out);
    struct kind_ctx k = {r, run, kind};
    char *text = memstream_text(kind_text, &k, NULL);
    xml_text(out, text, false);
    free(text);
    fputs("</failure>\n    </testcase>\n", out);
}

static void input_errors(FILE *out, const struct report *r, unsigned run)
{
    const char *first = NULL;
    size_t n = 0;
    for (size_t i = 0; i < r->notes->n; i++)
        if (r->notes->v[i].level == NOTE_ERROR && note_in_run(&r->notes->v[i], r->paths[run])) {
            if (!first)
                first = r->notes->v[i].text;
            n++;
        }
    if (!n)
        return;
    fputs("    <testcase classname=\"libguard\" name=\"input\" time=\"0\">\n"
          "      <error message=\"", out);
    xml_text(out, first, true);
    fprintf(out, "\" type=\"input-error\">");
    for (size_t i = 0; i < r->notes->n; i++)
        if (r->notes->v[i].level == NOTE_ERROR && note_in_run(&r->notes->v[i], r->paths[run])) {
            char *line = note_format(&r->notes->v[i]);
            xml_text(out, line, false);
            fputc('\n', out);
            free(line);
        }
    fputs("</error>\n    </testcase>\n", out);
}

int report_junit(FILE *out, const struct report *r)
{
    struct suite total = {0, 0, 0};
    for (unsigned run = 0; run < r->npaths; run++) {
        struct suite s = suite_counts(r, run);
        total.tests += s.tests;
        total.failures += s.failures;
        total.errors += s.errors;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out, "<testsuites name=\"libguard\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
            "time=\"0\">\n", total.tests, total.failures, total.errors);
    for (unsigned run = 0; run < r->npaths; run++) {
        struct suite s = suite_counts(r, run);
        size_t procs = 0;
        for (size_t i = 0; i < r->db->tree.n; i++)
            procs += r->db->tree.nodes[i]->run == run && r->db->tree.nodes[i]->nlogs > 0;
        fputs("  <testsuite name=\"", out);
        xml_text(out, r->paths[run], true);
        fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" time=\"0\">\n",
                s.tests, s.failures, s.errors);
        fputs("    <properties>\n      <property name=\"path\" value=\"", out);
        xml_text(out, r->paths[run], true);
        fprintf(out, "\"/>\n      <property name=\"processes\" value=\"%zu\"/>\n"
                "    </properties>\n", procs);
        for (unsigned k = 1; k < GUARD_FK_COUNT_; k++)
            if (guard_finding_kind_name(k))
                testcase(out, r, run, k);
        input_errors(out, r, run);
        fputs("  </testsuite>\n", out);
    }
    fputs("</testsuites>\n", out);
    return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
