/*
 * symbolize_cmd.c — `guard-analyze symbolize`: the symbolizer the shim
 * runs at the moment of a finding, so that its stderr report names
 * function, file and line (ASan's external-symbolizer design: no DWARF
 * reader inside the program being checked).
 *
 * Protocol, one request per line on stdin:
 *     PATH 0xOFFSET
 * PATH is the module as loaded, OFFSET the address minus the module's
 * first mapped byte (dladdr's dli_fbase).  For each request, in order, one
 * line per location (an inlined call gives several, innermost first):
 *     FUNCTION<TAB>FILE<TAB>LINE
 * with "??" for an unknown function or file and 0 for an unknown line,
 * then an empty line.  A stack the shim could only copy raw (no unwinder
 * loaded yet: a crash early in a process) is asked for by its log:
 *     STACK LOGPATH ID
 * and answered with one line per frame, innermost first,
 *     0xPC<TAB>MODULE<TAB>0xOFFSET<TAB>FUNCTION<TAB>FILE<TAB>LINE
 * then an empty line (no frame line when the stack is not there).  A malformed request gets the unknown answer, so the
 * answers always pair with the requests.  Output is flushed after each
 * answer.  Exit status 0 at end of input, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logread.h"
#include "symbolize.h"
#include "symbolize_cmd.h"
#include "util.h"

/* Requests longer than this are answered as unknown (a path is at most
 * PATH_MAX; the rest of the line is the offset). */
#define REQUEST_MAX 8192

static void answer_unknown(void)
{
    fputs("??\t??\t0\n\n", stdout);
}

static const char *field(const char *s)
{
    return s && !strpbrk(s, "\t\n") ? s : "??"; /* a tab or newline would break the pairing */
}

/* STACK LOGPATH ID: the log is read whole (it may still be growing: the
 * process is writing its crash), its raw stack unwound and symbolized. */
static void answer_stack(struct symbolizer *sym, char *req)
{
    char *sp = strrchr(req, ' ');
    char *end = NULL;
    unsigned long id = sp ? strtoul(sp + 1, &end, 10) : 0;
    if (!sp || end == sp + 1 || *end || id == 0 || id > UINT32_MAX) {
        fputs("\n", stdout);
        return;
    }
    *sp = '\0';
    struct notes notes;
    memset(&notes, 0, sizeof notes);
    bool err = false;
    struct lg_log *log = lg_read(req, &notes, false, &err);
    const struct lg_stack *st = log ? lg_find_stack(log, (uint32_t)id) : NULL;
    if (st) {
        ((struct lg_stack *)st)->keep = true;
        lg_unwind_raw_stacks(log);
        struct sym_stack out;
        sym_stack(sym, log, st, &out);
        for (size_t i = 0; i < out.n; i++) {
            const struct sym_frame *fr = &out.frames[i];
            printf("0x%" PRIx64 "\t%s\t0x%" PRIx64 "\t%s\t%s\t%u\n", fr->pc, field(fr->module),
                   fr->have_module ? fr->module_offset : 0, field(fr->function), field(fr->file),
                   fr->line);
        }
        sym_stack_free(&out);
    }
    fputs("\n", stdout);
    if (log)
        lg_free(log);
    notes_free(&notes);
}

static void answer(struct symbolizer *sym, char *line)
{
    if (strncmp(line, "STACK ", 6) == 0) {
        answer_stack(sym, line + 6);
        return;
    }
    char *sp = strrchr(line, ' ');
    if (!sp || sp == line) {
        answer_unknown();
        return;
    }
    *sp = '\0';
    char *end = NULL;
    errno = 0;
    unsigned long long off = strtoull(sp + 1, &end, 16);
    if (errno || end == sp + 1 || *end != '\0') {
        answer_unknown();
        return;
    }
    struct sym_stack st;
    sym_module_offset(sym, line, (uint64_t)off, &st);
    for (size_t i = 0; i < st.n; i++) {
        const struct sym_frame *fr = &st.frames[i];
        /* a tab or newline inside a name would break the pairing */
        printf("%s\t%s\t%u\n", field(fr->function), field(fr->file), fr->line);
    }
    if (st.n == 0)
        fputs("??\t??\t0\n", stdout);
    fputs("\n", stdout);
    sym_stack_free(&st);
}

int symbolize_cmd_run(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
            puts("usage: " ANALYZER_NAME " symbolize < REQUESTS\n"
                 "Reads lines `PATH 0xOFFSET` (a module as loaded and an offset from its\n"
                 "first mapped byte) and answers each with lines `FUNCTION<TAB>FILE<TAB>LINE`\n"
                 "(one per inlined call, innermost first; ?? and 0 when unknown) and an\n"
                 "empty line.  The shim runs it to name the frames of its report on stderr.");
            return 0;
        }
        fprintf(stderr, ANALYZER_NAME " symbolize: takes no arguments (requests come on stdin)\n");
        return 2;
    }
    struct notes notes;
    memset(&notes, 0, sizeof notes);
    struct symbolizer *sym = sym_new(&notes, false);
    static char line[REQUEST_MAX];
    while (fgets(line, sizeof line, stdin)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n') {
            line[--len] = '\0';
        } else if (!feof(stdin)) {
            int c; /* too long: skip the rest of it */
            while ((c = getchar()) != EOF && c != '\n')
                ;
            answer_unknown();
            fflush(stdout);
            continue;
        }
        answer(sym, line);
        if (fflush(stdout) != 0)
            break;
    }
    sym_free(sym);
    notes_free(&notes);
    return 0;
}
