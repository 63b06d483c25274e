/*
 * inspect.h — `guard-analyze inspect`: static checks on executables, and
 * `inspect --host`: facts about this machine that the checks need (the
 * vDSO's stack use).
 *
 * Every binary is opened once with libelf, validated (a truncated or
 * corrupt file is an input error naming the file, never a crash) and
 * described (struct inspect_target: how it is linked, whether it runs in
 * secure mode, what NSS and thread code it contains, and for a Go program
 * its build info, line table and vDSO calls); then each check in
 * the table in inspect.c looks at the target and may add findings.  To add
 * a check: write a function of type inspect_check_fn and list it in
 * `checks[]`.
 */
#ifndef ANALYZER_INSPECT_H
#define ANALYZER_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include <gelf.h>
#include <jansson.h>
#include <libelf.h>

enum inspect_link {
    INSPECT_STATIC,       /* ET_EXEC, no PT_INTERP: no dynamic loader runs */
    INSPECT_STATIC_PIE,   /* ET_DYN, no PT_INTERP, DF_1_PIE or no DT_NEEDED/DT_SONAME */
    INSPECT_DYNAMIC,      /* has PT_INTERP: ld.so loads it (and LD_PRELOAD) */
    INSPECT_SHARED_LIB,   /* ET_DYN without PT_INTERP or PIE flag: a library */
    INSPECT_OTHER,        /* ET_REL, ET_CORE... */
};

/* A small set of strings (names, evidence), without duplicates
 * (inspect_strs.c). */
struct inspect_strs {
    char **v;
    size_t n, cap;
};
void inspect_strs_add(struct inspect_strs *s, const char *str);
bool inspect_strs_has(const struct inspect_strs *s, const char *str);
void inspect_strs_free(struct inspect_strs *s);
json_t *inspect_strs_json(const struct inspect_strs *s);

enum inspect_threads {
    INSPECT_THREADS_NO,        /* no thread-creation code found */
    INSPECT_THREADS_POSSIBLE,  /* raw clone/clone3 only: threads or child processes */
    INSPECT_THREADS_YES,       /* pthread_create, thrd_create, Go's runtime.newosproc */
};

/* What NSS and thread code an executable contains (inspect_nss.c). */
struct inspect_nss {
    bool scanned;
    bool static_exe;            /* static or static-pie executable */
    bool stripped;              /* no .symtab */
    bool glibc;                 /* glibc markers: GLIBC_PRIVATE, glibc.* tunables */
    bool machinery;             /* glibc's NSS module loader: libnss_%s.so, nsswitch.conf, __nss_module_load */
    bool dlopen;                /* dynamic-loading code: _dl_open, __libc_dlopen_mode */
    enum inspect_threads threads;
    const char *entry_from;     /* "symtab", "dynsym", "strings" or NULL (none found) */
    const char *threads_from;   /* the same for thread evidence */
    struct inspect_strs entry;  /* NSS entry points (getpwuid_r, getaddrinfo...) */
    struct inspect_strs thread; /* thread entry points (pthread_create, thrd_create...) */
    struct inspect_strs clone;  /* raw clone entry points (clone, clone3...) */
    struct inspect_strs evidence; /* "symbol X", "string \"libnss_%s.so%s\"" ... */
};

/* What a Go executable's build info and line table say (inspect_go.c). */
struct inspect_go_vdso {
    const char *func;         /* runtime.nanotime1, ... (a static string) */
    bool found;               /* in the line table and disassembled */
    bool indirect_call;       /* a call through a register or memory: the vDSO */
    bool switches;            /* loads SP from memory before that call (g0's saved SP) */
    uint64_t entry;           /* the function's address */
    uint64_t call_off, switch_off; /* offsets from the function's entry */
    char call_insn[48], switch_insn[64];
};

#define INSPECT_GO_VDSO_MAX 5

struct inspect_go {
    bool is_go;               /* a .go.buildinfo header (or a Go line table) */
    char *version;            /* "go1.19.8"; NULL: not recorded */
    char *path;               /* the main package; NULL: not recorded */
    int cgo_enabled;          /* the CGO_ENABLED build setting: 1, 0, -1 not recorded */
    bool cgo_linked;          /* C code and libc are really linked in */
    char *cgo_from;           /* what cgo_linked rests on; NULL when not linked */
    char *tags, *ldflags, *buildmode; /* build settings; NULL: not given */
    bool osusergo, netgo, race, extld_static, strip_s, strip_w;
    struct inspect_strs cgo_calls; /* Go's stubs for C calls (pkg._Cfunc_name) */
    const char *pcln_layout;  /* "1.16", "1.18", "1.20"; NULL: no line table */
    size_t nfunc;
    struct inspect_go_vdso vdso[INSPECT_GO_VDSO_MAX];
    size_t nvdso;
};

struct inspect_target {
    const char *path;
    struct stat st;
    Elf *elf;
    GElf_Ehdr ehdr;
    enum inspect_link link;
    bool has_interp, has_dynamic, pie_flag, has_needed, has_soname;
    char *interp;          /* PT_INTERP contents, NULL: none */
    bool setuid, setgid, file_caps;
    bool native;           /* same ELF class and machine as this analyzer */
    bool preload_works;    /* LD_PRELOAD=libguard.so would take effect */
    const char *why;       /* one line: why it does or does not */
    struct inspect_nss nss;
    struct inspect_go go;
};

struct inspect_finding {
    unsigned kind;         /* enum guard_finding_kind */
    char *summary;
    char *detail;          /* why it matters and what to do (several lines); NULL: none */
    const char *confidence; /* "high", "medium", "low"; NULL: not graded */
    struct inspect_strs symbols;  /* the names involved */
    struct inspect_strs evidence; /* what the verdict rests on */
};

struct inspect_result {
    struct inspect_finding *v;
    size_t n, cap;
};

typedef void (*inspect_check_fn)(const struct inspect_target *t, struct inspect_result *res);

/* For checks: record a finding about the target; returns it so that the
 * check can fill in detail, confidence, symbols and evidence. */
struct inspect_finding *inspect_add_finding(struct inspect_result *res, unsigned kind,
                                            const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* For checks: does the target define or reference `name` in .symtab or
 * .dynsym?  (A static binary keeps .symtab unless stripped.) */
bool inspect_has_symbol(const struct inspect_target *t, const char *name);

/* inspect_nss.c: fill t->nss (symbols and, for static executables, the
 * strings that survive stripping); the nss-static-binary check. */
void inspect_nss_scan(struct inspect_target *t);
void inspect_nss_free(struct inspect_nss *n);
void inspect_nss_check_static(const struct inspect_target *t, struct inspect_result *res);
json_t *inspect_nss_json(const struct inspect_nss *n);
/* A remark for the per-binary description, NULL: none. */
const char *inspect_nss_note(const struct inspect_nss *n);

/* inspect_go.c: fill t->go (after the NSS scan) and restate t->why for a
 * Go program; its part of the text and JSON output. */
void inspect_go_scan(struct inspect_target *t);
void inspect_go_free(struct inspect_go *g);
void inspect_go_text(const struct inspect_target *t, bool verbose);
json_t *inspect_go_json(const struct inspect_target *t);
/* inspect_govdso.c: how the Go runtime calls the vDSO (g->vdso), from its
 * line table `pcln` (struct go_pcln *) and capstone; and the verdict with
 * this host's measured vDSO stack need (a static string, NULL: no Go
 * vDSO code found). */
void inspect_go_vdso_scan(const struct inspect_target *t, const void *pcln, struct inspect_go *g);
const char *inspect_go_vdso_verdict(const struct inspect_go *g, json_t **host);

/* inspect_mode.c: which way libguard can see the program: "preload",
 * "supervise", "both" or "none"; *why says why in a phrase. */
const char *inspect_mode_of(const struct inspect_target *t, const char **why);

struct inspect_options {
    bool json;
    bool verbose;
    bool host;               /* --host: measure this machine (vDSO, kernel) */
    const char *vdso_image;  /* --vdso-image=FILE: measure a dumped vDSO instead */
};

/* inspect_host.c: the --host facts.  Text goes to `out`; JSON fills
 * *host.  Return 0, or -1 after printing an error on stderr. */
int inspect_host_text(FILE *out, const struct inspect_options *o);
int inspect_host_json(json_t **host, const struct inspect_options *o);

/* Why LD_PRELOAD cannot bring the shim into the executable at path, as
 * its file is now (static, setuid, setgid, file capabilities, another
 * machine): a phrase that completes "it is ...".  NULL when nothing shows
 * it cannot: a dynamic program in normal mode, a script, a file that is
 * gone or cannot be read. */
const char *inspect_preload_gap(const char *path);

/* Run `inspect` on paths (n may be 0 with --host); returns the exit status
 * (0, 1 findings, 2 usage or input error). */
int inspect_run(char *const *paths, size_t n, const struct inspect_options *o);

/* `inspect --mode BINARY`: one word on stdout for the wrapper (see
 * inspect_mode_of; a script answers for its interpreter); exit status 0,
 * 2 when BINARY cannot be read.  `inspect --symbolize BINARY ADDR...`: each
 * address through the analyzer's symbolizer, a line each ("ADDR FUNCTION
 * FILE:LINE", "??" unknown); for tests and triage.  argv[0] is the option. */
int inspect_tool_main(int argc, char **argv);

/* inspect.c: open, validate and describe an executable for inspect_mode.c
 * (t->go and t->nss filled); returns the fd for inspect_target_close, or
 * -1 with err set. */
int inspect_target_open(struct inspect_target *t, const char *path, char *err, size_t errsz);
void inspect_target_close(struct inspect_target *t, int fd);
/* inspect_script.c: `name` as execvp would find it, on PATH (a name with a
 * slash is itself); malloc'd, NULL when not found. */
char *inspect_path_lookup(const char *name);
/* inspect_script.c: the program a #! script runs (a malloc'd path; NULL
 * with *interp_out naming the interpreter when it is not found, or
 * "" for none), from the script's first line.  fd is the script. */
char *inspect_script_runs(int fd, char **interp_out, char **arg_out);
bool inspect_is_script(const char *path);

#endif /* ANALYZER_INSPECT_H */
