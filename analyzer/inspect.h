/*
 * inspect.h — `guard-analyze inspect`: static checks on executables.
 *
 * Every binary is opened once with libelf and described (struct
 * inspect_target: how it is linked, whether it runs in secure mode);
 * then each check in the table in inspect.c looks at the target and may
 * add findings.  To add a check (e.g. nss-static-binary): write a function
 * of type inspect_check_fn and list it in `checks[]`.
 */
#ifndef ANALYZER_INSPECT_H
#define ANALYZER_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include <gelf.h>
#include <libelf.h>

enum inspect_link {
    INSPECT_STATIC,       /* ET_EXEC, no PT_INTERP: no dynamic loader runs */
    INSPECT_STATIC_PIE,   /* ET_DYN + DF_1_PIE, no PT_INTERP: self-relocating */
    INSPECT_DYNAMIC,      /* has PT_INTERP: ld.so loads it (and LD_PRELOAD) */
    INSPECT_SHARED_LIB,   /* ET_DYN without PT_INTERP or PIE flag: a library */
    INSPECT_OTHER,        /* ET_REL, ET_CORE... */
};

struct inspect_target {
    const char *path;
    struct stat st;
    Elf *elf;
    GElf_Ehdr ehdr;
    enum inspect_link link;
    bool has_interp, has_dynamic, pie_flag;
    char *interp;          /* PT_INTERP contents, NULL: none */
    bool setuid, setgid, file_caps;
    bool native;           /* same ELF class and machine as this analyzer */
    bool preload_works;    /* LD_PRELOAD=libguard.so would take effect */
    const char *why;       /* one line: why it does or does not */
};

struct inspect_finding {
    unsigned kind;         /* enum guard_finding_kind */
    char *summary;
};

struct inspect_result {
    struct inspect_finding *v;
    size_t n, cap;
};

typedef void (*inspect_check_fn)(const struct inspect_target *t, struct inspect_result *res);

/* For checks: record a finding about the target. */
void inspect_add_finding(struct inspect_result *res, unsigned kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* For checks: does the target define or reference `name` in .symtab or
 * .dynsym?  (A static binary keeps .symtab unless stripped.) */
bool inspect_has_symbol(const struct inspect_target *t, const char *name);

/* Run `inspect` on paths; returns the exit status (0, 1 findings, 2 input
 * error). */
int inspect_run(char *const *paths, size_t n, bool json, bool verbose);

#endif /* ANALYZER_INSPECT_H */
