/*
 * inspect.c — `guard-analyze inspect BINARY...`: can libguard run in it?
 *
 * LD_PRELOAD is honoured by the dynamic loader only, so the first question
 * for any executable is how it is linked:
 *   - static (no PT_INTERP, ET_EXEC): no loader runs, LD_PRELOAD is
 *     ignored; the shim never loads.
 *   - static-pie (no PT_INTERP, ET_DYN with DF_1_PIE): relocates itself,
 *     still no loader: same.
 *   - dynamic (PT_INTERP): ld.so runs and preloads libguard.so...
 *   - ...unless the process runs in secure mode (AT_SECURE: setuid, setgid
 *     or file capabilities, when started by another user): ld.so then
 *     restricts LD_PRELOAD, and libguard itself stays inert.
 *   - a different ELF class or machine than libguard.so: ld.so refuses to
 *     preload it ("wrong ELF class") and runs the program without it.
 * Further checks (nss-static-binary) plug into checks[] below.
 */
#define _GNU_SOURCE
#include "inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <jansson.h>

#include "guard_log.h"
#include "util.h"

/* The checks that produce findings.  The linkage description above is
 * not one of them: it is a fact about the binary, not a bug. */
static const struct {
    const char *name;
    inspect_check_fn fn;
} checks[] = {
    /* { "nss-static-binary", check_nss_static }, -- to be added */
    {NULL, NULL},
};

void inspect_add_finding(struct inspect_result *res, unsigned kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    VEC_GROW(res->v, res->n, res->cap);
    res->v[res->n].kind = kind;
    res->v[res->n].summary = s ? s : xstrdup("(out of memory)");
    res->n++;
}

bool inspect_has_symbol(const struct inspect_target *t, const char *name)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(t->elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        if (!data || sh.sh_entsize == 0)
            continue;
        size_t n = sh.sh_size / sh.sh_entsize;
        for (size_t i = 0; i < n; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(data, (int)i, &sym))
                break;
            const char *s = elf_strptr(t->elf, sh.sh_link, sym.st_name);
            if (s && strcmp(s, name) == 0)
                return true;
        }
    }
    return false;
}

/* The ELF class and machine of this analyzer: libguard.so is built by the
 * same compiler for the same target. */
static void native_ident(int *cls, int *machine)
{
    *cls = sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32;
    *machine = -1; /* unknown: do not judge */
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    GElf_Ehdr eh;
    if (e && gelf_getehdr(e, &eh))
        *machine = eh.e_machine;
    if (e)
        elf_end(e);
    close(fd);
}

static void read_program_headers(struct inspect_target *t)
{
    size_t phnum = 0;
    if (elf_getphdrnum(t->elf, &phnum) != 0)
        return;
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(t->elf, (int)i, &ph))
            continue;
        if (ph.p_type == PT_DYNAMIC)
            t->has_dynamic = true;
        if (ph.p_type == PT_INTERP && !t->has_interp) {
            t->has_interp = true;
            size_t flen = 0;
            char *img = elf_rawfile(t->elf, &flen);
            if (img && ph.p_offset < flen && ph.p_filesz <= flen - ph.p_offset)
                t->interp = xstrndup_bytes(img + ph.p_offset, ph.p_filesz);
        }
    }
    /* DF_1_PIE in DT_FLAGS_1 tells a static-pie from a shared library. */
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(t->elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || sh.sh_entsize == 0)
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        size_t n = data ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 0; i < n; i++) {
            GElf_Dyn dyn;
            if (!gelf_getdyn(data, (int)i, &dyn) || dyn.d_tag == DT_NULL)
                break;
            if (dyn.d_tag == DT_FLAGS_1 && (dyn.d_un.d_val & DF_1_PIE))
                t->pie_flag = true;
        }
    }
}

static void classify(struct inspect_target *t, int native_cls, int native_machine)
{
    read_program_headers(t);
    if (t->has_interp)
        t->link = INSPECT_DYNAMIC;
    else if (t->ehdr.e_type == ET_EXEC)
        t->link = INSPECT_STATIC;
    else if (t->ehdr.e_type == ET_DYN && t->pie_flag)
        t->link = INSPECT_STATIC_PIE;
    else if (t->ehdr.e_type == ET_DYN)
        t->link = INSPECT_SHARED_LIB;
    else
        t->link = INSPECT_OTHER;

    t->setuid = (t->st.st_mode & S_ISUID) != 0;
    t->setgid = (t->st.st_mode & S_ISGID) && (t->st.st_mode & S_IXGRP);
    t->file_caps = getxattr(t->path, "security.capability", NULL, 0) > 0;
    t->native = t->ehdr.e_ident[EI_CLASS] == native_cls &&
                (native_machine < 0 || t->ehdr.e_machine == native_machine);

    t->preload_works = false;
    switch (t->link) {
    case INSPECT_STATIC:
    case INSPECT_STATIC_PIE:
        t->why = "no dynamic loader runs in it, so LD_PRELOAD is ignored";
        return;
    case INSPECT_SHARED_LIB:
        t->why = "a shared library, not an executable: inspect the program that loads it";
        return;
    case INSPECT_OTHER:
        t->why = "not an executable";
        return;
    case INSPECT_DYNAMIC:
        break;
    }
    if (!t->native)
        t->why = "different ELF class or machine than libguard.so: ld.so will refuse to preload it";
    else if (t->setuid || t->setgid || t->file_caps)
        t->why = "runs in secure mode (AT_SECURE) when started by another user: LD_PRELOAD is "
                 "restricted and libguard stays inert";
    else {
        t->preload_works = true;
        t->why = "LD_PRELOAD works";
    }
}

static const char *link_name(enum inspect_link l)
{
    switch (l) {
    case INSPECT_STATIC:
        return "static";
    case INSPECT_STATIC_PIE:
        return "static-pie";
    case INSPECT_DYNAMIC:
        return "dynamic";
    case INSPECT_SHARED_LIB:
        return "shared-library";
    case INSPECT_OTHER:
    default:
        return "other";
    }
}

static const char *machine_name(unsigned m)
{
    switch (m) {
    case EM_X86_64:
        return "x86-64";
    case EM_386:
        return "i386";
    case EM_AARCH64:
        return "aarch64";
    case EM_ARM:
        return "arm";
    case EM_RISCV:
        return "riscv";
    case EM_PPC64:
        return "ppc64";
    case EM_S390:
        return "s390";
    default:
        return NULL;
    }
}

/* A JSON string for text that may not be valid UTF-8 (a file name). */
static json_t *jstr(const char *s)
{
    if (!s)
        return json_null();
    char *clean = utf8_sanitize(s);
    json_t *j = json_string(clean);
    free(clean);
    return j;
}

/* One binary: describe it (text) or add its object (json); run checks. */
static bool inspect_one(const char *path, int native_cls, int native_machine, bool json,
                        json_t *jbins, json_t *jfindings, size_t *nfindings)
{
    struct inspect_target t;
    memset(&t, 0, sizeof t);
    t.path = path;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0 || fstat(fd, &t.st) != 0 || !S_ISREG(t.st.st_mode)) {
        const char *err = fd < 0 ? strerror(errno) : "not a regular file";
        fput_escaped(stderr, path);
        fprintf(stderr, ": cannot inspect: %s\n", err);
        if (fd >= 0)
            close(fd);
        return false;
    }
    char magic[2] = {0, 0};
    if (pread(fd, magic, 2, 0) == 2 && magic[0] == '#' && magic[1] == '!') {
        /* A script: the kernel runs its interpreter, and LD_PRELOAD applies
         * to that; nothing wrong with the input. */
        if (json) {
            json_t *b = json_object();
            json_object_set_new(b, "path", jstr(path));
            json_object_set_new(b, "type", json_string("script"));
            json_object_set_new(b, "preload_works", json_null());
            json_object_set_new(b, "reason", json_string("a script: inspect its interpreter"));
            json_array_append_new(jbins, b);
        } else {
            fput_escaped(stdout, path);
            fputs(": a script: inspect its interpreter\n", stdout);
        }
        close(fd);
        return true;
    }
    t.elf = elf_begin(fd, ELF_C_READ, NULL);
    if (!t.elf || elf_kind(t.elf) != ELF_K_ELF || !gelf_getehdr(t.elf, &t.ehdr)) {
        fput_escaped(stderr, path);
        fputs(": cannot inspect: not an ELF file\n", stderr);
        if (t.elf)
            elf_end(t.elf);
        close(fd);
        return false;
    }
    classify(&t, native_cls, native_machine);

    struct inspect_result res = {NULL, 0, 0};
    for (size_t i = 0; checks[i].fn; i++)
        checks[i].fn(&t, &res);

    if (json) {
        json_t *b = json_object();
        json_object_set_new(b, "path", jstr(path));
        json_object_set_new(b, "type", json_string(link_name(t.link)));
        json_object_set_new(b, "pie", json_boolean(t.pie_flag));
        json_object_set_new(b, "interpreter", jstr(t.interp));
        json_object_set_new(b, "class", json_integer(t.ehdr.e_ident[EI_CLASS] == ELFCLASS64 ? 64 : 32));
        const char *mn = machine_name(t.ehdr.e_machine);
        char mbuf[24];
        snprintf(mbuf, sizeof mbuf, "em-%u", t.ehdr.e_machine);
        json_object_set_new(b, "machine", json_string(mn ? mn : mbuf));
        json_object_set_new(b, "setuid", json_boolean(t.setuid));
        json_object_set_new(b, "setgid", json_boolean(t.setgid));
        json_object_set_new(b, "file_capabilities", json_boolean(t.file_caps));
        json_object_set_new(b, "preload_works", json_boolean(t.preload_works));
        json_object_set_new(b, "reason", json_string(t.why));
        json_array_append_new(jbins, b);
        for (size_t i = 0; i < res.n; i++) {
            json_t *f = json_object();
            const char *k = guard_finding_kind_name(res.v[i].kind);
            json_object_set_new(f, "kind", json_string(k ? k : "unknown"));
            json_object_set_new(f, "binary", jstr(path));
            json_object_set_new(f, "summary", jstr(res.v[i].summary));
            json_object_set_new(f, "count", json_integer(1));
            json_object_set_new(f, "stacks", json_object());
            json_array_append_new(jfindings, f);
        }
    } else {
        fput_escaped(stdout, path);
        const char *mn = machine_name(t.ehdr.e_machine);
        printf(": %s%s, ELF%d ", link_name(t.link),
               t.pie_flag && t.link == INSPECT_DYNAMIC ? " (PIE)" : "",
               t.ehdr.e_ident[EI_CLASS] == ELFCLASS64 ? 64 : 32);
        if (mn)
            fputs(mn, stdout);
        else
            printf("machine %u", t.ehdr.e_machine);
        if (t.interp) {
            fputs(", interpreter ", stdout);
            fput_escaped(stdout, t.interp);
        }
        if (t.setuid)
            fputs(", setuid", stdout);
        if (t.setgid)
            fputs(", setgid", stdout);
        if (t.file_caps)
            fputs(", file capabilities", stdout);
        printf(": %s\n", t.why);
        for (size_t i = 0; i < res.n; i++) {
            const char *k = guard_finding_kind_name(res.v[i].kind);
            printf("ERROR: libguard: %s in ", k ? k : "unknown");
            fput_escaped(stdout, path);
            fputs("\n  ", stdout);
            fput_escaped(stdout, res.v[i].summary);
            fputc('\n', stdout);
        }
    }
    *nfindings += res.n;
    for (size_t i = 0; i < res.n; i++)
        free(res.v[i].summary);
    free(res.v);
    free(t.interp);
    elf_end(t.elf);
    close(fd);
    return true;
}

int inspect_run(char *const *paths, size_t n, bool json, bool verbose)
{
    (void)verbose;
    if (elf_version(EV_CURRENT) == EV_NONE) {
        fputs(ANALYZER_NAME ": libelf is unusable\n", stderr);
        return 2;
    }
    int cls, machine;
    native_ident(&cls, &machine);
    json_t *jbins = json ? json_array() : NULL;
    json_t *jfindings = json ? json_array() : NULL;
    size_t nfindings = 0, nok = 0;
    bool input_error = false;
    for (size_t i = 0; i < n; i++) {
        if (inspect_one(paths[i], cls, machine, json, jbins, jfindings, &nfindings))
            nok++;
        else
            input_error = true;
    }
    bool write_ok;
    if (json) {
        json_t *root = json_object();
        json_object_set_new(root, "findings", jfindings);
        json_object_set_new(root, "binaries", jbins);
        json_t *sum = json_object();
        json_object_set_new(sum, "findings", json_integer((json_int_t)nfindings));
        json_object_set_new(sum, "binaries", json_integer((json_int_t)nok));
        json_object_set_new(sum, "errors", json_integer((json_int_t)(n - nok)));
        json_object_set_new(root, "summary", sum);
        write_ok = json_dumpf(root, stdout, JSON_INDENT(2)) == 0;
        json_decref(root);
        fputc('\n', stdout);
    } else {
        if (nfindings)
            printf("SUMMARY: libguard: %zu %s in %zu %s\n", nfindings,
                   nfindings == 1 ? "finding" : "findings", nok, nok == 1 ? "binary" : "binaries");
        else
            printf("libguard: no findings in %zu %s\n", nok, nok == 1 ? "binary" : "binaries");
        write_ok = true;
    }
    write_ok = fflush(stdout) == 0 && !ferror(stdout) && write_ok;
    if (input_error || !write_ok)
        return 2;
    return nfindings ? 1 : 0;
}
