/*
 * inspect.c — `guard-analyze inspect BINARY...`: can libguard run in it,
 * and what static checks say about it.
 *
 * LD_PRELOAD is honoured by the dynamic loader only, so the first question
 * for any executable is how it is linked:
 *   - static (no PT_INTERP, ET_EXEC): no loader runs, LD_PRELOAD is
 *     ignored; the shim never loads.
 *   - static-pie (no PT_INTERP, ET_DYN with DF_1_PIE, or with PT_DYNAMIC
 *     but neither DT_NEEDED nor DT_SONAME): relocates itself, still no
 *     loader: same.
 *   - dynamic (PT_INTERP): ld.so runs and preloads libguard.so...
 *   - ...unless the process runs in secure mode (AT_SECURE: setuid, setgid
 *     or file capabilities, when started by another user): ld.so then
 *     ignores LD_PRELOAD entries containing a slash and loads only
 *     set-user-ID libraries from its trusted directories; libguard itself
 *     stays inert under AT_SECURE.
 *   - a different ELF class or machine than libguard.so: ld.so refuses to
 *     preload it ("wrong ELF class") and runs the program without it.
 *   - a script (#!): the kernel runs its interpreter, and LD_PRELOAD
 *     applies to that: the interpreter is described in its place.
 * The input is untrusted: before anything else a file is validated (every
 * program header and section inside the file), and a truncated or corrupt
 * one is an input error naming the file (exit 2), the others still
 * reported.  The checks that produce findings are listed in checks[].
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

#include "guard_log.h"
#include "util.h"

/* The checks that produce findings.  The linkage description above is
 * not one of them: it is a fact about the binary, not a bug. */
static const struct {
    unsigned kind; /* what it finds (enum guard_finding_kind) */
    inspect_check_fn fn;
} checks[] = {
    {GUARD_FK_NSS_STATIC_BINARY, inspect_nss_check_static},
    {0, NULL},
};

struct inspect_finding *inspect_add_finding(struct inspect_result *res, unsigned kind,
                                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    VEC_GROW(res->v, res->n, res->cap);
    struct inspect_finding *f = &res->v[res->n++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->summary = s ? s : xstrdup("(out of memory)");
    return f;
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
        size_t n = data->d_size / sh.sh_entsize;
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

static const char *phdr_type_name(GElf_Word type)
{
    switch (type) {
    case PT_LOAD:
        return "PT_LOAD";
    case PT_INTERP:
        return "PT_INTERP";
    case PT_DYNAMIC:
        return "PT_DYNAMIC";
    case PT_NOTE:
        return "PT_NOTE";
    default:
        return "segment";
    }
}

/* Is every program header and section inside the file?  NULL when the
 * file is sound, else why not (in err). */
static const char *validate(struct inspect_target *t, char *err, size_t errsz)
{
    uint64_t flen = (uint64_t)t->st.st_size;
    size_t phnum = 0, shnum = 0, shstrndx = 0;
    if (elf_getphdrnum(t->elf, &phnum) != 0) {
        snprintf(err, errsz, "corrupt ELF: cannot read the program header count: %s", elf_errmsg(-1));
        return err;
    }
    if (phnum == 0 && (t->ehdr.e_type == ET_EXEC || t->ehdr.e_type == ET_DYN)) {
        snprintf(err, errsz, "corrupt ELF: an executable or shared object without program headers");
        return err;
    }
    if (phnum && (t->ehdr.e_phoff > flen || (uint64_t)phnum * t->ehdr.e_phentsize > flen - t->ehdr.e_phoff)) {
        snprintf(err, errsz, "truncated or corrupt ELF: the program headers (%zu at offset %#llx) "
                 "are past the end of the file (%llu bytes)", phnum,
                 (unsigned long long)t->ehdr.e_phoff, (unsigned long long)flen);
        return err;
    }
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(t->elf, (int)i, &ph)) {
            snprintf(err, errsz, "corrupt ELF: cannot read program header %zu: %s", i, elf_errmsg(-1));
            return err;
        }
        bool needed = ph.p_type == PT_LOAD || ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC;
        if (needed && (ph.p_offset > flen || ph.p_filesz > flen - ph.p_offset)) {
            snprintf(err, errsz, "truncated or corrupt ELF: program header %zu (%s) covers bytes "
                     "%#llx-%#llx, past the end of the file (%llu bytes)", i, phdr_type_name(ph.p_type),
                     (unsigned long long)ph.p_offset,
                     (unsigned long long)ph.p_offset + (unsigned long long)ph.p_filesz,
                     (unsigned long long)flen);
            return err;
        }
    }
    if (elf_getshdrnum(t->elf, &shnum) != 0) {
        snprintf(err, errsz, "corrupt ELF: cannot read the section header count: %s", elf_errmsg(-1));
        return err;
    }
    if (shnum > 1 && elf_getshdrstrndx(t->elf, &shstrndx) != 0) {
        snprintf(err, errsz, "corrupt ELF: cannot find the section name table: %s", elf_errmsg(-1));
        return err;
    }
    Elf_Scn *scn = NULL;
    for (size_t i = 1; i < shnum; i++) {
        GElf_Shdr sh;
        if ((scn = elf_getscn(t->elf, i)) == NULL || !gelf_getshdr(scn, &sh)) {
            snprintf(err, errsz, "corrupt ELF: cannot read section header %zu: %s", i, elf_errmsg(-1));
            return err;
        }
        if (sh.sh_type != SHT_NOBITS && sh.sh_size &&
            (sh.sh_offset > flen || sh.sh_size > flen - sh.sh_offset)) {
            snprintf(err, errsz, "truncated or corrupt ELF: section %zu covers bytes %#llx-%#llx, "
                     "past the end of the file (%llu bytes)", i, (unsigned long long)sh.sh_offset,
                     (unsigned long long)sh.sh_offset + (unsigned long long)sh.sh_size,
                     (unsigned long long)flen);
            return err;
        }
    }
    return NULL;
}

/* Program headers and the dynamic segment (read through PT_DYNAMIC, so
 * that it works without section headers too). */
static void read_program_headers(struct inspect_target *t)
{
    size_t phnum = 0;
    if (elf_getphdrnum(t->elf, &phnum) != 0)
        return;
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(t->elf, (int)i, &ph))
            continue;
        if (ph.p_type == PT_INTERP && !t->has_interp) {
            t->has_interp = true;
            size_t flen = 0;
            char *img = elf_rawfile(t->elf, &flen);
            if (img && ph.p_offset < flen && ph.p_filesz <= flen - ph.p_offset)
                t->interp = xstrndup_bytes(img + ph.p_offset, ph.p_filesz);
        }
        if (ph.p_type != PT_DYNAMIC || t->has_dynamic)
            continue;
        t->has_dynamic = true;
        Elf_Data *data = ph.p_filesz ? elf_getdata_rawchunk(t->elf, (int64_t)ph.p_offset,
                                                            ph.p_filesz, ELF_T_DYN) : NULL;
        size_t entsz = gelf_fsize(t->elf, ELF_T_DYN, 1, EV_CURRENT);
        size_t n = data && entsz ? data->d_size / entsz : 0;
        for (size_t k = 0; k < n; k++) {
            GElf_Dyn dyn;
            if (!gelf_getdyn(data, (int)k, &dyn) || dyn.d_tag == DT_NULL)
                break;
            if (dyn.d_tag == DT_FLAGS_1 && (dyn.d_un.d_val & DF_1_PIE))
                t->pie_flag = true;
            else if (dyn.d_tag == DT_NEEDED)
                t->has_needed = true;
            else if (dyn.d_tag == DT_SONAME)
                t->has_soname = true;
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
    else if (t->ehdr.e_type == ET_DYN &&
             (t->pie_flag || (t->has_dynamic && !t->has_needed && !t->has_soname && t->ehdr.e_entry)))
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
    else if (t->setuid)
        t->why = "set-user-ID: started by anyone but its owner it runs in secure mode (AT_SECURE): "
                 "ld.so ignores LD_PRELOAD entries that contain a slash and preloads only "
                 "set-user-ID libraries from its trusted directories, and libguard stays inert; "
                 "started by its owner, LD_PRELOAD works";
    else if (t->setgid)
        t->why = "set-group-ID: started by a user whose real group is not its group it runs in "
                 "secure mode (AT_SECURE): ld.so ignores LD_PRELOAD entries that contain a slash "
                 "and libguard stays inert";
    else if (t->file_caps)
        t->why = "file capabilities: started by a user who does not already hold them it runs in "
                 "secure mode (AT_SECURE): ld.so ignores LD_PRELOAD entries that contain a slash "
                 "and libguard stays inert";
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

static void target_free(struct inspect_target *t, int fd)
{
    inspect_nss_free(&t->nss);
    inspect_go_free(&t->go);
    free(t->interp);
    if (t->elf)
        elf_end(t->elf);
    if (fd >= 0)
        close(fd);
}

/* Open, validate and describe an ELF file (with nss: its NSS and thread
 * code too).  Returns the open fd (the caller ends with target_free), or
 * -1 with err set. */
static int open_target(struct inspect_target *t, const char *path, int cls, int machine, bool nss,
                       char *err, size_t errsz)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0 || fstat(fd, &t->st) != 0 || !S_ISREG(t->st.st_mode)) {
        snprintf(err, errsz, "%s", fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    t->elf = elf_begin(fd, ELF_C_READ, NULL);
    /* Read the whole file now: the string scan needs it anyway, and
     * section data read piecemeal before elf_rawfile() is leaked by
     * libelf 0.188. */
    size_t flen = 0;
    if (t->elf && elf_kind(t->elf) == ELF_K_ELF && !elf_rawfile(t->elf, &flen)) {
        snprintf(err, errsz, "cannot read: %s", elf_errmsg(-1));
        target_free(t, fd);
        return -1;
    }
    if (!t->elf || elf_kind(t->elf) != ELF_K_ELF || !gelf_getehdr(t->elf, &t->ehdr)) {
        snprintf(err, errsz, "not an ELF file%s", t->st.st_size < 64 ? " (or truncated)" : "");
        target_free(t, fd);
        return -1;
    }
    char verr[256];
    if (validate(t, verr, sizeof verr)) {
        snprintf(err, errsz, "%s", verr);
        target_free(t, fd);
        return -1;
    }
    classify(t, cls, machine);
    if (nss && (t->link == INSPECT_STATIC || t->link == INSPECT_STATIC_PIE ||
                t->link == INSPECT_DYNAMIC))
        inspect_nss_scan(t);
    if (nss)
        inspect_go_scan(t);
    return fd;
}

int inspect_target_open(struct inspect_target *t, const char *path, char *err, size_t errsz)
{
    int cls, machine;
    native_ident(&cls, &machine);
    return open_target(t, path, cls, machine, true, err, errsz);
}

void inspect_target_close(struct inspect_target *t, int fd)
{
    target_free(t, fd);
}

const char *inspect_preload_gap(const char *path)
{
    static int cls, machine;
    static bool ident;
    if (elf_version(EV_CURRENT) == EV_NONE)
        return NULL;
    if (!ident) {
        native_ident(&cls, &machine);
        ident = true;
    }
    struct inspect_target t;
    char err[300];
    int fd = open_target(&t, path, cls, machine, false, err, sizeof err);
    if (fd < 0)
        return NULL; /* gone, unreadable, or a script: nothing shows a gap */
    const char *gap = NULL;
    if (t.link == INSPECT_STATIC || t.link == INSPECT_STATIC_PIE)
        gap = t.link == INSPECT_STATIC
                  ? "a static executable: no dynamic loader runs in it, so LD_PRELOAD cannot "
                    "bring the shim in"
                  : "a static-pie executable: no dynamic loader runs in it, so LD_PRELOAD "
                    "cannot bring the shim in";
    else if (t.link != INSPECT_DYNAMIC)
        gap = NULL;
    else if (!t.native)
        gap = "of another ELF class or machine: ld.so does not preload libguard.so into it";
    else if (t.setuid)
        gap = "set-user-ID: started by anyone but its owner, it runs in secure mode and the "
              "shim stays inert";
    else if (t.setgid)
        gap = "set-group-ID: started by a user outside its group, it runs in secure mode and "
              "the shim stays inert";
    else if (t.file_caps)
        gap = "a program with file capabilities: started by a user who does not hold them, it "
              "runs in secure mode and the shim stays inert";
    target_free(&t, fd);
    return gap;
}

static void report_error(const char *path, const char *what, json_t *jerrors)
{
    fput_escaped(stderr, path);
    fprintf(stderr, ": cannot inspect: %s\n", what);
    if (jerrors) {
        json_t *e = json_object();
        json_object_set_new(e, "path", jstr(path));
        json_object_set_new(e, "error", jstr(what));
        json_array_append_new(jerrors, e);
    }
}

/* ---- scripts ------------------------------------------------------- */

/* A #! script: describe the interpreter that LD_PRELOAD would apply to. */
static void inspect_script(const char *path, int fd, const struct stat *st, int cls, int machine,
                           bool json, json_t *jbins)
{
    char *interp = NULL, *arg = NULL;
    char *run = inspect_script_runs(fd, &interp, &arg); /* what actually runs */
    struct inspect_target t;
    char err[300] = "";
    int tfd = run ? open_target(&t, run, cls, machine, true, err, sizeof err) : -1;
    const char *itype = tfd >= 0 ? link_name(t.link) : NULL;
    char *why;
    if (!*interp)
        why = xstrdup("a script without an interpreter on its #! line");
    else if (!run)
        why = xasprintf("a script run through %s: its program was not found on this PATH", interp);
    else if (tfd < 0 && inspect_is_script(run))
        why = xasprintf("a script whose interpreter %s is itself a script: inspect that", run);
    else if (tfd < 0)
        why = xasprintf("a script: its interpreter %s cannot be inspected: %s", run, err);
    else
        why = xasprintf("a script: LD_PRELOAD applies to its interpreter %s (%s): %s%s", run, itype,
                        t.why, st->st_mode & (S_ISUID | S_ISGID)
                                   ? "; Linux ignores set-user-ID and set-group-ID bits on scripts" : "");
    if (json) {
        json_t *b = json_object();
        json_object_set_new(b, "path", jstr(path));
        json_object_set_new(b, "type", json_string("script"));
        json_object_set_new(b, "interpreter", jstr(*interp ? interp : NULL));
        json_object_set_new(b, "interpreter_arg", jstr(arg));
        json_object_set_new(b, "interpreter_resolved", jstr(run));
        json_object_set_new(b, "interpreter_type", itype ? json_string(itype) : json_null());
        json_object_set_new(b, "preload_works", tfd >= 0 ? json_boolean(t.preload_works) : json_null());
        json_object_set_new(b, "reason", jstr(why));
        const char *mode_why = NULL; /* the interpreter's, as `--mode` answers */
        json_object_set_new(b, "mode", tfd >= 0 ? json_string(inspect_mode_of(&t, &mode_why)) : json_null());
        json_object_set_new(b, "go", json_null());
        json_array_append_new(jbins, b);
    } else {
        fput_escaped(stdout, path);
        fputs(": ", stdout);
        fput_escaped(stdout, why);
        fputc('\n', stdout);
    }
    free(why);
    free(run);
    free(interp);
    free(arg);
    if (tfd >= 0)
        target_free(&t, tfd);
}

/* ---- one binary ---------------------------------------------------- */

static json_t *binary_json(const struct inspect_target *t, size_t nfindings)
{
    json_t *b = json_object();
    json_object_set_new(b, "path", jstr(t->path));
    json_object_set_new(b, "type", json_string(link_name(t->link)));
    json_object_set_new(b, "static", json_boolean(t->link == INSPECT_STATIC || t->link == INSPECT_STATIC_PIE));
    json_object_set_new(b, "pie", json_boolean(t->pie_flag));
    json_object_set_new(b, "interpreter", jstr(t->interp));
    json_object_set_new(b, "class", json_integer(t->ehdr.e_ident[EI_CLASS] == ELFCLASS64 ? 64 : 32));
    const char *mn = machine_name(t->ehdr.e_machine);
    char mbuf[24];
    snprintf(mbuf, sizeof mbuf, "em-%u", t->ehdr.e_machine);
    json_object_set_new(b, "machine", json_string(mn ? mn : mbuf));
    json_object_set_new(b, "setuid", json_boolean(t->setuid));
    json_object_set_new(b, "setgid", json_boolean(t->setgid));
    json_object_set_new(b, "file_capabilities", json_boolean(t->file_caps));
    json_object_set_new(b, "secure_mode", json_boolean(t->setuid || t->setgid || t->file_caps));
    json_object_set_new(b, "preload_works", json_boolean(t->preload_works));
    json_object_set_new(b, "reason", json_string(t->why));
    json_object_set_new(b, "nss", t->nss.scanned ? inspect_nss_json(&t->nss) : json_null());
    json_object_set_new(b, "go", t->go.is_go ? inspect_go_json(t) : json_null());
    const char *mode_why = NULL;
    json_object_set_new(b, "mode", json_string(inspect_mode_of(t, &mode_why)));
    json_object_set_new(b, "mode_reason", jstr(mode_why));
    json_object_set_new(b, "findings", json_integer((json_int_t)nfindings));
    return b;
}

static void finding_json(const struct inspect_finding *f, const char *path, json_t *jfindings)
{
    json_t *o = json_object();
    const char *k = guard_finding_kind_name(f->kind);
    json_object_set_new(o, "kind", json_string(k ? k : "unknown"));
    json_object_set_new(o, "pid", json_null());
    json_object_set_new(o, "tid", json_null());
    json_object_set_new(o, "summary", jstr(f->summary));
    json_object_set_new(o, "count", json_integer(1));
    json_object_set_new(o, "stacks", json_object());
    json_object_set_new(o, "binary", jstr(path));
    json_object_set_new(o, "symbols", inspect_strs_json(&f->symbols));
    json_object_set_new(o, "confidence", f->confidence ? json_string(f->confidence) : json_null());
    json_object_set_new(o, "evidence", inspect_strs_json(&f->evidence));
    json_object_set_new(o, "detail", jstr(f->detail));
    json_array_append_new(jfindings, o);
}

/* At most `max` items (0: all). */
static void print_list(const char *label, const struct inspect_strs *s, size_t max)
{
    if (!s->n)
        return;
    printf("  %s: ", label);
    for (size_t i = 0; i < s->n && (max == 0 || i < max); i++) {
        if (i)
            fputs("; ", stdout);
        fput_escaped(stdout, s->v[i]);
    }
    if (max && s->n > max)
        printf("; ... (%zu more: --verbose or --format=json)", s->n - max);
    fputc('\n', stdout);
}

static void binary_text(const struct inspect_target *t, bool verbose)
{
    fput_escaped(stdout, t->path);
    const char *mn = machine_name(t->ehdr.e_machine);
    printf(": %s%s, ELF%d ", link_name(t->link),
           t->pie_flag && t->link == INSPECT_DYNAMIC ? " (PIE)" : "",
           t->ehdr.e_ident[EI_CLASS] == ELFCLASS64 ? 64 : 32);
    if (mn)
        fputs(mn, stdout);
    else
        printf("machine %u", t->ehdr.e_machine);
    if (t->interp) {
        fputs(", interpreter ", stdout);
        fput_escaped(stdout, t->interp);
    }
    if (t->setuid)
        fputs(", setuid", stdout);
    if (t->setgid)
        fputs(", setgid", stdout);
    if (t->file_caps)
        fputs(", file capabilities", stdout);
    if (t->nss.scanned && t->nss.stripped && t->link != INSPECT_DYNAMIC)
        fputs(", stripped", stdout);
    printf(": %s\n", t->why);
    const struct inspect_nss *n = &t->nss;
    bool is_static = t->link == INSPECT_STATIC || t->link == INSPECT_STATIC_PIE;
    if (n->scanned && (is_static || verbose)) {
        fputs("  NSS lookups: ", stdout);
        if (n->entry.n)
            printf("%zu (from %s)", n->entry.n, n->entry_from ? n->entry_from : "?");
        else
            fputs("none", stdout);
        printf("; glibc NSS module loader: %s; threads: %s", n->machinery ? "yes" : "no",
               n->threads == INSPECT_THREADS_YES        ? "yes"
               : n->threads == INSPECT_THREADS_POSSIBLE ? "possible (raw clone only)"
                                                        : "no");
        if (n->threads != INSPECT_THREADS_NO)
            printf(" (from %s)", n->threads_from ? n->threads_from : "?");
        fputc('\n', stdout);
    }
    if (n->scanned && inspect_nss_note(n))
        printf("  note: %s\n", inspect_nss_note(n));
    if (t->go.is_go)
        inspect_go_text(t, verbose);
    if (verbose && n->scanned) {
        print_list("NSS entry points", &n->entry, 0);
        print_list("thread entry points", &n->thread, 0);
        print_list("clone entry points", &n->clone, 0);
        print_list("evidence", &n->evidence, 0);
    }
}

static bool inspect_one(const char *path, int cls, int machine, const struct inspect_options *o,
                        json_t *jbins, json_t *jfindings, json_t *jerrors, size_t *nfindings)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        report_error(path, fd < 0 ? strerror(errno) : "not a regular file", jerrors);
        if (fd >= 0)
            close(fd);
        return false;
    }
    char magic[2] = {0, 0};
    if (pread(fd, magic, 2, 0) == 2 && magic[0] == '#' && magic[1] == '!') {
        inspect_script(path, fd, &st, cls, machine, o->json, jbins);
        close(fd);
        return true;
    }
    close(fd);

    struct inspect_target t;
    char err[300];
    fd = open_target(&t, path, cls, machine, true, err, sizeof err);
    if (fd < 0) {
        report_error(path, err, jerrors);
        return false;
    }
    struct inspect_result res = {NULL, 0, 0};
    for (size_t i = 0; checks[i].fn; i++)
        checks[i].fn(&t, &res);

    if (o->json) {
        json_array_append_new(jbins, binary_json(&t, res.n));
        for (size_t i = 0; i < res.n; i++)
            finding_json(&res.v[i], path, jfindings);
    } else {
        binary_text(&t, o->verbose);
        for (size_t i = 0; i < res.n; i++) {
            const struct inspect_finding *f = &res.v[i];
            const char *k = guard_finding_kind_name(f->kind);
            printf("ERROR: libguard: %s in ", k ? k : "unknown");
            fput_escaped(stdout, path);
            if (f->confidence)
                printf(" (confidence: %s)", f->confidence);
            fputs("\n  ", stdout);
            fput_escaped(stdout, f->summary);
            fputc('\n', stdout);
            print_list("symbols", &f->symbols, o->verbose ? 0 : 12);
            print_list("evidence", &f->evidence, o->verbose ? 0 : 6);
            if (f->detail) {
                char *d = xstrdup(f->detail), *save = NULL;
                for (char *l = strtok_r(d, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                    fputs("  ", stdout);
                    fput_escaped(stdout, l);
                    fputc('\n', stdout);
                }
                free(d);
            }
        }
    }
    *nfindings += res.n;
    for (size_t i = 0; i < res.n; i++) {
        free(res.v[i].summary);
        free(res.v[i].detail);
        inspect_strs_free(&res.v[i].symbols);
        inspect_strs_free(&res.v[i].evidence);
    }
    free(res.v);
    target_free(&t, fd);
    return true;
}

int inspect_run(char *const *paths, size_t n, const struct inspect_options *o)
{
    if (elf_version(EV_CURRENT) == EV_NONE) {
        fputs(ANALYZER_NAME ": libelf is unusable\n", stderr);
        return 2;
    }
    int cls, machine;
    native_ident(&cls, &machine);
    json_t *jbins = o->json ? json_array() : NULL;
    json_t *jfindings = o->json ? json_array() : NULL;
    json_t *jerrors = o->json ? json_array() : NULL;
    json_t *jhost = NULL;
    size_t nfindings = 0, nok = 0;
    bool input_error = false;
    if (o->host) {
        int hrc = o->json ? inspect_host_json(&jhost, o) : inspect_host_text(stdout, o);
        if (hrc != 0)
            input_error = true;
    }
    for (size_t i = 0; i < n; i++) {
        if (inspect_one(paths[i], cls, machine, o, jbins, jfindings, jerrors, &nfindings))
            nok++;
        else
            input_error = true;
    }
    bool write_ok;
    if (o->json) {
        json_t *root = json_object();
        if (o->host)
            json_object_set_new(root, "host", jhost ? jhost : json_null());
        json_object_set_new(root, "findings", jfindings);
        json_object_set_new(root, "binaries", jbins);
        json_object_set_new(root, "errors", jerrors);
        json_t *sum = json_object();
        json_object_set_new(sum, "findings", json_integer((json_int_t)nfindings));
        json_object_set_new(sum, "binaries", json_integer((json_int_t)nok));
        json_object_set_new(sum, "errors", json_integer((json_int_t)(n - nok)));
        json_object_set_new(root, "summary", sum);
        write_ok = json_dumpf(root, stdout, JSON_INDENT(2)) == 0;
        json_decref(root);
        fputc('\n', stdout);
    } else {
        if (n == 0)
            ; /* --host alone: its report is the output */
        else if (nfindings)
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
