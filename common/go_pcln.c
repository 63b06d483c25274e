/*
 * go_pcln.c — Go's line table (.gopclntab) read from the binary (go_pcln.h):
 * the analyzer names Go frames with it, the supervisor tells Go code from C.
 *
 * The table, as the Go runtime lays it out (runtime/symtab.go):
 *   a header: magic (4 bytes), two zero pad bytes, the pc quantum (the
 *   minimum instruction size), the pointer size, then pointer-size words:
 *   the number of functions and of files, (1.18+) the text start that
 *   function entries are offsets from, and the offsets, from the header,
 *   of the function name table, the compilation-unit table, the file name
 *   table, the pc-value tables and the function table;
 *   the function table: per function its entry (1.18+: a 32-bit offset
 *   from the text start; 1.16: a pointer) and the offset of its _func
 *   record from the function table, then one more entry: the end of the
 *   last function;
 *   a _func record: entry, name offset, args, deferreturn, then the
 *   offsets of its pc-value tables for SP, file and line, the count of
 *   pcdata tables and its compilation unit's index into the CU table;
 *   a pc-value table: pairs of varints (value delta, zig-zag; pc delta in
 *   quanta) starting from value -1 at the function's entry, ended by a
 *   zero value delta after the first pair; a value holds for the pcs
 *   below the pc its pair advances to;
 *   a file: the pc-value "file" gives an index into the function's CU's
 *   slice of the CU table, whose 32-bit entry is an offset into the file
 *   name table (all ones: no file).
 * Only little-endian tables are read (the analyzer runs on x86-64).
 */
#define _GNU_SOURCE
#include "go_pcln.h"

#include <gelf.h>
#include <stdlib.h>
#include <string.h>

struct go_pcln {
    unsigned char *buf;
    size_t size;
    int layout;            /* 116, 118, 120 */
    unsigned ptrsize, quantum;
    uint64_t nfunc, text;
    uint64_t funcname, cu, filetab, pctab, ftab; /* offsets into buf */
};

static bool rd32(const struct go_pcln *p, uint64_t off, uint32_t *v)
{
    if (off > p->size || p->size - off < 4)
        return false;
    const unsigned char *b = p->buf + off;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
}

static bool rdword(const struct go_pcln *p, uint64_t off, uint64_t *v)
{
    uint32_t lo, hi = 0;
    if (!rd32(p, off, &lo) || (p->ptrsize == 8 && !rd32(p, off + 4, &hi)))
        return false;
    *v = (uint64_t)hi << 32 | lo;
    return true;
}

/* A NUL-terminated string at base + off inside the table, else NULL. */
static const char *cstr(const struct go_pcln *p, uint64_t base, uint64_t off)
{
    if (base > p->size || off >= p->size - base)
        return NULL;
    const char *s = (const char *)p->buf + base + off;
    return memchr(s, '\0', p->size - base - off) ? s : NULL;
}

/* Function i's entry and _func offset (from the function table). */
static bool ftab_entry(const struct go_pcln *p, uint64_t i, uint64_t *entry, uint64_t *funcoff)
{
    if (i > p->nfunc)
        return false;
    if (p->layout >= 118) {
        uint32_t e, f = 0;
        if (!rd32(p, p->ftab + 8 * i, &e) || (i < p->nfunc && !rd32(p, p->ftab + 8 * i + 4, &f)))
            return false;
        *entry = p->text + e;
        *funcoff = f;
        return true;
    }
    uint64_t w = 2 * (uint64_t)p->ptrsize;
    *funcoff = 0;
    return rdword(p, p->ftab + w * i, entry) &&
           (i == p->nfunc || rdword(p, p->ftab + w * i + p->ptrsize, funcoff));
}

static bool varint(const struct go_pcln *p, uint64_t *off, uint32_t *v)
{
    uint32_t r = 0;
    for (unsigned shift = 0; shift < 35; shift += 7) {
        if (*off >= p->size)
            return false;
        unsigned char b = p->buf[(*off)++];
        r |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return true;
        }
    }
    return false;
}

/* The value of pc-value table `tab` at target (entry: the function's). */
static bool pcvalue(const struct go_pcln *p, uint32_t tab, uint64_t entry, uint64_t target, int32_t *out)
{
    if (tab == 0 || p->pctab > p->size || tab >= p->size - p->pctab)
        return false;
    uint64_t off = p->pctab + tab, pc = entry;
    int32_t val = -1;
    for (bool first = true;; first = false) {
        uint32_t uv, pcd;
        if (!varint(p, &off, &uv) || (uv == 0 && !first))
            return false;
        val += (int32_t)((uv >> 1) ^ (uint32_t)-(int32_t)(uv & 1));
        if (!varint(p, &off, &pcd))
            return false;
        pc += (uint64_t)pcd * p->quantum;
        if (target < pc) {
            *out = val;
            return true;
        }
    }
}

/* The _func record of function i: its name and pc-value tables. */
struct func_rec {
    uint64_t entry, end;
    uint32_t nameoff, pcfile, pcln, cuoff;
};

static bool func_rec(const struct go_pcln *p, uint64_t i, struct func_rec *r)
{
    uint64_t funcoff, next_fo;
    if (i >= p->nfunc || !ftab_entry(p, i, &r->entry, &funcoff) ||
        !ftab_entry(p, i + 1, &r->end, &next_fo) || r->end < r->entry)
        return false;
    uint64_t f = p->ftab + funcoff + (p->layout >= 118 ? 4 : p->ptrsize);
    /* after the name: args, deferreturn, pcsp, pcfile, pcln, npcdata, cuOffset */
    return rd32(p, f, &r->nameoff) && rd32(p, f + 16, &r->pcfile) && rd32(p, f + 20, &r->pcln) &&
           rd32(p, f + 28, &r->cuoff);
}

static void rec_loc(const struct go_pcln *p, const struct func_rec *r, struct go_loc *out)
{
    memset(out, 0, sizeof *out);
    out->function = cstr(p, p->funcname, r->nameoff);
    out->entry = r->entry;
    out->end = r->end;
}

bool go_pcln_func(const struct go_pcln *p, size_t i, struct go_loc *out)
{
    struct func_rec r;
    if (!p || !func_rec(p, i, &r))
        return false;
    rec_loc(p, &r, out);
    return out->function != NULL;
}

bool go_pcln_find(const struct go_pcln *p, const char *name, struct go_loc *out)
{
    for (size_t i = 0; p && i < p->nfunc; i++)
        if (go_pcln_func(p, i, out) && strcmp(out->function, name) == 0)
            return true;
    return false;
}

bool go_pcln_lookup(const struct go_pcln *p, uint64_t vaddr, struct go_loc *out)
{
    if (!p || p->nfunc == 0)
        return false;
    /* The last function whose entry is <= vaddr (entries ascend). */
    uint64_t lo = 0, hi = p->nfunc, entry, fo;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (!ftab_entry(p, mid, &entry, &fo))
            return false;
        if (entry <= vaddr)
            lo = mid;
        else
            hi = mid;
    }
    struct func_rec r;
    if (!func_rec(p, lo, &r) || vaddr < r.entry || vaddr >= r.end)
        return false;
    rec_loc(p, &r, out);
    if (!out->function)
        return false;
    int32_t fileno, line;
    if (pcvalue(p, r.pcln, r.entry, vaddr, &line) && line > 0)
        out->line = (unsigned)line;
    uint32_t foff;
    if (pcvalue(p, r.pcfile, r.entry, vaddr, &fileno) && fileno >= 0 &&
        rd32(p, p->cu + 4 * ((uint64_t)r.cuoff + (uint64_t)fileno), &foff) && foff != UINT32_MAX)
        out->file = cstr(p, p->filetab, foff);
    if (!out->file)
        out->line = 0;
    return true;
}

const char *go_pcln_layout(const struct go_pcln *p)
{
    return p->layout == 120 ? "1.20" : p->layout == 118 ? "1.18" : "1.16";
}

size_t go_pcln_nfunc(const struct go_pcln *p)
{
    return (size_t)p->nfunc;
}

void go_pcln_free(struct go_pcln *p)
{
    if (!p)
        return;
    free(p->buf);
    free(p);
}

/* Check the header of a table copied into p->buf and fill in p. */
static bool parse_header(struct go_pcln *p, uint64_t text_section)
{
    uint32_t magic;
    if (!rd32(p, 0, &magic) || p->size < 16 || p->buf[4] || p->buf[5])
        return false;
    p->layout = magic == 0xfffffff1u ? 120 : magic == 0xfffffff0u ? 118 : magic == 0xfffffffau ? 116 : 0;
    p->quantum = p->buf[6];
    p->ptrsize = p->buf[7];
    if (!p->layout || (p->quantum != 1 && p->quantum != 2 && p->quantum != 4) ||
        (p->ptrsize != 4 && p->ptrsize != 8))
        return false;
    uint64_t w[8], nfiles;
    unsigned nw = p->layout >= 118 ? 8 : 7;
    for (unsigned i = 0; i < nw; i++)
        if (!rdword(p, 8 + (uint64_t)i * p->ptrsize, &w[i]))
            return false;
    p->nfunc = w[0];
    nfiles = w[1];
    unsigned k = 2;
    if (p->layout >= 118) {
        /* The text start may be an unrelocated 0 in a position-independent
         * binary: the .text section starts where Go's text does then. */
        p->text = w[2] ? w[2] : text_section;
        k = 3;
    }
    p->funcname = w[k];
    p->cu = w[k + 1];
    p->filetab = w[k + 2];
    p->pctab = w[k + 3];
    p->ftab = w[k + 4];
    uint64_t ftab_entsz = p->layout >= 118 ? 8 : 2 * (uint64_t)p->ptrsize;
    (void)nfiles;
    return p->nfunc > 0 && p->nfunc < p->size && p->funcname < p->size && p->cu < p->size &&
           p->filetab < p->size && p->pctab < p->size && p->ftab < p->size &&
           (p->size - p->ftab) / ftab_entsz > p->nfunc;
}

static Elf_Scn *section_named(Elf *elf, const char *name, GElf_Shdr *out)
{
    size_t shstrndx;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0)
        return NULL;
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        const char *n;
        if (gelf_getshdr(scn, out) && (n = elf_strptr(elf, shstrndx, out->sh_name)) != NULL &&
            strcmp(n, name) == 0)
            return scn;
    }
    return NULL;
}

/* The table at bytes, if its header is sound: checked in place, copied
 * only then (the caller's scan tries many places). */
static struct go_pcln *open_bytes(const void *bytes, size_t size, uint64_t text_section)
{
    struct go_pcln probe;
    memset(&probe, 0, sizeof probe);
    probe.buf = (unsigned char *)bytes;
    probe.size = size;
    if (!parse_header(&probe, text_section))
        return NULL;
    struct go_pcln *p = malloc(sizeof *p);
    unsigned char *copy = malloc(size ? size : 1);
    if (!p || !copy) {
        free(p);
        free(copy);
        return NULL;
    }
    *p = probe;
    p->buf = memcpy(copy, bytes, size);
    return p;
}

struct go_pcln *go_pcln_open(Elf *elf)
{
    GElf_Ehdr eh;
    GElf_Shdr sh, tsh;
    if (!elf || !gelf_getehdr(elf, &eh) || eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return NULL;
    uint64_t text = section_named(elf, ".text", &tsh) ? tsh.sh_addr : 0;
    Elf_Scn *scn = section_named(elf, ".gopclntab", &sh);
    Elf_Data *d;
    if (scn && sh.sh_type != SHT_NOBITS && (d = elf_getdata(scn, NULL)) != NULL && d->d_buf)
        return open_bytes(d->d_buf, d->d_size, text);
    /* Linked externally as a position-independent executable, the table
     * sits inside .data.rel.ro without a section of its own: look for
     * its header there. */
    scn = section_named(elf, ".data.rel.ro", &sh);
    if (!scn || sh.sh_type == SHT_NOBITS || !(d = elf_getdata(scn, NULL)) || !d->d_buf)
        return NULL;
    const unsigned char *b = d->d_buf;
    for (size_t off = 0; off + 16 <= d->d_size; off += 8) {
        if (b[off + 3] != 0xff || b[off + 2] != 0xff || b[off + 1] != 0xff || b[off + 4] || b[off + 5])
            continue;
        struct go_pcln *p = open_bytes(b + off, d->d_size - off, text);
        if (p)
            return p;
    }
    return NULL;
}
