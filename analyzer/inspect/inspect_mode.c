/*
 * inspect_mode.c — inspect's one-line answers for scripts and tests:
 *   `inspect --mode BINARY`: which way libguard can see the program, one
 *   word on stdout for run-with-guard.sh:
 *     preload    LD_PRELOAD loads the shim and it sees every call it hooks
 *                (a dynamic program that is not Go);
 *     supervise  the shim cannot load (static, static-pie, another ELF
 *                class) or sees nothing (Go without cgo): the seccomp
 *                supervisor sees the system calls;
 *     both       a dynamic Go program with cgo: the shim sees its C calls,
 *                the supervisor the Go runtime's own system calls;
 *     none       set-user-ID, set-group-ID or file capabilities: the shim is
 *                inert in secure mode and the supervisor's no_new_privs
 *                would drop the privileges the program is installed for.
 *   A script answers for its interpreter; the reason goes to stderr.  Exit
 *   0, or 2 when BINARY cannot be read or is not an executable file.
 *   `inspect --symbolize BINARY ADDR...`: each address (a file address of
 *   BINARY) through the analyzer's symbolizer (symbolize.c: DWARF, the
 *   symbol table, then Go's line table), as "ADDR FUNCTION FILE:LINE".
 */
#define _GNU_SOURCE
#include "inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guard_log.h"
#include "symbolize.h"
#include "util.h"

const char *inspect_mode_of(const struct inspect_target *t, const char **why)
{
    const struct inspect_go *g = &t->go;
    if (t->setuid || t->setgid || t->file_caps) {
        *why = "secure mode (set-user-ID, set-group-ID or file capabilities): the shim stays "
               "inert, and the supervisor's no_new_privs would drop the privileges the program "
               "is installed with; run it unprivileged or as its owner to check it";
        return "none";
    }
    if (t->link == INSPECT_STATIC || t->link == INSPECT_STATIC_PIE) {
        *why = g->is_go ? "a static Go program: no dynamic loader, so LD_PRELOAD cannot reach it"
                        : "a static executable: no dynamic loader, so LD_PRELOAD cannot reach it";
        return "supervise";
    }
    if (t->link != INSPECT_DYNAMIC) {
        *why = "not an executable program: LD_PRELOAD applies to the program that loads it";
        return "preload";
    }
    if (!t->native) {
        *why = "another ELF class or machine: ld.so does not preload libguard.so into it";
        return "supervise";
    }
    if (g->is_go && g->cgo_linked) {
        *why = "a dynamic Go program with cgo: the shim sees its C calls, the supervisor the Go "
               "runtime's own system calls";
        return "both";
    }
    if (g->is_go) {
        *why = "a Go program without cgo: the Go runtime makes its own system calls, which the "
               "shim does not see";
        return "supervise";
    }
    *why = "a dynamic program: LD_PRELOAD sees every call libguard hooks";
    return "preload";
}

static int mode_main(const char *arg)
{
    char *path = inspect_path_lookup(arg);
    if (!path) {
        fprintf(stderr, ANALYZER_NAME ": %s: not found on PATH\n", arg);
        return 2;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    char *run = NULL, *interp = NULL, *sarg = NULL;
    if (fd >= 0 && inspect_is_script(path)) {
        run = inspect_script_runs(fd, &interp, &sarg);
        if (!run || inspect_is_script(run)) {
            fprintf(stderr, ANALYZER_NAME ": %s: a script whose interpreter %s %s: preload\n", path,
                    *interp ? interp : "(none)", run ? "is itself a script" : "was not found");
            puts("preload");
            free(run), free(interp), free(sarg), free(path), close(fd);
            return 0;
        }
    }
    if (fd >= 0)
        close(fd);
    struct inspect_target t;
    char err[300];
    int tfd = inspect_target_open(&t, run ? run : path, err, sizeof err);
    if (tfd < 0) {
        fprintf(stderr, ANALYZER_NAME ": %s: cannot inspect: %s\n", run ? run : path, err);
        free(run), free(interp), free(sarg), free(path);
        return 2;
    }
    const char *why = NULL, *mode = inspect_mode_of(&t, &why);
    fprintf(stderr, ANALYZER_NAME ": %s%s%s: %s: %s\n", path, run ? ": its interpreter " : "",
            run ? run : "", mode, why);
    puts(mode);
    inspect_target_close(&t, tfd);
    free(run), free(interp), free(sarg), free(path);
    return fflush(stdout) == 0 ? 0 : 2;
}

/* A log of one process that ran `path` alone, at its link-time addresses:
 * what the symbolizer needs to name addresses of that file. */
static int symbolize_main(const char *path, char *const *addrs, size_t n)
{
    struct inspect_target t;
    char err[300];
    int fd = inspect_target_open(&t, path, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, ANALYZER_NAME ": %s: cannot inspect: %s\n", path, err);
        return 2;
    }
    struct lg_module mod;
    memset(&mod, 0, sizeof mod);
    mod.flags = GUARD_MODULE_MAIN;
    mod.path = realpath(path, NULL);
    if (!mod.path)
        mod.path = xstrdup(path);
    size_t phnum = 0;
    elf_getphdrnum(t.elf, &phnum);
    mod.segs = xcalloc(phnum ? phnum : 1, sizeof *mod.segs);
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(t.elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
            mod.segs[mod.nsegs].vaddr = ph.p_vaddr;
            mod.segs[mod.nsegs].memsz = ph.p_memsz;
            mod.segs[mod.nsegs++].flags = ph.p_flags;
        }
    }
    inspect_target_close(&t, fd);
    struct lg_log log;
    memset(&log, 0, sizeof log);
    log.path = (char *)path;
    log.exe = mod.path;
    log.modules = &mod;
    log.nmodules = 1;
    struct notes notes = {0};
    struct symbolizer *sym = sym_new(&notes, false);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char *end = NULL;
        errno = 0;
        unsigned long long a = strtoull(addrs[i], &end, 0);
        if (errno || !end || *end || end == addrs[i]) {
            fprintf(stderr, ANALYZER_NAME ": not an address: %s\n", addrs[i]);
            rc = 2;
            continue;
        }
        struct lg_stack st;
        memset(&st, 0, sizeof st);
        uint64_t pc = a;
        st.pcs = &pc;
        st.nframes = 1;
        struct sym_stack out;
        sym_stack(sym, &log, &st, &out);
        for (size_t k = 0; k < out.n; k++) {
            const struct sym_frame *fr = &out.frames[k];
            /* names from the binary are untrusted bytes: escaped */
            printf("%#" PRIx64 " ", fr->pc);
            fput_escaped(stdout, fr->function ? fr->function : "??");
            fputc(' ', stdout);
            fput_escaped(stdout, fr->file ? fr->file : "??");
            printf(":%u\n", fr->line);
        }
        sym_stack_free(&out);
    }
    sym_free(sym);
    notes_free(&notes);
    free(mod.segs);
    free(mod.path);
    return fflush(stdout) == 0 ? rc : 2;
}

int inspect_tool_main(int argc, char **argv)
{
    if (elf_version(EV_CURRENT) == EV_NONE) {
        fputs(ANALYZER_NAME ": libelf is unusable\n", stderr);
        return 2;
    }
    if (strcmp(argv[0], "--mode") == 0 && argc == 2)
        return mode_main(argv[1]);
    if (strncmp(argv[0], "--mode=", 7) == 0 && argc == 1)
        return mode_main(argv[0] + 7);
    if (strcmp(argv[0], "--symbolize") == 0 && argc >= 3)
        return symbolize_main(argv[1], argv + 2, (size_t)argc - 2);
    fputs("usage: " ANALYZER_NAME " inspect --mode BINARY\n"
          "       " ANALYZER_NAME " inspect --symbolize BINARY ADDR...\n", stderr);
    return 2;
}
