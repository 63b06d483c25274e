/*
 * inspect_nss.c — nss-static-binary: a statically linked glibc program
 * that makes NSS lookups (getpwuid_r, getaddrinfo, initgroups...) and
 * starts threads.
 *
 * Why it is dangerous: static glibc still implements NSS by dlopen()ing
 * the libnss_*.so modules that /etc/nsswitch.conf names (since glibc 2.34
 * only `files` and `dns` are built in).  Those modules are linked against
 * the shared libc.so.6, so the process ends up with two C libraries that
 * do not know about each other: the static one the program runs on and
 * the shared one the module pulls in, with separate malloc arenas, locks,
 * errno, resolver state and TLS.  The shared copy's TLS and per-thread
 * state are set up only for the thread that did the dlopen; a lookup on
 * another thread runs the module on uninitialised state and crashes
 * (getpwuid_r on a second thread of a static cgo binary).  The modules
 * must also come from the exact glibc version the program was linked with.
 *
 * Evidence, strongest first:
 *   .symtab names (unstripped): getpwuid_r..., pthread_create, __nss_*;
 *   strings that survive stripping: glibc's NSS code keeps the names of
 *   the functions it looks up in modules ("getpwuid_r", "initgroups_dyn"),
 *   the module file pattern "libnss_%s.so%s", "_nss_%s_%s",
 *   "/etc/nsswitch.conf"; pthread_create's assertion strings
 *   ("pthread_create.c", "__pthread_create_2_1"); "GLIBC_PRIVATE" and
 *   "_dl_open" of the static dlopen; Go's "runtime.newosproc".
 * Confidence: high when .symtab shows both the NSS entry points and
 * pthread_create (or thrd_create, Go's runtime.newosproc); medium when that
 * evidence comes from the strings of a stripped binary; low when the only
 * thread evidence is raw clone/clone3, which glibc's posix_spawn and
 * system also use to start processes.
 * No finding without glibc's NSS module loader (musl, or a libc without
 * NSS modules, never loads a second libc) or without thread evidence.
 */
#define _GNU_SOURCE
#include "inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard_log.h"
#include "util.h"

/* NSS entry points a program calls. */
static const char *const nss_entry[] = {
    "getpwuid_r", "getpwnam_r", "getgrgid_r", "getgrnam_r", "getpwuid", "getpwnam",
    "getgrgid", "getgrnam", "getpwent", "getpwent_r", "getgrent", "getgrent_r",
    "getspnam", "getspnam_r", "getspent", "getaddrinfo", "getnameinfo", "gethostbyname",
    "gethostbyname_r", "gethostbyname2", "gethostbyname2_r", "gethostbyaddr",
    "gethostbyaddr_r", "getgrouplist", "initgroups", "getservbyname", "getservbyname_r",
    "getservbyport", "getservbyport_r", "getprotobyname", "getprotobyname_r",
    "getprotobynumber", "getnetbyname", "getnetgrent", "innetgr", "ether_ntohost",
    "ether_hostton", "getrpcbyname",
};
/* Names glibc's NSS code looks up in modules (as "_nss_<module>_<name>"):
 * kept as strings in stripped static binaries. */
static const char *const nss_lookup_names[] = {
    "getpwuid_r", "getpwnam_r", "getgrgid_r", "getgrnam_r", "getpwent_r", "getgrent_r",
    "getspnam_r", "gethostbyname_r", "gethostbyname2_r", "gethostbyname3_r",
    "gethostbyname4_r", "gethostbyaddr_r", "gethostbyaddr2_r", "initgroups_dyn",
    "getservbyname_r", "getservbyport_r", "getprotobyname_r", "getaddrinfo",
};
/* glibc's NSS module loader (internal symbols, 2.2x to 2.3x). */
static const char *const nss_machinery_syms[] = {
    "__nss_module_load", "__nss_module_get_function", "__nss_lookup_function",
    "__nss_database_lookup", "__nss_database_lookup2", "__nss_database_get",
    "__nss_configure_lookup", "nss_load_library", "__nss_next2",
};
static const char *const nss_machinery_strs[] = {
    "libnss_", "_nss_%s_%s", "/etc/nsswitch.conf",
};
static const char *const dlopen_syms[] = {"_dl_open", "__libc_dlopen_mode", "_dl_catch_error"};
static const char *const dlopen_strs[] = {"_dl_open", "__libc_dlopen_mode", "GLIBC_PRIVATE"};
static const char *const glibc_strs[] = {"GLIBC_PRIVATE", "glibc.pthread.", "glibc.malloc."};
/* Thread creation: certain, and possible (clone is also how posix_spawn
 * and system start processes). */
static const char *const thread_syms[] = {
    "pthread_create", "__pthread_create_2_1", "thrd_create", "runtime.newosproc",
};
static const char *const clone_syms[] = {"clone", "__clone", "clone3", "__clone3", "__clone_internal"};
static const char *const thread_strs[] = {"pthread_create", "runtime.newosproc"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

void inspect_nss_free(struct inspect_nss *n)
{
    inspect_strs_free(&n->entry);
    inspect_strs_free(&n->thread);
    inspect_strs_free(&n->clone);
    inspect_strs_free(&n->evidence);
}

static int index_of(const char *const *tab, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tab[i], name) == 0)
            return (int)i;
    return -1;
}

/* One symbol name from .symtab or .dynsym. */
static void note_symbol(struct inspect_nss *n, const char *name, const char *from)
{
    char ev[160];
    if (index_of(nss_entry, NELEM(nss_entry), name) >= 0) {
        inspect_strs_add(&n->entry, name);
        if (!n->entry_from)
            n->entry_from = from;
    } else if (index_of(nss_machinery_syms, NELEM(nss_machinery_syms), name) >= 0) {
        n->machinery = true;
        snprintf(ev, sizeof ev, "%s symbol %s (glibc's NSS module loader)", from, name);
        inspect_strs_add(&n->evidence, ev);
    } else if (index_of(thread_syms, NELEM(thread_syms), name) >= 0) {
        inspect_strs_add(&n->thread, name);
        if (n->threads != INSPECT_THREADS_YES)
            n->threads_from = from;
        n->threads = INSPECT_THREADS_YES;
    } else if (index_of(clone_syms, NELEM(clone_syms), name) >= 0) {
        inspect_strs_add(&n->clone, name);
        if (n->threads == INSPECT_THREADS_NO) {
            n->threads = INSPECT_THREADS_POSSIBLE;
            n->threads_from = from;
        }
    } else if (index_of(dlopen_syms, NELEM(dlopen_syms), name) >= 0) {
        n->dlopen = true;
        snprintf(ev, sizeof ev, "%s symbol %s (dynamic loading code)", from, name);
        inspect_strs_add(&n->evidence, ev);
    }
}

static void scan_symbols(struct inspect_target *t)
{
    struct inspect_nss *n = &t->nss;
    n->stripped = true;
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(t->elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
            continue;
        const char *from = sh.sh_type == SHT_SYMTAB ? "symtab" : "dynsym";
        Elf_Data *data = elf_getdata(scn, NULL);
        if (!data || sh.sh_entsize == 0)
            continue;
        size_t cnt = data->d_size / sh.sh_entsize;
        if (sh.sh_type == SHT_SYMTAB && cnt > 1)
            n->stripped = false;
        for (size_t i = 1; i < cnt; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(data, (int)i, &sym))
                break;
            int type = GELF_ST_TYPE(sym.st_info);
            if (type != STT_FUNC && type != STT_NOTYPE && type != STT_GNU_IFUNC && type != STT_OBJECT)
                continue;
            const char *s = elf_strptr(t->elf, sh.sh_link, sym.st_name);
            if (s && *s)
                note_symbol(n, s, from);
        }
    }
}

/* Does `needle` occur in [p, p+len)? */
static bool contains(const unsigned char *p, size_t len, const char *needle)
{
    return memmem(p, len, needle, strlen(needle)) != NULL;
}

/* Does the NUL-terminated string `name` occur as a whole string or the
 * tail of one (the linker merges string tails)? */
static bool has_cstring(const unsigned char *p, size_t len, const char *name)
{
    size_t l = strlen(name) + 1; /* with its NUL */
    const unsigned char *q = p, *end = p + len;
    while (q < end) {
        const unsigned char *hit = memmem(q, (size_t)(end - q), name, l);
        if (!hit)
            return false;
        if (hit == p || hit[-1] == '\0' || hit[-1] == '_' || hit[-1] == ' ')
            return true;
        q = hit + 1;
    }
    return false;
}

static void scan_region(struct inspect_nss *n, const unsigned char *p, size_t len)
{
    char ev[160];
    for (size_t i = 0; i < NELEM(nss_machinery_strs); i++)
        if (contains(p, len, nss_machinery_strs[i])) {
            n->machinery = true;
            snprintf(ev, sizeof ev, "string \"%s\" (glibc's NSS module loader)", nss_machinery_strs[i]);
            inspect_strs_add(&n->evidence, ev);
        }
    for (size_t i = 0; i < NELEM(dlopen_strs); i++)
        if (contains(p, len, dlopen_strs[i])) {
            n->dlopen = true;
            snprintf(ev, sizeof ev, "string \"%s\" (static dlopen code)", dlopen_strs[i]);
            inspect_strs_add(&n->evidence, ev);
        }
    for (size_t i = 0; i < NELEM(glibc_strs); i++)
        if (contains(p, len, glibc_strs[i]))
            n->glibc = true;
    for (size_t i = 0; i < NELEM(thread_strs); i++)
        if (contains(p, len, thread_strs[i])) {
            snprintf(ev, sizeof ev, "string \"%s\" (thread creation code)", thread_strs[i]);
            inspect_strs_add(&n->evidence, ev);
            if (n->threads != INSPECT_THREADS_YES) {
                n->threads = INSPECT_THREADS_YES;
                n->threads_from = "strings";
                inspect_strs_add(&n->thread, thread_strs[i]);
            }
        }
    /* The names NSS looks up: only when .symtab did not already say. */
    if (!n->entry_from || strcmp(n->entry_from, "symtab") != 0) {
        for (size_t i = 0; i < NELEM(nss_lookup_names); i++)
            if (has_cstring(p, len, nss_lookup_names[i])) {
                inspect_strs_add(&n->entry, nss_lookup_names[i]);
                if (!n->entry_from)
                    n->entry_from = "strings";
            }
    }
}

/* The bytes that survive stripping: allocated, non-executable PROGBITS
 * sections (.rodata, .data.rel.ro, .data, .gopclntab), or without section
 * headers, every PT_LOAD segment. */
static void scan_strings(struct inspect_target *t)
{
    size_t flen = 0;
    const unsigned char *img = (const unsigned char *)elf_rawfile(t->elf, &flen);
    if (!img)
        return;
    bool any = false;
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(t->elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC) ||
            (sh.sh_flags & SHF_EXECINSTR))
            continue;
        if (sh.sh_offset >= flen || sh.sh_size > flen - sh.sh_offset)
            continue;
        any = true;
        scan_region(&t->nss, img + sh.sh_offset, sh.sh_size);
    }
    if (any)
        return;
    size_t phnum = 0;
    if (elf_getphdrnum(t->elf, &phnum) != 0)
        return;
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(t->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
            continue;
        if (ph.p_offset >= flen || ph.p_filesz > flen - ph.p_offset)
            continue;
        scan_region(&t->nss, img + ph.p_offset, ph.p_filesz);
    }
}

void inspect_nss_scan(struct inspect_target *t)
{
    struct inspect_nss *n = &t->nss;
    n->scanned = true;
    scan_symbols(t);
    if (n->machinery)
        n->glibc = true; /* __nss_* are glibc's */
    /* A dynamic executable gets NSS from the shared libc, which is fine:
     * its imports are enough to describe it. */
    n->static_exe = t->link == INSPECT_STATIC || t->link == INSPECT_STATIC_PIE;
    if (t->link == INSPECT_DYNAMIC && t->interp && strstr(t->interp, "ld-linux"))
        n->glibc = true; /* glibc's loader */
    if (n->static_exe)
        scan_strings(t);
}

const char *inspect_nss_note(const struct inspect_nss *n)
{
    if (n->static_exe && n->entry.n && n->machinery && n->threads == INSPECT_THREADS_NO)
        return "no thread creation found, so not flagged; but its NSS lookups still dlopen the "
               "libnss_* modules nsswitch.conf names, and a module using TLS (libnss_systemd) "
               "can crash a static program even on its main thread";
    return NULL;
}

static const char *threads_name(enum inspect_threads th)
{
    return th == INSPECT_THREADS_YES ? "yes" : th == INSPECT_THREADS_POSSIBLE ? "possible" : "no";
}

json_t *inspect_nss_json(const struct inspect_nss *n)
{
    json_t *o = json_object();
    json_object_set_new(o, "stripped", json_boolean(n->stripped));
    json_object_set_new(o, "glibc", json_boolean(n->glibc));
    json_object_set_new(o, "nss_entry_points", inspect_strs_json(&n->entry));
    json_object_set_new(o, "nss_entry_points_from", n->entry_from ? json_string(n->entry_from) : json_null());
    json_object_set_new(o, "nss_module_loader", json_boolean(n->machinery));
    json_object_set_new(o, "dynamic_loading_code", json_boolean(n->dlopen));
    json_object_set_new(o, "threads", json_string(threads_name(n->threads)));
    json_object_set_new(o, "thread_entry_points", inspect_strs_json(&n->thread));
    json_object_set_new(o, "clone_entry_points", inspect_strs_json(&n->clone));
    json_object_set_new(o, "threads_from", n->threads_from ? json_string(n->threads_from) : json_null());
    json_object_set_new(o, "evidence", inspect_strs_json(&n->evidence));
    const char *note = inspect_nss_note(n);
    json_object_set_new(o, "note", note ? json_string(note) : json_null());
    return o;
}

/* The modules this host's /etc/nsswitch.conf would make a static program
 * dlopen for users, groups and hosts (files and dns are built into glibc
 * since 2.34; older ones load them too). */
static void host_modules(struct inspect_strs *mods)
{
    FILE *f = fopen("/etc/nsswitch.conf", "re");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *save = NULL, *db = strtok_r(line, " \t\n:", &save);
        if (!db || *db == '#')
            continue;
        if (strcmp(db, "passwd") && strcmp(db, "group") && strcmp(db, "shadow") &&
            strcmp(db, "hosts") && strcmp(db, "initgroups"))
            continue;
        char *svc;
        while ((svc = strtok_r(NULL, " \t\n", &save)) != NULL) {
            if (*svc == '#')
                break;
            if (*svc == '[' || strcmp(svc, "files") == 0 || strcmp(svc, "dns") == 0)
                continue;
            char name[80];
            snprintf(name, sizeof name, "libnss_%.60s.so.2", svc);
            inspect_strs_add(mods, name);
        }
    }
    fclose(f);
}

static char *join(const struct inspect_strs *s, size_t max)
{
    size_t len = 1;
    for (size_t i = 0; i < s->n && i < max; i++)
        len += strlen(s->v[i]) + 2;
    len += 8;
    char *out = xmalloc(len);
    out[0] = '\0';
    for (size_t i = 0; i < s->n && i < max; i++) {
        if (i)
            strcat(out, ", ");
        strcat(out, s->v[i]);
    }
    if (s->n > max)
        strcat(out, ", ...");
    return out;
}

/* What to do about it.  A Go program gets NSS from glibc only through
 * cgo (os/user and net's cgo resolvers): the Go build can leave glibc's
 * NSS out entirely, which fits better than relinking. */
static char *nss_fix(const struct inspect_target *t)
{
    const struct inspect_go *g = &t->go;
    if (!g->is_go)
        return xstrdup("Fix: link dynamically (NSS works there), or avoid glibc NSS in this program "
                       "(musl, or a resolver of its own), or keep /etc/nsswitch.conf on the machines "
                       "it runs on to files and dns for the databases it uses (with glibc >= 2.34 "
                       "no module is loaded then).");
    const char *tags = !g->osusergo && !g->netgo ? "-tags osusergo,netgo"
                       : !g->osusergo            ? "-tags osusergo (it has netgo)"
                       : !g->netgo               ? "-tags netgo (it has osusergo)"
                                                 : NULL;
    char *built = xasprintf("%s%s%s%s%s%s", g->version ? g->version : "Go",
                            g->cgo_enabled == 1 ? ", CGO_ENABLED=1" : "", g->tags ? ", -tags " : "",
                            g->tags ? g->tags : "", g->ldflags ? ", -ldflags " : "",
                            g->ldflags ? g->ldflags : "");
    char *fix = xasprintf(
        "Fix (a Go program, built with %s): %s%s%sbuild with CGO_ENABLED=0, so that os/user "
        "and net use their pure-Go code and no glibc NSS is linked in; or, if it needs cgo, "
        "drop -extldflags -static and link dynamically.",
        built, tags ? "build with " : "", tags ? tags : "", tags ? " (os/user and net then read "
        "/etc/passwd, /etc/group and /etc/hosts in Go and never call glibc's NSS), or " : "");
    free(built);
    return fix;
}

void inspect_nss_check_static(const struct inspect_target *t, struct inspect_result *res)
{
    const struct inspect_nss *n = &t->nss;
    if ((t->link != INSPECT_STATIC && t->link != INSPECT_STATIC_PIE) || !n->scanned)
        return;
    /* Without glibc's module loader NSS never loads a shared libc (musl,
     * a libc of its own): nothing to warn about. */
    if (n->entry.n == 0 || !n->machinery || n->threads == INSPECT_THREADS_NO)
        return;
    bool entry_sym = n->entry_from && strcmp(n->entry_from, "symtab") == 0;
    bool thread_sym = n->threads_from && strcmp(n->threads_from, "symtab") == 0;
    const char *conf;
    if (n->threads != INSPECT_THREADS_YES)
        conf = "low"; /* raw clone is mostly posix_spawn/system starting processes */
    else if (entry_sym && thread_sym)
        conf = "high";
    else
        conf = "medium";

    bool from_strings = n->entry_from && strcmp(n->entry_from, "strings") == 0;
    char *names = join(&n->entry, 6);
    char *thr = join(n->threads == INSPECT_THREADS_YES ? &n->thread : &n->clone, 3);
    char *what = from_strings ? xasprintf("contains glibc's NSS lookup code (its strings name %s)", names)
                              : xasprintf("makes NSS lookups (%s)", names);
    char *threads = n->threads == INSPECT_THREADS_YES ? xasprintf("starts threads (%s)", thr)
                                                      : xasprintf("may start threads (raw clone only: %s)", thr);
    struct inspect_finding *f = inspect_add_finding(
        res, GUARD_FK_NSS_STATIC_BINARY,
        "%s glibc binary%s %s and %s: glibc dlopen()s libnss_* modules at run time, and a lookup on "
        "another thread can crash",
        t->link == INSPECT_STATIC_PIE ? "static-pie" : "static",
        t->go.is_go ? " (Go with cgo)" : "", what, threads);
    free(names);
    free(thr);
    free(what);
    free(threads);
    f->confidence = conf;
    for (size_t i = 0; i < n->entry.n; i++)
        inspect_strs_add(&f->symbols, n->entry.v[i]);
    for (size_t i = 0; i < n->thread.n; i++)
        inspect_strs_add(&f->symbols, n->thread.v[i]);
    for (size_t i = 0; i < n->clone.n; i++)
        inspect_strs_add(&f->symbols, n->clone.v[i]);
    char ev[200];
    snprintf(ev, sizeof ev, "NSS entry points from %s", n->entry_from ? n->entry_from : "?");
    inspect_strs_add(&f->evidence, ev);
    snprintf(ev, sizeof ev, "threads: %s, from %s", threads_name(n->threads),
             n->threads_from ? n->threads_from : "?");
    inspect_strs_add(&f->evidence, ev);
    for (size_t i = 0; i < n->evidence.n; i++)
        inspect_strs_add(&f->evidence, n->evidence.v[i]);

    struct inspect_strs mods = {0};
    host_modules(&mods);
    char *hm = mods.n ? join(&mods, 8) : NULL;
    char *fix = nss_fix(t);
    f->detail = xasprintf(
        "A statically linked glibc still implements NSS by dlopen()ing the libnss_*.so modules that "
        "/etc/nsswitch.conf names (only files and dns are built in, since glibc 2.34). The modules "
        "link against the shared libc.so.6, so the process gets a second C library that disagrees "
        "with the static copy: its TLS (e.g. the ctype tables behind __ctype_b_loc) is set up only "
        "for the thread that loaded it, so a lookup on another thread reads garbage and crashes "
        "(glibc bug 19341, not going to be fixed); a module from any other glibc version than the "
        "one linked in can break it too.\n"
        "%s%s%s%s",
        hm ? "On this host /etc/nsswitch.conf would load: " : "", hm ? hm : "", hm ? ".\n" : "", fix);
    free(fix);
    free(hm);
    inspect_strs_free(&mods);
}
