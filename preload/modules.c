/*
 * modules.c — the module map: which ELF object is loaded where, with its
 * build-id, so that the analyzer can symbolize raw PCs offline, later and on
 * another machine (debuginfo is found by build-id).
 *
 * A map is written at start-up and again, as a new generation, once a
 * dlopen/dlclose has changed the set of loaded objects (dl_phdr_info's
 * adds/subs counters tell; see guard_modules_refresh).  Stacks carry the generation current when they
 * were taken, so a PC in an unloaded library still resolves.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <limits.h>
#include <link.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "guard_internal.h"

#define MAX_SEGS 16

static _Atomic uint32_t generation;
static unsigned long long last_adds, last_subs;
static struct guard_lock record_lock;

uint32_t guard_modules_generation(void)
{
    return atomic_load_explicit(&generation, memory_order_relaxed);
}

static size_t find_build_id(const struct dl_phdr_info *info, const unsigned char **out)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        const unsigned char *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            size_t name_sz = (nh->n_namesz + 3u) & ~3u;
            size_t desc_sz = (nh->n_descsz + 3u) & ~3u;
            const unsigned char *name = p + sizeof *nh;
            const unsigned char *desc = name + name_sz;
            if (desc + desc_sz > end)
                break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4)) {
                *out = desc;
                return nh->n_descsz > 64 ? 64 : nh->n_descsz;
            }
            p = desc + desc_sz;
        }
    }
    return 0;
}

struct walk_state {
    uint32_t gen;
    uintptr_t vdso;
    int first;
    char exe[PATH_MAX];
};

static int record_one(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct walk_state *st = data;
    uint32_t flags = 0;
    const char *path = info->dlpi_name;
    if (st->first) { /* dl_iterate_phdr reports the main program first */
        flags |= GUARD_MODULE_MAIN;
        path = st->exe;
        st->first = 0;
        last_adds = info->dlpi_adds;
        last_subs = info->dlpi_subs;
    }
    if (st->vdso && (uintptr_t)info->dlpi_phdr >= st->vdso &&
        (uintptr_t)info->dlpi_phdr < st->vdso + 65536) {
        flags |= GUARD_MODULE_VDSO;
        path = "[vdso]";
    }
    if (!path || !*path)
        return 0;

    struct guard_segment segs[MAX_SEGS];
    unsigned nsegs = 0;
    for (int i = 0; i < info->dlpi_phnum && nsegs < MAX_SEGS; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        segs[nsegs].vaddr = ph->p_vaddr;
        segs[nsegs].memsz = ph->p_memsz;
        segs[nsegs].flags = ph->p_flags;
        segs[nsegs].reserved = 0;
        nsegs++;
    }
    const unsigned char *build_id = NULL;
    size_t build_id_len = find_build_id(info, &build_id);
    size_t path_len = strnlen(path, PATH_MAX);
    uint32_t rec_size = (uint32_t)(sizeof(struct guard_rec_module) + nsegs * sizeof segs[0] +
                                   build_id_len + path_len);
    struct guard_rec_module *m = guard_log_reserve(GUARD_REC_MODULE, rec_size);
    if (!m)
        return 0;
    m->base = info->dlpi_addr;
    m->generation = st->gen;
    m->path_len = (uint32_t)path_len;
    m->build_id_len = (uint16_t)build_id_len;
    m->nsegs = (uint16_t)nsegs;
    m->flags = flags;
    char *out = (char *)(m + 1);
    memcpy(out, segs, nsegs * sizeof segs[0]);
    out += nsegs * sizeof segs[0];
    memcpy(out, build_id, build_id_len);
    out += build_id_len;
    memcpy(out, path, path_len);
    guard_log_commit(m, GUARD_REC_MODULE, rec_size);
    return 0;
}

void guard_modules_record(void)
{
    if (!guard_lock_acquire(&record_lock))
        return;
    GUARD_LARGE static struct walk_state st; /* PATH_MAX is too big for small stacks; serialised by the lock */
    st.gen = atomic_load(&generation) + 1;
    st.vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    st.first = 1;
    guard_fmt(st.exe, sizeof st.exe, "%s", guard_exe_path());
    dl_iterate_phdr(record_one, &st);
    atomic_store(&generation, st.gen);
    guard_lock_release(&record_lock);
}

static int count_changed(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    *(int *)data = info->dlpi_adds != last_adds || info->dlpi_subs != last_subs;
    return 1; /* the first object carries the counters: stop */
}

/* Called before a new stack is written.  We do not hook dlopen: glibc's
 * dlopen looks at its caller to pick the RUNPATH and namespace, and a hook
 * would make the shim the caller.  New stacks are rare (each is written
 * once), so checking the loader's counters there is cheap and still gives
 * every stack a map that contains its PCs. */
void guard_modules_refresh(void)
{
    int changed = 0;
    dl_iterate_phdr(count_changed, &changed);
    if (changed)
        guard_modules_record();
}
