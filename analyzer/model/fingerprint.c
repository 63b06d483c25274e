/*
 * fingerprint.c — stable finding identities (see fingerprint.h).
 */
#define _GNU_SOURCE
#include "fingerprint.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *fp_base_name(const char *path)
{
    if (!path)
        return "";
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool fp_frame_is_project(const struct sym_frame *fr)
{
    const char *m = fr->module;
    if (!m || !m[0] || m[0] == '[')
        return false; /* [vdso], [unknown] */
    static const char *const dirs[] = {
        "/lib/", "/lib32/", "/lib64/", "/libx32/", "/usr/lib/", "/usr/lib32/", "/usr/lib64/",
        "/usr/libx32/", "/usr/libexec/", "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/",
    };
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
        if (starts_with(m, dirs[i]))
            return false;
    static const char *const libs[] = {
        "libguard.so", "libc.so", "libc-", "ld-linux", "ld64.so", "ld.so", "libpthread",
        "libdl.so", "libdl-", "libm.so", "libm-", "librt.so", "librt-", "libstdc++",
        "libgcc_s", "libunwind",
    };
    const char *b = fp_base_name(m);
    for (size_t i = 0; i < sizeof libs / sizeof *libs; i++)
        if (starts_with(b, libs[i]))
            return false;
    return true;
}

const struct sym_frame *fp_location_frame(const struct sym_stack *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->frames[i].file && fp_frame_is_project(&s->frames[i]))
            return &s->frames[i];
    for (size_t i = 0; i < s->n; i++)
        if (s->frames[i].file)
            return &s->frames[i];
    for (size_t i = 0; i < s->n; i++)
        if (s->frames[i].function)
            return &s->frames[i];
    return NULL;
}

const struct fnd_stack *fp_primary_stack(const struct fnd *f)
{
    for (size_t i = 0; i < f->nstacks; i++)
        if (f->stacks[i].sym->n)
            return &f->stacks[i];
    return NULL;
}

/* ---- which frames identify the bug -------------------------------------
 * A runtime frame stands for no bug: libc and the loader (abort, raise,
 * __libc_start_main, fork), the shim, the C++ and unwinding runtimes
 * (__cxa_throw, std::terminate, _Unwind_*), the vDSO and unknown code, and
 * a language interpreter's own loop (libpython's or the python binary's
 * _PyEval_*, PyObject_Call*, vectorcall trampolines...), and Go's runtime
 * and the standard library packages a program reaches the kernel through
 * (runtime., syscall., os., internal/...: linked into every Go binary, a
 * dotted package path no C or C++ name can have). */

static const char *const runtime_libs[] = {
    "libguard.so", "libc.so", "libc-", "ld-linux", "ld64.so", "ld.so", "libpthread",
    "libdl.so", "libdl-", "librt.so", "librt-", "libstdc++", "libc++.so", "libc++abi",
    "libgcc_s", "libunwind",
};

/* Function names of runtimes, in whichever module they were linked (a
 * static libc or libstdc++): exact names, then prefixes. */
static const char *const runtime_names[] = {
    "_start", "raise", "abort", "pthread_kill", "start_thread", "clone3", "__clone",
    "__assert_fail", "__assert_perror_fail", "__stack_chk_fail", "__fortify_fail",
};
static const char *const runtime_prefixes[] = {
    "__libc_start", "__GI_", "__pthread_kill", "__cxa_", "__gxx_personality", "_Unwind_",
    "__gnu_cxx::__verbose_terminate_handler", "std::terminate", "std::__terminate",
    "__cxxabiv1::",
};

static const char *const go_std_prefixes[] = {
    "runtime.", "runtime/", "syscall.", "internal/", "os.", "os/", "sync.", "sync/",
    "golang.org/x/sys/",
};

/* Go code: its line table names .go and .s files (a C function's clone,
 * "sync.cold", must not pass for Go's sync package). */
static bool go_source(const char *file)
{
    size_t n = file ? strlen(file) : 0;
    return (n > 3 && strcmp(file + n - 3, ".go") == 0) || (n > 2 && strcmp(file + n - 2, ".s") == 0);
}

/* The interpreter loop of CPython (libpython3.*.so or a python binary
 * that links it in): eval, calls, vectorcall trampolines, startup. */
static const char *const python_funcs[] = {
    "_PyEval_", "PyEval_", "_PyObject_", "PyObject_Call", "PyObject_Vectorcall", "_PyFunction_",
    "_PyVectorcall", "PyVectorcall", "_Py_", "Py_RunMain", "Py_BytesMain", "Py_Main",
    "pymain_", "_PyRun_", "PyRun_", "run_mod", "run_eval_code_obj", "pyrun_", "method_vectorcall",
    "cfunction_", "vectorcall_", "slot_tp_", "object_vacall", "call_function", "do_call_core",
    "builtin_exec", "_PyCFunction", "PyCFunction_", "_PyMethodDef", "method_call", "partial_",
    "func_", "type_call", "_PyCode", "exec_code_in_module", "run_", "call_",
};

static bool python_module(const char *base)
{
    return starts_with(base, "libpython") || starts_with(base, "python");
}

static bool any_prefix(const char *s, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (starts_with(s, v[i]))
            return true;
    return false;
}

bool fp_frame_is_runtime(const struct sym_frame *fr)
{
    const char *m = fr->module;
    if (!m || !m[0] || m[0] == '[')
        return true; /* [vdso], [unknown]: nothing stable */
    const char *b = fp_base_name(m);
    if (any_prefix(b, runtime_libs, sizeof runtime_libs / sizeof *runtime_libs))
        return true;
    const char *fn = fr->function;
    if (!fn)
        return false;
    for (size_t i = 0; i < sizeof runtime_names / sizeof *runtime_names; i++)
        if (strcmp(fn, runtime_names[i]) == 0)
            return true;
    if (any_prefix(fn, runtime_prefixes, sizeof runtime_prefixes / sizeof *runtime_prefixes))
        return true;
    if (go_source(fr->file) &&
        any_prefix(fn, go_std_prefixes, sizeof go_std_prefixes / sizeof *go_std_prefixes))
        return true;
    return python_module(b) && any_prefix(fn, python_funcs, sizeof python_funcs / sizeof *python_funcs);
}

bool fp_stack_module_only(const struct fnd *f, const struct fnd_stack *s)
{
    return (f->kind == GUARD_FK_UNREAPED_CHILD || f->kind == GUARD_FK_PUT_WHILE_CHILD_RUNNING) &&
           s->role_id == GUARD_ROLE_SPAWN;
}

size_t fp_key_frames(const struct sym_stack *s, bool module_only, size_t idx[FND_KEY_FRAMES])
{
    size_t n = 0;
    const char *at_fault = NULL;
    for (size_t i = 0; i < s->n && n < FND_KEY_FRAMES; i++) {
        const struct sym_frame *fr = &s->frames[i];
        if (fp_frame_is_runtime(fr))
            continue;
        if (!at_fault) {
            at_fault = fr->module;
        } else if (strcmp(fr->module, at_fault) != 0) {
            if (!module_only)
                idx[n++] = i; /* the caller into the module at fault: the site */
            break;
        }
        idx[n++] = i;
    }
    if (n == 0) /* nothing but runtime frames: the top frames as they are */
        for (; n < s->n && n < FND_KEY_FRAMES; n++)
            idx[n] = n;
    return n;
}

/* "sh -c 'cmd args'" -> "cmd"; the next word after an interpreter. */
static bool interpreter(const char *base)
{
    static const char *const v[] = {"sh", "bash", "dash", "zsh", "ksh", "busybox", "env",
                                    "perl", "ruby", "node", "nice", "nohup", "setsid",
                                    "timeout", "stdbuf", "xargs"};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        if (strcmp(base, v[i]) == 0)
            return true;
    return starts_with(base, "python");
}

static void first_word(FILE *out, const char *cmd)
{
    while (*cmd == ' ' || *cmd == '\t')
        cmd++;
    size_t n = strcspn(cmd, " \t\n;|&<>()");
    char *w = strndup(cmd, n);
    if (w)
        fprintf(out, "%s", fp_base_name(w));
    free(w);
}

static void argv_words(FILE *out, const char *prog, char *const *argv, size_t argc)
{
    const char *base = fp_base_name(prog ? prog : argc ? argv[0] : NULL);
    fprintf(out, "%s", base);
    if (!interpreter(base))
        return;
    for (size_t i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!a)
            break;
        if (strcmp(a, "-c") == 0 && i + 1 < argc && argv[i + 1]) {
            fputc(' ', out);
            first_word(out, argv[i + 1]);
            return;
        }
        if (a[0] == '-' || strchr(a, '='))
            continue; /* an option, or env's NAME=value */
        fputc(' ', out);
        fprintf(out, "%s", fp_base_name(a));
        return;
    }
}

char *fp_child_command(const struct fnd_db *db, const struct fnd *f)
{
    if (f->kind != GUARD_FK_UNREAPED_CHILD && f->kind != GUARD_FK_PUT_WHILE_CHILD_RUNNING)
        return NULL;
    const struct pt_node *c = pt_finding_child(&db->tree, f->log, f->rec);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return NULL;
    const char *shell_cmd = c && c->spawn ? pt_spawn_command(c->spawn) : NULL;
    if (!c)
        fputs("?", out);
    else if (shell_cmd) /* popen, system: the command the shell runs */
        first_word(out, shell_cmd);
    else if (c->end == PT_END_EXEC || c->exec_told)
        argv_words(out, c->exec_path, c->exec_argv, c->exec_argc);
    else if (c->exe || c->argc)
        argv_words(out, c->exe, c->argv, c->argc);
    else if (c->spawn && (c->spawn->program || c->spawn->argc))
        argv_words(out, c->spawn->program, c->spawn->argv, c->spawn->argc);
    else
        fputs("?", out);
    if (fclose(out) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* FNV-1a, 64 bits, over a canonical byte string; two of them with
 * different offset bases give 128 bits. */
struct fp_hash {
    uint64_t a, b;
};

static void fp_bytes(struct fp_hash *h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h->a = (h->a ^ s[i]) * 0x100000001b3ull;
        h->b = (h->b ^ s[i]) * 0x100000001b3ull;
    }
}

static void fp_str(struct fp_hash *h, const char *s)
{
    fp_bytes(h, s ? s : "", s ? strlen(s) + 1 : 1); /* the NUL separates fields */
}

static void fp_frame(struct fp_hash *h, const struct sym_frame *fr)
{
    if (fr->function) {
        fp_str(h, "f");
        fp_str(h, fr->function);
        fp_str(h, fr->file ? fp_base_name(fr->file) : "");
    } else if (fr->have_module) {
        char off[24];
        snprintf(off, sizeof off, "0x%" PRIx64, fr->module_offset);
        fp_str(h, "m");
        fp_str(h, fp_base_name(fr->module));
        fp_str(h, off);
    } else {
        fp_str(h, "?"); /* an address in no known module: nothing stable to say */
    }
}

void fp_compute(const struct fnd_db *db, struct fnd *f)
{
    struct fp_hash h = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull};
    fp_str(&h, FP_SARIF_KEY);
    fp_str(&h, f->kind_name);
    for (size_t i = 0; i < f->nstacks; i++) {
        const struct sym_stack *s = f->stacks[i].sym;
        fp_str(&h, f->stacks[i].role);
        size_t idx[FND_KEY_FRAMES];
        size_t n = fp_key_frames(s, fp_stack_module_only(f, &f->stacks[i]), idx);
        for (size_t k = 0; k < n; k++)
            fp_frame(&h, &s->frames[idx[k]]);
        fp_str(&h, "|");
    }
    char *child = fp_child_command(db, f);
    if (child) {
        fp_str(&h, "child");
        fp_str(&h, child);
        free(child);
    }
    snprintf(f->fingerprint, sizeof f->fingerprint, "%016" PRIx64 "%016" PRIx64, h.a, h.b);
}
