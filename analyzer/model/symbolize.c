/*
 * symbolize.c — recorded PCs to module, function, file:line (libdwfl).
 *
 * One Dwfl per distinct ELF file (path + recorded build-id), shared by all
 * logs: a library loaded by a hundred processes is opened, and its
 * debuginfo read, once.  Each file is reported at load bias 0, so its
 * module addresses are the file's own vaddrs; a PC is turned into that
 * address space by subtracting the recording process's load bias (for
 * ET_EXEC the bias is 0 by definition and PCs are used as they are).
 *
 * Why dwfl_report_elf(..., base 0, add_p_vaddr true): with add_p_vaddr,
 * libdwfl treats `base` as the load bias (start = base + first p_vaddr)
 * for ET_DYN, and ignores it for ET_EXEC, which is exactly dlpi_addr's
 * meaning.  With add_p_vaddr false, `base` would be the address of the
 * first segment instead, which is wrong for any object whose first PT_LOAD
 * has a non-zero p_vaddr.
 *
 * Results are cached per (file, address), so a stack shared by a thousand
 * findings costs one DWARF walk per frame.
 */
#define _GNU_SOURCE
#include "symbolize.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uthash.h>

#include "go_pcln.h"

/* One location an address maps to: an inlined call yields several. */
struct sym_loc {
    char *function;
    char *file;
    unsigned line;
    bool inlined;
};

struct sym_file {
    char *key;         /* "<build-id hex>:<path>" */
    char *path;        /* as recorded: what reports show as "module" */
    Dwfl *dwfl;
    Dwfl_Module *mod;  /* NULL: no usable ELF; frames stay unsymbolized */
    bool is_exec;      /* ET_EXEC: file addresses are absolute */
    struct go_pcln *go; /* Go's line table (common/go_pcln.c), read at the first
                          address that DWARF and the symbol table cannot name */
    bool go_tried;
    UT_hash_handle hh;
};

struct cache_key {
    const struct sym_file *file;
    uint64_t addr;
};

struct cache_entry {
    struct cache_key key;
    struct sym_loc *locs;
    size_t n;
    UT_hash_handle hh;
};

struct symbolizer {
    struct notes *notes;
    bool verbose;
    struct sym_file *files;
    struct cache_entry *cache;
};

/* NULL: libdwfl's default ":.debug:/usr/lib/debug", which covers the
 * Debian dbgsym layout (/usr/lib/debug/.build-id/xx/yyyy.debug) and
 * .gnu_debuglink files next to the binary. */
static char *debuginfo_path = NULL;

static const Dwfl_Callbacks offline_callbacks = {
    /* Only used for modules reported without a file (the build-id
     * fallback below): find the ELF by its build-id. */
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

struct symbolizer *sym_new(struct notes *notes, bool verbose)
{
    struct symbolizer *sym = xcalloc(1, sizeof *sym);
    sym->notes = notes;
    sym->verbose = verbose;
    return sym;
}

static void locs_free(struct sym_loc *locs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(locs[i].function);
        free(locs[i].file);
    }
    free(locs);
}

void sym_free(struct symbolizer *sym)
{
    if (!sym)
        return;
    struct cache_entry *ce, *ctmp;
    HASH_ITER(hh, sym->cache, ce, ctmp) {
        HASH_DEL(sym->cache, ce);
        locs_free(ce->locs, ce->n);
        free(ce);
    }
    struct sym_file *f, *ftmp;
    HASH_ITER(hh, sym->files, f, ftmp) {
        HASH_DEL(sym->files, f);
        if (f->dwfl)
            dwfl_end(f->dwfl);
        go_pcln_free(f->go);
        free(f->key);
        free(f->path);
        free(f);
    }
    free(sym);
}

/* ---- opening module files ------------------------------------------ */

static bool is_regular_file(const char *path)
{
    struct stat st;
    /* Paths come from an untrusted log: never hand a FIFO or a device to
     * libelf (open would block, or read something that is not a file). */
    /* "[main]", "[unknown]": names made up here, not files. */
    return path[0] && path[0] != '[' && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool build_id_matches(Dwfl_Module *mod, const struct lg_module *m)
{
    if (m->build_id_len == 0)
        return true; /* nothing recorded: nothing to compare */
    const unsigned char *bits = NULL;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(mod, &bits, &vaddr);
    return n > 0 && (size_t)n == m->build_id_len && memcmp(bits, m->build_id, (size_t)n) == 0;
}

static void file_set_type(struct sym_file *f)
{
    GElf_Addr bias;
    Elf *elf = dwfl_module_getelf(f->mod, &bias);
    GElf_Ehdr eh;
    if (elf && gelf_getehdr(elf, &eh))
        f->is_exec = eh.e_type == ET_EXEC;
}

/* The file at path, reported at load bias 0, if it is the one that ran. */
static Dwfl *open_by_path(const char *path, const struct lg_module *m, Dwfl_Module **modp,
                          bool *mismatch)
{
    *modp = NULL;
    *mismatch = false;
    if (!is_regular_file(path))
        return NULL;
    Dwfl *dwfl = dwfl_begin(&offline_callbacks);
    if (!dwfl)
        return NULL;
    dwfl_report_begin(dwfl);
    Dwfl_Module *mod = dwfl_report_elf(dwfl, path, path, -1, 0, true);
    dwfl_report_end(dwfl, NULL, NULL);
    if (mod && !build_id_matches(mod, m)) {
        *mismatch = true;
        mod = NULL;
    }
    if (!mod) {
        dwfl_end(dwfl);
        return NULL;
    }
    *modp = mod;
    return dwfl;
}

/* The file that ran, found by its recorded build-id (a .build-id/xx/yyyy
 * link in a debuginfo directory), when the path no longer holds it.  The
 * module is reported over the file-vaddr range its segments covered. */
static Dwfl *open_by_build_id(const char *path, const struct lg_module *m, Dwfl_Module **modp)
{
    *modp = NULL;
    if (m->build_id_len == 0 || m->nsegs == 0)
        return NULL;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < m->nsegs; i++) {
        uint64_t a = m->segs[i].vaddr, b = a + m->segs[i].memsz;
        if (b < a)
            return NULL; /* nonsense segment */
        if (a < lo)
            lo = a;
        if (b > hi)
            hi = b;
    }
    lo &= ~(uint64_t)0xfff;
    if (hi <= lo)
        return NULL;
    Dwfl *dwfl = dwfl_begin(&offline_callbacks);
    if (!dwfl)
        return NULL;
    dwfl_report_begin(dwfl);
    Dwfl_Module *mod = dwfl_report_module(dwfl, path, lo, hi);
    if (mod && dwfl_module_report_build_id(mod, m->build_id, m->build_id_len, 0) != 0)
        mod = NULL;
    dwfl_report_end(dwfl, NULL, NULL);
    GElf_Addr bias;
    if (!mod || !dwfl_module_getelf(mod, &bias) || !build_id_matches(mod, m)) {
        dwfl_end(dwfl);
        return NULL;
    }
    *modp = mod;
    return dwfl;
}

static struct sym_file *file_get(struct symbolizer *sym, const struct lg_log *log,
                                 const struct lg_module *m, const char *path)
{
    char *hex = hex_string(m->build_id, m->build_id_len);
    char *key = xasprintf("%s:%s", hex, path);
    struct sym_file *f = NULL;
    HASH_FIND_STR(sym->files, key, f);
    if (f) {
        free(hex);
        free(key);
        return f;
    }
    f = xcalloc(1, sizeof *f);
    f->key = key;
    f->path = xstrdup(path);
    HASH_ADD_KEYPTR(hh, sym->files, f->key, strlen(f->key), f);

    bool mismatch = false;
    f->dwfl = open_by_path(path, m, &f->mod, &mismatch);
    if (!f->dwfl)
        f->dwfl = open_by_build_id(path, m, &f->mod);
    if (f->mod)
        file_set_type(f);

    /* Once per file, in the report: why its frames have no names. */
    if (mismatch)
        notes_add(sym->notes, NOTE_INFO, log->path, log->hdr.pid,
                  "build-id mismatch for %s (recorded %s): %s", path, hex,
                  f->mod ? "symbolized from the file with the recorded build-id"
                         : "its frames are left unsymbolized");
    else if (!f->mod)
        notes_add(sym->notes, NOTE_INFO, log->path, log->hdr.pid,
                  "cannot open %s%s%s: its frames are left unsymbolized", path,
                  m->build_id_len ? " or find it by build-id " : "", hex);
    if (sym->verbose && f->mod) {
        const char *mainfile = NULL, *debugfile = NULL;
        Dwarf_Addr dbias;
        dwfl_module_getdwarf(f->mod, &dbias);
        dwfl_module_info(f->mod, NULL, NULL, NULL, NULL, NULL, &mainfile, &debugfile);
        fprintf(stderr, ANALYZER_NAME ": symbols for %s from %s, debuginfo %s\n", path,
                mainfile ? mainfile : path, debugfile ? debugfile : "(none)");
    }
    free(hex);
    return f;
}

/* ---- one address --------------------------------------------------- */

static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute a;
    /* _integrate: follow DW_AT_abstract_origin/specification, where an
     * inlined or out-of-line instance keeps its name. */
    const char *n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
    if (!n)
        n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
    if (!n)
        n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
    return n;
}

/* Where an inlined call was made: the location of the caller's frame. */
static void call_site(Dwarf_Die *cudie, Dwarf_Die *die, const char **file, unsigned *line)
{
    Dwarf_Attribute a;
    Dwarf_Word idx = 0, ln = 0;
    *file = NULL;
    *line = 0;
    if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &a), &idx) == 0) {
        Dwarf_Files *files = NULL;
        size_t nfiles = 0;
        if (dwarf_getsrcfiles(cudie, &files, &nfiles) == 0 && idx < nfiles)
            *file = dwarf_filesrc(files, idx, NULL, NULL);
    }
    if (dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &a), &ln) == 0 && ln <= UINT_MAX)
        *line = (unsigned)ln;
}

static void push_loc(struct sym_loc **locs, size_t *n, size_t *cap, const char *function,
                     const char *file, unsigned line, bool inlined, const char *comp_dir)
{
    VEC_GROW(*locs, *n, *cap);
    struct sym_loc *l = &(*locs)[(*n)++];
    l->function = function ? xstrdup(function) : NULL;
    /* libdw says "???" for a file it has no name for */
    if (!file || strcmp(file, "???") == 0)
        l->file = NULL;
    else if (file[0] != '/' && comp_dir && comp_dir[0] == '/')
        /* DWARF 5 line tables name files relative to the compilation
         * directory; a report is more useful with the full path (what
         * an editor opens, what ASan prints). */
        l->file = xasprintf("%s/%s", comp_dir, file);
    else
        l->file = xstrdup(file);
    l->line = l->file ? line : 0;
    l->inlined = inlined;
}

/* The locations of a file address, innermost first: one per inlined call
 * (named from DWARF, located at the inner call site), then the function
 * itself (named by its ELF symbol, as dwfl_module_addrname gives it). */
static size_t lookup(Dwfl_Module *mod, uint64_t addr, struct sym_loc **out)
{
    struct sym_loc *locs = NULL;
    size_t n = 0, cap = 0;
    /* ELF symbol names may carry a symbol version ("__libc_start_main@@GLIBC_2.34"
     * in glibc's .symtab): not part of the function's name, and it would
     * split folding between libc builds. */
    const char *symname = dwfl_module_addrname(mod, addr);
    char *unversioned = NULL;
    const char *at = symname ? strchr(symname, '@') : NULL;
    if (at && at != symname) {
        unversioned = xstrndup_bytes(symname, (size_t)(at - symname));
        symname = unversioned;
    }

    const char *file = NULL;
    int iline = 0;
    Dwfl_Line *ln = dwfl_module_getsrc(mod, addr);
    if (ln)
        file = dwfl_lineinfo(ln, NULL, &iline, NULL, NULL, NULL);
    unsigned line = iline > 0 ? (unsigned)iline : 0;

    bool done = false;
    Dwarf_Addr bias = 0;
    Dwarf_Die *cudie = dwfl_module_addrdie(mod, addr, &bias);
    const char *comp_dir = ln ? dwfl_line_comp_dir(ln) : NULL;
    if (cudie) {
        Dwarf_Attribute a;
        const char *cd = dwarf_formstring(dwarf_attr(cudie, DW_AT_comp_dir, &a));
        if (cd)
            comp_dir = cd;
        Dwarf_Die *scopes = NULL;
        int ns = dwarf_getscopes(cudie, addr - bias, &scopes);
        for (int i = 0; i < ns && !done; i++) {
            int tag = dwarf_tag(&scopes[i]);
            if (tag == DW_TAG_inlined_subroutine) {
                push_loc(&locs, &n, &cap, die_name(&scopes[i]), file, line, true, comp_dir);
                call_site(cudie, &scopes[i], &file, &line);
            } else if (tag == DW_TAG_subprogram) {
                push_loc(&locs, &n, &cap, symname ? symname : die_name(&scopes[i]), file, line,
                         false, comp_dir);
                done = true;
            }
        }
        free(scopes);
    }
    if (!done)
        push_loc(&locs, &n, &cap, symname, file, line, false, comp_dir);
    free(unversioned);
    *out = locs;
    return n;
}

/* A Go source file (.go, or the runtime's assembly .s), NULL: not one.
 * In a Go program linked by an external linker (cgo), DWARF may place Go
 * code in a C compilation unit ("gcc_mmap.c:37" for runtime.park_m): only
 * a Go file from DWARF is believed there, else Go's own table decides. */
static bool go_source(const char *file)
{
    size_t n = file ? strlen(file) : 0;
    return (n > 3 && !strcmp(file + n - 3, ".go")) || (n > 2 && !strcmp(file + n - 2, ".s"));
}

/* A Go binary stripped with -s -w keeps no symbol table and no DWARF, but
 * its runtime's own line table: name the address from it (also when the
 * symbol table names it but no line is found).  Replaces ce's locations;
 * false when it is not in a Go function. */
static bool go_lookup(struct sym_file *f, uint64_t addr, struct cache_entry *ce)
{
    if (!f->go_tried) {
        GElf_Addr bias;
        f->go_tried = true;
        f->go = go_pcln_open(dwfl_module_getelf(f->mod, &bias));
    }
    struct go_loc gl;
    if (!f->go || !go_pcln_lookup(f->go, addr, &gl))
        return false;
    locs_free(ce->locs, ce->n);
    ce->locs = NULL;
    ce->n = 0;
    size_t cap = 0;
    push_loc(&ce->locs, &ce->n, &cap, gl.function, gl.file, gl.line, false, NULL);
    return true;
}

static const struct cache_entry *cached_lookup(struct symbolizer *sym, struct sym_file *f,
                                               uint64_t addr)
{
    struct cache_key key;
    memset(&key, 0, sizeof key); /* the padding is part of the hashed key */
    key.file = f;
    key.addr = addr;
    struct cache_entry *ce = NULL;
    HASH_FIND(hh, sym->cache, &key, sizeof key, ce);
    if (ce)
        return ce;
    ce = xcalloc(1, sizeof *ce);
    ce->key = key;
    ce->n = lookup(f->mod, addr, &ce->locs);
    if (ce->n == 0 || !ce->locs[0].function || !go_source(ce->locs[0].file))
        go_lookup(f, addr, ce);
    HASH_ADD(hh, sym->cache, key, sizeof ce->key, ce);
    return ce;
}

/* ---- stacks -------------------------------------------------------- */

static struct sym_frame *push_frame(struct sym_stack *out, size_t *cap, uint64_t pc,
                                    const char *module)
{
    VEC_GROW(out->frames, out->n, *cap);
    struct sym_frame *fr = &out->frames[out->n++];
    memset(fr, 0, sizeof *fr);
    fr->pc = pc;
    fr->module = module;
    return fr;
}

/* The frames of one address of module file f: one per location of ce (an
 * inlined call gives several), or one without a name. */
static void push_locations(struct sym_stack *out, size_t *cap, uint64_t pc, const struct sym_file *f,
                           uint64_t off, const struct cache_entry *ce)
{
    size_t nlocs = ce ? ce->n : 0;
    for (size_t i = 0; i < (nlocs ? nlocs : 1); i++) {
        struct sym_frame *fr = push_frame(out, cap, pc, f->path);
        fr->have_module = true;
        fr->module_offset = off;
        if (nlocs) {
            fr->function = ce->locs[i].function;
            fr->file = ce->locs[i].file;
            fr->line = ce->locs[i].line;
            fr->inlined = ce->locs[i].inlined;
        }
    }
}

static void symbolize_pc(struct symbolizer *sym, const struct lg_log *log, uint64_t pc,
                         uint32_t gen, struct sym_stack *out, size_t *cap)
{
    const struct lg_module *m = lg_find_module(log, pc, gen);
    if (!m) {
        push_frame(out, cap, pc, "[unknown]");
        return;
    }
    uint64_t off = pc - m->base;
    if (m->flags & GUARD_MODULE_VDSO) {
        /* The kernel's vDSO has no file on disk to read symbols from. */
        struct sym_frame *fr = push_frame(out, cap, pc, "[vdso]");
        fr->have_module = true;
        fr->module_offset = off;
        return;
    }
    const char *path = m->path;
    if (!path[0] && (m->flags & GUARD_MODULE_MAIN))
        path = log->exe && log->exe[0] ? log->exe : "[main]"; /* dl_iterate_phdr's "" */
    else if (!path[0])
        path = "[unknown]";
    struct sym_file *f = file_get(sym, log, m, path);
    const struct cache_entry *ce = NULL;
    if (f->mod)
        ce = cached_lookup(sym, f, f->is_exec ? pc : off);
    push_locations(out, cap, pc, f, off, ce);
}

/* Go's runtime functions that move a thread to another stack (the system
 * stack, for C code or the runtime's own work) without call frame
 * information for the move: past one of them the unwinder reads the other
 * stack's old contents (a frame of runtime.park_m that is not there). The
 * stack ends with the switch; Go's own traceback has the goroutine's side. */
static bool go_stack_switch(const char *function)
{
    static const char *const names[] = {"runtime.asmcgocall", "runtime.systemstack",
                                        "runtime.mcall"};
    if (!function)
        return false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]);
        if (!strncmp(function, names[i], n) && (!function[n] || !strcmp(function + n, ".abi0")))
            return true;
    }
    return false;
}

void sym_stack(struct symbolizer *sym, const struct lg_log *log, const struct lg_stack *st,
               struct sym_stack *out)
{
    out->frames = NULL;
    out->n = 0;
    if (!st)
        return;
    size_t cap = 0;
    for (size_t i = 0; i < st->nframes; i++) {
        symbolize_pc(sym, log, st->pcs[i], st->generation, out, &cap);
        if (out->n && go_stack_switch(out->frames[out->n - 1].function))
            break;
    }
}

void sym_stack_free(struct sym_stack *s)
{
    free(s->frames);
    s->frames = NULL;
    s->n = 0;
}

/* The file address of an offset from the module's first mapped byte: the
 * first PT_LOAD segment's page-aligned vaddr plus the offset (0 plus the
 * offset for a usual shared object or PIE; the absolute address for
 * ET_EXEC). */
static bool file_address(Dwfl_Module *mod, uint64_t off, uint64_t *addr)
{
    GElf_Addr bias;
    Elf *elf = dwfl_module_getelf(mod, &bias);
    size_t nph;
    if (!elf || elf_getphdrnum(elf, &nph) != 0)
        return false;
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
            *addr = (ph.p_vaddr & ~(uint64_t)0xfff) + off;
            return *addr >= off; /* no wrap */
        }
    }
    return false;
}

void sym_module_offset(struct symbolizer *sym, const char *path, uint64_t off,
                       struct sym_stack *out)
{
    static struct lg_log nolog = {.path = (char *)"-"};
    struct lg_module m;
    memset(&m, 0, sizeof m); /* no build-id recorded: the file on disk is taken as it is */
    size_t cap = 0;
    out->frames = NULL;
    out->n = 0;
    struct sym_file *f = file_get(sym, &nolog, &m, path);
    uint64_t addr = 0;
    const struct cache_entry *ce = NULL;
    if (f->mod && file_address(f->mod, off, &addr))
        ce = cached_lookup(sym, f, addr);
    push_locations(out, &cap, addr, f, off, ce);
}
