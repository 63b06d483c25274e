/*
 * vdso.c — find the vDSO's time functions and measure their stack use
 * (vdso.h).  The image is read with libelf from a private copy
 * (elf_memory), never in place; every offset taken from it is
 * bounds-checked, so a dumped image from the field is safe to read too.
 */
#define _GNU_SOURCE
#include "vdso.h"

#include <elf.h>
#include <link.h> /* ElfW */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <gelf.h>
#include <libelf.h>

#include "stackdepth.h"

/* The time functions, by their vDSO name and the weak alias next to it
 * (x86-64 and i386 use __vdso_*, aarch64/riscv __kernel_*, ppc64 and
 * s390 __kernel_* too). */
static const char *const time_names[][2] = {
    {"__vdso_clock_gettime", "clock_gettime"},
    {"__vdso_gettimeofday", "gettimeofday"},
    {"__vdso_time", "time"},
    {"__vdso_clock_getres", "clock_getres"},
    {"__vdso_clock_gettime64", NULL},
    {"__kernel_clock_gettime", NULL},
    {"__kernel_gettimeofday", NULL},
    {"__kernel_clock_getres", NULL},
    /* Not a time function, but called the same way (glibc 2.41, Go 1.24)
     * and on the same stacks: measured too, kept out of the time maxima. */
    {"__vdso_getrandom", "getrandom"},
    {"__kernel_getrandom", NULL},
};
#define NTIME (sizeof time_names / sizeof time_names[0])

struct img {
    Elf *elf;
    unsigned char *buf;
    size_t size;
    struct sd_code code[4];
    size_t ncode;
};

static void set_error(struct vdso_measure *m, const char *fmt, const char *arg)
{
    snprintf(m->error, sizeof m->error, fmt, arg ? arg : "");
}

/* Name of version index `ndx` from SHT_GNU_verdef, "" when not found. */
static void version_name(Elf *e, Elf_Scn *verdef, size_t strndx, unsigned ndx, char *out, size_t outsz)
{
    out[0] = '\0';
    if (!verdef || ndx <= 1) /* 0 local, 1 global/base */
        return;
    Elf_Data *d = elf_getdata(verdef, NULL);
    if (!d)
        return;
    int off = 0;
    for (unsigned n = 0; n < 256 && off >= 0 && (size_t)off < d->d_size; n++) {
        GElf_Verdef vd;
        if (!gelf_getverdef(d, off, &vd))
            return;
        if (vd.vd_ndx == ndx) {
            GElf_Verdaux va;
            if (vd.vd_aux > d->d_size - (size_t)off || !gelf_getverdaux(d, off + (int)vd.vd_aux, &va))
                return;
            const char *s = elf_strptr(e, strndx, va.vda_name);
            if (s)
                snprintf(out, outsz, "%s", s);
            return;
        }
        if (vd.vd_next == 0 || vd.vd_next > d->d_size - (size_t)off)
            return;
        off += (int)vd.vd_next;
    }
}

/* Executable PT_LOAD ranges of the image, as code for the analysis. */
static void find_code(struct img *im)
{
    size_t phnum = 0;
    if (elf_getphdrnum(im->elf, &phnum) != 0)
        return;
    for (size_t i = 0; i < phnum && im->ncode < 4; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(im->elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
            continue;
        if (ph.p_offset >= im->size)
            continue;
        size_t n = ph.p_filesz < im->size - ph.p_offset ? ph.p_filesz : im->size - ph.p_offset;
        im->code[im->ncode].bytes = im->buf + ph.p_offset;
        im->code[im->ncode].vaddr = ph.p_vaddr;
        im->code[im->ncode].size = n;
        im->ncode++;
    }
}

static void find_build_id(struct img *im, struct vdso_measure *m)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(im->elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        if (!d)
            continue;
        size_t off = 0, noff, doff;
        GElf_Nhdr nh;
        while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                memcmp((char *)d->d_buf + noff, "GNU", 4) == 0 && nh.n_descsz <= 20) {
                const unsigned char *p = (const unsigned char *)d->d_buf + doff;
                for (size_t i = 0; i < nh.n_descsz; i++)
                    snprintf(m->build_id + 2 * i, 3, "%02x", p[i]);
                return;
            }
        }
    }
}

/* The time functions in .dynsym, with their version and alias. */
static void find_funcs(struct img *im, struct vdso_measure *m)
{
    Elf_Scn *dynsym = NULL, *versym = NULL, *verdef = NULL, *scn = NULL;
    GElf_Shdr dsh = {0};
    size_t verdef_str = 0;
    while ((scn = elf_nextscn(im->elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            continue;
        if (sh.sh_type == SHT_DYNSYM && !dynsym) {
            dynsym = scn;
            dsh = sh;
        } else if (sh.sh_type == SHT_GNU_versym)
            versym = scn;
        else if (sh.sh_type == SHT_GNU_verdef) {
            verdef = scn;
            verdef_str = sh.sh_link;
        }
    }
    if (!dynsym || dsh.sh_entsize == 0)
        return;
    Elf_Data *d = elf_getdata(dynsym, NULL);
    Elf_Data *vd = versym ? elf_getdata(versym, NULL) : NULL;
    if (!d)
        return;
    size_t nsym = d->d_size / dsh.sh_entsize;
    for (size_t t = 0; t < NTIME && m->nfuncs < VDSO_MAX_FUNCS; t++) {
        for (size_t i = 0; i < nsym; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
                sym.st_shndx == SHN_UNDEF)
                continue;
            const char *name = elf_strptr(im->elf, dsh.sh_link, sym.st_name);
            if (!name || strcmp(name, time_names[t][0]) != 0)
                continue;
            struct vdso_func *f = &m->funcs[m->nfuncs++];
            memset(f, 0, sizeof *f);
            snprintf(f->name, sizeof f->name, "%s", name);
            f->addr = sym.st_value;
            f->size = sym.st_size;
            GElf_Versym vs;
            if (vd && gelf_getversym(vd, (int)i, &vs))
                version_name(im->elf, verdef, verdef_str, vs & 0x7fff, f->version, sizeof f->version);
            /* The alias: another name at the same address. */
            for (size_t j = 0; j < nsym && time_names[t][1]; j++) {
                GElf_Sym a;
                const char *an;
                if (j != i && gelf_getsym(d, (int)j, &a) && a.st_value == sym.st_value &&
                    (an = elf_strptr(im->elf, dsh.sh_link, a.st_name)) != NULL &&
                    strcmp(an, time_names[t][1]) == 0)
                    snprintf(f->alias, sizeof f->alias, "%s", an);
            }
            break;
        }
    }
}

static void measure_funcs(struct img *im, struct vdso_measure *m)
{
    bool x86_64 = m->machine == EM_X86_64 && m->elf64;
    for (size_t i = 0; i < m->nfuncs; i++) {
        struct vdso_func *f = &m->funcs[i];
        if (!x86_64) {
            snprintf(f->note, sizeof f->note, "only x86-64 code is disassembled");
            continue;
        }
        if (im->ncode == 0) {
            snprintf(f->note, sizeof f->note, "no executable segment in the image");
            continue;
        }
        struct sd_result a, b;
        if (sd_analyze(im->code, im->ncode, f->addr, false, &a) != 0 ||
            sd_analyze(im->code, im->ncode, f->addr, true, &b) != 0) {
            snprintf(f->note, sizeof f->note, "%s", a.note[0] ? a.note : b.note);
            continue;
        }
        f->measured = true;
        f->complete = a.complete && b.complete;
        f->has_probe = a.has_probe;
        f->realigns = a.realigns;
        f->calls = a.calls;
        f->frame_bytes = a.frame;
        f->probe_bytes = a.probe;
        /* + 8: the return address, just below the caller's SP. */
        f->deepest_bytes = a.deepest + 8;
        f->deepest_bytes_misaligned = b.deepest + 8;
        if (!f->complete)
            snprintf(f->note, sizeof f->note, "%.90s (depth is a lower bound)", a.note[0] ? a.note : b.note);
        if (strstr(f->name, "getrandom"))
            continue;
        m->any_probe |= f->has_probe;
        if (f->deepest_bytes > m->max_deepest_bytes)
            m->max_deepest_bytes = f->deepest_bytes;
        if (f->deepest_bytes_misaligned > m->max_deepest_bytes_misaligned)
            m->max_deepest_bytes_misaligned = f->deepest_bytes_misaligned;
    }
}

int vdso_measure_image(const void *image, size_t size, struct vdso_measure *m)
{
    uint64_t base = m->base;
    size_t map_size = m->map_size;
    bool present = m->present;
    memset(m, 0, sizeof *m);
    m->base = base;
    m->map_size = map_size;
    m->present = present;
    m->image_size = size;
    snprintf(m->disassembler, sizeof m->disassembler, "%s", sd_disassembler_name());
    if (elf_version(EV_CURRENT) == EV_NONE) {
        set_error(m, "libelf is unusable%s", NULL);
        return -1;
    }
    struct img im;
    memset(&im, 0, sizeof im);
    im.size = size;
    im.buf = malloc(size ? size : 1);
    if (!im.buf) {
        set_error(m, "out of memory%s", NULL);
        return -1;
    }
    memcpy(im.buf, image, size);
    im.elf = elf_memory((char *)im.buf, size);
    GElf_Ehdr eh;
    int rc = -1;
    if (!im.elf || elf_kind(im.elf) != ELF_K_ELF || !gelf_getehdr(im.elf, &eh)) {
        set_error(m, "not an ELF image: %s", elf_errmsg(-1));
        goto out;
    }
    m->machine = eh.e_machine;
    m->elf64 = eh.e_ident[EI_CLASS] == ELFCLASS64;
    if (eh.e_type != ET_DYN) {
        set_error(m, "not a shared object (a vDSO is ET_DYN)%s", NULL);
        goto out;
    }
    find_code(&im);
    find_build_id(&im, m);
    find_funcs(&im, m);
    measure_funcs(&im, m);
    if (m->nfuncs == 0) {
        set_error(m, "no time functions in the image's dynamic symbols%s", NULL);
        goto out;
    }
    rc = 0;
out:
    if (im.elf)
        elf_end(im.elf);
    free(im.buf);
    return rc;
}

/* The [vdso] line of /proc/self/maps: its length, 0 when not found. */
static size_t vdso_map_size(uintptr_t base)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return 0;
    char line[512];
    size_t len = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo == base && hi > lo) {
            len = hi - lo;
            break;
        }
    }
    fclose(f);
    return len;
}

int vdso_measure_self(struct vdso_measure *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->disassembler, sizeof m->disassembler, "%s", sd_disassembler_name());
    uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    if (!base) {
        set_error(m, "this process has no vDSO (AT_SYSINFO_EHDR is 0)%s", NULL);
        return -1;
    }
    long pg = sysconf(_SC_PAGESIZE);
    size_t page = pg > 0 ? (size_t)pg : 4096;
    size_t map = vdso_map_size(base);
    size_t limit = map ? map : page; /* what is certainly mapped */
    /* The ELF header and program headers sit at the start of the first
     * page; read them in place, bounded by the mapping. */
    const unsigned char *p = (const unsigned char *)base;
    if (limit < sizeof(ElfW(Ehdr)) || memcmp(p, ELFMAG, SELFMAG) != 0) {
        set_error(m, "the vDSO at AT_SYSINFO_EHDR has no ELF header%s", NULL);
        return -1;
    }
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)p;
    if (eh->e_phentsize != sizeof(ElfW(Phdr)) || eh->e_phoff > limit ||
        (size_t)eh->e_phnum * sizeof(ElfW(Phdr)) > limit - eh->e_phoff) {
        set_error(m, "the vDSO's program headers are not where its header says%s", NULL);
        return -1;
    }
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(p + eh->e_phoff);
    size_t size = 0;
    for (size_t i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset + ph[i].p_filesz > size)
            size = ph[i].p_offset + ph[i].p_filesz;
    /* The kernel maps the whole image, page-rounded: the section headers
     * (past the PT_LOAD extent on x86-64) are in it when they fit. */
    size_t mapped = map ? map : (size + page - 1) / page * page;
    size_t shend = (size_t)eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
    if (eh->e_shoff && shend <= mapped && shend > size)
        size = shend;
    if (size == 0 || size > mapped) {
        set_error(m, "the vDSO's size from its program headers does not fit its mapping%s", NULL);
        return -1;
    }
    m->present = true;
    m->base = base;
    m->map_size = map;
    int rc = vdso_measure_image(p, size, m);
    m->image_size = size;
    return rc;
}
