/*
 * goroutine.c — which goroutine made a call, in a Go program.
 *
 * Go's register ABI (amd64, Go 1.17 on) keeps the running goroutine's g in
 * R14 in all Go code, including the system call stubs the syscall package
 * uses (runtime/internal/syscall.Syscall6 leaves R14 alone).  The
 * supervisor seizes the calling thread with ptrace and asks it to stop
 * (PTRACE_SEIZE, PTRACE_INTERRUPT) while it waits for the answer to its
 * call; the kernel's killable wait keeps it there; once the call is let
 * go on, the thread stops as it returns.  The supervisor reads its
 * registers (R14, and rax: the call's result) and detaches, then reads
 * g.goid, g.lockedm and g.m from the program's memory.  The g is believed only when g.m.procid is the thread
 * and g.m.curg is g: a thread in C code (cgo) or on the runtime's own g0
 * stack gives no goroutine.
 *
 * The layout of runtime.g and runtime.m comes from the binary's DWARF
 * (the structure types runtime.g and runtime.m); a binary built with -w
 * has none, and then only Go 1.19's layout is known (its offsets below:
 * tests/test_supervise.py's -s -w program is judged by goroutine only if
 * they are right, since a wrong layout fails the procid/curg check).
 * Other versions without DWARF give no goroutine: the per-thread rule
 * still applies.
 */
#define _GNU_SOURCE
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sup.h"

/* Go 1.19, linux/amd64 (src/runtime/runtime2.go of go1.19.8). */
static const struct go_info go119 = {.is_go = 1, .layout_tried = 1, .offsets_ok = 1,
                                     .version = "go1.19", .g_m = 48, .g_goid = 152,
                                     .g_lockedm = 232, .m_procid = 72, .m_curg = 192};

static void buildinfo_version(Elf_Scn *scn, struct go_info *gi)
{
    Elf_Data *d = elf_getdata(scn, NULL);
    if (!d || d->d_size < 34)
        return;
    const unsigned char *b = d->d_buf;
    if (memcmp(b, "\xff Go buildinf:", 14) || !(b[15] & 2))
        return; /* before Go 1.18 the version is behind pointers */
    size_t len = 0, off = 32;
    for (int shift = 0; off < d->d_size && shift < 28; shift += 7) {
        len |= (size_t)(b[off] & 0x7f) << shift;
        if (!(b[off++] & 0x80))
            break;
    }
    if (len && len < sizeof gi->version && off + len <= d->d_size) {
        memcpy(gi->version, b + off, len);
        gi->version[len] = '\0';
    }
}

static int member_offset(Dwarf_Die *member, uint32_t *out)
{
    Dwarf_Attribute a;
    Dwarf_Word v;
    if (!dwarf_attr(member, DW_AT_data_member_location, &a) || dwarf_formudata(&a, &v) != 0)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* The offsets of the fields we read, from the structure types runtime.g
 * and runtime.m; 0 when all were found. */
static int dwarf_offsets(Elf *elf, struct go_info *gi)
{
    Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
    if (!dw)
        return -1;
    unsigned found = 0;
    Dwarf_Off off = 0, next;
    size_t hsize;
    while (found != 0x1f && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu, die;
        if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &die) == 0) {
            do {
                if (dwarf_tag(&die) != DW_TAG_structure_type)
                    continue;
                const char *name = dwarf_diename(&die);
                int is_g = name && !strcmp(name, "runtime.g"), is_m = name && !strcmp(name, "runtime.m");
                Dwarf_Die mem;
                if ((!is_g && !is_m) || dwarf_child(&die, &mem) != 0)
                    continue;
                do {
                    const char *mn = dwarf_diename(&mem);
                    if (!mn)
                        continue;
                    if (is_g && !strcmp(mn, "m") && !member_offset(&mem, &gi->g_m))
                        found |= 1;
                    else if (is_g && !strcmp(mn, "goid") && !member_offset(&mem, &gi->g_goid))
                        found |= 2;
                    else if (is_g && !strcmp(mn, "lockedm") && !member_offset(&mem, &gi->g_lockedm))
                        found |= 4;
                    else if (is_m && !strcmp(mn, "procid") && !member_offset(&mem, &gi->m_procid))
                        found |= 8;
                    else if (is_m && !strcmp(mn, "curg") && !member_offset(&mem, &gi->m_curg))
                        found |= 16;
                } while (dwarf_siblingof(&mem, &mem) == 0);
            } while (found != 0x1f && dwarf_siblingof(&die, &die) == 0);
        }
        off = next;
    }
    dwarf_end(dw);
    return found == 0x1f ? 0 : -1;
}

/* What go_inspect and go_layout learned of an executable, by file. */
struct cached {
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    struct go_info gi;
};
static struct cached cache[16];
static unsigned ncache;

/* The image of pid, opened, and its cache entry (NULL: none yet). */
static int open_image(pid_t pid, struct stat *st, struct cached **hit)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *hit = NULL;
    if (fd < 0 || fstat(fd, st) != 0)
        return fd;
    for (unsigned i = 0; i < ncache; i++)
        if (cache[i].dev == st->st_dev && cache[i].ino == st->st_ino &&
            cache[i].mtime.tv_sec == st->st_mtim.tv_sec && cache[i].mtime.tv_nsec == st->st_mtim.tv_nsec)
            *hit = &cache[i];
    return fd;
}

static void remember(const struct stat *st, struct cached *hit, const struct go_info *gi)
{
    if (hit)
        hit->gi = *gi;
    else if (ncache < 16)
        cache[ncache++] = (struct cached){st->st_dev, st->st_ino, st->st_mtim, *gi};
}

/* Is the image Go, and which version: its section names only (cheap, at
 * every exec).  The runtime's layout waits for go_layout. */
void go_inspect(pid_t pid, struct go_info *gi)
{
    memset(gi, 0, sizeof *gi);
    struct stat st;
    struct cached *hit;
    int fd = open_image(pid, &st, &hit);
    if (fd < 0)
        return;
    if (hit) {
        *gi = hit->gi;
        close(fd);
        return;
    }
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    size_t shstrndx;
    if (elf && elf_getshdrstrndx(elf, &shstrndx) == 0) {
        for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
            GElf_Shdr sh;
            const char *name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
            if (name && !strcmp(name, ".go.buildinfo")) {
                gi->is_go = 1;
                buildinfo_version(scn, gi);
            } else if (name && !strcmp(name, ".gopclntab")) {
                gi->is_go = 1;
            }
        }
    }
    if (elf)
        elf_end(elf);
    close(fd);
    remember(&st, NULL, gi);
}

/* The layout of runtime.g and runtime.m, read at the first call that needs
 * it: from the DWARF (whose decompression takes milliseconds, which a Go
 * program that never makes a namespace call must not pay at each exec),
 * else Go 1.19's.  1 when known. */
int go_layout(pid_t pid, struct go_info *gi)
{
    if (gi->layout_tried)
        return gi->offsets_ok;
    gi->layout_tried = 1;
    struct stat st;
    struct cached *hit;
    int fd = open_image(pid, &st, &hit);
    if (fd < 0)
        return 0;
    if (hit && hit->gi.layout_tried) {
        *gi = hit->gi;
        close(fd);
        return gi->offsets_ok;
    }
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (elf && dwarf_offsets(elf, gi) == 0) {
        gi->offsets_ok = 1;
    } else if (!strncmp(gi->version, "go1.19", 6) &&
               (gi->version[6] == '\0' || gi->version[6] == '.')) {
        char v[32];
        memcpy(v, gi->version, sizeof v);
        *gi = go119;
        memcpy(gi->version, v, sizeof v);
    }
    if (elf)
        elf_end(elf);
    close(fd);
    remember(&st, hit, gi);
    return gi->offsets_ok;
}

static int read_word(pid_t pid, uint64_t addr, uint64_t *v)
{
    return peek_mem(pid, addr, v, sizeof *v) == (ssize_t)sizeof *v ? 0 : -1;
}

int go_capture_begin(pid_t pid, pid_t tid)
{
    if (crash_traced(pid)) /* seized already, by the crash recorder */
        return ptrace(PTRACE_INTERRUPT, tid, 0, 0) == 0 ? 0 : -1;
    if (ptrace(PTRACE_SEIZE, tid, 0, 0) != 0)
        return -1;
    if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0) {
        ptrace(PTRACE_DETACH, tid, 0, 0);
        return -1;
    }
    return 0;
}

int go_capture_end(pid_t pid, pid_t tid, const struct go_info *gi, struct peek_stack *st,
                   struct goroutine *g)
{
    memset(g, 0, sizeof *g);
    int ws, sig = 0;
    for (;;) {
        pid_t w = waitpid(tid, &ws, __WALL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w != tid || !WIFSTOPPED(ws))
            return -1; /* the thread is gone */
        break;
    }
    if ((ws >> 16) == 0 && WSTOPSIG(ws) != SIGTRAP)
        sig = WSTOPSIG(ws); /* a signal on its way: it is delivered at the detach */
    struct user_regs_struct r;
    int ok = ptrace(PTRACE_GETREGS, tid, 0, &r) == 0;
    /* the goroutine is read while its thread is stopped: once let go, it
     * may end and its g be reused */
    uint64_t gp = ok ? r.r14 : 0, m = 0, goid = 0, lockedm = 0, procid = 0, curg = 0;
    int read = gp && !read_word(pid, gp + gi->g_m, &m) && m &&
               !read_word(pid, gp + gi->g_goid, &goid) &&
               !read_word(pid, gp + gi->g_lockedm, &lockedm) &&
               !read_word(pid, m + gi->m_procid, &procid) && !read_word(pid, m + gi->m_curg, &curg);
    if (ok) { /* the registers and the stack, before the thread goes on */
        const uint64_t dwarf[17] = {r.rax, r.rdx, r.rcx, r.rbx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8,
                                    r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip};
        memcpy(st->regs, dwarf, sizeof dwarf);
        peek_stack_copy(pid, st);
    }
    if (!crash_traced(pid))
        ptrace(PTRACE_DETACH, tid, 0, sig);
    else if (sig)
        crash_stop(tid, ws); /* a signal on its way: perhaps a fatal one */
    else
        ptrace(PTRACE_CONT, tid, 0, 0);
    if (!ok)
        return -1;
    if (!read || procid != (uint64_t)tid || curg != gp)
        return 0; /* not a goroutine's g: C code, or the runtime's g0 */
    g->known = 1;
    g->goid = (int64_t)goid;
    g->locked = lockedm != 0;
    return 0;
}
