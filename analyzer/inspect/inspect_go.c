/*
 * inspect_go.c — what `inspect` knows of a Go executable, from its build
 * info and its line table.
 *
 * The build info: the Go linker writes a 32-byte header into the
 * `.go.buildinfo` section (in a writable segment, 16-byte aligned, so it
 * is found by scanning the data segments when the section headers are
 * gone): the 14-byte magic "\xff Go buildinf:", the pointer size, a flags
 * byte (bit 0: big-endian, bit 1: the strings follow inline).  Go 1.18 and
 * later put two varint-length-prefixed strings right after the header:
 * the Go version and the module information; older linkers put, at
 * offset 16, two pointers to Go string headers (pointer, length) that
 * lead to the same strings elsewhere in the image.  The module information
 * may be framed by 16-byte sentinels (its 17th byte from the end is then
 * a newline); inside, a line per fact: "path\t<main package>", "mod\t...",
 * "dep\t...", and since Go 1.18 "build\t<key>=<value>" for the build
 * settings (-tags, -ldflags, -race, CGO_ENABLED, -buildmode...), values
 * with spaces quoted in Go syntax.
 *
 * Whether cgo is really linked: CGO_ENABLED=1 only allows it; a program
 * calls C when it imports libc (DT_NEEDED), carries glibc (static), or its
 * line table has the Go side of C calls (pkg._Cfunc_name).
 *
 * Every read is bounds-checked against the file (elf_rawfile) or a
 * segment's file bytes: the binary is untrusted input.
 */
#define _GNU_SOURCE
#include "inspect.h"

#include <stdlib.h>
#include <string.h>

#include "go_pcln.h"
#include "util.h"

static const char go_magic[14] = "\xff Go buildinf:";

/* Bytes [vaddr, vaddr + n) of the image, from a PT_LOAD's file bytes; NULL
 * when they are not all there. */
static const unsigned char *at_vaddr(const struct inspect_target *t, uint64_t vaddr, uint64_t n)
{
    size_t flen = 0, phnum = 0;
    const unsigned char *img = (const unsigned char *)elf_rawfile(t->elf, &flen);
    if (!img || elf_getphdrnum(t->elf, &phnum) != 0)
        return NULL;
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(t->elf, (int)i, &ph) || ph.p_type != PT_LOAD || vaddr < ph.p_vaddr ||
            vaddr - ph.p_vaddr > ph.p_filesz || ph.p_filesz - (vaddr - ph.p_vaddr) < n ||
            ph.p_offset > flen || ph.p_filesz > flen - ph.p_offset)
            continue;
        return img + ph.p_offset + (vaddr - ph.p_vaddr);
    }
    return NULL;
}

/* The build info header: its bytes up to the end of the section (or the
 * segment it was found in) in *len; NULL when there is none. */
static const unsigned char *find_buildinfo(const struct inspect_target *t, size_t *len)
{
    size_t flen = 0, shstrndx = 0, phnum = 0;
    const unsigned char *img = (const unsigned char *)elf_rawfile(t->elf, &flen);
    if (!img)
        return NULL;
    Elf_Scn *scn = NULL;
    if (elf_getshdrstrndx(t->elf, &shstrndx) == 0)
        while ((scn = elf_nextscn(t->elf, scn)) != NULL) {
            GElf_Shdr sh;
            const char *name;
            if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
                !(name = elf_strptr(t->elf, shstrndx, sh.sh_name)) || strcmp(name, ".go.buildinfo"))
                continue;
            /* validate() in inspect.c checked the section is inside the file */
            if (sh.sh_size >= 32 && memcmp(img + sh.sh_offset, go_magic, sizeof go_magic) == 0) {
                *len = sh.sh_size;
                return img + sh.sh_offset;
            }
        }
    if (elf_getphdrnum(t->elf, &phnum) != 0)
        return NULL;
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(t->elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_W) ||
            ph.p_offset > flen || ph.p_filesz > flen - ph.p_offset)
            continue;
        for (uint64_t off = (16 - ph.p_vaddr % 16) % 16; off + 32 <= ph.p_filesz; off += 16)
            if (memcmp(img + ph.p_offset + off, go_magic, sizeof go_magic) == 0) {
                *len = ph.p_filesz - off;
                return img + ph.p_offset + off;
            }
    }
    return NULL;
}

static bool uvarint(const unsigned char *p, size_t len, size_t *off, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 64 && *off < len; shift += 7) {
        unsigned char b = p[(*off)++];
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return true;
        }
    }
    return false;
}

static uint64_t word(const unsigned char *p, unsigned ptrsize)
{
    uint64_t v = 0;
    for (unsigned i = ptrsize; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* A Go string whose header (pointer, length) is at vaddr (Go < 1.18). */
static char *string_at(const struct inspect_target *t, uint64_t vaddr, unsigned ptrsize, size_t *lenp)
{
    const unsigned char *h = at_vaddr(t, vaddr, 2 * (uint64_t)ptrsize);
    if (!h)
        return NULL;
    uint64_t len = word(h + ptrsize, ptrsize);
    const unsigned char *s = len < (1u << 20) ? at_vaddr(t, word(h, ptrsize), len) : NULL;
    if (!s)
        return NULL;
    char *out = xmalloc(len + 1);
    memcpy(out, s, len);
    out[len] = '\0';
    if (lenp)
        *lenp = len;
    return out;
}

/* A build setting value: Go quotes it when it has spaces or quotes. */
static char *unquote(const char *v)
{
    size_t n = strlen(v);
    if (n < 2 || v[0] != '"' || v[n - 1] != '"')
        return xstrdup(v);
    char *out = xmalloc(n), *o = out;
    for (size_t i = 1; i + 1 < n; i++) {
        if (v[i] == '\\' && i + 2 < n)
            i++;
        *o++ = v[i];
    }
    *o = '\0';
    return out;
}

static bool has_word(const char *list, const char *w, const char *seps)
{
    size_t n = strlen(w);
    for (const char *p = list; p && (p = strstr(p, w)) != NULL; p += n)
        if ((p == list || strchr(seps, p[-1])) && (p[n] == '\0' || strchr(seps, p[n])))
            return true;
    return false;
}

/* mi: n bytes and a NUL (the sentinels are binary and may hold NULs). */
static void parse_modinfo(struct inspect_go *g, char *mi, size_t n)
{
    if (n >= 33 && mi[n - 17] == '\n') { /* sentinels around the text */
        mi[n - 16] = '\0';
        mi += 16;
    }
    char *save = NULL;
    for (char *line = strtok_r(mi, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "path\t", 5) == 0 && !g->path) {
            g->path = xstrdup(line + 5);
            continue;
        }
        if (strncmp(line, "build\t", 6) != 0)
            continue;
        char *kv = line + 6, *eq = strchr(kv, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *val = unquote(eq + 1);
        if (strcmp(kv, "CGO_ENABLED") == 0)
            g->cgo_enabled = strcmp(val, "1") == 0;
        else if (strcmp(kv, "-race") == 0)
            g->race = strcmp(val, "true") == 0;
        else if (strcmp(kv, "-tags") == 0 && !g->tags) {
            g->tags = xstrdup(val);
            g->osusergo = has_word(val, "osusergo", ", ");
            g->netgo = has_word(val, "netgo", ", ");
        } else if (strcmp(kv, "-ldflags") == 0 && !g->ldflags) {
            g->ldflags = xstrdup(val);
            g->strip_s = has_word(val, "-s", " \t");
            g->strip_w = has_word(val, "-w", " \t");
            /* -extldflags=-static, -extldflags '-static -lfoo', ... */
            const char *x = strstr(val, "-extldflags");
            g->extld_static = x && strstr(x, "-static") != NULL;
        } else if (strcmp(kv, "-buildmode") == 0 && !g->buildmode)
            g->buildmode = xstrdup(val);
        free(val);
    }
}

static void read_buildinfo(struct inspect_target *t)
{
    struct inspect_go *g = &t->go;
    size_t len = 0;
    const unsigned char *h = find_buildinfo(t, &len);
    if (!h)
        return;
    g->is_go = true;
    unsigned ptrsize = h[14], flags = h[15];
    char *modinfo = NULL;
    size_t milen = 0;
    if (flags & 1)
        return; /* big-endian: not a binary this analyzer's machine runs */
    if (flags & 2) {
        size_t off = 32;
        uint64_t n;
        if (uvarint(h, len, &off, &n) && n <= len - off) {
            g->version = xstrndup_bytes(h + off, n);
            off += n;
            if (uvarint(h, len, &off, &n) && n <= len - off) {
                modinfo = xmalloc(n + 1);
                memcpy(modinfo, h + off, n);
                modinfo[n] = '\0';
                milen = n;
            }
        }
    } else if ((ptrsize == 4 || ptrsize == 8) && len >= 16 + 2 * (size_t)ptrsize) {
        g->version = string_at(t, word(h + 16, ptrsize), ptrsize, NULL);
        modinfo = string_at(t, word(h + 16 + ptrsize, ptrsize), ptrsize, &milen);
    }
    if (g->version && !*g->version) {
        free(g->version);
        g->version = NULL;
    }
    if (modinfo)
        parse_modinfo(g, modinfo, milen);
    free(modinfo);
}

/* A DT_NEEDED entry naming the C library, read through .dynamic. */
static const char *needs_libc(const struct inspect_target *t)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(t->elf, scn)) != NULL) {
        GElf_Shdr sh;
        Elf_Data *d;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !(d = elf_getdata(scn, NULL)))
            continue;
        size_t entsz = gelf_fsize(t->elf, ELF_T_DYN, 1, EV_CURRENT);
        for (size_t k = 0; entsz && k < d->d_size / entsz; k++) {
            GElf_Dyn dyn;
            const char *s;
            if (!gelf_getdyn(d, (int)k, &dyn) || dyn.d_tag == DT_NULL)
                break;
            if (dyn.d_tag == DT_NEEDED && (s = elf_strptr(t->elf, sh.sh_link, dyn.d_un.d_val)) &&
                (strncmp(s, "libc.so", 7) == 0 || strncmp(s, "libc.musl", 9) == 0))
                return s;
        }
    }
    return NULL;
}

static void decide_cgo(struct inspect_target *t)
{
    struct inspect_go *g = &t->go;
    const char *libc = needs_libc(t);
    if (g->cgo_enabled == 0)
        return; /* CGO_ENABLED=0: the go command links no C at all */
    if (libc)
        g->cgo_from = xasprintf("imports %s (DT_NEEDED)", libc);
    else if (t->nss.scanned && t->nss.glibc)
        g->cgo_from = xstrdup("glibc is linked in");
    else if (inspect_has_symbol(t, "x_cgo_init"))
        g->cgo_from = xstrdup("runtime/cgo's x_cgo_init is linked in");
    else if (g->cgo_calls.n)
        g->cgo_from = xasprintf("Go calls C (%s)", g->cgo_calls.v[0]);
    g->cgo_linked = g->cgo_from != NULL;
}

void inspect_go_scan(struct inspect_target *t)
{
    struct inspect_go *g = &t->go;
    memset(g, 0, sizeof *g);
    g->cgo_enabled = -1;
    read_buildinfo(t);
    struct go_pcln *p = go_pcln_open(t->elf);
    if (!g->is_go && !p)
        return;
    g->is_go = true;
    if (p) {
        g->pcln_layout = go_pcln_layout(p);
        g->nfunc = go_pcln_nfunc(p);
        struct go_loc f;
        for (size_t i = 0; i < g->nfunc; i++)
            if (go_pcln_func(p, i, &f) && (strstr(f.function, "._Cfunc_") || strstr(f.function, "._C2func_")))
                inspect_strs_add(&g->cgo_calls, f.function);
        inspect_go_vdso_scan(t, p, g);
    }
    go_pcln_free(p);
    decide_cgo(t);
    if (t->setuid || t->setgid || t->file_caps || !t->native)
        return; /* classify()'s reason stands */
    if (t->link == INSPECT_STATIC || t->link == INSPECT_STATIC_PIE)
        t->why = "a Go program with no dynamic loader in it: LD_PRELOAD cannot reach it: run it "
                 "supervised";
    else if (t->link == INSPECT_DYNAMIC && g->cgo_linked)
        t->why = "LD_PRELOAD sees only the cgo calls of this program: run supervised (the Go "
                 "runtime makes its own system calls and vDSO calls)";
    else if (t->link == INSPECT_DYNAMIC)
        t->why = "a Go program without cgo: LD_PRELOAD cannot reach it (the shim would load, but "
                 "the Go runtime makes its own system calls): run it supervised";
}

void inspect_go_free(struct inspect_go *g)
{
    free(g->version);
    free(g->path);
    free(g->cgo_from);
    free(g->tags);
    free(g->ldflags);
    free(g->buildmode);
    inspect_strs_free(&g->cgo_calls);
    memset(g, 0, sizeof *g);
}

static const char *cgo_word(const struct inspect_go *g)
{
    return g->cgo_enabled == 1 ? "CGO_ENABLED=1" : g->cgo_enabled == 0 ? "CGO_ENABLED=0"
                                                                        : "CGO_ENABLED not recorded";
}

void inspect_go_text(const struct inspect_target *t, bool verbose)
{
    const struct inspect_go *g = &t->go;
    fputs("  Go: ", stdout);
    fput_escaped(stdout, g->version ? g->version : "version not recorded");
    if (g->path) {
        fputs(", ", stdout);
        fput_escaped(stdout, g->path);
    }
    printf("; %s; cgo %s", cgo_word(g), g->cgo_linked ? "linked: " : "not linked");
    if (g->cgo_from)
        fput_escaped(stdout, g->cgo_from);
    if (g->tags) {
        fputs("; -tags ", stdout);
        fput_escaped(stdout, g->tags);
    }
    if (g->race)
        fputs("; -race", stdout);
    if (g->ldflags) {
        fputs("; -ldflags ", stdout);
        fput_escaped(stdout, g->ldflags);
    }
    fputc('\n', stdout);
    if (g->cgo_calls.n) {
        printf("  Go calls C through %zu stub%s: ", g->cgo_calls.n, g->cgo_calls.n == 1 ? "" : "s");
        for (size_t i = 0; i < g->cgo_calls.n && (verbose || i < 6); i++) {
            fputs(i ? ", " : "", stdout);
            fput_escaped(stdout, g->cgo_calls.v[i]);
        }
        fputs(!verbose && g->cgo_calls.n > 6 ? ", ...\n" : "\n", stdout);
    }
    if (g->pcln_layout && verbose)
        printf("  Go line table: %zu functions, layout of Go %s\n", g->nfunc, g->pcln_layout);
    const char *vv = inspect_go_vdso_verdict(g, NULL);
    if (vv)
        printf("  Go vDSO calls: %s\n", vv);
    const char *why = NULL, *mode = inspect_mode_of(t, &why);
    printf("  libguard mode: %s (%s)\n", mode, why ? why : "");
}

static json_t *str_or_null(const char *s)
{
    if (!s)
        return json_null();
    char *c = utf8_sanitize(s);
    json_t *j = json_string(c);
    free(c);
    return j;
}

json_t *inspect_go_json(const struct inspect_target *t)
{
    const struct inspect_go *g = &t->go;
    json_t *o = json_object();
    json_object_set_new(o, "version", str_or_null(g->version));
    json_object_set_new(o, "path", str_or_null(g->path));
    json_object_set_new(o, "static", json_boolean(t->link == INSPECT_STATIC || t->link == INSPECT_STATIC_PIE));
    json_object_set_new(o, "cgo_enabled", g->cgo_enabled < 0 ? json_null() : json_boolean(g->cgo_enabled));
    json_object_set_new(o, "cgo_linked", json_boolean(g->cgo_linked));
    json_object_set_new(o, "cgo_evidence", str_or_null(g->cgo_from));
    json_object_set_new(o, "cgo_calls", inspect_strs_json(&g->cgo_calls));
    json_object_set_new(o, "tags", str_or_null(g->tags));
    json_object_set_new(o, "osusergo", json_boolean(g->osusergo));
    json_object_set_new(o, "netgo", json_boolean(g->netgo));
    json_object_set_new(o, "race", json_boolean(g->race));
    json_object_set_new(o, "ldflags", str_or_null(g->ldflags));
    json_object_set_new(o, "extldflags_static", json_boolean(g->extld_static));
    json_object_set_new(o, "stripped", json_boolean(g->strip_s || g->strip_w || t->nss.stripped));
    json_object_set_new(o, "buildmode", str_or_null(g->buildmode));
    json_object_set_new(o, "line_table", g->pcln_layout ? json_string(g->pcln_layout) : json_null());
    json_object_set_new(o, "functions", json_integer((json_int_t)g->nfunc));
    json_t *va = json_array();
    for (size_t i = 0; i < g->nvdso; i++) {
        const struct inspect_go_vdso *v = &g->vdso[i];
        json_t *e = json_object();
        json_object_set_new(e, "function", json_string(v->func));
        char hex[24];
        snprintf(hex, sizeof hex, "%#llx", (unsigned long long)v->entry);
        json_object_set_new(e, "address", json_string(hex));
        json_object_set_new(e, "calls_vdso", json_boolean(v->indirect_call));
        json_object_set_new(e, "switches_to_system_stack", json_boolean(v->switches));
        json_object_set_new(e, "switch", v->switches ? json_string(v->switch_insn) : json_null());
        json_object_set_new(e, "call", v->indirect_call ? json_string(v->call_insn) : json_null());
        json_array_append_new(va, e);
    }
    json_t *host = NULL;
    const char *vv = inspect_go_vdso_verdict(g, &host);
    json_t *vd = json_object();
    json_object_set_new(vd, "functions", va);
    json_object_set_new(vd, "host", host ? host : json_null());
    json_object_set_new(vd, "verdict", str_or_null(vv));
    json_object_set_new(o, "vdso", vd);
    return o;
}
