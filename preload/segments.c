/*
 * segments.c — our writable segment as one mapping instead of two.
 *
 * The dynamic linker maps a library's writable segment as two mappings:
 * the part that has bytes in the file (.got, .data: a private mapping of
 * the file) and the zero-filled rest (.bss: an anonymous mapping).  Both
 * are written, so both have anonymous pages, and every fork of the
 * program copies each such mapping (its anon_vma, its page table entries)
 * and every exec in the child tears it down again: ~2 us per mapping per
 * fork+exec (bench/fork_mapping_cost).  A program that spawns a lot pays
 * that for each of ours at every spawn, for nothing.
 *
 * So at the first fork we move the whole segment into one anonymous mapping of
 * the same place and contents: the pages that hold anything are copied
 * into a fresh mapping, which mremap then puts where the segment was, in
 * one step (the old mappings go in the same system call).  Addresses do
 * not change, so no pointer into our data (the dynamic linker's, the
 * kernel's, the program's) notices.  A RELRO part, if the library has
 * one, is made read-only again afterwards (that splits the mapping in
 * two; the Makefile links with -z norelro, see there).
 *
 * Only while this thread is the process's only one, with signals held, and
 * never after a clone(CLONE_VM) (the clone hook says so): a store to our
 * data between the copy and the move would be lost.  At the first fork,
 * not at start-up: a program that never forks has nothing to gain, and a
 * program exec'd under the shim should not pay for it at every start.  If
 * anything is not as expected, nothing is changed: this only saves time.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guard_internal.h"

extern const ElfW(Ehdr) __ehdr_start; /* our own ELF header (the linker's symbol) */

#define PAGE 4096u
static uintptr_t page_down(uintptr_t a) { return a & ~(uintptr_t)(PAGE - 1); }
static uintptr_t page_up(uintptr_t a) { return (a + PAGE - 1) & ~(uintptr_t)(PAGE - 1); }

/* Does this page hold anything but zeros? */
static int page_has_data(const unsigned char *page)
{
    const uint64_t *word = (const uint64_t *)page;
    for (unsigned i = 0; i < PAGE / sizeof *word; i++)
        if (word[i])
            return 1;
    return 0;
}

struct writable_segment {
    uintptr_t start, file_end, end;   /* page-aligned: the segment, its file-backed part */
    uintptr_t relro_start, relro_end; /* page-aligned; equal when there is no RELRO part */
};

/* Our writable PT_LOAD, from our own program headers; 0 if there is not
 * exactly one. */
static int find_writable_segment(struct writable_segment *seg)
{
    const ElfW(Ehdr) *ehdr = &__ehdr_start;
    const ElfW(Phdr) *phdr = (const ElfW(Phdr) *)((const char *)ehdr + ehdr->e_phoff);
    const ElfW(Phdr) *first_load = NULL, *writable = NULL, *relro = NULL;
    for (unsigned i = 0; i < ehdr->e_phnum; i++) {
        if (phdr[i].p_type == PT_LOAD && !first_load)
            first_load = &phdr[i];
        if (phdr[i].p_type == PT_LOAD && (phdr[i].p_flags & PF_W)) {
            if (writable)
                return 0;
            writable = &phdr[i];
        }
        if (phdr[i].p_type == PT_GNU_RELRO)
            relro = &phdr[i];
    }
    if (!first_load || !writable || first_load->p_vaddr != 0 || first_load->p_offset != 0)
        return 0;
    uintptr_t base = (uintptr_t)ehdr; /* the first PT_LOAD maps the header at vaddr 0 */
    seg->start = page_down(base + writable->p_vaddr);
    seg->file_end = page_up(base + writable->p_vaddr + writable->p_filesz);
    seg->end = page_up(base + writable->p_vaddr + writable->p_memsz);
    seg->relro_start = seg->relro_end = seg->start;
    if (relro) {
        /* the dynamic linker protects the RELRO range's whole pages */
        seg->relro_start = page_down(base + relro->p_vaddr);
        seg->relro_end = page_down(base + relro->p_vaddr + relro->p_memsz);
        if (seg->relro_start < seg->start || seg->relro_end > seg->end || seg->relro_end < seg->relro_start)
            return 0;
    }
    return seg->end > seg->start;
}

/* Copies the pages of the segment that hold anything into fresh memory at
 * `to`: the file-backed ones always (they are what .data starts as), the
 * zero-filled ones only if the kernel has a page for them, in memory or
 * in swap (/proc/self/pagemap, bits 63 and 62; mincore would not tell a
 * swapped-out page from one never touched), and it is not all zeros:
 * untouched .bss stays untouched, so it costs no memory. */
static int copy_segment(const struct writable_segment *seg, unsigned char *to)
{
    long fd = guard_inline_syscall6(SYS_openat, AT_FDCWD, (long)"/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0, 0, 0);
    if (fd < 0)
        return 0;
    int ok = 1;
    size_t pages = (seg->end - seg->start) / PAGE;
    uint64_t entry[256];
    for (size_t done = 0; ok && done < pages; done += sizeof entry / sizeof entry[0]) {
        size_t n = pages - done < sizeof entry / sizeof entry[0] ? pages - done : sizeof entry / sizeof entry[0];
        uintptr_t at = seg->start + done * PAGE;
        long got = guard_inline_syscall6(SYS_pread64, fd, (long)entry, (long)(n * sizeof entry[0]),
                                         (long)(at / PAGE * sizeof entry[0]), 0, 0);
        if (got != (long)(n * sizeof entry[0])) {
            ok = 0;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            const unsigned char *page = (const unsigned char *)(at + i * PAGE);
            int has_page = (entry[i] >> 62) & 3; /* present or swapped */
            if (at + i * PAGE < seg->file_end || (has_page && page_has_data(page)))
                memcpy(to + (done + i) * PAGE, page, PAGE);
        }
    }
    guard_inline_syscall6(SYS_close, fd, 0, 0, 0, 0, 0);
    return ok;
}

static int consolidated; /* or found not to be possible: not tried again */

/* clone(CLONE_VM) was called: another task may share our memory without
 * being a thread of this process (procfs would not list it). */
void guard_segments_shared(void)
{
    if (!consolidated)
        consolidated = 1;
}

/* Not inlined into the check below: its frame (a page of pagemap
 * entries) stays off the stack of every later fork. */
static __attribute__((noinline)) void consolidate(void)
{
    struct writable_segment seg;
    consolidated = 1;
    /* `threads` came from glibc's single-threaded flag if it is set:
     * procfs, which lists every thread, has the last word (once per
     * process, before anything is copied). */
    if (guard_thread_count_procfs() != 1 || !find_writable_segment(&seg) || seg.file_end == seg.end)
        return;
    size_t len = seg.end - seg.start;
    sigset_t all, old;
    sigfillset(&all);
    /* raw: libc's sigprocmask would not let us hold its own signals.  (No
     * call here goes through libc's syscall(), which the shim hooks.) */
    if (guard_inline_syscall6(SYS_rt_sigprocmask, SIG_BLOCK, (long)&all, (long)&old, sizeof(uint64_t), 0, 0) != 0)
        return;
    unsigned char *fresh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fresh != MAP_FAILED) {
        if (copy_segment(&seg, fresh) &&
            mremap(fresh, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)seg.start) == (void *)seg.start) {
            if (seg.relro_end > seg.relro_start)
                (void)mprotect((void *)seg.relro_start, seg.relro_end - seg.relro_start, PROT_READ);
        } else {
            munmap(fresh, len);
        }
    }
    guard_inline_syscall6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&old, 0, sizeof(uint64_t), 0, 0);
}

void guard_segments_consolidate(int threads)
{
    if (!consolidated && threads == 1)
        consolidate();
}
